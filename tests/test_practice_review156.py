"""Round 156: generated practice as a teacher and a learner use it.

Every kind's answer key against an independent oracle over seeds (exact fractions from the numbers shown, NumPy
float64, PyTorch float64 autograd), grading of the written forms the pages name, and two defects:

* the number grader read other scripts' digits (``٣``, ``３``, ``𝟙`` as 3, 3, 1) while the sheets show only 0-9
  and the quiz and the playground's number fields refuse them: now refused in one line naming the digits 0-9;
* a set's seed had no upper bound: ``practice generate --seed 10**40`` wrote a file that ``practice check`` refused
  as "not written by generate", and ``--kind K --seed -1`` died with NumPy's "expected non-negative integer".
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from fractions import Fraction
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgrad.practice import (
    KINDS,
    AnswerError,
    ProblemExercise,
    generate,
    generate_set,
    number_text,
    parse_answer,
    problems_html,
    problems_markdown,
    run_session,
)
from glassgrad.practice import chain_rule as chain_rule_module
from glassgrad.practice.worksheet import answer_text

MAX_SEED = 2**63 - 1  # the largest seed a set keeps (glassgrad.practice.problems.MAX_SEED; 19 digits)
CLI = [sys.executable, "-c", "from glassgrad.cli import entry_point; entry_point()"]
SEEDS = st.integers(0, 2**31 - 1)
DIFFICULTIES = st.sampled_from((1, 2, 3))


def problems_of(kind: str):
    low, high = KINDS[kind].sizes
    return st.builds(lambda seed, size, difficulty: generate(kind, seed, size, difficulty),
                     SEEDS, st.integers(low, high), DIFFICULTIES)


def filled(problem, name: str) -> np.ndarray:
    """A tensor as shown, with the key's answer at the blank."""
    values = problem.tensors[name].copy()
    if name == problem.blank.tensor:
        values[problem.blank.index] = problem.answer
    return values


def scalar(problem, name: str) -> Fraction:
    return filled(problem, name)[()]


def graded_like_the_page(problem) -> None:
    """Every kind: the key's own text, and the true value written with more places, are accepted."""
    assert problem.check(number_text(problem.answer)).correct
    assert problem.check(answer_text(problem).lstrip("≈ ").split(" (±")[0]).correct


# --- the answer key against oracles, for all seeds --------------------------------------------------------------

@pytest.mark.parametrize("kind, names", [("forward-blank", ("W", "X", "Z")), ("backward-blank", ("dW", "X", "dZ"))])
def test_matmul_blanks_satisfy_their_relation_exactly_and_are_unique(kind, names):
    @settings(max_examples=150, deadline=None)
    @given(problems_of(kind))
    def check(problem):
        weights, inputs, outputs = (filled(problem, name) for name in names)
        assert (weights.dot(inputs) == outputs).all()
        if problem.blank.tensor == names[1]:  # an X blank is solvable from a row with a non-zero coefficient
            assert any(weights[row, problem.blank.index[0]] != 0 for row in range(weights.shape[0]))
        graded_like_the_page(problem)
    check()


@settings(max_examples=200, deadline=None)
@given(problems_of("relu-backward"))
def test_relu_backward_key_is_da_where_z_is_positive(problem):
    z, upstream, downstream = (filled(problem, name) for name in ("Z", "dA", "dZ"))
    assert list(downstream) == [a if v > 0 else 0 for v, a in zip(z, upstream)]
    assert any(v > 0 for v in z) and any(v <= 0 for v in z)
    graded_like_the_page(problem)


@settings(max_examples=200, deadline=None)
@given(problems_of("softmax-ce-gradient"))
def test_softmax_ce_key_is_yhat_minus_y_over_n(problem):
    onehot, gradient = filled(problem, "y"), filled(problem, "∂L/∂z")
    if problem.difficulty == 3:  # from the logits: NumPy's float64 softmax, the key to 4 places
        logits = np.array([float(v) for v in problem.tensors["z"]])
        softmax = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        true = softmax[problem.blank.index] - float(onehot[problem.blank.index])
        assert abs(float(problem.answer) - true) <= 0.5e-4 + 1e-12
        assert problem.check(f"{true:.8f}").correct and problem.tolerance == Fraction(1, 1000)
        assert not problem.check(number_text(problem.answer + Fraction(11, 10000))).correct
    else:
        probabilities = filled(problem, "ŷ")
        batch = probabilities.shape[0] if probabilities.ndim == 2 else 1
        assert np.all(np.asarray(probabilities.sum(axis=-1)) == 1)
        assert ((probabilities - onehot) / batch == gradient).all()
    graded_like_the_page(problem)


