"""``gd-update`` and ``linear-regression-step`` problems: one step of gradient descent.

gd-update
    ``new w = w − η·g`` (g = ∂L/∂w) for a vector of ``size`` weights; the blank is one entry
    of w, g or new w, or the learning rate η itself. Solving for η uses an entry with
    ``g ≠ 0`` (the generator makes sure there is one), so every blank has one answer.
    Difficulty 1: integer w and g; 2: w in tenths; 3: w and g in tenths. The engine does the
    update (``w - lr * g`` on float64 tensors) and the rearranged forms that solve for a blank.

linear-regression-step
    One batch gradient-descent step of ``h(x) = w₀ + w₁·x`` on ``size`` points with the loss
    ``L = ½·Σⱼ (h(xⱼ) − yⱼ)²``, whose gradient gives the lessons' rule
    ``w₁ ← w₁ + α·Σⱼ (yⱼ − h(xⱼ))·xⱼ`` (and the same without ``·xⱼ`` for w₀). The blank is the new
    w₀ or the new w₁. The gradient comes from glassgrad's ``backward()`` of that loss.
    Difficulty 1 and 2 use integers (wider ranges at 2); 3 uses x and the weights in tenths.
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..trace import counting
from .numbers import (
    engine_tensor,
    exact,
    factor_text,
    fraction_array,
    number_text,
    products_text,
    seeded,
    stated_label,
)
from .problem import Blank, Problem, with_blank

LEARNING_RATES = {1: (0.1, 0.2, 0.5, 1.0), 2: (0.01, 0.05, 0.1, 0.2, 0.5), 3: (0.01, 0.05, 0.1, 0.25)}
REGRESSION_RATES = {1: (0.1, 0.05, 0.01), 2: (0.1, 0.05, 0.02, 0.01), 3: (0.1, 0.01)}


def gd_update(seed: int, size: int = 3, difficulty: int = 1) -> Problem:
    """``new w = w − η·g`` with one blank in w, η, g or new w."""
    rng = seeded(seed)
    weight_scale = 1 if difficulty == 1 else 10
    gradient_scale = 10 if difficulty == 3 else 1
    weights = rng.integers(-5 * weight_scale, 5 * weight_scale + 1, size=size) / weight_scale
    gradients = rng.integers(-5 * gradient_scale, 5 * gradient_scale + 1, size=size) / gradient_scale
    rate = float(rng.choice(LEARNING_RATES[difficulty]))
    target = str(rng.choice(["w", "η", "g", "new w"]))
    entry = int(rng.integers(size))
    if target == "η" and gradients[entry] == 0:  # η is solved from an entry whose gradient is not 0
        gradients[entry] = float(rng.choice([-1, 1]) * rng.integers(1, 6))
    w, g, lr = engine_tensor(weights), engine_tensor(gradients), engine_tensor(rate)
    with no_grad():
        new = w - lr * g
        step = lr * g
    i = entry
    wi, gi, ni, si = (exact(t.array[i]) for t in (w, g, new, step))
    rate_text = number_text(exact(rate))
    new_i, w_i, g_i = (counting.entry(name, (i,)) for name in ("new w", "w", "g"))
    if target == "new w":
        answer = ni
        lines = (f"{new_i} = {w_i} − η·{g_i} = {number_text(wi)} - {rate_text}·{factor_text(gi)}"
                 f" = {number_text(wi)} - {factor_text(si)} = {number_text(answer)}",)
    elif target == "w":
        answer = exact((new[i] + lr * g[i]).item())
        lines = ("Undo the step: w = new w + η·g.",
                 f"{w_i} = {number_text(ni)} + {rate_text}·{factor_text(gi)} = {number_text(ni)} + "
                 f"{factor_text(si)} = {number_text(answer)}")
    elif target == "g":
        answer = exact(((w - new)[i] / lr).item())
        lines = ("Solve for the gradient: g = (w − new w)/η.",
                 f"{g_i} = ({number_text(wi)} - {factor_text(ni)})/{rate_text} = "
                 f"{factor_text(exact((w - new).array[i]))}/{rate_text} = {number_text(answer)}")
    else:
        answer = exact(((w - new)[i] / g[i]).item())
        lines = (f"Solve for the learning rate with an entry whose gradient is not 0, here {g_i} = "
                 f"{number_text(gi)}: η = (w − new w)/g.",
                 f"η = ({number_text(wi)} - {factor_text(ni)})/{factor_text(gi)} = "
                 f"{factor_text(exact((w - new).array[i]))}/{factor_text(gi)} = {number_text(answer)}")
    tensors = {"w": fraction_array(weights), "η": fraction_array(rate), "g": fraction_array(gradients),
               "new w": fraction_array(new.array)}
    index = () if target == "η" else (entry,)
    blank = Blank(target, index)
    tensors[target] = with_blank(tensors[target], index)
    solution = ("Gradient descent moves each weight against its gradient: new w = w − η·g.", *lines)
    question = ("One gradient-descent step with learning rate η and gradient g = ∂L/∂w. Fill in the blank: "
                f"{stated_label(target, index, tensors[target].shape)}.")
    return Problem("gd-update", seed, size, difficulty, "new w = w − η·g", question, tensors, blank, answer,
                   solution)


def linear_regression_step(seed: int, size: int = 3, difficulty: int = 1) -> Problem:
    """One batch GD step of univariate linear regression; the blank is the new w₀ or w₁."""
    rng = seeded(seed)
    spread, scale = {1: (3, 1), 2: (5, 1), 3: (3, 10)}[difficulty]
    xs = rng.integers(-spread * scale, spread * scale + 1, size=size) / scale
    ys = rng.integers(-2 * spread, 2 * spread + 1, size=size).astype(np.float64)
    start = rng.integers(-2 * scale, 2 * scale + 1, size=2) / scale
    rate = float(rng.choice(REGRESSION_RATES[difficulty]))
    which = int(rng.integers(2))
    weights = engine_tensor(start, requires_grad=True)
    x, y = engine_tensor(xs), engine_tensor(ys)
    prediction = weights[0] + weights[1] * x
    errors = prediction - y
    (0.5 * (errors**2).sum()).backward()
    with no_grad():
        new = weights - rate * weights.grad
    name = f"w{'₀₁'[which]}"
    answer = exact(new.array[which])
    gradient = exact(weights.grad.array[which])
    error_values = [exact(e) for e in errors.array]
    sum_text = (" + ".join(factor_text(e) for e in error_values) if which == 0
                else products_text(error_values, [exact(v) for v in xs]))
    solution = (
        "Predictions h(xⱼ) = w₀ + w₁·xⱼ: " + ", ".join(number_text(exact(v)) for v in prediction.array) + ".",
        "Errors h(xⱼ) − yⱼ: " + ", ".join(number_text(e) for e in error_values) + ".",
        f"∂L/∂{name} = Σⱼ (h(xⱼ) − yⱼ){'·xⱼ' if which else ''} = {sum_text} = {number_text(gradient)}",
        f"new {name} = {name} − α·∂L/∂{name} = {number_text(exact(start[which]))} - "
        f"{number_text(exact(rate))}·{factor_text(gradient)} = {number_text(answer)}",
    )
    tensors = {
        "x": fraction_array(xs), "y": fraction_array(ys),
        "w₀": fraction_array(start[0]), "w₁": fraction_array(start[1]), "α": fraction_array(rate),
        "new w₀": fraction_array(new.array[0]), "new w₁": fraction_array(new.array[1]),
    }
    blank = Blank(f"new {name}", ())
    tensors[blank.tensor] = with_blank(tensors[blank.tensor], ())
    question = (f"Fit h(x) = w₀ + w₁·x to the {size} points (x, y) with the loss L = ½·Σⱼ (h(xⱼ) − yⱼ)². "
                f"Take one batch gradient-descent step with learning rate α: what is the new {name}?")
    equation = f"new {name} = {name} − α·Σⱼ (w₀ + w₁·xⱼ − yⱼ){'·xⱼ' if which else ''}"
    return Problem("linear-regression-step", seed, size, difficulty, equation, question, tensors, blank, answer,
                   solution)
