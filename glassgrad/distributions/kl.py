"""``kl_divergence(p, q) = E_p[ln p(x) − ln q(x)]`` in closed form, one rule per pair of families.

The rules are a table keyed by the two types (:func:`register_kl` adds one, as PyTorch's does); the most
specific registered pair of the two types' classes wins. Each rule is the textbook formula, e.g.

* Normal: ``½(σₚ²/σ_q² + (μₚ − μ_q)²/σ_q² − 1 − ln(σₚ²/σ_q²))``;
* Exponential: ``ln(λₚ/λ_q) + λ_q/λₚ − 1``;
* Laplace: ``ln(b_q/bₚ) + |μₚ − μ_q|/b_q + (bₚ/b_q)·e^{−|μₚ − μ_q|/bₚ} − 1``;
* Cauchy: ``ln((γₚ + γ_q)² + (μₚ − μ_q)²) − ln(4γₚγ_q)``;
* Gumbel: ``ln(β_q/βₚ) + (μₚ + βₚγ_E − μ_q)/β_q + e^{(μ_q − μₚ)/β_q}·Γ(1 + βₚ/β_q) − 1 − γ_E`` (from the rule to
  a Gumbel below);
* Uniform: ``ln((b_q − a_q)/(bₚ − aₚ))``, +inf unless q's interval holds p's;
* Geometric: ``−Hₚ − ln(1 − q)/p − logit q``;
* MultivariateNormal: ``½(tr(Σ_q⁻¹Σₚ) + (μ_q − μₚ)ᵀΣ_q⁻¹(μ_q − μₚ) − n) + ½ln(det Σ_q/det Σₚ)`` (a low-rank
  one through the Cholesky factor of its Σ);
* LogNormal, HalfNormal, HalfCauchy (and InverseGamma, in :mod:`.kl_more`): the KL of their base
  distributions (a shared invertible map, or the fold of bases symmetric about 0, leaves KL unchanged);
  Independent: the base KL summed over the reinterpreted dims;
* two families: ``−H(p) − E_p[ln q]`` from p's mean, variance or moment-generating function; +∞ where p
  reaches outside q's support (a Normal against an Exponential or a Uniform).

>>> import glassgrad as gg
>>> D = gg.distributions
>>> round(D.kl_divergence(D.Exponential(1.0), D.Exponential(2.0)).item(), 4)   # ln ½ + 2 − 1
0.3069
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from ..nn.functional import logsigmoid
from ..tensor import Tensor
from .base import Distribution
from .discrete import Bernoulli, Categorical, ClassProbabilities, Geometric, OneHotCategorical
from .independent import Independent, sum_rightmost
from .location_scale import HALF_LOG_TWO_PI, Cauchy, Gumbel, Laplace, Normal, Uniform
from .multivariate import LowRankMultivariateNormal, MultivariateNormal, mahalanobis
from .positive import Exponential, HalfCauchy, HalfNormal, LogNormal

Rule = Callable[[Distribution, Distribution], Tensor]
RULES: dict[tuple[type, type], Rule] = {}


def register_kl(type_p: type, type_q: type) -> Callable[[Rule], Rule]:
    """A decorator: the function it wraps becomes ``kl_divergence``'s rule for ``type_p`` against ``type_q`` (two
    classes; anything else is PyTorch's TypeError)."""
    for name, kind in (("type_p", type_p), ("type_q", type_q)):
        if not isinstance(kind, type):
            raise TypeError(f"register_kl: {name} must be a Distribution subclass, got {kind!r}; pass the class, "
                            "e.g. register_kl(Normal, Normal)")

    def add(rule: Rule) -> Rule:
        RULES[type_p, type_q] = rule
        return rule

    return add


def _most_specific(type_p: type, type_q: type, q_first: bool = False) -> tuple[type, type] | None:
    """The registered pair ``(P, Q)`` whose P comes earliest in ``type_p``'s MRO, ties broken by ``type_q``'s
    (``q_first``: Q's place first, ties broken by P's)."""
    outer, inner = (type_q, type_p) if q_first else (type_p, type_q)
    for kind in outer.__mro__:
        for other in inner.__mro__:
            pair = (other, kind) if q_first else (kind, other)
            if pair in RULES:
                return pair
    return None


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """``KL(p ‖ q)`` per batch entry, by the rule of the most specific registered pair of ``p``'s and ``q``'s types:
    ``p``'s class first (PyTorch's left order). Where ``q``'s class first (the right order) picks another rule, the
    pair is ambiguous: the left rule is used with PyTorch's RuntimeWarning asking to register the pair."""
    left = _most_specific(type(p), type(q))
    if left is None:
        raise NotImplementedError(f"kl_divergence: no closed form for {type(p).__name__} and {type(q).__name__} "
                                  "here; estimate it from samples: (p.log_prob(x) − q.log_prob(x)).mean() for x ~ p")
    right = _most_specific(type(p), type(q), q_first=True)
    if RULES[right] is not RULES[left]:
        warnings.warn(f"Ambiguous kl_divergence({type(p).__name__}, {type(q).__name__}). Please "
                      f"register_kl({left[0].__name__}, {right[1].__name__})", RuntimeWarning, stacklevel=2)
    return RULES[left](p, q)


