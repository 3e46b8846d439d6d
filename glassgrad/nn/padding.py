"""Padding: ``F.pad`` and the ``…Pad1d/2d/3d`` layers, made of ops that already have rules.

``pad`` lists (before, after) amounts from the last dim backwards, as PyTorch does:
``pad(x, (1, 2))`` adds 1 column before and 2 after; ``(1, 1, 2, 0)`` also adds 2 rows on top.
The modes, for ``x = [a, b, c]`` padded by 2 on each side:

* ``constant``: ``[v, v, a, b, c, v, v]`` (``value``, 0 by default);
* ``reflect``: ``[c, b, a, b, c, b, a]`` (mirrored without repeating the edge);
* ``replicate``: ``[a, a, a, b, c, c, c]`` (the edge repeated);
* ``circular``: ``[b, c, a, b, c, a, b]`` (wrapped around).

``value`` is for ``constant`` alone: another mode given a non-zero one refuses it (RuntimeError), as PyTorch does
(0, the constant default, passes).

A negative amount crops that side instead, in every mode, as in PyTorch: ``reflect`` and ``replicate`` still
mirror or repeat the input's own edge on the other side (``replicate`` of ``[a, b, c]`` by ``(−1, 2)`` is
``[b, c, c, c]``), ``circular`` wraps what is left after the crop. A crop may leave a dim empty, and the result is
then empty, as PyTorch's (except where PyTorch refuses: in ``reflect`` and ``replicate`` mode every padded dim, or
the one dim of 1-d padding, cropped to nothing; in ``circular`` mode, padding before a dim cropped to nothing).

A constant border is joined on with ``cat``; the other modes pick entries (``index_select``; reflect and replicate
with the row ``edge_pad``, the same picks, whose gradient stays in the input's graph as PyTorch's does), so an entry
copied into the border sends its border gradients back to itself (they add up).

>>> import glassgrad as gg
>>> gg.nn.functional.pad(gg.tensor([[1.0, 2.0, 3.0]]), (2, 2), mode="reflect").tolist()
[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np

from ..arguments import float_argument, number_argument, shape_text
from ..creation import as_tensor
from ..functions import cat
from ..ops_index import EDGE_PAD
from ..tensor import Tensor, apply
from .module import Module

MODES = ("constant", "reflect", "replicate", "circular")


def _source_positions(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each position of the padded dim, the input position it copies (reflect, replicate, circular)."""
    if mode == "circular":  # the crop (a negative amount) first, then the wrap around what is kept
        start = max(-before, 0)
        kept = size - start - max(-after, 0)
        return start + np.arange(-max(before, 0), kept + max(after, 0)) % kept
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    period = 2 * (size - 1)  # reflect: …, 2, 1, 0, 1, 2, …, n−1, n−2, …
    folded = np.abs(positions) % period if period else np.zeros_like(positions)
    return np.where(folded < size, folded, period - folded)


