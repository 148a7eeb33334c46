"""The bit-level building blocks of impls.functional.activation.

The activations select and clamp without np.where (branchy on unpredictable masks,
~20x slower): ``_pick`` and ``_keep`` work on the integer view, ``_clamp`` relies on
NumPy's ``clip`` computing torch's clamp exactly (``x < lo ? lo : (x > hi ? hi : x)``,
NaN passing through), which decides the sign of zero results (ReLU(-0.0) = -0.0).
These tests pin those assumptions for the installed NumPy, on every length up to two
SIMD blocks plus a tail and at every alignment, so that a NumPy change that breaks
them turns the suite red here rather than as a rare special-value discrepancy.
"""

from __future__ import annotations

import numpy as np
import pytest

from impls.functional.activation import _clamp, _keep, _neg_abs, _pick

DTYPES = (np.float32, np.float64)
SPECIALS = (np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 5e-324, -5e-324)


def _arrays(dtype):
    """Arrays of every length 1..70 and 1001, three alignments, specials at every position mod 10."""
    rng = np.random.default_rng(7)
    for n in list(range(1, 71)) + [1001]:
        for offset in (0, 1, 3):
            base = (rng.standard_normal(n + offset) * 4).astype(dtype)
            x = base[offset:]
            x[:: max(1, n // 7)] = 0.0
            for i in range(n):
                if i % 3 == 0:
                    x[i] = dtype(SPECIALS[(i // 3) % len(SPECIALS)])
            yield x


def _same_bits(a, b):
    it = np.int32 if a.dtype == np.float32 else np.int64
    return np.array_equal(a.view(it), b.view(it))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lo, hi", [(0.0, np.inf), (0.0, 6.0), (-np.inf, 0.0), (-1.0, 1.0), (-3.0, 3.0), (-0.0, 2.0)])
def test_clamp_is_torch_clamp(dtype, lo, hi):
    for x in _arrays(dtype):
        got = _clamp(x, lo, hi)
        l, h = dtype(lo), dtype(hi)
        with np.errstate(invalid="ignore"):
            want = np.array([v if np.isnan(v) else (l if v < l else (h if v > h else v)) for v in x], dtype)
        assert np.array_equal(np.isnan(got), np.isnan(want)), (dtype, lo, hi, x)
        ok = ~np.isnan(want)
        bad = ok & (np.signbit(got) != np.signbit(want)) | ok & (got != want)
        assert _same_bits(got[ok], want[ok]), f"clip({x[bad]!r}, {lo}, {hi}) = {got[bad]!r}, torch's clamp gives {want[bad]!r}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_pick_and_keep_are_exact(dtype):
    rng = np.random.default_rng(3)
    for x in _arrays(dtype):
        y = np.roll(x, 1)
        mask = rng.random(x.shape) < 0.5
        assert _same_bits(_pick(mask, x, y, dtype), np.where(mask, x, y))
        assert _same_bits(_pick(mask, x, 2.5, dtype), np.where(mask, x, dtype(2.5)))
        assert _same_bits(_pick(mask, -0.0, np.inf, dtype), np.where(mask, dtype(-0.0), dtype(np.inf)))
        inplace = x.copy()
        assert _same_bits(_pick(mask, inplace, y, dtype, out=inplace), np.where(mask, x, y))
        assert _same_bits(_keep(x, mask), np.where(mask, x, dtype(0.0)))
        assert _same_bits(_neg_abs(x)[~np.isnan(x)], -np.abs(x)[~np.isnan(x)])
        assert np.array_equal(np.isnan(_neg_abs(x)), np.isnan(x))
