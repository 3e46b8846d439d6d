"""The scalar view: a small network's trace split into one box per number, as micrograd draws it.

The engine works on tensors and fuses a layer into one op, ``Z = X·Wᵀ + b``. A learner who
built micrograd knows the same layer as scalar operations: per output ``i``,

    Z[i] = ((b[i] + W[i,1]·x[1]) + W[i,2]·x[2]) + …        (one ``·`` and one ``+`` box per input)

This module splits a described trace (``tape.describe()`` or a lesson's document) that way,
reading each op's row of the rule table by its *kind*, never by its name:

* ``affine`` (a linear layer): a ``·`` box per weight and a chain of ``+`` boxes per output;
* ``elementwise`` / ``activation`` (ReLU, tanh, ``+``, ``·`` …): one box per output entry, its
  inputs the entries that broadcasting pairs with it, written with the row's own notation;
* ``loss`` with a written form: one box per item (``(ŷ[k] − y[k])²``), a chain of ``+``, and the
  reduction (``Σ/n`` for the mean).

Every number comes from the engine's record: the value of each tensor entry, and its gradient
(the contributions of the backward steps summed, :func:`.graph.gradients_by_symbol`). The boxes
the split adds get theirs by the chain rule through ``+`` and ``·``:

    ∂L/∂(W[i,j]·x[j]) = ∂L/∂(each partial sum of Z[i]) = ∂L/∂Z[i]
    ∂L/∂(item k) = ∂L/∂(partial sums of the items) = ∂L/∂L_total · (±1/n for the mean, ±1 for the sum)

and their values are the products and partial sums worked out in float64 (the last partial sum
is the engine's ``Z[i]``). Boxes are named as the traces name positions, counting from 1
(:mod:`.counting`); each box of a tensor entry keeps the code's index (``entry``, ``label``). Networks of more than
:data:`MAX_PARAMETERS` parameters are refused: the picture would have hundreds of boxes.

>>> from glassgrad.lessons import lesson
>>> boxes = scalar_boxes(lesson("diagonal-flip"))
>>> box = next(b for b in boxes if b.name == "W₂[1,1]·A₁[1]")
>>> round(box.value, 4), round(box.grad, 4)     # 0.4·0.5, and ∂L/∂ŷ[1] = 2(0.1 − 1)/4
(0.2, -0.45)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ops import RULES
from . import counting
from .explain import broadcast_index
from .graph import Node, draw_svg, gradients_by_symbol, place
from .numbers import PRECISION_NOTE, format_number
from .render_json import render_json

MAX_PARAMETERS = 40
MAX_BOXES = 400
FORMATS = ("svg", "html", "json")


@dataclass
class Scalar:
    """One box: a number, ∂L/∂ of it (None for data, which gets no gradient), and the boxes it is made from.

    ``name`` counts from 1 as the traces do (``Z₁[3]``); ``entry`` is the tensor entry it stands for, at the
    code's index (``["Z₁", [0, 2]]``); boxes the split adds have none.
    """

    name: str
    title: str
    op: str
    value: float
    grad: float | None
    inputs: list[str] = field(default_factory=list)
    entry: tuple[str, list[int]] | None = None

    @property
    def label(self) -> str:
        """The name with the code's entry beside it: ``Z₁[3] (Z₁[0, 2] in code)``; a box the split adds, its name."""
        return counting.with_code(self.name, *self.entry) if self.entry else self.name

    def as_json(self) -> dict:
        return {"name": self.name, "label": self.label, "title": self.title, "op": self.op, "value": self.value,
                "grad": self.grad, "inputs": self.inputs, "entry": list(self.entry) if self.entry else None}


def entry_name(symbol: str, shape: Sequence[int], index: Sequence[int]) -> str:
    """``W₁[1,3]`` for the code's ``W₁[0, 2]``, counting from 1 as the traces do; axes of length 1 are left out
    (``X[3]`` for the code's ``X[0, 2]`` in a 1×4 row, ``w₀`` for a number)."""
    return counting.entry(symbol, tuple(int(i) for i, n in zip(index, shape) if n != 1))


