"""api: the twin's public surface against torch's, for every catalogued class.

* The constructor signature: parameter names, order, kinds (keyword-only included)
  and defaults (compared by repr, so 1 and 1.0 differ).
* Argument validation: drawn constructor kwargs, each example perturbing one
  argument with a probe value (negative, zero, fractional, non-finite, a wrong type,
  None, a bogus string: chosen from the argument's default and drawn value). Where
  torch's constructor raises, the twin's must raise the same builtin kind, from its
  own code; where torch accepts, the twin must accept. (Entries built through a
  ``build_fn`` draw kwargs that are not the constructor's own: no probes there.)
* For every pair both sides built: ``state_dict()`` keys in torch's order, shapes
  and dtypes; ``named_parameters()`` in torch's order; ``named_buffers()``
  (persistent and non-persistent) as torch has them; ``repr(m)`` equal to torch's.
"""

from __future__ import annotations

import inspect
import math
import os
import traceback
import warnings

import numpy as np
from hypothesis import strategies as st

from ..case import Case
from ..compare import Comparison, Tolerance
from .errors import builtin_kind

KIND = "api"
PARAM_NAMES = ()
EXACT = Tolerance(0, 0, "the public surface is compared exactly")
#: Constructor arguments never probed: the factory arguments (device/dtype: their
#: handling is the contract's own, README) and private ones.
NOT_PROBED = ("device", "dtype")


def params(entry):
    return [dict()]


def _params_of(cls):
    """The constructor's parameters. A class without an ``__init__`` of its own takes
    no arguments (torch.nn.Module.__init__'s ``*args, **kwargs`` exist only to raise
    TypeError for any argument), whatever its base class spells."""
    import torch

    if cls.__init__ is torch.nn.Module.__init__:
        return []
    sig = inspect.signature(cls.__init__)
    return [p for p in sig.parameters.values() if p.name != "self"]


def signature_problems(torch_cls, twin_cls) -> list[str]:
    def describe(p):
        if p.default is inspect.Parameter.empty:
            default = "<required>"
        elif inspect.isfunction(p.default):  # a function default (activation=F.relu): by name, not address
            default = f"<function {p.default.__name__}>"
        else:
            default = repr(p.default)
        return (p.name, p.kind.name, default)

    theirs, ours = [describe(p) for p in _params_of(torch_cls)], [describe(p) for p in _params_of(twin_cls)]
    if theirs == ours:
        return []
    problems = []
    names_t, names_w = [t[0] for t in theirs], [w[0] for w in ours]
    if names_t != names_w:
        problems.append(f"parameters {names_w} != torch's {names_t}")
    for t in theirs:
        w = next((w for w in ours if w[0] == t[0]), None)
        if w is not None and w != t:
            problems.append(f"{t[0]}: twin {w[1]} default {w[2]}, torch {t[1]} default {t[2]}")
    return problems


def probe_values(default, drawn) -> list:
    """Values to try for one argument, from its default and its drawn value."""
    values = [None]
    for v in (default, drawn):
        if isinstance(v, bool):
            values += [True, False, 0, 1]
        elif isinstance(v, int):
            values += [-1, 0, 1, 2, 3, 2.5]
        elif isinstance(v, float):
            values += [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, math.inf, math.nan, 1]
        elif isinstance(v, str):
            values += ["bogus"]
        elif isinstance(v, (tuple, list)):
            values += [(), (0,), (-1,), (1, 2, 3, 4)]
    values += ["bogus", -1, 0.5]
    out = []
    for v in values:  # unique, keeping NaN once
        if not any(type(v) is type(o) and (v == o or v != v and o != o) for o in out):
            out.append(v)
    return out


