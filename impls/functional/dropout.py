"""Dropout: the math, given a keep-mask. Drawing the mask is the module's job.

All variants follow torch's CPU kernel (aten/src/ATen/native/Dropout.cpp,
``_dropout_impl``): identity when ``p == 0``, not training, or the input is empty;
``x * 0`` when ``p == 1`` (so NaN and inf inputs give NaN; the alpha variants too:
no affine term at p == 1); otherwise the input times a noise tensor. Elementwise
variants draw noise of the input's shape; the feature ("channel") variants draw one
value per (sample, channel), noise of shape :func:`feature_noise_shape`, broadcast
over the remaining dims.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import check
from ..autograd import Tensor, op

__all__ = ["dropout", "alpha_dropout", "feature_noise_shape", "SELU_ALPHA"]

#: -alpha is SELU's negative saturation value divided by its scale (torch's constant).
SELU_ALPHA = 1.7580993408473766


def feature_noise_shape(shape: tuple) -> tuple:
    """torch's ``make_feature_noise``: (N, C, 1, ..., 1); at least 2 dims (RuntimeError)."""
    check(len(shape) >= 2, RuntimeError, "Feature dropout requires at least 2 dimensions in the input")
    return tuple(shape[:2]) + (1,) * (len(shape) - 2)


def samples(x, p: float, training: bool) -> bool:
    """Whether a dropout forward draws noise at all (torch's early exits)."""
    return bool(training and 0 < p < 1 and x.size)


def dropout(x: Tensor, p: float, training: bool, keep: np.ndarray | None) -> Tensor:
    """y = x * keep / (1 - p) in training, with keep ~ Bernoulli(1 - p) of the input's
    shape or broadcastable to it (one draw per channel for the feature variants).

    ``noise = keep / (1 - p)`` is computed in the input's dtype, as torch's
    ``noise.div_(1 - p)``. Backward: grad * noise (summed nowhere: noise broadcasts).
    """
    if p == 0 or not training or x.size == 0:
        return x
    dt = x.dtype
    if p == 1:
        noise = np.zeros((), dt)
    else:
        noise = keep.astype(dt) / np.asarray(1 - p, dtype=dt)
    with np.errstate(invalid="ignore"):  # inf * 0 = NaN, which torch gives without a warning
        out = x.data * noise
    return op(out, (x,), lambda g: (g * noise,))


def alpha_dropout(x: Tensor, p: float, training: bool, keep: np.ndarray | None) -> Tensor:
    """SELU-preserving dropout: y = x * (a keep) + b, dropped elements becoming
    a * alpha * (p - 1) (SELU's saturation -alpha, affinely corrected), with
    a = 1 / sqrt((alpha^2 p + 1)(1 - p)), b = (keep - 1) alpha a + alpha a p, so that an
    input of mean 0 and variance 1 keeps them. ``keep`` broadcasts like dropout's.
    torch forms b and ``keep * a`` in the input's dtype from double constants; so does
    the twin. At p == 1 the output is x * 0 (no affine term), as torch's.
    Backward: grad * a * keep.
    """
    if p == 0 or not training or x.size == 0:
        return x
    dt = x.dtype
    if p == 1:
        noise, b = np.zeros((), dt), None
    else:
        a = 1.0 / math.sqrt((SELU_ALPHA * SELU_ALPHA * p + 1) * (1 - p))
        k = keep.astype(dt)
        b = (k - dt.type(1)) * dt.type(SELU_ALPHA * a) + dt.type(SELU_ALPHA * a * p)
        noise = k * dt.type(a)
    with np.errstate(invalid="ignore"):  # inf * 0 = NaN, which torch gives without a warning
        y = x.data * noise
    if b is not None:
        y = y + b
    return op(y, (x,), lambda g: (g * noise,))
