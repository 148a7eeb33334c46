"""Synthetic data shaped like the study notes' (nothing is downloaded): 28x28 or
32x32 "digits" (ten smooth class templates plus pixel noise, values in [0, 1]),
short token sequences with their tags, and a noisy line."""

from __future__ import annotations

import numpy as np


def _templates(rng, side: int) -> np.ndarray:
    """Ten smooth images: a sum of three Gaussian blobs each."""
    yy, xx = np.mgrid[0:side, 0:side] / side
    out = np.zeros((10, side, side))
    for c in range(10):
        for cy, cx in rng.uniform(0.2, 0.8, (3, 2)):
            out[c] += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 0.02)
    return out / out.max(axis=(1, 2), keepdims=True)


def digit_batches(batch: int, side: int = 28, flat: bool = True, count: int = 20):
    """``count`` batches (images, labels): images (batch, side*side) when ``flat``,
    else (batch, 1, side, side); labels int64 in [0, 10)."""
    def make(rng, dtype):
        templates = _templates(rng, side)
        out = []
        for _ in range(count):
            y = rng.integers(0, 10, batch)
            x = np.clip(templates[y] + 0.3 * rng.standard_normal((batch, side, side)), 0, 1).astype(dtype)
            out.append((x.reshape(batch, -1) if flat else x[:, None], y.astype(np.int64)))
        return out

    return make


def token_batches(vocab: int, tags: int, length: int = 5, count: int = 20):
    """``count`` sentences (token ids (length,), tag ids (length,)); a token's tag is
    fixed (token mod tags), as words have parts of speech."""
    def make(rng, dtype):
        out = []
        for _ in range(count):
            s = rng.integers(0, vocab, length)
            out.append((s.astype(np.int64), (s % tags).astype(np.int64)))
        return out

    return make


def sequence_batches(batch: int, steps: int, features: int, classes: int, count: int = 20):
    """Digit-like sequences (rows of a 28x28 image as 28 time steps) for many-to-one
    classification: (batch, steps, features) and labels."""
    def make(rng, dtype):
        return [(x.reshape(batch, steps, features), y) for x, y in
                digit_batches(batch, side=steps, count=count)(rng, dtype)] if steps == features else None

    return make


def regression_batches(batch: int, n_in: int, n_out: int, count: int = 20):
    """(x, y) with y = x A + b + noise (A, b fixed per run)."""
    def make(rng, dtype):
        a, b = rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out)
        out = []
        for _ in range(count):
            x = rng.uniform(-1, 1, (batch, n_in))
            out.append((x.astype(dtype), (x @ a + b + 0.05 * rng.standard_normal((batch, n_out))).astype(dtype)))
        return out

    return make
