"""Printable worksheets: generated problems, or the steps of a computation with numbers blanked out.

Problem worksheets
    :func:`problems_markdown` and :func:`problems_html` lay out a list of
    :class:`~glassgrad.practice.problem.Problem` with an answer line each, then an answer key
    with worked solutions that starts on a new page (``page-break-before: always``). The HTML
    is standalone: styles inline, nothing fetched, printable.

Worksheets from a trace (the AI-by-hand kind)
    The neutral interface is a list of :class:`Step`: a named output, the formula that makes
    it, its inputs by name (each either a given tensor or an earlier step's output) and the
    numbers. :func:`trace_worksheet` blanks out ``k`` numbers so that each blank can be solved
    from what is shown: a step that holds blanks has none in its inputs, and no step whose
    output holds a blank is an input of another step with blanks. So every blank sits in its
    own scalar equation ``output[i] = f(inputs)`` whose other numbers are all printed.
    :func:`glassgrad.practice.trace_steps.steps_from_trace` reads them from any recorded trace
    (``tape.describe()``, or ``glassgrad trace NAME --format json``), and
    :func:`glassgrad.practice.network.diagonal_flip_steps` traces the lessons' 4→3→4 network.

Numbers that are not short decimals are rounded to ``places`` for display (the sheet says so)
and the key then also accepts what the rounded numbers give (the given-values mode), which
needs the step's ``recompute``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..trace import counting
from .answers import DEFAULT_TOLERANCE, Verdict, check_answer
from .numbers import EXACT_PLACES, as_shown, fraction_array, index_label, is_short_decimal, number_text, seeded
from .problem import Problem
from .render import page_html, tensors_html, tensors_text

PAGE_BREAK_MARKDOWN = '<div style="page-break-before: always; break-before: page"></div>'
ROUNDED_PLACES = 4
"""Decimal places of a trace worksheet whose numbers are not all short decimals."""
LOOSE_MARGIN = 100
"""On a rounded sheet, a blank of a step without ``recompute`` counts within this many units of the last place."""


@dataclass(frozen=True)
class Step:
    """One relation of a computation, ``output = formula(inputs)``, with its numbers.

    ``inputs`` maps names to arrays; a name equal to an earlier step's ``name`` refers to that
    step's output. ``phase`` is ``"forward"`` or ``"backward"``. Optional: ``recompute(*inputs)``
    evaluates the same rule with the engine (used when numbers are shown rounded), and
    ``explain(step, index, show)`` writes one entry's scalar equation with the numbers as shown.
    ``aliases`` names other tensors equal to this output (``∂L/∂b₂`` for ``∂L/∂ŷ``).
    """

    name: str
    formula: str
    inputs: dict[str, np.ndarray]
    output: np.ndarray
    phase: str = "forward"
    recompute: Callable[..., np.ndarray] | None = field(default=None, compare=False)
    explain: Callable[[Step, tuple, Callable[[float], Fraction]], str] | None = field(default=None, compare=False)
    aliases: tuple[str, ...] = ()

    @property
    def heading(self) -> str:
        """The formula, and any tensor that is a copy of the output: ``∂L/∂ŷ = 2(ŷ − y)/4;  ∂L/∂b₂ = ∂L/∂ŷ``."""
        return ";  ".join([self.formula, *(f"{alias} = {self.name}" for alias in self.aliases)])


@dataclass(frozen=True)
class TraceBlank:
    """One blanked number of a trace worksheet and its key entry."""

    label: str
    step: str
    index: tuple[int, ...]
    answer: Fraction
    given_values_answer: Fraction | None
    tolerance: Fraction
    explanation: str

    def check(self, text: str) -> Verdict:
        return check_answer(text, self.answer, self.tolerance, self.given_values_answer)


@dataclass(frozen=True)
class TraceWorksheet:
    """Steps with ``blanks`` numbered ``?1 … ?k``; renders as Markdown or standalone HTML."""

    title: str
    steps: tuple[Step, ...]
    blanks: tuple[TraceBlank, ...]
    places: int
    rounded: bool

    def _show(self, value: float) -> Fraction:
        return as_shown(value, self.places)

    def intro(self) -> str:
        text = (f"Fill in the {len(self.blanks)} blanks ?1 … ?{len(self.blanks)}. Each blank is one number of one "
                "step, and every number that step uses is shown, so each blank follows from its own equation. "
                + counting.CONVENTION)
        if self.rounded:
            text += (f" Numbers are rounded to {self.places} decimal places; answers within "
                     f"±{number_text(Fraction(1, 10**self.places))} of the key, or of what the rounded numbers give, "
                     "count (the key states any wider margin).")
        return text

    def givens(self) -> dict[str, np.ndarray]:
        """The inputs that no step produces (data and parameters), in order of first use."""
        produced = {step.name for step in self.steps}
        found: dict[str, np.ndarray] = {}
        for step in self.steps:
            for name, values in step.inputs.items():
                if name not in produced and name not in found:
                    found[name] = fraction_array(values, self._show)
        return found

    def shown_output(self, step: Step) -> np.ndarray:
        values = fraction_array(step.output, self._show)
        for blank in self.blanks:
            if blank.step == step.name:
                values[blank.index] = blank.label
        return values

    def _sections(self) -> list[tuple[str, list[Step]]]:
        return [(title, [s for s in self.steps if s.phase == phase])
                for title, phase in (("Forward pass", "forward"), ("Backward pass", "backward"))]

    def markdown(self) -> str:
        lines = [f"# {self.title}", "", "Name: ______________________ Date: ____________", "", self.intro(), "",
                 "## Given", "", "```text", tensors_text(self.givens()), "```", ""]
        for title, steps in self._sections():
            lines += [f"## {title}", ""] if steps else []
            for step in steps:
                lines += [f"### {step.heading}", "", "```text",
                          tensors_text({step.name: self.shown_output(step)}), "```", ""]
        lines += [PAGE_BREAK_MARKDOWN, "", f"## Answer key: {self.title}", ""]
        lines += [f"- **{b.label} = {number_text(b.answer)}**: {b.explanation}" for b in self.blanks]
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        parts = [f'<section class="given"><h2>Given</h2>{tensors_html(self.givens())}</section>']
        for title, steps in self._sections():
            if steps:
                parts.append(f"<h2>{title}</h2>")
            for step in steps:
                parts.append(f'<section class="step"><h3 class="equation">{html.escape(step.heading)}</h3>'
                             f"{tensors_html({step.name: self.shown_output(step)})}</section>")
        key = "<ol>" + "".join(
            f'<li data-blank="{html.escape(b.label)}">{html.escape(b.label)} = '
            f'<span class="answer">{html.escape(number_text(b.answer))}</span>'
            f'<div class="solution">{html.escape(b.explanation)}</div></li>' for b in self.blanks) + "</ol>"
        return page_html(self.title, self.intro(), "\n".join(parts), key)


def choose_blanks(steps: Sequence[Step], count: int, seed: int,
                  allowed: Sequence[bool] | None = None) -> list[tuple[int, tuple[int, ...]]]:
    """``count`` (step position, entry index) pairs, each solvable from the numbers left shown.

    Steps (those ``allowed``, all by default) are taken in a seeded random order into a set
    where no chosen step is an input of another; the blanks are then dealt round-robin over
    those steps, one entry at a time. An entry that a shown step gives away (:func:`given_away`)
    is never blanked.
    """
    rng = seeded(seed)
    producer = {step.name: i for i, step in enumerate(steps)}
    uses = [{producer[name] for name in step.inputs if name in producer} for step in steps]
    hidden = given_away(steps)
    chosen: list[int] = []
    for i in (int(i) for i in rng.permutation(len(steps))):
        if (allowed is not None and not allowed[i]) or len(hidden[i]) == steps[i].output.size:
            continue
        if all(i not in uses[j] and j not in uses[i] for j in chosen):
            chosen.append(i)
    entries = {i: [index for index in (list(np.ndindex(steps[i].output.shape))[k]
                                       for k in rng.permutation(steps[i].output.size)) if index not in hidden[i]]
               for i in chosen}
    capacity = sum(len(found) for found in entries.values())
    if not 1 <= count <= capacity:
        advice = "ask for at least 1 blank" if count < 1 else "ask for fewer blanks"
        raise ValueError(f"can blank between 1 and {capacity} numbers of these steps so that each stays "
                         f"solvable, not {count}: {advice}")
    picked: list[tuple[int, tuple[int, ...]]] = []
    while len(picked) < count:
        for i in chosen:
            if entries[i] and len(picked) < count:
                picked.append((i, entries[i].pop()))
    return sorted(picked)


GIVEAWAY_STEP = 2.0**-10
""":func:`given_away` moves an entry by this much (times ``max(1, |value|)``) to see how the shown numbers follow."""
STRAIGHT = 1e-6
"""A shown number follows a moved entry in a straight line when twice the move changes it twice as much, to this
relative margin (rounding moves it by ~1e-13; a curve such as ``1 − A²`` by at least ~1e-3)."""


def given_away(steps: Sequence[Step]) -> list[set[tuple[int, ...]]]:
    """For each step, the entries of its output that a later step's shown number gives away.

    A step ``t`` that reads step ``s``'s output elementwise and in a straight line (an output of the
    same size whose entry ``t_k = a·s_k + c`` alone follows ``s_k``, ``a ≠ 0``, with ``a`` and ``c`` from
    numbers shown) lets a learner read a blank ``s_k`` back from the shown ``t_k`` with one subtraction
    and one division: ``ŷ`` from ``∂L/∂ŷ = 2(ŷ − y)/4``, ``Z₁`` from ``A₁ = ReLU(Z₁)`` where ``Z₁ > 0``,
    ``∂L/∂A₁`` from ``∂L/∂Z₁ = ∂L/∂A₁ ⊙ ReLU'(Z₁)``. With ``t.recompute``, ``s_k`` is moved by
    :data:`GIVEAWAY_STEP` and twice that to see which entries of ``t`` follow and how; without it,
    every entry of an input of ``t``'s size counts as given away (``h = w₀ + v``, ``v = reshape(P)``).
    """
    position = {step.name: i for i, step in enumerate(steps)}
    hidden: list[set[tuple[int, ...]]] = [set() for _ in steps]
    for reader in steps:
        for slot, name in enumerate(reader.inputs):
            source = position.get(name)
            if source is None or steps[source].output.size != reader.output.size:
                continue
            shape = steps[source].output.shape
            hidden[source].update(index for index in np.ndindex(shape)
                                  if reader.recompute is None or _reads_back(reader, slot, index, shape))
    return hidden


def _reads_back(reader: Step, slot: int, index: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Does ``reader``'s output entry at ``index`` alone follow input ``slot``'s entry there, in a straight line?"""
    inputs = [np.asarray(values, dtype=np.float64) for values in reader.inputs.values()]
    base = np.ravel(reader.recompute(*inputs))
    changes = []
    for times in (1, 2):
        moved = [values.copy() for values in inputs]
        moved[slot][index] += times * GIVEAWAY_STEP * max(1.0, abs(moved[slot][index]))
        changes.append(np.ravel(reader.recompute(*moved)) - base)
    flat = int(np.ravel_multi_index(index, shape)) if index else 0
    once, twice = changes[0][flat], changes[1][flat]
    return (np.flatnonzero(changes[0]).tolist() == [flat]
            and abs(twice - 2 * once) <= STRAIGHT * abs(once))


