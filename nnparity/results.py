"""A run's results, read from its records directory alone: the records, the run's
metadata (meta.json), the catalog snapshot (catalog.json), whether the run is
complete, and the discrepancies in order of harm.

The report and the gate start here; neither loads the catalog or the test files,
so a records directory copied from another machine or another commit renders and
gates the same way.

Triage lives here too, once: the harm kind of each discrepancy (:data:`HARM`,
:func:`harm_kind`), the order by harm (:func:`severity_key`), the folding of one
class's discrepancies into items (:func:`triage`), and the identity of a
discrepancy across runs (:func:`identity`) with which a run is compared to a
baseline (:func:`compare_with_baseline`).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .records import Record, load_records, record_from_dict
from .vocab import CHECK_KINDS, DISCREPANT
from .warnings_parity import LABEL as WARNINGS_LABEL

__all__ = ["Run", "load_run", "load_runs", "MixedRuns", "discrepancies", "severity_key", "discrepancy_ids", "case_text", "item",
           "HARM", "HARNESS", "KINDS", "KIND_DETAILS", "harm_kind", "problem_kind", "headroom_of", "input_signature", "Fold", "Item",
           "triage", "class_verdicts", "input_line", "identity", "identity_text", "Baseline", "load_baseline",
           "compare_with_baseline", "BASELINE_GROUPS", "variant"]


@dataclass
class Run:
    records: list
    meta: dict
    snapshot: dict
    problems: list = field(default_factory=list)  # why the run is incomplete (empty: complete)

    @property
    def complete(self) -> bool:
        return not self.problems


def _shard_plan(directory: Path, meta: dict) -> dict:
    """The shard's split (nnparity.shards), from meta.json, or from shard.json when the
    run died before writing its final meta.json; {} for an unsharded run."""
    if meta.get("shard_plan"):
        return meta["shard_plan"]
    path = directory / "shard.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _run_problems(directory: Path, meta: dict, snapshot: dict, records: list) -> list[str]:
    out = []
    empty_shard = _shard_plan(directory, meta).get("shard_tests") == 0  # more shards than classes: nothing to run
    if not (directory / "meta.json").exists():
        out.append(f"{directory}/meta.json is missing: this is not a complete nnparity run")
    elif meta.get("state") == "interrupted":
        out.append(meta.get("interrupted") or "the run was interrupted: the results cover only the records written "
                   "before it stopped")
    elif meta.get("state") != "finished":
        out.append("the suite run did not finish (meta.json says it was still running: killed or crashed); "
                   "the results cover only the records written before it stopped")
    elif meta.get("kind") != "campaign":  # a campaign (nnparity fuzz) runs no pytest: its state says it all
        code = meta.get("pytest_exit_code")
        if code == 5 and not empty_shard:
            out.append("pytest collected no tests (exit code 5): a broken or empty selection, not a pass")
        elif code not in (0, 1, 5):
            out.append(f"the suite run did not complete (pytest exit code {code}); the results cover only the records "
                       "written before it stopped")
    if not snapshot:
        out.append(f"{directory}/catalog.json (the catalog snapshot) is missing")
    if not records and not empty_shard:
        out.append("no records: the suite did not run (or the directory is empty)")
    return out


def load_run(records_dir) -> Run:
    directory = Path(records_dir)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such records directory")
    records = load_records(directory)
    meta_path, snap_path = directory / "meta.json", directory / "catalog.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    snapshot = json.loads(snap_path.read_text(encoding="utf-8")) if snap_path.exists() else {}
    return Run(records, meta, snapshot, _run_problems(directory, meta, snapshot, records))


# -- harm: the kind of each disagreement, and the order of the report ----------------
#: The kinds of disagreement, most harmful first: the order of the report and of the
#: gate's list, with a short title each. Harm is how likely the disagreement corrupts
#: a user's results without telling them: a wrong value first, an interface
#: difference (which fails loudly) last.
HARM = {
    "values": "wrong values",
    "nonfinite": "NaN or inf in the wrong places",
    "errors": "a missing error, or the wrong error",
    "zero-sign": "signs of zero",
    "inplace": "in-place effects",
    "warnings": "warnings",
    "interface": "the interface",
}
#: Discrepancies that say nothing about the twin's harm. They come after the twin's, in
#: their own list, and fail the gate all the same (they cannot be allowlisted).
HARNESS = {
    "harness": "harness errors",
    "not-judged": "checks that judged nothing",
}
KINDS = {**HARM, **HARNESS}
#: What each kind covers.
KIND_DETAILS = {
    "values": "an output, gradient or state beyond tolerance, of the wrong shape or dtype, or none at all (the twin "
              "raised on a case torch accepts); the twin's random draws off their distribution",
    "nonfinite": "a NaN pattern or an infinity that differs from torch's",
    "errors": "invalid arguments or inputs the twin accepts, or rejects with another exception kind, from outside "
              "its own validation, or after changing its state",
    "zero-sign": "-0.0 where torch gives +0.0, or the reverse",
    "inplace": "the caller's input after the call: inplace=True ignored, or an input modified that torch leaves alone",
    "warnings": "a warning torch gives and the twin does not, one the twin gives and torch does not, or one of a "
                "category that is not torch's or a subclass of it",
    "interface": "constructor signature, state_dict layout, parameter order, buffers, repr, mode switching",
    "harness": "the harness, the catalog or torch failed, or the catalog is wrong about torch",
    "not-judged": "a check could compare nothing (every coordinate on a kink, an array never judged)",
}
_RANK = {k: i for i, k in enumerate(KINDS)}

#: How nnparity/compare.py words a structural mismatch -> its problem kind.
_PROBLEM_PREFIXES = (("NaN pattern differs", "nan"), ("infinity differs", "inf"), ("sign of zero differs", "zero-sign"),
                     ("shape ", "shape"), ("dtype ", "dtype"), ("values differ", "values"))


def _bare(what: str) -> str:
    """An array's name without train_eval's step prefix ('step 2: output' -> 'output')."""
    return re.sub(r"^(step \d+|eval after \d+ steps): ", "", what or "")


def problem_kind(rec: Record) -> str:
    """What disagreed, as a short stable name (part of a discrepancy's identity across
    runs, unlike the problem text, which carries counts and shapes): 'values' (beyond
    tolerance), 'nan', 'inf', 'zero-sign', 'shape', 'dtype', 'missing' (a side gave no
    value), 'raised' (the twin raised), 'distribution' (randomness), 'warnings',
    'errors' (the errors check), 'mismatch' (another structural problem: api, modes,
    state layout), or the harness's verdicts 'error' and 'not-judged'."""
    if rec.verdict in ("error", "not-judged"):
        return rec.verdict
    if rec.what == WARNINGS_LABEL:
        return "warnings"
    if rec.check in ("errors", "randomness"):
        return {"errors": "errors", "randomness": "distribution"}[rec.check]
    if rec.problem:
        if rec.problem.endswith("gave no value"):
            return "missing"
        return next((kind for prefix, kind in _PROBLEM_PREFIXES if rec.problem.startswith(prefix)), "mismatch")
    if rec.what:
        return "values"
    return "raised" if "raised" in (rec.message or "") else "mismatch"


