"""Rows of the rule table for ops that pick, move, repeat or scan entries along dims.

``gather``, ``index_select``, ``scatter``, ``sort``/``topk`` (their values), ``roll``, ``flip``,
``tril``/``triu``, ``diag``/``diagonal``, ``repeat``/``repeat_interleave``, ``unfold`` (sliding
windows), ``cumsum``/``cumprod`` and ``prod``. They are registered in the same table as the
rows of :mod:`glassgrad.ops`, and their backwards follow one idea: every output entry is (a
product of) input entries, so ``∂L/∂a`` sends each upstream number back to where its entry came
from, adding where an entry was used several times (``np.add.at`` along flat positions: ``ops._add_at``).

Choices, as in PyTorch where it documents one:

* ``prod``/``cumprod`` at zeros: ``∂out/∂aᵢ = Π_(k≠i) aₖ`` computed without dividing by
  ``aᵢ``, so a zero entry gets the product of the others and the rest get 0 (one zero) or all
  get 0 (two zeros);
* ``sort``/``topk`` of tied values: each output entry comes from one input entry, the one at
  its index (a stable order here; PyTorch's order of ties is unspecified unless ``stable=True``);
* ``scatter`` with an index that repeats: the last write wins here (PyTorch leaves it
  unspecified); the overwritten entries of ``a`` get no gradient.

>>> import numpy as np
>>> from glassgrad.ops import RULES
>>> RULES["cumsum"].forward(np.array([1.0, 2.0, 3.0]), 0)[0].tolist()
[1.0, 3.0, 6.0]
"""

from __future__ import annotations

import math

import numpy as np

from .ops import OUT, TANGENTS, Op, _add_at, _reduced_like, last_writes, register, row_major, with_zero_slope


def along(index: np.ndarray, dim: int) -> tuple:
    """The full index that picks ``out[i, j, …] = a[i, …, index[i, j, …], …]`` (``index`` at position ``dim``)."""
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


def _placed(up: np.ndarray, shape: tuple, where: tuple) -> np.ndarray:
    """Zeros of ``shape`` with ``up`` added at ``where``, one index array per dim (repeats add up)."""
    grad = np.zeros(shape, dtype=up.dtype)
    _add_at(grad, where, up)
    return grad


def _slices_placed(up: np.ndarray, shape: tuple, dim: int, index: np.ndarray) -> np.ndarray:
    """Zeros of ``shape`` with the slices of ``up`` added at the slices ``index`` (1-D) along ``dim``."""
    grid = list(np.indices(up.shape, sparse=True))  # the other dims' slices as index arrays
    grid[dim] = index.reshape([-1 if d == dim else 1 for d in range(up.ndim)])
    return _placed(up, shape, tuple(grid))


def _placed_tensor(up, shape: tuple, dim: int, index: np.ndarray):
    """:func:`_placed` on tensors (recorded: a ``scatter_add`` into zeros), ``index`` of up's shape along ``dim``."""
    return up.new_zeros(shape).scatter_add(dim, index, up)


def _slices_placed_tensor(up, shape: tuple, dim: int, index: np.ndarray):
    """Zeros of ``shape`` with the slices of ``up`` added at the slices ``index`` (1-D) along ``dim`` (recorded)."""
    stretched = index.reshape([-1 if d == dim else 1 for d in range(up.ndim)])
    return _placed_tensor(up, shape, dim, np.broadcast_to(stretched, tuple(up.shape)))


# --- picking entries -------------------------------------------------------------------------

def _element_strides(shape: tuple) -> list[int]:
    """How far apart, in entries, neighbours along each dim of a row-major array of ``shape`` are."""
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    return strides


def _gather_positions(shape: tuple, dim: int, index: np.ndarray) -> np.ndarray:
    """Where each picked entry sits in ``a`` (of ``shape``) read row-major: ``Σ_d (index at d, else the entry's own
    coordinate)·stride_d``, a new array (the index may change later)."""
    if not shape:  # a 0-d tensor: its one entry
        return np.zeros(index.shape, dtype=np.intp)
    strides = _element_strides(shape)
    positions = index.astype(np.intp) * strides[dim]
    for d, size in enumerate(index.shape):
        if d != dim and size > 1:
            positions += np.arange(size).reshape([-1 if k == d else 1 for k in range(index.ndim)]) * strides[d]
    return positions


def _gather(a, dim, index):
    """One ``take`` of flat positions (a third of the time of indexing with an array per dim)."""
    positions = _gather_positions(a.shape, dim, index)
    return np.take(a, positions), (a.shape, positions, dim)

