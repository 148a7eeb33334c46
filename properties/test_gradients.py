"""gradients: every differentiable input's and every parameter's gradient against
torch autograd, with the same random (standard normal) cotangent on both sides."""

from .checks import gradients_body, run_value_check, value_params

CHECK = "gradients"
PARAM_NAMES = ("dtype", "device", "mode", "example")
params = value_params


def test_gradients(nnp, entry, dtype, device, mode, example):
    run_value_check(nnp, CHECK, gradients_body(entry, nnp.impl), entry, dtype, device, mode, example)
