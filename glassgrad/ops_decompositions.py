"""Rows of the rule table for matrix decompositions: Cholesky, QR, the symmetric eigendecomposition, the SVD (and the
pseudo-inverse made of it) and LU.

Each works on a matrix or a batch of them (the last two dims), with NumPy's ``linalg``. A decomposition
with several factors is one row per factor (``qr_q`` and ``qr_r``, …): each node computes the whole
decomposition and keeps its own factor, and its backward is that factor's share of ``∂L/∂A`` — the
gradient is linear in the factors' upstream gradients, so the shares add up to the whole (the engine
adds them, as for any tensor used twice). With ``Xᵀ`` the transpose, ``I`` the identity and
``F ∘ X`` the entrywise product:

* ``cholesky``: ``A = L·Lᵀ``; ``∂L/∂A = L⁻ᵀ·Φ(Lᵀ·L̄)·L⁻¹`` with ``Φ(X) = ½(tril X + (tril X)ᵀ)`` (its diagonal
  halved twice over: once), a symmetric matrix;
* ``qr`` (m ≥ n): ``A = Q·R``; ``∂L/∂A = (Q̄ + Q·copyltu(M))·R⁻ᵀ``, ``M = R·R̄ᵀ − Q̄ᵀ·Q``, where
  ``copyltu(M)`` copies M's lower triangle onto its upper one; for m < n, ``A = [X | Y]`` is split and ``X``'s
  square QR is differentiated with ``Q̄ + Y·V̄ᵀ`` (``V = Qᵀ·Y``, R's last columns), and ``∂L/∂Y = Q·V̄``;
* ``eigh``: ``A = V·diag(λ)·Vᵀ`` (A symmetric, its lower triangle read); ``∂L/∂A = V·(diag(λ̄) +
  F ∘ ½(Vᵀ·V̄ − V̄ᵀ·V))·Vᵀ``, ``Fᵢⱼ = 1/(λⱼ − λᵢ)`` (0 on the diagonal): defined for distinct eigenvalues;
* ``svd``: ``A = U·diag(σ)·Vᵀ``; ``∂L/∂A = U·(J·S + diag(σ̄) + S·K)·Vᵀ + (I − U·Uᵀ)·Ū·S⁻¹·Vᵀ +
  U·S⁻¹·V̄ᵀ·(I − V·Vᵀ)``, ``J = F ∘ (Uᵀ·Ū − Ūᵀ·U)``, ``K = F ∘ (Vᵀ·V̄ − V̄ᵀ·V)``, ``Fᵢⱼ = 1/(σⱼ² − σᵢ²)``:
  defined for distinct non-zero singular values. With ``full_matrices=True`` only the first min(m, n)
  columns of U (rows of Vᴴ) carry a gradient, as in PyTorch;
* ``pinv``: ``X = A⁺``; ``∂L/∂A = −Xᵀ·X̄·Xᵀ + (I − A·X)·X̄ᵀ·X·Xᵀ + Xᵀ·X·X̄ᵀ·(I − X·A)`` (Golub and Pereyra, 1973):
  defined wherever the rank does not change, repeated singular values too;
* ``lu_factor``: ``A = P·L·U`` with partial pivoting (SciPy's LAPACK ``getrf``), L and U packed in one matrix;
  ``∂L/∂A = P·L⁻ᵀ·(tril(Lᵀ·L̄, −1) + triu(Ū·Uᵀ))·U⁻ᵀ`` for a square A (``L̄``, ``Ū`` the packed gradient's strict
  lower and upper parts; :func:`_lu_grad` has the wide and tall forms). The pivots are constants.

Each backward reads back its own factor (the node's output, and so PyTorch's saved tensor: a factor changed in
place before backward is refused, as PyTorch refuses it) and the others it computed itself, never A: for m < n
the block ``Y`` is read back as ``Q·V``.

The same formulas run on arrays (``backward``) and on recorded tensors (``vjp_tensors``, for second
derivatives: the factors are then computed again by these rows, so that they are in the graph).

>>> import numpy as np
>>> from glassgrad.ops import RULES
>>> RULES["cholesky"].forward(np.array([[4.0, 2.0], [2.0, 5.0]]))[0].tolist()
[[2.0, 0.0], [1.0, 2.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .ops import OUT, Op, register
from .ops_linalg import LinAlgError, svd_arrays

RECORDED: dict[str, Callable[..., Any]] = {}
"""The decompositions as recorded tensor functions (``qr``, ``eigh``, ``svd``), which the second derivatives compute
the factors with; :mod:`glassgrad.linalg_decompositions` fills it in (this module imports no tensor)."""


class NotPositiveDefiniteError(LinAlgError):
    """``cholesky`` met a matrix that is not symmetric positive-definite."""


def _tril(x, k=0):
    return np.tril(x, k) if isinstance(x, np.ndarray) else x.tril(k)


def _inverse(x):
    return np.linalg.inv(x) if isinstance(x, np.ndarray) else x.inverse()


def _eye(like, rows, columns=None):
    """The identity (rows × columns) in ``like``'s dtype, for arrays and tensors alike: a float64 one would make the
    products of a float32 tensor float64 (and its recorded matmul refuse the mix)."""
    return np.eye(rows, columns, dtype=like.dtype)


def _off_diagonal_ratio(values):
    """``Fᵢⱼ = 1/(vⱼ − vᵢ)`` for i ≠ j and 0 on the diagonal, for each vector of a batch."""
    eye = _eye(values, values.shape[-1])
    gaps = values[..., None, :] - values[..., :, None]
    return 1 / (gaps + eye) * (1 - eye)  # a number over a tensor, then a tensor times an array: right for both kinds


def _columns_scaled(x, scale):
    """``x·diag(scale)``."""
    return x * scale[..., None, :]


def _rows_scaled(scale, x):
    """``diag(scale)·x``."""
    return scale[..., :, None] * x


# --- Cholesky ------------------------------------------------------------------------------------

def _cholesky(a):
    try:
        low = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise NotPositiveDefiniteError(
            "cholesky: the matrix is not positive-definite, so it has no Cholesky factor; use a symmetric "
            "matrix with positive eigenvalues (B @ B.mT + eps * I is one)") from None
    return low, low


def cholesky_arrays(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LAPACK's ``potrf`` on each matrix: L (where the factorization stopped, what it had written so far) and
    ``info`` (0, or the order of the first leading minor that is not positive-definite)."""
    from scipy.linalg import get_lapack_funcs  # loaded on first use: `import glassgrad` stays fast

    low = np.zeros(a.shape, a.dtype)
    info = np.zeros(a.shape[:-2], np.int32)
    for place in np.ndindex(*a.shape[:-2]):
        if a[place].size:
            potrf, = get_lapack_funcs(("potrf",), (a[place],))
            low[place], info[place] = potrf(a[place], lower=True, clean=True)
    return low, info


