"""``Module`` and ``Parameter``: the part of torch.nn's object model the contract needs.

A twin subclasses :class:`Module`, assigns :class:`Parameter` s, buffers
(:meth:`Module.register_buffer`) and child modules as attributes exactly where
torch does, so ``state_dict`` keys come out identical to torch's.

``forward`` works on :class:`~impls.autograd.Tensor` s. Calling a module with
NumPy arrays (``m(x)``) runs ``forward`` without recording a tape and hands NumPy
back; calling it with Tensors (from a parent module, or from ``impls.vjp``)
records the tape.

The Module API models use (torch/nn/modules/module.py, torch 2.13) is mirrored in
its own section below: registration with torch's name validation and errors,
traversal with torch's de-duplication (``named_modules``, ``named_parameters``,
``children`` yield a shared module or parameter once; ``state_dict`` does not
de-duplicate, as torch's does not), ``apply``, ``zero_grad``, ``requires_grad_``,
``get_submodule``/``get_parameter``/``get_buffer``, ``to``/``float``/``double``,
``load_state_dict`` returning torch's ``(missing_keys, unexpected_keys)`` named
tuple, and torch's ``__repr__``. Where the twin's "tensor" is needed it is a NumPy
array or an :class:`~impls.autograd.Tensor`.

One deliberate difference: a failed ``load_state_dict`` changes nothing (torch
copies entries as it walks and may leave a partly loaded module behind).
"""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping
from typing import Iterator

import numpy as np

from ..autograd import Tensor, no_grad
from .._validate import check

__all__ = ["Module", "Parameter", "resolve_dtype", "wrap", "unwrap"]


