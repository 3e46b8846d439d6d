"""Reverse-mode automatic differentiation: the graph walk behind ``loss.backward()``.

Every tensor made by an op while gradients are recorded remembers its op (a row of
:mod:`glassgrad.ops`), its parents and what the forward saved. ``backward`` then

1. walks the graph from the root, newest node first (every node has a later tick on the
   clock than its inputs, so a node is reached after every node that uses it; no recursion:
   a chain of 100,000 ops is fine),
2. gives each node's upstream gradient ``∂L/∂out`` to the node's rule, which returns
   ``∂L/∂input`` for each parent (the chain rule: ``∂L/∂input = ∂L/∂out · ∂out/∂input``),
3. checks every contribution against its parent: one in a broadcast of the parent's shape
   (the op broadcast or promoted its inputs) is summed back to the parent's shape and dtype,
   here, once, for every rule; any other shape is a bug in the rule, refused at once,
4. adds contributions that meet at the same tensor, and finally adds the result to
   ``.grad`` of each leaf (and of tensors that called ``retain_grad()``),
5. frees what the forward saved, unless ``retain_graph=True`` (a node that saved no tensor, over leaves or
   such nodes, stays, as in PyTorch: :func:`freed_after_backward`).

In-place changes follow PyTorch's rule. Every block of memory has a *version*, shared by
all tensors that use it (views, ``detach()``), raised by one by every in-place change
(``+=``, ``t[i] = v``, ``copy_``, an optimizer's step). A node remembers the clock when it
was made; if a tensor its rule reads back (:attr:`glassgrad.ops.Op.saves`) changed since,
``backward`` refuses with PyTorch's "modified by an inplace operation" error instead of
using the changed numbers. An in-place change of a tensor in the graph *re-bases* it: the
tensor stands for ``op(old value, other)`` and its old node moves to a hidden tensor that
ops recorded before the change still lead to (:func:`reroute`). A change made with NumPy
directly on the array ``t.array`` (``t.numpy()``) is not counted; one made through ``t.data``
(a tensor) is.

Grad mode: :class:`no_grad` (a context manager and a decorator) turns recording off.
A tape (:mod:`glassgrad.trace`) can observe every step through :func:`current_tape`;
when no tape is active the cost is one attribute test per op.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import threading
import weakref
from array import array as typed_array
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import numpy as np

from .anomaly import UNREPLAYABLE as ANOMALY_UNREPLAYABLE
from .anomaly import check_gradients, is_anomaly_check_nan_enabled
from .arguments import broadcasts_to, shape_text
from .saved_packing import MADE, Packed
from .summation import add_reduce
from .tensor_hooks import HOOKS, POST_ACCUMULATE_HOOKS, run_call_hooks, run_hooks, run_post_accumulate_hooks


class _State(threading.local):
    """Switches read on every op: ``switches = (grad mode, the active tape or None)``.

    Per thread, as in PyTorch: ``no_grad`` in one thread (a web request, say) does not
    switch off recording in another. Both are kept as one pair so that an op reads them with
    one lookup. The class declares ``__slots__ = ()`` and no properties: without the first, or
    with a property, each read of ``STATE.switches`` costs about 80 ns instead of 35 (a step
    reads it ~25 times);
    :func:`is_grad_enabled`, :func:`current_tape` and :func:`swap_tape` read and set each half.
    """

    __slots__ = ()

    def __init__(self) -> None:
        self.switches: tuple[bool, Any] = (True, None)
        self.inference = False  # inside inference_mode() (read by is_inference_mode_enabled only)
        self.inference_grad = False  # the grad mode set inside inference_mode(), where nothing records whatever it is
        self.transform: str | None = None  # the torch.func transform running the user's function (running_transform)
        self.twice: str | None = None  # the outermost transform that differentiates its function's graph twice


STATE = _State()
INFERENCE_USED: list[bool] = []
"""Non-empty once some thread has entered ``inference_mode()``: before that there is no inference tensor, and
recording an op need not look for one (:func:`glassgrad.graph.record`)."""


class running_transform:  # noqa: N801 (used as a with-statement, like no_grad)
    """``with running_transform("vmap"):`` around a ``torch.func`` transform's call of the user's function: a
    ``backward()`` in there is refused (:func:`refuse_backward_in_transform`), as PyTorch refuses it. The function
    is the transform's to differentiate or batch; a ``backward()`` in it would fill ``.grad`` once per call (vmap
    calls it once per item) and free the graph the transform still walks."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.outer = STATE.transform
        STATE.transform = self.name

    def __exit__(self, *exc: Any) -> None:
        STATE.transform = self.outer


class differentiated_twice:  # noqa: N801 (used as a with-statement, like no_grad)
    """``with differentiated_twice("jacfwd"):`` around the call of the user's function by a transform that then
    differentiates its graph twice: forward mode's double-backward trick (``func.jvp``, ``jacfwd``, so ``hessian``;
    ``autograd.functional.jvp``, ``hvp``, and the ``"forward-mode"`` strategy of ``jacobian``) or a second derivative
    (``autograd.functional.hessian``, ``vhp``). A compiled function called there runs eagerly
    (:class:`glassgrad.compiler.Compiled`): a replayed backward builds no graph to differentiate again, and
    PyTorch's compiled functions give these transforms their numbers. ``STATE.twice`` names the outermost;
    ``when=False``: nothing (a strategy that differentiates once)."""

    def __init__(self, name: str, when: bool = True) -> None:
        self.name = name if when else None

    def __enter__(self) -> None:
        self.outer = STATE.twice
        STATE.twice = self.outer or self.name

    def __exit__(self, *exc: Any) -> None:
        STATE.twice = self.outer


