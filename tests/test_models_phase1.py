"""Phase-1 checks of the models family: containers and the Module API, torch.nn.init,
and torch.optim.SGD (issue 14). Temporary: each test calls a catalog function of
properties/catalog/models.py, which the lead moves into the ``containers``/``api``,
``randomness`` and ``training`` check kinds.

Seeds of the statistical tests: fixed under the ci profile, else --hypothesis-seed
when given, else fresh; the seed is in every failure message.
"""

from __future__ import annotations

import secrets

import numpy as np
import pytest
from hypothesis import given, seed as hypothesis_seed
from hypothesis import strategies as st

from properties.catalog import models as M


def _seed(config) -> int:
    if config.nnparity_profile == "ci":
        return 0
    given_seed = config.getoption("hypothesis_seed", None)
    return int(given_seed) if given_seed is not None else secrets.randbits(32)


def _assert_all(results, what: str) -> None:
    failed = [f"  {name}: {msg}" for name, ok, msg in results if not ok]
    assert results, f"{what}: nothing was judged"
    assert not failed, f"{what}: {len(failed)} of {len(results)} failed\n" + "\n".join(failed)


def _needs_optim(impl):
    if not hasattr(impl.package, "optim"):
        pytest.skip(f"{impl.name} has no optim package (not implemented)")


@pytest.mark.parametrize("name", list(M.INIT_STATISTICS))
def test_init_statistics(impl, name, request):
    seed = _seed(request.config)
    _assert_all(M.INIT_STATISTICS[name](impl, np.random.default_rng(seed)),
                f"init.{name} statistics (seed {seed}, false-alarm rate <= {M.ALPHA:g})")


def test_layer_default_init_statistics(impl, request):
    seed = _seed(request.config)
    _assert_all(M.layer_init_statistics(impl, np.random.default_rng(seed)),
                f"default initialisation statistics (seed {seed}, false-alarm rate <= {M.ALPHA:g})")


def test_init_exact(impl):
    _assert_all(M.init_exact_results(impl), "init: deterministic properties")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", M.SGD_EXAMPLES, ids=lambda c: c.id)
def test_sgd_lockstep_examples(impl, case, dtype):
    _needs_optim(impl)
    _assert_all(M.sgd_lockstep(impl, case, dtype, seed=0), f"SGD lockstep {case.id}")


def test_sgd_lockstep_drawn(impl, request):
    """Any valid configuration (M.sgd_configs), both dtypes; derandomised under ci."""
    _needs_optim(impl)

    @given(case=M.sgd_configs(), dtype=st.sampled_from(["float32", "float64"]), seed=st.integers(0, 2**32 - 1))
    def run(case, dtype, seed):
        _assert_all(M.sgd_lockstep(impl, case, dtype, seed), f"SGD lockstep {case}")

    if request.config.nnparity_profile == "ci":
        run = hypothesis_seed(14)(run)
    run()


def test_sgd_errors(impl):
    _needs_optim(impl)
    _assert_all(M.sgd_error_results(impl), "SGD validation")


@pytest.mark.parametrize("scenario", M.SCENARIOS, ids=lambda s: s.id)
def test_containers(impl, scenario):
    _assert_all(M.container_results(impl, [scenario]), f"containers: {scenario.id}")
