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
``show`` writes them, ending in ``= value``, written by the glass box's one per-entry explainer
(:mod:`glassgrad.trace.explain`, which the playground's click-to-explain uses too); each rule
names the pattern of its entries (a weighted sum, a product, entry by entry, or whole).

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

from .. import ops
from ..creation import zeros
from ..nn.functional import cross_entropy, mse_loss
from ..tensor import float64
from ..trace import explain
from ..trace.explain import Entry, Operand, Writer
from .numbers import engine_tensor, factor_text, number_text

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


# --- one entry written out, with the numbers as shown (the glass box's per-entry explainer) -------


def _vector(values: np.ndarray) -> np.ndarray:
    """A column (one sample, as the sheet shows it) as the vector the explainer reads."""
    return values[:, 0] if values.ndim == 2 and values.shape[1] == 1 else values


def _written(step: Step, index: tuple, show: Show) -> tuple[Operand, tuple, list[Operand], Writer]:
    out = Operand(step.name, _vector(step.output))
    index = index[:1] if np.ndim(out.values) == 1 else index
    operands = [Operand(name, _vector(values)) for name, values in step.inputs.items()]
    writer = Writer(base=1, factor=lambda value: factor_text(show(value)),
                    result=lambda value: number_text(show(value)))
    return out, index, operands, writer


def _explainer(pattern: Callable[[Operand, tuple, list[Operand], Writer], Entry]) -> Callable[[Step, tuple, Show], str]:
    def explain(step: Step, index: tuple, show: Show) -> str:
        out, index, operands, writer = _written(step, index, show)
        return pattern(out, index, operands, writer).text(writer)

    return explain


def _affine_entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
    weight, vector, *bias = inputs
    return explain.weighted_sum(out, index, weight, vector, writer, bias[0] if bias else None)


def _relu_entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
    return explain.entrywise(out, index, ops.RELU.written.format(a=inputs[0].symbol), inputs, writer)


def _softmax_entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
    return explain.whole(out, index, writer.entry(f"softmax({inputs[0].symbol})", index), inputs, writer)


def _mse_entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
    prediction, target = inputs
    item = ops.MSE_LOSS.loss.item.format(input=prediction.symbol, target=target.symbol)  # the row's own item
    return explain.loss_items(out, ops.MSE_LOSS, {"input": prediction, "target": target}, "mean", writer,
                              f"(1/{target.values.size})·Σᵢ {item}")


def _cross_entropy_entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
    logits, classes = inputs
    formula = f"−log softmax({logits.symbol})[{classes.symbol}]"
    return explain.whole(out, (), formula, [logits, Operand(classes.symbol, np.ravel(classes.values))], writer)


def _mse_grad_entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
    prediction, target = inputs  # the row's gradient of one item, over the n items of the mean
    gradient = ops.MSE_LOSS.loss.gradient.format(input=prediction.symbol, target=target.symbol)
    return explain.entrywise(out, index, f"{gradient}/{target.values.size}", inputs, writer)


def _ce_grad_entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
    probabilities, onehot = inputs
    return explain.entrywise(out, index, f"{probabilities.symbol} − {onehot.symbol}", inputs, writer)


def _weight_grad_entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
    upstream, vector = inputs
    return explain.product(out, index, [(upstream, index[:1]), (vector, index[1:])], writer)


def _input_grad_entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
    weight, upstream = inputs
    return explain.weighted_sum(out, index, weight, upstream, writer, along="column")


def _relu_grad_entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
    upstream, pre_activation = inputs  # the row's local derivative of the engine's Z, even where Z shows as 0
    local = ops.RELU.local((pre_activation.values,), np.maximum(pre_activation.values, 0), ())[0]
    symbol = f"{ops.RELU.symbol}'({pre_activation.symbol})"
    note = f"{symbol} = {ops.RELU.derivative_text(0, {'a': pre_activation.symbol})}"
    return explain.product(out, index, [(upstream, index), (Operand(symbol, local), index)], writer, note)


RULES: dict[str, Rule] = {
    "affine": Rule(_affine, _explainer(_affine_entry)),
    "relu": Rule(_relu, _explainer(_relu_entry)),
    "softmax": Rule(_softmax, _explainer(_softmax_entry)),
    "mse": Rule(_mse, _explainer(_mse_entry)),
    "mse_grad": Rule(_mse_grad, _explainer(_mse_grad_entry)),
    "cross_entropy": Rule(_cross_entropy, _explainer(_cross_entropy_entry)),
    "ce_grad": Rule(_ce_grad, _explainer(_ce_grad_entry)),
    "weight_grad": Rule(_weight_grad, _explainer(_weight_grad_entry)),
    "input_grad": Rule(_input_grad, _explainer(_input_grad_entry)),
    "relu_grad": Rule(_relu_grad, _explainer(_relu_grad_entry)),
}
"""Every rule by name."""
