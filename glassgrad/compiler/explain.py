"""``compiled.explain()``: a captured program as a reader sees it, kernel by kernel.

Kernels are listed in the order they run, grouped by pass (forward, backward, update) and,
inside a pass, by the layer that ran them; each line gives the kernel, its output buffers
(shape, dtype, bytes) and its formula, read from the row that defines it (an op's ``formula``
and ``derivative_lines()`` as ``glassgrad rules`` prints them, an optimizer's ``formula_for``):
one rule, one place; a library helper run as a kernel (an index's range check, a cast) is named by the public op it
ran in, as a refusal names it (``gather's _refuse_index_outside``, ``capture._called``), or by the tensor's method
the step called (``Tensor.long's ndarray.astype``). No kernel is fused: each
is the function eager calls. A store into ``.grad``
that nothing reads before it is reset (``p.grad = None``) is listed, marked as left out of the replay; so is a
forward whose output nothing reads (a loss the step does not return), replayed as its row's ``saved_alone``. A
forward whose ``backward()`` runs outside lists that backward's kernels too, run by the one node a replay gives back.
Last come the guards a replay checks first, as a reader sees them (``lr == 0.1 (float)``, ``w: the same Tensor``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .capture import Kernel
from .program import Program


def explain_program(name: str, program: Program) -> str:
    """The listing of ``program`` (see the module docstring)."""
    kernels = program.kernels
    names = _layer_names(program)
    total = sum(_bytes(size) for kernel in kernels for size in kernel.sizes)
    lines = [f"{name}: {len(kernels)} kernels (none fused), {program.buffers} buffers, "
             f"{_size_text(total)} written per call"]
    phase = layer = None
    walks = dict(program.walks) if program.outputs > 1 else {}
    for number, kernel in enumerate(kernels, 1):
        if kernel.phase != phase:
            phase, layer = kernel.phase, object()
            lines.append(phase if program.node_op is None or phase != "backward" else _node_pass(program))
        if number - 1 in walks:
            layer = object()
            lines.append(f"  when backward() reaches {_outputs_text(walks[number - 1])}")
        if kernel.layer is not layer:
            layer = kernel.layer
            lines.append(f"  {names.get(id(layer), 'outside any layer') if layer is not None else 'outside any layer'}")
        sizes = ", ".join(_buffer_text(size) for size in kernel.sizes if size)
        formula = _formula(kernel)
        if number - 1 in program.unread_outputs:
            formula = f"{formula}  (nothing reads the output: only what the backward needs is computed)"
        if number - 1 in program.skipped:
            formula = ("left out of the replay: nothing reads it before .grad is reset" if kernel.kind == "store"
                       else "left out of the replay: .grad is None already")
        lines.append(f"    {number:>3}  {_what(kernel):<26} {sizes:<32} {formula}".rstrip())
    return "\n".join(lines + _guards_text(program))


def _guards_text(program: Program) -> list[str]:
    """What a replay checks first (:meth:`Program._guards`), as a reader sees it: one that no longer holds makes
    the call capture the step again."""
    lines = ["guards (checked before each replay; one that no longer holds captures the step again)"]
    if program.guards:
        lines.append(f"  {len(program.guards)} parameter(s), buffer(s) and other tensor(s) read: the same arrays, "
                     "requires_grad as at capture")
    if program.modules:
        modes = sorted({"train" if training else "eval" for _, training in program.modules})
        lines.append(f"  {len(program.modules)} layer(s): in {' and '.join(modes)} mode, with the same parameters, "
                     "buffers, sublayers, settings and other attributes, and no hooks")
    if program.fresh_grads:
        lines.append(f"  {len(program.fresh_grads)} .grad still None, as at capture")
    lines += [f"  {read.shown()}" for read in program.reads]
    lines.append(f"  default dtype {np.dtype(program.default_dtype).name}")
    return lines


def _node_pass(program: Program) -> str:
    """The backward pass's heading in a program whose backward one node runs (a forward compiled alone)."""
    parameters = len({id(leaf) for leaf in program.leaves if leaf is not None})
    arguments = f" and {len(program.arguments)} argument(s)" if program.arguments else ""
    if program.outputs > 1:
        return (f"backward (one node per output, '{program.node_op.name}', walked as one: for each set of its "
                f"{program.outputs} outputs that backward() may reach, the walk it replays; its gradients go to "
                f"{parameters} parameters{arguments})")
    return (f"backward (one node, '{program.node_op.name}', replays it when backward() reaches the output; its "
            f"gradients go to {parameters} parameters{arguments})")