@settings(max_examples=200, deadline=None)
@given(problems_of("gd-update"))
def test_gd_update_key_satisfies_new_w_equals_w_minus_eta_g(problem):
    weights, gradients, new = (filled(problem, name) for name in ("w", "g", "new w"))
    rate = scalar(problem, "η")
    assert (weights - rate * gradients == new).all()
    if problem.blank.tensor == "η":  # one answer: some entry's gradient is not 0
        assert any(g != 0 for g in gradients)
    graded_like_the_page(problem)


@settings(max_examples=200, deadline=None)
@given(problems_of("linear-regression-step"))
def test_linear_regression_key_is_one_batch_step(problem):
    xs, ys = filled(problem, "x"), filled(problem, "y")
    w0, w1, rate = scalar(problem, "w₀"), scalar(problem, "w₁"), scalar(problem, "α")
    errors = [w0 + w1 * x - y for x, y in zip(xs, ys)]
    assert scalar(problem, "new w₀") == w0 - rate * sum(errors)
    assert scalar(problem, "new w₁") == w1 - rate * sum(e * x for e, x in zip(errors, xs))
    graded_like_the_page(problem)


def torch_chain_gradient(torch, network: dict, label: str) -> np.ndarray:
    """The blank's gradient from PyTorch (float64) on the network the generator drew."""
    t = {name: torch.tensor(np.asarray(values, dtype=np.float64)) for name, values in network.items()}
    w1, b1, w2 = (t[name].clone().requires_grad_() for name in ("w1", "b1", "w2"))
    z1 = w1 @ t["x"] + b1
    a1 = torch.relu(z1)
    z1.retain_grad()
    a1.retain_grad()
    torch.nn.functional.mse_loss(w2 @ a1 + t["b2"], t["target"]).backward()
    return {"∂L/∂W₂": w2.grad, "∂L/∂A₁": a1.grad, "∂L/∂Z₁": z1.grad, "∂L/∂b₁": b1.grad,
            "∂L/∂W₁": w1.grad}[label].numpy()


def chain_by_hand(tensors: dict, label: str) -> np.ndarray:
    """The chain from the numbers shown (fractions, or floats of the rounded numbers)."""
    if "ŷ" in tensors:
        upstream = 2 * (tensors["ŷ"] - tensors["y"]) / tensors["ŷ"].shape[0]
    else:
        upstream = tensors["∂L/∂ŷ"]
    if label == "∂L/∂W₂":
        return upstream.dot(tensors["A₁"].T)
    hidden = tensors["W₂"].T.dot(upstream)
    if label == "∂L/∂A₁":
        return hidden
    masked = np.array([[h[0] if z[0] > 0 else 0 * h[0]] for h, z in zip(hidden, tensors["Z₁"])], dtype=object)
    return masked.dot(tensors["x"].T) if label == "∂L/∂W₁" else masked


def chain_problem_and_network(seed: int, size: int, difficulty: int) -> tuple:
    """A chain-rule problem and the weights of the network it was made from (the last one drawn)."""
    drawn = {}
    real = chain_rule_module.network_steps

    def spy(**weights):
        drawn.update(weights)
        return real(**weights)

    with mock.patch.object(chain_rule_module, "network_steps", spy):
        return generate("chain-rule", seed, size, difficulty), drawn


@settings(max_examples=120, deadline=None)
@given(SEEDS, st.integers(2, 4), DIFFICULTIES)
def test_chain_rule_key_is_pytorchs_gradient_and_the_given_values_answer_the_shown_numbers(torch, seed, size,
                                                                                           difficulty):
    problem, drawn = chain_problem_and_network(seed, size, difficulty)
    label, index = problem.blank.tensor, problem.blank.index
    true = float(torch_chain_gradient(torch, drawn, label)[index])
    assert_relu_mask_reads_off_the_shown_z(problem, drawn)
    if difficulty < 3:
        assert problem.answer == Fraction(true)
        shown = {name: filled(problem, name) for name in problem.tensors}
        assert (chain_by_hand(shown, label) == shown[label]).all()
    else:
        assert abs(float(problem.answer) - true) <= 0.5e-4 + 1e-12
        shown = {name: np.array(values.tolist(), dtype=object) for name, values in problem.tensors.items()}
        shown[label][index] = Fraction(0)
        rounded = {name: np.vectorize(float)(values).astype(np.float64) for name, values in shown.items()}
        assert abs(float(problem.given_values_answer) - chain_by_hand(rounded, label)[index]) <= 0.5e-4 + 1e-12
        assert problem.check(f"{true:.6f}").correct
    graded_like_the_page(problem)


