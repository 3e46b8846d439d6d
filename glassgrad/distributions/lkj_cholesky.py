"""``LKJCholesky(dim, concentration)``: the LKJ prior over correlation matrices, given as their Cholesky factors.

The LKJ distribution (Lewandowski, Kurowicka and Joe, 2009) over D×D correlation matrices Ω has density
``∝ det(Ω)^(η − 1)``: η = 1 is uniform over correlation matrices, η > 1 favours the identity (weak correlations),
η < 1 strong ones. A Bayesian model samples the Cholesky factor L (``Ω = L·Lᵀ``, lower triangular, rows of length 1,
positive diagonal) instead, and scales it by standard deviations: ``diag(σ)·L`` is the ``scale_tril`` of a
MultivariateNormal.

Drawn by the onion method, one row at a time: row 0 is ``(1, 0, …)``; row k ≥ 1 has ``y ~ Beta(k/2, βₖ)``,
``βₖ = η + (D − 1 − k)/2``, its k entries left of the diagonal ``√y·u`` with u uniform on the unit sphere (a
standard normal vector over its length), and ``Lₖₖ = √(1 − y)``. Those k entries w have the density
``(1 − ‖w‖²)^(βₖ − 1)·Γ(k/2)/(π^(k/2)·B(k/2, βₖ))``, and ``1 − ‖w‖² = Lₖₖ²``, so with
``B(k/2, βₖ) = Γ(k/2)Γ(βₖ)/Γ(η + (D − 1)/2)``:

``log p(L) = Σₖ (2η + D − k − 3)·ln Lₖₖ − ¼D(D − 1)·ln π − Σₖ lnΓ(βₖ) + (D − 1)·lnΓ(η + (D − 1)/2)``, k = 1…D − 1.

There is no ``rsample`` (as in PyTorch). Each correlation of Ω on its own has ``(ρ + 1)/2 ~ Beta(a, a)``,
``a = η − 1 + D/2``.

>>> import glassgrad as gg
>>> d = gg.distributions.LKJCholesky(2, 1.0)           # D = 2, η = 1: ρ uniform on (−1, 1), density ½
>>> round(d.log_prob(gg.tensor([[1.0, 0.0], [0.6, 0.8]])).exp().item(), 4)
0.5
"""

from __future__ import annotations

import math
from typing import Any

from ..functions import cat
from ..tensor import Tensor
from . import constraints
from .base import Distribution, broadcast_all, check_positive, noise, validating
from .gamma_family import Beta


class LKJCholesky(Distribution):
    """Cholesky factors L of D×D correlation matrices ``Ω = L·Lᵀ`` whose density is ``∝ det(Ω)^(concentration − 1)``
    (``dim`` is D)."""

    params = {"concentration": 0}
    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration: Any = 1.0, validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        (self.concentration,) = broadcast_all(concentration)
        check_positive("LKJCholesky", "concentration", self.concentration, validate_args)
        self.validates = validating(validate_args)
        self.dim = dim
        self._batch = tuple(self.concentration.shape)
        self._event = (dim, dim)

    def _row_betas(self) -> tuple[Tensor, Tensor]:
        """``k/2`` and ``βₖ = η + (D − 1 − k)/2`` for the rows k = 1…D − 1 (along a last dim)."""
        half_k = self.concentration.new_tensor(range(1, self.dim)) / 2
        return half_k, self.concentration[..., None] + (self.dim - 1) / 2 - half_k

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """The onion method: ``√y`` times a direction left of the diagonal, ``√(1 − y)`` on it, row by row."""
        half_k, beta = self._row_betas()
        y = Beta(half_k, beta.detach(), validate_args=False).sample(sample_shape)
        y = cat([y.new_zeros(tuple(y.shape[:-1]) + (1,)), y], -1)  # row 0: y = 0, L₀₀ = 1
        directions = noise(self.concentration, self._draw_shape(sample_shape), "standard_normal").tril(-1)
        lengths = directions.norm(dim=-1, keepdim=True).clamp(min=1e-30)  # row 0's is 0
        return directions / lengths * y.sqrt()[..., None] + (1 - y).sqrt().diag_embed()

    def log_prob(self, value: Any) -> Tensor:
        diagonal = self.in_support(value).diagonal(dim1=-2, dim2=-1)[..., 1:]  # L₁₁ … L_{D−1,D−1}
        beta = self._row_betas()[1]
        eta, d = self.concentration, self.dim
        powers = 2 * beta - 2  # 2βₖ − 2 = 2η + D − k − 3
        normaliser = (d * (d - 1) / 4 * math.log(math.pi) + beta.lgamma().sum(-1)
                      - (d - 1) * (eta + (d - 1) / 2).lgamma())
        return (powers * diagonal.log()).sum(-1) - normaliser
