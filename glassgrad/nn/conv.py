"""Convolutions: ``conv1d``/``conv2d``/``conv3d`` and the layers ``Conv1d``/``Conv2d``/``Conv3d``, with PyTorch's
arguments.

A 2-d convolution slides each output channel's kernel ``W[c]`` (``in_channels/groups × kh × kw``)
over the input; every output entry is a weighted sum of one window (indices from 0, as in code;
a trace writes the same sums counting from 1)::

    Z[n,c,i,j] = Σ_{k,u,v} W[c,k,u,v]·X̃[n,k, i·s+u·d, j·s+v·d] + b[c]

with stride ``s``, dilation ``d`` and ``X̃`` the input padded with zeros. Its gradients are
sums over the same windows (the rows ``conv1d``/``conv2d``/``conv3d`` of :mod:`glassgrad.ops`; a 3-d
convolution of volumes (N, C, D, H, W) sums over a third offset ``w`` the same way)::

    ∂L/∂W[c,k,u,v] = Σ_{n,i,j} ∂L/∂Z[n,c,i,j]·X̃[n,k, i·s+u·d, j·s+v·d]
    ∂L/∂b[c]       = Σ_{n,i,j} ∂L/∂Z[n,c,i,j]
    ∂L/∂X[n,k,y,x] = Σ ∂L/∂Z[n,c,i,j]·W[c,k,u,v]  over the (c, i, j, u, v) whose window reads (y, x)

The engine computes all of them with im2col and one matrix product each
(:mod:`glassgrad.sliding`), which keeps a digits or MNIST CNN quick on a CPU.

>>> import glassgrad as gg
>>> layer = gg.nn.Conv2d(1, 4, kernel_size=3, padding=1, seed=0)
>>> layer(gg.ones(2, 1, 8, 8)).shape
Size([2, 4, 8, 8])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import ops
from ..arguments import shape_text, shown
from ..creation import as_tensor, pick_generator, tensor_argument
from ..device import check_device
from ..memory_formats import kept_channels_last
from ..settings import warn_once
from ..tensor import Tensor, apply
from . import init
from .linear import check_size, float_dtype
from .module import Module
from .padding import pad
from .parameter import Parameter

Padding = int | Sequence[int] | str

SPATIAL = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
"""The names of the spatial dims of a 1-, 2- or 3-d input, as PyTorch's documentation writes them."""


def input_shapes(dims: int) -> str:
    """``(N, C, H, W) or (C, H, W)``: the shapes a ``dims``-d layer takes, batched or not."""
    size = ", ".join(SPATIAL[dims])
    return f"(N, C, {size}) or (C, {size})"


def kernel_names(dims: int) -> str:
    """``kH, kW``: a ``dims``-d weight's kernel dims."""
    return ", ".join(f"k{name}" for name in SPATIAL[dims])


def sizes(value: Any, dims: int, name: str, owner: str, least: int = 1,
          error: type[Exception] = ValueError, bools: bool = False) -> tuple[int, ...]:
    """``value`` (an int, or one int per spatial dim) as a tuple of ``dims`` ints ≥ ``least``, or a
    one-line error naming the argument: a TypeError, as PyTorch's, for what holds no ints (``2.5``, ``'a'``,
    None), ``error`` (ValueError unless the caller's PyTorch twin raises another) for ints of the wrong count or
    too small.

    A bool is an int where PyTorch takes it as one: its list-of-ints parser refuses one alone or first
    (``stride=True``, ``(True, 2)``) and reads a later one as 0 or 1 (``(2, True)``); ``bools`` takes them
    everywhere: a convolution layer's ``kernel_size``, which only shapes its weight past the channels; a layer's
    settings when it is built (PyTorch's constructors keep them unchecked: ``nn.MaxPool2d(True)`` is refused when
    called, as here; :func:`~glassgrad.arguments.built_setting`); an unpooling's, which PyTorch reads with
    Python's ``_pair`` and computes with (``nn.MaxUnpool2d(True)``: a kernel and stride of 1)."""
    whole = (int, np.integer)
    items = (value,) * dims if isinstance(value, whole) and (bools or not isinstance(value, bool)) else value
    try:
        items = tuple(items) if not isinstance(items, (str, bytes)) else None
    except TypeError:
        items = None
    if items is None or not all(isinstance(v, whole) and (bools or position or not isinstance(v, bool))
                                for position, v in enumerate(items)):
        raise TypeError(f"{owner}: {name} must be an integer or {dims} of them, got {shown(value)} "
                        f"({type(value).__name__})")
    if len(items) != dims or not all(v >= least for v in items):
        raise error(f"{owner}: {name} must be an integer ≥ {least} or {dims} of them, got {value!r}")
    return tuple(int(v) for v in items)


