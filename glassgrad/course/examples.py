"""The chapters' worked examples, computed live by glassgrad's engine each time they are shown.

Each example is a function with no arguments that returns ``{"title": …, "rows": [[label, value], …]}``
(values as text), small enough to print in a terminal and to send as JSON to the page;
:func:`worked_example` adds ``"precision"``, what the rounding of its numbers is (:data:`PRECISION`). A
chapter file names its example by key of :data:`EXAMPLES`. Every number comes from a forward
and backward pass of glassgrad (float64), not from a formula typed here; where a formula is
shown beside it, it is the check a learner can do by hand.

>>> rows = worked_example("slope-three-cases")["rows"]
>>> rows[0]
['w = 1', 'L = 4, ∂L/∂w = -4 (negative: raise w)']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..creation import tensor
from ..tensor import float64
from ..trace import counting
from ..trace.numbers import rounded_text

VALLEY = 3.0
"""The minimum of the one-weight loss L(w) = (w − 3)² used by the first chapters."""
LEARNING_RATES = (0.001, 0.1, 1.0, 10.0)
PRECISION = "Numbers: glassgrad's own, rounded for display to at most 6 significant digits."
"""What a learner is told about the examples' numbers: every one is written with 6 significant digits or fewer
(:func:`~glassgrad.trace.numbers.rounded_text`: an exact half rounded away from zero, 0.53125 as 0.5313)."""


def _number(value: float) -> str:
    return rounded_text(value, 6, "g")


def _vector(values: Any) -> str:
    return "[" + ", ".join(rounded_text(v, 4, "g") for v in np.asarray(values, dtype=float).ravel()) + "]"


def _valley_slope(w: float) -> tuple[float, float]:
    """L(w) = (w − 3)² and ∂L/∂w, from glassgrad's forward and backward pass."""
    weight = tensor(w, dtype=float64, requires_grad=True)
    loss = (weight - VALLEY) ** 2
    loss.backward()
    return loss.item(), weight.grad.item()


def slope_three_cases() -> dict:
    """The three signs of a slope on L(w) = (w − 3)²: left of the valley, at it, right of it."""
    advice = {-1: "negative: raise w", 0: "zero: flat, leave w", 1: "positive: lower w"}
    rows = []
    for w in (1.0, 3.0, 5.0):
        loss, slope = _valley_slope(w)
        rows.append([f"w = {_number(w)}", f"L = {_number(loss)}, ∂L/∂w = {_number(slope)} "
                                          f"({advice[int(np.sign(slope))]})"])
    rows.append(["by hand", "∂L/∂w = 2·(w − 3)"])
    return {"title": "The slope of L(w) = (w − 3)² at three points", "rows": rows}


def _descend(w: float, rate: float, steps: int) -> list[tuple[float, float]]:
    """(w, L) before each of ``steps`` updates w ← w − η·∂L/∂w, and after the last."""
    path = []
    for _ in range(steps):
        loss, slope = _valley_slope(w)
        path.append((w, loss))
        w = w - rate * slope
    path.append((w, _valley_slope(w)[0]))
    return path


def descent_steps() -> dict:
    """Five gradient-descent steps on L(w) = (w − 3)² from w = 0 with η = 0.1."""
    path = _descend(0.0, 0.1, 5)
    rows = [[f"step {number}", f"w = {_number(w)}, L = {_number(loss)}"] for number, (w, loss) in enumerate(path)]
    rows.append(["rule", "w ← w − 0.1·2·(w − 3): each step closes 20% of the gap to 3"])
    return {"title": "Gradient descent on L(w) = (w − 3)², η = 0.1, from w = 0", "rows": rows}


def learning_rates() -> dict:
    """Ten steps from w = 0 with each of η = 0.001, 0.1, 1, 10."""
    rows = []
    for rate in LEARNING_RATES:
        path = _descend(0.0, rate, 10)
        w, loss = path[-1]
        rows.append([f"η = {rate:g}", f"after 10 steps w = {_number(w)}, L = {_number(loss)} "
                                      f"(started at L = {_number(path[0][1])})"])
    return {"title": "One start (w = 0), four learning rates, L(w) = (w − 3)²", "rows": rows}


def chain_factors() -> dict:
    """z = w·x, a = ReLU(z), L = (a − t)²: each local slope and their product, beside backward's ∂L/∂w."""
    w, x, t = 1.5, 2.0, 1.0
    weight = tensor(w, dtype=float64, requires_grad=True)
    z = weight * x
    a = z.relu()
    loss = (a - t) ** 2
    loss.backward()
    dl_da, da_dz, dz_dw = 2 * (a.item() - t), float(z.item() > 0), x
    return {"title": f"The chain z = w·x, a = ReLU(z), L = (a − t)² with w = {w:g}, x = {x:g}, t = {t:g}", "rows": [
        ["forward", f"z = {_number(z.item())}, a = {_number(a.item())}, L = {_number(loss.item())}"],
        ["∂L/∂a = 2·(a − t)", _number(dl_da)],
        ["∂a/∂z = ReLU′(z)", _number(da_dz)],
        ["∂z/∂w = x", _number(dz_dw)],
        ["product", _number(dl_da * da_dz * dz_dw)],
        ["glassgrad's backward pass: ∂L/∂w", _number(weight.grad.item())],
    ]}


