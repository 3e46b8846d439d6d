"""``ContinuousBernoulli(λ)``: a density on [0, 1] shaped like the Bernoulli likelihood,
``p(x) = C(λ)·λˣ(1 − λ)¹⁻ˣ`` (the right likelihood for a VAE's pixels in [0, 1], Loaiza-Ganem & Cunningham 2019).

With ``η = ln λ − ln(1 − λ)`` (``logits``) and away from λ = ½:

* normaliser ``C(λ) = 2·atanh(1 − 2λ)/(1 − 2λ)``, so ``ln C = ln |ln(1 − λ) − ln λ| − ln |1 − 2λ|``;
* ``log p(x) = x·ln λ + (1 − x)·ln(1 − λ) + ln C`` (a binary cross-entropy with logits, plus ln C);
* mean ``λ/(2λ − 1) + 1/η'`` with ``η' = ln(1 − λ) − ln λ = −η``; variance ``λ(λ − 1)/(1 − 2λ)² + 1/η'²``;
* ``F(x) = (λˣ(1 − λ)¹⁻ˣ + λ − 1)/(2λ − 1)`` and ``F⁻¹(u) = (ln(1 − λ + u(2λ − 1)) − ln(1 − λ))/η``;
  ``rsample`` is ``F⁻¹(u)`` for ``u ~ U(0, 1)``;
* entropy ``mean·(ln(1 − λ) − ln λ) − ln C − ln(1 − λ)``.

Near λ = ½ these are 0/0 (at ½ the density is uniform), so for λ in ``(lims[0], lims[1]]`` (default 0.499 …
0.501) the Taylor series in ``δ = λ − ½`` stand in: ``ln C ≈ ln 2 + (4/3)δ² + (104/45)δ⁴``, mean
``≈ ½ + δ/3 + (16/45)δ³``, variance ``≈ 1/12 − δ²/15 + (128/945)δ⁴``, ``F(x) ≈ x``, ``F⁻¹(u) ≈ u``. The exact
formulas are then evaluated at ``lims[0]`` instead, so neither branch (nor its gradient) is NaN.

>>> import glassgrad as gg
>>> d = gg.distributions.ContinuousBernoulli(probs=gg.tensor(0.5))
>>> round(d.log_prob(gg.tensor(0.3)).item(), 4), round(d.mean.item(), 4)   # uniform at ½: p = 1
(0.0, 0.5)
"""

from __future__ import annotations

import math
from typing import Any

from ..creation import as_tensor
from ..functions import where
from ..nn.functional import binary_cross_entropy_with_logits
from ..tensor import Tensor
from . import constraints
from .base import broadcast_all, noise
from .discrete import SuccessChance
from .kl import _outside_support, register_kl
from .location_scale import HALF_LOG_TWO_PI, Gumbel, Laplace, Normal, Uniform
from .positive import Exponential
from .utils import clamp_probs


