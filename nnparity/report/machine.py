"""The machine a report was rendered on: versions, BLAS, threads, CPU, CUDA, commit."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

from .. import PROJECT_ROOT

__all__ = ["environment"]


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(meta: dict) -> dict:
    import hypothesis
    import numpy
    import torch

    blas = {}
    try:
        deps = numpy.show_config(mode="dicts")["Build Dependencies"]
        blas = {k: deps["blas"].get(k) for k in ("name", "version", "openblas configuration") if deps["blas"].get(k)}
    except Exception:
        pass
    config = torch.__config__.show()
    torch_blas = [line.strip(" -") for line in config.splitlines()
                  if "Build settings" not in line and any(w in line for w in ("BLAS", "LAPACK", "Math Kernel"))]
    torch_blas += [f"BLAS_INFO={m}" for m in re.findall(r"BLAS_INFO=(\w+)", config)]
    root = meta.get("project_root") or str(PROJECT_ROOT)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        commit = commit + (" (uncommitted changes)" if dirty else "") if commit else "unknown"
    except Exception:
        commit = "unknown"
    return {
        "python": sys.version.split()[0], "platform": platform.platform(), "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(), "torch": torch.__version__, "numpy": numpy.__version__,
        "hypothesis": hypothesis.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "not available",
        "numpy_blas": blas, "torch_blas": torch_blas, "torch_threads": torch.get_num_threads(),
        "thread_env": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
        "git_commit": commit,
    }
