"""The tape: a recording of every forward op, every backward step and every optimizer update.

While a tape is active (``with gg.trace() as tape:``) the engine reports to it through
:func:`glassgrad.autograd.current_tape`:

* ``on_forward(op, parents, result, args)`` after each op: what went in, what came out;
* ``on_backward(node, upstream, contributions)`` for each node during ``backward()``: the
  upstream gradient ``∂L/∂out`` and each input's contribution ``∂L/∂out · ∂out/∂input``;
* ``on_update(optimizer, formula, param, old, grad, lr, new, state)`` for each parameter an
  optimizer changes: ``θ_new = θ_old − η·∂L/∂θ`` (or the optimizer's own rule), with the state
  the rule keeps (momentum's ``b``, Adam's ``m`` and ``v``) before and after, by the rule's letter.

The tape copies every value (later in-place updates cannot change the record) and keeps
the tensors it saw alive, so each tensor keeps its identity. With no tape active the engine
pays one ``is None`` test per op and nothing else.

Records are grouped in *passes*: a pass is a forward, the backward that follows it and the
updates after that; the next forward (with grad recording on) starts the next pass.

>>> import glassgrad as gg
>>> import glassgrad.nn.functional as F
>>> w = gg.tensor([[2.0, -1.0]], requires_grad=True)
>>> with gg.trace() as tape:
...     _ = tape.name(w, "W")
...     loss = F.mse_loss(F.linear(gg.tensor([[1.0, 3.0]]), w), gg.tensor([[0.0]]))
...     loss.backward()
>>> [record.op.name for record in tape.forward]
['linear', 'mse_loss']
>>> tape.backward[-1].contributions[1].tolist()   # ∂L/∂W = 2(ŷ − y)·x = 2·(−1)·[1, 3]
[[-2.0, -6.0]]
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import numpy as np

from ..autograd import STATE, note_unreplayable, swap_tape, unbroadcast
from ..ops import Op
from ..tensor import Tensor
from .records import BackwardRecord, ForwardRecord, ModuleCall, UpdateRecord


def _snapshot(array: Any) -> np.ndarray:
    return np.array(array, copy=True)


class Tape:
    """Everything the engine did while this tape was active, in order.

    ``forward``, ``backward`` and ``updates`` hold :class:`ForwardRecord`,
    :class:`BackwardRecord` and :class:`UpdateRecord` objects; ``modules`` the
    :class:`ModuleCall` of each module called while recording (its ops form one layer).
    Name tensors with :meth:`name`, or :meth:`watch` a module to take its parameter names.
    """

    def __init__(self) -> None:
        self.forward: list[ForwardRecord] = []
        self.backward: list[BackwardRecord] = []
        self.updates: list[UpdateRecord] = []
        self.modules: list[ModuleCall] = []
        self.labels: dict[int, str] = {}
        self.parameter_names: dict[int, str] = {}
        self.module_names: dict[int, str] = {}
        self.tensors: dict[int, Any] = {}
        self.passes = 0
        self._events = 0
        self._phase = "idle"
        self._reached: set[int] = set()  # tensors that got a gradient contribution in this pass
        self._hooks: list[Any] = []
        self._open_modules: list[int] = []
        self._previous: list[Any] = []

    # --- naming -------------------------------------------------------------------------

    def name(self, tensor: Any, label: str) -> Any:
        """Show ``tensor`` as ``label`` (e.g. ``"W1"``) in every step; returns the tensor."""
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"tape.name: the label must be a non-empty string, got {label!r}")
        self.labels[self._keep(tensor)] = label
        return tensor

    def watch(self, module: Any) -> Any:
        """Take the names of ``module.named_parameters()`` and ``named_modules()`` for the steps.

        (Every module called while the tape is active groups its ops, watched or not; watching
        only adds the names, e.g. ``0.weight`` for the first layer of a ``Sequential``.)
        """
        if not hasattr(module, "named_parameters") or not hasattr(module, "named_modules"):
            raise TypeError(f"tape.watch expects a gg.nn.Module, got {type(module).__name__}")
        for parameter_name, parameter in module.named_parameters():
            self.parameter_names.setdefault(self._keep(parameter), parameter_name)
        for module_name, submodule in module.named_modules():
            self.module_names.setdefault(id(submodule), module_name or type(submodule).__name__)
        return module

    def key(self, tensor: Any) -> int:
        """The key this tape files ``tensor`` under (records refer to tensors by key)."""
        return id(tensor)

    def tensor(self, key: int) -> Any:
        """The tensor filed under ``key``."""
        return self.tensors[key]

    def _keep(self, tensor: Any) -> int:
        key = id(tensor)
        self.tensors.setdefault(key, tensor)
        return key

    # --- activation -----------------------------------------------------------------------

    def __enter__(self) -> Tape:
        from ..nn.module import register_module_forward_hook, register_module_forward_pre_hook

        note_unreplayable("gg.trace() inside the step: its tape would take the steps from the recorder")
        self._previous.append(swap_tape(self))
        self._hooks += [register_module_forward_pre_hook(self._module_starts),
                        register_module_forward_hook(self._module_ends)]
        return self

    def __exit__(self, *exc_info: object) -> None:
        swap_tape(self._previous.pop())
        for handle in self._hooks:
            handle.remove()
        self._hooks.clear()
        self._open_modules.clear()  # a module that raised never reached its end hook

    # --- the engine's hooks ------------------------------------------------------------------

    def _next_index(self) -> int:
        self._events += 1
        return self._events - 1

    def _enter_phase(self, phase: str) -> None:
        if phase == "forward" and self._phase in ("backward", "update", "idle"):
            self.passes += 1
            self._reached = set()
        self._phase = phase

    def on_forward(self, op: Op, parents: tuple, result: Any, args: tuple) -> None:
        """Called by the engine after every op."""
        with_grad = STATE.switches[0]
        if with_grad or self._phase == "idle":
            self._enter_phase("forward")
        record = ForwardRecord(
            index=self._next_index(), pass_index=self.passes - 1, op=op,
            inputs=tuple(self._keep(parent) for parent in parents),
            input_values=tuple(_snapshot(parent.array) for parent in parents),
            output=self._keep(result), output_value=_snapshot(result.array),
            settings=_settings(op, args),
            with_grad=with_grad,
            shown=tuple((symbol, _snapshot(args[position])) for position, symbol in op.shown),
        )
        self.forward.append(record)

    def on_rebase(self, tensor: Any, previous: Any) -> None:
        """Called by the engine when an in-place change re-bases ``tensor`` (``out += b``).

        The steps recorded so far made or read ``tensor``'s earlier value, which the hidden
        tensor ``previous`` now stands for: they are filed under it, and it keeps the label.
        """
        key = id(tensor)
        if key not in self.tensors:
            return
        earlier = self._keep(previous)

        def swap(keys: tuple[int, ...]) -> tuple[int, ...]:
            return tuple(earlier if k == key else k for k in keys)

        for record in self.forward:
            record.inputs, (record.output,) = swap(record.inputs), swap((record.output,))
        for step in self.backward:
            step.inputs, (step.node,) = swap(step.inputs), swap((step.node,))
        for call in self.modules:
            call.inputs, (call.output,) = swap(call.inputs), swap((call.output,))
        if key in self.labels:
            self.labels[earlier] = self.labels[key]

    def on_backward(self, node: Any, upstream: np.ndarray, contributions: tuple) -> None:
        """Called by the engine for every node it walks in ``backward()`` (for the outputs of one call with several,
        :attr:`glassgrad.ops.Op.joint`, once, with a list of each output's upstream: ``node``'s own at its place)."""
        self._enter_phase("backward")
        outputs: tuple = ()
        if type(upstream) is list:
            ctx, own = node._ctx
            outputs = tuple((self._keep(output), None if up is None else _snapshot(up))
                            for output, up in zip(ctx._outputs, upstream) if isinstance(output, Tensor))
            upstream = upstream[own]
        parents = node._parents
        summed, accumulated, earlier = [], [], []
        for parent, contribution in zip(parents, contributions):
            if contribution is None or not parent.requires_grad:
                summed.append(None)
                accumulated.append(False)
                earlier.append(False)
                continue
            summed.append(_snapshot(unbroadcast(np.asarray(contribution), parent.array.shape)))
            key = self._keep(parent)
            accumulated.append(key in self._reached)
            # a leaf's .grad changes only when backward reaches the leaf itself, after this node:
            # a nonzero .grad there now was left by an earlier backward
            earlier.append(key not in self._reached and parent.is_leaf and parent.grad is not None
                           and bool(np.any(parent.grad.array)))
            self._reached.add(key)
        self.backward.append(BackwardRecord(
            index=self._next_index(), pass_index=self.passes - 1, op=node._op, node=self._keep(node),
            inputs=tuple(self._keep(parent) for parent in parents), upstream=_snapshot(upstream),
            contributions=tuple(summed), accumulated=tuple(accumulated), earlier_grad=tuple(earlier), outputs=outputs,
        ))

    def on_update(self, optimizer_name: str, formula: str, param: Any, old_value: np.ndarray,
                  grad: np.ndarray, lr: float, new_value: np.ndarray, state: dict | None = None) -> None:
        """Called by optimizers for each parameter they change (``state``: the state the rule keeps, by its letter:
        ``{"b": ("momentum_buffer", before, after)}``)."""
        self._enter_phase("update")
        self.updates.append(UpdateRecord(
            index=self._next_index(), pass_index=max(self.passes - 1, 0), optimizer=optimizer_name,
            formula=formula, parameter=self._keep(param), old=_snapshot(old_value), gradient=_snapshot(grad),
            lr=float(lr), new=_snapshot(new_value), state=dict(state or {}),
        ))

    def _module_starts(self, module: Any, inputs: tuple) -> None:
        self._open_modules.append(len(self.forward))

    def _module_ends(self, module: Any, inputs: tuple, output: Any) -> None:
        """Give the module the ops its forward made that no submodule has taken (inner hooks fire first)."""
        start = self._open_modules.pop() if self._open_modules else len(self.forward)
        found = [position for position in range(start, len(self.forward)) if self.forward[position].module is None]
        if not found:
            return
        name = self.module_names.get(id(module), type(module).__name__)
        for position in found:
            self.forward[position].module = len(self.modules)
        tensors = tuple(self._keep(value) for value in inputs if hasattr(value, "array"))
        self.modules.append(ModuleCall(name, type(module).__name__, found, tensors, self._keep(output)))

    # --- reading the record ---------------------------------------------------------------------

    def pass_records(self, pass_index: int = 0) -> tuple[list[ForwardRecord], list[BackwardRecord]]:
        """The forward ops (with grad recording on) and backward steps of one pass."""
        if not 0 <= pass_index < max(self.passes, 1):
            raise IndexError(f"this tape has {self.passes} pass(es); pass_index {pass_index} does not exist")
        forward = [r for r in self.forward if r.pass_index == pass_index and r.with_grad]
        if not forward:
            forward = [r for r in self.forward if r.pass_index == pass_index]
        backward = [r for r in self.backward if r.pass_index == pass_index]
        return forward, backward

    def describe(self, pass_index: int = 0, title: str = "trace", gradient_of: str | None = None) -> dict:
        """The layer-by-layer account of one pass as a plain document (see :mod:`.layers`).

        ``gradient_of``: the symbol the gradients are written of (``"L"`` in ``∂L/∂W₁``) when backward
        started from a tensor with a given gradient, ``z.backward(g)``.
        """
        from .layers import describe

        return describe(self, pass_index=pass_index, title=title, gradient_of=gradient_of)

    def render(self, format: str = "text", pass_index: int = 0, title: str = "trace") -> str:
        """This tape as ``"text"``, ``"md"``, ``"html"`` or ``"json"`` (see :func:`.render`)."""
        from .formats import render

        return render(self.describe(pass_index, title), format)

    def graph(self, level: str = "layer", pass_index: int = 0) -> str:
        """The computational graph of one pass as SVG text, values and gradients in the boxes.

        ``level="layer"`` draws one box per layer's output, ``"op"`` one per primitive op (see :mod:`.graph`).
        """
        from .graph import graph_svg

        return graph_svg(self.describe(pass_index), level)

    def _repr_html_(self) -> str:
        from .render_html import html_fragment

        return html_fragment(self.describe())

    def __repr__(self) -> str:
        return (f"<Tape: {len(self.forward)} forward ops, {len(self.backward)} backward steps, "
                f"{len(self.updates)} updates in {self.passes} pass(es)>")


def trace(model: Any = None) -> AbstractContextManager[Tape] | Tensor:
    """Record every forward op, backward step and optimizer update inside the block.

    ``model`` (optional) is watched: its parameter names label the steps and its layers
    group them. Tapes nest: the innermost active one records.

    Given a tensor instead, ``trace(A)`` is PyTorch's ``torch.trace``, ``Σᵢ A[i, i]``
    (:meth:`Tensor.trace`), so that code written for PyTorch gets a number, not a tape.

    >>> import glassgrad as gg
    >>> x = gg.tensor([3.0], requires_grad=True)
    >>> with gg.trace() as tape:
    ...     (x * x).sum().backward()
    >>> tape.backward[-1].contributions[0].tolist()   # ∂(x·x)/∂x = x + x
    [3.0]
    >>> gg.trace(gg.tensor([[1.0, 2.0], [3.0, 4.0]])).item()   # 1 + 4
    5.0
    """
    if isinstance(model, Tensor):
        return model.trace()
    return _recording(model)


def _settings(op: Op, args: tuple) -> tuple:
    """The settings among an op's arguments: those that are not arrays (the inputs' numbers), and the last
    ``len(op.settings)`` ones even if arrays (igamma's shape s, broadcast against x: it was dropped, and the
    trace's local derivative then lacked it)."""
    declared = len(op.settings) if isinstance(op.settings, tuple) else 0
    return tuple(arg for position, arg in enumerate(args)
                 if not isinstance(arg, np.ndarray) or position >= len(args) - declared)


@contextmanager
def _recording(model: Any) -> Iterator[Tape]:
    """The tape of one ``with gg.trace(model):`` block."""
    tape = Tape()
    if model is not None:
        tape.watch(model)
    with tape:
        yield tape
