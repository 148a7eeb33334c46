"""Catalog entries: regression, ranking and embedding losses (torch/nn/modules/loss.py).

Every entry: kwargs that sometimes leave ``reduction`` (and each option) out so
the defaults are tested; inputs for the batched, unbatched (no batch dim) and
empty-batch layouts; every reduction as a fixed 'edge' example; kinks and
boundary points (|d| == delta, |d| == beta, d == 0, hinge value == 0, swap ties)
and NaN/inf/-0.0 as 'special' examples, where torch's subgradient conventions and
zero signs must be matched exactly; and the invalid configurations and inputs
torch rejects, as ``Invalid``.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..strategies import (bad_reduction, batch_dims, every_reduction, float_arrays, reduction_kwargs,
                          target_dtype_examples)
from nnparity.catalog import Entry, Example, Inputs, Invalid

INF, NAN = math.inf, math.nan


def legacy_examples(make_inputs, **kwargs):
    """The deprecated size_average/reduce pair (torch warns and maps it to a reduction)."""
    return tuple(Example(f"legacy-{k}={v}", "edge", {k: v, **kwargs}, make_inputs)
                 for k, v in (("size_average", False), ("reduce", False)))


class PyFloat(float):
    """A forward argument passed as a Python float, not as an array (GaussianNLLLoss's var)."""


def _fixed(*arrays, **fkwargs):
    """``inputs(dtype)`` for literal arrays (nested lists or scalars -> arrays of dtype);
    a :class:`PyFloat` stays a plain Python float."""

    def make(dt):
        return Inputs(tuple(float(a) if isinstance(a, PyFloat) else np.array(a, dtype=dt) for a in arrays), fkwargs)

    return make


def _random(*shapes, seed=7, lo=None, hi=None, values=None):
    """``inputs(dtype)`` for seeded random arrays; ``values`` picks a target's values from a set."""

    def make(dt):
        rng = np.random.default_rng(seed)
        out = []
        for i, s in enumerate(shapes):
            if values is not None and i == len(shapes) - 1:
                out.append(rng.choice(np.array(values, dtype=dt), size=s))
            elif lo is not None:
                out.append(rng.uniform(lo[i], hi[i], s).astype(dt))
            else:
                out.append(rng.standard_normal(s).astype(dt))
        return Inputs(tuple(out))

    return make


def _pair(dt, shape=(3, 4)):
    return _random(shape, shape)(dt)


def _broadcast_variant(shape):
    """A shape that broadcasts with ``shape``: itself, some dims set to 1, or leading dims dropped."""
    n = len(shape)
    same = st.just(tuple(shape))
    if n == 0:
        return same
    ones = st.lists(st.booleans(), min_size=n, max_size=n).map(lambda m: tuple(1 if b else s for b, s in zip(m, shape)))
    dropped = st.integers(1, n).map(lambda k: tuple(shape[k:]))
    return st.one_of(same, same, ones, dropped)


def _shape(layout, min_feature=0, max_feature=2, max_side=4):
    feature = hnp.array_shapes(min_dims=min_feature, max_dims=max_feature, min_side=1, max_side=max_side)
    return st.tuples(batch_dims(layout), feature).map(lambda bf: bf[0] + bf[1])


# ----------------------------------------------------------------------------------
# Pointwise regression losses: L1, MSE, Huber, SmoothL1, PoissonNLL
# ----------------------------------------------------------------------------------


def pointwise_inputs(kw, dt, layout, x_range=(-10.0, 10.0), t_range=(-10.0, 10.0)):
    """input and target: (N, *) batched, () or (*) unbatched, (0, *) empty; the
    target's shape is sometimes a broadcastable variant (torch broadcasts with a
    warning), and sometimes the input is the smaller one."""

    @st.composite
    def draw(d):
        s = d(_shape(layout))
        other = d(_broadcast_variant(s))
        xs, ts = (s, other) if d(st.booleans()) else (other, s)
        x = d(float_arrays(xs, dt, *x_range))
        t = d(float_arrays(ts, dt, *t_range))
        return Inputs((x, t))

    return draw()


def _pointwise_examples(extra_kwargs=None, legacy=True):
    kw = extra_kwargs or {}
    return every_reduction(_pair, kw) + (legacy_examples(_pair, **kw) if legacy else ()) + (
        Example("broadcast-target-(1,4)", "edge", {"reduction": "none", **kw}, _random((3, 4), (1, 4))),
        Example("broadcast-input-(4,)", "edge", {"reduction": "mean", **kw}, _random((4,), (3, 4))),
        Example("unbatched-0d", "layout", {"reduction": "none", **kw}, _random((), ())),
        Example("empty-mean-is-nan", "layout", {"reduction": "mean", **kw}, lambda dt: _pair(dt, (0, 3))),
        Example("empty-sum-is-0", "layout", {"reduction": "sum", **kw}, lambda dt: _pair(dt, (0, 3))),
    )


def _pointwise_invalid(extra=()):
    return (
        bad_reduction(_pair),
        Invalid("unbroadcastable-shapes", {}, lambda dt: Inputs((np.zeros((2, 3), dt), np.zeros((4, 5), dt)))),
    ) + tuple(extra)


#: d = x - y at 0, +-0.0, NaN, +-inf, inf - inf, and beside them
_SPECIAL_X = [0.0, -0.0, 0.0, 1.0, 3.0, NAN, 0.0, INF, -INF, INF, 2.5, -7.0]
_SPECIAL_T = [0.0, 0.0, -0.0, 1.0, 3.0, 0.0, NAN, 1.0, 1.0, INF, -1.5, 2.0]


def _bool_target(make_inputs, position=1):
    """``make_inputs`` with the target as a bool array (torch rejects it where its
    formula subtracts or negates the target)."""

    def make(dt):
        args = list(make_inputs(dt).args)
        args[position] = args[position] > 0
        return Inputs(tuple(args))

    return make


def pointwise_loss(name, kwargs=None, examples=(), invalid=(), inputs=pointwise_inputs, mixed_targets=True,
                   **flags) -> Entry:
    return Entry(
        name=name, kwargs=kwargs if kwargs is not None else reduction_kwargs(), inputs=inputs,
        layouts=("batched", "unbatched", "empty"),
        examples=_pointwise_examples(legacy=name != "HuberLoss") + (
            Example("special-d", "special", {"reduction": "none"}, _fixed(_SPECIAL_X, _SPECIAL_T)),
        ) + (target_dtype_examples(_pair) if mixed_targets else ()) + tuple(examples),
        invalid=_pointwise_invalid(invalid),
        bench=lambda dt: ({}, _pair(dt, (1000, 1000))),
        **flags,
    )


def _kink_examples(param, values):
    """|d| == param exactly (both signs, for input and target), d == 0, and beside the kink."""
    out = []
    for v in values:
        x = [v, -v, 1.5 + v, 0.25, v * 1.0000001, 0.0, -0.0, NAN]
        t = [0.0, 0.0, 1.5, 0.25 + v, 0.0, 0.0, 0.0, 0.0]
        out.append(Example(f"kink-{param}={v}", "special", {"reduction": "none", param: v}, _fixed(x, t)))
        out.append(Example(f"kink-{param}={v}-sum", "special", {"reduction": "sum", param: v}, _fixed(x[:-1], t[:-1])))
    return tuple(out)


HUBER = pointwise_loss(
    "HuberLoss",
    # torch 2.13's HuberLoss forward accepts a target of another dtype (an int64 one,
    # a float64 one for a float32 input) but its backward then raises ("Found dtype
    # Long but expected Float"), so the gradients check cannot compare there; the
    # twin's forward follows torch's promotion (the same code as MSELoss's).
    mixed_targets=False,
    kwargs=reduction_kwargs(delta=st.one_of(st.sampled_from([0.5, 1.0, 2.0]), st.floats(0.05, 5.0))),
    examples=_kink_examples("delta", (1.0, 0.5, 2.0)) + every_reduction(_pair, {"delta": 0.25}) + (
        Example("huge-delta", "edge", {"reduction": "none", "delta": 1e3}, _random((3, 4), (3, 4))),),
    invalid=(
        Invalid("delta=0", {"delta": 0.0}, lambda dt: _pair(dt)),
        Invalid("delta<0", {"delta": -1.0}, lambda dt: _pair(dt)),
        Invalid("delta-not-a-number", {"delta": "1.0"}),
        Invalid("delta=None", {"delta": None}),
    ),
)

SMOOTH_L1 = pointwise_loss(
    "SmoothL1Loss",
    kwargs=reduction_kwargs(beta=st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.floats(0.05, 5.0))),
    examples=_kink_examples("beta", (1.0, 0.5, 0.0)) + every_reduction(_pair, {"beta": 0.0}) + (
        Example("tiny-beta", "edge", {"reduction": "none", "beta": 1e-3}, _random((3, 4), (3, 4))),),
    invalid=(Invalid("beta<0", {"beta": -0.5}, lambda dt: _pair(dt)),),
)


