"""The lessons' worked example: a 4→3→4 ReLU network learns to flip a 2×2 image on its diagonal.

The image ``[1 0; 1 1]`` is read row by row as ``x = [1, 0, 1, 1]``; flipped on its main
diagonal it is ``[1 1; 0 1]``, so the target is ``y = [1, 1, 0, 1]``. The network is
``gg.nn.Sequential(Linear(4, 3), ReLU(), Linear(3, 4))`` — 3·4 + 3 + 4·3 + 4 = 31
parameters — and the loss is PyTorch's ``mse_loss`` (the mean over the 4 outputs).

The *lesson initialisation* (:data:`LESSON_WEIGHTS`) is chosen so that every number of
the seed lesson comes out exactly (in float64, exact to the precision shown)::

    Z₁ = W₁·x + b₁ = [0.5, −0.3, 0.2]      A₁ = ReLU(Z₁) = [0.5, 0, 0.2]   (hidden unit 2 is off)
    ŷ  = W₂·A₁ + b₂ = [0.1, −0.1, −0.05, −0.25]
    L  = ((0.1−1)² + (−0.1−1)² + (−0.05−0)² + (−0.25−1)²)/4 = 3.585/4 = 0.89625

Then backprop gives all 31 gradients in one backward pass, one gradient-descent step with
η = 0.1 lowers the loss, and repeating the step brings it below 0.001.

>>> lesson = run()
>>> [round(v, 4) for v in lesson["lesson"]["prediction"]], round(lesson["loss"]["value"], 5)
([0.1, -0.1, -0.05, -0.25], 0.89625)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..creation import tensor
from ..gradcheck import gradcheck
from ..nn import Linear, ReLU, Sequential
from ..nn.functional import linear, mse_loss
from ..optim import SGD
from ..tensor import Tensor, float64
from ..trace import counting
from ..trace.numbers import PRECISION_NOTE, rounded_text
from .worked_step import traced_step

INPUT = [1.0, 0.0, 1.0, 1.0]
TARGET = [1.0, 1.0, 0.0, 1.0]
LEARNING_RATE = 0.1
TARGET_LOSS = 0.001
MAX_STEPS = 10_000
TIMING_REPEATS = 5

OFF_UNIT = 1
"""The code's index of the hidden unit ReLU switches off (hidden unit 2: ``Z₁ = [0.5, −0.3, 0.2]``)."""
ZERO_PIXEL = 1
"""The code's index of the input pixel that is 0 (pixel 2 of ``x = [1, 0, 1, 1]``)."""

LESSON_WEIGHTS = {
    "0.weight": [[0.2, -0.1, 0.1, 0.2],
                 [-0.3, 0.4, 0.1, -0.2],
                 [0.1, 0.3, -0.2, 0.3]],
    "0.bias": [0.0, 0.1, 0.0],
    "2.weight": [[0.4, -0.2, 0.5],
                 [-0.2, 0.3, 0.5],
                 [0.1, -0.4, -0.5],
                 [-0.3, 0.2, 0.5]],
    "2.bias": [-0.2, -0.1, 0.0, -0.2],
}
"""The lesson initialisation: simple decimals that reproduce the seed's prediction and loss.

Row k of ``W₁`` with ``b₁[k]`` makes hidden unit k: ``0.2+0.1+0.2 = 0.5``, ``−0.3+0.1−0.2+0.1 = −0.3``
(negative, so ReLU switches it off), ``0.1−0.2+0.3 = 0.2``. Each row of ``W₂`` then meets
``A₁ = [0.5, 0, 0.2]``: ``0.2+0.1−0.2 = 0.1``, ``−0.1+0.1−0.1 = −0.1``, ``0.05−0.1 = −0.05``,
``−0.15+0.1−0.2 = −0.25``."""


def lesson_model() -> Sequential:
    """The 4→3→4 network in float64 with :data:`LESSON_WEIGHTS` loaded."""
    model = Sequential(Linear(4, 3, dtype=float64), ReLU(), Linear(3, 4, dtype=float64))
    model.load_state_dict({name: tensor(values, dtype=float64) for name, values in LESSON_WEIGHTS.items()})
    return model


def sample() -> tuple[Tensor, Tensor]:
    """The lesson's input and target as one-row float64 tensors."""
    return tensor([INPUT], dtype=float64), tensor([TARGET], dtype=float64)


