"""Reciprocals and ratios of gamma draws: ``InverseGamma`` and ``FisherSnedecor``.

* InverseGamma(α, β): ``x = 1/y`` with ``y ~ Gamma(α, β)``; the change of variables (``|dy/dx| = 1/x²``) gives
  ``log p(x) = α·ln β − (α + 1)·ln x − β/x − lnΓ(α)``, ``F(x) = 1 − P(α, β/x)`` (P the regularised incomplete
  gamma function, so no gradient in α, as Gamma.cdf), mean ``β/(α − 1)`` (+inf for α ≤ 1), variance
  ``β²/((α − 1)²(α − 2))`` (+inf for α ≤ 2), mode ``β/(α + 1)``, entropy ``α + ln β + lnΓ(α) − (α + 1)·ψ(α)``;
* FisherSnedecor(d₁, d₂): the ratio ``(X₁/d₁)/(X₂/d₂)`` of chi-squared draws with d₁ and d₂ degrees of
  freedom (the F statistic of an analysis of variance); with ``r = d₁/d₂``,
  ``log p(x) = lnΓ((d₁ + d₂)/2) − lnΓ(d₁/2) − lnΓ(d₂/2) + (d₁/2)·ln r + (d₁/2 − 1)·ln x
  − ((d₁ + d₂)/2)·ln(1 + r·x)``, mean ``d₂/(d₂ − 2)`` for d₂ > 2, mode ``(d₁ − 2)/d₁ · d₂/(d₂ + 2)`` for d₁ > 2,
  variance ``2d₂²(d₁ + d₂ − 2)/(d₁(d₂ − 2)²(d₂ − 4))`` for d₂ > 4; NaN outside those ranges, as PyTorch's
  (even where the true value is +inf, 2 < d₂ ≤ 4 for the variance).

Both draw from standard gamma draws, so ``rsample`` carries the implicit gradient in their shapes (see
:mod:`.gamma_family`).

>>> import glassgrad as gg
>>> round(gg.distributions.InverseGamma(3.0, 2.0).mean.item(), 4)   # β/(α − 1)
1.0
"""

from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor
from . import constraints
from .base import broadcast_all, check_positive, defined_where, validating
from .gamma_family import Gamma, GammaDrawn, standard_gamma


class InverseGamma(GammaDrawn):
    """``1/y`` for ``y ~ Gamma(concentration, rate)``: the conjugate prior of a normal's variance."""

    params = {"concentration": 0, "rate": 0}
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        check_positive("InverseGamma", "concentration", self.concentration, validate_args)
        check_positive("InverseGamma", "rate", self.rate, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.concentration.shape)

    @property
    def base_dist(self) -> Gamma:
        """The gamma distribution of ``1/x``."""
        return Gamma(self.concentration, self.rate, validate_args=False)

    @property
    def mean(self) -> Tensor:
        alpha = self.concentration
        return defined_where(alpha, alpha.detach() > 1, 3.0, lambda a: self.rate / (a - 1), math.inf)

    @property
    def mode(self) -> Tensor:
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        alpha = self.concentration
        return defined_where(alpha, alpha.detach() > 2, 3.0, lambda a: self.rate ** 2 / ((a - 1) ** 2 * (a - 2)),
                             math.inf)

    def draw(self, sample_shape: Any) -> Tensor:
        """``1/y``, y a Gamma(α, β) draw."""
        return self.base_dist.draw(sample_shape).reciprocal()

    def log_prob(self, value: Any) -> Tensor:
        x = self.in_support(value)
        alpha = self.concentration
        return alpha * self.rate.log() - (alpha + 1) * x.log() - self.rate / x - alpha.lgamma()

    def cdf(self, value: Any) -> Tensor:
        """``1 − P(α, β/x)``: x ≤ t exactly when the gamma draw 1/x ≥ 1/t."""
        return 1 - self.base_dist.cdf(self.in_support(value, "cdf", constraints.nonnegative).reciprocal())  # F(0) = 0

    def entropy(self) -> Tensor:
        alpha = self.concentration
        return alpha + self.rate.log() + alpha.lgamma() - (alpha + 1) * alpha.digamma()


class FisherSnedecor(GammaDrawn):
    """The F distribution with ``df1`` and ``df2`` degrees of freedom (numerator and denominator)."""

    params = {"df1": 0, "df2": 0}
    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive

    def __init__(self, df1: Any, df2: Any, validate_args: bool | None = None) -> None:
        self.df1, self.df2 = broadcast_all(df1, df2)
        check_positive("FisherSnedecor", "df1", self.df1, validate_args)
        check_positive("FisherSnedecor", "df2", self.df2, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.df1.shape)

    @property
    def mean(self) -> Tensor:
        """``d₂/(d₂ − 2)``, NaN for d₂ ≤ 2."""
        return defined_where(self.df2, self.df2.detach() > 2, 3.0, lambda d2: d2 / (d2 - 2))

    @property
    def mode(self) -> Tensor:
        """``(d₁ − 2)/d₁ · d₂/(d₂ + 2)``, NaN for d₁ ≤ 2."""
        d2 = self.df2
        return defined_where(self.df1, self.df1.detach() > 2, 3.0, lambda d1: (d1 - 2) / d1 * d2 / (d2 + 2))

    @property
    def variance(self) -> Tensor:
        """``2d₂²(d₁ + d₂ − 2)/(d₁(d₂ − 2)²(d₂ − 4))``, NaN for d₂ ≤ 4."""
        d1 = self.df1
        return defined_where(self.df2, self.df2.detach() > 4, 5.0,
                             lambda d2: 2 * d2 ** 2 * (d1 + d2 - 2) / (d1 * (d2 - 2) ** 2 * (d2 - 4)))

    def draw(self, sample_shape: Any) -> Tensor:
        """``(c₁/d₁)/(c₂/d₂)`` for chi-squared draws ``cᵢ = 2·Gamma(dᵢ/2, 1)``: the 2s cancel."""
        shape = self._draw_shape(sample_shape)
        return (standard_gamma(self.df1 / 2, shape) / self.df1) / (standard_gamma(self.df2 / 2, shape) / self.df2)

    def log_prob(self, value: Any) -> Tensor:
        x = self.in_support(value)
        half1, half2, ratio = self.df1 / 2, self.df2 / 2, self.df1 / self.df2
        normaliser = (half1 + half2).lgamma() - half1.lgamma() - half2.lgamma() + half1 * ratio.log()
        return normaliser + (half1 - 1) * x.log() - (half1 + half2) * (ratio * x).log1p()
