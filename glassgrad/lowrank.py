"""Randomized low-rank SVD and PCA (Halko, Martinsson & Tropp, 2011): ``svd_lowrank`` and ``pca_lowrank``.

To approximate the top ``q`` singular triplets of an m×n matrix A without its full SVD:

1. draw a Gaussian n×q matrix Ω (glassgrad's generator) and take an orthonormal basis Q of the range of
   ``Y = A·Ω`` (a QR factorization: Q is m×q);
2. ``niter`` times, sharpen the basis by power iteration: ``Q ← qr(Aᵀ·Q).Q``, then ``Q ← qr(A·Q).Q``
   (each pass raises the weight of the large singular values);
3. the small q×n matrix ``B = Qᵀ·A`` has the SVD ``B = Û·S·Vᵀ``, and ``A ≈ Q·Qᵀ·A = (Q·Û)·S·Vᵀ``.

When A has rank at most q, ``Q·Qᵀ·A = A`` whatever Ω was, so ``U·diag(S)·Vᵀ`` is A itself and S holds its
singular values (zeros past the rank). As in PyTorch, a wide matrix (m < n) or one with n > q is handled
through its transpose, which keeps B small. ``pca_lowrank`` subtracts the column means first (``center=True``),
so V's columns are the principal directions and ``S²/(m − 1)`` the variances along them.

Everything is made of ``matmul``, ``linalg.qr`` and ``linalg.svd``, so gradients flow where those rows have one:
the singular values' gradient ``∂σᵢ/∂A = uᵢ·vᵢᵀ`` does not depend on Ω when the rank is at most q (and the
singular values are distinct).

>>> import glassgrad as gg
>>> A = gg.tensor([[3.0, 0.0], [0.0, 2.0], [0.0, 0.0]], dtype=gg.float64)
>>> U, S, V = gg.svd_lowrank(A, q=2)
>>> [round(s, 6) for s in S.tolist()]
[3.0, 2.0]
"""

from __future__ import annotations

from typing import Any

from .arguments import is_floating, shape_text
from .creation import as_tensor, randn
from .linalg_decompositions import qr, svd
from .tensor import Tensor


def _range_basis(A: Tensor, q: int, niter: int) -> Tensor:
    """An m×q matrix whose orthonormal columns span (approximately) the range of A's top q singular vectors."""
    sketch = randn(*A.shape[:-2], A.shape[-1], q, dtype=A.dtype)
    basis = qr(A @ sketch).Q
    for _ in range(niter):
        basis = qr(A.mT @ basis).Q
        basis = qr(A @ basis).Q
    return basis


def _matrix(A: Any, name: str) -> Tensor:
    a = as_tensor(A)
    if a.ndim < 2 or not is_floating(a.array.dtype):
        raise ValueError(f"{name}: expected a floating matrix or a batch of them (…, m, n), got shape "
                         f"{shape_text(a.shape)} of {a.dtype}")
    return a


def _whole(value: Any, label: str, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name}: {label} must be a whole number >= {low}, got {value!r}")
    return value


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int = 2, M: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """``(U, S, V)`` with ``A − M ≈ U·diag(S)·Vᵀ``: U (…, m, q), S (…, q), V (…, n, q), from a random sketch
    sharpened by ``niter`` power iterations (exact when ``A − M`` has rank ≤ q). ``M`` (broadcast to A's shape)
    is subtracted first; a q above min(m, n) gives min(m, n) triplets."""
    a = _matrix(A, "svd_lowrank")
    if M is not None:
        a = a - as_tensor(M)
    m, n = a.shape[-2:]
    q = 6 if q is None else _whole(q, "q", "svd_lowrank", 0)
    niter = _whole(niter, "niter", "svd_lowrank", 0)
    if m < n or n > q:  # sketch the transpose: B = A·Q is m×q
        basis = _range_basis(a.mT, q, niter)
        U, S, Vh = svd(a @ basis, full_matrices=False)
        return U, S, basis @ Vh.mT
    basis = _range_basis(a, q, niter)
    U, S, Vh = svd(basis.mT @ a, full_matrices=False)
    return basis @ U, S, Vh.mT


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True, niter: int = 2) -> tuple[Tensor, Tensor, Tensor]:
    """Principal component analysis of the rows of A (…, m, n) by :func:`svd_lowrank`: ``(U, S, V)`` of A minus
    its column means (``center=False``: of A itself); V's columns are the principal directions. ``q`` defaults
    to min(6, m, n), and may not exceed min(m, n)."""
    a = _matrix(A, "pca_lowrank")
    m, n = a.shape[-2:]
    q = min(6, m, n) if q is None else _whole(q, "q", "pca_lowrank", 0)
    if q > min(m, n):
        raise ValueError(f"pca_lowrank: q(={q}) must not be greater than min(m, n)={min(m, n)}: a ({m}, {n}) matrix "
                         f"has {min(m, n)} principal components at most")
    centered = a - a.mean(-2, keepdim=True) if center else a
    return svd_lowrank(centered, q, niter)
