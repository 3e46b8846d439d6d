"""``MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril)``: the Gaussian over vectors, and
``LowRankMultivariateNormal(loc, cov_factor, cov_diag)``, the same with ``Σ = W·Wᵀ + diag(d)``.

Everything is computed from the Cholesky factor ``L`` (lower triangular, ``Σ = L·Lᵀ``), taken with
:func:`glassgrad.linalg.cholesky` when a covariance is given (from ``Σ = P⁻¹`` for a precision matrix P),
so every number is differentiable in the parameters:

* ``rsample``: ``x = μ + L·ε`` with ``ε ~ N(0, I)``;
* ``log p(x) = −½(n·ln 2π + ‖y‖²) − Σᵢ ln Lᵢᵢ`` with ``L·y = x − μ`` (``‖y‖²`` is the Mahalanobis
  distance ``(x − μ)ᵀ·Σ⁻¹·(x − μ)``, ``Σᵢ ln Lᵢᵢ = ½ ln det Σ``);
* entropy ``½n(1 + ln 2π) + Σᵢ ln Lᵢᵢ``; variance ``diag Σ = Σⱼ Lᵢⱼ²``.

>>> import glassgrad as gg
>>> d = gg.distributions.MultivariateNormal(gg.zeros(2), covariance_matrix=gg.tensor([[4.0, 0.0], [0.0, 1.0]]))
>>> d.scale_tril.tolist(), round(d.log_prob(gg.zeros(2)).item(), 4)   # −ln 2π − ½ ln 4
([[2.0, 0.0], [0.0, 1.0]], -2.531)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..arguments import shape_text
from ..linalg import inv, solve_as
from ..linalg_decompositions import cholesky
from ..ops_decompositions import NotPositiveDefiniteError
from ..tensor import Tensor
from . import constraints
from .base import Distribution, as_float, check_positive, check_real, noise, refuse_unless, validating

LOG_TWO_PI = math.log(2 * math.pi)


def mahalanobis(scale_tril: Tensor, difference: Tensor) -> Tensor:
    """``‖y‖²`` with ``L·y = d``: ``dᵀ·Σ⁻¹·d`` for ``Σ = L·Lᵀ`` (only L's lower triangle is read, as a
    triangular solve would)."""
    shape = tuple(np.broadcast_shapes(tuple(difference.shape[:-1]), tuple(scale_tril.shape[:-2])))
    n = difference.shape[-1]
    y = solve_as(scale_tril.tril().expand(*shape, n, n), difference.expand(*shape, n).unsqueeze(-1), False)
    return (y ** 2).sum((-2, -1))


def _factor(owner: str, name: str, matrix: Tensor, validate_args: bool | None) -> Tensor:
    """The Cholesky factor L (``Σ = L·Lᵀ``) of a covariance ``matrix`` (``name="covariance_matrix"``) or of the
    inverse of a precision matrix. A matrix that is not symmetric (within ``constraints.symmetric``'s 1e-6) is
    refused when validating; otherwise it is read as PyTorch reads it: a covariance by its lower triangle (all that
    the Cholesky factorisation reads), a precision matrix P by its upper one (PyTorch factors P flipped), taken as
    ``P + (triu(P) + triu(P, 1)ᵀ − P)`` with the correction detached, so a gradient still reaches all of P as
    through the symmetric P (for which the correction is 0)."""
    if validating(validate_args) and not constraints.symmetric.check(matrix).numpy().all():
        raise ValueError(f"{owner}: {name} must be symmetric positive-definite; it is not symmetric (within 1e-6); "
                         "symmetrise it, (A + A.mT) / 2")
    if name == "precision_matrix":
        upper = matrix.detach().triu()
        matrix = inv(matrix + (upper + upper.triu(1).mT - matrix.detach()))  # Σ = P⁻¹ (positive-definite when P is)
    try:
        return cholesky(matrix)
    except NotPositiveDefiniteError:
        if not validating(validate_args):
            raise  # PyTorch's LinAlgError from the factorisation, which a jitter-and-retry loop catches
        raise ValueError(f"{owner}: {name} must be symmetric positive-definite; it has an eigenvalue <= 0") from None


def _one_matrix(owner: str, covariance_matrix: Any, precision_matrix: Any, scale_tril: Any) -> tuple[str, Tensor]:
    """The one matrix given of Σ, Σ⁻¹ or L (``Σ = L·Lᵀ``), by name, as a float tensor of at least 2 dims."""
    given = {"covariance_matrix": covariance_matrix, "precision_matrix": precision_matrix, "scale_tril": scale_tril}
    chosen = [name for name, value in given.items() if value is not None]
    if len(chosen) != 1:
        raise ValueError(f"{owner}: give exactly one of covariance_matrix, precision_matrix or scale_tril, "
                         f"got {len(chosen)}")
    matrix = as_float(given[chosen[0]])
    if matrix.ndim < 2:
        raise ValueError(f"{owner}: {chosen[0]} must be a matrix or a batch of them (…, n, n), got shape "
                         f"{shape_text(matrix.shape)}")
    return chosen[0], matrix


def scale_factor(owner: str, chosen: str, matrix: Tensor, validate_args: bool | None) -> Tensor:
    """L with ``Σ = L·Lᵀ`` from the matrix given as ``chosen`` (``"covariance_matrix"``, ``"precision_matrix"`` or
    ``"scale_tril"``, which is checked: lower triangular with a positive diagonal)."""
    if chosen == "scale_tril":
        if validating(validate_args):
            refuse_unless(constraints.lower_triangular.check(matrix), f"{owner}: scale_tril must be lower triangular "
                          "(exact zeros above the diagonal, no NaN below it); take .tril() of it")
        check_positive(owner, "scale_tril's diagonal", matrix.diagonal(dim1=-2, dim2=-1), validate_args)
        return matrix
    return _factor(owner, chosen, matrix, validate_args)


class Gaussian(Distribution):
    """What the two vector normals share: mean and mode ``loc``, and the density and entropy from the
    Mahalanobis distance and ``½ ln det Σ`` each computes its own way."""

    has_rsample = True
    support = constraints.real_vector

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    def half_log_det(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define half_log_det()")

    def distance(self, difference: Tensor) -> Tensor:
        """``dᵀ·Σ⁻¹·d``."""
        raise NotImplementedError(f"{type(self).__name__} must define distance()")

    def log_prob(self, value: Any) -> Tensor:
        """``−½(n·ln 2π + dᵀΣ⁻¹d) − ½ ln det Σ``; −∞ for a value with an infinite entry (and no NaN), where the
        density's limit is 0: the solve ``L·y = x − μ`` would meet ∞ − ∞ = NaN (PyTorch too gives NaN for some Σ), so
        it reads 0 in the entry's place and the answer is replaced, leaving no NaN in any gradient."""
        x = self.in_support(value)
        infinite = x.detach().isinf()
        distance = self.distance(x.masked_fill(infinite, 0.0) - self.loc)
        density = -0.5 * (self._event[0] * LOG_TWO_PI + distance) - self.half_log_det()
        unbounded = infinite.any(-1).logical_and(x.detach().isnan().any(-1).logical_not())
        return density.masked_fill(unbounded, -math.inf)

    def entropy(self) -> Tensor:
        return 0.5 * self._event[0] * (1.0 + LOG_TWO_PI) + self.half_log_det()


class MultivariateNormal(Gaussian):
    """``N(loc, Σ)`` over vectors of length n; give Σ as exactly one of ``covariance_matrix``,
    ``precision_matrix`` (Σ⁻¹) or ``scale_tril`` (L with ``Σ = L·Lᵀ``, lower triangular, positive diagonal)."""

    params = {"loc": 1, "scale_tril": 2}
    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}

    def __init__(self, loc: Any, covariance_matrix: Any = None, precision_matrix: Any = None, scale_tril: Any = None,
                 validate_args: bool | None = None) -> None:
        owner = "MultivariateNormal"
        self.validates = validating(validate_args)
        chosen, matrix = _one_matrix(owner, covariance_matrix, precision_matrix, scale_tril)
        loc = as_float(loc)
        if loc.ndim < 1:
            raise ValueError(f"{owner}: loc must be at least one-dimensional (…, n), got a number")
        n = loc.shape[-1]
        if tuple(matrix.shape[-2:]) != (n, n):
            raise ValueError(f"{owner}: {chosen} must be (…, {n}, {n}) for loc of shape {shape_text(loc.shape)}, "
                             f"got {shape_text(matrix.shape)}")
        check_real(owner, "loc", loc, validate_args)
        lower = scale_factor(owner, chosen, matrix, validate_args)
        self._batch = tuple(np.broadcast_shapes(tuple(loc.shape[:-1]), tuple(lower.shape[:-2])))
        self._event = (n,)
        self.loc = loc.expand(*self._batch, n)
        self.scale_tril = lower.expand(*self._batch, n, n)
        self.given = chosen  # the matrix given, which the repr shows (as PyTorch's)

    def shown_parameters(self) -> list[str]:
        return ["loc", self.given]

    @property
    def covariance_matrix(self) -> Tensor:
        """``Σ = L·Lᵀ``."""
        return self.scale_tril @ self.scale_tril.mT

    @property
    def precision_matrix(self) -> Tensor:
        """``Σ⁻¹ = L⁻ᵀ·L⁻¹``."""
        n = self._event[0]
        identity = self.loc.new_tensor(np.eye(n)).expand(*self._batch, n, n)
        inverse = solve_as(self.scale_tril.tril(), identity, False)
        return inverse.mT @ inverse

    @property
    def variance(self) -> Tensor:
        return (self.scale_tril ** 2).sum(-1)

    def half_log_det(self) -> Tensor:
        """``½ ln det Σ = Σᵢ ln Lᵢᵢ``."""
        return self.scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        eps = noise(self.loc, self._draw_shape(sample_shape), "standard_normal")
        return self.loc + (self.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def distance(self, difference: Tensor) -> Tensor:
        return mahalanobis(self.scale_tril, difference)


class LowRankMultivariateNormal(Gaussian):
    """``N(loc, Σ)`` with ``Σ = W·Wᵀ + diag(d)``: a rank-r ``cov_factor`` W (…, n, r) plus a positive
    ``cov_diag`` d (…, n), for n too large to hold a full factor.

    Nothing n×n is factored: with the r×r capacitance ``C = I + Wᵀ·D⁻¹·W = A·Aᵀ`` (Woodbury, matrix
    determinant lemma), ``(x − μ)ᵀΣ⁻¹(x − μ) = Σᵢ (xᵢ − μᵢ)²/dᵢ − ‖A⁻¹·Wᵀ·D⁻¹·(x − μ)‖²`` and
    ``ln det Σ = 2Σ ln Aᵢᵢ + Σ ln dᵢ``; ``rsample`` is ``μ + W·ε₁ + √d·ε₂``.
    """

    params = {"loc": 1, "cov_factor": 2, "cov_diag": 1}
    arg_constraints = {"loc": constraints.real_vector, "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}

    def __init__(self, loc: Any, cov_factor: Any, cov_diag: Any, validate_args: bool | None = None) -> None:
        self.validates = validating(validate_args)
        owner = "LowRankMultivariateNormal"
        loc, factor, diag = as_float(loc), as_float(cov_factor), as_float(cov_diag)
        if loc.ndim < 1:
            raise ValueError(f"{owner}: loc must be at least one-dimensional (…, n), got a number")
        n = loc.shape[-1]
        if factor.ndim < 2 or factor.shape[-2] != n or diag.ndim < 1 or diag.shape[-1] != n:
            raise ValueError(f"{owner}: cov_factor must be (…, {n}, r) and cov_diag (…, {n}) for loc of shape "
                             f"{shape_text(loc.shape)}, got {shape_text(factor.shape)} and {shape_text(diag.shape)}")
        check_real(owner, "loc", loc, validate_args)
        check_real(owner, "cov_factor", factor, validate_args)
        check_positive(owner, "cov_diag", diag, validate_args)
        rank = factor.shape[-1]
        self._batch = tuple(np.broadcast_shapes(tuple(loc.shape[:-1]), tuple(factor.shape[:-2]),
                                                tuple(diag.shape[:-1])))
        self._event = (n,)
        self.loc = loc.expand(*self._batch, n)
        self.cov_factor = factor.expand(*self._batch, n, rank)
        self.cov_diag = diag.expand(*self._batch, n)

    def _whitened_factor(self) -> Tensor:
        """``Wᵀ·D⁻¹`` (r × n)."""
        return self.cov_factor.mT / self.cov_diag.unsqueeze(-2)

    def _capacitance_tril(self) -> Tensor:
        """A with ``A·Aᵀ = I + Wᵀ·D⁻¹·W``."""
        rank = self.cov_factor.shape[-1]
        return cholesky(self._whitened_factor() @ self.cov_factor + self.loc.new_tensor(np.eye(rank)))

    @property
    def covariance_matrix(self) -> Tensor:
        return self.cov_factor @ self.cov_factor.mT + self.cov_diag.diag_embed()

    @property
    def precision_matrix(self) -> Tensor:
        """Woodbury: ``Σ⁻¹ = D⁻¹ − Bᵀ·B`` with ``B = A⁻¹·Wᵀ·D⁻¹``."""
        b = solve_as(self._capacitance_tril().tril(), self._whitened_factor(), False)
        return self.cov_diag.reciprocal().diag_embed() - b.mT @ b

    @property
    def scale_tril(self) -> Tensor:
        return cholesky(self.covariance_matrix)

    @property
    def variance(self) -> Tensor:
        return (self.cov_factor ** 2).sum(-1) + self.cov_diag

    def half_log_det(self) -> Tensor:
        """``½ ln det Σ = Σ ln Aᵢᵢ + ½Σ ln dᵢ``."""
        return self._capacitance_tril().diagonal(dim1=-2, dim2=-1).log().sum(-1) + 0.5 * self.cov_diag.log().sum(-1)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._draw_shape(sample_shape)
        along_factor = noise(self.loc, shape[:-1] + (self.cov_factor.shape[-1], 1), "standard_normal")
        along_diag = noise(self.loc, shape, "standard_normal")
        return self.loc + (self.cov_factor @ along_factor).squeeze(-1) + self.cov_diag.sqrt() * along_diag

    def distance(self, difference: Tensor) -> Tensor:
        """Woodbury: ``Σᵢ dᵢ²/cov_diagᵢ − ‖A⁻¹·Wᵀ·D⁻¹·d‖²``."""
        whitened = (self._whitened_factor() @ difference.unsqueeze(-1)).squeeze(-1)
        return (difference ** 2 / self.cov_diag).sum(-1) - mahalanobis(self._capacitance_tril(), whitened)
