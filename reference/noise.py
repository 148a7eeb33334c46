"""torch's random draws during one call, recorded by module path.

torch draws its noise inside ATen (dropout's ``bernoulli_``, RReLU's
``rrelu_with_noise``, FractionalMaxPool's ``rand``), also inside modules that are
not random submodules of their own (an RNN's dropout between layers,
MultiheadAttention's dropout on its weights). A ``TorchDispatchMode`` sees every
ATen op, and torch's global module hooks tell which module of the tree is running, so
each draw is recorded with the path of the innermost module running it (``''`` for
the root, ``'0.dropout1'``, ``'self_attn'``). What the twin needs from them is the
catalog's business (``Entry.noise``, one adapter per random class).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = ["Draw", "NoiseCapture"]

_aten = torch.ops.aten
#: op -> which value holds the draw once the op has run: ('out', i) an output,
#: ('arg', i) an argument the op fills in place.
_RANDOM = {
    _aten.bernoulli_.float: ("out", None),
    _aten.bernoulli_.Tensor: ("out", None),
    _aten.bernoulli.default: ("out", None),
    _aten.bernoulli.p: ("out", None),
    _aten.native_dropout.default: ("out", 1),
    _aten.rrelu_with_noise.default: ("arg", 1),
    _aten.rrelu_with_noise_.default: ("arg", 1),
    _aten.rand.default: ("out", None),
    _aten.rand_like.default: ("out", None),
    _aten.uniform_.default: ("out", None),
    _aten.normal_.default: ("out", None),
    _aten.randn.default: ("out", None),
    _aten.randint.low: ("out", None),
    _aten.randperm.default: ("out", None),
    _aten.multinomial.default: ("out", None),
    _aten.exponential_.default: ("out", None),
}


@dataclass(frozen=True)
class Draw:
    """One random op: the path of the module that ran it, the op, and its values."""

    path: str
    op: str
    values: np.ndarray


class _Recorder(TorchDispatchMode):
    def __init__(self, capture):
        super().__init__()
        self.capture = capture

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        where = _RANDOM.get(func)
        if where is not None:
            kind, i = where
            value = (out if i is None else out[i]) if kind == "out" else args[i]
            self.capture.draws.append(Draw(self.capture.stack[-1], str(func.overloadpacket.__name__),
                                           value.detach().cpu().numpy().copy()))
        return out


class NoiseCapture:
    """``with NoiseCapture(module) as cap: module(...)`` records ``cap.draws``.

    The module stack is kept with torch's *global* module hooks, filtered to the
    modules of this tree: hooks registered on the modules themselves would switch
    torch's fast paths off (TransformerEncoderLayer's eval fast path, and with it
    TransformerEncoder's nested-tensor path, is not taken when "forward pre-/hooks
    are attached to the module"), so torch would not run as it runs for its users."""

    def __init__(self, module: torch.nn.Module):
        self.module, self.draws, self.stack, self._hooks = module, [], [""], []

    def __enter__(self):
        paths = {id(sub): name for name, sub in self.module.named_modules()}
        entered = []  # per call of a module of this tree: pushed or not, so the post-hook pops in step

        def enter(m, args):
            name = paths.get(id(m))
            entered.append(name is not None)
            if name is not None:
                self.stack.append(name)  # returns None: a pre-hook's return value would replace the inputs

        def leave(m, args, out):
            if entered and entered.pop():
                self.stack.pop()  # returns None: a forward hook's return value would replace the output

        hooks = torch.nn.modules.module
        self._hooks.append(hooks.register_module_forward_pre_hook(enter))
        self._hooks.append(hooks.register_module_forward_hook(leave, always_call=True))
        self._mode = _Recorder(self)
        self._mode.__enter__()
        return self

    def __exit__(self, *exc):
        self._mode.__exit__(*exc)
        for h in self._hooks:
            h.remove()
        self._hooks.clear()
        return False

    def by_path(self) -> dict[str, list[Draw]]:
        out: dict[str, list[Draw]] = {}
        for d in self.draws:
            out.setdefault(d.path, []).append(d)
        return out
