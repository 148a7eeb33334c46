"""Catalog entries: normalisation layers (batch, instance, group, layer, RMS, local response)."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import strategies as st

from ..strategies import float_arrays
from .entry import Entry, Example, Inputs, Invalid

NAN, INF = float("nan"), float("inf")


def _normal(shape, dt, seed=0, loc=0.0, scale=1.0):
    return (loc + scale * np.random.default_rng(seed).standard_normal(shape)).astype(dt)


def _one(x):
    return Inputs((x,))


# ----------------------------------------------------------------------------------
# Values: finite floats in [-5, 5], sometimes shifted by a large common offset (a
# large-mean channel or row: x - mean then cancels; see impls/functional/normalization.py).
# ----------------------------------------------------------------------------------

_OFFSETS = st.sampled_from([0.0, 0.0, 0.0, 0.0, 300.0, -2000.0])


def _values(shape, dt, offsets=_OFFSETS):
    return st.tuples(float_arrays(shape, dt, -5, 5), offsets).map(lambda t: (t[0] + t[1]).astype(dt))


#: gradcheck only: no large offset. Finite differences step h = 1e-6 max(1, |x|), so at
#: |x| = 2000 h = 2e-3, while a near-constant channel or row varies on the scale
#: sqrt(eps) >= 3.2e-3: the central difference's truncation error, ~(h/sqrt(eps))^2/6,
#: is then ~7% (seen: 0.1% at x = 300). With |x| <= 5 it is <= 4e-7 for eps >= 1e-5.
#: The comparisons with torch keep the offsets.
_NO_OFFSET = st.just(0.0)


# ----------------------------------------------------------------------------------
# BatchNorm1d/2d/3d, SyncBatchNorm
# ----------------------------------------------------------------------------------

#: Input ranks per class (SyncBatchNorm takes any rank >= 2: 2..5 are drawn).
_BN_RANKS = {"BatchNorm1d": (2, 3), "BatchNorm2d": (4,), "BatchNorm3d": (5,), "SyncBatchNorm": (2, 3, 4, 5)}


def _bn_kwargs():
    return st.fixed_dictionaries(
        {"num_features": st.integers(1, 4)},
        optional={"eps": st.one_of(st.sampled_from([1e-5, 1e-3, 0.1]), st.floats(1e-5, 1.0)),
                  "momentum": st.one_of(st.sampled_from([0.1, 0.5, 1.0, 0.0, None]), st.floats(0.0, 1.0)),
                  "affine": st.booleans(), "track_running_stats": st.booleans(), "bias": st.booleans()})


def _bn_shape(ranks, C, layout):
    """(N, C, *spatial) with more than one value per channel (torch's training rule)."""

    @st.composite
    def draw(d):
        rank = d(st.sampled_from(ranks))
        spatial = tuple(d(st.integers(1, 3)) for _ in range(rank - 2))
        if layout == "empty":
            return (0, C) + spatial
        per_channel = int(np.prod(spatial, dtype=np.int64))
        n = d(st.integers(2 if per_channel == 1 else 1, 4))
        return (n, C) + spatial

    return draw()


def _bn_inputs(ranks, offsets=_OFFSETS):
    def inputs(kw, dt, layout):
        return _bn_shape(ranks, kw["num_features"], layout).flatmap(lambda s: _values(s, dt, offsets)).map(_one)

    return inputs


def _bn_examples(name, ranks):
    rank = ranks[-1]
    shape = (4, 3) + (2,) * (rank - 2)
    special = np.array([[NAN, 1.0, 2.0], [0.0, INF, 2.0], [1.0, 3.0, -0.0], [2.0, 0.5, -0.0]])
    special = special.reshape((4, 3) + (1,) * (rank - 2))
    combos = tuple(
        Example(f"affine={a}-bias={b}-track={t}-{mode}", "edge",
                {"num_features": 3, "affine": a, "bias": b, "track_running_stats": t},
                lambda dt, s=shape: _one(_normal(s, dt)), mode=mode)
        for a, b, t, mode in itertools.product((True, False), (True, False), (True, False), ("train", "eval"))
        if a or b  # bias= only matters with affine=True
    )
    return combos + (
        Example("momentum=None", "edge", {"num_features": 3, "momentum": None}, lambda dt: _one(_normal(shape, dt, 1))),
        Example("eps=0-eval", "edge", {"num_features": 3, "eps": 0.0}, lambda dt: _one(_normal(shape, dt, 2)), mode="eval"),
        Example("large-mean-channel", "edge", {"num_features": 3},
                lambda dt: _one(_normal(shape, dt, 3, loc=1e4))),
        Example("constant-channel", "edge", {"num_features": 3},
                lambda dt: _one(np.broadcast_to(_normal((1, 3) + (1,) * (rank - 2), dt, 4), shape).copy())),
        Example("empty-batch-train", "layout", {"num_features": 3}, lambda dt: _one(np.zeros((0,) + shape[1:], dt))),
        Example("empty-batch-eval", "layout", {"num_features": 3}, lambda dt: _one(np.zeros((0,) + shape[1:], dt)), mode="eval"),
        Example("special-train", "special", {"num_features": 3}, lambda dt: _one(special.astype(dt))),
        Example("special-eval", "special", {"num_features": 3}, lambda dt: _one(special.astype(dt)), mode="eval"),
    )


def _bn_invalid(name, ranks):
    rank = ranks[0]
    ok = (4, 3) + (2,) * (rank - 2)
    one = (1, 3) + (1,) * (rank - 2)
    bad_rank = (2,) if name == "SyncBatchNorm" else (2, 3, 2, 2, 2, 2)[: max(ranks) + 1]
    out = (
        Invalid("wrong-rank", {"num_features": 3}, lambda dt: _one(np.zeros(bad_rank, dt))),
        Invalid("wrong-channels", {"num_features": 2}, lambda dt: _one(np.zeros(ok, dt))),
        Invalid("one-value-per-channel-train", {"num_features": 3}, lambda dt: _one(np.zeros(one, dt))),
        Invalid("one-value-per-channel-untracked-eval", {"num_features": 3, "track_running_stats": False},
                lambda dt: _one(np.zeros(one, dt)), mode="eval"),
        Invalid("eps=0-train", {"num_features": 3, "eps": 0.0}, lambda dt: _one(np.zeros(ok, dt))),
        Invalid("eps<0-eval", {"num_features": 3, "eps": -1e-5}, lambda dt: _one(np.zeros(ok, dt)), mode="eval"),
        Invalid("integer-input", {"num_features": 3}, lambda dt: _one(np.zeros(ok, np.int64))),
        Invalid("negative-num-features", {"num_features": -1}),
        Invalid("float-num-features", {"num_features": 2.5}),
    )
    if name == "SyncBatchNorm":
        out += (Invalid("zero-channels", {"num_features": 0}, lambda dt: _one(np.zeros((4, 0, 2), dt))),)
    return out


def batchnorm_entry(name):
    ranks = _BN_RANKS[name]
    bench_shape = {"BatchNorm1d": (256, 64, 32), "BatchNorm2d": (32, 64, 16, 16), "BatchNorm3d": (8, 32, 8, 16, 16),
                   "SyncBatchNorm": (32, 64, 16, 16)}[name]
    return Entry(
        name=name, kwargs=_bn_kwargs(), inputs=_bn_inputs(ranks), domains={"gradcheck": _bn_inputs(ranks, _NO_OFFSET)},
        factory_kwargs=True, layouts=("batched", "empty"),
        train_eval_differs=True, stateful=True,
        examples=_bn_examples(name, ranks), invalid=_bn_invalid(name, ranks),
        bench=lambda dt: ({"num_features": bench_shape[1]}, _one(_normal(bench_shape, dt))),
    )


ENTRIES = [batchnorm_entry(n) for n in _BN_RANKS]
