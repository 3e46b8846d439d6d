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
``op(old value, other)`` and its old node moves to a hidden tensor; the graph tensors on the
same memory follow (a view's base, a tensor's views: :func:`as_view` notes them). This module knows tensors
only by these fields: :mod:`glassgrad.tensor` makes the tensors and calls it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .autograd import (
    INFERENCE_USED,
    STATE,
    TICKS,
    bump_version_and_rebase,
    current_tape,
    read_roles,
    rebase_tick,
)
from .ops import EXPAND, GETITEM, PERMUTE, RESHAPE, SETITEM
from .ops_index import AS_STRIDED, DIAGONAL, UNFOLD, diagonal_index
from .ops_pieces import PIECE, PIECES
from .saved_packing import PACKING
from .saved_tensors import pack_saved
from .tensor_hooks import HOOKS, move_hooks

FORWARD_MODE: list[Callable[[tuple], tuple | None]] = []
"""Non-empty while a dual level (:mod:`glassgrad.forward_ad`) holds dual tensors: its rule for an op's parents with
grad mode off, which gives the parents to record the op with when one of them carries a tangent (None: none does),
as PyTorch's forward mode carries tangents under ``no_grad``. Empty, an op pays one test for it."""

def records_tangent(*parts: Any) -> bool:
    """With grad mode off, whether an in-place change is recorded all the same: a dual level is open and the tensor
    changed or the value written carries a tangent (:data:`FORWARD_MODE`), which the change must carry on."""
    carriers = tuple(part for part in parts if getattr(part, "_requires_grad", False))
    return bool(carriers) and bool(FORWARD_MODE) and FORWARD_MODE[0](carriers) is not None


NODE_FIELDS = ("_requires_grad", "_op", "_parents", "_ctx", "_clock", "_before", "_private")
"""What a node is, field by field: an in-place change moves them all to the hidden tensor (:func:`rebase`)."""


def record(result: Any, op: Any, parents: tuple, saved: Any, args: tuple) -> Any:
    """``result`` of ``op`` on ``parents``: a node if recording and some parent requires grad (or, with grad mode
    off, some parent carries a forward-mode tangent: :data:`FORWARD_MODE`), else a leaf.

    The one place an op's result gets its node fields (every op and every re-base comes here;
    written out, not delegated, as it runs once per op). The tape, if one is active, sees the
    step (``args``: what the forward was called with).
    """
    grad_enabled, tape = STATE.switches  # per thread (as PyTorch's grad mode): one lookup
    needed = False
    recorded = parents
    if grad_enabled:
        for parent in parents:
            if parent._requires_grad:
                needed = True
                break
    elif FORWARD_MODE:  # a dual level is open: an op on a tangent's carrier is recorded under no_grad too
        carried = FORWARD_MODE[0](parents)
        if carried is not None:
            needed, recorded = True, carried
    if needed:
        result._requires_grad = True
        result._op = op
        result._parents = recorded
        result._ctx = saved
        result._clock = next(TICKS)
        if INFERENCE_USED:  # an inference tensor may be among the parents: the one test an op pays before that
            for parent in parents:
                if parent._inference:
                    refuse_saved_inference(op, parents, saved)
        if PACKING:  # some thread is inside saved_tensors_hooks: the one test an op pays for it
            result._ctx = pack_saved(saved, op, parents, result)
    else:
        result._requires_grad = False
        result._op = None
        result._parents = ()
        result._ctx = None
        if not grad_enabled and STATE.inference:  # made inside inference_mode(): PyTorch's inference tensor
            result._inference = True
    if tape is not None:
        tape.on_forward(op, parents, result, args)
    return result


def refuse_saved_inference(op: Any, parents: tuple, saved: Any) -> None:
    """PyTorch's refusal to save an inference tensor (made inside ``inference_mode()``) for ``op``'s backward:
    outside that mode, ``w * x`` with ``w`` requiring grad saves ``x`` for ``w``'s gradient (``w + x`` saves
    nothing and is allowed)."""
    roles = read_roles(op, parents, saved)
    for role, parent in enumerate(parents):
        if parent._inference and role in roles:
            raise RuntimeError(
                f"Inference tensors cannot be saved for backward: input {role} of '{op.name}' was made inside "
                "inference_mode(); use a copy made outside it, x.clone(), or make it under no_grad() instead")


