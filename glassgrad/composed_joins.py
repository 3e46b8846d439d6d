"""PyTorch's functions that join, cut, tile and place tensors, made of other ops (no rule of their own).

``hstack``/``vstack``/``dstack``/``column_stack`` are a ``cat`` after giving each tensor enough dims
(``atleast_1d``/``2d``/``3d``); ``block_diag`` is a ``cat`` of the blocks with zeros beside them;
``tile`` is ``repeat``; ``diag_embed`` puts the last dim on a diagonal (a ``where`` on the identity's pattern,
then zeros joined on); ``tensor_split`` cuts like ``unbind`` (its pieces' gradients meet in one buffer).
Their gradients are those of the rows they use, and a trace shows those rows.

>>> import glassgrad as gg
>>> gg.vstack([gg.tensor([1.0, 2.0]), gg.tensor([3.0, 4.0])]).tolist()
[[1.0, 2.0], [3.0, 4.0]]
>>> [piece.tolist() for piece in gg.tensor_split(gg.arange(5.0), 2)]
[[0.0, 1.0, 2.0], [3.0, 4.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arguments import check_dim, cuts_given, keyword_sizes, shape_arg, shape_text
from .autograd import SIZED_BY_VALUES, note_unreplayable
from .composed import movedim
from .creation import as_tensor
from .dtypes import get_default_dtype
from .functions import _tensor_list, cat, one_tuple_form, where
from .tensor import Tensor
from .tensor_indexing import cut
from .tensor_methods import _plain, add


def _method(function: Any) -> Any:
    """Make ``function`` a Tensor method too (``x.tile(2)`` as ``gg.tile(x, (2,))``)."""
    add(function.__name__, function)
    return function


def _tensors(tensors: Any, name: str) -> list[Tensor]:
    """:func:`~glassgrad.functions._tensor_list`, given a list or tuple (anything else is PyTorch's TypeError)."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name} expects a non-empty list or tuple of tensors, got {type(tensors).__name__}")
    return _tensor_list(tensors, name)


def _at_least(t: Tensor, dims: int) -> Tensor:
    """``t`` with at least ``dims`` dims: new dims of size 1 in front, except that ``atleast_3d`` puts a vector
    (n) in the middle (1, n, 1) and a matrix (m, n) in front (m, n, 1), as NumPy does."""
    if t.ndim >= dims:
        return t
    if dims == 3 and t.ndim > 0:
        return t.reshape((1, *t.shape, 1) if t.ndim == 1 else (*t.shape, 1))
    return t.reshape((1,) * (dims - t.ndim) + tuple(t.shape))


def _atleast(tensors: tuple, dims: int) -> Any:
    """:func:`_at_least` of one tensor, or a tuple of them for several (given one by one or as one list)."""
    if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)):
        return _at_least(as_tensor(tensors[0]), dims)
    listed = tensors[0] if len(tensors) == 1 else tensors
    return tuple(_at_least(as_tensor(t), dims) for t in listed)


def atleast_1d(*tensors: Any) -> Any:
    """A 0-d tensor as shape (1,); others as they are (one tensor, or a tuple for several)."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors: Any) -> Any:
    """Shape (1, 1) for 0-d, (1, n) for 1-d; others as they are."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors: Any) -> Any:
    """Shape (1, 1, 1) for 0-d, (1, n, 1) for 1-d, (m, n, 1) for 2-d; others as they are."""
    return _atleast(tensors, 3)


def hstack(tensors: Any) -> Tensor:
    """Joined side by side: along dim 0 for 1-D tensors, dim 1 otherwise."""
    parts = [_at_least(t, 1) for t in _tensors(tensors, "hstack")]
    return cat(parts, 0 if parts[0].ndim == 1 else 1)


def vstack(tensors: Any) -> Tensor:
    """Joined as rows (dim 0), 1-D tensors first made rows (1, n)."""
    return cat([_at_least(t, 2) for t in _tensors(tensors, "vstack")], 0)


row_stack = vstack


def dstack(tensors: Any) -> Tensor:
    """Joined along the third dim (depth), after ``atleast_3d``."""
    return cat([_at_least(t, 3) for t in _tensors(tensors, "dstack")], 2)


def column_stack(tensors: Any) -> Tensor:
    """Joined as columns: 0-d and 1-d tensors become columns (n, 1), then ``hstack``."""
    parts = [t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in _tensors(tensors, "column_stack")]
    return cat(parts, 1)


def block_diag(*tensors: Any) -> Tensor:
    """The blocks on the diagonal of one matrix, zeros elsewhere (0-d blocks are 1×1, 1-d blocks one row)."""
    blocks = []
    for position, t in enumerate(as_tensor(t) for t in tensors):
        if t.ndim > 2:
            raise RuntimeError(f"block_diag: input {position} has {t.ndim} dims (shape {shape_text(t.shape)}); "
                               "give 0-, 1- or 2-dimensional tensors")
        blocks.append(t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t)
    if not blocks:
        return Tensor._wrap(np.zeros((1, 0), dtype=get_default_dtype()))
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        height, right = b.shape[0], width - left - b.shape[1]
        pieces = [b.new_zeros((height, left)), b, b.new_zeros((height, right))]
        rows.append(cat([p for p in pieces if p.shape[1]] or [b], 1))
        left += b.shape[1]
    return cat(rows, 0)  # cat joins rows of several dtypes in PyTorch's one (float32 with int64: float32)


