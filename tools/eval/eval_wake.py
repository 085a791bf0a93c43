#!/usr/bin/python3
"""eval_wake.py - wake-word evaluation on the TEST streams of a corpus made by
tools/train/gen_wake_corpus.py (voices and noise/room realisations disjoint
from training; the threshold was chosen on the validation streams).

Runs build/<b>/bin/hark-wake (the daemon's src/wake.c) over
  streams/test_pos.wav   far-field / noisy phrases (+30 % with a follow-up request)
  streams/test_conf.wav  confusable phrases ("hey noah", "bossa nova", ...)
  streams/test_neg.wav   about an hour of unrelated speech in rooms and noise
and reports
  - a DET table: misses vs false accepts per hour over thresholds (the
    per-frame smoothed scores hark-wake --scores writes are swept with the
    same decision rule as src/wake.c; at the model's own threshold the
    sweep is checked against hark-wake's actual detections),
  - confusable accept rate (overall and per phrase),
  - detection delay after the phrase end (median, 90th percentile),
  - misses by SNR band, room and engine,
  - CPU: hark-wake --bench on the negative stream (% of one core),
and side by side:
  - PocketSphinx keyphrase spotting (pocketsphinx_continuous -keyphrase)
    at several -kws_threshold values (--pocketsphinx),
  - openWakeWord (only for a phrase it has a model for, e.g. hey_jarvis;
    --oww DIR, where tools/setup-eval-node installed the npm packages and
    tools/eval/oww_score.js was copied; evaluation only: the models are
    CC BY-NC-SA).

--frontend ns-agc runs every detector on the streams as harkd's detector
hears them: through the front end's noise suppression + AGC (harkml.ns_agc:
speexdsp's preprocessor with src/fe_ns_agc.c's settings, bit-identical to
tools/hark-fe --no-aec --no-beam --no-doa; tools/train/check_ns_agc.py
checks that), one state per stream; the processed streams are cached as
streams/<split>_<kind>.ns_agc.wav. Without it the detectors get the raw
microphone mixture.

A detection counts for an event when it falls in [start - 0.3 s, end + 1 s];
other detections in the positive stream are ignored (the follow-up request
may not re-trigger within the refractory period). In the negative stream
every detection is a false accept.

Usage:
  /usr/bin/python3 tools/eval/eval_wake.py --data build/wake-data/hey_nova \
      --model models/hey_nova.hkm --bin build/h-wake/bin/hark-wake --pocketsphinx \
      --json build/wake-eval/hey_nova.json
"""
import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "train"))
from harkml import export  # noqa: E402

BEFORE, AFTER = 0.3, 1.0


def load_events(wav):
    with open(wav[:-4] + ".csv") as f:
        ev = list(csv.DictReader(f))
    for e in ev:
        for k in ("start_s", "end_s", "snr_db", "rt60_s"):
            e[k] = float(e[k])
    return ev


def wav_seconds(wav):
    import soundfile as sf
    return sf.info(wav).duration


def run_hark_wake(binary, model, wav, tmp, extra=()):
    dets, scores = os.path.join(tmp, "d.csv"), os.path.join(tmp, "s.csv")
    p = subprocess.run([binary, "--in", wav, "--model", model, "--out", dets, "--scores", scores,
                        "--bench"] + list(extra), capture_output=True, text=True, check=True)
    m = re.search(r"= ([0-9.]+) % of one core \(([0-9]+)x", p.stderr)
    cpu = (float(m.group(1)), float(m.group(2))) if m else (None, None)
    d = np.loadtxt(dets, delimiter=",", ndmin=2)
    s = np.loadtxt(scores, delimiter=",", ndmin=2)
    return (d[:, 0] / 1000.0 if len(d) else np.zeros(0)), s[:, 1], cpu


def detect(sm, thr, refractory, warmup=0):
    """src/wake.c's rule on smoothed scores: first frame >= thr outside the
    refractory period. Returns detection times (s, end of the hop)."""
    cand = np.nonzero(sm >= thr)[0]
    cand = cand[cand >= warmup]
    out, last = [], None
    for t in cand:
        if last is None or t - last >= refractory:
            out.append(t)
            last = t
    return (np.array(out) + 1) * 0.01


