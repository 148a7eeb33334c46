"""Sequential (torch/nn/modules/container.py)."""

from __future__ import annotations

from .._validate import check
from .module import Module

__all__ = ["Sequential"]


class Sequential(Module):
    """Calls its children in order; ``state_dict`` keys are ``"<index>.<name>"``."""

    def __init__(self, *args):
        super().__init__()
        for i, m in enumerate(args):
            check(isinstance(m, Module), TypeError, f"Sequential: argument {i} is a {type(m).__name__}, not a Module subclass")
            self.add_module(str(i), m)

    def __len__(self):
        return len(self._modules)

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input
