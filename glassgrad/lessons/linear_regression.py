"""Univariate linear regression by batch gradient descent: the textbook rule, and backprop.

The model is a line ``h(x) = w₀ + w₁·x``; the textbook update over a batch of N samples is

    w₀ ← w₀ + α Σⱼ (yⱼ − h(xⱼ))
    w₁ ← w₁ + α Σⱼ (yⱼ − h(xⱼ))·xⱼ

This is gradient descent, ``w ← w − α·∂L/∂w``, on the loss ``L = ½ Σⱼ (yⱼ − h(xⱼ))²``
(half the sum of squared errors), because ``∂L/∂w₀ = −Σ(y − h(x))`` and
``∂L/∂w₁ = −Σ(y − h(x))·x``: the minus sign of the gradient turns ``−α·∂L/∂w`` into
``+α Σ(…)``. With PyTorch's default ``mse_loss`` (the *mean*, ``(1/N) Σ (y − h)²``) the
gradient is ``2/N`` times this one, so the same steps need ``η = α·N/2``.

This lesson computes ``L = ½ · mse_loss(h, y, reduction="sum")`` with glassgrad, lets
backprop find the gradients, updates with ``SGD(lr=α)``, and shows that the textbook
sums give the same new weights.

>>> document = run()
>>> document["lesson"]["max_difference"] < 1e-12
True
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..creation import tensor
from ..data import linear_regression_1d
from ..nn.functional import mse_loss
from ..optim import SGD
from ..tensor import Tensor, float64
from ..trace import counting, trace

N_SAMPLES = 5
ALPHA = 0.05
STEPS = 200
SEED = 0
START = (0.5, 0.5)
"""The initial guess ``(w₀, w₁)``: a line that is off, so every column of the sums table says something."""


def half_sse(w0: Tensor, w1: Tensor, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``h = w₀ + w₁·x``, ``SSE = Σ (h − y)²`` and ``L = ½·SSE``; returns ``(w₁·x, h, SSE, L)``."""
    slope_term = w1 * x
    prediction = w0 + slope_term
    sse = mse_loss(prediction, y, reduction="sum")
    return slope_term, prediction, sse, 0.5 * sse


