"""CTCLoss. torch keeps it in torch/nn/modules/loss.py; it lives in its own file
here because its forward-backward recursion is long."""

__all__: list = []
