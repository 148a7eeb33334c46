"""forward: values, shape and dtype against torch, float32 and float64, every device and mode.
Also the twin's state_dict layout, in-place effects on inputs, and buffers after the call."""

from .checks import forward_body, run_value_check, value_params

CHECK = "forward"
PARAM_NAMES = ("dtype", "device", "mode", "example")
params = value_params


def test_forward(nnp, entry, dtype, device, mode, example):
    run_value_check(nnp, CHECK, forward_body(entry, nnp.impl), entry, dtype, device, mode, example)
