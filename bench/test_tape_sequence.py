"""The tape's cost over a sequence: a T-step Python loop over ``x[t]`` (the shape of
an unrolled recurrence, h = tanh(x[t] W + h U)), backward only, at N = 32, H = 64
and T = 100, 400, 1600. Linear growth means each 4x in T costs about 4x in time;
the terminal summary prints the ratios (bench/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

from impls import functional as F
from impls.autograd import Tensor, backward, enable_grad

N, H = 32, 64
LENGTHS = (100, 400, 1600)
TIMES: dict[int, float] = {}


def _graph(T: int):
    rng = np.random.default_rng(T)
    x = Tensor(rng.standard_normal((T, N, H)).astype(np.float32), requires_grad=True)
    W = Tensor((rng.standard_normal((H, H)) / np.sqrt(H)).astype(np.float32), requires_grad=True)
    U = Tensor((rng.standard_normal((H, H)) / np.sqrt(H)).astype(np.float32), requires_grad=True)
    with enable_grad():
        h = Tensor(np.zeros((N, H), np.float32))
        for t in range(T):
            h = F.tanh(x[t] @ W + h @ U)
    return h, (x, W, U)


@pytest.mark.parametrize("T", LENGTHS)
def test_backward_through_a_loop_over_x_t(benchmark, T, request):
    if request.config.getoption("--nn"):
        pytest.skip("--nn selects catalog classes; this benchmark of the tape belongs to none")
    cot = np.ones((N, H), np.float32)

    def setup():
        h, leaves = _graph(T)
        return (h, leaves), {}

    def run(h, leaves):
        for leaf in leaves:
            leaf.grad = None
        backward([h], [cot])

    benchmark.group = "tape: backward through a T-step loop over x[t] (N=32, H=64)"
    benchmark.extra_info.update({"T": T, "N": N, "H": H})
    benchmark.pedantic(run, setup=setup, rounds=5, iterations=1, warmup_rounds=1)
    TIMES[T] = benchmark.stats.stats.min
