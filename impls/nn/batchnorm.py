"""Batch normalisation (torch/nn/modules/batchnorm.py)."""

from __future__ import annotations

import numbers

import numpy as np

from .. import functional as F
from .._validate import check
from ..functional.normalization import check_eps
from .lazy import LazyModuleMixin, UninitializedBuffer, UninitializedParameter
from .module import Module, Parameter, check_device, resolve_dtype

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm",
           "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d"]


class _NormBase(Module):
    """Common base of the batch and instance norms: parameters, buffers, repr.

    State is created by :meth:`_materialize` so that a lazy subclass can build the
    module with ``num_features=0``, no state, and call it on the first forward with
    the inferred ``input.shape[1]``.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        check_device(device)
        self._dtype = resolve_dtype(dtype)
        # Kept as given: torch reads num_features only to size the tensors it creates,
        # so with affine=False and track_running_stats=False any value passes (and shows in the repr).
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats, self._use_bias = affine, track_running_stats, bias
        self._materialize(self.num_features)

    def _materialize(self, num_features: int) -> None:
        """Parameters (weight 1, bias 0) and buffers (mean 0, var 1, counter 0), torch's order."""
        dt = self._dtype
        self.num_features = num_features
        if self.affine or self.track_running_stats:  # torch creates tensors only then
            check(isinstance(num_features, numbers.Integral) and not isinstance(num_features, bool), TypeError,
                  f"{type(self).__name__}: num_features sizes the parameters and buffers: it must be an int, "
                  f"not {type(num_features).__name__}")
            num_features = int(num_features)
            check(num_features >= 0, RuntimeError,
                  f"{type(self).__name__}: Trying to create tensor with negative dimension {num_features}: [{num_features}]")
        if self.affine:
            self.weight = Parameter(np.ones(num_features, dt))
            if self._use_bias:
                self.bias = Parameter(np.zeros(num_features, dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        tracked = self.track_running_stats
        self.register_buffer("running_mean", np.zeros(num_features, dt) if tracked else None)
        self.register_buffer("running_var", np.ones(num_features, dt) if tracked else None)
        self.register_buffer("num_batches_tracked", np.zeros((), np.int64) if tracked else None)

    def _check_input_dim(self, x) -> None:
        raise NotImplementedError

    def _check_floating(self, x) -> None:
        # torch: NotImplementedError '"batch_norm" not implemented for 'Long'' (a RuntimeError subclass)
        if x.dtype.kind != "f":
            raise NotImplementedError(f"{type(self).__name__}: normalisation is not implemented for {x.dtype} input "
                                      "(floating point only)")

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    def _check_channels(self, x) -> None:
        """ATen's batch_norm: each tensor that exists has one value per input channel,
        checked in its order (running_mean, running_var, weight, bias); none is checked
        when the module holds no state (affine=False, track_running_stats=False)."""
        for name in ("running_mean", "running_var", "weight", "bias"):
            t = getattr(self, name)
            check(t is None or t.size == x.shape[1], RuntimeError,
                  f"{type(self).__name__}: {name} should contain {x.shape[1]} elements not {t.size if t is not None else 0} "
                  f"(input has {x.shape[1]} channels in dim 1, the module was built for num_features={self.num_features})")

    def forward(self, input):
        # torch's order: rank, (SyncBatchNorm: channels > 0), values per channel, eps, then ATen's checks.
        self._check_input_dim(input)
        use_batch_stats = self.training or self.running_mean is None
        if use_batch_stats:
            per_channel = input.shape[0] * int(np.prod(input.shape[2:], dtype=np.int64))
            check(per_channel != 1, ValueError,
                  f"Expected more than 1 value per channel when training, got input size {tuple(input.shape)}")
        check_eps(self.eps, use_batch_stats)
        self._check_channels(input)
        self._check_floating(input)
        factor = 0.0 if self.momentum is None else self.momentum
        tracked = None
        if self.training and self.track_running_stats:
            tracked = self.num_batches_tracked + 1
            factor = 1.0 / float(tracked) if self.momentum is None else self.momentum
        out, new_mean, new_var = F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                                              use_batch_stats, factor, self.eps)
        # Only now, with the forward done, update state (a failed call changes nothing;
        # torch increments num_batches_tracked before it validates: docs/torch-findings.md).
        if tracked is not None:
            self.num_batches_tracked = np.asarray(tracked, np.int64)
            if new_mean is not None:
                self.running_mean, self.running_var = new_mean, new_var
        return out


class BatchNorm1d(_BatchNorm):
    """Batch norm over a 2D (N, C) or 3D (N, C, L) input."""

    def _check_input_dim(self, x):
        check(x.ndim in (2, 3), ValueError, f"expected 2D or 3D input (got {x.ndim}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch norm over a 4D (N, C, H, W) input."""

    def _check_input_dim(self, x):
        check(x.ndim == 4, ValueError, f"expected 4D input (got {x.ndim}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch norm over a 5D (N, C, D, H, W) input."""

    def _check_input_dim(self, x):
        check(x.ndim == 5, ValueError, f"expected 5D input (got {x.ndim}D input)")


class SyncBatchNorm(_BatchNorm):
    """Batch norm over an input of rank >= 2 (N, C, *). Without an initialised
    process group (always, for a NumPy twin) torch computes plain batch norm on the
    local batch, in training and in eval; so does the twin. ``process_group`` is
    kept for signature parity and not used."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group=None, device=None, dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, x):
        check(x.ndim >= 2, ValueError, f"expected at least 2D input (got {x.ndim}D input)")
        check(x.shape[1] != 0, ValueError, "SyncBatchNorm number of input channels should be non-zero")


class _LazyNormBase(LazyModuleMixin, _NormBase):
    """torch's ``_LazyNormBase``: built with num_features=0 and no tensors; weight and
    bias (if affine) are uninitialised parameters, running_mean/var (if tracked)
    uninitialised buffers, num_batches_tracked a plain 0. The first call takes
    ``num_features = input.shape[1]`` (dim 1 even for an unbatched instance-norm
    input, as torch) and creates the state as the regular class does. A module
    without state (affine=False, track_running_stats=False) has nothing to infer:
    it becomes the regular class on its first call with num_features still 0."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None, *,
                 bias=True):
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine, self.track_running_stats, self._use_bias = affine, track_running_stats, bias
        dt = self._dtype
        if affine:
            self.weight = UninitializedParameter(dtype=dt)
            if bias:
                self.bias = UninitializedParameter(dtype=dt)
        if track_running_stats:
            # stored as they are (an attribute assignment would make them plain arrays)
            self._buffers["running_mean"] = UninitializedBuffer(dtype=dt)
            self._buffers["running_var"] = UninitializedBuffer(dtype=dt)
            self.num_batches_tracked = np.zeros((), np.int64)

    def initialize_parameters(self, input) -> None:
        if self.has_uninitialized_params():
            check(input.ndim >= 2, IndexError,
                  f"{type(self).__name__}: the first input infers num_features from its dim 1, but it has {input.ndim} dim(s)")
            self._materialize(int(input.shape[1]))


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """BatchNorm1d with num_features inferred from the first input's dim 1."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """BatchNorm2d with num_features inferred from the first input's dim 1."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """BatchNorm3d with num_features inferred from the first input's dim 1."""

    cls_to_become = BatchNorm3d
