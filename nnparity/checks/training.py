"""training: K steps of forward, loss, backward and an SGD step on both sides, from
the same state, on the same batches; after every step the loss, every parameter,
every buffer and the optimiser's momentum buffers are compared with torch's.

Two subjects:

* every stateful catalog class (``Entry.stateful``): ``STEPS`` steps on drawn
  inputs (rescaled and shifted per step, same shapes), the loss a fixed random
  linear functional of the outputs, ``<out, c_k>`` (c_k standard normal, drawn per
  step), so the gradient reaching the module is a random cotangent as in the
  gradients check. torch's random draws (dropout masks) are injected into the twin
  at every step.
* the models (``Entry.model``, a :class:`nnparity.catalog.ModelSpec`): the model's
  own loss on its synthetic batches, ``spec.steps`` steps.

Both use torch.optim.SGD and the package's ``optim.SGD`` (lr 0.05, momentum 0.9
for the catalog classes; the spec's for models). The twin's gradients come from the
contract's ``vjp`` and reach its optimiser through ``p.grad`` (README, impls.optim).

Tolerance: :data:`RULE`, one rule for every step-k comparison, derived from the
single-step tolerance of the entry (``Entry.tolerance('training', dtype)``, the
assert_close default unless the entry overrides it with a reason); each record
carries the rule and the tolerance of its step.
"""

from __future__ import annotations

import time
import types
from dataclasses import replace

import numpy as np
import pytest

from ..cases import case_strategy
from ..compare import Comparison, Tolerance, compare
from ..engine import (NotImplementedByImpl, Pair, TwinRaised, bind_case, copy_args, oracle_module, rng_for,
                      run_twin)
from ..noise import inject
from ..vocab import DTYPES

KIND = "training"
PARAM_NAMES = ("dtype",)
STEPS = 5  #: steps for a catalog class (models: ModelSpec.steps)
LR, MOMENTUM = 0.05, 0.9
RULE = ("after step k the tolerance is k x the single-step tolerance (rtol and atol): both sides see the same "
        "batches, so they differ by rounding only; with momentum < 1 and lr <= 1 one step's map does not amplify a "
        "difference, which then grows by at most one step's rounding per step")


def step_tolerance(step: int, base: Tolerance) -> Tolerance:
    """The tolerance after ``step`` optimiser steps (:data:`RULE`)."""
    return Tolerance(step * base.rtol, step * base.atol,
                     reason=f"step {step}: {step} x the single-step tolerance ({base.rtol:g}, {base.atol:g}: {base.reason})")


def params(entry):
    return [dict(dtype=d) for d in DTYPES]


# -- one lockstep run, for either subject ----------------------------------------------

