"""``Independent(base, reinterpreted_batch_ndims)``: read the last batch dims of a distribution as one event.

``Normal(μ, σ)`` with μ of shape (B, n) holds B·n separate numbers; ``Independent(Normal(μ, σ), 1)`` holds B
vectors of length n whose entries are independent, so ``log p(x) = Σⱼ log p(xⱼ)`` over the last dim and
the entropy is the sum of the entries' entropies. This is the diagonal Gaussian of a VAE's encoder.

>>> import glassgrad as gg
>>> d = gg.distributions.Independent(gg.distributions.Normal(gg.zeros(4, 3), gg.ones(4, 3)), 1)
>>> d.batch_shape, d.event_shape, tuple(d.log_prob(gg.zeros(4, 3)).shape)
(Size([4]), Size([3]), (4,))
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import constraints
from .base import Distribution, as_shape


def sum_rightmost(value: Tensor, dims: int) -> Tensor:
    """``value`` summed over its last ``dims`` dims (itself when ``dims`` is 0)."""
    return value.sum(tuple(range(-dims, 0))) if dims else value


class Independent(Distribution):
    """``base_distribution`` with its last ``reinterpreted_batch_ndims`` batch dims moved into the event."""

    def __init__(self, base_distribution: Distribution, reinterpreted_batch_ndims: int,
                 validate_args: bool | None = None) -> None:
        batch = base_distribution.batch_shape
        if not 0 <= reinterpreted_batch_ndims <= len(batch):
            raise ValueError(f"Independent: reinterpreted_batch_ndims must be between 0 and the base's "
                             f"{len(batch)} batch dims, got {reinterpreted_batch_ndims}")
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        kept = len(batch) - reinterpreted_batch_ndims
        self._batch = batch[:kept]
        self._event = batch[kept:] + base_distribution.event_shape

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self) -> bool:  # type: ignore[override]
        """The base's when no batch dim is moved into the event (one event is then one of the base's draws)."""
        return self.reinterpreted_batch_ndims == 0 and self.base_dist.has_enumerate_support

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The base's ``enumerate_support`` when ``reinterpreted_batch_ndims`` is 0; an event of several base draws
        would need their cartesian product, which is not enumerated (as in PyTorch)."""
        if self.reinterpreted_batch_ndims:
            raise NotImplementedError("Independent.enumerate_support: enumeration over the cartesian product of "
                                      f"{self.reinterpreted_batch_ndims} reinterpreted batch dims is not implemented; "
                                      "enumerate the base distribution")
        return self.base_dist.enumerate_support(expand)

    @property
    def support(self) -> constraints.Constraint:
        return constraints.independent(self.base_dist.support, self.reinterpreted_batch_ndims)

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def mode(self) -> Tensor:
        return self.base_dist.mode

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value: Any) -> Tensor:
        return sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self) -> Tensor:
        return sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return f"Independent({self.base_dist}, {self.reinterpreted_batch_ndims})"

    def expand(self, batch_shape: Any, _instance: Any = None) -> Independent:
        moved = self.base_dist.batch_shape[len(self._batch):]
        return Independent(self.base_dist.expand(as_shape(batch_shape) + moved), self.reinterpreted_batch_ndims)
