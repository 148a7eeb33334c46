"""The harness owns its model: nnparity/ imports nothing from properties/ or tests/,
has no import cycle, and renders a report and a gate verdict from a records
directory alone (copied elsewhere, with the catalog that made it changed since)."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nnparity"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def test_importing_every_nnparity_module_loads_nothing_from_properties_or_tests():
    names = sorted(_modules())
    code = ("import importlib, json, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('properties', 'tests', 'conftest', 'bench'))\n"
            "print(json.dumps(bad))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NNPARITY_")}
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1]) == []


def _intra_imports(name: str, path: Path, known: set) -> set:
    """Modules of nnparity imported at module level by ``name`` (imports inside
    functions are deferred on purpose and cannot form a cycle at import time)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                for candidate in (f"{target}.{alias.name}", target):
                    if candidate in known:
                        out.add(candidate)
                        break
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
    out.discard(name)
    return out


def test_no_import_cycle_inside_nnparity():
    modules = _modules()
    known = set(modules)
    graph = {name: _intra_imports(name, path, known) for name, path in modules.items()}
    # a package's __init__ is imported before its submodules: importing the package is not a cycle
    graph = {n: {d for d in deps if not n.startswith(d + ".")} for n, deps in graph.items()}
    state: dict = {}

    def visit(node, stack):
        state[node] = "open"
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                cycle = stack[stack.index(dep):] + [dep]
                pytest.fail("import cycle in nnparity: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep, stack + [dep])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


@pytest.mark.slow
def test_a_copied_records_directory_renders_after_the_catalog_changed(tmp_path):
    """A run's records, copied to another place, render and gate there, against a
    project whose catalog no longer imports: the report reads only the records
    directory (its catalog snapshot included)."""
    records = tmp_path / "run" / "records"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NNPARITY_")}
    res = subprocess.run([sys.executable, "-m", "pytest", "properties/test_forward.py", "-p", "no:cacheprovider", "-q",
                          "-p", "no:xdist", "--nn=ReLU,Tanh", "-k", "float32 and cpu and train", f"--records={records}",
                          "--hypothesis-profile=ci"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    copied = tmp_path / "elsewhere" / "records"
    shutil.copytree(records, copied)
    shutil.rmtree(records)
    broken = tmp_path / "broken_catalog"
    broken.mkdir()
    (broken / "changed_catalog.py").write_text("raise ImportError('this catalog was changed and no longer loads')\n")
    env.update(NNPARITY_CATALOG="changed_catalog", PYTHONPATH=os.pathsep.join([str(broken), str(ROOT)]))
    out = tmp_path / "report"
    res = subprocess.run([sys.executable, "-m", "nnparity", "report", "--records", str(copied), "--out", str(out)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads((out / "results.json").read_text())
    rows = {r["class"]: r["cells"] for r in data["matrix"]["rows"]}
    assert rows["ReLU"]["forward"]["status"] == "pass" and rows["Tanh"]["forward"]["status"] == "pass"
    assert rows["Conv2d"]["forward"]["status"] == "not run"  # catalogued (the snapshot says), not in this run
    not_yet = data["catalog"].get("not_yet") or {}
    if not_yet:  # a class without an entry, placed by the snapshot
        assert rows[sorted(not_yet)[0]]["forward"]["status"] == "not implemented"
    assert data["catalog"]["classes"]["ReLU"]["checks"]  # the snapshot travelled with the records
    res = subprocess.run([sys.executable, "-m", "nnparity", "gate", "--records", str(copied), "--out", str(out),
                          "--allowlist", str(ROOT / "allowlist.toml")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and "PASS" in res.stdout, res.stdout + res.stderr


@pytest.mark.slow
@pytest.mark.parametrize("scenario, expected", [("allowlisted", 0), ("new", 1), ("nothing-collected", 1)])
def test_ci_run_is_decided_by_the_gate(tmp_path, scenario, expected):
    """.ci/run's verdict is the gate's: an allowlisted discrepancy passes although
    pytest failed; a new one fails; a run that collected nothing (pytest exit 5)
    fails. `make` is replaced by a stand-in that writes the records a real run would."""
    sys.path.insert(0, str(ROOT))
    from tests import _synthetic
    from nnparity.records import Record

    build = tmp_path / "build"
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    recs = [Record(entry="ReLU", check="forward", verdict="fail", dtype="float32", device="cpu", mode="train",
                    message="ReLU forward: the twin disagrees"),
            Record(entry="ReLU", check="forward", verdict="pass", dtype="float64", device="cpu", mode="train")]
    staged = _synthetic.write(tmp_path / "staged", recs=recs, torn=False,
                              meta={"pytest_exit_code": 5 if scenario == "nothing-collected" else 1})
    (fake_bin / "make").write_text(f"#!/bin/sh\nmkdir -p {build}\ncp -r {staged} {build}/records\nexit 1\n")
    (fake_bin / "make").chmod(0o755)
    allow = tmp_path / "allow.toml"
    allow.write_text('[[allow]]\nclass = "ReLU"\ncheck = "forward"\ndtype = "float32"\ndevice = "*"\n'
                     'reason = "test"\nlink = "tests/test_layout.py"\n' if scenario != "new" else "# nothing\n")
    env = dict(os.environ, PATH=f"{fake_bin}{os.pathsep}{os.environ['PATH']}", CI_BUILD_DIR=str(build),
               NNPARITY_ALLOWLIST=str(allow))
    res = subprocess.run(["bash", str(ROOT / ".ci" / "run")], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == expected, res.stdout + res.stderr


def test_catalog_files_never_import_impls():
    """The catalog is data about torch.nn classes, judged against any package under
    ``--impl``: an import of ``impls`` from a family file would make a foreign package's
    run fail (ImportError) or, worse, compare the foreign twin with this project's."""
    offenders = []
    for path in sorted((ROOT / "properties").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names
                          if n.split(".")[0] == "impls"]
    assert not offenders, "\n".join(offenders)


@pytest.mark.slow
def test_a_foreign_package_is_judged_through_the_contract_alone(tmp_path):
    """The harness and the catalog reach twins only through ``--impl``: the project
    without ``impls/``, an ``impls`` that cannot be imported first on the path, and
    the twins under another name (a copy, so its modules import one another
    relatively). Entries that once imported ``impls`` internals (the triplet loss's
    distances) and composites (Sequential with Dropout, noise by module path) run."""
    proj = tmp_path / "proj"
    proj.mkdir()
    for name in ("nnparity", "properties", "reference"):
        shutil.copytree(ROOT / name, proj / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, proj / name)
    shutil.copytree(ROOT / "impls", tmp_path / "otherpkg", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "blocker" / "impls").mkdir(parents=True)
    (tmp_path / "blocker" / "impls" / "__init__.py").write_text(
        "raise ImportError('impls imported: the harness and the catalog must reach twins only through --impl')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NNPARITY_", "PYTEST_XDIST"))}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "blocker"), str(tmp_path)])
    res = subprocess.run([sys.executable, "-m", "pytest", "properties", "-p", "no:xdist", "-p", "no:cacheprovider", "-q",
                          "--impl", "otherpkg", "--hypothesis-profile=ci",
                          "--nn", "TripletMarginWithDistanceLoss,ReLU,Sequential,Dropout,Conv2d",
                          "-k", "not cuda and float32 and (forward or errors or api)"],
                         cwd=proj, env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0 and " passed" in res.stdout, res.stdout[-3000:] + res.stderr[-3000:]
