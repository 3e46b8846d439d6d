"""The backward walk that returns gradients (``gg.autograd.grad``) and can record itself (``create_graph=True``).

``loss.backward()`` (:func:`glassgrad.autograd.run_backward`) adds ∂L/∂leaf to every leaf's
``.grad``, visiting nodes newest first by their creation tick. This walk goes over the same graph
in a topological order (a node after everything that uses it), with the same checks (freed
values, in-place changes, gradient shapes), but from one or more outputs at once and only to
the tensors asked for, and it returns their gradients instead of storing them (a tensor that
called ``retain_grad()`` on the way keeps its own, as in PyTorch). For a seed ``v`` of each
output it computes the vector-Jacobian product ``∂(Σ vᵢ·outᵢ)/∂t``. :func:`backward_into` stores
them after all, for ``backward(create_graph=True)`` and ``backward(inputs=…)``.

It walks in one of two modes:

* **numbers** (``create_graph=False``): each node's row computes its contributions with NumPy
  (:attr:`glassgrad.ops.Op.backward`), exactly as ``backward()`` does;
* **recorded** (``create_graph=True``): each node's row computes them with tensor operations
  (:attr:`glassgrad.ops.Op.vjp_tensors`) while gradients are recorded, so the gradients are
  tensors in a graph of their own, and differentiating them again gives second derivatives::

      y = x³      ∂y/∂x = 3x²  (recorded: 3 · x²)      ∂²y/∂x² = 6x

  A row without ``vjp_tensors`` is refused, naming it, before anything is computed with it.

The ops a recorded walk makes are the gradient's own graph: an active tape does not show them
as forward steps of the trace (it still sees each node the walk visits, as in ``backward()``).
"""

from __future__ import annotations

from typing import Any

from . import ops
from .anomaly import UNREPLAYABLE as ANOMALY_UNREPLAYABLE
from .anomaly import check_gradients, is_anomaly_check_nan_enabled
from .arguments import broadcasts_to
from .autograd import (
    BACKWARD_PASS,
    CLOCK,
    FREED,
    JOINT_CALLS,
    NOW,
    GradMode,
    _accumulate,
    _check_saved,
    _fit,
    current_tape,
    freed_after_backward,
    freed_error,
    joint_upstreams,
    modified_error,
    note_unreplayable,
    read_roles,
    rule_shape_error,
    same_call,
    topological_order,
    watched_by,
)
from .saved_packing import MADE, Packed
from .tensor_hooks import HOOKS, POST_ACCUMULATE_HOOKS, run_hooks, run_post_accumulate_hooks


class Outputs:
    """A stand-in node whose parents are the outputs: the graph's order from several outputs at once."""

    __slots__ = ("_parents", "_clock", "_requires_grad")

    def __init__(self, outputs: tuple) -> None:
        self._parents = outputs
        self._clock = CLOCK[NOW]  # made now: nothing to reroute
        self._requires_grad = True


def gradients(outputs: tuple, seeds: tuple, inputs: tuple, create_graph: bool, retain_graph: bool) -> list:
    """∂(Σ seedᵢ·outputᵢ)/∂input for each of ``inputs`` (None where no path leads to it).

    ``seeds`` are NumPy arrays (numbers) or tensors (recorded), one per output, shaped like it.
    """
    order = topological_order(Outputs(outputs))[1:]
    if JOINT_CALLS:  # newest first, as backward() walks: a call's outputs come in a row (autograd.same_call)
        order.sort(key=_tick, reverse=True)
    wanted = set(inputs)
    leads = set()  # the tensors on some path from an output to an input: the only ones worth visiting
    for tensor in reversed(order):
        if tensor._ctx is FREED:  # a backward without retain_graph=True cut the graph here
            raise freed_error(tensor._op)
        if tensor in wanted or any(parent in leads for parent in tensor._parents):
            leads.add(tensor)
    grads: dict[Any, Any] = {}
    for output, seed in zip(outputs, seeds):
        grads[output] = grads[output] + seed if output in grads else seed
    found: dict[Any, Any] = {}
    BACKWARD_PASS[0] += 1
    tape = current_tape()
    # the gradient's own ops (create_graph) are recorded, and are no forward steps of a trace; the walk runs in grad
    # mode create_graph, as PyTorch's: the hooks it calls see that mode (and record only with create_graph=True)
    with watched_by(None if create_graph else tape), GradMode(create_graph):
        _walk(order, leads, grads, wanted, found, create_graph, retain_graph, tape)
    return [found.get(tensor) for tensor in inputs]


