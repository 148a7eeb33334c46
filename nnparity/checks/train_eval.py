"""train/eval: the entry's flag is true to torch, modes propagate, and stateful
modules keep matching torch's state (running statistics, counters) over K training
steps, then in eval mode.

* ``train_eval_differs=False``: torch's outputs in train and eval mode must be equal
  on every drawn case (else the flag is wrong), and so must the twin's.
* ``train_eval_differs=True``: at least one drawn case must differ in torch (else the
  flag, or the strategy, is wrong). Random modules are compared under the same seed.
* ``stateful``: K = 3 training forwards on inputs drawn for each step (same shape),
  the whole state compared after every step, then one eval forward; all against torch.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ..cases import case_strategy
from ..compare import Comparison, Tolerance, compare
from ..engine import Pair, bind_case, copy_args, forward_arrays, judge, rng_for, run_twin, target
from ..noise import reseed
from ..leaves import map_leaves
from ..vocab import DEVICES
from reference.runner import flatten

KIND = "train_eval"
PARAM_NAMES = ("device",)
STEPS = 3
EXACT = Tolerance(0, 0, "train and eval outputs compared exactly")


def params(entry):
    return [dict(device=v) for v in DEVICES]


def _torch_outputs(pair, case, mode):
    pair.set_mode(mode)
    pair.torch.load_state(pair.state)
    import torch

    fn = target(pair.entry, pair.torch.module, case.method, torch.nn, "torch")
    out = pair.torch.forward(copy_args(pair.call.args), copy_args(pair.call.kwargs), seed=case.seed, fn=fn)
    return out if isinstance(out, (tuple, list)) else (out,)


def _twin_outputs(pair, case, mode):
    pair.set_mode(mode)

    def go():
        pair.twin.load_state_dict({k: v.copy() for k, v in pair.state.items()})
        if pair.entry.random:
            reseed(pair.twin, case.seed)
        return target(pair.entry, pair.twin, case.method, pair.impl.nn, "twin")(*copy_args(pair.call.args),
                                                                              **copy_args(pair.call.kwargs))

    out = run_twin(go, f"forward in {mode} mode")
    return out if isinstance(out, (tuple, list)) else (out,)


def _same(a, b) -> bool:
    fa, fb = flatten(a), flatten(b)
    return len(fa) == len(fb) and all(compare("o", x, y, EXACT).ok for x, y in zip(fa, fb))


def _perturbed(case, step):
    """Inputs for training step ``step``: the case's float leaves, rescaled and shifted
    by a per-step random amount (same shapes, so the module accepts them)."""
    if step == 0:
        return case
    rng = rng_for(case.seed, 10 + step)

    def move(x):
        if np.issubdtype(x.dtype, np.floating):
            return (x * rng.uniform(0.5, 1.5) + rng.standard_normal(x.shape)).astype(x.dtype)
        return x

    return replace(case, args=map_leaves(move, case.args), fkwargs=map_leaves(move, case.fkwargs), seed=case.seed + step)


def body(entry, impl, seen_difference: list | None = None):
    seen_difference = [] if seen_difference is None else seen_difference

    def run(case):
        pair = Pair(entry, case, impl)
        comparisons = []
        # 1. The flag, judged on torch, and the twin's own train/eval relation.
        torch_differs = not _same(_torch_outputs(pair, case, "train"), _torch_outputs(pair, case, "eval"))
        twin_differs = not _same(_twin_outputs(pair, case, "train"), _twin_outputs(pair, case, "eval"))
        seen_difference.append(torch_differs)
        if not entry.train_eval_differs:
            comparisons.append(Comparison("train vs eval (torch)", not torch_differs, EXACT, subject="torch train",
                                          reference="torch eval",
                                          problem=None if not torch_differs else "torch's train and eval outputs differ, but the catalog says train_eval_differs=False"))
            comparisons.append(Comparison("train vs eval (twin)", not twin_differs, EXACT, subject="twin train",
                                          reference="twin eval",
                                          problem=None if not twin_differs else "the twin's train and eval outputs differ; torch's do not"))
        # 2. Mode propagation to every submodule.
        for mode in ("train", "eval"):
            pair.set_mode(mode)
            # Submodules where the package exposes them (named_modules is torch's API, not
            # required by the contract); the root's flag always.
            named = getattr(pair.twin, "named_modules", None)
            flags = {name or "<root>": m.training for name, m in named()} if named else {"<root>": pair.twin.training}
            wrong = [n for n, f in flags.items() if f != (mode == "train")]
            comparisons.append(Comparison(f"training flag after {mode}()", not wrong, EXACT,
                                          problem=f"submodules {wrong} did not switch to {mode} mode" if wrong else None))
        # 3. The state over K training steps, then eval.
        if entry.stateful:
            fresh = Pair(entry, case, impl)
            fresh.set_mode("train")
            for step in range(STEPS):
                step_case = replace(_perturbed(case, step), mode="train")
                fresh.case, fresh.call = step_case, bind_case(entry, step_case, fresh.torch.module)
                twin, ref = forward_arrays(fresh)
                comparisons += [replace(c, what=f"step {step + 1}: {c.what}") for c in judge(entry, step_case, twin, ref, KIND)]
            fresh.set_mode("eval")
            eval_case = replace(case, mode="eval")
            fresh.case, fresh.call = eval_case, bind_case(entry, eval_case, fresh.torch.module)
            twin, ref = forward_arrays(fresh)
            comparisons += [replace(c, what=f"eval after {STEPS} steps: {c.what}") for c in judge(entry, eval_case, twin, ref, KIND)]
        return comparisons

    return run


def run(nnp, entry, *, device):
    seen_difference: list[bool] = []
    strategy = case_strategy(entry, "float64", device, "train", check=KIND)
    nnp.fuzz(entry, KIND, strategy, body(entry, nnp.impl, seen_difference), dtype="float64", device=device,
             mode="train+eval")
    if entry.train_eval_differs and not any(seen_difference):
        message = (f"{entry.name} train_eval: the catalog says train and eval differ, but torch gave equal outputs in "
                   f"both modes on all {len(seen_difference)} drawn cases: the flag or the strategy is wrong")
        nnp.record(entry, KIND, {"dtype": "float64", "device": device, "mode": "train+eval"}, "error", message=message)
        pytest.fail(message, pytrace=False)
