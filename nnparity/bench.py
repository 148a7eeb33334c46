"""Timing comparisons: twin vs torch at each catalog entry's benchmark shape.

``bench/test_bench.py`` (pytest-benchmark) times, per entry with a ``bench(dtype)``
shape, forward and forward+backward for the twin, torch on CPU, and torch on CUDA
where present (synchronised; skipped with a reason otherwise). Each (class, pass)
is one pytest-benchmark group, so the sides sit next to each other.

Thread counts: ``python -m nnparity bench --threads N`` sets OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS to N in the benchmark process's
environment before NumPy or torch is imported, and ``torch.set_num_threads(N)``;
both are written into bench.json (``machine_info.nnparity``).

Targets (from the project's issue): the geometric mean over classes of
twin / torch-CPU for forward+backward is at most 1.5, and no class is above 4.
The fastest round (pytest-benchmark's ``min``) is compared: on a shared machine other
processes only ever add time, so the minimum is the most faithful estimate of each
side's own cost (medians are kept in the JSON too).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["SIDES", "PASSES", "GEOMEAN_TARGET", "MAX_TARGET", "make_runner", "load_bench", "Timing"]

SIDES = ("twin", "torch-cpu", "torch-cuda")
PASSES = ("forward", "forward+backward")
GEOMEAN_TARGET = 1.5
MAX_TARGET = 4.0


def _tree_map(fn, tree):
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # a named tuple (AdaptiveLogSoftmaxWithLoss)
        return type(tree)(*(_tree_map(fn, t) for t in tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(_tree_map(fn, t) for t in tree)
    return fn(tree)


def make_runner(entry, impl, side: str, pass_: str, dtype: str = "float32"):
    """A zero-argument callable running one pass on one side at the entry's bench shape.
    Both sides hold the same state (built like a check's Pair)."""
    from reference import synchronize, to_torch
    import torch

    from .case import Case
    from .engine import Pair, is_float_array

    kwargs, inputs = entry.bench(np.dtype(dtype))
    device = "cuda" if side == "torch-cuda" else "cpu"
    case = Case(entry.name, dict(kwargs), tuple(inputs.args), dict(inputs.kwargs), dtype, device, "train", seed=0)
    pair = Pair(entry, case, impl)
    args, fkwargs = pair.call.args, pair.call.kwargs
    rng = np.random.default_rng(1)

    if side == "twin":
        m = pair.twin
        if pass_ == "forward":
            return lambda: m(*args, **fkwargs)
        out = m(*args, **fkwargs)
        cots = _tree_map(lambda o: rng.standard_normal(np.shape(o)).astype(o.dtype) if is_float_array(o) else None, out)
        return lambda: impl.vjp(m, args, cots, **fkwargs)

    module = pair.torch.module
    sync = lambda: synchronize(device)  # noqa: E731
    tkw = to_torch(fkwargs, device)
    if pass_ == "forward":
        targs = to_torch(args, device)

        def forward():
            with torch.no_grad():
                module(*targs, **tkw)
            sync()

        return forward
    from reference.runner import to_torch_marked, flatten

    from .engine import differentiable_leaves, mark_leaves

    leaves = to_torch_marked(args, mark_leaves(pair.call, differentiable_leaves(entry, pair.call)), device)
    outs = [o for o in flatten(module(*leaves, **tkw)) if isinstance(o, torch.Tensor) and o.requires_grad]
    cots = [torch.from_numpy(rng.standard_normal(tuple(o.shape)).astype(dtype)).to(device) for o in outs]
    params = list(module.parameters())

    def forward_backward():
        for t in [x for x in flatten(leaves) if isinstance(x, torch.Tensor)] + params:
            t.grad = None
        outs = [o for o in flatten(module(*leaves, **tkw)) if isinstance(o, torch.Tensor) and o.requires_grad]
        torch.autograd.backward(outs, cots)
        sync()

    return forward_backward


@dataclass
class Timing:
    """Fastest-round times (seconds) per class, side and pass, and the twin / torch-CPU ratios."""

    rows: dict = field(default_factory=dict)  # class -> {pass -> {side -> min s}}
    medians: dict = field(default_factory=dict)  # the same with medians
    statistic: str = "min"
    machine: dict = field(default_factory=dict)
    source: str = ""

    def ratio(self, cls: str, pass_: str) -> float | None:
        sides = self.rows.get(cls, {}).get(pass_, {})
        if sides.get("twin") and sides.get("torch-cpu"):
            return sides["twin"] / sides["torch-cpu"]
        return None

    def geomean(self, pass_: str = "forward+backward") -> float | None:
        ratios = [r for c in self.rows if (r := self.ratio(c, pass_))]
        return math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else None

    def over_max(self, pass_: str = "forward+backward") -> list[str]:
        return [c for c in sorted(self.rows) if (r := self.ratio(c, pass_)) is not None and r > MAX_TARGET]

    def meets_targets(self) -> bool | None:
        g = self.geomean()
        return None if g is None else (g <= GEOMEAN_TARGET and not self.over_max())

    def table(self) -> list[dict]:
        out = []
        for cls in sorted(self.rows):
            row = {"class": cls}
            for pass_ in PASSES:
                key = "fwd" if pass_ == "forward" else "fwdbwd"
                sides = self.rows[cls].get(pass_, {})
                for side in SIDES:
                    row[f"{key}_{side.replace('-', '_')}_ms"] = None if side not in sides else sides[side] * 1e3
                row[f"{key}_ratio"] = self.ratio(cls, pass_)
            r = row["fwdbwd_ratio"]
            row["flag"] = "above 4x" if r is not None and r > MAX_TARGET else ""
            out.append(row)
        return out

    def to_json(self) -> dict:
        g = self.geomean()
        return {"source": self.source, "machine": self.machine, "rows": self.table(), "statistic": self.statistic,
                "geomean_fwdbwd_ratio": g, "geomean_fwd_ratio": self.geomean("forward"),
                "targets": {"geomean_fwdbwd_max": GEOMEAN_TARGET, "per_class_fwdbwd_max": MAX_TARGET},
                "over_max": self.over_max(), "meets_targets": self.meets_targets()}

    def summary(self) -> str:
        lines = [f"{'class':<22} {'fwd twin/torch':>15} {'fwd+bwd twin/torch':>19}"]
        for row in self.table():
            f = lambda v: "-" if v is None else f"{v:.2f}x"  # noqa: E731
            lines.append(f"{row['class']:<22} {f(row['fwd_ratio']):>15} {f(row['fwdbwd_ratio']):>19} {row['flag']}")
        g = self.geomean()
        if g is not None:
            lines.append(f"geometric mean (fwd+bwd): {g:.2f}x (target <= {GEOMEAN_TARGET}x); above {MAX_TARGET}x: "
                         f"{', '.join(self.over_max()) or 'none'}")
        nn = self.machine.get("nnparity", {})
        if nn:
            lines.append(f"threads: torch {nn.get('torch_threads')}, env {nn.get('thread_env')}")
        return "\n".join(lines)


def load_bench(path) -> Timing:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    timing = Timing(machine=data.get("machine_info", {}), source=str(path))
    for b in data.get("benchmarks", []):
        info = b.get("extra_info", {})
        cls, side, pass_ = info.get("class"), info.get("side"), info.get("pass")
        if not (cls and side and pass_):
            continue
        timing.rows.setdefault(cls, {}).setdefault(pass_, {})[side] = b["stats"]["min"]
        timing.medians.setdefault(cls, {}).setdefault(pass_, {})[side] = b["stats"]["median"]
    return timing
