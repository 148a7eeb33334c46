"""Flatten (torch/nn/modules/flatten.py)."""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["Flatten"]


class Flatten(Module):
    """Flattens dims ``start_dim`` .. ``end_dim``. Shape: (*, S_start, ..., S_end, *) -> (*, prod S, *)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return F.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
