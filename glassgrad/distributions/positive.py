"""Distributions of positive numbers: ``Exponential``, ``LogNormal``, ``HalfNormal``, ``HalfCauchy``.

* Exponential(λ): ``log p(x) = ln λ − λx``, ``F(x) = 1 − e^{−λx}``, mean ``1/λ``, entropy ``1 − ln λ``;
  ``rsample`` is ``ε/λ`` with ε a standard exponential draw.
* LogNormal(μ, σ): ``x = e^y`` with ``y ~ N(μ, σ²)``; ``log p(x) = log N(ln x; μ, σ) − ln x`` (the change of
  variables' ``|dy/dx| = 1/x``), mean ``e^{μ + σ²/2}``, variance ``(e^{σ²} − 1)·e^{2μ + σ²}``, entropy ``H_N + μ``.
* HalfNormal(σ): ``x = |y|`` with ``y ~ N(0, σ²)``; ``log p(x) = log N(x; 0, σ) + ln 2`` for x ≥ 0,
  ``F(x) = erf(x/(σ√2))``, mean ``σ√(2/π)``, variance ``σ²(1 − 2/π)``, entropy ``H_N − ln 2``.
* HalfCauchy(σ): ``x = |y|`` with ``y ~ Cauchy(0, σ)``; ``log p(x) = ln 2 − ln(πσ) − ln(1 + (x/σ)²)`` for x ≥ 0,
  ``F(x) = (2/π)·atan(x/σ)``, ``F⁻¹(p) = σ·tan(πp/2)``, mean and variance +inf (as PyTorch's), mode 0,
  entropy ``ln(2πσ)``.

>>> import glassgrad as gg
>>> round(gg.distributions.Exponential(2.0).cdf(gg.tensor(0.5)).item(), 4)   # 1 − e⁻¹
0.6321
"""

from __future__ import annotations

import math
from typing import Any

from ..creation import as_tensor
from ..tensor import Tensor
from . import constraints
from .base import Distribution, broadcast_all, check_positive, check_real, noise, validating
from .location_scale import Cauchy, Normal


class Exponential(Distribution):
    """The exponential distribution with rate ``λ`` (mean ``1/λ``): waiting times between events."""

    has_rsample = True
    params = {"rate": 0}
    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        check_positive("Exponential", "rate", self.rate, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.rate.shape)

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return self.rate.new_zeros(self._batch)

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate ** -2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return noise(self.rate, self._draw_shape(sample_shape), "standard_exponential") / self.rate

    def log_prob(self, value: Any) -> Tensor:
        return self.rate.log() - self.rate * self.in_support(value)

    def cdf(self, value: Any) -> Tensor:
        return 1 - (-self.rate * self.in_support(value, "cdf")).exp()

    def icdf(self, value: Any) -> Tensor:
        return -(-as_tensor(value)).log1p() / self.rate

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()


class LogNormal(Distribution):
    """``e^y`` for ``y ~ Normal(loc, scale)``: ``loc`` and ``scale`` are the mean and spread of ``ln x``."""

    has_rsample = True
    params = {"loc": 0, "scale": 0}
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        check_real("LogNormal", "loc", self.loc, validate_args)
        check_positive("LogNormal", "scale", self.scale, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.loc.shape)

    @property
    def base_dist(self) -> Normal:
        """The normal distribution of ``ln x``."""
        return Normal(self.loc, self.scale, validate_args=False)

    @property
    def mean(self) -> Tensor:
        return (self.loc + self.scale ** 2 / 2).exp()

    @property
    def mode(self) -> Tensor:
        return (self.loc - self.scale ** 2).exp()

    @property
    def variance(self) -> Tensor:
        spread = self.scale ** 2
        return spread.expm1() * (2 * self.loc + spread).exp()

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape).exp()

    def log_prob(self, value: Any) -> Tensor:
        log_x = self.in_support(value).log()
        return self.base_dist.log_prob(log_x) - log_x

    def cdf(self, value: Any) -> Tensor:
        return self.base_dist.cdf(self.in_support(value, "cdf", constraints.nonnegative).log())  # F(0) = 0

    def icdf(self, value: Any) -> Tensor:
        return self.base_dist.icdf(value).exp()

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc


class _Folded(Distribution):
    """``|y|`` for ``y`` of a distribution symmetric about 0 with a ``scale`` (:attr:`base_dist`): the density
    doubled on ``x ≥ 0`` (``ln p(x) = ln p_y(x) + ln 2``), 0 below; the entropy ``ln 2`` less; a draw is ``|y|``."""

    has_rsample = True
    params = {"scale": 0}
    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    folds: type[Distribution]
    """The symmetric distribution folded (Normal, Cauchy)."""
    scores_in_scale_dtype = False
    """Whether ``log_prob`` casts the value (once checked) to the scale's dtype, as PyTorch's HalfCauchy does (its
    HalfNormal does not: a float64 value scores in float64)."""

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        (self.scale,) = broadcast_all(scale)
        check_positive(type(self).__name__, "scale", self.scale, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.scale.shape)

    @property
    def base_dist(self) -> Distribution:
        """The distribution whose absolute value this is."""
        return self.folds(0.0, self.scale, validate_args=False)

    @property
    def mode(self) -> Tensor:
        return self.scale.new_zeros(self._batch)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape).abs()

    def log_prob(self, value: Any) -> Tensor:
        x = self.in_support(value)
        if self.scores_in_scale_dtype:
            x = x.to(self.scale.dtype)
        density = self.base_dist.log_prob(x) + math.log(2)
        return density.masked_fill(x.detach() < 0, -math.inf)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - math.log(2)


class HalfNormal(_Folded):
    """``|y|`` for ``y ~ Normal(0, scale)``."""

    folds = Normal

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> Tensor:
        return self.scale ** 2 * (1 - 2 / math.pi)

    def cdf(self, value: Any) -> Tensor:
        return (self.in_support(value, "cdf") / (self.scale * math.sqrt(2))).erf()

    def icdf(self, value: Any) -> Tensor:
        """``σ·erf⁻¹(p)·√2``, F's inverse (√2 last, as in :meth:`Normal.icdf`, so float32 σ does not round it)."""
        return self.scale * as_tensor(value).erfinv() * math.sqrt(2)


class HalfCauchy(_Folded):
    """``|y|`` for ``y ~ Cauchy(0, scale)``: a heavy-tailed prior for a scale (its half width is ``scale``)."""

    folds = Cauchy
    scores_in_scale_dtype = True

    @property
    def mean(self) -> Tensor:
        return self.scale.new_full(self._batch, math.inf)

    @property
    def variance(self) -> Tensor:
        return self.scale.new_full(self._batch, math.inf)

    def cdf(self, value: Any) -> Tensor:
        return (self.in_support(value, "cdf") / self.scale).atan() * (2 / math.pi)

    def icdf(self, value: Any) -> Tensor:
        """``σ·tan(πp/2)``, F's inverse."""
        return (as_tensor(value) * (math.pi / 2)).tan() * self.scale