def match(dets, events):
    """Per event: detection time - phrase end (s) or None."""
    res = []
    for e in events:
        lo, hi = e["start_s"] - BEFORE, e["end_s"] + AFTER
        i = np.searchsorted(dets, lo)
        res.append(float(dets[i] - e["end_s"]) if i < len(dets) and dets[i] <= hi else None)
    return res


def summarize(hits_pos, hits_conf, n_fa, neg_h):
    miss = sum(h is None for h in hits_pos) / max(1, len(hits_pos))
    conf = sum(h is not None for h in hits_conf) / max(1, len(hits_conf))
    d = [h for h in hits_pos if h is not None]
    return {"miss": miss, "fa": int(n_fa), "fa_h": n_fa / neg_h, "conf": conf,
            "delay_med": float(np.median(d)) if d else None,
            "delay_p90": float(np.percentile(d, 90)) if d else None}


def frontend_stream(wav):
    """wav through the front end's NS/AGC (cached beside it, 16-bit PCM as
    the raw streams; the events' csv is shared)."""
    import soundfile as sf
    from harkml import features, ns_agc
    out = wav[:-4] + ".ns_agc.wav"
    if not (os.path.exists(out) and os.path.getmtime(out) > os.path.getmtime(wav)):
        y = ns_agc.process(features.read_wav16k(wav))
        sf.write(out + ".tmp", y, 16000, subtype="PCM_16", format="WAV")
        os.replace(out + ".tmp", out)
    csv_out = out[:-4] + ".csv"
    if not os.path.exists(csv_out):
        os.symlink(os.path.basename(wav[:-4] + ".csv"), csv_out)
    return out


def pocketsphinx_dets(wav, phrase, thr):
    """Keyphrase end times; cached next to the stream (<wav>.ps_<phrase>_<thr>.txt)."""
    cache = "%s.ps_%s_%s.txt" % (wav, phrase.replace(" ", "_"), thr)
    if os.path.exists(cache) and os.path.getmtime(cache) > os.path.getmtime(wav):
        return np.loadtxt(cache, ndmin=1)
    p = subprocess.run(["pocketsphinx_continuous", "-infile", wav, "-keyphrase", phrase,
                        "-kws_threshold", thr, "-time", "yes", "-logfn", "/dev/null"],
                       capture_output=True, text=True)
    out = []
    for line in p.stdout.splitlines():
        f = line.split()
        if len(f) >= 3 + len(phrase.split()):
            try:
                out.append(float(f[-2]))   # end time of the keyphrase
            except ValueError:
                pass
    out = np.array(sorted(out))
    np.savetxt(cache, out, fmt="%.3f")
    return out


def oww_scores(oww_dir, wav, model_name):
    """Per-80 ms openWakeWord scores (t_sec, score) from tools/eval/oww_score.js."""
    p = subprocess.run(["node", os.path.abspath(os.path.join(oww_dir, "oww_score.js")), os.path.abspath(wav), model_name],
                       capture_output=True, text=True, check=True, cwd=os.path.abspath(oww_dir))
    rows = [list(map(float, l.split())) for l in p.stdout.splitlines() if l and l[0].isdigit()]
    a = np.array(rows)
    return a[:, 0], a[:, 1]


def oww_detect(t, s, thr, refractory_s=1.5):
    out, last = [], -1e9
    for ti, si in zip(t, s):
        if si >= thr and ti - last >= refractory_s:
            out.append(ti)
            last = ti
    return np.array(out)


