"""PyTorch's functions that pick or write entries by position, made of other ops (no rule of their own).

* ``kthvalue(x, k, dim)``: the k-th smallest along ``dim`` and where it is, a ``gather`` at that position
  (its gradient goes to that entry);
* ``index_copy(x, dim, index, source)``: ``source``'s slices written at positions ``index`` along ``dim``:
  a ``scatter`` (the overwritten entries of ``x`` get no gradient; a repeated index: the last write wins);
* ``masked_scatter(x, mask, source)``: the entries where ``mask`` is true taken, in order, from ``source``:
  a ``scatter`` into the flat tensor (``source``'s unused entries get no gradient);
* ``index_put(x, indices, values, accumulate)``: ``x[indices] = values`` (or ``+=``, repeats adding up,
  with ``accumulate=True``) on a copy: a ``scatter`` or ``scatter_add`` into the flat tensor.

Each has its in-place form (``x.index_copy_(…)``, ``x.index_put_(…)``…): the op, then ``copy_`` into ``x``.

>>> import glassgrad as gg
>>> gg.kthvalue(gg.tensor([3.0, 1.0, 2.0]), 2)
Sorted(values=tensor(2.), indices=tensor(2))
>>> gg.zeros(3).index_put_((gg.tensor([0, 2]),), gg.tensor([5.0, 7.0])).tolist()
[5.0, 0.0, 7.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arguments import check_dim, shape_text
from .composed import _method, _plain_tensor
from .creation import as_tensor
from .tensor import Tensor
from .tensor_indexing import Sorted
from .tensor_methods import _in_place_form, _plain


@_method
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Sorted:
    """The ``k``-th smallest entry along ``dim`` (k counts from 1) and its index; the gradient goes to it."""
    x = as_tensor(input)
    axis = check_dim(x, dim, "kthvalue") if x.ndim else 0
    values = x.reshape(1) if x.ndim == 0 else x
    size = values.shape[axis]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= size:
        raise RuntimeError(f"kthvalue: k={k!r} is out of range for dim {dim} of size {size}; give 1 <= k <= {size}")
    order = np.argsort(values.array, axis=axis, kind="stable")
    picked = np.take(order, [k - 1], axis=axis)
    found, indices = values.gather(axis, _plain_tensor(picked)), _plain_tensor(picked.astype(np.int64))
    if not keepdim or x.ndim == 0:
        found, indices = found.squeeze(axis), indices.squeeze(axis)
    return Sorted(found, indices)


@_method
def index_copy(input: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """A copy with ``source``'s slices along ``dim`` written at the positions ``index`` (the last write wins
    where an index repeats)."""
    x, src = as_tensor(input), as_tensor(source)
    axis = check_dim(x, dim, "index_copy")
    places = np.asarray(_plain(index))
    if places.ndim > 1 or places.dtype.kind not in "iu":
        raise RuntimeError(f"index_copy: index must be a 1-D tensor of integers, got shape "
                           f"{shape_text(places.shape)} of {places.dtype}")
    expected = tuple(x.shape[:axis]) + (places.size,) + tuple(x.shape[axis + 1:]) if x.ndim else (places.size,)
    if tuple(src.shape) != expected:
        raise RuntimeError(f"index_copy: source must have shape {shape_text(expected)} (input's, with "
                           f"{places.size} entries along dim {dim}), got {shape_text(src.shape)}")
    spread = places.reshape([-1 if d == axis else 1 for d in range(src.ndim)])
    return x.scatter(axis, np.broadcast_to(spread, tuple(src.shape)), src)


@_method
def masked_scatter(input: Tensor, mask: Any, source: Tensor) -> Tensor:
    """A copy whose entries where ``mask`` is true (``mask`` broadcast to the input's shape) are ``source``'s
    first entries, in row-major order."""
    x, src = as_tensor(input), as_tensor(source)
    chosen = np.asarray(_plain(mask))
    if chosen.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter: mask must be a bool tensor, got {chosen.dtype}")
    try:
        chosen = np.broadcast_to(chosen, tuple(x.shape))
    except ValueError:
        raise RuntimeError(f"masked_scatter: the mask's shape {shape_text(chosen.shape)} does not broadcast to "
                           f"the input's {shape_text(x.shape)}") from None
    places = np.flatnonzero(chosen)
    if src.numel() < places.size:
        raise RuntimeError(f"masked_scatter: source has {src.numel()} entries but the mask chooses {places.size}; "
                           "give a source with at least as many")
    return x.reshape(-1).scatter(0, places, src.reshape(-1)[:places.size]).reshape(tuple(x.shape))


@_method
def index_put(input: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """A copy with ``out[indices] = values`` (``indices`` a tuple of index tensors, as ``x[i, j]``); with
    ``accumulate=True`` the values are added, repeated positions adding up."""
    x = as_tensor(input)
    if isinstance(indices, Tensor) or not isinstance(indices, (tuple, list)):
        raise TypeError("index_put: indices must be a tuple of index tensors, e.g. (rows,) or (rows, columns)")
    picks = tuple(np.asarray(_plain(i)) for i in indices)
    for position, pick in enumerate(picks):
        if pick.dtype.kind not in "iub":
            raise IndexError(f"index_put: indices[{position}] must hold integers or bools, got {pick.dtype}")
    try:
        places = np.arange(x.numel()).reshape(tuple(x.shape))[picks]
    except IndexError as error:
        raise IndexError(f"index_put: {error} (input of shape {shape_text(x.shape)})") from None
    given = x.new_tensor(values) if not isinstance(values, Tensor) else values
    try:
        spread = given.expand(*places.shape).reshape(-1)
    except RuntimeError:
        raise RuntimeError(f"index_put: values of shape {shape_text(given.shape)} do not broadcast to the "
                           f"{shape_text(places.shape)} entries the indices pick") from None
    flat = x.reshape(-1)
    placed = flat.scatter_add(0, places.reshape(-1), spread) if accumulate else flat.scatter(0, places.reshape(-1),
                                                                                              spread)
    return placed.reshape(tuple(x.shape))


for _name in ("index_copy", "masked_scatter", "index_put"):
    _in_place_form(_name)
