"""Capture: one eager call of a step, watched kernel by kernel.

The :class:`Recorder` sits where a trace's tape sits (:data:`glassgrad.autograd.STATE`), so the
engine shows it every step it takes and pays nothing when no recorder is active. It writes down
each *kernel* — one NumPy-level call — with where its arguments come from:

* ``forward``: a row's forward, ``op.forward(*args) → (out, saved)``;
* ``backward``: a row's vector-Jacobian product, ``op.backward(∂L/∂out, saved)``, in the order
  ``backward()`` visits the nodes;
* ``fit``: a contribution summed back over broadcast axes (and cast) to its input's shape;
* ``add``: two contributions that meet at one tensor, ``∂L/∂t = c₁ + c₂``;
* ``store``: the gradients added to the leaves' ``.grad`` (the engine's own function);
* ``call``: a whole library call run as one kernel (an optimizer's ``step``, ``zero_grad``, clipping,
  a dropout mask's draw, a running statistic);
* ``kernel``: an in-place change made outside the graph (``p -= lr * p.grad``).

An argument is a *slot* (an input of the step, or a value an earlier kernel made), an *external*
array (met for the first time: a parameter, a buffer, or a constant; :mod:`glassgrad.compiler.program`
tells them apart by comparing two captures) or a plain Python value. Whatever cannot be replayed
is noted as the capture's *refusal* (or raised at once with ``fullgraph=True``); the eager call
goes on either way.
"""

from __future__ import annotations

import dataclasses
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..anomaly import MODE as ANOMALY
from ..autograd import FREED, STATE, _memory_owner, _run_backward, reroute, run_backward, watched_by
from ..dtypes import _default
from ..nn.hooks import is_replayed_hook
from ..ops import SETITEM, TANGENTS
from ..saved_packing import Packed
from ..settings import _settings
from ..tensor import Tensor, private_copy
from ..tensor_hooks import HOOKS, POST_ACCUMULATE_HOOKS

ASSIGN_GRAD = Tensor._assign_grad
"""``p.grad = …`` as a kernel: the one call that sets a ``.grad`` (other than a store)."""

_RUN_BACKWARD = _run_backward.__code__
"""The walk of a plain ``backward()`` (:func:`glassgrad.autograd.run_backward` runs it in the pass's grad mode): the
caller a replayable step's ``on_backward`` comes from."""

MOST_OUTPUTS = 3
"""The most tensors in the graph a forward whose backward runs outside may return and be replayed: it is walked
once for each set of them that may get a gradient (7 walks for 3)."""

REBASE_REFUSAL = ("an in-place change of a tensor in the graph that changes what it is (y.detach_()) or computes "
                  "from another array than the tensor's own memory (an operand of another dtype) re-bases it in a "
                  "way a replay does not follow; write it out of place (h = h * w)")

COMPUTED_REFUSAL = ("{reader} reads an array worked out in Python from the tensors' values, outside the kernels a "
                    "replay repeats (a median's or mode's pick, nonzero, unique, a cumulative maximum's positions, a "
                    "NumPy view of a value the step made), which a replay would keep as it was on the capture")
"""Why a step runs eagerly when a kernel (named ``reader``) reads such an array."""

def written_into(forward: Any) -> Any:
    """``forward(a, b)`` with its result written into ``target``'s memory: ``a`` is the target itself (``h += b`` on a
    tensor of the graph), or the old target's copy (``h *= w``, whose rule reads the old h back), as
    :func:`glassgrad.tensor._record_in_place` computes it. One kernel, the same function for a row on every capture
    (two captures compare their kernels by identity)."""
    writer = _WRITTEN_INTO.get(forward)
    if writer is None:
        def writer(target: np.ndarray, a: np.ndarray, b: Any) -> tuple:
            out, saved = forward(a, b)
            np.copyto(target, out, casting="same_kind")
            return target, saved

        writer = _WRITTEN_INTO[forward] = writer
    return writer


_WRITTEN_INTO: dict = {}
"""Each row's forward → its :func:`written_into` kernel, made once."""


def followed(forward: Any) -> Any:
    """``forward(*args)`` of a tensor re-based to follow an in-place change made through memory it shares
    (:func:`glassgrad.graph._follow`: a view's base after the view was written, ``setitem(old base, view)`` or the
    view shaped back; a base's views, read again), as the engine runs it: the new values are in the tensor's memory
    (``target``) already, and the row runs for what it saves for the backward. One kernel, the same function for a
    row on every capture."""
    follower = _FOLLOWED.get(forward)
    if follower is None:
        def follower(target: np.ndarray, *args: Any) -> tuple:
            return target, forward(*args)[1]

        follower = _FOLLOWED[forward] = follower
    return follower


_FOLLOWED: dict = {}
"""Each row's forward → its :func:`followed` kernel, made once."""


ZERO_GRADS = {("glassgrad.optim.optimizer", "Optimizer.zero_grad"), ("glassgrad.nn.module", "Module.zero_grad")}
"""The ``zero_grad`` methods a step calls as one kernel (an optimizer's, a module's), by name: they import the
compiler."""


class CompileRefused(RuntimeError):
    """``gg.compile(fn, fullgraph=True)`` met something it cannot replay."""


@dataclass
class Kernel:
    """One recorded call: what runs, from which slots, into which slots, and where it belongs.

    ``extra`` depends on the kind: ``forward``, whether the result is 0-d (NumPy hands back a
    scalar, made an array again); ``backward``, how many inputs the row returns gradients for;
    ``fit``, ``(shape, dtype, summed over broadcast axes?, cast?)``; ``store``, the leaves;
    ``call``, whether the result is a tuple of arrays, each in its own slot (or :data:`SCALAR`: a NumPy number).
    ``shown``, a call's name as :func:`_called` gives it (``gather's _refuse_index_outside``), for ``explain()``.
    """

    kind: str
    function: Any
    args: tuple
    outputs: tuple
    phase: str
    layer: Any = None
    op: Any = None
    sizes: tuple = ()
    extra: Any = None
    shown: str = ""


SCALAR = "a NumPy number, as a 0-d array"
"""A library call's :attr:`Kernel.extra` where it gave a NumPy number: the replay makes it a 0-d array, as the capture
did."""

HOOK_TABLES = ("_forward_pre_hooks", "_forward_hooks", "_backward_hooks", "_backward_pre_hooks")
"""A layer's hooks. A replay runs none, so each table empty at capture must still be empty (a forward hook there
refuses the capture; a backward hook there matters only where a backward runs, which refuses it too); a layer's
forward pre-hooks of glassgrad's own (``spectral_norm``'s, a pruning method's: :func:`~glassgrad.nn.hooks.
replayed_hook`), whose work is kernels, must still be the very same hooks, in order, their settings guarded as a
layer's are."""