def _walk(order: list, leads: set, grads: dict, wanted: set, found: dict, create_graph: bool, retain_graph: bool,
          tape: Any) -> None:
    """:func:`gradients`' loop: each node on a path to an input passes its upstream gradient to its parents."""
    kept: set[int] = set()
    changed = CLOCK[NOW]
    watched = is_anomaly_check_nan_enabled()  # anomaly detection: each rule's gradients are tested for NaN
    if watched:  # in Python, which a compiled step's replay would not do
        note_unreplayable(ANOMALY_UNREPLAYABLE)
    packs = MADE[0]  # 0 unless saved_tensors_hooks packed some node's values
    def arrive(node: Any, upstream: Any) -> None:
        if node in wanted:
            found[node] = upstream
        if node._retains_grad:  # as in PyTorch, a tensor that called retain_grad() on the way keeps its gradient
            if create_graph:
                node._grad = upstream if node._grad is None else node._grad + upstream
            else:
                _accumulate(node, upstream, kept)

    for position, node in enumerate(order):
        if node not in leads or node not in grads:
            continue
        upstream = grads.pop(node)
        op = node._op
        hooked = HOOKS and id(node) in HOOKS
        if not hooked:
            arrive(node, upstream)
        elif op is None or not op.joint or not any(parent in leads for parent in node._parents):
            upstream = run_hooks(node, upstream, tape)
            arrive(node, upstream)
            upstream = run_hooks(node, upstream, tape, node_hooks=True)  # a module's (NodeHook), after arrive
        # else: one call's output, whose hooks run with the other outputs' (joint_upstreams, below)
        if op is None or not any(parent in leads for parent in node._parents):
            continue
        saved = node._ctx
        if packs and type(saved) is Packed:  # recorded under saved_tensors_hooks
            saved = saved.unpacked(create_graph)
        if node._clock < changed:  # something changed in place since this node was made
            _check_saved(node, op, saved)
        if op.joint:  # one call's outputs: its rule runs once, given all their gradients
            others = []
            later = position + 1
            while later < len(order) and same_call(node, order[later]):
                if order[later] in leads and order[later] in grads:
                    others.append(order[later])
                later += 1
            upstream = joint_upstreams(node, upstream, others, grads.pop, arrive, tape, retain_graph, bool(hooked))
        contributions = (_recorded_contributions(node, op, upstream, saved) if create_graph else
                         op.backward(upstream, saved))
        if watched:
            check_gradients(node, upstream, contributions)
        if tape is not None:
            tape.on_backward(node, upstream, contributions)
        for position, (parent, contribution) in enumerate(zip(node._parents, contributions)):
            if contribution is None or parent not in leads:
                continue
            if create_graph:
                contribution = _fit_tensor(contribution, parent, op, position)
            elif contribution.shape != parent.array.shape or contribution.dtype is not parent.array.dtype:
                contribution = _fit(contribution, parent.array, op, node._parents, parent)
            grads[parent] = grads[parent] + contribution if parent in grads else contribution
        if not retain_graph and freed_after_backward(op, node._parents):
            node._ctx = FREED
            node._parents = ()


def _tick(tensor: Any) -> int:
    """When ``tensor``'s node was made (0 for a leaf)."""
    return getattr(tensor, "_clock", 0)


def _recorded_contributions(node: Any, op: ops.Op, upstream: Any, saved: Any) -> tuple:
    """The node's contributions computed with tensor ops, recorded (``saved``: what its forward saved)."""
    if op.vjp_tensors is None:
        having = ", ".join(name for name, row in ops.RULES.items() if row.vjp_tensors is not None)
        raise RuntimeError(
            f"create_graph=True: no second derivative for '{op.name}' yet (the ops that have one: {having}); "
            "differentiate without create_graph=True, or write this step with those ops"
        )
    return op.vjp_tensors(upstream, old_values(node), written_into(node, op, saved), saved)


