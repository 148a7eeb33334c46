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

__all__ = ["erf", "erfc", "erf32", "erfc32", "erfc32_scaled"]

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


# -- float32-grade erfc and erf (the float32 GELU) -----------------------------------
#
# erfc(y) = exp(-y^2) R(y) for y >= 0, where R(y) = erfc(y) exp(y^2) decreases
# smoothly from 1 to ~1/(y sqrt(pi)). R is a polynomial of degree 8 in
# t = 1 / (1 + p y) (the form of Numerical Recipes' erfcc), with coefficients fitted
# by reweighted least squares to its relative error: at most 5.3e-8 (0.45 ulp of
# float32) over y in [0, 10.1], beyond which erfc underflows float32. Evaluated in
# float32 throughout (about 20 passes over the array, no float64 temporaries), so it
# costs a few times a float32 exp. Accuracy (tests/test_erf.py, against math.erfc /
# math.erf for float32 arguments): see erfc32 and erf32.

_ERFC32_P = 0.3208333333333333
_ERFC32_R = (-0.17384722878173775, 0.6861662910678145, -0.740850024769705, 0.7809479199522488,
             -0.17082374982111465, 0.2745498015618274, 0.1606804557703428, 0.18328668757871194,
             -0.00011010015094814474)  # highest power of t first


def erfc32_scaled(a: np.ndarray, scale: float = 1.0, factor: float = 1.0):
    """``factor * erfc(scale * a)`` and ``exp(-(scale * a)^2)`` for a float32 array
    ``a >= 0`` (NaN and inf allowed), which is overwritten (it holds t).

    ``scale**2`` must be a power of 2 and ``factor`` one too (1 and sqrt(1/2), 1 and
    1/2 for GELU), so that they scale exactly. The square (scale a)^2 is rounded
    once to float32 before exp, which is where the error grows with y = scale a (see
    erfc32). At a = inf: (factor * 0 * R(0), 0); at NaN: NaN."""
    f32 = np.float32
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        e = np.multiply(a, a)
        e *= f32(-(scale * scale))
        np.exp(e, out=e)
        q = f32(1 / (_ERFC32_P * scale))  # t = 1 / (1 + p a) = q / (q + a), in two passes
        a += q
        np.divide(q, a, out=a)
        h = np.multiply(a, f32(factor * _ERFC32_R[0]))
        h += f32(factor * _ERFC32_R[1])
        for c in _ERFC32_R[2:]:
            h *= a
            h += f32(factor * c)
        h *= e
    return h, e


def erfc32(x):
    """erfc for float32 (computed in float32): erfc32_scaled on |x|, and
    erfc(x) = 2 - erfc(-x) for x < 0. Relative error at most 8 + y^2 ulp for
    y = |x| (8 ulp near 0, where the alternating terms of R round; the y^2 is
    exp amplifying the rounding of y*y), asserted in tests/test_erf.py wherever the
    result is a normal float32; subnormal results are within 40 subnormal spacings."""
    x = np.asarray(x, dtype=np.float32)
    a = np.abs(x).reshape(-1)
    h, _ = erfc32_scaled(a)
    h = h.reshape(x.shape) + np.float32(0)  # R's constant term is -1e-4: +0.0, not -0.0, at +inf
    return np.where(x < 0, np.float32(2) - h, h)


#: erf(x) / x = (2 / sqrt(pi)) (1 - u/3 + u^2/10 - u^3/42 + u^4/216 - u^5/1320), u = x^2:
#: the Maclaurin series, truncated where its next term is below 3e-8 relative for |x| < 0.5.
_ERF32_SMALL = tuple(2.0 / np.sqrt(np.pi) * c for c in (-1 / 1320, 1 / 216, -1 / 42, 1 / 10, -1 / 3, 1.0))


def erf32(x):
    """erf for float32 (computed in float32): the Maclaurin series for |x| < 0.5, and
    sign(x) (1 - erfc32(|x|)) beyond, where the error of erfc32's tail vanishes against
    1. At most 4 ulp (tests/test_erf.py); erf32(+-0.0) = +-0.0, erf32(+-inf) = +-1."""
    f32 = np.float32
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        u = x * x
        small = np.full_like(u, f32(_ERF32_SMALL[0]))
        for c in _ERF32_SMALL[1:]:
            small *= u
            small += f32(c)
        small *= x
    h, _ = erfc32_scaled(np.abs(x).reshape(-1))
    large = np.copysign(f32(1) - h.reshape(x.shape), x)
    return np.where(np.abs(x) < f32(0.5), small, large)
