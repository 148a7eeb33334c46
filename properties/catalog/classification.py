"""Catalog entries: classification losses (torch/nn/modules/loss.py).

Per-class ``weight`` and ``pos_weight`` are constructor arguments: the kwargs
strategies hold them as float64 arrays whose values are exact in float32, and
:func:`build_with_weights` hands each side an array (twin) or tensor (torch) of
the case's dtype. Their lengths fix the number of classes C that the inputs
strategy then uses. Integer targets are int64 arrays.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..strategies import (bad_reduction, batch_dims, every_reduction, float_arrays, normal_array, reduction_kwargs,
                          reductions, target_dtype_examples)
from nnparity.catalog import Entry, Example, Inputs, Invalid



def build_with_weights(name, factory_kwargs=False):
    """Build ``name`` with its array kwargs (weight, pos_weight) in the case's dtype."""

    def build(nn, kw, factory, side):
        kw = dict(kw)
        for key in ("weight", "pos_weight"):
            if kw.get(key) is not None:
                a = np.asarray(kw[key])
                if side == "torch":
                    import torch

                    kw[key] = torch.tensor(a, dtype=factory["dtype"], device=factory.get("device", "cpu"))
                else:
                    kw[key] = a.astype(factory["dtype"])
        if factory_kwargs:
            kw.update(factory)
        return getattr(nn, name)(**kw)

    return build


def class_weights(n):
    """Positive per-class weights in [0.25, 2], exact in float32 (a weight sum near 0
    would make the weighted mean ill-conditioned; torch accepts any sign)."""
    return hnp.arrays(np.float64, (n,), elements=st.floats(0.25, 2.0, width=32))


def _uniform(shape, dt, seed=0, lo=0.0, hi=1.0):
    return np.asarray(np.random.default_rng(seed).uniform(lo, hi, shape), dt)


def _classes(shape, C, seed=0):
    return np.random.default_rng(seed).integers(0, C, shape).astype(np.int64)


@st.composite
def sometimes_weighted(draw, base):
    """``base`` kwargs, half of the time with a per-class ``weight`` of 1 to 5 classes."""
    kw = draw(base)
    if draw(st.booleans()):
        kw["weight"] = draw(class_weights(draw(st.integers(1, 5))))
    return kw


def n_classes(draw, kw):
    """The number of classes: the weight's length, else drawn from 1 to 5."""
    return len(kw["weight"]) if "weight" in kw else draw(st.integers(1, 5))


def index_targets(shape, C, ignore_index):
    """Class indices in [0, C), sometimes ``ignore_index``."""
    elements = st.one_of(st.integers(0, C - 1), st.just(ignore_index)) if ignore_index is not None else st.integers(0, C - 1)
    return hnp.arrays(np.int64, shape, elements=elements)


# -- CrossEntropyLoss / NLLLoss ------------------------------------------------------------

def _ce_kwargs(smoothing: bool):
    optional = {"ignore_index": st.sampled_from([-100, -1, 0, 1])}
    if smoothing:
        optional["label_smoothing"] = st.one_of(st.sampled_from([0.0, 0.1, 1.0]), st.floats(0.0, 1.0))
    return sometimes_weighted(reduction_kwargs(**optional))


def _ce_inputs(prob_targets: bool, lo=-10.0, hi=10.0):
    """(C,) with a 0-d target (unbatched), (N, C[, d1[, d2]]) with (N[, d1[, d2]]) (batched),
    (0, C[, d1]) (empty). Probability targets (same shape as the input, values in [0, 1])
    only where torch allows them (ignore_index < 0)."""

    def inputs(kw, dt, layout):
        @st.composite
        def draw_inputs(draw):
            C = n_classes(draw, kw)
            ignore = kw.get("ignore_index", -100)
            lead = draw(batch_dims(layout))
            spatial = ()
            if layout == "batched":
                spatial = draw(st.sampled_from([(), (), (2,), (3,), (2, 2), (1, 3)]))
            elif layout == "empty":
                spatial = draw(st.sampled_from([(), (2,)]))
            shape = lead + (C,) + spatial
            x = draw(float_arrays(shape, dt, lo, hi))
            if prob_targets and ignore < 0 and draw(st.booleans()):
                t = draw(float_arrays(shape, dt, 0.0, 1.0))
            else:
                t = draw(index_targets(lead + spatial, C, ignore))
            return Inputs((x, t))

        return draw_inputs()

    return inputs


def _idx(dt, N=4, C=5, seed=0, spatial=()):
    return Inputs((normal_array((N, C) + spatial, dt, seed, scale=3.0), _classes((N,) + spatial, C, seed + 1)))


def _prob(dt, N=4, C=5, seed=0):
    return Inputs((normal_array((N, C), dt, seed, scale=3.0), _uniform((N, C), dt, seed + 1)))


W5 = np.array([0.5, 2.0, 1.0, 0.25, 1.5])


def _ignored_some(dt):
    x, t = _idx(dt, 6, 5, 3).args
    t[[1, 4]] = 2  # ignore_index=2 in the examples that use this
    return Inputs((x, t))


def _all_ignored(dt):
    x, _ = _idx(dt, 3, 5, 4).args
    return Inputs((x, np.full(3, -100, np.int64)))


