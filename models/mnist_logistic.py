"""3. MNIST logistic regression: Linear(784, 10) with cross entropy."""

import torch

from nnparity.catalog import ModelSpec
from .data import digit_batches


class MNISTLogistic(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(784, 10)

    def forward(self, xb):
        return self.lin(xb)


def twin(nn):
    class MNISTLogistic(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(784, 10)

        def forward(self, xb):
            return self.lin(xb)

    return MNISTLogistic()


SPEC = ModelSpec("MNISTLogistic", MNISTLogistic, twin, lambda nn: nn.CrossEntropyLoss(), digit_batches(64),
                 needs=("Linear", "CrossEntropyLoss"))
