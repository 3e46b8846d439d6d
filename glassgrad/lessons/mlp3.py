"""The lesson's 3-layer MLP in the lesson's own form: from ``ŷ = [0.5, 0.5, 0]`` back to ``∂L/∂W₁``.

The network (:func:`lesson_model`, float64, :data:`LESSON_WEIGHTS`) is ``4 → 4 → 4 → 3``::

    Z₁ = W₁·X + b₁    A₁ = ReLU(Z₁)    Z₂ = W₂·A₁ + b₂    A₂ = ReLU(Z₂)    Z₃ = W₃·A₂ + b₃
    ŷ = softmax(Z₃)   L = −log ŷ[y]    (cross-entropy of one sample: its mean over a batch of 1)

The lesson starts from a given prediction ``ŷ = [0.5, 0.5, 0]`` and target ``y = [0, 1, 0]``; softmax
and cross-entropy together have the gradient

    ∂L/∂Z₃ = ŷ − y = [0.5, −0.5, 0]

and from there, layer by layer: ``∂L/∂[W₃ | b₃] = ∂L/∂Z₃·[A₂ | 1]`` (the by-hand sheets' layout:
the bias is one more column of the weights, met by a 1 appended to the layer's input), the ReLU
masks, ``∂L/∂A₁ = W₂ᵀ·∂L/∂Z₂`` and so on down to ``∂L/∂W₁ = ∂L/∂Z₁·Xᵀ``.

A softmax never gives exactly 0, so no network makes that ŷ: :func:`run` works the lesson with the
*given* values, by the engine (its subtraction gives ``ŷ − y``; ``Z₃.backward(∂L/∂Z₃)``, its own
backward pass started from that given gradient, gives every other gradient), and beside it runs the
*real* network, whose softmax ``[0.499997, 0.499997, 0.000006]`` rounds to ``[0.5, 0.5, 0]`` at the
4 decimals the traces show, with cross-entropy's own backward.

>>> document = run()
>>> document["lesson"]["output_gradient"]
[0.5, -0.5, 0.0]
"""

from __future__ import annotations

import numpy as np

from ..creation import ones, tensor
from ..functions import cat
from ..nn import Linear, ReLU, Sequential
from ..nn.functional import cross_entropy, linear
from ..ops import softmax_array
from ..optim import SGD
from ..tensor import Tensor, float64, int64
from ..trace import counting, trace
from ..trace.numbers import DECIMALS, rounded_text
from .worked_step import traced_step

SIZES = [4, 4, 4, 3]
INPUT = [1.0, 0.5, -1.0, 2.0]
TARGET_CLASS = 1
"""The code's index of the true class (class 2 of 3, counting from 1): ``y = [0, 1, 0]``."""
GIVEN_PREDICTION = [0.5, 0.5, 0.0]
"""The lesson's prediction, given (a softmax cannot make the exact 0)."""
LEARNING_RATE = 0.1

LESSON_WEIGHTS = {
    "0.weight": [[0.5, 0.2, 0.1, 0.3],
                 [-0.4, 1.0, 0.6, 0.1],
                 [0.8, -0.2, -0.5, 0.2],
                 [0.1, 0.4, 0.3, 0.2]],
    "0.bias": [0.1, -0.2, 0.0, 0.1],
    "2.weight": [[0.5, 0.3, 0.25, -0.2],
                 [0.5, 0.5, 0.75, 0.6],
                 [-0.5, 0.2, -0.5, 0.4],
                 [0.25, -0.3, 0.25, 0.6]],
    "2.bias": [0.1, -0.1, 0.2, 0.0],
    "4.weight": [[1.0, 0.5, 0.4, -0.2],
                 [0.5, 0.8, 0.3, -0.1],
                 [-1.0, -2.0, 0.5, -1.5]],
    "4.bias": [0.2, 0.0, -3.5],
}
"""Simple decimals chosen so that the network's scores are ``Z₃ = [2, 2, −10]``, whose softmax rounds to the
lesson's ``[0.5, 0.5, 0]``: ``Z₁ = [1.2, −0.5, 1.6, 0.5]`` (hidden unit 2 off), ``A₁ = [1.2, 0, 1.6, 0.5]``;
``Z₂ = [1, 2, −1, 1]`` (unit 3 off), ``A₂ = [1, 2, 0, 1]``; then ``1 + 1 − 0.2 + 0.2 = 2``, ``0.5 + 1.6 − 0.1 = 2``
and ``−1 − 4 − 1.5 − 3.5 = −10``."""


def lesson_model() -> Sequential:
    """The 4→4→4→3 ReLU network in float64 with :data:`LESSON_WEIGHTS` loaded."""
    model = Sequential(Linear(4, 4, dtype=float64), ReLU(), Linear(4, 4, dtype=float64), ReLU(),
                       Linear(4, 3, dtype=float64))
    model.load_state_dict({name: tensor(values, dtype=float64) for name, values in LESSON_WEIGHTS.items()})
    return model


