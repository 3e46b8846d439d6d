"""A program: two captures that agree, turned into a list of kernels that replays the step.

Why two. A capture sees every kernel and where its arguments come from, but an array it meets
for the first time (an *external*) could be a parameter, a buffer, a view of one, or a number
the step computed some other way. Comparing the captures of two calls tells them apart:

* the same memory both times (a parameter, ``running_mean``, a view of one): **bound** by
  identity — the replay reads and writes that very memory, so edits made between calls are seen;
* new memory each time with the same numbers (``backward()``'s seed 1, a constant): a
  **constant**, copied afresh into each replay (eager makes a new one each call too);
* new memory with other numbers, or different kernels, settings or layers: the step did not
  do the same work twice (a NumPy computation on the data, Python that depends on the values);
  :class:`glassgrad.compiler.Compiled` captures again, and gives up after a few tries.

Replay then calls, for every kernel, the *same function* eager called (the row's forward and
backward, ``unbroadcast``, ``+``, the engine's gradient store, the optimizer's ``step``) on the
same kinds of arrays with the same Python numbers, so every result is the same, bit for bit;
what it skips is everything around the kernels: making tensors and nodes, the graph walk's
search and bookkeeping, the checks already passed at capture. The program is written out as
one Python function, a line per kernel, each slot a local variable (``program.source``)::

    def replay(v0, v1):
        v2 = f0(v0, e0, e1, p0)[0]               # forward linear
        ...
        v9, v10, v11 = f5(v8, v4)                 # backward linear
        _store_grads({t0: v10, t1: v11})          # store .grad
        v12 = t0._grad.array
"""

from __future__ import annotations

import dataclasses
import types
from collections import Counter
from typing import Any

import numpy as np

from ..anomaly import check_replayed, is_anomaly_check_nan_enabled
from ..autograd import JOINT_CALLS, _memory_owner, _store_grads, _version, bump_version, same_view, unbroadcast
from ..dtypes import _default
from ..ops import INPUTS, OUT, Op
from ..tensor import Tensor, _change_in_place, apply
from .capture import ASSIGN_GRAD, MEMBER_TABLES, SCALAR, Capture, Kernel
from .names import same_array, same_entries


def _same(a: Any, b: Any) -> bool:
    """Whether two Python values recorded by two captures stand for the same thing."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, types.MethodType):
        return a.__self__ is b.__self__ and a.__func__ is b.__func__
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float, complex, str, bytes, slice, np.generic, np.dtype, type(None), bool)):
        try:
            return bool(a == b)
        except (TypeError, ValueError):
            return False
    return False


def _same_numbers(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def compare(before: Capture, now: Capture) -> tuple[list | None, str]:
    """How each external of ``now`` is replayed (``("bound", array)``/``("constant", numbers)``), or why the two
    captures differ."""
    if len(before.kernels) != len(now.kernels):
        return None, f"it ran {len(before.kernels)} kernels on one call and {len(now.kernels)} on the next"
    if len(before.externals) != len(now.externals):
        return None, "it read different arrays on two calls"
    for number, (old, new) in enumerate(zip(before.kernels, now.kernels)):
        reason = _kernel_difference(old, new)
        if reason and number in now.new_leaves:
            reason = ("gives a gradient to a leaf made inside the step (x.clone().requires_grad_()), a new tensor "
                      "on each call, which a replay cannot make")
        if reason:
            return None, f"kernel {number + 1} ({_kernel_name(new)}) {reason}"
    if not _same_encoding(before.result, now.result):
        made = _made_anew(before.result, now.result)
        if made is not None:
            return None, (f"it returns a {made} made at each call, an object holding tensors (not a tensor, tuple, "
                          "dict or dataclass), which a replay cannot make again; return its tensors (a "
                          "distribution's logits, loc and scale) and build it outside")
        return None, "it returned something different"
    if [(m, t) for m, t in before.modules] != [(m, t) for m, t in now.modules]:
        return None, "it called other layers"
    externals = []
    for old, new, old_numbers, new_numbers in zip(before.externals, now.externals, before.snapshots, now.snapshots):
        if same_view(old, new):
            externals.append(("bound", new))
        elif _memory_owner(old) is not _memory_owner(new) and _same_numbers(old_numbers, new_numbers):
            externals.append(("constant", new_numbers))
        elif new.size == 1:
            return None, (f"a number the step uses outside glassgrad's ops (a Python number, or NumPy code on a "
                          f"tensor's value) was {_shown(old_numbers.item())} on one call and "
                          f"{_shown(new_numbers.item())} on the next; pass it to the step as an argument, or work it "
                          "out with tensor ops")
        else:
            return None, (f"an array of shape {new.shape} that no op of the call made held other numbers on the next "
                          "call (drawn by NumPy's random functions, or worked out by NumPy code from tensor values, "
                          "inside the step? a tensor read from outside it, bound anew?); make it outside the step and "
                          "pass it in as an argument")
    return externals, ""


def _kernel_name(kernel: Kernel) -> str:
    if kernel.op is not None:
        return f"{kernel.kind} of '{kernel.op.name}'"
    return getattr(kernel.function, "__qualname__", kernel.kind)


def _kernel_difference(old: Kernel, new: Kernel) -> str:
    if old.kind != new.kind or not _same(old.function, new.function) or old.op is not new.op:
        return "is another operation"
    if len(old.args) != len(new.args):
        return f"has {len(old.args)} arguments on one call and {len(new.args)} on the next"
    for number, (a, b) in enumerate(zip(old.args, new.args), 1):
        if not _same_encoding(a, b):
            return _argument_difference(number, a, b)
    if old.outputs != new.outputs or old.layer is not new.layer:
        return "sits elsewhere in the step"
    if old.kind in ("fit", "forward", "backward", "call", "kernel") and old.extra != new.extra:
        return "has other shapes"
    if old.kind in ("store", "add") and not _same(old.extra, new.extra):
        return "reaches other tensors"
    return ""


def _argument_difference(number: int, old: tuple, new: tuple) -> str:
    """Why argument ``number`` of a kernel differs between two captures, in words a learner can act on."""
    if old[0] == new[0] == "py":
        return (f"has argument {number} = {_shown(old[1])} on one call and {_shown(new[1])} on the next: a Python "
                "value worked out from something that changes between calls (a tensor's value, a counter, a global); "
                "pass it to the step as an argument, or work it out with tensor ops")
    return f"takes argument {number} from another place on the next call (another tensor, or a Python value)"


def _shown(value: Any) -> str:
    """``value`` as a refusal quotes it: its repr, cut at 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _same_encoding(a: Any, b: Any) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "py":
        return _same(a[1], b[1])
    if a[0] in ("slot", "ext", "tensor", "node", "input"):
        return a[1:] == b[1:]
    if a[0] == "seq":
        return a[1] is b[1] and len(a[2]) == len(b[2]) and all(_same_encoding(x, y) for x, y in zip(a[2], b[2]))
    if a[0] in ("dict", "object"):
        return a[1] == b[1] and a[3] == b[3] and all(_same_encoding(x, y) for x, y in zip(a[2], b[2]))
    return False


