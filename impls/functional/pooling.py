"""Pooling: max, average, power-average (LP), adaptive, fractional max and max-unpooling.

One code path per kind serves 1, 2 and 3 spatial dims (``nd``). The leading dims
(N, C) or (C,) are flattened into *planes*; every function works on an array of
shape ``(P, *spatial)`` and restores the leading dims at the end. Indices, as torch
returns them, are flat positions within one plane (row-major over the spatial dims).

Vectorisation: the forward loops over *kernel offsets* (``prod(kernel)``
iterations), each a strided view of the padded input (regular pooling), per-axis
``np.take`` gathers (adaptive pooling) or one flat gather (fractional pooling) over
every output position at once. Max-type pools track the winning tap branch-free and
gather the output values at it. The backward is one strided ``+=`` per kernel offset
(average pooling), one ``np.add.at`` over flat indices in output order (max-type
pooling; torch's accumulation order), or one contraction per axis with 0/1 window
matrices (adaptive average).

torch's conventions, from its CPU kernels (torch 2.13.0; ``aten/src/ATen/native/``
``cpu/MaxPoolKernel.cpp``, ``cpu/AvgPoolKernel.cpp``, ``cpu/AdaptiveMaxPoolKernel.cpp``,
``cpu/AdaptiveAvgPoolKernel.cpp``, ``FractionalMaxPool2d.cpp``, ``cpu/MaxUnpoolKernel.cpp``,
``Pool.h``) and ``torch/nn/functional.py``:

* **Output size** (``Pool.h: pooling_output_shape``):
  ``o = floor((L + 2p - d(k-1) - 1 + (s-1 if ceil_mode)) / s) + 1``, and in ceil
  mode a last window that would start in the right padding (``(o-1)s >= L + p``) is
  dropped. ``o < 1`` is an error.
* **Padding** must satisfy ``p <= k // 2`` (the *kernel*, not the dilated effective
  kernel: torch 2.13 checks ``kW / 2 >= padW`` for 1-, 2- and 3-d max pooling).
* **Max** (every max-type pool): the running maximum starts at -inf with the index
  of the window's first in-bounds tap; a tap replaces it when ``v > max`` or
  ``isnan(v)``. So ties keep the *first* tap (row-major), and with NaNs the *last*
  NaN wins. A window with no in-bounds tap (possible with dilation, only in the
  padding) gives -inf and the index of the first tap at or past the left edge, which
  may lie outside the plane; its gradient is dropped here (torch writes it through
  that index, out of the plane; see ``docs/torch-findings.md``).
* **Average**: the window is clipped to the padded extent ``[-p, L + p)`` for the
  ``count_include_pad`` divisor and to ``[0, L)`` for the sum and the other divisor;
  ``divisor_override`` replaces both. Sums run in the input dtype in row-major tap
  order, as torch's, then ``sum / divisor``; an empty window gives 0.
* **Adaptive**: output i pools ``[floor(i L / o), ceil((i + 1) L / o))``.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from .._validate import check
from ..autograd import Tensor, op
from ..autograd import sign as torch_sign

__all__ = [
    "pool_output_size", "max_pool", "avg_pool", "lp_pool", "adaptive_max_pool", "adaptive_avg_pool",
    "fractional_intervals", "fractional_max_pool", "unpool_output_size", "max_unpool", "pow_scalar",
]

_SPATIAL = {1: "L", 2: "H x W", 3: "D x H x W"}


# ----------------------------------------------------------------------------------
# Argument parsing (torch's IntArrayRef rules: an int, or a list of 1 or nd ints)
# ----------------------------------------------------------------------------------

def _is_int(v) -> bool:
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)


def int_tuple(value, nd: int, name: str, who: str, allow_empty: bool = False) -> tuple:
    """``value`` as a tuple of ``nd`` ints: an int is repeated, a 1-element list is
    broadcast (as ATen does). Non-ints raise TypeError (torch's argument parser),
    a wrong length RuntimeError (ATen)."""
    if _is_int(value):
        return (int(value),) * nd
    check(isinstance(value, (tuple, list)) and all(_is_int(v) for v in value), TypeError,
          f"{who}: argument '{name}' must be an int or a tuple of ints, not {value!r}")
    if allow_empty and len(value) == 0:
        return ()
    check(len(value) in (1, nd), RuntimeError,
          f"{who}: {name} must either be a single int, or a tuple of {nd} ints, got {tuple(value)}")
    return tuple(int(v) for v in value) * (nd if len(value) == 1 else 1)


def pool_output_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """Pool.h ``pooling_output_shape``: floor (or ceil) of the window count; in ceil mode
    a last window starting in the right padding is dropped."""
    o = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= size + p:
        o -= 1
    return o


def _planes(x: Tensor, nd: int):
    """(P, *spatial) view of the input, and the leading shape to restore."""
    lead = x.shape[:-nd]
    P = int(np.prod(lead, dtype=np.int64))
    return np.ascontiguousarray(x.data).reshape((P,) + x.shape[-nd:]), lead


def _check_float(x: Tensor, who: str) -> None:
    """torch's floating-only kernels raise NotImplementedError ("... not implemented for
    'Long'"). (Its average and LP pooling also take integers; the twins do not.)"""
    check(np.issubdtype(x.dtype, np.floating), NotImplementedError, f"{who}: not implemented for {x.dtype} inputs")


def _check_dims(x: Tensor, nd: int, who: str, kind: type = RuntimeError) -> None:
    """Batched (N, C, *S) or unbatched (C, *S); every non-batch dim must be non-empty."""
    check(x.ndim in (nd + 1, nd + 2), kind,
          f"{who}: expected a {nd + 1}D (unbatched) or {nd + 2}D (batched) input, got shape {x.shape}")
    check(all(n > 0 for n in x.shape[x.ndim - nd - 1:]), RuntimeError,
          f"{who}: expected non-empty non-batch dimensions (only the batch may be 0), got shape {x.shape}")


# ----------------------------------------------------------------------------------
# Regular windows: kernel k, stride s, padding p, dilation d per spatial axis
# ----------------------------------------------------------------------------------

class _Windows:
    """Window geometry of regular pooling along each spatial axis.

    ``start[a]``: first tap of every output position (may be negative: padding).
    ``pad_lo/pad_hi``: the padding needed so that every tap of every window is an
    index of the padded array (ceil mode can reach past the right padding).
    """

    def __init__(self, sizes, k, s, p, d, ceil_mode, who):
        self.sizes, self.k, self.s, self.p, self.d, self.ceil_mode = tuple(sizes), k, s, p, d, ceil_mode
        self.out = tuple(pool_output_size(L, *a, ceil_mode) for L, *a in zip(sizes, k, s, p, d))
        check(all(o >= 1 for o in self.out), RuntimeError,
              f"{who}: given input size {_SPATIAL[len(sizes)]} = {tuple(sizes)}, the calculated output size "
              f"{self.out} is too small (kernel_size={k}, stride={s}, padding={p}, dilation={d})")
        self.start = [np.arange(o) * s_ - p_ for o, s_, p_ in zip(self.out, s, p)]
        eff = [(k_ - 1) * d_ + 1 for k_, d_ in zip(k, d)]
        self.pad_lo = tuple(p)
        self.pad_hi = tuple(max(0, (o - 1) * s_ + e - p_ - L) for o, s_, e, p_, L in zip(self.out, s, eff, p, sizes))
        self._taps = [(j, self.tap(j)) for j in np.ndindex(*k)]
        self.divisors = {}  # (count_include_pad, divisor_override) -> (divisor, nonempty), filled by avg pooling

    def padded(self, xd: np.ndarray, fill) -> np.ndarray:
        if not any(self.pad_lo) and not any(self.pad_hi):
            return xd
        shape = (xd.shape[0],) + tuple(L + lo + hi for L, lo, hi in zip(self.sizes, self.pad_lo, self.pad_hi))
        out = np.full(shape, fill, dtype=xd.dtype)
        out[self.interior] = xd
        return out

    @property
    def interior(self):
        return (slice(None),) + tuple(slice(lo, lo + L) for lo, L in zip(self.pad_lo, self.sizes))

    def tap(self, j) -> tuple:
        """Index of tap ``j`` (a kernel offset) of every window in the padded array."""
        return (slice(None),) + tuple(slice(ja * da, ja * da + (o - 1) * sa + 1, sa)
                                      for ja, da, o, sa in zip(j, self.d, self.out, self.s))

    def taps(self):
        """(j, tap(j)) for every kernel offset, row-major."""
        return self._taps

    def broadcast(self, per_axis) -> list:
        """Per-axis 1-D arrays, shaped to broadcast against (P, *out)."""
        nd = len(per_axis)
        return [a.reshape((1,) + tuple(-1 if i == ax else 1 for i in range(nd))) for ax, a in enumerate(per_axis)]

    def first_valid(self):
        """torch's initial tap per axis (``while (i0 < 0) i0 += d``) and whether the
        window holds any in-bounds tap."""
        first, nonempty = [], []
        for st, d, k, L in zip(self.start, self.d, self.k, self.sizes):
            f = st + np.maximum(0, -(st // d)) * d  # st + ceil(max(0, -st) / d) * d
            first.append(f)
            nonempty.append(f < np.minimum(st + (k - 1) * d + 1, L))
        return first, nonempty


def _all(masks):
    """Logical and of masks of different (broadcastable) shapes."""
    out = masks[0]
    for m in masks[1:]:
        out = out & m
    return out


@functools.lru_cache(maxsize=512)
def _windows(sizes, k, s, p, d, ceil_mode, who) -> _Windows:
    """The geometry for one configuration, built once (it is pure Python overhead)."""
    return _Windows(sizes, k, s, p, d, ceil_mode, who)


def _plane_strides(sizes) -> list:
    return [int(np.prod(sizes[a + 1:], dtype=np.int64)) for a in range(len(sizes))]


def _flat(positions, sizes):
    """Flat in-plane index from per-axis positions (broadcasting)."""
    out = 0
    for pos, stride in zip(positions, _plane_strides(sizes)):
        out = out + pos * stride
    return out


def _max_step(best, arg, v, c: int, nan_aware: bool) -> None:
    """One tap of torch's ``if (v > max || isnan(v)) { max = v; index = j; }``, in place
    and branch-free (a masked copy with a random mask is ~10x slower). ``arg`` holds the
    winning tap's flat offset from the window's base position, ``c`` this tap's;
    ``best`` keeps the running maximum for the comparisons (``np.maximum`` propagates
    NaN as torch's rule does; its choice between +0.0 and -0.0 is arbitrary, so output
    values are gathered at the winning indices afterwards)."""
    m = v > best
    if nan_aware:
        m |= np.isnan(v)
    step = np.subtract(c, arg)
    step *= m
    arg += step
    np.maximum(best, v, out=best)


def _tap_offset(j, step, sizes) -> int:
    """Flat in-plane offset of kernel offset j (per-axis step: dilation, or 1)."""
    return sum(ja * da * st for ja, da, st in zip(j, step, _plane_strides(sizes)))


def _gather(xd: np.ndarray, flat: np.ndarray, keep=None, fill=None) -> np.ndarray:
    """x[c][flat[c, o]] for every plane c (windows outside ``keep`` get ``fill``)."""
    P = xd.shape[0]
    plane = xd.size // P if P else 0
    where = flat if keep is None else np.where(keep, flat, 0)
    rows = (np.arange(P, dtype=np.int64) * plane).reshape((-1,) + (1,) * (flat.ndim - 1))
    out = np.take(xd.reshape(-1), where + rows) if xd.size else np.empty(flat.shape, xd.dtype)
    return out if keep is None else np.where(keep, out, np.asarray(fill, xd.dtype))


def _max_backward(g, flat, planes: int, plane_size: int, keep=None) -> np.ndarray:
    """``grad_input[plane][index] += g``, accumulated in g's dtype in output order with
    ``np.add.at`` (torch's loop order, so the float32 sums round alike). Windows outside
    ``keep`` (no in-bounds tap) contribute nothing."""
    rows = (np.arange(planes, dtype=np.int64) * plane_size).reshape((-1,) + (1,) * (g.ndim - 1))
    where = flat + rows
    gi = np.zeros(planes * plane_size, dtype=g.dtype)
    if keep is None:
        np.add.at(gi, where.ravel(), g.ravel())
    else:
        keep = np.broadcast_to(keep, g.shape)
        np.add.at(gi, where[keep], g[keep])
    return gi


def _check_window_args(k, s, p, d, who) -> None:
    check(all(v > 0 for v in k), RuntimeError, f"{who}: kernel size should be greater than zero, but got {k}")
    check(all(v > 0 for v in s), RuntimeError, f"{who}: stride should be greater than zero, but got {s}")
    check(all(v > 0 for v in d), RuntimeError, f"{who}: dilation should be greater than zero, but got {d}")
    check(all(v >= 0 for v in p), RuntimeError, f"{who}: pad must be non-negative, but got {p}")
    check(all(pv <= kv // 2 for pv, kv in zip(p, k)), RuntimeError,
          f"{who}: pad should be at most half of kernel size, but got padding={p} and kernel_size={k}")


def _window_args(nd, kernel_size, stride, padding, dilation, who):
    k = int_tuple(kernel_size, nd, "kernel_size", who)
    s = int_tuple(stride, nd, "stride", who, allow_empty=True) if stride is not None else ()
    s = s or k
    p = int_tuple(padding, nd, "padding", who)
    d = int_tuple(dilation, nd, "dilation", who)
    return k, s, p, d


# ----------------------------------------------------------------------------------
# Max pooling
# ----------------------------------------------------------------------------------

def max_pool(x: Tensor, nd: int, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
             return_indices=False, who="max_pool"):
    """y[c, o] = max over the taps ``o*s - p + j*d`` (j < k) of x[c] that lie in the
    input, per spatial axis; the padding never wins (it is -inf).

    Ties keep the first tap in row-major order; any NaN wins, the last NaN among
    several. Returns ``y`` or ``(y, indices)`` with flat in-plane indices (int64).
    Backward: ``grad_input[c][indices[c, o]] += g[c, o]``.
    """
    k, s, p, d = _window_args(nd, kernel_size, stride, padding, dilation, who)
    _check_dims(x, nd, who)
    _check_window_args(k, s, p, d, who)
    if nd == 1 and not return_indices:  # torch's 1-d kernel without indices is floating-only; 2-d/3-d take integers
        _check_float(x, who)
    xd, lead = _planes(x, nd)
    w = _windows(xd.shape[1:], k, s, p, d, ceil_mode, who)
    floating = np.issubdtype(xd.dtype, np.floating)
    fill = -np.inf if floating else np.iinfo(xd.dtype).min
    xp = w.padded(xd, fill)
    first, nonempty = w.first_valid()
    P = xd.shape[0]
    # The running max starts at -inf with torch's initial index, the window's first in-bounds
    # tap (for a window with none: the first tap at or past the left edge, maybe outside the plane).
    best = np.full((P,) + w.out, fill, dtype=xd.dtype)
    base = _flat(w.broadcast(w.start), w.sizes)  # flat position of each window's tap 0
    arg = np.empty((P,) + w.out, dtype=np.int64)
    arg[...] = _flat(w.broadcast(first), w.sizes) - base
    nan_aware = floating and xd.size > 0 and bool(np.isnan(xd.min()))
    for j, tap in w.taps():
        _max_step(best, arg, xp[tap], _tap_offset(j, d, w.sizes), nan_aware)
    flat = arg + base
    keep = None if all(ne.all() for ne in nonempty) else _all(w.broadcast(nonempty))
    best = _gather(xd, flat, keep, fill)
    out_shape = lead + w.out
    plane = int(np.prod(w.sizes, dtype=np.int64))

    def vjp(g):
        gi = _max_backward(g.reshape(best.shape), flat, best.shape[0], plane, keep)
        return (gi.reshape(x.shape),)

    y = op(best.reshape(out_shape), (x,), vjp)
    return (y, Tensor(flat.reshape(out_shape))) if return_indices else y


# ----------------------------------------------------------------------------------
# Average pooling
# ----------------------------------------------------------------------------------

def _avg_divisor(w: _Windows, count_include_pad: bool, divisor_override):
    """Per-window divisor from the clipped bounds (AvgPoolKernel.cpp), and the mask of
    windows with an in-bounds tap."""
    full, inside = [], []
    for st, k, p, L in zip(w.start, w.k, w.p, w.sizes):
        end = np.minimum(st + k, L + p)
        full.append(end - st)
        inside.append(np.minimum(end, L) - np.maximum(st, 0))
    nonempty = _all([n > 0 for n in w.broadcast(inside)])
    if divisor_override is not None:
        return np.asarray(divisor_override, dtype=np.int64), nonempty
    counts = w.broadcast(full if count_include_pad else inside)
    divisor = counts[0]
    for c in counts[1:]:
        divisor = divisor * c
    return divisor, nonempty


def _avg_forward(xd: np.ndarray, w: _Windows, count_include_pad, divisor_override):
    """Average pooling of planes ``xd``: the pooled array and its backward ``g -> dxd``."""
    dt = xd.dtype
    xp = w.padded(xd, 0)
    acc = np.zeros((xd.shape[0],) + w.out, dtype=dt)
    taps = w.taps()
    with np.errstate(invalid="ignore", over="ignore"):
        for _, tap in taps:  # torch's order: row-major over the taps, accumulated in the input dtype
            acc += xp[tap]
    key = (bool(count_include_pad), divisor_override)
    if key not in w.divisors:
        w.divisors[key] = _avg_divisor(w, count_include_pad, divisor_override)
    divisor, nonempty = w.divisors[key]
    divisor = divisor.astype(dt)
    with np.errstate(divide="ignore", invalid="ignore"):
        acc /= divisor
        acc += 0  # torch adds the quotient to a zeroed output: -0.0 becomes +0.0
    if not nonempty.all():
        acc = np.where(nonempty, acc, np.zeros((), dt))

    def backward(g):
        with np.errstate(divide="ignore", invalid="ignore"):
            gd = np.where(nonempty, g / divisor, np.zeros((), dt))
        gp = np.zeros(xp.shape, dtype=dt)
        for _, tap in taps:  # one strided += per kernel offset (a tap's windows are distinct)
            gp[tap] += gd
        return gp[w.interior]

    return acc, backward


def _avg_checks(x, nd, kernel_size, stride, padding, ceil_mode, divisor_override, who, min_input=False):
    k, s, p, _ = _window_args(nd, kernel_size, stride, padding, 1, who)
    check(divisor_override is None or divisor_override != 0, RuntimeError, f"{who}: divisor must be not zero")
    # avg_pool2d reads input.size(-3) before it checks the dims: IndexError below 3 dims
    _check_dims(x, nd, who, kind=IndexError if nd == 2 and x.ndim < 3 else RuntimeError)
    _check_window_args(k, s, p, (1,) * nd, who)
    if min_input:  # avg_pool3d checks the input against the kernel before padding (Pool.h pool3d_shape_check)
        check(all(L >= kk for L, kk in zip(x.shape[-nd:], k)), RuntimeError,
              f"{who}: input image {x.shape[-nd:]} smaller than kernel size {k}")
    xd, lead = _planes(x, nd)
    return xd, lead, _windows(xd.shape[1:], k, s, p, (1,) * nd, ceil_mode, who)


def avg_pool(x: Tensor, nd: int, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
             divisor_override=None, who="avg_pool"):
    """y[c, o] = (sum of x[c] over the window's in-bounds taps) / divisor, with
    divisor = ``divisor_override``, else the window clipped to ``[-p, L + p)``
    (count_include_pad) or to ``[0, L)`` (not), per axis, multiplied.

    Backward: each in-bounds tap of window o receives ``g[o] / divisor[o]``.
    ``nd == 3`` also requires the input to be at least the kernel (torch's
    avg_pool3d check, even with padding).
    """
    _check_float(x, who)
    xd, lead, w = _avg_checks(x, nd, kernel_size, stride, padding, ceil_mode, divisor_override, who, min_input=nd == 3)
    y, backward = _avg_forward(xd, w, count_include_pad, divisor_override)
    return op(y.reshape(lead + w.out), (x,), lambda g: (backward(g.reshape(y.shape)).reshape(x.shape),))


# ----------------------------------------------------------------------------------
# Power-average (LP) pooling
# ----------------------------------------------------------------------------------

def pow_scalar(a: np.ndarray, e: float) -> np.ndarray:
    """``a ** e`` as torch's ``pow(Tensor, Scalar)`` CPU kernel computes it: x*x for 2,
    x*x*x for 3, sqrt for 0.5, 1/sqrt for -0.5, 1/x for -1, 1/(x*x) for -2 (these fix
    the signs and NaNs at -0.0 and -inf), else ``pow`` with the exponent in a's dtype."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if e == 2:
            return a * a
        if e == 3:
            return a * a * a
        if e == 0.5:
            return np.sqrt(a)
        if e == -0.5:
            return 1 / np.sqrt(a)
        if e == -1:
            return 1 / a
        if e == -2:
            return 1 / (a * a)
        return np.power(a, a.dtype.type(e))


def lp_pool(x: Tensor, nd: int, norm_type: float, kernel_size, stride=None, ceil_mode=False, who="lp_pool"):
    """torch.nn.functional.lp_pool{1,2,3}d, step by step:

        t = avg_pool(x ** p, kernel, stride, padding=0, ceil_mode)   (count_include_pad)
        y = (sign(t) * relu(|t|) * prod(kernel)) ** (1 / p)

    So the sum is of x ** p (not |x| ** p): negative inputs with odd p give negative
    sums, and y is NaN where the sum is negative and 1/p is fractional. A ceil-mode
    partial window is averaged over its in-bounds taps and then multiplied by the full
    kernel size. p = +inf is max_pool(|x|), p = -inf is -max_pool(-|x|).

    Backward (torch's autograd of the same steps): with z = prod(kernel) * t,
    dz = g * (1/p) z^(1/p - 1); dt = prod(kernel) dz except where relu(|t|) <= 0
    (t = 0: 0; a NaN passes); dx = avg_pool_backward(dt) * p x^(p - 1).

    Errors come in torch's order: lp_pool2d/3d unpack kernel_size first (ValueError);
    then the +-inf branch; then avg_pool's checks; lp_pool1d then multiplies by
    kernel_size itself (TypeError for a tuple); 1 / p last (ZeroDivisionError for p = 0).
    """
    p = float(norm_type)
    if nd > 1 and isinstance(kernel_size, (tuple, list)):
        check(len(kernel_size) == nd, ValueError,
              f"{who}: too many values to unpack (expected {nd})" if len(kernel_size) > nd
              else f"{who}: not enough values to unpack (expected {nd}, got {len(kernel_size)})")
    if p in (math.inf, -math.inf):
        from ..autograd import abs_, neg

        a = abs_(x)
        if p > 0:
            return max_pool(a, nd, kernel_size, stride, 0, 1, ceil_mode, who=who)
        return neg(max_pool(neg(a), nd, kernel_size, stride, 0, 1, ceil_mode, who=who))
    _check_float(x, who)
    xd, lead, w = _avg_checks(x, nd, kernel_size, stride, 0, ceil_mode, None, who, min_input=nd == 3)
    check(nd > 1 or _is_int(kernel_size), TypeError,
          f"{who}: mul(): argument 'other' must be a number; torch multiplies by kernel_size={kernel_size!r} itself")
    ksize = int(np.prod(w.k))
    inv_p = 1.0 / p  # ZeroDivisionError for p = 0, as torch
    dt = xd.dtype
    xpow = pow_scalar(xd, p)
    t, avg_backward = _avg_forward(xpow, w, True, None)
    with np.errstate(invalid="ignore", over="ignore"):
        z = torch_sign(t) * np.maximum(np.abs(t), 0) * dt.type(ksize)  # maximum keeps NaN, as relu
    y = pow_scalar(z, inv_p)

    def vjp(g):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            dz = g.reshape(z.shape) * (dt.type(inv_p) * pow_scalar(z, inv_p - 1))
            # through sign(t) * relu(|t|) as torch's autograd: sign's gradient is 0; relu's
            # backward zeroes where relu(|t|) <= 0 (so a NaN passes), then abs's multiplies by sign(t)
            s_t = torch_sign(t)
            dt_ = np.where(np.abs(t) <= 0, np.zeros((), dt), dz * dt.type(ksize) * s_t) * s_t
            dx = avg_backward(dt_) * (dt.type(p) * pow_scalar(xd, p - 1))
        return (dx.reshape(x.shape),)

    return op(y.reshape(lead + w.out), (x,), vjp)


# ----------------------------------------------------------------------------------
# Adaptive pooling: output i pools [floor(i L / o), ceil((i + 1) L / o))
# ----------------------------------------------------------------------------------

def adaptive_bounds(L: int, o: int):
    """AdaptivePooling.h start_index / end_index."""
    i = np.arange(o, dtype=np.int64)
    return (i * L) // o, ((i + 1) * L + o - 1) // o


def _along(a: np.ndarray, ax: int, nd: int) -> np.ndarray:
    """A per-axis array (O,) or (P, O) shaped to broadcast against (P, *out) along axis ax."""
    lead = a.shape[0] if a.ndim == 2 else 1
    return a.reshape((lead,) + tuple(a.shape[-1] if i == ax else 1 for i in range(nd)))


class _AdaptiveWindows:
    """Per axis: the window bounds and, up to the longest window (k_a taps), the tap
    positions ``start + j`` clipped into the window, with their validity."""

    def __init__(self, sizes, out):
        self.sizes, self.out, nd = tuple(sizes), tuple(out), len(sizes)
        self.bounds = [adaptive_bounds(L, o) for L, o in zip(sizes, out)]
        self.k = tuple(int((e - s).max()) for s, e in self.bounds)
        j = [np.arange(k) for k in self.k]
        self.pos = [np.minimum(s[:, None] + ja, e[:, None] - 1) for (s, e), ja in zip(self.bounds, j)]  # (o_a, k_a)
        valid = [s[:, None] + ja < e[:, None] for (s, e), ja in zip(self.bounds, j)]
        # (*out, K) validity of every window's taps, in the blocks' layout
        mask = _all([v.reshape(tuple(v.shape[0] if i == 2 * a else v.shape[1] if i == 2 * a + 1 else 1
                                     for i in range(2 * nd))) for a, v in enumerate(valid)])
        self.mask = self._merge(mask[None])[0]
        self.ragged = not self.mask.all()

    def _merge(self, arr):
        """(P, o_1, k_1, o_2, k_2, ...) -> (P, *out, K), taps of each window last, row-major."""
        nd = len(self.sizes)
        arr = arr.transpose((0,) + tuple(range(1, 2 * nd, 2)) + tuple(range(2, 2 * nd + 1, 2)))
        return arr.reshape(arr.shape[:1 + nd] + (-1,))

    def blocks(self, xd):
        """Every window's taps: (P, *out, K), one ``np.take`` per axis."""
        for a, pos in enumerate(self.pos):
            xd = np.take(xd, pos, axis=1 + 2 * a)
        return self._merge(xd)

    def flat(self, tap):
        """Flat in-plane position of tap number ``tap`` (P, *out) of each window."""
        nd = len(self.sizes)
        j = np.unravel_index(tap, self.k)
        return _flat([_along(s, a, nd) + ja for a, ((s, e), ja) in enumerate(zip(self.bounds, j))], self.sizes)

    def lengths(self, dt):
        nd = len(self.sizes)
        return [_along((e - s).astype(dt), a, nd) for a, (s, e) in enumerate(self.bounds)]


_adaptive_windows = functools.lru_cache(maxsize=512)(_AdaptiveWindows)


def adaptive_max_pool(x: Tensor, nd: int, output_size, return_indices=False, who="adaptive_max_pool"):
    """y[c, o] = max of x[c] over the adaptive window of o (first max on ties, the last
    NaN if any). Returns ``y`` or ``(y, indices)`` (flat in-plane int64).
    Backward: ``grad_input[c][indices[c, o]] += g[c, o]``."""
    xd, lead, out = _adaptive_setup(x, nd, output_size, who, max_kind=True)
    P, sizes = xd.shape[0], xd.shape[1:]
    flat = np.zeros((P,) + out, dtype=np.int64)
    if xd.size and all(out):
        w = _adaptive_windows(sizes, out)
        v = w.blocks(xd)
        if w.ragged:  # taps past a shorter window's end are clipped in, and must not win
            v = np.where(w.mask, v, -np.inf)
        # np.argmax returns the first maximum (torch's tie rule; an all -inf window gives
        # its first tap, torch's initial index), but the first NaN: torch takes the last.
        tap = np.argmax(v, axis=-1)
        if np.isnan(xd.min()):
            isnan = np.isnan(v)
            tap = np.where(isnan.any(axis=-1), v.shape[-1] - 1 - np.argmax(isnan[..., ::-1], axis=-1), tap)
        flat = w.flat(tap)
    best = _gather(xd, flat)
    plane = int(np.prod(sizes, dtype=np.int64))

    def vjp(g):
        return (_max_backward(g.reshape(best.shape), flat, P, plane).reshape(x.shape),)

    y = op(best.reshape(lead + out), (x,), vjp)
    return (y, Tensor(flat.reshape(lead + out))) if return_indices else y


def _window_matrix(L: int, o: int, dt) -> np.ndarray:
    """(o, L) 0/1 matrix: row i marks the adaptive window of output i."""
    s, e = adaptive_bounds(L, o)
    pos = np.arange(L)
    return ((pos >= s[:, None]) & (pos < e[:, None])).astype(dt)


def adaptive_avg_pool(x: Tensor, nd: int, output_size, who="adaptive_avg_pool"):
    """y[c, o] = (sum of x[c] over the adaptive window) / k_1 / k_2 ..., summed in the
    input dtype in row-major order and divided once per axis, as torch's kernel.

    Backward: every tap of window o receives ``g[o] / k_1 / k_2 ...``, accumulated with
    the 0/1 window matrices (one contraction per axis)."""
    xd, lead, out = _adaptive_setup(x, nd, output_size, who, max_kind=False)
    P, sizes, dt = xd.shape[0], xd.shape[1:], xd.dtype
    if all(o == 1 for o in out):
        # torch computes a 1 x 1 (x 1) output as input.mean(spatial dims): sum / numel, and
        # mean's backward g / numel (AdaptiveAveragePooling.cpp, AdaptiveAveragePooling3d.cpp).
        n = dt.type(int(np.prod(sizes, dtype=np.int64)))
        with np.errstate(invalid="ignore", over="ignore"):
            acc = xd.reshape(P, -1).sum(axis=1, dtype=dt).reshape((P,) + out) / n if P else np.zeros((P,) + out, dt)
        return op(acc.reshape(lead + out), (x,), lambda g: (np.broadcast_to(g / n, x.shape).copy(),))
    w = _adaptive_windows(sizes, out) if all(out) else None
    lengths = w.lengths(dt) if w else []
    with np.errstate(invalid="ignore", over="ignore"):
        if w is None or not xd.size:
            acc = np.zeros((P,) + out, dtype=dt)
        else:
            v = w.blocks(xd)
            if w.ragged:
                v = np.where(w.mask, v, np.zeros((), dt))
            acc = np.zeros((P,) + out, dtype=dt)
            for j in range(v.shape[-1]):  # torch's sum: sequential, row-major over the taps, from +0.0
                acc += v[..., j]
        for n in lengths:
            acc /= n

    def vjp(g):
        gd = g.reshape(acc.shape)
        for n in lengths:
            gd = gd / n
        for ax, (L, o) in enumerate(zip(sizes, out)):  # spread each axis back with the window matrix
            gd = np.moveaxis(np.tensordot(gd, _window_matrix(L, o, dt), axes=([ax + 1], [0])), -1, ax + 1)
        return (np.ascontiguousarray(gd).reshape(x.shape),)

    return op(acc.reshape(lead + out), (x,), vjp)


def _adaptive_setup(x: Tensor, nd: int, output_size, who: str, max_kind: bool):
    """Validate and resolve ``output_size`` (None entries take the input's size)."""
    if nd == 1:
        check(output_size is not None and (_is_int(output_size) or isinstance(output_size, (tuple, list))), TypeError,
              f"{who}: argument 'output_size' must be tuple of ints, not {type(output_size).__name__}")
        check(x.ndim in (2, 3), RuntimeError, f"{who}: Expected 2 to 3 dimensions, but got {x.ndim}-dimensional tensor")
    if _is_int(output_size):
        out = (int(output_size),) * nd
    else:
        check(isinstance(output_size, (tuple, list)), TypeError, f"{who}: output_size must be an int or a tuple, got {output_size!r}")
        if nd > 1:
            check(x.ndim > len(output_size), ValueError, f"{who}: Input dimension should be at least {len(output_size) + 1}")
        check(len(output_size) == nd, RuntimeError, f"{who}: output_size must have {nd} elements, got {tuple(output_size)}")
        check(nd > 1 or output_size[0] is not None, TypeError, f"{who}: argument 'output_size' must be tuple of ints, not None")
        check(all(v is None or _is_int(v) for v in output_size), TypeError, f"{who}: output_size must hold ints or None, got {tuple(output_size)}")
        out = tuple(x.shape[x.ndim - nd + i] if v is None else int(v) for i, v in enumerate(output_size))
    _check_float(x, who)
    check(x.ndim in (nd + 1, nd + 2), RuntimeError, f"{who}: Expected {nd + 1}D or {nd + 2}D tensor, but got shape {x.shape}")
    check(all(o >= 0 for o in out), RuntimeError, f"{who}: elements of output_size must be greater than or equal to 0, got {out}")
    # Non-batch dims must be non-empty; torch lets the channels of an unbatched input be 0,
    # and average pooling also a batched input's channels (its forward only checks the spatial dims).
    first = x.ndim - nd if (x.ndim == nd + 1 or not max_kind) else 1
    check(all(n > 0 for n in x.shape[first:]), RuntimeError,
          f"{who}: Expected input to have non-zero size for non-batch dimensions, but input has sizes {x.shape}")
    xd, lead = _planes(x, nd)
    return xd, lead, out


# ----------------------------------------------------------------------------------
# Fractional max pooling
# ----------------------------------------------------------------------------------

def fractional_intervals(u: np.ndarray, L: int, o: int, k: int) -> np.ndarray:
    """Window starts (FractionalMaxPool2d.cpp ``generate_intervals``), in u's dtype as
    torch: alpha = (L - k) / (o - 1); start[i] = int((i + u) alpha) - int(u alpha) for
    i < o - 1, and start[o - 1] = L - k. ``u``: samples of any shape; result (..., o)."""
    dt = u.dtype
    out = np.empty(u.shape + (o,), dtype=np.int64)
    if o > 1:
        alpha = dt.type(L - k) / dt.type(o - 1)
        i = np.arange(o - 1).astype(dt)
        out[..., :-1] = ((i + u[..., None]) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)[..., None]
    if o > 0:
        out[..., -1] = L - k
    return out


def fractional_max_pool(x: Tensor, nd: int, kernel_size, output_size, samples: np.ndarray, who="fractional_max_pool"):
    """Max pooling over windows of size k starting at ``fractional_intervals(u, L, o, k)``
    per plane and axis, with u = samples[n, c, a] (axis a = W, H for 2-D; T, H, W for
    3-D, as torch's kernels read them). Returns ``(y, indices)``; ties and NaNs as
    max_pool. Backward: ``grad_input[c][indices[c, o]] += g[c, o]``."""
    k = int_tuple(kernel_size, nd, "kernel_size", who)
    out = int_tuple(output_size, nd, "output_size", who)
    _check_float(x, who)
    check(x.ndim in (nd + 1, nd + 2), RuntimeError if x.ndim > nd + 2 else IndexError,
          f"{who}: expected a {nd + 1}D or {nd + 2}D input, got shape {x.shape}")
    check(all(n > 0 for n in x.shape[x.ndim - nd - 1:]) if x.ndim == nd + 2 else all(n > 0 for n in x.shape[1:]),
          RuntimeError, f"{who}: Expected input to have non-zero size for non-batch dimensions, but got {x.shape}")
    sizes = x.shape[-nd:]
    check(all(o >= 0 for o in out), RuntimeError, f"{who}: output_size must be non-negative, got {out}")
    # 2-d: o + k - 1 <= L; torch's 3-d kernel demands o + k - 1 < L (FractionalMaxPool3d.cpp), stricter.
    for name, L, kk, o in zip(("time", "height", "width")[3 - nd:], sizes, k, out):
        check(o + kk - 1 < L if nd == 3 else o + kk - 1 <= L, RuntimeError,
              f"{who}: pool {name} {kk} too large relative to input {name} {L}")
    N = 1 if x.ndim == nd + 1 else x.shape[0]
    C = x.shape[-nd - 1]
    samples = np.asarray(samples)
    check(samples.ndim == 3, RuntimeError, f"{who}: Expect _random_samples to be 3-D, got shape {samples.shape}")
    check(samples.dtype == x.dtype, RuntimeError, f"{who}: Expect _random_samples to have the same dtype as input")
    check(samples.shape[0] >= N, RuntimeError, f"{who}: Expect _random_samples.size(0) no less then input batch size.")
    check(samples.shape[1] == C, RuntimeError, f"{who}: Expect _random_samples.size(1) equals to input channel size.")
    check(samples.shape[2] == nd, RuntimeError, f"{who}: Expect _random_samples.size(2) equals to {nd}; got {samples.shape[2]}.")
    xd, lead = _planes(x, nd)
    P = xd.shape[0]
    u = samples[:N].reshape(P, nd)
    axis_sample = (1, 0) if nd == 2 else (0, 1, 2)  # 2-D kernels read [0] for W and [1] for H
    starts = [fractional_intervals(u[:, axis_sample[a]], sizes[a], out[a], k[a]) for a in range(nd)]
    plane = int(np.prod(sizes, dtype=np.int64))
    base = _flat([_along(st, a, nd) for a, st in enumerate(starts)], sizes)  # each window's first tap
    gbase = base + (np.arange(P, dtype=np.int64) * plane).reshape((P,) + (1,) * nd)
    xflat = xd.reshape(-1)
    best = np.full((P,) + out, -np.inf, dtype=xd.dtype)
    arg = np.zeros((P,) + out, dtype=np.int64)  # starts at the first tap: torch's initial index
    nan_aware = xd.size > 0 and bool(np.isnan(xd.min()))
    for j in np.ndindex(*k):  # windows lie inside the input: every tap is a plain gather
        c = _tap_offset(j, (1,) * nd, sizes)
        _max_step(best, arg, np.take(xflat, gbase + c), c, nan_aware)
    flat = arg + base
    # FractionalMaxPool2d takes kernel_size <= 0 (only the 3-d class checks): empty windows, -inf
    best = _gather(xd, flat) if min(k) > 0 else np.full(flat.shape, -np.inf, xd.dtype)

    def vjp(g):
        return (_max_backward(g.reshape(best.shape), flat, P, plane).reshape(x.shape),)

    return op(best.reshape(lead + out), (x,), vjp), Tensor(flat.reshape(lead + out))


# ----------------------------------------------------------------------------------
# Max unpooling
# ----------------------------------------------------------------------------------

def unpool_output_size(in_sizes, k, s, p, output_size, who):
    """torch.nn.functional._unpool_output_size: default (L - 1) s + k - 2p; a given
    output_size (nd or nd + 2 entries, the last nd used) must lie strictly within one
    stride of the default; sizes must be non-negative (ValueError)."""
    nd = len(k)
    default = [(L - 1) * s_ + k_ - 2 * p_ for L, k_, s_, p_ in zip(in_sizes, k, s, p)]
    if output_size is None:
        ret = default
    else:
        output_size = list(output_size)
        if len(output_size) == nd + 2:
            output_size = output_size[2:]
        check(len(output_size) == nd, ValueError,
              f"{who}: output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a length of '{len(output_size)}'")
        for a in range(nd):
            lo, hi = default[a] - s[a], default[a] + s[a]
            check(lo < output_size[a] < hi, ValueError,
                  f'{who}: invalid output_size "{output_size}" (dim {a} must be between {lo} and {hi})')
        ret = [int(v) for v in output_size]
    for a in range(nd):
        check(ret[a] >= 0, ValueError,
              f"{who}: max_unpooling: output_size must contain non-negative spatial dimensions, but got output_size[{a}]={ret[a]}")
    return tuple(ret)


def max_unpool(x: Tensor, indices, nd: int, kernel_size, stride=None, padding=0, output_size=None, who="max_unpool"):
    """Zeros of the output size, then ``out[c][indices[c, i]] = x[c, i]`` (a later
    duplicate index overwrites an earlier one). Indices must be int64, of x's shape,
    and in ``[0, prod(output spatial size))``.

    Backward (torch's ``max_pool_double_backward``): ``grad_x[c, i] = g[c][indices[c, i]]``,
    a gather, so duplicates all receive the gradient."""
    k = int_tuple(kernel_size, nd, "kernel_size", who)
    s = int_tuple(stride if stride is not None else kernel_size, nd, "stride", who)
    p = int_tuple(padding, nd, "padding", who)
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    out = unpool_output_size(x.shape[-nd:], k, s, p, output_size, who)
    check(np.issubdtype(idx.dtype, np.integer) and idx.dtype == np.int64, RuntimeError,
          f"{who}: elements in indices should be type int64 but got: {idx.dtype}")
    check(idx.shape == x.shape, RuntimeError,
          f"{who}: Expected shape of indices to be same as that of the input tensor ({x.shape}) but got indices tensor with shape: {idx.shape}")
    _check_float(x, who)
    check(x.ndim in (nd + 1, nd + 2) if nd > 1 else x.ndim in (2, 3), RuntimeError,
          f"{who}: Expected {nd + 1}D or {nd + 2}D input, got shape {x.shape}")
    check(all(n > 0 for n in x.shape[x.ndim - nd - 1 if x.ndim == nd + 2 else 0:]), RuntimeError,
          f"{who}: Expected input to have non-zero size for non-batch dimensions, but got {x.shape}")
    if nd == 3:
        check(all(v > 0 for v in s), RuntimeError, f"{who}: strides should be greater than zero, but got stride: {s}")
    xd, lead = _planes(x, nd)
    P = xd.shape[0]
    plane = int(np.prod(out, dtype=np.int64))
    ind = idx.reshape(P, int(np.prod(x.shape[-nd:], dtype=np.int64)))
    # torch returns an empty output before looking at the indices (none are checked then).
    if P * plane and ind.size and (ind.min() < 0 or ind.max() >= plane):
        first_bad = ind[(ind < 0) | (ind >= plane)][0]
        raise RuntimeError(f"{who}: Found an invalid max index: {int(first_bad)} (output volumes are of size "
                           f"{'x'.join(str(o) for o in out)})")
    glob = (ind + np.arange(P, dtype=np.int64)[:, None] * plane).ravel()
    res = np.zeros(P * plane, dtype=xd.dtype)
    if P * plane:
        vals = xd.reshape(-1)
        res[glob] = vals
        if not np.array_equal(res[glob], vals, equal_nan=True):
            # Repeated indices with different values (NumPy does not promise which write
            # wins): take each target's last occurrence, the sequential order.
            last = glob.size - 1 - np.unique(glob[::-1], return_index=True)[1]
            res[glob[last]] = vals[last]

    def vjp(g):
        if not P * plane:
            return (np.zeros(x.shape, x.dtype),)
        return (g.reshape(-1)[glob].reshape(x.shape),)

    return op(res.reshape(lead + out), (x,), vjp)
