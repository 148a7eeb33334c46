"""gradients: every differentiable input's and every parameter's gradient against
torch autograd, with the same random (standard normal) cotangent on both sides."""

from .values import gradients_body, run_value_check, value_params

KIND = "gradients"
PARAM_NAMES = ("dtype", "device", "mode", "method", "example")


def params(entry):
    return value_params(entry, KIND)


def body(entry, impl):
    return gradients_body(entry, impl, KIND)


def run(nnp, entry, *, dtype, device, mode, method, example):
    run_value_check(nnp, KIND, body(entry, nnp.impl), entry, dtype, device, mode, example, method)
