"""One counting convention, stated everywhere: a learner reads positions counting from 1 in every front end.

The same entry — row 2, column 1 of ∂L/∂W₁ in the diagonal-flip network, the code's index (1, 0) — is
named ``∂L/∂W₁[2,1]`` by the trace (text, Markdown, HTML, JSON), the step-through's explanation and its
entry names, a worksheet's key, the landscape (its JSON, ``glassgrad landscape --weights``, its pictures)
and the scalar view's boxes; practice questions and the quiz state the convention and are graded
against it; the README documents it; and no front end adds its own ``+ 1``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad
from glassgrad.lessons import diagonal_flip, lesson
from glassgrad.playground.safety import Fields
from glassgrad.playground.stepper import Walkthrough
from glassgrad.practice import generate, steps_from_trace, trace_worksheet
from glassgrad.practice.quiz import QuizExercise, live_question
from glassgrad.practice.worksheet import problems_markdown
from glassgrad.trace import counting, render

PACKAGE = Path(glassgrad.__file__).parent
ROOT = PACKAGE.parent
CODE_INDEX = (1, 0)
NAME = "∂L/∂W₁[2,1]"  # row 2, column 1, counting from 1


@pytest.fixture(scope="module")
def flip():
    return lesson("diagonal-flip")


@given(st.lists(st.integers(0, 50), min_size=0, max_size=4))
def test_an_entry_is_named_by_its_index_plus_one_and_the_code_index_is_kept_beside(index):
    name = counting.entry("W", tuple(index))
    if not index:
        assert name == "W" and counting.entry_with_code("W", ()) == "W"
        return
    assert [int(n) for n in re.fullmatch(r"W\[(.*)\]", name).group(1).split(",")] == [i + 1 for i in index]
    assert counting.entry_with_code("W", tuple(index)) == f"{name} (W[{', '.join(map(str, index))}] in code)"
    stated = counting.stated("W", tuple(index))
    assert stated.startswith(name + " (") and stated.endswith("counting from 1)")


@pytest.mark.parametrize("format", ["text", "md", "html", "json"])
def test_the_trace_names_the_entry_counting_from_1_in_every_format(flip, format):
    page = " ".join(render(flip, format).split())  # the terminal wraps paragraphs: read them unwrapped
    assert NAME in page and f"{NAME} (∂L/∂W₁[1, 0] in code)" in page
    assert "hidden unit 2 (index 1 in code)" in page  # Z₁ = [0.5, −0.3, 0.2]: the second unit is off
    assert "(model[0] in code)" in page  # a module as its model indexes it, marked as code
    assert flip["forward"][0]["layer"] == "Linear (model[0] in code)"
    assert counting.CONVENTION in page
    assert flip["forward"][1]["output"]["values"][0][diagonal_flip.OFF_UNIT] == 0  # the unit named is the one off
    assert flip["gradients"]["0.weight"][CODE_INDEX] == 0  # and its row of ∂L/∂W₁ is zero


def test_the_trace_json_keeps_the_engines_values_at_the_code_index(flip):
    document = json.loads(render(flip, "json"))
    gradient = np.array(document["gradients"]["0.weight"])
    step = next(s for s in document["backward"] if s["output"]["symbol"] == "∂L/∂W₁")
    dz1, x = np.array(step["inputs"][0]["values"])[0], np.array(step["inputs"][1]["values"])[0]
    assert gradient[CODE_INDEX] == dz1[1] * x[0]  # ∂L/∂W₁[2,1] = ∂L/∂Z₁[2]·X[1], counting from 1


def test_the_step_through_names_the_same_entry_the_same_way(flip):
    walk = Walkthrough(Fields({"example": "diagonal-flip", "actions": "f b b"}))
    view = walk.view()
    assert view["layers"][0]["dW"]["entries"][1][0] == NAME  # the page's aria-label and tooltip name
    assert view["layers"][0]["dW"]["name"] == "dW1"  # the cell id dW1[1,0] keeps the code's index
    from glassgrad.playground.explain import explain

    data = explain(walk, "dW1[1,0]")
    assert data["label"] == NAME
    assert data["text"].startswith(f"{NAME} = ∂L/∂Z₁[2] · X[1] = ")
    assert [term["label"] for term in data["terms"]] == ["∂L/∂Z₁[2]", "X[1]"]
    assert [term["index"] for term in data["terms"]] == [[1], [0]]  # the code's index travels with each term
    assert data["value"] == pytest.approx(flip["gradients"]["0.weight"][CODE_INDEX], abs=1e-7)
    z = explain(walk, "Z1[1]")
    assert z["label"] == "Z₁[2]" and z["value"] < 0  # the hidden unit the trace calls 2
    assert any("Hidden neuron 2 (index 1 in code) is off (Z₁[2] < 0)" in note for note in walk.notes)


def test_the_mlp3_step_through_names_the_prediction_and_the_class_as_the_lesson_does():
    from glassgrad.playground.explain import explain

    walk = Walkthrough(Fields({"example": "mlp3", "actions": "f"}))
    view = walk.view()
    assert view["prediction"]["entries"] == ["ŷ[1]", "ŷ[2]", "ŷ[3]"]  # not "ŷ = softmax(Z₃)[1]"
    assert view["target"]["values"] == [1]  # the class label as the code holds it
    target = explain(walk, "y[0]")
    assert target["result"] == "1" and "class 2 (index 1 in code)" in target["text"]
    assert "class 2 (index 1 in code)" in " ".join(render(lesson("mlp3"), "text").split())  # as the trace says


def test_the_landscape_names_the_entry_the_same_way_and_walks_the_code_entry(flip, tmp_path, capsys):
    from glassgrad.cli import main
    from glassgrad.lessons.landscape import landscape

    data = landscape(("W1[2,1]", "W₁[3,4]"), steps=1, grid_points=5)  # typed as the trace prints them
    first, second = data["weights"]
    assert (first["name"], first["symbol"], first["index"]) == ("W1[2,1]", "W₁[2,1]", [1, 0])
    assert f"∂L/∂{first['symbol']}" == NAME and first["label"] == "W₁[2,1] (W₁[1, 0] in code)"  # as the trace says
    assert (second["symbol"], second["index"]) == ("W₁[3,4]", [2, 3])
    start = data["paths"][0]["points"][0]
    gradients = np.array(flip["gradients"]["0.weight"])
    assert start["gradient"] == [gradients[CODE_INDEX], gradients[2, 3]]  # the engine's ∂L/∂W₁[2,1], ∂L/∂W₁[3,4]
    assert start["gradient"][0] == 0 and start["gradient"][1] == pytest.approx(-0.8)  # hidden unit 2 is off
    assert data["indices"] == counting.CONVENTION
    assert main(["landscape", "--out", str(tmp_path), "--weights", "W1[2,1]", "W1[3,4]", "--grid", "5",
                 "--steps", "1"]) == 0
    assert "L over W₁[2,1] (W₁[1, 0] in code) and W₁[3,4] (W₁[2, 3] in code)" in capsys.readouterr().out
    svg = (tmp_path / "landscape.svg").read_text(encoding="utf-8")
    assert "<!-- W₁[2,1] (W₁[1, 0] in code) -->" in svg  # the map's axis
    assert main(["landscape", "--out", str(tmp_path), "--weights", "W1[1,0]", "W1[3,4]"]) == 2  # 0 is no position
    error = capsys.readouterr().err
    assert "use W1[1..3,1..4]" in error and counting.CONVENTION in error and error.count("\n") == 1


def test_the_scalar_view_names_the_same_entries_the_same_way(flip):
    from glassgrad.trace.scalar import scalar_document

    boxes = {box["name"]: box for box in scalar_document(flip)["boxes"]}
    weight = boxes["W₁[2,1]"]
    assert weight["entry"] == ["W₁", list(CODE_INDEX)] and weight["label"] == "W₁[2,1] (W₁[1, 0] in code)"
    assert weight["grad"] == flip["gradients"]["0.weight"][CODE_INDEX] == 0
    assert boxes["W₁[2,1]·X[1]"]["inputs"] == ["W₁[2,1]", "X[1]"]  # the explanation's terms: ∂L/∂Z₁[2] · X[1]
    assert boxes["X[1]"]["value"] == diagonal_flip.INPUT[0]
    hidden = boxes["Z₁[2]"]  # hidden unit 2 (index 1 in code), the one that is off
    assert hidden["entry"] == ["Z₁", [0, diagonal_flip.OFF_UNIT]] and hidden["value"] < 0
    assert boxes["A₁[2]"]["value"] == 0 and boxes["A₁[2]"]["title"] == "A₁[2] = ReLU(Z₁[2])"
    assert counting.CONVENTION in scalar_document(flip)["note"]


def test_a_worksheet_key_names_the_same_entry_and_grades_the_engines_value(flip):
    steps = steps_from_trace(flip)
    for seed in range(400):
        sheet = trace_worksheet(steps, 8, seed)
        blank = next((b for b in sheet.blanks if b.step == "∂L/∂W₁" and b.index == CODE_INDEX), None)
        if blank is not None:
            break
    assert blank is not None, "no seed blanks ∂L/∂W₁ at row 2, column 1"
    assert blank.explanation.startswith(f"{NAME} = ∂L/∂Z₁[2] · X[1] = ")
    assert blank.check("0").correct and not blank.check("1").correct
    assert counting.CONVENTION in sheet.intro() and counting.CONVENTION in sheet.markdown()


def _product(problem) -> np.ndarray:
    return np.array(problem.tensors["W"], dtype=float) @ np.array(problem.tensors["X"], dtype=float)


def _forward_blank_at(index: tuple) -> object:
    """A Z = W·X problem blanking Z at the code's ``index`` where reading its label from 0 would give another number."""
    for seed in range(500):
        problem = generate("forward-blank", seed, difficulty=3)  # X and Z have 2 columns
        if problem.blank.tensor == "Z" and problem.blank.index == index:
            misread = tuple(n + 1 for n in index)  # the label's numbers taken as a 0-based index
            if _product(problem)[misread] != _product(problem)[index]:
                return problem
    raise AssertionError(f"no forward-blank problem with its blank at Z{list(index)}")


