"""Instance normalisation (torch/nn/modules/instancenorm.py)."""

from __future__ import annotations

import warnings

from .. import functional as F
from .._validate import check
from .batchnorm import _LazyNormBase, _NormBase

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
           "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


class _InstanceNorm(_NormBase):
    """Normalises each (sample, channel) over its spatial dims, in training and in eval,
    unless running statistics are tracked: then eval uses them (as batch norm does).
    Defaults differ from batch norm's: affine=False, track_running_stats=False.
    torch never increments num_batches_tracked here, and ``momentum=None`` means 0."""

    _no_batch_dim: int = 0  # the rank of an unbatched input

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _check_input_dim(self, x):
        ranks = (self._no_batch_dim, self._no_batch_dim + 1)
        check(x.ndim in ranks, ValueError, f"expected {ranks[0]}D or {ranks[1]}D input (got {x.ndim}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        feature_dim = input.ndim - self._no_batch_dim
        if input.shape[feature_dim] != self.num_features:
            check(not self.affine, ValueError,
                  f"expected input's size at dim={feature_dim} to match num_features ({self.num_features}), "
                  f"but got: {input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You can silence this "
                          "warning by not passing in num_features, which is not used because affine=False", stacklevel=2)
        batched = input.ndim > self._no_batch_dim
        x = input if batched else input.reshape((1,) + input.shape)
        use_input_stats = self.training or not self.track_running_stats
        N, C = x.shape[:2]
        if use_input_stats:
            check(int(x.size // max(N * C, 1)) != 1 or N * C == 0, ValueError,
                  f"Expected more than 1 spatial element when training, got input size {list(x.shape)}")
        check(self.running_mean is None or C == self.num_features, RuntimeError,
              f"running_mean should contain {N * C} elements not {N * self.num_features}")
        # torch repeats weight and bias N times with a select that fails on an empty batch
        check(not (self.affine and N == 0), IndexError,
              "select(): index 0 out of range for tensor of size [0] at dimension 0 (torch: affine instance norm "
              "of an empty batch)")
        self._check_floating(x)
        y, new_mean, new_var = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                               use_input_stats, self.momentum if self.momentum is not None else 0.0,
                                               self.eps)
        if new_mean is not None:
            self.running_mean, self.running_var = new_mean, new_var
        return y if batched else y.reshape(input.shape)


class InstanceNorm1d(_InstanceNorm):
    """Input (N, C, L) or unbatched (C, L)."""

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Input (N, C, H, W) or unbatched (C, H, W)."""

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Input (N, C, D, H, W) or unbatched (C, D, H, W)."""

    _no_batch_dim = 4


class LazyInstanceNorm1d(_LazyNormBase, InstanceNorm1d):
    """InstanceNorm1d with num_features inferred from the first input's dim 1. torch's
    lazy instance norms take _LazyNormBase's defaults (affine=True,
    track_running_stats=True), not instance norm's; and dim 1 of an unbatched (C, L)
    input is L, so such a first input infers L channels and then fails on C."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNormBase, InstanceNorm2d):
    """InstanceNorm2d with num_features inferred from the first input's dim 1."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNormBase, InstanceNorm3d):
    """InstanceNorm3d with num_features inferred from the first input's dim 1."""

    cls_to_become = InstanceNorm3d