def diagonal_flip() -> dict:
    """The lessons' 4→3→4 network: forward, loss and the gradients of the last layer, from glassgrad."""
    from ..lessons.diagonal_flip import lesson_model, sample
    from ..nn.functional import mse_loss

    model = lesson_model()
    x, y = sample()
    hidden = model[1](model[0](x))
    prediction = model[2](hidden)
    loss = mse_loss(prediction, y)
    loss.backward()
    first, last = model[0], model[2]
    dead = [i for i, v in enumerate(hidden.numpy()[0]) if v == 0]  # the code's indices, named through counting
    return {"title": "The diagonal flip, x = [1, 0, 1, 1] → y = [1, 1, 0, 1] (counting from 1)", "rows": [
        ["A₁ = ReLU(W₁·x + b₁)", _vector(hidden.numpy())],
        ["ŷ = W₂·A₁ + b₂", _vector(prediction.numpy())],
        ["L = mean((ŷ − y)²) over the 4 outputs (mse_loss)", rounded_text(loss.item(), 4)],
        ["∂L/∂ŷ = 2·(ŷ − y)/4", _vector(2 * (prediction.numpy() - y.numpy()) / 4)],
        ["∂L/∂b₂ (backward)", _vector(last.bias.grad.numpy())],
        ["switched-off hidden units (A₁ = 0)", ", ".join(counting.ordinal("unit", i) for i in dead) or "none"],
        ["their rows of ∂L/∂W₁", ", ".join(_vector(first.weight.grad.numpy()[i]) for i in dead) or "—"],
    ]}


def gradient_check() -> dict:
    """Backprop's 31 gradients against central differences: the passes each method needs and the gap."""
    from ..gradcheck import gradcheck
    from ..lessons.diagonal_flip import LESSON_WEIGHTS, loss_of_parameters

    parameters = [tensor(values, dtype=float64, requires_grad=True) for values in LESSON_WEIGHTS.values()]
    report = gradcheck(loss_of_parameters, parameters, eps=1e-6, atol=1e-8, rtol=1e-6)
    count = sum(p.numel() for p in parameters)
    return {"title": "Finite differences against backprop on the diagonal-flip network", "rows": [
        ["parameters", str(count)],
        ["finite differences", f"{report.forward_passes} forward passes (2 per parameter)"],
        ["backprop", "1 forward + 1 backward pass"],
        ["largest |backprop − numerical|", rounded_text(report.max_error, 1, "e")],
        ["verdict", "they agree" if report.ok else "they DISAGREE"],
    ]}


def softmax_gradient() -> dict:
    """One sample's softmax + cross-entropy: backward's ∂L/∂z beside ŷ − y."""
    from ..nn.functional import cross_entropy

    scores = tensor([[1.0, 2.0, 0.5]], dtype=float64, requires_grad=True)
    loss = cross_entropy(scores, tensor([1]))
    loss.backward()
    probabilities = scores.detach().softmax(-1).numpy()[0]
    target = np.array([0.0, 1.0, 0.0])
    return {"title": "Scores z = [1, 2, 0.5], the right class is the 2nd (y = [0, 1, 0])", "rows": [
        ["ŷ = softmax(z)", _vector(probabilities)],
        ["L = −log ŷ₂", rounded_text(loss.item(), 4)],
        ["ŷ − y", _vector(probabilities - target)],
        ["glassgrad's backward pass: ∂L/∂z", _vector(scores.grad.numpy())],
        ["Σ ∂L/∂z (0 up to rounding)", rounded_text(float(scores.grad.numpy().sum()), 1, "g")],
    ]}


def linear_regression() -> dict:
    """One batch step of h(x) = w₀ + w₁·x: the textbook rule with +α Σ (y − h(x)) beside backward's gradients."""
    from ..data import linear_regression_1d
    from ..lessons.linear_regression import ALPHA, N_SAMPLES, SEED, START, half_sse

    x, y = (t.to(float64) for t in linear_regression_1d(n_samples=N_SAMPLES, seed=SEED).tensors)
    w0 = tensor(START[0], dtype=float64, requires_grad=True)
    w1 = tensor(START[1], dtype=float64, requires_grad=True)
    _, prediction, _, loss = half_sse(w0, w1, x, y)
    loss.backward()
    residual = y.numpy() - prediction.detach().numpy()
    rule0 = START[0] + ALPHA * residual.sum()
    rule1 = START[1] + ALPHA * (residual * x.numpy()).sum()
    return {"title": f"{N_SAMPLES} points, start w₀ = {START[0]:g}, w₁ = {START[1]:g}, α = {ALPHA:g}, "
                     "L = ½ Σ (y − h(x))²", "rows": [
        ["Σ (y − h(x))", _number(residual.sum())],
        ["Σ (y − h(x))·x", _number((residual * x.numpy()).sum())],
        ["∂L/∂w₀, ∂L/∂w₁ (backward)", f"{_number(w0.grad.item())}, {_number(w1.grad.item())}"],
        ["w₀ + α Σ (y − h(x))", _number(rule0)],
        ["w₀ − α ∂L/∂w₀", _number(START[0] - ALPHA * w0.grad.item())],
        ["w₁ + α Σ (y − h(x))·x", _number(rule1)],
        ["w₁ − α ∂L/∂w₁", _number(START[1] - ALPHA * w1.grad.item())],
    ]}


