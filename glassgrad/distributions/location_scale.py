"""Location–scale families on the real line: ``Normal``, ``Laplace``, ``Cauchy``, ``Gumbel``, and ``Uniform``.

Each is a standard shape moved and stretched, ``x = loc + scale·ε`` with ``z = (x − loc)/scale``, so its
density is ``p(x) = f(z)/scale`` and ``rsample`` is reparameterised (``∂x/∂loc = 1``, ``∂x/∂scale = ε``):

* Normal: ``log p = −z²/2 − ln σ − ½ln 2π``, ``F(x) = ½(1 + erf(z/√2))``, ``F⁻¹(p) = μ + σ√2·erf⁻¹(2p − 1)``,
  entropy ``½ + ½ln 2π + ln σ``;
* Laplace: ``log p = −|z| − ln 2b``, ``F(x) = ½ − ½·sign(z)·(e^{−|z|} − 1)``, variance ``2b²``, entropy ``1 + ln 2b``;
* Cauchy: ``log p = −ln π − ln γ − ln(1 + z²)``, ``F(x) = ½ + atan(z)/π``; no mean (NaN), infinite variance;
* Gumbel: ``log p = −(z + e^{−z}) − ln β``, ``F(x) = exp(−e^{−z})``, mean ``μ + β·γ_E`` (Euler's γ_E), variance
  ``π²β²/6``;
* Uniform(a, b): ``log p = −ln(b − a)`` inside ``[a, b)``, −inf outside; ``x = a + (b − a)·u``.

>>> import glassgrad as gg
>>> round(gg.distributions.Normal(0.0, 1.0).log_prob(gg.tensor(0.0)).item(), 4)   # −½ ln 2π
-0.9189
>>> round(gg.distributions.Laplace(0.0, 1.0).icdf(gg.tensor(0.75)).item(), 4)      # ln 2
0.6931
"""

from __future__ import annotations

import math
from typing import Any

from ..creation import as_tensor
from ..tensor import Tensor
from . import constraints
from .base import (
    Distribution,
    as_float,
    broadcast_all,
    check_positive,
    check_real,
    expand_to,
    noise,
    refuse_unless,
    validating,
)

HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)
EULER_GAMMA = 0.57721566490153286060


class LocationScale(Distribution):
    """A family ``loc + scale·ε``; a subclass names its standard draw ε (a NumPy generator method)."""

    has_rsample = True
    params = {"loc": 0, "scale": 0}
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    standard_draw = "standard_normal"
    support = constraints.real

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        check_real(type(self).__name__, "loc", self.loc, validate_args)
        check_positive(type(self).__name__, "scale", self.scale, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.loc.shape)

    @property
    def mode(self) -> Tensor:
        return self.loc

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.loc + self.scale * noise(self.loc, self._draw_shape(sample_shape), self.standard_draw)

    def standardized(self, value: Any, method: str = "log_prob") -> Tensor:
        """``z = (x − loc)/scale`` of a value ``method`` scores (checked: :meth:`in_support`)."""
        return (self.in_support(value, method) - self.loc) / self.scale


class Normal(LocationScale):
    """The normal distribution ``N(loc, scale²)``."""

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale ** 2

    def log_prob(self, value: Any) -> Tensor:
        return -(self.standardized(value) ** 2) / 2 - self.scale.log() - HALF_LOG_TWO_PI

    def cdf(self, value: Any) -> Tensor:
        return 0.5 * (1 + (self.standardized(value, "cdf") / math.sqrt(2)).erf())

    def icdf(self, value: Any) -> Tensor:
        """``μ + σ·erf⁻¹(2p − 1)·√2``, √2 taken last (as PyTorch): ``σ·√2`` first rounded √2 to float32 parameters'
        dtype, a float64 p then got a float64 quantile 1e-7 off."""
        return self.loc + self.scale * (2 * as_tensor(value) - 1).erfinv() * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + HALF_LOG_TWO_PI + self.scale.log()


class Laplace(LocationScale):
    """The Laplace (double exponential) distribution with location ``loc`` and scale ``b``."""

    standard_draw = "laplace"

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale ** 2

    def log_prob(self, value: Any) -> Tensor:
        return -self.standardized(value).abs() - (2 * self.scale).log()

    def cdf(self, value: Any) -> Tensor:
        z = self.standardized(value, "cdf")
        return 0.5 - 0.5 * z.sign() * (-z.abs()).expm1()

    def icdf(self, value: Any) -> Tensor:
        centred = as_tensor(value) - 0.5
        return self.loc - self.scale * centred.sign() * (-2 * centred.abs()).log1p()

    def entropy(self) -> Tensor:
        return 1 + (2 * self.scale).log()


class Cauchy(LocationScale):
    """The Cauchy (Lorentz) distribution with median ``loc`` and half width ``scale``."""

    standard_draw = "standard_cauchy"

    @property
    def mean(self) -> Tensor:
        return self.loc.new_full(self._batch, math.nan)

    @property
    def variance(self) -> Tensor:
        return self.loc.new_full(self._batch, math.inf)

    def log_prob(self, value: Any) -> Tensor:
        return -math.log(math.pi) - self.scale.log() - (self.standardized(value) ** 2).log1p()

    def cdf(self, value: Any) -> Tensor:
        return self.standardized(value, "cdf").atan() / math.pi + 0.5

    def icdf(self, value: Any) -> Tensor:
        return (math.pi * (as_tensor(value) - 0.5)).tan() * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + self.scale.log()


class Gumbel(LocationScale):
    """The Gumbel (largest extreme value) distribution with location ``loc`` and scale ``β``."""

    standard_draw = "gumbel"

    @property
    def mean(self) -> Tensor:
        return self.loc + self.scale * EULER_GAMMA

    @property
    def stddev(self) -> Tensor:
        return math.pi / math.sqrt(6) * self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev ** 2

    def log_prob(self, value: Any) -> Tensor:
        z = self.standardized(value)
        return -(z + (-z).exp()) - self.scale.log()

    def cdf(self, value: Any) -> Tensor:
        return (-(-self.standardized(value, "cdf")).exp()).exp()

    def icdf(self, value: Any) -> Tensor:
        return self.loc - self.scale * (-as_tensor(value).log()).log()

    def entropy(self) -> Tensor:
        return self.scale.log() + 1 + EULER_GAMMA


class Uniform(Distribution):
    """The uniform distribution on ``[low, high)``."""

    has_rsample = True
    params = {"low": 0, "high": 0}

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = broadcast_all(low, high)
        self.validates = validating(validate_args)
        if self.validates:  # NaN fails too
            refuse_unless(self.low.detach() < self.high.detach(), "Uniform: high must be greater than low (and neither "
                          "NaN)")
        self._batch = tuple(self.low.shape)

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:  # type: ignore[override]
        """Each bound checked against the other, as PyTorch's: ``low < high``."""
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    @property
    def support(self) -> constraints.Constraint:
        return constraints.interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.low + self.high) / 2

    @property
    def mode(self) -> Tensor:
        return self.low.new_full(self._batch, math.nan)

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.low + (self.high - self.low) * noise(self.low, self._draw_shape(sample_shape), "random")

    def log_prob(self, value: Any) -> Tensor:
        x = as_float(self.in_support(value)).detach()
        outside = (x < self.low.detach()).logical_or(x >= self.high.detach())
        return expand_to(-(self.high - self.low).log(), tuple(outside.shape)).masked_fill(outside, -math.inf)

    def cdf(self, value: Any) -> Tensor:
        return ((self.in_support(value, "cdf") - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value: Any) -> Tensor:
        return self.low + as_tensor(value) * (self.high - self.low)

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()
