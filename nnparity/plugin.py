"""The pytest plugin: Hypothesis profiles, options, the package under test, the
catalog, parametrisation of the check test files, records and run metadata.

The project's ``conftest.py`` loads it (``pytest_plugins = ["nnparity.plugin"]``).

Options (see README):
  --impl PACKAGE        judge another package that implements the contract (env NNPARITY_IMPL)
  --nn NAME[,NAME...]   run only these torch.nn classes (exact names; -k matches substrings)
  --records DIR         write one JSON record per check into DIR (env NNPARITY_RECORDS),
                        with the catalog's snapshot (catalog.json) and the run's meta.json
  --hypothesis-profile  ci | dev | deep (env NNPARITY_PROFILE; CI=true defaults to ci)
  --shard I/N           run the I-th of N deterministic parts of the suite (split by class,
                        balanced by --shard-durations; nnparity/shards.py)
  --shard-durations P   durations file in pytest-split's format (default .test_durations)
  --shard-store-durations  write this run's per-test durations into that file

A test module under ``properties/`` declares ``CHECK`` (a check kind),
``PARAM_NAMES`` and ``params(entry)``; the plugin parametrises its test function
over the selected catalog entries the check applies to. Test ids start with the
class name, so ``-k BatchNorm1d`` selects one class.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .catalog import load_catalog, snapshot
from .impl import IMPL_ENV, ImplError, load_impl
from .profiles import ExampleDatabaseError, default_profile, register_profiles
from .records import Record, RecordWriter, load_records
from .shards import DURATIONS_FILE, assign, load_durations, parse_shard, plan_fingerprint, write_durations
from .vocab import DISCREPANT

try:
    register_profiles()
    _DB_PROBLEM = None
except ExampleDatabaseError as _e:  # reported as a usage error in pytest_configure, not as an import traceback
    _DB_PROBLEM = str(_e)


def pytest_addoption(parser):
    group = parser.getgroup("nnparity")
    group.addoption("--impl", default=None, help=f"package implementing the contract (default: impls; env {IMPL_ENV})")
    group.addoption("--nn", default=None, help="comma-separated torch.nn class names to run (exact match)")
    group.addoption("--records", default=os.environ.get("NNPARITY_RECORDS"), help="directory for JSON-lines records")
    group.addoption("--shard", default=None, metavar="I/N",
                    help="run the I-th of N parts of the suite (1-based; split by class, balanced by recorded durations)")
    group.addoption("--shard-durations", default=None, metavar="PATH",
                    help=f"per-test durations in pytest-split's format (default {DURATIONS_FILE} in the root dir)")
    group.addoption("--shard-store-durations", action="store_true",
                    help="write this run's per-test durations (setup+call+teardown) into the durations file")


_WORKER: dict = {"is": False}  # set in pytest_configure: hooks without a config ask this


def _is_worker(config=None) -> bool:
    """Whether this session is an xdist worker: xdist gives a worker's config a
    ``workerinput``. (Not the PYTEST_XDIST_WORKER variable: a pytest started from a
    test inside a worker inherits it and is no worker.)"""
    return hasattr(config, "workerinput") if config is not None else _WORKER["is"]


def pytest_configure(config):
    if _DB_PROBLEM:
        raise pytest.UsageError(_DB_PROBLEM)
    try:
        config.nnparity_impl = load_impl(config.getoption("--impl"))
    except ImplError as e:
        raise pytest.UsageError(str(e)) from None
    try:
        config.nnparity_catalog = load_catalog(root=Path(str(config.rootpath)))
    except ValueError as e:
        raise pytest.UsageError(str(e)) from None
    entries = config.nnparity_catalog.entries
    wanted = config.getoption("--nn")
    if wanted:
        names = [n.strip() for n in wanted.split(",") if n.strip()]
        unknown = [n for n in names if n not in entries]
        if unknown:
            raise pytest.UsageError(f"--nn: unknown class name(s) {', '.join(unknown)}; the catalog has: {', '.join(entries)}")
        config.nnparity_entries = [entries[n] for n in names]
    else:
        config.nnparity_entries = list(entries.values())
    # The profile in force after Hypothesis' own plugin has read --hypothesis-profile.
    config.nnparity_profile = config.getoption("hypothesis_profile", None) or default_profile()
    given_seed = config.getoption("hypothesis_seed", None)
    config.nnparity_seed = 0 if config.nnparity_profile == "ci" else (
        int(given_seed) if given_seed is not None else secrets.randbits(32))
    try:
        shard = config.getoption("--shard")
        config.nnparity_shard = parse_shard(shard) if shard else None
        config.nnparity_durations_path = Path(config.getoption("--shard-durations") or
                                              Path(str(config.rootpath)) / DURATIONS_FILE)
        config.nnparity_durations = load_durations(config.nnparity_durations_path) if shard else {}
    except ValueError as e:
        raise pytest.UsageError(str(e)) from None
    records = config.getoption("--records")
    _WORKER["is"] = _is_worker(config)
    worker = config.workerinput["workerid"] if _is_worker(config) else "main"
    config.nnparity_writer = RecordWriter(records, worker) if records else None
    config.nnparity_failed = set()
    if records and not _is_worker(config):
        directory = Path(records)
        (directory / "shard.json").unlink(missing_ok=True)  # a previous run's plan; this run's shards rewrite it
        (directory / "catalog.json").write_text(json.dumps(snapshot(config.nnparity_catalog), indent=1),
                                                encoding="utf-8")
        _write_meta(config, {"state": "running"})


def _write_meta(config, extra: dict) -> None:
    import numpy
    import torch

    path = Path(config.getoption("--records")) / "meta.json"
    meta = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    meta.update({
        "profile": config.nnparity_profile,
        "seed": config.nnparity_seed if config.nnparity_profile != "ci" else
        "derandomised (per test: crc32 of class/check/dtype/device/mode)",
        "impl": config.nnparity_impl.name, "impl_path": str(Path(config.nnparity_impl.root).parent),
        "classes": [e.name for e in config.nnparity_entries], "catalog": config.nnparity_catalog.source,
        "argv": sys.argv[1:], "project_root": str(config.rootpath),
        "torch": torch.__version__, "numpy": numpy.__version__,
        "git_commit": git_commit(config.rootpath), "host": platform.node(),
        "shard": str(config.nnparity_shard) if config.nnparity_shard else None,
        "cuda": cuda_description(),
    })
    meta.setdefault("started", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    meta.update(extra)
    path.write_text(json.dumps(meta, indent=2), encoding="utf-8")


def git_commit(root) -> str:
    """The checkout's commit (``git rev-parse HEAD``), marked when the tree has
    uncommitted changes; 'unknown' outside git. Merges refuse runs of different commits."""
    try:
        run = lambda *a: subprocess.run(["git", *a], cwd=str(root), capture_output=True, text=True,  # noqa: E731
                                        timeout=10).stdout.strip()
        commit = run("rev-parse", "HEAD")
        dirty = run("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (commit + (" (uncommitted changes)" if dirty else "")) if commit else "unknown"


def cuda_description() -> str:
    from reference import cuda_device_name

    return cuda_device_name()


def shard_unit(item) -> str:
    """The unit a test is sharded with: its torch.nn class, or (a test of no class) its file."""
    entry = getattr(getattr(item, "callspec", None), "params", {}).get("entry")
    name = getattr(entry, "name", None)
    return f"class {name}" if name else f"file {item.nodeid.split('::', 1)[0]}"


@pytest.hookimpl(trylast=True)  # after -k / -m / --deselect: the shards split what is selected
def pytest_collection_modifyitems(session, config, items):
    shard = getattr(config, "nnparity_shard", None)
    if shard is None:
        return
    plan = assign([(item.nodeid, shard_unit(item)) for item in items], shard.count, config.nnparity_durations)
    keep = [item for item in items if plan[item.nodeid] == shard.index]
    drop = [item for item in items if plan[item.nodeid] != shard.index]
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep
    records = config.getoption("--records")
    if records:  # every process of the shard (xdist workers too) computes the same plan; the last write wins
        info = {**shard.to_json(), "plan": plan_fingerprint(plan, shard.count), "suite_tests": len(plan),
                "shard_tests": len(keep), "units": sorted({shard_unit(i) for i in keep}),
                "durations": str(config.nnparity_durations_path) if config.nnparity_durations else None}
        path = Path(records) / "shard.json"
        tmp = path.with_name(f"shard.json.{os.getpid()}")
        tmp.write_text(json.dumps(info, indent=1), encoding="utf-8")
        os.replace(tmp, path)


def pytest_report_header(config):
    import numpy
    import torch

    return (f"nnparity: impl={config.nnparity_impl.name} profile={config.nnparity_profile} "
            f"torch={torch.__version__} numpy={numpy.__version__} cuda={torch.cuda.is_available()} "
            f"classes={len(config.nnparity_entries)} catalog={config.nnparity_catalog.source}")


def param_id(class_name: str, combo: dict, names) -> str:
    """A check test's parameter id: the class, then each parameter's value. Fixed
    examples and invalid cases contribute their id; None or '' (a fuzzed run, the
    forward) nothing. ``Linear-float32-cpu-train``."""
    parts = [getattr(combo[n], "id", combo[n]) for n in names if combo[n] not in (None, "")]
    return "-".join([class_name] + [str(p) for p in parts])


def pytest_generate_tests(metafunc):
    module = metafunc.module
    if "entry" not in metafunc.fixturenames or not hasattr(module, "CHECK"):
        return
    from reference import cuda_skip_reason

    argnames = ["entry"] + [n for n in module.PARAM_NAMES if n in metafunc.fixturenames]
    values, ids = [], []
    for entry in metafunc.config.nnparity_entries:
        if not entry.applies(module.CHECK):
            continue
        for combo in module.params(entry):
            marks = []
            reason = cuda_skip_reason(combo.get("device", "cpu"))
            if reason:
                marks.append(pytest.mark.skip(reason=reason))
            values.append(pytest.param(entry, *[combo[n] for n in argnames[1:]], marks=marks))
            ids.append(param_id(entry.name, combo, argnames[1:]))
    metafunc.parametrize(argnames, values, ids=ids)


@pytest.fixture
def nnp(request):
    """The per-test harness: package under test, profile, record writer."""
    from .driver import Harness

    config = request.config
    return Harness(request.node.nodeid, config.nnparity_impl, config.nnparity_writer, config.nnparity_profile)


@pytest.fixture
def impl(request):
    return request.config.nnparity_impl


@pytest.fixture
def nnparity_seed(request):
    """The run's seed for checks that draw outside Hypothesis (randomness): 0 under
    ci, else --hypothesis-seed, else fresh (recorded)."""
    return request.config.nnparity_seed


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Record what the harness did not record itself: skips (e.g. CUDA checks on a
    machine without a GPU, skipped at setup by a mark), with their reason, and
    failures (as 'error'), so the report's matrix and the gate see them."""
    outcome = yield
    report = outcome.get_result()
    writer = getattr(item.config, "nnparity_writer", None)
    if writer is None or hasattr(report, "wasxfail"):
        return
    params = getattr(getattr(item, "callspec", None), "params", {})
    entry, check = params.get("entry"), getattr(item.module, "CHECK", None)
    if report.failed and item.nodeid not in writer.discrepant_ids:
        # A failure no check recorded: a harness self-test, or an exception outside the harness.
        writer.write(Record(entry=entry.name if entry is not None else "(harness)", check=check or "(test)",
                            verdict="error", test_id=item.nodeid, impl=item.config.nnparity_impl.name,
                            extra={"unrecorded": True, "when": report.when},
                            message=f"pytest reported a failure ({report.when}) that no check recorded:\n"
                                    f"{str(report.longrepr)[-4000:]}"))
        return
    if not report.skipped or item.nodeid in writer.test_ids or entry is None or check is None:
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    reason = reason[len("Skipped: "):] if reason.startswith("Skipped: ") else reason
    example = params.get("example") or params.get("invalid")
    writer.write(Record(entry=entry.name, check=check, dtype=str(params.get("dtype") or ""),
                        device=str(params.get("device") or ""), mode=str(params.get("mode") or ""),
                        example=getattr(example, "id", "") or "", verdict="skip", message=reason,
                        test_id=item.nodeid, impl=item.config.nnparity_impl.name,
                        extra={k: str(v) for k, v in params.items() if k in ("layout", "method")}))