MEMBER_TABLES = ("_parameters", "_buffers", "_modules")
"""A layer's tables of what it holds: each entry, and how many, is guarded (a replay runs no ``forward`` to see a
layer appended to a ``ModuleList``)."""


@dataclass
class Capture:
    """What one eager call did, kernel by kernel (see :class:`Recorder`)."""

    kernels: list
    inputs: int
    slots: int
    externals: list
    snapshots: list
    result: Any
    guards: list
    modules: list
    refusal: str | None
    fresh_grads: list = field(default_factory=list)  # (leaf, slot, store's kernel): .grad held that slot's array
    keep: list = field(default_factory=list, repr=False)  # every recorded object, alive until compared
    members: list = field(default_factory=list)  # (layer, "_parameters"/"_buffers"/"_modules", name, what it held)
    called: list = field(default_factory=list)  # (layer the step called, its empty hook tables, its pre-hooks)
    new_leaves: set = field(default_factory=set)  # the stores into a leaf made in the step (x.clone().requires_grad_())
    outside: list = field(default_factory=list)  # a forward whose backward runs outside: its walks (OutsideWalk)
    settings: list = field(default_factory=list)  # (layer, its settings' names, their values): p, momentum, eps…
    reads: list = field(default_factory=list)  # the names read from outside (names.Read): lr, a global tensor…
    stepped: list = field(default_factory=list)  # optimizers stepped with no code of the user's, whose groups it reads


@dataclass
class OutsideWalk:
    """One walk of the graph a forward returns, whose ``backward()`` runs outside it (:meth:`Recorder.walk_outside`),
    from the outputs it seeds with ∂L/∂out = 1."""

    seeded: tuple  # for each output in the graph, whether this walk gives it a ∂L/∂out
    upstreams: tuple  # the slot of each seeded output's ∂L/∂out
    start: int  # the first of its kernels
    end: int = 0  # ... and the one after its last
    parts: list = field(default_factory=list)  # (leaf, slot, argument or None): each part of a leaf's gradient


class _Walk:
    """One ``backward()``: the slot that holds each tensor's summed upstream gradient so far."""

    def __init__(self) -> None:
        self.pending: dict[int, int] = {}  # id(non-leaf tensor) -> slot of ∂L/∂tensor so far
        self.stored: dict[Tensor, int] = {}  # leaf -> slot of ∂L/∂leaf so far (in first-contribution order)


def _size(value: Any) -> tuple:
    return (value.shape, value.dtype) if isinstance(value, np.ndarray) else ()


