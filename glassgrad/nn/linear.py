"""``Linear`` (a fully connected layer) and ``Identity`` (``LazyLinear`` is in :mod:`glassgrad.nn.lazy`).

``Linear(in_features, out_features)`` holds ``weight`` of shape ``(out, in)`` and ``bias``
of shape ``(out,)``, as in PyTorch. For a batch of row samples it computes

    Z = X·Wᵀ + b          (for one column sample: z = W·x + b, the lessons' form)

as one fused op (:func:`glassgrad.functions.linear`), whose backward is
``∂L/∂X = ∂L/∂Z·W``, ``∂L/∂W = ∂L/∂Zᵀ·X``, ``∂L/∂b = Σ_rows ∂L/∂Z``.

>>> import glassgrad as gg
>>> layer = gg.nn.Linear(4, 3, seed=0)
>>> layer(gg.ones(2, 4)).shape
Size([2, 3])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..arguments import resolve_dtype, shown
from ..creation import pick_generator
from ..device import check_device
from ..dtypes import get_default_dtype
from ..functions import linear
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter


def check_size(value: Any, name: str, owner: str, smallest: int = 1,
               too_small: type[Exception] = ValueError, leads: bool = True) -> int:
    """``value`` as an int of at least ``smallest`` (1, or 0 where PyTorch allows an empty layer), or an error that
    names the argument: a TypeError, as PyTorch's, for what is no int (``Linear(2.5, 3)``, ``'a'``, None),
    ``too_small`` (ValueError, or the class PyTorch's function raises there) for an int too small.

    A Python bool is an int to PyTorch's layers, which pass it on as a size: its ``empty(shape)`` refuses one only
    as a shape's first entry (TypeError). So a bool is refused where ``value`` ``leads`` a parameter's shape
    (``out_features``: ``weight`` is (out, in)) or is a function's setting, and counts as 0 or 1 where it never
    does (``Linear(True, 3)`` has ``weight`` (3, 1), as in PyTorch)."""
    whole = not (isinstance(value, bool) and leads) and isinstance(value, (int, np.integer))
    if not whole or value < smallest:
        kind = "a positive integer" if smallest == 1 else f"an integer >= {smallest}"
        raise (too_small if whole else TypeError)(f"{owner}: {name} must be {kind}, got {shown(value)}")
    return int(value)


def float_dtype(dtype: Any, owner: str) -> np.dtype:
    """``dtype`` (default: :func:`glassgrad.get_default_dtype`, float32 unless changed) checked to be floating:
    parameters must be able to learn."""
    dtype = resolve_dtype(dtype) or get_default_dtype()
    if dtype.kind != "f":
        raise TypeError(f"{owner}: parameters need a floating dtype (gg.float32 or gg.float64), got {dtype}")
    return dtype


class Linear(Module):
    """A fully connected layer: ``Z = X·Wᵀ + b``, with ``weight`` (out, in) and ``bias`` (out,).

    Initialised as in PyTorch: ``W`` and ``b`` uniform in ``(−1/√in, 1/√in)`` (that is
    ``kaiming_uniform_`` with ``a = √5``). The draws come from glassgrad's generator
    (:func:`glassgrad.manual_seed`), or from ``generator=``, or from a fresh ``seed=``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None,
                 seed: int | None = None, generator: np.random.Generator | None = None) -> None:
        check_device(device)
        super().__init__()
        owner = type(self).__name__
        self.in_features = check_size(in_features, "in_features", owner, smallest=0, leads=False)
        self.out_features = check_size(out_features, "out_features", owner, smallest=0)
        dtype = float_dtype(dtype, owner)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(pick_generator(seed, generator))

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """Draw fresh weights: ``W, b ~ U(−1/√in, 1/√in)`` (with no inputs, ``b = 0``: the output is the bias)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)

    def config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features, "bias": self.bias is not None}


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer). Arguments are ignored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input
