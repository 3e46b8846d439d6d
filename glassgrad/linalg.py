"""``torch.linalg``'s norms: :func:`vector_norm`, :func:`matrix_norm` and :func:`norm`.

A vector norm is one row of the rule table (:mod:`glassgrad.ops_norm`: ``‖a‖_p = (Σ |aᵢ|^p)^(1/p)``
and its slope); ``x.norm()`` (PyTorch's ``Tensor.norm``) and ``F.normalize`` use it too. A matrix
norm is written with rows a learner knows: Frobenius is the vector 2-norm of all entries, the
1-norm the largest column sum of ``|A|``, the ∞-norm the largest row sum. The norms that need
singular values (``ord=2``, ``−2``, ``'nuc'``) are refused in one line.

>>> import glassgrad as gg
>>> gg.linalg.vector_norm(gg.tensor([3.0, -4.0])).item()
5.0
>>> gg.linalg.matrix_norm(gg.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1).item()   # column sums 4, 6
6.0
"""

from __future__ import annotations

import math
from typing import Any

from . import ops_norm
from .arguments import is_floating, shape_text
from .tensor import Tensor, _reduce

_SINGULAR = "needs singular values, which glassgrad has no row for"


def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``‖x‖_ord = (Σ |xᵢ|^ord)^(1/ord)`` over ``dim`` (all entries when None); ``ord`` ±inf: the largest /
    smallest ``|xᵢ|``; 0: how many are not zero."""
    if dtype is not None:
        x = x.to(dtype)
    if not is_floating(x.array.dtype):
        raise RuntimeError(f"norm: needs a floating tensor, got {x.dtype}; use x.float() first")
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise RuntimeError(f"vector_norm: ord must be a number (2, 1, inf, −inf, 0, any p), got {ord!r}")
    return _reduce(ops_norm.NORM, x, dim, keepdim, None, None, float(ord))


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple[int, int] = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """The norm of the matrices in dims ``dim``: ``'fro'`` √(Σ aᵢⱼ²), 1 / −1 the largest / smallest column
    sum of ``|A|``, inf / −inf the largest / smallest row sum."""
    if A.ndim < 2 or len(dim) != 2:
        raise RuntimeError(f"matrix_norm: needs a tensor with at least 2 dims and dim a pair, got shape "
                           f"{shape_text(A.shape)} and dim={dim!r}")
    if ord == "fro":
        return vector_norm(A, 2, tuple(dim), keepdim, dtype=dtype)
    if ord in (1, -1, math.inf, -math.inf):
        summed, kept = (dim[0], dim[1]) if abs(ord) == 1 else (dim[1], dim[0])  # columns: sum down the rows
        sums = vector_norm(A, 1, summed, True, dtype=dtype)
        largest = sums.amax(dim=kept, keepdim=True) if ord > 0 else sums.amin(dim=kept, keepdim=True)
        return largest if keepdim else largest.squeeze(tuple(sorted(d % A.ndim for d in dim)))
    raise RuntimeError(f"matrix_norm: ord={ord!r} {_SINGULAR}; use 'fro', 1, -1, inf or -inf")


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``torch.linalg.norm``: a vector norm over one dim (or of a 1-D tensor), a matrix norm over two dims
    (or of a 2-D tensor); with neither ``ord`` nor ``dim``, the 2-norm of all entries."""
    if dim is None and ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if dim is None and A.ndim not in (1, 2):
        raise RuntimeError(f"linalg.norm: with ord={ord!r} and no dim the input must be 1-D or 2-D, got shape "
                           f"{shape_text(A.shape)}; give dim")
    dims = (A.ndim - 2, A.ndim - 1) if dim is None and A.ndim == 2 else dim
    if isinstance(dims, (tuple, list)) and len(dims) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, tuple(dims), keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


def tensor_norm(self: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """PyTorch's ``Tensor.norm`` / ``torch.norm``: the vector p-norm over ``dim`` (``'fro'`` is 2)."""
    if p == "nuc":
        raise RuntimeError(f"norm: p='nuc' (the nuclear norm) {_SINGULAR}; use p='fro', 2, 1 or inf")
    return vector_norm(self, 2 if p in ("fro", None) else p, dim, keepdim, dtype=dtype)
