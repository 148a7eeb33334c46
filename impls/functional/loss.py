"""Losses, and the reduction rule they share."""

from __future__ import annotations

import numpy as np

from .. import autograd as ag
from .._validate import check
from ..autograd import Tensor

__all__ = ["REDUCTIONS", "check_reduction", "reduce", "mse_loss", "l1_loss"]

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str, allowed=REDUCTIONS) -> str:
    """torch raises ValueError("<r> is not a valid value for reduction")."""
    check(reduction in allowed, ValueError, f"{reduction} is not a valid value for reduction")
    return reduction


def reduce(loss: Tensor, reduction: str) -> Tensor:
    """'none' -> as is; 'sum' -> sum; 'mean' -> mean (NaN for an empty loss, as torch)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return ag.sum_(loss)
    return ag.mean(loss)


def _broadcast_pair(input: Tensor, target: Tensor, who: str):
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise RuntimeError(
            f"{who}: the size of input {tuple(input.shape)} and target {tuple(target.shape)} cannot be broadcast together"
        ) from None


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """l = (input - target)^2, reduced. Broadcasts input and target as torch does
    (torch warns when their shapes differ). Differentiable in both."""
    _broadcast_pair(input, target, "mse_loss")
    d = input - target
    return reduce(d * d, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """l = |input - target|, reduced; subgradient sign(0) = 0 as torch."""
    _broadcast_pair(input, target, "l1_loss")
    return reduce(ag.abs_(input - target), reduction)
