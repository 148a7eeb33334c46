"""Activation modules (torch/nn/modules/activation.py)."""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["ReLU", "Sigmoid", "Tanh"]


class _Elementwise(Module):
    """An activation ``y = f(x)`` with an ``inplace`` flag: in place, the result is
    also written into the caller's input array, as torch writes into its tensor."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def _f(self, x):
        raise NotImplementedError

    def forward(self, input):
        out = self._f(input)
        if getattr(self, "inplace", False):
            input.data[...] = out.data
        return out

    def extra_repr(self):
        return "inplace=True" if getattr(self, "inplace", False) else ""


class ReLU(_Elementwise):
    """ReLU(x) = max(0, x)."""

    def _f(self, x):
        return F.relu(x)


class Sigmoid(Module):
    """Sigmoid(x) = 1 / (1 + exp(-x))."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """Tanh(x) = tanh(x)."""

    def forward(self, input):
        return F.tanh(input)
