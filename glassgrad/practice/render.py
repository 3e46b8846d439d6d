"""Showing exercise numbers: matrices as aligned text (terminal, Markdown) and as HTML tables.

A tensor to show is an object array whose entries are exact fractions, ``None`` for the
blank (shown ``?``) or a label string for a numbered blank (``?3``). Column vectors print
as columns, 1-D vectors as one row, scalars inline:

>>> import numpy as np
>>> from fractions import Fraction
>>> print(tensors_text({"x": np.array([[Fraction(1)], [None]], dtype=object)}))
x = [ 1 ]
    [ ? ]
"""

from __future__ import annotations

import html
from importlib import resources

import numpy as np

from .numbers import number_text
from .problem import Problem

LINE_WIDTH = 96
GAP = "    "


def cell_text(value: object) -> str:
    """One entry as shown: a number, ``?`` for the blank, or a blank's label."""
    return value if isinstance(value, str) else number_text(value)


def tensor_lines(name: str, values: np.ndarray) -> list[str]:
    """``name = [ … ]`` on one line per row, columns right-aligned."""
    if values.ndim == 0:
        return [f"{name} = {cell_text(values.item())}"]
    rows = values.reshape(1, -1) if values.ndim == 1 else values.reshape(values.shape[0], -1)
    texts = [[cell_text(v) for v in row] for row in rows]
    widths = [max(len(row[c]) for row in texts) for c in range(rows.shape[1])]
    prefix = f"{name} = "
    lines = []
    for r, row in enumerate(texts):
        body = "  ".join(text.rjust(width) for text, width in zip(row, widths))
        lines.append(f"{prefix if r == 0 else ' ' * len(prefix)}[ {body} ]")
    return lines


def tensors_text(tensors: dict[str, np.ndarray], width: int = LINE_WIDTH) -> str:
    """Several tensors side by side, wrapping onto a new band when a line would pass ``width``."""
    bands: list[list[list[str]]] = [[]]
    used = 0
    for name, values in tensors.items():
        block = tensor_lines(name, values)
        block_width = max(len(line) for line in block)
        if bands[-1] and used + len(GAP) + block_width > width:
            bands.append([])
            used = 0
        used += (len(GAP) if bands[-1] else 0) + block_width
        bands[-1].append(block)
    return "\n\n".join(_side_by_side(band) for band in bands)


def _side_by_side(blocks: list[list[str]]) -> str:
    height = max(len(block) for block in blocks)
    widths = [max(len(line) for line in block) for block in blocks]
    lines = []
    for r in range(height):
        parts = [(block[r] if r < len(block) else "").ljust(w) for block, w in zip(blocks, widths)]
        lines.append(GAP.join(parts).rstrip())
    return "\n".join(lines)


def problem_text(problem: Problem) -> str:
    """A problem for the terminal: question, equation, numbers, notes."""
    parts = [problem.question, "", f"    {problem.equation}", "", tensors_text(problem.tensors)]
    parts += ["", *problem.notes] if problem.notes else []
    return "\n".join(parts)


def tensor_html(name: str, values: np.ndarray) -> str:
    """A tensor as an HTML table in square brackets (drawn by ``span.brackets``); blanks get the class ``blank``."""
    label = f'<span class="name">{html.escape(name)} =</span>'
    if values.ndim == 0:
        return f'<div class="tensor">{label} {_cell_html(values.item(), "span")}</div>'
    rows = values.reshape(1, -1) if values.ndim == 1 else values.reshape(values.shape[0], -1)
    body = "".join("<tr>" + "".join(_cell_html(v, "td") for v in row) + "</tr>" for row in rows)
    return f'<div class="tensor">{label}<span class="brackets"><table class="matrix">{body}</table></span></div>'


def _cell_html(value: object, tag: str) -> str:
    classes = ["scalar"] if tag == "span" else []
    classes += ["blank"] if value is None or isinstance(value, str) else []
    css = f' class="{" ".join(classes)}"' if classes else ""
    return f"<{tag}{css}>{html.escape(cell_text(value))}</{tag}>"


def tensors_html(tensors: dict[str, np.ndarray]) -> str:
    return '<div class="tensors">' + "".join(tensor_html(n, v) for n, v in tensors.items()) + "</div>"


def page_html(title: str, intro: str, body: str, key: str) -> str:
    """A standalone printable page (styles inline, nothing fetched); the key starts a new page."""
    style = resources.files("glassgrad.practice").joinpath("worksheet.css").read_text(encoding="utf-8")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n<style>\n{style}</style>\n</head>\n<body>\n"
        f"<header><h1>{html.escape(title)}</h1>\n"
        '<p class="name-line">Name: ______________________ Date: ____________</p>\n'
        f'<p class="intro">{html.escape(intro)}</p></header>\n'
        f'<main class="problems">\n{body}\n</main>\n'
        '<section class="answer-key" style="page-break-before: always; break-before: page">\n'
        f"<h2>Answer key: {html.escape(title)}</h2>\n{key}\n</section>\n</body>\n</html>\n"
    )
