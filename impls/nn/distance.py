"""PairwiseDistance and CosineSimilarity (torch/nn/modules/distance.py)."""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["PairwiseDistance", "CosineSimilarity"]


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p over the last dim (eps is added to the difference, so equal
    inputs give eps * D^(1/p), not 0). Shape: (N, D) or (D,), broadcastable -> (N) or ()
    ((N, 1) or (1,) with keepdim). torch validates nothing in the constructor."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` (each norm clamped
    separately). Shape: (*1, D, *2) and a broadcastable x2 -> (*1, *2)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
