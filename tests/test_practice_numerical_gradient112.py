"""Round 112: the ``numerical-gradient`` practice kind, against an independent oracle.

The oracle rebuilds each problem from what its page shows (x, t, the parameters, h and the model's
formula): the losses L(p ± h) and the central difference by hand, in exact fractions for the models
that are piecewise linear in p (so every number is a short decimal) and in float64 for a sigmoid;
∂L/∂p and ∂³L/∂p³ from PyTorch's autograd. Then grading (right, wrong, within the stated tolerance),
hypothesis over seeds/sizes/difficulties, and the CLI end to end.
"""

from __future__ import annotations

import io
import json
import math
import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgrad.cli import main
from glassgrad.practice import KINDS, Problem, generate, generate_set, load_problem_set, validate_document

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")

KIND = "numerical-gradient"
GIVEN = ("x", "t", "h")
MODELS = {  # the model as the page writes it → ŷ for one example, in any number system (exp/relu given)
    "ŷ = w·x + b": lambda p, x, exp, relu: p["w"] * x + p["b"],
    "ŷ = ReLU(w·x + b)": lambda p, x, exp, relu: relu(p["w"] * x + p["b"]),
    "ŷ = σ(w·x + b)": lambda p, x, exp, relu: 1 / (1 + exp(-(p["w"] * x + p["b"]))),
    "ŷ = ReLU(w₁·x₁ + w₂·x₂ + b)": lambda p, x, exp, relu: relu(p["w₁"] * x[0] + p["w₂"] * x[1] + p["b"]),
    "ŷ = σ(w₁·x₁ + w₂·x₂ + b)": lambda p, x, exp, relu: 1 / (1 + exp(-(p["w₁"] * x[0] + p["w₂"] * x[1] + p["b"]))),
    "ŷ = v·σ(w·x + b) + c": lambda p, x, exp, relu: p["v"] / (1 + exp(-(p["w"] * x + p["b"]))) + p["c"],
}


def _page(problem: Problem) -> tuple[str, str, dict, list, list, Fraction]:
    """(model text, wiggled parameter, parameters, xs, ts, h) as the page shows them."""
    model = problem.equation.split(",  ")[1]
    chosen = re.search(r"∂L/∂(\S+) ≈", problem.equation).group(1)
    params = {name: Fraction(value.item()) for name, value in problem.tensors.items()
              if name not in GIVEN and name != problem.blank.tensor}
    xs, ts = problem.tensors["x"].tolist(), problem.tensors["t"].tolist()
    return model, chosen, params, xs, ts, Fraction(problem.tensors["h"].item())


def _loss(model: str, params: dict, xs: list, ts: list, exp, relu):
    return sum((MODELS[model](params, x, exp, relu) - t) ** 2 for x, t in zip(xs, ts))


def _fraction_relu(z: Fraction) -> Fraction:
    return max(z, Fraction(0))


def _no_exp(z):
    raise AssertionError("a sigmoid model's numbers are not exact")


def oracle(problem: Problem) -> dict[str, float | Fraction]:
    """Every quantity the problem can ask, from the page alone."""
    model, chosen, params, xs, ts, h = _page(problem)
    exact_model = "σ" not in model
    if exact_model:
        def loss_at(value):
            return _loss(model, {**params, chosen: value}, xs, ts, _no_exp, _fraction_relu)
        base = params[chosen]
    else:
        def loss_at(value):
            floats = {n: float(v) for n, v in params.items()}
            return _loss(model, {**floats, chosen: float(value)}, [np.asarray(x, float) for x in xs],
                         [float(t) for t in ts], math.exp, lambda z: max(z, 0.0))
        base, h = float(params[chosen]), float(h)
    plus, minus = loss_at(base + h), loss_at(base - h)
    leaves = {n: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for n, v in params.items()}
    x = torch.tensor([[float(v) for v in np.ravel(row)] for row in xs], dtype=torch.float64)
    inputs = x[:, 0] if x.shape[1] == 1 else x.T
    total = ((MODELS[model](leaves, inputs, torch.exp, torch.relu)
              - torch.tensor([float(t) for t in ts], dtype=torch.float64)) ** 2).sum()
    (first,) = torch.autograd.grad(total, leaves[chosen], create_graph=True)
    (second,) = torch.autograd.grad(first, leaves[chosen], create_graph=True)
    third = torch.autograd.grad(second, leaves[chosen], allow_unused=True)[0] if second.requires_grad else None
    return {"plus": plus, "minus": minus, "central": (plus - minus) / (2 * h), "backprop": first.item(),
            "third": 0.0 if third is None else third.item(), "passes": 2 * len(params), "exact": exact_model,
            "h": float(h)}


