"""Adaptive max pooling (``adaptive_max_pool1d/2d/3d``, ``AdaptiveMaxPool1d/2d/3d``) and PyTorch's spellings of the
max pools that always return the maxima's positions (``max_pool2d_with_indices``, …).

Adaptive pooling chooses its windows so the output has ``output_size`` entries per dim: window ``i`` of a dim of
size ``n`` covers ``[⌊i·n/o⌋, ⌈(i+1)·n/o⌉)``. The maximum of each is made of ``amax`` over slices (one ``amax``
over every window at once where ``o`` divides ``n``: then the windows are ``n/o`` wide and tile the dim); its position
(``return_indices=True``) is a flat index into the input plane (``row·W + column``), as PyTorch's.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from .. import sliding
from ..autograd import note_unreplayable
from ..functions import cat
from ..tensor import Tensor
from .pooling import (
    AdaptiveAvgPool2d,
    _adaptive_size,
    _floating,
    _one_row,
    _row,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)


def adaptive_max_pooling(input: Tensor, output_size: Any, return_indices: bool, dims: int) -> Any:
    """The maximum of each adaptive window (rows ``[⌊iH/H′⌋, ⌈(i+1)H/H′⌉)``, columns (and depths) likewise), made
    of ``amax`` over slices: the gradient goes to the maximum (shared between ties, where PyTorch picks one).
    ``return_indices=True``: ``(out, indices)``, each window's first maximum as a flat position in its plane."""
    name = f"adaptive_max_pool{dims}d"
    x, had_batch = _floating(input, name, dims)
    wanted = _adaptive_size(x, output_size, name, dims)
    ranges = [sliding.adaptive_ranges(size, out) for size, out in zip(x.shape[2:], wanted)]
    if all(size % out == 0 for size, out in zip(x.shape[2:], wanted)):
        # every window has the same size k = n/o and they tile the dim: split each dim into (o, k), bring the
        # k's to the front (a row-major copy, so the maximum runs over whole planes, not over runs of k entries)
        # and take amax over them: the same maxima (and ties) as the slices below, in one op
        split = [part for size, out in zip(x.shape[2:], wanted) for part in (out, size // out)]
        window_dims = tuple(range(3, 3 + 2 * dims, 2))
        rest = tuple(d for d in range(2 + 2 * dims) if d not in window_dims)
        out = x.reshape(*x.shape[:2], *split).permute(*window_dims, *rest).contiguous().amax(tuple(range(dims)))
    else:
        out = _uneven_windows_maximum(x, ranges, wanted)
    if not return_indices:
        return out if had_batch else out.squeeze(0)
    note_unreplayable("adaptive max pooling's return_indices finds the positions outside the ops a replay repeats")
    indices = np.empty(out.shape, dtype=np.int64)
    for place, window in zip(itertools.product(*map(range, wanted)), itertools.product(*ranges)):
        part = x.array[(slice(None), slice(None), *(slice(start, end) for start, end in window))]
        local = np.unravel_index(part.reshape(*x.shape[:2], math.prod(part.shape[2:])).argmax(-1), part.shape[2:])
        indices[(..., *place)] = np.ravel_multi_index([at + start for at, (start, _) in zip(local, window)],
                                                      x.shape[2:])
    return (out, Tensor._wrap(np.array(indices))) if had_batch else (out.squeeze(0), Tensor._wrap(np.array(indices[0])))


def _uneven_windows_maximum(x: Tensor, ranges: list[list[tuple[int, int]]], wanted: tuple[int, ...]) -> Tensor:
    """The maximum of each window where they differ in size: the windows of one size along every dim are read at
    once (an index array per dim, (windows, size): a window is one row of the read) and take one ``amax``; the
    groups' maxima (one per combination of sizes, at most 2 sizes a dim) are put back in the windows' order.
    The same maxima, and ties split within each window, as one ``amax`` per window."""
    dims = len(wanted)
    by_size = []  # per dim: [(size, [window numbers])] (a dim has windows of at most two sizes)
    for windows in ranges:
        sizes: dict[int, list[int]] = {}
        for number, (start, end) in enumerate(windows):
            sizes.setdefault(end - start, []).append(number)
        by_size.append(list(sizes.items()))
    groups, order = [], []
    for combination in itertools.product(*by_size):
        index = []
        for d, (size, numbers) in enumerate(combination):
            starts = np.array([ranges[d][number][0] for number in numbers])
            place = [1] * 2 * dims
            place[d], place[dims + d] = len(numbers), size  # windows on dim d of the read, sizes on dim dims + d
            index.append((starts[:, None] + np.arange(size)).reshape(place))
        block = x[(slice(None), slice(None), *index)]  # (N, C, windows₁, windows₂, …, size₁, size₂, …)
        windows = math.prod(block.shape[2:2 + dims])
        entries = math.prod(block.shape[2 + dims:])  # (written out: N may be 0)
        groups.append(block.reshape(*x.shape[:2], windows, entries).amax(-1))  # each window's entries, one row
        numbers = np.ravel_multi_index(np.meshgrid(*(numbers for _, numbers in combination), indexing="ij"),
                                       wanted)
        order.append(numbers.reshape(-1))
    joined = cat(groups, -1) if len(groups) > 1 else groups[0]
    return joined[:, :, np.argsort(np.concatenate(order))].reshape(*x.shape[:2], *wanted)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """The maximum of each adaptive window of (N, C, H, W) (see :func:`adaptive_max_pooling`)."""
    return adaptive_max_pooling(input, output_size, return_indices, 2)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """The maximum of each adaptive window of (N, C, D, H, W) (see :func:`adaptive_max_pooling`)."""
    return adaptive_max_pooling(input, output_size, return_indices, 3)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """The maximum of each adaptive window of the last dim (``return_indices=True``: and its position)."""
    pooled = adaptive_max_pool2d(_one_row(input, "adaptive_max_pool1d"), _row(output_size, 1), return_indices)
    return tuple(part.squeeze(-2) for part in pooled) if return_indices else pooled.squeeze(-2)


class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    """Max pooling to a fixed ``output_size`` whatever the input's size."""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = bool(return_indices)

    def forward(self, input: Tensor) -> Any:
        return adaptive_max_pooling(input, self.output_size, self.return_indices, self.dims)

    def config(self) -> dict[str, Any]:
        return super().config() | {"return_indices": self.return_indices}


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """Max pooling of the last dim to ``output_size`` entries."""

    def forward(self, input: Tensor) -> Any:
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """Max pooling of volumes (N, C, D, H, W) to a fixed ``output_size``."""

    dims = 3


# --- PyTorch's spellings that always return the indices (their return_indices argument is ignored) -----------

def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = True) -> tuple[Tensor, Tensor]:
    """``max_pool1d(…, return_indices=True)``: the maxima and their positions."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = True) -> tuple[Tensor, Tensor]:
    """``max_pool2d(…, return_indices=True)``: the maxima and their flat positions in their planes."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = True) -> tuple[Tensor, Tensor]:
    """``max_pool3d(…, return_indices=True)``: the maxima and their flat positions in their volumes."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = True) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool1d(…, return_indices=True)``."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = True) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool2d(…, return_indices=True)``."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = True) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool3d(…, return_indices=True)``."""
    return adaptive_max_pool3d(input, output_size, True)
