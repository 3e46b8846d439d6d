"""Grading an answer typed into a notebook cell, with the practice checker and the engine's number.

A lesson notebook's exercise cell ends with ``check(answer, expected)``: ``answer`` is what the
learner typed (a number, or text such as ``"3/2"``; ``...`` until they answer), ``expected`` is the
engine's value (a float, a one-number tensor) or a generated practice :class:`~glassgrad.practice.Problem`.
The grading itself is :func:`glassgrad.practice.check_answer`'s; this module only reads the cell's
answer and says the outcome in a sentence, in the notebook (HTML) and in plain text, and never raises
for the learner's input: an unanswered cell, a typo, or an engine value left ``nan`` by a changed cell
above is reported, not thrown.

An answer counts when ``|answer − expected| ≤ tolerance`` (1e-9 unless the exercise allows rounding).

>>> check(0.44, 0.44).correct
True
>>> print(check(1, 0.1 + 0.2 - 0.3))
Not quite: you answered 1, the answer is 0.
>>> print(check(..., 0.44))
Not answered yet: replace ... with your number and run the cell again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from html import escape
from typing import Any

import numpy as np

from ..arguments import shape_text
from ..practice.answers import DEFAULT_TOLERANCE, AnswerError, Verdict, check_answer
from ..practice.problem import Problem
from ..trace.numbers import DECIMALS

EXPECTED_PLACES = 12
"""Decimals kept of the engine's float answer: far below the default tolerance (1e-9), far above float64 noise."""
COLOURS = {"right": "#15803d", "wrong": "#b91c1c", "unanswered": "#475569", "unreadable": "#b45309"}
"""The playground's colours for good (green), bad (red) and muted (grey) text."""


class NoNumberToGrade(ValueError):
    """The expected value is ``nan`` or ``inf``: the cells above did not leave a number to grade against."""


@dataclass(frozen=True)
class Checked:
    """The outcome of one exercise cell: ``status`` is right, wrong, unanswered or unreadable."""

    status: str
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "right"

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        mark = {"right": "✓", "wrong": "✗"}.get(self.status, "…")
        return (f'<div class="gg-check gg-check-{self.status}" style="color:{COLOURS[self.status]};font-weight:600">'
                f"{mark} {escape(self.message)}</div>")


def _answer_text(answer: Any) -> str | None:
    """What the learner typed, as the text the practice checker reads; None when not answered yet."""
    if answer is ... or answer is None:
        return None
    if isinstance(answer, bool):
        raise AnswerError(f"{answer} is not a number: type the number itself, e.g. 0.5 or 3/2")
    if hasattr(answer, "item") and getattr(answer, "shape", ()) in ((), (1,)):
        return _answer_text(_in_its_precision(answer))
    if hasattr(answer, "item"):
        raise AnswerError(f"your answer holds {int(np.prod(answer.shape))} numbers (a {type(answer).__name__} of "
                          f"shape {shape_text(tuple(answer.shape))}), not one: give the one number asked for, e.g. "
                          "answer[0].item()")
    if isinstance(answer, float):
        return repr(answer)
    if isinstance(answer, (int, Fraction)):
        return str(answer)
    if isinstance(answer, str):
        return answer
    raise AnswerError(f"{type(answer).__name__} is not a number: type one number, e.g. 0.5 or 3/2")


