"""``torch.linalg``'s decompositions: ``cholesky``, ``qr``, ``eigh``/``eigvalsh``, ``svd``/``svdvals``, ``pinv``
(from the SVD, or for ``hermitian=True`` from ``eigh``: a row of its own, whose gradient needs no distinct
singular values), and ``householder_product`` (Q from QR's reflectors).

Each factor is a row of :mod:`glassgrad.ops_decompositions` with its gradient; the results come as PyTorch's
named tuples. Eigenvectors and singular vectors are unique only up to sign (and, for repeated values, not
at all): a loss that depends on their signs gets a gradient that depends on NumPy's choice, and the
gradient through them is defined only for distinct eigen/singular values, as in PyTorch.

>>> import glassgrad as gg
>>> gg.linalg.eigvalsh(gg.tensor([[2.0, 1.0], [1.0, 2.0]])).tolist()
[1.0, 3.0]
>>> gg.linalg.svdvals(gg.tensor([[3.0, 0.0], [0.0, -4.0]])).tolist()
[4.0, 3.0]
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from . import ops_decompositions as rows
from .arguments import is_floating, shape_text
from .creation import as_tensor
from .ops_decompositions import NotPositiveDefiniteError as NotPositiveDefiniteError
from .tensor import Tensor, apply
from .tensor_methods import _plain

QRResult = namedtuple("QRResult", ["Q", "R"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


NO_INTEGER_KERNEL = frozenset({"eigh", "eigvalsh", "linalg.lu", "linalg.lu_factor_ex", "linalg.solve_triangular",
                               "cholesky_solve", "cholesky_inverse"})
"""The functions whose integer input PyTorch refuses with NotImplementedError (it has no kernel for them: "not
implemented for 'Long'"); the others check the dtype first and raise RuntimeError."""


def _matrices(A: Any, name: str, square: bool = False) -> Tensor:
    a = as_tensor(A)
    if a.ndim < 2 or (square and a.shape[-1] != a.shape[-2]):
        kind = "a square matrix or a batch of them (…, n, n)" if square else "a matrix or a batch of them (…, m, n)"
        raise RuntimeError(f"{name}: expected {kind}, got shape {shape_text(a.shape)}")
    if not is_floating(a.array.dtype):
        error = NotImplementedError if name in NO_INTEGER_KERNEL else RuntimeError
        raise error(f"{name}: needs a floating tensor, got {a.dtype}; use A.double() or A.float() first")
    if a.array.dtype == np.float16:
        raise NotImplementedError(f"{name}: float16 is not supported on the CPU (as in PyTorch); use A.float() first")
    return a


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The lower-triangular L with ``L·Lᵀ = A`` (``upper=True``: ``Lᵀ``) of a symmetric positive-definite A."""
    a = _matrices(A, "cholesky", square=True)
    low = apply(rows.CHOLESKY, (a,), a.array)
    return low.mT if upper else low


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """``A = Q·R`` with orthonormal columns in Q and R upper triangular; ``mode`` ``'reduced'`` (Q is m×k),
    ``'complete'`` (Q is m×m) or ``'r'`` (R only; Q empty)."""
    a = _matrices(A, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    shaped = "reduced" if mode == "r" else mode
    r = apply(rows.QR_R, (a,), a.array, shaped)
    q = a.new_zeros((0,)) if mode == "r" else apply(rows.QR_Q, (a,), a.array, shaped)
    return QRResult(q, r)


def _uplo(UPLO: str, name: str) -> str:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{name}: UPLO must be 'L' (read the lower triangle) or 'U', got {UPLO!r}")
    return UPLO


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric A, read from its lower triangle
    (``UPLO='U'``: the upper)."""
    a = _matrices(A, "eigh", square=True)
    uplo = _uplo(UPLO, "eigh")
    return EighResult(apply(rows.EIGH_VALUES, (a,), a.array, uplo), apply(rows.EIGH_VECTORS, (a,), a.array, uplo))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of a symmetric A; their gradient ``V·diag(λ̄)·Vᵀ`` is defined even where
    eigenvalues repeat."""
    a = _matrices(A, "eigvalsh", square=True)
    return apply(rows.EIGH_VALUES, (a,), a.array, _uplo(UPLO, "eigvalsh"))


def svd(A: Tensor, full_matrices: bool = True) -> SVDResult:
    """``A = U·diag(S)·Vh`` with S descending; ``full_matrices=False`` keeps only min(m, n) columns of U and
    rows of Vh (PyTorch's default is True, as here)."""
    a = _matrices(A, "svd")
    full = bool(full_matrices)
    return SVDResult(*(apply(row, (a,), a.array, full) for row in (rows.SVD_U, rows.SVD_S, rows.SVD_VH)))


def svdvals(A: Tensor) -> Tensor:
    """The singular values, descending; their gradient ``U·diag(σ̄)·Vᵀ``."""
    a = _matrices(A, "svdvals")
    return apply(rows.SVD_S, (a,), a.array, False)


def pinv(A: Tensor, rcond: Any = None, hermitian: bool = False, *, atol: Any = None, rtol: Any = None) -> Tensor:
    """The pseudo-inverse ``V·diag(1/σ)·Uᵀ``, singular values at most ``max(atol, rtol·σ_max)`` counted as 0
    (default: ``rtol = ε·max(m, n)``); ``hermitian=True`` uses ``eigh`` of a symmetric A (``|λ|`` in place of σ).
    One row (:data:`glassgrad.ops_decompositions.PINV`), whose gradient is defined at repeated singular values too.

    ``rcond`` is PyTorch's older name for ``rtol`` (``pinv(A, 1e-5)``, ``pinv(A, rcond=1e-5)``); it takes neither
    ``atol`` nor ``rtol`` beside it."""
    if rcond is not None:
        if atol is not None or rtol is not None:
            raise TypeError("linalg.pinv: give rcond (the older name of rtol) or atol/rtol, not both")
        rtol = rcond
    a = _matrices(A, "pinv")
    atol, rtol = tolerances(a, atol, rtol)
    return apply(rows.PINV, (a,), a.array, atol, rtol, bool(hermitian))


def tolerances(a: Tensor, atol: Any, rtol: Any) -> tuple[Any, Any]:
    """``atol`` and ``rtol`` (numbers, or tensors with one per matrix) as a float or a float64 array, with PyTorch's
    defaults: ``atol = 0``, and ``rtol = ε·max(m, n)`` unless an ``atol > 0`` is given (then 0)."""
    atol_values = np.asarray(0.0 if atol is None else _plain(atol), dtype=np.float64)
    if rtol is None:
        rtol = 0.0 if atol is not None and np.all(atol_values > 0) else float(np.finfo(a.array.dtype).eps) * max(
            a.shape[-2:])
    rtol_values = np.asarray(_plain(rtol), dtype=np.float64)
    return tuple(float(values) if values.ndim == 0 else values for values in (atol_values, rtol_values))


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first n columns of ``H₁·H₂·…·Hₖ``, ``Hᵢ = I − τᵢ·vᵢ·vᵢᵀ`` with ``vᵢ`` column i of A below the diagonal
    and 1 at row i (what LAPACK's QR stores: Q from its reflectors); A is m×n with m ≥ n, tau has k ≤ n entries.
    Made of ``matmul`` and products, so it is differentiable in A and tau."""
    a, t = as_tensor(A), as_tensor(tau)
    if a.ndim < 2:
        raise RuntimeError(f"linalg.householder_product: A must have at least 2 dims (…, m, n), got shape "
                           f"{shape_text(a.shape)}")
    height, columns = a.shape[-2:]
    if height < columns or t.ndim != a.ndim - 1 or t.shape[-1] > columns or t.shape[:-1] != a.shape[:-2]:
        raise RuntimeError(f"linalg.householder_product: needs A of shape (…, m, n) with m ≥ n and tau of shape (…, k) "
                           f"with k ≤ n and the same batch dims, got {shape_text(a.shape)} and {shape_text(t.shape)}")
    ones = Tensor._wrap(np.eye(height, columns, dtype=a.array.dtype))
    below = a.tril(-1)
    product = ones
    for column in reversed(range(t.shape[-1])):
        reflector = (below[..., :, column] + ones[:, column]).unsqueeze(-1)
        product = product - t[..., column, None, None] * reflector * (reflector.mT @ product)
    return product


rows.RECORDED.update(qr=qr, eigh=eigh, svd=svd)
