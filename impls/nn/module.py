"""``Module`` and ``Parameter``: the part of torch.nn's object model the contract needs.

A twin subclasses :class:`Module`, assigns :class:`Parameter` s, buffers
(:meth:`Module.register_buffer`) and child modules as attributes exactly where
torch does, so ``state_dict`` keys come out identical to torch's.

``forward`` works on :class:`~impls.autograd.Tensor` s. Calling a module with
NumPy arrays (``m(x)``) runs ``forward`` without recording a tape and hands NumPy
back; calling it with Tensors (from a parent module, or from ``impls.vjp``)
records the tape.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

import numpy as np

from ..autograd import Tensor, no_grad
from .._validate import check

__all__ = ["Module", "Parameter", "resolve_dtype", "wrap", "unwrap"]


class Parameter(Tensor):
    """A leaf Tensor that always requires a gradient."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(np.asarray(data), requires_grad=requires_grad)

    def __repr__(self):
        return f"Parameter({self.data!r})"


_DTYPE_NAMES = {"float32": np.float32, "float64": np.float64, "float": np.float32, "double": np.float64}


def resolve_dtype(dtype) -> np.dtype:
    """``dtype=`` as the contract takes it: None (float32), a NumPy float dtype, or
    the names 'float32' / 'float64'."""
    if dtype is None:
        return np.dtype(np.float32)
    if isinstance(dtype, str):
        check(dtype in _DTYPE_NAMES, TypeError, f"dtype must be 'float32' or 'float64', got {dtype!r}")
        return np.dtype(_DTYPE_NAMES[dtype])
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a NumPy float dtype or 'float32'/'float64', got {dtype!r}") from None
    check(dt in (np.float32, np.float64), TypeError, f"only float32 and float64 are supported, got {dt}")
    return dt


def check_device(device) -> None:
    """``device=`` is accepted for signature parity; twins run on the CPU only."""
    check(device is None or str(device) == "cpu", ValueError, f"NumPy twins run on the CPU only, got device={device!r}")


def wrap(x):
    """NumPy arrays and scalars (possibly nested in tuples/lists) -> constant Tensors;
    others unchanged."""
    if isinstance(x, np.ndarray):
        return Tensor(x)
    if isinstance(x, np.generic):
        return Tensor(np.asarray(x))
    if isinstance(x, (tuple, list)):
        return type(x)(wrap(v) for v in x)
    return x


def unwrap(x):
    """Tensors (possibly nested in tuples or named tuples) -> NumPy arrays."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(unwrap(v) for v in x))
    if isinstance(x, (tuple, list)):
        return type(x)(unwrap(v) for v in x)
    return x


def _contains_tensor(values) -> bool:
    for v in values:
        if isinstance(v, Tensor) or (isinstance(v, (tuple, list)) and _contains_tensor(v)):
            return True
    return False


class Module:
    """Base class of every twin. Mirrors torch.nn.Module's registration rules."""

    training: bool

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # -- registration -------------------------------------------------------------
    def __setattr__(self, name, value):
        params, buffers, modules = self.__dict__.get("_parameters"), self.__dict__.get("_buffers"), self.__dict__.get("_modules")
        if params is None:
            raise AttributeError("Module.__init__() must be called before assigning attributes")
        if isinstance(value, Parameter):
            buffers.pop(name, None)
            modules.pop(name, None)
            self.__dict__.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            buffers.pop(name, None)
            self.__dict__.pop(name, None)
            modules[name] = value
        elif name in params:
            check(value is None, TypeError, f"cannot assign {type(value).__name__} as parameter {name!r} (Parameter or None expected)")
            params[name] = None
        elif name in buffers:
            buffers[name] = None if value is None else np.asarray(value.data if isinstance(value, Tensor) else value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        check(param is None or isinstance(param, Parameter), TypeError, f"{name!r} must be a Parameter or None")
        self._parameters[name] = param

    def register_buffer(self, name: str, array, persistent: bool = True) -> None:
        self._buffers[name] = None if array is None else np.asarray(array)
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        self._modules[name] = module

    # -- traversal ----------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (m for _, m in self.named_modules())

    def children(self):
        return (m for m in self._modules.values() if m is not None)

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        owners = self.named_modules(prefix) if recurse else [(prefix, self)]
        for owner_name, owner in owners:
            for name, p in owner._parameters.items():
                if p is not None:
                    yield (f"{owner_name}.{name}" if owner_name else name), p

    def parameters(self, recurse: bool = True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True):
        owners = self.named_modules(prefix) if recurse else [(prefix, self)]
        for owner_name, owner in owners:
            for name, b in owner._buffers.items():
                if b is not None:
                    yield (f"{owner_name}.{name}" if owner_name else name), b

    def buffers(self, recurse: bool = True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    # -- state --------------------------------------------------------------------
    def _state_slots(self):
        """(key, owner, store, name) for every persistent parameter and buffer, torch's order."""
        for owner_name, owner in self.named_modules():
            for name, p in owner._parameters.items():
                if p is not None:
                    yield (f"{owner_name}.{name}" if owner_name else name), owner, "_parameters", name
            for name, b in owner._buffers.items():
                if b is not None and name not in owner._non_persistent:
                    yield (f"{owner_name}.{name}" if owner_name else name), owner, "_buffers", name

    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter and persistent buffer, under torch's keys."""
        out = OrderedDict()
        for key, owner, store, name in self._state_slots():
            value = getattr(owner, store)[name]
            out[key] = np.array(value.data if isinstance(value, Tensor) else value, copy=True)
        return out

    def load_state_dict(self, state_dict, strict: bool = True):
        """Load arrays under torch's keys. Everything is validated before anything is
        assigned, so a failed load leaves the module as it was."""
        slots = {key: (owner, store, name) for key, owner, store, name in self._state_slots()}
        errors = []
        if strict:
            missing = [k for k in slots if k not in state_dict]
            unexpected = [k for k in state_dict if k not in slots]
            if missing:
                errors.append("Missing key(s) in state_dict: " + ", ".join(repr(k) for k in missing))
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: " + ", ".join(repr(k) for k in unexpected))
        updates = []
        for key, value in state_dict.items():
            if key not in slots:
                continue
            owner, store, name = slots[key]
            current = getattr(owner, store)[name]
            current = current.data if isinstance(current, Tensor) else current
            value = np.asarray(value)
            if value.shape != current.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape {value.shape}, the shape in current model is {current.shape}")
                continue
            updates.append((owner, store, name, value.astype(current.dtype, copy=True)))
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for owner, store, name, value in updates:
            if store == "_parameters":
                owner._parameters[name].data = value
            else:
                owner._buffers[name] = value
        return [], []

    # -- modes --------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        check(isinstance(mode, bool), ValueError, "training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    # -- calling ------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward")

    def __call__(self, *args, **kwargs):
        if _contains_tensor(args) or _contains_tensor(kwargs.values()):
            return self.forward(*args, **kwargs)  # inside a parent, or under impls.vjp
        with no_grad():
            out = self.forward(*wrap(args), **{k: wrap(v) for k, v in kwargs.items()})
        return unwrap(out)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = [f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(lines) + "\n)" if lines else ")")
