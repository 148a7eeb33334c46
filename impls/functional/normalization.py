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

from .._validate import check
from ..autograd import Tensor, op

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm", "local_response_norm", "cross_map_lrn2d"]

F64 = np.float64


# ----------------------------------------------------------------------------------
# Shared helpers on (A, B, M) views: per-(a, b) sums over M, as float64.
# ----------------------------------------------------------------------------------


def _sum_m(a: np.ndarray, acc=None) -> np.ndarray:
    """Sum over the last axis of an (A, B, M) array, as float64 (A, B). The input's dtype
    accumulates over M, unless ``acc`` (float64) is given. (einsum, not a BLAS product
    with ones: as fast on one thread, and immune to BLAS thread oversubscription.)"""
    if a.shape[2] == 1:
        return a[..., 0].astype(F64)
    return np.einsum("abm->ab", a, dtype=acc).astype(F64)


def _dot_m(a: np.ndarray, b: np.ndarray, acc=None) -> np.ndarray:
    """Sum over the last axis of a * b for (A, B, M) arrays, as float64 (A, B); accumulated
    in ``acc`` when given (else in the inputs' dtype)."""
    if a.shape[2] == 1:
        return (a[..., 0].astype(acc or a.dtype) * b[..., 0]).astype(F64)
    return np.einsum("abm,abm->ab", a, b, dtype=acc).astype(F64)


def _col(v: np.ndarray, dt) -> np.ndarray:
    """A per-channel vector as a (B, 1) column in ``dt``, to broadcast over (A, B, M)."""
    return v.astype(dt, copy=False)[:, None]


def _work_dtype(dt, invstd) -> np.dtype:
    """The dtype of a backward's sums and per-element combination. Its terms are of size
    invstd |g w| while the result can cancel to far less, and the per-channel sums of g and
    g (x - mean) enter with factors up to invstd^3; float32 rounding then leaves about
    3 * 2^-24 * invstd |g w| (times xhat^2 for the sums). Up to invstd = 4 (a standard
    deviation >= 0.25) that is at most 7e-7 |g w|, inside the 1e-5 absolute tolerance for
    |g w| < 14; above it (a near-constant channel or row: invstd reaches 1 / sqrt(eps) ~
    316) the sums accumulate and the combination runs in float64, rounded once (seen in the
    dev soak: an all-zero group norm input, an instance with one nonzero value)."""
    if dt == np.float32 and np.max(invstd, initial=0.0) > 4.0:
        return np.dtype(F64)
    return np.dtype(dt)


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
    """torch.nn.functional.batch_norm's check (the instance norms do not make it)."""
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
        wd = _work_dtype(dt, invstd) if batch and n else np.dtype(dt)
        acc = F64 if wd == F64 else None
        gs = _sum_m(g3, acc).sum(axis=0)
        if batch:
            sum_gxhat = (_dot_m(g3, d, acc).sum(axis=0) - m_d * gs) * invstd
        elif weight is not None:
            # Running statistics: dweight = invstd sum g (x - running_mean) cancels when the
            # input sits far from the running mean (|x - rm| ~ 2000 summing to ~100: dev soak),
            # and each float32 x - rm carries its own rounding into it. From x in float64.
            sum_gxhat = _dot_m(g3, x3.astype(F64) - running_mean.astype(F64)[:, None], F64).sum(axis=0) * invstd
        grads = [None]
        if x.requires_grad:
            dx = g3.astype(wd, copy=False) * _col(np.broadcast_to(a, (C,)), wd)
            if batch and n:
                k = a * invstd * sum_gxhat / n
                dx -= d.astype(wd, copy=False) * _col(k, wd)
                dx += _col(k * m_d - a * gs / n, wd)
            grads[0] = dx.astype(dt, copy=False).reshape(x.shape)
        if weight is not None:
            grads.append(sum_gxhat.astype(weight.dtype))
        if bias is not None:
            grads.append(gs.astype(bias.dtype))
        return tuple(grads)

    parents = (x,) + tuple(t for t in (weight, bias) if t is not None)
    return op(y.reshape(x.shape), parents, vjp), new_mean, new_var


# ----------------------------------------------------------------------------------
# Row normalisers: layer, group, instance and RMS norm
# ----------------------------------------------------------------------------------


