"""Every catalog entry with a forward has a benchmark shape, and every benchmark runner (twin and
torch on CPU, forward and forward+backward) runs once. The timings themselves are
bench/'s business (make bench); this only keeps the runners from rotting, since CI
does not run the benchmarks."""

from __future__ import annotations

import pytest

from nnparity.bench import PASSES, make_runner
from properties.catalog import CATALOG


@pytest.mark.parametrize("name", sorted(n for n, e in CATALOG.items() if e.applies("forward")))
def test_bench_runners_run(name, impl):
    entry = CATALOG[name]
    assert entry.bench is not None, f"{name} has no benchmark shape (Entry.bench)"
    for side in ("twin", "torch-cpu"):
        for pass_ in PASSES:
            make_runner(entry, impl, side, pass_)()