def _judges_the_catalog(rec: Record) -> bool:
    """A 'fail' that finds the catalog wrong about torch, not the twin wrong (the
    train_eval flag, a stale invalid case: nnparity/checks/train_eval.py, errors.py)."""
    return rec.what == "train vs eval (torch)" or (rec.check == "errors" and "catalog entry is stale" in rec.message)


def harm_kind(rec: Record) -> str:
    """The kind of a discrepancy: a key of :data:`HARM`, or of :data:`HARNESS` for
    harness errors (and fails that find the catalog wrong) and checks that judged
    nothing. The one place that decides it (docs/results-schema.md, "Harm")."""
    kind = problem_kind(rec)
    if kind == "error" or _judges_the_catalog(rec):
        return "harness"
    if kind in ("not-judged", "warnings", "errors"):
        return kind
    what = _bare(rec.what)
    if rec.check == "api":
        return "errors" if what == "constructor validation" else "interface"
    if what.startswith(("state key ", "state_dict key order", "training flag after")):
        return "interface"
    if what.endswith(" after forward") and not what.startswith("state "):
        return "inplace"  # an input argument after the call ('input after forward'), not the module's state
    return {"nan": "nonfinite", "inf": "nonfinite", "zero-sign": "zero-sign"}.get(kind, "values")


