"""``vmap``: a function written for one example, run over a batch (PyTorch's ``torch.func.vmap``, ``torch.vmap``).

``vmap(f, in_dims, out_dims)(*args)`` cuts each mapped argument along its ``in_dims`` entry into items
``args[k]``, computes ``f`` on item ``k`` for every ``k``, and stacks the results along ``out_dims``:

    vmap(f)(x)[k] = f(x[k])          vmap(f, in_dims=(None, 0))(w, x)[k] = f(w, x[k])

glassgrad does exactly that: one call of ``f`` per item, then :func:`glassgrad.stack`. PyTorch instead runs ``f``
once on the whole batch through a batching rule per op; the numbers are the same, only the speed differs. The
result is an ordinary tensor made by ``unbind`` and ``stack``, so gradients flow through it to the arguments.

>>> import glassgrad as gg
>>> x = gg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> gg.vmap(gg.dot)(x, x)                       # one dot product per row
tensor([ 5., 25.])
>>> gg.vmap(lambda row, w: row * w, in_dims=(1, None))(x, gg.tensor(10.0))   # per column
tensor([[10., 30.],
        [20., 40.]])

As in PyTorch: ``in_dims`` is an int (every argument), or a tuple with one entry per positional argument, each
an int, None (not mapped: passed whole to every call) or a tuple/list/dict shaped like that argument; negative
dims count from the end; keyword arguments are never mapped. ``out_dims`` is an int or one entry per output
(an output may be a tensor or a tuple/list/dict of them); ``None`` returns an output unbatched, and is refused
when the items' values differ. ``randomness``: ``"error"`` refuses a draw from glassgrad's random generator
inside ``f`` (seen after the call, by the generator having moved), ``"different"`` lets each item draw its own
numbers, ``"same"`` gives every item the same draws. An in-place change of an argument that is not mapped
is refused after the first item (a second item would change it again); one of a tensor made outside ``f`` (a
counter, a buffer ``f`` reads from its closure) is refused when the first two items both made it, where PyTorch
changes it once (or refuses a batched value); batch norm's update of running statistics that vmap does not map is
refused as PyTorch refuses it (:func:`refuse_unmapped_update`; an ensemble's stacked buffers, mapped, are each
item's own). Writing an item's values into a tensor made inside ``f`` (``torch.zeros(3).copy_(x)``) works, where
PyTorch refuses a batched value written into an unbatched tensor. Items whose outputs differ in shape (a boolean
mask, ``nonzero``) or structure (control flow on values) are refused with PyTorch's RuntimeError. ``chunk_size``
is checked and changes nothing (the items are computed one at a time already). A mapped dimension of size 0 is
refused: there would be no call to learn the output's shape from. A ``backward()`` inside ``f`` is refused, as
PyTorch refuses it in every ``torch.func`` transform (:class:`glassgrad.autograd.running_transform`): it would
fill ``.grad`` once per item.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .autograd import CLOCK, NOW, _memory_owner, _Version, memories_changed_since, running_transform
from .creation import default_generator
from .functions import stack
from .pytree import broadcast_prefix, describe, flatten, unflatten
from .tensor import Tensor

RANDOMNESS = ("error", "different", "same")
_MAPPED: list[set[int]] = []
"""One entry per vmap running (innermost last): the ``id`` of the memory owner of each tensor it maps, whose
items are views of it (:func:`refuse_unmapped_update`)."""


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """``func`` mapped over a dimension of its arguments: one call per item, the results stacked along ``out_dims``."""
    if randomness not in RANDOMNESS:
        raise RuntimeError(f"vmap: randomness must be 'error', 'different' or 'same', got {randomness!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size must be None or a positive int, got {chunk_size!r}")

    @functools.wraps(func)
    def mapped(*args: Any, **kwargs: Any) -> Any:
        name = _name(func)
        flat_args, structure = flatten(args)
        flat_dims = _in_dims(name, in_dims, args, flat_args, structure)
        size = _batch_size(name, flat_args, flat_dims)
        pieces = [arg if dim is None else arg.unbind(dim) for arg, dim in zip(flat_args, flat_dims)]
        start = default_generator.numpy_generator.bit_generator.state
        unmapped = [(arg, arg._version) for arg, dim in zip(flat_args, flat_dims)
                    if dim is None and isinstance(arg, Tensor)]
        mapped_memory = {id(_memory_owner(arg.array)) for arg, dim in zip(flat_args, flat_dims) if dim is not None}
        results: list = []
        first_changes: dict[int, _Version] = {}
        _MAPPED.append(mapped_memory)
        try:
            for item in range(size):
                if randomness == "same":
                    default_generator.numpy_generator.bit_generator.state = start
                before = default_generator.numpy_generator.bit_generator.state
                item_args = unflatten([piece if dim is None else piece[item] for piece, dim in zip(pieces, flat_dims)],
                                      structure)
                tick = CLOCK[NOW]
                with running_transform("vmap"):
                    results.append(func(*item_args, **kwargs))
                if randomness == "error" and default_generator.numpy_generator.bit_generator.state != before:
                    raise RuntimeError(f"vmap({name}, ...): {name} drew random numbers while randomness='error'; pass "
                                       "randomness='different' (each item its own draws) or 'same', or draw outside "
                                       "vmap")
                _check_unchanged(name, unmapped)
                if item < 2:  # the first two items show a change of memory from outside that each item repeats
                    changes = {key: version for key, version in memories_changed_since(tick).items()
                               if key not in mapped_memory}
                    if item == 0:
                        first_changes = changes
                    else:
                        _check_not_repeated(name, first_changes, changes)
        finally:
            _MAPPED.pop()
        return _stacked(name, results, out_dims)

    return mapped


def _check_unchanged(name: str, unmapped: list[tuple[Tensor, int]]) -> None:
    """Refuse an item's in-place change of an argument vmap does not map: the next item would change it again (the
    calls are one per item), where PyTorch's one batched call changes it once or refuses a batched value."""
    for tensor, version in unmapped:
        if tensor._version != version:
            raise RuntimeError(f"vmap({name}, ...): {name} changed an argument it does not map (in_dims None, shape "
                               f"{tuple(tensor.shape)}) in place, and each item would change it again (the first "
                               "one did); change a copy inside (w = w.clone()), or map it (in_dims 0)")


