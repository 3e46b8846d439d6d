"""Continuous relaxations of coin flips and class draws (the Concrete / Gumbel-softmax distributions), and the
logistic normal on the simplex.

A Bernoulli or categorical draw jumps, so no gradient reaches its probabilities; its relaxation at temperature
``τ`` is a smooth draw that approaches the one-hot outcome as ``τ → 0`` and is reparameterised:

* LogitRelaxedBernoulli(τ, p): ``x = (logit u + logit p)/τ`` for ``u ~ U(0, 1)``;
  ``log p(x) = ln τ + d − 2·ln(1 + eᵈ)`` with ``d = logit p − τ·x`` (a logistic density);
* RelaxedBernoulli(τ, p): ``σ(x)`` of that, a value in (0, 1) (a TransformedDistribution by SigmoidTransform);
* ExpRelaxedCategorical(τ, p) over K classes: ``x = s − logsumexp(s)`` with ``sₖ = (ln pₖ + gₖ)/τ`` and ``gₖ``
  Gumbel noise: the log of a point of the simplex;
  ``log p(x) = ln (K − 1)! + (K − 1)·ln τ + Σₖ (cₖ − logsumexp(c))`` with ``cₖ = ln pₖ − τ·xₖ``;
* RelaxedOneHotCategorical(τ, p): ``e^x`` of that, a point of the simplex (a TransformedDistribution by ExpTransform);
* LogisticNormal(μ, σ): a Normal vector pushed onto the simplex by StickBreakingTransform (one more entry).

>>> import glassgrad as gg
>>> d = gg.distributions.RelaxedBernoulli(gg.tensor(0.5), probs=gg.tensor(0.5))
>>> round(d.log_prob(gg.tensor(0.5)).item(), 4)    # ln τ − 2 ln 2 + ln 4 at the middle
-0.6931
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..arguments import shape_text
from ..dtypes import finfo
from ..tensor import Tensor
from . import constraints
from .base import Distribution, as_float, check_positive, expand_to, noise, validating
from .discrete import Categorical, SuccessChance
from .location_scale import Normal
from .transformed import TransformedDistribution
from .transforms import ExpTransform, SigmoidTransform, StickBreakingTransform
from .utils import probs_to_logits


def _temperature(owner: str, temperature: Any, like: Tensor, batch: tuple[int, ...],
                 validate_args: bool | None) -> Tensor:
    """``temperature`` as a positive float tensor of ``like``'s dtype whose shape broadcasts into ``batch``."""
    t = as_float(temperature) if isinstance(temperature, Tensor) else like.new_tensor(float(temperature))
    check_positive(owner, "temperature", t, validate_args)
    try:
        fits = tuple(np.broadcast_shapes(tuple(t.shape), batch)) == batch
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{owner}: temperature of shape {shape_text(t.shape)} must broadcast to the batch shape "
                         f"{shape_text(batch)} of the probabilities")
    return t


class LogitRelaxedBernoulli(SuccessChance):
    """The logit of a RelaxedBernoulli draw: a logistic variable centred at ``logit p/τ`` with scale ``1/τ``."""

    has_rsample = True
    support = constraints.real

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        super().__init__(probs, logits, validate_args)
        self.temperature = _temperature("LogitRelaxedBernoulli", temperature, self.probs, self._batch, validate_args)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """``(logit u + logit p)/τ`` (u and p kept one ``eps`` inside (0, 1), as PyTorch)."""
        shape = self._draw_shape(sample_shape)
        uniforms = noise(self.probs, shape, "random")
        logistic_noise = probs_to_logits(uniforms, is_binary=True)
        return (logistic_noise + probs_to_logits(expand_to(self.probs, shape), is_binary=True)) / self.temperature

    def log_prob(self, value: Any) -> Tensor:
        """``ln τ + d − 2·ln(1 + eᵈ)``, ``d = logit p − τ·x``, computed as ``ln τ − |d| − 2·ln(1 + e^{−|d|})`` (the
        same number; no overflow for large |d|)."""
        d = self.logits - self.in_support(value) * self.temperature
        return self.temperature.log() - d.abs() - 2 * (-d.abs()).exp().log1p()


