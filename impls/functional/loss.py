"""Regression, ranking and embedding losses, and the reduction rule all losses share.

Every loss here is a *fused primitive*: the forward is vectorised NumPy on the
broadcast operands, and the hand-written vjp beside it follows torch's backward
formula (tools/autograd/derivatives.yaml, torch/_decomp/decompositions.py,
aten/src/ATen/native/Loss.cpp, FunctionsManual.cpp ``norm_backward``), including
its conventions at kinks:

* ``sgn(0) = sgn(-0.0) = sgn(nan) = 0`` (``abs`` backward, L1, SmoothL1 with beta=0).
* ``clamp_min(v, 0)`` passes the gradient where ``v >= 0``: at a margin boundary
  (the hinge value is exactly 0) the *full* gradient flows (MarginRanking,
  HingeEmbedding, CosineEmbedding, TripletMargin*).
* ``minimum(a, b)`` splits the gradient in half on a tie (TripletMargin* swap).

Reductions (:func:`reduce_array`, the one rule every loss in impls uses): 'none'
keeps the elementwise loss, 'sum' sums, 'mean' divides the sum by a denominator,
by default the number of (broadcast) elements, so the mean of an empty loss is
0/0 = NaN, as in torch. The gradient of 'mean' is ``g / denominator`` broadcast,
as torch's kernels do.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import autograd as ag
from .._validate import check
from ..autograd import Tensor, op, sign, unbroadcast

__all__ = [
    "REDUCTIONS", "check_reduction", "reduce", "reduce_array",
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "poisson_nll_loss", "gaussian_nll_loss",
    "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
    "triplet_margin_loss", "triplet_margin_with_distance_loss",
]

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str, allowed=REDUCTIONS) -> str:
    """torch raises ValueError("<r> is not a valid value for reduction")."""
    check(reduction in allowed, ValueError, f"{reduction} is not a valid value for reduction")
    return reduction


def reduce_array(loss: np.ndarray, reduction: str, denom=None):
    """Reduce an unreduced loss array: the reduction rule of every loss in impls.

    Returns ``(out, spread)``. ``out`` is ``loss`` itself ('none'), its sum ('sum'),
    or its sum divided by ``denom`` ('mean'), in the loss's dtype. ``denom`` defaults
    to the number of elements (so an empty loss gives 0/0 = NaN, as torch); cross
    entropy and NLL pass the summed weights of the non-ignored targets (0/0 = NaN
    when every target is ignored), KLDiv's 'batchmean' the batch size.
    ``spread(g)`` maps the cotangent of ``out`` to the cotangent each element of
    ``loss`` receives: ``g`` ('none': full shape; 'sum': 0-d) or ``g / denom``
    ('mean': 0-d), in g's dtype. A 0-d result broadcasts against the loss; callers
    multiply with it (it is cheaper than materialising the broadcast).
    """
    if reduction == "none":
        return loss, lambda g: g
    dt = loss.dtype
    total = np.asarray(loss.sum(), dtype=dt)
    if reduction == "sum":
        return total, lambda g: g
    d = np.asarray(loss.size if denom is None else denom, dtype=dt)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.asarray(total / d, dtype=dt)

    def spread(g):
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            return np.asarray(g / d, dtype=g.dtype)

    return out, spread


def reduce(loss: Tensor, reduction: str, denom=None) -> Tensor:
    """:func:`reduce_array` as a primitive on the tape, for a loss built from
    primitives ('none' returns ``loss`` itself)."""
    if reduction == "none":
        return loss
    out, spread = reduce_array(loss.data, reduction, denom)
    return op(out, (loss,), lambda g: (np.broadcast_to(spread(g), loss.shape).copy(),))


# ----------------------------------------------------------------------------------
# Shared pieces of the fused losses
# ----------------------------------------------------------------------------------


def broadcast_shapes(who: str, **named) -> tuple:
    """The broadcast shape of the named operands, or torch's RuntimeError."""
    shapes = {k: tuple(np.shape(v.data if isinstance(v, Tensor) else v)) for k, v in named.items()}
    try:
        return tuple(np.broadcast_shapes(*shapes.values()))
    except ValueError:
        desc = ", ".join(f"{k} {s}" for k, s in shapes.items())
        raise RuntimeError(f"{who}: the sizes of {desc} cannot be broadcast together") from None


