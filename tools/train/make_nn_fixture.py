#!/usr/bin/python3
"""Write the C engine's test fixture: tests/data/nn_tiny.hkm (a small random
model using every layer type) and tests/data/nn_tiny_io.txt (a fixed input
sequence and the numpy reference's outputs for it).

  /usr/bin/python3 tools/train/make_nn_fixture.py [--out tests/data]

Format of nn_tiny_io.txt: a line "T N_IN N_OUT", then T lines of N_IN inputs
followed by N_OUT expected outputs (%.9g). tests/unit/test_nn_model.c runs
the model in C and asserts |C - reference| < 1e-4.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harkml import export, layers as hl, nnref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/data")
    a = ap.parse_args()
    rng = np.random.default_rng(20261122)
    torch.manual_seed(20261122)
    n_in, T = 12, 64
    net = hl.HarkNet(
        hl.Norm(n_in, rng.normal(0, 1, n_in), rng.uniform(0.5, 2.0, n_in)),
        hl.CausalConv1d(n_in, 8, 3, dilation=2), hl.Act("relu", 8),
        hl.CausalConv1d(8, 8, 5, dilation=1, groups=8), hl.Act("tanh", 8),
        hl.GRU(8, 6),
        hl.Dense(6, 5), hl.Act("sigmoid", 5),
        hl.Dense(5, 3), hl.Act("softmax", 3))
    layers = net.hkm_layers()
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "nn_tiny.hkm")
    export.write(path, layers, "test", "nn_tiny", "threshold=0.25;note=fixture")
    L, _ = export.read(path)
    X = (3.0 * np.sin(0.37 * np.arange(T)[:, None] + 0.11 * np.arange(n_in)[None, :] ** 2)
         + rng.normal(0, 0.5, (T, n_in))).astype(np.float32)
    Y = nnref.NNRef(L).run(X)
    with torch.no_grad():
        yt = net(torch.tensor(X)[None])[0].numpy()
    assert np.abs(Y - yt).max() < 1e-5, "numpy reference disagrees with torch"
    assert np.abs(Y - nnref.batch(L, X)).max() < 1e-9, "streaming != batch"
    with open(os.path.join(a.out, "nn_tiny_io.txt"), "w") as f:
        f.write("%d %d %d\n" % (T, n_in, Y.shape[1]))
        for x, y in zip(X, Y):
            f.write(" ".join("%.9g" % v for v in list(x) + list(y)) + "\n")
    print("wrote %s (%d bytes) and nn_tiny_io.txt (%d frames)" % (path, os.path.getsize(path), T))


if __name__ == "__main__":
    main()
