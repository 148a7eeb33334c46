"""Catalog entries: convolutions, transposed convolutions, Fold and Unfold
(torch/nn/modules/conv.py, fold.py).

The strategies reach every documented option with both parities: odd and even
kernels, strides and dilations from 1 to 3, padding as an int, a tuple, 'valid'
and 'same' (with even kernels, where 'same' pads one more element on the high
side), groups including depthwise (groups == in_channels), bias on and off, and
every padding_mode. Inputs are drawn just large enough for the configuration
(the padded input covers the dilated kernel; reflect pads stay below the size and
circular pads within one wrap), in the batched, unbatched and empty-batch layouts,
with spatial sizes down to 1.

Transposed convolutions also draw output_padding up to its limit (below the
stride or the dilation) and the forward's ``output_size=`` over its whole valid
range [min, min + stride - 1], given with or without the batch and channel dims.
"""

from __future__ import annotations

from dataclasses import replace

import math

import numpy as np
from hypothesis import strategies as st

from ..strategies import batch_dims, float_arrays
from nnparity.catalog import Entry, Example, Inputs, Invalid

INF, NAN = math.inf, math.nan


def _normal(shape, dt, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dt)


def _size(D: int, lo: int, hi: int):
    """An int, or a D-tuple (per-dim values, possibly different)."""
    return st.one_of(st.integers(lo, hi), st.tuples(*[st.integers(lo, hi)] * D))


