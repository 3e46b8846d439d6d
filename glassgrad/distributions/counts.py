"""Distributions of counts: ``Poisson``, ``Binomial``, ``NegativeBinomial``, ``Multinomial``.

With ``ln C(n, k) = lnΓ(n + 1) − lnΓ(k + 1) − lnΓ(n − k + 1)`` and a chance of success ``p = σ(l)`` given as
``probs`` or as ``logits`` l (exactly one):

* Poisson(λ): ``log p(k) = k·ln λ − λ − lnΓ(k + 1)``, mean and variance λ, mode ``⌊λ⌋``;
* Binomial(n, p), the successes in n trials: ``log p(k) = ln C(n, k) + k·ln p + (n − k)·ln(1 − p)``, written
  ``k·l − n·ln(1 + e^l) + ln C(n, k)`` from the logit; mean ``np``, variance ``np(1 − p)``, mode
  ``min(⌊(n + 1)p⌋, n)``, entropy ``−Σₖ p(k)·ln p(k)`` over k = 0 … n;
* NegativeBinomial(r, p), the successes before the r-th failure: ``log p(k) = lnΓ(k + r) − lnΓ(k + 1) − lnΓ(r)
  + k·ln p + r·ln(1 − p)``, mean ``rp/(1 − p) = r·e^l``, variance ``mean/(1 − p)``, mode ``⌊(r − 1)·e^l⌋⁺``;
  drawn as Poisson(Gamma(r, scale p/(1 − p))), the gamma–Poisson mixture;
* Multinomial(n, p) over K classes (event shape ``(K,)``): ``log p(x) = lnΓ(Σxᵢ + 1) − Σ lnΓ(xᵢ + 1) + Σ xᵢ·ln pᵢ``,
  mean ``n·p``, variance ``n·p(1 − p)``, entropy ``n·H(p) − ln n! + Σᵢ E[ln xᵢ!]`` with each xᵢ ~ Binomial(n, pᵢ).

None has ``rsample`` (a count jumps between whole numbers); Poisson and NegativeBinomial have no entropy (an
infinite sum with no closed form), as in PyTorch.

>>> import glassgrad as gg
>>> round(gg.distributions.Binomial(4, probs=gg.tensor(0.5)).log_prob(gg.tensor(2.0)).exp().item(), 4)   # 6/16
0.375
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..arguments import Size
from ..autograd import recorded_call
from ..creation import _stream, arange, drawn
from ..nn.functional import logsigmoid
from ..tensor import Tensor
from . import constraints
from .base import (
    Distribution,
    as_scored_float,
    broadcast_all,
    check_probs,
    check_real,
    listed,
    refuse_unless,
    validating,
)
from .discrete import ClassProbabilities, ProbsOrLogits, _exactly_one
from .utils import probs_to_logits


def log_binomial_coefficient(n: Tensor, k: Tensor) -> Tensor:
    """``ln C(n, k) = lnΓ(n + 1) − lnΓ(k + 1) − lnΓ(n − k + 1)``."""
    return (n + 1).lgamma() - (k + 1).lgamma() - (n - k + 1).lgamma()


def _no_entropy(owner: str) -> NotImplementedError:
    return NotImplementedError(f"{owner}.entropy: no closed form (an infinite sum); estimate it as "
                               "-log_prob(sample((n,))).mean(0)")


def successes(counts: np.ndarray, chances: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Binomial draws of ``shape`` (``counts`` trials, each a success with chance ``chances``; both broadcast to
    it) from glassgrad's stream, in the chances' dtype: one kernel of a compiled step, which reads the parameters and
    draws again at each call, as eager does."""
    draws = _stream(None, None).binomial(counts.astype(np.int64), chances, size=shape)
    return np.asarray(draws, dtype=chances.dtype)