#: torch's message where a loss's formula subtracts or negates a bool target.
BOOL_SUBTRACTION = ("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert "
                    "a mask, use the `~` or `logical_not()` operator instead.")
BOOL_NEGATION = ("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
                 "use the `~` or `logical_not()` operator instead.")


def _warn_target_size(input: Tensor, target: Tensor) -> None:
    """torch's UserWarning (l1, mse, smooth_l1, huber) when the target's shape differs from the input's."""
    if np.shape(target.data) != np.shape(input.data):
        warnings.warn(f"Using a target size ({np.shape(target.data)}) that is different to the input size "
                      f"({np.shape(input.data)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", UserWarning, stacklevel=3)


def target_array(input: Tensor, target: Tensor, bool_error: str | None = None) -> np.ndarray:
    """The target's values as torch's type promotion combines them with a float input.

    torch promotes by category: an integer or bool target next to a float input takes
    the input's dtype (NumPy would compute int32/int64 with float32 in float64); a
    float target keeps its dtype, and NumPy's promotion of two floats is torch's
    (float32 with float64 computes in, and returns, float64). ``bool_error``: torch's
    RuntimeError where the loss's formula subtracts or negates the target."""
    t = target.data
    check(not (bool_error and t.dtype == np.bool_), RuntimeError, bool_error or "")
    if np.issubdtype(t.dtype, np.floating) or not np.issubdtype(input.dtype, np.floating):
        return t
    return t.astype(input.dtype)


def grad_to(g: np.ndarray, parent: Tensor, shape=None) -> np.ndarray:
    """A cotangent formed at the broadcast ``shape`` (default: its own), summed back
    to ``parent``'s shape and cast to ``parent``'s dtype: torch gives every input a
    gradient of its own dtype, also when a float32 input met a float64 target."""
    if shape is not None:
        g = np.broadcast_to(g, shape)
    return unbroadcast(g, parent.shape).astype(parent.dtype, copy=False)


def _pointwise(who, input: Tensor, target: Tensor, reduction: str, forward, backward, bool_error=None) -> Tensor:
    """A loss ``l = f(input, target)`` elementwise on the broadcast pair, reduced.
    ``backward(x, t, gn)`` returns (d l/d input * gn, d l/d target * gn) at full shape,
    computing only what ``need`` asks for. The target is promoted as torch does
    (:func:`target_array`)."""
    shape = broadcast_shapes(who, input=input, target=target)
    x, t = input.data, target_array(input, target, bool_error)
    with np.errstate(all="ignore"):
        loss = np.broadcast_to(forward(x, t), shape)
    out, spread = reduce_array(np.asarray(loss), reduction)

    def vjp(g):
        gn = spread(g)
        with np.errstate(all="ignore"):
            gx, gt = backward(x, t, gn, input.requires_grad, target.requires_grad)
        return (grad_to(gx, input, shape) if gx is not None else None,
                grad_to(gt, target, shape) if gt is not None else None)

    return op(out, (input, target), vjp)


# ----------------------------------------------------------------------------------
# Regression losses
# ----------------------------------------------------------------------------------


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """l = (x - y)^2. Input and target broadcast as torch.broadcast_tensors does
    (torch warns when their shapes differ); 'mean' divides by the broadcast size.

    Backward (derivatives.yaml): d/dx = norm (x - y) g and d/dy = norm (y - x) g with
    norm = 2 (or 2/n for 'mean'). The target's gradient is computed from ``y - x``,
    not by negating the input's: where x == y both are +0 (torch's sign of zero)."""
    _warn_target_size(input, target)

    def fwd(x, t):
        d = np.asarray(x - t)
        d *= d
        return d

    def scaled(d, gn):
        d *= 2.0
        d *= gn
        return d

    def bwd(x, t, gn, need_x, need_t):
        gx = scaled(np.asarray(x - t), gn) if need_x else None
        gt = scaled(np.asarray(t - x), gn) if need_t else None
        return gx, gt

    return _pointwise("mse_loss", input, target, reduction, fwd, bwd)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """l = |x - y|, broadcast like mse_loss.

    Backward: abs's subgradient ``sgn(x - y) g`` with sgn(0) = sgn(NaN) = 0 (so a NaN
    difference gets a zero gradient, as torch gives), and the target's gradient is
    its negation (torch's sub backward: -0.0 where the input's is +0)."""
    _warn_target_size(input, target)

    def fwd(x, t):
        return np.abs(x - t)

    def bwd(x, t, gn, need_x, need_t):
        gx = gn * sign(x - t)
        return (gx if need_x else None), (-gx if need_t else None)

    return _pointwise("l1_loss", input, target, reduction, fwd, bwd, BOOL_SUBTRACTION)


