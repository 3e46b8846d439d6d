"""``SparseAdam``: PyTorch's Adam for sparse gradients, which glassgrad does not have.

PyTorch's SparseAdam updates only the rows a sparse gradient touches (an ``nn.Embedding(sparse=True)``'s
looked-up rows), leaving the moments of the other rows as they are. glassgrad's gradients are always
dense NumPy arrays (``Embedding(sparse=True)`` is refused), so the name is here only to say so in one line.
"""

from __future__ import annotations

from typing import Any

from .optimizer import Optimizer


class SparseAdam(Optimizer):
    """Refused when built: glassgrad has no sparse gradients; use ``Adam`` (or ``AdamW``) instead."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, maximize: bool = False) -> None:
        raise NotImplementedError(
            "SparseAdam needs sparse gradients, which glassgrad does not have (Embedding(sparse=True) is refused); "
            "use a dense Embedding with gg.optim.Adam(params, lr=...) or AdamW"
        )