def rebase(tensor: Any, op: Any, other: Any, saved: Any, private: int | None, args: tuple) -> None:
    """Make ``tensor`` stand for ``op(its old value, other)`` after an in-place change, as PyTorch does.

    Its previous node moves to a hidden tensor on the same memory; ops recorded before the
    change still lead there (:func:`glassgrad.autograd.reroute`). ``private``: the input
    whose old value the node copied for itself (``args[private]``; its version is not checked, and a
    differentiable backward reads the copy: :func:`glassgrad.gradient_walk.old_values`). The tensors
    sharing its memory in the graph follow (:func:`_follow`).
    """
    old = _hide_node(tensor, None if private is None else (private, args[private]))
    other = old if other is tensor else other  # y += y: both operands are y's old value
    record(tensor, op, (old, other), saved, args)  # recording is on here, and old or other requires grad
    _follow(tensor, None)


def hide_changed(changed: tuple, parents: tuple) -> tuple:
    """``parents`` of a custom Function's outputs, where each tensor in ``changed`` (its forward changed them in
    place: ``ctx.mark_dirty``) hands its node to a hidden tensor, which stands in its place as the parent.

    As :func:`rebase`, which counts one change more than the forward's own in-place op, as PyTorch counts a dirty
    tensor; after recording the outputs (a changed tensor is one of them), call :func:`follow_change` on each, for
    its base and views.
    """
    hidden = {id(tensor): _hide_node(tensor, None) for tensor in changed}
    return tuple(hidden.get(id(parent), parent) for parent in parents)


def follow_change(changed: Any) -> None:
    """Re-base the graph tensors on ``changed``'s memory after it changed in place and got its new node."""
    _follow(changed, None)


def _follow(changed: Any, source: Any) -> None:
    """After an in-place change of ``changed`` (made through ``source``, or directly: None), re-base every graph
    tensor on the same memory, as PyTorch does (its CopySlices, and views that read their base again).

    * its base, if it is a view: the base becomes ``setitem(old base, view)`` (a view by basic indexing), or
      the view's entries shaped back (``reshape``, ``permute``: a view of all of it): ``x.reshape(-1, n)[mask] =
      v`` changes x, and x's gradient knows it; the view itself is then read again from the new base (PyTorch's
      view of its CopySlices), so that what is computed from the view later sends its gradient through the base:
      ``base.retain_grad()`` and a hook on the base see it (before, it went straight to the view's own node, and
      ``base.grad`` missed it);
    * each of its live views: read again from the new tensor (``v = x[0]``, then ``x.mul_(2)``: v is
      ``getitem(new x)``).

    Each re-base moves the tensor's node to a hidden tensor, as :func:`rebase` does; the memory's change was
    counted once already (a view and its base share one version counter, as in PyTorch). An active tape is told
    first (:func:`_tell_follow`): a compiled step replays each such re-base as a kernel of its own.
    """
    base = getattr(changed, "_view_of", None)
    if base is not None and base is not source:
        _write_back(changed, base)
        _follow(base, changed)
        _read_again(changed, base)  # from its new base, once that base follows its own (PyTorch's CopySlices)
    for view in _live_views(changed):
        if view is not source:
            _read_again(view, changed)
            _follow(view, changed)


VIEW_WRITTEN = ("an in-place change of a view of a tensor in the graph (x.reshape(-1, n)[mask] = v) changes the tensor "
                "it views, which a replay does not follow; write it out of place (x = x.masked_fill(mask, v), or "
                "gg.where)")
VIEWS_READ_AGAIN = "an in-place change re-bases the views of the tensor"
"""Why a compiled step runs eagerly where it cannot follow such a re-base (a tape's ``on_follow``: the tensor re-based
is not one the step made with an op)."""


