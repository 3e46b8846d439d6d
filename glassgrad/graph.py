"""Recording the graph: how an op's result becomes a node that ``backward`` can walk.

A node is a tensor plus four fields, given to an op's result here and nowhere else (:func:`record`;
a leaf's are empty, set by ``Tensor._init_leaf``):

* ``_op``: the row of :mod:`glassgrad.ops` that made it (``None`` for a leaf),
* ``_parents``: the tensors that went in,
* ``_ctx``: what the forward saved for the backward rule,
* ``_clock``: the clock's tick when it was made (see :mod:`glassgrad.autograd`): later nodes have
  later ticks, which ``backward`` walks in reverse,

and ``_requires_grad``, true for a node and for a leaf the user asked gradients of.

>>> import glassgrad as gg
>>> w = gg.tensor([1.0, 2.0], requires_grad=True)
>>> y = w * 3
>>> y.grad_fn.name, y._parents[0] is w
('mul', True)

:func:`record` makes an op's result a node when gradients are recorded and some input requires
grad (else a plain leaf), and shows the step to an active tape. :func:`rebase` records an
in-place change of a graph tensor (``h += b``) as PyTorch does: the tensor stands for
``op(old value, other)`` and its old node moves to a hidden tensor. This module knows tensors
only by these fields: :mod:`glassgrad.tensor` makes the tensors and calls it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .autograd import STATE, TICKS, bump_version_and_rebase, current_tape

NODE_FIELDS = ("_requires_grad", "_op", "_parents", "_ctx", "_clock", "_before", "_private")
"""What a node is, field by field: an in-place change moves them all to the hidden tensor (:func:`rebase`)."""


def record(result: Any, op: Any, parents: tuple, saved: Any, args: tuple) -> Any:
    """``result`` of ``op`` on ``parents``: a node if recording and some parent requires grad, else a leaf.

    The one place an op's result gets its node fields (every op and every re-base comes here;
    written out, not delegated, as it runs once per op). The tape, if one is active, sees the
    step (``args``: what the forward was called with).
    """
    grad_enabled, tape = STATE.switches  # per thread (as PyTorch's grad mode): one lookup
    needed = False
    if grad_enabled:
        for parent in parents:
            if parent._requires_grad:
                needed = True
                break
    if needed:
        result._requires_grad = True
        result._op = op
        result._parents = parents
        result._ctx = saved
        result._clock = next(TICKS)
    else:
        result._requires_grad = False
        result._op = None
        result._parents = ()
        result._ctx = None
    if tape is not None:
        tape.on_forward(op, parents, result, args)
    return result


def rebase(tensor: Any, op: Any, other: Any, saved: Any, private: int | None, args: tuple) -> None:
    """Make ``tensor`` stand for ``op(its old value, other)`` after an in-place change, as PyTorch does.

    Its previous node moves to a hidden tensor on the same memory; ops recorded before the
    change still lead there (:func:`glassgrad.autograd.reroute`). ``private``: the input
    whose old value the node copied for itself (its version is not checked).
    """
    old = _hide_node(tensor, private)
    record(tensor, op, (old, other), saved, args)  # recording is on here, and old or other requires grad


def become(tensor: Any, make: Any) -> None:
    """Make ``tensor`` stand for ``make(its old value)`` (a new view of its memory: ``x.t_()``, ``x.unsqueeze_(0)``).

    As :func:`rebase`: the previous node moves to a hidden tensor, which ``make`` reads, and ``tensor`` takes
    the node and the array of what ``make`` returns.
    """
    result = make(_hide_node(tensor, None))
    for field in ("_requires_grad", "_op", "_parents", "_ctx", "_clock"):
        setattr(tensor, field, getattr(result, field))
    tensor.array = result.array


def _hide_node(tensor: Any, private: int | None) -> Any:
    """Move ``tensor``'s node to a hidden tensor on the same memory, counting the change; return the hidden one."""
    old = tensor._plain(tensor.array)
    for field in NODE_FIELDS:
        setattr(old, field, getattr(tensor, field, None))
    tick = bump_version_and_rebase(tensor.array)
    tensor._before = (tick, old)
    tensor._private = private
    tape = current_tape()
    if tape is not None:
        tape.on_rebase(tensor, old)
    return old


def as_view(base: Any, view: Any) -> Any:
    """Note that ``view`` may share ``base``'s memory.

    A recorded in-place change of either is then refused: PyTorch would rewrite the other's
    node too (CopySlices), glassgrad does not, so the gradient would be wrong. That covers a
    view of a plain tensor that later joins the graph (``v = x[0]; x += w``).
    """
    if view._requires_grad:
        if np.may_share_memory(view.array, base.array):  # reshape may copy instead
            view._view_of = base
            base._viewed = True
    elif not base._requires_grad:
        base._viewed = True
    return view


def check_in_place(tensor: Any, name: str) -> None:
    """Refuse the in-place changes of a graph tensor that PyTorch refuses, or that glassgrad cannot record."""
    if tensor._requires_grad and tensor._op is None:
        raise RuntimeError(
            f"a leaf Variable that requires grad is being used in an in-place operation ({name}). "
            "Do parameter updates inside `with gg.no_grad():`"
        )
    base = getattr(tensor, "_view_of", None)
    if base is not None:
        while getattr(base, "_view_of", None) is not None:
            base = base._view_of
        if base._op is None:
            raise RuntimeError(
                f"a view of a leaf Variable that requires grad is being used in an in-place operation ({name}); "
                "change the leaf itself inside `with gg.no_grad():`"
            )
        raise RuntimeError(
            f"in-place {name} on a view (from reshape, transpose, expand or indexing) of a tensor in the "
            "graph is not supported: change the tensor itself (t[index] = value), or write it out of place "
            "(y = y * 2, gg.where(mask, value, y))"
        )
    if getattr(tensor, "_viewed", False):
        raise RuntimeError(
            f"in-place {name} recorded in the graph, on a tensor that has a view (from reshape, transpose, expand "
            "or indexing), is not supported: make the change before taking the view, or write it out of place "
            "(y = y * 2)"
        )
    if not tensor._requires_grad and tensor.array.base is not None:
        raise RuntimeError(
            f"in-place {name} with a value that requires grad, on a tensor that shares memory with another "
            "(a view), is not supported: clone() it first"
        )
