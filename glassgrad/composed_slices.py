"""Picking, cutting and writing slices, made of other ops (no rule of their own).

* ``select(dim, i)`` is ``x[…, i, …]`` (dim ``dim`` dropped); ``fliplr``/``flipud`` flip dim 1 / dim 0;
  ``hsplit``/``vsplit``/``dsplit`` are ``tensor_split`` along dim 1 (0 for a vector) / 0 / 2, refusing sections
  that do not divide the dim evenly; ``split_with_sizes`` is ``split`` with a list of sizes.
* ``broadcast_to`` is ``expand``, ``reshape_as`` a reshape, ``diagflat`` the flattened input on a diagonal,
  ``trace`` the sum of a matrix's diagonal, ``msort`` sorted along dim 0, ``concat``/``concatenate`` are ``cat``.
* ``sum_to_size(*size)``: the sum over the dims that broadcasting would have stretched from ``size``, the
  inverse of ``expand``: a gradient for an input that was broadcast.
* ``select_scatter``, ``slice_scatter``, ``diagonal_scatter``: a copy of the input with ``src`` written into a
  slot (an index, a slice, a diagonal): ``∂/∂input`` is the upstream gradient with the slot zeroed, ``∂/∂src``
  the slot of the upstream gradient (the recorded ``out[slot] = src`` of a clone).
* ``index_reduce(dim, index, source, reduce)``: slices of ``source`` combined (product, mean, max, min) into the
  slices of a copy that ``index`` names: ``scatter_reduce`` with the index spread over the other dims.
* ``argwhere`` (the indices of the non-zero entries, one row each) and ``unique_consecutive`` (runs of equal
  entries, or slices, squeezed to one) answer with plain tensors, as PyTorch does.

>>> import glassgrad as gg
>>> gg.select_scatter(gg.zeros(2, 2), gg.ones(2), 0, 1).tolist()
[[0.0, 0.0], [1.0, 1.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arguments import check_dim, cuts_given, int_argument, keyword_sizes, shape_arg, shape_text
from .autograd import SIZED_BY_VALUES, note_unreplayable
from .composed import _plain_tensor, _unique_dim
from .composed_joins import tensor_split
from .composed_picks import scatter_reduce
from .creation import as_tensor, tensor_argument
from .functions import cat
from .ops_index import diagonal_index
from .tensor import Tensor
from .tensor_methods import _plain, add


def _method(function: Any) -> Any:
    """Make ``function`` a Tensor method too (``x.fliplr()`` as ``gg.fliplr(x)``)."""
    add(function.__name__, function)
    return function


@_method
def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.reshape(other.shape)``."""
    return as_tensor(input).reshape(tuple(tensor_argument(other, "reshape_as", "other").shape))


@_method
def broadcast_to(input: Tensor, size: Any, *more: int) -> Tensor:
    """The tensor stretched to ``size`` as broadcasting would (``expand``; -1 keeps a dim); the sizes may also come
    one by one, ``x.broadcast_to(2, 3, 4)``, as PyTorch's method takes them."""
    sizes = (size, *more) if more else tuple(size) if isinstance(size, (list, tuple)) else (size,)
    return as_tensor(input).expand(shape_arg(sizes, "broadcast_to"))


