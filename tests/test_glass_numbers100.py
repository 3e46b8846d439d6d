"""Round 100: numbers and words a learner reads in the glass box, checked against hand formulas, fractions and PyTorch.

* A descent walk whose gradient is 0 at the start (a dead ReLU unit's weights) was labelled "slow: the loss fell by
  only 0%"; a single loss too. It is "not moving", and says the gradient was 0 (θ − η·0 = θ).
* Shown numbers rounded an exact binary half to even (0.53125 → 0.5312, 17 of 32 → 53.12%); a learner rounds it
  away from zero, as the helper now does in one place (:func:`glassgrad.trace.numbers.rounded_text`).
* The explanation of a linear layer applied to a batch of sequences (3-D input) raised; each entry now sums over
  every leading index, and its arithmetic gives PyTorch's numbers.
* ``load_csv`` / ``glassgrad train --data`` read a numeric label column with one stray text cell as text classes
  ('1', '2', '3', 'x'), silently; it is refused in one line naming the line, the column and the fix.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_trace_programs_differential91 import FULL, _value_of  # the explanation's arithmetic, evaluated

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad import cli
from glassgrad.data.files import load_csv
from glassgrad.lessons import experiments, landscape
from glassgrad.practice.session import Score
from glassgrad.trace import explain, numbers
from glassgrad.trace.numbers import format_number

# --- 1. a walk that does not move ---------------------------------------------------------------------------------


def test_a_walk_from_a_zero_gradient_is_not_moving_and_says_why():
    """Hidden unit 2 of the lesson network is off (ReLU of a negative sum): ∂L/∂W₁[2,·] = 0 by hand, so SGD with
    any η leaves W₁[2,1] and W₁[2,2] where they are. The base called each walk 'slow' (fell by only 0%)."""
    data = landscape.landscape(weights=("W1[2,1]", "W1[2,2]"), steps=3, grid_points=5)
    for path in data["paths"] + data["slice_1d"]["paths"]:
        points = path["points"]
        assert all(point["gradient"] == [0.0] * len(point["gradient"]) for point in points)
        assert all(point["weights"] == points[0]["weights"] for point in points)
        assert path["label"] == "not moving", path
        assert "gradient was 0" in path["why"] and "slow" not in path["why"]


@pytest.mark.parametrize("losses, gradients, label, says", [
    ([0.7, 0.7, 0.7], [0.0, 0.0, 0.0], "not moving", "gradient was 0"),
    ([0.7, 0.7, 0.7], None, "not moving", "did not change in 2 steps"),
    ([0.7], None, "not moving", "no step"),
    ([0.0, 0.0], [0.0, 0.0], "not moving", "gradient was 0"),  # at the valley floor: height 0 above it
    ([1.0, 0.4], [1.0, 0.5], "converging", "fell steadily"),  # a gradient that is not 0 changes nothing
])
def test_classify_at_the_edges(losses, gradients, label, says):
    found, why = experiments.classify(losses, gradients)
    assert found == label and says in why, (found, why)


@pytest.mark.parametrize("losses, label", [
    ([1.0, math.nan], "diverging"), ([math.inf], "diverging"), ([1.0, 2.0], "diverging"),
    ([1.0, 0.99, 0.98], "slow"), ([1.0, 0.4], "converging"), ([1.0, 0.5, 0.9, 0.3], "oscillating"),
])
def test_classify_keeps_the_other_labels(losses, label):
    assert experiments.classify(losses)[0] == label


def test_a_drop_of_an_exact_half_percent_rounds_up():
    """1 → 0.875 falls by 12.5% exactly: shown as 13%, as by hand (the base wrote 12%)."""
    assert experiments.classify([1.0, 0.875]) == ("slow", "the loss fell by only 13% in 1 step")


# --- 2. rounding an exact half ------------------------------------------------------------------------------------


def _by_hand(value: Fraction, decimals: int) -> str:
    """``value`` to ``decimals`` places, an exact half away from zero: the schoolbook rule, in fractions."""
    scaled = abs(value) * 10**decimals
    whole = math.floor(scaled + Fraction(1, 2))
    digits = str(whole).rjust(decimals + 1, "0")
    text = digits[:-decimals] + "." + digits[-decimals:] if decimals else digits
    return ("-" if value < 0 and whole else "") + text


def test_format_number_rounds_an_exact_half_away_from_zero():
    assert format_number(0.53125) == "+0.5313" and format_number(-0.53125) == "-0.5313"
    assert format_number(0.53125, signed=False) == "0.5313"
    assert format_number(1250000.0) == "+1.3e+06" and format_number(-1250000.0) == "-1.3e+06"
    assert format_number(0.0) == "0" and format_number(3e-9) == "+3.0e-09"  # unchanged where no half


@settings(max_examples=300, deadline=None)
@given(st.integers(-10**9, 10**9), st.integers(0, 12), st.integers(0, 6))
def test_rounded_text_is_the_schoolbook_rounding_of_the_exact_value(numerator, power, decimals):
    """k/2ᵖ is exact in binary, and often an exact half at the shown place: every digit is the hand rule's."""
    value = numerator / 2**power
    assert numbers.rounded_text(value, decimals) == _by_hand(Fraction(numerator, 2**power), decimals)
    assert numbers.rounded_text(value, decimals, "%") == _by_hand(Fraction(numerator * 100, 2**power), decimals) + "%"


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e12, 1e12, allow_nan=False), st.integers(0, 6))
def test_rounded_text_is_pythons_format_where_there_is_no_half(value, decimals):
    exact = Fraction(value) * 10**decimals
    if exact - math.floor(exact) == Fraction(1, 2):
        return
    python = f"{value:.{decimals}f}"  # but a rounded zero is written 0, not -0, as by hand
    assert numbers.rounded_text(value, decimals) == (python.removeprefix("-") if python.strip("-0.") == "" else python)
    assert numbers.rounded_text(value, decimals, signed=True) == f"{value:+.{decimals}f}"


