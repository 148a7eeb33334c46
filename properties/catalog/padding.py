"""Catalog entries: padding layers (torch/nn/modules/padding.py).

``padding`` is drawn as an int or a full tuple, with negative entries (which
crop) and positive ones up to each mode's limit. Inputs are drawn just large
enough: reflect needs every pad below the size, circular wraps at most once
around what the negative pads leave, and the output keeps at least one element
per dim (empty output dims are fixed examples, for the modes where torch
handles them, see ``docs/torch-findings.md``). Special values: NaN, +-inf and
-0.0 are copied to every position that reads them, and ConstantPad's ``value``
may itself be NaN, inf or -0.0.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from ..strategies import batch_dims, float_arrays
from nnparity.catalog import Entry, Example, Inputs, Invalid

INF, NAN = math.inf, math.nan


def _normal(shape, dt, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dt)


def _arange(shape, dt):
    """Distinct values, so a wrong source index cannot go unnoticed."""
    return (np.arange(int(np.prod(shape))).reshape(shape) * 0.5 - 3).astype(dt)


def pad_pairs(padding, D):
    """((low, high) per padded dim, FIRST padded dim first) from torch's last-dim-first list."""
    pad = (padding,) * (2 * D) if isinstance(padding, int) else tuple(padding)
    return [(pad[2 * i], pad[2 * i + 1]) for i in range(D)][::-1]


def min_size(mode, lo, hi):
    """Smallest size of one padded dim for (lo, hi) in ``mode`` (output at least 1 element)."""
    crop = max(-lo, 0) + max(-hi, 0)
    if mode == "reflect":
        return max(lo + 1, hi + 1, crop + 1)
    if mode == "circular":  # one wrap around what the negative pads leave
        return crop + max(lo, hi, 1)
    return crop + 1


def padding_kwargs(D, lo=-3, hi=4):
    pads = st.one_of(st.integers(lo, hi), st.tuples(*[st.integers(lo, hi)] * (2 * D)))
    return pads


def padding_inputs(D, mode):
    def inputs(kw, dt, layout):
        mins = [min_size(mode, lo, hi) for lo, hi in pad_pairs(kw["padding"], D)]
        spatial = st.tuples(*[st.integers(m, m + 2) for m in mins])
        lead = batch_dims(layout, max_batch=3)
        channels = st.integers(1, 3)
        return st.tuples(lead, channels, spatial).flatmap(
            lambda t: float_arrays(t[0] + (t[1],) + t[2], dt)).map(lambda x: Inputs((x,)))

    return inputs


_KINDS = {"Zero": "constant", "Constant": "constant", "Reflection": "reflect", "Replication": "replicate", "Circular": "circular"}


def _special(D, padding, value=None):
    def make(dt):
        x = _normal((1, 2) + (3,) * D, dt, seed=5)
        flat = x.reshape(-1)
        n = flat.size
        flat[[0, n // 3, n // 2, n - 1]] = [NAN, INF, -INF, -0.0]
        return Inputs((x,))
    kw = {"padding": padding} if value is None else {"padding": padding, "value": value}
    return kw, make


def padding_entry(kind: str, D: int) -> Entry:
    mode = _KINDS[kind]
    name = f"{kind}Pad{D}d"
    constant = kind == "Constant"
    kwargs = padding_kwargs(D)
    if constant:
        kwargs = st.fixed_dictionaries({"padding": kwargs, "value": st.one_of(st.floats(-5, 5), st.sampled_from([0.0, -0.0, 2.5]))})
    else:
        kwargs = st.fixed_dictionaries({"padding": kwargs})

    def kw(padding, **extra):
        return {"padding": padding, **({"value": extra.get("value", 1.5)} if constant else {})}

    def x(*shape):
        return lambda dt: Inputs((_arange(shape, dt),))

    n = 4
    limit = {"reflect": n - 1, "circular": n}.get(mode, n + 2)  # the largest pad on a size-n dim
    examples = [
        Example("at-the-limit", "edge", kw(limit), x(2, 2, *(n,) * D)),
        Example("negative-crops", "edge", kw(tuple([-1, 2] * D)), x(2, 2, *(n,) * D)),
        Example("crop-one-side-pad-other", "edge", kw(tuple([2, -1] * D)), x(1, 3, *(n,) * D)),
        Example("size-1-dims", "edge", kw(0 if mode == "reflect" else 1), x(2, 1, *(1,) * D)),
        Example("integer-input", "edge", kw(1, value=2.5),
                lambda dt: Inputs((np.arange(2 * 3 ** D).reshape((2,) + (3,) * D).astype(np.int64),)),
                checks=("forward",), note="integer input: nothing to differentiate"),
    ]
    if D > 1 and mode != "circular" and not (mode == "reflect" and D == 3):
        # One output dim empty, the others not: ATen accepts it (every mode here). Not for
        # ReflectionPad3d: its backward then returns uninitialised memory (docs/torch-findings.md).
        examples.append(Example("one-output-dim-empty", "edge", kw((0, 0) * (D - 1) + (-2, -2)), x(1, 2, *(n,) * D)))
    spk, spmake = _special(D, 1 if mode != "constant" else 2, value=(NAN if constant else None))
    examples.append(Example("special", "special", spk, spmake))
    if constant:
        examples.append(Example("special-value-inf", "special", {"padding": 1, "value": -INF}, spmake))
        examples.append(Example("special-value-negative-zero", "special", {"padding": (1, 0) * D, "value": -0.0}, spmake))

    invalid = [
        Invalid("odd-length-padding", kw((1, 1, 1)), x(1, 2, *(n,) * D)),
    ]
    if mode == "reflect":
        invalid += [Invalid("pad-equals-size", kw(n), x(1, 2, *(n,) * D)),
                    Invalid("output-empty", kw(tuple([-2, -2] * D)), x(1, 2, *(n,) * D)),
                    Invalid("wrong-rank", kw(1), x(1, 1, 2, *(n,) * D)),
                    Invalid("zero-size-channel", kw(1), lambda dt: Inputs((np.zeros((1, 0) + (n,) * D, dt),)))]
    elif mode == "replicate":
        invalid += [Invalid("output-empty", kw(tuple([-2, -2] * D)), x(1, 2, *(n,) * D)),
                    Invalid("wrong-rank", kw(1), x(1, 1, 2, *(n,) * D))]
    elif mode == "circular":
        invalid += [Invalid("wraps-twice", kw(n + 1), x(1, 2, *(n,) * D)),
                    Invalid("output-negative", kw(tuple([-3, -3] * D)), x(1, 2, *(n,) * D)),
                    Invalid("wrong-rank", kw(1), x(1, 1, 2, *(n,) * D)),
                    Invalid("too-few-dims", kw(1), x(*(n,) * D))]
    else:
        invalid += [Invalid("crop-beyond-size", kw(tuple([-3, -3] * D)), x(1, 2, *(n,) * D)),
                    Invalid("more-pads-than-dims", kw(1), x(*(n,) * (D - 1)) if D > 1 else (lambda dt: Inputs((np.float64(1.0).astype(dt).reshape(()),))))]
    bench_shape = {1: (32, 64, 1024), 2: (8, 32, 64, 64), 3: (4, 16, 24, 24, 24)}[D]
    return Entry(
        name=name, kwargs=kwargs, inputs=padding_inputs(D, mode), layouts=("batched", "unbatched", "empty"),
        examples=tuple(examples), invalid=tuple(invalid),
        bench=lambda dt: (kw(2), Inputs((_normal(bench_shape, dt),))),
    )


ENTRIES = [padding_entry(kind, D) for kind in _KINDS for D in (1, 2, 3)]
