"""PyTorch's picks by rank, made of other ops: quantiles, the median that skips NaN, the most frequent value.

* ``quantile(x, q)``: the entries sorted, ``r = q·(n − 1)`` their rank counting from 0, and the value read
  between the two neighbours ``⌊r⌋`` and ``⌈r⌉``: ``linear`` is ``s[⌊r⌋] + (r − ⌊r⌋)·(s[⌈r⌉] − s[⌊r⌋])``
  (a ``lerp``), ``midpoint`` their mean, ``lower``/``higher``/``nearest`` one of them (``nearest`` rounds
  halves to even, as PyTorch). The sorted values are a ``gather`` of the input, so the gradient goes to the
  two neighbours, weighted ``1 − (r − ⌊r⌋)`` and ``r − ⌊r⌋``; an infinite neighbour gives lerp's limit, ±∞
  (PyTorch's lerp gives ∞ − ∞ = NaN there, even for ``quantile([-inf, 1.0], 0)``). A slice holding a NaN gives NaN;
  ``nanquantile`` counts only the other entries (n is their number; a slice of NaNs alone gives NaN).
* ``nanmedian(x)``: the lower median of the entries that are not NaN (the ``⌊(n − 1)/2⌋``-th smallest), with
  ``dim`` a ``(values, indices)`` pair, the gradient going to that entry; over all entries the gradient is shared
  evenly among the entries equal to the median, as PyTorch.
* ``mode(x, dim)``: the most frequent value (the smallest, on a tie of counts, as PyTorch) and the index of its
  last occurrence, as PyTorch's CPU kernel gives it; the gradient goes to that entry. A NaN equals nothing: it
  wins only a slice of NaNs (PyTorch sorts NaNs with ``<``, which leaves them where they stand, so its answer
  with a NaN before a number depends on where the NaN stood).

>>> import glassgrad as gg
>>> gg.quantile(gg.tensor([1.0, 2.0, 3.0, 4.0]), 0.5).item()   # r = 1.5: halfway between 2 and 3
2.5
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import return_types
from .arguments import check_dim, shape_text
from .composed import _lower_median_positions, _median_of_nothing, _method, _plain_tensor, _shared_among_ties, movedim
from .creation import as_tensor
from .functions import where
from .tensor import Tensor

INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_levels(x: Tensor, q: Any, interpolation: str, name: str) -> tuple[np.ndarray, bool]:
    """The levels q as a 1-D array (and whether q was one number), each checked to lie in [0, 1]."""
    if x.array.dtype.kind != "f":
        raise RuntimeError(f"{name}: the input must be float or double, got {x.dtype}; convert it with .float()")
    if x.array.size == 0:
        raise RuntimeError(f"{name}: the input tensor must be non-empty")
    if interpolation not in INTERPOLATIONS:
        raise RuntimeError(f"{name}: interpolation must be one of {', '.join(INTERPOLATIONS)}, got {interpolation!r}")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{name}: q must be a number or a 1-D tensor, got shape {shape_text(q.shape)}")
        if q.dtype != x.dtype:
            raise RuntimeError(f"{name}: q ({q.dtype}) must have the input's dtype ({x.dtype})")
    levels = np.asarray(q.array if isinstance(q, Tensor) else q, dtype=np.float64)
    if levels.ndim > 1:
        raise RuntimeError(f"{name}: q must be a number or a 1-D list, got shape {shape_text(levels.shape)}")
    outside = levels[~((levels >= 0) & (levels <= 1))]
    if outside.size:
        raise RuntimeError(f"{name}: q must be in the range [0, 1], got {outside[0]:g}")
    return np.atleast_1d(levels).astype(x.array.dtype), levels.ndim == 0  # in the input's dtype, as PyTorch


def _quantile(input: Any, q: Any, dim: int | None, keepdim: bool, interpolation: str, skip_nan: bool,
              name: str) -> Tensor:
    x = as_tensor(input)
    levels, one_level = _quantile_levels(x, q, interpolation, name)
    axis = None if dim is None else check_dim(x, dim, name)
    rows = x.reshape(-1) if axis is None else movedim(x, axis, -1) if x.ndim else x.reshape(1)
    order = np.argsort(rows.array, axis=-1, kind="stable")  # NaN sorts last, as in PyTorch
    ordered = rows.gather(-1, _plain_tensor(order))
    missing = np.isnan(rows.array)
    if skip_nan:  # rank among the entries that are not NaN; a slice of NaNs alone reads its first entry (NaN)
        scale = np.maximum((~missing).sum(axis=-1, keepdims=True) - 1, 0).astype(levels.dtype)
        ranks = levels * scale
    else:  # a NaN anywhere in the slice: read its last entry, a NaN
        last = levels.dtype.type(rows.shape[-1] - 1)
        scale = np.where(missing.any(axis=-1, keepdims=True), 0, last).astype(levels.dtype)
        ranks = np.where(missing.any(axis=-1, keepdims=True), last, levels * last)
    below, above = np.floor(ranks), np.ceil(ranks)
    if interpolation in ("lower", "higher", "nearest"):
        picked = {"lower": below, "higher": above, "nearest": np.round(ranks)}[interpolation]
        found = ordered.gather(-1, _plain_tensor(picked.astype(np.int64)))
    else:
        weight = np.full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - below
        low = ordered.gather(-1, _plain_tensor(below.astype(np.int64)))
        high = ordered.gather(-1, _plain_tensor(above.astype(np.int64)))
        weight = x.new_tensor(weight.astype(x.array.dtype))
        if interpolation == "linear" and isinstance(q, Tensor) and q.requires_grad:
            # weight = q·scale − below, so ∂weight/∂q = scale, carried by a term of value 0, as in PyTorch; none
            # where scale = 0 (PyTorch masks a NaN slice's rank: its high − low would make the gradient NaN)
            level = q.reshape(-1)
            carried = weight + (level - level.detach()) * x.new_tensor(scale)
            weight = where(_plain_tensor(scale == 0), weight, carried)
        found = low.lerp(high, weight)
    found = movedim(found, -1, 0)  # the levels first, as PyTorch
    if keepdim and x.ndim:  # a 0-d input has no dim to keep: it stays 0-d, as in PyTorch
        kept = [1] * x.ndim if axis is None else [*x.shape[:axis], 1, *x.shape[axis + 1:]]
        found = found.reshape(len(levels), *kept)
    elif axis is None:
        found = found.reshape(len(levels))
    return found[0] if one_level else found


@_method
def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles (q a number or a 1-D tensor in [0, 1]) over all entries or along ``dim``; a slice
    holding a NaN gives NaN. With several q, their dim comes first."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


@_method
def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """:func:`quantile` of the entries that are not NaN."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


