"""Catalog entries: Upsample, UpsamplingNearest2d, UpsamplingBilinear2d
(torch/nn/modules/upsampling.py), and the rearrangements PixelShuffle,
PixelUnshuffle (pixelshuffle.py) and ChannelShuffle (channelshuffle.py).

Upsample draws every mode (nearest, nearest-exact, linear, bilinear, bicubic,
trilinear) with ``size`` or ``scale_factor`` (an int or a tuple), where scale
factors are integers, non-integers, near-integers (k +- 1e-7, where float32 and
float64 index arithmetic part ways) and factors below 1; ``align_corners`` for
the interpolating modes and ``recompute_scale_factor``. Inputs are at least
large enough for a non-empty output.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from ..strategies import batch_dims, float_arrays
from nnparity.catalog import Entry, Example, Inputs, Invalid

INF, NAN = math.inf, math.nan
_MODE_DIMS = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "linear": (1,), "bilinear": (2,), "trilinear": (3,),
              "bicubic": (2,)}


def _normal(shape, dt, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dt)


def _x(*shape):
    return lambda dt: Inputs((_normal(shape, dt),))


def scale_factors():
    """Integers, non-integers, near-integers (k +- 1e-7, k +- 1e-9) and factors below 1."""
    near = st.tuples(st.integers(1, 3), st.sampled_from([1e-7, -1e-7, 1e-9, 2e-6, -2e-6])).map(lambda t: t[0] + t[1])
    return st.one_of(st.sampled_from([1.0, 2.0, 3.0]), st.floats(1.0, 3.5), near, st.floats(0.3, 0.99),
                     st.sampled_from([0.5, 1.5, 2.5, 1.05, 0.75]))


@st.composite
def upsample_kwargs(draw, modes=tuple(_MODE_DIMS)):
    mode = draw(st.sampled_from(modes))
    D = draw(st.sampled_from(_MODE_DIMS[mode]))
    kw = {"mode": mode}
    if draw(st.booleans()):
        kw["size"] = draw(st.one_of(st.integers(1, 7), st.tuples(*[st.integers(1, 7)] * D)))
    else:
        kw["scale_factor"] = draw(st.one_of(scale_factors(), st.tuples(*[scale_factors()] * D)))
        if draw(st.booleans()):
            kw["recompute_scale_factor"] = draw(st.booleans())
    if mode not in ("nearest", "nearest-exact") and draw(st.booleans()):
        kw["align_corners"] = draw(st.booleans())
    return kw


def _dims(kw) -> tuple:
    """Spatial ranks the kwargs allow: a tuple's length, else the mode's."""
    for key in ("size", "scale_factor"):
        if isinstance(kw.get(key), tuple):
            return (len(kw[key]),)
    return _MODE_DIMS[kw.get("mode", "nearest")]


def _min_sizes(kw, D):
    """Smallest input sizes giving a non-empty output: int(n * scale) >= 1."""
    sf = kw.get("scale_factor")
    if sf is None:
        return [1] * D
    sfs = sf if isinstance(sf, tuple) else (sf,) * D
    return [max(1, math.ceil(1 / s)) + (1 if int(math.ceil(1 / s) * s) < 1 else 0) for s in sfs]


def upsample_inputs(kw, dt, layout, spatial_filter=None):
    def spatial_sizes(D):
        spatial = st.tuples(*[st.integers(m, m + 5) for m in _min_sizes(kw, D)])
        return spatial.filter(lambda s: spatial_filter(kw, s)) if spatial_filter is not None else spatial

    spatial = st.sampled_from(_dims(kw)).flatmap(spatial_sizes)
    lead = batch_dims(layout, 2)
    return st.tuples(lead, st.integers(1, 2), spatial).flatmap(
        lambda t: float_arrays(t[0] + (t[1],) + t[2], dt)).map(lambda x: Inputs((x,)))


def _backward_is_adjoint(kw, spatial) -> bool:
    """False where torch 2.13's backward is not the adjoint of its forward (the twin follows
    torch; docs/torch-findings.md): 1-d/3-d nearest with a scale factor reaching the kernel
    and an output of n or 2n elements in some dim (the backward's nearest_idx shortcuts);
    bicubic with a scale factor reaching the kernel and every dim the same size (the
    backward's 'same size, just copy')."""
    sf = kw.get("scale_factor")
    if sf is None or kw.get("recompute_scale_factor"):
        return True
    D = len(spatial)
    sfs = sf if isinstance(sf, tuple) else (sf,) * D
    outs = [int(n * s) for n, s in zip(spatial, sfs)]
    if kw["mode"] == "nearest" and D != 2:
        return not any(o in (n, 2 * n) and s != 1.0 and s != 2.0 for o, n, s in zip(outs, spatial, sfs))
    if kw["mode"] == "bicubic" and not kw.get("align_corners"):
        return not (outs == list(spatial) and any(s != 1.0 for s in sfs))
    return True


def _special(D, mode_kw, seed=6):
    def make(dt):
        x = _normal((1, 2) + (4,) * D, dt, seed)
        flat = x.reshape(-1)
        n = flat.size
        flat[[1, n // 3, n // 2 + 1, n - 2]] = [NAN, INF, -INF, -0.0]
        return Inputs((x,))
    return make


def _ramp_nearest(n, dt):
    return Inputs((np.arange(2 * n, dtype=dt).reshape(1, 2, n) * 0.25 - 1,))


_SPECIAL = tuple(
    Example(f"special-{mode}-{D}d-{label}", "special", {"mode": mode, **kw}, _special(D, kw))
    for mode, D in (("nearest", 1), ("nearest", 2), ("nearest-exact", 3), ("linear", 1), ("bilinear", 2), ("trilinear", 3),
                    ("bicubic", 2))
    for label, kw in (("x2", {"scale_factor": 2.0}),
                      ("same-size", {"size": 4}),
                      ("down", {"scale_factor": 0.6}),
                      ("x1.5-align", {"scale_factor": 1.5, **({} if "nearest" in mode else {"align_corners": True})}))
)

UPSAMPLE = Entry(
    name="Upsample", kwargs=upsample_kwargs(), inputs=upsample_inputs,
    layouts=("batched", "empty"),
    # gradcheck judges the twin's backward against its own forward; where torch's backward is
    # not the adjoint of its forward (see _backward_is_adjoint), the twin follows torch and
    # finite differences would rightly disagree. The gradients check still sees these cases.
    domains={"gradcheck": lambda kw, dt, layout: upsample_inputs(kw, dt, layout, _backward_is_adjoint)},
    examples=_SPECIAL + (
        # float64: the 1-d forward floors float32(s*o) with s = 1/3.88 in float64 (index 25 at o = 97),
        # the backward floors float32(o) * float32(s) (index 24).
        Example("nearest-float64-vs-float32-index", "edge", {"mode": "nearest", "scale_factor": 3.88},
                lambda dt: _ramp_nearest(26, dt)),
        # out == n with scale 1.05: the 1-d forward reads x[floor(o / 1.05)], the backward is the identity.
        Example("nearest-same-size-scale-1.05", "edge", {"mode": "nearest", "scale_factor": 1.05}, lambda dt: _ramp_nearest(10, dt)),
        Example("nearest-2d-same-size-scale-1.05", "edge", {"mode": "nearest", "scale_factor": 1.05}, _x(1, 2, 10, 10)),
        Example("nearest-exact-near-integer", "edge", {"mode": "nearest-exact", "scale_factor": 2.9999999}, _x(2, 2, 7)),
        Example("nearest-near-integer", "edge", {"mode": "nearest", "scale_factor": (3.0000001, 0.9999999)}, _x(2, 2, 5, 6)),
        Example("bicubic-same-size-scale", "edge", {"mode": "bicubic", "scale_factor": 1.05}, _x(1, 2, 6, 6)),
        Example("bicubic-unclamped-negative-coordinates", "edge", {"mode": "bicubic", "scale_factor": 4.0}, _x(1, 2, 3, 2)),
        Example("align_corners-output-1", "edge", {"mode": "bilinear", "size": (1, 3), "align_corners": True}, _x(2, 2, 4, 4)),
        Example("recompute_scale_factor", "edge", {"mode": "trilinear", "scale_factor": 1.7, "recompute_scale_factor": True},
                _x(1, 1, 3, 2, 4)),
        Example("linear-same-size-with-scale", "edge", {"mode": "linear", "scale_factor": 1.1}, _x(2, 3, 5)),
        Example("downsample-below-half", "edge", {"mode": "bilinear", "scale_factor": 0.3}, _x(1, 2, 10, 7)),
    ),
    invalid=(
        Invalid("size-and-scale_factor", {"size": 4, "scale_factor": 2.0}, _x(1, 1, 3)),
        Invalid("neither-size-nor-scale", {}, _x(1, 1, 3)),
        Invalid("align_corners-with-nearest", {"scale_factor": 2.0, "align_corners": True}, _x(1, 1, 3)),
        Invalid("recompute-with-size", {"size": 5, "recompute_scale_factor": True}, _x(1, 1, 3)),
        Invalid("bilinear-on-3d-input", {"scale_factor": 2.0, "mode": "bilinear"}, _x(1, 1, 3)),
        Invalid("trilinear-on-4d-input", {"scale_factor": 2.0, "mode": "trilinear"}, _x(1, 1, 3, 3)),
        Invalid("unknown-mode", {"scale_factor": 2.0, "mode": "lanczos3"}, _x(1, 1, 3)),
        Invalid("size-wrong-length", {"size": (4, 4)}, _x(1, 1, 3)),
        Invalid("scale-wrong-length", {"scale_factor": (2.0, 2.0, 2.0)}, _x(1, 1, 3, 3)),
        Invalid("float-size", {"size": (4.5,)}, _x(1, 1, 3)),
        Invalid("empty-output", {"scale_factor": 0.2}, _x(1, 1, 4)),
        Invalid("empty-spatial-input", {"scale_factor": 2.0, "mode": "linear"}, _x(1, 1, 0)),
        Invalid("2d-input", {"scale_factor": 2.0}, _x(3, 4)),
    ),
    bench=lambda dt: ({"scale_factor": 2.0, "mode": "bilinear"}, Inputs((_normal((8, 32, 64, 64), dt),))),
)


def _fixed_2d_kwargs():
    return st.one_of(st.fixed_dictionaries({"size": st.one_of(st.integers(1, 7), st.tuples(st.integers(1, 7), st.integers(1, 7)))}),
                     st.fixed_dictionaries({"scale_factor": st.one_of(scale_factors(), st.tuples(scale_factors(), scale_factors()))}))


def _inputs_2d(kw, dt, layout):
    return upsample_inputs({**kw, "mode": "bilinear"}, dt, layout)  # 2 spatial dims


UPSAMPLING_NEAREST2D = Entry(
    name="UpsamplingNearest2d", kwargs=_fixed_2d_kwargs(), inputs=_inputs_2d, layouts=("batched", "empty"),
    examples=(
        Example("special", "special", {"scale_factor": 2.0}, _special(2, {})),
        Example("same-size-scale-1.05", "edge", {"scale_factor": 1.05}, _x(1, 2, 10, 10)),
    ),
    invalid=(Invalid("size-and-scale_factor", {"size": 4, "scale_factor": 2.0}, _x(1, 1, 3, 3)),
             Invalid("3d-input-2d-size", {"size": (4, 4)}, _x(1, 1, 3))),
    bench=lambda dt: ({"scale_factor": 2.0}, Inputs((_normal((16, 32, 64, 64), dt),))),
)

UPSAMPLING_BILINEAR2D = Entry(
    name="UpsamplingBilinear2d", kwargs=_fixed_2d_kwargs(), inputs=_inputs_2d, layouts=("batched", "empty"),
    examples=(
        Example("special", "special", {"scale_factor": 2.0}, _special(2, {})),
        Example("output-size-1", "edge", {"size": 1}, _x(1, 2, 3, 4)),
    ),
    invalid=(Invalid("size-and-scale_factor", {"size": 4, "scale_factor": 2.0}, _x(1, 1, 3, 3)),
             Invalid("3d-input", {"scale_factor": 2.0}, _x(1, 1, 3))),
    bench=lambda dt: ({"scale_factor": 2.0}, Inputs((_normal((8, 32, 64, 64), dt),))),
)



# -- PixelShuffle, PixelUnshuffle, ChannelShuffle --------------------------------------------------

def _lead(layout):
    """Leading dims before (C, H, W): none (unbatched), one (a batch), or two; (0,) for empty."""
    return {"batched": st.sampled_from([(1,), (2,), (3,), (2, 2)]), "unbatched": st.just(()), "empty": st.just((0,))}[layout]


def _rearrange_inputs(shape_of):
    def inputs(kw, dt, layout):
        return st.tuples(_lead(layout), st.integers(1, 2), st.integers(1, 3), st.integers(1, 3)).flatmap(
            lambda t: float_arrays(t[0] + shape_of(kw, *t[1:]), dt)).map(lambda x: Inputs((x,)))
    return inputs


def _special_rearrange(shape):
    def make(dt):
        x = _normal(shape, dt, seed=8)
        flat = x.reshape(-1)
        flat[[0, 3, 5, 7]] = [NAN, INF, -INF, -0.0]
        return Inputs((x,))
    return make


def _int_input(shape):
    return lambda dt: Inputs((np.arange(int(np.prod(shape))).reshape(shape).astype(np.int64),))


PIXEL_SHUFFLE = Entry(
    name="PixelShuffle", kwargs=st.fixed_dictionaries({"upscale_factor": st.integers(1, 3)}),
    inputs=_rearrange_inputs(lambda kw, c, h, w: (c * kw["upscale_factor"] ** 2, h, w)),
    # No 'empty' layout: torch 2.13's backward of pixel_shuffle/pixel_unshuffle raises on an empty
    # batch ("PixelShuffleBackward0 returned an invalid gradient"), docs/torch-findings.md.
    layouts=("batched", "unbatched"),
    examples=(Example("special", "special", {"upscale_factor": 2}, _special_rearrange((1, 4, 2, 3))),
              Example("integer-input", "edge", {"upscale_factor": 2}, _int_input((2, 8, 2, 2)), checks=("forward",),
                      note="integer input: nothing to differentiate")),
    invalid=(Invalid("channels-not-divisible", {"upscale_factor": 3}, _x(1, 8, 3, 3)),
             Invalid("factor=0", {"upscale_factor": 0}, _x(1, 8, 3, 3)),
             Invalid("2d-input", {"upscale_factor": 1}, _x(4, 4)),
             Invalid("float-factor", {"upscale_factor": 2.0}, _x(1, 8, 3, 3))),
    bench=lambda dt: ({"upscale_factor": 2}, Inputs((_normal((16, 64, 32, 32), dt),))),
)

PIXEL_UNSHUFFLE = Entry(
    name="PixelUnshuffle", kwargs=st.fixed_dictionaries({"downscale_factor": st.integers(1, 3)}),
    inputs=_rearrange_inputs(lambda kw, c, h, w: (c, h * kw["downscale_factor"], w * kw["downscale_factor"])),
    layouts=("batched", "unbatched"),  # no 'empty': as PixelShuffle
    examples=(Example("special", "special", {"downscale_factor": 2}, _special_rearrange((1, 1, 4, 6))),
              Example("integer-input", "edge", {"downscale_factor": 2}, _int_input((2, 2, 4, 4)), checks=("forward",),
                      note="integer input: nothing to differentiate")),
    invalid=(Invalid("height-not-divisible", {"downscale_factor": 2}, _x(1, 2, 3, 4)),
             Invalid("width-not-divisible", {"downscale_factor": 2}, _x(1, 2, 4, 3)),
             Invalid("factor=0", {"downscale_factor": 0}, _x(1, 2, 4, 4)),
             Invalid("2d-input", {"downscale_factor": 1}, _x(4, 4))),
    bench=lambda dt: ({"downscale_factor": 2}, Inputs((_normal((16, 16, 64, 64), dt),))),
)


def channel_shuffle_inputs(kw, dt, layout):
    g = kw["groups"]
    lead = {"batched": st.integers(1, 3), "empty": st.just(0)}[layout]
    rest = st.lists(st.integers(0 if layout == "batched" else 1, 3), min_size=1, max_size=3).map(tuple)
    return st.tuples(lead, st.integers(1, 3), rest).flatmap(
        lambda t: float_arrays((t[0], g * t[1]) + t[2], dt)).map(lambda x: Inputs((x,)))


CHANNEL_SHUFFLE = Entry(
    name="ChannelShuffle", kwargs=st.fixed_dictionaries({"groups": st.integers(1, 4)}), inputs=channel_shuffle_inputs,
    layouts=("batched", "empty"),
    examples=(Example("special", "special", {"groups": 2}, _special_rearrange((1, 4, 2, 3))),
              Example("groups-equal-channels", "edge", {"groups": 6}, _x(2, 6, 2)),
              Example("integer-input", "edge", {"groups": 2}, _int_input((2, 4, 3)), checks=("forward",),
                      note="integer input: nothing to differentiate")),
    invalid=(Invalid("channels-not-divisible", {"groups": 3}, _x(1, 8, 3, 3)),
             Invalid("groups=0", {"groups": 0}, _x(1, 8, 3, 3)),
             Invalid("2d-input", {"groups": 2}, _x(8, 3)),
             Invalid("float-groups", {"groups": 2.0}, _x(1, 8, 3, 3))),
    bench=lambda dt: ({"groups": 4}, Inputs((_normal((16, 64, 32, 32), dt),))),
)

ENTRIES = [UPSAMPLE, UPSAMPLING_NEAREST2D, UPSAMPLING_BILINEAR2D, PIXEL_SHUFFLE, PIXEL_UNSHUFFLE, CHANNEL_SHUFFLE]