class _Boxes:
    """The boxes made so far, by name, with each tensor's values and gradients at hand."""

    def __init__(self, document: dict) -> None:
        self.boxes: dict[str, Scalar] = {}
        self.values: dict[str, np.ndarray] = {}
        self.gradients = gradients_by_symbol(document, "op")
        self.root = document["loss"]["symbol"] if document.get("loss") else None

    def gradient(self, symbol: str, index: tuple[int, ...]) -> float | None:
        if symbol in self.gradients:
            return float(np.asarray(self.gradients[symbol])[index])
        return 1.0 if symbol == self.root else None

    def tensor(self, entry: dict) -> np.ndarray:
        values = np.asarray(entry["values"], dtype=np.float64)
        self.values.setdefault(entry["symbol"], values)
        return values

    def entry(self, entry: dict, index: tuple[int, ...]) -> str:
        """The box of one entry of an input tensor, made as a leaf if no op has made it yet."""
        values = self.tensor(entry)
        name = entry_name(entry["symbol"], values.shape, index)
        if name not in self.boxes:
            self.add(Scalar(name, name, "", float(values[index]), self.gradient(entry["symbol"], index),
                            entry=(entry["symbol"], [int(i) for i in index])))
        return name

    def output(self, entry: dict, index: tuple[int, ...], title: str, op: str, inputs: list[str]) -> str:
        """The box of one entry of an op's output: the engine's value and gradient."""
        values = self.tensor(entry)
        name = entry_name(entry["symbol"], values.shape, index)
        self.add(Scalar(name, title, op, float(values[index]), self.gradient(entry["symbol"], index), inputs,
                        (entry["symbol"], [int(i) for i in index])))
        return name

    def add(self, box: Scalar) -> str:
        if len(self.boxes) >= MAX_BOXES:
            raise ValueError(f"the scalar view draws at most {MAX_BOXES} boxes and this trace needs more: "
                             "trace a smaller batch, or use the tensor-level graph (glassgrad graph NAME)")
        self.boxes[box.name] = box
        return box.name


def _affine(boxes: _Boxes, step: dict) -> None:
    """``Z[r,i] = b[i] + Σⱼ W[i,j]·X[r,j]`` as ``·`` boxes and a chain of ``+`` boxes (micrograd's order)."""
    x_entry, w_entry, *rest = step["inputs"]
    b_entry = rest[0] if rest else None
    x, w = boxes.tensor(x_entry), boxes.tensor(w_entry)
    out = step["output"]
    z = boxes.tensor(out)
    rows = x.reshape(-1, x.shape[-1])
    for r in range(rows.shape[0]):
        for i in range(w.shape[0]):
            z_index = np.unravel_index(r * w.shape[0] + i, z.shape)
            z_name = entry_name(out["symbol"], z.shape, z_index)
            grad = boxes.gradient(out["symbol"], z_index)
            terms = []
            for j in range(w.shape[1]):
                x_name = boxes.entry(x_entry, np.unravel_index(r * w.shape[1] + j, x.shape))
                w_name = boxes.entry(w_entry, (i, j))
                name = f"{w_name}·{x_name}"
                terms.append(boxes.add(Scalar(name, name, "·", float(w[i, j] * rows[r, j]), grad, [w_name, x_name])))
            summands = ([boxes.entry(b_entry, (i,))] if b_entry else []) + terms
            total, running = summands[0], boxes.boxes[summands[0]].value
            for j, term in enumerate(summands[1:-1]):
                running += boxes.boxes[term].value
                name = f"{z_name} {counting.ordinal('partial sum', j)}"
                total = boxes.add(Scalar(name, "+", "+", running, grad, [total, term]))
            boxes.output(out, z_index, f"{z_name} = +", "+", [total, summands[-1]] if len(summands) > 1 else [total])


