"""``TransformedDistribution(base, transforms)``: the law of ``y = f(x)`` for ``x ~ base`` and ``f`` the chain of
``transforms`` (each a :class:`~.transform_base.Transform`).

* ``sample``/``rsample``: draw x from the base and push it through the chain (rsample keeps the gradient path);
* ``log p_Y(y) = log p_X(x) − Σᵢ ln |det ∂xᵢ₊₁/∂xᵢ|`` with ``x = f⁻¹(y)`` read back through the chain (change of
  variables), each log-det summed over the dims of one event;
* for a chain monotone entry by entry (every ``sign`` ±1): ``F_Y(y) = F_X(f⁻¹(y))`` when it increases,
  ``1 − F_X(f⁻¹(y))`` when it decreases, and ``F_Y⁻¹(p)`` the same read forwards;
* shapes: the chain's ``forward_shape`` of the base's ``batch_shape + event_shape``, split so that the event
  holds every dim the chain or the base couples (a transform on vectors turns a batch of numbers into one vector
  event, reading the base as ``Independent``).

No mean, variance or entropy in general (they are integrals the chain does not give in closed form).
``kl_divergence`` of two distributions pushed through equal chains is the KL of their bases (an invertible map
changes both densities by the same log-det).

>>> import glassgrad as gg
>>> from glassgrad.distributions import Normal, TransformedDistribution
>>> from glassgrad.distributions.transforms import ExpTransform
>>> d = TransformedDistribution(Normal(0.0, 1.0), [ExpTransform()])   # a log-normal
>>> round(d.log_prob(gg.tensor(1.0)).item(), 4)                         # −½ ln 2π − ln 1
-0.9189
"""

from __future__ import annotations

import copy
from typing import Any

from ..arguments import shape_text
from ..autograd import no_grad
from ..creation import as_tensor
from ..tensor import Tensor
from . import constraints
from .base import Distribution, as_shape, validating
from .independent import Independent, sum_rightmost
from .kl import kl_divergence, register_kl
from .transform_base import ComposeTransform, Transform


class TransformedDistribution(Distribution):
    """``base_distribution`` pushed through ``transforms`` (one Transform or a list, applied in order)."""

    def __init__(self, base_distribution: Distribution, transforms: Transform | list[Transform],
                 validate_args: bool | None = None) -> None:
        chain_parts = [transforms] if isinstance(transforms, Transform) else transforms
        if not isinstance(chain_parts, (list, tuple)) or not all(isinstance(t, Transform) for t in chain_parts):
            raise ValueError(f"TransformedDistribution: transforms must be a Transform or a list of Transforms, "
                             f"got {transforms!r}")
        self.transforms = list(chain_parts)
        self.validates = validating(validate_args)
        base_shape = base_distribution.batch_shape + base_distribution.event_shape
        base_event_dim = len(base_distribution.event_shape)
        chain = ComposeTransform(self.transforms)
        if len(base_shape) < chain.domain.event_dim:
            raise ValueError(f"TransformedDistribution: the transforms read events of {chain.domain.event_dim} "
                             f"dims, but the base distribution's values have shape {shape_text(base_shape)}")
        forward_shape = chain.forward_shape(base_shape)
        widened_base = chain.inverse_shape(forward_shape)  # a transform's parameters can widen the batch
        if widened_base != base_shape:
            base_distribution = base_distribution.expand(widened_base[:len(widened_base) - base_event_dim])
        if chain.domain.event_dim > base_event_dim:
            base_distribution = Independent(base_distribution, chain.domain.event_dim - base_event_dim)
        self.base_dist = base_distribution
        event_dim = max(chain.codomain.event_dim,
                        base_event_dim + chain.codomain.event_dim - chain.domain.event_dim)
        cut = len(forward_shape) - event_dim
        self._batch, self._event = forward_shape[:cut], forward_shape[cut:]

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    @property
    def support(self) -> constraints.Constraint:
        """The last transform's codomain, over the whole event."""
        if not self.transforms:
            return self.base_dist.support
        codomain = self.transforms[-1].codomain
        extra = len(self._event) - codomain.event_dim
        return constraints.independent(codomain, extra) if extra > 0 else codomain

    def expand(self, batch_shape: Any, _instance: Any = None) -> TransformedDistribution:
        """The base expanded to the batch shape that the chain maps onto ``batch_shape``."""
        shape = as_shape(batch_shape) + self._event
        for transform in reversed(self.transforms):
            shape = transform.inverse_shape(shape)
        expanded = copy.copy(self)
        expanded.base_dist = self.base_dist.expand(shape[:len(shape) - len(self.base_dist.event_shape)])
        expanded._batch = as_shape(batch_shape)
        return expanded

    def _push(self, x: Tensor) -> Tensor:
        for transform in self.transforms:
            x = transform(x)
        return x

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with no_grad():
            return self._push(self.base_dist.sample(sample_shape))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self._push(self.base_dist.rsample(sample_shape))

    def log_prob(self, value: Any) -> Tensor:
        """``log p_X(x) − Σ ln |det ∂y/∂x|`` with x read back through the chain."""
        y = self.in_support(value)
        event_dim = len(self._event)
        correction: Any = 0.0
        for transform in reversed(self.transforms):
            x = transform.inv(y)
            event_dim += transform.domain.event_dim - transform.codomain.event_dim
            log_det = transform.log_abs_det_jacobian(x, y)
            correction = correction - sum_rightmost(log_det, event_dim - transform.domain.event_dim)
            y = x
        return correction + sum_rightmost(self.base_dist.log_prob(y), event_dim - len(self.base_dist.event_shape))

    def _chain_sign(self) -> Any:
        """+1 for a chain increasing entry by entry, −1 for a decreasing one (a tensor when it differs by entry);
        a chain that is not monotone (a transform without a sign) is refused here, before any work."""
        sign: Any = 1
        for transform in self.transforms:
            sign = sign * transform.sign
        return sign

    @staticmethod
    def _monotonized(p: Tensor, sign: Any) -> Tensor:
        """``p`` where the chain increases, ``1 − p`` where it decreases."""
        return p if isinstance(sign, int) and sign == 1 else sign * (p - 0.5) + 0.5

    def cdf(self, value: Any) -> Tensor:
        """The base's cdf of the value read back through the chain (``1 −`` it for a decreasing chain). As in
        PyTorch, the value read back is what must lie in the base's support, so a bound the chain never reaches is
        taken too: ``cdf(0)`` of ``Normal`` pushed through ``ExpTransform`` is 0, the normal's cdf at −∞."""
        sign = self._chain_sign()
        x = self.in_support(value, "cdf", constraints.real)
        for transform in reversed(self.transforms):
            x = transform.inv(x)
        if self.validates:
            self.base_dist._validate_sample(x, "cdf")
        return self._monotonized(self.base_dist.cdf(x), sign)

    def icdf(self, value: Any) -> Tensor:
        return self._push(self.base_dist.icdf(self._monotonized(as_tensor(value), self._chain_sign())))


@register_kl(TransformedDistribution, TransformedDistribution)
def _transformed_transformed(p: TransformedDistribution, q: TransformedDistribution) -> Tensor:
    if p.transforms != q.transforms or p.event_shape != q.event_shape:
        raise NotImplementedError("kl_divergence: two TransformedDistributions have a closed form here only when "
                                  "their transforms are equal and their events of one shape")
    return kl_divergence(p.base_dist, q.base_dist)
