"""``torch.distributions.utils``: the helpers course code imports to write its own distributions and relaxations.

* ``clamp_probs(p)``: p kept one ``eps`` (the dtype's machine epsilon) inside ``(0, 1)``, so ``ln p`` and
  ``ln(1 − p)`` stay finite;
* ``probs_to_logits(p)``: ``ln p`` of the clamped p (``is_binary=True``: the log-odds ``ln p − ln(1 − p)``);
  ``logits_to_probs(l)``: ``softmax(l)`` along the last dim (``is_binary=True``: ``σ(l)``);
* ``broadcast_all(*values)``: tensors and numbers as float tensors of one broadcast shape;
* ``lazy_property``: a method computed on first reading (with gradients recorded) and kept on the instance;
* ``tril_matrix_to_vec(M, diag)`` / ``vec_to_tril_matrix(v, diag)``: a matrix's lower triangle (up to diagonal
  ``diag``) read row by row into a vector, and back;
* ``euler_constant``: γ ≈ 0.5772, the mean of a standard Gumbel draw.

>>> import glassgrad as gg
>>> from glassgrad.distributions.utils import logits_to_probs, probs_to_logits
>>> round(probs_to_logits(gg.tensor(0.75), is_binary=True).item(), 4)        # ln 3
1.0986
>>> logits_to_probs(gg.tensor([0.0, 0.0])).tolist()
[0.5, 0.5]
"""

from __future__ import annotations

import math

import numpy as np

from ..dtypes import finfo
from ..tensor import Tensor
from .base import broadcast_all, lazy_property
from .location_scale import EULER_GAMMA

euler_constant = EULER_GAMMA

__all__ = ["broadcast_all", "clamp_probs", "euler_constant", "lazy_property", "logits_to_probs", "probs_to_logits",
           "tril_matrix_to_vec", "vec_to_tril_matrix"]


def clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` clamped to ``[eps, 1 − eps]``."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(eps, 1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """``ln p`` (``is_binary=True``: ``ln p − ln(1 − p)``) of the clamped probabilities."""
    clamped = clamp_probs(probs)
    return clamped.log() - (-clamped).log1p() if is_binary else clamped.log()


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """``softmax(logits)`` along the last dim (``is_binary=True``: ``σ(logits)`` entry by entry)."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def _lower_triangle(n: int, diag: int) -> np.ndarray:
    """The n×n mask of the entries on or below diagonal ``diag`` (row i keeps columns j ≤ i + diag)."""
    if not -n <= diag < n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows = np.arange(n)
    return rows[None, :] <= rows[:, None] + diag


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The entries of the (batched) square ``mat`` on or below diagonal ``diag``, row by row, as a last dim."""
    return mat[..., Tensor._wrap(_lower_triangle(mat.shape[-1], diag))]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The n×n lower-triangular matrix (below diagonal ``diag``) whose entries, row by row, are ``vec``'s last dim:
    n solves ``n² + (1 + 2·diag)·n − |diag|·(diag + 1) = 2·len``."""
    length = vec.shape[-1]
    root = (-(1 + 2 * diag) + math.sqrt((1 + 2 * diag) ** 2 + 8 * length + 4 * abs(diag) * (diag + 1))) / 2
    n = round(root)
    if abs(n - root) > 1e-9:
        raise ValueError(f"The size of last dimension is {length} which cannot be expressed as the lower "
                         "triangular part of a square D x D matrix.")
    mask = Tensor._wrap(_lower_triangle(n, diag))
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    mat[..., mask] = vec
    return mat
