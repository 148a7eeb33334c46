"""train/eval: the flag, mode propagation, running statistics over K steps (nnparity/checks/train_eval.py)."""

from nnparity.checks import train_eval as check

CHECK, PARAM_NAMES, params = check.KIND, check.PARAM_NAMES, check.params


def test_train_eval(nnp, entry, device):
    check.run(nnp, entry, device=device)
