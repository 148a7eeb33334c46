"""Structured records: one per (class, check, dtype, device, mode[, example]).

Written append-only as JSON Lines, one file per pytest-xdist worker, flushed and
fsync'd after every record, so a crash mid-run loses at most the record being
written. :func:`load_records` merges the files (a torn last line is skipped).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .vocab import DISCREPANT, VERDICTS

__all__ = ["Record", "RecordWriter", "load_records", "record_from_dict"]


@dataclass
class Record:
    entry: str
    check: str
    dtype: str = ""
    device: str = ""
    mode: str = ""
    example: str = ""  # a fixed example's id ('' for fuzzed runs)
    verdict: str = "pass"
    what: str = ""  # the array judged worst: 'output', 'grad weight', ...
    subject: str = "twin"  # what was judged ('twin', 'torch CUDA') ...
    reference: str = "torch"  # ... against what ('torch', 'finite differences', 'torch CPU')
    max_abs: float | None = None
    max_rel: float | None = None
    rtol: float | None = None
    atol: float | None = None
    tol_reason: str = ""
    headroom: float | None = None  # observed / allowed at the worst element; <= 1 passes
    worst_index: list | None = None
    subject_value: float | None = None
    reference_value: float | None = None
    oracle_value: float | None = None
    blame: str | None = None
    problem: str | None = None
    examples_run: int = 0  # examples that were judged
    examples_planned: int = 0  # what the profile asked for (the floor is half of it)
    minimal_example: str | None = None  # Case JSON of the shrunk failing (or worst passing) case
    seed: int | None = None
    reproduce_blob: str | None = None  # Hypothesis' @reproduce_failure(...) line, where given
    message: str = ""
    duration_s: float = 0.0
    test_id: str = ""
    impl: str = "impls"
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")


def _json_safe(value):
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return repr(value)  # JSON has no NaN/inf; keep them readable
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


class RecordWriter:
    def __init__(self, directory: str | os.PathLike, worker: str = "main"):
        self.path = Path(directory) / f"records-{worker}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        #: pytest node ids this writer has written a record for (so the skip hook in
        #: conftest.py records only skips the harness did not record itself).
        self.test_ids: set[str] = set()
        self.discrepant_ids: set[str] = set()  # ... and those with a discrepant verdict

    def write(self, record: Record) -> None:
        line = json.dumps(_json_safe(asdict(record)), sort_keys=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        if record.test_id:
            self.test_ids.add(record.test_id)
            if record.verdict in DISCREPANT:
                self.discrepant_ids.add(record.test_id)


def load_records(directory: str | os.PathLike) -> list[Record]:
    """Merge every worker's file. Lines that do not parse (a crash mid-write) are skipped."""
    out = []
    for path in sorted(Path(directory).glob("records-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue
            out.append(record_from_dict(data))
    return out


_FLOATS = ("max_abs", "max_rel", "headroom", "subject_value", "reference_value", "oracle_value", "atol", "rtol")
_FIELDS = set(Record.__dataclass_fields__)


def record_from_dict(data: dict) -> Record:
    """A record as written (JSON: NaN/inf as strings), e.g. from a results.json; keys
    this version does not know are dropped."""
    data = {k: (float(v) if k in _FLOATS and isinstance(v, str) else v) for k, v in data.items() if k in _FIELDS}
    return Record(**data)