class Recorder:
    """Watches one eager call of a compiled function (installed as the tape; see the module docstring)."""

    labels: tuple = ()  # the tape's interface, for layers that name tensors in a trace

    def __init__(self, fullgraph: bool) -> None:
        self.fullgraph = fullgraph
        self.kernels: list[Kernel] = []
        self.slot_of: dict[int, int] = {}
        self.slots = 0
        self.keep: list = []
        self.externals: list = []
        self.snapshots: list = []
        self.external_of: dict[int, int] = {}
        self.refusal: str | None = None
        self.saved_of: dict[int, int] = {}  # id(node) -> slot of what its forward saved
        self.layer_of: dict[int, Any] = {}  # id(node) -> the layer that made it
        self.walk: _Walk | None = None
        self.walks = 0
        self.returning = False  # inside gg.autograd.grad's walk: its gradients are returned, not stored
        self.layers: list = []
        self.modules: dict[int, Any] = {}
        self.called: dict[int, Any] = {}  # the layers called inside the step: a hook added later must end replays
        self.leaves: dict[int, Tensor] = {}
        self.constants: dict[int, Tensor] = {}  # tensors from outside read as constants: c.data = … must be seen
        self.input_tensors: dict[int, int] = {}  # id(tensor argument) -> its place among them
        self.inputs = 0
        self.fresh_grads: list = []
        self.rebasing: Tensor | None = None  # a tensor changed in place, until its new node is recorded
        self.following: str | None = None  # the next re-base follows a change through shared memory: why, if refused
        self.follows = False  # the re-base under way (self.rebasing) is such a follow
        self.cleared: set[int] = set()  # id(leaf) whose .grad a kernel of the step set (None, or p.grad = g) and
        # nothing since: its .grad at the call's start is not read
        self.new_leaves: set[int] = set()  # the store kernels into a leaf the step made
        self.outside: list[OutsideWalk] = []  # the walks of a forward whose backward runs outside (walk_outside)
        self.computed: dict[int, np.ndarray] = {}  # arrays worked out from tensor values outside any kernel
        self.switches = _switches()  # as the step starts: one it leaves flipped must be flipped at every call
        self.rescheduled: dict[int, Any] = {}  # what a scheduler's step() inside the step writes its rates into
        self.stepped: dict[int, Any] = {}  # optimizers whose step() ran none of the user's code (no step hook)

    # --- the tape's interface, for layers that label tensors --------------------------------

    def key(self, tensor: Any) -> int:
        return id(tensor)

    def name(self, tensor: Any, symbol: str) -> None:
        """Labels are the trace's business: nothing to record."""

    # --- bookkeeping --------------------------------------------------------------------------

    def refuse(self, reason: str) -> None:
        """Note why this call cannot be replayed (raise at once with ``fullgraph=True``)."""
        if self.fullgraph:
            raise CompileRefused(f"gg.compile(fullgraph=True): {reason}")
        if self.refusal is None:
            self.refusal = reason

    def new_slot(self, value: Any = None) -> int:
        slot = self.slots
        self.slots += 1
        if value is not None:
            self.keep.append(value)
            self.slot_of.setdefault(id(value), slot)
        return slot

    def bind_inputs(self, tensors: list) -> None:
        for place, tensor in enumerate(tensors):
            self.new_slot(tensor.array)
            self.input_tensors.setdefault(id(tensor), place)
        self.inputs = self.slots

    def encode(self, value: Any, reader: str) -> tuple:
        """Where an argument of the kernel ``reader`` comes from: ("slot", i), ("ext", j), ("seq", type, parts) or
        ("py", value)."""
        kind = type(value)
        if kind is np.ndarray:
            slot = self.slot_of.get(id(value))
            if slot is not None:
                return ("slot", slot)
            number = self.external_of.get(id(value))
            if number is None:
                # worked out in Python from the values, or a view of a value made here: no constant
                if id(value) in self.computed or id(_memory_owner(value)) in self.slot_of:
                    self.refuse(COMPUTED_REFUSAL.format(reader=reader))
                number = self.external_of[id(value)] = len(self.externals)
                self.externals.append(value)
                self.snapshots.append(value.copy())
            return ("ext", number)
        if kind is tuple or kind is list:
            parts = tuple(self.encode(part, reader) for part in value)
            if any(part[0] != "py" for part in parts):
                return ("seq", kind, parts)
        if isinstance(value, Tensor):
            self.keep.append(value)
        return ("py", value)

    def emit(self, kind: str, function: Any, args: tuple, outputs: tuple, layer: Any = None, **details: Any) -> None:
        """Append a kernel; it belongs to ``layer`` (default: the layer running now) and to the current pass."""
        if self.rebasing is not None:  # a re-base that no new node followed (y.detach_())
            self.rebasing = None
            self.refuse(REBASE_REFUSAL)
        phase = "backward" if kind in ("backward", "fit", "add", "store") else "update" if self.walks else "forward"
        if layer is None and self.layers:
            layer = self.layers[-1]
        self.kernels.append(Kernel(kind, function, args, outputs, phase, layer, **details))

    # --- what the engine reports -------------------------------------------------------------

    def on_forward(self, op: Any, parents: tuple, result: Any, args: tuple) -> None:
        if self.refusal is not None:
            return
        function, follow = op.forward, self.rebasing is not None and self.follows
        if follow:  # its memory holds its new values, written through another tensor: the row runs for its saved
            rebased, self.rebasing, self.follows = self.rebasing, None, False
            if result is not rebased:
                self.refuse(REBASE_REFUSAL)
                return
            function, args = followed(op.forward), (result.array, *args)
        elif self.rebasing is not None:  # the new node of a tensor just re-based: a write into its memory?
            rebased, self.rebasing = self.rebasing, None
            private = self._private_copy_of(result.array, args[0])
            if result is not rebased or not (op is SETITEM or args[0] is result.array or private):
                self.refuse(REBASE_REFUSAL)  # not a write (y.detach_()), or computed from other arrays (a cast)
                return
            if op is SETITEM:  # setitem(its memory, value, index) wrote it in place
                args = (result.array, parents[1].array, *args)
            else:  # h += b, h *= w: op(h or the old h's copy, b) computed, then written into h's memory
                function, args = written_into(op.forward), (result.array, *args)
        if op.kind == "custom":
            self.refuse(f"the custom autograd.Function '{op.name}' runs Python a replay cannot see")
            return
        encoded = tuple(self.encode(arg, f"'{op.name}'") for arg in args)
        if follow:  # a view by basic indexing or of all of the memory: no mask (a copy, which no change follows)
            pass
        elif op is SETITEM:  # x[mask] = v of one value is a fill, whatever the count: only v's entries must fit it
            if _has_mask(args[2:]) and np.ndim(args[1]):
                self.refuse("x[mask] = v with a boolean mask and several values takes as many as the mask holds True, "
                            "a count a replay would take as it was; write gg.where(mask, v, x)")
                return
        elif op.kind == "shape" and _has_mask(args[len(parents):]):  # its index, after the arrays it moves (bool
            # ones too: x, scatter's src in mask.scatter(1, order, mask), each of cat's [cls_mask, mask])
            self.refuse(f"'{op.name}' with a boolean mask: the output's shape depends on the values; keep the shape "
                        "with gg.where(mask, x, 0) or x * mask")
            return
        if type(result._ctx) is Packed:
            self.refuse("saved_tensors_hooks packs the values ops save for backward: Python a replay would not run")
            return
        out = self.new_slot(result.array)
        saved = None
        if result._op is not None:
            saved = self.new_slot(result._ctx)
            self.saved_of[id(result)] = saved
            self.layer_of[id(result)] = self.layers[-1] if self.layers else None
            self.keep.append(result)
        for parent in parents:
            if parent._op is None and parent._requires_grad:
                self.leaves[id(parent)] = parent
            elif parent._op is None and id(parent.array) in self.external_of:  # a global tensor, c.data = … later
                self.constants[id(parent)] = parent
        self.emit("forward", function, encoded, (out, saved), op=op, sizes=(_size(result.array),),
                  extra=result.array.ndim == 0)

    def _private_copy_of(self, array: np.ndarray, operand: Any) -> bool:
        """Whether ``operand`` is the copy of ``array`` the last kernel made (:func:`glassgrad.tensor.private_copy`:
        ``h *= w`` computes from the old h's copy, which its rule reads back)."""
        last = self.kernels[-1] if self.kernels else None
        return (last is not None and last.function is private_copy and type(operand) is np.ndarray
                and self.slot_of.get(id(operand)) == last.outputs[0]
                and last.args[0] == ("slot", self.slot_of.get(id(array))))

    def on_rebase(self, tensor: Any, previous: Any) -> None:
        """``tensor`` changed in place: its node moves to ``previous``, and its new node comes next (``on_forward``),
        which a replay follows when it is a write into the tensor's memory (``x.copy_(v)``, ``x[i] = v``, an
        ``inplace=True`` activation, ``x.relu_()``): the write is then a kernel of the program, into the array the
        step made there, and the ops recorded before the change lead to ``previous`` (as the engine reroutes them)."""
        following, self.following = self.following, None
        if self.refusal is not None:
            return
        slot = self.slot_of.get(id(tensor.array))
        if slot is None or slot < self.inputs:  # its node (and requires_grad) would outlive the call: not replayed
            self.refuse(following or (  # (a write through a view of it: the view's refusal)
                "an in-place change of a tensor in the graph that the step did not make with an op (an argument, a "
                "buffer, a gg.tensor(…) constant) makes that tensor a node of the step's graph, which a replay does "
                "not; clone() it in the step first, or build it out of place (gg.stack, gg.cat)"))
            return
        saved = self.saved_of.pop(id(tensor), None)
        if saved is not None:
            self.saved_of[id(previous)] = saved
            self.layer_of[id(previous)] = self.layer_of.pop(id(tensor))
        self.keep.append(previous)
        self.rebasing, self.follows = tensor, following is not None

    def on_follow(self, reason: str) -> None:
        """The next re-base (``on_rebase``) follows an in-place change made through memory the tensor shares with
        another (:func:`glassgrad.graph._follow`); its new node comes as ``op.forward(*args)`` of that memory, which a
        replay runs as a :func:`followed` kernel. Refused, for ``reason``, where the tensor is not one the step
        made with an op."""
        self.following = reason

    def on_backward(self, node: Any, upstream: np.ndarray, contributions: tuple) -> None:
        if self.refusal is not None:
            return
        if not self.returning and sys._getframe(1).f_code is not _RUN_BACKWARD:
            self.refuse("backward(inputs=…) or backward(create_graph=True) inside the step (or gg.autograd.backward of "
                        "several tensors at once: back-propagate their sum, (l1 + l2).backward())")
            return
        if self.returning and node._op.joint:
            self.refuse("gg.autograd.grad through a call with several outputs in the graph inside the step")
            return
        saved = self.saved_of.get(id(node))
        if saved is None:
            self.refuse("backward() reaches ops made before the compiled step began")
            return
        if node._retains_grad:
            self.refuse("retain_grad() inside the step")
            return
        walk = self.walk
        if walk is None:  # the root: its upstream is backward()'s seed (1, or the gradient given)
            walk = self.walk = _Walk()
            upstream_arg = self.encode(upstream, "backward()")
        else:
            slot = walk.pending.pop(id(node))  # the sum the engine made after the recorder last saw it
            self.slot_of.setdefault(id(upstream), slot)
            self.keep.append(upstream)
            upstream_arg = ("slot", slot)
        picks, routes = [], []
        for position, (parent, contribution) in enumerate(zip(node._parents, contributions)):
            if contribution is None or not parent._requires_grad:
                continue
            slot = self.new_slot(contribution)
            picks.append((position, slot))
            like = parent.array
            if contribution.shape != like.shape or contribution.dtype is not like.dtype:
                fit = (like.shape, like.dtype, contribution.shape != like.shape, contribution.dtype != like.dtype)
                routes.append((fit, slot, parent))
            else:
                routes.append((None, slot, parent))
        layer = self.layer_of[id(node)]
        self.emit("backward", node._op.backward, (upstream_arg, ("slot", saved)), tuple(picks), layer, op=node._op,
                  sizes=tuple(_size(c) for c in contributions if c is not None), extra=len(contributions))
        for fit, slot, parent in routes:
            if fit is not None:  # (shape, dtype, summed over broadcast axes?, cast?)
                fitted = self.new_slot()
                self.emit("fit", None, (("slot", slot),), (fitted,), layer, extra=fit, sizes=(fit[:2],),
                          op=node._op)
                slot = fitted
            self._route(walk, parent, slot)

    def _route(self, walk: _Walk, parent: Any, slot: int) -> None:
        """Give ``slot`` (a contribution) to ``parent``: summed with what it already has, as ``backward`` does."""
        if parent._op is None:
            if self.outside:  # the walk of a forward whose backward runs outside: each part, in order,
                self.outside[-1].parts.append((parent, slot, self._argument_of(parent)))  # and which argument
            held = walk.stored.get(parent)
            if held is None:
                walk.stored[parent] = slot
                return
            total = self.new_slot()
            self.emit("add", None, (("slot", held), ("slot", slot)), (total,), extra=self._leaf_mark(parent))
            walk.stored[parent] = total
            return
        held = walk.pending.get(id(parent))
        if held is None:
            walk.pending[id(parent)] = slot
            self.keep.append(parent)
            return
        total = self.new_slot()
        self.emit("add", None, (("slot", held), ("slot", slot)), (total,))
        walk.pending[id(parent)] = total

    def on_grads_stored(self, leaves: tuple) -> None:
        walk, self.walk = self.walk, None
        self.walks += 1
        if self.refusal is not None:
            return
        if walk is None:
            self.refuse("backward() of a tensor made by no op (a leaf) inside the step")
            return
        if tuple(walk.stored) != leaves or walk.pending:
            self.refuse("the gradients reached other tensors than the recorder followed")
            return
        if not self.outside and any(id(leaf) in self.input_tensors for leaf in leaves):
            self.refuse("an argument of the step requires grad (its .grad is written): close over it instead")
            return
        outputs = tuple(self.new_slot(leaf._grad.array) for leaf in leaves)
        for leaf, slot in zip(leaves, outputs):
            if not self.outside and id(leaf) not in self.cleared and self.slot_of[id(leaf._grad.array)] != slot:
                # .grad was None, so it holds the contribution itself and later reads use that slot: true on a
                # replay only if .grad is None when it starts, unless a kernel of the step set it to None before
                # this store (zero_grad(), p.grad = None): then it is None here on every call
                self.fresh_grads.append((leaf, self.slot_of[id(leaf._grad.array)], len(self.kernels)))
        self.cleared.difference_update(id(leaf) for leaf in leaves)
        if any(id(leaf.array) in self.slot_of for leaf in leaves):  # a new tensor each call: the captures differ
            self.new_leaves.add(len(self.kernels))
        marks = tuple(self._leaf_mark(leaf) for leaf in leaves) if self.outside else leaves
        self.emit("store", None, tuple(("slot", walk.stored[leaf]) for leaf in leaves), outputs, extra=marks,
                  sizes=tuple(_size(leaf._grad.array) for leaf in leaves))
        self.keep.extend(leaves)

    def on_grad_start(self, outputs: tuple, create_graph: bool) -> None:
        """``gg.autograd.grad`` is about to walk back from ``outputs``: its walk is followed as ``backward()``'s is
        (:meth:`on_backward`), and :meth:`on_grad_end` gives its gradients slots where ``backward()`` would store
        them. ``create_graph=True`` (the gradient's own ops are recorded out of the recorder's sight) and several
        outputs at once are refused."""
        if self.refusal is not None:
            return
        if create_graph and TANGENTS:  # the first pass of the double-backward trick
            self.refuse("forward mode inside the step (func.jvp, jacfwd, a dual level's unpack_dual) takes its "
                        "tangents by differentiating a gradient (create_graph=True), whose own ops are not captured")
        elif create_graph:
            self.refuse("gg.autograd.grad(…, create_graph=True) inside the step (a gradient penalty, a second "
                        "derivative): the gradient's own ops are not captured")
        elif len(outputs) != 1:
            self.refuse("gg.autograd.grad of several outputs at once inside the step; sum them first")
        else:
            self.returning = True

    def on_grad_end(self, inputs: tuple, found: list) -> None:
        """``gg.autograd.grad``'s walk is over: each gradient it found (an array, None where no path leads) is the
        value of the slot its walk summed it in (a leaf's, as ``backward()`` would have stored it; a tensor made by
        an op, its upstream), so the kernels that read the returned tensors read those slots."""
        walk, self.walk, self.returning = self.walk, None, False
        self.walks += 1
        if self.refusal is not None:
            return
        if walk is None:  # no path from the output to any input (all None), or the output is a leaf
            if any(value is not None for value in found):
                self.refuse("gg.autograd.grad of a tensor made by no op (a leaf) inside the step")
            return
        for tensor, value in zip(inputs, found):
            if value is None:
                continue
            slot = (walk.stored.get(tensor) if tensor._op is None else
                    walk.pending.get(id(tensor), self.slot_of.get(id(value))))
            if slot is None:
                self.refuse("gg.autograd.grad found a gradient the recorder did not follow")
                return
            self.slot_of.setdefault(id(value), slot)  # one array for two inputs (a + b): a slot each, one array
            self.keep.append(value)

    def walk_outside(self, result: Any) -> None:
        """A step that returns tensors whose graph is still needed (a compiled model's forward, with
        ``loss.backward()`` outside it): walk that graph now, from a ∂L/∂out of ones in a slot of its own, each
        leaf's ``.grad`` put back as it was after, so that the program holds the backward too. A replay then gives
        back one node (:attr:`glassgrad.compiler.program.Program.node_op`) whose rule runs these kernels when
        ``backward()`` reaches it, handing each parameter its gradient: a parameter used more than once (tied
        weights, a recurrent layer's loop) gets each part on its own, in the walk's order, so that the engine adds
        them one by one into what other ops give it, as eager's walk does.

        A forward returning several tensors in the graph (nanoGPT's ``logits, loss``; up to
        :data:`MOST_OUTPUTS`) is walked once for each set of them that may get a ∂L/∂out (``loss`` alone, ``logits``
        alone, both), each walk seeding its set at once, as eager's walk meets them (every node outside is newer):
        the node's rule replays the walk of the set that ``backward()`` gives a gradient, so the gradients are
        eager's bit for bit, and a parameter only the other outputs reach keeps ``.grad`` None, as in eager.

        An argument that requires grad is a parent too, the call's own tensor: a leaf (a saliency map's input,
        FGSM's), or a tensor made by ops outside the call (a generator's output given to a compiled critic), where
        the walk stops (it is a leaf of the walk, its ``.grad`` put back), and the engine carries the gradient on.

        Left eager: a step that ran a backward itself, tensor hooks in the graph (the walk would run them once more),
        one tensor
        returned twice, and a graph reaching beyond the step's own ops, parameters and arguments (a tensor made
        before the call that is no argument; a tensor that retains its gradient), whose ``.grad`` the walk would
        change.
        """
        if self.refusal is not None or not STATE.switches[0] or self.walks:
            return
        outputs = _graph_outputs(result, [], self.input_tensors)
        if not outputs:
            return
        if len({id(output) for output in outputs}) < len(outputs) or len(outputs) > MOST_OUTPUTS:
            self.refuse(f"it returns {len(outputs)} tensors in the graph (backward() runs outside it), one of them "
                        f"twice or more than {MOST_OUTPUTS}, whose walks a replay would not all hold: return fewer, "
                        "or compile the whole training step")
            return
        roots = [id(_viewed_root(output)) for output in outputs]
        if len(set(roots)) < len(roots):
            self.refuse("it returns tensors in the graph on one memory (a tensor and a view of it, m and m[0], or two "
                        "views of one), which eager links: an in-place change of one after the call re-bases the "
                        "others, which a replayed call's outputs would not follow; return one of them and take the "
                        "views outside")
            return
        leaves: dict[int, Tensor] = {}
        for output in outputs:
            reached = self._leaves_of(output)
            if reached is None:
                return
            leaves.update((id(leaf), leaf) for leaf in reached)
        held = [(leaf, leaf._grad) for leaf in leaves.values()]
        made_outside = [(argument, argument._op) for argument in leaves.values() if argument._op is not None]
        try:
            for argument, _ in made_outside:  # an argument made by ops outside: a leaf of the walk (restored after)
                argument._op = None
            for chosen in range(1, 2 ** len(outputs)):  # each set of outputs that may get a gradient, by its bits
                seeded = tuple(bool(chosen >> place & 1) for place in range(len(outputs)))
                roots = [output for output, seed in zip(outputs, seeded) if seed]
                seeds = [np.ones_like(root.array) for root in roots]
                walk = OutsideWalk(seeded, tuple(self.new_slot(seed) for seed in seeds), len(self.kernels))
                self.outside.append(walk)
                self.walk = _Walk()
                self.walk.pending.update((id(root), slot) for root, slot in zip(roots, walk.upstreams))
                for leaf, _ in held:
                    leaf._grad = None
                run_backward(roots[0], seeds[0], True, tuple(zip(roots[1:], seeds[1:])))
                walk.end = len(self.kernels)
        except Exception as error:  # eager's backward() will meet it; this call's result stands
            self.walk = None
            self.refuse(f"walking the returned tensor's graph raised {type(error).__name__}: {error}")
        finally:
            for leaf, grad in held:
                leaf._grad = grad
            for argument, op in made_outside:
                argument._op = op

    def _argument_of(self, leaf: Tensor) -> int | None:
        """Which argument of a forward whose backward runs outside ``leaf`` is (its position), or None."""
        if self.outside and id(leaf) in self.input_tensors:
            return self.slot_of[id(leaf.array)]
        return None

    def _leaf_mark(self, leaf: Tensor) -> Any:
        """How a kernel of the walk names a leaf: itself, or an argument's position (a new tensor on each call, so
        that two captures agree)."""
        argument = self._argument_of(leaf)
        return leaf if argument is None else ("argument", argument)

    def _leaves_of(self, result: Tensor) -> list | None:
        """The leaves ``result``'s graph reaches, if it lies within the step and holds no tensor with a hook (else
        None, refused): the walk of :meth:`walk_outside` must change no ``.grad`` but theirs, which it puts back, and
        call no hook (any hook in the process refused it: a compiled model ran eagerly because another model's
        parameter had one)."""
        leaves, seen, stack = [], {id(result)}, [result]
        while stack:
            tensor = stack.pop()
            if id(tensor) in HOOKS or id(tensor) in POST_ACCUMULATE_HOOKS:  # another model's hooks are no matter
                self.refuse("a tensor in the returned tensor's graph has a hook (register_hook), and capturing the "
                            "backward of a forward that returns its graph would run it once more")
                return None
            if tensor._op is None:
                leaves.append(tensor)
                continue
            if tensor._retains_grad:
                self.refuse("a tensor in the returned tensor's graph retains its gradient (retain_grad()), which a "
                            "replayed forward would not fill")
                return None
            if id(tensor) in self.input_tensors:  # an argument made by ops outside (a generator's output given
                leaves.append(tensor)                # to a compiled discriminator): the walk stops there, a parent
                continue
            if id(tensor) not in self.saved_of:
                self.refuse("the returned tensor's graph reaches a tensor made by ops before the call, not given as an "
                            "argument (a tensor the forward reads from outside, such as an attribute set before): a "
                            "replayed forward gives gradients to its parameters and arguments only; pass it as an "
                            "argument, or compile the whole step")
                return None
            for parent in reroute(tensor):  # as the walk meets them: a parent re-based since, its old node
                if parent._requires_grad and id(parent) not in seen:  # (x.reshape(-1)[0] *= 2 makes x a reshape
                    seen.add(id(parent))  # of the view, whose old node reads x's old one)
                    stack.append(parent)
        return leaves

    def on_call(self, function: Any, args: tuple) -> Any:
        """Run ``function(*args)`` unwatched, as one kernel (see :func:`glassgrad.autograd.call_recorder`)."""
        args = tuple(tuple(arg) if isinstance(arg, (types.GeneratorType, map, filter, zip)) else arg for arg in args)
        with watched_by(None):
            result = function(*args)
        if self.refusal is not None:
            return result
        shown = _called(function)
        encoded = tuple(self.encode(arg, _quoted(shown)) for arg in args)
        self._note_cleared(function, args)
        if args and getattr(function, "__name__", None) == "step":  # a scheduler's, an optimizer's
            self.rescheduled.update((id(held), held) for held in _rates_written(args[0]))
            if hasattr(args[0], "param_groups") and not args[0]._runs_users_code():  # a step hook registered later
                self.stepped.setdefault(id(args[0]), args[0])          # may write its groups: see Compiled._capture
        if function is ASSIGN_GRAD and isinstance(args[1], Tensor) and args[1]._op is None:
            slot = self.slot_of.get(id(args[1].array))  # p.grad = g * 0.5, or p.grad /= n: a tensor the step made
            if slot is not None:
                encoded = (encoded[0], ("tensor", slot))
        unpack = type(result) is tuple and all(type(part) is np.ndarray for part in result)
        scalar = isinstance(result, np.generic)  # a NumPy number (a 0-d computation): a 0-d array, a value of the step
        if scalar:  # (left as it was, a tensor made of it would read the capture's number as a constant at replays)
            result = np.asarray(result)
        if isinstance(result, Tensor):
            outputs = (self.new_slot(result), self.new_slot(result.array))
        elif isinstance(result, np.ndarray):
            outputs = (self.new_slot(result),)
        elif unpack:  # arrays in a tuple (promote): each its own slot
            outputs = tuple(self.new_slot(part) for part in result)
        else:
            outputs = ()
        sizes = tuple(_size(part) for part in result) if unpack else (
            _size(result.array if isinstance(result, Tensor) else result),)
        self.emit("call", function, encoded, outputs, sizes=sizes, extra=SCALAR if scalar else unpack, shown=shown)
        return result

    def _note_cleared(self, function: Any, args: tuple) -> None:
        """Follow which leaves' ``.grad`` the step set itself: ``p.grad = None``, ``zero_grad()`` (of an optimizer or
        a module; ``set_to_none=False`` leaves a None ``.grad`` None and fills the others), and ``p.grad = g`` (a
        backward then adds into g, on every call, whatever ``.grad`` held when the call began)."""
        if function is ASSIGN_GRAD:
            self.cleared.add(id(args[0]))
        elif (getattr(function, "__module__", None), getattr(function, "__qualname__", None)) in ZERO_GRADS and args[1]:
            owner = args[0]
            params = (param for group in owner.param_groups for param in group["params"]) if hasattr(
                owner, "param_groups") else owner.parameters()
            self.cleared.update(id(param) for param in params)

    def on_kernel(self, function: Any, args: tuple) -> None:
        if self.refusal is None:
            shown = _quoted(_called(function))
            self.emit("kernel", function, tuple(self.encode(arg, shown) for arg in args), ())

    def read_in_forward(self, array: np.ndarray, *but: Any) -> bool:
        """Whether ``array``'s memory is a tensor the step made, or was read by a forward of an op other than ``but``
        recorded so far (an in-place change of it now, depending on the values, would make eager's backward refuse
        that op where it saved it: embedding's ``max_norm``)."""
        owner = _memory_owner(array)
        if id(owner) in self.slot_of or id(array) in self.slot_of:
            return True
        same = {("ext", number) for number, held in enumerate(self.externals) if _memory_owner(held) is owner}
        return bool(same) and any(kernel.kind == "forward" and kernel.op not in but and not same.isdisjoint(
            _flat(kernel.args)) for kernel in self.kernels)

    def on_computed(self, array: np.ndarray) -> None:
        self.computed[id(array)] = array  # held, so that its id names it for the whole call

    def on_read(self, how: str) -> None:
        reader = _library_reader()
        if reader is None:
            self.refuse(f"{how} reads a tensor's value inside the step, and a replay would not (return the tensor and "
                        "read it outside)")
        else:
            self.refuse(f"glassgrad's {reader} reads a tensor's value in Python ({how}) inside the step, and a replay "
                        f"would not; call it outside the compiled code")

    def on_unreplayable(self, reason: str) -> None:
        self.refuse(reason)

    def on_update(self, *details: Any) -> None:
        """Only ``step(closure)`` updates with the recorder watching (a plain ``step()`` is one kernel)."""
        self.refuse("optimizer.step(closure) runs the closure's Python inside the step; call the closure first")

    # --- modules: the layers a kernel belongs to, and what must not change between calls -------

    def module_starts(self, module: Any, inputs: tuple) -> None:
        if module._forward_hooks or not all(map(is_replayed_hook, module._forward_pre_hooks.values())):
            self.refuse(f"{type(module).__name__} has a forward hook: Python a replay would not run")
        self.layers.append(module)
        self.called.setdefault(id(module), module)
        self.watch(module)

    def watch(self, module: Any) -> None:
        """Guard ``module``'s mode, parameters, buffers and sublayers (a layer the step called, or the module whose
        ``forward`` is compiled: ``model.compile()``, whose hooks run around the replay)."""
        self.modules.setdefault(id(module), module)
        self.keep.append(module)

    def _holders(self) -> list:
        """The sublayers of the layers the step called that it did not call itself but walked: a ``ModuleList``
        whose layers it called, a ``ParameterList`` whose parameters it read (one appended to between calls must be
        seen: the replay runs no ``for layer in self.layers``)."""
        return [holder for layer in list(self.called.values()) for holder in layer._modules.values()
                if holder is not None and id(holder) not in self.called
                and (any(id(inner) in self.called for inner in holder._modules.values())
                     or any(id(parameter) in self.leaves for parameter in holder._parameters.values()))]

    def module_ends(self, module: Any, inputs: tuple, output: Any) -> None:
        if self.layers:
            self.layers.pop()

    # --- the end ------------------------------------------------------------------------------

    def finish(self, result: Any) -> Capture:
        """The capture of this call, with the step's result encoded (tensors by slot)."""
        if self.walk is not None and self.refusal is None:
            self.refuse("a backward() did not finish")
        if self.rebasing is not None and self.refusal is None:
            self.refuse(REBASE_REFUSAL)
        flipped = [name for name, value in _switches().items() if self.switches[name] != value]
        if flipped and self.refusal is None:
            self.refuse(f"the step leaves {', '.join(flipped)} switched as it was not when it began, and a replay "
                        "(no Python) would leave it as it finds it; switch it in a with-block, or outside the step")
        encoded = self._encode_result(result, _graph_outputs(result, [], self.input_tensors))
        for holder in self._holders():
            self.watch(holder)
        guarded = {id(tensor): tensor for tensor in (*self.leaves.values(), *self.constants.values())
                   if id(tensor) not in self.input_tensors}  # an argument is new on each call (its key: requires_grad)
        for module in self.modules.values():
            for tensor in (*module._parameters.values(), *module._buffers.values()):
                if tensor is not None:
                    guarded.setdefault(id(tensor), tensor)  # a layer's parameter is a leaf of the step too: once
        guards = [(tensor, tensor.array, tensor._requires_grad) for tensor in guarded.values()]
        modules = [(module, module.training) for module in self.modules.values()]
        members = [(module, table, name, value) for module in self.modules.values()
                   for table in MEMBER_TABLES
                   for name, value in getattr(module, table).items()]
        called = [(layer, [table for table in HOOK_TABLES if not getattr(layer, table)],
                   tuple(layer._forward_pre_hooks.values())) for layer in self.called.values()]
        hooks = [hook for _, _, held in called for hook in held]  # glassgrad's own: n_power_iterations, eps
        settings = [(module, *_settings_of(module)) for module in (*self.modules.values(), *hooks)]
        return Capture(self.kernels, self.inputs, self.slots, self.externals, self.snapshots, encoded, guards,
                       modules, self.refusal, self.fresh_grads, self.keep, members, called, self.new_leaves,
                       self.outside, [setting for setting in settings if setting[1]])

    def _encode_result(self, value: Any, outputs: list) -> Any:
        """The result, tensors by slot; ``outputs``: those in the graph, each written ``("node", slot, its place)``
        (the replay's node makes it) once the walks of :meth:`walk_outside` hold their backward."""
        if isinstance(value, Tensor):
            if id(value) in self.input_tensors:  # an argument returned as it is: the call's own tensor, as eager's
                return ("input", self.input_tensors[id(value)])
            if STATE.switches[0] and value._op is not None and value._ctx is not FREED:
                if self.outside:
                    return ("node", self.slot_of[id(value.array)], next(place for place, output in enumerate(outputs)
                                                                         if output is value))
                if not _cut(value):  # one made of what the step's backward freed is a value, in eager too
                    self.refuse("the step returns a tensor whose graph is still needed (backward() runs outside it) "
                                "after a backward() of its own, which a replay does not give back: compile the whole "
                                "training step, or call it under gg.no_grad()")
                    return ("py", value)
            slot = self.slot_of.get(id(value.array))
            if slot is not None:
                return ("tensor", slot)
            return ("py", value)
        if isinstance(value, (tuple, list)):
            return ("seq", type(value), tuple(self._encode_result(part, outputs) for part in value))
        if isinstance(value, dict):
            return ("dict", tuple(value), tuple(self._encode_result(part, outputs) for part in value.values()),
                    type(value))
        if isinstance(value, np.ndarray):
            self.refuse("the step returns a NumPy array (read from a tensor); return the tensor instead")
        fields = _fields_of(value)
        if fields is None:
            return ("py", value)
        if not all(field.init for field in fields):
            self.refuse(f"the step returns a {type(value).__name__}, a dataclass with fields its __init__ does not "
                        "take, which a replay cannot make again; return a tuple or a dict")
        return ("object", type(value), tuple(self._encode_result(getattr(value, field.name), outputs)
                                             for field in fields), tuple(field.name for field in fields))


