"""Round 77: the command line under hostile and careless input (beyond tests/test_cli_hostile_inputs.py).

The standard: bad input gets one clear line on stderr naming the problem and the fix, a non-zero exit code,
and no data lost. Defects fixed here: an output path equal to an input path replaced the input
(``export-torch m --weights m`` left a model without its architecture; ``train --data d.csv --save d.csv``
wrote a model over the data; ``practice sheet --from-trace t.json --out t.json``), Ctrl-C ended with exit
code 130 and nothing on stderr, and ``experiment depth --seed -1`` printed NumPy's "expected non-negative
integer". The rest pins cases that already behaved.
"""

from __future__ import annotations

import pickle
import struct
import zipfile
from pathlib import Path

import pytest

import glassgrad as gg
from glassgrad.cli import main


def run(capsys, *argv):
    code = main([str(part) for part in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refused(capsys, *argv, code: int = 2) -> str:
    got, out, err = run(capsys, *argv)
    assert got == code, (argv, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("glassgrad: error: "), err
    assert "Traceback" not in out + err
    return lines[0]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli77") / "moons.safetensors"
    assert main(["train", "--data", "moons", "--layers", "2,4,2", "--epochs", "1", "--save", str(path)]) == 0
    return path


def copy_of(path: Path, folder: Path) -> Path:
    target = folder / path.name
    target.write_bytes(path.read_bytes())
    return target


# --- defects: an output that is an input ---------------------------------------------------------


def test_export_weights_over_the_model_itself_is_refused_and_the_model_kept(capsys, tmp_path, model):
    mine = copy_of(model, tmp_path)
    before = mine.read_bytes()
    err = refused(capsys, "export-torch", mine, "--weights", mine)
    assert f"--weights {mine} is the model file this command reads" in err and "another file name" in err
    assert mine.read_bytes() == before
    assert run(capsys, "evaluate", mine)[0] == 0  # still a whole model


def test_the_same_file_by_another_spelling_or_a_link_counts(capsys, tmp_path, model):
    mine = copy_of(model, tmp_path)
    link = tmp_path / "link.safetensors"
    link.symlink_to(mine)
    before = mine.read_bytes()
    for target in (tmp_path / "." / mine.name, link):
        refused(capsys, "export-torch", mine, "--weights", target)
    assert mine.read_bytes() == before


def test_train_save_over_its_own_csv_is_refused_before_training(capsys, tmp_path):
    data = tmp_path / "points.csv"
    data.write_text("x1,x2,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(30)))
    before = data.read_bytes()
    err = refused(capsys, "train", "--data", data, "--epochs", "1", "--save", data)
    assert f"--save {data} is the --data file this command reads" in err
    assert data.read_bytes() == before and "training " not in capsys.readouterr().out


def test_a_worksheet_over_its_own_trace_is_refused(capsys, tmp_path):
    trace = tmp_path / "trace.json"
    assert main(["trace", "diagonal-flip", "--format", "json", "--out", str(trace)]) == 0
    capsys.readouterr()
    before = trace.read_bytes()
    err = refused(capsys, "practice", "sheet", "--from-trace", trace, "--out", trace)
    assert "is the --from-trace file this command reads" in err
    assert trace.read_bytes() == before


def test_learn_export_over_the_progress_database_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSGRAD_DATA_DIR", str(tmp_path))
    assert main(["learn", "--map"]) == 0
    capsys.readouterr()
    database = next(tmp_path.glob("progress.*"))
    before = database.read_bytes()
    err = refused(capsys, "learn", "--export", database)
    assert "is the progress file this command reads" in err
    assert database.read_bytes() == before


def test_a_new_or_different_output_is_still_written(capsys, tmp_path, model):
    out = tmp_path / "weights.safetensors"
    code, _, err = run(capsys, "export-torch", model, "--weights", out)
    assert code == 0 and out.exists(), err


# --- defect: Ctrl-C ------------------------------------------------------------------------------


def test_ctrl_c_while_training_is_one_line_with_exit_130_and_saves_nothing(capsys, tmp_path, monkeypatch, model):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(gg, "fit", interrupted)
    kept = copy_of(model, tmp_path)
    before = kept.read_bytes()
    err = refused(capsys, "train", "--data", "moons", "--epochs", "1", "--save", kept, code=130)
    assert "stopped by Ctrl-C" in err and "run the command again" in err
    assert kept.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [kept.name]


# --- defect: experiment seeds --------------------------------------------------------------------


def test_a_negative_experiment_seed_names_the_option(capsys, tmp_path):
    err = refused(capsys, "experiment", "depth", "--seed", "-1", "--steps", "1", "--out", tmp_path)
    assert "--seed -1 is not allowed: give a whole number from 0" in err and "non-negative integer" not in err
    assert not any(tmp_path.iterdir())


# --- pinned: cases that already behaved ----------------------------------------------------------


def foreign_files(folder: Path, model: Path) -> dict[str, tuple[Path, str]]:
    raw = model.read_bytes()
    files = {
        "truncated": (raw[: len(raw) // 2], "it is truncated"),
        "empty": (b"", "too few for a header length"),
        "pickle": (pickle.dumps({"weight": 1}), "never unpickles"),
        "header": (struct.pack("<Q", 2**62) + raw[8:], "wrong header"),
        "json": (struct.pack("<Q", 10) + b"{not json}", "not valid JSON"),
    }
    written = {name: (folder / f"{name}.safetensors", expected) for name, (_, expected) in files.items()}
    for name, (path, _) in written.items():
        path.write_bytes(files[name][0])
    zipped = folder / "torch.pt"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"weight": 1}))
    written["zip"] = (zipped, "ZIP archive")
    other = folder / "other.safetensors"
    gg.save({"fc.weight": gg.zeros(2, 2)}, other, metadata={"source": "another tool"})
    written["no architecture"] = (other, "no architecture")
    return written


@pytest.mark.parametrize("command", ["evaluate", "predict", "export-torch"])
def test_damaged_and_foreign_model_files_are_one_line(capsys, tmp_path, model, command):
    extra = ["--input", "1,2"] if command == "predict" else []
    for name, (path, expected) in foreign_files(tmp_path, model).items():
        err = refused(capsys, command, path, *extra)
        assert str(path) in err and expected in err, (name, err)


@pytest.mark.parametrize("argv, expected", [
    (["train", "--epochs", "0"], "--epochs 0 is not allowed: give a whole number from 1, e.g. --epochs 30"),
    (["train", "--epochs", "abc"], "--epochs 'abc' is not allowed: give a whole number from 1"),
    (["train", "--lr", "nan"], "--lr nan is not allowed: give a positive finite number"),
    (["train", "--lr", "-inf"], "--lr -inf is not allowed: give a positive finite number"),
    (["train", "--val-fraction", "nan"], "--val-fraction nan is not allowed: give a number between 0 and 1"),
    (["train", "--clip", "inf"], "--clip inf is not allowed: give a positive finite"),
    (["train", "--seed", "-1"], "--seed -1 is not allowed: give a whole number from 0"),
    (["train", "--data", "moons", "--layers", "2,-3,2"], "--layers needs"),
    (["train", "--data", "moons", "--epoch", "1"], "Possible options: --epochs"),
    (["trian"], "Did you mean 'train'"),
    (["landscape", "--grid", "4"], "--grid must be between 5 and 201"),
    (["serve", "--code-time-limit", "nan"], "--code-time-limit nan is out of range"),
    (["practice", "generate", "--seed", "-1"], "seed must be a whole number from 0 up"),
])
def test_bad_option_values_are_one_line(capsys, argv, expected):
    assert expected in refused(capsys, *argv)


@pytest.mark.parametrize("content, expected", [
    ("x1,x2,label\n1,nan,0\n2,3,1\n", "missing value ('nan')"),
    ("x1,x2,label\n1,inf,0\n2,3,1\n", "'inf' is not a finite number"),
    ("x1,x2,label\n1,abc,0\n2,3,1\n", "'abc' is not a number"),
    ("x1,x2,label\n1,2\n2,3,1\n", "2 cells, but the header"),
    ("a,b\n1,2\n", "no column named 'label'"),
    ("x1,x2,label\n", "no data rows"),
])
def test_bad_csv_rows_are_one_line_naming_the_place(capsys, tmp_path, model, content, expected):
    data = tmp_path / "bad.csv"
    data.write_text(content)
    for argv in (["train", "--data", data], ["evaluate", model, "--data", data, "--split", "all"]):
        assert expected in refused(capsys, *argv)


def test_writes_into_a_missing_folder_or_onto_a_folder_are_one_line(capsys, tmp_path, model):
    for argv in (["train", "--data", "moons", "--save", tmp_path / "no" / "m.safetensors"],
                 ["export-torch", model, "--weights", tmp_path],
                 ["trace", "diagonal-flip", "--out", tmp_path / "no" / "t.txt"],
                 ["practice", "generate", "--out", tmp_path]):
        refused(capsys, *argv)


# --- defect: a repeated column name picked the wrong column ----------------------------------------


def test_a_repeated_input_column_name_is_refused_not_picked_twice(capsys, tmp_path, model):
    """The moons model takes x1, x2; a file whose header repeats x1 fed its first x1 twice, silently."""
    data = tmp_path / "rows.csv"
    data.write_text("x1,x2,x1\n0.5,0.25,9\n")
    err = refused(capsys, "predict", model, "--input", data)
    assert f"{data}: the header names 'x1' more than once" in err and "give each column its own name" in err


def test_a_model_trained_on_a_repeated_name_reads_the_same_header_as_it_stands(capsys, tmp_path):
    """Trained on columns 'x, x', a file with that header gave column 1 twice: the same row answered otherwise
    from a file than from --input."""
    data = tmp_path / "train.csv"
    data.write_text("x,x,label\n" + "".join(f"{i},{(i * 7) % 5},{int((i * 7) % 5 > 2)}\n" for i in range(40)))
    saved = tmp_path / "m.safetensors"
    assert main(["train", "--data", str(data), "--epochs", "3", "--save", str(saved)]) == 0
    rows = tmp_path / "rows.csv"
    rows.write_text("x,x\n5,0\n")
    capsys.readouterr()
    from_file, from_text = (run(capsys, "predict", saved, "--input", given) for given in (rows, "5,0"))
    assert from_file[0] == from_text[0] == 0 and from_file[1] == from_text[1]


def test_notebook_help_shows_the_install_extra(capsys, monkeypatch):
    """Rich markup read [notebook] as a tag and dropped it: the help said pip install "glassgrad"."""
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["notebook", "--help"]) == 0
    words = " ".join(capsys.readouterr().out.split())  # the help wraps where the terminal ends
    assert 'pip install "glassgrad[notebook]"' in words and 'pip install "glassgrad".' not in words


# --- defects: messages that named the wrong place or the wrong problem -------------------------------


def test_a_non_utf8_byte_is_named_by_its_line(capsys, tmp_path):
    """The CSV reader decodes in blocks, so the message said 'after line 0' for a bad byte on line 3."""
    data = tmp_path / "latin.csv"
    data.write_bytes(b"x1,x2,label\n1,2,0\ncaf\xe9,3,1\n")
    assert f"{data}, line 3: the file is not UTF-8 text (byte 0xe9" in refused(capsys, "train", "--data", data)


def test_a_folder_given_as_a_problem_set_is_called_a_folder(capsys, tmp_path):
    err = refused(capsys, "practice", "check", tmp_path, "-a", "1")
    assert f"{tmp_path} is a folder, not a file" in err and "no such" not in err


# --- defect: a failed run said nothing on stderr -----------------------------------------------------


def test_a_diverging_run_ends_with_one_error_line(capsys, tmp_path):
    """Exit code 1 came with an empty stderr: a script logging errors saw nothing."""
    model = tmp_path / "m.safetensors"
    code, out, err = run(capsys, "train", "--data", "xor", "--optimizer", "sgd", "--lr", "1000", "--save", model)
    assert code == 1 and "Training stopped at epoch" in out and not model.exists()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("glassgrad: error: training diverged at epoch 1"), err
    assert "lower --lr (now 1000)" in lines[0] and f"nothing was saved to {model}" in lines[0]


# --- an empty entry in a comma-separated option (after round 77) ---------------------------------


@pytest.mark.parametrize("argv, option", [
    (["train", "--data", "moons", "--layers", "2,,2", "--epochs", "1"], "--layers"),
    (["train", "--data", "moons", "--layers", "2,8,", "--epochs", "1"], "--layers"),
    (["experiment", "learning-rate", "--lrs", "0.1,,1"], "--lrs"),
])
def test_an_empty_entry_between_commas_is_refused_not_skipped(capsys, argv, option):
    """``--layers 2,,2`` trained a 2-2 network and ``--lrs 0.1,,1`` ran two rates: a number left out was
    skipped without a word, so another network or experiment ran than the one written. Now one line names the
    option, the example and what was given."""
    err = refused(capsys, *argv)
    assert f"{option} must be comma-separated" in err and repr(argv[argv.index(option) + 1]) in err


def test_an_empty_entry_in_a_predicted_row_is_refused(capsys, model):
    err = refused(capsys, "predict", model, "--input", "0.5,")
    assert "--input must be comma-separated numbers or a .csv path, got '0.5,'" in err
