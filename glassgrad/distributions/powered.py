"""Distributions drawn by raising a standard draw to a power: ``Weibull``, ``Pareto``, ``Kumaraswamy``,
``GeneralizedPareto``.

Each is an explicit map of one standard exponential E or uniform U, so ``rsample`` is reparameterised and
``cdf``/``icdf`` are in closed form (written directly, not as transformed distributions):

* Weibull(λ, k) (``scale`` λ, ``concentration`` k): ``x = λ·E^{1/k}``; ``log p(x) = ln(k/λ) + (k − 1)·ln(x/λ)
  − (x/λ)^k``, ``F(x) = 1 − e^{−(x/λ)^k}``, mean ``λ·Γ(1 + 1/k)``, variance ``λ²(Γ(1 + 2/k) − Γ(1 + 1/k)²)``,
  mode ``λ((k − 1)/k)^{1/k}`` for k > 1 (0 for k ≤ 1), entropy ``γ_E(1 − 1/k) + ln(λ/k) + 1``;
* Pareto(x_m, α) (``scale`` x_m, ``alpha`` α): ``x = x_m·e^{E/α}``, on ``[x_m, ∞)``; ``log p(x) = ln α + α·ln x_m
  − (α + 1)·ln x``, ``F(x) = 1 − (x_m/x)^α``, mean ``α·x_m/(α − 1)`` (+inf for α ≤ 1), variance
  ``x_m²α/((α − 1)²(α − 2))`` (+inf for α ≤ 2), mode x_m, entropy ``ln(x_m/α) + 1/α + 1``;
* Kumaraswamy(a, b) (``concentration1`` a, ``concentration0`` b) on [0, 1]: ``x = (1 − U^{1/b})^{1/a}``;
  ``log p(x) = ln(ab) + (a − 1)·ln x + (b − 1)·ln(1 − xᵃ)``, ``F(x) = 1 − (1 − xᵃ)ᵇ``, moments
  ``E[xⁿ] = b·B(1 + n/a, b)``, mode ``((a − 1)/(ab − 1))^{1/a}`` for a, b ≥ 1 (NaN for a = b = 1 and where a < 1
  or b < 1, as PyTorch; PyTorch's own formula also gives NaN for every b > 1), entropy
  ``(1 − 1/b) + (1 − 1/a)·H_b − ln(ab)`` with ``H_b = ψ(b + 1) + γ_E`` the b-th harmonic number;
* GeneralizedPareto(μ, σ, ξ) (``loc``, ``scale``, ``concentration``), the law of the excesses over a high threshold:
  with ``z = (x − μ)/σ``, ``log p(x) = −ln σ − (1/ξ + 1)·ln(1 + ξz)``, survival ``1 − F(x) = (1 + ξz)^{−1/ξ}``,
  ``x = μ + (σ/ξ)·(U^{−ξ} − 1)`` (``F⁻¹`` of a uniform U); ξ = 0 is the exponential limit (``log p = −ln σ − z``,
  ``1 − F = e^{−z}``, ``x = μ − σ·ln U``), taken where |ξ| ≤ 10⁻⁸ as PyTorch's ``isclose``; on ``[μ, ∞)`` for ξ ≥ 0
  and ``[μ, μ − σ/ξ]`` for ξ < 0; mean ``μ + σ/(1 − ξ)`` (ξ < 1), variance ``σ²/((1 − ξ)²(1 − 2ξ))`` (ξ < ½), NaN
  beyond, mode μ, entropy ``ln σ + ξ + 1``.

>>> import glassgrad as gg
>>> round(gg.distributions.Weibull(1.0, 1.0).cdf(gg.tensor(1.0)).item(), 4)   # k = 1 is Exponential(1): 1 − e⁻¹
0.6321
"""

from __future__ import annotations

import math
from typing import Any

from ..creation import as_tensor
from ..tensor import Tensor
from . import constraints
from .base import Distribution, broadcast_all, check_positive, check_real, defined_where, noise, validating
from .gamma_family import log_beta
from .location_scale import EULER_GAMMA