def _elementwise(boxes: _Boxes, step: dict, rule: Any) -> None:
    out = step["output"]
    z = boxes.tensor(out)
    for index in np.ndindex(*z.shape):
        names = [boxes.entry(entry, broadcast_index(boxes.tensor(entry).shape, z.shape, index))
                 for entry in step["inputs"]]
        written = rule.written.format(**dict(zip(rule.roles, names)))
        name = entry_name(out["symbol"], z.shape, index)
        boxes.output(out, index, f"{name} = {written}", rule.symbol, names)


def _loss(boxes: _Boxes, step: dict, rule: Any) -> None:
    """The items of the loss, their chain of ``+`` and the reduction, from the row's written form."""
    prediction_entry, target_entry = step["inputs"][:2]
    prediction, target = boxes.tensor(prediction_entry), np.asarray(target_entry["values"])
    form = rule.loss.for_target(target)
    items = np.asarray(form.item_value(prediction, target), dtype=np.float64).reshape(-1)
    sign = -1.0 if form.negated else 1.0
    out = step["output"]
    total = float(np.asarray(out["values"]))
    reductions = {"mean": sign * items.sum() / items.size, "sum": sign * items.sum()}
    # the engine summed in its dtype (float32: ~1e-7 relative error per item); mean and sum differ n-fold
    matching = [name for name, value in reductions.items() if np.isclose(value, total, rtol=1e-5, atol=1e-12)]
    if not matching:
        raise ValueError(f"the scalar view splits a loss reduced by its mean or sum; {out['symbol']} is neither")
    scale = sign / items.size if matching[0] == "mean" else sign
    grad_total = boxes.gradient(out["symbol"], ())
    grad = None if grad_total is None else grad_total * scale
    per_row = form.count == "N"
    names = []
    for k in range(items.size):
        if per_row:
            inputs = [boxes.entry(prediction_entry, np.unravel_index(k * prediction.shape[-1] + j, prediction.shape))
                      for j in range(prediction.shape[-1])]
            fill = {rule.roles[0]: counting.entry(prediction_entry["symbol"], (k,)),
                    rule.roles[1]: counting.entry(target_entry["symbol"], (k,))}
        else:
            index = np.unravel_index(k, prediction.shape)
            inputs = [boxes.entry(prediction_entry, index), boxes.entry(target_entry, index)]
            fill = dict(zip(rule.roles, inputs))
        title = form.item.format(**fill).replace("ᵢ", "")
        name = f"{out['symbol']} {counting.ordinal('item', k)}"
        names.append(boxes.add(Scalar(name, title, "item", float(items[k]), grad, inputs)))
    running, total_name = float(items[0]), names[0]
    for k, (name, item) in enumerate(zip(names[1:], items[1:])):
        running += float(item)
        partial = f"{out['symbol']} {counting.ordinal('partial sum', k)}"
        total_name = boxes.add(Scalar(partial, "+", "+", running, grad, [total_name, name]))
    written = {"mean": f"{'−' if sign < 0 else ''}Σ/{items.size}", "sum": f"{'−' if sign < 0 else ''}Σ"}[matching[0]]
    boxes.output(out, (), f"{out['symbol']} = {written}", written, [total_name])


