"""Stop 49: ``glassgrad --version``, ``--target`` given with a built-in dataset, and counts written for one.

Before: ``glassgrad --version`` was "No such option"; ``train --data moons --target x`` trained on moons'
own labels and ignored the column asked for, without a word; a curve that diverged after one step read
"after 1 steps".
"""

from __future__ import annotations

import importlib.metadata
import math

import pytest

from glassgrad.cli import main
from glassgrad.lessons.experiments import classify


def run(capsys, *argv):
    code = main([str(part) for part in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version_prints_the_installed_distributions_version_and_stops(capsys):
    code, out, err = run(capsys, "--version")
    assert (code, err) == (0, "")
    assert out.strip() == f"glassgrad {importlib.metadata.version('glassgrad')}"


def test_version_is_listed_in_the_help(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "--version" in out


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_target_with_a_built_in_dataset_is_refused_not_ignored(capsys, tmp_path, command):
    argv = (["train", "--data", "moons", "--target", "x", "--epochs", "1", "--save", tmp_path / "m.safetensors"]
            if command == "train" else [])
    if command == "evaluate":
        model = tmp_path / "m.safetensors"
        assert main(["train", "--data", "moons", "--layers", "2,3,2", "--epochs", "1", "--save", str(model)]) == 0
        capsys.readouterr()
        argv = ["evaluate", model, "--target", "x"]
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--target picks a column of a .csv file" in lines[0] and "moons" in lines[0]
    assert "leave --target out" in lines[0]
    if command == "train":
        assert not (tmp_path / "m.safetensors").exists()


def test_a_csv_models_saved_target_column_is_still_read_from_a_csv(capsys, tmp_path):
    """The column a model was trained on stays the default for evaluating on a CSV; on a built-in dataset it is not
    a ``--target`` the user gave, so it is not refused as one."""
    rows = ["a,b,y"] + [f"{i % 7 / 7},{(i * 3) % 5 / 5},{i % 2}" for i in range(40)]
    data = tmp_path / "d.csv"
    data.write_text("\n".join(rows) + "\n")
    model = tmp_path / "m.safetensors"
    assert main(["train", "--data", str(data), "--target", "y", "--layers", "2,3,2", "--epochs", "1",
                 "--save", str(model)]) == 0
    capsys.readouterr()
    code, out, err = run(capsys, "evaluate", model)
    assert code == 0 and "accuracy" in out.lower(), err
    _, _, err = run(capsys, "evaluate", model, "--data", "moons")
    assert "--target" not in err


@pytest.mark.parametrize(("count", "word", "text"), [(0, "step", "0 steps"), (1, "step", "1 step"),
                                                     (2, "update", "2 updates"), (1200, "step", "1,200 steps")])
def test_counted_writes_one_in_the_singular(count, word, text):
    from glassgrad.arguments import counted  # new at stop 49; imported here so the other tests run on older code

    assert counted(count, word) == text


def test_a_curve_that_diverged_after_one_step_says_one_step():
    behaviour, why = classify([0.5, math.nan])
    assert behaviour == "diverging" and why == "the loss became nan after 1 step"
    assert classify([0.5, 0.2, 0.3, 0.25])[1].startswith("the loss rose in ")


@pytest.mark.parametrize("name", ["notes.txt", "course.json"])
def test_learn_course_given_a_file_says_it_is_a_file(capsys, tmp_path, monkeypatch, name):
    """``learn --course FILE`` said "no such course folder" of a file that exists; now it says it is a file, and for
    a course.json names the folder to give instead."""
    monkeypatch.setenv("GLASSGRAD_DATA_DIR", str(tmp_path / "data"))
    given = tmp_path / name
    given.write_text("{}")
    code, _, err = run(capsys, "learn", "--course", given)
    assert code == 2
    line = err.strip()
    assert "\n" not in line and f"{given}: a file, not a course folder" in line
    if name == "course.json":
        assert line.endswith(f"give the folder that holds it, {tmp_path}")
