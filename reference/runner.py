"""Run a torch.nn module on NumPy data and return NumPy results."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

__all__ = ["TORCH_DTYPES", "TorchModule", "STANDIN_ENV", "standin_cuda", "cuda_available", "cuda_skip_reason",
           "cuda_device_name", "synchronize", "to_torch", "to_torch_marked", "to_numpy", "flatten"]

TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}

# The CUDA tolerance policy (nnparity.compare.CUDA_TOLERANCES) assumes full float32
# matmuls and convolutions: TF32 would round inputs to 10 mantissa bits.
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


#: NNPARITY_STANDIN_CUDA=1: a stand-in CUDA device that runs on the CPU, so that every
#: code path of device 'cuda' (parametrisation, tolerance policy, the cuda_vs_cpu check,
#: the benchmarks' CUDA side, repro scripts) runs on a machine without a GPU, and a
#: typo in it cannot hide until someone has one. Each process that imports this module
#: with the variable set installs a torch function mode (_StandinCuda) that rewrites
#: every device argument 'cuda' / 'cuda:N' / torch.device('cuda') given to torch (factory
#: functions, module constructors, Tensor.to, Tensor.cuda) to the CPU. The numbers are
#: then CPU numbers: the stand-in proves the plumbing, not CUDA's numerics.
STANDIN_ENV = "NNPARITY_STANDIN_CUDA"


def standin_cuda() -> bool:
    return os.environ.get(STANDIN_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def cuda_available() -> bool:
    """A real GPU (torch.cuda.is_available()), or the CPU stand-in."""
    return standin_cuda() or torch.cuda.is_available()


def cuda_skip_reason(device: str) -> str | None:
    if device == "cuda" and not cuda_available():
        return "CUDA not available on this machine (torch.cuda.is_available() is False); CPU checks still run"
    return None


def cuda_device_name() -> str:
    """What 'cuda' means in this process, for run metadata."""
    if standin_cuda():
        return f"stand-in: 'cuda' runs on the CPU ({STANDIN_ENV}=1); not a GPU"
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "not available"


def synchronize(device: str) -> None:
    """Wait for the device's queued work (timing); the CPU and the stand-in are synchronous."""
    if device == "cuda" and not standin_cuda():
        torch.cuda.synchronize()


def _standin(x):
    if isinstance(x, torch.device):
        return torch.device("cpu") if x.type == "cuda" else x
    if isinstance(x, str) and (x == "cuda" or x.startswith("cuda:")):
        return "cpu"
    return x


