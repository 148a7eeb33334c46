"""Scaled dot-product attention over batched heads, its forward with its backward
beside it.

``attention`` is the core of torch's ``multi_head_attention_forward``
(torch/nn/functional.py), on heads flattened into the batch: ``(B*H, L, E)``.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, op, unbroadcast
from .rnn import multi_output, piece

__all__ = ["attention", "causal_mask"]


def causal_mask(L: int, S: int) -> np.ndarray:
    """SDPA's ``is_causal`` mask: True where query i may NOT attend key j (j > i),
    aligned top-left (``torch.ones(L, S).tril()`` is the allowed part)."""
    return np.triu(np.ones((L, S), dtype=bool), k=1)


def attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, *, keep: np.ndarray | None = None,
              p: float = 0.0, safe: bool = False):
    """Attention of every (batch, head) pair at once, with batched matmuls.

    q: ``(B, L, E)``, k: ``(B, S, E)``, v: ``(B, S, Ev)``; ``mask``: an additive float
    mask broadcastable to ``(B, L, S)`` (bool masks arrive converted: -inf where
    masked), or None. Returns ``(out (B, L, Ev), weights (B, L, S))``::

        s = (q / sqrt(E)) @ k^T + mask        # torch: baddbmm(mask, q * sqrt(1/E), k^T)
        w = softmax(s, -1)
        w = w * keep / (1 - p)                # dropout on the weights (training)
        out = w @ v

    The returned weights are the ones after dropout, as torch returns them.

    A row whose scores are all -inf: plain softmax gives NaN (torch's
    ``need_weights=True`` path and its fast paths); with ``safe`` it gives zeros, as
    ``scaled_dot_product_attention``'s ``_safe_softmax`` does (torch's path for
    ``need_weights=False``), with zero gradients.

    Backward: ``dv = w^T g``, ``dw = g v^T (+ the weights' own cotangent)``, then
    through dropout ``dp = dw * keep / (1 - p)``, softmax ``ds = p (dp - sum(dp p))``,
    ``dmask = ds`` (summed to the mask's shape), ``dq = ds k / sqrt(E)``,
    ``dk = ds^T q / sqrt(E)``.

    Precision: computed in float64 and rounded once to the inputs' dtype.
    """
    dt = q.dtype
    ct = np.float64
    Q, K, V = (t.data.astype(ct, copy=False) for t in (q, k, v))
    E = Q.shape[-1]
    scale = np.sqrt(1.0 / float(E)) if E else 0.0
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        qs = Q * scale
        s = qs @ np.swapaxes(K, -1, -2)
        if mask is not None:
            s = s + mask.data.astype(ct, copy=False)
        smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), ct)
        dead = np.isneginf(smax)  # every score of the row is -inf
        if safe:
            smax = np.where(dead, 0.0, smax)
        e = np.exp(s - smax)
        total = e.sum(axis=-1, keepdims=True)
        if safe:
            total = np.where(dead, 1.0, total)
        w = e / total
        scale_drop = None
        if keep is not None and p > 0:
            scale_drop = keep.astype(ct) / (1.0 - p) if p < 1 else np.zeros(keep.shape, ct)
            wd = w * scale_drop
        else:
            wd = w
        out = wd @ V
    parents = [q, k, v] + ([mask] if mask is not None else [])

    def vjp(g_out, g_w):
        with np.errstate(invalid="ignore", over="ignore"):
            g_out = g_out.astype(ct, copy=False)
            dwd = g_out @ np.swapaxes(V, -1, -2) + g_w.astype(ct, copy=False)
            dv = np.swapaxes(wd, -1, -2) @ g_out
            dw = dwd * scale_drop if scale_drop is not None else dwd
            ds = w * (dw - (dw * w).sum(axis=-1, keepdims=True))
            dq = (ds @ K) * scale
            dk = np.swapaxes(ds, -1, -2) @ qs
        grads = [dq.astype(q.dtype), dk.astype(k.dtype), dv.astype(v.dtype)]
        if mask is not None:
            grads.append(unbroadcast(ds, mask.shape).astype(mask.dtype))
        return tuple(grads)

    return multi_output((out.astype(dt), wd.astype(dt)), parents, vjp)


def split_rows(x: Tensor, parts: int) -> list[Tensor]:
    """``x`` split into ``parts`` equal blocks along axis 0 (torch's ``chunk``, e.g. the
    packed ``in_proj_weight`` into q, k, v)."""
    n = x.shape[0] // parts
    return [piece(x, slice(i * n, (i + 1) * n)) for i in range(parts)]
