"""errors: invalid configurations and inputs, in both dtypes, on every device, in the
mode each case names.

For every ``Invalid`` in an entry: torch must still raise (else the catalog entry is
stale); the twin must raise too, an exception of the same builtin kind as torch's,
with a non-empty message, raised from the twin's own code (its innermost traceback
frame inside the package under test, not deep inside NumPy); and nothing may be
half-done: the module's state_dict is unchanged by the failed call. Where torch's
behaviour is undefined (``Invalid.torch_undefined``, e.g. it reads out of bounds),
torch is not consulted and the twin must raise ``Invalid.expect``.
"""

from __future__ import annotations

import builtins
import os
import time
import traceback

import numpy as np

from ..engine import call, copy_args
from ..vocab import DEVICES, DTYPES

KIND = "errors"
PARAM_NAMES = ("dtype", "device", "invalid")


def params(entry):
    return [dict(dtype=d, device=v, invalid=inv) for inv in entry.invalid for d in DTYPES for v in DEVICES]


def builtin_kind(exc: BaseException) -> type:
    """The nearest builtin exception class in the MRO (torch raises subclasses at times)."""
    for cls in type(exc).__mro__:
        if cls.__module__ == "builtins":
            return cls
    return Exception


def _attempt(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the point is to capture whatever is raised
        return e
    return None


def state_of(module):
    """The module's state as arrays; a lazy module's entry that has no shape yet
    (torch's and the twin's Uninitialized* classes) as the marker 'uninitialized'."""
    sd = module.state_dict()
    return {k: np.array("uninitialized") if type(v).__name__.startswith("Uninitialized") else
            (v.detach().cpu().numpy() if hasattr(v, "detach") else np.array(v)) for k, v in sd.items()}


def _changed(state) -> list:
    if "module" not in state:
        return []
    after = {k: np.array(v) for k, v in state_of(state["module"]).items()}
    before = state["before"]
    return [k for k in before if not (before[k].shape == np.shape(after.get(k)) and
                                      np.array_equal(before[k], after.get(k), equal_nan=before[k].dtype.kind == "f"))]


def _run(nn, entry, inv, factory, side, dtype, device):
    state = {}

    def go():
        module = entry.build(nn, inv.kwargs, factory, side)
        module.train(inv.mode == "train")
        state["before"] = {k: np.array(v) for k, v in state_of(module).items()}
        state["module"] = module
        if inv.inputs is not None:
            inputs = inv.inputs(np.dtype(dtype))
            fn = call(module, inv.method)
            if side == "torch":
                from reference import to_torch

                fn(*to_torch(copy_args(inputs.args), device), **to_torch(dict(inputs.kwargs), device))
            else:
                fn(*copy_args(inputs.args), **copy_args(dict(inputs.kwargs)))

    return _attempt(go), state


def run(nnp, entry, *, dtype, device, invalid):
    import torch

    from reference import TORCH_DTYPES

    case_like = {"dtype": dtype, "device": device, "mode": invalid.mode, "example": invalid.id}
    if not nnp.impl.has(entry.name):
        nnp.not_implemented(entry, KIND, case_like)
    started = time.perf_counter()
    torch_changed: set = set()
    if invalid.torch_undefined:
        kind, torch_said = getattr(builtins, invalid.expect), f"torch not consulted: {invalid.torch_undefined}"
    else:
        torch_exc, torch_state = _run(torch.nn, entry, invalid, {"dtype": TORCH_DTYPES[dtype], "device": device},
                                      "torch", dtype, device)
        torch_changed = set(_changed(torch_state))
        if torch_exc is None:
            nnp.verdict(entry, KIND, case_like, False,
                        f"{entry.name} errors [{invalid.id}]: torch accepts this configuration/input now; the catalog "
                        "entry is stale", started)
        kind, torch_said = builtin_kind(torch_exc), f"{type(torch_exc).__name__}: {torch_exc}"
    twin_exc, state = _run(nnp.impl.nn, entry, invalid, {"dtype": np.dtype(dtype)}, "twin", dtype, device)
    problems = []
    if twin_exc is None:
        problems.append(f"the twin accepted it; torch raises {torch_said}")
    else:
        if not isinstance(twin_exc, kind):
            problems.append(f"the twin raised {type(twin_exc).__name__}, torch raises {kind.__name__} ({torch_said})")
        if not str(twin_exc).strip():
            problems.append(f"the twin's {type(twin_exc).__name__} has an empty message")
        frames = traceback.extract_tb(twin_exc.__traceback__)
        root = nnp.impl.root + os.sep
        if frames and not os.path.abspath(frames[-1].filename).startswith(root):
            problems.append(f"the error comes from {frames[-1].filename}:{frames[-1].lineno} ({frames[-1].name}), "
                            f"not from the twin's own validation: {type(twin_exc).__name__}: {twin_exc}")
        # what torch's own failed call changes is torch's behaviour (a lazy module's first
        # call materialises its parameters before the layer's own checks), not half-done
        changed = [k for k in _changed(state) if k not in torch_changed]
        if changed:
            problems.append(f"half-done: the failed call changed {changed}")
    message = (f"{entry.name} errors [{invalid.id}] kwargs={dict(invalid.kwargs)!r} ({dtype}, {device}, {invalid.mode} "
               "mode): " + ("; ".join(problems) if problems else f"both raise {kind.__name__}; twin says: {twin_exc}"))
    nnp.verdict(entry, KIND, case_like, not problems, message, started)
