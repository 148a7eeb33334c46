"""Utilities of torch.nn.utils that the contract includes: ``rnn`` (packed sequences)."""

from . import rnn  # noqa: F401
