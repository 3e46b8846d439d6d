"""Reading and grading a learner's answer.

:func:`parse_answer` reads what a learner types — ``3``, ``-2.5``, ``3/2``, ``- 3 / 2``,
``−0.5`` (a typographic minus), ``1e-3`` — into an exact :class:`~fractions.Fraction`, and
raises :class:`AnswerError` with a message saying what to type instead for anything else
(a space inside a number, ``1 1/2``, is refused rather than read as ``11/2``). Digits are 0-9: Python's
``Fraction`` and ``int`` also read other scripts' digits (``٣``, ``３``, ``𝟙`` as 3, 3, 1), which the sheets never
show; the quiz and the playground's number fields refuse them too, so they are refused here by name.

:func:`check_answer` compares it with the expected answer:

* exactly, or within ``tolerance`` (default 1e-9, so ``0.30000000000000004`` copied from
  Python counts as ``0.3``; problems whose answers are rounded state a larger one);
* in the *given-values mode*, for problems that show rounded numbers, it also accepts an
  answer computed from the numbers as shown (``given_values_answer``, which the engine
  recomputes from those rounded numbers), within the same tolerance.

>>> check_answer("3/2", Fraction(3, 2)).correct
True
>>> check_answer("1.4", Fraction(3, 2)).correct
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .numbers import number_text

DEFAULT_TOLERANCE = Fraction(1, 10**9)

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-"})
_SPLIT_NUMBER = re.compile(r"[\d.]\s+[\d.]", re.ASCII)
_EXPONENT = re.compile(r"[eE]([+-]?\d+)", re.ASCII)
MAX_EXPONENT = 30
MAX_ANSWER_LENGTH = 100
"""Characters an answer may have: every answer here is a short number (Python also refuses to read
integers of over 4300 digits)."""

HOW_TO_ANSWER = "type an integer (3), a decimal (-2.5) or a fraction (3/2)"


class AnswerError(ValueError):
    """The input is not a number; the message says what is wrong and what to type instead."""


def parse_answer(text: str) -> Fraction:
    """The exact value of a typed answer; spaces anywhere are ignored.

    >>> parse_answer(" - 3 / 2 ")
    Fraction(-3, 2)
    """
    shown = text.strip()
    cleaned = "".join(shown.split()).translate(_MINUS_SIGNS)
    if not cleaned:
        raise AnswerError(f"empty answer: {HOW_TO_ANSWER}")
    if len(cleaned) > MAX_ANSWER_LENGTH:
        raise AnswerError(f"{shown[:12]!r}… is {len(cleaned)} characters long, more than any answer here "
                          f"(at most {MAX_ANSWER_LENGTH}): {HOW_TO_ANSWER}")
    other_digits = sorted({c for c in cleaned if c.isdigit() and not c.isascii()})
    if other_digits:
        raise AnswerError(f"{shown!r} uses {' '.join(other_digits)}, which is not among the digits 0-9: "
                          f"{HOW_TO_ANSWER}")
    if _SPLIT_NUMBER.search(shown):
        raise AnswerError(f"{shown!r} has a space inside a number: write one number, e.g. 1.5 or 3/2 (not 1 1/2)")
    if "," in cleaned and _NUMBER.fullmatch(cleaned.replace(",", ".", 1)):
        raise AnswerError(f"{shown!r}: write decimals with a point (2.5), not a comma")
    numerator, slash, denominator = cleaned.partition("/")
    if not _NUMBER.fullmatch(numerator) or (slash and not _NUMBER.fullmatch(denominator)):
        raise AnswerError(f"{shown!r} is not a number: {HOW_TO_ANSWER}")
    if any(abs(int(exponent)) > MAX_EXPONENT for exponent in _EXPONENT.findall(cleaned)):
        raise AnswerError(f"{shown!r} is out of range: write the number without an exponent beyond e±{MAX_EXPONENT}")
    value = Fraction(numerator)
    if slash:
        divisor = Fraction(denominator)
        if divisor == 0:
            raise AnswerError(f"{shown!r} divides by zero: the denominator of a fraction must not be 0")
        value /= divisor
    return value


@dataclass(frozen=True)
class Verdict:
    """The outcome of grading one answer, with a sentence of feedback."""

    correct: bool
    value: Fraction
    expected: Fraction
    feedback: str


def check_answer(
    text: str,
    expected: Fraction,
    tolerance: Fraction = DEFAULT_TOLERANCE,
    given_values_answer: Fraction | None = None,
) -> Verdict:
    """Grade ``text`` against ``expected``; raises :class:`AnswerError` if it is not a number.

    ``given_values_answer`` switches on the given-values mode: the answer that the numbers
    *as shown* (rounded) lead to is accepted too.
    """
    value = parse_answer(text)
    expected = Fraction(expected)
    shown, answer = number_text(value), number_text(expected)
    margin = "" if tolerance <= DEFAULT_TOLERANCE else f" (accepted within ±{number_text(tolerance)})"
    if abs(value - expected) <= tolerance:
        feedback = f"Right: {answer}{margin}."
        return Verdict(True, value, expected, feedback)
    if given_values_answer is not None and abs(value - given_values_answer) <= tolerance:
        feedback = (f"Right: {shown} is what the rounded numbers shown give ({number_text(given_values_answer)}); "
                    f"the engine's unrounded numbers give {answer}{margin}.")
        return Verdict(True, value, expected, feedback)
    return Verdict(False, value, expected, f"Not quite: you answered {shown}, the answer is {answer}{margin}.")
