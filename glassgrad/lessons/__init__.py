"""Worked examples, experiments and the tour (``gg.lessons``; ``glassgrad trace NAME``).

Each worked example returns a trace document (:func:`glassgrad.trace.layers.describe`)
extended with its summary and explanation, ready for any renderer:

* ``diagonal-flip`` (:mod:`.diagonal_flip`): the 4→3→4 ReLU network of the seed lessons;
* ``mlp3`` (:mod:`.mlp3`): the lesson's 3-layer MLP with softmax + cross-entropy, from the given
  ``ŷ = [0.5, 0.5, 0]`` back to ``∂L/∂W₁`` (the ``[a | 1]`` layout), and a real network beside it;
* ``linear-regression`` (:mod:`.linear_regression`): batch gradient descent on a line;
* ``cnn-digits`` (:mod:`.cnn_digits`): a small CNN on the 8×8 digits, one convolution cell worked out.

Also here: :class:`Diagnostics` (a ``gg.fit`` callback: per-layer gradient norms, update-to-weight
ratios, dead ReLUs, and their plot) and :func:`run_experiment` (the experiments of
:mod:`.experiments`, by name). The lessons' modules load when first used, so ``import glassgrad``
stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from .diagnostics import Diagnostics
from .worked_step import traced_step

LESSONS = {
    "diagonal-flip": ("glassgrad.lessons.diagonal_flip", "the 4→3→4 ReLU network of the lessons, 31 parameters"),
    "mlp3": ("glassgrad.lessons.mlp3", "the lesson's 3-layer MLP: ŷ = [0.5, 0.5, 0] back to ∂L/∂W₁, softmax and "
                                       "cross-entropy"),
    "linear-regression": ("glassgrad.lessons.linear_regression",
                          "univariate linear regression by batch gradient descent"),
    "cnn-digits": ("glassgrad.lessons.cnn_digits",
                   "a small CNN on the 8×8 digits (≥ 98 % validation), one convolution cell worked out"),
}


def lesson(name: str) -> dict:
    """The trace document of the worked example ``name`` (a key of :data:`LESSONS`)."""
    if name not in LESSONS:
        raise ValueError(f"unknown lesson {name!r}; choose one of: {', '.join(LESSONS)}")
    return import_module(LESSONS[name][0]).run()


EXPERIMENTS = {
    "learning-rate": ("experiments", "learning_rate",
                      "η from 0.001 to 10 on the diagonal-flip network: slow, converging, diverging"),
    "depth": ("depth", "depth", "vanishing gradients in deep sigmoid nets vs ReLU, He init, BatchNorm, residual; "
                                "gradient clipping"),
    "optimizers": ("experiments", "optimizers", "SGD, momentum and Adam from the same start"),
    "batch-size": ("experiments", "batch_size", "batch vs mini-batch vs stochastic gradient descent"),
    "zero-grad": ("experiments", "zero_grad", "what happens when gradients are not zeroed between steps"),
}
"""Each experiment: the module of :mod:`glassgrad.lessons` and the function that runs it, and what it shows."""


def experiment_function(name: str) -> Callable[..., Any]:
    """The function that runs the experiment ``name`` (a key of :data:`EXPERIMENTS`); its keywords are the options."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of: {', '.join(EXPERIMENTS)}")
    module, function, _ = EXPERIMENTS[name]
    return getattr(import_module(f"glassgrad.lessons.{module}"), function)


def run_experiment(name: str, **options: Any) -> Any:
    """Run the experiment called ``name`` (a key of :data:`EXPERIMENTS`) with its keyword options."""
    return experiment_function(name)(**options)


__all__ = ["EXPERIMENTS", "LESSONS", "Diagnostics", "experiment_function", "lesson", "run_experiment", "traced_step"]
