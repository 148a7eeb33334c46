"""Structured inputs, realistic state and random submodules, shown on test-only
modules (a torch class and its twin, built here) through the same checks the suite
runs. Each passes with the correct twin and turns red under an injected bug.

* ``TupleCell``: a module taking a ``(h, c)`` tuple and a keyword mask: every leaf
  (``input``, ``hc[0]``, ``hc[1]``, ``mask``) gets a gradient on both sides; a twin that
  drops one leaf's gradient fails, naming that leaf.
* ``GatedUnit``: sigmoid(x Wi) * tanh(x Wc) with a large fan-in: under N(0, 1)
  parameters both gates saturate and the gradients vanish, so a twin whose backward
  swaps the two gates' derivatives agrees with torch to within tolerance; under
  torch's own initialisation (the ``init`` regime) it does not.
* ``Sequential(Linear, Dropout(0.5), Linear)`` in train mode: torch's mask, drawn in
  submodule '1', is injected into the twin's submodule '1': exact parity.
"""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import impls
from impls.autograd import Tensor, op
from impls.nn.module import Module, Parameter
from nnparity.case import Case
from nnparity.catalog import Entry, Inputs
from nnparity.checks import forward, gradcheck, gradients
from nnparity.driver import Harness
from nnparity.impl import Impl, load_impl

IMPLS = load_impl("impls")


def impl_with(**classes) -> Impl:
    nn = types.SimpleNamespace(**{n: getattr(impls.nn, n) for n in dir(impls.nn) if not n.startswith("_")}, **classes)
    return Impl("structured", types.SimpleNamespace(nn=nn, vjp=impls.vjp, __file__=impls.__file__))


# -- TupleCell: (h, c) tuple and a keyword mask --------------------------------------------
class TorchTupleCell(torch.nn.Module):
    def __init__(self, features: int, device=None, dtype=None):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(features, features, device=device, dtype=dtype))
        torch.nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)

    def forward(self, input, hc, mask=None):
        h, c = hc
        z = input @ self.weight.T + h
        c2 = torch.tanh(z) * c if mask is None else torch.tanh(z) * c * mask
        return z * torch.sigmoid(c2), c2


def _twin_tuple_cell(drop: bool = False):
    class TupleCell(Module):
        def __init__(self, features: int, device=None, dtype=None):
            super().__init__()
            self.weight = Parameter(np.zeros((features, features), dtype=dtype or np.float32))

        def forward(self, input, hc, mask=None):
            h, c = hc
            if drop:  # the injected bug: c is detached, so no gradient reaches hc[1]
                c = Tensor(c.data)
            z = input @ self.weight.T + h
            t = impls.functional.tanh(z)
            c2 = t * c if mask is None else t * c * mask
            return z * impls.functional.sigmoid(c2), c2

    return TupleCell


def _tuple_cell_entry():
    def build(nn, kw, factory, side):
        return TorchTupleCell(**kw, **factory) if side == "torch" else nn.TupleCell(**kw, **factory)

    def inputs(kw, dt, layout):
        f = kw["features"]

        @st.composite
        def draw(d):
            n = d(st.integers(1, 3))
            rng = np.random.default_rng(d(st.integers(0, 2**32 - 1)))
            a = lambda *s: rng.uniform(-2, 2, s).astype(dt)  # noqa: E731
            return Inputs((a(n, f), (a(n, f), a(n, f))), {"mask": a(n, f)})

        return draw()

    return Entry(name="TupleCell", kwargs=st.fixed_dictionaries({"features": st.integers(1, 4)}), inputs=inputs,
                 build_fn=build)


def test_every_leaf_of_a_tuple_and_a_keyword_gets_a_gradient(tmp_path):
    entry, impl = _tuple_cell_entry(), impl_with(TupleCell=_twin_tuple_cell())
    case = Case("TupleCell", {"features": 3},
                (np.ones((2, 3), np.float32), (np.ones((2, 3), np.float32), np.ones((2, 3), np.float32))),
                {"mask": np.ones((2, 3), np.float32)}, seed=1)
    labels = {c.what for c in gradients.body(entry, impl)(case)}
    assert {"grad input", "grad hc[0]", "grad hc[1]", "grad mask", "grad weight"} <= labels, labels
    nnp = Harness("t", impl, None, "ci")
    for dtype in ("float32", "float64"):
        forward.run(nnp, entry, dtype=dtype, device="cpu", mode="train", method="", example=None)
        gradients.run(nnp, entry, dtype=dtype, device="cpu", mode="train", method="", example=None)
    gradcheck.run(nnp, entry, mode="train", method="")


def test_a_twin_that_drops_a_leafs_gradient_fails_naming_the_leaf():
    entry, impl = _tuple_cell_entry(), impl_with(TupleCell=_twin_tuple_cell(drop=True))
    nnp = Harness("t", impl, None, "ci")
    with pytest.raises(AssertionError, match=r"grad hc\[1\]"):
        gradients.run(nnp, entry, dtype="float64", device="cpu", mode="train", method="", example=None)