def headroom_of(rec: Record) -> float | None:
    """The headroom of a numeric disagreement; None where it means nothing (a
    structural problem, an exception, a verdict without a comparison)."""
    if rec.problem is not None or rec.headroom is None or not rec.what:
        return None
    h = float(rec.headroom)
    return None if math.isnan(h) else h
# -- merging the runs of several shards, machines or runs ------------------------------
#: What every merged run must share (unless the merge allows mixing): records made at
#: another commit, or against another torch, are not evidence about the same thing.
MUST_AGREE = {"git_commit": "commits", "torch": "torch versions"}


class MixedRuns(ValueError):
    """The runs to merge were made at different commits or torch versions."""


def load_runs(records_dirs, *, allow_mixed: bool = False) -> Run:
    """Merge several records directories (the shards of one split, or runs on several
    machines) into one Run (one directory: that run, judged whole: a lone shard of a
    split is incomplete): every record of every run, and the reasons the merge is
    incomplete: a part's own (killed, crashed, no records), a shard missing from its
    split or given twice, shards of different splits. Runs at different commits or
    torch versions raise :class:`MixedRuns` unless ``allow_mixed``; the merged meta
    lists every run side by side (``meta['runs']``)."""
    dirs = [Path(d) for d in records_dirs]
    if len(dirs) == 1:  # one directory: a run of its own, unless it is one shard of a split
        run = load_run(dirs[0])
        run.problems += _shard_problems(dirs, [run])
        return run
    if len({d.resolve() for d in dirs}) < len(dirs):
        raise ValueError(f"a records directory is given twice: {', '.join(map(str, dirs))}")
    runs = [load_run(d) for d in dirs]
    for key, what in MUST_AGREE.items():
        values = [r.meta.get(key) or "unknown" for r in runs]
        if len(set(values)) > 1 and not allow_mixed:
            listing = "; ".join(f"{d}: {v}" for d, v in zip(dirs, values))
            raise MixedRuns(f"refusing to merge runs made at different {what} ({listing}): their records do not judge "
                            "the same code. Pass --allow-mixed to merge them anyway (the report then lists the runs "
                            "side by side).")
    problems = [f"{_label(d, r.meta)}: {p}" for d, r in zip(dirs, runs) for p in r.problems]
    problems += _shard_problems(dirs, runs)
    meta = _merged_meta(dirs, runs)
    snapshot = _merged_snapshot([r.snapshot for r in runs])
    return Run([rec for r in runs for rec in r.records], meta, snapshot, problems)


def _label(directory: Path, meta: dict) -> str:
    return f"{directory}" + (f" (shard {meta['shard']})" if meta.get("shard") else "")


def _shard_problems(dirs: list[Path], runs: list[Run]) -> list[str]:
    """Each split (a shard count and plan) must be present whole, each shard once."""
    splits: dict = {}
    for d, r in zip(dirs, runs):
        if not r.meta.get("shard"):
            continue
        index, count = (int(x) for x in str(r.meta["shard"]).split("/"))
        plan = _shard_plan(d, r.meta).get("plan", "unknown")
        splits.setdefault(count, {}).setdefault(plan, {}).setdefault(index, []).append(d)
    out = []
    for count, plans in sorted(splits.items()):
        if len(plans) > 1:
            out.append(f"shards of {count} come from {len(plans)} different splits (plans "
                       f"{', '.join(sorted(plans))}: another selection, catalog or durations file); together they may "
                       "run a test twice or not at all")
        for plan, shards in plans.items():
            missing = [i for i in range(1, count + 1) if i not in shards]
            if missing:
                out.append(f"shard{'s' if len(missing) > 1 else ''} {', '.join(f'{i}/{count}' for i in missing)} "
                           f"missing from the merge (plan {plan}): the merged run is incomplete")
            for i, where in sorted(shards.items()):
                if len(where) > 1:
                    out.append(f"shard {i}/{count} given {len(where)} times ({', '.join(map(str, where))}): its "
                               "records would count twice")
    return out


