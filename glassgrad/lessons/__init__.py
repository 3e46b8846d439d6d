"""Worked examples, experiments and the tour (``gg.lessons``; ``glassgrad trace NAME``).

Each worked example returns a trace document (:func:`glassgrad.trace.layers.describe`)
extended with its summary and explanation, ready for any renderer:

* ``diagonal-flip`` (:mod:`.diagonal_flip`): the 4→3→4 ReLU network of the seed lessons;
* ``mlp3`` (:mod:`.mlp3`): a 3-layer MLP with softmax + cross-entropy;
* ``linear-regression`` (:mod:`.linear_regression`): batch gradient descent on a line.

Also here: :class:`Diagnostics` (a ``gg.fit`` callback: per-layer gradient norms, update-to-weight
ratios, dead ReLUs, and their plot) and :func:`run_experiment` (the experiments of
:mod:`.experiments`, by name). The lessons' modules load when first used, so ``import glassgrad``
stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .diagnostics import Diagnostics
from .experiments import EXPERIMENTS, run_experiment

LESSONS = {
    "diagonal-flip": ("glassgrad.lessons.diagonal_flip", "the 4→3→4 ReLU network of the lessons, 31 parameters"),
    "mlp3": ("glassgrad.lessons.mlp3", "a 3-layer MLP with ReLU, softmax and cross-entropy"),
    "linear-regression": ("glassgrad.lessons.linear_regression",
                          "univariate linear regression by batch gradient descent"),
}


def lesson(name: str) -> dict:
    """The trace document of the worked example ``name`` (a key of :data:`LESSONS`)."""
    if name not in LESSONS:
        raise ValueError(f"unknown lesson {name!r}; choose one of: {', '.join(LESSONS)}")
    return import_module(LESSONS[name][0]).run()


def traced_step(model: Any, loss_fn: Any, inputs: Any, targets: Any, optimizer: Any) -> tuple[Any, Any, Any, float]:
    """One training step under a tape: forward, loss, backward, update; then the loss after the update.

    Returns ``(tape, output, loss, new_loss)``; the tape watches ``model`` and calls the inputs ``X``.
    """
    from ..autograd import no_grad
    from ..trace import trace

    with trace(model) as tape:
        tape.name(inputs, "X")
        output = model(inputs)
        loss = loss_fn(output, targets)
        loss.backward()
        optimizer.step()
    with no_grad():
        new_loss = loss_fn(model(inputs), targets).item()
    return tape, output, loss, new_loss


__all__ = ["EXPERIMENTS", "LESSONS", "Diagnostics", "lesson", "run_experiment", "traced_step"]
