"""The discrepancy report: a records directory -> REPORT.md, index.html,
results.json, plots, repro/ scripts.

Built from the records directory alone (records, meta.json, the catalog snapshot
catalog.json): a run made on another machine or at another commit renders the same.
Sections, in order: (1) the verdict by class; (2) the triage list: the
discrepancies folded into items, most harmful first, each with its minimal example
and a standalone ``repro/<id>.py`` per discrepancy; (3) harness errors and checks
that judged nothing; (4) the comparison with a baseline run (``--baseline``): new,
still failing, fixed; (5) the discrepancies by class; oracle-arbitrated passes;
(6) the conformance matrix: every class in the run's torch.nn x every check kind;
(7) coverage counts; timing (twin / torch-CPU) when bench.json is present; (8) run
metadata. ``docs/results-schema.md`` documents results.json.

One module per concern: ``results`` (loading, harm, folding, baseline identity),
``triage_data`` (their JSON shape), ``matrix``, ``plots``, ``machine`` (the
environment), ``render`` (templates), ``repro`` (scripts).
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
from ..results import (Baseline, Run, class_verdicts, compare_with_baseline, discrepancies, discrepancy_ids, item,
                       load_baseline,
                       load_run, triage)
from ..vocab import VERDICTS
from .machine import environment
from .matrix import STATUSES, build_matrix, coverage
from .plots import headroom_by_class, headroom_plot, timing_plot
from .render import data_uri, render
from .triage_data import FOLD_TEXT, ORDER, ORDER_NOTE, baseline_json, classes_json, triage_json

__all__ = ["SCHEMA", "build_report", "STATUSES"]

SCHEMA = "nnparity-results/3"


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


def build_report(records_dir, out, *, meta: dict | None = None, bench_json=None, allowlist=None, baseline=None) -> dict:
    """Write the report folder and return the results.json data. ``baseline``: an
    earlier run (its results.json, report folder or records directory) to mark each
    discrepancy new, still failing or fixed against."""
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    run = records_dir if isinstance(records_dir, Run) else load_run(records_dir)  # a Run: merged (results.load_runs)
    records = run.records
    meta = {**run.meta, **(meta or {})}
    meta["profile"] = meta.get("profile") or "unknown"
    if run.problems and not meta.get("incomplete"):
        meta["incomplete"] = "; ".join(run.problems)
    allow_entries = load_allowlist(allowlist) if allowlist is not None else []
    if baseline is not None and not isinstance(baseline, Baseline):
        baseline = load_baseline(baseline)
    comparison = compare_with_baseline(records, meta, baseline) if baseline is not None else None
    status = comparison["status"] if comparison else None

    # (1)-(5) discrepancies, most harmful first, folded into triage items; a repro script each
    disc = discrepancies(records)
    ids = discrepancy_ids(disc)
    rec_ids = {id(rec): did for rec, did in zip(disc, ids)}
    items_triaged = triage(records)
    triage_list = triage_json(items_triaged, rec_ids, status)
    number = {rid: t["number"] for t in triage_list for f in t["folds"] for rid in (r["id"] for r in f["records"])}
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
        it["rank"], it["repro"], it["triage"] = rank, f"repro/{did}.py", number[did]
        it["baseline"] = status.get(id(rec)) if status is not None else None
        allowed = next((e for e in allow_entries if e.covers(rec)), None) if rec.verdict == "fail" else None
        it["allowlisted"] = None if allowed is None else {"line": allowed.line, "reason": allowed.reason,
                                                          "link": allowed.link}
        items.append(it)
    by_id = {it["id"]: it for it in items}
    for t in triage_list:  # each discrepancy a fold lists: allowlisted? new or still failing?
        for ref in (r for f in t["folds"] for r in f["records"]):
            ref["allowlisted"], ref["baseline"] = bool(by_id[ref["id"]]["allowlisted"]), by_id[ref["id"]]["baseline"]
        t["allowlisted"] = all(r["allowlisted"] for f in t["folds"] for r in f["records"])
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
    base = baseline_json(comparison, rec_ids)
    summary = {"records": len(records), "verdicts": {v: counts[v] for v in VERDICTS if counts[v]},
               "discrepancies": len(items), "triage_items": len(triage_list),
               "classes": len({t["class"] for t in triage_list if not t["harness"]}),
               "allowlisted": sum(1 for i in items if i["allowlisted"]),
               "arbitrated": len(arbitrated), "baseline": base["counts"] if base else None,
               "suite_duration_s": meta.get("duration_s")}
    data = {
        "schema": SCHEMA,
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "meta": meta, "environment": env, "summary": summary,
        "order": {"kinds": ORDER, "note": ORDER_NOTE, "folding": FOLD_TEXT},
        "classes": classes_json(class_verdicts(items_triaged), triage_list, rec_ids), "triage": triage_list,
        "baseline": base, "discrepancies": items, "arbitrated": arbitrated,
        "matrix": matrix, "coverage": cov, "headroom": head, "timing": timing,
        "plots": plots, "catalog": run.snapshot,
        "records": [asdict(r) for r in records],
    }
    summary["render_duration_s"] = round(time.perf_counter() - started, 2)
    (out / "results.json").write_text(json.dumps(_clean(data), indent=1, default=str), encoding="utf-8")
    context = dict(data=data, d=data, statuses=STATUSES, by_id={i["id"]: i for i in items})
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