def refuse_backward_in_transform() -> None:
    """``backward()`` inside a ``torch.func`` transform's function: PyTorch's RuntimeError, naming the fix."""
    if STATE.transform is not None:
        raise RuntimeError(f"backward() called inside {STATE.transform}(f): the transform differentiates or batches "
                           "f itself; inside f use gg.func.grad or gg.func.vjp, or call backward() on the "
                           "transform's result, outside it")


def current_tape() -> Any:
    """The tape (a trace, or a compiled step's recorder) that watches this thread's ops, or None."""
    return STATE.switches[1]


def swap_tape(tape: Any) -> Any:
    """Make ``tape`` (or None) this thread's watcher; return the one it replaces, to put back later."""
    grad_enabled, previous = STATE.switches
    STATE.switches = (grad_enabled, tape)
    return previous


class watched_by:  # noqa: N801 (used as a with-statement, like no_grad)
    """``with watched_by(tape):`` — ``tape`` (or None: nobody) watches this thread's ops inside the block; the watcher
    before it is back afterwards, whatever the block raised. ``as`` gives that earlier watcher."""

    __slots__ = ("tape", "previous")

    def __init__(self, tape: Any) -> None:
        self.tape = tape

    def __enter__(self) -> Any:
        self.previous = swap_tape(self.tape)
        return self.previous

    def __exit__(self, *raised: Any) -> None:
        swap_tape(self.previous)


def call_recorder() -> Any:
    """The recorder of a compiled function (:mod:`glassgrad.compiler`) capturing now, or None.

    A call it is given (``recorder.on_call(function, args)``) runs, and is replayed, as one kernel:
    an optimizer's step, ``zero_grad``, clipping, a dropout mask's draw.
    """
    tape = STATE.switches[1]
    return tape if tape is not None and hasattr(tape, "on_call") else None


def recorded_call(function: Callable, *args: Any) -> Any:
    """``function(*args)``, as one kernel of a compiled step if one is capturing (:func:`call_recorder`)."""
    recorder = call_recorder()
    return function(*args) if recorder is None else recorder.on_call(function, args)


def recorded_cast(array: np.ndarray, dtype: Any) -> np.ndarray:
    """``array`` in ``dtype``: itself where it is already, else a copy made as one kernel of a compiled step
    (:func:`recorded_call`), as an op's operand is cast before the op (``mask.cumsum(1)`` works in int64). A copy
    made in Python outside the kernels was a constant to the replay: the captures' numbers ever after."""
    return array if array.dtype == dtype else recorded_call(np.ndarray.astype, array, dtype)


def copied_seed(array: np.ndarray) -> np.ndarray:
    """A copy of a given ∂L/∂out (``backward(gradient)``, ``grad(…, grad_outputs=v)``) to start a walk from, made as one
    kernel of a compiled step (:func:`recorded_call`): a copy made in Python outside the kernels was a constant to the
    replay, the captures' numbers ever after, where the tensor given (a loss scale or weights changed in place between
    calls, one made from the batch) holds others."""
    return recorded_call(np.copy, array)


def note_kernel(function: Callable, args: tuple) -> None:
    """Tell a capturing recorder (:mod:`glassgrad.compiler`) that ``function(*args)`` just ran (an in-place change)."""
    tape = STATE.switches[1]
    if tape is not None and hasattr(tape, "on_kernel"):
        tape.on_kernel(function, args)


def note_computed(array: np.ndarray) -> np.ndarray:
    """Tell a capturing recorder (:mod:`glassgrad.compiler`) that ``array`` was worked out in Python from tensor
    values, outside the kernels it records (sorting positions, a median's pick, nonzero's positions): a replay
    would keep it as it was on the capture, so a step whose kernels read it runs eagerly. Gives ``array`` back."""
    tape = STATE.switches[1]
    if tape is not None and hasattr(tape, "on_computed"):
        tape.on_computed(array)
    return array


def note_read(how: str) -> None:
    """Tell a capturing recorder (:mod:`glassgrad.compiler`) that a tensor's value was read (``.item()``)."""
    tape = STATE.switches[1]
    if tape is not None and hasattr(tape, "on_read"):
        tape.on_read(how)


SIZED_BY_VALUES = "{name}: how many entries it gives depends on the values, which a replay would take as they were"
"""The reason a compiled step that calls ``nonzero``, ``unique``, ``bincount``… runs eagerly."""


OTHER_MEMORY = ("{how} gives a tensor other memory, which a replay does not repeat: a later kernel reaching the tensor "
                "(an optimizer reading p.grad) would read its old array; change it in place instead "
                "(p.grad.mul_(0.5), t.copy_(v) under gg.no_grad()) or assign p.grad = g")
"""The reason a compiled step that rebinds a tensor's memory (``t.data = v``, ``t.set_(v)``) runs eagerly."""


def note_unreplayable(reason: str) -> None:
    """Tell a capturing recorder (:mod:`glassgrad.compiler`) that the step did something a replay cannot repeat."""
    tape = STATE.switches[1]
    if tape is not None and hasattr(tape, "on_unreplayable"):
        tape.on_unreplayable(reason)


FREED = object()
"""Marker left in a node's saved values once ``backward`` has used and released them."""


