"""training: K steps of forward, loss, backward, SGD step in lockstep with torch (nnparity/checks/training.py)."""

from nnparity.checks import training as check

CHECK, PARAM_NAMES, params = check.KIND, check.PARAM_NAMES, check.params


def test_training(nnp, entry, dtype):
    check.run(nnp, entry, dtype=dtype)
