"""Lazy layers: ``LazyLinear``, ``LazyConv1d/2d/3d``, ``LazyConvTranspose1d/2d/3d``, ``LazyBatchNorm1d/2d/3d`` and
``LazyInstanceNorm1d/2d/3d``, whose input size (``in_features``, ``in_channels``, ``num_features``) is read from
their first input instead of being written by hand.

One mechanism serves them all (:class:`LazyModuleMixin`). A lazy layer is built as the ordinary layer it will
become (its ``cls_to_become``) with a stand-in input size, so every other setting is checked at once; then its
parameters become :class:`~glassgrad.nn.parameter.UninitializedParameter` s and its running statistics
:class:`~glassgrad.nn.parameter.UninitializedBuffer` s, and the input size reads 0. The first call:

1. reads the input size from the input (the last dim for ``LazyLinear``, the channel dim for the others);
2. builds the ordinary layer of that size (so its numbers are drawn exactly as that layer draws them, from the
   same ``seed`` or ``generator``) and gives each uninitialised tensor that layer's shape and numbers, in place;
3. turns into the ordinary layer (``self.__class__ = cls_to_become``, as PyTorch) and runs its forward.

Because the tensors are filled in place, an optimizer built before the first call trains them afterwards.
``load_state_dict`` before the first call gives them the checkpoint's shapes instead
(:meth:`glassgrad.nn.Module.load_state_dict`); the first call then only reads the input size and checks it fits.

>>> import glassgrad as gg
>>> layer = gg.nn.LazyConv2d(8, kernel_size=3)
>>> layer(gg.ones(1, 3, 5, 5)).shape, type(layer).__name__, layer.weight.shape
(Size([1, 8, 3, 3]), 'Conv2d', Size([8, 3, 3, 3]))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..arguments import shape_text
from ..autograd import watched_by
from ..creation import as_tensor
from ..device import check_device
from ..tensor import Tensor
from .conv import Conv1d, Conv2d, Conv3d, Padding, input_shapes
from .conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .module import Module
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
)
from .parameter import UninitializedBuffer, UninitializedParameter, UninitializedTensorMixin


class LazyModuleMixin:
    """What every lazy layer shares: start uninitialised, take the input size from the first call, then become
    ``cls_to_become``. A lazy layer lists this class first, then the layer it becomes, and says where its input
    size sits in an input (:meth:`_in_size`)."""

    cls_to_become: type[Module]
    """The ordinary layer this one turns into at its first call."""

    in_name = "in_channels"
    """The constructor argument (and attribute) the first input decides."""

    def _become_lazy(self, stand_in: int, **arguments: Any) -> None:
        """Build ``cls_to_become`` on ``self`` with input size ``stand_in`` (checking every other argument now),
        keep ``arguments`` for the first call, and make each parameter and each non-scalar buffer uninitialised."""
        quiet = {"seed": 0, "generator": None} if "seed" in arguments else {}  # the stand-in's draws touch no stream
        self.cls_to_become.__init__(self, stand_in, **(arguments | quiet))
        self._lazy_arguments = arguments
        for name, parameter in self._parameters.items():
            if parameter is not None:
                self._replace(self._parameters, name, UninitializedParameter(parameter.requires_grad,
                                                                             dtype=parameter.dtype))
        for name, buffer in self._buffers.items():
            if buffer is not None and buffer.ndim:  # running statistics; the batch count keeps its 0-d shape
                self._replace(self._buffers, name, UninitializedBuffer(dtype=buffer.dtype))
        setattr(self, self.in_name, 0)

    def _replace(self, registry: dict, name: str, tensor: Tensor) -> None:
        """Put ``tensor`` under ``name`` where the old one was (keeping the registry's, so state_dict's, order)."""
        registry[name] = tensor
        object.__setattr__(self, name, tensor)

    def _in_size(self, input: Tensor) -> int:
        """The input size that ``input`` implies: the channel dim of a batched (N, C, …) or unbatched (C, …) input."""
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"{type(self).__name__}: expected input of shape {input_shapes(self.dims)}, "
                             f"got {shape_text(input.shape)}")
        return input.shape[input.ndim - self.dims - 1]

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer still waits for the first call (or a load) to get its shape."""
        return any(isinstance(tensor, UninitializedTensorMixin)
                   for registry in (self._parameters, self._buffers) for tensor in registry.values())

    def initialize_parameters(self, input: Any) -> None:
        """Read the input size from ``input`` and give every uninitialised tensor the shape and numbers of the
        ordinary layer of that size; tensors already loaded must fit it (checked before anything changes)."""
        size = self._in_size(as_tensor(input))
        with watched_by(None):  # building the layer (its random first numbers) is no op of a trace or a compiled step
            ready = self.cls_to_become(size, **self._lazy_arguments)
        pairs = [(name, getattr(self, registry)[name], made) for registry in ("_parameters", "_buffers")
                 for name, made in getattr(ready, registry).items() if made is not None]
        for name, own, made in pairs:
            if not isinstance(own, UninitializedTensorMixin) and own.shape != made.shape:
                raise ValueError(f"{type(self).__name__}: the input has {self.in_name}={size} (shape "
                                 f"{shape_text(as_tensor(input).shape)}), which needs {name} of shape "
                                 f"{shape_text(made.shape)}, but the loaded {name} has shape {shape_text(own.shape)}")
        for _, own, made in pairs:
            if isinstance(own, UninitializedTensorMixin):
                own.materialize(made.shape)
                np.copyto(own.array, made.array, casting="unsafe")
        setattr(self, self.in_name, size)

    def forward(self, input: Any, *args: Any, **kwargs: Any) -> Any:
        self.initialize_parameters(input)
        del self._lazy_arguments
        self.__class__ = self.cls_to_become
        return self.forward(input, *args, **kwargs)


