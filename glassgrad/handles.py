"""Handles: what every ``register_*_hook`` returns, to take the hook away again.

Module hooks (:mod:`glassgrad.nn.hooks`) and tensor hooks (:mod:`glassgrad.tensor_hooks`) keep
their hooks in a dict, in the order they were added; a handle remembers its dict and its key.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable


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


def add_hook(hooks: dict, hook: Callable, prepend: bool = False,
             handle_of: Callable[[dict], RemovableHandle] = RemovableHandle) -> RemovableHandle:
    """Put ``hook`` at the end of ``hooks`` (they run in the order they were added), or with ``prepend=True`` at
    the start; its handle (made by ``handle_of(hooks)``) removes it."""
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    handle = handle_of(hooks)
    if prepend:
        later = dict(hooks)
        hooks.clear()
        hooks[handle.id] = hook
        hooks.update(later)
    else:
        hooks[handle.id] = hook
    return handle
