"""The discrepancy report: synthetic records directories (fast) and one real run of
the suite against a deliberately broken package (tests/fixtures/brokenrelu)."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nnparity.records import load_records
from nnparity.report import build_report
from nnparity.results import discrepancies
from nnparity.vocab import torch_nn_classes

from . import _synthetic

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    records = _synthetic.write(base / "records")
    data = build_report(records, base / "out", meta={"profile": "ci", "duration_s": 1.5})
    return base / "out", data


def test_torn_lines_are_skipped_and_workers_merged(tmp_path):
    _synthetic.write(tmp_path)
    assert len(load_records(tmp_path)) == len(_synthetic.records())


def test_discrepancies_worst_first():
    order = [(r.entry, r.check) for r in discrepancies(_synthetic.records())]
    # a structural problem (shape) before numeric ones; numeric by headroom
    assert order == [("Linear", "gradients"), ("ReLU", "forward"), ("Tanh", "forward")]


def test_report_sections_in_order(built):
    out, _ = built
    md = (out / "REPORT.md").read_text()
    heads = [md.index(h) for h in ("## 1. Verdict by class", "## 2. Triage list", "## 3. Harness errors",
                                   "## 4. Compared with the baseline", "## 5. Discrepancies by class",
                                   "## Twin differs from torch within the float64 oracle",
                                   "## 6. Conformance matrix", "## 7. Coverage", "## 8. Run metadata")]
    assert heads == sorted(heads)
    first = re.search(r"^### 1\. (\w+)", md, re.M).group(1)
    assert first == "Linear"
    assert "headroom 88.5" in md and "float64 oracle 1" in md
    assert "input[0] = [ 1. -0. nan]" in md  # the minimal example, readable


def test_markdown_tables_have_no_empty_column(built):
    """Every header cell of every Markdown table names its column (the old summary
    table ended in an empty one)."""
    out, _ = built
    md = (out / "REPORT.md").read_text()
    headers = [line for i, line in enumerate(md.splitlines()[:-1])
               if line.startswith("|") and re.fullmatch(r"\|(-+\|)+", md.splitlines()[i + 1])]
    assert len(headers) >= 5
    for line in headers:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert all(cells[1:]), f"a header with an empty column: {line}"
        assert not line.strip().endswith("| |"), line


def test_html_is_self_contained(built):
    out, _ = built
    html = (out / "index.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "index.html must not load anything"
    assert "<link" not in html and "<script src" not in html
    assert 'src="data:image/png;base64,' in html
    assert html.index("#1</span>Linear") < html.index("#2</span>ReLU") < html.index('id="matrix"')
    assert html.count("<main>") == 1 and html.count("</main>") == 1


def test_results_json_and_matrix(built):
    out, data = built
    def reject(token):
        raise ValueError(f"results.json must be strict JSON, found {token}")

    on_disk = json.loads((out / "results.json").read_text(), parse_constant=reject)
    assert on_disk["schema"] == "nnparity-results/3"
    for key in ("meta", "environment", "summary", "order", "classes", "triage", "baseline", "discrepancies",
                "arbitrated", "matrix", "coverage", "headroom", "timing", "records", "catalog"):
        assert key in on_disk
    rows = {r["class"]: r["cells"] for r in on_disk["matrix"]["rows"]}
    assert set(torch_nn_classes()) <= set(rows)
    assert rows["ReLU"]["forward"]["status"] == "fail"
    assert rows["ReLU"]["randomness"]["status"] == "n/a"  # Entry.applies is False
    assert rows["ReLU"]["gradients"]["status"] == "not run"
    assert rows["Tanh"]["gradients"]["status"] == "not implemented"
    assert rows["Sigmoid"]["forward"] == {**rows["Sigmoid"]["forward"], "status": "pass", "arbitrated": 1}
    from properties.catalog import NOT_YET, OUT_OF_SCOPE

    absent = sorted(NOT_YET)[0] if NOT_YET else sorted(OUT_OF_SCOPE)[0]  # a class without a catalog entry
    assert rows[absent]["forward"]["status"] in ("not implemented", "out of scope")
    env = on_disk["environment"]
    assert env["torch"] and env["numpy"] and env["python"] and "numpy_blas" in env
    assert [a["class"] for a in on_disk["arbitrated"]] == ["Sigmoid"]
    assert on_disk["summary"]["discrepancies"] == 3


def test_repro_scripts_written(built):
    out, data = built
    for item in data["discrepancies"]:
        text = (out / item["repro"]).read_text()
        compile(text, item["repro"], "exec")
        if item["minimal_example"]:
            assert repr(item["minimal_example"]) in text


# -- one real run against a broken twin --------------------------------------------------
def _run(*args, env_extra=None, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(FIXTURES), str(ROOT)]))
    env.pop("NNPARITY_RECORDS", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("broken")
    res = _run("-m", "nnparity", "report", "-k", "ReLU", "--impl", "brokenrelu", "--profile", "ci", "--jobs", "1",
               "--device", "cpu", "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stdout + res.stderr
    return out


@pytest.mark.slow
def test_broken_twin_is_first_and_its_repro_reproduces(broken_run, tmp_path):
    out = broken_run
    md = (out / "REPORT.md").read_text()
    first = re.search(r"^### 1\. (.*)$", md, re.M).group(1)
    assert first.startswith("ReLU"), first
    html = (out / "index.html").read_text()
    assert re.search(r"#1</span>ReLU", html)
    data = json.loads((out / "results.json").read_text())
    assert data["meta"]["impl"] == "brokenrelu"
    forward = next(i for i in data["discrepancies"] if i["check"] == "forward" and i["dtype"] == "float32")
    assert forward["max_rel"] == pytest.approx(1e-3, rel=0.05)  # the 1.001 scale, found and measured
    script = out / forward["repro"]
    res = _run(str(script), cwd=tmp_path)  # runs from anywhere
    assert res.returncode == 1, res.stdout + res.stderr
    assert "REPRODUCED" in res.stdout and "twin " in res.stdout and "torch " in res.stdout
    fixed = _run(str(script), cwd=tmp_path, env_extra={"NNPARITY_IMPL": "impls"})  # the real twin agrees
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


@pytest.mark.slow
def test_gate_on_the_broken_run(broken_run, tmp_path):
    records = str(broken_run / "records")
    res = _run("-m", "nnparity", "gate", "--records", records, "--allowlist", str(tmp_path / "none.toml"),
               "--out", str(tmp_path))
    assert res.returncode == 2 and "no such allowlist" in res.stderr  # a named allowlist must exist
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing allowlisted\n")
    res = _run("-m", "nnparity", "gate", "--records", records, "--allowlist", str(empty), "--out", str(tmp_path))
    assert res.returncode == 1 and "DISCREPANCY ReLU/forward" in res.stdout, res.stdout + res.stderr
    allow = tmp_path / "allow.toml"
    allow.write_text('[[allow]]\nclass = "ReLU"\ncheck = "*"\ndtype = "*"\ndevice = "*"\n'
                     'reason = "deliberately broken fixture"\nlink = "tests/fixtures/brokenrelu"\n')
    res = _run("-m", "nnparity", "gate", "--records", records, "--allowlist", str(allow), "--out", str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    junit = (tmp_path / "gate-junit.xml").read_text()
    assert "allowlisted" in junit


@pytest.mark.slow
def test_skips_are_recorded_with_their_reason(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is present here: the CUDA checks run instead of skipping")
    res = _run("-m", "pytest", "properties/test_forward.py", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
               "--nn=Identity", f"--records={tmp_path}", "-k", "cuda")
    assert res.returncode == 0, res.stdout + res.stderr
    records = load_records(tmp_path)
    assert records and all(r.verdict == "skip" and r.device == "cuda" for r in records)
    assert all("CUDA not available" in r.message and r.check == "forward" and r.entry == "Identity" for r in records)


@pytest.mark.slow
def test_bench_pairs_sides_and_records_threads(tmp_path):
    res = _run("-m", "nnparity", "bench", "-k", "Identity", "--out", str(tmp_path), "--max-time", "0.01", "--threads", "1",
               "--quiet")
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads((tmp_path / "bench.json").read_text())
    seen = {(b["extra_info"]["pass"], b["extra_info"]["side"]): b["group"] for b in data["benchmarks"]}
    assert set(seen) == {(p, s) for p in ("forward", "forward+backward") for s in ("twin", "torch-cpu")}
    assert seen[("forward", "twin")] == seen[("forward", "torch-cpu")] == "Identity forward"  # side by side
    info = data["machine_info"]["nnparity"]
    assert info["threads"] == info["torch_threads"] == 1
    assert info["thread_env"] == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    records = _synthetic.write(tmp_path / "records")
    report = build_report(records, tmp_path / "out", bench_json=tmp_path / "bench.json")
    timing = report["timing"]
    assert [r["class"] for r in timing["rows"]] == ["Identity"] and timing["rows"][0]["fwdbwd_ratio"] > 0
    assert "Linear" in timing["not_timed"]
    md = (tmp_path / "out" / "REPORT.md").read_text()
    assert "| Identity |" in md and "Geometric mean (forward+backward)" in md


@pytest.mark.slow
def test_twin_exception_is_a_discrepancy_with_the_shrunk_case(tmp_path):
    records = tmp_path / "records"
    res = _run("-m", "pytest", "properties/test_forward.py", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
               "--nn=ReLU", "--impl=raisingrelu", f"--records={records}", "-k", "float32 and cpu and train and not special",
               "--hypothesis-profile=ci")
    assert res.returncode == 1, res.stdout + res.stderr
    data = build_report(records, tmp_path / "out", meta={"impl_path": str(FIXTURES)})
    [item] = data["discrepancies"]
    assert item["verdict"] == "fail" and "raised ValueError" in item["message"]
    # shrunk to the smallest input that raises: 4 elements (float32[4] or float32[2, 2]: equally small)
    shape = re.search(r"inputs float32\[([0-9, ]*)\]", item["case_text"])
    assert shape and math.prod(int(n) for n in shape.group(1).split(",")) == 4, item["case_text"]
    res = _run(str(tmp_path / "out" / item["repro"]), cwd=tmp_path)
    assert res.returncode == 1 and "ValueError" in res.stdout + res.stderr, res.stdout + res.stderr
