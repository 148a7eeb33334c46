"""Connectionist temporal classification (CTC) in log space.

Graves et al. 2006 (https://www.cs.toronto.edu/~graves/icml_2006.pdf), 0-based,
as torch's CPU kernel (aten/src/ATen/native/LossCTC.cpp) computes it:

* extended labels ``l'`` of length ``2 S + 1``: blank, l_1, blank, l_2, ..., blank;
* ``alpha_0(0) = lp_0(blank)``, ``alpha_0(1) = lp_0(l_1)``, other states -inf;
  ``alpha_t(s) = logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1), [alpha_{t-1}(s-2) if
  l'_s != l'_{s-2}]) + lp_t(l'_s)`` (a label repeated back to back needs a blank
  between its copies, so the skip is forbidden there);
* ``nll = -logsumexp(alpha_{T-1}(2S), alpha_{T-1}(2S-1))`` (only ``alpha(0)``
  when S = 0; ``nll = 0`` if T = S = 0 and ``+inf`` if T = 0 < S);
* beta is the mirror recursion from ``t = T-1`` (``beta`` includes ``lp_t`` as
  Graves's does), and the per-class occupancy is
  ``lcab_t(c) = logsumexp_{s: l'_s = c} alpha_t(s) + beta_t(s)``.

Vectorised over the batch and over the extended-label axis; the only Python loop
is over time steps (the recursion is sequential in t).

**torch's gradient convention (surprising, and matched here).** torch's backward is

    grad lp_t(c) = (exp(lp_t(c)) - exp(lcab_t(c) + nll - lp_t(c))) * grad_nll

for ``t < input_length`` and 0 for later steps. The second term alone is the
derivative of ``nll`` with respect to ``lp`` (minus the posterior occupancy); the
``exp(lp)`` term makes it the gradient with respect to the *logits* ``u`` of
``lp = log_softmax(u)``. So torch's gradient is NOT the derivative of its forward
when ``log_probs`` are treated as free variables (finite differences of the loss
give only the second term), whether or not ``log_probs`` are normalised. The twin
returns torch's convention; the harness's gradcheck therefore judges the twin's
backward minus the ``exp(lp)`` term against finite differences of the forward
(the CTCLoss catalog entry's ``gradcheck_adjust``).

Consequences of the formula, all matched: an infinite loss (input too short)
without ``zero_infinity`` gives NaN gradients for every ``t < input_length`` of
that sample (``-inf + inf``), and 0 for later steps and for ``input_length = 0``;
``lp = -inf`` anywhere gives a NaN gradient there; with ``zero_infinity`` the
whole sample's gradient is 0 when its loss is infinite.

Targets equal to ``blank`` and out-of-range targets are not checked by torch's
CPU kernel (an out-of-range index reads arbitrary memory). The twin rejects
out-of-range targets with a RuntimeError; it computes the recursion for a target
equal to blank, where torch's kernel, at ``t = input_length-1``, overwrites the
blank occupancy instead of adding to it (its gradient differs from the twin's
there; the forward agrees).
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import autograd as ag
from .._validate import check
from ..autograd import Tensor, op
from .loss import check_reduction, reduce

__all__ = ["ctc_loss", "ctc_nll"]

WHO = "ctc_loss"


def _lengths(x, name: str) -> np.ndarray:
    """Lengths as torch takes them: an integer array of any shape (its elements,
    flattened), or a tuple/list of Python ints. Floats and bools -> RuntimeError;
    a bare Python int -> TypeError, as torch."""
    if isinstance(x, Tensor):
        x = x.data
    if isinstance(x, np.generic):
        x = np.asarray(x)
    if isinstance(x, (tuple, list)):
        check(all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in x), TypeError,
              f"{WHO}: {name} must be a tuple of ints or an integer array, got {x!r}")
        return np.asarray(x, dtype=np.int64).reshape(-1)
    check(isinstance(x, np.ndarray), TypeError,
          f"{WHO}: {name} must be a tuple of ints or an integer array, got {type(x).__name__}")
    check(np.issubdtype(x.dtype, np.integer), RuntimeError, f"{WHO}: {name} must be integral, got dtype {x.dtype}")
    return x.astype(np.int64).reshape(-1)


def _log_add3(a, b, c, out):
    """log(exp(a) + exp(b) + exp(c)) into ``out``, as two ``np.logaddexp`` (each
    max(u, v) + log1p(exp(-|u - v|)), with logaddexp(-inf, -inf) = -inf): within an ulp
    of torch's kernel, which shifts all three by their max, and 2 NumPy calls per time
    step instead of 12 (the recursion is a Python loop over time, so calls count)."""
    np.logaddexp(a, b, out=out)
    return np.logaddexp(out, c, out=out)


def _validate(lp: np.ndarray, targets: np.ndarray, il: np.ndarray, tl: np.ndarray, blank: int):
    """torch's checks (ctc_loss_allocate_outputs), in its order. Returns the padded
    targets (N, S) as int64, positions past each target length filled with blank."""
    T, N, C = lp.shape
    check(isinstance(blank, numbers.Integral) and 0 <= blank < C, RuntimeError,
          f"{WHO}: blank must be in label range [0, {C}), got {blank}")
    check(il.size == N, RuntimeError, f"{WHO}: input_lengths must be of size batch_size ({N}), got {il.size} value(s)")
    check(tl.size == N, RuntimeError, f"{WHO}: target_lengths must be of size batch_size ({N}), got {tl.size} value(s)")
    check(bool(np.all(tl >= 0)), RuntimeError, f"{WHO}: Expected target_lengths to have value at least 0, but got {tl.min()}")
    S = int(tl.max())
    if targets.ndim == 1:  # concatenated
        check(targets.shape[0] == int(tl.sum()), RuntimeError,
              f"{WHO}: concatenated targets must have sum(target_lengths) = {int(tl.sum())} elements, got {targets.shape[0]}")
        offsets = np.concatenate([[0], np.cumsum(tl)[:-1]]).astype(np.int64)
        idx = offsets[:, None] + np.arange(S)[None, :]
        valid = np.arange(S)[None, :] < tl[:, None]
        padded = targets[np.minimum(idx, targets.shape[0] - 1)] if targets.size else np.zeros((N, S), np.int64)
        padded = np.where(valid, padded, 0)
    else:
        check(targets.shape[0] == N, RuntimeError,
              f"{WHO}: padded targets must have batch_size ({N}) rows, got shape {targets.shape}")
        check(targets.shape[1] >= S, RuntimeError,
              f"{WHO}: padded targets have {targets.shape[1]} columns, fewer than the largest target length {S}")
        padded = targets[:, :S]
    check(bool(np.all(il >= 0)), RuntimeError, f"{WHO}: Expected input_lengths to have value at least 0, but got {il.min()}")
    check(bool(np.all(il <= T)), RuntimeError, f"{WHO}: Expected input_lengths to have value at most {T}, but got {il.max()}")
    used = np.arange(S)[None, :] < tl[:, None]
    check(bool(np.all(((padded >= 0) & (padded < C)) | ~used)), RuntimeError,
          f"{WHO}: target indices must be in [0, {C}) (torch's CPU kernel does not check this and reads arbitrary memory)")
    return np.where(used, padded, blank).astype(np.int64)


def ctc_nll(log_probs: Tensor, targets: np.ndarray, il: np.ndarray, tl: np.ndarray, blank: int,
            zero_infinity: bool) -> Tensor:
    """Per-sample negative log-likelihood (N,) of (T, N, C) ``log_probs``, fused
    with torch's backward (see the module docstring). ``targets`` padded (N, S)."""
    lp = log_probs.data
    T, N, C = lp.shape
    dt = lp.dtype
    S = targets.shape[1]
    L = 2 * S + 1
    neginf = dt.type(-np.inf)
    ext = np.full((N, L), blank, dtype=np.int64)  # l'
    ext[:, 1::2] = targets
    s_idx = np.arange(L)
    n_idx = np.arange(N)
    skip = np.zeros((N, L), dtype=bool)  # l'_s != l'_{s-2}: the s-2 -> s transition is allowed
    skip[:, 2:] = ext[:, 2:] != ext[:, :-2]
    # lp at the extended labels: lpe[t, n, s] = lp[t, n, l'_s]
    lpe = np.take_along_axis(lp, np.broadcast_to(ext[None], (T, N, L)), axis=2)

    alpha = np.full((T, N, L), neginf, dtype=dt)
    alpha[0, :, 0] = lpe[0, :, 0]
    if L > 1:
        alpha[0, :, 1] = np.where(tl > 0, lpe[0, :, 1], neginf)
    no_skip = ~skip
    a2 = np.full((N, L), neginf, dt)  # alpha_{t-1}(s-1); column 0 stays -inf
    a3 = np.full((N, L), neginf, dt)  # alpha_{t-1}(s-2) where the skip is allowed
    with np.errstate(divide="ignore"):
        for t in range(1, T):
            prev = alpha[t - 1]
            a2[:, 1:] = prev[:, :-1]
            a3[:, 2:] = prev[:, :-2]
            np.copyto(a3, neginf, where=no_skip)
            cur = alpha[t]
            _log_add3(prev, a2, a3, cur)
            cur += lpe[t]

    end = alpha[np.maximum(il - 1, 0), n_idx]  # (N, L): alpha at each sample's last step
    l1 = end[n_idx, 2 * tl]
    l2 = np.where(tl > 0, end[n_idx, np.maximum(2 * tl - 1, 0)], neginf)
    ll = np.logaddexp(l1, l2)
    ll = np.where(il > 0, ll, np.where(tl == 0, dt.type(0), neginf)).astype(dt, copy=False)
    nll = -ll

    def vjp(g):
        # beta: each sample starts at its own t = il-1 with its two final states.
        final = (s_idx[None, :] == 2 * tl[:, None]) | (s_idx[None, :] == 2 * tl[:, None] - 1)
        starts = np.where(final[None], lpe, neginf)  # beta at each sample's last step
        t_idx = np.arange(T)[:, None]
        is_start = (t_idx == il[None, :] - 1)[:, :, None]  # (T, N, 1)
        is_after = (t_idx > il[None, :] - 1)[:, :, None]
        beta = np.full((T, N, L), neginf, dtype=dt)
        b2 = np.full((N, L), neginf, dt)  # beta_{t+1}(s+1); last column stays -inf
        b3 = np.full((N, L), neginf, dt)  # beta_{t+1}(s+2) where the skip is allowed
        no_skip_up = np.ones((N, L), dtype=bool)
        no_skip_up[:, :-2] = ~skip[:, 2:]  # s -> s+2 allowed iff l'_{s+2} != l'_s
        nxt = np.full((N, L), neginf, dtype=dt)
        with np.errstate(divide="ignore"):
            for t in range(T - 1, -1, -1):
                b2[:, :-1] = nxt[:, 1:]
                b3[:, :-2] = nxt[:, 2:]
                np.copyto(b3, neginf, where=no_skip_up)
                cur = beta[t]
                _log_add3(nxt, b2, b3, cur)
                cur += lpe[t]
                np.copyto(cur, starts[t], where=is_start[t])
                np.copyto(cur, neginf, where=is_after[t])
                nxt = cur
        ab = alpha + beta  # (T, N, L)
        # lcab[t, n, c] = logsumexp over {s: l'_s = c} of ab[t, n, s]: shift by the
        # max over s, then sum the exponentials into classes with a one-hot matmul.
        mx = ab.max(axis=2, keepdims=True)
        mx[~np.isfinite(mx)] = 0
        e = np.exp(ab - mx)  # (T, N, L)
        onehot = np.zeros((N, L, C), dtype=dt)
        onehot[n_idx[:, None], s_idx[None, :], ext] = 1
        collected = np.matmul(e.transpose(1, 0, 2), onehot).transpose(1, 0, 2)  # (T, N, C)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lcab = np.log(collected) + mx
            grad = (np.exp(lp) - np.exp(lcab + nll[None, :, None] - lp)) * g[None, :, None]
        active = np.arange(T)[:, None] < il[None, :]  # (T, N): steps inside each input
        if zero_infinity:
            active = active & (nll != np.inf)[None, :]
        grad = np.where(active[:, :, None], grad, dt.type(0))
        return (grad.astype(dt, copy=False),)

    return op(nll, (log_probs,), vjp)