def _made_anew(a: Any, b: Any) -> str | None:
    """The class of an object holding tensors that two captures' results hold where they differ, each a new one (a
    forward returning ``Categorical(logits=...)``), else None."""
    if a[0] != b[0]:
        return None
    if a[0] == "py":
        old, new = a[1], b[1]
        holds = any(isinstance(part, Tensor) for part in getattr(new, "__dict__", {}).values())
        return type(new).__name__ if type(old) is type(new) and old is not new and holds else None
    if a[0] in ("seq", "dict", "object"):
        return next((made for old, new in zip(a[2], b[2]) if (made := _made_anew(old, new)) is not None), None)
    return None


class Program:
    """A confirmed capture, ready to replay: ``program.replay(input_arrays)`` runs the step again."""

    def __init__(self, capture: Capture, externals: list) -> None:
        kernels, result, end = capture.kernels, capture.result, len(capture.kernels)
        walks = capture.outside  # a forward whose backward() runs outside: a forward, a backward per walk, one node
        starts = []  # where each walk's kernels begin in self.kernels
        if walks:  # the node hands on each part of a leaf's gradient: the stores and the sums of parts go
            end = walks[0].start
            kernels = kernels[:end]
            for walk in walks:
                starts.append(len(kernels))
                kernels += [kernel for kernel in capture.kernels[walk.start:walk.end] if kernel.kind != "store" and
                            not (kernel.kind == "add" and kernel.extra is not None)]
            parts = tuple(("slot", slot) for walk in walks for _, slot, _ in walk.parts)
            result = ("seq", tuple, (result, *parts))  # the outputs, then what the node gives the leaves
        self.kernels = kernels
        self.walks = [(start, walk.seeded) for walk, start in zip(walks, starts)]
        """A forward whose backward runs outside: where each walk's kernels begin, and which outputs it starts from."""
        self.outputs = len(walks[0].seeded) if walks else 0
        """A forward whose backward runs outside: how many tensors in the graph it returns."""
        every_part = [part for walk in walks for part in walk.parts]
        self.leaves: tuple = tuple(None if argument is not None else leaf for leaf, _, argument in every_part)
        """A forward whose backward runs outside: its node's parents, a leaf once per part of its gradient in each
        walk (an argument's place is None: :meth:`parents` puts the call's own tensor there)."""
        self.arguments = [(place, argument) for place, (_, _, argument) in enumerate(every_part)
                          if argument is not None]
        self.guards = capture.guards
        self.fresh_grads = [leaf for leaf, slot, store in capture.fresh_grads
                            if any(slot in _slots_in(arg) for kernel in capture.kernels[store + 1:]
                                   for arg in kernel.args)]
        """Leaves whose ``.grad`` must be None when a replay starts: the step reads the gradient it stored there as
        the contribution itself (true only if ``.grad`` held nothing to add it to)."""
        self.modules = capture.modules
        self.members = capture.members
        self.settings = capture.settings
        """Each layer's settings (``dropout.p``, ``self.calls``), as they were when the capture started, where the
        layer was known then (called by an earlier capture: :meth:`~glassgrad.compiler.compiled.Compiled._capture`)."""
        self.reads = capture.reads
        """The names the step reads from outside it (:mod:`glassgrad.compiler.names`), guarded."""
        self.default_dtype = _default["float"]
        """The default float dtype the program was made under (guarded: ``gg.ones(2)``, Python floats)."""
        self.called = capture.called
        self.stepped = capture.stepped
        """Optimizers whose ``step()`` ran none of the user's code, and whose groups the step reads (``lr`` after
        ``opt.step()``): a step hook registered later may write them, where the guards read them as the step starts."""
        self.names: dict[str, Any] = {"_store_grads": _store_grads, "_unbroadcast": unbroadcast,
                                      "_asarray": np.asarray, "_wrap": Tensor._wrap,
                                      "_bump_version": bump_version, "_same_entries": same_entries,
                                      "_same_array": same_array}
        self.externals = externals
        self.skipped = _skipped(self.kernels, {id(leaf) for leaf in self.fresh_grads}, set(_slots_in(result)))
        """The kernels a replay leaves out: stores nobody reads, and resets of a ``.grad`` that is already None."""
        ordered = list(kernels[:end])  # each walk's upstreams made where it begins (for the liveness of values)
        for walk, start, stop in zip(walks, starts, [*starts[1:], len(kernels)]):
            ordered += [Kernel("upstream", None, (), walk.upstreams, "backward"), *kernels[start:stop]]
        self.register = _registers(ordered, capture.inputs, result, self.skipped)
        self.unread_outputs: set[int] = set()
        """The forwards whose output nobody reads, replayed as their row's ``saved_alone`` (what the backward needs)."""
        self.read = {slot for number, kernel in enumerate(self.kernels) if number not in self.skipped
                     for arg in _read_args(kernel) for slot in _slots_in(arg)} | set(_slots_in(result))
        constants = [f"    e{number} = c{number}.copy()" for number, (how, value) in enumerate(externals)
                     if how == "constant"]  # eager makes these afresh each call: so does the replay
        for number, (how, value) in enumerate(externals):
            self.names[f"c{number}" if how == "constant" else f"e{number}"] = value
        inputs = [f"v{slot}" for slot in range(capture.inputs)]
        self.passes_inputs = not walks and _returns_an_argument(capture.result)
        """Whether the replay is given the call's tensors too (``replay(_inputs, *arrays)``): the step returns one of
        its arguments as it is (a forward's node finds them on ``_node.inputs``)."""
        first_names = ["_node"] if walks else ["_inputs"] if self.passes_inputs else []
        lines = [f"def replay({', '.join([*first_names, *inputs])}):", *constants]
        for number, kernel in enumerate(self.kernels[:end]):
            if number not in self.skipped:
                lines += [f"    {line}" for line in self._lines(number, kernel)]
        if walks:
            kept = self._kept(capture.inputs, end, parts)
            lines.append(f"    _node.keep(({''.join(f'{name}, ' for name in kept)}))")
        lines.append(f"    return {self._result(capture.result)}")
        first = 0
        for number, (walk, start, stop) in enumerate(zip(walks, starts, [*starts[1:], len(kernels)])):
            upstreams = "".join(f"{self._v(slot)}, " for slot in walk.upstreams)
            handed = ["None"] * len(every_part)  # this walk's parts in their places among the node's parents
            handed[first:first + len(walk.parts)] = [self._v(slot) for _, slot, _ in walk.parts]
            first += len(walk.parts)
            steps = [(kernel, [f"    {line}" for line in self._lines(start + offset, kernel)])  # made once, for
                     for offset, kernel in enumerate(kernels[start:stop])]                        # both versions
            for checked in (False, True):  # the rules' gradients checked for NaN, under anomaly detection turned on
                name = f"backward{number}" + ("_checked" if checked else "")  # since the forward, as eager's walk
                lines += ["", f"def {name}({upstreams}saved):"]
                if not checked:  # one test per walk, not one per rule
                    lines.append(f"    if {self._name(is_anomaly_check_nan_enabled)}(): return {name}_checked("
                                 f"{upstreams}saved)")
                lines += constants
                lines += [f"    {', '.join(kept)}, = saved"] if kept else []
                for kernel, kernel_lines in steps:
                    lines += self._checked_lines(kernel, kernel_lines) if checked else kernel_lines
                lines.append(f"    return ({''.join(f'{part}, ' for part in handed)})")
        lines += ["", "def guards_hold():", f"    return {self._guards()}"]
        self.source = "\n".join(lines)
        namespace = dict(self.names)
        exec(compile(self.source, "<gg.compile replay>", "exec"), namespace)  # noqa: S102 (our own generated code)
        self.replay_function = namespace["replay"]
        self.node_op = node_row([(walk.seeded, namespace[f"backward{number}"]) for number, walk in enumerate(walks)],
                                len(self.leaves)) if walks else None
        """A forward whose backward runs outside: the row of the nodes a replay gives back (:func:`node_row`)."""
        self.guards_hold = namespace["guards_hold"]
        """Whether the parameters, buffers and layer modes are still those the program was captured with."""

    def call_node(self, inputs: tuple | list) -> Any:
        """A replay of a forward whose backward runs outside, for a call with these tensor arguments: its result,
        each output in the graph a node of :attr:`node_op` (one call's nodes, walked as one: a joint row)."""
        parents = self.parents(inputs)
        return self.replay_function(_Node(self.node_op, parents, self.outputs, inputs),
                                    *[tensor.array for tensor in inputs])

    def parents(self, inputs: tuple | list) -> tuple:
        """The parents of the nodes a replay of a forward gives back, for a call with these tensor arguments."""
        if not self.arguments:
            return self.leaves
        parents = list(self.leaves)
        for place, argument in self.arguments:
            parents[place] = inputs[argument]
        return tuple(parents)

    def _kept(self, inputs: int, end: int, parts: tuple) -> list[str]:
        """The variables the forward hands its node for the backward: the values made before kernel ``end`` (or
        given) that a kernel from there on reads, or that the node hands on as a part of a gradient (``parts``).
        The outputs themselves are not kept: the node is refused only for a change of what its backward reads."""
        made = set(range(inputs)) | {slot for kernel in self.kernels[:end] for slot in _made_by(kernel)}
        read = {slot for kernel in self.kernels[end:] for arg in _read_args(kernel) for slot in _slots_in(arg)}
        read.update(slot for _, slot in parts)
        return sorted({self._v(slot) for slot in made & read}, key=lambda name: int(name[1:]))

    @property
    def buffers(self) -> int:
        """How many arrays and values the program keeps between kernels (its local variables, each reused once
        the value it held is no longer needed)."""
        return len(set(self.register.values()))

    def _v(self, slot: int) -> str:
        """The local variable that holds ``slot`` while it is alive."""
        return f"v{self.register[slot]}"

    # --- writing the program ---------------------------------------------------------------

    def _name(self, value: Any) -> str:
        """A global name for a Python value the program uses (a function, a number, a tensor)."""
        name = f"p{len(self.names)}"
        self.names[name] = value
        return name

    def _arg(self, encoded: tuple) -> str:
        kind = encoded[0]
        if kind == "slot":
            return self._v(encoded[1])
        if kind == "ext":
            return f"e{encoded[1]}"
        if kind == "py":
            return self._name(encoded[1])
        if kind == "tensor":  # a tensor the step made, around its array (the .grad set by ``p.grad = g``)
            return f"_wrap({self._v(encoded[1])})"
        parts = ", ".join(self._arg(part) for part in encoded[2])
        if encoded[1] is list:
            return f"[{parts}]"
        return f"({parts},)" if len(encoded[2]) == 1 else f"({parts})"

    def _checked_lines(self, kernel: Kernel, lines: list[str]) -> list[str]:
        """A kernel's ``lines`` in the checked walk of a forward whose backward runs outside (:func:`node_row`): a
        rule's gradients checked for NaN after it (:func:`~glassgrad.anomaly.check_replayed`), with ∂L/∂out kept
        before it for the message (its variable may hold a gradient the rule makes)."""
        if kernel.kind != "backward":
            return lines
        picked = "".join(f"({position}, {self._v(slot)}), " for position, slot in kernel.outputs)
        return [f"    _up = {self._arg(kernel.args[0])}", *lines,
                f"    {self._name(check_replayed)}({self._name(kernel.op)}, _up, ({picked}))"]

    def _lines(self, number: int, kernel: Kernel) -> list[str]:
        args = ", ".join(self._arg(arg) for arg in kernel.args)
        function = self._name(kernel.function) if kernel.function is not None else ""
        kind = kernel.kind
        if kind == "forward":
            out, saved = kernel.outputs
            lines = self._forward(number, kernel, args) or [
                f"{self._v(out)} = {function}({args})[0]" if saved is None
                else f"{self._v(out)}, {self._v(saved)} = {function}({args})"]
            if kernel.extra and out in self.read:  # a 0-d result read later: NumPy hands back a scalar, eager an array
                lines.append(f"{self._v(out)} = _asarray({self._v(out)})")
            return lines
        if kind == "backward":
            count = kernel.extra
            if _passes_up(kernel):  # ∂L/∂input is ∂L/∂out itself: no call (nor a line, where it stays in its variable)
                names = [self._v(slot) for _, slot in kernel.outputs]
                upstream = self._arg(kernel.args[0])
                return [] if names == [upstream] else [f"{' = '.join(names)} = {upstream}"]
            targets = ["_"] * count
            for position, slot in kernel.outputs:
                targets[position] = self._v(slot)
            return [f"{', '.join(targets)}{',' if count == 1 else ''} = {function}({args})"]
        if kind == "fit":
            (shape, dtype, reduce, cast), (out,) = kernel.extra, kernel.outputs
            value = args
            if reduce:
                value = f"_unbroadcast({value}, {self._name(shape)})"
            if cast:
                value = f"{value}.astype({self._name(dtype)})"
            return [f"{self._v(out)} = {value}"]
        if kind == "add":
            held, more = (self._arg(arg) for arg in kernel.args)
            return [f"{self._v(kernel.outputs[0])} = {held} + {more}"]
        if kind == "store":
            leaves = [self._name(leaf) for leaf in kernel.extra]
            pairs = ", ".join(f"{leaf}: {self._arg(arg)}" for leaf, arg in zip(leaves, kernel.args))
            return [f"_store_grads({{{pairs}}})", *(f"{self._v(slot)} = {leaf}._grad.array"
                                                   for leaf, slot in zip(leaves, kernel.outputs)
                                                   if slot in self.register)]  # a gradient read later in the step
        if kind == "kernel" and kernel.function is _change_in_place:
            version = self._version_of(kernel.args[1])
            if version:  # the change itself, then its count: _change_in_place written out (one call less)
                ufunc, array, value = (self._arg(arg) for arg in kernel.args)
                return [f"{ufunc}({array}, {value}, {array})", f"_bump_version({array}, {version})"]
        call = f"{function}({args})"
        if not kernel.outputs:
            return [call]
        if kernel.extra is SCALAR:  # a NumPy number: a 0-d array, as the capture made it
            return [f"{self._v(kernel.outputs[0])} = _asarray({call})"]
        if kernel.extra:  # a tuple of arrays, unpacked
            return [f"{', '.join(self._v(slot) for slot in kernel.outputs)}, = {call}"]
        if len(kernel.outputs) == 1:
            return [f"{self._v(kernel.outputs[0])} = {call}"]
        tensor, array = kernel.outputs
        return [f"{self._v(tensor)} = {call}", f"{self._v(array)} = {self._v(tensor)}.array"]

    def _forward(self, number: int, kernel: Kernel, args: str) -> list[str]:
        """A forward written with its row's value function (no wrapper, no tuple to unpack), where the row says
        what its forward saves or nothing reads it, or with its ``saved_alone`` where nothing reads its output;
        ``[]``: call the forward itself."""
        op, (out, saved) = kernel.op, kernel.outputs
        if op is None or kernel.function is not op.forward:  # h += b: the row's forward, written back into h
            return []
        if op.saved_alone is not None and out not in self.read and saved in self.read:
            self.unread_outputs.add(number)  # a loss nobody reads: what its backward needs, and no more
            return [f"{self._v(saved)} = {self._name(op.saved_alone)}({args})"]
        if op.value is None:
            return []
        call = f"{self._name(op.value)}({args})"
        if saved is None or saved not in self.read:
            return [f"{self._v(out)} = {call}"]
        if op.keeps == OUT:
            return [f"{self._v(out)} = {call}", f"{self._v(saved)} = {self._v(out)}"]
        if op.keeps == 0:  # one statement: the input is read before either name is written
            return [f"{self._v(out)}, {self._v(saved)} = {call}, {self._arg(kernel.args[0])}"]
        if op.keeps == INPUTS:
            return [f"{self._v(out)}, {self._v(saved)} = {call}, ({args},)"]
        return []

    def _version_of(self, encoded: tuple) -> str:
        """The name of the version record of a bound array changed in place (the program holds the array, so the
        record lives as long as it does), found once here instead of at every change; ``""`` otherwise."""
        if encoded[0] == "ext" and self.externals[encoded[1]][0] == "bound":
            version = _version(self.externals[encoded[1]][1])
            if version is not None:
                return self._name(version)
        return ""

    def _result(self, encoded: Any) -> str:
        kind = encoded[0]
        if kind == "tensor":
            return f"_wrap({self._v(encoded[1])})"
        if kind == "node":  # an output in the graph, whose backward runs outside: a node of the call
            return f"_node({self._v(encoded[1])}, {encoded[2]})"
        if kind == "input":  # an argument returned as it is: the call's own tensor
            return f"{'_node.inputs' if self.walks else '_inputs'}[{encoded[1]}]"
        if kind == "py":
            return self._name(encoded[1])
        parts = ", ".join(self._result(part) for part in encoded[2])
        if kind == "seq":  # a tuple or list, or a class of one (a namedtuple is made from its fields)
            cls = encoded[1]
            if cls is list:
                return f"[{parts}]"
            together = f"({parts},)" if len(encoded[2]) == 1 else f"({parts})"
            if cls is tuple:
                return together
            return f"{self._name(cls)}{'._make' if hasattr(cls, '_fields') else ''}({together})"
        if kind == "dict":  # a dict, or a class of one (a dataclass among them takes its fields by name)
            cls, pairs = encoded[3], f"zip({self._name(encoded[1])}, ({parts},))"
            if dataclasses.is_dataclass(cls):
                return f"{self._name(cls)}(**dict({pairs}))"
            return f"{self._name(cls)}({pairs})"
        return f"{self._name(encoded[1])}(**dict(zip({self._name(encoded[3])}, ({parts},))))"  # a dataclass

    def settings_changed(self) -> list[str]:
        """The layers' settings that no longer hold what the program was captured with, as ``Net.calls`` (a count
        the layer's ``forward`` keeps: :meth:`~glassgrad.compiler.compiled.Compiled._rebound` names it)."""
        return [f"{type(module).__name__}.{name}" for module, names, values in self.settings
                for name, value in zip(names, values) if getattr(module, name, None) != value]

    def modes_changed(self) -> list[str]:
        """The layers now in another mode than the program ran them in, as ``Sequential.training``."""
        return [f"{type(module).__name__}.training" for module, training in self.modules
                if module.training != training]

    def _guards(self) -> str:
        """One expression: each parameter and buffer, and each other tensor read from outside (a global tensor read
        as a constant: ``c.data = …`` between calls), is still the same array, with the same ``requires_grad``,
        each layer is in the same mode and still holds the same parameters, buffers, sublayers (and no more:
        ``layers.append(nn.Linear(…))``, a sublayer added to a ``Sequential``) and other attributes
        (``model.fc = nn.Linear(…)``, ``self.act = gg.tanh`` after a capture: captured again), no attribute more
        (``layer.forward = f``: a replay ran the old forward's kernels, without a word), each layer's class still has
        the same ``forward`` (``nn.ReLU.forward = f`` between calls: the same)
        and the same settings (``dropout.p``, ``bn.momentum``: one changed between calls is read by the kernels of a
        new capture), no layer the step calls has a hook (one
        registered later must run: eagerly, as at capture; glassgrad's own forward pre-hooks it had, spectral_norm's
        or a pruning method's, are still the very same ones), no tensor of a step with a backward pass has a gradient
        hook (the same), each ``.grad`` the step reads as it stored it is still ``None`` (one set between calls
        is added to, as eager does: captured again), no optimizer whose groups the step reads after its ``step()``
        has a step hook it had none of at capture (a warm-up hook registered later writes ``lr`` inside the step,
        where the guards read it as the step starts), each name the step reads from outside it still holds what
        it held (``lr = lr * 0.9``, a global tensor bound again: :mod:`glassgrad.compiler.names`), and the default
        float dtype is the same (``gg.set_default_dtype(gg.float64)`` between calls: the step's ``gg.ones(2)`` and
        Python floats are float64 in a new capture, as eager makes them)."""
        from ..nn.hooks import _GLOBAL_FORWARD_HOOKS, _GLOBAL_FORWARD_PRE_HOOKS
        from ..tensor_hooks import HOOKS, POST_ACCUMULATE_HOOKS

        checks = []
        for tensor, array, requires_grad in self.guards:
            name = self._name(tensor)
            checks.append(f"{name}.array is {self._name(array)} and {name}._requires_grad is {requires_grad}")
        checks += [f"{self._name(module)}.training is {self._name(training)}" for module, training in self.modules]
        checks += [f"{self._name(module)}.{table}.get({name!r}) is {self._name(value)}"
                   for module, table, name, value in self.members]
        held = Counter((id(module), table) for module, table, _, _ in self.members)  # and no more (.append(layer))
        for module, _ in self.modules:  # and no attribute more (layer.forward = f: its names are guarded by names.py)
            name = self._name(module)
            sizes = (*(held[id(module), table] for table in MEMBER_TABLES), len(vars(module)))
            lengths = ", ".join(f"len({name}.{table})" for table in (*MEMBER_TABLES, "__dict__"))
            checks.append(f"({lengths}) == {sizes}")
        classes = {type(module): type(module).forward for module, _ in self.modules}  # ReLU.forward = f: its new code
        checks += [f"{self._name(kind)}.forward is {self._name(forward)}" for kind, forward in classes.items()]
        checks += [f"({''.join(f'{self._name(module)}.{name}, ' for name in names)}) == {self._name(values)}"
                   for module, names, values in self.settings]
        checks += [f"not {self._name(getattr(layer, table))}" for layer, empty, _ in self.called for table in empty]
        checks += [f"tuple({self._name(layer._forward_pre_hooks)}.values()) == {self._name(held)}"
                   for layer, _, held in self.called if held]  # glassgrad's own: the same ones, no more
        if self.called:  # a hook registered after the capture (on a layer, or on every module) must run
            checks += [f"not {self._name(table)}" for table in (_GLOBAL_FORWARD_HOOKS, _GLOBAL_FORWARD_PRE_HOOKS)]
        if any(kernel.kind == "backward" for kernel in self.kernels) and self.guards:
            for table in (HOOKS, POST_ACCUMULATE_HOOKS):  # empty in most programs: one test each, then
                name = self._name(table)                      # the step's tensors looked up only if not
                looked_up = " or ".join(f"{name}.get({id(tensor)})" for tensor, _, _ in self.guards)
                checks.append(f"(not {name} or not ({looked_up}))")
        checks += [f"{self._name(leaf)}._grad is None" for leaf in self.fresh_grads]
        checks += [f"not {self._name(optimizer)}._runs_users_code()" for optimizer in self.stepped]
        checks += [read.guard(self._name, number) for number, read in enumerate(self.reads)]
        checks.append(f"{self._name(_default)}['float'] is {self._name(self.default_dtype)}")  # gg.ones(2)'s dtype
        return " and ".join(checks) or "True"


