"""Forward hooks: functions called around a module's ``forward`` (to record activations, for example).

``module.register_forward_hook(hook)`` calls ``hook(module, inputs, output)`` after that
module's forward; :func:`register_module_forward_hook` does it for *every* module (so a
trace can tell which layer each recorded step belongs to). Each returns a
:class:`RemovableHandle`: ``handle.remove()``, or use it in a ``with`` block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..handles import RemovableHandle, add_hook

if TYPE_CHECKING:
    from .module import Module


ForwardHook = Callable[["Module", tuple, Any], Any]
ForwardPreHook = Callable[["Module", tuple], Any]


class WithKeywords:
    """A module hook registered with ``with_kwargs=True``: it also gets the forward's keyword arguments,
    ``hook(module, args, kwargs)`` before (returning None or a new ``(args, kwargs)``) and
    ``hook(module, args, kwargs, output)`` after."""

    __slots__ = ("hook",)

    def __init__(self, hook: Callable) -> None:
        self.hook = hook

    def __call__(self, *args: Any) -> Any:
        return self.hook(*args)


_GLOBAL_FORWARD_PRE_HOOKS: dict[int, ForwardPreHook] = {}
_GLOBAL_FORWARD_HOOKS: dict[int, ForwardHook] = {}


def register_module_forward_pre_hook(hook: ForwardPreHook) -> RemovableHandle:
    """Call ``hook(module, inputs)`` before the forward of *every* module (e.g. to group a trace by layer)."""
    return add_hook(_GLOBAL_FORWARD_PRE_HOOKS, hook)


def register_module_forward_hook(hook: ForwardHook) -> RemovableHandle:
    """Call ``hook(module, inputs, output)`` after the forward of *every* module."""
    return add_hook(_GLOBAL_FORWARD_HOOKS, hook)