def test_a_practice_question_states_the_convention_and_is_graded_by_it():
    problem = _forward_blank_at(CODE_INDEX)
    assert problem.blank_label == "Z[2,1]"
    assert "the blank is Z[2,1] (row 2, column 1, counting from 1)" in problem.question
    product = _product(problem)  # Z = W·X by hand; the blank is given as None only in Z
    assert problem.check(str(float(product[CODE_INDEX]))).correct  # row 2, column 1, counting from 1
    assert not problem.check(str(float(product[2, 1]))).correct  # "Z[2,1]" misread as a 0-based index
    assert any(line.startswith("Z[2,1] is row 2 of W dotted with") for line in problem.solution)
    assert counting.CONVENTION in problems_markdown([problem], "sheet")


def test_the_playground_practice_and_step_views_state_the_one_convention():
    from glassgrad.playground import bridge

    assert bridge.counting_note() == counting.CONVENTION
    problem = _forward_blank_at(CODE_INDEX)
    shown = generate("forward-blank", problem.seed)  # the playground's default difficulty
    sent = bridge.practice_problem("forward-blank", problem.seed)
    assert sent["blank_label"] == shown.blank_label and sent["blank"]["index"] == list(shown.blank.index)
    assert f"the blank is {counting.stated(shown.blank.tensor, shown.blank.index[:1])}" in sent["question"]
    assert "counting from 1" in sent["question"]
    static = PACKAGE / "playground" / "static"
    assert "counts from 0" not in (static / "practice.js").read_text(encoding="utf-8")
    assert "options.counting" in (static / "step.js").read_text(encoding="utf-8")


