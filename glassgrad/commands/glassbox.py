"""Glass-box commands: ``glassgrad trace``, ``gradcheck``, ``graph``, ``experiment`` and ``tour``.

Everything heavy (NumPy, rich, matplotlib) loads inside the command functions.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Optional

import typer

from . import CommandError, comma_separated, number_refusal, switch
from .output_files import output_folder, reporting_write_errors, say_written

OUTPUT = Path("glassgrad-output")
EXPERIMENT_LENGTH = {"learning-rate": "steps", "optimizers": "epochs", "batch-size": "epochs", "zero-grad": "steps",
                     "depth": "epochs"}
"""Which option of each experiment ``--steps`` sets (its number of steps or epochs)."""
MAX_EXPERIMENT_LENGTH = 1000
"""The most ``--steps`` (steps or epochs) an experiment runs, as ``landscape --steps``: each default is 150 or
fewer, and a typo of many digits would otherwise run for ever."""


def _check_format(format: str) -> str:
    from ..trace import FORMATS

    if format not in FORMATS:
        raise CommandError(f"--format must be one of {', '.join(FORMATS)}, got {format!r}")
    return format


def _write(path: Path, data: str) -> None:
    from ..io import write_atomically

    with reporting_write_errors(path):
        write_atomically(path, data)
    say_written([path])


def _show(document: dict, format: str, out: Optional[Path], ops: bool = False) -> None:
    """Print ``document`` (rich tables for text) or write it to ``out`` atomically."""
    from ..trace import render

    if out is None and format == "text":
        from rich.console import Console

        from ..trace.render_text import renderables

        console = Console()
        for part in renderables(document, ops=ops, width=console.width):
            console.print(part)
        return
    text = render(document, format, ops=ops)
    if out is None:
        typer.echo(text)
        return
    _write(out, text)


def _lesson_document(name: str) -> dict:
    from ..lessons import LESSONS, lesson

    if name not in LESSONS:
        raise CommandError(f"unknown lesson {name!r}: choose one of {', '.join(LESSONS)}")
    return lesson(name)


def trace(
    name: str = typer.Argument(..., help="diagonal-flip, mlp3 or linear-regression"),
    format: str = typer.Option("text", "--format", "-f", help="text, md, html or json (json keeps full precision)"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="write to this file instead of the terminal"),
    ops: bool = switch("--ops", "also show every primitive op, forward and backward"),
    scalar: bool = switch("--scalar", "every number a box with its value and gradient, as micrograd draws it "
                          "(networks of up to 40 parameters; --format svg, html or json)"),
) -> None:
    """Trace a worked example: every forward value, local derivative, gradient and update."""
    if scalar:
        if ops:
            raise CommandError("--ops and --scalar are two views: the scalar view already shows every operation")
        _show_scalar(name, format, out)
        return
    _show(_lesson_document(name), _check_format(format), out, ops)


def _show_scalar(name: str, format: str, out: Optional[Path]) -> None:
    """``trace NAME --scalar``: the scalar view printed, or written to ``out`` atomically."""
    from ..trace.scalar import FORMATS, render_scalar

    if format not in FORMATS:
        raise CommandError(f"--scalar draws boxes: give --format {', '.join(FORMATS)}, got {format!r}")
    text = render_scalar(_lesson_document(name), format)
    if out is None:
        typer.echo(text)
        return
    _write(out, text)


def gradcheck(
    name: str = typer.Argument("diagonal-flip", help="the network to check (diagonal-flip)"),
    format: str = typer.Option("text", "--format", "-f", help="text, md, html or json"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="write to this file instead of the terminal"),
) -> None:
    """Backprop against finite differences, per parameter, with the number of passes and the times."""
    if name != "diagonal-flip":
        raise CommandError(f"gradcheck knows the network 'diagonal-flip', not {name!r}; for your own functions "
                           "use gg.gradcheck(fn, inputs) in Python")
    from ..lessons.diagonal_flip import gradient_check_document

    _show(gradient_check_document(), _check_format(format), out)


def graph(
    name: str = typer.Argument(..., help="diagonal-flip, mlp3 or linear-regression"),
    level: str = typer.Option("layer", "--level", help="layer (one box per layer's tensors) or op (every op)"),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="the SVG file (default glassgrad-output/NAME-LEVEL.svg)"),
) -> None:
    """Draw the computational graph of a worked example as SVG, values and gradients in the boxes."""
    from ..trace.graph import graph_svg

    if level not in ("layer", "op"):
        raise CommandError(f"--level must be 'layer' or 'op', got {level!r}")
    document = _lesson_document(name)
    if out is None:
        out = output_folder(OUTPUT) / f"{name}-{level}.svg"
    _write(out, graph_svg(document, level))


def _experiment_options(name: str, steps: Optional[int], lrs: Optional[str], seed: Optional[int]) -> dict:
    from ..lessons import experiment_function

    accepted = inspect.signature(experiment_function(name)).parameters
    options: dict = {}
    if steps is not None:
        if not 1 <= steps <= MAX_EXPERIMENT_LENGTH:
            raise CommandError(f"--steps must be between 1 and {MAX_EXPERIMENT_LENGTH}, got {steps}")
        options[EXPERIMENT_LENGTH[name]] = steps
    if lrs is not None:
        if name != "learning-rate":
            raise CommandError("--lrs belongs to the learning-rate experiment")
        options["learning_rates"] = comma_separated(lrs, float,
                                                    "--lrs must be comma-separated numbers such as 0.001,0.1,1,10")
    if seed is not None:
        if "seed" not in accepted:
            raise CommandError(f"the {name} experiment always starts from the lesson's weights: it takes no --seed")
        if seed < 0:  # NumPy's own refusal ("expected non-negative integer") names neither the option nor the fix
            raise number_refusal("--seed", seed)
        options["seed"] = seed
    return options


def experiment(
    name: str = typer.Argument(..., help="learning-rate, depth, optimizers, batch-size or zero-grad"),
    out: Path = typer.Option(OUTPUT / "experiments", "--out", "-o",
                             help="folder for the PNG, SVG, JSON and HTML files"),
    steps: Optional[int] = typer.Option(None, "--steps", help="training steps (or epochs) per run"),
    lrs: Optional[str] = typer.Option(None, "--lrs", help="learning rates to compare, e.g. 0.001,0.1,1,10"),
    seed: Optional[int] = typer.Option(None, "--seed", help="seed of the data and the initial weights"),
) -> None:
    """Run an experiment: a table, an explanation, a plot (PNG and SVG) and its full numbers (JSON)."""
    from ..io import write_atomically
    from ..lessons import EXPERIMENTS, run_experiment
    from ..trace.render_html import render_html

    if name not in EXPERIMENTS:
        raise CommandError(f"unknown experiment {name!r}: choose one of {', '.join(EXPERIMENTS)}")
    options = _experiment_options(name, steps, lrs, seed)
    folder = output_folder(out)
    result = run_experiment(name, **options)
    _show(result.document(figure=False), "text", None)
    with reporting_write_errors(folder):
        files = result.save(folder)
        files.append(write_atomically(folder / f"{name}.html", render_html(result.document())))
    say_written(files)


def tour(
    interactive: bool = switch("--interactive", "pause after each chapter (Enter goes on, q stops)"),
    out: Path = typer.Option(OUTPUT / "tour", "--out", "-o", help="folder for the HTML report and its plots"),
) -> None:
    """The guided tour: forward, loss, backward, gradient check, update, learning rates, digits, depth."""
    from ..lessons.tour import run_tour

    folder = output_folder(out)
    with reporting_write_errors(folder):
        run_tour(folder, interactive=interactive)


def register(app: typer.Typer) -> None:
    app.command("trace")(trace)
    app.command("gradcheck")(gradcheck)
    app.command("graph")(graph)
    app.command("experiment")(experiment)
    app.command("tour")(tour)