def poisson_inputs(kw, dt, layout):
    """log_input (default): any log-rate in [-10, 3]; otherwise a rate in [0, 10].
    Targets are counts-like values in [0, 10] (0 and values <= 1 included, where
    the Stirling term is switched off)."""
    x_range = (-10.0, 3.0) if kw.get("log_input", True) else (0.0, 10.0)
    drawn = pointwise_inputs(kw, dt, layout, x_range=x_range, t_range=(0.0, 10.0))
    if not kw.get("full", False):
        return drawn
    # full: at a target of exactly 0 torch's target gradient is NaN (see the twin),
    # which finite differences (gradcheck) cannot confirm; y == 0 is a fixed
    # 'special' example, compared with torch, instead.
    return drawn.map(lambda i: Inputs((i.args[0], np.where(i.args[1] == 0, dt.type(0.5), i.args[1]).astype(dt))))


POISSON = Entry(
    name="PoissonNLLLoss",
    kwargs=reduction_kwargs(log_input=st.booleans(), full=st.booleans(),
                            eps=st.sampled_from([1e-8, 1e-4, 0.5])),
    inputs=poisson_inputs, layouts=("batched", "unbatched", "empty"),
    examples=every_reduction(_random((3, 4), (3, 4), lo=(-2, 0), hi=(2, 6))) + tuple(
        ex for li in (True, False) for full in (True, False) for ex in every_reduction(
            _random((3, 4), (3, 4), lo=(0.01, 0), hi=(3, 6)), {"log_input": li, "full": full})) + legacy_examples(
        _random((3, 4), (3, 4), lo=(-2, 0), hi=(2, 6))) + (
        Example("broadcast-target", "edge", {"reduction": "none", "full": True},
                _random((3, 4), (1, 4), lo=(-2, 0), hi=(2, 6))),
        Example("empty-mean-is-nan", "layout", {"reduction": "mean"}, lambda dt: _pair(dt, (0, 3))),
        Example("unbatched-0d", "layout", {"reduction": "none", "full": True}, _fixed(0.5, 3.0)),
        # full: Stirling term off for y <= 1 and on above; at y == 0 torch's target
        # gradient is NaN (0 * log 0 in the masked term), reproduced by the twin.
        Example("stirling-switch", "special", {"reduction": "none", "full": True},
                _fixed([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, -1.0, 0.0], [0.0, 0.5, 1.0, 1.0000001, 2.0, 7.0, 1.0, 0.0])),
        Example("stirling-0d-target-empty-input", "layout", {"reduction": "sum", "full": True}, _fixed(np.zeros(0), 0.0)),
        Example("stirling-huge-target", "special", {"reduction": "none", "full": True},
                _fixed([0.5, 0.5, -1.0, 2.0], [INF, 1e30, 1e30, 3.5])),
        Example("stirling-switch-sum", "special", {"reduction": "sum", "full": True},
                _fixed([0.5, 0.5, 0.5, 0.5, 0.5], [0.5, 1.0, 1.0000001, 2.0, 7.0])),
        Example("log-input-special", "special", {"reduction": "none"},
                _fixed([0.0, -0.0, INF, -INF, NAN, 1.0, 80.0], [0.0, 1.0, 2.0, 2.0, 1.0, NAN, 3.0])),
        Example("rate-input-special", "special", {"reduction": "none", "log_input": False},
                _fixed([0.0, -0.0, 1e-30, INF, NAN, 1.0, -1e-8], [1.0, 1.0, 0.0, 2.0, 1.0, 0.0, 1.0])),
        Example("rate-input-eps0", "special", {"reduction": "none", "log_input": False, "eps": 0.0},
                _fixed([0.0, 0.0, 2.0], [0.0, 1.0, 3.0])),
    ) + target_dtype_examples(_random((3, 4), (3, 4), lo=(-2, 0), hi=(2, 6)), {"full": True}),
    invalid=_pointwise_invalid((
        Invalid("bool-target-full", {"full": True}, _bool_target(_random((3, 4), (3, 4), lo=(-2, 0), hi=(2, 6)))),)),
    bench=lambda dt: ({"full": True}, _random((1000, 1000), (1000, 1000), lo=(-2, 0), hi=(2, 10))(dt)),
)