def one_hot_target() -> Tensor:
    """``y`` as the lesson writes it, one-hot: ``[[0, 1, 0]]``."""
    return tensor([np.eye(SIZES[-1])[TARGET_CLASS]], dtype=float64)


def given_values_trace(learning_rate: float = LEARNING_RATE) -> tuple[dict, Tensor]:
    """The lesson's form: ``∂L/∂Z₃ = ŷ − y`` from the given values, then the engine's backward from it.

    Returns the trace document (forward through the network, backward from the given ``∂L/∂Z₃``,
    one SGD step) and ``∂L/∂Z₃``.
    """
    model = lesson_model()
    x = tensor([INPUT], dtype=float64)
    output_gradient = tensor([GIVEN_PREDICTION], dtype=float64) - one_hot_target()  # the engine's ŷ − y
    optimizer = SGD(model.parameters(), lr=learning_rate)
    with trace(model) as tape:
        tape.name(x, "X")
        scores = model(x)
        scores.backward(output_gradient)  # backward from the given ∂L/∂Z₃, not from a loss
        optimizer.step()
    title = "mlp3: the lesson's 3-layer MLP, from ŷ = [0.5, 0.5, 0] back to ∂L/∂W₁"
    return tape.describe(title=title, gradient_of="L"), output_gradient


