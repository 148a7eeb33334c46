"""Linear maps and reshapes."""

from __future__ import annotations

import numpy as np

from .. import autograd as ag
from .._validate import check
from ..autograd import Tensor

__all__ = ["linear", "flatten"]


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b over the last dimension of x (any number of leading dims)."""
    check(
        x.ndim >= 1 and x.shape[-1] == weight.shape[1],
        RuntimeError,
        f"linear: mat1 and mat2 shapes cannot be multiplied (input has {x.shape[-1] if x.ndim else 'no'} "
        f"features in its last dimension, weight expects in_features={weight.shape[1]}; input shape {x.shape})",
    )
    check(x.dtype == weight.dtype, RuntimeError, f"linear: input dtype {x.dtype} differs from weight dtype {weight.dtype}")
    y = ag.matmul(x, ag.transpose(weight, None))
    return y if bias is None else y + bias


def flatten(x: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one (torch.flatten; a 0-d input becomes 1-d)."""
    from .._validate import normalize_dim

    if x.ndim == 0:
        return ag.reshape(x, (1,))
    s = normalize_dim(start_dim, x.ndim, "flatten")
    e = normalize_dim(end_dim, x.ndim, "flatten")
    check(s <= e, RuntimeError, f"flatten() has invalid args: start_dim ({start_dim}) cannot come after end_dim ({end_dim})")
    shape = x.shape[:s] + (int(np.prod(x.shape[s : e + 1], dtype=np.int64)),) + x.shape[e + 1 :]
    return ag.reshape(x, shape)
