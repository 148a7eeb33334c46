"""errors: invalid configurations and inputs.

For every ``Invalid`` in an entry: torch must still raise (else the catalog entry is
stale); the twin must raise too, an exception of the same builtin kind as torch's,
with a non-empty message, raised from the twin's own code (its innermost traceback
frame inside the package under test, not deep inside NumPy); and nothing may be
half-done: the module's state_dict is unchanged by the failed call.
"""

from __future__ import annotations

import os
import time
import traceback

import numpy as np

from nnparity.engine import copy_args

CHECK = "errors"
PARAM_NAMES = ("invalid",)


def params(entry):
    return [dict(invalid=inv) for inv in entry.invalid]


def _builtin_kind(exc: BaseException) -> type:
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


def _run(nn, entry, inv, factory, side, dtype):
    state = {}

    def go():
        module = entry.build(nn, inv.kwargs, factory, side)
        state["before"] = {k: np.array(v) for k, v in _state_of(module).items()}
        state["module"] = module
        if inv.inputs is not None:
            inputs = inv.inputs(np.dtype(dtype))
            if side == "torch":
                from reference import to_torch

                module(*to_torch(copy_args(inputs.args), "cpu"), **to_torch(dict(inputs.kwargs), "cpu"))
            else:
                module(*copy_args(inputs.args), **copy_args(dict(inputs.kwargs)))

    return _attempt(go), state


def _state_of(module):
    sd = module.state_dict()
    return {k: (v.detach().cpu().numpy() if hasattr(v, "detach") else v) for k, v in sd.items()}


def test_errors(nnp, entry, invalid, request):
    import torch

    case_like = {"dtype": "float32", "device": "cpu", "mode": invalid.mode, "example": invalid.id}
    if not nnp.impl.has(entry.name):
        nnp.not_implemented(entry, CHECK, case_like)
    started = time.perf_counter()
    torch_exc, _ = _run(torch.nn, entry, invalid, {"dtype": torch.float32, "device": "cpu"}, "torch", "float32")
    if torch_exc is None:
        nnp.verdict(entry, CHECK, case_like, False,
                    f"{entry.name} [{invalid.id}]: torch accepts this configuration/input now; the catalog entry is stale", started)
    twin_exc, state = _run(nnp.impl.nn, entry, invalid, {"dtype": np.dtype("float32")}, "twin", "float32")
    kind = _builtin_kind(torch_exc)
    problems = []
    if twin_exc is None:
        problems.append(f"the twin accepted it; torch raises {type(torch_exc).__name__}: {torch_exc}")
    else:
        if not isinstance(twin_exc, kind):
            problems.append(f"the twin raised {type(twin_exc).__name__}, torch raises {kind.__name__} ({type(torch_exc).__name__}: {torch_exc})")
        if not str(twin_exc).strip():
            problems.append(f"the twin's {type(twin_exc).__name__} has an empty message")
        frames = traceback.extract_tb(twin_exc.__traceback__)
        root = nnp.impl.root + os.sep
        if frames and not os.path.abspath(frames[-1].filename).startswith(root):
            problems.append(f"the error comes from {frames[-1].filename}:{frames[-1].lineno} ({frames[-1].name}), "
                            f"not from the twin's own validation: {type(twin_exc).__name__}: {twin_exc}")
        if "module" in state:
            after = {k: np.array(v) for k, v in _state_of(state["module"]).items()}
            changed = [k for k in state["before"] if not np.array_equal(state["before"][k], after.get(k), equal_nan=True)]
            if changed:
                problems.append(f"half-done: the failed call changed {changed}")
    message = (f"{entry.name} [{invalid.id}] kwargs={dict(invalid.kwargs)!r}: " +
               ("; ".join(problems) if problems else f"both raise {kind.__name__}; twin says: {twin_exc}"))
    nnp.verdict(entry, CHECK, case_like, not problems, message, started)