def trace_worksheet(steps: Sequence[Step], blanks: int = 6, seed: int = 0, places: int | None = None,
                    title: str = "Backpropagation by hand") -> TraceWorksheet:
    """Blank out ``blanks`` numbers of ``steps`` (seeded) and build the worksheet and its key.

    ``places``: decimal places shown. By default every number is shown exactly when all of them
    are short decimals (up to 6 places), else rounded to 4 places. On a rounded sheet only steps
    with a ``recompute`` get blanks (when there are any), so the key can accept what the rounded
    numbers give.
    """
    steps = tuple(steps)
    every_number = [v for s in steps for a in (*s.inputs.values(), s.output) for v in np.ravel(a)]
    if places is None:
        places = next((p for p in range(EXACT_PLACES + 1) if all(is_short_decimal(v, p) for v in every_number)),
                      ROUNDED_PLACES)
    rounded = not all(is_short_decimal(v, places) for v in every_number)
    tolerance = Fraction(1, 10**places) if rounded else DEFAULT_TOLERANCE
    recomputable = [step.recompute is not None for step in steps]
    allowed = recomputable if rounded and any(recomputable) else None
    made = []

    def show(value: float) -> Fraction:
        return as_shown(value, places)

    for n, (i, index) in enumerate(choose_blanks(steps, blanks, seed, allowed), 1):
        step = steps[i]
        given_values_answer = None
        if rounded and step.recompute is not None:
            shown_inputs = [fraction_array(v, show).astype(np.float64) for v in step.inputs.values()]
            given_values_answer = show(step.recompute(*shown_inputs)[index])
        label = index_label(step.name, index, step.output.shape)
        explanation = (step.explain(step, index, show) if step.explain is not None
                       else f"{label} from {step.formula}")
        margin = tolerance
        shown_rounded = not all(is_short_decimal(v, places) for a in step.inputs.values() for v in np.ravel(a))
        if shown_rounded and step.recompute is None:  # nothing says what the rounded numbers give: a wider margin
            margin = Fraction(LOOSE_MARGIN, 10**places)
            explanation += f" (accepted within ±{number_text(margin)}: the rounded numbers shown move the result)"
        made.append(TraceBlank(f"?{n}", step.name, index, show(step.output[index]), given_values_answer,
                               margin, explanation))
    return TraceWorksheet(title, steps, tuple(made), places, rounded)


