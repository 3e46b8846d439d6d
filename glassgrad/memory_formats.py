"""PyTorch's memory formats (``torch.preserve_format``, ``torch.contiguous_format``, ``torch.channels_last``, …).

A memory format says in which order a tensor's entries sit in memory (its strides), never what the
entries are. Every tensor made in a format (``x.contiguous``, ``x.to``, ``x.clone``, ``gg.empty``, the ``*_like``
factories, ``Module.to``) gets PyTorch's strides: ``torch.channels_last`` lays (N, C, H, W) out N, H, W, C
row-major (strides (HWC, 1, WC, C)); ``torch.preserve_format`` (the default of ``clone``, ``to`` and ``*_like``)
keeps the strides of a tensor whose entries sit with no gaps and no overlaps, and else the order of its strides;
``x.is_contiguous(memory_format=...)`` reads the strides by PyTorch's rule. Ops keep what NumPy keeps: an
elementwise op of a channels-last tensor is channels-last (NumPy's ``order='K'``), as in PyTorch; of operands in
different orders, NumPy's result is row-major where one operand is (PyTorch's takes the first operand's order, a
deliberate difference: the README's); convolutions,
batch and group norm, pooling and interpolation keep a channels-last input's layout where PyTorch's CPU kernels do
(:func:`kept_channels_last`).

>>> import glassgrad as gg
>>> gg.zeros_like(gg.ones(2, 3), memory_format=gg.preserve_format).shape
Size([2, 3])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


class memory_format:  # noqa: N801 (PyTorch's name: torch.memory_format)
    """One of PyTorch's memory formats, printed as ``torch.<name>``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


preserve_format = memory_format("preserve_format")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


_RANKS = {"channels_last": 4, "channels_last_3d": 5}
"""The number of dims a tensor needs for each channels-last format: (N, C, H, W) and (N, C, D, H, W)."""

_ORDERS = {"channels_last": (1, 3, 2, 0), "channels_last_3d": (1, 4, 3, 2, 0)}
"""The dims of each channels-last format from the innermost in memory out: C, W, H, N (and D before N)."""


def row_major(shape: tuple) -> tuple:
    """PyTorch's row-major strides (in entries) for ``shape``, a size of 0 counted as 1: (2, 0, 3) → (3, 3, 1)."""
    return tuple(math.prod(max(n, 1) for n in shape[d + 1:]) for d in range(len(shape)))


