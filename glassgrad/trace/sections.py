"""What a rendered trace shows, in order, independent of the output format.

A trace document (:func:`glassgrad.trace.layers.describe`, possibly extended by a lesson)
becomes a list of blocks; the text, Markdown and HTML renderers only decide how each
block looks. Block kinds:

* :class:`Paragraphs` — explanations in plain words;
* :class:`Summary` — labelled key numbers (prediction, loss, new loss…);
* :class:`Steps` — forward or backward steps: a formula, its numbers, a note;
* :class:`Table` — any other table (a gradient check, a learning-rate sweep…).

A lesson adds its own blocks through the document's optional keys ``explanation``
(list of paragraphs), ``summary`` (list of ``{"label", "value"}``), ``tables`` (list of
``{"title", "intro", "columns", "rows"}``) and ``figures`` (list of ``{"title", "svg"}``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .numbers import format_number, format_values


@dataclass
class Paragraphs:
    title: str
    paragraphs: list[str]


@dataclass
class Summary:
    title: str
    items: list[tuple[str, str]]


@dataclass
class Row:
    """One step: ``formula`` with its ``values`` (label, array) and a short ``note``."""

    step: str
    formula: str
    values: list[tuple[str, Any]] = field(default_factory=list)
    note: str = ""


@dataclass
class Steps:
    title: str
    intro: str
    rows: list[Row]


@dataclass
class Table:
    """A table whose cells are text (shown as is) or numbers and arrays (shown as matrices)."""

    title: str
    intro: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Figure:
    title: str
    svg: str


def cell_text(value: Any) -> str:
    """A table cell: strings as they are, numbers and arrays through :func:`format_values`."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (bool, int, np.integer)):
        return str(value)
    return format_values(value)


def unsigned_columns(rows: list[list[Any]]) -> list[list[Any]]:
    """A table's rows with each column of single numbers, none negative (a loss, an accuracy, a time),
    written as text without ``+``: renderers show text as is, uncoloured. Columns that can hold both
    signs keep them, each number signed and coloured."""
    if not rows:
        return rows
    columns = list(zip(*rows))
    plain = []
    for cells in columns:
        numbers = [cell for cell in cells if cell is not None and not isinstance(cell, str)]
        plain.append(bool(numbers) and all(np.ndim(cell) == 0 and not float(cell) < 0 for cell in numbers))
    return [[format_number(cell, signed=False) if use and cell is not None and not isinstance(cell, str) else cell
             for cell, use in zip(row, plain)] for row in rows]


def _label(entry: dict) -> str:
    name = f" ({entry['name']})" if "name" in entry else ""
    formula = entry.get("formula", "")
    formula = f" = {formula.split('=', 1)[1].strip()}" if "=" in formula else ""
    return f"{entry['symbol']}{name}{formula}"


def _other_reading(step: dict) -> str:
    readings = step.get("readings") or {}
    others = [(kind, text) for kind, text in readings.items() if text != step["formula"]]
    words = {"rows": "for a batch of rows", "column": "for one sample as a column"}
    return "; ".join(f"{words[kind]}: {text}" for kind, text in others)


def forward_rows(document: dict) -> list[Row]:
    rows = []
    for number, step in enumerate(document["forward"], 1):
        values = [(_label(entry), entry["values"]) for entry in step["inputs"]]
        values.append((f"→ {step['output']['symbol']}", step["output"]["values"]))
        note = step.get("note") or _other_reading(step)
        if "ops" in step:
            note = "; ".join(filter(None, [note, "inside: " + ", ".join(step["ops"])]))
        rows.append(Row(f"{number}. {step['layer']}", step["formula"], values, note))
    return rows


def _destination(step: dict) -> str:
    """Where a backward step's result goes: stored, added (a second path), or added to a gradient left over."""
    into = step["into"]
    if step.get("earlier_grad"):
        return (f"added to {into}, which still held the gradient of an earlier backward() "
                "(no zero_grad() in between)")
    return f"added to {into} (a second path)" if step["accumulated"] else f"stored as {into}"


def backward_rows(document: dict) -> list[Row]:
    rows = []
    for number, step in enumerate(document["backward"], 1):
        values = [(_label(entry), entry["values"]) for entry in step["inputs"]]
        if "local" in step:
            local = step["local"]
            values.append((f"{local['symbol']} = {local['formula']}", local["values"]))
        values.append((f"→ {step['output']['symbol']}", step["output"]["values"]))
        rule = f"rule: {step['rule']}" if "rule" in step and "local" not in step else ""
        note = "; ".join(filter(None, [_other_reading(step), rule, _destination(step)]))
        rows.append(Row(f"{number}. {step['layer']}", step["formula"], values, note))
    return rows


