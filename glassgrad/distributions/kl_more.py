"""``kl_divergence`` rules for the gamma family, the counts and the power-law families (registered in
:mod:`.kl`'s table on import).

Same family:

* Poisson: ``λₚ·ln(λₚ/λ_q) − (λₚ − λ_q)``;
* Binomial (one n): ``n·(pₚ·(lₚ − l_q) + ln(1 − pₚ) − ln(1 − p_q))``, +inf where nₚ > n_q;
* Dirichlet: ``lnΓ(α₀ₚ) − lnΓ(α₀_q) − Σ(lnΓ(αₚᵢ) − lnΓ(α_qᵢ)) + Σ(αₚᵢ − α_qᵢ)(ψ(αₚᵢ) − ψ(α₀ₚ))``.

Every other pair is ``KL(p ‖ q) = −H(p) + H(p, q)`` with the cross entropy ``H(p, q) = −E_p[ln q(x)]`` read
from a few expectations under p: ``E x``, ``E ln x`` and ``E ln(1 − x)``:

* to Gamma(α, β): ``lnΓ(α) − α·ln β − (α − 1)·E ln x + β·E x``;
* to Beta(a, b): ``ln B(a, b) − (a − 1)·E ln x − (b − 1)·E ln(1 − x)``;
* to Exponential(λ): ``−ln λ + λ·E x``;  to Pareto(x_m, α): ``−ln α − α·ln x_m + (α + 1)·E ln x``;
* to Gumbel(μ, β) from a Gamma(α, r): ``ln β + (E x − μ)/β + e^{μ/β}·(1 + 1/(rβ))^{−α}`` (its moment function);
* to Normal and Uniform: :mod:`.kl`'s rules from the mean and variance.

With ``E ln x`` = ``ψ(α) − ln β`` (Gamma), ``−γ_E − ln λ`` (Exponential), ``ψ(a) − ψ(a + b)`` (Beta),
``ln x_m + 1/α`` (Pareto), ``(h·ln h − l·ln l)/(h − l) − 1`` (Uniform[l, h]). KL is +inf where p puts mass
outside q's support (a Normal against a Gamma, a Uniform reaching below a Pareto's x_m) or where ``E x`` is
infinite (a Pareto with α ≤ 1; α ≤ 2 against a Normal).

>>> import glassgrad as gg
>>> D = gg.distributions
>>> round(D.kl_divergence(D.Poisson(2.0), D.Poisson(1.0)).item(), 4)   # 2·ln 2 − 1
0.3863
"""

from __future__ import annotations

import math

from ..tensor import Tensor
from .base import Distribution
from .counts import Binomial, Poisson
from .discrete import Bernoulli, bernoulli_entropy
from .gamma_family import Beta, Dirichlet, Gamma, log_beta
from .kl import _outside_support, _to_normal, register_kl
from .location_scale import EULER_GAMMA, Gumbel, Laplace, Normal, Uniform
from .positive import Exponential
from .powered import Pareto


@register_kl(Poisson, Poisson)
def _poisson_poisson(p: Poisson, q: Poisson) -> Tensor:
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Binomial, Binomial)
def _binomial_binomial(p: Binomial, q: Binomial) -> Tensor:
    if (p.total_count.numpy() < q.total_count.numpy()).any():
        raise NotImplementedError("kl_divergence: Binomials with p.total_count < q.total_count have no closed form "
                                  "here; estimate it from samples of p")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return kl.masked_fill(p.total_count > q.total_count, math.inf)


@register_kl(Dirichlet, Dirichlet)
def _dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> Tensor:
    total_p, total_q = p.concentration.sum(-1), q.concentration.sum(-1)
    expected_log = p.concentration.digamma() - total_p.digamma().unsqueeze(-1)
    return (total_p.lgamma() - total_q.lgamma() - (p.concentration.lgamma() - q.concentration.lgamma()).sum(-1)
            + ((p.concentration - q.concentration) * expected_log).sum(-1))


@register_kl(Bernoulli, Poisson)
def _bernoulli_poisson(p: Bernoulli, q: Poisson) -> Tensor:
    """``E_p[−ln q] = λ − p·ln λ`` (ln k! = 0 for k ∈ {0, 1})."""
    return -bernoulli_entropy(p.probs, p.logits) + q.rate - p.probs * q.rate.log()


# --- through the cross entropy ---------------------------------------------------------------------------------

def _mean(p: Distribution) -> Tensor:
    """``E_p[x]``; a Pareto's written ``α·x_m/(α − 1)`` (finite, and masked to +inf by the caller, for α ≤ 1)."""
    return p.alpha * p.scale / (p.alpha - 1) if isinstance(p, Pareto) else p.mean


def _mean_log(p: Distribution) -> Tensor:
    """``E_p[ln x]``."""
    if isinstance(p, Gamma):
        return p.concentration.digamma() - p.rate.log()
    if isinstance(p, Exponential):
        return -EULER_GAMMA - p.rate.log()
    if isinstance(p, Beta):
        return p.concentration1.digamma() - (p.concentration1 + p.concentration0).digamma()
    if isinstance(p, Pareto):
        return p.scale.log() + p.alpha.reciprocal()
    low, high = p.low.clamp(min=0), p.high  # Uniform; below 0 the KL is +inf and this value is masked
    return (high.xlogy(high) - low.xlogy(low)) / (high - low) - 1


