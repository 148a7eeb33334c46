"""Elementwise activations and softmax-like maps: forward and backward side by side.

Conventions follow torch 2.13's CPU kernels (aten/src/ATen/native/cpu/Activation.cpp,
SoftMaxKernel.cpp) and backward formulas (tools/autograd/derivatives.yaml):

* Every kink takes the subgradient torch's backward kernel computes, which is
  decided by a comparison on the *input* (``x <= 0``, ``x > threshold``, ...).
  A NaN input makes every comparison false; where the ATen kernel's scalar
  lambda then returns ``grad`` (ReLU, Hardtanh, Hardshrink, ELU, Hardswish ...),
  so does the twin.
* torch's vectorised (SIMD) CPU path disagrees with its own scalar path at NaN
  and at -0.0 for several ops (NaN grad of Hardshrink/Softshrink/Hardtanh/ReLU6
  is 0 vectorised, grad scalar; ELU/SELU/CELU/Hardswish NaN grad is NaN
  vectorised; Softshrink(-0.0) is +0.0 vectorised, -0.0 scalar; GELU(+inf) in
  float32 is NaN vectorised, inf scalar). Which path an element takes depends on
  the tensor's length and position (ATen vectorises in blocks of 2 * SIMD width
  and finishes the tail with the scalar lambda). The twin follows the scalar
  lambda, which is the documented per-element formula; the catalog's special
  values are therefore checked on arrays short enough to stay on the scalar path.
* Scalars (alpha, lambd, slopes, thresholds) are cast to the input's dtype before
  use, as torch converts them to ``scalar_t``; arithmetic stays in that dtype.
* Stable formulations (log1p, expm1, the two-sided sigmoid, log-sum-exp) are used
  where torch's naive one overflows; there the twin is closer to the float64 oracle.
* Speed (issue 15: within 4x of torch's fused kernels, which make one pass each way):
  every NumPy call is a pass over the array, so a primitive makes as few as it can.
  Clamps are ``np.clip``; selections and masked zeros work on the integer view
  (``_pick``, ``_keep``: exact to the bit, branch-free, unlike ``np.where``); and a
  recorded forward prepares the backward's mask or derivative factor while its
  intermediates are at hand, so that most backwards are one multiplication.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._special import erfc, erfc32_scaled
from .._validate import check, check_float_input, normalize_dim
from ..autograd import Tensor, is_grad_enabled, op, reshape

__all__ = [
    "relu", "leaky_relu", "threshold", "hardtanh", "hardshrink", "softshrink",
    "hardsigmoid", "hardswish", "elu", "celu", "selu", "gelu", "sigmoid", "tanh", "silu",
    "mish", "softplus", "softsign", "tanhshrink", "log_sigmoid", "prelu", "rrelu",
    "glu", "softmax", "softmin", "log_softmax", "softmax_dim",
    "stable_sigmoid", "stable_log_sigmoid", "stable_log_softmax",
]


def _elementwise(f):
    """Run an elementwise map on a 0-d input as a 1-element array (NumPy's in-place
    ufuncs need arrays; a 0-d operation yields scalars), then reshape back."""

    def wrapper(x, *args, **kwargs):
        if x.data.ndim == 0:
            return reshape(f(reshape(x, (1,)), *args, **kwargs), ())
        return f(x, *args, **kwargs)

    wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = f.__name__, f.__qualname__, f.__doc__
    return wrapper


_INT = {np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}


def _recording(x: Tensor) -> bool:
    """Whether ``op`` will record this primitive: then the forward also prepares what
    the backward needs (masks, derivative factors) while its intermediates are at hand."""
    return is_grad_enabled() and x.requires_grad


def _bits(v, dt: np.dtype, it):
    """The integer view of an array of ``dt``, or of a scalar rounded to ``dt``."""
    if isinstance(v, np.ndarray) and v.ndim:
        return v.view(it)
    return it(np.asarray(v, dt).view(it))


def _pick(mask, a, b, dt, out=None):
    """``np.where(mask, a, b)`` exactly to the bit (NaN payloads, signed zeros), for
    ``a``/``b`` arrays or scalars of the float dtype ``dt``: in the integer view,
    ``b + mask * (a - b)`` with wrapping arithmetic, which NumPy runs without branches
    (``np.where`` on an unpredictable mask is branchy, ~20x slower). A fresh array,
    or ``out`` (which may be ``a`` or ``b`` itself when the caller owns it)."""
    dt = np.dtype(dt)
    it = _INT.get(dt)
    if it is None:
        return np.where(mask, a, b).astype(dt)
    ai, bi = _bits(a, dt, it), _bits(b, dt, it)
    if np.ndim(ai) == 0 and np.ndim(bi) == 0:  # wrap the difference of two scalars without a warning
        bits = 8 * dt.itemsize
        diff = (int(ai) - int(bi) + (1 << (bits - 1))) % (1 << bits) - (1 << (bits - 1))
        out = np.multiply(mask, it(diff), dtype=it)
    else:
        if out is not None and np.ndim(bi) and out is b:  # b is overwritten: keep its bits
            bi = bi.copy()
        out = np.subtract(ai, bi, dtype=it, out=None if out is None else out.view(it))
        if out.shape == np.shape(mask):
            np.multiply(out, mask, out=out)
        else:  # a per-channel operand (PReLU's weight) broadcast against the mask
            out = np.multiply(out, mask, dtype=it)
    out += bi
    return out.view(dt)


def _times(out: np.ndarray, x: Tensor, k) -> Tensor:
    """The primitive ``out = f(x)`` whose backward is ``grad * k``, ``k`` the derivative
    factor the forward prepared (None when it is not recorded)."""

    def vjp(g):
        with _quiet():
            return (k * g,)

    return op(out, (x,), vjp)


def _keep(a, keep, out=None):
    """``a`` where ``keep``, exactly +0.0 elsewhere (also where ``a`` is NaN, inf or
    -0.0, as torch's masked backward kernels give): the integer view times 0 or 1.
    ``out=a`` works in place on an array the caller owns."""
    it = _INT.get(a.dtype)
    if it is None:
        return np.where(keep, a, np.zeros((), a.dtype))
    res = np.multiply(a.view(it), keep, out=None if out is None else out.view(it), dtype=it)
    return res.view(a.dtype)


def _c(value, dtype):
    """A Python scalar as a 0-d array of ``dtype`` (torch's ``Scalar.to<scalar_t>()``)."""
    return np.asarray(value, dtype=dtype)


def _s(value, dtype):
    """A Python scalar as a NumPy scalar of ``dtype`` (for ufuncs and ``np.clip``)."""
    return np.dtype(dtype).type(value)


def _quiet():
    return np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore")


def _clamp(d: np.ndarray, lo, hi, out=None) -> np.ndarray:
    """torch's clamp for floats: ``x < lo ? lo : (x > hi ? hi : x)`` with NaN passing
    through, so -0.0 is kept when it lies inside [lo, hi] and a bound is returned as
    the bound's own value. NumPy's ``clip`` with both bounds given computes exactly
    this (and fast); ``tests/test_activation_kernels.py`` asserts it for the installed
    NumPy, on every SIMD block length."""
    dt = d.dtype
    return np.clip(d, _s(lo, dt), _s(hi, dt), out=out)


_SIGN = {np.dtype(np.float32): np.int32(-2**31), np.dtype(np.float64): np.int64(-2**63)}


def _neg_abs(d: np.ndarray) -> np.ndarray:
    """-|x| as a fresh array (the sign bit set: one pass; NaN stays NaN)."""
    it = _INT.get(d.dtype)
    if it is None:
        return np.negative(np.abs(d))
    return np.bitwise_or(d.view(it), _SIGN[d.dtype]).view(d.dtype)


def _arrays(f):
    """An array-level helper on 0-d input: run it on a 1-element array (NumPy's
    in-place ufuncs need arrays) and return a 0-d array."""

    def wrapper(d, *args, **kwargs):
        d = np.asarray(d)
        if d.ndim == 0:
            return f(d.reshape(1), *args, **kwargs).reshape(())
        return f(d, *args, **kwargs)

    wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = f.__name__, f.__qualname__, f.__doc__
    return wrapper


# -- the stable forms every twin uses (losses and AdaptiveLogSoftmaxWithLoss too) ---------

@_arrays
def stable_sigmoid(d: np.ndarray) -> np.ndarray:
    """sigmoid(x) = 1 / (1 + exp(-x)) without overflow: with e = exp(-|x|) <= 1, it is
    1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0 (one division: the numerator is
    max(e, [x >= 0]), which is 1 for x >= 0 and e otherwise, NaN staying NaN).

    Special values, as torch 2.13: sigmoid(+inf) = 1, sigmoid(-inf) = +0, NaN -> NaN,
    sigmoid(+-0.0) = 0.5. For x < -88.7 torch's float32 kernel gives exactly 0 (its
    exp(-x) overflows); this form gives the subnormal value, the float64 oracle's."""
    with _quiet():
        return _sigmoid_from(d, np.exp(_neg_abs(d)))


def _sigmoid_from(d: np.ndarray, e: np.ndarray) -> np.ndarray:
    """stable_sigmoid(d) given e = exp(-|d|), which it overwrites."""
    dt = d.dtype
    with _quiet():
        den = e + _s(1, dt)
        np.maximum(e, (d >= 0).astype(dt), out=e)  # the numerator: 1 where x >= 0, else e
        np.divide(e, den, out=den)
    return den


@_arrays
def stable_log_sigmoid(d: np.ndarray, e: np.ndarray | None = None) -> np.ndarray:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable everywhere (torch's
    kernel uses the same form). ``e``: exp(-|x|) when the caller already has it.

    Special values, as torch 2.13: +inf -> +0.0, -inf -> -inf, NaN -> NaN,
    +-0.0 -> -log 2."""
    dt = d.dtype
    with _quiet():
        if e is None:
            t = _neg_abs(d)
            np.exp(t, out=t)
        else:
            t = e.copy()
        np.log1p(t, out=t)
        out = _clamp(d, -np.inf, 0)
        out -= t
    return out


def stable_log_softmax(d: np.ndarray, axis: int, probabilities: bool = False):
    """log_softmax along ``axis`` as torch's CPU kernel computes it:
    (x - max) - log(sum(exp(x - max))) (log-sum-exp).

    Special values, as torch 2.13 (its vectorised and scalar paths, last dim and
    other dims alike): a NaN anywhere in a row makes the whole row NaN; a row whose
    max is +inf is all NaN (inf - inf); a row of only -inf is all NaN (-inf - -inf);
    -inf entries in a row with a finite max stay -inf. A row of length 0 gives an
    empty result. (No guard that replaces an infinite max by 0: that would give
    +inf - inf = NaN only at the +inf entries and -inf elsewhere, unlike torch.)

    With ``probabilities``, also returns softmax = exp(x - max) / sum(...) from the
    same exponentials (for a backward; torch takes exp of the output instead, which
    agrees to within an ulp and costs another exp)."""
    if d.shape[axis] == 0:
        return (d.copy(), d.copy()) if probabilities else d.copy()
    with _quiet():
        shifted = d - d.max(axis=axis, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=axis, keepdims=True)
        shifted -= np.log(total)
        if probabilities:
            e /= total
    return (shifted, e) if probabilities else shifted


def _row_dot(a: np.ndarray, b: np.ndarray, axis: int) -> np.ndarray:
    """sum(a * b) along ``axis`` (keepdims), without the product's temporary for the
    last axis (einsum)."""
    if axis == a.ndim - 1:
        return np.einsum("...i,...i->...", a, b)[..., None]
    return (a * b).sum(axis=axis, keepdims=True)


def _stable_softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)); NaN propagates."""
    with _quiet():
        out = _neg_abs(z)
        np.exp(out, out=out)
        np.log1p(out, out=out)
        out += _clamp(z, 0, np.inf)
    return out


# -- piecewise linear -------------------------------------------------------------
# Forward and backward are a clamp and a mask: one pass each where possible, the
# mask prepared in the forward when it is recorded. Exact zeros come from _keep,
# selections from _pick (both exact to the bit), never from np.where.

@_elementwise
def relu(x: Tensor) -> Tensor:
    """relu(x) = max(x, 0) as torch's clamp_min: NaN and -0.0 pass through unchanged.

    Backward (``threshold_backward(grad, result, 0)``): 0 where the result is <= 0,
    else grad; at x = 0 the subgradient is 0; at NaN it is grad.
    """
    d = x.data
    if d.dtype.kind != "f":  # torch's relu accepts integer tensors (no gradient)
        return op(np.maximum(d, 0), (x,), lambda g: (None,))
    out = _clamp(d, 0, np.inf)
    keep = ~(out <= 0) if _recording(x) else None
    return op(out, (x,), lambda g: (_keep(g, keep),))


@_elementwise
def threshold(x: Tensor, thresh: float, value: float) -> Tensor:
    """y = value if x <= threshold else x (NaN passes through). Backward: 0 where
    x <= threshold, else grad (NaN: grad)."""
    d = x.data
    mask = d <= _c(thresh, d.dtype)
    if d.dtype.kind != "f":
        return op(np.where(mask, _c(value, d.dtype), d), (x,), lambda g: (None,))
    out = _pick(mask, value, d, d.dtype)
    keep = ~mask if _recording(x) else None
    return op(out, (x,), lambda g: (_keep(g, keep),))


@_elementwise
def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """y = clamp(x, min_val, max_val) with NaN propagating and -0.0 kept when it is
    inside the range (torch's clamp). Backward: 0 where x <= min_val or
    x >= max_val (the boundaries included), else grad; NaN gets grad."""
    d = x.data
    lo, hi = _c(min_val, d.dtype), _c(max_val, d.dtype)
    if d.dtype.kind != "f":
        return op(np.minimum(np.maximum(d, lo), hi), (x,), lambda g: (None,))
    out = _clamp(d, min_val, max_val)
    keep = None
    if _recording(x):
        keep = d <= lo
        keep |= d >= hi
        np.logical_not(keep, out=keep)
    return op(out, (x,), lambda g: (_keep(g, keep),))


@_elementwise
def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """y = x if x > 0 else negative_slope * x (torch's kernel, so a zero or NaN x gives
    x * slope). Backward: grad if x > 0 else negative_slope * grad, so the subgradient
    at 0 (and at NaN) is negative_slope. Both are x (or grad) times k, k = 1 where
    x > 0 and the slope elsewhere, which is exact (a product with 1 is the factor)."""
    d = x.data
    k = _pick(d > 0, 1, negative_slope, d.dtype)
    with _quiet():
        out = d * k
    return _times(out, x, k)


@_elementwise
def hardshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """y = 0 if -lambd <= x <= lambd else x (an exact +0.0, also for x = -0.0).
    Backward: 0 on [-lambd, lambd] (boundaries included), else grad; NaN gets grad."""
    d = x.data
    l = _c(lambd, d.dtype)
    keep = d >= -l
    keep &= d <= l
    np.logical_not(keep, out=keep)
    out = _keep(d, keep)
    return op(out, (x,), lambda g: (_keep(g, keep),))


@_elementwise
def softshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """y = x - lambd if x > lambd, x + lambd if x < -lambd, else x * 0 (so -0.0 and
    -lambd give -0.0 and NaN stays NaN, as torch's scalar kernel). Backward: 0 on
    [-lambd, lambd], else grad.

    Computed as x - clamp(x, -lambd, lambd), which is x -+ lambd outside and +0.0
    inside, with x's sign bit or-ed in: that gives the inside zeros x's sign and
    changes nothing outside (where the result already has x's sign) or at NaN.
    Inside is where the clamp left x unchanged."""
    d = x.data
    dt = d.dtype
    c = _clamp(d, -lambd, lambd)
    with _quiet():
        out = d - c
    it = _INT.get(dt)
    if it is None:
        out = np.copysign(out, d)
    else:
        sign = np.bitwise_and(d.view(it), _SIGN[dt])
        np.bitwise_or(out.view(it), sign, out=out.view(it))
    keep = c != d if _recording(x) else None
    return op(out, (x,), lambda g: (_keep(g, keep),))


@_elementwise
def hardsigmoid(x: Tensor) -> Tensor:
    """y = min(max(x + 3, 0), 6) / 6 (NaN propagates). Backward: grad / 6 on the open
    interval (-3, 3), 0 elsewhere (at +-3 and at NaN).

    torch 2.13 multiplies by the float32 constant 1/6 even for float64 inputs
    (gradient 0.16666667163...), a relative error of 3e-8; the twin divides by 6 in
    the input's dtype."""
    d = x.data
    dt = d.dtype
    with _quiet():
        t = d + _s(3, dt)  # never -0.0, so the clamp is exact
    _clamp(t, 0, 6, out=t)
    t /= _s(6, dt)
    inside = None
    if _recording(x):
        inside = d > _s(-3, dt)
        inside &= d < _s(3, dt)

    def vjp(g):
        r = g / _s(6, g.dtype)
        return (_keep(r, inside, out=r),)

    return op(t, (x,), vjp)


@_elementwise
def hardswish(x: Tensor) -> Tensor:
    """y = x * min(max(x + 3, 0), 6) / 6 (so -inf gives -inf * 0 = NaN, as torch).

    Backward (torch 2.13): 0 where x <= -3, grad * (x / 3 + 0.5) where -3 < x < 3,
    grad where x >= 3: the one-sided derivatives at -3 (0) and at 3 (1) are
    taken from outside the quadratic piece; NaN gets grad. The forward prepares
    k = x / 3 + 0.5 (exactly 1 where x >= 3 or NaN) and the mask x > -3."""
    d = x.data
    dt = d.dtype
    with _quiet():
        t = d + _s(3, dt)  # never -0.0, so the clamp is exact
        _clamp(t, 0, 6, out=t)
        t *= d
        t /= _s(6, dt)
    k = keep = None
    if _recording(x):
        with _quiet():
            k = d / _s(3, dt)
            k += _s(0.5, dt)
        linear = d < _s(3, dt)
        if not linear.all():  # (usually there is nothing to pick: |x| < 3 for most inputs)
            k = _pick(linear, k, 1, dt, out=k)
        keep = ~(d <= _s(-3, dt))
        if keep.all():
            keep = None

    def vjp(g):
        with _quiet():
            r = g * k
        return (r if keep is None else _keep(r, keep, out=r),)

    return op(t, (x,), vjp)


# -- exponential family -----------------------------------------------------------

@_elementwise
def elu(x: Tensor, alpha: float = 1.0, scale: float = 1.0, input_scale: float = 1.0,
        backward_input_scale: float | None = None) -> Tensor:
    """torch's ``elu(x, alpha, scale, input_scale)``, shared by ELU, CELU and SELU:

        y = expm1(x * input_scale) * (alpha * scale)   if x < 0
        y = x * scale                                  otherwise (x = +-0.0 included)

    expm1 is exact for small |x|. torch 2.13 returns x * scale at x = +-0.0
    (so ELU(alpha=-1.5)(0.0) = +0.0, not expm1(0) * -1.5 = -0.0), while its
    backward takes the negative branch there (x <= 0). Backward:
    grad * input_scale * alpha * scale * exp(x * input_scale) where x <= 0
    (so at x = 0 the left derivative alpha * scale * input_scale), grad * scale
    otherwise (also at NaN). The in-place variant's backward (from the result)
    agrees for alpha >= 0; torch rejects it for alpha < 0.
    ``backward_input_scale`` (CELU) replaces input_scale in the backward only.
    The forward prepares the backward's factor (exp(...) * coefficient or scale).
    (exp as expm1 + 1 would save an exp, but loses all relative accuracy for x < -5.)
    """
    d = x.data
    dt = d.dtype
    negcoef = _c(alpha, dt) * _c(scale, dt)
    poscoef, negiptcoef = _c(scale, dt), _c(input_scale, dt)
    with _quiet():
        z = d if input_scale == 1 else d * negiptcoef  # x * 1 is x
        out = np.expm1(z)
        out *= negcoef
        out = _pick(d < 0, out, d if scale == 1 else d * poscoef, dt, out=out)
    k = None
    if _recording(x):
        bscale = negiptcoef if backward_input_scale is None else _c(backward_input_scale, dt)
        with _quiet():
            e = np.exp(z if backward_input_scale is None else d * bscale)
            e *= bscale * negcoef
        k = _pick(d <= 0, e, poscoef, dt, out=e)
    return _times(out, x, k)


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """celu(x) = max(0, x) + min(0, alpha * expm1(x / alpha)) = elu(x, alpha, 1, 1/alpha);
    the gradient at 0 is (1/alpha) * alpha (= 1 up to rounding).

    torch 2.13's backward (derivatives.yaml: ``elu_backward(grad, alpha, 1,
    1.0/alpha.toFloat(), ...)``) rounds alpha to float32 before inverting it, also
    for float64 inputs: the gradient is grad * (1/a32) * alpha * exp(x / a32),
    a32 = float32(alpha), not the exact derivative of the forward (relative error
    ~ 6e-8 |x / alpha| in float64). The twin uses the same formula, so that it
    agrees with torch's gradient; gradcheck tolerates the difference."""
    return elu(x, alpha, 1.0, 1.0 / alpha, backward_input_scale=1.0 / float(np.float32(alpha)))


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Tensor) -> Tensor:
    """selu(x) = scale * elu(x, alpha) with torch's constants; gradient at 0 is alpha * scale."""
    return elu(x, SELU_ALPHA, SELU_SCALE, 1.0)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@_elementwise
def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU.

    'none': y = x * Phi(x), Phi(x) = 0.5 * erfc(-x / sqrt(2)). Backward:
    grad * (Phi(x) + x * phi(x)), phi(x) = exp(-x^2/2) / sqrt(2 pi), prepared in the
    forward when it is recorded. torch writes 0.5 * x * (1 + erf(x / sqrt(2))), which
    loses all digits for x < -5 or so (float32 gives -0.0 there); erfc keeps them.

    * float64: Phi and phi from the accurate float64 erfc (Cody's, to ~1e-16), rounded
      once to the input's dtype, then combined in it.
    * float32: everything in float32, with the float32-grade erfc of
      ``_special.erfc32_scaled`` (relative error of Phi at most ~8 + x^2/2 ulp, the
      second term from exp amplifying the rounding of x*x; tests/test_erf.py): about
      30 passes over the array instead of a float64 erfc, within float32's own
      rounding of torch's float64 result where Phi is not tiny. Phi(x) is h = 0.5 erfc(|x|/sqrt(2))
      for x < 0 and 1 - h otherwise, written |[x >= 0] - h|.

    Special values as torch: y(+inf) = inf, y(-inf) = -inf * 0 = NaN, and the
    gradient at +-inf is inf * 0 = NaN. torch's vectorised float32 kernel returns NaN
    at x = +inf (its scalar path and float64 give inf); the twin gives inf.

    'tanh': exactly torch's formula in the input's dtype,
    y = 0.5 x (1 + tanh(k_beta (x + 0.044715 x^3))), k_beta = sqrt(2/pi), and its
    hand-written backward.
    """
    d = x.data
    dt = d.dtype
    if approximate == "tanh":
        kbeta = _c(np.sqrt(2.0) * (2.0 / np.sqrt(np.pi)) * 0.5, dt)
        kkappa = _c(0.044715, dt)
        half, one = _c(0.5, dt), _c(1, dt)
        with _quiet():
            x_sq = d * d
            inner = kbeta * (d + kkappa * (x_sq * d))
            th = np.tanh(inner)
            out = half * d * (one + th)

        def vjp_tanh(g):
            with _quiet():
                left = half * d
                left_derivative = half * (one + th)
                right_derivative = left * (one - th * th) * (kbeta * (one + _c(3, dt) * kkappa * x_sq))
                return (g * (left_derivative + right_derivative),)

        return op(out, (x,), vjp_tanh)

    check(approximate == "none", RuntimeError, f"GELU: approximate argument must be either none or tanh, got {approximate!r}")
    if dt == np.float32:
        a = np.abs(d)
        cdf, pdf = erfc32_scaled(a, _SQRT_HALF, 0.5)  # 0.5 erfc(|x| / sqrt 2) = Phi(-|x|); exp(-x^2 / 2)
        np.subtract(d >= 0, cdf, out=cdf)
        np.abs(cdf, out=cdf)  # Phi(x)
        with _quiet():
            out = np.multiply(d, cdf, out=a)
    else:
        d64 = d.astype(np.float64, copy=False)
        with _quiet():
            cdf = erfc(d64 * -_SQRT_HALF)
            cdf *= 0.5
            cdf = cdf.astype(dt, copy=False)
            out = d * cdf
            pdf = np.exp(-0.5 * d64 * d64).astype(dt, copy=False) if _recording(x) else None
    deriv = None
    if _recording(x):
        with _quiet():
            pdf *= _s(_INV_SQRT_2PI, dt)
            pdf *= d
            pdf += cdf
        deriv = pdf
    return _times(out, x, deriv)


@_elementwise
def sigmoid(x: Tensor) -> Tensor:
    """sigmoid(x) = 1 / (1 + exp(-x)), evaluated without overflow on either side
    (torch's float32 gives exactly 0 for x < -88.7, the twin the subnormal value).
    Backward: grad * (1 - y) * y, from the output as torch."""
    out = stable_sigmoid(x.data)
    return op(out, (x,), lambda g: (g * (1 - out) * out,))


@_elementwise
def tanh(x: Tensor) -> Tensor:
    """tanh(x); backward grad * (1 - y^2) from the output."""
    out = np.tanh(x.data)
    return op(out, (x,), lambda g: (g * (1 - out * out),))


@_elementwise
def silu(x: Tensor) -> Tensor:
    """silu(x) = x * sigmoid(x), with the stable sigmoid (torch writes x / (1 + exp(-x)),
    which returns -0.0 once exp overflows). Backward:
    grad * s * (1 + x * (1 - s)); at +-inf both give NaN, as torch."""
    d = x.data
    s = stable_sigmoid(d)
    with _quiet():
        out = d * s

    def vjp(g):
        with _quiet():
            t = 1 - s
            t *= d
            t += 1
            t *= s
            t *= g
        return (t,)

    return op(out, (x,), vjp)


@_elementwise
def mish(x: Tensor) -> Tensor:
    """mish(x) = x * tanh(softplus(x)) with a stable softplus (torch: log1p(exp(x))).
    Backward: grad * (t + x * sigmoid(x) * (1 - t^2)), t = tanh(softplus(x));
    NaN at +-inf as torch (inf * 0)."""
    d = x.data
    t = np.tanh(_stable_softplus(d))
    with _quiet():
        out = d * t

    def vjp(g):
        s = stable_sigmoid(d)
        with _quiet():
            r = t * t
            np.subtract(1, r, out=r)
            r *= s
            r *= d
            r += t
            r *= g
        return (r,)

    return op(out, (x,), vjp)


@_elementwise
def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """softplus(x) = log(1 + exp(beta x)) / beta, and x itself where beta x > threshold
    (the comparison in the input's dtype, so beta x == threshold takes the log branch).
    log(1 + exp(z)) is evaluated stably (torch's log1p(exp(z)) overflows to inf for
    z > 88.7 in float32, reachable only with threshold > 88). Backward:
    grad * sigmoid(beta x) below the threshold, grad above it."""
    d = x.data
    dt = d.dtype
    b = _c(beta, dt)
    with _quiet():
        z = d * b if beta != 1 else d  # x * 1 is x
        above = z > _c(threshold, dt)
        any_above = above.any()  # (usually nothing is: then both picks would change nothing)
        e = np.exp(_neg_abs(z))  # shared by the stable softplus and the backward's sigmoid
        out = np.log1p(e)
        out += _clamp(z, 0, np.inf)
        if beta != 1:
            out /= b
    if any_above:
        out = _pick(above, d, out, dt, out=out)
    # backward: grad * sigmoid(beta x) below the threshold, grad above it (x 1 exactly)
    k = None
    if _recording(x):
        k = _sigmoid_from(z, e)
        if any_above:
            k = _pick(above, 1, k, dt, out=k)
    return _times(out, x, k)


@_elementwise
def softsign(x: Tensor) -> Tensor:
    """softsign(x) = x / (|x| + 1), as torch composes it (so softsign(+-inf) = inf/inf = NaN).

    torch differentiates the composition: grad / b - grad * ((x / b) / b) * sign(x),
    b = |x| + 1; the twin evaluates that same expression (it equals
    grad / b^2 for finite x, and is NaN at +-inf as torch's)."""
    d = x.data
    with _quiet():
        b = np.abs(d)
        b += 1
        out = d / b

    def vjp(g):
        with _quiet():
            t = out / b
            t *= np.sign(d)
            t *= g
            return (g / b - t,)

    return op(out, (x,), vjp)


@_elementwise
def tanhshrink(x: Tensor) -> Tensor:
    """tanhshrink(x) = x - tanh(x), as torch composes it. Backward as torch's
    composition: grad + (-grad) * (1 - tanh(x)^2) (so the gradient at 0 is +0.0)."""
    d = x.data
    t = np.tanh(d)
    with _quiet():
        out = d - t

    def vjp(g):
        with _quiet():
            r = t * t
            np.subtract(1, r, out=r)
            r *= -g
            r += g
        return (r,)

    return op(out, (x,), vjp)


@_elementwise
def log_sigmoid(x: Tensor) -> Tensor:
    """log_sigmoid(x) = min(x, 0) - log1p(exp(-|x|)), stable everywhere (as torch's kernel).

    Backward (torch's log_sigmoid_backward): with z = exp(-|x|),
    grad * (1 - z / (1 + z)) for x < 0 and grad * (z / (1 + z)) for x >= 0."""
    d = x.data
    with _quiet():
        z = np.exp(_neg_abs(d))
    out = stable_log_sigmoid(d, z)

    def vjp(g):
        with _quiet():
            q = z / (1 + z)
            q = _pick(d < 0, 1 - q, q, d.dtype)
            q *= g
        return (q,)

    return op(out, (x,), vjp)


# -- parametric and random ----------------------------------------------------------

def _channel_view(x: np.ndarray, w: np.ndarray, who: str) -> np.ndarray:
    """PReLU's weight shaped to broadcast along dim 1 (torch: the channel dim is dim 1;
    a 0-d or 1-D input has one channel, so it needs num_parameters == 1)."""
    channels = x.shape[1] if x.ndim >= 2 else 1
    check(w.size == 1 or w.size == channels, RuntimeError,
          f"{who}: Mismatch of parameter numbers and input channel size. Found parameter numbers = {w.size} "
          f"and channel size = {channels}.")
    if w.size == 1 or x.ndim < 2:
        return w.reshape(())
    return w.reshape((1, w.size) + (1,) * (x.ndim - 2))


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """y = x if x > 0 else weight[c] * x, c the channel (dim 1).

    Backward (torch's _prelu_kernel_backward): grad_input = grad if x > 0 else
    weight * grad; grad_weight = sum over all but the channel dim of
    (0 if x > 0 else x * grad). At x = 0: grad_input = weight * grad and the
    weight gradient gets 0 * grad; at NaN: weight * grad and NaN."""
    d = x.data
    check_float_input(d, "PReLU")
    check(d.dtype == weight.dtype, RuntimeError,
          f"PReLU: Type promoting not supported. Got input {d.dtype} and weight {weight.dtype}")
    w = _channel_view(d, weight.data, "PReLU")
    pos = d > 0
    k = _pick(pos, 1, w, d.dtype)  # 1 where x > 0, the channel's weight elsewhere: y = x k exactly
    with _quiet():
        out = d * k

    def vjp(g):
        gx = gw = None
        with _quiet():
            if x.requires_grad:
                gx = g * k
            if weight.requires_grad:
                contrib = _keep(np.asarray(d * g), ~pos)
                if weight.size == 1:
                    gw = np.asarray(contrib.sum(dtype=g.dtype)).reshape(weight.shape)
                else:
                    axes = (0,) + tuple(range(2, d.ndim))
                    gw = contrib.sum(axis=axes).reshape(weight.shape)
        return gx, gw

    return op(out, (x, weight), vjp)


@_elementwise
def rrelu(x: Tensor, lower: float, upper: float, training: bool, slopes: np.ndarray | None = None) -> Tensor:
    """Randomized leaky ReLU.

    Training: y = x * r where x <= 0 (r the element's slope, drawn uniformly from
    [lower, upper] by the module), y = x elsewhere (NaN included); backward
    grad * r where x <= 0, grad elsewhere (torch's ``noise`` tensor: r or 1).
    Eval: leaky_relu with slope (lower + upper) / 2.
    """
    if not training:
        return leaky_relu(x, (lower + upper) / 2)
    d = x.data
    r = np.asarray(slopes).astype(d.dtype, copy=False)
    k = _pick(d <= 0, r, 1, d.dtype)  # torch's noise tensor: the slope where x <= 0, else 1
    with _quiet():
        out = d * k
    return _times(out, x, k)


# -- along a dimension ---------------------------------------------------------------

def glu(x: Tensor, dim: int = -1) -> Tensor:
    """glu(x) = a * sigmoid(b), a and b the two halves of x along ``dim``.

    Backward: grad_a = grad * sigmoid(b); grad_b = grad * a * sigmoid(b) * (1 - sigmoid(b))."""
    d = x.data
    check(d.ndim > 0, RuntimeError, "GLU: glu does not support scalars because halving size must be even")
    axis = normalize_dim(dim, d.ndim, "GLU")
    n = d.shape[axis]
    check(n % 2 == 0, RuntimeError, f"GLU: Halving dimension must be even, but dimension {axis} is size {n}")
    a, b = np.split(d, 2, axis=axis)
    s = stable_sigmoid(b)
    with _quiet():
        out = a * s

    def vjp(g):
        grad = np.empty(d.shape, dtype=d.dtype)
        ga, gb = np.split(grad, 2, axis=axis)  # the two halves, written in place
        with _quiet():
            np.multiply(g, s, out=ga)
            np.multiply(ga, a, out=gb)
            gb *= 1 - s
        return (grad,)

    return op(out, (x,), vjp)


def softmax_dim(name: str, ndim: int, dim) -> int | None:
    """torch's ``_get_softmax_dim``: an explicit dim is used as given; dim=None picks
    0 for 0-, 1- and 3-dimensional inputs and 1 otherwise, with a deprecation warning."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", UserWarning, stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


def _prep_softmax(x: Tensor, dim, who: str):
    d = x.data
    check_float_input(d, who)
    axis = normalize_dim(dim, d.ndim, who)
    return (d.reshape(1) if d.ndim == 0 else d), axis


def softmax(x: Tensor, dim: int) -> Tensor:
    """softmax along ``dim``: exp(x - max) / sum(exp(x - max)) (as torch's kernel;
    a row holding +inf or only -inf gives NaN everywhere, because inf - inf is NaN).
    Backward: y * (grad - sum(grad * y))."""
    d, axis = _prep_softmax(x, dim, "Softmax")
    shape = x.shape
    if d.size == 0:
        return op(x.data.copy(), (x,), lambda g: (g.copy(),))
    with _quiet():
        e = d - d.max(axis=axis, keepdims=True)
        np.exp(e, out=e)
        e /= e.sum(axis=axis, keepdims=True)
    out = e.reshape(shape)

    def vjp(g):
        g2 = g.reshape(e.shape)
        with _quiet():
            r = g2 - _row_dot(g2, e, axis)
            r *= e
        return (r.reshape(shape),)

    return op(out, (x,), vjp)


def softmin(x: Tensor, dim: int) -> Tensor:
    """softmin(x) = softmax(-x) (torch negates, then applies softmax). Backward:
    -(y * (grad - sum(grad * y)))."""
    neg = op(-x.data, (x,), lambda g: (-g,))
    return softmax(neg, dim)


def log_softmax(x: Tensor, dim: int) -> Tensor:
    """log_softmax along ``dim`` (:func:`stable_log_softmax`, which states torch's
    special values). Backward: grad - softmax(x) * sum(grad) (torch: exp(y) in place of
    softmax(x), the same to within an ulp)."""
    d, axis = _prep_softmax(x, dim, "LogSoftmax")
    shape = x.shape
    if d.size == 0:
        return op(x.data.copy(), (x,), lambda g: (g.copy(),))
    shifted, p = stable_log_softmax(d, axis, probabilities=True)
    out = shifted.reshape(shape)

    def vjp(g):
        g2 = g.reshape(shifted.shape)
        with _quiet():
            r = p * g2.sum(axis=axis, keepdims=True)
            np.subtract(g2, r, out=r)
        return (r.reshape(shape),)

    return op(out, (x,), vjp)
