"""containers: container and Module API scenarios, torch.nn.init, torch.optim.SGD (nnparity/checks/containers.py)."""

from nnparity.checks import containers as check

CHECK, PARAM_NAMES, params = check.KIND, check.PARAM_NAMES, check.params


def test_containers(nnp, entry, group, nnparity_seed):
    check.run(nnp, entry, group=group, seed=nnparity_seed)
