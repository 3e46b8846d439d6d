"""Dropout: during training, zero each input with probability ``p`` and scale the rest by ``1/(1 − p)``.

This is *inverted* dropout (PyTorch's): with a mask ``m ~ Bernoulli(1 − p)``,

    out = x · m / (1 − p)        so  E[out] = x,   and  ∂out/∂x = m / (1 − p)

which lets evaluation use the layer as the identity, with no rescaling. The mask is one
constant tensor multiplied in (no hand-written backward).

>>> import glassgrad as gg
>>> layer = gg.nn.Dropout(0.5, seed=0)
>>> sorted(set(layer(gg.ones(100)).tolist()))
[0.0, 2.0]
>>> layer.eval()(gg.ones(3)).tolist()
[1.0, 1.0, 1.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..arguments import shape_text
from ..autograd import recorded_call
from ..creation import as_tensor, default_generator, pick_generator
from ..tensor import Tensor
from .module import Module


def _check_probability(p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")
    return float(p)


def _masked(input: Tensor, p: float, shape: tuple[int, ...], generator: np.random.Generator | None) -> Tensor:
    """``input`` times a mask of ``shape`` (broadcast over it): 0 with probability ``p``, else ``1/(1 − p)``."""
    return input * Tensor._wrap(recorded_call(_draw_mask, generator, p, shape, input.dtype))


def _draw_mask(generator: np.random.Generator | None, p: float, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A fresh mask: 0 with probability ``p``, else ``1/(1 − p)``, drawn from ``generator`` (None: glassgrad's).

    One call, so that a compiled step (:mod:`glassgrad.compiler`) replays the draw itself, from the same stream.
    """
    rng = generator if generator is not None else default_generator()
    kept = rng.random(shape, dtype=np.float32) >= p
    return np.multiply(kept, 1 / (1 - p), dtype=dtype) if p < 1 else np.zeros(shape, dtype)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            generator: np.random.Generator | None = None) -> Tensor:
    """Inverted dropout of ``input`` (the identity when ``training`` is False or ``p`` is 0).

    The mask is drawn from ``generator``, else from glassgrad's generator (:func:`glassgrad.manual_seed`).
    """
    p = _check_probability(p)
    input = as_tensor(input)
    if input.dtype.kind != "f":
        raise TypeError(f"dropout needs a floating tensor, got {input.dtype}; convert it with .float()")
    if not training or p == 0:
        return input
    return _masked(input, p, input.shape, generator)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              generator: np.random.Generator | None = None) -> Tensor:
    """Channel dropout of images (N, C, H, W): each whole channel is zeroed with probability ``p`` (one draw per
    sample and channel), the rest scaled by ``1/(1 − p)``. A 3-d input is read as (N, C, L), as PyTorch 2.13
    reads it (PyTorch warns that it will read it as one unbatched image later)."""
    p = _check_probability(p)
    input = as_tensor(input)
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected input of shape (N, C, H, W) (or (N, C, L)), "
                         f"got {shape_text(input.shape)}")
    if input.dtype.kind != "f":
        raise TypeError(f"dropout2d needs a floating tensor, got {input.dtype}; convert it with .float()")
    if not training or p == 0:
        return input
    return _masked(input, p, input.shape[:2] + (1,) * (input.ndim - 2), generator)  # one draw per (sample, channel)


class Dropout(Module):
    """Zero each input with probability ``p`` in training (scaling the rest by ``1/(1 − p)``); identity in eval.

    ``seed=`` (or ``generator=``) gives the layer its own random stream, so masks repeat run to run.
    """

    def __init__(self, p: float = 0.5, seed: int | None = None, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        self.p = _check_probability(p)
        self.generator = pick_generator(seed, generator) if seed is not None or generator is not None else None

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training, self.generator)

    def config(self) -> dict[str, Any]:
        return {"p": self.p}


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) with probability ``p`` in training (the rest scaled by ``1/(1 − p)``),
    as neighbouring pixels are too alike for entry-wise dropout to help; identity in eval."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout2d(input, self.p, self.training, self.generator)
