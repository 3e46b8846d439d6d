"""The landscape in fog: the lesson network's loss over a slice through two of its weights.

The lessons picture training as walking downhill in fog: the loss ``L(θ)`` is the height of
the ground, the gradient ``∇L`` the slope under your feet, and each gradient-descent step

    θ ← θ − η · ∇L(θ)

a stride of length ``η·‖∇L‖`` downhill. With 31 parameters the ground cannot be drawn, so
this module takes a *slice*: two chosen weights ``(u, v)`` vary, the other 29 stay at the
lesson's values (:data:`glassgrad.lessons.diagonal_flip.LESSON_WEIGHTS`), and

    L(u, v) = mean((ŷ(u, v) − y)²)      (PyTorch's ``mse_loss``: the mean over the 4 outputs)

is a surface over the plane, evaluated by the engine at every grid point. The walk stays on
that surface: each path is gradient descent by the engine itself (the lesson model, its loss,
``gg.optim.SGD``), with every gradient entry except the two chosen ones set to zero before
``optimizer.step()``, so only ``u`` and ``v`` move. Each step is recorded as a point
``(u, v, L, ∂L/∂u, ∂L/∂v)`` before the update is taken; the last point has no update after it.
Beside each number goes its display text, written by the glass box's formatter
(:func:`glassgrad.trace.numbers.format_number`), so the playground shows the engine's own text and
rounds nothing itself; the full values stay in the JSON.

Weights are named as the traces name them, counting from 1 (:mod:`glassgrad.trace.counting`):
``W1[3,4]`` (or ``W₁[3,4]``) is row 3, column 4 of the first layer's weight, ``W₁[2, 3]`` in code,
the entry ``(2, 3)`` of ``0.weight``.

**Why the default slice is ``b₂[4]`` and ``W₁[3,4]``** (``b₂[3]`` and ``W₁[2, 3]`` in code). The
lessons say η = 10 diverges. Whether it does depends on the slice: along an output weight
``W₂[k,j]`` the curvature is ``∂²L/∂W₂[k,j]² = 2·A₁[j]²/4 ≤ 0.125``, so plain descent is stable
up to η = 2/0.125 = 16 and η = 10 *converges* there; along a first-layer weight, η = 10
throws the hidden unit below zero, ReLU switches it off and the walk stops on a flat plateau.
Along an output bias the curvature is ``2/4 = 0.5``: each step multiplies the distance to the
valley floor by ``1 − 0.5·η``, which is ``0.5`` for η = 1 and ``−4`` for η = 10 — every step
overshoots to the other side, 4 times further away. ``b₂[4]`` (the bias of output pixel 4,
gradient −0.625 at the start) has that property, and ``W₁[3,4]`` (the largest gradient of the
network at the start, −0.8) bends the surface through the ReLU of hidden unit 3. On this slice
η = 0.001 barely moves, η = 0.1 descends steadily, η = 1 descends fast, and η = 10 diverges
(the loss is about 1.9·10²⁴ after 20 steps).

:mod:`.landscape_plot` draws the result (PNG, SVG); :func:`to_json` writes it as JSON.

>>> data = landscape(steps=3, grid_points=5)
>>> [path["label"] for path in data["paths"]]
['slow', 'slow', 'converging', 'diverging']
>>> round(data["paths"][1]["points"][0]["loss"], 5)
0.89625
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..creation import tensor
from ..nn.functional import mse_loss
from ..optim import SGD
from ..trace import counting
from ..trace.grouping import subscript
from ..trace.numbers import DECIMALS, format_number, relation, written_number
from .diagonal_flip import lesson_model, sample
from .experiments import LEARNING_RATES, classify

DEFAULT_WEIGHTS = ("b2[4]", "W1[3,4]")
"""The default slice, named as the traces name it (counting from 1): ``b₂[3]`` and ``W₁[2, 3]`` in code."""
DEFAULT_STEPS = 20
GRID_POINTS = 41
MAX_STEPS = 1000
MAX_GRID_POINTS = 201
MARGIN = 0.15
"""The map reaches this fraction of its width beyond the farthest point it must show."""
LOSS_CONVENTION = ("L = mean over the 4 outputs of (ŷ − y)²: PyTorch's mse_loss with reduction='mean' "
                   "(not ½Σ); the same loss the diagonal-flip lesson reports (0.89625 at the start)")
PRECISION = (f"numbers are the engine's float64 values, written as the traces write them ({DECIMALS} decimal "
             "places, e-notation when tiny or huge): rounded for display only, the JSON keeps each one whole "
             "beside its text; the map's axis marks are positions on the slice, to 2 decimals")
_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_WEIGHT_PATTERN = re.compile(r"^([Wb])(\d+)\[(\d+(?:,\d+)?)\]$")


@dataclass(frozen=True)
class Weight:
    """One scalar weight of the lesson network: ``Weight("W1", "0.weight", (2, 3))`` is ``W1[3,4]``, row 3,
    column 4 of the first layer's weight (``index`` is the code's, counting from 0)."""

    layer: str
    parameter: str
    index: tuple[int, ...]

    @property
    def name(self) -> str:
        """As a learner types it: ``W1[3,4]``."""
        return counting.entry(self.layer, self.index)

    @property
    def _layer_symbol(self) -> str:
        return self.layer[0] + subscript(int(self.layer[1:]))

    @property
    def symbol(self) -> str:
        """How the traces write it: ``W₁[3,4]``."""
        return counting.entry(self._layer_symbol, self.index)

    @property
    def label(self) -> str:
        """With the code's index beside it: ``W₁[3,4] (W₁[2, 3] in code)``."""
        return counting.entry_with_code(self._layer_symbol, self.index)


