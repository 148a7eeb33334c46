"""The CI conformance gate, judged from a records directory alone.

Fails (exit 1) on any discrepancy (a record with verdict ``fail``, ``error`` or
``not-judged``, including pytest failures that no check recorded, e.g. a failing
harness test or a crashed worker) that the reviewed allowlist does not cover, on
every *stale* allowlist entry (one whose scope ran, with at least one passing
record, without the discrepancy it excuses), and on an incomplete run (killed,
interrupted, nothing collected; for records merged from several directories, also
a shard missing or given twice: ``results.load_runs``). An entry whose scope did not run at all
(filtered out with ``-k``, CUDA absent) cannot be judged; it is reported as
unverified and does not fail the gate. Only a twin's disagreement (``fail``) can be
allowlisted; harness errors and checks that judged nothing always fail. The gate
decides CI: an allowlisted discrepancy passes.

With a baseline (``--baseline PATH``: an earlier run, e.g. main's, for pull-request
CI) the gate fails only on *new* discrepancies (not in the baseline, by
:func:`nnparity.results.identity`), and on an incomplete run: a discrepancy still
failing since the baseline, and a stale allowlist entry, are reported and do not
fail it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .allowlist import AllowEntry
from .records import Record
from .results import (Baseline, Run, compare_with_baseline, discrepancies, identity_text, load_baseline, load_runs,
                      severity_key)

__all__ = ["GateResult", "judge", "run_gate", "write_junit"]


@dataclass
class GateResult:
    unallowed: list = field(default_factory=list)   # discrepancies no entry covers (fail the gate)
    allowed: list = field(default_factory=list)     # (record, entry)
    stale: list = field(default_factory=list)       # entries whose scope ran clean (fail the gate)
    unverified: list = field(default_factory=list)  # entries whose scope did not run
    records: list = field(default_factory=list)
    problems: list = field(default_factory=list)    # run-level problems (no records at all)
    baseline: dict | None = None                    # the comparison with a baseline (baseline mode)
    preexisting: list = field(default_factory=list)  # not allowlisted, but in the baseline too (baseline mode)

    @property
    def ok(self) -> bool:
        return not (self.unallowed or (self.stale and self.baseline is None) or self.problems)

    def summary(self, allowlist_path="allowlist.toml") -> str:
        lines = [f"nnparity gate: {'PASS' if self.ok else 'FAIL'} - {len(self.records)} records, "
                 f"{len(self.unallowed)} discrepancies not allowlisted, {len(self.allowed)} allowlisted, "
                 f"{len(self.stale)} stale allowlist entries"]
        b = self.baseline
        if b is not None:
            lines.append(f"  baseline {b['source']}: {len(self.unallowed)} new discrepancies (they fail the gate), "
                         f"{len(self.preexisting)} still failing since the baseline and {len(b['fixed'])} fixed "
                         "(they do not)")
            lines += [f"  note: the baseline is another kind of run: {m}" for m in b["mismatches"]]
            lines += [f"  note: the baseline run was incomplete: {m}" for m in b["incomplete"]]
        for p in self.problems:
            lines.append(f"  run problem: {p}")
        for rec in self.unallowed:
            first = (rec.message or rec.problem or "").strip().splitlines()
            lines.append(f"  {'NEW ' if b is not None else ''}DISCREPANCY {_label(rec)} [{rec.verdict}]: "
                         f"{first[0] if first else ''}")
            if rec.test_id:
                lines.append(f"      rerun: python -m pytest '{rec.test_id}'")
        for e in self.stale:
            lines.append(f"  STALE {allowlist_path}:{e.line}: {e.scope()} is allowlisted but no longer occurs "
                         f"(its scope ran clean); remove the entry ({e.link})"
                         + (" [reported only: the gate has a baseline]" if b is not None else ""))
        for rec in self.preexisting:
            lines.append(f"  still failing (in the baseline too) {identity_text(rec)}")
        for rec in (b or {}).get("fixed", []):
            lines.append(f"  fixed since the baseline: {identity_text(rec)}")
        for e in self.unverified:
            lines.append(f"  note: {allowlist_path}:{e.line}: {e.scope()} did not run here; cannot tell whether it is stale")
        for rec, e in self.allowed:
            lines.append(f"  allowlisted {_label(rec)} ({allowlist_path}:{e.line}: {e.reason})")
        return "\n".join(lines)


def _label(rec: Record) -> str:
    parts = [rec.entry, rec.check, rec.dtype, rec.device, rec.mode, rec.example]
    return "/".join(p for p in parts if p)


def judge(records: list[Record], allowlist: list[AllowEntry], baseline: Baseline | None = None,
          meta: dict | None = None) -> GateResult:
    """Judge the records against the allowlist; with a ``baseline``, only new
    discrepancies (and run problems) fail."""
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
    if baseline is not None:
        result.baseline = compare_with_baseline(records, meta or {}, baseline)
        status = result.baseline["status"]
        result.preexisting = [r for r in result.unallowed if status[id(r)] == "still failing"]
        result.unallowed = [r for r in result.unallowed if status[id(r)] == "new"]
    return result


def write_junit(result: GateResult, path, allowlist_path="allowlist.toml") -> None:
    """One testcase per record (failure: not allowlisted; skipped: allowlisted or
    skipped with a reason), plus one failing testcase per stale allowlist entry."""
    suite = ET.Element("testsuite", name="nnparity.gate")
    allowed = {id(rec): e for rec, e in result.allowed}
    unallowed = {id(rec) for rec in result.unallowed}
    preexisting = {id(rec) for rec in result.preexisting}
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
        elif id(rec) in preexisting:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message="still failing since the baseline (the gate fails only on new "
                                                   f"discrepancies): {(text.splitlines() or [rec.verdict])[0]}"[:500])
        elif id(rec) in allowed:
            e = allowed[id(rec)]
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=f"allowlisted ({allowlist_path}:{e.line}): {e.reason} {e.link}")
        elif rec.verdict in ("skip", "not-implemented"):
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=f"{rec.verdict}: {text}"[:500])
    for e in result.stale:
        counts["tests"] += 1
        case = ET.SubElement(suite, "testcase", classname="nnparity.allowlist", name=f"line {e.line}: {e.scope()}")
        text = (f"{allowlist_path}:{e.line}: {e.scope()} is allowlisted ({e.reason}; {e.link}) but its scope ran clean. "
                "Remove the entry.")
        if result.baseline is None:
            counts["failures"] += 1
            ET.SubElement(case, "failure", message="stale allowlist entry: the discrepancy no longer occurs").text = text
        else:  # baseline mode fails only on new discrepancies
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message="stale allowlist entry (reported only: the gate has a baseline)")
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


def run_gate(records, allowlist: list[AllowEntry], junit_path, allowlist_path="allowlist.toml", *,
             baseline=None, allow_mixed: bool = False) -> GateResult:
    """Judge a records directory, several merged (the shards of one split, runs on
    several machines: ``results.load_runs``), or a loaded Run: its records, and
    whether the run (every part of it) completed. With a ``baseline`` (a Baseline,
    or a path :func:`nnparity.results.load_baseline` reads), only new discrepancies
    fail."""
    if not isinstance(records, Run):
        dirs = records if isinstance(records, (list, tuple)) else [records]
        records = load_runs(dirs, allow_mixed=allow_mixed)
    run = records
    if baseline is not None and not isinstance(baseline, Baseline):
        baseline = load_baseline(baseline)
    result = judge(run.records, allowlist, baseline, run.meta)
    result.problems += [p for p in run.problems if p not in result.problems and not p.startswith("no records")]
    write_junit(result, junit_path, allowlist_path)
    return result
