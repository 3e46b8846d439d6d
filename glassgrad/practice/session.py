"""Interactive practice in the terminal: ask, read, grade, explain, keep score, sum up.

:func:`run_session` works on any :class:`Exercise` (a generated problem, a quiz question)
and on any text streams, so it runs the same when a person types and when answers are
piped in: prompts go to ``output``, answers come one per line from ``input``. Input that is
not an answer gets a message and the same question again; ``skip`` shows the solution and
moves on; ``quit``, the end of the input or Ctrl-C ends the session with the summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol, TextIO

from ..trace.numbers import rounded_text
from .answers import AnswerError, Verdict
from .problem import Problem
from .render import problem_text

SKIP_WORDS = ("skip", "s")
QUIT_WORDS = ("quit", "q", "exit")


class Exercise(Protocol):
    """What a session needs from a question."""

    label: str
    prompt: str

    def text(self) -> str: ...

    def grade(self, answer: str) -> Verdict: ...

    def explanation(self) -> str: ...


@dataclass(frozen=True)
class ProblemExercise:
    """A generated :class:`Problem` as a session question."""

    problem: Problem
    prompt: str = "? = "

    @property
    def label(self) -> str:
        return self.problem.kind

    def text(self) -> str:
        return problem_text(self.problem)

    def grade(self, answer: str) -> Verdict:
        return self.problem.check(answer)

    def explanation(self) -> str:
        return "Worked solution:\n" + "\n".join(f"  {line}" for line in self.problem.solution)


@dataclass
class Score:
    """How a session went."""

    asked: int = 0
    right: int = 0
    wrong: int = 0
    skipped: int = 0
    total: int = 0

    def summary(self) -> str:
        answered = self.right + self.wrong
        percent = f" ({rounded_text(Fraction(self.right, answered), 0, '%')})" if answered else ""
        parts = [f"Score: {self.right} of {answered} answered right{percent}"]
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        if self.total > self.asked:
            parts.append(f"{self.total - self.asked} not reached")
        return ", ".join(parts) + "."


def run_session(exercises: Sequence[Exercise], input: TextIO, output: TextIO, title: str = "Practice") -> Score:
    """Ask every exercise in turn; returns the score (also printed as a summary at the end)."""
    score = Score(total=len(exercises))
    output.write(f"{title}: {len(exercises)} question{'s' if len(exercises) != 1 else ''}. "
                 f"Type an answer, 'skip' to see the solution, or 'quit' to stop.\n")
    for number, exercise in enumerate(exercises, 1):
        score.asked = number
        output.write(f"\n--- Question {number} of {len(exercises)} ({exercise.label}) ---\n{exercise.text()}\n")
        if not _ask(exercise, input, output, score):
            break
    output.write(f"\n{score.summary()}\n")
    output.flush()
    return score


def _ask(exercise: Exercise, input: TextIO, output: TextIO, score: Score) -> bool:
    """Ask until the answer is gradable, skipped or the session ends; False to stop the session."""
    while True:
        output.write(exercise.prompt)
        output.flush()
        try:
            line = input.readline()
            ending = "" if line else "end of input"
        except KeyboardInterrupt:  # Ctrl-C ends the session like 'quit': the summary still comes
            line, ending = "", "interrupted"
        if ending:
            output.write(f"\n({ending})\n")
            score.asked -= 1
            return False
        answer = line.strip()
        if answer.lower() in QUIT_WORDS:
            score.asked -= 1
            return False
        if answer.lower() in SKIP_WORDS:
            score.skipped += 1
            output.write(f"Skipped.\n{exercise.explanation()}\n")
            return True
        try:
            verdict = exercise.grade(answer)
        except AnswerError as error:
            output.write(f"{error}. Try again ('skip' shows the solution, 'quit' stops).\n")
            continue
        if verdict.correct:
            score.right += 1
        else:
            score.wrong += 1
        output.write(f"{verdict.feedback}\n{exercise.explanation()}\n")
        return True
