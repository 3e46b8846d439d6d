"""Layers that move entries between channels and positions, and the bilinear layer.

* ``PixelShuffle(r)``: (N, C·r², H, W) → (N, C, H·r, W·r); each group of r² channels becomes an
  r×r block of pixels (sub-pixel convolution for super-resolution); ``PixelUnshuffle`` undoes it.
* ``ChannelShuffle(g)``: the channels as a (g, C/g) table, transposed (ShuffleNet's mixing).
* ``Bilinear``: ``y[k] = x₁ᵀ·A[k]·x₂ + b[k]``, one matrix ``A[k]`` per output (an ``einsum``).

All are reshapes, permutes or one einsum: their gradients come from those ops.

>>> import glassgrad as gg
>>> gg.nn.PixelShuffle(2)(gg.arange(8.0).reshape(1, 4, 1, 2)).shape
Size([1, 1, 2, 4])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..arguments import built_setting, shape_text
from ..creation import as_tensor, pick_generator
from ..device import check_device
from ..ops_einsum import einsum
from ..tensor import Tensor
from . import init
from .linear import check_size, float_dtype
from .module import Module
from .parameter import Parameter


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(…, C·r², H, W) → (…, C, H·r, W·r)."""
    x, r = as_tensor(input), check_size(upscale_factor, "upscale_factor", "pixel_shuffle", too_small=RuntimeError)
    if x.ndim < 3 or x.shape[-3] % (r * r):
        raise RuntimeError(f"pixel_shuffle: the channels (dim -3) of {shape_text(x.shape)} must divide by "
                           f"upscale_factor² = {r * r}")
    *lead, channels, height, width = x.shape
    blocks = x.reshape(*lead, channels // (r * r), r, r, height, width)
    order = tuple(range(len(lead))) + tuple(len(lead) + d for d in (0, 3, 1, 4, 2))
    return blocks.permute(*order).reshape(*lead, channels // (r * r), height * r, width * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(…, C, H·r, W·r) → (…, C·r², H, W)."""
    x, r = as_tensor(input), check_size(downscale_factor, "downscale_factor", "pixel_unshuffle", too_small=RuntimeError)
    if x.ndim < 3 or x.shape[-2] % r or x.shape[-1] % r:
        raise RuntimeError(f"pixel_unshuffle: height and width of {shape_text(x.shape)} must divide by "
                           f"downscale_factor = {r}")
    *lead, channels, height, width = x.shape
    blocks = x.reshape(*lead, channels, height // r, r, width // r, r)
    order = tuple(range(len(lead))) + tuple(len(lead) + d for d in (0, 2, 4, 1, 3))
    return blocks.permute(*order).reshape(*lead, channels * r * r, height // r, width // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """The channels (dim 1) read as a (groups, C/groups) table and transposed."""
    x = as_tensor(input)
    groups = check_size(groups, "groups", "channel_shuffle", too_small=RuntimeError)
    if x.ndim < 3:
        raise RuntimeError(f"channel_shuffle: expected input (N, C, *) with at least one dim after the channels, as "
                           f"PyTorch, got {shape_text(x.shape)}; add one with x.unsqueeze(-1)")
    if x.shape[1] % groups:
        raise RuntimeError(f"channel_shuffle: the channels (dim 1) of {shape_text(x.shape)} must divide into "
                           f"{groups} groups")
    n, channels, *rest = x.shape
    return x.reshape(n, groups, channels // groups, *rest).transpose(1, 2).reshape(n, channels, *rest)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[…, k] = Σᵢⱼ x₁[…, i]·A[k, i, j]·x₂[…, j] + b[k]``."""
    out = einsum("...i,kij,...j->...k", as_tensor(input1), weight, as_tensor(input2))
    return out if bias is None else out + bias


class _Factor(Module):
    """A layer of one size setting, kept under PyTorch's name for it (``setting``: ``PixelShuffle(2)
    .upscale_factor``), which ``function`` takes."""

    function: Any = None
    setting = ""

    def __init__(self, factor: int) -> None:
        super().__init__()
        setattr(self, self.setting, built_setting(check_size, factor, self.setting, type(self).__name__))

    def forward(self, input: Tensor) -> Tensor:
        return type(self).function(input, getattr(self, self.setting))

    def config(self) -> dict[str, Any]:
        return {self.setting: getattr(self, self.setting)}


class PixelShuffle(_Factor):
    """(N, C·r², H, W) → (N, C, H·r, W·r) (``upscale_factor`` r)."""

    function = staticmethod(pixel_shuffle)
    setting = "upscale_factor"

    def __init__(self, upscale_factor: int) -> None:
        super().__init__(upscale_factor)


class PixelUnshuffle(_Factor):
    """(N, C, H·r, W·r) → (N, C·r², H, W) (``downscale_factor`` r)."""

    function = staticmethod(pixel_unshuffle)
    setting = "downscale_factor"

    def __init__(self, downscale_factor: int) -> None:
        super().__init__(downscale_factor)


class ChannelShuffle(_Factor):
    """The channels shuffled across ``groups`` (``F.channel_shuffle``)."""

    function = staticmethod(channel_shuffle)
    setting = "groups"

    def __init__(self, groups: int) -> None:
        super().__init__(groups)


class Bilinear(Module):
    """``y = x₁ᵀ·A·x₂ + b`` with ``weight`` A (out, in1, in2) and ``bias`` (out,), both ``U(±1/√in1)`` at the start,
    as PyTorch."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None, seed: int | None = None, generator: np.random.Generator | None = None) -> None:
        check_device(device)
        super().__init__()
        sizes = [check_size(n, name, "Bilinear", leads=name == "out_features")  # weight (out, in1, in2)
                 for n, name in ((in1_features, "in1_features"), (in2_features, "in2_features"),
                                 (out_features, "out_features"))]
        self.in1_features, self.in2_features, self.out_features = sizes
        dtype = float_dtype(dtype, "Bilinear")
        self.weight = Parameter(np.empty((self.out_features, self.in1_features, self.in2_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(pick_generator(seed, generator))

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """Draw fresh weights: ``A, b ~ U(−1/√in1, 1/√in1)``."""
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound, generator=generator)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def config(self) -> dict[str, Any]:
        return {"in1_features": self.in1_features, "in2_features": self.in2_features,
                "out_features": self.out_features, "bias": self.bias is not None}
