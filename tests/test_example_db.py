"""The example database NNPARITY_EXAMPLE_DB chooses: a local directory, a Redis
server shared by a fleet (Hypothesis' own RedisExampleDatabase), or a developer's
multiplexed database (writes locally, reads the shared one read-only).

The Redis tests start a real ``redis-server`` on 127.0.0.1 (a free port) and stop
it. ``make test`` installs Debian's redis-server where apt-get is available; without
the binary they skip and say so."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import numpy as np
import pytest
from hypothesis import settings, strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase, MultiplexedDatabase, ReadOnlyDatabase

from nnparity.case import Case
from nnparity.compare import Comparison, Tolerance
from nnparity.driver import Harness
from nnparity.impl import load_impl
from nnparity.profiles import ExampleDatabaseError, example_database

from .test_harness_checks import elementwise_entry

REDIS = shutil.which("redis-server")
needs_redis = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed (Debian: apt-get install "
                                                       "redis-server; `make test` does it where apt-get is available)")


def test_sources(tmp_path):
    from nnparity import PROJECT_ROOT

    local = example_database("")
    assert isinstance(local, DirectoryBasedExampleDatabase)
    assert str(local.path) == str(PROJECT_ROOT / ".hypothesis" / "examples")
    assert str(example_database(str(tmp_path)).path) == str(tmp_path)
    dev = example_database(f"local, readonly:{tmp_path}")
    assert isinstance(dev, MultiplexedDatabase)
    assert [type(d) for d in dev._wrapped] == [DirectoryBasedExampleDatabase, ReadOnlyDatabase]
    with pytest.raises(ExampleDatabaseError, match="unknown scheme"):
        example_database("s3://bucket/examples")


def test_an_unreachable_redis_server_is_reported_with_its_address():
    port = _free_port()  # nothing listens there
    with pytest.raises(ExampleDatabaseError, match=f"127.0.0.1:{port}/0: cannot reach the Redis server"):
        example_database(f"redis://127.0.0.1:{port}/0")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    """A real redis-server on 127.0.0.1 at a free port, with no persistence; stopped after the test."""
    port = _free_port()
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None:
                    pytest.fail(f"redis-server exited: {proc.stdout.read().decode()[-2000:]}")
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not answer within 5 s")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# -- one failure, found on one machine, replayed on another ----------------------------
ENTRY = elementwise_entry("ReLU", {}, [1.0])
STRATEGY = st.integers(0, 10_000).map(lambda n: Case("ReLU", {}, (np.array([float(n)]),), dtype="float64"))


def _fuzz(db, threshold=5000, profile="dev") -> list[int]:
    """Fuzz a check that fails for inputs >= threshold through the harness (its
    KeyedDatabase over ``db``); return the inputs in the order Hypothesis tried them."""
    seen = []

    def body(case):
        seen.append(int(case.args[0][0]))
        ok = case.args[0][0] < threshold
        return [Comparison("output", ok, Tolerance(0, 0, "exact"), headroom=0.0 if ok else 2.0, worst_index=(0,))]

    settings.register_profile("example-db-test", max_examples=100, database=db, deadline=None)
    previous = settings.get_current_profile_name()
    settings.load_profile("example-db-test")
    try:
        with pytest.raises(AssertionError):
            Harness("t", load_impl(), None, profile).fuzz(ENTRY, "forward", STRATEGY, body, dtype="float64", device="cpu",
                                                        mode="train")
    finally:
        settings.load_profile(previous)
    return seen


@needs_redis
def test_a_failure_found_by_one_client_is_replayed_first_by_another(redis_url, tmp_path):
    import redis

    machine_a = example_database(redis_url)  # each call: its own Redis client (its own connection)
    tried_a = _fuzz(machine_a)
    assert tried_a[-1] == 5000  # Hypothesis shrank the failure to the boundary
    assert redis.Redis.from_url(redis_url).keys(b"nnparity-example:ReLU/forward/float64/cpu/train/*")

    machine_b = example_database(redis_url)
    assert machine_b.redis is not machine_a.redis
    tried_b = _fuzz(machine_b)
    assert tried_b[0] == 5000  # replayed first, the shrunk case intact

    # A developer's machine: its local directory plus the fleet's database, read-only.
    developer = example_database(f"{tmp_path / 'local'},readonly:{redis_url}")
    assert _fuzz(developer)[0] == 5000  # the fleet's failure replays first here too
    before = sorted(redis.Redis.from_url(redis_url).keys(b"*"))
    tried = _fuzz(developer, threshold=7000)  # a failure only this machine sees ...
    assert tried[-1] == 7000
    assert sorted(redis.Redis.from_url(redis_url).keys(b"*")) == before  # ... is not written to the fleet's database
    assert any(True for _ in (tmp_path / "local").rglob("*") if _.is_file())  # ... but kept locally


@pytest.mark.parametrize("profile", ["dev", "ci"])
def test_the_local_directory_replays_across_clients(tmp_path, profile):
    """The same with two directory databases over one path (the default, local), also
    under the ci profile: its per-test @seed would switch the database off if the
    driver applied the settings before it (CI fleets run ci)."""
    assert _fuzz(example_database(str(tmp_path)), profile=profile)[-1] == 5000
    assert _fuzz(example_database(str(tmp_path)), profile=profile)[0] == 5000
    assert _fuzz(example_database(str(tmp_path / "empty")), profile=profile)[0] != 5000  # control: no database entry


@needs_redis
def test_the_suite_runs_against_redis(redis_url):
    """NNPARITY_EXAMPLE_DB=redis://... reaches a pytest run of the suite (the plugin's profiles)."""
    from .suite_runner import ROOT

    import os
    import sys

    env = {**os.environ, "NNPARITY_EXAMPLE_DB": redis_url, "NNPARITY_PROFILE": "ci"}
    env.pop("PYTEST_XDIST_WORKER", None)
    import redis

    client = redis.Redis.from_url(redis_url)
    fetches = lambda: client.info("commandstats").get("cmdstat_smembers", {}).get("calls", 0)  # noqa: E731
    before = fetches()
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
                        "properties/test_forward.py", "--nn", "ReLU", "-k", "cpu"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:]
    assert fetches() > before  # every fuzzed test asked Redis for its saved failures first
    bad = {**env, "NNPARITY_EXAMPLE_DB": f"redis://127.0.0.1:{_free_port()}/0"}
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
                        "properties/test_forward.py", "--nn", "ReLU"], cwd=ROOT, env=bad, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 4 and "cannot reach the Redis server" in r.stderr, r.stderr[-2000:]
