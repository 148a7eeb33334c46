"""The command line: ``python -m nnparity report|gate|bench|list``.

  report  run the conformance suite (pytest over properties/, records on) and write
          the report folder: REPORT.md, index.html, results.json, plots, repro/
  gate    exit non-zero on any discrepancy not in the reviewed allowlist (or on a stale
          allowlist entry); writes JUnit XML
  bench   time twin vs torch (pytest-benchmark) and write bench.json
  list    the catalog's classes and which check kinds apply

Exit codes: 0 ok; 1 discrepancies (gate) or a failed run; 2 bad usage (unknown
option, unknown class name, malformed allowlist, CUDA requested but absent).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main", "resolve_classes", "run_suite", "UsageProblem", "PROJECT_ROOT"]

#: The checkout the suite runs from (holds conftest.py, properties/, bench/).
PROJECT_ROOT = Path(__file__).resolve().parents[1]
PROFILES = ("ci", "dev", "deep")
DEVICES = ("all", "cpu", "cuda")


class UsageProblem(Exception):
    """Bad usage the user can fix (exit code 2)."""


# -- class selection -----------------------------------------------------------------
def resolve_classes(specs) -> list[str] | None:
    """``-k`` values (repeatable, comma-separated) -> exact catalog names, or None for all.

    A value that is an exact catalog name selects that class; otherwise it selects
    every catalog class whose name contains it (case-insensitive). A value that
    selects nothing is an error, naming close matches.
    """
    if not specs:
        return None
    from properties.catalog import CATALOG

    tokens = [t.strip() for spec in specs for t in spec.split(",") if t.strip()]
    chosen: list[str] = []
    for token in tokens:
        if token in CATALOG:
            hits = [token]
        else:
            hits = [name for name in CATALOG if token.lower() in name.lower()]
        if not hits:
            import torch.nn

            if isinstance(getattr(torch.nn, token, None), type):
                raise UsageProblem(f"class {token!r} is in torch.nn but has no catalog entry yet "
                                   f"(run 'python -m nnparity list' for the catalog)")
            lower = {name.lower(): name for name in CATALOG}
            close = [lower[c] for c in difflib.get_close_matches(token.lower(), list(lower), n=3, cutoff=0.5)]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageProblem(f"unknown class name {token!r}: no catalog class is named so or contains it{hint} "
                               f"(run 'python -m nnparity list')")
        chosen += [h for h in hits if h not in chosen]
    return chosen


# -- running the suite ---------------------------------------------------------------
def _pytest_env(profile: str, impl: str | None, threads: int | None = None) -> dict:
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


def _device_filter(device: str) -> list[str]:
    if device == "cpu":
        return ["-k", "not cuda"]
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UsageProblem("--device cuda: CUDA is not available on this machine (torch.cuda.is_available() is False)")
        return ["-k", "cuda"]
    return []


def _stream(cmd, env, log_path: Path, quiet: bool) -> int:
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


def run_suite(records: Path, *, classes, profile: str, device: str, jobs: int, impl: str | None, seed: int | None,
              pytest_args=(), quiet: bool = False) -> dict:
    """Run the conformance suite with records on; return the run's metadata (also
    written to ``records/meta.json``). The records directory is emptied first."""
    records = Path(records)
    records.mkdir(parents=True, exist_ok=True)
    for old in list(records.glob("records-*.jsonl")) + [records / "meta.json", records / "pytest-junit.xml"]:
        old.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "pytest", "properties", "-p", "no:cacheprovider", "-q", "--no-header",
           f"--records={records.resolve()}", f"--hypothesis-profile={profile}",
           f"--junitxml={(records / 'pytest-junit.xml').resolve()}"]
    cmd += ["-n", str(jobs)] if jobs > 1 else ["-p", "no:xdist"]
    if classes:
        cmd.append("--nn=" + ",".join(classes))
    if impl:
        cmd.append(f"--impl={impl}")
    if profile != "ci":  # ci is derandomised per test (properties/driver.py); others get one recorded seed
        seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        cmd.append(f"--hypothesis-seed={seed}")
    cmd += _device_filter(device)
    cmd += list(pytest_args)
    started = time.time()
    code = _stream(cmd, _pytest_env(profile, impl), records / "pytest.log", quiet)
    finished = time.time()
    meta = {
        "command": cmd, "pytest_exit_code": code, "profile": profile, "device_selection": device, "jobs": jobs,
        "classes": classes, "impl": impl or os.environ.get("NNPARITY_IMPL") or "impls",
        "impl_path": _impl_parent(impl),
        "seed": seed if profile != "ci" else "derandomised (per test: crc32 of class/check/dtype/device/mode)",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(finished)),
        "duration_s": round(finished - started, 2), "project_root": str(PROJECT_ROOT),
    }
    (records / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return meta


def _impl_parent(impl: str | None) -> str | None:
    """The directory to put on sys.path for the package under test (for repro scripts)."""
    import importlib.util

    name = impl or os.environ.get("NNPARITY_IMPL") or "impls"
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return str(Path(spec.origin).resolve().parents[1])


def suite_problem(meta: dict) -> str | None:
    """pytest exit codes 0 (all passed) and 1 (some failed) mean the suite ran to the
    end; 4 is bad usage (exit 2 here); anything else (interrupted, internal error, no
    tests collected, a killed run) leaves partial records: say so."""
    code = meta.get("pytest_exit_code", 0)
    if code == 4:
        raise UsageProblem("pytest rejected the arguments (exit 4); see records/pytest.log")
    if code not in (0, 1):
        return (f"the conformance suite did not complete (pytest exit code {code}; see records/pytest.log): "
                "the results cover only the records written before it stopped")
    return None


# -- commands ------------------------------------------------------------------------
def _common(p: argparse.ArgumentParser, out_default: str = "report") -> None:
    p.add_argument("--profile", choices=PROFILES, default=os.environ.get("NNPARITY_PROFILE") or "dev",
                   help="Hypothesis profile: ci (bounded, derandomised), dev (default), deep (long fuzzing)")
    p.add_argument("--device", choices=DEVICES, default="all",
                   help="torch devices to check (default all: CUDA checks are skipped with a reason where absent)")
    p.add_argument("-k", "--classes", action="append", metavar="NAMES",
                   help="classes to run: comma-separated exact torch.nn names or substrings (repeatable)")
    p.add_argument("--out", default=out_default, help=f"output folder (default {out_default}/)")
    p.add_argument("--jobs", "-j", type=int, default=2, help="pytest-xdist workers (default 2; 1 runs in-process)")
    p.add_argument("--impl", default=None, help="package implementing the contract (default impls; env NNPARITY_IMPL)")
    p.add_argument("--seed", type=int, default=None, help="Hypothesis seed for dev/deep runs (default: random, recorded)")
    p.add_argument("--records", default=None, metavar="DIR",
                   help="judge an existing records directory instead of running the suite")
    p.add_argument("--quiet", "-q", action="store_true", help="do not echo pytest's output (it is kept in pytest.log)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nnparity", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Exit codes: 0 ok, 1 discrepancies / failed run, 2 bad usage.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{report,gate,bench,list}")

    p = sub.add_parser("report", help="run the conformance suite and write the discrepancy report")
    _common(p)
    p.add_argument("--bench", action="store_true", help="also run the timing benchmarks (bench.json) before rendering")
    p.add_argument("--bench-json", default=None, help="timing results to show (default OUT/bench.json when present)")
    p.add_argument("--allowlist", default=None, help="mark allowlisted discrepancies in the report (default allowlist.toml)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("gate", help="CI gate: fail on discrepancies not in the reviewed allowlist, or stale entries")
    _common(p)
    p.add_argument("--allowlist", default=None, help="reviewed allowlist (default allowlist.toml in the project root)")
    p.add_argument("--junit", default=None, help="JUnit XML path (default OUT/gate-junit.xml)")
    p.set_defaults(func=cmd_gate)

    p = sub.add_parser("bench", help="time twin vs torch (CPU, and CUDA when present) with pytest-benchmark")
    p.add_argument("-k", "--classes", action="append", metavar="NAMES", help="classes to time (exact names or substrings)")
    p.add_argument("--out", default="report", help="output folder for bench.json (default report/)")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for torch and for NumPy's BLAS, set equal (default 1)")
    p.add_argument("--impl", default=None, help="package implementing the contract (default impls)")
    p.add_argument("--max-time", type=float, default=0.5, help="pytest-benchmark seconds per measurement (default 0.5)")
    p.add_argument("--quiet", "-q", action="store_true")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("list", help="list the catalog's classes and the check kinds that apply to each")
    p.add_argument("-k", "--classes", action="append", metavar="NAMES", help="restrict to these classes")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)
    return parser


def _records_dir(args) -> tuple[Path, dict]:
    """Run the suite (or take ``--records``) and return (records dir, run metadata)."""
    if args.records:
        records = Path(args.records)
        if not records.is_dir():
            raise UsageProblem(f"--records {records}: no such directory")
        meta_path = records / "meta.json"
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        code = meta.get("pytest_exit_code", 0)
        if code not in (0, 1) and not meta.get("incomplete"):
            meta["incomplete"] = (f"the recorded suite run did not complete (pytest exit code {code}): the results "
                                  "cover only the records written before it stopped")
        return records, meta
    classes = resolve_classes(args.classes)
    records = Path(args.out) / "records"
    meta = run_suite(records, classes=classes, profile=args.profile, device=args.device, jobs=args.jobs, impl=args.impl,
                     seed=args.seed, quiet=args.quiet)
    problem = suite_problem(meta)
    if problem:
        meta["incomplete"] = problem
        print(f"nnparity: {problem}", file=sys.stderr)
    return records, meta


def cmd_report(args) -> int:
    from .report import build_report

    resolve_classes(args.classes)  # fail fast on unknown names (and CUDA requested but absent), before any work
    _device_filter(args.device)
    allowlist = Path(args.allowlist) if args.allowlist else PROJECT_ROOT / "allowlist.toml"
    if args.allowlist or allowlist.exists():  # only to mark allowlisted discrepancies; check it before the run
        from .gate import AllowlistError, load_allowlist

        try:
            load_allowlist(allowlist)
        except AllowlistError as e:
            raise UsageProblem(str(e)) from None
    records, meta = _records_dir(args)
    out = Path(args.out)
    bench_json = Path(args.bench_json) if args.bench_json else out / "bench.json"
    if args.bench:
        code = _run_bench(out, args.classes, threads=1, impl=args.impl, max_time=0.5, quiet=args.quiet)
        if code not in (0, 1):
            print(f"nnparity: the benchmarks did not complete (pytest exit {code}); the report shows no timing",
                  file=sys.stderr)
    started = time.perf_counter()
    data = build_report(records, out, meta=meta, bench_json=bench_json if bench_json.exists() else None,
                        allowlist=allowlist if allowlist.exists() else None)
    elapsed = time.perf_counter() - started
    s = data["summary"]
    print(f"nnparity report: {s['discrepancies']} discrepancies, {s['records']} records "
          f"({', '.join(f'{k} {v}' for k, v in s['verdicts'].items())}); rendered in {elapsed:.1f}s -> {out}/REPORT.md, "
          f"{out}/index.html, {out}/results.json")
    return 1 if meta.get("incomplete") else 0


def cmd_gate(args) -> int:
    from .gate import AllowlistError, load_allowlist, run_gate

    resolve_classes(args.classes)
    _device_filter(args.device)
    allowlist_path = Path(args.allowlist) if args.allowlist else PROJECT_ROOT / "allowlist.toml"
    try:
        allowlist = load_allowlist(allowlist_path) if (args.allowlist or allowlist_path.exists()) else []
    except AllowlistError as e:
        print(f"nnparity gate: {e}", file=sys.stderr)
        return 2
    records, meta = _records_dir(args)
    junit = Path(args.junit) if args.junit else Path(args.out) / "gate-junit.xml"
    result = run_gate(records, allowlist, junit, str(allowlist_path),
                      problems=[meta["incomplete"]] if meta.get("incomplete") else [])
    print(result.summary(allowlist_path))
    print(f"JUnit XML: {junit}")
    return 0 if result.ok else 1


def _run_bench(out: Path, class_specs, *, threads: int, impl: str | None, max_time: float, quiet: bool) -> int:
    classes = resolve_classes(class_specs)
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
    return _stream(cmd, _pytest_env("ci", impl, threads=threads), out / "bench.log", quiet)


def cmd_bench(args) -> int:
    if args.threads < 1:
        raise UsageProblem("--threads must be at least 1")
    code = _run_bench(Path(args.out), args.classes, threads=args.threads, impl=args.impl, max_time=args.max_time,
                      quiet=args.quiet)
    if code == 4:
        raise UsageProblem("pytest rejected the benchmark arguments (exit 4); see bench.log")
    if code in (0, 1) and (Path(args.out) / "bench.json").exists():
        from .bench import load_bench

        from properties.catalog import CATALOG

        timing = load_bench(Path(args.out) / "bench.json")
        print(timing.summary())
        missing = sorted(n for n, e in CATALOG.items() if e.bench is None)
        if missing:
            print(f"no benchmark shape: {', '.join(missing)}")
        print(f"pytest-benchmark JSON: {Path(args.out) / 'bench.json'}")
    return code


def cmd_list(args) -> int:
    from properties.catalog import CATALOG, CHECK_KINDS

    names = resolve_classes(args.classes) or list(CATALOG)
    rows = [{"class": n, "checks": [c for c in CHECK_KINDS if CATALOG[n].applies(c)],
             "bench": CATALOG[n].bench is not None} for n in names]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(n) for n in names)
    for r in rows:
        print(f"{r['class']:<{width}}  {' '.join(r['checks'])}" + ("" if r["bench"] else "  (no benchmark shape)"))
    print(f"{len(rows)} classes; check kinds: {', '.join(CHECK_KINDS)}")
    return 0


def main(argv=None) -> int:
    if str(PROJECT_ROOT) not in sys.path:  # properties/ lives beside the package in the checkout
        sys.path.insert(0, str(PROJECT_ROOT))
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "jobs", 1) is not None and getattr(args, "jobs", 1) < 1:
        parser.error("--jobs must be at least 1")
    try:
        return args.func(args)
    except UsageProblem as e:
        print(f"{parser.prog} {args.command}: error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:
        print(f"{parser.prog} {args.command}: {e}", file=sys.stderr)
        return 1
