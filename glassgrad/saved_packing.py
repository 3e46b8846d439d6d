"""How a node keeps the values its op saved when ``saved_tensors_hooks`` packed them (see
:mod:`glassgrad.saved_tensors`): a :class:`Packed` in place of the saved values, which the backward walk
(:mod:`glassgrad.autograd`) recognises by its type and unpacks. Imports nothing of glassgrad, so that the walk
and the contexts can both read it.
"""

from __future__ import annotations

from collections.abc import Callable
from threading import get_ident
from typing import Any

import numpy as np

PACKING: dict[int, list] = {}
"""Per thread (by its id), the active contexts, innermost last: a ``(pack_hook, unpack_hook)`` pair, the
message of a ``disable_saved_tensors_hooks``, or None (``outer_hooks_paused``: no packing, hooks allowed inside).
Empty while no thread has one: then recording a node (the one place that reads it, :func:`glassgrad.graph.record`)
pays one test."""


def active_hooks() -> tuple | None:
    """This thread's innermost ``(pack_hook, unpack_hook)``: the hooks that pack what an op saves now, or None."""
    contexts = PACKING.get(get_ident())
    if not contexts or type(contexts[-1]) is str:
        return None  # hooks in another thread, or disable_saved_tensors_hooks here (then no hooks here)
    return contexts[-1]  # None inside outer_hooks_paused


MADE = [0]
"""How many :class:`Packed` were ever made: while none, the backward walk reads it once per pass and tests no
node's saved values for one."""

PACKED_KINDS = "biufc"
"""NumPy kinds of the saved arrays that are handed to ``pack_hook``: those a tensor holds (booleans and numbers),
not object arrays (a rule's own bookkeeping)."""


class Hole:
    """Where a packed array was in a node's saved values: its place in :attr:`Packed.packed`, shape and dtype."""

    __slots__ = ("index", "shape", "dtype")

    def __init__(self, index: int, shape: tuple, dtype: np.dtype) -> None:
        self.index, self.shape, self.dtype = index, shape, dtype


class Packed:
    """A node's saved values with each array replaced by what ``pack_hook`` returned for it (``_ctx`` of a node
    recorded under ``saved_tensors_hooks``); :meth:`unpacked` gives the rule its values back."""

    __slots__ = ("template", "packed", "unpack", "roles", "tensors")

    def __init__(self, template: Any, packed: list, unpack: Callable[[Any, Hole, bool], Any], roles: set[int],
                 tensors: bool = False) -> None:
        self.template, self.packed = template, packed
        MADE[0] += 1
        self.unpack = unpack
        """``unpack(packed value, its hole, grad mode)``: the context's ``unpack_hook`` of it, checked, run in that
        grad mode (:func:`glassgrad.saved_tensors.unpack_checked`)."""
        self.roles = roles
        """The roles (input positions, ``OUT``) whose own arrays were packed: their in-place changes since the
        forward are not refused (the rule reads what ``unpack_hook`` gives), as in PyTorch."""
        self.tensors = tensors
        """Whether the holes are filled with ``unpack_hook``'s tensors (a custom Function's ``saved_tensors``),
        not their arrays (a row's saved values)."""

    def unpacked(self, grad_mode: bool) -> Any:
        """The saved values, each packed array replaced by ``unpack_hook`` of its packed value (at each call), the
        hook run in ``grad_mode`` (the backward's: on only to record the gradient's own graph)."""
        return self._fill(self.template, grad_mode)

    def _fill(self, value: Any, grad_mode: bool) -> Any:
        kind = type(value)
        if kind is Hole:
            tensor = self.unpack(self.packed[value.index], value, grad_mode)
            if self.tensors:
                return tensor
            array = tensor.array
            return array if array.dtype == value.dtype else array.astype(value.dtype)
        if kind is tuple or kind is list:
            return kind(self._fill(part, grad_mode) for part in value)
        return value
