"""The discrepancy report: records -> REPORT.md, index.html, results.json, plots, repro/.

Sections, in order: (1) discrepancies, worst first, each with its minimal example
and a standalone ``repro/<id>.py``; oracle-arbitrated passes (the twin within
tolerance of the float64 oracle where torch-float32 disagreed); (2) the conformance
matrix: every class in the installed torch.nn x every check kind; (3) coverage
counts; timing (twin / torch-CPU) when bench.json is present; (4) run metadata.
``docs/results-schema.md`` documents results.json.
"""

from __future__ import annotations

import base64
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

from .records import VERDICTS, Record, load_records

__all__ = ["SCHEMA", "load_run", "discrepancies", "severity_key", "discrepancy_ids", "torch_nn_classes",
           "build_matrix", "environment", "build_report", "STATUSES"]

SCHEMA = "nnparity-results/1"
DISCREPANT = ("fail", "error")
#: matrix cell statuses, with what each means
STATUSES = {
    "pass": "judged and within tolerance",
    "fail": "a discrepancy (verdict fail or error)",
    "n/a": "the check does not apply to this class (Entry.applies is False)",
    "not implemented": "no catalog entry, or the package under test lacks the class",
    "out of scope": "deliberately left out of the catalog, with a reason",
    "skip": "every run of this check was skipped with a reason (e.g. CUDA absent)",
    "not run": "applies, but no record in this run (filtered out, or the check kind has no tests yet)",
}
TEMPLATES = Path(__file__).with_name("templates")


# -- loading -------------------------------------------------------------------------
def _nodeid(testcase: ET.Element) -> str:
    cls, name = testcase.get("classname", ""), testcase.get("name", "")
    return f"{cls.replace('.', '/')}.py::{name}" if cls else name


def unrecorded_failures(junit_path: Path, records: list[Record]) -> list[Record]:
    """pytest failures (from the suite's JUnit XML) that wrote no fail/error record:
    a crashed xdist worker, an exception outside the harness. Each becomes an
    'error' record, so the report and the gate cannot miss it."""
    if not Path(junit_path).exists():
        return []
    try:
        root = ET.parse(junit_path).getroot()
    except ET.ParseError:
        return [Record(entry="(run)", check="(suite)", verdict="error",
                       message=f"{junit_path} is not valid XML: the pytest run was interrupted")]
    recorded = {r.test_id for r in records if r.verdict in DISCREPANT}
    out = []
    from properties.catalog import CATALOG

    for tc in root.iter("testcase"):
        bad = tc.find("failure")
        if bad is None:
            bad = tc.find("error")
        if bad is None:
            continue
        nodeid = _nodeid(tc)
        if nodeid in recorded:
            continue
        m = re.search(r"test_(\w+)\.py::test_\w+\[([^\]-]+)", nodeid)
        entry = m.group(2) if m and m.group(2) in CATALOG else "(unknown)"
        check = m.group(1) if m else "(unknown)"
        text = (bad.get("message") or "") + "\n" + (bad.text or "")
        out.append(Record(entry=entry, check=check, verdict="error", test_id=nodeid,
                          message="pytest reported a failure without a record (crash or harness error):\n" + text.strip()[:4000],
                          extra={"unrecorded": True}))
    return out


def load_run(records_dir) -> tuple[list[Record], dict]:
    """Records (merged over workers, plus unrecorded pytest failures) and run metadata."""
    records_dir = Path(records_dir)
    records = load_records(records_dir)
    records += unrecorded_failures(records_dir / "pytest-junit.xml", records)
    meta_path = records_dir / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    return records, meta


# -- discrepancies -------------------------------------------------------------------
def _num(x) -> float | None:
    return None if x is None else float(x)


def severity_key(rec: Record):
    """Worst first: fails before harness errors; structural problems and exceptions
    (no headroom) before numeric ones; then larger headroom; then by name."""
    numeric = rec.headroom is not None and rec.problem is None and not math.isnan(float(rec.headroom))
    return (0 if rec.verdict == "fail" else 1, 1 if numeric else 0, -(float(rec.headroom) if numeric else 0.0),
            rec.entry, rec.check, rec.dtype, rec.device, rec.mode, rec.example)


def discrepancies(records: list[Record]) -> list[Record]:
    return sorted((r for r in records if r.verdict in DISCREPANT), key=severity_key)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", text).strip("_")


def discrepancy_ids(recs: list[Record]) -> list[str]:
    """Readable, stable ids: Class-check-dtype-device-mode[-example], made unique."""
    seen: Counter = Counter()
    out = []
    for r in recs:
        base = _slug("-".join(p for p in (r.entry, r.check, r.dtype, r.device, r.mode, r.example) if p)) or "discrepancy"
        seen[base] += 1
        out.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return out