def _gather_back(up, saved):
    """``up`` added at each entry's flat position, in order (repeats add up): what :func:`_placed` does."""
    shape, positions, _ = saved
    grad = np.zeros(shape, dtype=up.dtype)
    np.add.at(grad.reshape(-1), positions.reshape(-1), np.broadcast_to(up, positions.shape).reshape(-1))
    return (grad,)

def _gather_vjp(up, inputs, out, saved):
    shape, positions, dim = saved
    index = positions // _element_strides(shape)[dim] % shape[dim] if shape else positions
    return (_placed_tensor(up, shape, dim, index),)

GATHER = register(Op(
    "gather", "out[i][j] = a[i][index[i][j]]  (index along dim)", ("{up} added back where each entry came from",),
    _gather, _gather_back, kind="shape", settings=("dim", "index"), saves=((),), vjp_tensors=_gather_vjp,
))


def _window_maxima_vjp(up, inputs, out, saved):
    """:func:`_gather_vjp` in the input's graph with slope 0 (:func:`glassgrad.ops.with_zero_slope`), as PyTorch's
    ``adaptive_max_pool2d_backward`` keeps it: a second derivative through it alone is 0, not refused."""
    return (with_zero_slope(inputs[0], _gather_vjp(up, inputs, out, saved)[0]),)

WINDOW_MAXIMA = register(Op(
    "window_maxima", "out[i][j] = a[i][index[i][j]]  (index along dim: where each adaptive window's maximum is)",
    ("{up} added back where each entry came from",), _gather, _gather_back, kind="shape", settings=("dim", "index"),
    saves=((),), vjp_tensors=_window_maxima_vjp,
))


def _pick_along(a, dim, indices, keepdim):
    """The entries of ``a`` at ``indices`` along ``dim`` (``max(dim)``, ``min(dim)``: the index each returns, of the
    result's shape: without ``dim`` unless ``keepdim``)."""
    if not a.ndim:  # a 0-d tensor: its one entry
        return a.copy(), ((), np.zeros((), dtype=np.intp), 0)
    positions = _gather_positions(a.shape, dim, indices if keepdim else np.expand_dims(indices, dim))
    positions = positions if keepdim else np.squeeze(positions, dim)
    return np.take(a, positions), (a.shape, positions, dim)

def _pick_along_vjp(up, inputs, out, saved):
    shape, positions, dim = saved
    if shape and positions.ndim < len(shape):  # the dim the pick took out, back as size 1
        positions, up = np.expand_dims(positions, dim), up.unsqueeze(dim)
    return _gather_vjp(up, inputs, out, (shape, positions, dim))

MAX_DIM = register(Op(
    "max_dim", "out, index = max of a along dim, and where it is (the first of ties)",
    ("{up} at the index it returns, 0 elsewhere",), _pick_along, _gather_back, kind="reduction",
    settings=("dim", "indices", "keepdim"), saves=((),), vjp_tensors=_pick_along_vjp,
))
MIN_DIM = register(Op(
    "min_dim", "out, index = min of a along dim, and where it is (the first of ties)",
    ("{up} at the index it returns, 0 elsewhere",), _pick_along, _gather_back, kind="reduction",
    settings=("dim", "indices", "keepdim"), saves=((),), vjp_tensors=_pick_along_vjp,
))


SORT = register(Op(
    "sort", "out = a sorted along dim", ("{up} sent back to each value's place before sorting",),
    _gather, _gather_back, kind="shape", settings=("dim", "indices"), saves=((),), vjp_tensors=_gather_vjp,
))
TOPK = register(Op(
    "topk", "out = the k largest (or smallest) of a along dim", ("{up} sent back to the chosen entries, 0 elsewhere",),
    _gather, _gather_back, kind="shape", settings=("dim", "indices"), saves=((),), vjp_tensors=_gather_vjp,
))


def _index_select(a, dim, index):
    where = (slice(None),) * dim + (index.copy(),)
    return row_major(a[where]), (a.shape, where, dim)

def _index_select_back(up, saved):
    shape, where, dim = saved
    return (_slices_placed(up, shape, dim, where[dim]),)

def _index_select_vjp(up, inputs, out, saved):
    shape, where, dim = saved
    return (_slices_placed_tensor(up, shape, dim, where[dim]),)

INDEX_SELECT = register(Op(
    "index_select", "out = the slices index[0], index[1], … of a along dim",
    ("{up} added back to the selected slices",), _index_select, _index_select_back, kind="shape",
    settings=("dim", "index"), saves=((),), vjp_tensors=_index_select_vjp,
))


