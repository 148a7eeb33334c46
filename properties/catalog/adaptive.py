"""Catalog entries: AdaptiveLogSoftmaxWithLoss.

forward(input, target) -> _ASMoutput(output, loss), a tuple output: the harness
labels them output[0] (per-sample log-probabilities) and output[1] (the loss) and
draws a cotangent for each. The methods log_prob(input) (differentiable) and
predict(input) (class indices, compared exactly) are judged by the same checks
(Entry.methods), on inputs without a target (Entry.method_inputs).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..strategies import batch_dims, class_targets, float_arrays, normal_array
from nnparity.catalog import Entry, Example, Inputs, Invalid


@st.composite
def asm_kwargs(draw):
    """cutoffs: a sorted set of 1-3 distinct values in [1, n_classes-1]; div_value
    and head_bias sometimes left out so torch's defaults (4.0, False) are tested.
    Small in_features with div_value 4 gives zero-width projections (in // 4**i = 0)."""
    n_classes = draw(st.integers(2, 12))
    cutoffs = sorted(draw(st.sets(st.integers(1, n_classes - 1), min_size=1, max_size=min(3, n_classes - 1))))
    kw = {"in_features": draw(st.integers(1, 8)), "n_classes": n_classes, "cutoffs": cutoffs}
    if draw(st.booleans()):
        kw["div_value"] = draw(st.sampled_from([1.0, 1.5, 2.0, 4.0]))
    if draw(st.booleans()):
        kw["head_bias"] = draw(st.booleans())
    return kw


def asm_inputs(kw, dt, layout):
    n_in, n_classes = kw["in_features"], kw["n_classes"]
    return batch_dims(layout, max_batch=6).flatmap(
        lambda b: st.tuples(float_arrays(b + (n_in,), dt), class_targets(b, n_classes))).map(lambda xy: Inputs(xy))


def asm_method_inputs(kw, dt, layout):
    """log_prob and predict take a 2-D input only (no target; torch indexes its dim 1)."""
    return st.integers(0, 6).flatmap(lambda n: float_arrays((n, kw["in_features"]), dt, -5.0, 5.0)).map(
        lambda x: Inputs((x,)))


def _x(dt, n=5, n_in=6, seed=0):
    return Inputs((np.random.default_rng(seed).standard_normal((n, n_in)).astype(dt),))


def _xy(dt, n=5, n_in=6, targets=None, n_classes=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, n_in)).astype(dt)
    y = np.asarray(targets if targets is not None else rng.integers(0, n_classes, n), dtype=np.int64)
    return Inputs((x, y))


_BASE = {"in_features": 6, "n_classes": 10, "cutoffs": [3, 7]}


def _kw(**changes):
    return {**_BASE, **changes}


_EXAMPLES = (
    Example("defaults", "edge", _BASE, lambda dt: _xy(dt, targets=[0, 3, 7, 9, 2])),
    Example("head_bias=True", "edge", _kw(head_bias=True, div_value=2.0), lambda dt: _xy(dt, targets=[1, 4, 8, 9, 6])),
    Example("single-cluster", "edge", _kw(cutoffs=[1]), lambda dt: _xy(dt, targets=[0, 1, 5, 9, 0])),
    Example("last-cluster-of-one-class", "edge", _kw(cutoffs=[3, 9]), lambda dt: _xy(dt, targets=[9, 9, 3, 0, 8])),
    Example("zero-width-projection", "edge", _kw(in_features=3, cutoffs=[2, 5]),  # 3 // 4 = 0 hidden units
            lambda dt: _xy(dt, n_in=3, targets=[0, 2, 5, 9, 4])),
    Example("div_value=1", "edge", _kw(div_value=1.0), lambda dt: _xy(dt, targets=[0, 3, 7, 9, 2])),
    Example("all-targets-in-shortlist", "edge", _BASE, lambda dt: _xy(dt, targets=[0, 1, 2, 2, 1])),
    Example("all-targets-in-last-cluster", "edge", _BASE, lambda dt: _xy(dt, targets=[7, 8, 9, 9, 7])),
    Example("batch-of-one", "edge", _BASE, lambda dt: _xy(dt, n=1, targets=[8])),
    Example("log_prob", "edge", _BASE, _x, method="log_prob"),
    Example("log_prob-head_bias", "edge", _kw(head_bias=True, cutoffs=[1, 9]), _x, method="log_prob"),
    Example("predict", "edge", _BASE, _x, method="predict"),
    Example("predict-empty-batch", "edge", _BASE, lambda dt: _x(dt, n=0), method="predict"),
    Example("unbatched", "layout", _BASE,
            lambda dt: Inputs((normal_array(6, dt, 1), np.array(8, dtype=np.int64)))),
    Example("empty-batch-loss-is-nan", "layout", _BASE, lambda dt: _xy(dt, n=0, targets=[])),
    Example("special-inputs", "special", _BASE,
            lambda dt: Inputs((np.array([[np.nan, 0, 0, 0, 0, 0], [np.inf, 0, 0, 0, 0, 0], [-0.0, -0.0, 0, 0, 0, 0],
                                         [1e30, 0, 0, 0, 0, 0], [1e-30, 0, 0, 0, 0, 0]], dt),
                               np.array([0, 8, 4, 2, 9], dtype=np.int64)))),
)


