"""Convolutions and transposed convolutions (torch/nn/modules/conv.py).

The classes are thin: validation, parameters and repr as torch's ``_ConvNd``; the
math is ``impls.functional.conv``. Parameters are built by ``_build_parameters``
from ``in_channels`` alone, so a lazy subclass only has to set ``in_channels``
from its first input and call it (then ``reset_parameters``).
"""

from __future__ import annotations

import collections.abc
import numbers

import numpy as np

from .. import functional as F
from .._validate import check
from . import init
from .lazy import LazyModuleMixin, UninitializedParameter
from .module import Module, Parameter, check_device, resolve_dtype

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
           "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def ntuple(value, n: int) -> tuple:
    """torch.nn.modules.utils._ntuple: any iterable as a tuple of its items (a string
    too: 'ab' -> ('a', 'b'), as torch), anything else repeated n times. The layers
    validate what they got afterwards, where torch does."""
    if isinstance(value, collections.abc.Iterable):
        return tuple(value)
    return (value,) * n


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


class _ConvNd(Module):
    _D = 0

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed, output_padding,
                 groups, bias, padding_mode, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        for what, v in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            check(_is_int(v), TypeError, f"{name}: {what} must be an int, got {v!r}")
        check(isinstance(kernel_size, tuple) and all(_is_int(k) for k in kernel_size), TypeError,
              f"{name}: kernel_size must be an int or a tuple of ints, got {kernel_size!r}")
        check(groups > 0, ValueError, "groups must be a positive integer")
        check(in_channels % groups == 0, ValueError, "in_channels must be divisible by groups")
        check(out_channels % groups == 0, ValueError, "out_channels must be divisible by groups")
        if isinstance(padding, str):
            check(padding in ("same", "valid"), ValueError,
                  f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}")
            check(padding != "same" or all(s == 1 for s in stride), ValueError,
                  "padding='same' is not supported for strided convolutions")
        check(padding_mode in _PADDING_MODES, ValueError,
              f"padding_mode must be one of {set(_PADDING_MODES)}, but got padding_mode='{padding_mode}'")
        shape = ((in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)) + kernel_size
        check(all(n >= 0 for n in shape), RuntimeError, f"{name}: Trying to create tensor with negative dimension: {list(shape)}")
        check_device(device)
        self._dtype = resolve_dtype(dtype)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.transposed, self.output_padding, self.groups, self.padding_mode = transposed, output_padding, groups, padding_mode
        if isinstance(padding, str):
            pairs = F.same_padding(kernel_size, dilation) if padding == "same" else ((0, 0),) * len(kernel_size)
        else:
            pairs = tuple((p, p) for p in padding)
        # F.pad's order: last dim first, (low, high) each.
        self._reversed_padding_repeated_twice = [p for pair in reversed(pairs) for p in pair]
        self._bias = bool(bias)
        self._build_parameters()

    def _build_parameters(self) -> None:
        """Create weight (and bias) for the current in_channels, then initialise them."""
        g = self.groups
        shape = ((self.in_channels, self.out_channels // g) if self.transposed
                 else (self.out_channels, self.in_channels // g)) + tuple(self.kernel_size)
        self.weight = Parameter(np.empty(shape, self._dtype))
        if self._bias:
            self.bias = Parameter(np.empty(self.out_channels, self._dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """kaiming_uniform_(a=sqrt(5)) for the weight and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the
        bias, as torch: both bounds are 1/sqrt(fan_in), fan_in = weight.shape[1] * prod(kernel)."""
        w = self.weight.data
        fan_in = int(np.prod(w.shape[1:])) if w.ndim > 1 else 0
        bound = init.fan_in_bound(fan_in)
        self.weight.data = init.uniform(w.shape, bound, w.dtype)
        if self.bias is not None:
            self.bias.data = init.uniform(self.bias.shape, bound, w.dtype)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """Conv1d/2d/3d: out = bias + sum over in-channels of weight (cross-correlation) input.

    Shape: (N, C_in, *S) or (C_in, *S) -> (N, C_out, *O), O = floor((S + 2p - d (k - 1) - 1) / s) + 1.
    A non-zeros ``padding_mode`` pads with F.pad first (by ``_reversed_padding_repeated_twice``),
    then convolves without padding, as torch's ``_conv_forward``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        D = self._D
        super().__init__(in_channels, out_channels, ntuple(kernel_size, D), ntuple(stride, D),
                         padding if isinstance(padding, str) else ntuple(padding, D), ntuple(dilation, D),
                         False, ntuple(0, D), groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        who = f"conv{self._D}d"
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return F.convolution(padded, weight, bias, self.stride, 0, self.dilation, self.groups, who=who)
        return F.convolution(input, weight, bias, self.stride, self.padding, self.dilation, self.groups, who=who)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    _D = 1


class Conv2d(_Conv):
    _D = 2


class Conv3d(_Conv):
    _D = 3


class _ConvTranspose(_ConvNd):
    """ConvTranspose1d/2d/3d: the adjoint of the convolution with the same weight.

    Shape: (N, C_in, *I) -> (N, C_out, *O), O = (I - 1) s - 2 p + d (k - 1) + output_padding + 1.
    ``forward(input, output_size)`` picks output_padding = output_size - min_size, where
    min_size is O with output_padding 0 and valid sizes run up to min_size + s - 1 (torch's
    ``_output_padding``); the functional then requires output_padding < stride or < dilation.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        check(padding_mode == "zeros", ValueError, f'Only "zeros" padding mode is supported for {type(self).__name__}')
        D = self._D
        super().__init__(in_channels, out_channels, ntuple(kernel_size, D), ntuple(stride, D), ntuple(padding, D),
                         ntuple(dilation, D), True, ntuple(output_padding, D), groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size) -> tuple:
        D = self._D
        if output_size is None:
            return tuple(self.output_padding)
        output_size = [int(v) for v in output_size]
        non_spatial = 2 if input.ndim == D + 2 else 1
        if len(output_size) == non_spatial + D:
            output_size = output_size[non_spatial:]
        check(len(output_size) == D, ValueError,
              f"ConvTranspose{D}D: for {input.ndim}D input, output_size must have {D} or {non_spatial + D} elements "
              f"(got {len(output_size)})")
        spatial = input.shape[input.ndim - D:]
        min_sizes = [(spatial[d] - 1) * self.stride[d] - 2 * self.padding[d] + self.dilation[d] * (self.kernel_size[d] - 1) + 1
                     for d in range(D)]
        max_sizes = [m + self.stride[d] - 1 for d, m in enumerate(min_sizes)]
        check(all(lo <= n <= hi for n, lo, hi in zip(output_size, min_sizes, max_sizes)), ValueError,
              f"requested an output size of {output_size}, but valid sizes range from {min_sizes} to {max_sizes} "
              f"(for an input of {list(spatial)})")
        return tuple(n - m for n, m in zip(output_size, min_sizes))

    def forward(self, input, output_size=None):
        D = self._D
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose(input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups,
                                self.dilation, who=f"conv_transpose{D}d")


class ConvTranspose1d(_ConvTranspose):
    _D = 1


class ConvTranspose2d(_ConvTranspose):
    _D = 2


class ConvTranspose3d(_ConvTranspose):
    _D = 3


# -- lazy convolutions (torch/nn/modules/conv.py, _LazyConvXdMixin) --------------------

class _LazyConvMixin(LazyModuleMixin):
    """``in_channels`` from the first input (dim 1 batched, dim 0 unbatched); until then
    it is 0 (torch's repr shows it) and weight/bias are uninitialised. The first call
    checks the input's rank and that groups divides in_channels, gives the parameters
    their shapes and initialises them as the regular class does; then the module
    becomes that class."""

    def _lazy_init(self, out_channels, bias) -> None:
        self.weight = UninitializedParameter(dtype=self._dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(dtype=self._dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():
            return
        D, nd = self._D, input.ndim
        check(nd in (D + 1, D + 2), RuntimeError,
              f"Expected {D + 1}D (unbatched) or {D + 2}D (batched) input to {type(self).__name__}, but got input of "
              f"size: {list(input.shape)}")
        self.in_channels = int(input.shape[1] if nd == D + 2 else input.shape[0])
        check(self.in_channels % self.groups == 0, ValueError, "in_channels must be divisible by groups")
        g = self.groups
        shape = ((self.in_channels, self.out_channels // g) if self.transposed
                 else (self.out_channels, self.in_channels // g)) + tuple(self.kernel_size)
        self.weight.materialize(shape, dtype=self._dtype)
        if self.bias is not None:
            self.bias.materialize((self.out_channels,), dtype=self._dtype)
        self.reset_parameters()


class _LazyConv(_LazyConvMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        # as torch: the regular constructor with 0 channels and no bias, then uninitialised parameters
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)
        self._lazy_init(out_channels, bias)


class _LazyConvTranspose(_LazyConvMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode,
                         device, dtype)
        self._lazy_init(out_channels, bias)


class LazyConv1d(_LazyConv, Conv1d):
    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    cls_to_become = ConvTranspose3d
