"""pytest-benchmark wiring for ``bench/``: equal, recorded thread counts.

``python -m nnparity bench --threads N`` sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS
and MKL_NUM_THREADS (and NNPARITY_THREADS) before this process starts, so NumPy's
BLAS and torch's intra-op pool both use N threads. Run directly (``pytest bench``),
the variables default to 1 here, which takes effect only if NumPy was not imported
yet; ``machine_info.nnparity`` in the JSON says what was in force.
"""

from __future__ import annotations

import os
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_NUMPY_FIRST = "numpy" in sys.modules
_THREADS = int(os.environ.get("NNPARITY_THREADS") or os.environ.get("OMP_NUM_THREADS") or 1)
for _var in THREAD_VARS:
    os.environ.setdefault(_var, str(_THREADS))


def pytest_configure(config):
    import torch

    torch.set_num_threads(_THREADS)


def pytest_benchmark_update_machine_info(config, machine_info):
    import numpy
    import torch

    from reference import cuda_available, cuda_device_name

    blas = {}
    try:
        blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # older NumPy: no dict mode
        pass
    machine_info["nnparity"] = {
        "threads": _THREADS,
        "torch_threads": torch.get_num_threads(),
        "thread_env": {v: os.environ.get(v) for v in THREAD_VARS},
        "thread_env_set_before_numpy_import": not _NUMPY_FIRST,
        "numpy_blas": {k: blas.get(k) for k in ("name", "version", "openblas configuration") if k in blas},
        "torch": torch.__version__, "numpy": numpy.__version__,
        "cuda": cuda_device_name() if cuda_available() else None,
        "impl": config.nnparity_impl.name,
    }


def pytest_terminal_summary(terminalreporter):
    """The tape benchmark's growth over T (bench/test_tape_sequence.py)."""
    try:
        from bench.test_tape_sequence import TIMES
    except ImportError:
        return
    if len(TIMES) > 1:
        lengths = sorted(TIMES)
        parts = [f"T={a}->{b}: x{TIMES[b] / TIMES[a]:.2f} time for x{b / a:g} steps" for a, b in zip(lengths, lengths[1:])]
        terminalreporter.write_line("tape growth over T (fastest rounds): " + "; ".join(parts))
