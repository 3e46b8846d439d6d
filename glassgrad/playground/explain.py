"""Clicking a number: its formula, the engine's numbers plugged in, and the engine's result.

For one sample (vectors as columns, as in the lessons) the step-through shows

* ``Z_l[i] = Σⱼ W_l[i,j]·A_{l−1}[j] + b_l[i]``, ``A_l[i] = f(Z_l[i])``, ``A₀ = X``;
* MSE ``L = (1/n)·Σ(ŷ[i] − y[i])²`` with ``∂L/∂ŷ[i] = 2·(ŷ[i] − y[i])/n``, or softmax with
  cross-entropy ``L = −ln ŷ[y]`` with ``∂L/∂Z_L[i] = ŷ[i] − onehot(y)[i]``;
* ``∂L/∂Z_l[i] = ∂L/∂A_l[i]·f′(Z_l[i])``, ``∂L/∂W_l[i,j] = ∂L/∂Z_l[i]·A_{l−1}[j]``,
  ``∂L/∂b_l[i] = ∂L/∂Z_l[i]``, ``∂L/∂A_{l−1}[j] = Σᵢ W_l[i,j]·∂L/∂Z_l[i]``;
* after an update, ``W ← W − η·∂L/∂W``.

Every operand and every result is a number the engine computed (``terms`` lists them at full
precision); only the text is rounded (see :mod:`.display`).
"""

from __future__ import annotations

import re

import numpy as np

from .display import PRECISION_NOTE, operand, shown, subscript
from .safety import ApiError
from .stepper import Walkthrough

CELL = re.compile(r"^(?P<name>[A-Za-z]+)(?P<layer>\d*)(?:\[(?P<index>\d+(?:,\d+)?)\])?$")
DERIVATIVES = {"relu": "ReLU′", "tanh": "tanh′", "sigmoid": "σ′"}


def _label(name: str, layer: int) -> str:
    return "X" if name == "A" and layer == 0 else subscript(name, layer)


def _gradient_label(name: str, layer: int) -> str:
    return f"∂L/∂{_label(name, layer)}"


def explain(walk: Walkthrough, cell: str) -> dict:
    """The explanation of one cell, e.g. ``"dW2[1,0]"``, ``"Z1[0]"``, ``"loss"``."""
    match = CELL.match(cell or "")
    if not match:
        raise ApiError(422, f"cell {cell!r} is not a cell name; use names such as W1[0,2], dW2[1,0], Z1[0] or loss")
    name, layer_text = match["name"], match["layer"]
    index = tuple(int(i) for i in match["index"].split(",")) if match["index"] else ()
    net, depth = walk.network, walk.network.depth
    layer = int(layer_text) if layer_text else None
    kinds = {"x": (0,), "y": (0,), "yhat": (0,), "loss": (0,), "W": range(1, depth + 1), "b": range(1, depth + 1),
             "Z": range(1, depth + 1), "A": range(1, depth + 1), "dZ": range(1, depth + 1),
             "dW": range(1, depth + 1), "db": range(1, depth + 1), "dA": range(0, depth + 1)}
    if name not in kinds or (layer if layer is not None else 0) not in kinds[name]:
        raise ApiError(422, f"cell {cell!r} does not exist in this network ({depth} layers)")
    if name == "dA" and layer == depth and net.loss != "mse":
        raise ApiError(422, f"cell {cell!r} does not exist: with softmax + cross-entropy the gradient goes "
                            f"straight to ∂L/∂Z{layer}")
    builder = Explainer(walk, layer or 0, index)
    return builder.run(name, cell)