def _per_dim(value, D: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * D


def _channels(draw):
    """(in_channels, out_channels, groups): groups of 1 to 3, depthwise (groups == in_channels)
    included; sometimes 8 channels per group, where a stride-1 convolution takes the twin's
    one-GEMM-per-tap path (impls.functional.conv.PER_TAP_MIN_CHANNELS) instead of im2col."""
    if draw(st.integers(0, 4)) == 0:
        g = draw(st.sampled_from([1, 2]))
        return 8 * g, g * draw(st.integers(1, 2)), g
    g = draw(st.sampled_from([1, 1, 2, 3]))
    if g > 1 and draw(st.booleans()):  # depthwise, with a channel multiplier of 1 or 2
        return g, g * draw(st.integers(1, 2)), g
    return g * draw(st.integers(1, 2)), g * draw(st.integers(1, 2)), g


def _common_kwargs(draw, D: int) -> dict:
    """Channels, kernel, and (each sometimes left out) groups, stride and dilation, shared by
    convolutions and transposed convolutions. 3-d stays small."""
    big = 3 if D < 3 else 2
    cin, cout, g = _channels(draw)
    kw = {"in_channels": cin, "out_channels": cout, "kernel_size": draw(_size(D, 1, big + 1))}
    if g > 1 or draw(st.booleans()):
        kw["groups"] = g
    for name in ("stride", "dilation"):
        if draw(st.booleans()):
            kw[name] = draw(_size(D, 1, big))
    return kw


def conv_kwargs(D: int):
    @st.composite
    def draw(draw):
        kw = _common_kwargs(draw, D)
        strided = any(s != 1 for s in _per_dim(kw.get("stride", 1), D))
        choices = [_size(D, 0, 2), st.just("valid")] + ([] if strided else [st.just("same")])
        if draw(st.booleans()):
            kw["padding"] = draw(st.one_of(*choices))
        if draw(st.booleans()):
            kw["bias"] = draw(st.booleans())
        if draw(st.booleans()):
            kw["padding_mode"] = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
        return kw

    return draw()


def conv_pads(kw, D):
    """(low, high) padding per dim, as the module applies it ('same': the odd element high)."""
    k, d = _per_dim(kw["kernel_size"], D), _per_dim(kw.get("dilation", 1), D)
    p = kw.get("padding", 0)
    if p == "same":
        return [(d_ * (k_ - 1) // 2, d_ * (k_ - 1) - d_ * (k_ - 1) // 2) for k_, d_ in zip(k, d)]
    if p == "valid":
        return [(0, 0)] * D
    return [(q, q) for q in _per_dim(p, D)]


def conv_min_sizes(kw, D):
    """Smallest spatial size per dim: the padded input covers the dilated kernel, reflect
    pads stay below the size, circular pads within one wrap, and at least 1."""
    k, d = _per_dim(kw["kernel_size"], D), _per_dim(kw.get("dilation", 1), D)
    mode = kw.get("padding_mode", "zeros")
    out = []
    for (lo, hi), k_, d_ in zip(conv_pads(kw, D), k, d):
        n = max(1, d_ * (k_ - 1) + 1 - lo - hi)
        if mode == "reflect":
            n = max(n, max(lo, hi) + 1)
        elif mode == "circular":
            n = max(n, lo, hi)
        out.append(n)
    return out


def conv_inputs(D: int):
    extra = 3 if D < 3 else 2

    def inputs(kw, dt, layout):
        mins = conv_min_sizes(kw, D)
        spatial = st.tuples(*[st.integers(m, m + extra) for m in mins])
        lead = batch_dims(layout, max_batch=3)
        return st.tuples(lead, spatial).flatmap(
            lambda t: float_arrays(t[0] + (kw["in_channels"],) + t[1], dt)).map(lambda x: Inputs((x,)))

    return inputs


def _conv_special(D, channels=2):
    """NaN, +-inf and -0.0 inside one input: NaN and inf must reach exactly the outputs (and
    weight gradients) whose windows hold them; inf meeting -inf, or inf times a zero padding
    tap, gives NaN. Windows without specials stay finite."""
    def make(dt):
        x = _normal((1, channels) + (5,) * D, dt, seed=3)
        flat = x.reshape(-1)
        n = flat.size
        flat[[1, n // 3, n // 2 + 1]] = [NAN, INF, -0.0]
        flat[-2] = -INF
        return Inputs((x,))
    return make


def conv_entry(D: int, bench) -> Entry:
    name = f"Conv{D}d"
    k3 = (3,) * D
    x = lambda *shape, seed=0: (lambda dt: Inputs((_normal(shape, dt, seed),)))  # noqa: E731
    small = (2, 4) + (6,) * D
    return Entry(
        name=name, kwargs=conv_kwargs(D), inputs=conv_inputs(D), factory_kwargs=True,
        layouts=("batched", "unbatched", "empty"),
        examples=(
            # 'same' with an even kernel: total padding 3 (odd), the extra element on the high side.
            Example("same-even-kernel", "edge", {"in_channels": 2, "out_channels": 3, "kernel_size": 4, "padding": "same"}, x(2, 2, *(6,) * D)),
            Example("same-even-kernel-dilated-reflect", "edge",
                    {"in_channels": 2, "out_channels": 2, "kernel_size": 2, "padding": "same", "dilation": 3, "padding_mode": "reflect"},
                    x(1, 2, *(5,) * D)),
            Example("depthwise-bias=False", "edge", {"in_channels": 4, "out_channels": 8, "kernel_size": 3, "groups": 4, "bias": False},
                    x(*small)),
            Example("circular-one-wrap", "edge", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "padding": 3, "padding_mode": "circular"},
                    x(2, 2, *(3,) * D)),
            Example("reflect-limit", "edge", {"in_channels": 2, "out_channels": 1, "kernel_size": 1, "padding": 2, "padding_mode": "reflect"},
                    x(1, 2, *(3,) * D)),
            Example("kernel-equals-padded-input", "edge", {"in_channels": 1, "out_channels": 2, "kernel_size": 5, "padding": 1, "stride": 2},
                    x(2, 1, *(3,) * D)),
            Example("size-1-input", "edge", {"in_channels": 3, "out_channels": 2, "kernel_size": 1}, x(2, 3, *(1,) * D)),
            Example("wide-dilated-same", "edge", {"in_channels": 16, "out_channels": 4, "kernel_size": 2, "dilation": 2, "groups": 2,
                                                  "padding": "same"}, x(2, 16, *(4,) * D)),
            Example("special", "special", {"in_channels": 2, "out_channels": 2, "kernel_size": 2, "padding": 1}, _conv_special(D)),
            Example("special-wide", "special", {"in_channels": 8, "out_channels": 2, "kernel_size": 2, "padding": 1},
                    _conv_special(D, channels=8)),
            Example("special-replicate", "special", {"in_channels": 2, "out_channels": 1, "kernel_size": 3, "padding": 1,
                                                     "padding_mode": "replicate"}, _conv_special(D)),
        ),
        invalid=(
            Invalid("groups=0", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "groups": 0}),
            Invalid("in-channels-not-divisible", {"in_channels": 3, "out_channels": 2, "kernel_size": 3, "groups": 2}),
            Invalid("out-channels-not-divisible", {"in_channels": 4, "out_channels": 3, "kernel_size": 3, "groups": 2}),
            Invalid("same-with-stride", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "padding": "same", "stride": 2}),
            Invalid("bad-padding-string", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "padding": "full"}),
            Invalid("bad-padding-mode", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "padding_mode": "mirror"}),
            Invalid("negative-kernel", {"in_channels": 2, "out_channels": 2, "kernel_size": -1}),
            Invalid("float-kernel", {"in_channels": 2, "out_channels": 2, "kernel_size": 2.5}),
            Invalid("kernel-larger-than-padded-input", {"in_channels": 2, "out_channels": 2, "kernel_size": 4, "padding": 1}, x(1, 2, *(1,) * D)),
            Invalid("wrong-channels", {"in_channels": 3, "out_channels": 2, "kernel_size": 1}, x(1, 2, *(4,) * D)),
            Invalid("wrong-rank", {"in_channels": 2, "out_channels": 2, "kernel_size": 1}, x(1, 1, 2, *(4,) * D)),
            Invalid("stride=0", {"in_channels": 2, "out_channels": 2, "kernel_size": 1, "stride": 0}, x(1, 2, *(4,) * D)),
            Invalid("negative-padding", {"in_channels": 2, "out_channels": 2, "kernel_size": 1, "padding": -1}, x(1, 2, *(4,) * D)),
            Invalid("dilation=0", {"in_channels": 2, "out_channels": 2, "kernel_size": 2, "dilation": 0}, x(1, 2, *(4,) * D)),
            Invalid("stride-wrong-length", {"in_channels": 2, "out_channels": 2, "kernel_size": 1, "stride": (1,) * (D + 1)},
                    x(1, 2, *(4,) * D)),
            Invalid("reflect-pad-not-below-size", {"in_channels": 2, "out_channels": 2, "kernel_size": 1, "padding": 3,
                                                   "padding_mode": "reflect"}, x(1, 2, *(3,) * D)),
            Invalid("circular-pad-wraps-twice", {"in_channels": 2, "out_channels": 2, "kernel_size": 1, "padding": 4,
                                                 "padding_mode": "circular"}, x(1, 2, *(3,) * D)),
            Invalid("empty-spatial-input", {"in_channels": 2, "out_channels": 2, "kernel_size": 1, "padding": 1},
                    lambda dt: Inputs((np.zeros((1, 2) + (0,) + (3,) * (D - 1), dt),))),
            Invalid("integer-input", {"in_channels": 2, "out_channels": 2, "kernel_size": 1},
                    lambda dt: Inputs((np.ones((1, 2) + (3,) * D, np.int64),))),
        ),
        bench=bench,
    )