def _ce_common_invalid(C=3):
    two = lambda dt: Inputs((normal_array((2, C), dt), np.array([0, 1], np.int64)))  # noqa: E731
    return (
        bad_reduction(two),
        Invalid("target-out-of-range", {}, lambda dt: Inputs((normal_array((2, C), dt), np.array([0, C], np.int64)))),
        Invalid("negative-target-not-ignored", {}, lambda dt: Inputs((normal_array((2, C), dt), np.array([0, -1], np.int64)))),
        Invalid("float-class-indices", {}, lambda dt: Inputs((normal_array((2, C), dt), np.array([0.0, 1.0], dt)))),
        Invalid("batch-size-mismatch", {}, lambda dt: Inputs((normal_array((2, C), dt), np.array([0, 1, 2], np.int64)))),
        Invalid("2d-target-for-2d-input", {}, lambda dt: Inputs((normal_array((2, C), dt), np.zeros((2, 2), np.int64)))),
        Invalid("kdim-target-shape", {}, lambda dt: Inputs((normal_array((2, C, 5), dt), np.zeros((2, 4), np.int64)))),
        Invalid("weight-wrong-size", {"weight": np.ones(C - 1)}, two),
        Invalid("1d-input-2-element-target", {}, lambda dt: Inputs((normal_array((C,), dt), np.array([0, 1], np.int64)))),
    )


CROSS_ENTROPY = Entry(
    name="CrossEntropyLoss",
    kwargs=_ce_kwargs(smoothing=True),
    inputs=_ce_inputs(prob_targets=True),
    build_fn=build_with_weights("CrossEntropyLoss"),
    layouts=("batched", "unbatched", "empty"),
    examples=(
        every_reduction(_idx)
        + every_reduction(_idx, {"weight": W5}, label="weight")
        + every_reduction(_ignored_some, {"weight": W5, "ignore_index": 2, "label_smoothing": 0.2},
                          label="weight,ignore_index,label_smoothing")
        + every_reduction(_ignored_some, {"ignore_index": 2, "label_smoothing": 0.3}, label="ignore_index,label_smoothing")
        + every_reduction(_prob, {"weight": W5, "label_smoothing": 0.25}, label="prob-target,weight,label_smoothing")
        + every_reduction(lambda dt: _idx(dt, 2, 5, 5, (3, 2)), {"weight": W5, "ignore_index": 1},
                          label="kdim,weight,ignore_index")
        + (
            Example("all-targets-ignored-mean-is-nan", "edge", {"reduction": "mean"}, _all_ignored),
            Example("all-targets-ignored-weighted-smoothed-mean", "edge",
                    {"reduction": "mean", "weight": W5, "label_smoothing": 0.1}, _all_ignored),
            Example("label_smoothing=1", "edge", {"label_smoothing": 1.0, "weight": W5}, _idx),
            Example("negative-label_smoothing-is-ignored", "edge", {"label_smoothing": -0.5}, _idx),
            Example("ignore_index-outside-classes", "edge", {"ignore_index": 7},
                    lambda dt: Inputs((normal_array((3, 5), dt), np.array([0, 7, 4], np.int64)))),
            # Not an example: a (C,) input with a 1-element 1-D target; torch's forward
            # accepts it, its backward raises "size mismatch" (the twin accepts both).
            Example("unbatched-0d-target", "layout", {"reduction": "none", "weight": W5, "label_smoothing": 0.1},
                    lambda dt: Inputs((normal_array((5,), dt), np.array(2, np.int64)))),
            Example("unbatched-prob-target", "layout", {"label_smoothing": 0.1},
                    lambda dt: Inputs((normal_array((5,), dt), _uniform((5,), dt)))),
            Example("empty-batch-mean-is-nan", "layout", {"reduction": "mean"},
                    lambda dt: Inputs((np.zeros((0, 5), dt), np.zeros((0,), np.int64)))),
            Example("empty-kdim-smoothed-mean", "layout", {"label_smoothing": 0.2},
                    lambda dt: Inputs((np.zeros((0, 5, 2), dt), np.zeros((0, 2), np.int64)))),
            Example("large-logits", "special", {"reduction": "none"},
                    lambda dt: Inputs((np.array([[1e4, -1e4, 0.0], [-1e30, 0.0, 1e30], [88.0, 89.0, 90.0]], dt),
                                       np.array([1, 2, 0], np.int64)))),
            Example("minus-inf-logit-off-target", "special", {"reduction": "none"},
                    lambda dt: Inputs((np.array([[-np.inf, 1.0, 2.0], [0.0, -np.inf, 0.0]], dt),
                                       np.array([1, 2], np.int64)))),
            # torch's log_softmax: a row whose max is +inf, or of only -inf, is all NaN
            # (loss and gradient), whichever class is the target.
            Example("inf-logit-rows", "special", {"reduction": "none"},
                    lambda dt: Inputs((np.array([[np.inf, 0.0, 1.0], [np.inf, np.inf, 0.0], [-np.inf, -np.inf, -np.inf],
                                                 [1.0, np.inf, -np.inf]], dt), np.array([1, 2, 0, 1], np.int64)))),
            Example("inf-logit-rows-prob-target", "special", {"reduction": "none", "label_smoothing": 0.1},
                    lambda dt: Inputs((np.array([[np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf], [0.0, 1.0, 2.0]], dt),
                                       np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0.0, 0.5, 0.5]], dt)))),
            Example("nan-logit", "special", {"reduction": "none"},
                    lambda dt: Inputs((np.array([[np.nan, 1.0, 2.0], [0.0, 1.0, 0.0]], dt), np.array([1, 2], np.int64)))),
        )
        + target_dtype_examples(_prob, {"weight": W5, "label_smoothing": 0.1}, integer=False)
    ),
    invalid=_ce_common_invalid() + (
        Invalid("long-target-with-input-shape", {}, lambda dt: Inputs((normal_array((2, 3), dt), np.zeros((2, 3), np.int64)))),
        Invalid("prob-target-with-ignore_index", {"ignore_index": 1}, lambda dt: _prob(dt, 2, 3)),
        Invalid("label_smoothing>1", {"label_smoothing": 1.5}, lambda dt: _idx(dt, 2, 3)),
        Invalid("label_smoothing>1-prob-target", {"label_smoothing": 1.5}, lambda dt: _prob(dt, 2, 3)),
        Invalid("0d-input", {}, lambda dt: Inputs((np.array(1.0, dt), np.array(0, np.int64)))),
    ),
    bench=lambda dt: ({}, Inputs((normal_array((1024, 1000), dt), _classes((1024,), 1000)))),
)


