"""Shards and merged runs: N shards run every test exactly once, a class's tests stay
together, recorded durations balance the split; the records of two shard runs
merge into what one run records; a missing, crashed or foreign shard fails the
gate; runs at different commits are refused unless --allow-mixed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from nnparity.cli import main
from nnparity.results import MixedRuns, load_runs
from nnparity.shards import Shard, assign, load_durations, parse_shard, partition, write_durations

from .suite_runner import ROOT, run_suite

# -- the split itself ------------------------------------------------------------------


def test_parse_shard():
    assert parse_shard("2/4") == Shard(2, 4) and str(Shard(2, 4)) == "2/4"
    for bad in ("0/3", "4/3", "3", "a/b", "1/0"):
        with pytest.raises(ValueError, match="shard"):
            parse_shard(bad)


def test_partition_is_longest_first_into_the_least_loaded_shard():
    work = {"big": 10.0, "a": 3.0, "b": 3.0, "c": 3.0, "d": 1.0}
    plan = partition(work, 2)
    assert plan["big"] == 1 and {plan[u] for u in "abcd"} == {2}  # 10 vs 10: the big unit alone
    assert partition(work, 2) == plan == partition(dict(reversed(list(work.items()))), 2)  # order does not matter
    assert sorted(partition({u: 1.0 for u in "abcdef"}, 3).values()) == [1, 1, 2, 2, 3, 3]


def test_assign_keeps_units_whole_and_uses_durations():
    tests = [(f"t{i}", f"class C{i % 5}") for i in range(50)] + [("tests/test_x.py::a", "file x"), ("tests/test_x.py::b", "file x")]
    for n in (1, 2, 3, 7):
        plan = assign(tests, n)
        assert set(plan) == {t for t, _ in tests} and set(plan.values()) <= set(range(1, n + 1))
        for unit in {u for _, u in tests}:
            assert len({plan[t] for t, u in tests if u == unit}) == 1, unit
    # recorded durations: one class's tests take 100 s each, the others 1 s; it fills a shard alone
    slow = {t: 100.0 if u == "class C0" else 1.0 for t, u in tests}
    plan = assign(tests, 2, slow)
    shard = plan["t0"]
    assert [t for t in plan if plan[t] == shard] == [t for t, u in tests if u == "class C0"]


def test_durations_file_round_trip(tmp_path):
    path = tmp_path / ".test_durations"
    write_durations(path, {"a::b": 1.5})
    write_durations(path, {"c::d": 2.0})  # updates, as pytest-split's --store-durations does
    assert load_durations(path) == {"a::b": 1.5, "c::d": 2.0}
    (tmp_path / "bad").write_text("{not json")
    with pytest.raises(ValueError, match="not a durations file"):
        load_durations(tmp_path / "bad")


# -- N shards of the real suite --------------------------------------------------------


def _collect(*args) -> list[str]:
    result = run_suite("--collect-only", "-p", "no:xdist", *args, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return [line for line in result.stdout.splitlines() if "::" in line]


def _class_of(test_id: str) -> str | None:
    m = re.search(r"^properties/.*\[([A-Za-z0-9_.]+)", test_id)  # models.LeNet, torch.nn.init
    return m.group(1) if m else None


@pytest.mark.slow
def test_n_shards_run_every_test_of_the_suite_exactly_once():
    """Collect-only over 3 shards of the whole suite (properties/ and tests/): their
    union is the whole suite, no test is in two shards, and no class straddles shards."""
    whole = _collect()
    shards = [_collect(f"--shard={i}/3") for i in (1, 2, 3)]
    assert sorted(sum(shards, [])) == sorted(whole)  # union and no duplicates
    assert all(shards) and len(whole) > 1000
    home = {}
    for i, ids in enumerate(shards):
        for t in ids:
            unit = _class_of(t) or t.split("::")[0]
            assert home.setdefault(unit, i) == i, f"{unit} is in shards {home[unit] + 1} and {i + 1}"


@pytest.mark.slow
def test_the_plugin_balances_by_the_durations_file(tmp_path):
    """A durations file that makes Linear's tests slow: Linear fills one of 2 shards alone."""
    sel = ("properties", "--nn", "ReLU,Tanh,Linear")
    whole = _collect(*sel)
    durations = tmp_path / "durations.json"
    durations.write_text(json.dumps({t: 100.0 if _class_of(t) == "Linear" else 1.0 for t in whole}))
    shards = [_collect(*sel, f"--shard={i}/2", f"--shard-durations={durations}") for i in (1, 2)]
    linear = next(ids for ids in shards if any(_class_of(t) == "Linear" for t in ids))
    assert {_class_of(t) for t in linear} == {"Linear"}
    unbalanced = [_collect(*sel, f"--shard={i}/2") for i in (1, 2)]  # without durations: by test count
    assert unbalanced != shards


def test_bad_shard_option_is_a_usage_error():
    result = run_suite("--collect-only", "-p", "no:xdist", "properties", "--nn", "ReLU", "--shard=3/2")
    assert result.returncode == 4 and "index must be between 1 and the count" in result.stderr


# -- merging shard runs ----------------------------------------------------------------
CLASSES = "ReLU,Tanh,Softsign"
KEY = ("entry", "check", "dtype", "device", "mode", "example", "verdict")