@_method
def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median of the entries that are not NaN (NaN if there are none); with ``dim`` a
    ``(values, indices)`` pair, the gradient going to the entry at the index; over all entries the gradient is
    shared evenly among the entries equal to the median, as in PyTorch."""
    x = as_tensor(input)
    nothing = _median_of_nothing(x, dim, "nanmedian")
    if nothing is not None:
        return nothing
    axis = 0 if dim is None or x.ndim == 0 else check_dim(x, dim, "nanmedian")
    rows = x.reshape(-1) if dim is None or x.ndim == 0 else x
    picked = _lower_median_positions(rows.array, axis, True)
    if dim is None:
        return _shared_among_ties(rows, int(picked[0]))
    values, indices = rows.gather(axis, _plain_tensor(picked)), _plain_tensor(picked.astype(np.int64))
    if not keepdim or x.ndim == 0:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return return_types.nanmedian(values, indices)


def _row_mode(row: np.ndarray) -> int:
    """The position of the last occurrence of the row's most frequent value (the smallest on a tie). A NaN equals
    nothing, so it counts once and wins only a row of NaNs (the first of them), as the sorted NaNs come last."""
    numbers = row[~np.isnan(row)] if row.dtype.kind == "f" else row
    if numbers.size == 0:
        return 0
    values, counts = np.unique(numbers, return_counts=True)
    winner = values[np.argmax(counts)]  # unique sorts: argmax finds the smallest of the most frequent
    return int(np.flatnonzero(row == winner)[-1])


@_method
def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> return_types.mode:
    """The most frequent value along ``dim`` (the smallest on a tie) and the index of its last occurrence;
    the gradient goes to that entry."""
    x = as_tensor(input)
    axis = check_dim(x, dim, "mode") if x.ndim else 0
    rows = x.reshape(1) if x.ndim == 0 else x
    if rows.shape[axis] == 0:
        raise IndexError(f"mode: dim {dim} has size 0, so there is no most frequent value")
    lined_up = np.moveaxis(rows.array, axis, -1)
    positions = np.array([_row_mode(row) for row in lined_up.reshape(-1, lined_up.shape[-1])], dtype=np.int64)
    picked = np.expand_dims(positions.reshape(lined_up.shape[:-1]), axis)
    values, indices = rows.gather(axis, _plain_tensor(picked)), _plain_tensor(picked)
    if not keepdim or x.ndim == 0:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return return_types.mode(values, indices)
