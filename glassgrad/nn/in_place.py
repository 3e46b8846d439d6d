"""PyTorch's ``inplace=True`` for activations and dropout: the result written into the input.

``F.relu(x, inplace=True)``, ``nn.ReLU(inplace=True)``, ``nn.LeakyReLU(0.2, inplace=True)`` give the
same numbers as without it, written into ``x``'s memory the way ``x.relu_()`` writes them (the op,
then ``copy_``: :func:`glassgrad.tensor_methods.write_in_place`). Code that reads ``x`` afterwards sees
the result, as in PyTorch; a trace shows the op and the copy; a leaf that requires grad is refused,
as PyTorch refuses it. Nothing is saved in memory: glassgrad computes the result first either way.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from ..tensor_methods import write_in_place


def takes_inplace(function: Callable) -> Callable:
    """``function`` with PyTorch's last argument ``inplace`` (by keyword, or by position after the others)."""
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())
    before = sum(parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for parameter in parameters) - 1

    @functools.wraps(function)
    def with_inplace(input: Any, *args: Any, inplace: bool = False, **kwargs: Any) -> Any:
        if len(args) > before:  # given by position, as F.leaky_relu(x, 0.2, True)
            *args, inplace = args
        if not inplace:
            return function(input, *args, **kwargs)
        return write_in_place(input, lambda source: function(source, *args, **kwargs), f"{function.__name__}_")

    # what inspect.signature and help() show: PyTorch's, with inplace after the other positional parameters
    inplace = inspect.Parameter("inplace", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=False, annotation=bool)
    with_inplace.__signature__ = signature.replace(parameters=[*parameters[:before + 1], inplace,
                                                               *parameters[before + 1:]])
    return with_inplace


def in_place_spelling(function: Callable) -> Callable:
    """PyTorch's trailing-underscore spelling of ``function`` (``F.relu_`` of ``F.relu``): ``function(input, …,
    inplace=True)``, the result written into ``input`` and returned."""

    def in_place(input: Any, *args: Any, **kwargs: Any) -> Any:
        return function(input, *args, inplace=True, **kwargs)

    in_place.__name__ = in_place.__qualname__ = f"{function.__name__}_"
    in_place.__doc__ = f"``F.{function.__name__}(input, …)`` written into ``input`` in place (returns ``input``)."
    return in_place
