"""Normalisation: batch, instance, group, layer and RMS norm, local response norm.

Every normaliser here is one fused primitive (:func:`impls.autograd.op`) with its
backward beside its forward. They share one way of computing statistics in the
input's dtype without losing digits (:func:`_moments`):

Precision. A channel (or row) whose variance is small against ``eps`` has
``invstd ~ 1/sqrt(eps) ~ 316``, which amplifies every rounding in ``x - mu``.
Computing ``x * a + (b - mu * a)`` directly in float32 (torch's CPU kernel does)
then loses 3-4 digits. The twins instead form ``d = x - mu_hi`` with ``mu_hi`` the
float32-rounded first-pass mean: a float32 subtraction is exact to half an ulp *of
its result*, so ``d`` carries no error from the size of ``mu``. A second pass over
``d`` gives the small remainder ``m_d = mean(d)`` (so ``mu = mu_hi + m_d``) and
``var = mean(d^2) - m_d^2`` (corrected two-pass: no cancellation, ``m_d`` is tiny).
Per-channel quantities are float64; the per-element passes stay in the input's
dtype (the speed target is 1.5x torch), and sums run in two stages: over the
innermost axis in the input's dtype (BLAS), then across rows in float64.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, op

__all__ = ["batch_norm"]

F64 = np.float64


# ----------------------------------------------------------------------------------
# Shared helpers on (A, B, M) views: per-(a, b) sums over M, as float64.
# ----------------------------------------------------------------------------------


def _sum_m(a: np.ndarray) -> np.ndarray:
    """Sum over the last axis of an (A, B, M) array, as float64 (A, B).
    A BLAS matrix-vector product with ones: the input's dtype accumulates over M only."""
    A, B, M = a.shape
    if M == 1:
        return a[..., 0].astype(F64)
    return (a.reshape(A * B, M) @ np.ones(M, a.dtype)).reshape(A, B).astype(F64)


