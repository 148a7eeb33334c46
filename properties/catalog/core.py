"""Catalog entries: linear layers, reshapes, containers (batch norm: norm.py; dropout: dropout.py)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..strategies import batch_dims, float_arrays
from ..strategies import normal_array as _normal
from nnparity.catalog import Entry, Example, Inputs, Invalid

# -- Identity -----------------------------------------------------------------------

def any_float_input(kw, dt, layout):
    shapes = {"batched": hnp.array_shapes(min_dims=1, max_dims=4, max_side=5),
              "unbatched": st.just(()), "empty": st.just((0, 3))}[layout]
    return shapes.flatmap(lambda s: float_arrays(s, dt)).map(lambda x: Inputs((x,)))


IDENTITY = Entry(
    name="Identity",
    kwargs=st.sampled_from([{}, {"unused_argument": 3}]),  # Identity ignores any arguments
    build_fn=lambda nn, kw, factory, side: nn.Identity(*(["positional"] if kw else []), **kw),
    inputs=any_float_input, layouts=("batched", "unbatched", "empty"),
    gradcheck=True,
    bench=lambda dt: ({}, Inputs((_normal((1000, 1000), dt),))),
)


# -- Linear -------------------------------------------------------------------------

def linear_inputs(kw, dt, layout):
    n_in = kw["in_features"]
    if layout == "batched":
        lead = hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)
    else:
        lead = batch_dims(layout)
    return lead.flatmap(lambda b: float_arrays(b + (n_in,), dt)).map(lambda x: Inputs((x,)))


LINEAR = Entry(
    name="Linear",
    kwargs=st.fixed_dictionaries(
        {"in_features": st.integers(1, 6), "out_features": st.integers(1, 6)}, optional={"bias": st.booleans()}),
    inputs=linear_inputs, factory_kwargs=True, layouts=("batched", "unbatched", "empty"),
    examples=(
        Example("bias=False", "edge", {"in_features": 3, "out_features": 2, "bias": False},
                lambda dt: Inputs((_normal((4, 3), dt),))),
        Example("zero-in-features", "edge", {"in_features": 0, "out_features": 2},
                lambda dt: Inputs((np.zeros((3, 0), dt),))),
        Example("special", "special", {"in_features": 2, "out_features": 2},
                lambda dt: Inputs((np.array([[np.nan, 1.0], [np.inf, 0.0], [-0.0, -0.0]], dt),))),
    ),
    invalid=(
        Invalid("wrong-in-features", {"in_features": 3, "out_features": 2}, lambda dt: Inputs((np.zeros((4, 5), dt),))),
        Invalid("negative-features", {"in_features": -1, "out_features": 2}),
        Invalid("integer-input", {"in_features": 3, "out_features": 2}, lambda dt: Inputs((np.zeros((4, 3), np.int64),))),
    ),
    tolerances={},
    bench=lambda dt: ({"in_features": 512, "out_features": 512}, Inputs((_normal((256, 512), dt),))),
)


# -- Flatten ------------------------------------------------------------------------

_FLATTEN_DIMS = st.fixed_dictionaries({}, optional={"start_dim": st.sampled_from([0, 1, 2, -2, -3]),
                                                     "end_dim": st.sampled_from([-1, -2, 3])})


def flatten_inputs(kw, dt, layout):
    def valid(ndim):
        s, e = kw.get("start_dim", 1), kw.get("end_dim", -1)
        return -ndim <= s < ndim and -ndim <= e < ndim and s % ndim <= e % ndim

    ndims = [n for n in (3, 4, 5) if valid(n)]
    lead = (0,) if layout == "empty" else ()

    def shaped(ndim):
        return hnp.array_shapes(min_dims=ndim - len(lead), max_dims=ndim - len(lead), max_side=3).map(lambda s: lead + s)

    return st.sampled_from(ndims).flatmap(shaped).flatmap(lambda s: float_arrays(s, dt)).map(lambda x: Inputs((x,)))


FLATTEN = Entry(
    name="Flatten", kwargs=_FLATTEN_DIMS, inputs=flatten_inputs, layouts=("batched", "empty"),
    examples=(Example("0-d-input", "edge", {"start_dim": 0}, lambda dt: Inputs((np.array(2.5, dt),))),),
    invalid=(Invalid("start-after-end", {"start_dim": 2, "end_dim": 1}, lambda dt: Inputs((np.zeros((2, 3, 4), dt),))),
             Invalid("dim-out-of-range", {"start_dim": 5}, lambda dt: Inputs((np.zeros((2, 3), dt),)))),
    bench=lambda dt: ({}, Inputs((_normal((64, 32, 32, 16), dt),))),
)


# -- Statistics of a twin's own draws (dropout.py, pooling.py) ---------------------

def hoeffding_margin(n: int, alpha: float, width: float = 1.0) -> float:
    """t with P(|mean of n independent [a, a + width] variables - its expectation| >= t)
    <= 2 exp(-2 n t^2 / width^2) = alpha (Hoeffding)."""
    return width * math.sqrt(math.log(2 / alpha) / (2 * n))


# -- Sequential ---------------------------------------------------------------------

def _sequential_layers():
    """Linear(a, b) -> activation -> [Dropout(p)] -> [BatchNorm1d(b, eps=0.1)] -> Linear(b, c).

    This entry tests composition: call order, nested state_dict keys ('3.running_mean'),
    parameter routing, train/eval propagation, and noise parity inside a composite
    module: torch's dropout mask, drawn in submodule '2', is injected into the twin's
    submodule '2' (nnparity.noise). Its BatchNorm uses eps=0.1 because with
    eps=1e-5 a constant channel (e.g. ReLU of all-negative inputs) has invstd ~ 316, and
    the upstream Linear's gradient, exactly 0, is then a cancellation of O(316)-sized
    float32 terms: rounding noise, not a property of Sequential. BatchNorm1d's own entry
    tests eps=1e-5 at full tolerance."""
    sizes = st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5))
    dropout = st.one_of(st.none(), st.sampled_from([0.5, 0.25]))
    return st.tuples(sizes, st.sampled_from(["ReLU", "Tanh", "Sigmoid"]), dropout, st.booleans()).map(
        lambda t: {"layers": (("Linear", {"in_features": t[0][0], "out_features": t[0][1]}), (t[1], {}))
                   + ((("Dropout", {"p": t[2]}),) if t[2] is not None else ())
                   + ((("BatchNorm1d", {"num_features": t[0][1], "eps": 0.1}),) if t[3] else ())
                   + (("Linear", {"in_features": t[0][1], "out_features": t[0][2]}),)})


_FACTORY_CLASSES = {"Linear", "BatchNorm1d"}


def build_sequential(nn, kw, factory, side):
    return nn.Sequential(*[getattr(nn, name)(**k, **(factory if name in _FACTORY_CLASSES else {})) for name, k in kw["layers"]])


def sequential_inputs(kw, dt, layout):
    n_in = kw["layers"][0][1]["in_features"]
    return st.integers(2, 4).flatmap(lambda n: float_arrays((n, n_in), dt, -3, 3)).map(lambda x: Inputs((x,)))


SEQUENTIAL = Entry(
    name="Sequential", kwargs=_sequential_layers(), build_fn=build_sequential, inputs=sequential_inputs,
    train_eval_differs=True, stateful=True, random=True,
    examples=(Example("empty-sequential", "edge", {"layers": ()}, lambda dt: Inputs((_normal((3, 2), dt),))),
              Example("linear-dropout-linear", "edge",
                      {"layers": (("Linear", {"in_features": 4, "out_features": 6}), ("Dropout", {"p": 0.5}),
                                  ("Linear", {"in_features": 6, "out_features": 3}))},
                      lambda dt: Inputs((_normal((5, 4), dt),)))),
    bench=lambda dt: ({"layers": (("Linear", {"in_features": 256, "out_features": 256}), ("ReLU", {}),
                                  ("Linear", {"in_features": 256, "out_features": 10}))},
                      Inputs((_normal((256, 256), dt),))),
)

ENTRIES = [IDENTITY, LINEAR, FLATTEN, SEQUENTIAL]  # BatchNorm1d: norm.py; Dropout: dropout.py
