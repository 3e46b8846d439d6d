"""``Tensor`` methods that pick, order, move, repeat or scan entries: ``gather``, ``scatter``, ``sort``, ``topk``, …

Each differentiable one is one ``apply`` of a row of :mod:`glassgrad.ops_index` (``masked_fill``:
:mod:`glassgrad.ops_math`); ``chunk`` and ``split`` are slices (views, as in PyTorch). They are
attached to :class:`~glassgrad.tensor.Tensor` as they are defined, like those of
:mod:`glassgrad.tensor_methods`.

>>> import glassgrad as gg
>>> gg.tensor([[1, 2], [3, 4]]).gather(1, gg.tensor([[1], [0]])).tolist()
[[2], [3]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops_index, ops_math, ops_pieces, return_types
from .arguments import (
    check_dim,
    distinct_dims,
    int_argument,
    is_floating,
    keyword_sizes,
    resolve_dtype,
    shape_arg,
    shape_text,
    written_number,
)
from .autograd import SIZED_BY_VALUES, is_grad_enabled, note_unreplayable, recorded_call, recorded_cast
from .graph import as_view
from .ops import WHERE, Op
from .settings import warn_once
from .tensor import Tensor, apply, view_of, written_dtype_error
from .tensor_methods import _in_place_form, _plain, method

# --- picking entries -------------------------------------------------------------------------------

def _index_array(index: Any, name: str) -> np.ndarray:
    array = np.asarray(_plain(index))
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"{name}: the index must hold integers (gg.int64), got {array.dtype}")
    return array


def _refuse_index_outside(index: np.ndarray, size: int, name: str, dim: int, error: type[Exception]) -> None:
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = index.min() if index.min() < 0 else index.max()
        raise error(f"{name}: index {bad} is out of bounds for dim {dim} of size {size} "
                    f"(expected 0 <= index < {size})")


def _check_index_range(index: np.ndarray, size: int, name: str, dim: int,
                       error: type[Exception] = RuntimeError) -> None:
    """Refuse an index outside ``[0, size)`` (``gather``, ``scatter``, ``index_select``, ``index_add``…), as one kernel
    of a compiled step (:func:`~glassgrad.autograd.recorded_call`): checked in Python before the op, a replay checked
    only its captures' indices, and a later call's -1 read the last entry, its ``size`` the next row's first (the
    kernels index the flat array), without a word; now refused at every call, as eager does. ``error``: PyTorch's
    class for ``name`` (``IndexError`` for ``index_select`` and ``index_copy``, ``RuntimeError`` for the others)."""
    recorded_call(_refuse_index_outside, index, size, name, dim, error)


def _one_entry_shape(shape: tuple) -> tuple:
    """The shape ``gather``/``scatter`` check: a 0-d tensor counts as 1-d with one entry, as in PyTorch
    (``torch.zeros(10).scatter_(0, torch.tensor(y), value=1)`` makes a one-hot vector)."""
    return tuple(shape) or (1,)


def _along_index(self: Tensor, dim: int, index: Any, name: str) -> tuple[int, np.ndarray]:
    """``dim`` and ``index`` of ``gather``/``scatter``: as many dims as self, no larger elsewhere (an empty index
    reads and writes nothing, and PyTorch skips that check for it), in range."""
    dim = check_dim(self, dim, name)
    index = _index_array(index, name)
    if len(_one_entry_shape(index.shape)) != len(_one_entry_shape(self.array.shape)):
        raise RuntimeError(f"{name}: the index must have as many dims as the tensor ({self.ndim}), "
                           f"got shape {shape_text(index.shape)}")
    for d, (n, limit) in enumerate(zip(_one_entry_shape(index.shape), _one_entry_shape(self.array.shape))):
        if d != dim and n > limit and index.size:
            raise RuntimeError(f"{name}: the index of shape {shape_text(index.shape)} is larger than the tensor of "
                               f"shape {shape_text(self.shape)} in dim {d} (only dim {dim} may differ)")
    _check_index_range(index, self.array.shape[dim] if self.ndim else 1, name, dim)
    return dim, index


@method
def gather(self: Tensor, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j] = self[i][index[i][j]]`` for ``dim = 1`` (and likewise for any dim); out has index's shape.
    The gradient is dense: ``sparse_grad=True`` is refused (glassgrad has no sparse tensors)."""
    if sparse_grad:
        raise NotImplementedError("gather: sparse_grad=True asks for a sparse gradient, and glassgrad has no sparse "
                                  "tensors; leave it False (the dense gradient holds the same numbers)")
    dim, index = _along_index(self, dim, index, "gather")
    if self.ndim == 0 or index.ndim == 0:
        return self.reshape(-1).gather(0, index.reshape(-1)).reshape(index.shape)
    return apply(ops_index.GATHER, (self,), self.array, dim, index)