# --- a forward whose backward runs outside: one node -------------------------------------------

def node_row(walks: list, leaves: int) -> Op:
    """The row of the nodes a replayed forward gives back when ``backward()`` runs outside the compiled function
    (``model = gg.compile(model)``; ``loss_fn(model(x), y).backward()``).

    The generated ``replay`` runs the forward's kernels and makes each output in the graph a node of this row
    (:class:`_Node`), which saves what the backward reads (``kept``). ``walks``: for each set of outputs the capture
    walked from, ``(which outputs it seeded, backward(*their ∂L/∂out, kept))``, a function that replays that walk's
    kernels and gives each parameter the gradient eager's walk gives it. One output: its rule is that function.
    Several (nanoGPT's ``logits, loss``): a joint row (:attr:`glassgrad.ops.Op.joint`), given every output's
    ∂L/∂out (None for one that got none) at once, whose rule replays the walk of the outputs that got one.
    As eager's rows are, it is refused if an array it kept (an input, a weight, a value the forward made) was changed
    in place since (PyTorch's error; :attr:`glassgrad.ops.Op.reads_back`). Under ``create_graph=True`` the same
    kernels give the gradients, nodes of a row that refuses to be differentiated again
    (:func:`_refusing_double_backward`).
    """
    joint = len(walks) > 1
    if joint:
        by_seeded = dict(walks)

        def backward(upstreams: list, saved: tuple) -> tuple:
            return by_seeded[tuple(up is not None for up in upstreams)](*[up for up in upstreams if up is not None],
                                                                        saved[0])
        JOINT_CALLS[:] = [True]
    else:
        backward = walks[0][1]
    return Op(ROW_NAME, "out = the compiled forward's kernels, replayed",
              ("its backward's kernels, replayed",) * leaves, _handed, backward, kind="custom",
              roles=tuple(f"parameter {n}" for n in range(leaves)),
              vjp_tensors=_refusing_double_backward(backward),
              reads_back="a value its replayed forward kept", joint=joint)


