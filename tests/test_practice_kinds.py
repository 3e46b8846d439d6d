"""Every problem kind over 1,000 seeds: the filled-in relation holds exactly, the answer is unique,
and the checker accepts the answer however it is spelled and rejects a wrong one.

The oracle is independent of the generators: each relation is re-checked here with exact
fractions read back from the problem's JSON (the form other tools see), by the textbook
formula of that kind (Z = W·X, dZ = dA·1[Z > 0], ŷ − y, w − η·g, …). Rounded variants
(softmax from logits, the "real model" chain rule; a third of the seeds) are checked against
float64 math with the stated precision instead.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest

from glassgrad.practice import KINDS, AnswerError, Problem, generate, number_text
from glassgrad.practice.problems import DIFFICULTIES

SEEDS = range(1000)


def _fractions(value):
    """JSON numbers (and nested lists) as exact fractions; the blank stays None."""
    if isinstance(value, list):
        return np.array([_fractions(v) for v in value], dtype=object)
    if value is None:
        return None
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _filled(document: dict, value: Fraction) -> dict[str, np.ndarray]:
    """The problem's tensors (as exact fractions) with ``value`` written into the blank."""
    tensors = {name: np.array(_fractions(v), dtype=object) for name, v in document["tensors"].items()}
    blank = document["blank"]
    target = tensors[blank["tensor"]]
    assert target[tuple(blank["index"])] is None, "the blank must be null in the JSON"
    assert sum(v is None for t in tensors.values() for v in np.ravel(t)) == 1, "exactly one blank"
    target[tuple(blank["index"])] = value
    return tensors


def _product_holds(t: dict, weight: str, output: str) -> bool:
    w, x, z = t[weight], t["X"], t[output]
    return all(z[i, c] == sum(w[i, j] * x[j, c] for j in range(w.shape[1]))
               for i in range(z.shape[0]) for c in range(z.shape[1]))


def _column(values: np.ndarray) -> np.ndarray:
    return values.reshape(values.shape[0], -1)


def _chain_rule_expected(t: dict, label: str) -> np.ndarray:
    """The blank's gradient by the textbook formulas, chained from the numbers shown (exact fractions)."""
    def output_gradient():  # ∂L/∂ŷ = 2(ŷ − y)/n, or given
        if "∂L/∂ŷ" in t:
            return t["∂L/∂ŷ"][:, 0]
        return 2 * (t["ŷ"][:, 0] - t["y"][:, 0]) / t["ŷ"].shape[0]

    def pre_activation_gradient():  # ∂L/∂Z₁ = (W₂ᵀ·∂L/∂ŷ) ⊙ [Z₁ > 0]
        hidden = t["W₂"].T.dot(output_gradient())
        return np.array([u if z > 0 else 0 for u, z in zip(hidden, t["Z₁"][:, 0])], dtype=object)

    if label == "∂L/∂W₂":
        return np.outer(output_gradient(), t["A₁"][:, 0])
    if label == "∂L/∂A₁":
        return (t["W₂"].T.dot(output_gradient())).reshape(-1, 1)
    if label in ("∂L/∂Z₁", "∂L/∂b₁"):
        return pre_activation_gradient().reshape(-1, 1)
    assert label == "∂L/∂W₁"
    return np.outer(pre_activation_gradient(), t["x"][:, 0])


def _expected_blank_tensor(document: dict, t: dict) -> tuple[np.ndarray, np.ndarray]:
    """(what the blank's tensor must equal by the kind's formula, the tensor as filled in)."""
    kind, blank = document["kind"], document["blank"]["tensor"]
    if kind == "relu-backward":
        return np.array([u if z > 0 else 0 for u, z in zip(t["dA"], t["Z"])], dtype=object), t["dZ"]
    if kind == "softmax-ce-gradient":
        probabilities, onehot = t["ŷ"], t["y"]
        assert all(sum(row) == 1 for row in _column(probabilities.T).T.reshape(-1, probabilities.shape[-1]))
        batch = probabilities.shape[0] if probabilities.ndim == 2 else 1
        return (probabilities - onehot) / batch, t["∂L/∂z"]
    if kind == "gd-update":
        return t["w"] - t["η"] * t["g"], t["new w"]
    if kind == "linear-regression-step":
        errors = t["w₀"] + t["w₁"] * t["x"] - t["y"]
        alpha = t["α"]
        new = np.array([t["w₀"] - alpha * errors.sum(), t["w₁"] - alpha * (errors * t["x"]).sum()], dtype=object)
        return new, np.array([t["new w₀"], t["new w₁"]], dtype=object)
    assert kind == "chain-rule"
    return _chain_rule_expected(t, blank), t[blank]


def holds(document: dict, value: Fraction) -> bool:
    """Does the kind's relation hold exactly with ``value`` in the blank?"""
    t = _filled(document, value)
    if document["kind"] == "forward-blank":
        return _product_holds(t, "W", "Z")
    if document["kind"] == "backward-blank":
        return _product_holds(t, "dW", "dZ")
    expected, actual = _expected_blank_tensor(document, t)
    return bool(np.all(np.asarray(expected, dtype=object) == np.asarray(actual, dtype=object)))


