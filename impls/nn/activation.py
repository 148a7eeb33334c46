"""Activation modules (torch/nn/modules/activation.py): thin classes over
``impls.functional.activation``, same constructor signatures, defaults, validation
and ``state_dict`` keys as torch 2.13. The math and torch's conventions at kinks,
NaN and -0.0 are documented on the functional side."""

from __future__ import annotations

import warnings

import numpy as np

from .. import functional as F
from .._validate import check
from ..autograd import Tensor, is_grad_enabled, op
from .dropout import _RandomModule
from .module import Module, Parameter, check_device, resolve_dtype

__all__ = [
    "ELU", "Hardshrink", "Hardsigmoid", "Hardtanh", "Hardswish", "LeakyReLU", "LogSigmoid",
    "PReLU", "ReLU", "ReLU6", "RReLU", "SELU", "CELU", "GELU", "Sigmoid", "SiLU", "Mish",
    "Softplus", "Softshrink", "Softsign", "Tanh", "Tanhshrink", "Threshold", "GLU",
    "Softmin", "Softmax", "Softmax2d", "LogSoftmax",
]


def _float_input(x, who: str) -> None:
    """torch's activation kernels are not implemented for integer tensors."""
    check(np.issubdtype(x.dtype, np.floating), NotImplementedError,
          f"{who}: not implemented for integer input (dtype {x.dtype}); pass a floating point array")


def _detached_copy(x: Tensor) -> Tensor:
    """An identity node holding a copy of ``x``: an in-place forward may then overwrite
    the caller's array while the tape keeps the original values for backward."""
    return op(x.data.copy(), (x,), lambda g: (g,))


class _Elementwise(Module):
    """An activation ``y = f(x)`` with an ``inplace`` flag: in place, the result is
    also written into the caller's input array, as torch writes into its tensor
    (and torch's backward of the in-place op agrees with the out-of-place one
    wherever torch allows it)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def _f(self, x):
        raise NotImplementedError

    def _check(self, x):
        _float_input(x, type(self).__name__)

    def forward(self, input):
        self._check(input)
        inplace = getattr(self, "inplace", False)
        x = _detached_copy(input) if inplace and is_grad_enabled() and input.requires_grad else input
        out = self._f(x)
        if inplace:
            input.data[...] = out.data
        return out

    def extra_repr(self):
        return "inplace=True" if getattr(self, "inplace", False) else ""


class ReLU(_Elementwise):
    """ReLU(x) = max(0, x)."""

    def _check(self, x):
        pass  # torch's relu accepts integer tensors

    def _f(self, x):
        return F.relu(x)


class Threshold(_Elementwise):
    """y = x if x > threshold else value."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__(inplace)
        self.threshold, self.value = threshold, value

    def _check(self, x):
        pass  # torch's threshold accepts integer tensors

    def _f(self, x):
        return F.threshold(x, self.threshold, self.value)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class Hardtanh(_Elementwise):
    """Hardtanh(x) = clamp(x, min_val, max_val); ``max_val > min_val`` is asserted as torch does."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None):
        super().__init__(inplace)
        if min_value is not None:  # deprecated aliases, with torch's FutureWarning
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`", FutureWarning,
                          stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`", FutureWarning,
                          stacklevel=2)
            max_val = max_value
        self.min_val, self.max_val = min_val, max_val
        # torch raises when max_val <= min_val: a NaN bound passes (every comparison with NaN is false)
        check(not (self.max_val <= self.min_val), AssertionError,
              f"{type(self).__name__}: max_val ({self.max_val}) must be greater than min_val ({self.min_val})")

    def _check(self, x):
        pass  # torch's hardtanh accepts integer tensors

    def _f(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """ReLU6(x) = min(max(0, x), 6) = Hardtanh(0, 6)."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(_Elementwise):
    """LeakyReLU(x) = x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False):
        super().__init__(inplace)
        self.negative_slope = negative_slope

    def _f(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(_Elementwise):
    """ELU(x) = x if x > 0 else alpha * (exp(x) - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        self.alpha = alpha

    def _f(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(_Elementwise):
    """CELU(x) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)); alpha = 0 is
    rejected in forward with torch's RuntimeError."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        self.alpha = alpha

    def _check(self, x):
        super()._check(x)
        check(self.alpha != 0, RuntimeError, "CELU: ZeroDivisionError: alpha cannot be 0 for CELU")

    def _f(self, x):
        return F.celu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SELU(_Elementwise):
    """SELU(x) = scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))."""

    def _f(self, x):
        return F.selu(x)


class GELU(Module):
    """GELU(x) = x * Phi(x); ``approximate='tanh'`` uses torch's tanh formula. An
    unknown ``approximate`` is accepted by the constructor and rejected in forward
    (RuntimeError), as torch does."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        _float_input(input, "GELU")
        check(self.approximate in ("none", "tanh"), RuntimeError,
              f"GELU: approximate argument must be either none or tanh, got {self.approximate!r}")
        return F.gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """Sigmoid(x) = 1 / (1 + exp(-x))."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """Tanh(x) = tanh(x)."""

    def forward(self, input):
        return F.tanh(input)


class SiLU(_Elementwise):
    """SiLU(x) = x * sigmoid(x)."""

    def _f(self, x):
        return F.silu(x)


class Mish(_Elementwise):
    """Mish(x) = x * tanh(softplus(x))."""

    def _f(self, x):
        return F.mish(x)


class Hardsigmoid(_Elementwise):
    """Hardsigmoid(x) = relu6(x + 3) / 6."""

    def _f(self, x):
        return F.hardsigmoid(x)

    def extra_repr(self):
        return ""  # torch's repr leaves inplace out for this class


class Hardswish(_Elementwise):
    """Hardswish(x) = x * relu6(x + 3) / 6."""

    def _f(self, x):
        return F.hardswish(x)

    def extra_repr(self):
        return ""  # torch's repr leaves inplace out for this class


class Hardshrink(Module):
    """Hardshrink(x) = x if |x| > lambd else 0 (a negative lambd shrinks nothing)."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        _float_input(input, "Hardshrink")
        return F.hardshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Module):
    """Softshrink(x) = x - lambd, x + lambd or 0; torch rejects lambd < 0 in forward."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        _float_input(input, "Softshrink")
        check(self.lambd >= 0, RuntimeError,
              f"Softshrink: lambda must be in range [0, inf) for input dtype {input.dtype}, but found {self.lambd}")
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Softplus(Module):
    """Softplus(x) = log(1 + exp(beta x)) / beta, linear where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        _float_input(input, "Softplus")
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """Softsign(x) = x / (1 + |x|)."""

    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(Module):
    """Tanhshrink(x) = x - tanh(x)."""

    def forward(self, input):
        return F.tanhshrink(input)


