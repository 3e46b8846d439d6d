"""The compiled function, :class:`Compiled`: what ``gg.compile(fn)`` gives (see :mod:`glassgrad.compiler`).

It keys each call, captures a key's first calls while they run eagerly, and replays the key's program once two
captures agree; ``explain()`` lists the program.
"""

from __future__ import annotations

import copy
import functools
import sys
import types
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..anomaly import MODE as ANOMALY
from ..autograd import STATE, watched_by
from ..graph import FORWARD_MODE
from ..saved_packing import PACKING, active_hooks
from ..settings import warn_at_learners_line
from ..tensor import Tensor
from .capture import Capture, CompileRefused, Recorder, _settings_of
from .names import changed, names_read
from .program import Program, compare

MAX_PROGRAMS = 8
"""Programs kept per compiled function (one per key: input shapes, dtypes, grad mode)."""

MAX_CAPTURES = 4
"""Captures of one key that may disagree (three times since two last agreed) before the step is refused as doing
different work each call. Two that agree reset the count: a step whose work changes once, at a new state (a layer
unfrozen, so its first call stores ``.grad`` and the next ones add to it) and then settles, goes on replaying however
often that happens in a run."""

MAX_MODES = 4
"""Programs kept per key, one for each set of its layers' modes (``train()``/``eval()``) met; and captures of a key
awaiting their second, one per set of modes (the oldest goes first). A capture calling layers none of those called
then (a layer built inside the step is new at each call, so no two captures agree) makes the key run eagerly, saying
why, where each call was captured, kept and never replayed."""

EVERY: weakref.WeakSet = weakref.WeakSet()
"""Every compiled function still in use (:func:`reset` clears their programs)."""

MAX_REBOUND = 4
"""Calls in a row, with no replay between, that may find a name the step reads from outside bound anew (``lr``, a
global tensor) before the key runs eagerly (a name that changes at every call: each call would only capture)."""

__all__ = ["Compiled", "CompileRefused", "compile"]


class _Entry:
    """One key's state: its programs (the latest used first), the last capture of each set of layer modes not yet
    confirmed, or why it runs eagerly."""

    def __init__(self) -> None:
        self.programs: list[Program] = []
        self.pending: dict[tuple, Capture] = {}
        self.refusal: str | None = None
        self.captures = 0
        self.disagreements = 0
        self.replays = 0
        self.rebound = (0, -1)
        """How many calls in a row found a name read from outside bound anew, and the replay count at the last."""

    @property
    def program(self) -> Program | None:
        """The program used last (``explain()`` shows it), or None before two captures agree."""
        return self.programs[0] if self.programs else None

    def replayable(self) -> Program | None:
        """The program whose guards hold now (the latest used is tried first; one found later comes first then: a
        model switched between ``train()`` and ``eval()`` keeps a program for each mode), or None."""
        programs = self.programs
        for number, program in enumerate(programs):
            try:
                holds = program.guards_hold()
            except ValueError:  # a closure variable the step reads was deleted: the step, run, says so as eager
                holds = False
            if holds:
                if number:
                    programs.insert(0, programs.pop(number))
                return program
        return None