CONV1D = conv_entry(1, lambda dt: ({"in_channels": 64, "out_channels": 64, "kernel_size": 5, "padding": 2},
                                   Inputs((_normal((16, 64, 1024), dt),))))
# The large Conv2d of issue 10 (64 -> 64, 3x3, 56x56, batch 8); the MNIST/LeNet shapes are in
# bench/test_gemm_efficiency.py.
CONV2D = conv_entry(2, lambda dt: ({"in_channels": 64, "out_channels": 64, "kernel_size": 3, "padding": 1},
                                   Inputs((_normal((8, 64, 56, 56), dt),))))
CONV3D = conv_entry(3, lambda dt: ({"in_channels": 16, "out_channels": 16, "kernel_size": 3, "padding": 1},
                                   Inputs((_normal((2, 16, 16, 16, 16), dt),))))


# -- transposed convolutions ------------------------------------------------------------------

def conv_transpose_kwargs(D: int):
    @st.composite
    def draw(draw):
        kw = _common_kwargs(draw, D)
        if draw(st.booleans()):
            kw["padding"] = draw(_size(D, 0, 2))
        if draw(st.booleans()):  # up to its limit: below the stride or below the dilation
            s, d = _per_dim(kw.get("stride", 1), D), _per_dim(kw.get("dilation", 1), D)
            kw["output_padding"] = tuple(draw(st.integers(0, max(a, b) - 1)) for a, b in zip(s, d))
        if draw(st.booleans()):
            kw["bias"] = draw(st.booleans())
        return kw

    return draw()