def freed_after_backward(op, parents: tuple) -> bool:
    """Whether a backward without ``retain_graph`` frees a node of ``op`` it has walked through: yes, unless the node
    saved no tensor and each of its ``parents`` is a leaf or a node that saved none either. As in PyTorch, which
    frees only saved tensors, such a node can be walked again (``wt = w.t()`` made once, then
    ``(wt * x).sum().backward()`` each step); one that reads a node that saved tensors is freed, its second walk
    refused at once, as PyTorch's would be one step further on. (Keeping nothing more than a chain of such nodes over
    leaves keeps a kept node's parents' values alive, which PyTorch's graph does not hold.)"""
    if not op.keeps_no_tensor:
        return True
    for parent in parents:  # a loop, not all(…): a quarter of the time, on a hot path
        if parent._op is not None and not parent._op.keeps_no_tensor:
            return True
    return False


JOINT_CALLS: list[bool] = []
"""Non-empty once a row for calls with several outputs in the graph exists (made the first time a custom
``autograd.Function`` returns more than one such output: :attr:`glassgrad.ops.Op.joint`): before that, a walk need
not look for one. (A list, as :data:`INFERENCE_USED`: a flag a walk reads without a lookup in a module.)"""


def same_call(node, other) -> bool:
    """Whether ``other`` is another output of ``node``'s call (a joint row: :attr:`glassgrad.ops.Op.joint`). A call's
    outputs get ticks in a row and every node that uses one is newer, so in a walk newest first the others that
    have a gradient waiting come right after ``node``: each walk takes them while this holds."""
    saved = other._ctx
    return other._op is node._op and type(saved) is tuple and saved[0] is node._ctx[0]


def joint_upstreams(node, upstream, others: list, take, arrive, tape, retain_graph: bool, hooked: bool) -> list:
    """∂L/∂out of each output of ``node``'s call (None for one that got none), for its rule's one ``backward`` (and
    a tape's record of it, and anomaly detection's message, which read ``node``'s own at its position).

    ``others`` (the outputs after ``node`` for which :func:`same_call` holds) are taken here as a walk takes a
    node: their gradients come out of the walk's (``take``), their hooks run, ``arrive`` keeps what the walk keeps
    of a node's gradient (``retain_grad``, an input asked for), and without ``retain_graph`` they are freed with
    ``node``. ``hooked``: ``node`` has hooks, which the walk left to run here (with ``arrive``) among the others',
    all in the order they were registered (:func:`glassgrad.tensor_hooks.run_call_hooks`). PyTorch's node of the
    call is one, with a gradient slot per output; here each output is a node, and they are walked as one.
    """
    ctx, index = node._ctx
    upstreams = [None] * len(ctx._outputs)
    upstreams[index] = upstream
    outputs = [node, *others] if hooked else others
    grads = [upstream, *map(take, others)] if hooked else list(map(take, others))
    if HOOKS:
        grads = run_call_hooks(outputs, grads, tape)
    for output, grad in zip(outputs, grads):
        arrive(output, grad)
        if HOOKS and id(output) in HOOKS:  # a module's hooks (NodeHook), after what arrive keeps
            grad = run_hooks(output, grad, tape, node_hooks=True)
        upstreams[output._ctx[1]] = grad
    if not retain_graph:
        for other in others:
            other._ctx = FREED
            other._parents = ()
    return upstreams


def _keeping_retained(stored: dict) -> Callable[[Any, Any], None]:
    """:func:`run_backward`'s ``arrive`` for :func:`joint_upstreams`: a node that retains its gradient keeps it."""
    def keep(node: Any, grad: Any) -> None:
        if node._retains_grad:
            stored[node] = grad

    return keep


BACKWARD_PASS = typed_array("q", [0])
"""The number of the latest backward pass (``backward()``, ``gg.autograd.grad``), counted from 1: how a rule whose
nodes share one gradient buffer (:mod:`glassgrad.ops_pieces`) tells a pass from an earlier one broken off."""


def switch_grad_mode(mode: bool) -> Any:
    """Set this thread's grad mode to ``mode``; give the mode before, for :func:`restore_grad_mode`. Inside
    ``inference_mode()`` nothing records whatever the grad mode (PyTorch's inference mode wins over
    ``enable_grad``: its results have no ``grad_fn``); the mode is kept apart there, for :func:`is_grad_enabled`
    (and the mode before is a pair: recording, and that mode)."""
    state = STATE
    recording, tape = state.switches
    if state.inference:
        before = (recording, state.inference_grad)
        state.inference_grad, mode = mode, False
    else:
        before = recording
    state.switches = (mode, tape)
    return before


def restore_grad_mode(before: Any) -> None:
    """Back to the grad mode ``before`` (:func:`switch_grad_mode`'s, in the same inference mode)."""
    state = STATE
    if state.inference:
        before, state.inference_grad = before
    state.switches = (before, state.switches[1])


