"""Loss modules (torch/nn/modules/loss.py): regression, ranking and embedding losses.

Constructors take torch's signatures and defaults. Like torch, they do not check
``reduction``: a bad reduction string raises ValueError at call time. The math
and torch's conventions are documented in :mod:`impls.functional.loss`.
"""

from __future__ import annotations

import warnings

from .. import functional as F
from .._validate import check
from ..functional import loss as L
from .distance import PairwiseDistance
from .module import Module

__all__ = [
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "PoissonNLLLoss", "GaussianNLLLoss",
    "MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss",
    "TripletMarginLoss", "TripletMarginWithDistanceLoss",
]


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

    def extra_repr(self) -> str:
        return ""


class MSELoss(_Loss):
    """l_n = (x_n - y_n)^2, reduced by ``reduction``; input and target broadcast."""

    def forward(self, input, target):
        L.broadcast_shapes("MSELoss", input=input, target=target)  # torch broadcasts before it reads reduction
        return F.mse_loss(input, target, F.check_reduction(self.reduction))


class L1Loss(_Loss):
    """l_n = |x_n - y_n|, reduced by ``reduction``; input and target broadcast."""

    def forward(self, input, target):
        L.broadcast_shapes("L1Loss", input=input, target=target)
        return F.l1_loss(input, target, F.check_reduction(self.reduction))


class HuberLoss(_Loss):
    """Huber loss with threshold ``delta``. torch: a non-number delta is a TypeError
    in the constructor; delta <= 0 is a RuntimeError at call time."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        check(isinstance(delta, (float, int)), TypeError,
              f"delta must be a float or int, got: {type(delta)}")
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        L.broadcast_shapes("HuberLoss", input=input, target=target)
        return F.huber_loss(input, target, F.check_reduction(self.reduction), self.delta)


class SmoothL1Loss(_Loss):
    """Smooth L1 with threshold ``beta``; beta == 0 is exactly L1Loss, beta < 0 a
    RuntimeError at call time (torch)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        L.broadcast_shapes("SmoothL1Loss", input=input, target=target)
        return F.smooth_l1_loss(input, target, F.check_reduction(self.reduction), self.beta)


class PoissonNLLLoss(_Loss):
    """Poisson NLL; ``log_input``, ``full`` (Stirling term for targets > 1), ``eps``."""

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None, eps: float = 1e-8,
                 reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, self.eps, F.check_reduction(self.reduction))


class GaussianNLLLoss(_Loss):
    """Gaussian NLL with a (clamped) variance input; see functional.gaussian_nll_loss
    for torch's var shapes and checks."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(None, None, reduction)
        self.full = full
        self.eps = eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """max(0, -y (x1 - x2) + margin); all three inputs get gradients (the target
    too), and in torch 2.13 they broadcast once their numbers of dims agree (the
    older ATen kernel required equal sizes)."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin, F.check_reduction(self.reduction))


class HingeEmbeddingLoss(_Loss):
    """x where y == 1, max(0, margin - x) where y == -1 (both terms for other y)."""

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, self.margin, F.check_reduction(self.reduction))


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x1, x2) where y == 1, max(0, cos(x1, x2) - margin) where y == -1."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, self.margin, F.check_reduction(self.reduction))


class TripletMarginLoss(_Loss):
    """max(0, margin + d(a, p) - d(a, n)) with the p-norm pairwise distance.
    torch rejects margin <= 0 in the constructor (ValueError)."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        check(margin > 0, ValueError, f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.swap,
                                     F.check_reduction(self.reduction))


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with a user distance (a callable on the twin's Tensors); the
    default is a PairwiseDistance() submodule, as torch's (it shows in the repr and
    in named_modules; a distance that is itself a module does too)."""

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False, reduction: str = "mean"):
        super().__init__(size_average=None, reduce=None, reduction=reduction)
        check(margin > 0, ValueError,
              f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} instead")
        self.distance_function = distance_function if distance_function is not None else PairwiseDistance()
        self.margin = margin
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                   margin=self.margin, swap=self.swap, reduction=self.reduction)