def conv_transpose_sizes(kw, D, spatial):
    """(min, max) output size per dim for output_size= (torch's _output_padding)."""
    k, s, d, p = (_per_dim(kw.get(n, dflt), D) for n, dflt in
                  (("kernel_size", 1), ("stride", 1), ("dilation", 1), ("padding", 0)))
    lo = [(i - 1) * s_ - 2 * p_ + d_ * (k_ - 1) + 1 for i, s_, p_, d_, k_ in zip(spatial, s, p, d, k)]
    return lo, [m + s_ - 1 for m, s_ in zip(lo, s)]


def conv_transpose_inputs(D: int):
    extra = 3 if D < 3 else 2

    def inputs(kw, dt, layout):
        k, s, d, p = (_per_dim(kw.get(n, dflt), D) for n, dflt in
                      (("kernel_size", 1), ("stride", 1), ("dilation", 1), ("padding", 0)))
        # Smallest input with a positive output size (with output_padding 0): (I-1)s + d(k-1) + 1 > 2p.
        mins = [max(1, -(-(2 * p_ - d_ * (k_ - 1)) // s_) + 1) for k_, s_, d_, p_ in zip(k, s, d, p)]
        lead = batch_dims(layout, max_batch=3)

        @st.composite
        def draw(draw):
            spatial = tuple(draw(st.integers(m, m + extra)) for m in mins)
            batch = draw(lead)
            x = draw(float_arrays(batch + (kw["in_channels"],) + spatial, dt))
            if not draw(st.booleans()):
                return Inputs((x,))
            lo, hi = conv_transpose_sizes(kw, D, spatial)
            size = [draw(st.integers(max(a, 1), b)) for a, b in zip(lo, hi)]
            if draw(st.booleans()):  # the full shape, with the batch and channel dims
                size = list(batch) + [kw["out_channels"]] + size
            return Inputs((x,), {"output_size": size})

        return draw()

    return inputs


def conv_transpose_entry(D: int, bench) -> Entry:
    name = f"ConvTranspose{D}d"
    x = lambda *shape, seed=0: (lambda dt: Inputs((_normal(shape, dt, seed),)))  # noqa: E731

    def with_size(shape, size):
        return lambda dt: Inputs((_normal(shape, dt),), {"output_size": size})

    return Entry(
        name=name, kwargs=conv_transpose_kwargs(D), inputs=conv_transpose_inputs(D), factory_kwargs=True,
        layouts=("batched", "unbatched", "empty"),
        examples=(
            Example("output_padding-at-stride-limit", "edge",
                    {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "stride": 3, "output_padding": 2}, x(2, 2, *(3,) * D)),
            Example("output_padding-at-dilation-limit", "edge",
                    {"in_channels": 2, "out_channels": 2, "kernel_size": 2, "dilation": 3, "output_padding": 2, "padding": 1},
                    x(1, 2, *(3,) * D)),
            Example("output_size-max", "edge", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 1},
                    with_size((2, 2) + (4,) * D, [8] * D)),
            Example("output_size-min-full-shape", "edge", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 1},
                    with_size((2, 2) + (4,) * D, [2, 2] + [7] * D)),
            Example("groups-bias=False", "edge", {"in_channels": 4, "out_channels": 6, "kernel_size": 2, "groups": 2, "bias": False,
                                                  "stride": 2}, x(2, 4, *(3,) * D)),
            Example("padding-crops-everything-but-one", "edge", {"in_channels": 1, "out_channels": 1, "kernel_size": 3, "padding": 1},
                    x(1, 1, *(1,) * D)),
            Example("special", "special", {"in_channels": 2, "out_channels": 2, "kernel_size": 2, "stride": 2}, _conv_special(D)),
        ),
        invalid=(
            Invalid("padding_mode-not-zeros", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "padding_mode": "reflect"}),
            Invalid("groups=0", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "groups": 0}),
            Invalid("out-channels-not-divisible", {"in_channels": 4, "out_channels": 3, "kernel_size": 3, "groups": 2}),
            Invalid("output_padding-not-below-stride-or-dilation", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "stride": 2,
                                                                    "output_padding": 2}, x(1, 2, *(3,) * D)),
            Invalid("output_size-too-large", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "stride": 2},
                    with_size((1, 2) + (3,) * D, [9] * D)),
            Invalid("output_size-too-small", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "stride": 2},
                    with_size((1, 2) + (3,) * D, [6] * D)),
            Invalid("output_size-wrong-length", {"in_channels": 2, "out_channels": 2, "kernel_size": 3},
                    with_size((1, 2) + (3,) * D, [5] * (D + 1))),
            Invalid("output-size-not-positive", {"in_channels": 2, "out_channels": 2, "kernel_size": 1, "padding": 2}, x(1, 2, *(2,) * D)),
            Invalid("wrong-channels", {"in_channels": 3, "out_channels": 2, "kernel_size": 1}, x(1, 2, *(4,) * D)),
            Invalid("wrong-rank", {"in_channels": 2, "out_channels": 2, "kernel_size": 1}, x(1, 1, 2, *(4,) * D)),
            Invalid("stride=0", {"in_channels": 2, "out_channels": 2, "kernel_size": 1, "stride": 0}, x(1, 2, *(4,) * D)),
            Invalid("negative-padding", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "padding": -1}, x(1, 2, *(4,) * D)),
            Invalid("integer-input", {"in_channels": 2, "out_channels": 2, "kernel_size": 1},
                    lambda dt: Inputs((np.ones((1, 2) + (3,) * D, np.int64),))),
        ),
        bench=bench,
    )


