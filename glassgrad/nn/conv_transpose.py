"""Transposed convolutions: ``conv_transpose1d/2d/3d`` and ``ConvTranspose1d/2d/3d``.

A transposed convolution runs a convolution backwards: every input entry spreads, weighted by
the kernel, over a window of the (larger) output, and overlapping windows add up::

    Y[n,c, i·s+u·d−p, j·s+v·d−p] += Σ_k X[n,k,i,j]·W[k,c,u,v]   (+ b[c])

so it is exactly the gradient ``∂L/∂X`` of a convolution with the same stride ``s``, padding ``p``
and dilation ``d`` (:func:`glassgrad.ops.conv_input_gradient`, made of a matrix product and one
``scatter_add``), and it grows an image: ``H′ = (H − 1)·s − 2p + d·(k − 1) + output_padding + 1``.
Decoders and GAN generators use it to upsample. Its gradients come from the ops it is made of, so
a trace shows those ops.

>>> import glassgrad as gg
>>> gg.nn.ConvTranspose2d(4, 2, kernel_size=4, stride=2, padding=1, seed=0)(gg.ones(1, 4, 5, 5)).shape
Size([1, 2, 10, 10])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..arguments import shape_text
from ..creation import as_tensor, pick_generator
from ..device import check_device
from ..ops import conv_input_gradient
from ..tensor import Tensor
from .conv import (
    ConvolutionLayer,
    batched,
    check_bias,
    check_dtypes,
    check_spatial,
    check_weight,
    conv_groups,
    conv_sizes,
    in_kernels_format,
    input_shapes,
    sizes,
)


def transposed_convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
                           output_padding: Any, groups: int, dilation: Any, dims: int) -> Tensor:
    """The checked call behind :func:`conv_transpose1d`, :func:`conv_transpose2d` and :func:`conv_transpose3d`."""
    owner = f"conv_transpose{dims}d"
    x, had_batch = batched(as_tensor(input), dims, owner, input_shapes(dims))
    check_weight(weight, bias, dims, owner, "in_channels, out_channels/groups")
    groups = conv_groups(groups, owner)
    if x.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise RuntimeError(f"{owner}: the input has {x.shape[1]} channels (dim 1 of {shape_text(x.shape)}) but the "
                         f"weight {shape_text(weight.shape)} expects {weight.shape[0]} (divisible by groups {groups})")
    check_spatial(x, owner)
    check_dtypes(x, weight, owner, "f" if x.dtype != np.int64 else "i")
    kernel = tuple(weight.shape[2:])
    check_bias(bias, weight.shape[1] * groups, owner)
    stride, dilation = conv_sizes(stride, dims, "stride", owner), conv_sizes(dilation, dims, "dilation", owner)
    padding = conv_sizes(padding, dims, "padding", owner, least=0)
    extra = conv_sizes(output_padding, dims, "output_padding", owner, least=0)
    if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation)):
        raise RuntimeError(f"{owner}: output_padding {extra} must be smaller than the stride {stride} or the "
                           f"dilation {dilation}")
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + e + 1
                 for n, s, p, d, k, e in zip(x.shape[2:], stride, padding, dilation, kernel, extra))
    if min(size) < (0 if 0 in x.shape[:2] else 1):  # PyTorch: an empty input's output may be empty
        raise RuntimeError(f"{owner}: the output would have size {size}; use less padding or a larger input")
    # the convolution this one transposes: padding p before, and p − output_padding after (so that it has exactly
    # the input's positions; a negative amount there means the extra output rows get no window's share)
    pads = tuple((p, p - e) for p, e in zip(padding, extra))
    half = x.dtype == np.float16  # in float32, rounded once, as PyTorch's CPU kernel (forward and each gradient):
    wide = (x.float(), weight.float(), None if bias is None else bias.float()) if half else (x, weight, bias)
    out = conv_input_gradient(wide[0], wide[1], size, stride, pads, dilation, groups)  # float16 sums: 300 ulps off
    if bias is not None:
        out = out + wide[2].reshape((-1,) + (1,) * dims)
    out = out.half() if half else out
    return in_kernels_format(out, x, weight, dims) if had_batch else out.squeeze(0)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """The 1-d transposed convolution of ``input`` (N, C_in, L) by ``weight`` (C_in, C_out/groups, kL)."""
    return transposed_convolution(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """The 2-d transposed convolution of ``input`` (N, C_in, H, W) by ``weight`` (C_in, C_out/groups, kH, kW)."""
    return transposed_convolution(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """The 3-d transposed convolution of ``input`` (N, C_in, D, H, W) by ``weight`` (C_in, C_out/groups, kD, kH, kW)."""
    return transposed_convolution(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)


class _ConvTransposeNd(ConvolutionLayer):
    """What ``ConvTranspose1d``, ``ConvTranspose2d`` and ``ConvTranspose3d`` share: settings, parameters, PyTorch's
    initialisation."""

    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        check_device(device)
        super().__init__()
        owner = type(self).__name__
        self._channels(in_channels, out_channels, groups, padding_mode,  # weight (in, out), bias (out,)
                       leading=("in_channels", "out_channels") if bias else ("in_channels",))
        self.kernel_size = sizes(kernel_size, self.dims, "kernel_size", owner, bools=True)
        self.stride = conv_sizes(stride, self.dims, "stride", owner)
        self.padding = conv_sizes(padding, self.dims, "padding", owner, least=0)
        self.output_padding = conv_sizes(output_padding, self.dims, "output_padding", owner, least=0)
        self.dilation = conv_sizes(dilation, self.dims, "dilation", owner)
        self.transposed, self.padding_mode = True, padding_mode  # PyTorch's _ConvNd keeps both ('zeros' only here)
        self._make_weight_and_bias((self.in_channels, self.out_channels // self.groups, *self.kernel_size), bias, dtype,
                         pick_generator(seed, generator))

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        extra = self.output_padding
        if output_size is not None:  # the output_padding that gives this size (PyTorch's output_size argument)
            x = as_tensor(input)
            given = tuple(output_size)
            if len(given) not in (self.dims, x.ndim):  # the spatial sizes, or the whole output's shape
                raise ValueError(f"{type(self).__name__}: for a {x.ndim}-d input, output_size must have "
                                 f"{self.dims} or {x.ndim} elements (the output's spatial sizes, or its whole shape), "
                                 f"got {len(given)}")
            wanted = given[-self.dims:]
            natural = tuple((n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
                            zip(x.shape[-self.dims:], self.stride, self.padding, self.dilation, self.kernel_size))
            largest = tuple(n + s - 1 for n, s in zip(natural, self.stride))
            if not all(n <= w <= most for n, w, most in zip(natural, wanted, largest)):
                raise ValueError(f"{type(self).__name__}: output_size {wanted} is outside the sizes this input can "
                                 f"give, {natural} to {largest} (each up to stride − 1 more than the smallest)")
            extra = tuple(w - n for w, n in zip(wanted, natural))
        return transposed_convolution(input, self.weight, self.bias, self.stride, self.padding, extra, self.groups,
                                      self.dilation, self.dims)

    def config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride), "padding": list(self.padding),
                "output_padding": list(self.output_padding), "groups": self.groups, "bias": self.bias is not None,
                "dilation": list(self.dilation)}


class ConvTranspose1d(_ConvTransposeNd):
    """A 1-d transposed convolution layer: (N, in_channels, L) → (N, out_channels, L′); weight (in, out/groups, k)."""

    dims = 1


class ConvTranspose2d(_ConvTransposeNd):
    """A 2-d transposed convolution layer: (N, in_channels, H, W) → (N, out_channels, H′, W′), ``weight``
    (in, out/groups, kH, kW); ``H′ = (H − 1)·s − 2p + d·(k − 1) + output_padding + 1``."""

    dims = 2


class ConvTranspose3d(_ConvTransposeNd):
    """A 3-d transposed convolution layer: (N, in_channels, D, H, W) → (N, out_channels, D′, H′, W′), ``weight``
    (in, out/groups, kD, kH, kW); each output size as ``H′`` of ``ConvTranspose2d``."""

    dims = 3
