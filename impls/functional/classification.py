"""Classification losses: cross entropy, NLL, binary cross entropy, KL divergence, margin losses over classes."""

__all__: list = []
