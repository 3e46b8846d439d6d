"""The rules of a small network's steps, each run by the engine and written out for one entry.

A worksheet or a chain-rule problem shows one step ``output = rule(inputs)`` of a traced
network. For one sample read as a column (the lessons' form), the rules are::

    affine        Z = W·a + b                 Z[i] = Σⱼ W[i,j]·a[j] + b[i]
    relu          A = ReLU(Z)                 A[i] = max(0, Z[i])
    softmax       ŷ = softmax(z)              ŷ[k] = exp(z[k]) / Σⱼ exp(z[j])
    mse           L = (1/n)·Σᵢ (ŷᵢ − yᵢ)²
    mse_grad      ∂L/∂ŷ = 2·(ŷ − y)/n
    cross_entropy L = −log softmax(z)[y]       (one sample; y a class index, from 0)
    ce_grad       ∂L/∂z = ŷ − onehot(y)       (softmax + cross-entropy, one sample)
    weight_grad   ∂L/∂W = ∂L/∂Z·aᵀ            ∂L/∂W[i,j] = ∂L/∂Z[i]·a[j]
    input_grad    ∂L/∂a = Wᵀ·∂L/∂Z            ∂L/∂a[j] = Σᵢ W[i,j]·∂L/∂Z[i]
    relu_grad     ∂L/∂Z = ∂L/∂A ⊙ ReLU′(Z)    ∂L/∂Z[i] = ∂L/∂A[i]·1[Z[i] > 0]

Each :class:`Rule` has ``recompute(*inputs)``: the engine evaluating the rule on the inputs
(in the order above; the given-values mode runs it on the numbers as shown, rounded), and
``explain(step, index, show)``: the scalar equation of entry ``index`` with the numbers as
``show`` writes them, ending in ``= value``.

>>> import numpy as np
>>> RULES["relu"].recompute(np.array([[2.0], [-1.0]])).ravel().tolist()
[2.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from ..creation import zeros
from ..nn.functional import cross_entropy, mse_loss
from ..tensor import float64
from .numbers import engine_tensor, factor_text, index_label, number_text, products_text

if TYPE_CHECKING:
    from .worksheet import Step

Show = Callable[[float], Fraction]


@dataclass(frozen=True)
class Rule:
    """How the engine computes a step from its inputs, and how one entry is written out."""

    recompute: Callable[..., np.ndarray]
    explain: Callable[[Step, tuple, Show], str]


def _affine(weight: np.ndarray, inputs: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    product = engine_tensor(weight) @ engine_tensor(inputs)
    return (product if bias is None else product + engine_tensor(bias)).data


def _relu(pre_activation: np.ndarray) -> np.ndarray:
    return engine_tensor(pre_activation).relu().data


def _softmax(logits: np.ndarray) -> np.ndarray:
    return engine_tensor(logits).softmax(dim=0).data


def _mse(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    return mse_loss(engine_tensor(prediction), engine_tensor(target)).data


def _mse_grad(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    leaf = engine_tensor(prediction, requires_grad=True)
    mse_loss(leaf, engine_tensor(target)).backward()
    return leaf.grad.data


def _cross_entropy(logits: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return cross_entropy(engine_tensor(logits.reshape(1, -1)), engine_tensor(classes.reshape(-1)).long()).data


def _ce_grad(probabilities: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    return (engine_tensor(probabilities) - engine_tensor(onehot)).data


def _weight_grad(upstream: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """∂L/∂W of ``Z = W·a`` by the engine's backward: ``∂L/∂Z · aᵀ``."""
    weight = zeros(upstream.shape[0], inputs.shape[0], dtype=float64, requires_grad=True)
    (weight @ engine_tensor(inputs)).backward(engine_tensor(upstream))
    return weight.grad.data


def _input_grad(weight: np.ndarray, upstream: np.ndarray) -> np.ndarray:
    """∂L/∂a of ``Z = W·a`` by the engine's backward: ``Wᵀ · ∂L/∂Z``."""
    inputs = zeros(weight.shape[1], upstream.shape[1], dtype=float64, requires_grad=True)
    (engine_tensor(weight) @ inputs).backward(engine_tensor(upstream))
    return inputs.grad.data


def _relu_grad(upstream: np.ndarray, pre_activation: np.ndarray) -> np.ndarray:
    leaf = engine_tensor(pre_activation, requires_grad=True)
    leaf.relu().backward(engine_tensor(upstream))
    return leaf.grad.data


# --- one entry written out, with the numbers as shown --------------------------------------


def _label(step: Step, index: tuple) -> str:
    return index_label(step.name, index, step.output.shape)


def _result(step: Step, index: tuple, show: Show) -> str:
    return number_text(show(step.output[index]))


def _explain_affine(step: Step, index: tuple, show: Show) -> str:
    (w_name, w), (a_name, a), *bias = step.inputs.items()
    row = index[0]
    dot = products_text([show(v) for v in w[row]], [show(v) for v in a[:, 0]])
    text = f"{_label(step, index)} = row {row + 1} of {w_name} dotted with {a_name}"
    if bias:
        (b_name, b), = bias
        text += f", plus {index_label(b_name, index, b.shape)}"
        dot += f" + {factor_text(show(b[row, 0]))}"
    return f"{text} = {dot} = {_result(step, index, show)}"


