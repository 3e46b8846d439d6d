"""``torch.linalg``'s triangular solves and LU factorization: ``solve_triangular`` (and the older
``triangular_solve``), ``lu_factor``/``lu_factor_ex``, ``lu`` and ``lu_solve``.

* ``solve_triangular(A, B, upper=…)``: the X with ``T·X = B`` (``left=False``: ``X·T = B``), T the triangle of A
  that ``upper`` names (its diagonal taken as 1s with ``unitriangular=True``). It is ``solve`` of that triangle
  (``A.triu()`` or ``A.tril()``), so the gradient ``∂L/∂A = −T⁻ᵀ·∂L/∂X·Xᵀ`` reaches only the triangle, as in
  PyTorch, and second derivatives come with it;
* ``lu_factor(A)``: ``A = P·L·U`` by Gaussian elimination with partial pivoting (the largest entry of each column
  moved up before eliminating below it): L unit lower triangular, U upper, both packed in one matrix (L's 1s left
  out), and the row swaps as PyTorch's 1-based int32 pivots (row i was swapped with row ``pivots[i]``). The
  packed matrix is one row of the rule table (:mod:`glassgrad.ops_decompositions`: ``lu_factor``) with its
  gradient ``P·L⁻ᵀ·(tril(Lᵀ·L̄, −1) + triu(Ū·Uᵀ))·U⁻ᵀ`` (and its wide and tall forms);
* ``lu(A)``: ``(P, L, U)`` unpacked from it (``tril`` and ``triu``; P has no gradient), as ``gg.lu_unpack`` does
  with ``lu_factor``'s results;
* ``lu_solve(LU, pivots, B)``: ``A·X = B`` as two triangular solves, ``L·Y = Pᵀ·B`` then ``U·X = Y``
  (``adjoint=True``: ``Aᵀ·X = B``, ``X = P·L⁻ᵀ·U⁻ᵀ·B``), so it is differentiable in LU and B;
* ``gg.cholesky_solve(B, L)``: ``A·X = B`` for ``A = L·Lᵀ`` as ``L·Y = B`` then ``Lᵀ·X = Y``, and
  ``gg.cholesky_inverse(L)``: ``A⁻¹``, the same with ``B = I``. Only L's triangle is read, so only it gets a
  gradient (PyTorch's gradient also fills the other triangle, as if L were a full matrix).

>>> import glassgrad as gg
>>> A = gg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> LU, pivots = gg.linalg.lu_factor(A)          # row 1 swapped with row 2: 3 is the larger pivot
>>> pivots.tolist(), LU.tolist()
([2, 2], [[3.0, 4.0], [0.3333333432674408, 0.6666666269302368]])
>>> gg.linalg.lu_solve(LU, pivots, gg.tensor([[5.0], [11.0]])).flatten().tolist()
[1.0, 2.0]
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from . import ops_decompositions as rows
from .arguments import is_floating, shape_text
from .autograd import note_computed, recorded_call
from .creation import as_tensor
from .linalg import check_same_dtype, solve_as
from .linalg_decompositions import _matrices
from .ops_linalg import SingularMatrixError
from .settings import warn_once
from .tensor import Tensor, apply
from .tensor_methods import add

TriangularSolveResult = namedtuple("TriangularSolveResult", ["solution", "cloned_coefficient"])
LUFactorResult = namedtuple("LUFactorResult", ["LU", "pivots"])
LUFactorExResult = namedtuple("LUFactorExResult", ["LU", "pivots", "info"])
LUResult = namedtuple("LUResult", ["P", "L", "U"])


def _right_hand_side(a: Tensor, B: Any, left: bool, name: str) -> Tensor:
    """B checked against A for ``A·X = B`` (``left=False``: ``X·A = B``): a matrix or a batch of them."""
    b = as_tensor(B)
    if b.ndim < 2:
        raise RuntimeError(f"{name}: B must have at least 2 dims (…, n, k), got shape {shape_text(b.shape)}; for a "
                           "vector b use b.unsqueeze(-1)")
    if not is_floating(b.array.dtype):
        raise RuntimeError(f"{name}: B needs a floating dtype, got {b.dtype}; use B.double() or B.float() first")
    size, found = a.shape[-1], b.shape[-2 if left else -1]
    if found != size:
        equation = "A·X = B" if left else "X·A = B"
        raise RuntimeError(f"{name}: for {equation}, A of shape {shape_text(a.shape)} needs B with {size} "
                           f"{'rows' if left else 'columns'}, got shape {shape_text(b.shape)}")
    return b


def _triangle(a: Tensor, upper: bool, unitriangular: bool) -> Tensor:
    """The triangle of A that ``upper`` names; with ``unitriangular`` its diagonal replaced by 1s."""
    if unitriangular:
        return (a.triu(1) if upper else a.tril(-1)) + Tensor._wrap(np.eye(a.shape[-1], dtype=a.array.dtype))
    return a.triu() if upper else a.tril()


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False) -> Tensor:
    """The X with ``T·X = B`` (``left=False``: ``X·T = B``), T the upper or lower triangle of A; entries of A outside
    it are not read. A zero on T's diagonal is refused in one line (PyTorch returns ±inf/NaN)."""
    a = _matrices(A, "linalg.solve_triangular", square=True)
    b = _right_hand_side(a, B, left, "linalg.solve_triangular")
    if not unitriangular:  # a kernel of a compiled step: the diagonal is read at each call
        recorded_call(_refuse_a_zero_diagonal, a.array)
    triangle = _triangle(a, upper, unitriangular)
    return solve_as(triangle, b, False) if left else solve_as(triangle.mT, b.mT, False).mT  # X·T = B: Tᵀ·Xᵀ = Bᵀ