def _tell_follow(reason: str) -> None:
    """Tell an active tape that the next re-base follows a change made through shared memory (:func:`_follow`): its
    record is ``op.forward(*args)`` of the memory as it is now, run for what the row saves (a compiled step replays it
    as one kernel, or refuses with ``reason``)."""
    tape = current_tape()
    if tape is not None and hasattr(tape, "on_follow"):
        tape.on_follow(reason)


def _write_back(view: Any, base: Any) -> None:
    """``base`` stands for its old value with ``view``'s entries, which ``view``'s in-place change wrote."""
    op, args = view._view_how
    _tell_follow(VIEW_WRITTEN)
    old = _hide_node(base, None, counted=False)
    if op is GETITEM or op is DIAGONAL:  # the old value with the view's entries (written there already: setitem
        index = args[0] if op is GETITEM else diagonal_index(base.shape, *args)  # copies them onto themselves)
        row, parents, arguments = SETITEM, (old, view), (old.array, view.array, index)
    elif op is UNFOLD or op is AS_STRIDED:  # the same, at the places of the base its entries are
        row, parents, arguments = SETITEM, (old, view), (old.array, view.array, _strided_index(base.shape, op, args))
    elif op is PERMUTE:  # a view of all of the base: its order undone
        row, parents, arguments = op, (view,), (view.array, tuple(int(axis) for axis in np.argsort(args[0])))
    else:  # RESHAPE, an EXPAND that repeats no entry (:func:`_followable`): all of the base, shaped back
        row, parents, arguments = RESHAPE, (view,), (view.array, base.shape)
    _, saved = row.forward(*arguments)  # what the row's backward reads, as the row itself keeps it
    record(base, row, parents, saved, arguments)


def _strided_index(shape: tuple, op: Any, args: tuple) -> tuple:
    """The index (of arrays, one per dim, in the view's shape) of the entries of a base of ``shape`` that its strided
    view ``op(base, *args)`` (``unfold``, ``as_strided``) reads: the view of the base's entry numbers."""
    numbers = np.arange(int(np.prod(shape))).reshape(shape)
    return np.unravel_index(op.forward(numbers, *args)[0], shape)


def _repeats(index: tuple) -> bool:
    """Whether ``index`` (of :func:`_strided_index`) names an entry more than once (``unfold(0, 2, 1)``'s windows
    overlap): the base would take the written entry and its old copies at once, a gradient counted twice."""
    places = np.ravel_multi_index(index, tuple(int(np.max(part, initial=0)) + 1 for part in index)).reshape(-1)
    return np.unique(places).size < places.size


def _read_again(view: Any, base: Any) -> None:
    """``view`` stands for its op of ``base``'s new value (the same entries of the same memory). A piece of split,
    chunk or unbind is read again as the slice it is: the buffer its siblings share belongs to the old cut."""
    op, args = view._view_how
    if op is PIECE:
        op, args = GETITEM, ((*args[0], ...), False)
    _tell_follow(VIEWS_READ_AGAIN)
    _hide_node(view, None, counted=False)
    _, saved = op.forward(base.array, *args)
    record(view, op, (base,), saved, (base.array, *args))


def become(tensor: Any, make: Any) -> None:
    """Make ``tensor`` stand for ``make(its old value)`` (a new view of its memory: ``x.t_()``, ``x.unsqueeze_(0)``).

    As :func:`rebase`: the previous node moves to a hidden tensor, which ``make`` reads, and ``tensor`` takes
    the node and the array of what ``make`` returns.
    """
    result = make(_hide_node(tensor, None))
    for field in ("_requires_grad", "_op", "_parents", "_ctx", "_clock"):
        setattr(tensor, field, getattr(result, field))
    tensor.array = result.array


def cut(tensor: Any) -> None:
    """Make ``tensor`` a leaf that does not require grad (``x.detach_()``), as PyTorch: a node in the graph moves
    to a hidden tensor, so the ops recorded from it before still lead back through it
    (:func:`glassgrad.autograd.reroute`): ``z = y.exp(); y.detach_()`` leaves z's gradient as it was. Its value
    did not change, so its version stays."""
    if tensor._op is not None:
        _hide_node(tensor, None, counted=False)
    tensor._requires_grad, tensor._op, tensor._parents, tensor._ctx = False, None, (), None