class Lockstep:
    """torch's module and the twin, each with its SGD, stepped together.

    ``objective(module, *batch)`` is the loss, written once for both sides (module
    calls and array operators only): called on torch tensors with autograd, on the
    twin inside the contract's ``vjp`` (as a method bound to the twin) and plainly
    (NumPy in, NumPy out) for the loss value.
    """

    def __init__(self, impl, torch_module, twin, objective, *, lr: float, momentum: float, noise_entry=None):
        import torch

        self.impl, self.tm, self.twin, self.objective, self.noise_entry = impl, torch_module, twin, objective, noise_entry
        # a module without parameters (InstanceNorm without affine, tracking statistics) trains
        # its buffers only: the steps are forward passes in train mode, with no optimiser
        self.has_params = bool(list(torch_module.parameters()))
        self.topt = self.wopt = None
        if self.has_params:
            self.topt = torch.optim.SGD(torch_module.parameters(), lr=lr, momentum=momentum)
            if not hasattr(impl.package, "optim"):
                raise NotImplementedByImpl(f"{impl.name} has no optim.SGD")
            self.wopt = run_twin(lambda: impl.package.optim.SGD(list(twin.parameters()), lr=lr, momentum=momentum),
                                 "optim.SGD(...)")
        self.times = {"twin": 0.0, "torch": 0.0}

    def step(self, batch: tuple, seed: int) -> tuple[float, float]:
        """One step on ``batch`` (NumPy arrays); returns (twin loss, torch loss) before the update."""
        import torch
        from reference import to_torch
        from reference.noise import NoiseCapture

        t0 = time.perf_counter()
        torch.manual_seed(seed)
        with NoiseCapture(self.tm) as capture:
            tloss = self.objective(self.tm, *to_torch(copy_args(batch), "cpu"))
        if self.has_params:
            self.topt.zero_grad()
            tloss.backward()
            self.topt.step()
        t1 = time.perf_counter()

        def twin_step():
            snapshot = {k: np.array(v, copy=True) for k, v in self.twin.state_dict().items()}
            self._inject(capture.draws)
            wloss = np.asarray(self.objective(self.twin, *copy_args(batch)))  # the loss value, no tape
            if not self.has_params:
                return wloss
            self.twin.load_state_dict(snapshot)  # the step's forward runs once more, under vjp
            self._inject(capture.draws)
            _, grads = self.impl.vjp(types.MethodType(self.objective, self.twin), copy_args(batch), np.ones((), wloss.dtype))
            for name, p in self.twin.named_parameters():
                p.grad = grads[name]
            self.wopt.step()
            return wloss

        wloss = run_twin(twin_step, "training step (forward, loss, vjp, SGD step)")
        self.times["torch"] += t1 - t0
        self.times["twin"] += time.perf_counter() - t1
        return wloss, tloss.detach().cpu().numpy()

    def _inject(self, draws):
        if self.noise_entry is not None and draws:
            inject(self.noise_entry, self.tm, self.twin, draws)

    def comparisons(self, k: int, wloss, tloss, base: Tolerance) -> list[Comparison]:
        """Everything after step k: the step's loss, each parameter and buffer, each momentum buffer."""
        from reference import to_numpy

        tol = step_tolerance(k, base)
        extra = {"step": k, "tolerance_rule": RULE}
        loss_tol = getattr(self.objective, "loss_tolerance", lambda t: t)(tol)
        out = [compare(f"step {k}: loss", wloss, tloss, loss_tol)]
        tstate, wstate = {k_: to_numpy(v) for k_, v in self.tm.state_dict().items()}, self.twin.state_dict()
        names = [n for n, _ in self.tm.named_parameters()]
        for key, v in tstate.items():
            what = f"step {k}: {'parameter' if key in names else 'buffer'} {key}"
            out.append(compare(what, wstate.get(key), v, tol) if key in wstate else
                       Comparison(what, False, tol, problem="the twin's state_dict lacks this key"))
        if not self.has_params:
            return out
        tsd, wsd = self.topt.state_dict()["state"], self.wopt.state_dict()["state"]
        for i, name in enumerate(names):
            tb, wb = tsd.get(i, {}).get("momentum_buffer"), wsd.get(i, {}).get("momentum_buffer")
            what = f"step {k}: optimiser momentum_buffer of {name}"
            if tb is None or wb is None:
                if (tb is None) != (wb is None):
                    out.append(Comparison(what, False, tol, problem=f"momentum buffer only on the "
                                                                    f"{'torch' if wb is None else 'twin'} side"))
                continue
            out.append(compare(what, wb, to_numpy(tb), tol))
        return [replace(c, extra={**c.extra, **extra}) for c in out]


# -- catalog classes ---------------------------------------------------------------------

def _linear_functional(seed: int):
    """loss = sum_i <out_i, c_i> over the float outputs, c_i standard normal drawn from
    (seed, i) in the output's shape and dtype: the same on both sides.

    Its tolerance follows from the outputs': if each output element o_j may differ by
    atol + rtol |o_j|, the loss may differ by sum_j |c_j| (atol + rtol |o_j|)
    (``objective.loss_tolerance``, from torch's outputs of the step)."""
    seen = []

    def objective(module, *args):
        out = module(*args)
        total = None
        for i, o in enumerate(out if isinstance(out, (tuple, list)) else (out,)):
            is_torch = hasattr(o, "is_floating_point")
            dt = np.dtype(str(o.dtype).replace("torch.", ""))
            if not np.issubdtype(dt, np.floating):
                continue
            c = rng_for(seed, 20 + i).standard_normal(tuple(o.shape)).astype(dt)
            if is_torch:
                import torch

                seen.append((o.detach().cpu().numpy().astype(np.float64), c.astype(np.float64)))
                c = torch.from_numpy(c)
            term = (o * c).sum()
            total = term if total is None else total + term
        return total

    def loss_tolerance(tol: Tolerance) -> Tolerance:
        bound = sum(float(np.sum(np.abs(c) * (tol.atol + tol.rtol * np.abs(o)))) for o, c in seen)
        return Tolerance(0.0, bound, f"sum_j |c_j| (atol + rtol |out_j|) of the outputs' tolerance, {tol.reason}")

    objective.loss_tolerance = loss_tolerance
    return objective