@_method
def tensor_split(input: Tensor, indices_or_sections: Any = None, dim: int = 0, *, sections: Any = None,
                 indices: Any = None, tensor_indices_or_sections: Any = None) -> tuple:
    """Pieces along ``dim``: ``n`` sections (the first ``size % n`` one entry longer), or cut before each index
    listed (as Python slices: an index past the end gives empty pieces). Views; their gradients meet in one
    buffer (pieces that overlap, cut at indices that go back, are slices each)."""
    indices_or_sections = cuts_given("tensor_split", indices_or_sections, sections, indices,
                                     tensor_indices_or_sections)
    x = as_tensor(input)
    if x.ndim == 0:
        raise RuntimeError("tensor_split: needs a tensor with at least one dim to cut along, got a 0-d tensor; "
                           "cut x.reshape(1) or x.unsqueeze(0)")
    axis = check_dim(x, dim, "tensor_split")
    size = x.shape[axis]
    split = np.asarray(_plain(indices_or_sections))
    if split.shape == (0,):  # no index: no cut, the whole tensor one piece (NumPy reads [] as floats)
        split = split.astype(np.int64)
    if split.dtype.kind not in "iu" or split.ndim > 1:
        raise RuntimeError(f"tensor_split: indices_or_sections must be a whole number or a list of indices, got "
                           f"{indices_or_sections!r}")
    if split.ndim == 0:
        if isinstance(indices_or_sections, Tensor):
            note_unreplayable(SIZED_BY_VALUES.format(name="tensor_split into a tensor's number of sections"))
        sections = int(split)
        if sections <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {sections}")
        lengths = [size // sections + (k < size % sections) for k in range(sections)]
        ends = np.cumsum([0, *lengths]).tolist()
        places = [slice(start, stop) for start, stop in zip(ends[:-1], ends[1:])]
    else:
        if isinstance(indices_or_sections, Tensor):
            note_unreplayable(SIZED_BY_VALUES.format(name="tensor_split at a tensor's indices"))
        cuts = [None, *split.tolist(), None]
        places = [slice(start, stop) for start, stop in zip(cuts[:-1], cuts[1:])]
        at = [min(max(c + size if c < 0 else c, 0), size) for c in split.tolist()]
        if any(later < earlier for earlier, later in zip(at, at[1:])):
            # indices that go back ([2, 0]: x[:2], x[2:0], x[0:]) make pieces that overlap: each is a slice of its
            # own, whose gradients the engine adds (cut's one buffer holds each row once)
            return tuple(x[(slice(None),) * axis + (place,)] for place in places)
    return cut(x, axis, places)


def _tile(input: Tensor, *given: Any, dims: Any = None) -> Tensor:
    """The tensor repeated ``dims[d]`` times along each dim; fewer ``dims`` than dims count from the last
    (``repeat`` with 1s in front). ``gg.tile(x, (2, 3))``, ``x.tile(2, 3)``, ``x.tile(dims=(2, 3))``."""
    x = as_tensor(input)
    if dims is not None or not given:
        given = keyword_sizes(given, dims, "tile", "dims")
    sizes = shape_arg(given, "tile")
    return x.repeat((1,) * (x.ndim - len(sizes)) + tuple(sizes))


_tile.__name__ = _tile.__qualname__ = "tile"  # the method's own name, as x.tile shows it
add("tile", _tile)  # the method x.tile(2, 3) takes ints; the function gg.tile(x, (2, 3)) one tuple, as torch.tile
tile = one_tuple_form("tile", "dims")


@_method
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Each vector along the last dim placed on diagonal ``offset`` of a square matrix in dims ``dim1``, ``dim2``
    of the result (one dim more than the input): ``out[…, i, i+offset] = x[…, i]``."""
    x = as_tensor(input)
    if x.ndim == 0:
        raise RuntimeError("diag_embed: needs a tensor with at least 1 dim (its last dim holds the diagonals)")
    ndim = x.ndim + 1
    for d in (dim1, dim2):  # the result's dims, one more than x's: PyTorch's IndexError out of range
        if not -ndim <= d < ndim:
            raise IndexError(f"diag_embed: dim {d} is out of range for the result's {ndim} dims (expected an int in "
                             f"[{-ndim}, {ndim - 1}])")
    first, second = dim1 % ndim, dim2 % ndim
    if first == second:
        raise RuntimeError(f"diag_embed: dim1={dim1} and dim2={dim2} must be two different dims of the result's "
                           f"{ndim}")
    size, shift = x.shape[-1], abs(int(offset))
    on_diagonal = Tensor._wrap(np.eye(size, dtype=bool))
    square = where(on_diagonal, x.unsqueeze(-1), x.new_zeros(()))  # (…, n, n): x on the diagonal, 0 (not −0) elsewhere,
    # in x's own dtype (a Python 0.0 made an integer input float)
    if shift:
        lead = tuple(square.shape[:-2])
        side = square.new_zeros(lead + (size, shift))
        square = cat([side, square] if offset > 0 else [square, side], -1)
        under = square.new_zeros(lead + (shift, size + shift))
        square = cat([square, under] if offset > 0 else [under, square], -2)
    return movedim(square, (-2, -1), (first, second))
