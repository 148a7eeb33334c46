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
    """
    dt = x.dtype
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    n = x.size // x.shape[1] if x.shape[1] else 0
    new_mean = new_var = None
    if use_batch_stats:
        if n == 0:  # torch returns an (empty) result and leaves the running stats alone
            mean = np.zeros(x.shape[1], dt)
            var = np.ones(x.shape[1], dt)
        else:
            # Statistics accumulate in float64 (then round once to the input's dtype):
            # with a near-constant channel, invstd ~ 1/sqrt(eps) amplifies any
            # rounding in the mean, so a float32 running sum is not good enough.
            mean = x.data.mean(axis=axes, dtype=np.float64).astype(dt)
            centred = x.data - mean.reshape(bshape)
            var = np.mean(np.square(centred), axis=axes, dtype=np.float64).astype(dt)
            if running_mean is not None:
                f = exponential_average_factor
                unbiased = var * (np.asarray(n, dt) / np.asarray(n - 1, dt)) if n > 1 else np.full_like(var, np.nan)
                new_mean = ((1 - f) * running_mean + f * mean).astype(running_mean.dtype)
                new_var = ((1 - f) * running_var + f * unbiased).astype(running_var.dtype)
    else:
        mean, var = running_mean.astype(dt, copy=False), running_var.astype(dt, copy=False)
    invstd = (1 / np.sqrt(var + np.asarray(eps, dt))).astype(dt, copy=False)
    xhat = (x.data - mean.reshape(bshape)) * invstd.reshape(bshape)
    y = xhat
    if weight is not None:
        y = y * weight.data.reshape(bshape)
    if bias is not None:
        y = y + bias.data.reshape(bshape)

    def vjp(g):
        w = weight.data.reshape(bshape) if weight is not None else np.ones((), dt)
        sum_g = g.sum(axis=axes)
        sum_gx = (g * xhat).sum(axis=axes)
        gx = None
        if x.requires_grad:
            if use_batch_stats and n:
                # torch's better-conditioned form: w invstd (g - mean(g) - xhat mean(g xhat)),
                # the means accumulated in float64.
                mean_g = g.mean(axis=axes, dtype=np.float64).astype(dt).reshape(bshape)
                mean_gx = (g * xhat).mean(axis=axes, dtype=np.float64).astype(dt).reshape(bshape)
                gx = (w * invstd.reshape(bshape)) * (g - mean_g - xhat * mean_gx)
            else:
                gx = g * (w * invstd.reshape(bshape))
        gw = sum_gx if weight is not None else None
        gb = sum_g if bias is not None else None
        return gx, gw, gb

    parents = (x,) + tuple(t for t in (weight, bias) if t is not None)

    def vjp_parents(g):
        gx, gw, gb = vjp(g)
        return (gx,) + tuple(v for v, t in ((gw, weight), (gb, bias)) if t is not None)

    return op(y.astype(dt, copy=False), parents, vjp_parents), new_mean, new_var