def assert_relu_mask_reads_off_the_shown_z(problem, drawn: dict) -> None:
    """Where Z₁ is shown, "ReLU′ = 1 where Z₁ > 0" read off the shown numbers is the engine's mask."""
    if "Z₁" in problem.tensors:
        pre_activation = (np.asarray(drawn["w1"]) @ np.asarray(drawn["x"]) + np.asarray(drawn["b1"])).ravel()
        assert [bool(z > 0) for z in problem.tensors["Z₁"].ravel()] == list(pre_activation > 0)


@pytest.mark.parametrize("size, seed", [(2, 3895), (3, 380), (3, 465), (4, 228)])  # all such of seeds 0-5999
def test_chain_rule_never_shows_an_active_units_z_as_0(size, seed):
    """Before: seed 228 (size 4, difficulty 3) showed Z₁[4] = 0 (the engine's 0.0004 rounded) and the worked
    solution said ReLU′(Z₁)[4] = 1 beside it, against its own rule; -5.9352 and 0 were both accepted."""
    problem, drawn = chain_problem_and_network(seed, size, 3)
    assert_relu_mask_reads_off_the_shown_z(problem, drawn)
    for line in problem.solution:
        if "ReLU'(Z₁)[" in line and "Z₁" in problem.tensors:
            entry = int(re.search(r"ReLU'\(Z₁\)\[(\d+)\]", line).group(1)) - 1
            shown_mask = "1" if problem.tensors["Z₁"][entry, 0] > 0 else "0"
            assert line.rstrip().split(" · ")[-1].split(" =")[0] == shown_mask


def numerical_oracle(torch, problem) -> float:
    """The blank from PyTorch float64: the model read off the equation, L = Σ (ŷ − t)²."""
    tensors = problem.tensors
    chosen = re.search(r"∂L/∂(\S+) numerically", problem.question).group(1)
    names = [n for n in tensors if n not in ("x", "t", "h", problem.blank.tensor)]
    model = problem.equation.split(",  ")[1]
    activation = torch.relu if "ReLU" in model else torch.sigmoid if "σ" in model else (lambda z: z)
    x = torch.tensor(np.array(tensors["x"].tolist(), dtype=np.float64))
    t = torch.tensor(np.array(tensors["t"].tolist(), dtype=np.float64))

    def loss(values):
        p = dict(zip(names, values))
        if "v" in p:
            prediction = p["v"] * torch.sigmoid(p["w"] * x + p["b"]) + p["c"]
        elif "w₁" in p:
            prediction = activation(p["w₁"] * x[:, 0] + p["w₂"] * x[:, 1] + p["b"])
        else:
            prediction = activation(p["w"] * x + p["b"])
        return ((prediction - t) ** 2).sum()

    values = [torch.tensor(float(tensors[n][()]), dtype=torch.float64, requires_grad=True) for n in names]
    loss(values).backward()
    where, h = names.index(chosen), float(tensors["h"][()])

    def moved(delta: float) -> float:
        return loss([v.detach() + (delta if i == where else 0.0) for i, v in enumerate(values)]).item()

    plus, minus = moved(h), moved(-h)
    return {f"L({chosen} + h)": plus, f"L({chosen} − h)": minus,
            f"(L({chosen} + h) − L({chosen} − h))/(2h)": (plus - minus) / (2 * h),
            f"∂L/∂{chosen}": values[where].grad.item(),
            "forward passes for all parameters": 2 * len(names)}[problem.blank.tensor]


@settings(max_examples=200, deadline=None)
@given(SEEDS, st.integers(1, 3), DIFFICULTIES)
def test_numerical_gradient_key_is_pytorchs_to_the_stated_places(torch, seed, size, difficulty):
    problem = generate("numerical-gradient", seed, size, difficulty)
    true = numerical_oracle(torch, problem)
    margin = Fraction(1, 10**9) if problem.exact else problem.tolerance / 2  # rounded to the places it states
    assert abs(float(problem.answer) - true) <= float(margin) + 1e-9
    assert problem.check(repr(true)).correct
    if not problem.exact:
        assert f"±{number_text(problem.tolerance)}" in " ".join(problem.notes)
    graded_like_the_page(problem)


# --- grading: the forms the pages name, the tolerance they state, and what is no number ---------------------------

@pytest.mark.parametrize("text", ["0.5", ".5", "5e-1", "+0.50", "1/2", "  0.5 ", "−0.5/−1", "1 / 2", "5.0E-1"])
def test_every_written_form_of_one_half_is_one_half(text):
    assert parse_answer(text) == Fraction(1, 2)


@pytest.mark.parametrize("text", ["٣", "３", "𝟙", "٣.٥", "1/٢", "١٠", "1²", "۰.5"])
def test_digits_other_than_0_to_9_are_refused_in_one_line_naming_the_digits(text):
    with pytest.raises(AnswerError) as refused:
        parse_answer(text)
    message = str(refused.value)
    assert "not among the digits 0-9" in message and "\n" not in message and "type an integer (3)" in message


