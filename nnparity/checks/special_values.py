"""special values: NaN, +-inf, -0.0, huge and tiny magnitudes and branch points, as
fixed examples. NaN and inf positions and the sign of zeros must match torch's
exactly; finite values within tolerance. Forward and gradients."""

from ..cases import example_case
from ..vocab import DEVICES, DTYPES
from .values import both_body

KIND = "special_values"
PARAM_NAMES = ("dtype", "device", "example")


def params(entry):
    return [dict(dtype=d, device=v, example=e) for e in entry.examples_of("special") for d in DTYPES for v in DEVICES]


def body(entry, impl):
    return both_body(entry, impl, KIND, zero_sign=True)


def run(nnp, entry, *, dtype, device, example):
    nnp.run_case(entry, KIND, example_case(entry, example, dtype, device), body(entry, nnp.impl))
