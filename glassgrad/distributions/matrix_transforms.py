"""Transforms onto matrices: ``LowerCholeskyTransform``, ``PositiveDefiniteTransform``, ``CorrCholeskyTransform``.

* LowerCholeskyTransform: a square matrix to a lower-triangular one with a positive diagonal (the strict lower
  triangle kept, the diagonal exponentiated); PositiveDefiniteTransform: that factor ``L`` to ``L·Lᵀ``;
* CorrCholeskyTransform: ``x ∈ ℝᴺ`` (N = D(D − 1)/2) to the Cholesky factor of a D×D correlation matrix: with
  ``rᵢⱼ = tanh xᵢⱼ`` laid under the diagonal row by row, ``yᵢⱼ = rᵢⱼ·√(1 − Σ_{k<j} yᵢₖ²)`` for j < i (a signed
  stick breaking of each row's unit length) and ``yᵢᵢ = √(1 − Σ_{k<i} yᵢₖ²)``; log-det (of x to the strict lower
  triangle of y) ``Σ_{j<i} (½ln(1 − Σ_{k<j} yᵢₖ²) + ln(1 − tanh²xᵢⱼ))``.

>>> import glassgrad as gg
>>> from glassgrad.distributions.transforms import CorrCholeskyTransform
>>> L = CorrCholeskyTransform()(gg.tensor([0.5, -0.2, 1.0], dtype=gg.float64))
>>> [round(v, 12) for v in (L @ L.mT).diagonal().tolist()]   # a correlation matrix: ones on the diagonal
[1.0, 1.0, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from ..arguments import shape_text
from ..dtypes import finfo
from ..linalg import _square
from ..linalg_decompositions import cholesky
from ..nn.functional import softplus
from ..nn.padding import pad
from ..tensor import Tensor
from . import constraints
from .transform_base import ParameterlessTransform, at_least_a_vector


def _with_diagonal(matrix: Tensor, diagonal: Callable[[Tensor], Tensor], name: str) -> Tensor:
    """``matrix``'s strict lower triangle with ``diagonal`` of its diagonal on the diagonal (zeros above); a
    ``matrix`` that is no square matrix (nor a batch of them) is refused with PyTorch's RuntimeError."""
    square = _square(matrix, name, integers=True)
    return square.tril(-1) + diagonal(square.diagonal(dim1=-2, dim2=-1)).diag_embed()


class LowerCholeskyTransform(ParameterlessTransform):
    """A square matrix to a lower-triangular one with a positive diagonal: the strict lower triangle kept,
    the diagonal exponentiated (what is above the diagonal is dropped, so it is no bijection)."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x: Tensor) -> Tensor:
        return _with_diagonal(x, Tensor.exp, "LowerCholeskyTransform")

    def _inverse(self, y: Tensor) -> Tensor:
        return _with_diagonal(y, Tensor.log, "LowerCholeskyTransform.inv")


class PositiveDefiniteTransform(ParameterlessTransform):
    """A square matrix to the positive-definite ``L·Lᵀ`` of its LowerCholeskyTransform ``L``."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def _call(self, x: Tensor) -> Tensor:
        lower = LowerCholeskyTransform()(x)
        return lower @ lower.mT

    def _inverse(self, y: Tensor) -> Tensor:
        return LowerCholeskyTransform().inv(cholesky(y))


def _strict_lower_positions(size: int, offset: int = -1) -> np.ndarray:
    """The flat positions ``i·D + j`` of the entries under diagonal ``offset`` of a D×D matrix, row by row."""
    rows, columns = np.tril_indices(size, offset)
    return rows * size + columns


def _lower_vector(matrix: Tensor, offset: int = -1) -> Tensor:
    """The entries under diagonal ``offset`` of the last two dims, row by row, as one vector."""
    size = matrix.shape[-1]
    flat = matrix.reshape(*tuple(matrix.shape)[:-2], size * size)
    return flat.index_select(-1, matrix.new_tensor(_strict_lower_positions(size, offset)).long())


class CorrCholeskyTransform(ParameterlessTransform):
    """``x ∈ ℝᴺ`` (``N = D(D − 1)/2``) to the Cholesky factor ``L`` of a D×D correlation matrix (lower triangular,
    positive diagonal, every row of unit length): row i's entries under the diagonal are ``tanh`` of its x's,
    each scaled by what the row's length has left (a signed stick-breaking), the diagonal the remainder."""

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x: Tensor) -> Tensor:
        eps = finfo(x.dtype).eps
        size = self.forward_shape(tuple(x.shape))[-1]
        r = x.tanh().clamp(-1 + eps, 1 - eps)
        gather = np.full(size * size, r.shape[-1])  # every slot reads the appended 0 but the strict lower ones
        gather[_strict_lower_positions(size)] = np.arange(r.shape[-1])
        lower = pad(r, (0, 1)).index_select(-1, x.new_tensor(gather).long()).reshape(*tuple(x.shape)[:-1], size, size)
        length_left = (1 - lower ** 2).sqrt().cumprod(-1)  # √Π_{k≤j}(1 − rᵢₖ²) = √(1 − Σ_{k≤j} yᵢₖ²)
        with_ones = lower + x.new_tensor(np.eye(size))
        return with_ones * pad(length_left[..., :-1], (1, 0), value=1.0)

    def _inverse(self, y: Tensor) -> Tensor:
        """``rᵢⱼ = yᵢⱼ/√(1 − Σ_{k<j} yᵢₖ²)``, ``x = atanh r``."""
        left = pad((1 - (y * y).cumsum(-1))[..., :-1], (1, 0), value=1.0)
        r = _lower_vector(y) / _lower_vector(left).sqrt()
        return (r.log1p() - (-r).log1p()) / 2

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """Of x to the strict lower triangle of y: ``½Σ ln(1 − Σ_{k≤j} yᵢₖ²)`` over the entries under the first
        sub-diagonal (j < i − 1: the stick breaking) plus ``Σ ln(1 − tanh² x)`` (the tanh)."""
        length_used = 1 - (y * y).cumsum(-1)
        stick_breaking = 0.5 * _lower_vector(length_used, -2).log().sum(-1)
        tanh = 2 * (math.log(2.0) - x - softplus(-2 * x)).sum(-1)
        return stick_breaking + tanh

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        shape = at_least_a_vector("CorrCholeskyTransform", shape)
        size = round(math.sqrt(0.25 + 2 * shape[-1]) + 0.5)
        if size * (size - 1) // 2 != shape[-1]:
            raise ValueError(f"CorrCholeskyTransform: the last dim of shape {shape_text(shape)} must be "
                             "D(D − 1)/2 (the entries under a D×D matrix's diagonal): 1, 3, 6, 10, …")
        return shape[:-1] + (size, size)

    def inverse_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        shape = tuple(shape)
        if len(shape) < 2 or shape[-1] != shape[-2]:
            raise ValueError(f"CorrCholeskyTransform: the inverse needs square matrices (…, D, D), got "
                             f"shape {shape_text(shape)}")
        return shape[:-2] + (shape[-1] * (shape[-1] - 1) // 2,)