def accumulation() -> dict:
    """The same backward pass twice without zero_grad: the gradient doubles."""
    weight = tensor(2.0, dtype=float64, requires_grad=True)
    rows = []
    for number in (1, 2):
        ((weight - VALLEY) ** 2).backward()
        rows.append([f"after backward() #{number}", f"w.grad = {_number(weight.grad.item())}"])
    weight.grad = None
    ((weight - VALLEY) ** 2).backward()
    rows.append(["after zero_grad and one more backward()", f"w.grad = {_number(weight.grad.item())}"])
    return {"title": "L(w) = (w − 3)² at w = 2: .grad adds up", "rows": rows}


def deep_gradients() -> dict:
    """First-layer gradient norms of a deep sigmoid and a deep ReLU network; then clipping to norm 1."""
    from ..lessons.depth import layer_gradient_norms, network
    from ..nn.utils import clip_grad_norm_

    rng = np.random.default_rng(0)
    inputs = tensor(rng.normal(size=(16, 8)), dtype=float64)
    targets = tensor(rng.integers(0, 4, size=16))
    sizes = [8] + [16] * 8 + [4]
    rows = []
    for activation in ("sigmoid", "relu"):
        model = network(sizes, seed=0, he_init=activation == "relu", activation=activation).to(float64)
        norms = layer_gradient_norms(model, inputs, targets)
        rows.append([f"{activation}: ‖∂L/∂W‖ first / last layer",
                     f"{rounded_text(norms[0], 2, 'e')} / {rounded_text(norms[-1], 2, 'e')} "
                     f"(ratio {rounded_text(norms[0] / norms[-1], 2, 'g')})"])
    gradient = tensor([3.0, 4.0], dtype=float64, requires_grad=True)
    (gradient * gradient / 2).sum().backward()
    before = clip_grad_norm_([gradient], max_norm=1.0)
    rows.append(["clip_grad_norm_(max_norm=1) on g = [3, 4]",
                 f"norm {_number(float(before))} → {_vector(gradient.grad.numpy())}"])
    return {"title": "Gradients through 9 layers, and clipping", "rows": rows}


def frozen_layer() -> dict:
    """Freeze the first layer of a 2→3→1 network, train the rest: the frozen weights do not move."""
    from ..nn import mlp
    from ..nn.functional import mse_loss
    from ..optim import SGD

    model = mlp([2, 3, 1], seed=1).to(float64)
    first, last = model[0], model[-1]
    first.weight.requires_grad_(False)
    first.bias.requires_grad_(False)
    before_first, before_last = first.weight.numpy().copy(), last.weight.numpy().copy()
    inputs = tensor([[1.0, 2.0], [0.5, -1.0], [-1.0, 1.0]], dtype=float64)
    targets = tensor([[1.0], [0.0], [0.5]], dtype=float64)
    optimizer = SGD([p for p in model.parameters() if p.requires_grad], lr=0.05)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = mse_loss(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {"title": "A 2→3→1 network with its first layer frozen, 20 SGD steps (η = 0.05)", "rows": [
        ["loss, first → last step", f"{rounded_text(losses[0], 4)} → {rounded_text(losses[-1], 4)}"],
        ["first layer's gradient", "None (requires_grad = False)" if first.weight.grad is None else "computed"],
        ["first layer's largest change", _number(np.abs(first.weight.numpy() - before_first).max())],
        ["last layer's largest change", rounded_text(np.abs(last.weight.numpy() - before_last).max(), 4, "g")],
    ]}


EXAMPLES: dict[str, Callable[[], dict]] = {
    "slope-three-cases": slope_three_cases,
    "descent-steps": descent_steps,
    "learning-rates": learning_rates,
    "chain-factors": chain_factors,
    "diagonal-flip": diagonal_flip,
    "gradient-check": gradient_check,
    "softmax-gradient": softmax_gradient,
    "linear-regression": linear_regression,
    "accumulation": accumulation,
    "deep-gradients": deep_gradients,
    "frozen-layer": frozen_layer,
}
"""Every worked example a chapter can name."""


def worked_example(key: str) -> dict:
    """The worked example ``key``, computed now, with the precision its numbers are written to."""
    if key not in EXAMPLES:
        raise ValueError(f"unknown worked example {key!r}; choose one of {', '.join(EXAMPLES)}")
    return {**EXAMPLES[key](), "precision": PRECISION}


def example_text(example: dict) -> str:
    """A worked example as aligned terminal text."""
    width = max(len(label) for label, _ in example["rows"])
    return "\n".join([example["title"]] + [f"  {label.ljust(width)}  {value}" for label, value in example["rows"]]
                     + [f"  {example['precision']}"])