class GradMode:
    """A switch of gradient recording: on or off inside a ``with`` block (or a decorated function)."""

    __slots__ = ("mode", "previous")  # made for every `with gg.no_grad():` (an update step): no instance dict

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.previous: list[Any] = []

    def __enter__(self) -> None:
        self.previous.append(switch_grad_mode(self.mode))

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        restore_grad_mode(self.previous.pop())

    def fresh(self) -> GradMode:
        """A new switch of this mode: one per call of a decorated function (safe for recursion and threads)."""
        return GradMode(self.mode)

    def __call__(self, function: Callable) -> Callable:
        """``function`` run in this mode; a generator function runs in it at each step (between its yields the
        caller's mode holds), as PyTorch's decorators do."""
        fresh = self.fresh
        if inspect.isgeneratorfunction(function):
            @functools.wraps(function)
            def generator_in_mode(*args, **kwargs):
                generator = function(*args, **kwargs)
                reply, error = None, None
                while True:
                    try:
                        with fresh():
                            value = generator.send(reply) if error is None else generator.throw(error)
                    except StopIteration as stop:
                        return stop.value
                    reply, error = None, None
                    try:
                        reply = yield value
                    except GeneratorExit:
                        with fresh():
                            generator.close()
                        raise
                    except BaseException as thrown:  # gen.throw(…): passed in, in the mode
                        error = thrown

            return generator_in_mode

        @functools.wraps(function)
        def run_with_mode(*args, **kwargs):
            with fresh():
                return function(*args, **kwargs)

        return run_with_mode


class set_grad_enabled(GradMode):
    """Turn gradient recording on or off: inside a ``with`` block, a decorated function, or, called alone
    (``gg.set_grad_enabled(False)``), from then on, as in PyTorch, where the call itself switches."""

    __slots__ = ("before",)

    def __init__(self, mode: bool) -> None:
        super().__init__(mode)
        self.before: Any = switch_grad_mode(self.mode)

    def __enter__(self) -> None:
        super().__enter__()
        if self.before is not None:  # entered right after the call that switched: the block ends in the mode before it
            self.previous[-1], self.before = self.before, None

    def __call__(self, function: Callable) -> Callable:
        if self.before is not None:  # as a decorator it switches only while the function runs
            restore_grad_mode(self.before)
            self.before = None
        return super().__call__(function)


def _switch_or_decorated(kind: type, argument: Any) -> Any:
    """``kind(argument)``: a new switch, or, where ``argument`` is a function (``@gg.no_grad`` written without
    parentheses, as PyTorch allows), that function decorated as ``@kind()`` decorates it."""
    switch = object.__new__(kind)
    if not callable(argument):
        return switch
    switch.__init__()
    return switch(argument)


class inference_mode(GradMode):
    """PyTorch's faster no_grad for evaluation: in glassgrad :class:`no_grad`, whose results are inference tensors
    (``is_inference()``), which PyTorch refuses to save for backward or change in place outside the mode, and so
    does glassgrad (:func:`glassgrad.graph.record`, :func:`glassgrad.tensor.refuse_inference`);
    ``inference_mode(False)`` turns recording on, inside ``no_grad`` or ``inference_mode()`` too, as
    PyTorch's (its grad mode is the opposite of the mode); :func:`is_inference_mode_enabled` tells
    whether one is on. ``@inference_mode`` decorates a function as ``@inference_mode()`` does."""

    __slots__ = ("inference", "was_inference")

    def __new__(cls, mode: bool | Callable = True) -> Any:
        return _switch_or_decorated(cls, mode)

    def __init__(self, mode: bool = True) -> None:
        super().__init__(False)
        self.inference = bool(mode)
        self.was_inference: list[bool] = []

    def __enter__(self) -> None:
        self.mode = not self.inference
        self.was_inference.append(STATE.inference)
        STATE.inference = self.inference  # first: the grad mode is switched for the mode entered
        super().__enter__()
        if self.inference and not INFERENCE_USED:
            INFERENCE_USED.append(True)

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        super().__exit__(exc_type, exc, traceback)  # first: in the mode entered, as the switch was made
        STATE.inference = self.was_inference.pop()

    def fresh(self) -> inference_mode:
        return inference_mode(self.inference)


def is_inference_mode_enabled() -> bool:
    """Whether this thread is inside ``inference_mode()`` (and not inside an ``inference_mode(False)`` in it)."""
    return STATE.inference


class no_grad(GradMode):
    """Record nothing: ops inside build no graph (for updates and evaluation).

    >>> import glassgrad as gg
    >>> w = gg.tensor([1.0, 2.0], requires_grad=True)
    >>> with gg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False

    ``@no_grad`` decorates a function as ``@no_grad()`` does.
    """

    __slots__ = ()

    def __new__(cls, function: Callable | None = None) -> Any:
        if function is None:  # `with gg.no_grad():`, in every update step: no further call
            return object.__new__(cls)
        return _switch_or_decorated(cls, function)

    def __init__(self, function: Callable | None = None) -> None:  # the fields set here, not through
        self.mode = False  # super().__init__: one call less per update step; function: see __new__
        self.previous = []


class enable_grad(GradMode):
    """Record again inside a ``no_grad`` block (``@enable_grad`` decorates a function as ``@enable_grad()``)."""

    __slots__ = ()

    def __new__(cls, function: Callable | None = None) -> Any:
        return _switch_or_decorated(cls, function)

    def __init__(self, function: Callable | None = None) -> None:
        self.mode = True
        self.previous = []


TICKS = itertools.count(1)
"""The clock: one tick for every node made and every in-place change of any memory, in order.

A node made after a change has a later tick; a change made after a node, a later tick than it.
"""
NOW, LAST_REBASE = 0, 1
CLOCK = typed_array("q", [0, 0])
"""``CLOCK[NOW]``: the tick of the latest in-place change (0: none yet);
``CLOCK[LAST_REBASE]``: the tick of the latest change that re-based a graph tensor. Ticks here
and in :class:`_Version` are stored unboxed, so the latest ones hold no Python object.
"""
_REBASE_LOCK = threading.Lock()