def _layer_parameters(model: Any) -> dict[str, str]:
    """``{"W1": "0.weight", "b1": "0.bias", "W2": "2.weight", ...}``: the k-th layer with weights is layer k."""
    names: dict[str, str] = {}
    layers: list[str] = []
    for parameter_name, _ in model.named_parameters():
        prefix, _, kind = parameter_name.rpartition(".")
        if prefix not in layers:
            layers.append(prefix)
        names[f"{'W' if kind == 'weight' else 'b'}{counting.number(layers.index(prefix))}"] = parameter_name
    return names


def parse_weight(text: str, model: Any = None) -> Weight:
    """``"W1[3,4]"`` (or ``W₁[3,4]``), named counting from 1 as the traces do, as a :class:`Weight` of
    ``model`` (default: the lesson network) whose ``index`` is the code's, ``(2, 3)``.

    Raises ``ValueError`` with one line naming the accepted form and the convention when ``text`` is not
    a weight of the network, or a position in it (0, or past the end).
    """
    model = model if model is not None else lesson_model()
    layers = _layer_parameters(model)
    shapes = {name: tuple(parameter.shape) for name, parameter in model.named_parameters()}
    examples = ", ".join(counting.entry(name, tuple(0 for _ in shapes[layers[name]])) for name in layers)
    cleaned = str(text).replace(" ", "").translate(_SUBSCRIPT_DIGITS)
    match = _WEIGHT_PATTERN.match(cleaned)
    if not match or f"{match[1]}{match[2]}" not in layers:
        raise ValueError(f"weight {text!r} is not one of the network's weights: write it as the trace names it, "
                         f"like {examples}. {counting.CONVENTION}")
    key = f"{match[1]}{match[2]}"
    index = tuple(counting.index_of(int(part)) for part in match[3].split(","))
    shape = shapes[layers[key]]
    if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape)):
        bounds = ",".join(f"{counting.FIRST}..{counting.number(n - 1)}" for n in shape)
        raise ValueError(f"weight {text!r} is outside {key}, which has shape {list(shape)}: "
                         f"use {key}[{bounds}]. {counting.CONVENTION}")
    return Weight(key, layers[key], index)


