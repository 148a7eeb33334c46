"""Catalog entries: pooling (torch/nn/modules/pooling.py).

MaxPool, AvgPool and LPPool in 1, 2 and 3 d; AdaptiveMaxPool and AdaptiveAvgPool;
FractionalMaxPool2d/3d; MaxUnpool1d/2d/3d.

Strategies draw every option: kernel, stride (or None), padding up to kernel // 2,
dilation, ceil_mode, return_indices, count_include_pad, divisor_override, norm_type,
output sizes with None entries, output_size / output_ratio, injected
``_random_samples``, unpooling's output_size across its valid range. Spatial sizes
are drawn from the sizes valid for the drawn geometry, down to 1. Values include
small integers so that max pooling sees ties; NaN, inf and -0.0 are in the fixed
'special' examples.

Two things no fuzzed case draws, with the reason:

* A max-pooling window with no in-bounds tap (possible with dilation: every tap in
  the padding). Its forward (-inf) and index are defined, but torch's backward
  writes the window's gradient through that index, which lies outside the plane:
  out of bounds of the gradient buffer. We saw it corrupt the heap
  ("malloc(): unaligned tcache chunk detected") in a /tmp fuzz run. The
  'window-in-padding' examples cover the forward on a one-element input, where the
  stray write lands in the allocation's slack and the visible gradient is defined.
* Output sizes of 0 (adaptive pooling, unpooling): torch's backward raises on an
  empty grad_output ("Expected grad_output to have non-zero size"), so there is
  nothing to compare gradients with.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .core import hoeffding_margin
from nnparity.catalog import Entry, Example, Inputs, Invalid

_SIDES = {1: 8, 2: 6, 3: 4}  # largest spatial size drawn per axis, by dimensionality


def _normal(shape, dt, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dt)


def _arr(values, dt, shape=None):
    a = np.array(values, dtype=dt)
    return a.reshape(shape) if shape is not None else a


# -- geometry (the test's own statement of torch's rules; Pool.h) ----------------------------

def _expand(v, nd):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * nd


def pool_output_size(L, k, s, p, d, ceil_mode):
    o = (L + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= L + p:
        o -= 1
    return o


def _axis_ok(L, k, s, p, d, ceil_mode, min_input=False):
    """torch accepts the axis (output >= 1; AvgPool3d also L >= k), and every window
    holds an in-bounds tap (see the module docstring)."""
    o = pool_output_size(L, k, s, p, d, ceil_mode)
    if o < 1 or (min_input and L < k):
        return False
    return all(any(0 <= i * s - p + j * d < L for j in range(k)) for i in range(o))


def _geometry(kw, nd):
    k = _expand(kw["kernel_size"], nd)
    s = _expand(kw["stride"], nd) if kw.get("stride") is not None else k
    return k, s, _expand(kw.get("padding", 0), nd), _expand(kw.get("dilation", 1), nd)


# -- inputs ----------------------------------------------------------------------------------

def _lead(layout, max_n=2, max_c=3):
    c = st.integers(1, max_c)
    if layout == "unbatched":
        return c.map(lambda c_: (c_,))
    if layout == "empty":
        return c.map(lambda c_: (0, c_))
    return st.tuples(st.integers(1, max_n), c)


def _values(shape, dt):
    """Finite values in [-10, 10], often small integers (ties for max pooling)."""
    width = 32 if np.dtype(dt) == np.float32 else 64
    elements = st.one_of(st.floats(-10, 10, width=width, allow_subnormal=False), st.sampled_from([-1.0, 0.0, 1.0, 2.0]))
    return hnp.arrays(np.dtype(dt), shape, elements=elements)


def _separated(shape, dt, positive=False):
    """Distinct values at least 0.25 apart (a permutation of a grid): the gradcheck
    domain of max-type pooling, where a tie is a kink finite differences cannot judge."""
    n = int(np.prod(shape))
    lo = 0.5 if positive else -0.125 * n
    return st.permutations(range(n)).map(lambda perm: (lo + 0.25 * np.asarray(perm, np.float64)).astype(dt).reshape(shape))


def _spatial(valid_sizes):
    """One size per axis, from the sizes valid for the geometry."""
    return st.tuples(*[st.sampled_from(v) for v in valid_sizes])


def _window_inputs(nd, values=_values, min_input=False):
    """Inputs for regular windows (max, avg, LP pooling): sizes valid for the drawn geometry."""

    def inputs(kw, dt, layout):
        k, s, p, d = _geometry(kw, nd)
        ceil = kw.get("ceil_mode", False)
        valid = [[L for L in range(1, _SIDES[nd] + 1) if _axis_ok(L, *a, ceil, min_input)]
                 or [next(L for L in range(_SIDES[nd], 64) if _axis_ok(L, *a, ceil, min_input))]
                 for a in zip(k, s, p, d)]
        shapes = st.tuples(_lead(layout), _spatial(valid)).map(lambda t: t[0] + t[1])
        return shapes.flatmap(lambda sh: values(sh, dt)).map(lambda x: Inputs((x,)))

    return inputs


# -- kwargs ----------------------------------------------------------------------------------

def _per_axis(draw, nd, values):
    """An int (every axis) or a tuple of nd values."""
    if draw(st.booleans()):
        return draw(values)
    return tuple(draw(values) for _ in range(nd))


@st.composite
def _window_kwargs(draw, nd, dilation=True, padding=True, divisor=False, count_include_pad=False, indices=False):
    kw = {"kernel_size": _per_axis(draw, nd, st.integers(1, 3))}
    k = _expand(kw["kernel_size"], nd)
    if draw(st.booleans()):
        kw["stride"] = None if draw(st.booleans()) else _per_axis(draw, nd, st.integers(1, 3))
    if padding and draw(st.booleans()):
        pads = tuple(draw(st.integers(0, kk // 2)) for kk in k)
        kw["padding"] = pads[0] if len(set(pads)) == 1 and draw(st.booleans()) else pads
    if dilation and draw(st.booleans()):
        kw["dilation"] = _per_axis(draw, nd, st.integers(1, 3))
    if draw(st.booleans()):
        kw["ceil_mode"] = draw(st.booleans())
    if indices and draw(st.booleans()):
        kw["return_indices"] = draw(st.booleans())
    if count_include_pad and draw(st.booleans()):
        kw["count_include_pad"] = draw(st.booleans())
    if divisor and draw(st.booleans()):
        kw["divisor_override"] = draw(st.sampled_from([1, 2, 3, 7]))
    return kw


@st.composite
def _lp_kwargs(draw, nd):
    kw = draw(_window_kwargs(nd, dilation=False, padding=False))
    if nd == 1:  # torch's lp_pool1d multiplies by kernel_size itself: only an int works (see Invalid)
        kw["kernel_size"] = _expand(kw["kernel_size"], 1)[0]
    norm = draw(st.sampled_from([1, 2, 3, 1.5, 0.5, -1.0, 4.0, math.inf, -math.inf]))
    return {"norm_type": norm, **kw}


def _lp_gradcheck(nd):
    # Gradcheck domain: positive, separated values. x^p has no real derivative for x < 0
    # and fractional p (NaN), |x| a kink at 0, and p = +-inf is max pooling (ties).
    return _window_inputs(nd, values=lambda sh, dt: _separated(sh, dt, positive=True), min_input=nd == 3)


# -- MaxPool -----------------------------------------------------------------------------------

def _one(values, dt, nd, lead=(1, 1)):
    """A batched input with a single spatial row along the last axis."""
    v = np.asarray(values, dtype=dt)
    return v.reshape(lead + (1,) * (nd - 1) + (v.size,))


def _last(v, nd, rest=1):
    """A per-axis argument acting on the last axis only (``rest`` on the others)."""
    return (rest,) * (nd - 1) + (v,)


def _max_examples(nd):
    n, i = np.nan, np.inf
    ex = [Example(name, "special", {"kernel_size": _last(k, nd), "return_indices": True},
                  lambda dt, v=vals: Inputs((_one(v, dt, nd),)))
          for name, vals, k in (
              ("one-nan", [1.0, n, 3.0, 2.0], 2),
              ("several-nans-last-wins", [n, 1.0, n, 3.0, n, 2.0], 6),
              ("nan-then-larger", [n, 5.0, 7.0, 1.0], 2),
              ("ties-first-wins", [2.0, 2.0, 1.0, 2.0, 0.0, 0.0], 6),
              ("signed-zero-ties", [-0.0, 0.0, 0.0, -0.0, -0.0, -0.0], 2),
              ("infinities", [-i, -i, i, -i, i, i, -i, 1.0], 2),
              ("all-minus-inf-window", [-i, -i, -i, -i], 2))]
    ex.append(Example("nan-with-overlap-and-padding", "special",
                      {"kernel_size": _last(3, nd), "stride": 1, "padding": _last(1, nd, 0), "return_indices": True},
                      lambda dt: Inputs((_one([1.0, n, 2.0, n, -i, 0.0], dt, nd),))))
    # A window wholly in the padding: L = 1, kernel 2, dilation 2, padding 1 on the last axis:
    # taps -1 and 1. -inf, and torch's index 1 (the first tap at or past the left edge, outside
    # the plane). One element: torch's stray gradient write (see the module docstring) lands
    # one element past it, in the allocation's slack, and the visible gradient is 0.
    ex.append(Example("window-in-padding", "special",
                      {"kernel_size": _last(2, nd), "stride": 1, "padding": _last(1, nd, 0), "dilation": _last(2, nd),
                       "return_indices": True},
                      lambda dt: Inputs((np.full((1, 1) + (1,) * nd, 3.0, dt),))))
    ex += [
        Example("dilation", "edge", {"kernel_size": 2, "dilation": 3, "stride": 1, "return_indices": True},
                lambda dt: Inputs((_normal((2, 2) + (5,) * nd, dt, 1),))),
        Example("ceil-mode-drops-window-starting-in-padding", "edge",
                {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True, "return_indices": True},
                lambda dt: Inputs((_normal((1, 2) + (5,) * nd, dt, 2),)),
                note="L=5, k=2, s=2, p=1: 4 windows by the formula, the last starts at 6 = L + p and is dropped"),
        Example("ceil-mode-partial-window", "edge", {"kernel_size": 3, "stride": 2, "ceil_mode": True},
                lambda dt: Inputs((_normal((1, 2) + (4,) * nd, dt, 3),))),
        Example("size-1-spatial", "edge", {"kernel_size": 1, "return_indices": True},
                lambda dt: Inputs((_normal((2, 3) + (1,) * nd, dt, 4),))),
        Example("padding-half-kernel", "edge", {"kernel_size": 3, "padding": 1, "stride": 1, "return_indices": True},
                lambda dt: Inputs((_normal((1, 2) + (3,) * nd, dt, 5),))),
    ]
    return tuple(ex)


def _shape_invalid(nd, kw, bad_shapes):
    return tuple(Invalid(name, kw, lambda dt, sh=sh: Inputs((np.zeros(sh, dt),))) for name, sh in bad_shapes)


def _window_invalid(nd, base, dilation=True):
    ok = (1, 2) + (4,) * nd
    good = lambda dt: Inputs((np.zeros(ok, dt),))  # noqa: E731
    inv = [
        Invalid("kernel-zero", {**base, "kernel_size": 0}, good),
        Invalid("stride-zero", {**base, "kernel_size": 2, "stride": 0}, good),
        Invalid("padding-negative", {**base, "kernel_size": 2, "padding": -1}, good),
        Invalid("padding-over-half-kernel", {**base, "kernel_size": 3, "padding": 2}, good),
        Invalid("kernel-larger-than-input", {**base, "kernel_size": 5}, good),
        Invalid("kernel-tuple-too-long", {**base, "kernel_size": (2,) * (nd + 1)}, good),
        Invalid("kernel-float", {**base, "kernel_size": 2.5}, good),
    ]
    if dilation:
        inv += [Invalid("dilation-zero", {**base, "kernel_size": 2, "dilation": 0}, good),
                Invalid("padding-over-half-kernel-with-dilation", {**base, "kernel_size": 2, "dilation": 3, "padding": 2}, good)]
    inv += _shape_invalid(nd, {**base, "kernel_size": 2}, (
        ("input-too-few-dims", (4,) * nd),
        ("input-too-many-dims", (1, 1, 1) + (4,) * nd),
        ("empty-channels", (1, 0) + (4,) * nd),
        ("empty-spatial", (1, 2) + (0,) + (4,) * (nd - 1)),
    ))
    return tuple(inv)


def _max_bench(nd):
    shape = {1: (32, 16, 256), 2: (64, 6, 28, 28), 3: (8, 8, 16, 16, 16)}[nd]
    kw = {"kernel_size": 3, "stride": 2} if nd == 1 else {"kernel_size": 2}
    return lambda dt: (kw, Inputs((_normal(shape, dt),)))


def max_pool_entry(nd):
    return Entry(
        name=f"MaxPool{nd}d",
        kwargs=_window_kwargs(nd, indices=True),
        inputs=_window_inputs(nd),
        # Ties are kinks of max: finite differences cannot judge them (ties are covered
        # against torch by the 'special'/'edge' examples and the fuzzed values).
        domains={"gradcheck": _window_inputs(nd, values=_separated)},
        layouts=("batched", "unbatched", "empty"),
        examples=_max_examples(nd),
        # torch's 1-d kernel without indices is floating-only (2-d/3-d and 1-d with indices take integers)
        invalid=_window_invalid(nd, {}) + ((Invalid("integer-input", {"kernel_size": 2},
                                                    lambda dt: Inputs((np.arange(8).reshape(1, 2, 4),))),) if nd == 1 else ()),
        bench=_max_bench(nd),
        notes=("MNIST (LeNet) shapes: MaxPool2d(2) on 64x6x28x28 here, and on 64x16x12x12 as "
               "AdaptiveMaxPool2d(6)'s bench shape (the same windows)") if nd == 2 else "",
    )


# -- AvgPool -----------------------------------------------------------------------------------

def _avg_examples(nd):
    n, i = np.nan, np.inf
    ex = [
        Example("nan-inf", "special", {"kernel_size": _last(2, nd)},
                lambda dt: Inputs((_one([n, 1.0, i, 2.0, i, -i, -0.0, -0.0], dt, nd),))),
        Example("signed-zeros", "special", {"kernel_size": _last(2, nd), "padding": _last(1, nd, 0), "count_include_pad": False},
                lambda dt: Inputs((_one([-0.0, -0.0, -0.0], dt, nd),))),
    ]
    for cip in (True, False):
        # L=6, k=3, s=2, p=1, ceil: windows start -1, 1, 3, 5; the last runs past the right
        # padding (clipped to L + p = 7: 2 taps counted with count_include_pad, 1 without).
        ex.append(Example(f"ceil-window-past-padding-count_include_pad={cip}", "edge",
                          {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": cip},
                          lambda dt: Inputs((_normal((1, 2) + (6,) * nd, dt, 6),))))
        ex.append(Example(f"padding-count_include_pad={cip}", "edge",
                          {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": cip},
                          lambda dt: Inputs((_normal((2, 1) + (4,) * nd, dt, 7),))))
    ex += [
        Example("ceil-mode-drops-window-starting-in-padding", "edge",
                {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
                lambda dt: Inputs((_normal((1, 2) + (5,) * nd, dt, 2),))),
        Example("size-1-spatial", "edge", {"kernel_size": 1}, lambda dt: Inputs((_normal((2, 3) + (1,) * nd, dt, 4),))),
    ]
    if nd > 1:
        ex += [Example(f"divisor_override={dv}", "edge",
                       {"kernel_size": 2, "stride": 1, "padding": 1, "ceil_mode": True, "divisor_override": dv},
                       lambda dt: Inputs((_normal((1, 2) + (3,) * nd, dt, 8),))) for dv in (1, 5)]
    return tuple(ex)


def _avg_bench(nd):
    shape = {1: (32, 16, 256), 2: (64, 16, 4, 4), 3: (8, 8, 16, 16, 16)}[nd]
    kw = {1: {"kernel_size": 3, "stride": 2, "padding": 1}, 2: {"kernel_size": 4}, 3: {"kernel_size": 2}}[nd]
    return lambda dt: (kw, Inputs((_normal(shape, dt),)))


def avg_pool_entry(nd):
    inv = _window_invalid(nd, {}, dilation=False)
    if nd > 1:
        inv += (Invalid("divisor_override-zero", {"kernel_size": 2, "divisor_override": 0},
                        lambda dt: Inputs((np.zeros((1, 2) + (4,) * nd, dt),))),)
    if nd == 3:  # avg_pool3d checks the input against the kernel before padding; max_pool3d does not
        inv += (Invalid("input-smaller-than-kernel-despite-padding", {"kernel_size": 2, "padding": 1},
                        lambda dt: Inputs((np.zeros((1, 2, 1, 4, 4), dt),))),)
    return Entry(
        name=f"AvgPool{nd}d",
        kwargs=_window_kwargs(nd, dilation=False, divisor=nd > 1, count_include_pad=True),
        inputs=_window_inputs(nd, min_input=nd == 3),
        layouts=("batched", "unbatched", "empty"),
        examples=_avg_examples(nd),
        invalid=inv,
        bench=_avg_bench(nd),
    )


# -- LPPool ------------------------------------------------------------------------------------

def _lp_examples(nd):
    n, i = np.nan, np.inf
    ex = []
    k2 = 2 if nd == 1 else _last(2, nd)
    for p in (1, 3, 1.5, 2, math.inf, -math.inf):
        ex.append(Example(f"negative-and-zero-inputs-p={p}", "special", {"norm_type": p, "kernel_size": k2},
                          lambda dt: Inputs((_one([-1.0, -2.0, 3.0, -4.0, 0.0, 0.0, -0.0, 2.0, -3.0, -3.0], dt, nd),))))
    ex.append(Example("nan-inf", "special", {"norm_type": 2, "kernel_size": k2},
                      lambda dt: Inputs((_one([n, 1.0, i, 2.0, -i, 0.5], dt, nd),))))
    for p in (1, 2, 3):
        # L=5, k=2, ceil: the last window holds one tap; torch averages it over 1 and then
        # multiplies by the full kernel size, so it counts prod(kernel) times.
        ex.append(Example(f"ceil-partial-window-p={p}", "edge", {"norm_type": p, "kernel_size": 2, "ceil_mode": True},
                          lambda dt: Inputs((_normal((1, 2) + (5,) * nd, dt, 9),))))
    ex.append(Example("stride", "edge", {"norm_type": 2, "kernel_size": 3, "stride": 1},
                      lambda dt: Inputs((_normal((2, 2) + (4,) * nd, dt, 10),))))
    # p = inf is max_pool(|x|) before anything multiplies by kernel_size: a tuple works in 1-d
    ex.append(Example("p=inf-tuple-kernel", "edge", {"norm_type": math.inf, "kernel_size": (2,) * nd, "ceil_mode": True},
                      lambda dt: Inputs((_normal((1, 2) + (5,) * nd, dt, 19),))))
    return tuple(ex)


def lp_pool_entry(nd):
    x4 = lambda dt: Inputs((np.ones((1, 2) + (4,) * nd, dt),))  # noqa: E731
    inv = (
        Invalid("norm_type-zero", {"norm_type": 0, "kernel_size": 2}, x4),  # 1 / 0: ZeroDivisionError
        Invalid("kernel-larger-than-input", {"norm_type": 2, "kernel_size": 5}, x4),
        Invalid("stride-zero", {"norm_type": 2, "kernel_size": 2, "stride": 0}, x4),
        Invalid("input-too-few-dims", {"norm_type": 2, "kernel_size": 2}, lambda dt: Inputs((np.ones((4,) * nd, dt),))),
        # lp_pool1d multiplies the pooled tensor by kernel_size itself (TypeError for a tuple);
        # lp_pool2d/3d unpack it into nd values (ValueError for a longer tuple).
        (Invalid("kernel-tuple", {"norm_type": 2, "kernel_size": (2,)}, x4) if nd == 1 else
         Invalid("kernel-tuple-too-long", {"norm_type": 2, "kernel_size": (2,) * (nd + 1)}, x4)),
    )
    shape = {1: (32, 16, 256), 2: (32, 16, 28, 28), 3: (8, 8, 16, 16, 16)}[nd]
    return Entry(
        name=f"LPPool{nd}d",
        kwargs=_lp_kwargs(nd),
        # negative values too: sums of x^p may be negative (odd p) or NaN (fractional p)
        inputs=_window_inputs(nd, min_input=nd == 3),
        domains={"gradcheck": _lp_gradcheck(nd)},
        layouts=("batched", "unbatched", "empty"),
        examples=_lp_examples(nd),
        invalid=inv,
        bench=lambda dt: ({"norm_type": 2, "kernel_size": 2}, Inputs((_normal(shape, dt),))),
    )


# -- Adaptive pooling --------------------------------------------------------------------------

@st.composite
def _adaptive_kwargs(draw, nd, indices):
    sizes = st.integers(1, 7)
    form = draw(st.sampled_from(["int", "tuple", "none"] if nd > 1 else ["int", "tuple"]))
    if form == "int":
        out = draw(sizes)
    else:
        out = tuple(draw(st.one_of(sizes, st.none()) if form == "none" else sizes) for _ in range(nd))
    kw = {"output_size": out}
    if indices and draw(st.booleans()):
        kw["return_indices"] = draw(st.booleans())
    return kw


def _adaptive_inputs(nd, values=_values):
    def inputs(kw, dt, layout):
        shapes = st.tuples(_lead(layout), st.tuples(*[st.integers(1, _SIDES[nd] + 1)] * nd)).map(lambda t: t[0] + t[1])
        return shapes.flatmap(lambda sh: values(sh, dt)).map(lambda x: Inputs((x,)))

    return inputs


def _adaptive_examples(nd, is_max):
    n, i = np.nan, np.inf
    kw = {"return_indices": True} if is_max else {}
    pad = (1,) * (nd - 1)
    ex = [
        # L = 7, o = 3: windows [0, 3), [2, 5), [4, 7) overlap at 2 and 4.
        Example("overlapping-windows", "edge", {"output_size": 3, **kw}, lambda dt: Inputs((_normal((2, 2) + (7,) * nd, dt, 11),))),
        Example("output-larger-than-input", "edge", {"output_size": 5, **kw}, lambda dt: Inputs((_normal((1, 2) + (3,) * nd, dt, 12),))),
        Example("output-1-global", "edge", {"output_size": 1, **kw}, lambda dt: Inputs((_normal((2, 3) + (4,) * nd, dt, 13),))),
        Example("size-1-spatial", "edge", {"output_size": 2, **kw}, lambda dt: Inputs((_normal((2, 3) + (1,) * nd, dt, 14),))),
        Example("nan-inf", "special", {"output_size": _last(3, nd) if nd > 1 else 3, **kw},
                lambda dt: Inputs((_arr([n, 1.0, n, 2.0, i, -i, -0.0, 0.0, 3.0], dt, (1, 1) + pad + (9,)),))),
    ]
    if nd > 1:
        ex.append(Example("none-in-output_size", "edge", {"output_size": (None,) * (nd - 1) + (2,), **kw},
                          lambda dt: Inputs((_normal((1, 2) + (3,) * nd, dt, 15),))))
    if is_max:
        ex += [Example("ties-first-wins-nan-last-wins", "special", {"output_size": _last(2, nd) if nd > 1 else 2, **kw},
                       lambda dt: Inputs((_arr([2.0, 2.0, n, 5.0, n, 1.0, 1.0, 0.0], dt, (1, 1) + pad + (8,)),))),
               Example("signed-zero-ties", "special", {"output_size": _last(2, nd) if nd > 1 else 2, **kw},
                       lambda dt: Inputs((_arr([-0.0, 0.0, 0.0, -0.0], dt, (1, 1) + pad + (4,)),)))]
    return tuple(ex)


def _adaptive_invalid(nd, is_max):
    x = lambda dt: Inputs((np.zeros((1, 2) + (4,) * nd, dt),))  # noqa: E731
    inv = [
        Invalid("output_size-negative", {"output_size": -1}, x),
        Invalid("output_size-wrong-length", {"output_size": (2,) * (nd + 1)}, x),
        Invalid("input-too-many-dims", {"output_size": 2}, lambda dt: Inputs((np.zeros((1, 1, 1) + (4,) * nd, dt),))),
        Invalid("empty-spatial", {"output_size": 2}, lambda dt: Inputs((np.zeros((1, 2, 0) + (4,) * (nd - 1), dt),))),
    ]
    if nd == 1:
        inv.append(Invalid("output_size-none", {"output_size": None}, x))  # 1-d takes no None (TypeError)
    else:
        # a tuple output_size goes through _list_with_default first: too few input dims is a ValueError
        inv.append(Invalid("tuple-output_size-input-too-few-dims", {"output_size": (2,) * nd},
                           lambda dt: Inputs((np.zeros((4,) * nd, dt),))))
    if is_max:
        inv.append(Invalid("empty-channels", {"output_size": 2}, lambda dt: Inputs((np.zeros((1, 0) + (4,) * nd, dt),))))
    inv.append(Invalid("integer-input", {"output_size": 2}, lambda dt: Inputs((np.zeros((1, 2) + (4,) * nd, np.int64),))))
    return tuple(inv)


_ADAPTIVE_BENCH = {
    ("max", 1): ({"output_size": 7}, (32, 16, 100)),
    ("max", 2): ({"output_size": 6}, (64, 16, 12, 12)),  # = MaxPool2d(2) on the LeNet shape
    ("max", 3): ({"output_size": (3, 4, 5)}, (8, 8, 10, 10, 10)),
    ("avg", 1): ({"output_size": 7}, (32, 16, 100)),
    ("avg", 2): ({"output_size": 1}, (64, 512, 7, 7)),  # a ResNet head
    ("avg", 3): ({"output_size": (3, 4, 5)}, (8, 8, 10, 10, 10)),
}


def adaptive_entry(nd, is_max):
    kind = "max" if is_max else "avg"
    kw, shape = _ADAPTIVE_BENCH[(kind, nd)]
    return Entry(
        name=f"Adaptive{'Max' if is_max else 'Avg'}Pool{nd}d",
        kwargs=_adaptive_kwargs(nd, is_max),
        inputs=_adaptive_inputs(nd),
        # max: ties are kinks (see MaxPool); average pooling is linear, no narrowing.
        domains={"gradcheck": _adaptive_inputs(nd, values=_separated)} if is_max else {},
        layouts=("batched", "unbatched", "empty"),
        examples=_adaptive_examples(nd, is_max),
        invalid=_adaptive_invalid(nd, is_max),
        bench=lambda dt: (kw, Inputs((_normal(shape, dt),))),
    )


# -- FractionalMaxPool -------------------------------------------------------------------------

def _fractional_build(name):
    """``_random_samples`` is drawn as NumPy float64; each side gets it in the case's dtype."""

    def build(nn, kw, factory, side):
        kw = dict(kw)
        samples = kw.get("_random_samples")
        if samples is not None:
            if side == "torch":
                import torch

                kw["_random_samples"] = torch.from_numpy(np.asarray(samples)).to(factory["dtype"])
            else:
                kw["_random_samples"] = np.asarray(samples).astype(factory["dtype"])
        return getattr(nn, name)(**kw)

    return build


