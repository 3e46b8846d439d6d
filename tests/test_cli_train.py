"""`glassgrad train / evaluate / predict` end to end, and their one-line errors."""

from __future__ import annotations

import fcntl
import os
import pickle
import pty
import re
import struct
import subprocess
import sys
import termios

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def validation_accuracy(output: str) -> float:
    row = re.search(r"validation\s*│?\s*([\d.]+)\s*│?\s*([\d.]+)%", output)
    assert row, output
    return float(row.group(2)) / 100


def test_digits_defaults_reach_97_percent(capsys, tmp_path):
    model = tmp_path / "digits.safetensors"
    code, out, err = run(capsys, "train", "--data", "digits", "--seed", "0", "--save", str(model))
    assert code == 0, err
    assert validation_accuracy(out) >= 0.97
    code, out, err = run(capsys, "evaluate", str(model))
    assert code == 0, err
    accuracy = float(re.search(r"accuracy ([\d.]+)%", out).group(1)) / 100
    assert accuracy >= 0.97
    code, out, err = run(capsys, "predict", str(model), "--input", ",".join(["0"] * 64))
    assert code == 0, err
    assert re.match(r"class \d  probabilities( [\d.]+){10}", out.strip())


def test_moons_2_16_16_1_reaches_98_percent(capsys):
    code, out, err = run(capsys, "train", "--data", "moons", "--layers", "2,16,16,1", "--seed", "0")
    assert code == 0, err
    assert "bce" in out
    assert validation_accuracy(out) >= 0.98


@pytest.mark.parametrize("argv, message", [
    (["train", "--data", "nope"], "unknown --data"),
    (["train", "--layers", "64,x,10"], "--layers must be comma-separated"),
    (["train", "--layers", "3,10"], "starts with 3"),
    (["train", "--lr", "-1"], "--lr -1 is not allowed: give a positive finite number, e.g. --lr 0.01"),
    (["train", "--optimizer", "magic"], "unknown --optimizer"),
    (["train", "--epochs", "many"], "epochs"),
    (["evaluate", "missing.safetensors"], "does not exist"),
])
def test_bad_arguments_give_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_bad_options_are_refused_before_any_training(capsys, tmp_path):
    for argv, message in [
        (["--clip", "-1"], "--clip -1 is not allowed: give a positive finite number, e.g. --clip 1.0"),
        (["--clip", "nan"], "--clip nan is not allowed: give a positive finite number"),
        (["--seed", "-1"], "--seed -1 is not allowed: give a whole number from 0"),
        (["--save", str(tmp_path / "no_folder" / "m.safetensors")], "does not exist; create it first"),
        (["--save", str(tmp_path)], "is a folder; give a file name"),
    ]:
        code, out, err = run(capsys, "train", *argv)
        assert code == 2, argv
        assert message in err and len(err.strip().splitlines()) == 1, err
        assert "training" not in out  # refused up front, not after the epochs


def test_a_diverging_run_stops_with_the_reason_and_saves_nothing(capsys, tmp_path):
    model = tmp_path / "m.safetensors"
    code, out, err = run(capsys, "train", "--optimizer", "sgd", "--lr", "1000", "--save", str(model))
    assert code == 1, err
    assert "Training stopped at epoch 1, step 2: the loss rose from 2.35 at step 1 to" in out
    assert "lower the learning rate (now 1000)" in out and out.count("Training stopped") == 1
    assert f"nothing was saved to {model}" in out and not model.exists()
    assert "Traceback" not in out + err


def test_a_network_that_learned_nothing_is_pointed_out(capsys):
    code, out, err = run(capsys, "train", "--optimizer", "sgd", "--lr", "3", "--epochs", "3")
    assert code == 0, err
    assert "no better than always answering the most common class" in out  # lr 3 kills every ReLU here


def test_the_table_shows_the_final_model_as_evaluate_sees_it(capsys, tmp_path):
    model = tmp_path / "moons.safetensors"
    code, out, err = run(capsys, "train", "--data", "moons", "--layers", "2,8,1", "--epochs", "3", "--save", str(model))
    assert code == 0, err
    train_row = re.search(r"train\s*│\s*([\d.]+)\s*│\s*([\d.]+)%", out)
    epoch_lines = re.findall(r"^ +\d+ +[\d.]+ .*$", out, flags=re.MULTILINE)  # under one heading (round 115)
    assert len(epoch_lines) == 3 and "after 3 epochs" in out  # not a terminal: one line per epoch, no bar
    for split, shown in (("train", train_row.groups()), ("val", (None, str(validation_accuracy(out) * 100)))):
        code, evaluated, err = run(capsys, "evaluate", str(model), "--split", split)
        assert code == 0, err
        accuracy = re.search(r"accuracy ([\d.]+)%", evaluated).group(1)
        assert float(accuracy) == pytest.approx(float(shown[1]), abs=1e-9)
        if shown[0] is not None:
            assert re.search(r"loss ([\d.]+)", evaluated).group(1) == shown[0]


def write_pets(path, rows, columns=("weight", "label", "height")):
    lines = [",".join(columns)]
    for weight, height, label in rows:
        cells = {"weight": f"{weight:.3f}", "height": f"{height:.3f}", "label": label}
        lines.append(",".join(cells[column] for column in columns))
    path.write_text("\n".join(lines) + "\n")


def pets(n, seed):
    """Three separable classes by (weight, height), named by text labels."""
    rng = np.random.default_rng(seed)
    centres = {"bird": (0.0, 0.0), "cat": (3.0, 0.0), "dog": (0.0, 3.0)}
    names = rng.choice(list(centres), n)
    return [(centres[name][0] + rng.normal(0, 0.5), centres[name][1] + rng.normal(0, 0.5), name) for name in names]


