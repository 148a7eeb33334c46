"""coverage: every class in the installed torch.nn is in the catalog, or placed out
of it with a reason (out of scope, or not yet); no placement is stale.

Not a per-class check: one set of problems for the whole catalog.
"""

from __future__ import annotations

from ..vocab import torch_nn_classes

__all__ = ["counts", "problems"]


def counts(catalog) -> dict:
    names = torch_nn_classes()
    return {
        "torch.nn classes": len(names),
        "in the catalog": sum(n in catalog.entries for n in names),
        "out of scope": sum(n in catalog.out_of_scope and n not in catalog.entries for n in names),
        "not yet": sum(n in catalog.not_yet and n not in catalog.entries for n in names),
    }


def problems(catalog) -> list[str]:
    """Everything wrong with the placement of torch.nn's classes, as sentences."""
    names = set(torch_nn_classes())
    placed = set(catalog.entries) | set(catalog.out_of_scope) | set(catalog.not_yet)
    out = []
    unplaced = sorted(names - placed)
    if unplaced:
        out.append(f"torch.nn classes neither in the catalog nor placed out of it with a reason: {unplaced}")
    unknown = sorted(placed - names)
    if unknown:
        out.append(f"listed but not in the installed torch.nn (a typo, or removed from torch): {unknown}")
    stale = sorted(n for n in catalog.entries if n in catalog.out_of_scope or n in catalog.not_yet)
    if stale:
        out.append(f"catalogued classes still listed as out of scope or not yet (stale placements): {stale}")
    both = sorted(set(catalog.out_of_scope) & set(catalog.not_yet))
    if both:
        out.append(f"listed both as out of scope and as not yet: {both}")
    empty = sorted(n for n, r in {**catalog.out_of_scope, **catalog.not_yet}.items() if not str(r).strip())
    if empty:
        out.append(f"placed without a reason: {empty}")
    return out
