"""The discrepancy report: a records directory -> REPORT.md, index.html,
results.json, plots, repro/ scripts.

Built from the records directory alone (records, meta.json, the catalog snapshot
catalog.json): a run made on another machine or at another commit renders the same.
Sections, in order: (1) discrepancies, worst first, each with its minimal example
and a standalone ``repro/<id>.py``; oracle-arbitrated passes; (2) the conformance
matrix: every class in the run's torch.nn x every check kind; (3) coverage counts;
timing (twin / torch-CPU) when bench.json is present; (4) run metadata.
``docs/results-schema.md`` documents results.json.

One module per concern: ``results`` (loading, ordering), ``matrix``, ``plots``,
``machine`` (the environment), ``render`` (templates), ``repro`` (scripts).
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from .. import PROJECT_ROOT
from ..allowlist import load_allowlist
from ..repro import script_text
from ..results import discrepancies, discrepancy_ids, item, load_run
from ..vocab import VERDICTS
from .machine import environment
from .matrix import STATUSES, build_matrix, coverage
from .plots import headroom_by_class, headroom_plot, timing_plot
from .render import data_uri, render

__all__ = ["SCHEMA", "build_report", "STATUSES"]

SCHEMA = "nnparity-results/2"


def _timing(bench_json, snapshot: dict, out: Path, plots: dict):
    if bench_json is None or not Path(bench_json).exists():
        return None
    from ..bench import load_bench

    t = load_bench(bench_json)
    timing = t.to_json()
    classes = snapshot.get("classes", {})
    timing["no_benchmark_shape"] = sorted(n for n, c in classes.items() if not c.get("bench"))
    timing["not_timed"] = sorted(n for n, c in classes.items() if c.get("bench") and n not in t.rows)
    if timing_plot(timing, out / "timing.png"):
        plots["timing"] = "timing.png"
    return timing


def build_report(records_dir, out, *, meta: dict | None = None, bench_json=None, allowlist=None) -> dict:
    """Write the report folder and return the results.json data."""
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    run = load_run(records_dir)
    records = run.records
    meta = {**run.meta, **(meta or {})}
    meta["profile"] = meta.get("profile") or "unknown"
    if run.problems and not meta.get("incomplete"):
        meta["incomplete"] = "; ".join(run.problems)
    allow_entries = load_allowlist(allowlist) if allowlist is not None else []

    # (1) discrepancies, worst first, each with a repro script
    disc = discrepancies(records)
    ids = discrepancy_ids(disc)
    repro_dir = out / "repro"
    if repro_dir.exists():
        for old in repro_dir.glob("*.py"):
            old.unlink()
    repro_dir.mkdir(exist_ok=True)
    root = meta.get("project_root") or str(PROJECT_ROOT)
    items = []
    for rank, (rec, did) in enumerate(zip(disc, ids), 1):
        (repro_dir / f"{did}.py").write_text(script_text(did, rec, root, meta.get("impl_path")), encoding="utf-8")
        it = item(rec, did)
        it["rank"], it["repro"] = rank, f"repro/{did}.py"
        allowed = next((e for e in allow_entries if e.covers(rec)), None) if rec.verdict == "fail" else None
        it["allowlisted"] = None if allowed is None else {"line": allowed.line, "reason": allowed.reason,
                                                          "link": allowed.link}
        items.append(it)
    arbitrated = [item(r) for r in sorted((r for r in records if r.verdict == "pass" and r.extra.get("arbitrated")),
                                          key=lambda r: -(r.headroom or 0))]

    # (2) the matrix, (3) coverage, plots, timing
    matrix = build_matrix(records, run.snapshot)
    cov = coverage(matrix, records, run.snapshot)
    head = headroom_by_class(records)
    plots = {}
    if headroom_plot(head, out / "headroom.png"):
        plots["headroom"] = "headroom.png"
    timing = _timing(bench_json, run.snapshot, out, plots)

    # (4) metadata
    env = environment(meta)
    counts = Counter(r.verdict for r in records)
    summary = {"records": len(records), "verdicts": {v: counts[v] for v in VERDICTS if counts[v]},
               "discrepancies": len(items), "allowlisted": sum(1 for i in items if i["allowlisted"]),
               "arbitrated": len(arbitrated), "suite_duration_s": meta.get("duration_s")}
    data = {
        "schema": SCHEMA,
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "meta": meta, "environment": env, "summary": summary,
        "discrepancies": items, "arbitrated": arbitrated,
        "matrix": matrix, "coverage": cov, "headroom": head, "timing": timing,
        "plots": plots, "catalog": run.snapshot,
        "records": [asdict(r) for r in records],
    }
    summary["render_duration_s"] = round(time.perf_counter() - started, 2)
    (out / "results.json").write_text(json.dumps(_clean(data), indent=1, default=str), encoding="utf-8")
    context = dict(data=data, d=data, statuses=STATUSES)
    (out / "REPORT.md").write_text(render("REPORT.md.j2", **context), encoding="utf-8")
    images = {k: data_uri(out / v) for k, v in plots.items()}
    (out / "index.html").write_text(render("index.html.j2", images=images, **context), encoding="utf-8")
    summary["render_duration_s"] = round(time.perf_counter() - started, 2)
    return data


def _clean(x):
    """JSON has no NaN/inf: write them as strings ('nan', 'inf', '-inf')."""
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x
