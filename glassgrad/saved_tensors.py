"""``torch.autograd.graph``'s saved-tensor contexts: ``saved_tensors_hooks``, ``disable_saved_tensors_hooks`` and
``save_on_cpu``.

Each op of the graph keeps the values its backward rule reads (its *saved tensors*; in glassgrad, NumPy arrays).
``saved_tensors_hooks(pack_hook, unpack_hook)`` changes how they are kept while its block runs: each saved value
is handed to ``pack_hook`` as a tensor when the op runs, and what ``pack_hook`` returns is kept instead (a copy, a
file name, a count: anything); at backward, ``unpack_hook(what pack_hook returned)`` must give back a tensor of the
same shape, and the rule reads that. So, for a saved value ``s``, the rule reads ``unpack(pack(s))``: the hooks
change the gradient only if that is not ``s`` again. As in PyTorch:

* the innermost active context packs; the op's node keeps that context's ``unpack_hook``, which runs at each
  backward through the node (again with ``retain_graph=True``), in the backward's grad mode, even after the block;
* ``pack_hook`` runs under ``no_grad`` and must not change its input in place (refused, as PyTorch refuses it);
  ``unpack_hook`` must return a tensor (else ``TypeError``) with the content ``pack_hook`` was given (PyTorch's
  contract: the second-derivative rules of ``create_graph=True`` read the op's inputs and output themselves);
* the hooks are per thread: ops in another thread are not packed;
* a packed value is not checked for in-place changes since the forward (the rule reads what ``unpack_hook``
  returns): changing a packed input in place before backward gives PyTorch's gradient, not an error; a value
  saved outside the hooks is checked as ever;
* a custom Function's ``ctx.save_for_backward`` tensors are packed too, and ``ctx.saved_tensors`` unpacks them;
* ``disable_saved_tensors_hooks(message)``: entering ``saved_tensors_hooks`` (or ``save_on_cpu``) inside it, or it
  inside them, raises ``RuntimeError(message)``.

What differs: glassgrad's rules save their own values, not always PyTorch's. ``pack_hook`` is given each NumPy
array of numbers an op keeps, as a tensor: the input or output tensor itself when the array is its memory and
some gradient reads it (``x * y`` packs ``x`` and ``y``, ``x * c`` with a constant ``c`` packs ``c``, ``x.exp()``
its output, ``linear`` its input and weight: as PyTorch), else a plain tensor around it (a value a rule keeps
that PyTorch recomputes, or a Python number: ``x * 2`` packs a 0-d tensor 2, where PyTorch packs nothing). So how
often ``pack_hook`` runs, and on what, can differ from PyTorch; the gradients do not. Settings (shapes, axes) are
kept as they are.

In glassgrad every tensor already lives in the CPU's memory, so ``save_on_cpu`` changes nothing and is a plain
context (its gradients are those of the same code without it).

>>> import glassgrad as gg
>>> x = gg.tensor([1.0, 2.0], requires_grad=True)
>>> kept = []
>>> def pack(tensor):
...     kept.append(tensor.clone())
...     return len(kept) - 1
>>> with gg.autograd.graph.saved_tensors_hooks(pack, lambda number: kept[number]):
...     y = (x * x).sum()
>>> len(kept)
2
>>> y.backward()
>>> x.grad.tolist()
[2.0, 4.0]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from threading import get_ident
from typing import Any

import numpy as np

from .autograd import GradMode, read_roles, version_of, watched_by
from .ops import OUT
from .saved_packing import PACKED_KINDS, PACKING, Hole, Packed, active_hooks


def unpack_checked(unpack_hook: Callable[[Any], Any], packed: Any, hole: Hole, grad_mode: bool) -> Any:
    """``unpack_hook(packed)`` run in ``grad_mode``: a tensor of the hole's shape, else refused in one line."""
    with GradMode(grad_mode):
        tensor = unpack_hook(packed)
    array = getattr(tensor, "array", None)
    if type(array) is not np.ndarray or not hasattr(tensor, "_op"):  # not a glassgrad Tensor
        raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                        f"{type(tensor).__name__}")
    if array.shape != hole.shape:
        raise RuntimeError(
            f"saved tensor unpack_hook returned a tensor of shape {list(array.shape)} for a saved tensor of "
            f"shape {list(hole.shape)}: return the tensor pack_hook was given (or a copy of it)")
    return tensor


def pack_saved(saved: Any, op: Any, parents: tuple, result: Any) -> Any:
    """``saved`` (what ``result``'s ``op`` on ``parents`` keeps for backward) packed by this thread's innermost
    hooks: a :class:`Packed`, or ``saved`` itself if no hooks are active here or it holds no array to pack.

    An input's or the output's own array is packed only if a gradient needs it (:func:`read_roles`: ``x * c``
    with a constant ``c`` packs ``c`` alone, as PyTorch); one the rule keeps needlessly stays as it is.
    """
    hooks = active_hooks()
    if hooks is None:
        return saved
    known = [*enumerate(parents), (OUT, result)]
    packed: list = []
    roles: set[int] = set()
    template = _hollow(saved, hooks, known, read_roles(op, parents, saved), packed, roles)
    return Packed(template, packed, functools.partial(unpack_checked, hooks[1]), roles) if packed else saved