def _cholesky_grad(up, low):
    """``L⁻ᵀ·Φ(Lᵀ·L̄)·L⁻¹``, ``Φ(X) = ½(tril X + (tril X)ᵀ)``."""
    product = _tril(low.mT @ up)
    phi = (product + _tril(product, -1).mT) / 2
    inverse = _inverse(low)
    return inverse.mT @ phi @ inverse


CHOLESKY = register(Op(
    "cholesky", "out = L with L·Lᵀ = A, L lower triangular", ("L⁻ᵀ·Φ(Lᵀ·{up})·L⁻¹",), _cholesky,
    lambda up, low: (_cholesky_grad(up, low),), kind="contraction", roles=("A",), written="cholesky({A})",
    saves=((OUT,),), vjp_tensors=lambda up, inputs, out, saved: (_cholesky_grad(up, out),),
))


# --- QR --------------------------------------------------------------------------------------------

def _qr_factors(a, mode):
    return np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")


def _copyltu(m):
    return _tril(m) + _tril(m, -1).mT


def _qr_grad(grad_q, grad_r, q, r, a):
    """``∂L/∂A`` from ``Q̄`` and ``R̄`` (either may be None: that factor got no gradient); ``a`` gives only the
    shape: a wide A's right block is read back as ``Y = Q·V``, from the factors alone, as PyTorch reads it (an A
    changed in place since the forward does not change the gradient)."""
    rows, columns = a.shape[-2], a.shape[-1]
    if rows < columns:  # A = [X | Y], R = [U | V]: X's square QR, and V = Qᵀ·Y
        square, rest = r[..., :, :rows], q @ r[..., :, rows:]
        grad_v = None if grad_r is None else grad_r[..., :, rows:]
        grad_u = None if grad_r is None else grad_r[..., :, :rows]
        if grad_v is not None:
            grad_q = rest @ grad_v.mT if grad_q is None else grad_q + rest @ grad_v.mT
        grad_x = _qr_grad(grad_q, grad_u, q, square, a[..., :, :rows])
        grad_y = (q @ grad_v) if grad_v is not None else 0 * rest
        return _joined(grad_x, grad_y)
    m = 0
    if grad_r is not None:
        m = r @ grad_r.mT
    if grad_q is not None:
        m = m - grad_q.mT @ q
    inner = q @ _copyltu(m) if grad_q is None else grad_q + q @ _copyltu(m)
    return inner @ _inverse(r).mT