def _edge_pad_vjp(up, inputs, out, saved):
    """:func:`_index_select_vjp` in the input's graph with slope 0 (:func:`glassgrad.ops.with_zero_slope`), as
    PyTorch's ``reflection_pad``/``replication_pad`` backward keeps it: a second derivative through it alone is 0."""
    return (with_zero_slope(inputs[0], _index_select_vjp(up, inputs, out, saved)[0]),)

EDGE_PAD = register(Op(
    "edge_pad", "out = a along dim with borders copied from its own entries (reflect, replicate): the slices "
                "index[0], index[1], … of a",
    ("{up} added back to the entries each position copies",), _index_select, _index_select_back, kind="shape",
    settings=("dim", "index"), saves=((),), vjp_tensors=_edge_pad_vjp,
))


def _scatter(a, src, dim, index):
    where = along(index.copy(), dim)
    out = a.copy()
    out[where] = src[_leading(index.shape)]
    return out, (where, index.shape, src.shape, dim)

def _leading(shape: tuple) -> tuple:
    """The corner of a tensor that a ``scatter`` reads from ``src``: the index's shape, from 0."""
    return tuple(slice(0, n) for n in shape)

def _src_grad(up, where, index_shape, src_shape):
    grad_src = np.zeros(src_shape, dtype=up.dtype)
    grad_src[_leading(index_shape)] = up[where]
    return grad_src

def _src_grad_tensor(up, where, index_shape, src_shape, dim, last_only=False):
    """:func:`_src_grad` on tensors (recorded): ``up.gather`` at the index, in the corner of zeros of src's shape;
    with ``last_only``, 0 for a write that a later one to the same place overwrote."""
    picked = up.gather(dim, where[dim])
    if last_only:
        picked = picked.masked_fill(~last_writes(np.ravel_multi_index(np.broadcast_arrays(*where), up.shape)), 0.0)
    if tuple(src_shape) == tuple(index_shape):
        return picked
    grad_src = up.new_zeros(src_shape)
    grad_src[_leading(index_shape)] = picked
    return grad_src

def _scatter_back(up, saved):
    where, index_shape, src_shape, _ = saved
    grad_a = up.copy()
    grad_a[where] = 0  # overwritten: these entries of a no longer reach the output
    return grad_a, _src_grad(up, where, index_shape, src_shape)

def _scatter_vjp(up, inputs, out, saved):
    """Forward mode (:data:`~glassgrad.ops.TANGENTS`): src's tangent is scattered as src is, the last write to a
    repeated place kept (PyTorch's ``a_t.scatter(dim, index, src_t)``), so only that write's upstream reaches it."""
    where, _, _, dim = saved
    return up.scatter(dim, where[dim], value=0.0), _src_grad_tensor(up, *saved, last_only=bool(TANGENTS))

SCATTER = register(Op(
    "scatter", "out = a, with out[i][index[i][j]] = src[i][j]  (index along dim)",
    ("{up}, 0 where src was written", "{up} at the written places"),
    _scatter, _scatter_back, kind="shape", roles=("a", "src"), settings=("dim", "index"), saves=((), ()),
    vjp_tensors=_scatter_vjp,
))


def _scatter_add(a, src, dim, index):
    where = along(index.copy(), dim)
    out = a.copy()
    _add_at(out, where, src[_leading(index.shape)])
    return out, (where, index.shape, src.shape, dim)

def _scatter_add_back(up, saved):
    where, index_shape, src_shape, _ = saved
    return up, _src_grad(up, where, index_shape, src_shape)

SCATTER_ADD = register(Op(
    "scatter_add", "out = a, with src[i][j] added to out[i][index[i][j]]",
    ("{up}", "{up} at the places each src entry was added to"),
    _scatter_add, _scatter_add_back, kind="shape", roles=("a", "src"), settings=("dim", "index"), saves=((), ()),
    vjp_tensors=lambda up, inputs, out, saved: (up, _src_grad_tensor(up, *saved)),
))


# --- moving entries --------------------------------------------------------------------------

def _roll(a, shifts, dims):
    return row_major(np.roll(a, shifts, axis=dims)), (shifts, dims)

def _shifted_back(saved):
    """The roll that undoes ``roll(shifts, dims)``: ``(−shifts, dims)``."""
    shifts, dims = saved
    return (tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts), dims

def _roll_back(up, saved):
    back, dims = _shifted_back(saved)
    return (np.roll(up, back, axis=dims),)

ROLL = register(Op("roll", "out = a shifted cyclically along dims", ("{up} shifted back",), _roll, _roll_back,
                   kind="shape", settings=("shifts", "dims"),
                   vjp_tensors=lambda up, inputs, out, saved: (up.roll(*_shifted_back(saved)),)))


