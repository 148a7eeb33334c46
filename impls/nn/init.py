"""torch.nn.init with a NumPy Generator, and the default initialisations of the layers.

Every function mirrors torch.nn.init (torch 2.13): the same signature, with
``generator=`` a ``numpy.random.Generator`` where torch takes a ``torch.Generator``
(None: this module's :data:`generator`, reseeded by :func:`manual_seed`); the same
distribution (not the same numbers); the same validation, with torch's exception
types. Each fills ``tensor`` (a NumPy array, or a Parameter/Tensor whose ``.data``
is filled) in place and returns it. Values are drawn in float64 and rounded to the
array's dtype.

Layer defaults, one call each (torch's ``reset_parameters``):

* :func:`reset_linear_`: Linear and Conv*/ConvTranspose* weights
  ``kaiming_uniform_(w, a=sqrt(5))``, that is U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
  and the bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (zeros when fan_in is 0).
* :func:`reset_recurrent_`: every RNN/LSTM/GRU(-Cell) parameter
  U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) (zeros when hidden_size is 0).

The array constructors :func:`uniform`, :func:`zeros`, :func:`ones` and
:func:`fan_in_bound` predate this and remain for twins that use them.

Where torch differs (docs/torch-findings.md): torch's ``sparse_`` draws the zero
positions from the global torch generator, ignoring ``generator=``; the twin draws
everything from ``generator``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd import Tensor

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
    "reset_linear_", "reset_recurrent_", "generator", "manual_seed",
]

generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the generator that initialises parameters and drives random twins by default."""
    global generator
    generator = np.random.default_rng(seed)


def _rng(gen) -> np.random.Generator:
    return generator if gen is None else gen


def _array(tensor) -> np.ndarray:
    return tensor.data if isinstance(tensor, Tensor) else tensor


def _fill(tensor, values):
    """Write ``values`` into ``tensor``'s array in place (rounding to its dtype); return ``tensor``."""
    _array(tensor)[...] = values
    return tensor


_C_NAMES = {"float32": "float", "float64": "double", "float16": "Half"}


def _check_floating(arr: np.ndarray, kernel: str) -> None:
    if not np.issubdtype(arr.dtype, np.floating):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{arr.dtype}\'')


# -- the distributions --------------------------------------------------------------

def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """U(a, b). As torch's ``Tensor.uniform_``: a and b finite in the dtype, a <= b and
    b - a representable (RuntimeError); a floating-point tensor (NotImplementedError)."""
    arr = _array(tensor)
    _check_floating(arr, "check_uniform_bounds")
    info, name = np.finfo(arr.dtype), _C_NAMES.get(arr.dtype.name, arr.dtype.name)
    for label, v in (("from", a), ("to", b)):
        if not (-float(info.max) <= v <= float(info.max)):
            raise RuntimeError(f"{label} is out of bounds for {name}")
    if not a <= b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    if not b - a <= float(info.max):
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{name}>::max(), but found to={b:g} and "
                           f"from={a:g} which result in to-from to exceed the limit")
    return _fill(tensor, _rng(generator).uniform(a, b, size=arr.shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """N(mean, std^2); std >= 0 (RuntimeError, also for NaN), as torch's ``Tensor.normal_``."""
    arr = _array(tensor)
    _check_floating(arr, "normal_kernel_cpu")
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    return _fill(tensor, mean + std * _rng(generator).standard_normal(arr.shape))


def _norm_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, generator=None):
    """N(mean, std^2) conditioned on [a, b], by torch's two rejection samplers: when the
    mass p of [a, b] exceeds 0.3, normal draws outside [a, b] (a, b rounded to the
    dtype) are redrawn; otherwise uniform proposals on [a, b] are accepted with
    probability exp(-((x-mean)/std)^2/2) / (its peak on [a, b]). Both are exact.
    Warns when mean is more than 2 std outside [a, b]; std = 0 divides by zero, a > b
    fails in uniform_, as torch."""
    arr = _array(tensor)
    rng = _rng(generator)
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    p = _norm_cdf((b - mean) / std) - _norm_cdf((a - mean) / std)
    if p > 0.3:
        _check_floating(arr, "normal_kernel_cpu")
        lo, hi = arr.dtype.type(a), arr.dtype.type(b)
        out = normal_(np.empty_like(arr), mean, std, rng)
        pending = (out < lo) | (out > hi)
        while pending.any():
            out[pending] = normal_(np.empty(int(pending.sum()), arr.dtype), mean, std, rng)
            pending = (out < lo) | (out > hi)
        return _fill(tensor, out)
    log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2
    out = uniform_(np.empty_like(arr), a, b, rng)
    pending = np.ones(arr.shape, bool)
    while True:
        log_pdf = -0.5 * ((out[pending].astype(np.float64) - mean) / std) ** 2 - log_peak
        rejected = np.log(rng.random(log_pdf.shape)) > log_pdf
        idx = np.flatnonzero(pending)[rejected]
        pending = np.zeros(arr.shape, bool)
        pending.flat[idx] = True
        if not idx.size:
            return _fill(tensor, out)
        out.flat[idx] = uniform_(np.empty(idx.size, arr.dtype), a, b, rng)


def constant_(tensor, val: float):
    """Fill with ``val`` (cast to the dtype, as torch's fill_)."""
    return _fill(tensor, val)


def ones_(tensor):
    return _fill(tensor, 1.0)


def zeros_(tensor):
    return _fill(tensor, 0.0)


def eye_(tensor):
    """The identity matrix of a 2-d tensor's shape (ValueError for other ranks)."""
    arr = _array(tensor)
    if arr.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*arr.shape))