def _joined(left, right):
    """``[left | right]`` side by side, as ``left·[I | 0] + right·[0 | I]`` (the same for arrays and tensors)."""
    width_left, width = left.shape[-1], left.shape[-1] + right.shape[-1]
    eye = _eye(left, width)
    return left @ eye[:width_left] + right @ eye[width_left:]


def _qr_check(a, mode):
    if mode == "complete" and a.shape[-2] > a.shape[-1]:
        raise RuntimeError("qr: the decomposition has no gradient with mode='complete' and more rows than columns "
                           "(the extra columns of Q are not unique); use mode='reduced'")


def _qr_q(a, mode):
    q, r = _qr_factors(a, mode)
    return q, (q, r, a, mode)


def _qr_q_back(up, saved):
    q, r, a, mode = saved
    _qr_check(a, mode)
    return (_qr_grad(up, None, q, r, a),)


def _qr_r(a, mode):
    q, r = _qr_factors(a, mode)
    return r, (q, r, a, mode)


def _qr_r_back(up, saved):
    q, r, a, mode = saved
    _qr_check(a, mode)
    return (_qr_grad(None, up, q, r, a),)


def _qr_vjp(position):
    def vjp(up, inputs, out, saved):
        _qr_check(inputs[0].array, saved[3])
        q, r = RECORDED["qr"](inputs[0], mode=saved[3])
        grads = (up, None) if position == 0 else (None, up)
        return (_qr_grad(*grads, q, r, inputs[0]),)
    return vjp


QR_Q = register(Op(
    "qr_q", "out = Q of A = Q·R (orthonormal columns)", ("(Q̄ + Q·copyltu(−Q̄ᵀ·Q))·R⁻ᵀ, Q̄ = {up}",), _qr_q,
    _qr_q_back, kind="contraction", roles=("A",), written="Q({A})", settings=("mode",), defaults=("reduced",),
    saves=((OUT,),), vjp_tensors=_qr_vjp(0),
))
QR_R = register(Op(
    "qr_r", "out = R of A = Q·R (upper triangular)", ("Q·copyltu(R·R̄ᵀ)·R⁻ᵀ, R̄ = {up}",), _qr_r, _qr_r_back,
    kind="contraction", roles=("A",), written="R({A})", settings=("mode",), defaults=("reduced",),
    saves=((OUT,),), vjp_tensors=_qr_vjp(1),
))


# --- the symmetric eigendecomposition ----------------------------------------------------------------

def _eigh_grad(grad_values, grad_vectors, values, vectors):
    """``V·(diag(λ̄) + F ∘ ½(Vᵀ·V̄ − V̄ᵀ·V))·Vᵀ`` (either gradient may be None)."""
    inner = 0
    if grad_vectors is not None:
        product = vectors.mT @ grad_vectors
        inner = _off_diagonal_ratio(values) * (product - product.mT) / 2
    if grad_values is not None:
        inner = inner + grad_values[..., :, None] * _eye(values, values.shape[-1])
    return vectors @ inner @ vectors.mT


def _eigh_values(a, uplo):
    values, vectors = np.linalg.eigh(a, UPLO=uplo)
    return values, (values, vectors, uplo)


def _eigh_vectors(a, uplo):
    values, vectors = np.linalg.eigh(a, UPLO=uplo)
    return vectors, (values, vectors, uplo)


def _eigh_vjp(position):
    def vjp(up, inputs, out, saved):
        values, vectors = RECORDED["eigh"](inputs[0], UPLO=saved[2])
        grads = (up, None) if position == 0 else (None, up)
        return (_eigh_grad(*grads, values, vectors),)
    return vjp


