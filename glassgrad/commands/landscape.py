"""``glassgrad landscape``: the loss over a slice through two weights, with a walk per learning rate.

matplotlib and the lesson load inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..arguments import counted
from ..trace.numbers import PRECISION_NOTE
from . import CommandError, say_rounding, switch
from .glassbox import OUTPUT
from .output_files import output_folder, reporting_write_errors, say_written


def landscape(
    out: Path = typer.Option(OUTPUT / "landscape", "--out", "-o",
                             help="folder for landscape.png, landscape.svg and landscape.json"),
    weights: Optional[tuple[str, str]] = typer.Option(
        None, "--weights", metavar="W1 W2",
        help="the two weights on the map's axes, named as the trace names them, counting from 1: "
             "--weights 'b2[4]' 'W1[3,4]' is output 4's bias and row 3, column 4 of the first layer's weight "
             "(b2[3] and W1[2, 3] in code), the default: a slice where η = 10 diverges"),
    steps: int = typer.Option(20, "--steps", help="gradient-descent steps per learning rate"),
    grid: int = typer.Option(41, "--grid", help="grid points along each axis of the map (5 to 201)"),
    zoom: bool = switch("--zoom", "frame only the walks that go down (a diverging walk leaves the map at once)"),
) -> None:
    """The landscape in fog: the diagonal flip's loss over two weights, and where η = 0.001, 0.1, 1, 10 walk."""
    from ..lessons.landscape import DEFAULT_WEIGHTS, MAX_GRID_POINTS, MAX_STEPS, landscape
    from ..lessons.landscape_plot import save

    if not 1 <= steps <= MAX_STEPS:
        raise CommandError(f"--steps must be between 1 and {MAX_STEPS}, got {steps}")
    if not 5 <= grid <= MAX_GRID_POINTS:
        raise CommandError(f"--grid must be between 5 and {MAX_GRID_POINTS}, got {grid}")
    data = landscape(weights or DEFAULT_WEIGHTS, steps=steps, grid_points=grid, zoom=zoom)
    folder = output_folder(out)
    typer.echo(f"L over {data['weights'][0]['label']} and {data['weights'][1]['label']} ({data['loss']['name']})")
    for path in data["paths"]:
        last = path["points"][-1]
        typer.echo(f"η = {path['learning_rate']:<6g} {path['label']:<11} L: {path['points'][0]['text']['loss']} → "
                   f"{last['text']['loss']} after {counted(last['step'], 'step')}")  # each loss as the engine writes it
    say_rounding(PRECISION_NOTE)
    with reporting_write_errors(folder):
        files = save(data, folder)
    say_written(files)


def register(app: typer.Typer) -> None:
    app.command("landscape")(landscape)