class _Relaxed(TransformedDistribution):
    """A relaxed draw pushed through one transform; temperature, probs and logits are the base's."""

    has_rsample = True

    @property
    def temperature(self) -> Tensor:
        return self.base_dist.temperature

    @property
    def probs(self) -> Tensor:
        return self.base_dist.probs

    @property
    def logits(self) -> Tensor:
        return self.base_dist.logits


class RelaxedBernoulli(_Relaxed):
    """A value in (0, 1) near 1 with chance about ``p`` when the temperature is low: ``σ`` of a
    LogitRelaxedBernoulli draw."""

    support = constraints.unit_interval
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        base = LogitRelaxedBernoulli(temperature, probs, logits, validate_args)
        super().__init__(base, SigmoidTransform(), validate_args)


class ExpRelaxedCategorical(Distribution):
    """The log of a RelaxedOneHotCategorical draw: ``x = s − logsumexp(s)``, ``sₖ = (ln pₖ + gₖ)/τ``."""

    has_rsample = True
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector  # in truth the surface where Σ eˣ = 1

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits, validate_args)
        self.validates = validating(validate_args)
        self._batch = self._categorical.batch_shape
        self._event = tuple(self._categorical.probs.shape[-1:])
        self.temperature = _temperature("ExpRelaxedCategorical", temperature, self._categorical.probs, self._batch,
                                        validate_args)

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        """``ln pₖ`` (normalised: ``logsumexp = 0``)."""
        return self._categorical.logits

    def expand(self, batch_shape: Any, _instance: Any = None) -> ExpRelaxedCategorical:
        expanded = super().expand(batch_shape)
        expanded._categorical = self._categorical.expand(batch_shape)
        return expanded  # type: ignore[return-value]

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Gumbel noise ``g = −ln(−ln u)`` (u kept one ``eps`` inside (0, 1)), then a log-softmax of
        ``(ln p + g)/τ``."""
        uniforms = noise(self.logits, self._draw_shape(sample_shape), "random")
        eps = finfo(uniforms.dtype).eps
        gumbels = -(-uniforms.clamp(eps, 1 - eps).log()).log()
        scores = (self.logits + gumbels) / self.temperature.unsqueeze(-1)
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value: Any) -> Tensor:
        """``ln (K − 1)! + (K − 1)·ln τ + Σₖ (cₖ − logsumexp(c))``, ``cₖ = ln pₖ − τ·xₖ``."""
        classes = self._event[0]
        scores = self.logits - self.in_support(value) * self.temperature.unsqueeze(-1)
        log_scale = math.lgamma(classes) + (classes - 1) * self.temperature.log()
        return (scores - scores.logsumexp(-1, keepdim=True)).sum(-1) + log_scale


class RelaxedOneHotCategorical(_Relaxed):
    """A point of the simplex near the one-hot vector of class k with chance about ``pₖ`` when the temperature
    is low (the Gumbel-softmax): ``eˣ`` of an ExpRelaxedCategorical draw."""

    support = constraints.simplex
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args)
        super().__init__(base, ExpTransform(), validate_args)


class LogisticNormal(TransformedDistribution):
    """``StickBreakingTransform`` of a Normal(``loc``, ``scale``) vector: a point of the simplex with one entry
    more than ``loc``'s last dim (a number ``loc`` is read as a vector of one)."""

    has_rsample = True
    support = constraints.simplex
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        base = Normal(loc, scale, validate_args)
        if not base.batch_shape:
            base = base.expand((1,))
        super().__init__(base, StickBreakingTransform(), validate_args)

    @property
    def loc(self) -> Tensor:
        return self.base_dist.base_dist.loc

    @property
    def scale(self) -> Tensor:
        return self.base_dist.base_dist.scale