def case_text(case_json: str | None, max_elements: int = 64) -> str:
    """The minimal example, readable: a summary line and every input's values."""
    if not case_json:
        return ""
    import numpy as np

    from .case import Case

    try:
        case = Case.from_json(case_json)
    except Exception as e:  # an unreadable case must not stop the report
        return f"(case JSON unreadable: {e})"
    lines = [case.summary()]

    def show(name, x):
        if isinstance(x, np.ndarray):
            if x.size <= max_elements:
                body = np.array2string(x, precision=9, threshold=max_elements, max_line_width=100)
            else:
                body = f"({x.size} elements; full values in the Case JSON)"
            lines.append(f"{name} = " + body.replace("\n", "\n" + " " * (len(name) + 3)))
        elif isinstance(x, (tuple, list)):
            for i, v in enumerate(x):
                show(f"{name}[{i}]", v)
        else:
            lines.append(f"{name} = {x!r}")

    for i, a in enumerate(case.args):
        show(f"input[{i}]", a)
    for k, v in case.fkwargs.items():
        show(k, v)
    return "\n".join(lines)


def _item(rec: Record, did: str | None = None) -> dict:
    d = asdict(rec)
    d["class"] = d.pop("entry")
    d["id"] = did
    d["case_text"] = case_text(rec.minimal_example)
    d["first_line"] = next(iter((rec.message or rec.problem or "").strip().splitlines()), "")
    m = re.search(r"@reproduce_failure\([^)]*\)", rec.reproduce_blob or "")
    d["reproduce_decorator"] = m.group(0) if m else (rec.reproduce_blob or "").strip() or None
    return d


# -- the matrix ----------------------------------------------------------------------
def torch_nn_classes() -> list[str]:
    """Every public Module subclass in the installed torch.nn (containers, lazy modules and Module itself included)."""
    import torch.nn as nn

    return sorted(n for n in dir(nn) if not n.startswith("_") and isinstance(getattr(nn, n), type)
                  and issubclass(getattr(nn, n), nn.Module))


def out_of_scope() -> dict[str, str]:
    """Classes deliberately left out, with reasons (``properties/catalog/scope.py`` when present)."""
    try:
        from properties.catalog import scope
    except ImportError:
        return {}
    for name in ("OUT_OF_SCOPE", "SCOPE", "OUT_OF_SCOPE_REASONS"):
        value = getattr(scope, name, None)
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
    return {}


def _cell(entry, check: str, recs: list[Record]) -> dict:
    counts = Counter(r.verdict for r in recs)
    cell = {"status": "", "counts": dict(counts), "note": "", "arbitrated": 0}
    if not entry.applies(check):
        cell["status"] = "n/a"
        return cell
    if not recs:
        cell["status"] = "not run"
    elif counts["fail"] or counts["error"]:
        cell["status"] = "fail"
        cell["note"] = f"{counts['fail'] + counts['error']} of {len(recs)} runs"
    elif counts["pass"]:
        cell["status"] = "pass"
        cell["arbitrated"] = sum(1 for r in recs if r.verdict == "pass" and r.extra.get("arbitrated"))
        skipped = counts["skip"]
        cell["note"] = f"{counts['pass']} runs" + (f", {skipped} skipped" if skipped else "")
    elif counts["not-implemented"]:
        cell["status"] = "not implemented"
        cell["note"] = "the package under test lacks the class"
    else:
        cell["status"] = "skip"
        cell["note"] = next((r.message for r in recs if r.message), "")
    return cell


def build_matrix(records: list[Record], checks=None) -> dict:
    from properties.catalog import CATALOG, CHECK_KINDS

    checks = list(checks or CHECK_KINDS)
    by = defaultdict(list)
    for r in records:
        by[(r.entry, r.check)].append(r)
    scope = out_of_scope()
    try:
        from properties.catalog.scope import NOT_YET as not_yet
    except ImportError:
        not_yet = {}
    rows = []
    for cls in sorted(set(torch_nn_classes()) | set(CATALOG)):
        entry = CATALOG.get(cls)
        if entry is None:
            status = "out of scope" if cls in scope else "not implemented"
            note = scope.get(cls) or ("no catalog entry yet" + (" (scope.py: NOT_YET)"
                                                                 if cls in not_yet else ""))
            cells = {c: {"status": status, "counts": {}, "note": note, "arbitrated": 0} for c in checks}
        else:
            cells = {c: _cell(entry, c, by.get((cls, c), [])) for c in checks}
        rows.append({"class": cls, "in_catalog": entry is not None, "scope_reason": scope.get(cls), "cells": cells})
    return {"checks": checks, "rows": rows, "statuses": STATUSES}


