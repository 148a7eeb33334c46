"""Catalog entries: the remaining simple layers, Bilinear and Unflatten."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..strategies import batch_dims, float_arrays
from nnparity.catalog import Entry, Example, Inputs, Invalid

NAN, INF = float("nan"), float("inf")


def _normal(shape, dt, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dt)


# -- Bilinear -----------------------------------------------------------------------


def bilinear_inputs(kw, dt, layout):
    """input1 (*, in1) and input2 (*, in2) with the same leading dims (torch does not broadcast)."""
    lead = hnp.array_shapes(min_dims=1, max_dims=2, max_side=4) if layout == "batched" else batch_dims(layout)
    return lead.flatmap(lambda b: st.tuples(float_arrays(b + (kw["in1_features"],), dt),
                                            float_arrays(b + (kw["in2_features"],), dt))).map(Inputs)


_BI = {"in1_features": 3, "in2_features": 2, "out_features": 4}

BILINEAR = Entry(
    name="Bilinear",
    kwargs=st.fixed_dictionaries({"in1_features": st.integers(1, 4), "in2_features": st.integers(1, 4),
                                  "out_features": st.integers(0, 4)}, optional={"bias": st.booleans()}),
    inputs=bilinear_inputs, factory_kwargs=True, layouts=("batched", "unbatched", "empty"),
    examples=(
        Example("bias=False", "edge", {**_BI, "bias": False}, lambda dt: Inputs((_normal((5, 3), dt, 1), _normal((5, 2), dt, 2)))),
        Example("3d-input", "edge", _BI, lambda dt: Inputs((_normal((2, 3, 3), dt, 3), _normal((2, 3, 2), dt, 4)))),
        Example("special", "special", _BI,
                lambda dt: Inputs((np.array([[NAN, 1.0, 0.0], [INF, 0.0, 1.0], [-0.0, -0.0, 0.0]], dt),
                                   np.array([[1.0, 2.0], [1.0, -1.0], [0.0, -0.0]], dt)))),
    ),
    invalid=(
        Invalid("in1_features=0", {"in1_features": 0, "in2_features": 2, "out_features": 3}),
        Invalid("negative-features", {"in1_features": 2, "in2_features": -1, "out_features": 3}),
        Invalid("in2_features=0", {"in1_features": 2, "in2_features": 0, "out_features": 3},
                lambda dt: Inputs((np.zeros((4, 2), dt), np.zeros((4, 0), dt)))),
        Invalid("ndim-mismatch", _BI, lambda dt: Inputs((np.zeros((5, 3), dt), np.zeros(2, dt)))),
        Invalid("batch-mismatch", _BI, lambda dt: Inputs((np.zeros((5, 3), dt), np.zeros((1, 2), dt)))),
        Invalid("in1-mismatch", _BI, lambda dt: Inputs((np.zeros((5, 2), dt), np.zeros((5, 2), dt)))),
        Invalid("in2-mismatch", _BI, lambda dt: Inputs((np.zeros((5, 3), dt), np.zeros((5, 3), dt)))),
        Invalid("integer-inputs", _BI, lambda dt: Inputs((np.zeros((5, 3), np.int64), np.zeros((5, 2), np.int64)))),
    ),
    bench=lambda dt: ({"in1_features": 64, "in2_features": 64, "out_features": 64},
                      Inputs((_normal((512, 64), dt, 5), _normal((512, 64), dt, 6)))),
)


# -- Unflatten ----------------------------------------------------------------------


def _unflatten_kwargs():
    """A dim and sizes; the input (drawn to fit) has prod(sizes) there. One size may be -1;
    the sizes come as a tuple or a list (torch keeps either, and prints it)."""

    @st.composite
    def draw(d):
        sizes = d(st.lists(st.integers(1, 3), min_size=1, max_size=3))
        if d(st.booleans()):
            sizes[d(st.integers(0, len(sizes) - 1))] = -1
        return {"dim": d(st.sampled_from([0, 1, -1, -2])), "unflattened_size": d(st.sampled_from([tuple, list]))(sizes)}

    return draw()


def unflatten_inputs(kw, dt, layout):
    dim, sizes = kw["dim"], kw["unflattened_size"]
    n = int(np.prod([s for s in sizes if s != -1])) * (2 if -1 in sizes else 1)

    @st.composite
    def draw(d):
        low = max(dim + 1, -dim, 2 if layout == "empty" else 1)
        rank = d(st.integers(low, max(low, 3)))
        shape = [d(st.integers(1, 3)) for _ in range(rank)]
        shape[dim % rank] = n
        if layout == "empty":  # a zero-size dim other than the one unflattened
            shape[0 if dim % rank else rank - 1] = 0
        return d(float_arrays(tuple(shape), dt))

    return draw().map(lambda x: Inputs((x,)))


UNFLATTEN = Entry(
    name="Unflatten", kwargs=_unflatten_kwargs(), inputs=unflatten_inputs, layouts=("batched", "empty"),
    examples=(
        Example("inferred-size", "edge", {"dim": 1, "unflattened_size": (2, -1)}, lambda dt: Inputs((_normal((2, 6, 3), dt),))),
        Example("list-size", "edge", {"dim": -1, "unflattened_size": [3, 1]}, lambda dt: Inputs((_normal((2, 6, 3), dt),))),
        Example("empty-dim-inferred", "layout", {"dim": 0, "unflattened_size": (2, -1)}, lambda dt: Inputs((np.zeros((0, 3), dt),))),
    ),
    invalid=(
        Invalid("size-not-tuple", {"dim": 1, "unflattened_size": 6}),
        Invalid("float-size", {"dim": 1, "unflattened_size": (2.0, 3)}),
        Invalid("two-inferred", {"dim": 1, "unflattened_size": (-1, -1)}, lambda dt: Inputs((np.zeros((2, 6, 3), dt),))),
        Invalid("wrong-product", {"dim": 1, "unflattened_size": (4, 2)}, lambda dt: Inputs((np.zeros((2, 6, 3), dt),))),
        Invalid("empty-sizes", {"dim": 1, "unflattened_size": ()}, lambda dt: Inputs((np.zeros((2, 6, 3), dt),))),
        Invalid("negative-size", {"dim": 1, "unflattened_size": (-2, -3)}, lambda dt: Inputs((np.zeros((2, 6, 3), dt),))),
        Invalid("dim-out-of-range", {"dim": 3, "unflattened_size": (2,)}, lambda dt: Inputs((np.zeros((2, 6, 3), dt),))),
        Invalid("0-d-input", {"dim": 0, "unflattened_size": (1, 1)}, lambda dt: Inputs((np.zeros((), dt),))),
        Invalid("zero-with-inferred", {"dim": 1, "unflattened_size": (0, -1)}, lambda dt: Inputs((np.zeros((2, 6, 3), dt),))),
    ),
    bench=lambda dt: ({"dim": 1, "unflattened_size": (32, 32)}, Inputs((_normal((256, 1024), dt),))),
)

ENTRIES = [BILINEAR, UNFLATTEN]
