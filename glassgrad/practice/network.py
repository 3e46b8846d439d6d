"""A one-hidden-layer ReLU network's forward and backward pass as worksheet steps, from glassgrad.

For one input column x and target y::

    Z₁ = W₁·x + b₁        A₁ = ReLU(Z₁)        ŷ = W₂·A₁ + b₂        L = (1/n)·Σᵢ (ŷᵢ − yᵢ)²
    ∂L/∂ŷ = 2·(ŷ − y)/n   ∂L/∂W₂ = ∂L/∂ŷ · A₁ᵀ   ∂L/∂A₁ = W₂ᵀ · ∂L/∂ŷ
    ∂L/∂Z₁ = ∂L/∂A₁ ⊙ 1[Z₁ > 0]   ∂L/∂W₁ = ∂L/∂Z₁ · xᵀ

(∂L/∂b₂ = ∂L/∂ŷ and ∂L/∂b₁ = ∂L/∂Z₁, since each bias is added directly.)

Every number comes from one glassgrad forward pass and one ``loss.backward()`` (float64,
``retain_grad()`` on Z₁, A₁ and ŷ). Each step also carries ``recompute`` (the same rule run by
the engine on its own inputs; for backward steps a one-op graph and its ``backward``) and
``explain`` (one entry's scalar equation written out).

:func:`diagonal_flip_steps` is the lessons' 4→3→4 network: input ``[1, 0, 1, 1]``, target
``[1, 1, 0, 1]`` (the 2×2 image flipped on its diagonal), MSE loss.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np

from ..creation import zeros
from ..nn.functional import mse_loss
from ..tensor import Tensor, float64
from .numbers import engine_tensor, factor_text, index_label, number_text, products_text
from .worksheet import Step

DIAGONAL_FLIP_INPUT = (1.0, 0.0, 1.0, 1.0)
DIAGONAL_FLIP_TARGET = (1.0, 1.0, 0.0, 1.0)

Show = Callable[[float], Fraction]


def network_steps(x, target, w1, b1, w2, b2) -> list[Step]:
    """The nine forward and backward steps of the network, computed by glassgrad."""
    x, target = _column(x), _column(target)
    b1, b2 = _column(b1), _column(b2)
    w1, w2 = np.asarray(w1, dtype=np.float64), np.asarray(w2, dtype=np.float64)
    W1, B1, W2, B2 = (engine_tensor(v, requires_grad=True) for v in (w1, b1, w2, b2))
    z1 = W1 @ engine_tensor(x) + B1
    a1 = z1.relu()
    prediction = W2 @ a1 + B2
    for hidden in (z1, a1, prediction):
        hidden.retain_grad()
    loss = mse_loss(prediction, engine_tensor(target))
    loss.backward()
    n = target.shape[0]
    z1v, a1v, yhat = z1.data, a1.data, prediction.data
    d_yhat, d_a1, d_z1 = prediction.grad.data, a1.grad.data, z1.grad.data
    return [
        Step("Z₁", "Z₁ = W₁·x + b₁", {"W₁": w1, "x": x, "b₁": b1}, z1v, "forward", _affine, _explain_affine),
        Step("A₁", "A₁ = ReLU(Z₁) = max(0, Z₁)", {"Z₁": z1v}, a1v, "forward", _relu, _explain_relu),
        Step("ŷ", "ŷ = W₂·A₁ + b₂", {"W₂": w2, "A₁": a1v, "b₂": b2}, yhat, "forward", _affine, _explain_affine),
        Step("L", f"L = (1/{n})·Σᵢ (ŷᵢ − yᵢ)²", {"ŷ": yhat, "y": target}, loss.data, "forward", _mse, _explain_mse),
        Step("∂L/∂ŷ", f"∂L/∂ŷ = 2·(ŷ − y)/{n}", {"ŷ": yhat, "y": target}, d_yhat, "backward",
             _mse_grad, _explain_mse_grad),
        Step("∂L/∂W₂", "∂L/∂W₂ = ∂L/∂ŷ · A₁ᵀ", {"∂L/∂ŷ": d_yhat, "A₁": a1v}, W2.grad.data, "backward",
             _weight_grad, _explain_weight_grad),
        Step("∂L/∂A₁", "∂L/∂A₁ = W₂ᵀ · ∂L/∂ŷ", {"W₂": w2, "∂L/∂ŷ": d_yhat}, d_a1, "backward",
             _input_grad, _explain_input_grad),
        Step("∂L/∂Z₁", "∂L/∂Z₁ = ∂L/∂A₁ ⊙ 1[Z₁ > 0]", {"∂L/∂A₁": d_a1, "Z₁": z1v}, d_z1, "backward",
             _relu_grad, _explain_relu_grad),
        Step("∂L/∂W₁", "∂L/∂W₁ = ∂L/∂Z₁ · xᵀ", {"∂L/∂Z₁": d_z1, "x": x}, W1.grad.data, "backward",
             _weight_grad, _explain_weight_grad),
    ]


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
        rng = np.random.default_rng(seed)
        while True:
            drawn = small_network(rng, 4, 3, 4, lambda shape: rng.integers(-1, 2, size=shape), max_error=np.inf)
            z1 = drawn["w1"] @ np.array(DIAGONAL_FLIP_INPUT)[:, None] + drawn["b1"]
            if (z1 > 0).sum() >= 2:
                weights = {name: drawn[name] for name in ("w1", "b1", "w2", "b2")}
                break
    return network_steps(DIAGONAL_FLIP_INPUT, DIAGONAL_FLIP_TARGET, **weights)


def _column(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1, 1)


# --- each rule run by the engine on its own inputs (for the given-values mode) -----------


def _affine(weight, inputs, bias) -> np.ndarray:
    return (engine_tensor(weight) @ engine_tensor(inputs) + engine_tensor(bias)).data


def _relu(pre_activation) -> np.ndarray:
    return engine_tensor(pre_activation).relu().data


def _mse(prediction, target) -> np.ndarray:
    return mse_loss(engine_tensor(prediction), engine_tensor(target)).data


def _mse_grad(prediction, target) -> np.ndarray:
    leaf = engine_tensor(prediction, requires_grad=True)
    mse_loss(leaf, engine_tensor(target)).backward()
    return leaf.grad.data


def _weight_grad(upstream, inputs) -> np.ndarray:
    """∂L/∂W of ``Z = W·A`` by the engine's backward: ``∂L/∂Z · Aᵀ``."""
    weight = zeros(upstream.shape[0], inputs.shape[0], dtype=float64, requires_grad=True)
    (weight @ engine_tensor(inputs)).backward(engine_tensor(upstream))
    return weight.grad.data


