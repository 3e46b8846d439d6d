"""PyTorch's products and distances made of other ops (no rule of their own).

* ``tensordot(a, b, dims)``: the dims contracted are moved last in ``a`` and first in ``b``, both made
  matrices, one ``matmul``, and the free dims unfolded again: ``out[i…, j…] = Σ_k… a[i…, k…]·b[k…, j…]``;
* ``kron(a, b)``: ``out[i·m + k, …] = a[i, …]·b[k, …]``, a broadcast product of ``a`` and ``b`` with
  their dims interleaved, then merged in pairs;
* ``cdist(x1, x2, p)``: ``out[…, i, j] = ‖x1[…, i, :] − x2[…, j, :]‖_p``, the ``norm`` row over the
  differences of every pair (its gradient is 0 where the distance is 0, as PyTorch's), or for p = 2 with more
  than 25 rows the ``euclidean_dist`` row, √(‖a‖² + ‖b‖² − 2a·b) from one matrix product, as PyTorch;
* ``baddbmm(c, a, b)``: ``beta·c + alpha·(a @ b)`` for batches of matrices;
* ``cartesian_prod(a, b, …)``: the rows ``(a[i], b[j], …)``, a ``meshgrid`` flattened; ``combinations(x, r)``:
  the rows ``(x[i₁], …, x[iᵣ])`` for ``i₁ < … < iᵣ`` (``≤`` with replacement), picked by index;
* ``vander(x, N)``: ``out[i, j] = xᵢ^(N−1−j)``, each power the previous one times x (so the slope
  ``j·xᵢ^(j−1)`` is exact at x = 0 too).

Their gradients are those of the rows they use, and a trace shows those rows.

>>> import glassgrad as gg
>>> gg.kron(gg.tensor([1.0, 2.0]), gg.tensor([1.0, 10.0])).tolist()
[1.0, 10.0, 2.0, 20.0]
>>> gg.cdist(gg.tensor([[0.0, 0.0]]), gg.tensor([[3.0, 4.0], [0.0, 1.0]])).tolist()
[[5.0, 1.0]]
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from . import linalg, ops, ops_norm
from .arguments import check_dim, shape_text
from .composed import _check_dims, _scaled_sum, meshgrid
from .creation import as_tensor
from .dtypes import float32, float64
from .functions import cat, stack
from .tensor import Tensor, apply
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
    inner = math.prod(a.shape[d] for d in summed_a)  # the sizes written out: -1 is left open when inner is 0
    left = a.permute((*free_a, *summed_a)).reshape(math.prod(a.shape[d] for d in free_a), inner)
    right = b.permute((*summed_b, *free_b)).reshape(inner, math.prod(b.shape[d] for d in free_b))
    return (left @ right).reshape((*(a.shape[d] for d in free_a), *(b.shape[d] for d in free_b)))  # () if none


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


_COMPUTE_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """``out[…, i, j] = ‖x1[…, i, :] − x2[…, j, :]‖_p`` for every pair of rows (batch dims broadcast).

    For p = 2, as in PyTorch, the ``euclidean_dist`` row's √(‖a‖² + ‖b‖² − 2a·b) (one matrix product, no pair's
    difference) where ``compute_mode`` asks for it, or by default where either side has more than 25 rows;
    otherwise the ``norm`` row over every pair's difference (exact where two rows are equal)."""
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"cdist: {compute_mode!r} is not a valid value for compute_mode; use one of "
                         f"{', '.join(_COMPUTE_MODES)}")
    a, b = as_tensor(x1), as_tensor(x2)
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError(f"cdist: needs tensors with at least 2 dims (…, rows, columns), got shapes "
                           f"{shape_text(a.shape)} and {shape_text(b.shape)}")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"cdist: x1 and x2 must have the same number of columns, got {a.shape[-1]} and "
                           f"{b.shape[-1]}")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not p >= 0:
        raise RuntimeError(f"cdist: p must be a number >= 0, got {p!r}")
    if (p == 2 and a.numel() and b.numel() and a.dtype in (float32, float64) and b.dtype == a.dtype
            and (compute_mode == _COMPUTE_MODES[1] or compute_mode == _COMPUTE_MODES[0]
                 and max(a.shape[-2], b.shape[-2]) > 25)):
        return apply(ops_norm.EUCLIDEAN_DIST, (a, b), a.array, b.array)
    return _row_distances(a.unsqueeze(-2) - b.unsqueeze(-3), p)


