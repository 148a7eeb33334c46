"""Hypothesis strategies shared by catalog entries.

Arrays are drawn element by element (hypothesis.extra.numpy), small enough that
shrinking gives a readable minimal example.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nnparity.catalog import Inputs

__all__ = ["float_arrays", "batch_dims", "float_input", "class_targets", "reductions", "Inputs"]


def float_arrays(shape, dtype, lo: float = -10.0, hi: float = 10.0, *, elements=None):
    """Finite floats in [lo, hi] of exactly ``dtype``."""
    dt = np.dtype(dtype)
    width = 32 if dt == np.float32 else 64
    elements = elements or st.floats(lo, hi, width=width, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    return hnp.arrays(dt, shape, elements=elements)


def batch_dims(layout: str, max_batch: int = 4) -> st.SearchStrategy:
    """Leading batch shape for a layout: (N,) with N >= 1, () or (0,)."""
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
    return hnp.arrays(np.int64, shape, elements=st.integers(0, max(n_classes - 1, 0)))


reductions = st.sampled_from(["none", "mean", "sum"])
