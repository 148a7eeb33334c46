"""Synthetic records directories for the report and gate tests (no suite run): the
records, a finished run's meta.json, and a snapshot of this checkout's catalog."""

from __future__ import annotations

import json

import numpy as np

from nnparity.catalog import load_catalog, snapshot

from nnparity.case import Case
from nnparity.records import Record, RecordWriter

RELU_CASE = Case("ReLU", {}, (np.array([1.0, -0.0, np.nan], np.float32),), dtype="float32")


def rec(entry, check, verdict, **kw) -> Record:
    base = dict(dtype="float32", device="cpu", mode="train",
                test_id=f"properties/test_{check}.py::test_{check}[{entry}-{kw.get('dtype', 'float32')}-cpu-train]")
    base.update(kw)
    return Record(entry=entry, check=check, verdict=verdict, **base)


def records() -> list[Record]:
    tol = dict(rtol=1.3e-6, atol=1e-5, tol_reason="torch.testing.assert_close default")
    return [
        rec("ReLU", "forward", "fail", what="output", worst_index=[0], headroom=88.5, max_abs=1e-3, max_rel=1e-3,
            subject_value=1.001, reference_value=1.0, oracle_value=1.0, blame="twin is further from the float64 oracle",
            minimal_example=RELU_CASE.to_json(), seed=0, message="ReLU forward disagrees with torch.nn.ReLU", **tol),
        rec("ReLU", "forward", "pass", dtype="float64", what="output", headroom=0.0, max_abs=0.0, max_rel=0.0, **tol),
        rec("Tanh", "forward", "fail", what="output", worst_index=[1, 2], headroom=2.0, max_abs=2e-5, max_rel=3e-6,
            subject_value=0.5, reference_value=0.50002, message="Tanh forward disagrees", **tol),
        rec("Linear", "gradients", "fail", what="grad weight", problem="shape (2, 3) != torch's (3, 2)",
            message="Linear gradients disagrees: shape"),
        rec("Sigmoid", "forward", "pass", what="output", headroom=3.0, max_abs=4e-5, max_rel=4e-6, subject_value=0.25,
            reference_value=0.25004, oracle_value=0.25, blame="torch is further from the float64 oracle (the twin is more accurate)",
            extra={"arbitrated": True, "twin_vs_oracle_headroom": 0.2, "torch_vs_oracle_headroom": 2.9}, **tol),
        rec("Sigmoid", "gradients", "pass", what="grad input[0]", headroom=0.1, max_abs=1e-6, max_rel=float("inf"),
            **tol),  # an error where torch is exactly 0: infinite relative error
        rec("ReLU", "forward", "skip", device="cuda", message="CUDA not available on this machine"),
        rec("Tanh", "gradients", "not-implemented", message="brokenpkg has no class Tanh"),
    ]


def write(directory, recs=None, torn: bool = True, meta: dict | None = None):
    """Split over two worker files, the second ending in a torn line (a crash mid-write),
    beside a finished run's meta.json (exit code 1: some checks failed) and the catalog
    snapshot."""
    recs = records() if recs is None else recs
    directory.mkdir(parents=True, exist_ok=True)
    run = {"state": "finished", "pytest_exit_code": 1, "profile": "ci", "impl": "impls"}
    (directory / "meta.json").write_text(json.dumps({**run, **(meta or {})}))
    (directory / "catalog.json").write_text(json.dumps(snapshot(load_catalog())))
    half = len(recs) // 2
    for worker, part in (("gw0", recs[:half]), ("gw1", recs[half:])):
        w = RecordWriter(directory, worker)
        for r in part:
            w.write(r)
    if torn:
        with open(directory / "records-gw1.jsonl", "a", encoding="utf-8") as f:
            f.write('{"entry": "ReLU", "check": "forw')
    return directory
