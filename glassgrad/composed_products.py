"""PyTorch's products and distances made of other ops (no rule of their own).

* ``tensordot(a, b, dims)``: the dims contracted are moved last in ``a`` and first in ``b``, both made
  matrices, one ``matmul``, and the free dims unfolded again: ``out[i…, j…] = Σ_k… a[i…, k…]·b[k…, j…]``;
* ``kron(a, b)``: ``out[i·m + k, …] = a[i, …]·b[k, …]``, a broadcast product of ``a`` and ``b`` with
  their dims interleaved, then merged in pairs;
* ``cdist(x1, x2, p)``: ``out[…, i, j] = ‖x1[…, i, :] − x2[…, j, :]‖_p``, the ``norm`` row over the
  differences of every pair (its gradient is 0 where the distance is 0, as PyTorch's);
* ``baddbmm(c, a, b)``: ``beta·c + alpha·(a @ b)`` for batches of matrices.

Their gradients are those of the rows they use, and a trace shows those rows.

>>> import glassgrad as gg
>>> gg.kron(gg.tensor([1.0, 2.0]), gg.tensor([1.0, 10.0])).tolist()
[1.0, 10.0, 2.0, 20.0]
>>> gg.cdist(gg.tensor([[0.0, 0.0]]), gg.tensor([[3.0, 4.0], [0.0, 1.0]])).tolist()
[[5.0, 1.0]]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import linalg
from .arguments import check_dim, shape_text
from .composed import _check_dims, _scaled_sum
from .creation import as_tensor
from .tensor import Tensor
from .tensor_methods import _plain, add


def _method(function: Any) -> Any:
    """Make ``function`` a Tensor method too (``x.kron(y)`` as ``gg.kron(x, y)``)."""
    add(function.__name__, function)
    return function


def _contracted(a: Tensor, b: Tensor, dims: Any) -> tuple[list[int], list[int]]:
    """The dims of ``a`` and of ``b`` that ``tensordot`` sums over, in pairs."""
    listed = np.asarray(_plain(dims)) if not isinstance(dims, (list, tuple)) else None
    if listed is not None and listed.ndim == 0:
        count = int(listed)
        if count < 0:
            raise RuntimeError(f"tensordot: dims must be >= 0, got dims={count}")
        if count > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims={count} is more than the dims of a {shape_text(a.shape)} or "
                               f"b {shape_text(b.shape)}")
        return list(range(a.ndim - count, a.ndim)), list(range(count))
    first, second = (dims[0], dims[1]) if listed is None else (listed[0], listed[1])
    first, second = np.atleast_1d(np.asarray(_plain(first))), np.atleast_1d(np.asarray(_plain(second)))
    if len(first) != len(second):
        raise RuntimeError(f"tensordot: both lists of dims must be as long, got {first.tolist()} and "
                           f"{second.tolist()}")
    return ([check_dim(a, int(d), "tensordot") for d in first], [check_dim(b, int(d), "tensordot") for d in second])


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """``Σ`` over pairs of dims of ``a`` and ``b``: ``dims`` an int (the last of ``a`` with the first of ``b``)
    or two lists of dims."""
    a, b = as_tensor(a), as_tensor(b)
    summed_a, summed_b = _contracted(a, b, dims)
    for dim_a, dim_b in zip(summed_a, summed_b):
        if a.shape[dim_a] != b.shape[dim_b]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but a has size {a.shape[dim_a]} "
                               f"in dim {dim_a} and b has size {b.shape[dim_b]} in dim {dim_b}")
    free_a = [d for d in range(a.ndim) if d not in summed_a]
    free_b = [d for d in range(b.ndim) if d not in summed_b]
    inner = math.prod(a.shape[d] for d in summed_a)
    left = a.permute(*free_a, *summed_a).reshape(-1, inner)
    right = b.permute(*summed_b, *free_b).reshape(inner, -1)
    return (left @ right).reshape(*(a.shape[d] for d in free_a), *(b.shape[d] for d in free_b))


@_method
def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: every entry of ``input`` times the whole of ``other``, the blocks laid out
    like ``input``'s entries."""
    a, b = as_tensor(input), as_tensor(other)
    ndim = max(a.ndim, b.ndim)
    shape_a = (1,) * (ndim - a.ndim) + tuple(a.shape)
    shape_b = (1,) * (ndim - b.ndim) + tuple(b.shape)
    spread_a = a.reshape([size for d in shape_a for size in (d, 1)])
    spread_b = b.reshape([size for d in shape_b for size in (1, d)])
    return (spread_a * spread_b).reshape([m * n for m, n in zip(shape_a, shape_b)])


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: Any = None) -> Tensor:
    """``out[…, i, j] = ‖x1[…, i, :] − x2[…, j, :]‖_p`` for every pair of rows (batch dims broadcast);
    ``compute_mode`` is accepted and changes nothing (every pair's difference is formed)."""
    a, b = as_tensor(x1), as_tensor(x2)
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError(f"cdist: needs tensors with at least 2 dims (…, rows, columns), got shapes "
                           f"{shape_text(a.shape)} and {shape_text(b.shape)}")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"cdist: x1 and x2 must have the same number of columns, got {a.shape[-1]} and "
                           f"{b.shape[-1]}")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not p >= 0:
        raise RuntimeError(f"cdist: p must be a number >= 0, got {p!r}")
    return linalg.vector_norm(a.unsqueeze(-2) - b.unsqueeze(-3), p, -1)


@_method
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta·input + alpha·(batch1 @ batch2)`` for batches of matrices (3-D)."""
    a, b = as_tensor(batch1), as_tensor(batch2)
    _check_dims("baddbmm", batch1=(a, 3), batch2=(b, 3))
    return _scaled_sum(input, a @ b, beta, alpha)
