"""Catalog entries: losses (torch/nn/modules/loss.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..strategies import batch_dims, float_arrays, reductions
from .entry import Entry, Example, Inputs, Invalid


def reduction_kwargs():
    """Sometimes leave ``reduction`` out, so the default ('mean') is tested."""
    return st.fixed_dictionaries({}, optional={"reduction": reductions})


def pointwise_inputs(kw, dt, layout):
    """input and target of one shape: (N, *) batched, () or (*) unbatched, (0, *) empty."""
    feature = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4)
    shapes = st.tuples(batch_dims(layout), feature).map(lambda bf: bf[0] + bf[1])
    return shapes.flatmap(lambda s: st.tuples(float_arrays(s, dt), float_arrays(s, dt))).map(lambda xy: Inputs(xy))


def every_reduction(make_inputs):
    return tuple(Example(f"reduction={r}", "edge", {"reduction": r}, make_inputs) for r in ("none", "mean", "sum"))


def _pair(dt, shape=(3, 4)):
    rng = np.random.default_rng(7)
    return Inputs((rng.standard_normal(shape).astype(dt), rng.standard_normal(shape).astype(dt)))


def pointwise_loss(name, **flags) -> Entry:
    return Entry(
        name=name, kwargs=reduction_kwargs(), inputs=pointwise_inputs, layouts=("batched", "unbatched", "empty"),
        examples=every_reduction(_pair) + (
            Example("empty-mean-is-nan", "layout", {"reduction": "mean"}, lambda dt: _pair(dt, (0, 3))),
            Example("equal-input-target", "special", {"reduction": "none"},
                    lambda dt: Inputs((np.array([0.0, -0.0, 1.0, np.inf, np.nan], dt), np.array([0.0, 0.0, 1.0, 1.0, 0.0], dt)))),
        ),
        invalid=(
            Invalid("bad-reduction", {"reduction": "avg"}, lambda dt: _pair(dt)),
            Invalid("unbroadcastable-shapes", {}, lambda dt: Inputs((np.zeros((2, 3), dt), np.zeros((4, 5), dt)))),
        ),
        bench=lambda dt: ({}, _pair(dt, (1000, 1000))),
        **flags,
    )


ENTRIES = [
    pointwise_loss("MSELoss"),
    pointwise_loss("L1Loss"),
]
