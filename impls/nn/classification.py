"""Classification loss modules (torch keeps them in torch/nn/modules/loss.py): CrossEntropyLoss, NLLLoss, BCELoss, ..."""

__all__: list = []