def written_into(node: Any, op: ops.Op, saved: Any) -> Any:
    """``node``'s output as its rule reads it: ``node`` itself, or the tensor an in-place form wrote it into
    (``x.exp_()`` is ``x.copy_(exp(copy of x))``), which PyTorch's rule reads as its output, so that a gradient of
    the contributions passes through x and its hooks. Refused, as PyTorch refuses it, where x was changed since
    outside the graph; where x was changed in the graph since, ``node`` (the value the rule needs) stands in.
    A rule that does not read its output (``sin_``, ``clamp_``, ``abs_``: PyTorch's reads the old x) takes
    ``node``: a change of x since is none of its business (``saved``: what the op's forward saved)."""
    written = getattr(node, "_written_into", None)
    if written is None or ops.OUT not in read_roles(op, node._parents, saved):
        return node
    tensor, version = written[0](), written[1]
    if tensor is None or tensor._op is not ops.SETITEM or tensor._parents[-1] is not node:
        return node
    if tensor._version != version:
        raise modified_error(tensor.shape, node._op.name, "its output", tensor._version, version)
    return tensor


def old_values(node: Any) -> tuple:
    """``node``'s inputs as its rule must read them: an input the node copied before an in-place change overwrote
    its memory (``y.mul_(x)``: y's old value) stands in as that copy, a cast of it recorded with the input as its
    parent, so that a gradient of the contributions still reaches the input."""
    private = getattr(node, "_private", None)
    if private is None:
        return node._parents
    role, value = private
    parents = list(node._parents)
    parents[role] = parents[role]._holding(value)
    return tuple(parents)


def _fit_tensor(contribution: Any, parent: Any, op: ops.Op, position: int) -> Any:
    """:func:`glassgrad.autograd._fit` for a recorded contribution: summed back to its input's shape and dtype."""
    shape = parent.shape
    if contribution.shape != shape:
        if not broadcasts_to(shape, contribution.shape):
            raise rule_shape_error(op, position, contribution.shape, shape)
        extra = contribution.ndim - len(shape)
        if extra:
            contribution = contribution.sum(dim=tuple(range(extra)))
        stretched = tuple(i for i, size in enumerate(shape) if size == 1 and contribution.shape[i] != 1)
        if stretched:
            contribution = contribution.sum(dim=stretched, keepdim=True)
    if contribution.dtype != parent.dtype:
        contribution = contribution.to(parent.dtype)
    return contribution


def backward_into(roots: tuple, seeds: tuple, inputs: tuple | None, create_graph: bool, retain_graph: bool) -> None:
    """``root.backward(seed, inputs=…, create_graph=…)`` for each of ``roots`` in one pass: gradients added to
    ``.grad`` of ``inputs`` only.

    ``inputs=None``: every leaf, as ``backward()``. Tensors that called ``retain_grad()`` on the
    way keep theirs too (:func:`gradients` fills them). With ``create_graph=True`` each ``.grad``
    is itself in a graph, so ``x.grad.backward()`` or ``gg.autograd.grad(x.grad, x)``
    differentiates it again; ``seeds`` are then tensors, else NumPy arrays.
    """
    if inputs is None:
        inputs = tuple(tensor for tensor in topological_order(Outputs(roots))[1:] if tensor._op is None)
    stored: set[int] = set()
    reached = []
    for tensor, grad in zip(inputs, gradients(roots, seeds, inputs, create_graph, retain_graph)):
        if grad is None or tensor._retains_grad:  # no path, or already kept on the way
            continue
        reached.append(tensor)
        if create_graph:
            if id(grad) in stored:  # one gradient tensor reached two inputs (a + b): each .grad gets its own
                grad = grad.clone()
            stored.add(id(grad))
            tensor._grad = grad if tensor._grad is None else tensor._grad + grad
        else:
            _accumulate(tensor, grad.copy(), stored)
    if POST_ACCUMULATE_HOOKS:
        with GradMode(create_graph):  # the pass's grad mode, as gradients' walk (PyTorch's)
            run_post_accumulate_hooks(reached, current_tape())
