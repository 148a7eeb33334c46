"""Identity and Linear (torch/nn/modules/linear.py)."""

from __future__ import annotations

import numbers

import numpy as np

from .. import functional as F
from .._validate import check
from . import init
from .module import Module, Parameter, check_device, resolve_dtype

__all__ = ["Identity", "Linear"]


class Identity(Module):
    """Returns its input; accepts and ignores any constructor arguments, as torch."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b. weight: (out_features, in_features); bias: (out_features,).

    Shape: input (*, in_features) -> output (*, out_features).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            check(isinstance(v, numbers.Integral) and not isinstance(v, bool), TypeError, f"Linear: {name} must be an int, got {v!r}")
            check(v >= 0, RuntimeError, f"Linear: Trying to create tensor with negative dimension {v}: [{out_features}, {in_features}]")
        check_device(device)
        dt = resolve_dtype(dtype)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dt))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's: kaiming_uniform_(weight, a=sqrt(5)), i.e. U(+-1/sqrt(in_features)), and the bias U(+-1/sqrt(in_features))."""
        init.reset_linear_(self.weight, self.bias)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