class LogSigmoid(Module):
    """LogSigmoid(x) = log(sigmoid(x))."""

    def forward(self, input):
        _float_input(input, "LogSigmoid")
        return F.log_sigmoid(input)


class PReLU(Module):
    """PReLU(x) = x if x > 0 else a_c * x, one learnable slope per channel (dim 1)
    or one shared slope. ``weight`` has shape (num_parameters,), filled with
    ``init``. torch treats a 0-d or 1-D input as a single channel, so
    ``num_parameters > 1`` needs an input with at least 2 dims."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        check_device(device)
        dt = resolve_dtype(dtype)
        # torch sizes the weight with it (torch.empty(num_parameters)): anything but an integer is a TypeError
        check(isinstance(num_parameters, (int, np.integer)) and not isinstance(num_parameters, bool), TypeError,
              f"PReLU: num_parameters must be an int, got {type(num_parameters).__name__}")
        check(num_parameters >= 0, RuntimeError,
              f"Trying to create tensor with negative dimension {num_parameters}: [{num_parameters}]")
        self.num_parameters = num_parameters
        self.init = init
        # torch fills the weight with init (Tensor.fill_): anything but a real number is a TypeError there
        check(isinstance(init, (int, float, np.number, np.bool_)), TypeError, f"PReLU: init must be a number, got {type(init).__name__}")
        self.weight = Parameter(np.full((num_parameters,), init, dtype=dt))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class RReLU(_RandomModule):
    """Randomized leaky ReLU (Xu et al., 2015).

    Training: each element with x <= 0 gets its own slope drawn uniformly from
    [lower, upper]; eval: the fixed slope (lower + upper) / 2.

    Randomness contract (see impls/nn/dropout.py): the noise is ``slopes``, an
    array of the input's shape holding each element's slope (entries where x > 0
    are ignored). torch draws one uniform per element with x <= 0, in memory
    order, so its draws depend on the input's signs; the catalog reads them
    exactly with a probe (-1 where x <= 0, +1 elsewhere).
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        _float_input(input, "RReLU")
        check(self.lower <= self.upper, RuntimeError,
              f"RReLU: Lower bound should be less than or equal to the upper bound, got lower={self.lower}, upper={self.upper}")
        slopes = None
        if self.training:
            slopes = self._take_noise("slopes", input.shape,
                                      lambda: self.generator.uniform(self.lower, self.upper, input.shape))
        x = _detached_copy(input) if self.inplace and is_grad_enabled() and input.requires_grad else input
        out = F.rrelu(x, self.lower, self.upper, self.training, slopes)
        if self.inplace:
            input.data[...] = out.data
        return out

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class GLU(Module):
    """GLU(a, b) = a * sigmoid(b), the input halved along ``dim``."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        _float_input(input, "GLU")
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(Module):
    """Softmax along ``dim``; dim=None picks it as torch's ``_get_softmax_dim``
    (0 for 0-, 1- and 3-D inputs, else 1) and warns."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        _float_input(input, "Softmax")
        return F.softmax(input, F.softmax_dim("softmax", input.ndim, self.dim))

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Module):
    """Softmin(x) = Softmax(-x) along ``dim`` (dim=None as Softmax)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        _float_input(input, "Softmin")
        return F.softmin(input, F.softmax_dim("softmin", input.ndim, self.dim))

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(Softmax(x)) along ``dim``, by log-sum-exp (dim=None as Softmax)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        _float_input(input, "LogSoftmax")
        return F.log_softmax(input, F.softmax_dim("log_softmax", input.ndim, self.dim))

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over channels (dim -3) of a 3-D (C, H, W) or 4-D (N, C, H, W) input."""

    def forward(self, input):
        check(input.ndim in (3, 4), ValueError, f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        _float_input(input, "Softmax2d")
        return F.softmax(input, -3)
