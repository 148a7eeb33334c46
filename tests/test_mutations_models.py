"""Injected bugs in the containers, init and SGD twins turn the containers check kind red.

Same procedure as tests/test_mutations.py: copy impls/ under another name, change
one place, run properties/test_containers.py against the copy through ``--impl``; the run must
fail and name the check that caught the bug.
"""

from __future__ import annotations

import shutil

import pytest

from tests.suite_runner import ROOT, run_suite
from tests.test_mutations import Mutation

pytestmark = pytest.mark.slow

TESTS = ("properties/test_containers.py",)
SGD = TESTS + ("--nn", "torch.optim.SGD", "-k", "lockstep-examples")

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
             "torch.optim.SGD", SGD, "SGD lockstep dampening"),
    Mutation("sgd-nesterov-ignored", "optim/sgd.py",
             "            if nesterov:\n", "            if False:\n",
             "torch.optim.SGD", SGD, "SGD lockstep nesterov"),
    Mutation("sgd-weight-decay-after-momentum", "optim/sgd.py", _WD + _MOMENTUM, _MOMENTUM + _WD,
             "torch.optim.SGD", SGD, "SGD lockstep weight decay with momentum"),
    Mutation("kaiming-uniform-fan-out-under-fan-in", "nn/init.py",
             "    std = _kaiming_std(tensor, a, mode, nonlinearity)\n    if std is None:\n        return tensor\n    bound",
             "    std = _kaiming_std(tensor, a, 'fan_out' if mode == 'fan_in' else mode, nonlinearity)\n"
             "    if std is None:\n        return tensor\n    bound",
             "torch.nn.init", TESTS + ("--nn", "torch.nn.init", "-k", "statistics-kaiming_uniform_"),
             "torch.nn.init containers [statistics-kaiming_uniform_]"),
    Mutation("sequential-slice-drops-the-keys", "nn/container.py",
             "return self.__class__(OrderedDict(list(self._modules.items())[idx]))",
             "return self.__class__(*list(self._modules.values())[idx])",
             "Sequential", TESTS + ("--nn", "Sequential"), "containers: Sequential[1:] keeps its keys"),
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


MUTANT_CATALOG = """
from dataclasses import replace
from properties.catalog import CATALOG as _CATALOG, NOT_YET, OUT_OF_SCOPE
from models import lenet

def twin(nn):
    model = lenet.twin(nn)
    model.fc2 = nn.Linear(120, 84, bias=False)  # the bug: one layer's bias forgotten
    return model

CATALOG = dict(_CATALOG)
CATALOG["models.LeNet"] = replace(CATALOG["models.LeNet"], model=replace(lenet.SPEC, twin=twin))
"""


def test_a_model_twin_without_one_bias_turns_the_training_check_red(tmp_path):
    """A model's twin that forgets one layer's bias (LeNet's fc2 built with bias=False),
    through a catalog (NNPARITY_CATALOG) whose LeNet twin is the mutant."""
    import os

    (tmp_path / "mutant_catalog.py").write_text(MUTANT_CATALOG)
    os.environ["NNPARITY_CATALOG"] = "mutant_catalog"
    try:
        result = run_suite("properties/test_training.py", "--nn", "models.LeNet", "-k", "float64", pythonpath=[tmp_path])
    finally:
        del os.environ["NNPARITY_CATALOG"]
    out = result.stdout + result.stderr
    assert result.returncode == 1, f"the training check did not fail on a model twin without fc2.bias:\n{out[-3000:]}"
    assert "models.LeNet" in out and "fc2.bias" in out, out[-3000:]
