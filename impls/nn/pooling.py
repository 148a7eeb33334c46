"""Pooling layers (torch/nn/modules/pooling.py).

Thin modules over ``impls.functional.pooling``: they store their arguments exactly as
torch's modules do (raw for MaxPool*, AvgPool2d/3d and LPPool*, as tuples for
AvgPool1d, MaxUnpool* and FractionalMaxPool*), so ``repr`` matches, and validate in
forward where torch does (most pooling arguments are only checked by ATen, at call
time).

FractionalMaxPool* is random: each forward draws one sample u ~ U[0, 1) per
(batch, channel, spatial axis) from ``self.generator``, shaped (N, C, nd) (N = 1
unbatched) in the input's dtype, unless ``_random_samples`` was given to the
constructor (a buffer, used every call) or injected for the next forward with
``inject_noise(samples=...)``.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .._validate import check
from .conv import ntuple
from .dropout import _RandomModule
from .module import Module

__all__ = [
    "MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
    "AvgPool1d", "AvgPool2d", "AvgPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d",
    "LPPool1d", "LPPool2d", "LPPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
]


# -- max pooling ----------------------------------------------------------------------

class _MaxPoolNd(Module):
    _nd = 0

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        out = F.max_pool(input, self._nd, self.kernel_size, self.stride, self.padding, self.dilation,
                         self.ceil_mode, self.return_indices, who=type(self).__name__)
        return tuple(out) if self.return_indices else out

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over windows of an (N, C, L) or (C, L) input; see ``F.max_pool``."""

    _nd = 1


class MaxPool2d(_MaxPoolNd):
    """Max over windows of an (N, C, H, W) or (C, H, W) input; see ``F.max_pool``."""

    _nd = 2


class MaxPool3d(_MaxPoolNd):
    """Max over windows of an (N, C, D, H, W) or (C, D, H, W) input; see ``F.max_pool``."""

    _nd = 3


# -- max unpooling --------------------------------------------------------------------

class _MaxUnpoolNd(Module):
    _nd = 0

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = ntuple(kernel_size, self._nd)
        self.stride = ntuple(stride if (stride is not None) else kernel_size, self._nd)
        self.padding = ntuple(padding, self._nd)

    def forward(self, input, indices, output_size=None):
        return F.max_unpool(input, indices, self._nd, self.kernel_size, self.stride, self.padding, output_size,
                            who=type(self).__name__)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of MaxPool1d: scatter the input to ``indices``, zeros elsewhere."""

    _nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of MaxPool2d: scatter the input to ``indices``, zeros elsewhere."""

    _nd = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of MaxPool3d: scatter the input to ``indices``, zeros elsewhere."""

    _nd = 3


# -- average pooling ------------------------------------------------------------------

class _AvgPoolNd(Module):
    _nd = 0

    def forward(self, input):
        return F.avg_pool(input, self._nd, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, getattr(self, "divisor_override", None), who=type(self).__name__)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Mean over windows of an (N, C, L) or (C, L) input; see ``F.avg_pool``."""

    _nd = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = ntuple(kernel_size, 1)
        self.stride = ntuple(stride if stride is not None else kernel_size, 1)
        self.padding = ntuple(padding, 1)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad


class _AvgPool23d(_AvgPoolNd):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override


class AvgPool2d(_AvgPool23d):
    """Mean over windows of an (N, C, H, W) or (C, H, W) input; see ``F.avg_pool``."""

    _nd = 2


class AvgPool3d(_AvgPool23d):
    """Mean over windows of an (N, C, D, H, W) or (C, D, H, W) input; see ``F.avg_pool``."""

    _nd = 3


# -- fractional max pooling -----------------------------------------------------------

