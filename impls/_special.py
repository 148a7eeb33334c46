"""Special functions NumPy lacks: ``erf`` and ``erfc`` (SciPy is not a dependency).

The evaluation follows W. J. Cody, "Rational Chebyshev approximations for the
error function", Math. Comp. 23 (1969) 631-638, as in his later portable
CALERF routine (Argonne, 1990): three intervals of |x|, each with a
near-minimax rational function good to about 18 significant digits, so the
result is limited only by float64 rounding.

* ``|x| <= 0.46875``: ``erf(x) = x * P(x^2) / Q(x^2)``.
* ``0.46875 < |x| <= 4``: ``erfc(|x|) = exp(-x^2) * R(|x|) / S(|x|)``.
* ``|x| > 4``: ``erfc(|x|) = exp(-x^2) / |x| * (1/sqrt(pi) - z P(z) / Q(z))`` with ``z = 1/x^2``.

``exp(-x^2)`` is evaluated as ``exp(-t^2) * exp(-(x - t)(x + t))`` with ``t = x``
truncated to a multiple of 1/16, so that the rounding error of ``x*x`` (which
``exp`` would amplify by ``x^2``, up to ~700) is not incurred: ``t*t`` is exact.

Both functions are vectorised over arrays of any shape, compute in float64 and
return the input's float dtype (a float32 input is rounded once at the end).
Special values: ``erf(NaN) = NaN``, ``erf(+-inf) = +-1``, ``erf(-0.0) = -0.0``;
``erfc(NaN) = NaN``, ``erfc(+inf) = 0``, ``erfc(-inf) = 2``. Accuracy against
Python's ``math.erf``/``math.erfc`` is asserted in tests/test_erf.py.
"""

from __future__ import annotations

import numpy as np

__all__ = ["erf", "erfc"]

# Cody (1969), first interval: erf(x) ~ x * (A0 + A1 y + A2 y^2 + A3 y^3 + A4 y^4) / (B0 + ... + y^4), y = x^2.
# Stored highest power first for Horner's rule.
_A = (1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02,
      3.77485237685302021e02, 3.20937758913846947e03)
_B = (1.0, 2.36012909523441209e01, 2.44024637934444173e02,
      1.28261652607737228e03, 2.84423683343917062e03)
# Second interval: erfc(x) ~ exp(-x^2) * C(x) / D(x) (degree 8 over degree 8).
_C = (2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00,
      6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
      1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03)
_D = (1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
# Third interval: erfc(x) ~ exp(-x^2)/x * (1/sqrt(pi) + z * P(z)/Q(z)), z = 1/x^2.
_P = (1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
      1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4)
_Q = (1.0, 2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)
_RSQRTPI = 0.56418958354775628695  # 1/sqrt(pi)

_THRESH = 0.46875


def _horner(coeffs, y):
    out = np.full_like(y, coeffs[0])
    for c in coeffs[1:]:
        out *= y
        out += c
    return out


def _exp_minus_square(y):
    """exp(-y*y) for y >= 0 without the x*x rounding error (Cody's splitting)."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        t = np.trunc(y * 16.0)
        t *= 0.0625  # y truncated to a multiple of 1/16: t * t is exact
        e = np.exp(-t * t)
        t = (y - t) * (y + t)
        np.negative(t, out=t)
        e *= np.exp(t, out=t)
        return e


def _select(mask, a, b):
    """np.where(mask, a, b) for float64 arrays of one shape, as a bitwise select on the
    int64 view (NumPy's where on an unpredictable mask is several times slower)."""
    m = mask.astype(np.int64)
    np.negative(m, out=m)
    out = np.bitwise_and(a.view(np.int64), m)
    np.invert(m, out=m)
    m &= b.view(np.int64)
    out |= m
    return out.view(np.float64)


def _erfc_abs(y):
    """erfc(y) for y >= 0.46875 (and NaN): the second interval evaluated on the whole
    array (clipped into it; cheaper than gathering), the third only where y > 4."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        ym = np.clip(y, _THRESH, 4.0)
        out = _exp_minus_square(ym)
        out *= _horner(_C, ym) / _horner(_D, ym)
        far = y > 4.0
        if far.any():
            yf = np.minimum(y[far], 40.0)  # erfc(x) == 0 in float64 for x > 27.3
            z = 1.0 / (yf * yf)
            r = z * _horner(_P, z) / _horner(_Q, z)
            out[far] = _exp_minus_square(yf) * ((_RSQRTPI - r) / yf)  # underflows gradually past ~26.5
    return out


def _prepare(x):
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)
    return np.ascontiguousarray(x, dtype=np.float64).reshape(x.shape), dtype


def _erf_small(x):
    """x * P(x^2) / Q(x^2), valid for |x| <= 0.46875 (x is clipped into that range)."""
    xs = np.clip(x, -_THRESH, _THRESH)
    ys = xs * xs
    return xs * (_horner(_A, ys) / _horner(_B, ys))  # keeps -0.0


def erf(x):
    """The error function, 2/sqrt(pi) * integral_0^x exp(-t^2) dt, elementwise."""
    x, dtype = _prepare(x)
    x1 = x.reshape(-1)
    y = np.abs(x1)
    with np.errstate(invalid="ignore"):
        large = np.copysign((0.5 - _erfc_abs(y)) + 0.5, x1)
        out = _select(y <= _THRESH, _erf_small(x1), large)  # NaN: not small, and NaN in `large`
    return out.reshape(x.shape).astype(dtype, copy=False)


def erfc(x):
    """The complementary error function, 1 - erf(x), without cancellation for large x."""
    x, dtype = _prepare(x)
    x1 = x.reshape(-1)
    y = np.abs(x1)
    with np.errstate(invalid="ignore"):
        v = _erfc_abs(y)
        large = _select(x1 < 0, 2.0 - v, v)
        out = _select(y <= _THRESH, 1.0 - _erf_small(x1), large)
    return out.reshape(x.shape).astype(dtype, copy=False)
