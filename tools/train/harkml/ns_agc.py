"""ns_agc.py - the front end's noise suppression + AGC stage (src/fe_ns_agc.c)
for the training tools, on the same library (speexdsp's preprocessor, called
through ctypes) with the same settings and the same float <-> int16
conversion, so that a model can be trained on what harkd's wake detector and
VAD actually hear. Checked against the C front end (tools/hark-fe with
--no-aec --no-beam --no-doa) by tools/train/check_ns_agc.py: bit-identical.

Defaults are hark.conf's [frontend] defaults (fe_ns_agc_cfg_default()):
noise suppression -15 dB, AGC to -20 dBFS speech RMS, at most +30 dB,
+12 dB/s up, -40 dB/s down.
"""
import ctypes
import ctypes.util

import numpy as np

# speex/speex_preprocess.h
_SET_DENOISE = 0
_SET_AGC = 2
_SET_DEREVERB = 8
_SET_AGC_LEVEL = 6
_SET_NOISE_SUPPRESS = 18
_SET_AGC_INCREMENT = 26
_SET_AGC_DECREMENT = 28
_SET_AGC_MAX_GAIN = 30

LEVEL_OFFSET_DB = -12.0   # FE_NS_AGC_LEVEL_OFFSET_DB in src/fe_ns_agc.c

_lib = None


def _speexdsp():
    global _lib
    if _lib is None:
        name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
        lib = ctypes.CDLL(name)
        lib.speex_preprocess_state_init.restype = ctypes.c_void_p
        lib.speex_preprocess_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.speex_preprocess_state_destroy.argtypes = [ctypes.c_void_p]
        lib.speex_preprocess_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.speex_preprocess_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        _lib = lib
    return _lib


class NsAgc:
    """One running NS/AGC state (like one harkd front end): process() takes
    whole 10 ms hops and may be called again to continue the stream; one
    hop in, one hop out, as in the C stage."""

    def __init__(self, rate=16000, ns=True, ns_db=-15, agc=True, agc_target_dbfs=-20.0,
                 agc_max_gain_db=30.0, agc_increment_db_s=12.0, agc_decrement_db_s=40.0):
        lib = _speexdsp()
        self.hop = rate // 100
        self.lib = lib
        self.st = lib.speex_preprocess_state_init(self.hop, rate)
        if not self.st:
            raise RuntimeError("speex_preprocess_state_init failed")

        def ctl(req, val):
            v = ctypes.c_int32(int(val)) if not isinstance(val, float) else ctypes.c_float(val)
            lib.speex_preprocess_ctl(self.st, req, ctypes.byref(v))

        ctl(_SET_DENOISE, int(ns))
        ctl(_SET_NOISE_SUPPRESS, int(ns_db))
        ctl(_SET_AGC, int(agc))
        level = np.float32(32768.0) * np.float32(10.0) ** np.float32((agc_target_dbfs - LEVEL_OFFSET_DB) / 20.0)
        ctl(_SET_AGC_LEVEL, float(level))
        ctl(_SET_AGC_MAX_GAIN, int(round(agc_max_gain_db)))
        ctl(_SET_AGC_INCREMENT, int(round(agc_increment_db_s)))
        ctl(_SET_AGC_DECREMENT, -int(round(agc_decrement_db_s)))
        ctl(_SET_DEREVERB, 0)
        self.buf = np.zeros(self.hop, np.int16)
        self.ptr = self.buf.ctypes.data_as(ctypes.c_void_p)

    def __del__(self):
        if getattr(self, "st", None):
            self.lib.speex_preprocess_state_destroy(self.st)
            self.st = None

    def process(self, x):
        """x: float samples in [-1, 1] (length a multiple of the hop) ->
        float32 output of the same length."""
        x = np.asarray(x, np.float32)
        n = len(x) // self.hop * self.hop
        if n != len(x):
            raise ValueError("length %d is not a multiple of the %d-sample hop" % (len(x), self.hop))
        # the C stage: v = in * 32768, clamped, lrintf (round half to even)
        q = np.clip(x * np.float32(32768.0), -32768.0, 32767.0)
        q = np.rint(q).astype(np.int16)
        out = np.empty(n, np.float32)
        run, st, buf, ptr = self.lib.speex_preprocess_run, self.st, self.buf, self.ptr
        for a in range(0, n, self.hop):
            buf[:] = q[a:a + self.hop]
            run(st, ptr)
            out[a:a + self.hop] = buf
        out *= np.float32(1.0 / 32768.0)
        return out


def process(x, **kw):
    """A fresh NS/AGC state over one signal (zero-padded to whole hops,
    trimmed back)."""
    st = NsAgc(**kw)
    n = len(x)
    pad = (-n) % st.hop
    y = st.process(np.concatenate([np.asarray(x, np.float32), np.zeros(pad, np.float32)]))
    return y[:n]
