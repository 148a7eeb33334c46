"""The catalog's types: everything the checks need to know about one torch.nn class, as data.

Modelled on torch's ``ModuleInfo`` (torch/testing/_internal/common_modules.py),
with Hypothesis strategies in place of hand-written sample lists. Adding a class
to nnparity is one twin plus one ``Entry`` in a family file of the catalog; no test
file changes.

The catalog *data* lives outside this package (``properties/catalog/`` in this
checkout; ``[tool.nnparity] catalog`` in pyproject.toml or ``NNPARITY_CATALOG`` name
the module). The harness is pointed at it, as it is pointed at the package under
test; the report and the gate never load it: a run writes a :func:`snapshot` of
its catalog beside its records.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple

import numpy as np
from hypothesis import strategies as st

from .compare import Tolerance, parse_tolerance_key, resolve_tolerance
from .vocab import CHECK_DESCRIPTIONS, CHECK_KINDS, LAYOUTS, MODES, torch_nn_classes

__all__ = ["Inputs", "Example", "Invalid", "Entry", "Catalog", "default_state", "load_catalog", "snapshot",
           "SNAPSHOT_SCHEMA", "DEFAULT_CATALOG", "CATALOG_ENV", "STATE_REGIMES", "build_torch"]

DEFAULT_CATALOG = "properties.catalog"
CATALOG_ENV = "NNPARITY_CATALOG"
SNAPSHOT_SCHEMA = "nnparity-catalog/1"
EXAMPLE_KINDS = ("special", "layout", "edge")


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
    ``inputs(dtype) -> Inputs``. ``method``: call this method of the module instead
    of the module itself (e.g. AdaptiveLogSoftmaxWithLoss.log_prob).
    """

    id: str
    kind: str
    kwargs: Mapping[str, Any]
    inputs: Callable[[np.dtype], Inputs]
    mode: str = "train"
    note: str = ""
    method: str = ""
    state: str = "init"  # the parameter regime (default_state)
    #: for an 'edge' example, the value checks it is for; an example with nothing to
    #: differentiate (integer inputs) is for ("forward",), and ``note`` says why.
    checks: tuple = ("forward", "gradients")

    def __post_init__(self):
        if self.kind not in EXAMPLE_KINDS:
            raise ValueError(f"example {self.id!r}: kind must be one of {', '.join(EXAMPLE_KINDS)}, got {self.kind!r}")
        if not self.checks or not set(self.checks) <= {"forward", "gradients"}:
            raise ValueError(f"example {self.id!r}: checks must be a non-empty subset of ('forward', 'gradients'), "
                             f"got {self.checks!r}")
        if self.mode not in MODES:
            raise ValueError(f"example {self.id!r}: mode must be one of {', '.join(MODES)}, got {self.mode!r}")


@dataclass(frozen=True)
class Invalid:
    """An invalid configuration (``inputs`` None: the constructor must raise) or an
    invalid input (the forward, or ``method``, must raise), in ``mode``.

    By default the expected exception is whatever torch raises, and the check
    confirms that torch still raises it. Where torch does not check (its behaviour
    is undefined, e.g. reading out of bounds), ``torch_undefined`` says so and
    ``expect`` names the builtin exception kind the twin must raise instead.
    """

    id: str
    kwargs: Mapping[str, Any]
    inputs: Callable[[np.dtype], Inputs] | None = None
    mode: str = "train"
    method: str = ""
    torch_undefined: str = ""
    expect: str = ""

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"invalid case {self.id!r}: mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if bool(self.torch_undefined) != bool(self.expect):
            raise ValueError(f"invalid case {self.id!r}: torch_undefined (why torch is not consulted) and expect "
                             "(the builtin exception the twin must raise) go together")


def _default_build(name):
    def build(nn, kwargs, factory, side):
        return getattr(nn, name)(**kwargs)

    return build


def _factory_build(name):
    def build(nn, kwargs, factory, side):
        return getattr(nn, name)(**kwargs, **factory)

    return build