# ----------------------------------------------------------------------------------
# GaussianNLLLoss
# ----------------------------------------------------------------------------------


def _var_shape(shape):
    """The var shapes torch accepts for an input of ``shape``: the same, without the
    last dim, or one dim (of size != 1) set to 1."""
    options = [st.just(tuple(shape))]
    if len(shape) >= 1:
        options.append(st.just(tuple(shape[:-1])))
        dims = [i for i, s in enumerate(shape) if s != 1]
        if dims:
            options.append(st.sampled_from(dims).map(lambda i: tuple(1 if j == i else s for j, s in enumerate(shape))))
    return st.one_of(*options)


def gaussian_inputs(kw, dt, layout):
    @st.composite
    def draw(d):
        s = d(_shape(layout, min_feature=0 if layout == "unbatched" else 0))
        if layout == "unbatched" and len(s) == 0:
            s = (d(st.integers(1, 4)),)
        ts = d(st.one_of(st.just(s), _broadcast_variant(s) if len(s) else st.just(s)))
        vs = d(_var_shape(s))
        x = d(float_arrays(s, dt))
        t = d(float_arrays(ts, dt))
        # var above the clamp: inside it the forward is flat while torch's gradient
        # passes straight through, so finite differences (gradcheck) cannot agree
        # there by design. The clamp region is covered by the fixed examples.
        eps = kw.get("eps", 1e-6)
        lo = float(np.nextafter(np.asarray(2 * eps + 1e-5, dt), np.asarray(np.inf, dt)))
        v = d(float_arrays(vs, dt, lo, 6.0))
        return Inputs((x, t, v))

    return draw()


