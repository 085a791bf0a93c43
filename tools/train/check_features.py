#!/usr/bin/python3
"""Check that the Python log-mel mirror (harkml/features.py) matches the C
features the daemon computes (src/mel.c via hark-vad --dump-mel).

  /usr/bin/python3 tools/train/check_features.py [--bin build/host/bin/hark-vad] [WAV...]

Without WAV arguments it uses the pocketsphinx-testdata LibriVox sentences
(real speech) plus a synthetic two-tone + noise signal. Prints the maximum
absolute difference over all frames and bands (all bands, and bands within
60 dB of the frame's strongest band) and exits 1 if the latter exceeds 1e-4.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harkml import features  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/host/bin/hark-vad")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("wavs", nargs="*")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    wavs = list(a.wavs)
    if not wavs:
        wavs = sorted(glob.glob("/usr/share/pocketsphinx/test/data/librivox/*.wav"))[:3]
        t = np.arange(3 * 16000) / 16000.0
        x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 3170 * t) + \
            0.01 * np.random.default_rng(1).standard_normal(len(t))
        p = os.path.join(tmp, "tones.wav")
        sf.write(p, x.astype(np.float32), 16000, subtype="FLOAT")
        wavs.append(p)
    worst_all = worst_60 = 0.0
    for w in wavs:
        csv = os.path.join(tmp, "mel.csv")
        subprocess.run([a.bin, "--in", w, "--dump-mel", csv], check=True)
        c = np.loadtxt(csv, delimiter=",", ndmin=2)
        x, sr = sf.read(w, dtype="float32", always_2d=True)
        p = features.logmel(x[:, 0], dtype=np.float64)
        assert c.shape == p.shape, (c.shape, p.shape)
        d = np.abs(c - p)
        near = p > p.max(axis=1, keepdims=True) - np.log(1e6)
        worst_all = max(worst_all, d.max())
        worst_60 = max(worst_60, d[near].max())
        print("%s: %d frames, max |C - py| %.2e (bands within 60 dB of the frame peak: %.2e)"
              % (os.path.basename(w), len(c), d.max(), d[near].max()))
    print("overall: %.2e / %.2e (tolerance %.0e)" % (worst_all, worst_60, a.tol))
    return 0 if worst_60 <= a.tol else 1


if __name__ == "__main__":
    sys.exit(main())
