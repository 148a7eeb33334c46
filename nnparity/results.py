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

__all__ = ["Run", "load_run", "discrepancies", "severity_key", "discrepancy_ids", "case_text", "item"]


@dataclass
class Run:
    records: list
    meta: dict
    snapshot: dict
    problems: list = field(default_factory=list)  # why the run is incomplete (empty: complete)

    @property
    def complete(self) -> bool:
        return not self.problems


def _run_problems(directory: Path, meta: dict, snapshot: dict, records: list) -> list[str]:
    out = []
    if not (directory / "meta.json").exists():
        out.append(f"{directory}/meta.json is missing: this is not a complete nnparity run")
    elif meta.get("state") != "finished":
        out.append("the suite run did not finish (meta.json says it was still running: killed or crashed); "
                   "the results cover only the records written before it stopped")
    else:
        code = meta.get("pytest_exit_code")
        if code == 5:
            out.append("pytest collected no tests (exit code 5): a broken or empty selection, not a pass")
        elif code not in (0, 1):
            out.append(f"the suite run did not complete (pytest exit code {code}); the results cover only the records "
                       "written before it stopped")
    if not snapshot:
        out.append(f"{directory}/catalog.json (the catalog snapshot) is missing")
    if not records:
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