KEPT_TICKS = 64
"""How many of a memory block's latest change ticks are kept, to name the version a node saw.

A change after the node is always caught; only after more than 64 of them does the error name
a later "expected version" than the true one.
"""


class _Version:
    __slots__ = ("count", "ticks", "owner")

    def __init__(self, owner: weakref.ref) -> None:
        self.count = 0  # changes so far
        self.ticks = typed_array("q", bytes(8 * KEPT_TICKS))  # a ring: change n at n % KEPT_TICKS, unboxed
        self.owner = owner


_VERSIONS: dict[int, _Version] = {}  # id(the array that owns the memory) -> its version


def _memory_owner(array: np.ndarray) -> np.ndarray:
    """The array whose memory ``array`` uses (itself, or the base of a NumPy view). A strided view (``diagonal``,
    ``unfold``, ``as_strided``: NumPy's ``as_strided``) reaches it through NumPy's stand-in for the memory, which
    holds the array as its ``base`` too; stopping at the stand-in gave such a view a version counter of its own, so
    a backward after its base changed in place read the new numbers without a word."""
    base = array.base
    while base is not None:
        if not isinstance(base, np.ndarray):
            base = getattr(base, "base", None)  # NumPy's stand-in (DummyArray)
            if not isinstance(base, np.ndarray):
                break
        array, base = base, base.base
    return array


def same_view(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a`` and ``b`` look at the same entries of the same memory (``x`` and ``x.view_as(x)``, ``x[:]``):
    one owner, shape, strides, dtype and first address; an array overlapping only some entries is not."""
    return (_memory_owner(a) is _memory_owner(b) and a.shape == b.shape and a.strides == b.strides
            and a.dtype == b.dtype
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def zero_gradient(grad) -> None:
    """What ``zero_grad(set_to_none=False)`` does to a ``.grad``, as PyTorch's: cut it from any graph (one that
    ``backward(create_graph=True)`` put there keeps no graph alive, and the next backward adds plain numbers to it),
    then fill it with 0 in its own memory (one change more)."""
    grad._requires_grad, grad._op, grad._parents, grad._ctx = False, None, (), None
    grad.array.fill(0)
    bump_version(grad.array)


def bump_version(array: np.ndarray, version: _Version | None = None) -> int:
    """Count one in-place change of ``array``'s memory; return its tick on the clock.

    ``version``: the memory's record (:func:`_version`), when the caller found it once already (a compiled
    step's parameter), so that it is not looked up again.
    """
    if version is None:
        owner = array if array.base is None else _memory_owner(array)
        version = _VERSIONS.get(id(owner))
        if version is None:
            version = _new_version(owner)
    changes = version.count
    version.count = changes + 1
    tick = next(TICKS)  # atomic: no lock on this path (an optimizer takes it for every parameter)
    version.ticks[changes % KEPT_TICKS] = tick
    if tick > CLOCK[NOW]:
        CLOCK[NOW] = tick
    return tick


def copy_counted(target: np.ndarray, value: Any, casting: str = "same_kind") -> None:
    """``value`` copied into ``target``'s memory, counted as an in-place change (:func:`bump_version`): run as one
    kernel of a compiled step (:func:`recorded_call`), so that a replay both writes and counts (counted outside the
    kernel, a replay left the version as it was, and a backward through a graph that saved ``target`` before did not
    refuse, as eager's does)."""
    np.copyto(target, value, casting=casting)
    bump_version(target)


def bump_version_and_rebase(array: np.ndarray) -> int:
    """:func:`bump_version` for a change that re-bases a graph tensor (ops made before it are rerouted)."""
    return _note_rebase(bump_version(array))


def rebase_tick() -> int:
    """A tick for re-basing a graph tensor whose memory's change another tensor counted already (a view and its
    base share one memory, and one version: the change counts once, as in PyTorch)."""
    return _note_rebase(next(TICKS))


def _note_rebase(tick: int) -> int:
    """Note a re-base at ``tick``; it counts as a change too (a view's base or a tensor's views re-based after
    the change was counted have later ticks), so that ``CLOCK[NOW]`` is never behind ``CLOCK[LAST_REBASE]``."""
    with _REBASE_LOCK:
        CLOCK[LAST_REBASE] = max(CLOCK[LAST_REBASE], tick)
        CLOCK[NOW] = max(CLOCK[NOW], tick)
    return tick


def _new_version(owner: np.ndarray) -> _Version:
    """The version of ``owner``'s memory, forgotten when the memory is freed."""
    key = id(owner)
    return _VERSIONS.setdefault(key, _Version(weakref.ref(owner, lambda _: _VERSIONS.pop(key, None))))


def _version(array: np.ndarray) -> _Version | None:
    """The version record of ``array``'s memory (None: never changed in place)."""
    return _VERSIONS.get(id(_memory_owner(array)))


def memories_changed_since(tick: int) -> dict[int, _Version]:
    """The version records of the memories changed in place after ``tick`` (a clock reading, ``CLOCK[NOW]``), by
    ``id`` of the memory's owner: a scan of every record, for rare checks (:func:`glassgrad.batching.vmap`)."""
    if CLOCK[NOW] <= tick:
        return {}
    return {key: version for key, version in _VERSIONS.copy().items()  # a copy: a freed memory's record leaves
            if version.count and version.ticks[(version.count - 1) % KEPT_TICKS] > tick}  # it at any allocation


def version_of(array: np.ndarray) -> int:
    """How many in-place changes ``array``'s memory has had (PyTorch's ``t._version``)."""
    version = _version(array)
    return 0 if version is None else version.count


def _version_at(array: np.ndarray, tick: int) -> tuple[int, int]:
    """``array``'s version at ``tick`` and now."""
    version = _version(array)
    if version is None:
        return 0, 0
    later = sum(1 for t in version.ticks if t > tick)
    now = version.count
    return now - later, now


def read_roles(op, parents: tuple, saved: Any) -> set[int]:
    """The roles (input positions; :data:`glassgrad.ops.OUT` for the output) whose values ``op``'s rule reads
    back to give a gradient to each of ``parents`` that requires grad (``saved``: what its forward saved); a role
    past the parents is an input the call left out (``layer_norm`` with no γ): nothing to read back."""
    saves = op.saves(saved) if callable(op.saves) else op.saves
    given = len(parents)
    return {role for parent, needs in zip(parents, saves) if parent._requires_grad for role in needs if role < given}


def _check_saved(node, op, saved: Any) -> None:
    """Refuse to run ``op``'s rule if a tensor it reads back changed in place since ``node`` was made (``saved``:
    what its forward saved, unpacked)."""
    private = getattr(node, "_private", None)  # (role, its old value): a role whose value the node copied for itself
    private = None if private is None else private[0]
    packed = node._ctx.roles if type(node._ctx) is Packed else ()  # read back as unpack_hook gives them: unchecked
    for role in sorted(read_roles(op, node._parents, saved)):
        if role == private or role in packed:
            continue
        tensor = node if role < 0 else node._parents[role]
        expected, now = _version_at(tensor.array, node._clock)
        if expected != now:
            which = "its output" if role < 0 else f"its input {role}"
            raise modified_error(tensor.shape, op.name, which, now, expected)
    if op.reads_back:
        parts = [saved]
        while parts:  # the arrays inside what the rule saved (tuples of arrays and slices)
            part = parts.pop()
            if isinstance(part, tuple):  # a compiled forward's nodes save a tuple of their own (a _Kept)
                parts.extend(part)
            elif type(part) is np.ndarray:
                expected, now = _version_at(part, node._clock)
                if expected != now:
                    raise modified_error(part.shape, op.name, op.reads_back, now, expected)


def modified_error(shape: tuple, op_name: str, which: str, now: int, expected: int) -> RuntimeError:
    """PyTorch's error for a saved tensor (``which`` of op ``op_name``) changed in place before backward."""
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: the [{', '.join(map(str, shape))}] tensor used by '{op_name}' ({which}) "
        f"is at version {now}; expected version {expected} instead. Hint: clone() it before changing "
        "it in place (x = x.clone()), or make the in-place change after backward()"
    )


