"""Multiple-choice quizzes: a bank of conceptual questions, plus questions about a live model.

The bank (``quiz_bank.json``, shipped with the package) holds conceptual questions on the
lessons' topics, each with an explanation. Live questions are made on the spot: a tiny model
with seeded integer weights runs forward and backward in glassgrad, and the question asks
about a number the engine just computed ("what is ∂L/∂w now?"), with wrong options made by
the classic slips (sign flipped, the 2 of the square forgotten, ∂L/∂b given for ∂L/∂w, η
left out of the update).

:func:`build_quiz` mixes both and shuffles each question's options (seeded).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources

import numpy as np

from ..autograd import no_grad
from ..nn.functional import mse_loss
from ..trace import counting
from .answers import AnswerError, Verdict
from .numbers import engine_tensor, exact, factor_text, number_text, seeded

LETTERS = "ABCDEFGH"
LIVE_SHARE = 4
"""One question in this many is a live-model question."""
MAX_QUESTIONS = 1000
"""Questions in one quiz: live questions are made on the spot, so a count is a promise of work."""


@dataclass(frozen=True)
class QuizQuestion:
    """A multiple-choice question; ``answer`` is the index of the right option."""

    topic: str
    question: str
    options: tuple[str, ...]
    answer: int
    explanation: str
    source: str = "bank"

    def shuffled(self, rng: np.random.Generator) -> QuizQuestion:
        order = [int(i) for i in rng.permutation(len(self.options))]
        return QuizQuestion(self.topic, self.question, tuple(self.options[i] for i in order), order.index(self.answer),
                            self.explanation, self.source)


@dataclass(frozen=True)
class QuizExercise:
    """A quiz question in a practice session: answer with a letter (A, B, …) or its number."""

    item: QuizQuestion

    @property
    def label(self) -> str:
        return f"quiz: {self.item.topic}" + (", live model" if self.item.source == "live" else "")

    @property
    def prompt(self) -> str:
        return f"Your choice ({LETTERS[0]}-{LETTERS[len(self.item.options) - 1]}): "

    def text(self) -> str:
        lines = [self.item.question, ""]
        lines += [f"  {LETTERS[i]}) {option}" for i, option in enumerate(self.item.options)]
        return "\n".join(lines)

    def choice(self, answer: str) -> int:
        """The option index for ``B``, ``b``, ``2`` or ``b)``; AnswerError otherwise."""
        count = len(self.item.options)
        cleaned = answer.strip().rstrip(").").upper()
        if len(cleaned) == 1 and cleaned in LETTERS[:count]:
            return LETTERS.index(cleaned)
        numbers = [str(counting.number(option)) for option in range(count)]  # not int(): '²' passes isdigit()
        if cleaned in numbers:
            return numbers.index(cleaned)
        raise AnswerError(f"{answer.strip()!r} is not one of the options: type a letter from A to "
                          f"{LETTERS[count - 1]} (or its number, {numbers[0]} to {numbers[-1]})")

    @property
    def right(self) -> str:
        """The right option with its letter: ``B) the chain rule``."""
        return f"{LETTERS[self.item.answer]}) {self.item.options[self.item.answer]}"

    def grade(self, answer: str) -> Verdict:
        chosen = self.choice(answer)
        feedback = "Right." if chosen == self.item.answer else f"Not quite: you chose {LETTERS[chosen]}."
        return Verdict(chosen == self.item.answer, Fraction(chosen), Fraction(self.item.answer), feedback)

    def explanation(self) -> str:
        """The answer and why: shown after every question, a skipped one included."""
        return f"The answer is {self.right}.\nWhy: {self.item.explanation}"


def load_bank() -> list[QuizQuestion]:
    """The conceptual questions shipped in ``quiz_bank.json``."""
    text = resources.files("glassgrad.practice").joinpath("quiz_bank.json").read_text(encoding="utf-8")
    return [QuizQuestion(q["topic"], q["question"], tuple(q["options"]), q["answer"], q["explanation"])
            for q in json.loads(text)["questions"]]


def build_quiz(count: int, seed: int) -> list[QuizQuestion]:
    """``count`` questions: about one in four from a live model, the rest from the bank, no question twice,
    in a seeded order with shuffled options.

    Live question i comes from :func:`live_question` (seed·1000 + i); one whose text an earlier one already
    asked (two seeds can draw the same small integers) is passed over for the next seed."""
    bank = load_bank()
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    if count > MAX_QUESTIONS:
        raise ValueError(f"count {count} is more than the {MAX_QUESTIONS} questions one quiz can have; for more, "
                         "take several quizzes with different seeds")
    rng = seeded(seed)
    live_count = max(count // LIVE_SHARE, count - len(bank))
    picked = [bank[int(i)] for i in rng.choice(len(bank), size=count - live_count, replace=False)]
    live: dict[str, QuizQuestion] = {}  # by text: a repeat is passed over
    number = seed * 1000
    while len(live) < live_count:
        question = live_question(number)
        live.setdefault(question.question, question)
        number += 1
    picked += live.values()
    return [picked[int(i)].shuffled(rng) for i in rng.permutation(len(picked))]


def live_question(seed: int) -> QuizQuestion:
    """A question about a tiny model that glassgrad has just run forward and backward."""
    makers = (_weight_gradient_question, _update_question, _dead_unit_question)
    return makers[seed % len(makers)](seeded(seed))


def _neuron(rng: np.random.Generator):
    """ŷ = w·x + b with L = (ŷ − y)², seeded small integers with 0 < |ŷ − y| ≤ 4 and |x| ≥ 2
    (so that the usual slips give different numbers)."""
    while True:
        w, b, y = (float(v) for v in rng.integers(-2, 3, size=3))
        x = float(rng.choice([-3, -2, 3]))
        if 0 < abs(w * x + b - y) <= 4:
            break
    weight, bias = engine_tensor(w, requires_grad=True), engine_tensor(b, requires_grad=True)
    loss = mse_loss(weight * x + bias, engine_tensor(y))
    loss.backward()
    setup = (f"A single neuron ŷ = w·x + b with w = {number_text(exact(w))}, b = {number_text(exact(b))} sees "
             f"x = {number_text(exact(x))} with target y = {number_text(exact(y))}; the loss is L = (ŷ − y)².")
    return weight, bias, setup


def _options(right: Fraction, wrong: list[Fraction]) -> tuple[tuple[str, ...], int]:
    """The right value first, then the distinct wrong ones, as text (at least three options)."""
    values = [right] + [v for i, v in enumerate(wrong) if v != right and v not in wrong[:i]]
    return tuple(number_text(v) for v in values), 0


def _weight_gradient_question(rng: np.random.Generator) -> QuizQuestion:
    weight, bias, setup = _neuron(rng)
    gradient, bias_gradient = exact(weight.grad.item()), exact(bias.grad.item())
    options, answer = _options(gradient, [-gradient, gradient / 2, bias_gradient])
    explanation = (f"glassgrad's backward pass gives ∂L/∂w = 2·(ŷ − y)·x = {number_text(gradient)}. "
                   "The slips: flipping the sign, dropping the 2 from the square, or giving ∂L/∂b = 2·(ŷ − y), "
                   "which lacks the factor x.")
    return QuizQuestion("chain-rule", f"{setup} What is ∂L/∂w now?", options, answer, explanation, "live")


def _update_question(rng: np.random.Generator) -> QuizQuestion:
    weight, _, setup = _neuron(rng)
    rate = float(rng.choice([0.1, 0.5]))
    with no_grad():
        new = exact((weight - rate * weight.grad).item())
        wrong = [exact((weight + rate * weight.grad).item()), exact((weight - weight.grad).item()),
                 exact((weight - rate * weight.grad / 2).item())]
    options, answer = _options(new, wrong)
    gradient = exact(weight.grad.item())
    explanation = (f"∂L/∂w = {number_text(gradient)} (from backward), so w − η·∂L/∂w = "
                   f"{number_text(exact(weight.item()))} − {number_text(exact(rate))}·{factor_text(gradient)} = "
                   f"{number_text(new)}. Adding the step, leaving out η, or halving the gradient are the usual slips.")
    question = f"{setup} After one gradient-descent step with η = {number_text(exact(rate))}, what is w?"
    return QuizQuestion("update-sign", question, options, answer, explanation, "live")


def _dead_unit_question(rng: np.random.Generator) -> QuizQuestion:
    """A 2→2→1 ReLU network with exactly one inactive hidden unit: whose weights get no gradient?

    The zero row must be the inactive unit's (Z ≤ 0, so ReLU′ = 0): an active unit whose weight in W₂ is 0
    gets a zero row too, for another reason than the explanation gives, so such a network is drawn again."""
    while True:
        w1 = rng.integers(-2, 3, size=(2, 2)).astype(float)
        b1 = rng.integers(-1, 2, size=(2, 1)).astype(float)
        w2 = rng.integers(-2, 3, size=(1, 2)).astype(float)
        x = rng.integers(1, 3, size=(2, 1)).astype(float)
        first = engine_tensor(w1, requires_grad=True)
        hidden = first @ engine_tensor(x) + engine_tensor(b1)
        loss = mse_loss(engine_tensor(w2) @ hidden.relu(), engine_tensor([[0.0]]))
        if loss.item() == 0:
            continue
        loss.backward()
        zero_rows = [i for i in range(2) if not first.grad.array[i].any()]
        if len(zero_rows) == 1 and hidden.array[zero_rows[0], 0] <= 0:
            break
    dead, alive = zero_rows[0], 1 - zero_rows[0]
    options = (f"{counting.ordinal('Row', dead)} ({counting.ordinal('hidden unit', dead)})",
               f"{counting.ordinal('Row', alive)} ({counting.ordinal('hidden unit', alive)})",
               "Both rows", "Neither row")
    z = [number_text(exact(v)) for v in hidden.array[:, 0]]
    question = (f"A 2→2→1 ReLU network: Z₁ = W₁·x + b₁ with W₁ = {_matrix(w1)}, b₁ = {_matrix(b1)}, "
                f"x = {_matrix(x)}; A₁ = ReLU(Z₁); ŷ = W₂·A₁ with W₂ = {_matrix(w2)}; L = ŷ² (target 0). "
                f"After loss.backward(), which row of W₁ has an all-zero gradient? (Rows count from {counting.FIRST}.)")
    explanation = (f"Z₁ = ({', '.join(z)}): {counting.ordinal('hidden unit', dead)} is not active (Z ≤ 0), so "
                   f"ReLU′ = 0 there, {counting.entry('∂L/∂Z₁', (dead,))} = 0, and the whole row "
                   f"{counting.entry('∂L/∂W₁', (dead, ':'))} = {counting.entry('∂L/∂Z₁', (dead,))}·xᵀ is zero. "
                   "glassgrad's backward pass confirms it.")
    return QuizQuestion("chain-rule", question, options, 0, explanation, "live")


def _matrix(values: np.ndarray) -> str:
    return "[" + "; ".join(", ".join(number_text(exact(v)) for v in row) for row in values) + "]"
