"""Twin vs torch timing at each catalog entry's benchmark shape (pytest-benchmark).

One group per (class, pass): the twin, torch on CPU and torch on CUDA sit side by
side. CUDA runs synchronise after every call; without CUDA they are skipped with a
reason. ``--nn NAME,...`` restricts the classes. Run with ``python -m nnparity bench``.
"""

from __future__ import annotations

import pytest

from nnparity.bench import PASSES, SIDES, make_runner
from reference import cuda_skip_reason


def pytest_generate_tests(metafunc):
    if "entry" not in metafunc.fixturenames:
        return
    values, ids = [], []
    for entry in metafunc.config.nnparity_entries:
        if entry.bench is None:
            continue
        for pass_ in PASSES:
            for side in SIDES:
                reason = cuda_skip_reason("cuda") if side == "torch-cuda" else None
                marks = [pytest.mark.skip(reason=reason)] if reason else []
                values.append(pytest.param(entry, pass_, side, marks=marks))
                ids.append(f"{entry.name}-{pass_}-{side}")
    metafunc.parametrize(("entry", "pass_", "side"), values, ids=ids)


def test_bench(benchmark, impl, entry, pass_, side):
    if not impl.has(entry.name):
        pytest.skip(f"not implemented by {impl.name}: {entry.name}")
    run = make_runner(entry, impl, side, pass_)
    benchmark.group = f"{entry.name} {pass_}"
    benchmark.extra_info.update({"class": entry.name, "pass": pass_, "side": side, "dtype": "float32"})
    benchmark(run)