def pytest_runtest_logreport(report):
    """Remember failed tests in the controller (under xdist it also sees a crashed
    worker's test as failed, which no worker could record), so that sessionfinish can
    record every failure nobody recorded."""
    if _is_worker():
        return
    if report.failed:
        _FAILED.append((report.nodeid, report.when, str(report.longrepr)[-4000:]))
    _DURATIONS[report.nodeid] = _DURATIONS.get(report.nodeid, 0.0) + float(getattr(report, "duration", 0.0) or 0.0)


_FAILED: list = []
_DURATIONS: dict = {}  # node id -> seconds (setup + call + teardown), for --shard-store-durations


def pytest_sessionfinish(session, exitstatus):
    """Record failures nobody recorded (a crashed worker) as 'error' records, and the
    exit status in meta.json, so that the gate judges the whole run from the
    records alone."""
    config = session.config
    if _is_worker(config) or not hasattr(config, "nnparity_impl"):
        return
    if config.getoption("--shard-store-durations") and _DURATIONS:
        write_durations(config.nnparity_durations_path, _DURATIONS)
    if not config.getoption("--records", None):
        return
    directory = Path(config.getoption("--records"))
    recorded = {r.test_id for r in load_records(directory) if r.verdict in DISCREPANT}
    writer = RecordWriter(directory, "controller")
    for nodeid, when, text in _FAILED:
        if nodeid in recorded:
            continue
        recorded.add(nodeid)
        writer.write(Record(entry="(harness)", check="(test)", verdict="error", test_id=nodeid,
                            impl=config.nnparity_impl.name, extra={"unrecorded": True, "when": when},
                            message=f"pytest reported a failure ({when}) that no check recorded (a harness test, a "
                                    f"crash, or an exception outside the harness):\n{text}"))
    shard_path = directory / "shard.json"
    extra = {"shard_plan": json.loads(shard_path.read_text(encoding="utf-8"))} if shard_path.exists() else {}
    _write_meta(config, {"state": "finished", "pytest_exit_code": int(exitstatus),
                         "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **extra})