def _flip(a, dims):
    return np.flip(a, dims).copy(), dims

def _flip_back(up, dims):
    return (np.flip(up, dims).copy(),)

FLIP = register(Op("flip", "out = a reversed along dims", ("{up} reversed back",), _flip, _flip_back, kind="shape",
                   settings=("dims",), vjp_tensors=lambda up, inputs, out, dims: (up.flip(dims),)))


def _triangle_mask(shape, diagonal, lower):
    rows, columns = shape[-2:]
    return (np.tri(rows, columns, diagonal, dtype=bool) if lower
            else ~np.tri(rows, columns, diagonal - 1, dtype=bool))

def _tril(a, diagonal):
    mask = _triangle_mask(a.shape, diagonal, True)
    return np.where(mask, a, 0).astype(a.dtype, copy=False), mask

def _triu(a, diagonal):
    mask = _triangle_mask(a.shape, diagonal, False)
    return np.where(mask, a, 0).astype(a.dtype, copy=False), mask

def _triangle_back(up, mask):
    return (np.where(mask, up, 0).astype(up.dtype, copy=False),)

def _triangle_vjp(up, inputs, out, mask):
    return (up.masked_fill(~mask, 0.0),)

TRIL = register(Op("tril", "out = a on and below the diagonal, 0 above", ("{up} on and below the diagonal, else 0",),
                   _tril, _triangle_back, kind="shape", settings=("diagonal",), vjp_tensors=_triangle_vjp))
TRIU = register(Op("triu", "out = a on and above the diagonal, 0 below", ("{up} on and above the diagonal, else 0",),
                   _triu, _triangle_back, kind="shape", settings=("diagonal",), vjp_tensors=_triangle_vjp))


def _diagonal_place(rows: int, columns: int, offset: int) -> tuple:
    """The (row, column) indices of diagonal ``offset`` of a ``rows × columns`` matrix (above it for offset > 0)."""
    start_row, start_column = max(-offset, 0), max(offset, 0)
    steps = np.arange(max(min(rows - start_row, columns - start_column), 0))
    return steps + start_row, steps + start_column

def diagonal_index(shape: tuple, offset: int, dim1: int, dim2: int) -> tuple:
    """The index (of arrays, one per dim) that picks ``diagonal(offset, dim1, dim2)`` of a tensor of ``shape`` in the
    diagonal's layout (the other dims first, the diagonal last): ``x[index]`` reads it, ``x[index] = v`` writes it
    (dims ``dim1`` and ``dim2`` given ≥ 0)."""
    rows, columns = _diagonal_place(shape[dim1], shape[dim2], offset)
    others = [d for d in range(len(shape)) if d not in (dim1, dim2)]
    index: list = [None] * len(shape)
    index[dim1], index[dim2] = (place.reshape((1,) * len(others) + (-1,)) for place in (rows, columns))
    for position, d in enumerate(others):  # every other dim in full, along its own axis of the result
        index[d] = np.arange(shape[d]).reshape(tuple(-1 if p == position else 1 for p in range(len(others) + 1)))
    return tuple(index)

def _diagonal(a, offset, dim1, dim2):
    """A view of ``a``'s memory, as PyTorch's (``A.diagonal().add_(λ)`` changes A), writable where ``a`` is: one
    step along the diagonal is a step along both dims (NumPy's own ``diagonal`` view is read-only)."""
    moved = np.moveaxis(a, (dim1, dim2), (-2, -1))
    rows, columns = moved.shape[-2:]
    start_row, start_column = max(-offset, 0), max(offset, 0)
    length = max(min(rows - start_row, columns - start_column), 0)
    start = moved[..., min(start_row, rows):, min(start_column, columns):]
    view = np.lib.stride_tricks.as_strided(start, moved.shape[:-2] + (length,),
                                           moved.strides[:-2] + (moved.strides[-2] + moved.strides[-1],),
                                           writeable=start.flags.writeable)
    return view, (a.shape, offset, dim1, dim2)

def _diagonal_back(up, saved):
    shape, offset, dim1, dim2 = saved
    grad = np.zeros(shape, dtype=up.dtype)
    moved = np.moveaxis(grad, (dim1, dim2), (-2, -1))  # a view: writing it writes grad
    rows, columns = _diagonal_place(*moved.shape[-2:], offset)
    moved[..., rows, columns] = up  # the diagonal runs along up's last dim
    return (grad,)