def _merged_meta(dirs: list[Path], runs: list[Run]) -> dict:
    metas = [r.meta for r in runs]

    def one(key):
        values = list(dict.fromkeys(str(m[key]) for m in metas if m.get(key) is not None))
        return values[0] if len(values) == 1 else (" | ".join(values) if values else None)

    merged = {k: one(k) for k in ("profile", "seed", "impl", "torch", "numpy", "git_commit", "device_selection",
                                  "catalog", "cuda", "jobs")}
    merged.update({k: next((m[k] for m in metas if m.get(k)), None) for k in ("project_root", "impl_path")})
    classes = [m.get("classes") for m in metas]
    merged["classes"] = None if any(c is None for c in classes) else list(dict.fromkeys(x for c in classes for x in c))
    durations = [m.get("duration_s") for m in metas]
    merged["duration_s"] = round(sum(durations), 2) if all(isinstance(x, (int, float)) for x in durations) else None
    started, finished = [m["started"] for m in metas if m.get("started")], [m["finished"] for m in metas
                                                                           if m.get("finished")]
    merged["started"], merged["finished"] = min(started, default=None), max(finished, default=None)
    merged["state"] = "finished" if all(not r.problems for r in runs) else "incomplete"
    merged["runs"] = [{"dir": str(d), "shard": r.meta.get("shard"), "git_commit": r.meta.get("git_commit"),
                       "torch": r.meta.get("torch"), "numpy": r.meta.get("numpy"), "host": r.meta.get("host"),
                       "profile": r.meta.get("profile"), "state": r.meta.get("state"),
                       "pytest_exit_code": r.meta.get("pytest_exit_code"), "records": len(r.records),
                       "duration_s": r.meta.get("duration_s"), "started": r.meta.get("started"),
                       "complete": not r.problems} for d, r in zip(dirs, runs)]
    return merged


def _merged_snapshot(snapshots: list[dict]) -> dict:
    """One catalog snapshot: the first run's, completed by the others' (identical at one commit)."""
    snapshots = [s for s in snapshots if s]
    if not snapshots:
        return {}
    out = json.loads(json.dumps(snapshots[0]))
    for snap in snapshots[1:]:
        for key, value in snap.items():
            if isinstance(value, dict):
                out[key] = {**value, **out.get(key, {})}
            elif isinstance(value, list):
                out[key] = out.get(key, []) + [v for v in value if v not in out.get(key, [])]
    return out


def severity_key(rec: Record):
    """Most harmful first: by kind (:data:`HARM`'s order, then :data:`HARNESS`'s);
    within a kind, disagreements without a headroom (no value, a misshapen one, an
    exception, a NaN pattern) first, then larger headroom; then by name."""
    h = headroom_of(rec)
    return (_RANK[harm_kind(rec)], 0 if h is None else 1, -(h or 0.0),
            rec.entry, rec.check, rec.dtype, rec.device, rec.mode, rec.example, rec.what)




def discrepancies(records: list[Record]) -> list[Record]:
    return sorted((r for r in records if r.verdict in DISCREPANT), key=severity_key)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", text).strip("_")