PACKAGE = Path(__file__).resolve().parent.parent
"""glassgrad's own folder: a value read in a frame inside it was read by the library, not by the step's code."""

PASSED_THROUGH = {PACKAGE / "tensor.py", PACKAGE / "autograd.py", PACKAGE / "nn" / "module.py"}
"""Files whose frames name no library function that reads a value: the reads themselves (``Tensor.item``,
``note_read``) and ``Module.__call__``, which runs a forward."""


def _switches() -> dict[str, Any]:
    """The process-wide switches a call flips for good (no ``with``), by the name of the call that flips them:
    ``gg.set_grad_enabled(False)``, ``set_detect_anomaly(True)``, ``gg.set_default_dtype(gg.float64)``,
    ``use_deterministic_algorithms(True)``, … A step that leaves one other than it found it runs eagerly (a replay
    would leave it as it is: grad mode on after an evaluation step that switched it off, say)."""
    return {"the grad mode (set_grad_enabled)": STATE.switches[0],
            "anomaly detection (set_detect_anomaly)": tuple(ANOMALY),
            "the default dtype (set_default_dtype)": _default["float"],
            **{f"the setting {name!r}": value for name, value in _settings.items()}}


def _library_reader(depth: int = 2) -> str | None:
    """The outermost public glassgrad function (``ctc_loss``, ``Categorical.log_prob``, ``LSTM.forward``) inside
    which a tensor's value was read, or None where the step's own code read it (``loss.item()``); ``depth``: the
    frame to start from, counted from this one."""
    found = None
    for path, frame in _library_frames(depth + 1):
        name = frame.f_code.co_qualname
        own = name.rsplit(".", 1)[-1]
        if path not in PASSED_THROUGH and (not own.startswith("_") or own == "__init__") and "<locals>" not in name:
            owner = frame.f_locals.get("self")  # a method: named by the class the step used (Categorical)
            name = name if owner is None or "." not in name else f"{type(owner).__name__}.{own}"
            found = name.removesuffix(".__init__")
    return found