def body(entry, impl):
    from .train_eval import _perturbed

    def run(case):
        pair = Pair(entry, case, impl)
        pair.set_mode("train")
        base = entry.tolerance(KIND, case.dtype, case.device)
        lock = Lockstep(impl, pair.torch.module, pair.twin, None, lr=LR, momentum=MOMENTUM, noise_entry=entry)
        oracle = _Oracle(entry, case, pair.state) if case.dtype == "float32" and not entry.random else None
        comps = []
        for k in range(1, STEPS + 1):
            step_case = replace(_perturbed(case, k - 1), mode="train")
            call = bind_case(entry, step_case, pair.torch.module)
            if call.kwargs:
                raise ValueError(f"{entry.name}: the training check passes positional arguments only")
            lock.objective = _linear_functional(step_case.seed)
            wl, tl = lock.step(tuple(call.args), step_case.seed)
            step = lock.comparisons(k, wl, tl, base)
            if oracle is not None:
                step = oracle.arbitrate(step, k, tuple(call.args), step_case.seed, lock, wl)
            comps += step
        return comps

    return run


class _Oracle:
    """torch in float64, stepped beside a float32 case from the same (upcast) state on
    the same (upcast) batches: where twin and torch-float32 part, a twin within the same
    tolerance of the float64 run is accepted (arbitrated), as in the other checks (the
    twin is then the more accurate side: e.g. InstanceNorm on a constant row, where
    torch's float32 x - mean is not exactly 0). Not for random entries (float64 draws
    are other draws)."""

    def __init__(self, entry, case, state):
        import torch

        tm, _ = oracle_module(entry, case, state, mode="train")
        self.module = tm.module
        self.has_params = bool(list(self.module.parameters()))
        self.opt = torch.optim.SGD(self.module.parameters(), lr=LR, momentum=MOMENTUM) if self.has_params else None

    def arbitrate(self, comps, k, args, seed, lock, wloss):
        import torch

        from reference import to_numpy, to_torch

        up = tuple(a.astype(np.float64) if np.issubdtype(np.asarray(a).dtype, np.floating) else a for a in args)
        torch.manual_seed(seed)
        loss = lock.objective(self.module, *to_torch(copy_args(up), "cpu"))
        if self.has_params:
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        ref = {f"step {k}: loss": loss.detach().numpy()}
        names = [n for n, _ in self.module.named_parameters()]
        for key, v in self.module.state_dict().items():
            ref[f"step {k}: {'parameter' if key in names else 'buffer'} {key}"] = to_numpy(v)
        if self.has_params:
            state = self.opt.state_dict()["state"]
            for i, name in enumerate(names):
                buf = state.get(i, {}).get("momentum_buffer")
                if buf is not None:
                    ref[f"step {k}: optimiser momentum_buffer of {name}"] = to_numpy(buf)
        twin = {f"step {k}: loss": np.asarray(wloss)}
        wnames = [n for n, _ in lock.twin.named_parameters()]
        for key, v in lock.twin.state_dict().items():
            twin[f"step {k}: {'parameter' if key in wnames else 'buffer'} {key}"] = np.asarray(v)
        if lock.wopt is not None:
            wstate = lock.wopt.state_dict()["state"]
            for i, name in enumerate(wnames):
                buf = wstate.get(i, {}).get("momentum_buffer")
                if buf is not None:
                    twin[f"step {k}: optimiser momentum_buffer of {name}"] = np.asarray(buf)
        out = []
        for c in comps:
            if not c.ok and c.problem is None and c.what in ref and c.what in twin:
                vs = compare(c.what, twin[c.what], ref[c.what], c.tol, check_dtype=False)
                if vs.ok:
                    c = replace(c, ok=True, extra={**c.extra, "arbitrated": True, "twin_vs_oracle_headroom": vs.headroom})
            out.append(c)
        return out