def _refuse_a_zero_diagonal(matrices: np.ndarray) -> None:
    """Refuse a triangular system with a 0 on its diagonal (PyTorch returns ±inf/NaN).

    Through :func:`~glassgrad.autograd.recorded_call`: a compiled step checked only its captures' matrices, and a
    later singular one gave inf/NaN without a word."""
    if np.any(np.diagonal(matrices, axis1=-2, axis2=-1) == 0):
        raise SingularMatrixError("linalg.solve_triangular: A has a 0 on its diagonal, so the triangular system has "
                                  "no unique solution; check the matrix (or pass unitriangular=True for 1s there)")


REPLACED_BY_LINALG = {
    "cholesky": ("torch.linalg.cholesky", "L = torch.linalg.cholesky(A) (upper=True: torch.linalg.cholesky(A).mH)"),
    "qr": ("torch.linalg.qr", "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete')"),
    "lu": ("torch.linalg.lu_factor", "LU, pivots = torch.linalg.lu_factor(A) (get_infos=True: lu_factor_ex)"),
    "lu_solve": ("torch.linalg.lu_solve", "X = torch.linalg.lu_solve(LU, pivots, B)"),
    "triangular_solve": ("torch.linalg.solve_triangular",
                         "X = torch.linalg.solve_triangular(A, B, upper=...): A first, and no copy of A returned"),
    "chain_matmul": ("torch.linalg.multi_dot", "torch.linalg.multi_dot([A, B, C]): one list of the matrices"),
}
"""The matrix functions from before ``torch.linalg`` that PyTorch 2 warns about: old name → (its replacement, how
to write the call with it)."""