def _parameters(model: Any) -> dict[str, Any]:
    return dict(model.named_parameters())


def _set(model: Any, weights: Sequence[Weight], values: Sequence[float]) -> None:
    parameters = _parameters(model)
    with no_grad():
        for weight, value in zip(weights, values):
            parameters[weight.parameter][weight.index] = float(value)


def loss_at(weights: Sequence[Weight], values: Sequence[float]) -> float:
    """The engine's loss of the lesson network with ``weights`` set to ``values`` (the rest as in the lesson)."""
    model = lesson_model()
    _set(model, weights, values)
    x, y = sample()
    with no_grad():
        return mse_loss(model(x), y).item()


def descend(weights: Sequence[Weight], learning_rate: float, steps: int) -> list[dict]:
    """Gradient descent on ``weights`` alone, from the lesson's start: one point per step.

    Each point is ``{"step", "weights", "loss", "gradient", "text"}`` at the weights *before* that
    step's update (``text``: those numbers' display text, :func:`point_text`). A point with a step after
    it also has ``relation``, per weight ``=`` or ``≈``: whether ``w − η·g`` written with the shown numbers
    equals the next shown ``w`` or only nearly (:func:`~glassgrad.trace.numbers.relation`). The walk stops early
    when the loss or a weight stops being a finite number.
    """
    model = lesson_model()
    parameters = _parameters(model)
    x, y = sample()
    masks = {name: np.zeros(parameter.shape) for name, parameter in parameters.items()}
    for weight in weights:
        masks[weight.parameter][weight.index] = 1.0
    free = {name: tensor(mask, dtype=parameters[name].dtype) for name, mask in masks.items()}
    optimizer = SGD(model.parameters(), lr=learning_rate)
    points: list[dict] = []
    for step in range(steps + 1):
        optimizer.zero_grad()
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging walk overflows: it stops here, said so
            loss = mse_loss(model(x), y)
        values = [parameters[w.parameter].numpy()[w.index].item() for w in weights]
        if not (math.isfinite(loss.item()) and all(math.isfinite(v) for v in values)):
            break
        loss.backward()
        gradient = [parameters[w.parameter].grad.numpy()[w.index].item() for w in weights]
        if points:  # the step from the point before to this one, written w − η·g = w' or ≈ w'
            before = points[-1]
            before["relation"] = [
                relation(w, g, after, written=(_written_step(w, learning_rate, g), format_number(after)))
                for w, g, after in zip(before["weights"], before["gradient"], values)]
        points.append({"step": step, "weights": values, "loss": loss.item(), "gradient": gradient,
                       "text": point_text(values, loss.item(), gradient)})
        if step == steps:
            break
        with no_grad():
            for name, parameter in parameters.items():
                parameter.grad = parameter.grad * free[name]
        optimizer.step()
    return points


def _written_step(weight: float, learning_rate: float, gradient: float) -> Fraction | None:
    """``w − η·g`` done exactly on the numbers as the page writes them: ``w`` and ``g`` by
    :func:`~glassgrad.trace.numbers.format_number`, η as it was asked for (its shortest decimal, as the page writes
    it); None where one is not finite."""
    w, g = written_number(format_number(weight)), written_number(format_number(gradient))
    return None if w is None or g is None else w - Fraction(repr(learning_rate)) * g


def point_text(weights: Sequence[float], loss: float, gradient: Sequence[float]) -> dict:
    """A point's numbers as a learner reads them: ``{"weights", "loss", "gradient"}``, each by
    :func:`~glassgrad.trace.numbers.format_number` (the loss, never negative, without its ``+``)."""
    return {"weights": [format_number(value) for value in weights], "loss": format_number(loss, signed=False),
            "gradient": [format_number(value) for value in gradient]}


