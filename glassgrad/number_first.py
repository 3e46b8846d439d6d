"""PyTorch's deprecated number-first overloads, which older hand-written optimizers use.

Before ``alpha`` and ``value`` became keywords, the scale came first:

=====================================  ==========================================  =====================
old order (deprecated)                 today's spelling                            means
=====================================  ==========================================  =====================
``x.add(α, y)``, ``x.add_(α, y)``      ``x.add(y, alpha=α)``                       ``x + α·y``
``x.sub(α, y)``, ``x.sub_(α, y)``      ``x.sub(y, alpha=α)``                       ``x − α·y``
``x.addcmul(v, s, t)`` (and ``_``)     ``x.addcmul(s, t, value=v)``                ``x + v·s·t``
``x.addcdiv(v, s, t)`` (and ``_``)     ``x.addcdiv(s, t, value=v)``                ``x + v·s/t``
=====================================  ==========================================  =====================

and the function forms likewise (``gg.add(x, α, y)``). :func:`number_first` wraps each of these methods: a call
with one argument more than the tensors it takes, the first a number, is read in the old order, with a
``UserWarning`` naming today's signature, once per process for all of them (as PyTorch warns: one
``TORCH_WARN_ONCE`` in its argument parser; ``gg.set_warn_always(True)`` shows it every time, as there).

>>> import warnings
>>> import glassgrad as gg
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     gg.ones(2).add_(2, gg.ones(2)).tolist()
[3.0, 3.0]
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from typing import Any

from .settings import warn_once

OVERLOADS: dict[str, tuple[str, tuple[str, ...]]] = {
    "add": ("alpha", ("other",)), "sub": ("alpha", ("other",)),
    "addcmul": ("value", ("tensor1", "tensor2")), "addcdiv": ("value", ("tensor1", "tensor2")),
}
"""Each overload's scale (the keyword it moved to) and the tensors that follow it, by name without the ``_``."""


def number_first(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let method ``name`` (one of :data:`OVERLOADS`, or its in-place form) take its scale first, as it once did:
    ``x.name(number, *tensors)`` becomes ``x.name(*tensors, scale=number)``, with a warning."""
    scale, tensors = OVERLOADS[name.removesuffix("_")]
    old = f"{name}(Number {scale}, {', '.join(f'Tensor {each}' for each in tensors)})"
    new = f"{name}({', '.join(f'Tensor {each}' for each in tensors)}, *, Number {scale} = 1)"

    def wrap(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def either_order(self: Any, *args: Any, **kwargs: Any) -> Any:
            if len(args) == len(tensors) + 1 and _is_number(args[0]):
                if scale in kwargs:
                    raise TypeError(f"{name}: {scale} given twice, first by position (the old order {old}) and "
                                    f"then by name; use {new}")
                warn_once(f"This overload of {name} is deprecated: {old}; use {new} instead", site=__name__)
                args, kwargs = args[1:], {**kwargs, scale: args[0]}
            return function(self, *args, **kwargs)

        return either_order

    return wrap


def _is_number(value: object) -> bool:
    """A Python or NumPy number (a bool is not a scale: PyTorch refuses it)."""
    return isinstance(value, numbers.Number) and not isinstance(value, bool)
