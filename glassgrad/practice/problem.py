"""One fill-in-the-blank exercise: the numbers, the blank, the answer and its worked solution.

Every problem kind (:mod:`glassgrad.practice.problems`) produces a :class:`Problem`:

* ``tensors``: the matrices, vectors and scalars of the relation, in display order, each an
  object array of exact :class:`~fractions.Fraction` values with ``None`` at the blank;
* ``blank``: which tensor holds the blank and where (0-based index, as in NumPy);
* ``answer``: the engine's value of the blank (exact, or rounded to ``given_places + 1``
  places when ``exact`` is false), and ``solution``: the worked solution, with the numbers.

It converts to and from the JSON of ``glassgrad practice generate`` (see ``schema.json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from .answers import DEFAULT_TOLERANCE, Verdict, check_answer
from .numbers import index_label, number_text


@dataclass(frozen=True)
class Blank:
    """Where the ``?`` is: a tensor's name and a 0-based index into it (``()`` for a scalar)."""

    tensor: str
    index: tuple[int, ...]


@dataclass(frozen=True)
class Problem:
    """A generated exercise with exactly one blank and exactly one answer."""

    kind: str
    seed: int
    size: int
    difficulty: int
    equation: str
    question: str
    tensors: dict[str, np.ndarray]
    blank: Blank
    answer: Fraction
    solution: tuple[str, ...]
    exact: bool = True
    tolerance: Fraction = DEFAULT_TOLERANCE
    given_values_answer: Fraction | None = None
    given_places: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def blank_label(self) -> str:
        """The blank's name in worked solutions, counting from 1: ``X[2,1]``."""
        return index_label(self.blank.tensor, self.blank.index, self.tensors[self.blank.tensor].shape)

    @property
    def hint(self) -> str:
        """A nudge for a second try that gives no number away: the rule the worked solution starts from,
        or, when the solution is one line (which holds the answer), the relation to use entry by entry.

        The solution's first line may end in a colon that introduces the lines after it ("First ∂L/∂A₁,
        entry by entry:"); shown alone, it ends in a full stop, so that it does not read as cut off."""
        if len(self.solution) > 1:
            first = self.solution[0]
            return f"{first[:-1]}." if first.endswith(":") else first
        return f"Use {self.equation}: write out the sum for {self.blank_label} term by term, then add."

    def check(self, text: str) -> Verdict:
        """Grade a typed answer (raises :class:`~glassgrad.practice.answers.AnswerError` for non-numbers)."""
        return check_answer(text, self.answer, self.tolerance, self.given_values_answer)

    def _repr_html_(self) -> str:
        from .display import problem_html

        return problem_html(self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (numbers as JSON numbers, the blank as ``null``)."""
        return {
            "kind": self.kind,
            "seed": self.seed,
            "size": self.size,
            "difficulty": self.difficulty,
            "equation": self.equation,
            "question": self.question,
            "tensors": {name: _to_json(values.tolist()) for name, values in self.tensors.items()},
            "blank": {"tensor": self.blank.tensor, "index": list(self.blank.index)},
            "answer": _to_json(self.answer),
            "answer_text": number_text(self.answer),
            "exact": self.exact,
            "tolerance": _to_json(self.tolerance),
            "given_values_answer": _to_json(self.given_values_answer),
            "given_places": self.given_places,
            "notes": list(self.notes),
            "solution": list(self.solution),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """Rebuild a problem from its JSON form (already validated against the schema)."""
        tensors = {name: np.array(_from_json(values), dtype=object) for name, values in data["tensors"].items()}
        return cls(
            kind=data["kind"],
            seed=data["seed"],
            size=data["size"],
            difficulty=data["difficulty"],
            equation=data["equation"],
            question=data["question"],
            tensors=tensors,
            blank=Blank(data["blank"]["tensor"], tuple(data["blank"]["index"])),
            answer=_from_json(data["answer"]),
            solution=tuple(data["solution"]),
            exact=data["exact"],
            tolerance=_from_json(data["tolerance"]),
            given_values_answer=_from_json(data.get("given_values_answer")),
            given_places=data.get("given_places"),
            notes=tuple(data.get("notes", ())),
        )


def with_blank(values: np.ndarray, index: tuple[int, ...]) -> np.ndarray:
    """A copy of an object array of fractions with ``None`` at ``index``."""
    blanked = values.copy()
    blanked[index] = None
    return blanked


def _to_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    return value


def _from_json(value: Any) -> Any:
    """JSON numbers back to exact fractions: ``0.1`` means one tenth, as the writer meant."""
    if isinstance(value, list):
        return [_from_json(item) for item in value]
    if value is None or isinstance(value, bool):
        return value
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
