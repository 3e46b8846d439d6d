"""Rows of the rule table for square matrices: the inverse, the determinant and a linear solve.

Each works on a matrix or on a batch of them (the last two dims), with NumPy's ``linalg``:

* ``inv``: ``out = A⁻¹``; ``∂L/∂A = −A⁻ᵀ · ∂L/∂out · A⁻ᵀ`` (from ``d(A⁻¹) = −A⁻¹·dA·A⁻¹``);
* ``det``: ``out = det A``; ``∂L/∂A = ∂L/∂out · adj(A)ᵀ`` (Jacobi's formula; ``adj(A) = det A · A⁻¹`` when A
  is invertible). The adjugate comes from the singular values, ``adj(A) = det(U)·det(V) · V ·
  diag(Π_(j≠i) σⱼ) · Uᵀ`` for ``A = U·diag(σ)·Vᵀ``, so the gradient is exact for a singular A too;
* ``logabsdet``: ``out = ln |det A|`` (``slogdet``'s second half); ``∂L/∂A = ∂L/∂out · A⁻ᵀ``;
* ``solve``: ``X = A⁻¹·B`` (``A·X = B``, B a matrix or a vector); ``∂L/∂B = A⁻ᵀ·∂L/∂X`` (one more solve)
  and ``∂L/∂A = −∂L/∂B·Xᵀ``.

A singular matrix is refused in one line where the math has no answer (``inv``, ``solve``,
``logabsdet``, and the recorded second derivative of ``det``).

>>> import numpy as np
>>> from glassgrad.ops import RULES
>>> round(RULES["det"].forward(np.array([[2.0, 1.0], [1.0, 3.0]]))[0].item(), 12)
5.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ops import OUT, Op, register


class LinAlgError(RuntimeError):
    """``torch.linalg.LinAlgError``: a matrix the operation cannot work with (singular, not positive-definite)."""


class SingularMatrixError(LinAlgError):
    """A matrix that has no inverse met an operation that needs one."""


def _checked(function, name: str):
    """``function`` with NumPy's ``LinAlgError`` for a singular matrix turned into one line that says so."""
    def call(*arrays):
        try:
            return function(*arrays)
        except np.linalg.LinAlgError:
            raise SingularMatrixError(f"{name}: the matrix is singular (its determinant is 0), so it has no "
                                      "inverse; look for a row that repeats or is zero") from None
    return call


_inverse = _checked(np.linalg.inv, "inv")


