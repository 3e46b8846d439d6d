"""How glassgrad names a position for a learner: counting from 1, as the lessons do.

The lessons count from 1 (``x₂`` is the second pixel, "hidden unit 2", "row 2 of W₁"), and so
does everything a learner reads here: traces, the playground's step-through and its
explanations, practice problems, worksheets, the quiz and the course. The code counts from 0
(NumPy, PyTorch, ``model[0]``, the playground's cell ids such as ``W1[1,0]``), and where that
helps, the code's index is shown beside the learner's number. Every front end names a position
through this module, and reads back a position a learner types (``glassgrad landscape --weights
'W1[3,4]'``) with :func:`index_of`, so the ``+ 1`` and its inverse live here and nowhere else::

    W₁[2,1]                           entry("W₁", (1, 0)): row 2, column 1 of W₁
    W₁[2,1] (W₁[1, 0] in code)        entry_with_code("W₁", (1, 0))
    hidden unit 2 (index 1 in code)   ordinal_with_code("hidden unit", 1)

>>> entry("W₁", (1, 0)), ordinal("row", 1), entry("L", ()), index_of(2)
('W₁[2,1]', 'row 2', 'L', 1)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

FIRST = 1
"""The number a learner reads for the code's index 0."""
CONVENTION = ("Positions count from 1, as the lessons do: W₁[2,1] is row 2, column 1 of W₁ "
              "(W₁[1, 0] in code, where NumPy and PyTorch count from 0).")
"""The convention in one sentence, as every front end states it."""


def class_entries(formula: str) -> str:
    """A formula's pick by class label, ``[yᵢ]``, for the positions the lessons count from 1: ``[yᵢ+1]``. A label
    counts from 0, as in code, so label 2 picks a row's third entry: ``log softmax(Z₂)ᵢ[2+1]`` once the label's
    number is in (where ``[2]`` beside ``ŷ[2]``, the second entry, would read as the same position)."""
    return re.sub(r"\[([^\[\]]+)ᵢ\]", r"[\1ᵢ+1]", formula)


def number(index: int) -> int:
    """The learner's number of the code's ``index`` (0 → 1)."""
    return int(index) + FIRST


def index_of(learner_number: int) -> int:
    """The code's index of the learner's number (1 → 0): the inverse of :func:`number`, for names a learner types."""
    return int(learner_number) - FIRST


def numbers_text(index: Sequence) -> str:
    """``(1, 0)`` → ``"2,1"``; a letter (``"j"``, a sum's running index) is written as it is."""
    return ",".join(str(number(i)) if isinstance(i, int) else str(i) for i in index)


def entry(symbol: str, index: Sequence) -> str:
    """One entry as a learner reads it: ``W₁[2,1]``; a scalar (no index) is its symbol alone."""
    return f"{symbol}[{numbers_text(index)}]" if len(index) else symbol


def in_code(symbol: str, index: Sequence) -> str:
    """The same entry as the code indexes it: ``W₁[1, 0]``."""
    return f"{symbol}[{', '.join(str(int(i)) for i in index)}]" if len(index) else symbol


def entry_with_code(symbol: str, index: Sequence) -> str:
    """``W₁[2,1] (W₁[1, 0] in code)``: the learner's name, then the code's."""
    return with_code(entry(symbol, index), symbol, index)


def with_code(name: str, symbol: str, index: Sequence) -> str:
    """A learner's ``name`` followed by the code's entry, where the name leaves out axes of length 1:
    ``with_code("X[3]", "X", (0, 2))`` → ``X[3] (X[0, 2] in code)``; a scalar (no index) is ``name`` alone."""
    return f"{name} ({in_code(symbol, index)} in code)" if len(index) else name


def stated(symbol: str, index: Sequence) -> str:
    """An entry with the convention spelt out, as a question names its blank:
    ``W[2,3] (row 2, column 3, counting from 1)``, ``x[2] (entry 2, counting from 1)``."""
    if not len(index):
        return symbol
    if len(index) == 1:
        words = ordinal("entry", index[0])
    elif len(index) == 2:
        words = f"{ordinal('row', index[0])}, {ordinal('column', index[1])}"
    else:
        words = f"position {numbers_text(index)}"
    return f"{entry(symbol, index)} ({words}, counting from {FIRST})"


def ordinal(noun: str, index: int) -> str:
    """``ordinal("hidden unit", 1)`` → ``"hidden unit 2"``."""
    return f"{noun} {number(index)}"


def ordinal_with_code(noun: str, index: int, name: str = "") -> str:
    """``ordinal_with_code("class", 1)`` → ``"class 2 (index 1 in code)"``; with a ``name`` (a CSV header's),
    ``ordinal_with_code("column", 1, "b")`` → ``"column 2 'b' (index 1 in code)"``."""
    named = f" {name!r}" if name else ""
    return f"{ordinal(noun, index)}{named} (index {int(index)} in code)"


def span(noun: str, first: int, stop: int, total: int) -> str:
    """The code's slice ``[first:stop]`` of ``total`` things: ``columns 1–3 of 4``, ``column 4 of 4``."""
    if stop - first > 1:
        return f"{noun}s {number(first)}–{number(stop - 1)} of {total}"
    return f"{noun} {number(first)} of {total}"


def code_name(name: str, path: str) -> str:
    """A module as code reaches it from the model, marked as code: ``Linear (model[2] in code)``, from its dotted
    name in ``named_modules()`` (``"2"``; ``"1.f"`` is ``model[1].f``, ``"head"`` is ``model.head``)."""
    reach = "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in path.split("."))
    return f"{name} (model{reach} in code)"
