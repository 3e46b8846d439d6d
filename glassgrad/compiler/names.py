"""What a compiled step reads by name from outside itself: its module's globals and its closure's cells.

A replay runs no Python of the step, so without a guard it would go on with what the capture read, without a word,
after ``lr = lr * 0.9`` between calls, a global tensor bound again (``w = gg.tensor(…)``), a helper function defined
again in a notebook, or a config object's number changed (``cfg.clip = 0.5``). Each name read is guarded
(:meth:`~glassgrad.compiler.program.Program._guards`): a change is read by a new capture, as eager reads it, and a
name that changes at every call makes the step run eagerly, saying which (PyTorch's compiler guards the globals and
closure variables it reads in the same way). What the names hold is taken as the step starts (what a layer holds,
once the step ran: the layers are known then).

The names are found in the code, not by tracing: those the step's code loads as globals (``LOAD_GLOBAL``) and its
free variables, then the same in each function among their values written outside glassgrad and the Python
installation (a helper the step calls, up to :data:`MOST_CODE` functions), and in the ``forward`` of each layer of
the user's own classes the step called; and the attributes of each layer the step called that are not settings (a
function in ``self.act``, whose code is read too when it is the user's: ``Lambda(fn)``'s ``self.fn``; a list of
tensors, a tensor that is not a buffer, a private number ``self._scale``; its settings, parameters, buffers,
sublayers and mode have guards of their own), and the settings its class holds that
its ``forward`` names (``scale = 2.0`` in the body of a class of the user's, read as ``self.scale``), and what a
settings object or dict it holds holds, as below (``self.config.scale``, ``self.opts["optim"]["lr"]``: read for
each layer, so two layers of one class with a config each have a guard each, though their ``forward`` is read
once). A method of a layer's class that its ``forward`` names (``self._scale()``, a property) is read as the
``forward`` is, and so is a method of a settings object the code names (``ema.update(model)``, reading and counting
``self.updates``), of the object whose method is compiled (``self.log(…)`` in ``gg.compile(module.training_step)``)
and of an object in a short list or tuple the code reads (``for cb in callbacks: cb.on_step(loss)``, shown as
``callbacks[0].calls``), and of a layer of the user's class the code names (``model.loss(x, y)`` reading a global);
so is the ``__call__`` of a callable object of the user's held by a layer or a settings object, or in a list, tuple
or dict (of up to :data:`MOST_ENTRIES`, nested up to :data:`MOST_DEPTH` levels) the code reads (``self.act =
Act()``, ``for layer in layers: x = layer(x)`` of makemore's hand-written layers, each binding ``self.out`` at each
call), and each function or bound method there (``acts = [lambda x: x * SCALE, gg.tanh]``, ``[scaler.apply]``) or
held by a layer (``self.act = my_act``, a layer of glassgrad's too: ``nn.TransformerEncoderLayer(…,
activation=my_act)``), or passed as an argument (``step(x, act)``).
An attribute the code binds counts as one it reads (``self.meta.last = attn.detach()``, ``log.loss = loss``).
A step whose code is a library's (``gg.fit``'s, under ``compile=True``) has its own names left
alone, but the user's functions it holds are read as helpers are (:func:`_users_functions`: the loss function given
to ``fit``).
A helper wrapped by ``functools.lru_cache`` is read through the function it wraps. Code that names attributes by
strings (``getattr``, ``setattr``, ``vars``) has its string constants read as attribute names too. Guarded as:

* a number, string, flag or None, or a short list or tuple of them: by value (the settings' rule,
  :func:`~glassgrad.compiler.capture._plain_setting`);
* a plain object (a ``SimpleNamespace``, an ``argparse.Namespace``, a dataclass of settings; ``self`` in a compiled
  method of one): by identity, and each of its attributes that the code names, by these same rules (``args.lr``,
  a setting of its class read through it too), and theirs, :data:`MOST_DEPTH` levels down (``cfg.optim.lr``); a
  property it names has its code read as a method of the object (``cfg.lr`` worked out from ``self._lr``); so are
  the attributes the code names of a module or a class of the user's own (``import config``: ``config.LR``, a
  helper ``utils.act`` whose code is read too; ``Config.lr``);
* what a function is called with that the step does not write: its default arguments (``step.__defaults__``, and
  each entry of a dict among them, and the entries of a list, deque or set among them: ``history=[]``), a
  ``functools.partial``'s keywords (each entry), whose function is read too;
* an optimizer or a scheduler: by identity, and the numbers the code names of it by value (:func:`_rates`: each
  group's settings where it names ``param_groups``, ``opt.param_groups[0]["lr"]``; a scheduler's ``get_last_lr()``
  and ``last_epoch``), so that a rate a scheduler changed between calls is read by a new capture, and one the step
  changes itself (``g["lr"] *= 0.9``) makes it run eagerly, naming it;
* a layer: by identity, and each of the settings the code names by value (its mode: ``if other.training``, of
  a layer the step reads but does not call; the capture guards those of the layers it calls);
* a NumPy array of numbers (a global, a layer's ``self.weights``, an entry of a dict or a list the code reads, an
  attribute of a settings object): by identity and by its numbers (:class:`Array`), so that one changed in place
  between calls (``CLASS_WEIGHTS[1] = 2.0``, ``w += 1``), whose numbers the step's code may have worked out in Python
  (``float(w[1])``, ``w.sum()``, ``gg.tensor(w * 2)``: constants of the program), is read by a new capture; one of
  more than :data:`MOST_ARRAY` numbers by identity alone;
* anything else but a Python module or a class (a tensor, a function, a layer, an optimizer, a list of
  tensors): by identity, and a container's entries (up to 64) by identity too, and so the containers in such a
  dict (``CONFIG["optim"]["lr"]``, ``history["loss"].append(…)``); a longer one, its length. Containers: a list, a
  ``deque``, a dict and its subclasses (``defaultdict``, ``Counter``, ``OrderedDict``), a ``WeakKeyDictionary`` or
  ``WeakValueDictionary`` (the guard holds its entries strongly), a set (its members, by equality);
* the process environment, where the code loads ``os`` and names ``environ``, ``environb``, ``getenv`` or
  ``getenvb``, or loads a name bound to one of them (``from os import environ``): one guard, a copy of every
  variable compared by value (:class:`Environment`: one dict comparison, 0.2 µs for 40 variables), so that any
  variable set, changed or removed between calls makes a new capture, which reads it as eager does.

A name holding an iterator (a generator, ``iter(batches)``, ``itertools.count()``) or a file makes the step run
eagerly, saying which (:func:`used_up`): the step takes items from it or writes to it, which a replay would not. So
does code naming a tensor's NumPy array, ``x.array`` (:func:`_reads_arrays`; ``np.array`` is not one): what it reads
or writes there is outside the kernels a capture records.

Not seen: values a library's code reads (a package reading ``os.environ`` inside itself, Python's library
included), an entry of a long container changed in place, a NumPy array of more than :data:`MOST_ARRAY` numbers
changed in place, attributes more than :data:`MOST_DEPTH` levels down.
"""

