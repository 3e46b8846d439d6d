"""``torch.distributions``' everyday four: ``Normal``, ``Categorical``, ``Bernoulli``, ``Uniform``, and
``kl_divergence`` between two of a kind.

Every density is written with glassgrad's ops, so ``log_prob`` and ``entropy`` are differentiable in
the parameters (REINFORCE's ``−log π(a|s)·R``, a VAE's KL term):

* Normal(μ, σ): ``log p(x) = −(x − μ)²/(2σ²) − ln σ − ½ln 2π``, entropy ``½ + ½ln 2π + ln σ``;
* Categorical(p): ``log p(k) = ln p_k`` (from logits: ``log_softmax``), entropy ``−Σ p ln p``;
* Bernoulli(p): ``log p(y) = y·ln p + (1 − y)·ln(1 − p)``, computed from the logit without overflow;
* Uniform(a, b): ``log p(x) = −ln(b − a)`` inside ``[a, b)``, −inf outside.

``sample()`` draws from glassgrad's generator (:func:`glassgrad.manual_seed`) and carries no gradient;
``rsample()`` (Normal, Uniform) is the reparameterised draw ``μ + σ·ε``, through which gradients reach
the parameters. The same seed gives other numbers than PyTorch's generator.

>>> import glassgrad as gg
>>> round(gg.distributions.Normal(0.0, 1.0).log_prob(gg.tensor(0.0)).item(), 4)   # −½ ln 2π
-0.9189
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .arguments import shape_text
from .creation import as_tensor, pick_generator
from .nn.functional import binary_cross_entropy_with_logits, logsigmoid
from .tensor import Tensor

_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)


def _tensor(value: Any) -> Tensor:
    """A parameter as a float tensor (a Python number becomes a float32 0-d tensor, as PyTorch's default)."""
    t = as_tensor(value)
    return t if t.dtype.kind == "f" else t.float()


def _broadcast(t: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``t`` expanded to ``shape`` (itself when it has that shape already)."""
    return t if tuple(t.shape) == tuple(shape) else t.expand(*shape)


def _shape(sample_shape: Any) -> tuple[int, ...]:
    return tuple(sample_shape) if not isinstance(sample_shape, int) else (sample_shape,)


class Distribution:
    """What the distributions share: a batch shape, ``sample``, ``rsample``, ``log_prob``, ``entropy``."""

    has_rsample = False

    @property
    def batch_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample (rsample); use sample(), "
                                  "which carries no gradient, or a score-function estimator (log_prob)")

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self.rsample(sample_shape).detach()

    def _draw_shape(self, sample_shape: Any) -> tuple[int, ...]:
        return _shape(sample_shape) + self.batch_shape

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batch_shape={self.batch_shape})"


class Normal(Distribution):
    """The normal distribution ``N(loc, scale²)``."""

    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = _tensor(loc), _tensor(scale)
        if (self.scale.detach().numpy() <= 0).any():
            raise ValueError(f"Normal: scale must be positive, got {self.scale.detach().numpy()}")
        self._batch = tuple(np.broadcast_shapes(tuple(self.loc.shape), tuple(self.scale.shape)))

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self._batch

    @property
    def mean(self) -> Tensor:
        return self.loc.expand(*self._batch) if self._batch else self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale.expand(*self._batch) if self._batch else self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev ** 2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        noise = pick_generator(None, None).standard_normal(self._draw_shape(sample_shape))
        return self.loc + self.scale * self.loc.new_tensor(noise)

    def log_prob(self, value: Any) -> Tensor:
        x = as_tensor(value)
        return -((x - self.loc) ** 2) / (2 * self.scale ** 2) - self.scale.log() - _HALF_LOG_TWO_PI

    def cdf(self, value: Any) -> Tensor:
        return 0.5 * (1 + ((as_tensor(value) - self.loc) / (self.scale * math.sqrt(2))).erf())

    def entropy(self) -> Tensor:
        return _broadcast(0.5 + _HALF_LOG_TWO_PI + self.scale.log(), self._batch)


class Categorical(Distribution):
    """One of K classes with probabilities ``probs`` (normalised along the last dim) or ``logits``."""

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: give either probs or logits (exactly one)")
        if probs is not None:
            p = _tensor(probs)
            if p.ndim < 1 or (p.detach().numpy() < 0).any():
                raise ValueError(f"Categorical: probs must be non-negative with classes along the last dim, got "
                                 f"shape {shape_text(p.shape)}")
            self.probs = p / p.sum(-1, keepdim=True)
            self.logits = self.probs.log()
        else:
            raw = _tensor(logits)
            if raw.ndim < 1:
                raise ValueError("Categorical: logits need the classes along a last dim")
            self.logits = raw.log_softmax(-1)
            self.probs = self.logits.exp()

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.probs.shape[:-1])

    def sample(self, sample_shape: Any = ()) -> Tensor:
        p = self.probs.detach().numpy().astype(np.float64)
        p = p / p.sum(-1, keepdims=True)
        cumulative = np.cumsum(p, axis=-1)
        uniforms = pick_generator(None, None).random(self._draw_shape(sample_shape) + (1,))
        picks = np.minimum((uniforms >= cumulative).sum(-1), p.shape[-1] - 1)
        return Tensor._wrap(picks.astype(np.int64))

    def log_prob(self, value: Any) -> Tensor:
        index = as_tensor(value).long()
        shape = tuple(np.broadcast_shapes(tuple(index.shape), self.batch_shape))
        logits = _broadcast(self.logits, shape + (self.logits.shape[-1],))
        return logits.gather(-1, _broadcast(index, shape).unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> Tensor:
        return -(self.probs * self.logits.masked_fill(self.probs.detach() == 0, 0.0)).sum(-1)


class Bernoulli(Distribution):
    """1 with probability ``probs`` (or ``σ(logits)``), else 0."""

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: give either probs or logits (exactly one)")
        if probs is not None:
            self.probs = _tensor(probs)
            if ((self.probs.detach().numpy() < 0) | (self.probs.detach().numpy() > 1)).any():
                raise ValueError("Bernoulli: probs must lie in [0, 1]")
            self.logits = self.probs.log() - (1 - self.probs).log()
        else:
            self.logits = _tensor(logits)
            self.probs = self.logits.sigmoid()

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.probs.shape)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        draws = pick_generator(None, None).random(self._draw_shape(sample_shape)) < self.probs.detach().numpy()
        return self.probs.new_tensor(draws)

    def log_prob(self, value: Any) -> Tensor:
        y = as_tensor(value).to(self.logits.dtype)
        shape = tuple(np.broadcast_shapes(tuple(y.shape), self.batch_shape))
        return -binary_cross_entropy_with_logits(_broadcast(self.logits, shape), _broadcast(y, shape), reduction="none")

    def entropy(self) -> Tensor:
        return -(self.probs * logsigmoid(self.logits) + (1 - self.probs) * logsigmoid(-self.logits))


class Uniform(Distribution):
    """The uniform distribution on ``[low, high)``."""

    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = _tensor(low), _tensor(high)
        if (self.high.detach().numpy() <= self.low.detach().numpy()).any():
            raise ValueError("Uniform: high must be greater than low")
        self._batch = tuple(np.broadcast_shapes(tuple(self.low.shape), tuple(self.high.shape)))

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self._batch

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        share = pick_generator(None, None).random(self._draw_shape(sample_shape))
        return self.low + (self.high - self.low) * self.low.new_tensor(share)

    def log_prob(self, value: Any) -> Tensor:
        x = as_tensor(value).detach().numpy()
        outside = (x < self.low.detach().numpy()) | (x >= self.high.detach().numpy())
        return _broadcast(-(self.high - self.low).log(), outside.shape).masked_fill(Tensor._wrap(outside), -math.inf)

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """``KL(p ‖ q) = E_p[ln p − ln q]`` for two Normals, two Categoricals or two Bernoullis (closed forms)."""
    if isinstance(p, Normal) and isinstance(q, Normal):
        ratio = (p.scale / q.scale) ** 2
        return 0.5 * (ratio + ((p.loc - q.loc) / q.scale) ** 2 - 1 - ratio.log())
    if isinstance(p, Categorical) and isinstance(q, Categorical):
        return (p.probs * (p.logits - q.logits)).masked_fill(p.probs.detach() == 0, 0.0).sum(-1)
    if isinstance(p, Bernoulli) and isinstance(q, Bernoulli):
        return (p.probs * (logsigmoid(p.logits) - logsigmoid(q.logits))
                + (1 - p.probs) * (logsigmoid(-p.logits) - logsigmoid(-q.logits)))
    raise NotImplementedError(f"kl_divergence: no closed form for {type(p).__name__} and {type(q).__name__} here; "
                              "estimate it from samples: (p.log_prob(x) − q.log_prob(x)).mean() for x ~ p")