def leads_with_bool(*values: Any) -> bool:
    """Whether one of ``values`` is a bool, or a sequence whose first item is one: what PyTorch's list-of-ints parser
    refuses (TypeError) before any other check of its call. A layer built with one is refused only when called, as
    PyTorch's, whose constructor keeps its settings unchecked (so its build check is skipped: :func:`sizes`)."""
    return any(isinstance(value, bool) or isinstance(value, Sequence) and not isinstance(value, (str, bytes))
               and len(value) > 0 and isinstance(value[0], bool) for value in values)


def conv_sizes(value: Any, dims: int, name: str, owner: str, least: int = 1) -> tuple[int, ...]:
    """A convolution's ``stride``, ``padding``, ``dilation`` or ``output_padding`` read as ATen reads it: a
    one-element list stands for every spatial dim (``stride=(2,)`` of a 2-d convolution is ``(2, 2)``), and a
    wrong count or a value too small (``stride=0``, ``padding=-1``) is PyTorch's RuntimeError."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and len(value) == 1:
        value = value[0]
    return sizes(value, dims, name, owner, least, error=RuntimeError)


def conv_groups(groups: Any, owner: str) -> int:
    """``groups`` of a functional convolution: a positive int, else PyTorch's RuntimeError ('non-positive groups')
    for one below 1 (a layer's constructor raises ValueError for it, as ``nn.Conv2d``'s does)."""
    return check_size(groups, "groups", owner, too_small=RuntimeError)


def resolve_padding(padding: Padding, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
                    owner: str, error: type[Exception] = RuntimeError) -> tuple[tuple[int, int], ...]:
    """``padding`` as ``(before, after)`` per spatial dim; ``'valid'`` is none, ``'same'`` keeps the size
    (its odd extra zero goes after, as in PyTorch; only for stride 1). A string other than these, or ``'same'``
    with a stride, raises ``error``: RuntimeError from ``F.conv2d``, ValueError from a layer's constructor, as
    PyTorch's; a negative amount is RuntimeError from both (PyTorch's layer meets it in its first call)."""
    dims = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * dims
        if padding != "same":
            raise error(f"{owner}: padding must be 'same', 'valid', an integer or {dims} of them, got {padding!r}")
        if any(s != 1 for s in stride):
            raise error(f"{owner}: padding='same' is not supported for strided convolutions "
                        f"(stride={stride}); give the padding as numbers instead")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((total // 2, total - total // 2) for total in totals)
    return tuple((p, p) for p in conv_sizes(padding, dims, "padding", owner, least=0))


def check_fits(owner: str, size: tuple[int, ...], kernel: tuple[int, ...], dilation: tuple[int, ...],
               padding: tuple[tuple[int, int], ...], shape: tuple[int, ...]) -> None:
    """A one-line error when the (dilated) kernel is larger than the padded input."""
    padded = tuple(n + before + after for n, (before, after) in zip(size, padding))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(r > p for r, p in zip(reach, padded)):
        raise RuntimeError(f"{owner}: the kernel ({'×'.join(map(str, reach))} with dilation) is larger than the "
                         f"padded input ({'×'.join(map(str, padded))}, from input {shape_text(shape)}): use a "
                         "smaller kernel_size or dilation, more padding, or a larger input")


def check_weight(weight: Tensor, bias: Tensor | None, dims: int, owner: str, channels: str) -> None:
    """A one-line error unless ``weight`` is a tensor ``(*channels, kernel…)`` with ``dims`` kernel dims and has
    entries (a dim of size 0 leaves no output channel or no window, which PyTorch refuses too; a convolution's 0
    input channels, which PyTorch 2.13 takes, giving a result with 0 channels where ``out_channels`` are due), and
    ``bias`` a tensor or None."""
    tensor_argument(weight, owner, "weight", 2)
    tensor_argument(bias, owner, "bias", 3, optional=True)
    if weight.ndim != dims + 2:  # PyTorch's RuntimeError ('expected stride to be … a list of 1 values …')
        raise RuntimeError(f"{owner}: weight must have shape ({channels}, {kernel_names(dims)}), "
                           f"got {shape_text(weight.shape)}")
    if 0 in weight.shape:
        raise RuntimeError(f"{owner}: the weight {shape_text(weight.shape)} has a dim of size 0 ({channels}, "
                           f"{kernel_names(dims)}); give every channel count and kernel size at least 1")


def check_bias(bias: Tensor | None, outputs: int, owner: str) -> None:
    """PyTorch's RuntimeError unless ``bias`` is None or has one entry per output channel (``outputs``)."""
    if bias is not None and bias.shape != (outputs,):
        raise RuntimeError(f"{owner}: bias must have shape ({outputs},), one per output channel, "
                           f"got {shape_text(bias.shape)}")