from __future__ import annotations

import collections
import datetime
import dis
import functools
import io
import itertools
import logging
import os
import sys
import sysconfig
import time
import types
import warnings
import weakref
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..nn.hooks import bound_by_hooks
from .capture import PACKAGE, _plain_setting, _snapshot

MOST_CODE = 64
"""Functions read for names per capture (the step, the helpers it reaches, its layers' forwards)."""

MOST_DEPTH = 3
"""How many attributes down a settings object's attributes are read (``cfg.optim.lr``: two)."""

MOST_ENTRIES = 64
"""A list or dict read by name longer than this is guarded by identity and length alone (its entries would cost
every replay)."""

SEQUENCES = (list, collections.deque)
"""Containers read by name whose entries are guarded in order (``history.append(…)``, a ``deque(maxlen=100)``)."""

MAPPINGS = (dict, weakref.WeakKeyDictionary, weakref.WeakValueDictionary)
"""Containers read by name whose entries are guarded by key: a dict and its subclasses (``defaultdict(list)``,
``Counter``, ``OrderedDict``), and the weak dicts a cache keyed by a model is kept in."""

INLINE_ENTRIES = 8
"""A list read by name with at most this many entries has its guard written out entry by entry (``params[0] is …``)."""

LAYER_INTERNALS = frozenset(("training", "_parameters", "_buffers", "_modules", "_non_persistent_buffers",
                             "_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
                             "_state_dict_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks",
                             "_load_state_dict_post_hooks"))
"""A layer's own tables, guarded by the capture's guards (its mode, parameters, buffers, sublayers, hooks)."""

LAYER_TABLES = LAYER_INTERNALS - {"training"}
"""A layer's own tables, never read as a name: its mode is, where the code names it (``if other.training``) of a
layer the step may not call (the capture guards the modes of those it calls)."""

LIBRARIES = tuple(Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "purelib", "platlib"))
"""Where Python's own modules and installed packages live: their code is not the step's."""


@dataclass(frozen=True)
class Read:
    """One name the step reads: ``where`` holds it (a module's globals, a closure cell, or an object whose attribute
    ``key`` it is), ``name`` is how the step writes it (``lr``, ``args.lr``), ``value`` what it held at capture (a
    setting's snapshot, compared by value; anything else, compared by identity)."""

    where: Any
    key: str | None
    name: str
    value: Any
    by_value: bool
    entries: Any = None
    """A list's or dict's entries as the name was read (:func:`_entries`: a copy, or the length of a long one): the
    guard compares with them, not with the container, which the step itself may change (``history.append(…)``)."""

    def now(self) -> Any:
        """What the name holds now (:data:`MISSING` where it is gone)."""
        if self.key is None:
            try:
                return self.where.cell_contents
            except ValueError:  # the cell was emptied (``del`` of the variable)
                return MISSING
        if isinstance(self.where, dict):
            return self.where.get(self.key, MISSING)
        return getattr(self.where, self.key, MISSING)

    def holds(self) -> bool:
        """Whether the name still holds what it held at capture (the guard, for a message: :func:`changed`)."""
        now = self.now()
        if self.by_value:
            return type(now) is type(self.value) and now == self.value
        entries = self.entries
        return now is self.value and (entries is None or (len(now) == entries if type(entries) is int
                                                          else same_entries(now, entries)))

    def shown(self) -> str:
        """The guard as a reader sees it: ``lr == 0.1 (float)``, ``w: the same Tensor``, ``params: the same list, its
        4 entries the same``."""
        if self.by_value:
            return f"{self.name} == {self.value!r} ({type(self.value).__name__})"
        entries = self.entries
        kind = getattr(type(self.value), "__name__", "object")
        held = ("" if entries is None else f", {entries} entries long" if type(entries) is int
                else f", its {len(entries)} entries the same")
        return f"{self.name}: the same {kind}{held}"

    def source(self, named: Any) -> str:
        """Where the guard finds the name's value now, as a Python expression (``named``: as in :meth:`guard`)."""
        if self.key is None:
            return f"{named(self.where)}.cell_contents"
        if isinstance(self.where, dict):
            return f"{named(self.where)}.get({self.key!r}, {named(MISSING)})"
        if isinstance(self.where, types.FunctionType) and self.key in ("__defaults__", "__kwdefaults__"):
            return f"{named(self.where)}.{self.key}"  # a function always has them: no getattr's default to pass
        return f"getattr({named(self.where)}, {self.key!r}, {named(MISSING)})"

    def guard(self, named: Any, number: int) -> str:
        """The guard as one Python expression; ``named(value)`` is the program's name for a value, ``number`` makes
        this guard's own variable name."""
        held = self.source(named)
        if self.value is None or type(self.value) is bool:  # one object each: the same value is the same object
            return f"{held} is {named(self.value)}"
        if self.by_value:
            now = f"_n{number}"
            return f"({now} := {held}).__class__ is {named(type(self.value))} and {now} == {named(self.value)}"
        entries, kept = self.entries, named(self.value)
        check = f"{held} is {kept}"
        if type(entries) is tuple and len(entries) <= INLINE_ENTRIES:  # a short list: written out, no call
            return " and ".join([check, f"len({kept}) == {len(entries)}",
                                 *[f"{kept}[{place}] is {named(entry)}" for place, entry in enumerate(entries)]])
        if type(entries) is int:  # a long one: its length at least (len(vocab))
            return f"{check} and len({kept}) == {entries}"
        return check if entries is None else f"{check} and _same_entries({kept}, {named(entries)})"


@dataclass(frozen=True)
class Environment(Read):
    """The process environment, read by the step's code (``os.environ["SCALE"]``, ``os.getenv``): ``where`` is
    ``os.environ``, ``value`` a copy of the dict it keeps its variables in (``_data``, shared with ``os.environb``),
    compared by value, one dict comparison in C, so that a variable set, changed or removed between calls is read by
    a new capture, as eager reads it."""

    def shown(self) -> str:
        return f"{self.name}: the same {len(self.value)} variables"

    def guard(self, named: Any, number: int) -> str:
        return f"{named(self.where)}._data == {named(self.value)}"


