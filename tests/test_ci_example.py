"""docs/ci/: the sharded CI workflow example works. Its matrix and its shard count
agree, the scripts it calls exist, and those scripts, run here as the matrix jobs
and the final job would run them, give one report and one passing gate over two
shards, and a failing gate when a shard is missing."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from .suite_runner import ROOT

CI = ROOT / "docs" / "ci"


def test_the_workflow_matrix_and_shard_count_agree():
    text = (CI / "github-actions.yml").read_text()
    shards = int(re.search(r"^\s+SHARDS: (\d+)$", text, re.M).group(1))
    matrix = [int(x) for x in re.search(r"^\s+shard: \[([\d, ]+)\]$", text, re.M).group(1).split(",")]
    assert matrix == list(range(1, shards + 1))
    for script in re.findall(r"bash (docs/ci/\S+\.sh)", text):
        assert (ROOT / script).exists(), script
    assert "bash docs/ci/shard.sh ${{ matrix.shard }} ${{ env.SHARDS }}" in text
    assert "bash docs/ci/merge.sh merged shards/*" in text


def _bash(*args, **env) -> subprocess.CompletedProcess:
    full = {**os.environ, "JOBS": "1", "NNPARITY_ARGS": "-k ReLU,Tanh", **env}
    full.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(["bash", *map(str, args)], cwd=ROOT, env=full, capture_output=True, text=True, timeout=1200)


@pytest.mark.slow
def test_the_ci_scripts_shard_merge_and_gate(tmp_path):
    for i in (1, 2):
        r = _bash(CI / "shard.sh", i, 2, tmp_path / f"shard-{i}")
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    both = [tmp_path / "shard-1" / "records", tmp_path / "shard-2" / "records"]
    r = _bash(CI / "merge.sh", tmp_path / "merged", *both)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (tmp_path / "merged" / "REPORT.md").exists() and (tmp_path / "merged" / "gate-junit.xml").exists()
    assert (tmp_path / "merged" / ".test_durations").stat().st_size > 2  # durations for the next run's split
    r = _bash(CI / "merge.sh", tmp_path / "half", both[0])
    assert r.returncode == 1 and "shard 2/2 missing from the merge" in r.stdout, r.stdout[-3000:]
