#!/usr/bin/python3
"""gen_wake_corpus.py - synthetic corpus for training and testing a wake-word
detector (default phrase "hey nova"; any phrase with --phrase).

Everything is deterministic for a given --seed: the job list (texts, voices,
speeds, pitches) comes from one seeded generator, noises and room responses
from numpy generators seeded per item, and the engines themselves
(espeak-ng, flite, festival) are deterministic.

Sources (all allowed for training, see /work/shared/testdata.md): espeak-ng
(gmw/ English voices with their variants, and for training also 23
non-English language voices with the phrase respelt per language; never the
mb-* MBROLA voices), flite (kal16, kal, awb, rms, slt), festival (kal, ked,
slt-hts; for training also the Czech dita/krb/machac/ph, Finnish lj/mv and
Russian nsh voices), the pocketsphinx-testdata LibriVox and command clips
(real speech). Held-out sources (asterisk-core-sounds-en*, SVOX Pico,
MBROLA, hedgewars music) are never used.

Splits are by voice: espeak-ng variants are partitioned into
train / val / test sets; flite kal16, rms, slt, festival kal, slt-hts and
all non-English voices are training voices; flite awb, kal (8 kHz) and
festival ked are only in val and test (with different seeds per split).
Real-speech clips are partitioned file by file. Training clips are
resampled by 0.82-1.20 (vocal-tract length: pitch and formants) and 75 % of
them time-stretched back to 0.9-1.1 x their duration (sox tempo); val and
test clips keep the first round's jobs exactly (resample 0.93-1.07), so
their streams are identical between rounds for the same --seed.

Output (under --out, e.g. build/wake-data/hey_nova):
  clips/<split>/<label>/<id>.wav   clean, trimmed, 16 kHz mono, peak -3 dBFS
  manifest.csv                     id,split,label,text,engine,voice,rate,pitch,
                                   resample,start,end (speech start/end, samples)
  noise/<split>_<kind>.wav         60 s noises: white pink brown fan car hum
                                   music (synthetic chords) babble (TTS speech)
  rirs/<split>.npy                 synthetic room responses (object array)
  streams/<split>_{pos,conf,neg}.wav + .csv   val/test evaluation streams:
        far-field (room response on 80 % of the events) + noise at
        0-20 dB SNR; the csv lists per event: kind,text,voice,start_s,
        end_s (phrase end),snr_db,rt60_s
  corpus.json                      the arguments and counts

Usage (tools/setup-train-deps installs the engines and voices):
  nice /usr/bin/python3 tools/train/gen_wake_corpus.py --out build/wake-data/hey_nova \
      --n-pos 4000 --n-conf 3000 --n-unrel 2500
  nice /usr/bin/python3 tools/train/gen_wake_corpus.py --phrase "hey jarvis" \
      --out build/wake-data/hey_jarvis
"""
import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from fractions import Fraction
from multiprocessing import Pool

import numpy as np
import soundfile as sf
from scipy.signal import fftconvolve, lfilter, resample_poly, butter

SR = 16000

ESPEAK_BASES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
                "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
ESPEAK_VARIANTS = {
    "train": ["", "m1", "m2", "m4", "m5", "m7", "f1", "f3", "f4", "klatt", "klatt2",
              "klatt4", "Andy", "annie", "Alex", "belinda", "boris", "david", "ed",
              "john", "linda", "max", "michael", "paul", "robert", "steph", "travis",
              "grandma", "whisper", "iven", "Storm", "anika"],
    "val": ["m6", "f5", "klatt5", "Mike", "aunty", "edward", "Gene", "shelby"],
    "test": ["m3", "f2", "klatt3", "klatt6", "Andrea", "Lee", "adam", "benjamin",
             "caleb", "norbert", "quincy", "victor", "m8"],
}
FLITE_VOICES = {"train": ["kal16", "rms", "slt"], "val": ["awb", "kal"], "test": ["awb", "kal"]}
FEST_VOICES = {"train": ["kal", "slt"], "val": ["ked"], "test": ["ked"]}
FEST_CMD = {"kal": "(voice_kal_diphone)", "ked": "(voice_ked_diphone)",
            "slt": "(voice_cmu_us_slt_arctic_hts)",
            # non-English festival voices (training only, see LANG_SPELL)
            "cs-dita": "(voice_czech_dita)", "cs-krb": "(voice_czech_krb)",
            "cs-machac": "(voice_czech_machac)", "cs-ph": "(voice_czech_ph)",
            "fi-lj": "(voice_suo_fi_lj_diphone)", "fi-mv": "(voice_hy_fi_mv_diphone)",
            "ru-nsh": "(voice_msu_ru_nsh_clunits)"}
FEMALE = {"slt"}

