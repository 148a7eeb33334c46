"""The README's coverage listing stays true: its counts are the catalog's."""

from __future__ import annotations

import re

from nnparity.vocab import torch_nn_classes
from properties.catalog import CATALOG, NOT_YET, OUT_OF_SCOPE

from .suite_runner import ROOT


def _coverage() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Coverage")
    end = text.find("\n## ", start + 3)
    return text[start:end if end != -1 else None]


def test_readme_coverage_counts_are_the_catalogs():
    section = _coverage()
    torch_classes = set(torch_nn_classes())
    catalogued = [n for n in CATALOG if n in torch_classes]
    assert f"in the catalog: {len(catalogued)} torch.nn classes" in section
    assert f"{len(torch_classes)} Module subclasses in torch" in section
    assert f"out of scope with a reason ({len(OUT_OF_SCOPE)})" in section
    assert ("not yet: none" in section) if not NOT_YET else (f"not yet ({len(NOT_YET)})" in section)
    groups = [int(n) for n in re.findall(r"^  - [A-Za-z ,]+\((\d+)(?:, [^)]*)?\)", section, re.M)]
    # the sub-list counts (each family line, and the convolutions line's padding and spatial parts) add up
    parts = [int(n) for n in re.findall(r"\b(?:padding|spatial) \((\d+)\)", section)]
    assert sum(groups) + sum(parts) == len(catalogued), (groups, parts)
