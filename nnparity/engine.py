"""Run one Case on the twin and on torch.

Every result is a dict of *labelled arrays* (``output``, ``grad input[0]``,
``grad weight``, ``state running_var``, ...), so outputs, gradients and state are
judged by one mechanism, and the float64 oracle (torch in float64 on the upcast
case, run only when something fails) fills in the same labels. The forward also
hands back what each side warned while it built the module and ran (label
``warnings``; judged by ``nnparity.warnings_parity``).

Who raised decides the verdict: :class:`TwinRaised` (the twin raised on a case
torch accepts) is a discrepancy; :class:`CatalogError` (torch rejected a drawn
case: the catalog's strategy is wrong) and any other exception are harness errors.
"""

from __future__ import annotations

import functools
import traceback
import types

import numpy as np

from .case import Case, strided
from .catalog import build_torch
from .compare import Comparison, Tolerance, compare
from .impl import Impl
from .leaves import Call, bind, get, leaves
from .noise import NoiseError, inject, same_draws
from .warnings_parity import LABEL as WARNINGS, Ears, compare_warnings
from reference.runner import flatten

__all__ = ["NotImplementedByImpl", "CatalogError", "TwinRaised", "Pair", "forward_arrays", "gradient_arrays",
           "judge", "copy_args", "is_float_array", "cotangents_for", "rng_for", "oracle_arrays", "call", "bind_case",
           "differentiable_leaves", "target", "twin_target", "materialize", "mark_leaves"]


class NotImplementedByImpl(Exception):
    """The package under test has no class of this name."""


class CatalogError(Exception):
    """torch itself rejected a drawn case: the catalog's strategy is wrong, not the twin."""


class TwinRaised(AssertionError):
    """The twin raised on a case torch accepts: a discrepancy."""


def rng_for(seed: int, stream: int) -> np.random.Generator:
    """Independent, reproducible NumPy streams per case: 0 state, 1 cotangents, 2 steps."""
    return np.random.default_rng([seed, stream])


def is_float_array(x) -> bool:
    return isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)


def copy_args(x):
    """Fresh copies with the same layout (a non-contiguous array stays non-contiguous),
    so in-place twins and torch modules each mutate their own copy."""
    if isinstance(x, np.ndarray):
        return x.copy() if x.flags.c_contiguous or x.size <= 1 else strided(x.copy())
    if isinstance(x, (tuple, list)):
        return type(x)(copy_args(v) for v in x)
    if isinstance(x, dict):
        return {k: copy_args(v) for k, v in x.items()}
    return x


def _upcast(x):
    if is_float_array(x):
        return copy_args(x).astype(np.float64) if x.flags.c_contiguous else strided(x.astype(np.float64))
    if isinstance(x, (tuple, list)):
        return type(x)(_upcast(v) for v in x)
    if isinstance(x, dict):
        return {k: _upcast(v) for k, v in x.items()}
    return x


def call(module, method: str = ""):
    """The callable a case runs: the module itself, or one of its methods."""
    return getattr(module, method) if method else module


def target(entry, module, method: str, nn, side: str):
    """What one side calls with the case's (bound) arguments: the module (or its
    method), behind the entry's adapter where it has one."""
    fn = call(module, method)
    if entry.adapter is None:
        return fn

    def adapted(*args, **kwargs):
        a, k = entry.adapter(nn, side, *args, **kwargs)
        return fn(*a, **k)

    return adapted


def twin_target(entry, twin, method: str, nn):
    """The twin's target as something the contract's ``vjp`` takes: the module, a bound
    method, or the adapter bound to the module."""
    if entry.adapter is None:
        return call(twin, method)
    return types.MethodType(lambda self, *a, **k: target(entry, self, method, nn, "twin")(*a, **k), twin)


def _twin_raised(e: Exception, what: str) -> TwinRaised:
    tb = traceback.extract_tb(e.__traceback__)
    where = f" (at {tb[-1].filename}:{tb[-1].lineno})" if tb else ""
    return TwinRaised(f"the twin's {what} raised {type(e).__name__}: {e}{where} on a case torch accepts")


def run_twin(fn, what: str):
    """Call into the twin; any exception becomes a :class:`TwinRaised` that names it."""
    try:
        return fn()
    except Exception as e:
        raise _twin_raised(e, what) from e


def run_torch(fn, entry_name: str):
    """Call into torch on a drawn case; an exception is the catalog's fault."""
    try:
        return fn()
    except Exception as e:
        raise CatalogError(f"torch.nn.{entry_name} raised {type(e).__name__}: {e} on a drawn case; "
                           "the catalog's strategy is wrong") from e