def bias_column(inputs: np.ndarray, weight: np.ndarray, bias: np.ndarray,
                upstream: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[a | 1]`` and ``∂L/∂[W | b]`` of one layer, by the engine's backward of the layer written that way.

    ``z = [W | b]·[a | 1]`` is the same layer (the 1 meets the bias); its backward from ``∂L/∂z`` gives
    ``∂L/∂[W | b] = ∂L/∂z·[a | 1]``: ``∂L/∂W`` and, in the last column, ``∂L/∂b``.
    """
    augmented = cat([tensor(inputs, dtype=float64), ones(len(inputs), 1, dtype=float64)], dim=1)
    weights = tensor(np.column_stack([weight, bias]), dtype=float64, requires_grad=True)  # [W | b], as given
    linear(augmented, weights).backward(tensor(upstream, dtype=float64))
    return augmented.numpy(), weights.grad.numpy()


def _bias_column_table(document: dict) -> dict:
    """The table of ``[a | 1]`` and ``∂L/∂[W | b]`` for every layer of a trace, from the output layer down."""
    name_of = {symbol: name for name, symbol in document["symbols"].items()}
    rows = []
    for step in (step for step in document["backward"] if step.get("role") == "weight"):
        upstream, source = step["inputs"]
        bias_step = next(other for other in document["backward"]
                         if other.get("role") == "bias" and other["upstream"]["symbol"] == upstream["symbol"])
        weight, bias = step["output"]["of"], bias_step["output"]["of"]
        augmented, gradient = bias_column(source["values"], document["parameters"][name_of[weight]],
                                          document["parameters"][name_of[bias]], upstream["values"])
        rows += [[f"[{source['symbol']} | 1]", augmented], [upstream["symbol"], upstream["values"]],
                 [f"∂L/∂[{weight} | {bias}] = {upstream['symbol']}·[{source['symbol']} | 1]", gradient]]
    return {
        "title": "The bias as a column of ones: [a | 1]",
        "intro": "by hand, each layer's input gets a 1 appended, [a | 1], and the bias becomes the last column of "
                 "the weights, [W | b]: then z = [W | b]·[a | 1], and one product ∂L/∂z·[a | 1] gives ∂L/∂W and, in "
                 "its last column (the one the 1 meets), ∂L/∂b. The numbers are the engine's backward of each layer "
                 "written that way; they equal the gradients above",
        "columns": ["quantity", "value"],
        "rows": rows,
    }


def real_network(learning_rate: float = LEARNING_RATE) -> dict:
    """The same network with its real softmax and cross-entropy: one traced step (forward, backward, update)."""
    model = lesson_model()
    x = tensor([INPUT], dtype=float64)
    target = tensor([TARGET_CLASS], dtype=int64)
    optimizer = SGD(model.parameters(), lr=learning_rate)
    tape, scores, loss, new_loss = traced_step(model, cross_entropy, x, target, optimizer)
    document = tape.describe(title="mlp3: the real network, softmax and cross-entropy, traced")
    probabilities = softmax_array(scores.numpy(), 1)[0]
    document["lesson"] = {"scores": scores.numpy()[0].tolist(), "probabilities": probabilities.tolist(),
                          "rounded": [float(rounded_text(p, DECIMALS)) for p in probabilities], "loss": loss.item(),
                          "new_loss": new_loss}
    return document


def _real_network_table(real: dict, given: dict, learning_rate: float) -> dict:
    numbers = real["lesson"]
    largest = max(float(np.max(np.abs(np.asarray(real["gradients"][name]) - given["gradients"][name])))
                  for name in given["gradients"])
    return {
        "title": f"The real network: softmax(Z₃) rounds to [0.5, 0.5, 0] at {DECIMALS} decimals",
        "intro": "the same weights and input, with the engine's softmax and cross-entropy and their own backward",
        "columns": ["quantity", "value"],
        "rows": [
            ["scores Z₃", np.array(numbers["scores"])],
            ["ŷ = softmax(Z₃) (full precision in JSON)", np.array(numbers["probabilities"])],
            [f"ŷ rounded to {DECIMALS} decimals", np.array(numbers["rounded"])],
            ["loss L = −log ŷ[y] (cross-entropy, mean over a batch of 1)", numbers["loss"]],
            ["∂L/∂Z₃ = ŷ − onehot(y) (cross-entropy's backward)", real["backward"][0]["output"]["values"]],
            ["largest |gradient here − gradient from the given values|, all 6 parameters", largest],
            [f"loss after one update (η = {learning_rate:g})", numbers["new_loss"]],
        ],
    }


def run(learning_rate: float = LEARNING_RATE) -> dict:
    """The given-values trace (the lesson's form) with the ``[a | 1]`` table and the real network beside it."""
    document, output_gradient = given_values_trace(learning_rate)
    real = real_network(learning_rate)
    onehot = one_hot_target().numpy()[0]
    target = counting.ordinal_with_code("class", TARGET_CLASS)
    document["real_network"] = real
    document["tables"] = [_bias_column_table(document),
                          _real_network_table(real, document, learning_rate)]
    document["lesson"] = {"name": "mlp3", "input": INPUT, "target_class": TARGET_CLASS, "target": onehot.tolist(),
                          "given_prediction": GIVEN_PREDICTION, "output_gradient": output_gradient.numpy()[0].tolist(),
                          "learning_rate": learning_rate, "real": real["lesson"]}
    document["summary"] = [
        {"label": "input X", "value": np.array(INPUT)},
        {"label": "given prediction ŷ (the lesson's; a softmax never gives exactly 0)",
         "value": np.array(GIVEN_PREDICTION)},
        {"label": f"target y: {target}, one-hot", "value": onehot},
        {"label": "∂L/∂Z₃ = ŷ − y (the engine's subtraction of the given values)",
         "value": output_gradient.numpy()[0]},
        {"label": "loss convention", "value": "cross-entropy of one sample, L = −log ŷ[y] (PyTorch's mean over a "
                                              "batch of 1)"},
        {"label": f"the real network's softmax(Z₃), rounded to {DECIMALS} decimals",
         "value": np.array(real["lesson"]["rounded"])},
    ]
    document["notes"] = [*document["notes"], "The backward pass starts from the given ∂L/∂Z₃ (the engine's "
                         "Z₃.backward(∂L/∂Z₃)), so it has no loss step; the real network's trace, loss step "
                         "included, is under real_network in the JSON."]
    document["explanation"] = [
        "The lesson's 3-layer MLP, worked in the lesson's form. The prediction ŷ = [0.5, 0.5, 0] and the target "
        f"y = [0, 1, 0] ({target.replace(' (', ', ').rstrip(')')}) are given, as the lesson gives them. "
        "A softmax never outputs exactly 0, so no "
        "network makes this ŷ: the numbers below are worked from the given values, and the last table shows the "
        "real network (the same weights), whose softmax rounds to [0.5, 0.5, 0].",
        "Softmax and cross-entropy together have the gradient ∂L/∂Z₃ = ŷ − y = [0.5, −0.5, 0]: the engine "
        "subtracts the given values, then Z₃.backward(∂L/∂Z₃), the engine's own backward pass started from that "
        "given gradient instead of from a loss, computes every other gradient: ∂L/∂W₃ = ∂L/∂Z₃·A₂ᵀ, "
        "∂L/∂b₃ = ∂L/∂Z₃, ∂L/∂A₂ = W₃ᵀ·∂L/∂Z₃, the ReLU masks, and so on down to ∂L/∂W₁ = ∂L/∂Z₁·Xᵀ.",
        "By hand the bias is written as one more column of the weights, met by a 1 appended to the layer's input: "
        "[a₂ | 1]. Then ∂L/∂[W₃ | b₃] = ∂L/∂Z₃·[A₂ | 1], whose last column is ∂L/∂b₃ (the table 'The bias as a "
        "column of ones: [a | 1]').",
        f"Update: every weight moves against its gradient, W ← W − η·∂L/∂W with η = {learning_rate:g}, which raises "
        "the score of the true class and lowers the others.",
    ]
    return document