NLL = Entry(
    name="NLLLoss",
    kwargs=_ce_kwargs(smoothing=False),
    inputs=_ce_inputs(prob_targets=False),
    build_fn=build_with_weights("NLLLoss"),
    layouts=("batched", "unbatched", "empty"),
    examples=(
        every_reduction(_idx)
        + every_reduction(_ignored_some, {"weight": W5, "ignore_index": 2}, label="weight,ignore_index")
        + every_reduction(lambda dt: _idx(dt, 2, 5, 5, (3, 2)), {"weight": W5}, label="kdim-4d,weight")
        + every_reduction(lambda dt: _idx(dt, 2, 5, 6, (3,)), {"weight": W5}, label="kdim-3d,weight")
        + (
            Example("all-targets-ignored-mean-is-nan", "edge", {"reduction": "mean", "weight": W5}, _all_ignored),
            Example("unbatched-0d-target", "layout", {"weight": W5},
                    lambda dt: Inputs((normal_array((5,), dt), np.array(2, np.int64)))),
            Example("empty-batch-mean-is-nan", "layout", {},
                    lambda dt: Inputs((np.zeros((0, 5), dt), np.zeros((0,), np.int64)))),
            Example("inf-and-nan-log-probs", "special", {"reduction": "none"},
                    lambda dt: Inputs((np.array([[-np.inf, 0.0], [np.nan, 1.0], [-0.0, 2.0]], dt),
                                       np.array([0, 0, 0], np.int64)))),
        )
    ),
    invalid=_ce_common_invalid() + (
        Invalid("0d-input", {}, lambda dt: Inputs((np.array(1.0, dt), np.array(0, np.int64)))),
        Invalid("float-target-with-input-shape", {}, lambda dt: _prob(dt, 2, 3)),
    ),
    bench=lambda dt: ({}, Inputs((normal_array((1024, 1000), dt), _classes((1024,), 1000)))),
)


# -- LinearCrossEntropyLoss ----------------------------------------------------------------

@st.composite
def _lce_kwargs(draw):
    C = draw(st.integers(1, 4))
    kw = {"in_features": draw(st.integers(1, 4)), "num_classes": C}
    kw.update(draw(st.fixed_dictionaries({}, optional={
        "out_features": st.sampled_from([(), (2,), (2, 3)]), "bias": st.booleans(), "reduction": reductions,
        "ignore_index": st.sampled_from([None, -100, 0, 1]),
        "label_smoothing": st.one_of(st.sampled_from([0.0, 0.1, 1.0]), st.floats(0.0, 1.0))})))
    if draw(st.booleans()):
        kw["weight"] = draw(class_weights(C))
    return kw


def _lce_inputs(kw, dt, layout):
    out_features = tuple(kw.get("out_features", ()))
    if layout == "unbatched" and out_features:
        return st.nothing()  # torch requires a batch for a K-dimensional loss (an Invalid entry covers it)

    @st.composite
    def draw_inputs(draw):
        C, n_in = kw["num_classes"], kw["in_features"]
        ignore = kw.get("ignore_index")
        lead = draw(batch_dims(layout))
        x = draw(float_arrays(lead + (n_in,), dt, -3.0, 3.0))
        if ignore is None and draw(st.booleans()):
            t = draw(float_arrays(lead + (C,) + out_features, dt, 0.0, 1.0))
        else:
            t = draw(index_targets(lead + out_features, C, -100 if ignore is None else ignore))
        return Inputs((x, t))

    return draw_inputs()


def _lce(dt, N=4, n_in=3, C=5, out=(), seed=0):
    return Inputs((normal_array((N, n_in), dt, seed), _classes((N,) + out, C, seed + 1)))


