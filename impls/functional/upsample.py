"""Interpolation (torch.nn.functional.interpolate): nearest, nearest-exact, linear,
bilinear, trilinear and bicubic, over 1 to 3 spatial dims.

Every mode is separable: per spatial dim, each output position o reads a few
input positions ("taps") idx_j(o) with weights w_j(o) (nearest: one tap of weight
1; linear: two; cubic: four). The forward applies the dims innermost first,
T = sum_j take(x, idx_j, axis) * w_j, which is exactly torch's nested evaluation
(``Interpolate<n>::eval`` in aten/src/ATen/native/cpu/UpSampleKernel.cpp: the
first spatial dim is the outermost sum, and every tap is multiplied, zero weights
included, so an inf next to a zero-weight tap gives NaN as in torch). The
backward scatters g * w_j back per dim and tap (``np.add.reduceat`` over the runs
of each tap's non-decreasing index); no loop over elements.

Index and weight arithmetic follows ATen (UpSample.h, UpSampleKernel.cpp) in the
input's precision ("opmath": float32 arithmetic for float32 inputs):

* scale (``area_pixel_compute_scale``): align_corners: (n - 1) / (out - 1) (0 when
  out == 1); else 1 / scale_factor when a scale factor reaches the kernel, else
  n / out (``compute_scales_value``).
* source coordinate (``area_pixel_compute_source_index``): align_corners: s*o;
  else s*(o + 0.5) - 0.5, clamped below at 0 EXCEPT for cubic, whose negative
  coordinates pick taps -2..1 (clamped to the edge) with t = real - floor(real).
* nearest: floor(float32(s*o)), at most n - 1; nearest-exact: floor(float32(real
  + 0.5)) with real the (clamped) half-pixel coordinate (HelperInterpNearest[Exact],
  the 1-d and 3-d forward kernels).
* the 2-d nearest forward and every nearest backward use ``nearest_idx`` /
  ``nearest_exact_idx`` instead: the scale in float32 even for float64;
  nearest-exact floors float32((o + 0.5) * s) (the product in float64); nearest is
  the identity when out == n and o >> 1 when out == 2n, whatever the scale factor.
* linear: i0 = min(floor(float32(real)), n - 1) (``floorf``: a float64 coordinate
  just below an integer rounds up to it), i1 = i0 + 1 (i0 at the edge), lambda1 =
  clamp(real - i0, 0, 1), lambda0 = 1 - lambda1; when out == n, the identity
  (i0 = i1 = o, weights 1 and 0), whatever the scale factor.
* cubic: Keys' kernel with A = -0.75 on t = clamp(real - i, 0, 1), i =
  min(floor(float32(real)), n - 1); taps i - 1 .. i + 2 clamped to [0, n - 1].

Where torch's backward is NOT the adjoint of its forward, the twin's backward
follows torch (docs/torch-findings.md):

* 1-d and 3-d nearest/nearest-exact: the backward's index map (``nearest_idx``,
  above) differs from the forward's when out == n or 2n with a scale factor, or
  where float32 and float64 round s*o to different sides of an integer;
* bicubic backward is the identity when every output dim equals its input dim,
  whatever the scale factor (the forward interpolates with 1 / scale_factor).
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validate import check
from ..autograd import Tensor, op

__all__ = ["interpolate"]

_LINEAR_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_F32 = np.float32


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


# -- per-dim taps -----------------------------------------------------------------------------

def _scale(n: int, out: int, align_corners: bool, scale, ft) -> np.floating:
    """area_pixel_compute_scale in the arithmetic type ``ft``."""
    if align_corners:
        return ft(n - 1) / ft(out - 1) if out > 1 else ft(0)
    return ft(1.0 / scale) if scale is not None and scale > 0 else ft(n) / ft(out)


def _source(s, o: np.ndarray, align_corners: bool, cubic: bool, ft) -> np.ndarray:
    """area_pixel_compute_source_index for every output position o, in ``ft``."""
    of = o.astype(ft)
    if align_corners:
        return s * of
    real = s * (of + ft(0.5)) - ft(0.5)
    return real if cubic else np.where(real < 0, ft(0), real)


def _cubic_weights(t: np.ndarray, ft) -> list:
    """get_cubic_upsample_coefficients (Keys, A = -0.75), in ``ft``."""
    A = ft(-0.75)
    one = ft(1)

    def conv1(x):  # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + one

    def conv2(x):  # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    return [conv2(t + one), conv1(t), conv1(one - t), conv2((one - t) + one)]


def _taps(mode: str, n: int, out: int, scale, align_corners: bool, dt, backward: bool, D: int, same_size: bool) -> list:
    """[(index array, weight array or None)] for one dim: output o reads x[index[o]] * weight[o].
    ``D``: the number of spatial dims; ``same_size``: every output dim equals its input dim."""
    o = np.arange(out)
    ft = np.dtype(dt).type  # opmath: the input's own precision
    if mode in ("nearest", "nearest-exact") and (backward or D == 2):
        # nearest_idx / nearest_exact_idx (the 2-d forward kernel and every backward): the
        # scale in float32 whatever the dtype; nearest also has two shortcuts.
        if mode == "nearest-exact":
            idx = np.floor(((o + 0.5) * np.float64(_scale(n, out, False, scale, _F32))).astype(_F32))
        elif out == n:
            return [(o, None)]
        elif out == 2 * n:
            return [(o >> 1, None)]
        else:
            idx = np.floor(o.astype(_F32) * _scale(n, out, False, scale, _F32))
        return [(np.minimum(idx.astype(np.int64), n - 1), None)]
    if mode == "nearest":  # HelperInterpNearest (1-d and 3-d forward): opmath, then floorf
        idx = np.floor((_scale(n, out, False, scale, ft) * o.astype(ft)).astype(_F32))
        return [(np.minimum(idx.astype(np.int64), n - 1), None)]
    if mode == "nearest-exact":  # HelperInterpNearestExact: the clamped half-pixel coordinate + 0.5
        real = _source(_scale(n, out, False, scale, ft), o, False, False, ft)
        idx = np.floor((real.astype(np.float64) + 0.5).astype(_F32))
        return [(np.minimum(idx.astype(np.int64), n - 1), None)]
    if mode in ("linear", "bilinear", "trilinear"):
        if out == n:  # compute_source_index_and_lambda: copy
            return [(o, np.ones(out, dt)), (o, np.zeros(out, dt))]
        real = _source(_scale(n, out, align_corners, scale, ft), o, align_corners, False, ft)
        i0 = np.minimum(np.floor(real.astype(_F32)).astype(np.int64), n - 1)  # floorf: via float32
        i1 = i0 + (i0 < n - 1)
        l1 = np.clip(real - i0.astype(ft), ft(0), ft(1)).astype(dt)
        return [(i0, (ft(1) - l1).astype(dt)), (i1, l1)]
    # bicubic
    if backward and same_size:
        return [(o, None)]  # upsample_bicubic2d_backward: "same size, just copy"
    real = _source(_scale(n, out, align_corners, scale, ft), o, align_corners, True, ft)
    i = np.minimum(np.floor(real.astype(_F32)).astype(np.int64), n - 1)
    t = np.clip(real - i.astype(ft), ft(0), ft(1))
    return [(np.clip(i - 1 + j, 0, n - 1), w.astype(dt)) for j, w in enumerate(_cubic_weights(t, ft))]


# -- applying taps ----------------------------------------------------------------------------

def _bcast(w: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    shape = [1] * ndim
    shape[axis] = w.size
    return w.reshape(shape)


def _apply(x: np.ndarray, taps: list, axis: int) -> np.ndarray:
    """sum_j take(x, idx_j, axis) * w_j, in tap order (torch's accumulation order)."""
    out = None
    with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 -> NaN, as in torch
        for idx, w in taps:
            t = np.take(x, idx, axis=axis)
            if w is not None:
                t *= _bcast(w, axis, x.ndim)
            out = t if out is None else out + t
    return out


def _scatter_monotone(g: np.ndarray, index: np.ndarray, n: int, axis: int, out: np.ndarray) -> None:
    """out[..., k, ...] += sum of g[..., o, ...] over the o with index[o] == k, for a
    non-decreasing ``index`` (every tap's is): one np.add.reduceat over its runs."""
    if g.shape[axis] == 0:
        return
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    out[_along(axis, g.ndim, index[starts])] += np.add.reduceat(g, starts, axis=axis)


def _along(axis: int, ndim: int, index) -> tuple:
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


def _apply_adjoint(g: np.ndarray, taps: list, n: int, axis: int) -> np.ndarray:
    """Adjoint of _apply: each tap's g * w_j added back onto x's n positions, into zeros
    (as torch's backward kernels accumulate: 0 + (-0) = +0)."""
    shape = list(g.shape)
    shape[axis] = n
    out = np.zeros(shape, g.dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        for idx, w in taps:
            _scatter_monotone(g if w is None else g * _bcast(w, axis, g.ndim), idx, n, axis, out)
    return out


#: Largest (output x input) size of one dim for which finite data goes through a dense
#: weight matrix and one GEMM per dim (BLAS) instead of per-tap gathers and scatters. Only
#: finite data: a zero weight times inf must give NaN where torch multiplies, and nowhere else.
DENSE_MAX = 1 << 16


def _dense(taps: list, n: int, out: int, dt) -> np.ndarray:
    """The taps of one dim as an (out, n) matrix: A[o, idx_j(o)] += w_j(o)."""
    A = np.zeros((out, n), dt)
    for idx, w in taps:
        np.add.at(A, (np.arange(out), idx), 1 if w is None else w)  # out * taps entries: tiny
    return A


def _matmul_axis(x: np.ndarray, A: np.ndarray, axis: int) -> np.ndarray:
    """Contract ``axis`` of x (size A.shape[1]) with A: result[..., o, ...] = sum_j A[o, j] x[..., j, ...]."""
    lead, trail = int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis + 1:]))
    shape = x.shape[:axis] + (A.shape[0],) + x.shape[axis + 1:]
    x = np.ascontiguousarray(x)
    if trail == 1:
        return (x.reshape(lead, A.shape[1]) @ A.T).reshape(shape)
    return np.matmul(A, x.reshape(lead, A.shape[1], trail)).reshape(shape)


