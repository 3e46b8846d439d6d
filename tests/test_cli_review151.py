"""Round 151: every command of the ``glassgrad`` command line, as a learner or a teacher meets it.

The standard: bad input gets one line on stderr naming the problem and the fix, a non-zero exit code (2 for what
was asked), no traceback, no NaN printed as a result, no half-written file. Defects fixed here:

- a path under a FILE (``notes.txt/out.json``) was called "the folder notes.txt does not exist; create it first"
  (``--out``, ``--save``, ``--export``, ``gg.save``), advice that fails since ``mkdir notes.txt`` refuses a name a
  file has; a folder option under a file (``--out notes.txt/plots``, ``--folder``) ended in a bare "Not a
  directory", and ``serve --output-dir notes.txt/models`` started the playground, whose saves could only fail;
- ``glassgrad`` alone printed the help and then ``glassgrad: error: failed``;
- ``train --epochs 99999999999999999999999`` (a typo of many digits) started training for ever: now capped, as
  ``experiment --steps`` and ``landscape --steps`` are;
- ``predict --input 0.5`` said "--input has 1 values per row";
- ``practice check set.json -a answrs.txt`` (a mistyped file) graded the file name as the first answer: 0 of n, exit 0.

The rest pins behaviour that already held, on a sample of the inputs tried.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli_hostile77 import model, refused, run  # noqa: F401  (model: the shared moons model)

import glassgrad as gg
from glassgrad import io as gg_io
from glassgrad.cli import main


@pytest.fixture
def a_file(tmp_path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("my notes\n")
    return path


# --- defect: a path under a file --------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["train", "--data", "moons", "--epochs", "1", "--save", "{file}/m.safetensors"],
    ["trace", "diagonal-flip", "--format", "md", "--out", "{file}/t.md"],
    ["gradcheck", "--format", "json", "--out", "{file}/deeper/g.json"],
    ["graph", "diagonal-flip", "--out", "{file}/g.svg"],
    ["practice", "generate", "--count", "1", "--seed", "1", "--out", "{file}/set.json"],
    ["practice", "sheet", "--out", "{file}/sheet.md"],
    ["learn", "--export", "{file}/progress.json"],
])
def test_a_file_path_under_a_file_names_the_file_not_a_missing_folder(capsys, monkeypatch, tmp_path, a_file, argv):
    monkeypatch.setenv("GLASSGRAD_DATA_DIR", str(tmp_path / "data"))
    before = a_file.read_bytes()
    err = refused(capsys, *(part.replace("{file}", str(a_file)) for part in argv))
    assert f"{a_file} is a file, not a folder" in err and "create it first" not in err, err
    assert a_file.read_bytes() == before


@pytest.mark.parametrize("argv", [
    ["landscape", "--grid", "5", "--steps", "1", "--out", "{file}/plots"],
    ["experiment", "zero-grad", "--steps", "2", "--out", "{file}/plots"],
    ["tour", "--out", "{file}/deeper/tour"],
    ["notebook", "--copy-only", "--folder", "{file}/notebooks"],
    ["serve", "--no-browser", "--port", "0", "--output-dir", "{file}/models"],
])
def test_a_folder_option_under_a_file_names_the_file(capsys, monkeypatch, a_file, argv):
    def never(*args, **kwargs):
        raise AssertionError("the command went on past a folder under a file")

    monkeypatch.setattr("glassgrad.commands.serve._listen", never)
    err = refused(capsys, *(part.replace("{file}", str(a_file)) for part in argv))
    assert f": {a_file} is a file, not a folder: " in err and "Not a directory" not in err, err


def test_a_missing_folder_is_still_called_missing(capsys, tmp_path):
    err = refused(capsys, "trace", "diagonal-flip", "--format", "md", "--out", tmp_path / "nowhere" / "t.md")
    assert err.endswith(f"the folder {tmp_path / 'nowhere'} does not exist; create it first")
    err = refused(capsys, "train", "--data", "moons", "--save", tmp_path / "nowhere" / "m.safetensors")
    assert err.endswith("does not exist; create it first")


def test_gg_save_under_a_file_is_a_runtime_error_as_in_torch(torch, a_file):
    with pytest.raises(RuntimeError):
        torch.save(torch.ones(1), str(a_file / "x.pt"))
    with pytest.raises(RuntimeError, match=f"{a_file} is a file, not a folder; give a path in a folder") as caught:
        gg.save({"w": gg.ones(1)}, a_file / "x.safetensors")
    assert isinstance(caught.value, FileNotFoundError)  # still an OSError, for the callers that catch those
    assert a_file.read_text() == "my notes\n"


@settings(max_examples=60, deadline=None)
@given(depth=st.integers(1, 4), file_at=st.integers(0, 4), names=st.lists(st.sampled_from("abc"), min_size=4,
                                                                          max_size=4))
def test_file_in_the_way_finds_the_file_at_any_depth(tmp_path_factory, depth, file_at, names):
    root = tmp_path_factory.mktemp("way")
    parts = [f"{name}{position}" for position, name in enumerate(names[:depth])]
    folder = root.joinpath(*parts)
    if file_at < depth:  # a file stands at parts[file_at]; the folders above it exist
        blocker = root.joinpath(*parts[:file_at + 1])
        blocker.parent.mkdir(parents=True, exist_ok=True)
        blocker.write_text("x")
        assert gg_io.file_in_the_way(folder) == blocker
    else:  # the first (file_at - depth) names are folders, the rest missing: nothing in the way
        root.joinpath(*parts[:file_at - depth]).mkdir(parents=True, exist_ok=True)
        assert gg_io.file_in_the_way(folder) is None


# --- defect: `glassgrad` alone ----------------------------------------------------------------------


def test_glassgrad_alone_shows_the_help_and_no_error_line(capsys):
    code, out, err = run(capsys)
    assert code == 2  # as Click's no_args_is_help exits
    assert "Usage: glassgrad" in out and "train" in out
    assert "error" not in err, err


# --- already right: a sample of the bad input tried -------------------------------------------------


@pytest.mark.parametrize("option, value, expected", [
    ("--lr", "0", "--lr 0 is not allowed"), ("--lr", "nan", "--lr nan is not allowed"),
    ("--lr", "abc", "--lr 'abc' is not allowed"), ("--epochs", "-3", "--epochs -3 is not allowed"),
    ("--epochs", "1.5", "--epochs '1.5' is not allowed"), ("--batch-size", "0", "--batch-size 0 is not allowed"),
    ("--seed", "-1", "--seed -1 is not allowed"), ("--val-fraction", "1", "--val-fraction 1 is not allowed"),
    ("--clip", "inf", "--clip inf is not allowed"), ("--max-parameters", "0", "--max-parameters 0 is not allowed"),
    ("--data", "nope", "unknown --data 'nope'"), ("--layers", "2,0,2", "--layers needs"),
    ("--activation", "foo", "unknown --activation 'foo'"), ("--optimizer", "foo", "unknown --optimizer 'foo'"),
])
def test_train_refuses_bad_options_in_one_line(capsys, option, value, expected):
    assert expected in refused(capsys, "train", "--data", "moons", "--epochs", "1", option, value)


def _damaged_files(folder: Path, source: Path) -> dict[str, Path]:
    raw = source.read_bytes()
    length = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + length])
    files = {"half": raw[:len(raw) // 2], "empty": b"", "two bytes": b"\x01\x02", "text": b"hello, not a model",
             "pickle": b"\x80\x04K\x01.", "huge header length": struct.pack("<Q", 2 ** 60) + raw[8:]}
    for name in ("dtype", "data_offsets"):
        changed = json.loads(json.dumps(header))
        for key, entry in changed.items():
            if key != "__metadata__":
                entry[name] = "Q9" if name == "dtype" else [0, 10 ** 12]
        text = json.dumps(changed).encode()
        text += b" " * (-len(text) % 8)
        files[name] = struct.pack("<Q", len(text)) + text + raw[8 + length:]
    paths = {}
    for name, content in files.items():
        paths[name] = folder / f"{name.replace(' ', '_')}.safetensors"
        paths[name].write_bytes(content)
    (folder / "folder.safetensors").mkdir()
    paths["folder"] = folder / "folder.safetensors"
    paths["missing"] = folder / "missing.safetensors"
    return paths


@pytest.mark.parametrize("command", [["evaluate"], ["predict", "--input", "0.1,0.2"], ["export-torch"]])
def test_damaged_model_files_are_one_line_each(capsys, tmp_path, model, command):  # noqa: F811
    for name, path in _damaged_files(tmp_path, model).items():
        err = refused(capsys, command[0], path, *command[1:])
        assert path.name in err, (name, err)
    assert "never unpickles" in refused(capsys, command[0], tmp_path / "pickle.safetensors", *command[1:])


def test_damaged_problem_sets_are_one_line_each(capsys, tmp_path):
    good = tmp_path / "set.json"
    assert main(["practice", "generate", "--count", "2", "--seed", "1", "--out", str(good)]) == 0
    capsys.readouterr()
    document = json.loads(good.read_text())
    wrong_answer = json.loads(json.dumps(document))
    wrong_answer["problems"][0]["answer"] = "zzz"
    cases = {"truncated.json": good.read_text()[:200], "empty.json": "", "list.json": "[1, 2]",
             "answer.json": json.dumps(wrong_answer)}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        refused(capsys, "practice", "check", tmp_path / name, "-a", "1,2")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    assert "not UTF-8" in refused(capsys, "practice", "check", tmp_path / "binary.json", "-a", "1")
    assert "folder, not a file" in refused(capsys, "practice", "check", tmp_path, "-a", "1")
    assert "3 answers for 2 problems" in refused(capsys, "practice", "check", good, "-a", "1,2,3")


@pytest.mark.parametrize("argv, expected", [
    (["practice", "generate", "--count", "0"], "count must be at least 1"),
    (["practice", "generate", "--count", "100000000"], "more than the 10000 problems"),
    (["practice", "generate", "--size", "1000000", "--kind", "relu-backward"], "choose a size from 2 to 8"),
    (["practice", "sheet", "--blanks", "100000"], "ask for fewer blanks"),
    (["quiz", "--count", "-1"], "count must be at least 1"),
    (["experiment", "learning-rate", "--lrs", "nan"], "learning rates must be positive numbers"),
    (["experiment", "learning-rate", "--steps", "1001"], "--steps must be between 1 and 1000"),
    (["landscape", "--grid", "202"], "--grid must be between 5 and 201"),
    (["landscape", "--weights", "b2[0]", "b2[1]"], "is outside b2"),
    (["learn", "--chapter", "99999999999999999999"], "there is no chapter 99999999999999999999"),
    (["serve", "--port", "70000"], "--port 70000 is out of range"),
    (["serve", "--code-time-limit", "nan"], "--code-time-limit nan is out of range"),
    (["nosuchcommand"], "No such command"),
])
def test_out_of_range_and_unknown_values_are_one_line(capsys, monkeypatch, tmp_path, argv, expected):
    monkeypatch.setenv("GLASSGRAD_DATA_DIR", str(tmp_path / "data"))
    assert expected in refused(capsys, *argv)


def test_predict_counts_one_input_value_in_the_singular(capsys, model):  # noqa: F811
    err = refused(capsys, "predict", model, "--input", "0.5")
    assert err.endswith("--input has 1 value per row but the model expects 2"), err
    assert "--input has 3 values per row" in refused(capsys, "predict", model, "--input", "1,2,3")


@pytest.mark.parametrize("epochs", ["100001", "99999999999999999999999"])
def test_a_typo_of_many_epochs_is_refused_before_training(capsys, monkeypatch, epochs):
    def never(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(gg, "fit", never)
    err = refused(capsys, "train", "--data", "moons", "--epochs", epochs)
    assert f"--epochs {epochs} is more than this tool runs (100,000 passes" in err and "--epochs 30" in err


@pytest.mark.parametrize("item, problem", [("answrs.txt", "no such file"), ("marks/ann", "no such file"),
                                           ("{folder}", "a folder")])
def test_a_mistyped_answers_file_is_refused_not_graded(capsys, tmp_path, item, problem):
    problems = tmp_path / "set.json"
    assert main(["practice", "generate", "--count", "2", "--seed", "1", "--out", str(problems)]) == 0
    capsys.readouterr()
    item = item.replace("{folder}", str(tmp_path))
    err = refused(capsys, "practice", "check", problems, "-a", item)
    assert f"--answers {item!r} is neither an answer nor a file of answers ({problem})" in err


@pytest.mark.parametrize("answer", ["3/2", "1/0", "-2.5", "1e3", "?", "", "x", "1,2"])
def test_answers_that_are_no_file_names_are_still_graded(capsys, tmp_path, answer):
    problems = tmp_path / "set.json"
    assert main(["practice", "generate", "--count", "2", "--seed", "1", "--out", str(problems)]) == 0
    capsys.readouterr()
    code, out, err = run(capsys, "practice", "check", problems, "-a", answer)
    assert code == 0 and "Score: " in out and err == "", err
