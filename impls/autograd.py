"""A small reverse-mode tape: the gradient machinery every twin uses.

A :class:`Tensor` wraps a NumPy array. Every primitive computes its output with
NumPy and, while gradients are being recorded, attaches a *vjp closure*: given the
cotangent of its output it returns the cotangents of its parents, in order.
:func:`backward` walks the recorded graph once, in reverse topological order.

Rules a primitive follows (read :func:`op` first, then any primitive below):

* The forward is plain NumPy on ``x.data``; the backward sits right beside it.
* Gradients are computed in the dtype of the parent they belong to, and a
  primitive that broadcasts returns cotangents reduced back to each parent's
  shape (:func:`unbroadcast`).
* A vjp may return ``None`` for a parent that gets no gradient (an integer index,
  a mask), which is cheaper than an array of zeros.
* A vjp never writes into the cotangent ``g`` it receives (the same array may be
  handed to several parents, and leaves keep it without a copy); it may write
  into arrays it allocated itself.
* A vjp may return an :class:`Indexed` contribution, ``Indexed(index, g)``: "add g
  at ``parent[index]``" (indexing, unstacking). :func:`backward` adds it into one
  zero buffer per parent that the tape allocates and owns, and adds every later
  contribution in place into buffers it owns: a T-step loop over ``x[t]`` costs
  O(T) in backward, not O(T^2) (no full-size array per slice, no new array per
  accumulation).
* Fused primitives (softmax, log_softmax, losses, normalisation) live in
  ``impls.functional``; they use :func:`op` directly where a fused backward is
  more stable or faster than the composition.

Recording is off inside :func:`no_grad`, which ``Module.__call__`` uses: plain
forward calls build no graph.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterable, Sequence

import numpy as np

__all__ = [
    "Tensor",
    "op",
    "backward",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "as_tensor",
    "unbroadcast",
    "sign",
    "Indexed",
    "unstack",
    "stack",
]

_GRAD_ENABLED = True


def is_grad_enabled() -> bool:
    return _GRAD_ENABLED


@contextlib.contextmanager
def _grad_mode(enabled: bool):
    global _GRAD_ENABLED
    previous = _GRAD_ENABLED
    _GRAD_ENABLED = enabled
    try:
        yield
    finally:
        _GRAD_ENABLED = previous


def no_grad():
    """Context manager: primitives record nothing inside it."""
    return _grad_mode(False)


def enable_grad():
    """Context manager: primitives record their vjp inside it."""
    return _grad_mode(True)


class Tensor:
    """An array node on the tape. ``data`` is a NumPy array; ``grad`` is filled
    by :func:`backward` for leaves that require gradients."""

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_vjp")
    __array_priority__ = 1000  # make ``ndarray * Tensor`` defer to Tensor

    def __init__(self, data, requires_grad: bool = False, _parents=(), _vjp=None):
        self.data = data if isinstance(data, np.ndarray) else np.asarray(data)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._parents = _parents
        self._vjp = _vjp

    # -- array-like read-only views -------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        flag = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({self.data!r}{flag})"

    def numpy(self) -> np.ndarray:
        return self.data

    # -- operators (defined below as primitives) ------------------------------------
    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def __sub__(self, other):
        return sub(self, other)

    def __rsub__(self, other):
        return sub(other, self)

    def __mul__(self, other):
        return mul(self, other)

    def __rmul__(self, other):
        return mul(other, self)

    def __truediv__(self, other):
        return div(self, other)

    def __rtruediv__(self, other):
        return div(other, self)

    def __neg__(self):
        return neg(self)

    def __pow__(self, exponent):
        return power(self, exponent)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __getitem__(self, index):
        return getitem(self, index)

    def sum(self, axis=None, keepdims=False):
        return sum_(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return mean(self, axis, keepdims)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return reshape(self, shape)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return transpose(self, axes or None)

    @property
    def T(self):
        return transpose(self, None)


def as_tensor(x) -> Tensor:
    """Wrap an array or scalar as a constant (non-differentiable) Tensor."""
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def op(out: np.ndarray, parents: Sequence[Tensor], vjp: Callable) -> Tensor:
    """Record one primitive: ``out = f(*parents)``; ``vjp(g)`` returns one cotangent
    (or None) per parent. Records nothing when no parent needs a gradient."""
    if _GRAD_ENABLED and any(p.requires_grad for p in parents):
        return Tensor(out, True, tuple(parents), vjp)
    return Tensor(out)


def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``g`` over the axes along which an array of ``shape`` was broadcast."""
    if g.shape == tuple(shape):
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def _topological(outputs: Iterable[Tensor]) -> list[Tensor]:
    """Nodes that need gradients, parents before children (iterative DFS)."""
    order, seen = [], set()
    for root in outputs:
        if not root.requires_grad or id(root) in seen:
            continue
        stack = [(root, iter(root._parents))]
        seen.add(id(root))
        while stack:
            node, parents = stack[-1]
            for p in parents:
                if p.requires_grad and id(p) not in seen:
                    seen.add(id(p))
                    stack.append((p, iter(p._parents)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


class Indexed:
    """A sparse cotangent: ``g`` belongs at ``index`` of a parent, zeros elsewhere."""

    __slots__ = ("index", "g", "basic")

    def __init__(self, index, g: np.ndarray):
        self.index, self.g = index, g
        parts = index if isinstance(index, tuple) else (index,)
        # basic indexing (ints, slices, Ellipsis, None) selects each element once: a
        # strided += is exact; advanced indexes may repeat elements: np.add.at
        self.basic = all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in parts)


class _Accumulator:
    """Cotangents per node, summed in buffers the tape owns once it has to sum."""

    def __init__(self):
        self.grads: dict[int, np.ndarray] = {}
        self.owned: set[int] = set()

    def _own(self, key: int, shape, dtype) -> np.ndarray:
        buf = self.grads.get(key)
        if buf is None:
            buf = np.zeros(shape, dtype=dtype)
        elif key not in self.owned:
            buf = np.array(buf, dtype=dtype, copy=True)
        self.grads[key] = buf
        self.owned.add(key)
        return buf

    def add(self, node: "Tensor", gp) -> None:
        key = id(node)
        if isinstance(gp, Indexed):
            buf = self._own(key, node.shape, node.dtype)
            if gp.basic:
                buf[gp.index] += gp.g
            else:
                np.add.at(buf, gp.index, gp.g)
        elif key not in self.grads:
            self.grads[key] = gp  # not owned: it may be another node's cotangent
        elif key in self.owned:
            self.grads[key] += gp
        else:
            self.grads[key] = self.grads[key] + gp
            self.owned.add(key)

    def pop(self, node: "Tensor"):
        self.owned.discard(id(node))
        return self.grads.pop(id(node), None)


def backward(outputs: Sequence[Tensor], cotangents: Sequence[np.ndarray]) -> None:
    """Propagate ``cotangents`` (one per output) back through the tape and
    accumulate into ``.grad`` of every leaf that requires a gradient."""
    acc = _Accumulator()
    for out, cot in zip(outputs, cotangents):
        if cot is None or not out.requires_grad:
            continue
        cot = np.asarray(cot, dtype=out.dtype)
        if cot.shape != out.shape:
            raise ValueError(
                f"cotangent has shape {cot.shape}, but the output it belongs to has shape {out.shape}"
            )
        acc.add(out, cot)
    for node in reversed(_topological(outputs)):
        g = acc.pop(node)
        if g is None:
            continue
        if node._vjp is None:  # a leaf
            node.grad = g if node.grad is None else node.grad + g
            continue
        for parent, gp in zip(node._parents, node._vjp(g)):
            if gp is None or not parent.requires_grad:
                continue
            acc.add(parent, gp)


# ----------------------------------------------------------------------------------
# Primitives. Each: forward in NumPy, then the vjp beside it.
# ----------------------------------------------------------------------------------


def _lift(x, like: np.dtype) -> Tensor:
    """A Python scalar takes the other operand's float dtype (torch's scalar rule)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray) or not np.issubdtype(like, np.floating):
        return Tensor(np.asarray(x))
    return Tensor(np.asarray(x, dtype=like))


def _binary(a, b) -> tuple[Tensor, Tensor]:
    if isinstance(a, Tensor):
        return a, _lift(b, a.dtype)
    b = as_tensor(b)
    return _lift(a, b.dtype), b


def add(a, b) -> Tensor:
    """a + b (broadcasting)."""
    a, b = _binary(a, b)
    return op(a.data + b.data, (a, b), lambda g: (unbroadcast(g, a.shape), unbroadcast(g, b.shape)))


def sub(a, b) -> Tensor:
    """a - b (broadcasting)."""
    a, b = _binary(a, b)
    return op(a.data - b.data, (a, b), lambda g: (unbroadcast(g, a.shape), unbroadcast(-g, b.shape)))


def mul(a, b) -> Tensor:
    """a * b; d/da = b, d/db = a."""
    a, b = _binary(a, b)
    return op(
        a.data * b.data,
        (a, b),
        lambda g: (
            unbroadcast(g * b.data, a.shape) if a.requires_grad else None,
            unbroadcast(g * a.data, b.shape) if b.requires_grad else None,
        ),
    )


def div(a, b) -> Tensor:
    """a / b; d/da = 1/b, d/db = -a/b^2."""
    a, b = _binary(a, b)
    out = a.data / b.data
    return op(
        out,
        (a, b),
        lambda g: (
            unbroadcast(g / b.data, a.shape) if a.requires_grad else None,
            unbroadcast(-g * out / b.data, b.shape) if b.requires_grad else None,
        ),
    )


def neg(a: Tensor) -> Tensor:
    return op(-a.data, (a,), lambda g: (-g,))


def power(a: Tensor, exponent: float) -> Tensor:
    """a ** p for a Python scalar p; d/da = p a^(p-1)."""
    p = float(exponent)
    out = a.data**p
    return op(out, (a,), lambda g: (g * p * a.data ** (p - 1),))


def matmul(a, b) -> Tensor:
    """a @ b with NumPy's matmul broadcasting (1-D operands promoted as matmul does)."""
    a, b = _binary(a, b)
    out = a.data @ b.data

    def vjp(g):
        ad, bd = a.data, b.data
        a2 = ad[None, :] if ad.ndim == 1 else ad
        b2 = bd[:, None] if bd.ndim == 1 else bd
        g2 = g
        if ad.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if bd.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        ga = gb = None
        if a.requires_grad:
            ga = g2 @ np.swapaxes(b2, -1, -2)
            ga = unbroadcast(ga, a2.shape).reshape(ad.shape)
        if b.requires_grad:
            gb = np.swapaxes(a2, -1, -2) @ g2
            gb = unbroadcast(gb, b2.shape).reshape(bd.shape)
        return ga, gb

    return op(out, (a, b), vjp)


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(ax % ndim for ax in axis)) if ndim else ()


