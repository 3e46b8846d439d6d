"""``glassgrad tour``: the lessons in order, every number computed live by glassgrad.

Chapters: the forward pass, the loss, the backward pass with all 31 gradients, a numerical
check of them, one gradient-descent update (and training to a tiny loss), learning rates,
training a digits classifier (with a progress bar), and vanishing gradients. The terminal
shows the key tables; an HTML report with the plots goes into the output folder, whose path
is printed at the end. Offline: the data is generated or bundled with scikit-learn.

>>> from pathlib import Path
>>> import tempfile
>>> report = run_tour(Path(tempfile.mkdtemp()), digits_epochs=1, quiet=True)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..trace.numbers import rounded_text

DIGITS_EPOCHS = 5


def _part(document: dict, *keys: str, **extra: Any) -> dict:
    """The chapter's slice of a lesson document: only ``keys``, plus ``extra`` entries."""
    return {"title": extra.pop("title", document.get("title", "")), **{k: document[k] for k in keys if k in document},
            **extra}


def _digits_chapter(epochs: int, progress: bool) -> tuple[dict, Any]:
    """Train a 64→64→10 classifier on the 8×8 digits with ``gg.fit``; its document and diagnostics figure."""
    from ..data import DataLoader, load_digits, train_val_split
    from ..nn import CrossEntropyLoss, mlp
    from ..optim import Adam
    from ..training import fit
    from .diagnostics import Diagnostics

    data = load_digits()
    train, validation = train_val_split(data, 0.2, seed=0, stratify=True)
    model = mlp([64, 64, 10], seed=0)
    parameters = model.num_parameters()
    diagnostics = Diagnostics()
    history = fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.01),
                  DataLoader(train, batch_size=64, shuffle=True, seed=0), epochs=epochs,
                  val_loader=DataLoader(validation, batch_size=len(validation)), callbacks=[diagnostics],
                  progress=progress)
    rows = [[str(r["epoch"]), r["train_loss"], r.get("train_accuracy"), r.get("val_loss"), r.get("val_accuracy"),
             rounded_text(r["seconds"], 2)] for r in history.records]
    document = {
        "title": "Training a digits classifier",
        "explanation": [
            f"A 64→64→10 network learns to read the 8×8 handwritten digits bundled with scikit-learn "
            f"({len(train)} for training, {len(validation)} held out), with Adam and mini-batches of 64: the same "
            f"forward → loss → backward → update loop as the 31-parameter example, {parameters:,} parameters now.",
            "The diagnostics below were recorded by a training-loop callback: the gradient norm of each layer, "
            "how large each update is compared with the weights (about 1e-3 is healthy) and how many ReLU units "
            "never fire.",
        ],
        "tables": [{"title": "Epochs", "intro": "accuracy = fraction of digits read correctly",
                    "columns": ["epoch", "train loss", "train accuracy", "validation loss", "validation accuracy",
                                "seconds"], "rows": rows},
                   diagnostics.table()],
        "history": history.records,
    }
    return document, diagnostics.plot("digits classifier: diagnostics per step")


def _go_on(console: Any, number: int, name: str) -> bool:
    """Pause before chapter ``number``: True on Enter, False on q (or when the input has ended)."""
    try:
        answer = console.input(f"[dim]Enter for chapter {number} ({name}), q to stop: [/dim]")
    except EOFError:
        console.print()
        console.print("(no more input: the tour stops here)")
        return False
    return not answer.strip().lower().startswith("q")


def _report_body(sections: list[tuple[str, str]]) -> str:
    """The report: an introduction, a list of contents linking to each section, then the sections."""
    from html import escape

    contents = "".join(f'<li><a href="#part-{number}">{escape(title)}</a></li>'
                       for number, (title, _) in enumerate(sections, 1))
    parts = ['<div class="gg-trace"><h1>The glassgrad tour</h1><p>Every number below was computed by glassgrad '
             "while the tour ran: a 31-parameter network traced forward and backward, its gradients checked, one "
             "update, then learning rates, a digits classifier and deep networks.</p>"
             f"<h2>Contents</h2><ol>{contents}</ol></div>"]
    parts += [f'<section id="part-{number}">{html}</section>' for number, (_, html) in enumerate(sections, 1)]
    return "\n".join(parts)