class Explainer:
    """Builds one explanation; each ``_cell_*`` method returns (label, formula, terms, plugged, value).

    A ``formula`` of None marks a given number (an input, an initial or edited weight): then
    ``plugged`` says where it came from.
    """

    def __init__(self, walk: Walkthrough, layer: int, index: tuple) -> None:
        self.walk, self.net, self.numbers = walk, walk.network, walk.numbers
        self.layer, self.index = layer, index

    def run(self, name: str, cell: str) -> dict:
        needs_forward = name not in ("x", "y", "W", "b")
        if needs_forward and self.numbers is None:
            raise ApiError(422, f"{cell} is not computed yet: press Forward first")
        if name.startswith("d") and not self._gradient_ready(name):
            raise ApiError(422, f"{cell} is not computed yet: press Backward until it reaches this layer")
        shape = self._shape(name)
        if len(self.index) != len(shape) or any(i >= n for i, n in zip(self.index, shape)):
            raise ApiError(422, f"cell {cell!r}: index {list(self.index)} is outside the shape {list(shape)}")
        label, formula, terms, plugged, value = getattr(self, f"_cell_{name}")()
        result = str(int(value)) if name == "y" and self.net.loss == "cross_entropy" else shown(value)  # a class
        if formula is None:  # a given number: say where it comes from
            formula, text = "", f"{label} = {result}: {plugged}"
        else:
            text = f"{label} = {formula}" + (f" = {plugged}" if plugged else "") + f" = {result}"
        return {
            "cell": cell, "label": label, "formula": formula, "plugged": plugged, "result": result,
            "text": text, "value": float(value), "full": str(np.float32(value)),
            "terms": terms, "meaning": self._meaning(name, label, value),
            "editable": name in ("x", "y", "W", "b"), "precision": PRECISION_NOTE,
        }

    def _gradient_ready(self, name: str) -> bool:
        below_output = name == "dA" and self.layer < self.net.depth  # ∂L/∂A_l comes with layer l + 1
        return self.walk.revealed(self.layer + 1 if below_output else self.layer)

    def _shape(self, name: str) -> tuple:
        net, layer = self.net, self.layer
        if name in ("W", "dW"):
            return net.weights[layer - 1].shape
        if name == "loss":
            return ()
        sizes = {"x": net.x.size, "y": net.y.size, "yhat": net.weights[-1].shape[0],
                 "dA": net.x.size if layer == 0 else net.weights[layer - 1].shape[0]}
        return (sizes.get(name, net.weights[layer - 1].shape[0] if layer else 0),)

    @staticmethod
    def _term(label: str, value: float) -> dict:
        return {"label": label, "value": float(value), "text": shown(value)}

    # --- values ------------------------------------------------------------------------------

    def _given(self, label: str, value: float, what: str, cell: str) -> tuple:
        origin = self.net.origins.get(cell)
        if origin is None:
            return label, None, [], f"{what}, given by the example", value
        if origin[0] == "edit":
            return label, None, [], f"{what}, set by you", value
        _, old, grad, lr, count = origin
        formula = f"{label} − η·∂L/∂{label}  (update {count})"
        terms = [self._term(label, old), self._term("η", lr), self._term(f"∂L/∂{label}", grad)]
        return label, formula, terms, f"{operand(old)} − {lr:g}·{operand(grad)}", value

    def _cell_x(self) -> tuple:
        (i,) = self.index
        return self._given(f"X[{i}]", self.net.x[i], "the input", f"x[{i}]")

    def _cell_y(self) -> tuple:
        (i,) = self.index
        what = "the target class" if self.net.loss == "cross_entropy" else "the target"
        return self._given(f"y[{i}]", self.net.y[i], what, f"y[{i}]")

    def _cell_W(self) -> tuple:
        i, j = self.index
        label = f"{subscript('W', self.layer)}[{i},{j}]"
        return self._given(label, self.net.weights[self.layer - 1][i, j], "a weight", f"W{self.layer}[{i},{j}]")

    def _cell_b(self) -> tuple:
        (i,) = self.index
        label = f"{subscript('b', self.layer)}[{i}]"
        return self._given(label, self.net.biases[self.layer - 1][i], "a bias", f"b{self.layer}[{i}]")

    def _cell_Z(self) -> tuple:
        (i,), layer = self.index, self.layer
        weights, bias, below = self.net.weights[layer - 1][i], self.net.biases[layer - 1][i], self.numbers.A[layer - 1]
        w, a, b = subscript("W", layer), _label("A", layer - 1), subscript("b", layer)
        terms = [term for j in range(len(weights)) for term in (
            self._term(f"{w}[{i},{j}]", weights[j]), self._term(f"{a}[{j}]", below[j]))]
        plugged = " + ".join(f"{operand(weights[j])}·{operand(below[j])}" for j in range(len(weights)))
        terms.append(self._term(f"{b}[{i}]", bias))
        return (f"{subscript('Z', layer)}[{i}]", f"Σⱼ {w}[{i},j]·{a}[j] + {b}[{i}]", terms,
                f"{plugged} + {operand(bias)}", self.numbers.Z[layer][i])

    def _cell_A(self) -> tuple:
        (i,), layer = self.index, self.layer
        z, value = self.numbers.Z[layer][i], self.numbers.A[layer][i]
        activation = self.net.activations[layer - 1]
        z_label = f"{subscript('Z', layer)}[{i}]"
        formula, plugged = {
            "relu": (f"ReLU({z_label}) = max(0, {z_label})", f"max(0, {shown(z, False)})"),
            "tanh": (f"tanh({z_label})", f"tanh({shown(z, False)})"),
            "sigmoid": (f"σ({z_label}) = 1/(1 + e^(−{z_label}))", f"1/(1 + e^(−{operand(z)}))"),
            "identity": (f"{z_label} (this layer has no activation)", ""),
        }[activation]
        return f"{subscript('A', layer)}[{i}]", formula, [self._term(z_label, z)], plugged, value

    def _cell_yhat(self) -> tuple:
        (i,), depth = self.index, self.net.depth
        z = self.numbers.Z[depth]
        z_label = subscript("Z", depth)
        if self.net.loss == "mse":
            return (f"ŷ[{i}]", f"{subscript('A', depth)}[{i}] (the output layer's value)",
                    [self._term(f"{z_label}[{i}]", z[i])], "", self.numbers.prediction[i])
        terms = [self._term(f"{z_label}[{k}]", z[k]) for k in range(len(z))]
        plugged = f"e^{operand(z[i])} / (" + " + ".join(f"e^{operand(v)}" for v in z) + ")"
        return (f"ŷ[{i}]", f"softmax({z_label})[{i}] = e^{z_label}[{i}] / Σₖ e^{z_label}[k]", terms, plugged,
                self.numbers.prediction[i])

    def _cell_loss(self) -> tuple:
        prediction, target = self.numbers.prediction, self.net.y
        if self.net.loss == "mse":
            n = len(target)
            terms = [t for k in range(n) for t in (self._term(f"ŷ[{k}]", prediction[k]),
                                                   self._term(f"y[{k}]", target[k]))]
            plugged = f"(1/{n})·(" + " + ".join(
                f"({shown(prediction[k], False)} − {shown(target[k], False)})²" for k in range(n)) + ")"
            return "L", "(1/n)·Σᵢ (ŷ[i] − y[i])²  (MSE, mean over the outputs)", terms, plugged, self.numbers.loss
        label = int(target[0])
        return ("L", f"−ln ŷ[y] with y = {label}  (cross-entropy)", [self._term(f"ŷ[{label}]", prediction[label])],
                f"−ln {operand(prediction[label])}", self.numbers.loss)

    # --- gradients ---------------------------------------------------------------------------

    def _cell_dA(self) -> tuple:
        (j,), layer, depth = self.index, self.layer, self.net.depth
        if layer == depth:  # ∂L/∂ŷ under MSE
            n, prediction, target = len(self.net.y), self.numbers.prediction[j], self.net.y[j]
            return (f"∂L/∂ŷ[{j}]", f"2·(ŷ[{j}] − y[{j}])/n", [self._term(f"ŷ[{j}]", prediction),
                                                              self._term(f"y[{j}]", target)],
                    f"2·({shown(prediction, False)} − {shown(target, False)})/{n}", self.numbers.dA[depth][j])
        weights, upstream = self.net.weights[layer][:, j], self.numbers.dZ[layer + 1]
        w, dz = subscript("W", layer + 1), _gradient_label("Z", layer + 1)
        terms = [t for i in range(len(upstream)) for t in (self._term(f"{w}[{i},{j}]", weights[i]),
                                                           self._term(f"{dz}[{i}]", upstream[i]))]
        plugged = " + ".join(f"{operand(weights[i])}·{operand(upstream[i])}" for i in range(len(upstream)))
        return (f"{_gradient_label('A', layer)}[{j}]", f"Σᵢ {w}[i,{j}]·{dz}[i]", terms, plugged,
                self.numbers.dA[layer][j])

    def _cell_dZ(self) -> tuple:
        (i,), layer = self.index, self.layer
        label, value = f"{_gradient_label('Z', layer)}[{i}]", self.numbers.dZ[layer][i]
        if layer == self.net.depth and self.net.loss == "cross_entropy":
            onehot = float(int(self.net.y[0]) == i)
            prediction = self.numbers.prediction[i]
            return (label, f"ŷ[{i}] − onehot(y)[{i}]  (softmax + cross-entropy together)",
                    [self._term(f"ŷ[{i}]", prediction), self._term(f"onehot(y)[{i}]", onehot)],
                    f"{shown(prediction, False)} − {onehot:g}", value)
        activation = self.net.activations[layer - 1]
        upstream_label = f"∂L/∂ŷ[{i}]" if layer == self.net.depth else f"{_gradient_label('A', layer)}[{i}]"
        upstream = self.numbers.dA[layer][i]
        z, a = self.numbers.Z[layer][i], self.numbers.A[layer][i]
        z_label = f"{subscript('Z', layer)}[{i}]"
        slope, why = {
            "relu": (1.0 if z > 0 else 0.0, f"ReLU′ is 1 because {z_label} = {shown(z)} > 0" if z > 0
                     else f"ReLU′ is 0 because {z_label} = {shown(z)} ≤ 0"),
            "tanh": (1 - a * a, f"tanh′ = 1 − A² = 1 − {operand(a)}²"),
            "sigmoid": (a * (1 - a), f"σ′ = A·(1 − A) = {operand(a)}·(1 − {operand(a)})"),
            "identity": (1.0, "the layer is linear, so f′ = 1"),
        }[activation]
        slope_text = "1" if activation == "identity" else f"{DERIVATIVES[activation]}({z_label})"
        formula = f"{upstream_label} · {slope_text}"
        terms = [self._term(upstream_label, upstream), self._term(f"f′({z_label})", slope)]
        return label, formula + f"  ({why})", terms, f"{operand(upstream)} · {operand(slope)}", value

    def _cell_dW(self) -> tuple:
        (i, j), layer = self.index, self.layer
        dz, below = self.numbers.dZ[layer][i], self.numbers.A[layer - 1][j]
        dz_label, a_label = f"{_gradient_label('Z', layer)}[{i}]", f"{_label('A', layer - 1)}[{j}]"
        return (f"{_gradient_label('W', layer)}[{i},{j}]", f"{dz_label} · {a_label}",
                [self._term(dz_label, dz), self._term(a_label, below)], f"{operand(dz)} · {operand(below)}",
                self.numbers.dW[layer][i, j])

    def _cell_db(self) -> tuple:
        (i,), layer = self.index, self.layer
        dz_label = f"{_gradient_label('Z', layer)}[{i}]"
        return (f"{_gradient_label('b', layer)}[{i}]", f"{dz_label}  (a bias adds 1·b to Z)",
                [self._term(dz_label, self.numbers.dZ[layer][i])], "", self.numbers.db[layer][i])

    @staticmethod
    def _meaning(name: str, label: str, value: float) -> str:
        if not name.startswith("d"):
            return ""
        target = label.split("∂L/∂", 1)[1]
        if not np.isfinite(value):
            return "This gradient is not a finite number: the numbers upstream overflowed."
        if value > 0:
            return (f"Positive: increasing {target} a little would increase the loss, so gradient descent "
                    f"decreases it.")
        if value < 0:
            return (f"Negative: increasing {target} a little would decrease the loss, so gradient descent "
                    f"increases it.")
        return f"Zero: changing {target} a little would not change the loss (to first order)."
