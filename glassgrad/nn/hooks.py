"""Forward hooks: functions called around a module's ``forward`` (to record activations, for example).

``module.register_forward_hook(hook)`` calls ``hook(module, inputs, output)`` after that
module's forward; :func:`register_module_forward_hook` does it for *every* module (so a
trace can tell which layer each recorded step belongs to). Each returns a
:class:`RemovableHandle`: ``handle.remove()``, or use it in a ``with`` block.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .module import Module


class RemovableHandle:
    """What ``register_*_hook`` returns: ``handle.remove()`` unregisters the hook.

    Also a context manager: the hook is removed when the ``with`` block ends.
    """

    _next_id = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self.hooks = hooks
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


ForwardHook = Callable[["Module", tuple, Any], Any]
ForwardPreHook = Callable[["Module", tuple], Any]

_GLOBAL_FORWARD_PRE_HOOKS: dict[int, ForwardPreHook] = {}
_GLOBAL_FORWARD_HOOKS: dict[int, ForwardHook] = {}


def _add_hook(hooks: dict, hook: Callable) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def register_module_forward_pre_hook(hook: ForwardPreHook) -> RemovableHandle:
    """Call ``hook(module, inputs)`` before the forward of *every* module (e.g. to group a trace by layer)."""
    return _add_hook(_GLOBAL_FORWARD_PRE_HOOKS, hook)


def register_module_forward_hook(hook: ForwardHook) -> RemovableHandle:
    """Call ``hook(module, inputs, output)`` after the forward of *every* module."""
    return _add_hook(_GLOBAL_FORWARD_HOOKS, hook)
