"""Hypothesis profiles and the example database.

* ``ci``: 8 examples per check, derandomised (a fixed seed per test, set by the
  driver: Hypothesis' own ``derandomize=True`` would switch the example database
  off), database kept so a failure found earlier replays first.
* ``dev``: 20 examples, a fresh seed each run; the default for local work.
* ``deep``: 400 examples, for long fuzzing sessions.

The example database (where Hypothesis keeps the failing examples it found, so
that they replay first next time) is chosen by ``NNPARITY_EXAMPLE_DB``: one source,
or several separated by commas (then a ``MultiplexedDatabase``: saves go to every
writable one, fetches read them all):

* ``local`` (the default): the directory ``.hypothesis/examples`` in the project root;
* a directory path;
* ``redis://HOST:PORT/DB`` (also ``rediss://``, ``unix://``): Hypothesis' own
  ``hypothesis.extra.redis.RedisExampleDatabase``, shared by a fleet of machines
  (examples not seen for 8 days expire, Hypothesis' default);
* ``readonly:SOURCE``: that source through Hypothesis' ``ReadOnlyDatabase``.

A developer's machine reads the fleet's failures without writing its own
experiments into them: ``NNPARITY_EXAMPLE_DB=local,readonly:redis://ci-cache:6379/0``.

The driver gives every (class, check, dtype, device, mode) its own namespace in
whichever database this is (``nnparity.driver.KeyedDatabase``).
"""

from __future__ import annotations

import os

from hypothesis import settings
from hypothesis.database import (DirectoryBasedExampleDatabase, ExampleDatabase, MultiplexedDatabase,
                                 ReadOnlyDatabase)

from . import PROJECT_ROOT

__all__ = ["PROFILES", "PROFILE_ENV", "EXAMPLE_DB_ENV", "ExampleDatabaseError", "register_profiles",
           "default_profile", "example_database"]

PROFILE_ENV = "NNPARITY_PROFILE"
EXAMPLE_DB_ENV = "NNPARITY_EXAMPLE_DB"
PROFILES = {"ci": 8, "dev": 20, "deep": 400}
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
#: Keys of this project in a shared Redis (beside other projects' Hypothesis examples).
REDIS_KEY_PREFIX = b"nnparity-example:"


class ExampleDatabaseError(ValueError):
    """NNPARITY_EXAMPLE_DB names a database that cannot be used (the message says why)."""


def _source(spec: str) -> ExampleDatabase:
    if spec.startswith("readonly:"):
        return ReadOnlyDatabase(_source(spec[len("readonly:"):].strip()))
    if spec == "local":
        return DirectoryBasedExampleDatabase(str(PROJECT_ROOT / ".hypothesis" / "examples"))
    if spec.startswith(REDIS_SCHEMES):
        return _redis(spec)
    if "://" in spec:
        raise ExampleDatabaseError(f"{EXAMPLE_DB_ENV}: {spec!r}: unknown scheme (expected 'local', a directory, "
                                   "redis://HOST:PORT/DB, or readonly:<one of those>)")
    return DirectoryBasedExampleDatabase(os.path.expanduser(spec))


def _redis(url: str) -> ExampleDatabase:
    try:
        import redis
        from hypothesis.extra.redis import RedisExampleDatabase
    except ImportError as e:
        raise ExampleDatabaseError(f"{EXAMPLE_DB_ENV}={url}: the redis client is not installed ({e}); "
                                   "it is a dependency in pyproject.toml: run 'make venv'") from None
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.ping()  # fail now, with the address, rather than in the first test
    except redis.RedisError as e:
        raise ExampleDatabaseError(f"{EXAMPLE_DB_ENV}={url}: cannot reach the Redis server ({e})") from None
    return RedisExampleDatabase(client, key_prefix=REDIS_KEY_PREFIX)


def example_database(spec: str | None = None) -> ExampleDatabase:
    """The database ``spec`` (default: ``$NNPARITY_EXAMPLE_DB``, else ``local``) names."""
    spec = os.environ.get(EXAMPLE_DB_ENV, "") if spec is None else spec
    parts = [p.strip() for p in spec.split(",") if p.strip()] or ["local"]
    sources = [_source(p) for p in parts]
    return sources[0] if len(sources) == 1 else MultiplexedDatabase(*sources)


def register_profiles() -> None:
    db = example_database()
    for name, n in PROFILES.items():
        settings.register_profile(name, max_examples=n, deadline=None, database=db, print_blob=True)
    settings.load_profile(default_profile())


def default_profile() -> str:
    if os.environ.get(PROFILE_ENV):
        return os.environ[PROFILE_ENV]
    return "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"
