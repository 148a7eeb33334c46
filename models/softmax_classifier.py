"""7. The Linear-ReLU-Linear-Softmax classifier, ``Softmax()`` at its implicit dim
(torch resolves it to 1 for 2-d inputs, with a deprecation warning)."""

import torch

from nnparity.catalog import ModelSpec
from .data import digit_batches

DIM_IN, HIDDEN_SIZE, DIM_OUT = 784, 100, 10


class MyModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = torch.nn.Linear(DIM_IN, HIDDEN_SIZE)
        self.activation = torch.nn.ReLU()
        self.linear2 = torch.nn.Linear(HIDDEN_SIZE, DIM_OUT)
        self.softmax = torch.nn.Softmax()

    def forward(self, x):
        return self.softmax(self.linear2(self.activation(self.linear1(x))))


def twin(nn):
    class MyModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear1 = nn.Linear(DIM_IN, HIDDEN_SIZE)
            self.activation = nn.ReLU()
            self.linear2 = nn.Linear(HIDDEN_SIZE, DIM_OUT)
            self.softmax = nn.Softmax()

        def forward(self, x):
            return self.softmax(self.linear2(self.activation(self.linear1(x))))

    return MyModel()


SPEC = ModelSpec("SoftmaxClassifier", MyModel, twin, lambda nn: nn.NLLLoss(), digit_batches(32),
                 needs=("Linear", "ReLU", "Softmax", "NLLLoss"),
                 notes="NLLLoss on the probabilities (the notes train nothing; a loss on softmax outputs is the "
                       "common mistake this model is kept for)")