def _check_not_repeated(name: str, first: dict[int, _Version], second: dict[int, _Version]) -> None:
    """Refuse a change in place, by both of the first two items, of one memory that vmap does not map: a tensor made
    outside ``func`` (a counter, a buffer it reads from its closure). PyTorch's one batched call changes it once
    (or refuses a batched value); one call per item changed it once per item, without a word."""
    for key, version in second.items():
        owner = version.owner()
        if first.get(key) is version and owner is not None:
            raise RuntimeError(f"vmap({name}, ...): {name} changed in place a tensor that vmap does not map (made "
                               f"outside it, memory of shape {tuple(owner.shape)}), and each item changes it again "
                               "(the first two did); change it outside vmap, change a copy inside (w = w.clone()), "
                               "or pass it as an argument mapped with in_dims 0")


def refuse_unmapped_update(op: str, *tensors: Tensor | None) -> None:
    """Inside vmap, refuse ``op``'s update in place of state (batch norm's running statistics) that the innermost vmap
    does not map, as PyTorch refuses a batched value written into an unbatched tensor: the items would update it
    once each. A view of a mapped tensor (an ensemble's stacked buffers, in_dims 0) is each item's own."""
    if not _MAPPED:
        return
    for tensor in tensors:
        if tensor is not None and id(_memory_owner(tensor.array)) not in _MAPPED[-1]:
            raise RuntimeError(f"{op} inside vmap: its running statistics, which training updates in place, are not "
                               "mapped by vmap, so each item would update them once; call "
                               "gg.func.replace_all_batch_norm_modules_(model) or build the layer with "
                               "track_running_stats=False, use model.eval(), or map the buffers (in_dims 0)")


def _name(func: Callable) -> str:
    if isinstance(func, functools.partial):
        return f"functools.partial({_name(func.func)}, ...)"
    return getattr(func, "__name__", type(func).__name__)  # a module: its class, not its many-line repr


def _in_dims(name: str, in_dims: Any, args: tuple, flat_args: list, structure: Any) -> list:
    """One mapped dimension (or None) per leaf of the arguments, checked and made non-negative."""
    call = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"{call}: in_dims must be an int or a tuple with one entry per argument, "
                         f"got {type(in_dims).__name__}")
    if not args:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs; vmap maps over the function's arguments, so "
                         "give it at least one tensor")
    flat_dims = broadcast_prefix(in_dims, structure)
    if flat_dims is None:
        raise ValueError(f"{call}: in_dims does not match the structure of the inputs: in_dims is "
                         f"{describe(flatten(in_dims)[1])}, the inputs are {describe(structure)}")
    for position, (arg, dim) in enumerate(zip(flat_args, flat_dims)):
        if dim is None:
            continue
        if not isinstance(dim, int):
            raise ValueError(f"{call}: got in_dim={dim!r} for an input; each in_dim must be an int or None")
        if not isinstance(arg, Tensor):
            raise ValueError(f"{call}: got in_dim={dim} for an input of type {type(arg).__name__}; only tensors "
                             "can be mapped over, give it in_dim None")
        if not -arg.dim() <= dim < arg.dim():
            raise ValueError(f"{call}: got in_dim={dim} for a tensor with {arg.dim()} dimensions; in_dim must "
                             f"satisfy -{arg.dim()} <= in_dim < {arg.dim()}")
        flat_dims[position] = dim % arg.dim()
    return flat_dims


