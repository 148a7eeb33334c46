"""Loss modules (torch/nn/modules/loss.py)."""

from __future__ import annotations

import warnings

from .. import functional as F
from .module import Module

__all__ = ["MSELoss", "L1Loss"]


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """torch's _Reduction.legacy_get_string: the deprecated size_average/reduce pair
    overrides ``reduction`` when either is given."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction instead.", UserWarning, stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.reduction = legacy_reduction(size_average, reduce, reduction)


class MSELoss(_Loss):
    """l_n = (x_n - y_n)^2, reduced by ``reduction``."""

    def forward(self, input, target):
        return F.mse_loss(input, target, F.check_reduction(self.reduction))


class L1Loss(_Loss):
    """l_n = |x_n - y_n|, reduced by ``reduction``."""

    def forward(self, input, target):
        return F.l1_loss(input, target, F.check_reduction(self.reduction))