def _clipped_quadratic(who, input: Tensor, target: Tensor, reduction: str, k: float, divide: bool) -> Tensor:
    """Huber's loss and its backward, shared with SmoothL1 (which is Huber / beta).

    Forward: with z = |x - y| and c = min(z, k), ``c (z - c/2)`` is 0.5 z^2 below k
    and k (z - k/2) above, with the same roundings as the two-branch form (0.5 is
    exact); ``divide`` divides it by k. Backward: ``clip(d, -k, k) g`` with
    d = x - y for the input and d = y - x for the target (NaN stays NaN), divided
    by k when ``divide`` (so exactly +-g beyond the kink)."""

    def fwd(x, t):
        z = np.abs(x - t)
        c = np.clip(z, z.dtype.type(0), z.dtype.type(k))  # min(z, k) for z >= +0 or NaN (clip is fast)
        h = np.multiply(c, z.dtype.type(0.5))
        z -= h
        z *= c
        if divide:
            z /= k
        return z

    def piece(d, gn):
        np.clip(d, -k, k, out=d)
        if divide:
            d /= k
        d *= gn
        return d

    def bwd(x, t, gn, need_x, need_t):
        return (piece(np.asarray(x - t), gn) if need_x else None), (piece(np.asarray(t - x), gn) if need_t else None)

    return _pointwise(who, input, target, reduction, fwd, bwd)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """l = 0.5 z^2 if z < delta else delta (z - 0.5 delta), z = |x - y|.

    torch rejects ``delta <= 0`` at call time (RuntimeError). Backward
    (decompositions.huber_loss_backward): with d = x - y, ``-delta g`` if d < -delta,
    ``delta g`` if d > delta, else ``d g``: at |d| == delta both pieces give
    ±delta g (the loss is C^1). NaN differences give NaN gradients. The target's
    gradient is the same formula with d = y - x."""
    check(delta > 0, RuntimeError, f"huber_loss does not support non-positive values for delta, got delta={delta}")
    _warn_target_size(input, target)
    return _clipped_quadratic("huber_loss", input, target, reduction, float(delta), divide=False)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """l = 0.5 z^2 / beta if z < beta else z - 0.5 beta, z = |x - y| (Huber with
    delta = beta, divided by beta; z - beta/2 to within an ulp above beta).

    torch rejects ``beta < 0`` (RuntimeError) and turns ``beta == 0`` into
    :func:`l1_loss` (functional.smooth_l1_loss), whose gradient at d == 0 and at NaN
    is 0. For beta > 0 the backward is ``-g`` for d <= -beta, ``g`` for d >= beta and
    ``d g / beta`` between (NaN stays NaN); the target's uses d = y - x."""
    check(beta >= 0, RuntimeError, f"smooth_l1_loss does not support negative values for beta, got beta={beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)  # warns as l1_loss
    _warn_target_size(input, target)
    return _clipped_quadratic("smooth_l1_loss", input, target, reduction, float(beta), divide=True)


_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     eps: float = 1e-8, reduction: str = "mean") -> Tensor:
    """Poisson negative log likelihood (torch.poisson_nll_loss, a composite op):

    * log_input: l = exp(x) - y x;            dl/dx = exp(x) - y,   dl/dy = -x
    * otherwise: l = x - y log(x + eps);      dl/dx = 1 - y/(x+eps), dl/dy = -log(x + eps)
    * full adds Stirling's term  y log y - y + 0.5 log(2 pi y)  where y > 1 (0 elsewhere).

    The target gets a gradient (torch differentiates the composite in both). Its
    Stirling part is log y + 0.5/y where y > 1. Where y <= 1 the term is a
    constant 0, so the true derivative is 0; torch computes it as masked_fill's
    zero cotangent times ``log y`` and divided by ``y``, which is NaN at y == 0 and
    for y < 0 (0 * -inf, 0/0, log of a negative). The twin reproduces torch's NaN
    there (documented divergence from the mathematically right 0) so that the
    harness compares like with like; for 0 < y <= 1 both give 0. Likewise at
    y = inf torch's ``g y / y`` is NaN (the twin follows its expression term by term).
    """
    eps = float(eps)

    shape = broadcast_shapes("poisson_nll_loss", input=input, target=target)
    x, t = input.data, target_array(input, target, BOOL_SUBTRACTION if full else None)
    with np.errstate(all="ignore"):
        rate = np.exp(x) if log_input else np.log(x + eps)  # exp(x), or log(x + eps)
        loss = rate - t * x if log_input else x - t * rate
        if full:
            stirling = np.where(t <= 1, x.dtype.type(0), t * np.log(t) - t + 0.5 * np.log((2.0 * math.pi) * t))
            loss = loss + stirling
        loss = np.broadcast_to(loss, shape)
    out, spread = reduce_array(np.asarray(loss), reduction)

    def vjp(g):
        # Each term's gradient is formed in the shape torch's graph forms it (a term
        # of x alone in x's shape, of t alone in t's shape, products at the broadcast
        # shape, then reduced), so NaN/inf patterns match torch's also when one
        # operand is broadcast over an empty batch (0 * log 0 is NaN there too).
        gn = np.broadcast_to(spread(g), shape)
        gx = gt = None
        with np.errstate(all="ignore"):
            if input.requires_grad:
                if log_input:  # exp(x) - t x
                    gx = unbroadcast(gn, x.shape) * rate + unbroadcast(-gn * t, x.shape)
                else:  # x - t log(x + eps)
                    gx = unbroadcast(gn, x.shape) + unbroadcast(-gn * t, x.shape) / (x + eps)
            if target.requires_grad:
                gt = unbroadcast(-gn * (x if log_input else rate), t.shape)
                if full:
                    # torch: masked_fill(t <= 1) zeroes the cotangent, then the
                    # product rule still multiplies it by log t and divides by t
                    gs = np.where(t <= 1, t.dtype.type(0), unbroadcast(gn, t.shape))
                    gt = gt + (gs * np.log(t) + gs * t / t - gs + (0.5 * gs) / t)
        return (None if gx is None else np.asarray(gx, dtype=x.dtype).reshape(x.shape),
                None if gt is None else np.asarray(gt, dtype=t.dtype).reshape(t.shape))

    return op(out, (input, target), vjp)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """l = 0.5 (log(max(var, eps)) + (x - y)^2 / max(var, eps)) [+ 0.5 log(2 pi) if full].

    torch's semantics (functional.gaussian_nll_loss), in its order:

    * var a Python float: negative -> ValueError; else a constant of input's shape.
      A var tensor with any negative entry -> ValueError("var has negative entry/entries").
    * var's shape: input's shape; or input's shape without its last dim (var is
      unsqueezed at the end); or input's ndim with the sizes of var summed over the
      dims where they differ from input's equal to 1 (one dim of size 1, e.g. (N, 1)
      for (N, D)). Anything else, even if broadcastable such as (1, 1) for (N, D),
      -> ValueError("var is of incorrect size").
    * bad reduction -> ValueError("<r> is not valid").
    * input and target broadcast freely (RuntimeError if they cannot).
    * the clamp to eps is done under no_grad on a clone: the gradient reaches var
      straight through the clamp, evaluated at the clamped value v:
      dl/dvar = 0.5 (1/v - (x-y)^2/v^2) for every var (0 at var = inf).
    """
    if isinstance(var, float):
        check(var >= 0 or var != var, ValueError, "var has negative entry/entries")
        var = Tensor(np.full(input.shape, var, dtype=input.dtype))
    check(isinstance(var, Tensor), TypeError,
          f"gaussian_nll_loss: var must be a tensor or a Python float, got {type(var).__name__}")
    check(not np.any(var.data < 0), ValueError, "var has negative entry/entries")
    vshape = var.shape
    if vshape != input.shape:
        if input.shape[:-1] == vshape and input.ndim >= 1:
            vshape = vshape + (1,)
        elif input.ndim == var.ndim and sum(v for i, v in zip(input.shape, vshape) if i != v) == 1:
            pass
        else:
            raise ValueError(f"var is of incorrect size: var {var.shape} for input {input.shape}")
    check(reduction in REDUCTIONS, ValueError, f"{reduction} is not valid")
    # torch clamps a clone of var in place with a float eps, which an integer var cannot hold
    check(np.issubdtype(var.dtype, np.floating), RuntimeError,
          f"gaussian_nll_loss: result type Float can't be cast to the desired output type {var.dtype} (var)")
    shape = broadcast_shapes("gaussian_nll_loss", input=input, target=target, var=np.empty(vshape, dtype=np.int8))
    x, t = input.data, target_array(input, target, BOOL_SUBTRACTION)
    v = np.maximum(var.data.reshape(vshape), var.dtype.type(eps))
    with np.errstate(all="ignore"):
        d = x - t
        q = d * d
        loss = 0.5 * (np.log(v) + q / v)
        if full:
            loss = loss + _HALF_LOG_2PI
        loss = np.broadcast_to(loss, shape)
    out, spread = reduce_array(np.asarray(loss), reduction)

    def vjp(g):
        gn = spread(g)
        gx = gt = gv = None
        with np.errstate(all="ignore"):
            gi = 0.5 * gn  # the cotangent inside 0.5 * (...)
            if input.requires_grad or target.requires_grad:
                gd = np.broadcast_to((gi / v) * (2.0 * d), shape)
                gx = grad_to(gd, input) if input.requires_grad else None
                gt = grad_to(-gd, target) if target.requires_grad else None
            if var.requires_grad:
                # torch's two terms (log and division backward), which also give
                # 0 rather than inf/inf at var = inf
                gv = np.broadcast_to(gi / v - gi * ((q / v) / v), shape)
                gv = unbroadcast(gv, vshape).reshape(var.shape).astype(var.dtype, copy=False)
        return gx, gt, gv

    return op(out, (input, target, var), vjp)


