"""``numerical-gradient`` problems: a gradient by wiggling one weight, beside backprop's.

A tiny model is given with its examples (x, t) and the loss ``L = Σⱼ (ŷⱼ − tⱼ)²`` over the ``size``
examples. One parameter p is wiggled by a step h, and the central difference

    (L(p + h) − L(p − h)) / (2h) = ∂L/∂p + (h²/6)·∂³L/∂p³ + O(h⁴)

estimates ∂L/∂p from two forward passes. The blank is L(p + h), L(p − h), the central difference or
the exact ∂L/∂p (backprop); at difficulty 3 it may also be the number of forward passes a numerical
gradient of all N parameters takes (2N, against one forward and one backward pass for backprop).

Difficulty 1: ``ŷ = w·x + b`` (w and b in tenths, integer x and t); the loss is quadratic in p, so
the central difference is exact. Difficulty 2: ``ŷ = ReLU(w·x + b)`` (exact too: no example's
pre-activation crosses 0 between p − h and p + h) or ``ŷ = σ(w·x + b)``. Difficulty 3: a 2-input
neuron ``ŷ = act(w₁·x₁ + w₂·x₂ + b)`` or the 2-layer chain ``ŷ = v·σ(w·x + b) + c``. Where a sigmoid
makes the numbers irrational, losses are answered to 6 places (±1e-6) and derivatives to 4 (±1e-4),
and the worked solution shows the central difference's O(h²) error at h and at h/10.

Every number is the engine's: :func:`glassgrad.gradcheck` (eps = h) gives the central difference of
each parameter, backprop's ∂L/∂p and the count of forward passes; L(p ± h) are forward passes with p
moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..gradcheck import gradcheck
from ..ops import RELU, RULES, SIGMOID
from ..tensor import Tensor
from .answers import DEFAULT_TOLERANCE
from .numbers import engine_tensor, exact, factor_text, fraction_array, number_text, rounded, seeded
from .problem import Blank, Problem, with_blank

STEPS = {"exact": (0.1, 0.01, 0.001), "rounded": (0.1, 0.01)}
"""The wiggles h: an exact model's losses stay short decimals at 0.001; a sigmoid's are given to 6 places, where
h = 0.001 would leave the central difference only 3 correct places."""
EASY_STEPS = (0.1, 0.01)
LOSS_PLACES = 6
SLOPE_PLACES = 4
LOSS_TOLERANCE = Fraction(1, 10**LOSS_PLACES)
SLOPE_TOLERANCE = Fraction(1, 10**SLOPE_PLACES)
LOSS_TEXT = "L = Σⱼ (ŷⱼ − tⱼ)²"


@dataclass(frozen=True)
class Model:
    """A tiny model: how it is written, its parameters' names, its activation's op (a row of ``RULES``) and
    ``predict(params, x)``, the forward pass on glassgrad tensors; ``quadratic`` names the parameters that ŷ is
    linear in (piecewise, for ReLU), in which L is quadratic and the central difference exact."""

    text: str
    parameters: tuple[str, ...]
    activation: str | None
    inputs: int
    predict: Callable[[dict[str, Tensor], Tensor], Tensor]
    quadratic: tuple[str, ...]


def _activate(name: str | None, z: Tensor) -> Tensor:
    return z if name is None else getattr(z, name)()


def _neuron(activation: str | None) -> Model:
    text = "w·x + b" if activation is None else f"{RULES[activation].symbol}(w·x + b)"
    return Model(f"ŷ = {text}", ("w", "b"), activation, 1,
                 lambda p, x: _activate(activation, p["w"] * x + p["b"]), () if activation == "sigmoid" else ("w", "b"))


def _two_inputs(activation: str) -> Model:
    return Model(f"ŷ = {RULES[activation].symbol}(w₁·x₁ + w₂·x₂ + b)", ("w₁", "w₂", "b"), activation, 2,
                 lambda p, x: _activate(activation, p["w₁"] * x[:, 0] + p["w₂"] * x[:, 1] + p["b"]),
                 () if activation == "sigmoid" else ("w₁", "w₂", "b"))


CHAIN = Model(f"ŷ = v·{RULES['sigmoid'].symbol}(w·x + b) + c", ("w", "b", "v", "c"), "sigmoid", 1,
              lambda p, x: p["v"] * (p["w"] * x + p["b"]).sigmoid() + p["c"], ("v", "c"))


def _model(rng: np.random.Generator, difficulty: int) -> Model:
    if difficulty == 1:
        return _neuron(None)
    activation = str(rng.choice([RELU.name, SIGMOID.name]))  # the rows, not names written again
    if difficulty == 2:
        return _neuron(activation)
    return _two_inputs(activation) if rng.random() < 0.5 else CHAIN


def _draw(rng: np.random.Generator, model: Model, size: int, step: float) -> tuple[dict[str, float], np.ndarray,
                                                                                     np.ndarray]:
    """Parameters in tenths, integer inputs and targets, drawn again until some error is not 0, every parameter
    moves some prediction (``v = 0`` in ``v·σ(w·x + b) + c`` would make ∂L/∂w = ∂L/∂b = 0 at sight) and (ReLU) some
    example is active and none has its pre-activation within reach of 0 when a parameter moves by ``step``."""
    shape = (size,) if model.inputs == 1 else (size, model.inputs)
    while True:
        params = {name: float(rng.integers(-20, 21)) / 10 for name in model.parameters}
        xs = rng.choice([-3, -2, -1, 1, 2, 3], size=shape).astype(np.float64)
        targets = (rng.integers(0, 2, size=size) if model.activation == "sigmoid"
                   else rng.integers(-3, 4, size=size)).astype(np.float64)
        prediction, *moved = (model.predict({n: engine_tensor(v + step * (n == wiggled)) for n, v in params.items()},
                                            engine_tensor(xs)).array for wiggled in (None, *model.parameters))
        if any(np.array_equal(prediction, each) for each in moved):
            continue
        if model.activation == "relu":
            weights = [params[n] for n in model.parameters if n.startswith("w")]
            z = np.reshape(xs, (size, -1)) @ np.array(weights) + params["b"]
            reach = step * (1 + np.abs(xs).reshape(size, -1).max(axis=1))
            if not (np.all(np.abs(z) > reach) and np.any(z > 0)):
                continue
        if np.any(np.abs(prediction - targets) > 0.05):
            return params, xs, targets


def numerical_gradient(seed: int, size: int = 1, difficulty: int = 1) -> Problem:
    """A tiny model, one parameter wiggled by h: one blank in L(p + h), L(p − h), the central difference,
    ∂L/∂p, or (difficulty 3) the forward passes of a numerical gradient of every parameter."""
    rng = seeded(seed)
    model = _model(rng, difficulty)
    is_exact = model.activation != "sigmoid"
    step = float(rng.choice(EASY_STEPS if difficulty == 1 else STEPS["exact" if is_exact else "rounded"]))
    params, xs, targets = _draw(rng, model, size, step)
    chosen = model.parameters[0] if difficulty < 3 else str(rng.choice(model.parameters))
    x, t = engine_tensor(xs), engine_tensor(targets)

    def squared_error(prediction: Tensor) -> Tensor:
        return ((prediction - t) ** 2).sum()

    def loss(*values: Tensor) -> Tensor:
        return squared_error(model.predict(dict(zip(model.parameters, values)), x))

    def forward(value: float) -> tuple[np.ndarray, float]:
        prediction = model.predict({n: engine_tensor(v) for n, v in {**params, chosen: value}.items()}, x)
        return prediction.array, float(squared_error(prediction).item())

    where = model.parameters.index(chosen)
    report = gradcheck(loss, [engine_tensor(v, requires_grad=True) for v in params.values()], eps=step)
    central = float(report.inputs[where].numerical.item())
    backprop = float(report.inputs[where].analytical.item())
    plus_prediction, plus = forward(params[chosen] + step)
    minus_prediction, minus = forward(params[chosen] - step)

    def loss_value(value: float) -> Fraction:
        return exact(value) if is_exact else rounded(value, LOSS_PLACES)

    def slope(value: float) -> Fraction:
        return exact(value) if is_exact else rounded(value, SLOPE_PLACES)

    p, h = chosen, number_text(exact(step))
    names = {"plus": f"L({p} + h)", "minus": f"L({p} − h)", "central": f"(L({p} + h) − L({p} − h))/(2h)",
             "backprop": f"∂L/∂{p}", "passes": "forward passes for all parameters"}
    targets_drawn = ["plus", "minus", "central", "backprop"] + (["passes"] if difficulty == 3 else [])
    target = str(rng.choice(targets_drawn))
    l_plus, l_minus = loss_value(plus), loss_value(minus)
    shown_from_rounded = rounded(((engine_tensor(float(l_plus)) - engine_tensor(float(l_minus))) / (2 * step)).item(),
                                 SLOPE_PLACES)  # the central difference from the losses as shown
    answers = {"plus": l_plus, "minus": l_minus, "central": slope(central), "backprop": slope(backprop),
               "passes": Fraction(report.forward_passes)}
    tolerance = (DEFAULT_TOLERANCE if is_exact or target == "passes"
                 else LOSS_TOLERANCE if target in ("plus", "minus") else SLOPE_TOLERANCE)

    def predictions(values: np.ndarray) -> str:
        shown = [number_text(loss_value(v)) for v in values]
        return ", ".join(shown) if is_exact else ", ".join(f"≈ {s}" for s in shown)

    approx = "=" if is_exact else "≈"
    solution = [
        f"Wiggle {p} up: {p} + h = {number_text(exact(params[chosen] + step))}. A forward pass gives ŷ: "
        f"{predictions(plus_prediction)}, so {names['plus']} {approx} {number_text(l_plus)}.",
        f"Wiggle {p} down: {p} − h = {number_text(exact(params[chosen] - step))}. A forward pass gives ŷ: "
        f"{predictions(minus_prediction)}, so {names['minus']} {approx} {number_text(l_minus)}.",
        f"Central difference: ({number_text(l_plus)} − {factor_text(l_minus)})/(2·{h}) {approx} "
        f"{number_text(answers['central'])}"
        + ("" if is_exact else f" (the unrounded losses give {number_text(rounded(central, 8))})") + ".",
        _backprop_line(model, p, answers["backprop"], approx),
        _error_line(loss, params, where, step, central, backprop, chosen in model.quadratic),
    ]
    count = len(model.parameters)
    if difficulty == 3:
        solution.append(f"A numerical gradient of all N = {count} parameters wiggles each one both ways: "
                        f"2N = {report.forward_passes} forward passes. Backprop gets all {count} from one forward "
                        f"and {report.backward_passes} backward pass.")
    tensors = {"x": fraction_array(xs), "t": fraction_array(targets),
               **{name: fraction_array(value) for name, value in params.items()}, "h": fraction_array(step)}
    blank = Blank(names[target], ())
    tensors[blank.tensor] = with_blank(fraction_array(0.0), ())
    precision = ("" if is_exact or target == "passes" else
                 f" Give it to {LOSS_PLACES} decimal places (±1e-6)." if target in ("plus", "minus") else
                 f" Give it to {SLOPE_PLACES} decimal places (±1e-4), working with the losses to {LOSS_PLACES} "
                 "places.")
    examples = f"the {size} examples" if size > 1 else "the example"
    question = (f"The model {model.text} with the loss {LOSS_TEXT} over {examples} (x, t). "
                f"Estimate ∂L/∂{p} numerically by wiggling {p} by h = {h}. "
                f"Fill in the blank: {names[target]}{' (by backprop)' if target == 'backprop' else ''}."
                + precision)
    extra: dict = dict(exact=is_exact or target == "passes", tolerance=tolerance)
    if target == "central" and not is_exact:
        extra["given_values_answer"] = shown_from_rounded
    if not extra["exact"]:
        extra["notes"] = (f"Answers within ±{number_text(tolerance)} count.",)
    equation = f"∂L/∂{p} ≈ (L({p} + h) − L({p} − h))/(2h),  {model.text},  {LOSS_TEXT}"
    return Problem("numerical-gradient", seed, size, difficulty, equation, question, tensors, blank,
                   answers[target], tuple(solution), **extra)


def _backprop_line(model: Model, p: str, gradient: Fraction, approx: str) -> str:
    """Backprop's value, with the activation's local derivative as its row in ``RULES`` writes it."""
    local = ("" if model.activation is None else
             f" (through {RULES[model.activation].symbol}, whose local derivative is "
             f"{RULES[model.activation].derivative_text(0)})")
    return (f"Backprop: one forward and one backward pass{local} give the exact ∂L/∂{p} {approx} "
            f"{number_text(gradient)}.")


def _error_line(loss: Callable[..., Tensor], params: dict[str, float], where: int, step: float, central: float,
                backprop: float, quadratic: bool) -> str:
    """How far the central difference is from backprop's ∂L/∂p, and (when L is not quadratic in p) at h/10 too:
    the error is O(h²)."""
    if quadratic:
        return (f"They agree (difference {central - backprop:.1e}, float64 round-off): L is quadratic in the "
                "parameter here, so its third derivative, which the central difference's h² error term carries, "
                "is 0.")
    smaller = gradcheck(loss, [engine_tensor(v, requires_grad=True) for v in params.values()], eps=step / 10)
    finer = float(smaller.inputs[where].numerical.item()) - backprop
    error = central - backprop
    if error == 0 or finer == 0:  # L does not depend on p here (v = 0 before the sigmoid, say)
        return f"They agree exactly (difference {error:g}): L does not change with the parameter here."
    ratio = abs(error / finer)
    shrink = (f"about {ratio:.0f} times smaller: the error shrinks as h², O(h²)" if 50 <= ratio <= 200 else
              "not 100 times smaller: here the h² term is so small that float64 round-off in the losses, about "
              "1e-16·L/h, is as large")
    return f"Central difference − backprop = {error:.2e}; with h/10 = {step / 10:g} it is {finer:.2e}, {shrink}."