def _sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.:])\s+", text.strip()) if part]


def split_instructions(problems: Sequence[Problem]) -> tuple[dict[str, str], list[str]]:
    """What to print once per kind, and what each problem adds: a kind's instruction is the run of
    sentences every problem of that kind in the sheet starts its question with; the rest is the problem's own.

    >>> from glassgrad.practice import generate
    >>> shared, own = split_instructions([generate("forward-blank", 1), generate("forward-blank", 2)])
    >>> shared["forward-blank"].startswith("Fill in the blank (?) in Z = W·X")
    True
    """
    by_kind: dict[str, list[list[str]]] = {}
    for problem in problems:
        by_kind.setdefault(problem.kind, []).append(_sentences(problem.question))
    common: dict[str, int] = {}
    for kind, questions in by_kind.items():
        length = 0
        while all(len(q) > length for q in questions) and len({q[length] for q in questions}) == 1:
            length += 1
        length = length if len(questions) > 1 else len(questions[0]) - 1  # one problem: its last sentence is its own
        while length and questions[0][length - 1].endswith(":"):  # "Fill in the blank:" stays with what follows
            length -= 1
        common[kind] = length
    shared = {kind: " ".join(questions[0][:common[kind]]) for kind, questions in by_kind.items() if common[kind]}
    own = [" ".join(_sentences(problem.question)[common[problem.kind]:]) for problem in problems]
    return shared, own