LINEAR_CROSS_ENTROPY = Entry(
    name="LinearCrossEntropyLoss",
    kwargs=_lce_kwargs(),
    inputs=_lce_inputs,
    build_fn=build_with_weights("LinearCrossEntropyLoss", factory_kwargs=True),
    factory_kwargs=True,
    layouts=("batched", "unbatched", "empty"),
    examples=(
        every_reduction(_lce, {"in_features": 3, "num_classes": 5}, label="")
        + every_reduction(_lce, {"in_features": 3, "num_classes": 5, "bias": True, "weight": W5, "ignore_index": 1,
                           "label_smoothing": 0.2}, label="bias,weight,ignore_index,label_smoothing")
        + every_reduction(lambda dt: _lce(dt, out=(2, 3)),
                          {"in_features": 3, "num_classes": 5, "out_features": (2, 3), "bias": True},
                          label="out_features=(2,3),bias")
        + every_reduction(lambda dt: Inputs((normal_array((4, 3), dt), _uniform((4, 5), dt))),
                          {"in_features": 3, "num_classes": 5, "weight": W5, "label_smoothing": 0.1},
                          label="prob-target,weight")
        + (
            Example("unbatched", "layout", {"in_features": 3, "num_classes": 5, "bias": True},
                    lambda dt: Inputs((normal_array((3,), dt), np.array(4, np.int64)))),
            Example("empty-batch-mean-is-nan", "layout", {"in_features": 3, "num_classes": 5},
                    lambda dt: Inputs((np.zeros((0, 3), dt), np.zeros((0,), np.int64)))),
        )
    ),
    invalid=(
        Invalid("weight-wrong-shape", {"in_features": 3, "num_classes": 2, "weight": np.ones(3)}),
        Invalid("label_smoothing>1", {"in_features": 3, "num_classes": 2, "label_smoothing": 2.0}),
        Invalid("label_smoothing<0", {"in_features": 3, "num_classes": 2, "label_smoothing": -0.1}),
        Invalid("long-target-with-logits-shape", {"in_features": 3, "num_classes": 2},
                lambda dt: Inputs((normal_array((4, 3), dt), np.zeros((4, 2), np.int64)))),
        Invalid("batch-size-mismatch", {"in_features": 3, "num_classes": 2},
                lambda dt: Inputs((normal_array((4, 3), dt), np.zeros((5, 2), dt)))),
        Invalid("in-features-mismatch", {"in_features": 3, "num_classes": 2},
                lambda dt: Inputs((normal_array((4, 5), dt), np.zeros((4, 2), dt)))),
        Invalid("prob-target-with-ignore_index", {"in_features": 3, "num_classes": 2, "ignore_index": -100},
                lambda dt: Inputs((normal_array((4, 3), dt), _uniform((4, 2), dt)))),
        Invalid("kdim-unbatched", {"in_features": 3, "num_classes": 2, "out_features": (2,)},
                lambda dt: Inputs((normal_array((3,), dt), np.zeros((2,), np.int64)))),
        Invalid("3d-input", {"in_features": 3, "num_classes": 2},
                lambda dt: Inputs((normal_array((2, 4, 3), dt), np.zeros((2, 4), np.int64)))),
        Invalid("target-out-of-range", {"in_features": 3, "num_classes": 2},
                lambda dt: Inputs((normal_array((2, 3), dt), np.array([0, 2], np.int64)))),
        Invalid("bad-reduction", {"in_features": 3, "num_classes": 2, "reduction": "avg"},
                lambda dt: Inputs((normal_array((2, 3), dt), np.array([0, 1], np.int64)))),
    ),
    bench=lambda dt: ({"in_features": 256, "num_classes": 1000, "bias": True},
                      Inputs((normal_array((1024, 256), dt), _classes((1024,), 1000)))),
)


# -- BCELoss / BCEWithLogitsLoss --------------------------------------------------------------

def _bce_kwargs(pos_weight: bool):
    @st.composite
    def kwargs(draw):
        kw = draw(reduction_kwargs())
        F = draw(st.integers(1, 4))
        if draw(st.booleans()):
            kw["weight"] = draw(class_weights(draw(st.sampled_from([F, 1]))))
        if pos_weight and draw(st.booleans()):
            kw["pos_weight"] = draw(hnp.arrays(np.float64, (draw(st.sampled_from([F, 1])),),
                                               elements=st.floats(0.0, 4.0, width=32)))
        return kw

    return kwargs()


#: BCELoss fuzzes probabilities in [2^-6, 1 - 2^-6] and targets in [2^-16, 1 - 2^-16].
#: torch raises outside [0, 1], so a finite-difference step off 0 or 1 would make the
#: twin raise in the gradcheck; the loss's third derivative grows like 1/x^3, so the
#: gradcheck's fixed step (1e-6) misjudges x below ~1e-2 (truncation error); and at
#: x in {0, 1} torch's target gradient (+-inf, which the twin follows) is not the
#: slope of its clamped forward. The steep region, exact 0 and 1 and hard targets
#: are fixed examples instead ('steep-probabilities', 'probabilities-0-and-1', 'hard-targets').
BCE_X = (2.0 ** -6, 1.0 - 2.0 ** -6)
BCE_T = (2.0 ** -16, 1.0 - 2.0 ** -16)  # clear of the gradcheck step 1e-6


def _bce_inputs(lo, hi, target_range=(0.0, 1.0), hard_targets=True):
    """Shapes (N, [d,] F) batched, (F,) unbatched, (0, F) empty; F is the weights'
    length when one is longer than 1 (weights broadcast along the last dim)."""

    def inputs(kw, dt, layout):
        lengths = [len(kw[k]) for k in ("weight", "pos_weight") if k in kw and len(kw[k]) > 1]

        @st.composite
        def draw_inputs(draw):
            F = lengths[0] if lengths else draw(st.integers(1, 4))
            lead = draw(batch_dims(layout))
            mid = draw(st.sampled_from([(), (), (2,)])) if layout == "batched" else ()
            shape = lead + mid + (F,)
            x = draw(float_arrays(shape, dt, lo, hi))
            soft = float_arrays(shape, dt, *target_range)
            t = draw(st.one_of(soft, hnp.arrays(dt, shape, elements=st.sampled_from([0.0, 1.0]))) if hard_targets else soft)
            return Inputs((x, t))

        return draw_inputs()

    return inputs


