"""9. The many-to-one RNN classifier: RNN with batch_first, then Linear on the last
step (the rows of a 28x28 digit as 28 time steps)."""

import torch

from nnparity.catalog import ModelSpec
from .data import sequence_batches

INPUT, HIDDEN, CLASSES, STEPS = 28, 64, 10, 28


class RNNClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(INPUT, HIDDEN, batch_first=True)
        self.fc = torch.nn.Linear(HIDDEN, CLASSES)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1, :])


def twin(nn):
    class RNNClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.RNN(INPUT, HIDDEN, batch_first=True)
            self.fc = nn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.fc(out[:, -1, :])

    return RNNClassifier()


SPEC = ModelSpec("RNNClassifier", RNNClassifier, twin, lambda nn: nn.CrossEntropyLoss(),
                 sequence_batches(16, STEPS, INPUT, CLASSES), needs=("RNN", "Linear", "CrossEntropyLoss"))