def _handed(out: np.ndarray, saved: Any) -> tuple:
    """The row's forward: the replay computed the output, and what its node saves, already."""
    return out, saved


class _Kept(tuple):
    """What one replayed call's nodes saved, with the number of its outputs (``_outputs``, as a custom Function's
    context has them): the nodes of a joint row each save ``(kept, their place)``."""

    _outputs: tuple = ()


class _Node:
    """The generated ``replay``'s ``_node``: ``keep(values)`` once, then ``_node(array, place)`` makes each output in
    the graph a node of the call (:func:`node_row`); ``inputs``, the call's tensors (an argument returned as it is)."""

    __slots__ = ("op", "parents", "kept", "outputs", "inputs")

    def __init__(self, op: Op, parents: tuple, outputs: int, inputs: tuple | list) -> None:
        self.op, self.parents, self.outputs, self.inputs = op, parents, outputs, inputs

    def keep(self, values: tuple) -> None:
        if self.op.joint:
            values = _Kept(values)
            values._outputs = (None,) * self.outputs
        self.kept = values

    def __call__(self, array: Any, place: int) -> Tensor:
        return apply(self.op, self.parents, array, (self.kept, place) if self.op.joint else self.kept)


ROW_NAME = "compiled forward"


DOUBLE_BACKWARD = ("torch.compile with aot_autograd does not currently support double backward (a gradient "
                   "of a gg.compile'd forward's replayed backward: its NumPy kernels build no graph to differentiate "
                   "again); call the model uncompiled for second derivatives")
