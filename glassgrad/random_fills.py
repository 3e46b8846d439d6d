"""More of PyTorch's in-place random fills (``normal_``, ``uniform_`` and ``bernoulli_`` are in
:mod:`glassgrad.tensor_methods`): each overwrites the tensor with draws of one distribution.

* ``exponential_(λ)``: density ``λ·e^(−λx)`` on x ≥ 0 (mean 1/λ);
* ``cauchy_(median, sigma)``: density ``1/(πσ·(1 + ((x − m)/σ)²))`` (no mean);
* ``log_normal_(mean, std)``: ``e^Y`` with ``Y ~ N(mean, std²)`` (``mean``, ``std`` are Y's, as in PyTorch);
* ``geometric_(p)``: the number of the first success in trials that succeed with probability p (1, 2, …);
* ``random_(from, to)``: whole numbers uniform on ``[from, to − 1]``, both numbers the dtype holds
  (``random_(to)``: on ``[0, to − 1]``; no ``to``: up to ``2^(mantissa bits + 1)`` for floats, the dtype's max for
  integers, as PyTorch).

Like ``normal_`` they count as an in-place change (a leaf that requires grad is refused under grad mode) and
take a ``generator``. The real-valued ones refuse an integer tensor. ``gg.binomial(count, prob)`` draws the
number of successes in ``count`` trials of probability ``prob``, entry by entry (a new tensor, count's dtype).

>>> import glassgrad as gg
>>> gg.zeros(3).random_(5, 6).tolist()
[5.0, 5.0, 5.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arguments import check_in_range, dtype_range, exact_whole_bits
from .autograd import recorded_call
from .creation import _stream, drawn, sample_of, scaled_draws
from .tensor import Tensor
from .tensor_methods import _plain, _random_fill, method


@method
def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill in place with draws of the exponential distribution of rate ``λ`` (mean 1/λ)."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_: expects lambd > 0 (the rate), got {lambd}")
    return _random_fill(self, "exponential_", drawn, "exponential", 1 / lambd, generator=generator,
                        error=RuntimeError)


@method
def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill in place with draws of the Cauchy distribution centred at ``median`` with scale ``sigma``."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_: expects sigma > 0 (the scale), got {sigma}")
    return _random_fill(self, "cauchy_", scaled_draws, "standard_cauchy", median, sigma, generator=generator,
                        error=RuntimeError)


@method
def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Tensor:
    """Fill in place with ``e^Y``, ``Y ~ N(mean, std²)``."""
    if not std > 0:
        raise RuntimeError(f"log_normal_: expects std > 0, got {std}")
    return _random_fill(self, "log_normal_", drawn, "lognormal", mean, std, generator=generator)


@method
def geometric_(self: Tensor, p: float, *, generator: Any = None) -> Tensor:
    """Fill in place with the trial (1, 2, …) of the first success, each trial succeeding with probability ``p``."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_: expects 0 < p < 1, got {p}")
    return self.copy_(Tensor._wrap(recorded_call(drawn, "geometric", None, generator, self.array.shape,
                                                 self.array.dtype, p)))


_TO_THE_TOP: Any = object()
"""``random_``'s ``to`` when not given: ``random_(n)`` is then ``[0, n − 1]``; ``random_(from, None)`` goes up to
the top."""


@method
def random_(self: Tensor, from_: int | None = None, to: int | None = _TO_THE_TOP, *, generator: Any = None) -> Tensor:
    """Fill in place with whole numbers drawn uniformly from ``[from, to − 1]`` (``random_(to)``: ``[0, to − 1]``;
    ``random_()``, ``random_(from, None)``: up to the top, ``2^(mantissa bits + 1)`` for floats, the dtype's max for
    integers, as PyTorch). Both ends must be numbers the dtype holds (300 into uint8 would wrap), as PyTorch's."""
    if to is _TO_THE_TOP:
        from_, to = (0, None) if from_ is None else (0, from_)
    low = 0 if from_ is None else from_
    for label, value in (("from", low), ("to", to)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer, type(None))):
            raise TypeError(f"random_: {label} must be a whole number (int), not {type(value).__name__} ({value!r})")
    dtype = self.array.dtype
    high = to if to is not None else (
        2 ** exact_whole_bits(dtype) + 1 if dtype.kind == "f" else dtype_range(dtype)[1] + 1)
    if not low < high:
        raise RuntimeError(f"random_: expects from < to, got from={low}, to={high} (the range [from, to) is empty)")
    check_in_range("random_", dtype, ("from", low), ("to - 1", high - 1))
    return self.copy_(Tensor._wrap(recorded_call(drawn, "integers", None, generator, self.array.shape, dtype, low,
                                                 high)))


def binomial(count: Tensor, prob: Tensor, generator: Any = None) -> Tensor:
    """Successes in ``count`` trials that each succeed with probability ``prob``, entry by entry; in the graph of
    ``count`` and ``prob`` if one requires grad, but with no derivative: backward through it is refused, as in
    PyTorch (:data:`glassgrad.ops.DRAW`)."""
    sample = recorded_call(_successes, generator, _plain(count), _plain(prob))
    return sample_of(sample, (count, prob), "binomial", differentiable=False)


def _successes(generator: Any, count: Any, prob: Any) -> np.ndarray:
    """:func:`binomial`'s draws, the values checked first: one kernel of a compiled step, which reads them and picks
    the stream at each call (:func:`glassgrad.creation.drawn`)."""
    trials, chance = np.asarray(count), np.asarray(prob)
    if np.any(chance < 0) or np.any(chance > 1) or np.any(trials < 0):
        raise RuntimeError("binomial: expects count >= 0 and 0 <= prob <= 1 in every entry")
    return np.asarray(_stream(None, generator).binomial(trials.astype(np.int64), chance), dtype=trials.dtype)  # 0-d too
