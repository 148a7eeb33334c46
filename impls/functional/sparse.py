"""Embeddings: lookup, max-norm renormalisation, bags (sum, mean, max)."""

from __future__ import annotations

import numpy as np

from .._validate import check
from ..autograd import Tensor, op
from .loss import _vector_norm

__all__ = ["embedding", "embedding_bag", "embedding_renorm_"]


def _check_indices(indices: np.ndarray, who: str, name: str = "indices") -> None:
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 '{name}' to have one of the following scalar types: "
                           f"Long, Int; but got {indices.dtype} instead (while checking arguments for {who})")


def embedding_renorm_(weight: np.ndarray, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """torch.embedding_renorm_ (aten/src/ATen/native/Embedding.cpp), in place: every row
    referenced by ``indices`` (once each, padding row included) whose ``norm_type``-norm
    exceeds ``max_norm`` is multiplied by max_norm / (norm + 1e-7). The norm is taken in
    the weight's dtype (as torch's ``row.norm(p)``); the scale is a double, applied in the
    weight's dtype. Autograd never sees this: the caller's gradient ignores it."""
    rows = np.unique(indices)
    if rows.size == 0:
        return
    norms = _vector_norm(weight[rows], float(norm_type)).astype(np.float64)
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big] + 1e-7)).astype(weight.dtype)
        weight[rows[big]] *= scale[:, None]