def _library_frames(depth: int) -> Iterator[tuple[Path, types.FrameType]]:
    """The frames of glassgrad's code (not the compiler's) from ``depth`` (counted from this one: the caller is 1)
    out to the step's own code, innermost first, each with its file."""
    frame = sys._getframe(depth)
    while frame is not None:
        path = Path(frame.f_code.co_filename).resolve()
        if PACKAGE not in path.parents or path.parent == PACKAGE / "compiler":
            return
        yield path, frame
        frame = frame.f_back


def _rates_written(owner: Any) -> list:
    """What the ``step()`` of ``owner`` may write numbers into: a scheduler's, itself (``get_last_lr()``,
    ``last_epoch``), the schedules it runs (``SequentialLR``, ``ChainedScheduler``) and its optimizer's groups
    (``opt.param_groups[0]["lr"]``); an optimizer's, its groups where the user's code runs in it (a step hook, a
    learner's own ``step``: a warm-up written as a post-hook)."""
    if hasattr(owner, "get_last_lr") and hasattr(owner, "optimizer"):
        inner = [written for held in getattr(owner, "_schedulers", ()) for written in _rates_written(held)]
        return [owner, *inner, *getattr(owner.optimizer, "param_groups", ())]
    if hasattr(owner, "param_groups") and owner._runs_users_code():
        return list(owner.param_groups)
    return []


