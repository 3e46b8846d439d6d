"""Fractional max pooling (Graham, 2014): ``fractional_max_pool2d/3d`` and ``FractionalMaxPool2d/3d``.

Max pooling shrinks a size ``n`` to ``o`` by any factor, not only an integer one: each dim gets ``o`` windows of
``k`` entries whose starts step by ``α = (n − k)/(o − 1)`` on average, placed by one random number ``u ∈ [0, 1)``
per sample, channel and dim (PyTorch's rule, computed in the input's dtype as PyTorch does)::

    start_i = ⌊(i + u)·α⌋ − ⌊u·α⌋   (i < o − 1),      start_{o−1} = n − k

and the output is each window's maximum. It is made of a ``gather`` at the maxima's positions, so its gradient
is ``gather``'s: each output's ∂L goes to the entry it came from. ``_random_samples`` (shape (N, C, dims), values
in [0, 1)) fixes the ``u``; PyTorch reads them per dim in the order (W, H) for 2-d inputs and (T, H, W) for 3-d
ones, and so does glassgrad, so the same samples give the same windows. Every output with ``o + k − 1 ≤ n`` is
taken; PyTorch 2.13's 3-d pool refuses ``o + k − 1 = n`` (where the last window ends at the last entry). As
PyTorch's scan, a tie goes to the window's first maximum and a NaN is the maximum (the last NaN of the window:
its index, and its gradient); an output size of 0 (``⌊n·ratio⌋`` of a small input) gives an empty output.

>>> import glassgrad as gg
>>> x = gg.arange(16.0).reshape(1, 1, 4, 4)
>>> gg.nn.functional.fractional_max_pool2d(x, 2, output_size=2, _random_samples=gg.zeros(1, 1, 2))
tensor([[[[ 5.,  7.],
          [13., 15.]]]])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import sliding
from ..arguments import shape_text
from ..autograd import note_unreplayable
from ..creation import as_tensor, pick_generator
from ..tensor import Tensor
from .conv import batched, input_shapes
from .module import Module
from .module_utils import _ntuple
from .pooling import pool_sizes

SAMPLE_ORDER = {2: (1, 0), 3: (0, 1, 2)}
"""For each spatial dim (in the input's order), which of a sample's numbers places its windows (PyTorch's)."""


def _wanted(size: tuple[int, ...], kernel: tuple[int, ...], output_size: Any, output_ratio: Any, name: str) -> tuple:
    """The output size: ``output_size``, or ``⌊n·ratio⌋`` per dim, checked to leave room for the kernel."""
    dims = len(kernel)
    if (output_size is None) == (output_ratio is None):
        raise ValueError(f"{name}: give exactly one of output_size and output_ratio")
    if output_size is not None:
        wanted = pool_sizes(output_size, dims, "output_size", name, least=0)
    else:
        ratios = (output_ratio,) * dims if isinstance(output_ratio, (int, float)) else tuple(output_ratio)
        if len(ratios) != dims or not all(isinstance(r, (int, float)) and 0 < r < 1 for r in ratios):
            raise ValueError(f"{name}: output_ratio must be a number in (0, 1) or {dims} of them, got {output_ratio!r}")
        wanted = tuple(int(n * r) for n, r in zip(size, ratios))
    if any(o + k - 1 > n for n, k, o in zip(size, kernel, wanted)):  # an output of size 0 is empty, as PyTorch's
        raise RuntimeError(f"{name}: an output of size {wanted} with kernel {kernel} needs an input of at least "
                           f"output + kernel − 1 per dim, got {size}; use a smaller kernel or output")
    return wanted


def _starts(samples: np.ndarray, n: int, o: int, k: int) -> np.ndarray:
    """Each window's first index along one dim of size ``n``: ``⌊(i + u)·α⌋ − ⌊u·α⌋``, the last at ``n − k``."""
    dtype = samples.dtype
    alpha = dtype.type(n - k) / dtype.type(max(o - 1, 1))
    steps = np.arange(o - 1, dtype=dtype)
    inner = ((steps + samples[..., None]) * alpha).astype(np.int64) - (samples * alpha).astype(np.int64)[..., None]
    return np.concatenate([inner, np.full((*samples.shape, 1), n - k, dtype=np.int64)], axis=-1)[..., :o]


def fractional_max_pooling(input: Tensor, kernel_size: Any, output_size: Any, output_ratio: Any,
                           return_indices: bool, random_samples: Any, dims: int) -> Any:
    """The checked call behind :func:`fractional_max_pool2d` and :func:`fractional_max_pool3d`."""
    name = f"fractional_max_pool{dims}d"
    x, had_batch = batched(as_tensor(input), dims, name, input_shapes(dims))
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: needs a floating tensor, got {x.dtype}; convert it with .float()")
    kernel = pool_sizes(kernel_size, dims, "kernel_size", name)
    size = x.shape[2:]
    wanted = _wanted(size, kernel, output_size, output_ratio, name)
    planes = x.shape[:2]
    note_unreplayable("fractional max pooling finds each window's maximum outside the ops a replay repeats")
    if random_samples is None:
        samples = pick_generator(None, None).random((*planes, dims)).astype(x.dtype)
    else:
        samples = as_tensor(random_samples).array.astype(x.dtype)
        if samples.shape != (*planes, dims):
            raise RuntimeError(f"{name}: _random_samples must have shape {shape_text((*planes, dims))} (batch, "
                               f"channels, one per spatial dim), got {shape_text(samples.shape)}")
    # every window's entries as flat positions in their plane: (N, C, *wanted, *kernel)
    flat = np.zeros((*planes, *(1,) * (2 * dims)), dtype=np.int64)
    for dim, (n, o, k) in enumerate(zip(size, wanted, kernel)):
        positions = _starts(samples[..., SAMPLE_ORDER[dims][dim]], n, o, k)[..., None] + np.arange(k)
        shape = [*planes] + [1] * (2 * dims)
        shape[2 + dim], shape[2 + dims + dim] = o, k
        flat = flat * n + positions.reshape(shape)
    flat = flat.reshape(*planes, *wanted, math.prod(kernel))
    windows = math.prod(wanted) * math.prod(kernel)
    values = np.take_along_axis(x.array.reshape(*planes, math.prod(size)), flat.reshape(*planes, windows), -1
                                ).reshape(flat.shape)
    # the first maximum on a tie, the last NaN if the window holds one (PyTorch's scan)
    chosen = np.take_along_axis(flat, sliding.first_maximum(values)[..., None], -1)[..., 0]
    picks = Tensor._wrap(np.array(chosen.reshape(*planes, math.prod(wanted))))
    out = x.flatten(2).gather(2, picks).reshape(*planes, *wanted)
    if not had_batch:
        out, chosen = out.squeeze(0), chosen[0]
    return (out, Tensor._wrap(np.array(chosen))) if return_indices else out


def fractional_max_pool2d(input: Tensor, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Any = None) -> Any:
    """Max pooling of (N, C, H, W) to ``output_size`` (or ``⌊size·output_ratio⌋``) with randomly placed
    ``kernel_size`` windows; ``return_indices=True``: also each maximum's flat position ``row·W + column``."""
    return fractional_max_pooling(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 2)


def fractional_max_pool3d(input: Tensor, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Any = None) -> Any:
    """Max pooling of (N, C, T, H, W) to ``output_size`` (or ``⌊size·output_ratio⌋``) with randomly placed
    ``kernel_size`` windows; ``return_indices=True``: also each maximum's flat position ``(t·H + row)·W + column``."""
    return fractional_max_pooling(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 3)


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = True,
                                       _random_samples: Any = None) -> tuple[Tensor, Tensor]:
    """``fractional_max_pool2d(…, return_indices=True)`` (PyTorch's spelling; ``return_indices`` is ignored)."""
    return fractional_max_pooling(input, kernel_size, output_size, output_ratio, True, _random_samples, 2)


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = True,
                                       _random_samples: Any = None) -> tuple[Tensor, Tensor]:
    """``fractional_max_pool3d(…, return_indices=True)`` (PyTorch's spelling; ``return_indices`` is ignored)."""
    return fractional_max_pooling(input, kernel_size, output_size, output_ratio, True, _random_samples, 3)


