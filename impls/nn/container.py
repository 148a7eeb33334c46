"""Containers (torch/nn/modules/container.py): Sequential, ModuleList, ModuleDict,
ParameterList, ParameterDict.

The operations, keys and errors are torch 2.13's, including its conventions:

* A slice of a Sequential keeps the original keys (``s[1:]`` holds ``"1"``, ``"2"``,
  so its state_dict has ``"1.weight"``); a slice of a ModuleList is re-keyed from 0.
* Deleting renumbers both from 0.
* ``ParameterDict.update`` with a plain dict inserts in sorted key order (an
  OrderedDict, a ParameterDict or a sequence of pairs keep their order); a missing
  key raises AttributeError, a non-string key TypeError.
* ParameterList/ParameterDict turn arrays into Parameters and keep other objects
  as plain attributes; calling either raises RuntimeError.

Where torch changes state and then raises (``ModuleList.insert`` with a negative
index, ``ParameterDict[key] = value`` with an invalid key), the twin raises the
same exception and changes nothing (docs/torch-findings.md).
"""

from __future__ import annotations

import operator
from collections import OrderedDict, abc
from itertools import chain, islice

import numpy as np

from ..autograd import Tensor
from .._validate import check
from .module import Module, Parameter, _addindent, typename

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _abs_index(idx, size: int) -> int:
    """torch's index rule for containers: operator.index, then -size <= idx < size."""
    idx = operator.index(idx)
    check(-size <= idx < size, IndexError, f"index {idx} is out of range")
    return idx % size if size else idx


def _delete_and_renumber(container: Module, keys) -> None:
    """Delete the children ``keys``, then number the rest "0", "1", ... (torch's __delitem__)."""
    for key in keys:
        delattr(container, key)
    container._modules = OrderedDict((str(i), m) for i, m in enumerate(container._modules.values()))


def _check_pairs(who: str, items) -> None:
    """torch's validation of ``update(iterable of pairs)`` in ModuleDict/ParameterDict."""
    for j, m in enumerate(items):
        check(isinstance(m, abc.Iterable), TypeError, f"{who} update sequence element #{j} should be Iterable; is{type(m).__name__}")
        check(len(m) == 2, ValueError, f"{who} update sequence element #{j} has length {len(m)}; 2 is required")


class Sequential(Module):
    """Calls its children in order; ``state_dict`` keys are ``"<key>.<name>"``, where
    the keys are "0", "1", ... or those of an OrderedDict argument."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def _key_at(self, idx) -> str:
        return next(islice(iter(self._modules), _abs_index(idx, len(self)), None))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._key_at(idx)]

    def __setitem__(self, idx, module) -> None:
        setattr(self, self._key_at(idx), module)

    def __delitem__(self, idx) -> None:
        _delete_and_renumber(self, list(self._modules)[idx] if isinstance(idx, slice) else [self._key_at(idx)])

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __add__(self, other) -> "Sequential":
        check(isinstance(other, Sequential), ValueError,
              f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return Sequential().extend(chain(self, other))

    def __iadd__(self, other) -> "Sequential":
        check(isinstance(other, Sequential), ValueError,
              f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        offset = len(self)
        for i, module in enumerate(other):
            self.add_module(str(i + offset), module)
        return self

    def _check_factor(self, other) -> None:
        check(isinstance(other, int), TypeError, f"unsupported operand type(s) for *: {type(self)} and {type(other)}")
        check(other > 0, ValueError, f"Non-positive multiplication factor {other} for {type(self)}")

    def __mul__(self, other) -> "Sequential":
        self._check_factor(other)
        return Sequential().extend(list(self) * other)

    def __rmul__(self, other) -> "Sequential":
        return self.__mul__(other)

    def __imul__(self, other) -> "Sequential":
        self._check_factor(other)
        n = len(self)
        for i in range(n, n * other):
            self.add_module(str(i), self._modules[str(i % n)])
        return self

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def append(self, module) -> "Sequential":
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index: int, module) -> "Sequential":
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        check(-n <= index <= n, IndexError, f"Index out of range: {index}")
        if index < 0:
            index += n
        for i in range(n, index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module
        return self

    def extend(self, sequential) -> "Sequential":
        for layer in sequential:
            self.append(layer)
        return self

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class ModuleList(Module):
    """Holds submodules in a list (keys "0", "1", ...); no forward."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self += modules

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__(list(self._modules.values())[idx])
        return self._modules[str(_abs_index(idx, len(self)))]

    def __setitem__(self, idx, module) -> None:
        setattr(self, str(_abs_index(idx, len(self))), module)

    def __delitem__(self, idx) -> None:
        indices = range(len(self._modules))[idx] if isinstance(idx, slice) else [_abs_index(idx, len(self))]
        _delete_and_renumber(self, [str(k) for k in indices])

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules) -> "ModuleList":
        return self.extend(modules)

    def __add__(self, other) -> "ModuleList":
        combined = ModuleList()
        for i, module in enumerate(chain(self, other)):
            combined.add_module(str(i), module)
        return combined

    def __repr__(self):
        """torch's: runs of equal child reprs are folded into "(i-j): n x repr"."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs = []  # [start, end, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [_addindent(f"({s}): {r}" if s == e else f"({s}-{e}): {e - s + 1} x {r}", 2) for s, e, r in runs]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def insert(self, index: int, module) -> None:
        """torch's insert: shifts keys index.. up by one. An index past the end adds
        the key str(index); a negative index raises KeyError('-1') (torch raises it
        after shifting part of the list; the twin before changing anything)."""
        n = len(self._modules)
        shifted = range(n, index, -1)  # TypeError for a non-integer index, as torch
        if index < 0:
            raise KeyError("-1")
        for i in shifted:
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module

    def append(self, module) -> "ModuleList":
        self.add_module(str(len(self)), module)
        return self

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def extend(self, modules) -> "ModuleList":
        check(isinstance(modules, abc.Iterable), TypeError,
              f"ModuleList.extend should be called with an iterable, but got {type(modules).__name__}")
        offset = len(self)
        for i, module in enumerate(modules):
            self.add_module(str(offset + i), module)
        return self


class ModuleDict(Module):
    """Holds submodules in an ordered dictionary (insertion order, also for plain dicts); no forward."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key) -> None:
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules) -> None:
        check(isinstance(modules, abc.Iterable), TypeError,
              f"ModuleDict.update should be called with an iterable of key/value pairs, but got {type(modules).__name__}")
        if isinstance(modules, (OrderedDict, ModuleDict, abc.Mapping)):
            for key, module in modules.items():
                self[key] = module
        else:
            modules = list(modules)
            _check_pairs("ModuleDict", modules)
            for key, module in modules:
                self[key] = module