def problems_markdown(problems: Sequence[Problem], title: str) -> str:
    """A Markdown worksheet: each kind's instructions once, the problems, then the answer key on a new page."""
    shared, own = split_instructions(problems)
    lines = [f"# {title}", "", "Name: ______________________ Date: ____________", "", problems_intro(problems), ""]
    if shared:
        lines += ["## How to do each kind", ""]
        lines += [f"- **{kind}**: {text}" for kind, text in shared.items()] + [""]
    for n, (problem, question) in enumerate(zip(problems, own), 1):
        lines += [f"## Problem {n} ({problem.kind}): {problem.equation}", ""] + ([question, ""] if question else [])
        lines += ["```text", tensors_text(problem.tensors), "```", ""]
        lines += [*problem.notes, ""] if problem.notes else []
        lines += ["? = ______________", ""]
    lines += [PAGE_BREAK_MARKDOWN, "", f"## Answer key: {title}", ""]
    for n, problem in enumerate(problems, 1):
        lines += [f"{n}. **{answer_text(problem)}**", "", "   ```text", *(f"   {s}" for s in problem.solution),
                  "   ```", ""]
    return "\n".join(lines)


def problems_html(problems: Sequence[Problem], title: str) -> str:
    """A standalone printable HTML worksheet; the key (``span.answer`` per problem) starts a new page."""
    shared, own = split_instructions(problems)
    howto = ""
    if shared:
        howto = ('<section class="howto"><h2>How to do each kind</h2><dl>' + "".join(
            f'<dt>{html.escape(kind)}</dt><dd>{html.escape(text)}</dd>'
            for kind, text in shared.items()) + "</dl></section>")
    items = []
    for n, (problem, question) in enumerate(zip(problems, own), 1):
        notes = "".join(f'<p class="notes">{html.escape(note)}</p>' for note in problem.notes)
        asked = f'<p class="question">{html.escape(question)}</p>' if question else ""
        items.append(
            f'<li class="problem" id="problem-{n}"><p><span class="kind">{html.escape(problem.kind)}</span> '
            f'<span class="equation">{html.escape(problem.equation)}</span></p>{asked}'
            f'{tensors_html(problem.tensors)}{notes}<p class="answer-line">? = ______________</p></li>')
    key = "<ol>" + "".join(
        f'<li data-problem="{n}"><span class="answer">{html.escape(answer_text(problem))}</span>'
        f'<div class="solution">{html.escape(chr(10).join(problem.solution))}</div></li>'
        for n, problem in enumerate(problems, 1)) + "</ol>"
    return page_html(title, problems_intro(problems), howto + "<ol>" + "\n".join(items) + "</ol>", key)


def problems_intro(problems: Sequence[Problem]) -> str:
    return (f"{len(problems)} problems. Fill in each blank (?) and write the number on the answer line. "
            f"Answers may be integers, decimals or fractions. {counting.CONVENTION}")


def answer_text(problem: Problem) -> str:
    """The key's answer: exact, or ``≈`` the rounded value with its tolerance."""
    if problem.exact:
        return number_text(problem.answer)
    return f"≈ {number_text(problem.answer)} (±{number_text(problem.tolerance)})"
