"""``torch.distributions.constraints``: the sets a distribution's values live in (its ``support``).

A constraint answers ``check(value)`` with a bool tensor, one answer per event: ``positive.check(x)`` is
``x > 0`` entry by entry; a vector constraint (``event_dim = 1``: ``simplex``, ``one_hot``, ``real_vector``)
answers once per vector, over its last dim; a matrix constraint (``event_dim = 2``: ``lower_cholesky``,
``positive_definite``, ``corr_cholesky``) once per matrix. ``is_discrete`` marks sets of whole numbers.

>>> import glassgrad as gg
>>> gg.distributions.constraints.unit_interval.check(gg.tensor([-0.5, 0.5])).tolist()
[False, True]
>>> gg.distributions.Exponential(1.0).support
GreaterThanEq(lower_bound=0.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functions
from ..creation import as_tensor
from ..tensor import Tensor

__all__ = ["Constraint", "MixtureSameFamilyConstraint", "boolean", "cat", "corr_cholesky", "dependent",
           "dependent_property", "greater_than", "greater_than_eq", "half_open_interval", "independent",
           "integer_interval", "interval", "is_dependent", "less_than", "lower_cholesky", "lower_triangular",
           "multinomial", "nonnegative", "nonnegative_integer", "one_hot", "positive", "positive_definite",
           "positive_integer", "positive_semidefinite", "real", "real_vector", "simplex", "square", "stack",
           "symmetric", "unit_interval"]  # PyTorch's: what `from torch.distributions.constraints import *` brings


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


class _LessThan(Constraint):
    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def check(self, value: Any) -> Tensor:
        return as_tensor(value) < self.upper_bound


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


class MixtureSameFamilyConstraint(_IndependentConstraint):
    """A mixture's support, PyTorch's: the value (a dim of 1 put where the components lie) checked against
    ``base_constraint``, each component's own support; true where every component takes it."""

    def __init__(self, base_constraint: Constraint) -> None:
        super().__init__(base_constraint, 0)

    def check(self, value: Any) -> Tensor:
        x = as_tensor(value)
        if x.ndim < self.event_dim:
            raise ValueError(f"MixtureSameFamilyConstraint: expected a value of at least {self.event_dim} dims, got "
                             f"{x.ndim}")
        return self.base_constraint.check(x.unsqueeze(-1 - self.event_dim)).all(-1)

    def __repr__(self) -> str:
        return f"MixtureSameFamilyConstraint({self.base_constraint!r})"


class _Square(Constraint):
    """Square matrices (the last two dims equal): one answer per matrix."""

    event_dim = 2

    def answer(self, value: Tensor, per_matrix: np.ndarray | bool) -> Tensor:
        """``per_matrix`` (one bool per matrix, or one for all) as a bool tensor of ``value``'s batch shape."""
        return Tensor._wrap(np.broadcast_to(np.asarray(per_matrix, dtype=bool), tuple(value.shape[:-2])).copy())

    def check(self, value: Any) -> Tensor:
        x = as_tensor(value)
        return self.answer(x, x.shape[-2] == x.shape[-1])


class _LowerTriangular(_Square):
    """Matrices equal to their lower triangle: exact zeros above the diagonal, and no NaN anywhere (``tril(x) == x``,
    as PyTorch's)."""

    def check(self, value: Any) -> Tensor:
        x = as_tensor(value).detach()
        return (x.tril() == x).all(-1).all(-1)


class _LowerCholesky(_LowerTriangular):
    """Lower-triangular matrices with a positive diagonal: the Cholesky factors ``L`` of ``Σ = L·Lᵀ``."""

    def check(self, value: Any) -> Tensor:
        positive_diagonal = (as_tensor(value).detach().diagonal(dim1=-2, dim2=-1) > 0).all(-1)
        return super().check(value).logical_and(positive_diagonal)


class _CorrCholesky(_Square):
    """Cholesky factors of correlation matrices: lower triangular, positive diagonal, every row of length 1
    (within ``10·n·eps``)."""

    def check(self, value: Any) -> Tensor:
        x = as_tensor(value)
        tolerance = 10 * x.shape[-1] * np.finfo(x.detach().numpy().dtype).eps
        unit_rows = (np.abs(np.linalg.norm(x.detach().numpy(), axis=-1) - 1) <= tolerance).all(-1)
        return lower_cholesky.check(x).logical_and(self.answer(x, unit_rows))


class _Symmetric(_Square):
    """Square matrices equal to their transpose (within 1e-6)."""

    def check(self, value: Any) -> Tensor:
        x = as_tensor(value).detach().numpy()
        if x.shape[-2] != x.shape[-1]:
            return super().check(value)
        return self.answer(as_tensor(value), np.isclose(x, np.swapaxes(x, -1, -2), atol=1e-6).all((-2, -1)))


