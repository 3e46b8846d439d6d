"""The computational graph of a trace as SVG, laid out here (no Graphviz or other program).

Each box is a tensor: its symbol (or, for a computed tensor, the formula that made it:
``Z₁ = W₁·X + b₁``), then its value and its gradient ``∂L/∂`` (rounded for display; larger
tensors show their shape and norm instead of every entry). Arrows go from
the inputs of a step to its output. ``level="layer"`` (default) draws one arrow fan per
lesson step (``X, W₁, b₁ → Z₁``); ``level="op"`` one per primitive op.

Layout, in three steps:

1. *columns*: a tensor's column is one more than the largest column of its inputs; a
   parameter or data tensor (no inputs) moves right next to the first step that uses it;
2. *order in a column*: boxes sort by the mean height of the boxes they connect to on the
   left (the barycentre heuristic), which keeps arrows short and mostly uncrossed;
3. *coordinates*: columns are as wide as their widest box; boxes stack with a gap.

>>> import glassgrad as gg
>>> x = gg.tensor([2.0], requires_grad=True)
>>> with gg.trace() as tape:
...     (x * x).sum().backward()
>>> graph_svg(tape.describe()).startswith("<svg")
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from operator import itemgetter
from typing import Any

import numpy as np

from .numbers import PRECISION_NOTE, format_number, matrix_blocks, shape_text

CHAR_WIDTH = 7.2
LINE_HEIGHT = 15
PADDING = 8
COLUMN_GAP = 56
ROW_GAP = 18
MAX_LISTED = 16
"""Tensors with more entries show their shape and norm rather than every number."""


MAX_TITLE = 48
"""A computed box is titled by its formula when the formula is at most this long (else by its symbol)."""


@dataclass
class Node:
    symbol: str
    value: Any = None
    title: str = ""
    gradient: Any = None
    inputs: list[str] = field(default_factory=list)
    column: int = 0
    x: float = 0.0
    y: float = 0.0
    lines: list[tuple[str, str]] = field(default_factory=list)

    @property
    def width(self) -> float:
        return max(len(text) for text, _ in self.lines) * CHAR_WIDTH + 2 * PADDING

    @property
    def height(self) -> float:
        return len(self.lines) * LINE_HEIGHT + 2 * PADDING - 3


def _value_lines(prefix: str, values: Any, style: str) -> list[tuple[str, str]]:
    array = np.asarray(values)
    if array.size > MAX_LISTED:
        norm = format_number(np.linalg.norm(array.astype(np.float64)), signed=False)  # never negative: no sign
        return [(f"{prefix} {shape_text(array.shape)}, ‖·‖ = {norm}", style)]
    blocks, _ = matrix_blocks(array)
    rows = []
    for heading, cells in blocks:
        rows += ([heading] if heading else []) + [" ".join(row) for row in cells]
    return [(f"{prefix} {rows[0]}", style)] + [(" " * (len(prefix) + 1) + row, style) for row in rows[1:]]


def gradients_by_symbol(document: dict, level: str = "op") -> dict[str, np.ndarray]:
    """∂L/∂ of each tensor of ``document``, by symbol: the contributions of every backward step summed."""
    totals: dict[str, np.ndarray] = {}

    def add(symbol: str, values: Any) -> None:
        values = np.asarray(values, dtype=np.float64)
        totals[symbol] = totals[symbol] + values if symbol in totals else values

    if level == "op":
        for op in document["ops"]["backward"]:
            for contribution in op["contributions"]:
                add(contribution["into"], contribution["values"])
        return totals
    for step in document["backward"]:
        add(step["output"]["of"], step["output"]["values"])
    return totals


def build_nodes(document: dict, level: str = "layer") -> dict[str, Node]:
    """The graph's boxes, keyed by symbol, with their inputs, values and gradients."""
    if level not in ("layer", "op"):
        raise ValueError(f"graph level must be 'layer' or 'op', got {level!r}")
    steps = document["forward"] if level == "layer" else document["ops"]["forward"]
    nodes: dict[str, Node] = {}
    for step in steps:
        for entry in step["inputs"]:
            if "formula" in entry:  # a derived display value such as ŷ = softmax(Z), not a tensor of the graph
                continue
            nodes.setdefault(entry["symbol"], Node(entry["symbol"], entry["values"]))
        output = step["output"]
        node = nodes.setdefault(output["symbol"], Node(output["symbol"], output["values"]))
        node.title = step["formula"] if len(step["formula"]) <= MAX_TITLE else ""
        node.inputs = list(dict.fromkeys(e["symbol"] for e in step["inputs"]
                                         if "formula" not in e and e["symbol"] != node.symbol))
    gradients = gradients_by_symbol(document, level)
    root = document["loss"]["symbol"] if document.get("loss") else None
    for node in nodes.values():
        node.gradient = gradients.get(node.symbol)
        node.lines = [(node.title or node.symbol, "symbol")] + _value_lines("value", node.value, "value")
        if node.gradient is not None:
            node.lines += _value_lines("grad ", node.gradient, "grad")
        elif node.symbol == root:
            node.lines.append(("grad  +1 (∂L/∂L)", "grad"))
    return nodes