@_quiet
def _normalize_last(x: Tensor, R: int, D: int, weight: Tensor | None, bias: Tensor | None, eps: float,
                    centre: bool = True) -> Tensor:
    """Layer and RMS norm: normalise each row of x's (R, D) reshape, then the elementwise
    affine along D. xhat = (x - mean) / sqrt(var + eps) (biased var), or with
    ``centre=False`` xhat = x / sqrt(mean(x^2) + eps); y = xhat * weight + bias.

    Backward, per row, with gh = g * weight and r = invstd:
    dx = r (gh - mean(gh)) - xhat r mean(gh xhat)   (RMS norm: without mean(gh)),
    dweight = sum over rows of g xhat, dbias = sum over rows of g.
    """
    dt = x.dtype
    x3 = x.data.reshape(1, R, D)
    if centre:
        xhat, _, m_d, var, _ = _moments(x3, axis0=False)
        xhat, m_d, var = xhat[0], m_d[0], var[0]
    else:
        xhat, m_d, var = x3[0].copy(), None, _dot_m(x3, x3)[0] / D
    invstd = 1 / np.sqrt(var + eps)
    wd = _work_dtype(dt, invstd)
    d = xhat.copy() if wd != dt else None  # kept for a float64 backward (see _work_dtype)
    xhat *= _col(invstd, dt)  # d = x - mu_hi is ours: normalised in place
    shift = m_d * invstd if centre else None
    # The remainder of the mean is subtracted unless it is below 2^-5 ulp(1) in every row:
    # skipping it then moves xhat by at most that much in absolute terms (3.7e-9 in
    # float32, 7e-18 in float64), far below the absolute tolerance of either dtype.
    if centre and np.max(np.abs(shift), initial=0.0) > np.finfo(dt).eps / 32:
        xhat -= _col(shift, dt)
    w = weight.data.reshape(D) if weight is not None else None
    y = xhat * w if w is not None else xhat.copy()
    if bias is not None:
        y += bias.data.reshape(D)

    @_quiet
    def vjp(g):
        g2 = g.reshape(R, D)
        grads = [None]
        if x.requires_grad:
            if wd != dt:  # recompute xhat in float64 from d, which is exact
                xh = d.astype(wd)
                if centre:
                    xh -= m_d[:, None]
                xh *= invstd[:, None]
            else:
                xh = xhat
            gh = g2.astype(wd, copy=False) * w if w is not None else g2.astype(wd, copy=True)  # ours: written in place
            k = invstd * _dot_m(gh[None], xh[None])[0] / D
            shift = _sum_m(gh[None])[0] / D if centre else None
            # Centre before scaling by invstd: for D = 1 (or a constant cotangent) gh - mean(gh)
            # is then exactly 0, where scaling first would leave invstd-amplified rounding.
            if centre:
                gh -= _col(shift, wd)
            gh *= _col(invstd, wd)
            gh -= xh * _col(k, wd)
            grads[0] = gh.astype(dt, copy=False).reshape(x.shape)
        if weight is not None:
            grads.append(np.einsum("rd,rd->d", g2, xhat).reshape(weight.shape) if weight.requires_grad else None)
        if bias is not None:
            grads.append(g2.sum(axis=0).reshape(bias.shape) if bias.requires_grad else None)
        return tuple(grads)

    parents = (x,) + tuple(t for t in (weight, bias) if t is not None)
    return op(y.reshape(x.shape), parents, vjp)


