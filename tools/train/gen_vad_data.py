#!/usr/bin/python3
"""Generate the VAD training/dev set: speech utterances placed with gaps,
mixed with noise or music at random SNR, optionally reverberated; 40 log-mel
features per 10 ms frame (harkml.features, = src/mel.c) and 0/1 frame labels
from the clean speech energy. Deterministic by --seed.

  nice /usr/bin/python3 tools/train/gen_vad_data.py --out build/h-vad/vaddata [--seed 1] [--clips 3000]

Sources (NONE of the held-out sets of shared/testdata.md: no asterisk
English prompts, no SVOX Pico, no MBROLA voices, no hedgewars music):
  speech  espeak-ng (non-MBROLA English voices, variants, speed, pitch),
          flite (kal, kal16, awb, rms, slt), hedgewars voice lines (human),
          klettres-data letters/syllables (human, several languages),
          asterisk fr_CA/it_IT/ru_RU prompts (human, 8 kHz band-limited).
          The es_MX prompts are skipped: same speaker as the held-out English set.
  noise   synthesised here (white, pink, brown, fan, car, hum; with
          --rumble also 40-150 Hz rumble), babble of
          4-7 overlapping utterances, synthetic music (harkml.scenes.music),
          asterisk-moh-opsound tracks cold_day, robot_dity, system (the other
          two tracks are kept for evaluation); with --soundtrack also the
          full-band game soundtracks of warzone2100-music (orchestral and
          electronic, 48 kHz, CC BY-SA; 4 of its 29 tracks go to the dev split
          by hash). lincity-ng's music is kept for evaluation
          (tools/eval/eval_vad.py).
Festival voices and the pocketsphinx LibriVox recordings are NOT used here:
tools/eval/eval_vad.py evaluates on them (unseen speakers/synthesiser).

Each source's utterances are split 90/10 by a hash of the file/text into
train and dev pools; --split dev builds clips only from the dev pools (for
early stopping and the operating threshold).
Writes OUT/<split>.npz with X (clips, frames, 40) float16, Y (clips, frames)
uint8, and a manifest.
"""
import argparse
import glob
import hashlib
import os
import subprocess
import sys
import tempfile

import numpy as np
import scipy.signal as ss
import soundfile as sf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harkml import features, ns_agc, scenes  # noqa: E402

SR = 16000
WORDS = """the a of to and in is it you that he was for on are with as his they be at one have this from
or had by hot word but what some we can out other were all there when up use your how said an each she
which do their time if will way about many then them write would like so these her long make thing see
him two has look more day could go come did number sound no most people my over know water than call
first who may down side been now find any new work part take get place made live where after back little
only round man year came show every good me give our under name very through just form sentence great
think say help low line differ turn cause much mean before move right boy old too same tell does set three
want air well also play small end put home read hand port large spell add even land here must big high
such follow act why ask men change went light kind off need house picture try us again animal point mother
world near build self earth father head stand own page should country found answer school grow study still
learn plant cover food sun four between state keep eye never last let thought city tree cross farm hard
start might story saw far sea draw left late run while press close night real life few north open seem
together next white children begin got walk example ease paper group always music those both mark often
letter until mile river car feet care second book carry took science eat room friend began idea fish
mountain stop once base hear horse cut sure watch color face wood main enough plain girl usual young ready
above ever red list though feel talk bird soon body dog family direct pose leave song measure door product
black short numeral class wind question happen complete ship area half rock order fire south problem piece
told knew pass since top whole king space heard best hour better true during hundred five remember step
early hold west ground interest reach fast verb sing listen six table travel less morning ten simple several
vowel toward war lay against pattern slow center love person money serve appear road map rain rule govern
pull cold notice voice unit power town fine certain fly fall lead cry dark machine note wait plan figure
star box noun field rest correct able pound done beauty drive stood contain front teach week final gave
green oh quick develop ocean warm free minute strong special mind behind clear tail produce fact street inch
multiply nothing course stay wheel full force blue object decide surface deep moon island foot system busy
test record boat common gold possible plane stead dry wonder laugh thousand ago ran check game shape equate
miss brought heat snow tire bring yes distant fill east paint language among""".split()

ESPEAK_VOICES = ["en-gb", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
                 "en-029"]
