"""NumPy's keyword names for PyTorch's: ``axis`` for ``dim`` and ``keepdims`` for ``keepdim``.

PyTorch takes them in every built-in function and Tensor method, so code written with NumPy habits
runs there: ``y_hat.argmax(axis=1)`` (d2l.ai's ``accuracy``), ``x.cumsum(axis=0)``,
``torch.cat((X, Y), axis=1)``, ``x.logsumexp(0, keepdims=True)``. glassgrad takes them too:
:func:`accept_numpy_keywords` wraps each public function and method that has a ``dim`` or a
``keepdim`` parameter (and no parameter of NumPy's name already, as ``sum`` and ``max`` have) so
that the NumPy name reaches it as PyTorch's. A call that passes no keyword pays one test.

>>> import glassgrad as gg
>>> x = gg.tensor([[1.0, 5.0], [7.0, 2.0]])
>>> x.argmax(axis=1).tolist(), gg.cat((x, x), axis=1).shape, x.cumsum(axis=0, dtype=gg.float64).tolist()
([1, 0], (2, 4), [[1.0, 5.0], [8.0, 7.0]])
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, MutableMapping
from types import FunctionType
from typing import Any

NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim"}
"""NumPy's keyword → PyTorch's, as PyTorch's argument parser maps them."""


def _renames(function: FunctionType) -> dict[str, str]:
    """The NumPy names ``function`` should take: those whose PyTorch name is one of its parameters (for a function
    form of a method, ``gg.argmax(x, …)``, the method's parameters)."""
    code = getattr(function, "method", function).__code__
    parameters = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    return {numpy: torch for numpy, torch in NUMPY_NAMES.items() if torch in parameters and numpy not in parameters}


def with_numpy_keywords(function: Any) -> Any:
    """``function``, taking ``axis=``/``keepdims=`` for its ``dim``/``keepdim`` (itself when it needs no change)."""
    if type(function) is not FunctionType:
        return function
    renames = _renames(function)
    if not renames:
        return function

    pairs = tuple(renames.items())

    @functools.wraps(function)
    def taking_numpy_names(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            for numpy, torch in pairs:
                if numpy in kwargs:
                    if torch in kwargs:
                        raise TypeError(f"{function.__name__}: got both {torch}= and NumPy's name for it, {numpy}=; "
                                        "give one")
                    kwargs[torch] = kwargs.pop(numpy)
        return function(*args, **kwargs)

    return taking_numpy_names


def accept_numpy_keywords(namespaces: Iterable[MutableMapping[str, Any] | type]) -> None:
    """Replace each public function of ``namespaces`` (module dicts, classes) that has a ``dim`` or ``keepdim``
    by :func:`with_numpy_keywords` of it; a function found under several names gets one wrapper, which also
    takes its place in the module that defines it (``gg.select_copy is glassgrad.copies.select_copy``)."""
    wrapped: dict[int, Callable] = {}
    for namespace in namespaces:
        entries = vars(namespace) if isinstance(namespace, type) else namespace
        for name, value in list(entries.items()):
            if name.startswith("_") or type(value) is not FunctionType:
                continue
            if id(value) not in wrapped:
                wrapped[id(value)] = with_numpy_keywords(value)
                home = sys.modules.get(value.__module__)
                if wrapped[id(value)] is not value and getattr(home, value.__name__, None) is value:
                    setattr(home, value.__name__, wrapped[id(value)])
            if wrapped[id(value)] is not value:
                if isinstance(namespace, type):
                    setattr(namespace, name, wrapped[id(value)])
                else:
                    namespace[name] = wrapped[id(value)]
