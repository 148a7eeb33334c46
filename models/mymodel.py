"""1. The 3x3 Parameter matmul model (``MyModel`` with ``weight``/``bias`` Parameters), MSE loss."""

import torch

from nnparity.catalog import ModelSpec
from .data import regression_batches


class MyModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(3, 3))
        self.bias = torch.nn.Parameter(torch.randn(3))

    def forward(self, x):
        return torch.matmul(x, self.weight) + self.bias


def twin(nn):
    import numpy as np

    class MyModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(np.zeros((3, 3), np.float32))  # torch's values are loaded
            self.bias = nn.Parameter(np.zeros(3, np.float32))

        def forward(self, x):
            return x @ self.weight + self.bias

    return MyModel()


SPEC = ModelSpec("MyModel", MyModel, twin, lambda nn: nn.MSELoss(), regression_batches(16, 3, 3), needs=("MSELoss",))
