"""Worksheets from a trace: the network's steps match PyTorch, every blank is solvable from what is
shown, and the key matches the engine's numbers (with the given-values mode when numbers are rounded)."""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from html.parser import HTMLParser

import numpy as np
import pytest

from glassgrad.cli import main
from glassgrad.lessons import LESSONS, lesson
from glassgrad.practice import diagonal_flip_steps, network_steps, number_text, trace_worksheet
from glassgrad.practice.numbers import as_shown, fraction_array
from glassgrad.practice.trace_steps import mentions, steps_from_trace
from glassgrad.practice.worksheet import PAGE_BREAK_MARKDOWN, choose_blanks

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
    assert "## Given" in sheet and "### ∂L/∂W₁ = ∂L/∂Z₁·xᵀ" in sheet
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


# --- worksheets from the glass box's real trace ---------------------------------------------


class _ShownSheet(HTMLParser):
    """What a trace worksheet page shows: every tensor's cells by name, each step's heading, and the key."""

    def __init__(self):
        super().__init__()
        self.tensors: dict[str, list[list[str]]] = {}
        self.heading_of: dict[str, str] = {}
        self.blanks: dict[str, tuple[str, int, int]] = {}  # label -> (tensor, row, column)
        self.key: dict[str, str] = {}
        self._heading = self._name = self._label = None
        self._reading = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "h3":
            self._reading, self._heading = "heading", ""
        elif tag == "span" and "name" in classes:
            self._reading, self._name = "name", ""
        elif tag == "tr":
            self.tensors[self._name].append([])
        elif tag == "td" or (tag == "span" and "scalar" in classes):
            self._reading = "cell"
            if tag == "span":
                self.tensors[self._name].append([])
            self.tensors[self._name][-1].append("")
        elif tag == "li" and "data-blank" in attrs:
            self._label = attrs["data-blank"]
        elif tag == "span" and "answer" in classes:
            self._reading, self.key[self._label] = "answer", ""

    def handle_endtag(self, tag):
        if self._reading == "name" and tag == "span":
            self._name = self._name.removesuffix(" =")
            self.tensors[self._name] = []
            if self._heading:
                self.heading_of[self._name] = self._heading
        if tag in ("td", "span", "h3"):
            self._reading = ""

    def handle_data(self, data):
        if self._reading == "heading":
            self._heading += data
        elif self._reading == "name":
            self._name += data
        elif self._reading == "cell":
            rows = self.tensors[self._name]
            rows[-1][-1] += data
            if data.startswith("?"):
                self.blanks[data] = (self._name, len(rows) - 1, len(rows[-1]) - 1)
        elif self._reading == "answer":
            self.key[self._label] += data


def _shown(cell: str) -> float:
    assert not cell.startswith("?"), f"this blank needs the blank {cell}: it is not solvable from what is shown"
    return float(Fraction(cell))


