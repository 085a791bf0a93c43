#!/usr/bin/python3
"""train_wake.py - train a streaming wake-word model on a corpus made by
gen_wake_corpus.py and export it as a .hkm file for src/wake.c.

Model (the layers src/nn_model.c runs, one 10 ms log-mel frame at a time):
  norm(40) -> conv1d 40->C k=5 -> relu -> 5 x [conv1d C->C k=3, dilation
  2,4,8,16,32 -> relu] -> dense C->1 -> sigmoid
All convolutions are causal, so the receptive field is finite (129 frames,
1.29 s) and a frame's output depends only on the last 1.29 s of audio: the
model has no recurrent state that could drift over hours of streaming, and a
2.4 s training window reproduces the streaming output exactly at its last 112
frames (the only ones scored).

Targets per frame: 1 for the 12 frames (120 ms) starting at the frame where
the phrase ends, 0 for frames more than 200 ms before the end (the phrase is
incomplete there: "hey no..."), not scored in between and after. Confusable
phrases, unrelated speech and noise are 0 everywhere.

Augmentation (fresh draws per copy, from --seed): a synthetic room (80 %),
one of 8 noise kinds at -5..30 dB SNR, speech level -45..-12 dBFS, unrelated
speech before the phrase (30 %), with --channel-p a random recording channel
(low-pass 3.3-7 kHz, peaking EQ, high-pass; positives and negatives alike),
plus windows cut from a long stream of
augmented training negatives (--neg-stream-minutes). These windows are made
once and cached; with --feat-aug p every batch is also varied online (warp of
the mel-band axis, smooth spectral tilt, a frequency mask: feat_augment()),
and --dropout adds dropout after each convolution, so the model sees new
variants every epoch instead of memorising the cached ones. Then hard
negatives: the model is run over a long stream of augmented training
negatives and the windows that score highest are added before a second round
of training. --pos-delay moves the positive targets later (delay_targets()).
Models trained with different seeds can be merged into one exact ensemble by
merge_wake.py. --online-noise S caches the windows without noise and mixes
noise from an S-second-per-kind bank into every batch afresh (OnlineNoise;
measured in docs/vad-wake.md, worse than the cached noise, not used by the
committed model).

The threshold is chosen on the VALIDATION streams (other voices and noise
realisations than training): the smallest threshold such that no threshold
above it gives a false accept on the validation negative stream or accepts
more than --max-conf of the validation confusables. It is stored in the
model's metadata with the smoothing length and refractory period.

Usage (the committed models/hey_nova.hkm: 12 min on 2 shared cores):
  nice /usr/bin/python3 tools/train/train_wake.py --data build/wake-data/hey_nova \
      --out models/hey_nova.hkm --seed 3
"""
import argparse
import json
import os
import sys
import time
from multiprocessing import Pool

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.signal import butter, lfilter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_wake_corpus as corpus  # noqa: E402
from harkml import export, features, ns_agc  # noqa: E402

SR = 16000
HOP = 160
T = 240            # frames per training window (2.4 s)
POS_FRAMES = 12    # frames labelled 1 from the phrase end
PRE_IGNORE = 20    # frames before the end not scored
MASK_FROM = 128    # frames before this are not scored (receptive field not yet filled)
DILATIONS = (2, 4, 8, 16, 32)
RF = 1 + 4 + 2 * sum(DILATIONS)

# ------------------------------------------------------------------ model


class WakeNet(nn.Module):
    def __init__(self, ch=48, n_in=40, dropout=0.0):
        super().__init__()
        self.dropout = dropout
        self.register_buffer("mean", torch.zeros(n_in))
        self.register_buffer("scale", torch.ones(n_in))
        self.convs = nn.ModuleList([nn.Conv1d(n_in, ch, 5)])
        self.dil = [1]
        for d in DILATIONS:
            self.convs.append(nn.Conv1d(ch, ch, 3, dilation=d))
            self.dil.append(d)
        self.out = nn.Linear(ch, 1)

    def forward(self, x):
        """x: (B, T, 40) log-mels -> (B, T) logits."""
        h = ((x - self.mean) * self.scale).transpose(1, 2)
        for conv, d in zip(self.convs, self.dil):
            k = conv.kernel_size[0]
            h = F.relu(conv(F.pad(h, ((k - 1) * d, 0))))
            if self.dropout > 0:
                h = F.dropout(h, self.dropout, self.training)
        return self.out(h.transpose(1, 2)).squeeze(-1)

    def hkm_layers(self):
        L = [{"type": "norm", "mean": self.mean.numpy(), "scale": self.scale.numpy()}]
        for conv, d in zip(self.convs, self.dil):
            L.append({"type": "conv1d", "weight": conv.weight.detach().numpy(),
                      "bias": conv.bias.detach().numpy(), "dilation": d, "groups": 1})
            L.append({"type": "act", "act": "relu", "n": conv.out_channels})
        L.append({"type": "dense", "weight": self.out.weight.detach().numpy(),
                  "bias": self.out.bias.detach().numpy()})
        L.append({"type": "act", "act": "sigmoid", "n": 1})
        return L