def _barycentre(node: Node, users: dict[str, list[Node]], position: dict[str, float], fallback: float) -> float:
    """The mean position of the boxes ``node`` is linked to and already placed (``fallback`` if none)."""
    linked = [position[s] for s in node.inputs if s in position]
    linked += [position[user.symbol] for user in users.get(node.symbol, []) if user.symbol in position]
    return sum(linked) / len(linked) if linked else fallback


def _layout(nodes: dict[str, Node]) -> tuple[float, float]:
    for node in nodes.values():  # nodes are in the order they were made, inputs first
        node.column = 1 + max((nodes[s].column for s in node.inputs), default=-1)
    users: dict[str, list[Node]] = {}
    for node in nodes.values():
        for symbol in node.inputs:
            users.setdefault(symbol, []).append(node)
    for node in nodes.values():
        if not node.inputs and node.symbol in users:
            node.column = max(0, min(user.column for user in users[node.symbol]) - 1)
    columns: dict[int, list[Node]] = {}
    for node in nodes.values():
        columns.setdefault(node.column, []).append(node)
    position: dict[str, float] = {}
    for number in sorted(columns):
        column = columns[number]
        keys = [_barycentre(node, users, position, rank) for rank, node in enumerate(column)]
        column[:] = [node for _, node in sorted(zip(keys, column), key=itemgetter(0))]
        for rank, node in enumerate(column):
            position[node.symbol] = rank
    x = PADDING
    heights = {n: sum(node.height for node in column) + ROW_GAP * (len(column) - 1) for n, column in columns.items()}
    total_height = max(heights.values()) + 2 * PADDING
    for number in sorted(columns):
        column = columns[number]
        y = (total_height - heights[number]) / 2
        for node in column:
            node.x, node.y = x, y
            y += node.height + ROW_GAP
        x += max(node.width for node in column) + COLUMN_GAP
    return x - COLUMN_GAP + PADDING, total_height


def placed_nodes(document: dict, level: str = "layer") -> tuple[dict[str, Node], float, float]:
    """The boxes with their positions, and the drawing's width and height."""
    nodes = build_nodes(document, level)
    return (nodes, *place(nodes))


def place(nodes: dict[str, Node]) -> tuple[float, float]:
    """Give each box its position (columns by depth, ordered by barycentre); returns the width and height."""
    return _layout(nodes) if nodes else (10.0, 10.0)


def graph_svg(document: dict, level: str = "layer", fit: bool = True) -> str:
    """The graph of ``document`` (a described trace) as SVG text; ``fit=False`` keeps it full size (to scroll)."""
    nodes, width, height = placed_nodes(document, level)
    return draw_svg(nodes, width, height, f"computational graph ({level} level): value and gradient in each box; "
                    f"{PRECISION_NOTE}", fit=fit)


def draw_svg(nodes: dict[str, Node], width: float, height: float, caption: str, fit: bool = True) -> str:
    """Placed boxes (see :func:`place`) and the arrows between them as SVG text, titled ``caption``;
    ``fit`` lets a page shrink the drawing to its width."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        + ('style="max-width: 100%; height: auto" ' if fit else "") +
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans Mono, monospace" font-size="12">',
        f"<title>{escape(caption)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
    ]
    for node in nodes.values():
        for symbol in node.inputs:
            source = nodes[symbol]
            x1, y1 = source.x + source.width, source.y + source.height / 2
            x2, y2 = node.x, node.y + node.height / 2
            bend = (x2 - x1) / 2
            parts.append(f'<path d="M {x1:.1f} {y1:.1f} C {x1 + bend:.1f} {y1:.1f}, {x2 - bend:.1f} {y2:.1f}, '
                         f'{x2:.1f} {y2:.1f}" fill="none" stroke="#555" stroke-width="1.2" marker-end="url(#arrow)"/>')
    colours = {"symbol": "#111", "value": "#1d3f8a", "grad": "#8a1d3f"}
    for node in nodes.values():
        fill = "#eef3fb" if not node.inputs else "#fff"
        parts.append(f'<g><rect x="{node.x:.1f}" y="{node.y:.1f}" width="{node.width:.1f}" height="{node.height:.1f}" '
                     f'rx="5" fill="{fill}" stroke="#333"/>')
        for line, (text, style) in enumerate(node.lines):
            weight = ' font-weight="bold"' if style == "symbol" else ""
            parts.append(f'<text x="{node.x + PADDING:.1f}" y="{node.y + PADDING + 10 + line * LINE_HEIGHT:.1f}" '
                         f'fill="{colours[style]}"{weight} xml:space="preserve">{escape(text)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)