ESPEAK_VARIANTS = ["", "+m1", "+m2", "+m3", "+m4", "+m5", "+m6", "+m7", "+f1", "+f2", "+f3", "+f4", "+f5",
                   "+klatt", "+klatt2", "+croak", "+whisper"]
FLITE_VOICES = ["kal", "kal16", "awb", "rms", "slt"]
MOH_TRAIN = ["macroform-cold_day", "macroform-robot_dity", "reno_project-system"]
NOISES = ["white", "pink", "brown", "fan", "car", "hum", "babble", "music", "moh"]   # + --soundtrack, --rumble
SOUNDTRACKS = "/usr/share/games/warzone2100/music/albums/*/*.opus"
SOUNDTRACK_SECS = 180          # at most this much of each track, from a seeded offset


def is_dev(key):
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 10 == 0


def load16k(path):
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if sr != SR:
        g = np.gcd(sr, SR)
        x = ss.resample_poly(x, SR // g, sr // g).astype(np.float32)
    return x


def tts(rng, tmp, n_espeak, n_flite):
    """(key, samples) of synthetic utterances."""
    out = []
    for i in range(n_espeak + n_flite):
        words = " ".join(rng.choice(WORDS, int(rng.integers(3, 14))))
        wav = os.path.join(tmp, "t.wav")
        if i < n_espeak:
            v = ESPEAK_VOICES[rng.integers(len(ESPEAK_VOICES))] + ESPEAK_VARIANTS[rng.integers(len(ESPEAK_VARIANTS))]
            cmd = ["espeak-ng", "-v", v, "-s", str(int(rng.integers(110, 220))), "-p", str(int(rng.integers(15, 85))),
                   "-w", wav, words]
            key = "espeak:%s:%s" % (v, words)
        else:
            v = FLITE_VOICES[rng.integers(len(FLITE_VOICES))]
            cmd = ["flite", "-voice", v, "--setf", "duration_stretch=%.2f" % rng.uniform(0.75, 1.35),
                   "-t", words, "-o", wav]
            key = "flite:%s:%s" % (v, words)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        x = load16k(wav)
        if len(x) > SR // 4:
            out.append((key, x))
    return out


def speech_pool(cache, rng):
    if os.path.exists(cache):
        d = np.load(cache, allow_pickle=False)
        keys = list(d["keys"])
        offs, data = d["offs"], d["data"]
        return [(k, data[offs[i]:offs[i + 1]]) for i, k in enumerate(keys)]
    pool = []
    with tempfile.TemporaryDirectory() as tmp:
        pool += tts(rng, tmp, 700, 250)
    files = sorted(glob.glob("/usr/share/games/hedgewars/Data/Sounds/voices/*/*.ogg"))
    files += sorted(rng.choice(sorted(glob.glob("/usr/share/klettres/**/*.ogg", recursive=True)), 700,
                               replace=False))
    for d in ("fr_CA_f_June", "it_IT_m_Carlo", "ru_RU_f_IvrvoiceRU"):
        fs = sorted(glob.glob("/usr/share/asterisk/sounds/%s/**/*.wav" % d, recursive=True))
        fs = [f for f in fs if "silence" not in f and "beep" not in os.path.basename(f)
              and "tone" not in os.path.basename(f)]
        files += sorted(rng.choice(fs, min(250, len(fs)), replace=False))
    for f in files:
        try:
            x = load16k(f)
        except RuntimeError:
            continue
        if len(x) > SR // 5 and np.max(np.abs(x)) > 1e-3:
            pool.append(("file:" + f, x))
    keys = np.array([k for k, _ in pool])
    offs = np.concatenate([[0], np.cumsum([len(x) for _, x in pool])])
    np.savez(cache, keys=keys, offs=offs, data=np.concatenate([x for _, x in pool]).astype(np.float32))
    return pool


def soundtrack_pool(cache, split):
    """[samples] of full-band game music for --split (tracks split by hash).
    Up to SOUNDTRACK_SECS per track from an offset drawn with a fixed seed;
    cached as float16 (decoding 29 Opus tracks takes a minute)."""
    if not os.path.exists(cache):
        rng = np.random.default_rng(4242)
        files = sorted(glob.glob(SOUNDTRACKS))
        if not files:
            sys.exit("no %s: run tools/setup-train-deps" % SOUNDTRACKS)
        keys, segs = [], []
        for f in files:
            x = load16k(f)
            m = SOUNDTRACK_SECS * SR
            s0 = int(rng.integers(0, max(1, len(x) - m)))
            keys.append(f)
            segs.append(x[s0:s0 + m].astype(np.float16))
        offs = np.concatenate([[0], np.cumsum([len(x) for x in segs])])
        np.savez(cache, keys=np.array(keys), offs=offs, data=np.concatenate(segs))
    d = np.load(cache, allow_pickle=False)
    keys, offs, data = list(d["keys"]), d["offs"], d["data"]
    return [data[offs[i]:offs[i + 1]].astype(np.float32) for i, k in enumerate(keys)
            if is_dev(k) == (split == "dev")]


def source_kind(key):
    if key.startswith("file:"):
        return "hedgewars" if "hedgewars" in key else ("klettres" if "klettres" in key else "asterisk")
    return key.split(":")[0]


NS_LEAD_S = 1.5   # --frontend-ns: lead-in run through the NS/AGC and dropped


def make_noise(kind, n, rng, pool, moh, tracks):
    if kind == "babble":
        x = np.zeros(n)
        for _ in range(int(rng.integers(4, 8))):
            pos = 0
            while pos < n:
                u = pool[rng.integers(len(pool))][1]
                u = u / (np.std(u) + 1e-9)
                m = min(len(u), n - pos)
                x[pos:pos + m] += u[:m]
                pos += m + int(rng.integers(0, SR // 4))
        return (x / (np.std(x) + 1e-12)).astype(np.float32)
    if kind == "music":
        return scenes.music(n, rng)
    if kind == "rumble":
        # HVAC / engine-idle rumble: noise low-passed at 40-150 Hz (one pole),
        # a slow tremolo and sometimes a mains/blade tone
        a = np.exp(-2 * np.pi * rng.uniform(40, 150) / SR)
        x = ss.lfilter([1 - a], [1, -a], rng.standard_normal(n))
        t = np.arange(n) / SR
        x = x / (np.std(x) + 1e-12) * (1 + rng.uniform(0, 0.4) * np.sin(2 * np.pi * rng.uniform(3, 30) * t))
        if rng.random() < 0.5:
            x = x + rng.uniform(0.05, 0.3) * np.sin(2 * np.pi * rng.uniform(50, 150) * t)
        return (x / (np.std(x) + 1e-12)).astype(np.float32)
    if kind in ("moh", "soundtrack"):
        src = moh if kind == "moh" else tracks
        tr = src[rng.integers(len(src))]
        s = int(rng.integers(0, len(tr) - n))
        x = tr[s:s + n]
        return (x / (np.std(x) + 1e-12)).astype(np.float32)
    return scenes.noise(kind, n, rng)


def make_clip(rng, pool, moh, tracks, secs, noises):
    n = int(secs * SR)
    speech = np.zeros(n + SR, dtype=np.float64)
    lab = np.zeros((n + SR) // features.HOP, dtype=np.float32)
    kinds = []
    if rng.random() > 0.12:                      # 12 % noise-only clips
        pos = int(rng.uniform(0, 1.5) * SR)
        while pos < n - SR // 4:
            key, u = pool[rng.integers(len(pool))]
            kinds.append(source_kind(key))
            u = u.astype(np.float64) * 10 ** (rng.uniform(-8, 8) / 20) / (np.std(u) + 1e-9)
            if rng.random() < 0.1:
                u = u * np.linspace(rng.uniform(0.2, 1), rng.uniform(0.2, 1), len(u))   # level drift
            m = min(len(u), n + SR - pos)
            ul = scenes.speech_labels(u[:m])
            speech[pos:pos + m] += u[:m]
            f0 = pos // features.HOP
            lab[f0:f0 + len(ul)] = np.maximum(lab[f0:f0 + len(ul)], ul)
            pos += m + int(rng.uniform(0.2, 2.5) * SR)
    clean = speech[:n]
    lab = lab[: n // features.HOP]
    if rng.random() < 0.5:
        clean = scenes.reverb(clean, rng)[:n]
    # noise: one or two kinds
    nk = 1 + int(rng.random() < 0.3)
    nz = np.zeros(n)
    names = []
    for _ in range(nk):
        k = noises[rng.integers(len(noises))]
        names.append(k)
        nz += make_noise(k, n, rng, pool, moh, tracks) * rng.uniform(0.3, 1.0)
    snr = rng.uniform(-5, 25)
    if lab.sum() > 0:
        g = scenes.scale_to_snr(clean, nz, lab, snr)
    else:
        g = 1.0
    x = clean + g * nz
    if rng.random() < 0.2:                         # band-limited front ends
        x = ss.sosfilt(ss.butter(4, rng.uniform(3500, 7500), fs=SR, output="sos"), x)
    if rng.random() < 0.3:
        x = ss.sosfilt(ss.butter(2, rng.uniform(50, 300), "highpass", fs=SR, output="sos"), x)
    level = 10 ** (rng.uniform(-45, -8) / 20)      # overall level, dBFS rms
    x = x * level / (np.std(x) + 1e-12)
    x = np.clip(x, -1, 1).astype(np.float32)
    return x, lab, "+".join(names), snr, kinds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="build/h-vad/vaddata")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clips", type=int, default=3000)
    ap.add_argument("--secs", type=float, default=5.0)
    ap.add_argument("--split", choices=["train", "dev"], default="train")
    ap.add_argument("--soundtrack", action="store_true",
                    help="add full-band game music (warzone2100) as a tenth noise kind (changes every draw)")
    ap.add_argument("--rumble", action="store_true",
                    help="add low-frequency rumble (HVAC, engine idle) as a further noise kind (changes every draw)")
    ap.add_argument("--save-wavs", type=int, default=0, help="also write the first N clips as wav")
    ap.add_argument("--frontend-ns", action="store_true",
                    help="clips as harkd's VAD hears them: each clip is made %.1f s longer, run through the "
                         "front end's noise suppression + AGC (harkml.ns_agc = src/fe_ns_agc.c), and the "
                         "lead-in cut off again (so the stage's noise estimate and gain come from what "
                         "went before, as on a stream)" % NS_LEAD_S)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    pool_all = speech_pool(os.path.join(a.out, "speech_pool.npz"), np.random.default_rng(12345))
    pool = [p for p in pool_all if is_dev(p[0]) == (a.split == "dev")]
    moh = [load16k("/usr/share/asterisk/moh/%s.wav" % t) for t in MOH_TRAIN]
    tracks = soundtrack_pool(os.path.join(a.out, "soundtrack_pool.npz"), a.split) if a.soundtrack else []
    noises = NOISES + ["soundtrack"] * a.soundtrack + ["rumble"] * a.rumble
    rng = np.random.default_rng(a.seed + (1000 if a.split == "dev" else 0))
    T = int(a.secs * SR) // features.HOP
    X = np.zeros((a.clips, T, features.BANDS), dtype=np.float16)
    Y = np.zeros((a.clips, T), dtype=np.uint8)
    manifest = []
    lead = int(NS_LEAD_S * SR) // features.HOP if a.frontend_ns else 0
    for i in range(a.clips):
        x, lab, nk, snr, kinds = make_clip(rng, pool, moh, tracks, a.secs + lead * features.HOP / SR, noises)
        if lead:
            x = ns_agc.process(x)[lead * features.HOP:]
            lab = lab[lead:]
        X[i] = features.logmel(x)[:T]
        Y[i] = lab[:T]
        manifest.append("%d\t%s\t%.1f\t%s" % (i, nk, snr, ",".join(sorted(set(kinds)))))
        if i < a.save_wavs:
            sf.write(os.path.join(a.out, "%s_%04d.wav" % (a.split, i)), x, SR)
        if i % 500 == 0:
            print("%s clip %d/%d" % (a.split, i, a.clips), flush=True)
    np.savez(os.path.join(a.out, "%s.npz" % a.split), X=X, Y=Y)
    with open(os.path.join(a.out, "%s_manifest.tsv" % a.split), "w") as f:
        f.write("\n".join(manifest) + "\n")
    print("%s: %d clips x %d frames, speech %.1f %%, pool %d utterances (of %d)"
          % (a.split, a.clips, T, 100 * Y.mean(), len(pool), len(pool_all)))


if __name__ == "__main__":
    main()
