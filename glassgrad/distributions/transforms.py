"""``torch.distributions.transforms``: the maps a distribution is pushed through, each with its inverse and
``ln |det ∂y/∂x|`` (the shared machinery, ComposeTransform, IndependentTransform and ReshapeTransform are in
:mod:`.transform_base`).

Entry by entry (``event_dim = 0``; the log-det is ``ln |dy/dx|`` at each entry):

* ExpTransform: ``y = eˣ``, log-det ``x``; PowerTransform(k): ``y = xᵏ`` on x > 0, log-det ``ln |k·y/x|``;
* SigmoidTransform: ``y = σ(x) = 1/(1 + e⁻ˣ)``, ``x = ln y − ln(1 − y)``, log-det ``ln σ(x) + ln σ(−x)``;
* SoftplusTransform: ``y = ln(1 + eˣ)``, ``x = y + ln(1 − e⁻ʸ)``, log-det ``ln σ(x)``;
* TanhTransform: ``y = tanh x``, log-det ``ln(1 − tanh²x) = 2(ln 2 − x − softplus(−2x))`` (no cancellation);
* AbsTransform: ``y = |x|`` (not a bijection: its "inverse" is the identity on y ≥ 0);
* AffineTransform(loc, scale, event_dim): ``y = loc + scale·x``, log-det ``ln |scale|`` (summed over the event);
* CumulativeDistributionTransform(d): ``y = F_d(x)``, ``x = F_d⁻¹(y)``, log-det ``log p_d(x)``.

On vectors (the matrix transforms are in :mod:`.matrix_transforms`, Cat/Stack in :mod:`.transform_joins`; all
are importable from here):

* SoftmaxTransform: ``y = eˣ/Σeˣ`` onto the simplex (not a bijection; the inverse is ``ln y``);
* StickBreakingTransform: ``x ∈ ℝᴷ`` onto the simplex in ``ℝᴷ⁺¹``: ``zₖ = σ(xₖ − ln(K + 1 − k))`` is the share of
  what is left of the stick, ``yₖ = zₖ·Π_{j<k}(1 − zⱼ)``, the last ``y`` the rest; ∂y/∂x is triangular (yₖ reads
  x₁ … xₖ) with diagonal ``zₖ(1 − zₖ)·Π_{j<k}(1 − zⱼ)``, so the log-det is ``Σₖ (ln(1 − zₖ) + ln yₖ)``.

>>> import glassgrad as gg
>>> from glassgrad.distributions.transforms import StickBreakingTransform
>>> [round(share, 4) for share in StickBreakingTransform()(gg.zeros(2)).tolist()]   # equal shares of the stick
[0.3333, 0.3333, 0.3333]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..dtypes import finfo
from ..nn.functional import logsigmoid, softplus
from ..nn.padding import pad
from ..tensor import Tensor
from . import constraints
from .base import Distribution, broadcast_all
from .matrix_transforms import CorrCholeskyTransform, LowerCholeskyTransform, PositiveDefiniteTransform
from .transform_base import (
    ComposeTransform,
    IndependentTransform,
    ParameterlessTransform,
    ReshapeTransform,
    Transform,
    at_least_a_vector,
    identity_transform,
)
from .transform_joins import CatTransform, StackTransform

__all__ = ["AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform", "CorrCholeskyTransform",
           "CumulativeDistributionTransform", "ExpTransform", "IndependentTransform", "LowerCholeskyTransform",
           "PositiveDefiniteTransform", "PowerTransform", "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform",
           "SoftplusTransform", "StackTransform", "StickBreakingTransform", "TanhTransform", "Transform",
           "identity_transform"]


class ExpTransform(ParameterlessTransform):
    """``y = eˣ``."""

    codomain = constraints.positive
    bijective = True
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        return x.exp()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x


class PowerTransform(Transform):
    """``y = xᵏ`` for positive x, ``k = exponent``."""

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent: Any, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        (self.exponent,) = broadcast_all(exponent)

    @property
    def sign(self) -> Tensor:
        return self.exponent.sign()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PowerTransform) and bool((self.exponent == other.exponent).all().item())

    def _call(self, x: Tensor) -> Tensor:
        return x.pow(self.exponent)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.pow(self.exponent.reciprocal())

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``ln |k·x^(k−1)| = ln |k·y/x|``."""
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(np.broadcast_shapes(tuple(shape), tuple(self.exponent.shape)))

    def inverse_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return self.forward_shape(shape)


def clamped_probabilities(p: Tensor) -> Tensor:
    """``p`` kept inside ``[tiny, 1 − eps]`` of its dtype, where ``ln p`` and ``ln(1 − p)`` are finite."""
    info = finfo(p.dtype)
    return p.clamp(info.tiny, 1 - info.eps)


class SigmoidTransform(ParameterlessTransform):
    """``y = σ(x) = 1/(1 + e⁻ˣ)`` onto the unit interval (kept inside ``[tiny, 1 − eps]``)."""

    codomain = constraints.unit_interval
    bijective = True
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        return clamped_probabilities(x.sigmoid())

    def _inverse(self, y: Tensor) -> Tensor:
        """``logit y = ln y − ln(1 − y)``."""
        y = clamped_probabilities(y)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``ln σ'(x) = ln σ(x) + ln σ(−x) = −softplus(−x) − softplus(x)``."""
        return -softplus(-x) - softplus(x)


class SoftplusTransform(ParameterlessTransform):
    """``y = ln(1 + eˣ)`` onto the positive numbers (``x`` itself above 20, as PyTorch's softplus)."""

    codomain = constraints.positive
    bijective = True
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        return softplus(x)

    def _inverse(self, y: Tensor) -> Tensor:
        """``ln(eʸ − 1) = y + ln(1 − e⁻ʸ)``."""
        return (-(-y).expm1()).log() + y

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -softplus(-x)


