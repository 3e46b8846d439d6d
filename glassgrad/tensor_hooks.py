"""Tensor hooks: see, or replace, ∂L/∂t as ``backward`` computes it (PyTorch's ``register_hook``).

``t.register_hook(hook)`` calls ``hook(grad)`` once per backward pass with the whole gradient
∂L/∂t (every path's contribution summed), before anything uses it: the step that made ``t``
passes it on, and for a leaf it is what ``.grad`` adds. The hook returns None (it only looked)
or a new gradient of the same shape and dtype, which takes the old one's place:

>>> import glassgrad as gg
>>> x = gg.tensor([1.0, 2.0], requires_grad=True)
>>> handle = x.register_hook(lambda grad: grad * 10)
>>> (x * x).sum().backward(); x.grad.tolist()      # ∂L/∂x = 2x, then ×10
[20.0, 40.0]
>>> handle.remove()

Several hooks run in the order they were added, each on the one before's result (a module's backward hooks on
its output last: :class:`NodeHook`). A hook is
given its own copy of the gradient (the engine's array may be shared with another tensor's), so
changing it in place (``grad.mul_(2)``) changes this tensor's gradient only. (PyTorch hands the hook the buffer
itself, which an op may have passed to several tensors, ``a`` and ``b`` of ``a + b``: there the change can reach
the others' gradients too, or raise when the buffer is an expand.)
A hook registered before an in-place change of ``t`` sees the gradient of ``t``'s value before the
change (:func:`move_hooks`). ``t.register_post_accumulate_grad_hook(hook)`` (leaves only) calls
``hook(t)`` after ``.grad`` was added to, e.g. to update that parameter at once.

The hooks are kept here, by the tensor's id, and forgotten when the tensor is. While no tensor
has a hook, :data:`HOOKS` is empty and a backward pays one truth test per node for them.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .handles import RemovableHandle, add_hook

HOOKS: dict[int, dict[int, Callable]] = {}
"""id(tensor) → its gradient hooks, in the order they were added."""
POST_ACCUMULATE_HOOKS: dict[int, dict[int, Callable]] = {}
"""id(leaf) → its hooks called after ``.grad`` was added to."""


class NodeHook:
    """A gradient hook that runs after the tensor's own, those added later too, and after the gradient it retains
    is kept: a module's backward hook on the output of its call, which PyTorch runs as a hook of the output's node,
    after the tensor's hooks (``y = layer(x); y.register_hook(h)``: ``h``'s result is the layer's ``grad_output``,
    and ``y.grad`` after ``retain_grad()`` is that too, whatever the layer's pre-hook makes of it)."""

    __slots__ = ("hook",)

    def __init__(self, hook: Callable) -> None:
        self.hook = hook

    def __call__(self, grad: Any) -> Any:
        return self.hook(grad)


class _TensorHookHandle(RemovableHandle):
    """A tensor hook's handle: removing the tensor's last hook removes its entry from the table too, so that the
    table is empty again once no tensor has a hook. A tensor whose hooks were all removed left an empty entry:
    ``gg.compile(model)`` then refused every forward whose backward runs outside ("a tensor hook is registered"), and
    a replayed step's guard looked its tensors up at every call."""

    def __init__(self, hooks: dict, table: dict, key: int) -> None:
        super().__init__(hooks)
        self.table, self.key = table, key

    def remove(self) -> None:
        super().remove()
        if not self.hooks and self.table.get(self.key) is self.hooks:
            del self.table[self.key]


def register(tensor: Any, hook: Callable, table: dict) -> RemovableHandle:
    """Add ``hook`` to ``tensor``'s hooks in ``table`` (before its :class:`NodeHook` ones); they are forgotten when
    the tensor is, or when the last one is removed."""
    hooks = table.get(id(tensor))
    if hooks is None:
        hooks = table[id(tensor)] = {}
        weakref.finalize(tensor, _forget, table, id(tensor), hooks)
    handle = add_hook(hooks, hook, handle_of=functools.partial(_TensorHookHandle, table=table, key=id(tensor)))
    if not isinstance(hook, NodeHook):
        for key in [key for key, held in hooks.items() if isinstance(held, NodeHook)]:
            hooks[key] = hooks.pop(key)  # to the end, after the new one
    return handle


def _forget(table: dict, key: int, hooks: dict) -> None:
    """A tensor with hooks is gone: its entry goes, if it is still that tensor's (not one registered since under a
    reused id)."""
    if table.get(key) is hooks:
        del table[key]


def move_hooks(tensor: Any, old: Any) -> None:
    """An in-place change moved ``tensor``'s node to ``old`` (its value before the change): the gradient hooks
    registered so far go with it, as in PyTorch, and see ∂L/∂(that old value); ``retain_grad()`` and hooks
    registered after the change are the new value's."""
    hooks = HOOKS.pop(id(tensor), None)
    if hooks:
        HOOKS[id(old)] = hooks
        weakref.finalize(old, _forget, HOOKS, id(old), hooks)


