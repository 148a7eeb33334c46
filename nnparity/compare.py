"""Tolerance policy and array comparison.

Defaults are ``torch.testing.assert_close``'s: an element passes when
``|twin - torch| <= atol + rtol * |torch|``. NaN must sit where torch has NaN and
infinities must match exactly; with ``zero_sign`` the sign of exact zeros must
match too (special-value checks). Integer and boolean arrays must be equal.

Overrides live in catalog entries, always with a written reason. Every
comparison records the observed error and the *headroom*: the largest
``error / allowed`` over the elements (<= 1 passes), so tolerances can be
tightened later.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

__all__ = ["Tolerance", "DEFAULT_TOLERANCES", "default_tolerance", "Comparison", "compare"]


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float
    reason: str = "torch.testing.assert_close default"

    def __post_init__(self):
        if not self.reason:
            raise ValueError("a tolerance override needs a written reason")


DEFAULT_TOLERANCES = {
    "float32": Tolerance(1.3e-6, 1e-5),
    "float64": Tolerance(1e-7, 1e-7),
}


def default_tolerance(dtype: str) -> Tolerance:
    return DEFAULT_TOLERANCES[str(np.dtype(dtype))]


@dataclass
class Comparison:
    """The verdict on one array (an output, a gradient, a buffer)."""

    what: str
    ok: bool
    tol: Tolerance
    problem: str | None = None  # a structural mismatch: shape, dtype, NaN/inf pattern, zero sign
    max_abs: float = 0.0
    max_rel: float = 0.0
    headroom: float = 0.0  # max(|err| / allowed); <= 1 passes
    worst_index: tuple | None = None
    twin_value: float | None = None
    torch_value: float | None = None
    oracle_value: float | None = None
    blame: str | None = None  # which side the float64 oracle says is further off
    extra: dict = field(default_factory=dict)

    def with_oracle(self, oracle: np.ndarray | None, twin: np.ndarray, ref: np.ndarray) -> "Comparison":
        """Fill ``oracle_value`` and ``blame`` at the worst index from a float64 oracle."""
        if oracle is None or self.worst_index is None or np.shape(oracle) != np.shape(ref):
            return self
        idx = self.worst_index
        o = float(np.asarray(oracle, dtype=np.float64)[idx])
        t, r = float(np.asarray(twin)[idx]), float(np.asarray(ref)[idx])
        dt, dr = abs(t - o), abs(r - o)
        if np.isnan(o):
            blame = "oracle is NaN here"
        elif dt == dr or (np.isnan(dt) and np.isnan(dr)):
            blame = "both equally far from the float64 oracle"
        elif np.isnan(dt) or dt > dr:
            blame = "twin is further from the float64 oracle"
        else:
            blame = "torch is further from the float64 oracle (the twin is more accurate)"
        return replace(self, oracle_value=o, blame=blame)


def _fmt_index(flat: int, shape) -> tuple:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def compare(what: str, twin, ref, tol: Tolerance, *, zero_sign: bool = False, check_dtype: bool = True) -> Comparison:
    """Judge ``twin`` against ``ref`` (torch)."""
    if twin is None and ref is None:
        return Comparison(what, True, tol)
    if twin is None or ref is None:
        missing = "twin" if twin is None else "torch"
        return Comparison(what, False, tol, problem=f"{missing} gave no value")
    a, e = np.asarray(twin), np.asarray(ref)
    if a.shape != e.shape:
        return Comparison(what, False, tol, problem=f"shape {a.shape} != torch's {e.shape}")
    if check_dtype and a.dtype != e.dtype:
        return Comparison(what, False, tol, problem=f"dtype {a.dtype} != torch's {e.dtype}")
    if a.size == 0:
        return Comparison(what, True, tol)
    if not (np.issubdtype(e.dtype, np.floating) or np.issubdtype(e.dtype, np.complexfloating)):
        diff = np.flatnonzero(a.astype(e.dtype) != e)
        if diff.size:
            i = _fmt_index(diff[0], e.shape)
            return Comparison(what, False, tol, problem=f"values differ ({diff.size} element(s))", worst_index=i,
                              twin_value=float(a[i]), torch_value=float(e[i]), max_abs=float(np.max(np.abs(a.astype(np.float64) - e))))
        return Comparison(what, True, tol)

    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    nan_a, nan_e = np.isnan(a64), np.isnan(e64)
    bad = np.flatnonzero(nan_a != nan_e)
    if bad.size:
        i = _fmt_index(bad[0], e.shape)
        return Comparison(what, False, tol, problem=f"NaN pattern differs ({bad.size} element(s))", worst_index=i,
                          twin_value=float(a64[i]), torch_value=float(e64[i]))
    inf_any = (np.isinf(a64) | np.isinf(e64)) & ~nan_e
    bad = np.flatnonzero(inf_any & (a64 != e64))
    if bad.size:
        i = _fmt_index(bad[0], e.shape)
        return Comparison(what, False, tol, problem=f"infinity differs ({bad.size} element(s))", worst_index=i,
                          twin_value=float(a64[i]), torch_value=float(e64[i]))
    if zero_sign:
        zeros = (a64 == 0) & (e64 == 0)
        bad = np.flatnonzero(zeros & (np.signbit(a64) != np.signbit(e64)))
        if bad.size:
            i = _fmt_index(bad[0], e.shape)
            return Comparison(what, False, tol, problem=f"sign of zero differs ({bad.size} element(s))", worst_index=i,
                              twin_value=float(a64[i]), torch_value=float(e64[i]))
    finite = np.isfinite(a64) & np.isfinite(e64)
    err = np.where(finite, np.abs(a64 - e64), 0.0)
    allowed = tol.atol + tol.rtol * np.abs(np.where(finite, e64, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(err == 0, 0.0, err / allowed)
        rel = np.where(e64 != 0, err / np.abs(np.where(finite, e64, 1.0)), np.where(err == 0, 0.0, np.inf))
    flat = int(np.argmax(ratio))
    i = _fmt_index(flat, e.shape)
    headroom = float(ratio.reshape(-1)[flat])
    return Comparison(
        what, headroom <= 1.0, tol,
        max_abs=float(err.max()), max_rel=float(rel.max()), headroom=headroom, worst_index=i,
        twin_value=float(a64[i]), torch_value=float(e64[i]),
    )