# ------------------------------------------------------------ examples

_G = {}


def _init_worker(data, channel_p=0.0, online=False, ns=""):
    _G["channel_p"] = channel_p
    _G["online"] = online
    _G["ns"] = ns
    rows = corpus.load_manifest(data)
    _G["clips"] = {}
    for lab in ("pos", "conf", "unrel"):
        sel = [r for r in rows if r["split"] == "train" and r["label"] == lab]
        _G["clips"][lab] = [(corpus.load_clip(data, r), r["start"], r["end"]) for r in sel]
    _G["noises"] = corpus.load_noises(data, "train")
    _G["nkinds"] = sorted(_G["noises"])
    _G["rirs"] = corpus.load_rirs(data, "train")


def _augment_place(buf, clip, end_at, h, gain):
    """Reverberate clip and add it into buf so that clip sample index
    end_at[1] lands at buffer index end_at[0] (may hang over either edge)."""
    y = corpus.reverb(clip, h) * gain
    off = end_at[0] - end_at[1]
    a, b = max(0, off), min(len(buf), off + len(y))
    if b > a:
        buf[a:b] += y[a - off:b - off]


def channel(x, rng, p):
    """A random recording channel for the speech of one window (applied to
    positives and negatives alike, before the noise): with probability p
    each, a low-pass at 3.3-7 kHz (order 4-8: telephone-band or 8 kHz
    sources such as flite kal), 1-3 peaking EQ bands (150-5000 Hz, +-8 dB:
    timbre), and with p/2 a high-pass at 80-400 Hz (small loudspeakers,
    far microphones)."""
    if p <= 0:
        return x
    if rng.random() < p:
        b, a = butter(int(rng.integers(4, 9)), rng.uniform(3300, 7000) / (SR / 2))
        x = lfilter(b, a, x)
    if rng.random() < p:
        for _ in range(int(rng.integers(1, 4))):
            f0, g, q = rng.uniform(150, 5000), rng.uniform(-8, 8), rng.uniform(0.7, 2.5)
            A, w0 = 10 ** (g / 40), 2 * np.pi * f0 / SR
            al, c = np.sin(w0) / (2 * q), np.cos(w0)
            x = lfilter([1 + al * A, -2 * c, 1 - al * A], [1 + al / A, -2 * c, 1 - al / A], x)
    if rng.random() < p / 2:
        b, a = butter(2, rng.uniform(80, 400) / (SR / 2), btype="highpass")
        x = lfilter(b, a, x)
    return x.astype(np.float32)


