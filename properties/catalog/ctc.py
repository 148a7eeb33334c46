"""Catalog entries: CTCLoss.

log_probs are drawn as real log-softmax outputs (logits in [-5, 5], normalised in
float64 and rounded to the dtype) most of the time, and as unnormalised values in
[-5, 1] otherwise: torch does not require normalised log_probs, and its gradient
formula exp(lp) - occupancy is applied to whatever it gets. Targets never equal
``blank`` and are in [0, C); lengths fit the drawn shapes; input lengths are drawn
from [0, T] so losses are sometimes infinite (input too short for the target, or a
repeated label without room for the blank between its copies), which exercises
zero_infinity and torch's NaN gradients of infinite losses.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..strategies import float_arrays, reductions
from nnparity.catalog import Entry, Example, Inputs, Invalid

MAX_BLANK = 3


def _log_softmax(x: np.ndarray, dt) -> np.ndarray:
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return (x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))).astype(dt)


def ctc_kwargs():
    return st.fixed_dictionaries({}, optional={"blank": st.integers(0, MAX_BLANK), "reduction": reductions,
                                               "zero_infinity": st.booleans()})


@st.composite
def _ctc_inputs(draw, kw, dt, layout):
    blank = kw.get("blank", 0)
    T = draw(st.integers(1, 7))
    N = 1 if layout == "unbatched" else draw(st.integers(1, 4))
    C = draw(st.integers(max(blank + 1, 2), 6))
    normalised = draw(st.sampled_from([True, True, True, False]))  # mostly real log-softmax outputs
    if normalised:
        lp = _log_softmax(draw(float_arrays((T, N, C), np.float64, -5.0, 5.0)), dt)
    else:
        lp = draw(float_arrays((T, N, C), dt, -5.0, 1.0))
    S = draw(st.integers(0, 4))
    # labels in [0, C) without the blank: draw from C-1 values, skip over the blank
    raw = draw(st.lists(st.integers(0, C - 2), min_size=N * S, max_size=N * S))
    targets = np.array([v + (v >= blank) for v in raw], dtype=np.int64).reshape(N, S)
    tl = np.array(draw(st.lists(st.integers(0, S), min_size=N, max_size=N)), dtype=np.int64)
    il = np.array(draw(st.lists(st.integers(0, T), min_size=N, max_size=N)), dtype=np.int64)
    concatenated = draw(st.booleans())
    if concatenated:
        targets = np.concatenate([targets[n, :tl[n]] for n in range(N)]).astype(np.int64)
    as_tuples = draw(st.booleans())
    if layout == "unbatched":
        lp = lp[:, 0]
        if as_tuples:
            il_arg, tl_arg = (int(il[0]),), (int(tl[0]),)
        else:
            il_arg, tl_arg = il.reshape(()), tl.reshape(())
    elif as_tuples:
        il_arg, tl_arg = tuple(int(v) for v in il), tuple(int(v) for v in tl)
    else:
        il_arg, tl_arg = il, tl
    return Inputs((lp, targets, il_arg, tl_arg))


def ctc_inputs(kw, dt, layout):
    return _ctc_inputs(kw, dt, layout)


def _fixed(dt, T=6, N=3, C=5, targets=((1, 2, 3), (2, 2, 0), (4, 1, 1)), il=(6, 5, 6), tl=(3, 2, 3), seed=3,
           normalised=True):
    x = np.random.default_rng(seed).standard_normal((T, N, C))
    lp = _log_softmax(x, dt) if normalised else x.astype(dt)
    targets = np.array(targets, dtype=np.int64)
    targets = targets.reshape(N, targets.size // N)
    return Inputs((lp, targets, np.array(il, np.int64), np.array(tl, np.int64)))


def _concatenated(dt):
    lp, tg, il, tl = _fixed(dt).args
    return Inputs((lp, np.concatenate([tg[n, :tl[n]] for n in range(len(tl))]), il, tl))


def _unbatched(dt):
    lp, tg, il, tl = _fixed(dt, N=1, targets=((3, 1, 3),), il=(6,), tl=(3,)).args
    return Inputs((lp[:, 0], tg[0], il.reshape(()), tl.reshape(())))


def _with_neg_inf(dt):
    lp, tg, il, tl = _fixed(dt).args
    lp = lp.copy()
    lp[2, 0, 1] = -np.inf  # a class that appears in sample 0's target
    lp[4, 1, 3] = -np.inf  # a class that does not appear in sample 1's target
    return Inputs((lp, tg, il, tl))


_EXAMPLES = tuple(
    Example(f"reduction={r}", "edge", {"reduction": r}, _fixed) for r in ("none", "mean", "sum")
) + (
    Example("empty-targets", "edge", {"reduction": "none"},
            lambda dt: _fixed(dt, targets=np.zeros((3, 0)), tl=(0, 0, 0))),
    Example("empty-targets-mean", "edge", {}, lambda dt: _fixed(dt, targets=np.zeros((3, 0)), tl=(0, 0, 0))),
    Example("some-empty-targets-mean", "edge", {}, lambda dt: _fixed(dt, tl=(0, 2, 3))),
    Example("input-too-short-is-inf", "edge", {"reduction": "none"}, lambda dt: _fixed(dt, il=(2, 0, 6))),
    Example("input-too-short-zero-infinity", "edge", {"reduction": "none", "zero_infinity": True},
            lambda dt: _fixed(dt, il=(2, 0, 6))),
    Example("zero-infinity-sum", "edge", {"reduction": "sum", "zero_infinity": True}, lambda dt: _fixed(dt, il=(2, 5, 6))),
    Example("zero-infinity-mean", "edge", {"reduction": "mean", "zero_infinity": True}, lambda dt: _fixed(dt, il=(2, 5, 6))),
    Example("zero-infinity-finite", "edge", {"zero_infinity": True}, _fixed),
    Example("input-length-zero-empty-target", "edge", {"reduction": "none"},
            lambda dt: _fixed(dt, tl=(0, 2, 3), il=(0, 5, 6))),
    # [2, 2, 2] needs 5 steps (2 b 2 b 2): 4 is too short, 5 is just enough.
    Example("repeated-labels-need-blanks", "edge", {"reduction": "none"},
            lambda dt: _fixed(dt, targets=((2, 2, 2), (1, 1, 0), (3, 3, 3)), il=(4, 3, 5), tl=(3, 2, 3))),
    Example("input-length-equals-target-length", "edge", {"reduction": "none"},
            lambda dt: _fixed(dt, targets=((1, 2, 3), (4, 3, 0), (1, 2, 1)), il=(3, 2, 3), tl=(3, 2, 3))),
    Example("blank=last", "edge", {"blank": 4}, lambda dt: _fixed(dt, targets=((1, 2, 3), (2, 2, 0), (0, 1, 1)))),
    Example("concatenated-targets", "edge", {"reduction": "none"}, _concatenated),
    Example("unnormalised-log-probs", "edge", {"reduction": "sum"}, lambda dt: _fixed(dt, normalised=False)),
    Example("lengths-as-tuples", "edge", {},
            lambda dt: Inputs(_fixed(dt).args[:2] + ((6, 5, 6), (3, 2, 3)))),
    # values past a target's length (-1 and 99 here) are never read
    Example("padding-past-target-length", "edge", {"reduction": "none"},
            lambda dt: _fixed(dt, targets=((1, 2, 3), (2, 2, -1), (4, 1, 99)), tl=(3, 2, 2))),
    Example("int32-targets-and-lengths", "edge", {"reduction": "none"},
            lambda dt: Inputs(tuple(a.astype(np.int32) if a.dtype == np.int64 else a for a in _fixed(dt).args))),
    Example("unbatched", "layout", {"reduction": "none"}, _unbatched),
    Example("unbatched-mean", "layout", {}, _unbatched),
    Example("neg-inf-log-prob", "special", {"reduction": "none"}, _with_neg_inf),
    Example("inf-loss-nan-gradient", "special", {"reduction": "sum"}, lambda dt: _fixed(dt, il=(2, 5, 6))),
)


def _bad(dt, **changes):
    lp, tg, il, tl = _fixed(dt).args
    args = {"log_probs": lp, "targets": tg, "input_lengths": il, "target_lengths": tl}
    args.update(changes)
    return Inputs(tuple(args.values()))


_INVALID = (
    Invalid("bad-reduction", {"reduction": "avg"}, _bad),
    Invalid("blank-equals-C", {"blank": 5}, _bad),
    Invalid("blank-negative", {"blank": -1}, _bad),
    Invalid("log-probs-4d", {}, lambda dt: _bad(dt, log_probs=np.zeros((6, 3, 5, 1), dt))),
    Invalid("log-probs-1d", {}, lambda dt: _bad(dt, log_probs=np.zeros((6,), dt))),
    Invalid("log-probs-empty-batch", {}, lambda dt: _bad(dt, log_probs=np.zeros((6, 0, 5), dt), targets=np.zeros((0, 3), np.int64),
                                                          input_lengths=np.zeros(0, np.int64), target_lengths=np.zeros(0, np.int64))),
    Invalid("log-probs-integer", {}, lambda dt: _bad(dt, log_probs=np.zeros((6, 3, 5), np.int64))),
    Invalid("targets-3d", {}, lambda dt: _bad(dt, targets=np.ones((3, 3, 1), np.int64))),
    Invalid("input-length-above-T", {}, lambda dt: _bad(dt, input_lengths=np.array([7, 5, 6]))),
    Invalid("input-length-negative", {}, lambda dt: _bad(dt, input_lengths=np.array([-1, 5, 6]))),
    Invalid("target-length-negative", {}, lambda dt: _bad(dt, target_lengths=np.array([3, -1, 3]))),
    Invalid("target-length-above-S", {}, lambda dt: _bad(dt, target_lengths=np.array([4, 2, 3]))),
    Invalid("too-many-input-lengths", {}, lambda dt: _bad(dt, input_lengths=np.array([6, 5, 6, 6]))),
    Invalid("too-few-target-lengths", {}, lambda dt: _bad(dt, target_lengths=np.array([3, 2]))),
    Invalid("targets-rows-not-batch", {}, lambda dt: _bad(dt, targets=np.ones((2, 3), np.int64))),
    Invalid("concatenated-length-mismatch", {}, lambda dt: _bad(dt, targets=np.ones(9, np.int64))),
    Invalid("float-input-lengths", {}, lambda dt: _bad(dt, input_lengths=np.array([6.0, 5.0, 6.0]))),
    # torch reads log_probs at a target index it never checks against C (out of bounds:
    # undefined); the twin must refuse it
    *(Invalid(f"target-index-{bad}", {}, (lambda b: lambda dt: _bad(dt, targets=np.array([[1, b, 3], [2, 2, 0], [4, 1, 1]])))(bad),
              torch_undefined="an out-of-range target index is read out of bounds", expect="RuntimeError")
      for bad in (5, 17, -1)),
    *(Invalid(f"concatenated-target-index-{bad}", {},
              (lambda b: lambda dt: _bad(dt, targets=np.array([1, b, 3, 2, 2, 4, 1, 1])))(bad),
              torch_undefined="an out-of-range target index is read out of bounds", expect="RuntimeError")
      for bad in (5, -1)),
    Invalid("python-int-lengths", {}, lambda dt: _bad(dt, input_lengths=6, target_lengths=3)),
)


def _bench(dt):
    T, N, C, S = 50, 16, 20, 10
    rng = np.random.default_rng(0)
    lp = _log_softmax(rng.standard_normal((T, N, C)), dt)
    targets = rng.integers(1, C, (N, S))
    return {}, Inputs((lp, targets, np.full(N, T, np.int64), rng.integers(5, S + 1, N).astype(np.int64)))


def _targets_per_sample(targets, tl) -> list:
    targets = np.asarray(targets)
    if targets.ndim == 2:
        return [targets[n, :tl[n]] for n in range(len(tl))]
    ends = np.cumsum(tl)
    return [targets[e - t:e] for e, t in zip(ends, tl)] if len(tl) > 1 else [targets[:tl[0]]]


def ctc_derivative_part(case, input_grads, param_grads, cotangents):
    """gradcheck for CTCLoss: torch's gradient with respect to log_probs is
    factor_n (exp(lp) - occupancy) on the frames t < input_length_n (ATen
    ctc_loss_backward: the gradient with respect to the logits of a log_softmax),
    while the derivative of the forward is -factor_n occupancy. So finite
    differences of the forward judge the twin's gradient minus factor_n exp(lp) on
    those frames. factor_n is the cotangent reaching sample n: v_n ('none'), v
    ('sum'), v / (N max(target_length_n, 1)) ('mean'). A sample whose loss is
    infinite (its input too short for its target and the blanks its repeated labels
    need) gets no such term with zero_infinity (torch zeroes its gradient) and a NaN
    gradient without it (not judged: not finite)."""
    lp, targets, il, tl = case.args[:4]
    batched = np.ndim(lp) == 3
    lp3 = lp if batched else lp[:, None, :]
    il = np.atleast_1d(np.asarray(il, dtype=np.int64))
    tl = np.atleast_1d(np.asarray(tl, dtype=np.int64))
    N = lp3.shape[1]
    v = np.asarray(cotangents[0], dtype=np.float64)
    reduction = case.kwargs.get("reduction", "mean")
    if reduction == "none":
        factor = np.broadcast_to(v, (N,)).astype(np.float64)
    elif reduction == "sum":
        factor = np.full(N, float(v))
    else:
        factor = float(v) / (N * np.maximum(tl, 1))
    per_sample = _targets_per_sample(targets, tl) if batched else [np.asarray(targets)[:int(tl[0])]]
    needed = np.array([len(t) + int(np.sum(t[1:] == t[:-1])) for t in per_sample])
    finite = il >= needed
    if case.kwargs.get("zero_infinity", False):
        factor = np.where(finite, factor, 0.0)
    active = (np.arange(lp3.shape[0])[:, None] < il[None, :])[:, :, None]
    term = np.where(active, np.exp(lp3.astype(np.float64)) * factor[None, :, None], 0.0)
    g = np.asarray(input_grads[0])
    adjusted = (g.astype(np.float64) - (term if batched else term[:, 0, :])).astype(g.dtype)
    return (adjusted,) + tuple(input_grads[1:]), param_grads


CTC_LOSS = Entry(
    name="CTCLoss",
    kwargs=ctc_kwargs(),
    inputs=ctc_inputs,
    layouts=("batched", "unbatched"),  # torch rejects an empty batch ("log_probs tensor must not be empty")
    examples=_EXAMPLES,
    invalid=_INVALID,
    bench=_bench,
    # torch's gradient is exp(lp) - occupancy (the gradient w.r.t. the logits of a
    # log_softmax), not the derivative of the loss w.r.t. log_probs (see
    # impls/functional/ctc.py): gradcheck judges the twin's gradient minus the exp(lp) part.
    gradcheck_adjust=ctc_derivative_part,
    notes="gradcheck judges the derivative part of the twin's gradient: torch's CTC gradient is w.r.t. the "
          "logits of log_softmax (exp(lp) - occupancy); the exp(lp) term is subtracted first.",
)

ENTRIES = [CTC_LOSS]
