"""Layer, group, RMS and local response normalisation (torch/nn/modules/normalization.py)."""

from __future__ import annotations

import numbers

import numpy as np

from .. import functional as F
from .._validate import check
from .module import Module, Parameter, check_device, resolve_dtype

__all__ = ["LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm", "CrossMapLRN2d"]


def _shape_tuple(normalized_shape, who: str) -> tuple:
    """torch: an int becomes (n,); anything else goes through tuple() (TypeError if not iterable)."""
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    try:
        return tuple(normalized_shape)
    except TypeError:
        raise TypeError(f"{who}: normalized_shape must be an int or a sequence of ints, "
                        f"got {type(normalized_shape).__name__}") from None


def _param_array(shape: tuple, value: float, dt, who: str) -> np.ndarray:
    """``torch.empty(shape)`` filled with ``value``, with torch's errors for bad sizes."""
    for s in shape:
        check(isinstance(s, numbers.Integral) and not isinstance(s, bool), TypeError,
              f"{who}: sizes must be ints, got {s!r} in {shape}")
        check(s >= 0, RuntimeError, f"{who}: Trying to create tensor with negative dimension {s}: {list(shape)}")
    return np.full(shape, value, dt)


def _affine(module: Module, shape: tuple, affine: bool, bias: bool, dt, who: str) -> None:
    """weight (ones) and bias (zeros) of ``shape``, or None, registered in torch's order."""
    if affine:
        module.weight = Parameter(_param_array(shape, 1.0, dt, who))
        if bias:
            module.bias = Parameter(_param_array(shape, 0.0, dt, who))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


class LayerNorm(Module):
    """y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias over the trailing
    ``normalized_shape`` dims (biased variance), in training and eval alike.
    Shape: (N, *) -> (N, *)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        check_device(device)
        dt = resolve_dtype(dtype)
        self.normalized_shape = _shape_tuple(normalized_shape, "LayerNorm")
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine(self, self.normalized_shape, elementwise_affine, bias, dt, "LayerNorm")

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalise groups of num_channels / num_groups consecutive channels per sample
    (biased variance); per-channel affine. Shape: (N, C, *) -> (N, C, *)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        # Python's own modulo, as torch's constructor: num_groups=0 raises ZeroDivisionError.
        check(num_channels % num_groups == 0, ValueError,
              f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        check_device(device)
        dt = resolve_dtype(dtype)
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        _affine(self, (num_channels,), affine, bias, dt, "GroupNorm")

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """y = x / sqrt(mean(x^2) + eps) * weight over the trailing ``normalized_shape``
    dims; ``eps=None`` is the machine epsilon of the input's dtype."""

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True, device=None,
                 dtype=None):
        super().__init__()
        check_device(device)
        dt = resolve_dtype(dtype)
        self.normalized_shape = _shape_tuple(normalized_shape, "RMSNorm")
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_param_array(self.normalized_shape, 1.0, dt, "RMSNorm"))
        else:
            self.register_parameter("weight", None)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class _LRNBase(Module):
    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class LocalResponseNorm(_LRNBase):
    """b_c = a_c (k + alpha / size * sum of a_{c'}^2 over ``size`` neighbouring channels)^-beta.
    Shape: (N, C, *) with at least 3 dims."""

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)


class CrossMapLRN2d(_LRNBase):
    """torch's legacy cross-map LRN over a 4-D input, with its own window and its own
    backward (see impls.functional.cross_map_lrn2d). ``k`` defaults to the int 1, as torch."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1):
        super().__init__(size, alpha, beta, k)

    def forward(self, input):
        return F.cross_map_lrn2d(input, self.size, self.alpha, self.beta, self.k)