class FractionalMaxPool2d(Module):
    """Fractional max pooling of (N, C, H, W) to ``output_size`` or ``output_ratio`` of the input's size, with
    fresh random windows each call (or the fixed ``_random_samples``, kept as a buffer as PyTorch keeps it)."""

    dims = 2

    def __init__(self, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                 return_indices: bool = False, _random_samples: Any = None) -> None:
        super().__init__()
        owner = type(self).__name__
        self.kernel_size = pool_sizes(kernel_size, self.dims, "kernel_size", owner)
        if (output_size is None) == (output_ratio is None):
            raise ValueError(f"{owner}: give exactly one of output_size and output_ratio")
        self.output_size = None if output_size is None else pool_sizes(output_size, self.dims, "output_size", owner,
                                                                              least=0)
        self.output_ratio = None if output_ratio is None else _ntuple(self.dims)(output_ratio)  # as PyTorch keeps it
        self.return_indices = bool(return_indices)
        self.register_buffer("_random_samples", None if _random_samples is None else as_tensor(_random_samples))

    def forward(self, input: Tensor) -> Any:
        return fractional_max_pooling(input, self.kernel_size, self.output_size, self.output_ratio,
                                      self.return_indices, self._random_samples, self.dims)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": list(self.kernel_size),
                "output_size": None if self.output_size is None else list(self.output_size),
                "output_ratio": None if self.output_ratio is None else list(self.output_ratio),
                "return_indices": self.return_indices}


class FractionalMaxPool3d(FractionalMaxPool2d):
    """Fractional max pooling of (N, C, T, H, W) volumes (see :class:`FractionalMaxPool2d`)."""

    dims = 3