def _which(problem: Problem) -> str:
    blank = problem.blank.tensor
    return {"L(": "plus" if "+" in blank else "minus", "(L": "central", "∂L": "backprop",
            "fo": "passes"}[blank[:2]]


def _check_against_oracle(problem: Problem) -> None:
    expected = oracle(problem)
    which = _which(problem)
    value = expected[which]
    if which == "passes":
        assert problem.answer == value and problem.exact
    elif which == "backprop" and expected["exact"]:
        assert problem.answer == Fraction(value).limit_denominator(10**6)
        assert float(problem.answer) == pytest.approx(value, abs=1e-9)
    elif expected["exact"]:
        assert problem.answer == value, (problem.seed, which)  # exact fractions, L and the central difference
    else:
        places = 6 if which in ("plus", "minus") else 4
        assert abs(float(problem.answer) - value) <= 0.5 * 10.0**-places + 1e-12, (problem.seed, which)
        assert problem.tolerance == Fraction(1, 10**places)
    if expected["exact"]:
        assert problem.exact and problem.tolerance == Fraction(1, 10**9)


def _check_grading(problem: Problem) -> None:
    answer, tolerance = problem.answer, problem.tolerance
    restored = Problem.from_dict(json.loads(json.dumps(problem.to_dict())))
    assert restored.check(str(float(answer))).correct and restored.check(f"{answer.numerator}/{answer.denominator}")
    assert restored.check(str(float(answer + tolerance / 2))).correct  # within the stated tolerance
    for wrong in (answer + 3 * tolerance, answer - 3 * tolerance, answer + 1):
        assert not restored.check(str(float(wrong))).correct
    if problem.given_values_answer is not None:
        assert restored.check(str(float(problem.given_values_answer))).correct


def _check_solution(problem: Problem) -> None:
    expected = oracle(problem)
    text = "\n".join(problem.solution)
    assert "Central difference" in text and "Backprop" in text
    if expected["third"] == 0.0:  # L quadratic in p: the central difference is exact
        assert "agree" in text and abs(float(expected["central"]) - expected["backprop"]) < 1e-9
    else:
        shown = float(re.search(r"Central difference − backprop = (\S+);", text).group(1))
        error = float(expected["central"]) - expected["backprop"]
        assert shown == pytest.approx(error, rel=0.01)
        assert error == pytest.approx(expected["h"] ** 2 / 6 * expected["third"], rel=0.05)  # the O(h²) term
    if problem.difficulty == 3:
        assert f"2N = {expected['passes']} forward passes" in text


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_hundred_seeds_agree_with_the_oracle(difficulty):
    blanks = set()
    for seed in range(100):
        problem = generate(KIND, seed, 1 + seed % 3, difficulty)
        _check_against_oracle(problem)
        _check_grading(problem)
        _check_solution(problem)
        blanks.add(_which(problem))
    assert blanks == {"plus", "minus", "central", "backprop"} | ({"passes"} if difficulty == 3 else set())


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), size=st.integers(1, 3), difficulty=st.sampled_from([1, 2, 3]))
def test_any_seed_size_and_difficulty(seed, size, difficulty):
    problem = generate(KIND, seed, size, difficulty)
    assert problem.to_dict() == generate(KIND, seed, size, difficulty).to_dict()  # seeded
    assert problem.tensors["x"].shape[0] == size and problem.tensors["t"].shape == (size,)
    _check_against_oracle(problem)
    _check_grading(problem)
    _check_solution(problem)


