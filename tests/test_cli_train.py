"""`glassgrad train / evaluate / predict` end to end, and their one-line errors."""

from __future__ import annotations

import re

import pytest

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
    (["train", "--lr", "-1"], "--lr must be a positive"),
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