class Parameter(Tensor):
    """A leaf Tensor that requires a gradient (unless ``requires_grad=False``).

    As torch: ``Parameter()`` holds an empty float32 array, and only floating-point
    data can require a gradient (RuntimeError otherwise)."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        data = np.empty(0, np.float32) if data is None else np.asarray(data.data if isinstance(data, Tensor) else data)
        check(not requires_grad or np.issubdtype(data.dtype, np.floating) or np.issubdtype(data.dtype, np.complexfloating),
              RuntimeError, "Only Tensors of floating point and complex dtype can require gradients")
        super().__init__(data, requires_grad=requires_grad)

    def requires_grad_(self, requires_grad: bool = True) -> "Parameter":
        check(not requires_grad or np.issubdtype(self.data.dtype, np.floating), RuntimeError,
              "only Tensors of floating point dtype can require gradients")
        self.requires_grad = bool(requires_grad)
        return self

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


# -- helpers for torch's wording ------------------------------------------------------

def is_tensor_like(value) -> bool:
    """What the twin accepts where torch wants a Tensor: a NumPy array or an
    :class:`~impls.autograd.Tensor` (NumPy scalars, which 0-d arithmetic returns, too)."""
    return isinstance(value, (np.ndarray, np.generic, Tensor))


def _array_of(value) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def typename(obj) -> str:
    """torch.typename: 'int', 'numpy.ndarray', 'impls.nn.linear.Linear' (a class's
    module and qualified name; builtins bare)."""
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module, qualname = obj.__class__.__module__ or "", obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def torch_size(shape) -> str:
    """A shape as torch prints it in messages: ``torch.Size([3, 2])``."""
    return f"torch.Size([{', '.join(str(int(s)) for s in shape)}])"


def _addindent(s: str, num_spaces: int) -> str:
    """torch.nn.modules.module._addindent: indent every line but the first
    (blank lines stay empty)."""
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join((num_spaces * " ") + line if line.strip() else "" for line in lines)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns, as torch's: a named tuple of two lists whose
    repr is ``<All keys matched successfully>`` when both are empty."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


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
    # torch's Module.__setattr__: a Parameter registers (replacing a buffer, module
    # or plain attribute of that name); a Module registers as a child; a name that is
    # already a parameter, child or buffer only takes a value of its kind or None.
    def __setattr__(self, name, value):
        d = self.__dict__
        params, buffers, modules = d.get("_parameters"), d.get("_buffers"), d.get("_modules")
        if params is None:
            raise AttributeError("Module.__init__() must be called before assigning attributes")
        if isinstance(value, Parameter):
            for store in (d, buffers, modules):
                store.pop(name, None)
            self._non_persistent.discard(name)
            self.register_parameter(name, value)
        elif name in params:
            check(value is None, TypeError,
                  f"cannot assign '{typename(value)}' as parameter '{name}' (torch.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            for store in (d, params, buffers):
                store.pop(name, None)
            self._non_persistent.discard(name)
            modules[name] = value
        elif name in modules:
            check(value is None, TypeError,
                  f"cannot assign '{typename(value)}' as child module '{name}' (torch.nn.Module or None expected)")
            modules[name] = None
        elif name in buffers:
            check(value is None or is_tensor_like(value), TypeError,
                  f"cannot assign '{typename(value)}' as buffer '{name}' (torch.nn.Buffer, torch.Tensor or None expected)")
            buffers[name] = None if value is None else _array_of(value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def _check_new_name(self, kind: str, name, store: dict) -> None:
        """torch's validation of a parameter/buffer name (TypeError, then KeyError)."""
        check(isinstance(name, str), TypeError, f"{kind} name should be a string. Got {typename(name)}")
        check("." not in name, KeyError, f'{kind} name can\'t contain "."')
        check(name != "", KeyError, f'{kind} name can\'t be empty string ""')
        check(not (hasattr(self, name) and name not in store), KeyError, f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        self._check_new_name("parameter", name, self._parameters)
        check(param is None or isinstance(param, Parameter), TypeError,
              f"cannot assign '{typename(param)}' object to parameter '{name}' (torch.nn.Parameter or None required)")
        check(param is None or param._vjp is None, ValueError,
              f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created explicitly.")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        self._check_new_name("buffer", name, self._buffers)
        check(tensor is None or is_tensor_like(tensor), TypeError,
              f"cannot assign '{typename(tensor)}' object to buffer '{name}' (torch Tensor or None required)")
        self._buffers[name] = None if tensor is None else _array_of(tensor)
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        check(module is None or isinstance(module, Module), TypeError, f"{typename(module)} is not a Module subclass")
        check(isinstance(name, str), TypeError, f"module name should be a string. Got {typename(name)}")
        check(not (hasattr(self, name) and name not in self._modules), KeyError, f"attribute '{name}' already exists")
        check("." not in name, KeyError, f'module name can\'t contain ".", got: {name}')
        check(name != "", KeyError, 'module name can\'t be empty string ""')
        self._modules[name] = module

    def register_module(self, name: str, module: Module | None) -> None:
        """Alias for :meth:`add_module`."""
        self.add_module(name, module)

    # -- traversal ----------------------------------------------------------------
    # As torch: a module (or parameter, buffer) reachable by two paths is yielded
    # once, under its first path, unless remove_duplicate=False.
    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True):
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self, remove_duplicate: bool = True):
        return (m for _, m in self.named_modules(remove_duplicate=remove_duplicate))

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        memo = set()
        for name, child in self._modules.items():
            if child is not None and child not in memo:
                memo.add(child)
                yield name, child

    def children(self):
        return (m for _, m in self.named_children())

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool):
        owners = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        memo = set()
        for owner_name, owner in owners:
            for name, v in getattr(owner, store).items():
                if v is None or id(v) in memo:
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield (f"{owner_name}.{name}" if owner_name else name), v

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    # -- state --------------------------------------------------------------------
    def _module_paths(self, prefix: str = ""):
        """(prefix, module) for every path through ``_modules``, shared modules once
        per path: the walk torch's state_dict and load_state_dict make."""
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child._module_paths(f"{prefix}{name}.")

    def _local_state(self):
        """This module's own state_dict entries: (name, store), parameters first."""
        for name, p in self._parameters.items():
            if p is not None:
                yield name, "_parameters"
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                yield name, "_buffers"

    def _state_slots(self):
        """(key, owner, store, name) for every persistent parameter and buffer, torch's order."""
        for owner_prefix, owner in self._module_paths():
            for name, store in owner._local_state():
                yield owner_prefix + name, owner, store, name

    def state_dict(self, *, destination=None, prefix: str = "", keep_vars: bool = False) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter and persistent buffer, under torch's keys
        (``keep_vars=True``: the Parameter objects and buffer arrays themselves)."""
        out = OrderedDict() if destination is None else destination
        for key, owner, store, name in self._state_slots():
            value = getattr(owner, store)[name]
            # a lazy module's entry without a shape yet is itself, as in torch's state_dict
            keep = keep_vars or getattr(value, "uninitialized", False)
            out[prefix + key] = value if keep else np.array(_array_of(value), copy=True)
        return out

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Load arrays under torch's keys; returns ``(missing_keys, unexpected_keys)``
        as torch's named tuple. Missing and unexpected keys are found by torch's walk
        (and in its order) whatever ``strict``; ``strict=True`` raises RuntimeError
        for them, size mismatches and non-array values raise either way, with
        torch's wording. Everything is validated before anything is assigned, so a
        failed load leaves the module as it was. Values are cast to the current
        dtype, unless ``assign=True`` (the array is then taken as it is)."""
        check(isinstance(state_dict, Mapping), TypeError, f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing, unexpected, errors, updates = [], [], [], []
        for prefix, owner in self._module_paths():
            local = dict(owner._local_state())
            for name, store in local.items():
                key = prefix + name
                if key not in state_dict:
                    missing.append(key)
                    continue
                value = state_dict[key]
                if not is_tensor_like(value):
                    errors.append(f'While copying the parameter named "{key}", expected torch.Tensor or Tensor-like '
                                  f"object from checkpoint but received {type(value)}")
                    continue
                current, value = _array_of(getattr(owner, store)[name]), _array_of(value)
                if current.ndim == 0 and value.shape == (1,):  # torch: a 1-element 1-d value loads into a 0-d one
                    value = value[0]
                if value.shape != current.shape:
                    errors.append(f"size mismatch for {key}: copying a param with shape {torch_size(value.shape)} from checkpoint, "
                                  f"the shape in current model is {torch_size(current.shape)}.")
                    continue
                updates.append((owner, store, name, np.asarray(value) if assign else np.array(value, dtype=current.dtype, copy=True)))
            for key in state_dict:
                if not key.startswith(prefix):
                    continue
                head = key[len(prefix):].split(".", 1)
                if (head[0] not in owner._modules) if len(head) > 1 else (head[0] not in local):
                    unexpected.append(key)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(type(self).__name__, "\n\t".join(errors)))
        for owner, store, name, value in updates:
            if store == "_parameters":
                owner._parameters[name].data = value
            else:
                owner._buffers[name] = value
        return _IncompatibleKeys(missing, unexpected)

    # -- modes --------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        check(isinstance(mode, bool), ValueError, "training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    # -- the Module API models use (torch/nn/modules/module.py) -------------------
    def get_submodule(self, target: str) -> "Module":
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            check(hasattr(mod, item), AttributeError, f"{mod._get_name()} has no attribute `{item}`")
            mod = getattr(mod, item)
            check(isinstance(mod, Module), AttributeError, f"`{item}` is not an nn.Module")
        return mod

    def get_parameter(self, target: str) -> Parameter:
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        check(hasattr(mod, name), AttributeError, f"{mod._get_name()} has no attribute `{name}`")
        param = getattr(mod, name)
        check(isinstance(param, Parameter), AttributeError, f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> np.ndarray:
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        check(hasattr(mod, name), AttributeError, f"{mod._get_name()} has no attribute `{name}`")
        check(name in mod._buffers, AttributeError, f"`{name}` is not a buffer")
        return getattr(mod, name)

    def apply(self, fn) -> "Module":
        """Call ``fn`` on every child (recursively, children first) and then on self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's ``grad`` to None (or to a new array of zeros)."""
        for p in self.parameters():
            if p.grad is not None:
                p.grad = None if set_to_none else np.zeros_like(p.grad)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def _apply(self, fn) -> "Module":
        """``fn`` (array -> array) on every parameter's data and grad (in place on the
        Parameter objects, as torch's ``param.data = ...``) and every buffer."""
        for child in self.children():
            child._apply(fn)
        for p in self._parameters.values():
            if p is not None:
                p.data = fn(p.data)
                if p.grad is not None:
                    p.grad = fn(p.grad)
        for name, b in self._buffers.items():
            if b is not None:
                self._buffers[name] = fn(b)
        return self

    def _cast_floating(self, dtype) -> "Module":
        dt = np.dtype(dtype)
        return self._apply(lambda a: a.astype(dt) if np.issubdtype(a.dtype, np.floating) else a)

    def to(self, *args, **kwargs) -> "Module":
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(array)`` and the
        keywords ``device``, ``dtype``, ``non_blocking``: casts floating-point
        parameters and buffers (integer ones keep their dtype), in place."""
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        check(not kwargs, TypeError, f"to() got an unexpected keyword argument '{next(iter(kwargs), '')}'")
        for a in args:
            if isinstance(a, (np.ndarray, Tensor)):
                dtype = a.dtype
            elif isinstance(a, str) and (a == "cpu" or a.startswith(("cuda", "mps", "xpu", "meta"))):
                device = a
            elif isinstance(a, bool):
                continue  # non_blocking given positionally
            else:
                dtype = a
        check_device(device)
        if dtype is not None:
            try:
                dt = np.dtype(_DTYPE_NAMES.get(dtype, dtype) if isinstance(dtype, str) else dtype)
            except TypeError:
                raise TypeError(f"to() received an invalid combination of arguments: dtype={dtype!r}") from None
            check(np.issubdtype(dt, np.floating) or np.issubdtype(dt, np.complexfloating), TypeError,
                  f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dt}")
            check(dt in (np.float32, np.float64), TypeError, f"the NumPy twins support float32 and float64, got {dt}")
            self._cast_floating(dt)
        return self

    def float(self) -> "Module":
        return self._cast_floating(np.float32)

    def double(self) -> "Module":
        return self._cast_floating(np.float64)

    def cpu(self) -> "Module":
        return self

    def _get_name(self) -> str:
        return type(self).__name__

    # -- calling ------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        if _contains_tensor(args) or _contains_tensor(kwargs.values()):
            return self.forward(*args, **kwargs)  # inside a parent, or under impls.vjp
        with no_grad():
            out = self.forward(*wrap(args), **{k: wrap(v) for k, v in kwargs.items()})
        return unwrap(out)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        """torch's Module.__repr__: extra_repr lines, then one "(name): repr" per child."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(m), 2) for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"
