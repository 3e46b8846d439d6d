"""A one-hidden-layer ReLU network, run under glassgrad's trace, as worksheet steps.

For one input column x and target y the glass box records (float64)::

    Z₁ = W₁·x + b₁        A₁ = ReLU(Z₁)        ŷ = W₂·A₁ + b₂        L = (1/n)·Σᵢ (ŷᵢ − yᵢ)²
    ∂L/∂ŷ = 2(ŷ − y)/n    ∂L/∂W₂ = ∂L/∂ŷ·A₁ᵀ    ∂L/∂A₁ = W₂ᵀ·∂L/∂ŷ
    ∂L/∂Z₁ = ∂L/∂A₁ ⊙ ReLU'(Z₁)    ∂L/∂W₁ = ∂L/∂Z₁·xᵀ

(∂L/∂b₂ = ∂L/∂ŷ and ∂L/∂b₁ = ∂L/∂Z₁, since each bias is added directly: the steps carry
them as aliases.) :func:`network_steps` builds ``Sequential(Linear, ReLU, Linear)`` with the
given weights, runs one forward pass, ``mse_loss`` and ``backward()`` inside ``gg.trace()``
and reads the tape's description with :func:`~glassgrad.practice.trace_steps.steps_from_trace`:
every number is the engine's own.

:func:`diagonal_flip_steps` is the lessons' 4→3→4 network: input ``[1, 0, 1, 1]``, target
``[1, 1, 0, 1]`` (the 2×2 image flipped on its diagonal), with seeded integer weights.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from ..creation import tensor
from ..lessons.diagonal_flip import INPUT as DIAGONAL_FLIP_INPUT
from ..lessons.diagonal_flip import TARGET as DIAGONAL_FLIP_TARGET
from ..nn import Linear, ReLU, Sequential
from ..nn.functional import mse_loss
from ..tensor import float64
from ..trace import trace
from .numbers import seeded
from .trace_steps import steps_from_trace
from .worksheet import Step


def network_steps(x: ArrayLike, target: ArrayLike, w1: ArrayLike, b1: ArrayLike, w2: ArrayLike,
                  b2: ArrayLike) -> list[Step]:
    """The forward and backward steps of ``ŷ = W₂·ReLU(W₁·x + b₁) + b₂`` with the MSE loss, from a trace."""
    w1, w2 = np.asarray(w1, dtype=np.float64), np.asarray(w2, dtype=np.float64)
    hidden, inputs = w1.shape
    model = Sequential(Linear(inputs, hidden, dtype=float64), ReLU(), Linear(hidden, w2.shape[0], dtype=float64))
    model.load_state_dict({name: tensor(np.ravel(values) if "bias" in name else values, dtype=float64)
                           for name, values in (("0.weight", w1), ("0.bias", b1), ("2.weight", w2), ("2.bias", b2))})
    sample = tensor(np.asarray(x, dtype=np.float64).reshape(1, -1), dtype=float64)
    wanted = tensor(np.asarray(target, dtype=np.float64).reshape(1, -1), dtype=float64)
    with trace(model) as tape:
        tape.name(sample, "x")
        mse_loss(model(sample), wanted).backward()
    return steps_from_trace(tape.describe())


def small_network(rng: np.random.Generator, inputs: int, hidden: int, outputs: int,
                  draw: Callable[[tuple[int, ...]], np.ndarray], min_active: int = 1,
                  max_error: float = 5.0) -> dict[str, np.ndarray]:
    """Weights and biases from ``draw(shape)``, an integer input in ``[0, 2]`` and target in
    ``[-2, 2]``, drawn again until at least ``min_active`` hidden units are active and the
    errors ŷ − y are not all zero and at most ``max_error``: a backward pass worth doing by hand."""
    while True:
        network = {"x": rng.integers(0, 3, size=(inputs, 1)), "target": rng.integers(-2, 3, size=(outputs, 1)),
                   "w1": draw((hidden, inputs)), "b1": draw((hidden, 1)),
                   "w2": draw((outputs, hidden)), "b2": draw((outputs, 1))}
        network = {name: np.asarray(values, dtype=np.float64) for name, values in network.items()}
        z1 = network["w1"] @ network["x"] + network["b1"]
        errors = np.abs(network["w2"] @ np.maximum(z1, 0) + network["b2"] - network["target"])
        if (z1 > 0).sum() >= min_active and 0 < errors.max() <= max_error:
            return network


def diagonal_flip_steps(seed: int = 0, weights: dict[str, np.ndarray] | None = None) -> list[Step]:
    """The diagonal-flip network's steps: seeded integer weights in ``[-1, 1]`` (so every number is
    a short decimal), or ``weights`` with keys ``w1`` (3×4), ``b1`` (3), ``w2`` (4×3), ``b2`` (4)."""
    if weights is None:
        rng = seeded(seed)
        while True:
            drawn = small_network(rng, 4, 3, 4, lambda shape: rng.integers(-1, 2, size=shape), max_error=np.inf)
            z1 = drawn["w1"] @ np.array(DIAGONAL_FLIP_INPUT)[:, None] + drawn["b1"]
            if (z1 > 0).sum() >= 2:
                weights = {name: drawn[name] for name in ("w1", "b1", "w2", "b2")}
                break
    return network_steps(DIAGONAL_FLIP_INPUT, DIAGONAL_FLIP_TARGET, **weights)