def pack_tensors(tensors: tuple) -> Any:
    """A custom Function's ``ctx.save_for_backward`` tensors packed by this thread's innermost hooks (a
    :class:`Packed` that unpacks to tensors), or ``tensors`` itself if none are active here."""
    hooks = active_hooks()
    if hooks is None or not any(tensor is not None for tensor in tensors):
        return tensors
    packed = [_pack(hooks[0], tensor, tensor) for tensor in tensors if tensor is not None]
    holes = iter(range(len(packed)))
    template = tuple(None if tensor is None else Hole(next(holes), tensor.array.shape, tensor.array.dtype)
                     for tensor in tensors)
    return Packed(template, packed, functools.partial(unpack_checked, hooks[1]), set(), tensors=True)


def _hollow(value: Any, hooks: tuple, known: list, needed: set[int], packed: list, roles: set[int]) -> Any:
    """``value`` with each array of numbers in it (or in its tuples and lists) packed into ``packed``, its place
    marked by a :class:`Hole`. ``known``: the op's ``(role, tensor)`` pairs, inputs then output; an array of one
    of them is packed only if a role of ``needed`` owns it (the roles packed are noted in ``roles``)."""
    kind = type(value)
    if kind is np.ndarray and value.dtype.kind in PACKED_KINDS:
        owners = [(role, tensor) for role, tensor in known if tensor.array is value]
        if owners and not any(role in needed for role, _ in owners):
            return value  # an input's or the output's, which no gradient needs: kept as it is
        roles.update(role for role, _ in owners)
        packed.append(_pack(hooks[0], owners[0][1] if owners else value, known[-1][1]))
        return Hole(len(packed) - 1, value.shape, value.dtype)
    if kind is tuple or kind is list:
        return kind(_hollow(part, hooks, known, needed, packed, roles) for part in value)
    return value


def _pack(pack_hook: Callable[[Any], Any], value: Any, result: Any) -> Any:
    """``pack_hook`` of ``value`` (a tensor, or an array: given as a plain tensor around it), run under ``no_grad``
    and unseen by a tape; changing the tensor in place is refused."""
    tensor = result._plain(value) if type(value) is np.ndarray else value
    version = version_of(tensor.array)
    with GradMode(False), watched_by(None):
        packed = pack_hook(tensor)
    if version_of(tensor.array) != version:
        raise RuntimeError(
            "A saved tensor pack hook is modifying its input in place. Tensors provided as input to pack hook "
            "cannot be modified by in-place operations: return a changed copy instead (tensor.clone())")
    return packed


class _Context:
    """Pushes ``entry`` on this thread's :data:`PACKING` stack for the ``with`` block, after :meth:`_check`."""

    entry: Any

    def __enter__(self) -> None:
        self._check(PACKING.get(get_ident(), ()))
        PACKING.setdefault(get_ident(), []).append(self.entry)

    def __exit__(self, *exc_info: object) -> None:
        ident = get_ident()
        contexts = PACKING[ident]
        contexts.pop()
        if not contexts:
            del PACKING[ident]  # PACKING empty again: the fast path

    def _check(self, contexts: Any) -> None:
        """Refuse hooks where ``disable_saved_tensors_hooks`` is active (``contexts``: this thread's)."""
        for context in contexts:
            if type(context) is str:
                raise RuntimeError(context)


class saved_tensors_hooks(_Context):  # noqa: N801 (PyTorch's name)
    """``with saved_tensors_hooks(pack_hook, unpack_hook):`` — each value an op saves for backward inside the block
    is kept as ``pack_hook(tensor)`` and read back at backward as ``unpack_hook(packed)`` (see the module)."""

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        self.entry = (pack_hook, unpack_hook)


class disable_saved_tensors_hooks(_Context):  # noqa: N801 (PyTorch's name)
    """``with disable_saved_tensors_hooks(error_message):`` — a feature that cannot work with saved-tensor hooks
    refuses them: entering :class:`saved_tensors_hooks` (or ``save_on_cpu``) inside the block, or entering the
    block inside them, raises ``RuntimeError(error_message)``, as in PyTorch."""

    def __init__(self, error_message: str) -> None:
        self.entry = str(error_message)

    def _check(self, contexts: Any) -> None:
        if any(type(context) is tuple for context in contexts):
            raise RuntimeError(self.entry)


class outer_hooks_paused(_Context):  # noqa: N801 (a context, as its neighbours)
    """``with outer_hooks_paused():`` — ops in the block are not packed by the hooks active around it (hooks entered
    inside it pack as ever). A checkpointed segment's first run is in one: it keeps none of what its ops save
    (they are made again in backward), so, as in PyTorch, the hooks around it are not handed those values."""

    entry = None

    def _check(self, contexts: Any) -> None:
        return None  # a pause is no hook: allowed inside disable_saved_tensors_hooks


class save_on_cpu:
    """Keep saved tensors in the CPU's memory: where glassgrad keeps every tensor, so nothing changes.

    ``pin_memory`` and ``device_type`` are PyTorch's, taken so that its calls run unchanged.
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        self.pin_memory, self.device_type = pin_memory, device_type

    def __enter__(self) -> save_on_cpu:
        _Context._check(self, PACKING.get(get_ident(), ()))  # refused inside disable_saved_tensors_hooks
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None