def run_tour(out: str | Path, interactive: bool = False, digits_epochs: int = DIGITS_EPOCHS, quiet: bool = False,
             console: Any = None) -> Path:
    """Walk every chapter, print its tables, and write the HTML report; returns the report's path."""
    from rich.console import Console

    from ..io import write_atomically
    from ..trace.render_html import html_fragment, html_page
    from ..trace.render_json import render_json
    from ..trace.render_text import renderables
    from . import diagonal_flip
    from .depth import depth
    from .experiments import Experiment, learning_rate

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    console = console or Console(quiet=quiet)
    lesson = diagonal_flip.run()
    numbers = lesson["lesson"]
    write_atomically(out / "diagonal-flip.json", render_json(lesson))
    sections: list[tuple[str, str]] = []  # (title, HTML) of each part of the report

    def report(document: dict, graph: bool = True) -> None:
        sections.append((document["title"], html_fragment(document, style=False, graph=graph)))

    report(lesson)

    def show(document: dict) -> None:
        for part in renderables(document, width=console.width):
            console.print(part)

    def chapter_forward() -> None:
        show(_part(lesson, "forward", "notes", title="1. The forward pass", explanation=[  # notes: the precision, once
            "The 2×2 image [1 0; 1 1] enters as x = [1, 0, 1, 1]. Each layer computes Z = W·X + b and the "
            "hidden layer applies ReLU; the network's answer is ŷ."]))

    def chapter_loss() -> None:
        show(_part(lesson, title="2. The loss", summary=[
            {"label": "target y (the image flipped on its diagonal)", "value": numbers["target"]},
            *diagonal_flip.loss_rows(numbers["prediction"], numbers["squared_errors"], numbers["loss"])]))

    def chapter_backward() -> None:
        show(_part(lesson, "backward", "gradients", "symbols", title="3. The backward pass: all 31 gradients"))

    def chapter_check() -> None:
        document = diagonal_flip.gradient_check_document()
        report(document)
        show(dict(document, title="4. Checking backprop numerically", tables=[]))

    def chapter_update() -> None:
        show(_part(lesson, "updates", title="5. One gradient-descent update", summary=lesson["summary"][-2:]))

    def experiment_chapter(title: str, result: Experiment) -> None:
        result.save(out)
        show(dict(result.document(figure=False), title=title))
        report(result.document(), graph=False)

    def chapter_digits() -> None:
        console.print(f"[bold]7. Training a digits classifier[/bold] ({digits_epochs} epochs)…")
        document, figure = _digits_chapter(digits_epochs, progress=not quiet)
        result = Experiment("digits-diagnostics", document["title"], document["explanation"], document["tables"],
                            figure, {"history": document["history"]})
        experiment_chapter("7. Training a digits classifier", result)

    chapters: list[tuple[str, Callable[[], None]]] = [
        ("forward pass", chapter_forward), ("loss", chapter_loss), ("backward pass", chapter_backward),
        ("numerical check", chapter_check), ("one update", chapter_update),
        ("learning rates", lambda: experiment_chapter("6. Learning rates", learning_rate())),
        ("digits classifier", chapter_digits),
        ("vanishing gradients", lambda: experiment_chapter("8. Vanishing gradients", depth())),
    ]
    seen = 0
    for number, (_, chapter) in enumerate(chapters, 1):
        chapter()
        seen = number
        if interactive and number < len(chapters) and not _go_on(console, number + 1, chapters[number][0]):
            break
    path = write_atomically(out / "index.html", html_page("the glassgrad tour", _report_body(sections)))
    console.rule("[bold]The end")
    what = "every table and plot" if seen == len(chapters) else f"chapters 1 to {seen} of {len(chapters)}"
    console.print(f"The report with {what}: [bold]{path.resolve()}[/bold]")
    console.print(f"Full-precision trace of the 31-parameter example: {(out / 'diagonal-flip.json').resolve()}")
    return path
