"""Dropout and its channel-wise and alpha variants (torch/nn/modules/dropout.py).

Randomness contract: a random twin draws from ``self.generator`` (a
``numpy.random.Generator``; assign your own to seed it), unless noise was injected
with ``inject_noise(...)``, which the next forward consumes. Every dropout class
takes ``keep``: a boolean array, True where kept, of the *noise* shape in the
input's own frame:

* Dropout, AlphaDropout: the input's shape.
* Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout: the input's shape with the
  dims that share one draw set to 1 (see :meth:`_DropoutNd._noise_shape`; e.g.
  (N, C, 1) for a 3-D input to Dropout1d, (C, 1) for an unbatched one).
  Where torch prepends a batch dim of 1 to the input before drawing (Dropout1d on a
  2-D input, Dropout3d on an input that is not 5-D), ``keep`` may also come in torch's
  frame, with that leading dim of 1 ((1, C, 1) for an unbatched Dropout1d input).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import functional as F
from ..functional.dropout import samples
from .._validate import check
from . import init
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _RandomModule(Module):
    """Holds the generator and the one-shot injected noise of a random twin."""

    def __init__(self):
        super().__init__()
        self.generator = init.generator
        self._injected = None

    def inject_noise(self, **noise) -> None:
        """Use ``noise`` (arrays, named per class) for the next forward instead of drawing."""
        self._injected = {k: np.asarray(v) for k, v in noise.items()}

    def _take_noise(self, name: str, shape, draw, batched_frame: bool = False):
        """The injected array ``name`` (shape ``shape``; with ``batched_frame``, also
        ``(1,) + shape``, the frame of torch's draw on an input it unsqueezed), or ``draw()``."""
        injected, self._injected = self._injected, None
        if injected is None:
            return draw()
        check(name in injected, ValueError, f"{type(self).__name__}: injected noise must be named {name!r}, got {sorted(injected)}")
        value = injected[name]
        if batched_frame and value.shape == (1,) + tuple(shape):
            value = value[0]
        check(value.shape == tuple(shape), ValueError, f"{type(self).__name__}: injected {name!r} has shape {value.shape}, expected {tuple(shape)}")
        return value


class _DropoutNd(_RandomModule):
    #: the functional applying the noise (F.dropout, or F.alpha_dropout)
    _apply = staticmethod(F.dropout)
    #: whether ``inplace=True`` writes into the input (AlphaDropout and
    #: FeatureAlphaDropout accept the flag and ignore it, as torch's forward does)
    _honours_inplace = True

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        # torch's test: NaN passes here and fails in forward (RuntimeError).
        check(not (p < 0 or p > 1), ValueError, f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def _check_input(self, x) -> None:
        """Class-specific rank rules and warnings (before anything is drawn)."""

    def _noise_shape(self, shape: tuple) -> tuple:
        return shape

    def _unsqueezes(self, ndim: int) -> bool:
        """Whether torch prepends a batch dim of 1 to an input of this rank before drawing."""
        return False

    def forward(self, input):
        self._check_input(input)
        p = self.p
        check(0 <= p <= 1, RuntimeError, f"dropout probability has to be between 0 and 1, but got {p}")
        keep = None
        if samples(input, p, self.training):
            shape = self._noise_shape(tuple(input.shape))
            keep = self._take_noise("keep", shape, lambda: self.generator.random(shape) >= p,
                                   self._unsqueezes(input.ndim))
        out = self._apply(input, p, self.training, keep)
        if self.inplace and self._honours_inplace and out is not input:
            input.data[...] = out.data
        return out

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """During training, zero each element with probability p and scale the rest by 1/(1-p)."""


class Dropout1d(_DropoutNd):
    """Zero whole channels: input (N, C, L) or unbatched (C, L); one draw per (n, c)."""

    def _check_input(self, x):
        check(x.ndim in (2, 3), RuntimeError,
              f"dropout1d: Expected 2D or 3D input, but received a {x.ndim}D input. Note that dropout1d exists to "
              "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an "
              "optional batch dimension (i.e. 2D or 3D inputs).")

    def _unsqueezes(self, ndim):
        return ndim == 2  # unbatched: torch unsqueezes a batch dim of 1

    def _noise_shape(self, shape):
        if self._unsqueezes(len(shape)):
            return F.feature_noise_shape((1,) + shape)[1:]
        return F.feature_noise_shape(shape)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W). torch's rank rules: any rank is accepted
    with a deprecation warning outside 3-D/4-D, and a 3-D input is taken as *batched*
    (N, C, L) (1-D channel dropout), not as an unbatched (C, H, W)."""

    def _check_input(self, x):
        if x.ndim not in (3, 4):
            warnings.warn(f"dropout2d: Received a {x.ndim}-D input to dropout2d, which is deprecated and will result "
                          "in an error in a future release. To retain the behavior and silence this warning, please "
                          "use dropout instead.", stacklevel=3)
        if x.ndim == 3:
            warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                          "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim.",
                          stacklevel=3)

    def _noise_shape(self, shape):
        return F.feature_noise_shape(shape)  # one draw per (dim 0, dim 1), at every rank


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W). torch's rank rules: every input that is
    not 5-D is taken as unbatched (a batch dim of 1 is prepended), with a deprecation
    warning outside 4-D/5-D; so a 3-D (A, B, C) input draws one value per index of A."""

    def _check_input(self, x):
        if x.ndim not in (4, 5):
            warnings.warn(f"dropout3d: Received a {x.ndim}-D input to dropout3d, which is deprecated and will result "
                          "in an error in a future release. To retain the behavior and silence this warning, please "
                          "use dropout instead.", stacklevel=3)

    def _unsqueezes(self, ndim):
        return ndim != 5

    def _noise_shape(self, shape):
        if self._unsqueezes(len(shape)):
            return F.feature_noise_shape((1,) + shape)[1:]
        return F.feature_noise_shape(shape)


class AlphaDropout(_DropoutNd):
    """Alpha dropout (keeps SELU's self-normalisation): dropped elements become
    SELU's saturation value, then an affine correction. Elementwise."""

    _apply = staticmethod(F.alpha_dropout)
    _honours_inplace = False


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels: one draw per (n, c) of an input (N, C, *) with at
    least 2 dims (no unbatched handling: a 3-D input is (N, C, L))."""

    _apply = staticmethod(F.alpha_dropout)
    _honours_inplace = False

    def _noise_shape(self, shape):
        return F.feature_noise_shape(shape)