class _PositiveSemidefinite(_Symmetric):
    """Symmetric matrices whose eigenvalues are all ≥ 0."""

    def check(self, value: Any) -> Tensor:
        x, symmetric_ = as_tensor(value), super().check(value)
        if not symmetric_.numpy().all():
            return symmetric_
        return self.answer(x, (np.linalg.eigvalsh(x.detach().numpy()) >= 0).all(-1))


class _PositiveDefinite(_Symmetric):
    """Symmetric matrices whose eigenvalues are all > 0 (those with a Cholesky factor)."""

    def check(self, value: Any) -> Tensor:
        x, symmetric_ = as_tensor(value), super().check(value)
        if not symmetric_.numpy().all():
            return symmetric_
        return self.answer(x, (np.linalg.eigvalsh(x.detach().numpy()) > 0).all(-1))


class _Multinomial(Constraint):
    """Count vectors: entries ≥ 0 whose sum is at most ``upper_bound`` (a Multinomial's total count)."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def check(self, value: Any) -> Tensor:
        x = as_tensor(value)
        return (x >= 0).all(-1).logical_and(x.sum(-1) <= self.upper_bound)


class _Dependent(Constraint):
    """A constraint that depends on other values (a support whose bounds are parameters): it cannot be checked on
    its own, and its ``is_discrete`` and ``event_dim`` are known only if given. ``dependent(is_discrete=…,
    event_dim=…)`` makes one that states them."""

    def __init__(self, *, is_discrete: Any = NotImplemented, event_dim: Any = NotImplemented) -> None:
        self._is_discrete, self._event_dim = is_discrete, event_dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete: Any = NotImplemented, event_dim: Any = NotImplemented) -> _Dependent:
        """A dependent constraint stating ``is_discrete`` and ``event_dim`` (this one's where not given)."""
        return _Dependent(is_discrete=self._is_discrete if is_discrete is NotImplemented else is_discrete,
                          event_dim=self._event_dim if event_dim is NotImplemented else event_dim)

    def check(self, value: Any) -> Tensor:
        raise ValueError("Cannot determine validity of dependent constraint; check the values it depends on instead")

    def __repr__(self) -> str:
        return "Dependent()"


def is_dependent(constraint: Any) -> bool:
    """Whether ``constraint`` is a dependent one (:data:`dependent`, a :class:`dependent_property`), which a
    distribution's parameter check skips."""
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A property that is, read on the class, a dependent constraint: a support computed from the parameters,
    written ``@constraints.dependent_property`` or ``@constraints.dependent_property(is_discrete=…, event_dim=…)``."""

    def __init__(self, fn: Any = None, *, is_discrete: Any = NotImplemented, event_dim: Any = NotImplemented) -> None:
        property.__init__(self, fn)
        _Dependent.__init__(self, is_discrete=is_discrete, event_dim=event_dim)

    def __call__(self, fn: Any) -> _DependentProperty:  # type: ignore[override]
        """Decorate ``fn`` (the form with arguments: ``@dependent_property(event_dim=1)``)."""
        return _DependentProperty(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


class _Cat(Constraint):
    """``cseq[i]`` on the i-th block of ``lengths[i]`` entries along ``dim`` (a constraint for ``gg.cat``'s pieces)."""

    def __init__(self, cseq: list[Constraint], dim: int = 0, lengths: list[int] | None = None) -> None:
        self.cseq = list(cseq)
        self.lengths = list(lengths) if lengths is not None else [1] * len(self.cseq)
        if len(self.lengths) != len(self.cseq):
            raise ValueError(f"constraints.cat: {len(self.cseq)} constraints need as many lengths, "
                             f"got {len(self.lengths)}")
        self.dim = dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return max(c.event_dim for c in self.cseq)

    def check(self, value: Any) -> Tensor:
        x = as_tensor(value)
        starts = np.cumsum([0] + self.lengths[:-1])
        return functions.cat([c.check(x.narrow(self.dim, int(start), length))
                    for c, start, length in zip(self.cseq, starts, self.lengths)], self.dim)

    def __repr__(self) -> str:
        return f"Cat({self.cseq}, dim={self.dim}, lengths={self.lengths})"


class _Stack(Constraint):
    """``cseq[i]`` on the i-th slice along ``dim`` (a constraint for ``gg.stack``'s pieces)."""

    def __init__(self, cseq: list[Constraint], dim: int = 0) -> None:
        self.cseq, self.dim = list(cseq), dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        inner = max(c.event_dim for c in self.cseq)
        return inner + 1 if self.dim + inner < 0 else inner  # a dim counted from the end lies inside the event

    def check(self, value: Any) -> Tensor:
        slices = as_tensor(value).unbind(self.dim)
        return functions.stack([c.check(piece) for c, piece in zip(self.cseq, slices)], self.dim)

    def __repr__(self) -> str:
        return f"Stack({self.cseq}, dim={self.dim})"


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
less_than = _LessThan
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
cat = _Cat
stack = _Stack
independent = _IndependentConstraint
multinomial = _Multinomial
dependent = _Dependent()
dependent_property = _DependentProperty
