"""The course as data: the packaged chapters load and follow the lessons; bad chapter files are refused
in one line that names the file; a teacher's folder can reorder and add chapters."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction

import numpy as np
import pytest

from glassgrad.course import CourseError, load_course
from glassgrad.course.chapters import packaged_folder, practice_problems, quiz_bank_ids, quiz_questions
from glassgrad.course.examples import EXAMPLES, worked_example
from glassgrad.lessons import EXPERIMENTS, LESSONS
from glassgrad.practice import KINDS

LESSON_ORDER = ["gradient", "gradient-descent", "learning-rate", "chain-rule", "backprop-by-hand",
                "numerical-gradients", "softmax-cross-entropy", "linear-regression", "optimizers",
                "vanishing-exploding", "fine-tuning"]


def test_the_packaged_course_follows_the_lessons_order():
    course = load_course()
    assert [chapter.id for chapter in course.chapters] == LESSON_ORDER
    assert [chapter.number for chapter in course.chapters] == list(range(1, len(LESSON_ORDER) + 1))


def test_every_chapter_names_things_that_exist():
    bank = set(quiz_bank_ids())
    for chapter in load_course().chapters:
        assert chapter.example in EXAMPLES
        known = {"trace": LESSONS, "experiment": EXPERIMENTS, "gradcheck": {"diagonal-flip"}}[chapter.activity["kind"]]
        assert chapter.activity["name"] in known
        assert all(practice.kind in KINDS for practice in chapter.practice)
        assert set(chapter.quiz) <= bank
        assert len(chapter.text) >= 2 and sum(map(len, chapter.text)) > 300


def test_attempts_are_seeded_and_a_second_attempt_asks_new_numbers():
    chapter = load_course().chapter("gradient-descent")
    first, again, second = practice_problems(chapter, 0), practice_problems(chapter, 0), practice_problems(chapter, 1)
    assert [p.to_dict() for p in first] == [p.to_dict() for p in again]
    assert [p.to_dict() for p in first] != [p.to_dict() for p in second]
    questions = quiz_questions(chapter, 0)
    assert [q.question for q in questions] == [q.question for q in quiz_questions(chapter, 0)]
    for question in questions:  # the right option survives the shuffle
        assert sorted(question.options) == sorted(set(question.options))


def test_pass_mark_rounds_up():
    course = load_course()
    assert course.pass_mark == 0.5
    assert [course.needed(n) for n in (1, 2, 3, 4)] == [1, 1, 2, 2]


# --- the worked examples, against oracles computed here -------------------------------------------------------

def _rows(key: str) -> dict[str, str]:
    return dict(map(tuple, worked_example(key)["rows"]))


def test_slope_example_matches_the_derivative_by_hand():
    rows = _rows("slope-three-cases")
    for w in (1, 3, 5):
        slope = 2 * (w - 3)
        assert f"∂L/∂w = {slope:g} " in rows[f"w = {w}"] and f"L = {(w - 3) ** 2:g}," in rows[f"w = {w}"]
    assert "negative" in rows["w = 1"] and "zero" in rows["w = 3"] and "positive" in rows["w = 5"]


def test_descent_and_learning_rate_examples_follow_the_update_rule():
    rows = _rows("descent-steps")
    w = 0.0
    for step in range(6):
        assert rows[f"step {step}"] == f"w = {w:.6g}, L = {(w - 3) ** 2:.6g}"
        w -= 0.1 * 2 * (w - 3)
    rates = _rows("learning-rates")
    for rate in (0.001, 0.1, 1, 10):
        w = 0.0
        for _ in range(10):
            w -= rate * 2 * (w - 3)
        assert rates[f"η = {rate:g}"].startswith(f"after 10 steps w = {w:.6g}, L = {(w - 3) ** 2:.6g}")


def test_softmax_example_gradient_is_y_hat_minus_y():
    scores = np.array([1.0, 2.0, 0.5])
    y_hat = np.exp(scores) / np.exp(scores).sum()
    expected = "[" + ", ".join(f"{v:.4g}" for v in y_hat - [0, 1, 0]) + "]"
    rows = _rows("softmax-gradient")
    assert rows["ŷ − y"] == expected and rows["glassgrad's backward pass: ∂L/∂z"] == expected
    assert rows["L = −log ŷ₂"] == f"{-np.log(y_hat[1]):.4f}"


def test_gradient_check_example_counts_two_passes_per_parameter():
    rows = _rows("gradient-check")
    assert rows["parameters"] == "31"
    assert rows["finite differences"].startswith("62 forward passes")
    assert rows["verdict"] == "they agree" and float(rows["largest |backprop − numerical|"]) < 1e-7


def test_linear_regression_example_rule_equals_descent():
    rows = _rows("linear-regression")
    assert rows["w₀ + α Σ (y − h(x))"] == rows["w₀ − α ∂L/∂w₀"]
    assert rows["w₁ + α Σ (y − h(x))·x"] == rows["w₁ − α ∂L/∂w₁"]
    gradient0, gradient1 = (float(v) for v in rows["∂L/∂w₀, ∂L/∂w₁ (backward)"].split(", "))
    assert gradient0 == pytest.approx(-float(rows["Σ (y − h(x))"]), rel=1e-5)
    assert gradient1 == pytest.approx(-float(rows["Σ (y − h(x))·x"]), rel=1e-5)


def test_the_other_examples_show_what_their_chapters_claim():
    chain = _rows("chain-factors")
    assert chain["product"] == chain["glassgrad's backward pass: ∂L/∂w"] == "8"  # 2·(3 − 1) · 1 · 2
    flip = _rows("diagonal-flip")
    assert flip["ŷ = W₂·A₁ + b₂"] == "[0.1, -0.1, -0.05, -0.25]"
    assert flip["L = mean((ŷ − y)²) over the 4 outputs (mse_loss)"] == "0.8963"
    # A₁ = [0.5, 0, 0.2]: one unit is off, the 2nd (a bare "2" under "switched-off hidden units" read as a count)
    assert flip["A₁ = ReLU(W₁·x + b₁)"] == "[0.5, 0, 0.2]"
    assert flip["switched-off hidden units (A₁ = 0)"] == "unit 2" and flip["their rows of ∂L/∂W₁"] == "[0, 0, 0, 0]"
    grads = _rows("accumulation")
    assert [grads[f"after backward() #{n}"] for n in (1, 2)] == ["w.grad = -2", "w.grad = -4"]
    deep = _rows("deep-gradients")
    sigmoid_ratio = float(deep["sigmoid: ‖∂L/∂W‖ first / last layer"].split("ratio ")[1].rstrip(")"))
    relu_ratio = float(deep["relu: ‖∂L/∂W‖ first / last layer"].split("ratio ")[1].rstrip(")"))
    assert sigmoid_ratio < 1e-3 < relu_ratio
    assert deep["clip_grad_norm_(max_norm=1) on g = [3, 4]"] == "norm 5 → [0.6, 0.8]"
    frozen = _rows("frozen-layer")
    assert frozen["first layer's largest change"] == "0" and float(frozen["last layer's largest change"]) > 0


# --- a teacher's own course, and bad files ---------------------------------------------------------------------

@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "course"
    shutil.copytree(packaged_folder(), target)
    return target


def _edit(path, **changes):
    document = json.loads(path.read_text(encoding="utf-8"))
    document.update(changes)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def test_a_teacher_reorders_and_adds_chapters_by_file_name(folder):
    (folder / "03-learning-rate.json").rename(folder / "00-learning-rate.json")
    extra = json.loads((folder / "01-gradient.json").read_text(encoding="utf-8"))
    extra.update(id="my-chapter", title="My own chapter")
    (folder / "99-mine.json").write_text(json.dumps(extra), encoding="utf-8")
    course = load_course(folder)
    assert course.chapters[0].id == "learning-rate" and course.chapters[-1].id == "my-chapter"
    assert course.chapter(12).title == "My own chapter"


@pytest.mark.parametrize("change, message", [
    (lambda p: p.write_text("{", encoding="utf-8"), "not valid JSON"),
    (lambda p: p.write_bytes(b"\xff\xfe{}"), "not UTF-8"),
    (lambda p: _edit(p, title=""), "at title"),
    (lambda p: _edit(p, map_part="liver"), "at map_part"),
    (lambda p: _edit(p, surprise=1), "Additional properties"),
    (lambda p: _edit(p, example="no-such-example"), "unknown example 'no-such-example'"),
    (lambda p: _edit(p, activity={"kind": "experiment", "name": "nope"}), "unknown experiment 'nope'"),
    (lambda p: _edit(p, practice=[{"kind": "long-division", "count": 2, "seed": 1}]), "unknown kind 'long-division'"),
    (lambda p: _edit(p, practice=[{"kind": "gd-update", "count": 2, "seed": 1, "size": 8}]), "size 8 does not fit"),
    (lambda p: _edit(p, quiz=["no-such-question"]), "unknown quiz question 'no-such-question'"),
    (lambda p: _edit(p, id="gradient-descent"), "already used by 01-gradient.json"),
])
def test_a_bad_chapter_file_is_refused_in_one_line_naming_it(folder, change, message):
    bad = folder / "01-gradient.json"
    change(bad)
    with pytest.raises(CourseError, match=message) as caught:
        load_course(folder)
    text = str(caught.value)
    assert "\n" not in text and text.startswith(str(folder))


def test_bad_course_folders_are_refused_in_one_line(tmp_path, folder):
    with pytest.raises(CourseError, match="no such course folder"):
        load_course(tmp_path / "missing")
    (folder / "course.json").unlink()
    with pytest.raises(CourseError, match="course.json: missing"):
        load_course(folder)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "course.json").write_text('{"id": "x", "title": "X"}', encoding="utf-8")
    with pytest.raises(CourseError, match="no chapter files"):
        load_course(empty)
    (empty / "course.json").write_text('{"id": "x", "title": "X", "pass_mark": 2}', encoding="utf-8")
    with pytest.raises(CourseError, match="course.json: at pass_mark"):
        load_course(empty)


def test_unknown_chapter_numbers_and_ids_are_refused():
    course = load_course()
    with pytest.raises(CourseError, match="there is no chapter 12: choose 1 to 11"):
        course.chapter(12)
    with pytest.raises(CourseError, match="no chapter 'nope'"):
        course.chapter("nope")


def test_right_answers_helper_really_is_right():
    """The tests' answer helper grades as the practice grader does (so the CLI tests can trust it)."""
    from course_answers import right_answers, wrong_answers

    chapter = load_course().chapter("softmax-cross-entropy")
    problems = practice_problems(chapter, 0)
    right, _ = right_answers(chapter)
    wrong, _ = wrong_answers(chapter)
    assert all(p.check(a).correct for p, a in zip(problems, right))
    assert not any(p.check(a).correct for p, a in zip(problems, wrong))
    assert all(isinstance(p.answer, Fraction) for p in problems)
