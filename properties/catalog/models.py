"""Checks for containers, the Module API, torch.nn.init and torch.optim.SGD, as
catalog-style functions (phase 1 of the models issue; the lead wires them into the
``containers``/``api`` and ``training`` check kinds).

Every check function returns a list of results ``(name, ok, message)``, like an
entry's ``statistical`` function (see ``dropout_statistics`` in dropout.py), and takes
the package under test as an :class:`nnparity.impl.Impl` (``impl.nn``,
``impl.package``), so it judges any implementation of the contract.

* ``INIT_STATISTICS``: one statistical test per random init function, each with a
  stated false-alarm rate of at most 1e-6 (Bonferroni over its parts), from
  distribution-free or exact bounds: the Dvoretzky-Kiefer-Wolfowitz inequality
  (Massart's constant) for Kolmogorov-Smirnov distances, Hoeffding for bounded
  means, the exact normal law of a Gaussian sample mean, and Laurent-Massart for
  chi-square sums. ``init_exact_results``: what is deterministic, exactly (bounds,
  orthogonality to rounding, the dirac structure, sparsity counts, gains and fans,
  signatures, errors, seeding).
* ``sgd_lockstep``: K steps of torch.optim.SGD and the twin from the same
  parameters with the same gradients; parameters, momentum buffers and the
  optimiser's state_dict compared at every step (tolerance rule in
  :func:`step_tolerance`). ``SGD_EXAMPLES`` and ``sgd_configs()`` give the cases;
  ``sgd_error_results``: torch's validation errors.
* ``container_results``: scripted scenarios run on torch.nn and on the twin;
  state_dict keys, order, dtypes and values, registration (named_parameters,
  named_buffers, named_modules, children), repr, return values and errors compared.
"""

from __future__ import annotations

import inspect
import math
import statistics
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import strategies as st

__all__ = ["INIT_STATISTICS", "init_exact_results", "layer_init_statistics", "sgd_lockstep", "SGD_EXAMPLES",
           "sgd_configs", "sgd_error_results", "step_tolerance", "container_results", "SCENARIOS"]


# =====================================================================================
# Statistical tests with stated false-alarm rates
# =====================================================================================

def dkw_margin(n: int, alpha: float) -> float:
    """eps with P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2) = alpha (DKW, Massart 1990)."""
    return math.sqrt(math.log(2 / alpha) / (2 * n))


def _ndtr(z: np.ndarray) -> np.ndarray:
    import torch

    return torch.special.ndtr(torch.from_numpy(np.asarray(z, np.float64))).numpy()


def ks_distance(x: np.ndarray, cdf: Callable[[np.ndarray], np.ndarray]) -> float:
    """sup_t |F_n(t) - F(t)| for a continuous F (both one-sided gaps at each order statistic)."""
    x = np.sort(np.asarray(x, np.float64).ravel())
    n = x.size
    f = cdf(x)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - f), np.max(f - (i - 1) / n)))


def ks_test(label: str, x: np.ndarray, cdf, pdf_max: float, alpha: float):
    """The Kolmogorov-Smirnov distance against ``cdf`` within the DKW margin at
    false-alarm rate ``alpha``, plus the largest CDF shift that rounding the draws to
    their dtype can cause (pdf_max * half a spacing at the largest |x|)."""
    x = np.asarray(x)
    d = ks_distance(x, cdf)
    rounding = pdf_max * float(np.spacing(np.max(np.abs(x)).astype(x.dtype))) if x.size else 0.0
    margin = dkw_margin(x.size, alpha) + rounding
    return (f"{label}: Kolmogorov-Smirnov", d <= margin,
            f"D = {d:.5f}, allowed {margin:.5f} (DKW, n = {x.size}, false-alarm rate {alpha:.1e})")


def uniform_cdf(a: float, b: float):
    return lambda t: np.clip((t - a) / (b - a), 0.0, 1.0)


def normal_cdf(mean: float, std: float):
    return lambda t: _ndtr((t - mean) / std)


def truncnorm_cdf(mean: float, std: float, a: float, b: float):
    lo, hi = _ndtr(np.array((a - mean) / std)), _ndtr(np.array((b - mean) / std))
    return lambda t: np.clip((_ndtr((t - mean) / std) - lo) / (hi - lo), 0.0, 1.0)


def uniform_moment_tests(label: str, x: np.ndarray, a: float, b: float, alpha: float):
    """Mean (a+b)/2 and E(x - mean)^2 = (b-a)^2/12, each by Hoeffding for a bounded
    variable (rate alpha/2 each)."""
    x = np.asarray(x, np.float64).ravel()
    n, mu, w = x.size, (a + b) / 2, b - a
    h = math.sqrt(math.log(4 / alpha) / (2 * n))
    mean, m2 = x.mean(), np.mean((x - mu) ** 2)
    return [(f"{label}: mean", abs(mean - mu) <= w * h,
             f"mean {mean:.6g}, expected {mu:.6g} +- {w * h:.3g} (Hoeffding, false-alarm rate {alpha / 2:.1e})"),
            (f"{label}: variance", abs(m2 - w * w / 12) <= w * w / 4 * h,
             f"E(x-mu)^2 {m2:.6g}, expected {w * w / 12:.6g} +- {w * w / 4 * h:.3g} (Hoeffding, rate {alpha / 2:.1e})")]


def normal_moment_tests(label: str, x: np.ndarray, mean: float, std: float, alpha: float):
    """The sample mean is exactly N(mean, std^2/n): |mean_n - mean| <= z std/sqrt(n)
    with z the 1 - alpha/4 normal quantile; S = sum((x-mean)/std)^2 is chi-square
    with n degrees of freedom: n - 2 sqrt(n t) <= S <= n + 2 sqrt(n t) + 2t with
    t = ln(4/alpha) (Laurent & Massart 2000). Rate alpha/2 each."""
    x = np.asarray(x, np.float64).ravel()
    n = x.size
    z = statistics.NormalDist().inv_cdf(1 - alpha / 4)
    t = math.log(4 / alpha)
    s = float(np.sum(((x - mean) / std) ** 2))
    lo, hi = n - 2 * math.sqrt(n * t), n + 2 * math.sqrt(n * t) + 2 * t
    return [(f"{label}: mean", abs(x.mean() - mean) <= z * std / math.sqrt(n),
             f"mean {x.mean():.6g}, expected {mean:.6g} +- {z * std / math.sqrt(n):.3g} (exact normal law, rate {alpha / 2:.1e})"),
            (f"{label}: variance", lo <= s <= hi,
             f"sum of squared z-scores {s:.1f}, expected in [{lo:.1f}, {hi:.1f}] (chi-square, Laurent-Massart, rate {alpha / 2:.1e})")]


def bounds_test(label: str, x: np.ndarray, a: float, b: float):
    """Deterministic: every draw lies in [a, b] rounded to the dtype."""
    x = np.asarray(x)
    lo, hi = x.dtype.type(a), x.dtype.type(b)
    ok = bool(np.all((x >= lo) & (x <= hi)))
    return (f"{label}: bounds", ok, f"all values in [{lo}, {hi}]" if ok else
            f"values outside [{lo}, {hi}]: min {x.min()}, max {x.max()}")


def _uniform_tests(label, x, a, b, alpha):
    """KS + mean + variance against U(a, b) at total rate alpha; bounds exactly."""
    return [bounds_test(label, x, a, b), ks_test(label, x, uniform_cdf(a, b), 1 / (b - a), alpha / 2),
            *uniform_moment_tests(label, x, a, b, alpha / 2)]


def _normal_tests(label, x, mean, std, alpha):
    """KS + mean + variance against N(mean, std^2) at total rate alpha."""
    pdf_max = 1 / (std * math.sqrt(2 * math.pi))
    return [ks_test(label, x, normal_cdf(mean, std), pdf_max, alpha / 2), *normal_moment_tests(label, x, mean, std, alpha / 2)]


def _zero_mean_tests(label, x, std, uniform: bool, alpha):
    """U(+-sqrt(3) std) when ``uniform``, else N(0, std^2): the two families of init."""
    if uniform:
        return _uniform_tests(label, x, -math.sqrt(3) * std, math.sqrt(3) * std, alpha)
    return _normal_tests(label, x, 0.0, std, alpha)


# =====================================================================================
# torch.nn.init: the statistical twins
# =====================================================================================

ALPHA = 1e-6  #: false-alarm rate of each test function below (its parts share it, Bonferroni)
N_DRAWS = 1 << 17

#: Weight shapes with fan_in != fan_out (so a fan swapped for the other is a
#: different distribution), 2-d and convolution-like, about N_DRAWS elements.
FAN_SHAPES = ((512, 256), (64, 32, 8, 8), (16, 128, 4, 4, 4))
DTYPES = (np.float32, np.float64)
NONLINEARITIES = (("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
                  ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None),
                  ("relu", None), ("leaky_relu", None), ("leaky_relu", 0), ("leaky_relu", 0.2),
                  ("leaky_relu", math.sqrt(5)), ("leaky_relu", 3), ("selu", None))


def _seeded(rng) -> np.random.Generator:
    return np.random.default_rng(int(rng.integers(2**63)))


