"""Padding (torch.nn.functional.pad): constant, reflect, replicate and circular.

``pad`` lists (low, high) pairs from the LAST dim backwards, as torch's. A
negative pad removes elements (crops) on that side.

Per padded dim of size n, output position j reads input index (torch 2.13,
aten/src/ATen/native/PadNd.cpp and the Reflection/ReplicationPad kernels):

* constant:  j - pl, or ``value`` outside [0, n) (``constant_pad_nd`` narrows for
  negative pads, then fills);
* reflect:   r(j - pl) with r(i) = -i for i < 0, 2(n - 1) - i for i >= n: the
  reflection is about the ORIGINAL edges, also when the other side is cropped;
  needs pl < n and pr < n;
* replicate: clip(j - pl, 0, n - 1);
* circular:  crop first (by the negative pads), then wrap the cropped tensor of
  size m: a + (j - max(pl, 0)) mod m with a = max(-pl, 0) (``_pad_circular``
  copies the wrap from the already-cropped output). Needs pl, pr <= n; torch
  also fails (a memory-overlap error in ``copy_``) when a positive pad exceeds m,
  and reads uninitialised memory when m = 0 (the twin raises there too).

Backward: constant mode is a crop/zero-extension of the cotangent; the other
modes sum the cotangent over every output position that read an input element,
per dim (``np.add.reduceat`` over the index map sorted stably, so each input
element's terms are added in output order, as torch's serial backward kernels do).
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validate import check
from ..autograd import Tensor, op

__all__ = ["pad", "place", "scatter_add"]

_MODES = ("constant", "reflect", "replicate", "circular")


def overlap(start, n, size):
    """Per dim, the slices of a size-``size`` result and of a size-``n`` source that
    meet when result[j] = source[j - start]."""
    lo = [min(max(s, 0), f) for s, f in zip(start, size)]
    hi = [max(min(s + m, f), l) for s, m, f, l in zip(start, n, size, lo)]
    return tuple(slice(a, b) for a, b in zip(lo, hi)), tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, start))


def place(x: np.ndarray, start, size, fill=0) -> np.ndarray:
    """result[..., j] = x[..., j - start] over the trailing len(size) dims, ``fill``
    where j - start falls outside x: padding (start > 0) and cropping (start < 0)
    in one. A view of x when the result lies inside it."""
    D = len(size)
    lead = (slice(None),) * (x.ndim - D)
    n = x.shape[x.ndim - D:]
    if all(s <= 0 and f - s <= m for s, m, f in zip(start, n, size)):
        return x[lead + tuple(slice(-s, -s + f) for s, f in zip(start, size))]
    out = np.full(x.shape[:x.ndim - D] + tuple(size), fill, x.dtype)
    inside, source = overlap(start, n, size)
    out[lead + inside] = x[lead + source]
    return out


def _source_index(mode: str, n: int, lo: int, hi: int) -> np.ndarray:
    """Input index read by each output position of one padded dim (reflect/replicate/circular)."""
    j = np.arange(n + lo + hi) - lo
    if mode == "reflect":
        return np.where(j < 0, -j, np.where(j >= n, 2 * (n - 1) - j, j))
    if mode == "replicate":
        return np.clip(j, 0, n - 1)
    first, m = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)  # circular: the cropped tensor, then wrap it
    return first + (np.arange(n + lo + hi) - max(lo, 0)) % m


def scatter_add(g: np.ndarray, index: np.ndarray, n: int, axis: int) -> np.ndarray:
    """Adjoint of np.take(x, index, axis) for an x of size n along ``axis``."""
    shape = list(g.shape)
    shape[axis] = n
    if g.size == 0:
        return np.zeros(shape, g.dtype)
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    starts = np.flatnonzero(np.r_[True, sorted_index[1:] != sorted_index[:-1]])
    sums = np.add.reduceat(np.take(g, order, axis=axis), starts, axis=axis)
    out = np.zeros(shape, g.dtype)
    where = [slice(None)] * g.ndim
    where[axis] = sorted_index[starts]
    out[tuple(where)] += sums  # into zeros, as torch's kernels accumulate: 0 + (-0) = +0
    return out


def _check_pad(x: Tensor, pad: tuple, mode: str, value) -> None:
    check(all(isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in pad), TypeError,
          f"pad(): argument 'pad' must be a tuple of ints, got {pad!r}")
    check(len(pad) % 2 == 0, RuntimeError, f"Padding length must be divisible by 2, got {len(pad)}")
    check(len(pad) <= 2 * x.ndim, RuntimeError,
          f"Padding length should be less than or equal to two times the input dimension but got padding length "
          f"{len(pad)} and input of dimension {x.ndim}")
    check(mode in _MODES, NotImplementedError, f"Unrecognised padding mode {mode}")
    if mode == "constant":
        return
    check(value is None or value == 0, RuntimeError, f"Padding mode \"{mode}\" doesn't take in value argument")
    check(len(pad) in (2, 4, 6) and x.ndim in (len(pad) // 2 + 1, len(pad) // 2 + 2), NotImplementedError,
          f"Padding size {len(pad)} is not supported for {x.ndim}D input tensor.")


def _check_sizes(x: Tensor, pairs: list, mode: str) -> None:
    """Per padded dim (pairs: (dim, n, low, high)), the limits torch enforces."""
    if mode == "constant":
        for dim, n, lo, hi in pairs:
            check(n + min(lo, 0) >= 0 and n + min(lo, 0) + min(hi, 0) >= 0, RuntimeError,
                  f"narrow(): length must be non-negative (dim {dim} of size {n} cropped by {lo} and {hi})")
        return
    if mode in ("reflect", "replicate"):
        batched = x.ndim == len(pairs) + 2
        inner = x.shape[1 if batched else 0:]
        check(all(n > 0 for n in inner), RuntimeError,
              f"Expected {len(pairs) + 1}D or {len(pairs) + 2}D (batch mode) tensor with possibly 0 batch size and "
              f"other non-zero dimensions for input, but got: {list(x.shape)}")
    for dim, n, lo, hi in pairs:
        if mode == "reflect":
            check(lo < n and hi < n, RuntimeError,
                  f"Argument #4: Padding size should be less than the corresponding input dimension, but got: "
                  f"padding ({lo}, {hi}) at dimension {dim} of input {list(x.shape)}")
        if mode == "circular":
            check(lo <= n and hi <= n, RuntimeError, "Padding value causes wrapping around more than once.")
            check(n + lo + hi >= 0, RuntimeError, "Negative padding value is resulting in an empty dimension")
            check(n - max(-lo, 0) - max(-hi, 0) >= 0, RuntimeError,
                  f"circular padding of dim {dim}: the negative pads ({lo}, {hi}) remove more than its {n} elements")
    sizes = [n + lo + hi for _, n, lo, hi in pairs]
    if mode in ("reflect", "replicate"):
        # ATen: the output may be empty in some padded dims, but not in all of them.
        check(all(s >= 0 for s in sizes) and any(s >= 1 for s in sizes), RuntimeError,
              f"input {list(x.shape)} is too small. Calculated output size {sizes} (padding {[(lo, hi) for *_, lo, hi in pairs]})")
    if mode == "circular" and all(sizes):
        for dim, n, lo, hi in pairs:
            m = n - max(-lo, 0) - max(-hi, 0)
            # torch 2.13: a memory-overlap error from copy_ when m >= 1; uninitialised memory when m == 0.
            check(max(lo, hi, 0) <= m and m >= 1, RuntimeError,
                  f"circular padding of dim {dim}: a pad of {max(lo, hi)} wraps more than once around the "
                  f"{m} element(s) left after cropping by the negative pads ({lo}, {hi})")


def pad(x: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """torch.nn.functional.pad (see the module docstring for each mode)."""
    pad = tuple(pad)
    _check_pad(x, pad, mode, value)
    D = len(pad) // 2
    pairs = [(x.ndim - 1 - i, x.shape[x.ndim - 1 - i], pad[2 * i], pad[2 * i + 1]) for i in range(D)][::-1]
    _check_sizes(x, pairs, mode)
    dims = [d for d, *_ in pairs]
    sizes = tuple(n + lo + hi for _, n, lo, hi in pairs)
    start = tuple(lo for _, _, lo, _ in pairs)
    if mode == "constant":
        fill = np.asarray(0 if value is None else value).astype(x.dtype)
        y = np.ascontiguousarray(place(x.data, start, sizes, fill))
        n = x.shape[x.ndim - D:] if D else ()
        return op(y, (x,), lambda g: (np.ascontiguousarray(place(g, tuple(-s for s in start), n)),))
    if y_empty := any(s == 0 for s in sizes):
        indices = [np.zeros(s, np.int64) for s in sizes]  # nothing is read (circular may have no valid map)
    else:
        indices = [_source_index(mode, n, lo, hi) for _, n, lo, hi in pairs]
    y = x.data
    for dim, index in zip(dims, indices):
        y = np.take(y, index, axis=dim)

    def vjp(g):
        for (dim, n, _, _), index in reversed(list(zip(pairs, indices))):
            g = scatter_add(g, index, n, dim)
        return (g,)

    return op(y, (x,), vjp)
