"""coverage: every class in the installed torch.nn is in the catalog, or listed in
properties/catalog/scope.py (out of scope with a reason, or "not yet")."""

from __future__ import annotations

import inspect
import warnings

import torch

from properties.catalog import CATALOG
from properties.catalog.scope import NOT_YET, OUT_OF_SCOPE


def torch_nn_classes() -> list[str]:
    return sorted(n for n in dir(torch.nn) if inspect.isclass(getattr(torch.nn, n)) and issubclass(getattr(torch.nn, n), torch.nn.Module))


def coverage_counts() -> dict:
    names = torch_nn_classes()
    return {
        "torch.nn classes": len(names),
        "in the catalog": sum(n in CATALOG for n in names),
        "out of scope": sum(n in OUT_OF_SCOPE and n not in CATALOG for n in names),
        "not yet": sum(n in NOT_YET and n not in CATALOG for n in names),
    }


def test_every_torch_nn_class_is_placed():
    names = torch_nn_classes()
    unplaced = [n for n in names if n not in CATALOG and n not in OUT_OF_SCOPE and n not in NOT_YET]
    assert not unplaced, (f"torch.nn classes neither in the catalog nor in properties/catalog/scope.py: {unplaced}. "
                          "Add a catalog entry, or list them with a reason.")


def test_scope_lists_only_real_classes():
    names = set(torch_nn_classes())
    unknown = sorted((set(OUT_OF_SCOPE) | set(NOT_YET) | set(CATALOG)) - names)
    assert not unknown, f"listed but not in the installed torch.nn (typo, or removed from torch): {unknown}"
    for name, reason in {**OUT_OF_SCOPE, **NOT_YET}.items():
        assert reason.strip(), f"{name}: a scope entry needs a reason"


def test_stale_scope_entries_warn():
    """Implemented classes still listed as out of scope or not yet: warn, so the list is cleaned."""
    stale = sorted(n for n in CATALOG if n in OUT_OF_SCOPE or n in NOT_YET)
    if stale:
        warnings.warn(f"scope.py lists implemented classes (stale): {stale}", stacklevel=1)
    counts = coverage_counts()
    assert counts["in the catalog"] + counts["out of scope"] + counts["not yet"] == counts["torch.nn classes"]
