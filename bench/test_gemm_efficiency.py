"""Conv2d at the shapes of two common MNIST models and one larger layer: twin vs torch
(CPU), forward and forward+backward, and the GFLOP/s the twin reaches next to what
NumPy's own matmul reaches on a GEMM of the same size (the "peak" the twin can hope
for: the convolution is im2col + GEMM).

* MNIST CNN: Conv2d(1, 16, 3, stride=2, padding=1) on 28x28 and Conv2d(16, 16, 3,
  stride=2, padding=1) on 14x14; LeNet: Conv2d(1, 6, 5) on 32x32 and Conv2d(6, 16, 3)
  on 14x14; each batch 64.
* Conv2d(64, 64, 3, padding=1) on 56x56, batch 8 (also Conv2d's catalog bench shape).

extra_info of every benchmark: ``conv_shape``, ``conv_side`` (twin, torch-cpu,
numpy-matmul), ``conv_pass``, ``gflop`` (the pass's multiply-adds x 2) and, once
timed, ``gflops_min`` (gflop / fastest round). The keys are deliberately not
``class``/``side``/``pass``, so the per-class ratio table of ``nnparity bench``
(nnparity.bench.load_bench) keeps Conv2d's catalog shape as its Conv2d row.
Thread counts follow bench/conftest.py (equal for NumPy's BLAS and torch).

Read the efficiency target off the large shape: twin forward ``gflops_min`` over
numpy-matmul ``gflops_min`` (>= 0.7 is the issue's target).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from nnparity.bench import make_runner
from properties.catalog import CATALOG
from nnparity.catalog import Inputs

#: name -> (Conv2d kwargs, input shape)
SHAPES = {
    "mnist-1x16-s2-28x28-b64": ({"in_channels": 1, "out_channels": 16, "kernel_size": 3, "stride": 2, "padding": 1}, (64, 1, 28, 28)),
    "mnist-16x16-s2-14x14-b64": ({"in_channels": 16, "out_channels": 16, "kernel_size": 3, "stride": 2, "padding": 1}, (64, 16, 14, 14)),
    "lenet-1x6-k5-32x32-b64": ({"in_channels": 1, "out_channels": 6, "kernel_size": 5}, (64, 1, 32, 32)),
    "lenet-6x16-k3-14x14-b64": ({"in_channels": 6, "out_channels": 16, "kernel_size": 3}, (64, 6, 14, 14)),
    "large-64x64-k3-56x56-b8": ({"in_channels": 64, "out_channels": 64, "kernel_size": 3, "padding": 1}, (8, 64, 56, 56)),
}
PASSES = ("forward", "forward+backward")


def gemm_size(kwargs, shape) -> tuple:
    """(M, K, N) of the convolution's forward GEMM: (C_out, C_in k^2) @ (C_in k^2, batch * output positions)."""
    k, s, p = kwargs["kernel_size"], kwargs.get("stride", 1), kwargs.get("padding", 0)
    n, c, h, w = shape
    out = ((h + 2 * p - k) // s + 1) * ((w + 2 * p - k) // s + 1)
    return kwargs["out_channels"], c * k * k, n * out


def _selected(config) -> bool:
    return any(e.name == "Conv2d" for e in config.nnparity_entries)


def pytest_generate_tests(metafunc):
    if "shape_name" not in metafunc.fixturenames:
        return
    names = list(SHAPES) if _selected(metafunc.config) else []
    metafunc.parametrize("shape_name", names, ids=names)


def _record(benchmark, flop: float) -> None:
    stats = getattr(benchmark, "stats", None)
    fastest = getattr(getattr(stats, "stats", None), "min", None)
    if fastest:
        benchmark.extra_info["gflops_min"] = flop / fastest / 1e9


@pytest.mark.parametrize("pass_", PASSES)
@pytest.mark.parametrize("side", ("twin", "torch-cpu"))
def test_conv2d(benchmark, impl, shape_name, side, pass_):
    kwargs, shape = SHAPES[shape_name]
    entry = replace(CATALOG["Conv2d"], bench=lambda dt: (dict(kwargs), Inputs(
        (np.random.default_rng(0).standard_normal(shape).astype(dt),))))
    run = make_runner(entry, impl, side, pass_)
    M, K, N = gemm_size(kwargs, shape)
    flop = 2.0 * M * K * N * (1 if pass_ == "forward" else 3)  # backward: input and weight gradients
    benchmark.group = f"Conv2d {shape_name} {pass_}"
    benchmark.extra_info.update({"conv_shape": shape_name, "conv_side": side, "conv_pass": pass_, "gflop": flop / 1e9})
    benchmark(run)
    _record(benchmark, flop)


def test_numpy_matmul_peak(benchmark, shape_name):
    """The GEMM of the forward pass alone, as one float32 NumPy matmul."""
    kwargs, shape = SHAPES[shape_name]
    M, K, N = gemm_size(kwargs, shape)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    flop = 2.0 * M * K * N
    benchmark.group = f"Conv2d {shape_name} forward"
    benchmark.extra_info.update({"conv_shape": shape_name, "conv_side": "numpy-matmul", "conv_pass": "forward",
                                 "gflop": flop / 1e9, "gemm": [M, K, N]})
    benchmark(lambda: a @ b)
    _record(benchmark, flop)
