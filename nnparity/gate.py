"""The CI conformance gate.

Fails (exit 1) on any discrepancy (a record with verdict ``fail`` or ``error``, or
a pytest failure that wrote no record, e.g. a crashed worker) that the reviewed
allowlist does not cover, and on every *stale* allowlist entry: one whose scope
ran (at least one passing record) without the discrepancy it excuses. An entry
whose scope did not run at all (filtered out with ``-k``, CUDA absent) cannot be
judged; it is reported as unverified and does not fail the gate.

The allowlist is TOML, one ``[[allow]]`` table per entry::

    [[allow]]
    class  = "GELU"          # exact torch.nn class name
    check  = "gradients"     # a check kind, or "*"
    dtype  = "float32"       # "float32", "float64" or "*"
    device = "*"             # "cpu", "cuda" or "*"
    mode   = "*"             # optional: "train", "eval" or "*" (default "*")
    example = "*"            # optional: a fixed example id, "" for fuzzed runs, or "*" (default "*")
    reason = "torch's tanh approximation rounds differently at |x| > 10 (twin within the oracle's tolerance)"
    link   = "https://github.com/org/nnparity/issues/12"

A malformed allowlist is a usage error (exit 2) that names the file and line.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .records import Record
from .report import discrepancies, load_run, severity_key

__all__ = ["AllowEntry", "AllowlistError", "load_allowlist", "parse_allowlist", "GateResult", "judge", "run_gate"]

REQUIRED = ("class", "check", "dtype", "device", "reason", "link")
OPTIONAL = ("mode", "example")
DTYPES = ("float32", "float64", "*")
DEVICE_NAMES = ("cpu", "cuda", "*")
MODES = ("train", "eval", "*")


class AllowlistError(ValueError):
    """A malformed allowlist; the message names the file and line."""


@dataclass(frozen=True)
class AllowEntry:
    cls: str
    check: str
    dtype: str
    device: str
    reason: str
    link: str
    mode: str = "*"
    example: str = "*"
    line: int = 0

    def scope(self) -> str:
        parts = [f"{self.cls} {self.check}", f"dtype={self.dtype}", f"device={self.device}"]
        if self.mode != "*":
            parts.append(f"mode={self.mode}")
        if self.example != "*":
            parts.append(f"example={self.example!r}")
        return " ".join(parts)

    def covers(self, rec: Record) -> bool:
        return (rec.entry == self.cls
                and (self.check == "*" or rec.check == self.check)
                and fnmatch.fnmatchcase(rec.dtype or "", self.dtype)
                and fnmatch.fnmatchcase(rec.device or "", self.device)
                and fnmatch.fnmatchcase(rec.mode or "", self.mode)
                and (self.example == "*" or (rec.example or "") == self.example))


def _entry_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines(), 1) if re.match(r"\s*\[\[\s*allow\s*\]\]", line)]


def _key_line(text: str, start: int, key: str) -> int:
    """The line of ``key = ...`` inside the [[allow]] table that starts at line ``start``."""
    lines = text.splitlines()
    for i in range(start, len(lines)):  # index ``start`` is the line after the header
        if re.match(r"\s*\[", lines[i]):
            break
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return start


def parse_allowlist(text: str, path: str = "allowlist.toml", known_classes=None) -> list[AllowEntry]:
    """Parse and validate; raise :class:`AllowlistError` naming ``path:line``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        raise AllowlistError(f"{path}:{m.group(1) if m else '?'}: not valid TOML: {e}") from None
    extra = [k for k in data if k != "allow"]
    if extra:
        line = next((i for i, l in enumerate(text.splitlines(), 1) if re.match(rf"\s*\[?\s*{re.escape(extra[0])}\b", l)), "?")
        raise AllowlistError(f"{path}:{line}: unknown top-level key {extra[0]!r}; entries are [[allow]] tables")
    items = data.get("allow", [])
    if not isinstance(items, list):
        raise AllowlistError(f"{path}:?: 'allow' must be an array of tables, written [[allow]]")
    starts = _entry_lines(text)
    from .cli import PROJECT_ROOT  # noqa: F401  (the catalog lives beside the package)
    from properties.catalog import CHECK_KINDS

    if known_classes is None:
        import torch.nn

        known_classes = {n for n in dir(torch.nn) if isinstance(getattr(torch.nn, n), type)}
    out = []
    for i, item in enumerate(items):
        start = starts[i] if i < len(starts) else 0
        where = f"{path}:{start}"
        if not isinstance(item, dict):
            raise AllowlistError(f"{where}: entry #{i + 1} is not a table")
        for key in item:
            if key not in REQUIRED + OPTIONAL:
                raise AllowlistError(f"{path}:{_key_line(text, start, key)}: entry #{i + 1}: unknown key {key!r} "
                                     f"(allowed: {', '.join(REQUIRED + OPTIONAL)})")
        for key in REQUIRED:
            if key not in item:
                raise AllowlistError(f"{where}: entry #{i + 1} ([[allow]] at line {start}) lacks {key!r}; "
                                     f"every entry needs {', '.join(REQUIRED)}")
        for key in REQUIRED + OPTIONAL:
            if key in item and (not isinstance(item[key], str) or (key != "example" and not item[key].strip())):
                raise AllowlistError(f"{path}:{_key_line(text, start, key)}: entry #{i + 1}: {key!r} must be a "
                                     f"non-empty string, got {item[key]!r}")

        def bad(key, allowed):
            raise AllowlistError(f"{path}:{_key_line(text, start, key)}: entry #{i + 1}: {key} {item[key]!r} is not one "
                                 f"of {', '.join(allowed)}")

        if item["class"] not in known_classes:
            import difflib

            close = difflib.get_close_matches(item["class"], sorted(known_classes), n=2, cutoff=0.6)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise AllowlistError(f"{path}:{_key_line(text, start, 'class')}: entry #{i + 1}: class {item['class']!r} "
                                 f"is not a torch.nn class (names are exact, e.g. 'BatchNorm1d'){hint}")
        if item["check"] not in CHECK_KINDS + ("*",):
            bad("check", CHECK_KINDS + ("*",))
        if item["dtype"] not in DTYPES:
            bad("dtype", DTYPES)
        if item["device"] not in DEVICE_NAMES:
            bad("device", DEVICE_NAMES)
        if item.get("mode", "*") not in MODES:
            bad("mode", MODES)
        out.append(AllowEntry(item["class"], item["check"], item["dtype"], item["device"], item["reason"].strip(),
                              item["link"].strip(), item.get("mode", "*"), item.get("example", "*"), start))
    return out


def load_allowlist(path) -> list[AllowEntry]:
    path = Path(path)
    if not path.exists():
        raise AllowlistError(f"{path}: no such allowlist file")
    return parse_allowlist(path.read_text(encoding="utf-8"), str(path))


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
        entry = next((e for e in allowlist if e.covers(rec)), None)
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
            tag = "failure" if rec.verdict == "fail" else "error"
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


def run_gate(records_dir, allowlist: list[AllowEntry], junit_path, allowlist_path="allowlist.toml",
             problems=()) -> GateResult:
    """Judge a records directory; ``problems`` are run-level failures (an incomplete suite run)."""
    records, _meta = load_run(records_dir)
    result = judge(records, allowlist)
    result.problems += list(problems)
    write_junit(result, junit_path, allowlist_path)
    return result
