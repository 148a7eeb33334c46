"""The harness's checks can fail, and none passes in silence.

Each test here drives a check (in-process, through the same driver and records the
suite uses) on a case or a deliberately wrong twin where it must turn red, or be
recorded as not judged, or as a harness error: the places a review found where a
check could not fail, or passed without judging anything.
"""

from __future__ import annotations

import types

import numpy as np
import pytest
from hypothesis import strategies as st

import impls
from impls.autograd import op
from nnparity.case import Case
from nnparity.catalog import Catalog, Entry, Inputs, Invalid
from nnparity.checks import api, coverage, errors, gradcheck
from nnparity.compare import Comparison, Tolerance, resolve_tolerance
from nnparity.driver import Harness
from nnparity.engine import CatalogError, TwinRaised
from nnparity.impl import Impl, load_impl
from nnparity.oracle import arbitrate
from nnparity.records import RecordWriter, load_records

IMPLS = load_impl("impls")


def fake_impl(**classes) -> Impl:
    """The impls package with some classes replaced (a deliberately wrong twin)."""
    nn = types.SimpleNamespace(**{n: getattr(impls.nn, n) for n in dir(impls.nn) if not n.startswith("_")})
    for name, cls in classes.items():
        setattr(nn, name, cls)
    return Impl("fake", types.SimpleNamespace(nn=nn, vjp=impls.vjp, __file__=impls.__file__))


def harness(tmp_path, impl=IMPLS, test_id="tests/test_harness_checks.py::case"):
    return Harness(test_id, impl, RecordWriter(tmp_path, "t"), "ci")


def elementwise_entry(name, kwargs, values):
    return Entry(name=name, kwargs=st.just(kwargs),
                 inputs=lambda kw, dt, layout: st.just(Inputs((np.asarray(values, dtype=dt),))))


def gradcheck_case(name, kwargs, values):
    return Case(name, kwargs, (np.asarray(values, np.float64),), dtype="float64", device="cpu", mode="train", seed=3)


# -- gradcheck at kinks ------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs", [
    ("ELU", {"alpha": 0.998046875}),  # issue 17's seed 901: slopes 1 and 0.998 at 0
    ("LeakyReLU", {"negative_slope": 0.998046875}),
    ("ReLU", {}),
    ("Hardtanh", {}),
])
def test_small_and_large_kinks_accept_the_twins_subgradient(name, kwargs):
    """Regression examples: a correct twin at a kink (x = 0, x = +-1 for Hardtanh)
    passes, and the point is recorded as a kink, not averaged into a false alarm."""
    values = [0.0, -1.0, 1.0, 0.375, -0.625]
    comparisons = gradcheck.body(elementwise_entry(name, kwargs, values), IMPLS)(gradcheck_case(name, kwargs, values))
    [c] = comparisons
    assert c.ok, c
    assert c.extra["coordinates"]["kink"] >= 1 and c.extra["coordinates"]["smooth"] >= 2, c.extra


class WrongLeakyReLU(impls.nn.LeakyReLU):
    """Backward gives 1 for x < 0 (the slope there is negative_slope)."""

    def forward(self, x):
        s = self.negative_slope
        return op(np.where(x.data > 0, x.data, s * x.data), (x,), lambda g: (g * 1.0,))


class WrongELU(impls.nn.ELU):
    """A wrong subgradient at the kink only: 0.5 at x = 0 (the one-sided slopes are alpha and 1)."""

    def forward(self, x):
        d = x.data
        out = np.where(d > 0, d, self.alpha * np.expm1(d))
        return op(out, (x,), lambda g: (g * np.where(d > 0, 1.0, np.where(d == 0, 0.5, self.alpha * np.exp(d))),))


@pytest.mark.parametrize("name, cls, kwargs, values", [
    ("LeakyReLU", WrongLeakyReLU, {"negative_slope": 0.998046875}, [-0.5, 0.25]),
    ("ELU", WrongELU, {"alpha": 0.998046875}, [0.0]),
])
def test_a_wrong_derivative_at_or_beside_a_small_kink_is_caught(name, cls, kwargs, values):
    impl = fake_impl(**{name: cls})
    [c] = gradcheck.body(elementwise_entry(name, kwargs, values), impl)(gradcheck_case(name, kwargs, values))
    assert not c.ok and c.reference == "finite differences" and c.subject == "twin", c