class Pair:
    """The twin and the torch module for one case, holding the same state."""

    def __init__(self, entry, case: Case, impl: Impl, device: str | None = None):
        from reference import TORCH_DTYPES, TorchModule

        if not impl.has(entry.name):
            raise NotImplementedByImpl(f"{impl.name} does not implement {entry.name}")
        self.entry, self.case, self.impl = entry, case, impl
        device = device or case.device
        self.ears = Ears()  # the warnings each side gives building the module (and in forward_arrays)
        with self.ears.listen("torch"):
            tm = run_torch(lambda: build_torch(entry, case.kwargs, {"dtype": TORCH_DTYPES[case.dtype],
                                                                    "device": device}, case.seed), entry.name)
        self.torch = TorchModule(tm, device, case.dtype)
        with self.ears.listen("twin"):
            self.twin = run_twin(lambda: entry.build(impl.nn, case.kwargs, {"dtype": np.dtype(case.dtype)}, "twin"),
                                 f"constructor {entry.name}(**{case.kwargs!r})")
        self.call = bind_case(entry, case, tm)
        if entry.lazy:
            materialize(entry, tm, self.twin, self.call, case.method, device, impl.nn)
        torch_state = self.torch.state_dict()
        twin_state = run_twin(self.twin.state_dict, "state_dict()")
        self.state_comparisons = _compare_state_layout(torch_state, twin_state)
        self.state = entry.draw_state(torch_state, self.torch.parameter_names(), rng_for(case.seed, 0), case.state)
        self.torch.load_state(self.state)
        run_twin(lambda: self.twin.load_state_dict({k: v.copy() for k, v in self.state.items()}), "load_state_dict()")
        self.set_mode(case.mode)

    def set_mode(self, mode: str) -> None:
        self.torch.set_mode(mode)
        run_twin(lambda: self.twin.train(mode == "train"), f"train({mode == 'train'})")

    def torch_call(self, fn):
        """Run a torch call of this case, recording its random draws by module path;
        then inject them into the twin's modules at the same paths (nnparity.noise)."""
        from reference.noise import NoiseCapture

        with NoiseCapture(self.torch.module) as capture:
            out = run_torch(fn, self.entry.name)
        self.draws = capture.draws
        try:
            inject(self.entry, self.torch.module, self.twin, capture.draws)
        except NoiseError as e:
            raise CatalogError(str(e)) from e
        except Exception as e:
            raise _twin_raised(e, "inject_noise()") from e
        return out


def _compare_state_layout(torch_state, twin_state) -> list[Comparison]:
    """The twin's state_dict must have torch's keys (in torch's order), shapes and dtypes."""
    tol = Tolerance(0, 0, "state layout is exact")
    out = []
    for key in sorted(set(torch_state) | set(twin_state)):
        t, w = torch_state.get(key), twin_state.get(key)
        if t is None or w is None:
            side = "twin" if t is None else "torch"
            out.append(Comparison(f"state key {key!r}", False, tol, problem=f"only the {side}'s state_dict has this key"))
            continue
        t, w = np.asarray(t), np.asarray(w)
        if t.shape != w.shape or t.dtype != w.dtype:
            out.append(Comparison(f"state key {key!r}", False, tol,
                                  problem=f"twin has {w.dtype}{list(w.shape)}, torch {t.dtype}{list(t.shape)}"))
    if not out and list(torch_state) != list(twin_state):
        out.append(Comparison("state_dict key order", False, tol,
                              problem=f"twin's order {list(twin_state)} != torch's {list(torch_state)}"))
    return out


def materialize(entry, torch_module, twin, c: Call, method: str = "", device: str = "cpu", nn=None) -> None:
    """A lazy module's first call (in eval mode, without gradients) infers its
    parameters' shapes, on both sides; the drawn state is loaded after it, and the
    state layout comparison then checks the inferred shapes against torch's."""

    def twin_first():
        twin.eval()
        target(entry, twin, method, nn, "twin")(*copy_args(c.args), **copy_args(c.kwargs))

    run_torch(lambda: materialize_torch(entry, torch_module, c, method, device), entry.name)
    run_twin(twin_first, "first (materialising) call")


def materialize_torch(entry, torch_module, c: Call, method: str = "", device: str = "cpu") -> None:
    """torch's side of :func:`materialize` (also the float64 oracle's module)."""
    from reference import to_torch
    import torch

    torch_module.eval()
    with torch.no_grad():
        target(entry, torch_module, method, torch.nn, "torch")(*to_torch(copy_args(c.args), device),
                                                                **to_torch(copy_args(c.kwargs), device))


