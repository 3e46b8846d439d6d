"""A trace in the terminal: rich tables, one row per step, numbers with their signs written.

Positive numbers are blue and negative ones orange (:data:`.numbers.SIGN_COLOURS`, as in the
playground), but the sign is always written too (``+0.4400``, ``-0.5500``), so the output reads the
same without colour or when saved to a file. Rounding is for display only (see the notes at the end of every trace).

>>> import glassgrad as gg
>>> x = gg.tensor([2.0], requires_grad=True)
>>> with gg.trace() as tape:
...     (x * x).sum().backward()
>>> "+4.0000" in render_text(tape.describe())       # ∂(x²)/∂x = 2x = 4
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..terminal import terminal_width
from . import counting
from .numbers import SIGN_COLOURS, matrix_blocks, matrix_cells
from .sections import Figure, Paragraphs, Steps, Summary, Table, blocks


def _styled_number(text: str) -> str:
    """A formatted number (maybe padded) as markup, coloured by its written sign."""
    sign = text.strip()[:1]
    if sign == "-":
        return f"[{SIGN_COLOURS['negative']}]{text}[/]"
    if sign == "+":
        return f"[{SIGN_COLOURS['positive']}]{text}[/]"
    return text


def matrix_lines(values: Any, markup: bool = False, max_width: int | None = None) -> list[str]:
    """``values`` as lines: one bracketed line per row (a number alone), cut as in :func:`matrix_blocks`; a tensor of
    3 or more dims as its matrices, each under its heading (``[2,·,·]``).

    A row never wraps: when rows are wider than ``max_width`` columns the matrix is folded by columns,
    each group of columns under a heading (``columns 1–2 of 4``), its rows whole.
    ``markup=True`` gives rich markup (numbers coloured by sign, text escaped); otherwise plain text.
    """
    style = _styled_number if markup else str
    if isinstance(values, str):
        return [_escape(values) if markup else values]
    if np.ndim(values) == 0:
        return [style(matrix_cells(values)[0][0][0])]
    blocks, cut = matrix_blocks(values)
    dim = (lambda text: f"[dim]{_escape(text)}[/dim]") if markup else str
    lines = []
    for heading, cells in blocks:
        if heading:
            lines.append(dim(heading))
        columns = len(cells[0])
        cell_width = len(cells[0][0])
        per_group = columns if max_width is None else max(1, min(columns, max_width // (cell_width + 2)))
        for first in range(0, columns, per_group):
            last = min(first + per_group, columns)
            if per_group < columns:
                lines.append(dim(counting.span("column", first, last, columns)))
            lines += ["[" + "  ".join(style(cell) for cell in row[first:last]) + "]" for row in cells]
    if cut:
        lines.append(dim(f"({cut})"))
    return lines


def matrix_markup(values: Any, max_width: int | None = None) -> str:
    """``values`` as rich markup: one bracketed line per row, numbers coloured by sign (a number alone)."""
    return "\n".join(matrix_lines(values, markup=True, max_width=max_width))


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


TEXT_MIN_WIDTH = 16
"""How narrow a column of words may get (wrapping) so that the matrix rows beside it stay whole."""
FORMULA_MIN_WIDTH = 24
"""Room a step's formula keeps beside its matrices (``∂L/∂W₁ = ∂L/∂Z₁·Xᵀ`` on one line)."""


def _widest_line(lines: Any) -> int:
    return max((len(line) for line in lines), default=0)