def reroute(node) -> tuple:
    """``node``'s parents as they were when it was made.

    A parent changed in place since then has been re-based; ``node`` used its earlier value,
    kept by the hidden tensor the re-base left behind.
    """
    parents = []
    for parent in node._parents:
        before = getattr(parent, "_before", None)
        while before is not None and node._clock < before[0]:
            parent = before[1]
            before = getattr(parent, "_before", None)
        parents.append(parent)
    node._parents = tuple(parents)
    return node._parents


def is_grad_enabled() -> bool:
    """Whether grad mode is on: ops record a graph for ``backward``, but inside ``inference_mode()``, where
    ``enable_grad`` turns the mode on and nothing records, as in PyTorch."""
    state = STATE
    return state.inference_grad if state.inference else state.switches[0]


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, to get ``shape``.

    If ``a`` of shape (3, 1) was broadcast to (2, 3, 4), each entry of ``a`` was used
    2·4 times, so its gradient is the sum of the 8 upstream entries it fed.
    """
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = add_reduce(grad, 0 if extra == 1 else tuple(range(extra)))  # an int: the commonest, quickest
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    if stretched:
        grad = add_reduce(grad, stretched, True)
    return grad


def _fit(contribution: np.ndarray, like: np.ndarray, op, parents: tuple, parent) -> np.ndarray:
    """A contribution summed back to its input's shape, in its input's dtype; a wrong shape is refused.

    An op that broadcast or promoted its inputs (``a + b`` with ``b`` of shape (3,) and ``a``
    of shape (2, 3)) may return ∂L/∂b in the output's shape (2, 3): it is summed here, once, for
    every rule. A contribution of any other shape can only come from a wrong backward rule.
    """
    if contribution.shape != like.shape:
        if not broadcasts_to(like.shape, contribution.shape):
            raise rule_shape_error(op, next(i for i, p in enumerate(parents) if p is parent), contribution.shape,
                                   like.shape)
        contribution = unbroadcast(contribution, like.shape)
    if contribution.dtype != like.dtype:
        contribution = contribution.astype(like.dtype)
    return contribution


def rule_shape_error(op, position: int, shape: tuple, expected: tuple) -> RuntimeError:
    """The one-line refusal of a gradient of the wrong shape from ``op``'s backward rule, for input ``position``."""
    roles = op.roles
    role = f" ({roles[position]})" if position < len(roles) else ""
    return RuntimeError(
        f"the backward rule of '{op.name}' returned a gradient of shape {shape_text(shape)} "
        f"for its input {position}{role}, which has shape {shape_text(expected)}: a bug in that op's "
        "backward rule (a gradient must have its input's shape, or a shape the input broadcasts to)"
    )


