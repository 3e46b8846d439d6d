"""``torch.linalg``: norms (:func:`vector_norm`, :func:`matrix_norm`, :func:`norm`), the inverse, determinant and
solve of square matrices (:mod:`glassgrad.ops_linalg`'s rows), and products made of ``matmul``.

A vector norm is one row of the rule table (:mod:`glassgrad.ops_norm`: ``‖a‖_p = (Σ |aᵢ|^p)^(1/p)``
and its slope); ``x.norm()`` (PyTorch's ``Tensor.norm``) and ``F.normalize`` use it too. A matrix
norm is written with rows a learner knows: Frobenius is the vector 2-norm of all entries, the
1-norm the largest column sum of ``|A|``, the ∞-norm the largest row sum; the spectral norm
(``ord=2``) is the largest singular value, ``−2`` the smallest, ``'nuc'`` their sum (the ``svd_s``
row of :mod:`glassgrad.ops_decompositions`).

>>> import glassgrad as gg
>>> gg.linalg.vector_norm(gg.tensor([3.0, -4.0])).item()
5.0
>>> gg.linalg.matrix_norm(gg.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1).item()   # column sums 4, 6
6.0
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops_decompositions, ops_linalg, ops_norm
from .arguments import check_dim, int_argument, is_floating, resolve_dtype, shape_text
from .autograd import note_computed
from .creation import as_tensor
from .ops_linalg import LinAlgError as LinAlgError
from .ops_linalg import SingularMatrixError as SingularMatrixError
from .tensor import Tensor, _reduce, apply


def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``‖x‖_ord = (Σ |xᵢ|^ord)^(1/ord)`` over ``dim`` (all entries when None); ``ord`` ±inf: the largest /
    smallest ``|xᵢ|``; 0: how many are not zero. A 0-d tensor ``ord`` counts as its number, as in PyTorch."""
    x = _in_norm_dtype(x, dtype, "linalg.vector_norm")
    if isinstance(ord, Tensor) and ord.ndim == 0 and not ord.requires_grad:  # PyTorch reads it as its number
        ord = ord.item()
    if not isinstance(ord, (int, float)):  # True counts as 1, as in PyTorch
        raise TypeError(f"linalg.vector_norm(): argument 'ord' must be a number (2, 1, inf, −inf, 0, any p), not "
                        f"{type(ord).__name__} ({ord!r}); for a matrix norm ('fro', 'nuc') use linalg.matrix_norm")
    return _reduce(ops_norm.NORM, x, dim, keepdim, None, None, float(ord))


