"""A trace in the terminal: rich tables, one row per step, numbers with their signs written.

Positive numbers are green and negative ones red, but the sign is always written too
(``+0.4400``, ``-0.5500``), so the output reads the same without colour or when saved
to a file. Rounding is for display only (see the notes at the end of every trace).

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

from .numbers import format_number, matrix_cells
from .sections import Figure, Paragraphs, Steps, Summary, Table, blocks


def _styled_number(text: str) -> str:
    """A formatted number (maybe padded) as markup: green when positive, red when negative."""
    sign = text.strip()[:1]
    if sign == "-":
        return f"[red]{text}[/red]"
    if sign == "+":
        return f"[green]{text}[/green]"
    return text


def matrix_markup(values: Any) -> str:
    """``values`` as rich markup: one bracketed line per row, numbers coloured by sign (a number alone)."""
    if isinstance(values, str):
        return _escape(values)
    if np.ndim(values) == 0:
        return _styled_number(format_number(values))
    cells, cut = matrix_cells(values)
    lines = ["[" + "  ".join(_styled_number(cell) for cell in row) + "]" for row in cells]
    return "\n".join(lines + ([f"[dim]({cut})[/dim]"] if cut else []))


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _steps_table(block: Steps):
    from rich.table import Table as RichTable

    table = RichTable(title=f"{block.title} — {block.intro}", show_lines=True, title_justify="left")
    table.add_column("step", style="bold", no_wrap=True)
    table.add_column("formula", style="cyan")
    table.add_column("values")
    for row in block.rows:
        values = "\n".join(f"{_escape(label)}\n{matrix_markup(array)}" for label, array in row.values)
        formula = _escape(row.formula) + (f"\n[dim]{_escape(row.note)}[/dim]" if row.note else "")
        table.add_row(_escape(row.step), formula, values)
    return table


def _plain_table(block: Table):
    from rich.table import Table as RichTable

    table = RichTable(title=f"{block.title}" + (f" — {block.intro}" if block.intro else ""), show_lines=False,
                      title_justify="left")
    for column in block.columns:
        table.add_column(_escape(column))
    for row in block.rows:
        table.add_row(*[matrix_markup(cell if cell is not None else "") for cell in row])
    return table


def renderables(document: dict, ops: bool = False) -> list[Any]:
    """The rich objects that show ``document`` (print them with ``rich.console.Console().print``)."""
    from rich.rule import Rule
    from rich.text import Text

    parts: list[Any] = [Rule(f"[bold]{_escape(document.get('title', 'trace'))}")]
    for block in blocks(document, ops=ops):
        if isinstance(block, Paragraphs):
            parts.append(Text(block.title, style="bold"))
            parts += [Text("  " + paragraph) for paragraph in block.paragraphs]
        elif isinstance(block, Summary):
            parts.append(Text(block.title, style="bold"))
            parts += [Text.from_markup(f"  {_escape(label)}: {_escape(value)}") for label, value in block.items]
        elif isinstance(block, Steps):
            parts.append(_steps_table(block))
        elif isinstance(block, Table):
            parts.append(_plain_table(block))
        elif isinstance(block, Figure):
            parts.append(Text(f"[figure: {block.title} — in the HTML report]", style="dim"))
    return parts


def render_text(document: dict, width: int = 120, ops: bool = False) -> str:
    """``document`` as plain text (no colour codes), as the terminal shows it at ``width`` columns."""
    from rich.console import Console

    console = Console(width=width, record=True, file=_Discard(), color_system=None, force_terminal=False)
    for part in renderables(document, ops=ops):
        console.print(part)
    return console.export_text()


class _Discard:
    """A file that forgets what is written (the console records it instead)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
