"""AdaptiveLogSoftmaxWithLoss (torch/nn/modules/adaptive.py)."""

__all__: list = []