def _in_norm_dtype(x: Tensor, dtype: Any, name: str) -> Tensor:
    """``x`` as a norm reads it: a floating tensor, converted to ``dtype`` where given, which must be a floating dtype
    that ``x``'s converts to without narrowing (float32 → float64, not float64 → float32), as PyTorch checks."""
    if not is_floating(x.array.dtype):
        raise RuntimeError(f"{name}: needs a floating tensor, got {x.dtype}; use x.float() first")
    wanted = resolve_dtype(dtype)
    if wanted is None or wanted == x.array.dtype:
        return x
    if not is_floating(wanted):
        raise RuntimeError(f"{name}: dtype must be a floating dtype, got {wanted}; give gg.float32 or gg.float64")
    if wanted.itemsize < x.array.dtype.itemsize:
        raise RuntimeError(f"{name}: dtype={wanted} would narrow the input's {x.array.dtype}; give a dtype at least "
                           f"as wide, or convert the input first (x.to(gg.{wanted}))")
    return x.to(wanted)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple[int, int] = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """The norm of the matrices in dims ``dim``: ``'fro'`` √(Σ aᵢⱼ²), 1 / −1 the largest / smallest column
    sum of ``|A|``, inf / −inf the largest / smallest row sum, 2 / −2 the largest / smallest singular value,
    ``'nuc'`` the sum of the singular values."""
    if not isinstance(dim, (tuple, list)):
        raise TypeError(f"linalg.matrix_norm(): argument 'dim' must be a pair of ints, not {type(dim).__name__} "
                        f"({dim!r}); give dim=(rows, columns)")
    if A.ndim < 2 or len(dim) != 2:
        raise RuntimeError(f"matrix_norm: needs a tensor with at least 2 dims and dim a pair, got shape "
                           f"{shape_text(A.shape)} and dim={dim!r}")
    if check_dim(A, dim[0], "linalg.matrix_norm") == check_dim(A, dim[1], "linalg.matrix_norm"):
        raise RuntimeError(f"linalg.matrix_norm: dims must be different, got dim={tuple(dim)!r}; give two different "
                           "dims (the matrices' rows and columns)")
    A = _in_norm_dtype(A, dtype, "linalg.matrix_norm")
    if ord == "fro":
        return vector_norm(A, 2, tuple(dim), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        summed, kept = (dim[0], dim[1]) if abs(ord) == 1 else (dim[1], dim[0])  # columns: sum down the rows
        sums = vector_norm(A, 1, summed, True)
        largest = _largest(sums, kept, keepdim=True) if ord > 0 else sums.amin(dim=kept, keepdim=True)
        return largest if keepdim else largest.squeeze(tuple(sorted(d % A.ndim for d in dim)))
    if ord in (2, -2, "nuc"):
        first, second = sorted(check_dim(A, d, "matrix_norm") for d in dim)
        moved = A.movedim((first, second), (-2, -1))
        values = apply(ops_decompositions.SVD_S, (moved,), moved.array, False)
        found = _largest(values, -1) if ord == 2 else values.amin(-1) if ord == -2 else values.sum(-1)
        return found.unsqueeze(first).unsqueeze(second) if keepdim else found
    raise RuntimeError(f"matrix_norm: ord={ord!r} is not a matrix norm; use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf")


def _largest(values: Tensor, dim: int, keepdim: bool = False) -> Tensor:
    """``values.amax(dim)`` of norms (sums of |a|, singular values); of none, along an empty dim, 0, as PyTorch gives
    (no norm is below 0: a matrix with no entries has norm 0). The smallest of none is refused, as PyTorch's."""
    return values.amax(dim=dim, keepdim=keepdim) if values.shape[dim] else values.sum(dim=dim, keepdim=keepdim)


def norm(input: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``torch.linalg.norm``: a vector norm over one dim (or of a 1-D tensor), a matrix norm over two dims
    (or of a 2-D tensor); with neither ``ord`` nor ``dim``, the 2-norm of all entries."""
    if dim is None and ord is None:
        return vector_norm(input, 2, None, keepdim, dtype=dtype)
    if dim is None and input.ndim not in (1, 2):
        raise RuntimeError(f"linalg.norm: with ord={ord!r} and no dim the input must be 1-D or 2-D, got shape "
                           f"{shape_text(input.shape)}; give dim")
    dims = (input.ndim - 2, input.ndim - 1) if dim is None and input.ndim == 2 else dim
    if isinstance(ord, str) and not (isinstance(dims, (tuple, list)) and len(dims) == 2):  # PyTorch's matrix refusal
        raise RuntimeError(f"linalg.norm: ord={ord!r} is a matrix norm, so it needs a 2-D input or a pair of dims, got "
                           f"shape {shape_text(input.shape)} and dim={dim!r}; give dim=(rows, columns)")
    if isinstance(dims, (tuple, list)) and len(dims) == 2:
        return matrix_norm(input, "fro" if ord is None else ord, tuple(dims), keepdim, dtype=dtype)
    return vector_norm(input, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


def tensor_norm(self: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """PyTorch's ``Tensor.norm`` / ``torch.norm``: the vector p-norm over ``dim`` (``'fro'`` is 2)."""
    if p == "nuc":  # PyTorch's: the matrix norm over dim (every dim by default), which must be a pair of dims
        dims = tuple(range(self.ndim)) if dim is None else tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
        return matrix_norm(self, "nuc", dims, keepdim, dtype=dtype)
    if p == "fro" and isinstance(dim, (list, tuple)) and len(dim) > 2:  # PyTorch's: a matrix norm takes two dims
        raise RuntimeError(f"norm: p='fro' over given dims takes one or two of them (a matrix's), got dim="
                           f"{tuple(dim)}; use p=2 for the 2-norm over more dims")
    if isinstance(p, str) and p != "fro":  # PyTorch hands a string p to its matrix norm, which refuses it
        raise RuntimeError(f"norm: p={p!r} is not supported; a string p is 'fro' or 'nuc', else give a number (2, 1, "
                           "inf, …)")
    return vector_norm(self, 2 if p in ("fro", None) else p, dim, keepdim, dtype=dtype)



# --- square matrices (rows of glassgrad.ops_linalg) -----------------------------------------------

SignLogDet = namedtuple("SignLogDet", ["sign", "logabsdet"])
"""What ``slogdet`` returns, as in PyTorch: the determinant's sign and ``ln |det|``."""


def _square(A: Any, name: str, integers: bool = False) -> Tensor:
    """A checked to be a square matrix or a batch of them, of a floating dtype (``integers``: or an integer one)."""
    a = as_tensor(A)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{name}: expected a square matrix or a batch of them (…, n, n), got shape "
                           f"{shape_text(a.shape)}")
    if not is_floating(a.array.dtype) and not (integers and a.array.dtype.kind in "iu"):
        raise RuntimeError(f"{name}: needs a floating tensor, got {a.dtype}; use A.double() or A.float() first")
    return a


def inv(A: Tensor) -> Tensor:
    """``A⁻¹`` (of each matrix of a batch); a singular matrix is refused."""
    a = _square(A, "inv")
    return apply(ops_linalg.INV, (a,), a.array)


def det(A: Tensor) -> Tensor:
    """``det A`` (of each matrix of a batch); its gradient is exact for a singular A too."""
    a = _square(A, "det")
    return apply(ops_linalg.DET, (a,), a.array)


def slogdet(A: Tensor) -> SignLogDet:
    """``(sign, ln |det A|)``: the determinant without overflow; the sign has no gradient."""
    a = _square(A, "slogdet")
    # ±1 even where det underflows to 0
    sign = Tensor._wrap(note_computed(np.linalg.slogdet(a.array)[0].astype(a.array.dtype)))
    return SignLogDet(sign, apply(ops_linalg.LOGABSDET, (a,), a.array))


def logdet(input: Tensor) -> Tensor:
    """``ln det A``: NaN where the determinant is negative, as in PyTorch."""
    sign, value = slogdet(input)
    return value.masked_fill(Tensor._wrap(note_computed(sign.array < 0)), math.nan)  # no slope there, as in PyTorch


def is_vector(a: Tensor, b: Tensor) -> bool:
    """Whether ``solve`` reads B as a vector (…, n) rather than a matrix (…, n, k): PyTorch's rule."""
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


def check_same_dtype(name: str, reference: Tensor, other: Tensor, reference_name: str, other_name: str) -> None:
    """PyTorch's refusal to solve with two dtypes (a float32 kernel matrix and float64 targets from NumPy, say):
    one line naming both and the conversion, where a silent promotion would hide the mix."""
    if other.array.dtype != reference.array.dtype:
        raise RuntimeError(f"{name}: {reference_name} is {reference.dtype} and {other_name} is {other.dtype}; give "
                           f"both the same dtype ({other_name}.to({reference_name}.dtype))")


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """The X with ``A·X = B`` (``left=False``: ``X·A = B``); B a matrix (…, n, k) or a vector (…, n) of A's dtype."""
    a, b = _square(A, "solve"), as_tensor(B)
    check_same_dtype("linalg.solve", a, b, "A", "B")
    if not left:
        return solve(a.mT, b.mT).mT
    return solve_as(a, b, is_vector(a, b))


def batch_shape(name: str, a: Tensor, b: Tensor, vector: bool) -> tuple[int, ...]:
    """The batch dims of A (…, n, n) and B (…, n, k), or (…, n) when ``vector``, broadcast together; one line (PyTorch's
    RuntimeError) where they do not broadcast, not NumPy's ValueError from inside the solver."""
    batch_a, batch_b = a.shape[:-2], b.shape[:-1 if vector else -2]
    try:
        return np.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        raise RuntimeError(f"{name}: the batch dims of A {shape_text(batch_a)} (shape {shape_text(a.shape)}) and of B "
                           f"{shape_text(batch_b)} (shape {shape_text(b.shape)}) do not broadcast (aligned from the "
                           "right, each pair of sizes must be equal or 1)") from None


def solve_as(a: Tensor, b: Tensor, vector: bool) -> Tensor:
    """``A·X = B`` with B read as a vector (…, n) or as a matrix (…, n, k), as the caller decided."""
    if b.shape[-1 if vector else -2] != a.shape[-1]:
        raise RuntimeError(f"solve: A of shape {shape_text(a.shape)} needs B with {a.shape[-1]} rows, got shape "
                           f"{shape_text(b.shape)}")
    batch_shape("solve", a, b, vector)
    dtype = np.result_type(a.array, b.array)
    return apply(ops_linalg.SOLVE, (a, b), a.array.astype(dtype, copy=False), b.array.astype(dtype, copy=False),
                 vector)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``Aⁿ`` by repeated squaring (``A⁰ = I``; a negative n powers the inverse); a new tensor, in the graph, as
    PyTorch's: ``A¹`` is a copy of A, and ``A⁰`` has the gradient 0 with respect to A. An integer A takes n ≥ 0
    (products of integers, as PyTorch's); its inverse is refused, as ``inv``'s."""
    n = int_argument(n, "linalg_matrix_power", "n")  # 2.0 or True: PyTorch's TypeError, not one from ``n & 1``
    a = _square(input, "matrix_power", integers=n >= 0)
    if n < 0:
        a, n = inv(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else result @ a
        n >>= 1
        if n:
            a = a @ a
    if result is None:  # I, picked from A's own place by a mask of False: in the graph, with no NaN from 0·∞
        identity = a.new_tensor(np.broadcast_to(np.eye(a.shape[-1]), a.shape).copy())
        return a.where(a.new_zeros(a.shape, dtype=np.bool_), identity)
    return result.clone() if result is input else result


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """``A₁ @ A₂ @ … @ Aₖ`` (the first may be a row vector, the last a column vector)."""
    tensors = [as_tensor(t) for t in tensors]
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot: expected at least 2 tensors, got {len(tensors)}")
    for position, t in enumerate(tensors):
        allowed = (1, 2) if position in (0, len(tensors) - 1) else (2,)
        if t.ndim not in allowed:
            raise RuntimeError(f"multi_dot: tensor {position} must be {' or '.join(f'{d}-D' for d in allowed)}, got "
                               f"shape {shape_text(t.shape)}")
    result = tensors[0]
    for t in tensors[1:]:
        result = result @ t
    return result


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The tensor X with ``tensordot(X, A, ind) = I``: A read as a square matrix (its first ``ind`` dims as rows, the
    others as columns), inverted, and read back with shape ``A.shape[ind:] + A.shape[:ind]``."""
    a = as_tensor(A)
    if isinstance(ind, bool) or not isinstance(ind, int) or ind <= 0:
        raise RuntimeError(f"linalg.tensorinv: ind must be a positive int, got {ind!r}")
    rows, columns = math.prod(a.shape[:ind]), math.prod(a.shape[ind:])
    if rows != columns:
        raise RuntimeError(f"linalg.tensorinv: A of shape {shape_text(a.shape)} read with ind={ind} is "
                           f"{rows}×{columns}, not square; give A with prod(shape[:ind]) == prod(shape[ind:])")
    return inv(a.reshape(rows, columns)).reshape(*a.shape[ind:], *a.shape[:ind])


def tensorsolve(A: Tensor, B: Tensor, dims: Sequence[int] | None = None) -> Tensor:
    """The X with ``tensordot(A, X, X.ndim) = B``: A read as a square matrix (its first ``B.ndim`` dims as rows; the
    dims in ``dims`` moved to the end first), B as a vector; X has shape ``A.shape[B.ndim:]``."""
    a, b = as_tensor(A), as_tensor(B)
    if dims is not None:
        a = a.movedim(tuple(dims), tuple(range(a.ndim - len(dims), a.ndim)))
    unknowns, equations = a.shape[b.ndim:], math.prod(b.shape)
    if math.prod(unknowns) != equations or math.prod(a.shape[:b.ndim]) != equations:
        raise RuntimeError(f"linalg.tensorsolve: A of shape {shape_text(a.shape)} read with B of shape "
                           f"{shape_text(b.shape)} is {math.prod(a.shape[:b.ndim])}×{math.prod(unknowns)} for "
                           f"{equations} equations; give B as many entries as A.shape[:B.ndim] and A.shape[B.ndim:]")
    return solve(a.reshape(equations, equations), b.reshape(equations)).reshape(unknowns)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """``Σ xᵢ·yᵢ`` along ``dim`` (broadcasting the other dims)."""
    product = as_tensor(x) * as_tensor(y)
    return product.sum(check_dim(product, dim, "vecdot"))


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """``input @ other``."""
    return as_tensor(input) @ as_tensor(other)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of a batch of matrices (``Tensor.diagonal`` with the last two dims by default)."""
    return as_tensor(A).diagonal(offset, dim1, dim2)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim``: ``(a₂b₃ − a₃b₂, a₃b₁ − a₁b₃, a₁b₂ − a₂b₁)`` (made of ``roll``)."""
    a, b = as_tensor(input), as_tensor(other)
    axis = check_dim(a, dim, "cross")
    if a.shape[axis] != 3 or b.ndim != a.ndim or b.shape[axis] != 3:
        raise RuntimeError(f"cross: needs 3 entries along dim {dim} in both, got shapes {shape_text(a.shape)} and "
                           f"{shape_text(b.shape)}")
    return a.roll(-1, axis) * b.roll(-2, axis) - a.roll(-2, axis) * b.roll(-1, axis)