class Compiled:
    """A function wrapped by :func:`compile`: call it as the function; ``explain()`` shows its program."""

    def __init__(self, function: Callable, fullgraph: bool = False) -> None:
        if not callable(function):
            raise TypeError(f"gg.compile needs a function or a module, got {type(function).__name__}")
        self.function = function
        owner = getattr(function, "__self__", None)  # model.forward, compiled by model.compile(): guard the model
        self.owner = owner if hasattr(owner, "_modules") else None
        self.fullgraph = bool(fullgraph)
        self.entries: OrderedDict[Any, _Entry] = OrderedDict()
        self.last_key: Any = None
        self.warned_about_tape = False
        self.unused = 0
        """Keys dropped from the cache before their program was made (captured once: their shapes never came back)."""
        self.refusal: str | None = None
        """Why calls with new keys run eagerly (shapes that keep changing), once :data:`MAX_PROGRAMS` keys were
        wasted."""
        self.captured = False
        """Whether it captured a call since it was made or reset (a capture after that is a recompile, to a stance)."""
        self.__wrapped__ = function
        self.__name__ = getattr(function, "__name__", type(function).__name__)
        self.__doc__ = getattr(function, "__doc__", None)
        EVERY.add(self)
        _watch_libraries()

    def forget(self) -> None:
        """Drop every program and refusal: the next call captures afresh (:func:`reset`)."""
        self.entries.clear()
        self.last_key, self.unused, self.refusal, self.warned_about_tape, self.captured = None, 0, None, False, False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        grad_enabled, tape = STATE.switches
        packing = PACKING and active_hooks() is not None
        # run every op where a tape records, an outer compiled step captures, anomaly detection checks every rule,
        # saved values are packed, tangents ride along, a transform differentiates the result twice, or
        # set_stance("force_eager") says so
        if tape is not None or ANOMALY[0] or packing or FORWARD_MODE or STATE.twice or FORCE_EAGER[0]:
            if FORCE_EAGER[0]:
                return self.function(*args, **kwargs)
            if not self.warned_about_tape and not isinstance(tape, Recorder):
                self.warned_about_tape = True
                why = (f"a tape is recording ({getattr(tape, 'watching', 'gg.trace')}), so that it sees every step"
                       if tape is not None else
                       "anomaly detection is on, so that every backward rule is checked" if ANOMALY[0] else
                       "saved_tensors_hooks is active, so that its hooks see every value the ops save" if packing else
                       "a forward-mode dual level is open, so that every op carries its tangent" if FORWARD_MODE else
                       f"{STATE.twice} differentiates the call's graph twice (forward mode's double-backward trick, a "
                       "Hessian), which a replayed backward cannot be")
                warn_at_learners_line(f"gg.compile({self.__name__}): {why}; running it eagerly meanwhile")
            return self.function(*args, **kwargs)
        key, inputs = ((grad_enabled,), args) if not args and not kwargs else _signature(args, kwargs, grad_enabled)
        self.last_key = key
        entry = self.entries.get(key)
        if entry is not None:
            if entry.programs:
                program = entry.replayable()  # None: a parameter was replaced or a layer changed mode: capture
                if program is None:
                    self._rebound(entry)
                else:
                    entry.replays += 1
                    if program.node_op is not None:  # a forward whose backward runs outside: nodes of the graph
                        return program.call_node(inputs)
                    if not inputs:  # a step that closes over its batch: no list to build
                        return program.replay_function()
                    if program.passes_inputs:  # it returns an argument as it is
                        return program.replay_function(inputs, *[tensor.array for tensor in inputs])
                    return program.replay_function(*[tensor.array for tensor in inputs])
        if self.captured and STANCE[0] in RECOMPILING:  # set_stance: a capture now would be a recompile
            return self._not_recompiled(args, kwargs)
        if entry is not None:
            if entry.refusal is not None:
                return self.function(*args, **kwargs)
            self.entries.move_to_end(key)  # the least recently captured key goes first when the cache is full
        elif self.refusal is not None:  # no new keys: the keys that have a program go on replaying
            return self.function(*args, **kwargs)
        else:
            entry = self.entries[key] = _Entry()
            if len(self.entries) > MAX_PROGRAMS:  # the least recently captured key without a program goes first
                dropped = self.entries.pop(next((old for old, kept in self.entries.items()
                                                 if kept.program is None and old != key), next(iter(self.entries))))
                self.unused += dropped.program is None and dropped.refusal is None
                if self.unused >= MAX_PROGRAMS:  # shapes that change at every call: capturing only costs
                    self._stop_capturing()
                    return self.function(*args, **kwargs)
        return self._capture(entry, inputs, args, kwargs)

    def _stop_capturing(self) -> None:
        """Capture no new key from now on (its calls run eagerly), saying why once; keys with a program stay."""
        self.refusal = (f"its arguments' shapes, dtypes or Python values keep changing ({self.unused} keys dropped "
                        "before they were called twice), so each call is captured and none replayed; pad the batches "
                        "to a few shapes (bucketing), and pass changing numbers as tensors")
        for key in [key for key, entry in self.entries.items() if entry.program is None]:
            del self.entries[key]
        warn_at_learners_line(f"gg.compile({self.__name__}): {self.refusal}; calls with new shapes run eagerly from "
                              "now on")

    def _not_recompiled(self, args: tuple, kwargs: dict) -> Any:
        """A call that would capture again under the stance ``eager_on_recompile`` (it runs eagerly) or
        ``fail_on_recompile`` (it raises, as PyTorch's)."""
        if STANCE[0] == "fail_on_recompile":
            raise RuntimeError(f"Detected recompile when torch.compile stance is 'fail_on_recompile': "
                               f"gg.compile({self.__name__}) would capture the step again (new shapes, or a guard that "
                               "no longer holds); torch.compiler.set_stance('default') lets it")
        return self.function(*args, **kwargs)

    def _capture(self, entry: _Entry, inputs: list, args: tuple, kwargs: dict) -> Any:
        from ..nn.hooks import (
            _GLOBAL_FORWARD_HOOKS,
            _GLOBAL_FORWARD_PRE_HOOKS,
            register_module_forward_hook,
            register_module_forward_pre_hook,
        )

        self.captured = True

        recorder = Recorder(self.fullgraph)
        recorder.bind_inputs(inputs)
        # what the step's code will read, as it starts, with the layers an earlier capture of this key called (a
        # forward that appends to self.history must find the list as it was before its own append)
        known = {id(module): module for capture in entry.pending.values() for module, _ in capture.modules}
        reads, refusals = names_read(self.function, list(known.values()), _objects(args, kwargs))
        # and their settings, as the step starts: a forward counting self.calls += 1 must find the count changed at
        # the next call (taken as the step ended, the guard held, and replays counted nothing, without a word)
        starting = {id(module): (module, _settings_of(module))
                    for module in (*known.values(), *([self.owner] if self.owner is not None else []))}
        if self.owner is not None:
            recorder.watch(self.owner)
        if _GLOBAL_FORWARD_HOOKS or _GLOBAL_FORWARD_PRE_HOOKS:
            recorder.refuse("a global module hook is registered: Python a replay would not run")
        handles = [register_module_forward_pre_hook(recorder.module_starts),
                   register_module_forward_hook(recorder.module_ends)]
        try:
            with watched_by(recorder):
                result = self.function(*args, **kwargs)
                recorder.walk_outside(result)  # a forward whose backward() runs outside it: its backward too
        finally:
            for handle in handles:
                handle.remove()
        capture = recorder.finish(result)
        more, more_refusals = names_read(None, [module for module, _ in capture.modules if id(module) not in known])
        capture.reads = reads + more
        capture.settings = [(module, *starting[id(module)][1]) if id(module) in starting else (module, names, values)
                            for module, names, values in capture.settings]
        if (refusals or more_refusals) and capture.refusal is None:  # random.random(), next(batches): Python to run
            capture.refusal = (refusals or more_refusals)[0]
        moved = [read.name for read in capture.reads if id(read.where) in recorder.rescheduled]
        read_in = {id(read.where) for read in capture.reads}
        capture.stepped = [optimizer for optimizer in recorder.stepped.values()  # a step hook registered later may
                           if any(id(group) in read_in for group in optimizer.param_groups)]  # change what it reads
        if moved and capture.refusal is None:  # guarded as the step starts, and changed by a kernel of its own
            capture.refusal = (f"'{moved[0]}', which the step's code reads, may be changed by a step() inside it (a "
                               "scheduler's, or an optimizer's with step hooks), and a replay would use the captures' "
                               "number where it changes (its guard is checked as the step starts); read it outside "
                               "the compiled step")
        entry.captures += 1
        if capture.refusal is not None:
            self._give_up(entry, capture.refusal)
            return result
        modes = tuple((id(module), training) for module, training in capture.modules)  # a program per set of modes
        before = entry.pending.pop(modes, None)
        if before is not None:
            externals, reason = compare(before, capture)
            if externals is not None:  # the captures' arrays (a whole step's) are no longer needed
                entry.disagreements = 0
                entry.programs.insert(0, Program(capture, externals))
                del entry.programs[MAX_MODES:]
                return result
            entry.disagreements += 1
            if entry.disagreements >= MAX_CAPTURES - 1:
                names = changed(before.reads)  # bound anew since the first capture began: the likely cause
                if names:
                    reason += (f"; '{names[0]}', which the step reads from outside it, held something new on the "
                               "next call: pass it to the step as an argument, or have the step return what it puts "
                               "there and keep it outside")
                self._give_up(entry, f"the step does different work on each call: {reason}")
                return result
        if len(entry.pending) >= MAX_MODES:  # sets of modes met once each: keep the latest few
            seen = {id(module) for waiting in entry.pending.values() for module, _ in waiting.modules}
            new = [type(module).__name__ for module, _ in capture.modules if id(module) not in seen]
            if new:  # a layer built inside the step (or a forward): no two captures agree
                self._give_up(entry, f"the layers it calls are new objects at each call ({', '.join(new[:3])} new at "
                                     "this one: a layer or loss built inside the step or a forward, nn.ReLU()(x), "
                                     "nn.CrossEntropyLoss()(out, y)), so each call would be captured and none "
                                     "replayed; build it once, outside the step (in __init__), or call its function "
                                     "(F.relu)")
                return result
            del entry.pending[next(iter(entry.pending))]
        entry.pending[modes] = capture
        return result

    def _rebound(self, entry: _Entry) -> None:
        """A key whose programs' guards failed: where a name the step reads from outside was bound anew at each of the
        last :data:`MAX_REBOUND` calls, with no replay between, the key runs eagerly from now on, saying which; so it
        does where a layer was in another mode than each of its programs ran it in at each of them (a step that sets
        the mode itself, ``model.train()`` at its top, after a validation pass in ``eval()`` before every call: captured
        at every call, and none replayed, without a word). A call whose modes have a program, whose guards failed for
        another reason (``requires_grad_()`` after a validation pass in ``eval()``), is not counted."""
        program = entry.programs[0]
        names = changed(program.reads) + program.settings_changed()
        # a program of the layers' modes now failed for another reason (a parameter unfrozen): not the step's doing
        modes = program.modes_changed() if all(other.modes_changed() for other in entry.programs) else []
        if not names and not modes:
            return
        streak, replays = entry.rebound
        streak = streak + 1 if replays == entry.replays else 1
        entry.rebound = (streak, entry.replays)
        if streak >= MAX_REBOUND:
            entry.programs.clear()
            if not names:
                self._give_up(entry, f"'{modes[0]}' is not what the step runs it in when each call starts (a step "
                                     "that sets the mode itself, model.train() at its top, after model.eval() "
                                     "outside?), so each call is captured and none replayed; set the mode outside the "
                                     "compiled step")
                return
            self._give_up(entry, f"'{names[0]}', which the step reads from outside it, holds something new at each "
                                 "call, so each call is captured and none replayed; pass it to the step as an argument "
                                 "(a tensor, for a number that changes), or have the step return what it puts there (a "
                                 "value it binds, an entry it appends) and keep it outside")

    def _give_up(self, entry: _Entry, reason: str) -> None:
        entry.refusal = reason
        entry.pending.clear()
        if self.fullgraph:
            raise CompileRefused(f"gg.compile(fullgraph=True): {reason}")
        warn_at_learners_line(f"gg.compile({self.__name__}): {reason}; running it eagerly")

    def explain(self, source: bool = False) -> str:
        """The captured program of the latest call's key, kernel by kernel (see :mod:`glassgrad.compiler.explain`).

        ``source=True`` adds the Python function the replay runs, a line per kernel.
        """
        from .explain import explain_program

        entry = self.entries.get(self.last_key)
        if entry is None and self.refusal is not None:
            return f"{self.__name__}: runs eagerly for these shapes, because {self.refusal}"
        if entry is None:
            return f"{self.__name__}: nothing captured yet; call it first"
        if entry.refusal is not None:
            return f"{self.__name__}: runs eagerly, because {entry.refusal}"
        if entry.program is None:
            return (f"{self.__name__}: captured {entry.captures} time(s); the program is ready once two captures "
                    "agree (call it again)")
        listing = explain_program(self.__name__, entry.program)
        return f"{listing}\n\n{entry.program.source}" if source else listing

    def __deepcopy__(self, memo: dict) -> Compiled:
        """A copy of the function or module, compiled afresh: the programs read and write the arrays of the
        original (``best = copy.deepcopy(model)`` of a compiled model must compute with its own weights)."""
        copied = memo[id(self)] = Compiled(copy.deepcopy(self.function, memo), self.fullgraph)
        return copied

    def __reduce__(self) -> tuple:
        """Pickled as the function (or module) and its options, compiled afresh when loaded, as PyTorch pickles a
        compiled module: a program holds the arrays and kernels of this process (``pickle.dumps(model)`` of a model
        compiled by ``model.compile()``, or a compiled one, raised once it had run)."""
        return Compiled, (self.function, self.fullgraph)

    def __repr__(self) -> str:
        return f"<compiled {self.__name__}>"


