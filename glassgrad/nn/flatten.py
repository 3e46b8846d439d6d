"""``Flatten``: merge dims into one, e.g. 8×8 images ``(N, 8, 8)`` into rows ``(N, 64)``; ``Unflatten`` splits one.

>>> import glassgrad as gg
>>> gg.nn.Flatten()(gg.zeros(5, 8, 8)).shape
Size([5, 64])
"""

from __future__ import annotations

from typing import Any

from ..arguments import built_setting, int_argument
from ..creation import as_tensor
from ..tensor import Tensor
from .module import Module


class Flatten(Module):
    """Merge dims ``start_dim … end_dim`` (default: all but the batch dim) into one; backward reshapes back."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = built_setting(int_argument, start_dim, "Flatten", "start_dim")  # never 1.5 cut to 1
        self.end_dim = built_setting(int_argument, end_dim, "Flatten", "end_dim")

    def forward(self, input: Tensor) -> Tensor:
        return as_tensor(input).flatten(self.start_dim, self.end_dim)

    def config(self) -> dict[str, Any]:
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size`` (Flatten's inverse): ``(N, 64)`` into ``(N, 1, 8, 8)``."""

    def __init__(self, dim: int, unflattened_size: Any) -> None:
        super().__init__()
        for size in unflattened_size:  # checked now; kept as given (a list stays one), as PyTorch keeps it
            int(size)
        self.dim, self.unflattened_size = built_setting(int_argument, dim, "Unflatten", "dim"), unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        return as_tensor(input).unflatten(self.dim, tuple(self.unflattened_size))

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim, "unflattened_size": list(self.unflattened_size)}
