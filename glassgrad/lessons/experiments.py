"""Experiments: what the learning rate, the optimizer, the batch size and zeroing gradients do.

Each experiment trains small networks with glassgrad and returns an :class:`Experiment`: a
table, an explanation in plain words and a matplotlib figure, saved as PNG and SVG (and every
number whole as JSON) by :meth:`Experiment.save`. ``glassgrad experiment NAME`` runs one from the command line.

* ``learning-rate``: one network, one start, η ∈ {0.001, 0.1, 1, 10}; each loss curve is
  labelled not moving / slow / converging / oscillating / diverging (:func:`classify`);
* ``depth`` (:mod:`.depth`): vanishing and exploding gradients, and gradient clipping;
* ``optimizers``: SGD, SGD with momentum and Adam from the same start;
* ``batch-size``: batch, mini-batch and stochastic gradient descent on the same data;
* ``zero-grad``: training with and without ``optimizer.zero_grad()``.

>>> label, why = classify([1.0, 0.9, 0.85, 0.84])
>>> label
'slow'
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..arguments import counted
from ..autograd import no_grad
from ..io import write_atomically
from ..trace import counting
from ..trace.numbers import PRECISION_NOTE, format_number, percent_text, rounded_text
from ..trace.render_json import render_json

LEARNING_RATES = (0.001, 0.1, 1.0, 10.0)
FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass
class Experiment:
    """What one experiment found: tables, an explanation, a figure, and the raw numbers in ``data``."""

    name: str
    title: str
    explanation: list[str]
    tables: list[dict]
    figure: Any
    data: dict = field(default_factory=dict)
    _rendered: dict = field(default_factory=dict, repr=False)

    def figure_bytes(self, format: str) -> bytes:
        """The figure as a PNG or SVG file's bytes (drawn once per format)."""
        if format not in self._rendered:
            buffer = io.BytesIO()
            self.figure.savefig(buffer, format=format, dpi=110)
            self._rendered[format] = buffer.getvalue()
        return self._rendered[format]

    def save(self, folder: str | Path) -> list[Path]:
        """Write ``NAME.png``, ``NAME.svg`` and ``NAME.json`` into ``folder`` (created if needed); returns the paths.

        The JSON is :meth:`document` without the figure, every number at full precision: the
        tables round for display and their note ("full in JSON") points here.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = [write_atomically(folder / f"{self.name}.{kind}", self.figure_bytes(kind)) for kind in ("png", "svg")]
        return files + [write_atomically(folder / f"{self.name}.json", render_json(self.document(figure=False)))]

    def document(self, figure: bool = True) -> dict:
        """The experiment as a document for the trace renderers (text, Markdown, HTML, JSON)."""
        svg = inline_svg(self.figure_bytes("svg").decode("utf-8")) if figure else None
        return {"title": self.title, "explanation": self.explanation, "tables": self.tables,
                "figures": [{"title": self.title, "svg": svg}] if svg else [], "notes": [PRECISION_NOTE],
                "experiment": {"name": self.name, **self.data}}


def inline_svg(svg: str) -> str:
    """An SVG file's text made fit to sit inside an HTML page: no XML prolog, DOCTYPE or metadata."""
    svg = svg[svg.index("<svg"):]
    start, end = svg.find("<metadata>"), svg.find("</metadata>")
    return svg[:start] + svg[end + len("</metadata>"):] if 0 <= start < end else svg