GAUSSIAN = Entry(
    name="GaussianNLLLoss",
    kwargs=reduction_kwargs(full=st.booleans(), eps=st.sampled_from([1e-6, 1e-3, 0.5])),
    inputs=gaussian_inputs, layouts=("batched", "unbatched", "empty"),
    examples=every_reduction(_random((3, 4), (3, 4), (3, 4), lo=(-2, -2, 0.1), hi=(2, 2, 3))) + every_reduction(
        _random((3, 4), (3, 4), (3, 4), lo=(-2, -2, 0.1), hi=(2, 2, 3)), {"full": True}) + (
        Example("var-one-dim-short", "edge", {"reduction": "none"}, _random((3, 4), (3, 4), (3,), lo=(-2, -2, 0.1), hi=(2, 2, 3))),
        Example("var-last-dim-1", "edge", {"reduction": "none"}, _random((3, 4), (3, 4), (3, 1), lo=(-2, -2, 0.1), hi=(2, 2, 3))),
        Example("var-first-dim-1", "edge", {"reduction": "sum"}, _random((3, 4), (3, 4), (1, 4), lo=(-2, -2, 0.1), hi=(2, 2, 3))),
        Example("target-broadcast", "edge", {"reduction": "none"}, _random((3, 4), (3, 1), (3, 4), lo=(-2, -2, 0.1), hi=(2, 2, 3))),
        Example("var-python-float", "edge", {"reduction": "none"}, _fixed([[0.5, -1.0], [2.0, 0.0]], [[0.0, 0.0], [1.0, 1.0]], PyFloat(0.7))),
        Example("unbatched-var-0d", "layout", {"reduction": "none"}, _fixed([0.5, -1.0, 2.0], [0.0, 1.0, 1.0], 0.7 + 0.0 * np.zeros(()))),
        Example("empty-mean-is-nan", "layout", {"reduction": "mean"}, lambda dt: Inputs((np.zeros((0, 3), dt), np.zeros((0, 3), dt), np.ones((0,), dt)))),
        # var below, at and above eps (the clamp, with the gradient passed straight
        # through at the clamped value), var 0, NaN and inf entries, d = 0.
        Example("var-clamp", "special", {"reduction": "none"},
                _fixed([1.0, 1.0, 1.0, 1.0, 0.0, -0.0, 2.0, 1.0, NAN, INF], [0.0] * 10,
                       [0.0, 1e-7, 1e-6, 2e-6, 1.0, 1.0, NAN, INF, 1.0, 1.0])),
        Example("var-clamp-eps0.5", "special", {"reduction": "sum", "eps": 0.5, "full": True},
                _fixed([1.0, 1.0, 1.0, 3.0], [0.0, 0.0, 0.0, 1.0], [0.0, 0.5, 0.7, 0.25])),
    ) + target_dtype_examples(_random((3, 4), (3, 4), (3, 4), lo=(-2, -2, 0.1), hi=(2, 2, 3))),
    invalid=(
        Invalid("negative-var", {}, _fixed([[1.0, 2.0]], [[0.0, 0.0]], [[1.0, -0.5]])),
        Invalid("negative-var-float", {}, _fixed([[1.0, 2.0]], [[0.0, 0.0]], PyFloat(-1.0))),
        Invalid("var-wrong-size", {}, _fixed([[1.0, 2.0]] * 3, [[0.0, 0.0]] * 3, [[1.0, 1.0, 1.0]] * 3)),
        Invalid("var-(1,1)-for-(3,2)", {}, _fixed([[1.0, 2.0]] * 3, [[0.0, 0.0]] * 3, [[1.0]])),
        Invalid("var-bigger", {}, _fixed([[1.0]] * 3, [[0.0]] * 3, [[1.0, 1.0]] * 3)),
        bad_reduction(_fixed([1.0], [0.0], [1.0])),
        Invalid("var-python-int", {}, lambda dt: Inputs((np.zeros(3, dt), np.ones(3, dt), 2))),
        Invalid("unbroadcastable-target", {}, _fixed([[1.0, 2.0]] * 3, [[0.0, 0.0]] * 4, [[1.0, 1.0]] * 3)),
        Invalid("bool-target", {}, _bool_target(_random((3, 4), (3, 4), (3, 4), lo=(-2, -2, 0.1), hi=(2, 2, 3)))),
        Invalid("integer-var", {}, lambda dt: Inputs((np.zeros(3, dt), np.ones(3, dt), np.ones(3, np.int64)))),
    ),
    bench=lambda dt: ({}, _random((1000, 1000), (1000, 1000), (1000, 1000), lo=(-2, -2, 0.1), hi=(2, 2, 3))(dt)),
)


# ----------------------------------------------------------------------------------
# MarginRankingLoss, HingeEmbeddingLoss
# ----------------------------------------------------------------------------------

_margins = st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(-1.0, 2.0))
_signs = st.sampled_from([1.0, -1.0])
#: torch accepts any target values; ±1 most of the time, sometimes 0 or another float
_labels = st.one_of(_signs, _signs, _signs, st.sampled_from([0.0, 0.5, 2.0]))


