"""Batch normalisation (torch/nn/modules/batchnorm.py)."""

from __future__ import annotations

import numbers

import numpy as np

from .. import functional as F
from .._validate import check
from .module import Module, Parameter, check_device, resolve_dtype

__all__ = ["BatchNorm1d"]


class _BatchNorm(Module):
    _expected_ndims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None):
        super().__init__()
        check(isinstance(num_features, numbers.Integral) and num_features >= 0, TypeError if not isinstance(num_features, numbers.Integral) else RuntimeError,
              f"{type(self).__name__}: num_features must be a non-negative int, got {num_features!r}")
        check_device(device)
        dt = resolve_dtype(dtype)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dt))
            self.bias = Parameter(np.zeros(num_features, dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dt))
            self.register_buffer("running_var", np.ones(num_features, dt))
            self.register_buffer("num_batches_tracked", np.zeros((), np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def _check_input_dim(self, x):
        check(x.ndim in self._expected_ndims, ValueError, f"expected {' or '.join(f'{d}D' for d in self._expected_ndims)} input (got {x.ndim}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        C = self.num_features
        check(input.shape[1] == C, RuntimeError,
              f"{type(self).__name__}: running_mean should contain {input.shape[1]} elements not {C} "
              f"(input has {input.shape[1]} channels in dim 1, the module was built for num_features={C})")
        check(np.issubdtype(input.dtype, np.floating), RuntimeError, f"{type(self).__name__}: expected a floating point input, got {input.dtype}")
        use_batch_stats = self.training or self.running_mean is None
        if use_batch_stats:
            per_channel = input.shape[0] * int(np.prod(input.shape[2:], dtype=np.int64))
            check(per_channel != 1, ValueError, f"Expected more than 1 value per channel when training, got input size {tuple(input.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        tracked = None
        if self.training and self.track_running_stats:
            tracked = self.num_batches_tracked + 1
            factor = 1.0 / float(tracked) if self.momentum is None else self.momentum
        out, new_mean, new_var = F.batch_norm(
            input, self.running_mean, self.running_var,
            self.weight, self.bias, use_batch_stats, factor, self.eps,
        )
        # Only now, with the forward done, update state (a failed call changes nothing).
        if tracked is not None:
            self.num_batches_tracked = np.asarray(tracked, np.int64)
            if new_mean is not None:
                self.running_mean, self.running_var = new_mean, new_var
        return out

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over a 2D (N, C) or 3D (N, C, L) input."""

    _expected_ndims = (2, 3)