def bind_case(entry, case: Case, torch_module) -> Call:
    """The case's arguments bound to torch's signature, or the adapter's (arrays
    positional, flags by keyword)."""
    import torch

    fn = functools.partial(entry.adapter, torch.nn, "torch") if entry.adapter else call(torch_module, case.method)
    try:
        return bind(fn, case.args, case.fkwargs)
    except (TypeError, ValueError) as e:
        raise CatalogError(f"{entry.name}: the drawn arguments do not fit torch's forward signature: {e}") from e


def differentiable_leaves(entry, c: Call) -> list:
    """Paths of the float leaves that get gradients (on both sides): every float array
    among the positional arguments, but those the entry declares torch gives none for
    (``Entry.nondiff`` by name, or the legacy ``nondiff_inputs`` by position)."""
    out = []
    for path, x in leaves(c):
        if not (is_float_array(x) and path[0] == "args"):
            continue
        if c.name(path) in entry.nondiff or path[1] in entry.nondiff_inputs:
            continue
        out.append(path)
    return out


def mark_leaves(c: Call, paths) -> tuple:
    """A mirror of ``c.args`` with True at the given leaves."""
    wanted = {p[1:] for p in paths}

    def walk(x, prefix):
        if isinstance(x, np.ndarray):
            return prefix in wanted
        if isinstance(x, (tuple, list)):
            return tuple(walk(v, prefix + (i,)) for i, v in enumerate(x))
        return False

    return tuple(walk(a, (i,)) for i, a in enumerate(c.args))


def forward_arrays(pair: Pair) -> tuple[dict, dict]:
    """Forward on both sides: outputs, every array argument after the call (in-place
    behaviour), the whole state (parameters and buffers) after the call, and the
    warnings each side gave building the module and in this call (``warnings``).
    Returns (twin, torch) labelled arrays."""
    case, c = pair.case, pair.call
    from reference import to_numpy, to_torch
    import torch

    targs = to_torch(copy_args(c.args), pair.torch.device)
    tkw = to_torch(copy_args(c.kwargs), pair.torch.device)

    def torch_forward():
        torch.manual_seed(case.seed)
        with torch.no_grad():
            return target(pair.entry, pair.torch.module, case.method, torch.nn, "torch")(*targs, **tkw)

    with pair.ears.listen("torch"):
        tout = to_numpy(pair.torch_call(torch_forward))
    twin_args, twin_kw = copy_args(c.args), copy_args(c.kwargs)
    with pair.ears.listen("twin"):
        wout = run_twin(lambda: target(pair.entry, pair.twin, case.method, pair.impl.nn, "twin")(*twin_args, **twin_kw),
                        case.method or "forward")
    torch_res, twin_res = label_outputs(tout), label_outputs(wout)
    torch_res[WARNINGS], twin_res[WARNINGS] = list(pair.ears.heard["torch"]), list(pair.ears.heard["twin"])
    after_torch, after_twin = Call(to_numpy(targs), {}, c.names), Call(twin_args, {}, c.names)
    for path, _ in leaves(Call(c.args, {}, c.names)):
        label = f"{c.name(path)} after forward"
        torch_res[label], twin_res[label] = get(after_torch, path), get(after_twin, path)
    tstate, wstate = pair.torch.state_dict(), run_twin(pair.twin.state_dict, "state_dict()")
    for key in tstate:
        torch_res[f"state {key} after forward"], twin_res[f"state {key} after forward"] = tstate[key], wstate.get(key)
    return twin_res, torch_res


def label_outputs(out) -> dict:
    leaves = flatten(out)
    if len(leaves) == 1:
        return {"output": leaves[0]}
    return {f"output[{i}]": leaf for i, leaf in enumerate(leaves)}


def cotangents_for(seed: int):
    """A random standard-normal cotangent per float output (never just ones)."""
    rng = rng_for(seed, 1)

    def draw(outputs):
        return [rng.standard_normal(np.shape(o)).astype(o.dtype) if is_float_array(o) else None for o in outputs]

    return draw


