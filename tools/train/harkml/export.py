"""Writer and reader of .hkm model files (docs/model-format.md, src/nn_model.h).

A model is described as a list of layer dicts, the same form nnref.py runs:
  {"type": "norm",   "mean": (C,), "scale": (C,)}
  {"type": "conv1d", "weight": (Cout, Cin/groups, K), "bias": (Cout,),
                     "dilation": D, "groups": G}
  {"type": "dense",  "weight": (Out, In), "bias": (Out,)}
  {"type": "gru",    "w_ih": (3H, In), "w_hh": (3H, H), "b_ih": (3H,), "b_hh": (3H,)}
  {"type": "act",    "act": "relu" | "sigmoid" | "tanh" | "softmax", "n": C}
Torch modules from layers.py turn themselves into these with .hkm_layers().
"""
import struct
import zlib

import numpy as np

MAGIC = b"HKNN"
VERSION = 1
HEADER = 256
LHEADER = 32
KIND_LEN, NAME_LEN, META_LEN = 16, 48, 160
TYPES = {"norm": 1, "conv1d": 2, "dense": 3, "gru": 4, "act": 5}
ACTS = {"relu": 1, "sigmoid": 2, "tanh": 3, "softmax": 4}
NAMES = {v: k for k, v in TYPES.items()}
ACT_NAMES = {v: k for k, v in ACTS.items()}


def _f32(a):
    return np.ascontiguousarray(np.asarray(a, dtype="<f4")).ravel()


def _layer_blob(L):
    t = L["type"]
    a = b = c = 0
    if t == "norm":
        mean, scale = _f32(L["mean"]), _f32(L["scale"])
        n_in = n_out = len(mean)
        params = [mean, scale]
    elif t == "conv1d":
        w = np.asarray(L["weight"], dtype=np.float32)
        n_out, cin_g, a = w.shape
        b, c = int(L.get("dilation", 1)), int(L.get("groups", 1))
        n_in = cin_g * c
        params = [_f32(w), _f32(L["bias"])]
    elif t == "dense":
        w = np.asarray(L["weight"], dtype=np.float32)
        n_out, n_in = w.shape
        params = [_f32(w), _f32(L["bias"])]
    elif t == "gru":
        w_ih = np.asarray(L["w_ih"], dtype=np.float32)
        n_out, n_in = w_ih.shape[0] // 3, w_ih.shape[1]
        params = [_f32(w_ih), _f32(L["w_hh"]), _f32(L["b_ih"]), _f32(L["b_hh"])]
    elif t == "act":
        a = ACTS[L["act"]]
        n_in = n_out = int(L["n"])
        params = []
    else:
        raise ValueError("unknown layer type %r" % t)
    p = np.concatenate(params) if params else np.zeros(0, dtype="<f4")
    if not np.all(np.isfinite(p)):
        raise ValueError("non-finite parameters in a %s layer" % t)
    hdr = struct.pack("<8I", TYPES[t], n_in, n_out, a, b, c, len(p), 0)
    return hdr + p.astype("<f4").tobytes(), n_in, n_out


def _text(s, n):
    b = s.encode("ascii")
    if len(b) >= n or any(ch < 0x20 or ch > 0x7E for ch in b):
        raise ValueError("text field %r too long (max %d) or not printable ASCII" % (s, n - 1))
    return b + b"\0" * (n - len(b))


def pack(layers, kind, name="", meta=""):
    """Bytes of a .hkm file for the layer list."""
    blobs, dims = [], []
    for L in layers:
        blob, n_in, n_out = _layer_blob(L)
        if dims and dims[-1][1] != n_in:
            raise ValueError("layer %d takes %d inputs but gets %d" % (len(dims), n_in, dims[-1][1]))
        blobs.append(blob)
        dims.append((n_in, n_out))
    body = struct.pack("<4I", len(layers), dims[0][0], dims[-1][1], 0)
    body += _text(kind, KIND_LEN) + _text(name, NAME_LEN) + _text(meta, META_LEN)
    assert 16 + len(body) == HEADER
    body += b"".join(blobs)
    size = 16 + len(body)
    crc = zlib.crc32(body) & 0xFFFFFFFF
    return MAGIC + struct.pack("<3I", VERSION, size, crc) + body


def write(path, layers, kind, name="", meta=""):
    data = pack(layers, kind, name, meta)
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def read(path):
    """(layers, info) from a .hkm file; raises ValueError on anything malformed."""
    with open(path, "rb") as f:
        return unpack(f.read())


def unpack(data):
    if len(data) < HEADER or data[:4] != MAGIC:
        raise ValueError("not a hark model file")
    ver, size, crc = struct.unpack_from("<3I", data, 4)
    if ver != VERSION or size != len(data):
        raise ValueError("bad version or size")
    if zlib.crc32(data[16:]) & 0xFFFFFFFF != crc:
        raise ValueError("checksum mismatch")
    n_layers, n_in, n_out, _flags = struct.unpack_from("<4I", data, 16)

    def text(off, n):
        return data[off:off + n].split(b"\0")[0].decode("ascii")

    info = {"n_in": n_in, "n_out": n_out, "kind": text(32, KIND_LEN), "name": text(48, NAME_LEN),
            "meta": text(96, META_LEN)}
    off, layers = HEADER, []
    for _ in range(n_layers):
        t, li, lo, a, b, c, n, _r = struct.unpack_from("<8I", data, off)
        off += LHEADER
        p = np.frombuffer(data, dtype="<f4", count=n, offset=off).astype(np.float32)
        off += 4 * n
        t = NAMES[t]
        if t == "norm":
            layers.append({"type": t, "mean": p[:li], "scale": p[li:]})
        elif t == "conv1d":
            nw = lo * (li // c) * a
            layers.append({"type": t, "weight": p[:nw].reshape(lo, li // c, a), "bias": p[nw:],
                           "dilation": b, "groups": c})
        elif t == "dense":
            layers.append({"type": t, "weight": p[:lo * li].reshape(lo, li), "bias": p[lo * li:]})
        elif t == "gru":
            H = lo
            o1, o2, o3 = 3 * H * li, 3 * H * li + 3 * H * H, 3 * H * li + 3 * H * H + 3 * H
            layers.append({"type": t, "w_ih": p[:o1].reshape(3 * H, li), "w_hh": p[o1:o2].reshape(3 * H, H),
                           "b_ih": p[o2:o3], "b_hh": p[o3:]})
        else:
            layers.append({"type": t, "act": ACT_NAMES[a], "n": li})
    if off != len(data):
        raise ValueError("trailing data")
    return layers, info


def meta_string(d):
    """'k=v;k=v' from a dict (values formatted with str())."""
    return ";".join("%s=%s" % (k, v) for k, v in d.items())


def parse_meta(s):
    return dict(kv.split("=", 1) for kv in s.split(";") if "=" in kv)
