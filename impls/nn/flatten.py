"""Flatten and Unflatten (torch/nn/modules/flatten.py)."""

from __future__ import annotations

from .. import functional as F
from .._validate import check
from .module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Flattens dims ``start_dim`` .. ``end_dim``. Shape: (*, S_start, ..., S_end, *) -> (*, prod S, *)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return F.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dim ``dim`` into ``unflattened_size`` (a tuple or list of ints; one may be -1).
    Shape: (*, S_dim, *) -> (*, U_1, ..., U_n, *) with prod U = S_dim."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        check(isinstance(unflattened_size, (tuple, list)), TypeError,
              f"unflattened_size must be a tuple of ints, but found type {type(unflattened_size).__name__}")
        for i, s in enumerate(unflattened_size):
            check(isinstance(s, int), TypeError,
                  f"unflattened_size must be tuple of ints, but found element of type {type(s).__name__} at pos {i}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        check(isinstance(self.dim, int), TypeError, f"unflatten(): argument 'dim' (position 1) must be int, not {type(self.dim).__name__}")
        return F.unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