def svd_arrays(a: np.ndarray, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """NumPy's SVD, its ``LinAlgError`` (LAPACK did not converge, which NaN or inf entries cause) turned into
    :class:`LinAlgError` in one line, as PyTorch raises (NumPy's is a ValueError that ``except RuntimeError`` or
    ``except torch.linalg.LinAlgError`` would not catch)."""
    try:
        return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    except np.linalg.LinAlgError:
        cause = "the matrix has NaN or inf entries" if not np.isfinite(a).all() else "LAPACK gave up"
        raise LinAlgError(f"linalg.svd: the algorithm failed to converge because {cause}; check what produced "
                          "the matrix") from None


def _mT(a):
    return np.swapaxes(a, -1, -2)


def _per_matrix(up: np.ndarray) -> np.ndarray:
    """A gradient of one number per matrix, shaped to scale each matrix's entries."""
    return np.asarray(up)[..., None, None]


# --- the inverse -------------------------------------------------------------------------------

def _inv(a):
    out = _inverse(a)
    return out, out

def _inv_back(up, out):
    return (-(_mT(out) @ up @ _mT(out)),)

INV = register(Op(
    "inv", "out = A⁻¹  (A·out = I)", ("−{A}⁻ᵀ·{up}·{A}⁻ᵀ",), _inv, _inv_back, kind="contraction", roles=("A",),
    written="{A}⁻¹", saves=((OUT,),), vjp_tensors=lambda up, inputs, out, saved: (-(out.mT @ up @ out.mT),),
))


# --- the determinant ----------------------------------------------------------------------------

def _adjugate(a: np.ndarray) -> np.ndarray:
    """``adj(A)``, exact for a singular A too (see the module docstring); a 0×0 matrix's is 0×0."""
    if a.shape[-1] == 0:
        return a.copy()
    u, sigma, vt = svd_arrays(a)
    size = sigma.shape[-1]
    others = np.stack([np.prod(np.delete(sigma, i, axis=-1), axis=-1) for i in range(size)], axis=-1)
    signs = np.linalg.det(u) * np.linalg.det(vt)
    return signs[..., None, None] * ((_mT(vt) * others[..., None, :]) @ _mT(u))

def _det(a):
    return np.linalg.det(a), a

def _det_back(up, a):
    return (_per_matrix(up) * _mT(_adjugate(a)),)

def _det_vjp(up, inputs, out, saved):
    """``∂L/∂out · det A · A⁻ᵀ`` (recorded; A must be invertible here)."""
    if np.any(np.asarray(out.detach().numpy()) == 0):
        raise SingularMatrixError("create_graph=True: det's recorded derivative det(A)·A⁻ᵀ needs A⁻¹, but the matrix "
                                  "is singular; differentiate det once, without create_graph=True")
    return ((up * out).unsqueeze(-1).unsqueeze(-1) * inputs[0].inverse().mT,)

DET = register(Op(
    "det", "out = det A", ("{up}·adj({A})ᵀ  (= {up}·det {A}·{A}⁻ᵀ when {A} is invertible)",), _det, _det_back,
    kind="contraction", roles=("A",), written="det {A}", saves=((0,),), vjp_tensors=_det_vjp,
))


def _logabsdet(a):
    sign, value = np.linalg.slogdet(a)
    if np.any(sign == 0):
        raise SingularMatrixError("logdet: the matrix is singular (its determinant is 0), so ln|det| is −inf; "
                                  "look for a row that repeats or is zero")
    return value, a

def _logabsdet_back(up, a):
    return (_per_matrix(up) * _mT(_inverse(a)),)

LOGABSDET = register(Op(
    "logabsdet", "out = ln |det A|", ("{up}·{A}⁻ᵀ",), _logabsdet, _logabsdet_back, kind="contraction", roles=("A",),
    written="ln|det {A}|", saves=((0,),),
    vjp_tensors=lambda up, inputs, out, saved: (up.unsqueeze(-1).unsqueeze(-1) * inputs[0].inverse().mT,),
))


# --- a linear solve ------------------------------------------------------------------------------

_solve_matrix = _checked(np.linalg.solve, "solve")


def _solve(a, b, vector):
    x = _solve_matrix(a, b[..., None] if vector else b)
    return (x[..., 0] if vector else x), (a, x, vector)

def _solve_back(up, saved):
    a, x, vector = saved
    grad_b = _solve_matrix(_mT(a), up[..., None] if vector else up)
    return -(grad_b @ _mT(x)), (grad_b[..., 0] if vector else grad_b)

def _solve_vjp(up, inputs, out, saved):
    """:func:`_solve_back` with the recorded inverse: ``∂L/∂B = A⁻ᵀ·∂L/∂X``, ``∂L/∂A = −∂L/∂B·Xᵀ``."""
    a, vector = inputs[0], saved[2]
    grad_b = a.inverse().mT @ (up.unsqueeze(-1) if vector else up)
    x = out.unsqueeze(-1) if vector else out
    return -(grad_b @ x.mT), (grad_b.squeeze(-1) if vector else grad_b)

SOLVE = register(Op(
    "solve", "X = A⁻¹·B  (the X with A·X = B)", ("−({A}⁻ᵀ·{up})·Xᵀ", "{A}⁻ᵀ·{up}"), _solve, _solve_back,
    kind="contraction", roles=("A", "B"), written="solve({A}, {B})", settings=("vector",),
    saves=((0, OUT), (0,)), vjp_tensors=_solve_vjp,
))
