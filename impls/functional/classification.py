"""Classification losses: cross entropy, NLL, binary cross entropy, KL divergence,
margin losses over classes.

Every loss here is one fused primitive (forward and hand-written backward side by
side); the reductions ('none', 'sum', 'mean', and the weighted and batch means) are
:func:`.loss.reduce_array` (or :func:`.loss.reduce` on the tape).
Notation: ``x`` input, ``t`` target, ``w`` the per-class ``weight`` buffer, ``g``
the cotangent of the (unreduced) loss, ``C`` the number of classes.

torch 2.13.0 behaviours that a reader might not expect (each checked against
torch's source and a float64 run; the twin follows torch unless said otherwise):

* cross_entropy/nll_loss 'mean' with class indices divides by the *sum of the
  weights of the non-ignored targets*; every target ignored gives 0/0 = NaN, yet
  the gradient is exactly 0 (torch only writes gradient rows of non-ignored
  targets).
* cross_entropy with ``label_smoothing`` (aten/src/ATen/native/LossNLL.cpp,
  ``cross_entropy_loss_label_smoothing``):
  ``(1 - e) * nll + (e / C) * smooth`` where ``smooth_i = -sum_c w_c log p_ic``
  (each class weighted by *its own* weight, not by ``w_{y_i}``), zero for ignored
  targets, and 'mean' divides ``sum smooth`` by the same ``sum w_{y_i}`` as the
  NLL part. A *negative* ``label_smoothing`` is silently ignored (torch only
  takes the smoothing branch when ``e > 0``; only ``e > 1`` raises).
* cross_entropy with probability targets: ``t' = t (1 - e) + e / C``,
  ``l_i = -sum_c w_c t'_ic log p_ic``; 'mean' divides by the number of rows
  ``numel / C`` even with a weight. The target gets a gradient.
* binary_cross_entropy: each log is clamped at -100 in the forward, the input
  gradient is ``(x - t) / max(x (1 - x), 1e-12)``, but the target gradient is
  ``-logit(x) = log((1 - x) / x)`` *unclamped*: +inf at x = 0 and -inf at x = 1,
  although the clamped forward has slope -100 / +100 there. The twin follows
  torch (torch's target gradient is not the derivative of its own forward).
* multi_margin_loss with ``weight`` and ``p=2``: the kernel computes
  ``w_y * max(0, z)^2``, not ``max(0, w_y z)^2`` as torch's docstring writes;
  the twin follows the kernel.
* multi_margin_loss and multilabel_margin_loss on an empty batch with 'mean' or
  'sum' return uninitialised memory in torch (values like 4.7e-310, varying from
  run to run); the twin returns NaN ('mean') and 0 ('sum'), the convention of
  every other torch loss. Only 'none' is comparable there.
* soft_margin_loss is ``log1p(exp(-t x))`` literally (not a stable softplus):
  it overflows to inf for ``-t x > 88`` in float32 (the true value is ~``-t x``)
  and its gradient is then NaN. The twin uses torch's formula; the fuzzed range
  stays clear of the overflow. torch gives no target gradient (it raises).
* kl_div (``log_target=False``) is ``xlogy(t, t) - t x``; its target gradient at
  ``t = 0`` is NaN (xlogy's derivative in its second argument is ``t / t``).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import autograd as ag
from .._validate import check, check_float_input
from ..autograd import Tensor, op
from .activation import stable_log_sigmoid, stable_log_softmax, stable_sigmoid
from .loss import BOOL_SUBTRACTION, broadcast_shapes, check_reduction, grad_to, reduce, reduce_array, target_array

__all__ = [
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "linear_cross_entropy",
]


# ----------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------


def _arr(x):
    if x is None:
        return None
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _index_target(t: np.ndarray, who: str) -> None:
    check(t.dtype in (np.int64, np.uint8), RuntimeError,
          f"{who}: expected target dtype to be Long or Byte (class indices, int64), but got {t.dtype}")


def _class_weight(weight, C: int, dtype, who: str):
    """The per-class weight: 1-D of size C, in the input's dtype."""
    if weight is None:
        return None
    w = _arr(weight)
    check(w.ndim == 1 and w.size == C, RuntimeError,
          f"{who}: weight tensor should be defined either for all {C} classes or no classes "
          f"but got weight tensor of shape: {list(w.shape)}")
    check(w.dtype == dtype, RuntimeError, f"{who}: expected scalar type {dtype} for weight but found {w.dtype}")
    return w


