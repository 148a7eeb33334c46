"""impls/ imports nothing but numpy and the standard library (AST scan of every file)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

IMPLS = Path(__file__).resolve().parent.parent / "impls"
ALLOWED_THIRD_PARTY = {"numpy"}


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def test_impls_is_pure_numpy():
    stdlib = set(sys.stdlib_module_names)
    offenders = []
    for path in sorted(IMPLS.rglob("*.py")):
        for lineno, name in _imports(path):
            top = name.split(".")[0]
            if top not in stdlib and top not in ALLOWED_THIRD_PARTY:
                offenders.append(f"{path.relative_to(IMPLS.parent)}:{lineno} imports {name}")
    assert not offenders, "impls/ must be pure NumPy + standard library:\n" + "\n".join(offenders)


def test_impls_imports_itself_relatively():
    """Absolute 'import impls...' would break a renamed copy (plug-ins, mutation tests)."""
    offenders = [f"{p.relative_to(IMPLS.parent)}:{ln}" for p in sorted(IMPLS.rglob("*.py"))
                 for ln, name in _imports(p) if name.split(".")[0] == "impls"]
    assert not offenders, "use relative imports inside impls/: " + ", ".join(offenders)


def test_the_scan_sees_a_forbidden_import(tmp_path):
    """The scan itself can fail: it flags torch in a file."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom torch import nn\n")
    assert [n for _, n in _imports(bad)] == ["os", "torch"]
