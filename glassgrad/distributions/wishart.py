"""The Wishart distribution over p×p positive-definite matrices: ``X = Σₖ zₖ·zₖᵀ`` for ν draws ``zₖ ~ N(0, Σ)``
(the scatter matrix of ν centred Gaussian vectors; the conjugate prior of a Gaussian's precision).

With ν > p − 1 degrees of freedom (``df``), the scale ``Σ = L·Lᵀ`` given as ``covariance_matrix``,
``precision_matrix`` (Σ⁻¹) or ``scale_tril`` (L), and ``Γₚ`` the multivariate gamma function:

* ``log p(X) = ½(ν − p − 1)·ln det X − ½·tr(Σ⁻¹X) − ν·(½p·ln 2 + Σᵢ ln Lᵢᵢ) − ln Γₚ(ν/2)``;
* mean ``νΣ``, mode ``(ν − p − 1)Σ`` (NaN for ν ≤ p + 1, where the density has no peak), variance
  ``Var Xᵢⱼ = ν(Σᵢⱼ² + Σᵢᵢ·Σⱼⱼ)``;
* entropy ``(p + 1)(½p·ln 2 + Σᵢ ln Lᵢᵢ) + ln Γₚ(ν/2) − ½(ν − p − 1)·ψₚ(ν/2) + ½νp``, with the multivariate
  digamma ``ψₚ(a) = Σⱼ ψ(a − j/2)``, j = 0…p − 1;
* ``rsample`` by Bartlett's decomposition: A lower triangular with ``Aᵢᵢ = √cᵢ``, ``cᵢ ~ χ²(ν − i)``, and
  standard normal draws below the diagonal; ``X = (L·A)·(L·A)ᵀ``. The chi-squared draws are standard gamma draws
  (:mod:`.gamma_family`), so a gradient reaches ν as well as Σ.

>>> import glassgrad as gg
>>> gg.distributions.Wishart(gg.tensor(4.0), covariance_matrix=gg.eye(2)).mean.tolist()
[[4.0, 0.0], [0.0, 4.0]]
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..linalg import slogdet
from ..linalg_lu import cholesky_inverse, cholesky_solve
from ..special import multigammaln
from ..tensor import Tensor
from . import constraints
from .base import as_float, expand_to, noise, validating
from .gamma_family import GammaDrawn, standard_gamma
from .multivariate import _one_matrix, scale_factor


class Wishart(GammaDrawn):
    """Random p×p positive-definite matrices with ``df`` ν degrees of freedom and scale Σ (mean νΣ)."""

    params = {"df": 0, "scale_tril": 2}
    support = constraints.positive_definite

    def __init__(self, df: Any, covariance_matrix: Any = None, precision_matrix: Any = None, scale_tril: Any = None,
                 validate_args: bool | None = None) -> None:
        owner = "Wishart"
        self.validates = validating(validate_args)
        chosen, matrix = _one_matrix(owner, covariance_matrix, precision_matrix, scale_tril)
        p = matrix.shape[-1]
        if matrix.shape[-2] != p:
            raise ValueError(f"{owner}: {chosen} must be square (…, p, p), got {tuple(matrix.shape)}")
        lower = scale_factor(owner, chosen, matrix, validate_args)
        nu = as_float(df if isinstance(df, Tensor) else matrix.new_tensor(float(df))).to(lower.dtype)  # draws in Σ's
        if not (nu.detach().numpy() > p - 1).all():
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}: a {p}×{p} Wishart "
                             "needs more than p − 1 degrees of freedom")
        if (nu.detach().numpy() < p).any():
            warnings.warn("Low df values detected. With p − 1 < df < p a draw is singular all too often; its "
                          "log_prob is then -inf", UserWarning, stacklevel=2)
        self._batch = tuple(np.broadcast_shapes(tuple(nu.shape), tuple(lower.shape[:-2])))
        self._event = (p, p)
        self.df = expand_to(nu, self._batch)
        self.scale_tril = expand_to(lower, self._batch + (p, p))
        self.given = chosen  # the matrix given, which the repr shows (as PyTorch's)

    def shown_parameters(self) -> list[str]:
        return [self.given, "df"]

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:  # type: ignore[override]
        """PyTorch's: ν above p − 1, and each way of giving the scale."""
        return {"covariance_matrix": constraints.positive_definite, "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky, "df": constraints.greater_than(self._event[-1] - 1)}

    @property
    def covariance_matrix(self) -> Tensor:
        return self.scale_tril @ self.scale_tril.mT

    @property
    def precision_matrix(self) -> Tensor:
        return cholesky_inverse(self.scale_tril)

    @property
    def mean(self) -> Tensor:
        return self.df[..., None, None] * self.covariance_matrix

    @property
    def mode(self) -> Tensor:
        factor = self.df - self._event[-1] - 1
        return factor.masked_fill(factor.detach() <= 0, math.nan)[..., None, None] * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        scale = self.covariance_matrix
        diagonal = scale.diagonal(dim1=-2, dim2=-1)
        return self.df[..., None, None] * (scale ** 2 + diagonal[..., :, None] * diagonal[..., None, :])

    def _log_normaliser(self) -> Tensor:
        """``½p·ln 2 + Σᵢ ln Lᵢᵢ``, the part of ``ln Z`` each degree of freedom adds."""
        p = self._event[-1]
        return p * math.log(2) / 2 + self.scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value: Any) -> Tensor:
        x = self.in_support(value)
        p, nu = self._event[-1], self.df
        trace = cholesky_solve(x, self.scale_tril).diagonal(dim1=-2, dim2=-1).sum(-1)  # tr(Σ⁻¹X)
        return ((nu - p - 1) / 2 * slogdet(x)[1] - trace / 2 - nu * self._log_normaliser()
                - multigammaln(nu / 2, p))

    def entropy(self) -> Tensor:
        p, nu = self._event[-1], self.df
        half = nu / 2
        multi_digamma = sum((half - j / 2).digamma() for j in range(p))
        return ((p + 1) * self._log_normaliser() + multigammaln(half, p) - (nu - p - 1) / 2 * multi_digamma
                + nu * p / 2)

    def draw(self, sample_shape: Any) -> Tensor:
        """Bartlett: ``X = (L·A)(L·A)ᵀ``, ``Aᵢᵢ = √χ²(ν − i)``, standard normals below A's diagonal."""
        p = self._event[-1]
        shape = self._draw_shape(sample_shape)[:-2]
        degrees = self.df[..., None] - self.df.new_tensor(np.arange(p))  # ν − i, i = 0…p − 1
        chi2 = 2 * standard_gamma(degrees / 2, shape + (p,))
        below = noise(self.df, shape + (p, p), "standard_normal").tril(-1)
        factor = self.scale_tril @ (chi2.sqrt().diag_embed() + below)
        return factor @ factor.mT