# ---- wider TRAINING voices (issue 4: the first model learnt its ~10 training
# voices, not the phrase). None of these appear in val or test, whose job
# lists (voices, seeds, draws) are unchanged so that test numbers stay
# comparable between rounds.
#
# espeak-ng variants never used in val/test (nor near-duplicates of them such
# as Gene2/edward2), for training only, on top of ESPEAK_VARIANTS["train"].
ESPEAK_TRAIN_EXTRA_VARIANTS = ["Alicia", "Denis", "Diogo", "Henrique", "Hugo", "Jacky", "Marco",
                               "Mario", "Nguyen", "antonio", "croak", "gustave", "grandpa",
                               "iven2", "iven3", "marcelo", "michel", "miguel", "pablo",
                               "pedro", "rob", "sandro", "steph2", "steph3", "zac", "whisperf"]
# Non-English espeak-ng / festival voices speaking the phrase. Per language,
# the spelling of "hey" and "nova" whose rendering is close to /heI noUv@/
# (checked with espeak-ng -x: e.g. de "hej nowa" -> h'e:j n'o:vA:); every
# other word of a text (confusables, unrelated sentences) is read with the
# language's own letter-to-sound rules, so the same voices also produce the
# negatives and voice identity says nothing about the label. Languages that
# drop the /h/ (it, es without respelling, fr, ca) are not used: their
# "ei nova" would teach the model to accept "a nova". ru gets a Cyrillic
# transliteration of the whole text. Never mb-* (MBROLA).
LANG_SPELL = {
    "de": {"hey": "hej", "nova": "nowa"}, "nl": {}, "is": {}, "fi": {"hey": "hei"},
    "hu": {"hey": "hej"}, "cs": {"hey": "hej"}, "sk": {"hey": "hej"}, "ro": {"hey": "hei"},
    "tr": {}, "id": {}, "ms": {}, "sw": {}, "lv": {}, "lt": {}, "et": {}, "cy": {},
    "eo": {"hey": "hej"}, "pl": {"hey": "hej", "nova": "nowa"}, "hr": {"hey": "hej"},
    "sv": {"hey": "hej", "nova": "nåva"}, "nb": {"hey": "hei", "nova": "nåva"},
    "pt-br": {"hey": "rei", "nova": "nóva"}, "es": {"hey": "jei"},
    "ru": {"hey": "хэй", "nova": "нова"},
}
ESPEAK_LANGS = ["de", "nl", "is", "fi", "hu", "cs", "sk", "ro", "tr", "id", "ms", "sw", "lv",
                "lt", "et", "cy", "eo", "pl", "hr", "sv", "nb", "pt-br", "es"]
FEST_LANG_VOICES = {"cs-dita": "cs", "cs-krb": "cs", "cs-machac": "cs", "cs-ph": "cs",
                    "fi-lj": "fi", "fi-mv": "fi", "ru-nsh": "ru"}
_RU = {"sh": "ш", "ch": "ч", "th": "з", "oo": "у", "ee": "и", "a": "а", "b": "б", "c": "к",
       "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х", "i": "и", "j": "дж", "k": "к", "l": "л",
       "m": "м", "n": "н", "o": "о", "p": "п", "q": "к", "r": "р", "s": "с", "t": "т", "u": "у",
       "v": "в", "w": "у", "x": "кс", "y": "й", "z": "з"}


def lang_text(text, lang):
    """text (English, lower or mixed case) respelt for a non-English voice."""
    sp = LANG_SPELL.get(lang, {})
    out = []
    for tok in text.split(" "):
        core = tok.strip(",.!?")
        if not core:
            out.append(tok)
            continue
        a = tok.index(core)
        pre, post = tok[:a], tok[a + len(core):]
        w = core.lower()
        for k, v in sp.items():
            if w == k:
                w = v
            elif k == "nova" and w.endswith("nova"):      # supernova
                w = w[:-4] + v
        if lang == "ru":
            r, i = "", 0
            while i < len(w):
                if w[i:i + 2] in _RU:
                    r += _RU[w[i:i + 2]]
                    i += 2
                else:
                    r += _RU.get(w[i], w[i])
                    i += 1
            w = r
        out.append(pre + w + post)
    return " ".join(out)


# Real speech (pocketsphinx-testdata), split file by file.
PS = "/usr/share/pocketsphinx/test/data"
REAL = {
    "train": ["librivox/sense_and_sensibility_01_austen_64kb-0870.wav",
              "librivox/sense_and_sensibility_01_austen_64kb-0880.wav",
              "librivox/sense_and_sensibility_01_austen_64kb-0890.wav",
              "cards/001.wav", "cards/002.wav", "cards/003.wav"],
    "val": ["librivox/sense_and_sensibility_01_austen_64kb-0920.wav", "goforward.raw",
            "cards/004.wav"],
    "test": ["librivox/sense_and_sensibility_01_austen_64kb-0930.wav", "numbers.raw",
             "something.raw", "cards/005.wav"],
}

