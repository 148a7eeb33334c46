"""Argument and input validation shared by the twins.

Twins validate before they compute, and raise the same builtin exception type
torch raises (``ValueError`` for bad module arguments, ``RuntimeError`` for shape
or dtype mismatches in forward, ``IndexError`` for a bad ``dim``), with a message
that names the module and the offending value. Nothing is mutated before the
checks pass.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check", "check_float_input", "normalize_dim"]


def check(condition, exc_type: type[Exception], message: str) -> None:
    """Raise ``exc_type(message)`` unless ``condition`` holds."""
    if not condition:
        raise exc_type(message)


def check_float_input(x, who: str, name: str = "input") -> None:
    """torch rejects integer inputs to float modules with a RuntimeError."""
    check(
        np.issubdtype(x.dtype, np.floating),
        RuntimeError,
        f"{who}: expected a floating point {name}, got dtype {x.dtype}",
    )


def normalize_dim(dim: int, ndim: int, who: str) -> int:
    """Wrap a possibly negative ``dim`` as torch does (a 0-d tensor accepts -1 and 0)."""
    rank = max(ndim, 1)
    check(
        isinstance(dim, (int, np.integer)) and -rank <= dim < rank,
        IndexError,
        f"{who}: Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim})",
    )
    return int(dim) % rank