@method
def index_select(self: Tensor, dim: int, index: Any) -> Tensor:
    """The slices ``index[0], index[1], …`` of dim ``dim`` (``index`` 1-D), in that order; repeats allowed."""
    dim = check_dim(self, dim, "index_select")
    index = _index_array(index, "index_select")
    if index.ndim > 1:  # IndexError, as PyTorch's
        raise IndexError(f"index_select: the index must be 1-D, got shape {shape_text(index.shape)}")
    _check_index_range(index, self.array.shape[dim] if self.ndim else 1, "index_select", dim, IndexError)
    if self.ndim == 0:  # its one entry, 0-d, as in PyTorch
        if index.size != 1:
            raise RuntimeError(f"index_select: a 0-d tensor is picked by one index, got {index.size}")
        return self.reshape(1).index_select(0, index.reshape(1)).reshape(())
    return apply(ops_index.INDEX_SELECT, (self,), self.array, dim, index if index.ndim else index.reshape(1))


def _source(self: Tensor, src: Any, value: Any, index: np.ndarray, name: str) -> Tensor:
    if src is None:
        src = value
    if src is None:
        raise TypeError(f"{name}: give the values to write: {name}(dim, index, src) or value=…")
    if isinstance(src, Tensor):
        wide, entries = _one_entry_shape(src.array.shape), _one_entry_shape(index.shape)
        if len(wide) != len(entries) or any(n > m for n, m in zip(entries, wide)):
            raise RuntimeError(f"{name}: src of shape {shape_text(src.shape)} must have as many dims as the index "
                               f"and be at least as large as the index {shape_text(index.shape)} in each")
        if src.dtype != self.dtype:  # PyTorch writes no other dtype by index (index_add, index_copy, … come here)
            raise written_dtype_error(name, src.dtype, self.dtype)
        return src
    return Tensor._wrap(np.full(index.shape, written_number(src, self.array.dtype, name), dtype=self.dtype))


def _scatter(self: Tensor, name: str, dim: int, index: Any, src: Any, value: Any, reduce: str | None) -> Tensor:
    if reduce not in (None, "add", "multiply"):  # PyTorch's class
        raise RuntimeError(f"{name}: reduce must be None, 'add' or 'multiply', got {reduce!r}; scatter_reduce "
                         "takes 'sum', 'prod', 'mean', 'amax' and 'amin'")
    dim, index = _along_index(self, dim, index, name)
    src = _source(self, src, value, index, name)
    if min(self.ndim, index.ndim, src.ndim) == 0:
        return _scatter(self.reshape(-1), name, 0, index.reshape(-1), src.reshape(-1), None, reduce).reshape(self.shape)
    a, b = self.array, src.array
    if reduce == "multiply":
        return _scatter_multiplied(self, src, name, dim, index)
    return apply(ops_index.SCATTER_ADD if reduce == "add" else ops_index.SCATTER, (self, src), a, b, dim, index)


def _scatter_multiplied(self: Tensor, src: Tensor, name: str, dim: int, index: np.ndarray) -> Tensor:
    """``out[i][index[i][j]] *= src[i][j]`` (dim 1): repeats multiply up. Without a gradient, as in PyTorch."""
    if is_grad_enabled() and (self.requires_grad or src.requires_grad):
        raise RuntimeError(f"{name}: reduce='multiply' has no gradient (as in PyTorch); use "
                           f"scatter_reduce(dim, index, src, 'prod'), which has one")
    return Tensor._wrap(recorded_call(_multiplied_at, self.array, src.array, dim, index))  # a kernel of a step


