"""gradients: every input's and parameter's gradient against torch autograd (nnparity/checks/gradients.py)."""

from nnparity.checks import gradients as check

CHECK, PARAM_NAMES, params = check.KIND, check.PARAM_NAMES, check.params


def test_gradients(nnp, entry, dtype, device, mode, method, example):
    check.run(nnp, entry, dtype=dtype, device=device, mode=mode, method=method, example=example)
