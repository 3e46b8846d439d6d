"""``torch.distributions.constraints``: the sets a distribution's values live in (its ``support``).

A constraint answers ``check(value)`` with a bool tensor, one answer per event: ``positive.check(x)`` is
``x > 0`` entry by entry; a vector constraint (``event_dim = 1``: ``simplex``, ``one_hot``, ``real_vector``)
answers once per vector, over its last dim. ``is_discrete`` marks sets of whole numbers.

>>> import glassgrad as gg
>>> gg.distributions.constraints.unit_interval.check(gg.tensor([-0.5, 0.5])).tolist()
[False, True]
>>> gg.distributions.Exponential(1.0).support
GreaterThanEq(lower_bound=0.0)
"""

from __future__ import annotations

import math
from typing import Any

from ..creation import as_tensor
from ..tensor import Tensor


class Constraint:
    """A set of values; ``check`` says which values (one answer per event) belong to it."""

    is_discrete = False
    event_dim = 0

    def check(self, value: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define check()")

    def __repr__(self) -> str:
        bounds = ", ".join(f"{name}={value}" for name, value in vars(self).items())
        return f"{type(self).__name__.lstrip('_')}({bounds})"


class _Real(Constraint):
    """Every number but NaN (±inf included, as PyTorch's)."""

    def check(self, value: Any) -> Tensor:
        x = as_tensor(value)
        return x == x


class _GreaterThan(Constraint):
    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Any) -> Tensor:
        return as_tensor(value) > self.lower_bound


class _GreaterThanEq(_GreaterThan):
    def check(self, value: Any) -> Tensor:
        return as_tensor(value) >= self.lower_bound


class _Interval(Constraint):
    """``[lower_bound, upper_bound]``."""

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value: Any) -> Tensor:
        x = as_tensor(value)
        return (x >= self.lower_bound).logical_and(x <= self.upper_bound)


class _HalfOpenInterval(_Interval):
    """``[lower_bound, upper_bound)``."""

    def check(self, value: Any) -> Tensor:
        x = as_tensor(value)
        return (x >= self.lower_bound).logical_and(x < self.upper_bound)


def _whole(x: Tensor) -> Tensor:
    """Finite whole numbers (``x % 1 == 0``, written without NumPy's warning for ±inf)."""
    return (x == x.floor()).logical_and(x.abs() != math.inf)


class _IntegerInterval(_Interval):
    """The whole numbers ``lower_bound, …, upper_bound``."""

    is_discrete = True

    def check(self, value: Any) -> Tensor:
        return _whole(as_tensor(value)).logical_and(super().check(value))


class _IntegerGreaterThan(_GreaterThan):
    """The whole numbers ``lower_bound, lower_bound + 1, …``."""

    is_discrete = True

    def check(self, value: Any) -> Tensor:
        x = as_tensor(value)
        return _whole(x).logical_and(x >= self.lower_bound)


class _Boolean(Constraint):
    """``{0, 1}``."""

    is_discrete = True

    def check(self, value: Any) -> Tensor:
        x = as_tensor(value)
        return (x == 0).logical_or(x == 1)


class _OneHot(Constraint):
    """Vectors of zeros with a single one."""

    is_discrete = True
    event_dim = 1

    def check(self, value: Any) -> Tensor:
        x = as_tensor(value)
        return boolean.check(x).all(-1).logical_and(x.sum(-1) == 1)


class _Simplex(Constraint):
    """Vectors of non-negative numbers summing to 1 (within 1e-6)."""

    event_dim = 1

    def check(self, value: Any) -> Tensor:
        x = as_tensor(value)
        return (x >= 0).all(-1).logical_and((x.sum(-1) - 1).abs() < 1e-6)


class _IndependentConstraint(Constraint):
    """``base_constraint`` over events with ``reinterpreted_batch_ndims`` more dims: true where all entries are."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int) -> None:
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value: Any) -> Tensor:
        answer = self.base_constraint.check(value)
        for _ in range(self.reinterpreted_batch_ndims):
            answer = answer.all(-1)
        return answer

    def __repr__(self) -> str:
        return f"IndependentConstraint({self.base_constraint}, {self.reinterpreted_batch_ndims})"


real = _Real()
real_vector = _IndependentConstraint(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
unit_interval = _Interval(0.0, 1.0)
boolean = _Boolean()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
one_hot = _OneHot()
simplex = _Simplex()
interval = _Interval
half_open_interval = _HalfOpenInterval
integer_interval = _IntegerInterval
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
independent = _IndependentConstraint
