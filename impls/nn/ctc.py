"""CTCLoss. torch keeps it in torch/nn/modules/loss.py; it lives in its own file
here because its forward-backward recursion is long."""

from __future__ import annotations

from .. import functional as F
from .loss import _Loss

__all__ = ["CTCLoss"]


class CTCLoss(_Loss):
    """Connectionist temporal classification loss (Graves et al. 2006).

    forward(log_probs, targets, input_lengths, target_lengths):
    log_probs (T, N, C) or (T, C); targets padded (N, S) or concatenated
    (sum(target_lengths),); lengths (N,) or () integer arrays, or tuples of ints.
    Output: (N,) or () with reduction='none', else a scalar. 'mean' divides each
    loss by its target length (clamped to >= 1) and averages over the batch.

    The gradient follows torch's convention, exp(lp) - posterior occupancy (the
    gradient with respect to the logits of a log_softmax), not the derivative of
    the loss with respect to log_probs: see ``impls.functional.ctc``.
    ``blank`` and ``reduction`` are validated at forward time, as torch does.
    """

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                          self.zero_infinity)

    def extra_repr(self):
        return ""  # torch's CTCLoss has no extra_repr: its repr is "CTCLoss()" whatever the arguments
