"""Reverse-mode automatic differentiation: the graph walk behind ``loss.backward()``.

Every tensor made by an op while gradients are recorded remembers its op (a row of
:mod:`glassgrad.ops`), its parents and what the forward saved. ``backward`` then

1. orders the graph topologically, iteratively (a chain of 100,000 ops is fine),
2. walks it from the root, giving each node's upstream gradient ``∂L/∂out`` to the
   node's rule, which returns ``∂L/∂input`` for each parent (the chain rule:
   ``∂L/∂input = ∂L/∂out · ∂out/∂input``),
3. sums a contribution back to its parent's shape (and dtype) where the op broadcast or
   promoted its inputs (done here, once, for every such rule),
4. adds contributions that meet at the same tensor, and finally adds the result to
   ``.grad`` of each leaf (and of tensors that called ``retain_grad()``),
5. frees what the forward saved, unless ``retain_graph=True``.

Grad mode: :class:`no_grad` (a context manager and a decorator) turns recording off.
A tape (:mod:`glassgrad.trace`) can observe every step through :data:`STATE`.tape;
when no tape is active the cost is one attribute test per op.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np


class _State(threading.local):
    """Switches read on every op: grad mode and the active tape, if any.

    Per thread, as in PyTorch: ``no_grad`` in one thread (a web request, say) does not
    switch off recording in another.
    """

    def __init__(self) -> None:
        self.grad_enabled = True
        self.tape: Any = None


STATE = _State()

FREED = object()
"""Marker left in a node's saved values once ``backward`` has used and released them."""


class set_grad_enabled:
    """Turn gradient recording on or off inside a ``with`` block (or a decorated function)."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.previous: list[bool] = []

    def __enter__(self) -> None:
        self.previous.append(STATE.grad_enabled)
        STATE.grad_enabled = self.mode

    def __exit__(self, *exc_info: object) -> None:
        STATE.grad_enabled = self.previous.pop()

    def __call__(self, function: Callable) -> Callable:
        @functools.wraps(function)
        def run_with_mode(*args, **kwargs):
            with set_grad_enabled(self.mode):  # a fresh switch per call: safe for recursion and threads
                return function(*args, **kwargs)

        return run_with_mode


class no_grad(set_grad_enabled):
    """Record nothing: ops inside build no graph (for updates and evaluation).

    >>> import glassgrad as gg
    >>> w = gg.tensor([1.0, 2.0], requires_grad=True)
    >>> with gg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record again inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(True)


def is_grad_enabled() -> bool:
    """True when ops record a graph for ``backward``."""
    return STATE.grad_enabled


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, to get ``shape``.

    If ``a`` of shape (3, 1) was broadcast to (2, 3, 4), each entry of ``a`` was used
    2·4 times, so its gradient is the sum of the 8 upstream entries it fed.
    """
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != shape:  # a rule may hand back a scalar-shaped contribution
        grad = np.broadcast_to(grad, shape)
    return grad


def _fit(contribution: np.ndarray, like: np.ndarray) -> np.ndarray:
    """A broadcasting op's contribution summed back to its input's shape, in its input's dtype."""
    if contribution.shape != like.shape:
        contribution = unbroadcast(contribution, like.shape)
    if contribution.dtype is not like.dtype:
        contribution = contribution.astype(like.dtype)
    return contribution


def topological_order(root) -> list:
    """Tensors of the graph ending at ``root``, each after every tensor that uses it.

    Iterative depth-first search (no recursion limit); only tensors that require grad.
    """
    order = []
    visited = {root}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent._requires_grad and parent not in visited:
                visited.add(parent)
                stack.append((parent, iter(parent._parents)))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def run_backward(root, gradient: np.ndarray, retain_graph: bool) -> None:
    """Propagate ``gradient`` (= ∂L/∂root) to every leaf of ``root``'s graph."""
    tape = STATE.tape
    grads = {root: gradient}
    take = grads.pop
    kept: set[int] = set()  # arrays already stored in some .grad during this pass
    for node in topological_order(root):
        upstream = take(node, None)
        if upstream is None:
            continue
        op = node._op
        if op is None:
            _accumulate(node, upstream, kept)
            continue
        if node._retains_grad:
            _accumulate(node, upstream, kept)
        saved = node._ctx
        if saved is FREED:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (the '{op.name}' step's "
                "saved values were freed by the first backward). Call .backward(retain_graph=True) "
                "the first time if you need to backward twice, or run the forward pass again."
            )
        contributions = op.backward(upstream, saved)
        if tape is not None:
            tape.on_backward(node, upstream, contributions)
        broadcasting = op.broadcasting
        for parent, contribution in zip(node._parents, contributions):
            if contribution is None or not parent._requires_grad:
                continue
            if broadcasting:
                contribution = _fit(contribution, parent.data)
            if parent in grads:
                grads[parent] = grads[parent] + contribution
            else:
                grads[parent] = contribution
        if not retain_graph:
            node._ctx = FREED
            node._parents = ()


def _accumulate(tensor, grad: np.ndarray, kept: set[int]) -> None:
    """``tensor.grad += grad`` (or ``= grad`` the first time).

    A stored gradient never shares memory with another ``.grad`` (an ``add`` hands the
    same array to both inputs) nor is a read-only view, so in-place edits such as
    gradient clipping touch exactly one tensor.
    """
    if tensor._grad is not None:
        grad = tensor._grad.data + grad
    elif id(grad) in kept or grad.base is not None:  # shared, or a view of another array
        grad = grad.copy()
    kept.add(id(grad))
    tensor._grad = tensor._plain(grad)  # a plain Tensor, even for a subclass such as nn.Parameter