def test_the_quiz_names_the_dead_unit_counting_from_1():
    for seed in range(2, 60, 3):  # every third live question is the dead-unit one
        question = live_question(seed)
        numbers = re.search(r"W₁ = \[(.*?)\], b₁ = \[(.*?)\], x = \[(.*?)\]", question.question).groups()
        w1, b1, x = (np.array([[float(v) for v in row.split(", ")] for row in text.split("; ")]) for text in numbers)
        z = (w1 @ x + b1)[:, 0]  # by hand: the unit with Z ≤ 0 is the dead one
        (dead,) = np.flatnonzero(z <= 0)
        exercise = QuizExercise(question)
        assert exercise.right.endswith(f"Row {dead + 1} (hidden unit {dead + 1})")
        assert "Rows count from 1" in question.question
        letter = exercise.right[0]
        assert exercise.grade(letter).correct and not exercise.grade("ABCD"[(question.answer + 1) % 4]).correct


def test_the_readme_documents_the_convention():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Counting positions", 1)[1].split("\n## ", 1)[0]
    assert "count from 1" in section.lower() or "counts from 1" in section.lower()
    assert "W₁[2,1]" in section and "W1[1, 0]" in section and "glassgrad/trace/counting.py" in section
    assert "counts from 0" not in readme and "count from 0, like the code" not in readme