def warn_replaced(name: str) -> None:
    """PyTorch's once-per-process UserWarning for an old matrix function (:data:`REPLACED_BY_LINALG`), at the
    learner's line; the function still runs."""
    replacement, spelling = REPLACED_BY_LINALG[name]
    warn_once(f"torch.{name} is deprecated in favor of {replacement} and will be removed in a future PyTorch "
              f"release. Write {spelling}")


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False) -> TriangularSolveResult:
    """``torch.triangular_solve`` (older spelling): the X with ``T·X = b`` (``transpose=True``: ``Tᵀ·X = b``), and a
    copy of A. Warns that it is deprecated, as PyTorch does."""
    warn_replaced("triangular_solve")
    a = as_tensor(A)
    check_same_dtype("triangular_solve", a, as_tensor(b), "A", "b")
    if transpose:
        solution = solve_triangular(a.mT, b, upper=not upper, unitriangular=unitriangular)
    else:
        solution = solve_triangular(a, b, upper=upper, unitriangular=unitriangular)
    return TriangularSolveResult(solution, a.clone())


def _refuse_no_pivoting(pivot: bool, name: str) -> None:
    if not pivot:
        raise RuntimeError(f"{name}: LU without pivoting is not implemented on the CPU (as in PyTorch); use "
                           "pivot=True")


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> LUFactorExResult:
    """``(LU, pivots, info)``: :func:`lu_factor` without the error; ``info`` is 0, or the 1-based order of U's first 0
    on its diagonal (the factors are still returned; only solving with them would divide by 0)."""
    a = _matrices(A, "linalg.lu_factor_ex")
    _refuse_no_pivoting(pivot, "linalg.lu_factor_ex")
    _, pivots, info = rows.lu_arrays(a.array)
    if check_errors:
        _raise_for_zero_pivot(info, "linalg.lu_factor_ex")
    return LUFactorExResult(apply(rows.LU_FACTOR, (a,), a.array), Tensor._wrap(note_computed(pivots)),
                             Tensor._wrap(note_computed(info)))


def _raise_for_zero_pivot(info: np.ndarray, name: str) -> None:
    failed = np.flatnonzero(info.reshape(-1))
    if failed.size:
        place = f" (batch entry {failed[0]})" if info.ndim else ""
        order = info.reshape(-1)[failed[0]]
        raise SingularMatrixError(f"{name}: U[{order},{order}] is 0{place}, so the matrix is singular and lu_solve "
                                  "would divide by 0; use linalg.lu_factor_ex (its info says which) or linalg.lu")


def lu_factor(A: Tensor, *, pivot: bool = True) -> LUFactorResult:
    """``(LU, pivots)`` with ``A = P·L·U`` (see the module docstring); a singular matrix is refused in one line."""
    LU, pivots, _ = lu_factor_ex(A, pivot=pivot, check_errors=True)
    return LUFactorResult(LU, pivots)


def lu(A: Tensor, *, pivot: bool = True) -> LUResult:
    """``(P, L, U)`` with ``A = P·L·U``: for A of shape m×n and k = min(m, n), P is m×m, L m×k (1s on its
    diagonal), U k×n. Its gradient reaches A through L and U (P is a constant)."""
    a = _matrices(A, "linalg.lu")
    _refuse_no_pivoting(pivot, "linalg.lu")
    packed, pivots, _ = lu_factor_ex(a)
    return lu_unpack(packed, pivots)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True) -> LUResult:
    """``torch.lu_unpack``: ``(P, L, U)`` from ``lu_factor``'s packed matrix and pivots (L and U empty with
    ``unpack_data=False``, P empty with ``unpack_pivots=False``)."""
    packed = _matrices(LU_data, "lu_unpack")
    rows_count, size = packed.shape[-2], min(packed.shape[-2:])
    empty = packed.new_zeros((0,))
    low = upper = p = empty
    if unpack_data:
        low = packed[..., :, :size].tril(-1) + Tensor._wrap(np.eye(rows_count, size, dtype=packed.array.dtype))
        upper = packed[..., :size, :].triu()
    if unpack_pivots:
        p = _permutation_matrix(packed, LU_pivots, rows_count, "lu_unpack")
    return LUResult(p, low, upper)


