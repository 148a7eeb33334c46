"""Elementwise activations and softmax-like maps.

Conventions at kinks follow torch's backward formulas (tools/autograd/derivatives.yaml).
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, op

__all__ = ["relu", "sigmoid", "tanh"]


def relu(x: Tensor) -> Tensor:
    """relu(x) = max(x, 0); NaN propagates.

    Backward (torch's ``threshold_backward(grad, result, 0)``): ``grad`` where the
    *result* is > 0, else 0. At x = 0 the subgradient is 0; at NaN the result is
    NaN, ``NaN <= 0`` is false, so the gradient passes through as ``grad``.
    """
    out = np.where(x.data > 0, x.data, np.zeros((), x.dtype))
    out = np.where(np.isnan(x.data), x.data, out)
    zero = np.zeros((), x.dtype)
    return op(out, (x,), lambda g: (np.where(out <= 0, zero, g),))


def sigmoid(x: Tensor) -> Tensor:
    """sigmoid(x) = 1 / (1 + exp(-x)), evaluated without overflow on either side.

    Backward: grad * y * (1 - y), written with the output as torch does.
    """
    d = x.data
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(d))  # in (0, 1]: never overflows
    out = np.where(d >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
    out = np.where(np.isnan(d), d, out)
    return op(out, (x,), lambda g: (g * (out * (1 - out)),))


def tanh(x: Tensor) -> Tensor:
    """tanh(x); backward grad * (1 - y^2) from the output."""
    out = np.tanh(x.data)
    return op(out, (x,), lambda g: (g * (1 - out * out),))