def _probs(dt, shape=(4, 3), seed=0):
    return Inputs((_uniform(shape, dt, seed, 0.02, 0.98), _uniform(shape, dt, seed + 1)))


W3 = np.array([0.5, 2.0, 1.25])

BCE = Entry(
    name="BCELoss",
    kwargs=_bce_kwargs(pos_weight=False),
    inputs=_bce_inputs(*BCE_X, target_range=BCE_T, hard_targets=False),
    build_fn=build_with_weights("BCELoss"),
    layouts=("batched", "unbatched", "empty"),
    examples=(
        every_reduction(_probs) + every_reduction(_probs, {"weight": W3}, label="weight")
        + every_reduction(lambda dt: Inputs((_probs(dt).args[0], (_probs(dt, seed=3).args[1] > 0.5).astype(dt))),
                          {"weight": W3}, label="hard-targets,weight")
        + (
            Example("probabilities-0-and-1", "special", {"reduction": "none", "weight": np.array([0.5, 1.0, 2.0, 1.5])},
                    lambda dt: Inputs((np.array([[0.0, 1.0, 0.0, 1.0], [0.5, 1e-30, 1.0 - 2.0 ** -20, 0.0]], dt),
                                       np.array([[0.0, 1.0, 1.0, 0.0], [0.5, 0.5, 1.0, 0.25]], dt)))),
            Example("steep-probabilities", "edge", {"reduction": "none", "weight": W3},
                    lambda dt: Inputs((np.array([[1e-4, 1 - 2.0 ** -12, 1e-7], [2.0 ** -20, 0.999, 1e-3]], dt),
                                       np.array([[0.3, 0.0, 1.0], [1.0, 0.5, 0.0]], dt)))),
            Example("probabilities-0-and-1-mean", "special", {"reduction": "mean"},
                    lambda dt: Inputs((np.array([0.0, 1.0, 0.0, 1.0, 0.25], dt), np.array([0.0, 1.0, 1.0, 0.0, 0.75], dt)))),
            Example("empty-batch-mean-is-nan", "layout", {}, lambda dt: _probs(dt, (0, 3))),
        )
    ),
    invalid=(
        bad_reduction(_probs),
        Invalid("input-above-1", {}, lambda dt: Inputs((np.array([0.5, 1.5], dt), np.array([0.0, 1.0], dt)))),
        Invalid("input-nan", {}, lambda dt: Inputs((np.array([0.5, np.nan], dt), np.array([0.0, 1.0], dt)))),
        Invalid("target-below-0", {}, lambda dt: Inputs((np.array([0.5, 0.5], dt), np.array([-0.5, 1.0], dt)))),
        Invalid("target-size-differs", {}, lambda dt: Inputs((_uniform((3, 4), dt), _uniform((4,), dt)))),
        Invalid("integer-target", {}, lambda dt: Inputs((_uniform((3, 4), dt), np.zeros((3, 4), np.int64)))),
        Invalid("weight-not-broadcastable", {"weight": np.ones(3)}, lambda dt: _probs(dt, (3, 4))),
        Invalid("weight-enlarges-shape", {"weight": np.ones((2, 3, 4))}, lambda dt: _probs(dt, (3, 4))),
    ),
    bench=lambda dt: ({}, _probs(dt, (1000, 1000))),
)


def _logits(dt, shape=(4, 3), seed=0):
    return Inputs((normal_array(shape, dt, seed, scale=3.0), _uniform(shape, dt, seed + 1)))


BCE_WITH_LOGITS = Entry(
    name="BCEWithLogitsLoss",
    kwargs=_bce_kwargs(pos_weight=True),
    inputs=_bce_inputs(-10.0, 10.0),
    build_fn=build_with_weights("BCEWithLogitsLoss"),
    layouts=("batched", "unbatched", "empty"),
    examples=(
        every_reduction(_logits)
        + every_reduction(_logits, {"weight": W3, "pos_weight": np.array([3.0, 0.5, 1.0])}, label="weight,pos_weight")
        + every_reduction(lambda dt: _logits(dt, (2, 4, 3)), {"pos_weight": np.array([2.0, 0.0, 1.0])}, label="3d,pos_weight-along-last-dim")
        + (
            Example("pos_weight-full-shape", "edge", {"pos_weight": _uniform((4, 3), np.float64, 9, 0, 3)}, _logits),
            Example("large-logits", "special", {"reduction": "none", "pos_weight": np.array([2.0, 0.5, 1.0, 3.0])},
                    lambda dt: Inputs((np.array([[100.0, -100.0, 1e4, -1e4], [0.0, -0.0, 30.0, -30.0]], dt),
                                       np.array([[1.0, 0.0, 0.0, 1.0], [0.5, 1.0, 1.0, 0.0]], dt)))),
            Example("empty-batch-mean-is-nan", "layout", {}, lambda dt: _logits(dt, (0, 3))),
        )
        # torch's loss is (1 - t).mul_(x).sub_(...) in place: it has the target's dtype
        + target_dtype_examples(_logits, {"weight": W3, "pos_weight": np.array([3.0, 0.5, 1.0])}, integer=False)
    ),
    invalid=(
        bad_reduction(_logits),
        Invalid("target-size-differs", {}, lambda dt: Inputs((normal_array((3, 4), dt), _uniform((4,), dt)))),
        Invalid("pos_weight-wrong-size", {"pos_weight": np.ones(3)}, lambda dt: _logits(dt, (3, 4))),
        Invalid("weight-enlarges-shape", {"weight": np.ones((2, 3, 4))}, lambda dt: _logits(dt, (3, 4))),
        Invalid("integer-target", {}, lambda dt: Inputs((normal_array((3, 4), dt), np.zeros((3, 4), np.int64)))),
    ),
    bench=lambda dt: ({}, _logits(dt, (1000, 1000))),
)


