"""forward: values, shape and dtype against torch (see nnparity/checks/forward.py)."""

from nnparity.checks import forward as check

CHECK, PARAM_NAMES, params = check.KIND, check.PARAM_NAMES, check.params


def test_forward(nnp, entry, dtype, device, mode, method, example):
    check.run(nnp, entry, dtype=dtype, device=device, mode=mode, method=method, example=example)