def _mean_log_complement(p: Beta | Uniform) -> Tensor:
    """``E_p[ln(1 − x)]``."""
    if isinstance(p, Beta):
        return p.concentration0.digamma() - (p.concentration1 + p.concentration0).digamma()
    low, high = 1 - p.low, 1 - p.high.clamp(max=1)  # above 1 the KL is +inf and this value is masked
    return (low.xlogy(low) - high.xlogy(high)) / (low - high) - 1


def _infinite_mean(p: Distribution) -> Tensor | bool:
    """Where ``E_p[x]`` is infinite (a Pareto with α ≤ 1), or where p reaches below 0 (a Uniform)."""
    if isinstance(p, Pareto):
        return p.alpha.detach() <= 1
    return p.low.detach() < 0 if isinstance(p, Uniform) else False


def _masked(kl: Tensor, infinite: Tensor | bool) -> Tensor:
    return kl.masked_fill(infinite, math.inf) if isinstance(infinite, Tensor) else kl


@register_kl(Gamma, Gamma)
@register_kl(Exponential, Gamma)
@register_kl(Beta, Gamma)
@register_kl(Pareto, Gamma)
@register_kl(Uniform, Gamma)
def _to_gamma(p: Distribution, q: Gamma) -> Tensor:
    alpha = q.concentration
    cross = alpha.lgamma() - alpha * q.rate.log() - (alpha - 1) * _mean_log(p) + q.rate * _mean(p)
    return _masked(-p.entropy() + cross, _infinite_mean(p))


@register_kl(Gamma, Exponential)
@register_kl(Beta, Exponential)
@register_kl(Pareto, Exponential)
def _to_exponential(p: Distribution, q: Exponential) -> Tensor:
    return _masked(-p.entropy() - q.rate.log() + q.rate * _mean(p), _infinite_mean(p))


@register_kl(Beta, Beta)
@register_kl(Uniform, Beta)
def _to_beta(p: Beta | Uniform, q: Beta) -> Tensor:
    a, b = q.concentration1, q.concentration0
    cross = log_beta(a, b) - (a - 1) * _mean_log(p) - (b - 1) * _mean_log_complement(p)
    kl = -p.entropy() + cross
    if isinstance(p, Uniform):
        kl = kl.masked_fill((p.low.detach() < 0).logical_or(p.high.detach() > 1), math.inf)
    return kl


@register_kl(Pareto, Pareto)
@register_kl(Uniform, Pareto)
def _to_pareto(p: Pareto | Uniform, q: Pareto) -> Tensor:
    cross = -q.alpha.log() - q.alpha * q.scale.log() + (q.alpha + 1) * _mean_log(p)
    lowest = p.scale if isinstance(p, Pareto) else p.low
    return (-p.entropy() + cross).masked_fill(lowest.detach() < q.scale.detach(), math.inf)


@register_kl(Gamma, Gumbel)
def _gamma_gumbel(p: Gamma, q: Gumbel) -> Tensor:
    """``E_p[e^{−x/β}] = (1 + 1/(rβ))^{−α}``, the Gamma's moment function at ``−1/β``."""
    moment = (-p.concentration * (1 + (p.rate * q.scale).reciprocal()).log()).exp()
    return (-p.entropy() + q.scale.log() + (p.mean - q.loc) / q.scale + (q.loc / q.scale).exp() * moment)


@register_kl(Gamma, Normal)
@register_kl(Beta, Normal)
@register_kl(Pareto, Normal)
def _to_normal_finite(p: Distribution, q: Normal) -> Tensor:
    """:mod:`.kl`'s rule from p's mean and variance; +inf for a Pareto with α ≤ 2 (infinite variance)."""
    if isinstance(p, Pareto):
        heavy = p.alpha.detach() <= 2
        safe = Pareto(p.scale, p.alpha.masked_fill(heavy, 3.0), validate_args=False)
        return _to_normal(safe, q).masked_fill(heavy, math.inf)
    return _to_normal(p, q)


@register_kl(Beta, Uniform)
def _beta_uniform(p: Beta, q: Uniform) -> Tensor:
    kl = -p.entropy() + (q.high - q.low).log()
    return kl.masked_fill((q.low.detach() > 0).logical_or(q.high.detach() < 1), math.inf)


for _p, _q in [(Beta, Pareto), (Exponential, Beta), (Exponential, Pareto), (Gamma, Beta), (Gamma, Pareto),
               (Gamma, Uniform), (Gumbel, Beta), (Gumbel, Gamma), (Gumbel, Pareto), (Laplace, Beta),
               (Laplace, Gamma), (Laplace, Pareto), (Normal, Beta), (Normal, Gamma), (Normal, Pareto),
               (Pareto, Beta), (Pareto, Uniform), (Poisson, Bernoulli), (Poisson, Binomial)]:
    register_kl(_p, _q)(_outside_support)