def sum_(a: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis``; the vjp broadcasts the cotangent back."""
    out = a.data.sum(axis=axis, keepdims=keepdims)
    axes = _axes(axis, a.ndim)

    def vjp(g):
        if not keepdims:
            g = np.expand_dims(g, axes) if axes else g
        return (np.broadcast_to(g, a.shape).astype(a.dtype, copy=True),)

    return op(np.asarray(out), (a,), vjp)


def mean(a: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (NaN for an empty reduction, as torch gives)."""
    axes = _axes(axis, a.ndim)
    n = 1
    for ax in axes:
        n *= a.shape[ax]
    with np.errstate(invalid="ignore", divide="ignore"):
        return div(sum_(a, axis, keepdims), float(n) if n else np.nan)


def reshape(a: Tensor, shape) -> Tensor:
    return op(a.data.reshape(shape), (a,), lambda g: (g.reshape(a.shape),))


def transpose(a: Tensor, axes=None) -> Tensor:
    out = np.transpose(a.data, axes)
    inverse = None if axes is None else np.argsort(axes)
    return op(out, (a,), lambda g: (np.transpose(g, inverse),))


def getitem(a: Tensor, index) -> Tensor:
    """Basic or advanced indexing; the vjp is a sparse :class:`Indexed` cotangent,
    added into the parent's buffer where it was taken (repeated indexes add)."""
    out = a.data[index]
    return op(np.asarray(out), (a,), lambda g: (Indexed(index, g),))


def unstack(a: Tensor, axis: int = 0) -> list:
    """``[a[i] for i along axis]``, as one view each; backward adds each slice's
    cotangent in place into one buffer."""
    axis = axis % a.ndim
    lead = (slice(None),) * axis
    return [getitem(a, lead + (i,)) for i in range(a.shape[axis])]


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """np.stack; the vjp hands each input its slice of the cotangent (a view)."""
    tensors = [as_tensor(t) for t in tensors]
    out = np.stack([t.data for t in tensors], axis=axis)
    axis = axis % out.ndim
    lead = (slice(None),) * axis
    return op(out, tensors, lambda g: tuple(g[lead + (i,)] for i in range(len(tensors))))


def where(condition, a, b) -> Tensor:
    """condition ? a : b; each branch gets the cotangent where it was chosen."""
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    a, b = _binary(a, b)
    out = np.where(condition, a.data, b.data)
    zero = np.zeros((), dtype=out.dtype)
    return op(
        out,
        (a, b),
        lambda g: (
            unbroadcast(np.where(condition, g, zero), a.shape) if a.requires_grad else None,
            unbroadcast(np.where(condition, zero, g), b.shape) if b.requires_grad else None,
        ),
    )










def sqrt(a: Tensor) -> Tensor:
    out = np.sqrt(a.data)
    return op(out, (a,), lambda g: (g / (2 * out),))


def sign(x: np.ndarray) -> np.ndarray:
    """torch's sign: (0 < x) - (x < 0), so sign(0) = 0 and sign(NaN) = 0 (NumPy gives NaN)."""
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


def abs_(a: Tensor) -> Tensor:
    """|a|; backward g * sign(a) with torch's sign: the subgradient at 0 and at NaN is 0."""
    return op(np.abs(a.data), (a,), lambda g: (g * sign(a.data),))






def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    out = np.concatenate([t.data for t in tensors], axis=axis)
    bounds = np.cumsum([t.shape[axis] for t in tensors])[:-1]
    return op(out, tensors, lambda g: tuple(np.split(g, bounds, axis=axis)))
