"""CTCLoss checks the catalog's generic checks cannot express.

1. The generic gradcheck does not apply to CTCLoss: torch's gradient (matched by
   the twin) is ``exp(lp) - occupancy``, the gradient with respect to the logits of
   a log_softmax, not the derivative of the loss with respect to ``log_probs``
   (impls/functional/ctc.py). Here the twin's backward *minus* its ``exp(lp)``
   term is checked against central finite differences of the twin's own forward,
   in float64, on finite losses, normalised or not.
2. Out-of-range target indices: torch's CPU kernel does not check them (it reads
   arbitrary memory), so they cannot be an ``Invalid`` catalog case (that check
   requires torch to raise). The twin raises a RuntimeError instead; padding past
   a target's length is never read, by either side.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from properties.strategies import float_arrays


@st.composite
def finite_ctc_case(draw):
    T = draw(st.integers(2, 6))
    N = draw(st.integers(1, 3))
    C = draw(st.integers(2, 5))
    blank = draw(st.integers(0, C - 1))
    S = draw(st.integers(0, 3))
    x = draw(float_arrays((T, N, C), np.float64, -4.0, 4.0))
    if draw(st.booleans()):  # a real log-softmax output, or unnormalised values
        x = x - np.log(np.exp(x).sum(axis=-1, keepdims=True))
    raw = np.array(draw(st.lists(st.integers(0, C - 2), min_size=N * S, max_size=N * S)), dtype=np.int64).reshape(N, S)
    targets = raw + (raw >= blank)
    tl = np.array(draw(st.lists(st.integers(0, S), min_size=N, max_size=N)), dtype=np.int64)
    il = np.array(draw(st.lists(st.integers(1, T), min_size=N, max_size=N)), dtype=np.int64)
    v = draw(float_arrays((N,), np.float64, -2.0, 2.0))
    return blank, x, targets, il, tl, v


GRAD_TOL = dict(rtol=1e-6, atol=1e-6)  # central differences, h = 1e-6: truncation O(h^2), rounding ~ 1e-16 |f| / h ~ 1e-9


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=finite_ctc_case())
def test_backward_minus_exp_lp_is_the_derivative(impl, case):
    blank, lp, targets, il, tl, v = case
    m = impl.nn.CTCLoss(blank=blank, reduction="none")
    loss = m(lp, targets, il, tl)
    assume(np.all(np.isfinite(loss)))
    (g, *_), _ = impl.vjp(m, (lp, targets, il, tl), v)
    active = (np.arange(lp.shape[0])[:, None] < il[None, :])[:, :, None]
    derivative = g - np.where(active, np.exp(lp) * v[None, :, None], 0.0)

    h = 1e-6
    fd = np.zeros_like(lp)
    for idx in np.ndindex(lp.shape):
        up, down = lp.copy(), lp.copy()
        up[idx] += h
        down[idx] -= h
        fd[idx] = (np.dot(v, m(up, targets, il, tl)) - np.dot(v, m(down, targets, il, tl))) / (2 * h)
    np.testing.assert_allclose(derivative, fd, **GRAD_TOL,
                               err_msg="CTCLoss backward minus exp(lp) differs from finite differences of the forward")


def _case(dt=np.float64):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 2, 5))
    lp = (x - np.log(np.exp(x).sum(axis=-1, keepdims=True))).astype(dt)
    return lp, np.array([[1, 2, 3], [4, 4, 0]]), np.array([6, 5]), np.array([3, 2])


@pytest.mark.parametrize("bad", [5, 17, -1])
def test_out_of_range_target_raises(impl, bad):
    lp, targets, il, tl = _case()
    targets[0, 1] = bad
    with pytest.raises(RuntimeError, match="target indices"):
        impl.nn.CTCLoss()(lp, targets, il, tl)
    with pytest.raises(RuntimeError, match="target indices"):
        impl.nn.CTCLoss()(lp, np.array([1, bad, 3, 4, 4]), il, tl)  # concatenated


def test_padding_past_target_length_is_ignored(impl):
    """Values past a target's length (here -1 and 99) are never read: torch agrees."""
    import torch

    lp, targets, il, tl = _case()
    padded = targets.copy()
    padded[1, 2] = -1
    clean = impl.nn.CTCLoss(reduction="none")(lp, targets, il, tl)
    dirty = impl.nn.CTCLoss(reduction="none")(lp, padded, il, tl)
    np.testing.assert_array_equal(clean, dirty)
    ref = torch.nn.CTCLoss(reduction="none")(*(torch.from_numpy(a) for a in (lp, padded, il, tl))).numpy()
    np.testing.assert_allclose(dirty, ref, rtol=1e-7, atol=1e-7)