def _probes(entry, torch_cls):
    if entry.build_fn is not None:
        return {}
    return {p.name: p for p in _params_of(torch_cls)
            if p.name not in NOT_PROBED and not p.name.startswith("_")
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def case_strategy(entry, torch_cls):
    probes = _probes(entry, torch_cls)

    @st.composite
    def cases(draw):
        kw = dict(draw(entry.kwargs))
        if probes and draw(st.booleans()):
            name = draw(st.sampled_from(sorted(probes)))
            p = probes[name]
            default = None if p.default is inspect.Parameter.empty else p.default
            kw[name] = draw(st.sampled_from(probe_values(default, kw.get(name))))
        # A seed, as every drawn case has: a class with nothing to vary still runs its
        # planned examples (a finite space would end early and look like a filter).
        return Case(entry.name, kw, (), dtype="float32", device="cpu", mode="train", seed=draw(st.integers(0, 2**31 - 1)))

    return cases()


def _build(nn, entry, kwargs, side):
    import torch

    factory = {"dtype": torch.float32, "device": "cpu"} if side == "torch" else {"dtype": np.dtype("float32")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return entry.build(nn, kwargs, factory, side), None
        except Exception as e:  # noqa: BLE001 - compared with the other side's
            return None, e


def _names(pairs):
    return [n for n, _ in pairs]


def _layout(sd) -> list:
    """(key, shape, dtype) per state entry; a lazy module's parameter or buffer that has
    no shape yet (torch's UninitializedParameter/UninitializedBuffer, the twin's class of
    the same name) is (key, 'uninitialized')."""
    return [(k, "uninitialized") if type(v).__name__.startswith("Uninitialized") else
            (k, tuple(np.shape(v)), str(np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v).dtype))
            for k, v in sd.items()]


def _buffers(module):
    persistent = set(module.state_dict())
    return [(n, n in persistent) for n, _ in module.named_buffers()]


def body(entry, impl):
    def run(case):
        import torch

        comps = []

        def add(what, problem):
            comps.append(Comparison(what, problem is None, EXACT, problem=problem))

        sig = signature_problems(getattr(torch.nn, entry.name), getattr(impl.nn, entry.name))
        add("constructor signature", "; ".join(sig) if sig else None)
        tm, texc = _build(torch.nn, entry, case.kwargs, "torch")
        wm, wexc = _build(impl.nn, entry, case.kwargs, "twin")
        if texc is not None or wexc is not None:
            if wexc is None:
                add("constructor validation", f"the twin accepts kwargs torch rejects with "
                                              f"{type(texc).__name__}: {texc}")
            elif texc is None:
                add("constructor validation", f"the twin raises {type(wexc).__name__}: {wexc}; torch accepts")
            else:
                kind = builtin_kind(texc)
                problem = None
                if not isinstance(wexc, kind):
                    problem = f"the twin raises {type(wexc).__name__}, torch {kind.__name__} ({texc})"
                frames = traceback.extract_tb(wexc.__traceback__)
                if problem is None and frames and not os.path.abspath(frames[-1].filename).startswith(impl.root + os.sep):
                    problem = (f"the twin's {type(wexc).__name__} comes from {frames[-1].filename}:{frames[-1].lineno}, "
                               "not from its own validation")
                add("constructor validation", problem)
            return comps
        add("constructor validation", None)
        tl, wl = _layout(tm.state_dict()), _layout(wm.state_dict())
        add("state_dict layout (keys in order, shapes, dtypes)", None if tl == wl else f"twin {wl}, torch {tl}")
        tp, wp = _names(tm.named_parameters()), _names(wm.named_parameters())
        add("named_parameters order", None if tp == wp else f"twin {wp}, torch {tp}")
        if hasattr(wm, "named_buffers"):
            tb, wb = _buffers(tm), _buffers(wm)
            add("buffers (name, persistent)", None if tb == wb else f"twin {wb}, torch {tb}")
        else:
            add("buffers (name, persistent)", "the twin has no named_buffers() (part of the contract)")
        tr, wr = repr(tm), repr(wm)
        add("repr", None if tr == wr else f"twin {wr!r}, torch {tr!r}")
        return comps

    return run


def run(nnp, entry):
    import torch

    nnp.fuzz(entry, KIND, case_strategy(entry, getattr(torch.nn, entry.name)), body(entry, nnp.impl),
             dtype="float32", device="cpu", mode="train")