EIGH_VALUES = register(Op(
    "eigh_values", "out = λ of A = V·diag(λ)·Vᵀ (ascending)", ("V·diag({up})·Vᵀ",), _eigh_values,
    lambda up, saved: (_eigh_grad(up, None, *saved[:2]),), kind="contraction", roles=("A",), written="λ({A})",
    settings=("UPLO",), defaults=("L",), vjp_tensors=_eigh_vjp(0),
))
EIGH_VECTORS = register(Op(
    "eigh_vectors", "out = V of A = V·diag(λ)·Vᵀ (eigenvectors as columns)",
    ("V·(F ∘ ½(Vᵀ·V̄ − V̄ᵀ·V))·Vᵀ, V̄ = {up}, Fᵢⱼ = 1/(λⱼ − λᵢ)",), _eigh_vectors,
    lambda up, saved: (_eigh_grad(None, up, *saved[:2]),), kind="contraction", roles=("A",), written="V({A})",
    settings=("UPLO",), defaults=("L",), saves=((OUT,),), vjp_tensors=_eigh_vjp(1),
))


# --- the singular value decomposition ------------------------------------------------------------------

def _svd_grad(grad_u, grad_s, grad_vh, u, s, vh):
    """Each given factor's share of ``∂L/∂A`` (the others None), for the reduced factors (k = min(m, n))."""
    k = s.shape[-1]
    u, vh = u[..., :, :k], vh[..., :k, :]
    v = vh.mT
    inner = 0 if grad_s is None else grad_s[..., :, None] * _eye(s, k)
    outer = 0
    if grad_u is not None:
        grad_u = grad_u[..., :, :k]
        product = u.mT @ grad_u
        inner = inner + _columns_scaled(_off_diagonal_ratio(s * s) * (product - product.mT), s)
        if u.shape[-2] > k:
            spare = grad_u - u @ product  # (I − U·Uᵀ)·Ū
            outer = _columns_scaled(spare, 1 / s) @ vh
    if grad_vh is not None:
        grad_v = grad_vh[..., :k, :].mT
        product = v.mT @ grad_v
        inner = inner + _rows_scaled(s, _off_diagonal_ratio(s * s) * (product - product.mT))
        if v.shape[-2] > k:
            spare = grad_v - v @ product  # (I − V·Vᵀ)·V̄
            outer = outer + u @ _rows_scaled(1 / s, spare.mT)
    return u @ inner @ vh + outer


def _svd(position):
    def forward(a, full_matrices):
        factors = svd_arrays(a, full_matrices=full_matrices)
        return factors[position], factors
    return forward


def _svd_back(position):
    def backward(up, factors):
        grads = [None, None, None]
        grads[position] = up
        return (_svd_grad(*grads, *factors),)
    return backward


def _svd_vjp(position):
    def vjp(up, inputs, out, saved):
        grads = [None, None, None]
        grads[position] = up
        return (_svd_grad(*grads, *RECORDED["svd"](inputs[0], full_matrices=False)),)
    return vjp


_SVD_TEXTS = (("svd_u", "out = U of A = U·diag(σ)·Vᵀ (left singular vectors)", "U({A})",
               "U·(F ∘ (Uᵀ·Ū − Ūᵀ·U))·S·Vᵀ + (I − U·Uᵀ)·Ū·S⁻¹·Vᵀ, Ū = {up}, Fᵢⱼ = 1/(σⱼ² − σᵢ²)"),
              ("svd_s", "out = σ of A = U·diag(σ)·Vᵀ (singular values, descending)", "σ({A})",
               "U·diag({up})·Vᵀ"),
              ("svd_vh", "out = Vᵀ of A = U·diag(σ)·Vᵀ (right singular vectors as rows)", "Vᵀ({A})",
               "U·S·(F ∘ (Vᵀ·V̄ − V̄ᵀ·V))·Vᵀ + U·S⁻¹·V̄ᵀ·(I − V·Vᵀ), V̄ = ({up})ᵀ"))
SVD_U, SVD_S, SVD_VH = (register(Op(
    name, formula, (derivative,), _svd(position), _svd_back(position), kind="contraction", roles=("A",),
    written=written, settings=("full_matrices",), defaults=(False,), saves=((OUT,),), vjp_tensors=_svd_vjp(position),
)) for position, (name, formula, written, derivative) in enumerate(_SVD_TEXTS))


