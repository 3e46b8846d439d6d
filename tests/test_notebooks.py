"""The lesson notebooks: built from tools/build_notebooks.py, one per chapter, and every one runs.

Each notebook is executed with nbclient in a real kernel, as given (its exercise cells say "not answered
yet") and with two copies of every exercise cell added: one with the right answer, worked out here by
hand (the formulas beside each value), which the checker must call right, and one with a wrong answer,
which it must call wrong.
"""

from __future__ import annotations

import copy
import importlib.util
import math
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the dev extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the dev extra installs nbclient")

from glassgrad.course import check, load_course  # noqa: E402
from glassgrad.notebooks import notebook_paths  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _softmax_right_class() -> float:
    """∂L/∂z₂ = ŷ₂ − 1 for z = [1, 2, 0.5], the 2nd class right."""
    exps = [math.exp(1.0), math.exp(2.0), math.exp(0.5)]
    return exps[1] / sum(exps) - 1


def _relu_practice_answer() -> str:
    """The practice problem's answer as glassgrad's generator states it (its own tests check the generator)."""
    from glassgrad import practice

    return practice.number_text(practice.generate("relu-backward", seed=506).answer)


ANSWERS = {
    "01-gradient": {"slope-at-4.5": "2 * (4.5 - 3)", "cubic-slope": "3 * 2**2 - 2"},
    "02-gradient-descent": {"one-step": "0 - 0.1 * 2 * (0 - 3)", "two-steps": "0.6 - 0.1 * 2 * (0.6 - 3)"},
    "03-learning-rate": {"rate-one": "0 - 1 * 2 * (0 - 3)", "gap-factor": "abs(1 - 2 * 1.1)"},
    "04-chain-rule": {"chain-product": "2 * (3 - 1) * 1 * 3", "chain-off": "0"},
    "05-diagonal-flip": {"first-output-gradient": "2 / 4 * (0.1 - 1)", "w2-entry": "2 / 4 * (0.1 - 1) * 0.5",
                         "practice-relu": _relu_practice_answer()},
    "06-numerical-gradients": {"passes": "2 * 31", "eps-estimate": "3 + 0.1**2"},
    "07-softmax-cross-entropy": {"right-class": f"{_softmax_right_class():.3f}", "sum-zero": "0"},
    "08-linear-regression": {"w0-gradient": "-(2 + 4 + 6)", "w1-gradient": "-(2*1 + 4*2 + 6*3)"},
    "09-optimizers": {"accumulated": "3 * 2 * (2 - 3)", "momentum-two": "-(0.1 * 1 + 0.1 * (0.9 * 1 + 1))"},
    "10-vanishing-exploding": {"sigmoid-slope": "0.5 * (1 - 0.5)", "clipped": "3 / 5"},
    "11-fine-tuning": {"trainable": "3 + 1", "frozen-change": "0"},
}
"""Per notebook, per exercise: the right answer as a Python expression, worked out by hand."""


def _exercise_key(cell) -> str | None:
    return cell.get("metadata", {}).get("glassgrad", {}).get("exercise")


def _with_answer(cell, answer: str):
    filled = copy.deepcopy(cell)
    first, _, rest = filled.source.partition("\n")
    assert first.startswith("answer = ..."), f"an exercise cell starts with the answer line, not {first!r}"
    filled.source = f"answer = {answer}\n{rest}"
    return filled


def _augmented(notebook, answers: dict[str, str]):
    """The notebook with, after every exercise cell, a copy answered right and a copy answered wrong."""
    cells = []
    for cell in notebook.cells:
        cells.append(cell)
        key = _exercise_key(cell)
        if key is not None:
            right = _with_answer(cell, answers[key])
            right.metadata["glassgrad"] = {"filled": "right", "exercise": key}
            wrong = _with_answer(cell, f"({answers[key]}) + 1")
            wrong.metadata["glassgrad"] = {"filled": "wrong", "exercise": key}
            cells += [right, wrong]
    for number, cell in enumerate(cells):
        cell.id = f"cell-{number}"
    augmented = copy.deepcopy(notebook)
    augmented.cells = cells
    return augmented


def _text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def test_the_packaged_notebooks_are_what_the_build_script_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    written = build.build(tmp_path)
    assert [path.name for path in written] == [path.name for path in notebook_paths()]
    for fresh, packaged in zip(written, notebook_paths()):
        assert fresh.read_text(encoding="utf-8") == packaged.read_text(encoding="utf-8"), (
            f"{packaged.name} differs from what tools/build_notebooks.py writes: run it again")


def test_one_notebook_per_chapter_in_course_order():
    chapters = load_course().chapters
    assert [int(path.name[:2]) for path in notebook_paths()] == [chapter.number for chapter in chapters]
    assert set(ANSWERS) == {path.stem for path in notebook_paths()}


def test_every_exercise_has_an_answer_here():
    for path in notebook_paths():
        notebook = nbformat.read(path, as_version=4)
        keys = [key for key in map(_exercise_key, notebook.cells) if key]
        assert len(keys) >= 2, f"{path.name} has fewer than two exercises"
        assert sorted(keys) == sorted(ANSWERS[path.stem]), path.name


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda path: path.stem)
def test_notebook_runs_and_its_checks_grade(path, tmp_path):
    notebook = _augmented(nbformat.read(path, as_version=4), ANSWERS[path.stem])
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    verdicts = {"right": 0, "wrong": 0, "unanswered": 0}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("glassgrad", {})
        if "exercise" not in meta:
            continue
        text = _text(cell)
        filled = meta.get("filled")
        if filled is None:
            assert text.startswith("Not answered yet"), f"{path.stem} {meta['exercise']}: {text!r}"
            verdicts["unanswered"] += 1
        elif filled == "right":
            assert text.startswith("Right"), f"{path.stem} {meta['exercise']} right answer: {text!r}"
            verdicts["right"] += 1
        else:
            assert text.startswith("Not quite"), f"{path.stem} {meta['exercise']} wrong answer: {text!r}"
            verdicts["wrong"] += 1
    count = len(ANSWERS[path.stem])
    assert verdicts == {"right": count, "wrong": count, "unanswered": count}


def test_check_grades_with_the_practice_checker():
    assert check(0.6, 0.1 * 6).correct
    assert check("3/2", 1.5).correct
    assert not check(0.45, 0.44).correct
    assert check(..., 0.44).status == "unanswered"
    assert check("1 1/2", 1.5).status == "unreadable"
    assert check(0.333, 1 / 3, tolerance=0.001).correct and not check(0.333, 1 / 3).correct
    assert "<script>" not in check("<script>", 1)._repr_html_()
    noise = sum([0.1, 0.2, -0.3])  # float64 rounding leaves 5.6e-17 where the sum is 0
    assert noise != 0 and str(check(1, noise)) == "Not quite: you answered 1, the answer is 0."
    assert check(0, noise).correct