def _hide_node(tensor: Any, private: tuple | None, counted: bool = True) -> Any:
    """Move ``tensor``'s node to a hidden tensor on the same memory, counting the change (unless another tensor on
    the same memory counted it: ``counted=False``); return the hidden one."""
    old = tensor._plain(tensor.array)
    for field in NODE_FIELDS:
        setattr(old, field, getattr(tensor, field, None))
    tick = bump_version_and_rebase(tensor.array) if counted else rebase_tick()
    tensor._before = (tick, old)
    tensor._private = private
    if HOOKS:
        move_hooks(tensor, old)
    tape = current_tape()
    if tape is not None:
        tape.on_rebase(tensor, old)
    return old


REWRITABLE = (GETITEM, RESHAPE, PERMUTE, EXPAND, DIAGONAL, UNFOLD, AS_STRIDED)
"""Views whose in-place change their base follows (:func:`_write_back`); others' (the pieces of split) are refused
in the graph, as PyTorch refuses them, and so are an expand's, an unfold's or an as_strided's that read an entry
twice."""
READ_AGAIN = (GETITEM, RESHAPE, PERMUTE, EXPAND, DIAGONAL, UNFOLD, AS_STRIDED, PIECES, PIECE)
"""Views read again from their base after its in-place change (:func:`_read_again`): ``op.forward(base, *args)``."""


PLAIN_CHAIN = 32
"""How deep a chain of plain views (a view of a view … of a plain tensor) is followed; past it, refused."""


def as_view(base: Any, view: Any, args: tuple = (), op: Any = None) -> Any:
    """Note that ``view`` (``op`` of ``base`` with ``args``; in the graph, ``view._op``) may share ``base``'s memory.

    Each knows the other: an in-place change of either re-bases the other (:func:`_follow`), in the graph and
    for plain tensors alike, which join the graph when a change brings a value that requires grad
    (``out = gg.zeros(3, 2); out[1] += w``: out and its views, as PyTorch's). A plain view is followed where it
    can be read again from ``base`` (``op`` in ``READ_AGAIN``) and ``base`` is followed itself (:func:`_followed`).
    Any other plain view (of a piece of split, its bytes as another dtype, past :data:`PLAIN_CHAIN` links, taken
    under ``no_grad``) is only noted on ``base``: a recorded change of either is refused, not followed with a
    gradient lost.

    ``view`` is an inference tensor where ``base`` is one, as in PyTorch: a view taken inside ``inference_mode()`` of
    a normal tensor is normal (it may be changed, and saved for backward, outside), one of an inference tensor is one.
    """
    if view._inference is not base._inference:
        view._inference = base._inference
    if view._requires_grad:
        if np.may_share_memory(view.array, base.array) or not view.array.size:  # reshape may copy; empty: a view
            view._view_of = base
            if base._op is not None:  # a leaf's in-place changes are refused in the graph: its views follow none
                _note_view(base, view, view._op, args)
    elif not base._requires_grad:
        if base._no_grad_view:  # a view of such a view is one too
            view._no_grad_view = base._no_grad_view
        array = base.array
        if STATE.switches[0] and op in READ_AGAIN and getattr(base, "_viewed", None) is not True and _followed(base):
            if view.array.base is (array if array.base is None else array.base) or np.may_share_memory(
                    view.array, array):  # reshape may copy
                view._view_of = base
                _note_view(base, view, op, args)
        else:  # (under no_grad, as inference: noted only, so that no view there costs a weak reference)
            base._viewed = True
    elif np.may_share_memory(view.array, base.array):  # of a tensor in the graph, taken under no_grad
        view._no_grad_view = "inference" if STATE.inference else "no_grad"
    return view


def _followed(plain: Any) -> bool:
    """Whether a plain tensor's views can be followed: it owns its memory, or it is a followed view of one, fewer
    than :data:`PLAIN_CHAIN` links down (``x = x[:]`` in a loop stops there instead of keeping every link)."""
    for _ in range(PLAIN_CHAIN):
        above = getattr(plain, "_view_of", None)
        if above is None:
            return plain.array.base is None
        plain = above
    return False