def margin_ranking_inputs(kw, dt, layout):
    """x1, x2, y of shape (N,), () unbatched or (0,); sometimes one of them is (1,)
    (torch broadcasts when the number of dims agrees)."""

    @st.composite
    def draw(d):
        s = d(batch_dims(layout, max_batch=6))
        shapes = [s, s, s]
        if s and d(st.integers(0, 3)) == 0:
            shapes[d(st.integers(0, 2))] = (1,)
        x1 = d(float_arrays(shapes[0], dt))
        x2 = d(float_arrays(shapes[1], dt))
        y = d(hnp.arrays(dt, shapes[2], elements=_labels))
        return Inputs((x1, x2, y))

    return draw()


def _three(dt, n=6, seed=3):
    return _random((n,), (n,), (n,), seed=seed, values=(1.0, -1.0))(dt)


MARGIN_RANKING = Entry(
    name="MarginRankingLoss",
    kwargs=reduction_kwargs(margin=_margins),
    inputs=margin_ranking_inputs, layouts=("batched", "unbatched", "empty"),
    examples=every_reduction(_three) + legacy_examples(_three) + every_reduction(_three, {"margin": 0.0}) + every_reduction(_three, {"margin": 0.7}) + (
        Example("broadcast-(1,)", "edge", {"reduction": "none", "margin": 0.3},
                _fixed([0.5, -1.0, 2.0], [0.25], [1.0, -1.0, 1.0])),
        Example("unbatched", "layout", {"reduction": "none"}, _fixed(1.0, 0.5, -1.0)),
        Example("empty-mean-is-nan", "layout", {"reduction": "mean"}, _fixed([], [], [])),
        # the hinge value -y (x1 - x2) + margin exactly 0 (the full gradient flows),
        # x1 == x2 with margin 0, targets 0 and 0.5, NaN and inf.
        Example("boundary-margin=0.5", "special", {"reduction": "none", "margin": 0.5},
                _fixed([1.0, 0.0, 1.0, 2.0, 1.0, NAN, INF, 1.0], [0.5, 0.5, 0.0, 2.0, 1.0, 0.0, 0.0, 1.0],
                       [1.0, -1.0, -1.0, 1.0, 0.0, 1.0, -1.0, 0.5])),
        Example("boundary-margin=0", "special", {"reduction": "none", "margin": 0.0},
                _fixed([1.0, 0.0, -0.0, 2.0, 3.0], [1.0, 0.0, 0.0, 1.0, 1.0], [1.0, -1.0, 1.0, 0.0, 1.0])),
        Example("boundary-margin=0-sum", "special", {"reduction": "sum", "margin": 0.0},
                _fixed([1.0, 0.0, 2.0, 3.0], [1.0, 0.0, 1.0, 1.0], [1.0, -1.0, 0.0, -1.0])),
    ) + target_dtype_examples(_three, position=2),
    invalid=(
        bad_reduction(_three),
        Invalid("bool-target", {}, _bool_target(_three, position=2)),
        Invalid("different-ndim", {}, lambda dt: Inputs((np.zeros(3, dt), np.zeros((3, 1), dt), np.ones(3, dt)))),
        Invalid("unbroadcastable", {}, lambda dt: Inputs((np.zeros(3, dt), np.zeros(4, dt), np.ones(3, dt)))),
    ),
    bench=lambda dt: ({}, _three(dt, 1_000_000)),
)


def hinge_inputs(kw, dt, layout):
    """input (N, *) / (*) / (0, *) and a target of ±1 (sometimes 0 or 0.5, which
    torch treats as both labels) of the same or a broadcastable shape."""

    @st.composite
    def draw(d):
        s = d(_shape(layout))
        ts = d(st.one_of(st.just(s), _broadcast_variant(s)))
        x = d(float_arrays(s, dt))
        y = d(hnp.arrays(dt, ts, elements=_labels))
        return Inputs((x, y))

    return draw()


def _hinge_pair(dt, shape=(3, 4)):
    x, y = _random(shape, shape, seed=11, values=(1.0, -1.0))(dt).args
    return Inputs((x * 2, y))


HINGE = Entry(
    name="HingeEmbeddingLoss",
    kwargs=reduction_kwargs(margin=_margins),
    inputs=hinge_inputs, layouts=("batched", "unbatched", "empty"), nondiff_inputs=(1,),
    examples=every_reduction(_hinge_pair) + legacy_examples(_hinge_pair) + every_reduction(_hinge_pair, {"margin": 0.0}) + (
        Example("broadcast-target", "edge", {"reduction": "none"}, lambda dt: Inputs((_hinge_pair(dt).args[0], np.array([[1.0], [-1.0], [1.0]], dt)))),
        Example("unbatched-0d", "layout", {"reduction": "none"}, _fixed(0.5, -1.0)),
        Example("empty-mean-is-nan", "layout", {"reduction": "mean"}, lambda dt: _hinge_pair(dt, (0, 3))),
        # margin - x exactly 0 for y == -1 (the full gradient flows), labels 0 and 0.5
        # (both terms), -0.0, NaN, inf.
        Example("boundary", "special", {"reduction": "none", "margin": 1.0},
                _fixed([1.0, 1.0, 0.0, 2.0, 0.5, -0.0, NAN, INF, -INF, 3.0],
                       [-1.0, 1.0, -1.0, 0.5, 0.0, -1.0, -1.0, -1.0, -1.0, 2.0])),
        Example("boundary-margin=0", "special", {"reduction": "sum", "margin": 0.0},
                _fixed([0.0, -0.0, 1.0, -1.0, 0.0], [-1.0, -1.0, -1.0, -1.0, 1.0])),
    ),
    invalid=(
        bad_reduction(_hinge_pair),
        Invalid("unbroadcastable", {}, lambda dt: Inputs((np.zeros((3, 2), dt), np.ones(4, dt)))),
    ),
    bench=lambda dt: ({}, _hinge_pair(dt, (1000, 1000))),
)


