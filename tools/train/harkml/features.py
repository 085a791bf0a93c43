"""Log-mel features, the exact definition of src/mel.h, in numpy.

logmel(x) returns one 40-band frame per 160-sample hop of x (16 kHz float in
[-1, 1)), frame t ending at sample 160 (t + 1) - 1, with a zero history
before the start, like mel_push() from a fresh/reset state. Trailing
samples that do not fill a hop are ignored.
"""
import numpy as np

RATE = 16000
HOP = 160
WIN = 400
NFFT = 512
BANDS = 40
FMIN = 60.0
FMAX = 7600.0
FLOOR = 1e-6


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def filterbank():
    """BANDS x (NFFT/2+1) triangular HTK-mel filterbank, peak 1."""
    c = mel_to_hz(np.linspace(hz_to_mel(FMIN), hz_to_mel(FMAX), BANDS + 2))
    f = np.arange(NFFT // 2 + 1) * RATE / NFFT
    fb = np.zeros((BANDS, NFFT // 2 + 1))
    for b in range(BANDS):
        up = (f - c[b]) / (c[b + 1] - c[b])
        down = (c[b + 2] - f) / (c[b + 2] - c[b + 1])
        fb[b] = np.maximum(0.0, np.minimum(up, down))
    return fb


_FB = filterbank()
_WINDOW = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(WIN) / WIN)


def logmel(x, dtype=np.float32):
    """x: 1-D float array at 16 kHz. Returns (frames, 40)."""
    x = np.asarray(x, dtype=np.float64)
    x = np.where(np.isfinite(x), x, 0.0)
    n = len(x) // HOP
    if n == 0:
        return np.zeros((0, BANDS), dtype=dtype)
    padded = np.concatenate([np.zeros(WIN - HOP), x[: n * HOP]])
    idx = np.arange(WIN)[None, :] + HOP * np.arange(n)[:, None]
    frames = padded[idx] * _WINDOW[None, :]
    spec = np.fft.rfft(frames, n=NFFT, axis=1)
    power = spec.real ** 2 + spec.imag ** 2
    return np.log(power @ _FB.T + FLOOR).astype(dtype)


def read_wav16k(path):
    """Mono float32 samples of a 16 kHz wav (first channel)."""
    import soundfile as sf
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    if sr != RATE:
        raise ValueError("%s: %d Hz, need %d" % (path, sr, RATE))
    return x[:, 0]
