"""A run's results, read from its records directory alone: the records, the run's
metadata (meta.json), the catalog snapshot (catalog.json), whether the run is
complete, and the discrepancies in order of severity.

The report and the gate start here; neither loads the catalog or the test files,
so a records directory copied from another machine or another commit renders and
gates the same way.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .records import Record, load_records
from .vocab import DISCREPANT

__all__ = ["Run", "load_run", "load_runs", "MixedRuns", "discrepancies", "severity_key", "discrepancy_ids", "case_text", "item"]


@dataclass
class Run:
    records: list
    meta: dict
    snapshot: dict
    problems: list = field(default_factory=list)  # why the run is incomplete (empty: complete)

    @property
    def complete(self) -> bool:
        return not self.problems


def _shard_plan(directory: Path, meta: dict) -> dict:
    """The shard's split (nnparity.shards), from meta.json, or from shard.json when the
    run died before writing its final meta.json; {} for an unsharded run."""
    if meta.get("shard_plan"):
        return meta["shard_plan"]
    path = directory / "shard.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _run_problems(directory: Path, meta: dict, snapshot: dict, records: list) -> list[str]:
    out = []
    empty_shard = _shard_plan(directory, meta).get("shard_tests") == 0  # more shards than classes: nothing to run
    if not (directory / "meta.json").exists():
        out.append(f"{directory}/meta.json is missing: this is not a complete nnparity run")
    elif meta.get("state") == "interrupted":
        out.append(meta.get("interrupted") or "the run was interrupted: the results cover only the records written "
                   "before it stopped")
    elif meta.get("state") != "finished":
        out.append("the suite run did not finish (meta.json says it was still running: killed or crashed); "
                   "the results cover only the records written before it stopped")
    elif meta.get("kind") != "campaign":  # a campaign (nnparity fuzz) runs no pytest: its state says it all
        code = meta.get("pytest_exit_code")
        if code == 5 and not empty_shard:
            out.append("pytest collected no tests (exit code 5): a broken or empty selection, not a pass")
        elif code not in (0, 1, 5):
            out.append(f"the suite run did not complete (pytest exit code {code}); the results cover only the records "
                       "written before it stopped")
    if not snapshot:
        out.append(f"{directory}/catalog.json (the catalog snapshot) is missing")
    if not records and not empty_shard:
        out.append("no records: the suite did not run (or the directory is empty)")
    return out


def load_run(records_dir) -> Run:
    directory = Path(records_dir)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such records directory")
    records = load_records(directory)
    meta_path, snap_path = directory / "meta.json", directory / "catalog.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    snapshot = json.loads(snap_path.read_text(encoding="utf-8")) if snap_path.exists() else {}
    return Run(records, meta, snapshot, _run_problems(directory, meta, snapshot, records))


# -- merging the runs of several shards, machines or runs ------------------------------
#: What every merged run must share (unless the merge allows mixing): records made at
#: another commit, or against another torch, are not evidence about the same thing.
MUST_AGREE = {"git_commit": "commits", "torch": "torch versions"}


class MixedRuns(ValueError):
    """The runs to merge were made at different commits or torch versions."""


def load_runs(records_dirs, *, allow_mixed: bool = False) -> Run:
    """Merge several records directories (the shards of one split, or runs on several
    machines) into one Run (one directory: that run, judged whole: a lone shard of a
    split is incomplete): every record of every run, and the reasons the merge is
    incomplete: a part's own (killed, crashed, no records), a shard missing from its
    split or given twice, shards of different splits. Runs at different commits or
    torch versions raise :class:`MixedRuns` unless ``allow_mixed``; the merged meta
    lists every run side by side (``meta['runs']``)."""
    dirs = [Path(d) for d in records_dirs]
    if len(dirs) == 1:  # one directory: a run of its own, unless it is one shard of a split
        run = load_run(dirs[0])
        run.problems += _shard_problems(dirs, [run])
        return run
    if len({d.resolve() for d in dirs}) < len(dirs):
        raise ValueError(f"a records directory is given twice: {', '.join(map(str, dirs))}")
    runs = [load_run(d) for d in dirs]
    for key, what in MUST_AGREE.items():
        values = [r.meta.get(key) or "unknown" for r in runs]
        if len(set(values)) > 1 and not allow_mixed:
            listing = "; ".join(f"{d}: {v}" for d, v in zip(dirs, values))
            raise MixedRuns(f"refusing to merge runs made at different {what} ({listing}): their records do not judge "
                            "the same code. Pass --allow-mixed to merge them anyway (the report then lists the runs "
                            "side by side).")
    problems = [f"{_label(d, r.meta)}: {p}" for d, r in zip(dirs, runs) for p in r.problems]
    problems += _shard_problems(dirs, runs)
    meta = _merged_meta(dirs, runs)
    snapshot = _merged_snapshot([r.snapshot for r in runs])
    return Run([rec for r in runs for rec in r.records], meta, snapshot, problems)


def _label(directory: Path, meta: dict) -> str:
    return f"{directory}" + (f" (shard {meta['shard']})" if meta.get("shard") else "")


def _shard_problems(dirs: list[Path], runs: list[Run]) -> list[str]:
    """Each split (a shard count and plan) must be present whole, each shard once."""
    splits: dict = {}
    for d, r in zip(dirs, runs):
        if not r.meta.get("shard"):
            continue
        index, count = (int(x) for x in str(r.meta["shard"]).split("/"))
        plan = _shard_plan(d, r.meta).get("plan", "unknown")
        splits.setdefault(count, {}).setdefault(plan, {}).setdefault(index, []).append(d)
    out = []
    for count, plans in sorted(splits.items()):
        if len(plans) > 1:
            out.append(f"shards of {count} come from {len(plans)} different splits (plans "
                       f"{', '.join(sorted(plans))}: another selection, catalog or durations file); together they may "
                       "run a test twice or not at all")
        for plan, shards in plans.items():
            missing = [i for i in range(1, count + 1) if i not in shards]
            if missing:
                out.append(f"shard{'s' if len(missing) > 1 else ''} {', '.join(f'{i}/{count}' for i in missing)} "
                           f"missing from the merge (plan {plan}): the merged run is incomplete")
            for i, where in sorted(shards.items()):
                if len(where) > 1:
                    out.append(f"shard {i}/{count} given {len(where)} times ({', '.join(map(str, where))}): its "
                               "records would count twice")
    return out


def _merged_meta(dirs: list[Path], runs: list[Run]) -> dict:
    metas = [r.meta for r in runs]

    def one(key):
        values = list(dict.fromkeys(str(m[key]) for m in metas if m.get(key) is not None))
        return values[0] if len(values) == 1 else (" | ".join(values) if values else None)

    merged = {k: one(k) for k in ("profile", "seed", "impl", "torch", "numpy", "git_commit", "device_selection",
                                  "catalog", "cuda", "jobs")}
    merged.update({k: next((m[k] for m in metas if m.get(k)), None) for k in ("project_root", "impl_path")})
    classes = [m.get("classes") for m in metas]
    merged["classes"] = None if any(c is None for c in classes) else list(dict.fromkeys(x for c in classes for x in c))
    durations = [m.get("duration_s") for m in metas]
    merged["duration_s"] = round(sum(durations), 2) if all(isinstance(x, (int, float)) for x in durations) else None
    started, finished = [m["started"] for m in metas if m.get("started")], [m["finished"] for m in metas
                                                                           if m.get("finished")]
    merged["started"], merged["finished"] = min(started, default=None), max(finished, default=None)
    merged["state"] = "finished" if all(not r.problems for r in runs) else "incomplete"
    merged["runs"] = [{"dir": str(d), "shard": r.meta.get("shard"), "git_commit": r.meta.get("git_commit"),
                       "torch": r.meta.get("torch"), "numpy": r.meta.get("numpy"), "host": r.meta.get("host"),
                       "profile": r.meta.get("profile"), "state": r.meta.get("state"),
                       "pytest_exit_code": r.meta.get("pytest_exit_code"), "records": len(r.records),
                       "duration_s": r.meta.get("duration_s"), "started": r.meta.get("started"),
                       "complete": not r.problems} for d, r in zip(dirs, runs)]
    return merged


def _merged_snapshot(snapshots: list[dict]) -> dict:
    """One catalog snapshot: the first run's, completed by the others' (identical at one commit)."""
    snapshots = [s for s in snapshots if s]
    if not snapshots:
        return {}
    out = json.loads(json.dumps(snapshots[0]))
    for snap in snapshots[1:]:
        for key, value in snap.items():
            if isinstance(value, dict):
                out[key] = {**value, **out.get(key, {})}
            elif isinstance(value, list):
                out[key] = out.get(key, []) + [v for v in value if v not in out.get(key, [])]
    return out


def severity_key(rec: Record):
    """Worst first: fails before harness errors and not-judged; structural problems
    and exceptions (no headroom) before numeric ones; then larger headroom; then by name."""
    numeric = rec.headroom is not None and rec.problem is None and not math.isnan(float(rec.headroom))
    return (DISCREPANT.index(rec.verdict), 1 if numeric else 0, -(float(rec.headroom) if numeric else 0.0),
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


def item(rec: Record, did: str | None = None) -> dict:
    """A record as the report shows it."""
    d = asdict(rec)
    d["class"] = d.pop("entry")
    d["id"] = did
    d["case_text"] = case_text(rec.minimal_example)
    d["first_line"] = next(iter((rec.message or rec.problem or "").strip().splitlines()), "")
    m = re.search(r"@reproduce_failure\([^)]*\)", rec.reproduce_blob or "")
    d["reproduce_decorator"] = m.group(0) if m else (rec.reproduce_blob or "").strip() or None
    return d