def run(alpha: float = ALPHA, steps: int = STEPS, n_samples: int = N_SAMPLES, seed: int = SEED) -> dict:
    """One traced step of batch gradient descent, the textbook rule beside it, then ``steps`` more."""
    data = linear_regression_1d(n_samples=n_samples, seed=seed)
    x, y = (t.to(float64) for t in data.tensors)
    w0 = tensor(START[0], dtype=float64, requires_grad=True)
    w1 = tensor(START[1], dtype=float64, requires_grad=True)
    optimizer = SGD([w0, w1], lr=alpha)
    with trace() as tape:
        for value, label in ((w0, "w₀"), (w1, "w₁"), (x, "x"), (y, "y")):
            tape.name(value, label)
        slope_term, prediction, sse, loss = half_sse(w0, w1, x, y)
        for value, label in ((prediction, "h(x)"), (sse, "SSE"), (loss, "L")):
            tape.name(value, label)
        loss.backward()
        gradients = (w0.grad.item(), w1.grad.item())
        old = (w0.item(), w1.item())
        optimizer.step()
    document = tape.describe(title="linear regression by batch gradient descent, traced")
    for key in ("parameters", "symbols", "gradients"):  # w₀ first, as the textbook writes them
        document[key] = {name: document[key][name] for name in ("w₀", "w₁")}
    document["loss"] = {"name": "half_sse", "symbol": "L", "value": loss.item(), "reduction": "½ · sum",
                        "formula": "L = ½ Σⱼ (yⱼ − h(xⱼ))²"}

    # the textbook rule, from the traced forward values
    h, targets, inputs = prediction.array[:, 0], y.array[:, 0], x.array[:, 0]
    errors = targets - h
    textbook = (old[0] + alpha * errors.sum(), old[1] + alpha * (errors * inputs).sum())
    backprop = (w0.item(), w1.item())
    rows = [[str(counting.number(j)), inputs[j], targets[j], h[j], errors[j], errors[j] * inputs[j]]
            for j in range(len(h))]
    rows.append(["Σ", inputs.sum(), targets.sum(), h.sum(), errors.sum(), (errors * inputs).sum()])
    comparison = [
        ["w₀", "w₀ + α Σ(y − h(x))", textbook[0], gradients[0], "w₀ − α·∂L/∂w₀", backprop[0]],
        ["w₁", "w₁ + α Σ(y − h(x))·x", textbook[1], gradients[1], "w₁ − α·∂L/∂w₁", backprop[1]],
    ]
    for _ in range(steps - 1):
        optimizer.zero_grad()
        half_sse(w0, w1, x, y)[3].backward()
        optimizer.step()
    with no_grad():
        final_loss = half_sse(w0, w1, x, y)[3].item()
    document["tables"] = [
        {"title": "The textbook sums, sample by sample", "intro": f"h(x) = w₀ + w₁·x with w₀ = {old[0]:g}, "
         f"w₁ = {old[1]:g}", "columns": ["j", "xⱼ", "yⱼ", "h(xⱼ)", "yⱼ − h(xⱼ)", "(yⱼ − h(xⱼ))·xⱼ"], "rows": rows},
        {"title": "One update: the textbook rule and backprop agree",
         "intro": f"α = {alpha:g}; backprop's gradient of L = ½ Σ (y − h(x))² is minus the textbook sum",
         "columns": ["weight", "textbook rule", "new value", "backprop ∂L/∂w", "SGD rule", "new value (SGD)"],
         "rows": comparison},
    ]
    document["lesson"] = {"name": "linear-regression", "alpha": alpha, "old": list(old), "gradients": list(gradients),
                          "error_sums": [float(errors.sum()), float((errors * inputs).sum())],
                          "textbook": list(textbook), "backprop": list(backprop),
                          "max_difference": float(np.max(np.abs(np.subtract(textbook, backprop)))),
                          "steps": steps, "final": [w0.item(), w1.item()], "final_loss": final_loss}
    document["summary"] = [
        {"label": "loss used", "value": "L = ½ Σⱼ (yⱼ − h(xⱼ))²  (half the sum of squared errors)"},
        {"label": "Σ (y − h(x)) and Σ (y − h(x))·x", "value": np.array(document["lesson"]["error_sums"])},
        {"label": "backprop: ∂L/∂w₀, ∂L/∂w₁ (minus those sums)", "value": np.array(gradients)},
        {"label": "new w₀, w₁ by the textbook rule", "value": np.array(textbook)},
        {"label": "new w₀, w₁ by SGD on backprop's gradients", "value": np.array(backprop)},
        {"label": f"after {steps} steps: w₀, w₁", "value": np.array([w0.item(), w1.item()])},
        {"label": f"after {steps} steps: L", "value": final_loss},
    ]
    document["explanation"] = [
        "The textbook writes batch gradient descent for a line as w₀ ← w₀ + α Σ(y − h(x)) and "
        "w₁ ← w₁ + α Σ(y − h(x))·x. Backprop computes ∂L/∂w for L = ½ Σ (y − h(x))², and "
        "∂L/∂w₀ = −Σ(y − h(x)), ∂L/∂w₁ = −Σ(y − h(x))·x: the same sums with the opposite sign, so "
        "gradient descent, w ← w − η·∂L/∂w with η = α, is exactly the textbook rule.",
        "Scale: with the mean squared error (1/N) Σ (y − h)² the gradient is 2/N times larger; the same "
        f"steps then need a learning rate η = α·N/2 = {alpha * len(h) / 2:g}.",
        "Where a gradient reaches w₀ (a single number) from all N samples, the engine sums the N "
        "contributions: that sum is the Σ of the textbook rule.",
    ]
    return document
