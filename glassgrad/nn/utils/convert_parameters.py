"""The parameters as one vector and back (``gg.nn.utils.convert_parameters``, as PyTorch's module of that name).

:func:`parameters_to_vector` flattens them in order into one vector (for an optimiser or a measurement that sees
all weights at once); :func:`vector_to_parameters` copies a vector's consecutive pieces back into them.

>>> import glassgrad as gg
>>> layer = gg.nn.Linear(2, 1, seed=0)
>>> gg.nn.utils.parameters_to_vector(layer.parameters()).shape
Size([3])
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ...autograd import copy_counted, recorded_call
from ...functions import cat
from ...tensor import Tensor


def parameter_list(parameters: Iterable[Tensor] | Tensor, name: str) -> list[Tensor]:
    """``parameters`` (one tensor or an iterable of them) as a list, each checked to be a tensor."""
    if isinstance(parameters, Tensor):
        return [parameters]
    items = list(parameters)
    for position, item in enumerate(items):
        if not isinstance(item, Tensor):
            raise TypeError(f"{name}: expected tensors (e.g. model.parameters()), but item {position} is a "
                            f"{type(item).__name__}")
    return items


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Every parameter's entries in one vector, in order (a recorded ``cat`` of their flattened views)."""
    return cat([p.reshape(-1) for p in parameter_list(parameters, "parameters_to_vector")])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive pieces of ``vec`` into the parameters, in order (in place, outside the graph).

    As PyTorch's, entries past the parameters' count are left unread; a vector that is not 1-D or is too short is
    refused with PyTorch's RuntimeError."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor as vec, but got {type(vec).__name__}")
    params = parameter_list(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() < total:
        raise RuntimeError(f"vector_to_parameters: expected a 1-D tensor of at least {total} entries (the "
                           f"parameters' count), got {vec.shape}")
    start = 0
    for p in params:
        recorded_call(_copy_piece, p.array, vec.array, start)  # a kernel of a compiled step, which replays the write
        start += p.numel()


def _copy_piece(into: np.ndarray, vec: np.ndarray, start: int) -> None:
    """``vec``'s entries from ``start`` on, as many as ``into`` holds, written into it in its shape, counted as an
    in-place change inside the kernel (:func:`~glassgrad.autograd.copy_counted`), so that a replay counts it too."""
    copy_counted(into, vec[start:start + into.size].reshape(into.shape), "unsafe")
