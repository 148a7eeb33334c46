"""Linear maps and reshapes."""

from __future__ import annotations

import numpy as np

from .. import autograd as ag
from .._validate import check
from ..autograd import Tensor, op

__all__ = ["linear", "bilinear", "flatten", "unflatten"]


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


def bilinear(x1: Tensor, x2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o]; W: (out, in1, in2).

    x1 (*, in1) and x2 (*, in2) must have the same leading dims (no broadcasting, as
    torch). Forward as T = x1 @ W' with W' = W as (in1, out * in2), then
    y = sum_j T[., o, j] x2[., j]. Backward, with G = g (x) x2 as (M, out * in2):
    dx1 = G W'^T, dx2[., j] = sum_o g[., o] T[., o, j], dW' = x1^T G, db = sum g.
    """
    check(x1.ndim == x2.ndim, RuntimeError, f"bilinear(): input dimensions do not match: got {x1.ndim} and {x2.ndim}")
    check(x1.ndim >= 1, RuntimeError, "bilinear(): inputs must have at least one dimension")
    for d, (a, b) in enumerate(zip(x1.shape[:-1], x2.shape[:-1])):
        check(a == b, RuntimeError, f"bilinear(): input batch dimensions do not match at dim {d}: got {a} and {b}")
    out_f, in1, in2 = weight.shape
    check(x1.shape[-1] == in1, RuntimeError, f"bilinear(): input1 size does not match weight size: got {x1.shape[-1]} but expected {in1}")
    check(x2.shape[-1] == in2, RuntimeError, f"bilinear(): input2 size does not match weight size: got {x2.shape[-1]} but expected {in2}")
    check(bias is None or bias.shape == (out_f,), RuntimeError,
          f"bilinear(): bias size does not match weight size: got {None if bias is None else bias.shape[0]} but expected {out_f}")
    check(in2 > 0, RuntimeError, "cannot reshape tensor of 0 elements into shape [-1, 0] because the unspecified dimension "
                                 "size -1 can be any value and is ambiguous (torch's bilinear with in2_features=0)")
    dtypes = {x1.dtype, x2.dtype, weight.dtype} | ({bias.dtype} if bias is not None else set())
    check(len(dtypes) == 1, RuntimeError, f"All tensors must have the same dtype, got input1: {x1.dtype}, input2: {x2.dtype}, "
                                          f"weight: {weight.dtype}")
    lead = x1.shape[:-1]
    M = int(np.prod(lead, dtype=np.int64))
    a, b = x1.data.reshape(M, in1), x2.data.reshape(M, in2)
    w2 = weight.data.transpose(1, 0, 2).reshape(in1, out_f * in2)
    t = (a @ w2).reshape(M, out_f, in2)
    out = np.einsum("moj,mj->mo", t, b)
    if bias is not None:
        out += bias.data
    parents = (x1, x2, weight) + ((bias,) if bias is not None else ())

    def vjp(g):
        g2 = g.reshape(M, out_f)
        G = (g2[:, :, None] * b[:, None, :]).reshape(M, out_f * in2)
        gx1 = (G @ w2.T).reshape(x1.shape) if x1.requires_grad else None
        gx2 = np.einsum("mo,moj->mj", g2, t).reshape(x2.shape) if x2.requires_grad else None
        gw = (a.T @ G).reshape(in1, out_f, in2).transpose(1, 0, 2) if weight.requires_grad else None
        grads = (gx1, gx2, gw)
        return grads + ((g2.sum(axis=0),) if bias is not None else ())

    return op(out.reshape(lead + (out_f,)), parents, vjp)


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


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one entry may be -1, inferred), as Tensor.unflatten.
    torch's errors: dim out of range (IndexError); a 0-d input, empty ``sizes``, two -1s,
    other negative sizes, sizes that do not multiply up to the dim, or a -1 that cannot be
    inferred (RuntimeError)."""
    from .._validate import normalize_dim

    check(x.ndim > 0, RuntimeError, f"unflatten: Dimension specified as {dim} but tensor has no dimensions")
    d = normalize_dim(dim, x.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    check(len(sizes) > 0, RuntimeError, "unflatten: sizes must be non-empty")
    check(sizes.count(-1) <= 1, RuntimeError, "unflatten: only one dimension can be inferred")
    for i, s in enumerate(sizes):
        check(s >= -1, RuntimeError, f"unflatten: invalid shape dimension {s} at index {i} of shape {list(sizes)}")
    n = x.shape[d]
    known = int(np.prod([s for s in sizes if s != -1], dtype=np.int64))
    if -1 in sizes:  # inferred from the others; with a 0 among them it cannot be (torch raises too)
        check(known != 0 and n % known == 0, RuntimeError,
              f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} ({n}) in the input tensor")
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    check(int(np.prod(sizes, dtype=np.int64)) == n, RuntimeError,
          f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} ({n}) in the input tensor")
    return ag.reshape(x, x.shape[:d] + sizes + x.shape[d + 1:])