def fmt(x, pct=False, nd=2):
    if x is None:
        return "-"
    return ("%.1f %%" % (100 * x)) if pct else ("%.*f" % (nd, x))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--bin", default="build/host/bin/hark-wake")
    ap.add_argument("--split", default="test")
    ap.add_argument("--pocketsphinx", action="store_true")
    ap.add_argument("--ps-thresholds", default="1e-10,1e-20,1e-30")
    ap.add_argument("--oww", help="folder with node_modules and oww_score.js (evaluation only)")
    ap.add_argument("--oww-model", default="hey_jarvis")
    ap.add_argument("--frontend", choices=("none", "ns-agc"), default="none",
                    help="ns-agc: the streams through the front end's NS/AGC first (as in harkd)")
    ap.add_argument("--threshold", type=float,
                    help="operating point instead of the model's own (as hark.conf's [wake] threshold)")
    ap.add_argument("--json")
    a = ap.parse_args()

    layers, info = export.read(a.model)
    meta = export.parse_meta(info["meta"])
    phrase = meta.get("phrase", "hey nova")
    thr0 = a.threshold if a.threshold else float(meta["threshold"])
    refr = int(meta.get("refractory_ms", 1500)) // 10
    warm = int(meta.get("rf", 0))
    S = {k: os.path.join(a.data, "streams", "%s_%s.wav" % (a.split, k)) for k in ("pos", "conf", "neg")}
    ev_pos, ev_conf = load_events(S["pos"]), load_events(S["conf"])
    if a.frontend == "ns-agc":
        S = {k: frontend_stream(v) for k, v in S.items()}
    neg_s = wav_seconds(S["neg"])
    neg_h = neg_s / 3600
    report = {"phrase": phrase, "model": a.model, "threshold": thr0, "split": a.split,
              "frontend": a.frontend,
              "events": {"pos": len(ev_pos), "conf": len(ev_conf)}, "neg_hours": neg_h,
              "params": int(sum(np.size(L[k]) for L in layers for k in L
                                if k not in ("type", "act", "n", "dilation", "groups"))),
              "model_bytes": os.path.getsize(a.model)}

    tmp = tempfile.mkdtemp(prefix="evalwake")
    sc, real = {}, {}
    for k in ("pos", "conf", "neg"):
        t0 = time.time()
        real[k], sc[k], cpu = run_hark_wake(a.bin, a.model, S[k], tmp,
                                            ("--threshold", str(thr0)) if a.threshold else ())
        if k == "neg":
            report["cpu_pct_one_core"], report["x_realtime"] = cpu
        print("hark-wake %s: %.0f s audio, %d detections, %.1f s wall" %
              (k, len(sc[k]) / 100, len(real[k]), time.time() - t0), flush=True)
    # the sweep at the model's threshold must reproduce hark-wake exactly
    for k in ("pos", "conf", "neg"):
        mine = detect(sc[k], thr0, refr, warm)
        if len(mine) != len(real[k]) or (len(mine) and np.max(np.abs(mine - real[k])) > 0.011):
            print("WARNING: sweep and hark-wake disagree on %s: %d vs %d" % (k, len(mine), len(real[k])))
    report["consistent"] = True

    thrs = sorted(set([round(x, 2) for x in np.arange(0.10, 0.991, 0.05)] + [thr0, 0.97, 0.98, 0.99]))
    det = []
    for thr in thrs:
        r = summarize(match(detect(sc["pos"], thr, refr, warm), ev_pos),
                      match(detect(sc["conf"], thr, refr, warm), ev_conf),
                      len(detect(sc["neg"], thr, refr, warm)), neg_h)
        r["thr"] = thr
        det.append(r)
    report["det"] = det
    hp = match(real["pos"], ev_pos)
    hc = match(real["conf"], ev_conf)
    op = summarize(hp, hc, len(real["neg"]), neg_h)
    report["operating_point"] = op

    # breakdowns at the operating point
    def by(key_fn, events, hits, accept=False):
        g = {}
        for e, h in zip(events, hits):
            k = key_fn(e)
            n, x = g.get(k, (0, 0))
            g[k] = (n + 1, x + ((h is not None) if accept else (h is None)))
        return {k: {"n": n, "rate": x / n} for k, (n, x) in sorted(g.items())}

    report["miss_by_snr"] = by(lambda e: "%02d-%02d dB" % (int(e["snr_db"] // 5) * 5, int(e["snr_db"] // 5) * 5 + 5),
                               ev_pos, hp)
    report["miss_by_room"] = by(lambda e: "dry" if e["rt60_s"] == 0 else
                                ("rt60<0.45" if e["rt60_s"] < 0.45 else "rt60>=0.45"), ev_pos, hp)
    report["miss_by_engine"] = by(lambda e: e["voice"].split(":")[0], ev_pos, hp)
    report["miss_by_noise"] = by(lambda e: e["noise"], ev_pos, hp)
    report["conf_by_phrase"] = by(lambda e: e["text"], ev_conf, hc, accept=True)

    if a.pocketsphinx:
        ps = []
        for thr in a.ps_thresholds.split(","):
            t0 = time.time()
            dp = pocketsphinx_dets(S["pos"], phrase, thr)
            dc = pocketsphinx_dets(S["conf"], phrase, thr)
            dn = pocketsphinx_dets(S["neg"], phrase, thr)
            r = summarize(match(dp, ev_pos), match(dc, ev_conf), len(dn), neg_h)
            r["thr"] = thr
            r["note"] = "delay = keyphrase end time reported by pocketsphinx"
            ps.append(r)
            print("pocketsphinx %s: miss %.1f %%, FA/h %.2f, conf %.1f %% (%.0f s)" %
                  (thr, 100 * r["miss"], r["fa_h"], 100 * r["conf"], time.time() - t0), flush=True)
        report["pocketsphinx"] = ps

    if a.oww:
        t0 = time.time()
        o = {k: oww_scores(a.oww, S[k], a.oww_model) for k in ("pos", "conf", "neg")}
        ow = []
        for thr in (0.3, 0.5, 0.7, 0.9):
            r = summarize(match(oww_detect(*o["pos"], thr), ev_pos),
                          match(oww_detect(*o["conf"], thr), ev_conf),
                          len(oww_detect(*o["neg"], thr)), neg_h)
            r["thr"] = thr
            ow.append(r)
        report["openwakeword"] = {"model": a.oww_model, "det": ow, "seconds": round(time.time() - t0, 1)}

    # markdown
    print("\n### %s: %s (threshold %.2f), %d phrases, %d confusables, %.2f h negatives%s\n"
          % (phrase, os.path.basename(a.model), thr0, len(ev_pos), len(ev_conf), neg_h,
             ", through the front end's NS/AGC" if a.frontend == "ns-agc" else ""))
    print("| threshold | misses | false accepts (count) | FA/h | confusables accepted | delay median / p90 (s) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in det:
        mark = " **(model)**" if r["thr"] == thr0 else ""
        print("| %.2f%s | %s | %d | %.2f | %s | %s / %s |" % (r["thr"], mark, fmt(r["miss"], True), r["fa"],
              r["fa_h"], fmt(r["conf"], True), fmt(r["delay_med"]), fmt(r["delay_p90"])))
    for name in ("pocketsphinx",):
        if name in report:
            print("\nPocketSphinx keyphrase \"%s\":\n" % phrase)
            print("| -kws_threshold | misses | FA (count) | FA/h | confusables accepted | keyphrase end - phrase end, median |")
            print("| --- | --- | --- | --- | --- | --- |")
            for r in report[name]:
                print("| %s | %s | %d | %.2f | %s | %s |" % (r["thr"], fmt(r["miss"], True), r["fa"], r["fa_h"],
                      fmt(r["conf"], True), fmt(r["delay_med"])))
    if "openwakeword" in report:
        print("\nopenWakeWord %s:\n" % a.oww_model)
        print("| threshold | misses | FA (count) | FA/h | confusables accepted | delay median / p90 (s) |")
        print("| --- | --- | --- | --- | --- | --- |")
        for r in report["openwakeword"]["det"]:
            print("| %.2f | %s | %d | %.2f | %s | %s / %s |" % (r["thr"], fmt(r["miss"], True), r["fa"], r["fa_h"],
                  fmt(r["conf"], True), fmt(r["delay_med"]), fmt(r["delay_p90"])))
    print("\nAt the model threshold: misses by SNR %s" %
          ", ".join("%s %s (n=%d)" % (k, fmt(v["rate"], True), v["n"]) for k, v in report["miss_by_snr"].items()))
    print("misses by room: %s" % ", ".join("%s %s (n=%d)" % (k, fmt(v["rate"], True), v["n"])
                                          for k, v in report["miss_by_room"].items()))
    print("misses by engine: %s" % ", ".join("%s %s (n=%d)" % (k, fmt(v["rate"], True), v["n"])
                                            for k, v in report["miss_by_engine"].items()))
    print("misses by noise: %s" % ", ".join("%s %s (n=%d)" % (k, fmt(v["rate"], True), v["n"])
                                           for k, v in report["miss_by_noise"].items()))
    print("confusables accepted: %s" % ", ".join("%s %s" % (k, fmt(v["rate"], True))
                                                for k, v in report["conf_by_phrase"].items()))
    print("CPU (hark-wake, whole detector incl. log-mel): %s %% of one core, %sx real time; model %d params, %d bytes"
          % (report["cpu_pct_one_core"], report["x_realtime"], report["params"], report["model_bytes"]))
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