def run(learning_rate: float = LEARNING_RATE, target_loss: float = TARGET_LOSS) -> dict:
    """Trace forward, loss, backward and one update; then train until the loss is below ``target_loss``.

    Returns the trace document (see :func:`glassgrad.trace.layers.describe`) with the
    lesson's summary, explanation and a ``lesson`` entry holding the key numbers.
    """
    model = lesson_model()
    x, y = sample()
    optimizer = SGD(model.parameters(), lr=learning_rate)
    tape, prediction, loss, new_loss = traced_step(model, mse_loss, x, y, optimizer)
    steps, losses = 1, [loss.item(), new_loss]
    while losses[-1] >= target_loss and steps < MAX_STEPS:
        optimizer.zero_grad()
        step_loss = mse_loss(model(x), y)
        step_loss.backward()
        optimizer.step()
        steps += 1
        with no_grad():
            losses.append(mse_loss(model(x), y).item())
    reached = losses[-1] < target_loss
    with no_grad():
        squared_errors = ((prediction - y) ** 2).array[0]
    document = tape.describe(title="diagonal flip: a 4→3→4 ReLU network, traced")
    document["lesson"] = {
        "name": "diagonal-flip", "input": INPUT, "target": TARGET, "prediction": prediction.array[0].tolist(),
        "squared_errors": squared_errors.tolist(), "loss": loss.item(), "learning_rate": learning_rate,
        "new_loss": new_loss, "target_loss": target_loss,
        "steps_to_target": steps if reached else None, "final_loss": losses[-1], "losses": losses,
    }
    document["summary"] = [
        {"label": "input x (the image [1 0; 1 1], row by row)", "value": np.array(INPUT)},
        {"label": "target y (flipped on the diagonal)", "value": np.array(TARGET)},
        *loss_rows(prediction.array[0], squared_errors, loss.item()),
        {"label": f"loss after one update (η = {learning_rate:g})", "value": new_loss},
        {"label": f"updates until L < {target_loss:g}", "value": str(steps) if reached else
         f"not reached in {MAX_STEPS} steps (last loss {rounded_text(losses[-1], 4, 'g')})"},
    ]
    document["explanation"] = [
        "The forward pass computes Z₁ = W₁·X + b₁, switches off the negative hidden unit with ReLU, "
        "then ŷ = W₂·A₁ + b₂ and the mean squared error L.",
        "The backward pass starts from ∂L/∂ŷ = 2(ŷ − y)/4 and applies the chain rule layer by layer: "
        "each weight's gradient is the upstream gradient times the input that weight multiplied. "
        f"The switched-off {counting.ordinal_with_code('hidden unit', OFF_UNIT)} passes no gradient back "
        f"(ReLU'(Z) = 0 there), so {counting.ordinal('row', OFF_UNIT)} of ∂L/∂W₁ is zero "
        f"({counting.entry('∂L/∂W₁', (OFF_UNIT, 'j'))} = 0 for every j), and so is "
        f"{counting.ordinal('column', ZERO_PIXEL)}, "
        f"the one that meets the input {counting.ordinal('pixel', ZERO_PIXEL)}, "
        f"{counting.entry('X', (ZERO_PIXEL,))} = 0: for example "
        f"{counting.entry_with_code('∂L/∂W₁', (OFF_UNIT, 0))} = 0.",
        f"Gradient descent then moves every parameter against its gradient, θ ← θ − η·∂L/∂θ with η = "
        f"{learning_rate:g}: the loss drops from {rounded_text(loss.item(), 4)} to {rounded_text(new_loss, 4)}.",
    ]
    return document


def loss_rows(prediction: Any, squared_errors: Any, loss: float) -> list[dict]:
    """The loss worked out, as summary rows: ŷ, the squared errors (ŷ − y)², their mean L, and
    ``Σ (ŷ − y)² / n = L`` with 6 significant digits (``3.585 / 4 = 0.89625`` for the lesson)."""
    squared_errors = np.asarray(squared_errors)
    return [
        {"label": "prediction ŷ", "value": np.asarray(prediction)},
        {"label": "squared errors (ŷ − y)²", "value": squared_errors},
        {"label": "loss L = mean((ŷ − y)²), PyTorch's mse_loss", "value": loss},
        {"label": "the same, to 6 significant digits",
         "value": f"{rounded_text(float(squared_errors.sum()), 6, 'g')} / {squared_errors.size} = "
                  f"{rounded_text(loss, 6, 'g')}"},
    ]