# -- KLDivLoss -----------------------------------------------------------------------------

def _kl_inputs(kw, dt, layout):
    log_target = kw.get("log_target", False)

    @st.composite
    def draw_inputs(draw):
        lead = draw(batch_dims(layout))
        feature = draw(hnp.array_shapes(min_dims=0 if layout == "unbatched" else 1, max_dims=2, min_side=1, max_side=4))
        shape = lead + feature
        x = draw(float_arrays(shape, dt, -8.0, 2.0))
        # Probabilities: exactly 0 (target gradient NaN, as torch) or in [2^-6, 1]; the
        # curvature of t log t (1/t) makes the gradcheck's fixed step misjudge t near 0.
        probs = float_arrays(shape, dt, elements=st.one_of(st.just(0.0), st.floats(2.0 ** -6, 1.0, width=8 * dt.itemsize)))
        t = draw(float_arrays(shape, dt, -8.0, 2.0) if log_target else probs)
        return Inputs((x, t))

    return draw_inputs()


def _kl(dt, shape=(4, 3), seed=0, log_target=False):
    x = np.asarray(np.log(_uniform(shape, dt, seed, 0.05, 1.0)), dt)
    t = np.asarray(_uniform(shape, dt, seed + 1, 0.0, 1.0), dt)
    return Inputs((x, np.asarray(np.log(t), dt) if log_target else t))


KL_REDUCTIONS = ("none", "mean", "sum", "batchmean")

KL_DIV = Entry(
    name="KLDivLoss",
    kwargs=st.fixed_dictionaries({}, optional={"reduction": st.sampled_from(KL_REDUCTIONS), "log_target": st.booleans()}),
    inputs=_kl_inputs,
    layouts=("batched", "unbatched", "empty"),
    examples=(
        every_reduction(_kl, values=KL_REDUCTIONS)
        + every_reduction(lambda dt: _kl(dt, log_target=True), {"log_target": True}, label="log_target", values=KL_REDUCTIONS)
        + (
            Example("batchmean-0d-input-is-sum", "edge", {"reduction": "batchmean"}, lambda dt: _kl(dt, ())),
            Example("batchmean-3d", "edge", {"reduction": "batchmean"}, lambda dt: _kl(dt, (2, 3, 4))),
            Example("target-zero", "special", {"reduction": "none"},
                    lambda dt: Inputs((np.array([-1.0, -2.0, -0.5, 0.0], dt), np.array([0.0, 0.5, 1.0, 0.0], dt)))),
            Example("small-targets", "edge", {"reduction": "none"},
                    lambda dt: Inputs((np.array([-1.0, -2.0, -0.5, 0.0], dt), np.array([1e-5, 1e-30, 2.0 ** -20, 1e-3], dt)))),
            Example("target-zero-sum", "special", {"reduction": "sum"},
                    lambda dt: Inputs((np.array([-1.0, -2.0, -0.5], dt), np.array([0.0, 0.5, 1.0], dt)))),
            Example("log-target-inf", "special", {"reduction": "none", "log_target": True},
                    lambda dt: Inputs((np.array([-1.0, -np.inf, -0.5], dt), np.array([-np.inf, -1.0, 0.0], dt)))),
            Example("empty-batchmean-is-nan", "layout", {"reduction": "batchmean"}, lambda dt: _kl(dt, (0, 3))),
            Example("empty-mean-is-nan", "layout", {"reduction": "mean"}, lambda dt: _kl(dt, (0, 3))),
        )
        + target_dtype_examples(_kl, {"reduction": "sum"}, integer=False)
    ),
    invalid=(
        bad_reduction(_kl),
        Invalid("integer-target", {}, lambda dt: Inputs((_kl(dt).args[0], np.ones((4, 3), np.int64)))),
        Invalid("unbroadcastable", {}, lambda dt: Inputs((normal_array((3, 4), dt), _uniform((3,), dt)))),
    ),
    bench=lambda dt: ({"reduction": "batchmean"}, _kl(dt, (1000, 1000))),
)


# -- MultiMarginLoss / MultiLabelMarginLoss -----------------------------------------------------
# No 'empty' layout: torch returns uninitialised memory for an empty batch under
# 'mean' and 'sum' (see impls/functional/classification.py); the 'none' case is a
# fixed layout example instead.

def _mm_kwargs():
    return sometimes_weighted(reduction_kwargs(p=st.sampled_from([1, 2]), margin=st.sampled_from([0.0, 0.5, 1.0, 2.0])))


def _mm_inputs(kw, dt, layout):
    @st.composite
    def draw_inputs(draw):
        C = n_classes(draw, kw)
        lead = draw(batch_dims(layout))
        x = draw(float_arrays(lead + (C,), dt, -3.0, 3.0))
        t = draw(index_targets(lead, C, None))
        return Inputs((x, t))

    return draw_inputs()


def _mm(dt, N=4, C=5, seed=0):
    return Inputs((normal_array((N, C), dt, seed), _classes((N,), C, seed + 1)))


