"""The report's triage data: the per-class verdict, the triage list (items folded by
root cause, most harmful first) and the comparison with a baseline, as JSON for
results.json and the templates. The logic (harm kinds, folding, identity) is
``nnparity.results``'; this module only shapes it."""

from __future__ import annotations

from ..results import (BASELINE_GROUPS, HARM, HARNESS, KIND_DETAILS, KINDS, headroom_of, identity_text, input_line,
                       variant)

__all__ = ["ORDER", "ORDER_NOTE", "FOLD_TEXT", "triage_json", "classes_json", "baseline_json"]

#: The order, as the report states it: the kinds, most harmful first, and how ties go.
ORDER = [{"kind": k, "title": title, "details": KIND_DETAILS[k]} for k, title in HARM.items()]
ORDER_NOTE = ("Within each kind, disagreements without a headroom (no value, a wrong shape, an exception, a NaN "
              "pattern) come first, then larger headroom. Harness errors and checks that judged nothing follow the "
              "twin's discrepancies in their own list: they say nothing about the twin's harm, and they fail the "
              "gate all the same (they cannot be allowlisted).")
FOLD_TEXT = ("One item is one class's discrepancies of one kind: a wrong formula shows in forward, gradients, layouts "
             "and special values alike. Within an item, the discrepancies that fail on the same shrunk input "
             "(compared by value: dtype, device, mode and seed aside) at the same element are folded into one line, "
             "with the checks that saw it; each keeps its repro script.")


def _ref(rec, ids: dict) -> dict:
    """A discrepancy as a fold lists it: its id (anchor and repro file) and where it ran."""
    did = ids[id(rec)]
    return {"id": did, "repro": f"repro/{did}.py", "check": rec.check, "dtype": rec.dtype, "device": rec.device,
            "mode": rec.mode, "example": rec.example, "variant": variant(rec), "what": rec.what, "problem": rec.problem,
            "headroom": headroom_of(rec), "verdict": rec.verdict}


def triage_json(items, ids: dict, status: dict | None) -> list[dict]:
    """The triage list: ``items`` (:func:`nnparity.results.triage`), numbered from 1;
    ``ids``: id(record) -> discrepancy id; ``status``: id(record) -> baseline group."""
    out = []
    for n, it in enumerate(items, 1):
        folds = [{"checks": f.checks, "element": f.worst.worst_index, "input": input_line(f.worst.minimal_example),
                  "records": [_ref(r, ids) for r in f.records]} for f in it.folds]
        groups = [status.get(id(r)) for r in it.records] if status is not None else []
        out.append({"number": n, "anchor": f"item-{n}", "class": it.cls, "kind": it.kind, "title": KINDS[it.kind],
                    "details": KIND_DETAILS[it.kind],
                    "harness": it.kind in HARNESS, "checks": it.checks, "headroom": it.headroom,
                    "discrepancies": len(it.records), "folds": folds, "worst": ids[id(it.worst)],
                    "baseline": {g: groups.count(g) for g in ("new", "still failing") if groups.count(g)}})
    return out


def classes_json(verdicts, triage_items: list[dict], ids: dict) -> list[dict]:
    """One line per class with discrepancies (:func:`nnparity.results.class_verdicts`),
    with its baseline counts (new, still failing) where the items have them."""
    number = {(t["class"], t["kind"]): t["number"] for t in triage_items}
    base: dict = {}
    for t in triage_items:
        for g, n in t["baseline"].items():
            base.setdefault(t["class"], {}).setdefault(g, 0)
            base[t["class"]][g] += n
    out = []
    for v in verdicts:
        out.append({"class": v["class"], "anchor": f"class-{v['class']}", "checks": v["checks"],
                    "kinds": [{"kind": k, "title": KINDS[k], "item": number[(v["class"], k)]} for k in v["kinds"]],
                    "discrepancies": v["discrepancies"], "headroom": v["headroom"], "worst": ids[id(v["worst"])],
                    "baseline": base.get(v["class"], {})})
    return out


def baseline_json(comparison: dict | None, ids: dict) -> dict | None:
    """The comparison with a baseline (:func:`nnparity.results.compare_with_baseline`):
    the three groups, and the baseline discrepancies neither fixed nor still failing."""
    if comparison is None:
        return None

    def rows(recs, linked):
        return [{"identity": identity_text(r), "class": r.entry, "check": r.check, "dtype": r.dtype,
                 "device": r.device, "mode": r.mode, "example": r.example, "variant": variant(r), "what": r.what,
                 "problem": r.problem, "headroom": headroom_of(r), "id": ids.get(id(r)) if linked else None}
                for r in recs]

    groups = {g: rows(comparison[g], g != "fixed") for g in BASELINE_GROUPS}
    return {"source": comparison["source"], "meta": comparison["meta"], "mismatches": comparison["mismatches"],
            "incomplete": comparison["incomplete"], "groups": groups, "descriptions": BASELINE_GROUPS,
            "counts": {g: len(v) for g, v in groups.items()},
            "changed": rows(comparison["changed"], False), "not_run": rows(comparison["not run"], False)}