WATCHED = ("glassgrad", "glassgrad.nn.functional")
"""The library modules whose functions a step's layers and code call by attribute (``F.relu``, ``gg.tanh``): one
bound anew between calls (``F.relu = my_relu``, a notebook's monkeypatch) ends every program (:class:`_Watched`)."""


class _Watched(types.ModuleType):
    """The class of each module of :data:`WATCHED`: a function among its attributes bound anew drops every compiled
    function's programs, so that the next call captures what eager now runs. A replay runs none of the library's
    Python: ``F.relu = my_relu`` between calls (read by ``nn.ReLU.forward``) was replayed as the old relu, without a
    word. The guards pay nothing for it: such a change is rare, and seen where it is made."""

    def __setattr__(self, name: str, value: Any) -> None:
        held = self.__dict__.get(name, value)
        super().__setattr__(name, value)
        if held is not value and callable(held) and not isinstance(held, (type, types.ModuleType)):
            _forget_programs()


def _watch_libraries() -> None:
    """Give each module of :data:`WATCHED` the class :class:`_Watched` (once: at the first ``gg.compile``)."""
    for name in WATCHED:
        module = sys.modules.get(name)
        if module is not None and type(module) is types.ModuleType:
            module.__class__ = _Watched


def _forget_programs() -> None:
    """Drop every compiled function's programs and captures not yet confirmed (its refusals stay): each key captures
    afresh at its next call."""
    for compiled in list(EVERY):
        for entry in compiled.entries.values():
            entry.programs.clear()
            entry.pending.clear()


