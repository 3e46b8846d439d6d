"""What every transform shares, and the transforms built from other transforms.

A transform is a map ``y = t(x)`` between two sets (``domain`` and ``codomain``, both constraints) with its
inverse ``t.inv`` and ``log_abs_det_jacobian(x, y) = ln |det ∂y/∂x|``: the term a density picks up when a
variable is pushed through the map, ``log p_Y(y) = log p_X(x) − ln |det ∂y/∂x|``. ``event_dim`` is how many
trailing dims one application couples (0: entry by entry; 1: a vector at a time); the log-det has that many
dims fewer than ``x``.

* ``ComposeTransform([t₁, t₂, …])``: ``y = … t₂(t₁(x))``, log-det the sum of the parts' (each summed over the
  dims it treats as one event);
* ``IndependentTransform(t, n)``: ``t`` with ``n`` more trailing dims read as one event (the log-det summed over them);
* ``ReshapeTransform(in_shape, out_shape)``: the event reshaped, log-det 0.

``cache_size=1`` remembers the last pair ``(x, y)``: calling ``t`` on the same ``x`` object returns the same
``y``, and ``t.inv(y)`` returns that very ``x`` (not a recomputed copy that would round differently or lose its
gradient path).

>>> import glassgrad as gg
>>> from glassgrad.distributions.transforms import ExpTransform
>>> t = ExpTransform(cache_size=1)
>>> x = gg.tensor([0.0, 1.0])
>>> t.inv(t(x)) is x, t.inv is t.inv, t.inv.inv is t
(True, True, True)
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

from ..arguments import shape_text
from ..tensor import Tensor
from . import constraints
from .independent import sum_rightmost


class Transform:
    """An invertible (or pseudo-invertible) map with the log of its Jacobian determinant's absolute value.

    A subclass defines ``_call`` (the map), ``_inverse`` and, when ``bijective``, ``log_abs_det_jacobian``;
    ``sign`` is +1 or −1 for a map increasing or decreasing entry by entry.
    """

    bijective = False
    domain: constraints.Constraint = constraints.real
    codomain: constraints.Constraint = constraints.real

    def __init__(self, cache_size: int = 0) -> None:
        if cache_size not in (0, 1):
            raise ValueError(f"{type(self).__name__}: cache_size must be 0 (no cache) or 1 (the last x and y), "
                             f"got {cache_size!r}")
        self._cache_size = cache_size
        self._cached_x_y: tuple[Any, Any] = (None, None)
        self._inv: Transform | None = None

    @property
    def event_dim(self) -> int:
        if self.domain.event_dim != self.codomain.event_dim:
            raise ValueError(f"{type(self).__name__}: its domain and codomain have different event dims "
                             f"({self.domain.event_dim} and {self.codomain.event_dim}); read .domain.event_dim "
                             "or .codomain.event_dim")
        return self.domain.event_dim

    @property
    def inv(self) -> Transform:
        """The inverse map (one object, made once: ``t.inv is t.inv`` and ``t.inv.inv is t``)."""
        if self._inv is None:
            self._inv = _InverseTransform(self)
        return self._inv

    @property
    def sign(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no sign (only a map that is monotone entry by entry "
                                  "has one)")

    def with_cache(self, cache_size: int = 1) -> Transform:
        """This transform with a cache of ``cache_size`` (itself when it has that cache already)."""
        if cache_size == self._cache_size:
            return self
        twin = copy.copy(self)
        Transform.__init__(twin, cache_size)
        return twin

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]  # equal transforms need not be the same object

    def __call__(self, x: Tensor) -> Tensor:
        """``y = t(x)`` (the remembered ``y`` when ``x`` is the object last seen, with ``cache_size=1``)."""
        if not self._cache_size:
            return self._call(x)
        seen_x, seen_y = self._cached_x_y
        if x is seen_x:
            return seen_y
        y = self._call(x)
        self._cached_x_y = (x, y)
        return y

    def _inv_call(self, y: Tensor) -> Tensor:
        """``x = t⁻¹(y)`` (the remembered ``x`` when ``y`` is the object last seen, with ``cache_size=1``)."""
        if not self._cache_size:
            return self._inverse(y)
        seen_x, seen_y = self._cached_x_y
        if y is seen_y:
            return seen_x
        x = self._inverse(y)
        self._cached_x_y = (x, y)
        return x

    def _call(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no forward map")

    def _inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no inverse map")

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``ln |det ∂y/∂x|`` at the pair ``(x, y = t(x))``, one number per event."""
        raise NotImplementedError(f"{type(self).__name__} has no log_abs_det_jacobian (it is not a bijection)")

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        """The shape of ``t(x)`` for ``x`` of ``shape``."""
        return tuple(shape)

    def inverse_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        """The shape of ``t.inv(y)`` for ``y`` of ``shape``."""
        return tuple(shape)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _InverseTransform(Transform):
    """``t.inv``: ``t`` read backwards (domain and codomain swapped, the log-det negated)."""

    def __init__(self, transform: Transform) -> None:
        super().__init__(transform._cache_size)
        self._inv = transform

    @property
    def inverted(self) -> Transform:
        return self._inv  # type: ignore[return-value]  # set at construction, never cleared

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return self.inverted.codomain

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return self.inverted.domain

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return self.inverted.bijective

    @property
    def sign(self) -> Any:
        return self.inverted.sign

    @property
    def inv(self) -> Transform:
        return self.inverted

    def with_cache(self, cache_size: int = 1) -> Transform:
        return self.inverted.with_cache(cache_size).inv

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _InverseTransform) and self.inverted == other.inverted

    def __call__(self, x: Tensor) -> Tensor:
        return self.inverted._inv_call(x)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``ln |det ∂x/∂y| = −ln |det ∂y/∂x|``."""
        return -self.inverted.log_abs_det_jacobian(y, x)

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return self.inverted.inverse_shape(shape)

    def inverse_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return self.inverted.forward_shape(shape)

    def __repr__(self) -> str:
        return f"_InverseTransform({self.inverted!r})"


def _lift(constraint: constraints.Constraint, event_dim: int) -> constraints.Constraint:
    """``constraint`` read over ``event_dim`` trailing dims (wrapped in an independent constraint when it has fewer)."""
    extra = event_dim - constraint.event_dim
    return constraints.independent(constraint, extra) if extra > 0 else constraint


class ComposeTransform(Transform):
    """``parts`` applied one after another: ``y = tₙ(… t₂(t₁(x)))``."""

    def __init__(self, parts: Sequence[Transform], cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.parts = [part.with_cache(cache_size) for part in parts] if cache_size else list(parts)

    def with_cache(self, cache_size: int = 1) -> Transform:
        return self if cache_size == self._cache_size else ComposeTransform(self.parts, cache_size)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        """The first part's domain, over as many dims as the whole chain couples at its input."""
        if not self.parts:
            return constraints.real
        event_dim = self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):
            event_dim = max(event_dim + part.domain.event_dim - part.codomain.event_dim, part.domain.event_dim)
        return _lift(self.parts[0].domain, event_dim)

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        """The last part's codomain, over as many dims as the whole chain couples at its output."""
        if not self.parts:
            return constraints.real
        event_dim = self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim = max(event_dim + part.codomain.event_dim - part.domain.event_dim, part.codomain.event_dim)
        return _lift(self.parts[-1].codomain, event_dim)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(part.bijective for part in self.parts)

    @property
    def sign(self) -> Any:
        sign: Any = 1
        for part in self.parts:
            sign = sign * part.sign
        return sign

    @property
    def inv(self) -> Transform:
        if self._inv is None:
            inverse = ComposeTransform([part.inv for part in reversed(self.parts)])
            inverse._inv = self
            self._inv = inverse
        return self._inv

    def __call__(self, x: Tensor) -> Tensor:
        for part in self.parts:  # each part keeps its own cache
            x = part(x)
        return x

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``Σᵢ ln |det ∂xᵢ₊₁/∂xᵢ|`` along the chain ``x = x₀ → x₁ → … → y``, each summed to the chain's event."""
        if not self.parts:
            return x.new_zeros(tuple(x.shape))
        points = [x]
        for part in self.parts[:-1]:
            points.append(part(points[-1]))
        points.append(y)
        total: Any = 0
        event_dim = self.domain.event_dim
        for part, here, there in zip(self.parts, points[:-1], points[1:]):
            total = total + sum_rightmost(part.log_abs_det_jacobian(here, there), event_dim - part.domain.event_dim)
            event_dim += part.codomain.event_dim - part.domain.event_dim
        return total

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        for part in self.parts:
            shape = part.forward_shape(shape)
        return tuple(shape)

    def inverse_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return tuple(shape)

    def __repr__(self) -> str:
        return "ComposeTransform(\n    " + ",\n    ".join(repr(part) for part in self.parts) + "\n)"