@register_kl(Normal, Normal)
def _normal_normal(p: Normal, q: Normal) -> Tensor:
    ratio = (p.scale / q.scale) ** 2
    return 0.5 * (ratio + ((p.loc - q.loc) / q.scale) ** 2 - 1 - ratio.log())


@register_kl(Categorical, Categorical)
@register_kl(OneHotCategorical, OneHotCategorical)
def _classes_classes(p: ClassProbabilities, q: ClassProbabilities) -> Tensor:
    """``Σ p·(ln p − ln q)``: +∞ for a class q cannot draw, 0 for one p cannot (as PyTorch's); a class whose two
    logits are −∞ gives NaN before it is masked, without NumPy's warning."""
    with np.errstate(invalid="ignore"):
        terms = p.probs * (p.logits - q.logits)
    return terms.masked_fill(q.probs.detach() == 0, math.inf).masked_fill(p.probs.detach() == 0, 0.0).sum(-1)


@register_kl(Bernoulli, Bernoulli)
def _bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    """``p·(ln p − ln q) + (1 − p)·(ln(1 − p) − ln(1 − q))``, each term +∞ where q cannot draw its outcome and 0
    where p cannot, as PyTorch's (the logits of a probability 0 or 1 are clamped: a finite KL came out)."""
    p_probs, q_probs = p.probs.detach(), q.probs.detach()
    ones = (p.probs * (logsigmoid(p.logits) - logsigmoid(q.logits))).masked_fill(q_probs == 0, math.inf)
    zeros = ((1 - p.probs) * (logsigmoid(-p.logits) - logsigmoid(-q.logits))).masked_fill(q_probs == 1, math.inf)
    return ones.masked_fill(p_probs == 0, 0.0) + zeros.masked_fill(p_probs == 1, 0.0)


@register_kl(Uniform, Uniform)
def _uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    outside = (q.low.detach() > p.low.detach()).logical_or(q.high.detach() < p.high.detach())
    return ((q.high - q.low) / (p.high - p.low)).log().masked_fill(outside, math.inf)


@register_kl(Exponential, Exponential)
def _exponential_exponential(p: Exponential, q: Exponential) -> Tensor:
    ratio = q.rate / p.rate
    return ratio - ratio.log() - 1


@register_kl(Laplace, Laplace)
def _laplace_laplace(p: Laplace, q: Laplace) -> Tensor:
    ratio = p.scale / q.scale
    distance = (p.loc - q.loc).abs()
    return -ratio.log() + distance / q.scale + ratio * (-distance / p.scale).exp() - 1


@register_kl(Cauchy, Cauchy)
def _cauchy_cauchy(p: Cauchy, q: Cauchy) -> Tensor:
    return ((p.scale + q.scale) ** 2 + (p.loc - q.loc) ** 2).log() - (4 * p.scale * q.scale).log()


@register_kl(Geometric, Geometric)
def _geometric_geometric(p: Geometric, q: Geometric) -> Tensor:
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(LogNormal, LogNormal)
@register_kl(HalfNormal, HalfNormal)
@register_kl(HalfCauchy, HalfCauchy)
def through_base(p: Distribution, q: Distribution) -> Tensor:
    """``KL(p ‖ q) = KL(p.base_dist ‖ q.base_dist)`` for p and q the images of their bases under one map x ↦ g(x):

    * g invertible (``eˣ`` of a LogNormal, ``1/x`` of an InverseGamma): the Jacobian ``|g'|`` divides both
      densities and cancels in the ratio, so ``E_p[ln p/q]`` is the bases' KL;
    * ``g(x) = |x|`` of bases symmetric about 0 (HalfNormal, HalfCauchy): the folded density ``2·f(x)`` on x ≥ 0
      has the bases' ratio, and by symmetry the half-line holds half of each base's KL integrand; with the
      Cauchy rule, ``KL(HalfCauchy(a) ‖ HalfCauchy(b)) = ln((a + b)²/(4ab))``."""
    return kl_divergence(p.base_dist, q.base_dist)


def _full(d: MultivariateNormal | LowRankMultivariateNormal) -> MultivariateNormal:
    """A low-rank normal as the MultivariateNormal of the same Σ (through its Cholesky factor)."""
    return d if isinstance(d, MultivariateNormal) else MultivariateNormal(d.loc, scale_tril=d.scale_tril)


