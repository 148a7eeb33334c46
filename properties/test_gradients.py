"""gradients: every differentiable input's and every parameter's gradient against
torch autograd, with the same random (standard normal) cotangent on both sides."""

from reference import DEVICES

from .checks import DTYPES, gradients_body
from .driver import case_strategy, example_case

CHECK = "gradients"
PARAM_NAMES = ("dtype", "device", "mode", "example")


def params(entry):
    fuzz = [dict(dtype=d, device=v, mode=m, example=None) for d in DTYPES for v in DEVICES for m in entry.modes()]
    fixed = [dict(dtype=d, device=v, mode=e.mode, example=e) for e in entry.examples_of("edge") for d in DTYPES for v in DEVICES]
    return fuzz + fixed


def test_gradients(nnp, entry, dtype, device, mode, example):
    body = gradients_body(entry, nnp.impl)
    if example is not None:
        nnp.run_case(entry, CHECK, example_case(entry, example, dtype, device), body)
    else:
        nnp.fuzz(entry, CHECK, case_strategy(entry, dtype, device, mode), body, dtype=dtype, device=device, mode=mode)