def _explain_relu(step: Step, index: tuple, show: Show) -> str:
    (z_name, z), = step.inputs.items()
    return (f"{_label(step, index)} = max(0, {index_label(z_name, index, z.shape)}) = "
            f"max(0, {number_text(show(z[index]))}) = {_result(step, index, show)}")


def _explain_softmax(step: Step, index: tuple, show: Show) -> str:
    (z_name, z), = step.inputs.items()
    terms = " + ".join(f"exp({number_text(show(v))})" for v in z[:, 0])
    return (f"{_label(step, index)} = exp({index_label(z_name, index, z.shape)}) / Σⱼ exp({z_name}[j]) = "
            f"exp({number_text(show(z[index]))}) / ({terms}) = {_result(step, index, show)}")


def _explain_mse(step: Step, index: tuple, show: Show) -> str:
    (p_name, prediction), (y_name, target) = step.inputs.items()
    differences = (engine_tensor(prediction) - engine_tensor(target)).data.ravel()
    n = len(differences)
    squares = " + ".join(f"{factor_text(show(d))}²" for d in differences)
    return f"L = (1/{n})·Σᵢ ({p_name}ᵢ − {y_name}ᵢ)² = (1/{n})·({squares}) = {_result(step, index, show)}"


def _explain_cross_entropy(step: Step, index: tuple, show: Show) -> str:
    (z_name, z), (y_name, classes) = step.inputs.items()
    k, logits = int(classes.ravel()[0]), z.ravel()
    terms = " + ".join(f"exp({number_text(show(v))})" for v in logits)
    return (f"L = −log softmax({z_name})[{k + 1}] ({y_name} = {k} numbers the classes from 0, as PyTorch does) = "
            f"−log(exp({number_text(show(logits[k]))}) / ({terms})) = {_result(step, index, show)}")


def _explain_mse_grad(step: Step, index: tuple, show: Show) -> str:
    (p_name, prediction), (y_name, target) = step.inputs.items()
    n = target.size
    return (f"{_label(step, index)} = 2·({index_label(p_name, index, prediction.shape)} − "
            f"{index_label(y_name, index, target.shape)})/{n} = 2·({number_text(show(prediction[index]))} - "
            f"{factor_text(show(target[index]))})/{n} = {_result(step, index, show)}")


def _explain_ce_grad(step: Step, index: tuple, show: Show) -> str:
    (p_name, probabilities), (y_name, onehot) = step.inputs.items()
    return (f"{_label(step, index)} = {index_label(p_name, index, probabilities.shape)} − "
            f"{index_label(y_name, index, onehot.shape)} = {number_text(show(probabilities[index]))} - "
            f"{factor_text(show(onehot[index]))} = {_result(step, index, show)}")


def _explain_weight_grad(step: Step, index: tuple, show: Show) -> str:
    (u_name, upstream), (a_name, inputs) = step.inputs.items()
    i, j = index
    return (f"{_label(step, index)} = {index_label(u_name, (i, 0), upstream.shape)}·"
            f"{index_label(a_name, (j, 0), inputs.shape)} = {factor_text(show(upstream[i, 0]))}·"
            f"{factor_text(show(inputs[j, 0]))} = {_result(step, index, show)}")


def _explain_input_grad(step: Step, index: tuple, show: Show) -> str:
    (w_name, weight), (u_name, upstream) = step.inputs.items()
    j = index[0]
    dot = products_text([show(v) for v in weight[:, j]], [show(v) for v in upstream[:, 0]])
    return (f"{_label(step, index)} = column {j + 1} of {w_name} dotted with {u_name} = {dot} = "
            f"{_result(step, index, show)}")


def _explain_relu_grad(step: Step, index: tuple, show: Show) -> str:
    (u_name, upstream), (z_name, pre_activation) = step.inputs.items()
    active = 1 if pre_activation[index] > 0 else 0  # the engine's sign, even where the shown value rounds to 0
    return (f"{_label(step, index)} = {index_label(u_name, index, upstream.shape)}·"
            f"1[{index_label(z_name, index, pre_activation.shape)} > 0] = {factor_text(show(upstream[index]))}·"
            f"{active} = {_result(step, index, show)}")


RULES: dict[str, Rule] = {
    "affine": Rule(_affine, _explain_affine),
    "relu": Rule(_relu, _explain_relu),
    "softmax": Rule(_softmax, _explain_softmax),
    "mse": Rule(_mse, _explain_mse),
    "mse_grad": Rule(_mse_grad, _explain_mse_grad),
    "cross_entropy": Rule(_cross_entropy, _explain_cross_entropy),
    "ce_grad": Rule(_ce_grad, _explain_ce_grad),
    "weight_grad": Rule(_weight_grad, _explain_weight_grad),
    "input_grad": Rule(_input_grad, _explain_input_grad),
    "relu_grad": Rule(_relu_grad, _explain_relu_grad),
}
"""Every rule by name."""
