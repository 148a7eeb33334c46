"""5. The MNIST CNN as nn.Sequential, with a Lambda module for the reshapes."""

import torch

from nnparity.catalog import ModelSpec
from .data import digit_batches


def _sequential(nn, lambda_cls, reshape):
    return nn.Sequential(
        lambda_cls(lambda x: reshape(x, (-1, 1, 28, 28))),
        nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.AvgPool2d(4),
        lambda_cls(lambda x: reshape(x, (x.shape[0], -1))),
    )


class Lambda(torch.nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


def torch_model():
    return _sequential(torch.nn, Lambda, lambda x, shape: x.view(*shape))


def twin(nn):
    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    return _sequential(nn, Lambda, lambda x, shape: x.reshape(*shape))


SPEC = ModelSpec("MNISTCNNSequential", torch_model, twin, lambda nn: nn.CrossEntropyLoss(), digit_batches(32),
                 needs=("Sequential", "Conv2d", "ReLU", "AvgPool2d", "CrossEntropyLoss"))
