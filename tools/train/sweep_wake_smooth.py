#!/usr/bin/python3
"""sweep_wake_smooth.py - how the wake word's smoothing length changes the
operating point, on the VALIDATION streams.

For each moving-average length K (frames of 10 ms) the model's posteriors
on the validation streams are smoothed over K frames and the threshold is
chosen with train_wake.py's own rule (choose_threshold: the smallest
threshold above which the 20-min validation negatives give no false accept
and at most --max-conf of the confusables are accepted); printed are the
threshold and the misses, false accepts, confusables and median delay
there. The posteriors come from the torch model loaded from the .hkm (the
numpy/C equivalent; single models, not merged ensembles).

Usage:
  /usr/bin/python3 tools/train/sweep_wake_smooth.py --data build/wake-data/hey_nova \
      --model models/hey_nova.hkm --smooth 1,3,5,8,12,20
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_wake as tw  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="corpus folder from gen_wake_corpus.py")
    ap.add_argument("--model", required=True, help="a single (not merged) wake .hkm")
    ap.add_argument("--smooth", default="1,3,5,8,12,20", help="moving-average lengths, frames")
    ap.add_argument("--max-conf", type=float, default=0.04)
    ap.add_argument("--refractory-ms", type=int, default=1500)
    a = ap.parse_args()
    torch.set_num_threads(2)
    try:
        model, _, _ = tw.model_from_hkm(a.model)
    except ValueError as e:
        sys.exit(str(e))
    memo = {}

    def score(feats):
        key = (feats.shape, float(np.asarray(feats[::997], np.float64).sum()))
        if key not in memo:
            memo[key] = tw.score_stream(model, feats)
        return memo[key]

    print("| smooth (frames) | threshold | misses | FA | confusables | delay median (s) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for k in [int(x) for x in a.smooth.split(",")]:
        c, _ = tw.choose_threshold(score, a.data, k, a.refractory_ms, a.max_conf, lambda m: None)
        print("| %d | %.2f | %.1f %% | %d | %.1f %% | %.3f |" % (
            k, c["thr"], 100 * c["miss"], c["fa"], 100 * c["conf"], c["delay_med"] or float("nan")),
            flush=True)


if __name__ == "__main__":
    main()
