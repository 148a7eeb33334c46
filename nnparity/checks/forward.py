"""forward: values, shape and dtype against torch, float32 and float64, every device
and mode (and every extra method the entry lists); the twin's state_dict layout;
in-place effects on inputs; the whole state (parameters and buffers) after the call."""

from .values import forward_body, run_value_check, value_params

KIND = "forward"
PARAM_NAMES = ("dtype", "device", "mode", "method", "example")


def params(entry):
    return value_params(entry, KIND)


def body(entry, impl):
    return forward_body(entry, impl, KIND)


def run(nnp, entry, *, dtype, device, mode, method, example):
    run_value_check(nnp, KIND, body(entry, nnp.impl), entry, dtype, device, mode, example, method)
