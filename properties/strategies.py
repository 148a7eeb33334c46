"""Hypothesis strategies and fixed-example helpers shared by catalog entries.

Arrays are drawn element by element (hypothesis.extra.numpy), small enough that
shrinking gives a readable minimal example. Fixed examples use seeded NumPy
arrays (:func:`normal_array`), so they are the same on every run.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nnparity.catalog import Example, Inputs, Invalid

__all__ = ["float_arrays", "batch_dims", "float_input", "class_targets", "reductions", "REDUCTIONS",
           "reduction_kwargs", "every_reduction", "bad_reduction", "target_dtype_examples", "normal_array", "Inputs"]

#: torch's loss reductions (KLDivLoss adds 'batchmean').
REDUCTIONS = ("none", "mean", "sum")


def float_arrays(shape, dtype, lo: float = -10.0, hi: float = 10.0, *, elements=None):
    """Finite floats in [lo, hi] of exactly ``dtype``."""
    dt = np.dtype(dtype)
    width = 32 if dt == np.float32 else 64
    elements = elements if elements is not None else st.floats(lo, hi, width=width, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    return hnp.arrays(dt, shape, elements=elements)


def batch_dims(layout: str, max_batch: int = 4) -> st.SearchStrategy:
    """Leading batch shape for a layout: (N,) with 1 <= N <= max_batch ('batched'),
    () ('unbatched') or (0,) ('empty')."""
    if layout == "unbatched":
        return st.just(())
    if layout == "empty":
        return st.just((0,))
    return st.integers(1, max_batch).map(lambda n: (n,))


def float_input(dtype, min_dims: int = 1, max_dims: int = 4, max_side: int = 5, lo: float = -10.0, hi: float = 10.0):
    """Inputs with one float array of any shape (elementwise modules)."""
    shapes = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)
    return shapes.flatmap(lambda s: float_arrays(s, dtype, lo, hi)).map(lambda x: Inputs((x,)))


def class_targets(shape, n_classes: int):
    """int64 class indices in [0, n_classes)."""
    return hnp.arrays(np.int64, shape, elements=st.integers(0, max(n_classes - 1, 0)))


def normal_array(shape, dtype, seed: int = 0, *, scale: float = 1.0) -> np.ndarray:
    """Standard-normal values (times ``scale``) from ``np.random.default_rng(seed)``,
    rounded once to ``dtype``: the data of fixed examples and benchmark shapes."""
    return np.asarray(np.random.default_rng(seed).standard_normal(shape) * scale, dtype)


reductions = st.sampled_from(REDUCTIONS)


def reduction_kwargs(**optional):
    """Loss kwargs that sometimes leave ``reduction`` (and each option) out, so the
    defaults are tested."""
    return st.fixed_dictionaries({}, optional={"reduction": reductions, **optional})


def _label(kwargs) -> str:
    return ",".join(k if isinstance(v, np.ndarray) else f"{k}={v}" for k, v in kwargs.items())


def every_reduction(make_inputs, kwargs=None, *, label: str | None = None, values=REDUCTIONS) -> tuple:
    """One 'edge' Example per reduction in ``values``, built with ``kwargs``.

    Ids: ``reduction=<r>`` then ``,<label>``; the label defaults to the kwargs as
    ``k=v`` (an array kwarg by its name only)."""
    kwargs = dict(kwargs or {})
    label = _label(kwargs) if label is None else label
    suffix = f",{label}" if label else ""
    return tuple(Example(f"reduction={r}{suffix}", "edge", {**kwargs, "reduction": r}, make_inputs) for r in values)


def bad_reduction(make_inputs) -> Invalid:
    """torch rejects an unknown reduction (ValueError) when the loss is called."""
    return Invalid("bad-reduction", {"reduction": "avg"}, make_inputs)


def _with_target(make_inputs, position: int, convert):
    def make(dt):
        inputs = make_inputs(dt)
        args = list(inputs.args)
        args[position] = convert(args[position], np.dtype(dt))
        return Inputs(tuple(args), inputs.kwargs)

    return make


def target_dtype_examples(make_inputs, kwargs=None, *, position: int = 1, integer: bool = True,
                          other_float: bool = True) -> tuple:
    """'edge' Examples for torch's type promotion of a loss's target.

    'int64-target': the target rounded to int64 (torch computes an integer target in
    the input's float dtype, and the loss has the input's dtype; NumPy alone would
    promote int64 with float32 to float64). 'target-other-float-width': the target in
    the other float dtype (float64 next to a float32 input, float32 next to a float64
    one); torch promotes, so the loss is float64 either way unless the loss says
    otherwise. ``position``: the target's index in the forward arguments."""
    kwargs = dict(kwargs or {})
    out = []
    if integer:
        out.append(Example("int64-target", "edge", kwargs,
                           _with_target(make_inputs, position, lambda t, dt: np.rint(t).astype(np.int64))))
    if other_float:
        def other(t, dt):
            return t.astype(np.float64 if dt == np.float32 else np.float32)

        out.append(Example("target-other-float-width", "edge", kwargs, _with_target(make_inputs, position, other)))
    return tuple(out)