def test_a_session_asks_again_after_other_script_digits():
    problem = generate("gd-update", seed=11)
    output = io.StringIO()
    score = run_session([ProblemExercise(problem)], io.StringIO(f"٣\n{number_text(problem.answer)}\n"), output)
    assert score.right == 1 and score.wrong == 0
    assert "'٣' uses ٣, which is not among the digits 0-9" in output.getvalue()


def test_the_playground_answers_other_script_digits_with_its_not_a_number_line(tmp_path):
    testclient = pytest.importorskip("starlette.testclient")
    from glassgrad.playground import create_app

    with testclient.TestClient(create_app(output_dir=tmp_path / "out"), base_url="http://127.0.0.1:8000") as client:
        reply = client.post("/api/practice/check", json={"kind": "forward-blank", "seed": 7, "answer": "𝟙"})
        assert reply.status_code == 200 and reply.json()["correct"] is None
        assert "not among the digits 0-9" in reply.json()["not_a_number"]
        first, again = (client.post("/api/practice/new", json={"kind": "chain-rule", "seed": 7}).json() for _ in "ab")
        other = client.post("/api/practice/new", json={"kind": "chain-rule", "seed": 8}).json()
        assert first == again != other and "answer" not in first and "solution" not in first


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(KINDS)), SEEDS, DIFFICULTIES)
def test_the_stated_tolerance_is_the_rule_inclusive_at_its_edge(kind, seed, difficulty):
    problem = generate(kind, seed, difficulty=difficulty)
    step = problem.tolerance
    for delta, right in ((step, True), (-step, True), (step * Fraction(101, 100), False),
                         (-step * Fraction(101, 100), False)):
        value = problem.answer + delta
        if problem.given_values_answer is not None and abs(value - problem.given_values_answer) <= step:
            continue  # the given-values mode accepts it, as the note says
        assert problem.check(number_text(value)).correct is right


# --- seeds: the same set for the same seed, a set's seed within what its file keeps --------------------------------

@settings(max_examples=40, deadline=None)
@given(st.integers(0, MAX_SEED - 1))
def test_same_seed_same_set_and_the_next_seed_another(seed):
    first = [p.to_dict() for p in generate_set(None, 8, seed)]
    assert first == [p.to_dict() for p in generate_set(None, 8, seed)]
    assert first != [p.to_dict() for p in generate_set(None, 8, seed + 1)]


@pytest.mark.parametrize("kind", [None, "gd-update"])
def test_a_set_seed_past_the_largest_the_file_keeps_is_refused_by_name(kind):
    for seed in (MAX_SEED + 1, 10**40):
        with pytest.raises(ValueError, match=r"seed \d+ is too large for a problem set: choose one from 0 to 2\*\*63"):
            generate_set(kind, 1, seed)
    with pytest.raises(ValueError, match="seed must be a whole number from 0 up, not -1"):
        generate_set(kind, 1, -1)


def test_the_largest_seed_round_trips_through_generate_and_check(tmp_path):
    sheet = tmp_path / "set.json"
    made = subprocess.run([*CLI, "practice", "generate", "--count", "2", "--seed", str(MAX_SEED), "--out", str(sheet)],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    document = json.loads(sheet.read_text(encoding="utf-8"))
    answers = ",".join(p["answer_text"] for p in document["problems"])
    checked = subprocess.run([*CLI, "practice", "check", str(sheet), "--answers", answers],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0 and "Score: 2 of 2 right (100%)." in checked.stdout, checked.stderr
    refused = subprocess.run([*CLI, "practice", "generate", "--kind", "gd-update", "--count", "1", "--seed", "-1"],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and refused.stderr.strip().splitlines()[-1].endswith(
        "seed must be a whole number from 0 up, not -1")


# --- worksheets: the key prints the grader's answer ---------------------------------------------------------------

@settings(max_examples=10, deadline=None)
@given(SEEDS, DIFFICULTIES)
def test_worksheet_keys_print_what_the_grader_accepts(seed, difficulty):
    problems = generate_set(None, len(KINDS), seed, difficulty=difficulty)
    page = problems_html(problems, "Sheet")
    keys = re.findall(r'<span class="answer">([^<]*)</span>', page)
    assert keys == [answer_text(p) for p in problems]
    markdown = problems_markdown(problems, "Sheet")
    for number, problem in enumerate(problems, 1):
        assert f"{number}. **{answer_text(problem)}**" in markdown
        assert problem.check(answer_text(problem).lstrip("≈ ").split(" (±")[0]).correct
