"""Distances between vectors: pairwise p-norm distance and cosine similarity."""

from __future__ import annotations

import numpy as np

from .._validate import check, normalize_dim
from ..autograd import Tensor, op, unbroadcast
from .loss import _vector_norm, broadcast_shapes, pairwise_distance

__all__ = ["pairwise_distance", "cosine_similarity"]

# pairwise_distance (||x1 - x2 + eps||_p over the last dim, torch's norm_backward) is
# shared with the triplet losses and lives in loss.py; it is re-exported here.


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum over ``dim`` of (x1 / max(||x1||, eps)) * (x2 / max(||x2||, eps)).

    As torch's ATen ``cosine_similarity`` (aten/src/ATen/native/Distance.cpp): x1 and
    x2 are broadcast first; each 2-norm is clamped at ``eps`` *separately* (not their
    product, as the docstring's formula says); the norms are taken in the input's
    dtype (so, like torch, a float32 sum of squares can overflow to inf; one
    element's norm is |x|, which does not).

    Backward. torch clamps the norms in place under ``no_grad``, so autograd
    differentiates the *unclamped* norm: with u = x1 / c1, c1 = max(n1, eps),
    gu = g x2 / c2,
    dx1 = gu / c1 - sum(gu u / c1) * (x1 / n1, 0 where n1 == 0),
    and symmetrically for x2. Below eps this is not the derivative of the forward
    (which is linear there): the twin follows torch. The forward runs in x's dtype with
    torch's operations; the backward in float64, rounded once: for nearly parallel
    vectors its two terms cancel, and float32 would leave ~1e-7 / n1 of noise (torch's
    float32 gradient has it); so are the norms of float32 input, where finite and nonzero
    (elsewhere torch's over- or underflowed values are kept). When every norm is finite and nonzero the backward takes
    its closed form (:func:`_cosine_closed_form`), else torch's operations one by one
    (:func:`_cosine_autograd`, for their NaN and zero-sign conventions).
    """
    dt = np.result_type(x1.dtype, x2.dtype)
    check(np.issubdtype(dt, np.floating), RuntimeError,
          f"cosine_similarity: expected common dtype to be floating point, yet common dtype is {dt}")
    shape = broadcast_shapes("cosine_similarity", x1=x1, x2=x2)
    ax = normalize_dim(dim, len(shape), "cosine_similarity")
    work = shape if shape else (1,)
    a, b = (np.broadcast_to(t.data, shape).reshape(work) for t in (x1, x2))
    wide = np.promote_types(dt, np.float64)

    def norm(v):
        return np.expand_dims(_vector_norm(np.moveaxis(v, ax, -1), 2.0), ax)

    with np.errstate(all="ignore"):
        n1, n2 = norm(a), norm(b)
        c1, c2 = np.maximum(n1, eps), np.maximum(n2, eps)  # NaN stays NaN, as torch's clamp_min
        # The forward in x's dtype, as torch: (x1 / c1) * (x2 / c2), summed over dim.
        # torch sums into 0 (+ 0.0: an all -0.0 sum is +0.0, as torch's)
        out = (np.sum((a / c1.astype(dt)) * (b / c2.astype(dt)), axis=ax) + 0.0).astype(dt).reshape(shape[:ax] + shape[ax + 1:])

    def vjp(g):
        with np.errstate(all="ignore"):
            gk = np.expand_dims(np.asarray(g, wide).reshape(work[:ax] + work[ax + 1:]), ax)
            regular = np.isfinite(n1) & (n1 > 0) & np.isfinite(n2) & (n2 > 0)
            if dt == wide:  # float64 input: the forward's norms are torch's (one element: |x|, no underflow)
                n1w, n2w = n1, n2
            else:  # float32: in float64 where finite and nonzero (over- or underflow: torch's values)
                n1w, n2w = (np.where(np.isfinite(n) & (n > 0), np.sqrt(_wide_dot(v, v, ax, wide)), n)
                            for n, v in ((n1.astype(wide), a), (n2.astype(wide), b)))
            grads = _cosine_closed_form(a, b, n1w, n2w, gk, ax, eps, wide) if regular.all() else \
                _cosine_autograd(a, b, n1w, n2w, gk, ax, eps, wide)
        return tuple(None if not t.requires_grad else unbroadcast(gx.reshape(shape), t.shape).astype(t.dtype)
                     for t, gx in zip((x1, x2), grads))  # summed over broadcast dims in float64, then rounded

    return op(np.asarray(out), (x1, x2), vjp)


def _wide_dot(a: np.ndarray, b: np.ndarray, ax: int, wide) -> np.ndarray:
    """sum over ``ax`` of a * b, accumulated in ``wide`` (keepdims)."""
    return np.expand_dims(np.einsum("...i,...i->...", np.moveaxis(a, ax, -1), np.moveaxis(b, ax, -1), dtype=wide), ax)


def _cosine_closed_form(a, b, n1, n2, gk, ax, eps, wide):
    """torch's cosine gradient where every norm is finite and nonzero, in closed form:
    dx1 = alpha x2 - beta1 x1 with alpha = g / (c1 c2), beta1 = g p / (c1^2 c2 n1),
    p = x1 . x2 (and symmetrically), with the dot product accumulated in float64: the
    same values as :func:`_cosine_autograd` in fewer passes."""
    p = _wide_dot(a, b, ax, wide)
    c1, c2 = np.maximum(n1, eps), np.maximum(n2, eps)
    alpha = gk / (c1 * c2)
    beta1, beta2 = alpha * p / (c1 * n1), alpha * p / (c2 * n2)
    gx1 = b * alpha
    gx1 -= a * beta1
    gx2 = a * alpha
    gx2 -= b * beta2
    return gx1, gx2


def _cosine_autograd(a, b, n1w, n2w, gk, ax, eps, wide):
    """torch's cosine gradient operation by operation (its NaN, inf and zero-sign
    conventions on zero, tiny, huge or non-finite vectors), in float64."""
    A, B = a.astype(wide), b.astype(wide)
    c1w, c2w = np.maximum(n1w, eps), np.maximum(n2w, eps)
    u, v = A / c1w, B / c2w
    grads = []
    for X, c, n, own, other in ((A, c1w, n1w, u, v), (B, c2w, n2w, v, u)):
        gu = gk * other
        s = np.sum(-gu * (own / c), axis=ax, keepdims=True)  # torch's -grad * ((x / c) / c): zero signs
        grads.append(gu / c + s * np.where(n == 0, 0.0, X / n))
    return grads
