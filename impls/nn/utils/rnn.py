"""Packed sequences (torch/nn/utils/rnn.py) over NumPy arrays.

A :class:`PackedSequence` holds ``data`` (the valid time steps of every sequence,
stacked step after step: ``(sum(lengths), *)``), ``batch_sizes`` (int64, how many
sequences are still running at each step), and the permutations
``sorted_indices`` / ``unsorted_indices`` (None when the batch was already sorted
by decreasing length). The recurrent twins accept one and return one, with
``h_n`` in the original batch order, as torch's.

Every function takes NumPy arrays (and returns NumPy), or tape Tensors inside a
recorded forward (``impls.vjp``), where packing and unpacking are differentiable
gathers and scatters of rows.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..._validate import check
from ...autograd import Tensor, concatenate, reshape
from ...functional.rnn import gather_rows, scatter_rows

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "pack_sequence"]


class _PackedSequence(NamedTuple):
    data: object
    batch_sizes: np.ndarray
    sorted_indices: np.ndarray | None
    unsorted_indices: np.ndarray | None


class PackedSequence(_PackedSequence):
    """torch's PackedSequence: ``(data, batch_sizes, sorted_indices, unsorted_indices)``.

    As torch's constructor: ``unsorted_indices`` defaults to the inverse of
    ``sorted_indices``, and ``PackedSequence((data, batch_sizes))`` is accepted.
    (A 4-tuple is accepted too, so that containers rebuilt field by field, e.g.
    by ``impls.vjp``, stay PackedSequences.)
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:
            items = tuple(data)
            check(len(items) in (2, 4), AssertionError, "Expected data to be a list or tuple of length 2")
            if len(items) == 4:
                return super().__new__(cls, *items)
            data, batch_sizes = items
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)


def _array(x):
    return x.data if isinstance(x, Tensor) else x


def invert_permutation(permutation):
    """The inverse permutation (None stays None)."""
    if permutation is None:
        return None
    p = np.asarray(_array(permutation), dtype=np.int64)
    out = np.empty_like(p)
    out[p] = np.arange(p.size, dtype=np.int64)
    return out


def _as_tensor(x):
    """(Tensor, was NumPy): NumPy inputs run without a tape and come back as NumPy."""
    return (x, False) if isinstance(x, Tensor) else (Tensor(np.asarray(x)), True)


def _flat_positions(lengths_sorted, order, total, batch_first):
    """For packed row (t, j) of a batch sorted by decreasing length (order[j] = the
    original batch position of sorted sequence j), its row in the padded batch
    flattened to (T*B) (time-major) or (B*T) (batch-major). Also the batch sizes."""
    B = len(lengths_sorted)
    steps = int(lengths_sorted[0]) if B else 0
    batch_sizes = (lengths_sorted[None, :] > np.arange(steps)[:, None]).sum(axis=1).astype(np.int64)
    t = np.concatenate([np.full(b, s, np.int64) for s, b in enumerate(batch_sizes)]) if steps else np.zeros(0, np.int64)
    j = np.concatenate([np.arange(b, dtype=np.int64) for b in batch_sizes]) if steps else np.zeros(0, np.int64)
    b = np.asarray(order, dtype=np.int64)[j]
    return (b * total + t if batch_first else t * B + b), batch_sizes