def _called(function: Any) -> str:
    """A library call's name, as a refusal and ``explain()`` name it: ``Adam.step``; a helper of glassgrad's or
    NumPy's, by the public op it ran in, which a learner called (``gather's _refuse_index_outside``, ``cumsum's
    ndarray.astype``, ``grid_sample's _positions``; :func:`_library_reader`), else by the tensor's method the
    step called (``Tensor.long's ndarray.astype``, ``Tensor.__add__'s promote``: :func:`_tensor_method`)."""
    name = getattr(function, "__qualname__", str(function))
    within = None
    if name.startswith("_") or "." not in name or "ndarray." in name:
        within = _library_reader(3) or _tensor_method(3)
    return name if within is None or within.rsplit(".", 1)[-1] == name else f"{within}'s {name}"


def _tensor_method(depth: int) -> str | None:
    """The method of :class:`~glassgrad.tensor.Tensor` the step's own code called (``Tensor.long``, an operator's
    ``Tensor.__add__``) inside which this frame runs, or None; ``depth``: the frame to start from, counted from
    this one."""
    found = None
    for path, frame in _library_frames(depth + 1):
        if path == PACKAGE / "tensor.py" and frame.f_code.co_qualname.startswith("Tensor."):
            found = frame.f_code.co_qualname
    return found