def run(nnp, entry, *, dtype: str):
    if entry.model is not None:
        return run_model(nnp, entry, dtype=dtype)
    strategy = case_strategy(entry, dtype, "cpu", "train", check=KIND)
    nnp.fuzz(entry, KIND, strategy, body(entry, nnp.impl), dtype=dtype, device="cpu", mode="train", scale=0.25)


# -- models ------------------------------------------------------------------------------

def run_model(nnp, entry, *, dtype: str):
    """The model's own loss on its batches, ``spec.steps`` steps; one record with the loss
    curves of both sides, the first step and tensor where they part, and the time per step."""
    spec = entry.model
    case_like = {"dtype": dtype, "device": "cpu", "mode": "train"}
    missing = [n for n in spec.needs if not nnp.impl.has(n)]
    if missing:
        message = f"{entry.name}: {nnp.impl.name} lacks {', '.join(missing)}, which the model's twin needs"
        nnp.record(entry, KIND, case_like, "not-implemented", message=message)
        pytest.skip(message)
    started = time.perf_counter()
    try:
        tm, twin, objective = spec.build_pair(nnp.impl, dtype)
        lock = Lockstep(nnp.impl, tm, twin, objective, lr=spec.lr, momentum=spec.momentum)
        batches = spec.batches(np.random.default_rng(spec.seed), np.dtype(dtype))
    except Exception as e:
        nnp.record(entry, KIND, case_like, "fail" if isinstance(e, TwinRaised) else "error",
                   message=f"{entry.name} training: building the model failed: {type(e).__name__}: {e}", started=started)
        raise
    base = entry.tolerance(KIND, dtype, "cpu")
    losses, comps, first = {"twin": [], "torch": []}, [], None
    deviation = 0.0
    try:
        for k, batch in enumerate(batches[:spec.steps], start=1):
            wl, tl = lock.step(batch, seed=k)
            losses["twin"].append(float(wl))
            losses["torch"].append(float(tl))
            step = lock.comparisons(k, wl, tl, base)
            deviation = max([deviation] + [c.max_abs for c in step if c.problem is None])
            comps += step
            if first is None:
                first = next((c for c in step if not c.ok), None)
    except Exception as e:
        nnp.record(entry, KIND, case_like, "fail", message=f"{entry.name} training: the twin raised {type(e).__name__}: "
                   f"{e}", started=started, losses=losses)
        raise
    steps = len(losses["torch"])
    extra = dict(losses=losses, steps=steps, tolerance_rule=RULE, max_abs_deviation=deviation,
                 time_per_step_s={side: t / max(steps, 1) for side, t in lock.times.items()},
                 first_parting=None if first is None else {"step": first.extra["step"], "tensor": first.what})
    if first is not None:
        message = (f"{entry.name} training ({dtype}): twin and torch part at step {first.extra['step']} in "
                   f"{first.what}: {first.problem or f'max abs error {first.max_abs:.3g}, headroom {first.headroom:.3g}'} "
                   f"(tolerance {first.tol.reason})")
        nnp.record(entry, KIND, case_like, "fail", comparison=first, examples=steps, planned=spec.steps,
                   message=message, started=started, **extra)
        pytest.fail(message, pytrace=False)
    worst = max(comps, key=lambda c: c.headroom)
    nnp.record(entry, KIND, case_like, "pass", comparison=worst, examples=steps, planned=spec.steps, started=started,
               message=f"{entry.name} training ({dtype}): {steps} steps, largest deviation {deviation:.3g}, worst "
                       f"headroom {worst.headroom:.3g} ({worst.what})", **extra)