def strides_of(array: np.ndarray) -> tuple:
    """The strides (in entries) PyTorch would give the tensor of ``array``: NumPy's, except for a flipped view
    (negative strides, which PyTorch never makes: its ``flip`` copies), which counts as the row-major copy PyTorch
    would hold, and an array with no entries made by NumPy (its strides all 0), which counts as row-major."""
    steps = array.strides
    if any(step < 0 for step in steps) or (array.size == 0 and not any(steps)):
        return row_major(array.shape)
    return tuple(step // array.itemsize for step in steps)


def dims_inner_first(memory_format: Any, ndim: int) -> tuple[int, ...] | None:
    """The dims of an ``ndim``-dim tensor laid out in ``memory_format``, innermost first: row-major's last to
    first for None, ``contiguous_format`` and ``preserve_format`` (as PyTorch's ``is_contiguous`` reads them); None
    for a channels-last format of another rank, in which no tensor is laid out."""
    if memory_format is None or memory_format.name not in _ORDERS:
        return tuple(reversed(range(ndim)))
    return _ORDERS[memory_format.name] if ndim == _RANKS[memory_format.name] else None


def dense_in_order(shape: tuple, strides: tuple, dims: tuple[int, ...] | None) -> bool:
    """Whether entries of ``shape`` with ``strides`` (in entries) sit with no gaps, ``dims`` (innermost first)
    stepping 1, then the product of the sizes inside, …; a dim of size 1 may have any stride, as PyTorch's rule has
    it, and a tensor with no entries is row-major whatever its strides (not channels-last: PyTorch checks those)."""
    if dims is None:
        return False
    if 0 in shape and dims == tuple(reversed(range(len(shape)))):
        return True
    expected = 1
    for dim in dims:
        if shape[dim] != 1 and strides[dim] != expected:
            return False
        expected *= shape[dim]
    return True


def ordered_strides(shape: tuple, dims: tuple[int, ...]) -> tuple:
    """The strides (in entries) of ``shape`` laid out ``dims`` innermost first, as PyTorch's channels-last strides:
    each dim steps the product of the sizes inside it (a size of 0 counts as 0 here, as there)."""
    strides, expected = [0] * len(shape), 1
    for dim in dims:
        strides[dim] = expected
        expected *= shape[dim]
    return tuple(strides)


def _non_overlapping_and_dense(shape: tuple, strides: tuple) -> bool:
    """PyTorch's ``is_non_overlapping_and_dense``: some order of the dims of size ≥ 2 steps 1, then the product of
    the sizes inside; a tensor with no entries is."""
    if 0 in shape:
        return True
    expected = 1
    for dim in sorted((dim for dim in range(len(shape)) if shape[dim] > 1), key=lambda dim: strides[dim]):
        if strides[dim] != expected:
            return False
        expected *= shape[dim]
    return True


def _dense_strides_like(shape: tuple, strides: tuple) -> tuple:
    """PyTorch's ``infer_dense_strides``: strides with no gaps in the order of ``strides`` (an insertion sort from
    the innermost dim; a stride of 0 keeps its place, and of equal strides the smaller size goes inside)."""
    if len(shape) <= 1:
        return (1,) * len(shape)
    order = list(reversed(range(len(shape))))  # innermost first
    for i in range(1, len(order)):
        at = i
        for before in range(i - 1, -1, -1):
            a, b = order[before], order[at]
            if strides[a] == 0 or strides[b] == 0:  # ambiguous: no swap, look further in
                continue
            if strides[a] < strides[b]:
                break
            if strides[a] > strides[b] or shape[a] > shape[b]:
                order[before], order[at] = b, a
                at = before
    result, expected = [0] * len(shape), 1
    for dim in order:
        result[dim] = expected
        expected *= max(shape[dim], 1)
    return tuple(result)


def _like_channels_last(shape: tuple, strides: tuple, dims: tuple[int, ...]) -> bool:
    """PyTorch's ``is_channels_last_strides_2d`` (``_3d``): whether the strides grow along ``dims`` (innermost
    first), ambiguous cases (a channel stride of 0, N's stride equal to C's, a dim of size 0) read as row-major."""
    if strides[1] == 0:
        return False
    least = 0
    for dim in dims:
        if shape[dim] == 0 or strides[dim] < least or (dim == 0 and least == strides[1]):
            return False
        least = strides[dim] * (shape[dim] if shape[dim] > 1 else 1)
    return True


def suggested(shape: tuple, strides: tuple) -> str:
    """PyTorch's ``suggest_memory_format``: the name of the format a tensor's strides look like."""
    for name, rank in _RANKS.items():
        if len(shape) == rank and _like_channels_last(shape, strides, _ORDERS[name]):
            return name
    return "contiguous_format"


_BY_NAME = {"channels_last": channels_last, "channels_last_3d": channels_last_3d}


def channels_last_of(*arrays: np.ndarray) -> memory_format | None:
    """The channels-last format the first of ``arrays`` (a kernel's input, a convolution's weight) that looks laid
    out in one has (PyTorch's ``suggest_memory_format``), else None. A row-major array with no dim of size 1 after
    its first is no such array: the hot path costs no more than this test."""
    for array in arrays:
        if array.ndim in (4, 5) and not (array.flags.c_contiguous and 1 not in array.shape[1:]):
            name = suggested(array.shape, strides_of(array))
            if name != "contiguous_format":
                return _BY_NAME[name]
    return None


def kept_channels_last(out: Any, *sources: Any) -> Any:
    """``out`` (a tensor), laid out channels-last where one of ``sources`` (tensors of its rank) is: what PyTorch's
    CPU kernels of convolution, batch and group norm, 2-d pooling and interpolation give (their output is
    ``empty(..., memory_format=input.suggest_memory_format())``). The copy stays in the graph (the gradient flows
    back unchanged) and gives the same numbers."""
    fmt = channels_last_of(*(source.array for source in sources if source is not None and source.ndim == out.ndim))
    if fmt is None or strides_of(out.array) == ordered_strides(out.array.shape, _ORDERS[fmt.name]):
        return out
    return out.clone(fmt)  # (a dim of size 1 may step anything in a channels-last tensor: PyTorch's strides here)


def new_strides(shape: tuple, strides: tuple, memory_format: Any) -> tuple:
    """The strides (in entries) PyTorch gives a new tensor like one of ``shape`` and ``strides`` in
    ``memory_format`` (None: ``preserve_format``, the default of ``clone``, ``to`` and the ``*_like`` factories)."""
    if memory_format is None or memory_format is preserve_format:
        return strides if _non_overlapping_and_dense(shape, strides) else _dense_strides_like(shape, strides)
    if memory_format.name in _ORDERS:
        return ordered_strides(shape, _ORDERS[memory_format.name])
    return row_major(shape)


def copy_strides(array: np.ndarray, memory_format: Any) -> tuple | None:
    """The strides of a copy of ``array`` in ``memory_format``, or None where NumPy's own copy has them (a row-major
    array with no dim of size 1 stays row-major: the hot path costs no more than this test)."""
    if array.size and array.flags.c_contiguous and 1 not in array.shape and (
            memory_format is None or memory_format.name not in _ORDERS):
        return None
    return new_strides(array.shape, strides_of(array), memory_format)


def astype_in_order(array: np.ndarray, dtype: Any, strides: tuple | None = None) -> np.ndarray:
    """A new array of ``array``'s entries in ``dtype``, with ``strides`` (in entries; ones with no gaps or
    overlaps) or, None, in ``array``'s order (NumPy's ``order='K'``; an expanded array's, strides 0, row-major)."""
    if strides is None:
        return array.astype(dtype, order="C" if 0 in array.strides else "K")
    dtype = np.dtype(dtype)
    out = np.lib.stride_tricks.as_strided(np.empty(array.size, dtype), array.shape,
                                          tuple(step * dtype.itemsize for step in strides))
    out[...] = array
    return out


def check_memory_format(value: Any, where: str, ndim: int | None = None) -> None:
    """Accept ``None`` or a memory format (every one gives the same numbers here); refuse anything else, and, for
    a tensor of ``ndim`` dims, a channels-last format it has not the dims for (as PyTorch refuses it)."""
    if value is not None and not isinstance(value, memory_format):
        raise TypeError(f"{where}: memory_format must be one of torch.preserve_format, torch.contiguous_format, "
                        f"torch.channels_last, torch.channels_last_3d, not {value!r}")
    rank = _RANKS.get(value.name) if value is not None else None
    if rank is not None and ndim is not None and ndim != rank:
        raise RuntimeError(f"{where}: required rank {rank} tensor to use {value.name} format, got {ndim} dims; use "
                           "torch.contiguous_format (or leave memory_format out) for this tensor")