MULTI_MARGIN = Entry(
    name="MultiMarginLoss",
    kwargs=_mm_kwargs(),
    inputs=_mm_inputs,
    build_fn=build_with_weights("MultiMarginLoss"),
    layouts=("batched", "unbatched"),
    examples=(
        every_reduction(_mm) + every_reduction(_mm, {"p": 2, "weight": W5, "margin": 0.5}, label="p=2,weight,margin=0.5")
        + every_reduction(_mm, {"p": 1, "weight": W5}, label="p=1,weight")
        + (
            Example("margin=0-ties", "edge", {"margin": 0.0},
                    lambda dt: Inputs((np.array([[1.0, 1.0, 0.5], [0.0, 2.0, 2.0]], dt), np.array([0, 1], np.int64)))),
            Example("margin=0-ties-p=2", "edge", {"margin": 0.0, "p": 2},
                    lambda dt: Inputs((np.array([[1.0, 1.0, 1.5], [0.0, 2.0, 2.0]], dt), np.array([0, 1], np.int64)))),
            Example("hinge-boundary", "special", {"reduction": "none"},
                    lambda dt: Inputs((np.array([[1.0, 0.0, 0.5], [0.0, -0.0, 1.0]], dt), np.array([0, 2], np.int64)))),
            Example("unbatched", "layout", {"reduction": "none", "p": 2},
                    lambda dt: Inputs((normal_array((5,), dt), np.array(3, np.int64)))),
            Example("empty-batch-none", "layout", {"reduction": "none"},
                    lambda dt: Inputs((np.zeros((0, 5), dt), np.zeros((0,), np.int64)))),
        )
    ),
    invalid=(
        bad_reduction(_mm),
        Invalid("p=3", {"p": 3}),
        Invalid("weight-2d", {"weight": np.ones((2, 2))}),
        Invalid("target-out-of-range", {}, lambda dt: Inputs((normal_array((3, 4), dt), np.array([0, 1, 4], np.int64)))),
        Invalid("negative-target", {}, lambda dt: Inputs((normal_array((3, 4), dt), np.array([0, 1, -1], np.int64)))),
        Invalid("float-target", {}, lambda dt: Inputs((normal_array((3, 4), dt), np.array([0.0, 1.0, 2.0], dt)))),
        Invalid("target-size", {}, lambda dt: Inputs((normal_array((5, 10), dt), np.array([0, 1, 2], np.int64)))),
        Invalid("2d-target", {}, lambda dt: Inputs((normal_array((3, 4), dt), np.zeros((3, 1), np.int64)))),
        Invalid("3d-input", {}, lambda dt: Inputs((normal_array((2, 3, 4), dt), np.zeros((2, 4), np.int64)))),
        Invalid("weight-wrong-size", {"weight": np.ones(3)}, lambda dt: _mm(dt, 3, 4)),
    ),
    bench=lambda dt: ({}, _mm(dt, 1024, 1000)),
)


def _mlm_inputs(kw, dt, layout):
    @st.composite
    def draw_inputs(draw):
        C = draw(st.integers(1, 5))
        lead = draw(batch_dims(layout))
        x = draw(float_arrays(lead + (C,), dt, -3.0, 3.0))
        t = draw(hnp.arrays(np.int64, lead + (C,), elements=st.integers(-1, C - 1)))
        return Inputs((x, t))

    return draw_inputs()


def _mlm(dt, N=4, C=5, seed=0):
    rng = np.random.default_rng(seed + 1)
    t = rng.integers(-1, C, (N, C)).astype(np.int64)
    return Inputs((normal_array((N, C), dt, seed), t))


MULTILABEL_MARGIN = Entry(
    name="MultiLabelMarginLoss",
    kwargs=reduction_kwargs(),
    inputs=_mlm_inputs,
    layouts=("batched", "unbatched"),
    examples=(
        every_reduction(_mlm)
        + (
            Example("duplicates-and-values-after-terminator", "edge", {"reduction": "none"},
                    lambda dt: Inputs((np.array([[1.0, 0.0, 0.5, -1.0], [0.2, 0.1, 3.0, 0.4]], dt),
                                       np.array([[0, 0, -1, 3], [-1, 1, 2, 3]], np.int64)))),
            Example("all-classes-targets", "edge", {"reduction": "sum"},
                    lambda dt: Inputs((normal_array((2, 3), dt), np.array([[0, 1, 2], [2, 1, 0]], np.int64)))),
            Example("hinge-boundary", "special", {"reduction": "none"},
                    lambda dt: Inputs((np.array([[1.0, 0.0, 0.5]], dt), np.array([[0, -1, 0]], np.int64)))),
            Example("unbatched", "layout", {"reduction": "none"},
                    lambda dt: Inputs((normal_array((5,), dt), np.array([3, 1, -1, 0, 0], np.int64)))),
            Example("empty-batch-none", "layout", {"reduction": "none"},
                    lambda dt: Inputs((np.zeros((0, 5), dt), np.zeros((0, 5), np.int64)))),
        )
    ),
    invalid=(
        bad_reduction(_mlm),
        Invalid("target-out-of-range", {}, lambda dt: Inputs((normal_array((3, 4), dt), np.array([[4, -1, 0, 0]] * 3, np.int64)))),
        Invalid("target-below-minus-1", {}, lambda dt: Inputs((normal_array((3, 4), dt), np.array([[-2, -1, 0, 0]] * 3, np.int64)))),
        Invalid("out-of-range-after-terminator", {},
                lambda dt: Inputs((normal_array((3, 4), dt), np.array([[1, -1, 9, 0]] * 3, np.int64)))),
        Invalid("target-shape", {}, lambda dt: Inputs((normal_array((3, 4), dt), np.zeros((3, 3), np.int64)))),
        Invalid("float-target", {}, lambda dt: Inputs((normal_array((3, 4), dt), np.zeros((3, 4), dt)))),
        Invalid("3d-input", {}, lambda dt: Inputs((normal_array((2, 3, 4), dt), np.zeros((2, 3, 4), np.int64)))),
    ),
    bench=lambda dt: ({}, _mlm(dt, 1024, 64)),
)