def batched(x: Tensor, dims: int, owner: str, what: str) -> tuple[Tensor, bool]:
    """``x`` with a batch dim (an unbatched ``(C, *size)`` input gets one, as PyTorch allows) and whether it had one."""
    if x.ndim == dims + 2:
        return x, True
    if x.ndim == dims + 1:
        return x.unsqueeze(0), False
    raise RuntimeError(f"{owner}: expected input of shape {what}, got {shape_text(x.shape)}")


def check_spatial(x: Tensor, owner: str) -> None:
    """PyTorch's RuntimeError for a batched input ``(N, C, *spatial)`` with an empty spatial dim, unless its batch or
    its channels are empty too (then the answer is an empty tensor)."""
    if 0 in x.shape[2:] and 0 not in x.shape[:2]:
        raise RuntimeError(f"{owner}: the input {shape_text(x.shape)} has an empty spatial dim; only an input with an "
                           "empty batch or no channels may have one, as in PyTorch: give each spatial dim at least 1")


def check_dtypes(x: Tensor, weight: Tensor, owner: str, kinds: str) -> None:
    """Refuse an input and weight of two dtypes (PyTorch's RuntimeError), or of one dtype whose NumPy kind is not in
    ``kinds`` (``'f'`` floating, ``'i'``/``'u'`` integers), PyTorch's NotImplementedError: it has no kernel for them
    (bool, or the integers of a transposed convolution other than int64)."""
    if x.dtype != weight.dtype:
        raise RuntimeError(f"{owner}: input dtype {x.dtype} and weight dtype {weight.dtype} must be the same; convert "
                           f"the input with .to(gg.{weight.dtype})" if weight.dtype.kind == "f" else
                           f"{owner}: input dtype {x.dtype} and weight dtype {weight.dtype} must be the same; convert "
                           f"the weight with .to(gg.{x.dtype})")
    if x.dtype.kind not in kinds:
        raise NotImplementedError(f"{owner}: no kernel for {x.dtype} input and weight; convert both with .float()")


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Padding, dilation: Any,
                groups: int, dims: int) -> Tensor:
    """The checked call behind :func:`conv1d`, :func:`conv2d` and :func:`conv3d` (``dims`` spatial dims)."""
    owner = f"conv{dims}d"
    x, had_batch = batched(as_tensor(input), dims, owner, input_shapes(dims))
    check_weight(weight, bias, dims, owner, "out_channels, in_channels/groups")
    groups = conv_groups(groups, owner)
    out_channels, group_channels = weight.shape[:2]
    if out_channels % groups:
        raise RuntimeError(f"{owner}: groups={groups} must divide the weight's out_channels ({out_channels})")
    if x.array.shape[1] != group_channels * groups:
        raise RuntimeError(f"{owner}: the input has {x.shape[1]} channels (dim 1 of {shape_text(x.shape)}) but the "
                         f"weight {shape_text(weight.shape)} expects {group_channels * groups} (in_channels = "
                         f"{group_channels} × groups {groups}); fix the layer's in_channels or the input")
    check_spatial(x, owner)
    check_bias(bias, out_channels, owner)
    check_dtypes(x, weight, owner, "fiu")
    kernel = tuple(weight.shape[2:])
    stride = conv_sizes(stride, dims, "stride", owner)
    dilation = conv_sizes(dilation, dims, "dilation", owner)
    pads = resolve_padding(padding, kernel, stride, dilation, owner)
    if isinstance(padding, str) and any(before != after for before, after in pads):  # PyTorch's TORCH_WARN_ONCE
        warn_once("Using padding='same' with even kernel lengths and odd dilation may require a zero-padded copy "
                  "of the input be created")
    check_fits(owner, x.array.shape[2:], kernel, dilation, pads, x.array.shape)
    row = (ops.CONV1D, ops.CONV2D, ops.CONV3D)[dims - 1]
    needs = (x._requires_grad, weight._requires_grad, bias is not None and bias._requires_grad)
    parents, arrays = ((x, weight), ()) if bias is None else ((x, weight, bias), (bias.array,))
    out = apply(row, parents, x.array, weight.array, stride, pads, dilation, groups, needs, *arrays)
    return in_kernels_format(out, x, weight, dims) if had_batch else out.squeeze(0)