def loss_grid(weights: Sequence[Weight], axes: Sequence[Sequence[float]]) -> np.ndarray:
    """The engine's loss at every grid point: ``grid[i, j]`` has ``weights[0] = axes[0][j]``
    (and ``weights[1] = axes[1][i]`` for a 2-D slice); shape ``(len(axes[1]), len(axes[0]))``
    or ``(len(axes[0]),)`` for one weight."""
    if len(weights) != len(axes) or len(weights) not in (1, 2):
        raise ValueError(f"a slice goes through 1 or 2 weights with one axis each, got {len(weights)} "
                         f"weights and {len(axes)} axes")
    model = lesson_model()
    x, y = sample()
    shape = tuple(len(axis) for axis in reversed(axes))
    grid = np.empty(shape)
    with no_grad():
        for position in np.ndindex(*shape):
            _set(model, weights, [axes[k][position[len(axes) - 1 - k]] for k in range(len(axes))])
            grid[position] = mse_loss(model(x), y).item()
    return grid


def _window(points: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    """For each coordinate, a range around ``points`` with a margin (at least ±0.5 wide)."""
    array = np.asarray(points, dtype=float)
    low, high = array.min(axis=0), array.max(axis=0)
    centre, half = (low + high) / 2, np.maximum((high - low) / 2 * (1 + MARGIN), 0.5)
    return [(float(c - h), float(c + h)) for c, h in zip(centre, half)]


def _climbs(points: Sequence[dict], steps: int) -> bool:
    """True when a walk ends higher than it started, or stopped because its loss stopped being a number."""
    return len(points) <= steps or points[-1]["loss"] > points[0]["loss"]


def _shown_points(walks: Sequence[list[dict]], steps: int, zoom: bool) -> list[list[float]]:
    """The points the map must show: every point of a walk that goes down, and the start and first
    overshoot of one that climbs (the rest of it leaves the map, which is the point); with ``zoom``,
    only the start of a walk that climbs (the valley fills the map, and it leaves at once)."""
    shown = []
    for points in walks:
        climbs = _climbs(points, steps)
        shown += [point["weights"] for point in (points[:1 if zoom else 2] if climbs else points)]
    return shown


def _labelled(learning_rate: float, points: list[dict], steps: int, floor: float) -> dict:
    """One walk, labelled by :func:`.experiments.classify` on its height above ``floor`` (the lowest loss
    seen on the slice), so that "slow" means: got less than halfway down to the valley floor."""
    stopped = [math.inf] if len(points) <= steps else []
    label, why = classify([point["loss"] - floor for point in points] + stopped,
                          [max(map(abs, point["gradient"])) for point in points] + stopped)
    if label == "diverging":
        why = classify([point["loss"] for point in points] + stopped)[1]
    else:
        why = why.replace("the loss", f"the height above the slice's lowest loss "
                                      f"({format_number(floor, signed=False)})", 1)
    return {"learning_rate": learning_rate, "label": label, "why": why, "points": points,
            "stopped": f"stopped after {len(points) - 1} updates: the next loss was not a finite number"
            if stopped else None}


def _slice(weights: Sequence[Weight], learning_rates: Sequence[float], steps: int, points_per_axis: int,
           zoom: bool) -> dict:
    """The walks of every learning rate through ``weights`` (1 or 2), the grid around them and its losses."""
    walks = [descend(weights, rate, steps) for rate in learning_rates]
    axes = [np.linspace(low, high, points_per_axis) for low, high in _window(_shown_points(walks, steps, zoom))]
    grid = loss_grid(weights, axes)
    floor = min(float(grid.min()), *(point["loss"] for points in walks for point in points))
    return {"axes": [axis.tolist() for axis in axes], "loss": grid.tolist(),
            "paths": [_labelled(rate, points, steps, floor) for rate, points in zip(learning_rates, walks)]}


def landscape(weights: Sequence[str] = DEFAULT_WEIGHTS, steps: int = DEFAULT_STEPS,
              learning_rates: Sequence[float] = LEARNING_RATES, grid_points: int = GRID_POINTS,
              zoom: bool = False) -> dict:
    """The loss over the slice through ``weights``, the descent paths, and the 1-D slice through the first.

    Returns a JSON-ready dict: ``weights`` (``name`` and ``symbol`` counting from 1 as the traces do,
    ``label`` with the code's index beside them, ``parameter`` and ``index`` as the code has them, ``start``), ``grid``
    (``x``, ``y``, ``loss[i][j]`` at ``(x[j], y[i])``), ``paths`` (one per learning rate: label,
    reason and points), ``slice_1d`` (the first weight alone: ``x``, ``loss``, ``loss_text``, ``paths``),
    the loss and counting conventions and the ``precision`` the numbers are shown at. Each point of a path
    carries its numbers' display ``text`` beside them (:func:`point_text`), as ``loss_text`` does for the 1-D
    slice's losses. The texts and ``precision`` were added without changing ``version`` (2): every key an
    earlier version-2 reader knew is still there, with the same meaning. ``zoom=True`` frames only the
    walks that go down (a walk that climbs leaves the map at its first step) instead of showing its first
    overshoot too.
    """
    if len(weights) != 2:
        raise ValueError(f"the landscape needs exactly 2 weights (the map's two axes), got {len(weights)}")
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be between 1 and {MAX_STEPS}, got {steps}")
    if not 5 <= grid_points <= MAX_GRID_POINTS:
        raise ValueError(f"grid points per axis must be between 5 and {MAX_GRID_POINTS}, got {grid_points}")
    if not learning_rates or any(not (lr > 0 and math.isfinite(lr)) for lr in learning_rates):
        raise ValueError(f"learning rates must be positive numbers, got {list(learning_rates)}")
    model = lesson_model()
    chosen = [parse_weight(text, model) for text in weights]
    if chosen[0] == chosen[1]:
        raise ValueError(f"the two weights must differ, got {chosen[0].name} twice")
    parameters = _parameters(model)
    start = [parameters[w.parameter].numpy()[w.index].item() for w in chosen]
    plane = _slice(chosen, learning_rates, steps, grid_points, zoom)
    line = _slice(chosen[:1], learning_rates, steps, 4 * grid_points + 1, zoom)
    return {
        "format": "glassgrad-landscape", "version": 2,  # 2: weights named counting from 1, with a label
        "title": f"the loss landscape of the diagonal flip through {chosen[0].symbol} and {chosen[1].symbol}",
        "model": "diagonal flip: 4→3→4 ReLU network, lesson weights (glassgrad.lessons.diagonal_flip)",
        "loss": {"name": "mse_loss", "convention": LOSS_CONVENTION, "start": loss_at(chosen, start)},
        "indices": counting.CONVENTION,
        "window": "around the walks that go down" if zoom else
                  "around the walks that go down and the first overshoot of those that climb",
        "free": f"only {chosen[0].symbol} and {chosen[1].symbol} move; the other weights keep the lesson's values",
        "update": "θ ← θ − η·∂L/∂θ (gg.optim.SGD) on the two weights; each point is taken before its update",
        "precision": PRECISION,
        "weights": [{"name": w.name, "symbol": w.symbol, "label": w.label, "parameter": w.parameter,
                     "index": list(w.index), "start": value} for w, value in zip(chosen, start)],
        "grid": {"x": plane["axes"][0], "y": plane["axes"][1], "loss": plane["loss"]},
        "paths": plane["paths"],
        "slice_1d": {"weight": chosen[0].name, "symbol": chosen[0].symbol, "label": chosen[0].label,
                     "free": f"only {chosen[0].symbol} moves; {chosen[1].symbol} and the rest keep the lesson's values",
                     "x": line["axes"][0], "loss": line["loss"],
                     "loss_text": [format_number(loss, signed=False) for loss in line["loss"]], "paths": line["paths"]},
    }


def to_json(data: dict) -> str:
    """``data`` as JSON text (finite numbers only: a walk stops before its loss stops being a number)."""
    import json

    return json.dumps(data, ensure_ascii=False, allow_nan=False, indent=1)
