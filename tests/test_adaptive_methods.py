"""AdaptiveLogSoftmaxWithLoss.log_prob and .predict against torch.

The catalog entry covers forward; these methods are not forward, so they are
checked here: random configurations from the catalog's kwargs strategy, the same
standard-normal state loaded into both sides, random inputs, torch's default
tolerances (torch.testing.assert_close), float32 and float64. As in the harness
(DESIGN.md, Tolerances), a float32 value that misses torch's float32 result is
accepted only when it is within the same tolerance of torch in float64 on the
same case (the oracle): both sides then differ by float32 rounding.

Gradients of log_prob go through ``impls.vjp``, which takes anything with
``forward`` and ``named_parameters``: a duck-typed adapter whose ``forward`` is
the bound method ``log_prob`` (parameter names stay the module's own).
"""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from properties.catalog.adaptive import asm_kwargs
from nnparity.catalog import default_state
from properties.strategies import float_arrays

DTYPES = {"float32": torch.float32, "float64": torch.float64}
_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def SETTINGS(test):
    """25 examples; under the ci profile a fixed seed, as the property driver does."""
    test = _SETTINGS(test)
    return seed(0)(test) if settings.get_current_profile_name() == "ci" else test


@st.composite
def configurations(draw, dtype):
    kw = draw(asm_kwargs())
    n = draw(st.integers(0, 6))
    x = draw(float_arrays((n, kw["in_features"]), np.dtype(dtype), -5.0, 5.0))
    seed = draw(st.integers(0, 2**31 - 1))
    return kw, x, seed


def _pair(impl, kw, dtype, seed):
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(**kw, dtype=DTYPES[dtype])
    twin = impl.nn.AdaptiveLogSoftmaxWithLoss(**kw, dtype=np.dtype(dtype))
    torch_state = {k: v.numpy() for k, v in tm.state_dict().items()}
    state = default_state(torch_state, [n for n, _ in tm.named_parameters()], np.random.default_rng(seed))
    tm.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    twin.load_state_dict({k: v.copy() for k, v in state.items()})
    return tm, twin, state


def _oracle_log_prob(kw, state, x, cot):
    """torch in float64 on the upcast case: log_prob, its input and parameter grads."""
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(**kw, dtype=torch.float64)
    tm.load_state_dict({k: torch.from_numpy(v.astype(np.float64)) for k, v in state.items()})
    tx = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
    out = tm.log_prob(tx)
    out.backward(torch.from_numpy(cot.astype(np.float64)))
    grads = {name: (p.grad if p.grad is not None else torch.zeros_like(p)) for name, p in tm.named_parameters()}
    return {"value": out.detach(), "grad input": tx.grad, **{f"grad {k}": v for k, v in grads.items()}}


def _assert_close(label, got, ref, oracle, kw):
    """assert_close against torch; for float32, the float64 oracle arbitrates a miss."""
    try:
        torch.testing.assert_close(got, ref)
    except AssertionError as first:
        if got.dtype != torch.float32 or oracle is None:
            raise AssertionError(f"{label} {kw}: {first}") from None
        try:
            torch.testing.assert_close(got.double(), oracle[label], rtol=1.3e-6, atol=1e-5)
        except AssertionError as second:
            raise AssertionError(f"{label} {kw}: {first}\nand against the float64 oracle: {second}") from None


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_log_prob_matches_torch(impl, dtype):
    @SETTINGS
    @given(case=configurations(dtype))
    def run(case):
        kw, x, seed = case
        tm, twin, state = _pair(impl, kw, dtype, seed)
        tx = torch.from_numpy(x.copy()).requires_grad_(True)
        expected = tm.log_prob(tx)
        cot = np.random.default_rng(seed).standard_normal(tuple(expected.shape)).astype(x.dtype)
        oracle = _oracle_log_prob(kw, state, x, cot) if dtype == "float32" else None
        got = twin.log_prob(x.copy())
        assert isinstance(got, np.ndarray) and got.dtype == x.dtype
        _assert_close("value", torch.from_numpy(got), expected.detach(), oracle, kw)

        params = [p for _, p in tm.named_parameters()]
        expected.backward(torch.from_numpy(cot))
        adapter = types.SimpleNamespace(forward=twin.log_prob, named_parameters=twin.named_parameters)
        (gx,), pgrads = impl.vjp(adapter, (x.copy(),), cot)
        _assert_close("grad input", torch.from_numpy(gx), tx.grad, oracle, kw)
        for name, p in tm.named_parameters():
            ref = p.grad if p.grad is not None else torch.zeros_like(p)
            _assert_close(f"grad {name}", torch.from_numpy(pgrads[name]), ref, oracle, kw)
        assert len(params) == len(pgrads)

    run()


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_predict_matches_torch(impl, dtype):
    @SETTINGS
    @given(case=configurations(dtype))
    def run(case):
        kw, x, seed = case
        tm, twin, _ = _pair(impl, kw, dtype, seed)
        with torch.no_grad():
            expected = tm.predict(torch.from_numpy(x.copy())).numpy()
        got = twin.predict(x.copy())
        assert got.dtype == np.int64 and got.shape == expected.shape, (got.dtype, got.shape, expected.shape)
        np.testing.assert_array_equal(got, expected, err_msg=f"predict {kw}")
        # torch documents predict as log_prob(input).argmax(dim=1). That holds only up
        # to ties: predict takes the head's argmax on the raw logits, which can tell
        # apart logits that log_softmax rounds to equal values (e.g. x ~ 1e-41). So
        # the twin's choice must have the maximal log-probability, within tolerance.
        if x.shape[0]:
            lp = twin.log_prob(x.copy())
            rows = np.arange(x.shape[0])
            torch.testing.assert_close(torch.from_numpy(lp[rows, got]), torch.from_numpy(lp.max(axis=1)),
                                       msg=lambda m: f"predict does not pick a most likely class {kw}: {m}")

    run()


def test_methods_reject_1d_input_like_torch(impl):
    kw = {"in_features": 4, "n_classes": 6, "cutoffs": [2]}
    x = np.zeros(4, np.float32)
    twin, tm = impl.nn.AdaptiveLogSoftmaxWithLoss(**kw), torch.nn.AdaptiveLogSoftmaxWithLoss(**kw)
    for name in ("log_prob", "predict"):
        with pytest.raises(IndexError):
            getattr(tm, name)(torch.from_numpy(x))
        with pytest.raises(IndexError):
            getattr(twin, name)(x)
