"""Check bodies: Case -> list[Comparison]. Shared by the test files, so that the
forward, gradients, special-values and layouts checks judge the same way."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from nnparity.engine import Pair, forward_arrays, gradient_arrays, judge, oracle_arrays

from .driver import with_oracle

#: dtypes the value checks run in; devices come from reference.DEVICES.
DTYPES = ("float32", "float64")


def forward_body(entry, impl, check="forward", zero_sign=False):
    """Outputs, in-place effects on inputs and buffers after one forward; and the
    twin's state_dict layout (keys, shapes, dtypes) against torch's."""

    def run(case):
        pair = Pair(entry, case, impl)
        twin, ref = forward_arrays(pair)
        comparisons = pair.state_comparisons + judge(entry, case, twin, ref, check, zero_sign=zero_sign)
        return with_oracle(comparisons, lambda: oracle_arrays(entry, case, impl, "forward", pair.state), twin, ref)

    return run


def gradients_body(entry, impl, check="gradients", zero_sign=False):
    """Input and parameter gradients with the same random cotangent on both sides."""

    def run(case):
        pair = Pair(entry, case, impl)
        twin, ref = gradient_arrays(pair)
        comparisons = judge(entry, case, twin, ref, check, zero_sign=zero_sign)
        return with_oracle(comparisons, lambda: oracle_arrays(entry, case, impl, "gradients", pair.state), twin, ref)

    return run


def both_body(entry, impl, check, zero_sign=False):
    """Forward and gradients on one case."""
    fwd, grad = forward_body(entry, impl, check, zero_sign), gradients_body(entry, impl, check, zero_sign)
    return lambda case: fwd(case) + grad(case)


def non_contiguous(case):
    """The same case with every float input array made non-contiguous."""
    from nnparity.case import strided

    def nc(x):
        return strided(x) if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating) and x.ndim else x

    return replace(case, args=tuple(nc(a) for a in case.args), layout="non-contiguous")


def value_params(entry):
    """Forward and gradients: fuzzed per dtype x device x mode, plus every 'edge' example."""
    from reference import DEVICES

    fuzz = [dict(dtype=d, device=v, mode=m, example=None) for d in DTYPES for v in DEVICES for m in entry.modes()]
    fixed = [dict(dtype=d, device=v, mode=e.mode, example=e) for e in entry.examples_of("edge") for d in DTYPES for v in DEVICES]
    return fuzz + fixed


def run_value_check(nnp, check, body, entry, dtype, device, mode, example):
    """Run ``body`` on a fixed example, or fuzz it."""
    from .driver import case_strategy, example_case

    if example is not None:
        nnp.run_case(entry, check, example_case(entry, example, dtype, device), body)
    else:
        nnp.fuzz(entry, check, case_strategy(entry, dtype, device, mode), body, dtype=dtype, device=device, mode=mode)
