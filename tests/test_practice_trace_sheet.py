"""Worksheets from a trace: the network's steps match PyTorch, every blank is solvable from what is
shown, and the key matches the engine's numbers (with the given-values mode when numbers are rounded)."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest

from glassgrad.cli import main
from glassgrad.practice import diagonal_flip_steps, network_steps, number_text, trace_worksheet
from glassgrad.practice.numbers import as_shown, fraction_array
from glassgrad.practice.worksheet import PAGE_BREAK_MARKDOWN, choose_blanks, steps_from_trace

LESSON_INPUT = [1.0, 0.0, 1.0, 1.0]
LESSON_TARGET = [1.0, 1.0, 0.0, 1.0]
# Simple-decimal weights for which the seed lesson's numbers come out: ŷ = [0.1, −0.1, −0.05, −0.25], L ≈ 0.896.
LESSON_WEIGHTS = {
    "w1": [[0.2, -0.1, 0.1, 0.2], [-0.3, 0.4, 0.1, -0.2], [0.1, 0.3, -0.2, 0.3]],
    "b1": [0.0, 0.1, 0.0],
    "w2": [[0.4, -0.2, 0.5], [-0.2, 0.3, 0.5], [0.1, -0.4, -0.5], [-0.3, 0.2, 0.5]],
    "b2": [-0.2, -0.1, 0.0, -0.2],
}


def test_network_steps_match_pytorch(torch):
    rng = np.random.default_rng(7)
    w1, b1, w2, b2 = rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=(2, 5)), rng.normal(size=2)
    x, y = rng.normal(size=3), rng.normal(size=2)
    steps = {s.name: s.output for s in network_steps(x, y, w1, b1, w2, b2)}

    def leaf(values):
        return torch.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)

    W1, B1, W2, B2 = leaf(w1), leaf(b1.reshape(-1, 1)), leaf(w2), leaf(b2.reshape(-1, 1))
    z1 = W1 @ torch.tensor(x.reshape(-1, 1)) + B1
    a1 = torch.relu(z1)
    prediction = W2 @ a1 + B2
    for t in (z1, a1, prediction):
        t.retain_grad()
    loss = torch.nn.functional.mse_loss(prediction, torch.tensor(y.reshape(-1, 1)))
    loss.backward()
    oracle = {"Z₁": z1, "A₁": a1, "ŷ": prediction, "L": loss, "∂L/∂ŷ": prediction.grad, "∂L/∂W₂": W2.grad,
              "∂L/∂A₁": a1.grad, "∂L/∂Z₁": z1.grad, "∂L/∂W₁": W1.grad}
    assert set(steps) == set(oracle)
    for name, expected in oracle.items():
        np.testing.assert_allclose(steps[name], expected.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=name)
    np.testing.assert_allclose(steps["∂L/∂ŷ"], B2.grad.numpy())  # ∂L/∂b₂ = ∂L/∂ŷ
    np.testing.assert_allclose(steps["∂L/∂Z₁"], B1.grad.numpy())  # ∂L/∂b₁ = ∂L/∂Z₁


def test_diagonal_flip_with_the_lesson_weights_gives_the_seed_numbers():
    steps = {s.name: s for s in diagonal_flip_steps(weights=LESSON_WEIGHTS)}
    np.testing.assert_allclose(steps["ŷ"].output[:, 0], [0.1, -0.1, -0.05, -0.25], atol=1e-12)
    assert round(float(steps["L"].output), 3) == 0.896
    np.testing.assert_array_equal(steps["Z₁"].inputs["x"][:, 0], LESSON_INPUT)
    np.testing.assert_array_equal(steps["L"].inputs["y"][:, 0], LESSON_TARGET)


def _check_solvable(steps, positions):
    producer = {s.name: i for i, s in enumerate(steps)}
    blanked = {i for i, _ in positions}
    for i in blanked:
        for name in steps[i].inputs:
            assert producer.get(name) not in blanked, f"{steps[i].name} uses the blanked {name}"
    assert len(set(positions)) == len(positions)


def test_every_blank_is_solvable_from_what_is_shown():
    for seed in range(150):
        steps = diagonal_flip_steps(seed)
        for count in (1, 4, 6, 9):
            positions = choose_blanks(steps, count, seed)
            assert len(positions) == count
            _check_solvable(steps, positions)
        worksheet = trace_worksheet(steps, 6, seed)
        assert not worksheet.rounded  # integer weights: every number is exact
        for blank in worksheet.blanks:
            step = next(s for s in steps if s.name == blank.step)
            assert blank.answer == step.output[blank.index]
            assert blank.explanation.endswith(f"= {number_text(blank.answer)}")
            assert blank.check(number_text(blank.answer)).correct
            assert not blank.check(number_text(blank.answer + 1)).correct


def test_spreads_blanks_over_steps_and_refuses_too_many():
    steps = diagonal_flip_steps(3)
    positions = choose_blanks(steps, 4, 3)
    assert len({i for i, _ in positions}) >= 3
    with pytest.raises(ValueError, match="can blank between 1 and \\d+ numbers of these steps"):
        choose_blanks(steps, 500, 3)


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.blank_cells: list[str] = []
        self.answers: list[str] = []
        self.key_style = ""
        self._blank = self._answer = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        self._blank = "blank" in classes
        self._answer = "answer" in classes
        if "answer-key" in classes:
            self.key_style = attrs.get("style", "")

    def handle_data(self, data):
        if self._blank:
            self.blank_cells.append(data)
        if self._answer:
            self.answers.append(data)
        self._blank = self._answer = False


def test_trace_worksheet_html_and_markdown():
    worksheet = trace_worksheet(diagonal_flip_steps(5), 7, 5)
    page = _Page()
    page.feed(worksheet.html())
    assert page.blank_cells == [f"?{n}" for n in range(1, 8)]
    assert page.answers == [number_text(b.answer) for b in worksheet.blanks]
    assert "page-break-before: always" in page.key_style
    sheet, key = worksheet.markdown().split(PAGE_BREAK_MARKDOWN)
    assert all(f"?{n}" in sheet for n in range(1, 8)) and "?8" not in sheet
    assert "## Given" in sheet and "### ∂L/∂W₁ = ∂L/∂Z₁ · xᵀ" in sheet
    assert [line.split("**")[1] for line in key.splitlines() if line.startswith("- **")] == [
        f"{b.label} = {number_text(b.answer)}" for b in worksheet.blanks]


def test_rounded_numbers_use_the_given_values_mode():
    steps = diagonal_flip_steps(weights=LESSON_WEIGHTS)
    worksheet = trace_worksheet(steps, 9, seed=2, places=2)
    assert worksheet.rounded and "rounded to 2 decimal places" in worksheet.intro()
    by_name = {s.name: s for s in steps}
    for blank in worksheet.blanks:
        step = by_name[blank.step]
        assert abs(float(blank.answer) - step.output[blank.index]) <= 0.005 + 1e-12  # the engine's number, rounded
        shown_inputs = [fraction_array(v, lambda t: as_shown(t, 2)).astype(np.float64) for v in step.inputs.values()]
        assert blank.given_values_answer is not None
        assert abs(float(blank.given_values_answer) - step.recompute(*shown_inputs)[blank.index]) <= 0.005 + 1e-12
        assert blank.check(number_text(blank.given_values_answer)).correct
        assert not blank.check(number_text(blank.answer + 1)).correct


def test_steps_from_a_trace_document():
    document = {
        "forward": [
            {"formula": "z = w·x", "inputs": [{"symbol": "w", "values": [[2.0, -1.0]]},
                                               {"symbol": "x", "values": [[3.0], [1.0]]}],
             "output": {"symbol": "z", "values": [[5.0]]}},
            {"formula": "L = z²", "inputs": [{"symbol": "z", "values": [[5.0]]}],
             "output": {"symbol": "L", "values": 25.0}},
        ],
        "backward": [
            {"formula": "∂L/∂z = 2z", "inputs": [{"symbol": "z", "values": [[5.0]]}],
             "output": {"symbol": "∂L/∂z", "values": [[10.0]]}},
            {"formula": "∂L/∂w = ∂L/∂z·xᵀ", "inputs": [{"symbol": "∂L/∂z", "values": [[10.0]]},
                                                        {"symbol": "x", "values": [[3.0], [1.0]]}],
             "output": {"symbol": "∂L/∂w", "values": [[30.0, 10.0]]}},
        ],
    }
    steps = steps_from_trace(document)
    assert [(s.name, s.phase) for s in steps] == [("z", "forward"), ("L", "forward"), ("∂L/∂z", "backward"),
                                                   ("∂L/∂w", "backward")]
    for seed in range(20):
        positions = choose_blanks(steps, 2, seed)
        _check_solvable(steps, positions)
    worksheet = trace_worksheet(steps, 2, seed=1)
    by_name = {s.name: s for s in steps}
    for blank in worksheet.blanks:
        step = by_name[blank.step]
        assert blank.answer == step.output[blank.index]
        assert blank.explanation.endswith(f"from {step.formula}")  # a trace step without an explain function
        assert f"{blank.label} = {number_text(blank.answer)}" in worksheet.markdown()


def test_sheet_command(tmp_path, capsys):
    assert main(["practice", "sheet", "--blanks", "5", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert "?5" in out and "?6" not in out and PAGE_BREAK_MARKDOWN in out
    assert main(["practice", "sheet", "--format", "html", "--out", str(tmp_path / "flip.html")]) == 0
    assert (tmp_path / "flip.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["practice", "sheet", "--blanks", "400"]) == 2
    assert "ask for fewer blanks" in capsys.readouterr().err