"""PyTorch's words where a gradient that went through a compiled forward's backward is differentiated again."""


def _refusing_double_backward(backward: Any) -> Any:
    """The row's ``vjp_tensors``: ``backward(create_graph=True)`` through a replayed node.

    Before, the node raised at once, where eager (and PyTorch's compiled graphs) give each parameter its gradient: a
    script that asks ``create_graph=True`` and never differentiates again (or only through other paths) broke at the
    first replay. Now, as PyTorch's ``CompiledFunctionBackward``, the replayed kernels give eager's numbers, each a
    node whose parents are the call's tensors and the upstream gradients (so it requires grad where eager's does),
    and whose own backward raises PyTorch's error (:data:`DOUBLE_BACKWARD`)."""
    def vjp_tensors(upstream: Any, inputs: tuple, out: Any, saved: Any) -> tuple:
        ups = list(upstream) if isinstance(upstream, list) else [upstream]
        arrays = [None if up is None else up.array for up in ups]
        grads = backward(arrays if isinstance(upstream, list) else arrays[0], saved)
        parents = tuple(t for t in (*inputs, *ups) if isinstance(t, Tensor))
        row = Op(ROW_NAME + " (its backward)", "out = the gradient its replayed backward gave",
                 ("none: no double backward",) * len(parents), _handed_alone, _refuse_double_backward, kind="custom")
        return tuple(None if grad is None else apply(row, parents, grad) for grad in grads)
    return vjp_tensors


