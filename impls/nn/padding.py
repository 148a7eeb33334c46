"""Padding layers (torch/nn/modules/padding.py): thin wrappers over ``F.pad``.

``padding`` is an int (the same on every side) or a tuple (left, right, top,
bottom, front, back), stored as torch stores it (an int becomes a 2-, 4- or
6-tuple; a tuple is kept as given, so a wrong length fails in forward, as in
torch). Negative pads crop. The limits (reflect: pad < size; circular: at most
one wrap) are enforced by ``F.pad``.
"""

from __future__ import annotations

from .. import functional as F
from .._validate import check
from .conv import ntuple
from .module import Module

__all__ = [f"{kind}Pad{d}d" for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular") for d in (1, 2, 3)]


class _PadNd(Module):
    _D = 0
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = ntuple(padding, 2 * self._D)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Pads with ``value`` (cast to the input's dtype)."""

    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ReflectionPadNd(_PadNd):
    """Reflection about the edges (the edge itself is not repeated); each pad < the size."""

    _mode = "reflect"


class _ReplicationPadNd(_PadNd):
    """Repeats the edge element."""

    _mode = "replicate"


class _CircularPadNd(_PadNd):
    """Wraps around (the end pads the beginning); at most one wrap. Checks the input rank itself."""

    _mode = "circular"

    def forward(self, input):
        D = self._D
        check(input.ndim in (D + 1, D + 2), ValueError, f"expected {D + 1}D or {D + 2}D input (got {input.ndim}D input)")
        return F.pad(input, self.padding, "circular")


def _make(base, D):
    """The D-d class of a family: '_ReflectionPadNd', 2 -> ReflectionPad2d."""
    name = f"{base.__name__[1:-2]}{D}d"
    return type(name, (base,), {"_D": D, "__doc__": base.__doc__, "__module__": __name__, "__qualname__": name})


ConstantPad1d, ConstantPad2d, ConstantPad3d = (_make(_ConstantPadNd, d) for d in (1, 2, 3))
ZeroPad1d, ZeroPad2d, ZeroPad3d = (_make(_ZeroPadNd, d) for d in (1, 2, 3))
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = (_make(_ReflectionPadNd, d) for d in (1, 2, 3))
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = (_make(_ReplicationPadNd, d) for d in (1, 2, 3))
CircularPad1d, CircularPad2d, CircularPad3d = (_make(_CircularPadNd, d) for d in (1, 2, 3))