def _dot_m(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum over the last axis of a * b for (A, B, M) arrays, as float64 (A, B)."""
    if a.shape[2] == 1:
        return (a[..., 0] * b[..., 0]).astype(F64)
    return np.einsum("abm,abm->ab", a, b).astype(F64)


def _col(v: np.ndarray, dt) -> np.ndarray:
    """A per-channel vector as a (B, 1) column in ``dt``, to broadcast over (A, B, M)."""
    return v.astype(dt, copy=False)[:, None]


def _moments(x3: np.ndarray, axis0: bool):
    """Statistics of an (A, B, M) array per b over axes (0, 2) when ``axis0`` (batch
    norm), or per (a, b) over M otherwise (instance norm: A = 1 view is the same).

    Returns ``(d, mu, m_d, var, n)``: ``d = x - mu_hi`` in x's dtype, with ``mu_hi``
    the rounded first-pass mean; the mean ``mu = mu_hi + m_d``, ``m_d = mean(d)``
    and the biased ``var`` in float64, shaped (B,) when ``axis0`` else (A, B);
    ``n`` the count per statistic.
    """
    A, B, M = x3.shape
    reduce = (lambda s: s.sum(axis=0)) if axis0 else (lambda s: s)
    n = (A if axis0 else 1) * M
    mu_hi = (reduce(_sum_m(x3)) / n).astype(x3.dtype)
    d = x3 - (mu_hi[:, None] if axis0 else mu_hi[..., None])
    m_d = reduce(_sum_m(d)) / n
    var = np.maximum(reduce(_dot_m(d, d)) / n - m_d * m_d, 0.0)
    # An infinite first-pass mean makes d (and m_d) NaN; the mean itself stays +-inf, as torch's.
    mu = np.where(np.isfinite(mu_hi), mu_hi + m_d, mu_hi)
    return d, mu, m_d, var, n


def check_eps(eps: float, use_batch_stats: bool, who: str = "batch_norm") -> None:
    from .._validate import check

    if use_batch_stats:
        check(not eps <= 0.0, ValueError, f"{who} eps must be positive during training, but got {eps}")
    else:
        check(not eps < 0.0, ValueError, f"{who} eps must be non-negative, but got {eps}")


# ----------------------------------------------------------------------------------
# Batch norm
# ----------------------------------------------------------------------------------


def _quiet(fn):
    """Run ``fn`` with NumPy's floating-point warnings off: NaN and inf inputs propagate
    as torch's do, silently."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return wrapper


@_quiet
def batch_norm(x: Tensor, running_mean, running_var, weight: Tensor | None, bias: Tensor | None,
               use_batch_stats: bool, exponential_average_factor: float, eps: float):
    """Normalise over every dim but dim 1 (channels).

    y = (x - mu) / sqrt(var + eps) * weight + bias

    With ``use_batch_stats``: mu and var (biased) are the batch's; the running
    buffers are blended toward mu and the *unbiased* var with factor ``f``:
    ``r <- (1 - f) r + f s``. Otherwise the running buffers are used as given.
    An empty batch gives an empty output and leaves the buffers alone (as torch).
    ``weight`` and ``bias`` may each be None (affine=False, or bias=False).

    Returns ``(y, new_running_mean, new_running_var)`` (the buffers are None when
    not updated); the caller assigns them, so a failed call changes nothing.

    Backward with batch stats (xhat = normalised input, a = weight * invstd):
    dx = a (g - mean(g) - xhat mean(g xhat)); dweight = sum(g xhat); dbias = sum(g).
    With running stats: dx = g a. Computed as ``dx = g a - k d + c`` per channel
    from two per-channel sums (sum g, sum g d), d = x - mu_hi (module docstring).
    """
    dt = x.dtype
    C = x.shape[1]
    x3 = x.data.reshape(x.shape[0], C, int(np.prod(x.shape[2:], dtype=np.int64)))
    N, _, M = x3.shape
    n = N * M
    new_mean = new_var = None
    if use_batch_stats and n:
        d, mean, m_d, var, n = _moments(x3, axis0=True)
        if running_mean is not None:
            f = exponential_average_factor
            unbiased = var * (n / (n - 1)) if n > 1 else np.full_like(var, np.nan)
            new_mean = ((1 - f) * running_mean + f * mean).astype(running_mean.dtype)
            new_var = ((1 - f) * running_var + f * unbiased).astype(running_var.dtype)
        batch = True
    elif use_batch_stats:  # an empty batch: nothing to normalise, the buffers stay
        d, m_d, var, batch = x3, np.zeros(C), np.ones(C), True
    else:
        d = x3 - _col(running_mean, dt)
        m_d, var, batch = np.zeros(C), running_var.astype(F64), False
    invstd = 1 / np.sqrt(var + eps)
    w = weight.data.astype(F64) if weight is not None else 1.0
    a = w * invstd
    c = (bias.data.astype(F64) if bias is not None else 0.0) - m_d * a
    y = d * _col(a, dt)
    y += _col(np.broadcast_to(c, (C,)), dt)

    @_quiet
    def vjp(g):
        g3 = g.reshape(x3.shape)
        gs = _sum_m(g3).sum(axis=0)
        sum_gxhat = (_dot_m(g3, d).sum(axis=0) - m_d * gs) * invstd
        grads = [None]
        if x.requires_grad:
            dx = g3 * _col(np.broadcast_to(a, (C,)), dt)
            if batch and n:
                k = a * invstd * sum_gxhat / n
                dx -= d * _col(k, dt)
                dx += _col(k * m_d - a * gs / n, dt)
            grads[0] = dx.reshape(x.shape)
        if weight is not None:
            grads.append(sum_gxhat.astype(weight.dtype))
        if bias is not None:
            grads.append(gs.astype(bias.dtype))
        return tuple(grads)

    parents = (x,) + tuple(t for t in (weight, bias) if t is not None)
    return op(y.reshape(x.shape), parents, vjp), new_mean, new_var