identity_transform = ComposeTransform([])


class IndependentTransform(Transform):
    """``base_transform`` with its last ``reinterpreted_batch_ndims`` batch dims read as part of one event:
    the same map, its log-det summed over those dims."""

    def __init__(self, base_transform: Transform, reinterpreted_batch_ndims: int, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def with_cache(self, cache_size: int = 1) -> Transform:
        if cache_size == self._cache_size:
            return self
        return IndependentTransform(self.base_transform, self.reinterpreted_batch_ndims, cache_size)

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.independent(self.base_transform.domain, self.reinterpreted_batch_ndims)

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.independent(self.base_transform.codomain, self.reinterpreted_batch_ndims)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return self.base_transform.bijective

    @property
    def sign(self) -> Any:
        return self.base_transform.sign

    def _enough_dims(self, value: Tensor, constraint: constraints.Constraint) -> Tensor:
        if value.ndim < constraint.event_dim:
            raise ValueError(f"IndependentTransform: a value of shape {shape_text(value.shape)} has fewer than the "
                             f"{constraint.event_dim} dims of one event")
        return value

    def _call(self, x: Tensor) -> Tensor:
        return self.base_transform(self._enough_dims(x, self.domain))

    def _inverse(self, y: Tensor) -> Tensor:
        return self.base_transform.inv(self._enough_dims(y, self.codomain))

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y), self.reinterpreted_batch_ndims)

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return self.base_transform.inverse_shape(shape)

    def __repr__(self) -> str:
        return f"IndependentTransform({self.base_transform!r}, {self.reinterpreted_batch_ndims})"