def _bad_input(x=None, y=None):
    def make(dt):
        base = _xy(dt)
        return Inputs((base.args[0] if x is None else x(dt), base.args[1] if y is None else y))
    return make


_INVALID = (
    Invalid("target-equals-n_classes", _BASE, _bad_input(y=np.array([0, 1, 2, 3, 10]))),
    Invalid("target-negative", _BASE, _bad_input(y=np.array([0, 1, 2, 3, -1]))),
    Invalid("target-2d", _BASE, _bad_input(y=np.zeros((5, 1), np.int64))),
    Invalid("target-float", _BASE, _bad_input(y=np.zeros(5, np.float32))),
    Invalid("batch-mismatch", _BASE, _bad_input(y=np.zeros(4, np.int64))),
    Invalid("input-3d", _BASE, _bad_input(x=lambda dt: np.zeros((5, 2, 6), dt))),
    Invalid("input-1d-with-1d-target", _BASE, _bad_input(x=lambda dt: np.zeros(5, dt))),
    Invalid("input-2d-with-0d-target", _BASE, _bad_input(y=np.array(1))),
    Invalid("wrong-in-features", _BASE, _bad_input(x=lambda dt: np.zeros((5, 4), dt))),
    # log_prob and predict index the input's dim 1: a 1-d input is an IndexError in torch
    Invalid("log_prob-1d-input", _BASE, lambda dt: Inputs((np.zeros(6, dt),)), method="log_prob"),
    Invalid("predict-1d-input", _BASE, lambda dt: Inputs((np.zeros(6, dt),)), method="predict"),
    Invalid("cutoffs-empty", _kw(cutoffs=[])),
    Invalid("cutoffs-unsorted", _kw(cutoffs=[7, 3])),
    Invalid("cutoffs-duplicate", _kw(cutoffs=[3, 3])),
    Invalid("cutoffs-zero", _kw(cutoffs=[0, 3])),
    Invalid("cutoffs-equal-n_classes", _kw(cutoffs=[3, 10])),
    Invalid("cutoffs-non-integral", _kw(cutoffs=[2.5])),
    Invalid("cutoffs-integral-float", _kw(cutoffs=[2.0])),  # passes torch's check, then TypeError building a layer
    Invalid("cutoffs-not-a-sequence", _kw(cutoffs=3)),
    Invalid("div_value-zero", _kw(div_value=0.0)),
    Invalid("div_value-negative", _kw(div_value=-1.0)),
)


def _bench(dt):
    rng = np.random.default_rng(0)
    return ({"in_features": 128, "n_classes": 1000, "cutoffs": [100, 500]},
            Inputs((rng.standard_normal((256, 128)).astype(dt), rng.integers(0, 1000, 256))))


ADAPTIVE = Entry(
    name="AdaptiveLogSoftmaxWithLoss",
    kwargs=asm_kwargs(),
    inputs=asm_inputs,
    factory_kwargs=True,
    layouts=("batched", "unbatched", "empty"),
    examples=_EXAMPLES,
    invalid=_INVALID,
    bench=_bench,
    methods={"log_prob": True, "predict": False},
    method_inputs={"log_prob": asm_method_inputs, "predict": asm_method_inputs},
)

ENTRIES = [ADAPTIVE]
