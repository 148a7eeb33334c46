"""The torch side: build torch.nn modules from the same kwargs as the twin, load
the same state, run forward and backward on every available device, and hand
NumPy arrays back. Nothing here knows about twins."""

from .runner import (STANDIN_ENV, TORCH_DTYPES, TorchModule, cuda_available, cuda_device_name,  # noqa: F401
                     cuda_skip_reason, standin_cuda, synchronize, to_numpy, to_torch)