def _flat(encoded: tuple) -> Iterator[tuple]:
    """The arrays from outside among a kernel's encoded arguments (:meth:`Recorder.encode`), those inside a list or
    tuple too."""
    for arg in encoded:
        if arg[0] == "seq":
            yield from _flat(arg[2])
        elif arg[0] == "ext":
            yield arg


def _quoted(called: str) -> str:
    """:func:`_called`'s name as a refusal quotes it: ``'Adam.step'``, ``gather's '_refuse_index_outside'``."""
    within, _, name = called.rpartition("'s ")
    return f"{within}'s '{name}'" if within else f"'{name}'"


def _settings_of(module: Any) -> tuple[tuple, tuple]:
    """A layer's settings, the Python numbers, strings and flags among its attributes (``p``, ``momentum``, ``eps``,
    ``reduction``, ``kernel_size``; not ``training``, guarded on its own), as names and values: a replay reads
    none of them, so a program is replayed only while they hold the values it was captured with."""
    names = tuple(name for name, value in vars(module).items() if name[0] != "_" and name != "training"
                  and _plain_setting(value))
    return names, tuple(_snapshot(getattr(module, name)) for name in names)


def _plain_setting(value: Any) -> bool:
    """Whether ``value`` is a setting a guard compares: a number (not NaN), string, flag or None, or a short tuple
    or list of them (a long list, a vocabulary say, would cost every replay its comparison)."""
    if type(value) in (tuple, list):
        return len(value) <= 64 and all(_plain_setting(part) for part in value)
    return type(value) in (int, bool, str, type(None)) or (type(value) is float and value == value)  # not NaN