def _same_dtype(a: np.ndarray, dtype, who: str, name: str) -> None:
    check(a.dtype == dtype, RuntimeError, f"{who}: expected {name} of dtype {dtype} (the input's), but found {a.dtype}")


def _index_rows(x: Tensor, target: np.ndarray, who: str):
    """Shapes of an input with classes on dim 1 ((C,), (N, C) or (N, C, d1, ..., dK))
    and its class-index target ((), (N) or (N, d1, ..., dK)). Returns the target as
    an array shaped like the loss per element (torch's rules, LossNLL.cpp)."""
    check(x.ndim >= 1, ValueError, f"{who}: Expected 1 or more dimensions (got {x.ndim})")
    if x.ndim == 1:
        _index_target(target, who)
        check(target.ndim <= 1, RuntimeError, f"{who}: 0D or 1D target tensor expected, multi-target not supported")
        if target.ndim == 1:
            check(target.size == 1, ValueError,
                  f"{who}: For 1D input, 1D target must have size 1, but got target size: {target.size}")
            target = target.reshape(())
        return target
    check(target.ndim >= 1 and target.shape[0] == x.shape[0], ValueError,
          f"{who}: Expected input batch_size ({x.shape[0]}) to match target batch_size "
          f"({target.shape[0] if target.ndim else 'none: 0-d target'}).")
    _index_target(target, who)  # torch checks the batch size first, then the dtype
    if x.ndim == 2:
        check(target.ndim == 1, RuntimeError, f"{who}: 0D or 1D target tensor expected, multi-target not supported")
    else:
        check(target.shape[1:] == x.shape[2:], RuntimeError,
              f"{who}: Expected target size {[x.shape[0], *x.shape[2:]]}, got {list(target.shape)}")
    return target


def _valid_targets(t: np.ndarray, ignore_index: int, C: int, who: str):
    """(mask of non-ignored targets, targets with ignored ones replaced by 0).
    A non-ignored target outside [0, C) raises IndexError, as torch."""
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= C))
    if bad.any():
        raise IndexError(f"{who}: Target {int(t[bad].reshape(-1)[0])} is out of bounds (classes are 0..{C - 1}).")
    return valid, np.where(valid, t, 0).astype(np.int64, copy=False)


def _to_last(a: np.ndarray) -> np.ndarray:
    return np.moveaxis(a, 1, -1) if a.ndim >= 2 else a


def _from_last(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(a, -1, 1)) if a.ndim >= 2 else a


# ----------------------------------------------------------------------------------
# Cross entropy and NLL
# ----------------------------------------------------------------------------------