def test_accuracy_and_score_percentages():
    assert numbers.rounded_text(17 / 32, 2, "%") == "53.13%"  # Python's format: 53.12%
    assert numbers.rounded_text(Fraction(3, 200), 0, "%") == "2%"  # 1.5% by hand; the float 3/200 is below it
    assert Score(right=1, wrong=7).summary().startswith("Score: 1 of 8 answered right (13%)")  # 12.5%
    assert Score(right=5, wrong=3).summary().startswith("Score: 5 of 8 answered right (63%)")  # 62.5%


# --- 3. a linear layer on a batch of sequences ---------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=2, max_size=3), st.integers(1, 3), st.integers(1, 3), st.booleans(),
       st.integers(0, 2**31 - 1))
def test_linear_on_leading_dimensions_is_explained_with_pytorchs_numbers(torch, leading, features, outputs, bias,
                                                                         seed):
    rng = np.random.default_rng(seed)
    x_, w_, b_ = rng.normal(size=(*leading, features)), rng.normal(size=(outputs, features)), rng.normal(size=outputs)
    r_ = rng.normal(size=(*leading, outputs))
    w, x = gg.tensor(w_, requires_grad=True), gg.tensor(x_, requires_grad=True)
    b = gg.tensor(b_, requires_grad=True) if bias else None
    with gg.trace() as tape:
        tape.name(w, "W")
        tape.name(x, "X")
        if bias:
            tape.name(b, "b")
        (F.linear(x, w, b) * gg.tensor(r_)).sum().backward()
    tw, tx = torch.tensor(w_, requires_grad=True), torch.tensor(x_, requires_grad=True)
    tb = torch.tensor(b_, requires_grad=True) if bias else None
    tz = torch.nn.functional.linear(tx, tw, tb)
    (tz * torch.tensor(r_)).sum().backward()
    expected = {"forward": tz.detach().numpy(), "weight": tw.grad.numpy(), "input": tx.grad.numpy()}
    if bias:
        expected["bias"] = tb.grad.numpy()
    document = tape.describe()
    parameters = frozenset(document["symbols"].values())
    steps = [("forward", step) for step in document["forward"] if step.get("op") == "linear"]
    steps += [("backward", step) for step in document["backward"] if step.get("op") == "linear"]
    assert len(steps) == len(expected)
    for phase, step in steps:
        want = expected["forward" if phase == "forward" else step["role"]]
        for index in np.ndindex(*want.shape):
            entry = explain.trace_entry(step, phase, index, FULL, parameters)
            assert _value_of(entry.plugged) == pytest.approx(want[index], rel=1e-9, abs=1e-12), entry.text(FULL)
            terms = 2 if phase == "forward" or step["role"] != "bias" else 1
            count = {"forward": features, "input": outputs}.get(step.get("role") if phase == "backward" else "forward",
                                                                  int(np.prod(leading)))
            assert len(entry.terms) == terms * count + (phase == "forward" and bias)


# --- 5. a stray text cell among numeric labels ----------------------------------------------------------------------


def _write(tmp_path, labels):
    path = tmp_path / "data.csv"
    path.write_text("a,b,label\n" + "".join(f"{k},{k + 1},{label}\n" for k, label in enumerate(labels)))
    return path


def test_a_stray_text_label_is_refused_naming_its_line_and_column(tmp_path):
    path = _write(tmp_path, ["3", "1", "x", "2"])
    with pytest.raises(ValueError) as caught:
        load_csv(path)
    message = str(caught.value)
    assert "\n" not in message
    assert f"{path}, line 4, target column 3 'label' (index 2 in code): 'x' is text" in message
    assert "all numbers or all text" in message


