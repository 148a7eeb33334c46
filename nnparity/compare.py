"""Tolerance policy and array comparison.

Defaults are ``torch.testing.assert_close``'s: an element passes when
``|twin - torch| <= atol + rtol * |torch|``. NaN must sit where torch has NaN and
infinities must match exactly; with ``zero_sign`` the sign of exact zeros must
match too (special-value checks). Integer and boolean arrays must be equal.

Overrides live in catalog entries, always with a written reason, under keys that
name a check kind, a dtype and a device (any of them, joined by ':'; validated when
the entry is made). On CUDA the default is a stated policy (TF32 off in
``reference``; a tolerance for CUDA's different reduction orders). Every comparison
records the observed error and the *headroom*: the largest ``error / allowed`` over
the elements (<= 1 passes), so tolerances can be tightened later, and the names of
the two sides it compared (``subject`` vs ``reference``: twin vs torch, twin vs
finite differences, torch CUDA vs torch CPU).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .vocab import CHECK_KINDS, DEVICES, DTYPES

__all__ = ["Tolerance", "DEFAULT_TOLERANCES", "CUDA_TOLERANCES", "default_tolerance", "parse_tolerance_key",
           "resolve_tolerance", "Comparison", "compare"]


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

#: The twin (or torch-CPU) against torch on CUDA. TF32 is switched off (reference/),
#: so the only expected difference is the order of reductions: a sum of n terms in
#: another order differs by about sqrt(n) eps |sum| (random-walk rounding), at most
#: n eps. With eps(float32) = 1.2e-7, rtol 1e-5 covers sqrt(n) up to ~80 (n ~ 6400
#: terms per reduction, more than any catalog shape) with no margin lost on the
#: absolute floor; float64 keeps the CPU default (eps 2.2e-16: 1e-7 covers any n).
CUDA_TOLERANCES = {
    "float32": Tolerance(1e-5, 1e-5, "CUDA policy: TF32 off; reduction order differs (sqrt(n) eps, n <= 6400)"),
    "float64": Tolerance(1e-7, 1e-7, "CUDA policy: TF32 off; torch.testing.assert_close float64 default"),
}


def default_tolerance(dtype: str, device: str = "cpu") -> Tolerance:
    table = CUDA_TOLERANCES if device == "cuda" else DEFAULT_TOLERANCES
    return table[str(np.dtype(dtype))]


def parse_tolerance_key(key: str) -> dict:
    """'gradients:float32:cuda' -> {'check': 'gradients', 'dtype': 'float32', 'device': 'cuda'}.
    Each part is a check kind, a dtype or a device, each at most once; anything else
    is an error (an unknown key would otherwise fall back to the default in silence)."""
    parts = {}
    for part in key.split(":"):
        kind = ("check" if part in CHECK_KINDS else "dtype" if part in DTYPES else "device" if part in DEVICES else None)
        if kind is None:
            raise ValueError(f"tolerance key {key!r}: {part!r} is not a check kind ({', '.join(CHECK_KINDS)}), "
                             f"a dtype ({', '.join(DTYPES)}) or a device ({', '.join(DEVICES)})")
        if kind in parts:
            raise ValueError(f"tolerance key {key!r} names two {kind}s")
        parts[kind] = part
    return parts


def resolve_tolerance(overrides, check: str, dtype: str, device: str = "cpu") -> Tolerance:
    """The most specific override matching (check, dtype, device), else the default:
    more named parts win; among equals, check before dtype before device."""
    best, best_rank = None, None
    for key, tol in overrides.items():
        parts = parse_tolerance_key(key)
        wanted = {"check": check, "dtype": dtype, "device": device}
        if any(wanted[k] != v for k, v in parts.items()):
            continue
        rank = (len(parts), "check" in parts, "dtype" in parts, "device" in parts)
        if best_rank is None or rank > best_rank:
            best, best_rank = tol, rank
    return best or default_tolerance(dtype, device)


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
    subject_value: float | None = None
    reference_value: float | None = None
    oracle_value: float | None = None
    blame: str | None = None  # which side the float64 oracle says is further off
    extra: dict = field(default_factory=dict)
    subject: str = "twin"  # what was judged ...
    reference: str = "torch"  # ... against what: 'torch', 'finite differences', 'torch CPU'

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


def compare(what: str, twin, ref, tol: Tolerance, *, zero_sign: bool = False, check_dtype: bool = True,
            subject: str = "twin", reference: str = "torch") -> Comparison:
    """Judge ``twin`` (the subject) against ``ref`` (the reference, torch unless named)."""
    out = _compare(what, twin, ref, tol, zero_sign, check_dtype, reference)
    out.subject, out.reference = subject, reference
    return out


def _compare(what, twin, ref, tol, zero_sign, check_dtype, reference) -> Comparison:
    if twin is None and ref is None:
        return Comparison(what, True, tol)
    if twin is None or ref is None:
        return Comparison(what, False, tol, problem="the subject gave no value" if twin is None else f"{reference} gave no value")
    a, e = np.asarray(twin), np.asarray(ref)
    if a.shape != e.shape:
        return Comparison(what, False, tol, problem=f"shape {a.shape} != {reference}'s {e.shape}")
    if check_dtype and a.dtype != e.dtype:
        return Comparison(what, False, tol, problem=f"dtype {a.dtype} != {reference}'s {e.dtype}")
    if a.size == 0:
        return Comparison(what, True, tol)
    if not (np.issubdtype(e.dtype, np.floating) or np.issubdtype(e.dtype, np.complexfloating)):
        diff = np.flatnonzero(a.astype(e.dtype) != e)
        if diff.size:
            i = _fmt_index(diff[0], e.shape)
            return Comparison(what, False, tol, problem=f"values differ ({diff.size} element(s))", worst_index=i,
                              subject_value=float(a[i]), reference_value=float(e[i]), max_abs=float(np.max(np.abs(a.astype(np.float64) - e))))
        return Comparison(what, True, tol)

    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    nan_a, nan_e = np.isnan(a64), np.isnan(e64)
    bad = np.flatnonzero(nan_a != nan_e)
    if bad.size:
        i = _fmt_index(bad[0], e.shape)
        return Comparison(what, False, tol, problem=f"NaN pattern differs ({bad.size} element(s))", worst_index=i,
                          subject_value=float(a64[i]), reference_value=float(e64[i]))
    inf_any = (np.isinf(a64) | np.isinf(e64)) & ~nan_e
    bad = np.flatnonzero(inf_any & (a64 != e64))
    if bad.size:
        i = _fmt_index(bad[0], e.shape)
        return Comparison(what, False, tol, problem=f"infinity differs ({bad.size} element(s))", worst_index=i,
                          subject_value=float(a64[i]), reference_value=float(e64[i]))
    if zero_sign:
        zeros = (a64 == 0) & (e64 == 0)
        bad = np.flatnonzero(zeros & (np.signbit(a64) != np.signbit(e64)))
        if bad.size:
            i = _fmt_index(bad[0], e.shape)
            return Comparison(what, False, tol, problem=f"sign of zero differs ({bad.size} element(s))", worst_index=i,
                              subject_value=float(a64[i]), reference_value=float(e64[i]))
    finite = np.isfinite(a64) & np.isfinite(e64)
    with np.errstate(invalid="ignore", over="ignore"):
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
        subject_value=float(a64[i]), reference_value=float(e64[i]),
    )