def _expected_value(expected: Any) -> Fraction:
    """The engine's number as a fraction: a float rounded to :data:`EXPECTED_PLACES` decimals, by its shortest
    decimal (0.44, not 0.44000000000000000222…; 0, not the float64 rounding noise -2.8e-17 of a sum that is 0).

    A tensor of more than one number (a cell above changed so that the value became a vector), or None (a gradient
    read before its backward() ran) cannot be graded against: said like a ``nan``. Anything else that is no
    number is the exercise's own mistake: TypeError.
    """
    if expected is None:  # w.grad before a backward() ran: the cells above were skipped or run out of order
        raise NoNumberToGrade("the engine's value here is None, not computed yet (a gradient is None until backward() "
                              "runs): run the notebook's cells again from the top, in order")
    if hasattr(expected, "item"):
        size = int(np.prod(getattr(expected, "shape", ())))
        if size != 1:
            raise NoNumberToGrade(f"the engine's value here is {size} numbers (shape {tuple(expected.shape)}), not "
                                  "one: run the notebook's cells again from the top, as they were written")
        expected = _in_its_precision(expected)
    if isinstance(expected, float) and not math.isfinite(expected):
        raise NoNumberToGrade(f"the engine's value here is {expected}, not a number (a step above overflowed or "
                              "divided by 0): run the notebook's cells again from the top, as they were written")
    if isinstance(expected, float):
        return Fraction(repr(round(expected, EXPECTED_PLACES) + 0.0))
    try:
        if isinstance(expected, bool):
            raise TypeError(expected)
        return Fraction(expected)  # an int, a Fraction, a decimal's text ("0.25")
    except (TypeError, ValueError):
        raise TypeError(f"check(answer, expected): expected must be the engine's number (a float, a one-number "
                        f"tensor) or a practice Problem, not {expected!r}") from None


def check(answer: Any, expected: Any, tolerance: float | None = None) -> Checked:
    """Grade ``answer`` against ``expected`` (the engine's number, or a practice problem) and say so.

    ``tolerance`` allows a rounded answer (e.g. 0.001 when the exercise asks for three decimals).
    """
    try:
        text = _answer_text(answer)
    except AnswerError as error:
        return Checked("unreadable", f"Cannot read your answer: {error}")
    if text is None:
        return Checked("unanswered", "Not answered yet: replace ... with your number and run the cell again.")
    allowed = None  # a practice problem states its own tolerance
    try:
        if isinstance(expected, Problem):
            verdict = expected.check(text)
        else:
            allowed = DEFAULT_TOLERANCE if tolerance is None else _tolerance(tolerance)
            verdict = check_answer(text, _expected_value(expected), allowed)
    except AnswerError as error:
        return Checked("unreadable", f"Cannot read your answer: {error}")
    except NoNumberToGrade as error:
        return Checked("unreadable", f"Cannot grade yet: {error}")
    if verdict.correct:
        return Checked("right", verdict.feedback)
    return Checked("wrong", verdict.feedback + _near_miss(verdict, allowed))


def _near_miss(verdict: Verdict, allowed: Fraction | None) -> str:
    """For a wrong answer within display rounding of the engine's number (``|answer − expected| ≤ ½·10⁻⁴``, the
    glass box shows :data:`~glassgrad.trace.numbers.DECIMALS` decimals), the tolerance and what to type instead.
    A practice problem's tolerance (``allowed`` None) and a wider one than the default are stated by the feedback."""
    shown_alike = abs(verdict.value - verdict.expected) <= Fraction(1, 2 * 10**DECIMALS)
    if allowed is None or allowed > DEFAULT_TOLERANCE or not shown_alike:
        return ""
    return (f" Close: an answer counts within ±{float(allowed):g}, and the numbers shown are rounded to {DECIMALS} "
            "decimals: type all the digits, or the expression itself")


def _tolerance(tolerance: Any) -> Fraction:
    """The exercise's ``tolerance`` as a fraction; a negative one would call every answer wrong, so it is refused."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float, Fraction)) or not (
            math.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"check(..., tolerance={tolerance!r}): the tolerance must be a number ≥ 0, e.g. 0.001 to "
                         "accept an answer rounded to three decimals")
    return Fraction(str(tolerance))


def _in_its_precision(value: Any) -> Any:
    """A one-number tensor or NumPy number as a Python number, the shortest decimal of its own dtype.

    The engine's float32 0.1 widens to 0.10000000149… in float64, but the decimal it stands for, and prints, is 0.1:
    graded by the widened digits, the right answer 0.1 missed by 1.5e-9. A NumPy float64 is a float, but its repr,
    ``np.float64(0.5)``, is not a number a learner would type.
    """
    number = np.asarray(value.detach() if hasattr(value, "detach") else value).reshape(())[()]
    return float(str(number)) if isinstance(number, np.floating) else number.item()
