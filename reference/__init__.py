"""The torch side: build torch.nn modules from the same kwargs as the twin, load
the same state, run forward and backward on every available device, and hand
NumPy arrays back. Nothing here knows about twins."""

from .runner import TORCH_DTYPES, TorchModule, cuda_skip_reason, to_numpy, to_torch  # noqa: F401
