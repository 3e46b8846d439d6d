"""``kl_divergence`` rules for the gamma family, the counts and the power-law families (registered in
:mod:`.kl`'s table on import).

Same family:

* Poisson: ``λₚ·ln(λₚ/λ_q) − (λₚ − λ_q)``;
* Binomial (one n): ``n·(pₚ·(lₚ − l_q) + ln(1 − pₚ) − ln(1 − p_q))``, +inf where nₚ > n_q;
* InverseGamma: the Gamma pair's KL (``1/x`` is invertible), below;
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

from ..creation import zeros
from ..functions import where
from ..tensor import Tensor
from .base import Distribution
from .continuous_bernoulli import ContinuousBernoulli, cross_entropy_to
from .counts import Binomial, Poisson
from .discrete import Bernoulli, bernoulli_entropy
from .gamma_family import Beta, Dirichlet, Gamma, log_beta
from .gamma_ratios import InverseGamma
from .kl import Rule, _outside_support, _to_normal, register_kl, through_base
from .location_scale import EULER_GAMMA, Gumbel, Laplace, Normal, Uniform
from .positive import Exponential
from .powered import Pareto


@register_kl(Poisson, Poisson)
def _poisson_poisson(p: Poisson, q: Poisson) -> Tensor:
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Binomial, Binomial)
def _binomial_binomial(p: Binomial, q: Binomial) -> Tensor:
    if (p.total_count.detach().numpy() < q.total_count.detach().numpy()).any():
        raise NotImplementedError("kl_divergence: Binomials with p.total_count < q.total_count have no closed form "
                                  "here; estimate it from samples of p")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return kl.masked_fill(p.total_count.detach() > q.total_count.detach(), math.inf)


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
    return (p.high.xlogy(p.high) - p.low.xlogy(p.low)) / (p.high - p.low) - 1  # Uniform on [l, h] ⊂ [0, ∞)


def _mean_log_complement(p: Beta | Uniform) -> Tensor:
    """``E_p[ln(1 − x)]``."""
    if isinstance(p, Beta):
        return p.concentration0.digamma() - (p.concentration1 + p.concentration0).digamma()
    low, high = 1 - p.low, 1 - p.high  # Uniform on [l, h] ⊂ [0, 1]
    return (low.xlogy(low) - high.xlogy(high)) / (low - high) - 1


def _infinite_where(outside: Tensor, rule: Rule, p: Distribution, q: Distribution) -> Tensor:
    """``rule(p, q)``, and +inf where ``outside`` (p reaches outside q's support, or ``E_p x`` is infinite). There
    a Uniform's ends become ¼ and ¾ and a Pareto's α becomes 3 first, so no ln of a negative number or 1/0 reaches
    the value or the gradient (+inf does not change under a small change of the parameters: its gradient is 0)."""
    if not outside.any().item():
        return rule(p, q)
    if isinstance(p, Uniform):
        p = Uniform(where(outside, 0.25, p.low), where(outside, 0.75, p.high), validate_args=False)
    elif isinstance(p, Pareto):
        p = Pareto(where(outside, 1.0, p.scale), where(outside, 3.0, p.alpha), validate_args=False)
    return rule(p, q).masked_fill(outside, math.inf)


def _below(p: Distribution, bound: Tensor | float) -> Tensor:
    """Where p reaches below ``bound`` (a Uniform's low end, a Pareto's scale), or where a Pareto's mean is
    infinite (α ≤ 1); False for the families on ``[0, ∞)``."""
    if isinstance(p, Uniform):
        return p.low.detach() < bound
    if isinstance(p, Pareto):
        return (p.scale.detach() < bound).logical_or(p.alpha.detach() <= 1)
    return zeros(p.batch_shape, dtype=bool)


def _gamma_cross(p: Distribution, q: Gamma) -> Tensor:
    alpha = q.concentration
    return -p.entropy() + alpha.lgamma() - alpha * q.rate.log() - (alpha - 1) * _mean_log(p) + q.rate * p.mean


@register_kl(Gamma, Gamma)
@register_kl(Exponential, Gamma)
@register_kl(Beta, Gamma)
@register_kl(Pareto, Gamma)
@register_kl(Uniform, Gamma)
def _to_gamma(p: Distribution, q: Gamma) -> Tensor:
    return _infinite_where(_below(p, 0.0), _gamma_cross, p, q)


def _exponential_cross(p: Distribution, q: Exponential) -> Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(Gamma, Exponential)
@register_kl(Beta, Exponential)
@register_kl(Pareto, Exponential)
def _to_exponential(p: Distribution, q: Exponential) -> Tensor:
    return _infinite_where(_below(p, 0.0), _exponential_cross, p, q)


def _beta_cross(p: Beta | Uniform, q: Beta) -> Tensor:
    a, b = q.concentration1, q.concentration0
    return -p.entropy() + log_beta(a, b) - (a - 1) * _mean_log(p) - (b - 1) * _mean_log_complement(p)


@register_kl(Beta, Beta)
@register_kl(Uniform, Beta)
def _to_beta(p: Beta | Uniform, q: Beta) -> Tensor:
    outside = _below(p, 0.0).logical_or(p.high.detach() > 1) if isinstance(p, Uniform) else _below(p, 0.0)
    return _infinite_where(outside, _beta_cross, p, q)


def _pareto_cross(p: Pareto | Uniform, q: Pareto) -> Tensor:
    return -p.entropy() - q.alpha.log() - q.alpha * q.scale.log() + (q.alpha + 1) * _mean_log(p)


@register_kl(Pareto, Pareto)
@register_kl(Uniform, Pareto)
def _to_pareto(p: Pareto | Uniform, q: Pareto) -> Tensor:
    scale = q.scale.detach()
    outside = (p.scale.detach() < scale) if isinstance(p, Pareto) else _below(p, scale)
    return _infinite_where(outside, _pareto_cross, p, q)


# InverseGamma(α, β) is 1/y for y ~ Gamma(α, β), and 1/y is invertible, so its KL is the Gamma pair's:
# (αₚ − α_q)·ψ(αₚ) − lnΓ(αₚ) + lnΓ(α_q) + α_q·ln(βₚ/β_q) + αₚ·(β_q − βₚ)/βₚ.
register_kl(InverseGamma, InverseGamma)(through_base)


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
    heavy = p.alpha.detach() <= 2 if isinstance(p, Pareto) else _below(p, 0.0)
    return _infinite_where(heavy, _to_normal, p, q)


@register_kl(Beta, Uniform)
def _beta_uniform(p: Beta, q: Uniform) -> Tensor:
    kl = -p.entropy() + (q.high - q.low).log()
    return kl.masked_fill((q.low.detach() > 0).logical_or(q.high.detach() < 1), math.inf)


@register_kl(Beta, ContinuousBernoulli)
def _beta_continuous_bernoulli(p: Beta, q: ContinuousBernoulli) -> Tensor:
    """``−H(p) + E_p[−ln q]``: the continuous Bernoulli's cross-entropy needs only p's mean."""
    return -p.entropy() + cross_entropy_to(p.mean, q)


for _p, _q in [(Beta, Pareto), (ContinuousBernoulli, Pareto), (Exponential, Beta), (Exponential, Pareto),
               (Gamma, Beta), (Gamma, ContinuousBernoulli), (Gamma, Pareto), (Gamma, Uniform), (Gumbel, Beta),
               (Gumbel, Gamma), (Gumbel, Pareto), (Laplace, Beta), (Laplace, Gamma), (Laplace, Pareto),
               (Normal, Beta), (Normal, Gamma), (Normal, Pareto), (Pareto, Beta), (Pareto, ContinuousBernoulli),
               (Pareto, Uniform), (Poisson, Bernoulli), (Poisson, Binomial)]:
    register_kl(_p, _q)(_outside_support)
