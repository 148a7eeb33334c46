"""Warning parity (part of the forward check): the comparison of categories, the
engine hearing both sides (construction and forward), the verdict reaching the
record, every catalogued class judged, and a quiet suite output."""

from __future__ import annotations

import json
import subprocess
import sys
import types
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, find, settings

import impls
from nnparity.case import Case
from nnparity.catalog import load_catalog
from nnparity.cases import case_strategy
from nnparity.checks.values import forward_body
from nnparity.engine import Pair, forward_arrays
from nnparity.impl import Impl
from nnparity.results import harm_kind
from nnparity.warnings_parity import LABEL, ONCE_PER_PROCESS, Ears, Heard, compare_warnings

from .suite_runner import ROOT

CATALOG = load_catalog().entries


class Custom(UserWarning):
    pass


def H(category, message="m"):
    return Heard(category, message)


@pytest.mark.parametrize("twin, torch, ok, words", [
    ([], [], True, ""),
    ([H(UserWarning)], [H(UserWarning)], True, ""),
    ([H(Custom, "other words")], [H(UserWarning)], True, ""),  # a subclass of torch's category
    ([H(UserWarning), H(UserWarning)], [H(UserWarning)], True, ""),  # the same warning twice counts once
    ([H(Warning)], [H(UserWarning)], False, "twin warns Warning('m'), torch UserWarning (not a subclass)"),
    ([H(Warning, "x")], [H(UserWarning)], False, "torch warns UserWarning('m'); twin does not; twin warns "
                                                "Warning('x')"),  # a superclass is not enough
    ([], [H(UserWarning)], False, "torch warns UserWarning('m'); twin does not"),
    ([H(RuntimeWarning, "invalid value")], [], False, "twin warns RuntimeWarning('invalid value')"),
    ([H(DeprecationWarning)], [H(UserWarning)], False, "twin warns DeprecationWarning('m'), torch UserWarning (not a "
                                                       "subclass)"),
    ([H(UserWarning, "a")], [H(UserWarning, "a"), H(UserWarning, "b")], False, "torch warns UserWarning('b')"),
    ([H(UserWarning, "b"), H(FutureWarning, "a")], [H(FutureWarning, "a"), H(UserWarning, "b")], True, ""),
])
def test_compare_warnings(twin, torch, ok, words):
    c = compare_warnings(twin, torch)
    assert c.ok is ok and c.what == LABEL
    assert (c.problem is None) if ok else (c.problem.startswith("warnings differ: ") and words in c.problem), c.problem


def test_ears_hear_through_filters_swallow_and_keep_what_they_heard_on_an_exception():
    ears = Ears()
    with warnings.catch_warnings(record=True) as outside:
        warnings.simplefilter("ignore")  # whatever the filters outside say
        with ears.listen("twin"):
            warnings.warn("one", UserWarning)
        with pytest.raises(ValueError):
            with ears.listen("torch"):
                warnings.warn("two", RuntimeWarning)
                raise ValueError
    warnings.simplefilter("always")
    assert not outside
    assert [(h.category, h.message) for h in ears.heard["twin"]] == [(UserWarning, "one")]
    assert [(h.category, h.message) for h in ears.heard["torch"]] == [(RuntimeWarning, "two")]


# -- through the engine ----------------------------------------------------------------
def _package(name, **classes) -> Impl:
    """impls with some classes replaced (a package under test, in memory)."""
    nn = types.ModuleType(f"{name}.nn")
    nn.__dict__.update({k: v for k, v in vars(impls.nn).items() if not k.startswith("__")})
    nn.__dict__.update(classes)
    package = types.ModuleType(name)
    package.nn, package.vjp, package.__file__ = nn, impls.vjp, impls.__file__
    return Impl(name, package)