@dataclass(frozen=True)
class Array(Read):
    """A NumPy array the step reads by name (a global, a layer's ``self.weights``): by identity, and by its numbers
    (``entries``: a copy taken as the step starts), compared at each call. A kernel reading the array itself reads it
    live, but what the step's code works out from it in Python (``CLASS_WEIGHTS[k]``, ``float(w[1])``, ``w.sum()``,
    ``gg.tensor(w * 2)``) is a constant of the program: an array changed in place between calls (``w[1] = 7.0``,
    ``w += 1``, a callback's ``w[:] = new``) was replayed with the captures' numbers, without a word; and one the
    step's code changes itself (``counts[0] += 1``) ran at the captures only: such a step runs eagerly, naming it, as
    does one reading by name a NumPy view of a tensor it updates (``buf = p.numpy()`` taken outside: its numbers
    change at each call, whoever changes them). Arrays of more than
    :data:`MOST_ARRAY` numbers are guarded by identity alone (comparing them would cost every replay more than
    most steps): pass such an array as a tensor."""

    def now(self) -> Any:
        return self.value if self.where is self.value else super().now()  # an entry of a list: itself

    def source(self, named: Any) -> str:
        return named(self.value) if self.where is self.value else super().source(named)

    def holds(self) -> bool:
        now = self.now()
        return now is self.value and same_array(now, self.entries)

    def shown(self) -> str:
        return f"{self.name}: the same ndarray, its {self.entries.size} numbers the same"

    def guard(self, named: Any, number: int) -> str:
        kept = named(self.value)
        return f"{self.source(named)} is {kept} and _same_array({kept}, {named(self.entries)})"


MOST_ARRAY = 1 << 16
"""A NumPy array read by name with more numbers than this is guarded by identity alone (:class:`Array`)."""


def _guarded_array(value: Any) -> bool:
    """Whether ``value`` is a NumPy array of numbers whose numbers a guard compares (:class:`Array`)."""
    return type(value) is np.ndarray and value.dtype.kind in "biufc" and value.size <= MOST_ARRAY


def same_array(now: np.ndarray, kept: np.ndarray) -> bool:
    """Whether ``now`` still holds ``kept``'s numbers (a NaN where ``kept`` has one counts as the same)."""
    return (now.shape == kept.shape and now.dtype == kept.dtype
            and np.array_equal(now, kept, equal_nan=now.dtype.kind in "fc"))


@dataclass(frozen=True)
class Contents(Read):
    """A container the step reads that no name holds (``where`` is the container itself): a default argument's list
    (``def step(x, history=[])``, appended to at each call), whose function's ``__defaults__`` is the same tuple
    whatever the list holds. Only its entries are guarded."""

    def now(self) -> Any:
        return self.value

    def source(self, named: Any) -> str:
        return named(self.value)


ENVIRONMENT_NAMES = frozenset(("environ", "environb", "getenv", "getenvb"))
"""What ``os`` reads the environment through: ``os.environ[…]``, ``os.getenv(…)``, and their bytes forms."""


MISSING = object()
"""What a name that no longer exists holds (it fails every guard)."""


def changed(reads: list[Read]) -> list[str]:
    """The names among ``reads`` that no longer hold what they held at capture, as the step writes them."""
    return [read.name for read in reads if not read.holds()]


def same_entries(container: Any, entries: Any) -> bool:
    """Whether a list's or a dict's entries are still the objects ``entries`` holds, or a set's its members
    (:func:`_entries`)."""
    if type(entries) is frozenset:
        return container == entries
    if isinstance(entries, dict):
        return (len(container) == len(entries) and
                all(container.get(key, MISSING) is value for key, value in entries.items()))
    return len(container) == len(entries) and all(now is kept for now, kept in zip(container, entries))


def _entries(value: Any) -> Any:
    """What a container read by name holds, for :func:`same_entries`: a tuple of a list's or a deque's entries, a
    dict copy of a mapping's (:data:`MAPPINGS`), a frozenset of a set's members; the length of one longer than
    :data:`MOST_ENTRIES` (its entries would cost every replay); None for anything else (a tuple cannot change)."""
    if not _container(value):
        return None
    if len(value) > MOST_ENTRIES:
        return len(value)
    return (tuple(value) if isinstance(value, SEQUENCES) else frozenset(value) if isinstance(value, set)
            else dict(value.items()))


def _container(value: Any) -> bool:
    """Whether ``value`` is a container the step may change in place, whose entries a guard compares
    (:data:`SEQUENCES`, :data:`MAPPINGS`, a set): a ``deque``, ``defaultdict``, ``Counter`` or set the step appends
    to, counts in or adds to was guarded by identity alone, and replays skipped the change without a word."""
    return isinstance(value, (*SEQUENCES, *MAPPINGS, set))