def test_each_example_states_one_loss_convention_as_the_readme_does():
    from glassgrad.course.chapters import load_course
    from glassgrad.course.examples import worked_example
    from glassgrad.lessons.landscape import LOSS_CONVENTION

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = " ".join(readme.split("## Counting positions", 1)[1].split("\n## ", 1)[0].split())
    assert "the diagonal flip uses the mean squared error (`mse_loss`, the mean over the 4 outputs)" in section
    assert "linear regression `L = ½ Σ (y − h(x))²`" in section
    chapters = {chapter.id: " ".join(chapter.text) for chapter in load_course().chapters}
    flip_rows = dict(worked_example("diagonal-flip")["rows"])
    for statement in (LOSS_CONVENTION, chapters["backprop-by-hand"], " ".join(flip_rows)):
        assert "mean" in statement and "over the 4 outputs" in statement and "mse_loss" in statement
    assert "not ½Σ" in LOSS_CONVENTION and "not ½Σ" in chapters["backprop-by-hand"]
    assert "L = ½ Σⱼ (yⱼ − h(xⱼ))²" in chapters["linear-regression"]
    assert "L = ½ Σ (y − h(x))²" in worked_example("linear-regression")["title"]


PLUS_ONE = re.compile(r"\{[A-Za-z_][\w.\[\]()]* ?\+ ?1\}|str\([A-Za-z_][\w.]* \+ 1\)|\$\{[A-Za-z_][\w.]* ?\+ ?1\}")
"""A position written with its own + 1: ``f"row {row + 1}"``, ``str(j + 1)``, JS ``${i + 1}``."""


def test_no_front_end_adds_its_own_plus_one():
    sources = [path for folder in ("trace", "practice", "playground", "lessons", "course")
               for path in sorted((PACKAGE / folder).rglob("*")) if path.suffix in (".py", ".js")]
    sources += [PACKAGE / "commands" / name for name in ("practice.py", "glassbox.py", "landscape.py")]
    found = [f"{path.relative_to(PACKAGE)}: {match.group(0)}" for path in sources
             if path.name != "counting.py"
             for match in PLUS_ONE.finditer(path.read_text(encoding="utf-8"))]
    assert not found, found


COUNTING_FROM_0 = re.compile(r"(indices|positions|rows|index) counts? from 0|\b0-based, as in the code")
"""A learner-facing sentence that names positions counting from 0 (the convention before this one)."""


def test_no_front_end_tells_a_learner_positions_count_from_0():
    sources = [path for folder in ("trace", "playground", "lessons", "course", "commands")
               for path in sorted((PACKAGE / folder).rglob("*")) if path.suffix in (".py", ".js", ".json", ".html")]
    found = [f"{path.relative_to(PACKAGE)}: {match.group(0)}" for path in sources if path.name != "counting.py"
             for match in COUNTING_FROM_0.finditer(path.read_text(encoding="utf-8"))]
    assert not found, found
