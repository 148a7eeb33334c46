"""Hypothesis profiles and the example database.

* ``ci``: 8 examples per check, derandomised (a fixed seed per test, set by the
  driver: Hypothesis' own ``derandomize=True`` would switch the example database
  off), database kept so a failure found earlier replays first.
* ``dev``: 20 examples, a fresh seed each run; the default for local work.
* ``deep``: 400 examples, for long fuzzing sessions.

The database is a directory, ``.hypothesis/examples`` in the project root. The
driver gives every (class, check, dtype, device, mode) its own namespace in it.
"""

from __future__ import annotations

import os

from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

from . import PROJECT_ROOT

__all__ = ["PROFILES", "PROFILE_ENV", "register_profiles", "default_profile", "example_database"]

PROFILE_ENV = "NNPARITY_PROFILE"
PROFILES = {"ci": 8, "dev": 20, "deep": 400}


def example_database():
    return DirectoryBasedExampleDatabase(str(PROJECT_ROOT / ".hypothesis" / "examples"))


def register_profiles() -> None:
    db = example_database()
    for name, n in PROFILES.items():
        settings.register_profile(name, max_examples=n, deadline=None, database=db, print_blob=True)
    settings.load_profile(default_profile())


def default_profile() -> str:
    if os.environ.get(PROFILE_ENV):
        return os.environ[PROFILE_ENV]
    return "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"
