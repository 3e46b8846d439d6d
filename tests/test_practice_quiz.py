"""The quiz: a well-formed bank covering the lessons' topics, seeded shuffling that keeps the right
answer right, and live-model questions whose right option is what PyTorch computes."""

from __future__ import annotations

import json
import re
from collections import Counter
from importlib import resources

import numpy as np
import pytest

from glassgrad.practice import build_quiz, live_question, load_bank

REQUIRED_TOPICS = {
    "gradient-meaning", "update-sign", "learning-rate", "chain-rule", "backprop-vs-numerical",
    "vanishing-exploding", "zero-grad", "softmax-ce", "batch-vs-stochastic", "fine-tuning",
}


@pytest.fixture(scope="module")
def raw_bank():
    return json.loads(resources.files("glassgrad.practice").joinpath("quiz_bank.json").read_text(encoding="utf-8"))


def test_bank_has_40_well_formed_questions_on_every_topic(raw_bank):
    questions = raw_bank["questions"]
    assert len(questions) >= 40
    assert len({q["id"] for q in questions}) == len(questions)
    assert len({q["question"] for q in questions}) == len(questions)
    counts = Counter(q["topic"] for q in questions)
    assert REQUIRED_TOPICS <= set(counts) and all(counts[t] >= 3 for t in REQUIRED_TOPICS)
    for q in questions:
        assert 3 <= len(q["options"]) <= 4 and len(set(q["options"])) == len(q["options"]), q["id"]
        assert 0 <= q["answer"] < len(q["options"]), q["id"]
        assert len(q["explanation"]) >= 40, q["id"]
    assert len({q["answer"] for q in questions}) == 4  # the stored right option is not always in one place
    assert len(load_bank()) == len(questions)


def test_quiz_is_seeded_shuffled_and_keeps_the_right_answer(raw_bank):
    right_text = {q["question"]: q["options"][q["answer"]] for q in raw_bank["questions"]}
    quiz = build_quiz(12, seed=5)
    assert quiz == build_quiz(12, seed=5) and quiz != build_quiz(12, seed=6)
    assert len(quiz) == 12 and sum(q.source == "live" for q in quiz) == 3
    bank_items = [q for q in quiz if q.source == "bank"]
    assert len({q.question for q in bank_items}) == len(bank_items)
    for q in bank_items:
        assert q.options[q.answer] == right_text[q.question]
    positions = Counter(q.answer for seed in range(10) for q in build_quiz(8, seed))
    assert set(positions) == {0, 1, 2, 3}
    assert len(build_quiz(70, seed=1)) == 70  # more than the bank: live questions fill the rest
    with pytest.raises(ValueError, match="count must be at least 1"):
        build_quiz(0, seed=1)


def _numbers(pattern: str, text: str) -> list[float]:
    return [float(v) for v in re.search(pattern, text).groups()]


def test_live_questions_have_pytorch_s_answer(torch):
    for seed in range(60):
        item = live_question(seed)
        right = item.options[item.answer]
        assert len(set(item.options)) == len(item.options) >= 3
        if "single neuron" in item.question:
            w, b, x, y = _numbers(r"w = (-?[\d.]+), b = (-?[\d.]+) sees x = (-?[\d.]+) with target y = (-?[\d.]+)",
                                  item.question)
            weight = torch.tensor(w, dtype=torch.float64, requires_grad=True)
            loss = (weight * x + b - y) ** 2
            loss.backward()
            if "What is ∂L/∂w now?" in item.question:
                assert float(right) == pytest.approx(weight.grad.item(), abs=1e-12)
            else:
                (rate,) = _numbers(r"η = ([\d.]+)", item.question)
                assert float(right) == pytest.approx(w - rate * weight.grad.item(), abs=1e-12)
        else:
            matrices = re.findall(r"\[([^\]]+)\]", item.question)
            w1, b1, x, w2 = (np.array([[float(v) for v in row.split(",")] for row in m.split(";")]) for m in matrices)
            first = torch.tensor(w1, requires_grad=True)
            hidden = torch.relu(first @ torch.tensor(x) + torch.tensor(b1))
            (torch.tensor(w2) @ hidden).pow(2).sum().backward()
            zero_rows = [i + 1 for i in range(2) if not first.grad[i].any()]
            assert right == f"Row {zero_rows[0]} (hidden unit {zero_rows[0]})" and len(zero_rows) == 1


def test_a_dead_unit_question_names_a_unit_that_is_really_inactive(torch):
    """The explanation says the row's unit is not active (Z ≤ 0): PyTorch's forward pass must agree. A unit that is
    active but whose outgoing weight W₂ is 0 also gets a zero row, for another reason; such networks are not asked."""
    dead_unit_seeds = range(2, 3000, 3)  # live_question deals its three kinds round-robin: seed % 3 == 2
    for seed in dead_unit_seeds:
        item = live_question(seed)
        matrices = re.findall(r"\[([^\]]+)\]", item.question)
        w1, b1, x, w2 = (torch.tensor([[float(v) for v in row.split(",")] for row in m.split(";")], dtype=torch.float64)
                         for m in matrices)
        pre_activation = (w1 @ x + b1)[:, 0]
        (row,) = re.match(r"Row (\d)", item.options[item.answer]).groups()
        unit = int(row) - 1
        assert pre_activation[unit] <= 0, (seed, item.question, item.explanation)
        shown = [float(v) for v in re.search(r"Z₁ = \(([^)]*)\)", item.explanation).group(1).split(", ")]
        assert shown == pre_activation.tolist(), (seed, item.explanation)