# --- the pseudo-inverse ------------------------------------------------------------------------------
# A row of its own, not V·diag(1/σ)·Uᵀ made of svd: the SVD's gradient needs distinct singular values, A⁺'s does not.

def _pinv(a, atol, rtol, hermitian):
    """``A⁺ = V·diag(1/σ)·Uᵀ`` with ``1/σ`` read as 0 for each σ ≤ ``max(atol, rtol·σ_max)``; ``hermitian``: from
    ``A = V·diag(λ)·Vᵀ`` (its lower triangle read), ``|λ|`` in place of σ."""
    if hermitian:
        sizes, left = np.linalg.eigh(a)
        right, magnitudes = np.swapaxes(left, -1, -2), np.abs(sizes)
    else:
        left, sizes, right = svd_arrays(a, full_matrices=False)
        magnitudes = sizes
    cutoff = np.maximum(atol, rtol * magnitudes.max(axis=-1, initial=0.0))  # atol, rtol: numbers or one per matrix
    inverted = np.divide(1, sizes, out=np.zeros_like(sizes), where=magnitudes > cutoff[..., None])
    out = np.swapaxes(right, -1, -2) @ (inverted[..., :, None] * np.swapaxes(left, -1, -2))
    return out, (a, out)


def _pinv_grad(up, a, x):
    """``−Xᵀ·X̄·Xᵀ + (I − A·X)·X̄ᵀ·X·Xᵀ + Xᵀ·X·X̄ᵀ·(I − X·A)`` (X = A⁺, X̄ = ∂L/∂X), for arrays and tensors."""
    rows_left = up.mT - a @ (x @ up.mT)  # (I − A·X)·X̄ᵀ
    columns_left = up.mT - (up.mT @ x) @ a  # X̄ᵀ·(I − X·A)
    return -(x.mT @ up @ x.mT) + rows_left @ (x @ x.mT) + (x.mT @ x) @ columns_left


PINV = register(Op(
    "pinv", "out = A⁺ = V·diag(1/σ)·Uᵀ (σ ≤ max(atol, rtol·σ_max) counted as 0)",
    ("−A⁺ᵀ·{up}·A⁺ᵀ + (I − A·A⁺)·{up}ᵀ·A⁺·A⁺ᵀ + A⁺ᵀ·A⁺·{up}ᵀ·(I − A⁺·A)",), _pinv,
    lambda up, saved: (_pinv_grad(up, *saved),), kind="contraction", roles=("A",), written="{A}⁺",
    settings=("atol", "rtol", "hermitian"), defaults=(0.0, 0.0, False), saves=((0, OUT),),
    vjp_tensors=lambda up, inputs, out, saved: (_pinv_grad(up, inputs[0], out),),
))


# --- LU with partial pivoting ------------------------------------------------------------------------
# A row because the pivoting is a choice made while eliminating (no composition of rows expresses it).