def topological_order(root) -> list:
    """Tensors of the graph ending at ``root``, each after every tensor that uses it.

    Iterative depth-first search (no recursion limit); only tensors that require grad.
    """
    rebased = CLOCK[LAST_REBASE]
    order = []
    visited = {root}
    parents = root._parents
    if rebased and parents and root._clock < rebased:
        parents = reroute(root)
    stack = [(root, iter(parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent._requires_grad and parent not in visited:
                visited.add(parent)
                grandparents = parent._parents
                if rebased and grandparents and parent._clock < rebased:
                    grandparents = reroute(parent)
                stack.append((parent, iter(grandparents)))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def run_backward(root, gradient: np.ndarray, retain_graph: bool, more: tuple = ()) -> None:
    """:func:`_run_backward` in the grad mode of a backward pass, off (it records nothing: ``create_graph=True`` takes
    :func:`glassgrad.gradient_walk.backward_into`), as PyTorch runs one: a hook sees ``is_grad_enabled()`` False, and
    a post-accumulate hook may update its parameter in place (``p.add_(p.grad, alpha=-lr)``) without ``no_grad``.
    The switch and its restoring are :class:`GradMode`'s own two calls, made here without a ``GradMode`` object (one
    backward per step: its allocation and ``__enter__``/``__exit__`` cost more than the two calls)."""
    before = switch_grad_mode(False)
    try:
        _run_backward(root, gradient, retain_graph, more)
    finally:
        restore_grad_mode(before)


def _run_backward(root, gradient: np.ndarray, retain_graph: bool, more: tuple = ()) -> None:
    """Propagate ``gradient`` (= ∂L/∂root) to every leaf of ``root``'s graph (``more``: other ``(tensor, ∂L/∂tensor)``
    to start from at once, each a node: a compiled forward's capture walks several outputs so).

    Nodes are taken newest first (each node's tick, :func:`glassgrad.graph.record`): every node is
    made after its inputs, so once a node is taken, every node that uses it has given it its
    contribution. Only nodes that received a contribution are ever visited (no separate search of
    the graph), and leaves get their ``.grad`` at the end, together. A tensor's hooks
    (:mod:`glassgrad.tensor_hooks`) see its whole gradient: a node's when it is taken, a leaf's at the end.
    """
    BACKWARD_PASS[0] += 1
    tape = STATE.switches[1]
    hooked = HOOKS  # empty unless some tensor has a hook: one test per node
    watched = is_anomaly_check_nan_enabled()  # anomaly detection: each rule's gradients are tested for NaN
    if watched:  # in Python, which a compiled step's replay would not do
        note_unreplayable(ANOMALY_UNREPLAYABLE)
    packs = MADE[0]  # 0 unless saved_tensors_hooks packed some node's values: one test per node
    rebased = CLOCK[LAST_REBASE]  # read first: then rebased <= changed, even if another thread changes memory now
    changed = CLOCK[NOW]
    grads = {root: gradient}
    stored = {}  # tensor -> gradient for its .grad: leaves, and nodes that retain_grad()
    waiting = []  # a heap of (−tick, node): the newest waiting node first
    newest = None  # the newest node made ready by the last node, kept out of the heap (in a chain: all of them)
    if root._op is None:
        stored[root] = grads.pop(root)
    else:
        newest = root
    for tensor, seed in more:
        grads[tensor] = seed
        heappush(waiting, (-tensor._clock, tensor))
    take = grads.pop
    joints = JOINT_CALLS
    while True:
        if newest is not None and (not waiting or newest._clock > -waiting[0][0]):
            node, newest = newest, None
        elif waiting:
            node = heappop(waiting)[1]
        else:
            break
        upstream = take(node)
        op = node._op
        if hooked and id(node) in hooked and not (joints and op.joint):  # a call's: with the others' (below)
            upstream = run_hooks(node, upstream, tape)
            if node._retains_grad:
                stored[node] = upstream
            upstream = run_hooks(node, upstream, tape, node_hooks=True)  # a module's (NodeHook), after retain_grad
        elif node._retains_grad:
            stored[node] = upstream
        saved = node._ctx
        if saved is FREED:
            raise freed_error(op)
        if packs and type(saved) is Packed:  # recorded under saved_tensors_hooks
            saved = saved.unpacked(False)
        parents = node._parents
        if node._clock < changed:  # something changed in place since this node was made (a re-base is a change)
            if node._clock < rebased:
                parents = reroute(node)
            _check_saved(node, op, saved)
        if joints and op.joint:  # one call's outputs: its rule runs once, given all their gradients
            others = []
            while True:
                if newest is not None and (not waiting or newest._clock > -waiting[0][0]):
                    if not same_call(node, newest):
                        break
                    others.append(newest)
                    newest = None
                elif waiting and same_call(node, waiting[0][1]):
                    others.append(heappop(waiting)[1])
                else:
                    break
            upstream = joint_upstreams(node, upstream, others, take, _keeping_retained(stored), tape, retain_graph,
                                       bool(hooked) and id(node) in hooked)
        contributions = op.backward(upstream, saved)
        if watched:
            check_gradients(node, upstream, contributions)
        if tape is not None:
            tape.on_backward(node, upstream, contributions)
        for parent, contribution in zip(parents, contributions):
            if contribution is None or not parent._requires_grad:
                continue
            like = parent.array
            if contribution.shape != like.shape or contribution.dtype is not like.dtype:
                contribution = _fit(contribution, like, op, parents, parent)
            if parent._op is None:
                if parent in stored:
                    stored[parent] = stored[parent] + contribution
                else:
                    stored[parent] = contribution
            elif parent in grads:
                grads[parent] = grads[parent] + contribution
            else:
                grads[parent] = contribution
                if newest is None:
                    newest = parent
                elif parent._clock > newest._clock:
                    heappush(waiting, (-newest._clock, newest))
                    newest = parent
                else:
                    heappush(waiting, (-parent._clock, parent))
        if not retain_graph and (not op.keeps_no_tensor or freed_after_backward(op, parents)):  # 1 test for most
            node._ctx = FREED
            node._parents = ()
    if hooked:
        for leaf, grad in stored.items():
            if leaf._op is None:  # a node that retains its gradient met its hooks when it was taken
                stored[leaf] = run_hooks(leaf, grad, tape)
    _store_grads(stored)
    if POST_ACCUMULATE_HOOKS:
        run_post_accumulate_hooks(stored, tape)
    if tape is not None and hasattr(tape, "on_grads_stored"):  # glassgrad.compiler's recorder
        tape.on_grads_stored(tuple(stored))


def freed_error(op) -> RuntimeError:
    """PyTorch's error for a second backward through a node whose saved values the first one freed."""
    return RuntimeError(
        f"Trying to backward through the graph a second time (the '{op.name}' step's "
        "saved values were freed by the first backward). Call .backward(retain_graph=True) "
        "the first time if you need to backward twice, or run the forward pass again."
    )


_GRAD_LOCK = threading.Lock()


def _accumulate(tensor, grad: np.ndarray, kept: set[int]) -> None:
    """``tensor.grad += grad`` (or ``= grad`` the first time), atomically (:func:`_store_grads` of one pair)."""
    _store_grads({tensor: grad}, kept)


def _store_grads(stored: dict, kept: set[int] | None = None) -> None:
    """``tensor.grad += grad`` (or ``= grad`` the first time) for each pair, under one turn of the lock.

    As in PyTorch, a leaf's ``.grad`` already there is added to in place: the same tensor, its memory
    changed (one version more), so ``g = w.grad`` taken after one backward shows the sum after the next
    (also a ``.grad`` that ``backward(create_graph=True)`` put in a graph); only one whose memory cannot
    take the sum, and that of a non-leaf that called ``retain_grad()``, are replaced by a new tensor.
    Threads running ``backward`` into one shared tensor take turns (one lock, held only for the
    read-add-store), so no contribution is lost. A stored gradient never shares memory with another
    ``.grad`` (an ``add`` hands the same array to both inputs; ``kept``: the arrays already stored during
    this pass) nor is a read-only view, so in-place edits such as gradient clipping touch exactly one
    tensor; a new one has its tensor's layout (:func:`_copy_in_grad_layout`: the strides of a transposed leaf; the
    strides are compared only for a tensor on another's memory, a view, as a transposed leaf is, so that one that
    owns its memory pays one test of ``array.base``; such a leaf is taken as row-major, as a fresh gradient is, which
    ``nn.Parameter(w.t().clone())`` is not: its ``.grad`` stays row-major, where PyTorch's takes its strides). Written
    out in one loop: it runs for every leaf of every backward.
    """
    if kept is None:
        kept = set()
    with _GRAD_LOCK:
        for tensor, grad in stored.items():
            held = tensor._grad
            if held is not None:
                total = held.array
                if tensor._op is None and total.flags.writeable and total.dtype == grad.dtype and \
                        total.shape == grad.shape:
                    np.add(total, grad, out=total)
                    bump_version(total)
                    continue
                grad = total + grad
            elif id(grad) in kept or grad.base is not None or (
                    tensor.array.base is not None and grad.strides != tensor.array.strides):
                grad = _copy_in_grad_layout(grad, tensor)  # shared, a view of another array, or laid out otherwise
            kept.add(id(grad))
            tensor._grad = tensor._plain(grad)  # a plain Tensor, even for a subclass such as nn.Parameter


def _copy_in_grad_layout(grad: np.ndarray, tensor: Any) -> np.ndarray:
    """A copy of ``grad`` to be ``tensor``'s new ``.grad``, laid out as PyTorch lays it out: for a leaf whose entries
    fill their memory without gaps or repeats, in some order (a transposed leaf, ``nn.Parameter(w.t())``), with the
    leaf's strides, so that ``p.grad.stride() == p.stride()`` and an optimizer's step walks both alike (PyTorch's
    AccumulateGrad, its "layout contract"); for any other tensor (a sliced or expanded leaf, a non-leaf that
    ``retain_grad()``), row-major (contiguous)."""
    like = tensor.array
    if tensor._op is None and not like.flags.c_contiguous and _gapless(like):
        laid_out = np.ndarray(like.shape, grad.dtype, np.empty(like.size, grad.dtype), strides=like.strides)
        laid_out[...] = grad
        return laid_out
    return grad.copy()  # row-major


def _gapless(array: np.ndarray) -> bool:
    """Whether ``array``'s entries fill its memory with no gap and no entry twice, from its first address on: its
    strides, sorted, are a row-major array's of its dims so sorted (dims of size 1 count not). PyTorch's
    "non-overlapping and dense"."""
    expected = array.itemsize
    for step, size in sorted((step, size) for step, size in zip(array.strides, array.shape) if size != 1):
        if step != expected:
            return False
        expected *= size
    return array.size > 0
