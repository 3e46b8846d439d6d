"""Which entries are where: membership tests and flat positions as coordinates (``isin``, ``unravel_index``).

* ``isin(elements, test_elements)``: ``out[i] = elements[i] ∈ test_elements`` (NaN is in nothing, as NaN ≠ NaN);
  ``invert=True`` gives ``∉``;
* ``unravel_index(indices, shape)``: the coordinates ``(i₀, …, i_{d−1})`` of each flat (row-major) position
  ``k = ((i₀·n₁ + i₁)·n₂ + …)``, found from the last dim: ``i_{d−1} = k mod n_{d−1}``, then ``k ← k div n_{d−1}``.

Both answer with booleans or whole numbers, so neither has a gradient.

>>> import glassgrad as gg
>>> gg.isin(gg.tensor([1, 2, 3]), gg.tensor([2, 5])).tolist()
[False, True, False]
>>> [c.tolist() for c in gg.unravel_index(gg.tensor([4, 1]), (2, 3))]
[[1, 0], [1, 1]]
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .arguments import shape_text
from .autograd import recorded_call
from .creation import as_tensor
from .tensor import Tensor


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """True where an entry of ``elements`` equals some entry of ``test_elements`` (either may be a number);
    ``invert=True`` flips every answer. ``assume_unique`` is a speed hint in PyTorch and changes nothing here."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin: elements or test_elements must be a tensor (the other may be a number), got "
                        f"{type(elements).__name__} and {type(test_elements).__name__}")
    values, tests = as_tensor(elements).array, as_tensor(test_elements).array
    if values.dtype.kind == "b" or tests.dtype.kind == "b":
        raise RuntimeError("isin: needs numbers, not booleans (PyTorch's 'Unsupported input type'); compare with "
                           "== or logical_xor instead")
    return Tensor._wrap(recorded_call(_isin, values, tests, bool(invert)))  # a kernel of a compiled step


def _isin(values: np.ndarray, tests: np.ndarray, invert: bool) -> np.ndarray:
    return np.asarray(np.isin(values, tests, invert=invert))


def _checked_shape(shape: Any) -> tuple[int, ...]:
    sizes = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0 for n in sizes):
        raise ValueError(f"unravel_index: shape must hold whole numbers >= 0, got {shape!r}")
    return tuple(int(n) for n in sizes)


def unravel_index(indices: Tensor, shape: Any) -> tuple[Tensor, ...]:
    """The coordinates in a tensor of ``shape`` of each flat position in ``indices`` (integers; ``−k`` counts
    from the end), one int64 tensor per dim, each shaped like ``indices``.

    A position outside ``[−numel, numel)`` is refused (PyTorch wraps it around silently)."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"unravel_index: indices must be a tensor of integers, got {type(indices).__name__}; "
                        "wrap it: gg.tensor(indices)")
    flat = indices.array
    if flat.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected 'indices' to be integer dtype, but got {flat.dtype}; use .long()")
    sizes = _checked_shape(shape)
    return tuple(Tensor._wrap(c) for c in recorded_call(_coordinates, flat, sizes))  # a kernel of a compiled step


def _coordinates(flat: np.ndarray, sizes: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """:func:`unravel_index`'s coordinates of the positions ``flat`` (checked), as one kernel of a compiled step
    (:func:`~glassgrad.autograd.recorded_call`): worked out in Python outside the kernels, a replay gave the
    captures' coordinates for every later index, and checked only the captures' positions."""
    count = math.prod(sizes)
    outside = flat[(flat < -count) | (flat >= count)]
    if outside.size:
        raise ValueError(f"unravel_index: every index must be in [{-count}, {count}) for a tensor of shape "
                         f"{shape_text(sizes)} ({count} entries), got {outside[0]}")
    position = np.where(flat < 0, flat + count, flat).astype(np.int64)
    coordinates = []
    for size in reversed(sizes):
        coordinates.append(np.asarray(position % size))
        position = position // size
    return tuple(reversed(coordinates))