def _solve(page: _ShownSheet, name: str, i: int, j: int) -> float:
    """A blank by the textbook rule its step's heading names, from the numbers the page shows (an
    independent oracle: it reads the rendered page, not the engine's steps)."""
    heading = page.heading_of[name]
    right = heading.split(";")[0].split(",  ")[0].split(" = ", 1)[1]

    def column(symbol):
        return [_shown(row[0]) for row in page.tensors[symbol]]

    def matrix(symbol):
        return [[_shown(cell) for cell in row] for row in page.tensors[symbol]]

    if match := re.fullmatch(r"(\S+)·(\S+) \+ (\S+)", right):  # Z = W·a + b
        w, a, b = match.groups()
        return sum(wij * aj for wij, aj in zip(matrix(w)[i], column(a))) + column(b)[i]
    if match := re.fullmatch(r"ReLU\((\S+)\)", right):
        return max(0.0, column(match.group(1))[i])
    if match := re.fullmatch(r"softmax\((\S+)\)", right):
        exps = [math.exp(v) for v in column(match.group(1))]
        return exps[i] / sum(exps)
    if match := re.fullmatch(r"\(1/n\) Σ \((\S+) − (\S+)\)²\s+\(n = (\d+)\)", right):
        p, y, n = match.groups()
        return sum((a - b) ** 2 for a, b in zip(column(p), column(y))) / int(n)
    if match := re.fullmatch(r"−\(1/N\) Σᵢ log softmax\((\S+)\)ᵢ\[(\S+)ᵢ\+1\]\s+\(N = 1\)", right):
        logits, position = column(match.group(1)), int(column(match.group(2))[0]) + 1  # the label's entry, from 1
        return -(logits[position - 1] - math.log(sum(math.exp(v) for v in logits)))
    if match := re.fullmatch(r"2\((\S+) − (\S+)\)/(\d+)", right):
        p, y, n = match.groups()
        return 2 * (column(p)[i] - column(y)[i]) / int(n)
    if match := re.fullmatch(r"(\S+) − (onehot\(\S+\))", right):
        return column(match.group(1))[i] - column(match.group(2))[i]
    if match := re.fullmatch(r"(\S+)·(\S+)ᵀ", right):  # ∂L/∂W = ∂L/∂Z·aᵀ
        return column(match.group(1))[i] * column(match.group(2))[j]
    if match := re.fullmatch(r"(\S+)ᵀ·(\S+)", right):  # ∂L/∂a = Wᵀ·∂L/∂Z
        return sum(row[i] * u for row, u in zip(matrix(match.group(1)), column(match.group(2))))
    if match := re.fullmatch(r"(\S+) ⊙ ReLU'\((\S+)\)", right):
        return column(match.group(1))[i] if column(match.group(2))[i] > 0 else 0.0
    raise AssertionError(f"no textbook rule for the heading {heading!r}")


def test_sheet_from_the_diagonal_flip_trace_solves_every_blank_from_what_is_shown(tmp_path, capsys):
    blanked_steps = set()
    for seed in range(12):
        out = tmp_path / f"flip{seed}.html"
        count = 4 + seed % 6
        assert main(["practice", "sheet", "--from-trace", "diagonal-flip", "--blanks", str(count), "--seed",
                     str(seed), "--format", "html", "--out", str(out)]) == 0
        page = _ShownSheet()
        page.feed(out.read_text(encoding="utf-8"))
        assert sorted(page.blanks) == sorted(page.key) == sorted(f"?{n}" for n in range(1, count + 1))
        for label, (name, i, j) in page.blanks.items():
            assert _solve(page, name, i, j) == pytest.approx(float(Fraction(page.key[label])), abs=1e-12), label
            blanked_steps.add(name)
        # the lesson's own numbers (the seed lesson: ŷ = [0.1, −0.1, −0.05, −0.25], L = 0.89625), shown exactly
        assert [row[0] for row in page.tensors["X"]] == ["1", "0", "1", "1"]
        for cell, seed_value in zip((row[0] for row in page.tensors["ŷ"]), ("0.1", "-0.1", "-0.05", "-0.25")):
            assert cell in (seed_value, *page.key)  # shown exactly, or a blank
        assert page.tensors["L"][0][0] in ("0.89625", *page.key)
        assert "ReLU'(Z₁) = 1 where Z₁ > 0, else 0" in page.heading_of["∂L/∂Z₁"]
        assert "∂L/∂b₁" not in page.tensors and page.heading_of["∂L/∂Z₁"].endswith("∂L/∂b₁ = ∂L/∂Z₁")
    assert {"A₁", "L", "∂L/∂ŷ", "∂L/∂Z₁", "∂L/∂W₁"} <= blanked_steps  # forward and backward, ReLU's step too
    capsys.readouterr()