def test_every_coordinate_on_a_kink_is_not_judged(tmp_path):
    entry = elementwise_entry("ReLU", {}, [0.0, 0.0, 0.0])
    nnp = harness(tmp_path)
    with pytest.raises(pytest.fail.Exception, match="NOT JUDGED"):
        gradcheck.run(nnp, entry, mode="train", method="")
    [rec] = load_records(tmp_path)
    assert rec.verdict == "not-judged" and rec.check == "gradcheck" and rec.examples_run == 0


def test_gradcheck_records_the_bound_it_applied(tmp_path):
    entry = elementwise_entry("Tanh", {}, [0.5, -2.0])
    gradcheck.run(harness(tmp_path), entry, mode="train", method="")
    [rec] = load_records(tmp_path)
    assert rec.verdict == "pass" and rec.reference == "finite differences" and rec.subject == "twin"
    assert rec.rtol == gradcheck.REL and rec.atol >= gradcheck.ABS  # 1e-6 + 1e-8 S at the worst coordinate
    assert "1e-08*S" in rec.extra["bound"]


# -- the driver ---------------------------------------------------------------------------
def _case(i):
    return Case("ReLU", {}, (np.array([float(i)], np.float32),), seed=i)


def _passing(case):
    return [Comparison("output", True, Tolerance(0, 0, "exact"), headroom=0.0)]


def test_a_strategy_that_yields_too_few_examples_is_an_error(tmp_path):
    entry = elementwise_entry("ReLU", {}, [1.0])
    nnp = harness(tmp_path)
    with pytest.raises(pytest.fail.Exception, match="strategy too narrow"):
        nnp.fuzz(entry, "forward", st.sampled_from([_case(1), _case(2)]), _passing, dtype="float32", device="cpu",
                 mode="train")
    [rec] = load_records(tmp_path)
    from hypothesis import settings

    assert rec.verdict == "error" and rec.examples_run == 2 and rec.examples_planned == settings().max_examples


@pytest.mark.parametrize("exc, verdict", [
    (TwinRaised("the twin's forward raised ValueError"), "fail"),
    (CatalogError("torch.nn.ReLU raised TypeError on a drawn case"), "error"),
    (KeyError("a bug in the harness"), "error"),
])
def test_who_raised_decides_the_verdict(tmp_path, exc, verdict):
    entry = elementwise_entry("ReLU", {}, [1.0])

    def body(case):
        raise exc

    with pytest.raises(BaseException):
        harness(tmp_path).fuzz(entry, "forward", st.builds(_case, st.integers(0, 9)), body, dtype="float32",
                               device="cpu", mode="train")
    [rec] = load_records(tmp_path)
    assert rec.verdict == verdict, rec.message


def test_oracle_failures_are_recorded_on_the_comparisons_they_could_not_arbitrate():
    bad = Comparison("output", False, Tolerance(1e-6, 1e-6, "r"), headroom=5.0, worst_index=(0,))

    def oracle():
        raise RuntimeError("torch float64 failed")

    [c] = arbitrate([bad], oracle, {"output": np.zeros(1)}, {"output": np.ones(1)})
    assert not c.ok and "torch float64 failed" in c.extra["oracle_error"]


def test_a_failure_replays_first_from_the_example_database(tmp_path):
    """The shrunk failing case is stored under the check's own key (public Hypothesis
    API: a keyed database) and is the first example the next run sees."""
    from hypothesis import settings
    from hypothesis.database import DirectoryBasedExampleDatabase

    class Recording(DirectoryBasedExampleDatabase):
        keys: set = set()

        def save(self, key, value):
            self.keys.add(key)
            super().save(key, value)

    entry = elementwise_entry("ReLU", {}, [1.0])
    strategy = st.builds(_case, st.integers(0, 10_000))
    seen = []

    def body(case):
        seen.append(int(case.args[0][0]))
        ok = case.args[0][0] < 5000
        return [Comparison("output", ok, Tolerance(0, 0, "exact"), headroom=0.0 if ok else 2.0, worst_index=(0,))]

    db = Recording(str(tmp_path / "db"))
    settings.register_profile("replay-test", max_examples=50, database=db, deadline=None)
    previous = settings.get_current_profile_name()
    settings.load_profile("replay-test")
    try:
        firsts = []
        for _ in range(2):
            seen.clear()
            with pytest.raises(AssertionError):
                Harness("t", IMPLS, None, "dev").fuzz(entry, "forward", strategy, body, dtype="float32", device="cpu",
                                                      mode="train")
            firsts.append(seen[0])
        assert firsts[1] == 5000, firsts  # the second run starts from the shrunk failure
        ours = [k for k in db.keys if not k.startswith(b".hypothesis")]  # the directory database's own index
        assert ours and all(k.startswith(b"ReLU/forward/float32/cpu/train/\x00") for k in ours), db.keys
    finally:
        settings.load_profile(previous)