def _note_view(base: Any, view: Any, op: Any, args: tuple) -> None:
    """``view`` is ``op`` of ``base`` with ``args``, and ``base`` keeps a weak reference to it."""
    view._view_how = (op, args)
    views = getattr(base, "_viewed", None)
    if views is None:
        base._viewed = [weakref.ref(view)]
    else:
        if len(views) >= 16 and len(views) & (len(views) - 1) == 0:  # at 16, 32, 64 …: drop the dead
            views[:] = [ref for ref in views if ref() is not None]
        views.append(weakref.ref(view))


def _live_views(tensor: Any) -> list:
    """The views of ``tensor`` that are still alive (in the graph, or plain views of a plain tensor)."""
    views = getattr(tensor, "_viewed", None)
    if not isinstance(views, list):
        return []
    return [view for view in (ref() for ref in views) if view is not None]


def _followable(view: Any) -> bool:
    """Whether an in-place change of ``view`` can be followed by every graph tensor on its memory."""
    while getattr(view, "_view_of", None) is not None:
        op, args = view._view_how
        base = view._view_of
        if op not in REWRITABLE or (op is GETITEM and args[1]) or (
                op is EXPAND and view.array.size != base.array.size) or (  # an expand that repeats entries
                (op is UNFOLD or op is AS_STRIDED) and _repeats(_strided_index(base.shape, op, args))):
            return False
        view = base
    return _read_again_everywhere(view)


def _read_again_everywhere(tensor: Any) -> bool:
    """Whether every live view below ``tensor`` can be read again from its base."""
    if getattr(tensor, "_viewed", None) is True:
        return False
    return all(view._view_how[0] in READ_AGAIN and _read_again_everywhere(view) for view in _live_views(tensor))


def check_in_place(tensor: Any, name: str, new_shape: bool = False) -> None:
    """Refuse the in-place changes of a graph tensor that PyTorch refuses, or that glassgrad cannot record
    (``new_shape``: the change gives the tensor a new shape, ``x.t_()``, which its views cannot follow)."""
    if tensor._requires_grad and tensor._op is None:
        raise RuntimeError(
            f"a leaf Variable that requires grad is being used in an in-place operation ({name}). "
            + ("A dual tensor of forward AD is such a leaf in glassgrad: change a copy, d = d.clone(), or make the "
               "dual of the changed primal" if FORWARD_MODE else "Do parameter updates inside `with gg.no_grad():`")
        )
    base = getattr(tensor, "_view_of", None)
    if base is not None:
        while getattr(base, "_view_of", None) is not None:
            base = base._view_of
        if base._op is None and base._requires_grad:
            raise RuntimeError(
                f"a view of a leaf Variable that requires grad is being used in an in-place operation ({name}); "
                "change the leaf itself inside `with gg.no_grad():`"
            )
        if new_shape or not _followable(tensor):
            raise RuntimeError(
                f"in-place {name} on a view (from an expand, unfold or as_strided that reads an entry twice, or a "
                "piece of split, chunk or unbind) of a tensor in the graph is not supported: change the tensor "
                "itself (t[index] = value), "
                "or write it out of place (y = y * 2, gg.where(mask, value, y))"
            )
    views = getattr(tensor, "_viewed", None)
    if views is True or (views and _live_views(tensor) and (new_shape or not _read_again_everywhere(tensor))):
        raise RuntimeError(
            f"in-place {name} recorded in the graph, on a tensor that has a view (a piece of split, chunk or "
            "unbind taken outside the graph, a view taken under no_grad, or any view when the change reshapes the "
            "tensor) is not "
            "supported: make the change before taking the view, or write it out of place (y = y * 2)"
        )
    if base is None and not tensor._requires_grad and tensor.array.base is not None:
        raise RuntimeError(
            f"in-place {name} with a value that requires grad, on a tensor that shares memory with another "
            "(a view), is not supported: clone() it first"
        )
