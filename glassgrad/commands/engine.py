"""Engine commands: ``glassgrad rules`` (the backward-rule cheat sheet, read from the op table)."""

from __future__ import annotations

import typer


def rules() -> None:
    """Print every differentiable op: its kind, its formula and each input's derivative."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from glassgrad.ops import RULES

    table = Table(title="glassgrad's rule table: forward and backward of each op")
    for column in ("op", "kind", "forward", "derivative, one line per input"):
        table.add_column(column)
    for op in RULES.values():
        # Text, not markup: a[index] and "joined along a dim" must print as written, brackets included
        table.add_row(Text(op.name), Text(op.kind), Text(op.formula), Text("\n".join(op.derivative_lines())))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command()(rules)
