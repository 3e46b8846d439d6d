"""``torch.distributions.transforms``: the maps a distribution is pushed through, each with its inverse and
``ln |det ∂y/∂x|`` (the shared machinery and the joining transforms are in :mod:`.transform_base`).

Entry by entry (``event_dim = 0``; the log-det is ``ln |dy/dx|`` at each entry):

* ExpTransform: ``y = eˣ``, log-det ``x``; PowerTransform(k): ``y = xᵏ`` on x > 0, log-det ``ln |k·y/x|``;
* SigmoidTransform: ``y = σ(x) = 1/(1 + e⁻ˣ)``, ``x = ln y − ln(1 − y)``, log-det ``ln σ(x) + ln σ(−x)``;
* SoftplusTransform: ``y = ln(1 + eˣ)``, ``x = y + ln(1 − e⁻ʸ)``, log-det ``ln σ(x)``;
* TanhTransform: ``y = tanh x``, log-det ``ln(1 − tanh²x) = 2(ln 2 − x − softplus(−2x))`` (no cancellation);
* AbsTransform: ``y = |x|`` (not a bijection: its "inverse" is the identity on y ≥ 0);
* AffineTransform(loc, scale, event_dim): ``y = loc + scale·x``, log-det ``ln |scale|`` (summed over the event);
* CumulativeDistributionTransform(d): ``y = F_d(x)``, ``x = F_d⁻¹(y)``, log-det ``log p_d(x)``.

On vectors and matrices:

* SoftmaxTransform: ``y = eˣ/Σeˣ`` onto the simplex (not a bijection; the inverse is ``ln y``);
* StickBreakingTransform: ``x ∈ ℝᴷ`` onto the simplex in ``ℝᴷ⁺¹``: ``zₖ = σ(xₖ − ln(K + 1 − k))`` is the share of
  what is left of the stick, ``yₖ = zₖ·Π_{j<k}(1 − zⱼ)``, the last ``y`` the rest; ∂y/∂x is triangular (yₖ reads
  x₁ … xₖ) with diagonal ``zₖ(1 − zₖ)·Π_{j<k}(1 − zⱼ)``, so the log-det is ``Σₖ (ln(1 − zₖ) + ln yₖ)``;
* LowerCholeskyTransform: a square matrix to a lower-triangular one with a positive diagonal (the strict lower
  triangle kept, the diagonal exponentiated); PositiveDefiniteTransform: that factor ``L`` to ``L·Lᵀ``;
* CorrCholeskyTransform: ``x ∈ ℝᴺ`` (N = D(D − 1)/2) to the Cholesky factor of a D×D correlation matrix: with
  ``rᵢⱼ = tanh xᵢⱼ`` laid under the diagonal row by row, ``yᵢⱼ = rᵢⱼ·√(1 − Σ_{k<j} yᵢₖ²)`` for j < i (a signed
  stick breaking of each row's unit length) and ``yᵢᵢ = √(1 − Σ_{k<i} yᵢₖ²)``; log-det (of x to the strict lower
  triangle of y) ``Σ_{j<i} (½ln(1 − Σ_{k<j} yᵢₖ²) + ln(1 − tanh²xᵢⱼ))``.

>>> import glassgrad as gg
>>> from glassgrad.distributions.transforms import StickBreakingTransform
>>> [round(share, 4) for share in StickBreakingTransform()(gg.zeros(2)).tolist()]   # equal shares of the stick
[0.3333, 0.3333, 0.3333]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..arguments import shape_text
from ..dtypes import finfo
from ..linalg_decompositions import cholesky
from ..nn.functional import logsigmoid, softplus
from ..nn.padding import pad
from ..tensor import Tensor
from . import constraints
from .base import Distribution, broadcast_all
from .transform_base import (
    CatTransform,
    ComposeTransform,
    IndependentTransform,
    ReshapeTransform,
    StackTransform,
    Transform,
    identity_transform,
)

__all__ = ["AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform", "CorrCholeskyTransform",
           "CumulativeDistributionTransform", "ExpTransform", "IndependentTransform", "LowerCholeskyTransform",
           "PositiveDefiniteTransform", "PowerTransform", "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform",
           "SoftplusTransform", "StackTransform", "StickBreakingTransform", "TanhTransform", "Transform",
           "identity_transform"]


class _Parameterless(Transform):
    """A fixed map: two are equal when they are of one type."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)


