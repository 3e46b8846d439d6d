"""Clicking a number: its formula, the engine's numbers plugged in, and the engine's result.

A cell of the step-through (``"Z1[0]"``, ``"dW2[1,0]"``, ``"loss"``) names one entry of one
tensor of the traced pass. The step of the tape's document that made it (its formula, its
inputs' numbers) goes to the glass box's one per-entry explainer
(:func:`glassgrad.trace.explain.trace_entry`), which practice sheets use as well; given
numbers (the input, the target, a weight as the example set it or as you edited it) say
where they came from, and an updated weight shows the optimizer's update record
(``W ← W − η·∂L/∂W``: the value before, η and the gradient it used).

Every operand and every result is a number the engine computed (``terms`` lists each number
plugged in, with the tensor's symbol and the entry's index, at full precision); only the text
is rounded (see :mod:`.display`).
"""

from __future__ import annotations

import re

import numpy as np

from glassgrad.trace import counting
from glassgrad.trace import explain as entries
from glassgrad.trace.explain import Entry, Operand
from glassgrad.trace.numbers import written_rounded

from .display import operand, precision_note, shown
from .safety import ApiError
from .stepper import GIVEN_SYMBOLS, Walkthrough

CELL = re.compile(r"^(?P<name>[A-Za-z]+)(?P<layer>\d*)(?:\[(?P<index>\d+(?:,\d+)?)\])?$")
WRITER = entries.Writer(factor=operand, result=shown, rounds=written_rounded)
LOSS_WRITER = entries.Writer(factor=operand, result=lambda value: shown(value, signed=False), rounds=written_rounded)
"""The loss's explanation: its value without a ``+``, as the page's loss line writes it (a loss is never negative)."""
GIVEN = ("x", "y", "W", "b")
LAYERED = ("W", "b", "Z", "A", "dZ", "dW", "db")


def explain(walk: Walkthrough, cell: str) -> dict:
    """The explanation of one cell, e.g. ``"dW2[1,0]"``, ``"Z1[0]"``, ``"loss"``."""
    match = CELL.match(cell or "")
    if not match:
        raise ApiError(422, f"cell {cell!r} is not a cell name; use names such as W1[0,2], dW2[1,0], Z1[0] or loss")
    name, layer_text = match["name"], match["layer"]
    index = tuple(int(i) for i in match["index"].split(",")) if match["index"] else ()
    depth = walk.network.depth
    layer = int(layer_text) if layer_text else 0
    allowed = range(1, depth + 1) if name in LAYERED else range(0, depth + 1) if name == "dA" else (0,)
    if name not in (*GIVEN, *LAYERED, "dA", "yhat", "loss") or layer not in allowed or (layer_text == "") != (
            name not in (*LAYERED, "dA")):
        raise ApiError(422, f"cell {cell!r} does not exist in this network ({depth} layers)")
    entry = Cell(walk, name, layer, index, cell).entry()
    is_class = name == "y" and walk.network.y.dtype.kind != "f"
    writer = LOSS_WRITER if name == "loss" else WRITER
    result = str(int(entry.value)) if is_class else writer.result(entry.value)
    if entry.formula:
        text = entry.text(writer)
    else:  # a given number: say where it comes from
        text = f"{entry.label} = {result}: {entry.note}"
    dtype = walk.network.dtype
    own = walk.network.y.dtype if is_class else dtype  # a class label is an integer, not the model's float
    return {
        "cell": cell, "label": entry.label, "formula": entry.formula, "plugged": entry.plugged, "result": result,
        "text": text, "value": entry.value, "full": str(own.type(entry.value)), "dtype": own.name,
        "terms": [{"label": term.label, "symbol": term.symbol, "index": list(term.index), "value": term.value,
                   "text": shown(term.value)} for term in entry.terms],
        "meaning": _meaning(name, entry.label, entry.value), "editable": name in GIVEN,
        "precision": precision_note(dtype),
    }