def _handed_alone(out: np.ndarray) -> tuple:
    """The double-backward row's forward: the replayed backward computed the gradient already."""
    return out, None


def _refuse_double_backward(*_: Any) -> tuple:
    raise RuntimeError(DOUBLE_BACKWARD)


# --- liveness: which values a replay keeps, and which stores nobody sees -------------------------

_QUIET = ("forward", "backward", "fit", "add", "kernel")  # kernels on arrays only: none reads a tensor's .grad


def _passes_up(kernel: Kernel) -> bool:
    """Whether ``kernel`` is a backward that hands its upstream on unchanged (written without a call)."""
    return kernel.kind == "backward" and kernel.op.passes_up and bool(kernel.outputs)


def _read_args(kernel: Kernel) -> tuple:
    """The arguments a replay of ``kernel`` reads: a backward that hands on its upstream reads nothing it saved."""
    return kernel.args[:1] if _passes_up(kernel) else kernel.args


def _returns_an_argument(encoded: Any) -> bool:
    """Whether an encoded result holds an argument of the step as it is (``("input", place)``)."""
    if encoded[0] == "input":
        return True
    return encoded[0] in ("seq", "dict", "object") and any(_returns_an_argument(part) for part in encoded[2])


def _slots_in(encoded: Any) -> list[int]:
    """The slots an encoded argument or result reads."""
    kind = encoded[0]
    if kind in ("slot", "tensor", "node"):
        return [encoded[1]]
    if kind in ("seq", "dict", "object"):
        return [slot for part in encoded[2] for slot in _slots_in(part)]
    return []


