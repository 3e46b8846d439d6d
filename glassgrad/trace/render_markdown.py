"""A trace as Markdown: headings, one table per section, matrices written row by row.

Numbers keep their written signs (``+0.4400``, ``-0.5500``); a matrix cell holds one
code span per row separated by ``<br>`` (GitHub and most viewers show the rows stacked).

>>> import glassgrad as gg
>>> x = gg.tensor([2.0], requires_grad=True)
>>> with gg.trace() as tape:
...     (x * x).sum().backward()
>>> print(render_markdown(tape.describe()).splitlines()[0])
# trace
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .numbers import matrix_blocks, matrix_cells
from .sections import Figure, Paragraphs, Steps, Summary, Table, blocks


def escape_cell(text: str) -> str:
    """Text safe inside a Markdown table cell (pipes escaped, line breaks as ``<br>``)."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def matrix_markdown(values: Any) -> str:
    """``values`` as one code span per row (a number alone), a tensor of 3 or more dims as its matrices each after its
    heading (``[2,·,·]``), text escaped for a table cell."""
    if isinstance(values, str) or values is None:
        return escape_cell(values or "")
    if np.ndim(values) == 0:
        return f"`{matrix_cells(values)[0][0][0]}`"
    blocks, cut = matrix_blocks(values)
    rows = []
    for heading, cells in blocks:
        rows += ([f"`{heading}`"] if heading else []) + ["`[" + " ".join(row) + "]`" for row in cells]
    return "<br>".join(rows + ([f"*({escape_cell(cut)})*"] if cut else []))


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(escape_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render_markdown(document: dict, ops: bool = False) -> str:
    """``document`` as a Markdown page."""
    lines = [f"# {document.get('title', 'trace')}", ""]
    for block in blocks(document, ops=ops):
        lines += [f"## {block.title}", ""]
        if isinstance(block, Paragraphs):
            for paragraph in block.paragraphs:
                lines += [paragraph, ""]
        elif isinstance(block, Summary):
            lines += [f"- **{label}**: `{value}`" for label, value in block.items] + [""]
        elif isinstance(block, Steps):
            rows = []
            for row in block.rows:
                values = "<br>".join(f"{escape_cell(label)}<br>{matrix_markdown(array)}" for label, array in row.values)
                formula = f"`{escape_cell(row.formula)}`" + (f"<br>*{escape_cell(row.note)}*" if row.note else "")
                rows.append([escape_cell(row.step), formula, values])
            lines += [f"*{block.intro}*", ""] + _table(["step", "formula", "values"], rows) + [""]
        elif isinstance(block, Table):
            if block.intro:
                lines += [f"*{block.intro}*", ""]
            lines += _table(block.columns, [[matrix_markdown(cell) for cell in row] for row in block.rows]) + [""]
        elif isinstance(block, Figure):
            lines += ["*(figure in the HTML report)*", ""]
    return "\n".join(lines)
