"""The value checks' shared bodies: forward, gradients, and both on one case
(special values and layouts judge both). Case -> list[Comparison]."""

from __future__ import annotations

from ..cases import case_strategy, example_case
from ..engine import Pair, forward_arrays, gradient_arrays, judge, oracle_arrays
from ..oracle import arbitrate
from ..vocab import DEVICES, DTYPES

__all__ = ["forward_body", "gradients_body", "both_body", "value_params", "run_value_check", "methods_for"]


def forward_body(entry, impl, check="forward", zero_sign=False):
    """Outputs, in-place effects on inputs and the state after one forward; and the
    twin's state_dict layout (keys, order, shapes, dtypes) against torch's."""

    def run(case):
        pair = Pair(entry, case, impl)
        twin, ref = forward_arrays(pair)
        comparisons = pair.state_comparisons + judge(entry, case, twin, ref, check, zero_sign=zero_sign)
        return arbitrate(comparisons, lambda: oracle_arrays(entry, case, "forward", pair.state, pair.draws), twin, ref)

    return run


def gradients_body(entry, impl, check="gradients", zero_sign=False):
    """Input and parameter gradients with the same random cotangent on both sides."""

    def run(case):
        pair = Pair(entry, case, impl)
        twin, ref = gradient_arrays(pair)
        comparisons = judge(entry, case, twin, ref, check, zero_sign=zero_sign)
        return arbitrate(comparisons, lambda: oracle_arrays(entry, case, "gradients", pair.state, pair.draws), twin, ref)

    return run


def both_body(entry, impl, check, zero_sign=False):
    """Forward and gradients on one case (gradients only where the call is differentiable)."""
    fwd, grad = forward_body(entry, impl, check, zero_sign), gradients_body(entry, impl, check, zero_sign)

    def run(case):
        differentiable = entry.methods.get(case.method, True) if case.method else True
        return fwd(case) + (grad(case) if differentiable else [])

    return run


def methods_for(entry, differentiable_only: bool) -> list[str]:
    """'' (the module's forward) and the entry's extra methods."""
    return [""] + [m for m, diff in entry.methods.items() if diff or not differentiable_only]


def value_params(entry, check):
    """Fuzzed per dtype x device x mode x method, plus every 'edge' example."""
    methods = methods_for(entry, differentiable_only=check == "gradients")
    fuzz = [dict(dtype=d, device=v, mode=m, method=f, example=None)
            for f in methods for d in DTYPES for v in DEVICES for m in entry.modes()]
    fixed = [dict(dtype=d, device=v, mode=e.mode, method=e.method, example=e) for e in entry.examples_of("edge")
             if e.method in methods and check in e.checks for d in DTYPES for v in DEVICES]
    return fuzz + fixed


def run_value_check(nnp, check, body, entry, dtype, device, mode, example, method=""):
    """Run ``body`` on a fixed example, or fuzz it."""
    if example is not None:
        nnp.run_case(entry, check, example_case(entry, example, dtype, device), body)
    else:
        nnp.fuzz(entry, check, case_strategy(entry, dtype, device, mode, check=check, method=method), body,
                 dtype=dtype, device=device, mode=mode, extra_key=method)