def names_read(function: Any, layers: list, arguments: list | tuple = ()) -> tuple[list[Read], list[str]]:
    """The names ``function`` (the compiled step) and the ``forward`` of ``layers`` (the layers it called) read from
    outside, each once, in the order found, with what each holds now; and why a replay cannot repeat the step, for
    each name that draws from Python's random module or NumPy's (:func:`draws_outside`) or holds
    an iterator or a file (:func:`used_up`).

    ``arguments``: ``(name, value)`` of the call's arguments that are objects (the key holds each by identity), whose
    attributes the code names are read as a global's are (``step(x, cfg)`` reading ``cfg.scale``, ``cfg.w``): a
    replay went on with the capture's ``cfg.scale`` after the caller changed it, without a word; now the attribute is
    guarded, and a change is read by a new capture, as eager reads it. A function among them is read as a helper the
    step calls (d2l's ``train_epoch(net, X, y, loss, updater)``, ``updater = lambda n: sgd([W, b], lr, n)``: the
    global ``lr`` it reads is guarded)."""
    reads: dict[tuple, Read] = {}
    refusals: list[str] = []
    pending = [_code_of(function), *map(_forward_of, layers)]
    for name, value in arguments:  # step(x, updater): the function passed, its code
        pending.append(_code_of(value))
        if draws_outside(value):  # step(x, rng), a NumPy Generator
            refusals.append(DRAWS.format(name=name))
    for layer in layers:  # self.act = gg.tanh, self.masks[0] = … between calls; its settings are guarded already
        kind, made = type(layer).__name__, bound_by_hooks(layer)  # (a pruned weight, made in the step: not read)
        reads.update(((id(layer), name), _read(layer, name, f"{kind}.{name}", value))
                     for name, value in vars(layer).items()
                     if name not in LAYER_INTERNALS and name not in made
                     and not (name[0] != "_" and _plain_setting(value)))
        forward = _forward_of(layer)[0]
        if forward is None or not _users_class(type(layer)):  # a layer of glassgrad's: activation=my_act
            pending += [(*_code_of(value), f"{kind}.{name}") for name, value in vars(layer).items()
                        if name not in LAYER_INTERNALS and _read_as_called(value)]
        else:  # a layer of the user's class (class Net(nn.Module): scale = 2.0, changed later); what it holds is read
            named, methods = _methods_of_layer(type(layer), forward)
            pending += methods  # the globals they read
            reads.update(((id(layer), name), _read(layer, name, f"{kind}.{name}", value))
                         for name, value in _class_settings(layer, named).items()
                         if name not in vars(layer))
            for name, value in vars(layer).items():  # self.config.scale: this layer's own settings object, read
                if name not in LAYER_INTERNALS:     # here, as its forward's code is read once for all instances (a
                    pending += _read_inside(reads, value, f"{kind}.{name}", named)  # function it holds too)
    pending = [found for found in pending if found[0] is not None]
    seen: set[tuple[int, int]] = set()
    while pending and len(seen) < MOST_CODE:
        code, defined, owner, *shown = pending.pop(0)
        if (id(code), id(owner)) in seen:  # a method once per object (cfg.lr, a property)
            continue
        seen.add((id(code), id(owner)))
        if not _users(code):  # a library's step (gg.fit's): not its names, but the user's functions it holds
            pending += [found for found in _users_functions(defined, owner) if (id(found[0]), id(found[2])) not in seen]
            continue
        attributes = _names_in(code).attributes
        loaded = _loaded(code, defined)
        if _reads_arrays(code, loaded):
            refusals.append(RAW_ARRAY)
        if _names_in(code).catches:
            refusals.append(CATCHES)
        written = writes_outside(code, loaded, attributes)
        if written is not None:
            refusals.append(f"{written} at each call, which a replay would not do (it runs no Python of the step); "
                            "do it outside the compiled step, from what the step returns")
        if _reads_environment(code, loaded, attributes):  # os.environ["SCALE"]: set to another value later
            reads.setdefault((id(os.environ), "_data"), Environment(os.environ, "_data", "os.environ",
                                                                    dict(os.environ._data), True))
        if _plain_object(owner) or _users_layer(owner):  # a method of an object of settings: its attributes, as self.lr
            prefix = shown[0] if shown else "self"
            loaded += [(owner, name, f"{prefix}.{name}", value)
                       for name, value in _named_attributes(owner, attributes - LAYER_TABLES)]
            pending += [(*method, prefix) for method in _methods(owner, attributes)]  # self.log(…) in a trainer's step
        loaded += _given(defined)  # def step(x, scale=1.0): step.__defaults__ = (4.0,) between calls
        for name, value in arguments:  # step(x, cfg): cfg.scale, in the step's code or in a helper's it calls
            pending += _read_inside(reads, value, name, attributes)
        for where, key, name, value in loaded:
            if draws_outside(value, attributes):
                refusals.append(DRAWS.format(name=name))
            if not isinstance(value, (types.ModuleType, type)):  # a module (np, F) or a class is not bound again
                reads.setdefault((id(where), key), _read(where, key, name, value))
                pending.append(_code_of(value))
                loaded += _given(value)  # functools.partial(loss_fn, weight=w): its keywords
            pending += _read_inside(reads, value, name, attributes)  # args.lr, cfg.optim.lr, utils.helper(x)
        pending = [found for found in pending if found[0] is not None]
    refusals += [why for why in map(used_up, reads.values()) if why is not None]
    return list(reads.values()), refusals


RAW_ARRAY = ("the step reads or writes a tensor's NumPy array (.array) itself, outside the kernels a capture "
             "records: a replay would skip its writes and keep the captures' numbers and branches; use tensor ops "
             "inside the step (p.data += …, gg.no_grad()), and .numpy() outside it")
"""Why a step whose own code names ``tensor.array`` runs eagerly (:func:`_reads_arrays`)."""


CATCHES = ("the step catches exceptions (try/except), and a replay runs no Python: an error of a later call (a "
           "kernel's check, cholesky of a matrix that is not positive-definite) would reach the caller where eager's "
           "except handles it; put the try/except around the compiled step's call")
"""Why a step whose code (or a helper's, a forward's it calls) has an ``except`` clause runs eagerly."""


def _reads_arrays(code: types.CodeType, loaded: list[tuple]) -> bool:
    """Whether ``code`` names the attribute ``array`` of anything but a module (``x.array.sum()``,
    ``m.bias.array[0] += 0.5``; not ``np.array(…)``): a write into the NumPy array, or a Python branch on its
    numbers, ran at the captures only, and replays went on without it, without a word."""
    modules = {name for _, _, name, value in loaded if isinstance(value, types.ModuleType)}
    return any(name not in modules for name in _names_in(code).arrays)


OUTPUT_BUILTINS = frozenset(("print", "input", "open", "breakpoint"))
"""Python's builtins whose call does something outside the step (writes, reads the terminal, stops in a debugger)."""

LOG_CALLS = frozenset(("debug", "info", "warning", "warn", "error", "exception", "critical", "log"))
"""The methods of a ``logging.Logger`` (and functions of ``logging``) that log a record."""


TERMINAL_PACKAGES = frozenset(("tqdm", "rich"))
"""Packages of progress bars and consoles: a step that names one of their objects writes to the terminal."""


CLOCK_NAMES = frozenset(("time", "time_ns", "perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns",
                         "process_time", "process_time_ns"))
"""The functions of ``time`` that read a clock."""

CLOCKS = tuple(getattr(time, name) for name in sorted(CLOCK_NAMES))
"""Those functions, as a step may hold them (``from time import perf_counter``)."""