def gradient_arrays(pair: Pair) -> tuple[dict, dict]:
    """Backward on both sides with the same random cotangent. Returns (twin, torch)
    labelled gradients of every differentiable leaf (by path: ``grad input``,
    ``grad hx[1]``) and every parameter."""
    case, entry, c = pair.case, pair.entry, pair.call
    paths = differentiable_leaves(entry, c)
    import torch

    fn = target(entry, pair.torch.module, case.method, torch.nn, "torch")
    outs, cots, tgrads, tpgrads = pair.torch_call(
        lambda: pair.torch.vjp(copy_args(c.args), copy_args(c.kwargs), cotangents_for(case.seed), mark_leaves(c, paths),
                               seed=case.seed, inplace=bool(case.kwargs.get("inplace")), fn=fn))
    fn = twin_target(entry, pair.twin, case.method, pair.impl.nn)
    contract_cots = cots[0] if len(cots) == 1 else tuple(cots)  # one array for one output, else flat, in order
    wgrads, wpgrads = run_twin(lambda: pair.impl.vjp(fn, copy_args(c.args), contract_cots, **copy_args(c.kwargs)),
                               "vjp")
    torch_res, twin_res = {}, {}
    tcall, wcall = Call(tuple(tgrads), {}, c.names), Call(tuple(wgrads), {}, c.names)
    for path in paths:
        label = f"grad {c.name(path)}"
        torch_res[label] = get(tcall, path)
        try:
            twin_res[label] = get(wcall, path)
        except (IndexError, TypeError, KeyError):
            twin_res[label] = None  # the twin's input_grads do not mirror the inputs here
    for name, g in tpgrads.items():
        torch_res[f"grad {name}"] = g
        twin_res[f"grad {name}"] = wpgrads.get(name)
    return twin_res, torch_res


def oracle_case(case: Case) -> Case:
    from dataclasses import replace

    return replace(case, args=_upcast(case.args), fkwargs=_upcast(case.fkwargs), dtype="float64", device="cpu")


def oracle_module(entry, case: Case, state: dict, mode: str | None = None):
    """torch in float64 for the float64 oracle: built from the case's kwargs (a default
    that depends on the dtype, RMSNorm's eps=None, keeps the case dtype's value),
    materialised if lazy, holding the upcast state, in ``mode`` (default the case's).
    Returns (TorchModule, the upcast case's Call)."""
    from reference import TorchModule
    import torch

    okwargs = entry.oracle_kwargs(dict(case.kwargs), case.dtype) if entry.oracle_kwargs else case.kwargs
    tm = TorchModule(entry.build(torch.nn, okwargs, {"dtype": torch.float64, "device": "cpu"}, "torch"), "cpu", "float64")
    oc = bind_case(entry, oracle_case(case), tm.module)
    if entry.lazy:
        materialize_torch(entry, tm.module, oc, case.method)
    tm.load_state({k: (v.astype(np.float64) if is_float_array(v) else v) for k, v in state.items()})
    tm.set_mode(mode or case.mode)
    return tm, oc


def oracle_arrays(entry, case: Case, kind: str, state: dict, draws=()) -> dict | None:
    """torch in float64 on the upcast case (same state, same cotangent, same noise
    seed), labelled like the check's arrays. None where no oracle applies (the case
    is already float64). Raises if torch fails on it, or if torch in float64 drew
    other noise than the float32 run (``draws``): the caller records that."""
    if case.dtype == "float64":
        return None
    from reference.noise import NoiseCapture
    import torch

    tm, oc = oracle_module(entry, case, state)

    def checked(fn):
        with NoiseCapture(tm.module) as capture:
            out = fn()
        if not same_draws(list(draws), capture.draws):
            raise NoiseError("torch in float64 drew other noise than the float32 run; no oracle for this case")
        return out

    fn = target(entry, tm.module, case.method, torch.nn, "torch")
    if kind == "forward":
        return label_outputs(checked(lambda: tm.forward(oc.args, oc.kwargs, seed=case.seed, fn=fn)))
    paths = differentiable_leaves(entry, oc)
    draw32 = cotangents_for(case.seed)

    def cot64(outputs):
        return [None if c is None else c.astype(np.float64)
                for c in draw32([o.astype(np.float32) if is_float_array(o) else o for o in outputs])]

    _, _, g, pg = checked(lambda: tm.vjp(oc.args, oc.kwargs, cot64, mark_leaves(oc, paths), seed=case.seed, fn=fn))
    gcall = Call(tuple(g), {}, oc.names)
    res = {f"grad {oc.name(p)}": get(gcall, p) for p in paths}
    res.update({f"grad {k}": v for k, v in pg.items()})
    return res


def judge(entry, case: Case, twin: dict, ref: dict, check: str, *, zero_sign: bool = False) -> list[Comparison]:
    """Compare labelled arrays with the entry's tolerance for this check, dtype and device
    (and the warnings each side gave, by category)."""
    tol = entry.tolerance(check, case.dtype, case.device)
    return [compare_warnings(twin.get(label), expected) if label == WARNINGS else
            compare(label, twin.get(label), expected, tol, zero_sign=zero_sign) for label, expected in ref.items()]