def test_relu_backward_step_takes_its_pre_activation_from_the_forward_pass():
    steps = {step.name: step for step in steps_from_trace(lesson("diagonal-flip"))}
    relu_step = steps["∂L/∂Z₁"]
    assert list(relu_step.inputs) == ["∂L/∂A₁", "Z₁"]  # the trace lists only ∂L/∂A₁
    np.testing.assert_array_equal(relu_step.inputs["Z₁"], steps["Z₁"].output)
    assert relu_step.output.shape == (3, 1) and steps["∂L/∂W₁"].output.shape == (3, 4)  # one sample, as columns
    assert relu_step.aliases == ("∂L/∂b₁",) and steps["∂L/∂ŷ"].aliases == ("∂L/∂b₂",)
    assert "∂L/∂b₂" not in steps and "∂L/∂b₁" not in steps  # copies are folded, not printed again
    ordered = list(steps.values())
    for seed in range(200):
        blanked = {ordered[i].name for i, _ in choose_blanks(ordered, 6, seed)}
        assert not {"Z₁", "∂L/∂Z₁"} <= blanked  # never both: ∂L/∂Z₁ needs Z₁
        for name in blanked:
            assert not blanked & set(steps[name].inputs)


@pytest.mark.parametrize("part", ["given values", "real network"])
def test_every_rule_of_the_mlp3_trace_is_the_engine_s_own(part):
    document = lesson("mlp3")  # the lesson's form (backward from the given ∂L/∂Z₃), and the real network beside it
    for step in steps_from_trace(document if part == "given values" else document["real_network"]):
        assert step.recompute is not None, step.formula  # linear, ReLU, softmax, cross-entropy and their gradients
        np.testing.assert_allclose(step.recompute(*step.inputs.values()), step.output, rtol=1e-6, atol=1e-7,
                                   err_msg=step.formula)


def test_rounded_sheet_from_the_mlp3_trace_accepts_what_the_shown_numbers_give():
    steps = steps_from_trace(lesson("mlp3")["real_network"])  # its softmax is no short decimal: a rounded sheet
    for seed in range(8):
        worksheet = trace_worksheet(steps, 8, seed)
        assert worksheet.rounded and worksheet.places == 4
        assert "rounded to 4 decimal places" in worksheet.intro()
        page = _ShownSheet()
        page.feed(worksheet.html())
        for blank in worksheet.blanks:
            name, i, j = page.blanks[blank.label]
            from_shown = _solve(page, name, i, j)
            assert blank.check(f"{from_shown:.8f}").correct, (blank.label, blank.explanation)
            assert abs(from_shown - float(blank.answer)) < 2e-3
            assert not blank.check(f"{from_shown + 0.01:.8f}").correct


def test_trace_json_file_and_worked_example_name_give_the_same_sheet(tmp_path, capsys):
    trace_file = tmp_path / "flip.json"
    assert main(["trace", "diagonal-flip", "--format", "json", "--out", str(trace_file)]) == 0
    capsys.readouterr()
    assert main(["practice", "sheet", "--from-trace", str(trace_file), "--blanks", "7", "--seed", "3"]) == 0
    from_file = capsys.readouterr().out
    assert main(["practice", "sheet", "--from-trace", "diagonal-flip", "--blanks", "7", "--seed", "3"]) == 0
    assert capsys.readouterr().out == from_file
    assert from_file.count("?7") == 3 and "?8" not in from_file  # the intro, the sheet and the key


def test_any_trace_gives_a_worksheet_linear_regression():
    steps = steps_from_trace(lesson("linear-regression"))
    by_name = {step.name: step for step in steps}
    assert "∂L/∂SSE" in by_name["∂L/∂h(x)"].inputs  # named in its formula '… × ∂L/∂SSE', so an input
    assert "0.5" not in by_name["L"].inputs  # a constant is in the formula, not a tensor to show
    for seed in range(30):  # 4: v₁, h(x), SSE and ∂L/∂h(x) are given away by the steps that read them
        _check_solvable(steps, choose_blanks(steps, 4, seed))
    worksheet = trace_worksheet(steps, 5, seed=2)
    for blank in worksheet.blanks:
        step = by_name[blank.step]
        assert abs(float(blank.answer) - step.output[blank.index]) <= 0.00005 + 1e-12
        assert blank.check(number_text(blank.answer)).correct and not blank.check(number_text(blank.answer + 1)).correct


