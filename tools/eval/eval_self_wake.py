#!/usr/bin/python3
"""eval_self_wake.py - does the device's own playback wake it? (issue 4's
self-wake guard), and what does the guard cost a user who says the wake
word over the playback?

Scenes (hark-scene, board sim4, shoebox rooms with RT60 0.3 and 0.5 s, the
loudspeaker 5 cm under the array): the device plays an answer that says
its own wake phrase several times ("... hey nova ..."), in espeak-ng and
flite voices; nobody talks. --warm-s S (default 0) plays S seconds of an
answer without the phrase first, so the echo canceller has converged, as
on a device that has spoken before; 0 is the cold start after boot. Three detectors count wake-ups:

  raw     hark-wake on microphone 0 (a device with no echo canceller)
  aec     hark-fe --wake --no-wake-guard: the daemon's front end (AEC, beam,
          NS/AGC) and the detector, without the guard
  guard   hark-fe --wake: the same with the self-wake guard fed from the
          AEC as harkd's DSP thread feeds it, in three settings:
            old      the first guard: a raised threshold while playing
                     (playback_threshold 0.97, block at -30 dBFS residual)
            share    the normal threshold; no detection when more than half
                     of the last second was our own echo alone
                     (playback_echo_share 0.5) or the residual echo is at
                     or above -45 dBFS (playback_block_dbfs)
            default  hark.conf's defaults: both (0.97, 0.5, -45 dBFS),
                     chosen on --seed-base 100 and 500

The second set adds a user at 2 m who says "hey nova, stop" while the answer
plays (the talker 5 dB under the echo at the mics, SER -5 dB): a detection
within [phrase start - 0.3 s, phrase end + 1 s] counts as the user heard.

Everything is generated here (espeak-ng, flite, sox, hark-scene), nothing
from the held-out list of shared/testdata.md; deterministic by seed.

    /usr/bin/python3 tools/eval/eval_self_wake.py [--bin build/host/bin]
        [--model models/hey_nova.hkm] [--scenes 12] [--out build/self-wake]
"""
import argparse
import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ANSWERS = [
    "Hey nova is my name. You can say hey nova whenever you need me. Hey nova, and I will listen.",
    "When you say hey nova, I wake up. Try it: hey nova, what is the weather? That is how hey nova works.",
    "I heard hey nova. Hey nova is the wake phrase of this speaker. Say hey nova again to ask more.",
    "Your timer is set. Next time, just say hey nova. Hey nova can also set alarms. Hey nova, goodbye.",
]
VOICES = [("espeak", "en"), ("espeak", "en-us"), ("espeak", "en+f3"), ("flite", "slt"), ("espeak", "en-gb-x-rp"),
          ("flite", "kal")]
ROOMS = [("5x4x2.7", 0.3), ("6x5x3", 0.5)]


def sh(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"eval_self_wake: {' '.join(cmd)} failed:\n{r.stderr}")
    return r.stdout


def tts(engine, voice, text, out):
    raw = out + ".tts.wav"
    if engine == "espeak":
        sh(["espeak-ng", "-v", voice, "-w", raw, text])
    else:
        sh(["flite", "-voice", voice, "-t", text, "-o", raw])
    # 16 kHz, -26 dBFS RMS-ish (peak at -8 dBFS), as a loud device answer
    sh(["sox", "-R", raw, "-r", "16000", "-c", "1", "-b", "16", out, "gain", "-n", "-8"])
    os.unlink(raw)


def duration(path):
    return float(sh(["soxi", "-D", path]).strip())


GUARDS = {"old": ["--wake-guard-threshold", "0.97", "--wake-echo-share", "1", "--wake-block-dbfs", "-30"],
          "share": ["--wake-guard-threshold", "0"],
          "default": []}


def count_fe(args, mics, ref, guard):
    cmd = [os.path.join(args.bin, "hark-fe"), "--board", args.board, "--mic", mics, "--ref", ref, "--out",
           os.path.join(args.out, "fe_out.wav"), "--wake", args.model, "--wake-out",
           os.path.join(args.out, "det.csv"), "--quiet"]
    cmd += GUARDS[guard] if guard else ["--no-wake-guard"]
    line = [ln for ln in sh(cmd).splitlines() if ln.startswith("wake_detections")][0].split()
    times = [int(ln.split(",")[0]) / 1000.0 for ln in open(os.path.join(args.out, "det.csv")) if ln.strip()]
    return times, int(line[3])