def writes_outside(code: types.CodeType, loaded: list[tuple], attributes: AbstractSet[str]) -> str | None:
    """What ``code`` does outside the step that a replay, running none of its Python, would skip, or None: a call of
    a builtin of :data:`OUTPUT_BUILTINS` (``print("step")``, ``print(x.shape)`` in a ``forward``; printing a tensor's
    values is a read, refused where it happens), a logger's record (``log.info("…")``, ``logging.info``),
    ``warnings.warn``, a write to ``sys.stdout`` or ``sys.stderr``, a progress bar's update or a console's print
    (:data:`TERMINAL_PACKAGES`: ``bar.update(1)``); or reads the clock (``if time.time() - start > 60:
    save(…)``, ``datetime.now()``), whose branch a replay would keep. Replays printed nothing, logged nothing and
    kept the captures' branches, without a word (PyTorch's compiler runs such calls at each call too)."""
    scope = {name for _, _, name, _ in loaded}
    for name in _names_in(code).globals:
        if name in OUTPUT_BUILTINS and name not in scope:
            return f"{name}(…) runs"
    for _, _, name, value in loaded:
        if (isinstance(value, (logging.Logger, logging.LoggerAdapter)) or value is logging) and LOG_CALLS & attributes:
            return f"'{name}' logs"
        if value is warnings and "warn" in attributes:
            return "warnings.warn(…) warns"
        if value is sys and {"stdout", "stderr"} & attributes:
            return "sys.stdout or sys.stderr is written"
        if type(value).__module__.split(".")[0] in TERMINAL_PACKAGES:
            return f"'{name}', a progress bar or console, is written"
        if any(value is clock for clock in CLOCKS) or (value is time and CLOCK_NAMES & attributes) or (
                (value is datetime or value is datetime.datetime) and {"now", "today", "utcnow"} & attributes):
            return f"the clock is read ('{name}')"
    return None


def used_up(read: Read) -> str | None:
    """Why a replay cannot repeat a step that reads ``read``, where it names an iterator (a generator,
    ``iter(batches)``, ``itertools.count()``: ``x, y = next(batches)``, ``if next(counter) % 4 == 0``) or a file
    (``log.write(…)``), or None. A replay runs no Python: it took no item, so the iterator stayed where the captures
    left it, and went on with the captures' items and branches (a gradient accumulated without ``optimizer.step()``),
    without a word."""
    if isinstance(read.value, io.IOBase):
        return (f"'{read.name}' is a file the step reads or writes, which a replay would not do; write outside the "
                "compiled step what it returns")
    if isinstance(read.value, Iterator):
        return (f"'{read.name}' is an iterator the step takes items from, which a replay would not do (it would go "
                "on with the captures' items and branches, and leave the iterator where they left it); take the "
                "item outside and pass it to the step as an argument")
    return None


def _users_functions(function: Any, owner: Any, depth: int = 2) -> list[tuple]:
    """The code of the functions written by the user (:func:`_code_of`) that a library's ``function`` holds in its
    closure, or its ``owner`` holds, or an object of glassgrad's that the owner holds, ``depth`` objects down
    (``gg.fit(model, my_loss, …, compile=True)``: its step calls ``self.state.loss_fn``). What they read is the
    step's: a replay went on with ``my_loss``'s global ``ALPHA`` as the captures read it after a callback changed
    it between epochs, without a word."""
    held = [value for _, _, _, value in _loaded(function.__code__, function)] if function is not None else []
    if owner is not None and hasattr(owner, "__dict__") and not isinstance(owner, (type, types.ModuleType)):
        held += vars(owner).values()
    found = []
    for value in held:
        code = _code_of(value)
        if code[0] is not None and _users(code[0]):
            found.append(code)
        elif (depth > 1 and hasattr(value, "__dict__") and not hasattr(value, "_modules")
              and type(value).__module__.split(".")[0] == "glassgrad"):  # fit's TrainState, not a layer
            found += _users_functions(None, value, depth - 1)
    return found


def _read_inside(reads: dict[tuple, Read], value: Any, name: str, attributes: AbstractSet[str]) -> list[tuple]:
    """Adds to ``reads`` each attribute among ``attributes`` (those the code names) of ``value``, a settings object,
    a dict, a module or a class of the user's, read as ``name`` (:func:`_attributes`: ``args.lr``,
    ``cfg.optim.lr``); gives the code to read next: the functions found there (``utils.helper(x)``), the
    methods and properties named (``ema.update``, ``cfg.lr`` worked out from ``self._lr``: :func:`_methods`) and
    the code of a function or the ``__call__`` of a callable object of the user's (:func:`_read_as_called`), its own
    or each one's in a list, tuple or dict (``self.act = my_act``, ``self.act = Act()``, ``for layer in layers: x =
    layer(x)``: each binding ``self.out`` at each call), the latter read as a method of it (:func:`_called_inside`)."""
    found = [(*_code_of(value), name)] if _read_as_called(value) else []  # self.act = Act() binding self.out
    for owner, attribute, path, held in _attributes(value, name, attributes, MOST_DEPTH):
        reads.setdefault((id(owner), attribute), _read(owner, attribute, path, held))
        found.append((*_code_of(held), path))  # a callable object's self.… shown as path.…
    if type(value) in (list, tuple) and len(value) <= INLINE_ENTRIES:  # for cb in callbacks: cb.on_step(loss)
        for place, entry in enumerate(value):
            if _plain_object(entry):
                found += _read_inside(reads, entry, f"{name}[{place}]", attributes)
    found += _called_inside(value, name, MOST_DEPTH)  # for layer in layers: x = layer(x), binding self.out
    return found + [(*method, name) for method in _methods(value, attributes)]  # its self.… shown as name.…


def _called_inside(value: Any, name: str, depth: int) -> list[tuple]:
    """The code of each function (``acts = [lambda x: x * SCALE, …]``) and the ``__call__`` of each callable object
    of the user's in ``value``, a list, tuple or dict (of up to :data:`MOST_ENTRIES` entries; in those among its
    entries, ``depth`` levels down), the latter as a method of it, shown by its path (``layers[0]``, ``layers['fc']``,
    ``blocks[1][0]``)."""
    if type(value) is dict:
        entries = [(f"{name}[{key!r}]", entry) for key, entry in value.items()]
    elif type(value) in (list, tuple):
        entries = [(f"{name}[{place}]", entry) for place, entry in enumerate(value)]
    else:
        return []
    if depth == 0 or len(entries) > MOST_ENTRIES:
        return []
    found = []
    for path, entry in entries:
        found += [(*_code_of(entry), path)] if _read_as_called(entry) else _called_inside(entry, path, depth - 1)
    return found


def _read_as_called(value: Any) -> bool:
    """Whether ``value``, met where the code's names are read (a layer's attribute, a container's entry, an
    argument), has code of its own to read: a function (``self.act = my_act`` reading a global ``SCALE``), a bound
    method (``fns = [tracker.apply]``, reading ``self.scale``), or a callable object of the user's (its ``__call__``,
    as its method)."""
    return _plain_object(value) or isinstance(value, (types.FunctionType, types.MethodType, functools.partial))


