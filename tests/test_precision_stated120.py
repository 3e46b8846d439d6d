"""Round 120: every number a learner sees states its precision, once per output, with the one rounding rule.

The commands run through ``glassgrad.cli.main`` in a temporary folder (GLASSGRAD_DATA_DIR a temporary folder too,
small sizes); the assertions read the printed text and the written files. ``train``, ``evaluate``, ``predict`` and
``landscape`` rounded their numbers without saying so; the tour's first chapters showed the lesson's numbers
before any note; the landscape figure wrote a rounded L without a note; timings went through Python's half-to-even
format. Also: writing into a read-only ``frombuffer`` tensor named ``expand`` as the cause.
"""

from __future__ import annotations

import io
import json

import pytest

import glassgrad as gg
from glassgrad.cli import main
from glassgrad.trace.numbers import PRECISION_NOTE, rounded_text

COLUMNS = 80
TRAINING_NOTE = "values rounded to 4 decimals for display, percentages to 2"
"""What ``train`` and ``evaluate`` print once, under their losses and accuracies (the text a learner reads)."""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A temporary working folder, with the data folder (progress, caches) inside it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLASSGRAD_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def run(capsys, *argv: str) -> list[str]:
    capsys.readouterr()
    assert main(list(argv)) == 0, capsys.readouterr()
    return capsys.readouterr().out.splitlines()


def note_lines(lines: list[str], note: str) -> list[int]:
    """Where ``note`` starts in ``lines``, whole on one line or broken after its ``;`` (both within 80 columns)."""
    found = []
    for number, line in enumerate(lines):
        joined = " ".join(lines[number:number + 2]) if line.endswith(";") else line
        if joined == note:
            found.append(number)
            assert all(len(part) <= COLUMNS for part in lines[number:number + 2])
    return found


@pytest.fixture
def moons_model(workdir, capsys):
    lines = run(capsys, "train", "--data", "moons", "--layers", "2,8,2", "--epochs", "2", "--save", "m.safetensors")
    return lines


def test_rounding_note_is_the_one_rule_of_the_precision_note():
    from glassgrad.trace.numbers import rounding_note

    assert rounding_note() == "values rounded to 4 decimals for display"
    assert rounding_note(4, 2) == TRAINING_NOTE
    assert PRECISION_NOTE.startswith(rounding_note() + " ")


def test_train_states_its_rounding_once_after_the_table(moons_model):
    lines = moons_model
    note = TRAINING_NOTE
    assert note_lines(lines, note) == [lines.index(note)]
    table_end = max(number for number, line in enumerate(lines) if line.startswith("└"))
    assert lines.index(note) == table_end + 1
    assert any(line.rstrip().endswith("%") or "% │" in line for line in lines[:table_end])  # the % it speaks of


def test_evaluate_states_its_rounding(moons_model, capsys):
    lines = run(capsys, "evaluate", "m.safetensors")
    assert lines[-1] == TRAINING_NOTE and len(lines) == 2
    assert "accuracy" in lines[0] and "%" in lines[0]


def test_predict_states_the_decimals_of_its_probabilities(moons_model, capsys):
    lines = run(capsys, "predict", "m.safetensors", "--input", "0.5,0.2")
    assert lines[-1] == "values rounded to 3 decimals for display"
    probabilities = lines[0].split("probabilities ")[1].split()
    assert all(len(p.split(".")[1]) == 3 for p in probabilities)


def test_a_regression_states_four_decimals_and_no_percentages(workdir, capsys):
    note = "values rounded to 4 decimals for display"
    lines = run(capsys, "train", "--data", "linear-1d", "--layers", "1,1", "--epochs", "1", "--save", "r.safetensors")
    assert lines.count(note) == 1 and not any("%" in line for line in lines)
    assert run(capsys, "evaluate", "r.safetensors")[-1] == note
    lines = run(capsys, "predict", "r.safetensors", "--input", "0.5")
    assert lines[0].startswith("prediction ") and lines[-1] == note


