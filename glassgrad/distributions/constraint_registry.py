"""``biject_to(c)`` and ``transform_to(c)``: from the unconstrained reals into the set ``c``.

An optimizer moves a parameter anywhere in ℝⁿ; a scale must stay positive, a probability vector on the
simplex. So keep an unconstrained ``u`` and use ``transform_to(constraint)(u)``: ``u`` is free, the result
always valid. ``biject_to`` gives a bijection (one ``u`` per value, with a log-det, as a change of variables
in MCMC needs); ``transform_to`` may give a map that is only onto (``SoftmaxTransform`` for the simplex).

Each registry looks a constraint's type up in a table (``register`` adds a row, as PyTorch's):

* real → identity; positive, nonnegative, greater_than(a), greater_than_eq(a) → ``a + eˣ``; less_than(b) → ``b − eˣ``;
* interval / half_open_interval(a, b) → ``a + (b − a)·σ(x)`` (``σ(x)`` alone for [0, 1]);
* simplex → StickBreakingTransform (biject_to) or SoftmaxTransform (transform_to);
* corr_cholesky → CorrCholeskyTransform; lower_cholesky and positive_definite / positive_semidefinite (transform_to
  only) → LowerCholeskyTransform and PositiveDefiniteTransform;
* independent, cat, stack → the same structure over the registry's transforms of their parts.

>>> import glassgrad as gg
>>> from glassgrad.distributions import constraints, transform_to
>>> transform_to(constraints.positive)(gg.tensor([0.0])).tolist()
[1.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import constraints
from .transforms import (
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    SigmoidTransform,
    SoftmaxTransform,
    StackTransform,
    StickBreakingTransform,
    Transform,
    identity_transform,
)

Factory = Callable[[Any], Transform]


class ConstraintRegistry:
    """A table from constraint types to the functions that build a transform onto a constraint of that type."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._registry: dict[type, Factory] = {}

    def register(self, constraint: Any, factory: Factory | None = None) -> Any:
        """Add ``factory`` for ``constraint``'s type (a Constraint subclass or one instance of it); without
        ``factory``, a decorator that adds the function it wraps."""
        if factory is None:
            return lambda wrapped: self.register(constraint, wrapped)
        kind = type(constraint) if isinstance(constraint, constraints.Constraint) else constraint
        if not (isinstance(kind, type) and issubclass(kind, constraints.Constraint)):
            raise TypeError(f"{self.name}.register: expected a Constraint subclass or instance, got {constraint!r}")
        self._registry[kind] = factory
        return factory

    def __call__(self, constraint: constraints.Constraint) -> Transform:
        """A transform from the unconstrained reals onto ``constraint``."""
        try:
            factory = self._registry[type(constraint)]
        except KeyError:
            kind = type(constraint).__name__.lstrip("_")
            raise NotImplementedError(f"{self.name}: no transform registered for {kind} constraints; add one with "
                                      f"{self.name}.register") from None
        return factory(constraint)


biject_to = ConstraintRegistry("biject_to")
transform_to = ConstraintRegistry("transform_to")


def _register_both(*kinds: Any) -> Callable[[Factory], Factory]:
    def add(factory: Factory) -> Factory:
        for kind in kinds:
            biject_to.register(kind, factory)
            transform_to.register(kind, factory)
        return factory

    return add


@_register_both(constraints.real)
def _to_real(constraint: Any) -> Transform:
    return identity_transform


@_register_both(constraints.greater_than, constraints.greater_than_eq)
def _to_greater_than(constraint: Any) -> Transform:
    """``lower_bound + eˣ`` (positive and nonnegative are greater_than(0) and greater_than_eq(0))."""
    return ComposeTransform([ExpTransform(), AffineTransform(constraint.lower_bound, 1)])


@_register_both(constraints.less_than)
def _to_less_than(constraint: Any) -> Transform:
    return ComposeTransform([ExpTransform(), AffineTransform(constraint.upper_bound, -1)])


@_register_both(constraints.interval, constraints.half_open_interval)
def _to_interval(constraint: Any) -> Transform:
    low, high = constraint.lower_bound, constraint.upper_bound
    if isinstance(low, (int, float)) and isinstance(high, (int, float)) and (low, high) == (0, 1):
        return SigmoidTransform()
    return ComposeTransform([SigmoidTransform(), AffineTransform(low, high - low)])


@_register_both(constraints.corr_cholesky)
def _to_corr_cholesky(constraint: Any) -> Transform:
    return CorrCholeskyTransform()


@biject_to.register(constraints.simplex)
def _biject_to_simplex(constraint: Any) -> Transform:
    return StickBreakingTransform()


@transform_to.register(constraints.simplex)
def _transform_to_simplex(constraint: Any) -> Transform:
    return SoftmaxTransform()


@transform_to.register(constraints.lower_cholesky)
def _transform_to_lower_cholesky(constraint: Any) -> Transform:
    return LowerCholeskyTransform()


@transform_to.register(constraints.positive_definite)
@transform_to.register(constraints.positive_semidefinite)
def _transform_to_positive_definite(constraint: Any) -> Transform:
    return PositiveDefiniteTransform()


def _register_structures(registry: ConstraintRegistry) -> None:
    """independent, cat and stack: the same structure over ``registry``'s transforms of the parts."""
    registry.register(constraints.independent, lambda c: IndependentTransform(registry(c.base_constraint),
                                                                              c.reinterpreted_batch_ndims))
    registry.register(constraints.cat, lambda c: CatTransform([registry(part) for part in c.cseq], c.dim, c.lengths))
    registry.register(constraints.stack, lambda c: StackTransform([registry(part) for part in c.cseq], c.dim))


_register_structures(biject_to)
_register_structures(transform_to)
