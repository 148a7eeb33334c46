"""devices: torch on CUDA against torch on CPU, on the same drawn cases (forward and
gradients), where a GPU exists. Every other check also runs on every available
device; on a machine without CUDA these tests are skipped with that reason."""

from __future__ import annotations

from nnparity.engine import Pair, gradient_arrays, forward_arrays, judge

from .checks import DTYPES
from .driver import case_strategy

CHECK = "devices"
PARAM_NAMES = ("dtype", "device")


def params(entry):
    return [dict(dtype=d, device="cuda") for d in DTYPES]


def cpu_vs_cuda_body(entry, impl):
    """Compare torch-CUDA (as 'twin') with torch-CPU (as reference) through the same engine."""

    def run(case):
        from dataclasses import replace

        cpu = Pair(entry, replace(case, device="cpu"), impl)
        cuda = Pair(entry, case, impl)
        _, ref_fwd = forward_arrays(cpu)
        _, cuda_fwd = forward_arrays(cuda)
        _, ref_grad = gradient_arrays(cpu)
        _, cuda_grad = gradient_arrays(cuda)
        return judge(entry, case, cuda_fwd, ref_fwd, CHECK) + judge(entry, case, cuda_grad, ref_grad, CHECK)

    return run


def test_devices(nnp, entry, dtype, device):
    mode = entry.modes()[-1]  # eval where it differs: random modules draw differently per device
    nnp.fuzz(entry, CHECK, case_strategy(entry, dtype, device, mode), cpu_vs_cuda_body(entry, nnp.impl),
             dtype=dtype, device=device, mode=mode)