def _snapshot(value: Any) -> Any:
    """A setting as it is now: a list is copied, inside a tuple too (one changed in place between calls must fail the
    guard: a default argument's ``history=[]``, in its function's ``__defaults__``)."""
    if type(value) is tuple and any(type(part) in (list, tuple) for part in value):
        return tuple(_snapshot(part) for part in value)
    return [_snapshot(part) for part in value] if type(value) is list else value


def _graph_outputs(value: Any, found: list, arguments: dict) -> list:
    """The tensors in the graph among what a step returns (in a tuple, list or dict too), in order; not its
    ``arguments`` returned as they are (the call's own tensors)."""
    if isinstance(value, Tensor):
        if value._op is not None and value._ctx is not FREED and id(value) not in arguments:
            found.append(value)
    elif isinstance(value, (tuple, list)):
        for part in value:
            _graph_outputs(part, found, arguments)
    elif isinstance(value, dict):
        for part in value.values():
            _graph_outputs(part, found, arguments)
    else:
        for field in _fields_of(value) or ():
            _graph_outputs(getattr(value, field.name), found, arguments)
    return found


def _viewed_root(tensor: Tensor) -> Tensor:
    """The tensor at the top of ``tensor``'s views (:func:`glassgrad.graph.as_view`): itself, if it is no view."""
    while getattr(tensor, "_view_of", None) is not None:
        tensor = tensor._view_of
    return tensor


def _cut(tensor: Tensor) -> bool:
    """Whether ``tensor``'s graph reaches a node a backward without ``retain_graph`` freed (the loss itself, or the
    attention weights a seq2seq step returns, made of rows its loss was walked through): eager's backward from it
    raises, so it is a value only, and a replay gives it back as one."""
    seen, pending = set(), [tensor]
    while pending:
        node = pending.pop()
        if node._ctx is FREED:
            return True
        if id(node) not in seen:
            seen.add(id(node))
            pending += [parent for parent in node._parents if parent._op is not None]
    return False


def _fields_of(value: Any) -> tuple | None:
    """The fields of a dataclass instance a step returns (a model's output record), else None."""
    return dataclasses.fields(value) if dataclasses.is_dataclass(value) and not isinstance(value, type) else None


def _has_mask(args: tuple) -> bool:
    """Whether an index among ``args`` holds a boolean array (its selection's size depends on the values)."""
    for arg in args:
        if isinstance(arg, np.ndarray) and arg.dtype == np.bool_ and arg.ndim:
            return True
        if isinstance(arg, tuple) and _has_mask(arg):
            return True
    return False