class Cell:
    """One cell of the view: which tensor of the traced pass it is, and the step that made it."""

    def __init__(self, walk: Walkthrough, name: str, layer: int, index: tuple, cell: str) -> None:
        self.walk, self.name, self.index, self.cell = walk, name, index, cell
        self.layer = layer
        self.traced, self.numbers = walk.traced, walk.numbers

    def entry(self) -> Entry:
        if self.name in GIVEN:
            return self.given()
        if self.numbers is None:
            raise ApiError(422, f"{self.cell} is not computed yet: press Forward first")
        if self.name.startswith("d"):
            return self.gradient()
        if self.name == "loss":
            return entries.trace_entry(self.numbers.loss_step, "forward", self.checked((), ()), LOSS_WRITER,
                                       self.numbers.parameters)
        if self.name == "yhat":
            return self.prediction()
        layer = self.numbers.layers[self.layer - 1]
        symbol = layer.z if self.name == "Z" else layer.a
        step = self.numbers.forward[symbol]
        return entries.trace_entry(step, "forward", self.checked(self.index, self.numbers.values[symbol].shape),
                                   WRITER, self.numbers.parameters)

    def checked(self, index: tuple, shape: tuple) -> tuple:
        if len(index) != len(shape) or any(i >= n for i, n in zip(index, shape)):
            raise ApiError(422, f"cell {self.cell!r}: index {list(index)} is outside the shape {list(shape)}")
        return index

    def given(self) -> Entry:
        network, layer = self.walk.network, self.layer
        if self.name in ("x", "y"):
            symbol = GIVEN_SYMBOLS[self.name]
            values, what = getattr(network, self.name), "the input" if self.name == "x" else "the target"
        else:
            parameter = network.layers[layer - 1][0 if self.name == "W" else 1]
            traced = self.traced.layers[layer - 1]
            symbol, values = (traced.weight if self.name == "W" else traced.bias), parameter.array
            what = "a weight" if self.name == "W" else "a bias"
        out = Operand(symbol, values)
        index = self.checked(self.index, out.shape)
        if self.name == "y" and values.dtype.kind != "f":  # a class label is the code's index of its class
            what += f", {counting.ordinal_with_code('class', int(values[index]))}"
        origin = network.origins.get(self.cell)
        if origin is None:
            return entries.given(out, index, f"{what}, given by the example", WRITER)
        if origin[0] == "edit":
            return entries.given(out, index, f"{what}, set by you", WRITER)
        _, old, gradient, lr, count, rule = origin
        return entries.update(out, index, old, lr, gradient, rule, WRITER, note=f"update {count}")

    def gradient(self) -> Entry:
        numbers, name, layer = self.numbers, self.name, self.layer
        below_output = name == "dA" and layer < self.walk.network.depth  # ∂L/∂A_l comes with layer l + 1
        if not self.walk.revealed(layer + 1 if below_output else layer):
            raise ApiError(422, f"{self.cell} is not computed yet: press Backward until it reaches this layer")
        if name == "dA":
            symbol = numbers.layers[layer].source if below_output else numbers.prediction["symbol"]
        else:
            traced = numbers.layers[layer - 1]
            symbol = {"dZ": traced.z, "dW": traced.weight, "db": traced.bias}[name]
        step = numbers.backward.get(symbol)
        if step is None:
            raise ApiError(422, f"cell {self.cell!r} does not exist: the loss sends its gradient straight to "
                                f"∂L/∂{numbers.layers[-1].z} (softmax and cross-entropy together)")
        index = self.checked(self.index, numbers.gradients[symbol].shape)
        return entries.trace_entry(step, "backward", index, WRITER, numbers.parameters)

    def prediction(self) -> Entry:
        """ŷ: the loss's own softmax of the logits, or the output layer's value."""
        numbers = self.numbers
        item = numbers.prediction
        out = Operand("ŷ", numbers.sample(item))
        index = self.checked(self.index, out.shape)
        if "formula" not in item:
            return entries.trace_entry(numbers.forward[item["symbol"]], "forward", index, WRITER, numbers.parameters)
        inputs = [Operand(i["symbol"], numbers.sample(i)) for i in numbers.loss_step["inputs"] if i is not item]
        right = item["formula"].split(" = ", 1)[-1]
        return entries.whole(out, index, WRITER.entry(right, index), inputs, WRITER)


def _meaning(name: str, label: str, value: float) -> str:
    if not name.startswith("d"):
        return "" if np.isfinite(value) else (f"{label} is not a finite number: the numbers it is made from grew "
                                              f"past the largest number its float type holds.")
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