DRAWS = ("'{name}' draws random numbers outside glassgrad's kernels (Python's random module, NumPy's global generator "
         "or a NumPy Generator), which a replay would not draw again, taking the capture's numbers and branches at "
         "every call; draw with gg.rand, gg.randint or gg.randperm (or a gg.Generator), which a replay draws again")
"""Why a step that reads a name drawing outside glassgrad (:func:`draws_outside`) runs eagerly."""


def draws_outside(value: Any, attributes: AbstractSet[str] = frozenset()) -> bool:
    """Whether ``value`` draws random numbers outside glassgrad's kernels: Python's ``random`` module, a
    ``random.Random``, one of their functions (``from random import choice``), NumPy's ``random`` module, a function
    of its global generator (``from numpy.random import rand``), a NumPy ``Generator`` (``rng =
    np.random.default_rng(0)``: ``rng.random()``) or its bit generator; or a module whose attribute among
    ``attributes`` (those the code names) is one (``np`` in ``np.random.rand()``), or a list, tuple or dict holding
    one. What a step does with such a draw
    (``if random.random() < 0.5: x = x.flip(-1)``) is Python a replay does not run: it would take the capture's
    branch at every call."""
    python_random = sys.modules.get("random")
    owner = getattr(value, "__self__", value)
    if isinstance(value, types.ModuleType) and value is not np.random and value is not python_random:
        return any(draws_outside(vars(value)[name]) for name in attributes & vars(value).keys())
    if isinstance(value, (list, tuple, dict)):  # RNG[0].random(), generators["aug"].integers(…)
        return any(map(draws_outside, itertools.islice(value.values() if isinstance(value, dict) else value,
                                                       MOST_ENTRIES)))
    return (python_random is not None and (value is python_random or isinstance(owner, python_random.Random))
            or value is np.random
            or isinstance(owner, (np.random.RandomState, np.random.Generator, np.random.BitGenerator)))


def _read(where: Any, key: str | None, name: str, value: Any) -> Read:
    """The guard of ``value``, found at ``where``'s ``key``; a container read with no name holding it (``where is
    value``: a default argument's list) has its entries guarded alone (:class:`Contents`).

    What a layer holds in its own ``__dict__`` (its weight, ``self.act``) is guarded in that dict, not by
    ``getattr``: a layer parametrized between calls (``spectral_norm(model.fc)``) has a property there that runs the
    parametrization at each read, and the guard, reading it before each call, ran a power iteration more each time
    (``_u`` and ``_v`` moved on, so the weights drifted from eager's, without a word); the weight gone from the
    dict fails the guard as it should."""
    if _guarded_array(value):  # w[1] = 7.0 between calls: its numbers too
        return Array(where, key, name, value, False, value.copy())
    if where is value:
        return Contents(where, key, name, value, False, _entries(value))
    if hasattr(where, "_modules") and not isinstance(where, type) and key in vars(where):
        where = vars(where)  # what a layer holds itself, read from its __dict__: never through a property (below)
    by_value = _plain_setting(value) or isinstance(value, np.generic)
    if by_value:
        return Read(where, key, name, _snapshot(value), True)
    return Read(where, key, name, value, False, _entries(value))


def _named_attributes(owner: Any, attributes: AbstractSet[str]) -> list[tuple[str, Any]]:
    """The attributes of ``owner`` among ``attributes`` (those the code names), but modules and classes; for an
    object, its class's settings too (``lr = 0.1`` in the class's body, read as ``cfg.lr``: guarded through the
    object, so either one bound again fails the guard)."""
    held = vars(owner) if isinstance(owner, (types.ModuleType, type)) else {**_class_settings(owner, attributes),
                                                                           **_held(owner)}
    made = bound_by_hooks(owner)  # a pruned or spectral-normed layer's weight, made in the step by kernels
    return [(name, held[name]) for name in sorted(attributes & set(held) - made)
            if not isinstance(held[name], (types.ModuleType, type))]


