"""Injected bugs turn the suite red.

Each mutation copies impls/ to a package of another name, changes one line of one
twin, and runs the conformance checks for that class against the copy through
``--impl``. The suite must fail, in the check that should catch the bug. A
mutation whose target line is missing fails loudly (the twin was refactored: update
the mutation, do not delete it).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import pytest

from tests.suite_runner import ROOT, run_suite

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Mutation:
    id: str
    path: str  # inside impls/
    old: str
    new: str
    cls: str
    tests: tuple  # test files to run
    expect: str  # text the failure output must contain


MUTATIONS = [
    Mutation("wrong-sign-in-tanh-backward", "functional/activation.py",
             "return op(out, (x,), lambda g: (g * (1 - out * out),))",
             "return op(out, (x,), lambda g: (-g * (1 - out * out),))",
             "Tanh", ("properties/test_gradients.py", "properties/test_gradcheck.py"),
             "Tanh gradients: the twin disagrees with torch.nn.Tanh"),
    Mutation("dropout-missing-1/(1-p)", "functional/dropout.py",
             "noise = keep.astype(dt) / np.asarray(1 - p, dtype=dt)",
             "noise = keep.astype(dt)",
             "Dropout", ("properties/test_forward.py", "properties/test_randomness.py"),
             "Dropout forward: the twin disagrees with torch.nn.Dropout"),
    Mutation("batchnorm-biased-running-var", "functional/normalization.py",
             "unbiased = var * (n / (n - 1)) if n > 1 else np.full_like(var, np.nan)",
             "unbiased = var",
             "BatchNorm1d", ("properties/test_forward.py", "properties/test_train_eval.py"),
             "state running_var after forward"),
    Mutation("cross-entropy-ignore-index-dropped", "functional/classification.py",
             "return valid, np.where(valid, t, 0).astype(np.int64, copy=False)",
             "return np.ones_like(valid), np.where(valid, t, 0).astype(np.int64, copy=False)",
             "CrossEntropyLoss", ("properties/test_forward.py",),
             "CrossEntropyLoss forward: the twin disagrees with torch.nn.CrossEntropyLoss"),
    Mutation("linear-transposed-weight-gradient", "functional/linear.py",
             "gw = (g2.T @ x.data.reshape(rows, w.shape[1])) if weight.requires_grad else None",
             "gw = (x.data.reshape(rows, w.shape[1]).T @ g2).reshape(w.shape) if weight.requires_grad else None",
             "Linear", ("properties/test_gradients.py",),
             "grad weight"),
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_injected_bug_turns_the_suite_red(mutation, tmp_path):
    package = tmp_path / "impls_mutant"
    shutil.copytree(ROOT / "impls", package, ignore=shutil.ignore_patterns("__pycache__"))
    target = package / mutation.path
    source = target.read_text()
    assert source.count(mutation.old) == 1, f"mutation {mutation.id}: target line not found exactly once in impls/{mutation.path}"
    target.write_text(source.replace(mutation.old, mutation.new))
    # -x: the first failing test is the evidence; the rest would only shrink the same bug again
    result = run_suite(*mutation.tests, "-x", "--impl", "impls_mutant", "--nn", mutation.cls, pythonpath=[tmp_path])
    out = result.stdout + result.stderr
    assert result.returncode == 1, f"the suite did not fail on mutation {mutation.id}:\n{out[-3000:]}"
    assert mutation.expect in out, f"mutation {mutation.id}: failure does not mention {mutation.expect!r}:\n{out[-3000:]}"


def test_unmutated_copy_passes(tmp_path):
    """Control: the same procedure without a change is green (so red above means the bug)."""
    shutil.copytree(ROOT / "impls", tmp_path / "impls_mutant", ignore=shutil.ignore_patterns("__pycache__"))
    tests = sorted({t for m in MUTATIONS for t in m.tests})
    result = run_suite(*tests, "--impl", "impls_mutant", "--nn", ",".join(sorted({m.cls for m in MUTATIONS})), pythonpath=[tmp_path])
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
