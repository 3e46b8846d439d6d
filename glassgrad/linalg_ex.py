"""``torch.linalg``'s ``_ex`` forms: ``cholesky_ex``, ``inv_ex`` and ``solve_ex`` return an ``info`` tensor instead
of raising, one int32 per matrix: 0 where it worked, otherwise the 1-based order of the step that failed (the
leading minor of that order is not positive-definite, or U[i, i] of A's LU factorization is 0). With
``check_errors=True`` a failure raises instead, in one line.

The results of the matrices that worked are those of ``cholesky``/``inv``/``solve`` (made of their rows, so their
gradients are the same); a failed matrix is replaced by the identity while computing, so that nothing divides
by 0, and its result is then set: ``cholesky_ex`` gives what LAPACK had written when it stopped (as PyTorch),
``inv_ex`` and ``solve_ex`` give NaN (PyTorch gives LAPACK's ±inf/NaN), with no gradient there.

>>> import glassgrad as gg
>>> gg.linalg.cholesky_ex(gg.tensor([[1.0, 2.0], [2.0, 1.0]])).info.item()      # 1 − 2·2 < 0 at order 2
2
>>> gg.linalg.inv_ex(gg.tensor([[2.0, 0.0], [0.0, 4.0]])).inverse.tolist()
[[0.5, 0.0], [0.0, 0.25]]
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from . import ops_decompositions as rows
from .autograd import note_computed
from .creation import as_tensor
from .functions import where
from .linalg import inv, is_vector, solve
from .linalg_decompositions import NotPositiveDefiniteError, _matrices, cholesky
from .ops_linalg import SingularMatrixError
from .tensor import Tensor

CholeskyExResult = namedtuple("CholeskyExResult", ["L", "info"])
InvExResult = namedtuple("InvExResult", ["inverse", "info"])
SolveExResult = namedtuple("SolveExResult", ["result", "info"])


def _first_failure(info: np.ndarray, name: str, error: type[RuntimeError], what: str) -> None:
    """Raise ``error`` for the first matrix whose ``info`` is not 0 (``what`` says what its number means)."""
    failed = np.flatnonzero(info.reshape(-1))
    if failed.size:
        place = f", in batch entry {failed[0]}" if info.ndim else ""
        raise error(f"{name}: {what.format(info.reshape(-1)[failed[0]])}{place}; read info with check_errors=False")


def _stand_in(a: Tensor, failed: np.ndarray) -> Tensor:
    """A with each failed matrix replaced by the identity (whose result is then thrown away)."""
    eye = Tensor._wrap(np.eye(a.shape[-1], dtype=a.array.dtype))
    return where(Tensor._wrap(note_computed(failed[..., None, None])), eye, a)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> CholeskyExResult:
    """``(L, info)``: :func:`glassgrad.linalg.cholesky` with ``info`` the order of the first leading minor that is not
    positive-definite (0 if none)."""
    a = _matrices(A, "linalg.cholesky_ex", square=True)
    partial, info = rows.cholesky_arrays(a.array)
    if check_errors:
        _first_failure(info, "linalg.cholesky_ex", NotPositiveDefiniteError,
                       "the matrix is not positive-definite (its leading minor of order {} is not)")
    failed = info != 0
    low = cholesky(_stand_in(a, failed) if failed.any() else a)
    if failed.any():
        low = where(Tensor._wrap(note_computed(failed[..., None, None])), Tensor._wrap(note_computed(partial)), low)
    return CholeskyExResult(low.mT if upper else low, Tensor._wrap(note_computed(info)))


def _lu_info(a: Tensor, name: str, check_errors: bool) -> tuple[np.ndarray, np.ndarray]:
    info = rows.lu_arrays(a.array)[2]
    if check_errors:
        _first_failure(info, name, SingularMatrixError, "the matrix is singular (U[{0},{0}] of its LU factorization "
                       "is 0)")
    return info != 0, info


def inv_ex(A: Tensor, *, check_errors: bool = False) -> InvExResult:
    """``(inverse, info)``: ``A⁻¹`` with ``info`` 0, or the order of the first 0 on U's diagonal of A's LU
    factorization (that matrix's inverse is NaN)."""
    a = _matrices(A, "linalg.inv_ex", square=True)
    failed, info = _lu_info(a, "linalg.inv_ex", check_errors)
    if not failed.any():
        return InvExResult(inv(a), Tensor._wrap(note_computed(info)))
    return InvExResult(where(Tensor._wrap(note_computed(failed[..., None, None])), math.nan, inv(_stand_in(a, failed))),
                       Tensor._wrap(note_computed(info)))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> SolveExResult:
    """``(result, info)``: :func:`glassgrad.linalg.solve` with ``info`` as :func:`inv_ex`'s, one per matrix of A (a
    singular matrix's solution is NaN)."""
    a = _matrices(A, "linalg.solve_ex", square=True)
    failed, info = _lu_info(a, "linalg.solve_ex", check_errors)
    if not failed.any():
        return SolveExResult(solve(a, B, left=left), Tensor._wrap(note_computed(info)))
    result = solve(_stand_in(a, failed), B, left=left)
    mask = failed[..., None] if is_vector(a, as_tensor(B)) else failed[..., None, None]
    return SolveExResult(where(Tensor._wrap(note_computed(mask)), math.nan, result), Tensor._wrap(note_computed(info)))