class ExpTransform(_Parameterless):
    """``y = eˣ``."""

    codomain = constraints.positive
    bijective = True
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        return x.exp()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x


class PowerTransform(Transform):
    """``y = xᵏ`` for positive x, ``k = exponent``."""

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent: Any, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        (self.exponent,) = broadcast_all(exponent)

    @property
    def sign(self) -> Tensor:
        return self.exponent.sign()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PowerTransform) and bool((self.exponent == other.exponent).all().item())

    def _call(self, x: Tensor) -> Tensor:
        return x.pow(self.exponent)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.pow(self.exponent.reciprocal())

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``ln |k·x^(k−1)| = ln |k·y/x|``."""
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(np.broadcast_shapes(tuple(shape), tuple(self.exponent.shape)))

    def inverse_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return self.forward_shape(shape)


def clamped_probabilities(p: Tensor) -> Tensor:
    """``p`` kept inside ``[tiny, 1 − eps]`` of its dtype, where ``ln p`` and ``ln(1 − p)`` are finite."""
    info = finfo(p.dtype)
    return p.clamp(info.tiny, 1 - info.eps)


class SigmoidTransform(_Parameterless):
    """``y = σ(x) = 1/(1 + e⁻ˣ)`` onto the unit interval (kept inside ``[tiny, 1 − eps]``)."""

    codomain = constraints.unit_interval
    bijective = True
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        return clamped_probabilities(x.sigmoid())

    def _inverse(self, y: Tensor) -> Tensor:
        """``logit y = ln y − ln(1 − y)``."""
        y = clamped_probabilities(y)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``ln σ'(x) = ln σ(x) + ln σ(−x) = −softplus(−x) − softplus(x)``."""
        return -softplus(-x) - softplus(x)


class SoftplusTransform(_Parameterless):
    """``y = ln(1 + eˣ)`` onto the positive numbers (``x`` itself above 20, as PyTorch's softplus)."""

    codomain = constraints.positive
    bijective = True
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        return softplus(x)

    def _inverse(self, y: Tensor) -> Tensor:
        """``ln(eʸ − 1) = y + ln(1 − e⁻ʸ)``."""
        return (-(-y).expm1()).log() + y

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -softplus(-x)


class TanhTransform(_Parameterless):
    """``y = tanh x`` onto ``(−1, 1)``."""

    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        return x.tanh()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.atanh()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``ln(1 − tanh²x) = ln(4/(eˣ + e⁻ˣ)²) = 2(ln 2 − x − ln(1 + e⁻²ˣ))``."""
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class AbsTransform(_Parameterless):
    """``y = |x|``: not a bijection (x and −x meet), so its inverse gives the non-negative one, ``y`` itself."""

    codomain = constraints.positive

    def _call(self, x: Tensor) -> Tensor:
        return x.abs()

    def _inverse(self, y: Tensor) -> Tensor:
        return y


class AffineTransform(Transform):
    """``y = loc + scale·x`` entry by entry; ``event_dim`` says how many trailing dims form one event (the
    log-det ``ln |scale|`` is summed over them)."""

    bijective = True

    def __init__(self, loc: Any, scale: Any, event_dim: int = 0, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.loc, self.scale, self._event_dim = loc, scale, event_dim

    @property
    def event_dim(self) -> int:
        return self._event_dim

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.independent(constraints.real, self._event_dim) if self._event_dim else constraints.real

    codomain = domain

    @property
    def sign(self) -> Any:
        if isinstance(self.scale, Tensor):
            return self.scale.sign()
        return (self.scale > 0) - (self.scale < 0)

    def __eq__(self, other: object) -> bool:
        def same(a: Any, b: Any) -> bool:
            return bool((a == b).all().item()) if isinstance(a, Tensor) or isinstance(b, Tensor) else a == b

        return (isinstance(other, AffineTransform) and self._event_dim == other._event_dim
                and same(self.loc, other.loc) and same(self.scale, other.scale))

    def _call(self, x: Tensor) -> Tensor:
        return self.loc + self.scale * x

    def _inverse(self, y: Tensor) -> Tensor:
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        shape = tuple(x.shape)
        if isinstance(self.scale, Tensor):
            per_entry = self.scale.abs().log()
        else:
            per_entry = x.new_full(shape, math.log(abs(self.scale)))
        if self._event_dim:
            per_entry = per_entry.reshape(*tuple(per_entry.shape)[:-self._event_dim], -1).sum(-1)
            shape = shape[:-self._event_dim]
        return per_entry.expand(*shape)

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(np.broadcast_shapes(tuple(shape), tuple(getattr(self.loc, "shape", ())),
                                         tuple(getattr(self.scale, "shape", ()))))

    def inverse_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return self.forward_shape(shape)


class CumulativeDistributionTransform(Transform):
    """``y = F(x)``, the cdf of ``distribution``: its support onto the unit interval (the start of a copula)."""

    bijective = True
    codomain = constraints.unit_interval
    sign = 1

    def __init__(self, distribution: Distribution, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.distribution = distribution

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return self.distribution.support

    def _call(self, x: Tensor) -> Tensor:
        return self.distribution.cdf(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``ln F'(x) = log p(x)``."""
        return self.distribution.log_prob(x)


