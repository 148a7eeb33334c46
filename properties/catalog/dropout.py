"""Catalog entries: the dropout family (Dropout, Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout).

Exact parity: the harness captures torch's draws in each module (reference.noise)
and :func:`dropout_keep_mask` hands them to the twin's ``inject_noise``. Statistics: each entry's
``statistical`` function tests the twin's *own* draws, with a stated false-alarm rate.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..strategies import float_arrays
from .core import hoeffding_margin
from nnparity.catalog import Entry, Example, Inputs, Invalid

NAN, INF = float("nan"), float("inf")
SELU_ALPHA = 1.7580993408473766  # torch's constant (aten/src/ATen/native/Dropout.cpp)

_ALPHA = ("AlphaDropout", "FeatureAlphaDropout")


def _normal(shape, dt, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dt)


def _one(x):
    return Inputs((x,))


# ----------------------------------------------------------------------------------
# The noise: which dims share one draw, per class (torch/nn/functional.py, Dropout.cpp)
# ----------------------------------------------------------------------------------


def noise_shape(name: str, shape: tuple) -> tuple:
    """The shape of the ``keep`` mask in the input's own frame (the contract, README).

    Dropout, AlphaDropout: elementwise. Dropout2d and FeatureAlphaDropout: one draw per
    (dim 0, dim 1), any rank >= 2 (a 3-D input is (N, C, L)). Dropout1d and Dropout3d
    prepend a batch dim of 1 to an input that is not 3-D (resp. 5-D), so an unbatched
    input draws one value per index of its dim 0."""
    shape = tuple(shape)
    if name in ("Dropout", "AlphaDropout"):
        return shape
    batched_rank = {"Dropout1d": 3, "Dropout3d": 5}.get(name)
    if batched_rank is not None and len(shape) != batched_rank:
        return shape[:1] + (1,) * (len(shape) - 1)
    return shape[:2] + (1,) * (len(shape) - 2)


def dropout_keep_mask(draws):
    """torch's keep mask, from its one ``bernoulli_(1 - p)`` draw in this module (ATen
    ``_dropout_impl``; none when p is 0 or 1, in eval, or on an empty input): kept
    elements are 1. The draw has the noise shape (:func:`noise_shape`) in torch's
    frame: with the batch dim of 1 that Dropout1d/Dropout3d prepend to an input they
    unsqueeze, which the twin accepts (README, the contract)."""
    (draw,) = draws
    return {"keep": draw.values != 0}


# ----------------------------------------------------------------------------------
# Statistical tests of the twin's own draws
# ----------------------------------------------------------------------------------


#: One statistical shape per class: 200,000 independent draws each (channels for the
#: feature variants, which also repeat each draw over 3 spatial elements).
_STAT_SHAPES = {"Dropout": (200_000,), "AlphaDropout": (200_000,), "Dropout1d": (1000, 200, 3),
                "Dropout2d": (1000, 200, 3, 1), "Dropout3d": (1000, 200, 1, 3, 1),
                "FeatureAlphaDropout": (1000, 200, 3)}
_PS = (0.1, 0.5, 0.9)


def dropout_statistics(name: str):
    """Statistics of the twin's own draws for p in {0.1, 0.5, 0.9}.

    Stochastic tests (each a two-sided Hoeffding bound; the false-alarm rate of the
    whole function is 1e-6, split evenly over its tests, Bonferroni):
    * the keep rate over n = 200,000 independent draws is 1 - p;
    * alpha variants only: with x uniform on [-sqrt 3, sqrt 3] (mean 0, variance 1),
      the output's mean is 0 and its mean square is 1 (the affine correction), outputs
      bounded, so Hoeffding applies with the output's range as width.
    Exact tests (no false alarms): every element that shares a draw (a channel) is
    kept or dropped together; kept values are x / (1 - p) (alpha: a x + alpha a p) and
    dropped ones 0 (alpha: alpha a (p - 1)) to within 4 float64 ulps.
    """
    alpha_variant = name in _ALPHA
    shape = _STAT_SHAPES[name]
    n_tests = len(_PS) * (3 if alpha_variant else 1)
    false_alarm = 1e-6 / n_tests

    def run(impl, rng):
        results = []
        for p in _PS:
            m = getattr(impl.nn, name)(p=p)
            m.generator = np.random.default_rng(rng.integers(2**63))
            m.train()
            x = rng.uniform(1.0, 2.0, shape)
            y = m(x)
            a = 1 / math.sqrt((SELU_ALPHA**2 * p + 1) * (1 - p)) if alpha_variant else 1 / (1 - p)
            dropped_value = SELU_ALPHA * a * (p - 1) if alpha_variant else 0.0
            kept_expected = a * x + (SELU_ALPHA * a * p if alpha_variant else 0.0)
            dropped = np.abs(y - dropped_value) <= 4 * np.finfo(np.float64).eps * max(abs(dropped_value), 1e-300)
            if not alpha_variant:
                dropped = y == 0
            draws = dropped.reshape(shape[:2] + (-1,)) if len(shape) > 1 else dropped[:, None]
            together = bool(np.all(draws.all(axis=-1) | ~draws.any(axis=-1)))
            results.append((f"shared draws kept or dropped together p={p}", together,
                            "every element of a channel must share its channel's draw" if len(shape) > 1
                            else "elementwise (trivially true)"))
            rate = 1 - draws[..., 0].mean()
            margin = hoeffding_margin(draws[..., 0].size, false_alarm)
            results.append((f"keep rate p={p}", abs(rate - (1 - p)) < margin,
                            f"keep rate {rate:.5f}, expected {1 - p:.5f} +- {margin:.5f} (false-alarm rate {false_alarm:.1e})"))
            kept = ~dropped
            err = float(np.max(np.abs(y[kept] - kept_expected[kept]) / np.abs(kept_expected[kept]), initial=0.0))
            results.append((f"kept values p={p}", err <= 4 * np.finfo(np.float64).eps,
                            f"max relative error of kept values against {'a x + alpha a p' if alpha_variant else 'x / (1 - p)'}: {err:.3g}"))
            results.append((f"dropped values p={p}", bool(dropped.any()) and bool(np.all(y[dropped] == y[dropped].flat[0])),
                            f"dropped elements must all equal {dropped_value!r}"))
            if alpha_variant:
                m.generator = np.random.default_rng(rng.integers(2**63))
                z = rng.uniform(-math.sqrt(3), math.sqrt(3), shape)
                out = m(z)
                lo, hi = min(dropped_value, a * -math.sqrt(3) + SELU_ALPHA * a * p), a * math.sqrt(3) + SELU_ALPHA * a * p
                # Outputs of one channel are dependent (one draw): Hoeffding over channel means, which are
                # independent and bounded in the same range, each channel having the same expectation.
                per_draw = out.reshape(shape[:2] + (-1,)).mean(axis=-1) if len(shape) > 1 else out
                sq_draw = (out ** 2).reshape(shape[:2] + (-1,)).mean(axis=-1) if len(shape) > 1 else out ** 2
                k = per_draw.size
                m1, m2 = float(per_draw.mean()), float(sq_draw.mean())
                t1 = hoeffding_margin(k, false_alarm, hi - lo)
                t2 = hoeffding_margin(k, false_alarm, max(lo * lo, hi * hi))
                results.append((f"mean 0 p={p}", abs(m1) < t1, f"mean {m1:.5f}, expected 0 +- {t1:.5f} (false-alarm rate {false_alarm:.1e})"))
                results.append((f"variance 1 p={p}", abs(m2 - 1) < t2,
                                f"mean square {m2:.5f}, expected 1 +- {t2:.5f} (false-alarm rate {false_alarm:.1e})"))
        return results

    return run


# ----------------------------------------------------------------------------------
# Entries
# ----------------------------------------------------------------------------------

_P = st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(0.0, 1.0))

#: Input ranks drawn per class (batched layout: the main domain, including the ranks
#: torch only accepts with a deprecation warning) and the unbatched rank.
_RANKS = {"Dropout": ((1, 2, 3, 4), 0), "AlphaDropout": ((1, 2, 3, 4), 0),
          "Dropout1d": ((3,), 2), "Dropout2d": ((2, 3, 4, 5), None), "Dropout3d": ((1, 2, 3, 5), 4),
          "FeatureAlphaDropout": ((2, 3, 4, 5), None)}


def _inputs(name):
    ranks, unbatched = _RANKS[name]

    def inputs(kw, dt, layout):
        if layout == "unbatched":
            shapes = hnp.array_shapes(min_dims=unbatched, max_dims=unbatched, min_side=1, max_side=4)
        elif layout == "empty":
            rank = max(ranks)
            shapes = hnp.array_shapes(min_dims=rank - 1, max_dims=rank - 1, min_side=1, max_side=3).map(lambda s: (0,) + s)
        else:
            shapes = st.sampled_from(ranks).flatmap(lambda r: hnp.array_shapes(min_dims=r, max_dims=r, min_side=1, max_side=4))
        return shapes.flatmap(lambda s: float_arrays(s, dt)).map(_one)

    return inputs


def _examples(name):
    ranks, unbatched = _RANKS[name]
    rank = max(ranks)
    shape = (3, 4, 2, 2, 2)[:rank] if rank >= 2 else (6,)
    special = np.array([NAN, INF, -INF, -0.0, 0.0, 1e30, 1.0, -2.0])
    special_shape = (2, 4) + (1,) * (rank - 2) if rank >= 2 else (8,)
    out = (
        Example("p=0-train-is-identity", "edge", {"p": 0.0}, lambda dt: _one(_normal(shape, dt, 1))),
        Example("p=1-train-is-zero", "edge", {"p": 1.0}, lambda dt: _one(_normal(shape, dt, 2))),
        Example("inplace", "edge", {"p": 0.5, "inplace": True}, lambda dt: _one(_normal(shape, dt, 3))),
        Example("integer-p", "edge", {"p": 1}, lambda dt: _one(_normal(shape, dt, 4))),
        Example("p=1-special", "special", {"p": 1.0}, lambda dt: _one(special.reshape(special_shape).astype(dt))),
        Example("special", "special", {"p": 0.5}, lambda dt: _one(special.reshape(special_shape).astype(dt))),
    )
    if unbatched is not None and unbatched > 0:
        ushape = shape[1:]
        out += (Example("unbatched", "layout", {"p": 0.5}, lambda dt: _one(_normal(ushape, dt, 5))),
                Example("unbatched-inplace", "layout", {"p": 0.5, "inplace": True}, lambda dt: _one(_normal(ushape, dt, 6))))
    if name == "Dropout2d":  # 3-D is batched (N, C, L), unlike Dropout1d/3d's unbatched rule
        out += (Example("3d-input-is-batched", "edge", {"p": 0.5}, lambda dt: _one(_normal((4, 3, 5), dt, 7))),)
    if name == "Dropout3d":  # not 5-D: unbatched, so dim 0 holds the channels
        out += tuple(Example(f"{r}d-input-channels-on-dim-0", "edge", {"p": 0.5}, lambda dt, r=r: _one(_normal((5, 3, 2)[:r], dt, 8)))
                     for r in (1, 2, 3))
    if name in ("Dropout2d", "FeatureAlphaDropout"):
        out += (Example("1d-input-eval", "edge", {"p": 0.5}, lambda dt: _one(_normal((5,), dt, 9)), mode="eval"),)
    return out


def _invalid(name):
    ranks, _ = _RANKS[name]
    rank = max(ranks)
    shape = (3, 4, 2, 2, 2)[:rank] if rank >= 2 else (6,)
    out = (Invalid("p>1", {"p": 1.5}), Invalid("p<0", {"p": -0.1}),
           Invalid("p=nan-forward", {"p": NAN}, lambda dt: _one(np.ones(shape, dt))))
    if name == "Dropout1d":
        out += (Invalid("4d-input", {"p": 0.5}, lambda dt: _one(np.ones((2, 3, 4, 5), dt))),
                Invalid("1d-input", {"p": 0.5}, lambda dt: _one(np.ones(4, dt))))
    if name in ("Dropout2d", "FeatureAlphaDropout"):
        out += (Invalid("1d-input-train", {"p": 0.5}, lambda dt: _one(np.ones(4, dt))),)
    if name == "Dropout3d":
        out += (Invalid("0d-input-train", {"p": 0.5}, lambda dt: _one(np.ones((), dt))),)
    return out


_BENCH = {"Dropout": (1000, 1000), "AlphaDropout": (1000, 1000), "Dropout1d": (64, 256, 64),
          "Dropout2d": (32, 64, 32, 16), "Dropout3d": (8, 64, 16, 16, 8), "FeatureAlphaDropout": (32, 64, 32, 16)}


def dropout_entry(name):
    return Entry(
        name=name,
        kwargs=st.fixed_dictionaries({}, optional={"p": _P, "inplace": st.booleans()}),
        inputs=_inputs(name),
        layouts=("batched",) + (("unbatched",) if _RANKS[name][1] is not None else ()) + ("empty",),
        train_eval_differs=True, random=True, noise=dropout_keep_mask, statistical=dropout_statistics(name),
        examples=_examples(name), invalid=_invalid(name),
        bench=lambda dt: ({"p": 0.5}, _one(_normal(_BENCH[name], dt))),
    )


ENTRIES = [dropout_entry(n) for n in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")]
