"""Pixel shuffle, pixel unshuffle and channel shuffle: pure rearrangements, written
as reshape + transpose on the tape (their vjps are the inverse rearrangement).

* pixel_shuffle(r):   (*, C r^2, H, W) -> (*, C, H r, W r), out[c, h r + i, w r + j] = x[c r^2 + i r + j, h, w]
* pixel_unshuffle(r): the inverse, (*, C, H r, W r) -> (*, C r^2, H, W)
* channel_shuffle(g): (N, C, *) -> channels viewed as (g, C/g), transposed to (C/g, g)

Checks and messages as ATen (aten/src/ATen/native/PixelShuffle.cpp, ChannelShuffle.cpp).
"""

from __future__ import annotations

import numbers

from .._validate import check
from ..autograd import Tensor, reshape, transpose

__all__ = ["pixel_shuffle", "pixel_unshuffle", "channel_shuffle"]


def _check_factor(r, who: str, name: str) -> None:
    check(isinstance(r, numbers.Integral) and not isinstance(r, bool), TypeError,
          f"{who}(): argument '{name}' must be int, not {type(r).__name__}")
    check(r > 0, RuntimeError, f"{who} expects a positive {name}, but got {r}")


def pixel_shuffle(x: Tensor, upscale_factor: int) -> Tensor:
    r = upscale_factor
    _check_factor(r, "pixel_shuffle", "upscale_factor")
    check(x.ndim >= 3, RuntimeError,
          f"pixel_shuffle expects input to have at least 3 dimensions, but got input with {x.ndim} dimension(s)")
    *lead, C, H, W = x.shape
    check(C % (r * r) == 0, RuntimeError,
          f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, "
          f"but input.size(-3)={C} is not divisible by {r * r}")
    k = len(lead)
    y = reshape(x, (*lead, C // (r * r), r, r, H, W))
    y = transpose(y, tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return reshape(y, (*lead, C // (r * r), H * r, W * r))


def pixel_unshuffle(x: Tensor, downscale_factor: int) -> Tensor:
    r = downscale_factor
    _check_factor(r, "pixel_unshuffle", "downscale_factor")
    check(x.ndim >= 3, RuntimeError,
          f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with {x.ndim} dimension(s)")
    *lead, C, H, W = x.shape
    check(H % r == 0, RuntimeError,
          f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)={H} is not divisible by {r}")
    check(W % r == 0, RuntimeError,
          f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)={W} is not divisible by {r}")
    k = len(lead)
    y = reshape(x, (*lead, C, H // r, r, W // r, r))
    y = transpose(y, tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return reshape(y, (*lead, C * r * r, H // r, W // r))


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    g = groups
    check(isinstance(g, numbers.Integral) and not isinstance(g, bool), TypeError,
          f"channel_shuffle(): argument 'groups' must be int, not {type(g).__name__}")
    check(x.ndim > 2, RuntimeError, f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(x.shape)}")
    check(g > 0, RuntimeError, f"Number of groups to divide channels in must be positive. Value of groups:{g}")
    N, C, *rest = x.shape
    check(C % g == 0, RuntimeError, f"Number of channels must be divisible by groups. Got {C} channels and {g} groups.")
    y = reshape(x, (N, g, C // g, *rest))
    y = transpose(y, (0, 2, 1) + tuple(range(3, 3 + len(rest))))
    return reshape(y, x.shape)