def pack_padded_sequence(input, lengths, batch_first: bool = False, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) whose
    sequence b has ``lengths[b]`` valid steps. With ``enforce_sorted`` the lengths
    must be decreasing; otherwise the batch is sorted (stably, as ``torch.sort``
    on CPU) and the permutation kept in ``sorted_indices``."""
    x, was_numpy = _as_tensor(input)
    lengths = np.asarray(_array(lengths))
    check(lengths.ndim == 1, RuntimeError, f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.ndim}D")
    lengths = lengths.astype(np.int64)
    check(x.ndim >= 2, IndexError, f"Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    T, B = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
    check(len(lengths) == B, RuntimeError, f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} (batch_size={B})")
    if enforce_sorted:
        check(bool(np.all(np.diff(lengths) <= 0)), RuntimeError,
              "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
              "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if "
              "you do not need ONNX exportability.")
        sorted_indices, order = None, np.arange(B)
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = order.astype(np.int64)
    lengths_sorted = lengths[order]
    check(B == 0 or lengths_sorted[-1] > 0, RuntimeError,
          "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0")
    # torch 2.13 accepts lengths > T and reads past the end of the input (docs/findings/rnn.md); the twin refuses.
    check(B == 0 or lengths_sorted[0] <= T, RuntimeError,
          f"pack_padded_sequence: a length ({int(lengths_sorted[0])}) exceeds the padded sequence length {T}")
    positions, batch_sizes = _flat_positions(lengths_sorted, order, T, batch_first)
    data = gather_rows(reshape(x, (T * B,) + x.shape[2:]), positions)
    if was_numpy:
        data = data.data
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None):
    """The inverse of :func:`pack_padded_sequence`: ``(padded, lengths)`` in the
    original batch order, padded with ``padding_value`` to ``total_length`` steps
    (default: the longest sequence)."""
    data, was_numpy = _as_tensor(sequence.data)
    batch_sizes = np.asarray(_array(sequence.batch_sizes), dtype=np.int64)
    steps = len(batch_sizes)
    if total_length is not None:
        check(total_length >= steps, ValueError,
              "Expected total_length to be at least the length of the longest sequence in input, but got "
              f"total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    B = int(batch_sizes[0]) if len(batch_sizes) else 0
    lengths_sorted = (batch_sizes[None, :] > np.arange(B)[:, None]).sum(axis=1).astype(np.int64)
    order = np.arange(B) if sequence.sorted_indices is None else np.asarray(_array(sequence.sorted_indices), np.int64)
    positions, _ = _flat_positions(lengths_sorted, order, steps, batch_first)
    flat = scatter_rows(data, positions, steps * B, padding_value)
    padded = reshape(flat, ((B, steps) if batch_first else (steps, B)) + data.shape[1:])
    lengths = np.empty(B, np.int64)
    lengths[order] = lengths_sorted
    return (padded.data if was_numpy else padded), lengths


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"):
    """Stack sequences ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)`` with
    ``batch_first``), padding on the right (or the left) with ``padding_value``."""
    check(padding_side in ("left", "right"), RuntimeError,
          f"Expected padding_side to be one of left or right, but got {padding_side}.")
    seqs = [s if isinstance(s, Tensor) else Tensor(np.asarray(s)) for s in sequences]
    check(len(seqs) > 0, RuntimeError, "received an empty list of sequences")
    was_numpy = not any(isinstance(s, Tensor) for s in sequences)
    check(all(s.ndim >= 1 for s in seqs), RuntimeError, "pad_sequence: every sequence needs a time dimension (got a 0-d one)")
    trailing = seqs[0].shape[1:]
    for s in seqs[1:]:
        check(s.shape[1:] == trailing, RuntimeError,
              f"The size of tensor a ({trailing}) must match the size of tensor b ({s.shape[1:]}) beyond the time dimension")
    B, L = len(seqs), max(s.shape[0] for s in seqs)
    positions = []
    for b, s in enumerate(seqs):
        start = L - s.shape[0] if padding_side == "left" else 0
        t = np.arange(start, start + s.shape[0])
        positions.append(b * L + t if batch_first else t * B + b)
    flat = scatter_rows(concatenate(seqs, axis=0), np.concatenate(positions), L * B, padding_value)
    out = reshape(flat, ((B, L) if batch_first else (L, B)) + trailing)
    return out.data if was_numpy else out


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)`` (pad, then :func:`pack_padded_sequence`)."""
    lengths = np.asarray([s.shape[0] for s in sequences], dtype=np.int64)
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