class SilentMSELoss(impls.nn.MSELoss):
    def __init__(self, *args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            super().__init__(*args, **kwargs)

    def forward(self, input, target):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return super().forward(input, target)


class NoisyReLU(impls.nn.ReLU):
    def forward(self, input):
        warnings.warn("overflow encountered", RuntimeWarning)
        return super().forward(input)


def _warnings_verdict(impl, case):
    [c] = [c for c in forward_body(CATALOG[case.entry], impl)(case) if c.what == LABEL]
    return c


MISMATCHED = Case("MSELoss", {}, (np.zeros((2, 3), np.float32), np.zeros((3,), np.float32)))
LEGACY = Case("MSELoss", {"size_average": False}, (np.zeros(3, np.float32), np.zeros(3, np.float32)))


def test_a_twin_missing_torchs_warning_fails_the_forward_check_and_the_real_twin_passes():
    silent = _package("silentmse", MSELoss=SilentMSELoss)
    for case, words in ((MISMATCHED, "Using a target size"), (LEGACY, "size_average and reduce args")):
        c = _warnings_verdict(silent, case)  # the forward's warning, and the constructor's
        assert not c.ok and "torch warns UserWarning" in c.problem and words in c.problem, c.problem
        assert _warnings_verdict(Impl("impls", impls), case).ok


def test_a_twin_warning_torch_does_not_give_fails_and_is_a_warnings_discrepancy():
    case = Case("ReLU", {}, (np.array([1.0, -2.0], np.float32),))
    c = _warnings_verdict(_package("noisyrelu", ReLU=NoisyReLU), case)
    assert not c.ok and "twin warns RuntimeWarning('overflow encountered')" in c.problem
    from nnparity.records import Record

    rec = Record(entry="ReLU", check="forward", verdict="fail", what=c.what, problem=c.problem)
    assert harm_kind(rec) == "warnings"


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_warning_parity_runs_for_every_catalogued_class(name):
    entry = CATALOG[name]
    strategy = case_strategy(entry, "float32", "cpu", entry.modes()[0], check="forward")
    case = find(strategy, lambda c: True, settings=settings(database=None, suppress_health_check=list(HealthCheck)))
    twin, ref = forward_arrays(Pair(entry, case, Impl("impls", impls)))
    assert isinstance(ref[LABEL], list) and isinstance(twin[LABEL], list)
    [c] = [c for c in forward_body(entry, Impl("impls", impls))(case) if c.what == LABEL]
    assert c.ok, c.problem


@pytest.mark.slow
def test_the_suite_output_shows_no_judged_warnings():
    """Classes whose drawn cases make torch warn (losses with broadcast targets and
    legacy arguments, KLDiv 'mean', softmax without dim, zero-element Linear): the
    output of every check on them carries none of those warnings."""
    res = subprocess.run([sys.executable, "-m", "pytest", "properties", "-p", "no:cacheprovider", "-p", "no:xdist",
                          "-q", "--nn=MSELoss,L1Loss,KLDivLoss,Softmax,LogSoftmax,Linear,Dropout",
                          "--hypothesis-profile=ci", "-k", "not cuda and not test_api"],
                         cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stdout[-3000:]
    for words in ("Using a target size", "size_average and reduce", "divides the total loss", "Implicit dimension",
                  "zero-element tensors", "RuntimeWarning"):
        assert words not in res.stdout, words


ONCE_SCRIPT = r"""
import json, warnings, numpy as np
warnings.simplefilter("always")
out = {}
with warnings.catch_warnings(record=True) as heard:
    warnings.simplefilter("always")
    if SIDE == "torch":
        import torch
        m = torch.nn.Conv1d(1, 1, 4, padding="same")
        for _ in range(3):
            m(torch.zeros(1, 1, 6))
    else:
        import impls
        m = impls.nn.Conv1d(1, 1, 4, padding="same")
        for _ in range(3):
            m(impls.Tensor(np.zeros((1, 1, 6), np.float32)))
print(json.dumps([[w.category.__name__, str(w.message)] for w in heard]))
"""


@pytest.mark.parametrize("message", ONCE_PER_PROCESS)
def test_warnings_torch_gives_once_per_process_are_given_once_by_the_twin(message):
    """TORCH_WARN_ONCE warnings are left out of the per-case matching (whichever call
    runs first in a process hears them); here each side runs in a fresh process and
    must give the warning exactly once over three calls, with the same category."""
    heard = {}
    for side in ("torch", "twin"):
        res = subprocess.run([sys.executable, "-c", f"SIDE = {side!r}\n" + ONCE_SCRIPT], cwd=ROOT,
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-2000:]
        heard[side] = [(c, m) for c, m in json.loads(res.stdout.strip().splitlines()[-1]) if m.startswith(message)]
    assert len(heard["torch"]) == 1, heard  # the premise: torch warns once
    # torch appends where in C++ it was triggered; the category and the count must agree
    assert [c for c, _ in heard["twin"]] == [c for c, _ in heard["torch"]], heard
