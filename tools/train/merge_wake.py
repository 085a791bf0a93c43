#!/usr/bin/python3
"""merge_wake.py - merge wake-word models trained by train_wake.py with
different seeds into one .hkm file that computes their ensemble exactly, and
choose its threshold on the validation streams.

K models of the same architecture (norm -> conv 40->C -> relu -> dilated
convs C->C -> relu ... -> dense C->1 -> sigmoid) become one model of width
K*C: the first convolution stacks the K first convolutions (groups 1), every
later convolution is block-diagonal (groups K, the K originals side by side),
and the dense layer averages the K logits (weights / K, mean bias). The
merged model's output is therefore sigmoid(mean of the K logits), computed by
src/nn_model.c's grouped convolution with no new code in the detector. Norm
layers that differ are folded into the first convolutions (the merged model
keeps an identity norm); equal norms are kept as they are. Cost: K times the
single model (each ~0.25 % of one x86 core).

Usage:
  /usr/bin/python3 tools/train/merge_wake.py --data build/wake-data/hey_nova \\
      --out models/hey_nova.hkm a.hkm b.hkm c.hkm
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_wake  # noqa: E402
from harkml import export, nnref  # noqa: E402


def merge_layers(models):
    """models: list of layer lists (export.read). Returns the merged list."""
    K = len(models)
    shapes = [[(L["type"], L.get("weight", np.zeros(0)).shape, L.get("dilation"), L.get("act"))
               for L in m] for m in models]
    if any(s != shapes[0] for s in shapes):
        raise ValueError("models differ in architecture")
    m0 = models[0]
    if m0[0]["type"] != "norm" or m0[1]["type"] != "conv1d" or m0[-2]["type"] != "dense" \
            or any(L["type"] == "conv1d" and L["groups"] != 1 for L in m0):
        raise ValueError("not a train_wake.py model (norm, conv1d..., dense, sigmoid)")
    same_norm = all(np.array_equal(m[0]["mean"], m0[0]["mean"]) and
                    np.array_equal(m[0]["scale"], m0[0]["scale"]) for m in models)
    out = []
    if same_norm:
        out.append(dict(m0[0]))
        firsts = [(m[1]["weight"], m[1]["bias"]) for m in models]
    else:
        n_in = len(m0[0]["mean"])
        out.append({"type": "norm", "mean": np.zeros(n_in, np.float32), "scale": np.ones(n_in, np.float32)})
        firsts = []
        for m in models:   # W * ((x - mean) * scale) + b = (W * scale) x + (b - W . (mean * scale))
            W, b = m[1]["weight"].astype(np.float64), m[1]["bias"].astype(np.float64)
            mean, scale = m[0]["mean"].astype(np.float64), m[0]["scale"].astype(np.float64)
            Wf = W * scale[None, :, None]
            bf = b - np.einsum("oik,i->o", W, mean * scale)
            firsts.append((Wf.astype(np.float32), bf.astype(np.float32)))
    out.append({"type": "conv1d", "weight": np.concatenate([w for w, _ in firsts]),
                "bias": np.concatenate([b for _, b in firsts]),
                "dilation": m0[1]["dilation"], "groups": 1})
    for i in range(2, len(m0)):
        L = m0[i]
        if L["type"] == "conv1d":
            out.append({"type": "conv1d", "weight": np.concatenate([m[i]["weight"] for m in models]),
                        "bias": np.concatenate([m[i]["bias"] for m in models]),
                        "dilation": L["dilation"], "groups": K})
        elif L["type"] == "act":
            out.append({"type": "act", "act": L["act"], "n": L["n"] * (K if i < len(m0) - 1 else 1)})
        elif L["type"] == "dense":
            out.append({"type": "dense", "weight": np.concatenate([m[i]["weight"] for m in models], 1) / K,
                        "bias": np.mean([m[i]["bias"] for m in models], 0).astype(np.float32)})
        else:
            raise ValueError("unexpected layer %s" % L["type"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+", help="two or more .hkm files from train_wake.py")
    ap.add_argument("--data", required=True, help="corpus folder (its validation streams choose the threshold)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-conf", type=float, default=0.04)
    ap.add_argument("--report", help="write the validation sweep here (json)")
    a = ap.parse_args()
    t0 = time.time()

    def log(msg):
        print("[%6.1f s] %s" % (time.time() - t0, msg), flush=True)

    if len(a.models) < 2:
        ap.error("need at least two models")
    loaded = [export.read(p) for p in a.models]
    metas = [export.parse_meta(info["meta"]) for _, info in loaded]
    if len({m["phrase"] for m in metas}) != 1 or any(info["kind"] != "wake" for _, info in loaded):
        sys.exit("merge_wake: the models must be wake models of the same phrase")
    for key in ("smooth", "refractory_ms", "rf"):
        if len({m[key] for m in metas}) != 1:
            sys.exit("merge_wake: the models differ in %s" % key)
    merged = merge_layers([layers for layers, _ in loaded])
    # the merged model's logit (all layers but the final sigmoid, run by the
    # numpy reference of src/nn_model.c) must equal the mean of the members'
    # once the receptive field is filled (before that, a folded norm pads
    # with raw zeros instead of normalised ones; src/wake.c never fires there)
    m0 = metas[0]
    rf = int(m0.get("rf", 129))
    x = np.random.default_rng(0).normal(-8, 2, (300, len(merged[0]["mean"])))
    ref = np.mean([nnref.batch(layers[:-1], x) for layers, _ in loaded], axis=0)
    err = float(np.abs(nnref.batch(merged[:-1], x) - ref)[rf:].max())
    if err > 1e-3:
        sys.exit("merge_wake: merged model differs from the ensemble (%.3g)" % err)
    log("merged %d models: %d parameters, max deviation from the ensemble %.2g"
        % (len(loaded), sum(sum(v.size for k, v in L.items() if isinstance(v, np.ndarray)) for L in merged), err))
    chosen, sw = train_wake.choose_threshold(lambda f: nnref.batch(merged, f)[:, 0].astype(np.float32),
                                             a.data, int(m0["smooth"]), int(m0["refractory_ms"]),
                                             a.max_conf, log)
    meta = export.meta_string({"phrase": m0["phrase"], "threshold": "%.2f" % chosen["thr"],
                               "smooth": m0["smooth"], "refractory_ms": m0["refractory_ms"],
                               "rf": m0["rf"], "seed": "+".join(str(m["seed"]) for m in metas)})
    size = export.write(a.out, merged, "wake", loaded[0][1]["name"], meta)
    log("wrote %s (%d bytes): %s" % (a.out, size, meta))
    if a.report:
        with open(a.report, "w") as f:
            json.dump({"phrase": m0["phrase"], "chosen": chosen, "sweep": sw,
                       "members": a.models}, f, indent=1)


if __name__ == "__main__":
    main()
