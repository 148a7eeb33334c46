"""Run the conformance suite in a subprocess (for tests of the harness itself)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_suite(*args: str, pythonpath: list[str] = (), timeout: float = 600, profile: str = "ci") -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, pythonpath), str(ROOT), env.get("PYTHONPATH", "")])
    env["NNPARITY_PROFILE"] = profile
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("NNPARITY_RECORDS", None)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-p", "no:randomly", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