def _batch_size(name: str, flat_args: list, flat_dims: list) -> int:
    sizes = [arg.shape[dim] for arg, dim in zip(flat_args, flat_dims) if dim is not None]
    if not sizes:
        raise ValueError(f"vmap({name}): expected at least one tensor to vmap over; every in_dim is None, give a "
                         "tensor argument an int in_dim")
    if any(size != sizes[0] for size in sizes):
        raise ValueError(f"vmap({name}): expected all tensors to have the same size in the mapped dimension, got "
                         f"sizes {sizes} for the mapped dimension")
    if sizes[0] == 0:
        raise ValueError(f"vmap({name}): the mapped dimension has size 0; glassgrad calls the function once per "
                         "item, so it needs at least one")
    return sizes[0]


def _stacked(name: str, results: list, out_dims: Any) -> Any:
    """The items' outputs stacked, leaf by leaf, along each output's ``out_dims`` entry."""
    flat_first, structure = flatten(results[0])
    call = f"vmap({name}, ..., out_dims={out_dims})(<inputs>)"
    if isinstance(out_dims, int) and _holds_none(structure):
        forgot = " (did it forget to return its result?)" if structure is None else ""
        raise ValueError(f"vmap({name}, ...): {name} must only return Tensors, got None{forgot}; set out_dims to "
                         "None for an output that is not a tensor")
    if structure == "*":
        flat_dims = list(out_dims) if isinstance(out_dims, tuple) and len(out_dims) == 1 else (
            [out_dims] if out_dims is None or isinstance(out_dims, int) else None)
    else:
        flat_dims = broadcast_prefix(out_dims, structure)
    if flat_dims is None:
        raise ValueError(f"{call}: out_dims does not match the structure of the outputs: out_dims is "
                         f"{describe(flatten(out_dims)[1])}, the outputs are {describe(structure)}")
    flat_results = [flat_first]
    for result in results[1:]:
        leaves, other = flatten(result)
        if other != structure:
            raise RuntimeError(f"vmap({name}, ...): {name} returned {describe(other)} for one item and "
                               f"{describe(structure)} for another (control flow on the items' values, which "
                               "PyTorch's vmap refuses); it must return the same structure every time")
        flat_results.append(leaves)
    return unflatten([_stack_one(name, call, [leaves[position] for leaves in flat_results], dim)
                      for position, dim in enumerate(flat_dims)], structure)


def _holds_none(structure: Any) -> bool:
    """Whether an output is None or holds one (a pytree structure keeps None as an empty subtree)."""
    return structure is None or (structure != "*" and any(_holds_none(child) for child in structure[2]))


def _stack_one(name: str, call: str, items: list, dim: Any) -> Any:
    if dim is None:
        if all(isinstance(item, Tensor) for item in items) and not all(
                item.shape == items[0].shape and np.array_equal(item.data, items[0].data) for item in items):
            raise ValueError(f"vmap({name}, ...): {name} returned an output that differs between items where "
                             "out_dim is None; give that output an int out_dim")
        return items[0]
    if not isinstance(dim, int):
        raise ValueError(f"{call}: out_dims must be an int, None, or a tuple/list/dict of them, got {dim!r}")
    if not isinstance(items[0], Tensor):
        raise ValueError(f"vmap({name}, ...): {name} must only return Tensors, got type {type(items[0]).__name__}; "
                         "set out_dims to None for an output that is not a tensor")
    if any(item.shape != items[0].shape for item in items):
        shapes = sorted({tuple(item.shape) for item in items})
        raise RuntimeError(f"vmap({name}, ...): {name} returned tensors of shapes {shapes} for different items, "
                           "a shape that depends on the values (a boolean mask, nonzero, unique), which PyTorch's "
                           "vmap refuses; every item's output must have one shape (use torch.where(mask, x, 0) "
                           "instead of x[mask])")
    rank = items[0].dim() + 1
    if not -rank <= dim < rank:
        raise IndexError(f"{call}: out_dim={dim} is out of range for an output with {rank} dimensions (the "
                         f"batch dimension included); it must satisfy -{rank} <= out_dim < {rank}")
    return stack(items, dim)
