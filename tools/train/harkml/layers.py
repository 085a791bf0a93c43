"""torch modules that map 1:1 onto the .hkm layers (src/nn_model.h).

All take and return (batch, time, features) tensors and are causal, so a
trained HarkNet exported with export.write() computes in C, frame by frame,
what it computed here over whole sequences.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Norm(nn.Module):
    """y = (x - mean) * scale; fixed (set from training-set statistics)."""

    def __init__(self, n, mean=None, std=None):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n) if mean is None else torch.as_tensor(mean).float())
        s = torch.ones(n) if std is None else torch.as_tensor(std).float()
        self.register_buffer("scale", 1.0 / torch.clamp(s, min=1e-3))

    def forward(self, x):
        return (x - self.mean) * self.scale

    def hkm_layers(self):
        return [{"type": "norm", "mean": self.mean.numpy(), "scale": self.scale.numpy()}]


class CausalConv1d(nn.Module):
    def __init__(self, cin, cout, kernel, dilation=1, groups=1):
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv = nn.Conv1d(cin, cout, kernel, dilation=dilation, groups=groups)

    def forward(self, x):
        y = F.pad(x.transpose(1, 2), (self.pad, 0))
        return self.conv(y).transpose(1, 2)

    def hkm_layers(self):
        c = self.conv
        return [{"type": "conv1d", "weight": c.weight.detach().numpy(), "bias": c.bias.detach().numpy(),
                 "dilation": c.dilation[0], "groups": c.groups}]


class Dense(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.lin(x)

    def hkm_layers(self):
        return [{"type": "dense", "weight": self.lin.weight.detach().numpy(),
                 "bias": self.lin.bias.detach().numpy()}]


class GRU(nn.Module):
    def __init__(self, n_in, hidden):
        super().__init__()
        self.gru = nn.GRU(n_in, hidden, batch_first=True)

    def forward(self, x):
        return self.gru(x)[0]

    def hkm_layers(self):
        g = self.gru
        return [{"type": "gru", "w_ih": g.weight_ih_l0.detach().numpy(), "w_hh": g.weight_hh_l0.detach().numpy(),
                 "b_ih": g.bias_ih_l0.detach().numpy(), "b_hh": g.bias_hh_l0.detach().numpy()}]


class Act(nn.Module):
    FN = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
          "softmax": lambda x: torch.softmax(x, dim=-1)}

    def __init__(self, kind, n):
        super().__init__()
        self.kind, self.n = kind, n

    def forward(self, x):
        return self.FN[self.kind](x)

    def hkm_layers(self):
        return [{"type": "act", "act": self.kind, "n": self.n}]


class HarkNet(nn.Sequential):
    """A chain of the modules above. forward_logits() skips a final sigmoid /
    softmax Act (train on logits for numerical stability)."""

    def forward_logits(self, x):
        mods = list(self)
        if mods and isinstance(mods[-1], Act) and mods[-1].kind in ("sigmoid", "softmax"):
            mods = mods[:-1]
        for m in mods:
            x = m(x)
        return x

    def hkm_layers(self):
        out = []
        for m in self:
            out += m.hkm_layers()
        return out