def _cases(rng, n):
    """n (shape, dtype) pairs cycling through FAN_SHAPES and DTYPES."""
    return [(FAN_SHAPES[i % len(FAN_SHAPES)], DTYPES[(i // len(FAN_SHAPES)) % 2]) for i in range(n)]


def _torch_fan(shape, mode):
    import torch

    return torch.nn.init._calculate_correct_fan(torch.empty(shape), mode)


def kaiming_statistics(impl, rng, which: str):
    """kaiming_uniform_/kaiming_normal_ for every mode and nonlinearity (a drawn for
    leaky_relu, including torch's default a=0, an int, and Linear's sqrt(5)): the
    twin's draws against U(+-gain*sqrt(3/fan)) or N(0, (gain/sqrt(fan))^2), with gain
    and fan from torch's own calculate_gain and fan rule."""
    import torch

    fn = getattr(impl.nn.init, which)
    configs = [(mode, nl, a) for mode in ("fan_in", "fan_out") for nl, a in NONLINEARITIES]
    alpha, results = ALPHA / len(configs), []
    for (mode, nl, a), (shape, dt) in zip(configs, _cases(rng, len(configs))):
        std = torch.nn.init.calculate_gain(nl, 0 if a is None else a) / math.sqrt(_torch_fan(shape, mode))  # kaiming's a=0
        kw = {"mode": mode, "nonlinearity": nl, **({} if a is None else {"a": a})}
        x = fn(np.empty(shape, dt), generator=_seeded(rng), **kw)
        label = f"{which}({'x'.join(map(str, shape))} {np.dtype(dt).name}, {kw})"
        results += _zero_mean_tests(label, x, std, which == "kaiming_uniform_", alpha)
    return results


def xavier_statistics(impl, rng, which: str):
    """xavier_uniform_/xavier_normal_ for gains 1, 0.5 and relu's, on 2-d and conv
    shapes: U(+-gain*sqrt(6/(fan_in+fan_out))) or N(0, gain^2 * 2/(fan_in+fan_out))."""
    import torch

    fn = getattr(impl.nn.init, which)
    gains = (1.0, 0.5, math.sqrt(2.0))
    configs = [(g, case) for g, case in zip(gains * 2, _cases(rng, 6))]
    alpha, results = ALPHA / len(configs), []
    for gain, (shape, dt) in configs:
        fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        std = gain * math.sqrt(2.0 / (fan_in + fan_out))
        x = fn(np.empty(shape, dt), gain=gain, generator=_seeded(rng))
        label = f"{which}({'x'.join(map(str, shape))} {np.dtype(dt).name}, gain={gain:.4g})"
        results += _zero_mean_tests(label, x, std, which == "xavier_uniform_", alpha)
    return results


def uniform_statistics(impl, rng):
    """uniform_(a, b) for the default [0, 1), a wide, a shifted and a narrow interval."""
    configs = [((), (0.0, 1.0)), ((-3.0, 5.0), (-3.0, 5.0)), ((1e-3, 2e-3), (1e-3, 2e-3)), ((-0.05, 0.05), (-0.05, 0.05))]
    alpha, results = ALPHA / len(configs), []
    for (args, (a, b)), (shape, dt) in zip(configs, _cases(rng, len(configs))):
        x = impl.nn.init.uniform_(np.empty(shape, dt), *args, generator=_seeded(rng))
        results += _uniform_tests(f"uniform_{args or '()'} {np.dtype(dt).name}", x, a, b, alpha)
    return results


def normal_statistics(impl, rng):
    """normal_(mean, std): the default N(0, 1), a shifted and a narrow one."""
    configs = [((), (0.0, 1.0)), ((3.0, 0.5), (3.0, 0.5)), ((-1.0, 1e-3), (-1.0, 1e-3))]
    alpha, results = ALPHA / len(configs), []
    for (args, (m, s)), (shape, dt) in zip(configs, _cases(rng, len(configs))):
        x = impl.nn.init.normal_(np.empty(shape, dt), *args, generator=_seeded(rng))
        results += _normal_tests(f"normal_{args or '()'} {np.dtype(dt).name}", x, m, s, alpha)
    return results


#: (mean, std, a, b): torch's two samplers (mass of [a, b] above 0.3: normal draws
#: redrawn; below: uniform proposals), a mean outside [a, b], infinite bounds.
TRUNC_CONFIGS = ((0.0, 1.0, -2.0, 2.0), (0.0, 1.0, 1.0, 3.0), (0.5, 2.0, -1.0, 0.25), (3.0, 0.5, -1.0, 1.8),
                 (0.0, 1.0, -math.inf, math.inf), (0.0, 1.0, -math.inf, 0.0))


def trunc_normal_statistics(impl, rng):
    """trunc_normal_: draws within [a, b] (rounded to the dtype), and KS against the
    truncated normal CDF (Phi(z) - Phi(alpha)) / (Phi(beta) - Phi(alpha))."""
    alpha, results = ALPHA / len(TRUNC_CONFIGS), []
    for (m, s, a, b), (shape, dt) in zip(TRUNC_CONFIGS, _cases(rng, len(TRUNC_CONFIGS))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "mean is more than 2 std from [a, b]" is expected for one config
            x = impl.nn.init.trunc_normal_(np.empty(shape, dt), m, s, a, b, generator=_seeded(rng))
        label = f"trunc_normal_(mean={m}, std={s}, a={a}, b={b}) {np.dtype(dt).name}"
        mass = float(_ndtr(np.array((b - m) / s)) - _ndtr(np.array((a - m) / s)))
        pdf_max = 1 / (s * math.sqrt(2 * math.pi) * mass)
        results += [bounds_test(label, x, a, b), ks_test(label, x, truncnorm_cdf(m, s, a, b), pdf_max, alpha)]
    return results


def orthogonal_statistics(impl, rng):
    """orthogonal_ is Haar-distributed: every column of a Haar 3x3 orthogonal matrix
    is uniform on the sphere, so each entry is U(-1, 1) (Archimedes). KS of entries
    (0, 0), (1, 2) and (2, 1) over independent draws, and of entry (0, 0) of a
    gain-2 draw against U(-2, 2) (rate ALPHA/4 each). Drawing Q without torch's
    sign correction (diag(R) > 0) puts entry (0, 0) on one side of 0."""
    n, alpha, results = 20_000, ALPHA / 4, []
    gen = _seeded(rng)
    draws = np.stack([impl.nn.init.orthogonal_(np.empty((3, 3)), generator=gen) for _ in range(n)])
    for i, j in ((0, 0), (1, 2), (2, 1)):
        results.append(ks_test(f"orthogonal_ 3x3 entry ({i}, {j})", draws[:, i, j], uniform_cdf(-1, 1), 0.5, alpha))
    scaled = np.array([impl.nn.init.orthogonal_(np.empty((3, 3), np.float32), gain=2.0, generator=gen)[0, 0] for _ in range(n)])
    results.append(ks_test("orthogonal_ 3x3 gain=2 entry (0, 0)", scaled, uniform_cdf(-2, 2), 0.25, alpha))
    return results


def sparse_statistics(impl, rng):
    """sparse_(sparsity, std): the nonzero values are N(0, std^2) (KS, rate ALPHA/2),
    and each row is zeroed in a fraction k/rows of the columns (Hoeffding per row,
    rate ALPHA/2 shared by the rows): the zero positions are uniform."""
    rows, cols, sparsity, std = 20, 8000, 0.3, 0.05
    k = math.ceil(sparsity * rows)
    x = impl.nn.init.sparse_(np.empty((rows, cols)), sparsity, std, generator=_seeded(rng))
    nonzero = x[x != 0]
    results = [ks_test("sparse_ nonzero values", nonzero, normal_cdf(0, std), 1 / (std * math.sqrt(2 * math.pi)), ALPHA / 2)]
    freq = (x == 0).mean(axis=1)
    h = math.sqrt(math.log(2 * rows / (ALPHA / 2)) / (2 * cols))
    worst = float(np.max(np.abs(freq - k / rows)))
    results.append(("sparse_ zero positions uniform over rows", worst <= h,
                    f"largest deviation of a row's zero frequency from {k}/{rows}: {worst:.4f}, allowed {h:.4f} "
                    f"(Hoeffding, Bonferroni over {rows} rows, rate {ALPHA / 2:.1e})"))
    return results


#: name -> test(impl, rng) -> results; each test's false-alarm rate is at most ALPHA.
INIT_STATISTICS: dict[str, Callable] = {
    "uniform_": uniform_statistics,
    "normal_": normal_statistics,
    "trunc_normal_": trunc_normal_statistics,
    "xavier_uniform_": lambda impl, rng: xavier_statistics(impl, rng, "xavier_uniform_"),
    "xavier_normal_": lambda impl, rng: xavier_statistics(impl, rng, "xavier_normal_"),
    "kaiming_uniform_": lambda impl, rng: kaiming_statistics(impl, rng, "kaiming_uniform_"),
    "kaiming_normal_": lambda impl, rng: kaiming_statistics(impl, rng, "kaiming_normal_"),
    "orthogonal_": orthogonal_statistics,
    "sparse_": sparse_statistics,
}


def layer_init_statistics(impl, rng):
    """The layers' default initialisation, torch's reset_parameters: Linear's weight
    and bias U(+-1/sqrt(in_features)) (a wide and a narrow layer, so that the bias
    has enough draws too), a zero-input Linear's bias exactly 0; and the helpers
    other twins call: reset_linear_ on a Conv2d-shaped weight (fan_in from the
    receptive field) and reset_recurrent_ (U(+-1/sqrt(hidden))). Rate ALPHA in total."""
    init = impl.nn.init
    if hasattr(init, "manual_seed"):
        init.manual_seed(int(rng.integers(2**63)))
    parts, results = 7, []
    alpha = ALPHA / parts
    for in_f, out_f in ((256, 512), (3, 50_000)):
        m = impl.nn.Linear(in_f, out_f)
        b = 1 / math.sqrt(in_f)
        results += _uniform_tests(f"Linear({in_f}, {out_f}).weight", m.weight.data, -b, b, alpha)
        results += _uniform_tests(f"Linear({in_f}, {out_f}).bias", m.bias.data, -b, b, alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Initializing zero-element tensors is a no-op", as torch warns
        zero_in = impl.nn.Linear(0, 4)
    results.append(("Linear(0, 4).bias is 0", bool(np.all(zero_in.bias.data == 0)), f"bias {zero_in.bias.data}"))
    if hasattr(init, "reset_linear_"):
        w, bias = np.empty((64, 8, 5, 5), np.float32), np.empty(100_000, np.float32)
        init.reset_linear_(w, bias, generator=_seeded(rng))
        b = 1 / math.sqrt(8 * 25)
        results += _uniform_tests("reset_linear_ conv weight 64x8x5x5", w, -b, b, alpha)
        results += _uniform_tests("reset_linear_ conv bias", bias, -b, b, alpha)
    if hasattr(init, "reset_recurrent_"):
        ps = [np.empty((256, 64)), np.empty(60_000)]
        init.reset_recurrent_(ps, 64, generator=_seeded(rng))
        results += _uniform_tests("reset_recurrent_(hidden=64)", np.concatenate([p.ravel() for p in ps]), -1 / 8, 1 / 8, alpha)
    return results


# -- the deterministic part of torch.nn.init, exactly ---------------------------------

RANDOM_INITS = {  # name -> (shape, args) for the seeding checks
    "uniform_": ((4, 5), ()), "normal_": ((4, 5), ()), "trunc_normal_": ((4, 5), ()), "xavier_uniform_": ((4, 5), ()),
    "xavier_normal_": ((4, 5), ()), "kaiming_uniform_": ((4, 5), ()), "kaiming_normal_": ((4, 5), ()),
    "orthogonal_": ((4, 5), ()), "sparse_": ((4, 5), (0.5,)),
}

#: (label, function name, shape, dtype, args, kwargs): calls torch rejects. The twin
#: must raise the same builtin exception type and leave the array unchanged.
INIT_ERRORS = (
    ("uniform_ a > b", "uniform_", (3,), np.float32, (1.0, 0.0), {}),
    ("uniform_ b - a overflows float32", "uniform_", (3,), np.float32, (-3e38, 3e38), {}),
    ("uniform_ from=1e39 in float32", "uniform_", (3,), np.float32, (1e39, 2e39), {}),
    ("uniform_ to=inf", "uniform_", (3,), np.float64, (0.0, math.inf), {}),
    ("uniform_ from=nan", "uniform_", (3,), np.float32, (math.nan, 1.0), {}),
    ("uniform_ integer tensor", "uniform_", (3,), np.int64, (0.0, 5.0), {}),
    ("normal_ std < 0", "normal_", (3,), np.float32, (0.0, -1.0), {}),
    ("normal_ std nan", "normal_", (3,), np.float64, (0.0, math.nan), {}),
    ("normal_ integer tensor", "normal_", (3,), np.int64, (), {}),
    ("trunc_normal_ std=0", "trunc_normal_", (3,), np.float32, (0.0, 0.0), {}),
    ("trunc_normal_ a > b", "trunc_normal_", (3,), np.float32, (0.0, 1.0, 2.0, -2.0), {}),
    ("eye_ 3-d", "eye_", (2, 2, 2), np.float32, (), {}),
    ("eye_ 1-d", "eye_", (2,), np.float32, (), {}),
    ("dirac_ 2-d", "dirac_", (2, 2), np.float32, (), {}),
    ("dirac_ 6-d", "dirac_", (1, 1, 1, 1, 1, 1), np.float32, (), {}),
    ("dirac_ groups not dividing dim 0", "dirac_", (3, 2, 3), np.float32, (), {"groups": 2}),
    ("dirac_ groups=0", "dirac_", (3, 2, 3), np.float32, (), {"groups": 0}),
    ("_calculate_fan_in_and_fan_out 1-d", "_calculate_fan_in_and_fan_out", (3,), np.float32, (), {}),
    ("_calculate_fan_in_and_fan_out 0-d", "_calculate_fan_in_and_fan_out", (), np.float32, (), {}),
    ("xavier_uniform_ 1-d", "xavier_uniform_", (3,), np.float32, (), {}),
    ("xavier_normal_ 0x0", "xavier_normal_", (0, 0), np.float32, (), {}),
    ("kaiming_uniform_ mode='fan'", "kaiming_uniform_", (3, 4), np.float32, (), {"mode": "fan"}),
    ("kaiming_normal_ mode=3", "kaiming_normal_", (3, 4), np.float32, (), {"mode": 3}),
    ("kaiming_uniform_ nonlinearity='gelu'", "kaiming_uniform_", (3, 4), np.float32, (), {"nonlinearity": "gelu"}),
    ("kaiming_normal_ 1-d", "kaiming_normal_", (3,), np.float32, (), {}),
    ("kaiming_uniform_ a=True (bool slope)", "kaiming_uniform_", (3, 4), np.float32, (), {"a": True}),
    ("orthogonal_ 1-d", "orthogonal_", (3,), np.float32, (), {}),
    ("sparse_ 3-d", "sparse_", (2, 2, 2), np.float32, (0.1,), {}),
    ("sparse_ sparsity nan", "sparse_", (4, 3), np.float32, (math.nan,), {}),
)

GAIN_CASES = tuple((nl, p) for nl, _ in NONLINEARITIES for p in (None,)) + (
    ("leaky_relu", 0.2), ("leaky_relu", 1), ("leaky_relu", np.float64(0.1)), ("relu", "ignored"), ("tanh", 7))
GAIN_ERRORS = (("leaky_relu", True), ("leaky_relu", "0.1"), ("leaky_relu", np.float32(0.1)), ("gelu", None),
               ("Linear", None), (None, None))


def _outcome(fn, *args, **kwargs):
    """('ok', value) or ('raises', exception type name, message)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ("ok", fn(*args, **kwargs))
    except Exception as e:  # noqa: BLE001 - the exception is the observation
        return ("raises", type(e).__name__, str(e))


def _same_kind(label, t, w):
    """Both raise the same exception type, or both succeed (values compared by the caller)."""
    if t[0] == "raises" or w[0] == "raises":
        ok = t[0] == w[0] == "raises" and t[1] == w[1]
        return (label, ok, f"torch: {t[0]} {t[1:] if t[0] == 'raises' else ''}; twin: {w[0]} {w[1:] if w[0] == 'raises' else ''}")
    return None


def _init_signatures(impl):
    import torch

    results = []
    names = [n for n in torch.nn.init.__all__ if n.endswith("_") or n == "calculate_gain"] + ["_calculate_fan_in_and_fan_out"]
    for name in names:
        twin = getattr(impl.nn.init, name, None)
        if twin is None:
            results.append((f"init.{name} exists", False, f"impl.nn.init has no {name}"))
            continue
        ts, ws = inspect.signature(getattr(torch.nn.init, name)), inspect.signature(twin)
        tp = [(p.name, p.kind, p.default) for p in ts.parameters.values()]
        wp = [(p.name, p.kind, p.default) for p in ws.parameters.values()]
        results.append((f"init.{name} signature", tp == wp, f"torch {tp}\ntwin  {wp}"))
    return results


def _init_deterministic(impl):
    """constant_, ones_, zeros_, eye_, dirac_, fans and gains equal torch's exactly."""
    import torch

    init, tinit, results = impl.nn.init, torch.nn.init, []
    cases = [("constant_", (3, 4), np.float32, (0.25,), {}), ("constant_", (2, 3), np.int64, (3.7,), {}),
             ("ones_", (2, 5), np.float64, (), {}), ("zeros_", (3,), np.float32, (), {}),
             ("eye_", (3, 5), np.float32, (), {}), ("eye_", (5, 3), np.float64, (), {}), ("eye_", (2, 3), np.int64, (), {}),
             ("eye_", (0, 3), np.float32, (), {})]
    cases += [("dirac_", shape, np.float32, (), {"groups": g}) for shape, g in
              (((4, 2, 3), 1), ((2, 4, 5), 1), ((6, 3, 3, 3), 2), ((6, 2, 4, 4), 3), ((4, 4, 2, 3, 5), 2), ((4, 2, 3), -1),
               ((3, 3, 1, 1), 1), ((0, 2, 3), 1))]
    for name, shape, dt, args, kw in cases:
        sentinel = np.full(shape, 7, dt)
        t = _outcome(getattr(tinit, name), torch.from_numpy(sentinel.copy()), *args, **kw)
        w = _outcome(getattr(init, name), sentinel.copy(), *args, **kw)
        label = f"{name}{args} {kw} on {shape} {np.dtype(dt).name}"
        judged = _same_kind(label, t, w)
        if judged is None:
            tv, wv = t[1].numpy(), np.asarray(w[1])
            judged = (label, tv.dtype == wv.dtype and np.array_equal(tv, wv), f"torch\n{tv}\ntwin\n{wv}")
        results.append(judged)
    for shape in ((3, 4), (4, 3, 5), (2, 3, 4, 5), (5, 6, 1, 2, 3), (0, 3), (3, 0, 2)):
        t = tinit._calculate_fan_in_and_fan_out(torch.empty(shape))
        w = _outcome(init._calculate_fan_in_and_fan_out, np.empty(shape))
        results.append((f"_calculate_fan_in_and_fan_out{shape}", w == ("ok", t), f"torch {t}, twin {w}"))
    for nl, p in GAIN_CASES:
        t, w = tinit.calculate_gain(nl, p), _outcome(init.calculate_gain, nl, p)
        results.append((f"calculate_gain({nl!r}, {p!r})", w[0] == "ok" and w[1] == t and type(w[1]) is type(t),
                        f"torch {t!r}, twin {w!r}"))
    for nl, p in GAIN_ERRORS:
        results.append(_same_kind(f"calculate_gain({nl!r}, {p!r}) rejected", _outcome(tinit.calculate_gain, nl, p),
                                  _outcome(init.calculate_gain, nl, p)))
    return results


def _init_errors(impl):
    import torch

    results = []
    for label, name, shape, dt, args, kw in INIT_ERRORS:
        sentinel = np.full(shape, 7, dt)
        t = _outcome(getattr(torch.nn.init, name), torch.from_numpy(sentinel.copy()), *args, **kw)
        arr = sentinel.copy()
        w = _outcome(getattr(impl.nn.init, name), arr, *args, **kw)
        judged = _same_kind(label, t, w) or (label, False, f"torch and twin both accepted it: torch {t}")
        unchanged = np.array_equal(arr, sentinel)
        results.append((judged[0], judged[1] and unchanged, judged[2] + ("" if unchanged else "; the twin changed the array")))
    return results


def _orthogonality(impl):
    """Q^T Q (tall) or Q Q^T (wide) = gain^2 I to rounding: Householder QR is
    backward stable, |Q^T Q - I| <= c n eps with a small c; allowed 10 n eps(dtype)
    (plus the rounding of a float64 Q to float32: 2 n eps32)."""
    results = []
    for shape, gain, dt in (((5, 5), 1.0, np.float64), ((3, 7), 2.5, np.float32), ((7, 3), 1.0, np.float32),
                            ((4, 3, 2, 2), 0.5, np.float64), ((6, 2, 3), 1.0, np.float32), ((1, 9), 1.0, np.float64)):
        q = np.asarray(impl.nn.init.orthogonal_(np.empty(shape, dt), gain=gain, generator=np.random.default_rng(0)))
        flat = q.reshape(shape[0], -1).astype(np.float64) / gain
        gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
        n = max(flat.shape)
        err = float(np.max(np.abs(gram - np.eye(gram.shape[0]))))
        allowed = 12 * n * float(np.finfo(dt).eps)
        results.append((f"orthogonal_ {shape} gain={gain} {np.dtype(dt).name} is (semi-)orthogonal", q.shape == shape and err <= allowed,
                        f"max |Gram - I| = {err:.3g}, allowed {allowed:.3g}"))
    empty = np.full((0, 3), 7.0)
    results.append(("orthogonal_ on a zero-element tensor is a no-op", impl.nn.init.orthogonal_(empty).shape == (0, 3), ""))
    return results


def _sparsity_counts(impl):
    """sparse_: the number of zeros in each column equals torch's, ceil(sparsity * rows)
    with Python slice semantics (so > rows zeroes all, < 0 counts from the end)."""
    import torch

    results = []
    for rows, sparsity in ((10, 0.1), (10, 0.25), (7, 0.5), (4, 1.5), (4, -0.3), (5, 0.0), (0, 0.5), (3, 1.0)):
        t = (torch.nn.init.sparse_(torch.empty(rows, 6), sparsity) == 0).sum(0).numpy()
        w = (np.asarray(impl.nn.init.sparse_(np.empty((rows, 6)), sparsity, generator=np.random.default_rng(1))) == 0).sum(0)
        results.append((f"sparse_ zeros per column, rows={rows} sparsity={sparsity}", np.array_equal(t, w), f"torch {t}, twin {w}"))
    return results


def _seeding(impl):
    """The same Generator state gives the same draws; different seeds differ; with
    generator=None the module's manual_seed reproduces (where the impl has one);
    the function returns the object it filled (an array or a Parameter)."""
    init, results = impl.nn.init, []
    for name, (shape, args) in RANDOM_INITS.items():
        fn = getattr(init, name)
        a = fn(np.empty(shape), *args, generator=np.random.default_rng(3))
        b = fn(np.empty(shape), *args, generator=np.random.default_rng(3))
        c = fn(np.empty(shape), *args, generator=np.random.default_rng(4))
        results.append((f"{name} reproducible from its generator", np.array_equal(a, b) and not np.array_equal(a, c), ""))
        p = impl.nn.Parameter(np.zeros(shape))
        out = fn(p, *args, generator=np.random.default_rng(3))
        results.append((f"{name} fills a Parameter in place and returns it", out is p and np.array_equal(p.data, a), ""))
        if hasattr(init, "manual_seed"):
            init.manual_seed(11)
            d = fn(np.empty(shape), *args)
            init.manual_seed(11)
            e = fn(np.empty(shape), *args)
            results.append((f"{name} with generator=None follows manual_seed", np.array_equal(d, e), ""))
    return results


def _special_parameters(impl):
    init = impl.nn.init
    x = np.asarray(init.uniform_(np.empty(1000, np.float32), 0.5, 0.5))
    y = np.asarray(init.normal_(np.empty(1000), 2.0, 0.0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        z = np.full((0, 3), 7.0)
        out = init.kaiming_uniform_(z)
    return [("uniform_(a, a) is a", bool(np.all(x == np.float32(0.5))), f"{np.unique(x)}"),
            ("normal_(mean, 0) is mean", bool(np.all(y == 2.0)), f"{np.unique(y)}"),
            ("kaiming_uniform_ on a zero-element tensor warns and returns it", out is z and len(caught) == 1 and
             "zero-element" in str(caught[0].message), f"warnings: {[str(c.message) for c in caught]}")]


def init_exact_results(impl):
    """Every deterministic property of the init twins (see the module docstring)."""
    return (_init_signatures(impl) + _init_deterministic(impl) + _init_errors(impl) + _orthogonality(impl)
            + _sparsity_counts(impl) + _seeding(impl) + _special_parameters(impl))


# =====================================================================================
# torch.optim.SGD in lockstep
# =====================================================================================

def step_tolerance(step: int, dtype) -> "Tolerance":
    """The tolerance after ``step`` optimiser steps: ``step`` times the single-step
    default (assert_close's). Why linear: both sides see the same gradients, so
    they differ only by rounding (an ulp or so per operation, torch fusing some
    multiply-adds); with momentum < 1 and lr * weight_decay <= 1 the maps from one
    step's state to the next do not amplify a difference, the buffer's difference
    grows at most by one step's rounding per step, and the parameter's by that
    plus lr times the buffer's, which for k <= 20 and lr <= 1 stays far below k
    times a tolerance of ~80 float32 ulps (atol 1e-5 at magnitude 1). The measured
    headroom is reported by :func:`sgd_lockstep`."""
    from nnparity.compare import Tolerance, default_tolerance

    base = default_tolerance(np.dtype(dtype).name)
    return Tolerance(step * base.rtol, step * base.atol,
                     reason=f"{step} optimiser step(s) x the single-step default ({base.rtol:g}, {base.atol:g})")


@dataclass(frozen=True)
class SGDCase:
    """One SGD run. ``defaults``: SGD's keyword arguments; ``groups``: per-group
    overrides (one dict per group; a single empty dict passes the parameters as a
    plain list); ``shapes``/``group_of``: the parameters and their group;
    ``grads``: per step, one letter per parameter: 'g' a gradient, 'n' None (no
    step for it), 'z' zeros (as after zero_grad(set_to_none=False)); ``reload_at``:
    after this step the twin continues with a new optimiser that loaded torch's
    state_dict; ``named``: parameters given as (name, parameter) pairs."""

    id: str
    defaults: dict
    groups: tuple = ({},)
    shapes: tuple = ((3, 4), (4,))
    group_of: tuple = (0, 0)
    grads: tuple = ("gg",) * 6
    reload_at: int | None = None
    named: bool = False


SGD_EXAMPLES = (
    SGDCase("plain", {"lr": 0.1}),
    SGDCase("momentum (the notes': lr=0.05, momentum=0.9)", {"lr": 0.05, "momentum": 0.9}),
    SGDCase("dampening", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    SGDCase("nesterov", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    SGDCase("weight decay with momentum", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}),
    SGDCase("maximize", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.01, "maximize": True}),
    SGDCase("two groups, None and zero gradients, reload", {"lr": 0.1, "momentum": 0.9},
            groups=({}, {"lr": 0.01, "momentum": 0, "weight_decay": 0.2}), shapes=((2, 3), (3,), (5,)), group_of=(0, 1, 0),
            grads=("gzn", "ngg", "ggz", "zgg", "ggg", "gng"), reload_at=3),
    SGDCase("first gradient late", {"lr": 0.2, "momentum": 0.8, "dampening": 0.3}, grads=("ng", "ng", "gg", "gg", "gg")),
    SGDCase("named parameters, nesterov with weight decay, reload", {"lr": 0.3, "momentum": 0.6, "nesterov": True,
            "weight_decay": 0.05}, reload_at=2, named=True),
    SGDCase("lr=0 and lr=1", {"lr": 0.0, "momentum": 0.9}, groups=({}, {"lr": 1.0}), group_of=(0, 1)),
)


@st.composite
def sgd_configs(draw):
    """Any valid SGD configuration: every option, one or two groups with their own
    options, 1-3 parameters, gradient patterns with None and zero gradients, and an
    optional state_dict reload (momentum < 1 and lr, weight_decay <= 1: see step_tolerance)."""
    def options():
        momentum = draw(st.one_of(st.just(0.0), st.sampled_from([0.5, 0.9]), st.floats(0.0, 0.99)))
        nesterov = momentum > 0 and draw(st.booleans())
        dampening = 0.0 if nesterov else draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0)))
        return {"lr": draw(st.one_of(st.sampled_from([1e-3, 0.05, 0.1]), st.floats(0.0, 1.0))), "momentum": momentum,
                "dampening": dampening, "weight_decay": draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))),
                "nesterov": nesterov, "maximize": draw(st.booleans())}

    defaults = options()
    n_groups = draw(st.integers(1, 2))
    groups = ({},) if n_groups == 1 else ({}, options())
    shapes = tuple(draw(st.lists(st.lists(st.integers(1, 4), max_size=3).map(tuple), min_size=n_groups, max_size=3)))
    group_of = tuple(min(i, n_groups - 1) for i in range(len(shapes)))
    steps = draw(st.integers(1, 8))
    grads = tuple("".join(draw(st.sampled_from("ggggnz")) for _ in shapes) for _ in range(steps))
    reload_at = draw(st.one_of(st.none(), st.integers(1, steps)))
    return SGDCase("drawn", defaults, groups, shapes, group_of, grads, reload_at, draw(st.booleans()))


def _build_groups(case: SGDCase, params: list):
    items = [(f"p{i}", p) for i, p in enumerate(params)] if case.named else params
    if len(case.groups) == 1 and not case.groups[0]:
        return items
    return [{"params": [items[i] for i, g in enumerate(case.group_of) if g == k], **opts} for k, opts in enumerate(case.groups)]


def _numpy_state_dict(sd):
    """torch's optimizer state_dict with tensors as NumPy arrays."""
    import torch

    conv = lambda v: v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v  # noqa: E731
    return {"state": {k: {n: conv(v) for n, v in s.items()} for k, s in sd["state"].items()},
            "param_groups": [dict(g) for g in sd["param_groups"]]}


def sgd_lockstep(impl, case: SGDCase, dtype, seed: int):
    """Run ``case`` on torch.optim.SGD and on ``impl.package.optim.SGD`` from the same
    parameters, handing both the same gradients (``p.grad``), and compare after every
    step: each parameter and each momentum buffer (tolerance: step_tolerance), and
    the state_dict layout exactly (state indices and keys, param_groups). Returns
    results; each step's message gives the worst headroom."""
    import torch

    from nnparity.compare import compare

    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    init = [rng.standard_normal(s).astype(dt) for s in case.shapes]
    tparams = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in init]
    wparams = [impl.nn.Parameter(a.copy()) for a in init]
    topt = torch.optim.SGD(_build_groups(case, tparams), **case.defaults)
    wopt = impl.package.optim.SGD(_build_groups(case, wparams), **case.defaults)
    results = []
    for k, pattern in enumerate(case.grads, start=1):
        for tp, wp, shape, letter in zip(tparams, wparams, case.shapes, pattern):
            g = rng.standard_normal(shape).astype(dt) if letter == "g" else np.zeros(shape, dt)
            tp.grad = None if letter == "n" else torch.from_numpy(g.copy())
            wp.grad = None if letter == "n" else g.copy()
        topt.step()
        wopt.step()
        tol = step_tolerance(k, dt)
        comps = [compare(f"parameter {i}", wp.data, tp.detach().numpy(), tol) for i, (tp, wp) in enumerate(zip(tparams, wparams))]
        tsd, wsd = _numpy_state_dict(topt.state_dict()), wopt.state_dict()
        layout = (list(tsd["state"]) == list(wsd["state"])
                  and all(list(tsd["state"][i]) == list(wsd["state"][i]) for i in tsd["state"])
                  and tsd["param_groups"] == wsd["param_groups"])
        if layout:
            comps += [compare(f"state {i} {name}", wsd["state"][i][name], v, tol)
                      for i, s in tsd["state"].items() for name, v in s.items()]
        bad = [c for c in comps if not c.ok]
        worst = max((c.headroom for c in comps), default=0.0)
        msg = (f"SGD lockstep {case.id} {dt.name} seed {seed} step {k}: "
               + ("state_dict layout differs:\ntorch " + repr(tsd) + "\ntwin  " + repr(wsd) if not layout else
                  "; ".join(f"{c.what}: {c.problem or f'max abs err {c.max_abs:.3g} at {c.worst_index}'} "
                            f"(twin {c.subject_value}, torch {c.reference_value}, headroom {c.headroom:.3g})" for c in bad)
                  or f"ok, worst headroom {worst:.3g} (tolerance {tol.rtol:.3g}, {tol.atol:.3g})"))
        results.append((f"SGD lockstep {case.id} step {k}", layout and not bad, msg))
        if case.reload_at == k:
            wopt = impl.package.optim.SGD(_build_groups(case, wparams), **case.defaults)
            wopt.load_state_dict(_numpy_state_dict(topt.state_dict()))
    return results


#: (label, kwargs, params kind): torch.optim.SGD rejects these; params kind 'list'
#: (a list of two parameters), 'empty', 'tensor' (a bare parameter), 'set' (a group
#: whose params are a set), 'dup' (one parameter in two groups), 'int', 'group-list'
#: (a group that is a list), 'half-named' (names for some parameters only).
SGD_ERRORS = (
    ("lr < 0", {"lr": -0.1}, "list"), ("momentum < 0", {"momentum": -0.5}, "list"),
    ("weight_decay < 0", {"weight_decay": -1e-3}, "list"), ("nesterov without momentum", {"nesterov": True}, "list"),
    ("nesterov with dampening", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "list"),
    ("fused and differentiable", {"fused": True, "differentiable": True}, "list"),
    ("fused and foreach", {"fused": True, "foreach": True}, "list"),
    ("empty parameter list", {}, "empty"), ("a bare parameter", {}, "tensor"), ("a group holding a set", {}, "set"),
    ("a parameter in two groups", {}, "dup"), ("an integer in the parameter list", {}, "int"),
    ("a group that is not a dict", {}, "group-list"), ("names for some parameters only", {}, "half-named"),
)


def _sgd_params(S, kind):
    a, b = S.param(np.ones((2, 2), np.float32)), S.param(np.zeros(3, np.float32))
    return {"list": [a, b], "empty": [], "tensor": a, "set": [{"params": {a, b}}], "dup": [{"params": [a]}, {"params": [a, b]}],
            "int": [a, 3], "group-list": [{"params": [a]}, [b]], "half-named": [("a", a), b]}[kind]


def sgd_error_results(impl):
    """torch.optim.SGD's validation: the twin raises the same exception type; and its
    load_state_dict rejects a state_dict with another group count or group size."""
    import torch

    results = []
    for label, kwargs, kind in SGD_ERRORS:
        t = _outcome(lambda: torch.optim.SGD(_sgd_params(TORCH, kind), **kwargs))
        w = _outcome(lambda: impl.package.optim.SGD(_sgd_params(Side("twin", impl), kind), **kwargs))
        results.append(_same_kind(f"SGD rejects {label}", t, w) or (f"SGD rejects {label}", False, f"neither raised: {t}"))
    for label, groups in (("another group count", 2), ("another group size", 1)):
        def attempt(S, optim):
            a, b = S.param(np.ones(2, np.float32)), S.param(np.ones(2, np.float32))
            src = optim.SGD([{"params": [a]}, {"params": [b]}] if groups == 2 else [a, b], lr=0.1)
            dst = optim.SGD([a] if groups == 2 else [a], lr=0.1)
            return dst.load_state_dict(src.state_dict())
        t, w = _outcome(attempt, TORCH, torch.optim), _outcome(attempt, Side("twin", impl), impl.package.optim)
        results.append(_same_kind(f"SGD.load_state_dict rejects {label}", t, w) or (label, False, f"neither raised: {t}"))
    return results


# =====================================================================================
# Containers and the Module API: scripted scenarios on both sides
# =====================================================================================

@dataclass
class Side:
    """One side of a scenario: torch.nn, or the twin package (``impl``). Scenarios are
    written once against this adapter. ``new`` builds a module and fills its state
    with values that depend only on how many modules were built before, so both
    sides hold equal values and state can be compared exactly."""

    kind: str  # "torch" | "twin"
    impl: object = None
    built: list = field(default_factory=lambda: [0])

    @property
    def nn(self):
        import torch

        return torch.nn if self.kind == "torch" else self.impl.nn

    def array(self, a):
        import torch

        a = np.array(a)
        return torch.from_numpy(a) if self.kind == "torch" else a

    def param(self, a, requires_grad: bool = True):
        return self.nn.Parameter(self.array(a), requires_grad=requires_grad)

    def dtype(self, name: str):
        import torch

        return getattr(torch, name) if self.kind == "torch" else np.dtype(name)

    def set_grad(self, p, a):
        p.grad = None if a is None else self.array(a)

    def new(self, cls: str, *args, **kwargs):
        m = getattr(self.nn, cls)(*args, **kwargs)
        self.built[0] += 1
        state = {}
        for i, (k, v) in enumerate(m.state_dict().items()):
            arr = _to_numpy(v)
            if np.issubdtype(arr.dtype, np.floating):
                arr = (self.built[0] + 0.1 * i + 0.01 * np.arange(arr.size).reshape(arr.shape)).astype(arr.dtype)
            state[k] = self.array(arr)
        m.load_state_dict(state)
        return m


TORCH = Side("torch")


def _to_numpy(v) -> np.ndarray:
    if hasattr(v, "detach"):
        return v.detach().cpu().numpy()
    return np.asarray(v.data if hasattr(v, "requires_grad") and hasattr(v, "data") else v)


def _is_module(x) -> bool:
    return hasattr(x, "named_modules") and hasattr(x, "state_dict")


def observe(x):
    """A comparable, side-independent view of a scenario's result."""
    import torch

    if _is_module(x):
        mods = list(x.named_modules())
        return {"class": type(x).__name__, "repr": repr(x),
                "state_dict": [(k, observe(v)) for k, v in x.state_dict().items()],
                "named_parameters": [(n, bool(p.requires_grad)) for n, p in x.named_parameters()],
                "named_buffers": [n for n, _ in x.named_buffers()],
                "named_modules": [(n, type(m).__name__) for n, m in mods],
                "named_children": [n for n, _ in x.named_children()],
                "training": [m.training for _, m in mods]}
    if hasattr(x, "missing_keys") and hasattr(x, "unexpected_keys"):
        return ("IncompatibleKeys", list(x.missing_keys), list(x.unexpected_keys), repr(x))
    if isinstance(x, (torch.Tensor, np.ndarray, np.generic)) or (hasattr(x, "requires_grad") and hasattr(x, "data")):
        a = _to_numpy(x)
        if type(x).__name__ == "Parameter":
            return ("Parameter", a.dtype.name, a.shape, a.tolist(), bool(x.requires_grad))
        return ("array", a.dtype.name, a.shape, a.tolist())
    if isinstance(x, (torch.dtype, np.dtype)):
        return str(x).replace("torch.", "")
    if isinstance(x, dict):
        return {k: observe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [observe(v) for v in x]
    return x


@dataclass(frozen=True)
class Scenario:
    """``run(S)`` does the same thing on either side and returns what to compare (an
    exception is the observation: its type always, its message when
    ``same_message``)."""

    id: str
    run: Callable
    same_message: bool = False


def _seq3(S):
    return S.nn.Sequential(S.new("Linear", 2, 3), S.nn.ReLU(), S.new("Linear", 3, 4))


def _od(S, **modules):
    return S.nn.Sequential(OrderedDict(modules))


def _ml(S):
    nn = S.nn
    return nn.ModuleList([S.new("Linear", 2, 2), S.new("Linear", 2, 2), nn.ReLU(), nn.ReLU(), nn.Tanh()])


def _md(S):
    return S.nn.ModuleDict({"b": S.new("Linear", 1, 2), "a": S.nn.ReLU()})


def _pl(S):
    return S.nn.ParameterList([S.param(np.ones((2, 3), np.float32)), S.array(np.arange(2.0)), 3, "s"])


def _pd(S):
    return S.nn.ParameterDict({"b": S.param(np.zeros(2, np.float32)), "a": S.array(np.ones((1, 2))), "c": 3})


def _net(S):
    """A user's module: nested Sequential, ModuleDict, ParameterList, a Parameter,
    a persistent int buffer and a non-persistent float buffer, and a submodule
    with a parameter and buffers of its own (running statistics, a counter)."""
    nn = S.nn

    class Stats(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.gamma = S.param(np.linspace(0.5, 1.5, n).astype(np.float32))
            self.register_buffer("running_var", S.array(np.full(n, 2.0, np.float32)))
            self.register_buffer("count", S.array(np.array(3, np.int64)))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(S.new("Linear", 4, 3), nn.ReLU(), Stats(3))
            self.heads = nn.ModuleDict({"a": S.new("Linear", 3, 2), "b": S.new("Linear", 3, 1, bias=False)})
            self.scale = S.param(np.full(2, 0.5, np.float32))
            self.register_buffer("steps", S.array(np.array(7, np.int64)))
            self.register_buffer("cache", S.array(np.ones(2, np.float32)), persistent=False)
            self.extras = nn.ParameterList([S.param(np.arange(3, dtype=np.float32))])

    return Net()


def _with(obj, fn):
    """Apply fn(obj) for its effect; return (fn's result is obj, obj) or (result, obj)."""
    out = fn(obj)
    return ("returns self" if out is obj else observe(out), obj)


def _state_of(S, net, **changes):
    """The net's state_dict as this side's arrays, with entries replaced (a value) or removed (None)."""
    sd = {k: S.array(_to_numpy(v)) for k, v in net.state_dict().items()}
    for k, v in changes.items():
        k = k.replace("__", ".")
        if v is None:
            sd.pop(k, None)
        else:
            sd[k] = v
    return sd


def _grads(S, net, set_to_none):
    for p in net.parameters():
        S.set_grad(p, np.ones(tuple(p.shape), _to_numpy(p).dtype))
    net.zero_grad(set_to_none=set_to_none)
    return [None if p.grad is None else observe(p.grad) for p in net.parameters()]


def _apply_order(S):
    seen = []
    net = _net(S)
    out = net.apply(lambda m: seen.append(type(m).__name__))
    return out is net, seen


SCENARIOS = [
    # -- Sequential
    Scenario("Sequential", _seq3),
    Scenario("Sequential(OrderedDict)", lambda S: _od(S, a=S.new("Linear", 1, 2), b=S.nn.ReLU())),
    Scenario("Sequential[0], [-1], [True]", lambda S: (lambda s: (s[0], s[-1], s[True]))(_seq3(S))),
    Scenario("Sequential[1:] keeps its keys", lambda S: _seq3(S)[1:]),
    Scenario("Sequential[::2]", lambda S: _seq3(S)[::2]),
    Scenario("Sequential[::-1]", lambda S: _seq3(S)[::-1]),
    Scenario("Sequential[5:] is empty", lambda S: _seq3(S)[5:]),
    Scenario("Sequential(OrderedDict)[1:]", lambda S: _od(S, a=S.nn.ReLU(), b=S.new("Linear", 1, 2), c=S.nn.Tanh())[1:]),
    Scenario("Sequential[3] out of range", lambda S: _seq3(S)[3], same_message=True),
    Scenario("Sequential[-4] out of range", lambda S: _seq3(S)[-4], same_message=True),
    Scenario("Sequential['0']", lambda S: _seq3(S)["0"]),
    Scenario("Sequential[1.0]", lambda S: _seq3(S)[1.0]),
    Scenario("len and iteration", lambda S: (lambda s: (len(s), [type(m).__name__ for m in s]))(_seq3(S))),
    Scenario("Sequential.append", lambda S: _with(_seq3(S), lambda s: s.append(S.new("Linear", 4, 1)))),
    Scenario("Sequential.append(3)", lambda S: _seq3(S).append(3), same_message=True),
    Scenario("Sequential.extend(Sequential)", lambda S: _with(_seq3(S), lambda s: s.extend(_seq3(S)))),
    Scenario("Sequential.extend(list)", lambda S: _with(_seq3(S), lambda s: s.extend([S.nn.Tanh(), S.new("Linear", 4, 4)]))),
    Scenario("Sequential.insert(0)", lambda S: _with(_seq3(S), lambda s: s.insert(0, S.new("Linear", 5, 2)))),
    Scenario("Sequential.insert(-1)", lambda S: _with(_seq3(S), lambda s: s.insert(-1, S.nn.Tanh()))),
    Scenario("Sequential.insert(len)", lambda S: _with(_seq3(S), lambda s: s.insert(3, S.nn.Tanh()))),
    Scenario("Sequential.insert(len + 1)", lambda S: _seq3(S).insert(4, S.nn.Tanh()), same_message=True),
    Scenario("Sequential.insert(-len - 1)", lambda S: _seq3(S).insert(-4, S.nn.Tanh()), same_message=True),
    Scenario("Sequential.insert(0, 3)", lambda S: _seq3(S).insert(0, 3)),
    Scenario("del Sequential[0] renumbers", lambda S: _with(_seq3(S), lambda s: s.__delitem__(0))),
    Scenario("del Sequential[-1]", lambda S: _with(_seq3(S), lambda s: s.__delitem__(-1))),
    Scenario("del Sequential[:2]", lambda S: _with(_seq3(S), lambda s: s.__delitem__(slice(None, 2)))),
    Scenario("del Sequential[5]", lambda S: _seq3(S).__delitem__(5), same_message=True),
    Scenario("Sequential[1] = module", lambda S: _with(_seq3(S), lambda s: s.__setitem__(1, S.nn.Tanh()))),
    Scenario("Sequential[0] = 3", lambda S: _seq3(S).__setitem__(0, 3)),
    Scenario("Sequential[9] = module", lambda S: _seq3(S).__setitem__(9, S.nn.Tanh()), same_message=True),
    Scenario("Sequential + Sequential", lambda S: _seq3(S) + _od(S, x=S.new("Linear", 4, 2))),
    Scenario("Sequential + 3", lambda S: _seq3(S) + 3),
    Scenario("Sequential * 2 and 2 * Sequential", lambda S: (lambda s: (s * 2, 2 * s))(_seq3(S))),
    Scenario("Sequential * 0", lambda S: _seq3(S) * 0),
    Scenario("Sequential * 1.5", lambda S: _seq3(S) * 1.5),
    Scenario("Sequential += Sequential", lambda S: _with(_seq3(S), lambda s: s.__iadd__(_seq3(S)))),
    Scenario("Sequential *= 3", lambda S: _with(_seq3(S), lambda s: s.__imul__(3))),
    Scenario("Sequential.pop(1)", lambda S: _with(_seq3(S), lambda s: s.pop(1))),
    Scenario("nested Sequential", lambda S: S.nn.Sequential(_seq3(S), S.nn.Sequential(S.nn.Sequential()), S.new("Linear", 4, 1))),
    Scenario("a module shared twice", lambda S: (lambda lin: S.nn.Sequential(lin, S.nn.ReLU(), lin))(S.new("Linear", 2, 2))),
    Scenario("shared: remove_duplicate=False", lambda S: (lambda s: ([n for n, _ in s.named_modules(remove_duplicate=False)],
                                                                     [n for n, _ in s.named_parameters(remove_duplicate=False)]))(
        (lambda lin: S.nn.Sequential(lin, S.nn.ReLU(), lin))(S.new("Linear", 2, 2)))),
    Scenario("Sequential(3)", lambda S: S.nn.Sequential(3), same_message=True),
    Scenario("Sequential(None)", lambda S: S.nn.Sequential(None, S.nn.ReLU())),
    # -- ModuleList
    Scenario("ModuleList (repr folds repeats)", _ml),
    Scenario("ModuleList[1], [-1]", lambda S: (lambda m: (m[1], m[-1]))(_ml(S))),
    Scenario("ModuleList[5]", lambda S: _ml(S)[5], same_message=True),
    Scenario("ModuleList['a']", lambda S: _ml(S)["a"]),
    Scenario("ModuleList[1:3] is re-keyed", lambda S: _ml(S)[1:3]),
    Scenario("ModuleList.append", lambda S: _with(_ml(S), lambda m: m.append(S.new("Linear", 2, 1)))),
    Scenario("ModuleList.append(3)", lambda S: _ml(S).append(3), same_message=True),
    Scenario("ModuleList.extend", lambda S: _with(_ml(S), lambda m: m.extend([S.nn.Sigmoid(), S.new("Linear", 1, 1)]))),
    Scenario("ModuleList.extend(3)", lambda S: _ml(S).extend(3), same_message=True),
    Scenario("ModuleList.insert(1)", lambda S: _with(_ml(S), lambda m: m.insert(1, S.nn.Sigmoid()))),
    Scenario("ModuleList.insert(len)", lambda S: _with(_ml(S), lambda m: m.insert(5, S.nn.Sigmoid()))),
    Scenario("ModuleList.insert(len + 2) adds key '7'", lambda S: _with(_ml(S), lambda m: m.insert(7, S.nn.Sigmoid()))),
    Scenario("ModuleList.insert(-1)", lambda S: _ml(S).insert(-1, S.nn.Sigmoid())),
    Scenario("ModuleList.insert('a')", lambda S: _ml(S).insert("a", S.nn.Sigmoid())),
    Scenario("del ModuleList[1]", lambda S: _with(_ml(S), lambda m: m.__delitem__(1))),
    Scenario("del ModuleList[::2]", lambda S: _with(_ml(S), lambda m: m.__delitem__(slice(None, None, 2)))),
    Scenario("ModuleList[0] = module", lambda S: _with(_ml(S), lambda m: m.__setitem__(0, S.nn.Sigmoid()))),
    Scenario("ModuleList + list", lambda S: _ml(S) + [S.nn.Sigmoid()]),
    Scenario("ModuleList += ModuleList", lambda S: _with(_ml(S), lambda m: m.__iadd__(_ml(S)))),
    Scenario("ModuleList.pop(0)", lambda S: _with(_ml(S), lambda m: m.pop(0))),
    Scenario("ModuleList([3])", lambda S: S.nn.ModuleList([3]), same_message=True),
    Scenario("ModuleList()", lambda S: S.nn.ModuleList()),
    Scenario("ModuleList has no forward", lambda S: _ml(S)(S.array(np.zeros(2, np.float32)))),
    # -- ModuleDict
    Scenario("ModuleDict(dict) keeps insertion order", _md),
    Scenario("ModuleDict(OrderedDict)", lambda S: S.nn.ModuleDict(OrderedDict(z=S.nn.ReLU(), y=S.new("Linear", 1, 1)))),
    Scenario("ModuleDict(pairs)", lambda S: S.nn.ModuleDict([("z", S.nn.ReLU()), ("y", S.new("Linear", 1, 1))])),
    Scenario("ModuleDict['b']", lambda S: _md(S)["b"]),
    Scenario("ModuleDict['x']", lambda S: _md(S)["x"]),
    Scenario("ModuleDict[1]", lambda S: _md(S)[1]),
    Scenario("ModuleDict['a.b'] = module", lambda S: _md(S).__setitem__("a.b", S.nn.ReLU()), same_message=True),
    Scenario("ModuleDict[''] = module", lambda S: _md(S).__setitem__("", S.nn.ReLU()), same_message=True),
    Scenario("ModuleDict['training'] = module", lambda S: _md(S).__setitem__("training", S.nn.ReLU()), same_message=True),
    Scenario("ModuleDict[1] = module", lambda S: _md(S).__setitem__(1, S.nn.ReLU()), same_message=True),
    Scenario("ModuleDict['c'] = 3", lambda S: _md(S).__setitem__("c", 3), same_message=True),
    Scenario("ModuleDict['c'] = module", lambda S: _with(_md(S), lambda d: d.__setitem__("c", S.new("Linear", 2, 2)))),
    Scenario("del ModuleDict['b']", lambda S: _with(_md(S), lambda d: d.__delitem__("b"))),
    Scenario("del ModuleDict['x']", lambda S: _md(S).__delitem__("x")),
    Scenario("ModuleDict.pop", lambda S: _with(_md(S), lambda d: d.pop("a"))),
    Scenario("ModuleDict.clear", lambda S: _with(_md(S), lambda d: d.clear())),
    Scenario("ModuleDict keys/items/values/in/len", lambda S: (lambda d: (list(d.keys()), [k for k, _ in d.items()],
                                                                         [type(v).__name__ for v in d.values()], "a" in d, "x" in d,
                                                                         len(d), list(d)))(_md(S))),
    Scenario("ModuleDict.update(3)", lambda S: _md(S).update(3), same_message=True),
    Scenario("ModuleDict.update([1])", lambda S: _md(S).update([1]), same_message=True),
    Scenario("ModuleDict.update([(k, m, x)])", lambda S: _md(S).update([("k", S.nn.ReLU(), 1)]), same_message=True),
    Scenario("ModuleDict.update(ModuleDict)", lambda S: _with(_md(S), lambda d: d.update(S.nn.ModuleDict({"z": S.nn.Tanh(), "b": S.nn.ReLU()})))),
    Scenario("ModuleDict has no forward", lambda S: _md(S)(S.array(np.zeros(2, np.float32)))),
    # -- ParameterList
    Scenario("ParameterList of parameters, arrays and objects", lambda S: (lambda p: (p, [type(v).__name__ for v in p]))(_pl(S))),
    Scenario("ParameterList[0], [-1]", lambda S: (lambda p: (p[0], p[-1]))(_pl(S))),
    Scenario("ParameterList[9]", lambda S: _pl(S)[9], same_message=True),
    Scenario("ParameterList['a']", lambda S: _pl(S)["a"]),
    Scenario("ParameterList[1:]", lambda S: _pl(S)[1:]),
    Scenario("ParameterList.append(array)", lambda S: _with(_pl(S), lambda p: p.append(S.array(np.zeros((1, 1), np.float32))))),
    Scenario("ParameterList.extend(list)", lambda S: _with(_pl(S), lambda p: p.extend([S.param(np.ones(1)), None]))),
    Scenario("ParameterList.extend(array)", lambda S: _pl(S).extend(S.array(np.zeros(2)))),
    Scenario("ParameterList[1] = array", lambda S: _with(_pl(S), lambda p: p.__setitem__(1, S.array(np.full(4, 2.0, np.float32))))),
    Scenario("ParameterList[0] = 3", lambda S: _pl(S).__setitem__(0, 3), same_message=True),
    Scenario("ParameterList([integer array])", lambda S: S.nn.ParameterList([S.array(np.zeros(2, np.int64))]), same_message=True),
    Scenario("ParameterList(array) is not an iterable of parameters", lambda S: S.nn.ParameterList(S.array(np.zeros(2)))),
    Scenario("ParameterList() and one parameter nested", lambda S: S.nn.Sequential(S.nn.ParameterList(),
                                                                                   S.nn.ParameterList([S.param(np.zeros(()))]))),
    Scenario("ParameterList cannot be called", lambda S: _pl(S)(1), same_message=True),
    # -- ParameterDict
    Scenario("ParameterDict(dict) sorts its keys", _pd),
    Scenario("ParameterDict(OrderedDict)", lambda S: S.nn.ParameterDict(OrderedDict(z=S.param(np.ones(1)), y=S.param(np.zeros(2))))),
    Scenario("ParameterDict(pairs)", lambda S: S.nn.ParameterDict([("z", S.param(np.ones(1))), ("y", 4)])),
    Scenario("ParameterDict['a']", lambda S: _pd(S)["a"]),
    Scenario("ParameterDict['x']", lambda S: _pd(S)["x"], same_message=True),
    Scenario("ParameterDict[1]", lambda S: _pd(S)[1], same_message=True),
    Scenario("ParameterDict[1] = parameter", lambda S: _pd(S).__setitem__(1, S.param(np.ones(1))), same_message=True),
    Scenario("ParameterDict['a.b'] = parameter", lambda S: _pd(S).__setitem__("a.b", S.param(np.ones(1))), same_message=True),
    Scenario("ParameterDict[''] = parameter", lambda S: _pd(S).__setitem__("", S.param(np.ones(1))), same_message=True),
    Scenario("ParameterDict['d'] = array", lambda S: _with(_pd(S), lambda d: d.__setitem__("d", S.array(np.zeros(3, np.float32))))),
    Scenario("del ParameterDict['b']", lambda S: _with(_pd(S), lambda d: d.__delitem__("b"))),
    Scenario("del ParameterDict['x']", lambda S: _pd(S).__delitem__("x")),
    Scenario("ParameterDict.pop, popitem", lambda S: (lambda d: (d.pop("a"), d.popitem(), d))(_pd(S))),
    Scenario("ParameterDict.popitem() when empty", lambda S: S.nn.ParameterDict().popitem()),
    Scenario("ParameterDict.get, setdefault", lambda S: (lambda d: (d.get("a"), d.get("x", 5), d.setdefault("c", 9),
                                                                   d.setdefault("n", S.param(np.ones(2))), d))(_pd(S))),
    Scenario("ParameterDict.copy, fromkeys, clear", lambda S: (lambda d: (d.copy(), d.fromkeys(["u", "v"], 1),
                                                                         _with(d, lambda e: e.clear())))(_pd(S))),
    Scenario("ParameterDict keys/values/in/len/reversed", lambda S: (lambda d: (list(d.keys()), list(d.values()), "a" in d,
                                                                               len(d), list(reversed(d))))(_pd(S))),
    Scenario("ParameterDict | and |=", lambda S: (lambda d, e: (d | e, _with(d, lambda x: x.__ior__(e))))(
        _pd(S), S.nn.ParameterDict({"e": S.param(np.ones(1)), "a": S.param(np.full(2, 3.0))}))),
    Scenario("ParameterDict.update(3)", lambda S: _pd(S).update(3), same_message=True),
    Scenario("ParameterDict.update([(k, v, x)])", lambda S: _pd(S).update([("k", 1, 2)]), same_message=True),
    Scenario("ParameterDict cannot be called", lambda S: _pd(S)(1), same_message=True),
    # -- Parameter
    Scenario("Parameter requires a gradient", lambda S: S.param(np.ones((2, 2), np.float32))),
    Scenario("Parameter(requires_grad=False)", lambda S: S.param(np.ones(2), requires_grad=False)),
    Scenario("Parameter() is empty float32", lambda S: S.nn.Parameter()),
    Scenario("Parameter(integer array)", lambda S: S.param(np.zeros(2, np.int64)), same_message=True),
    Scenario("Parameter(integer array, requires_grad=False)", lambda S: S.param(np.zeros(2, np.int64), requires_grad=False)),
    # -- the Module API
    Scenario("a user's module: state_dict, registration, repr", _net),
    Scenario("named_modules(prefix=...), children, modules", lambda S: (lambda n: ([k for k, _ in n.named_modules(prefix="root")],
                                                                                   [type(c).__name__ for c in n.children()],
                                                                                   [type(m).__name__ for m in n.modules()],
                                                                                   [k for k, _ in n.named_parameters(prefix="p", recurse=False)],
                                                                                   [k for k, _ in n.named_buffers(recurse=False)]))(_net(S))),
    Scenario("apply visits children first", _apply_order),
    Scenario("zero_grad()", lambda S: _grads(S, _net(S), True)),
    Scenario("zero_grad(set_to_none=False)", lambda S: _grads(S, _net(S), False)),
    Scenario("requires_grad_(False)", lambda S: _with(_net(S), lambda n: n.requires_grad_(False))),
    Scenario("train(False) and eval propagate", lambda S: (lambda n: (_with(n, lambda m: m.eval()), n.features.train(), n))(_net(S))),
    Scenario("train(1)", lambda S: _net(S).train(1), same_message=True),
    Scenario("register_buffer(persistent=True) over a non-persistent one",
             lambda S: _with(_net(S), lambda n: n.register_buffer("cache", S.array(np.zeros(2, np.float32))))),
    Scenario("register_buffer(None)", lambda S: _with(_net(S), lambda n: n.register_buffer("empty", None))),
    Scenario("register_buffer(1, ...)", lambda S: _net(S).register_buffer(1, S.array(np.zeros(1))), same_message=True),
    Scenario("register_buffer('a.b', ...)", lambda S: _net(S).register_buffer("a.b", S.array(np.zeros(1))), same_message=True),
    Scenario("register_buffer('', ...)", lambda S: _net(S).register_buffer("", S.array(np.zeros(1))), same_message=True),
    Scenario("register_buffer over a parameter", lambda S: _net(S).register_buffer("scale", S.array(np.zeros(1))), same_message=True),
    Scenario("register_buffer(name, 3)", lambda S: _net(S).register_buffer("x", 3), same_message=True),
    Scenario("register_parameter(name, None)", lambda S: _with(_net(S), lambda n: n.register_parameter("gone", None))),
    Scenario("register_parameter('a.b', ...)", lambda S: _net(S).register_parameter("a.b", S.param(np.zeros(1))), same_message=True),
    Scenario("register_parameter over a buffer", lambda S: _net(S).register_parameter("steps", S.param(np.zeros(1))), same_message=True),
    Scenario("register_parameter(name, array)", lambda S: _net(S).register_parameter("q", S.array(np.zeros(1)))),
    Scenario("register_parameter(2, None)", lambda S: _net(S).register_parameter(2, None), same_message=True),
    Scenario("add_module and register_module", lambda S: _with(_net(S), lambda n: (n.add_module("extra", S.nn.Tanh()),
                                                                                    n.register_module("more", S.new("Linear", 1, 1))))),
    Scenario("add_module(name, 3)", lambda S: _net(S).add_module("x", 3), same_message=True),
    Scenario("add_module(3, module)", lambda S: _net(S).add_module(3, S.nn.ReLU()), same_message=True),
    Scenario("add_module over a parameter", lambda S: _net(S).add_module("scale", S.nn.ReLU()), same_message=True),
    Scenario("add_module('a.b', module)", lambda S: _net(S).add_module("a.b", S.nn.ReLU()), same_message=True),
    Scenario("add_module('', module)", lambda S: _net(S).add_module("", S.nn.ReLU()), same_message=True),
    Scenario("assign an array to a parameter", lambda S: setattr(_net(S), "scale", S.array(np.zeros(2)))),
    Scenario("assign 3 to a child module", lambda S: setattr(_net(S), "features", 3), same_message=True),
    Scenario("assign 3 to a buffer", lambda S: setattr(_net(S), "steps", 3)),
    Scenario("assign None to a parameter, a module, a buffer",
             lambda S: _with(_net(S), lambda n: (setattr(n, "scale", None), setattr(n, "heads", None), setattr(n, "steps", None)))),
    Scenario("assign a Parameter over a buffer", lambda S: _with(_net(S), lambda n: setattr(n, "cache", S.param(np.ones(2))))),
    Scenario("assign a module over a parameter", lambda S: _with(_net(S), lambda n: setattr(n, "scale", S.nn.ReLU()))),
    Scenario("del a parameter, a buffer, a module",
             lambda S: _with(_net(S), lambda n: (delattr(n, "scale"), delattr(n, "steps"), delattr(n, "heads")))),
    Scenario("get_submodule", lambda S: (lambda n: (n.get_submodule("features.0"), n.get_submodule("heads.b"),
                                                    n.get_submodule("") is n))(_net(S))),
    Scenario("get_submodule('features.9')", lambda S: _net(S).get_submodule("features.9"), same_message=True),
    Scenario("get_submodule('features.0.weight')", lambda S: _net(S).get_submodule("features.0.weight"), same_message=True),
    Scenario("get_parameter, get_buffer", lambda S: (lambda n: (n.get_parameter("heads.a.bias"), n.get_parameter("scale"),
                                                                n.get_buffer("features.2.running_var"), n.get_buffer("cache")))(_net(S))),
    Scenario("get_parameter of a module", lambda S: _net(S).get_parameter("heads.a"), same_message=True),
    Scenario("get_parameter of a missing name", lambda S: _net(S).get_parameter("heads.a.zz"), same_message=True),
    Scenario("get_buffer of a parameter", lambda S: _net(S).get_buffer("scale"), same_message=True),
    Scenario("load_state_dict(own state)", lambda S: (lambda n: (n.load_state_dict(_state_of(S, n)), n))(_net(S))),
    Scenario("load_state_dict(strict=False): missing and unexpected keys, in torch's order",
             lambda S: (lambda n: (n.load_state_dict(_state_of(S, n, zz=S.array(np.zeros(1)), heads__a__bias=None,
                                                               heads__b__bias=S.array(np.zeros(1)), cache=S.array(np.zeros(2)),
                                                               features__9__weight=S.array(np.zeros(1)),
                                                               features__0__extra=S.array(np.zeros(1)),
                                                               extras__0=None), strict=False), n))(_net(S))),
    Scenario("load_state_dict(strict=True) with missing and unexpected keys",
             lambda S: (lambda n: n.load_state_dict(_state_of(S, n, zz=S.array(np.zeros(1)), scale=None,
                                                              features__1__weight=S.array(np.zeros(1)))))(_net(S)), same_message=True),
    Scenario("load_state_dict size mismatch (strict=False too)",
             lambda S: (lambda n: n.load_state_dict(_state_of(S, n, heads__a__weight=S.array(np.zeros((3, 3), np.float32)),
                                                              scale=None), strict=False))(_net(S)), same_message=True),
    Scenario("load_state_dict with a float in it", lambda S: (lambda n: n.load_state_dict(_state_of(S, n, scale=2.0)))(_net(S)),
             same_message=True),
    Scenario("load_state_dict([])", lambda S: _net(S).load_state_dict([]), same_message=True),
    Scenario("load_state_dict casts to the module's dtype",
             lambda S: (lambda n: (n.load_state_dict(_state_of(S, n, scale=S.array(np.array([1.1, 2.2])))), n))(_net(S))),
    Scenario("load_state_dict: a 0-d buffer from a 1-element array",
             lambda S: (lambda n: (n.load_state_dict(_state_of(S, n, steps=S.array(np.array([5], np.int64)))), n))(_net(S))),
    Scenario("to(float64) casts floating state only, in place", lambda S: (lambda n, p: (_with(n, lambda m: m.to(S.dtype("float64"))),
                                                                                         p is n.scale, n.scale.dtype, n.steps.dtype))(
        *(lambda n: (n, n.scale))(_net(S)))),
    Scenario("to(dtype=float64)", lambda S: _with(_net(S), lambda n: n.to(dtype=S.dtype("float64")))),
    Scenario("double() then float()", lambda S: (lambda n: (_with(n, lambda m: m.double()), _with(n, lambda m: m.float())))(_net(S))),
    Scenario("to(int64)", lambda S: _net(S).to(S.dtype("int64"))),
    Scenario("parameter order and repr of nested containers", lambda S: S.nn.Sequential(
        S.nn.ModuleList([_net(S), S.nn.ModuleDict({"p": S.nn.ParameterDict({"w": S.param(np.ones((2, 3)))})})]),
        S.nn.ParameterList([S.param(np.ones(4, np.float32)), S.param(np.ones((2, 2), np.float32))]))),
]


def _compare(t, w, same_message: bool):
    if t and t[0] == "raises" or w and w[0] == "raises":
        if not (t[0] == w[0] == "raises" and t[1] == w[1]):
            return False, f"torch: {t if t[0] == 'raises' else 'returned'}; twin: {w if w[0] == 'raises' else 'returned'}"
        if same_message and t[2] != w[2]:
            return False, f"{t[1]} messages differ:\ntorch: {t[2]}\ntwin:  {w[2]}"
        return True, f"both raise {t[1]}"
    diff = _first_difference(t[1], w[1], "")
    return diff is None, "equal" if diff is None else diff


def _first_difference(a, b, path):
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} != twin's {list(b)}"
        return next((d for k in a if (d := _first_difference(a[k], b[k], f"{path}.{k}")) is not None), None)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: torch has {len(a)} items {a!r}, the twin {len(b)} {b!r}"
        return next((d for i, (x, y) in enumerate(zip(a, b)) if (d := _first_difference(x, y, f"{path}[{i}]")) is not None), None)
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return _first_difference(list(a), list(b), path)
    return None if (a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))) else \
        f"{path}:\ntorch: {a!r}\ntwin:  {b!r}"


def container_results(impl, scenarios=None):
    """Run every scenario on torch.nn and on ``impl.nn`` and compare what they give."""
    results = []
    for sc in scenarios or SCENARIOS:
        t = _outcome(lambda: observe(sc.run(Side("torch"))))
        w = _outcome(lambda: observe(sc.run(Side("twin", impl))))
        ok, msg = _compare(t, w, sc.same_message)
        results.append((f"containers: {sc.id}", ok, msg))
    return results
