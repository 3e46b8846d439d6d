"""A 3-layer MLP with ReLU, softmax and cross-entropy, traced step by step.

The network is ``gg.nn.mlp([4, 4, 4, 3], seed=0)`` in float64::

    Z₁ = W₁·X + b₁    A₁ = ReLU(Z₁)    Z₂ = W₂·A₁ + b₂    A₂ = ReLU(Z₂)    Z₃ = W₃·A₂ + b₃
    ŷ = softmax(Z₃)   L = −log ŷ[y]    (cross-entropy of the true class y)

Backward, the softmax and the cross-entropy fold into one famous step,

    ∂L/∂Z₃ = ŷ − y        (y one-hot; divided by N for a batch of N samples)

and then, layer by layer: ``∂L/∂W₃ = ∂L/∂Z₃·A₂ᵀ``, ``∂L/∂b₃ = ∂L/∂Z₃``,
``∂L/∂A₂ = W₃ᵀ·∂L/∂Z₃``, the ReLU mask ``∂L/∂Z₂ = ∂L/∂A₂ ⊙ 1[Z₂ > 0]``, and so on down to
``∂L/∂W₁ = ∂L/∂Z₁·Xᵀ``. Last, one gradient-descent step with η = 0.1.

>>> document = run()
>>> document["loss"]["name"]
'cross_entropy'
"""

from __future__ import annotations

import numpy as np

from ..creation import tensor
from ..nn import mlp
from ..nn.functional import cross_entropy
from ..ops import softmax_array
from ..optim import SGD
from ..tensor import float64, int64
from .worked_step import traced_step

SIZES = [4, 4, 4, 3]
SEED = 0
INPUT = [0.5, -1.0, 2.0, 0.3]
TARGET_CLASS = 1
LEARNING_RATE = 0.1


def run(learning_rate: float = LEARNING_RATE) -> dict:
    """Trace one sample through forward, backward and one SGD step; the document of it."""
    model = mlp(SIZES, seed=SEED).double()
    x = tensor([INPUT], dtype=float64)
    target = tensor([TARGET_CLASS], dtype=int64)
    optimizer = SGD(model.parameters(), lr=learning_rate)
    tape, logits, loss, new_loss = traced_step(model, cross_entropy, x, target, optimizer)
    probabilities = softmax_array(logits.array, 1)[0]
    document = tape.describe(title="mlp3: a 3-layer MLP with softmax and cross-entropy, traced")
    onehot = np.eye(SIZES[-1])[TARGET_CLASS]
    document["lesson"] = {"name": "mlp3", "input": INPUT, "target_class": TARGET_CLASS,
                          "logits": logits.array[0].tolist(), "probabilities": probabilities.tolist(),
                          "loss": loss.item(), "learning_rate": learning_rate, "new_loss": new_loss}
    document["summary"] = [
        {"label": "input X", "value": np.array(INPUT)},
        {"label": f"true class y = {TARGET_CLASS} (one-hot)", "value": onehot},
        {"label": "scores Z₃", "value": logits.array[0]},
        {"label": "ŷ = softmax(Z₃)", "value": probabilities},
        {"label": "loss L = −log ŷ[y]", "value": loss.item()},
        {"label": "∂L/∂Z₃ = ŷ − y", "value": probabilities - onehot},
        {"label": f"loss after one update (η = {learning_rate:g})", "value": new_loss},
    ]
    document["explanation"] = [
        "Forward: two hidden layers, each a linear map followed by ReLU, then a linear output layer whose "
        "three scores Z₃ become probabilities ŷ = softmax(Z₃). The loss is the cross-entropy −log ŷ[y].",
        "Backward: softmax and cross-entropy together have the simple gradient ∂L/∂Z₃ = ŷ − y: the "
        "predicted probabilities minus the one-hot target. From there each layer repeats the same pattern: "
        "∂L/∂W = ∂L/∂Z·Aᵀ, ∂L/∂b = ∂L/∂Z, ∂L/∂A(previous) = Wᵀ·∂L/∂Z, and each ReLU lets the gradient "
        "through only where its input was positive (the mask).",
        "Update: every weight moves against its gradient, W ← W − η·∂L/∂W, which raises the score of the "
        "true class and lowers the others.",
    ]
    return document
