"""Scene building blocks for training and evaluating the on-device models:
noise and music synthesis, reverberation, mixing at a given SNR, and
frame labels from the clean speech. Everything is driven by an explicit
numpy Generator, so a seed gives the same scene on any machine.

Frames follow features.py: frame t is the 400-sample window ending at
sample 160 (t + 1) - 1.
"""
import numpy as np
import scipy.signal as ss

from . import features

SR = features.RATE


# ---- noise ------------------------------------------------------------------

def _shape(rng, n, slope_db_oct):
    """Gaussian noise with a power spectrum falling slope_db_oct dB/octave."""
    X = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(X)) * SR / n
    f[0] = f[1]
    X *= (f / 1000.0) ** (slope_db_oct / (20 * np.log10(2)))
    x = np.fft.irfft(X, n)
    return x / (np.std(x) + 1e-12)


def noise(kind, n, rng):
    """Unit-rms noise of a kind: white, pink, brown, fan, car, hum."""
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":
        x = _shape(rng, n, -3.0)
    elif kind == "brown":
        x = _shape(rng, n, -6.0)
    elif kind == "fan":
        fc = rng.uniform(250, 700)
        x = ss.sosfilt(ss.butter(2, fc, fs=SR, output="sos"), _shape(rng, n, -6.0))
        t = np.arange(n) / SR
        x *= 1 + rng.uniform(0.1, 0.4) * np.sin(2 * np.pi * rng.uniform(15, 30) * t)
        # blade tone
        f0 = rng.uniform(80, 200)
        x = x / (np.std(x) + 1e-12) + rng.uniform(0, 0.3) * np.sin(2 * np.pi * f0 * t + rng.uniform(0, 6.28))
    elif kind == "car":
        sos = ss.butter(2, rng.uniform(150, 350), fs=SR, output="sos")
        x = ss.sosfilt(sos, ss.sosfilt(sos, _shape(rng, n, -6.0)))
        x = x / (np.std(x) + 1e-12) + 0.05 * _shape(rng, n, -3.0)   # some road/wind hiss
    elif kind == "hum":
        t = np.arange(n) / SR
        f0 = rng.choice([50.0, 60.0])
        x = sum(rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.28))
                for k in (1, 2, 3, 5, 7)) + 0.05 * rng.standard_normal(n)
    else:
        raise ValueError(kind)
    return (x / (np.std(x) + 1e-12)).astype(np.float32)


# ---- synthetic music ----------------------------------------------------------

def _tone(rng, f0, dur, timbre):
    n = int(dur * SR)
    t = np.arange(n) / SR
    nh, tilt, inharm = timbre
    vib = 1 + 0.004 * np.sin(2 * np.pi * 5.5 * t) * (rng.random() < 0.3)
    x = np.zeros(n)
    for k in range(1, nh + 1):
        fk = f0 * k * (1 + inharm * k * k)
        if fk > 7800:
            break
        x += np.sin(2 * np.pi * fk * t * vib + rng.uniform(0, 6.28)) / k ** tilt
    a = max(1, int(rng.uniform(0.003, 0.05) * SR))
    env = np.minimum(1.0, np.arange(n) / a) * np.exp(-t * rng.uniform(0.5, 6.0))
    return x * env