def test_mentions_reads_symbols_not_parts_of_names():
    assert mentions("∂L/∂Z₁ = ∂L/∂A₁ ⊙ ReLU'(Z₁)", "Z₁") and mentions("∂L/∂Z₁ = ∂L/∂A₁ ⊙ ReLU'(Z₁)", "∂L/∂A₁")
    assert not mentions("∂L/∂W₁ = ∂L/∂Z₁·Xᵀ", "Z₁") and mentions("∂L/∂W₁ = ∂L/∂Z₁·Xᵀ", "X")
    assert not mentions("Z₁ = W₁·X + b₁", "Z₁") and not mentions("a = Z₁₂ + 1", "Z₁")
    assert not mentions("L = max(0, z)", "x") and mentions("∂L/∂ŷ = 2(ŷ − y)/4", "y")


def test_bad_trace_sources_get_one_line_errors(tmp_path, capsys):
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "set.json").write_text('{"format": "glassgrad-practice"}', encoding="utf-8")
    partial = {"format": "glassgrad-trace", "forward": [{"formula": "z = 2x"}]}
    (tmp_path / "partial.json").write_text(json.dumps(partial), encoding="utf-8")
    step = {"formula": "z = 2x", "inputs": [{"symbol": "x", "values": ["a"]}], "output": {"symbol": "z", "values": [2]}}
    words = {"format": "glassgrad-trace", "forward": [step]}
    (tmp_path / "words.json").write_text(json.dumps(words), encoding="utf-8")
    cases = [
        (["--from-trace", "flip"], f"neither a worked example ({', '.join(LESSONS)}) nor a trace"),
        (["--from-trace", str(tmp_path / "broken.json")], "is not valid JSON"),
        (["--from-trace", str(tmp_path / "set.json")], "is not a glassgrad trace: write one with 'glassgrad trace"),
        (["--from-trace", str(tmp_path / "partial.json")], "forward step 1 of the trace is incomplete"),
        (["--from-trace", str(tmp_path / "words.json")], "the values of x in the trace are not an array of numbers"),
        (["--from-trace", "mlp3", "--places", "9"], "--places must be from 0 to 8"),
        (["--from-trace", "mlp3", "--blanks", "0"], "not 0: ask for at least 1 blank"),
        (["--seed", "-2"], "seed must be a whole number from 0 up"),
    ]
    for options, message in cases:
        assert main(["practice", "sheet", *options]) == 2, options
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_key_writes_approximately_equal_after_rounded_numbers_and_equal_after_exact_ones():
    """A rounded sheet's key wrote (-0.0302)·1.3597 = -0.041, where that product is -0.04106: the arithmetic on
    the numbers shown need not give the engine's value to the last digit, so the key says ≈ there; the lesson's
    exact numbers keep =."""
    import glassgrad as gg
    from glassgrad.lessons.diagonal_flip import lesson_model, sample
    from glassgrad.trace.render_json import render_json

    rng = np.random.default_rng(11)
    model = gg.nn.Sequential(gg.nn.Linear(3, 3), gg.nn.Tanh(), gg.nn.Linear(3, 2)).double()
    with gg.trace(model) as tape:
        gg.nn.functional.mse_loss(model(gg.tensor(rng.normal(size=(3,)))), gg.tensor(rng.normal(size=(2,)))).backward()
    rounded = [blank.explanation for seed in range(6)
               for blank in trace_worksheet(steps_from_trace(json.loads(render_json(tape.describe()))), 4, seed).blanks]
    assert rounded and all(" ≈ " in text and text.count(" ≈ ") == 1 for text in rounded)
    model, (x, y) = lesson_model(), sample()
    with gg.trace(model) as tape:
        gg.nn.functional.mse_loss(model(x), y).backward()
    exact = [blank.explanation for seed in range(6)
             for blank in trace_worksheet(steps_from_trace(json.loads(render_json(tape.describe()))), 4, seed).blanks]
    assert exact and not any("≈" in text for text in exact)