def _diagonal_vjp(up, inputs, out, saved):
    """:func:`_diagonal_back` on tensors (recorded): ``up`` scattered into zeros at the diagonal's flat positions
    (a scatter, not a product with a 0/1 matrix, whose 0·∞ would put NaN off the diagonal under an infinite ``up``)."""
    shape, offset, dim1, dim2 = saved
    size = math.prod(shape)
    places = _diagonal(np.arange(size).reshape(shape), offset, dim1, dim2)[0].reshape(-1)  # in up's order
    flat = up.reshape(-1)
    return (flat.new_zeros((size,)).scatter_add(0, places, flat).reshape(shape),)

DIAGONAL = register(Op("diagonal", "out = the diagonal of a (dims dim1, dim2; offset above it)",
                       ("{up} on that diagonal, 0 elsewhere",), _diagonal, _diagonal_back, kind="shape",
                       settings=("offset", "dim1", "dim2"), vjp_tensors=_diagonal_vjp))


def _diag_embed(a, diagonal):
    return np.diag(a, diagonal), (a.shape, diagonal)

def _diag_embed_back(up, saved):
    _, diagonal = saved
    return (np.diag(up, diagonal).copy(),)

DIAG = register(Op("diag", "out = a square matrix with a on its diagonal (a 1-D)", ("the diagonal of {up}",),
                   _diag_embed, _diag_embed_back, kind="shape", settings=("diagonal",),
                   vjp_tensors=lambda up, inputs, out, saved: (up.diagonal(saved[1]),)))


# --- repeating entries -----------------------------------------------------------------------

def _repeat(a, sizes):
    widened = a.reshape((1,) * (len(sizes) - a.ndim) + a.shape)
    return np.tile(widened, sizes), (a.shape, widened.shape, sizes)

def _repeat_back(up, saved):
    """Σ of ``up`` over the copies; the same expression on NumPy arrays and on tensors (recorded)."""
    shape, widened, sizes = saved
    split = up.reshape(tuple(n for pair in zip(sizes, widened) for n in pair))  # (r₀, n₀, r₁, n₁, …)
    return (split.sum(tuple(range(0, split.ndim, 2))).reshape(shape),)  # axis (NumPy) or dim (tensor) first

REPEAT = register(Op("repeat", "out = a tiled sizes[d] times along each dim d", ("Σ {up} over the copies",),
                     _repeat, _repeat_back, kind="shape", settings=("sizes",),
                     vjp_tensors=lambda up, inputs, out, saved: _repeat_back(up, saved)))


def _repeat_interleave(a, repeats, dim):
    out = np.repeat(a, repeats, axis=dim)
    owners = np.repeat(np.arange(a.shape[dim]), repeats)
    return out, (a.shape, dim, owners)

def _repeat_interleave_back(up, saved):
    shape, dim, owners = saved
    return (_slices_placed(up, shape, dim, owners),)

REPEAT_INTERLEAVE = register(Op(
    "repeat_interleave", "out = each entry of a repeated in place along dim", ("Σ {up} over each entry's repeats",),
    _repeat_interleave, _repeat_interleave_back, kind="shape", settings=("repeats", "dim"),
    vjp_tensors=lambda up, inputs, out, saved: (_slices_placed_tensor(up, *saved),),
))


def _unfold(a, dim, size, step):
    """A view of ``a``'s memory, as PyTorch's (a write through it reaches ``a``; windows may overlap)."""
    windows = np.lib.stride_tricks.sliding_window_view(a, size, axis=dim, writeable=a.flags.writeable)
    picked = (slice(None),) * dim + (slice(None, None, step),)
    return windows[picked], (a.shape, dim, size, step)

def _unfold_back(up, saved):
    shape, dim, size, step = saved
    grad = np.zeros(shape, dtype=up.dtype)
    windows = up.shape[dim]
    moved_up = np.moveaxis(up, dim, -2)  # (…, windows, size)
    moved_grad = np.moveaxis(grad, dim, -1)  # a view of grad
    for k in range(size):  # the k-th entry of every window: the places k, k + step, …, each once (a strided slice)
        moved_grad[..., k:k + step * (windows - 1) + 1:step] += moved_up[..., k]
    return (grad,)

def _unfold_vjp(up, inputs, out, saved):
    """:func:`_unfold_back` on tensors (recorded): windows laid end to end along dim, added back where they start."""
    shape, dim, size, step = saved
    windows = up.shape[dim]
    order = list(range(up.ndim - 1))
    laid = up.permute(tuple(order[:dim + 1] + [up.ndim - 1] + order[dim + 1:]))  # (…, windows, size, …)
    laid = laid.reshape(tuple(shape[:dim]) + (windows * size,) + tuple(shape[dim + 1:]))
    places = (np.arange(windows)[:, None] * step + np.arange(size)[None, :]).reshape(-1)
    return (_slices_placed_tensor(laid, shape, dim, places),)

