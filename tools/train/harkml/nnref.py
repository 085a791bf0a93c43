"""numpy streaming reference of src/nn_model.c's layers (float64 inside).

NNRef(layers).step(x) runs one frame, .run(X) a (T, n_in) sequence frame by
frame; batch(layers, X) runs the whole sequence layer by layer (the
"training" view). Both must agree with each other and with the C engine.
"""
import numpy as np


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _act(name, x):
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "sigmoid":
        return _sigmoid(x)
    if name == "tanh":
        return np.tanh(x)
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


class NNRef:
    def __init__(self, layers):
        self.layers = layers
        self.reset()

    def reset(self):
        self.state = []
        for L in self.layers:
            if L["type"] == "conv1d":
                K = L["weight"].shape[2]
                span = (K - 1) * L["dilation"] + 1
                self.state.append(np.zeros((span, L["weight"].shape[1] * L["groups"])))
            elif L["type"] == "gru":
                self.state.append(np.zeros(L["w_hh"].shape[1]))
            else:
                self.state.append(None)

    def step(self, x):
        x = np.asarray(x, dtype=np.float64)
        for i, L in enumerate(self.layers):
            t = L["type"]
            if t == "norm":
                x = (x - L["mean"]) * L["scale"]
            elif t == "conv1d":
                ring = self.state[i]
                ring[:-1] = ring[1:]
                ring[-1] = x
                W, D, G = L["weight"], L["dilation"], L["groups"]
                cout, cin_g, K = W.shape
                frames = ring[::-1][::D][:K][::-1]      # (K, Cin): oldest tap first
                y = np.array(L["bias"], dtype=np.float64)
                cout_g = cout // G
                for o in range(cout):
                    g = o // cout_g
                    y[o] += np.sum(W[o] * frames[:, g * cin_g:(g + 1) * cin_g].T)
                x = y
            elif t == "dense":
                x = L["weight"] @ x + L["bias"]
            elif t == "gru":
                h = self.state[i]
                H = len(h)
                gi = L["w_ih"] @ x + L["b_ih"]
                gh = L["w_hh"] @ h + L["b_hh"]
                r = _sigmoid(gi[:H] + gh[:H])
                z = _sigmoid(gi[H:2 * H] + gh[H:2 * H])
                n = np.tanh(gi[2 * H:] + r * gh[2 * H:])
                h = (1 - z) * n + z * h
                self.state[i] = h
                x = h.copy()
            else:
                x = _act(L["act"], x)
        return x

    def run(self, X):
        return np.stack([self.step(x) for x in X])


def batch(layers, X):
    """Whole-sequence evaluation, layer by layer, X: (T, n_in)."""
    X = np.asarray(X, dtype=np.float64)
    T = len(X)
    for L in layers:
        t = L["type"]
        if t == "norm":
            X = (X - L["mean"]) * L["scale"]
        elif t == "conv1d":
            W, D, G = L["weight"], L["dilation"], L["groups"]
            cout, cin_g, K = W.shape
            pad = np.concatenate([np.zeros(((K - 1) * D, X.shape[1])), X])
            Y = np.tile(L["bias"], (T, 1)).astype(np.float64)
            cout_g = cout // G
            for k in range(K):
                sh = pad[k * D:k * D + T]               # x_{t - (K-1-k) D}
                for g in range(G):
                    Y[:, g * cout_g:(g + 1) * cout_g] += sh[:, g * cin_g:(g + 1) * cin_g] @ \
                        W[g * cout_g:(g + 1) * cout_g, :, k].T
            X = Y
        elif t == "dense":
            X = X @ L["weight"].T + L["bias"]
        elif t == "gru":
            H = L["w_hh"].shape[1]
            h = np.zeros(H)
            out = np.zeros((T, H))
            GI = X @ L["w_ih"].T + L["b_ih"]
            for s in range(T):
                gh = L["w_hh"] @ h + L["b_hh"]
                r = _sigmoid(GI[s, :H] + gh[:H])
                z = _sigmoid(GI[s, H:2 * H] + gh[H:2 * H])
                n = np.tanh(GI[s, 2 * H:] + r * gh[2 * H:])
                h = (1 - z) * n + z * h
                out[s] = h
            X = out
        else:
            X = _act(L["act"], X)
    return X
