"""Recording the graph: how an op's result becomes a node that ``backward`` can walk.

A node is a tensor plus four fields, set here and nowhere else (:func:`set_node`):

* ``_op``: the row of :mod:`glassgrad.ops` that made it (``None`` for a leaf),
* ``_parents``: the tensors that went in,
* ``_ctx``: what the forward saved for the backward rule,
* ``_clock``: the in-place clock's tick when it was made (see :mod:`glassgrad.autograd`),

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

from .autograd import CLOCK, NOW, STATE, bump_version_and_rebase


def set_node(tensor: Any, requires_grad: bool, op: Any = None, parents: tuple = (), saved: Any = None,
             clock: int = 0) -> None:
    """Make ``tensor`` the node of ``op`` (inputs ``parents``, saved values ``saved``), or a leaf (no ``op``)."""
    tensor._requires_grad = requires_grad
    tensor._op = op
    tensor._parents = parents
    tensor._ctx = saved
    if op is not None:
        tensor._clock = clock


def record(result: Any, op: Any, parents: tuple, saved: Any, args: tuple) -> Any:
    """``result`` of ``op`` on ``parents``: a node if recording and some parent requires grad, else a leaf.

    The tape, if one is active, sees the step (``args``: what the forward was called with).
    """
    state = STATE  # per thread (as PyTorch's grad mode): read each switch once
    if state.grad_enabled:
        for parent in parents:
            if parent._requires_grad:
                set_node(result, True, op, parents, saved, CLOCK[NOW])
                break
        else:
            set_node(result, False)
    else:
        set_node(result, False)
    tape = state.tape
    if tape is not None:
        tape.on_forward(op, parents, result, args)
    return result


def rebase(tensor: Any, op: Any, other: Any, saved: Any, private: int | None, args: tuple) -> None:
    """Make ``tensor`` stand for ``op(its old value, other)`` after an in-place change, as PyTorch does.

    Its previous node moves to a hidden tensor on the same memory; ops recorded before the
    change still lead there (:func:`glassgrad.autograd.reroute`). ``private``: the input
    whose old value the node copied for itself (its version is not checked).
    """
    old = tensor._plain(tensor.data)
    set_node(old, tensor._requires_grad, tensor._op, tensor._parents, tensor._ctx, getattr(tensor, "_clock", 0))
    old._before = getattr(tensor, "_before", None)
    old._private = getattr(tensor, "_private", None)
    tick = bump_version_and_rebase(tensor.data)
    set_node(tensor, True, op, (old, other), saved, tick)
    tensor._before = (tick, old)
    tensor._private = private
    tape = STATE.tape
    if tape is not None:
        tape.on_rebase(tensor, old)
        tape.on_forward(op, (old, other), tensor, args)


def as_view(base: Any, view: Any) -> Any:
    """Note that ``view`` may share ``base``'s memory.

    A recorded in-place change of either is then refused: PyTorch would rewrite the other's
    node too (CopySlices), glassgrad does not, so the gradient would be wrong. That covers a
    view of a plain tensor that later joins the graph (``v = x[0]; x += w``).
    """
    if view._requires_grad:
        if np.may_share_memory(view.data, base.data):  # reshape may copy instead
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
    if not tensor._requires_grad and tensor.data.base is not None:
        raise RuntimeError(
            f"in-place {name} with a value that requires grad, on a tensor that shares memory with another "
            "(a view), is not supported: clone() it first"
        )
