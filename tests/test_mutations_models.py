"""Injected bugs in the containers, init and SGD twins turn tests/test_models_phase1.py red.

Same procedure as tests/test_mutations.py: copy impls/ under another name, change
one place, run the models checks against the copy through ``--impl``; the run must
fail and name the check that caught the bug.
"""

from __future__ import annotations

import shutil

import pytest

from tests.suite_runner import ROOT, run_suite
from tests.test_mutations import Mutation

pytestmark = pytest.mark.slow

TESTS = ("tests/test_models_phase1.py",)

_WD = """        if weight_decay != 0:
            g = g + weight_decay * param
"""
_MOMENTUM = """        if momentum != 0:
            if buf is None:
                buf = g.copy()
            else:
                buf = momentum * buf + (1 - dampening) * g
            if nesterov:
                g = g + momentum * buf
            else:
                g = buf
"""

MUTATIONS = [
    Mutation("sgd-dampening-on-first-step", "optim/sgd.py",
             "                buf = g.copy()", "                buf = (1 - dampening) * g",
             "SGD", TESTS + ("-k", "lockstep_examples"), "SGD lockstep dampening"),
    Mutation("sgd-nesterov-ignored", "optim/sgd.py",
             "            if nesterov:\n", "            if False:\n",
             "SGD", TESTS + ("-k", "lockstep_examples"), "SGD lockstep nesterov"),
    Mutation("sgd-weight-decay-after-momentum", "optim/sgd.py", _WD + _MOMENTUM, _MOMENTUM + _WD,
             "SGD", TESTS + ("-k", "lockstep_examples"), "SGD lockstep weight decay with momentum"),
    Mutation("kaiming-uniform-fan-out-under-fan-in", "nn/init.py",
             "    std = _kaiming_std(tensor, a, mode, nonlinearity)\n    if std is None:\n        return tensor\n    bound",
             "    std = _kaiming_std(tensor, a, 'fan_out' if mode == 'fan_in' else mode, nonlinearity)\n"
             "    if std is None:\n        return tensor\n    bound",
             "init", TESTS + ("-k", "init_statistics"), "init.kaiming_uniform_ statistics"),
    Mutation("sequential-slice-drops-the-keys", "nn/container.py",
             "return self.__class__(OrderedDict(list(self._modules.items())[idx]))",
             "return self.__class__(*list(self._modules.values())[idx])",
             "Sequential", TESTS + ("-k", "containers"), "containers: Sequential[1:] keeps its keys"),
]


def _mutant(tmp_path):
    package = tmp_path / "impls_mutant"
    shutil.copytree(ROOT / "impls", package, ignore=shutil.ignore_patterns("__pycache__"))
    return package


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_injected_bug_turns_the_models_checks_red(mutation, tmp_path):
    target = _mutant(tmp_path) / mutation.path
    source = target.read_text()
    assert source.count(mutation.old) == 1, f"mutation {mutation.id}: target not found exactly once in impls/{mutation.path}"
    target.write_text(source.replace(mutation.old, mutation.new))
    result = run_suite(*mutation.tests, "--impl", "impls_mutant", pythonpath=[tmp_path])
    out = result.stdout + result.stderr
    assert result.returncode == 1, f"the models checks did not fail on mutation {mutation.id}:\n{out[-3000:]}"
    assert mutation.expect in out, f"mutation {mutation.id}: failure does not mention {mutation.expect!r}:\n{out[-3000:]}"


def test_unmutated_copy_passes(tmp_path):
    """Control: the same procedure without a change is green (so red above means the bug)."""
    _mutant(tmp_path)
    result = run_suite(*TESTS, "--impl", "impls_mutant", pythonpath=[tmp_path])
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
