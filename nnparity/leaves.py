"""The arguments of one call, and their leaves by path.

A case's forward arguments are nested: ``LSTM(input, (h0, c0))``,
``MultiheadAttention(query, key, value, key_padding_mask=..., attn_mask=...)``.
:func:`bind` puts them in the form both sides are called with: every argument that
holds an array, positional in torch's order (parameters in between take their
defaults from torch's signature), and flags (``need_weights``, ``is_causal``) as
keyword arguments. Then every float array is a *leaf* with a path named after
torch's parameter: ``input``, ``hx[1]``, ``per_sample_weights``. Gradients,
in-place effects, the non-contiguous layout and the float64 oracle all work leaf by
leaf, on both sides.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

__all__ = ["Call", "bind", "leaves", "get", "replace_leaf", "map_leaves"]


@dataclass(frozen=True)
class Call:
    """A call in the form both sides receive: ``args`` (positional, every array
    among them), ``kwargs`` (flags), and the name of each positional parameter."""

    args: tuple
    kwargs: dict
    names: tuple

    def name(self, path: tuple) -> str:
        """('args', 1, 0) -> 'hx[0]'; ('kwargs', 'mask') -> 'mask'."""
        where, key, *rest = path
        head = self.names[key] if where == "args" and key < len(self.names) else (
            f"args[{key}]" if where == "args" else str(key))
        return head + "".join(f"[{i}]" for i in rest)


def _has_array(x) -> bool:
    if isinstance(x, np.ndarray):
        return True
    if isinstance(x, (tuple, list)):
        return any(_has_array(v) for v in x)
    return False


def bind(fn, args: tuple, kwargs: dict) -> Call:
    """Bind ``args``/``kwargs`` to torch's signature of ``fn`` (a module or a bound
    method); keyword arguments that hold arrays move to their positions."""
    target = fn.forward if hasattr(fn, "forward") and not inspect.ismethod(fn) else fn
    try:
        params = [p for p in inspect.signature(target).parameters.values()]
    except (TypeError, ValueError):
        params = []
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == p.VAR_POSITIONAL for p in params) or not positional:
        names = tuple(f"input[{i}]" if len(args) > 1 else "input" for i in range(len(args)))
        return Call(tuple(args), dict(kwargs), names)
    moving = {k for k, v in kwargs.items() if _has_array(v) and k in {p.name for p in positional}}
    last = max([len(args) - 1] + [i for i, p in enumerate(positional) if p.name in moving])
    out = list(args)
    for i in range(len(args), last + 1):
        p = positional[i]
        if p.name in kwargs:
            out.append(kwargs[p.name])
        elif p.default is not inspect.Parameter.empty:
            out.append(p.default)
        else:
            raise ValueError(f"cannot bind {p.name!r}: no value and no default")
    rest = {k: v for k, v in kwargs.items() if k not in {p.name for p in positional[: last + 1]}}
    names = tuple(p.name for p in positional[: len(out)]) + tuple(f"args[{i}]" for i in range(len(positional), len(out)))
    return Call(tuple(out), rest, names)


def _walk(x, prefix):
    if isinstance(x, np.ndarray):
        yield prefix, x
    elif isinstance(x, (tuple, list)) and not hasattr(x, "_fields"):
        for i, v in enumerate(x):
            yield from _walk(v, prefix + (i,))
    elif isinstance(x, tuple):  # a named tuple (PackedSequence): its fields by position
        for i, v in enumerate(x):
            yield from _walk(v, prefix + (i,))


def leaves(call: Call):
    """(path, array) for every array of the call, positional first."""
    for i, a in enumerate(call.args):
        yield from _walk(a, ("args", i))
    for k, v in call.kwargs.items():
        yield from _walk(v, ("kwargs", k))


def get(call: Call, path: tuple):
    where, key, *rest = path
    x = (call.args if where == "args" else call.kwargs)[key]
    for i in rest:
        x = x[i]
    return x


def _set(x, rest, value):
    if not rest:
        return value
    i, *more = rest
    items = list(x)
    items[i] = _set(items[i], more, value)
    return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)


def replace_leaf(call: Call, path: tuple, value) -> Call:
    where, key, *rest = path
    if where == "args":
        args = list(call.args)
        args[key] = _set(args[key], rest, value)
        return Call(tuple(args), call.kwargs, call.names)
    kwargs = dict(call.kwargs)
    kwargs[key] = _set(kwargs[key], rest, value)
    return Call(call.args, kwargs, call.names)


def map_leaves(fn, x):
    """Apply ``fn`` to every array in a nested structure (tuples, lists, named tuples, dicts)."""
    if isinstance(x, np.ndarray):
        return fn(x)
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(map_leaves(fn, v) for v in x))
    if isinstance(x, (tuple, list)):
        return type(x)(map_leaves(fn, v) for v in x)
    if isinstance(x, dict):
        return {k: map_leaves(fn, v) for k, v in x.items()}
    return x
