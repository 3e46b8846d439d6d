"""``torch.linalg``'s least squares, rank and condition number: ``lstsq``, ``matrix_rank``, ``cond``, and ``vander``
(the design matrix of a polynomial fit: ``vander(x)·c`` is the polynomial with coefficients c at every xᵢ).

All three read the singular values ``σ₁ ≥ … ≥ σₖ`` of A (``k = min(m, n)``), and the solution is made of
rows a learner knows (``qr``, ``solve``, ``matmul``, ``pinv``), so its gradient, trace and second
derivative are theirs:

* ``lstsq(A, B)``: the X that makes ``‖A·X − B‖`` smallest (and, of those, the one with the smallest
  ``‖X‖``): ``X = A⁺·B`` with ``A⁺`` the pseudo-inverse. For a tall A of full rank (m ≥ n) it solves the
  normal equations ``AᵀA·X = AᵀB``; with ``A = Q·R`` they become ``R·X = Qᵀ·B`` (one triangular solve,
  without squaring A's condition number as ``AᵀA`` would). For a wide A of full rank (m < n) the
  smallest solution is ``X = Aᵀ·(A·Aᵀ)⁻¹·B``; with ``Aᵀ = Q·R`` it is ``Q·R⁻ᵀ·B``. A rank-deficient A
  uses ``pinv`` (singular values at most ``rcond·σ₁`` count as 0);
* ``matrix_rank(A)``: how many ``σᵢ > max(atol, rtol·σ₁)`` (no gradient: a count);
* ``cond(A, p)``: ``σ₁/σₖ`` for ``p`` None or 2 (``σₖ/σ₁`` for −2), else ``‖A‖_p · ‖A⁻¹‖_p`` (square A;
  ∞ where A is singular), which is ``Σσᵢ · Σ 1/σᵢ`` for ``'nuc'``.

>>> import glassgrad as gg
>>> A = gg.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])    # fit y = c₀ + c₁·x through (0, 1), (1, 3), (2, 5)
>>> [round(c, 6) for c in gg.linalg.lstsq(A, gg.tensor([[1.0], [3.0], [5.0]])).solution.flatten().tolist()]
[1.0, 2.0]
>>> gg.linalg.matrix_rank(gg.tensor([[1.0, 2.0], [2.0, 4.0]])).item()
1
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import numpy as np

from .arguments import is_floating, shape_text
from .autograd import note_computed, note_unreplayable
from .composed_products import _powers, _vandermonde_input
from .creation import as_tensor
from .functions import where
from .linalg import batch_shape, check_same_dtype, inv, matrix_norm, solve
from .linalg_decompositions import _matrices, pinv, qr, svdvals, tolerances
from .ops_linalg import SingularMatrixError, svd_arrays
from .tensor import Tensor

LstsqResult = namedtuple("LstsqResult", ["solution", "residuals", "rank", "singular_values"])
"""What ``lstsq`` returns, as in PyTorch (fields a driver does not compute are empty tensors)."""

_DRIVERS = ("gelsy", "gels", "gelsd", "gelss")


def _singular_values(a: np.ndarray) -> np.ndarray:
    return svd_arrays(a, compute_uv=False) if a.size else np.zeros(a.shape[:-2] + (min(a.shape[-2:]),), a.dtype)


def _rank(values: np.ndarray, atol: Any, rtol: Any) -> np.ndarray:
    """How many of each matrix's singular (or |eigen|) values exceed ``max(atol, rtol·largest)``."""
    largest = values.max(axis=-1, initial=0.0)
    cutoff = np.maximum(atol, rtol * largest)
    return np.count_nonzero(values > cutoff[..., None], axis=-1).astype(np.int64)


RANK_PICKS_THE_WAY = ("lstsq picks its way by A's rank, read from its singular values (QR where A has full rank, "
                      "else the pseudo-inverse), which a replay would not read again: a later rank-deficient A "
                      "would meet QR's refusal of a singular R, a full-rank one the pseudo-inverse's other bits")
"""Why a compiled step that calls :func:`lstsq` runs eagerly."""


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> LstsqResult:
    """The least-squares solution X of ``A·X ≈ B`` (B a matrix (…, m, k) or a vector (…, m)), with PyTorch's
    CPU fields: ``rank`` (not for ``'gels'``), ``singular_values`` (``'gelsd'``/``'gelss'`` only) and
    ``residuals`` ``‖A·X − B‖²`` per column (not for ``'gelsy'``, the default; only where m > n and every A
    has full rank). ``solution`` and ``residuals`` have gradients, as in PyTorch."""
    a = _matrices(A, "lstsq")
    b = as_tensor(B)
    if driver is None:
        driver = "gelsy"
    if driver not in _DRIVERS:
        raise RuntimeError(f"lstsq: driver must be one of {', '.join(map(repr, _DRIVERS))} (on the CPU), got "
                           f"{driver!r}")
    if not is_floating(b.array.dtype):
        raise RuntimeError(f"lstsq: B needs a floating dtype, got {b.dtype}; use B.double() or B.float() first")
    check_same_dtype("lstsq", a, b, "A", "B")
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if b.ndim == 0 or b.shape[-1 if vector else -2] != a.shape[-2]:
        raise RuntimeError(f"lstsq: A of shape {shape_text(a.shape)} has {a.shape[-2]} rows, so B needs {a.shape[-2]} "
                           f"rows too (shape (…, {a.shape[-2]}, k) or (…, {a.shape[-2]})), got shape "
                           f"{shape_text(b.shape)}")
    columns = b.unsqueeze(-1) if vector else b
    batch = batch_shape("lstsq", a, columns, False)
    a, columns = a.expand(*batch, *a.shape[-2:]), columns.expand(*batch, *columns.shape[-2:])
    rows, width = a.shape[-2:]
    if rcond is None:
        rcond = float(np.finfo(a.array.dtype).eps) * max(rows, width)
    values = _singular_values(a.array)
    rank = _rank(values, 0.0, rcond)
    full = bool(np.all(rank == min(rows, width)))
    note_unreplayable(RANK_PICKS_THE_WAY)  # a replay kept the captures' way (QR on a singular A: refused)
    if full and rows >= width:
        q, r = qr(a)
        x = solve(r, q.mT @ columns)
    elif full:
        q, r = qr(a.mT)
        x = q @ solve(r.mT, columns)
    else:
        x = pinv(a, rtol=rcond) @ columns
    empty = a.new_zeros((0,))
    residuals = empty
    if driver != "gelsy" and rows > width and full:
        residuals = ((a @ x - columns) ** 2).sum(-2)  # with X's gradient, as PyTorch's
    return LstsqResult(x.squeeze(-1) if vector else x, residuals,
                       Tensor._wrap(np.zeros(0, np.int64) if driver == "gels" else note_computed(rank)),
                       Tensor._wrap(note_computed(values)) if driver in ("gelsd", "gelss") else empty)


