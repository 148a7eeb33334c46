"""AdaptiveLogSoftmaxWithLoss (torch/nn/modules/adaptive.py).

Grave et al., "Efficient softmax approximation for GPUs" (arXiv:1609.04309).
Classes [0, cutoffs[0]) (the shortlist) are scored by the head directly; class c in
cluster i (cutoffs[i-1] <= c < cutoffs[i]) gets

    log p(c | x) = log_softmax(head(x))[shortlist + i - 1] + log_softmax(tail[i-1](x))[c - cutoffs[i-1]]

where ``tail[i-1]`` is Linear(in, in // div^i, bias=False) then Linear(., cluster size,
bias=False). forward(input, target) returns ``_ASMoutput(output, loss)``:
``output[n] = log p(target[n] | input[n])`` and ``loss = mean(-output)`` (NaN for an
empty batch, as torch). Only the rows whose target falls in a cluster go through
that cluster's tail, as in torch.

The math lives here (this class has no torch.nn.functional counterpart): the fused
primitive ``_log_softmax_gather`` with its backward beside it, row gathers and
scatters, and ``functional.log_softmax`` for the full distribution. The only
Python loop is over clusters.
"""

from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np

from .. import autograd as ag
from .._validate import check, check_float_input
from ..autograd import Tensor, op
from ..functional.activation import log_softmax, stable_log_softmax
from ..functional.loss import reduce
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module, check_device, resolve_dtype

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])

WHO = "AdaptiveLogSoftmaxWithLoss"


# -- fused primitives --------------------------------------------------------------

def _log_softmax_gather(z: Tensor, index: np.ndarray) -> Tensor:
    """``log_softmax(z)[n, index[n]]`` for z (n, k). Backward: g_n (onehot - softmax)."""
    lsm = stable_log_softmax(z.data, -1)
    rows = np.arange(z.shape[0])
    out = lsm[rows, index]

    def vjp(g):
        grad = -np.exp(lsm) * g[:, None]
        grad[rows, index] += g
        return (grad,)

    return op(out, (z,), vjp)


def _take_rows(x: Tensor, rows: np.ndarray) -> Tensor:
    """x[rows] for distinct rows; the backward writes the cotangent back in place."""

    def vjp(g):
        full = np.zeros(x.shape, dtype=x.dtype)
        full[rows] = g
        return (full,)

    return op(x.data[rows], (x,), vjp)


def _scatter_rows(values: Tensor, rows: np.ndarray, n: int) -> Tensor:
    """A length-n vector with ``values`` at the distinct ``rows`` and 0 elsewhere."""
    out = np.zeros(n, dtype=values.dtype)
    out[rows] = values.data
    return op(out, (values,), lambda g: (g[rows],))


# -- the module --------------------------------------------------------------------