def ctc_loss(log_probs: Tensor, targets, input_lengths, target_lengths, blank: int = 0, reduction: str = "mean",
             zero_infinity: bool = False) -> Tensor:
    """torch.nn.functional.ctc_loss.

    log_probs (T, N, C) or (T, C) unbatched; targets padded (N, S) or concatenated
    (sum(target_lengths),) (unbatched: (S,) concatenated or (1, S)); integer or
    float targets (torch casts them to int64); lengths as integer arrays (any
    shape: their elements are used) or tuples of ints.
    'mean' divides each loss by its target length clamped to >= 1, then averages
    over the batch; with ``zero_infinity`` infinite losses become 0 before the
    reduction (and their gradients 0).
    """
    lp = log_probs.data
    check(np.issubdtype(lp.dtype, np.floating), NotImplementedError,
          f"{WHO}: not implemented for log_probs of dtype {lp.dtype} (float32 or float64 expected)")
    il = _lengths(input_lengths, "input_lengths")
    tl = _lengths(target_lengths, "target_lengths")
    check(lp.ndim in (2, 3), RuntimeError,
          f"{WHO}: Expected log_probs of 3 dimensions (T, N, C) or 2 (T, C), got {lp.ndim}-dimensional shape {lp.shape}")
    batched = lp.ndim == 3
    check(lp.size > 0, RuntimeError, f"{WHO}: log_probs tensor must not be empty, got shape {lp.shape}")
    tg = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    check(tg.ndim in (1, 2), RuntimeError, f"{WHO}: Expected targets of 1 to 2 dimensions, but got {tg.ndim}-dimensional shape {tg.shape}")
    check(np.issubdtype(tg.dtype, np.integer) or np.issubdtype(tg.dtype, np.floating), RuntimeError,
          f"{WHO}: targets must be an integer (or float) array, got dtype {tg.dtype}")
    if np.issubdtype(tg.dtype, np.floating):  # torch: targets.to(kLong) truncates toward zero
        check(bool(np.all(np.isfinite(tg))), RuntimeError, f"{WHO}: float targets must be finite")
        tg = np.trunc(tg)
    tg = tg.astype(np.int64)
    reduction = check_reduction(reduction)
    lp3 = log_probs if batched else ag.reshape(log_probs, (lp.shape[0], 1, lp.shape[1]))
    padded = _validate(lp3.data, tg, il, tl, blank)
    nll = ctc_nll(lp3, padded, il, tl, int(blank), bool(zero_infinity))
    if zero_infinity:
        nll = ag.where(nll.data == np.inf, np.zeros((), lp.dtype), nll)
    if reduction == "none":
        return nll if batched else ag.reshape(nll, ())
    if reduction == "mean":  # each loss over its target length (at least 1), then the batch mean
        nll = ag.div(nll, np.maximum(tl, 1).astype(lp.dtype))
    return reduce(nll, reduction)