def _resample(x: Tensor, sizes: tuple, scales: tuple, mode: str, align_corners: bool) -> Tensor:
    """Finite data in dims of moderate size: one GEMM with a dense (out x n) weight matrix per
    dim (the same products and sums as the taps, zeros aside; BLAS instead of gathers).
    Otherwise, and for nearest forward (a plain gather), the taps themselves."""
    D = len(sizes)
    spatial = x.shape[2:]
    dt = x.dtype
    same = tuple(spatial) == tuple(sizes)
    fwd = [_taps(mode, n, out, s, align_corners, dt, False, D, same) for n, out, s in zip(spatial, sizes, scales)]
    y = x.data
    gather = mode in ("nearest", "nearest-exact") or not np.isfinite(y).all()
    for d in reversed(range(D)):  # innermost dim first: the first spatial dim is the outer sum
        if not gather and spatial[d] * sizes[d] <= DENSE_MAX:
            y = _matmul_axis(y, _dense(fwd[d], spatial[d], sizes[d], dt), 2 + d)
        else:
            y = _apply(y, fwd[d], 2 + d)

    def vjp(g):
        bwd = [_taps(mode, n, out, s, align_corners, dt, True, D, same) for n, out, s in zip(spatial, sizes, scales)]
        dense = g.size > 0 and bool(np.isfinite(g).all())
        for d in range(D):
            n, out = spatial[d], sizes[d]
            (idx, w), r = bwd[d][0], out // n
            if len(bwd[d]) == 1 and w is None and out == n * r and np.array_equal(idx, np.arange(out) // r):
                # an integer nearest factor: each input element's r outputs are adjacent
                g = g.reshape(g.shape[:2 + d] + (n, r) + g.shape[3 + d:]).sum(axis=3 + d)
                g += 0  # torch accumulates into zeros: -0 becomes +0
            elif dense and spatial[d] * sizes[d] <= DENSE_MAX:
                g = _matmul_axis(g, _dense(bwd[d], spatial[d], sizes[d], dt).T, 2 + d)
            else:
                g = _apply_adjoint(g, bwd[d], spatial[d], 2 + d)
        return (g,)

    return op(np.ascontiguousarray(y), (x,), vjp)


# -- interpolate ------------------------------------------------------------------------------

def interpolate(x: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None) -> Tensor:
    """torch.nn.functional.interpolate (without antialias), with its argument handling:

    exactly one of ``size`` and ``scale_factor``; an int/float applies to every spatial
    dim. The output size is int(n * scale_factor) (float64). With
    ``recompute_scale_factor=True`` the kernel then sees no scale factor (the scale is
    n / out); otherwise it uses 1 / scale_factor (see the module docstring).
    """
    if mode in ("nearest", "area", "nearest-exact"):
        check(align_corners is None, ValueError,
              "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    D = x.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            check(len(size) == D, ValueError,
                  f"Input and output must have the same number of spatial dimensions, but got input with spatial "
                  f"dimensions of {list(x.shape[2:])} and output size of {size}.")
            check(all(_is_int(s) for s in size), TypeError,
                  f"expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, int], but got "
                  f"size with types {[type(s) for s in size]}")
            sizes = tuple(int(s) for s in size)
        else:
            sizes = (size,) * max(D, 0)
        scales = (None,) * max(D, 0)
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            check(len(scale_factor) == D, ValueError,
                  f"Input and scale_factor must have the same number of spatial dimensions, but got input with "
                  f"spatial dimensions of {list(x.shape[2:])} and scale_factor of shape {scale_factor}.")
            scales = tuple(scale_factor)
        else:
            scales = (scale_factor,) * max(D, 0)
        sizes = None
    else:
        raise ValueError("either size or scale_factor should be defined")
    check(not (recompute_scale_factor and size is not None), ValueError,
          "recompute_scale_factor is not meaningful with an explicit size.")
    check(mode in _MODES, NotImplementedError,
          f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the modes: nearest | linear | "
          f"bilinear | bicubic | trilinear | area | nearest-exact (got {mode})")
    check(x.ndim in (3, 4, 5), NotImplementedError,
          f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the modes: nearest | linear | "
          f"bilinear | bicubic | trilinear | area | nearest-exact (got {mode})")
    if mode in _LINEAR_DIMS:
        check(D == _LINEAR_DIMS[mode], NotImplementedError, f"Got {x.ndim}D input, but {mode} mode needs {_LINEAR_DIMS[mode] + 2}D input")
    check(mode != "area", NotImplementedError, "interpolate: mode='area' (adaptive average pooling) is not implemented by the twin")
    if sizes is None:
        sizes = tuple(int(n * s) for n, s in zip(x.shape[2:], scales))  # C++ static_cast<int64_t>(n * scale)
        if recompute_scale_factor:
            scales = (None,) * D
    check(np.issubdtype(x.dtype, np.floating), RuntimeError, f"interpolate ({mode}): expected a floating point input, got {x.dtype}")
    check(all(n > 0 for n in x.shape[2:]) and all(s > 0 for s in sizes), RuntimeError,
          f"Input and output sizes should be greater than 0, but got input {list(x.shape[2:])} and output {list(sizes)}")
    check(x.shape[1] > 0, RuntimeError, f"Non-empty {x.ndim}D data tensor expected but got a tensor with sizes {list(x.shape)}")
    scales = tuple(None if s is None else float(s) for s in scales)
    return _resample(x, sizes, scales, mode, bool(align_corners))