def loss_of_parameters(weight1: Tensor, bias1: Tensor, weight2: Tensor, bias2: Tensor) -> Tensor:
    """The lesson's loss as a function of its 4 parameter tensors (what a gradient check perturbs).

    The same math as :func:`lesson_model`: ``mse(W₂·ReLU(W₁·x + b₁) + b₂, y)``.
    """
    x, y = sample()
    return mse_loss(linear(linear(x, weight1, bias1).relu(), weight2, bias2), y)


def _shortest_time(run: Callable[[], Any], repeats: int = TIMING_REPEATS) -> float:
    """The shortest wall-clock time of ``run()`` over ``repeats`` runs, after one warm-up run.

    The shortest run is the one least disturbed by the rest of the machine (and the warm-up
    keeps first-call costs, such as imports and caches, out of the comparison).
    """
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def gradient_check() -> dict[str, Any]:
    """Backprop's 31 gradients beside central finite differences, with the cost of each method.

    Returns ``{"parameters": [{name, shape, backprop, numerical, max_error}], "forward_passes",
    "backprop_seconds", "numerical_seconds", "max_error", "ok"}``; the times are the shortest of
    :data:`TIMING_REPEATS` runs of each method.
    """
    parameters = {name: tensor(values, dtype=float64, requires_grad=True) for name, values in LESSON_WEIGHTS.items()}

    def backprop() -> None:
        for parameter in parameters.values():
            parameter.grad = None
        loss_of_parameters(*parameters.values()).backward()

    def numerical() -> Any:
        return gradcheck(loss_of_parameters, list(parameters.values()), eps=1e-6, atol=1e-8, rtol=1e-6)

    numerical_seconds = _shortest_time(numerical)
    backprop_seconds = _shortest_time(backprop)
    report = numerical()
    backprop()
    rows = []
    for (name, parameter), check in zip(parameters.items(), report.inputs):
        rows.append({"name": name, "shape": list(parameter.shape), "backprop": parameter.grad.array,
                     "numerical": check.numerical.reshape(parameter.shape), "max_error": check.max_abs_error})
    return {"parameters": rows, "forward_passes": report.forward_passes, "backward_passes": report.backward_passes,
            "backprop_seconds": backprop_seconds, "numerical_seconds": numerical_seconds,
            "max_error": report.max_error, "ok": report.ok, "eps": report.eps}


def gradient_check_document(check: dict[str, Any] | None = None) -> dict:
    """:func:`gradient_check` as a document for the trace renderers (a table per parameter and the costs)."""
    check = check or gradient_check()
    count = sum(int(np.prod(row["shape"])) for row in check["parameters"])
    rows = [[row["name"], str(row["shape"]), row["backprop"], row["numerical"], row["max_error"]]
            for row in check["parameters"]]
    numerical_ms, backprop_ms = check["numerical_seconds"] * 1e3, check["backprop_seconds"] * 1e3
    return {
        "title": "diagonal flip: backprop against finite differences",
        "explanation": [
            f"Finite differences estimate each of the {count} derivatives on its own: nudge one parameter by "
            f"±ε (ε = {check['eps']:g}), run the network forward twice, and divide the change of the loss by 2ε. "
            f"That is {check['forward_passes']} forward passes.",
            "Backprop gets all of them from one forward pass and one backward pass, by the chain rule. The two "
            "agree up to the finite differences' own error (float64): about ε² from the formula plus about "
            "1e-16/ε from rounding, so near 1e-10 for this ε.",
        ],
        "summary": [
            {"label": "numerical method", "value": f"{check['forward_passes']} forward passes, "
             f"{rounded_text(numerical_ms, 3, 'g')} ms (measured: gg.gradcheck, comparison included)"},
            {"label": "backprop", "value": f"1 forward + 1 backward pass, {rounded_text(backprop_ms, 3, 'g')} ms "
             "(measured)"},
            {"label": "backprop was faster by",
             "value": f"×{rounded_text(numerical_ms / backprop_ms, 1)} (shortest of {TIMING_REPEATS} "
                      "runs each; the gap grows with the number of parameters)"},
            {"label": "largest |backprop − numerical|", "value": rounded_text(check["max_error"], 2, "e")},
            {"label": "verdict", "value": "they agree" if check["ok"] else "they DISAGREE"},
        ],
        "tables": [{"title": "Per parameter", "intro": "∂L/∂θ by backprop and by central differences",
                    "columns": ["parameter", "shape", "backprop", "finite differences", "max |error|"],
                    "rows": rows}],
        "notes": [PRECISION_NOTE],
        "gradcheck": {key: value for key, value in check.items() if key != "parameters"},
    }
