"""api: constructor signature, validation, state_dict layout, parameter order, buffers, repr (nnparity/checks/api.py)."""

from nnparity.checks import api as check

CHECK, PARAM_NAMES, params = check.KIND, check.PARAM_NAMES, check.params


def test_api(nnp, entry):
    check.run(nnp, entry)
