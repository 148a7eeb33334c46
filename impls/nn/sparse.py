"""Embedding and EmbeddingBag (torch/nn/modules/sparse.py)."""

from __future__ import annotations

import numbers

import numpy as np

from .. import functional as F
from .._validate import check
from . import init
from .module import Module, Parameter, check_device, resolve_dtype

__all__ = ["Embedding", "EmbeddingBag"]


def _padding(padding_idx, num_embeddings: int, message: str):
    """torch's normalisation: a negative padding_idx counts from the end; out of range is
    an AssertionError (the constructor's own ``raise AssertionError``)."""
    if padding_idx is None:
        return None
    if padding_idx > 0:
        check(padding_idx < num_embeddings, AssertionError, message)
    elif padding_idx < 0:
        check(padding_idx >= -num_embeddings, AssertionError, message)
        padding_idx = num_embeddings + padding_idx
    return padding_idx


def _initial_weight(num_embeddings, embedding_dim, _weight, dtype, padding_idx, who):
    for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
        check(isinstance(v, numbers.Integral) and not isinstance(v, bool), TypeError, f"{who}: {name} must be an int, got {v!r}")
    if _weight is not None:
        w = np.asarray(_weight)  # shared, not copied: torch's Parameter(_weight) shares the storage
        check(list(w.shape) == [num_embeddings, embedding_dim], AssertionError,
              "Shape of weight does not match num_embeddings and embedding_dim")
        return w
    check(num_embeddings >= 0 and embedding_dim >= 0, RuntimeError,
          f"{who}: Trying to create tensor with negative dimension: [{num_embeddings}, {embedding_dim}]")
    w = init.generator.standard_normal((num_embeddings, embedding_dim)).astype(resolve_dtype(dtype))
    if padding_idx is not None:
        w[padding_idx] = 0
    return w


def _pretrained(embeddings) -> tuple:
    """(array, rows, cols) of a 2-D ``embeddings`` (shared, not copied), or torch's AssertionError."""
    embeddings = np.asarray(embeddings)
    check(embeddings.ndim == 2, AssertionError, "Embeddings parameter is expected to be 2-dimensional")
    return (embeddings,) + embeddings.shape


def _renorm_repr(m: Module, fmt) -> str:
    """The max_norm / norm_type / scale_grad_by_freq part of the repr, shown when not default.
    torch formats Embedding's values with str and EmbeddingBag's with repr."""
    s = ""
    if m.max_norm is not None:
        s += f", max_norm={fmt(m.max_norm)}"
    if m.norm_type != 2:
        s += f", norm_type={fmt(m.norm_type)}"
    if m.scale_grad_by_freq is not False:
        s += f", scale_grad_by_freq={fmt(m.scale_grad_by_freq)}"
    return s


class Embedding(Module):
    """A lookup table: output[..., :] = weight[input[...], :]. weight (num_embeddings,
    embedding_dim) ~ N(0, 1), the padding row zeroed at construction.

    ``padding_idx`` (negative counts from the end): that row gets no gradient.
    ``max_norm``: the rows a forward references are renormalised *in place* to norm
    ``max_norm`` (``norm_type``) when larger, before the lookup; the gradient ignores it.
    ``scale_grad_by_freq``: each row's gradient over its frequency in the input.
    ``sparse`` is accepted and stored; the twin's gradient is always dense.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight=None, _freeze: bool = False, device=None, dtype=None):
        super().__init__()
        check_device(device)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _padding(padding_idx, num_embeddings, "Padding_idx must be within num_embeddings")
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        w = _initial_weight(num_embeddings, embedding_dim, _weight, dtype, self.padding_idx, "Embedding")
        self.weight = Parameter(w, requires_grad=not _freeze)
        self.sparse = sparse

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding holding ``embeddings`` (2-D, shared, not copied); ``freeze``: no gradient."""
        embeddings, rows, cols = _pretrained(embeddings)
        return cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx,
                   max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        s += _renorm_repr(self, str)
        if self.sparse is not False:
            s += ", sparse=True"
        return s


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings, without materialising the lookups.
    forward(input, offsets=None, per_sample_weights=None): input (B, N) is B bags of N;
    a 1-D input needs ``offsets`` (bag starts; with ``include_last_offset`` also the end).
    ``per_sample_weights`` (mode 'sum' only) weigh each entry. ``padding_idx`` entries are
    left out (of the mean's count too). Empty bags give 0. ``max_norm``: as Embedding's.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False, _weight=None,
                 include_last_offset: bool = False, padding_idx: int | None = None, device=None, dtype=None):
        super().__init__()
        check_device(device)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.padding_idx = _padding(padding_idx, num_embeddings, "padding_idx must be within num_embeddings")
        self.weight = Parameter(_initial_weight(num_embeddings, embedding_dim, _weight, dtype, self.padding_idx, "EmbeddingBag"))
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, per_sample_weights, self.include_last_offset, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, max_norm=None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                        include_last_offset: bool = False, padding_idx=None):
        """An EmbeddingBag holding ``embeddings`` (2-D, shared); ``freeze``: no gradient."""
        embeddings, rows, cols = _pretrained(embeddings)
        bag = cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, max_norm=max_norm, norm_type=norm_type,
                  scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def extra_repr(self):
        s = f"{self.num_embeddings!r}, {self.embedding_dim!r}" + _renorm_repr(self, repr)
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx!r}"
        return s