# ----------------------------------------------------------------------------------
# CosineEmbeddingLoss
# ----------------------------------------------------------------------------------


def _away_from_zero(x):
    """Vectors with |x| < 0.1 get 1 added to their first element. Near a zero vector
    cos varies on the scale of the 1e-12 guard (|x| ~ 1e-6), the step finite
    differences (gradcheck) use, so they cannot judge there; zero and tiny vectors
    are fixed 'special' examples instead."""
    if x.size == 0:
        return x
    small = np.sum(x.astype(np.float64) ** 2, axis=-1) < 1e-2
    x = x.copy()
    x[..., 0] = np.where(small, x[..., 0] + 1, x[..., 0])
    return x


def cosine_inputs(kw, dt, layout):
    """x1, x2 (N, D) with y (N,); unbatched (D,) with y (); empty (0, D) with (0,)."""

    @st.composite
    def draw(d):
        n = d(batch_dims(layout, max_batch=5))
        dim = d(st.integers(1, 5))
        x1 = _away_from_zero(d(float_arrays(n + (dim,), dt)))
        x2 = _away_from_zero(d(float_arrays(n + (dim,), dt)))
        y = d(hnp.arrays(dt, n, elements=_labels))
        return Inputs((x1, x2, y))

    return draw()


def _cos_three(dt, n=4, dim=5, seed=5):
    return _random((n, dim), (n, dim), (n,), seed=seed, values=(1.0, -1.0))(dt)


COSINE = Entry(
    name="CosineEmbeddingLoss",
    kwargs=reduction_kwargs(margin=st.one_of(st.sampled_from([0.0, 0.5, -0.5]), st.floats(-1.0, 1.0))),
    inputs=cosine_inputs, layouts=("batched", "unbatched", "empty"), nondiff_inputs=(2,),
    examples=every_reduction(_cos_three) + legacy_examples(_cos_three) + every_reduction(_cos_three, {"margin": 0.0}) + every_reduction(_cos_three, {"margin": 0.4}) + (
        Example("broadcast-x2-(1,D)", "edge", {"reduction": "none", "margin": -0.2},
                lambda dt: Inputs((_cos_three(dt).args[0], _cos_three(dt, seed=9).args[1][:1], _cos_three(dt).args[2]))),
        Example("unbatched", "layout", {"reduction": "none"}, _fixed([1.0, 2.0, -1.0], [0.5, 0.0, 1.0], -1.0)),
        Example("empty-mean-is-nan", "layout", {"reduction": "mean"}, lambda dt: _cos_three(dt, n=0)),
        # zero vectors (cos = 0 through the 1e-12 guard), identical and opposite
        # vectors, cos == margin exactly (y == -1: the full gradient flows), label 0.
        Example("special-vectors", "special", {"reduction": "none", "margin": 0.0},
                _fixed([[0.0, 0.0], [0.0, 0.0], [1.0, 2.0], [1.0, 0.0], [1.0, 0.0], [3.0, 4.0], [1.0, 1.0]],
                       [[0.0, 0.0], [1.0, 1.0], [1.0, 2.0], [0.0, 1.0], [-1.0, 0.0], [3.0, 4.0], [2.0, 1.0]],
                       [1.0, -1.0, 1.0, -1.0, -1.0, -1.0, 0.0])),
        Example("tiny-and-parallel", "special", {"reduction": "none", "margin": 0.0},
                _fixed([[1e-7, 0.0], [1.5, 0.0], [1e-3, 2e-3], [0.0, 0.0]], [[1.0, 0.0], [2.4706e-4, 0.0], [2e-3, 4e-3], [1e-6, 0.0]],
                       [1.0, 1.0, -1.0, 1.0])),
        Example("nan-inf", "special", {"reduction": "none", "margin": 0.5},
                _fixed([[NAN, 1.0], [INF, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 1.0], [-0.0, 0.0]], [1.0, -1.0, 1.0])),
    ),
    invalid=(
        bad_reduction(_cos_three),
        Invalid("2d-target", {}, lambda dt: Inputs((np.zeros((3, 2), dt), np.zeros((3, 2), dt), np.ones((3, 1), dt)))),
        Invalid("3d-inputs", {}, lambda dt: Inputs((np.zeros((3, 2, 2), dt), np.zeros((3, 2, 2), dt), np.ones(3, dt)))),
        Invalid("0d-target-2d-inputs", {}, lambda dt: Inputs((np.zeros((3, 2), dt), np.zeros((3, 2), dt), np.ones((), dt)))),
        Invalid("feature-mismatch", {}, lambda dt: Inputs((np.zeros((3, 2), dt), np.zeros((3, 4), dt), np.ones(3, dt)))),
        Invalid("target-length", {}, lambda dt: Inputs((np.zeros((3, 2), dt), np.zeros((3, 2), dt), np.ones(4, dt)))),
    ),
    bench=lambda dt: ({}, _cos_three(dt, 1000, 1000)),
)


