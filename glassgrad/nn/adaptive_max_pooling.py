"""Adaptive max pooling (``adaptive_max_pool1d/2d/3d``, ``AdaptiveMaxPool1d/2d/3d``) and PyTorch's spellings of the
max pools that always return the maxima's positions (``max_pool2d_with_indices``, …).

Adaptive pooling chooses its windows so the output has ``output_size`` entries per dim: window ``i`` of a dim of
size ``n`` covers ``[⌊i·n/o⌋, ⌈(i+1)·n/o⌉)``. Each window's maximum is found where PyTorch's kernel finds it (the
first maximum in row-major order on a tie, the last NaN if it holds one: :func:`glassgrad.sliding.first_maximum`),
as a flat position in the input plane (``row·W + column``, what ``return_indices=True`` gives), and the output
reads the input there (a ``gather``, the row ``window_maxima``, whose gradient stays in the input's
graph as PyTorch's does): so the gradient goes to that one entry, as in PyTorch.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from .. import sliding
from ..autograd import recorded_call
from ..memory_formats import kept_channels_last
from ..ops_index import WINDOW_MAXIMA
from ..tensor import Tensor, apply
from .pooling import (
    AdaptiveAvgPool2d,
    _adaptive_size,
    _floating,
    _one_row,
    _row,
    check_planes,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    pooled_with_indices,
)


def adaptive_max_pooling(input: Tensor, output_size: Any, return_indices: bool, dims: int) -> Any:
    """The maximum of each adaptive window (rows ``[⌊iH/H′⌋, ⌈(i+1)H/H′⌉)``, columns (and depths) likewise), read
    from the input at its position (the gradient goes there: on a tie, to the first maximum, as in PyTorch).
    ``return_indices=True``: ``(out, indices)``, those positions as flat indices into each plane."""
    name = f"adaptive_max_pool{dims}d"
    x, had_batch = _floating(input, name, dims)
    wanted = _adaptive_size(x, output_size, name, dims)
    if had_batch:  # an unbatched input's channels are PyTorch's batch here: they may be empty
        check_planes(name, x.shape)
    ranges = tuple(tuple(sliding.adaptive_ranges(size, out)) for size, out in zip(x.shape[2:], wanted))
    rows = recorded_call(maximum_positions, x.array, ranges)  # one kernel of a compiled step
    planes = x.reshape(*x.shape[:2], math.prod(x.shape[2:]))
    # a gather whose gradient stays in x's graph, as PyTorch's adaptive_max_pool2d_backward: differentiable again
    out = apply(WINDOW_MAXIMA, (planes,), planes.array, 2, rows).reshape(*x.shape[:2], *wanted)
    kept = x if dims == 2 else None  # PyTorch's 3-d kernel's output is row-major, as this reshape's
    if not return_indices:
        return kept_channels_last(out, kept) if had_batch else out.squeeze(0)
    indices = Tensor._wrap(recorded_call(_positions, rows, out.shape))  # a kernel: a replay remakes them
    return pooled_with_indices(kept, out, indices, had_batch)



def _positions(rows: np.ndarray, shape: tuple) -> np.ndarray:
    """The positions :func:`maximum_positions` found, in the output's shape (what ``return_indices`` gives)."""
    return rows.reshape(shape).copy()


def maximum_positions(x: np.ndarray, ranges: tuple[tuple[tuple[int, int], ...], ...]) -> np.ndarray:
    """Each adaptive window's maximum as a flat position in its (N, C) plane, the windows in row-major order in one
    row per plane (what ``gather`` reads): ``(N, C, windows)`` int64.

    The windows of one size along every dim are read at once (an index array per dim, (windows, size): a window
    is one row of the read) and scanned as PyTorch scans them (:func:`glassgrad.sliding.first_maximum`); a dim has
    windows of at most two sizes, so there are at most 2^dims such reads.
    """
    dims = len(ranges)
    planes, sizes = x.shape[:2], x.shape[2:]
    positions = np.empty(planes + tuple(len(windows) for windows in ranges), dtype=np.int64)
    by_size = []  # per dim: [(size, [window numbers])]
    for windows in ranges:
        grouped: dict[int, list[int]] = {}
        for number, (start, end) in enumerate(windows):
            grouped.setdefault(end - start, []).append(number)
        by_size.append(list(grouped.items()))
    for combination in itertools.product(*by_size):
        index, starts = [], []
        for d, (size, numbers) in enumerate(combination):
            first = np.array([ranges[d][number][0] for number in numbers])
            place = [1] * 2 * dims
            place[d], place[dims + d] = len(numbers), size  # windows on dim d of the read, sizes on dim dims + d
            index.append((first[:, None] + np.arange(size)).reshape(place))
            starts.append(first.reshape([-1 if e == d else 1 for e in range(dims)]))
        block = x[(slice(None), slice(None), *index)]  # (N, C, windows₁, windows₂, …, size₁, size₂, …)
        window_shape = block.shape[2 + dims:]
        local = sliding.first_maximum(block.reshape(*block.shape[:2 + dims], math.prod(window_shape)))
        flat: Any = 0
        for d, offset in enumerate(np.unravel_index(local, window_shape)):
            flat = flat * sizes[d] + starts[d] + offset
        positions[(slice(None), slice(None), *np.ix_(*(numbers for _, numbers in combination)))] = flat
    return positions.reshape(*planes, math.prod(positions.shape[2:]))


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """The maximum of each adaptive window of (N, C, H, W) (see :func:`adaptive_max_pooling`)."""
    return adaptive_max_pooling(input, output_size, return_indices, 2)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """The maximum of each adaptive window of (N, C, D, H, W) (see :func:`adaptive_max_pooling`)."""
    return adaptive_max_pooling(input, output_size, return_indices, 3)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """The maximum of each adaptive window of the last dim (``return_indices=True``: and its position)."""
    owner = "adaptive_max_pool1d"
    pooled = adaptive_max_pool2d(_one_row(input, owner), _row(output_size, 1, "output_size", owner, least=0),
                                 return_indices)
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
