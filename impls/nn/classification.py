"""Classification loss modules (torch keeps them in torch/nn/modules/loss.py).

Thin classes over :mod:`impls.functional.classification`: same names, constructor
signatures, defaults and buffers (``weight``, ``pos_weight``) as torch; the math
and torch's conventions are documented there.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import functional as F
from .._validate import check
from .linear import Linear
from .loss import _Loss
from .module import check_device, resolve_dtype

__all__ = [
    "CrossEntropyLoss",
    "NLLLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "KLDivLoss",
    "MultiMarginLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "SoftMarginLoss",
    "LinearCrossEntropyLoss",
]


def _buffer_array(value, name: str, who: str):
    if value is None:
        return None
    a = np.asarray(getattr(value, "data", value))
    check(np.issubdtype(a.dtype, np.floating), TypeError, f"{who}: {name} must be a floating point array, got {a.dtype}")
    return a


class _WeightedLoss(_Loss):
    """A loss with an optional per-class ``weight`` buffer (torch's _WeightedLoss)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _buffer_array(weight, "weight", type(self).__name__))


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy of logits against class indices or class probabilities, with
    ``weight``, ``ignore_index`` and ``label_smoothing``
    (see :func:`impls.functional.cross_entropy`).

    Shape: input (C), (N, C) or (N, C, d1, ..., dK); target (), (N) or (N, d1, ..., dK)
    int64 class indices, or float probabilities of the input's shape.
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log likelihood of log-probabilities at class indices
    (see :func:`impls.functional.nll_loss`)."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None, reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross entropy of probabilities, logs clamped at -100
    (see :func:`impls.functional.binary_cross_entropy`)."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of logits with ``weight`` and ``pos_weight`` buffers
    (see :func:`impls.functional.binary_cross_entropy_with_logits`)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _buffer_array(weight, "weight", "BCEWithLogitsLoss"))
        self.register_buffer("pos_weight", _buffer_array(pos_weight, "pos_weight", "BCEWithLogitsLoss"))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """Pointwise KL divergence with ``log_target`` and the extra reduction
    'batchmean' (see :func:`impls.functional.kl_div`)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss with ``p`` in {1, 2}, ``margin`` and ``weight``
    (see :func:`impls.functional.multi_margin_loss`)."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        check(p == 1 or p == 2, ValueError, "MultiMarginLoss: only p == 1 and p == 2 supported")
        check(self.weight is None or self.weight.ndim == 1, ValueError,
              f"MultiMarginLoss: expected weight to be None or 1D tensor, got "
              f"{None if self.weight is None else self.weight.ndim}D instead")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss; each target row lists classes up to the first -1
    (see :func:`impls.functional.multilabel_margin_loss`)."""

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """log(1 + exp(-t x)), reduced (see :func:`impls.functional.soft_margin_loss`)."""

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """One-vs-all logistic loss averaged over classes, with ``weight``
    (see :func:`impls.functional.multilabel_soft_margin_loss`)."""

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class LinearCrossEntropyLoss(_WeightedLoss):
    """Cross entropy of ``linear(input)`` reshaped to (N, C, *out_features).

    Holds ``linear = Linear(in_features, C * prod(out_features), bias)`` (state keys
    ``linear.weight``, ``linear.bias``) and an optional per-class ``weight`` buffer.
    ``ignore_index=None`` means -100 for class-index targets and must stay None for
    probability targets. ``options`` (torch's LinearCrossEntropyOptions) selects a
    memory-saving chunked evaluation in torch; it does not change the mathematics,
    so the twin accepts it and always evaluates the reference path.
    """

    def __init__(self, in_features: int, num_classes: int, *, out_features: tuple = (), bias: bool = False,
                 device=None, dtype=None, reduction: str = "mean", weight=None, ignore_index=None,
                 label_smoothing: float = 0.0, options=None):
        who = "LinearCrossEntropyLoss"
        w = _buffer_array(weight, "weight", who)
        check(w is None or w.shape == (num_classes,), RuntimeError,
              f"{who}: expected weight shape to be {(num_classes,)}, got {None if w is None else tuple(w.shape)}")
        check(0 <= label_smoothing <= 1.0, RuntimeError,
              f"{who}: expected label_smoothing to be in range [0, 1], got {label_smoothing}")
        for name, v in (("in_features", in_features), ("num_classes", num_classes)):
            check(isinstance(v, numbers.Integral) and not isinstance(v, bool), TypeError,
                  f"{who}: {name} must be an int, got {v!r}")
        out_features = tuple(out_features)
        check(all(isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in out_features), TypeError,
              f"{who}: out_features must be a tuple of ints, got {out_features!r}")
        check_device(device)
        resolve_dtype(dtype)
        super().__init__(weight=w, reduction=reduction)
        self.num_classes = int(num_classes)
        self.out_features = out_features
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.linear = Linear(in_features, math.prod(out_features, start=self.num_classes), bias=bias,
                             device=device, dtype=dtype)
        self.options = options

    def forward(self, input, target):
        from ..autograd import reshape

        lw = reshape(self.linear.weight, (self.num_classes, *self.out_features, self.linear.in_features))
        lb = None
        if self.linear.bias is not None:
            lb = reshape(self.linear.bias, (self.num_classes, *self.out_features))
        return F.linear_cross_entropy(input, lw, target, linear_bias=lb, weight=self.weight, reduction=self.reduction,
                                      ignore_index=self.ignore_index, label_smoothing=self.label_smoothing)

    def extra_repr(self):
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, reduction={self.reduction}, "
                f"ignore_index={self.ignore_index}, label_smoothing={self.label_smoothing}, options={self.options}")
