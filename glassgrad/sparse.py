"""``torch.sparse`` for dense matrices: glassgrad has no sparse tensors (``x.to_sparse()`` is refused in one line),
but PyTorch's sparse products take dense operands too, and a graph network written for a sparse adjacency
(``torch.sparse.mm(adj, support)``, ``torch.spmm(adj, support)``) runs unchanged with a dense one:

* ``mm(mat1, mat2)`` and ``gg.spmm(mat1, mat2)``: the matrix product ``mat1 @ mat2`` of two matrices;
* ``addmm(mat, mat1, mat2, beta=1, alpha=1)``: ``beta·mat + alpha·(mat1 @ mat2)``.

Their gradients are those of the matrix product. ``gg.sparse_coo_tensor`` is refused in one line that says how
to build the same matrix dense.

>>> import glassgrad as gg
>>> gg.sparse.mm(gg.eye(2), gg.tensor([[1.0], [2.0]])).tolist()
[[1.0], [2.0]]
"""

from __future__ import annotations

from typing import Any

from .composed import addmm as addmm
from .tensor import Tensor
from .tensor_methods import mm as matrix_product


def mm(mat1: Tensor, mat2: Tensor, reduce: str | None = None) -> Tensor:
    """The matrix product ``mat1 @ mat2`` of two matrices (2-D), as ``torch.sparse.mm`` gives for dense ones.

    ``reduce`` (``"sum"``, ``"mean"`` …) is a reduction over the nonzeros of a sparse CSR ``mat1``, which
    glassgrad does not have: it is refused."""
    if reduce is not None:
        raise NotImplementedError(f"sparse.mm: reduce={reduce!r} needs a sparse CSR matrix, and glassgrad has no "
                                  "sparse tensors; leave reduce out for the plain product")
    return spmm(mat1, mat2)


def spmm(input: Tensor, mat2: Tensor) -> Tensor:
    """``torch.spmm``: the matrix product ``input @ mat2`` of two matrices (a sparse ``input`` in PyTorch, dense
    here)."""
    return matrix_product(input, mat2)


def sparse_coo_tensor(indices: Any, values: Any, size: Any = None, **options: Any) -> Tensor:
    """PyTorch's sparse matrix from coordinates: refused, with the dense matrix it stands for as the fix."""
    raise NotImplementedError("sparse_coo_tensor: glassgrad has no sparse tensors; build the dense matrix "
                              "instead: gg.zeros(size).index_put_(tuple(indices), values, accumulate=True)")