def _input_grad(weight, upstream) -> np.ndarray:
    """∂L/∂A of ``Z = W·A`` by the engine's backward: ``Wᵀ · ∂L/∂Z``."""
    inputs = zeros(weight.shape[1], upstream.shape[1], dtype=float64, requires_grad=True)
    (engine_tensor(weight) @ inputs).backward(engine_tensor(upstream))
    return inputs.grad.data


def _relu_grad(upstream, pre_activation) -> np.ndarray:
    leaf: Tensor = engine_tensor(pre_activation, requires_grad=True)
    leaf.relu().backward(engine_tensor(upstream))
    return leaf.grad.data


# --- one entry written out, with the numbers as shown --------------------------------------


def _named(step: Step) -> list[tuple[str, np.ndarray]]:
    return list(step.inputs.items())


def _explain_affine(step: Step, index: tuple, show: Show) -> str:
    (w_name, w), (a_name, a), (b_name, b) = _named(step)
    row = index[0]
    label = index_label(step.name, index, step.output.shape)
    dot = products_text([show(v) for v in w[row]], [show(v) for v in a[:, 0]])
    return (f"{label} = row {row + 1} of {w_name} dotted with {a_name}, plus {index_label(b_name, index, b.shape)}"
            f" = {dot} + {factor_text(show(b[row, 0]))} = {number_text(show(step.output[index]))}")


def _explain_relu(step: Step, index: tuple, show: Show) -> str:
    (z_name, z), = _named(step)
    return (f"{index_label(step.name, index, step.output.shape)} = max(0, {index_label(z_name, index, z.shape)}) = "
            f"max(0, {number_text(show(z[index]))}) = {number_text(show(step.output[index]))}")


def _explain_mse(step: Step, index: tuple, show: Show) -> str:
    (p_name, prediction), (y_name, target) = _named(step)
    differences = (engine_tensor(prediction) - engine_tensor(target)).data[:, 0]
    squares = " + ".join(f"{factor_text(show(d))}²" for d in differences)
    return (f"L = (1/{len(differences)})·Σᵢ ({p_name}ᵢ − {y_name}ᵢ)² = (1/{len(differences)})·({squares}) = "
            f"{number_text(show(step.output[index]))}")


def _explain_mse_grad(step: Step, index: tuple, show: Show) -> str:
    (p_name, prediction), (y_name, target) = _named(step)
    n = target.shape[0]
    return (f"{index_label(step.name, index, step.output.shape)} = 2·({index_label(p_name, index, prediction.shape)}"
            f" − {index_label(y_name, index, target.shape)})/{n} = 2·({number_text(show(prediction[index]))} - "
            f"{factor_text(show(target[index]))})/{n} = {number_text(show(step.output[index]))}")


def _explain_weight_grad(step: Step, index: tuple, show: Show) -> str:
    (u_name, upstream), (a_name, inputs) = _named(step)
    i, j = index
    return (f"{index_label(step.name, index, step.output.shape)} = {index_label(u_name, (i, 0), upstream.shape)}·"
            f"{index_label(a_name, (j, 0), inputs.shape)} = {factor_text(show(upstream[i, 0]))}·"
            f"{factor_text(show(inputs[j, 0]))} = {number_text(show(step.output[index]))}")


def _explain_input_grad(step: Step, index: tuple, show: Show) -> str:
    (w_name, weight), (u_name, upstream) = _named(step)
    j = index[0]
    return (f"{index_label(step.name, index, step.output.shape)} = column {j + 1} of {w_name} dotted with {u_name}"
            f" = {products_text([show(v) for v in weight[:, j]], [show(v) for v in upstream[:, 0]])}"
            f" = {number_text(show(step.output[index]))}")


def _explain_relu_grad(step: Step, index: tuple, show: Show) -> str:
    (u_name, upstream), (z_name, pre_activation) = _named(step)
    z = show(pre_activation[index])
    return (f"{index_label(step.name, index, step.output.shape)} = {index_label(u_name, index, upstream.shape)}·"
            f"1[{index_label(z_name, index, pre_activation.shape)} > 0] = {factor_text(show(upstream[index]))}·"
            f"{1 if z > 0 else 0} = {number_text(show(step.output[index]))}")