# -- GatedUnit: a gate bug hidden by saturated N(0, 1) parameters ------------------------------
class TorchGatedUnit(torch.nn.Module):
    def __init__(self, in_features: int, hidden: int, device=None, dtype=None):
        super().__init__()
        self.weight_i = torch.nn.Parameter(torch.empty(hidden, in_features, device=device, dtype=dtype))
        self.weight_c = torch.nn.Parameter(torch.empty(hidden, in_features, device=device, dtype=dtype))
        for w in (self.weight_i, self.weight_c):
            torch.nn.init.kaiming_uniform_(w, a=5 ** 0.5)  # U(+-1/sqrt(fan_in)), as Linear

    def forward(self, input):
        return torch.sigmoid(input @ self.weight_i.T) * torch.tanh(input @ self.weight_c.T)


def _twin_gated_unit(swapped: bool):
    class GatedUnit(Module):
        def __init__(self, in_features: int, hidden: int, device=None, dtype=None):
            super().__init__()
            dt = dtype or np.float32
            self.weight_i = Parameter(np.zeros((hidden, in_features), dt))
            self.weight_c = Parameter(np.zeros((hidden, in_features), dt))

        def forward(self, input):
            a, b = input @ self.weight_i.T, input @ self.weight_c.T
            with np.errstate(over="ignore"):  # exp(-a) overflows to inf for saturated gates: s = 0, exactly
                s, t = 1 / (1 + np.exp(-a.data)), np.tanh(b.data)
                ds = s * (1 - s)
                if swapped:  # the injected bug: the input gate's derivative uses the cell gate's sigmoid
                    sc = 1 / (1 + np.exp(-b.data))
                    ds = sc * (1 - sc)
            return op(s * t, (a, b), lambda g: (g * t * ds, g * s * (1 - t * t)))

    return GatedUnit


GATED = {"in_features": 256, "hidden": 1}


def _gated_entry():
    def build(nn, kw, factory, side):
        return TorchGatedUnit(**kw, **factory) if side == "torch" else nn.GatedUnit(**kw, **factory)

    return Entry(name="GatedUnit", kwargs=st.just(GATED), build_fn=build, inputs=lambda kw, dt, layout: st.nothing())


def _caught(impl, regime: str, seeds) -> int:
    entry, n = _gated_entry(), 0
    for seed in seeds:
        x = (5 * np.random.default_rng(seed).standard_normal((1, 256))).astype(np.float32)  # inputs of size ~5
        case = Case("GatedUnit", GATED, (x,), seed=seed, state=regime)
        n += any(not c.ok for c in gradients.body(entry, impl)(case))
    return n


def test_a_gate_bug_hidden_by_saturated_parameters_is_caught_at_torchs_own_scale():
    """Over 40 seeds: with N(0, 1) parameters (the old draw, now the 'large' regime)
    the pre-activations are ~N(0, 80^2), both gates saturate and the swapped
    derivative is seen in only a few cases (6 of 40 when measured): a fuzz run of 8
    such examples misses it most of the time. At torch's own initialisation (the
    'init' regime, U(+-1/sqrt(256)) as Linear) it is caught every time. The correct
    twin passes in both."""
    buggy = impl_with(GatedUnit=_twin_gated_unit(swapped=True))
    correct = impl_with(GatedUnit=_twin_gated_unit(swapped=False))
    seeds = range(40)
    assert _caught(buggy, "large", seeds) <= 10
    assert _caught(buggy, "init", seeds) == 40
    assert _caught(correct, "large", range(5)) == _caught(correct, "init", range(5)) == 0


# -- Sequential(Linear, Dropout(0.5), Linear): noise injected by submodule path ----------------
def test_dropout_inside_a_sequential_matches_torch_exactly_in_training(tmp_path):
    from properties.catalog import CATALOG

    entry = CATALOG["Sequential"]
    layers = (("Linear", {"in_features": 4, "out_features": 16}), ("Dropout", {"p": 0.5}),
              ("Linear", {"in_features": 16, "out_features": 3}))
    x = np.random.default_rng(2).standard_normal((8, 4)).astype(np.float32)
    for seed in range(3):
        case = Case("Sequential", {"layers": layers}, (x,), seed=seed, mode="train")
        for body in (forward.body(entry, IMPLS), gradients.body(entry, IMPLS)):
            comparisons = body(case)
            assert all(c.ok and c.headroom <= 1 for c in comparisons), [c for c in comparisons if not c.ok]
    # the same twin without the injection draws its own mask: it disagrees (the parity is the injection's)
    from nnparity.engine import Pair, forward_arrays
    from nnparity import noise

    saved = noise.ADAPTERS.pop("Dropout")
    try:
        with pytest.raises(Exception, match="no noise adapter for Dropout"):
            forward_arrays(Pair(entry, Case("Sequential", {"layers": layers}, (x,), seed=0), IMPLS))
    finally:
        noise.ADAPTERS["Dropout"] = saved