UNFOLD = register(Op(
    "unfold", "out = the windows a[s·step : s·step + size] along dim, stacked", ("Σ {up} over the windows",),
    _unfold, _unfold_back, kind="shape", settings=("dim", "size", "step"), vjp_tensors=_unfold_vjp,
))


def _as_strided(a, places, steps):
    """A view of ``a``'s row-major memory: ``out[i₀, i₁, …]`` is its flat entry ``places[i₀, i₁, …]``
    (``offset + Σₖ iₖ·stepₖ``); entries may repeat."""
    flat = a.reshape(-1)  # a view: a is row-major
    start = flat[places.flat[0]:] if places.size else flat
    view = np.lib.stride_tricks.as_strided(start, places.shape, tuple(step * a.itemsize for step in steps),
                                           writeable=a.flags.writeable)
    return view, (a.shape, places)

def _as_strided_back(up, saved):
    shape, places = saved
    return (_placed(up.reshape(-1), (int(np.prod(shape)),), (places.reshape(-1),)).reshape(shape),)

def _as_strided_vjp(up, inputs, out, saved):
    """:func:`_as_strided_back` on tensors (recorded: a ``scatter_add`` into zeros)."""
    shape, places = saved
    return (_placed_tensor(up.reshape(-1), (int(np.prod(shape)),), 0, places.reshape(-1)).reshape(shape),)

AS_STRIDED = register(Op(
    "as_strided", "out = a's entries at offset + Σₖ iₖ·strideₖ of its row-major memory",
    ("Σ {up} over the places that read each entry",), _as_strided, _as_strided_back, kind="shape",
    settings=("places", "stride"), vjp_tensors=_as_strided_vjp,
))


# --- scans and products ----------------------------------------------------------------------

_RUNNING_DTYPE = {np.dtype("float16"): np.dtype("float32"), np.dtype("float32"): np.dtype("float64")}
"""The dtype a running sum or product of these dtypes is carried in, as PyTorch's CPU scans carry it."""


def running(ufunc: np.ufunc, a: np.ndarray, axis: int) -> np.ndarray:
    """``ufunc``'s running total along ``axis`` (``np.add``: Σ_(k≤i) aₖ, ``np.multiply``: Π_(k≤i) aₖ) in ``a``'s
    dtype, carried as PyTorch carries it: float32 in float64 and float16 in float32, each entry rounded once at the
    end. So ``cumsum`` of (1e8, 1, −1e8) in float32 ends at 1, not 0, and 100,000 float32 entries give PyTorch's
    sums to the last bit, where a float32 total drifts by about 1e-3."""
    wide = _RUNNING_DTYPE.get(a.dtype)
    if wide is None:
        return ufunc.accumulate(a, axis=axis, dtype=a.dtype)
    return ufunc.accumulate(a, axis=axis, dtype=wide).astype(a.dtype)


def _cumsum(a, dim):
    return row_major(running(np.add, a, dim)), dim  # in a's dtype: the caller picks it (integers: int64)

def _cumsum_back(up, dim):
    # copied forwards: a gradient that autograd.grad hands out must be one gg.from_numpy takes (no negative strides)
    return (np.flip(running(np.add, np.flip(up, dim), dim), dim).copy(),)

CUMSUM = register(Op("cumsum", "outᵢ = Σ_(k≤i) aₖ  (along dim)", ("Σ_(j≥i) {up}ⱼ  (a reversed running sum)",),
                     _cumsum, _cumsum_back, kind="slicewise", settings=("dim",),
                     vjp_tensors=lambda up, inputs, out, dim: (up.flip(dim).cumsum(dim).flip(dim),)))


def _logcumsumexp(a, dim):
    out = row_major(running(np.logaddexp, a, dim))  # each step ln(e^s + e^a): no sum of exponentials to overflow
    return out, (a, out, dim)

def _from_the_end(values, dim):
    """``ln Σ_(j≥i) e^(vⱼ)`` along ``dim``: the running log-sum-exp from the last entry back."""
    return np.flip(np.logaddexp.accumulate(np.flip(values, dim), axis=dim), dim)

def _logcumsumexp_back(up, saved):
    """``Σ_(i≥k) ∂L/∂outᵢ · e^(aₖ − outᵢ)``, each sign of ∂L/∂out summed apart in logs (no exponent overflows)."""
    a, out, dim = saved
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = −∞: an upstream of 0 adds nothing
        logs = np.log(np.abs(up)) - out
    positive = _from_the_end(np.where(up > 0, logs, -np.inf), dim)
    negative = _from_the_end(np.where(up < 0, logs, -np.inf), dim)
    with np.errstate(invalid="ignore"):  # an entry of +∞ after −∞ (or of −∞ alone): PyTorch's NaN, without a warning
        return (np.exp(positive + a) - np.exp(negative + a),)

