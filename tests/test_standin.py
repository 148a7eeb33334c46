"""The CUDA code paths, run on a machine without a GPU through the CPU stand-in
(NNPARITY_STANDIN_CUDA=1, reference/runner.py): every device check of the suite
(the twin against torch on 'cuda', torch 'cuda' against torch CPU), the CUDA
tolerance policy, the benchmarks' CUDA side, and `--device cuda` of the command
line. A typo in a CUDA path fails here, not first on someone's GPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from nnparity.checks import MODULES

from .suite_runner import ROOT

#: Every check kind parametrised over devices.
DEVICE_KINDS = sorted(k for k, m in MODULES.items() if "device" in m.PARAM_NAMES)
#: Between them these classes have every device kind: errors (invalid cases), special values,
#: layouts, train/eval with running statistics (BatchNorm1d) and torch's noise (Dropout).
CLASSES = ("Linear", "Dropout", "BatchNorm1d")


def _python(code: str, standin: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, "NNPARITY_STANDIN_CUDA": "1" if standin else "0"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_the_standin_maps_cuda_to_the_cpu_and_still_rejects_typos():
    code = """
import torch
from reference import cuda_available, cuda_device_name, cuda_skip_reason, synchronize, to_torch
import numpy as np
assert cuda_available() and cuda_skip_reason('cuda') is None and 'stand-in' in cuda_device_name()
m = torch.nn.BatchNorm1d(3, device='cuda', dtype=torch.float64)
x = to_torch(np.ones((2, 3)), 'cuda')
assert m.running_mean.device.type == 'cpu' and x.device.type == 'cpu'
assert torch.zeros(2, device=torch.device('cuda', 0)).device.type == 'cpu' and x.to('cuda:0').cuda().device.type == 'cpu'
synchronize('cuda')
try:
    torch.zeros(2, device='cdua')
except RuntimeError as e:
    print('typo rejected:', e)
"""
    r = _python(code, standin=True)
    assert r.returncode == 0, r.stderr
    assert "typo rejected" in r.stdout


def test_without_the_standin_cuda_is_absent_here():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a real GPU is present")
    r = _python("from reference import cuda_skip_reason; print(cuda_skip_reason('cuda'))", standin=False)
    assert "CUDA not available" in r.stdout


@pytest.mark.slow
def test_every_device_check_runs_through_the_standin(tmp_path):
    """Every test with device 'cuda' of three classes runs (none skipped) and passes,
    and every device check kind that applies to a class is recorded for it on 'cuda'."""
    from nnparity.catalog import load_catalog
    from nnparity.records import load_records

    env = {**os.environ, "NNPARITY_STANDIN_CUDA": "1", "NNPARITY_PROFILE": "ci"}
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("NNPARITY_RECORDS", None)
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "properties",
                        "--nn", ",".join(CLASSES), "-k", "cuda", f"--records={tmp_path}"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout[-4000:]
    assert " skipped" not in r.stdout.splitlines()[-1], r.stdout[-2000:]
    records = load_records(tmp_path)
    assert records and {rec.device for rec in records} == {"cuda"}
    assert all(rec.verdict == "pass" for rec in records), [rec.message for rec in records if rec.verdict != "pass"]
    catalog = load_catalog().entries
    ran = {(rec.entry, rec.check) for rec in records}
    wanted = {(c, k) for c in CLASSES for k in DEVICE_KINDS if catalog[c].applies(k)}
    assert wanted <= ran, sorted(wanted - ran)
    assert {k for _, k in wanted} == set(DEVICE_KINDS)  # the classes cover every device kind
    cuda_vs_cpu = [rec for rec in records if rec.check == "cuda_vs_cpu"]
    assert cuda_vs_cpu and all(rec.subject == "torch CUDA" and rec.reference == "torch CPU" and
                               "CUDA policy" in rec.tol_reason for rec in cuda_vs_cpu)
    assert "stand-in" in json.loads((tmp_path / "meta.json").read_text())["cuda"]


@pytest.mark.slow
def test_the_benchmarks_cuda_side_and_the_report_through_the_standin(tmp_path):
    from nnparity.bench import load_bench
    from nnparity.report import build_report

    from . import _synthetic

    env = {**os.environ, "NNPARITY_STANDIN_CUDA": "1"}
    env.pop("PYTEST_XDIST_WORKER", None)
    r = subprocess.run([sys.executable, "-m", "nnparity", "bench", "-k", "ReLU", "--max-time", "0.02", "--quiet",
                        "--out", str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    timing = load_bench(tmp_path / "bench.json")
    [row] = timing.table()
    assert row["fwd_torch_cuda_ms"] and row["fwdbwd_torch_cuda_ms"] and row["fwdbwd_torch_cpu_ms"]
    assert "stand-in" in timing.machine["nnparity"]["cuda"]
    data = build_report(_synthetic.write(tmp_path / "records"), tmp_path / "report", bench_json=tmp_path / "bench.json")
    text = (tmp_path / "report" / "REPORT.md").read_text()
    assert data["timing"]["rows"][0]["fwdbwd_torch_cuda_ms"] and "torch on CUDA: stand-in" in text


def test_the_command_line_accepts_device_cuda_with_the_standin(tmp_path):
    env = {**os.environ, "NNPARITY_STANDIN_CUDA": "1"}
    r = subprocess.run([sys.executable, "-c", "from nnparity.runner import device_filter; print(device_filter('cuda'))"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "'-k', 'cuda'" in r.stdout, r.stderr