# -- errors, coverage, tolerances, api ------------------------------------------------------
def test_errors_applies_the_invalid_cases_mode(tmp_path):
    """torch rejects one value per channel in training only: in eval the same case is
    accepted, so an eval-mode Invalid is stale. (Before, the mode was recorded and
    never applied: both passed.)"""
    x = lambda dt: Inputs((np.zeros((1, 3), dt),))  # noqa: E731
    for mode, ok in (("train", True), ("eval", False)):
        entry = Entry(name="BatchNorm1d", kwargs=st.just({"num_features": 3}), inputs=lambda kw, dt, l: st.nothing(),
                      factory_kwargs=True,
                      invalid=(Invalid("one-value-per-channel", {"num_features": 3}, x, mode=mode),))
        nnp = harness(tmp_path / mode)
        if ok:
            errors.run(nnp, entry, dtype="float64", device="cpu", invalid=entry.invalid[0])
        else:
            with pytest.raises(AssertionError, match="torch accepts"):
                errors.run(nnp, entry, dtype="float64", device="cpu", invalid=entry.invalid[0])


def test_stale_scope_placements_fail():
    base = Catalog({"ReLU": types.SimpleNamespace(torch_class=True)}, {"Module": "abstract"}, {}, "test")
    stale = base._replace(not_yet={"ReLU": "not yet"})
    assert any("stale" in p for p in coverage.problems(stale))
    assert not any("stale" in p for p in coverage.problems(base))


def test_tolerance_keys_are_validated_and_have_a_device():
    with pytest.raises(ValueError, match="'forwrd' is not a check kind"):
        Entry(name="ReLU", kwargs=st.just({}), inputs=lambda *a: st.nothing(),
              tolerances={"forwrd:float32": Tolerance(1e-5, 1e-5, "typo")})
    t = {"float32": Tolerance(1, 1, "a"), "forward:float32": Tolerance(2, 2, "b"), "forward:float32:cuda": Tolerance(3, 3, "c")}
    assert resolve_tolerance(t, "forward", "float32", "cpu").reason == "b"
    assert resolve_tolerance(t, "forward", "float32", "cuda").reason == "c"
    assert resolve_tolerance(t, "gradients", "float32", "cpu").reason == "a"
    assert "CUDA policy" in resolve_tolerance({}, "forward", "float32", "cuda").reason


class ReLUWithAnotherDefault(impls.nn.ReLU):
    def __init__(self, inplace: bool = True):
        super().__init__(inplace)


def test_api_check_sees_a_wrong_default_and_repr():
    entry = Entry(name="ReLU", kwargs=st.just({}), inputs=lambda *a: st.nothing())
    case = Case("ReLU", {}, ())
    bad = [c for c in api.body(entry, fake_impl(ReLU=ReLUWithAnotherDefault))(case) if not c.ok]
    assert {c.what for c in bad} >= {"constructor signature", "repr"}, bad
    assert all(c.ok for c in api.body(entry, IMPLS)(case))


def test_domains_narrow_one_check_only():
    from nnparity.cases import case_strategy

    wide = lambda kw, dt, l: st.just(Inputs((np.array([100.0], dt),)))  # noqa: E731
    narrow = lambda kw, dt, l: st.just(Inputs((np.array([0.5], dt),)))  # noqa: E731
    from hypothesis import find

    entry = Entry(name="Tanh", kwargs=st.just({}), inputs=wide, domains={"gradcheck": narrow})
    for check, value in (("forward", 100.0), ("gradients", 100.0), ("gradcheck", 0.5)):
        case = find(case_strategy(entry, "float64", "cpu", "train", check=check), lambda c: True)
        assert case.args[0][0] == value, check
