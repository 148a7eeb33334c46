"""cuda_vs_cpu: torch on CUDA against torch on CPU, on the same drawn cases (forward
and gradients), with the CUDA tolerance policy (nnparity.compare.CUDA_TOLERANCES).
The twin plays no part here: its own runs against torch on CUDA are the forward,
gradients, special-values and layouts checks with device 'cuda'. Skipped, with the
reason, on a machine without CUDA."""

from __future__ import annotations

from dataclasses import replace

from ..cases import case_strategy
from ..engine import Pair, forward_arrays, gradient_arrays, judge
from ..vocab import DTYPES

KIND = "cuda_vs_cpu"
PARAM_NAMES = ("dtype", "device")


def params(entry):
    return [dict(dtype=d, device="cuda") for d in DTYPES]


def body(entry, impl):
    def run(case):
        cpu = Pair(entry, replace(case, device="cpu"), impl)
        cuda = Pair(entry, case, impl)
        _, ref_fwd = forward_arrays(cpu)
        _, cuda_fwd = forward_arrays(cuda)
        _, ref_grad = gradient_arrays(cpu)
        _, cuda_grad = gradient_arrays(cuda)
        out = judge(entry, case, cuda_fwd, ref_fwd, KIND) + judge(entry, case, cuda_grad, ref_grad, KIND)
        return [replace(c, subject="torch CUDA", reference="torch CPU") for c in out]

    return run


def run(nnp, entry, *, dtype, device):
    mode = entry.modes()[-1]  # eval where it differs: random modules draw differently per device
    nnp.fuzz(entry, KIND, case_strategy(entry, dtype, device, mode, check=KIND), body(entry, nnp.impl),
             dtype=dtype, device=device, mode=mode)
