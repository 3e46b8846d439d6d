"""PyTorch's ``torch._foreach_*`` functions: one op on each tensor of a list, made of the tensor methods.

EMA code updates every weight in one call (``torch._foreach_lerp_(ema_params, params, 1 - decay)``, then
``torch._foreach_copy_(ema_buffers, buffers)``), and so do hand-written optimizers
(``torch._foreach_mul_(grads, scale)``). PyTorch runs them as one fused kernel; here each is the method called on
each tensor in turn, so each keeps that method's numbers, gradient and errors::

    _foreach_lerp_(xs, ys, w)   is   for x, y in zip(xs, ys): x.lerp_(y, w)
    _foreach_add(xs, [a, b])    is   (xs[0].add(a), xs[1].add(b))

An operand (by position or by PyTorch's name for it: ``other``, ``scalars``, ``weight``, ``ord``, …) that is a list or
tuple gives one entry per tensor (it must be as long as the tensor list); any other
(a number, a tensor) is used for every tensor. The in-place forms return the list they changed, the others a
tuple of new tensors, as PyTorch's.

>>> import glassgrad as gg
>>> ema, live = [gg.zeros(2), gg.zeros(3)], [gg.ones(2), gg.ones(3)]
>>> _ = gg._foreach_lerp_(ema, live, 0.25)
>>> [t.tolist() for t in ema]
[[0.25, 0.25], [0.25, 0.25, 0.25]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .tensor import Tensor


def _one_per_tensor(argument: Any, count: int, name: str) -> list:
    """``argument`` spread over ``count`` tensors: a list or tuple entry by entry (of the same length), anything
    else repeated."""
    if not isinstance(argument, (list, tuple)):
        return [argument] * count
    if len(argument) != count:
        raise RuntimeError(f"{name}: Tensor lists must have the same number of tensors, got {count} and "
                           f"{len(argument)}")
    return list(argument)


_NAMED_OPERANDS = ("other", "scalar", "scalars", "tensors1", "src", "weight", "weights", "ord")
"""The names PyTorch's overloads give the operands (``_foreach_add(xs, other=ys, alpha=2)``,
``_foreach_add(xs, scalars=[1, 2])``, ``_foreach_lerp(xs, tensors1=ys, weight=w)``, ``_foreach_norm(xs, ord=3)``),
in the order the method takes them: given by name, each is passed to the method in its place."""


def _foreach(method: str, in_place: bool) -> Callable[..., Any]:
    """``torch._foreach_<method>`` (``in_place``: ``_foreach_<method>_``, changing the tensors themselves)."""
    called = f"{method}_" if in_place and not method.endswith("_") else method
    name = f"_foreach_{called}"

    def foreach(tensors: Any, *arguments: Any, **options: Any) -> Any:
        if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
            raise TypeError(f"{name}: expects a list or tuple of tensors, got {type(tensors).__name__}")
        if not tensors:
            raise RuntimeError(f"{name}: Tensor list must have at least one tensor.")
        arguments += tuple(options.pop(operand) for operand in _NAMED_OPERANDS if operand in options)
        columns = [_one_per_tensor(argument, len(tensors), name) for argument in arguments]
        results = [getattr(tensor, called)(*row, **options) for tensor, *row in zip(tensors, *columns)]
        return tensors if in_place else tuple(results)

    foreach.__name__ = foreach.__qualname__ = name
    foreach.__doc__ = f"``x.{called}(…)`` for each tensor x of a list (see :mod:`glassgrad.composed_foreach`)."
    return foreach


_foreach_add, _foreach_add_ = _foreach("add", False), _foreach("add", True)
_foreach_sub, _foreach_sub_ = _foreach("sub", False), _foreach("sub", True)
_foreach_mul, _foreach_mul_ = _foreach("mul", False), _foreach("mul", True)
_foreach_div, _foreach_div_ = _foreach("div", False), _foreach("div", True)
_foreach_lerp, _foreach_lerp_ = _foreach("lerp", False), _foreach("lerp", True)
_foreach_sqrt, _foreach_sqrt_ = _foreach("sqrt", False), _foreach("sqrt", True)
_foreach_neg, _foreach_neg_ = _foreach("neg", False), _foreach("neg", True)
_foreach_copy_ = _foreach("copy_", True)
_foreach_zero_ = _foreach("zero_", True)
_foreach_norm = _foreach("norm", False)
