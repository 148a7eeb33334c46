"""Drive one check: fuzz it with Hypothesis (or run one fixed example), judge,
write the record, and fail with a message that reads like a bug report.

A check *body* takes a :class:`~nnparity.case.Case` and returns a list of
:class:`~nnparity.compare.Comparison`. Everything else lives here, once:

* Hypothesis settings per profile, and one example-database namespace per
  (class, check, dtype, device, mode[, variant]) through :class:`KeyedDatabase`
  (public Hypothesis API), so found failures replay first;
* the verdict from who raised: a failing comparison or :class:`TwinRaised` is a
  discrepancy (``fail``); anything else (torch rejecting a drawn case, a harness
  bug) is ``error``;
* nothing passes in silence. A body marks comparisons it could not judge
  (``extra['judged'] = False``, e.g. every gradcheck coordinate on a kink); an
  example that judged nothing is rejected and does not count. A check whose
  examples judged nothing is ``not-judged``; an array label that was never
  judged across all examples makes the check ``not-judged`` too; a check that
  ran fewer than ``FLOOR`` of its planned examples (a strategy that filters
  too much) is an ``error``: "strategy too narrow".
"""

from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, reject, seed as hypothesis_seed, settings
from hypothesis.database import ExampleDatabase
from hypothesis.errors import Unsatisfiable

from .case import Case
from .compare import Comparison
from .engine import NotImplementedByImpl, TwinRaised
from .messages import format_failure, headline
from .records import Record

__all__ = ["Harness", "KeyedDatabase", "FLOOR", "Tracker", "Discrepancy"]

Body = Callable[[Case], "list[Comparison]"]

#: A check must judge at least this fraction of its planned examples (rounded up).
FLOOR = 0.5


class KeyedDatabase(ExampleDatabase):
    """One namespace of a Hypothesis example database: every key is prefixed with
    ``prefix``, so the checks of different classes, dtypes and devices (which share
    one property function) keep separate example lists. Wraps any database
    (directory, Redis, multiplexed)."""

    def __init__(self, base: ExampleDatabase, prefix: str):
        super().__init__()
        self.base, self.prefix = base, prefix.encode() + b"\x00"

    def __repr__(self):
        return f"KeyedDatabase({self.base!r}, {self.prefix[:-1].decode()!r})"

    def save(self, key: bytes, value: bytes) -> None:
        self.base.save(self.prefix + key, value)

    def fetch(self, key: bytes):
        return self.base.fetch(self.prefix + key)

    def delete(self, key: bytes, value: bytes) -> None:
        self.base.delete(self.prefix + key, value)

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        self.base.move(self.prefix + src, self.prefix + dest, value)


@dataclass
class Tracker:
    examples: int = 0
    planned: int = 0
    worst: Comparison | None = None
    worst_case: Case | None = None
    failure: tuple | None = None  # (case, bad comparisons, message)
    current: Case | None = None  # the case being run (after shrinking, the last one is the minimal example)
    seen: set = field(default_factory=set)  # labels compared
    judged: set = field(default_factory=set)  # labels judged at least once

    def see(self, case: Case, comparisons: list[Comparison]) -> bool:
        """Account for one example; False when it judged nothing."""
        judged = [c for c in comparisons if c.extra.get("judged", True)]
        self.seen.update(c.what for c in comparisons)
        self.judged.update(c.what for c in judged)
        if not judged:
            return False
        self.examples += 1
        for c in judged:
            if self.worst is None or (c.ok and self.worst.ok and c.headroom > self.worst.headroom):
                self.worst, self.worst_case = c, case
        return True


def _worst(bad: list[Comparison]) -> Comparison:
    return max(bad, key=lambda c: (c.problem is not None, c.headroom))


class Discrepancy(AssertionError):
    """The twin's arrays disagree with the reference (the message is the bug report)."""


def _is_discrepancy(e: BaseException) -> bool:
    """The twin disagreed or raised (possibly several distinct such failures); anything
    else that escapes a check is the harness's or torch's."""
    if isinstance(e, BaseExceptionGroup):
        return all(_is_discrepancy(x) for x in e.exceptions)
    return isinstance(e, (Discrepancy, TwinRaised))