def music(n, rng):
    """Unit-rms music-like signal: chords, bass, arpeggio/lead, drums."""
    out = np.zeros(n + SR)
    bpm = rng.uniform(70, 160)
    beat = 60.0 / bpm
    scale = np.array([0, 2, 4, 5, 7, 9, 11]) if rng.random() < 0.6 else np.array([0, 2, 3, 5, 7, 8, 10])
    root = rng.uniform(45, 60)          # midi
    timbres = [(int(rng.integers(1, 12)), rng.uniform(0.7, 2.5), rng.uniform(0, 3e-4)) for _ in range(3)]
    gains = rng.uniform(0.2, 1.0, 4) * (rng.random(4) < 0.85)
    if gains.sum() == 0:
        gains[0] = 1
    t = 0.0
    while t * SR < n:
        deg = rng.integers(0, 7)
        chord = [root + 12 + scale[(deg + i) % 7] + 12 * ((deg + i) // 7) for i in (0, 2, 4)]
        bar = 4 * beat
        i0 = int(t * SR)
        if gains[0]:
            for m in chord:
                x = _tone(rng, 440 * 2 ** ((m - 69) / 12), bar, timbres[0])
                out[i0:i0 + len(x)] += gains[0] * 0.3 * x[:len(out) - i0]
        if gains[1]:
            x = _tone(rng, 440 * 2 ** ((chord[0] - 12 - 69) / 12), bar, timbres[1])
            out[i0:i0 + len(x)] += gains[1] * 0.5 * x[:len(out) - i0]
        if gains[2]:
            step = beat / rng.choice([1, 2, 4])
            for j in range(int(round(bar / step))):
                m = chord[rng.integers(0, 3)] + 12 * rng.integers(0, 2)
                x = _tone(rng, 440 * 2 ** ((m - 69) / 12), step * 1.5, timbres[2])
                k0 = i0 + int(j * step * SR)
                out[k0:k0 + len(x)] += gains[2] * 0.3 * x[:max(0, len(out) - k0)]
        if gains[3]:
            for j in range(4):
                k0 = i0 + int(j * beat * SR)
                m = int(0.12 * SR)
                tt = np.arange(m) / SR
                kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-tt * 30)) * tt) * np.exp(-tt * 25)
                out[k0:k0 + m] += gains[3] * kick[:max(0, len(out) - k0)]
                h0 = k0 + int(beat * SR / 2)
                hh = rng.standard_normal(int(0.04 * SR)) * np.exp(-np.arange(int(0.04 * SR)) / SR * 80)
                hh = np.diff(hh, prepend=0)
                out[h0:h0 + len(hh)] += gains[3] * 0.3 * hh[:max(0, len(out) - h0)]
        t += bar
    x = out[:n]
    if rng.random() < 0.5:
        x = reverb(x, rng, rt60=rng.uniform(0.3, 1.2))[:n]
    return (x / (np.std(x) + 1e-12)).astype(np.float32)


# ---- rooms --------------------------------------------------------------------

def rir(rng, rt60, drr_db=None):
    """A simple statistical room impulse response: direct path + exponentially
    decaying noise tail (RT60 in s), low-passed towards the end."""
    n = int(min(1.2, rt60 * 1.2) * SR)
    t = np.arange(n) / SR
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    tail[: int(0.002 * SR)] = 0
    tail = ss.sosfilt(ss.butter(1, rng.uniform(3000, 7000), fs=SR, output="sos"), tail)
    if drr_db is None:
        drr_db = rng.uniform(-6, 12)
    e_tail = np.sum(tail ** 2)
    tail *= np.sqrt(10 ** (-drr_db / 10) / (e_tail + 1e-12))
    h = tail
    h[0] = 1.0
    return h


def reverb(x, rng, rt60=None):
    if rt60 is None:
        rt60 = rng.uniform(0.15, 0.8)
    return ss.fftconvolve(x, rir(rng, rt60))[: len(x) + int(0.3 * SR)]


# ---- labels and mixing -------------------------------------------------------------

def frame_energy(x):
    """Energy of each features.py frame (400-sample window ending at each hop)."""
    n = len(x) // features.HOP
    c = np.concatenate([[0.0], np.cumsum(np.asarray(x, dtype=np.float64) ** 2)])
    ends = features.HOP * (np.arange(n) + 1)
    starts = np.maximum(0, ends - features.WIN)
    return c[ends] - c[starts]


def speech_labels(x, rel_db=35.0, abs_floor=1e-7):
    """Per-frame 0/1: clean-speech frame energy within rel_db of the
    utterance's loudest frame (and above an absolute floor); gaps of up to
    3 frames are closed."""
    e = frame_energy(x)
    if len(e) == 0 or e.max() <= 0:
        return np.zeros(len(e), dtype=np.float32)
    lab = (e > e.max() * 10 ** (-rel_db / 10)) & (e > abs_floor)
    idx = np.flatnonzero(lab)
    for a, b in zip(idx[:-1], idx[1:]):
        if 1 < b - a <= 4:
            lab[a:b] = True
    return lab.astype(np.float32)


def scale_to_snr(speech, noise_, lab, snr_db):
    """Gain for noise_ so that speech-frame power / noise power = snr_db."""
    e = frame_energy(speech)
    ps = e[lab > 0].mean() / features.WIN if np.any(lab > 0) else np.mean(speech ** 2)
    pn = np.mean(noise_ ** 2) + 1e-12
    return np.sqrt(ps / pn / 10 ** (snr_db / 10))
