"""Dropout: the math, given a keep-mask. Drawing the mask is the module's job."""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, op

__all__ = ["dropout"]


def dropout(x: Tensor, p: float, training: bool, keep: np.ndarray | None) -> Tensor:
    """y = x * keep / (1 - p) in training, with keep ~ Bernoulli(1 - p) elementwise.

    As torch's CPU kernel (aten/src/ATen/native/Dropout.cpp, ``_dropout_impl``):
    identity when ``p == 0``, not training, or the input is empty; ``x * 0`` when
    ``p == 1`` (so NaN and inf inputs give NaN); otherwise ``x * noise`` with
    ``noise = keep / (1 - p)`` computed in the input's dtype.
    Backward: grad * noise.
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
