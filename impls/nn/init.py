"""Parameter initialisation with a NumPy Generator.

Twins initialise like torch (same distributions, not the same numbers). The
harness never relies on these values: it loads its own state into both sides.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["generator", "manual_seed", "uniform", "zeros", "ones"]

generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the generator that initialises parameters and drives random twins by default."""
    global generator
    generator = np.random.default_rng(seed)


def uniform(shape, bound: float, dtype) -> np.ndarray:
    return generator.uniform(-bound, bound, size=shape).astype(dtype)


def fan_in_bound(fan_in: int) -> float:
    """torch's kaiming_uniform_(a=sqrt(5)) bound for Linear/Conv weights and biases."""
    return 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0


def zeros(shape, dtype) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def ones(shape, dtype) -> np.ndarray:
    return np.ones(shape, dtype=dtype)
