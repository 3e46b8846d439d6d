"""Shapes as PyTorch names them: ``torch.Size`` (defined in :mod:`glassgrad.arguments`, where every shape is read),
``broadcast_shapes``, ``broadcast_tensors``.

Two shapes broadcast when, aligned from the right, each pair of sizes is equal or one of them is 1;
the result takes the larger size of each pair. ``broadcast_tensors`` expands tensors to that shape
(views, with the gradient summed back over the stretched dims, as every broadcast op does).

>>> import glassgrad as gg
>>> gg.broadcast_shapes((3, 1), (1, 4))
Size([3, 4])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arguments import Size, shape_text
from .tensor import Tensor


def broadcast_shapes(*shapes: Any) -> Size:
    """The shape ``shapes`` broadcast to (an int counts as a 1-d shape)."""
    given = [(shape,) if isinstance(shape, int) else tuple(shape) for shape in shapes]
    try:
        return Size(np.broadcast_shapes(*given))
    except ValueError:
        raise RuntimeError(f"broadcast_shapes: shapes {', '.join(shape_text(s) for s in given)} do not broadcast "
                           "(aligned from the right, each pair of sizes must be equal or 1)") from None


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """Each tensor expanded to the shape all of them broadcast to (a number among them is PyTorch's TypeError)."""
    for position, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"broadcast_tensors: expected Tensor as element {position} in argument 0, but got "
                            f"{type(tensor).__name__}")
    shape = broadcast_shapes(*(tensor.shape for tensor in tensors))
    return tuple(tensor.expand(shape) for tensor in tensors)
