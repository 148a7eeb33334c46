"""Batch normalisation."""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, op

__all__ = ["batch_norm"]


def batch_norm(x: Tensor, running_mean, running_var, weight: Tensor | None, bias: Tensor | None,
               use_batch_stats: bool, exponential_average_factor: float, eps: float):
    """Normalise over every dim but dim 1 (channels).

    y = (x - mu) / sqrt(var + eps) * weight + bias

    With ``use_batch_stats``: mu and var (biased) are the batch's; the running
    buffers are blended toward mu and the *unbiased* var with factor ``f``:
    ``r <- (1 - f) r + f s``. Otherwise the running buffers are used as given.

    Returns ``(y, new_running_mean, new_running_var)`` (the buffers are None when
    not updated); the caller assigns them, so a failed call changes nothing.

    Backward with batch stats (xhat = normalised input):
    dx = weight * invstd * (g - mean(g) - xhat mean(g xhat)); dweight = sum(g xhat);
    dbias = sum(g). With running stats: dx = g * weight * invstd.

    Precision: everything is computed in float64 and rounded once to the input's
    dtype. In float32, a channel whose variance is small against eps (a constant
    channel, say) has invstd ~ 1/sqrt(eps) ~ 316, which amplifies every rounding in
    x - mu; float32 intermediates then lose 3-4 digits (torch's CPU kernel does,
    measurably: the float64 oracle shows it). Rounding once keeps the twin within
    half an ulp of the exact result.
    """
    dt = x.dtype
    f64 = np.float64
    C = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, C) + (1,) * (x.ndim - 2)
    n = x.size // C if C else 0
    new_mean = new_var = None
    if use_batch_stats:
        if n == 0:  # torch returns an (empty) result and leaves the running stats alone
            mean, var = np.zeros(C, f64), np.ones(C, f64)
        else:
            mean = x.data.mean(axis=axes, dtype=f64)
            centred = x.data.astype(f64)
            centred -= mean.reshape(bshape)
            var = np.einsum(_sum_sq(x.ndim), centred, centred) / n
            if running_mean is not None:
                f = exponential_average_factor
                unbiased = var * (n / (n - 1)) if n > 1 else np.full_like(var, np.nan)
                new_mean = ((1 - f) * running_mean + f * mean).astype(running_mean.dtype)
                new_var = ((1 - f) * running_var + f * unbiased).astype(running_var.dtype)
    else:
        mean, var = running_mean.astype(f64), running_var.astype(f64)
    invstd = 1 / np.sqrt(var + eps)
    w = weight.data.astype(f64) if weight is not None else np.ones(C, f64)
    b = bias.data.astype(f64) if bias is not None else np.zeros(C, f64)
    # y = x a + c with a = w invstd, c = b - mean a: in float64 this fused form's
    # rounding (~1e-16 * invstd) is far below a float32 ulp.
    a = w * invstd
    y = x.data.astype(f64)
    y *= a.reshape(bshape)
    y += (b - mean * a).reshape(bshape)

    def vjp(g):
        g = g.astype(f64)
        xhat = x.data.astype(f64)
        xhat -= mean.reshape(bshape)
        xhat *= invstd.reshape(bshape)
        sum_gx = np.einsum(_sum_prod(x.ndim), g, xhat)
        sum_g = g.sum(axis=axes)
        grads = [None]
        if x.requires_grad:
            if use_batch_stats and n:
                xhat *= (sum_gx / n).reshape(bshape)
                g -= (sum_g / n).reshape(bshape)
                g -= xhat
            g *= a.reshape(bshape)
            grads[0] = g.astype(dt)
        if weight is not None:
            grads.append(sum_gx.astype(weight.dtype))
        if bias is not None:
            grads.append(sum_g.astype(bias.dtype))
        return tuple(grads)

    parents = (x,) + tuple(t for t in (weight, bias) if t is not None)
    return op(y.astype(dt), parents, vjp), new_mean, new_var


def _sum_sq(ndim: int) -> str:
    """einsum spec summing a*b over every axis but 1: 'ab,ab->b' (2-D), 'abc,abc->b' (3-D)."""
    letters = 'abcdefgh'[:ndim]
    return f'{letters},{letters}->b'


_sum_prod = _sum_sq