def _row_distances(differences: Tensor, p: float) -> Tensor:
    """``‖differences‖_p`` along the last dim (the ``norm`` row), the distances of ``cdist`` and ``pdist``. For p = 0,
    the count of the entries that differ, their gradient is 0, as PyTorch's cdist and pdist give it (``vector_norm``'s
    p = 0 has none: None). With no columns every distance is 0, as in PyTorch, also for p = inf (whose vector_norm of
    nothing is refused). One column is read beside a column of zeros: PyTorch's cdist and pdist kernels form
    ``(|d|^p)^(1/p)`` there too (∞ from an overflow, a NaN slope ∞/∞ at an infinite entry), where a norm of one
    entry is ``|d|``."""
    p = p if differences.shape[-1] else 1
    if differences.shape[-1] == 1:
        differences = cat([differences, differences.new_zeros(tuple(differences.shape))], -1)
    distances = linalg.vector_norm(differences, p, -1)
    return ops.with_zero_slope(differences.sum(-1), distances) if p == 0 else distances


@_method
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta·input + alpha·(batch1 @ batch2)`` for batches of matrices (3-D)."""
    a, b = as_tensor(batch1), as_tensor(batch2)
    _check_dims("baddbmm", batch1=(a, 3), batch2=(b, 3))
    return _scaled_sum("baddbmm", input, a @ b, beta, alpha)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every tuple ``(a[i], b[j], …)`` of entries of the 1-D tensors, one per row, the last index fastest
    (a ``meshgrid`` with ``'ij'`` indexing, flattened and stacked as columns); one tensor comes back as is."""
    vectors = [as_tensor(t) for t in tensors]
    if not vectors:
        raise RuntimeError("cartesian_prod: expects at least one 1-D tensor, got none")
    for v in vectors:
        if v.ndim != 1:
            raise RuntimeError(f"cartesian_prod: expects 1-D tensors, got shape {shape_text(v.shape)}; flatten it "
                               "first")
    if len(vectors) == 1:
        return vectors[0]
    return stack([grid.reshape(-1) for grid in meshgrid(*vectors, indexing="ij")], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """Every choice of ``r`` entries of a 1-D tensor in their order (``with_replacement=True``: an entry may
    repeat), one per row: the entries picked by index, so the gradient flows back to each pick."""
    x = as_tensor(input)
    if x.ndim != 1:
        raise RuntimeError(f"combinations: expects a 1-D tensor, got shape {shape_text(x.shape)}; flatten it first")
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 0:
        raise RuntimeError(f"combinations: r must be a whole number >= 0 (how many entries per row), got {r!r}")
    if r == 0:
        return x.new_zeros((0,))
    choose = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    picks = np.array(list(choose(range(x.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return x[picks]


def _powers(x: Tensor, count: int) -> Tensor:
    """``x⁰, x¹, …, x^(count−1)`` stacked along a new last dim, by repeated products (exact slopes at x = 0)."""
    powers = [x.new_ones(x.shape)] if count else []
    while len(powers) < count:
        powers.append(powers[-1] * x)
    return stack(powers, -1) if powers else x.unsqueeze(-1)[..., :0]


def _vandermonde_input(x: Any, N: Any, name: str) -> tuple[Tensor, int]:
    x = as_tensor(x)
    if x.array.dtype.kind in "biu":
        x = x.long()
    count = x.shape[-1] if N is None and x.ndim else N
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise RuntimeError(f"{name}: N must be a whole number >= 0 (how many columns), got {N!r}")
    return x, int(count)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-D x: ``out[i, j] = xᵢ^(N−1−j)`` (``increasing=True``: ``xᵢ^j``), N columns
    (default len(x)); ``out·c`` evaluates the polynomial with coefficients c at every xᵢ."""
    if as_tensor(x).ndim != 1:
        raise RuntimeError(f"vander: x must be a 1-D tensor, got shape {shape_text(as_tensor(x).shape)}")
    values, count = _vandermonde_input(x, N, "vander")
    powers = _powers(values, count)
    return powers if increasing else powers.flip(-1)

