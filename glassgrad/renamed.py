"""Old spellings PyTorch still answers to: each warns (``FutureWarning``, as PyTorch does) and calls the new one.

Course code from before PyTorch 0.4 writes ``nn.init.xavier_uniform(w)``, ``clip_grad_norm(...)``; the names
gained a trailing ``_`` (the mark of an in-place function) or moved. :func:`renamed` makes the old name in one
line, so every alias warns the same way and runs exactly the function it names.

>>> import warnings
>>> import glassgrad as gg
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     w = gg.nn.init.constant(gg.zeros(2), 3.0)
>>> caught[0].category.__name__, w.tolist()
('FutureWarning', [3.0, 3.0])
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any


def renamed(function: Callable[..., Any], old_name: str, new_name: str) -> Callable[..., Any]:
    """A function called ``old_name`` that warns "``old_name`` is deprecated: use ``new_name``" and then returns
    ``function(*args, **kwargs)``. ``old_name``/``new_name`` are the spellings a learner types
    (e.g. ``"gg.nn.init.uniform"``, ``"gg.nn.init.uniform_"``)."""

    def old_spelling(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(f"{old_name} is deprecated (in PyTorch too): use {new_name}, which it calls", FutureWarning,
                      stacklevel=2)
        return function(*args, **kwargs)

    old_spelling.__name__ = old_spelling.__qualname__ = old_name.rpartition(".")[2]
    old_spelling.__doc__ = f"Deprecated spelling of :func:`{new_name}`: warns, then calls it."
    old_spelling.__wrapped__ = function  # type: ignore[attr-defined]  # inspect.signature shows the new one's
    old_spelling.__module__ = function.__module__
    return old_spelling
