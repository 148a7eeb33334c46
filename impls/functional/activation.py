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
"""

from __future__ import annotations

import warnings

import numpy as np

from .._special import erfc
from .._validate import check, check_float_input, normalize_dim
from ..autograd import Tensor, op, reshape

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

_BITS = {np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}


def _where(mask, a, b):
    """``np.where(mask, a, b)``, exact to the bit (NaN payloads, signed zeros), for a
    float ``a``/``b`` of one dtype, done as a bitwise select on the integer view:
    ``(a & m) | (b & ~m)`` with m all ones where ``mask``. NumPy's ``where`` on an
    unpredictable mask is branchy and ~6x slower; the activations are dominated by it."""
    a, b = np.asarray(a), np.asarray(b)
    it = _BITS.get(a.dtype)
    if it is None or b.dtype != a.dtype:
        return np.where(mask, a, b)
    m = np.asarray(mask).astype(it)
    np.negative(m, out=m)
    out = np.bitwise_and(np.broadcast_to(a, m.shape).view(it), m)
    np.invert(m, out=m)
    m &= np.broadcast_to(b, m.shape).view(it)
    out |= m
    return out.view(a.dtype)


def _zero_where(mask, a):
    """``np.where(mask, +0.0, a)`` exactly, as a bitwise and with (mask - 1)."""
    a = np.asarray(a)
    it = _BITS.get(a.dtype)
    if it is None:
        return np.where(mask, np.zeros((), a.dtype), a)
    m = np.asarray(mask).astype(it)
    m -= 1
    m &= np.broadcast_to(a, m.shape).view(it)
    return m.view(a.dtype)


def _c(value, dtype):
    """A Python scalar as a 0-d array of ``dtype`` (torch's ``Scalar.to<scalar_t>()``)."""
    return np.asarray(value, dtype=dtype)


def _zero(dtype):
    return np.zeros((), dtype)


def _quiet():
    return np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore")


# -- the stable forms every twin uses (losses and AdaptiveLogSoftmaxWithLoss too) ---------

def stable_sigmoid(d: np.ndarray) -> np.ndarray:
    """sigmoid(x) = 1 / (1 + exp(-x)) without overflow: with e = exp(-|x|) <= 1, it is
    1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0.

    Special values, as torch 2.13: sigmoid(+inf) = 1, sigmoid(-inf) = +0, NaN -> NaN,
    sigmoid(+-0.0) = 0.5. For x < -88.7 torch's float32 kernel gives exactly 0 (its
    exp(-x) overflows); this form gives the subnormal value, the float64 oracle's."""
    with _quiet():
        e = np.exp(-np.abs(d))
        den = e + 1
        out = _where(d < 0, e / den, np.divide(1, den, dtype=d.dtype))
    return out


def stable_log_sigmoid(d: np.ndarray, e: np.ndarray | None = None) -> np.ndarray:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable everywhere (torch's
    kernel uses the same form). ``e``: exp(-|x|) when the caller already has it.

    Special values, as torch 2.13: +inf -> +0.0, -inf -> -inf, NaN -> NaN,
    +-0.0 -> -log 2."""
    with _quiet():
        t = np.log1p(np.exp(-np.abs(d)) if e is None else e)
        out = np.minimum(d, _zero(d.dtype))
        out -= t
    return out


def stable_log_softmax(d: np.ndarray, axis: int) -> np.ndarray:
    """log_softmax along ``axis`` as torch's CPU kernel computes it:
    (x - max) - log(sum(exp(x - max))) (log-sum-exp).

    Special values, as torch 2.13 (its vectorised and scalar paths, last dim and
    other dims alike): a NaN anywhere in a row makes the whole row NaN; a row whose
    max is +inf is all NaN (inf - inf); a row of only -inf is all NaN (-inf - -inf);
    -inf entries in a row with a finite max stay -inf. A row of length 0 gives an
    empty result. (No guard that replaces an infinite max by 0: that would give
    +inf - inf = NaN only at the +inf entries and -inf elsewhere, unlike torch.)"""
    if d.shape[axis] == 0:
        return d.copy()
    with _quiet():
        shifted = d - d.max(axis=axis, keepdims=True)
        lse = np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        shifted -= lse
    return shifted


def _stable_softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)); NaN propagates."""
    with _quiet():
        out = np.log1p(np.exp(-np.abs(z)))
        out += np.maximum(z, 0)
    return out


# -- piecewise linear -------------------------------------------------------------

@_elementwise
def relu(x: Tensor) -> Tensor:
    """relu(x) = max(x, 0) as torch's clamp_min: NaN and -0.0 pass through unchanged.

    Backward (``threshold_backward(grad, result, 0)``): 0 where the result is <= 0,
    else grad; at x = 0 the subgradient is 0; at NaN it is grad.
    """
    d = x.data
    out = _zero_where(d < 0, d)
    return op(out, (x,), lambda g: (_zero_where(out <= 0, g),))


@_elementwise
def threshold(x: Tensor, thresh: float, value: float) -> Tensor:
    """y = value if x <= threshold else x (NaN passes through). Backward: 0 where
    x <= threshold, else grad (NaN: grad)."""
    d = x.data
    mask = d <= _c(thresh, d.dtype)
    out = _where(mask, _c(value, d.dtype), d)
    return op(out, (x,), lambda g: (_zero_where(mask, g),))


@_elementwise
def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """y = clamp(x, min_val, max_val) with NaN propagating and -0.0 kept when it is
    inside the range. Backward: 0 where x <= min_val or x >= max_val (the
    boundaries included), else grad; NaN gets grad."""
    d = x.data
    lo, hi = _c(min_val, d.dtype), _c(max_val, d.dtype)
    if not np.issubdtype(d.dtype, np.floating):
        out = np.minimum(np.maximum(d, lo), hi)
    elif lo == 0:  # maximum(-0.0, 0.0) may return either zero: select +0.0 exactly
        out = _zero_where(d < 0, np.minimum(d, hi))
    elif hi == 0:
        out = _zero_where(d > 0, np.maximum(d, lo))
    else:  # a tie d == lo or d == hi returns the same nonzero value either way
        out = np.minimum(np.maximum(d, lo), hi)  # NaN propagates

    def vjp(g):
        return (_zero_where((d <= lo) | (d >= hi), g),)

    return op(out, (x,), vjp)


@_elementwise
def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """y = x if x > 0 else negative_slope * x. Backward: grad if x > 0 else
    negative_slope * grad, so the subgradient at 0 (and at NaN) is negative_slope."""
    d = x.data
    s = _c(negative_slope, d.dtype)
    pos = d > 0
    with _quiet():
        # max(x, s x) for s <= 1, min(x, s x) for s > 1: x where x > 0, s x where x < 0,
        # NaN propagates, and at x = +-0 both candidates are the same zero.
        # (s = 0: inf * 0 is NaN, which max would propagate from the unused branch.)
        if s == 0:
            out = _where(pos, d, d * s)
        else:
            out = np.maximum(d, d * s) if s <= 1 else np.minimum(d, d * s)
    return op(out, (x,), lambda g: (_where(pos, g, g * s),))


@_elementwise
def hardshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """y = 0 if -lambd <= x <= lambd else x (an exact +0.0, also for x = -0.0).
    Backward: 0 on [-lambd, lambd] (boundaries included), else grad; NaN gets grad."""
    d = x.data
    l = _c(lambd, d.dtype)
    inside = (d >= -l) & (d <= l)
    out = _zero_where(inside, d)
    return op(out, (x,), lambda g: (_zero_where(inside, g),))


@_elementwise
def softshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """y = x - lambd if x > lambd, x + lambd if x < -lambd, else x * 0 (so -0.0 and
    -lambd give -0.0 and NaN stays NaN, as torch's scalar kernel). Backward: 0 on
    [-lambd, lambd], else grad."""
    d = x.data
    l = _c(lambd, d.dtype)
    with _quiet():
        # x - clamp(x, -lambd, lambd) is x -+ lambd outside and +0.0 inside; copysign
        # gives the inside zeros x's sign (torch: x * 0) and changes nothing outside.
        out = np.copysign(d - np.minimum(np.maximum(d, -l), l), d)
    inside = (d >= -l) & (d <= l)
    return op(out, (x,), lambda g: (_zero_where(inside, g),))


@_elementwise
def hardsigmoid(x: Tensor) -> Tensor:
    """y = min(max(x + 3, 0), 6) / 6 (NaN propagates). Backward: grad / 6 on the open
    interval (-3, 3), 0 elsewhere (at +-3 and at NaN).

    torch 2.13 multiplies by the float32 constant 1/6 even for float64 inputs
    (gradient 0.16666667163...), a relative error of 3e-8; the twin uses 1/6 in
    the input's dtype."""
    d = x.data
    dt = d.dtype
    with _quiet():
        t = d + _c(3, dt)
    # t = d + 3 is never -0.0, so NaN-propagating maximum/minimum clamp it exactly
    np.maximum(t, _zero(dt), out=t)
    np.minimum(t, _c(6, dt), out=t)
    t /= _c(6, dt)
    inside = (d > -3) & (d < 3)
    return op(t, (x,), lambda g: (_zero_where(~inside, g / _c(6, g.dtype)),))


@_elementwise
def hardswish(x: Tensor) -> Tensor:
    """y = x * min(max(x + 3, 0), 6) / 6 (so -inf gives -inf * 0 = NaN, as torch).

    Backward (torch 2.13): 0 where x <= -3, grad * (x / 3 + 0.5) where -3 < x < 3,
    grad where x >= 3: the one-sided derivatives at -3 (0) and at 3 (1) are
    taken from outside the quadratic piece; NaN gets grad."""
    d = x.data
    dt = d.dtype
    with _quiet():
        t = d + _c(3, dt)
        np.maximum(t, _zero(dt), out=t)  # t = d + 3 is never -0.0
        np.minimum(t, _c(6, dt), out=t)
        t *= d
        t /= _c(6, dt)

    def vjp(g):
        with _quiet():
            out = g * (d / _c(3, dt) + _c(0.5, dt))
        out = _where((d >= 3) | np.isnan(d), g, _zero_where(d <= -3, out))
        return (out,)

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
    """
    d = x.data
    dt = d.dtype
    neg = d <= 0
    negcoef = _c(alpha, dt) * _c(scale, dt)
    poscoef, negiptcoef = _c(scale, dt), _c(input_scale, dt)
    with _quiet():
        z = d * negiptcoef
        out = np.expm1(z)
        out *= negcoef
        out = _where(d < 0, out, d * poscoef)
    bscale = negiptcoef if backward_input_scale is None else _c(backward_input_scale, dt)

    def vjp(g):
        with _quiet():
            e = np.exp(z if backward_input_scale is None else d * bscale)
            e *= bscale * negcoef
            e *= g
            e = _where(neg, e, g * poscoef)
        return (e,)

    return op(out, (x,), vjp)


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


@_elementwise
def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU.

    'none': y = x * Phi(x), Phi(x) = 0.5 * erfc(-x / sqrt(2)). torch writes
    0.5 * x * (1 + erf(x / sqrt(2))), which loses all digits for x < -5 or so
    (float32 gives -0.0 there); erfc keeps them, so the twin is at least as close
    to the float64 oracle. Phi and phi are computed in float64 and rounded once to
    the input's dtype, then combined in that dtype, so that where they underflow
    the twin produces the same (signed) zeros as torch. Backward:
    grad * (Phi(x) + x * phi(x)), phi(x) = exp(-x^2/2) / sqrt(2 pi).
    torch's vectorised float32 kernel returns NaN at x = +inf (its scalar path
    and float64 give inf); the twin gives inf.
    Special values as torch: y(+inf) = inf, y(-inf) = -inf * 0 = NaN, and the
    gradient at +-inf is inf * 0 = NaN.

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
    d64 = d.astype(np.float64, copy=False)
    with _quiet():
        cdf64 = erfc(d64 * -np.sqrt(0.5))
        cdf64 *= 0.5
        cdf = cdf64.astype(dt, copy=False)
        out = d * cdf

    def vjp(g):
        with _quiet():
            pdf = np.exp(-0.5 * d64 * d64)
            pdf *= 1.0 / np.sqrt(2.0 * np.pi)
            pdf = pdf.astype(dt, copy=False)
            pdf *= d
            pdf += cdf
            pdf *= g
        return (pdf,)

    return op(out, (x,), vjp)


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
        z = d * b
        above = z > _c(threshold, dt)
        out = _stable_softplus(z)
        out /= b
    out = _where(above, d, out)

    def vjp(g):
        r = stable_sigmoid(z)
        r *= g
        r = _where(above, g, r)
        return (r,)

    return op(out, (x,), vjp)


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
        z = np.exp(-np.abs(d))
    out = stable_log_sigmoid(d, z)

    def vjp(g):
        with _quiet():
            q = z / (1 + z)
            q = _where(d < 0, 1 - q, q)
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
    with _quiet():
        out = _where(pos, d, w * d)

    def vjp(g):
        gx = gw = None
        with _quiet():
            if x.requires_grad:
                gx = _where(pos, g, w * g)
            if weight.requires_grad:
                contrib = _zero_where(pos, d * g)
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
    neg = d <= 0
    with _quiet():
        out = _where(neg, d * r, d)
    return op(out, (x,), lambda g: (_where(neg, g * r, g),))


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
        with _quiet():
            ga = g * s
            gb = ga * a
            gb *= 1 - s
        return (np.concatenate([ga, gb], axis=axis),)

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
            t = g2 * e
            s = t.sum(axis=axis, keepdims=True)
            r = g2 - s
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
    special values). Backward: grad - exp(y) * sum(grad)."""
    d, axis = _prep_softmax(x, dim, "LogSoftmax")
    shape = x.shape
    if d.size == 0:
        return op(x.data.copy(), (x,), lambda g: (g.copy(),))
    shifted = stable_log_softmax(d, axis)
    out = shifted.reshape(shape)

    def vjp(g):
        g2 = g.reshape(shifted.shape)
        with _quiet():
            r = np.exp(shifted)
            r *= g2.sum(axis=axis, keepdims=True)
            np.subtract(g2, r, out=r)
        return (r.reshape(shape),)

    return op(out, (x,), vjp)
