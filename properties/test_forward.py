"""forward: values, shape and dtype against torch, float32 and float64, every device and mode.
Also the twin's state_dict layout, in-place effects on inputs, and buffers after the call."""

from reference import DEVICES

from .checks import DTYPES, forward_body
from .driver import case_strategy, example_case

CHECK = "forward"
PARAM_NAMES = ("dtype", "device", "mode", "example")


def params(entry):
    fuzz = [dict(dtype=d, device=v, mode=m, example=None) for d in DTYPES for v in DEVICES for m in entry.modes()]
    fixed = [dict(dtype=d, device=v, mode=e.mode, example=e) for e in entry.examples_of("edge") for d in DTYPES for v in DEVICES]
    return fuzz + fixed


def test_forward(nnp, entry, dtype, device, mode, example):
    body = forward_body(entry, nnp.impl)
    if example is not None:
        nnp.run_case(entry, CHECK, example_case(entry, example, dtype, device), body)
    else:
        nnp.fuzz(entry, CHECK, case_strategy(entry, dtype, device, mode), body, dtype=dtype, device=device, mode=mode)