class ReshapeTransform(Transform):
    """The trailing ``in_shape`` of a value reshaped to ``out_shape`` (same count): a permutation of the
    numbers, so the log-det is 0."""

    bijective = True

    def __init__(self, in_shape: Sequence[int], out_shape: Sequence[int], cache_size: int = 0) -> None:
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)
        if math.prod(self.in_shape) != math.prod(self.out_shape):
            raise ValueError(f"ReshapeTransform: in_shape {shape_text(self.in_shape)} and out_shape "
                             f"{shape_text(self.out_shape)} hold different numbers of entries")
        super().__init__(cache_size)

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return _lift(constraints.real, len(self.in_shape))

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return _lift(constraints.real, len(self.out_shape))

    def _call(self, x: Tensor) -> Tensor:
        return x.reshape(*tuple(x.shape)[:x.ndim - len(self.in_shape)], *self.out_shape)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.reshape(*tuple(y.shape)[:y.ndim - len(self.out_shape)], *self.in_shape)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x.new_zeros(tuple(x.shape)[:x.ndim - len(self.in_shape)])

    def _swap_event(self, shape: Sequence[int], old: tuple[int, ...], new: tuple[int, ...]) -> tuple[int, ...]:
        shape = tuple(shape)
        cut = len(shape) - len(old)
        if cut < 0 or shape[cut:] != old:
            raise ValueError(f"ReshapeTransform: shape {shape_text(shape)} does not end in {shape_text(old)}")
        return shape[:cut] + new

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return self._swap_event(shape, self.in_shape, self.out_shape)

    def inverse_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return self._swap_event(shape, self.out_shape, self.in_shape)


class ParameterlessTransform(Transform):
    """A fixed map (no parameters): two are equal when they are of one type."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)


def at_least_a_vector(owner: str, shape: Sequence[int]) -> tuple[int, ...]:
    """``shape``, refused in one line when it has no last dim for a transform of vectors."""
    if len(shape) < 1:
        raise ValueError(f"{owner}: a value needs a last dim (a vector), got shape ()")
    return tuple(shape)