def _room(others: list[int], width: int | None, shared_by: int = 1) -> int | None:
    """Columns of text left for each of ``shared_by`` matrix columns once the ``others`` (and the table's
    borders and padding) have theirs; None when the width is unknown (nothing is folded)."""
    if width is None:
        return None
    cells = len(others) + shared_by
    return max(8, (width - sum(others) - 3 * cells - 1) // shared_by)


def _steps_table(block: Steps, width: int | None = None):
    from rich.table import Table as RichTable

    formulas = min(_widest_line(row.formula for row in block.rows), FORMULA_MIN_WIDTH)
    names = {row.step: row.step.replace(" (", "\n(") for row in block.rows}  # "3. Linear" over "(model[2] in code)"
    room = _room([_widest_line("\n".join(names.values()).splitlines() + ["step"]), max(formulas, TEXT_MIN_WIDTH)],
                 width)
    table = RichTable(title=_escape(f"{block.title} — {block.intro}"), show_lines=True, title_justify="left")
    table.add_column("step", style="bold", no_wrap=True)
    table.add_column("formula", style="cyan")
    table.add_column("values", no_wrap=True)
    for row in block.rows:
        values = "\n".join(f"{_escape(label)}\n{matrix_markup(array, room)}" for label, array in row.values)
        formula = _escape(row.formula) + (f"\n[dim]{_escape(row.note)}[/dim]" if row.note else "")
        table.add_row(_escape(names[row.step]), formula, values)
    return table


def _plain_table(block: Table, width: int | None = None):
    from rich.table import Table as RichTable

    matrix_columns, others = [], []
    for number, name in enumerate(block.columns):
        cells = [row[number] for row in block.rows if row[number] is not None]
        is_matrix = any(not isinstance(cell, str) for cell in cells)
        folds = any(np.ndim(cell) > 0 for cell in cells if not isinstance(cell, str))  # numbers alone never fold
        matrix_columns.append(is_matrix)
        if not folds:
            widest = _widest_line([name] + [line for cell in cells for line in matrix_lines(cell)])
            others.append(widest if is_matrix else min(widest, TEXT_MIN_WIDTH))
    room = _room(others, width, max(1, len(block.columns) - len(others)))
    table = RichTable(title=_escape(block.title + (f" — {block.intro}" if block.intro else "")), show_lines=False,
                      title_justify="left")
    for name, is_matrix in zip(block.columns, matrix_columns):
        table.add_column(_escape(name), no_wrap=is_matrix)
    for row in block.rows:
        table.add_row(*[matrix_markup(cell if cell is not None else "", room) for cell in row])
    return table


def renderables(document: dict, ops: bool = False, width: int | None = None) -> list[Any]:
    """The rich objects that show ``document`` (print them with ``rich.console.Console().print``).

    ``width`` (the console's columns): when given and wide enough, each matrix row stays on one
    line and the formulas wrap instead.
    """
    from rich.padding import Padding
    from rich.rule import Rule
    from rich.text import Text

    def indented(text: Text) -> Padding:  # a paragraph's wrapped lines keep its indent
        return Padding(text, (0, 0, 0, 2), expand=False)

    parts: list[Any] = [Rule(f"[bold]{_escape(document.get('title', 'trace'))}")]
    for block in blocks(document, ops=ops):
        if isinstance(block, Paragraphs):
            parts.append(Text(block.title, style="bold"))
            parts += [indented(Text(paragraph)) for paragraph in block.paragraphs]
        elif isinstance(block, Summary):
            parts.append(Text(block.title, style="bold"))
            parts += [indented(Text.from_markup(f"{_escape(label)}: {_escape(value)}")) for label, value in block.items]
        elif isinstance(block, Steps):
            parts.append(_steps_table(block, width))
        elif isinstance(block, Table):
            parts.append(_plain_table(block, width))
        elif isinstance(block, Figure):
            parts.append(Text(f"[figure: {block.title} — in the HTML report]", style="dim"))
    return parts


FILE_WIDTH = 120
"""The columns of a text trace made where there is no terminal to fit (a pipe, a file, a notebook)."""


def render_text(document: dict, width: int | None = None, ops: bool = False) -> str:
    """``document`` as plain text (no colour codes), as the terminal shows it at ``width`` columns.

    ``width`` None: where standard output is a terminal, its width (``COLUMNS`` if set), so that
    ``print(tape.render("text"))`` fits the window it is printed in; :data:`FILE_WIDTH` where it is not (a pipe,
    a file, a notebook, a test's captured output), whatever ``COLUMNS`` says.
    """
    from rich.console import Console

    if width is None:
        width = terminal_width() or FILE_WIDTH
    console = Console(width=width, record=True, file=_Discard(), color_system=None, force_terminal=False)
    for part in renderables(document, ops=ops, width=width):
        console.print(part)
    return console.export_text()


class _Discard:
    """A file that forgets what is written (the console records it instead)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