@_quiet
def _normalize_channels(x: Tensor, N: int, C: int, M: int, G: int, weight: Tensor | None, bias: Tensor | None,
                        eps: float):
    """Group and instance norm: x as (N, C, M); statistics per (sample, group of
    K = C / G consecutive channels) over (K, M); then a per-channel affine.
    y = d A + B with d = x - mu_hi (module docstring), A[n, c] = r[n, g] w[c] and
    B[n, c] = b[c] - m_d[n, g] A[n, c], r the group's invstd.

    Returns ``(y, mean, var)``, the per-(n, g) statistics as float64 (N, G).

    Backward from two per-(n, c) sums, gs = sum_m g and gd = sum_m g d:
    dweight[c] = sum_n r (gd - m_d gs), dbias[c] = sum_n gs; with the group sums
    s1 = sum_k w gs and s2 = r sum_k w (gd - m_d gs), D = K M,
    dx = g (r w) + d (-r^2 s2 / D) + (-r s1 / D + m_d r^2 s2 / D); exactly 0 for D = 1.
    """
    dt = x.dtype
    K, D = C // G, (C // G) * M
    d, mean, m_d, var, _ = _moments(x.data.reshape(N, G, D), axis0=False)
    invstd = 1 / np.sqrt(var + eps)  # (N, G)
    d3 = d.reshape(N, C, M)
    w = weight.data.astype(F64) if weight is not None else np.ones(C)
    r_c, m_c = np.repeat(invstd, K, axis=1), np.repeat(m_d, K, axis=1)  # per (n, c)
    A = r_c * w
    y = d3 * A.astype(dt)[..., None]
    y += ((bias.data.astype(F64) if bias is not None else 0.0) - m_c * A).astype(dt)[..., None]

    @_quiet
    def vjp(g):
        g3 = g.reshape(N, C, M)
        wd = _work_dtype(dt, invstd)
        acc = F64 if wd == F64 else None
        gs, gd = _sum_m(g3, acc), _dot_m(g3, d3, acc)
        gx_hat = gd - m_c * gs  # sum over m of g (x - mu), per (n, c)
        grads = [None]
        if x.requires_grad:
            if D == 1:  # groups of one value: xhat = 0 whatever x is, dx = 0 exactly (torch's too)
                dx = np.zeros_like(g3)
            else:
                s1 = (gs * w).reshape(N, G, K).sum(axis=2)
                s2 = invstd * (gx_hat * w).reshape(N, G, K).sum(axis=2)
                b_coef = -invstd * invstd * s2 / D
                coefs = np.stack([np.repeat(b_coef, K, axis=1),
                                  np.repeat(-invstd * s1 / D - m_d * b_coef, K, axis=1)]).astype(wd)[..., None]
                dx = g3.astype(wd, copy=False) * A.astype(wd)[..., None]
                dx += d3.astype(wd, copy=False) * coefs[0]
                dx += coefs[1]
                dx = dx.astype(dt, copy=False)
            grads[0] = dx.reshape(x.shape)
        if weight is not None:
            grads.append((r_c * gx_hat).sum(axis=0).astype(weight.dtype) if weight.requires_grad else None)
        if bias is not None:
            grads.append(gs.sum(axis=0).astype(bias.dtype) if bias.requires_grad else None)
        return tuple(grads)

    parents = (x,) + tuple(t for t in (weight, bias) if t is not None)
    return op(y.reshape(x.shape), parents, vjp), mean, var