def run_hooks(tensor: Any, grad: Any, tape: Any, node_hooks: bool = False) -> Any:
    """``grad`` (an array, or a Tensor when the gradient is recorded) after each of ``tensor``'s own hooks, or with
    ``node_hooks`` its :class:`NodeHook` ones (a module's), which a walk runs after keeping the gradient a tensor
    retains (``retain_grad()``, an input of ``autograd.grad``), as PyTorch runs its node's hooks after that.

    ``tape``: the active tape; a compiled step's recorder learns that a replay could not call them.
    """
    hooks = HOOKS.get(id(tensor))
    chosen = [hook for hook in hooks.values() if isinstance(hook, NodeHook) is node_hooks] if hooks else ()
    if not chosen:
        return grad
    _tell_tape(tape)
    for hook in chosen:
        grad = _run_hook(tensor, hook, grad)
    return grad


def run_call_hooks(outputs: list, grads: list, tape: Any) -> list:
    """:func:`run_hooks` (their own hooks, not :class:`NodeHook` ones) for the ``outputs`` of one call of a custom
    Function with several (:attr:`glassgrad.ops.Op.joint`), given their gradients ``grads``: every hook of theirs in
    the order it was registered, whichever output it is on, as PyTorch runs the hooks of the call's one node (a
    handle's id counts up: :class:`glassgrad.handles.RemovableHandle`). Each hook changes its own output's gradient."""
    order = sorted((key, position, hook) for position, output in enumerate(outputs)
                   for key, hook in (HOOKS.get(id(output)) or {}).items() if not isinstance(hook, NodeHook))
    if not order:
        return grads
    _tell_tape(tape)
    grads = list(grads)
    for _, position, hook in order:
        grads[position] = _run_hook(outputs[position], hook, grads[position])
    return grads


def _tell_tape(tape: Any) -> None:
    """A compiled step's recorder learns that a replay could not call the hooks that run now."""
    if tape is not None and hasattr(tape, "on_unreplayable"):
        tape.on_unreplayable("a tensor hook (register_hook) ran in the step: a replay would not call it")


def _run_hook(tensor: Any, hook: Callable, grad: Any) -> Any:
    """``grad`` (an array, or a Tensor when the gradient is recorded) after ``hook``, one of ``tensor``'s."""
    recorded = not isinstance(grad, np.ndarray)
    given = grad if recorded else tensor._plain(grad.copy())  # its own copy: the array may be shared
    result = hook(given)
    if result is not None and result is not given:
        return _checked(hook, result, grad, recorded)
    return grad if recorded else given.array  # changed in place, perhaps


def run_post_accumulate_hooks(leaves: Any, tape: Any) -> None:
    """Call each leaf's post-accumulate hooks with the leaf, once its ``.grad`` holds this pass's sum; a hook
    returns None (it changes ``leaf.grad`` itself), as PyTorch requires, or the leaf itself, which PyTorch's own
    example does (``lambda p: p.add_(p.grad, alpha=-lr)``: ``add_`` returns ``p``).

    ``tape``: the active tape; a compiled step's recorder (:mod:`glassgrad.compiler`) learns that a replay would not
    call them (it captured again at every call, never replaying, without a word; now it runs eagerly, saying why)."""
    for leaf in leaves:
        hooks = POST_ACCUMULATE_HOOKS.get(id(leaf))
        if hooks and tape is not None and hasattr(tape, "on_unreplayable"):
            tape.on_unreplayable("a post-accumulate-grad hook (register_post_accumulate_grad_hook) ran in the step: a "
                                 "replay would not call it")
        for hook in list(hooks.values()) if hooks else ():
            returned = hook(leaf)
            if returned is not None and returned is not leaf:
                name = getattr(hook, "__name__", type(hook).__name__)
                raise RuntimeError(f"post-accumulate-grad hook '{name}' returned a value; it must return None "
                                   "(change the leaf's .grad in place, or assign it)")


def _checked(hook: Callable, result: Any, grad: Any, recorded: bool) -> Any:
    """A hook's new gradient, as the engine holds it (an array, or the Tensor when recorded), once checked: a copy
    (recorded: a clone), since the tensor returned may be one the program holds (``lambda g: fixed``), which the
    ``.grad`` it may become must not share (zeroing that ``.grad`` would zero it), as PyTorch clones it."""
    name = getattr(hook, "__name__", type(hook).__name__)
    array = getattr(result, "array", None)
    if not isinstance(array, np.ndarray):
        raise TypeError(f"hook '{name}' returned {type(result).__name__}: return a Tensor of the gradient's shape, "
                        "or None to keep the gradient")
    old = grad.array if recorded else grad
    if array.shape != old.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value: the gradient has shape {old.shape} and "
                           f"the hook returned {array.shape}; return a tensor of the same shape")
    if array.dtype != old.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value: the gradient is {old.dtype} and the hook "
                           f"returned {array.dtype}; convert it back with .type_as(grad)")
    return result.clone() if recorded else array.copy()
