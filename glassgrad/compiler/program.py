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
search and bookkeeping, the checks already passed at capture.
"""

from __future__ import annotations

import types
from operator import itemgetter
from typing import Any

import numpy as np

from ..autograd import _store_grads, unbroadcast
from ..tensor import Tensor
from .capture import Capture, Kernel


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


def _owner(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _same_view(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a`` and ``b`` look at the same entries of the same memory."""
    return (_owner(a) is _owner(b) and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


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
        if reason:
            return None, f"kernel {number + 1} ({_kernel_name(new)}) {reason}"
    if not _same_encoding(before.result, now.result):
        return None, "it returned something different"
    if [(m, t) for m, t in before.modules] != [(m, t) for m, t in now.modules]:
        return None, "it called other layers, or in another mode (train/eval)"
    externals = []
    for old, new, old_numbers, new_numbers in zip(before.externals, now.externals, before.snapshots, now.snapshots):
        if _same_view(old, new):
            externals.append(("bound", new))
        elif _owner(old) is not _owner(new) and _same_numbers(old_numbers, new_numbers):
            externals.append(("constant", new_numbers))
        else:
            return None, (f"an array of shape {new.shape} made outside glassgrad's ops held other numbers on the next "
                          "call (NumPy code on tensor values inside the step?)")
    return externals, ""


def _kernel_name(kernel: Kernel) -> str:
    if kernel.op is not None:
        return f"{kernel.kind} of '{kernel.op.name}'"
    return getattr(kernel.function, "__qualname__", kernel.kind)


def _kernel_difference(old: Kernel, new: Kernel) -> str:
    if old.kind != new.kind or not _same(old.function, new.function) or old.op is not new.op:
        return "is another operation"
    if len(old.args) != len(new.args) or not all(_same_encoding(a, b) for a, b in zip(old.args, new.args)):
        return "has other arguments or settings"
    if old.outputs != new.outputs or old.layer is not new.layer:
        return "sits elsewhere in the step"
    if old.kind == "fit" and old.extra != new.extra:
        return "sums over other axes"
    if old.kind in ("store", "add") and not _same(old.extra, new.extra):
        return "reaches other tensors"
    return ""


def _same_encoding(a: Any, b: Any) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "py":
        return _same(a[1], b[1])
    if a[0] in ("slot", "ext", "tensor"):
        return a[1] == b[1]
    if a[0] == "seq":
        return a[1] is b[1] and len(a[2]) == len(b[2]) and all(_same_encoding(x, y) for x, y in zip(a[2], b[2]))
    if a[0] == "dict":
        return a[1] == b[1] and all(_same_encoding(x, y) for x, y in zip(a[2], b[2]))
    return False


class Program:
    """A confirmed capture, ready to replay: ``program.replay(input_arrays)`` runs the step again."""

    def __init__(self, capture: Capture, externals: list) -> None:
        self.capture = capture
        self.kernels = capture.kernels
        self.inputs = capture.inputs
        self.guards = capture.guards
        self.modules = capture.modules
        self.template: list = [None] * capture.slots
        self.constants: list[tuple[int, np.ndarray]] = []
        self.external_slot = []
        for how, value in externals:
            slot = len(self.template)
            self.template.append(value if how == "bound" else None)
            self.external_slot.append(slot)
            if how == "constant":
                self.constants.append((slot, value))
        self.runs = [self._compile(kernel) for kernel in self.kernels]
        self.result = capture.result

    # --- building ---------------------------------------------------------------------------

    def _slot(self, encoded: tuple, runs: list) -> int:
        """The slot that holds an argument at replay (Python values and packed sequences get one too)."""
        kind = encoded[0]
        if kind == "slot":
            return encoded[1]
        if kind == "ext":
            return self.external_slot[encoded[1]]
        slot = len(self.template)
        if kind == "py":
            self.template.append(encoded[1])
            return slot
        self.template.append(None)  # a tuple or list with arrays inside: packed before the kernel runs
        parts = [self._slot(part, runs) for part in encoded[2]]
        sequence = encoded[1]
        pick = _getter(parts)

        def pack(values: list) -> None:
            values[slot] = sequence(pick(values))

        runs.append(pack)
        return slot

    def _compile(self, kernel: Kernel):
        packs: list = []
        get = _getter([self._slot(arg, packs) for arg in kernel.args])
        run = _MAKERS[kernel.kind](kernel, get)
        if not packs:
            return run
        packs.append(run)

        def run_with_packs(values: list) -> None:
            for part in packs:
                part(values)

        return run_with_packs

    # --- running ------------------------------------------------------------------------------

    def guards_hold(self) -> bool:
        """Whether the parameters, buffers and layer modes are still those the program was captured with."""
        for tensor, array, requires_grad in self.guards:
            if tensor.array is not array or tensor._requires_grad is not requires_grad:
                return False
        for module, training in self.modules:
            if module.training is not training:
                return False
        return True

    def replay(self, inputs: list) -> Any:
        """Run every kernel on ``inputs`` (arrays, in the capture's order); return the step's result."""
        values = self.template.copy()
        values[:self.inputs] = inputs
        for slot, numbers in self.constants:
            values[slot] = numbers.copy()
        for run in self.runs:
            run(values)
        return _rebuild(self.result, values)


def _rebuild(encoded: Any, values: list) -> Any:
    kind = encoded[0]
    if kind == "tensor":
        return Tensor._wrap(values[encoded[1]])
    if kind == "py":
        return encoded[1]
    if kind == "seq":
        return encoded[1](_rebuild(part, values) for part in encoded[2])
    return dict(zip(encoded[1], (_rebuild(part, values) for part in encoded[2])))


def _getter(slots: list):
    if not slots:
        return lambda values: ()
    if len(slots) == 1:
        only = slots[0]
        return lambda values: (values[only],)
    return itemgetter(*slots)


def _forward(kernel: Kernel, get):
    function = kernel.function
    out, saved = kernel.outputs
    ndarray, asarray = np.ndarray, np.asarray
    if saved is None:
        def run(values: list) -> None:
            result = function(*get(values))[0]
            values[out] = result if type(result) is ndarray else asarray(result)
    else:
        def run(values: list) -> None:
            result, kept = function(*get(values))
            values[out] = result if type(result) is ndarray else asarray(result)
            values[saved] = kept
    return run


def _backward(kernel: Kernel, get):
    function = kernel.function
    picks = kernel.outputs
    if len(picks) == 1:
        (position, slot), = picks

        def run(values: list) -> None:
            values[slot] = function(*get(values))[position]
    else:
        def run(values: list) -> None:
            contributions = function(*get(values))
            for position, slot in picks:
                values[slot] = contributions[position]
    return run


def _fit(kernel: Kernel, get):
    shape, dtype = kernel.extra
    out, = kernel.outputs

    def run(values: list) -> None:
        contribution, = get(values)
        if contribution.shape != shape:
            contribution = unbroadcast(contribution, shape)
        if contribution.dtype != dtype:
            contribution = contribution.astype(dtype)
        values[out] = contribution
    return run


def _add(kernel: Kernel, get):
    out, = kernel.outputs

    def run(values: list) -> None:
        held, more = get(values)
        values[out] = held + more
    return run


def _store(kernel: Kernel, get):
    leaves = kernel.extra
    outputs = tuple(zip(leaves, kernel.outputs))

    def run(values: list) -> None:
        _store_grads(dict(zip(leaves, get(values))))
        for leaf, slot in outputs:
            values[slot] = leaf._grad.array
    return run


def _call(kernel: Kernel, get):
    function = kernel.function
    outputs = kernel.outputs
    if not outputs:
        def run(values: list) -> None:
            function(*get(values))
    elif len(outputs) == 1:
        out, = outputs

        def run(values: list) -> None:
            values[out] = function(*get(values))
    else:
        out, array = outputs

        def run(values: list) -> None:
            result = values[out] = function(*get(values))
            values[array] = result.array
    return run


_MAKERS = {"forward": _forward, "backward": _backward, "fit": _fit, "add": _add, "store": _store, "call": _call,
           "kernel": _call}