def discrepancy_ids(recs: list[Record]) -> list[str]:
    """Readable, stable ids: Class-check-dtype-device-mode[-example][-variant], made unique."""
    seen: Counter = Counter()
    out = []
    for r in recs:
        parts = (r.entry, r.check, r.dtype, r.device, r.mode, r.example, variant(r))
        base = _slug("-".join(p for p in parts if p)) or "discrepancy"
        seen[base] += 1
        out.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return out


def case_text(case_json: str | None, max_elements: int = 64) -> str:
    """The minimal example, readable: a summary line and every input's values."""
    if not case_json:
        return ""
    import numpy as np

    from .case import Case

    try:
        case = Case.from_json(case_json)
    except Exception as e:  # an unreadable case must not stop the report
        return f"(case JSON unreadable: {e})"
    lines = [case.summary()]

    def show(name, x):
        if isinstance(x, np.ndarray):
            if x.size <= max_elements:
                body = np.array2string(x, precision=9, threshold=max_elements, max_line_width=100)
            else:
                body = f"({x.size} elements; full values in the Case JSON)"
            lines.append(f"{name} = " + body.replace("\n", "\n" + " " * (len(name) + 3)))
        elif isinstance(x, (tuple, list)):
            for i, v in enumerate(x):
                show(f"{name}[{i}]", v)
        else:
            lines.append(f"{name} = {x!r}")

    for i, a in enumerate(case.args):
        show(f"input[{i}]", a)
    for k, v in case.fkwargs.items():
        show(k, v)
    return "\n".join(lines)


def item(rec: Record, did: str | None = None) -> dict:
    """A record as the report shows it."""
    d = asdict(rec)
    d["class"] = d.pop("entry")
    d["id"] = did
    d["case_text"] = case_text(rec.minimal_example)
    d["first_line"] = next(iter((rec.message or rec.problem or "").strip().splitlines()), "")
    m = re.search(r"@reproduce_failure\([^)]*\)", rec.reproduce_blob or "")
    d["reproduce_decorator"] = m.group(0) if m else (rec.reproduce_blob or "").strip() or None
    d["harm"], d["problem_kind"], d["variant"] = harm_kind(rec), problem_kind(rec), variant(rec)
    d["identity"] = identity_text(rec)
    d["input_line"] = input_line(rec.minimal_example)
    return d


def input_line(case_json: str | None, width: int = 160) -> str:
    """The shrunk input on one line: the call and its arguments' values (shortened)."""
    if not case_json:
        return ""
    import numpy as np

    from .case import Case

    try:
        case = Case.from_json(case_json)
    except Exception:  # an unreadable case must not stop the report
        return "(unreadable case)"

    def show(x):
        if isinstance(x, np.ndarray):
            return np.array2string(x, precision=6, threshold=8, edgeitems=2, max_line_width=10**6, separator=", ")
        if isinstance(x, (tuple, list)):
            return "(" + ", ".join(show(v) for v in x) + ")"
        return repr(x)

    call = f"{case.entry}({', '.join(f'{k}={v!r}' for k, v in case.kwargs.items())})" + (f".{case.method}" if case.method else "")
    args = [show(a) for a in case.args] + [f"{k}={show(v)}" for k, v in case.fkwargs.items()]
    text = " ".join(f"{call}({', '.join(args)})".split())
    return text if len(text) <= width else text[: width - 3] + "..."


