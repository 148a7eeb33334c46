"""Triage: the harm kind of each discrepancy, the order by harm, root-cause folding,
the per-class verdict, and the comparison with a baseline (report and gate).
Synthetic records (fast), built through the same code the checks use (compare,
the driver's Harness.record); one slow run of the suite against a package with
three wrong formulas and one ignored ``inplace`` (tests/fixtures/brokenformulas)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from nnparity.allowlist import parse_allowlist
from nnparity.case import Case
from nnparity.cli import main
from nnparity.compare import Comparison, Tolerance, compare
from nnparity.driver import Harness
from nnparity.gate import judge, run_gate
from nnparity.records import Record
from nnparity.report import build_report
from nnparity.results import (HARM, HARNESS, class_verdicts, compare_with_baseline, discrepancies, harm_kind,
                              identity, load_baseline, problem_kind, triage)
from nnparity.warnings_parity import Heard, compare_warnings

from . import _synthetic

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
TOL = Tolerance(1e-6, 1e-6, "test")


class _Writer:
    def __init__(self):
        self.records = []

    def write(self, rec):
        self.records.append(rec)


def recorded(comparison: Comparison | None = None, *, cls="Tanh", check="forward", verdict="fail", case=None,
             dtype="float32", mode="train", example="", message="", **extra) -> Record:
    """A record as the driver writes it (nnparity.driver.Harness.record)."""
    writer = _Writer()
    harness = Harness(f"properties/test_{check}.py::test_{check}[{cls}]", SimpleNamespace(name="impls"), writer, "ci")
    harness.record(SimpleNamespace(name=cls), check, {"dtype": dtype, "device": "cpu", "mode": mode,
                                                      "example": example}, verdict, comparison=comparison,
                   case=case, message=message, **extra)
    return writer.records[0]


def case(*values, dtype="float32", seed=0, cls="Tanh", layout="batched", **kwargs) -> Case:
    return Case(cls, kwargs, (np.array(values, dtype=dtype),), dtype=dtype, seed=seed, layout=layout)


def a(*v, dtype=np.float64):
    return np.array(v, dtype=dtype)


# -- harm kinds ----------------------------------------------------------------------
HARM_CASES = [  # (comparison, check, harm kind, problem kind), every problem compare() words
    (compare("output", a(1.0, 2.0), a(1.0, 2.5), TOL), "forward", "values", "values"),
    (compare("output", a(1, 2, dtype=np.int64), a(1, 3, dtype=np.int64), TOL), "forward", "values", "values"),
    (compare("output", a(0.0, 0.0), a(0.0, 0.0, 0.0), TOL), "forward", "values", "shape"),
    (compare("output", a(0.0, dtype=np.float32), a(0.0), TOL), "forward", "values", "dtype"),
    (compare("output", None, a(0.0), TOL), "forward", "values", "missing"),
    (compare("grad input", a(np.nan), a(1.0), TOL), "gradients", "nonfinite", "nan"),
    (compare("output", a(np.inf), a(1.0), TOL), "special_values", "nonfinite", "inf"),
    (compare("output", a(-0.0), a(0.0), TOL, zero_sign=True), "special_values", "zero-sign", "zero-sign"),
    (compare("input after forward", a(-1.0), a(0.0), TOL), "forward", "inplace", "values"),
    (compare("input after forward", a(np.inf), a(0.0), TOL), "special_values", "inplace", "inf"),
    (compare("step 2: input after forward", a(-1.0), a(0.0), TOL), "train_eval", "inplace", "values"),
    (compare("state running_var after forward", a(1.0), a(2.0), TOL), "forward", "values", "values"),
    (compare("step 2: state running_var after forward", a(1.0), a(2.0), TOL), "train_eval", "values", "values"),
    (compare_warnings([], [Heard(UserWarning, "Using a target size ...")]), "forward", "warnings", "warnings"),
    (Comparison("constructor validation", False, TOL, problem="the twin raises ValueError, torch TypeError"), "api",
     "errors", "mismatch"),
    (Comparison("repr", False, TOL, problem="twin 'A(x=1)', torch 'A()'"), "api", "interface", "mismatch"),
    (Comparison("state key 'weight'", False, TOL, problem="only the torch's state_dict has this key"), "forward",
     "interface", "mismatch"),
    (Comparison("training flag after eval()", False, TOL, problem="submodules ['0'] did not switch"), "train_eval",
     "interface", "mismatch"),
    (Comparison("train vs eval (torch)", False, TOL, problem="torch's train and eval outputs differ, but the catalog "
                "says train_eval_differs=False"), "train_eval", "harness", "mismatch"),
]


@pytest.mark.parametrize("comparison, check, harm, problem", HARM_CASES,
                         ids=[f"{c.what}-{h}-{p}" for c, _, h, p in HARM_CASES])
def test_harm_kind_of_every_problem(comparison, check, harm, problem):
    assert not comparison.ok
    rec = recorded(comparison, check=check)
    assert (harm_kind(rec), problem_kind(rec)) == (harm, problem)


@pytest.mark.parametrize("rec, harm, problem", [
    (dict(check="errors", message="GELU errors [x]: the twin accepted it; torch raises ValueError"), "errors", "errors"),
    (dict(check="errors", message="GELU errors [x]: torch accepts this configuration/input now; the catalog entry "
                                   "is stale"), "harness", "errors"),
    (dict(check="forward", message="Tanh forward: TwinRaised: the twin's forward raised ValueError: no"), "values",
     "raised"),
    (dict(check="randomness", message="Dropout randomness: 1 statistical test(s) failed"), "values", "distribution"),
    (dict(check="forward", verdict="error", message="torch rejected a drawn case"), "harness", "error"),
    (dict(check="gradcheck", verdict="not-judged", message="NOT JUDGED"), "not-judged", "not-judged"),
])
def test_harm_kind_of_records_without_a_comparison(rec, harm, problem):
    r = recorded(**rec)
    assert (harm_kind(r), problem_kind(r)) == (harm, problem)


def test_every_kind_in_harm_order_then_harness():
    assert list(HARM)[:4] == ["values", "nonfinite", "errors", "zero-sign"]  # the four, in its order
    recs = [recorded(c, check=check, cls=f"C{i}") for i, (c, check, _, _) in enumerate(HARM_CASES)]
    recs += [recorded(check="gradcheck", verdict="not-judged", cls="Z"), recorded(verdict="error", cls="Y")]
    order = [harm_kind(r) for r in discrepancies(list(reversed(recs)))]
    kinds = list(HARM) + list(HARNESS)
    assert set(order) == set(kinds)
    assert [kinds.index(k) for k in order] == sorted(kinds.index(k) for k in order)


def test_within_a_kind_no_headroom_first_then_larger_headroom():
    small = recorded(compare("output", a(1.0), a(1.1), TOL), cls="A")
    large = recorded(compare("output", a(1.0), a(9.0), TOL), cls="B")
    shape = recorded(compare("output", a(1.0), a(1.0, 2.0), TOL), cls="C")
    raised = recorded(message="TwinRaised: the twin's forward raised ValueError", cls="D")
    nan = recorded(compare("output", a(np.nan), a(1.0), TOL), cls="E")  # another kind: after all values
    assert [r.entry for r in discrepancies([nan, small, raised, large, shape])] == ["C", "D", "B", "A", "E"]


# -- folding -------------------------------------------------------------------------
def test_a_shrunk_input_shared_across_checks_and_dtypes_folds_into_one_item():
    f32 = recorded(compare("output", a(1.0), a(2.0), TOL), case=case(1.0), check="forward")
    f64 = recorded(compare("output", a(1.0), a(2.0), TOL), case=case(1.0, dtype="float64", seed=7), dtype="float64")
    grad = recorded(compare("grad input", a(1.0), a(2.0), TOL), case=case(1.0, seed=3), check="gradients")
    other_input = recorded(compare("grad input", a(5.0), a(2.0), TOL), case=case(0.0), check="gradients")
    other_element = recorded(compare("output", a(1.0, 1.0), a(1.0, 2.0), TOL), case=case(1.0, 1.0),
                             check="layouts")
    zero = recorded(compare("output", a(0.0), a(-0.0), TOL, zero_sign=True), case=case(-0.0),
                    check="special_values")
    relu = recorded(compare("output", a(1.0), a(3.0), TOL), case=case(1.0, cls="ReLU"), cls="ReLU")
    items = triage([relu, zero, other_element, other_input, grad, f64, f32])
    assert [(it.cls, it.kind) for it in items] == [("Tanh", "values"), ("ReLU", "values"), ("Tanh", "zero-sign")]
    tanh = items[0]
    folds = {(f.worst.worst_index[0], tuple(sorted(id(r) for r in f.records))) for f in tanh.folds}
    assert len(tanh.folds) == 3 and tanh.checks == ["forward", "gradients", "layouts"]
    [shared] = [f for f in tanh.folds if len(f.records) == 3]
    assert {id(r) for r in shared.records} == {id(f32), id(f64), id(grad)} and shared.checks == ["forward", "gradients"]
    assert len(folds) == 3
    verdicts = class_verdicts(items)
    assert [v["class"] for v in verdicts] == ["Tanh", "ReLU"]
    assert verdicts[0]["checks"] == ["forward", "gradients", "special_values", "layouts"]  # CHECK_KINDS order
    assert verdicts[0]["kinds"] == ["values", "zero-sign"] and verdicts[0]["worst"] is tanh.worst


def test_records_without_a_case_fold_by_their_example():
    e32 = recorded(check="errors", example="bad-approximate", message="the twin accepted it")
    e64 = recorded(check="errors", example="bad-approximate", dtype="float64", message="the twin accepted it")
    other = recorded(check="errors", example="integer-input", message="the twin raised TypeError")
    [item] = triage([e32, e64, other])
    assert item.kind == "errors" and sorted(len(f.records) for f in item.folds) == [1, 2]


# -- identity and the baseline ---------------------------------------------------------
def test_identity_ignores_headroom_seed_and_case_but_not_what_problem_or_variant():
    base = recorded(compare("output", a(1.0), a(2.0), TOL), case=case(1.0, seed=1))
    again = recorded(compare("output", a(1.0), a(7.0), TOL), case=case(3.0, seed=99))
    assert identity(base) == identity(again) and base.headroom != again.headroom
    assert identity(base) != identity(recorded(compare("grad input", a(1.0), a(2.0), TOL), case=case(1.0)))
    assert identity(base) != identity(recorded(compare("output", a(np.nan), a(2.0), TOL), case=case(1.0)))
    assert identity(base) != identity(recorded(compare("output", a(1.0), a(2.0), TOL),
                                               case=case(1.0, layout="unbatched")))


def _passing(cls, check="forward", dtype="float32", **kw):
    return recorded(compare("output", a(1.0), a(1.0), TOL), cls=cls, check=check, dtype=dtype, verdict="pass",
                    case=case(1.0, cls=cls, dtype=dtype), **kw)


def _failing(cls, what="output", check="forward", dtype="float32", got=2.0, seed=0):
    return recorded(compare(what, a(got), a(1.0), TOL), cls=cls, check=check, dtype=dtype,
                    case=case(got, cls=cls, dtype=dtype, seed=seed))


@pytest.fixture
def runs(tmp_path):
    """A baseline run and a later one, as records directories (and the baseline's report)."""
    before = [_failing("ReLU", seed=1), _failing("Sigmoid"), _failing("Hardtanh"), _failing("Tanh", what="grad input"),
              _passing("Linear"), _passing("Tanh", dtype="float64")]
    after = [_failing("ReLU", got=5.0, seed=2),  # still failing (other headroom, other seed)
             _passing("Sigmoid"),  # fixed: its check ran and passed
             _failing("Linear"),  # new
             _failing("Tanh"),  # new: the same check fails in another array ('changed' on the baseline's side)
             _passing("Tanh", dtype="float64")]  # Hardtanh did not run here: not fixed
    base_dir = _synthetic.write(tmp_path / "before" / "records", before, torn=False)
    build_report(base_dir, tmp_path / "before", meta={"torch": "2.12.0"})
    return tmp_path / "before", _synthetic.write(tmp_path / "after" / "records", after, torn=False)


def test_baseline_groups(runs):
    baseline_report, records = runs
    from nnparity.results import load_run

    run = load_run(records)
    cmp = compare_with_baseline(run.records, run.meta, load_baseline(baseline_report / "results.json"))
    names = {g: sorted((r.entry, r.what) for r in cmp[g]) for g in ("new", "still failing", "fixed", "changed",
                                                                      "not run")}
    assert names == {"new": [("Linear", "output"), ("Tanh", "output")], "still failing": [("ReLU", "output")],
                     "fixed": [("Sigmoid", "output")], "changed": [("Tanh", "grad input")],
                     "not run": [("Hardtanh", "output")]}


def test_baseline_from_a_report_folder_a_records_dir_or_results_json(runs):
    baseline_report, _ = runs
    keys = [{identity(r) for r in load_baseline(p).records}
            for p in (baseline_report, baseline_report / "results.json", baseline_report / "records")]
    assert keys[0] == keys[1] == keys[2] and len(keys[0]) == 6
    with pytest.raises(FileNotFoundError):
        load_baseline(baseline_report / "nothing.json")
    bad = baseline_report / "bad.json"
    bad.write_text('{"schema": "something else"}')
    with pytest.raises(ValueError, match="not an nnparity results.json"):
        load_baseline(bad)


def test_report_shows_the_three_groups_and_the_other_torch(runs, tmp_path):
    baseline_report, records = runs
    data = build_report(records, tmp_path / "out", baseline=baseline_report / "results.json",
                        meta={"torch": "2.13.0"})
    b = data["baseline"]
    assert b["counts"] == {"new": 2, "still failing": 1, "fixed": 1}
    assert b["mismatches"] == ["torch 2.12.0 in the baseline, 2.13.0 here"]
    assert {i["class"]: i["baseline"] for i in data["discrepancies"]} == {"ReLU": "still failing", "Linear": "new",
                                                                        "Tanh": "new"}
    assert {c["class"]: c["baseline"] for c in data["classes"]} == {"ReLU": {"still failing": 1}, "Linear": {"new": 1},
                                                                   "Tanh": {"new": 1}}
    md = (tmp_path / "out" / "REPORT.md").read_text()
    section = md[md.index("## 4. Compared with the baseline"):md.index("## 5.")]
    new, still, fixed = (section.index(h) for h in ("### New (2)", "### Still failing (1)", "### Fixed (1)"))
    assert new < still < fixed
    assert "| [Linear]" in section[new:still] and "| [Tanh]" in section[new:still]
    assert "| [ReLU]" in section[still:fixed] and "| Sigmoid |" in section[fixed:]
    assert "Hardtanh" in section and "not run here" in section  # neither fixed nor failing
    assert "**The baseline is another kind of run**: torch 2.12.0 in the baseline, 2.13.0 here" in md
    html = (tmp_path / "out" / "index.html").read_text()
    for group, n in (("New", 2), ("Still failing", 1), ("Fixed", 1)):
        assert re.search(rf"</span> {group} \({n}\)", html), group
    assert "The baseline is another kind of run:</b> torch 2.12.0 in the baseline, 2.13.0 here" in html


def test_report_command_with_a_baseline_and_a_missing_one(runs, tmp_path, capsys):
    baseline_report, records = runs
    assert main(["report", "--records", str(records), "--out", str(tmp_path / "o"), "--baseline",
                 str(baseline_report)]) == 0
    assert "2 new, 1 still failing, 1 fixed" in capsys.readouterr().out
    assert main(["report", "--records", str(records), "--out", str(tmp_path / "o"), "--baseline",
                 str(tmp_path / "none.json")]) == 2
    assert "--baseline" in capsys.readouterr().err


# -- the gate's baseline mode ----------------------------------------------------------
def test_gate_with_a_baseline_fails_only_on_new_discrepancies(runs, tmp_path, capsys):
    baseline_report, records = runs
    result = run_gate(records, [], tmp_path / "j.xml", baseline=baseline_report / "results.json")
    assert not result.ok
    assert sorted(r.entry for r in result.unallowed) == ["Linear", "Tanh"]
    assert [r.entry for r in result.preexisting] == ["ReLU"]
    text = result.summary()
    assert "NEW DISCREPANCY Linear/forward" in text and "still failing (in the baseline too) ReLU" in text
    assert "fixed since the baseline: Sigmoid" in text and "another kind of run" not in text
    suite = ET.parse(tmp_path / "j.xml").getroot()
    assert int(suite.get("failures")) == 2
    assert any("still failing since the baseline" in (s.get("message") or "") for s in suite.iter("skipped"))
    # the new ones allowlisted: the gate passes, though ReLU (in the baseline) is not allowlisted
    allow = parse_allowlist("".join(f'[[allow]]\nclass = "{c}"\ncheck = "forward"\ndtype = "*"\ndevice = "*"\n'
                                    f'reason = "r"\nlink = "l"\n' for c in ("Linear", "Tanh")))
    assert run_gate(records, allow, tmp_path / "j.xml", baseline=baseline_report).ok
    # without the baseline, the same run fails on ReLU
    assert not run_gate(records, allow, tmp_path / "j.xml").ok
    # from the command line
    empty = tmp_path / "empty.toml"
    empty.write_text("# none\n")
    assert main(["gate", "--records", str(records), "--allowlist", str(empty), "--out", str(tmp_path),
                 "--baseline", str(baseline_report / "results.json")]) == 1
    assert "NEW DISCREPANCY" in capsys.readouterr().out


def test_gate_with_a_baseline_passes_a_run_that_only_still_fails(tmp_path):
    recs = [_failing("ReLU", seed=1)]
    base = _synthetic.write(tmp_path / "base", recs, torn=False)
    now = _synthetic.write(tmp_path / "now", [_failing("ReLU", got=9.0, seed=5)], torn=False)
    stale = parse_allowlist('[[allow]]\nclass = "Sigmoid"\ncheck = "forward"\ndtype = "*"\ndevice = "*"\n'
                            'reason = "r"\nlink = "l"\n')
    recs_now = load_baseline(now).records + [_passing("Sigmoid")]
    result = judge(recs_now, stale, load_baseline(base))
    assert result.ok and result.stale and not result.unallowed  # a stale entry is reported, not failed on
    assert "reported only: the gate has a baseline" in result.summary()
    assert not judge(recs_now, stale).ok  # without a baseline the stale entry fails


def test_gate_with_a_baseline_still_fails_an_incomplete_run(tmp_path):
    base = _synthetic.write(tmp_path / "base", [_failing("ReLU")], torn=False)
    now = _synthetic.write(tmp_path / "now", [_failing("ReLU")], torn=False, meta={"state": "running"})
    result = run_gate(now, [], tmp_path / "j.xml", baseline=base)
    assert not result.ok and not result.unallowed and any("did not finish" in p for p in result.problems)


# -- one real run: three wrong formulas and an ignored inplace ----------------------------
def _run(*args, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(FIXTURES), str(ROOT)]))
    env.pop("NNPARITY_RECORDS", None)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="module")
