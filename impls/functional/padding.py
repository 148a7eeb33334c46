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

Each padded dim is a few slices (``_pieces``): the kept part, then each pad as a
(possibly reversed) slice or a repeated edge element; one piece per dim makes one
block of the output (interior, faces, edges, corners). Forward: one slice copy per
block. Backward: constant mode is a crop/zero-extension of the cotangent; the other
modes add each block of the cotangent back onto the elements it was read from
(summed over the dims where it repeats an edge element).
"""

from __future__ import annotations

import itertools
import numbers

import numpy as np

from .._validate import check
from ..autograd import Tensor, op

__all__ = ["pad", "place"]

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


def _pieces(mode: str, n: int, lo: int, hi: int) -> list:
    """One padded dim as slices: [(output slice, source, kind)], kind 'copy' (source: a
    slice of the input, possibly reversed) or 'edge' (source: one input index, repeated).
    Together they cover every output position once, with the index maps of the module
    docstring."""
    size = n + lo + hi
    if mode == "circular":  # the kept part [a, b), then the wrap of the kept part
        a, b = max(-lo, 0), n - max(-hi, 0)
        L, m = max(lo, 0), b - a
        pieces = [(slice(L, L + m), slice(a, b), "copy")]
        if lo > 0:
            pieces.append((slice(0, lo), slice(b - lo, b), "copy"))
        if hi > 0:
            pieces.append((slice(L + m, size), slice(a, a + hi), "copy"))
        return pieces
    # reflect / replicate: output j reads t = j - lo; three zones, t < 0, 0 <= t < n, t >= n.
    zones = [(0, min(lo, size)), (max(lo, 0), min(lo + n, size)), (max(lo + n, 0), size)]
    pieces = []
    for zone, (j0, j1) in enumerate(zones):
        if j1 <= j0:
            continue
        if zone == 1:
            pieces.append((slice(j0, j1), slice(j0 - lo, j1 - lo), "copy"))
        elif mode == "replicate":
            pieces.append((slice(j0, j1), 0 if zone == 0 else n - 1, "edge"))
        else:  # reflect: index -t on the left, 2(n - 1) - t on the right, both decreasing in j
            first = lo - j0 if zone == 0 else 2 * (n - 1) + lo - j0
            stop = first - (j1 - j0)
            pieces.append((slice(j0, j1), slice(first, stop if stop >= 0 else None, -1), "copy"))
    return pieces


def _sum_slices(a: np.ndarray, axis: int) -> np.ndarray:
    """a.sum(axis, keepdims=True) as one elementwise add per slice: a loop over the pad width
    only. NumPy's reduction over a short, strided axis costs ~10x more per element."""
    index = [slice(None)] * a.ndim
    index[axis] = slice(0, 1)
    out = a[tuple(index)].copy()
    for i in range(1, a.shape[axis]):
        index[axis] = slice(i, i + 1)
        out += a[tuple(index)]
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
    if any(s == 0 for s in sizes):  # nothing is read (circular may have no valid map then)
        return op(np.zeros(x.shape[:x.ndim - D] + sizes, x.dtype), (x,), lambda g: (np.zeros(x.shape, g.dtype),))
    # Every combination of one piece per padded dim is one block of the output: the kept
    # interior, the faces, edges and corners (3^D blocks at most), each a slice copy.
    lead = (slice(None),) * (x.ndim - D)
    blocks = []
    for combo in itertools.product(*[_pieces(mode, n, lo, hi) for _, n, lo, hi in pairs]):
        target = lead + tuple(t for t, _, _ in combo)
        source = lead + tuple(slice(s, s + 1) if kind == "edge" else s for _, s, kind in combo)
        edges = tuple(x.ndim - D + i for i, (_, _, kind) in enumerate(combo) if kind == "edge")
        blocks.append((target, source, edges))
    y = np.empty(x.shape[:x.ndim - D] + sizes, x.dtype)
    for target, source, _ in blocks:
        y[target] = x.data[source]

    def vjp(g):
        grad = np.zeros(x.shape, g.dtype)  # torch accumulates into zeros: 0 + (-0) = +0
        for target, source, edges in blocks:
            part = g[target]
            for axis in edges:  # a repeated edge element: sum its copies
                part = _sum_slices(part, axis)
            grad[source] += part
        return (grad,)

    return op(y, (x,), vjp)
