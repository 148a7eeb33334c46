"""The CI conformance gate, judged from a records directory alone.

Fails (exit 1) on any discrepancy (a record with verdict ``fail``, ``error`` or
``not-judged``, including pytest failures that no check recorded, e.g. a failing
harness test or a crashed worker) that the reviewed allowlist does not cover, on
every *stale* allowlist entry (one whose scope ran, with at least one passing
record, without the discrepancy it excuses), and on an incomplete run (killed,
interrupted, nothing collected). An entry whose scope did not run at all
(filtered out with ``-k``, CUDA absent) cannot be judged; it is reported as
unverified and does not fail the gate. Only a twin's disagreement (``fail``) can be
allowlisted; harness errors and checks that judged nothing always fail. The gate
decides CI: an allowlisted discrepancy passes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .allowlist import AllowEntry
from .records import Record
from .results import discrepancies, load_run, severity_key

__all__ = ["GateResult", "judge", "run_gate", "write_junit"]


@dataclass
class GateResult:
    unallowed: list = field(default_factory=list)   # discrepancies no entry covers (fail the gate)
    allowed: list = field(default_factory=list)     # (record, entry)
    stale: list = field(default_factory=list)       # entries whose scope ran clean (fail the gate)
    unverified: list = field(default_factory=list)  # entries whose scope did not run
    records: list = field(default_factory=list)
    problems: list = field(default_factory=list)    # run-level problems (no records at all)

    @property
    def ok(self) -> bool:
        return not (self.unallowed or self.stale or self.problems)

    def summary(self, allowlist_path="allowlist.toml") -> str:
        lines = [f"nnparity gate: {'PASS' if self.ok else 'FAIL'} - {len(self.records)} records, "
                 f"{len(self.unallowed)} discrepancies not allowlisted, {len(self.allowed)} allowlisted, "
                 f"{len(self.stale)} stale allowlist entries"]
        for p in self.problems:
            lines.append(f"  run problem: {p}")
        for rec in self.unallowed:
            first = (rec.message or rec.problem or "").strip().splitlines()
            lines.append(f"  DISCREPANCY {_label(rec)} [{rec.verdict}]: {first[0] if first else ''}")
            if rec.test_id:
                lines.append(f"      rerun: python -m pytest '{rec.test_id}'")
        for e in self.stale:
            lines.append(f"  STALE {allowlist_path}:{e.line}: {e.scope()} is allowlisted but no longer occurs "
                         f"(its scope ran clean); remove the entry ({e.link})")
        for e in self.unverified:
            lines.append(f"  note: {allowlist_path}:{e.line}: {e.scope()} did not run here; cannot tell whether it is stale")
        for rec, e in self.allowed:
            lines.append(f"  allowlisted {_label(rec)} ({allowlist_path}:{e.line}: {e.reason})")
        return "\n".join(lines)


def _label(rec: Record) -> str:
    parts = [rec.entry, rec.check, rec.dtype, rec.device, rec.mode, rec.example]
    return "/".join(p for p in parts if p)


def judge(records: list[Record], allowlist: list[AllowEntry]) -> GateResult:
    result = GateResult(records=records)
    if not records:
        result.problems.append("no records: the suite did not run (or --records points at an empty directory)")
    used = set()
    for rec in sorted(discrepancies(records), key=severity_key):
        # Only a twin's disagreement ('fail') can be reviewed and allowed; a harness error
        # or a check that judged nothing is never allowlisted: it is fixed.
        entry = next((e for e in allowlist if e.covers(rec)), None) if rec.verdict == "fail" else None
        if entry is None:
            result.unallowed.append(rec)
        else:
            result.allowed.append((rec, entry))
            used.add(entry)
    for e in allowlist:
        if e in used:
            continue
        ran = [r for r in records if e.covers(r) and r.verdict == "pass"]
        (result.stale if ran else result.unverified).append(e)
    return result


def write_junit(result: GateResult, path, allowlist_path="allowlist.toml") -> None:
    """One testcase per record (failure: not allowlisted; skipped: allowlisted or
    skipped with a reason), plus one failing testcase per stale allowlist entry."""
    suite = ET.Element("testsuite", name="nnparity.gate")
    allowed = {id(rec): e for rec, e in result.allowed}
    unallowed = {id(rec) for rec in result.unallowed}
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for rec in result.records:
        case = ET.SubElement(suite, "testcase", classname=f"nnparity.{rec.entry}.{rec.check}",
                             name=_label(rec) + (f" [{rec.test_id}]" if rec.test_id else ""),
                             time=f"{rec.duration_s or 0:.3f}")
        counts["tests"] += 1
        text = rec.message or rec.problem or ""
        if id(rec) in unallowed:
            tag = "failure" if rec.verdict in ("fail", "not-judged") else "error"
            counts["failures" if tag == "failure" else "errors"] += 1
            ET.SubElement(case, tag, message=(text.splitlines() or [rec.verdict])[0][:500]).text = text
        elif id(rec) in allowed:
            e = allowed[id(rec)]
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=f"allowlisted ({allowlist_path}:{e.line}): {e.reason} {e.link}")
        elif rec.verdict in ("skip", "not-implemented"):
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=f"{rec.verdict}: {text}"[:500])
    for e in result.stale:
        counts["tests"] += 1
        counts["failures"] += 1
        case = ET.SubElement(suite, "testcase", classname="nnparity.allowlist", name=f"line {e.line}: {e.scope()}")
        ET.SubElement(case, "failure", message="stale allowlist entry: the discrepancy no longer occurs").text = (
            f"{allowlist_path}:{e.line}: {e.scope()} is allowlisted ({e.reason}; {e.link}) but its scope ran clean. "
            "Remove the entry.")
    for p in result.problems:
        counts["tests"] += 1
        counts["errors"] += 1
        case = ET.SubElement(suite, "testcase", classname="nnparity.run", name="suite ran")
        ET.SubElement(case, "error", message=p)
    for k, v in counts.items():
        suite.set(k, str(v))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def run_gate(records_dir, allowlist: list[AllowEntry], junit_path, allowlist_path="allowlist.toml") -> GateResult:
    """Judge a records directory (its records, and whether its run completed)."""
    run = load_run(records_dir)
    result = judge(run.records, allowlist)
    result.problems += [p for p in run.problems if p not in result.problems and not p.startswith("no records")]
    write_junit(result, junit_path, allowlist_path)
    return result
