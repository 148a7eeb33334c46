"""The conformance matrix (every class of the installed torch.nn x every check kind)
and the coverage counts, from the records and the run's catalog snapshot."""

from __future__ import annotations

from collections import Counter, defaultdict

from ..records import Record

__all__ = ["STATUSES", "build_matrix", "coverage"]

#: matrix cell statuses, with what each means
STATUSES = {
    "pass": "judged and within tolerance",
    "fail": "a discrepancy (verdict fail, error or not-judged)",
    "n/a": "the check does not apply to this class",
    "not implemented": "no catalog entry, or the package under test lacks the class",
    "out of scope": "deliberately left out of the catalog, with a reason",
    "skip": "every run of this check was skipped with a reason (e.g. CUDA absent)",
    "not run": "applies, but no record in this run (filtered out)",
}


def _cell(applies: bool, recs: list[Record]) -> dict:
    counts = Counter(r.verdict for r in recs)
    cell = {"status": "", "counts": dict(counts), "note": "", "arbitrated": 0}
    bad = counts["fail"] + counts["error"] + counts["not-judged"]
    if not applies:
        cell["status"] = "n/a"
    elif not recs:
        cell["status"] = "not run"
    elif bad:
        cell["status"] = "fail"
        cell["note"] = f"{bad} of {len(recs)} runs"
    elif counts["pass"]:
        cell["status"] = "pass"
        cell["arbitrated"] = sum(1 for r in recs if r.verdict == "pass" and r.extra.get("arbitrated"))
        skipped = counts["skip"]
        cell["note"] = f"{counts['pass']} runs" + (f", {skipped} skipped" if skipped else "")
    elif counts["not-implemented"]:
        cell["status"] = "not implemented"
        cell["note"] = "the package under test lacks the class"
    else:
        cell["status"] = "skip"
        cell["note"] = next((r.message for r in recs if r.message), "")
    return cell


def build_matrix(records: list[Record], snapshot: dict) -> dict:
    checks = list(snapshot.get("check_kinds", []))
    classes = snapshot.get("classes", {})
    scope, not_yet = snapshot.get("out_of_scope", {}), snapshot.get("not_yet", {})
    by = defaultdict(list)
    for r in records:
        by[(r.entry, r.check)].append(r)
    rows = []
    for cls in sorted(set(snapshot.get("torch_nn_classes", [])) | set(classes)):
        info = classes.get(cls)
        if info is None:
            status = "out of scope" if cls in scope else "not implemented"
            note = scope.get(cls) or ("no catalog entry yet" + (" (not yet)" if cls in not_yet else ""))
            cells = {c: {"status": status, "counts": {}, "note": note, "arbitrated": 0} for c in checks}
        else:
            cells = {c: _cell(c in info["checks"], by.get((cls, c), [])) for c in checks}
        rows.append({"class": cls, "in_catalog": info is not None, "scope_reason": scope.get(cls), "cells": cells})
    return {"checks": checks, "descriptions": snapshot.get("check_descriptions", {}), "rows": rows,
            "statuses": STATUSES}


def coverage(matrix: dict, records: list[Record], snapshot: dict) -> dict:
    rows = matrix["rows"]
    nn_classes = set(snapshot.get("torch_nn_classes", []))
    catalog = set(snapshot.get("classes", {}))
    cells = Counter(cell["status"] for row in rows if row["in_catalog"] for cell in row["cells"].values())
    not_impl = sorted({r.entry for r in records if r.verdict == "not-implemented"})
    return {
        "torch_nn_classes": len(nn_classes),
        "in_catalog": len(nn_classes & catalog),
        "catalog_entries": len(catalog),
        "out_of_scope": sum(1 for r in rows if not r["in_catalog"] and r["scope_reason"]),
        "not_covered": sum(1 for r in rows if not r["in_catalog"] and not r["scope_reason"]),
        "classes_run": len({r.entry for r in records if r.verdict in ("pass", "fail", "error", "not-judged")}),
        "impl_lacks": not_impl,
        "cells": dict(cells),
        "records": len(records),
        "verdicts": dict(Counter(r.verdict for r in records)),
        "examples_run": sum(r.examples_run for r in records),
        "by_check": {c: dict(Counter(r.verdict for r in records if r.check == c)) for c in matrix["checks"]},
    }
