"""special values: NaN, +-inf, -0.0, huge and tiny magnitudes and branch points, as
fixed examples. NaN and inf positions and the sign of zeros must match torch's
exactly; finite values within tolerance. Forward and gradients."""

from reference import DEVICES

from .checks import DTYPES, both_body
from .driver import example_case

CHECK = "special_values"
PARAM_NAMES = ("dtype", "device", "example")


def params(entry):
    return [dict(dtype=d, device=v, example=e) for e in entry.examples_of("special") for d in DTYPES for v in DEVICES]


def test_special_values(nnp, entry, dtype, device, example):
    nnp.run_case(entry, CHECK, example_case(entry, example, dtype, device), both_body(entry, nnp.impl, CHECK, zero_sign=True))