def _logcumsumexp_vjp(up, inputs, out, saved):
    (a,), dim = inputs, saved[2]
    logs = up.abs().where(up != 0, 1).log() - out  # log 1 where ∂L/∂out is 0: no 0·∞ in its own gradient
    positive = logs.where(up > 0, -math.inf).flip(dim).logcumsumexp(dim).flip(dim)
    negative = logs.where(up < 0, -math.inf).flip(dim).logcumsumexp(dim).flip(dim)
    return ((positive + a).exp() - (negative + a).exp(),)

LOGCUMSUMEXP = register(Op(
    "logcumsumexp", "outᵢ = ln Σ_(k≤i) e^(aₖ)  (along dim)", ("Σ_(j≥i) {up}ⱼ·e^(aᵢ − outⱼ)",),
    _logcumsumexp, _logcumsumexp_back,
    kind="slicewise", settings=("dim",), saves=((0, OUT),), vjp_tensors=_logcumsumexp_vjp))


def _others_product(a: np.ndarray, axis: int) -> np.ndarray:
    """``Π_(k≠i) aₖ`` along ``axis`` for every i, without dividing (exact at zeros); an empty ``axis`` has no
    entries, so no products (the empty array)."""
    if not a.shape[axis]:
        return np.ones_like(a)
    ones = np.ones_like(np.take(a, [0], axis=axis))
    before = np.multiply.accumulate(np.concatenate([ones, np.delete(a, -1, axis=axis)], axis=axis), axis=axis)
    after = np.flip(np.multiply.accumulate(np.concatenate([ones, np.delete(np.flip(a, axis), -1, axis=axis)],
                                                          axis=axis), axis=axis), axis)
    return before * after

def _cumprod(a, dim):
    return row_major(running(np.multiply, a, dim)), (a, dim)  # in a's dtype: the caller picks it (integers: int64)

def _cumprod_back(up, saved):
    """``∂L/∂aᵢ = Σ_(j≥i) upⱼ·Π_(k≤j, k≠i) aₖ = (Π_(k<i) aₖ)·Sᵢ`` with ``Sᵢ = Σ_(j≥i) upⱼ·Π_(i<k≤j) aₖ``, taken
    from the end as ``Sᵢ = upᵢ + aᵢ₊₁·Sᵢ₊₁``: one pass along dim, no division (exact at zeros). Half and single
    precision work in float64, whose range holds their products; where an ``Sᵢ`` still overflows after a zero, the
    ``0·∞`` it gives is the 0 it stands for when every ``upⱼ`` (j ≥ i) and ``aₖ`` (k > i) is finite."""
    a, dim = saved
    work = np.promote_types(a.dtype, np.float64) if a.dtype.itemsize < 8 else a.dtype
    quick = _cumprod_back_without_zeros(a, up, dim, work)
    if quick is not None:
        return (quick,)
    a_front = np.ascontiguousarray(np.moveaxis(a, dim, 0), dtype=work)
    up_front = np.moveaxis(up, dim, 0)
    later = np.empty_like(a_front)  # later[i] = Sᵢ
    if len(a_front):
        later[-1] = up_front[-1]
    rows = (len(a_front), a_front[0].size if len(a_front) else 0)  # 2-d, so that a row is an array, not a number
    a_rows, up_rows, later_rows = (x.reshape(rows) for x in (a_front, up_front, later))
    for i in range(len(a_front) - 2, -1, -1):
        np.multiply(a_rows[i + 1], later_rows[i + 1], out=later_rows[i])
        later_rows[i] += up_rows[i]
    before = np.ones_like(a_front)  # before[i] = Π_(k<i) aₖ
    np.multiply.accumulate(a_front[:-1], axis=0, out=before[1:])
    grad = before * later
    not_a_number = np.isnan(grad)
    if not_a_number.any():
        finite = np.isfinite(up_front) & np.isfinite(np.concatenate([a_front[1:], before[:1]]))
        finite_from_here = np.flip(np.logical_and.accumulate(np.flip(finite, 0), axis=0), 0)
        grad[not_a_number & (before == 0) & finite_from_here] = 0
    return (np.moveaxis(grad, 0, dim).astype(a.dtype, copy=False),)