def dirac_(tensor, groups: int = 1):
    """Dirac delta of a {3, 4, 5}-d convolution weight (out, in, *k): for each group
    g and d < min(out/groups, in), a 1 at [g*out/groups + d, d, centre], where
    centre = k // 2 in every spatial dim; 0 elsewhere."""
    arr = _array(tensor)
    if arr.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if arr.shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = arr.shape[0] // groups
    min_dim = min(out_per_group, arr.shape[1])
    arr[...] = 0
    g, d = np.meshgrid(np.arange(max(groups, 0)), np.arange(max(min_dim, 0)), indexing="ij")
    centre = tuple(s // 2 for s in arr.shape[2:])
    arr[((g * out_per_group + d).ravel(), d.ravel()) + centre] = 1
    return tensor


# -- fans and gains -----------------------------------------------------------------

def _calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    """fan_in = shape[1] * prod(shape[2:]), fan_out = shape[0] * prod(shape[2:])."""
    shape = _array(tensor).shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """torch's table: 1 (linear, conv*, sigmoid; an int), 5/3 (tanh), sqrt(2) (relu),
    sqrt(2 / (1 + slope^2)) (leaky_relu, slope = param or 0.01; param must be an int
    that is not a bool, or a float), 3/4 (selu); ValueError otherwise."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity) -> float | None:
    """gain / sqrt(fan_mode); None (with torch's warning) for a zero-element tensor."""
    if 0 in _array(tensor).shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None):
    """U(-bound, bound), bound = gain * sqrt(3 / fan_mode)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None):
    """N(0, std^2), std = gain / sqrt(fan_mode)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0, std, generator)


def orthogonal_(tensor, gain: float = 1, generator=None):
    """A (semi-)orthogonal matrix times ``gain``, Haar-distributed: the QR factor of a
    Gaussian (rows, numel/rows) matrix (transposed when wide), with each column's
    sign set so that diag(R) > 0 (Mezzadri 2007), as torch. Trailing dims flattened."""
    arr = _array(tensor)
    if arr.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if arr.size == 0:
        return tensor
    rows = arr.shape[0]
    cols = arr.size // rows
    flattened = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(arr.shape))


def sparse_(tensor, sparsity: float, std: float = 0.01, generator=None):
    """N(0, std^2) with ceil(sparsity * rows) zeros in each column, at rows drawn
    uniformly without replacement (Python slice semantics for the count, as torch)."""
    arr = _array(tensor)
    if arr.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = arr.shape
    num_zeros = math.ceil(sparsity * rows)
    rng = _rng(generator)
    normal_(tensor, 0, std, rng)
    row_indices = np.argsort(rng.random((rows, cols)), axis=0)  # an independent permutation per column
    zero_rows = row_indices[:num_zeros]
    arr[zero_rows, np.broadcast_to(np.arange(cols), zero_rows.shape)] = 0
    return tensor


# -- the layers' default initialisation ---------------------------------------------

def reset_linear_(weight, bias=None, generator=None) -> None:
    """torch's ``reset_parameters`` of Linear and Conv*/ConvTranspose*:
    ``kaiming_uniform_(weight, a=sqrt(5))`` (= U(+-1/sqrt(fan_in))) and the bias
    U(+-1/sqrt(fan_in)), fan_in from the weight (0 when fan_in is 0)."""
    kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound, generator)


def reset_recurrent_(parameters, hidden_size: int, generator=None) -> None:
    """torch's ``reset_parameters`` of RNN, LSTM, GRU and their cells: every
    parameter U(+-1/sqrt(hidden_size)) (0 when hidden_size is 0)."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for p in parameters:
        uniform_(p, -bound, bound, generator)


# -- array constructors (kept for the twins that use them) --------------------------

def uniform(shape, bound: float, dtype) -> np.ndarray:
    """A new array U(-bound, bound) of ``shape`` and ``dtype``."""
    return generator.uniform(-bound, bound, size=shape).astype(dtype)


def fan_in_bound(fan_in: int) -> float:
    """torch's kaiming_uniform_(a=sqrt(5)) bound for Linear/Conv weights and biases."""
    return 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0


def zeros(shape, dtype) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def ones(shape, dtype) -> np.ndarray:
    return np.ones(shape, dtype=dtype)
