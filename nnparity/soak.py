"""The soak: the whole conformance suite under one profile (``dev`` by default) with
N different Hypothesis seeds, each run with records on (xdist), and one summary.

``make soak SEEDS=N`` (N defaults to 50) or ``python -m nnparity.soak --seeds N``.
Writes ``build/soak/seed-<S>/`` (each run's records) and ``build/soak/SUMMARY.md`` +
``summary.json``: per seed the exit code, wall time, tests and examples judged; then
every failing record with its seed, its shrunk case and a class:

* ``twin``: the twin is wrong: it disagrees with torch and the float64 oracle does
  not side with it (or no oracle applies);
* ``torch``: torch is wrong: the float64 oracle finds torch further off than the twin
  (arbitrated comparisons within tolerance of the oracle already pass; these are the
  ones where the twin is also off, but less so);
* ``harness``: the harness is wrong: a harness error, a check that judged nothing, a
  strategy too narrow, or a suspected false alarm: gradcheck (twin against finite
  differences) failed where the twin's gradients agreed with torch's autograd in the
  same seed, class, dtype and mode.

The class is what the evidence in the records decides; every failure still gets read
and settled at its root (docs/torch-findings.md, the kink test, a tolerance
derivation), and the regression example pinned.

Exit status: 0 when no seed failed, 1 otherwise, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from . import PROJECT_ROOT
from .profiles import PROFILES
from .records import load_records
from .vocab import DISCREPANT

__all__ = ["classify", "summarise", "main"]

CLASSES = {
    "twin": "the twin is wrong",
    "torch": "torch is wrong (the float64 oracle decides)",
    "harness": "the harness is wrong (a false alarm or a harness error)",
}


def classify(rec, passed_gradients: set) -> tuple[str, str]:
    """(class, why) for one failing record; ``passed_gradients`` holds the
    (entry, dtype, device, mode) whose gradients check passed in the same seed."""
    if rec.verdict in ("error", "not-judged"):  # a harness error, a strategy too narrow, a check that judged nothing
        return "harness", f"verdict {rec.verdict}" + (f": {rec.problem}" if rec.problem else "")
    if rec.reference == "finite differences":
        if (rec.entry, rec.dtype, rec.device, rec.mode) in passed_gradients:
            return "harness", ("suspected false alarm: finite differences disagree with a twin whose gradients "
                               "agree with torch's autograd here")
        return "twin", "the twin's backward disagrees with finite differences (and with torch's, or unchecked)"
    if rec.problem:  # a structural mismatch (api, errors, NaN pattern, shape): no oracle decides it
        return "twin", rec.problem
    blame = rec.blame or ""
    if blame.startswith("torch is further"):
        return "torch", blame
    if blame:
        return "twin", blame
    return "twin", f"the twin disagrees with {rec.reference} (no float64 oracle applies)"


def _seed_results(directory: Path, seed: int) -> dict:
    meta_path = directory / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    records = load_records(directory) if directory.is_dir() else []
    passed_gradients = {(r.entry, r.dtype, r.device, r.mode) for r in records
                        if r.check == "gradients" and r.verdict == "pass"}
    failures = []
    for r in records:
        if r.verdict not in DISCREPANT:
            continue
        cls, why = classify(r, passed_gradients)
        failures.append({"seed": seed, "test": r.test_id, "entry": r.entry, "check": r.check, "dtype": r.dtype,
                         "mode": r.mode, "example": r.example, "verdict": r.verdict, "class": cls, "why": why,
                         "headroom": r.headroom, "what": r.what, "shrunk_case": r.minimal_example,
                         "headline": (r.message or "").splitlines()[0] if r.message else ""})
    return {"seed": seed, "pytest_exit_code": meta.get("pytest_exit_code"), "duration_s": meta.get("duration_s"),
            "state": meta.get("state", "missing"), "records": len(records),
            "examples": sum(r.examples_run for r in records), "failures": failures}


def summarise(out: Path, seeds: list[int], profile: str) -> dict:
    per_seed = [_seed_results(out / f"seed-{s}", s) for s in seeds]
    failures = [f for s in per_seed for f in s["failures"]]
    incomplete = [s["seed"] for s in per_seed if s["state"] != "finished" or s["pytest_exit_code"] not in (0, 1)]
    summary = {"profile": profile, "examples_per_check": PROFILES.get(profile), "seeds": seeds,
               "examples": sum(s["examples"] for s in per_seed),
               "wall_s": round(sum(s["duration_s"] or 0 for s in per_seed), 1),
               "incomplete_seeds": incomplete, "by_class": dict(Counter(f["class"] for f in failures)),
               "per_seed": [{k: v for k, v in s.items() if k != "failures"} for s in per_seed], "failures": failures}
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out / "SUMMARY.md").write_text(render(summary), encoding="utf-8")
    return summary


def render(s: dict) -> str:
    lines = [f"# Soak: {len(s['seeds'])} seeds of the `{s['profile']}` profile", "",
             f"- examples judged: {s['examples']} ({s['examples_per_check']} per check and seed)",
             f"- wall time: {s['wall_s']} s",
             f"- failures: {len(s['failures'])} "
             f"({', '.join(f'{n} {CLASSES[c]}' for c, n in sorted(s['by_class'].items())) or 'none'})",
             f"- incomplete seeds: {', '.join(map(str, s['incomplete_seeds'])) or 'none'}", "",
             "| seed | pytest exit | wall s | records | examples | failures |", "|---|---|---|---|---|---|"]
    for p in s["per_seed"]:
        n = sum(1 for f in s["failures"] if f["seed"] == p["seed"])
        lines.append(f"| {p['seed']} | {p['pytest_exit_code']} | {p['duration_s']} | {p['records']} | "
                     f"{p['examples']} | {n} |")
    if s["failures"]:
        lines += ["", "## Failures", ""]
        for f in s["failures"]:
            lines += [f"### seed {f['seed']}: {f['test'] or f['entry'] + ' ' + f['check']}", "",
                      f"- class: **{f['class']}** ({CLASSES[f['class']]}): {f['why']}",
                      f"- {f['headline']}", f"- worst: {f['what']}, headroom {f['headroom']}",
                      f"- shrunk case: `{f['shrunk_case']}`",
                      f"- rerun: `NNPARITY_PROFILE={s['profile']} python -m pytest '{f['test']}' "
                      f"--hypothesis-seed={f['seed']}`", ""]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nnparity.soak", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=50, help="how many seeds (default 50)")
    ap.add_argument("--first-seed", type=int, default=1, help="the first seed; the others follow (default 1)")
    ap.add_argument("--profile", default="dev", choices=sorted(PROFILES))
    ap.add_argument("--jobs", type=int, default=2, help="xdist workers per run (default 2)")
    ap.add_argument("--out", default=str(PROJECT_ROOT / "build" / "soak"))
    ap.add_argument("--nn", default="", help="comma-separated classes (default: every catalogued class)")
    args = ap.parse_args(argv)
    if args.seeds < 1:
        ap.error("--seeds must be at least 1")
    from .runner import run_suite

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    classes = [c for c in args.nn.split(",") if c] or None
    for s in seeds:
        started = time.time()
        meta = run_suite(out / f"seed-{s}", classes=classes, profile=args.profile, device="all", jobs=args.jobs,
                         impl=None, seed=s, quiet=True)
        print(f"soak: seed {s}: pytest exit {meta.get('pytest_exit_code')} in {time.time() - started:.0f} s",
              flush=True)
    summary = summarise(out, seeds, args.profile)
    print((out / "SUMMARY.md").read_text(encoding="utf-8"))
    return 0 if not summary["failures"] and not summary["incomplete_seeds"] else 1


if __name__ == "__main__":
    sys.exit(main())
