"""Running the conformance suite (pytest over properties/, records on) and the
benchmarks as subprocesses of the command line, with their output echoed and kept."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from . import PROJECT_ROOT

__all__ = ["UsageProblem", "run_suite", "run_bench", "device_filter", "suite_problem"]


class UsageProblem(Exception):
    """Bad usage the user can fix (exit code 2)."""


def pytest_env(profile: str, impl: str | None, threads: int | None = None) -> dict:
    env = dict(os.environ)
    env["NNPARITY_PROFILE"] = profile
    if impl:
        env["NNPARITY_IMPL"] = impl
    env.pop("NNPARITY_RECORDS", None)  # the command line passes --records itself
    for var in [v for v in env if v.startswith("PYTEST_XDIST_")]:  # launched from an xdist worker: the child
        env.pop(var)  # is its own run (pytest-benchmark would otherwise switch itself off)
    if threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NNPARITY_THREADS"):
            env[var] = str(threads)
    return env


def device_filter(device: str) -> list[str]:
    if device == "cpu":
        return ["-k", "not cuda"]
    if device == "cuda":
        from reference import STANDIN_ENV, cuda_available

        if not cuda_available():
            raise UsageProblem(f"--device cuda: CUDA is not available on this machine (torch.cuda.is_available() is "
                               f"False; {STANDIN_ENV}=1 runs the CUDA code paths on a CPU stand-in)")
        return ["-k", "cuda"]
    return []


def stream(cmd, env, log_path: Path, quiet: bool) -> int:
    """Run ``cmd`` from the project root, echoing its output and keeping a log."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1)
        for line in proc.stdout:
            log.write(line)
            if not quiet:
                sys.stdout.write(line)
        return proc.wait()


def _impl_parent(impl: str | None) -> str | None:
    """The directory to put on sys.path for the package under test (for repro scripts)."""
    name = impl or os.environ.get("NNPARITY_IMPL") or "impls"
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return str(Path(spec.origin).resolve().parents[1])


def run_suite(records: Path, *, classes, profile: str, device: str, jobs: int, impl: str | None, seed: int | None,
              pytest_args=(), quiet: bool = False, shard: str | None = None, durations: str | None = None) -> dict:
    """Run the conformance suite with records on; return the run's metadata (the
    plugin's meta.json, completed with the command line's view). The records
    directory is emptied first."""
    records = Path(records)
    records.mkdir(parents=True, exist_ok=True)
    for old in list(records.glob("records-*.jsonl")) + [records / n for n in ("meta.json", "catalog.json", "shard.json")]:
        old.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "pytest", "properties", "-p", "no:cacheprovider", "-q", "--no-header",
           f"--records={records.resolve()}", f"--hypothesis-profile={profile}"]
    cmd += ["-n", str(jobs)] if jobs > 1 else ["-p", "no:xdist"]
    if classes:
        cmd.append("--nn=" + ",".join(classes))
    if impl:
        cmd.append(f"--impl={impl}")
    if profile != "ci":  # ci is derandomised per test (nnparity/driver.py); others get one recorded seed
        seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        cmd.append(f"--hypothesis-seed={seed}")
    if shard:
        cmd.append(f"--shard={shard}")
    if durations:
        cmd.append(f"--shard-durations={Path(durations).resolve()}")
    cmd += device_filter(device)
    cmd += list(pytest_args)
    started = time.time()
    code = stream(cmd, pytest_env(profile, impl), records / "pytest.log", quiet)
    finished = time.time()
    meta_path = records / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {"state": "not started"}
    meta.update({
        "command": cmd, "pytest_exit_code": code, "profile": profile, "device_selection": device, "jobs": jobs,
        "classes": classes, "impl": impl or os.environ.get("NNPARITY_IMPL") or "impls",
        "impl_path": _impl_parent(impl),
        "seed": seed if profile != "ci" else "derandomised (per test: crc32 of class/check/dtype/device/mode)",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(finished)),
        "duration_s": round(finished - started, 2), "project_root": str(PROJECT_ROOT),
    })
    meta_path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return meta


def suite_problem(meta: dict) -> str | None:
    """pytest exit codes 0 (all passed) and 1 (some failed) mean the suite ran to the
    end; 4 is bad usage (exit 2 here); anything else (interrupted, internal error, no
    tests collected, a killed run) leaves partial records: say so."""
    code = meta.get("pytest_exit_code", 0)
    if code == 5 and (meta.get("shard_plan") or {}).get("shard_tests") == 0:
        return None  # more shards than classes: this one has nothing to run, and says so in meta.json
    if code == 4:
        raise UsageProblem("pytest rejected the arguments (exit 4); see records/pytest.log")
    if code == 5:
        return "pytest collected no tests (exit code 5): the selection is empty or the suite is broken"
    if code not in (0, 1):
        return (f"the conformance suite did not complete (pytest exit code {code}; see records/pytest.log): "
                "the results cover only the records written before it stopped")
    return None


def run_bench(out: Path, classes, *, threads: int, impl: str | None, max_time: float, quiet: bool) -> int:
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pytest", "bench", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
           "--benchmark-only", f"--benchmark-json={(out / 'bench.json').resolve()}", "--benchmark-group-by=group",
           f"--benchmark-max-time={max_time}", "--benchmark-min-rounds=5",
           "--benchmark-warmup=on", "--benchmark-warmup-iterations=2", "--benchmark-columns=min,median,mean,rounds",
           "--benchmark-sort=name"]
    if classes:
        cmd.append("--nn=" + ",".join(classes))
    if impl:
        cmd.append(f"--impl={impl}")
    return stream(cmd, pytest_env("ci", impl, threads=threads), out / "bench.log", quiet)
