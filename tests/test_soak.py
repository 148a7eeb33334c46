"""make soak's summary: every failing record of every seed, classified by the
evidence in the records (twin wrong, torch wrong, harness wrong)."""

from __future__ import annotations

import json
import subprocess
import sys

from nnparity.records import Record, RecordWriter
from nnparity.soak import classify, summarise

from .suite_runner import ROOT


def _seed_dir(root, seed, records, code=1):
    d = root / f"seed-{seed}"
    w = RecordWriter(d)
    for r in records:
        w.write(r)
    (d / "meta.json").write_text(json.dumps({"state": "finished", "pytest_exit_code": code, "duration_s": 12.5}))


def test_every_failure_is_listed_with_its_seed_case_and_class(tmp_path):
    common = dict(dtype="float32", device="cpu", mode="train", examples_run=20)
    _seed_dir(tmp_path, 1, [
        Record("Tanh", "forward", verdict="fail", what="output", blame="twin is further from the float64 oracle",
               minimal_example='{"entry": "Tanh"}', test_id="t::tanh", message="Tanh forward check: ...", **common),
        Record("GELU", "forward", verdict="fail", what="output", blame="torch is further from the float64 oracle "
               "(the twin is more accurate)", test_id="t::gelu", **common),
        Record("ELU", "gradients", verdict="pass", **common),
        Record("ELU", "gradcheck", verdict="fail", reference="finite differences", what="grad input",
               test_id="t::elu", **common),
        Record("ReLU", "gradcheck", verdict="not-judged", reference="finite differences", test_id="t::relu", **common),
        Record("ReLU", "forward", verdict="pass", **common),
    ])
    _seed_dir(tmp_path, 2, [Record("ReLU", "forward", verdict="pass", **common)], code=0)
    s = summarise(tmp_path, [1, 2], "dev")
    by_test = {f["test"]: f for f in s["failures"]}
    assert {t: f["class"] for t, f in by_test.items()} == {
        "t::tanh": "twin", "t::gelu": "torch", "t::elu": "harness", "t::relu": "harness"}
    assert by_test["t::tanh"]["seed"] == 1 and by_test["t::tanh"]["shrunk_case"] == '{"entry": "Tanh"}'
    assert "suspected false alarm" in by_test["t::elu"]["why"]
    assert s["examples"] == 20 * 7 and s["by_class"] == {"twin": 1, "torch": 1, "harness": 2}
    assert not s["incomplete_seeds"]
    text = (tmp_path / "SUMMARY.md").read_text()
    assert "seed 1: t::tanh" in text and "--hypothesis-seed=1" in text


def test_a_seed_that_did_not_finish_is_reported_incomplete(tmp_path):
    _seed_dir(tmp_path, 1, [Record("ReLU", "forward", verdict="pass")], code=2)
    assert summarise(tmp_path, [1], "dev")["incomplete_seeds"] == [1]


def test_gradcheck_failure_without_a_passing_gradients_check_blames_the_twin():
    rec = Record("ELU", "gradcheck", verdict="fail", reference="finite differences", dtype="float64", mode="train")
    assert classify(rec, set())[0] == "twin"


def test_bad_usage_is_a_clear_error():
    res = subprocess.run([sys.executable, "-m", "nnparity.soak", "--seeds", "0"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 2 and "--seeds must be at least 1" in res.stderr
