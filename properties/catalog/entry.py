"""The catalog entry: everything the checks need to know about one torch.nn class, as data.

Modelled on torch's ``ModuleInfo`` (torch/testing/_internal/common_modules.py),
with Hypothesis strategies in place of hand-written sample lists. Adding a class
to nnparity is one twin plus one ``Entry``; no test file changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple

import numpy as np
from hypothesis import strategies as st

from nnparity.compare import Tolerance, default_tolerance

__all__ = ["Inputs", "Example", "Invalid", "Entry", "LAYOUTS", "CHECK_KINDS"]

#: Input layouts an entry may support. 'batched' is always drawn; 'unbatched'
#: (no batch dim) and 'empty' (a zero-size batch) are drawn by the layouts check.
LAYOUTS = ("batched", "unbatched", "empty")

#: The check kinds, in the order the report's matrix shows them.
CHECK_KINDS = ("forward", "gradients", "gradcheck", "train_eval", "randomness", "errors",
               "special_values", "layouts", "devices")


class Inputs(NamedTuple):
    """Positional forward arguments and keyword forward arguments."""

    args: tuple
    kwargs: Mapping[str, Any] = {}


@dataclass(frozen=True)
class Example:
    """A fixed case that always runs (never left to chance).

    kind: 'special' (special values, judged with exact NaN/inf/zero-sign rules),
    'layout' (no batch dim, empty batch), or 'edge' (reductions, bias=False, ...,
    run by the forward and gradients checks).
    ``inputs(dtype) -> Inputs``.
    """

    id: str
    kind: str
    kwargs: Mapping[str, Any]
    inputs: Callable[[np.dtype], Inputs]
    mode: str = "train"
    note: str = ""

    def __post_init__(self):
        if self.kind not in ("special", "layout", "edge"):
            raise ValueError(f"example {self.id!r}: kind must be special, layout or edge, got {self.kind!r}")


@dataclass(frozen=True)
class Invalid:
    """An invalid configuration (``inputs`` None: the constructor must raise) or an
    invalid input (the forward must raise). The expected exception is whatever
    torch raises; the check confirms torch still raises it."""

    id: str
    kwargs: Mapping[str, Any]
    inputs: Callable[[np.dtype], Inputs] | None = None
    mode: str = "train"


def _default_build(name):
    def build(nn, kwargs, factory, side):
        return getattr(nn, name)(**kwargs)

    return build


def _factory_build(name):
    def build(nn, kwargs, factory, side):
        return getattr(nn, name)(**kwargs, **factory)

    return build


def default_state(torch_state: dict, parameter_names: list, rng: np.random.Generator) -> dict:
    """The state loaded into both sides.

    Parameters: standard normal, so every element matters. Running statistics
    (torch's buffer names): ``running_mean`` normal, ``running_var`` in [0.5, 2],
    ``num_batches_tracked`` in [0, 9], so eval mode and the cumulative average see
    non-trivial values. Other buffers keep torch's initial values.
    """
    out = {}
    for key, value in torch_state.items():
        leaf = key.rsplit(".", 1)[-1]
        if key in parameter_names and np.issubdtype(value.dtype, np.floating):
            out[key] = rng.standard_normal(value.shape).astype(value.dtype)
        elif leaf == "running_mean":
            out[key] = rng.standard_normal(value.shape).astype(value.dtype)
        elif leaf == "running_var":
            out[key] = rng.uniform(0.5, 2.0, value.shape).astype(value.dtype)
        elif leaf == "num_batches_tracked":
            out[key] = np.asarray(rng.integers(0, 10), dtype=value.dtype)
        else:
            out[key] = value.copy()
    return out


@dataclass(frozen=True)
class Entry:
    """One torch.nn class.

    name: the class name in torch.nn and in the package under test.
    kwargs: strategy for constructor kwargs (leave some out so defaults get tested).
    inputs: ``(kwargs, dtype, layout) -> strategy of Inputs``: the whole input domain,
        which every comparison with torch draws from.
    domains: ``{check kind: inputs-like function}``: a narrower domain for one check
        kind only, with the reason in a comment beside it (e.g. gradcheck, where
        finite differences cannot judge steep regions). Comparisons with torch never
        use it.
    build: ``(nn_namespace, kwargs, factory, side) -> module``; the same function
        builds both sides because both namespaces follow torch's names. ``factory``
        holds ``dtype`` (and ``device`` for torch); the default passes it only when
        ``factory_kwargs``.
    flags: what kind of module this is (see fields).
    tolerances: ``{"check:dtype" or "check" or "dtype": Tolerance(..., reason)}``.
    """

    name: str
    kwargs: st.SearchStrategy
    inputs: Callable[[dict, np.dtype, str], st.SearchStrategy]
    build_fn: Callable | None = None
    factory_kwargs: bool = False  # constructor takes device=/dtype=
    train_eval_differs: bool = False
    stateful: bool = False  # training updates buffers: run K steps and compare them
    random: bool = False  # draws randomness in training (noise injected for parity)
    noise: Callable | None = None  # (torch_module, torch_args, seed) -> {name: array} for inject_noise
    statistical: Callable | None = None  # (impl, rng) -> list[(name, ok, message)]; false-alarm rate stated
    lazy: bool = False
    tuple_output: bool = False
    nondiff_inputs: tuple = ()  # positions of float inputs torch gives no gradient for
    layouts: tuple = ("batched",)
    tolerances: Mapping[str, Tolerance] = field(default_factory=dict)
    domains: Mapping[str, Callable] = field(default_factory=dict)
    examples: tuple = ()
    invalid: tuple = ()
    bench: Callable | None = None  # (dtype) -> (kwargs, Inputs) at a benchmark size
    state_fn: Callable | None = None  # like default_state, for buffers that need valid values
    gradcheck: bool = True  # twin's own backward vs finite differences
    max_examples_scale: float = 1.0
    notes: str = ""

    # -- derived ------------------------------------------------------------------
    def build(self, nn, kwargs, factory, side):
        fn = self.build_fn or (_factory_build(self.name) if self.factory_kwargs else _default_build(self.name))
        return fn(nn, dict(kwargs), factory, side)

    def inputs_for(self, check: str) -> Callable:
        """The input domain a check kind draws from (``domains`` override, else ``inputs``)."""
        return self.domains.get(check, self.inputs)

    def draw_state(self, torch_state, parameter_names, rng):
        return (self.state_fn or default_state)(torch_state, parameter_names, rng)

    def buffer_keys(self, torch_state, parameter_names):
        return [k for k in torch_state if k not in parameter_names]

    def tolerance(self, check: str, dtype: str) -> Tolerance:
        for key in (f"{check}:{dtype}", check, dtype):
            if key in self.tolerances:
                return self.tolerances[key]
        return default_tolerance(dtype)

    def examples_of(self, kind: str):
        return [e for e in self.examples if e.kind == kind]

    def applies(self, check: str) -> bool:
        """Whether a check kind applies to this entry (the report shows 'n/a' otherwise)."""
        if check == "randomness":
            return self.random
        if check == "special_values":
            return bool(self.examples_of("special"))
        if check == "layouts":
            return True  # non-contiguous inputs apply to every class
        if check == "errors":
            return bool(self.invalid)
        if check == "gradcheck":
            return self.gradcheck
        return True

    def modes(self) -> tuple:
        return ("train", "eval") if self.train_eval_differs else ("train",)