class Harness:
    """Per-test access to the package under test, the profile and the record writer
    (the ``nnp`` fixture of the pytest plugin)."""

    def __init__(self, test_id: str, impl, writer, profile: str):
        self.impl, self.writer, self.profile = impl, writer, profile
        self.test_id = test_id

    # -- records --------------------------------------------------------------------
    def record(self, entry, check: str, case_like: dict, verdict: str, *, comparison: Comparison | None = None,
               case: Case | None = None, examples: int = 0, planned: int = 0, message: str = "",
               started: float | None = None, blob: str | None = None, **extra) -> None:
        if self.writer is None:
            return
        rec = Record(entry=entry.name, check=check, verdict=verdict, examples_run=examples, examples_planned=planned,
                     message=message, test_id=self.test_id, impl=self.impl.name, reproduce_blob=blob,
                     duration_s=(time.perf_counter() - started) if started else 0.0, extra=extra, **case_like)
        if comparison is not None:
            c = comparison
            rec.what, rec.problem, rec.subject, rec.reference = c.what, c.problem, c.subject, c.reference
            rec.max_abs, rec.max_rel, rec.headroom = c.max_abs, c.max_rel, c.headroom
            rec.rtol, rec.atol, rec.tol_reason = c.tol.rtol, c.tol.atol, c.tol.reason
            rec.worst_index = list(c.worst_index) if c.worst_index is not None else None
            rec.subject_value, rec.reference_value = c.subject_value, c.reference_value
            rec.oracle_value, rec.blame = c.oracle_value, c.blame
            if c.extra:  # e.g. the oracle's arbitration, the bound gradcheck applied
                rec.extra = {**c.extra, **rec.extra}
        if case is not None:
            rec.minimal_example, rec.seed = case.to_json(), case.seed
        self.writer.write(rec)

    def not_implemented(self, entry, check: str, case_like: dict):
        self.record(entry, check, case_like, "not-implemented", message=f"{self.impl.name} has no class {entry.name}")
        pytest.skip(f"not implemented by {self.impl.name}: {entry.name}")

    # -- running --------------------------------------------------------------------
    def _settings(self, entry, key: str, scale: float) -> tuple[settings, int]:
        base = settings()
        n = max(1, int(round(base.max_examples * entry.max_examples_scale * scale)))
        database = KeyedDatabase(base.database, key) if base.database is not None else None
        return settings(base, max_examples=n, print_blob=True, database=database,
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]), n

    def fuzz(self, entry, check: str, strategy, body: Body, *, dtype: str, device: str, mode: str, scale: float = 1.0,
             extra_key: str = "") -> Tracker:
        """Run ``body`` on drawn cases. Fails with the shrunk case; records either way."""
        case_like = {"dtype": dtype, "device": device, "mode": mode}
        if entry.torch_class and not self.impl.has(entry.name):
            self.not_implemented(entry, check, case_like)
        key = f"{entry.name}/{check}/{dtype}/{device}/{mode}/{extra_key}"
        tracker = Tracker()

        def prop(case):
            tracker.current = case
            comparisons = body(case)
            bad = [c for c in comparisons if not c.ok]
            if bad:
                tracker.see(case, comparisons)
                message = format_failure(entry.name, check, case, bad, self.test_id)
                tracker.failure = (case, bad, message)
                raise Discrepancy(message)
            if not tracker.see(case, comparisons):
                reject()  # this example judged nothing (e.g. every coordinate on a kink): draw another

        hyp_settings, tracker.planned = self._settings(entry, key, scale)
        test = given(case=strategy)(prop)
        if self.profile == "ci":  # derandomised: a fixed seed per test ...
            test = hypothesis_seed(zlib.crc32(key.encode()))(test)
        # ... database kept: @seed switches the example database off (settings(database=None)), so the settings
        # go on after it: the failures this check found before, here or on another machine, replay first.
        test = hyp_settings(test)
        started = time.perf_counter()
        common = dict(examples=tracker.examples, planned=tracker.planned, started=started)
        try:
            try:
                test()
            except Unsatisfiable:
                if tracker.examples:  # some examples were judged: the floor below decides
                    raise
                # every example was rejected as judging nothing: reported as not judged below
        except BaseException as e:
            if isinstance(e, (pytest.skip.Exception, KeyboardInterrupt)):
                raise
            common["examples"] = tracker.examples
            blob = next((n for n in getattr(e, "__notes__", []) if "reproduce_failure" in n), None)
            if isinstance(e, NotImplementedByImpl):
                self.not_implemented(entry, check, case_like)
            if isinstance(e, Discrepancy) and tracker.failure is not None:
                case, bad, message = tracker.failure
                self.record(entry, check, case_like, "fail", comparison=_worst(bad), case=case, message=message,
                            blob=blob, **common)
            else:
                # The twin raised: a discrepancy, with the shrunk case (Hypothesis runs the minimal failing
                # example last). Anything else (torch rejected a drawn case, a harness bug): an error.
                verdict = "fail" if _is_discrepancy(e) else "error"
                message = f"{headline(entry.name, check)}: {type(e).__name__}: {e}"
                self.record(entry, check, case_like, verdict, case=tracker.current, blob=blob, message=message, **common)
                if verdict == "fail":  # the test's failure names the class and check, as a comparison's does
                    raise Discrepancy(f"{message}\n  rerun: pytest '{self.test_id}'") from e
            raise
        common["examples"] = tracker.examples
        never = sorted(tracker.seen - tracker.judged)
        if tracker.examples == 0 or never:
            what = (f"no example could be judged ({tracker.planned} planned)" if tracker.examples == 0 else
                    f"{', '.join(never)} never judged in {tracker.examples} example(s)")
            message = (f"{headline(entry.name, check)}: NOT JUDGED: {what}; a check that judged nothing must not pass "
                       "(widen the strategy away from the points it cannot judge, e.g. kinks)")
            self.record(entry, check, case_like, "not-judged", comparison=tracker.worst, case=tracker.worst_case,
                        message=message, never_judged=never, **common)
            pytest.fail(message, pytrace=False)
        floor = math.ceil(FLOOR * tracker.planned)
        if tracker.examples < floor:
            message = (f"{headline(entry.name, check)}: strategy too narrow: {tracker.examples} of {tracker.planned} "
                       f"planned examples ran (the floor is {floor}); the strategy or its filters reject most draws")
            self.record(entry, check, case_like, "error", comparison=tracker.worst, case=tracker.worst_case,
                        message=message, **common)
            pytest.fail(message, pytrace=False)
        self.record(entry, check, case_like, "pass", comparison=tracker.worst, case=tracker.worst_case, **common)
        return tracker

    def run_case(self, entry, check: str, case: Case, body: Body) -> list[Comparison]:
        """Run one fixed case (an example). Fails with a bug-report message; records either way."""
        case_like = {"dtype": case.dtype, "device": case.device, "mode": case.mode, "example": case.label}
        if entry.torch_class and not self.impl.has(entry.name):
            self.not_implemented(entry, check, case_like)
        started = time.perf_counter()
        common = dict(case=case, planned=1, started=started)
        try:
            comparisons = body(case)
        except NotImplementedByImpl:
            self.not_implemented(entry, check, case_like)
        except TwinRaised as e:
            self.record(entry, check, case_like, "fail", examples=1, message=f"{headline(entry.name, check, case)}: {e}",
                        **common)
            raise
        except Exception as e:
            self.record(entry, check, case_like, "error", message=f"{headline(entry.name, check, case)}: "
                        f"{type(e).__name__}: {e}", **common)
            raise
        bad = [c for c in comparisons if not c.ok]
        if bad:
            message = format_failure(entry.name, check, case, bad, self.test_id)
            self.record(entry, check, case_like, "fail", comparison=_worst(bad), examples=1, message=message, **common)
            raise Discrepancy(message)
        judged = [c for c in comparisons if c.extra.get("judged", True)]
        if not judged:
            message = f"{headline(entry.name, check, case)}: NOT JUDGED: nothing on this example could be compared"
            self.record(entry, check, case_like, "not-judged", message=message, **common)
            pytest.fail(message, pytrace=False)
        worst = max(judged, key=lambda c: c.headroom)
        self.record(entry, check, case_like, "pass", comparison=worst, examples=1, **common)
        return comparisons

    def verdict(self, entry, check: str, case_like: dict, ok: bool, message: str, started: float, examples: int = 1,
                **extra) -> None:
        """Record and assert a check that is not an array comparison (errors, statistics, api)."""
        self.record(entry, check, case_like, "pass" if ok else "fail", examples=examples, planned=examples,
                    message=message, started=started, **extra)
        assert ok, message
