#!/usr/bin/python3
"""VAD evaluation: hark-vad (our model, the daemon's code) side by side with
Silero VAD v5 and the WebRTC GMM VAD on generated scenes.

  tools/setup-train-deps; tools/setup-eval-deps  # sources and the WebRTC reference (apt), once
  tools/setup-eval-node                          # Silero (npm), once
  make BUILD=build/host build/host/bin/hark-vad vad-eval-refs
  /usr/bin/python3 tools/eval/eval_vad.py [--bin build/host/bin/hark-vad] [--ref build/host/ref/webrtc_vad]
        [--node build/eval-node] [--out build/vad-eval] [--held-out] [--frontend ns-agc]

--frontend ns-agc: every detector gets each scene through the front end's
noise suppression + AGC (harkml.ns_agc = src/fe_ns_agc.c), which is what
harkd's VAD hears; the labels stay those of the clean speech.

Scenes (30 s each, 16 kHz): utterances with 0.4-3 s gaps, mixed with noise at
0, 5 and 10 dB SNR (speech-frame power over noise power). Sources are
disjoint from training (tools/train/gen_vad_data.py):
  speech  festival voices (kal, ked diphone; slt HTS) reading sentences
          that are not in the training text, and the pocketsphinx-testdata
          LibriVox recordings (real read speech, unseen speakers);
  noise   sox-made pink noise, fan and car noise (the recipes of
          shared/testdata.md; training synthesised its noise in numpy),
          music: asterisk-moh-opsound tracks morning_coffee and the_simplicity
          (training used the other three); soundtrack: lincity-ng's three
          full-band music tracks (training used warzone2100's).
--held-out adds a final table on the held-out sources of shared/testdata.md
(asterisk English prompts as speech, hedgewars music as noise); nothing is
tuned on it: hark's threshold comes from the model file (dev split of the
training data), Silero's is its default 0.5, WebRTC has no threshold.

Labels: per 10 ms frame from the clean speech energy (harkml.scenes.
speech_labels: within 35 dB of each utterance's loudest frame). Metrics per
condition: frame ROC-AUC (for WebRTC's 0/1 output this is (TPR + TNR) / 2),
precision / recall / false-alarm rate at the operating point (hark: the
hysteresis output is_speech; Silero: prob >= 0.5 per 32 ms chunk; WebRTC
mode 3 (and 1), 10 ms frames), and onset delay: for each utterance that
starts after >= 300 ms without speech, the time from the labelled start
until the system first says speech (when its decision is available: end of
the hop/chunk), searched from 50 ms before to 500 ms after; median and
90th percentile over detected onsets, plus the share missed.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from harkml import export, features, ns_agc, scenes  # noqa: E402

SR = 16000
HOP = features.HOP
SENTENCES = [
    "please set a timer for ten minutes", "what is the weather like in paris today",
    "turn off the lights in the living room", "remind me to call my sister at six",
    "how many teaspoons are in a tablespoon", "play some quiet jazz in the kitchen",
    "can you translate good morning into german", "the quick brown fox jumps over the lazy dog",
    "my flight leaves from gate twenty two", "add oat milk and bananas to the shopping list",
    "who wrote the novel pride and prejudice", "open the garage door please",
    "tell me a short story about a dragon", "what time does the pharmacy close tonight",
    "increase the volume a little bit", "is it going to rain tomorrow afternoon",
]
FESTIVAL_VOICES = ["voice_kal_diphone", "voice_ked_diphone", "voice_cmu_us_slt_arctic_hts"]
MOH_EVAL = ["manolo_camp-morning_coffee", "macroform-the_simplicity"]
# the music tracks of each music source (all installed by tools/setup-train-deps)
MUSIC = {
    "moh": ["/usr/share/asterisk/moh/%s.wav" % t for t in MOH_EVAL],
    "hedgewars": "/usr/share/games/hedgewars/Data/Music/*.ogg",          # held-out
    "soundtrack": "/usr/share/games/lincity-ng/music/*/*.ogg",            # full band, training has warzone2100's
}
KINDS = ["pink", "fan", "car", "music", "soundtrack"]
# summary rows: everything, and the four kinds of the tables before the soundtrack kind
GROUPS = (("all", KINDS), ("pink/fan/car/music", KINDS[:4]))


def sox(args):
    subprocess.run(["sox"] + args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def load16k(path):
    x, sr = sf.read(path, dtype="float64", always_2d=True)
    x = x.mean(axis=1)
    if sr != SR:
        import scipy.signal as ss
        g = np.gcd(sr, SR)
        x = ss.resample_poly(x, SR // g, sr // g)
    return x


def speech_pool(tmp, held_out):
    pool = []
    if held_out:
        # asterisk-core-sounds-en (GSM 6.10, 8 kHz): decoded with sox, -R so
        # that its dither is the same on every run (repeatable figures)
        # (sounds/en where asterisk itself is installed, else the package's own folder)
        fs = sorted(glob.glob("/usr/share/asterisk/sounds/en/*.gsm") + glob.glob("/usr/share/asterisk/sounds/en/*/*.gsm"))
        if not fs:
            fs = sorted(glob.glob("/usr/share/asterisk/sounds/en_US_f_Allison/*.gsm") +
                        glob.glob("/usr/share/asterisk/sounds/en_US_f_Allison/*/*.gsm"))
        fs = [f for f in fs if not any(k in os.path.basename(f) for k in ("beep", "tone", "monkeys", "silence"))]
        rng = np.random.default_rng(7)
        for f in rng.choice(fs, min(200, len(fs)), replace=False):
            w = os.path.join(tmp, "a.wav")
            sox(["-R", f, "-r", "16000", "-b", "16", w])
            x = load16k(w)
            if len(x) > SR // 3:
                pool.append(x)
        return pool
    for f in sorted(glob.glob("/usr/share/pocketsphinx/test/data/*.wav") +
                    glob.glob("/usr/share/pocketsphinx/test/data/librivox/*.wav")):
        x = load16k(f)
        if len(x) > SR // 3:
            pool.append(x)
    for i, s in enumerate(SENTENCES):
        for v in FESTIVAL_VOICES:
            scm = os.path.join(tmp, "say.scm")
            out = os.path.join(tmp, "f.wav")
            with open(scm, "w") as fh:
                fh.write('(%s)\n(set! u (Utterance Text "%s"))\n(utt.synth u)\n(utt.save.wave u "%s" (quote riff))\n'
                         % (v, s, out))
            subprocess.run(["festival", "-b", scm], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            pool.append(load16k(out))
    return pool


_NOISE_CACHE = {}


def noise_signal(kind, secs, seed, tmp, held_out):
    """secs of noise; sox noises come from one repeatable (-R) 240 s run per
    kind, cut at a seed-dependent offset."""
    n = int(secs * SR)
    if kind not in ("music", "soundtrack"):
        if kind not in _NOISE_CACHE:
            _NOISE_CACHE[kind] = sox_noise(kind, 240, tmp)
        x = _NOISE_CACHE[kind]
        off = int(np.random.default_rng(seed).integers(0, len(x) - n))
        return x[off:off + n]
    return music_signal(n, seed, "soundtrack" if kind == "soundtrack" else "hedgewars" if held_out else "moh")


def sox_noise(kind, secs, tmp):
    out = os.path.join(tmp, "n.wav")
    if kind == "pink":
        sox(["-R", "-n", "-r", "16000", "-c", "1", "-b", "16", out, "synth", str(secs), "pinknoise", "vol", "0.3"])
    elif kind == "fan":
        sox(["-R", "-n", "-r", "16000", "-c", "1", "-b", "16", out, "synth", str(secs), "brownnoise", "lowpass", "400",
             "tremolo", "23", "20", "norm", "-12"])
    elif kind == "car":
        sox(["-R", "-n", "-r", "16000", "-c", "2", "-b", "16", out, "synth", str(secs), "brownnoise", "brownnoise",
             "remix", "1-2", "lowpass", "250", "lowpass", "250", "norm", "-6"])
    return load16k(out)


def music_signal(n, seed, source):
    rng = np.random.default_rng(seed)
    tracks = MUSIC[source]
    if isinstance(tracks, str):
        tracks = sorted(glob.glob(tracks))
        if not tracks:
            sys.exit("no %s: run tools/setup-train-deps" % MUSIC[source])
    x = load16k(tracks[rng.integers(len(tracks))])
    s = int(rng.integers(0, max(1, len(x) - n)))
    x = x[s:s + n]
    if len(x) < n:
        x = np.tile(x, n // len(x) + 1)[:n]
    return x


def build_scene(pool, kind, snr, seed, tmp, held_out, secs=30.0):
    rng = np.random.default_rng(seed)
    n = int(secs * SR)
    clean = np.zeros(n + 10 * SR)
    lab = np.zeros(len(clean) // HOP, dtype=np.uint8)
    pos = int(rng.uniform(0.5, 1.5) * SR)
    while pos < n - SR:
        u = pool[rng.integers(len(pool))]
        u = u[:min(len(u), len(clean) - pos, 12 * SR)]
        u = u / (np.std(u) + 1e-9) * 10 ** (rng.uniform(-6, 6) / 20) * 0.05
        clean[pos:pos + len(u)] += u
        ul = scenes.speech_labels(u)
        f0 = pos // HOP
        lab[f0:f0 + len(ul)] = np.maximum(lab[f0:f0 + len(ul)], ul.astype(np.uint8))
        pos += len(u) + int(rng.uniform(0.4, 3.0) * SR)
    clean = clean[:n]
    lab = lab[:n // HOP]
    nz = noise_signal(kind, secs + 5, seed, tmp, held_out)
    off = int(rng.integers(0, len(nz) - n))
    nz = nz[off:off + n]
    g = scenes.scale_to_snr(clean, nz, lab, snr)
    x = clean + g * nz
    x = x / max(1.0, np.max(np.abs(x)) / 0.99)
    return x.astype(np.float32), lab


def run_hark(binp, model, wav, csv):
    subprocess.run([binp, "--in", wav, "--model", model, "--out", csv], check=True)
    d = np.loadtxt(csv, delimiter=",", ndmin=2)
    return d[:, 1], d[:, 2]


def run_webrtc(ref, wav, mode):
    out = subprocess.run([ref, wav, str(mode), "10"], check=True, capture_output=True, text=True).stdout
    d = np.array([[float(v) for v in l.split(",")] for l in out.split()])
    return d[:, 1]


def frame_auc(y, p):
    from scipy.stats import rankdata
    y = np.asarray(y).astype(bool)
    npos, nneg = y.sum(), (~y).sum()
    r = rankdata(p)
    return float((r[y].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def prf(y, d):
    y, d = np.asarray(y).astype(bool), np.asarray(d).astype(bool)
    tp, fp = (y & d).sum(), (~y & d).sum()
    prec = tp / max(1, d.sum())
    rec = tp / max(1, y.sum())
    far = fp / max(1, (~y).sum())
    return prec, rec, far


def onsets(lab, min_gap=30):
    out = []
    on = np.flatnonzero(np.diff(np.concatenate([[0], lab.astype(int)])) == 1)
    ends = np.flatnonzero(lab)
    for t in on:
        prev = ends[ends < t]
        if len(prev) == 0 or t - prev[-1] > min_gap:
            out.append(t)
    return out


def onset_delays(lab, avail_ms, dec):
    """Delays (ms) from each labelled onset to the first positive decision,
    avail_ms[i] being when decision i is known. None = missed."""
    res = []
    for t in onsets(lab):
        t_ms = t * 10.0
        ok = np.flatnonzero((avail_ms >= t_ms - 50) & (avail_ms <= t_ms + 500) & (dec > 0))
        res.append(avail_ms[ok[0]] - t_ms if len(ok) else None)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/host/bin/hark-vad")
    ap.add_argument("--model", default="models/vad.hkm")
    ap.add_argument("--ref", default="build/host/ref/webrtc_vad")
    ap.add_argument("--node", default="build/eval-node")
    ap.add_argument("--out", default="build/vad-eval")
    ap.add_argument("--held-out", action="store_true")
    ap.add_argument("--scenes", type=int, default=2, help="scenes per noise x SNR")
    ap.add_argument("--frontend", choices=("none", "ns-agc"), default="none",
                    help="ns-agc: every detector gets the scenes through the front end's noise "
                         "suppression + AGC (harkml.ns_agc, bit-identical to src/fe_ns_agc.c), as in harkd")
    a = ap.parse_args()
    sub = ("heldout" if a.held_out else "main") + ("_ns_agc" if a.frontend == "ns-agc" else "")
    out = os.path.join(a.out, sub)
    os.makedirs(os.path.join(out, "silero"), exist_ok=True)
    tmp = os.path.join(out, "tmp")
    os.makedirs(tmp, exist_ok=True)
    hark_thr = float(export.parse_meta(export.read(a.model)[1]["meta"]).get("threshold", 0.5))
    pool = speech_pool(tmp, a.held_out)
    snrs = [0, 5, 10]
    items = []
    for ki, k in enumerate(KINDS):
        for snr in snrs:
            for s in range(a.scenes):
                seed = 9000 + 100 * ki + 10 * snr + s + (5000 if a.held_out else 0)
                x, lab = build_scene(pool, k, snr, seed, tmp, a.held_out)
                if a.frontend == "ns-agc":   # one NS/AGC state per scene
                    x = ns_agc.process(x)
                wav = os.path.join(out, "%s_%02d_%d.wav" % (k, snr, s))
                sf.write(wav, x, SR, subtype="PCM_16")
                items.append((k, snr, wav, lab))
    have_silero = os.path.exists(os.path.join(a.node, "node_modules", "@jjhbw", "silero-vad"))
    if have_silero:
        subprocess.run(["cp", "tools/eval/silero_vad_probs.js", a.node], check=True)
        r = subprocess.run(["node", os.path.join(os.path.abspath(a.node), "silero_vad_probs.js"),
                            os.path.abspath(os.path.join(out, "silero"))] + [os.path.abspath(i[2]) for i in items],
                           cwd=a.node, capture_output=True, text=True)
        print(r.stderr.strip())
    have_webrtc = os.path.exists(a.ref)
    rows = {}
    for k, snr, wav, lab in items:
        key = (k, snr)
        R = rows.setdefault(key, {"y": [], "hark_p": [], "hark_s": [], "sil": [], "w3": [], "w1": [],
                                  "on_h": [], "on_s": [], "on_w3": []})
        p, s = run_hark(a.bin, a.model, wav, wav[:-4] + ".hark.csv")
        T = min(len(lab), len(p))
        y = lab[:T]
        R["y"].append(y)
        R["hark_p"].append(p[:T])
        R["hark_s"].append(s[:T])
        R["on_h"] += onset_delays(y, (np.arange(T) + 1) * 10.0, s[:T])
        if have_silero:
            d = np.loadtxt(os.path.join(out, "silero", os.path.basename(wav)[:-4] + ".csv"), delimiter=",", ndmin=2)
            # 10 ms frame t -> the chunk holding its last sample
            idx = np.minimum(((np.arange(T) + 1) * HOP - 1) // 512, len(d) - 1)
            R["sil"].append(d[idx, 1])
            R["on_s"] += onset_delays(y, d[:, 0] + 32.0, (d[:, 1] >= 0.5).astype(int))
        if have_webrtc:
            w3 = run_webrtc(a.ref, wav, 3)
            w1 = run_webrtc(a.ref, wav, 1)
            R["w3"].append(w3[:T])
            R["w1"].append(w1[:T])
            R["on_w3"] += onset_delays(y, (np.arange(len(w3)) + 1) * 10.0, w3)
    results = []
    print("\nhark threshold %.2f (from %s)" % (hark_thr, a.model))
    print("%s scenes (%d x 30 s per condition); frame ROC-AUC | precision/recall/false-alarm at the operating point"
          % ("held-out" if a.held_out else "evaluation", a.scenes))
    hdr = "| noise | SNR | hark AUC | Silero AUC | WebRTC-3 AUC | hark P/R/FA (is_speech) | hark P/R/FA (raw) | Silero P/R/FA (0.5) | " \
          "WebRTC-3 P/R/FA | WebRTC-1 P/R/FA | onset hark / Silero / WebRTC-3 (median, p90 ms; missed) |"
    print(hdr)
    print("|" + " --- |" * (hdr.count("|") - 1))

    def fmt_on(v):
        d = np.array([x for x in v if x is not None])
        miss = sum(x is None for x in v)
        if len(d) == 0:
            return "- (%d/%d missed)" % (miss, len(v))
        return "%.0f, %.0f (%d/%d)" % (np.median(d), np.percentile(d, 90), miss, len(v))

    allrows = {"y": [], "hark_p": [], "sil": [], "w3": []}
    for key in sorted(rows, key=lambda k: (KINDS.index(k[0]), k[1])):
        R = rows[key]
        y = np.concatenate(R["y"])
        hp, hs = np.concatenate(R["hark_p"]), np.concatenate(R["hark_s"])
        allrows["y"].append(y)
        allrows["hark_p"].append(hp)
        res = {"noise": key[0], "snr": key[1], "hark_auc": frame_auc(y, hp), "hark_prf": prf(y, hs), "hark_raw_prf": prf(y, hp >= hark_thr)}
        cells = ["%.3f" % res["hark_auc"]]
        if R["sil"]:
            sp = np.concatenate(R["sil"])
            allrows["sil"].append(sp)
            res["silero_auc"] = frame_auc(y, sp)
            res["silero_prf"] = prf(y, sp >= 0.5)
            cells.append("%.3f" % res["silero_auc"])
        else:
            cells.append("-")
        if R["w3"]:
            w3, w1 = np.concatenate(R["w3"]), np.concatenate(R["w1"])
            allrows["w3"].append(w3)
            res["webrtc3_auc"] = frame_auc(y, w3)
            res["webrtc3_prf"], res["webrtc1_prf"] = prf(y, w3), prf(y, w1)
            cells.append("%.3f" % res["webrtc3_auc"])
        else:
            cells.append("-")
        f = lambda t: "%.2f/%.2f/%.2f" % t  # noqa: E731
        cells.append(f(res["hark_prf"]))
        cells.append(f(res["hark_raw_prf"]))
        cells.append(f(res["silero_prf"]) if "silero_prf" in res else "-")
        cells.append(f(res["webrtc3_prf"]) if "webrtc3_prf" in res else "-")
        cells.append(f(res["webrtc1_prf"]) if "webrtc1_prf" in res else "-")
        cells.append("%s / %s / %s" % (fmt_on(R["on_h"]), fmt_on(R["on_s"]) if R["on_s"] else "-",
                                       fmt_on(R["on_w3"]) if R["on_w3"] else "-"))
        print("| %s | %d | %s |" % (key[0], key[1], " | ".join(cells)))
        res["onset_hark"] = R["on_h"]
        res["onset_silero"] = R["on_s"]
        results.append(res)
    keys = sorted(rows, key=lambda k: (KINDS.index(k[0]), k[1]))
    for name, ks in GROUPS:
        sel = [i for i, k in enumerate(keys) if k[0] in ks]
        y = np.concatenate([allrows["y"][i] for i in sel])
        cat = lambda n: np.concatenate([allrows[n][i] for i in sel])  # noqa: E731
        print("| %s | 0-10 | %.3f | %s | %s |" % (
            name, frame_auc(y, cat("hark_p")),
            "%.3f" % frame_auc(y, cat("sil")) if allrows["sil"] else "-",
            "%.3f" % frame_auc(y, cat("w3")) if allrows["w3"] else "-"))
        on_h = [v for k in keys if k[0] in ks for v in rows[k]["on_h"]]
        on_s = [v for k in keys if k[0] in ks for v in rows[k]["on_s"]]
        print("onset over %s: hark %s; Silero %s" % (name, fmt_on(on_h), fmt_on(on_s) if on_s else "-"))
    # speed: hark-vad on one core, the whole scene set concatenated 10 times
    allwav = os.path.join(tmp, "all.wav")
    sf.write(allwav, np.concatenate([sf.read(i[2], dtype="float32")[0] for i in items]), SR, subtype="PCM_16")
    # continuous: the scenes back to back in one run, the detector's state
    # carried across each change of noise, SNR and talker (as in harkd)
    p_all, _ = run_hark(a.bin, a.model, allwav, allwav[:-4] + ".hark.csv")
    ends = np.cumsum([len(i[3]) for i in items])      # each scene is a whole number of hops
    if ends[-1] > len(p_all):
        sys.exit("hark-vad gave %d frames for %d labelled ones" % (len(p_all), ends[-1]))
    p_cont = np.split(p_all[:ends[-1]], ends[:-1])
    for name, ks in GROUPS:
        sel = [i for i, it in enumerate(items) if it[0] in ks]
        print("hark AUC with the scenes run back to back (no state reset), %s: %.3f"
              % (name, frame_auc(np.concatenate([items[i][3] for i in sel]), np.concatenate([p_cont[i] for i in sel]))))
    r = subprocess.run(["taskset", "-c", "0", a.bin, "--in", allwav, "--out", "/dev/null", "--repeat", "10"],
                       capture_output=True, text=True)
    print(r.stderr.strip())
    with open(os.path.join(out, "results.json"), "w") as fh:
        json.dump(results, fh, default=lambda o: o if not isinstance(o, np.generic) else o.item())


if __name__ == "__main__":
    main()