def test_landscape_states_the_precision_note_within_80_columns(workdir, capsys):
    lines = run(capsys, "landscape", "--steps", "2", "--grid", "5", "-o", "out")
    assert len(note_lines(lines, PRECISION_NOTE)) == 1
    first = note_lines(lines, PRECISION_NOTE)[0]
    assert first > max(number for number, line in enumerate(lines) if line.startswith("η ="))
    assert all(len(line) <= COLUMNS for line in lines if not line.startswith("wrote"))
    assert json.loads((workdir / "out" / "landscape.json").read_text())["paths"]  # the full numbers, as it says


def test_the_landscape_figure_states_the_precision():
    from glassgrad.lessons.landscape import DEFAULT_WEIGHTS, landscape
    from glassgrad.lessons.landscape_plot import figure

    drawing = figure(landscape(DEFAULT_WEIGHTS, steps=2, grid_points=5))
    assert PRECISION_NOTE in [text.get_text() for text in drawing.texts]


def test_the_tour_states_the_precision_in_its_first_chapter(tmp_path):
    from rich.console import Console

    from glassgrad.lessons.tour import run_tour

    screen = io.StringIO()
    run_tour(tmp_path, digits_epochs=1, console=Console(file=screen, width=COLUMNS))
    text = " ".join(screen.getvalue().split())
    assert text.index(PRECISION_NOTE) < text.index("2. The loss")


def test_timings_round_an_exact_half_away_from_zero():
    """1.125 ms and a ratio of 2.25: Python's format writes 1.12 and 2.2 (half to even), the shared rule 1.13, 2.3."""
    from glassgrad.lessons.diagonal_flip import gradient_check, gradient_check_document

    check = dict(gradient_check(), numerical_seconds=0.001125, backprop_seconds=0.0005)
    assert check["numerical_seconds"] * 1e3 == 1.125 and check["backprop_seconds"] * 1e3 == 0.5
    values = {row["label"]: row["value"] for row in gradient_check_document(check)["summary"]}
    assert "1.13 ms" in values["numerical method"] and "0.5 ms" in values["backprop"]
    assert values["backprop was faster by"].startswith("×2.3 ")
    assert rounded_text(1.125, 3, "g") == "1.13" and f"{1.125:.3g}" == "1.12"


def test_writing_into_frombuffer_of_bytes_names_read_only_memory_and_the_fix(torch, monkeypatch):
    from glassgrad import creation

    monkeypatch.setattr(creation, "warn_once", lambda message: None)  # the once-a-process warning: other tests see it
    tensor = gg.frombuffer(b"abcdefgh", dtype=gg.uint8)
    for write in (lambda: tensor.add_(1), lambda: tensor.__setitem__(0, 1), lambda: tensor.view(2, 4)[0].zero_()):
        with pytest.raises(RuntimeError) as caught:  # PyTorch's class for a write it refuses
            write()
        message = str(caught.value)
        assert "\n" not in message and "expand" not in message
        assert "read-only" in message and "frombuffer" in message and "bytearray(b)" in message
        assert message.index("read-only") < message.index("clone()")
    assert tensor.tolist() == list(b"abcdefgh")


def test_writing_into_an_expanded_view_keeps_pytorchs_words(torch):
    errors = []
    for lib in (torch, gg):
        with pytest.raises(RuntimeError) as caught:
            lib.ones(2).expand(3, 2).add_(1)
        errors.append(str(caught.value))
    assert "single memory location" in errors[0] and "single memory location" in errors[1]
    assert "expand" in errors[1] and "read-only" not in errors[1]


def test_writing_into_a_meta_placeholder_names_meta():
    model = gg.nn.Linear(2, 2).to("meta")
    with pytest.raises(RuntimeError, match="'meta'") as caught:
        model.weight.data.add_(1)
    assert "frombuffer" not in str(caught.value) and "expand" not in str(caught.value)
