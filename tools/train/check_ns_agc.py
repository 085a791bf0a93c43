#!/usr/bin/python3
"""check_ns_agc.py - check that harkml.ns_agc (the training tools' copy of
the front end's noise suppression + AGC) gives exactly what the C front end
gives: runs tools/hark-fe (src/frontend.c with --no-aec --no-beam --no-doa,
so the chain is the mean of identical mics, then src/fe_ns_agc.c) and
harkml.ns_agc.process over the same mono 16 kHz wav and prints the largest
difference (0 = bit-identical).

  /usr/bin/python3 tools/train/check_ns_agc.py IN.wav [--fe build/host/bin/hark-fe]
      [--board board/sim4/board.conf] [--seconds 300]

Exit status 0 when identical, 1 otherwise.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harkml import features, ns_agc  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wav")
    ap.add_argument("--fe", default="build/host/bin/hark-fe")
    ap.add_argument("--board", default="board/sim4/board.conf", help="a 16 kHz board (sim4)")
    ap.add_argument("--seconds", type=float, default=300, help="first N seconds only")
    a = ap.parse_args()

    x = features.read_wav16k(a.wav)[:int(a.seconds * 16000)]
    x = x[:len(x) // 160 * 160]
    tmp = tempfile.mkdtemp(prefix="chkns")
    mic, ref, out = (os.path.join(tmp, n) for n in ("mic.wav", "ref.wav", "out.wav"))
    # the same (16-bit) signal on all four mics: their mean is the signal itself
    sf.write(mic, np.repeat(x[:, None], 4, axis=1), 16000, subtype="PCM_16")
    sf.write(ref, np.zeros(160, np.float32), 16000, subtype="PCM_16")
    subprocess.run([a.fe, "--board", a.board, "--mic", mic, "--ref", ref, "--out", out,
                    "--no-aec", "--no-beam", "--no-doa", "--quiet"], check=True)
    c, _ = sf.read(out, dtype="float32")
    p = ns_agc.process(sf.read(mic, dtype="float32")[0][:, 0])
    n = min(len(c), len(p))
    d = float(np.max(np.abs(c[:n] - p[:n]))) if n else float("inf")
    print("%s: %.1f s, hark-fe %d samples, harkml.ns_agc %d, max |difference| %g%s"
          % (a.wav, len(x) / 16000, len(c), len(p), d, " (bit-identical)" if d == 0 else ""))
    for f in (mic, ref, out):
        os.remove(f)
    os.rmdir(tmp)
    sys.exit(0 if d == 0 and n >= len(x) - 160 else 1)


if __name__ == "__main__":
    main()
