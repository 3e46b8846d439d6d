"""The playground's Landscape and Scalar views: their JSON, from :mod:`glassgrad.lessons.landscape` and
:mod:`glassgrad.trace.scalar`.

Both answers are functions of the request alone, so each is computed once and kept
(a learner switching learning rates or stepping along a walk asks for nothing new).
"""

from __future__ import annotations

import functools
from typing import Any

from . import code_results, code_runner
from .safety import ApiError, Fields

MAX_PAGE_STEPS = 100
SCALAR_EXAMPLES = ("diagonal-flip", "linear-regression")
"""The worked examples small enough for one box per number (see :data:`glassgrad.trace.scalar.MAX_PARAMETERS`)."""


def landscape_view(state: Any, fields: Fields) -> dict:
    """``{x, y, steps, zoom}`` → the loss over the slice through weights ``x`` and ``y`` and the four walks."""
    from glassgrad.lessons.landscape import DEFAULT_STEPS, DEFAULT_WEIGHTS

    x = fields.text("x", DEFAULT_WEIGHTS[0], 16)
    y = fields.text("y", DEFAULT_WEIGHTS[1], 16)
    steps = fields.integer("steps", DEFAULT_STEPS, 1, MAX_PAGE_STEPS)
    zoom = fields.flag("zoom", False)
    fields.finish()
    return _landscape(x, y, steps, zoom)


@functools.lru_cache(maxsize=32)
def _landscape(x: str, y: str, steps: int, zoom: bool) -> dict:
    from glassgrad.lessons.landscape import landscape

    try:
        return landscape((x, y), steps=steps, zoom=zoom)
    except ValueError as error:  # a weight that is not there, or the same one twice: the learner's to fix
        raise ApiError(422, str(error)) from None


def scalar_view(state: Any, fields: Fields) -> dict:
    """``{example}`` → every number of that worked example (or of a Code view run, ``"code:<id>"``) as a box."""
    if code_results.is_code_example(fields.data.get("example")):
        example = fields.text("example", "", 40)
        fields.finish()
        return _scalar_of(code_results.scalar_document(code_runner.runner_of(state), example))
    example = fields.choice("example", SCALAR_EXAMPLES, SCALAR_EXAMPLES[0])
    fields.finish()
    return _scalar(example)


def _scalar_of(document: dict) -> dict:
    from glassgrad.trace.scalar import scalar_document, scalar_layout

    try:
        return scalar_layout(scalar_document(document))
    except ValueError as error:  # too many numbers, or an op the view does not split: the learner's to change
        raise ApiError(422, str(error)) from None


@functools.lru_cache(maxsize=len(SCALAR_EXAMPLES))
def _scalar(example: str) -> dict:
    from glassgrad.lessons import lesson

    return _scalar_of(lesson(example))