class ContinuousBernoulli(SuccessChance):
    """The continuous Bernoulli on [0, 1] with shape parameter ``probs`` λ (or ``logits`` ``ln(λ/(1 − λ))``),
    kept one ``eps`` inside (0, 1)."""

    has_rsample = True
    support = constraints.unit_interval

    def __init__(self, probs: Any = None, logits: Any = None, lims: tuple[float, float] = (0.499, 0.501),
                 validate_args: bool | None = None) -> None:
        super().__init__(probs, logits, validate_args)
        self.probs = clamp_probs(self.probs)
        self._lims = lims

    def _stable(self) -> Tensor:
        """Where λ lies outside ``(lims[0], lims[1]]``, so the exact formulas hold."""
        p = self.probs.detach()
        return (p <= self._lims[0]).logical_or(p > self._lims[1])

    def _cut_probs(self) -> Tensor:
        """λ where the exact formulas hold, ``lims[0]`` elsewhere (a point where they are finite)."""
        return where(self._stable(), self.probs, self._lims[0])

    def _log_norm(self) -> Tensor:
        """``ln C(λ)``."""
        cut = self._cut_probs()
        below_half = where(cut.detach() <= 0.5, cut, 0.0)  # each log is read only on its own side of ½
        above_half = where(cut.detach() >= 0.5, cut, 1.0)
        exact = ((-cut).log1p() - cut.log()).abs().log() - where(cut.detach() <= 0.5, (-2.0 * below_half).log1p(),
                                                                  (2.0 * above_half - 1.0).log())
        delta_squared = (self.probs - 0.5) ** 2
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * delta_squared) * delta_squared
        return where(self._stable(), exact, taylor)

    @property
    def mean(self) -> Tensor:
        cut = self._cut_probs()
        exact = cut / (2.0 * cut - 1.0) + ((-cut).log1p() - cut.log()).reciprocal()
        delta = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * delta ** 2) * delta
        return where(self._stable(), exact, taylor)

    @property
    def variance(self) -> Tensor:
        cut = self._cut_probs()
        exact = cut * (cut - 1.0) / (1.0 - 2.0 * cut) ** 2 + ((-cut).log1p() - cut.log()) ** -2
        delta_squared = (self.probs - 0.5) ** 2
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * delta_squared) * delta_squared
        return where(self._stable(), exact, taylor)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.icdf(noise(self.probs, self._draw_shape(sample_shape), "random"))

    def log_prob(self, value: Any) -> Tensor:
        logits, x = broadcast_all(self.logits, self.in_support(value))
        return -binary_cross_entropy_with_logits(logits, x, reduction="none") + self._log_norm()

    def cdf(self, value: Any) -> Tensor:
        x = self.in_support(value, "cdf")
        cut = self._cut_probs()
        exact = (cut ** x * (1.0 - cut) ** (1.0 - x) + cut - 1.0) / (2.0 * cut - 1.0)
        inside = where(self._stable(), exact, x)
        return where(x.detach() <= 0.0, 0.0, where(x.detach() >= 1.0, 1.0, inside))

    def icdf(self, value: Any) -> Tensor:
        u = as_tensor(value)
        cut = self._cut_probs()
        exact = ((-cut + u * (2.0 * cut - 1.0)).log1p() - (-cut).log1p()) / (cut.log() - (-cut).log1p())
        return where(self._stable(), exact, u)

    def entropy(self) -> Tensor:
        log_one_minus, log_probs = (-self.probs).log1p(), self.probs.log()
        return self.mean * (log_one_minus - log_probs) - self._log_norm() - log_one_minus


# --- kl_divergence against the continuous Bernoulli ----------------------------------------------------------
# E_p[−ln q(x)] for q continuous Bernoulli is −E_p[x]·η_q − ln(1 − λ_q) − ln C_q: it needs only p's mean.

def cross_entropy_to(p_mean: Tensor, q: ContinuousBernoulli) -> Tensor:
    return -p_mean * q.logits - (-q.probs).log1p() - q._log_norm()


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _continuous_bernoulli_continuous_bernoulli(p: ContinuousBernoulli, q: ContinuousBernoulli) -> Tensor:
    return -p.entropy() + cross_entropy_to(p.mean, q)


@register_kl(Uniform, ContinuousBernoulli)
def _uniform_continuous_bernoulli(p: Uniform, q: ContinuousBernoulli) -> Tensor:
    """Infinite where p's interval reaches outside [0, 1]."""
    outside = (p.low.detach() < 0).logical_or(p.high.detach() > 1)
    return (-p.entropy() + cross_entropy_to(p.mean, q)).masked_fill(outside, math.inf)


@register_kl(ContinuousBernoulli, Exponential)
def _continuous_bernoulli_exponential(p: ContinuousBernoulli, q: Exponential) -> Tensor:
    """``E_p[−ln q] = −ln λ_q + λ_q·E_p x``."""
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _continuous_bernoulli_normal(p: ContinuousBernoulli, q: Normal) -> Tensor:
    """``E_p[−ln q] = ln σ + ½ln 2π + (Var_p + (E_p x − μ)²)/(2σ²)``."""
    return -p.entropy() + q.scale.log() + HALF_LOG_TWO_PI + (p.variance + (p.mean - q.loc) ** 2) / (2 * q.scale ** 2)


@register_kl(ContinuousBernoulli, Uniform)
def _continuous_bernoulli_uniform(p: ContinuousBernoulli, q: Uniform) -> Tensor:
    """``ln(b − a)`` minus p's entropy; infinite unless [0, 1] ⊆ [a, b]."""
    outside = (q.low.detach() > 0).logical_or(q.high.detach() < 1)
    return (-p.entropy() + (q.high - q.low).log()).masked_fill(outside, math.inf)


# p puts mass outside [0, 1], where q has none: KL is +∞.
for _p in (Exponential, Gumbel, Laplace, Normal):
    register_kl(_p, ContinuousBernoulli)(_outside_support)