def update_rows(document: dict) -> list[Row]:
    rows = []
    for update in document["updates"]:
        label = update.get("gradient_label", f"∂L/∂{update['symbol']}")
        kept = [(f"{letter} ({numbers['key']}) after", numbers["after"])  # the state the rule read
                for letter, numbers in update.get("state", {}).items()]
        values = [(f"old {update['symbol']}", update["old"]), (label, update["gradient"]), *kept,
                  (f"new {update['symbol']}", update["new"])]
        rule = update["rule"].replace("\n", "; ")
        rows.append(Row(f"{update['symbol']} ({update['optimizer']}, η = {update['lr']:g})", rule, values,
                        update.get("note", "")))
    return rows


def op_rows(document: dict) -> tuple[list[Row], list[Row]]:
    """The op-by-op view: every primitive the engine ran, forward and backward."""
    forward = [Row(f"{n}. {op['op']}", op["formula"],
                   [(_label(e), e["values"]) for e in op["inputs"]] + [(f"→ {op['output']['symbol']}",
                                                                         op["output"]["values"])], op["rule"])
               for n, op in enumerate(document["ops"]["forward"], 1)]
    backward = [Row(f"{n}. {op['op']}", f"from {op['upstream']['symbol']}",
                    [(op["upstream"]["symbol"], op["upstream"]["values"])]
                    + [(("+= " if c["accumulated"] else "→ ") + f"∂/∂{c['into']}", c["values"])
                       for c in op["contributions"]], op["rule"])
                for n, op in enumerate(document["ops"]["backward"], 1)]
    return forward, backward


NOTHING_RECORDED = ("No op ran while the tape was recording: the traced block ran no tensor op, or raised an error "
                    "before its first one (Python reported that error where the block ran); fix it and run the block "
                    "again")
"""What a trace says when it holds no step."""


def blocks(document: dict, ops: bool = False) -> list[Any]:
    """The blocks a renderer shows for ``document``; ``ops=True`` adds the op-by-op view."""
    parts: list[Any] = []
    if document.get("explanation"):
        parts.append(Paragraphs("What this shows", list(document["explanation"])))
    summary = [(item["label"], cell_text(item["value"])) for item in document.get("summary", [])]
    if document.get("loss") and not summary:
        loss = document["loss"]
        value = loss["value"]
        shown = format_number(value, signed=False) if np.ndim(value) == 0 and not value < 0 else cell_text(value)
        summary.append((f"loss {loss['symbol']} ({loss['name']}, {loss['reduction']})", shown))
    if summary:
        parts.append(Summary("Key numbers", summary))
    if document.get("forward"):
        parts.append(Steps("Forward pass", "each layer's formula with its numbers", forward_rows(document)))
    if document.get("backward"):
        parts.append(Steps("Backward pass", "the chain rule, from the loss back to every parameter",
                           backward_rows(document)))
    if document.get("gradients"):
        parts.append(Table("Gradients of all parameters", f"{sum(np.size(v) for v in document['gradients'].values())}"
                           " numbers, one per parameter entry", ["parameter", "symbol", "shape", "gradient"],
                           [[name, document.get("symbols", {}).get(name, name), str(list(np.shape(values))), values]
                            for name, values in document["gradients"].items()]))
    if document.get("updates"):
        parts.append(Steps("Update", "what the optimizer changed", update_rows(document)))
    for table in document.get("tables", []):
        parts.append(Table(table["title"], table.get("intro", ""), list(table["columns"]), unsigned_columns(
            [[cell if isinstance(cell, str) or cell is None else np.asarray(cell) for cell in row]
             for row in table["rows"]])))
    if ops and "ops" in document:
        forward, backward = op_rows(document)
        parts += [Steps("Op level: forward", "every primitive op", forward),
                  Steps("Op level: backward", "every vector-Jacobian product", backward)]
    for figure in document.get("figures", []):
        parts.append(Figure(figure["title"], figure["svg"]))
    if not parts:  # a tape of a block that ran no op, or that raised before its first one (a failed step)
        parts.append(Paragraphs("Nothing recorded", [NOTHING_RECORDED]))
    if document.get("notes"):
        parts.append(Paragraphs("Notes", list(document["notes"])))
    return parts