def make_example(args):
    """One (features (T,40) float16, labels (T,) int8: 1/0/-1 ignore,
    speech level, noise code). With online noise (_init_worker(online=True))
    the features are those of the noise-free window and the noise is added
    per batch by OnlineNoise; code 0 = speech window (-5..30 dB SNR, 10 %
    without noise), 1 = noise-only window (-10..20 dB under the level)."""
    kind, idx, seed = args
    rng = np.random.default_rng(seed)
    n = T * HOP
    buf = np.zeros(n, np.float32)
    lab = np.full(T, -1, np.int8)
    lab[MASK_FROM:] = 0
    h = None if rng.random() < 0.2 else _G["rirs"][int(rng.integers(len(_G["rirs"])))][0]
    level = 10 ** (rng.uniform(-45, -12) / 20)
    speech_ref = level
    if kind in ("pos", "conf"):
        clip, s, e = _G["clips"][kind][idx]
        gain = level / (corpus.active_rms(clip) + 1e-9)
        if kind == "pos":
            # the phrase end lands at frame pe (sometimes beyond the window:
            # then only its beginning is heard and the target stays 0)
            pe = int(rng.integers(MASK_FROM + 22, T + 10)) if rng.random() < 0.85 else \
                int(rng.integers(T, T + 60))
        else:
            pe = int(rng.integers(MASK_FROM + 10, T + 30))
        end_sample = pe * HOP + int(rng.integers(0, HOP))
        _augment_place(buf, clip, (end_sample, e), h, gain)
        if rng.random() < 0.3:   # other speech just before
            u, us, ue = _G["clips"]["unrel"][int(rng.integers(len(_G["clips"]["unrel"])))]
            start_sample = end_sample - (e - s)
            gap = int(rng.uniform(0.1, 0.6) * SR)
            g2 = level * 10 ** (rng.uniform(-6, 6) / 20) / (corpus.active_rms(u) + 1e-9)
            _augment_place(buf, u, (start_sample - gap, ue), h, g2)
        if kind == "pos":
            t_end = (end_sample + 1 + HOP - 1) // HOP - 1
            lab[max(0, t_end - PRE_IGNORE):] = -1
            lab[t_end:min(T, t_end + POS_FRAMES)] = 1
            lab[:MASK_FROM] = -1
    elif kind == "unrel":
        clip, s, e = _G["clips"]["unrel"][idx]
        gain = level / (corpus.active_rms(clip) + 1e-9)
        pos = int(rng.integers(n // 3, n + max(1, len(clip) // 2)))
        _augment_place(buf, clip, (pos, len(clip) - 1), h, gain)
    if kind != "noise":
        buf = channel(buf, rng, _G["channel_p"])
    code = 1 if kind == "noise" else 0
    if _G["online"]:
        return features.logmel(buf).astype(np.float16), lab, np.float32(speech_ref), code
    # noise (also the whole example for kind == "noise")
    nk = _G["nkinds"][int(rng.integers(len(_G["nkinds"])))]
    nz = corpus.noise_slice(_G["noises"][nk], n, rng)
    snr = rng.uniform(-5, 30) if kind != "noise" else rng.uniform(-10, 20)
    if rng.random() < 0.1 and kind != "noise":
        snr = 60
    ng = speech_ref / (corpus.rms(nz) + 1e-12) * 10 ** (-snr / 20)
    buf += nz * ng
    np.clip(buf, -1, 1, out=buf)
    if _G["ns"]:
        buf = frontend_ns(buf, _G["noises"][nk], ng, speech_ref, rng, _G["ns"])
    return features.logmel(buf).astype(np.float16), lab, np.float32(speech_ref), code


def frontend_ns(buf, noise, gain, speech_ref, rng, mode):
    """The window through the front end's noise suppression (+ AGC)
    (--frontend-ns MODE; harkml.ns_agc, bit-identical to src/fe_ns_agc.c).
    In harkd the stage runs on a stream, with its noise estimate set by what
    went before, so the window gets a 1-2 s lead-in of the same noise kind
    at the same level (half the time with an unrelated utterance in it),
    run through the stage and cut off again. The modes differ in the AGC:
      stage   the whole stage, AGC included, from a cold start (speexdsp's
              AGC hardly moves in 2 s, so the windows keep their raw
              levels while the streams below get the adapted gain);
      static  AGC off, then a static gain that puts the speech at -30..-8
              dBFS (on the validation stream the AGC's gain over a phrase
              is +9..+24 dB and the phrases end up at -22..-11 dBFS);
      ns      AGC off and no gain: the windows keep the raw levels.
    The negative streams get the same treatment as a whole (stream_ns())."""
    lead = int(rng.uniform(1.0, 2.0) * SR) // HOP * HOP
    pre = corpus.noise_slice(noise, lead, rng) * gain
    if rng.random() < 0.5:
        u, _, _ = _G["clips"]["unrel"][int(rng.integers(len(_G["clips"]["unrel"])))]
        u = u[:lead - HOP * 20] * (10 ** (rng.uniform(-45, -12) / 20) / (corpus.active_rms(u) + 1e-9))
        at = int(rng.integers(0, lead - HOP * 20 - len(u) + 1))
        pre[at:at + len(u)] += u
    full = np.clip(np.concatenate([pre, buf]), -1, 1)
    y = ns_agc.process(full, agc=(mode == "stage"))[lead:]
    if mode == "static":
        y = np.clip(y * (10 ** (rng.uniform(-30, -8) / 20) / speech_ref), -1, 1)
    return y


def stream_ns(x, mode):
    """A training stream (negatives) through the stage for --frontend-ns
    MODE: the whole stage for "stage" and "static" (as harkd runs it), the
    noise suppression alone for "ns" (the windows' treatment)."""
    if not mode:
        return x
    return ns_agc.process(x, agc=(mode != "ns"))


def delay_targets(Y, delay):
    """Move the positive targets `delay` frames later (frames t_end+delay ..
    t_end+delay+POS_FRAMES-1 are 1, t_end-PRE_IGNORE .. t_end+delay-1 not
    scored): the detector may then wait up to delay*10 ms after the phrase
    and hear whether it goes on ("hey nova" vs "hey novak", "hey nova scotia")
    before it fires. Works on the cached windows; returns a new label array."""
    if delay <= 0:
        return Y
    Y = Y.copy()
    for i in np.nonzero((Y == 1).any(axis=1))[0]:
        t_end = int(np.argmax(Y[i] == 1))
        Y[i, max(0, t_end - PRE_IGNORE):] = -1
        Y[i, t_end + delay:t_end + delay + POS_FRAMES] = 1
        Y[i, :MASK_FROM] = -1
    return Y


def build_set(data, plan, jobs, channel_p=0.0, online=False, ns=""):
    """plan: list of (kind, idx, seed). Returns features, labels, speech
    levels and noise codes (see make_example)."""
    with Pool(jobs, initializer=_init_worker, initargs=(data, channel_p, online, ns)) as pool:
        res = pool.map(make_example, plan, chunksize=64)
    X = np.stack([r[0] for r in res])
    Y = np.stack([r[1] for r in res])
    L = np.array([r[2] for r in res], np.float32)
    C = np.array([r[3] for r in res], np.int8)
    return X, Y, L, C


class OnlineNoise:
    """Noise added to the cached noise-free windows afresh in every batch
    (--online-noise S): a bank of S seconds per noise kind, generated here
    from the training split's clips with the corpus's own noise generator
    (other seeds than the corpus's 60 s training noises; babble in equal
    parts with each talker count of --online-babble, the corpus uses 6),
    kept as mel-band power per frame. Mixing is done in the mel power
    domain, log(P_speech + g P_noise), which is the log-mel of the mixed
    waveform up to the speech x noise cross terms (zero mean, small once
    summed over a band's FFT bins); the gain g follows the corpus rule (noise rms = speech level x 10^(-SNR/20) over the
    window). The cross terms are drawn too: per band a Gaussian of variance
    2 e_b P_speech g P_noise, e_b = sum(w^2)/sum(w)^2 of the band's
    triangle (random relative phases per FFT bin); with them the frame-to-
    frame spread of the mixed log-mels matches real mixtures (0.745 vs 0.756
    nat at 5 dB pink, 1.139 vs 1.147 babble; without: 0.709 / 1.104). So
    each epoch hears every window in another noise, kind, SNR and position
    instead of the one draw frozen in the cache."""
    def __init__(self, data, rows, seconds, seed, log, levels, codes, talkers=(6,)):
        """levels, codes: make_example's, for the cached windows 0..len-1;
        windows appended after them (streams, mined) are left as they are."""
        self.levels, self.codes = levels, codes
        talkers = tuple(talkers)
        path = os.path.join(data, "online_noise_%d_%d_%s.npz" % (seed, seconds, "-".join(map(str, talkers))))
        if os.path.exists(path):
            z = np.load(path)
            P, M = z["P"], z["M"]
        else:
            unrel = [corpus.load_clip(data, r) for r in rows
                     if r["split"] == "train" and r["label"] == "unrel"]
            P, M = [], []
            for k in corpus.NOISE_KINDS:
                if k == "babble":
                    per = seconds / len(talkers)
                    x = np.concatenate([corpus.make_noise(k, per, corpus.stable_seed(seed, "online", k, n),
                                                          babble_src=unrel, talkers=n)
                                        for n in talkers])
                else:
                    x = corpus.make_noise(k, seconds, corpus.stable_seed(seed, "online", k))
                x = np.resize(x, int(seconds * SR) // HOP * HOP)   # same frames per kind
                P.append(np.maximum(np.exp(features.logmel(x, np.float64)) - features.FLOOR, 0)
                         .astype(np.float32))
                M.append((x.astype(np.float64).reshape(-1, HOP) ** 2).mean(1).astype(np.float32))
            P, M = np.stack(P), np.stack(M)
            np.savez(path, P=P, M=M)
        fb = features._FB.astype(np.float64)
        self.e = torch.from_numpy(((fb ** 2).sum(1) / fb.sum(1) ** 2).astype(np.float32))
        self.P = torch.from_numpy(P)      # (kinds, frames, 40)
        self.M = torch.from_numpy(M)      # (kinds, frames) mean square per hop
        log("online noise: %d kinds x %.0f s (%s)" % (P.shape[0], P.shape[1] * HOP / SR, path))

    def __call__(self, x, bi, rng):
        """x: (B, T, 40) log-mels (float32) of the windows bi."""
        B, T_, _ = x.shape
        cached = bi < len(self.codes)
        code = np.where(cached, self.codes[np.where(cached, bi, 0)], 2)
        level = self.levels[np.where(cached, bi, 0)]
        snr = np.where(code == 1, rng.uniform(-10, 20, B), rng.uniform(-5, 30, B))
        add = (code < 2) & ~((code == 0) & (rng.random(B) < 0.1))
        sel = np.nonzero(add)[0]
        if len(sel) == 0:
            return x
        K, F_ = self.M.shape
        k = torch.from_numpy(rng.integers(0, K, len(sel)))
        off = torch.from_numpy(rng.integers(0, F_ - T_, len(sel)))
        idx = off[:, None] + torch.arange(T_)[None, :]
        Pn = self.P[k[:, None], idx]                       # (n, T, 40)
        ms = self.M[k[:, None], idx].mean(1)               # (n,)
        g = torch.from_numpy((level[sel].astype(np.float64) ** 2 *
                              10 ** (-snr[sel] / 10)).astype(np.float32)) / (ms + 1e-20)
        xs = x[sel]
        ps = (torch.exp(xs) - features.FLOOR).clamp(min=0)
        pn = g[:, None, None] * Pn
        z = torch.from_numpy(rng.standard_normal(ps.shape).astype(np.float32))
        mix = ps + pn + torch.sqrt(2 * self.e * ps * pn) * z
        x = x.clone()
        x[sel] = torch.log(torch.maximum(mix, 0.05 * (ps + pn)) + features.FLOOR)
        return x


# ---------------------------------------------------------- streams

def score_stream(model, feats, chunk=60000):
    """Posteriors for a long (N, 40) feature array, chunked with RF overlap
    (exactly the streaming result)."""
    out = np.zeros(len(feats), np.float32)
    with torch.no_grad():
        for a in range(0, len(feats), chunk):
            lo = max(0, a - RF)
            x = torch.from_numpy(np.ascontiguousarray(feats[lo:a + chunk], dtype=np.float32))[None]
            p = torch.sigmoid(model(x))[0].numpy()
            out[a:a + chunk] = p[a - lo:]
    return out


def detect(post, thr, smooth, refractory):
    """Mirror of src/wake.c's decision: moving average over `smooth` frames,
    fire when >= thr outside the refractory period. Returns frame indices and
    the smoothed score at each."""
    c = np.cumsum(np.concatenate([[0.0], post.astype(np.float64)]))
    idx = np.arange(len(post))
    lo = np.maximum(0, idx + 1 - smooth)
    sm = (c[idx + 1] - c[lo]) / smooth   # zeros before the start count as 0
    cand = np.nonzero(sm >= thr)[0]
    cand = cand[cand >= RF]       # src/wake.c: nothing fires in the first rf frames
    dets = []
    last = -10 ** 9
    for t in cand:
        if t - last >= refractory:
            dets.append(t)
            last = t
    return np.array(dets, dtype=np.int64), sm


def events_hit(dets_s, events, before=0.3, after=1.0):
    """Per event: delay (s) of the first detection in [start-before,
    end+after], or None."""
    out = []
    j = 0
    for ev in events:
        lo, hi = ev["start_s"] - before, ev["end_s"] + after
        while j < len(dets_s) and dets_s[j] < lo:
            j += 1
        out.append(dets_s[j] - ev["end_s"] if j < len(dets_s) and dets_s[j] <= hi else None)
    return out


def load_stream(data, name, ns=False):
    """Features, events and length (s) of streams/<name>.wav; ns: through
    the front end's NS/AGC first (one state over the stream, as in harkd)."""
    import csv
    wav = os.path.join(data, "streams", name + ".wav")
    x = features.read_wav16k(wav)
    if ns:
        x = ns_agc.process(x)
    with open(wav[:-4] + ".csv") as f:
        ev = list(csv.DictReader(f))
    for e in ev:
        e["start_s"] = float(e["start_s"])
        e["end_s"] = float(e["end_s"])
    return features.logmel(x), ev, len(x) / SR


def sweep(post_pos, ev_pos, post_conf, ev_conf, post_neg, neg_hours, smooth, refr, thrs):
    rows = []
    for thr in thrs:
        d, _ = detect(post_pos, thr, smooth, refr)
        hits = events_hit(d * HOP / SR + HOP / SR, ev_pos)
        miss = sum(h is None for h in hits) / len(hits)
        delays = [h for h in hits if h is not None]
        d, _ = detect(post_conf, thr, smooth, refr)
        conf = sum(h is not None for h in events_hit(d * HOP / SR + HOP / SR, ev_conf)) / len(ev_conf)
        d, _ = detect(post_neg, thr, smooth, refr)
        rows.append(dict(thr=round(float(thr), 3), miss=miss, fa=len(d), fa_h=len(d) / neg_hours,
                         conf=conf, delay_med=float(np.median(delays)) if delays else None))
    return rows


def choose_threshold(score, data, smooth, refractory_ms, max_conf, log, ns=False):
    """The operating point on the VALIDATION streams: the smallest threshold
    such that no threshold above it gives a false accept on the validation
    negative stream or accepts more than max_conf of the validation
    confusables. score: (N, 40) features -> (N,) posteriors; ns: the
    streams through the front end's NS/AGC. Returns (chosen row, whole
    sweep)."""
    fp, ep_, _ = load_stream(data, "val_pos", ns)
    fc, ec, _ = load_stream(data, "val_conf", ns)
    fn, _, neg_s = load_stream(data, "val_neg", ns)
    pp, pc, pn = score(fp), score(fc), score(fn)
    thrs = np.round(np.arange(0.05, 0.996, 0.01), 3)
    sw = sweep(pp, ep_, pc, ec, pn, neg_s / 3600, smooth, refractory_ms // 10, thrs)
    ok = [r["fa"] == 0 and r["conf"] <= max_conf for r in sw]
    chosen = None
    for i in range(len(sw)):
        if all(ok[i:]):
            chosen = sw[i]
            break
    if chosen is None:
        chosen = sw[-1]
    log("validation (%.0f min negatives): threshold %.2f -> miss %.1f %%, FA %d, confusables %.1f %%, "
        "median delay %s s" % (neg_s / 60, chosen["thr"], 100 * chosen["miss"], chosen["fa"],
                                100 * chosen["conf"], chosen["delay_med"]))
    return chosen, sw


# ------------------------------------------------------------------ main

def load_hkm(model, path, layers=None):
    """Copy the weights of the .hkm at path (or its already read layers)
    into model."""
    if layers is None:
        layers, _ = export.read(path)
    convs = [L for L in layers if L["type"] == "conv1d"]
    dense = [L for L in layers if L["type"] == "dense"][0]
    norm = layers[0]
    with torch.no_grad():
        model.mean.copy_(torch.from_numpy(norm["mean"]))
        model.scale.copy_(torch.from_numpy(norm["scale"]))
        for c, L in zip(model.convs, convs):
            c.weight.copy_(torch.from_numpy(L["weight"]))
            c.bias.copy_(torch.from_numpy(L["bias"]))
        model.out.weight.copy_(torch.from_numpy(dense["weight"]))
        model.out.bias.copy_(torch.from_numpy(dense["bias"]))


def model_from_hkm(path):
    """A WakeNet (eval mode) with the weights of a single wake .hkm, and
    the file's (layers, info). Refuses other kinds and merge_wake.py's
    ensembles (grouped convolutions)."""
    layers, info = export.read(path)
    convs = [L for L in layers if L["type"] == "conv1d"]
    if info["kind"] != "wake" or any(L["groups"] != 1 for L in convs):
        raise ValueError("%s: not a single wake model" % path)
    model = WakeNet(convs[0]["weight"].shape[0])
    load_hkm(model, path, layers)
    model.eval()
    return model, layers, info


def stream_windows(a, rows, minutes, seed):
    """Windows (hop 100 frames) of a stream of augmented training negatives."""
    ev = [(corpus.load_clip(a.data, r), r["start"], r["end"], r) for r in rows
          if r["split"] == "train" and r["label"] in ("unrel", "conf")]
    rng = np.random.default_rng(seed)
    tmp = os.path.join(a.data, "streams", "train_negwin_%d.wav" % seed)
    corpus.build_stream(tmp, ev, corpus.load_noises(a.data, "train"), corpus.load_rirs(a.data, "train"),
                        rng, total_s=minutes * 60, lead=(0.2, 1.5), tail=(0.0, 0.5))
    x = features.read_wav16k(tmp)
    os.remove(tmp)   # per seed, 288 MB for 150 min: not kept once read
    f = features.logmel(stream_ns(x, a.frontend_ns)).astype(np.float16)
    starts = range(0, len(f) - T, 100)
    X = np.stack([f[s:s + T] for s in starts])
    Y = np.zeros((len(X), T), np.int8)
    Y[:, :MASK_FROM] = -1
    return X, Y


def feat_augment(x, rng, p, warp=0.1, mask=4):
    """Online augmentation of a batch of log-mel windows (B, T, 40), fresh
    every epoch (the cached windows are fixed): with probability p per
    window, a warp of the band axis by 1 +- warp (vocal-tract length and
    formant position), a smooth random spectral tilt/EQ (3 cosines over the
    bands, +-0.35 nat each: timbre and channel), and one frequency mask of
    0-mask bands (filled with the window's mean level). Speech-agnostic: applied
    to positives and negatives alike, so it teaches invariance, not labels."""
    if p <= 0:
        return x
    B, _, NB = x.shape
    sel = torch.from_numpy(rng.random(B) < p)
    if not bool(sel.any()):
        return x
    xs = x[sel]
    n = xs.shape[0]
    alpha = torch.from_numpy(rng.uniform(1 - warp, 1 + warp, n).astype(np.float32))
    src = (torch.arange(NB, dtype=torch.float32)[None, :] * alpha[:, None]).clamp(0, NB - 1)
    lo = src.floor().long()
    hi = (lo + 1).clamp(max=NB - 1)
    w = (src - lo.float())[:, None, :]
    T_ = xs.shape[1]
    xs = torch.gather(xs, 2, lo[:, None, :].expand(n, T_, NB)) * (1 - w) + \
        torch.gather(xs, 2, hi[:, None, :].expand(n, T_, NB)) * w
    f = (torch.arange(NB, dtype=torch.float32) + 0.5) / NB
    amp = torch.from_numpy(rng.uniform(-0.35, 0.35, (n, 3)).astype(np.float32))
    curve = sum(amp[:, k:k + 1] * torch.cos(np.pi * (k + 1) * f)[None, :] for k in range(3))
    xs = xs + curve[:, None, :]
    width = torch.from_numpy(rng.integers(0, mask + 1, n))[:, None]
    start = torch.from_numpy(rng.integers(0, NB - mask, n))[:, None]
    band = torch.arange(NB)[None, :]
    mask = ((band >= start) & (band < start + width))[:, None, :]
    xs = torch.where(mask, xs.mean(dim=(1, 2))[:, None, None], xs)
    x = x.clone()
    x[sel] = xs
    return x


def train_epochs(model, X, Y, epochs, lr, batch, rng, log, pos_weight=4.0, wd=0.0, aug=None,
                 noise=None, weighted=None):
    """aug: feat_augment()'s keyword arguments (p, warp, mask), None = none;
    noise: an OnlineNoise or None; weighted: (first, end, weight), the
    windows first..end-1 weigh `weight` in the loss (None = all 1)."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd) if wd > 0 else \
        torch.optim.Adam(model.parameters(), lr=lr)
    n = len(X)
    steps = epochs * ((n + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    Yt = torch.from_numpy(Y.astype(np.int64))
    for ep in range(epochs):
        perm = rng.permutation(n)
        tot = cnt = 0.0
        model.train()
        for a in range(0, n, batch):
            bi = perm[a:a + batch]
            x = torch.from_numpy(X[bi].astype(np.float32))
            if noise is not None:
                x = noise(x, bi, rng)
            x = feat_augment(x, rng, **(aug or {"p": 0}))
            y = Yt[bi]
            logit = model(x)
            m = y >= 0
            tgt = (y == 1).float()
            w = torch.where(y == 1, torch.tensor(pos_weight), torch.tensor(1.0))
            if weighted is not None:
                lo, hi, cw = weighted
                w = w * torch.from_numpy(np.where((bi >= lo) & (bi < hi), cw, 1.0).astype(np.float32))[:, None]
            loss = (F.binary_cross_entropy_with_logits(logit, tgt, reduction="none") * w)[m].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(bi)
            cnt += len(bi)
        log("epoch %d/%d loss %.4f" % (ep + 1, epochs, tot / cnt))
    model.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="corpus folder from gen_wake_corpus.py")
    ap.add_argument("--out", required=True, help="model file (.hkm)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--channels", type=int, default=48)
    ap.add_argument("--pos-copies", type=int, default=3)
    ap.add_argument("--neg-copies", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--mine-epochs", type=int, default=5)
    ap.add_argument("--mine-minutes", type=float, default=40)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--smooth", type=int, default=5, help="moving-average frames")
    ap.add_argument("--refractory-ms", type=int, default=1500)
    ap.add_argument("--max-conf", type=float, default=0.04,
                    help="confusable accept rate allowed on validation")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--pos-weight", type=float, default=2.0)
    ap.add_argument("--init", help="start from this .hkm (same architecture) instead of random weights")
    ap.add_argument("--neg-stream-minutes", type=float, default=150,
                    help="add windows (hop 1 s) of a stream of augmented training negatives")
    ap.add_argument("--channel-p", type=float, default=0.0,
                    help="probability of each random channel effect (low-pass, EQ; see channel())")
    ap.add_argument("--feat-aug", type=float, default=0.0,
                    help="probability of online feature augmentation per window (see feat_augment())")
    ap.add_argument("--aug-warp", type=float, default=0.1, help="band-axis warp range of --feat-aug (1 +- w)")
    ap.add_argument("--aug-mask", type=int, default=4, help="widest frequency mask of --feat-aug, bands (0 = none)")
    ap.add_argument("--dropout", type=float, default=0.0, help="dropout after each conv layer (training only)")
    ap.add_argument("--weight-decay", type=float, default=0.0, help="AdamW weight decay (0 = Adam)")
    ap.add_argument("--pos-delay", type=int, default=0,
                    help="frames after the phrase end before the positive targets start (see delay_targets())")
    ap.add_argument("--online-noise", type=float, default=0,
                    help="seconds of noise per kind in a bank mixed into the windows afresh every batch "
                         "(OnlineNoise; 0 = the noise drawn once into the cached windows)")
    ap.add_argument("--conf-weight", type=float, default=1.0,
                    help="loss weight of the confusable-phrase windows (the others 1, positives --pos-weight)")
    ap.add_argument("--online-babble", default="6",
                    help="talker counts of the online bank's babble, comma-separated (equal shares)")
    ap.add_argument("--frontend-ns", choices=("stage", "static", "ns"), default="",
                    help="train on audio through the front end's noise suppression (+ AGC: see "
                         "frontend_ns()) and choose the threshold on validation streams through the "
                         "whole stage (src/fe_ns_agc.c's settings), as harkd's detector hears them")
    ap.add_argument("--report", help="write the validation sweep and timings here (json)")
    a = ap.parse_args()
    t0 = time.time()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.jobs)
    rng = np.random.default_rng(a.seed)

    def log(msg):
        print("[%6.1f s] %s" % (time.time() - t0, msg), flush=True)

    with open(os.path.join(a.data, "corpus.json")) as f:
        phrase = json.load(f)["phrase"]
    rows = corpus.load_manifest(a.data)
    n = {lab: sum(1 for r in rows if r["split"] == "train" and r["label"] == lab)
         for lab in ("pos", "conf", "unrel")}
    plan = []
    for lab, copies in (("pos", a.pos_copies), ("conf", a.neg_copies), ("unrel", a.neg_copies)):
        for c in range(copies):
            for i in range(n[lab]):
                plan.append((lab, i, int(rng.integers(1 << 31))))
    for i in range(n["unrel"]):
        plan.append(("noise", 0, int(rng.integers(1 << 31))))
    key = "%d_%d_%d_%d" % (a.seed, a.pos_copies, a.neg_copies, len(plan))
    if a.channel_p > 0:
        key += "_ch%g" % a.channel_p
    online = a.online_noise > 0
    if online and a.frontend_ns:
        ap.error("--frontend-ns needs the noise in the waveform: not with --online-noise")
    if online:
        key += "_clean"
    if a.frontend_ns:
        key += "_ns" + ("" if a.frontend_ns == "stage" else "-" + a.frontend_ns)
    cache = os.path.join(a.data, "train_windows_%s.npz" % key)
    z = np.load(cache) if os.path.exists(cache) else None
    if z is not None and (not online or "C" in z.files):   # older caches lack L, C
        X, Y = z["X"], z["Y"]
        L, C = (z["L"], z["C"]) if online else (None, None)
        log("training windows from %s" % cache)
    else:
        X, Y, L, C = build_set(a.data, plan, a.jobs, a.channel_p, online, a.frontend_ns)
        np.savez(cache, X=X, Y=Y, L=L, C=C)
    noise = OnlineNoise(a.data, rows, a.online_noise, a.seed, log, L, C,
                        [int(t) for t in a.online_babble.split(",")]) if online else None
    Y = delay_targets(Y, a.pos_delay)
    log("training set: %d windows (%d pos, %d conf, %d unrel, %d noise), %d positive frames"
        % (len(X), n["pos"] * a.pos_copies, n["conf"] * a.neg_copies,
           n["unrel"] * a.neg_copies, n["unrel"], int((Y == 1).sum())))

    model = WakeNet(a.channels, dropout=a.dropout)
    Xf = X[:, MASK_FROM:].astype(np.float32).reshape(-1, 40)
    model.mean.copy_(torch.from_numpy(Xf.mean(0)))
    model.scale.copy_(torch.from_numpy(1.0 / (Xf.std(0) + 1e-3)))  # replaced by --init
    del Xf
    log("model: %d parameters, receptive field %d frames" %
        (sum(p.numel() for p in model.parameters()), RF))
    if a.init:
        load_hkm(model, a.init)
        log("initialised from %s" % a.init)
    if a.neg_stream_minutes > 0:
        sx, sy = stream_windows(a, rows, a.neg_stream_minutes, a.seed + 29)
        X = np.concatenate([X, sx])
        Y = np.concatenate([Y, sy])
        log("negative stream: %.0f min -> %d windows" % (a.neg_stream_minutes, len(sx)))
    aug = dict(p=a.feat_aug, warp=a.aug_warp, mask=a.aug_mask)
    # the confusable windows are one block of the plan (after the positives)
    first_conf = n["pos"] * a.pos_copies
    weighted = (first_conf, first_conf + n["conf"] * a.neg_copies, a.conf_weight) \
        if a.conf_weight != 1.0 else None
    train_epochs(model, X, Y, a.epochs, a.lr, a.batch, rng, log, a.pos_weight, a.weight_decay, aug,
                 noise, weighted)

    if a.mine_minutes > 0 and a.mine_epochs > 0:
        # Hard negatives: a long stream of augmented training negatives.
        ev = [(corpus.load_clip(a.data, r), r["start"], r["end"], r) for r in rows
              if r["split"] == "train" and r["label"] in ("unrel", "conf")]
        mrng = np.random.default_rng(a.seed + 17)
        noises = corpus.load_noises(a.data, "train")
        rirs = corpus.load_rirs(a.data, "train")
        tmp = os.path.join(a.data, "streams", "train_mine_%d.wav" % a.seed)
        corpus.build_stream(tmp, ev, noises, rirs, mrng, total_s=a.mine_minutes * 60,
                            lead=(0.2, 1.5), tail=(0.0, 0.5))
        sx = features.read_wav16k(tmp)
        os.remove(tmp)
        sfeat = features.logmel(stream_ns(sx, a.frontend_ns))
        post = score_stream(model, sfeat)
        order = np.argsort(-post)
        picked = []
        for t in order:
            if post[t] < 0.1 or len(picked) >= len(X) // 6:
                break
            if t < T or any(abs(t - p) < 50 for p in picked[-200:]):
                continue
            picked.append(int(t))
        log("mining: %.0f min stream, %d frames > 0.5, %d hard windows"
            % (len(sx) / SR / 60, int((post > 0.5).sum()), len(picked)))
        if picked:
            hx = []
            for t in picked:
                end = min(len(sfeat), t + 1 + int(mrng.integers(0, 40)))
                hx.append(sfeat[end - T:end].astype(np.float16))
            hy = np.full((len(hx), T), 0, np.int8)
            hy[:, :MASK_FROM] = -1
            X = np.concatenate([X, np.stack(hx)])
            Y = np.concatenate([Y, hy])
            train_epochs(model, X, Y, a.mine_epochs, a.lr / 3, a.batch, rng, log, a.pos_weight,
                         a.weight_decay, aug, noise, weighted)
    t_train = time.time() - t0

    chosen, sw = choose_threshold(lambda f: score_stream(model, f), a.data, a.smooth, a.refractory_ms,
                                  a.max_conf, log, bool(a.frontend_ns))
    meta = export.meta_string({"phrase": phrase, "threshold": "%.2f" % chosen["thr"],
                               "smooth": a.smooth, "refractory_ms": a.refractory_ms,
                               "rf": RF, "seed": a.seed})
    size = export.write(a.out, model.hkm_layers(), "wake", phrase.replace(" ", "_"), meta)
    log("wrote %s (%d bytes): %s" % (a.out, size, meta))
    if a.report:
        with open(a.report, "w") as f:
            json.dump({"phrase": phrase, "chosen": chosen, "sweep": sw, "train_s": round(t_train, 1),
                       "total_s": round(time.time() - t0, 1), "windows": len(X),
                       "params": int(sum(p.numel() for p in model.parameters())),
                       "args": vars(a)}, f, indent=1)


if __name__ == "__main__":
    main()
