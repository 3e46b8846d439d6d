"""PyTorch's memory formats (``torch.preserve_format``, ``torch.contiguous_format``, ``torch.channels_last``, …).

A memory format says in which order a tensor's entries sit in memory (its strides), never what the
entries are. ``x.contiguous(memory_format=torch.channels_last)`` lays the entries out as PyTorch's does
(N, H, W, C row-major: strides (HWC, 1, WC, C)), and ``x.is_contiguous(memory_format=...)`` reads the
strides by PyTorch's rule; the other new tensors (``to``, ``clone``, the ``*_like`` factories) are row-major
whatever format is asked for, so the names exist there for the code that passes them, as optimizers copied
from PyTorch's source do: ``state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)``.

>>> import glassgrad as gg
>>> gg.zeros_like(gg.ones(2, 3), memory_format=gg.preserve_format).shape
Size([2, 3])
"""

from __future__ import annotations

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


def dims_inner_first(memory_format: Any, ndim: int) -> tuple[int, ...] | None:
    """The dims of an ``ndim``-dim tensor laid out in ``memory_format``, innermost first: row-major's last to
    first for None, ``contiguous_format`` and ``preserve_format`` (as PyTorch's ``is_contiguous`` reads them); None
    for a channels-last format of another rank, in which no tensor is laid out."""
    if memory_format is None or memory_format.name not in _ORDERS:
        return tuple(reversed(range(ndim)))
    return _ORDERS[memory_format.name] if ndim == _RANKS[memory_format.name] else None


def dense_in_order(shape: tuple, strides: tuple, dims: tuple[int, ...] | None) -> bool:
    """Whether entries of ``shape`` with ``strides`` (in entries) sit with no gaps, ``dims`` (innermost first)
    stepping 1, then the size of those inside, …; a dim of size 1 may have any stride, as PyTorch's rule has it."""
    if dims is None:
        return False
    expected = 1
    for dim in dims:
        if shape[dim] != 1 and strides[dim] != expected:
            return False
        expected *= max(shape[dim], 1)  # as the strides of a tensor with no entries count a size of 0
    return True


def relaid(tensor: Any, dims: tuple[int, ...]) -> Any:
    """A copy of ``tensor`` (in the graph) with its entries in memory in the order ``dims`` (innermost first), as
    PyTorch's ``contiguous(memory_format=torch.channels_last)`` lays them: N, H, W, C row-major for (N, C, H, W)."""
    outer_first = dims[::-1]
    back = tuple(int(dim) for dim in np.argsort(outer_first))
    return tensor.permute(*outer_first).contiguous().permute(*back)


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
