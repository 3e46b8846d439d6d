"""PyTorch's ``*_copy`` functions: a view op's result as a new tensor that shares no memory with its input.

``torch.diagonal_copy(x)`` is ``x.diagonal()`` with its numbers copied into a fresh row-major tensor; the same
holds for every name here (``t_copy``, ``unfold_copy``, ``split_copy``, …). Each one is the view op glassgrad
already has, followed by :func:`fresh` (one copy, kept in the graph), so its gradient is the view op's gradient:
``∂copy/∂x`` scatters the upstream gradient back to where each entry was read, exactly as for the view.
Changing a copy in place leaves its input alone.

>>> import glassgrad as gg
>>> x = gg.arange(6.0).reshape(2, 3)
>>> y = gg.t_copy(x)
>>> y.add_(10.0).tolist(), x.tolist()
([[10.0, 13.0], [11.0, 14.0], [12.0, 15.0]], [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .arguments import check_dim
from .creation import as_tensor
from .functions import split, unbind
from .tensor import Tensor


def fresh(view: Tensor) -> Tensor:
    """A row-major copy of ``view`` in new memory, in the graph (the gradient passes through unchanged)."""
    return view.clone() if view.is_contiguous() else view.contiguous()


def alias_copy(input: Tensor) -> Tensor:
    """A copy of ``input`` (an alias is the tensor itself; its copy is a clone)."""
    return fresh(as_tensor(input))


def as_strided_copy(input: Tensor, size: Sequence[int], stride: Sequence[int],
                    storage_offset: int | None = None) -> Tensor:
    """``input.as_strided(size, stride, storage_offset)`` (the entries at ``offset + Σₖ iₖ·strideₖ``) as a new
    tensor."""
    return fresh(as_tensor(input).as_strided(size, stride, storage_offset))


def detach_copy(input: Tensor) -> Tensor:
    """A copy of ``input`` cut from the graph (``x.detach()`` in new memory)."""
    return fresh(as_tensor(input).detach())


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """``input.diagonal(offset, dim1, dim2)`` as a new tensor."""
    return fresh(as_tensor(input).diagonal(offset, dim1, dim2))


def expand_copy(input: Tensor, size: Sequence[int], *, implicit: bool = False) -> Tensor:
    """``input.expand(size)`` as a new tensor: the repeated entries are written out (``implicit`` changes
    nothing)."""
    return fresh(as_tensor(input).expand(size))


def permute_copy(input: Tensor, dims: Sequence[int]) -> Tensor:
    """``input.permute(dims)`` as a new tensor."""
    return fresh(as_tensor(input).permute(dims))


def select_copy(input: Tensor, dim: int, index: int) -> Tensor:
    """``input.select(dim, index)`` (one slice, ``dim`` removed) as a new tensor."""
    return fresh(as_tensor(input).select(dim, index))


def slice_copy(input: Tensor, dim: int = 0, start: int | None = None, end: int | None = None,
               step: int = 1) -> Tensor:
    """``input[…, start:end:step, …]`` along ``dim`` as a new tensor (``start``/``end`` past the ends are
    clipped, as Python slices are)."""
    x = as_tensor(input)
    if isinstance(step, bool) or not isinstance(step, int) or step <= 0:
        raise ValueError(f"slice_copy: step must be a whole number > 0, got {step!r}; flip the result for a "
                         "reversed slice")
    dim = check_dim(x, dim, "slice_copy")
    return fresh(x[(slice(None),) * dim + (slice(start, end, step),)])


def split_copy(tensor: Tensor, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """``split(tensor, split_size, dim)`` with each piece a new tensor."""
    return tuple(fresh(piece) for piece in split(as_tensor(tensor), split_size, dim))


def split_with_sizes_copy(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of the given sizes along ``dim`` (sizes >= 0 adding up to its size), each a new tensor."""
    sizes = list(split_sizes)
    if any(isinstance(size, bool) or not isinstance(size, int) or size < 0 for size in sizes):
        raise ValueError(f"split_with_sizes_copy: split_sizes must be whole numbers >= 0, got {sizes}")
    return split_copy(input, sizes, dim)


def squeeze_copy(input: Tensor, dim: Any = None) -> Tensor:
    """``input.squeeze(dim)`` (every size-1 dim when ``dim`` is None) as a new tensor."""
    x = as_tensor(input)
    return fresh(x.squeeze() if dim is None else x.squeeze(dim))


def t_copy(input: Tensor) -> Tensor:
    """``input.t()`` (a matrix's transpose; a vector as it is) as a new tensor."""
    return fresh(as_tensor(input).t())


def transpose_copy(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """``input.transpose(dim0, dim1)`` as a new tensor."""
    return fresh(as_tensor(input).transpose(dim0, dim1))


def unbind_copy(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim`` (``unbind``), each a new tensor."""
    return tuple(fresh(piece) for piece in unbind(as_tensor(input), dim))


def unfold_copy(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``input.unfold(dimension, size, step)`` (every window along a dim) as a new tensor."""
    return fresh(as_tensor(input).unfold(dimension, size, step))


def unsqueeze_copy(input: Tensor, dim: int) -> Tensor:
    """``input.unsqueeze(dim)`` as a new tensor."""
    return fresh(as_tensor(input).unsqueeze(dim))


def view_copy(input: Tensor, size: Sequence[int]) -> Tensor:
    """``input.view(size)`` as a new tensor (a shape only: PyTorch's ``view_copy(x, dtype)``, which reads the
    same bytes as another dtype, is refused)."""
    if not isinstance(size, (Sequence, int)) or isinstance(size, str):
        raise NotImplementedError(f"view_copy: expected a shape, got {size!r}; reading the bytes as another dtype is "
                                  "not supported: convert the values with x.to(dtype)")
    return fresh(as_tensor(input).view(size))