def _cumprod_back_without_zeros(a, up, dim, work):
    """:func:`_cumprod_back` where no ``aₖ`` is 0, as PyTorch's: ``Sᵢ·Pᵢ = Σ_(j≥i) upⱼ·Pⱼ`` with ``Pⱼ = Π_(k≤j) aₖ``,
    so ``∂L/∂aᵢ = (Σ_(j≥i) upⱼ·Pⱼ)/aᵢ``: whole-array passes (a reversed running sum) instead of a loop along dim,
    in the working dtype. ``None`` (take the loop) where an ``aₖ`` is 0, or a running product leaves the range
    where the quotient keeps its precision (over- or underflows), or something is not finite."""
    if a.dtype.kind != "f" or not a.size:
        return None
    with np.errstate(over="ignore", under="ignore"):  # a probe: out of range, the loop takes over (and warns)
        products = np.multiply.accumulate(a, axis=dim, dtype=work)
    magnitudes = np.abs(products)
    tiny = np.finfo(work).tiny * 2**60
    if not (magnitudes.min() > tiny and magnitudes.max() < 1 / tiny and np.isfinite(up).all()):
        return None  # a zero, a NaN, or a product out of range
    weighted = np.flip(np.multiply(up, products, dtype=work), dim)
    return (np.flip(np.add.accumulate(weighted, axis=dim, out=weighted), dim) / a).astype(a.dtype, copy=False)


def _cumprod_vjp(up, inputs, out, saved):
    """:func:`_cumprod_back` on tensors (recorded), all i at once: row i of an (n, n) table is ``a`` with ``aᵢ``
    replaced by 1, whose running product is ``Π_(k≤j, k≠i) aₖ``; ``∂L/∂aᵢ`` sums ``upⱼ`` times it over j ≥ i.
    The 1s and the terms j < i are filled in, not multiplied by a mask of 0s: an infinite ``aₖ`` times 0 is NaN."""
    dim = saved[1]
    a, up = inputs[0].transpose(dim, -1), up.transpose(dim, -1)
    n = a.shape[-1]
    rows = a.unsqueeze(-2).masked_fill(a.new_tensor(np.eye(n), dtype=bool), 1)
    earlier = a.new_tensor(np.tril(np.ones((n, n)), -1), dtype=bool)  # j < i
    return ((up.unsqueeze(-2) * rows.cumprod(-1)).masked_fill(earlier, 0).sum(dim=-1).transpose(dim, -1),)

CUMPROD = register(Op("cumprod", "outᵢ = Π_(k≤i) aₖ  (along dim)", ("Σ_(j≥i) {up}ⱼ·Π_(k≤j, k≠i) {a}ₖ",),
                      _cumprod, _cumprod_back, kind="slicewise", settings=("dim",), saves=((0,),),
                      vjp_tensors=_cumprod_vjp))


def _prod(a, axis, keepdim):
    product = np.multiply.reduce(a, axis=axis, keepdims=keepdim, dtype=a.dtype)  # dtype: the caller's
    return row_major(product), (a, axis, keepdim)

def _prod_back(up, saved):
    a, axis, keepdim = saved
    if axis is None:
        others = _others_product(a.reshape(-1), 0).reshape(a.shape)
    else:
        others = _others_product(a, axis)
    return (_reduced_like(up, a.shape, axis, keepdim) * others,)

def _others_product_tensor(a, axis: int):
    """:func:`_others_product` on tensors (recorded): the running products before and after each entry, each
    the running product of ``(1, a₀, …, aₙ₋₂)`` (``a`` moved one place along, a 1 in front)."""
    n = a.shape[axis]
    first = (slice(None),) * axis + (slice(0, n - 1),)  # every entry but the last
    front = np.zeros(n)
    front[:1] = 1  # none where n = 0
    front = a.new_tensor(front.reshape([-1 if d == axis else 1 for d in range(a.ndim)]))

    def running(t):
        return (_slices_placed_tensor(t[first], tuple(a.shape), axis, np.arange(1, n)) + front).cumprod(axis)

    return running(a) * running(a.flip(axis)).flip(axis)

def _prod_vjp(up, inputs, out, saved):
    a, axis, keepdim = inputs[0], saved[1], saved[2]
    if axis is None:
        return (up * _others_product_tensor(a.reshape(-1), 0).reshape(a.shape),)
    return ((up if keepdim else up.unsqueeze(axis)) * _others_product_tensor(a, axis),)

PROD = register(Op("prod", "out = Π a", ("{up}·Π_(k≠i) {a}ₖ  (the product of the others)",), _prod, _prod_back,
                   kind="reduction", written="Π {a}", saves=((0,),), vjp_tensors=_prod_vjp))