def lu_arrays(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LAPACK's ``getrf`` on each matrix: the packed factors (L below the diagonal, its 1s left out; U on and above),
    PyTorch's 1-based int32 pivots (row i was swapped with row ``pivots[i]``) and ``info`` (0, or the 1-based order
    of U's first zero diagonal entry)."""
    from scipy.linalg import get_lapack_funcs  # loaded on first use: `import glassgrad` stays fast

    rows, columns = a.shape[-2:]
    packed = np.empty(a.shape, a.dtype)
    pivots = np.empty(a.shape[:-2] + (min(rows, columns),), np.int32)
    info = np.zeros(a.shape[:-2], np.int32)
    for place in np.ndindex(*a.shape[:-2]):
        if a[place].size:
            getrf, = get_lapack_funcs(("getrf",), (a[place],))
            packed[place], found, info[place] = getrf(a[place])
            pivots[place] = found + 1
    return packed, pivots, info


def permutation(pivots: np.ndarray, rows: int, dtype: Any) -> np.ndarray:
    """The P with ``A = P·L·U`` from 1-based pivots: the rows' swaps made in turn, as a matrix per batch entry."""
    order = np.broadcast_to(np.arange(rows), pivots.shape[:-1] + (rows,)).copy()
    for place in np.ndindex(*pivots.shape[:-1]):
        for i, j in enumerate(pivots[place] - 1):
            order[place + (i,)], order[place + (j,)] = order[place + (j,)], order[place + (i,)]
    return np.swapaxes(np.eye(rows, dtype=dtype)[order], -1, -2)


def _triu(x, k=0):
    return np.triu(x, k) if isinstance(x, np.ndarray) else x.triu(k)


def _lu_grad(up, packed, p):
    """``∂L/∂A`` from the packed factors' gradient Ḡ (``L̄ = tril(Ḡ, −1)``, ``Ū = triu(Ḡ)``), A = P·L·U of shape m×n:

    * square: ``P·L⁻ᵀ·(tril(Lᵀ·L̄, −1) + triu(Ū·Uᵀ))·U⁻ᵀ``;
    * wide (U = [U₁ | U₂]): ``P·L⁻ᵀ·[(tril(Lᵀ·L̄ − Ū₂·U₂ᵀ, −1) + triu(Ū₁·U₁ᵀ))·U₁⁻ᵀ | Ū₂]``;
    * tall (L = [L₁; L₂]): ``P·[L₁⁻ᵀ·(tril(L₁ᵀ·L̄₁, −1) + triu(Ū·Uᵀ − L₂ᵀ·L̄₂)); L̄₂]·U⁻ᵀ``.
    """
    rows, columns = packed.shape[-2:]
    if rows < columns:
        low, upper = _tril(packed[..., :, :rows], -1) + _eye(packed, rows), _triu(packed)
        grad_low, grad_upper = _tril(up[..., :, :rows], -1), _triu(up)
        square, rest = upper[..., :, :rows], upper[..., :, rows:]
        grad_square, grad_rest = grad_upper[..., :, :rows], grad_upper[..., :, rows:]
        middle = _tril(low.mT @ grad_low - grad_rest @ rest.mT, -1) + _triu(grad_square @ square.mT)
        inside = _joined(middle @ _inverse(square).mT, grad_rest)
        return (inside.mT @ _inverse(low) @ p.mT).mT  # P·L⁻ᵀ·inside, with P an array on the right of a tensor
    if rows > columns:
        low, upper = _tril(packed, -1) + _eye(packed, rows, columns), _triu(packed[..., :columns, :])
        grad_low, grad_upper = _tril(up, -1), _triu(up[..., :columns, :])
        square, rest = low[..., :columns, :], low[..., columns:, :]
        grad_square, grad_rest = grad_low[..., :columns, :], grad_low[..., columns:, :]
        middle = _tril(square.mT @ grad_square, -1) + _triu(grad_upper @ upper.mT - rest.mT @ grad_rest)
        inside = _joined((_inverse(square).mT @ middle).mT, grad_rest.mT).mT  # [L₁⁻ᵀ·middle; L̄₂]
        return ((inside @ _inverse(upper).mT).mT @ p.mT).mT
    low, upper = _tril(packed, -1) + _eye(packed, rows), _triu(packed)
    middle = _tril(low.mT @ _tril(up, -1), -1) + _triu(_triu(up) @ upper.mT)
    return ((_inverse(low).mT @ middle @ _inverse(upper).mT).mT @ p.mT).mT


def _lu_factor(a):
    packed, pivots, _ = lu_arrays(a)
    return packed, (packed, permutation(pivots, a.shape[-2], a.dtype))


def _lu_back(up, saved):
    packed, p = saved
    if np.any(np.diagonal(packed[..., :min(packed.shape[-2:]), :], axis1=-2, axis2=-1) == 0):
        raise RuntimeError("lu: the gradient needs U⁻¹, but U has a 0 on its diagonal (the matrix is singular); "
                           "differentiate at an invertible matrix")
    return (_lu_grad(up, packed, p),)


LU_FACTOR = register(Op(
    "lu_factor", "out = L and U packed in one matrix, A = P·L·U (L unit lower triangular, U upper)",
    ("P·L⁻ᵀ·(tril(Lᵀ·L̄, −1) + triu(Ū·Uᵀ))·U⁻ᵀ, L̄ = tril({up}, −1), Ū = triu({up})",), _lu_factor, _lu_back,
    kind="contraction", roles=("A",), written="LU({A})", saves=((OUT,),),
    vjp_tensors=lambda up, inputs, out, saved: (_lu_grad(up, out, saved[1]),),
))