STANCES = ("default", "force_eager", "eager_on_recompile", "fail_on_recompile", "eager_then_compile",
           "aot_eager_then_compile")
"""PyTorch's compiler stances (:class:`set_stance`)."""

STANCE = ["default"]
"""The stance now (one for the process, as PyTorch's)."""

RECOMPILING = ("eager_on_recompile", "fail_on_recompile")
"""The stances under which a compiled function that captured already captures no more."""

FORCE_EAGER = [False]
"""Whether the stance is ``force_eager``: every compiled function runs its function as it is (one test per call)."""


class set_stance:
    """PyTorch's ``torch.compiler.set_stance(stance)``: how compiled functions behave from now on, or inside a
    ``with`` block, or while a decorated function runs.

    * ``"default"``: capture and replay;
    * ``"force_eager"``: every compiled function runs its function eagerly (its programs are kept for later);
    * ``"eager_on_recompile"``: a call that would capture again (new shapes, a guard that fails) runs eagerly,
      calls a program fits still replay; ``"fail_on_recompile"``: such a call raises instead;
    * ``"eager_then_compile"``, ``"aot_eager_then_compile"``: as ``"default"`` (a capture is an eager run already).

    ``skip_guard_eval_unsafe`` and ``force_backend`` are taken and change nothing (the guards are always checked).
    """

    def __init__(self, stance: str = "default", *, skip_guard_eval_unsafe: bool = False,
                 force_backend: Any = None) -> None:
        if stance not in STANCES:
            raise ValueError(f"set_stance: invalid torch.compile stance {stance!r}; give one of "
                             f"{', '.join(map(repr, STANCES))}")
        if is_compiling():
            raise RuntimeError("set_stance: not inside a compiled function (PyTorch refuses it there too); set it "
                               "before calling the function")
        self.stance, self.before = stance, STANCE[0]
        _take(stance)

    def __enter__(self) -> set_stance:
        return self

    def __exit__(self, *error: Any) -> None:
        _take(self.before)

    def __call__(self, function: Callable) -> Callable:
        """As a decorator: the stance holds while ``function`` runs (and not before: the call that made this
        object set it, which is undone here)."""
        _take(self.before)
        stance = self.stance

        @functools.wraps(function)
        def with_stance(*args: Any, **kwargs: Any) -> Any:
            with set_stance(stance):
                return function(*args, **kwargs)

        return with_stance


