#!/usr/bin/python3
"""Train the on-device VAD and export models/vad.hkm.

The committed model (docs/vad-wake.md):
  D="--out build/h-vad/vdata4 --soundtrack --rumble"
  nice /usr/bin/python3 tools/train/gen_vad_data.py $D --clips 300 --split dev
  nice /usr/bin/python3 tools/train/gen_vad_data.py $D --clips 3000 --split train
  nice /usr/bin/python3 tools/train/train_vad.py --data build/h-vad/vdata4 --out models/vad.hkm \
      --onset-weight 3 --onset-frames 10

Model (causal, 10 ms frames of 40 log-mels from harkml.features = src/mel.c):
  norm(40) -> conv1d 40->32 k3 -> relu -> conv1d 32->32 k3 d2 -> relu
  -> GRU(32 -> 48) -> dense 48->1 -> sigmoid
Receptive field of the convolutions: 7 frames back (70 ms), no look-ahead.
Loss: binary cross-entropy on the per-frame labels; --onset-weight W gives
the first --onset-frames frames of every labelled speech start weight W (the
onset delay is set by how fast the model commits there). --join P: a share P
of the training crops is the end of one clip followed by the start of another
(a different room, noise, SNR and level), so the GRU learns to re-adapt
within a crop; in harkd it runs for hours without a reset. Each epoch also
prints the "stream" dev AUC: all dev clips run as one sequence without a state
reset, as the daemon runs. The best epoch by (per-clip) dev
ROC-AUC is kept; the operating threshold stored in the model metadata is the
dev-set threshold maximising TPR - FPR (Youden), picked on the dev split only.
Deterministic given --seed (torch CPU, fixed thread count).
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harkml import export, layers as hl, nnref  # noqa: E402


def auc(y, p):
    """ROC-AUC via the rank statistic (ties averaged)."""
    from scipy.stats import rankdata
    y = np.asarray(y).astype(bool)
    npos, nneg = y.sum(), (~y).sum()
    if npos == 0 or nneg == 0:
        return float("nan")
    r = rankdata(p)
    return float((r[y].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def onset_weights(Y, w, n):
    """Per-frame loss weights: w on the n frames from each 0 -> 1 label edge, else 1."""
    W = np.ones(Y.shape, dtype=np.float32)
    if w == 1.0 or n <= 0:
        return W
    edge = np.diff(np.concatenate([np.zeros((len(Y), 1), Y.dtype), Y], axis=1), axis=1) > 0
    mark = np.zeros(Y.shape, dtype=bool)
    for k in range(n):
        mark[:, k:] |= edge[:, :Y.shape[1] - k]
    W[mark & (Y > 0)] = w
    return W


def joined(xb, yb, wb, X, Y, W, idx, rng, share, crop):
    """Replace a share of the batch's crops by the last k frames of their
    clip followed by the first crop-k frames of another clip."""
    xb, yb, wb = xb.copy(), yb.copy(), wb.copy()
    T = X.shape[1]
    for r in np.flatnonzero(rng.random(len(idx)) < share):
        k = int(rng.integers(crop // 6, 5 * crop // 6))
        j = int(rng.integers(len(X)))
        i = idx[r]
        xb[r, :k], yb[r, :k], wb[r, :k] = X[i, T - k:], Y[i, T - k:], W[i, T - k:]
        xb[r, k:], yb[r, k:], wb[r, k:] = X[j, :crop - k], Y[j, :crop - k], W[j, :crop - k]
    return xb, yb, wb


def build(mean, std, conv=32, hidden=48):
    return hl.HarkNet(
        hl.Norm(40, mean, std),
        hl.CausalConv1d(40, conv, 3), hl.Act("relu", conv),
        hl.CausalConv1d(conv, conv, 3, dilation=2), hl.Act("relu", conv),
        hl.GRU(conv, hidden),
        hl.Dense(hidden, 1), hl.Act("sigmoid", 1))


def predict(net, X, bs=64):
    out = []
    with torch.no_grad():
        for i in range(0, len(X), bs):
            out.append(torch.sigmoid(net.forward_logits(torch.tensor(X[i:i + bs], dtype=torch.float32)))[..., 0])
    return torch.cat(out).numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="build/h-vad/vaddata")
    ap.add_argument("--out", default="models/vad.hkm")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--crop", type=int, default=300, help="training crop in frames")
    ap.add_argument("--onset-weight", type=float, default=1.0, help="loss weight of the frames just after a speech start")
    ap.add_argument("--onset-frames", type=int, default=10)
    ap.add_argument("--join", type=float, default=0.0, help="share of crops spanning two clips")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    tr = np.load(os.path.join(a.data, "train.npz"))
    dv = np.load(os.path.join(a.data, "dev.npz"))
    Xtr, Ytr = tr["X"].astype(np.float32), tr["Y"].astype(np.float32)
    Xdv, Ydv = dv["X"].astype(np.float32), dv["Y"]
    Wtr = onset_weights(Ytr, a.onset_weight, a.onset_frames)
    flat = Xtr.reshape(-1, 40)
    mean, std = flat.mean(0), flat.std(0)
    net = build(mean, std)
    n_params = sum(p.numel() for p in net.parameters())
    print("train %s, dev %s, speech %.1f %% / %.1f %%, %d parameters"
          % (Xtr.shape, Xdv.shape, 100 * Ytr.mean(), 100 * Ydv.mean(), n_params), flush=True)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    steps = a.epochs * (len(Xtr) // a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps, pct_start=0.1)
    best, best_state = -1, None
    t0 = time.time()
    T = Xtr.shape[1]
    for ep in range(a.epochs):
        net.train()
        perm = rng.permutation(len(Xtr))
        tot = 0.0
        for b in range(len(Xtr) // a.batch):
            idx = perm[b * a.batch:(b + 1) * a.batch]
            s = int(rng.integers(0, T - a.crop + 1))
            # crops start mid-stream half the time: the GRU must cope with any start state
            xb, yb, wb = Xtr[idx, s:s + a.crop], Ytr[idx, s:s + a.crop], Wtr[idx, s:s + a.crop]
            if a.join > 0:
                xb, yb, wb = joined(xb, yb, wb, Xtr, Ytr, Wtr, idx, rng, a.join, a.crop)
            logit = net.forward_logits(torch.tensor(xb))[..., 0]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logit, torch.tensor(yb), weight=torch.tensor(wb))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            tot += loss.item()
        net.eval()
        p = predict(net, Xdv)
        d_auc = auc(Ydv.ravel(), p.ravel())
        s_auc = auc(Ydv.ravel(), predict(net, Xdv.reshape(1, -1, Xdv.shape[2]))[0])
        print("epoch %d: loss %.4f dev AUC %.4f, stream %.4f (%.0f s)"
              % (ep, tot / (b + 1), d_auc, s_auc, time.time() - t0), flush=True)
        if d_auc > best:
            best = d_auc
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)
    net.eval()
    p = predict(net, Xdv).ravel()
    y = Ydv.ravel().astype(bool)
    thr_grid = np.linspace(0.05, 0.95, 91)
    j = [(p[y] >= t).mean() - (p[~y] >= t).mean() for t in thr_grid]
    thr = float(thr_grid[int(np.argmax(j))])
    tpr, fpr = (p[y] >= thr).mean(), (p[~y] >= thr).mean()
    s_auc = auc(y, predict(net, Xdv.reshape(1, -1, Xdv.shape[2]))[0])
    print("best dev AUC %.4f (stream %.4f); threshold %.2f: TPR %.3f FPR %.3f" % (best, s_auc, thr, tpr, fpr))
    meta = export.meta_string({"threshold": "%.2f" % thr, "dev_auc": "%.4f" % best, "seed": a.seed,
                               "onset_weight": "%g/%d" % (a.onset_weight, a.onset_frames), "join": "%g" % a.join,
                               "trainer": "tools/train/train_vad.py", "licence": "same as hark"})
    size = export.write(a.out, net.hkm_layers(), "vad", "hark-vad-gru48", meta)
    # the exported file must compute what torch computed
    L, info = export.read(a.out)
    ref = nnref.NNRef(L).run(Xdv[0])[:, 0]
    diff = np.abs(ref - predict(net, Xdv[:1])[0]).max()
    print("wrote %s: %d bytes, %d parameters, meta '%s'; export check max |numpy - torch| = %.1e"
          % (a.out, size, n_params, info["meta"], diff))
    if diff > 1e-4:
        sys.exit("export mismatch")


if __name__ == "__main__":
    main()
