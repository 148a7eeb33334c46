"""Catalog entries: Embedding and EmbeddingBag.

Both write their weight during forward when ``max_norm`` is set (torch renormalises
the referenced rows in place); the forward check compares the whole state_dict after
the call ("state weight after forward"), the weight included.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..strategies import float_arrays
from nnparity.catalog import Entry, Example, Inputs, Invalid, default_state

INF = float("inf")


def _normal(shape, dt, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dt)


def _idx(values):
    return np.asarray(values, dtype=np.int64)


# ----------------------------------------------------------------------------------
# State: rows of two sizes
# ----------------------------------------------------------------------------------

#: Even rows are small: entries N(0, 0.005^2), so that every norm_type drawn (p >= 0.5)
#: gives a norm below 0.5 <= max_norm for embedding_dim <= 4 (||x||_0.5 <= D^2 max|x|).
#: Odd rows are N(0, 1), mostly above max_norm. The comparisons with torch reference
#: both; gradcheck references only small rows when max_norm is set (see below).
_SMALL = 0.005


def embedding_state(torch_state, parameter_names, rng, regime="init"):
    state = default_state(torch_state, parameter_names, rng, regime)
    w = state["weight"]
    w[0::2] *= _SMALL
    return state


# ----------------------------------------------------------------------------------
# Shared kwargs and build
# ----------------------------------------------------------------------------------

_MAX_NORM = st.one_of(st.sampled_from([0.5, 1.0, 2.0]), st.floats(0.5, 5.0))
_NORM_TYPE = st.sampled_from([2.0, 1.0, 3.0, 1.5, 0.5, INF])


def _with_sizes(optional):
    """num_embeddings, embedding_dim, and a padding_idx in [-n, n - 1] sometimes."""
    return st.tuples(st.integers(1, 6), st.integers(1, 4)).flatmap(lambda nd: st.fixed_dictionaries(
        {"num_embeddings": st.just(nd[0]), "embedding_dim": st.just(nd[1])},
        optional={"padding_idx": st.integers(-nd[0], nd[0] - 1), **optional}))


def build_embedding(name):
    """``pretrained`` in the kwargs: build with ``from_pretrained(embeddings, freeze=...)``
    from a zero array of that shape (each side its own array type); the harness loads the
    state afterwards. ``pretrained_shape`` builds from an array of another shape (invalid)."""

    def build(nn, kwargs, factory, side):
        kw = dict(kwargs)
        freeze = kw.pop("pretrained", None)
        shape = kw.pop("pretrained_shape", None)
        cls = getattr(nn, name)
        if freeze is None and shape is None:
            return cls(**kw, **factory)
        shape = shape or (kw.pop("num_embeddings"), kw.pop("embedding_dim"))
        if side == "torch":
            import torch

            embeddings = torch.zeros(shape, dtype=factory["dtype"])
        else:
            embeddings = np.zeros(shape, dtype=factory["dtype"])
        return cls.from_pretrained(embeddings, freeze=True if freeze is None else freeze, **kw)

    return build


def _padding(kw):
    p = kw.get("padding_idx")
    return None if p is None else p % kw["num_embeddings"]


# ----------------------------------------------------------------------------------
# Embedding
# ----------------------------------------------------------------------------------


def _embedding_kwargs():
    """``pretrained`` is drawn False only (from_pretrained(freeze=False)): a frozen weight
    has no gradient, and gradcheck, which cannot tell, would judge its zeros against finite
    differences (harness needs, docs/torch-findings.md). freeze=True is in the fixed examples
    (forward and gradients)."""
    return _with_sizes({"max_norm": _MAX_NORM, "norm_type": _NORM_TYPE, "scale_grad_by_freq": st.booleans(),
                        "pretrained": st.just(False)})


def embedding_inputs(kw, dt, layout):
    n = kw["num_embeddings"]
    shapes = {"batched": st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
              "unbatched": st.just(()), "empty": st.sampled_from([(0,), (2, 0)])}[layout]
    return shapes.flatmap(lambda s: st.lists(st.integers(0, n - 1), min_size=int(np.prod(s)), max_size=int(np.prod(s)))
                          .map(lambda v: Inputs((_idx(v).reshape(s),))))


def embedding_gradcheck_inputs(kw, dt, layout):
    """gradcheck only. torch's weight gradient is by design not the derivative of the
    forward in three places, which finite differences would flag: the padding row (its
    value is looked up, its gradient is 0), repeated indices under scale_grad_by_freq (the
    gradient is divided by the count), and rows that max_norm renormalises (the gradient
    ignores it). So: no padding index, distinct indices, and with max_norm only the small
    (even) rows of ``embedding_state``. The comparisons with torch draw all of them."""
    n, pad = kw["num_embeddings"], _padding(kw)
    rows = [r for r in range(n) if r != pad and (kw.get("max_norm") is None or r % 2 == 0)]
    if not rows:
        return st.just(Inputs((_idx([]),)))
    return st.lists(st.sampled_from(rows), min_size=1, max_size=4, unique=True).map(lambda v: Inputs((_idx(v),)))


_E = {"num_embeddings": 6, "embedding_dim": 3}
_REPEATS = _idx([[1, 2, 1], [5, 1, 0]])

EMBEDDING = Entry(
    name="Embedding", kwargs=_embedding_kwargs(), build_fn=build_embedding("Embedding"), inputs=embedding_inputs,
    domains={"gradcheck": embedding_gradcheck_inputs}, state_fn=embedding_state, factory_kwargs=True,
    layouts=("batched", "unbatched", "empty"),
    examples=(
        Example("padding_idx=-1", "edge", {**_E, "padding_idx": -1}, lambda dt: Inputs((_idx([[5, 0, 5], [1, 5, 2]]),))),
        Example("padding_idx=0", "edge", {**_E, "padding_idx": 0}, lambda dt: Inputs((_REPEATS,))),
        Example("scale_grad_by_freq", "edge", {**_E, "scale_grad_by_freq": True}, lambda dt: Inputs((_REPEATS,))),
        Example("scale_grad_by_freq-padding", "edge", {**_E, "scale_grad_by_freq": True, "padding_idx": 1},
                lambda dt: Inputs((_REPEATS,))),
        Example("from_pretrained-freeze", "edge", {**_E, "pretrained": True}, lambda dt: Inputs((_REPEATS,))),
        Example("from_pretrained-trainable", "edge", {**_E, "pretrained": False, "padding_idx": 2},
                lambda dt: Inputs((_REPEATS,))),
    ) + tuple(
        Example(f"max_norm-norm_type={p}", "edge", {**_E, "max_norm": 1.0, "norm_type": p}, lambda dt: Inputs((_REPEATS,)))
        for p in (2.0, 1.0, INF, 0.5, 0.0, 3.0, -1.0)
    ) + (
        Example("max_norm-padding-row-renormalised", "edge", {**_E, "max_norm": 0.5, "padding_idx": 1},
                lambda dt: Inputs((_REPEATS,))),
    ),
    invalid=(
        Invalid("padding_idx>=n", {**_E, "padding_idx": 6}),
        Invalid("padding_idx<-n", {**_E, "padding_idx": -7}),
        Invalid("negative-num_embeddings", {"num_embeddings": -1, "embedding_dim": 3}),
        Invalid("index-out-of-range", _E, lambda dt: Inputs((_idx([1, 6]),))),
        Invalid("negative-index", _E, lambda dt: Inputs((_idx([1, -1]),))),
        Invalid("index-out-of-range-max_norm", {**_E, "max_norm": 0.1}, lambda dt: Inputs((_idx([1, 3, 7]),))),
        Invalid("float-indices", _E, lambda dt: Inputs((np.array([1.0, 2.0], dt),))),
        Invalid("from_pretrained-1d", {"pretrained_shape": (3,)}),
    ),
    bench=lambda dt: ({"num_embeddings": 10000, "embedding_dim": 64},
                      Inputs((np.random.default_rng(0).integers(0, 10000, (256, 32)),))),
)


# ----------------------------------------------------------------------------------
# EmbeddingBag
# ----------------------------------------------------------------------------------


def _bag_kwargs():
    def complete(kw):
        mode = kw.get("mode", "mean")
        extra = {} if mode == "max" else {"scale_grad_by_freq": st.booleans()}
        return st.fixed_dictionaries({k: st.just(v) for k, v in kw.items()}, optional=extra)

    return _with_sizes({"mode": st.sampled_from(["sum", "mean", "max"]), "max_norm": _MAX_NORM,
                        "norm_type": _NORM_TYPE, "include_last_offset": st.booleans(),
                        "pretrained": st.just(False)}).flatmap(complete)  # freeze=True: as Embedding's


def _bag_args(kw, dt, idx_values, two_d, lengths, with_weights, weights):
    """Inputs for one drawn bag layout: (input,) 2-D, or (input, offsets) 1-D, plus
    per_sample_weights (positional: the harness gives positional float arrays a gradient)."""
    if two_d:
        B, N = lengths
        idx = _idx(idx_values[: B * N]).reshape(B, N)
        offsets = None
    else:
        idx = _idx(idx_values[: sum(lengths)])
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        if kw.get("include_last_offset"):
            # The documented domain: the last offset is len(input). Any other value gives
            # dtype- and mode-dependent results in torch (docs/torch-findings.md).
            offsets = np.append(offsets, idx.size)
    args = (idx,) if two_d else (idx, offsets)
    if with_weights:
        args = args + (None,) if two_d else args
        args = args + (weights[: idx.size].reshape(idx.shape).astype(dt),)
    return Inputs(args)


def _bag_inputs(pick_rows, cap=None):
    """``pick_rows(kw, total) -> strategy of a list of row indices``; ``cap(kw)``, when
    given, bounds the number of entries (gradcheck's distinct rows)."""

    def inputs(kw, dt, layout):
        limit = cap(kw) if cap else 16

        @st.composite
        def draw(d):
            two_d = layout == "batched" and limit >= 1 and d(st.booleans())
            if layout == "empty":
                lengths = [0]
            elif two_d:
                n_per = d(st.integers(1, min(4, limit)))
                lengths = [d(st.integers(1, max(1, min(3, limit // n_per)))), n_per]
            else:  # 1 to 4 bags of 0 to 4 entries (empty bags included); never zero bags (torch segfaults)
                lengths = d(st.lists(st.integers(0, 4), min_size=1, max_size=4))
                while sum(lengths) > limit:
                    lengths[lengths.index(max(lengths))] -= 1
            total = lengths[0] * lengths[1] if two_d else sum(lengths)
            idx_values = d(pick_rows(kw, total))
            with_weights = kw.get("mode", "mean") == "sum" and d(st.booleans())
            weights = d(float_arrays((total,), dt, -3, 3)) if with_weights else None
            return _bag_args(kw, dt, idx_values, two_d, lengths, with_weights, weights)

        return draw()

    return inputs


def _any_rows(kw, total):
    return st.lists(st.integers(0, kw["num_embeddings"] - 1), min_size=total, max_size=total)


def _small_rows(kw):
    return [r for r in range(kw["num_embeddings"]) if kw.get("max_norm") is None or r % 2 == 0]


#: gradcheck only: distinct rows (torch scales repeated indices' gradients under
#: scale_grad_by_freq, by a count that is moreover not the index's own: a torch bug), and
#: with max_norm only the small rows (the gradient ignores the renormalisation). Padding
#: entries need no exclusion here: they take no part in the forward either. The
#: comparisons with torch draw any rows, repeated.
_bag_gradcheck_inputs = _bag_inputs(lambda kw, total: st.permutations(_small_rows(kw)).map(lambda p: list(p[:total])),
                                    cap=lambda kw: len(_small_rows(kw)))


_B = {"num_embeddings": 6, "embedding_dim": 3}
_BAG_IDX = _idx([1, 2, 1, 4, 2, 2, 0, 5])
_BAG_OFFS = _idx([0, 2, 2, 5])  # bags [1, 2], [], [1, 4, 2], [2, 0, 5]


def _bag(offsets=_BAG_OFFS, idx=_BAG_IDX):
    return lambda dt: Inputs((idx, offsets))


EMBEDDING_BAG = Entry(
    name="EmbeddingBag", kwargs=_bag_kwargs(), build_fn=build_embedding("EmbeddingBag"), inputs=_bag_inputs(_any_rows),
    domains={"gradcheck": _bag_gradcheck_inputs}, state_fn=embedding_state, factory_kwargs=True,
    layouts=("batched", "empty"),
    examples=tuple(
        Example(f"mode={m}", "edge", {**_B, "mode": m}, _bag()) for m in ("sum", "mean", "max")
    ) + tuple(
        Example(f"mode={m}-padding", "edge", {**_B, "mode": m, "padding_idx": 2}, _bag()) for m in ("sum", "mean", "max")
    ) + (
        Example("mean-all-padding-bag", "edge", {**_B, "mode": "mean", "padding_idx": 2},
                _bag(_idx([0, 1, 3]), _idx([1, 2, 2, 4]))),
        Example("2d-input", "edge", {**_B, "mode": "max", "padding_idx": -1}, lambda dt: Inputs((_idx([[1, 5, 1], [5, 5, 2]]),))),
        Example("per_sample_weights", "edge", {**_B, "mode": "sum", "padding_idx": 1},
                lambda dt: Inputs((_BAG_IDX, _BAG_OFFS, _normal(8, dt, 1)))),
        Example("per_sample_weights-2d", "edge", {**_B, "mode": "sum"},
                lambda dt: Inputs((_idx([[1, 2], [3, 3]]), None, _normal((2, 2), dt, 2)))),
        Example("include_last_offset", "edge", {**_B, "mode": "mean", "include_last_offset": True}, _bag(_idx([0, 2, 2, 5, 8]))),
        Example("scale_grad_by_freq-sum", "edge", {**_B, "mode": "sum", "scale_grad_by_freq": True}, _bag()),
        Example("scale_grad_by_freq-mean-padding", "edge", {**_B, "mode": "mean", "scale_grad_by_freq": True, "padding_idx": 2},
                _bag()),
        Example("max_norm", "edge", {**_B, "mode": "sum", "max_norm": 1.0}, _bag()),
        Example("max_norm-inf", "edge", {**_B, "mode": "max", "max_norm": 0.7, "norm_type": INF}, _bag()),
        Example("from_pretrained-freeze", "edge", {**_B, "pretrained": True, "mode": "sum"}, _bag()),
        Example("empty-input", "layout", {**_B, "mode": "max"}, _bag(_idx([0, 0]), _idx([]))),
        Example("empty-2d-batch", "layout", {**_B, "mode": "mean"}, lambda dt: Inputs((np.zeros((0, 3), np.int64),))),
    ),
    invalid=(
        Invalid("per_sample_weights-mean", {**_B, "mode": "mean"}, lambda dt: Inputs((_BAG_IDX, _BAG_OFFS, np.ones(8, dt)))),
        Invalid("per_sample_weights-max", {**_B, "mode": "max"}, lambda dt: Inputs((_BAG_IDX, _BAG_OFFS, np.ones(8, dt)))),
        Invalid("per_sample_weights-shape", {**_B, "mode": "sum"}, lambda dt: Inputs((_BAG_IDX, _BAG_OFFS, np.ones(7, dt)))),
        Invalid("2d-input-with-offsets", _B, lambda dt: Inputs((_idx([[1, 2]]), _idx([0])))),
        Invalid("1d-input-without-offsets", _B, lambda dt: Inputs((_BAG_IDX,))),
        Invalid("3d-input", _B, lambda dt: Inputs((_idx([[[1]]]),))),
        Invalid("2d-offsets", _B, lambda dt: Inputs((_BAG_IDX, _idx([[0]])))),
        Invalid("bad-mode", {**_B, "mode": "avg"}, _bag()),
        Invalid("max-scale_grad_by_freq", {**_B, "mode": "max", "scale_grad_by_freq": True}, _bag()),
        Invalid("offsets[0]!=0", _B, _bag(_idx([1, 3]))),
        Invalid("offsets[-1]>len", _B, _bag(_idx([0, 9]))),
        Invalid("index-out-of-range", _B, _bag(_idx([0]), _idx([1, 6]))),
        Invalid("negative-index", _B, _bag(_idx([0]), _idx([1, -1]))),
        Invalid("float-indices", _B, lambda dt: Inputs((np.array([1.0], dt), _idx([0])))),
        Invalid("2d-bags-of-length-0", _B, lambda dt: Inputs((np.zeros((3, 0), np.int64),))),
        Invalid("padding_idx>=n", {**_B, "padding_idx": 6}),
        Invalid("from_pretrained-1d", {"pretrained_shape": (3,)}),
    ),
    bench=lambda dt: ({"num_embeddings": 10000, "embedding_dim": 64, "mode": "mean"},
                      Inputs((np.random.default_rng(0).integers(0, 10000, (256, 32)),))),
)

ENTRIES = [EMBEDDING, EMBEDDING_BAG]