def _held(owner: Any) -> dict[str, Any]:
    """What an object holds by name: its ``__dict__``, and its ``__slots__`` (a ``dataclass(slots=True)``)."""
    held = dict(getattr(owner, "__dict__", {}))
    for kind in type(owner).__mro__:
        slots = getattr(kind, "__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and hasattr(owner, name):
                held.setdefault(name, getattr(owner, name))
    return held


def _class_settings(owner: Any, attributes: AbstractSet[str]) -> dict[str, Any]:
    """The settings among ``attributes`` that ``owner``'s class holds (``scale = 2.0`` in its body, read as
    ``self.scale``), each from the nearest class that holds it, as Python looks it up."""
    found: dict[str, Any] = {}
    for kind in type(owner).__mro__:
        for name, value in vars(kind).items():
            if name in attributes and _plain_setting(value):
                found.setdefault(name, value)
    return found


def _attributes(value: Any, name: str, attributes: AbstractSet[str], depth: int) -> list[tuple]:
    """``(owner, attribute, name, value)`` of each attribute the code names of a settings object, a module or a
    class of the user's (``args.lr``, ``config.LR``, ``Config.lr``), and of each dict or list a dict holds
    (``CONFIG["optim"]``), and so on down, ``depth`` levels at most (``cfg.optim.lr``)."""
    if depth == 0:
        return []
    found = []
    if type(value) in (list, tuple) and len(value) <= MOST_ENTRIES:  # WEIGHTS[0][1] = 2.0: an array in a list
        return [(held, None, f"{name}[{place}]", held) for place, held in enumerate(value) if _guarded_array(held)]
    if isinstance(value, MAPPINGS) and len(value) <= MOST_ENTRIES:  # CONFIG["optim"]["lr"]: containers inside
        for key, held in value.items():
            if _container(held) or _guarded_array(held):  # history["loss"].append(…), CONFIG["weights"][1] = 2.0
                found.append((value, key, f"{name}[{key!r}]", held))
                found += _attributes(held, f"{name}[{key!r}]", attributes, depth - 1)
        return found
    if hasattr(value, "param_groups") or hasattr(value, "get_last_lr"):  # an optimizer, a scheduler of glassgrad's
        return _rates(value, name, attributes)
    if hasattr(value, "_modules"):  # a layer: the settings the code names (other.training, head.scale), its own
        return [(value, attribute, f"{name}.{attribute}", held)  # parameters and sublayers guarded by identity
                for attribute, held in _named_attributes(value, attributes - LAYER_TABLES) if _plain_setting(held)]
    if not (_plain_object(value) or _users_module(value) or _users_class(value)):
        return []
    for attribute, held in _named_attributes(value, attributes):
        found.append((value, attribute, f"{name}.{attribute}", held))
        found += _attributes(held, f"{name}.{attribute}", attributes, depth - 1)
    return found


def _rates(value: Any, name: str, attributes: AbstractSet[str]) -> list[tuple]:
    """``(owner, key, name, value)`` of what the code reads of an optimizer's or a scheduler's numbers: each setting
    of each of an optimizer's groups where the code names ``param_groups`` (``opt.param_groups[0]["lr"]``, returned
    or used in an op, changed by a scheduler between calls; ``g["lr"] *= 0.9`` inside the step), a scheduler's
    ``get_last_lr()`` and ``last_epoch``. Their optimizer's step reads the rates itself at each call; a number the
    step's own code took from them was the capture's at every replay, and a write of the step's into them was
    skipped, without a word."""
    found = []
    if "param_groups" in attributes and hasattr(value, "param_groups"):
        found += [(group, key, f"{name}.param_groups[{place}][{key!r}]", held)
                  for place, group in enumerate(value.param_groups[:INLINE_ENTRIES]) for key, held in group.items()
                  if key != "params" and _plain_setting(held)]
    if "get_last_lr" in attributes and hasattr(value, "_last_lr"):
        found.append((value, "_last_lr", f"{name}.get_last_lr()", value._last_lr))
    if "last_epoch" in attributes and hasattr(value, "last_epoch"):
        found.append((value, "last_epoch", f"{name}.last_epoch", value.last_epoch))
    return found


def _methods(value: Any, attributes: AbstractSet[str]) -> list[tuple]:
    """The code of each method and property the code names of a settings object (``ema.update(model)``, ``cfg.lr``
    computed from ``self._lr``), as a method of that object, so that the attributes it reads are guarded as
    ``self.…``: an EMA helper whose ``update`` counts ``self.num_updates += 1`` then has the count guarded (it
    changes at every call, so the step runs eagerly, naming it, where replays skipped the count without a word)."""
    if not (_plain_object(value) or _users_layer(value)):  # model.loss(x, y), a method of a layer of the user's
        return []
    found = [getattr(type(value), attribute, None) for attribute in sorted(attributes)]
    functions = [getter.fget if isinstance(getter, property) else getter for getter in found]
    return [_code_of(types.MethodType(function, value)) for function in functions
            if isinstance(function, types.FunctionType)]


def _methods_of_layer(kind: type, forward: types.CodeType) -> tuple[set[str], list[tuple]]:
    """The attribute names a layer's ``forward`` reads, and those of the methods of its class it names, and theirs
    (``self._scale()`` reading ``self.config.scale``), up to :data:`MOST_CODE` methods; and those methods' code, to
    be read for the globals they load."""
    names: set[str] = set()
    pending, seen, methods = [forward], {forward}, []
    while pending and len(seen) < MOST_CODE:
        found = _names_in(pending.pop()).attributes
        names |= found
        for name in sorted(found):
            method = getattr(kind, name, None)
            method = method.fget if isinstance(method, property) else method
            if isinstance(method, types.FunctionType) and method.__code__ not in seen and _users(method.__code__):
                seen.add(method.__code__)
                pending.append(method.__code__)
                methods.append((method.__code__, method, None))
    return names, methods


def _given(function: Any) -> list[tuple]:
    """``(where, key, name, value)`` of what a function is called with that its caller does not write: a user's
    function's default arguments (the tuple, and each entry of a dict among them: ``def step(x, cfg={"scale":
    1.0})``), or the keywords a ``functools.partial`` adds (each entry: ``loss.keywords["weight"] = 3.0``)."""
    if isinstance(function, functools.partial):
        name = getattr(function.func, "__name__", type(function.func).__name__)
        return [(function.keywords, key, f"{name}.keywords[{key!r}]", value)
                for key, value in function.keywords.items()]
    if not isinstance(function, types.FunctionType) or not _users(function.__code__):
        return []
    found = [(function, key, f"{function.__name__}.{key}", getattr(function, key))
             for key in ("__defaults__", "__kwdefaults__")]
    for value in (*(function.__defaults__ or ()), *(function.__kwdefaults__ or {}).values()):
        if type(value) is dict and len(value) <= MOST_ENTRIES:
            found += [(value, key, f"{function.__name__} default[{key!r}]", entry) for key, entry in value.items()]
        elif _container(value):  # def step(x, history=[]): history.append(…) at each call
            found.append((value, None, f"{function.__name__}'s default {type(value).__name__}", value))
    return found


def _code_of(function: Any) -> tuple:
    """``(code, scope, owner)`` of a Python function or method, or of a callable object's ``__call__``
    (``owner``: the object whose attributes ``self.…`` names); ``(None, None, None)`` for anything else."""
    owner = None
    if isinstance(function, functools.partial):  # the function it calls (its keywords: :func:`_given`)
        return _code_of(function.func)
    if isinstance(function, types.MethodType):
        function, owner = function.__func__, function.__self__
    elif not isinstance(function, (types.FunctionType, type)) and callable(function):
        call = type(function).__call__
        if not isinstance(call, types.FunctionType) and hasattr(function, "__wrapped__"):  # functools.lru_cache
            return _code_of(function.__wrapped__)
        function, owner = (call, function) if isinstance(call, types.FunctionType) else (None, None)
    if not isinstance(function, types.FunctionType):
        return None, None, None
    return function.__code__, function, owner


def _forward_of(layer: Any) -> tuple:
    """A layer's ``forward`` (its own settings are guarded by the capture's; ``self`` is not read here)."""
    forward = getattr(type(layer), "forward", None)
    return (forward.__code__, forward, None) if isinstance(forward, types.FunctionType) else (None, None, None)


def _users(code: types.CodeType) -> bool:
    """Whether ``code`` was written by the user (not glassgrad, not Python's library or an installed package)."""
    return _users_file(code.co_filename)


def _users_module(value: Any) -> bool:
    """Whether ``value`` is a module of the user's (``import config``), whose attributes the code reads as settings."""
    path = getattr(value, "__file__", None) if isinstance(value, types.ModuleType) else None
    return bool(path) and _users_file(path)


def _users_layer(value: Any) -> bool:
    """Whether ``value`` is a layer of a class of the user's, whose methods the step may call besides its ``forward``
    (``model.loss(x, y)`` reading a global ``SCALE``: read as a settings object's methods are)."""
    return hasattr(value, "_modules") and _users_class(type(value))


def _users_class(value: Any) -> bool:
    """Whether ``value`` is a class of the user's (``class Config: lr = 0.1``), whose attributes the code reads as
    settings (``Config.lr``)."""
    if not isinstance(value, type):
        return False
    module = sys.modules.get(value.__module__)
    return value.__module__ == "__main__" or _users_module(module)


def _users_file(name: str) -> bool:
    """Whether a file is the user's: not glassgrad's, Python's library or an installed package's; code with no file
    of its own (``<stdin>``, ``<ipython-input-…>``, a notebook cell) is the user's, Python's frozen modules are not."""
    if name.startswith("<frozen"):
        return False
    path = Path(name)
    if not path.is_absolute():
        return True
    path = path.resolve()
    return PACKAGE not in path.parents and not any(library in path.parents for library in LIBRARIES)


def _codes(code: types.CodeType) -> list[types.CodeType]:
    """``code`` and the code of the functions, lambdas and comprehensions written inside it."""
    found = [code]
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            found += _codes(constant)
    return found


@dataclass(frozen=True)
class _CodeNames:
    """What one function's code (and the code written inside it) names, read from its bytecode once
    (:func:`_names_in`): the attributes it reads, binds or names by strings, the globals it loads (in order), and
    the modules and names it imports."""

    attributes: frozenset[str]
    globals: tuple[str, ...]
    imports: frozenset[str]
    arrays: tuple[str, ...]
    """Where the code reads or binds an attribute ``array``: the global or closure variable it is read from
    (``np`` in ``np.array(…)``), or ``""`` where it is read from anything else (``x.array``, ``self.w.array``)."""
    catches: bool = False
    """Whether the code catches exceptions (an ``except`` clause; not ``finally`` or ``with``)."""


ATTRIBUTE_OPS = frozenset(("LOAD_ATTR", "LOAD_METHOD", "STORE_ATTR", "DELETE_ATTR"))
"""The instructions that name an attribute: read (``args.lr``) or bound (``self.meta.last = attn``)."""

VARIABLE_OPS = frozenset(("LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF"))
"""The instructions that load a global or closure variable by name (``np`` before ``np.array``)."""

EXCEPT_OPS = frozenset(("CHECK_EXC_MATCH", "CHECK_EG_MATCH"))
"""The instructions that match an exception against an ``except E:`` (or ``except* E:``) clause."""

BY_STRING = frozenset(("getattr", "setattr", "hasattr", "delattr", "vars", "__dict__"))
"""What names an attribute by a string: ``setattr(log, "n", getattr(log, "n") + 1)``, ``vars(log)["n"]``."""


@functools.lru_cache(maxsize=1024)
def _names_in(code: types.CodeType) -> _CodeNames:
    """What ``code`` names (:class:`_CodeNames`), one pass over its instructions, kept per code object: each capture
    reads the step's functions again, and a layer's ``forward`` is read for each layer of its class.

    Its attributes: ``lr`` in ``args.lr``, ``last`` in ``self.meta.last = attn.detach()`` (a replay runs no store:
    one bound anew at each call kept the captures' value without a word; guarded, the step runs eagerly, naming it);
    and, in code that names attributes by strings (:data:`BY_STRING`), its string constants that are names (``"n"``
    in ``setattr(log, "n", …)``: guarded as ``log.n``, where replays skipped the count without a word)."""
    attributes: AbstractSet[str] = set()
    loaded: list[str] = []
    imports: set[str] = set()
    arrays: list[str] = []
    catches = False
    for inner in _codes(code):
        own_attributes, own_loaded = set(), []
        before = None
        for instruction in dis.get_instructions(inner):
            if instruction.opname in ATTRIBUTE_OPS:
                own_attributes.add(instruction.argval)
                if instruction.argval == "array":
                    arrays.append(before.argval if before is not None and before.opname in VARIABLE_OPS else "")
            elif instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                own_loaded.append(instruction.argval)
            elif instruction.opname in ("IMPORT_NAME", "IMPORT_FROM"):
                imports.add(instruction.argval)
            elif instruction.opname in EXCEPT_OPS or (
                    instruction.opname == "POP_TOP" and before is not None and before.opname == "PUSH_EXC_INFO"):
                catches = True  # except E: matches the exception; a bare except: drops it at once
            before = instruction
        attributes |= own_attributes
        if BY_STRING & (own_attributes | set(own_loaded)):
            attributes |= {name for name in inner.co_consts if type(name) is str and name.isidentifier()}
        loaded += own_loaded
    return _CodeNames(frozenset(attributes), tuple(loaded), frozenset(imports), tuple(arrays), catches)


def _loaded(code: types.CodeType, function: types.FunctionType) -> list[tuple]:
    """``(where, key, name, value)`` of each global and free variable that ``function``'s code reads."""
    scope = function.__globals__
    found = [(scope, name, name, scope[name]) for name in _names_in(code).globals if name in scope]
    for name, cell in zip(code.co_freevars, function.__closure__ or ()):
        try:
            found.append((cell, None, name, cell.cell_contents))
        except ValueError:  # a cell not filled yet
            continue
    return found


def _reads_environment(code: types.CodeType, loaded: list[tuple], attributes: AbstractSet[str]) -> bool:
    """Whether ``code`` reads the process environment: it loads ``os`` (or imports it) and names one of
    :data:`ENVIRONMENT_NAMES` (``os.environ``, ``os.getenv``; ``from os import environ`` inside it), or loads a
    name bound to one of them (``from os import environ, getenv`` at the top of its module, a closure's ``env =
    os.environ``)."""
    held = [getattr(os, name) for name in ENVIRONMENT_NAMES if hasattr(os, name)]
    values = [value for _, _, _, value in loaded]
    if any(value is environment for value in values for environment in held):
        return True
    imported = _names_in(code).imports
    return ((any(value is os for value in values) or "os" in imported)
            and bool(ENVIRONMENT_NAMES & (attributes | imported)))


def _plain_object(value: Any) -> bool:
    """Whether ``value`` is an object of settings whose attributes are read one level down (``args.lr``; a callable
    object of the user's, a loss with ``self.weight``, too): one with a ``__dict__`` or ``__slots__`` that is not a
    layer, an optimizer, a function, a method, a class, a module or a library's object (a tensor)."""
    return (value is not None and (hasattr(value, "__dict__") or hasattr(type(value), "__slots__"))
            and not hasattr(type(value), "state_dict")
            and not isinstance(value, (types.FunctionType, types.MethodType, types.ModuleType, type))
            and type(value).__module__.split(".")[0] not in ("glassgrad", "numpy", "torch"))