@register_kl(MultivariateNormal, MultivariateNormal)
@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
@register_kl(MultivariateNormal, LowRankMultivariateNormal)
@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _mvn_mvn(p: MultivariateNormal | LowRankMultivariateNormal, q: MultivariateNormal | LowRankMultivariateNormal
             ) -> Tensor:
    p, q = _full(p), _full(q)
    if p.event_shape != q.event_shape:
        raise ValueError(f"kl_divergence: MultivariateNormals of different sizes {p.event_shape[0]} and "
                         f"{q.event_shape[0]}")
    trace = mahalanobis(q.scale_tril.unsqueeze(-3), p.scale_tril.mT).sum(-1)  # ‖L_q⁻¹·Lₚ‖², column by column
    distance = mahalanobis(q.scale_tril, q.loc - p.loc)
    return 0.5 * (trace + distance - p.event_shape[0]) + q.half_log_det() - p.half_log_det()


@register_kl(Independent, Independent)
def _independent_independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independents with different reinterpreted_batch_ndims "
                                  f"({p.reinterpreted_batch_ndims} and {q.reinterpreted_batch_ndims})")
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


# --- pairs of different families -----------------------------------------------------------------------------
# KL(p ‖ q) = −H(p) − E_p[ln q(x)], and E_p[ln q(x)] needs only a few expectations under p.

def _log_moment(p: Distribution, t: float | Tensor) -> Tensor:
    """``ln E_p[e^{t·x}]``, p's log moment-generating function (for t < 0 here)."""
    if isinstance(p, Normal):
        return p.loc * t + (p.scale * t) ** 2 / 2
    if isinstance(p, Exponential):
        return p.rate.log() - (p.rate - t).log()
    if isinstance(p, Gumbel):  # x = μ + β·g with E[e^{s·g}] = Γ(1 − s)
        return p.loc * t + (1 - p.scale * t).lgamma()
    return (((t * p.high).exp() - (t * p.low).exp()) / (t * (p.high - p.low))).log()  # Uniform


@register_kl(Exponential, Normal)
@register_kl(Gumbel, Normal)
@register_kl(Laplace, Normal)
@register_kl(Uniform, Normal)
def _to_normal(p: Distribution, q: Normal) -> Tensor:
    """``E_p[−ln q] = ln σ + ½ln 2π + (Var_p + (E_p x − μ)²)/(2σ²)``."""
    squared_distance = p.variance + (p.mean - q.loc) ** 2
    return -p.entropy() + q.scale.log() + HALF_LOG_TWO_PI + squared_distance / (2 * q.scale ** 2)


@register_kl(Exponential, Gumbel)
@register_kl(Gumbel, Gumbel)
@register_kl(Normal, Gumbel)
@register_kl(Uniform, Gumbel)
def _to_gumbel(p: Distribution, q: Gumbel) -> Tensor:
    """``E_p[−ln q] = ln β + E_p[z] + E_p[e^{−z}]`` with ``z = (x − μ)/β``; ``E_p[e^{−z}] = e^{μ/β}·E_p[e^{−x/β}]``."""
    return (-p.entropy() + q.scale.log() + (p.mean - q.loc) / q.scale
            + (q.loc / q.scale + _log_moment(p, -q.scale.reciprocal())).exp())


@register_kl(Normal, Laplace)
def _normal_laplace(p: Normal, q: Laplace) -> Tensor:
    """``E_p[−ln q] = ln 2b + E_p|x − μ_q|/b``, the folded normal's mean ``σ√(2/π)·e^{−δ²/2σ²} + δ·erf(δ/σ√2)``."""
    gap = p.loc - q.loc
    folded_mean = (math.sqrt(2 / math.pi) * p.scale * (-(gap / p.scale) ** 2 / 2).exp()
                   + gap * (gap / (p.scale * math.sqrt(2))).erf())
    return -p.entropy() + (2 * q.scale).log() + folded_mean / q.scale


@register_kl(Uniform, Exponential)
def _uniform_exponential(p: Uniform, q: Exponential) -> Tensor:
    """``E_p[−ln q] = −ln λ + λ·E_p x``; infinite where p reaches below 0, outside q's support."""
    finite = -p.entropy() - q.rate.log() + q.rate * p.mean
    return finite.masked_fill(p.low.detach() < 0, math.inf)


@register_kl(Normal, Exponential)
@register_kl(Normal, Uniform)
@register_kl(Laplace, Exponential)
@register_kl(Laplace, Uniform)
@register_kl(Gumbel, Exponential)
@register_kl(Gumbel, Uniform)
@register_kl(Exponential, Uniform)
def _outside_support(p: Distribution, q: Distribution) -> Tensor:
    """p puts mass where q has none (q's support is bounded, p's is not), so ``ln q = −∞`` there: KL is +∞."""
    return p.mean.detach().new_full(p.batch_shape, math.inf)