def _take(stance: str) -> None:
    STANCE[0], FORCE_EAGER[0] = stance, stance == "force_eager"


def reset() -> None:
    """Forget every compiled function's programs and refusals, so that each captures afresh at its next call:
    PyTorch's ``torch.compiler.reset()`` (``torch._dynamo.reset()``), which tutorials call between experiments."""
    for compiled in list(EVERY):
        compiled.forget()


def is_compiling() -> bool:
    """Whether a compiled function is capturing its step now, in this thread (PyTorch's
    ``torch.compiler.is_compiling()``: code that should not run in a compiled step, a print, skips itself)."""
    return isinstance(STATE.switches[1], Recorder)


MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
"""PyTorch's ``mode`` names for ``torch.compile``."""


def check_options(mode: str | None, options: dict | None) -> None:
    """PyTorch's checks of ``torch.compile``'s ``mode`` and ``options`` (the only ones it refuses)."""
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"compile: unrecognized mode={mode!r}, should be one of: {', '.join(MODES)}")
    if mode is not None and options is not None:
        raise RuntimeError("compile: give mode or options, not both (as PyTorch)")


def _signature(args: tuple, kwargs: dict, grad_enabled: bool) -> tuple[Any, list | tuple]:
    """The cache key of a call (shapes, strides, dtypes, values, grad mode) and its tensor arguments, in order.

    The strides are part of it: the step's code may read a tensor's layout (``x.view(-1)``, which eager refuses for a
    transposed tensor; ``x.contiguous()``, the tensor itself or a copy; ``x.is_contiguous()``, ``x.stride()``), and a
    program captured with one layout replayed another's work without a word (``x.T`` after contiguous batches: a
    reshape's copy where eager raised, the same tensor where eager copied). A tensor of another layout now has a key,
    and a program, of its own.

    A call with no arguments has the key ``(grad_enabled,)`` (:meth:`Compiled.__call__` makes it itself).
    """
    if not kwargs:  # the common calls, keyed in one pass: tensors only
        for arg in args:
            if type(arg) is not Tensor:
                break
        else:
            key = (grad_enabled, *[(arg.array.shape, arg.array.strides, arg.array.dtype, arg._requires_grad)
                                   for arg in args])
            return key + _aliases(args), args
    tensors: list[Tensor] = []

    def describe(value: Any) -> Any:
        if isinstance(value, Tensor):
            tensors.append(value)
            return ("tensor", value.array.shape, value.array.strides, value.array.dtype.str, value._requires_grad)
        if isinstance(value, (tuple, list)):
            return (type(value).__name__, tuple(describe(part) for part in value))
        if isinstance(value, dict):
            return ("dict", tuple((name, describe(part)) for name, part in value.items()))
        try:
            hash(value)
        except TypeError:
            return ("object", id(value))
        return ("value", type(value).__name__, value)

    key = ("described", grad_enabled, describe(args), describe(kwargs))
    return key + _aliases(tensors), tensors


def _objects(args: tuple, kwargs: dict) -> list[tuple[str, Any]]:
    """``(name, value)`` of the arguments that are neither tensors nor plain values (an object of settings, a layer,
    a dict: :func:`~glassgrad.compiler.names.names_read` guards the attributes the step reads of them), named as a
    guard shows them: ``argument 2``, or the keyword."""
    given = [*((f"argument {place}", value) for place, value in enumerate(args, 1)), *kwargs.items()]
    return [(name, value) for name, value in given if not isinstance(value, (Tensor, *PLAIN))]


PLAIN = (int, float, complex, bool, str, bytes, type(None))
"""Arguments that the key holds by value: nothing in them to read."""


def _aliases(tensors: Any) -> tuple:
    """``()``, or, when one tensor is passed more than once (``step(x, x)``: an autoencoder's input as its target),
    which arguments are the same (each one's first position): a program captured with one tensor in two places
    reads it once, so a call with two tensors there needs a program of its own."""
    arrays = [id(tensor.array) for tensor in tensors]
    if len(set(arrays)) == len(arrays):
        return ()
    return (("same", tuple(arrays.index(array) for array in arrays)),)
