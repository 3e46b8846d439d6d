"""Round 160: the CLI's errors and help in the CLI's own words, and practice sheets that give nothing away.

* An error from the library names its fix as a Python keyword (``pass target=<column name>``); the CLI shows
  it as the option (``pass --target <column name>``), and ``--loss mse`` reads a CSV target as quantities.
* ``--help`` shows no ``<bool>`` beside a flag and no ``<list[str]>``; a refused number is quoted as typed.
* A trace worksheet never blanks a number that a shown step gives back with one subtraction and one
  division (``ŷ`` beside ``∂L/∂ŷ = 2(ŷ − y)/4``, ``Z₁`` beside ``A₁ = ReLU(Z₁)`` where ``Z₁ > 0``).
* A numerical-gradient problem never has a parameter that moves no prediction (``v = 0``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.cli import main
from glassgrad.commands.train import _load_data
from glassgrad.lessons import lesson
from glassgrad.practice.numerical_gradient import numerical_gradient
from glassgrad.practice.trace_steps import steps_from_trace
from glassgrad.practice.worksheet import choose_blanks


def refused(capsys, *argv: str) -> str:
    code = main(list(argv))
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("glassgrad: error: "), (code, err)
    return lines[0]


# --- errors in the CLI's words ------------------------------------------------------------------------------------

def test_a_csv_without_the_target_column_names_the_option_in_the_cli_and_the_keyword_in_python(tmp_path, capsys):
    path = tmp_path / "f.csv"
    path.write_text("a,b,c\n1,2,0\n3,4,1\n", encoding="utf-8")
    for argv in (["--data", str(path)], ["--data", str(path), "--target", "zz"]):
        line = refused(capsys, "train", *argv, "--epochs", "1")
        assert "pass --target <column name> or a column index" in line and "target=" not in line, line
    with pytest.raises(ValueError, match=r"pass target=<column name> or a column index"):
        gg.data.load_csv(path, target="zz")


def test_a_huge_whole_number_label_points_cli_users_to_loss_mse(tmp_path, capsys):
    path = tmp_path / "big.csv"
    path.write_text("a,label\n1,100000000000000000000\n3,1\n5,2\n", encoding="utf-8")
    line = refused(capsys, "train", "--data", str(path), "--epochs", "1")
    assert "or use --loss mse if it is a quantity" in line and "task=" not in line, line
    with pytest.raises(ValueError, match=r"or use task='regression' if it is a quantity"):
        gg.data.load_csv(path)


def test_loss_mse_trains_on_the_csv_targets_as_written(tmp_path):
    """**silent** on BASE: whole-number targets with a negative one became class ids 0, 1, 2, … under --loss mse."""
    path = tmp_path / "neg.csv"
    values = [-3, 0, 5, -3, 12]
    path.write_text("x,label\n" + "".join(f"{k},{v}\n" for k, v in enumerate(values)), encoding="utf-8")
    targets = _load_data(str(path), None, 0, loss="mse").tensors[1].array
    np.testing.assert_array_equal(np.ravel(targets), values)
    assert _load_data(str(path), None, 0).tensors[1].array.tolist() == [0, 1, 2, 0, 3]  # auto: class ids, as before


@pytest.mark.parametrize("argv, typed", [(["--lr", "1e400"], "--lr 1e400"), (["--lr=1E400"], "--lr 1E400"),
                                         (["--clip", "1e999"], "--clip 1e999"), (["--lr", "-1e400"], "--lr -1e400")])
def test_a_refused_number_is_quoted_as_typed(capsys, argv, typed):
    line = refused(capsys, "train", *argv)
    assert f"error: {typed} is not allowed: give a positive finite number" in line and "inf" not in line, line


COMMANDS = [[], ["rules"], ["train"], ["evaluate"], ["predict"], ["serve"], ["quiz"], ["practice"],
            ["practice", "generate"], ["practice", "check"], ["practice", "sheet"], ["trace"], ["gradcheck"],
            ["graph"], ["experiment"], ["tour"], ["learn"], ["landscape"], ["notebook"], ["export-torch"]]


@pytest.mark.parametrize("columns", ["80", "120"])
def test_help_shows_no_type_beside_a_flag(monkeypatch, capsys, columns):
    monkeypatch.setenv("COLUMNS", columns)
    for command in COMMANDS:
        assert main([*command, "--help"]) == 0
        shown = capsys.readouterr().out
        assert "--help" in shown and "<bool>" not in shown and "list[" not in shown, (command, shown)
        help_line = next(line for line in shown.splitlines() if "--help" in line)
        assert "<" not in help_line, (command, help_line)


# --- trace worksheets: no blank read back from a shown number ---------------------------------------------------

def _read_back(lesson_name: str, steps: dict) -> list:
    """Hand-derived: (step, predicate on an entry) for the entries a shown step gives back in one line."""
    if lesson_name == "linear-regression":  # h = w₀ + v₁, ∂L/∂h = 2(h − y)·∂L/∂SSE, L = 0.5·SSE, ∂L/∂v₁ = ∂L/∂h
        return [(name, lambda index: True) for name in ("v₁", "h(x)", "SSE", "∂L/∂h(x)")]
    found = []
    for k in (1, 2):
        z = steps.get(f"Z{'₀₁₂'[k]}")
        if z is not None:  # A = ReLU(Z) and ∂L/∂Z = ∂L/∂A ⊙ ReLU'(Z) give Z and ∂L/∂A back where Z > 0
            found += [(name, lambda index, z=z: z.output[index] > 0) for name in (z.name, f"∂L/∂A{'₀₁₂'[k]}")]
    if lesson_name == "diagonal-flip":  # ∂L/∂ŷ = 2(ŷ − y)/4 with y given gives every ŷ back
        found.append(("ŷ", lambda index: True))
    return found


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(["diagonal-flip", "mlp3", "linear-regression"]), seed=st.integers(0, 2**32 - 1),
       count=st.integers(1, 4))
def test_no_blank_can_be_read_back_from_a_shown_number(name, seed, count):
    steps = steps_from_trace(lesson(name))
    by_name = {step.name: step for step in steps}
    try:
        picked = choose_blanks(steps, count, seed)
    except ValueError:  # fewer solvable entries than asked for with this seed's choice of steps
        assume(False)
    giveaways = _read_back(name, by_name)
    for position, index in picked:
        for step_name, gives_back in giveaways:
            assert not (steps[position].name == step_name and gives_back(index)), (name, seed, step_name, index)


def test_the_diagonal_flip_sheet_still_blanks_the_forward_pass():
    steps = steps_from_trace(lesson("diagonal-flip"))
    blanked = {steps[i].name for seed in range(20) for i, _ in choose_blanks(steps, 4, seed)}
    assert {"A₁", "Z₁", "∂L/∂Z₁", "∂L/∂W₁"} <= blanked and "ŷ" not in blanked, blanked


# --- numerical-gradient problems: every parameter moves a prediction --------------------------------------------

@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(1, 3))
def test_no_numerical_gradient_problem_has_a_parameter_that_moves_nothing(seed, size):
    problem = numerical_gradient(seed, size, 3)
    if "v·σ" in problem.equation:  # ŷ = v·σ(w·x + b) + c: v = 0 makes ∂L/∂w = ∂L/∂b = 0 at sight
        assert problem.tensors["v"] != 0, problem.equation


@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.parametrize("seed", [94, 95])
def test_the_seeds_that_drew_v_0_draw_again(seed, size):
    problem = numerical_gradient(seed, size, 3)
    assert "v·σ" in problem.equation and problem.tensors["v"] != 0
