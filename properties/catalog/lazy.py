"""Catalog entries: the lazy classes of the normalisation issue (LazyBatchNorm1d/2d/3d,
LazyInstanceNorm1d/2d/3d, LazyLinear), each derived from its regular class's entry.

A lazy module leaves one constructor argument out and infers it from its first input
(``num_features`` from dim 1, ``in_features`` from the last dim). The engine makes
that first call on both sides (eval mode, no gradients) before it loads the drawn
state, so every check then compares the inferred shapes (the state layout) and the
behaviour of the class the module became. Here the regular entry's strategies are
reused with the inferred argument drawn as part of the input instead of the kwargs.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import strategies as st

from nnparity.catalog import Example, Inputs
from .core import LINEAR
from .norm import ENTRIES as NORM_ENTRIES

_NORM = {e.name: e for e in NORM_ENTRIES}


def _normal(shape, dt, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dt)


def _without(kw, name):
    return {k: v for k, v in kw.items() if k != name}


def _inferring(inputs, name, values):
    """The regular entry's input strategy, with the inferred argument drawn first."""
    if inputs is None:
        return None

    def draw(kw, dt, layout):
        return values.flatmap(lambda v: inputs({**kw, name: v}, dt, layout))

    return draw


def lazy_entry(regular, name, infer, values, layouts=None, examples=None, defaults=None):
    """The entry of ``Lazy<regular>``: ``infer`` leaves the kwargs and is drawn from
    ``values`` with the inputs; ``defaults`` are the regular constructor's defaults
    that the lazy constructor changes (fixed into the regular strategies' kwargs, so
    they draw inputs that fit). No Invalids: the lazy constructors validate nothing
    torch's do not defer to the first call (see the report: the errors check cannot
    yet judge a first call that fails after materialising)."""
    defaults = defaults or {}
    kwargs = regular.kwargs.map(lambda kw: _without(kw, infer))
    return replace(
        regular, name=name, lazy=True, kwargs=kwargs,
        inputs=_inferring(lambda kw, dt, layout: regular.inputs({**defaults, **kw}, dt, layout), infer, values),
        domains={k: _inferring(lambda kw, dt, layout, f=f: f({**defaults, **kw}, dt, layout), infer, values)
                 for k, f in regular.domains.items()},
        layouts=layouts or regular.layouts,
        examples=examples if examples is not None else tuple(
            replace(e, kwargs=_without(e.kwargs, infer)) for e in regular.examples if infer in e.kwargs),
        invalid=(),
        bench=(lambda dt: (lambda kw, inp: (_without(kw, infer), inp))(*regular.bench(dt))) if regular.bench else None,
    )


_CHANNELS = st.integers(1, 4)


def _norm_examples(regular):
    """The regular examples whose input fits the inferred channel count (those that
    show a channel mismatch or rely on num_features alone are regular-only)."""
    return tuple(replace(e, kwargs=_without(e.kwargs, "num_features")) for e in regular.examples
                 if "channels" not in e.id)


def _lazy_batchnorm(n):
    regular = _NORM[n[4:]]
    return lazy_entry(regular, n, "num_features", _CHANNELS, examples=_norm_examples(regular))


# torch's lazy instance norms take _LazyNormBase's defaults: affine=True, track_running_stats=True.
_LAZY_IN_DEFAULTS = {"affine": True, "track_running_stats": True}


def _lazy_instancenorm(n):
    regular = _NORM[n[4:]]
    spatial = int(n[-2])
    examples = tuple(e for e in _norm_examples(regular)
                     if not (e.id.startswith("empty-batch") and e.kwargs.get("affine", True)))
    examples += (
        # dim 1 of an unbatched (C, *spatial) input is a spatial size: with no state to
        # create, nothing is inferred (num_features stays 0 and torch only warns).
        Example("unbatched-stateless", "layout", {"affine": False, "track_running_stats": False},
                lambda dt: Inputs((_normal((2,) + (3,) * spatial, dt, 11),))),
        Example("defaults-affine-tracked-eval", "edge", {},
                lambda dt: Inputs((_normal((3, 2) + (3,) * spatial, dt, 12),)), mode="eval"),
    )
    return lazy_entry(regular, n, "num_features", _CHANNELS, layouts=("batched",), examples=examples,
                      defaults=_LAZY_IN_DEFAULTS)


LAZY_LINEAR = lazy_entry(LINEAR, "LazyLinear", "in_features", st.integers(1, 6))

ENTRIES = ([_lazy_batchnorm(n) for n in ("LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d")]
           + [_lazy_instancenorm(n) for n in ("LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d")]
           + [LAZY_LINEAR])
