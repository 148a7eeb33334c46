"""Catalog entries: activations (torch/nn/modules/activation.py).

Special values. Every activation is checked, forward and gradient, at NaN, +-inf,
+-0.0, magnitudes where a naive exp/log over- or underflows (88, 89 in float32;
709, 710 in float64; and their negatives), tiny values, and every branch point of
the class with the kwargs that put it there (``special_examples``).

These inputs are split into arrays of at most ``SPECIAL_CHUNK`` = 7 elements. ATen's
CPU kernels run blocks of 2 * SIMD-width elements through a vectorised lambda and
the rest through the scalar lambda, and for several activations the two disagree
at NaN or -0.0 (e.g. the gradient of Hardtanh at NaN is grad on the scalar path
and 0 on the vectorised path; Softshrink(-0.0) is -0.0 vs +0.0). With 7 elements
every element takes the scalar path on x86 (the smallest block, float64 under
AVX2, is 8 elements), so the conventions checked are the per-element formulas.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..strategies import float_arrays, float_input, normal_array
from nnparity.catalog import Entry, Example, Inputs, Invalid

#: Points every elementwise activation is checked at, forward and gradient:
#: NaN, infinities, signed zeros, and magnitudes where a naive exp/log over- or
#: underflows in float32 (88, 89) and float64 (709, 710).
SPECIAL_VALUES = (np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0,
                  88.0, 89.0, -88.0, -89.0, 709.0, 710.0, -709.0, -710.0, 1e-30, -1e-30)

#: Elements per special-values array: small enough that torch's CPU kernels use their
#: scalar lambda for every element (see the module docstring).
SPECIAL_CHUNK = 7


def _kw_id(kw):
    return "-".join(f"{k}={v}" for k, v in sorted(kw.items()))


def special_examples(extra_points=(), kwargs_list=({},), values=SPECIAL_VALUES, shape=None):
    """'special' Examples: for each kwargs, the special values plus the class's branch
    points (``extra_points``: a list of numbers, or ``kw -> list`` for points that
    depend on the kwargs), in 1-D arrays of at most SPECIAL_CHUNK elements."""

    def make(kw, i, chunk):
        label = "special" + (f"-{_kw_id(kw)}" if kw else "") + f"-{i}"
        arr = tuple(chunk)
        return Example(id=label, kind="special", kwargs=kw,
                       inputs=lambda dt, arr=arr: Inputs((np.array(arr, dtype=dt).reshape(shape or (len(arr),)),)))

    out = []
    for kw in kwargs_list:
        extra = tuple(extra_points(kw)) if callable(extra_points) else tuple(extra_points)
        points = tuple(values) + extra
        for i in range(0, len(points), SPECIAL_CHUNK):
            out.append(make(kw, i // SPECIAL_CHUNK, points[i:i + SPECIAL_CHUNK]))
    return tuple(out)


def elementwise_inputs(kw, dt, layout):
    """Any shape; 'unbatched' is a 0-d input; 'empty' is a zero-size batch."""
    if layout == "empty":
        return st.just(Inputs((np.zeros((0, 3), dtype=dt),)))
    if layout == "unbatched":
        return float_arrays((), dt).map(lambda x: Inputs((x,)))
    return float_input(dt)


def _bench_elementwise(kwargs=None):
    return lambda dt: (dict(kwargs or {}), Inputs((normal_array((1000, 1000), dt),)))


def _int_input(dt):
    return Inputs((np.arange(-2, 4, dtype=np.int64),))


def elementwise(name, kwargs=st.just({}), extra_points=(), special_kwargs=({},), invalid=(), int_rejected=True,
                special_values=SPECIAL_VALUES, **flags) -> Entry:
    """An elementwise activation: any input shape; checked at the special values
    and at its branch points for each of ``special_kwargs``."""
    inv = tuple(invalid) + ((Invalid("integer-input", {}, _int_input),) if int_rejected else ())
    return Entry(
        name=name, kwargs=kwargs, inputs=elementwise_inputs, layouts=("batched", "unbatched", "empty"),
        examples=special_examples(extra_points, special_kwargs, special_values) + tuple(flags.pop("examples", ())),
        invalid=inv,
        bench=flags.pop("bench", _bench_elementwise()),
        **flags,
    )


def optional(**strategies):
    return st.fixed_dictionaries({}, optional=strategies)


INPLACE = st.booleans()

# -- piecewise linear ---------------------------------------------------------------

RELU = elementwise("ReLU", optional(inplace=INPLACE), special_kwargs=({}, {"inplace": True}), int_rejected=False)

RELU6 = elementwise("ReLU6", optional(inplace=INPLACE), extra_points=(6.0, 5.5, 6.5, -0.5), int_rejected=False,
                    special_kwargs=({}, {"inplace": True}))


def _hardtanh_kwargs():
    bounds = st.tuples(st.floats(-3, 2), st.floats(0.125, 3)).map(lambda t: (t[0], t[0] + t[1]))
    return st.tuples(bounds, st.booleans(), st.booleans()).map(
        lambda t: {"min_val": t[0][0], "max_val": t[0][1], **({"inplace": True} if t[1] else {})} if t[2] else
        ({"inplace": True} if t[1] else {}))


def _bounds_points(kw):
    lo, hi = kw.get("min_val", -1.0), kw.get("max_val", 1.0)
    return (lo, hi, lo - 0.25, hi + 0.25, (lo + hi) / 2)


HARDTANH = elementwise(
    "Hardtanh", _hardtanh_kwargs(), extra_points=_bounds_points, int_rejected=False,
    special_kwargs=({}, {"min_val": -2.5, "max_val": 0.5}, {"min_val": 0.0, "max_val": 6.0, "inplace": True}),
    invalid=(Invalid("max<min", {"min_val": 1.0, "max_val": -1.0}),
             Invalid("max==min", {"min_val": 0.5, "max_val": 0.5})),
)


def _threshold_kwargs():
    return st.fixed_dictionaries({"threshold": st.floats(-3, 3), "value": st.floats(-5, 5)}, optional={"inplace": INPLACE})


THRESHOLD = elementwise(
    "Threshold", _threshold_kwargs(), int_rejected=False, bench=_bench_elementwise({"threshold": 0.1, "value": 20.0}),
    extra_points=lambda kw: (kw["threshold"], kw["threshold"] - 0.5, kw["threshold"] + 0.5),
    special_kwargs=({"threshold": 0.5, "value": 2.0}, {"threshold": -1.5, "value": -7.0, "inplace": True},
                    {"threshold": 0.0, "value": 0.0}),
)

LEAKY_RELU = elementwise(
    "LeakyReLU",
    st.one_of(optional(negative_slope=st.floats(0, 2), inplace=INPLACE),
              # torch rejects the in-place backward for a negative slope: out of place only
              st.fixed_dictionaries({"negative_slope": st.floats(-2, -0.01)})),
    special_kwargs=({}, {"negative_slope": 0.2, "inplace": True}, {"negative_slope": -0.5}, {"negative_slope": 0.0}),
)

HARDSHRINK = elementwise(
    # |lambd| >= 0.125: with lambd = 0, Hardshrink is the identity but torch's subgradient
    # at 0 is 0, which finite differences (gradcheck) rightly call wrong; lambd = 0 is
    # checked against torch in the special values instead.
    "Hardshrink", optional(lambd=st.one_of(st.floats(0.125, 3), st.floats(-1, -0.125))),
    extra_points=lambda kw: (kw.get("lambd", 0.5), -kw.get("lambd", 0.5), kw.get("lambd", 0.5) + 0.25,
                             -kw.get("lambd", 0.5) - 0.25),
    special_kwargs=({}, {"lambd": 1.5}, {"lambd": 0.0}, {"lambd": -1.0}),
)

SOFTSHRINK = elementwise(
    "Softshrink", optional(lambd=st.floats(0.125, 3)),  # lambd = 0: as Hardshrink, special values only
    extra_points=lambda kw: (kw.get("lambd", 0.5), -kw.get("lambd", 0.5), kw.get("lambd", 0.5) + 0.25,
                             -kw.get("lambd", 0.5) - 0.25),
    special_kwargs=({}, {"lambd": 1.5}, {"lambd": 0.0}),
    invalid=(Invalid("negative-lambd", {"lambd": -1.0}, lambda dt: Inputs((normal_array((3,), dt),))),),
)

_THREES = (3.0, -3.0, 2.75, -2.75, 3.25, -3.25)
HARDSIGMOID = elementwise("Hardsigmoid", optional(inplace=INPLACE), extra_points=_THREES,
                          special_kwargs=({}, {"inplace": True}))
HARDSWISH = elementwise("Hardswish", optional(inplace=INPLACE), extra_points=_THREES + (-1.5,),
                        special_kwargs=({}, {"inplace": True}))

# -- exponential family -------------------------------------------------------------

ELU = elementwise(
    "ELU",
    st.one_of(optional(alpha=st.floats(0, 3), inplace=INPLACE),
              st.fixed_dictionaries({"alpha": st.floats(-2, -0.01)})),  # in place needs alpha >= 0 in torch
    extra_points=(-20.0, -5.0, 20.0),
    special_kwargs=({}, {"alpha": 2.5, "inplace": True}, {"alpha": -1.5}, {"alpha": 0.0}),
)

# |alpha| >= 1 in the fuzz: torch's CELU backward rounds alpha to float32 before
# inverting it (derivatives.yaml), so its gradient, which the twin reproduces, is off the
# true derivative by up to |x / alpha| * 2^-24 relative; gradcheck (twin vs finite
# differences, 1e-6) holds only while |x / alpha| <= 10. Small alpha is checked against
# torch in the special values (alpha = 0.25 at x = -20: |x / alpha| = 80).
CELU = elementwise(
    "CELU",
    st.one_of(optional(alpha=st.floats(1, 3), inplace=INPLACE),
              st.fixed_dictionaries({"alpha": st.floats(-3, -1)})),
    extra_points=(-20.0, -5.0, 20.0),
    special_kwargs=({}, {"alpha": 2.5, "inplace": True}, {"alpha": -1.5}, {"alpha": 0.25}),
    invalid=(Invalid("alpha=0", {"alpha": 0.0}, lambda dt: Inputs((normal_array((3,), dt),))),),
)

SELU = elementwise("SELU", optional(inplace=INPLACE), extra_points=(-20.0, -5.0, 20.0),
                   special_kwargs=({}, {"inplace": True}))

# torch's vectorised float32 GELU kernel returns NaN at +inf (its scalar path, and
# float64, return inf; so does the twin). +inf is therefore checked alone in a
# 1-element array, which torch evaluates with the scalar lambda; the rest of the
# special values run in the usual chunks.
GELU = elementwise(
    "GELU", optional(approximate=st.sampled_from(["none", "tanh"])),
    extra_points=(-3.0, -5.0, -6.0, -10.0, -20.0, -40.0, 5.5, 3.0),
    special_kwargs=({}, {"approximate": "tanh"}),
    special_values=tuple(v for v in SPECIAL_VALUES if v != np.inf),
    examples=tuple(Example(f"special-plus-inf-alone{'-' + _kw_id(kw) if kw else ''}", "special", kw,
                           lambda dt: Inputs((np.array([np.inf], dt),))) for kw in ({}, {"approximate": "tanh"})),
    invalid=(Invalid("bad-approximate", {"approximate": "exact"}, lambda dt: Inputs((normal_array((3,), dt),))),),
)

SIGMOID = elementwise("Sigmoid", extra_points=(-20.0, 20.0, -40.0, 40.0, -100.0, -800.0), int_rejected=False)
TANH = elementwise("Tanh", extra_points=(-20.0, 20.0, 0.5, -0.5), int_rejected=False)
SILU = elementwise("SiLU", optional(inplace=INPLACE), extra_points=(-20.0, 20.0, -40.0, -100.0, -800.0),
                   special_kwargs=({}, {"inplace": True}))
MISH = elementwise("Mish", optional(inplace=INPLACE), extra_points=(-20.0, 20.0, -40.0, 40.0, -100.0, -800.0),
                   special_kwargs=({}, {"inplace": True}))
LOG_SIGMOID = elementwise("LogSigmoid", extra_points=(-20.0, 20.0, -40.0, 40.0, -100.0, 800.0))


def _softplus_kwargs():
    # beta * threshold stays <= 60, so torch's log1p(exp(beta * x)) below the threshold
    # never overflows float32 (it would give inf where the twin, and the float64
    # oracle, give the finite value: see F.softplus).
    return optional(beta=st.one_of(st.floats(0.25, 4), st.sampled_from([-1.0, -0.5])), threshold=st.floats(0.5, 15))


def _softplus_points(kw):
    beta, th = kw.get("beta", 1.0), kw.get("threshold", 20.0)
    return (th / beta, th / beta + 0.5, th / beta - 0.5, -th / beta, 30.0, -30.0)


SOFTPLUS = elementwise(
    "Softplus", _softplus_kwargs(), extra_points=_softplus_points,
    special_kwargs=({}, {"beta": 2.0, "threshold": 10.0}, {"beta": 0.5, "threshold": 2.0}, {"beta": -1.0, "threshold": 5.0}),
)

SOFTSIGN = elementwise("Softsign", extra_points=(1e30, -1e30, 1e20), int_rejected=False)
TANHSHRINK = elementwise("Tanhshrink", extra_points=(1e-4, -1e-4, 20.0, -20.0), int_rejected=False)


# -- PReLU ----------------------------------------------------------------------------

def prelu_inputs(kw, dt, layout):
    c = kw.get("num_parameters", 1)
    if layout == "unbatched":
        if c != 1:
            return st.nothing()  # torch: a 0-d or 1-D input has one channel
        shape = st.sampled_from([(), (1,), (4,)])
    elif layout == "empty":
        shape = st.just((0, c, 2))
    else:
        shape = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4).flatmap(
            lambda rest: st.integers(1, 4).map(lambda n: (n, c) + rest))
    return shape.flatmap(lambda s: float_arrays(s, dt)).map(lambda x: Inputs((x,)))


PRELU = Entry(
    name="PReLU",
    kwargs=st.fixed_dictionaries({}, optional={"num_parameters": st.sampled_from([1, 3]), "init": st.floats(-1, 1)}),
    inputs=prelu_inputs, factory_kwargs=True, layouts=("batched", "unbatched", "empty"),
    examples=special_examples(values=SPECIAL_VALUES + (0.5, -0.5), kwargs_list=({},)) + (
        Example("special-3-channels", "special", {"num_parameters": 3},
                lambda dt: Inputs((np.array([[np.nan, 0.0, -0.0], [np.inf, -np.inf, -1.0], [-89.0, 0.0, 710.0]], dt),))),
        Example("0-d-input", "edge", {}, lambda dt: Inputs((np.array(-1.5, dt),))),
        Example("1-d-input", "edge", {}, lambda dt: Inputs((normal_array((5,), dt),))),
        Example("4-d-input-channels", "edge", {"num_parameters": 3}, lambda dt: Inputs((normal_array((2, 3, 2, 2), dt),))),
    ),
    invalid=(
        Invalid("channel-mismatch", {"num_parameters": 3}, lambda dt: Inputs((np.zeros((2, 4), dt),))),
        Invalid("1-d-input-many-parameters", {"num_parameters": 3}, lambda dt: Inputs((np.zeros((3,), dt),))),
    ),
    bench=lambda dt: ({"num_parameters": 10}, Inputs((normal_array((100, 10, 1000), dt),))),
)


# -- RReLU ----------------------------------------------------------------------------

def rrelu_slopes(draws):
    """torch's slopes: the ``noise`` tensor ``rrelu_with_noise`` fills in training (ATen
    ``_rrelu_with_noise_train``): a uniform draw from [lower, upper] where x <= 0
    (NaN counts as > 0), 1 elsewhere."""
    (draw,) = draws
    return {"slopes": draw.values}


def dkw_margin(n: int, alpha: float) -> float:
    """eps with P(sup_t |F_n(t) - F(t)| > eps) <= 2 exp(-2 n eps^2) = alpha
    (Dvoretzky-Kiefer-Wolfowitz, with Massart's constant)."""
    return math.sqrt(math.log(2 / alpha) / (2 * n))


def rrelu_statistics(impl, rng):
    """The twin's own slope draws, n = 200,000 negative inputs per setting.

    For (lower, upper) in {(1/8, 1/3), (0, 1), (-0.5, 0.25)}: the Kolmogorov-Smirnov
    distance of the slopes to Uniform(lower, upper) is below the DKW margin at a
    false-alarm rate of 1e-6 / 3 each (1e-6 for the whole test, Bonferroni); the
    range checks (every slope within [lower, upper], positive inputs unchanged,
    lower == upper gives that slope exactly, eval uses (lower + upper) / 2) are
    deterministic and cannot false-alarm."""
    n, alpha, results = 200_000, 1e-6 / 3, []
    for lower, upper in ((1 / 8, 1 / 3), (0.0, 1.0), (-0.5, 0.25)):
        m = impl.nn.RReLU(lower, upper)
        m.generator = np.random.default_rng(rng.integers(2**63))
        m.train()
        x = -rng.uniform(0.5, 2.0, n)
        slopes = m(x) / x
        inside = bool(np.all((slopes >= lower - 1e-15) & (slopes <= upper + 1e-15)))
        results.append((f"range l={lower:g} u={upper:g}", inside,
                        f"slopes in [{slopes.min():.6f}, {slopes.max():.6f}], expected within [{lower:g}, {upper:g}]"))
        u = np.sort((slopes - lower) / (upper - lower))
        i = np.arange(1, n + 1)
        ks = float(max(np.max(i / n - u), np.max(u - (i - 1) / n)))
        margin = dkw_margin(n, alpha)
        results.append((f"KS uniform l={lower:g} u={upper:g}", ks < margin,
                        f"KS distance {ks:.5f}, DKW margin {margin:.5f} (false-alarm rate {alpha:.1e})"))
    m = impl.nn.RReLU(0.2, 0.2)
    m.train()
    x = np.concatenate([-rng.uniform(0.5, 2.0, 1000), rng.uniform(0.0, 2.0, 1000)])
    y = m(x)
    results.append(("lower == upper", bool(np.all(y[:1000] == x[:1000] * 0.2)), "every slope must be exactly 0.2"))
    results.append(("positive unchanged", bool(np.all(y[1000:] == x[1000:])), "x > 0 must pass through unchanged"))
    m = impl.nn.RReLU(0.1, 0.3)
    m.eval()
    y = m(x)
    results.append(("eval slope", bool(np.all(y[:1000] == x[:1000] * ((0.1 + 0.3) / 2))), "eval must use (lower + upper) / 2"))
    return results


def _rrelu_kwargs():
    bounds = st.tuples(st.floats(0, 0.5), st.floats(0, 0.5)).map(lambda t: {"lower": t[0], "upper": t[0] + t[1]})
    return st.tuples(st.one_of(st.just({}), bounds), st.booleans()).map(
        lambda t: {**t[0], **({"inplace": True} if t[1] else {})})


RRELU = elementwise(
    "RReLU", _rrelu_kwargs(), train_eval_differs=True, random=True, noise=rrelu_slopes, statistical=rrelu_statistics,
    special_kwargs=({}, {"lower": 0.25, "upper": 0.25, "inplace": True}),
    examples=tuple(Example(f"special-eval-{i}", "special", {}, (lambda dt, c=c: Inputs((np.array(c, dt),))), mode="eval")
                   for i, c in enumerate([SPECIAL_VALUES[j:j + SPECIAL_CHUNK] for j in range(0, len(SPECIAL_VALUES), SPECIAL_CHUNK)])),
    invalid=(Invalid("lower>upper", {"lower": 0.5, "upper": 0.1}, lambda dt: Inputs((normal_array((3,), dt),))),),
    gradcheck=True,
)


# -- GLU --------------------------------------------------------------------------------

def glu_inputs(kw, dt, layout):
    dim = kw.get("dim", -1)
    if layout == "empty":
        return st.just(Inputs((np.zeros((0, 4), dt) if dim in (-1, 1) else np.zeros((2, 0), dt),)))
    need = max(dim + 1, -dim, 1)
    ndims = st.integers(need, 4)

    def shape(nd):
        return st.lists(st.integers(1, 4), min_size=nd, max_size=nd).flatmap(
            lambda s: st.integers(1, 3).map(lambda k: tuple(2 * k if i == dim % nd else v for i, v in enumerate(s))))

    return ndims.flatmap(shape).flatmap(lambda s: float_arrays(s, dt)).map(lambda x: Inputs((x,)))


GLU = Entry(
    name="GLU", kwargs=optional(dim=st.sampled_from([-1, 0, 1, -2])), inputs=glu_inputs,
    layouts=("batched", "empty"),
    examples=(
        Example("special", "special", {"dim": 0},
                # a = -inf is paired with b = -5, not with a b where float32 sigmoid underflows:
                # torch computes -inf * 0 = NaN there, the twin's stable sigmoid -inf * 2e-39 = -inf.
                lambda dt: Inputs((np.array([[np.nan, 1.0, np.inf, -np.inf, 2.0, -0.0, 0.0],
                                             [0.0, np.nan, 89.0, -5.0, -710.0, 0.0, -0.0]], dt),))),
        Example("special-b", "special", {"dim": -1},
                lambda dt: Inputs((np.array([[np.inf, -np.inf], [-np.inf, np.inf], [1.0, 710.0], [-0.0, -710.0]], dt),))),
        Example("1-d", "edge", {"dim": 0}, lambda dt: Inputs((normal_array((6,), dt),))),
    ),
    invalid=(
        Invalid("odd-size", {}, lambda dt: Inputs((np.zeros((2, 3), dt),))),
        Invalid("0-d", {}, lambda dt: Inputs((np.array(1.0, dt),))),
        Invalid("dim-out-of-range", {"dim": 3}, lambda dt: Inputs((np.zeros((2, 2), dt),))),
        Invalid("integer-input", {}, _int_input),
    ),
    bench=lambda dt: ({}, Inputs((normal_array((1000, 1000), dt),))),
)


# -- softmax family ----------------------------------------------------------------------

def _dims_valid(dim, nd):
    if dim is None:
        return True
    rank = max(nd, 1)
    return -rank <= dim < rank


def softmax_inputs(kw, dt, layout):
    dim = kw.get("dim")
    if layout == "empty":
        return st.just(Inputs((np.zeros((0, 3), dt),)))
    if layout == "unbatched":
        nds = [nd for nd in (0, 1) if _dims_valid(dim, nd)]
    else:
        nds = [nd for nd in (1, 2, 3, 4) if _dims_valid(dim, nd)]
    if not nds:
        return st.nothing()  # e.g. dim=1 has no unbatched (0-d or 1-D) input: Hypothesis draws other kwargs
    return st.sampled_from(nds).flatmap(
        lambda nd: hnp.array_shapes(min_dims=nd, max_dims=nd, min_side=1, max_side=5)).flatmap(
        lambda s: float_arrays(s, dt)).map(lambda x: Inputs((x,)))


_SOFTMAX_ROWS = [
    [np.nan, 0.0, 1.0], [np.inf, 0.0, 1.0], [-np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf],
    [np.inf, np.inf, 0.0], [0.0, -0.0, 0.0], [88.0, 89.0, -89.0], [709.0, 710.0, -710.0],
    [-709.0, -710.0, -800.0], [1e-30, -1e-30, 0.0], [30.0, -30.0, 0.0], [-np.inf, 5.0, -np.inf],
]


def softmax_special(dim_kw):
    """Rows each holding one special situation; 1-D rows of 3 elements, one per example
    (a softmax kernel reduces over the row, so one row is one case)."""
    return tuple(Example(f"special-{i}", "special", dim_kw, lambda dt, r=r: Inputs((np.array(r, dt),)))
                 for i, r in enumerate(_SOFTMAX_ROWS)) + (
        Example("special-2d", "special", {"dim": 1},
                lambda dt: Inputs((np.array([[np.nan, 0.0], [-np.inf, 0.0], [710.0, -710.0]], dt),))),
    )


def softmax_entry(name):
    return Entry(
        name=name,
        kwargs=optional(dim=st.sampled_from([None, 0, 1, -1, -2])),
        inputs=softmax_inputs, layouts=("batched", "unbatched", "empty"),
        examples=softmax_special({"dim": 0}) + (
            Example("implicit-dim-3d", "edge", {}, lambda dt: Inputs((normal_array((2, 3, 4), dt),))),
            Example("implicit-dim-4d", "edge", {}, lambda dt: Inputs((normal_array((2, 3, 2, 2), dt),))),
            Example("implicit-dim-0d", "edge", {}, lambda dt: Inputs((np.array(1.5, dt),))),
            Example("empty-reduced-dim", "layout", {"dim": 1}, lambda dt: Inputs((np.zeros((3, 0), dt),))),
        ),
        invalid=(Invalid("dim-out-of-range", {"dim": 3}, lambda dt: Inputs((np.zeros((2, 2), dt),))),
                 Invalid("integer-input", {"dim": 0}, _int_input)),
        bench=lambda dt: ({"dim": -1}, Inputs((normal_array((1000, 1000), dt),))),
    )


def softmax2d_inputs(kw, dt, layout):
    if layout == "empty":
        return st.just(Inputs((np.zeros((0, 3, 2, 2), dt),)))
    nd = 3 if layout == "unbatched" else 4
    return hnp.array_shapes(min_dims=nd, max_dims=nd, min_side=1, max_side=4).flatmap(
        lambda s: float_arrays(s, dt)).map(lambda x: Inputs((x,)))


SOFTMAX2D = Entry(
    name="Softmax2d", kwargs=st.just({}), inputs=softmax2d_inputs, layouts=("batched", "unbatched", "empty"),
    examples=(Example("special", "special", {},
                      lambda dt: Inputs((np.array([[[np.nan, 1.0]], [[0.0, np.inf]], [[-np.inf, -710.0]]], dt),))),
              Example("special-b", "special", {},
                      lambda dt: Inputs((np.array([[[-np.inf]], [[-np.inf]], [[89.0]]], dt),)))),
    invalid=(Invalid("2-d-input", {}, lambda dt: Inputs((np.zeros((2, 3), dt),))),
             Invalid("5-d-input", {}, lambda dt: Inputs((np.zeros((1, 2, 1, 1, 1), dt),))),
             Invalid("integer-input", {}, lambda dt: Inputs((np.arange(6, dtype=np.int64).reshape(1, 2, 3),)))),
    bench=lambda dt: ({}, Inputs((normal_array((10, 10, 100, 100), dt),))),
)


ENTRIES = [
    RELU, RELU6, HARDTANH, THRESHOLD, LEAKY_RELU, HARDSHRINK, SOFTSHRINK, HARDSIGMOID, HARDSWISH,
    ELU, CELU, SELU, GELU, SIGMOID, TANH, SILU, MISH, LOG_SIGMOID, SOFTPLUS, SOFTSIGN, TANHSHRINK,
    PRELU, RRELU, GLU,
    softmax_entry("Softmax"), softmax_entry("Softmin"), softmax_entry("LogSoftmax"), SOFTMAX2D,
]