def _permutation_matrix(packed: Tensor, pivots: Any, rows_count: int, name: str) -> Tensor:
    """P of ``A = P·L·U`` (``rows_count`` rows) from ``lu_factor``'s pivots, checked.

    Worked out from the pivots' values by one kernel of a compiled step (:func:`recorded_call`): a replay kept the
    captures' permutation, and their check, for every later call's pivots, without a word."""
    found = as_tensor(pivots)
    if found.array.dtype != np.int32:
        raise RuntimeError(f"{name}: pivots must be int32 (as lu_factor returns them), got {found.dtype}")
    return Tensor._wrap(recorded_call(_permutation, found.array, packed.shape, rows_count, packed.array.dtype, name))


def _permutation(pivots: np.ndarray, shape: tuple, rows_count: int, dtype: np.dtype, name: str) -> np.ndarray:
    """:func:`_permutation_matrix`'s kernel: the pivots checked (a shape (…, min(m, n)), entries 1 … m), then P."""
    rows_in, size = shape[-2], min(shape[-2:])
    if pivots.shape[-1:] != (size,) or np.any(pivots < 1) or np.any(pivots > rows_in):
        raise RuntimeError(f"{name}: pivots must have shape (…, {size}) with entries from 1 to {rows_in}, got "
                           f"shape {shape_text(pivots.shape)}; pass the pivots lu_factor returned")
    return rows.permutation(pivots, rows_count, dtype)


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False) -> Tensor:
    """The X with ``A·X = B`` for ``A = P·L·U`` given as ``lu_factor``'s ``(LU, pivots)`` (``adjoint=True``:
    ``Aᵀ·X = B``; ``left=False``: ``X·A = B``, or ``X·Aᵀ = B``)."""
    packed = _matrices(LU, "linalg.lu_solve", square=True)
    b = _right_hand_side(packed, B, left, "linalg.lu_solve")
    check_same_dtype("linalg.lu_solve", packed, b, "LU", "B")
    if not left:  # X·A = B is Aᵀ·Xᵀ = Bᵀ
        return lu_solve(packed, pivots, b.mT, adjoint=not adjoint).mT
    p = _permutation_matrix(packed, pivots, packed.shape[-1], "linalg.lu_solve")
    if adjoint:  # Aᵀ = Uᵀ·Lᵀ·Pᵀ
        inner = solve_triangular(packed.mT, b, upper=False)
        return p @ solve_triangular(packed.mT, inner, upper=True, unitriangular=True)
    inner = solve_triangular(packed, p.mT @ b, upper=False, unitriangular=True)
    return solve_triangular(packed, inner, upper=True)


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """``torch.cholesky_solve``: the X with ``A·X = B`` for ``A = L·Lᵀ`` (``upper=True``: ``A = Uᵀ·U``, U given), as
    two triangular solves ``L·Y = B``, ``Lᵀ·X = Y``."""
    factor = _matrices(L, "cholesky_solve", square=True)
    low = factor.mT if upper else factor
    b = _right_hand_side(low, B, True, "cholesky_solve")
    check_same_dtype("cholesky_solve", low, b, "L", "B")
    inner = solve_triangular(low, b, upper=False)
    return solve_triangular(low.mT, inner, upper=True)


def cholesky_inverse(input: Tensor, upper: bool = False) -> Tensor:
    """``torch.cholesky_inverse``: ``A⁻¹`` for ``A = L·Lᵀ`` (``L`` the ``input``; ``upper=True``: ``A = Uᵀ·U``), as
    ``cholesky_solve(I, L)``."""
    factor = _matrices(input, "cholesky_inverse", square=True)
    eye = Tensor._wrap(np.broadcast_to(np.eye(factor.shape[-1], dtype=factor.array.dtype), factor.shape).copy())
    return cholesky_solve(eye, factor, upper)


add("triangular_solve", triangular_solve)  # b.triangular_solve(A), as in PyTorch
add("cholesky_solve", cholesky_solve)  # b.cholesky_solve(L)
add("cholesky_inverse", cholesky_inverse)  # L.cholesky_inverse()
