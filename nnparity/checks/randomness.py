"""randomness: statistical tests of a random twin's own draws (keep rate, scaling,
distributions), each stating its false-alarm rate (at most 1e-6 per test).

Exact parity with torch's randomness is judged by the forward and gradients checks
in train mode, where torch's noise (mask, slopes) is injected into the twin.

Seeds: fixed under the ci profile (derandomised); otherwise the run's Hypothesis
seed when given, else fresh each run. The seed is in the message and the record,
so any failure can be replayed.
"""

from __future__ import annotations

import time

import numpy as np

KIND = "randomness"
PARAM_NAMES = ()


def params(entry):
    return [dict()]


def run(nnp, entry, *, seed: int):
    case_like = {"dtype": "float64", "device": "cpu", "mode": "train"}
    if not nnp.impl.has(entry.name):
        nnp.not_implemented(entry, KIND, case_like)
    started = time.perf_counter()
    results = entry.statistical(nnp.impl, np.random.default_rng(seed))
    failed = [f"  {name}: {msg}" for name, ok, msg in results if not ok]
    summary = "; ".join(f"{name}: {msg}" for name, ok, msg in results)
    message = (f"{entry.name} randomness: the twin's own draws (seed {seed}): " +
               (f"{len(failed)} statistical test(s) failed\n" + "\n".join(failed) if failed else summary))
    nnp.verdict(entry, KIND, case_like, bool(results) and not failed, message, started, examples=len(results),
                seed=seed)
