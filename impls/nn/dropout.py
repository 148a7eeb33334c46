"""Dropout (torch/nn/modules/dropout.py).

Randomness contract: a random twin draws from ``self.generator`` (a
``numpy.random.Generator``; assign your own to seed it), unless noise was injected
with ``inject_noise(...)``, which the next forward consumes. For Dropout the noise
is ``keep``: a boolean array of the input's shape, True where the element is kept.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .._validate import check
from . import init
from .module import Module

__all__ = ["Dropout"]


class _RandomModule(Module):
    """Holds the generator and the one-shot injected noise of a random twin."""

    def __init__(self):
        super().__init__()
        self.generator = init.generator
        self._injected = None

    def inject_noise(self, **noise) -> None:
        """Use ``noise`` (arrays, named per class) for the next forward instead of drawing."""
        self._injected = {k: np.asarray(v) for k, v in noise.items()}

    def _take_noise(self, name: str, shape, draw):
        injected, self._injected = self._injected, None
        if injected is None:
            return draw()
        check(name in injected, ValueError, f"{type(self).__name__}: injected noise must be named {name!r}, got {sorted(injected)}")
        value = injected[name]
        check(value.shape == tuple(shape), ValueError, f"{type(self).__name__}: injected {name!r} has shape {value.shape}, expected {tuple(shape)}")
        return value


class _DropoutNd(_RandomModule):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        check(
            isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 1,
            ValueError,
            f"dropout probability has to be between 0 and 1, but got {p}",
        )
        self.p, self.inplace = float(p), inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """During training, zero each element with probability p and scale the rest by 1/(1-p)."""

    def forward(self, input):
        keep = None
        if self.training and 0 < self.p < 1 and input.size:
            keep = self._take_noise("keep", input.shape, lambda: self.generator.random(input.shape) >= self.p)
        out = F.dropout(input, self.p, self.training, keep)
        if self.inplace and out is not input:
            input.data[...] = out.data
        return out