# ----------------------------------------------------------------------------------
# Ranking and embedding losses
# ----------------------------------------------------------------------------------


def clamp_min0(v: Tensor) -> Tensor:
    """max(v, 0) with torch's clamp_min backward: the gradient passes where v >= 0
    (so at exactly 0 the full gradient flows); NaN stays NaN."""
    out = np.maximum(v.data, v.dtype.type(0))
    return op(out, (v,), lambda g: (np.where(v.data >= 0, g, g.dtype.type(0)),))


def minimum(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise minimum with torch's backward: the smaller side gets g, a tie
    gives each side g/2 (derivatives.yaml ``minimum``)."""
    out = np.minimum(a.data, b.data)

    def vjp(g):
        half = np.where(a.data == b.data, g / g.dtype.type(2), g)
        zero = g.dtype.type(0)
        return (unbroadcast(np.where(a.data > b.data, zero, half), a.shape) if a.requires_grad else None,
                unbroadcast(np.where(a.data < b.data, zero, half), b.shape) if b.requires_grad else None)

    return op(out, (a, b), vjp)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: str = "mean") -> Tensor:
    """l = max(0, -y (x1 - x2) + margin) (torch's composite; all three broadcast).

    torch requires the three to have the same number of dims (RuntimeError), and
    differentiates all three, the target included: with a = x1 - x2 and
    ge = g where -y a + margin >= 0 (the boundary passes the gradient), dl/dx1 = -y ge,
    dl/dx2 = y ge, dl/dy = -a ge."""
    check(input1.ndim == input2.ndim == target.ndim, RuntimeError,
          f"margin_ranking_loss: All input tensors should have same dimension but got sizes: input1: {input1.shape}, "
          f"input2: {input2.shape}, target: {target.shape}")
    shape = broadcast_shapes("margin_ranking_loss", input1=input1, input2=input2, target=target)
    x1, x2, y = input1.data, input2.data, target_array(input1, target, BOOL_NEGATION)
    margin = float(margin)
    with np.errstate(all="ignore"):
        a = x1 - x2
        v = np.broadcast_to((-y) * a + margin, shape)
        loss = np.maximum(v, v.dtype.type(0))
    out, spread = reduce_array(loss, reduction)

    def vjp(g):
        gn = spread(g)
        with np.errstate(all="ignore"):
            ge = np.where(v >= 0, gn, gn.dtype.type(0))
            ga = ge * (-y)
            return (grad_to(ga, input1) if input1.requires_grad else None,
                    grad_to(-ga, input2) if input2.requires_grad else None,
                    grad_to(-(ge * a), target) if target.requires_grad else None)

    return op(out, (input1, input2, target), vjp)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """l = where(y != 1, max(0, margin - x), 0) + where(y != -1, x, 0) (torch's
    composite, so a target other than ±1 gets both terms, and input and target
    broadcast). The target gets no gradient. At margin - x == 0 the hinge passes
    the gradient (clamp_min's >= rule): dl/dx = -g there for y == -1."""
    shape = broadcast_shapes("hinge_embedding_loss", input=input, target=target)
    x, y = input.data, target.data
    margin = float(margin)
    zero = x.dtype.type(0)
    with np.errstate(all="ignore"):
        m = margin - x
        not_pos, not_neg = y != 1, y != -1
        loss = np.broadcast_to(np.where(not_pos, np.maximum(m, zero), zero) + np.where(not_neg, x, zero), shape)
    out, spread = reduce_array(np.asarray(loss), reduction)

    def vjp(g):
        gn = spread(g)
        gx = np.where(not_neg, gn, zero) - np.where(not_pos & (m >= 0), gn, zero)
        return grad_to(gx, input, shape), None

    return op(out, (input, target), vjp)


_COSINE_EPSILON = 1e-12  # aten/src/ATen/native/Loss.cpp EPSILON, added to each squared norm


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: str = "mean") -> Tensor:
    """cos = <x1, x2> / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)) over the last dim;
    l = 1 - cos where y == 1, max(0, cos - margin) where y == -1, 0 for any other y.

    torch checks: target 0-d or 1-d; a 1-d target needs input1 2-d, a 0-d target
    needs input1 1-d (RuntimeError). input2 and target broadcast against input1.
    The target gets no gradient. dl/dcos = -g (y == 1) or g where cos - margin >= 0
    (y == -1); then dcos/dx1 = x2/denom - cos x1/(|x1|^2 + 1e-12), symmetrically for x2
    (the eps makes zero vectors give cos = 0 and a zero gradient).

    Accuracy: for nearly parallel vectors that gradient is a difference of two terms
    of size |x|/denom; torch's float32 gradient then loses up to ~1e-3 relative
    accuracy against its own float64 result. The twin evaluates the projection
    residual in float64 (see the vjp), and the float64 oracle arbitrates."""
    check(target.ndim in (0, 1), RuntimeError, "0D or 1D target tensor expected, multi-target not supported")
    if target.ndim == 1:
        check(input1.ndim == 2, RuntimeError,
              f"1D target tensor expects 2D input tensors, but found inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    else:
        check(input1.ndim == 1, RuntimeError,
              f"0D target tensor expects 1D input tensors, but found inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    full_shape = broadcast_shapes("cosine_embedding_loss", input1=input1, input2=input2)
    axis = target.ndim
    check(len(full_shape) > axis, RuntimeError, "cosine_embedding_loss: inputs have no feature dimension")
    cos_shape = full_shape[:axis] + full_shape[axis + 1:]
    shape = broadcast_shapes("cosine_embedding_loss", cos=np.empty(cos_shape, np.int8), target=target)
    x1, x2, y = input1.data, input2.data, target.data
    margin = float(margin)
    zero = x1.dtype.type(0)
    with np.errstate(all="ignore"):
        prod = np.sum(x1 * x2, axis=axis)
        m1 = np.sum(x1 * x1, axis=axis) + _COSINE_EPSILON
        m2 = np.sum(x2 * x2, axis=axis) + _COSINE_EPSILON
        m1, m2 = np.broadcast_to(m1, cos_shape), np.broadcast_to(m2, cos_shape)
        denom = np.sqrt(m1 * m2)
        cos = prod / denom
        pos, neg = y == 1, y == -1
        loss = np.broadcast_to(np.where(pos, 1 - cos, zero) + np.where(neg, np.maximum(cos - margin, zero), zero), shape)
    out, spread = reduce_array(np.asarray(loss), reduction)

    def vjp(g):
        gn = spread(g)
        with np.errstate(all="ignore"):
            gcos = np.where(pos, -gn, zero) + np.where(neg & (cos - margin >= 0), gn, zero)
            gcos = unbroadcast(np.broadcast_to(gcos, shape), cos_shape)
            # dcos/dx1 = (x2 - (<x1,x2>/m1) x1) / denom: the bracket is the residual of
            # projecting x2 on x1, which cancels when the vectors are nearly parallel
            # (for D == 1 it is x2 * 1e-12 / m1 exactly). float32 inputs get it in
            # float64, so the gradient is accurate where torch's float32 one is not.
            wide = np.promote_types(x1.dtype, np.float64)
            w1, w2 = x1.astype(wide, copy=False), x2.astype(wide, copy=False)
            p = np.expand_dims(np.sum(w1 * w2, axis=axis), axis)
            n1 = np.expand_dims(np.sum(w1 * w1, axis=axis), axis) + _COSINE_EPSILON
            n2 = np.expand_dims(np.sum(w2 * w2, axis=axis), axis) + _COSINE_EPSILON
            scale = np.expand_dims(gcos, axis).astype(wide) / np.sqrt(n1 * n2)
            # written as a sum of the two terms (in float64 for float32 inputs, so the
            # cancellation costs nothing), which gives torch's sign of zero as well.
            g1 = (scale * w2 + (-(scale * p / n1)) * w1).astype(x1.dtype) if input1.requires_grad else None
            g2 = (scale * w1 + (-(scale * p / n2)) * w2).astype(x2.dtype) if input2.requires_grad else None
        return (None if g1 is None else grad_to(g1, input1, full_shape),
                None if g2 is None else grad_to(g2, input2, full_shape),
                None)

    return op(out, (input1, input2, target), vjp)


def _vector_norm(x: np.ndarray, p: float) -> np.ndarray:
    """The p-norm over the last axis (torch.linalg.vector_norm): p = 0 counts
    non-zeros, p = inf / -inf take max / min of |x|; an empty last axis gives 0.
    Like torch, no rescaling: a sum of |x|^p over two or more elements may
    underflow to 0 or overflow to inf (float32: |x| < ~1e-19 or > ~1e19 for p = 2)."""
    if x.shape[-1] == 0:
        return np.zeros(x.shape[:-1], dtype=x.dtype)
    if p == 0:
        return np.count_nonzero(x, axis=-1).astype(x.dtype)
    a = np.abs(x)
    if x.shape[-1] == 1:
        # the norm of one element is |x| for every p (torch returns it as such; a
        # sum of squares would underflow for |x| < 1e-154 in float64)
        return a[..., 0]
    if p == 1:
        return a.sum(axis=-1)
    if p == 2:
        return np.sqrt(np.einsum("...i,...i->...", x, x))
    if math.isinf(p):
        return a.max(axis=-1) if p > 0 else a.min(axis=-1)
    return np.power(np.power(a, p).sum(axis=-1), 1.0 / p)


def _vector_norm_grad(x: np.ndarray, p: float, norm: np.ndarray, g: np.ndarray) -> np.ndarray | None:
    """FunctionsManual.cpp norm_backward, over the last axis. ``norm`` and ``g`` have
    the reduced shape. p = 0: no gradient. p = 2: g x / norm, 0 where norm == 0.
    p = ±inf: the gradient is shared equally by the elements with |x| == norm
    (or NaN), times sgn(x). p < 1: sgn(x) |x|^(p-1) g norm^(1-p), 0 where x == 0.
    Otherwise sgn(x) |x|^(p-1) (1 < p < 2) or x |x|^(p-2) (p > 2), times
    g / norm^(p-1), which is 0 where norm == 0. (This is torch's formula, NaN
    included: for p > 2 and a tiny |x| whose |x|^(p-1) underflows while the norm
    does not, 0 * inf gives NaN where the true derivative is finite; the twin
    follows torch there.)"""
    if p == 0:
        return None
    zero = x.dtype.type(0)
    norm, g = norm[..., None], g[..., None]
    if p == 1:
        return sign(x) * g
    if p == 2:
        return g * np.where(norm == 0, zero, x / norm)
    a = np.abs(x)
    if math.isinf(p):
        mask = (a == norm) | np.isnan(a)
        count = mask.sum(axis=-1, keepdims=True).astype(x.dtype)
        return sign(x) * ((g / count) * mask)
    if p < 1:
        scaled = sign(x) * np.where(x == 0, zero, np.power(a, p - 1))
        return scaled * g * np.power(norm, 1 - p)
    scale = np.where(norm == 0, zero, g / np.power(norm, p - 1))
    scaled = sign(x) * np.power(a, p - 1) if p < 2 else x * np.power(a, p - 2)
    return scaled * scale


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim (torch.pairwise_distance: eps is added to
    the difference, not to the norm; x1 and x2 broadcast). Backward: norm_backward
    above; x2 gets the negated gradient."""
    shape = broadcast_shapes("pairwise_distance", x1=x1, x2=x2)
    p, eps = float(p), float(eps)
    with np.errstate(all="ignore"):
        diff = np.broadcast_to(x1.data - x2.data + eps, shape)
        flat = diff.reshape(1) if diff.ndim == 0 else diff
        norm = _vector_norm(flat, p)
        out = norm.reshape(()) if diff.ndim == 0 else norm
        if keepdim and diff.ndim:
            out = out[..., None]

    def vjp(g):
        gg = g.reshape(norm.shape)
        with np.errstate(all="ignore"):
            gd = _vector_norm_grad(flat, p, norm, gg)
        if gd is None:
            return None, None
        gd = gd.reshape(shape)
        return (unbroadcast(gd, x1.shape) if x1.requires_grad else None,
                unbroadcast(-gd, x2.shape) if x2.requires_grad else None)

    return op(np.asarray(out), (x1, x2), vjp)


def _check_triplet_dims(anchor, positive, negative):
    check(anchor.ndim == positive.ndim == negative.ndim, RuntimeError,
          "The anchor, positive, and negative tensors are expected to have the same number of dimensions, but got: "
          f"anchor {anchor.ndim}D, positive {positive.ndim}D, and negative {negative.ndim}D inputs")


def _triplet(dist, anchor, positive, negative, margin, swap, reduction):
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, dist(positive, negative))
    return reduce(clamp_min0(ag.sub(ag.add(float(margin), d_pos), d_neg)), reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2.0,
                        eps: float = 1e-6, swap: bool = False, reduction: str = "mean") -> Tensor:
    """l = max(0, margin + d(a, p) - d(a, n)), d = pairwise_distance(., ., p, eps);
    with swap, d(a, n) is replaced by min(d(a, n), d(p, n)) (ties split the gradient).
    torch: margin <= 0 is rejected by the module's constructor (ValueError); the
    three inputs must have the same number of dims (RuntimeError)."""
    _check_triplet_dims(anchor, positive, negative)
    return _triplet(lambda u, w: pairwise_distance(u, w, p, eps), anchor, positive, negative, margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, distance_function=None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """As triplet_margin_loss with a user distance ``distance_function(x, y) -> Tensor``
    (on the twin's Tensors, so its gradient flows); default pairwise_distance(p=2,
    eps=1e-6). torch checks, in order: reduction (ValueError), margin > 0
    (ValueError), equal number of dims (RuntimeError)."""
    check_reduction(reduction)
    check(margin > 0, ValueError, f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist = distance_function if distance_function is not None else pairwise_distance
    return _triplet(dist, anchor, positive, negative, margin, swap, reduction)