# -- SoftMarginLoss / MultiLabelSoftMarginLoss ------------------------------------------------

def _sm_inputs(kw, dt, layout):
    @st.composite
    def draw_inputs(draw):
        lead = draw(batch_dims(layout))
        feature = draw(hnp.array_shapes(min_dims=0 if layout == "unbatched" else 1, max_dims=2, min_side=1, max_side=4))
        shape = lead + feature
        x = draw(float_arrays(shape, dt))
        t = draw(st.one_of(hnp.arrays(dt, shape, elements=st.sampled_from([-1.0, 1.0])), float_arrays(shape, dt, -2.0, 2.0)))
        return Inputs((x, t))

    return draw_inputs()


def _pm1(dt, shape=(4, 3), seed=0):
    return Inputs((normal_array(shape, dt, seed, scale=3.0), np.where(_uniform(shape, np.float64, seed + 1) > 0.5, 1.0, -1.0).astype(dt)))


SOFT_MARGIN = Entry(
    name="SoftMarginLoss",
    kwargs=reduction_kwargs(),
    inputs=_sm_inputs,
    nondiff_inputs=(1,),  # torch: "soft_margin_loss is not differentiable with respect to argument 'target'"
    layouts=("batched", "unbatched", "empty"),
    examples=(
        every_reduction(_pm1)
        + (
            Example("broadcast-target", "edge", {"reduction": "none"},
                    lambda dt: Inputs((normal_array((3, 4), dt), np.array([1.0, -1.0, 1.0, -1.0], dt)))),
            Example("zeros-and-large", "special", {"reduction": "none"},
                    lambda dt: Inputs((np.array([0.0, -0.0, 50.0, -50.0, 80.0], dt), np.array([1.0, -1.0, 1.0, -1.0, 1.0], dt)))),
            Example("empty-batch-mean-is-nan", "layout", {}, lambda dt: _pm1(dt, (0, 3))),
        )
        # torch computes into an output of the input's dtype: any target dtype, and the
        # loss keeps the input's dtype also next to a float64 target
        + target_dtype_examples(_pm1, {"reduction": "none"})
    ),
    invalid=(
        bad_reduction(_pm1),
        Invalid("unbroadcastable", {}, lambda dt: Inputs((normal_array((3, 4), dt), normal_array((3,), dt)))),
    ),
    bench=lambda dt: ({}, _pm1(dt, (1000, 1000))),
)


def _mlsm_kwargs():
    return sometimes_weighted(reduction_kwargs())


def _mlsm_inputs(kw, dt, layout):
    @st.composite
    def draw_inputs(draw):
        C = n_classes(draw, kw)
        lead = draw(batch_dims(layout))
        shape = lead + (C,)
        x = draw(float_arrays(shape, dt))
        t = draw(st.one_of(hnp.arrays(dt, shape, elements=st.sampled_from([0.0, 1.0])), float_arrays(shape, dt, 0.0, 1.0)))
        return Inputs((x, t))

    return draw_inputs()


def _bin(dt, shape=(4, 5), seed=0):
    return Inputs((normal_array(shape, dt, seed, scale=3.0), (_uniform(shape, np.float64, seed + 1) > 0.5).astype(dt)))


MULTILABEL_SOFT_MARGIN = Entry(
    name="MultiLabelSoftMarginLoss",
    kwargs=_mlsm_kwargs(),
    inputs=_mlsm_inputs,
    build_fn=build_with_weights("MultiLabelSoftMarginLoss"),
    layouts=("batched", "unbatched", "empty"),
    examples=(
        every_reduction(_bin) + every_reduction(_bin, {"weight": W5}, label="weight")
        + (
            Example("large-logits", "special", {"reduction": "none"},
                    lambda dt: Inputs((np.array([[100.0, -100.0, 1e4, -1e4, 0.0]], dt), np.array([[1.0, 0.0, 0.0, 1.0, 0.5]], dt)))),
            Example("unbatched", "layout", {"reduction": "none", "weight": W5}, lambda dt: _bin(dt, (5,))),
            Example("empty-batch-mean-is-nan", "layout", {}, lambda dt: _bin(dt, (0, 5))),
        )
        # torch's composite promotes the target: int64 labels are the usual case
        + target_dtype_examples(_bin, {"weight": W5})
    ),
    invalid=(
        bad_reduction(_bin),
        Invalid("bool-target", {}, lambda dt: Inputs((_bin(dt).args[0], _bin(dt).args[1] > 0))),
        Invalid("weight-wrong-size", {"weight": np.ones(3)}, lambda dt: _bin(dt, (2, 4))),
    ),
    bench=lambda dt: ({}, _bin(dt, (1000, 1000))),
)


ENTRIES: list = [
    CROSS_ENTROPY, NLL, LINEAR_CROSS_ENTROPY, BCE, BCE_WITH_LOGITS, KL_DIV,
    MULTI_MARGIN, MULTILABEL_MARGIN, SOFT_MARGIN, MULTILABEL_SOFT_MARGIN,
]