def formulas_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("formulas")
    res = _run("-m", "nnparity", "report", "-k", "GELU,Tanh,Hardsigmoid,ReLU", "--impl", "brokenformulas",
               "--profile", "ci", "--jobs", "1", "--device", "cpu", "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stdout + res.stderr
    return out


@pytest.mark.slow
def test_the_three_wrong_formulas_are_the_first_three_items_each_one_fold(formulas_run):
    data = json.loads((formulas_run / "results.json").read_text())
    first = data["triage"][:3]
    assert sorted(t["class"] for t in first) == ["GELU", "Hardsigmoid", "Tanh"], [t["class"] for t in first]
    for t in first:
        assert t["kind"] == "values"
        assert {"forward", "gradients"} <= set(t["checks"]), t["checks"]  # one item, the checks that saw it
        assert sum(1 for u in data["triage"] if u["class"] == t["class"] and u["kind"] == "values") == 1
        for ref in (r for f in t["folds"] for r in f["records"]):  # each fold keeps its repro scripts
            assert (formulas_run / ref["repro"]).exists()
    assert max(len(f["records"]) for t in first for f in t["folds"]) >= 3  # float32/float64 and checks fold
    relu = [t for t in data["triage"] if t["class"] == "ReLU"]
    assert [t["kind"] for t in relu] == ["inplace"]  # the ignored inplace: one item, after the formulas
    assert [c["class"] for c in data["classes"]][:3] == [t["class"] for t in first]
    md = (formulas_run / "REPORT.md").read_text()
    headings = re.findall(r"^### (\d+)\. (\w+): (.*)$", md, re.M)[:3]
    assert [(int(n), c, k) for n, c, k in headings] == [(i + 1, t["class"], "wrong values") for i, t in
                                                        enumerate(first)]
    html = (formulas_run / "index.html").read_text()
    assert html.index('id="item-1"') < html.index('id="item-2"') < html.index('id="item-3"') < html.index('id="item-4"')