def _padded_lengths(x: Tensor, pad: tuple[int, ...]) -> list[int]:
    """The padded dims' lengths after padding, the last dim first (as ``pad`` lists them)."""
    return [x.array.shape[-1 - k] + pad[2 * k] + pad[2 * k + 1] for k in range(len(pad) // 2)]


def _check(x: Tensor, pad: tuple[int, ...], mode: str) -> None:
    if mode not in MODES:
        raise NotImplementedError(f"pad: mode must be one of {', '.join(MODES)}, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise RuntimeError(f"pad: pad must hold a (before, after) pair per padded dim, at most {x.ndim} pairs for "
                           f"an input of shape {shape_text(x.shape)}; got {pad}")
    if mode == "constant":  # a crop may leave nothing of a dim, not less (PyTorch's narrow refuses that)
        for k in range(len(pad) // 2):
            size, before, after = x.array.shape[-1 - k], pad[2 * k], pad[2 * k + 1]
            if size - max(-before, 0) - max(-after, 0) < 0:
                raise RuntimeError(f"pad: amounts {(before, after)} crop more than all of dim {x.ndim - 1 - k} "
                                   f"(size {size}); crop at most {size} in all")
        return
    dims = len(pad) // 2
    if dims > 3 or x.ndim not in (dims + 1, dims + 2):
        raise NotImplementedError(f"pad: mode {mode!r} pads the last 1 to 3 dims of an input with one (unbatched) or "
                                  f"two (batched) dims more, as PyTorch; got {dims} dims to pad for shape "
                                  f"{shape_text(x.shape)} (give 2 amounts for a 2-d or 3-d input, 4 for 3-d or 4-d, "
                                  "6 for 4-d or 5-d)")
    if mode != "circular" and 0 in x.shape[x.ndim - dims - 1:]:  # no edge to mirror or repeat: PyTorch refuses
        raise RuntimeError(f"pad: mode {mode!r} needs every dim but a batch dim non-empty (there is no edge to "
                           f"{'mirror' if mode == 'reflect' else 'repeat'}), got shape {shape_text(x.shape)}; "
                           "pad only inputs with entries")
    lengths = _padded_lengths(x, pad)
    empty = not all(lengths)  # a dim cropped to nothing: the result is empty, as PyTorch's, and reads no entry
    every_dim = not any(lengths) and mode != "circular"  # PyTorch's reflect and replicate refuse to crop them all
    for k, length in enumerate(lengths):
        size, before, after = x.array.shape[-1 - k], pad[2 * k], pad[2 * k + 1]
        kept = size - max(-before, 0) - max(-after, 0)
        # circular padding wraps what the crop kept: of nothing there is nothing to wrap (PyTorch reads memory outside
        # the input there; it refuses padding before a dim cropped to nothing, and a crop past a dim's other end)
        if length < 0 or every_dim or (mode == "circular" and (before > 0 if length == 0 else
                                                               kept < (0 if empty else 1))):
            raise RuntimeError(f"pad: amounts {(before, after)} crop all of dim {x.ndim - 1 - k} (size {size}); "
                               "crop less")
        if mode == "reflect" and max(before, after) >= size:
            raise RuntimeError(f"pad: reflect padding of {max(before, after)} needs a dim longer than that, but dim "
                               f"{x.ndim - 1 - k} has size {size}")
        wrapped = size if empty else kept  # PyTorch checks an empty result's amounts against the input's sizes
        if mode == "circular" and max(before, after) > wrapped:
            raise RuntimeError(f"pad: circular padding of {max(before, after)} wraps more than once around dim "
                               f"{x.ndim - 1 - k} of size {wrapped}{' after the crop' if wrapped < size else ''}")


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """``input`` with borders added to its last ``len(pad) // 2`` dims (see the module docstring)."""
    x = as_tensor(input)
    if value is not None:
        number_argument(value, "pad", "value")
    try:
        amounts = tuple(operator.index(p) for p in pad)  # whole numbers only: int(1.5) would pad by 1
    except TypeError:
        raise TypeError(f"pad: the amounts must be whole numbers (ints), as PyTorch wants, got {tuple(pad)}; "
                        "round them first, e.g. int(round(p))") from None
    _check(x, amounts, mode)
    if mode != "constant" and value:  # PyTorch lets 0 through (the constant default), refuses any other value
        raise RuntimeError(f"pad: mode {mode!r} takes no value (only 'constant' fills with one), got value={value}")
    lengths = _padded_lengths(x, amounts)
    if mode != "constant" and 0 in lengths:  # an empty result: no entry to pick, its gradient 0 for every input entry
        shape = (*x.shape[:x.ndim - len(lengths)], *reversed(lengths))
        return x.index_select(x.ndim - 1 - lengths.index(0), np.arange(0)).reshape(shape)
    for k in range(len(amounts) // 2):
        dim, before, after = x.ndim - 1 - k, amounts[2 * k], amounts[2 * k + 1]
        if mode != "constant":
            positions = np.asarray(_source_positions(x.array.shape[dim], before, after, mode))
            # reflect and replicate are a row of their own, whose gradient stays in x's graph as PyTorch's; the
            # circular pad's leaves it, as PyTorch's (made of slices there too)
            x = x.index_select(dim, positions) if mode == "circular" else apply(EDGE_PAD, (x,), x.array, dim, positions)
            continue
        start, stop = max(-before, 0), x.array.shape[dim] - max(-after, 0)
        if start or stop < x.array.shape[dim]:
            x = x[(slice(None),) * dim + (slice(start, max(stop, start)),)]
        borders = []
        for amount in (before, after):
            shape = list(x.array.shape)
            shape[dim] = max(amount, 0)
            borders.append(x.new_full(tuple(shape), 0.0 if value is None else value))
        x = cat([borders[0], x, borders[1]], dim) if before > 0 or after > 0 else x
    return x


class _Pad(Module):
    mode = "constant"
    dims = 1

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        owner, count = type(self).__name__, 2 * self.dims
        amounts = (padding,) * count if isinstance(padding, Integral) else padding
        if isinstance(amounts, str) or not isinstance(amounts, Sequence) or not all(
                isinstance(amount, Integral) for amount in amounts):  # 2.5 is not truncated to 2
            raise TypeError(f"{owner}: padding must be an int or {count} ints, got {padding!r}")
        if len(amounts) != count:
            raise ValueError(f"{owner}: padding must be an int or {count} ints, got {padding!r}")
        self.padding = tuple(int(amount) for amount in amounts)
        self.value = float_argument(value, type(self).__name__, "value")

    def forward(self, input: Tensor) -> Tensor:
        if self.mode == "circular" and getattr(input, "ndim", None) not in (self.dims + 1, self.dims + 2):
            # PyTorch's CircularPad layers check the input first, ValueError (F.pad itself: NotImplementedError)
            raise ValueError(f"{type(self).__name__}: expected a {self.dims + 1}-D or {self.dims + 2}-D input "
                             f"(unbatched or batched), got shape {shape_text(as_tensor(input).shape)}")
        return pad(input, self.padding, self.mode, self.value if self.mode == "constant" else None)

    def config(self) -> dict[str, Any]:
        return {"padding": list(self.padding), **({"value": self.value} if self.mode == "constant" else {})}


def _layer(name: str, mode: str, dims: int, doc: str) -> type:
    return type(name, (_Pad,), {"mode": mode, "dims": dims, "__doc__": doc, "__module__": __name__})


ConstantPad1d, ConstantPad2d, ConstantPad3d = (
    _layer(f"ConstantPad{d}d", "constant", d, f"Pads the last {d} dim(s) with ``value``.") for d in (1, 2, 3))
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = (
    _layer(f"ReflectionPad{d}d", "reflect", d, f"Pads the last {d} dim(s) with their mirror image.") for d in (1, 2, 3))
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = (
    _layer(f"ReplicationPad{d}d", "replicate", d, f"Pads the last {d} dim(s) by repeating the edge.")
    for d in (1, 2, 3))
CircularPad1d, CircularPad2d, CircularPad3d = (
    _layer(f"CircularPad{d}d", "circular", d, f"Pads the last {d} dim(s) by wrapping around.") for d in (1, 2, 3))


class _ZeroPad(_Pad):
    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def config(self) -> dict[str, Any]:
        return {"padding": list(self.padding)}


ZeroPad1d, ZeroPad2d, ZeroPad3d = (
    type(f"ZeroPad{d}d", (_ZeroPad,), {"dims": d, "__doc__": f"Pads the last {d} dim(s) with zeros.",
                                        "__module__": __name__}) for d in (1, 2, 3))