CONFUSABLES = {
    "hey nova": ["hey noah", "a nova", "bossa nova", "hey nora", "hey now", "hey over",
                 "say nova", "hey nevada", "hey november", "they know", "heavy nova",
                 "hey novak", "hey no va", "hey, no, wait", "hay nova scotia", "hey jova",
                 "hey mona", "hey rover", "okay nova", "hey nobody", "nova", "hey",
                 "hey noble", "hey, know what", "hey, go ahead", "supernova", "hey, no way"],
    "hey jarvis": ["hey travis", "hey jar", "jarvis", "hey harvest", "hey service",
                   "a jarvis", "hey jervis", "hey carla", "hey jazz", "hey marvin",
                   "hey jarred", "hey chavez", "hey garlic", "hey", "say jarvis",
                   "hey, jars of it", "hey darling", "hey, start this"],
}
# The subset the evaluation reports as "confusable accept rate" (issue 4's list).
EVAL_CONFUSABLES = {
    "hey nova": ["hey noah", "a nova", "bossa nova", "hey nora", "hey now", "hey over",
                 "say nova", "hey nevada", "hey november", "they know", "heavy nova",
                 "hey novak"],
    "hey jarvis": ["hey travis", "hey jar", "jarvis", "hey harvest", "hey service",
                   "a jarvis", "hey jervis", "hey marvin", "say jarvis", "hey darling"],
}

FOLLOW_UPS = ["what's the weather like", "turn on the lights", "play some music",
              "what time is it", "set a timer for ten minutes", "tell me a joke",
              "how tall is the eiffel tower", "call mom", "stop", "volume up"]

SENTENCES = [
    "the quick brown fox jumps over the lazy dog",
    "please remember to buy milk and bread on the way home",
    "the meeting has been moved to thursday afternoon",
    "it looks like it is going to rain again today",
    "can you pass me the salt please",
    "we should probably leave before the traffic gets worse",
    "my favourite colour has always been green",
    "the train to the city leaves every twenty minutes",
    "she said that the report would be ready by friday",
    "there is a small cafe around the corner from the station",
    "turn left at the next junction and keep going straight",
    "the children are playing in the garden",
    "i think we need a bigger boat",
    "the price of coffee went up again this month",
    "he forgot his umbrella on the bus",
    "the library opens at nine in the morning",
    "our neighbours are having a party tonight",
    "the football match ended in a draw",
    "could you repeat that a little more slowly",
    "the soup needs a bit more pepper",
    "they are building a new bridge across the river",
    "i left my keys on the kitchen table",
    "the dog barked at the postman again",
    "the movie starts at half past eight",
    "a cold wind blew across the empty field",
    "we watched the news after dinner",
    "the computer needs to be restarted",
    "every morning he walks to work",
    "she plays the violin in an orchestra",
    "how much does a ticket to london cost",
    "the garden looks beautiful in spring",
    "never mind, it was not important",
    "hello there, how are you doing",
    "hey, did you see that",
    "no, i don't know where it is",
    "over there next to the window",
    "now is not a good time",
    "the novel was longer than i expected",
    "they moved to nevada last november",
    "noah and nora went to the shop",
    "hey everybody, dinner is ready",
    "the heavy box is in the hall",
    "i know, i know, we are late",
]
WORDS = ("time people year way day man thing woman life child world school state family "
         "student group country problem hand part place case week company system program "
         "question work government number night point home water room mother area money "
         "story fact month lot right study book eye job word business issue side kind head "
         "house service friend father power hour game line end member law car city name "
         "team minute idea kid body information back parent face others level office door "
         "health person art war history party result change morning reason research girl "
         "guy moment air teacher force education foot boy age policy music market sense "
         "nation plan college interest death experience effect class control care field "
         "development role effort rate heart drug show leader light voice wife police mind "
         "price report decision son view relationship town road arm difference value "
         "building action model season society tax director position player record paper "
         "space ground form event official matter center couple site project activity star "
         "table need court oil situation cost industry figure street image phone data "
         "picture practice piece land product doctor wall patient worker news test movie "
         "north love support technology step baby computer type attention film tree source "
         "organization hair window evidence population site truck garden kitchen bridge "
         "always never often quickly slowly really very quite rather about around after "
         "before under over between against during without within along across behind "
         "go make take see know get give find think tell become show leave feel put bring "
         "begin keep hold write stand hear let mean set meet run pay sit speak lie lead read "
         "grow lose fall send build understand draw break spend cut rise drive buy wear choose").split()


def stable_seed(*parts):
    return zlib.crc32("|".join(str(p) for p in parts).encode()) & 0x7fffffff


def random_sentence(rng):
    if rng.random() < 0.45:
        return rng.choice(SENTENCES)
    n = rng.randint(4, 12)
    return " ".join(rng.choice(WORDS) for _ in range(n))


# ---------------------------------------------------------------- synthesis

def _read_any(path):
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    return x[:, 0], sr


def _resample(x, sr_in, factor):
    """Resample from sr_in to SR; factor > 1 raises pitch and tempo (the
    clip is treated as if recorded at sr_in * factor)."""
    fr = Fraction(SR, 1) / (Fraction(sr_in, 1) * Fraction(factor).limit_denominator(200))
    fr = fr.limit_denominator(1000)
    if fr == 1:
        return x.astype(np.float32)
    return resample_poly(x, fr.numerator, fr.denominator).astype(np.float32)


