#!/usr/bin/python3
"""make_wake_fixture.py - the small fixtures tests/unit/test_wake.c uses:

  tests/data/wake_hey_nova.raw   "hey nova" (espeak-ng en-us, 16 kHz s16le
                                 headerless, 0.3 s lead, 0.4 s tail, -20 dBFS
                                 speech over pink noise at 30 dB SNR)
  tests/data/wake_hey_noah.raw   the confusable "hey noah", same voice/levels
  tests/data/wake_fixture.txt    per file: samples, phrase end (ms), and the
                                 smoothed posterior of every frame computed by
                                 the numpy BATCH reference (harkml.features +
                                 harkml.nnref.batch over the whole file, then
                                 the moving average), which the C test
                                 compares with the STREAMING detector.

Run after retraining models/hey_nova.hkm:
  /usr/bin/python3 tools/train/make_wake_fixture.py --model models/hey_nova.hkm
"""
import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_wake_corpus as corpus  # noqa: E402
from harkml import export, features, nnref  # noqa: E402

FIXTURES = [("wake_hey_nova", "hey nova"), ("wake_hey_noah", "hey noah")]
# The test feeds PAD zero samples before each file (the detector's warm-up
# is the model's receptive field, 1.29 s), so the files stay small.
PAD = 20800


def make_audio(text, voice, rate, pitch, seed):
    job = {"id": "fx", "engine": "espeak", "voice": voice, "rate": rate, "pitch": pitch,
           "text": text, "resample": 1.0, "gap": 0}
    tmp = tempfile.mkdtemp(prefix="wakefx")
    x, sr = corpus.synth_one(job, tmp)
    os.rmdir(tmp)
    y, s, e = corpus.finish_clip(x, sr, job)
    lead, tail = int(0.3 * 16000), int(0.4 * 16000)
    sig = np.zeros(lead + len(y) + tail, np.float32)
    sig[lead:lead + len(y)] = y * (0.1 / corpus.active_rms(y))
    nz = corpus.make_noise("pink", len(sig) / 16000 + 0.1, seed)[:len(sig)]
    sig += nz * (0.1 / corpus.rms(nz) * 10 ** (-30 / 20))
    q = np.clip(np.round(sig * 32768), -32768, 32767).astype("<i2")
    return q, (lead + e) * 1000 // 16000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/hey_nova.hkm")
    ap.add_argument("--outdir", default="tests/data")
    ap.add_argument("--voice", default="en-us")
    ap.add_argument("--rate", type=int, default=150)
    ap.add_argument("--pitch", type=int, default=50)
    a = ap.parse_args()
    layers, info = export.read(a.model)
    meta = export.parse_meta(info["meta"])
    k = int(meta.get("smooth", 5))
    lines = ["# file samples pad phrase_end_ms frames (times from the start of the zero pad), "
             "then one smoothed posterior per frame "
             "(numpy batch reference, model %s, smooth %d)" % (os.path.basename(a.model), k)]
    for i, (name, text) in enumerate(FIXTURES):
        q, end_ms = make_audio(text, a.voice, a.rate, a.pitch, 100 + i)
        q.tofile(os.path.join(a.outdir, name + ".raw"))
        x = np.concatenate([np.zeros(PAD, np.float32), q.astype(np.float32) / 32768.0])
        end_ms += PAD * 1000 // 16000
        post = nnref.batch(layers, features.logmel(x).astype(np.float64))[:, 0]
        c = np.cumsum(np.concatenate([[0.0], post]))
        t = np.arange(len(post))
        sm = (c[t + 1] - c[np.maximum(0, t + 1 - k)]) / k
        lines.append("%s %d %d %d %d" % (name, len(q), PAD, end_ms, len(sm)))
        lines.append(" ".join("%.6f" % v for v in sm))
        print("%s: %d samples, phrase end %d ms, max smoothed %.3f at %d ms (threshold %s)"
              % (name, len(q), end_ms, sm.max(), (int(sm.argmax()) + 1) * 10,
                 meta.get("threshold")))
    with open(os.path.join(a.outdir, "wake_fixture.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
