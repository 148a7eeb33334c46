"""errors: the same builtin exception as torch, from the twin's own code, no state changed (nnparity/checks/errors.py)."""

from nnparity.checks import errors as check

CHECK, PARAM_NAMES, params = check.KIND, check.PARAM_NAMES, check.params


def test_errors(nnp, entry, dtype, device, invalid):
    check.run(nnp, entry, dtype=dtype, device=device, invalid=invalid)
