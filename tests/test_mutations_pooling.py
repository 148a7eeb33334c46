"""Injected bugs in the pooling twins turn the suite red (see tests/test_mutations.py).

Each mutation copies impls/, changes one line of impls/functional/pooling.py, and runs
the check that should catch it, for one class, against the copy."""

from __future__ import annotations

import shutil

import pytest

from tests.suite_runner import ROOT, run_suite
from tests import test_mutations as core
from tests.test_mutations import Mutation

pytestmark = pytest.mark.slow

MUTATIONS = [
    # torch: every NaN replaces the running max, so the last NaN of a window wins.
    Mutation("max-pool-first-nan-wins", "functional/pooling.py",
             "        m |= np.isnan(v)\n",
             "        m |= np.isnan(v) & ~np.isnan(best)\n",
             "MaxPool1d", ("properties/test_special_values.py",),
             "MaxPool1d special_values: the twin disagrees with torch.nn.MaxPool1d"),
    # In ceil mode the count_include_pad divisor must still count the padding (clipped to L + p).
    Mutation("avg-pool-count_include_pad-ignored-in-ceil-mode", "functional/pooling.py",
             "    counts = w.broadcast(full if count_include_pad else inside)\n",
             "    counts = w.broadcast(full if count_include_pad and not w.ceil_mode else inside)\n",
             "AvgPool2d", ("properties/test_forward.py",),
             "AvgPool2d forward: the twin disagrees with torch.nn.AvgPool2d"),
    # Adaptive windows end at ceil((i + 1) L / o): with floor they stop overlapping and miss elements.
    Mutation("adaptive-window-end-floored", "functional/pooling.py",
             "    return (i * L) // o, ((i + 1) * L + o - 1) // o\n",
             "    return (i * L) // o, ((i + 1) * L) // o\n",
             "AdaptiveAvgPool1d", ("properties/test_forward.py",),
             "AdaptiveAvgPool1d forward: the twin disagrees with torch.nn.AdaptiveAvgPool1d"),
    # In ceil mode a last window that would start in the right padding is dropped.
    Mutation("ceil-mode-window-starting-in-padding-kept", "functional/pooling.py",
             "        o -= 1\n",
             "        pass\n",
             "MaxPool2d", ("properties/test_forward.py",),
             "MaxPool2d forward: the twin disagrees with torch.nn.MaxPool2d"),
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_injected_pooling_bug_turns_the_suite_red(mutation, tmp_path):
    core.test_injected_bug_turns_the_suite_red(mutation, tmp_path)  # the same procedure as the core mutations


def test_unmutated_pooling_copy_passes(tmp_path):
    """Control: the same procedure without a change is green (so red above means the bug)."""
    shutil.copytree(ROOT / "impls", tmp_path / "impls_mutant", ignore=shutil.ignore_patterns("__pycache__"))
    tests = sorted({t for m in MUTATIONS for t in m.tests})
    result = run_suite(*tests, "--impl", "impls_mutant", "--nn", ",".join(sorted({m.cls for m in MUTATIONS})), pythonpath=[tmp_path])
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