def coverage(matrix: dict, records: list[Record]) -> dict:
    from properties.catalog import CATALOG

    rows = matrix["rows"]
    nn_classes = set(torch_nn_classes())
    cells = Counter(cell["status"] for row in rows if row["in_catalog"] for cell in row["cells"].values())
    not_impl = sorted({r.entry for r in records if r.verdict == "not-implemented"})
    return {
        "torch_nn_classes": len(nn_classes),
        "in_catalog": len(nn_classes & set(CATALOG)),
        "catalog_entries": len(CATALOG),
        "out_of_scope": sum(1 for r in rows if not r["in_catalog"] and r["scope_reason"]),
        "not_covered": sum(1 for r in rows if not r["in_catalog"] and not r["scope_reason"]),
        "classes_run": len({r.entry for r in records if r.verdict in ("pass", "fail", "error")}),
        "impl_lacks": not_impl,
        "cells": dict(cells),
        "records": len(records),
        "verdicts": dict(Counter(r.verdict for r in records)),
        "examples_run": sum(r.examples_run for r in records),
        "by_check": {c: dict(Counter(r.verdict for r in records if r.check == c)) for c in matrix["checks"]},
    }


# -- metadata ------------------------------------------------------------------------
def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(meta: dict) -> dict:
    import hypothesis
    import numpy
    import torch

    blas = {}
    try:
        deps = numpy.show_config(mode="dicts")["Build Dependencies"]
        blas = {k: deps["blas"].get(k) for k in ("name", "version", "openblas configuration") if deps["blas"].get(k)}
    except Exception:
        pass
    config = torch.__config__.show()
    torch_blas = [line.strip(" -") for line in config.splitlines()
                  if "Build settings" not in line and any(w in line for w in ("BLAS", "LAPACK", "Math Kernel"))]
    torch_blas += [f"BLAS_INFO={m}" for m in re.findall(r"BLAS_INFO=(\w+)", config)]
    root = meta.get("project_root") or str(Path(__file__).resolve().parents[1])
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        commit = commit + (" (uncommitted changes)" if dirty else "") if commit else "unknown"
    except Exception:
        commit = "unknown"
    return {
        "python": sys.version.split()[0], "platform": platform.platform(), "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(), "torch": torch.__version__, "numpy": numpy.__version__,
        "hypothesis": hypothesis.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "not available",
        "numpy_blas": blas, "torch_blas": torch_blas, "torch_threads": torch.get_num_threads(),
        "thread_env": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
        "git_commit": commit,
    }


# -- plots ---------------------------------------------------------------------------
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def headroom_by_class(records: list[Record]) -> list[dict]:
    """Worst headroom (observed / allowed error) per class and dtype over judged runs."""
    worst: dict = {}
    for r in records:
        if r.verdict not in ("pass", "fail") or r.headroom is None or r.problem:
            continue
        h = float(r.headroom)
        if math.isnan(h):
            continue
        key = (r.entry, r.dtype or "?")
        if key not in worst or h > worst[key]["headroom"]:
            worst[key] = {"class": r.entry, "dtype": r.dtype or "?", "headroom": h, "check": r.check,
                          "verdict": r.verdict, "arbitrated": bool(r.extra.get("arbitrated"))}
    return sorted(worst.values(), key=lambda d: (d["class"], d["dtype"]))