@_method
def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` of dim ``dim``, that dim dropped: ``x.select(1, 2)`` is ``x[:, 2]``."""
    x = as_tensor(input)
    if x.ndim == 0:
        raise IndexError("select: a 0-d tensor has no dims to select from")
    axis = check_dim(x, dim, "select")
    index = int_argument(index, "select", "index")  # x[True] would be a mask: a new dim of size 1, not a slice
    size = x.shape[axis]
    if not -size <= index < size:
        raise IndexError(f"select: index {index} is out of range for dim {dim} of size {size}")
    return x[(slice(None),) * axis + (index,)]


@_method
def fliplr(input: Tensor) -> Tensor:
    """The columns (dim 1) in reverse order; needs at least 2 dims."""
    x = as_tensor(input)
    if x.ndim < 2:
        raise RuntimeError(f"fliplr: needs a tensor with at least 2 dims, got shape {shape_text(x.shape)}")
    return x.flip(1)


@_method
def flipud(input: Tensor) -> Tensor:
    """The rows (dim 0) in reverse order; needs at least 1 dim."""
    x = as_tensor(input)
    if x.ndim < 1:
        raise RuntimeError("flipud: needs a tensor with at least 1 dim, got a 0-d tensor")
    return x.flip(0)


def _split_along(name: str, input: Tensor, indices_or_sections: Any, dim: int, least: int) -> tuple:
    """``tensor_split`` along ``dim``; a number of sections must divide the dim evenly, as PyTorch asks."""
    x = as_tensor(input)
    if x.ndim < least:
        raise RuntimeError(f"{name}: needs a tensor with at least {least} dims, got shape {shape_text(x.shape)}")
    sections = _plain(indices_or_sections)
    if isinstance(sections, (int, np.integer)) and not isinstance(sections, bool):
        if sections <= 0 or x.shape[dim] % sections:
            raise RuntimeError(f"{name}: cannot split dim {dim} of size {x.shape[dim]} into {sections} equal "
                               "parts; give a number of sections that divides it, or a list of indices")
    return tensor_split(x, indices_or_sections, dim)


@_method
def hsplit(input: Tensor, indices_or_sections: Any = None, *, sections: Any = None, indices: Any = None) -> tuple:
    """Cut along dim 1 (dim 0 of a vector): ``n`` equal sections or before each index listed."""
    x = as_tensor(input)
    cuts = cuts_given("hsplit", indices_or_sections, sections, indices)
    return _split_along("hsplit", x, cuts, 1 if x.ndim > 1 else 0, 1)


@_method
def vsplit(input: Tensor, indices_or_sections: Any = None, *, sections: Any = None, indices: Any = None) -> tuple:
    """Cut along dim 0 of a tensor with at least 2 dims."""
    return _split_along("vsplit", input, cuts_given("vsplit", indices_or_sections, sections, indices), 0, 2)


@_method
def dsplit(input: Tensor, indices_or_sections: Any = None, *, sections: Any = None, indices: Any = None) -> tuple:
    """Cut along dim 2 of a tensor with at least 3 dims."""
    return _split_along("dsplit", input, cuts_given("dsplit", indices_or_sections, sections, indices), 2, 3)


@_method
def split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple:
    """Slices of dim ``dim`` of the sizes listed (they must add up to the dim's size): ``split(sizes, dim)``."""
    return as_tensor(input).split(list(split_sizes), dim)


@_method
def sum_to_size(input: Tensor, *sizes: Any, size: Any = None) -> Tensor:
    """The sum over the dims that ``size`` would be broadcast along to reach this shape, giving ``size``
    (``x.sum_to_size(1, 3)``, ``x.sum_to_size((1, 3))`` or ``x.sum_to_size(size=(1, 3))``)."""
    x = as_tensor(input)
    if size is not None or not sizes:
        sizes = keyword_sizes(sizes, size, "sum_to_size", "size")
    target = shape_arg(sizes, "sum_to_size")
    lead = x.ndim - len(target)
    if lead < 0 or any(n not in (1, x.shape[lead + d]) for d, n in enumerate(target)):
        raise RuntimeError(f"sum_to_size: size {shape_text(target)} is not expandable to the tensor's shape "
                           f"{shape_text(x.shape)}")
    stretched = tuple(range(lead)) + tuple(lead + d for d, n in enumerate(target) if n == 1 and x.shape[lead + d] != 1)
    summed = x.sum(dim=stretched, keepdim=True) if stretched else x
    return summed.reshape(target)


@_method
def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The entries, flattened, on diagonal ``offset`` of a square matrix (0 elsewhere)."""
    return as_tensor(input).reshape(-1).diag(offset)


@_method
def trace(input: Tensor) -> Tensor:
    """``Σᵢ A[i, i]``, the sum of a matrix's main diagonal."""
    x = as_tensor(input)
    if x.array.dtype == np.bool_:  # PyTorch checks the dtype first (a bool diagonal's sum would be an int64 count)
        raise NotImplementedError("trace: not implemented for bool tensors, as in PyTorch; convert first: x.long()")
    if x.ndim != 2:
        raise RuntimeError(f"trace: expects a matrix (2-D), got shape {shape_text(x.shape)}")
    return x.diagonal().sum()


@_method
def msort(input: Tensor) -> Tensor:
    """The entries sorted along dim 0 (``sort(dim=0).values``)."""
    return as_tensor(input).sort(dim=0)[0]


def concat(tensors: Any, dim: int = 0) -> Tensor:
    """``cat``: the tensors joined along ``dim``."""
    return cat(tensors, dim)


def concatenate(tensors: Any, axis: int = 0, *, dim: int | None = None) -> Tensor:
    """``cat``, with NumPy's word for the dim; PyTorch's ``dim=`` is taken too (``torch.concatenate(ts, dim=1)``)."""
    return cat(tensors, axis if dim is None else dim)


# --- a copy with a slot written ---------------------------------------------------------------------

def _write_slot(name: str, input: Tensor, src: Tensor, slot: Any) -> Tensor:
    """A copy of ``input`` with ``src`` (exactly the slot's shape) written into ``slot`` (recorded)."""
    x, values = as_tensor(input), as_tensor(src)
    expected = x.array[slot].shape
    if tuple(values.shape) != expected:
        raise RuntimeError(f"{name}: src has shape {shape_text(values.shape)}, but the slot it fills has shape "
                           f"{shape_text(expected)}; they must be equal")
    out = x.clone()
    out[slot] = values if values.dtype == x.dtype else values.to(x.dtype)
    return out


@_method
def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``src`` as its ``select(dim, index)`` slice."""
    x = as_tensor(input)
    axis = check_dim(x, dim, "select_scatter")
    index = int_argument(index, "select_scatter", "index")  # (as select's)
    if not -x.shape[axis] <= index < x.shape[axis]:
        raise IndexError(f"select_scatter: index {index} is out of range for dim {dim} of size {x.shape[axis]}")
    return _write_slot("select_scatter", x, src, (slice(None),) * axis + (index,))


@_method
def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None, end: int | None = None,
                  step: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` written into ``start:end:step`` of dim ``dim``."""
    x = as_tensor(input)
    if step < 1:
        raise RuntimeError(f"slice_scatter: step must be positive, got {step}")
    axis = check_dim(x, dim, "slice_scatter")
    return _write_slot("slice_scatter", x, src, (slice(None),) * axis + (slice(start, end, step),))


@_method
def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` as its ``diagonal(offset, dim1, dim2)`` (the diagonal in src's last dim)."""
    x = as_tensor(input)
    first, second = check_dim(x, dim1, "diagonal_scatter"), check_dim(x, dim2, "diagonal_scatter")
    if first == second:
        raise RuntimeError(f"diagonal_scatter: dim1 and dim2 must be different dims, got {dim1} and {dim2}")
    return _write_slot("diagonal_scatter", x, src, diagonal_index(x.shape, offset, first, second))


