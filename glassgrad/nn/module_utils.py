"""PyTorch's ``torch.nn.modules.utils``: the small helpers a layer of one's own imports from there.

``_single``/``_pair``/``_triple``/``_quadruple`` turn a layer's size argument into a tuple, as PyTorch's layers do
with theirs: ``_pair(3)`` is ``(3, 3)``, ``_pair((3, 5))`` is ``(3, 5)``. Anything iterable is made a tuple as it
is, a string too (``_pair('same')`` is ``('s', 'a', 'm', 'e')``, as in PyTorch: check for a string first).
``consume_prefix_in_state_dict_if_present`` strips a prefix such as ``'module.'`` (a ``DataParallel`` checkpoint)
or ``'_orig_mod.'`` (a compiled model's, :mod:`glassgrad.compiler.optimized_module`) from a state dict's names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["_list_with_default", "_ntuple", "_pair", "_quadruple", "_reverse_repeat_tuple", "_single", "_triple",
           "consume_prefix_in_state_dict_if_present"]


def _ntuple(n: int, name: str = "parse") -> Callable[[Any], tuple]:
    """A function making its argument an ``n``-tuple: an iterable as its items, anything else repeated ``n`` times."""
    def parse(x: Any) -> tuple:
        return tuple(x) if isinstance(x, Iterable) else (x,) * n

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t: Iterable, n: int) -> tuple:
    """``t``'s items last first, each ``n`` times: a layer's per-dim padding ``(h, w)`` as ``F.pad`` takes it,
    ``(w, w, h, h)`` for ``n = 2``."""
    return tuple(item for item in reversed(tuple(t)) for _ in range(n))


def _list_with_default(out_size: Any, defaults: list[int]) -> Any:
    """An adaptive pool's ``output_size`` with each ``None`` replaced by the input's own size there (``defaults``:
    the input's shape); a single int is returned as it is."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [size if size is not None else default for size, default in zip(out_size, defaults[-len(out_size):])]


def consume_prefix_in_state_dict_if_present(state_dict: dict[str, Any], prefix: str) -> None:
    """Strip ``prefix`` from the names in ``state_dict`` that start with it, in place (and from its ``_metadata``'s
    names, where the bare module name, ``'module'`` for ``'module.'``, becomes the root ``''``), so that a
    checkpoint of a wrapped model loads into the bare one."""
    for name in [name for name in state_dict if name.startswith(prefix)]:
        state_dict[name[len(prefix):]] = state_dict.pop(name)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is None:
        return
    for name in [name for name in metadata if name and (name == prefix.replace(".", "") or name.startswith(prefix))]:
        metadata[name[len(prefix):]] = metadata.pop(name)