def synth_one(job, tmpdir):
    out = os.path.join(tmpdir, job["id"] + ".wav")
    eng, v, text = job["engine"], job["voice"], job["text"]
    if eng == "espeak":
        cmd = ["espeak-ng", "-v", v, "-s", str(job["rate"]), "-p", str(job["pitch"]),
               "-g", str(job.get("gap", 0)), "-w", out, text]
    elif eng == "flite":
        cmd = ["flite", "-voice", v, "--setf", "duration_stretch=%.3f" % job["rate"],
               "--setf", "int_f0_target_mean=%d" % job["pitch"], "-t", text, "-o", out]
    else:
        raise ValueError(eng)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    x, sr = _read_any(out)
    os.unlink(out)
    return x, sr


def synth_festival_batch(jobs, tmpdir):
    """One festival process for many utterances (start-up costs ~1 s)."""
    scm = os.path.join(tmpdir, "batch_%s.scm" % jobs[0]["id"])
    with open(scm, "w", encoding="utf-8") as f:
        f.write(FEST_CMD[jobs[0]["voice"]] + "\n")
        for j in jobs:
            f.write("(Parameter.set 'Duration_Stretch %.3f)\n" % j["rate"])
            f.write('(utt.save.wave (utt.synth (Utterance Text "%s")) "%s" \'riff)\n'
                    % (j["text"].replace('"', ''), os.path.join(tmpdir, j["id"] + ".wav")))
    subprocess.run(["festival", "-b", scm], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    res = []
    for j in jobs:
        p = os.path.join(tmpdir, j["id"] + ".wav")
        x, sr = _read_any(p)
        os.unlink(p)
        res.append((x, sr))
    os.unlink(scm)
    return res


def speech_bounds(x, rel_db=-40.0, abs_db=-60.0):
    """First and last sample of the 10 ms frames whose energy is within rel_db
    of the loudest frame (and above abs_db)."""
    n = len(x) // 160
    if n == 0:
        return 0, len(x)
    e = 10 * np.log10(np.mean(x[:n * 160].reshape(n, 160) ** 2, axis=1) + 1e-12)
    thr = max(e.max() + rel_db, abs_db)
    idx = np.nonzero(e > thr)[0]
    if len(idx) == 0:
        return 0, len(x)
    return int(idx[0] * 160), int(min(len(x), (idx[-1] + 1) * 160))


def tempo(y, factor):
    """Time-stretch by factor (> 1 faster) without changing pitch or
    formants (sox tempo -s, WSOLA); deterministic."""
    p = subprocess.run(["sox", "-t", "f32", "-r", str(SR), "-c", "1", "-", "-t", "f32", "-",
                        "tempo", "-s", "%.4f" % factor], input=y.astype("<f4").tobytes(),
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return np.frombuffer(p.stdout, dtype="<f4").astype(np.float32)


def finish_clip(x, sr, job):
    y = _resample(x, sr, job["resample"])
    tf = float(job.get("tempo", 1.0) or 1.0)
    if abs(tf - 1.0) > 1e-3 and len(y) > 1600:
        # vocal-tract-length perturbation: the resample moved pitch, formants
        # and speed together; this restores (part of) the duration
        y = tempo(y, tf)
    s, e = speech_bounds(y)
    pad = int(0.05 * SR)
    a, b = max(0, s - pad), min(len(y), e + pad)
    y = y[a:b]
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    if peak > 0:
        y = y * (10 ** (-3 / 20) / peak)
    return y.astype(np.float32), s - a, e - a


def run_jobs(args_tuple):
    jobs, outdir = args_tuple
    tmpdir = tempfile.mkdtemp(prefix="wakegen")
    rows = []
    try:
        if jobs[0]["engine"] == "festival":
            xs = synth_festival_batch(jobs, tmpdir)
        elif jobs[0]["engine"] == "real":
            xs = []
            for j in jobs:
                p = os.path.join(PS, j["voice"])
                if p.endswith(".raw"):
                    x = np.fromfile(p, dtype="<i2").astype(np.float32) / 32768.0
                    xs.append((x, 16000))
                else:
                    xs.append(_read_any(p))
        else:
            xs = [synth_one(j, tmpdir) for j in jobs]
        for j, (x, sr) in zip(jobs, xs):
            y, s, e = finish_clip(x, sr, j)
            rel = os.path.join("clips", j["split"], j["label"], j["id"] + ".wav")
            sf.write(os.path.join(outdir, rel), y, SR, subtype="PCM_16")
            r = dict(j)
            r.update(file=rel, start=s, end=e)
            rows.append(r)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return rows


def train_jobs(phrase, label, n, rng, confs):
    """Training jobs with the wide voice set (--wide, the default): engine
    mix espeak-ng English 30 %, espeak-ng other languages 25 %, flite 20 %,
    festival English 12 %, festival cs/fi/ru 13 %; every clip resampled by
    0.82-1.20 (pitch and formants, i.e. vocal-tract length) and, for 75 %,
    time-stretched back to (0.9-1.1 x) its original duration so that speed
    varies independently of the vocal tract."""
    jobs = []
    for i in range(n):
        if label == "pos":
            text = rng.choice([phrase, phrase, phrase, phrase.replace(" ", ", ", 1),
                               phrase + ".", phrase + "!", phrase.title()])
        elif label == "conf":
            text = confs[i % len(confs)]
        else:
            text = random_sentence(rng)
        res = round(rng.uniform(0.82, 1.20), 3)
        tf = round(rng.uniform(0.9, 1.1) / res, 3) if rng.random() < 0.75 else 1.0
        j = {"id": "train_%s_%05d" % (label, i), "split": "train", "label": label,
             "text": text, "resample": res, "tempo": tf, "gap": 0}
        u = rng.random()
        if u < 0.30:
            base = rng.choice(ESPEAK_BASES)
            var = rng.choice(ESPEAK_VARIANTS["train"] + ESPEAK_TRAIN_EXTRA_VARIANTS)
            j.update(engine="espeak", voice=base + ("+" + var if var else ""),
                     rate=rng.randint(100, 230), pitch=rng.randint(5, 95),
                     gap=rng.choice([0, 0, 0, 1, 2, 4, 8]))
        elif u < 0.55:
            lang = rng.choice(ESPEAK_LANGS)
            var = rng.choice(ESPEAK_VARIANTS["train"] + ESPEAK_TRAIN_EXTRA_VARIANTS)
            j.update(engine="espeak", voice=lang + ("+" + var if var else ""),
                     text=lang_text(text, lang), rate=rng.randint(100, 230),
                     pitch=rng.randint(5, 95), gap=rng.choice([0, 0, 0, 1, 2, 4, 8]))
        elif u < 0.75:
            v = rng.choice(FLITE_VOICES["train"])
            lo, hi = (140, 270) if v in FEMALE else (70, 190)
            j.update(engine="flite", voice=v, rate=round(rng.uniform(0.7, 1.4), 3),
                     pitch=rng.randint(lo, hi))
        elif u < 0.87:
            j.update(engine="festival", voice=rng.choice(FEST_VOICES["train"]),
                     rate=round(rng.uniform(0.75, 1.35), 3), pitch=0)
        else:
            v = rng.choice(sorted(FEST_LANG_VOICES))
            j.update(engine="festival", voice=v, text=lang_text(text, FEST_LANG_VOICES[v]),
                     rate=round(rng.uniform(0.75, 1.35), 3), pitch=0)
        jobs.append(j)
    return jobs


def make_jobs(phrase, counts, seed, wide=True):
    """counts: {split: {label: n}} -> job dicts, deterministic by seed.
    wide=False reproduces the first round's training voices; val and test
    jobs are the same either way."""
    jobs = []
    confs = CONFUSABLES.get(phrase) or generic_confusables(phrase)
    for split in ("train", "val", "test"):
        for label in ("pos", "conf", "unrel"):
            rng = random.Random(stable_seed(seed, split, label))
            if split == "train" and wide:
                jobs.extend(train_jobs(phrase, label, counts[split][label], rng, confs))
                continue
            for i in range(counts[split][label]):
                if label == "pos":
                    text = rng.choice([phrase, phrase, phrase, phrase.replace(" ", ", ", 1),
                                       phrase + ".", phrase + "!", phrase.title()])
                elif label == "conf":
                    pool = EVAL_CONFUSABLES.get(phrase, confs) if split == "test" else confs
                    text = pool[i % len(pool)]
                else:
                    text = random_sentence(rng)
                u = rng.random()
                j = {"id": "%s_%s_%05d" % (split, label, i), "split": split, "label": label,
                     "text": text, "resample": round(rng.uniform(0.93, 1.07), 3), "gap": 0}
                if u < 0.5:
                    base = rng.choice(ESPEAK_BASES)
                    var = rng.choice(ESPEAK_VARIANTS[split])
                    j.update(engine="espeak", voice=base + ("+" + var if var else ""),
                             rate=rng.randint(110, 220), pitch=rng.randint(15, 85),
                             gap=rng.choice([0, 0, 0, 1, 2, 4]))
                elif u < 0.8:
                    v = rng.choice(FLITE_VOICES[split])
                    lo, hi = (150, 250) if v in FEMALE else (80, 170)
                    j.update(engine="flite", voice=v, rate=round(rng.uniform(0.75, 1.35), 3),
                             pitch=rng.randint(lo, hi))
                else:
                    j.update(engine="festival", voice=rng.choice(FEST_VOICES[split]),
                             rate=round(rng.uniform(0.8, 1.3), 3), pitch=0)
                jobs.append(j)
        # real speech: each file once per split as unrelated speech
        for k, p in enumerate(REAL[split]):
            jobs.append({"id": "%s_real_%02d" % (split, k), "split": split, "label": "unrel",
                         "text": os.path.basename(p), "engine": "real", "voice": p,
                         "rate": 0, "pitch": 0, "resample": 1.0, "gap": 0})
    return jobs


def generic_confusables(phrase):
    """For a phrase without a built-in list: each word alone, each word with
    a different neighbour, and the phrase with its first vowel changed."""
    w = phrase.split()
    out = list(w)
    fillers = ["hey", "say", "okay", "a", "the", "play", "they", "hello", "now", "over"]
    for i in range(len(w)):
        for f in fillers[:4]:
            c = list(w)
            c[i] = f
            s = " ".join(c)
            if s != phrase:
                out.append(s)
    return sorted(set(out))


# ------------------------------------------------------------ noise / rooms

def make_noise(kind, seconds, seed, babble_src=None, talkers=6):
    """One noise of `kind`, rms 0.05; babble is `talkers` overlapping
    streams of the clips in babble_src."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":
        w = rng.standard_normal(n)
        b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
        a = [1, -2.494956002, 2.017265875, -0.522189400]
        x = lfilter(b, a, w)
    elif kind == "brown":
        x = np.cumsum(rng.standard_normal(n))
        x = lfilter([1, -1], [1, -0.995], x)
    elif kind == "fan":
        x = np.cumsum(rng.standard_normal(n))
        x = lfilter([1, -1], [1, -0.995], x)
        bb, aa = butter(2, 400 / (SR / 2))
        x = lfilter(bb, aa, x)
        t = np.arange(n) / SR
        x = x * (1 + 0.2 * np.sin(2 * np.pi * 23 * t)) + 0.05 * x.std() * np.sin(
            2 * np.pi * 120 * t + rng.uniform(0, 6))
    elif kind == "car":
        x = np.cumsum(rng.standard_normal(n))
        x = lfilter([1, -1], [1, -0.998], x)
        bb, aa = butter(2, 250 / (SR / 2))
        x = lfilter(bb, aa, lfilter(bb, aa, x))
    elif kind == "hum":
        t = np.arange(n) / SR
        f0 = rng.choice([50.0, 60.0])
        x = sum(np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6)) / h for h in (1, 3, 5))
        x = x + 0.1 * rng.standard_normal(n)
    elif kind == "music":
        x = np.zeros(n)
        t0 = 0
        while t0 < n:
            dur = int(rng.uniform(0.15, 0.8) * SR)
            seg = np.arange(min(dur, n - t0)) / SR
            env = np.exp(-seg * rng.uniform(1.5, 6))
            root = 110 * 2 ** (rng.integers(0, 24) / 12)
            for iv in rng.choice([0, 3, 4, 7, 10, 12], size=3, replace=False):
                f = root * 2 ** (iv / 12)
                for h in range(1, 6):
                    if f * h < 7000:
                        x[t0:t0 + len(seg)] += env * np.sin(2 * np.pi * f * h * seg) / h ** 1.3
            t0 += dur
        # a drum-ish noise burst on the beat
        beat = int(SR * 60 / rng.uniform(80, 140))
        for k in range(0, n, beat):
            m = min(2000, n - k)
            x[k:k + m] += 0.5 * rng.standard_normal(m) * np.exp(-np.arange(m) / 300)
    elif kind == "babble":
        x = np.zeros(n)
        for k in range(talkers):
            pos = 0
            order = rng.permutation(len(babble_src))
            i = 0
            while pos < n:
                c = babble_src[order[i % len(order)]]
                i += 1
                m = min(len(c), n - pos)
                x[pos:pos + m] += c[:m] / (np.sqrt(np.mean(c ** 2)) + 1e-9)
                pos += m + int(rng.uniform(0.0, 0.3) * SR)
    else:
        raise ValueError(kind)
    x = np.asarray(x, dtype=np.float64)
    x = x / (np.sqrt(np.mean(x ** 2)) + 1e-12) * 0.05
    return x.astype(np.float32)


NOISE_KINDS = ["white", "pink", "brown", "fan", "car", "hum", "music", "babble"]


def make_rir(rng, rt60=None):
    """Stochastic room response: direct path + sparse early reflections +
    exponentially decaying noise tail with a high-frequency decay faster than
    the low one. rt60 in seconds; the direct-to-reverberant ratio follows
    from a random source distance (0.5-4 m)."""
    if rt60 is None:
        rt60 = float(rng.uniform(0.15, 0.9))
    n = int(min(1.2, rt60 * 1.1) * SR)
    t = np.arange(n) / SR
    dist = float(rng.uniform(0.5, 4.0))
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    hf = rng.standard_normal(n) * np.exp(-6.9 * t / (rt60 * 0.5))
    bb, aa = butter(1, 1500 / (SR / 2))
    tail = lfilter(bb, aa, tail) + (hf - lfilter(bb, aa, hf)) * 0.7
    onset = int(0.003 * SR)
    tail[:onset] = 0
    h = np.zeros(n)
    for _ in range(int(rng.integers(4, 10))):
        k = int(rng.uniform(0.002, 0.03) * SR)
        h[k] += rng.uniform(-0.6, 0.6)
    # reverberant energy relative to direct grows with distance (critical
    # distance ~1 m in a living room)
    rev_energy = (dist / 1.0) ** 2 * rt60 / 0.5
    tail = tail / np.sqrt(np.sum(tail ** 2) + 1e-12) * np.sqrt(rev_energy)
    h = h * np.sqrt(rev_energy) * 0.3 + tail
    h[0] = 1.0
    return h.astype(np.float32), rt60


# ------------------------------------------------------------ augmentation

def rms(x):
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2) + 1e-20))


def active_rms(x):
    """rms over the 10 ms frames within 30 dB of the loudest (speech level)."""
    n = len(x) // 160
    if n == 0:
        return rms(x)
    e = np.mean(x[:n * 160].reshape(n, 160).astype(np.float64) ** 2, axis=1)
    m = e > e.max() * 1e-3
    return float(np.sqrt(e[m].mean() + 1e-20))


def reverb(x, h):
    if h is None:
        return x.astype(np.float32)
    return fftconvolve(x, h)[:len(x) + len(h) - 1].astype(np.float32)


def noise_slice(noise, n, rng):
    if len(noise) >= n:
        k = int(rng.integers(0, len(noise) - n + 1))
        return noise[k:k + n]
    reps = int(np.ceil(n / len(noise)))
    return np.tile(noise, reps)[:n]


# ------------------------------------------------------------ streams

def build_stream(path, events, noises, rirs, rng, total_s=None, lead=(1.0, 2.5),
                 tail=(0.8, 1.5), follow_p=0.0, follow_clips=None, near_p=0.2):
    """Concatenate events (list of (clip, start, end, meta)) with noise gaps,
    each reverberated with a random room (or dry with probability near_p),
    at a random level and SNR; noise runs through the whole stream. When
    total_s is given, events are cycled (new augmentation each time) until
    the stream is that long. Writes path (wav) and path.csv."""
    parts = []
    rows = []
    pos = 0
    i = 0
    nk = list(noises.keys())
    while True:
        if total_s is None and i >= len(events):
            break
        if total_s is not None and pos >= total_s * SR:
            break
        clip, s, e, meta = events[i % len(events)]
        i += 1
        if rng.random() < near_p:
            h, rt = None, 0.0
        else:
            h, rt = rirs[int(rng.integers(0, len(rirs)))]
        y = reverb(clip, h)
        if follow_clips is not None and rng.random() < follow_p:
            fc = follow_clips[int(rng.integers(0, len(follow_clips)))]
            gap = np.zeros(int(rng.uniform(0.1, 0.4) * SR), np.float32)
            fy = reverb(fc, h)
            tot = np.zeros(len(clip) + len(gap) + len(fy), np.float32)
            tot[:len(y)] += y[:len(tot)]
            tot[len(clip) + len(gap):] += fy[:len(tot) - len(clip) - len(gap)]
            y = tot
        level_db = rng.uniform(-38, -18)
        y = y * (10 ** (level_db / 20) / (active_rms(clip) + 1e-9))
        snr = float(rng.uniform(0, 20))
        lead_n = int(rng.uniform(*lead) * SR)
        tail_n = int(rng.uniform(*tail) * SR)
        seg = np.zeros(lead_n + len(y) + tail_n, np.float32)
        seg[lead_n:lead_n + len(y)] = y
        kind = nk[int(rng.integers(0, len(nk)))]
        nz = noise_slice(noises[kind], len(seg), rng)
        speech_level = 10 ** (level_db / 20)
        seg += nz * (speech_level / (rms(nz) + 1e-12) * 10 ** (-snr / 20))
        rows.append(dict(kind=meta["label"], text=meta["text"], voice=meta["engine"] + ":" + meta["voice"],
                         start_s=round((pos + lead_n + s) / SR, 3),
                         end_s=round((pos + lead_n + e) / SR, 3),
                         snr_db=round(snr, 1), rt60_s=round(rt, 2), noise=kind))
        parts.append(seg)
        pos += len(seg)
    x = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    peak = float(np.max(np.abs(x))) if len(x) else 0
    if peak > 0.99:
        x *= 0.99 / peak
    sf.write(path, x, SR, subtype="PCM_16")
    with open(path[:-4] + ".csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()) if rows else ["kind"])
        w.writeheader()
        w.writerows(rows)
    return len(x) / SR, len(rows)


def load_manifest(outdir):
    with open(os.path.join(outdir, "manifest.csv")) as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["start"] = int(r["start"])
        r["end"] = int(r["end"])
    return rows


def load_clip(outdir, row):
    x, _ = sf.read(os.path.join(outdir, row["file"]), dtype="float32")
    return x


def load_noises(outdir, split):
    d = {}
    for k in NOISE_KINDS:
        d[k], _ = sf.read(os.path.join(outdir, "noise", "%s_%s.wav" % (split, k)), dtype="float32")
    return d


def load_rirs(outdir, split):
    return list(np.load(os.path.join(outdir, "rirs", split + ".npy"), allow_pickle=True))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--phrase", default="hey nova")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n-pos", type=int, default=2400, help="training positives")
    ap.add_argument("--n-conf", type=int, default=2000, help="training confusables")
    ap.add_argument("--n-unrel", type=int, default=1500, help="training unrelated sentences")
    ap.add_argument("--n-eval", type=int, default=300,
                    help="val and test positives (and confusables) each")
    ap.add_argument("--neg-val-min", type=float, default=20, help="val negative stream, minutes")
    ap.add_argument("--neg-test-min", type=float, default=60, help="test negative stream, minutes")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--narrow", action="store_true",
                    help="the first round's training voices (English only, resample 0.93-1.07)")
    a = ap.parse_args()
    phrase = a.phrase.lower().strip()
    t0 = time.time()
    counts = {"train": {"pos": a.n_pos, "conf": a.n_conf, "unrel": a.n_unrel},
              "val": {"pos": a.n_eval, "conf": a.n_eval, "unrel": 400},
              "test": {"pos": a.n_eval, "conf": a.n_eval, "unrel": 700}}
    for split in counts:
        for label in ("pos", "conf", "unrel"):
            os.makedirs(os.path.join(a.out, "clips", split, label), exist_ok=True)
    for d in ("noise", "rirs", "streams"):
        os.makedirs(os.path.join(a.out, d), exist_ok=True)
    jobs = make_jobs(phrase, counts, a.seed, wide=not a.narrow)
    # Batches: festival per voice in chunks of 60; others chunks of 40.
    batches = []
    for eng in ("festival", "espeak", "flite", "real"):
        sel = [j for j in jobs if j["engine"] == eng]
        if eng == "festival":
            byv = {}
            for j in sel:
                byv.setdefault(j["voice"], []).append(j)
            for v in sorted(byv):
                for k in range(0, len(byv[v]), 60):
                    batches.append(byv[v][k:k + 60])
        else:
            for k in range(0, len(sel), 40):
                batches.append(sel[k:k + 40])
    rows = []
    with Pool(a.jobs) as pool:
        for r in pool.imap_unordered(run_jobs, [(b, a.out) for b in batches]):
            rows.extend(r)
    rows.sort(key=lambda r: r["id"])
    fields = ["id", "split", "label", "text", "engine", "voice", "rate", "pitch", "resample",
              "tempo", "gap", "file", "start", "end"]
    with open(os.path.join(a.out, "manifest.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    t_tts = time.time() - t0
    print("synthesised %d clips in %.0f s" % (len(rows), t_tts), flush=True)

    # Noises and rooms per split (independent realisations).
    for si, split in enumerate(("train", "val", "test")):
        unrel = [load_clip(a.out, r) for r in rows if r["split"] == split and r["label"] == "unrel"]
        for k in NOISE_KINDS:
            x = make_noise(k, 60, stable_seed(a.seed, split, k), babble_src=unrel)
            sf.write(os.path.join(a.out, "noise", "%s_%s.wav" % (split, k)), x, SR,
                     subtype="FLOAT")
        rng = np.random.default_rng(stable_seed(a.seed, split, "rir"))
        rirs = [make_rir(rng) for _ in range(200 if split == "train" else 60)]
        arr = np.empty(len(rirs), dtype=object)
        for i, r in enumerate(rirs):
            arr[i] = r
        np.save(os.path.join(a.out, "rirs", split + ".npy"), arr, allow_pickle=True)

    # Evaluation streams for val and test.
    follow = {}
    for split in ("val", "test"):
        rng_f = random.Random(stable_seed(a.seed, split, "follow"))
        fj = []
        for i, t in enumerate(FOLLOW_UPS):
            fj.append({"id": "%s_follow_%02d" % (split, i), "split": split, "label": "unrel",
                       "text": t, "engine": "espeak", "voice": rng_f.choice(ESPEAK_BASES),
                       "rate": rng_f.randint(130, 190), "pitch": rng_f.randint(30, 70),
                       "resample": 1.0, "gap": 0})
        tmp = tempfile.mkdtemp(prefix="wakefollow")
        follow[split] = []
        for j in fj:
            x, sr = synth_one(j, tmp)
            follow[split].append(finish_clip(x, sr, j)[0])
        shutil.rmtree(tmp, ignore_errors=True)
    summary = {}
    for split, neg_min in (("val", a.neg_val_min), ("test", a.neg_test_min)):
        noises = load_noises(a.out, split)
        rirs = load_rirs(a.out, split)
        for label, kw in (("pos", dict(follow_p=0.3, follow_clips=follow[split])),
                          ("conf", {}),
                          ("neg", dict(total_s=neg_min * 60, lead=(0.2, 1.5), tail=(0.0, 0.5)))):
            src = "unrel" if label == "neg" else label
            ev = [(load_clip(a.out, r), r["start"], r["end"], r) for r in rows
                  if r["split"] == split and r["label"] == src]
            rng = np.random.default_rng(stable_seed(a.seed, split, label, "stream"))
            p = os.path.join(a.out, "streams", "%s_%s.wav" % (split, label))
            dur, nev = build_stream(p, ev, noises, rirs, rng, **kw)
            summary["%s_%s" % (split, label)] = {"seconds": round(dur, 1), "events": nev}
            print("%s: %.1f s, %d events" % (p, dur, nev), flush=True)
    info = {"phrase": phrase, "seed": a.seed, "counts": counts, "streams": summary,
            "clips": len(rows), "seconds": round(time.time() - t0, 1),
            "tts_seconds": round(t_tts, 1)}
    with open(os.path.join(a.out, "corpus.json"), "w") as f:
        json.dump(info, f, indent=1)
    print("done in %.0f s" % (time.time() - t0))


if __name__ == "__main__":
    sys.exit(main())
