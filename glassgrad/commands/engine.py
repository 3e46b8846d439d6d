"""Engine commands: ``glassgrad rules`` (the backward-rule cheat sheet)."""

from __future__ import annotations

import typer


def rules() -> None:
    """Print every differentiable op with its formula and local derivative."""
    from rich.console import Console
    from rich.table import Table

    from glassgrad.ops import RULES

    table = Table(title="glassgrad's rule table: forward and backward of each op")
    for column in ("op", "forward", "local derivative / backward"):
        table.add_column(column)
    for op in RULES.values():
        table.add_row(op.name, op.formula, op.local_grad)
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command()(rules)