class LazyLinear(LazyModuleMixin, Linear):
    """A :class:`~glassgrad.nn.Linear` whose ``in_features`` is the last dim of its first input; its weights are
    drawn then, as ``Linear(in_features, out_features, seed=…)`` draws them."""

    cls_to_become = Linear
    in_name = "in_features"

    def __init__(self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None,
                 seed: int | None = None, generator: np.random.Generator | None = None) -> None:
        check_device(device)
        self._become_lazy(1, out_features=out_features, bias=bias, dtype=dtype, seed=seed, generator=generator)

    def _in_size(self, input: Tensor) -> int:
        if input.ndim == 0:
            raise RuntimeError("LazyLinear: the input needs a last dim (its features), got a 0-d tensor")
        return input.shape[-1]


class _LazyConvNd(LazyModuleMixin):
    """The lazy convolutions: ``in_channels`` is the channel dim of the first input (dim 1, or 0 unbatched)."""

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Padding = 0, dilation: Any = 1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device: Any = None, dtype: Any = None,
                 seed: int | None = None, generator: np.random.Generator | None = None) -> None:
        check_device(device)
        self._become_lazy(groups, out_channels=out_channels, kernel_size=kernel_size, stride=stride, padding=padding,
                          dilation=dilation, groups=groups, bias=bias, padding_mode=padding_mode, dtype=dtype,
                          seed=seed, generator=generator)


class LazyConv1d(_LazyConvNd, Conv1d):
    """A :class:`~glassgrad.nn.Conv1d` whose ``in_channels`` comes from its first input."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvNd, Conv2d):
    """A :class:`~glassgrad.nn.Conv2d` whose ``in_channels`` comes from its first input."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConvNd, Conv3d):
    """A :class:`~glassgrad.nn.Conv3d` whose ``in_channels`` comes from its first input."""

    cls_to_become = Conv3d


class _LazyConvTransposeNd(LazyModuleMixin):
    """The lazy transposed convolutions: ``in_channels`` is the channel dim of the first input."""

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        check_device(device)
        self._become_lazy(groups, out_channels=out_channels, kernel_size=kernel_size, stride=stride, padding=padding,
                          output_padding=output_padding, groups=groups, bias=bias, dilation=dilation,
                          padding_mode=padding_mode, dtype=dtype, seed=seed, generator=generator)


class LazyConvTranspose1d(_LazyConvTransposeNd, ConvTranspose1d):
    """A :class:`~glassgrad.nn.ConvTranspose1d` whose ``in_channels`` comes from its first input."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeNd, ConvTranspose2d):
    """A :class:`~glassgrad.nn.ConvTranspose2d` whose ``in_channels`` comes from its first input."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTransposeNd, ConvTranspose3d):
    """A :class:`~glassgrad.nn.ConvTranspose3d` whose ``in_channels`` comes from its first input."""

    cls_to_become = ConvTranspose3d


class _LazyNorm(LazyModuleMixin):
    """The lazy batch and instance norms: ``num_features`` is the channel dim of the first input. As in PyTorch,
    both default to ``affine=True, track_running_stats=True`` (for the instance norms, unlike ``InstanceNorm``)."""

    in_name = "num_features"

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        check_device(device)
        self._become_lazy(1, eps=eps, momentum=momentum, affine=affine, track_running_stats=track_running_stats,
                          dtype=dtype, bias=bias)


class _LazyBatchNorm(_LazyNorm):
    def _in_size(self, input: Tensor) -> int:
        if input.ndim not in self.shapes:
            raise ValueError(f"{type(self).__name__}: expected input of shape "
                             f"{' or '.join(shape.format(C='C') for shape in self.shapes.values())}, "
                             f"got {shape_text(input.shape)}")
        return input.shape[1]


class LazyBatchNorm1d(_LazyBatchNorm, BatchNorm1d):
    """A :class:`~glassgrad.nn.BatchNorm1d` whose ``num_features`` is dim 1 of its first input."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm, BatchNorm2d):
    """A :class:`~glassgrad.nn.BatchNorm2d` whose ``num_features`` is dim 1 of its first input."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyBatchNorm, BatchNorm3d):
    """A :class:`~glassgrad.nn.BatchNorm3d` whose ``num_features`` is dim 1 of its first input."""

    cls_to_become = BatchNorm3d


class _LazyInstanceNorm(_LazyNorm):
    """Reads the channel dim of a batched or an unbatched input (PyTorch 2.13 reads dim 1 of an unbatched one
    too, then refuses the input; here it works)."""

    @property
    def dims(self) -> int:
        return self.shapes[0] - 2


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """An :class:`~glassgrad.nn.InstanceNorm1d` whose ``num_features`` is the channel dim of its first input."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """An :class:`~glassgrad.nn.InstanceNorm2d` whose ``num_features`` is the channel dim of its first input."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """An :class:`~glassgrad.nn.InstanceNorm3d` whose ``num_features`` is the channel dim of its first input."""

    cls_to_become = InstanceNorm3d