def test_difficulty_one_is_by_hand():
    for seed in range(200):
        problem = generate(KIND, seed, 1, 1)
        assert "ŷ = w·x + b" in problem.equation and problem.exact
        assert problem.tensors["h"].item() in (Fraction(1, 10), Fraction(1, 100))
        for line in problem.solution[:3]:  # short decimals: at most 4 places
            assert not re.search(r"\d\.\d{5,}", line), line


def test_models_by_difficulty():
    seen = {d: {generate(KIND, s, 1, d).equation.split(",  ")[1] for s in range(80)} for d in (1, 2, 3)}
    assert seen[1] == {"ŷ = w·x + b"}
    assert seen[2] == {"ŷ = ReLU(w·x + b)", "ŷ = σ(w·x + b)"}
    assert seen[3] == {"ŷ = ReLU(w₁·x₁ + w₂·x₂ + b)", "ŷ = σ(w₁·x₁ + w₂·x₂ + b)", "ŷ = v·σ(w·x + b) + c"}


def test_a_sigmoid_central_difference_accepts_the_rounded_losses_answer():
    problems = [p for p in (generate(KIND, s, 2, 2) for s in range(300))
                if _which(p) == "central" and not p.exact]
    assert problems
    for problem in problems:
        model, chosen, params, xs, ts, h = _page(problem)
        losses = [re.search(rf"L\({chosen} [+−] h\) ≈ (\S+)\.", line) for line in problem.solution[:2]]
        shown = [Fraction(found.group(1)) for found in losses]
        from_shown = (shown[0] - shown[1]) / (2 * h)
        assert abs(problem.given_values_answer - from_shown) <= Fraction(1, 20000)
        assert problem.check(str(float(round(from_shown, 4)))).correct


def test_registered_everywhere():
    assert KIND in KINDS and KINDS[KIND].sizes == (1, 3)
    mixed = generate_set(None, 2 * len(KINDS), 5)
    assert KIND in {p.kind for p in mixed}
    with pytest.raises(ValueError, match="size 4 does not fit"):
        generate(KIND, 0, 4)


def test_cli_generate_validate_and_check(tmp_path, capsys):
    out = tmp_path / "set.json"
    assert main(["practice", "generate", "--kind", KIND, "--count", "6", "--seed", "11", "--difficulty", "3",
                 "--size", "2", "--out", str(out)]) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    validate_document(document)
    problems = load_problem_set(out)
    assert [p.to_dict() for p in problems] == document["problems"]
    for problem in problems:
        _check_against_oracle(problem)
    answers = [p["answer_text"] for p in document["problems"]]
    answers[0] = str(float(Fraction(answers[0])) + 1)
    capsys.readouterr()
    assert main(["practice", "check", str(out), "--answers", ", ".join(answers)]) == 0
    printed = capsys.readouterr().out
    assert "Score: 5 of 6 right" in printed and "Central difference" in printed  # the wrong one's worked solution
    for form in ("md", "html"):
        sheet = tmp_path / f"sheet.{form}"
        assert main(["practice", "generate", "--kind", KIND, "--count", "3", "--seed", "4", "--format", form,
                     "--out", str(sheet)]) == 0
        assert "numerical-gradient" in sheet.read_text(encoding="utf-8")
    assert main(["practice", "--help"]) == 0
    assert "numerical-gradient" in capsys.readouterr().out


def test_cli_terminal_session(monkeypatch, capsys):
    (problem,) = generate_set(KIND, 1, 0)
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{float(problem.answer)}\n"))
    assert main(["practice", "--kind", KIND, "--count", "1", "--seed", "0"]) == 0
    printed = capsys.readouterr().out
    assert "wiggling" in printed and "Right" in printed