class Weibull(Distribution):
    """The Weibull distribution with ``scale`` λ and shape ``concentration`` k (k = 1: exponential)."""

    has_rsample = True
    params = {"scale": 0, "concentration": 0}
    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive

    def __init__(self, scale: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.scale, self.concentration = broadcast_all(scale, concentration)
        check_positive("Weibull", "scale", self.scale, validate_args)
        check_positive("Weibull", "concentration", self.concentration, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.scale.shape)

    @property
    def mean(self) -> Tensor:
        return self.scale * (1 + self.concentration.reciprocal()).lgamma().exp()

    @property
    def mode(self) -> Tensor:
        """``λ((k − 1)/k)^{1/k}``, and 0 for k ≤ 1 where the density falls from x = 0 (PyTorch: NaN for k < 1)."""
        k = self.concentration
        return self.scale * ((k - 1) / k).clamp(min=0) ** k.reciprocal()

    @property
    def variance(self) -> Tensor:
        inverse = self.concentration.reciprocal()
        return self.scale ** 2 * ((1 + 2 * inverse).lgamma().exp() - (2 * (1 + inverse).lgamma()).exp())

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        exponential = noise(self.scale, self._draw_shape(sample_shape), "standard_exponential")
        return self.scale * exponential ** self.concentration.reciprocal()

    def log_prob(self, value: Any) -> Tensor:
        ratio = self.in_support(value) / self.scale
        k = self.concentration
        return (k / self.scale).log() + (k - 1) * ratio.log() - ratio ** k

    def cdf(self, value: Any) -> Tensor:
        x = self.in_support(value, "cdf", constraints.nonnegative)  # F(0) = 0
        return -(-(x / self.scale) ** self.concentration).expm1()

    def icdf(self, value: Any) -> Tensor:
        return self.scale * (-(-as_tensor(value)).log1p()) ** self.concentration.reciprocal()

    def entropy(self) -> Tensor:
        k = self.concentration
        return EULER_GAMMA * (1 - k.reciprocal()) + (self.scale / k).log() + 1


class Pareto(Distribution):
    """The Pareto (power-law) distribution on ``[scale, ∞)`` with tail index ``alpha``."""

    has_rsample = True
    params = {"scale": 0, "alpha": 0}
    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}

    def __init__(self, scale: Any, alpha: Any, validate_args: bool | None = None) -> None:
        self.scale, self.alpha = broadcast_all(scale, alpha)
        check_positive("Pareto", "scale", self.scale, validate_args)
        check_positive("Pareto", "alpha", self.alpha, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.scale.shape)

    @property
    def support(self) -> constraints.Constraint:
        return constraints.greater_than_eq(self.scale)

    def heavy_tailed(self, order: int) -> tuple[Tensor, Tensor]:
        """Where the ``order``-th moment is infinite (α ≤ order), and α with 2·order put there, so the finite
        formula divides by no 0 (its gradient there is 0: +inf stays +inf under a small change of α)."""
        heavy = self.alpha.detach() <= order
        return heavy, self.alpha.masked_fill(heavy, 2.0 * order)

    @property
    def mean(self) -> Tensor:
        heavy, alpha = self.heavy_tailed(1)
        return (alpha * self.scale / (alpha - 1)).masked_fill(heavy, math.inf)

    @property
    def mode(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        heavy, alpha = self.heavy_tailed(2)
        return (self.scale ** 2 * alpha / ((alpha - 1) ** 2 * (alpha - 2))).masked_fill(heavy, math.inf)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        exponential = noise(self.scale, self._draw_shape(sample_shape), "standard_exponential")
        return self.scale * (exponential / self.alpha).exp()

    def log_prob(self, value: Any) -> Tensor:
        """``ln α − (α + 1)·ln(x/λ) − ln λ``, the log of the ratio taken first (as PyTorch's exponential of
        ln(x/λ) takes it): ``α·ln λ − (α + 1)·ln x`` cancels two terms of size α (at α = 3000 in float32 the
        score lost 100 units in the last place)."""
        x = self.in_support(value)
        return self.alpha.log() - (self.alpha + 1) * (x / self.scale).log() - self.scale.log()

    def cdf(self, value: Any) -> Tensor:
        return 1 - (self.scale / self.in_support(value, "cdf")) ** self.alpha

    def icdf(self, value: Any) -> Tensor:
        return self.scale * (-(-as_tensor(value)).log1p() / self.alpha).exp()

    def entropy(self) -> Tensor:
        return (self.scale / self.alpha).log() + self.alpha.reciprocal() + 1


class Kumaraswamy(Distribution):
    """The Kumaraswamy distribution on ``[0, 1]``: a Beta look-alike with a closed-form cdf and inverse."""

    has_rsample = True
    params = {"concentration1": 0, "concentration0": 0}
    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        check_positive("Kumaraswamy", "concentration1", self.concentration1, validate_args)
        check_positive("Kumaraswamy", "concentration0", self.concentration0, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.concentration1.shape)

    def moment(self, n: int) -> Tensor:
        """``E[xⁿ] = b·B(1 + n/a, b)``."""
        a, b = self.concentration1, self.concentration0
        return b * log_beta(1 + n / a, b).exp()

    @property
    def mean(self) -> Tensor:
        return self.moment(1)

    @property
    def mode(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        undefined = (a.detach() < 1).logical_or(b.detach() < 1).logical_or((a * b).detach() == 1)
        ratio = (a - 1) / (a * b - 1).masked_fill(undefined, 1.0)
        return ratio.masked_fill(undefined, math.nan) ** a.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.moment(2) - self.moment(1) ** 2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        uniform = noise(self.concentration1, self._draw_shape(sample_shape), "random")
        return self.icdf(1 - uniform)

    def log_prob(self, value: Any) -> Tensor:
        x = self.in_support(value)
        a, b = self.concentration1, self.concentration0
        return (a * b).log() + (a - 1) * x.log() + (b - 1) * (-(x ** a)).log1p()

    def cdf(self, value: Any) -> Tensor:
        return 1 - (1 - self.in_support(value, "cdf") ** self.concentration1) ** self.concentration0

    def icdf(self, value: Any) -> Tensor:
        """``(1 − (1 − u)^{1/b})^{1/a}``."""
        survival = (-as_tensor(value)).log1p() / self.concentration0
        return (-survival.expm1()) ** self.concentration1.reciprocal()

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        harmonic = (b + 1).digamma() + EULER_GAMMA
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * harmonic - (a * b).log()


class GeneralizedPareto(Distribution):
    """The generalized Pareto distribution with location ``loc``, ``scale`` and shape ``concentration`` ξ: the
    exponential (ξ = 0), a shifted Pareto (ξ > 0) and bounded tails (ξ < 0) in one family."""

    has_rsample = True
    params = {"loc": 0, "scale": 0, "concentration": 0}
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}

    def __init__(self, loc: Any, scale: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        check_real("GeneralizedPareto", "loc", self.loc, validate_args)
        check_positive("GeneralizedPareto", "scale", self.scale, validate_args)
        check_real("GeneralizedPareto", "concentration", self.concentration, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.loc.shape)

    @property
    def support(self) -> constraints.Constraint:
        """``[μ, ∞)`` for ξ ≥ 0, ``[μ, μ − σ/ξ]`` for ξ < 0."""
        xi = self.concentration.detach()
        upper = (self.loc.detach() - self.scale.detach() / xi.masked_fill(xi >= 0, -1.0)).masked_fill(xi >= 0, math.inf)
        return constraints.interval(self.loc.detach(), upper)

    def _exponential_limit(self) -> tuple[Tensor, Tensor]:
        """Where ξ is taken as 0, and ξ with 1 there (so the ξ ≠ 0 formulas stay finite where they are not used)."""
        at_zero = self.concentration.detach().abs() <= 1e-8
        return at_zero, self.concentration.masked_fill(at_zero, 1.0)

    def log_prob(self, value: Any) -> Tensor:
        z = (self.in_support(value) - self.loc) / self.scale
        at_zero, xi = self._exponential_limit()
        power = 1 / xi + 1
        tail = (power * (xi * z).log1p()).where(power.detach() != 0, power)  # ξ = −1 is uniform: no log term
        return -self.scale.log() - tail.where(at_zero.logical_not(), z)

    def log_survival_function(self, value: Any) -> Tensor:
        """``ln(1 − F(x)) = −ln(1 + ξz)/ξ`` (``−z`` for ξ = 0)."""
        z = (self.in_support(value) - self.loc) / self.scale
        at_zero, xi = self._exponential_limit()
        return (-(xi * z).log1p() / xi).where(at_zero.logical_not(), -z)

    def log_cdf(self, value: Any) -> Tensor:
        """``ln F(x) = ln(−expm1(ln(1 − F(x))))``: accurate where F is tiny (PyTorch's ``log1p(−exp(·))`` rounds
        ``exp`` to 1 there and gives −inf for x within about 1e-8·σ of μ in float32)."""
        return self.cdf(value).log()

    def cdf(self, value: Any) -> Tensor:
        return -self.log_survival_function(value).expm1()

    def icdf(self, value: Any) -> Tensor:
        log_u = (-as_tensor(value)).log1p()  # ln(1 − p): 1 − p is a uniform draw as well
        at_zero, xi = self._exponential_limit()
        power_law = self.loc + self.scale / xi * (-xi * log_u).expm1()
        return power_law.where(at_zero.logical_not(), self.loc - self.scale * log_u)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.icdf(noise(self.loc, self._draw_shape(sample_shape), "random"))

    @property
    def mean(self) -> Tensor:
        xi = self.concentration
        return defined_where(xi, xi.detach() < 1, 0.0, lambda k: self.loc + self.scale / (1 - k))

    @property
    def variance(self) -> Tensor:
        xi = self.concentration
        return defined_where(xi, xi.detach() < 0.5, 0.0, lambda k: self.scale ** 2 / ((1 - k) ** 2 * (1 - 2 * k)))

    @property
    def mode(self) -> Tensor:
        return self.loc

    def entropy(self) -> Tensor:
        return self.scale.log() + self.concentration + 1
