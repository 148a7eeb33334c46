"""Linear maps and reshapes."""

from __future__ import annotations

import numpy as np

from .. import autograd as ag
from .._validate import check
from ..autograd import Tensor, op

__all__ = ["linear", "flatten"]


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b over the last dimension of x (any number of leading dims).

    Backward, with G the cotangent flattened to (M, out) and X the input to (M, in):
    dx = G W, dW = G^T X, db = sum of G over the leading dims.
    """
    check(
        x.ndim >= 1 and x.shape[-1] == weight.shape[1],
        RuntimeError,
        f"linear: mat1 and mat2 shapes cannot be multiplied (input has {x.shape[-1] if x.ndim else 'no'} "
        f"features in its last dimension, weight expects in_features={weight.shape[1]}; input shape {x.shape})",
    )
    check(x.dtype == weight.dtype, RuntimeError, f"linear: input dtype {x.dtype} differs from weight dtype {weight.dtype}")
    w = weight.data
    with np.errstate(invalid="ignore", over="ignore"):  # NaN/inf inputs and overflow: torch does not warn
        out = x.data @ w.T
        if bias is not None:
            out += bias.data
    parents = (x, weight) if bias is None else (x, weight, bias)

    rows = int(np.prod(x.shape[:-1], dtype=np.int64))  # explicit: reshape(-1, 0) is ambiguous

    def vjp(g):
        g2 = g.reshape(rows, w.shape[0])
        gx = (g @ w) if x.requires_grad else None
        gw = (g2.T @ x.data.reshape(rows, w.shape[1])) if weight.requires_grad else None
        if bias is None:
            return gx, gw
        return gx, gw, (g2.sum(axis=0) if bias.requires_grad else None)

    return op(out, parents, vjp)


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
