"""The check kinds: one module each, with the same shape.

``KIND`` (a name from :data:`nnparity.vocab.CHECK_KINDS`), ``PARAM_NAMES`` and
``params(entry)`` (the combinations a class runs: dtype, device, mode, example, ...),
``run(nnp, entry, **params)`` (the whole check, recorded through the Harness) and,
for checks that judge one Case at a time, ``body(entry, impl) -> (Case -> list of
Comparison)``, which standalone repro scripts call on a recorded case.

The test files in ``properties/`` only parametrise and call ``run``.
"""

from __future__ import annotations

from . import (api, cuda_vs_cpu, errors, forward, gradcheck, gradients, layouts, randomness, special_values,
               train_eval)
from ..vocab import CHECK_KINDS

__all__ = ["MODULES", "body_for"]

MODULES = {m.KIND: m for m in (api, forward, gradients, gradcheck, train_eval, randomness, errors, special_values,
                                layouts, cuda_vs_cpu)}
assert tuple(MODULES) == CHECK_KINDS, "nnparity.checks and nnparity.vocab.CHECK_KINDS must list the same kinds"


def body_for(check: str, entry, impl):
    """The per-case body of a check kind, or None for kinds that do not judge one case
    at a time (randomness, errors)."""
    module = MODULES.get(check)
    fn = getattr(module, "body", None)
    return fn(entry, impl) if fn else None