def _multiplied_at(array: np.ndarray, src: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    """:func:`_scatter_multiplied`'s product, as one kernel of a compiled step (:func:`~glassgrad.autograd.
    recorded_call`): worked out in Python outside the kernels, a replay gave the captures' result ever after."""
    out = array.copy()
    np.multiply.at(out, ops_index.along(index.copy(), dim), src[ops_index._leading(index.shape)])
    return out


@method
def scatter(self: Tensor, dim: int, index: Any, src: Any = None, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy with ``out[i][index[i][j]] = src[i][j]`` (dim 1; likewise for any dim); ``src`` may be a number.

    ``reduce='add'`` adds instead (see :func:`scatter_add`), ``reduce='multiply'`` multiplies (no gradient, as in
    PyTorch). Where the index repeats, the last write wins (adds up, multiplies up). ``reduce`` with a tensor
    ``src`` warns once, as PyTorch does (it is deprecated there in favour of ``scatter_reduce``).
    """
    if reduce is not None and isinstance(src, Tensor):
        warn_once("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a "
                  "future PyTorch release. Use torch.scatter_reduce instead for more reduction options.")
    return _scatter(self, "scatter", dim, index, src, value, reduce)


@method
def scatter_add(self: Tensor, dim: int, index: Any, src: Any) -> Tensor:
    """A copy with ``src[i][j]`` added to ``out[i][index[i][j]]`` (dim 1; likewise for any dim): repeats add up."""
    return _scatter(self, "scatter_add", dim, index, src, None, "add")


_in_place_form("scatter")  # x.scatter_(…) is x.copy_(x.scatter(…)): in a graph too, as in PyTorch
_in_place_form("scatter_add")


@method
def masked_fill(self: Tensor, mask: Any, value: Any) -> Tensor:
    """``value`` where ``mask`` is True, else ``self`` (``scores.masked_fill(mask == 0, float('-inf'))``).

    ``∂out/∂self`` is 1 where the mask is False, 0 where it is True. The mask broadcasts to self's shape.
    """
    self, mask = with_mask(self, mask, "masked_fill")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                               f"{shape_text(value.shape)}")
        if value.requires_grad:  # its gradient too: where(mask, value, self)
            return apply(WHERE, (value, self), mask, recorded_cast(value.array, self.array.dtype), self.array)
        value = value.item()
    value = written_number(value, self.array.dtype, "masked_fill")
    return apply(ops_math.MASKED_FILL, (self,), self.array, mask, value)


@method
def masked_fill_(self: Tensor, mask: Any, value: Any) -> Tensor:
    """In place: ``self.copy_(self.masked_fill(mask, value))`` (the mask broadcast to self's shape), as the other
    in-place forms: a compiled step replays it as the fill and the write (``attn.masked_fill_(mask, -inf)``)."""
    mask = _mask_array(self, mask, "masked_fill_")
    return self.copy_(masked_fill(self, Tensor._wrap(mask), value))


@method
def masked_select(self: Tensor, mask: Any) -> Tensor:
    """The entries where ``mask`` is True, as a 1-D tensor (``self[mask]``, the two broadcast together)."""
    self, mask = with_mask(self, mask, "masked_select")
    return self[Tensor._wrap(np.broadcast_to(mask, self.array.shape))]


def _mask_array(self: Tensor, mask: Any, name: str, in_place: bool = True) -> np.ndarray:
    """``mask`` as a bool array that broadcasts to ``self``'s shape (``in_place=False``: with it, to both's)."""
    mask = np.asarray(_plain(mask))
    if mask.dtype != np.bool_:
        raise RuntimeError(f"{name}: the mask must be a bool tensor, got {mask.dtype}; compare first, e.g. x == 0")
    try:
        joint = np.broadcast_shapes(mask.shape, self.array.shape)
    except ValueError:
        joint = None
    if joint is None or (in_place and joint != self.array.shape):
        raise RuntimeError(f"{name}: a mask of shape {shape_text(mask.shape)} does not broadcast to the tensor's "
                           f"shape {shape_text(self.shape)}")
    return mask


def with_mask(self: Tensor, mask: Any, name: str) -> tuple[Tensor, np.ndarray]:
    """``self`` (expanded where the mask has more dims or sizes) and ``mask`` as a bool array: an op that makes a
    new tensor broadcasts the two together, as PyTorch's ``masked_fill``, ``masked_select``, ``masked_scatter``."""
    mask = _mask_array(self, mask, name, in_place=False)
    joint = np.broadcast_shapes(mask.shape, self.array.shape)
    return (self if joint == self.array.shape else self.expand(joint)), mask



@method
def nonzero(self: Tensor, as_tuple: bool = False) -> Any:
    """The positions of the non-zero entries: an (n, ndim) int64 tensor, or one 1-D tensor per dim (as_tuple; a
    0-d tensor counts as 1-D there, as in PyTorch: ``(tensor([0]),)`` if it is non-zero)."""
    note_unreplayable(SIZED_BY_VALUES.format(name="nonzero"))
    positions = np.argwhere(self.array)
    if as_tuple:
        rows = np.argwhere(self.array.reshape(-1)) if self.ndim == 0 else positions
        return tuple(Tensor._wrap(rows[:, d].astype(np.int64)) for d in range(rows.shape[1]))
    return Tensor._wrap(positions.astype(np.int64))


# --- ordering --------------------------------------------------------------------------------------

def _order(array: np.ndarray, dim: int, descending: bool, count: int | None = None) -> np.ndarray:
    """The int64 positions of a stable ascending (or descending) order along ``dim``: equal values keep their order
    (the first ``count`` of them along ``dim``, if given: topk's). One kernel of a compiled step."""
    keys = array if array.dtype.kind == "f" else array.astype(np.int64)
    if not descending:
        order = np.argsort(keys, axis=dim, kind="stable")  # NaN last: the largest, as in PyTorch
    elif keys.dtype.kind == "f":  # NaN first, then -keys ascending (-inf would tie NaN with +inf)
        nan = np.isnan(keys)
        order = np.lexsort((np.where(nan, 0.0, -keys), ~nan), axis=dim)
    else:
        order = np.argsort(~keys, axis=dim, kind="stable")  # ~k = -k - 1 reverses the order without overflow
    order = order.astype(np.int64)
    return order if count is None else np.take(order, np.arange(count), axis=dim)


@method
def argsort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort dim ``dim`` (equal values keep their order: always stable here)."""
    dim = check_dim(self, dim, "argsort")
    if self.ndim == 0:
        return Tensor._wrap(np.zeros((), dtype=np.int64))
    return Tensor._wrap(recorded_call(_order, self.array, dim, descending))


@method
def sort(self: Tensor, dim: int = -1, descending: bool = False,
         stable: bool = False) -> return_types.sort:
    """``(values, indices)`` sorted along ``dim``; the values' gradient goes back to where each came from."""
    indices = self.argsort(dim, descending)
    if self.ndim == 0:
        return return_types.sort(self.clone(), indices)
    values = apply(ops_index.SORT, (self,), self.array, check_dim(self, dim, "sort"), indices.array)
    return return_types.sort(values, indices)


@method
def topk(self: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> return_types.topk:
    """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) entries along ``dim``, in order."""
    dim = check_dim(self, dim, "topk")
    size = self.array.shape[dim] if self.ndim else 1
    k = int_argument(k, "topk", "k")
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: k ({k}) must be a whole number in [0, {size}] (the size of dim {dim})")
    if self.ndim == 0:
        return return_types.topk(self.clone(), Tensor._wrap(np.zeros((), dtype=np.int64)))
    chosen = recorded_call(_order, self.array, dim, largest, k)
    return return_types.topk(apply(ops_index.TOPK, (self,), self.array, dim, chosen), Tensor._wrap(chosen))


# --- moving and repeating entries --------------------------------------------------------------------

def _dims(self: Tensor, dims: Any, name: str, repeats: bool = False,
          needs_dims: type[Exception] | None = IndexError) -> tuple:
    """``dims`` checked, as non-negative ints (of a tensor with dims: a 0-d one is refused with PyTorch's
    IndexError, unless ``needs_dims`` is None: then its dims 0 and −1 are its one dim); a dim named twice is refused
    unless ``repeats`` (roll: twice)."""
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if repeats:
        return tuple(check_dim(self, d, name, needs_dims=needs_dims) for d in dims)
    return distinct_dims(self, dims, name, "dims", needs_dims)


@method
def flip(self: Tensor, *given: Any, dims: Any = None) -> Tensor:
    """The entries in reverse order along each of the dims given (``x.flip(0)``, ``gg.flip(x, [0, 1])``,
    ``x.flip(dims=(0,))``)."""
    if dims is not None or not given:
        given = keyword_sizes(given, dims, "flip", "dims")
    dims = given[0] if len(given) == 1 and isinstance(given[0], (tuple, list)) else given
    checked = _dims(self, dims, "flip", needs_dims=None)  # a 0-d tensor's dims: 0 or -1 (named once), its one entry
    return self.clone() if self.ndim == 0 else apply(ops_index.FLIP, (self,), self.array, checked)


@method
def roll(self: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Entries shifted by ``shifts`` along ``dims``, those pushed off one end coming back at the other.

    With no ``dims`` (None or an empty tuple) the tensor is rolled as if flattened, as in PyTorch.
    """
    if dims is None or (isinstance(dims, (tuple, list)) and not dims):
        if isinstance(shifts, (tuple, list)):
            if len(shifts) != 1:
                raise RuntimeError(f"roll: with no dims the tensor rolls as if flattened, by one shift; got "
                                   f"{len(shifts)} shifts")
            shifts = shifts[0]
        return apply(ops_index.ROLL, (self,), self.array, int_argument(shifts, "roll", "shifts"), None)
    dims = _dims(self, dims, "roll", repeats=True)  # as PyTorch: rolled along a dim named twice twice
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: {len(shifts)} shift(s) for {len(dims)} dim(s); give one shift per dim")
    return apply(ops_index.ROLL, (self,), self.array, tuple(int(s) for s in shifts), dims)


@method
def repeat(self: Tensor, *sizes: Any, repeats: Any = None) -> Tensor:
    """The whole tensor tiled ``sizes[d]`` times along each dim (extra leading sizes add dims), as in PyTorch:
    ``x.repeat(2, 1)``, ``x.repeat((2, 1))`` or ``x.repeat(repeats=(2, 1))``."""
    if repeats is not None or not sizes:
        sizes = keyword_sizes(sizes, repeats, "repeat", "repeats")
    sizes = shape_arg(sizes, "repeat")
    if len(sizes) < self.ndim:
        raise RuntimeError(f"repeat: give at least one size per dim ({self.ndim}), got {sizes}")
    if any(n < 0 for n in sizes):
        raise RuntimeError(f"repeat: sizes must be >= 0, got {sizes}")
    return apply(ops_index.REPEAT, (self,), self.array, sizes)


@method
def repeat_interleave(self: Tensor, repeats: Any, dim: int | None = None, *, output_size: int | None = None) -> Tensor:
    """Each entry repeated ``repeats`` times in place (``[1, 2] → [1, 1, 2, 2]``); with no dim, of the flattened tensor.

    ``repeats`` is a number or one count per entry along ``dim``; ``output_size``, if given, must be the new length.
    """
    source = self.reshape(-1) if dim is None else self
    dim = 0 if dim is None else check_dim(self, dim, "repeat_interleave")
    size = source.array.shape[dim] if source.ndim else 1
    if source.ndim == 0:
        source = source.reshape(1)
    given = np.asarray(_plain(repeats))
    if isinstance(repeats, Tensor) and output_size is not None:  # the shape is known: a kernel, checked at each call
        counts = recorded_call(_checked_repeats, given, size, dim, output_size)
    else:
        if isinstance(repeats, Tensor) and repeats.ndim == 0:  # read as a Python int (counts in an array: the
            # capture finds them worked out from the tensor's, read by the kernel)
            note_unreplayable(SIZED_BY_VALUES.format(name="repeat_interleave by a tensor's counts (no output_size)"))
        counts = _checked_repeats(given, size, dim, output_size)
    return apply(ops_index.REPEAT_INTERLEAVE, (source,), source.array, counts, dim)


def _checked_repeats(counts: np.ndarray, size: int, dim: int, output_size: int | None) -> Any:
    """``repeat_interleave``'s counts for ``size`` entries along ``dim`` (an int, or one per entry), refused as
    PyTorch refuses them. Given ``output_size`` (the new length, so the shape is known), counts from a tensor are
    one kernel of a compiled step (:func:`~glassgrad.autograd.recorded_call`), checked at each call."""
    if counts.dtype.kind not in "iu" or counts.ndim > 1 or (counts < 0).any():
        raise RuntimeError("repeat_interleave: repeats must be a whole number >= 0 or a 1-D tensor of them")
    if counts.ndim == 1 and counts.size not in (1, size):
        raise RuntimeError(f"repeat_interleave: {counts.size} repeats for {size} entries along dim {dim}; "
                           "give one per entry")
    counts = counts.reshape(-1) if counts.ndim else int(counts)
    length = int(np.sum(counts)) if np.ndim(counts) and np.size(counts) > 1 else size * int(np.sum(counts))
    if output_size is not None and output_size != length:
        raise RuntimeError(f"repeat_interleave: output_size is {output_size}, but the repeats give {length}")
    return counts


@method
def unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` entries along ``dimension``, starting each ``step``: a new last dim of ``size``.
    A view, as in PyTorch: ``x.unfold(0, 2, 2)[1, 0] = 9`` writes ``x[2]``. A 0-d tensor (dim 0 or -1) reads as one
    entry and has no dim for the windows: its result is ``size`` (0 or 1) entries, shape ``(size,)``, as PyTorch's."""
    dim = check_dim(self, dimension, "unfold")
    length = self.array.shape[dim] if self.ndim else 1
    if not 0 <= size <= length or step <= 0:
        raise RuntimeError(f"unfold: size ({size}) must be in [0, {length}] (the size of dim {dimension}) "
                           f"and step ({step}) > 0")
    if not self.ndim:
        return self.reshape(1)[:size]
    return view_of(self, ops_index.UNFOLD, dim, int(size), int(step))


@method
def chunk(self: Tensor, chunks: int, dim: int = 0) -> tuple:
    """``chunks`` slices of dim ``dim`` of ⌈n/chunks⌉ entries each (the last may be smaller or missing): views.
    A dim of size 0 gives ``chunks`` empty pieces."""
    chunks = int_argument(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be a whole number > 0, got {chunks!r}")
    dim = check_dim(self, dim, "chunk", needs_dims=RuntimeError)
    if self.array.shape[dim] == 0:  # as PyTorch: chunks empty pieces
        return tuple(self.narrow(dim, 0, 0) for _ in range(int(chunks)))
    return self.split(-(-self.array.shape[dim] // int(chunks)), dim)


@method
def split(self: Tensor, split_size: Any, dim: int = 0) -> tuple:
    """Slices of dim ``dim``: each of ``split_size`` entries (the last may be smaller), or of the sizes listed.
    Views, whose gradients meet in one buffer (:func:`cut`)."""
    dim = check_dim(self, dim, "split", needs_dims=RuntimeError)
    total = self.array.shape[dim]
    if isinstance(split_size, (int, np.integer)) and not isinstance(split_size, bool):
        step = int(split_size)
        if step < 0 or step == 0 and total:  # a dim of size 0 splits into one empty piece at any size, as PyTorch
            raise RuntimeError(f"split: split_size must be > 0 (0 only for a dim of size 0), got {step}")
        sizes = [min(step, total - start) for start in range(0, total, step)] if total else [0]
    else:
        sizes = list(shape_arg(tuple(split_size), "split"))
        if sum(sizes) != total:
            raise RuntimeError(f"split: the sizes {sizes} add up to {sum(sizes)}, but dim {dim} has {total} entries")
    starts = np.cumsum([0, *sizes]).tolist()
    return cut(self, dim, [slice(start, start + n) for start, n in zip(starts, sizes)])


@method
def unbind(self: Tensor, dim: int = 0) -> tuple:
    """Every slice along ``dim``, that dim removed: ``x.unbind(0)`` is ``(x[0], x[1], …)`` (views).

    Backward writes each piece's gradient into one buffer (:mod:`glassgrad.ops_pieces`), so it costs one
    pass over ``x`` however many pieces there are (L ``x[i]`` would cost L).
    """
    dim = check_dim(self, dim, "unbind", needs_dims=IndexError)
    return cut(self, dim, range(self.array.shape[dim]))


def cut(self: Tensor, dim: int, places: Any) -> tuple:
    """The pieces ``x[…, place, …]`` (``place`` at position ``dim``: an index or a slice), whose gradients meet in
    one buffer (:mod:`glassgrad.ops_pieces`)."""
    joined = as_view(self, apply(ops_pieces.PIECES, (self,), self.array))
    holder, lead = joined._ctx, (slice(None),) * dim  # the holder the pieces' buffer is found through (None: no graph)
    # views of self's memory, known as such: an in-place change of one is refused in the graph, as PyTorch refuses it
    # (unknown, it changed the numbers while the gradient went on as before); one of self is followed, each piece read
    # again as its slice (PyTorch refuses a later use of such a piece: glassgrad's gradient is the slice's)
    indices = [lead + (place,) for place in places]
    return tuple(as_view(joined, apply(ops_pieces.PIECE, (joined,), joined.array, index, holder), (index,))
                 for index in indices)


# --- scans and products -----------------------------------------------------------------------------

@method
def cumsum(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Running sums along ``dim``: ``outᵢ = Σ_{k≤i} aₖ`` (integers sum in int64, as in PyTorch)."""
    return _scan(ops_index.CUMSUM, self, dim, dtype)


@method
def logcumsumexp(self: Tensor, dim: int) -> Tensor:
    """Running log-sum-exp along ``dim``: ``outᵢ = ln Σ_{k≤i} e^(aₖ)``, each step ``ln(e^(outᵢ₋₁) + e^(aᵢ))``, so an
    entry far below a later one keeps its value (a floating-point tensor, as in PyTorch). A 0-d tensor is its own
    running log-sum-exp, gradient 1 also at ±inf and NaN, as PyTorch's (a row of one such entry has NaN's)."""
    if not is_floating(self.dtype):
        raise NotImplementedError(f"logcumsumexp: needs a floating-point tensor, got {self.dtype}; convert it with "
                           ".float() first")
    if self.ndim == 0:
        check_dim(self, dim, "logcumsumexp")
        return self.clone()
    return _scan(ops_index.LOGCUMSUMEXP, self, dim, None)


@method
def cumprod(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Running products along ``dim``: ``outᵢ = Π_{k≤i} aₖ`` (exact gradient at zeros)."""
    return _scan(ops_index.CUMPROD, self, dim, dtype)


def _scan(op: Op, tensor: Tensor, dim: int, dtype: Any) -> Tensor:
    """The running ``op`` along ``dim``; a 0-d tensor is scanned as a row of one entry and stays 0-d, as in PyTorch."""
    axis = check_dim(tensor, dim, op.name)
    if tensor.ndim == 0:
        return _scan(op, tensor.reshape(1), 0, dtype).reshape(())
    return apply(op, (tensor,), _cast(tensor, dtype), axis)


@method
def prod(self: Tensor, dim: int | None = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """The product of all entries, or along ``dim``: ``∂out/∂aᵢ = Π_{k≠i} aₖ`` (exact at zeros)."""
    axis = None if dim is None else check_dim(self, dim, "prod")  # a 0-d tensor's dim: 0 or -1, its one entry
    return apply(ops_index.PROD, (self,), _cast(self, dtype), axis if self.ndim else None,
                 bool(keepdim) and self.ndim > 0)


def _cast(self: Tensor, dtype: Any) -> np.ndarray:
    """The array a running or whole sum or product works in: ``dtype`` if given, else integers and bools as int64
    and floats as they are, as in PyTorch. A cast is a kernel of a compiled step (:func:`recorded_call`): made in
    Python, a replay kept the captures' copy (``mask.cumsum(1)``, ``x.prod(dtype=gg.float64)``: their numbers ever
    after, without a word)."""
    resolved = resolve_dtype(dtype)
    if resolved is None and self.array.dtype.kind == "f":
        return self.array
    return recorded_cast(self.array, np.int64 if resolved is None else resolved)