def _nnparity(*args, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nnparity", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def shard_runs(tmp_path_factory):
    """One ci-profile run of three classes, and the same as two shards run one after the other."""
    base = tmp_path_factory.mktemp("shards")
    common = ("--profile", "ci", "-k", CLASSES, "--jobs", "1", "--quiet")
    single = _nnparity("report", *common, "--out", str(base / "single"))
    assert single.returncode == 0, single.stderr[-3000:]
    for i in (1, 2):
        r = _nnparity("report", *common, "--shard", f"{i}/2", "--out", str(base / f"shard{i}"))
        assert r.returncode == 0, r.stderr[-3000:]
    return base


def _keys(records) -> set:
    return {tuple(getattr(r, k) for k in KEY) for r in records}


@pytest.mark.slow
def test_a_merge_of_two_shard_runs_equals_a_single_run(shard_runs):
    single = load_runs([shard_runs / "single" / "records"])
    merged = load_runs([shard_runs / "shard1" / "records", shard_runs / "shard2" / "records"])
    assert merged.complete, merged.problems
    parts = [load_runs([shard_runs / f"shard{i}" / "records"]).records for i in (1, 2)]
    assert all(parts) and not _keys(parts[0]) & _keys(parts[1])  # each shard ran something, no test twice
    assert _keys(merged.records) == _keys(single.records) and len(merged.records) == len(single.records)
    assert [r["shard"] for r in merged.meta["runs"]] == ["1/2", "2/2"]
    # the command line: one report and one verdict over both shards
    out = shard_runs / "merged"
    r = _nnparity("report", "--records", str(shard_runs / "shard1" / "records"), str(shard_runs / "shard2" / "records"),
                  "--out", str(out))
    assert r.returncode == 0, r.stderr
    data = json.loads((out / "results.json").read_text())
    assert {tuple(rec["entry"] if k == "entry" else rec[k] for k in KEY) for rec in data["records"]} == _keys(single.records)
    text = (out / "REPORT.md").read_text()
    assert "Merged from 2 runs" in text and "| 1/2 |" in text and "| 2/2 |" in text
    g = _nnparity("gate", "--records", str(shard_runs / "shard1" / "records"), str(shard_runs / "shard2" / "records"),
                  "--out", str(shard_runs / "gate"))
    assert g.returncode == 0, g.stdout + g.stderr


@pytest.mark.slow
def test_a_missing_or_crashed_shard_fails_the_gate(shard_runs, tmp_path, capsys):
    one = str(shard_runs / "shard1" / "records")
    assert main(["gate", "--records", one, str(shard_runs / "single" / "records"), "--out", str(tmp_path / "g1")]) == 1
    assert "shard 2/2 missing from the merge" in capsys.readouterr().out
    # shard 2 crashed: its meta.json still says running
    crashed = tmp_path / "crashed"
    shutil.copytree(shard_runs / "shard2" / "records", crashed)
    meta = json.loads((crashed / "meta.json").read_text())
    (crashed / "meta.json").write_text(json.dumps({**meta, "state": "running"}))
    assert main(["gate", "--records", one, str(crashed), "--out", str(tmp_path / "g2")]) == 1
    out = capsys.readouterr().out
    assert "(shard 2/2): the suite run did not finish" in out
    assert main(["report", "--records", one, str(crashed), "--out", str(tmp_path / "r2")]) == 1
    assert "INCOMPLETE RUN" in capsys.readouterr().err
    # the same shard twice
    twice = tmp_path / "twice"
    shutil.copytree(shard_runs / "shard1" / "records", twice)
    assert main(["gate", "--records", one, str(twice), str(shard_runs / "shard2" / "records"),
                 "--out", str(tmp_path / "g3")]) == 1
    assert "shard 1/2 given 2 times" in capsys.readouterr().out


@pytest.mark.slow
def test_shards_of_another_split_do_not_complete_a_merge(shard_runs, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(shard_runs / "shard2" / "records", other)
    meta = json.loads((other / "meta.json").read_text())
    meta["shard_plan"]["plan"] = "0123456789abcdef"  # e.g. another --nn selection or durations file
    (other / "meta.json").write_text(json.dumps(meta))
    run = load_runs([shard_runs / "shard1" / "records", other])
    assert any("different splits" in p for p in run.problems), run.problems
    assert not run.complete


@pytest.mark.slow
def test_runs_at_different_commits_are_refused_unless_allowed(shard_runs, tmp_path, capsys):
    other = tmp_path / "elsewhere"
    shutil.copytree(shard_runs / "shard2" / "records", other)
    meta = json.loads((other / "meta.json").read_text())
    (other / "meta.json").write_text(json.dumps({**meta, "git_commit": "0000000000000000000000000000000000000000"}))
    dirs = [shard_runs / "shard1" / "records", other]
    with pytest.raises(MixedRuns, match="different commits"):
        load_runs(dirs)
    assert main(["report", "--records", *map(str, dirs), "--out", str(tmp_path / "refused")]) == 2
    assert "--allow-mixed" in capsys.readouterr().err
    assert main(["report", "--records", *map(str, dirs), "--allow-mixed", "--out", str(tmp_path / "mixed")]) == 0
    text = (tmp_path / "mixed" / "REPORT.md").read_text()
    assert "0000000000000000000000000000000000000000" in text and meta["git_commit"] in text  # side by side


def test_records_and_shard_together_are_a_usage_error(tmp_path, capsys):
    assert main(["gate", "--records", str(tmp_path), "--shard", "1/2"]) == 2
    assert "does not apply to --records" in capsys.readouterr().err