REDUCED = ("prod", "mean", "amax", "amin")


@_method
def index_reduce(input: Tensor, dim: int, index: Any, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """A copy where slice ``index[i]`` of dim ``dim`` combines ``source``'s slice ``i`` by ``reduce`` (``prod``,
    ``mean``, ``amax``, ``amin``), with its own entries unless ``include_self=False``: ``scatter_reduce`` with the
    index spread over the other dims."""
    x, values = as_tensor(input), as_tensor(source)
    if reduce not in REDUCED:
        raise RuntimeError(f"index_reduce: reduce must be one of {', '.join(REDUCED)}, got {reduce!r}")
    axis = check_dim(x, dim, "index_reduce")
    picks = np.asarray(_plain(index))
    if picks.ndim != 1 or picks.dtype.kind not in "iu" or values.ndim != x.ndim or values.shape[axis] != len(picks):
        raise RuntimeError(f"index_reduce: index must be a vector of integers with one entry per slice of source "
                           f"along dim {dim}, got index shape {shape_text(picks.shape)} and source shape "
                           f"{shape_text(values.shape)}")
    spread = np.broadcast_to(picks.reshape([-1 if d == axis else 1 for d in range(x.ndim)]), values.shape)
    return scatter_reduce(x, axis, spread.copy(), values, reduce, include_self=include_self)


# --- plain answers ----------------------------------------------------------------------------------

@_method
def argwhere(input: Tensor) -> Tensor:
    """The indices of the non-zero entries, one row ``(i, j, …)`` each, in order (int64)."""
    note_unreplayable(SIZED_BY_VALUES.format(name="argwhere"))
    return _plain_tensor(np.argwhere(as_tensor(input).array).astype(np.int64))


@_method
def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """Each run of equal neighbours (entries of the flattened tensor, or slices along ``dim``) squeezed to one;
    ``return_inverse``: which run each entry (slice) is in; ``return_counts``: each run's length."""
    note_unreplayable(SIZED_BY_VALUES.format(name="unique_consecutive"))
    x = as_tensor(input)
    if dim is None:
        rows, axis = x.array.reshape(-1, 1), None
    else:
        axis = _unique_dim(x, dim, "unique_consecutive")
        rows = np.moveaxis(x.array, axis, 0).reshape(x.shape[axis], x.array.size // max(x.shape[axis], 1))
    starts = np.ones(len(rows), dtype=bool)
    starts[1:] = np.any(rows[1:] != rows[:-1], axis=1)
    first = np.flatnonzero(starts)
    values = x.array.reshape(-1)[first] if axis is None else np.take(x.array, first, axis=axis)
    results = [_plain_tensor(values)]
    if return_inverse:
        inverse = np.cumsum(starts) - 1
        results.append(_plain_tensor(inverse.reshape(x.shape if axis is None else -1).astype(np.int64)))
    if return_counts:
        results.append(_plain_tensor(np.diff(np.append(first, len(rows))).astype(np.int64)))
    return results[0] if len(results) == 1 else tuple(results)
