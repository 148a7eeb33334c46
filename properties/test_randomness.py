"""randomness: statistical tests of a random twin's own draws (nnparity/checks/randomness.py)."""

from nnparity.checks import randomness as check

CHECK, PARAM_NAMES, params = check.KIND, check.PARAM_NAMES, check.params


def test_randomness(nnp, entry, nnparity_seed):
    check.run(nnp, entry, seed=nnparity_seed)