def spellings(answer: Fraction) -> list[str]:
    """Every accepted way to write ``answer``."""
    text = number_text(answer)
    forms = [text, f"  {text}  ", f"{answer.numerator}/{answer.denominator}",
             f" {answer.numerator} / {answer.denominator} ", text.replace("-", "\u2212"), repr(float(answer))]
    if answer >= 0:
        forms.append(f"+{text}")
    if answer.denominator == 1:
        forms += [f"{answer.numerator}.0", f"{answer.numerator * 2}/2"]
    if "." in text:
        forms.append(text + "00")
        forms.append(text.replace("0.", ".", 1) if text.startswith("0.") else text.replace("-0.", "-.", 1))
    return forms


def _settings(kind: str, seed: int) -> tuple[int, int]:
    low, high = KINDS[kind].sizes
    return low + seed % (high - low + 1), DIFFICULTIES[seed % len(DIFFICULTIES)]


def _document(problem: Problem) -> dict:
    return json.loads(json.dumps(problem.to_dict()))


# numerical-gradient has its own oracle (losses by hand in fractions, PyTorch autograd) in
# tests/test_practice_numerical_gradient112.py
@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind != "numerical-gradient"])
def test_thousand_seeds_exact_unique_and_checked(kind):
    exact_count = 0
    for seed in SEEDS:
        size, difficulty = _settings(kind, seed)
        problem = generate(kind, seed, size, difficulty)
        document = _document(problem)
        answer = _fractions(document["answer"])
        assert answer == problem.answer and document["answer_text"] == number_text(answer)
        if not document["exact"]:
            _check_rounded(problem, document)
            continue
        exact_count += 1
        assert holds(document, answer), f"{kind} seed {seed}: the filled-in relation fails"
        for nudge in (Fraction(1), Fraction(-1, 2), Fraction(1, 100)):
            assert not holds(document, answer + nudge), f"{kind} seed {seed}: the answer is not unique"
        restored = Problem.from_dict(document)
        for text in spellings(answer):
            assert restored.check(text).correct, f"{kind} seed {seed}: {text!r} rejected"
        for wrong in (answer + 1, answer - Fraction(1, 10), answer + Fraction(1, 2)):
            assert not restored.check(number_text(wrong)).correct, f"{kind} seed {seed}: {wrong} accepted"
        with pytest.raises(AnswerError):
            restored.check("x = 3")
    assert exact_count >= 600


@pytest.mark.parametrize("kind", ["forward-blank", "backward-blank"])
def test_x_blanks_have_a_nonzero_solving_coefficient(kind):
    x_blanks = 0
    for seed in SEEDS:
        document = _document(generate(kind, seed, *_settings(kind, seed)))
        if document["blank"]["tensor"] != "X":
            continue
        x_blanks += 1
        weights = np.array(_fractions(document["tensors"]["dW" if kind == "backward-blank" else "W"]), dtype=object)
        entry = document["blank"]["index"][0]
        assert any(weights[:, entry] != 0), f"seed {seed}: no row of W can solve for the blank"
        assert any("non-zero coefficient" in line for line in document["solution"])
    assert 350 < x_blanks < 650  # both blank places are drilled


def test_gd_update_blanks_every_one_of_the_four_places():
    places = {generate("gd-update", seed).blank.tensor for seed in range(60)}
    assert places == {"w", "η", "g", "new w"}


def _check_rounded(problem: Problem, document: dict) -> None:
    """Softmax from logits and the real-model chain rule: the answer to 4 places, accepted within the stated
    tolerance, and (chain rule) what the rounded numbers shown give is accepted too."""
    if document["kind"] == "softmax-ce-gradient":
        logits = [float(v) for v in document["tensors"]["z"]]
        exps = [math.exp(v) for v in logits]
        (k,) = document["blank"]["index"]
        truth = exps[k] / sum(exps) - document["tensors"]["y"][k]
        assert abs(document["answer"] - truth) <= 5e-5
        assert problem.check(f"{truth:.3f}").correct and not problem.check(f"{truth + 0.01:.3f}").correct
        return
    assert document["kind"] == "chain-rule" and document["given_places"] == 3
    shown = _fractions(document["given_values_answer"])
    t = _filled(document, shown)
    expected = _chain_rule_expected(t, document["blank"]["tensor"])[tuple(document["blank"]["index"])]
    assert abs(expected - shown) <= Fraction(1, 20000)  # the given-values answer follows from the shown numbers
    assert abs(problem.answer - shown) <= Fraction(1, 100)
    assert problem.check(number_text(shown)).correct and problem.check(number_text(problem.answer)).correct
    assert not problem.check(number_text(problem.answer + Fraction(1, 50))).correct  # 0.01+ from both accepted values


def test_same_seed_same_problem_and_sizes_are_respected():
    for kind in KINDS:
        first, again = generate(kind, 42), generate(kind, 42)
        assert first.to_dict() == again.to_dict()
        assert any(generate(kind, s).to_dict() != first.to_dict() for s in range(43, 46))
    assert generate("forward-blank", 1, size=5).tensors["W"].shape == (5, 5)
    assert generate("relu-backward", 1, size=7).tensors["Z"].shape == (7,)
    assert generate("softmax-ce-gradient", 1, size=6).tensors["ŷ"].shape == (6,)


def test_bad_parameters_get_clear_errors():
    with pytest.raises(ValueError, match="unknown problem kind 'forward'.*forward-blank"):
        generate("forward", 0)
    with pytest.raises(ValueError, match="size 9 does not fit kind 'chain-rule': choose a size from 2 to 4"):
        generate("chain-rule", 0, size=9)
    with pytest.raises(ValueError, match="difficulty must be 1, 2 or 3"):
        generate("gd-update", 0, difficulty=4)
