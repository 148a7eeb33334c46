"""Shards: a deterministic split of the suite into N parts that together run every
test exactly once.

The unit of the split is a class: every test of one torch.nn class (all its checks,
dtypes, devices, modes and examples) lands in the same shard, so a class's records
stay together. Tests that belong to no class (the harness's own tests in
``tests/``, ``properties/test_coverage.py``) are split by file, so a file's
module-scoped fixtures run once (pytest-xdist's ``--dist loadfile`` does the same).

Balance: units are placed longest first, each into the shard with the least work so
far (the LPT rule: within 4/3 of the best possible makespan). A unit's work is the
sum of its tests' recorded durations, read from a durations file in pytest-split's
format (JSON ``{node id: seconds}``, ``.test_durations`` by default); a test with no
recorded duration counts as the mean of those recorded (1 s when none is). Ties are
broken by name, so the split depends only on the collected test ids and the
durations file: every shard process (and every xdist worker in it) computes the
same one. The plan's fingerprint (a hash of every test id with its shard) goes into
each shard's ``meta.json``, so a merge can tell shards of one split from shards of
different ones.

``python -m nnparity durations --records DIR ...`` writes a durations file from a
run's records (each record keeps ``duration_s``); the plugin's
``--shard-store-durations`` writes pytest's own per-test durations (setup, call and
teardown), harness self-tests included.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DURATIONS_FILE", "Shard", "parse_shard", "partition", "assign", "plan_fingerprint", "load_durations",
           "write_durations", "durations_from_records"]

#: pytest-split's default file name (and format), in the project root.
DURATIONS_FILE = ".test_durations"

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """The ``index``-th of ``count`` shards, 1-based (``parse_shard('2/4')``)."""

    index: int
    count: int

    def __post_init__(self):
        if self.count < 1 or not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self}: the index must be between 1 and the count (e.g. 1/{max(self.count, 1)})")

    def __str__(self):
        return f"{self.index}/{self.count}"

    def to_json(self) -> dict:
        return {"index": self.index, "count": self.count}


def parse_shard(text: str) -> Shard:
    """'I/N' -> Shard(I, N); anything else is a ValueError that says what is expected."""
    m = _SHARD.match(str(text))
    if not m:
        raise ValueError(f"--shard {text!r}: expected I/N, the I-th of N shards (1-based), e.g. 1/4")
    return Shard(int(m.group(1)), int(m.group(2)))


def partition(work: dict[str, float], count: int) -> dict[str, int]:
    """Units (name -> work) -> shard index (1-based), longest first into the least
    loaded shard (ties: lower index; equal work: by name)."""
    loads = [0.0] * count
    out = {}
    for name in sorted(work, key=lambda n: (-work[n], n)):
        i = min(range(count), key=lambda k: (loads[k], k))
        loads[i] += work[name]
        out[name] = i + 1
    return out


def assign(tests: list[tuple[str, str]], count: int, durations: dict[str, float] | None = None) -> dict[str, int]:
    """(node id, unit) pairs -> {node id: shard index}. Units never straddle shards."""
    durations = durations or {}
    known = [durations[t] for t, _ in tests if t in durations]
    default = sum(known) / len(known) if known else 1.0
    work: dict[str, float] = {}
    for test, unit in tests:
        work[unit] = work.get(unit, 0.0) + float(durations.get(test, default))
    shard_of = partition(work, count)
    return {test: shard_of[unit] for test, unit in tests}


def plan_fingerprint(plan: dict[str, int], count: int) -> str:
    """A hash of the whole split (every test id and its shard): equal in every shard of one split."""
    h = hashlib.sha256(f"{count}\n".encode())
    for test in sorted(plan):
        h.update(f"{test}\t{plan[test]}\n".encode())
    return h.hexdigest()[:16]


def load_durations(path) -> dict[str, float]:
    """A pytest-split durations file ({node id: seconds}); {} when absent. A malformed
    file is a ValueError naming it (a silent fallback would unbalance the shards)."""
    if path is None or not Path(path).exists():
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not a durations file (JSON {{test id: seconds}}): {e}") from None
    if isinstance(data, list):  # pytest-split's older format: [[test id, seconds], ...]
        data = {k: v for k, v in data}
    if not isinstance(data, dict) or not all(isinstance(v, (int, float)) for v in data.values()):
        raise ValueError(f"{path}: not a durations file (JSON {{test id: seconds}})")
    return {str(k): float(v) for k, v in data.items()}


def write_durations(path, durations: dict[str, float], *, update: bool = True) -> dict[str, float]:
    """Write (by default: update) a durations file; returns what was written."""
    merged = {**(load_durations(path) if update else {}), **{k: round(v, 4) for k, v in durations.items()}}
    tmp = Path(f"{path}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return merged


def durations_from_records(records) -> dict[str, float]:
    """Each test id's recorded time (the sum over its records)."""
    out: dict[str, float] = {}
    for r in records:
        if r.test_id:
            out[r.test_id] = out.get(r.test_id, 0.0) + float(r.duration_s or 0.0)
    return out