def _scatter_rows(n: int, index: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """out[k] = sum of rows[i] with index[i] == k, an (n, D) array, each row's terms added
    in input order into zeros, as torch's index_add loop does (so -0.0 sums to +0.0).

    Vectorised over occurrences: round r adds the r-th occurrence of every index still
    pending, in one fancy-indexed step (those indices are distinct). The first occurrences
    are found with a reversed fancy assignment (NumPy's last write wins). An index
    repeated more than 32 times sends the rest to np.add.reduceat over the stably sorted
    remainder (the same order of terms, summed before being added)."""
    out = np.zeros((n,) + rows.shape[1:], rows.dtype)
    first = np.empty(n, np.intp)
    todo_idx, todo_pos = index, np.arange(index.size)
    for r in range(32):
        if not todo_idx.size:
            return out
        first[todo_idx[::-1]] = todo_pos[::-1]  # repeated indices: the first occurrence is written last
        is_first = first[todo_idx] == todo_pos
        if r == 0:
            out[todo_idx[is_first]] = rows[todo_pos[is_first]] + 0.0
        else:
            out[todo_idx[is_first]] += rows[todo_pos[is_first]]
        todo_idx, todo_pos = todo_idx[~is_first], todo_pos[~is_first]
    if todo_idx.size:
        order = np.argsort(todo_idx, kind="stable")
        keys = todo_idx[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        out[keys[starts]] += np.add.reduceat(rows[todo_pos[order]], starts, axis=0)
    return out


def _bag_sums(rows: np.ndarray, starts: np.ndarray, B: int) -> np.ndarray:
    """(B, D) sums of consecutive row ranges: bag b is rows[starts[b]:starts[b + 1]], the
    last to the end; empty bags are 0. Terms are added into zeros in input order, as
    torch's loop: one vectorised step per position within a bag (a loop over the longest
    bag's length, like a kernel's offsets); bags longer than 64 go through
    np.add.reduceat instead (same order of terms)."""
    out = np.zeros((B, rows.shape[1]), rows.dtype)
    lengths = np.diff(np.r_[starts, rows.shape[0]])
    longest = int(lengths.max(initial=0))
    if longest > 64:
        full = lengths > 0
        out[full] += np.add.reduceat(rows, starts[full], axis=0)
        return out
    for p in range(longest):
        live = lengths > p
        if live.all():
            out += rows[starts + p]
        else:
            out[live] += rows[starts[live] + p]
    return out


def embedding(input, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False) -> Tensor:
    """out[..., :] = weight[input[...], :].

    ``max_norm``: the referenced rows of ``weight`` are renormalised in place first
    (:func:`embedding_renorm_`). Backward (embedding_dense_backward_cpu): the
    cotangent rows are added into the rows they came from, in input order, except for
    ``padding_idx`` (no gradient, whatever the row holds); with ``scale_grad_by_freq``
    each is first multiplied by 1 / (occurrences of its index in ``input``), a double
    rounded to the weight's dtype. Indices: integer (RuntimeError), within
    [0, num_embeddings) (IndexError), checked before anything is written.
    """
    idx = np.asarray(input.data if isinstance(input, Tensor) else input)
    _check_indices(idx, "embedding")
    n = weight.shape[0]
    if idx.size and not (idx.min() >= 0 and idx.max() < n):
        raise IndexError(f"index out of range in self (embedding: indices must be in [0, {n}), "
                         f"got {idx.min()}..{idx.max()})")
    if max_norm is not None:
        embedding_renorm_(weight.data, idx, max_norm, norm_type)
    w = weight.data
    out = w[idx]

    def vjp(g):
        flat, rows = idx.reshape(-1), g.reshape(-1, w.shape[1])
        keep = flat != padding_idx if padding_idx is not None else np.ones(flat.shape, bool)
        if scale_grad_by_freq:
            counts = np.bincount(flat, minlength=n)
            rows = rows * (1.0 / counts[flat]).astype(w.dtype)[:, None]
        if not keep.all():
            flat, rows = flat[keep], rows[keep]
        return (_scatter_rows(n, flat, rows),)

    return op(out, (weight,), vjp)


def _bags(idx: np.ndarray, offsets: np.ndarray, include_last_offset: bool):
    """(number of bags, bag of each entry, or -1 when there is no bag) for 1-D ``idx`` and
    ``offsets``: bag b holds idx[offsets[b]:offsets[b + 1]] and the last bag runs to the
    end of ``idx``. With ``include_last_offset`` the last offset starts no bag; it should
    equal len(idx) (CSR). When it does not, torch's result depends on the dtype and mode
    (float32 sum/mean end the last bag there, float64 and max run to the end:
    docs/torch-findings.md); the twin runs to the end."""
    starts = offsets[:-1] if include_last_offset else offsets
    B = starts.shape[0]
    if B == 0:
        return 0, np.full(idx.shape, -1)
    return B, np.searchsorted(starts, np.arange(idx.shape[0]), side="right") - 1


def embedding_bag(input, weight: Tensor, offsets=None, max_norm: float | None = None, norm_type: float = 2.0,
                  scale_grad_by_freq: bool = False, mode: str = "mean", per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embeddings (torch.nn.functional.embedding_bag and
    aten/src/ATen/native/EmbeddingBag.cpp, CPU).

    ``input`` 2-D (B, N): B bags of N (``offsets`` must be None). 1-D: ``offsets`` gives
    each bag's start (``include_last_offset``: plus one more, ignored; see :func:`_bags`).
    Entries equal to
    ``padding_idx`` are left out of every bag: of the sum, of the mean's count, of the
    max. An empty bag (or one of padding only) gives 0.

    * sum: sum of rows, each times its ``per_sample_weights`` entry (sum only;
      NotImplementedError otherwise). mean: the sum over the count of non-padding entries.
    * max: per dim, the first entry's value, replaced by each later value that is
      strictly greater: ties keep the first, and a NaN is kept only when it comes first.

    Backward: weight rows get the bag cotangent (times the sample weight, over the
    bag's count for mean; max: only the chosen row, per dim). With
    ``scale_grad_by_freq`` torch scales the i-th distinct index (in sorted order, the
    padding index counted) by 1 / count(sorted_indices[i]): not by its own count. That
    is a torch bug (docs/torch-findings.md); the twin follows it. per_sample_weights get
    dot(bag cotangent, row), 0 for padding entries. ``max_norm`` renormalises the
    referenced rows in place first, invisibly to autograd.
    """
    idx = np.asarray(input.data if isinstance(input, Tensor) else input)
    psw = per_sample_weights
    check(psw is None or psw.shape == idx.shape, ValueError,
          f"embedding_bag: If per_sample_weights ({psw.shape if psw is not None else None}) is not None, "
          f"then it must have the same shape as the input ({idx.shape})")
    check(weight.ndim == 2, ValueError, f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if idx.ndim == 2:
        check(offsets is None, ValueError, "if input is 2D, then offsets has to be None, as input is treated is a "
                                           "mini-batch of fixed length sequences.")
        check(idx.shape[1] != 0, RuntimeError, "step must be nonzero (embedding_bag: a 2-D input of bags of length 0)")
        offs = np.arange(0, idx.size, idx.shape[1])
        include_last_offset = False
        idx = idx.reshape(-1)
    elif idx.ndim == 1:
        check(offsets is not None, ValueError, "offsets has to be a 1D Tensor but got None")
        offs = np.asarray(offsets.data if isinstance(offsets, Tensor) else offsets)
        check(offs.ndim == 1, ValueError, "offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    check(mode in ("sum", "mean", "max"), ValueError, "mode has to be one of sum, mean or max")
    check(not (mode == "max" and scale_grad_by_freq), ValueError,
          "max mode does not support scaling the gradient by the frequency")
    check(psw is None or mode == "sum", NotImplementedError,
          "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' "
          f"(got mode='{mode}'). Please open a feature request on GitHub.")
    _check_indices(idx, "embedding_bag")
    _check_indices(offs, "embedding_bag", "offsets")
    n, D = weight.shape
    if offs.size:
        check(offs[0] == 0, RuntimeError, "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to "
                                          f"start from position 0. However, got {offs[0]}")
        check(offs[-1] <= idx.size, RuntimeError,
              f"offsets[-1] can not be greater than input's length {idx.size} but got offsets[-1] of {offs[-1]}")
    if idx.size and not (idx.min() >= 0 and idx.max() < n):
        raise RuntimeError("embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be "
                           f"{idx.min() if idx.min() < 0 else idx.max()}")
    if max_norm is not None:
        embedding_renorm_(weight.data, idx, max_norm, norm_type)
    w = weight.data
    B, bag = _bags(idx, offs, include_last_offset)
    member = (bag >= 0) & ((idx != padding_idx) if padding_idx is not None else True)
    count = np.bincount(bag[member], minlength=B)[:B]
    if mode in ("sum", "mean"):
        rows = w[idx]
        if psw is not None:
            rows *= psw.data.reshape(-1)[:, None]
        if not member.all():
            rows[~member] = 0  # padding entries (and entries of no bag) add nothing
        out = _bag_sums(rows, offs[:B], B)
        if mode == "mean":
            out /= np.maximum(count, 1).astype(w.dtype)[:, None]
        chosen = None
    else:
        out, chosen = _bag_max(w, idx, bag, member, B)

    def vjp(g):
        if mode == "max":
            has = chosen >= 0
            flat = np.bincount((chosen * D + np.arange(D))[has], weights=g[has], minlength=n * D)
            return flat.reshape(n, D).astype(w.dtype), None
        sel = np.nonzero(member)[0] if not member.all() else slice(None)
        # per bag: 1 / count for the mean; per entry: the sample weight and torch's frequency scale
        gb = g / np.maximum(count, 1).astype(w.dtype)[:, None] if mode == "mean" else g
        rows = gb[bag[sel]]
        if psw is not None or scale_grad_by_freq:
            scale = np.ones(idx.shape)
            if psw is not None:
                scale = scale * psw.data.reshape(-1).astype(np.float64)
            if scale_grad_by_freq:
                scale = scale * _torch_freq_scale(idx, n)
            rows *= scale[sel].astype(w.dtype)[:, None]
        gw = _scatter_rows(n, idx[sel], rows)
        gpsw = None
        if psw is not None and psw.requires_grad:
            gpsw = np.zeros(idx.size, psw.dtype)
            gpsw[sel] = np.einsum("ij,ij->i", g[bag[sel]], w[idx[sel]]).astype(psw.dtype)  # 0 for padding
            gpsw = gpsw.reshape(psw.shape)
        return gw, gpsw

    parents = (weight,) if psw is None else (weight, psw)
    return op(out, parents, lambda g: vjp(g)[: len(parents)])


def _torch_freq_scale(idx: np.ndarray, n: int) -> np.ndarray:
    """Per entry, the 1 / count torch's _embedding_bag_dense_backward_cpu_sum_mean uses:
    the i-th distinct index (sorted, padding included) gets 1 / count(sorted[i])."""
    counts = np.bincount(idx, minlength=n)
    order = np.sort(idx)
    _, group = np.unique(idx, return_inverse=True)  # group: rank of each entry's index among the distinct ones
    return 1.0 / counts[order[group]]


def _bag_max(w: np.ndarray, idx: np.ndarray, bag: np.ndarray, member: np.ndarray, B: int):
    """Per bag and dim, torch's running max over the bag's members in input order:
    (out (B, D), chosen row per (bag, dim) or -1 for an empty bag)."""
    D = w.shape[1]
    pos = np.nonzero(member)[0]
    b = bag[pos]  # non-decreasing: bags are consecutive ranges of the input
    count = np.bincount(b, minlength=B)
    rank = np.arange(pos.size) - np.repeat(np.cumsum(count) - count, count)
    width = int(count.max()) if count.size and pos.size else 0
    vals = np.full((B, max(width, 1), D), -np.inf, w.dtype)
    rows = np.full((B, max(width, 1)), -1)
    vals[b, rank] = w[idx[pos]]
    rows[b, rank] = idx[pos]
    first_nan = np.isnan(vals[:, 0, :])
    pick = np.argmax(np.where(np.isnan(vals), -np.inf, vals), axis=1)  # first occurrence of the max
    pick[first_nan] = 0
    out = np.take_along_axis(vals, pick[:, None, :], axis=1)[:, 0, :]
    chosen = np.take_along_axis(np.broadcast_to(rows[:, :, None], vals.shape), pick[:, None, :], axis=1)[:, 0, :]
    empty = count[:B] == 0
    out[empty], chosen[empty] = 0, -1
    return out, chosen