class AdaptiveLogSoftmaxWithLoss(Module):
    """Efficient softmax approximation (see the module docstring).

    Constructor validation as torch: ``cutoffs`` non-empty (ValueError), sorted,
    unique, positive integers <= n_classes - 1 (ValueError; an integral float such
    as 2.0 passes torch's check and then fails building a layer, TypeError).
    Submodules and state_dict keys as torch: ``head`` (Linear(in, shortlist +
    n_clusters, bias=head_bias)), ``tail.<i>.0`` and ``tail.<i>.1``.
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs, div_value: float = 4.0, head_bias: bool = False,
                 device=None, dtype=None):
        super().__init__()
        check(not isinstance(cutoffs, (str, bytes)), TypeError, f"{WHO}: cutoffs must be a sequence of ints, got {cutoffs!r}")
        try:
            cutoffs = list(cutoffs)
        except TypeError:
            raise TypeError(f"{WHO}: cutoffs must be a sequence of ints, got {type(cutoffs).__name__} {cutoffs!r}") from None
        check(len(cutoffs) > 0, ValueError, "cutoffs should be a sequence of length larger than 0")
        check(all(isinstance(c, numbers.Real) and not isinstance(c, bool) for c in cutoffs), TypeError,
              f"{WHO}: cutoffs must be numbers, got {cutoffs!r}")
        ok = (cutoffs == sorted(cutoffs) and min(cutoffs) > 0 and max(cutoffs) <= n_classes - 1
              and len(set(cutoffs)) == len(cutoffs) and all(int(c) == c for c in cutoffs))
        check(ok, ValueError, "cutoffs should be a sequence of unique, positive integers sorted in an increasing order, "
                              f"where each value is between 1 and n_classes-1 (n_classes={n_classes}, got cutoffs={cutoffs})")
        check_device(device)
        check(div_value != 0, ZeroDivisionError, f"{WHO}: div_value must not be 0 (cluster sizes are in_features // div_value**i)")
        factory = {"device": device, "dtype": resolve_dtype(dtype)}
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(self.in_features, self.head_size, bias=self.head_bias, **factory)
        tails = []
        for i in range(self.n_clusters):
            hsz = int(self.in_features // (self.div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            tails.append(Sequential(Linear(self.in_features, hsz, bias=False, **factory),
                                    Linear(hsz, osz, bias=False, **factory)))
        self.tail = ModuleList(tails)

    # -- validation -----------------------------------------------------------------
    def _check_target(self, input: Tensor, target) -> tuple[np.ndarray, bool]:
        tg = target.data if isinstance(target, Tensor) else np.asarray(target)
        if tg.ndim == 1:
            check(input.ndim >= 1 and input.shape[0] == tg.shape[0], RuntimeError,
                  f"{WHO}: Input and target should have the same size in the batch dimension "
                  f"(input {tuple(input.shape)}, target {tuple(tg.shape)}).")
            check(input.ndim == 2, RuntimeError,
                  f"{WHO}: 1D target tensor expects 2D input tensors, but found inputs with size {tuple(input.shape)}")
        elif tg.ndim == 0:
            check(input.ndim == 1, RuntimeError,
                  f"{WHO}: 0D target tensor expects 1D input tensors, but found inputs with size {tuple(input.shape)}")
        else:
            raise RuntimeError(f"{WHO}: 0D or 1D target tensor expected, multi-target not supported (target shape {tg.shape})")
        check(np.issubdtype(tg.dtype, np.integer), RuntimeError,
              f"{WHO}: gather(): Expected dtype int32/int64 for index (target dtype {tg.dtype})")
        check_float_input(input, WHO)
        check(input.shape[-1] == self.in_features, RuntimeError,
              f"{WHO}: mat1 and mat2 shapes cannot be multiplied: input has {input.shape[-1]} features, "
              f"in_features is {self.in_features}")
        tg = tg.reshape(-1).astype(np.int64)
        if tg.size:
            check(bool(np.all((tg >= 0) & (tg < self.n_classes))), RuntimeError,
                  f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                  f"[{tg.min()}, {tg.max()}] were found. ")
        return tg, input.ndim == 2

    # -- forward --------------------------------------------------------------------
    def forward(self, input, target):
        tg, batched = self._check_target(input, target)
        x = input if batched else ag.reshape(input, (1, input.shape[0]))
        n = x.shape[0]
        gather_inds = tg.copy()  # shortlist targets index the head directly
        cluster_terms = []
        for i in range(self.n_clusters):
            low, high = self.cutoffs[i], self.cutoffs[i + 1]
            rows = np.flatnonzero((tg >= low) & (tg < high))
            if rows.size == 0:
                continue
            gather_inds[rows] = self.shortlist_size + i
            cluster_output = self.tail[i](_take_rows(x, rows))
            local = _log_softmax_gather(cluster_output, tg[rows] - low)
            cluster_terms.append(_scatter_rows(local, rows, n))
        output = _log_softmax_gather(self.head(x), gather_inds)
        for term in cluster_terms:
            output = output + term
        loss = reduce(-output, "mean")
        if not batched:
            output = ag.reshape(output, ())
        return _ASMoutput(output, loss)

    # -- full distribution ----------------------------------------------------------
    def _check_2d(self, input, who: str) -> Tensor:
        x = input if isinstance(input, Tensor) else Tensor(np.asarray(input))
        check(x.ndim >= 2, IndexError,
              f"{WHO}.{who}: Dimension out of range (expected to be in range of [-1, 0], but got 1): "
              f"input must be (N, in_features), got shape {tuple(x.shape)}")
        check(x.ndim == 2, RuntimeError, f"{WHO}.{who}: input must be (N, in_features), got shape {tuple(x.shape)}")
        check_float_input(x, f"{WHO}.{who}")
        check(x.shape[1] == self.in_features, RuntimeError,
              f"{WHO}.{who}: mat1 and mat2 shapes cannot be multiplied: input has {x.shape[1]} features, "
              f"in_features is {self.in_features}")
        return x

    def _full_log_prob(self, x: Tensor, head_output: Tensor) -> Tensor:
        head_lp = log_softmax(head_output, -1)
        blocks = [head_lp[:, : self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_lp = log_softmax(self.tail[i](x), -1)
            blocks.append(cluster_lp + head_lp[:, self.shortlist_size + i: self.shortlist_size + i + 1])
        return ag.concatenate(blocks, axis=1)

    def log_prob(self, input):
        """log p(c | x) for every class: (N, in_features) -> (N, n_classes). NumPy in,
        NumPy out when called with an array; differentiable when called with a Tensor."""
        if isinstance(input, Tensor):
            x = self._check_2d(input, "log_prob")
            return self._full_log_prob(x, self.head(x))
        with ag.no_grad():
            x = self._check_2d(input, "log_prob")
            return self._full_log_prob(x, self.head(x)).data

    def predict(self, input):
        """argmax_c log p(c | x), as torch computes it: the head's argmax where it
        falls in the shortlist (the head's logits, not the full distribution), else
        the argmax of the full log-probabilities. (N, in_features) -> (N,) int64."""
        with ag.no_grad():
            x = self._check_2d(input.data if isinstance(input, Tensor) else input, "predict")
            head_output = self.head(x)
            output = np.argmax(head_output.data, axis=1).astype(np.int64) if x.shape[0] else np.zeros(0, np.int64)
            outside = output >= self.shortlist_size
            if outside.any():
                rows = np.flatnonzero(outside)
                full = self._full_log_prob(Tensor(x.data[rows]), Tensor(head_output.data[rows]))
                output[rows] = np.argmax(full.data, axis=1)
            return output

    def extra_repr(self):
        return ""  # torch's class has no extra_repr: its repr lists only the head and the tail