CONV_TRANSPOSE1D = conv_transpose_entry(1, lambda dt: ({"in_channels": 64, "out_channels": 32, "kernel_size": 4, "stride": 2, "padding": 1},
                                                       Inputs((_normal((16, 64, 512), dt),))))
CONV_TRANSPOSE2D = conv_transpose_entry(2, lambda dt: ({"in_channels": 32, "out_channels": 16, "kernel_size": 4, "stride": 2, "padding": 1},
                                                       Inputs((_normal((16, 32, 28, 28), dt),))))
CONV_TRANSPOSE3D = conv_transpose_entry(3, lambda dt: ({"in_channels": 16, "out_channels": 8, "kernel_size": 4, "stride": 2, "padding": 1},
                                                       Inputs((_normal((2, 16, 8, 8, 8), dt),))))

ENTRIES = [CONV1D, CONV2D, CONV3D, CONV_TRANSPOSE1D, CONV_TRANSPOSE2D, CONV_TRANSPOSE3D]


# -- lazy convolutions ---------------------------------------------------------------------

def _lazy_build(name):
    """LazyConvNd takes every argument of ConvNd but in_channels, which it infers from
    the first input; the drawn kwargs keep in_channels, so that the inputs are drawn
    to fit it, and this leaves it out of the constructor on both sides."""

    def build(nn, kwargs, factory, side):
        return getattr(nn, name)(**{k: v for k, v in kwargs.items() if k != "in_channels"}, **factory)

    return build