def matrix_rank(A: Tensor, tol: Any = None, hermitian: bool = False, *, atol: Any = None,
                rtol: Any = None) -> Tensor:
    """How many singular values exceed ``max(atol, rtol·σ₁)`` (``hermitian=True``: ``|λ|`` of a symmetric A).

    Defaults, as PyTorch's: ``rtol = ε·max(m, n)`` unless ``atol > 0`` is given (then 0); ``tol`` is the old
    spelling of ``atol`` (with ``rtol = 0``)."""
    a = _matrices(A, "matrix_rank", square=hermitian)
    if tol is not None:
        if atol is not None or rtol is not None:
            raise RuntimeError("matrix_rank: give either tol or atol/rtol, not both; tol is the same as atol")
        atol, rtol = tol, 0.0
    atol_values, rtol_values = tolerances(a, atol, rtol)
    if np.any(np.less(atol_values, 0)) or np.any(np.less(rtol_values, 0)):
        raise RuntimeError(f"matrix_rank: atol and rtol must be >= 0, got atol={atol!r} and rtol={rtol!r}")
    values = np.abs(np.linalg.eigvalsh(a.array)) if hermitian and a.array.size else _singular_values(a.array)
    return Tensor._wrap(note_computed(_rank(values, atol_values, rtol_values)))


_NORMS = (None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf)


def cond(A: Tensor, p: Any = None) -> Tensor:
    """The condition number ``κ(A)``: how much A can stretch a relative error (``σ₁/σₖ`` for ``p`` None or 2)."""
    a = _matrices(A, "cond")
    if isinstance(p, bool) or p not in _NORMS:
        raise RuntimeError(f"linalg.cond: p={p!r} is not a matrix norm; use None, 2, -2, 'fro', 'nuc', 1, -1, inf "
                           "or -inf")
    if p not in (None, 2, -2) and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.cond: p={p!r} needs square matrices, got shape {shape_text(a.shape)}; p=None, 2 "
                           "or -2 works for any shape")
    if 0 in a.shape[-2:]:
        return a.new_zeros(a.shape[:-2])  # a matrix with no entries: κ is 0, as PyTorch gives (it has no σ₁/σₖ)
    if p in (None, 2, -2):
        values = svdvals(a)
        largest, smallest = values[..., 0], values[..., -1]
        with np.errstate(divide="ignore", invalid="ignore"):  # a singular matrix's κ is ∞ (0/0: NaN), as PyTorch's
            return smallest / largest if p == -2 else largest / smallest
    if p == "nuc":  # Σσᵢ · Σ 1/σᵢ, as PyTorch (NaN for a zero matrix, huge or ∞ for a singular one)
        values = svdvals(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            return values.sum(-1) * (1 / values).sum(-1)
    try:
        return matrix_norm(a, p) * matrix_norm(inv(a), p)
    except SingularMatrixError:
        singular = np.zeros(a.shape[:-2], bool)
        for place in np.ndindex(*a.shape[:-2]):
            singular[place] = _has_no_inverse(a.array[place])
        eye = Tensor._wrap(np.eye(a.shape[-1], dtype=a.array.dtype))
        # invertible; its κ is replaced by ∞
        stand_in = where(Tensor._wrap(note_computed(singular[..., None, None])), eye, a)
        kappa = matrix_norm(stand_in, p) * matrix_norm(inv(stand_in), p)
        return where(Tensor._wrap(note_computed(singular)), math.inf, kappa)


def _has_no_inverse(matrix: np.ndarray) -> bool:
    try:
        np.linalg.inv(matrix)
    except np.linalg.LinAlgError:
        return True
    return False


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """``torch.linalg.vander``: ``out[…, i, j] = xᵢ^j`` (increasing powers) for x of shape (…, n)."""
    if as_tensor(x).ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least 1 dim (…, n), got a 0-d tensor")
    values, count = _vandermonde_input(x, N, "linalg.vander")
    if count < 2:
        raise RuntimeError(f"linalg.vander: N must be greater than 1 (it defaults to x.shape[-1]), got {count}; "
                           "give N=2 or more")
    return _powers(values, count)