# -- folding: one class's discrepancies of one kind are one item ----------------------
def _canonical(x):
    """An encoded Case value (nnparity.case.encode) compared by value: arrays as shape
    and values rounded to float32 (so the float32 and float64 runs of one shrunk input
    match), without dtype or contiguity."""
    import numpy as np

    if isinstance(x, dict):
        if "__ndarray__" in x:
            values = x["values"]
            if np.issubdtype(np.dtype(x["__ndarray__"]), np.floating):
                with np.errstate(over="ignore"):
                    values = [repr(float(np.float32(float.fromhex(v)))) for v in values]
            return {"shape": x["shape"], "values": values}
        if "__float__" in x:
            return repr(float.fromhex(x["__float__"]))
        return {k: _canonical(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_canonical(v) for v in x]
    return x


def input_signature(rec: Record) -> str:
    """The shrunk input of a discrepancy, by value: constructor kwargs, the method
    called and every forward argument (shapes and values; see :func:`_canonical`).
    Dtype, device, mode, seed, contiguity and the parameter regime are left out.
    A record without a case (the errors check) is known by its example's id."""
    if not rec.minimal_example:
        return json.dumps({"example": rec.example})
    try:
        case = json.loads(rec.minimal_example)
    except json.JSONDecodeError:
        return json.dumps({"unreadable": rec.minimal_example})
    parts = {k: _canonical(case.get(k)) for k in ("kwargs", "method", "args", "fkwargs")}
    return json.dumps(parts, sort_keys=True)


def _element(rec: Record):
    return tuple(rec.worst_index) if rec.worst_index is not None else None


def _check_order(checks) -> list[str]:
    known = [c for c in CHECK_KINDS if c in checks]
    return known + sorted(c for c in checks if c not in CHECK_KINDS)


@dataclass
class Fold:
    """Discrepancies of one class and kind that fail on the same shrunk input at the
    same element: one root cause seen by several checks (and dtypes, devices, modes)."""

    records: list  # most harmful first

    @property
    def worst(self) -> Record:
        return self.records[0]

    @property
    def checks(self) -> list[str]:
        return _check_order({r.check for r in self.records})


@dataclass
class Item:
    """One entry of the triage list: one class's discrepancies of one kind, folded."""

    cls: str
    kind: str
    folds: list  # Folds, most harmful first

    @property
    def records(self) -> list:
        return sorted((r for f in self.folds for r in f.records), key=severity_key)

    @property
    def worst(self) -> Record:
        return self.folds[0].worst

    @property
    def checks(self) -> list[str]:
        return _check_order({r.check for f in self.folds for r in f.records})

    @property
    def headroom(self) -> float | None:
        values = [h for h in (headroom_of(r) for f in self.folds for r in f.records) if h is not None]
        return max(values) if values else None


def triage(records: list[Record]) -> list[Item]:
    """The triage list: every discrepancy in one item per (class, kind), most harmful
    first (the order of each item's most harmful discrepancy, :func:`severity_key`).
    Within an item, the discrepancies that share a shrunk input
    (:func:`input_signature`) and fail at the same element (``worst_index``) are one
    :class:`Fold`, listing the checks that saw it."""
    groups: dict = {}
    for rec in discrepancies(records):
        groups.setdefault((rec.entry, harm_kind(rec)), {}).setdefault((input_signature(rec), _element(rec)), []).append(rec)
    items = [Item(cls, kind, [Fold(recs) for recs in folds.values()]) for (cls, kind), folds in groups.items()]
    return sorted(items, key=lambda it: severity_key(it.worst))


def class_verdicts(items: list[Item]) -> list[dict]:
    """One line per class with discrepancies, in the order of its most harmful item:
    its kinds, the checks that fail, the largest headroom, and its most harmful
    discrepancy (whose worst element and shrunk input the report shows)."""
    by_class: dict = {}
    for it in items:
        by_class.setdefault(it.cls, []).append(it)
    out = []
    for cls, its in by_class.items():
        recs = [r for it in its for r in it.records]
        heads = [h for h in (headroom_of(r) for r in recs) if h is not None]
        out.append({"class": cls, "kinds": [it.kind for it in its], "checks": _check_order({r.check for r in recs}),
                    "discrepancies": len(recs), "headroom": max(heads) if heads else None, "worst": its[0].worst,
                    "items": its})
    return out


# -- identity across runs, and the comparison with a baseline -------------------------
def variant(rec: Record) -> str:
    """Which parametrisation of a check a record is, beyond its fields: the layout
    (layouts check) and the module method, from the case (or a skip's extra)."""
    layout, method = rec.extra.get("layout", ""), rec.extra.get("method", "")
    if rec.minimal_example:
        try:
            case = json.loads(rec.minimal_example)
            layout, method = case.get("layout", layout), case.get("method", method)
        except json.JSONDecodeError:
            pass
    return "+".join(p for p in ((layout if layout != "batched" else ""), method) if p)


def identity(rec: Record) -> tuple:
    """What makes two runs' discrepancies the same one: class, check, dtype, device,
    mode, fixed example, variant (layout, method), the array judged worst, and the
    problem kind. Not the headroom, the shrunk case or the seed, which change between
    runs while the disagreement stays."""
    return (rec.entry, rec.check, rec.dtype, rec.device, rec.mode, rec.example, variant(rec), rec.what,
            problem_kind(rec))


def identity_text(rec: Record) -> str:
    return " / ".join(p for p in identity(rec) if p)


def _scope(rec: Record) -> tuple:
    return identity(rec)[:7]


#: The three groups of a comparison with a baseline, in the report's order.
BASELINE_GROUPS = {
    "new": "not in the baseline",
    "still failing": "in the baseline too",
    "fixed": "in the baseline; the same check ran here and passed",
}


@dataclass
class Baseline:
    source: str
    records: list
    meta: dict
    problems: list = field(default_factory=list)  # the baseline run was incomplete


def load_baseline(path) -> Baseline:
    """An earlier run: its ``results.json`` (or a report folder holding one), or its
    records directory."""
    p = Path(path)
    if p.is_dir() and (p / "results.json").exists():
        p = p / "results.json"
    if p.is_dir():
        run = load_run(p)
        return Baseline(str(p), run.records, run.meta, run.problems)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such baseline (a results.json, a report folder or a records directory)")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        records = [record_from_dict(r) for r in data["records"]]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{p}: not an nnparity results.json ({type(e).__name__}: {e})") from None
    meta = dict(data.get("meta", {}))
    meta["torch"] = meta.get("torch") or (data.get("environment") or {}).get("torch")  # the run's, else the renderer's
    problems = [data["meta"]["incomplete"]] if data.get("meta", {}).get("incomplete") else []
    return Baseline(str(p), records, meta, problems)