def gamma_poisson(counts: np.ndarray, odds: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """NegativeBinomial draws of ``shape``: Poisson(g·odds), g ~ Gamma(counts, 1), both from glassgrad's stream, in
    the odds' dtype: one kernel of a compiled step, as :func:`successes`."""
    stream = _stream(None, None)
    return np.asarray(stream.poisson(stream.gamma(counts, size=shape) * odds), dtype=odds.dtype)


def class_counts(total: int, probs: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Multinomial draws (``total`` draws among the classes of ``probs``' last dim, normalised in float64), one count
    vector for each of ``shape``'s entries, from glassgrad's stream, in the probabilities' dtype: one kernel of a
    compiled step, as :func:`successes`."""
    p = probs.astype(np.float64)
    return np.asarray(_stream(None, None).multinomial(total, p / p.sum(-1, keepdims=True), size=shape),
                      dtype=probs.dtype)


class Poisson(Distribution):
    """The number of events in a unit of time when they arrive at ``rate`` λ per unit."""

    params = {"rate": 0}
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        if validating(validate_args):
            refuse_unless(self.rate.detach() >= 0, "Poisson: rate must be >= 0, got ", self.rate)
        self.validates = validating(validate_args)
        self._batch = tuple(self.rate.shape)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape: Any = ()) -> Tensor:
        rate = self.rate.array
        return Tensor._wrap(recorded_call(drawn, "poisson", None, None, self._draw_shape(sample_shape), rate.dtype,
                                          rate))

    def log_prob(self, value: Any) -> Tensor:
        k = as_scored_float(self.in_support(value), self.rate)
        return k.xlogy(self.rate) - self.rate - (k + 1).lgamma()

    def entropy(self) -> Tensor:
        raise _no_entropy("Poisson")


class TrialCounts(ProbsOrLogits):
    """What Binomial and NegativeBinomial share: a ``total_count`` and one chance of success given as ``probs``
    or ``logits`` (``p = σ(l)``), broadcast to one batch shape. ``probs_interval`` names the allowed p."""

    params = {"total_count": 0, "probs": 0, "logits": 0}
    probs_interval = "[0, 1]"

    def __init__(self, total_count: Any = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        owner = type(self).__name__
        _exactly_one(owner, probs, logits)
        self.validates = validating(validate_args)
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            check_probs(owner, self.probs, validate_args)
            if self.validates and self.probs_interval == "[0, 1)":
                refuse_unless(self.probs.detach() != 1, f"{owner}: probs must lie in [0, 1) (p = 1 never ends), got ",
                              self.probs)
            self.logits = probs_to_logits(self.probs, is_binary=True)
        else:
            self.given = "logits"
            self.total_count, self.logits = broadcast_all(total_count, logits)
            check_real(owner, "logits", self.logits, validate_args)
            self.probs = self.logits.sigmoid()
        self.total_count = self.total_count.to(self.probs.dtype)
        self.check_total_count(owner)
        self._batch = tuple(self.probs.shape)

    def check_total_count(self, owner: str) -> None:
        if self.validates:
            refuse_unless(self.total_count.detach() >= 0, f"{owner}: total_count must be >= 0, got ", self.total_count)


class Binomial(TrialCounts):
    """The number of successes in ``total_count`` independent trials, each a success with chance ``probs``."""

    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}
    has_enumerate_support = True

    def check_total_count(self, owner: str) -> None:
        if self.validates:
            n = self.total_count.detach()
            refuse_unless((n >= 0).logical_and(n == n.floor()),
                          "Binomial: total_count must be a whole number >= 0, got ", self.total_count)

    @property
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().minimum(self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return Tensor._wrap(recorded_call(successes, self.total_count.array, self.probs.array,
                                          self._draw_shape(sample_shape)))

    def log_prob(self, value: Any) -> Tensor:
        k = as_scored_float(self.in_support(value), self.probs)
        n = self.total_count
        return k * self.logits + n * logsigmoid(-self.logits) + log_binomial_coefficient(n, k)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The counts 0 … n along a new first dim (one n for the whole batch, as PyTorch requires)."""
        return self.enumerated(arange(self.common_count() + 1).to(self.probs.dtype), expand)

    def common_count(self) -> int:
        n = self.total_count.detach().numpy()
        if n.size and (n != n.flat[0]).any():
            raise NotImplementedError("Binomial: enumerate_support and entropy need one total_count for the whole "
                                      f"batch, got {listed(self.total_count)}; split the batch by total_count")
        return int(n.flat[0]) if n.size else 0

    def entropy(self) -> Tensor:
        log_p = self.log_prob(self.enumerate_support(expand=False))
        return -(log_p.exp() * log_p).sum(0)


class NegativeBinomial(TrialCounts):
    """The number of successes (chance ``probs`` each) before ``total_count`` failures."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0), "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer
    probs_interval = "[0, 1)"

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.mean / (-self.logits).sigmoid()

    def sample(self, sample_shape: Any = ()) -> Tensor:
        odds = self.logits.detach().exp()
        return Tensor._wrap(recorded_call(gamma_poisson, self.total_count.array, odds.array,
                                          self._draw_shape(sample_shape)))

    def log_prob(self, value: Any) -> Tensor:
        k = as_scored_float(self.in_support(value), self.probs)
        r = self.total_count
        counting = (k + r).lgamma() - (k + 1).lgamma() - r.lgamma()
        counting = counting.masked_fill((k + r).detach() == 0, 0.0)  # r = 0 and k = 0: p(0) = 1
        return counting + r * logsigmoid(-self.logits) + k * logsigmoid(self.logits)

    def entropy(self) -> Tensor:
        raise _no_entropy("NegativeBinomial")


class Multinomial(ClassProbabilities):
    """How many of ``total_count`` draws from K classes (chances ``probs``, or ``logits``) fall in each class."""

    has_enumerate_support = False
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count: int = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if not isinstance(total_count, numbers.Integral) or isinstance(total_count, bool) or total_count < 0:
            raise NotImplementedError(f"Multinomial: total_count must be one whole number >= 0 (an int), got "
                                      f"{total_count!r}; for counts that differ across the batch use Binomial")
        super().__init__(probs, logits, validate_args)
        self.total_count = int(total_count)

    @property
    def support(self) -> constraints.Constraint:
        return constraints.multinomial(self.total_count)

    @property
    def event_shape(self) -> Size:
        return self.probs.shape[-1:]

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return Tensor._wrap(recorded_call(class_counts, self.total_count, self.probs.array,
                                          self._draw_shape(sample_shape)[:-1]))

    def log_prob(self, value: Any) -> Tensor:
        x = as_scored_float(self.in_support(value), self.probs)
        powers = (self.logits * x).masked_fill(x.detach() == 0, 0.0)  # 0·ln 0 counts as 0
        return (x.sum(-1) + 1).lgamma() - (x + 1).lgamma().sum(-1) + powers.sum(-1)

    def entropy(self) -> Tensor:
        n = self.total_count
        marginals = Binomial(n, probs=self.probs, validate_args=False)
        counts = marginals.enumerate_support(expand=False)[1:]  # k = 0 adds ln 0! = 0
        expected_log_factorials = (marginals.log_prob(counts).exp() * (counts + 1).lgamma()).sum((0, -1))
        return n * super().entropy() - math.lgamma(n + 1) + expected_log_factorials