class _FractionalMaxPoolNd(_RandomModule):
    _nd = 0

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices: bool = False,
                 _random_samples=None) -> None:
        super().__init__()
        nd = self._nd
        if nd == 3:
            bad = (isinstance(kernel_size, int) and kernel_size <= 0) or (
                isinstance(kernel_size, (tuple, list)) and not all(k > 0 for k in kernel_size))
            check(not bad, ValueError, f"kernel_size must be greater than 0, but got {kernel_size}")
        self.kernel_size = ntuple(kernel_size, nd)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = ntuple(output_size, nd) if output_size is not None else None
        self.output_ratio = ntuple(output_ratio, nd) if output_ratio is not None else None
        name = type(self).__name__
        check(output_size is not None or output_ratio is not None, ValueError,
              f"{name} requires specifying either an output size, or a pooling ratio")
        check(output_size is None or output_ratio is None, ValueError,
              "only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None:
            check(all(0 < r < 1 for r in self.output_ratio[:nd]), ValueError,
                  f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        nd, name = self._nd, type(self).__name__
        output_size = self.output_size
        if output_size is None:
            check(nd == 3 or len(self.output_ratio) <= 2, ValueError,
                  "fractional_max_pool2d requires output_ratio to either be a single Int or tuple of Ints.")
            check(input.ndim >= nd, IndexError, f"{name}: Dimension out of range: the input has {input.ndim} dims")
            output_size = tuple(int(input.shape[input.ndim - nd + a] * self.output_ratio[a]) for a in range(nd))
        samples = self._random_samples
        if samples is None:
            check(input.ndim >= nd + 1, IndexError, f"{name}: Dimension out of range: the input has {input.ndim} dims")
            n_batch = 1 if input.ndim == nd + 1 else input.shape[0]
            shape = (n_batch, input.shape[input.ndim - nd - 1], nd)
            dt = input.dtype if np.issubdtype(input.dtype, np.floating) else np.dtype(np.float32)
            samples = self._take_noise("samples", shape, lambda: self.generator.random(shape, dtype=dt))
        out, indices = F.fractional_max_pool(input, nd, self.kernel_size, output_size, samples, who=name)
        return (out, indices) if self.return_indices else out


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Max over windows at pseudo-random fractional strides (Graham, 2014); see
    ``F.fractional_max_pool``. Noise: ``samples`` (N, C, 2), u for W then H."""

    _nd = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """3-D fractional max pooling; noise ``samples`` (N, C, 3), u for T, H, W."""

    _nd = 3


# -- power-average pooling ------------------------------------------------------------

class _LPPoolNd(Module):
    _nd = 0

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return F.lp_pool(input, self._nd, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode,
                         who=type(self).__name__)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """(sum over a window of x^p, rescaled to the full kernel) ^ (1/p); see ``F.lp_pool``."""

    _nd = 1


class LPPool2d(_LPPoolNd):
    """(sum over a window of x^p, rescaled to the full kernel) ^ (1/p); see ``F.lp_pool``."""

    _nd = 2


class LPPool3d(_LPPoolNd):
    """(sum over a window of x^p, rescaled to the full kernel) ^ (1/p); see ``F.lp_pool``."""

    _nd = 3


# -- adaptive pooling -----------------------------------------------------------------

class _AdaptiveMaxPoolNd(Module):
    _nd = 0

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input):
        out = F.adaptive_max_pool(input, self._nd, self.output_size, self.return_indices, who=type(self).__name__)
        return tuple(out) if self.return_indices else out

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max over L_out windows [floor(i L / L_out), ceil((i + 1) L / L_out))."""

    _nd = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max over adaptive windows per spatial axis; None in output_size keeps that size."""

    _nd = 2


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max over adaptive windows per spatial axis; None in output_size keeps that size."""

    _nd = 3


class _AdaptiveAvgPoolNd(Module):
    _nd = 0

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool(input, self._nd, self.output_size, who=type(self).__name__)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Mean over L_out windows [floor(i L / L_out), ceil((i + 1) L / L_out))."""

    _nd = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Mean over adaptive windows per spatial axis; None in output_size keeps that size."""

    _nd = 2


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Mean over adaptive windows per spatial axis; None in output_size keeps that size."""

    _nd = 3