# -- parameter containers ----------------------------------------------------------

_TORCH_DTYPE = {"float32": "float32", "float64": "float64", "float16": "float16", "int64": "int64", "int32": "int32",
                "int16": "int16", "int8": "int8", "uint8": "uint8", "bool": "bool", "complex64": "complex64",
                "complex128": "complex128"}
_TORCH_TYPENAME = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
                   "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
                   "bool": "BoolTensor", "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor"}


def _is_array(value) -> bool:
    return isinstance(value, (np.ndarray, Tensor))


def _as_parameter(value):
    """torch converts a plain Tensor (here: an array) into a Parameter; other objects stay."""
    return Parameter(value) if _is_array(value) and not isinstance(value, Parameter) else value


def _describe(key, value, type_names: dict) -> str:
    """One line of ParameterList/ParameterDict.extra_repr, worded as torch's."""
    if not _is_array(value):
        return f"  ({key}): Object of type: {type(value).__name__}"
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    size = "x".join(str(s) for s in value.shape)
    return f"  ({key}): {kind} containing: [torch.{type_names.get(np.dtype(value.dtype).name, np.dtype(value.dtype).name)} of size {size}]"


class ParameterList(Module):
    """Holds parameters (and other objects) in a list, under the keys "0", "1", ..."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            out = self.__class__()
            for i in range(*idx.indices(len(self))):
                out.append(self[i])
            return out
        return getattr(self, str(_abs_index(idx, len(self))))

    def __setitem__(self, idx, param) -> None:
        setattr(self, str(_abs_index(idx, len(self))), _as_parameter(param))

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(len(self)))

    def __iadd__(self, parameters) -> "ParameterList":
        return self.extend(parameters)

    def append(self, value) -> "ParameterList":
        value = _as_parameter(value)  # validates before the list grows
        self._size += 1
        try:
            self[self._size - 1] = value
        except Exception:
            self._size -= 1
            raise
        return self

    def extend(self, values) -> "ParameterList":
        check(isinstance(values, abc.Iterable) and not _is_array(values), TypeError,
              f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_describe(k, p, _TORCH_DTYPE) for k, p in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """Holds parameters (and other objects) in an ordered dictionary with string keys."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _key_to_attr(key) -> str:
        check(isinstance(key, str), TypeError,
              "Index given to ParameterDict cannot be used as a key as it is not a string "
              f"(type is '{type(key).__name__}'). Open an issue on github if you need non-string keys.")
        return key

    def __getitem__(self, key):
        return getattr(self, self._key_to_attr(key))

    def __setitem__(self, key, value) -> None:
        attr = self._key_to_attr(key)
        is_new = key not in self._keys
        self._keys[key] = None
        try:
            setattr(self, attr, _as_parameter(value))
        except Exception:
            if is_new:
                del self._keys[key]
            raise

    def __delitem__(self, key) -> None:
        del self._keys[key]
        delattr(self, self._key_to_attr(key))

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def copy(self) -> "ParameterDict":
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        for k in self._keys.copy():
            del self[k]

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def popitem(self):
        k = next(reversed(self._keys)) if self._keys else {}.popitem()  # KeyError on empty, as dict's
        val = self[k]
        del self[k]
        return k, val

    def get(self, key, default=None):
        return self[key] if key in self else default

    def fromkeys(self, keys, default=None) -> "ParameterDict":
        return ParameterDict((k, default) for k in keys)

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def update(self, parameters) -> None:
        check(isinstance(parameters, abc.Iterable), TypeError,
              f"ParametersDict.update should be called with an iterable of key/value pairs, but got {type(parameters).__name__}")
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, abc.Mapping):
            pairs = sorted(parameters.items())
        else:
            pairs = list(parameters)
            _check_pairs("ParameterDict", pairs)
        for key, value in pairs:
            self[key] = value

    def extra_repr(self) -> str:
        return "\n".join(_describe(k, p, _TORCH_TYPENAME) for k, p in self.items())

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")

    def __or__(self, other) -> "ParameterDict":
        copy = self.copy()
        copy.update(other)
        return copy

    def __ror__(self, other) -> "ParameterDict":
        copy = other.copy()
        copy.update(self)
        return copy

    def __ior__(self, other) -> "ParameterDict":
        self.update(other)
        return self