def in_kernels_format(out: Tensor, x: Tensor, weight: Tensor, dims: int) -> Tensor:
    """A (transposed) convolution's batched output, channels-last where PyTorch 2.13's CPU kernel gives it so: where
    the input or the weight is, in 2-d, and in 3-d for float32 only (oneDNN's kernel; float64's is row-major)."""
    return kept_channels_last(out, x, weight) if dims == 2 or (dims == 3 and x.dtype == np.float32) else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Padding = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-d convolution of ``input`` (N, C, L) with ``weight`` (out, C/groups, kL): ``Z[n,c,i] = Σ_{k,u}
    W[c,k,u]·X̃[n,k,i·s+u·d] + b[c]``. ``padding``: an int, a 1-tuple, ``'same'`` or ``'valid'``."""
    return convolution(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Padding = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-d convolution of ``input`` (N, C, H, W) with ``weight`` (out, C/groups, kH, kW): ``Z[n,c,i,j] =
    Σ_{k,u,v} W[c,k,u,v]·X̃[n,k,i·s+u·d,j·s+v·d] + b[c]``. ``padding``: an int, a pair, ``'same'`` or ``'valid'``."""
    return convolution(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Padding = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-d convolution of ``input`` (N, C, D, H, W) with ``weight`` (out, C/groups, kD, kH, kW): ``Z[n,c,i,j,l] =
    Σ_{k,u,v,w} W[c,k,u,v,w]·X̃[n,k,i·s+u·d,j·s+v·d,l·s+w·d] + b[c]``. ``padding``: an int, a triple, ``'same'`` or
    ``'valid'``."""
    return convolution(input, weight, bias, stride, padding, dilation, groups, 3)


class ConvolutionLayer(Module):
    """What convolution layers and transposed ones share: channels and groups, their parameters, PyTorch's start."""

    kernel_size: tuple[int, ...]

    padding_modes: tuple[str, ...] = ("zeros",)
    """The ``padding_mode`` values the layer takes."""

    def _channels(self, in_channels: int, out_channels: int, groups: int, padding_mode: str,
                  leading: tuple[str, ...]) -> None:
        """Check the channels and groups; ``leading`` names the channels that lead a parameter's shape (where a
        bool is PyTorch's TypeError: see :func:`check_size`)."""
        owner = type(self).__name__
        self.in_channels = check_size(in_channels, "in_channels", owner, 0, leads="in_channels" in leading)
        self.out_channels = check_size(out_channels, "out_channels", owner, 0, leads="out_channels" in leading)
        self.groups = check_size(groups, "groups", owner, leads=False)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"{owner}: groups={self.groups} must divide in_channels ({self.in_channels}) and "
                             f"out_channels ({self.out_channels})")
        if padding_mode not in self.padding_modes:
            raise ValueError(f"{owner}: padding_mode must be one of {', '.join(map(repr, self.padding_modes))}, "
                             f"got {padding_mode!r}")

    def _make_weight_and_bias(self, weight_shape: tuple[int, ...], bias: bool, dtype: Any,
                    generator: np.random.Generator | None) -> None:
        dtype = float_dtype(dtype, type(self).__name__)
        self.weight = Parameter(np.empty(weight_shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """PyTorch's start: ``W ~ kaiming_uniform(a=√5)`` (that is ``U(±1/√fan_in)``), ``b ~ U(±1/√fan_in)``, with
        ``fan_in`` = the weight's dim 1 × its kernel entries (``in_channels/groups`` for a convolution,
        ``out_channels/groups`` for a transposed one, as PyTorch reads it); with no channels there (``fan_in = 0``),
        ``b = 0``, as :class:`~glassgrad.nn.Linear` with no inputs."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)


class _ConvNd(ConvolutionLayer):
    """What ``Conv1d``, ``Conv2d`` and ``Conv3d`` share: their settings, parameters and PyTorch's initialisation.

    ``padding_mode`` other than ``'zeros'``: the input is first padded by ``F.pad`` in that mode
    (``'reflect'``, ``'replicate'``, ``'circular'``) by the layer's padding, then convolved with none, as in PyTorch.
    """

    dims = 2
    padding_modes = ("zeros", "reflect", "replicate", "circular")

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Padding = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        check_device(device)
        super().__init__()
        owner = type(self).__name__
        self._channels(in_channels, out_channels, groups, padding_mode, leading=("out_channels",))  # weight (out, in)
        self.kernel_size = sizes(kernel_size, self.dims, "kernel_size", owner, bools=True)
        self.stride = conv_sizes(stride, self.dims, "stride", owner)
        self.dilation = conv_sizes(dilation, self.dims, "dilation", owner)
        resolve_padding(padding, self.kernel_size, self.stride, self.dilation, owner, ValueError)  # checked now
        self.padding = padding if isinstance(padding, str) else conv_sizes(padding, self.dims, "padding", owner, 0)
        self.padding_mode = padding_mode
        self.transposed, self.output_padding = False, (0,) * self.dims  # PyTorch's _ConvNd keeps both
        self._make_weight_and_bias((self.out_channels, self.in_channels // self.groups, *self.kernel_size), bias, dtype,
                         pick_generator(seed, generator))

    def forward(self, input: Tensor) -> Tensor:
        padding = self.padding
        if self.padding_mode != "zeros":
            pairs = resolve_padding(padding, self.kernel_size, self.stride, self.dilation, type(self).__name__)
            input = pad(input, [amount for pair in reversed(pairs) for amount in pair], mode=self.padding_mode)
            padding = 0
        return convolution(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups, self.dims)

    def config(self) -> dict[str, Any]:
        settings = {"in_channels": self.in_channels, "out_channels": self.out_channels,
                    "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                    "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
                    "dilation": list(self.dilation), "groups": self.groups, "bias": self.bias is not None}
        return settings | ({"padding_mode": self.padding_mode} if self.padding_mode != "zeros" else {})


class Conv1d(_ConvNd):
    """A 1-d convolution layer: input (N, in_channels, L) → (N, out_channels, L′); ``weight`` (out, in/groups, k)."""

    dims = 1


class Conv2d(_ConvNd):
    """A 2-d convolution layer: input (N, in_channels, H, W) → (N, out_channels, H′, W′); ``weight``
    (out, in/groups, kH, kW), ``bias`` (out,). ``H′ = ⌊(H + 2p − d·(k − 1) − 1)/s⌋ + 1``."""

    dims = 2


class Conv3d(_ConvNd):
    """A 3-d convolution layer (videos, scans): input (N, in_channels, D, H, W) → (N, out_channels, D′, H′, W′);
    ``weight`` (out, in/groups, kD, kH, kW), ``bias`` (out,); each output size as ``H′`` of ``Conv2d``."""

    dims = 3
