"""containers: scripted scenarios and tests that are not one forward call, judged
against torch: containers (Sequential, ModuleList, ModuleDict, ParameterList,
ParameterDict) and the Module API, Parameter, torch.nn.init (statistical tests with
stated false-alarm rates, and the deterministic properties exactly) and
torch.optim.SGD (lockstep with torch, validation errors).

The catalog holds the data: ``Entry.containers`` maps a group id to a function
``(impl, rng) -> [(name, ok, message), ...]``; one record per group (the group id
is the record's ``example``). A group that judged nothing is not-judged, never a
pass. A group whose function raises ``NotImplementedByImpl`` (the package under
test lacks e.g. ``optim``) is not-implemented; any other exception is the
harness's or the catalog's (error).

Seeds: the statistical groups draw from ``rng``, seeded by the run's seed (fixed
under the ci profile, else --hypothesis-seed or fresh); the seed is in the record.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from ..engine import NotImplementedByImpl

KIND = "containers"
PARAM_NAMES = ("group",)


def params(entry):
    return [dict(group=g) for g in entry.containers]


def run(nnp, entry, *, group: str, seed: int):
    case_like = {"dtype": "", "device": "cpu", "mode": "", "example": group}
    if entry.torch_class and not nnp.impl.has(entry.name):
        nnp.not_implemented(entry, KIND, case_like)
    started = time.perf_counter()
    try:
        results = entry.containers[group](nnp.impl, np.random.default_rng(seed))
    except NotImplementedByImpl as e:
        nnp.record(entry, KIND, case_like, "not-implemented", message=str(e), started=started)
        pytest.skip(f"not implemented by {nnp.impl.name}: {e}")
    except Exception as e:
        nnp.record(entry, KIND, case_like, "error", message=f"{entry.name} containers [{group}]: the harness or the "
                   f"catalog raised {type(e).__name__}: {e}", started=started, seed=seed)
        raise
    head = f"{entry.name} containers [{group}] (seed {seed})"
    if not results:
        message = f"{head}: NOT JUDGED: the group produced no result"
        nnp.record(entry, KIND, case_like, "not-judged", message=message, started=started, seed=seed)
        pytest.fail(message, pytrace=False)
    failed = [f"  {name}: {msg}" for name, ok, msg in results if not ok]
    message = (f"{head}: {len(failed)} of {len(results)} failed\n" + "\n".join(failed) if failed else
               f"{head}: all {len(results)} passed")
    nnp.verdict(entry, KIND, case_like, not failed, message, started, examples=len(results), seed=seed)
