"""Identity and Linear (torch/nn/modules/linear.py)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import functional as F
from .._validate import check
from . import init
from .lazy import LazyModuleMixin, UninitializedParameter
from .module import Module, Parameter, check_device, resolve_dtype

__all__ = ["Identity", "Linear", "Bilinear", "LazyLinear"]


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


class Bilinear(Module):
    """y = x1^T A x2 + b. weight (out_features, in1_features, in2_features), bias
    (out_features,), both U(-1/sqrt(in1), 1/sqrt(in1)).

    Shape: input1 (*, in1), input2 (*, in2) with the same leading dims -> (*, out).
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        sizes = (out_features, in1_features, in2_features)
        for v in sizes:
            check(isinstance(v, numbers.Integral) and not isinstance(v, bool), TypeError, f"Bilinear: sizes must be ints, got {v!r}")
        for v in sizes:
            check(v >= 0, RuntimeError, f"Bilinear: Trying to create tensor with negative dimension {v}: {list(sizes)}")
        check(in1_features > 0, ValueError, f"in1_features must be > 0, but got (in1_features={in1_features})")
        check_device(device)
        dt = resolve_dtype(dtype)
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        bound = 1 / math.sqrt(in1_features)
        self.weight = Parameter(init.uniform(sizes, bound, dt))
        if bias:
            self.bias = Parameter(init.uniform((out_features,), bound, dt))
        else:
            self.register_parameter("bias", None)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class LazyLinear(LazyModuleMixin, Linear):
    """Linear with in_features inferred from the first input's last dim (torch: built
    as Linear(0, 0, bias=False), then uninitialised weight and bias; out_features is
    used only when the first call materialises them). Becomes Linear."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__(0, 0, False)
        check_device(device)
        dt = resolve_dtype(dtype)
        self.weight = UninitializedParameter(dtype=dt)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(dtype=dt)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        if self.has_uninitialized_params():
            out = self.out_features
            check(isinstance(out, numbers.Integral) and not isinstance(out, bool), TypeError,
                  f"LazyLinear: out_features must be an int to create the weight, got {type(out).__name__}")
            check(out >= 0, RuntimeError, f"LazyLinear: Trying to create tensor with negative dimension {out}")
            check(input.ndim >= 1, IndexError, "LazyLinear: the first input infers in_features from its last dim; it has none")
            self.in_features = int(input.shape[-1])
            self.weight.materialize((out, self.in_features))
            if self.bias is not None:
                self.bias.materialize((out,))
            self.reset_parameters()