def _made_by(kernel: Kernel) -> list[int]:
    """The slots a kernel writes."""
    if kernel.kind == "forward":
        return [slot for slot in kernel.outputs if slot is not None]
    if kernel.kind == "backward":
        return [slot for _, slot in kernel.outputs]
    return list(kernel.outputs)


def _skipped(kernels: list, fresh: set[int], returned: set[int]) -> set[int]:
    """The ``store`` kernels whose every ``.grad`` is set to ``None`` again before anything reads it, and those resets
    where ``.grad`` is None all along.

    ``p -= lr * p.grad; p.grad = None`` reads the gradient's array (a slot), never the tensor stored in
    ``.grad``; once each leaf's ``.grad`` is dropped, the store left nothing anyone can see, and eager's
    final state (``.grad`` is None) is reached without it. Anything that might read ``.grad`` in between
    (a library call, a second backward, the stored array itself, the step's result: ``returned``, its slots)
    keeps the store. A leaf in ``fresh``
    (the program's guard: ``.grad`` is None when the replay starts, and nothing before its store sets
    it) whose store is skipped has no ``.grad`` until its reset: the reset is skipped too.
    """
    dead = set()
    for number, kernel in enumerate(kernels):
        if kernel.kind != "store":
            continue
        waiting = {id(leaf) for leaf in kernel.extra}
        stored = set(kernel.outputs)
        if stored & returned:  # g = p.grad; p.grad = None; return g: the stored gradient is the step's result
            continue
        resets = []
        for position, later in enumerate(kernels[number + 1:], number + 1):
            if any(slot in stored for arg in later.args for slot in _slots_in(arg)):
                break
            if (later.kind == "call" and later.function is ASSIGN_GRAD and later.args[0][0] == "py"
                    and later.args[1] == ("py", None)):
                if id(later.args[0][1]) in waiting:
                    waiting.discard(id(later.args[0][1]))
                    resets += [position] if id(later.args[0][1]) in fresh else []
                if not waiting:
                    dead.add(number)
                    dead.update(resets)
                    break
            elif later.kind not in _QUIET:
                break
    return dead


def _registers(kernels: list, inputs: int, result: Any, dead: set[int]) -> dict[int, int]:
    """Slot → local variable, each variable reused once the value it held is read for the last time.

    A value then lives only as long as the step needs it (as in eager, where an intermediate dies with its
    node), so memory stays small and NumPy reuses the blocks it just freed. A gradient stored in ``.grad``
    that the step never reads back gets no variable.
    """
    last: dict[int, int] = {}
    for number, kernel in enumerate(kernels):
        if number not in dead:
            for arg in kernel.args:
                for slot in _slots_in(arg):
                    last[slot] = number
    for slot in _slots_in(result):
        last[slot] = len(kernels)
    register = {slot: slot for slot in range(inputs)}
    free = [slot for slot in range(inputs) if slot not in last]
    count = inputs
    for number, kernel in enumerate(kernels):
        if number in dead:
            continue
        free += [register[slot] for slot in {slot for arg in kernel.args for slot in _slots_in(arg)}
                 if last[slot] == number]
        made = [slot for slot in _made_by(kernel) if kernel.kind != "store" or slot in last]
        for slot in made:
            if free:
                register[slot] = free.pop()
            else:
                register[slot] = count
                count += 1
        free += [register[slot] for slot in made if slot not in last]
    return register
