"""Exact noise parity: torch's draws, captured by module path during the torch call
(``reference.noise``), injected into the twin's module at the same path before its
call.

Each random class of the catalog has an adapter, ``Entry.noise(draws) -> {name:
array}``, turning torch's raw draws in one module (a bernoulli mask, RReLU's noise,
FractionalMaxPool's samples) into the arrays that class's twin takes through
``inject_noise(**arrays)`` (README, the public contract). A composite module
(Sequential, TransformerEncoderLayer, an LSTM with dropout between layers) needs no
adapter of its own: every draw belongs to the submodule that ran it, and the
adapter of that submodule's class applies.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ADAPTERS", "register", "inject", "same_draws", "reseed"]

#: torch.nn class name -> adapter, filled from the loaded catalog (nnparity.catalog.load_catalog).
ADAPTERS: dict = {}


def register(entries) -> None:
    for entry in entries:
        if entry.noise is not None:
            ADAPTERS[entry.name] = entry.noise


class NoiseError(Exception):
    """torch drew noise the harness cannot hand to the twin: a harness/catalog problem."""


def inject(entry, torch_module, twin, draws) -> None:
    """Hand torch's draws to the twin, module by module."""
    if not draws:
        return
    by_path: dict = {}
    for d in draws:
        by_path.setdefault(d.path, []).append(d)
    twin_modules = dict(twin.named_modules()) if hasattr(twin, "named_modules") else {"": twin}
    for path, ds in by_path.items():
        cls = type(torch_module.get_submodule(path)).__name__
        adapter = ADAPTERS.get(cls) or (entry.noise if cls == entry.name else None)
        if adapter is None:
            raise NoiseError(f"torch drew noise in {path or '<root>'} ({cls}: {', '.join(d.op for d in ds)}) but the "
                             f"catalog has no noise adapter for {cls}")
        if path not in twin_modules:
            raise NoiseError(f"torch drew noise in submodule {path!r}, which the twin does not have")
        arrays = adapter(ds)
        if arrays:
            twin_modules[path].inject_noise(**arrays)


def same_draws(a, b) -> bool:
    """Whether two captures drew the same noise (the float64 oracle's against the
    float32 run's): same modules and ops, equal values once the float64 draws are
    rounded to the float32 run's dtype."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if (x.path, x.op, x.values.shape) != (y.path, y.op, y.values.shape):
            return False
        if not np.array_equal(x.values, y.values.astype(x.values.dtype), equal_nan=True):
            return False
    return True


def reseed(module, seed: int) -> None:
    """A fixed generator for every random submodule of a twin (the same draws on every
    call: finite differences and train/eval comparisons need that)."""
    named = module.named_modules() if hasattr(module, "named_modules") else [("", module)]
    for i, (_, m) in enumerate(named):
        if hasattr(m, "generator"):
            m.generator = np.random.default_rng([seed, i])
