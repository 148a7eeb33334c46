"""Catalog entries: PairwiseDistance and CosineSimilarity."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..strategies import float_arrays
from nnparity.catalog import Entry, Example, Inputs, Invalid

NAN, INF = float("nan"), float("inf")


def _pair(a, b, dt):
    return Inputs((np.asarray(a, dt), np.asarray(b, dt)))


def _normal(shape, dt, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dt)


def _broadcast_partner(shape):
    """A shape that broadcasts with ``shape`` to ``shape``: the same, some dims set to 1,
    or leading dims dropped."""

    @st.composite
    def draw(d):
        ones = [d(st.booleans()) for _ in shape]
        partner = tuple(1 if o else s for o, s in zip(ones, shape))
        drop = d(st.integers(0, max(len(shape) - 1, 0)))
        return partner[drop:]

    return draw()


def _pair_inputs(rank_for, lo=-3.0, hi=3.0, away_from_zero=False):
    """x1 of a drawn shape and x2 of a partner shape (broadcasting both ways: the pair
    is swapped half the time). ``away_from_zero`` (gradcheck only): see the entries."""

    def inputs(kw, dt, layout):
        @st.composite
        def draw(d):
            rank = rank_for(kw, layout, d)
            if layout == "empty":
                shape = (0,) + tuple(d(st.integers(1, 4)) for _ in range(rank - 1))
            else:
                shape = tuple(d(st.integers(1, 4)) for _ in range(rank))
            partner = d(_broadcast_partner(shape)) if layout != "empty" else shape
            a = d(float_arrays(shape, dt, lo, hi))
            b = d(float_arrays(partner, dt, lo, hi))
            if away_from_zero:
                a, b = (np.where(np.abs(v) < 0.5, 0.5 + np.abs(v), v).astype(dt) for v in (a, b))
                # distinct, non-dyadic per-feature offsets: no ties of |x1 - x2| across features
                b = (b + 0.3711 + 0.01317 * np.arange(b.shape[-1] if b.ndim else 1)).astype(dt)
            return Inputs((b, a) if d(st.booleans()) else (a, b))

        return draw()

    return inputs


# ----------------------------------------------------------------------------------
# PairwiseDistance
# ----------------------------------------------------------------------------------


def _pairwise_rank(kw, layout, d):
    return 1 if layout == "unbatched" else d(st.integers(2, 3)) if layout == "batched" else 2


#: gradcheck only: no element of x1 - x2 near 0 (|x|^p for p < 1 is steep there, and p = 1
#: and the max-norm p = inf have kinks and ties that finite differences cannot judge;
#: torch's subgradients there are pinned by the special examples). Comparisons with torch
#: draw the whole domain, equal inputs included.
_PAIRWISE = Entry(
    name="PairwiseDistance",
    kwargs=st.fixed_dictionaries({}, optional={
        "p": st.one_of(st.sampled_from([2.0, 1.0, 0.0, INF, 0.5, 1.5, 3.0, -1.0, -INF]), st.floats(0.25, 4.0)),
        "eps": st.sampled_from([1e-6, 0.0, 1e-3]), "keepdim": st.booleans()}),
    inputs=_pair_inputs(_pairwise_rank), domains={"gradcheck": _pair_inputs(_pairwise_rank, away_from_zero=True)},
    layouts=("batched", "unbatched", "empty"),
    examples=tuple(
        Example(f"identical-inputs-p={p}", "edge", {"p": p}, lambda dt: _pair(np.ones((3, 4)), np.ones((3, 4)), dt))
        for p in (2.0, 1.0, INF, 0.5)
    ) + (
        Example("keepdim-unbatched", "edge", {"keepdim": True}, lambda dt: _pair([1.0, 2.0, 3.0], [0.0, 2.0, 5.0], dt)),
        Example("broadcast-(N,1)", "edge", {"p": 3.0}, lambda dt: Inputs((_normal((4, 1), dt, 1), _normal((4, 3), dt, 2)))),
        Example("zero-features", "edge", {}, lambda dt: Inputs((np.zeros((3, 0), dt), np.zeros((3, 0), dt)))),
    ) + tuple(
        Example(f"special-p={p}", "special", {"p": p, "eps": 0.0},
                lambda dt: _pair([[NAN, 1.0], [INF, 0.0], [-0.0, 0.0], [1.0, 1.0], [3.0, -3.0]],
                                 [[0.0, 1.0], [1.0, 0.0], [0.0, -0.0], [1.0, 1.0], [0.0, 0.0]], dt))
        for p in (2.0, 1.0, INF, 0.5, 0.0, 3.0)
    ),
    invalid=(
        Invalid("not-broadcastable", {}, lambda dt: Inputs((np.zeros((3, 4), dt), np.zeros((2, 4), dt)))),
    ),
    bench=lambda dt: ({}, Inputs((_normal((1000, 1000), dt, 3), _normal((1000, 1000), dt, 4)))),
)


# ----------------------------------------------------------------------------------
# CosineSimilarity
# ----------------------------------------------------------------------------------


def _cosine_rank(kw, layout, d):
    dim = kw.get("dim", 1)
    need = max(dim + 1, -dim)
    if layout == "unbatched":
        return max(need, 1)
    return d(st.integers(max(need, 2), 3))


#: gradcheck only: every |x| >= 0.5, so each norm is far above eps (eps <= 0.1 drawn) and
#: from 0. Below eps torch's gradient is not the derivative of its forward (the clamp is
#: applied under no_grad; impls/functional/distance.py), and near 0, x / |x| turns on a
#: scale finite differences cannot resolve. Comparisons with torch draw zero and tiny
#: vectors; the special examples pin torch's values there.
_COSINE = Entry(
    name="CosineSimilarity",
    kwargs=st.fixed_dictionaries({}, optional={"dim": st.sampled_from([1, 0, -1, -2, 2]),
                                               "eps": st.sampled_from([1e-8, 1e-3, 0.1])}),
    inputs=_pair_inputs(_cosine_rank), domains={"gradcheck": _pair_inputs(_cosine_rank, away_from_zero=True)},
    layouts=("batched", "unbatched", "empty"),
    examples=(
        Example("tiny-norm-below-eps", "edge", {"dim": 1, "eps": 0.5},
                lambda dt: _pair([[0.1, 0.2, 0.0], [3.0, 0.0, 1.0]], [[1.0, 2.0, 0.5], [0.01, 0.02, 0.0]], dt)),
        Example("each-norm-clamped-separately", "edge", {"dim": -1, "eps": 1.0},
                lambda dt: _pair([[0.5, 0.0], [4.0, 3.0]], [[4.0, 3.0], [0.5, 0.0]], dt)),
        Example("parallel-vectors", "edge", {"dim": 1}, lambda dt: _pair([[1.0, 2.0, 3.0]], [[2.0, 4.0, 6.0]], dt)),
        Example("broadcast-fewer-dims", "edge", {"dim": -1}, lambda dt: Inputs((_normal((2, 3, 4), dt, 5), _normal((4,), dt, 6)))),
        Example("0-d", "edge", {"dim": 0}, lambda dt: _pair(2.0, -3.0, dt)),
        Example("special", "special", {"dim": 1},
                lambda dt: _pair([[NAN, 1.0], [INF, 0.0], [0.0, 0.0], [-0.0, 0.0], [1e30, 1e30]],
                                 [[1.0, 1.0], [1.0, 0.0], [1.0, 2.0], [0.0, 0.0], [1.0, 1.0]], dt)),
        Example("eps=0-zero-vector", "special", {"dim": 1, "eps": 0.0}, lambda dt: _pair([[0.0, 0.0], [1.0, 0.0]], [[1.0, 2.0], [0.0, 0.0]], dt)),
    ),
    invalid=(
        Invalid("dim-out-of-range", {"dim": 2}, lambda dt: Inputs((np.zeros((3, 4), dt), np.zeros((3, 4), dt)))),
        Invalid("not-broadcastable", {}, lambda dt: Inputs((np.zeros((3, 4), dt), np.zeros((2, 4), dt)))),
        Invalid("integer-inputs", {}, lambda dt: Inputs((np.ones((3, 4), np.int64), np.ones((3, 4), np.int64)))),
    ),
    bench=lambda dt: ({}, Inputs((_normal((1000, 1000), dt, 7), _normal((1000, 1000), dt, 8)))),
)

ENTRIES = [_PAIRWISE, _COSINE]