# ----------------------------------------------------------------------------------
# TripletMarginLoss, TripletMarginWithDistanceLoss
# ----------------------------------------------------------------------------------


def triplet_inputs(kw, dt, layout):
    """anchor, positive, negative: (N, D), (D,) unbatched, (0, D) empty.

    positive and negative are shifted by +0.3711 + 0.01317 k and -0.6173 - 0.02129 k
    (k the feature index) so that the equal values Hypothesis favours give neither
    max-norm ties (for p = inf a tie in both distances is a point where the
    one-sided derivatives along each axis agree, yet torch's tie-splitting
    subgradient differs from them) nor differences of exactly ``eps`` (|x|^p then
    varies on the scale of eps = 1e-6, the step finite differences take), and the
    shifts are not short binary fractions, so that margin + d(a, p) - d(a, n) is not
    exactly 0 at a max-norm tie (a double kink where torch's subgradient is not a
    one-sided derivative). Coincident points, zero distances, ties and the hinge
    boundary are fixed 'special' examples."""

    @st.composite
    def draw(d):
        n = d(batch_dims(layout, max_batch=5))
        s = n + (d(st.integers(1, 5)),)
        a, p, m = (d(float_arrays(s, dt, -3.0, 3.0)) for _ in range(3))
        k = np.arange(s[-1], dtype=dt)
        return Inputs((a, (p + (0.3711 + 0.01317 * k)).astype(dt), (m - (0.6173 + 0.02129 * k)).astype(dt)))

    return draw()


def _triple(dt, n=4, dim=5, seed=13):
    return _random((n, dim), (n, dim), (n, dim), seed=seed)(dt)


def _triplet_examples(extra_kwargs=None):
    kw = extra_kwargs or {}
    return every_reduction(_triple, kw) + every_reduction(_triple, {"swap": True, **kw}) + (
        Example("unbatched", "layout", {"reduction": "none", **kw}, _fixed([1.0, 2.0], [0.5, 0.0], [1.0, -1.0])),
        Example("empty-mean-is-nan", "layout", {"reduction": "mean", **kw}, lambda dt: _triple(dt, n=0)),
        Example("broadcast-positive-(1,D)", "edge", {"reduction": "none", **kw},
                lambda dt: Inputs((_triple(dt).args[0], _triple(dt).args[1][:1], _triple(dt).args[2]))),
    )


def _triplet_invalid(cls):
    return (
        Invalid("margin=0", {"margin": 0.0}),
        Invalid("margin<0", {"margin": -1.0}),
        bad_reduction(_triple),
        Invalid("different-ndim", {}, lambda dt: Inputs((np.zeros((3, 2), dt), np.zeros((3, 2), dt), np.zeros(2, dt)))),
        Invalid("feature-mismatch", {}, lambda dt: Inputs((np.zeros((3, 2), dt), np.zeros((3, 4), dt), np.zeros((3, 2), dt)))),
    )


#: anchor, positive, negative where (eps = 0) margin + d(a, p) - d(a, n) == 0 exactly,
#: d(a, n) == d(p, n) (a swap tie: the gradient is split in half), d(a, p) == 0
#: (the norm's gradient is masked to 0), and sign ties for p = 1 / p = inf.
_TRIPLET_SPECIAL = _fixed(
    [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0]],
    [[1.0, 0.0], [2.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, -1.0]],
    [[2.0, 0.0], [1.0, 0.0], [3.0, 0.0], [1.0, 1.0], [3.0, 3.0]],
)


def _triplet_margin_kwargs():
    return reduction_kwargs(
        margin=st.one_of(st.sampled_from([0.5, 1.0, 2.0]), st.floats(0.01, 3.0)),
        p=st.sampled_from([1.0, 2.0, 3.0, 1.5, 0.5, INF, 0.0]),
        eps=st.sampled_from([1e-6, 0.0, 1e-3]),
        swap=st.booleans(),
    )


