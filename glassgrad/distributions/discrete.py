"""Distributions of counts and classes: ``Categorical``, ``OneHotCategorical``, ``Bernoulli``, ``Geometric``.

* Categorical(p): ``log p(k) = ln p_k`` (from logits: ``log_softmax``), entropy ``−Σ p ln p``;
* OneHotCategorical(p): the same draw written as a one-hot vector (event shape ``(K,)``), mean ``p``,
  variance ``p(1 − p)``; OneHotCategoricalStraightThrough(p) adds ``rsample`` ``y + p − stop_gradient(p)``;
* Bernoulli(p): ``log p(y) = y·ln p + (1 − y)·ln(1 − p)``, computed from the logit without overflow;
* Geometric(p): the failures before the first success, ``log p(k) = k·ln(1 − p) + ln p``, mean ``1/p − 1``,
  variance ``(1 − p)/p²``, entropy ``H_Bernoulli(p)/p``; drawn as ``⌊ln u / ln(1 − p)⌋``.

None has an exact ``rsample``: a draw is a jump between whole numbers, with no derivative in the parameters.

>>> import glassgrad as gg
>>> round(gg.distributions.Geometric(probs=gg.tensor(0.25)).mean.item(), 4)
3.0
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..arguments import Size, shape_text
from ..autograd import recorded_call
from ..creation import _stream, arange
from ..dtypes import finfo
from ..nn.functional import binary_cross_entropy_with_logits, logsigmoid, one_hot
from ..sampling import flips
from ..tensor import Tensor
from . import constraints
from .base import (
    Distribution,
    as_float,
    as_scored_float,
    as_shape,
    broadcast_all,
    check_probs,
    check_real,
    expand_to,
    refuse_unless,
    validating,
)
from .utils import probs_to_logits


def _exactly_one(owner: str, probs: Any, logits: Any) -> None:
    if (probs is None) == (logits is None):
        raise ValueError(f"{owner}: give either probs or logits (exactly one)")


def bernoulli_entropy(probs: Tensor, logits: Tensor) -> Tensor:
    """``−p·ln p − (1 − p)·ln(1 − p)`` with the logs read from the logit (``ln p = ln σ(l)``) without overflow."""
    return -(probs * logsigmoid(logits) + (1 - probs) * logsigmoid(-logits))


class ProbsOrLogits(Distribution):
    """A distribution given its chances as ``probs`` or as ``logits`` (both kept, of one shape; ``given`` names the
    one given, which its repr shows, as PyTorch's)."""

    probs: Tensor
    logits: Tensor
    given = "probs"

    def shown_parameters(self) -> list[str]:
        left_out = "logits" if self.given == "probs" else "probs"
        return [name for name in super().shown_parameters() if name != left_out]

    @property
    def param_shape(self) -> Size:
        """The shape of the parameter given (``probs`` or ``logits``), batch and class dims included."""
        return Size(tuple(self.probs.shape))


class ClassProbabilities(ProbsOrLogits):
    """What Categorical and OneHotCategorical share: K class probabilities ``probs`` (normalised along the last
    dim) or ``logits``, and a draw of class numbers."""

    params = {"probs": 1, "logits": 1}
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        owner = type(self).__name__
        _exactly_one(owner, probs, logits)
        self.validates = validating(validate_args)
        if probs is not None:
            p = as_float(probs)
            unusable = (f"{owner}: probs must be non-negative numbers (no NaN) with classes along the last dim, got "
                        f"shape {shape_text(p.shape)}")
            if p.ndim < 1:
                raise ValueError(unusable)
            if self.validates:
                refuse_unless(p.detach() >= 0, unusable)  # a NaN fails too
            self.probs = p / p.sum(-1, keepdim=True)
            if self.validates:
                refuse_unless(constraints.simplex.check(self.probs.detach()), f"{owner}: probs must have a finite, "
                              "positive sum along the last dim to be normalised, got ", p,
                              "; give at least one class a chance > 0 and none an inf")
            self.logits = probs_to_logits(self.probs)  # a class of p = 0 gets ln eps, as PyTorch's: finite gradients
        else:
            self.given = "logits"
            raw = as_float(logits)
            if raw.ndim < 1:
                raise ValueError(f"{owner}: logits need the classes along a last dim")
            check_real(owner, "logits", raw, validate_args)
            self.logits = raw.log_softmax(-1)
            if self.validates:
                normalised = self.logits.detach()
                refuse_unless(normalised == normalised, f"{owner}: logits must not be +inf nor all -inf along the "
                              "last dim (they cannot be normalised), got ", raw, "; clamp them or use probs")
            self.probs = self.logits.exp()
        self._batch = tuple(self.probs.shape[:-1])

    def class_draws(self, sample_shape: Any) -> Tensor:
        """Class numbers of shape ``sample_shape + batch_shape``: the first class whose cumulative p exceeds u."""
        return Tensor._wrap(recorded_call(class_numbers, self.probs.array, as_shape(sample_shape) + self._batch))

    def class_log_prob(self, index: Tensor) -> Tensor:
        """``ln p_k`` of the class numbers ``index`` (broadcast against the batch)."""
        shape = tuple(np.broadcast_shapes(tuple(index.shape), self._batch))
        logits = expand_to(self.logits, shape + (self.logits.shape[-1],))
        return logits.gather(-1, expand_to(index.long(), shape).unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> Tensor:
        """``−Σ p·ln p``, a logit of −∞ read as the dtype's lowest number (its class adds 0·ln 0 = 0)."""
        return -(self.probs * self.logits.clamp(min=finfo(self.logits.dtype).min)).sum(-1)


def class_numbers(probs: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """For each of ``shape``'s draws (its last dims the batch of ``probs``' rows), the first class whose cumulative
    probability exceeds a uniform draw u of glassgrad's stream, int64: one kernel of a compiled step, which reads
    the probabilities and draws again at each call, as eager does."""
    p = probs.astype(np.float64)
    cumulative = np.cumsum(p / p.sum(-1, keepdims=True), axis=-1)
    uniforms = _stream(None, None).random(shape + (1,))
    return np.asarray(np.minimum((uniforms >= cumulative).sum(-1), p.shape[-1] - 1), dtype=np.int64)  # 0-d: an array


class Categorical(ClassProbabilities):
    """One of K classes, drawn as its number 0 … K − 1."""

    @property
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.probs.shape[-1] - 1)

    @property
    def mean(self) -> Tensor:
        return self.probs.new_full(self._batch, math.nan)

    @property
    def variance(self) -> Tensor:
        return self.mean

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self.class_draws(sample_shape)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """Every class number 0 … K − 1 along a new first dim."""
        return self.enumerated(arange(self.probs.shape[-1]), expand)

    def log_prob(self, value: Any) -> Tensor:
        return self.class_log_prob(self.in_support(value))


class OneHotCategorical(ClassProbabilities):
    """One of K classes, drawn as a one-hot vector of length K (event shape ``(K,)``)."""

    support = constraints.one_hot

    @property
    def event_shape(self) -> Size:
        return self.probs.shape[-1:]

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        return one_hot(self.probs.argmax(-1), self.probs.shape[-1]).to(self.probs.dtype)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return one_hot(self.class_draws(sample_shape), self.probs.shape[-1]).to(self.probs.dtype)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """Every one-hot vector (the rows of the K×K identity) along a new first dim."""
        return self.enumerated(self.probs.new_tensor(np.eye(self.probs.shape[-1])), expand)

    def log_prob(self, value: Any) -> Tensor:
        return self.class_log_prob(self.in_support(value).argmax(-1))


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """A OneHotCategorical whose ``rsample`` is the straight-through estimator: the one-hot draw ``y`` in the
    forward pass, the gradient of ``probs`` in the backward one (``y + p − stop_gradient(p)``): a biased but
    useful gradient through a discrete choice."""

    has_rsample = True

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        draws = self.sample(sample_shape)
        return draws + (self.probs - self.probs.detach())


class SuccessChance(ProbsOrLogits):
    """What Bernoulli and Geometric share: one chance of success, given as ``probs`` or as ``logits``
    (``p = σ(l)``); ``open_at_zero`` refuses p = 0 (a geometric count would never end)."""

    params = {"probs": 0, "logits": 0}
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    open_at_zero = False

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        owner = type(self).__name__
        _exactly_one(owner, probs, logits)
        self.validates = validating(validate_args)
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            check_probs(owner, self.probs, validate_args, closed=not self.open_at_zero)
            self.logits = probs_to_logits(self.probs, is_binary=True)
        else:
            self.given = "logits"
            (self.logits,) = broadcast_all(logits)
            check_real(owner, "logits", self.logits, validate_args)
            self.probs = self.logits.sigmoid()
        self._batch = tuple(self.probs.shape)


class Bernoulli(SuccessChance):
    """1 with probability ``probs`` (or ``σ(logits)``), else 0."""

    support = constraints.boolean
    has_enumerate_support = True

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        p = self.probs.detach()
        return (p >= 0.5).to(p.dtype).masked_fill(p == 0.5, math.nan)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        p = self.probs.array
        return Tensor._wrap(recorded_call(flips, None, None, self._draw_shape(sample_shape), p.dtype, p,
                                          "Bernoulli.sample"))

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """0 and 1 along a new first dim."""
        return self.enumerated(self.probs.new_tensor([0.0, 1.0]), expand)

    def log_prob(self, value: Any) -> Tensor:
        y = as_scored_float(self.in_support(value), self.logits)
        shape = tuple(np.broadcast_shapes(tuple(y.shape), self._batch))
        return -binary_cross_entropy_with_logits(expand_to(self.logits, shape), expand_to(y, shape), reduction="none")

    def entropy(self) -> Tensor:
        return bernoulli_entropy(self.probs, self.logits)


class Geometric(SuccessChance):
    """The number of failures before the first success of Bernoulli(``probs``) trials: 0, 1, 2, …"""

    open_at_zero = True
    support = constraints.nonnegative_integer

    @property
    def mean(self) -> Tensor:
        return self.probs.reciprocal() - 1

    @property
    def mode(self) -> Tensor:
        return self.probs.new_zeros(self._batch)

    @property
    def variance(self) -> Tensor:
        return (self.probs.reciprocal() - 1) / self.probs

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return Tensor._wrap(recorded_call(failure_counts, self.probs.array, self._draw_shape(sample_shape)))

    def log_prob(self, value: Any) -> Tensor:
        k = self.in_support(value)
        shape = tuple(np.broadcast_shapes(tuple(k.shape), self._batch))
        k, probs = expand_to(k, shape), expand_to(self.probs, shape)
        certain_and_zero = (probs.detach() == 1).logical_and(k.detach() == 0)  # 0·ln 0 counts as 0
        return k * (-probs.masked_fill(certain_and_zero, 0.0)).log1p() + probs.log()

    def entropy(self) -> Tensor:
        return bernoulli_entropy(self.probs, self.logits) / self.probs


def failure_counts(probs: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Geometric draws of ``shape``, ``⌊ln u / ln(1 − p)⌋`` with u uniform on (0, 1) from glassgrad's stream, in the
    probabilities' dtype: one kernel of a compiled step, which reads them and draws again at each call, as eager
    does."""
    uniforms = _stream(None, None).uniform(finfo(probs.dtype).tiny, 1, shape)
    with np.errstate(divide="ignore"):  # p = 1: ln(1 − p) = −inf, and every draw is 0
        return np.asarray(np.floor(np.log(uniforms) / np.log1p(-probs)), dtype=probs.dtype)
