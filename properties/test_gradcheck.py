"""gradcheck: the twin's backward against finite differences of its forward (nnparity/checks/gradcheck.py)."""

from nnparity.checks import gradcheck as check

CHECK, PARAM_NAMES, params = check.KIND, check.PARAM_NAMES, check.params


def test_gradcheck(nnp, entry, mode, method):
    check.run(nnp, entry, mode=mode, method=method)
