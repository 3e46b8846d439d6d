"""PyTorch's ``torch.autograd.forward_ad``: dual tensors, ``x + ε·v``, whose function carries ``J·v`` along.

>>> import glassgrad as gg
>>> import glassgrad.forward_ad as fwAD
>>> x, v = gg.tensor([1.0, 2.0]), gg.tensor([1.0, 0.0])
>>> with fwAD.dual_level():
...     y = fwAD.make_dual(x, v) ** 2
...     fwAD.unpack_dual(y).tangent          # J·v = diag(2x)·v
tensor([2., 0.])

glassgrad has no forward mode: a dual tensor is the primal as a graph leaf (or, when the primal requires grad, a
view of it in the graph), remembered with its tangent for the dual level; the ops on it are recorded as any op is,
and ``unpack_dual(y)`` works out ``J·v`` when asked, by the double-backward trick of
:func:`glassgrad.jacobians.jvp` (``uᵀJ`` by one backward pass from ``y`` with a seed ``u``, then its derivative
with respect to ``u`` in the direction of the tangents: ``J·v``), recorded when grad mode is on, so that a loss
on the tangent backpropagates to the primal, the weights and the tangents given, as in PyTorch. The numbers are
forward mode's; what differs:
a dual tensor (and what is made of it) requires grad and shows a ``grad_fn`` (PyTorch's does not, unless its
primal does), and prints without PyTorch's ``tangent=tensor(…)`` (a print would cost the two backward passes of
``unpack_dual``: read the tangent with it), each ``unpack_dual`` costs two backward passes, and one dual level is
open at a time, as in PyTorch.

Under ``no_grad`` tangents are carried on, as PyTorch's forward mode ignores it: an op (or an in-place change) of a
tensor that carries a tangent is recorded all the same (:data:`glassgrad.graph.FORWARD_MODE`), its other parents
detached, so no gradient reaches what ``no_grad`` kept out of the graph (a weight); ``inference_mode()`` drops
tangents, as PyTorch's. A dual tensor itself cannot be changed in place (it is a leaf that requires grad here):
change a copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from .autograd import STATE, enable_grad, is_grad_enabled, topological_order
from .creation import zeros_like
from .custom_function import tangents_by_jvp
from .gradients import grad
from .graph import FORWARD_MODE
from .jacobians import jvp_seed
from .tensor import Tensor

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "UnpackedDualTensor"]

_LEVELS: dict[int, list[tuple[Tensor, Tensor]]] = {}
"""The open dual level (at most one) and its dual tensors with their tangents."""

_CARRIERS: dict[int, tuple[Tensor, bool]] = {}
"""Tensors asked about while the level is open (by id, kept alive with the answer): whether each carries a tangent."""


class UnpackedDualTensor(NamedTuple):
    """What :func:`unpack_dual` gives: the primal and the tangent (None when the tensor has none)."""

    primal: Tensor
    tangent: Tensor | None


def enter_dual_level() -> int:
    """Open a dual level (0) and return it; dual tensors made in it lose their tangents when it closes."""
    if _LEVELS:
        raise RuntimeError("Nested forward mode AD is not supported at the moment: close the open dual level first")
    _LEVELS[0] = []
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the dual level: its dual tensors keep their values and lose their tangents."""
    _open(level, "exit_dual_level")
    _close()


@contextmanager
def dual_level() -> Iterator[int]:
    """``with fwAD.dual_level():`` the block in which dual tensors carry tangents."""
    level = enter_dual_level()
    try:
        yield level
    finally:
        _close()


def _close() -> None:
    _LEVELS.clear()
    _CARRIERS.clear()
    FORWARD_MODE.clear()


def _carries(tensor: Tensor) -> bool:
    """Whether ``tensor`` is a dual tensor of the open level or was computed from one: its graph walked back to a
    dual or to a tensor already asked about, the answer remembered (a loop under no_grad asks of each new result)."""
    if not tensor._requires_grad:
        return False
    known = _CARRIERS.get(id(tensor))
    if known is not None:
        return known[1]
    duals = {id(dual) for dual, _ in _LEVELS[0]}
    found, waiting, seen = False, [tensor], {id(tensor)}
    while waiting and not found:
        node = waiting.pop()
        answer = _CARRIERS.get(id(node))
        if answer is not None or id(node) in duals:
            found = id(node) in duals or answer[1]
            continue
        for parent in node._parents:
            if parent._requires_grad and id(parent) not in seen:
                seen.add(id(parent))
                waiting.append(parent)
    _CARRIERS[id(tensor)] = (tensor, found)
    return found


