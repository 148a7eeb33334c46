"""cuda_vs_cpu: torch on CUDA against torch on CPU; the twin plays no part (nnparity/checks/cuda_vs_cpu.py)."""

from nnparity.checks import cuda_vs_cpu as check

CHECK, PARAM_NAMES, params = check.KIND, check.PARAM_NAMES, check.params


def test_cuda_vs_cpu(nnp, entry, dtype, device):
    check.run(nnp, entry, dtype=dtype, device=device)
