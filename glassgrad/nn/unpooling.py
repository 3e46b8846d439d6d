"""Max unpooling: each maximum written back where max pooling found it, zeros elsewhere.

``max_pool2d(x, …, return_indices=True)`` gives each window's maximum and its flat position in
its (H·W) plane (its (D·H·W) volume in 3-d); ``max_unpool2d`` writes every entry back at that
position of a plane of zeros, the partial inverse of the pooling::

    out[n,c].flat[indices[n,c,i,j]] = input[n,c,i,j]        (every other entry 0)

It is made of one ``scatter``, so its gradient reads those entries back:
``∂L/∂input[n,c,i,j] = ∂L/∂out[n,c].flat[indices[n,c,i,j]]``. The plane is
``H′ = (H − 1)·s − 2p + k`` by ``W′`` likewise, or ``output_size``.

>>> import glassgrad as gg
>>> x = gg.tensor([[[[1.0, 5.0], [3.0, 2.0]]]])
>>> pooled, where = gg.nn.functional.max_pool2d(x, 2, return_indices=True)
>>> gg.nn.functional.max_unpool2d(pooled, where, 2).tolist()
[[[[0.0, 5.0], [0.0, 0.0]]]]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..arguments import shape_text
from ..autograd import recorded_call
from ..creation import as_tensor
from ..tensor import Tensor
from .conv import sizes
from .module import Module
from .module_utils import _ntuple
from .pooling import _floating, _one_row, _pool_settings, _row, _stride, pool_sizes


def spatial_output_size(output_size: Any, dims: int, name: str) -> tuple:
    """``output_size``'s ``dims`` spatial sizes: PyTorch takes those alone or the whole output shape (N, C, *size),
    and refuses other lengths (a TypeError for a number, as it gives)."""
    if isinstance(output_size, (int, float)):
        raise TypeError(f"{name}: output_size must be a sequence (the {dims} spatial size{'s' * (dims > 1)} or the "
                        f"output's {dims + 2}-number shape), got the number {output_size!r}; wrap it in a list")
    given = tuple(output_size)
    if len(given) not in (dims, dims + 2):
        raise ValueError(f"{name}: output_size must hold the {dims} spatial size{'s' * (dims > 1)} or the output's "
                         f"{dims + 2}-number shape (N, C, …), got {len(given)} numbers: {output_size!r}")
    return given[-dims:]


def _refuse_outside(where: np.ndarray, plane: tuple, name: str) -> None:
    """Refuse an index outside the output plane (volume). Run through :func:`~glassgrad.autograd.recorded_call`: a
    compiled step checked only its captures' indices, and a later call's stray one met ``scatter``'s message."""
    if where.size and not 0 <= int(where.min()) <= int(where.max()) < math.prod(plane):
        raise RuntimeError(f"{name}: an index is outside the output {'plane' if len(plane) == 2 else 'volume'} "
                           f"{'×'.join(map(str, plane))}; give the output_size of the input that was pooled "
                           "(output_size=x.shape)")


def max_unpooling(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any, padding: Any, output_size: Any,
                  dims: int) -> Tensor:
    """The checked call behind :func:`max_unpool2d` and :func:`max_unpool3d` (``dims`` spatial dims)."""
    name = f"max_unpool{dims}d"
    x, had_batch = _floating(input, name, dims)
    if dims == 3:  # PyTorch's 3-d kernel takes the stride and padding as lists of ints: a bool there is a TypeError
        pool_sizes(_stride(stride, kernel_size), dims, "stride", name)
        pool_sizes(padding, dims, "padding", name, 0)
    kernel, stride, pads, _ = _pool_settings(name, kernel_size, stride, padding, dims=dims, bools=True)  # as _pair
    where = as_tensor(indices)
    where = where if had_batch else where.unsqueeze(0)
    if where.shape != x.shape or where.dtype.kind not in "iu":  # PyTorch's class for either
        raise RuntimeError(f"{name}: indices must be integers of the input's shape {shape_text(x.shape)} (the "
                           f"second output of max_pool{dims}d(..., return_indices=True)), got {where.dtype} "
                           f"{shape_text(where.shape)}")
    plane = tuple((size - 1) * s - 2 * p + k for size, k, s, (p, _) in zip(x.shape[2:], kernel, stride, pads))
    if output_size is not None:  # PyTorch takes sizes within a stride of the natural one, either way
        natural, plane = plane, sizes(spatial_output_size(output_size, dims, name), dims, "output_size", name)
        if not all(n - s < size < n + s for n, s, size in zip(natural, stride, plane)):
            raise ValueError(f"{name}: output_size {plane} must be within a stride {stride} of the size pooling "
                             f"would have read, {natural} (strictly); give the pooled input's size")
    recorded_call(_refuse_outside, where.array, plane, name)  # a kernel of a compiled step: read at each call
    flat = x.new_zeros((*x.shape[:2], math.prod(plane))).scatter(-1, where.flatten(2), x.flatten(2))
    out = flat.reshape(*x.shape[:2], *plane)
    return out if had_batch else out.squeeze(0)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """The partial inverse of ``max_pool2d``: each entry of ``input`` written at its flat position ``indices`` in a
    plane of zeros; ``output_size`` (its last two numbers) overrides the plane's size."""
    return max_unpooling(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """The partial inverse of ``max_pool3d``: each entry of ``input`` written at its flat position ``indices`` in a
    volume of zeros; ``output_size`` (its last three numbers) overrides the volume's size."""
    return max_unpooling(input, indices, kernel_size, stride, padding, output_size, 3)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """``max_unpool2d`` of one row: entries back at their positions along the last dim."""
    size = None if output_size is None else (1, *spatial_output_size(output_size, 1, "max_unpool1d"))
    owner = "max_unpool1d"
    return max_unpool2d(_one_row(input, owner), _one_row(indices, owner),
                        _row(kernel_size, 1, "kernel_size", owner, bools=True),
                        _row(_stride(stride, kernel_size), 1, "stride", owner, bools=True),
                        _row(padding, 0, "padding", owner, bools=True),
                        size).squeeze(-2)


class MaxUnpool2d(Module):
    """Puts each maximum back where ``MaxPool2d(..., return_indices=True)`` found it, zeros elsewhere. The
    settings are kept as n-tuples, as PyTorch keeps them (``MaxUnpool2d(2).kernel_size`` is ``(2, 2)``)."""

    dims = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        as_tuple = _ntuple(self.dims)
        _pool_settings(type(self).__name__, kernel_size, stride, padding, dims=self.dims, bools=True)  # checked now
        self.kernel_size, self.stride = as_tuple(kernel_size), as_tuple(_stride(stride, kernel_size))
        self.padding = as_tuple(padding)

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return max_unpooling(input, indices, self.kernel_size, self.stride, self.padding, output_size, self.dims)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride), "padding": list(self.padding)}


class MaxUnpool3d(MaxUnpool2d):
    """Puts each maximum back where ``MaxPool3d(..., return_indices=True)`` found it, zeros elsewhere."""

    dims = 3


class MaxUnpool1d(MaxUnpool2d):
    """Puts each maximum back where ``MaxPool1d(..., return_indices=True)`` found it, zeros elsewhere."""

    dims = 1

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def config(self) -> dict[str, Any]:
        return {key: value[0] for key, value in super().config().items()}