def _fractional_sizes(kw, nd):
    """Per axis, the input sizes torch accepts for these kwargs: o + k - 1 <= L (2-d), < L
    (3-d), with o = output_size or int(L * output_ratio) >= 1."""
    k = _expand(kw["kernel_size"], nd)
    sizes = []
    for a in range(nd):
        ok = []
        for L in range(1, _SIDES[nd] + 4):
            o = _expand(kw["output_size"], nd)[a] if "output_size" in kw else int(L * _expand(kw["output_ratio"], nd)[a])
            if o >= 1 and (o + k[a] - 1 < L if nd == 3 else o + k[a] - 1 <= L):
                ok.append(L)
        sizes.append(ok)
    return sizes


def _fractional_kwargs(nd):
    return _fractional_kwargs_any(nd).filter(lambda kw: all(_fractional_sizes(kw, nd)))


@st.composite
def _fractional_kwargs_any(draw, nd):
    kw = {"kernel_size": _per_axis(draw, nd, st.integers(1, 3))}
    if draw(st.booleans()):
        kw["output_size"] = _per_axis(draw, nd, st.integers(1, 4))
    else:
        kw["output_ratio"] = _per_axis(draw, nd, st.sampled_from([0.25, 0.4, 0.5, 0.75, 0.9]))
    if draw(st.booleans()):
        kw["return_indices"] = draw(st.booleans())
    if draw(st.integers(0, 3)) == 0:  # given to the constructor: a buffer, used on every call
        n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        kw["_random_samples"] = np.asarray(draw(st.lists(st.floats(0, 0.999), min_size=n * c * nd, max_size=n * c * nd))).reshape(n, c, nd)
    return kw