def cross_entropy(input: Tensor, target: Tensor, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy of logits ``x`` (classes on dim 1, or dim 0 for a (C,) input).

    Class-index target y (int64, shape of x without the class dim)::

        log p = log_softmax(x)  (log-sum-exp)
        nll_i = -w_{y_i} log p_{i, y_i} * [y_i != ignore_index]
        smooth_i = -sum_c w_c log p_{ic} * [y_i != ignore_index]
        l_i = (1 - e) nll_i + (e / C) smooth_i          (e = label_smoothing if > 0 else 0)
        'mean' = sum_i l_i / sum_i w_{y_i} [y_i != ignore_index]

    Probability target t (float, same shape as x)::

        l_i = -sum_c w_c t'_{ic} log p_{ic},  t' = (1 - e) t + e / C;  'mean' = sum l / (numel / C)

    Both are ``l_i = -sum_c q_ic log p_ic`` for a coefficient array ``q``, whose fused
    backward is ``dl_i/dx_ic = p_ic * sum_k q_ik - q_ic`` and, for probability
    targets, ``dl_i/dt_ic = -(1 - e) w_c log p_ic``. See the module docstring for
    the torch conventions (weighted mean, ignored targets, smoothing).
    """
    who = "cross_entropy"
    reduction = check_reduction(reduction)
    x = input
    check_float_input(x, who)
    t = target.data
    prob = t.shape == x.shape
    if prob:
        check(np.issubdtype(t.dtype, np.floating), RuntimeError,
              f"{who}: Expected floating point type for target with class probabilities, got {t.dtype}")
        check(ignore_index < 0, RuntimeError, f"{who}: ignore_index is not supported for floating point target "
                                              f"(got ignore_index={ignore_index})")
        # any float dtype: torch multiplies log p by the target with type promotion
    else:
        t = _index_rows(x, t, who)
    C = x.shape[0] if x.ndim == 1 else x.shape[1]
    eps = float(label_smoothing)
    if eps > 0.0:
        check(eps <= 1.0, RuntimeError, f"{who}: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    else:
        eps = 0.0  # torch ignores a negative label_smoothing
    w = _class_weight(weight, C, x.dtype, who)
    dt = x.dtype
    xl = _to_last(x.data)
    # softmax p from the forward's exponentials (the backward's exp(log p), to an ulp)
    logp, p = stable_log_softmax(xl, -1, probabilities=True)
    wrow = w if w is not None else np.ones(C, dt)

    if prob:
        tl = _to_last(t)
        tq = tl * (1 - eps) + eps / C if eps > 0 else tl
        q = tq * wrow
        per = -(logp * q).sum(axis=-1)
        rows = x.size // C if C else 0
        out, spread = reduce_array(per, reduction, denom=rows)  # 'mean' over rows, even with a weight

        def vjp(g):
            gr = spread(g)[..., None]
            gx = gt = None
            if x.requires_grad:
                # z: cotangent of log p, in log p's dtype (torch casts it back from the
                # promoted product); then log_softmax's backward z - p * sum(z)
                z = (-(gr * q)).astype(dt, copy=False)
                gx = _from_last(z - p * z.sum(axis=-1, keepdims=True))
            if target.requires_grad:
                gt = _from_last((-(gr * logp) * (wrow * (1 - eps))).astype(target.dtype, copy=False))
            return gx, gt

        return op(out, (x, target), vjp)

    valid, ts = _valid_targets(t, ignore_index, C, who)
    logp_t = np.take_along_axis(logp, ts[..., None], axis=-1)[..., 0]
    w_t = wrow[ts]
    zero = np.zeros((), dt)
    nll = np.where(valid, -logp_t * w_t, zero)
    denom = np.where(valid, w_t, zero).sum(dtype=dt) if w is not None else np.asarray(valid.sum(), dt)
    out, spread = reduce_array(nll, reduction, denom)
    if eps > 0:
        smooth = np.where(valid, -(logp * wrow).sum(axis=-1), zero)
        out = (1 - eps) * out + reduce_array(smooth, reduction, denom)[0] * (eps / C)
    out = np.asarray(out, dtype=dt)

    def vjp(g):
        gr = np.where(valid, spread(g), zero)  # ignored targets get exactly 0 (also when 'mean' is 0/0)
        # z: cotangent of log p (+0 off the target, as torch's zero-initialised nll
        # gradient); then log_softmax's backward z - p * sum(z), which keeps torch's
        # sign of zero where p underflows.
        z_t = (-(gr * ((1 - eps) * w_t))).astype(dt, copy=False)[..., None]
        total = (1 - eps) * w_t + ((eps / C) * wrow.sum(dtype=dt) if eps > 0 else 0.0)
        gx = p * (gr * total).astype(dt, copy=False)[..., None]
        if eps > 0:
            z = (gr * (eps / C)).astype(dt, copy=False)[..., None] * wrow
            np.subtract(gx, z, out=gx)  # (0 - z) + p s: the same roundings as z + p s below
        else:
            gx += dt.type(0)  # z's +0 off the target: +0 + (-0.0) is +0 where p underflows
        gx_t = np.take_along_axis(gx, ts[..., None], axis=-1)
        np.put_along_axis(gx, ts[..., None], z_t + gx_t, axis=-1)
        return _from_last(gx), None

    return op(out, (x, target), vjp)


def nll_loss(input: Tensor, target: Tensor, weight=None, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log likelihood of log-probabilities ``x`` (classes on dim 1, or dim 0
    for a (C,) input) at class indices y::

        l_i = -w_{y_i} x_{i, y_i} [y_i != ignore_index]
        'mean' = sum_i l_i / sum_i w_{y_i} [y_i != ignore_index]  (0/0 = NaN if all ignored)

    Backward: ``dl_i/dx_{i,y_i} = -w_{y_i}`` (0 elsewhere and for ignored targets,
    also when 'mean' is NaN). No target gradient (integer target).
    """
    who = "nll_loss"
    reduction = check_reduction(reduction)
    x = input
    check_float_input(x, who)
    t = _index_rows(x, target.data, who)
    C = x.shape[0] if x.ndim == 1 else x.shape[1]
    w = _class_weight(weight, C, x.dtype, who)
    dt = x.dtype
    valid, ts = _valid_targets(t, ignore_index, C, who)
    xl = _to_last(x.data)
    x_t = np.take_along_axis(xl, ts[..., None], axis=-1)[..., 0]
    zero = np.zeros((), dt)
    w_t = w[ts] if w is not None else np.ones(ts.shape, dt)
    per = np.where(valid, -x_t * w_t, zero)
    denom = np.where(valid, w_t, zero).sum(dtype=dt) if w is not None else np.asarray(valid.sum(), dt)
    out, spread = reduce_array(per, reduction, denom)

    def vjp(g):
        gr = np.where(valid, spread(g), zero)
        gx = np.zeros(xl.shape, dt)
        np.put_along_axis(gx, ts[..., None], (-(gr * w_t)).astype(dt, copy=False)[..., None], axis=-1)
        return _from_last(gx), None

    return op(out, (x, target), vjp)


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, linear_bias=None, weight=None,
                         reduction: str = "mean", ignore_index=None, label_smoothing: float = 0.0) -> Tensor:
    """cross_entropy(linear(input, W, b).reshape(N, C, *out_features), target) —
    torch's reference path of F.linear_cross_entropy. ``linear_weight``: (C, d1, ...,
    dK, in_features). ``ignore_index=None`` means -100, and is rejected (RuntimeError)
    together with probability targets, as torch."""
    who = "linear_cross_entropy"
    check(1 <= input.ndim <= 2, RuntimeError, f"{who}: expected input with dimensionality 1 or 2, got {input.ndim}")
    check(linear_weight.ndim >= 2, RuntimeError,
          f"{who}: expected linear_weight with dimensionality at least 2, got {linear_weight.ndim}")
    batch, in_features = input.shape[:-1], input.shape[-1]
    check(in_features == linear_weight.shape[-1], RuntimeError,
          f"{who}: expected equal input and linear_weight last dimensions (in_features), "
          f"got {in_features} and {linear_weight.shape[-1]}, respectively")
    C, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None:
        check(tuple(linear_bias.shape) == (C, *out_features), RuntimeError,
              f"{who}: expected linear_bias shape {(C, *out_features)}, got {tuple(linear_bias.shape)}")
    check(not (out_features and not batch), RuntimeError,
          f"{who}: K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires batched "
          f"input, (N, {in_features}), got unbatched input with shape {tuple(input.shape)}")
    check_float_input(input, who)
    check(input.dtype == linear_weight.dtype, RuntimeError,
          f"{who}: input dtype {input.dtype} differs from linear_weight dtype {linear_weight.dtype}")
    logits_shape = (*batch, C, *out_features)
    prob = tuple(target.shape) == logits_shape
    check(not (prob and ignore_index is not None), RuntimeError,
          f"{who}: ignore_index cannot be specified when target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    rows = int(np.prod((C, *out_features), dtype=np.int64))
    w2 = ag.reshape(linear_weight, (rows, in_features))
    logits = ag.matmul(input, ag.transpose(w2, None))
    if linear_bias is not None:
        logits = logits + ag.reshape(linear_bias, (rows,))
    logits = ag.reshape(logits, logits_shape)
    return cross_entropy(logits, target, weight=weight, ignore_index=ignore_index, reduction=reduction,
                         label_smoothing=label_smoothing)


# ----------------------------------------------------------------------------------
# Binary cross entropy
# ----------------------------------------------------------------------------------


def _expand_weight(w, shape, who: str, name: str, dtype):
    """A weight broadcast against the loss; the result must keep the input's shape
    (torch multiplies in place and raises RuntimeError otherwise)."""
    if w is None:
        return None
    w = _arr(w)
    try:
        b = np.broadcast_shapes(tuple(shape), w.shape)
    except ValueError:
        raise RuntimeError(f"{who}: {name} of shape {list(w.shape)} cannot be broadcast to the input's shape {list(shape)}") from None
    check(b == tuple(shape), RuntimeError,
          f"{who}: output with shape {list(shape)} doesn't match the broadcast shape {list(b)} (of {name})")
    check(w.dtype == dtype, RuntimeError, f"{who}: expected {name} of dtype {dtype}, but found {w.dtype}")
    return w


def _same_size(x: Tensor, t: Tensor, who: str, message: str) -> None:
    check(x.shape == t.shape, ValueError, f"{who}: {message} (target {list(t.shape)}, input {list(x.shape)})")


def binary_cross_entropy(input: Tensor, target: Tensor, weight=None, reduction: str = "mean") -> Tensor:
    """BCE of probabilities x in [0, 1] (torch's Loss.cpp)::

        l = w * ((t - 1) * max(log1p(-x), -100) - t * max(log x, -100))
        dl/dx = w * (x - t) / max(x (1 - x), 1e-12)
        dl/dt = w * -logit(x) = w * -log(x / (1 - x))   (unclamped: +-inf at x = 0, 1)

    ``weight`` broadcasts against the target and must not enlarge the input's
    shape. Input or target outside [0, 1] (or NaN) raises RuntimeError, as torch.
    """
    who = "binary_cross_entropy"
    reduction = check_reduction(reduction)
    x, t = input, target
    check_float_input(x, who)
    _same_size(x, t, who, "Using a target size that is different to the input size is deprecated. "
                          "Please ensure they have the same size")
    _same_dtype(t.data, x.dtype, who, "target")
    w = _expand_weight(weight, x.shape, who, "weight", x.dtype)
    xd, td = x.data, t.data
    check(bool(np.all((xd >= 0) & (xd <= 1))), RuntimeError, f"{who}: all elements of input should be between 0 and 1")
    check(bool(np.all((td >= 0) & (td <= 1))), RuntimeError, f"{who}: all elements of target should be between 0 and 1")
    dt = x.dtype
    lo = np.asarray(-100, dt)
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(xd), lo)
        log_1mx = np.maximum(np.log1p(-xd), lo)
    loss = (td - 1) * log_1mx - td * log_x
    if w is not None:
        loss = loss * w

    def vjp(g):
        gx = gt = None
        if x.requires_grad:
            gx = g * (xd - td) / np.maximum((1 - xd) * xd, np.asarray(1e-12, dt))
            if w is not None:
                gx = gx * w
        if t.requires_grad:
            with np.errstate(divide="ignore"):
                gt = -np.log(xd / (1 - xd)) * g
            if w is not None:
                gt = gt * w
        return gx, gt

    return reduce(op(np.asarray(loss, dt), (x, t), vjp), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """BCE of logits, in torch's stable form (Loss.cpp)::

        lw = (pos_weight - 1) * t + 1                       (1 without pos_weight)
        l = w * ((1 - t) x - lw * log_sigmoid(x))
        dl/dx = w * ((pos_weight t + 1 - t) sigmoid(x) - pos_weight t)
        dl/dt = w * (log_sigmoid(-x) - pos_weight log_sigmoid(x))

    ``weight`` and ``pos_weight`` broadcast against the input (``pos_weight`` of
    shape (C,) weighs the classes along the last dim); neither may enlarge the
    input's shape (RuntimeError), as torch.
    """
    who = "binary_cross_entropy_with_logits"
    reduction = check_reduction(reduction)
    x, t = input, target
    check_float_input(x, who)
    _same_size(x, t, who, "Target size must be the same as input size")
    w = _expand_weight(weight, x.shape, who, "weight", x.dtype)
    pw = _expand_weight(pos_weight, x.shape, who, "pos_weight", x.dtype)
    xd, td = x.data, t.data
    # torch: loss = (1 - t).mul_(x).sub_(ls) in place, so the loss has the target's
    # dtype; an integer target cannot hold it (RuntimeError), a float one of another
    # width than the input's is accepted (float64 -> a float64 loss).
    check(np.issubdtype(td.dtype, np.floating), RuntimeError,
          f"{who}: result type Float can't be cast to the desired output type {td.dtype} (the target's)")
    ls = np.asarray(stable_log_sigmoid(xd))  # arrays also when 0-d: the ufuncs below write into them
    if pw is not None:
        np.multiply(ls, (pw - 1) * td + 1, out=ls, casting="same_kind")  # torch: ls.mul_(lw), in x's dtype
    loss = np.asarray(1 - td)
    np.multiply(loss, xd, out=loss, casting="same_kind")
    loss -= ls
    if w is not None:
        np.multiply(loss, w, out=loss, casting="same_kind")

    def vjp(g):
        gx = gt = None
        if x.requires_grad:
            if pw is not None:
                pt = pw * td
                gx = (pt + 1 - td) * stable_sigmoid(xd) - pt
            else:
                gx = stable_sigmoid(xd) - td
            gx = gx * g
            if w is not None:
                gx = gx * w
            gx = gx.astype(x.dtype, copy=False)
        if t.requires_grad:
            gt = (stable_log_sigmoid(-xd) - stable_log_sigmoid(xd) * pw) if pw is not None else -xd
            gt = gt * g
            if w is not None:
                gt = gt * w
            gt = gt.astype(t.dtype, copy=False)
        return gx, gt

    return reduce(op(loss, (x, t), vjp), reduction)


# ----------------------------------------------------------------------------------
# KL divergence
# ----------------------------------------------------------------------------------


def kl_div(input: Tensor, target: Tensor, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Pointwise KL divergence, input x = log q (torch's aten kl_div)::

        log_target=False: l = xlogy(t, t) - t x;   dl/dx = -t,  dl/dt = xlogy(t != 0, t) + t / t - x
        log_target=True:  l = exp(t) (t - x);      dl/dx = -exp(t),  dl/dt = exp(t) (t - x + 1)

    (``t / t`` makes the target gradient NaN at t = 0, as torch's.) Reductions:
    'none', 'sum', 'mean' (over all elements) and 'batchmean' = sum / x.shape[0]
    (just the sum for a 0-d input; NaN for an empty batch). Broadcasts x and t.
    """
    who = "kl_div"
    reduction = check_reduction(reduction, ("none", "mean", "sum", "batchmean"))
    if reduction == "mean":  # torch's UserWarning (torch/nn/functional.py kl_div), word for word
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=3)
    x, t = input, target
    check_float_input(x, who)
    shape = broadcast_shapes(who, input=x, target=t)
    check(np.issubdtype(t.dtype, np.floating), RuntimeError, f"{who}: Integral inputs not supported.")
    xd, td = x.data, t.data  # a float target of another width promotes, as in torch
    with np.errstate(divide="ignore", invalid="ignore"):
        if log_target:
            et = np.exp(td)
            loss = et * (td - xd)
        else:
            loss = np.where(td == 0, np.zeros((), td.dtype), td * np.log(td)) - td * xd

    def vjp(g):
        gx = gt = None
        if x.requires_grad:
            gx = grad_to(g * -(et if log_target else td), x)
        if t.requires_grad:
            with np.errstate(divide="ignore", invalid="ignore"):
                if log_target:
                    d = et * (td - xd + 1)
                else:
                    d = np.where(td != 0, np.log(td), np.zeros((), td.dtype)) + td / td - xd
            gt = grad_to(g * d, t)
        return gx, gt

    loss = op(np.broadcast_to(loss, shape).copy(), (x, t), vjp)
    if reduction == "batchmean":
        return reduce(loss, "mean", denom=x.shape[0]) if x.ndim else reduce(loss, "sum")
    return reduce(loss, reduction)


# ----------------------------------------------------------------------------------
# Margin losses over classes
# ----------------------------------------------------------------------------------


def _vector_or_matrix(x: Tensor, who: str) -> None:
    ok = (x.ndim == 1 and x.shape[0] != 0) or (x.ndim == 2 and x.shape[1] != 0)
    check(ok, RuntimeError, f"{who}: Expected non-empty vector or matrix with optional 0-dim batch size, "
                            f"but got: {list(x.shape)}")


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss (torch's MultiMarginCriterion kernel)::

        z_ij = margin - x_{i, y_i} + x_ij
        l_i = sum_{j != y_i, z_ij > 0} w_{y_i} z_ij^p / C        (p in {1, 2})

    Note ``w_y z^p``: the kernel weighs after the power (torch's docstring writes
    ``max(0, w_y z)^p``). Backward: ``dl_i/dx_ij = w_{y_i} p z_ij^(p-1) / C`` on the
    active set (z > 0 strictly, j != y_i) and ``dl_i/dx_{i,y_i} = -sum_j`` of those.
    Input (C,) with a 0-d target, or (N, C) with (N,). 'mean' averages over N.
    """
    who = "multi_margin_loss"
    reduction = check_reduction(reduction)
    check(p in (1, 2), ValueError, f"{who}: only p == 1 and p == 2 supported (got p={p})")
    x = input
    check_float_input(x, who)
    _vector_or_matrix(x, who)
    t = target.data
    check(t.dtype == np.int64, RuntimeError, f"{who}: expected scalar type Long but found {t.dtype} (target)")
    N = x.shape[0] if x.ndim == 2 else 1
    check(t.ndim <= 1 and t.size == N, RuntimeError,
          f"{who}: target tensor should be 1-D with size equal to the number of input samples (batch size). "
          f"Expected target size [{N}], but got {list(t.shape)}.")
    C = x.shape[-1]
    check(bool(np.all((t >= 0) & (t < C))), RuntimeError, f"{who}: target out of range (classes are 0..{C - 1})")
    w = None
    if weight is not None:
        w = _arr(weight)
        check(w.ndim == 1, ValueError, f"{who}: weight must be one-dimensional")
        check(w.size == C, RuntimeError, f"{who}: inconsistent weight size, expected {C} but got {list(w.shape)}")
        _same_dtype(w, x.dtype, who, "weight")
    dt = x.dtype
    x2 = x.data.reshape(N, C)
    ty = t.reshape(N)
    x_y = np.take_along_axis(x2, ty[:, None], axis=1)
    z = (margin - x_y) + x2
    active = z > 0
    active[np.arange(N), ty] = False
    h = np.where(active, z if p == 1 else z * z, np.zeros((), dt))
    if w is not None:
        h = h * w[ty][:, None]
    per = (h.sum(axis=1) / C).astype(dt, copy=False)
    per_shape = (N,) if x.ndim == 2 else ()
    out, spread = reduce_array(per.reshape(per_shape), reduction)

    def vjp(g):
        gr = np.broadcast_to(spread(g), per_shape).reshape(N, 1)
        d = active.astype(dt) if p == 1 else np.where(active, 2 * z, np.zeros((), dt))
        if w is not None:
            d = d * w[ty][:, None]
        d = d * (gr / C)
        d[np.arange(N), ty] = -d.sum(axis=1)
        return d.reshape(x.shape), None

    return op(out, (x, target), vjp)


def multilabel_margin_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss (torch's MultiLabelMarginCriterion kernel).

    Each row's target lists class indices up to the first -1; J is that list
    (duplicates count as often as they appear), T its set::

        l = sum_{j in J} sum_{i not in T} max(0, 1 - (x_j - x_i)) / C

    Backward on the active pairs (z > 0 strictly): ``-1/C`` to ``x_j``, ``+1/C`` to
    ``x_i``. Every target value (also after the -1) must lie in [-1, C): torch
    raises RuntimeError otherwise. Input (C,) or (N, C), target of the same shape.
    """
    who = "multilabel_margin_loss"
    reduction = check_reduction(reduction)
    x = input
    check_float_input(x, who)
    _vector_or_matrix(x, who)
    t = target.data
    check(t.dtype == np.int64, RuntimeError, f"{who}: expected scalar type Long but found {t.dtype} (target)")
    check(t.shape == x.shape, RuntimeError, f"{who}: inconsistent target size: {list(t.shape)} for input of size: {list(x.shape)}")
    C = x.shape[-1]
    check(bool(np.all((t >= -1) & (t < C))), RuntimeError,
          f"{who}: argument #2 'target' is out of range (values must lie in [-1, {C - 1}])")
    dt = x.dtype
    N = x.shape[0] if x.ndim == 2 else 1
    x2, t2 = x.data.reshape(N, C), t.reshape(N, C)
    listed = np.cumprod(t2 != -1, axis=1).astype(bool)  # entries before the first -1
    count = np.zeros((N, C), dtype=np.int64)  # how often class c is listed in row n
    rows = np.broadcast_to(np.arange(N)[:, None], (N, C))
    np.add.at(count, (rows[listed], t2[listed]), 1)
    is_target = count > 0
    # z[n, j, i] = 1 - x_j + x_i over listed j (count) and unlisted i
    z = (1 - x2)[:, :, None] + x2[:, None, :]
    active = (z > 0) & (count > 0)[:, :, None] & ~is_target[:, None, :]
    cw = count.astype(dt)[:, :, None]
    per = (np.where(active, z, np.zeros((), dt)) * cw).sum(axis=(1, 2)) / C
    per_shape = (N,) if x.ndim == 2 else ()
    out, spread = reduce_array(per.astype(dt, copy=False).reshape(per_shape), reduction)

    def vjp(g):
        gr = np.broadcast_to(spread(g), per_shape).reshape(N, 1)
        a = np.where(active, cw, np.zeros((), dt))
        gx = a.sum(axis=1) - a.sum(axis=2)  # +1 per pair to x_i, -1 per pair to x_j
        return (gx * (gr / C)).astype(dt, copy=False).reshape(x.shape), None

    return op(out, (x, target), vjp)


def soft_margin_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """l = log1p(exp(-t x)) (torch's literal formula, overflowing for -t x > ~88 in
    float32); dl/dx = -t z / (1 + z), z = exp(-t x). Broadcasts x and t. torch gives
    no target gradient."""
    who = "soft_margin_loss"
    reduction = check_reduction(reduction)
    x, t = input, target
    check_float_input(x, who)
    shape = broadcast_shapes(who, input=x, target=t)
    # torch: neg_out(out, x).mul_(t).exp_().log1p_() into an output of the input's
    # dtype, so any target dtype is accepted (an integer one as the input's float
    # dtype), the product -x t is rounded to the input's dtype, and so is the loss.
    xd, td = x.data, target_array(x, t)
    z = np.broadcast_to(xd, shape).copy()  # an array also when 0-d (the ufuncs below write into it)
    np.negative(z, out=z)
    with np.errstate(over="ignore", invalid="ignore"):
        np.multiply(z, td, out=z, casting="same_kind")
        np.exp(z, out=z)
    loss = np.log1p(z)

    def vjp(g):
        with np.errstate(invalid="ignore"):
            gx = -(td * z) / (z + 1) * g
        return grad_to(gx, x), None

    return reduce(op(loss, (x, t), vjp), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight=None, reduction: str = "mean") -> Tensor:
    """One-vs-all logistic loss, averaged over the classes (last dim, size C)::

        l_ic = -w_c (t_ic log_sigmoid(x_ic) + (1 - t_ic) log_sigmoid(-x_ic))
        l_i = sum_c l_ic / C
        dl_ic/dx = w_c (sigmoid(x) - t),  dl_ic/dt = w_c (log_sigmoid(-x) - log_sigmoid(x)) = -w_c x

    torch's Python composition (F.multilabel_soft_margin_loss); x and t broadcast.
    """
    who = "multilabel_soft_margin_loss"
    check(reduction in ("none", "mean", "sum"), ValueError, f"{reduction} is not valid")
    x, t = input, target
    check_float_input(x, who)
    check(x.ndim >= 1, RuntimeError, f"{who}: expected an input with a class dimension, got a 0-d input")
    shape = broadcast_shapes(who, input=x, target=t)
    w = None
    if weight is not None:
        w = _arr(weight)
        try:
            shape = np.broadcast_shapes(shape, w.shape)
        except ValueError:
            raise RuntimeError(f"{who}: weight of shape {list(w.shape)} cannot be broadcast to {list(shape)}") from None
        _same_dtype(w, x.dtype, who, "weight")
    # torch's composite multiplies and subtracts the target with type promotion: an
    # integer target counts as the input's dtype, a float64 one makes the loss
    # float64, and 1 - t rejects a bool target.
    xd, td = x.data, target_array(x, t, BOOL_SUBTRACTION)
    loss = -(td * stable_log_sigmoid(xd) + (1 - td) * stable_log_sigmoid(-xd))
    if w is not None:
        loss = loss * w
    loss = np.broadcast_to(loss, shape).copy()

    def vjp(g):
        gx = gt = None
        if x.requires_grad:
            gx = g * (stable_sigmoid(xd) - td)
            if w is not None:
                gx = gx * w
            gx = grad_to(gx, x)
        if t.requires_grad:
            gw = g * w if w is not None else g
            # torch's graph gives (-gw) ls(x) - (-gw) ls(-x); written as a difference so
            # that x = 0 yields +0 as torch's does
            gt = grad_to(gw * stable_log_sigmoid(-xd) - gw * stable_log_sigmoid(xd), t)
        return gx, gt

    C = x.shape[-1]
    per = ag.sum_(op(loss, (x, t), vjp), x.ndim - 1)  # torch sums over dim input.dim() - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        per = ag.div(per, float(C) if C else np.nan)
    return reduce(per, reduction)
