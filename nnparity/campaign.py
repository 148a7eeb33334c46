"""Fuzzing campaigns: ``python -m nnparity fuzz --budget 30m``.

A campaign spends a wall-clock budget on the checks that draw cases (api, forward,
gradients, gradcheck, train_eval, layouts, cuda_vs_cpu: :data:`FUZZED_KINDS`),
in-process, through the same check bodies and the same :class:`~nnparity.driver.Harness`
as the pytest suite. The fixed examples, invalid cases and statistical tests are
the suite's job (they do not get better with more examples).

Scheduling. A *unit* is one parametrisation of one check of one class (the
suite's test: ``Linear gradients float32 cpu train``). The campaign goes round
robin: in each round every class takes a turn, running one *slice* (a Hypothesis
run of ``n`` examples) of its next open unit (its units in turn); a class that has
found a discrepancy takes :data:`FOUND_WEIGHT` turns per round (a class with one
bug often has another). A unit's slices grow, from ``--slice-examples`` (20, the
dev profile) doubling with each of its slices up to 400 (the deep profile), cut to
what the remaining budget allows at the unit's measured seconds per example (never
below 8, the ci profile, so that a check's floor of judged examples means the same
as in CI). A unit
that finds a discrepancy (or errs, or is skipped) is closed: its shrunk case is in
the example database and its record is written. The campaign ends when the budget
is spent or no unit is open.

Records are written as it goes (one per slice, append-only), with ``meta.json``
(``kind: campaign``) updated after every slice, so a killed campaign still renders.
Resuming is Hypothesis': every slice replays the example database's failures for
its key first (``NNPARITY_EXAMPLE_DB`` chooses the database; a fleet shares one in
Redis), so a second campaign starts from what the first one found.

Progress: a live display (rich) of the round, classes done in it, examples per
second, discrepancies so far and time left; nothing when stderr is not a terminal
or with ``--quiet``. Ctrl-C (or SIGTERM) stops cleanly: the slice in progress is
dropped, ``meta.json`` says the campaign was interrupted, and the report is
rendered from the records so far, marked partial. Exit status: 0 clean, 1
discrepancies (or nothing could run), 130 interrupted.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

from . import PROJECT_ROOT
from .profiles import PROFILES
from .records import Record, RecordWriter
from .vocab import DISCREPANT

__all__ = ["Campaign", "parse_budget", "FUZZED_KINDS", "FOUND_WEIGHT", "MAX_SLICE", "MIN_SLICE"]

#: The check kinds a campaign fuzzes: those whose tests draw cases with Hypothesis.
FUZZED_KINDS = ("api", "forward", "gradients", "gradcheck", "train_eval", "layouts", "cuda_vs_cpu")
FIRST_SLICE = PROFILES["dev"]  # examples in a unit's first slice
MAX_SLICE = PROFILES["deep"]  # slices double each round up to this
MIN_SLICE = PROFILES["ci"]  # the budget never cuts a slice below this (the floor of judged examples means the same)
FOUND_WEIGHT = 3  # turns per round for a class that has found a discrepancy (others: 1)
CAMPAIGN_PROFILE = "nnparity-campaign-slice"

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_budget(text: str) -> float:
    """'90s', '30m', '2h', '1h30m', '45' (seconds) -> seconds."""
    t = str(text).strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", t):
        seconds = float(t)
    elif re.fullmatch(r"(\d+(\.\d+)?[hms])+", t):
        seconds = sum(float(v) * _UNITS[u] for v, _, u in re.findall(r"(\d+(\.\d+)?)([hms])", t))
    else:
        raise ValueError(f"--budget {text!r}: expected a duration such as 90s, 30m, 2h or 1h30m")
    if seconds <= 0:
        raise ValueError(f"--budget {text!r}: must be positive")
    return seconds


def _hms(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


@dataclass
class Unit:
    """One parametrisation of one check of one class, and what the campaign spent on it."""

    entry: object
    kind: str
    combo: dict
    test_id: str
    slices: int = 0
    examples: int = 0  # judged examples (from the records)
    requested: int = 0  # examples asked of Hypothesis over all slices
    seconds: float = 0.0
    status: str = "open"  # open, or the verdict that closed it (fail, error, not-judged, skip, not-implemented)

    @property
    def label(self) -> str:
        return self.test_id.split("[", 1)[-1].rstrip("]") + f" {self.kind}"

    @property
    def seconds_per_example(self) -> float | None:
        return self.seconds / self.requested if self.requested else None

    def to_json(self) -> dict:
        return {"test_id": self.test_id, "check": self.kind, "status": self.status, "slices": self.slices,
                "examples": self.examples, "seconds": round(self.seconds, 2)}


class _LastRecord(RecordWriter):
    """A RecordWriter that remembers the records of the slice in progress."""

    def __init__(self, directory, worker):
        super().__init__(directory, worker)
        self.slice: list[Record] = []

    def write(self, record: Record) -> None:
        super().write(record)
        self.slice.append(record)


class _Display:
    """The live progress display (rich), redrawn 4 times a second from the campaign's
    counters (so time left moves during a long slice too); nothing when quiet."""

    def __init__(self, campaign: "Campaign", live: bool):
        self.c, self.live, self._live = campaign, live, None

    def render(self):
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        c = self.c
        elapsed = c.elapsed()
        stats = Text.from_markup(
            f"[bold]fuzz[/] round {c.round}: classes {c.round_done}/{len(c.classes)} | "
            f"{c.examples / elapsed if elapsed > 0 else 0:.1f} ex/s | [red]{c.discrepancies} discrepancies[/] | "
            f"{_hms(c.budget - elapsed)} left", overflow="ellipsis")
        stats.no_wrap = True
        now = Table.grid(padding=(0, 1))
        now.add_column(width=20)
        now.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        now.add_row(ProgressBar(total=c.budget, completed=min(elapsed, c.budget), width=20),
                    Text(f"{c.current.label} ({c.current_n} examples)" if c.current else "", style="dim"))
        return Group(stats, now)

    def __enter__(self):
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(get_renderable=self.render, console=Console(stderr=True), refresh_per_second=4,
                              transient=False)
            self._live.start()
        return self

    def update(self):
        if self._live is not None:
            self._live.refresh()

    def __exit__(self, *exc):
        if self._live is not None:
            self._live.stop()
        return False


#: Set by the signal handler. The KeyboardInterrupt it raises can land where Python
#: swallows exceptions (a gc callback of Hypothesis's: "Exception ignored in ..."), so the
#: campaign also checks this flag between slices and stops there.
_STOP: dict = {"signal": None}


def _interrupt(signum, frame):
    _STOP["signal"] = signal.Signals(signum).name
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def _check_stop() -> None:
    if _STOP["signal"]:
        raise KeyboardInterrupt(f"signal {_STOP['signal']}")


class Campaign:
    def __init__(self, out: Path, *, budget: float, classes=None, checks=None, shard=None, device: str = "all",
                 impl: str | None = None, first_slice: int | None = None,
                 quiet: bool = False):
        from .catalog import load_catalog
        from .impl import load_impl
        from .profiles import register_profiles

        register_profiles()  # the example database (NNPARITY_EXAMPLE_DB): slices replay its failures first
        unknown = [k for k in (checks or []) if k not in FUZZED_KINDS]
        if unknown:
            raise ValueError(f"--checks {','.join(unknown)}: a campaign fuzzes only the kinds that draw cases "
                             f"({', '.join(FUZZED_KINDS)}); the suite runs the others")
        self.out, self.budget, self.device, self.shard = Path(out), float(budget), device, shard
        self.kinds = list(checks or FUZZED_KINDS)
        self.catalog = load_catalog(root=PROJECT_ROOT)
        self.impl = load_impl(impl)
        self.impl_name = impl
        self.first_slice = first_slice or FIRST_SLICE
        self.live = not quiet and sys.stderr.isatty()
        names = list(classes or self.catalog.entries)
        self.units = {n: self._units(self.catalog.entries[n]) for n in names}
        self.shard_plan = None
        if shard is not None:
            from .shards import partition, plan_fingerprint

            plan = partition({n: float(len(u) or 1) for n, u in self.units.items()}, shard.count)
            self.shard_plan = {**shard.to_json(), "plan": plan_fingerprint(plan, shard.count),
                               "suite_tests": sum(len(u) for u in self.units.values()),
                               "units": sorted(n for n in plan if plan[n] == shard.index)}
            self.units = {n: u for n, u in self.units.items() if plan[n] == shard.index}
            self.shard_plan["shard_tests"] = sum(len(u) for u in self.units.values())
        self.units = {n: u for n, u in self.units.items() if u}
        self.classes = list(self.units)
        self.found = {n: 0 for n in self.classes}
        self.cursor = {n: 0 for n in self.classes}
        self.round = self.round_done = self.slices = self.examples = self.discrepancies = 0
        self.current: Unit | None = None
        self.current_n = 0
        self.started, self.wall_started = time.monotonic(), time.time()
        self.records = self.out / "records"
        self.ended = ""

    # -- what to run ------------------------------------------------------------------
    def _units(self, entry) -> list[Unit]:
        from reference import cuda_skip_reason

        from .checks import MODULES
        from .plugin import param_id

        units = []
        for kind in self.kinds:
            module = MODULES[kind]
            if not entry.applies(kind):
                continue
            for combo in module.params(entry):
                device = combo.get("device", "cpu")
                if combo.get("example") is not None or "invalid" in combo:
                    continue  # fixed cases: one run judges them; the suite does
                if (self.device != "all" and device != self.device) or cuda_skip_reason(device):
                    continue
                test_id = f"properties/test_{kind}.py::test_{kind}[{param_id(entry.name, combo, module.PARAM_NAMES)}]"
                units.append(Unit(entry, kind, combo, test_id))
        return units

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _next_unit(self, name: str) -> Unit | None:
        units = self.units[name]
        for step in range(len(units)):
            u = units[(self.cursor[name] + step) % len(units)]
            if u.status == "open":
                self.cursor[name] = (self.cursor[name] + step + 1) % len(units)
                return u
        return None

    def _slice_size(self, unit: Unit, wanted: int) -> int:
        """Examples for the next slice of ``unit``: ``wanted``, cut to what the time left
        allows (at the unit's, else its class's, else the campaign's measured rate);
        0 when not even a minimal slice fits."""
        remaining = self.budget - self.elapsed()
        cap = min(remaining, max(5.0, min(120.0, self.budget / 10)))  # one slice is at most a tenth of the budget
        rates = ([unit.seconds_per_example] +
                 [u.seconds_per_example for u in self.units[unit.entry.name] if u.kind == unit.kind] +
                 [u.seconds_per_example for us in self.units.values() for u in us])
        rate = next((r for r in rates if r), None)
        if rate is None:
            return wanted if remaining > 0 else 0
        floor = min(wanted, MIN_SLICE)
        n = min(wanted, int(cap / rate))
        if n >= floor:
            return n
        return floor if remaining > floor * rate else 0

    # -- running ----------------------------------------------------------------------
    def _run_slice(self, unit: Unit, n: int) -> None:
        import pytest
        from hypothesis import Verbosity, settings

        from .checks import MODULES
        from .driver import Harness

        settings.register_profile(CAMPAIGN_PROFILE, parent=settings.get_profile("deep"), max_examples=n,
                                  verbosity=Verbosity.quiet)
        settings.load_profile(CAMPAIGN_PROFILE)
        self.writer.slice = []
        self.current, self.current_n = unit, n
        started = time.monotonic()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # numpy's overflow warnings would tear the display; the suite shows them
                MODULES[unit.kind].run(Harness(unit.test_id, self.impl, self.writer, "deep"), unit.entry, **unit.combo)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:  # the harness has recorded it (fail, error, not-judged, not-implemented)
            if not self.writer.slice and not isinstance(e, pytest.skip.Exception):
                self.writer.write(Record(entry=unit.entry.name, check=unit.kind, verdict="error", test_id=unit.test_id,
                                         impl=self.impl.name, **{k: str(unit.combo.get(k) or "")
                                                                 for k in ("dtype", "device", "mode")},
                                         message=f"the campaign's slice raised outside the harness:\n"
                                                 f"{traceback.format_exc()[-4000:]}"))
        unit.seconds += time.monotonic() - started
        unit.slices += 1
        unit.requested += n
        self.slices += 1
        for rec in self.writer.slice:
            unit.examples += rec.examples_run
            self.examples += rec.examples_run
            if rec.verdict != "pass":
                unit.status = rec.verdict
            if rec.verdict in DISCREPANT:
                self.discrepancies += 1
                self.found[unit.entry.name] += 1
        if not self.writer.slice:  # skipped without a record (cannot happen through the harness; never loop on it)
            unit.status = "skip"
        self.current = None

    def _loop(self, display: _Display) -> None:
        while True:
            open_classes = [n for n in self.classes if any(u.status == "open" for u in self.units[n])]
            if not open_classes:
                self.ended = "no unit left open (each found a discrepancy or was skipped)"
                return
            self.round += 1
            self.round_done = 0
            for name in open_classes:
                for _ in range(FOUND_WEIGHT if self.found[name] else 1):
                    unit = self._next_unit(name)
                    if unit is None:
                        break
                    n = self._slice_size(unit, min(MAX_SLICE, self.first_slice * 2 ** unit.slices))
                    if n == 0:
                        self.ended = "budget spent"
                        return
                    self._run_slice(unit, n)
                    _check_stop()
                    self._write_meta("running")
                    display.update()
                self.round_done += 1
                display.update()

    # -- output -----------------------------------------------------------------------
    def _meta(self, state: str, interrupted: str | None = None) -> dict:
        import numpy
        import torch
        from reference import cuda_device_name

        from .plugin import git_commit
        from .runner import _impl_parent

        elapsed = self.elapsed()
        meta = {
            "kind": "campaign", "state": state, "profile": "campaign",
            "seed": "fresh for every slice (Hypothesis' own); failures replay from the example database",
            "impl": self.impl.name, "impl_path": _impl_parent(self.impl_name),
            "classes": self.classes, "catalog": self.catalog.source, "argv": sys.argv[1:],
            "command": [Path(sys.executable).name, "-m", "nnparity", *sys.argv[1:]],
            "project_root": str(PROJECT_ROOT), "torch": torch.__version__, "numpy": numpy.__version__,
            "git_commit": git_commit(PROJECT_ROOT), "host": __import__("platform").node(), "cuda": cuda_device_name(),
            "device_selection": self.device, "jobs": 1,
            "shard": str(self.shard) if self.shard else None, "shard_plan": self.shard_plan,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.wall_started)),
            "duration_s": round(elapsed, 2),
            "campaign": {"budget_s": self.budget, "elapsed_s": round(elapsed, 2), "rounds": self.round,
                         "slices": self.slices, "examples": self.examples, "discrepancies": self.discrepancies,
                         "checks": self.kinds, "first_slice": self.first_slice, "max_slice": MAX_SLICE,
                         "found_weight": FOUND_WEIGHT, "ended": self.ended,
                         "units": [u.to_json() for us in self.units.values() for u in us]},
        }
        if state != "running":
            meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if interrupted:
            meta["interrupted"] = interrupted
        return meta

    def _write_meta(self, state: str, interrupted: str | None = None) -> None:
        path = self.records / "meta.json"
        tmp = path.with_name("meta.json.tmp")
        tmp.write_text(json.dumps(self._meta(state, interrupted), indent=2), encoding="utf-8")
        os.replace(tmp, path)

    def run(self) -> int:
        from .catalog import snapshot
        from .report import build_report

        self.records.mkdir(parents=True, exist_ok=True)
        for old in list(self.records.glob("records-*.jsonl")) + [self.records / "meta.json"]:
            old.unlink(missing_ok=True)
        (self.records / "catalog.json").write_text(json.dumps(snapshot(self.catalog), indent=1), encoding="utf-8")
        self.writer = _LastRecord(self.records, "campaign")
        self.started, self.wall_started = time.monotonic(), time.time()
        self._write_meta("running")
        units = sum(len(u) for u in self.units.values())
        print(f"nnparity fuzz: {len(self.classes)} classes, {units} units ({', '.join(self.kinds)}), budget "
              f"{_hms(self.budget)}" + (f", shard {self.shard}" if self.shard else "") + f" -> {self.out}/",
              file=sys.stderr)
        interrupted = None
        _STOP["signal"] = None
        previous = signal.signal(signal.SIGTERM, _interrupt)
        previous_int = signal.signal(signal.SIGINT, _interrupt)
        try:
            with _Display(self, self.live) as display:
                self._loop(display)
        except KeyboardInterrupt as e:
            what = str(e) or "Ctrl-C"
            slice_note = f"; the slice in progress ({self.current.label}) was dropped" if self.current else ""
            interrupted = (f"PARTIAL CAMPAIGN: interrupted ({what}) after {_hms(self.elapsed())} of the "
                           f"{_hms(self.budget)} budget, {self.slices} slices recorded{slice_note}")
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)
        self.ended = self.ended or ("interrupted" if interrupted else "budget spent")
        self._write_meta("interrupted" if interrupted else "finished", interrupted)
        allowlist = PROJECT_ROOT / "allowlist.toml"
        data = build_report(self.records, self.out, allowlist=allowlist if allowlist.exists() else None)
        print(f"nnparity fuzz: {self.slices} slices, {self.examples} examples in {_hms(self.elapsed())} "
              f"({self.round} rounds; {self.ended}); {self.discrepancies} discrepancies -> {self.out}/REPORT.md",
              file=sys.stderr)
        if interrupted:
            print(f"nnparity fuzz: {interrupted}; the report is partial", file=sys.stderr)
            return 130
        return 1 if (data["summary"]["discrepancies"] or data["meta"].get("incomplete")) else 0
