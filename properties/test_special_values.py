"""special values: NaN/inf positions and zero signs exact (nnparity/checks/special_values.py)."""

from nnparity.checks import special_values as check

CHECK, PARAM_NAMES, params = check.KIND, check.PARAM_NAMES, check.params


def test_special_values(nnp, entry, dtype, device, example):
    check.run(nnp, entry, dtype=dtype, device=device, example=example)