def _baseline_mismatches(meta: dict, base: dict) -> list[str]:
    """What makes the baseline another kind of run: torch version, profile, package under test."""
    out = []
    for key, name in (("torch", "torch"), ("profile", "profile"), ("impl", "package under test")):
        here, there = meta.get(key), base.get(key)
        if here and there and str(here) != str(there):
            out.append(f"{name} {there} in the baseline, {here} here")
    return out


def compare_with_baseline(records: list[Record], meta: dict, baseline: Baseline) -> dict:
    """Mark this run's discrepancies new or still failing, and find the baseline's
    that are fixed (their check ran here, the same scope, and nothing failed in it).
    Baseline discrepancies whose scope did not run here are 'not run' (not fixed);
    those whose scope fails here in another way are 'changed' (the new one is new)."""
    now = discrepancies(records)
    then = discrepancies(baseline.records)
    then_ids = {identity(r) for r in then}
    now_ids = {identity(r) for r in now}
    ran = {_scope(r) for r in records if r.verdict in ("pass",) + DISCREPANT}
    failing = {_scope(r) for r in now}
    status = {id(r): ("still failing" if identity(r) in then_ids else "new") for r in now}
    fixed, changed, not_run, seen = [], [], [], set()
    for r in then:
        key = identity(r)
        if key in now_ids or key in seen:
            continue
        seen.add(key)
        scope = _scope(r)
        (changed if scope in failing else fixed if scope in ran else not_run).append(r)
    return {"source": baseline.source, "meta": {k: baseline.meta.get(k) for k in ("torch", "profile", "impl", "seed",
                                                                                  "started", "finished")},
            "mismatches": _baseline_mismatches(meta, baseline.meta), "incomplete": list(baseline.problems),
            "status": status, "new": [r for r in now if status[id(r)] == "new"],
            "still failing": [r for r in now if status[id(r)] == "still failing"], "fixed": fixed,
            "changed": changed, "not run": not_run}