def _outputs_text(seeded: tuple) -> str:
    """``output 2``, ``outputs 1 and 2``, ``outputs 1, 2 and 3``: the outputs a walk starts from, counted from 1."""
    places = [str(place) for place, seed in enumerate(seeded, 1) if seed]
    if len(places) == 1:
        return f"output {places[0]} alone"
    return f"outputs {', '.join(places[:-1])} and {places[-1]}"


def _layer_names(program: Program) -> dict[int, str]:
    names: dict[int, str] = {}
    for module, _ in program.modules:
        for path, child in module.named_modules():
            names.setdefault(id(child), f"{path} ({type(child).__name__})" if path else type(child).__name__)
    return names


def _what(kernel: Kernel) -> str:
    if kernel.op is not None and kernel.kind in ("forward", "backward"):
        return f"{kernel.kind} {kernel.op.name}"
    if kernel.kind in ("call", "kernel"):
        function = kernel.function
        if kernel.kind == "kernel" and isinstance(kernel.args[0][1], np.ufunc):
            return f"{kernel.args[0][1].__name__} in place"
        owner, name = _owner(kernel), getattr(function, "__name__", "")
        if owner is not None and name and hasattr(type(owner), name):  # a method, by its object's class: Adam.step
            return f"{type(owner).__name__}.{name}"
        return kernel.shown or getattr(function, "__qualname__", str(function))
    return {"fit": "sum to input's shape", "add": "add gradients", "store": "store .grad"}.get(kernel.kind, kernel.kind)


def _formula(kernel: Kernel) -> str:
    op = kernel.op
    if kernel.kind == "forward":  # h += b: the row's forward, its result written back into h's memory
        return op.formula if kernel.function is op.forward else f"{op.formula}, written into a's memory"
    if kernel.kind == "backward":
        return "; ".join(op.derivative_lines())
    if kernel.kind == "fit":
        return f"sum over broadcast axes to {tuple(kernel.extra[0])}"
    if kernel.kind == "add":
        return "∂L/∂t = c₁ + c₂ (two uses of t)"
    if kernel.kind == "store":
        return f".grad += ∂L/∂w for {len(kernel.extra)} tensor(s)"
    return _call_formula(kernel)


def _owner(kernel: Kernel) -> Any:
    """The object a call's function is a method of, where the call passes it first (an optimizer, a schedule)."""
    first = kernel.args[0] if kernel.args else None
    return first[1] if first is not None and first[0] == "py" else None


def _call_formula(kernel: Kernel) -> str:
    """An optimizer's update rule from its own ``formula_for`` (the first group's); what a schedule's step does;
    else nothing."""
    owner = _owner(kernel)
    if getattr(kernel.function, "__name__", "") != "step":
        return ""
    if hasattr(owner, "formula_for"):
        return "; ".join(owner.formula_for(owner.param_groups[0]).splitlines())
    if hasattr(owner, "get_last_lr"):
        return "η ← the schedule's next lr, in each parameter group (its Python runs at each replay)"
    return ""


def _bytes(size: tuple) -> int:
    if not size:
        return 0
    shape, dtype = size
    return int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


def _buffer_text(size: tuple) -> str:
    shape, dtype = size
    return f"{tuple(shape)} {np.dtype(dtype).name} {_size_text(_bytes(size))}"


def _size_text(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count / 1024 / 1024:.1f} MiB"
