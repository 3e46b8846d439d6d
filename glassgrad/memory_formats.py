"""PyTorch's memory formats (``torch.preserve_format``, ``torch.contiguous_format``, ``torch.channels_last``, …).

A memory format says in which order a tensor's entries sit in memory (its strides), never what the
entries are. glassgrad's new tensors are row-major NumPy arrays whatever format is asked for, so the
names exist for the code that passes them, as optimizers copied from PyTorch's source do:
``state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)``.

>>> import glassgrad as gg
>>> gg.zeros_like(gg.ones(2, 3), memory_format=gg.preserve_format).shape
Size([2, 3])
"""

from __future__ import annotations

from typing import Any


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