def _fractional_inputs(nd, values=_values):
    def inputs(kw, dt, layout):
        samples = kw.get("_random_samples")
        lead = _lead(layout, max_n=samples.shape[0] if samples is not None else 2)
        if samples is not None:
            c = samples.shape[1]
            lead = lead.map(lambda t: t[:-1] + (c,))
        shapes = st.tuples(lead, _spatial(_fractional_sizes(kw, nd))).map(lambda t: t[0] + t[1])
        return shapes.flatmap(lambda sh: values(sh, dt)).map(lambda x: Inputs((x,)))

    return inputs


def _fractional_noise(nd):
    def noise(draws):
        """torch's samples: F.fractional_max_pool{nd}d draws ``torch.rand(N, C, nd,
        dtype=input.dtype)`` (N = 1 unbatched) when the module has no ``_random_samples``."""
        (draw,) = draws
        return {"samples": draw.values}

    return noise


_FRAC_L, _FRAC_O = 11, 8  # alpha = (L - k) / (o - 1) = 10 / 7 with k = 1
_FRAC_N = 100_000


def _interval_classes(L=_FRAC_L, o=_FRAC_O, k=1):
    """The window-start sequences u ~ U[0, 1) produces and their exact probabilities.

    start[i] = floor((i + u) a) - floor(u a) changes only where (i + u) a or u a crosses
    an integer, u = n / a - i; between those breakpoints it is constant, so each interval's
    length is the probability of its sequence."""
    a = (L - k) / (o - 1)
    cuts = {0.0, 1.0}
    for i in range(o - 1):
        for n in range(int(i * a), int((i + 1) * a) + 2):
            u = n / a - i
            if 0 < u < 1:
                cuts.add(round(u, 12))
    cuts = sorted(cuts)
    probs = {}
    for lo, hi in zip(cuts, cuts[1:]):
        u = (lo + hi) / 2
        seq = tuple(int((i + u) * a) - int(u * a) for i in range(o - 1)) + (L - k,)
        probs[seq] = probs.get(seq, 0.0) + (hi - lo)
    return probs


