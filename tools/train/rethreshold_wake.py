#!/usr/bin/python3
"""rethreshold_wake.py - choose a wake model's threshold again on the
validation streams, with train_wake.py's own rule (the smallest threshold
from which up no threshold gives a false accept in the validation
negatives or accepts more than --max-conf of the validation confusables),
optionally on the streams as harkd's detector hears them (--frontend
ns-agc: through the front end's noise suppression + AGC), and write the
model again with only the threshold in its metadata changed (the weights
are copied as they are; checked).

  /usr/bin/python3 tools/train/rethreshold_wake.py --data build/wake-data/hey_nova \
      --model models/hey_nova.hkm --frontend ns-agc [--out M2.hkm]

Without --out it only prints the choice. Single models only (not the
ensembles of merge_wake.py).
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_wake as tw  # noqa: E402
from harkml import export  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="corpus folder (its val streams)")
    ap.add_argument("--model", required=True)
    ap.add_argument("--frontend", choices=("none", "ns-agc"), default="none")
    ap.add_argument("--max-conf", type=float, default=0.04)
    ap.add_argument("--out", help="write the model with the new threshold here")
    a = ap.parse_args()
    torch.set_num_threads(2)

    try:
        model, layers, info = tw.model_from_hkm(a.model)
    except ValueError as e:
        sys.exit(str(e))
    meta = export.parse_meta(info["meta"])
    chosen, _ = tw.choose_threshold(lambda f: tw.score_stream(model, f), a.data, int(meta["smooth"]),
                                    int(meta["refractory_ms"]), a.max_conf, print, a.frontend == "ns-agc")
    print("%s: threshold %s -> %.2f" % (a.model, meta["threshold"], chosen["thr"]))
    if a.out:
        meta["threshold"] = "%.2f" % chosen["thr"]
        export.write(a.out, layers, "wake", info["name"], export.meta_string(meta))
        new, _ = export.read(a.out)
        for x, y in zip(layers, new):
            for k in x:
                if isinstance(x[k], np.ndarray) and not np.array_equal(x[k], y[k]):
                    sys.exit("weights changed in %s" % a.out)
        print("wrote %s: %s" % (a.out, export.meta_string(meta)))


if __name__ == "__main__":
    main()