def scalar_boxes(document: dict) -> list[Scalar]:
    """The boxes of ``document``'s first pass, inputs before the boxes made from them.

    Raises ``ValueError`` (one line) for a network of more than :data:`MAX_PARAMETERS`
    parameters, or an op this view does not split (only linear layers, elementwise ops and
    losses with a written form).
    """
    count = sum(int(np.asarray(values).size) for values in document.get("parameters", {}).values())
    if count > MAX_PARAMETERS:
        raise ValueError(f"the scalar view draws networks of at most {MAX_PARAMETERS} parameters (one box each) and "
                         f"this one has {count}: use the tensor-level graph instead (glassgrad graph NAME)")
    boxes = _Boxes(document)
    for step in document["ops"]["forward"]:
        rule = RULES[step["op"]]
        if rule.kind == "affine":
            _affine(boxes, step)
        elif rule.elementwise:
            _elementwise(boxes, step, rule)
        elif rule.kind == "loss" and rule.loss is not None:
            _loss(boxes, step, rule)
        else:
            raise ValueError(f"the scalar view splits linear layers, elementwise ops and losses; this trace also "
                             f"has {step['op']} ({rule.kind}): use the tensor-level graph (glassgrad graph NAME)")
    return list(boxes.boxes.values())


def scalar_document(document: dict) -> dict:
    """The scalar boxes of ``document`` as a JSON-ready dict (``boxes`` in order, and what they mean)."""
    boxes = scalar_boxes(document)
    return {"format": "glassgrad-scalar-graph", "version": 2,  # 2: names count from 1, each entry has a label
            "title": f"{document.get('title', 'trace')}: every number a box",
            "note": (f"each box: a value and ∂L/∂ of it (— for data, which gets no gradient); {PRECISION_NOTE}. "
                     f"{counting.CONVENTION}"),
            "boxes": [box.as_json() for box in boxes]}


def _lines(box: dict) -> list[tuple[str, str]]:
    grad = "grad  — (data)" if box["grad"] is None else f"grad  {format_number(box['grad'])}"
    return [(box["title"], "symbol"), (f"value {format_number(box['value'])}", "value"), (grad, "grad")]


def _placed(scalar: dict) -> tuple[dict[str, Node], float, float]:
    nodes = {box["name"]: Node(box["name"], box["value"], box["title"], box["grad"], list(box["inputs"]),
                               lines=_lines(box)) for box in scalar["boxes"]}
    return (nodes, *place(nodes))


def scalar_layout(scalar: dict) -> dict:
    """:func:`scalar_document` with each box's place and text lines (for a page that draws it itself)."""
    nodes, width, height = _placed(scalar)
    boxes = [{**box, "x": nodes[box["name"]].x, "y": nodes[box["name"]].y, "width": nodes[box["name"]].width,
              "height": nodes[box["name"]].height, "lines": [list(line) for line in nodes[box["name"]].lines]}
             for box in scalar["boxes"]]
    return {**scalar, "boxes": boxes, "width": width, "height": height}


def scalar_svg(scalar: dict, fit: bool = True) -> str:
    """The boxes of :func:`scalar_document` drawn as a graph (the same drawing as :func:`.graph.graph_svg`);
    ``fit=False`` keeps it full size (to scroll) rather than shrunk to the width of the page."""
    nodes, width, height = _placed(scalar)
    return draw_svg(nodes, width, height, f"{scalar['title']}: {scalar['note']}", fit=fit)


def render_scalar(document: dict, format: str) -> str:
    """``document``'s scalar view as ``"svg"``, ``"html"`` (a standalone page) or ``"json"``."""
    if format not in FORMATS:
        raise ValueError(f"the scalar view is drawn as {', '.join(FORMATS)}, not {format!r}")
    scalar = scalar_document(document)
    if format == "json":  # written as the trace's JSON writes numbers: a non-finite one as "nan", "inf" or "-inf"
        return render_json(scalar)
    return scalar_svg(scalar) if format == "svg" else scalar_html(scalar)


def scalar_html(scalar: dict) -> str:
    """A standalone page: the title, what a box shows, and the scalar graph (scrolls sideways in its own box)."""
    from html import escape

    from .render_html import html_page, scrolling_figure

    body = (f'<div class="gg-trace"><h1>{escape(scalar["title"])}</h1><p class="note">{escape(scalar["note"])}</p>'
            f'{scrolling_figure(scalar_svg(scalar, fit=False), "drawing")}</div>')
    return html_page(scalar["title"], body)