def test_a_stray_number_among_text_labels_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"line 3, target column 3 'label' \(index 2 in code\): '7' is a number"):
        load_csv(_write(tmp_path, ["cat", "7", "dog", "cat"]))


def test_all_numbers_or_all_text_still_load(tmp_path):
    assert load_csv(_write(tmp_path, ["3", "1", "0", "2"])).class_names is None
    assert load_csv(_write(tmp_path, ["cat", "dog", "cat"])).class_names == ["cat", "dog"]
    with pytest.raises(ValueError, match=r"line 4, column 3 'label' \(index 2 in code\): 'x' is not a number"):
        load_csv(_write(tmp_path, ["0.5", "1", "x"]), task="regression")  # a quantity's text cell, as before


def test_train_command_says_it_in_one_line(tmp_path, capsys):
    path = _write(tmp_path, ["3", "1", "x", "2"])
    assert cli.main(["train", "--data", str(path), "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "line 4" in err and "'x' is text" in err, err


# --- 4. the state an optimizer keeps, in its update's explanation ---------------------------------------------------

STATEFUL = [
    ("SGD", {"lr": 0.1, "momentum": 0.9}, {"b": "momentum_buffer"}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.1}, {"b": "momentum_buffer"}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, {"b": "momentum_buffer"}),
    ("Adam", {"lr": 0.1}, {"m": "exp_avg", "v": "exp_avg_sq"}),
    ("Adam", {"lr": 0.1, "amsgrad": True}, {"m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq"}),
    ("AdamW", {"lr": 0.1, "weight_decay": 0.1}, {"m": "exp_avg", "v": "exp_avg_sq"}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True},
     {"v": "square_avg", "ḡ": "grad_avg", "b": "momentum_buffer"}),
    ("RMSprop", {"lr": 0.01}, {"v": "square_avg"}),
]


@pytest.mark.parametrize("name, options, letters", STATEFUL)
@pytest.mark.parametrize("seed", [0, 1])
def test_an_update_shows_the_state_it_used_with_pytorchs_numbers(torch, name, options, letters, seed):
    """Three steps of the same problem in glassgrad (the last one traced) and PyTorch: the trace's state for each
    letter of the rule is PyTorch's optimizer.state after the step (and after the step before), the note says
    it, and where the last line reads a kept letter (W ← W − η·b) its arithmetic gives PyTorch's new weight."""
    rng = np.random.default_rng(seed)
    start, targets = rng.normal(size=(2, 3)), rng.normal(size=(3, 2, 3))
    w, tw = gg.tensor(start, requires_grad=True), torch.tensor(start, requires_grad=True)
    mine, theirs = getattr(gg.optim, name)([w], **options), getattr(torch.optim, name)([tw], **options)
    before = {}
    for step, target in enumerate(targets):
        theirs.zero_grad()
        ((tw - torch.tensor(target)) ** 3).sum().backward()
        if step == len(targets) - 1:
            before = {key: theirs.state[tw][key].clone().numpy() for key in letters.values()}
        theirs.step()
        with gg.trace() as tape:
            tape.name(w, "W")
            mine.zero_grad()
            ((w - gg.tensor(target)) ** 3).sum().backward()
            mine.step()
    update = tape.describe()["updates"][0]
    assert {letter: kept["key"] for letter, kept in update["state"].items()} == letters
    for letter, key in letters.items():
        np.testing.assert_allclose(update["state"][letter]["after"], theirs.state[tw][key].numpy(), rtol=1e-12)
        np.testing.assert_allclose(update["state"][letter]["before"], before[key], rtol=1e-12)
    np.testing.assert_allclose(update["new"], tw.detach().numpy(), rtol=1e-12)
    reads_state = update["rule"].splitlines()[-1].rstrip().endswith("η·b")
    for index in np.ndindex(2, 3):
        entry = explain.update(explain.Operand("W", np.asarray(update["new"])), index, float(update["old"][index]),
                               update["lr"], float(update["gradient"][index]), update["rule"], FULL,
                               gradient_label=update["gradient_label"], kept=update["state"])
        for letter, key in letters.items():
            shown = re.search(rf"(?<!\w){re.escape(letter)} = (\S+) after this step, (\S+) before", entry.note)
            assert shown, (letter, entry.note)
            assert float(shown[1]) == pytest.approx(theirs.state[tw][key].numpy()[index], rel=1e-12)
            assert float(shown[2]) == pytest.approx(before[key][index], rel=1e-12)
        if reads_state:
            assert _value_of(entry.plugged) == pytest.approx(tw.detach().numpy()[index], rel=1e-12), entry.text(FULL)
