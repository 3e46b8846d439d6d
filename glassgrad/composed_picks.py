"""PyTorch's functions that pick or write entries by position, made of other ops (no rule of their own).

* ``kthvalue(x, k, dim)``: the k-th smallest along ``dim`` and where it is, a ``gather`` at that position
  (its gradient goes to that entry);
* ``index_copy(x, dim, index, source)``: ``source``'s slices written at positions ``index`` along ``dim``:
  a ``scatter`` (the overwritten entries of ``x`` get no gradient; a repeated index: the last write wins);
* ``masked_scatter(x, mask, source)``: the entries where ``mask`` is true taken, in order, from ``source``:
  a ``scatter`` into the flat tensor (``source``'s unused entries get no gradient);
* ``index_put(x, indices, values, accumulate)``: ``x[indices] = values`` (or ``+=``, repeats adding up,
  with ``accumulate=True``) on a copy: a ``scatter`` or ``scatter_add`` into the flat tensor;
* ``scatter_reduce(x, dim, index, src, reduce, include_self)``: each entry of ``x`` and the ``src`` entries
  scattered onto it laid out in one row of a table (a ``scatter``), then the row reduced with ``sum``, ``prod``,
  ``amax``, ``amin`` or its mean: the gradients are those of the reductions (``amax`` shares it among ties; as in
  PyTorch, with ``include_self=False`` an entry equal to the result counts among the ties, its share dropped).

Each has its in-place form (``x.index_copy_(…)``, ``x.index_put_(…)``…): the op, then ``copy_`` into ``x``.

>>> import glassgrad as gg
>>> gg.kthvalue(gg.tensor([3.0, 1.0, 2.0]), 2)
return_types.kthvalue(
values=tensor(2.),
indices=tensor(2))
>>> gg.zeros(3).index_put_((gg.tensor([0, 2]),), gg.tensor([5.0, 7.0])).tolist()
[5.0, 0.0, 7.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import return_types
from .arguments import check_dim, shape_text
from .autograd import SIZED_BY_VALUES, note_unreplayable, recorded_call
from .composed import _index_places, _method, _plain_tensor
from .creation import as_tensor
from .functions import cat, where
from .ops import index_words
from .tensor import Tensor
from .tensor_indexing import _along_index, _check_index_range, _source, with_mask
from .tensor_methods import _in_place_form, _plain


@_method
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> return_types.kthvalue:
    """The ``k``-th smallest entry along ``dim`` (k counts from 1) and its index; the gradient goes to it."""
    x = as_tensor(input)
    axis = check_dim(x, dim, "kthvalue")  # 0 for a 0-d tensor's dim 0 or -1
    values = x.reshape(1) if x.ndim == 0 else x
    size = values.shape[axis]
    if size == 0:  # nothing to pick: PyTorch's IndexError, whatever k is
        raise IndexError(f"kthvalue: dim {dim} of the tensor of shape {shape_text(x.shape)} has size 0, so it has no "
                         "k-th smallest entry; take it over a dim of non-zero size")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= size:
        raise RuntimeError(f"kthvalue: k={k!r} is out of range for dim {dim} of size {size}; give 1 <= k <= {size}")
    order = np.argsort(values.array, axis=axis, kind="stable")
    picked = np.take(order, [k - 1], axis=axis)
    found, indices = values.gather(axis, _plain_tensor(picked)), _plain_tensor(picked.astype(np.int64))
    if not keepdim or x.ndim == 0:
        found, indices = found.squeeze(axis), indices.squeeze(axis)
    return return_types.kthvalue(found, indices)


@_method
def index_copy(input: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """A copy with ``source``'s slices along ``dim`` written at the positions ``index`` (the last write wins
    where an index repeats)."""
    x, src = as_tensor(input), as_tensor(source)
    axis = check_dim(x, dim, "index_copy")
    places = np.asarray(_plain(index))
    if places.ndim > 1 or places.dtype.kind not in "iu":  # PyTorch's classes: IndexError for the shape
        raise (IndexError if places.ndim > 1 else RuntimeError)(
            f"index_copy: index must be a 1-D tensor of integers, got shape {shape_text(places.shape)} of "
            f"{places.dtype}")
    expected = tuple(x.shape[:axis]) + (places.size,) + tuple(x.shape[axis + 1:]) if x.ndim else (places.size,)
    if src.ndim == 0 and expected == (1,):  # one entry written by a 0-d index, as in PyTorch
        src = src.reshape(1)
    if tuple(src.shape) != expected:
        raise RuntimeError(f"index_copy: source must have shape {shape_text(expected)} (input's, with "
                           f"{places.size} entries along dim {dim}), got {shape_text(src.shape)}")
    _check_index_range(places, x.shape[axis] if x.ndim else 1, "index_copy", axis, IndexError)
    return x.scatter(axis, recorded_call(_index_places, places, axis, tuple(src.shape)), src)


@_method
def masked_scatter(input: Tensor, mask: Any, source: Tensor) -> Tensor:
    """A copy whose entries where ``mask`` is true (the input and ``mask`` broadcast together) are ``source``'s
    first entries, in row-major order."""
    x, chosen = with_mask(as_tensor(input), mask, "masked_scatter")
    src = as_tensor(source)
    places = np.flatnonzero(np.broadcast_to(chosen, tuple(x.shape)))
    note_unreplayable("masked_scatter: how many of source's entries it reads depends on the mask's values, which a "
                      "replay would take as they were")  # the captures' count and places: other numbers, no word
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
    if any(pick.dtype.kind == "b" for pick in picks):
        note_unreplayable(SIZED_BY_VALUES.format(name="index_put with a boolean mask"))
    places = recorded_call(_flat_places, tuple(x.shape), picks)
    given = x.new_tensor(values) if not isinstance(values, Tensor) else values
    try:
        spread = given.expand(places.shape).reshape(-1)
    except RuntimeError:
        raise RuntimeError(f"index_put: values of shape {shape_text(given.shape)} do not broadcast to the "
                           f"{shape_text(places.shape)} entries the indices pick") from None
    flat, places = x.reshape(-1), recorded_call(np.ravel, places)
    placed = flat.scatter_add(0, places, spread) if accumulate else flat.scatter(0, places, spread)
    return placed.reshape(tuple(x.shape))


def _flat_places(shape: tuple, picks: tuple) -> np.ndarray:
    """The positions ``x[picks]`` reads in the flat entries of a tensor of ``shape``: a kernel of a compiled step, so
    that a replay follows each call's indices (and names an index past the end as eager does)."""
    try:
        return np.arange(int(np.prod(shape))).reshape(shape)[picks]
    except IndexError as error:
        raise IndexError(f"index_put: {index_words(error)} (input of shape {shape_text(shape)})") from None


REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _slots(index: np.ndarray, axis: int, shape: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each index entry lands in the flat input, its turn among the entries landing there (0, 1, …), and how
    many land on each entry of the input."""
    coordinates = list(np.indices(index.shape))
    coordinates[axis] = index
    target = np.ravel_multi_index(tuple(coordinates), shape).reshape(-1) if index.size else np.zeros(0, np.int64)
    order = np.argsort(target, kind="stable")
    ranked = target[order]
    first = np.r_[True, ranked[1:] != ranked[:-1]] if ranked.size else np.zeros(0, bool)
    group_start = np.maximum.accumulate(np.where(first, np.arange(ranked.size), 0)) if ranked.size else ranked
    turn = np.empty_like(target)
    turn[order] = np.arange(ranked.size) - group_start
    return target, turn, np.bincount(target, minlength=int(np.prod(shape)))


def _fill(reduce: str, dtype: np.dtype) -> Any:
    """The value that changes nothing in the reduction (0 for a sum, 1 for a product, the lowest for a max)."""
    if reduce in ("sum", "mean", "prod"):
        return int(reduce == "prod")
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dtype.kind == "b":
        return reduce == "amin"
    return np.iinfo(dtype).min if reduce == "amax" else np.iinfo(dtype).max


def _without_padding_ties(table: Tensor, reduce: str, own: np.ndarray, landed: np.ndarray) -> Tensor:
    """Each row of ``table`` reduced; a row of ``amax`` (``amin``) whose cells are all −∞ (+∞) ties with its padding
    (the fill value, past the cells that landed on the row), so there the gradient is shared among the row's own
    cells alone: their mean (the same ∓∞), as PyTorch shares it."""
    reduced = getattr(table, reduce)(1)
    if reduce not in ("amax", "amin") or table.array.dtype.kind != "f":
        return reduced
    cells = np.concatenate([own, np.arange(1, table.shape[1]) <= landed[:, None]], axis=1)
    padded = (reduced.array == _fill(reduce, table.array.dtype)) & ~cells.all(axis=1) & (landed > 0)
    if not padded.any():
        return reduced
    counted = cells.sum(axis=1).astype(table.array.dtype)
    mean = where(_plain_tensor(cells), table, 0.0).sum(1) / table.new_tensor(np.maximum(counted, 1))
    return where(_plain_tensor(padded), mean, reduced)


@_method
def scatter_reduce(input: Tensor, dim: int, index: Any, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy where each entry reduced with the ``src`` entries scattered onto it (``out[i][index[i][j]]`` gathers
    ``src[i][j]`` for dim 1): ``reduce`` is ``'sum'``, ``'prod'``, ``'mean'``, ``'amax'`` or ``'amin'``; with
    ``include_self=False`` the entry's own value leaves the reduction (an entry nothing lands on is kept)."""
    x = as_tensor(input)
    if reduce not in REDUCTIONS:
        raise RuntimeError(f"scatter_reduce: reduce must be one of {', '.join(map(repr, REDUCTIONS))}, got {reduce!r}")
    axis, index = _along_index(x, dim, index, "scatter_reduce")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce: src must be a tensor, got {type(src).__name__}")
    src = _source(x, src, None, index, "scatter_reduce")
    if min(x.ndim, index.ndim, src.ndim) == 0:
        return scatter_reduce(x.reshape(-1), 0, index.reshape(-1), src.reshape(-1), reduce,
                              include_self=include_self).reshape(x.shape)
    used = src[tuple(slice(0, n) for n in index.shape)] if src.shape != index.shape else src
    target, turn, landed = _slots(index, axis, tuple(x.shape) or (1,))
    width = 1 + int(landed.max(initial=0))  # column 0: the entry itself, then what lands on it
    flat = x.reshape(-1, 1)
    blank = x.new_tensor(np.full((flat.shape[0], width), _fill(reduce, x.array.dtype), dtype=x.array.dtype))
    table = cat([flat, blank[:, 1:]], dim=1) if include_self else blank
    table = table.reshape(-1).scatter(0, target * width + turn + 1, used.reshape(-1)).reshape(-1, width)
    own = np.full((flat.shape[0], 1), include_self)  # whether column 0 (the entry itself) is one of the row's cells
    if not include_self and reduce in ("amax", "amin"):
        # as PyTorch: an entry left out that equals the result still counts among the ties sharing the gradient
        # (its own share is dropped), so it joins the table as a constant
        own = flat.array == getattr(np, reduce)(table.array, axis=1, keepdims=True)
        table = cat([where(_plain_tensor(own), flat.detach(), table[:, :1]), table[:, 1:]], dim=1)
    if reduce == "mean":
        counts = x.new_tensor(np.maximum(landed + include_self, 1).astype(x.array.dtype))
        reduced = table.sum(1) / counts if x.array.dtype.kind == "f" else table.sum(1) // counts
    else:
        reduced = _without_padding_ties(table, reduce, own, landed)
    reduced = reduced.to(x.dtype)  # in the input's dtype, as PyTorch (an integer sum of the table is int64)
    return where(_plain_tensor(landed > 0), reduced, flat.reshape(-1)).reshape(tuple(x.shape))


for _name in ("index_copy", "masked_scatter", "index_put", "scatter_reduce"):
    _in_place_form(_name)
