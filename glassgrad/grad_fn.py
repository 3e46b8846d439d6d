"""``y.grad_fn``: the step that made ``y``, and where its gradient goes next, as PyTorch shows a graph.

PyTorch's tutorials walk a graph backwards from the loss by hand::

    loss.grad_fn                                   # the loss's step (mse_loss)
    loss.grad_fn.next_functions[0][0]              # the step before it (linear)
    loss.grad_fn.next_functions[0][0].next_functions[0][0]   # and so on, down to the leaves

:class:`Node` is that view of one tensor's node: it reads as the op's row of :mod:`glassgrad.ops` (its
``name``, ``formula``, ``derivatives``: every attribute of :class:`~glassgrad.ops.Op`), and its
``next_functions`` holds, for each input, ``(the input's Node, 0)``; for a leaf that requires grad an
:class:`AccumulateGrad` whose ``variable`` is the leaf (its ``.grad`` receives the gradient); ``None``
for an input that needs no gradient.

>>> import glassgrad as gg
>>> w = gg.tensor([1.0, 2.0], requires_grad=True)
>>> y = (w * 3).sum()
>>> y.grad_fn.name, y.grad_fn.next_functions[0][0].name
('sum', 'mul')
>>> y.grad_fn.next_functions[0][0].next_functions[0][0].variable is w
True
"""

from __future__ import annotations

from typing import Any

from .autograd import reroute


class Name(str):
    """A node's name, the op's (``y.grad_fn.name == "mul"``); also callable, as PyTorch's ``grad_fn.name()``
    (which says ``"MulBackward0"``: here the op's own name comes back)."""

    __slots__ = ()

    def __call__(self) -> str:
        return str(self)


class Node:
    """The node of one tensor in the graph: its op's row, and ``next_functions`` (see the module)."""

    __slots__ = ("op", "tensor")

    def __init__(self, tensor: Any) -> None:
        self.op = tensor._op
        self.tensor = tensor

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self.op, name)  # the row's formula, derivatives …
        except AttributeError:
            raise AttributeError(
                f"grad_fn of '{self.op.name}' has no attribute {name!r}: glassgrad's grad_fn is the op's row (name, "
                "formula, derivatives …) and next_functions; PyTorch's node hooks and _saved_* values are not kept: "
                "hook the tensor (t.register_hook), or see saved values with gg.trace"
            ) from None

    @property
    def name(self) -> Name:
        return Name(self.op.name)

    @property
    def next_functions(self) -> tuple:
        """``((the next node, 0), …)``, one per input, as they were when this node was made."""
        return tuple((next_function(parent), 0) for parent in reroute(self.tensor))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and other.tensor is self.tensor

    def __hash__(self) -> int:
        return id(self.tensor)

    def __repr__(self) -> str:
        return repr(self.op)


class AccumulateGrad:
    """Where a leaf's gradient ends: added into ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    @property
    def name(self) -> Name:
        """``"AccumulateGrad"``, callable as PyTorch's ``name()`` (which says ``"torch::autograd::AccumulateGrad"``)."""
        return Name("AccumulateGrad")

    @property
    def next_functions(self) -> tuple:
        return ()

    def __eq__(self, other: object) -> bool:
        """One leaf's AccumulateGrad equals itself, however it was reached (PyTorch keeps one per leaf): a walk of
        the graph that keeps a ``seen`` set meets a leaf used twice once."""
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)

    def __repr__(self) -> str:
        return f"<AccumulateGrad into the .grad of a leaf of shape {tuple(self.variable.shape)}>"


def next_function(tensor: Any) -> Node | AccumulateGrad | None:
    """What receives ``tensor``'s gradient: its node, its ``.grad`` (a leaf that requires grad), or nothing."""
    if tensor._op is not None:
        return Node(tensor)
    return AccumulateGrad(tensor) if tensor._requires_grad else None