#: Parameter regimes a case draws its state in (``Case.state``).
STATE_REGIMES = ("init", "large")


def default_state(torch_state: dict, parameter_names: list, rng: np.random.Generator, regime: str = "init") -> dict:
    """The state loaded into both sides.

    Parameters, in one of two regimes (both are drawn, so both are judged):

    * ``init``: torch's own initialisation of the class (``torch_state`` comes from a
      module built under ``torch.manual_seed(case.seed)``): fan-in scaled for Linear,
      convolutions, recurrent and attention weights, so tanh, sigmoid and softmax
      work in their unsaturated range and gradients are not all ~0. A parameter torch
      initialises to a constant (LayerNorm's ones and zeros) gets a small spread
      around it, N(c, (0.1 max(1, |c|))^2), so a twin that ignored it would show.
    * ``large``: standard normal, larger than torch's own scale for most layers: the
      saturated regime, and every element matters.

    Running statistics (torch's buffer names): ``running_mean`` normal,
    ``running_var`` in [0.5, 2], ``num_batches_tracked`` in [0, 9], so eval mode and
    the cumulative average see non-trivial values. Other buffers keep torch's values.
    """
    if regime not in STATE_REGIMES:
        raise ValueError(f"state regime must be one of {STATE_REGIMES}, got {regime!r}")
    out = {}
    for key, value in torch_state.items():
        leaf = key.rsplit(".", 1)[-1]
        if key in parameter_names and np.issubdtype(value.dtype, np.floating):
            if regime == "large":
                out[key] = rng.standard_normal(value.shape).astype(value.dtype)
            elif value.size and np.all(value == value.reshape(-1)[0]):
                c = float(value.reshape(-1)[0])
                out[key] = (c + 0.1 * max(1.0, abs(c)) * rng.standard_normal(value.shape)).astype(value.dtype)
            else:
                out[key] = value.copy()
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
    build_fn: ``(nn_namespace, kwargs, factory, side) -> module``; the same function
        builds both sides because both namespaces follow torch's names. ``factory``
        holds ``dtype`` (and ``device`` for torch); the default passes it only when
        ``factory_kwargs``. With a build_fn the drawn kwargs are not the
        constructor's own, so the api check does not probe argument validation.
    methods: ``{method name: differentiable}``: module methods other than forward
        that the forward (and, where differentiable, gradients) checks also judge.
    adapter: ``(nn, side, *args, **kwargs) -> (args, kwargs)``: builds input types the
        arrays cannot be (a PackedSequence: ``nn.utils.rnn.pack_padded_sequence`` of
        torch, or of the package under test) from the drawn arrays, inside the call,
        so gradients reach the arrays. The case's arguments are then the adapter's
        (named by its signature).
    tolerances: ``{"check" | "dtype" | "device" | "check:dtype[:device]" ...: Tolerance(..., reason)}``,
        keys validated against the vocabulary.
    gradcheck_adjust: ``(case, input_grads, param_grads, cotangents) -> (input_grads, param_grads)``,
        for a class whose documented backward is not the derivative of its forward
        (CTCLoss); the reason is in the entry.
    """

    name: str
    kwargs: st.SearchStrategy
    inputs: Callable[[dict, np.dtype, str], st.SearchStrategy]
    build_fn: Callable | None = None
    factory_kwargs: bool = False  # constructor takes device=/dtype=
    train_eval_differs: bool = False
    stateful: bool = False  # training updates buffers: run K steps and compare them
    random: bool = False  # draws randomness in training, itself or in a submodule (torch's noise is injected)
    noise: Callable | None = None  # (torch's draws in one module of this class) -> {name: array} for inject_noise
    statistical: Callable | None = None  # (impl, rng) -> list[(name, ok, message)]; false-alarm rate stated
    lazy: bool = False
    nondiff: tuple = ()  # float leaves torch gives no gradient for, by path: ("target",), ("hx[1]",)
    nondiff_inputs: tuple = ()  # the same by position (legacy form)
    layouts: tuple = ("batched",)
    tolerances: Mapping[str, Tolerance] = field(default_factory=dict)
    domains: Mapping[str, Callable] = field(default_factory=dict)
    examples: tuple = ()
    invalid: tuple = ()
    methods: Mapping[str, bool] = field(default_factory=dict)
    #: ``{method name: inputs-like function}``: what a method takes, where it is not
    #: forward's (AdaptiveLogSoftmaxWithLoss.log_prob takes the input without a target)
    method_inputs: Mapping[str, Callable] = field(default_factory=dict)
    adapter: Callable | None = None  # (nn, side, *args, **kwargs) -> (args, kwargs): torch-only input types
    bench: Callable | None = None  # (dtype) -> (kwargs, Inputs) at a benchmark size
    state_fn: Callable | None = None  # like default_state (same arguments), for buffers that need valid values
    gradcheck: bool = True  # twin's own backward vs finite differences
    gradcheck_adjust: Callable | None = None
    #: ``(kwargs, dtype name) -> kwargs`` for the float64 oracle, where a constructor
    #: default depends on the dtype (RMSNorm's eps=None is the dtype's machine epsilon:
    #: the oracle must compute the float32 function, so it gets float32's epsilon).
    oracle_kwargs: Callable | None = None
    max_examples_scale: float = 1.0
    notes: str = ""

    def __post_init__(self):
        where = f"catalog entry {self.name}"
        for key, tol in self.tolerances.items():
            try:
                parse_tolerance_key(key)
            except ValueError as e:
                raise ValueError(f"{where}: {e}") from None
            if not isinstance(tol, Tolerance):
                raise ValueError(f"{where}: tolerance {key!r} must be a Tolerance with a reason")
        stray = [m for m in self.method_inputs if m not in self.methods]
        if stray:
            raise ValueError(f"{where}: method_inputs for method(s) {stray} not in methods {list(self.methods)}")
        unknown = [k for k in self.domains if k not in CHECK_KINDS]
        if unknown:
            raise ValueError(f"{where}: domains for unknown check kind(s) {unknown}; kinds: {', '.join(CHECK_KINDS)}")
        bad_layouts = [l for l in self.layouts if l not in LAYOUTS]
        if bad_layouts or "batched" not in self.layouts:
            raise ValueError(f"{where}: layouts must include 'batched' and be among {LAYOUTS}, got {self.layouts}")
        if self.noise is not None and self.statistical is None:
            raise ValueError(f"{where}: a class that draws noise needs `statistical` (tests of the twin's own draws) "
                             "beside its `noise` adapter (exact parity)")
        ids = [e.id for e in self.examples] + [i.id for i in self.invalid]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"{where}: example/invalid ids must be unique, repeated: {dupes}")

    # -- derived ------------------------------------------------------------------
    def build(self, nn, kwargs, factory, side):
        fn = self.build_fn or (_factory_build(self.name) if self.factory_kwargs else _default_build(self.name))
        return fn(nn, dict(kwargs), factory, side)

    def inputs_for(self, check: str, method: str = "") -> Callable:
        """The input domain a check kind draws from: a method's own inputs, else the
        ``domains`` override, else ``inputs``."""
        if method and method in self.method_inputs:
            return self.method_inputs[method]
        return self.domains.get(check, self.inputs)

    def draw_state(self, torch_state, parameter_names, rng, regime: str = "init"):
        return (self.state_fn or default_state)(torch_state, parameter_names, rng, regime)

    def buffer_keys(self, torch_state, parameter_names):
        return [k for k in torch_state if k not in parameter_names]

    def tolerance(self, check: str, dtype: str, device: str = "cpu") -> Tolerance:
        return resolve_tolerance(self.tolerances, check, dtype, device)

    def examples_of(self, kind: str):
        return [e for e in self.examples if e.kind == kind]

    def applies(self, check: str) -> bool:
        """Whether a check kind applies to this entry (the report shows 'n/a' otherwise)."""
        if check == "randomness":
            return self.statistical is not None
        if check == "special_values":
            return bool(self.examples_of("special"))
        if check == "errors":
            return bool(self.invalid)
        if check == "gradcheck":
            return self.gradcheck
        if check not in CHECK_KINDS:
            raise ValueError(f"unknown check kind {check!r}")
        return True

    def modes(self) -> tuple:
        return MODES if self.train_eval_differs else ("train",)


def build_torch(entry, kwargs, factory, seed: int):
    """The torch module of a case, initialised by torch under ``torch.manual_seed(seed)``
    (so its own initialisation, the ``init`` regime's parameters, is reproducible)."""
    import torch

    torch.manual_seed(seed)
    return entry.build(torch.nn, kwargs, factory, "torch")


class Catalog(NamedTuple):
    """A loaded catalog: entries by class name, and the classes placed out of it."""

    entries: dict
    out_of_scope: dict
    not_yet: dict
    source: str


def _configured_spec(root: Path | None) -> str:
    if os.environ.get(CATALOG_ENV):
        return os.environ[CATALOG_ENV]
    pyproject = (root or Path.cwd()) / "pyproject.toml"
    if pyproject.exists():
        import tomllib

        try:
            return tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("nnparity", {}).get(
                "catalog", DEFAULT_CATALOG)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"{pyproject}: not valid TOML: {e}") from None
    return DEFAULT_CATALOG