def count_raw(args, mics):
    m0 = os.path.join(args.out, "mic0.wav")
    sh(["sox", "-R", mics, "-b", "16", m0, "remix", "1"])
    d = os.path.join(args.out, "raw.csv")
    sh([os.path.join(args.bin, "hark-wake"), "--model", args.model, "--in", m0, "--out", d])
    return [int(ln.split(",")[0]) / 1000.0 for ln in open(d) if ln.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(TOP, "build/host/bin"))
    ap.add_argument("--model", default=os.path.join(TOP, "models/hey_nova.hkm"))
    ap.add_argument("--board", default=os.path.join(TOP, "board/sim4/board.conf"))
    ap.add_argument("--scenes", type=int, default=12)
    ap.add_argument("--out", default=os.path.join(TOP, "build/self-wake"))
    ap.add_argument("--warm-s", type=float, default=0.0)
    ap.add_argument("--seed-base", type=int, default=100)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    sil = os.path.join(args.out, "silence.wav")
    sh(["sox", "-R", "-n", "-r", "16000", "-c", "1", "-b", "16", sil, "trim", "0", "0.5"])
    user = os.path.join(args.out, "user.wav")
    sh(["espeak-ng", "-v", "en", "-w", user + ".tts.wav", "hey nova, stop"])
    sh(["sox", "-R", user + ".tts.wav", "-r", "16000", "-c", "1", "-b", "16", user])
    user_s = duration(user)

    tot = {"phrases": 0, "raw": 0, "aec": 0, "dt": 0, "dt_aec": 0}
    for g in GUARDS:
        tot[g] = tot["dt_" + g] = 0
    print("scene  voice             room         phrases")
    for i in range(args.scenes):
        engine, voice = VOICES[i % len(VOICES)]
        text = ANSWERS[i % len(ANSWERS)]
        room, rt60 = ROOMS[i % len(ROOMS)]
        far = os.path.join(args.out, f"far{i}.wav")
        tts(engine, voice, text, far)
        if args.warm_s > 0:
            warm = os.path.join(args.out, f"warm{i}.wav")
            tts(engine, voice, "Here is the forecast for today and tomorrow. It will be sunny with light winds, "
                "a high of eighteen degrees and a low of nine. On Thursday expect some rain in the afternoon, "
                "clearing in the evening. The weekend looks dry and mild.", warm)
            both = os.path.join(args.out, f"farw{i}.wav")
            sh(["sox", "-R", warm, both, "trim", "0", str(args.warm_s)])
            sh(["sox", "-R", both, far, far + ".tmp.wav"])
            os.replace(far + ".tmp.wav", far)
        n_phr = text.lower().count("hey nova")
        far_s = duration(far)
        mics = os.path.join(args.out, f"mics{i}.wav")
        ref = os.path.join(args.out, f"ref{i}.wav")
        # 1. playback alone (a silent "talker")
        sh([os.path.join(args.bin, "hark-scene"), "--board", args.board, "--speech", sil, "--azimuth", "60",
            "--room", room, "--rt60", str(rt60), "--ref", far, "--echo-gain-db", "-6", "--seed", str(args.seed_base + i),
            "--lead-s", "2", "--tail-s", str(far_s + 1), "--snr-db", "30", "--out-mics", mics, "--out-ref", ref,
            "--quiet"])
        raw = count_raw(args, mics)
        aec, _ = count_fe(args, mics, ref, None)
        own = {g: len(count_fe(args, mics, ref, g)[0]) for g in GUARDS}
        # 2. the user says "hey nova, stop" in the middle of the answer
        t_user = 2.0 + far_s / 2
        sh([os.path.join(args.bin, "hark-scene"), "--board", args.board, "--speech", user, "--azimuth",
            str(30 + 40 * (i % 7)), "--distance-m", "1.5", "--room", room, "--rt60", str(rt60), "--ref", far,
            "--ser-db", "-5", "--seed", str(args.seed_base + 100 + i), "--lead-s", str(t_user), "--tail-s", "3", "--snr-db", "30",
            "--out-mics", mics, "--out-ref", ref, "--quiet"])

        def heard(times):
            return any(t_user - 0.3 <= t <= t_user + user_s + 1.0 for t in times)
        dt_aec = heard(count_fe(args, mics, ref, None)[0])
        dt = {g: heard(count_fe(args, mics, ref, g)[0]) for g in GUARDS}
        yn = lambda b: "yes" if b else "no"
        print(f"{i:5d}  {engine + ':' + voice:17s} {room:8s} {rt60:.1f}  {n_phr:7d} | self-wakes raw {len(raw)} "
              f"aec {len(aec)} " + " ".join(f"{g} {own[g]}" for g in GUARDS) + f" | user heard: aec {yn(dt_aec)} "
              + " ".join(f"{g} {yn(dt[g])}" for g in GUARDS))
        tot["phrases"] += n_phr
        tot["raw"] += len(raw)
        tot["aec"] += len(aec)
        tot["dt"] += 1
        tot["dt_aec"] += dt_aec
        for g in GUARDS:
            tot[g] += own[g]
            tot["dt_" + g] += dt[g]
    print()
    print(f"own playback: {tot['phrases']} wake phrases played; self-wakes: raw mic {tot['raw']}, "
          f"AEC without guard {tot['aec']}, " + ", ".join(f"guard {g} {tot[g]}" for g in GUARDS))
    print(f"user says the phrase over the playback ({tot['dt']} scenes): heard without guard {tot['dt_aec']}, "
          + ", ".join(f"guard {g} {tot['dt_' + g]}" for g in GUARDS))


if __name__ == "__main__":
    main()