def headroom_plot(rows: list[dict], path: Path) -> bool:
    if not rows:
        return False
    plt = _plt()
    classes = sorted({r["class"] for r in rows})
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(classes) + 1.4), dpi=110)
    floor = 1e-4
    offsets = {"float32": -0.18, "float64": 0.18}
    colors = {"float32": "#1f77b4", "float64": "#ff7f0e"}
    for dtype in sorted({r["dtype"] for r in rows}):
        sub = [r for r in rows if r["dtype"] == dtype]
        y = [classes.index(r["class"]) + offsets.get(dtype, 0) for r in sub]
        x = [max(r["headroom"], floor) for r in sub]
        ax.barh(y, x, height=0.34, color=colors.get(dtype, "#888"), label=dtype, left=0)
        for yi, r in zip(y, sub):
            if r["headroom"] > 1:
                ax.text(max(r["headroom"], floor) * 1.1, yi, "arbitrated" if r["arbitrated"] else "FAIL",
                        va="center", fontsize=7, color="#b00" if not r["arbitrated"] else "#555")
    ax.axvline(1.0, color="#b00", lw=1, ls="--")
    ax.text(1.0, -0.9, " allowed", color="#b00", fontsize=8, va="center")
    ax.set_xscale("log")
    ax.set_xlim(floor, max(10.0, max(r["headroom"] for r in rows) * 5))
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set_ylim(len(classes) - 0.5, -1.3)
    ax.set_xlabel(f"worst headroom = |error| / allowed (log; <= 1 passes; values below {floor:g} drawn at {floor:g})")
    ax.set_title("Error headroom per module (worst over all checks and runs)", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", which="major", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def timing_plot(timing_json: dict, path: Path) -> bool:
    rows = [r for r in timing_json["rows"] if r["fwd_ratio"] or r["fwdbwd_ratio"]]
    if not rows:
        return False
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(rows) + 1.4), dpi=110)
    y = list(range(len(rows)))
    ax.barh([v - 0.18 for v in y], [r["fwd_ratio"] or 0 for r in rows], height=0.34, label="forward", color="#9ecae1")
    ax.barh([v + 0.18 for v in y], [r["fwdbwd_ratio"] or 0 for r in rows], height=0.34, label="forward+backward",
            color="#3182bd")
    ax.axvline(1.0, color="#333", lw=0.8)
    ax.axvline(timing_json["targets"]["geomean_fwdbwd_max"], color="#e6550d", lw=1, ls="--", label="geomean target 1.5x")
    ax.axvline(timing_json["targets"]["per_class_fwdbwd_max"], color="#b00", lw=1, ls="--", label="per-class limit 4x")
    ax.set_xscale("log")
    ax.set_yticks(y, [r["class"] for r in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel("twin time / torch-CPU time (fastest round; log scale; < 1: the twin is faster)")
    ax.set_title("Timing ratio twin / torch (CPU) at each benchmark shape", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", which="both", alpha=0.25)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


# -- building --------------------------------------------------------------------------
def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _fmt(v, spec=".3g") -> str:
    import jinja2

    if v is None or isinstance(v, jinja2.Undefined):
        return "-"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return format(v, spec) if isinstance(v, (int, float)) else str(v)


def _render(name: str, **context) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=name.endswith(".html.j2"),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.ChainableUndefined)
    env.filters["fmt"] = _fmt
    env.filters["mdcell"] = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    return env.get_template(name).render(**context)


def build_report(records_dir, out, *, meta: dict | None = None, bench_json=None, allowlist=None) -> dict:
    """Write the report folder and return the results.json data."""
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    records, run_meta = load_run(records_dir)
    meta = {**run_meta, **(meta or {})}
    meta["profile"] = meta.get("profile") or os.environ.get("NNPARITY_PROFILE") or "dev"

    allow_entries = []
    if allowlist is not None:
        from .gate import load_allowlist

        allow_entries = load_allowlist(allowlist)

    # (1) discrepancies, worst first, each with a repro script
    from .repro import script_text

    disc = discrepancies(records)
    ids = discrepancy_ids(disc)
    repro_dir = out / "repro"
    if repro_dir.exists():
        for old in repro_dir.glob("*.py"):
            old.unlink()
    repro_dir.mkdir(exist_ok=True)
    root = meta.get("project_root") or str(Path(__file__).resolve().parents[1])
    items = []
    for rank, (rec, did) in enumerate(zip(disc, ids), 1):
        (repro_dir / f"{did}.py").write_text(script_text(did, rec, root, meta.get("impl_path")), encoding="utf-8")
        item = _item(rec, did)
        item["rank"], item["repro"] = rank, f"repro/{did}.py"
        allowed = next((e for e in allow_entries if e.covers(rec)), None)
        item["allowlisted"] = None if allowed is None else {"line": allowed.line, "reason": allowed.reason,
                                                            "link": allowed.link}
        items.append(item)
    arbitrated = [_item(r) for r in sorted((r for r in records if r.verdict == "pass" and r.extra.get("arbitrated")),
                                            key=lambda r: -(r.headroom or 0))]

    # (2) the matrix, (3) coverage
    matrix = build_matrix(records)
    cov = coverage(matrix, records)
    head = headroom_by_class(records)
    plots = {}
    if headroom_plot(head, out / "headroom.png"):
        plots["headroom"] = "headroom.png"

    # timing
    timing = None
    if bench_json is not None and Path(bench_json).exists():
        from properties.catalog import CATALOG

        from .bench import load_bench

        t = load_bench(bench_json)
        timing = t.to_json()
        timing["no_benchmark_shape"] = sorted(n for n, e in CATALOG.items() if e.bench is None)
        timing["not_timed"] = sorted(n for n, e in CATALOG.items() if e.bench is not None and n not in t.rows)
        if timing_plot(timing, out / "timing.png"):
            plots["timing"] = "timing.png"

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
        "plots": plots,
        "records": [asdict(r) for r in records],
    }
    summary["render_duration_s"] = round(time.perf_counter() - started, 2)
    (out / "results.json").write_text(json.dumps(_clean(data), indent=1, default=str), encoding="utf-8")
    context = dict(data=data, d=data, statuses=STATUSES)
    (out / "REPORT.md").write_text(_render("REPORT.md.j2", **context), encoding="utf-8")
    images = {k: _data_uri(out / v) for k, v in plots.items()}
    (out / "index.html").write_text(_render("index.html.j2", images=images, **context), encoding="utf-8")
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
