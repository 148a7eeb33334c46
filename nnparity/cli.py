"""The command line: ``python -m nnparity report|gate|fuzz|bench|list|durations``.

  report     run the conformance suite (pytest over properties/, records on) and write
             the report folder: REPORT.md, index.html, results.json, plots, repro/
  gate       exit non-zero on any discrepancy not in the reviewed allowlist (or on a stale
             allowlist entry); with --baseline, only on discrepancies new since that run;
             writes JUnit XML
  fuzz       a time-budgeted fuzzing campaign over the catalog, ending with the report
  bench      time twin vs torch (pytest-benchmark) and write bench.json
  list       the catalog's classes and which check kinds apply
  durations  write a durations file (pytest-split's format) from records, to balance shards

``report`` and ``gate`` run one shard of the suite with ``--shard I/N``, and judge
several records directories merged (the shards of a split, runs on several
machines) with ``--records DIR [DIR ...]``.

Exit codes: 0 ok; 1 discrepancies (gate) or a failed run; 2 bad usage (unknown
option, unknown class name, malformed allowlist, CUDA requested but absent).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import time
from pathlib import Path

from . import PROJECT_ROOT
from .profiles import PROFILES
from .runner import UsageProblem, device_filter, run_bench, run_suite, suite_problem
from .shards import DURATIONS_FILE, parse_shard
from .vocab import CHECK_KINDS, DEVICES

__all__ = ["main", "resolve_classes", "UsageProblem"]


def _catalog():
    from .catalog import load_catalog

    try:
        return load_catalog(root=PROJECT_ROOT)
    except ValueError as e:
        raise UsageProblem(str(e)) from None


# -- class selection -----------------------------------------------------------------
def resolve_classes(specs) -> list[str] | None:
    """``-k`` values (repeatable, comma-separated) -> exact catalog names, or None for all.

    A value that is an exact catalog name selects that class; otherwise it selects
    every catalog class whose name contains it (case-insensitive). A value that
    selects nothing is an error, naming close matches.
    """
    if not specs:
        return None
    CATALOG = _catalog().entries
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


# -- commands ------------------------------------------------------------------------
def _common(p: argparse.ArgumentParser, out_default: str = "report") -> None:
    p.add_argument("--profile", choices=list(PROFILES), default=os.environ.get("NNPARITY_PROFILE") or "dev",
                   help="Hypothesis profile: ci (bounded, derandomised), dev (default), deep (long fuzzing)")
    p.add_argument("--device", choices=("all",) + DEVICES, default="all",
                   help="torch devices to check (default all: CUDA checks are skipped with a reason where absent)")
    p.add_argument("-k", "--classes", action="append", metavar="NAMES",
                   help="classes to run: comma-separated exact torch.nn names or substrings (repeatable)")
    p.add_argument("--out", default=out_default, help=f"output folder (default {out_default}/)")
    p.add_argument("--jobs", "-j", type=int, default=2, help="pytest-xdist workers (default 2; 1 runs in-process)")
    p.add_argument("--impl", default=None, help="package implementing the contract (default impls; env NNPARITY_IMPL)")
    p.add_argument("--seed", type=int, default=None, help="Hypothesis seed for dev/deep runs (default: random, recorded)")
    p.add_argument("--records", default=None, metavar="DIR", nargs="+",
                   help="judge existing records directories instead of running the suite; several are merged (the "
                        "shards of a split, runs on several machines): a missing or crashed shard makes it incomplete")
    p.add_argument("--allow-mixed", action="store_true",
                   help="with several --records: merge runs made at different commits or torch versions (refused "
                        "otherwise); the report lists the runs side by side")
    p.add_argument("--shard", default=None, metavar="I/N",
                   help="run only the I-th of N parts of the suite (1-based; split by class, balanced by durations)")
    p.add_argument("--shard-durations", default=None, metavar="PATH",
                   help=f"durations file balancing the shards (pytest-split's format; default {DURATIONS_FILE})")
    p.add_argument("--quiet", "-q", action="store_true", help="do not echo pytest's output (it is kept in pytest.log)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nnparity", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Exit codes: 0 ok, 1 discrepancies / failed run, 2 bad usage.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{report,gate,fuzz,bench,list,durations}")

    p = sub.add_parser("report", help="run the conformance suite and write the discrepancy report")
    _common(p)
    p.add_argument("--bench", action="store_true", help="also run the timing benchmarks (bench.json) before rendering")
    p.add_argument("--bench-json", default=None, help="timing results to show (default OUT/bench.json when present)")
    p.add_argument("--bench-max-time", type=float, default=0.5,
                   help="with --bench: pytest-benchmark seconds per measurement (default 0.5)")
    p.add_argument("--allowlist", default=None, help="mark allowlisted discrepancies in the report (default allowlist.toml)")
    p.add_argument("--baseline", default=None, metavar="PATH",
                   help="an earlier run (its results.json, report folder or records directory): mark each discrepancy "
                        "new, still failing or fixed")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("gate", help="CI gate: fail on discrepancies not in the reviewed allowlist, or stale entries")
    _common(p)
    p.add_argument("--allowlist", default=None, help="reviewed allowlist (default allowlist.toml in the project root)")
    p.add_argument("--junit", default=None, help="JUnit XML path (default OUT/gate-junit.xml)")
    p.add_argument("--baseline", default=None, metavar="PATH",
                   help="an earlier run (e.g. main's results.json, for pull-request CI): fail only on discrepancies "
                        "that are new since it")
    p.set_defaults(func=cmd_gate)

    p = sub.add_parser("fuzz", help="a time-budgeted fuzzing campaign (round-robin over classes and checks), "
                                    "resumable through the example database, ending with the report")
    p.add_argument("--budget", required=True, metavar="TIME", help="wall-clock budget: 90s, 30m, 2h, 1h30m")
    p.add_argument("--nn", "-k", "--classes", dest="classes", action="append", metavar="NAMES",
                   help="classes to fuzz: comma-separated exact torch.nn names or substrings (default all)")
    p.add_argument("--checks", default=None, metavar="KINDS",
                   help="check kinds to fuzz (comma-separated; default every kind that draws cases)")
    p.add_argument("--shard", default=None, metavar="I/N", help="fuzz only the I-th of N parts of the classes")
    p.add_argument("--device", choices=("all",) + DEVICES, default="all", help="torch devices (default all available)")
    p.add_argument("--out", default="campaign", help="output folder: records/ and the report (default campaign/)")
    p.add_argument("--impl", default=None, help="package implementing the contract (default impls)")
    p.add_argument("--slice-examples", type=int, default=None, metavar="N",
                   help="examples in each unit's first slice (default 20, the dev profile; later rounds grow to 400)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress display (also when not a terminal)")
    p.set_defaults(func=cmd_fuzz)

    p = sub.add_parser("durations", help="write a durations file (pytest-split's format) from records, so that "
                                         "--shard balances by recorded time")
    p.add_argument("--records", required=True, nargs="+", metavar="DIR", help="records directories")
    p.add_argument("--out", default=None, help=f"durations file (default {DURATIONS_FILE} in the project root)")
    p.add_argument("--replace", action="store_true", help="replace the file instead of updating it")
    p.set_defaults(func=cmd_durations)

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


def _records_dir(args):
    """Run the suite (or load ``--records``, merged when several) and return (records
    directory or merged Run, run metadata)."""
    if args.records:
        from .results import MixedRuns, load_runs

        missing = [d for d in args.records if not Path(d).is_dir()]
        if missing:
            raise UsageProblem(f"--records {' '.join(missing)}: no such directory")
        try:
            return load_runs(args.records, allow_mixed=args.allow_mixed), {}
        except (MixedRuns, ValueError) as e:
            raise UsageProblem(str(e)) from None
    classes = resolve_classes(args.classes)
    records = Path(args.out) / "records"
    meta = run_suite(records, classes=classes, profile=args.profile, device=args.device, jobs=args.jobs, impl=args.impl,
                     seed=args.seed, quiet=args.quiet, shard=args.shard, durations=args.shard_durations)
    problem = suite_problem(meta)
    if problem:
        print(f"nnparity: {problem}", file=sys.stderr)
    return records, meta


def _allowlist(path_arg) -> tuple[Path, list]:
    """The allowlist (checked before any work: a malformed one is a usage error naming its line)."""
    from .allowlist import AllowlistError, load_allowlist

    path = Path(path_arg) if path_arg else PROJECT_ROOT / "allowlist.toml"
    try:
        return path, (load_allowlist(path) if (path_arg or path.exists()) else [])
    except AllowlistError as e:
        raise UsageProblem(str(e)) from None


def _baseline(path_arg):
    """The baseline run (read before any work: a missing or unreadable one is a usage error)."""
    if not path_arg:
        return None
    from .results import load_baseline

    try:
        return load_baseline(path_arg)
    except (FileNotFoundError, ValueError) as e:
        raise UsageProblem(f"--baseline: {e}") from None


def _check_selection(args) -> None:
    """Fail fast on unknown class names and CUDA requested but absent, before any work."""
    if args.records and (args.shard or args.shard_durations):
        raise UsageProblem("--shard runs one part of the suite; it does not apply to --records (merge the shards' "
                           "records directories instead: --records DIR1 DIR2 ...)")
    if not args.records:
        resolve_classes(args.classes)
        device_filter(args.device)
        if args.shard:
            try:
                parse_shard(args.shard)
            except ValueError as e:
                raise UsageProblem(str(e)) from None


def cmd_report(args) -> int:
    from .report import build_report

    _check_selection(args)
    allowlist, _ = _allowlist(args.allowlist)
    baseline = _baseline(args.baseline)
    records, meta = _records_dir(args)
    out = Path(args.out)
    bench_json = Path(args.bench_json) if args.bench_json else out / "bench.json"
    if args.bench:
        code = run_bench(out, resolve_classes(args.classes), threads=1, impl=args.impl, max_time=args.bench_max_time,
                         quiet=args.quiet)
        if code not in (0, 1):
            print(f"nnparity: the benchmarks did not complete (pytest exit {code}); the report shows no timing",
                  file=sys.stderr)
    started = time.perf_counter()
    try:
        data = build_report(records, out, meta=meta, bench_json=bench_json if bench_json.exists() else None,
                            allowlist=allowlist if allowlist.exists() else None, baseline=baseline)
    except FileNotFoundError as e:
        raise UsageProblem(str(e)) from None
    elapsed = time.perf_counter() - started
    s = data["summary"]
    if s["baseline"]:
        print(f"nnparity report: against the baseline {args.baseline}: " +
              ", ".join(f"{n} {g}" for g, n in s["baseline"].items()))
    print(f"nnparity report: {s['discrepancies']} discrepancies in {s['triage_items']} items, {s['records']} records "
          f"({', '.join(f'{k} {v}' for k, v in s['verdicts'].items())}); rendered in {elapsed:.1f}s -> {out}/REPORT.md, "
          f"{out}/index.html, {out}/results.json")
    if data["meta"].get("incomplete"):
        print(f"nnparity report: INCOMPLETE RUN: {data['meta']['incomplete']}", file=sys.stderr)
        return 1
    return 0


def cmd_gate(args) -> int:
    from .gate import run_gate

    _check_selection(args)
    allowlist_path, allowlist = _allowlist(args.allowlist)
    baseline = _baseline(args.baseline)
    records, _ = _records_dir(args)
    junit = Path(args.junit) if args.junit else Path(args.out) / "gate-junit.xml"
    result = run_gate(records, allowlist, junit, str(allowlist_path), baseline=baseline, allow_mixed=args.allow_mixed)
    print(result.summary(allowlist_path))
    print(f"JUnit XML: {junit}")
    return 0 if result.ok else 1


def cmd_bench(args) -> int:
    if args.threads < 1:
        raise UsageProblem("--threads must be at least 1")
    code = run_bench(Path(args.out), resolve_classes(args.classes), threads=args.threads, impl=args.impl,
                     max_time=args.max_time, quiet=args.quiet)
    if code == 4:
        raise UsageProblem("pytest rejected the benchmark arguments (exit 4); see bench.log")
    if code in (0, 1) and (Path(args.out) / "bench.json").exists():
        from .bench import load_bench

        timing = load_bench(Path(args.out) / "bench.json")
        print(timing.summary())
        missing = sorted(n for n, e in _catalog().entries.items() if e.bench is None)
        if missing:
            print(f"no benchmark shape: {', '.join(missing)}")
        print(f"pytest-benchmark JSON: {Path(args.out) / 'bench.json'}")
    return code


def cmd_fuzz(args) -> int:
    from .campaign import Campaign, parse_budget

    try:
        budget = parse_budget(args.budget)
        shard = parse_shard(args.shard) if args.shard else None
    except ValueError as e:
        raise UsageProblem(str(e)) from None
    classes = resolve_classes(args.classes)
    device_filter(args.device)
    checks = [c.strip() for c in args.checks.split(",") if c.strip()] if args.checks else None
    if args.slice_examples is not None and args.slice_examples < 1:
        raise UsageProblem("--slice-examples must be at least 1")
    from .impl import ImplError

    try:
        campaign = Campaign(Path(args.out), budget=budget, classes=classes, checks=checks, shard=shard,
                            device=args.device, impl=args.impl, first_slice=args.slice_examples,
                            quiet=args.quiet)
    except (ValueError, ImplError) as e:
        raise UsageProblem(str(e)) from None
    return campaign.run()


def cmd_durations(args) -> int:
    from .records import load_records
    from .shards import durations_from_records, write_durations

    durations = {}
    for d in args.records:
        if not Path(d).is_dir():
            raise UsageProblem(f"--records {d}: no such directory")
        durations.update(durations_from_records(load_records(d)))
    if not durations:
        raise UsageProblem(f"no records with a test id under {' '.join(args.records)}")
    out = Path(args.out) if args.out else PROJECT_ROOT / DURATIONS_FILE
    written = write_durations(out, durations, update=not args.replace)
    print(f"nnparity durations: {len(durations)} tests from records; {len(written)} in {out}")
    return 0


def cmd_list(args) -> int:
    catalog = _catalog().entries
    names = resolve_classes(args.classes) or list(catalog)
    rows = [{"class": n, "checks": [c for c in CHECK_KINDS if catalog[n].applies(c)],
             "bench": catalog[n].bench is not None} for n in names]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(n) for n in names)
    for r in rows:
        print(f"{r['class']:<{width}}  {' '.join(r['checks'])}" + ("" if r["bench"] else "  (no benchmark shape)"))
    print(f"{len(rows)} classes; check kinds: {', '.join(CHECK_KINDS)}")
    return 0


def main(argv=None) -> int:
    if str(PROJECT_ROOT) not in sys.path:  # the catalog lives beside the package in the checkout
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