def lazy_entry(base: Entry) -> Entry:
    """The lazy twin of a convolution entry: the same draws, examples and benchmark, a
    first (materialising) call before the state is loaded (``Entry.lazy``), and the
    errors that belong to the lazy path: a rank the first call cannot read in_channels
    from, and groups not dividing the inferred in_channels."""
    name = "Lazy" + base.name
    D = int(base.name[-2])
    x = lambda *shape: (lambda dt: Inputs((_normal(shape, dt),)))  # noqa: E731
    # torch's lazy constructor passes 0 channels to the regular one, so out_channels % groups
    # is found only by the first call's convolution (its weight or bias size check)
    kept = {"groups=0", "same-with-stride", "bad-padding-string", "bad-padding-mode",
            "padding_mode-not-zeros", "stride=0", "negative-padding", "integer-input"}
    invalid = tuple(i for i in base.invalid if i.id in kept) + (
        Invalid("first-input-rank", {"in_channels": 2, "out_channels": 2, "kernel_size": 1}, x(1, 1, 2, *(4,) * D)),
        Invalid("out-channels-not-divisible-at-first-call", {"in_channels": 4, "out_channels": 3, "kernel_size": 1,
                                                             "groups": 2}, x(1, 4, *(5,) * D)),
        Invalid("groups-not-dividing-inferred-channels", {"in_channels": 3, "out_channels": 2, "kernel_size": 1,
                                                          "groups": 2}, x(1, 3, *(4,) * D)),
    )
    return replace(base, name=name, lazy=True, build_fn=_lazy_build(name), invalid=invalid,
                   notes=f"{base.name}'s entry, built lazily (in_channels from the first input). " + base.notes)


ENTRIES += [lazy_entry(e) for e in list(ENTRIES)]


# -- Fold / Unfold ---------------------------------------------------------------------------------

def _pair_strategy(lo, hi):
    """An int, a tuple or a list of two (torch's _pair takes any of them)."""
    return st.one_of(st.integers(lo, hi), st.tuples(st.integers(lo, hi), st.integers(lo, hi)),
                     st.lists(st.integers(lo, hi), min_size=2, max_size=2))


def block_kwargs(with_output_size: bool):
    @st.composite
    def draw(draw):
        kw = {"kernel_size": draw(_pair_strategy(1, 4))}
        for name, lo, hi in (("dilation", 1, 3), ("padding", 0, 2), ("stride", 1, 3)):
            if draw(st.booleans()):
                kw[name] = draw(_pair_strategy(lo, hi))
        if with_output_size:  # at least one block per dim: output + 2p >= the dilated kernel
            ext = [max(1, e - 2 * p) for e, p in zip(_extents(kw), _per_dim(kw.get("padding", 0), 2))]
            size = tuple(draw(st.integers(e, e + 4)) for e in ext)
            kw = {"output_size": size[0] if size[0] == size[1] and draw(st.booleans()) else size, **kw}
        return kw

    return draw()


def _extents(kw):
    return [d * (k - 1) + 1 for k, d in zip(_per_dim(kw["kernel_size"], 2), _per_dim(kw.get("dilation", 1), 2))]


