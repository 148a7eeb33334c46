"""Lazy modules (torch/nn/modules/lazy.py): parameters whose shape is inferred from
the first input.

A lazy class is ``class LazyX(LazyModuleMixin, X)``: its constructor leaves the
inferred dimension out (torch stores 0 there, and its repr shows it), its
parameters start as :class:`UninitializedParameter` (no shape yet), and its first
call runs ``initialize_parameters(*inputs)``, which sets the inferred dimension,
gives the parameters their shapes and runs ``reset_parameters()``. Then the module
becomes ``cls_to_become`` (LazyLinear becomes Linear), as torch's does.

``load_state_dict`` into a module that is still lazy takes the shapes it is given,
as torch's does.
"""

from __future__ import annotations

import numpy as np

from .module import Module, Parameter

__all__ = ["LazyModuleMixin", "UninitializedParameter", "UninitializedBuffer"]


class UninitializedParameter(Parameter):
    """A parameter without a shape yet. ``materialize(shape)`` gives it one (zeros, until
    the module's ``reset_parameters``)."""

    __slots__ = ()
    uninitialized = True  # state_dict keeps the object itself (impls.nn.module)

    def __init__(self, requires_grad: bool = True, dtype=np.float32):
        super().__init__(np.empty(0, dtype=dtype), requires_grad=requires_grad)

    def materialize(self, shape, dtype=None) -> None:
        self.data = np.zeros(tuple(shape), dtype=dtype or self.data.dtype)
        self.__class__ = Parameter

    def __repr__(self):
        return "<UninitializedParameter>"


class UninitializedBuffer(np.ndarray):
    """A buffer without a shape yet (an empty array marked uninitialised)."""

    uninitialized = True

    def __new__(cls, dtype=np.float32):
        return np.empty(0, dtype=dtype).view(cls)


def is_uninitialized(value) -> bool:
    return isinstance(value, (UninitializedParameter, UninitializedBuffer))


class LazyModuleMixin:
    """Mix in before the regular class: ``class LazyLinear(LazyModuleMixin, Linear)``."""

    cls_to_become: type | None = None

    def has_uninitialized_params(self) -> bool:
        stores = list(self._parameters.values()) + list(self._buffers.values())
        return any(is_uninitialized(v) for v in stores)

    def initialize_parameters(self, *args, **kwargs) -> None:  # pragma: no cover - every lazy class defines it
        raise NotImplementedError(f"{type(self).__name__} must define initialize_parameters")

    def _materialize_from(self, *args, **kwargs) -> None:
        if self.has_uninitialized_params():
            self.initialize_parameters(*args, **kwargs)
        if not self.has_uninitialized_params() and self.cls_to_become is not None:
            object.__setattr__(self, "__class__", self.cls_to_become)

    def __call__(self, *args, **kwargs):
        self._materialize_from(*args, **kwargs)
        return Module.__call__(self, *args, **kwargs)

    def forward(self, *args, **kwargs):
        self._materialize_from(*args, **kwargs)
        if not isinstance(self, LazyModuleMixin):  # it has become cls_to_become
            return self.forward(*args, **kwargs)
        return super().forward(*args, **kwargs)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """A still-lazy module takes the shapes it is loaded with (torch's
        ``_lazy_load_hook``)."""
        for name, value in list(self._parameters.items()):
            if isinstance(value, UninitializedParameter) and name in state_dict:
                value.materialize(np.shape(state_dict[name]))
        for name, value in list(self._buffers.items()):
            if isinstance(value, UninitializedBuffer) and name in state_dict:
                self._buffers[name] = np.zeros(np.shape(state_dict[name]), dtype=value.dtype)
        if not self.has_uninitialized_params() and self.cls_to_become is not None:
            object.__setattr__(self, "__class__", self.cls_to_become)
        return super().load_state_dict(state_dict, strict=strict, assign=assign)