class TanhTransform(ParameterlessTransform):
    """``y = tanh x`` onto ``(−1, 1)``."""

    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        return x.tanh()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.atanh()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``ln(1 − tanh²x) = ln(4/(eˣ + e⁻ˣ)²) = 2(ln 2 − x − ln(1 + e⁻²ˣ))``."""
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class AbsTransform(ParameterlessTransform):
    """``y = |x|``: not a bijection (x and −x meet), so its inverse gives the non-negative one, ``y`` itself."""

    codomain = constraints.positive

    def _call(self, x: Tensor) -> Tensor:
        return x.abs()

    def _inverse(self, y: Tensor) -> Tensor:
        return y


class AffineTransform(Transform):
    """``y = loc + scale·x`` entry by entry; ``event_dim`` says how many trailing dims form one event (the
    log-det ``ln |scale|`` is summed over them)."""

    bijective = True

    def __init__(self, loc: Any, scale: Any, event_dim: int = 0, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.loc, self.scale, self._event_dim = loc, scale, event_dim

    @property
    def event_dim(self) -> int:
        return self._event_dim

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.independent(constraints.real, self._event_dim) if self._event_dim else constraints.real

    codomain = domain

    @property
    def sign(self) -> Any:
        if isinstance(self.scale, Tensor):
            return self.scale.sign()
        return (self.scale > 0) - (self.scale < 0)

    def __eq__(self, other: object) -> bool:
        def same(a: Any, b: Any) -> bool:
            return bool((a == b).all().item()) if isinstance(a, Tensor) or isinstance(b, Tensor) else a == b

        return (isinstance(other, AffineTransform) and self._event_dim == other._event_dim
                and same(self.loc, other.loc) and same(self.scale, other.scale))

    def _call(self, x: Tensor) -> Tensor:
        return self.loc + self.scale * x

    def _inverse(self, y: Tensor) -> Tensor:
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        shape = tuple(x.shape)
        if isinstance(self.scale, Tensor):
            per_entry = self.scale.abs().log()
        else:
            per_entry = x.new_full(shape, math.log(abs(self.scale)))
        if self._event_dim:
            per_entry = per_entry.reshape(*tuple(per_entry.shape)[:-self._event_dim], -1).sum(-1)
            shape = shape[:-self._event_dim]
        return per_entry.expand(shape)

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(np.broadcast_shapes(tuple(shape), tuple(getattr(self.loc, "shape", ())),
                                         tuple(getattr(self.scale, "shape", ()))))

    def inverse_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return self.forward_shape(shape)


class CumulativeDistributionTransform(Transform):
    """``y = F(x)``, the cdf of ``distribution``: its support onto the unit interval (the start of a copula)."""

    bijective = True
    codomain = constraints.unit_interval
    sign = 1

    def __init__(self, distribution: Distribution, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.distribution = distribution

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return self.distribution.support

    def _call(self, x: Tensor) -> Tensor:
        return self.distribution.cdf(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``ln F'(x) = log p(x)``."""
        return self.distribution.log_prob(x)


class SoftmaxTransform(ParameterlessTransform):
    """``y = eˣ/Σⱼeˣʲ`` over the last dim, onto the simplex; not a bijection (adding a constant to x changes
    nothing), and its inverse ``ln y`` is one of the many preimages."""

    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x: Tensor) -> Tensor:
        return x.softmax(-1)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return at_least_a_vector("SoftmaxTransform", shape)

    inverse_shape = forward_shape


class StickBreakingTransform(ParameterlessTransform):
    """``x ∈ ℝᴷ`` onto the simplex in ``ℝᴷ⁺¹`` by breaking a stick: ``zₖ = σ(xₖ − ln(K + 1 − k))`` of what is
    left goes to ``yₖ`` (x = 0 breaks it into equal shares)."""

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    @staticmethod
    def _log_shares_left(like: Tensor, count: int) -> Tensor:
        """``ln(K + 1 − k)`` for k = 1 … K: the shift that makes x = 0 an even split."""
        return like.new_tensor(np.log(np.arange(count, 0, -1.0)))

    def _call(self, x: Tensor) -> Tensor:
        z = clamped_probabilities((x - self._log_shares_left(x, x.shape[-1])).sigmoid())
        left_before = pad((1 - z).cumprod(-1), (1, 0), value=1.0)  # Π_{j<k}(1 − zⱼ), 1 for the first
        return pad(z, (0, 1), value=1.0) * left_before

    def _inverse(self, y: Tensor) -> Tensor:
        """``xₖ = ln yₖ − ln(1 − Σ_{j≤k} yⱼ) + ln(K + 1 − k)``."""
        shares = y[..., :-1]
        left = (1 - shares.cumsum(-1)).clamp_min(finfo(y.dtype).tiny)
        return shares.log() - left.log() + self._log_shares_left(y, shares.shape[-1])

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``Σₖ ln(1 − zₖ) + ln yₖ`` with ``ln(1 − zₖ) = ln σ(x'ₖ) − x'ₖ``, ``x' = x − ln(K + 1 − k)``."""
        shifted = x - self._log_shares_left(x, x.shape[-1])
        return (-shifted + logsigmoid(shifted) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        shape = at_least_a_vector("StickBreakingTransform", shape)
        return shape[:-1] + (shape[-1] + 1,)

    def inverse_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        shape = at_least_a_vector("StickBreakingTransform", shape)
        return shape[:-1] + (shape[-1] - 1,)
