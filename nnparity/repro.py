"""Standalone reproduction of one recorded discrepancy.

The report writes ``repro/<id>.py`` per discrepancy: a few lines that embed the
shrunk Case as JSON and call :func:`rerun`. The verdict comes from the same check
body the suite runs (``nnparity.checks.<kind>.body``, found through the registry);
the arrays printed beside it come from the engine (``forward_arrays`` /
``gradient_arrays``) on the same case. Checks without a per-case body
(randomness, errors) and records without a minimal example fall back to rerunning
the one pytest test by its node id.

Exit status of a repro script: 1 while the discrepancy exists, 0 once the twin
agrees with torch on the case, 2 when it cannot run here (e.g. CUDA absent).
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback

import numpy as np

__all__ = ["rerun", "script_text"]

#: check kind -> the parts whose arrays are printed beside the verdict
ARRAY_PARTS = {
    "forward": ("forward",),
    "gradients": ("gradients",),
    "special_values": ("forward", "gradients"),
    "layouts": ("forward", "gradients"),
}


def _show(label, twin, ref):
    opts = dict(precision=9, threshold=60, edgeitems=4, max_line_width=110)
    print(f"--- {label}")
    for side, value in (("twin ", twin), ("torch", ref)):
        if isinstance(value, np.ndarray):
            text = np.array2string(value, **opts).replace("\n", "\n       ")
            print(f"  {side} {value.dtype}{list(value.shape)}: {text}")
        else:
            print(f"  {side} {value!r}")


def _print_arrays(entry, case, impl, parts):
    from .engine import Pair, forward_arrays, gradient_arrays

    for part in parts:
        try:
            pair = Pair(entry, case, impl)
            twin, ref = forward_arrays(pair) if part == "forward" else gradient_arrays(pair)
        except Exception as e:  # the verdict below reports it in full
            print(f"--- {part}: raised {type(e).__name__}: {e}")
            continue
        for label, expected in ref.items():
            _show(f"{part}: {label}", twin.get(label), expected)


def _pytest_fallback(test_id: str, impl_name: str, root: str) -> int:
    if not test_id:
        print("nnparity repro: no minimal example and no test id were recorded; nothing to rerun")
        return 2
    cmd = [sys.executable, "-m", "pytest", test_id, "-p", "no:cacheprovider", "-q", "-p", "no:xdist", f"--impl={impl_name}"]
    print("nnparity repro: rerunning the recorded test: " + " ".join(cmd))
    code = subprocess.call(cmd, cwd=root)
    return 1 if code == 1 else (0 if code == 0 else 2)


def rerun(check: str, case_json: str | None, impl_name: str, test_id: str = "", root: str | None = None) -> int:
    """Rerun one case; print both sides and the verdict; return the exit status."""
    from pathlib import Path

    from .case import Case
    from .catalog import load_catalog
    from .checks import MODULES, body_for
    from .impl import load_impl
    from .messages import format_failure

    root = root or os.getcwd()
    module = MODULES.get(check)
    if not case_json or module is None or not hasattr(module, "body"):
        return _pytest_fallback(test_id, impl_name, root)
    case = Case.from_json(case_json)
    if case.device == "cuda":
        from reference import cuda_skip_reason

        if cuda_skip_reason("cuda"):
            print(f"nnparity repro: this case runs on CUDA, which is not available here: {cuda_skip_reason('cuda')}")
            return 2
    catalog = load_catalog(root=Path(root))
    if case.entry not in catalog.entries:
        print(f"nnparity repro: {case.entry} is not in this checkout's catalog ({catalog.source})")
        return 2
    entry, impl = catalog.entries[case.entry], load_impl(impl_name)
    print(f"nnparity repro: {check} check of {case.entry}")
    print(f"  case: {case.summary()}")
    print(f"  package under test: {impl.name} ({impl.root})")
    _print_arrays(entry, case, impl, ARRAY_PARTS.get(check, ()))
    try:
        comparisons = body_for(check, entry, impl)(case)
    except Exception:
        traceback.print_exc()
        print(f"\nREPRODUCED: the {check} check raised on this case (see the traceback above)")
        return 1
    bad = [c for c in comparisons if not c.ok]
    if bad:
        print("\n" + format_failure(entry.name, check, case, bad, test_id))
        print("\nREPRODUCED: the discrepancy is still there on this case")
        return 1
    if not any(c.extra.get("judged", True) for c in comparisons):
        print("\nnot judged: nothing on this case could be compared (e.g. every coordinate on a kink)")
        return 2
    print(f"\nnot reproduced: the two sides agree on this case ({len(comparisons)} arrays compared)")
    return 0


SCRIPT = '''#!/usr/bin/env python
"""nnparity discrepancy {id}: {title}

{first_line}

Run: python {filename}   (needs numpy, torch and the nnparity checkout at PROJECT_ROOT;
override with the env var NNPARITY_ROOT). Prints the twin's and torch's results and
exits 1 while the discrepancy exists, 0 once they agree, 2 if it cannot run here.
"""
import os
import sys

PROJECT_ROOT = os.environ.get("NNPARITY_ROOT", {root!r})
IMPL = os.environ.get("NNPARITY_IMPL", {impl!r})  # the package under test (override to try a fix elsewhere)
IMPL_PATH = {impl_path!r}
CHECK = {check!r}
TEST_ID = {test_id!r}
# The shrunk case (nnparity.case.Case.to_json; floats as float.hex, so NaN/inf/-0.0 survive).
CASE_JSON = {case_json!r}

if __name__ == "__main__":
    sys.path.insert(0, PROJECT_ROOT)
    if IMPL_PATH and IMPL_PATH not in sys.path:
        sys.path.append(IMPL_PATH)
    from nnparity.repro import rerun

    sys.exit(rerun(CHECK, CASE_JSON, IMPL, TEST_ID, PROJECT_ROOT))
'''


def script_text(did: str, rec, root: str, impl_path: str | None) -> str:
    title = " ".join(p for p in (rec.entry, rec.check, rec.dtype, rec.device, rec.mode, rec.example) if p)
    first = (rec.message or rec.problem or "").strip().splitlines()
    first_line = ("Recorded: " + first[0]) if first else "Recorded without a message."
    return SCRIPT.format(id=did, title=title, first_line=first_line.replace('"""', "'''"), filename=f"repro/{did}.py",
                         root=root, impl=rec.impl or "impls", impl_path=impl_path, check=rec.check,
                         test_id=rec.test_id, case_json=rec.minimal_example)