def _at_least_a_vector(owner: str, shape: Sequence[int]) -> tuple[int, ...]:
    if len(shape) < 1:
        raise ValueError(f"{owner}: a value needs a last dim (a vector), got shape ()")
    return tuple(shape)


class SoftmaxTransform(_Parameterless):
    """``y = eˣ/Σⱼeˣʲ`` over the last dim, onto the simplex; not a bijection (adding a constant to x changes
    nothing), and its inverse ``ln y`` is one of the many preimages."""

    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x: Tensor) -> Tensor:
        return x.softmax(-1)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return _at_least_a_vector("SoftmaxTransform", shape)

    inverse_shape = forward_shape


class StickBreakingTransform(_Parameterless):
    """``x ∈ ℝᴷ`` onto the simplex in ``ℝᴷ⁺¹`` by breaking a stick: ``zₖ = σ(xₖ − ln(K + 1 − k))`` of what is
    left goes to ``yₖ`` (x = 0 breaks it into equal shares)."""

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    @staticmethod
    def _log_shares_left(like: Tensor, count: int) -> Tensor:
        """``ln(K + 1 − k)`` for k = 1 … K: the shift that makes x = 0 an even split."""
        return like.new_tensor(np.log(np.arange(count, 0, -1.0)))

    def _call(self, x: Tensor) -> Tensor:
        z = clamped_probabilities((x - self._log_shares_left(x, x.shape[-1])).sigmoid())
        left_before = pad((1 - z).cumprod(-1), (1, 0), value=1.0)  # Π_{j<k}(1 − zⱼ), 1 for the first
        return pad(z, (0, 1), value=1.0) * left_before

    def _inverse(self, y: Tensor) -> Tensor:
        """``xₖ = ln yₖ − ln(1 − Σ_{j≤k} yⱼ) + ln(K + 1 − k)``."""
        shares = y[..., :-1]
        left = (1 - shares.cumsum(-1)).clamp_min(finfo(y.dtype).tiny)
        return shares.log() - left.log() + self._log_shares_left(y, shares.shape[-1])

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``Σₖ ln(1 − zₖ) + ln yₖ`` with ``ln(1 − zₖ) = ln σ(x'ₖ) − x'ₖ``, ``x' = x − ln(K + 1 − k)``."""
        shifted = x - self._log_shares_left(x, x.shape[-1])
        return (-shifted + logsigmoid(shifted) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        shape = _at_least_a_vector("StickBreakingTransform", shape)
        return shape[:-1] + (shape[-1] + 1,)

    def inverse_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        shape = _at_least_a_vector("StickBreakingTransform", shape)
        return shape[:-1] + (shape[-1] - 1,)


def _with_diagonal(matrix: Tensor, diagonal: Tensor) -> Tensor:
    """``matrix``'s strict lower triangle with ``diagonal`` on the diagonal (zeros above)."""
    return matrix.tril(-1) + diagonal.diag_embed()


class LowerCholeskyTransform(_Parameterless):
    """A square matrix to a lower-triangular one with a positive diagonal: the strict lower triangle kept,
    the diagonal exponentiated (what is above the diagonal is dropped, so it is no bijection)."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x: Tensor) -> Tensor:
        return _with_diagonal(x, x.diagonal(dim1=-2, dim2=-1).exp())

    def _inverse(self, y: Tensor) -> Tensor:
        return _with_diagonal(y, y.diagonal(dim1=-2, dim2=-1).log())


class PositiveDefiniteTransform(_Parameterless):
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


class CorrCholeskyTransform(_Parameterless):
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
        shape = _at_least_a_vector("CorrCholeskyTransform", shape)
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
