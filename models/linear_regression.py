"""2. Linear regression on one Linear(1, 1), MSE loss."""

import torch

from nnparity.catalog import ModelSpec
from .data import regression_batches


class LinearRegression(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear_layer = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear_layer(x)


def twin(nn):
    class LinearRegression(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear_layer = nn.Linear(1, 1)

        def forward(self, x):
            return self.linear_layer(x)

    return LinearRegression()


SPEC = ModelSpec("LinearRegression", LinearRegression, twin, lambda nn: nn.MSELoss(), regression_batches(16, 1, 1),
                 needs=("Linear", "MSELoss"))