def _blocks(kw, spatial):
    """Block positions per dim, for a spatial size."""
    p, s = _per_dim(kw.get("padding", 0), 2), _per_dim(kw.get("stride", 1), 2)
    return [(n + 2 * p_ - e) // s_ + 1 for n, p_, e, s_ in zip(spatial, p, _extents(kw), s)]


def unfold_inputs(kw, dt, layout):
    mins = [max(1, e - 2 * p) for e, p in zip(_extents(kw), _per_dim(kw.get("padding", 0), 2))]
    shape = st.tuples(batch_dims(layout, 3), st.integers(1, 3), st.integers(mins[0], mins[0] + 4), st.integers(mins[1], mins[1] + 4))
    return shape.flatmap(lambda t: float_arrays(t[0] + t[1:], dt)).map(lambda x: Inputs((x,)))


def fold_inputs(kw, dt, layout):
    K = int(np.prod(_per_dim(kw["kernel_size"], 2)))
    L = int(np.prod(_blocks(kw, _per_dim(kw["output_size"], 2))))
    shape = st.tuples(batch_dims(layout, 3), st.integers(1, 3))
    return shape.flatmap(lambda t: float_arrays(t[0] + (t[1] * K, L), dt)).map(lambda x: Inputs((x,)))


def _x(*shape):
    return lambda dt: Inputs((_normal(shape, dt),))


UNFOLD = Entry(
    name="Unfold", kwargs=block_kwargs(False), inputs=unfold_inputs, layouts=("batched", "unbatched", "empty"),
    examples=(
        Example("overlapping-dilated-padded", "edge", {"kernel_size": (2, 3), "dilation": (2, 1), "padding": (1, 2), "stride": 1}, _x(2, 3, 5, 4)),
        Example("kernel-equals-padded-input", "edge", {"kernel_size": 4, "padding": 1}, _x(2, 2, 2, 2)),
        Example("special", "special", {"kernel_size": 2, "padding": 1}, _conv_special(2)),
    ),
    invalid=(
        Invalid("kernel=0", {"kernel_size": 0}, _x(1, 2, 4, 4)),
        Invalid("stride=0", {"kernel_size": 2, "stride": 0}, _x(1, 2, 4, 4)),
        Invalid("dilation=0", {"kernel_size": 2, "dilation": 0}, _x(1, 2, 4, 4)),
        Invalid("negative-padding", {"kernel_size": 2, "padding": -1}, _x(1, 2, 4, 4)),
        Invalid("kernel-larger-than-padded-input", {"kernel_size": 4, "padding": 1}, _x(1, 2, 1, 4)),
        Invalid("kernel-3-tuple", {"kernel_size": (1, 2, 3)}, _x(1, 2, 4, 4)),
        Invalid("2d-input", {"kernel_size": 2}, _x(4, 4)),
        Invalid("5d-input", {"kernel_size": 2}, _x(1, 1, 2, 4, 4)),
        Invalid("zero-channels", {"kernel_size": 2}, _x(1, 0, 4, 4)),
        Invalid("integer-input", {"kernel_size": 2}, lambda dt: Inputs((np.ones((1, 2, 4, 4), np.int64),))),
    ),
    bench=lambda dt: ({"kernel_size": 3, "padding": 1}, Inputs((_normal((16, 64, 32, 32), dt),))),
)

def _fold_special(dt):
    """NaN, +-inf and -0.0 among the blocks of Fold((3, 4), 2): 2 x 3 blocks of 2 channels."""
    x = _normal((1, 8, 6), dt, seed=4)
    x[0, 1, 2], x[0, 4, 0], x[0, 6, 5], x[0, 3, 3] = NAN, INF, -INF, -0.0
    return Inputs((x,))


FOLD = Entry(
    name="Fold", kwargs=block_kwargs(True), inputs=fold_inputs, layouts=("batched", "unbatched", "empty"),
    examples=(
        # stride 1 with a 3x3 kernel: every interior pixel sums 9 overlapping blocks.
        Example("overlapping-blocks-sum", "edge", {"output_size": (5, 4), "kernel_size": 3}, _x(2, 2 * 9, 3 * 2)),
        Example("dilated-strided-padded", "edge", {"output_size": 6, "kernel_size": (2, 3), "dilation": (2, 1), "padding": 1, "stride": (2, 1)},
                _x(1, 12, 3 * 6)),
        Example("padding-crops-blocks", "edge", {"output_size": 1, "kernel_size": 3, "padding": 1}, _x(2, 9, 1)),
        Example("special", "special", {"output_size": (3, 4), "kernel_size": 2}, _fold_special),
    ),
    invalid=(
        Invalid("blocks-mismatch", {"output_size": (6, 5), "kernel_size": 2}, _x(1, 12, 16)),
        Invalid("channels-not-divisible", {"output_size": 5, "kernel_size": (2, 3)}, _x(1, 10, 12)),
        Invalid("no-blocks", {"output_size": 1, "kernel_size": 2}, _x(1, 4, 1)),
        Invalid("stride=0", {"output_size": 5, "kernel_size": 2, "stride": 0}, _x(1, 4, 16)),
        Invalid("kernel=0", {"output_size": 5, "kernel_size": 0}, _x(1, 4, 16)),
        Invalid("negative-padding", {"output_size": 5, "kernel_size": 2, "padding": -1}, _x(1, 4, 16)),
        Invalid("4d-input", {"output_size": 5, "kernel_size": 2}, _x(1, 1, 4, 16)),
        Invalid("zero-blocks-dim", {"output_size": 5, "kernel_size": 2}, _x(1, 4, 0)),
        Invalid("integer-input", {"output_size": 5, "kernel_size": 2}, lambda dt: Inputs((np.ones((1, 4, 16), np.int64),))),
    ),
    bench=lambda dt: ({"output_size": 32, "kernel_size": 3, "padding": 1}, Inputs((_normal((16, 64 * 9, 32 * 32), dt),))),
)

ENTRIES += [UNFOLD, FOLD]