def _fractional_statistics(nd):
    def statistics(impl, rng):
        """The twin's own draws of u, through the windows it chooses: FractionalMaxPool
        with kernel 1 and output 8 on an axis of 11 (alpha = 10/7) picks one of 7 window
        start sequences, with probabilities 0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1 for
        u ~ U[0, 1) (``_interval_classes``), and the returned indices reveal which. For
        each axis (n = 100,000 planes) every sequence's frequency must be within the
        Hoeffding margin of its probability; for 2-d also the joint frequencies of the
        (H, W) sequences (n = 20,000), which tests that the two samples are independent.
        False-alarm rate 1e-6 for the whole test (Bonferroni over every frequency
        compared). A sequence no u in [0, 1) gives fails. Checked by hand to catch
        u ** 1.1, u / 2, and one u shared by H and W."""
        probs = _interval_classes()
        seqs = list(probs)
        cls = getattr(impl.nn, f"FractionalMaxPool{nd}d")
        n_tests = nd * len(seqs) + (len(seqs) ** 2 if nd == 2 else 0)
        alpha = 1e-6 / n_tests
        results = []

        def run(shape, out):
            m = cls(kernel_size=1, output_size=out, return_indices=True)
            m.generator = np.random.default_rng(rng.integers(2**63))
            x = np.arange(int(np.prod(shape[2:])), dtype=np.float64).reshape((1, 1) + shape[2:])
            _, idx = m(np.broadcast_to(x, shape).copy())
            return idx

        def classify(starts):
            index = {s: i for i, s in enumerate(seqs)}
            return np.array([index.get(tuple(r), -1) for r in starts.tolist()])

        other = 1 if nd == 2 else 2  # a size-1 axis has one window; 3-d needs o + k - 1 < L
        for axis in range(nd):
            shape = [other] * nd
            shape[axis], out = _FRAC_L, [1] * nd
            out[axis] = _FRAC_O
            idx = run((_FRAC_N, 1) + tuple(shape), tuple(out))
            stride = int(np.prod(shape[axis + 1:]))
            starts = (idx.reshape(_FRAC_N, -1) // stride) % _FRAC_L
            c = classify(starts)
            name = "THW"[3 - nd + axis]
            results.append((f"{name} sequences valid", bool((c >= 0).all()),
                            f"{int((c < 0).sum())} of {_FRAC_N} planes chose a window sequence no u in [0, 1) gives"))
            margin = hoeffding_margin(_FRAC_N, alpha)
            for i, seq in enumerate(seqs):
                f = float((c == i).mean())
                results.append((f"{name} sequence {i}", abs(f - probs[seq]) < margin,
                                f"frequency {f:.4f}, expected {probs[seq]:.4f} +- {margin:.4f} (false-alarm rate {alpha:.1e})"))
        if nd == 2:
            n2 = 20_000
            idx = run((n2, 1, _FRAC_L, _FRAC_L), (_FRAC_O, _FRAC_O)).reshape(n2, _FRAC_O, _FRAC_O)
            ch, cw = classify(idx[:, :, 0] // _FRAC_L), classify(idx[:, 0, :] % _FRAC_L)
            margin = hoeffding_margin(n2, alpha)
            joint = np.zeros((len(seqs), len(seqs)))
            np.add.at(joint, (ch, cw), 1.0 / n2)
            worst = np.abs(joint - np.outer([probs[s] for s in seqs], [probs[s] for s in seqs])).max()
            results.append(("H and W samples independent", bool(worst < margin) and bool((ch >= 0).all() and (cw >= 0).all()),
                            f"largest joint-frequency error {worst:.4f}, allowed {margin:.4f} over {len(seqs) ** 2} cells "
                            f"(false-alarm rate {alpha:.1e} each)"))
        return results

    return statistics


def _fractional_examples(nd):
    n, i = np.nan, np.inf
    samples = np.array([[[0.3, 0.7, 0.5][:nd]]])
    ex = [
        Example("output_size", "edge", {"kernel_size": 2, "output_size": 3, "return_indices": True},
                lambda dt: Inputs((_normal((2, 2) + (6,) * nd, dt, 16),))),
        Example("output_ratio", "edge", {"kernel_size": 2, "output_ratio": 0.5, "return_indices": True},
                lambda dt: Inputs((_normal((1, 3) + (7,) * nd, dt, 17),))),
        Example("given-_random_samples", "edge", {"kernel_size": 2, "output_size": 2, "_random_samples": samples},
                lambda dt: Inputs((_normal((1, 1) + (5,) * nd, dt, 18),))),
        # 2-d: 3 x 3 (o + k - 1 <= L); 3-d: 4 x 4 x 4 (torch's 3-d kernel wants o + k - 1 < L)
        Example("nan-ties-inf", "special", {"kernel_size": 2, "output_size": 2, "return_indices": True},
                lambda dt: Inputs((_arr(np.resize([n, 1.0, n, 2.0, 2.0, 2.0, -i, -0.0, 0.0, i, 2.0], (3 + nd - 2) ** nd), dt,
                                        (1, 1) + (3 + nd - 2,) * nd),))),
    ]
    return tuple(ex)


def _fractional_invalid(nd):
    x = lambda dt: Inputs((np.zeros((1, 2) + (5,) * nd, dt),))  # noqa: E731
    inv = [
        Invalid("neither-size-nor-ratio", {"kernel_size": 2}),
        Invalid("both-size-and-ratio", {"kernel_size": 2, "output_size": 2, "output_ratio": 0.5}),
        Invalid("output_ratio-one", {"kernel_size": 2, "output_ratio": 1.0}),
        Invalid("output_ratio-zero", {"kernel_size": 2, "output_ratio": 0.0}),
        Invalid("pool-too-large-for-input", {"kernel_size": 3, "output_size": 4}, x),
        Invalid("input-too-many-dims", {"kernel_size": 2, "output_size": 2},
                lambda dt: Inputs((np.zeros((1, 1, 1) + (5,) * nd, dt),))),
        Invalid("empty-channels", {"kernel_size": 2, "output_size": 2}, lambda dt: Inputs((np.zeros((1, 0) + (5,) * nd, dt),))),
        Invalid("_random_samples-batch-too-small", {"kernel_size": 2, "output_size": 2, "_random_samples": np.full((1, 2, nd), 0.5)},
                lambda dt: Inputs((np.zeros((2, 2) + (5,) * nd, dt),))),
        Invalid("_random_samples-wrong-last-dim", {"kernel_size": 2, "output_size": 2, "_random_samples": np.full((1, 2, nd + 1), 0.5)}, x),
        Invalid("integer-input", {"kernel_size": 2, "output_size": 2}, lambda dt: Inputs((np.zeros((1, 2) + (5,) * nd, np.int64),))),
    ]
    if nd == 3:
        inv += [Invalid("kernel-zero", {"kernel_size": 0, "output_size": 2}),
                # torch's 3-d kernel demands o + k - 1 < L (the 2-d one <=)
                Invalid("pool-fills-input-exactly", {"kernel_size": 2, "output_size": 4}, x)]
    else:
        inv.append(Invalid("output_ratio-three-values", {"kernel_size": 2, "output_ratio": (0.5, 0.5, 0.5)}, x))
    return tuple(inv)


def fractional_entry(nd):
    shape = {2: (32, 16, 28, 28), 3: (8, 8, 16, 16, 16)}[nd]
    return Entry(
        name=f"FractionalMaxPool{nd}d",
        kwargs=_fractional_kwargs(nd),
        inputs=_fractional_inputs(nd),
        build_fn=_fractional_build(f"FractionalMaxPool{nd}d"),
        # Ties are kinks of max (see MaxPool).
        domains={"gradcheck": _fractional_inputs(nd, values=_separated)},
        random=True, noise=_fractional_noise(nd), statistical=_fractional_statistics(nd),
        layouts=("batched", "unbatched", "empty"),
        examples=_fractional_examples(nd),
        invalid=_fractional_invalid(nd),
        bench=lambda dt: ({"kernel_size": 2, "output_ratio": 0.5}, Inputs((_normal(shape, dt),))),
    )


# -- MaxUnpool ---------------------------------------------------------------------------------

def _unpool_kwargs(nd):
    """k, s, p for which some input size has a default output at least as large along each
    axis, so that every plane can take distinct indices: this leaves out s = 1 with
    p = k / 2 (default output L - 1), covered by the 'smaller-default-output' example."""

    def fits(kw):
        k, s, p, _ = _geometry(kw, nd)
        return all(ss > 1 or kk - 2 * pp > 0 for kk, ss, pp in zip(k, s, p))

    return _window_kwargs(nd, dilation=False).map(lambda kw: {k: v for k, v in kw.items() if k != "ceil_mode"}).filter(fits)


def _unpool_default(L, k, s, p):
    return [(LL - 1) * ss + kk - 2 * pp for LL, kk, ss, pp in zip(L, k, s, p)]


def _distinct_indices(lead, sizes, out, seed):
    """Per plane, distinct flat positions in the output plane (duplicates would make
    torch's result depend on its threads' write order)."""
    rng = np.random.default_rng(seed)
    P, n, plane = int(np.prod(lead)), int(np.prod(sizes)), int(np.prod(out))
    idx = np.stack([rng.permutation(plane)[:n] for _ in range(P)]) if P else np.zeros((0, n), np.int64)
    return idx.astype(np.int64).reshape(tuple(lead) + tuple(sizes))


def _unpool_inputs(nd):
    def inputs(kw, dt, layout):
        k, s, p, _ = _geometry(kw, nd)

        @st.composite
        def draw_inputs(draw):
            lead = draw(_lead(layout))
            # sizes whose default output is at least the input (distinct indices fit); with
            # k = 2p that excludes L = 1 (default output 0)
            sizes = tuple(draw(st.sampled_from([L for L in range(1, 5) if (L - 1) * ss + kk - 2 * pp >= L]))
                          for kk, ss, pp in zip(k, s, p))
            default = _unpool_default(sizes, k, s, p)
            fkw, out = {}, default
            form = draw(st.sampled_from(["default", "list", "tuple", "with-batch-dims"]))
            if form != "default":  # anywhere in (default - s, default + s), keeping out >= input
                out = [draw(st.integers(max(1 - ss, L - dd), ss - 1)) + dd for L, dd, ss in zip(sizes, default, s)]
                fkw["output_size"] = {"list": out, "tuple": tuple(out), "with-batch-dims": [7, 9] + out}[form]
            x = draw(_values(lead + sizes, dt))
            idx = _distinct_indices(lead, sizes, out, draw(st.integers(0, 2**32 - 1)))
            return Inputs((x, idx), fkw)

        return draw_inputs()

    return inputs


def _unpool_case(dt, nd, sizes, k=2, s=None, p=0, out=None, seed=0, values=None, lead=(1, 2), fkw=None):
    s = s or k
    out = out or _unpool_default(sizes, (k,) * nd, (s,) * nd, (p,) * nd)
    x = _normal(lead + sizes, dt, seed) if values is None else _arr(values, dt, lead + sizes)
    return Inputs((x, _distinct_indices(lead, sizes, out, seed)), fkw or {})


def _unpool_examples(nd):
    n, i = np.nan, np.inf
    sz = (2,) * nd
    default = _unpool_default(sz, (2,) * nd, (2,) * nd, (0,) * nd)  # 4 per axis
    lo = [d - 1 for d in default]  # output_size range with stride 2: (default - 2, default + 2)
    hi = [d + 1 for d in default]
    ex = [
        Example("default-output-size", "edge", {"kernel_size": 2}, lambda dt: _unpool_case(dt, nd, sz)),
        Example("output_size-smallest", "edge", {"kernel_size": 2},
                lambda dt: _unpool_case(dt, nd, sz, out=lo, fkw={"output_size": lo})),
        Example("output_size-largest", "edge", {"kernel_size": 2},
                lambda dt: _unpool_case(dt, nd, sz, out=hi, fkw={"output_size": hi})),
        Example("output_size-with-batch-dims", "edge", {"kernel_size": 2},
                lambda dt: _unpool_case(dt, nd, sz, out=hi, fkw={"output_size": [1, 2] + hi})),
        Example("stride-and-padding", "edge", {"kernel_size": 3, "stride": 2, "padding": 1},
                lambda dt: Inputs(_unpool_case(dt, nd, (3,) * nd, k=3, s=2, p=1).args)),
        Example("nan-inf-signed-zero", "special", {"kernel_size": 2},
                lambda dt: _unpool_case(dt, nd, (2,) + (1,) * (nd - 1), values=[n, i, -i, -0.0])),
        Example("unbatched", "layout", {"kernel_size": 2}, lambda dt: _unpool_case(dt, nd, sz, lead=(3,))),
    ]
    # s = 1, p = k / 2: the default output (L - 1 per axis) is smaller than the input, so
    # indices repeat; equal values at a repeated index make the result independent of
    # torch's write order, as after a max pool with overlapping windows.
    ex.append(Example("smaller-default-output-repeated-indices", "edge", {"kernel_size": 2, "stride": 1, "padding": 1},
                      lambda dt: Inputs((np.full((1, 1) + (3,) * nd, 1.5, dt),
                                         np.zeros((1, 1) + (3,) * nd, np.int64)))))
    return tuple(ex)


def _unpool_invalid(nd):
    sz = (2,) * nd

    def case(idx_change=None, fkw=None, x_shape=None, idx_dtype=np.int64):
        def make(dt):
            base = _unpool_case(dt, nd, sz, fkw=fkw)
            x, idx = base.args
            if x_shape is not None:
                x = np.zeros(x_shape, dt)
            if idx_change is not None:
                idx = idx.copy()
                idx.reshape(-1)[0] = idx_change
            return Inputs((x, idx.astype(idx_dtype)), base.kwargs)
        return make

    default = _unpool_default(sz, (2,) * nd, (2,) * nd, (0,) * nd)
    return (
        Invalid("index-equals-output-size", {"kernel_size": 2}, case(idx_change=int(np.prod(default)))),
        Invalid("index-negative", {"kernel_size": 2}, case(idx_change=-1)),
        Invalid("output_size-too-small", {"kernel_size": 2}, case(fkw={"output_size": [d - 2 for d in default]})),
        Invalid("output_size-too-large", {"kernel_size": 2}, case(fkw={"output_size": [d + 2 for d in default]})),
        Invalid("output_size-wrong-length", {"kernel_size": 2}, case(fkw={"output_size": default + [4]})),
        Invalid("indices-int32", {"kernel_size": 2}, case(idx_dtype=np.int32)),
        Invalid("indices-shape-mismatch", {"kernel_size": 2}, case(x_shape=(1, 2) + (3,) * nd)),
        Invalid("integer-input", {"kernel_size": 2},
                lambda dt: Inputs((np.zeros((1, 2) + sz, np.int64), _unpool_case(dt, nd, sz).args[1]))),
        Invalid("default-output-negative", {"kernel_size": 1, "padding": 1},
                lambda dt: Inputs((np.zeros((1, 1) + (1,) * nd, dt), np.zeros((1, 1) + (1,) * nd, np.int64)))),
    )


def _unpool_bench(nd):
    shape = {1: (32, 16, 128), 2: (64, 16, 12, 12), 3: (8, 8, 8, 8, 8)}[nd]

    def bench(dt):
        # indices as MaxPool(2) would return them: one tap of each 2-wide window per axis
        rng = np.random.default_rng(0)
        sizes = shape[2:]
        out = [2 * L for L in sizes]
        pos = [2 * np.arange(L).reshape(tuple(-1 if a == ax else 1 for a in range(nd))) + rng.integers(0, 2, shape)
               for ax, L in enumerate(sizes)]
        flat = np.zeros(shape, np.int64)
        for ax in range(nd):
            flat += pos[ax] * int(np.prod(out[ax + 1:]))
        return {"kernel_size": 2}, Inputs((_normal(shape, dt), flat))

    return bench


def unpool_entry(nd):
    return Entry(
        name=f"MaxUnpool{nd}d",
        kwargs=_unpool_kwargs(nd),
        inputs=_unpool_inputs(nd),
        layouts=("batched", "unbatched", "empty"),
        examples=_unpool_examples(nd),
        invalid=_unpool_invalid(nd),
        bench=_unpool_bench(nd),
    )


ENTRIES = (
    [max_pool_entry(nd) for nd in (1, 2, 3)]
    + [avg_pool_entry(nd) for nd in (1, 2, 3)]
    + [lp_pool_entry(nd) for nd in (1, 2, 3)]
    + [adaptive_entry(nd, is_max) for is_max in (True, False) for nd in (1, 2, 3)]
    + [fractional_entry(nd) for nd in (2, 3)]
    + [unpool_entry(nd) for nd in (1, 2, 3)]
)