def _normalized_rows(x, normalized_shape, who: str) -> tuple:
    """(R, D) for normalising over the trailing ``normalized_shape`` (torch's checks)."""
    shape = tuple(normalized_shape)
    k = len(shape)
    check(k >= 1, RuntimeError, f"{who}: Expected normalized_shape to be at least 1-dimensional, i.e., containing at "
                                f"least one element, but got normalized_shape = {list(shape)}")
    check(x.ndim >= k and tuple(x.shape[x.ndim - k:]) == shape, RuntimeError,
          f"{who}: Given normalized_shape={list(shape)}, expected input with shape [*, {', '.join(map(str, shape))}], "
          f"but got input of size{list(x.shape)}")
    D = int(np.prod(shape, dtype=np.int64))
    return (x.size // D if D else int(np.prod(x.shape[:x.ndim - k], dtype=np.int64)), D)


def _check_float(x, who: str) -> None:
    # torch: NotImplementedError '"<op>" not implemented for 'Long'' (a RuntimeError subclass)
    if x.dtype.kind != "f":
        raise NotImplementedError(f"{who}: not implemented for {x.dtype} input (floating point only)")


def layer_norm(x: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias over the trailing
    ``normalized_shape`` dims (biased variance). weight and bias have that shape."""
    R, D = _normalized_rows(x, normalized_shape, "layer_norm")
    _check_float(x, "layer_norm")
    return _normalize_last(x, R, D, weight, bias, eps)


def rms_norm(x: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """y = x / sqrt(mean(x^2) + eps) * weight over the trailing ``normalized_shape``
    dims; ``eps=None`` is the machine epsilon of x's dtype (torch: finfo(dtype).eps)."""
    R, D = _normalized_rows(x, normalized_shape, "rms_norm")
    _check_float(x, "rms_norm")
    eps = float(np.finfo(x.dtype).eps) if eps is None else eps
    return _normalize_last(x, R, D, weight, None, eps, centre=False)


def group_norm(x: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each of ``num_groups`` groups of C / num_groups consecutive channels
    over (channels of the group, spatial dims) per sample; then per-channel affine.
    torch's checks, in order: rank >= 2 (RuntimeError); its value-count rule
    (N * C // G) * prod(spatial) != 1 (ValueError, as batch norm's; it is not the
    group size); C divisible by G and the weight size (RuntimeError)."""
    check(x.ndim >= 2, RuntimeError, f"Expected at least 2 dimensions for input tensor but received {x.ndim}")
    N, C = x.shape[:2]
    M = int(np.prod(x.shape[2:], dtype=np.int64))
    check((N * C // num_groups) * M != 1, ValueError,
          f"Expected more than 1 value per channel when training, got input size {[N * C // num_groups, num_groups] + list(x.shape[2:])}")
    check(C % num_groups == 0, RuntimeError,
          f"Expected number of channels in input to be divisible by num_groups, but got input of shape {list(x.shape)} "
          f"and num_groups={num_groups}")
    check(weight is None or weight.size == C, RuntimeError,
          f"Expected weight to be a vector of size equal to the number of channels in input, but got weight of shape "
          f"{list(weight.shape) if weight is not None else None} and input of shape {list(x.shape)}")
    _check_float(x, "group_norm")
    return _normalize_channels(x, N, C, M, num_groups, weight, bias, eps)[0]


def instance_norm(x: Tensor, running_mean, running_var, weight: Tensor | None, bias: Tensor | None,
                  use_input_stats: bool, momentum: float, eps: float):
    """Normalise each (sample, channel) over the spatial dims; per-channel affine.

    With ``use_input_stats`` the statistics are each instance's; tracked running
    buffers are blended as torch does, through a batch norm of the (1, N*C, *)
    reshape: r <- mean over the batch of ((1 - f) r + f s) = (1 - f) r + f mean_n(s),
    with the unbiased variance for s. An empty batch makes that mean NaN (torch's too).
    Otherwise the running buffers normalise, as batch norm in eval.
    Returns ``(y, new_running_mean, new_running_var)`` (None when not updated).
    """
    if not use_input_stats:
        return batch_norm(x, running_mean, running_var, weight, bias, False, 0.0, eps)
    N, C = x.shape[:2]
    M = int(np.prod(x.shape[2:], dtype=np.int64))
    y, mean, var = _normalize_channels(x, N, C, M, C, weight, bias, eps)
    new_mean = new_var = None
    if running_mean is not None:
        f = momentum
        with np.errstate(all="ignore"):
            unbiased = var * (M / (M - 1)) if M > 1 else np.full_like(var, np.nan)
            batch_mean = mean.reshape(N, C).mean(axis=0) if N else np.full(C, np.nan)
            batch_var = unbiased.reshape(N, C).mean(axis=0) if N else np.full(C, np.nan)
        new_mean = ((1 - f) * running_mean + f * batch_mean).astype(running_mean.dtype)
        new_var = ((1 - f) * running_var + f * batch_var).astype(running_var.dtype)
        if not N:  # torch: the mean over an empty batch is NaN whatever f is
            new_mean[:], new_var[:] = np.nan, np.nan
    return y, new_mean, new_var


# ----------------------------------------------------------------------------------
# Local response normalisation
# ----------------------------------------------------------------------------------


def _channel_window_sum(a: np.ndarray, lo: int, hi: int, first: int = 0) -> np.ndarray:
    """out[:, c] = sum of a[:, j] for j in [c + lo, c + hi] ∩ [first, C - 1] (channels on
    axis 1; zero outside). A loop over the window's offsets, vectorised over the rest."""
    C = a.shape[1]
    out = np.zeros_like(a)
    for o in range(lo, hi + 1):
        c0, c1 = max(0, first - o), min(C, C - o)  # c with first <= c + o <= C - 1
        if c0 < c1:
            out[:, c0:c1] += a[:, c0 + o:c1 + o]
    return out


@_quiet
def local_response_norm(x: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """b_c = a_c / (k + alpha / size * sum_{c'} a_{c'}^2)^beta over the channels
    c' in [c - size // 2, c + (size - 1) // 2] (zero-padded, the average always
    divides by ``size``: torch pads and average-pools; even sizes reach one channel
    further back than forward). Input (N, C, *), at least 3-D (ValueError); an empty
    input is returned as it is.

    Backward, as torch's autograd of that composition: with base = k + alpha avg,
    div = base^beta, gx = g / div + 2 x W^T(-g (y / div) beta base^(beta - 1) alpha) / size,
    W^T the transposed window. x^2 is formed in x's dtype (so it overflows where
    torch's does), the rest in float64, rounded once.
    """
    check(x.ndim >= 3, ValueError, f"Expected 3D or higher dimensionality input (got {x.ndim} dimensions)")
    if x.size == 0:
        return x
    check(size > 0, RuntimeError, f"local_response_norm: kernel size should be greater than zero, but got {size}")
    dt = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)  # torch: int / float -> float32
    xd = x.data.astype(F64)
    sq = (x.data * x.data).astype(F64)
    lo, hi = -(size // 2), (size - 1) // 2
    base = _channel_window_sum(sq, lo, hi) / size * alpha + k
    div = base ** beta
    y = xd / div

    @_quiet
    def vjp(g):
        gd = g.astype(F64)
        g_base = -gd * (y / div) * (beta * base ** (beta - 1)) if beta != 0 else np.zeros_like(gd)
        g_sq = _channel_window_sum(g_base * alpha, -hi, -lo) / size
        return ((gd / div + (g_sq * xd + g_sq * xd)).astype(dt),)

    return op(y.astype(dt), (x,), vjp)


@_quiet
def cross_map_lrn2d(x: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """torch's legacy CrossMapLRN2d (torch/nn/_functions.py), formula for formula.

    Forward: scale_c = k + alpha / size * s_c, y = x scale^-beta, where s_c is the
    running sum of torch's loop: with pre_pad = int((size - 1) / 2 + 1),
    s_c = x_0^2 + sum of x_j^2 for j in [max(1, c - pre_pad + 1), min(c + pre_pad - 1, C - 1)].
    Channel 0's square is never removed from the running sum (its removal test is
    ``c > pre_pad``), so it is in every window: unlike LocalResponseNorm for C > pre_pad.

    Backward, torch's hand-written one (not the derivative of the forward above,
    except for few channels; docs/torch-findings.md): with r = g y / scale and
    ipp = int(size - (size - 1) / 2),
    gx_c = g_c scale_c^-beta - 2 alpha beta / size x_c sum of r_j for j in
    [c - ipp, c + size - 1 - ipp]. For size 1 torch's backward fails (a narrow out of
    range: RuntimeError), and so does the twin's.
    Input 4-D only (ValueError); alpha / size is a Python division (size 0:
    ZeroDivisionError, as torch).
    """
    check(x.ndim == 4, ValueError, f"CrossMapLRN2d: Expected input to be 4D, got {x.ndim}D instead.")
    ratio = alpha / size  # ZeroDivisionError for size 0, as torch
    check(np.issubdtype(x.dtype, np.floating), RuntimeError,
          f"CrossMapLRN2d: result type Float can't be cast to the desired output type {x.dtype}")
    dt = x.dtype
    C = x.shape[1]
    pre_pad = int((size - 1) / 2 + 1)
    sq = (x.data * x.data).astype(F64)
    # torch's running sum, vectorised as a difference of prefix sums over channels 1..:
    # s_c = sq_0 + P(min(c + pre_pad - 1, C - 1)) - P(c - pre_pad), P(m) = sum of sq_j, 1 <= j <= m.
    # Sums, not a window: an inf that leaves the window leaves NaN behind, as in torch's loop.
    P = np.concatenate([np.zeros_like(sq[:, :1]), np.cumsum(sq[:, 1:], axis=1)], axis=1)  # P[:, m]
    c = np.arange(C)
    s = sq[:, :1] + P[:, np.minimum(c + pre_pad - 1, C - 1)] - P[:, np.clip(c - pre_pad, 0, None)]
    scale = s * ratio + k
    y = scale ** -beta * x.data.astype(F64)

    @_quiet
    def vjp(g):
        ipp = int(size - (size - 1) / 2)
        check(ipp <= size - 1, RuntimeError,
              f"CrossMapLRN2d backward: start ({ipp}) + length ({C}) exceeds dimension size ({C + size - 1}) "
              "(torch's backward fails for size=1)")
        gd = g.astype(F64)
        r = gd * y / scale
        # torch's accumulator over the zero-padded ratios Q (Q[ipp + j] = r_j, length C + size - 1):
        # add Q[c + size - 1], use, subtract Q[c]; as prefix sums acc_c = S[c + size] - S[c].
        Q = np.zeros((r.shape[0], C + size - 1) + r.shape[2:])
        Q[:, ipp:ipp + C] = r
        S = np.concatenate([np.zeros_like(Q[:, :1]), np.cumsum(Q, axis=1)], axis=1)
        acc = S[:, size:size + C] - S[:, :C]
        gx = scale ** -beta * gd - (2 * alpha * beta / size) * x.data.astype(F64) * acc
        return (gx.astype(dt),)

    return op(y.astype(dt), (x,), vjp)
