"""pytest wiring: Hypothesis profiles, the package under test, devices and dtypes,
parametrisation from the catalog, and the record plugin.

Options (see README):
  --impl PACKAGE        judge another package that implements the contract (env NNPARITY_IMPL)
  --nn NAME[,NAME...]   run only these torch.nn classes (exact names; -k matches substrings)
  --records DIR         write one JSON record per check into DIR (env NNPARITY_RECORDS)
  --hypothesis-profile  ci | dev | deep (env NNPARITY_PROFILE; CI=true defaults to ci)
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

from nnparity.impl import IMPL_ENV, ImplError, load_impl
from nnparity.records import RecordWriter

_DB = DirectoryBasedExampleDatabase(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".hypothesis", "examples"))

# ci: bounded and derandomised (a fixed seed per test, see properties/driver.py:
# Hypothesis' own derandomize=True would switch the example database off), with the
# database kept so a failure found earlier replays first.
settings.register_profile("ci", max_examples=8, deadline=None, database=_DB, print_blob=True)
# dev: the default for local runs; random each run.
settings.register_profile("dev", max_examples=20, deadline=None, database=_DB, print_blob=True)
# deep: long fuzzing sessions.
settings.register_profile("deep", max_examples=400, deadline=None, database=_DB, print_blob=True)

PROFILE_ENV = "NNPARITY_PROFILE"


def _default_profile() -> str:
    if os.environ.get(PROFILE_ENV):
        return os.environ[PROFILE_ENV]
    return "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"


settings.load_profile(_default_profile())


def pytest_addoption(parser):
    group = parser.getgroup("nnparity")
    group.addoption("--impl", default=None, help=f"package implementing the contract (default: impls; env {IMPL_ENV})")
    group.addoption("--nn", default=None, help="comma-separated torch.nn class names to run (exact match)")
    group.addoption("--records", default=os.environ.get("NNPARITY_RECORDS"), help="directory for JSON-lines records")


def pytest_configure(config):
    try:
        config.nnparity_impl = load_impl(config.getoption("--impl"))
    except ImplError as e:
        raise pytest.UsageError(str(e)) from None
    from properties.catalog import CATALOG

    wanted = config.getoption("--nn")
    if wanted:
        names = [n.strip() for n in wanted.split(",") if n.strip()]
        unknown = [n for n in names if n not in CATALOG]
        if unknown:
            raise pytest.UsageError(f"--nn: unknown class name(s) {', '.join(unknown)}; the catalog has: {', '.join(CATALOG)}")
        config.nnparity_entries = [CATALOG[n] for n in names]
    else:
        config.nnparity_entries = list(CATALOG.values())
    # The profile in force after Hypothesis' own plugin has read --hypothesis-profile.
    config.nnparity_profile = config.getoption("hypothesis_profile", None) or _default_profile()
    records = config.getoption("--records")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    config.nnparity_writer = RecordWriter(records, worker) if records else None


def pytest_report_header(config):
    import numpy
    import torch

    return (f"nnparity: impl={config.nnparity_impl.name} profile={config.nnparity_profile} "
            f"torch={torch.__version__} numpy={numpy.__version__} cuda={torch.cuda.is_available()} "
            f"classes={len(config.nnparity_entries)}")


def pytest_generate_tests(metafunc):
    """Test modules under properties/ declare ``CHECK`` and ``params(entry)``: the
    (dtype, device, mode, example, ...) combinations to run for an entry. Ids start
    with the class name, so ``-k BatchNorm1d`` selects one class."""
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
            # Fixed examples and invalid cases contribute their id; None (a fuzzed run) nothing.
            parts = [getattr(combo[n], "id", combo[n]) for n in argnames[1:] if combo[n] is not None]
            ids.append("-".join([entry.name] + [str(p) for p in parts]))
    metafunc.parametrize(argnames, values, ids=ids)


@pytest.fixture
def nnp(request):
    """The per-test harness: package under test, profile, record writer."""
    from properties.driver import Harness

    config = request.config
    return Harness(request, config.nnparity_impl, config.nnparity_writer, config.nnparity_profile)


@pytest.fixture
def impl(request):
    return request.config.nnparity_impl


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Record skips the harness did not record itself (e.g. CUDA checks on a machine
    without a GPU, skipped at setup by a mark), with their reason, so the report's
    matrix and the gate see them. Not-implemented skips are recorded by the harness."""
    outcome = yield
    report = outcome.get_result()
    writer = getattr(item.config, "nnparity_writer", None)
    if writer is None or not report.skipped or hasattr(report, "wasxfail") or item.nodeid in writer.test_ids:
        return
    params = getattr(getattr(item, "callspec", None), "params", {})
    entry, check = params.get("entry"), getattr(item.module, "CHECK", None)
    if entry is None or check is None:
        return
    from nnparity.records import Record

    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    reason = reason[len("Skipped: "):] if reason.startswith("Skipped: ") else reason
    example = params.get("example")
    writer.write(Record(entry=entry.name, check=check, dtype=str(params.get("dtype") or ""),
                        device=str(params.get("device") or ""), mode=str(params.get("mode") or ""),
                        example=getattr(example, "id", "") or "", verdict="skip", message=reason,
                        test_id=item.nodeid, impl=item.config.nnparity_impl.name,
                        extra={k: str(v) for k, v in params.items() if k == "layout"}))
