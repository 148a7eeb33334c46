"""4. The MNIST CNN: three Conv2d(., 16, 3, stride=2, padding=1) with ReLU, then
avg_pool2d(4) and a view."""

import torch
import torch.nn.functional as F

from nnparity.catalog import ModelSpec
from .data import digit_batches


class MNISTCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
        self.conv2 = torch.nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1)
        self.conv3 = torch.nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1)

    def forward(self, xb):
        xb = xb.view(-1, 1, 28, 28)
        xb = F.relu(self.conv1(xb))
        xb = F.relu(self.conv2(xb))
        xb = F.relu(self.conv3(xb))
        xb = F.avg_pool2d(xb, 4)
        return xb.view(-1, xb.size(1))


def twin(nn):
    class MNISTCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
            self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1)
            self.conv3 = nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1)
            self.relu, self.pool = nn.ReLU(), nn.AvgPool2d(4)

        def forward(self, xb):
            xb = xb.reshape(-1, 1, 28, 28)
            xb = self.relu(self.conv1(xb))
            xb = self.relu(self.conv2(xb))
            xb = self.relu(self.conv3(xb))
            xb = self.pool(xb)
            return xb.reshape(-1, xb.shape[1])

    return MNISTCNN()


SPEC = ModelSpec("MNISTCNN", MNISTCNN, twin, lambda nn: nn.CrossEntropyLoss(), digit_batches(32),
                 needs=("Conv2d", "ReLU", "AvgPool2d", "CrossEntropyLoss"),
                 notes="the notes' last conv has 10 output channels (one per class) so that the view gives the logits")