TRIPLET = Entry(
    name="TripletMarginLoss",
    kwargs=_triplet_margin_kwargs(),
    inputs=triplet_inputs, layouts=("batched", "unbatched", "empty"),
    examples=_triplet_examples() + legacy_examples(_triple) + tuple(
        Example(f"p={p}", "edge", {"reduction": "none", "p": p, "swap": True}, _triple) for p in (1.0, 3.0, 1.5, 0.5, INF, 0.0)
    ) + tuple(
        Example(f"kinks-p={p}-swap={s}", "special", {"reduction": "none", "p": p, "eps": 0.0, "swap": s, "margin": 1.0},
                _TRIPLET_SPECIAL) for p in (2.0, 1.0, INF) for s in (False, True)
    ) + (
        Example("nan-inf", "special", {"reduction": "none", "swap": True},
                _fixed([[NAN, 0.0], [INF, 0.0], [-0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0], [0.0, -0.0]], [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])),
    ),
    invalid=_triplet_invalid("TripletMarginLoss"),
    bench=lambda dt: ({}, _triple(dt, 1000, 1000)),
)


#: User distances for TripletMarginWithDistanceLoss, by name, built on either side from
#: the contract's classes only (torch.nn's, or the package under test's), with Python
#: arithmetic on what they return; the catalog never reaches into a package's internals.
#: 'l1' is the one user-written torch function (abs().sum()): the twin side computes
#: the same distance with PairwiseDistance(p=1, eps=0), a differential test of a user
#: callable against a module. 'cosine' clamps each norm at _COSINE_EPS = 0.03 (not
#: CosineSimilarity's 1e-8 default): near a zero vector it is then linear, and above the
#: clamp it varies on a scale of >= 0.03, which finite differences (gradcheck) resolve.
_COSINE_EPS = 0.03


def _distances(nn, side: str) -> dict:
    def cosine():
        similarity = nn.CosineSimilarity(dim=-1, eps=_COSINE_EPS)
        return lambda x, y: 1.0 - similarity(x, y)

    def l1():
        # A plain function on both sides (not a module: a module would be a submodule, in the repr).
        if side == "torch":
            return lambda x, y: (x - y).abs().sum(-1)
        distance = nn.PairwiseDistance(p=1.0, eps=0.0)
        return lambda x, y: distance(x, y)

    return {
        "pairwise": lambda: nn.PairwiseDistance(),
        "pairwise-p1": lambda: nn.PairwiseDistance(p=1.0, eps=0.0),
        "l1": l1,
        "cosine": cosine,
    }


def build_with_distance(nn, kwargs, factory, side):
    """``distance_function`` in the kwargs is a name; each side gets its own callable."""
    kwargs = dict(kwargs)
    name = kwargs.pop("distance_function", None)
    if name is not None:
        kwargs["distance_function"] = _distances(nn, side)[name]()
    return nn.TripletMarginWithDistanceLoss(**kwargs)


def triplet_distance_gradcheck_inputs(kw, dt, layout):
    """gradcheck only, 'cosine' only: vectors whose norm is in (0, 0.1) become 0.
    Below the clamp torch's gradient is not the derivative of the distance (CosineSimilarity
    clamps the norms under no_grad, so autograd still differentiates the unclamped norm:
    impls/functional/distance.py); finite differences would judge torch's convention as
    wrong. At exactly 0 the norm's gradient is masked and the two agree. The comparisons
    with torch keep these vectors."""
    strategy = triplet_inputs(kw, dt, layout)
    if kw.get("distance_function") != "cosine":
        return strategy

    def away_from_clamp(inputs):
        def fix(v):
            n = np.sqrt(np.sum(v.astype(np.float64) ** 2, axis=-1, keepdims=True))
            return np.where((n > 0) & (n < 0.1), 0.0, v).astype(v.dtype)

        return Inputs(tuple(fix(v) for v in inputs.args))

    return strategy.map(away_from_clamp)


TRIPLET_WITH_DISTANCE = Entry(
    name="TripletMarginWithDistanceLoss",
    kwargs=reduction_kwargs(
        distance_function=st.sampled_from(["pairwise", "pairwise-p1", "l1", "cosine"]),
        margin=st.one_of(st.sampled_from([0.5, 1.0, 2.0]), st.floats(0.01, 3.0)),
        swap=st.booleans(),
    ),
    build_fn=build_with_distance,
    inputs=triplet_inputs, domains={"gradcheck": triplet_distance_gradcheck_inputs},
    layouts=("batched", "unbatched", "empty"),
    examples=_triplet_examples() + _triplet_examples({"distance_function": "cosine"})[:3] + tuple(
        Example(f"kinks-{dist}-swap={s}", "special", {"reduction": "none", "distance_function": dist, "swap": s, "margin": 1.0},
                _TRIPLET_SPECIAL) for dist in ("l1", "pairwise-p1") for s in (False, True)
    ),
    invalid=_triplet_invalid("TripletMarginWithDistanceLoss"),
    bench=lambda dt: ({}, _triple(dt, 1000, 1000)),
)


ENTRIES = [
    pointwise_loss("MSELoss"),
    pointwise_loss("L1Loss", invalid=(Invalid("bool-target", {}, _bool_target(_pair)),)),
    HUBER,
    SMOOTH_L1,
    POISSON,
    GAUSSIAN,
    MARGIN_RANKING,
    HINGE,
    COSINE,
    TRIPLET,
    TRIPLET_WITH_DISTANCE,
]