def test_csv_training_end_to_end_matches_columns_and_classes_by_name(capsys, tmp_path):
    write_pets(tmp_path / "pets.csv", pets(300, seed=0))
    model = tmp_path / "pets.safetensors"
    code, out, err = run(capsys, "train", "--data", str(tmp_path / "pets.csv"), "--epochs", "10", "--save", str(model))
    assert code == 0, err
    assert "2 → 256 → 3" in out and validation_accuracy(out) > 0.9
    # new data: only dogs and cats, columns in another order, so sorted labels would give other ids
    new_rows = [row for row in pets(60, seed=1) if row[2] != "bird"]
    write_pets(tmp_path / "new.csv", new_rows, columns=("label", "height", "weight"))
    code, out, err = run(capsys, "evaluate", str(model), "--data", str(tmp_path / "new.csv"), "--split", "all")
    assert code == 0, err
    shown = float(re.search(r"accuracy ([\d.]+)%", out).group(1)) / 100
    # the oracle: the saved weights applied by hand, in the training column order (weight, height)
    saved = gg.load(model)
    hidden = np.maximum(0, np.array([r[:2] for r in new_rows], np.float32) @ saved["model"]["0.weight"].array.T
                        + saved["model"]["0.bias"].array)
    scores = hidden @ saved["model"]["2.weight"].array.T + saved["model"]["2.bias"].array
    names = saved["training"]["class_names"]
    assert names == ["bird", "cat", "dog"]
    expected = np.mean([names[k] == row[2] for k, row in zip(scores.argmax(1), new_rows)])
    assert shown == pytest.approx(expected, abs=5e-5) and expected > 0.9
    code, out, err = run(capsys, "predict", str(model), "--input", str(tmp_path / "new.csv"))
    assert code == 0, err
    predicted = re.findall(r"^class (\w+)  probabilities", out, flags=re.MULTILINE)
    assert predicted == [names[k] for k in scores.argmax(1)]
    write_pets(tmp_path / "odd.csv", [(1.0, 1.0, "fish")])
    code, out, err = run(capsys, "evaluate", str(model), "--data", str(tmp_path / "odd.csv"), "--split", "all")
    assert code == 2 and "labels 'fish' that the model never saw" in err


@pytest.fixture(scope="module")
def moons_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "moons.safetensors"
    assert main(["train", "--data", "moons", "--layers", "2,8,1", "--epochs", "2", "--save", str(path)]) == 0
    return path


def test_evaluate_and_predict_refuse_bad_inputs_in_one_line(capsys, tmp_path, moons_model):
    raw = moons_model.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "pickle.safetensors").write_bytes(pickle.dumps({"weight": [1.0]}))
    saved = gg.load(moons_model)
    saved["model"]["0.weight"] = gg.zeros(8, 3)
    gg.save(saved, tmp_path / "mismatch.safetensors")
    (tmp_path / "wide.csv").write_text("1,2,3\n4,5,6\n")
    (tmp_path / "ragged.csv").write_text("x1,x2\n1,2\n3\n")
    cases = [
        (["evaluate", str(tmp_path / "cut.safetensors")], "it is truncated"),
        (["predict", str(tmp_path / "pickle.safetensors"), "--input", "1,2"], "it is a Python pickle"),
        (["evaluate", str(tmp_path / "mismatch.safetensors")], "weights do not fit its architecture (size mismatch"),
        (["evaluate", str(moons_model), "--data", "digits"], "digits lacks input column(s) the model was trained with"),
        (["predict", str(moons_model), "--input", str(tmp_path / "wide.csv")], "--input has 3 values per row"),
        (["predict", str(moons_model), "--input", str(tmp_path / "ragged.csv")], "line 3: 1 cells, but the header"),
        (["predict", str(moons_model), "--input", "1,nan"], "--input value 2 (nan) is not a finite float32 number"),
        (["predict", str(moons_model), "--input", "1,x"], "--input must be comma-separated numbers"),
    ]
    for argv, message in cases:
        code, out, err = run(capsys, *argv)
        assert code == 2, (argv, err)
        assert message in err and len(err.strip().splitlines()) == 1, (argv, err)
        assert "Traceback" not in out + err


def run_in_terminal(*argv: str, columns: int | None = None, env: dict | None = None,
                    code: str = "from glassgrad.cli import entry_point; entry_point()") -> str:
    """Run the CLI (or ``code``) with a pseudo-terminal as its output (what a user at a console sees): 100 columns
    by ``COLUMNS``, or a terminal of ``columns`` columns with ``COLUMNS`` unset; ``env`` adds to the environment."""
    leader, follower = pty.openpty()
    environment = {**os.environ, "COLUMNS": "100"}
    if columns is not None:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        environment = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    process = subprocess.Popen([sys.executable, "-c", code, *argv], stdin=subprocess.DEVNULL, stdout=follower,
                               stderr=follower, env={**environment, **(env or {})})
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process has exited
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_gets_a_progress_bar_and_each_message_once():
    shown = run_in_terminal("train", "--data", "moons", "--epochs", "3")
    assert "75/75" in shown and "━" in shown and "epoch 3/3" in shown  # rich's bar: 3 epochs × 25 batches
    assert "epoch  train loss" not in shown  # no log lines (their heading) under a bar
    diverging = run_in_terminal("train", "--data", "moons", "--optimizer", "sgd", "--lr", "1000", "--epochs", "3")
    assert diverging.count("Training stopped at epoch 1") == 1


def test_an_unwritable_save_path_is_a_one_line_error(capsys, tmp_path):
    code, out, err = run(capsys, "train", "--data", "xor", "--epochs", "1", "--save", str(tmp_path))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