def load_catalog(spec: str | None = None, root: Path | None = None) -> Catalog:
    """Import the catalog module named by ``spec`` (default: ``NNPARITY_CATALOG``,
    then ``[tool.nnparity] catalog`` in pyproject.toml, then ``properties.catalog``).
    It must define ``CATALOG`` (name -> Entry), ``OUT_OF_SCOPE`` and ``NOT_YET``
    (name -> reason)."""
    spec = spec or _configured_spec(root)
    try:
        module = importlib.import_module(spec)
    except ImportError as e:
        raise ValueError(f"cannot import the catalog module {spec!r}: {e}") from None
    missing = [n for n in ("CATALOG", "OUT_OF_SCOPE", "NOT_YET") if not hasattr(module, n)]
    if missing:
        raise ValueError(f"catalog module {spec!r} lacks {', '.join(missing)}")
    from .noise import register

    register(module.CATALOG.values())
    return Catalog(dict(module.CATALOG), dict(module.OUT_OF_SCOPE), dict(module.NOT_YET), spec)


def _describe_bench(entry: Entry):
    if entry.bench is None:
        return None
    try:
        kwargs, inputs = entry.bench(np.dtype("float32"))
    except Exception as e:  # a broken benchmark shape must not stop the run; the bench tests catch it
        return {"error": f"{type(e).__name__}: {e}"}
    shapes = [list(np.shape(a)) if isinstance(a, np.ndarray) else repr(a) for a in inputs.args]
    return {"kwargs": repr(dict(kwargs)), "input_shapes": shapes}


def snapshot(catalog: Catalog) -> dict:
    """What the report and the gate need to know about the catalog, as JSON data:
    the classes, the checks that apply to each, the scope reasons and the
    benchmark shapes, plus the vocabulary and the installed torch.nn classes."""
    classes = {}
    for name, entry in sorted(catalog.entries.items()):
        classes[name] = {
            "checks": [c for c in CHECK_KINDS if entry.applies(c)],
            "modes": list(entry.modes()),
            "random": entry.random,
            "bench": _describe_bench(entry),
            "notes": entry.notes,
        }
    return {
        "schema": SNAPSHOT_SCHEMA,
        "source": catalog.source,
        "check_kinds": list(CHECK_KINDS),
        "check_descriptions": dict(CHECK_DESCRIPTIONS),
        "torch_nn_classes": torch_nn_classes(),
        "classes": classes,
        "out_of_scope": dict(sorted(catalog.out_of_scope.items())),
        "not_yet": dict(sorted(catalog.not_yet.items())),
    }
