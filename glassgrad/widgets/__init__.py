"""Notebook widgets: the playground's views in a Jupyter cell, for the learner's own model.

``gg.widgets.StepThrough(model, x, y)`` steps one sample through ``model`` as the playground's
step-through does (Forward, Backward one layer at a time, Update ``W ← W − η·∂L/∂W``; click any
number for its formula with the engine's numbers plugged in), with the page's own front end.

This package loads on first use (``import glassgrad`` stays light); the widget needs the
``notebook`` extra (``pip install "glassgrad[notebook]"``: anywidget).

>>> import glassgrad as gg                                                        # doctest: +SKIP
>>> model = gg.nn.Sequential(gg.nn.Linear(2, 3), gg.nn.ReLU(), gg.nn.Linear(3, 1))  # doctest: +SKIP
>>> gg.widgets.StepThrough(model, gg.tensor([0.5, -1.0]), gg.tensor([1.0]))       # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module

__all__ = ["StepThrough"]


def __getattr__(name: str):
    """``StepThrough`` imports anywidget when first asked for; without it, one line says what to install."""
    if name != "StepThrough":
        raise AttributeError(f"module 'glassgrad.widgets' has no attribute {name!r}")
    try:
        module = import_module(f"{__name__}.stepthrough")
    except ModuleNotFoundError as error:
        if error.name not in ("anywidget", "ipywidgets", "traitlets"):
            raise
        raise ImportError('gg.widgets.StepThrough needs anywidget: pip install "glassgrad[notebook]"') from None
    return module.StepThrough
