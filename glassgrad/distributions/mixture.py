"""``MixtureSameFamily``: K components of one family, mixed with the weights of a Categorical.

With mixture weights ``πₖ`` (the Categorical's ``probs``) and components ``pₖ`` (the last batch dim of the
component distribution):

* ``log p(x) = ln Σₖ πₖ·pₖ(x) = logsumexp_k(ln πₖ + log pₖ(x))``;
* ``F(x) = Σₖ πₖ·Fₖ(x)`` (when the components have a cdf);
* mean ``Σₖ πₖ·μₖ``; variance by the law of total variance, ``Σₖ πₖ·σₖ² + Σₖ πₖ·(μₖ − μ)²``;
* a draw picks a component k ~ Categorical(π), then draws from it (no ``rsample``: the pick is a jump).

A Gaussian mixture model is ``MixtureSameFamily(Categorical(logits=w), Normal(means, scales))``; its
component distribution's batch shape ends in K, and its own batch shape is what comes before.

>>> import glassgrad as gg
>>> D = gg.distributions
>>> gmm = D.MixtureSameFamily(D.Categorical(probs=gg.tensor([0.5, 0.5])), D.Normal(gg.tensor([-1.0, 1.0]), 1.0))
>>> round(gmm.variance.item(), 4)   # 1 within each component + 1 between them
2.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..arguments import shape_text
from ..tensor import Tensor
from . import constraints
from .base import Distribution, as_shape, expand_to, validating
from .discrete import Categorical


class MixtureSameFamily(Distribution):
    """A mixture of the K distributions along ``component_distribution``'s last batch dim, weighted by
    ``mixture_distribution`` (a Categorical over K classes)."""

    def __init__(self, mixture_distribution: Categorical, component_distribution: Distribution,
                 validate_args: bool | None = None) -> None:
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError("MixtureSameFamily: mixture_distribution must be a Categorical (the mixture weights), "
                             f"got {type(mixture_distribution).__name__}")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("MixtureSameFamily: component_distribution must be a Distribution, got "
                             f"{type(component_distribution).__name__}")
        component_batch = component_distribution.batch_shape
        if len(component_batch) < 1:
            raise ValueError("MixtureSameFamily: component_distribution needs the K components along its last batch "
                             "dim, got batch shape ()")
        mixture_batch = mixture_distribution.batch_shape
        for mine, theirs in zip(reversed(mixture_batch), reversed(component_batch[:-1])):
            if mine != 1 and theirs != 1 and mine != theirs:
                raise ValueError(f"MixtureSameFamily: the mixture's batch shape {shape_text(mixture_batch)} does not "
                                 f"broadcast with the components' batch shape {shape_text(component_batch[:-1])} "
                                 "(the component batch shape without its last dim, K)")
        weights, components = mixture_distribution.probs.shape[-1], component_batch[-1]
        if weights != components:
            raise ValueError(f"MixtureSameFamily: the mixture has {weights} weights but the component distribution "
                             f"has {components} components along its last batch dim; give as many of each")
        self.mixture_distribution = mixture_distribution
        self.component_distribution = component_distribution
        self.validates = validating(validate_args)
        self._batch = tuple(component_batch[:-1])
        self._event = tuple(component_distribution.event_shape)

    @property
    def support(self) -> constraints.MixtureSameFamilyConstraint:
        """The values every component takes (the components' support, checked against each), as PyTorch's."""
        return constraints.MixtureSameFamilyConstraint(self.component_distribution.support)

    def _weights(self, of: Tensor) -> Tensor:
        """The mixture weights ``πₖ`` with a dim of 1 for each event dim, to multiply ``of`` (components along the
        dim before the event)."""
        probs = self.mixture_distribution.probs
        return probs.reshape(*probs.shape, *(1,) * len(self._event)).to(of.dtype)

    def _component_dim(self) -> int:
        return -1 - len(self._event)

    @property
    def mean(self) -> Tensor:
        means = self.component_distribution.mean
        return (self._weights(means) * means).sum(self._component_dim())

    @property
    def variance(self) -> Tensor:
        """Within the components plus between them: ``Σ πₖσₖ² + Σ πₖ(μₖ − μ)²``."""
        means = self.component_distribution.mean
        weights = self._weights(means)
        within = (weights * self.component_distribution.variance).sum(self._component_dim())
        between = (weights * (means - self.mean.unsqueeze(self._component_dim())) ** 2).sum(self._component_dim())
        return within + between

    def _per_component(self, value: Any) -> Tensor:
        """``value`` with a dim of 1 where the components are, to be scored by every component at once."""
        x = value if isinstance(value, Tensor) else self.mixture_distribution.probs.new_tensor(value)
        return x.unsqueeze(self._component_dim())

    def log_prob(self, value: Any) -> Tensor:
        """``ln Σₖ πₖ pₖ(x)`` as ``logsumexp(log_softmax(logits) + ln pₖ(x))``: PyTorch normalises the Categorical's
        (already normalised) logits once more, so a gradient taken with respect to ``mixture_distribution.logits``
        itself sums to zero over the components, as PyTorch's does."""
        scores = self.component_distribution.log_prob(self._per_component(self.in_support(value)))
        return (scores + self.mixture_distribution.logits.log_softmax(-1)).logsumexp(-1)

    def cdf(self, value: Any) -> Tensor:
        if self._event:
            raise NotImplementedError("MixtureSameFamily.cdf: only a mixture of univariate components that have a cdf "
                                      f"has one; {type(self.component_distribution).__name__} here")
        x = self._per_component(self.in_support(value, "cdf"))
        return (self.component_distribution.cdf(x) * self.mixture_distribution.probs).sum(-1)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Every component draws, then the draw of the component picked by the Categorical is kept."""
        draws = self.component_distribution.sample(sample_shape)
        picks = self.mixture_distribution.sample(sample_shape)
        leading = as_shape(sample_shape) + self._batch
        index = expand_to(picks, leading).reshape(*leading, 1, *(1,) * len(self._event))
        index = expand_to(index, leading + (1,) + self._event)
        return draws.gather(self._component_dim(), index).squeeze(self._component_dim())

    def __repr__(self) -> str:
        return f"MixtureSameFamily(\n  {self.mixture_distribution},\n  {self.component_distribution})"

    def expand(self, batch_shape: Any, _instance: Any = None) -> MixtureSameFamily:
        """The same mixture over a larger ``batch_shape`` (both parts expanded)."""
        shape = as_shape(batch_shape)
        try:
            if tuple(np.broadcast_shapes(self._batch, shape)) != shape:
                raise ValueError
        except ValueError:
            raise RuntimeError(f"MixtureSameFamily.expand: cannot expand batch shape {shape_text(self._batch)} to "
                               f"{shape_text(shape)}") from None
        components = self.component_distribution.batch_shape[-1]
        return MixtureSameFamily(self.mixture_distribution.expand(shape),
                                 self.component_distribution.expand(shape + (components,)),
                                 validate_args=self.validates)