def new_figure(columns: int = 1, width: float = 6.0) -> tuple[Any, list[Any]]:
    """A matplotlib Figure (no pyplot, no global state) with ``columns`` side-by-side axes."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width * columns, 4.0))
    axes = figure.subplots(1, columns)
    figure.subplots_adjust(left=0.14 / columns, right=1 - 0.02 / columns, bottom=0.13, top=0.9, wspace=0.25)
    return figure, list(np.atleast_1d(axes))


def classify(losses: Sequence[float], gradients: Sequence[float] | None = None) -> tuple[str, str]:
    """Label a loss curve ``not moving``, ``slow``, ``converging``, ``oscillating`` or ``diverging``, with the reason.

    * diverging: the loss became inf/NaN, or ended higher than it started;
    * not moving: the loss never changed (or there is one loss, no step to judge); where ``gradients``
      (the gradient's size ‖∇L‖ at each loss) says it was 0 at the start, that is why: θ − η·0 = θ;
    * oscillating: it went down overall, but rose by more than 5% in some step, or rose in
      more than a quarter of the steps (the steps overshoot the valley);
    * slow: it went down steadily, but by less than half of its first value;
    * converging: it went down steadily, by half or more.

    Rises and the drop are shares of the size of the loss they start from, ``(b − a)/|a|``, so a negative loss
    (a log-likelihood, a loss shifted by a floor) that falls from −1 to −3 fell by 200%, and one that crosses 0
    (1 → −1) by 200% too. A share of 0 means nothing: a change from a loss of exactly 0 is measured against the
    curve's largest size, ``max |L|``, and the reason says so.

    >>> classify([0.5, 0.5, 0.5], gradients=[0.0, 0.0, 0.0])
    ('not moving', 'the gradient was 0 at the start (a minimum, or a flat stretch), so each step θ ← θ − η·0 left the \
weights where they were')
    """
    values = [float(v) for v in losses]
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "diverging", "the loss was not a finite number from the start"
    if len(finite) < len(values):
        return "diverging", f"the loss became {values[len(finite)]} after {counted(len(finite), 'step')}"
    if finite[-1] > finite[0]:
        start, end = (format_number(value, signed=False) for value in (finite[0], finite[-1]))  # as traces write
        return "diverging", f"the loss ended higher than it started ({start} → {end})"
    steps = counted(len(finite) - 1, "step")
    if len(finite) == 1:
        return "not moving", "one loss and no step after it: there is nothing to compare"
    if gradients is not None and gradients[0] == 0:
        return "not moving", ("the gradient was 0 at the start (a minimum, or a flat stretch), so each step "
                              "θ ← θ − η·0 left the weights where they were")
    if all(value == finite[0] for value in finite):
        return "not moving", f"the loss did not change in {steps}: the steps moved nothing the loss can show"
    largest = max(abs(value) for value in finite)  # > 0: the loss changed

    def share(change: float, start: float) -> float:
        return change / (abs(start) or largest)

    def of(start: float) -> str:
        return "" if start else f" of the largest |loss|, {format_number(largest, signed=False)}, as it was 0"

    rises = [share(b - a, a) for a, b in zip(finite, finite[1:])]
    jumps = sum(r > 0 for r in rises)
    if max(rises) > 0.05 or jumps > len(rises) / 4:
        worst = rises.index(max(rises))
        return "oscillating", (f"the loss rose in {jumps} of {steps} "
                               f"(largest rise {percent_text(rises[worst])}{of(finite[worst])})")
    drop = share(finite[0] - finite[-1], finite[0])
    if drop < 0.5:
        return "slow", f"the loss fell by only {percent_text(drop)}{of(finite[0])} in {steps}"
    return "converging", f"the loss fell steadily, by {percent_text(drop)}{of(finite[0])}"


def _divergence_note(lr: float, losses: list[float], diverged: Any, stable: list[float]) -> str:
    """When and why a run diverged: how fast the loss grew, where float32 ran out, what to do instead."""
    finite = [v for v in losses if math.isfinite(v)]
    ratios = [b / a for a, b in zip(finite, finite[1:]) if a > 0]
    growth = f"about ×{rounded_text(float(np.median(ratios)), 3, 'g')} per step" if ratios else "at once"
    culprit = (f"; the gradient of '{diverged.parameter}' was the first to blow up"
               if diverged is not None and diverged.parameter else "")
    instead = (f" Here η = {', '.join(f'{value:g}' for value in stable)} did not diverge." if stable else "")
    return (f"η = {lr:g} diverged: the loss grew {growth} until it passed the largest float32 number "
            f"({FLOAT32_MAX:.3g}) and became {losses[len(finite)]} after {counted(len(finite), 'update')}{culprit}. "
            "Each step overshot the minimum by more than it corrected, so the error grew geometrically; training "
            "stopped there rather than go on with NaN. The cure is smaller steps: lower the learning rate, or clip the "
            f"gradients.{instead}")


def _loss_now(model: Any, loss_function: Any, batch: Any) -> float:
    """``model``'s loss on ``(inputs, targets)`` as it is now (after training's last step)."""
    inputs, targets = batch
    with no_grad():
        return loss_function(model(inputs), targets).item()


def learning_rate(learning_rates: Sequence[float] = LEARNING_RATES, steps: int = 100) -> Experiment:
    """The diagonal-flip network (lesson weights, float32) trained on all 16 images with each η."""
    from ..data import DataLoader, diagonal_flip
    from ..nn import MSELoss
    from ..optim import SGD
    from ..training import fit
    from .diagonal_flip import lesson_model

    if not learning_rates or any(not (lr > 0 and math.isfinite(lr)) for lr in learning_rates):
        raise ValueError(f"learning rates must be positive numbers, got {list(learning_rates)}")
    data = diagonal_flip()
    figure, (axis, zoom) = new_figure(2)
    rows, runs, stopped = [], {}, {}
    for lr in learning_rates:
        model = lesson_model().float()
        with np.errstate(over="ignore", invalid="ignore"):
            history = fit(model, MSELoss(), SGD(model.parameters(), lr=lr), DataLoader(data, batch_size=len(data)),
                          epochs=steps, progress=False, compile=True)
        # the loss before each step (fit's record), then after the last one: steps + 1 losses, steps between them
        losses = history["train_loss"] + [history.diverged.loss if history.diverged else
                                          _loss_now(model, MSELoss(), data[:])]
        label, why = classify(losses)
        finite = [v for v in losses if math.isfinite(v)]
        runs[lr] = {"losses": losses, "label": label, "why": why}
        if len(finite) < len(losses):
            stopped[lr] = history.diverged
        rows.append([f"{lr:g}", finite[0], finite[-1], min(finite), label, why])
        line, = axis.plot(range(len(finite)), finite, label=f"η = {lr:g}: {label}")
        zoom.plot(range(len(finite)), finite, color=line.get_color(), label=f"η = {lr:g}")
        if len(finite) < len(losses):
            axis.plot(len(finite) - 1, finite[-1], "x", color=line.get_color(), markersize=10)
    stable = [lr for lr in learning_rates if runs[lr]["label"] != "diverging"]
    notes = []
    for lr, diverged in stopped.items():
        runs[lr]["divergence"] = _divergence_note(lr, runs[lr]["losses"], diverged, stable)
        notes.append(runs[lr]["divergence"])
    first = rows[0][1]
    axis.set(yscale="log", xlabel="step (full batch of 16 images)", ylabel="MSE loss (log scale)",
             title=f"one network, one start, {len(learning_rates)} learning rates")
    zoom.set(ylim=(0, 1.5 * first), xlabel="step", ylabel="MSE loss", title="close-up of the bottom")
    axis.legend()
    zoom.legend()
    return Experiment(
        "learning-rate", "Learning rate: too small, right, too large",
        [f"The same 4→3→4 network, from the same lesson weights, trained for {steps} steps of full-batch "
         "gradient descent on the 16 diagonal-flip images, once per learning rate η. Its loss is measured before "
         f"the first step and after each one, so a run's first and last losses are {steps} steps apart where it "
         "finishes.",
         "A tiny η barely moves the weights (slow); a moderate η brings the loss down steadily (converging); "
         "a large η takes steps that overshoot the valley, so the loss jumps up and down (oscillating) or grows "
         "each step until the numbers overflow (diverging). An × marks the last finite loss of a run that "
         "reached inf/NaN.",
         "Each curve's label comes from the curve itself: see the 'why' column.", *notes],
        [{"title": "Learning-rate sweep", "intro": "the loss at the start, at the end (last finite value) and at its "
          "lowest", "columns": ["η", "first loss", "last loss", "lowest", "behaviour", "why"],
          "rows": rows}],
        figure, {"runs": runs, "steps": steps})


def optimizers(epochs: int = 150, target_loss: float = 0.3, seed: int = 0) -> Experiment:
    """SGD, SGD with momentum and Adam from the same initial weights, full batch, on the moons data."""
    from ..data import DataLoader, make_moons
    from ..nn import CrossEntropyLoss, mlp
    from ..optim import SGD, Adam
    from ..training import evaluate, fit

    data = make_moons(n_samples=200, noise=0.2, seed=seed)
    choices = {"SGD (η = 0.1)": lambda p: SGD(p, lr=0.1),
               "SGD + momentum 0.9 (η = 0.1)": lambda p: SGD(p, lr=0.1, momentum=0.9),
               "Adam (η = 0.01)": lambda p: Adam(p, lr=0.01)}
    figure, (axis,) = new_figure()
    rows, curves = [], {}
    for name, make in choices.items():
        model = mlp([2, 16, 16, 2], seed=seed)
        loader = DataLoader(data, batch_size=len(data))
        history = fit(model, CrossEntropyLoss(), make(model.parameters()), loader, epochs=epochs, progress=False,
                      compile=True)
        trained = evaluate(model, CrossEntropyLoss(), loader)  # the network after the last step
        # the loss before each step (fit's record), then after the last one: losses[k] is the loss after k steps
        losses = history["train_loss"] + [trained["loss"]]
        reached = next((steps for steps, value in enumerate(losses) if value < target_loss), None)
        curves[name] = {"losses": losses, "steps_to_target": reached}
        rows.append([name, losses[-1], str(reached) if reached is not None else f"not within {epochs}",
                     trained["accuracy"]])
        axis.plot(range(len(losses)), losses, label=name)
    axis.axhline(target_loss, color="grey", linestyle="--", linewidth=1, label=f"target {target_loss:g}")
    axis.set(xlabel="steps taken (full batch)", ylabel="cross-entropy loss", title="same start, three optimizers")
    axis.legend()
    return Experiment(
        "optimizers", "Optimizers: SGD, momentum, Adam",
        ["Three copies of the same 2→16→16→2 network (same initial weights) learn the two-moons data with "
         "full-batch steps; only the update rule differs.",
         "Plain SGD steps along −η·∇L. Momentum adds up past steps, so it speeds up along directions the "
         "gradient keeps pointing to. Adam divides each step by a running estimate of the gradient's size, "
         "so every weight moves at a similar pace whatever the scale of its gradient.",
         f"The loss is measured before the first step and after each one ({epochs} steps, {len(losses)} losses); "
         f"'steps to target' counts the steps taken before the loss is first below {target_loss:g}."],
        [{"title": "Optimizers from the same start", "intro": f"{epochs} full-batch steps",
          "columns": ["optimizer", "final loss", f"steps to loss < {target_loss:g}", "final accuracy"],
          "rows": rows}],
        figure, {"curves": curves, "target_loss": target_loss})


def batch_size(epochs: int = 20, sizes: Sequence[int] = (200, 32, 1), lr: float = 0.1, seed: int = 0) -> Experiment:
    """Batch, mini-batch and stochastic gradient descent: same data, same start, same η."""
    import time

    from ..data import DataLoader, make_moons
    from ..nn import CrossEntropyLoss, mlp
    from ..optim import SGD
    from ..training import fit

    data = make_moons(n_samples=200, noise=0.2, seed=seed)
    figure, axes = new_figure(2)
    rows, curves = [], {}
    for size in sizes:
        size = min(int(size), len(data))
        kind = "batch" if size == len(data) else "stochastic" if size == 1 else "mini-batch"
        model = mlp([2, 16, 2], seed=seed)
        loader = DataLoader(data, batch_size=size, shuffle=size < len(data), seed=seed)
        started = time.perf_counter()
        history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=lr), loader, epochs=epochs,
                      val_loader=DataLoader(data, batch_size=len(data)), progress=False, compile=True)
        seconds = time.perf_counter() - started
        losses, updates = history["val_loss"], len(loader)
        label = f"{kind} (batch {size})"
        curves[label] = {"losses": losses, "updates_per_epoch": updates, "seconds": seconds}
        rows.append([label, str(updates), str(updates * epochs), losses[-1], rounded_text(seconds, 2)])
        axes[0].plot(range(1, epochs + 1), losses, label=label)
        axes[1].plot([updates * epoch for epoch in range(1, epochs + 1)], losses, label=label)
    axes[0].set(xlabel="epoch", ylabel="loss on all 200 samples", title="per epoch")
    axes[1].set(xscale="log", xlabel="updates (log scale)", ylabel="loss on all 200 samples", title="per update")
    for axis in axes:
        axis.legend()
    return Experiment(
        "batch-size", "Batch size: batch, mini-batch and stochastic gradient descent",
        [f"One 2→16→2 network per batch size, same start, SGD with η = {lr:g}, {epochs} epochs over the same "
         "200 moons samples; the loss is measured on all samples after each epoch.",
         "A full batch makes one careful step per epoch; a mini-batch makes several cheaper, noisier steps; "
         "stochastic gradient descent (batch size 1) makes one step per sample. Per epoch, smaller batches "
         "learn faster because they update more often; per update, the full batch is the most accurate.",
         "The noise of small batches also shows as wiggles in the curve."],
        [{"title": "Batch sizes", "intro": f"{epochs} epochs each",
          "columns": ["run", "updates per epoch", "updates in all", "final loss", "seconds"], "rows": rows}],
        figure, {"curves": curves, "epochs": epochs})


def zero_grad(steps: int = 60, lr: float = 0.5, seed: int = 0) -> Experiment:
    """Training with ``optimizer.zero_grad()`` before each backward, and without it (gradients pile up)."""
    from ..data import make_moons
    from ..nn import mlp
    from ..nn.functional import cross_entropy
    from ..optim import SGD

    x, y = make_moons(n_samples=200, noise=0.2, seed=seed).tensors
    figure, axes = new_figure(2)
    results = {}
    for zeroing in (True, False):
        model = mlp([2, 16, 2], seed=seed)
        optimizer = SGD(model.parameters(), lr=lr)
        losses, norms = [], []
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(steps):
                if zeroing:
                    optimizer.zero_grad()
                loss = cross_entropy(model(x), y)
                loss.backward()
                losses.append(loss.item())
                norms.append(math.sqrt(sum(float((p.grad.array.astype(np.float64) ** 2).sum())
                                           for p in model.parameters())))
                optimizer.step()
        label = "with zero_grad()" if zeroing else "without zero_grad()"
        results[label] = {"losses": losses, "grad_norms": norms, "behaviour": classify(losses, norms)[0]}
        axes[0].plot(range(1, steps + 1), losses, label=label)
        axes[1].plot(range(1, steps + 1), norms, label=label)
    axes[0].set(xlabel="step", ylabel="loss", title="loss")
    axes[1].set(yscale="log", xlabel="step", ylabel="‖.grad‖ (all parameters)",
                title="what .grad holds (without zeroing: a running sum)")
    axes[0].legend(loc="upper left")
    axes[1].legend(loc="center right")
    labels = list(results)
    marks = sorted({0, 1, 2, 5, 10, steps // 2, steps - 1})
    rows = [[str(counting.number(step))]
            + [results[label][key][step] for label in labels for key in ("losses", "grad_norms")]
            for step in marks if step < steps]
    return Experiment(
        "zero-grad", "Zeroing gradients: with and without optimizer.zero_grad()",
        ["backward() adds each new gradient to .grad; it never replaces it (PyTorch's rule, kept by glassgrad). "
         "optimizer.zero_grad() clears .grad before the next backward.",
         f"Without it, after k steps .grad holds the sum of k gradients, so step k moves the weights by about "
         f"k times η·∇L: the effective learning rate keeps growing, the steps overshoot and the loss stops "
         f"improving. Here η = {lr:g}, {steps} full-batch steps on the moons data, same start for both runs.",
         "Adding gradients up is useful on purpose, e.g. to simulate a large batch from several small ones "
         "(call step() and zero_grad() once every few backward passes)."],
        [{"title": "Side by side", "intro": "loss and gradient norm at some steps",
          "columns": ["step"] + [f"{label}: {key}" for label in labels for key in ("loss", "‖grad‖")],
          "rows": rows}],
        figure, {"runs": results})