class _StandinCuda(TorchFunctionMode):
    """Device 'cuda' -> the CPU, for every torch call made while the mode is active."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.Tensor.cuda:
            return args[0]
        return func(*[_standin(a) for a in args], **{k: _standin(v) for k, v in (kwargs or {}).items()})


if standin_cuda():
    _StandinCuda().__enter__()  # for the rest of the process (this thread: Hypothesis and pytest run in it)


def to_torch(x, device: str, requires_grad: bool = False):
    """NumPy (nested in tuples/lists/dicts) -> torch tensors on ``device``.
    Strides are kept, so a non-contiguous array gives a non-contiguous tensor."""
    if isinstance(x, np.ndarray):
        if x.strides and any(s < 0 for s in x.strides):
            x = x.copy()
        t = torch.from_numpy(x).to(device)
        if requires_grad and t.is_floating_point():
            t.requires_grad_(True)
        return t
    if isinstance(x, np.generic):
        return to_torch(np.asarray(x), device, requires_grad)
    if isinstance(x, (tuple, list)):
        return type(x)(to_torch(v, device, requires_grad) for v in x)
    if isinstance(x, dict):
        return {k: to_torch(v, device, requires_grad) for k, v in x.items()}
    return x


def to_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().resolve_conj().resolve_neg().numpy().copy()
    if isinstance(x, torch.nn.utils.rnn.PackedSequence):  # its constructor wants tensors: a plain tuple of fields
        return tuple(to_numpy(v) for v in x)
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(to_numpy(v) for v in x))
    if isinstance(x, (tuple, list)):
        return type(x)(to_numpy(v) for v in x)
    return x


def flatten(tree) -> list:
    """Leaves of a nested tuple/list output, in order (LSTM: output, (h_n, c_n))."""
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in flatten(item)]
    return [tree]


class TorchModule:
    """A torch.nn module built for one case, on one device and dtype."""

    def __init__(self, module: torch.nn.Module, device: str, dtype: str):
        self.module, self.device, self.dtype = module, device, dtype

    def state_dict(self) -> dict[str, np.ndarray]:
        return {k: to_numpy(v) for k, v in self.module.state_dict().items()}

    def parameter_names(self) -> list[str]:
        return [name for name, _ in self.module.named_parameters()]

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.module.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})

    def set_mode(self, mode: str) -> None:
        self.module.train(mode == "train")

    def call(self, method: str = ""):
        return getattr(self.module, method) if method else self.module

    def forward(self, args, kwargs, seed: int | None = None, method: str = "", fn=None):
        """Outputs (as NumPy, structure kept) of one forward (or ``method``, or ``fn``) without grad."""
        if seed is not None:
            torch.manual_seed(seed)
        with torch.no_grad():
            out = (fn or self.call(method))(*to_torch(args, self.device), **to_torch(kwargs, self.device))
        return to_numpy(out)

    def vjp(self, args, kwargs, cotangent_fn, differentiable, seed: int | None = None, inplace: bool = False,
            method: str = "", fn=None):
        """Forward with grad, then backward with the cotangents that ``cotangent_fn``
        draws for the (flattened) outputs. Returns (outputs, cotangents, input grads,
        param grads). ``differentiable`` mirrors ``args`` (nested): True at each array
        that gets a gradient; the input grads mirror ``args`` too (None elsewhere).
        An in-place module gets clones of the leaves (autograd forbids in-place
        writes to a leaf that requires grad); gradients still land on the leaves."""
        if seed is not None:
            torch.manual_seed(seed)
        targs = to_torch_marked(args, differentiable, self.device)
        fed = _map_tensors(lambda t: t.clone() if inplace and t.requires_grad else t, targs)
        out = (fn or self.call(method))(*fed, **to_torch(kwargs, self.device))
        leaves = [o for o in flatten(out) if isinstance(o, torch.Tensor)]
        cots = cotangent_fn([to_numpy(o) for o in leaves])
        pairs = [(o, torch.from_numpy(c).to(self.device)) for o, c in zip(leaves, cots) if c is not None and o.requires_grad]
        params = list(self.module.named_parameters())
        for _, p in params:
            p.grad = None
        if pairs:
            torch.autograd.backward([o for o, _ in pairs], [c for _, c in pairs])
        input_grads = _grads(targs, differentiable)
        param_grads = {n: (to_numpy(p.grad) if p.grad is not None else np.zeros(tuple(p.shape), dtype=to_numpy(p).dtype)) for n, p in params}
        return [to_numpy(o) for o in leaves], cots, input_grads, param_grads


def to_torch_marked(x, mark, device):
    """``to_torch``, with requires_grad on the arrays ``mark`` (a mirror of ``x``) marks True."""
    if isinstance(x, np.ndarray):
        return to_torch(x, device, requires_grad=bool(mark))
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(to_torch_marked(v, m, device) for v, m in zip(x, mark)))
    if isinstance(x, (tuple, list)):
        return type(x)(to_torch_marked(v, m, device) for v, m in zip(x, mark))
    return to_torch(x, device)


def _map_tensors(fn, x):
    if isinstance(x, torch.Tensor):
        return fn(x)
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(_map_tensors(fn, v) for v in x))
    if isinstance(x, (tuple, list)):
        return type(x)(_map_tensors(fn, v) for v in x)
    return x


def _grads(t, mark):
    """The gradients of the marked leaves, mirroring the structure (zeros where
    autograd gave none: the leaf did not influence the outputs)."""
    if isinstance(t, torch.Tensor):
        if not mark:
            return None
        return to_numpy(t.grad) if t.grad is not None else np.zeros(tuple(t.shape), dtype=to_numpy(t).dtype)
    if isinstance(t, (tuple, list)):
        return tuple(_grads(v, m) for v, m in zip(t, mark))
    return None
