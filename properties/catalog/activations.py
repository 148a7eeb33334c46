"""Catalog entries: activations (torch/nn/modules/activation.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..strategies import float_input
from .entry import Entry, Example, Inputs

#: Points every elementwise activation is checked at, forward and gradient:
#: NaN, infinities, signed zeros, and magnitudes where a naive exp/log over- or
#: underflows in float32 (88, 89) and float64 (709, 710).
SPECIAL_VALUES = (np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0,
                  88.0, 89.0, -88.0, -89.0, 709.0, 710.0, -709.0, -710.0, 1e-30, -1e-30)


def special_examples(extra_points=(), kwargs_list=({},), values=SPECIAL_VALUES):
    """One 'special' Example per kwargs: a 1-D input holding every special value
    (plus the class's own branch points)."""
    points = tuple(values) + tuple(extra_points)

    def make(kw):
        return Example(
            id="special" + ("" if not kw else "-" + "-".join(f"{k}={v}" for k, v in sorted(kw.items()))),
            kind="special", kwargs=kw,
            inputs=lambda dt: Inputs((np.array(points, dtype=dt),)),
        )

    return tuple(make(kw) for kw in kwargs_list)


def elementwise_inputs(kw, dt, layout):
    """Any shape; 'empty' is a zero-size batch."""
    if layout == "empty":
        return st.just(Inputs((np.zeros((0, 3), dtype=dt),)))
    return float_input(dt)


def elementwise(name, kwargs=st.just({}), extra_points=(), special_kwargs=({},), **flags) -> Entry:
    return Entry(
        name=name, kwargs=kwargs, inputs=elementwise_inputs, layouts=("batched", "empty"),
        examples=special_examples(extra_points, special_kwargs) + tuple(flags.pop("examples", ())),
        bench=lambda dt: ({}, Inputs((np.random.default_rng(0).standard_normal((1000, 1000)).astype(dt),))),
        **flags,
    )


ENTRIES = [
    elementwise("ReLU", st.fixed_dictionaries({}, optional={"inplace": st.booleans()})),
    elementwise("Sigmoid"),
    elementwise("Tanh"),
]
