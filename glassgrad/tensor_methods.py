"""More of PyTorch's ``Tensor`` methods: math functions, picking and moving entries, scans, conversions.

They are defined here, beside the rows they use (:mod:`glassgrad.ops_math`,
:mod:`glassgrad.ops_index`), and attached to :class:`~glassgrad.tensor.Tensor` when glassgrad is
imported, so ``x.cumsum(0)``, ``x.gather(1, idx)``, ``x.tril()`` … work as in PyTorch. Each
differentiable method is one ``apply`` of a row; a few are compositions of other methods, said
in their docstrings (``chunk`` and ``split`` are slices, ``unflatten`` a reshape).

>>> import glassgrad as gg
>>> x = gg.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
>>> values, indices = x.sort(dim=1)
>>> values.sum().backward(); indices.tolist(), x.grad.tolist()
([[1, 2, 0]], [[1.0, 1.0, 1.0]])
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from . import ops_index, ops_math
from .arguments import check_dim, is_floating, resolve_dtype, shape_arg, shape_text
from .creation import _filled, pick_generator, tensor
from .device import check_device
from .dtypes import bool_, float16, int32
from .ops import WHERE
from .tensor import Tensor, _float_data, apply, lift, matmul

Sorted = namedtuple("Sorted", ["values", "indices"])
"""What ``sort`` and ``topk`` return, as in PyTorch: the values and where they came from."""

METHODS: dict[str, Any] = {}


def method(function: Any) -> Any:
    """Register ``function`` as the Tensor method of its name (attached by :func:`attach`).

    A name that would hide a Python builtin here (``int``, ``bool``, ``round``, ``type``) is
    written with a ``to_``/``_`` spelling and registered under PyTorch's name with :func:`named`.
    """
    METHODS[function.__name__] = function
    return function


def named(name: str) -> Any:
    """Register the function as the Tensor method ``name``."""
    def register(function: Any) -> Any:
        function.__name__ = function.__qualname__ = name
        METHODS[name] = function
        return function
    return register


# --- elementwise math (rows of ops_math) ----------------------------------------------------------

def _float_method(name: str, op: Any) -> None:
    def function(self: Tensor) -> Tensor:
        return apply(op, (self,), _float_data(self))
    function.__name__ = name
    function.__doc__ = f"``{op.formula}`` entry by entry; its derivative is ``{op.derivatives[0]}``."
    METHODS[name] = function


for _name, _op in [("tan", ops_math.TAN), ("asin", ops_math.ASIN), ("acos", ops_math.ACOS), ("atan", ops_math.ATAN),
                   ("sinh", ops_math.SINH), ("cosh", ops_math.COSH), ("asinh", ops_math.ASINH),
                   ("acosh", ops_math.ACOSH), ("atanh", ops_math.ATANH), ("log10", ops_math.LOG10),
                   ("log2", ops_math.LOG2), ("log1p", ops_math.LOG1P), ("expm1", ops_math.EXPM1),
                   ("rsqrt", ops_math.RSQRT), ("reciprocal", ops_math.RECIPROCAL)]:
    _float_method(_name, _op)
for _alias, _name in [("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"), ("arcsinh", "asinh"),
                      ("arccosh", "acosh"), ("arctanh", "atanh")]:
    METHODS[_alias] = METHODS[_name]


def _same_dtype_method(name: str, op: Any) -> None:
    def function(self: Tensor) -> Tensor:
        return apply(op, (self,), self.array)
    function.__name__ = name
    function.__doc__ = f"``{op.formula}`` entry by entry (keeps the dtype); its derivative is ``{op.derivatives[0]}``."
    METHODS[name] = function


for _name, _op in [("floor", ops_math.FLOOR), ("ceil", ops_math.CEIL), ("trunc", ops_math.TRUNC),
                   ("sign", ops_math.SIGN), ("square", ops_math.SQUARE)]:
    _same_dtype_method(_name, _op)
METHODS["fix"] = METHODS["trunc"]


@named("round")
def rounded(self: Tensor, decimals: int = 0) -> Tensor:
    """Nearest whole number (halves to even: ``round(0.5) = 0``), or ``decimals`` digits after the point.

    Its derivative is 0: a step function stops the gradient, as in PyTorch.
    """
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
        raise TypeError(f"round: decimals must be a whole number, got {decimals!r}")
    return apply(ops_math.ROUND, (self,), self.array, int(decimals))


@method
def atan2(self: Tensor, other: Any) -> Tensor:
    """The angle of the point ``(other, self)``, in (−π, π]: ``∂/∂a = b/(a² + b²)``, ``∂/∂b = −a/(a² + b²)``."""
    other = lift(other, self)
    a, b = _same_float(_float_data(self), _float_data(other))
    return _broadcasting(ops_math.ATAN2, (self, other), a, b)


METHODS["arctan2"] = atan2


@method
def lerp(self: Tensor, end: Any, weight: Any) -> Tensor:
    """``self + weight·(end − self)``: ``∂/∂self = 1 − w``, ``∂/∂end = w``, ``∂/∂weight = end − self``."""
    end = lift(end, self)
    weight = lift(weight, self)
    a, b = _same_float(_float_data(self), _float_data(end))
    w = weight.array.astype(a.dtype, copy=False)
    return _broadcasting(ops_math.LERP, (self, end, weight), a, b, w)


def _same_float(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dtype = np.result_type(a, b)
    return a.astype(dtype, copy=False), b.astype(dtype, copy=False)


def _broadcasting(op: Any, parents: tuple, *arrays: np.ndarray) -> Tensor:
    try:
        np.broadcast_shapes(*(array.shape for array in arrays))
    except ValueError:
        raise RuntimeError(f"{op.name}: shapes {', '.join(shape_text(a.shape) for a in arrays)} cannot be broadcast "
                           "together (sizes must match or be 1, aligned from the right)") from None
    return apply(op, parents, *arrays)


# --- comparisons and conversions ------------------------------------------------------------------

for _name, _dunder in [("eq", "__eq__"), ("ne", "__ne__"), ("lt", "__lt__"), ("le", "__le__"), ("gt", "__gt__"),
                       ("ge", "__ge__")]:
    METHODS[_name] = getattr(Tensor, _dunder)
METHODS.update(greater=METHODS["gt"], less=METHODS["lt"], greater_equal=METHODS["ge"], less_equal=METHODS["le"],
               not_equal=METHODS["ne"])


@method
def isclose(self: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Entry by entry ``|self − other| ≤ atol + rtol·|other|`` (a bool tensor, outside the graph)."""
    return Tensor._wrap(np.isclose(self.array, _plain(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


@method
def allclose(self: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether every entry is close (see :func:`isclose`): a Python bool."""
    return bool(np.allclose(self.array, _plain(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def _plain(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else value


@named("int")
def to_int(self: Tensor) -> Tensor:
    return self.to(int32)


@named("bool")
def to_bool(self: Tensor) -> Tensor:
    return self.to(bool_)


@method
def half(self: Tensor) -> Tensor:
    return self.to(float16)


TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
              "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
"""PyTorch's legacy type names (``torch.FloatTensor``) for ``t.type()``."""


@named("type")
def type_name(self: Tensor, dtype: Any = None) -> Any:
    """With no argument, PyTorch's type name (``'torch.FloatTensor'``); with a dtype, ``self.to(dtype)``."""
    if dtype is None:
        return f"torch.{TYPE_NAMES.get(self.array.dtype.name, self.array.dtype.name)}Tensor"
    if isinstance(dtype, str) and dtype.startswith("torch.") and dtype.endswith("Tensor"):
        legacy = {f"torch.{short}Tensor": name for name, short in TYPE_NAMES.items()}
        if dtype not in legacy:
            raise TypeError(f"type: unknown type name {dtype!r}; use e.g. 'torch.FloatTensor' or a dtype")
        dtype = legacy[dtype]
    return self.to(dtype)


@method
def type_as(self: Tensor, other: Tensor) -> Tensor:
    """``self.to(other.dtype)``."""
    return self.to(other.dtype)


@method
def element_size(self: Tensor) -> int:
    """Bytes per entry (4 for float32)."""
    return self.array.itemsize


METHODS["nelement"] = Tensor.numel


@method
def cpu(self: Tensor) -> Tensor:
    """The tensor itself: it already lives on the CPU, glassgrad's only device."""
    return self


@method
def cuda(self: Tensor, device: Any = None, non_blocking: bool = False) -> Tensor:
    """Refused with one line: glassgrad has no GPU (``.to(device)`` with a device chosen at run time works)."""
    check_device("cuda" if device is None or isinstance(device, int) else device)
    return self


def _new(name: str, value: Any):
    def function(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return _filled(size, value, dtype or self.dtype, requires_grad, name, device)
    function.__name__ = name
    function.__doc__ = f"A tensor of ``size`` filled with {value}, in this tensor's dtype unless ``dtype`` is given."
    METHODS[name] = function


_new("new_zeros", 0)
_new("new_ones", 1)
_new("new_empty", 0)


@method
def new_full(self: Tensor, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``, in this tensor's dtype unless ``dtype`` is given."""
    return _filled(tuple(size) if isinstance(size, (tuple, list)) else (size,), fill_value, dtype or self.dtype,
                   requires_grad, "new_full", device)


@method
def new_tensor(self: Tensor, data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``gg.tensor(data)`` in this tensor's dtype unless ``dtype`` is given."""
    return tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


# --- in-place random fills -------------------------------------------------------------------------

def _random_fill(self: Tensor, name: str, values: np.ndarray) -> Tensor:
    if not is_floating(self.array.dtype):
        raise TypeError(f"{name}: the tensor holds {self.array.dtype}, but its samples are real numbers; "
                        "fill a float tensor")
    return self.copy_(Tensor._wrap(values.astype(self.array.dtype)))


@method
def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    """Fill in place with samples of N(mean, std²) (``p.data.normal_(0, 0.02)``)."""
    if std < 0:
        raise RuntimeError(f"normal_: std must be >= 0, got {std}")
    rng = pick_generator(None, generator)
    return _random_fill(self, "normal_", mean + std * rng.standard_normal(self.shape))


@method
def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """Fill in place with samples of the uniform distribution on [a, b)."""
    if a > b:
        raise RuntimeError(f"uniform_: expects a <= b, got a={a}, b={b}")
    rng = pick_generator(None, generator)
    return _random_fill(self, "uniform_", rng.uniform(a, b, self.shape))


# --- matrices --------------------------------------------------------------------------------------

@method
def t(self: Tensor) -> Tensor:
    """The transpose of a matrix (a 0-d or 1-D tensor is returned as it is), as in PyTorch."""
    if self.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dims, but this one has shape {shape_text(self.shape)}; "
                           "use transpose(dim0, dim1) or .mT for the last two")
    return self.transpose(0, 1) if self.ndim == 2 else self


@method
def mm(self: Tensor, mat2: Tensor) -> Tensor:
    """Matrix product of two matrices (2-D only; ``@``/``matmul`` also broadcasts)."""
    if self.ndim != 2 or getattr(mat2, "ndim", 0) != 2:
        raise RuntimeError(f"mm: both operands must be matrices (2-D), got shapes {shape_text(self.shape)} and "
                           f"{shape_text(np.shape(_plain(mat2)))}; use @ for other shapes")
    return matmul(self, mat2)


@method
def bmm(self: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product: (b, n, m) @ (b, m, p) → (b, n, p), the same b on both sides."""
    other = np.shape(_plain(mat2))
    if self.ndim != 3 or len(other) != 3 or self.shape[0] != other[0]:
        raise RuntimeError(f"bmm: expected two 3-D tensors with the same batch size, got shapes "
                           f"{shape_text(self.shape)} and {shape_text(other)}")
    return matmul(self, mat2)


def _matrix_transpose(self: Tensor) -> Tensor:
    if self.ndim < 2:
        raise RuntimeError(f"mT needs a tensor with at least 2 dims, got shape {shape_text(self.shape)}")
    return self.transpose(-2, -1)


METHODS["mT"] = property(_matrix_transpose, doc="The last two dims swapped (a batch of matrices, transposed).")


@method
def view_as(self: Tensor, other: Tensor) -> Tensor:
    """``self.view(other.shape)``."""
    return self.view(other.shape)


@method
def unflatten(self: Tensor, dim: int, sizes: Any) -> Tensor:
    """Dim ``dim`` split into ``sizes`` (one may be -1): a reshape."""
    dim = check_dim(self, dim, "unflatten")
    sizes = shape_arg(tuple(sizes), "unflatten")
    return self.reshape(self.shape[:dim] + sizes + self.shape[dim + 1:])


@method
def tril(self: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (on and below diagonal ``diagonal``) of the last two dims; 0 above it."""
    return _triangle(self, ops_index.TRIL, diagonal)


@method
def triu(self: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (on and above diagonal ``diagonal``) of the last two dims; 0 below it."""
    return _triangle(self, ops_index.TRIU, diagonal)


def _triangle(self: Tensor, op: Any, diagonal: int) -> Tensor:
    if self.ndim < 2:
        raise RuntimeError(f"{op.name}: needs a matrix (at least 2 dims), got shape {shape_text(self.shape)}")
    return apply(op, (self,), self.array, int(diagonal))


@method
def diag(self: Tensor, diagonal: int = 0) -> Tensor:
    """1-D: a square matrix with these entries on diagonal ``diagonal``; 2-D: that diagonal of the matrix."""
    if self.ndim == 1:
        return apply(ops_index.DIAG, (self,), self.array, int(diagonal))
    if self.ndim == 2:
        return self.diagonal(diagonal)
    raise RuntimeError(f"diag: expects a 1-D or 2-D tensor, got shape {shape_text(self.shape)}; use diagonal()")


@method
def diagonal(self: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of dims ``dim1``, ``dim2`` (``offset`` above it), as the last dim of the result."""
    first, second = check_dim(self, dim1, "diagonal"), check_dim(self, dim2, "diagonal")
    if self.ndim < 2 or first == second:
        raise RuntimeError(f"diagonal: needs two different dims of a tensor with at least 2, got dim1={dim1}, "
                           f"dim2={dim2} for shape {shape_text(self.shape)}")
    return apply(ops_index.DIAGONAL, (self,), self.array, int(offset), first, second)


# --- picking entries -------------------------------------------------------------------------------

def _index_array(index: Any, name: str) -> np.ndarray:
    array = np.asarray(_plain(index))
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"{name}: the index must hold integers (gg.int64), got {array.dtype}")
    return array


def _check_index_range(index: np.ndarray, size: int, name: str, dim: int) -> None:
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = index.min() if index.min() < 0 else index.max()
        raise RuntimeError(f"{name}: index {bad} is out of bounds for dim {dim} of size {size} "
                           f"(expected 0 <= index < {size})")


def _along_index(self: Tensor, dim: int, index: Any, name: str) -> tuple[int, np.ndarray]:
    """``dim`` and ``index`` of ``gather``/``scatter``: as many dims as self, no larger elsewhere, in range."""
    dim = check_dim(self, dim, name)
    index = _index_array(index, name)
    if index.ndim != max(self.ndim, 1) and not (self.ndim == 0 and index.ndim == 0):
        raise RuntimeError(f"{name}: the index must have as many dims as the tensor ({self.ndim}), "
                           f"got shape {shape_text(index.shape)}")
    for d, (n, limit) in enumerate(zip(index.shape, self.shape)):
        if d != dim and n > limit:
            raise RuntimeError(f"{name}: the index of shape {shape_text(index.shape)} is larger than the tensor of "
                               f"shape {shape_text(self.shape)} in dim {d} (only dim {dim} may differ)")
    _check_index_range(index, self.shape[dim] if self.ndim else 1, name, dim)
    return dim, index


@method
def gather(self: Tensor, dim: int, index: Any) -> Tensor:
    """``out[i][j] = self[i][index[i][j]]`` for ``dim = 1`` (and likewise for any dim); out has index's shape."""
    dim, index = _along_index(self, dim, index, "gather")
    return apply(ops_index.GATHER, (self,), self.array, dim, index)


@method
def index_select(self: Tensor, dim: int, index: Any) -> Tensor:
    """The slices ``index[0], index[1], …`` of dim ``dim`` (``index`` 1-D), in that order; repeats allowed."""
    dim = check_dim(self, dim, "index_select")
    index = _index_array(index, "index_select")
    if index.ndim > 1:
        raise RuntimeError(f"index_select: the index must be 1-D, got shape {shape_text(index.shape)}")
    _check_index_range(index, self.shape[dim] if self.ndim else 1, "index_select", dim)
    return apply(ops_index.INDEX_SELECT, (self,), self.array, dim, index.reshape(-1))


def _source(self: Tensor, src: Any, value: Any, index: np.ndarray, name: str) -> Tensor:
    if src is None:
        src = value
    if src is None:
        raise TypeError(f"{name}: give the values to write: {name}(dim, index, src) or value=…")
    if isinstance(src, Tensor):
        if src.ndim != index.ndim or any(n > m for n, m in zip(index.shape, src.shape)):
            raise RuntimeError(f"{name}: src of shape {shape_text(src.shape)} must have as many dims as the index "
                               f"and be at least as large as the index {shape_text(index.shape)} in each")
        return src
    return Tensor._wrap(np.full(index.shape, src, dtype=self.dtype))


def _scatter(self: Tensor, name: str, dim: int, index: Any, src: Any, value: Any, add: bool) -> Tensor:
    dim, index = _along_index(self, dim, index, name)
    src = _source(self, src, value, index, name)
    a, b = self.array, src.array.astype(self.dtype, copy=False)
    return apply(ops_index.SCATTER_ADD if add else ops_index.SCATTER, (self, src), a, b, dim, index)


@method
def scatter(self: Tensor, dim: int, index: Any, src: Any = None, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy with ``out[i][index[i][j]] = src[i][j]`` (dim 1; likewise for any dim); ``src`` may be a number.

    ``reduce='add'`` adds instead (see :func:`scatter_add`). Where the index repeats, the last write wins.
    """
    if reduce not in (None, "add"):
        raise ValueError(f"scatter: reduce must be None or 'add', got {reduce!r}")
    return _scatter(self, "scatter", dim, index, src, value, reduce == "add")


@method
def scatter_add(self: Tensor, dim: int, index: Any, src: Any) -> Tensor:
    """A copy with ``src[i][j]`` added to ``out[i][index[i][j]]`` (dim 1; likewise for any dim): repeats add up."""
    return _scatter(self, "scatter_add", dim, index, src, None, True)


def _scatter_in_place(name: str, add: bool):
    def function(self: Tensor, dim: int, index: Any, src: Any = None, value: Any = None,
                 reduce: str | None = None) -> Tensor:
        result = _scatter(self, name, dim, index, src, value, add or reduce == "add")
        if result.requires_grad:
            raise RuntimeError(f"{name}: in place on a tensor in the graph is not supported; write it out of place: "
                               f"t = t.{name.rstrip('_')}(...)")
        return self.copy_(result)
    function.__name__ = name
    function.__doc__ = f"In-place ``{name.rstrip('_')}`` (outside the graph: for building tensors, e.g. one-hot)."
    METHODS[name] = function


_scatter_in_place("scatter_", False)
_scatter_in_place("scatter_add_", True)


@method
def masked_fill(self: Tensor, mask: Any, value: Any) -> Tensor:
    """``value`` where ``mask`` is True, else ``self`` (``scores.masked_fill(mask == 0, float('-inf'))``).

    ``∂out/∂self`` is 1 where the mask is False, 0 where it is True. The mask broadcasts to self's shape.
    """
    mask = _mask_array(self, mask, "masked_fill")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                               f"{shape_text(value.shape)}")
        if value.requires_grad:  # its gradient too: where(mask, value, self)
            return apply(WHERE, (value, self), mask, value.array.astype(self.dtype), self.array)
        value = value.item()
    return apply(ops_math.MASKED_FILL, (self,), self.array, mask, value)


@method
def masked_fill_(self: Tensor, mask: Any, value: Any) -> Tensor:
    """In place: ``self[mask] = value`` (the mask broadcast to self's shape)."""
    mask = _mask_array(self, mask, "masked_fill_")
    self[Tensor._wrap(np.broadcast_to(mask, self.shape))] = value
    return self


@method
def masked_select(self: Tensor, mask: Any) -> Tensor:
    """The entries where ``mask`` is True, as a 1-D tensor (``self[mask]``, broadcast)."""
    mask = _mask_array(self, mask, "masked_select")
    return self[Tensor._wrap(np.broadcast_to(mask, self.shape))]


def _mask_array(self: Tensor, mask: Any, name: str) -> np.ndarray:
    mask = np.asarray(_plain(mask))
    if mask.dtype != np.bool_:
        raise RuntimeError(f"{name}: the mask must be a bool tensor, got {mask.dtype}; compare first, e.g. x == 0")
    try:
        fits = np.broadcast_shapes(mask.shape, self.shape) == self.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"{name}: a mask of shape {shape_text(mask.shape)} does not broadcast to the tensor's "
                           f"shape {shape_text(self.shape)}")
    return mask


@method
def nonzero(self: Tensor, as_tuple: bool = False) -> Any:
    """The positions of the non-zero entries: an (n, ndim) int64 tensor, or one 1-D tensor per dim (as_tuple)."""
    positions = np.argwhere(self.array)
    if as_tuple:
        return tuple(Tensor._wrap(positions[:, d].copy()) for d in range(positions.shape[1]))
    return Tensor._wrap(positions.astype(np.int64))


# --- ordering --------------------------------------------------------------------------------------

def _order(self: Tensor, dim: int, descending: bool) -> np.ndarray:
    """Stable ascending (or descending) order along ``dim``: equal values keep their order."""
    keys = self.array if self.array.dtype.kind == "f" else self.array.astype(np.int64)
    if descending:
        keys = -keys
        if keys.dtype.kind == "f":
            keys = np.where(np.isnan(keys), -np.inf, keys)  # NaN counts as the largest, as in PyTorch
    return np.argsort(keys, axis=dim, kind="stable")


@method
def argsort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort dim ``dim`` (equal values keep their order: always stable here)."""
    dim = check_dim(self, dim, "argsort")
    if self.ndim == 0:
        return Tensor._wrap(np.zeros((), dtype=np.int64))
    return Tensor._wrap(_order(self, dim, descending).astype(np.int64))


@method
def sort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Sorted:
    """``(values, indices)`` sorted along ``dim``; the values' gradient goes back to where each came from."""
    indices = self.argsort(dim, descending)
    if self.ndim == 0:
        return Sorted(self.clone(), indices)
    return Sorted(apply(ops_index.SORT, (self,), self.array, check_dim(self, dim, "sort"), indices.array), indices)


@method
def topk(self: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Sorted:
    """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) entries along ``dim``, in order."""
    dim = check_dim(self, dim, "topk")
    size = self.shape[dim] if self.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= size:
        raise RuntimeError(f"topk: k ({k}) must be a whole number in [0, {size}] (the size of dim {dim})")
    if self.ndim == 0:
        return Sorted(self.clone(), Tensor._wrap(np.zeros((), dtype=np.int64)))
    chosen = np.take(_order(self, dim, largest), np.arange(k), axis=dim)
    return Sorted(apply(ops_index.TOPK, (self,), self.array, dim, chosen), Tensor._wrap(chosen.astype(np.int64)))


# --- moving and repeating entries --------------------------------------------------------------------

def _dims(self: Tensor, dims: Any, name: str) -> tuple:
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    checked = tuple(check_dim(self, d, name) for d in dims)
    if len(set(checked)) != len(checked):
        raise RuntimeError(f"{name}: dims {dims} name a dim twice")
    return checked


@method
def flip(self: Tensor, *dims: Any) -> Tensor:
    """The entries in reverse order along each of ``dims`` (``x.flip(0)``, ``gg.flip(x, [0, 1])``)."""
    dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    if self.ndim == 0:
        return self.clone()
    return apply(ops_index.FLIP, (self,), self.array, _dims(self, dims, "flip"))


@method
def roll(self: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Entries shifted by ``shifts`` along ``dims``, those pushed off one end coming back at the other.

    With no ``dims`` the tensor is rolled as if flattened, as in PyTorch.
    """
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            raise RuntimeError("roll: with no dims, shifts must be one whole number")
        return apply(ops_index.ROLL, (self,), self.array, int(shifts), None)
    dims = _dims(self, dims, "roll")
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: {len(shifts)} shift(s) for {len(dims)} dim(s); give one shift per dim")
    return apply(ops_index.ROLL, (self,), self.array, tuple(int(s) for s in shifts), dims)


@method
def repeat(self: Tensor, *sizes: Any) -> Tensor:
    """The whole tensor tiled ``sizes[d]`` times along each dim (extra leading sizes add dims), as in PyTorch."""
    sizes = shape_arg(sizes, "repeat")
    if len(sizes) < self.ndim:
        raise RuntimeError(f"repeat: give at least one size per dim ({self.ndim}), got {sizes}")
    if any(n < 0 for n in sizes):
        raise RuntimeError(f"repeat: sizes must be >= 0, got {sizes}")
    return apply(ops_index.REPEAT, (self,), self.array, sizes)


@method
def repeat_interleave(self: Tensor, repeats: Any, dim: int | None = None) -> Tensor:
    """Each entry repeated ``repeats`` times in place (``[1, 2] → [1, 1, 2, 2]``); with no dim, of the flattened tensor.

    ``repeats`` is a number or one count per entry along ``dim``.
    """
    source = self.reshape(-1) if dim is None else self
    dim = 0 if dim is None else check_dim(self, dim, "repeat_interleave")
    counts = np.asarray(_plain(repeats))
    if counts.dtype.kind not in "iu" or counts.ndim > 1 or (counts < 0).any():
        raise RuntimeError("repeat_interleave: repeats must be a whole number >= 0 or a 1-D tensor of them")
    size = source.shape[dim] if source.ndim else 1
    if counts.ndim == 1 and counts.size not in (1, size):
        raise RuntimeError(f"repeat_interleave: {counts.size} repeats for {size} entries along dim {dim}; "
                           "give one per entry")
    if source.ndim == 0:
        source = source.reshape(1)
    counts = counts.reshape(-1) if counts.ndim else int(counts)
    return apply(ops_index.REPEAT_INTERLEAVE, (source,), source.array, counts, dim)


@method
def unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` entries along ``dimension``, starting each ``step``: a new last dim of ``size``."""
    dim = check_dim(self, dimension, "unfold")
    length = self.shape[dim] if self.ndim else 1
    if not 0 <= size <= length or step <= 0:
        raise RuntimeError(f"unfold: size ({size}) must be in [0, {length}] (the size of dim {dimension}) "
                           f"and step ({step}) > 0")
    return apply(ops_index.UNFOLD, (self,), self.array, dim, int(size), int(step))


@method
def chunk(self: Tensor, chunks: int, dim: int = 0) -> tuple:
    """``chunks`` slices of dim ``dim`` of ⌈n/chunks⌉ entries each (the last may be smaller or missing): views."""
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be a whole number > 0, got {chunks!r}")
    dim = check_dim(self, dim, "chunk")
    size = -(-self.shape[dim] // int(chunks)) or 1
    return self.split(size, dim)


@method
def split(self: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Slices of dim ``dim``: each of ``split_size`` entries (the last may be smaller), or of the sizes listed."""
    dim = check_dim(self, dim, "split")
    total = self.shape[dim]
    if isinstance(split_size_or_sections, (int, np.integer)) and not isinstance(split_size_or_sections, bool):
        step = int(split_size_or_sections)
        if step <= 0:
            raise RuntimeError(f"split: split_size must be > 0, got {step}")
        sizes = [min(step, total - start) for start in range(0, total, step)] or [0]
    else:
        sizes = list(shape_arg(tuple(split_size_or_sections), "split"))
        if sum(sizes) != total:
            raise RuntimeError(f"split: the sizes {sizes} add up to {sum(sizes)}, but dim {dim} has {total} entries")
    starts = np.cumsum([0, *sizes])
    lead = (slice(None),) * dim
    return tuple(self[lead + (slice(int(start), int(start) + n),)] for start, n in zip(starts, sizes))


# --- scans and products -----------------------------------------------------------------------------

@method
def cumsum(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Running sums along ``dim``: ``outᵢ = Σ_{k≤i} aₖ`` (integers sum in int64, as in PyTorch)."""
    return apply(ops_index.CUMSUM, (self,), _cast(self, dtype), check_dim(self, dim, "cumsum"))


@method
def cumprod(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Running products along ``dim``: ``outᵢ = Π_{k≤i} aₖ`` (exact gradient at zeros)."""
    return apply(ops_index.CUMPROD, (self,), _cast(self, dtype), check_dim(self, dim, "cumprod"))


@method
def prod(self: Tensor, dim: int | None = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """The product of all entries, or along ``dim``: ``∂out/∂aᵢ = Π_{k≠i} aₖ`` (exact at zeros)."""
    axis = None if dim is None or self.ndim == 0 else check_dim(self, dim, "prod")
    return apply(ops_index.PROD, (self,), _cast(self, dtype), axis, bool(keepdim) and self.ndim > 0)


def _cast(self: Tensor, dtype: Any) -> np.ndarray:
    resolved = resolve_dtype(dtype)
    return self.array if resolved is None else self.array.astype(resolved)


def attach() -> None:
    """Make every method above a method of :class:`~glassgrad.tensor.Tensor`."""
    for name, function in METHODS.items():
        setattr(Tensor, name, function)


attach()