def _recorded_parents(parents: tuple) -> tuple | None:
    """The rule :data:`glassgrad.graph.FORWARD_MODE` holds: with grad mode off, an op of a tangent's carrier is
    recorded (PyTorch's forward mode ignores ``no_grad``), its other parents detached, so that no gradient reaches
    what ``no_grad`` kept out of the graph (a weight); None when no parent carries a tangent."""
    if STATE.inference:  # inference_mode() drops tangents, as PyTorch's
        return None
    carrying = [_carries(parent) for parent in parents]
    if not any(carrying):
        return None
    return tuple(parent if carries else parent.detach() for parent, carries in zip(parents, carrying))


def _open(level: int | None, name: str) -> int:
    if not _LEVELS or (level is not None and level not in _LEVELS):
        raise RuntimeError(f"{name}: no dual level is open; use it inside `with fwAD.dual_level():`")
    return 0 if level is None else level


def check_floating(tensor: Tensor, role: str, caller: str) -> None:
    """Refuse a primal or a tangent that is not floating point (it has no derivative), with PyTorch's ValueError."""
    if tensor.dtype.kind != "f":
        raise ValueError(f"Expected {role} to be floating point, but got: {tensor.dtype} ({caller}; convert it with "
                         ".float())")


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """The dual tensor ``tensor + ε·tangent``: its value is ``tensor``'s; what is computed from it carries
    ``J·tangent``, read with :func:`unpack_dual`."""
    if not _LEVELS:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists: open one first, "
                           "`with fwAD.dual_level():`")
    duals = _LEVELS[_open(level, "make_dual")]
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(f"make_dual: the primal and the tangent must be tensors, got {type(tensor).__name__} and "
                        f"{type(tangent).__name__}")
    if tangent.shape != tensor.shape:
        raise RuntimeError(f"make_dual: the tangent's shape {tuple(tangent.shape)} differs from the primal's "
                           f"{tuple(tensor.shape)}; give one tangent entry per entry of the primal")
    check_floating(tensor, "primal", "make_dual")
    check_floating(tangent, "tangent", "make_dual")
    if any(dual is tensor for dual, _ in duals):
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward gradient at the same "
                           "level is not supported: make the dual of its primal, unpack_dual(t).primal")
    with enable_grad():  # made under no_grad too, as PyTorch's
        dual = tensor.view_as(tensor) if tensor.requires_grad else tensor.detach().requires_grad_()
    duals.append((dual, tangent.to(tensor.dtype)))  # (PyTorch keeps a tangent's other dtype)
    if not FORWARD_MODE:
        FORWARD_MODE.append(_recorded_parents)
    return dual


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor``: the tangent ``J·v`` of everything it was computed from in the open dual
    level (None if it depends on no dual tensor, or no level is open), worked out now (see the module's notes)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"unpack_dual: the dual must be a Tensor, not {type(tensor).__name__}")
    duals = _LEVELS.get(0 if level is None else level, [])  # no level open: no tangent, as in PyTorch
    for dual, tangent in duals:
        if dual is tensor:
            return UnpackedDualTensor(tensor, tangent)
    if not duals or not tensor.requires_grad or tensor.dtype.kind != "f":
        return UnpackedDualTensor(tensor, None)
    seed = jvp_seed(tensor)
    with tangents_by_jvp():
        back = grad((tensor,), tuple(dual for dual, _ in duals), (seed,), retain_graph=True, create_graph=True,
                    allow_unused=True)
    reached = [(row, tangent) for row, (_, tangent) in zip(back, duals) if row is not None]
    if not reached:
        return UnpackedDualTensor(tensor, None)
    # a row that does not depend on the seed is a constant zero (a step: floor, sign, round): its tangent is 0
    reached = [(row, tangent) for row, tangent in reached if row.requires_grad]
    if not reached:
        return UnpackedDualTensor(tensor, zeros_like(tensor))
    # recorded (grad mode on): the tangent is a function of the primal, the weights and the tangents given, through
    # which a loss on it (a JVP penalty) backpropagates, as PyTorch's
    (product,) = grad(tuple(row for row, _ in reached), (seed,), tuple(tangent for _, tangent in reached),
                      retain_graph=True, create_graph=is_grad_enabled(), allow_unused=True)
    if product is None:
        return UnpackedDualTensor(tensor, zeros_like(tensor))
    own = {id(seed), *(id(dual) for dual, _ in duals if dual._op is None)}  # the leaves made here
    if product.requires_grad and not any(
            node._op is None and id(node) not in own for node in topological_order(product)):
        product = product.detach()  # it depends on nothing of the program's that requires grad: as PyTorch's
    return UnpackedDualTensor(tensor, product)
