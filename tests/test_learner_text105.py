"""Round 105: what a learner reads in the glass box, checked against PyTorch, hand formulas and exact halves.

* A bias named ``b`` trained with SGD momentum read ``b ← μ·b + g; b ← b − η·b``: the momentum buffer's letter was
  the parameter's name (so were Adam's m and v, RMSprop's v, …). The trace now writes the rule's letter apart
  (``B``), in the rule, the state's row label, the JSON and the plugged explanation, with PyTorch's numbers.
* Numbers a learner reads (the course examples' losses, the diagonal-flip lesson's sentences, the training
  progress bar, its divergence message) rounded an exact binary half to even (0.53125 → 0.5312): away from zero now.
* ``experiments.classify`` read a falling negative loss as "slow … 0%": drops and rises are shares of |loss| now.
* ``glassgrad rules`` wrote gelu's mode as ``approximate='approximate'`` and polygamma's ``(n = n)``; a float
  setting was written to 6 digits (a slope of 0.0123456789 as 0.0123457) in the formulas that state it.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_trace_programs_differential91 import FULL, _value_of  # the explanation's arithmetic, evaluated

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad import cli, training
from glassgrad.course.examples import worked_example
from glassgrad.lessons import diagonal_flip, mlp3
from glassgrad.lessons.experiments import classify
from glassgrad.ops import RULES
from glassgrad.trace import explain
from glassgrad.trace.numbers import percent_text

HALF = 0.53125
"""An exact binary half at the 5th decimal: Python's format writes 0.5312 (half to even), a learner 0.5313."""

# --- 1. the state's letter apart from the parameter's name ----------------------------------------------------------

COLLIDING = [
    ("SGD", {"lr": 0.1, "momentum": 0.9}, "b", {"momentum_buffer"}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}, "b", {"momentum_buffer"}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}, "g", {"momentum_buffer"}),
    ("Adam", {"lr": 0.1}, "m", {"exp_avg", "exp_avg_sq"}),
    ("Adam", {"lr": 0.1, "amsgrad": True}, "v", {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
    ("AdamW", {"lr": 0.1, "weight_decay": 0.1}, "v", {"exp_avg", "exp_avg_sq"}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5}, "b", {"square_avg", "momentum_buffer"}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}, "v", {"square_avg", "grad_avg", "momentum_buffer"}),
    ("Adagrad", {"lr": 0.1}, "s", set()),
]


def _letters(line: str) -> set[str]:
    """The letters a rule's line defines: what stands left of ``←`` (``m̂ ← …,  v̂ ← …`` defines two)."""
    return {part.rpartition("  ")[2].strip() for part in line.split("←")[:-1]}


def _state_letters(rule: str, optimizer) -> set[str]:
    """The letters the traced ``rule`` defines on the lines where the optimizer's own rule does not set ``w``."""
    own = optimizer.formula_for(optimizer.param_groups[0]).splitlines()
    assert len(own) == len(rule.splitlines())
    lines = zip(rule.splitlines(), own)
    return set().union(set(), *(_letters(line) for line, raw in lines if "w" not in _letters(raw)))


def _traced_steps(torch, name, options, symbol, seed):
    """Three steps of one problem in glassgrad (the last traced, the parameter named ``symbol``) and in PyTorch."""
    rng = np.random.default_rng(seed)
    start, targets = rng.normal(size=(2, 3)), rng.normal(size=(3, 2, 3))
    w, tw = gg.tensor(start, requires_grad=True), torch.tensor(start, requires_grad=True)
    mine, theirs = getattr(gg.optim, name)([w], **options), getattr(torch.optim, name)([tw], **options)
    for target in targets:
        theirs.zero_grad()
        ((tw - torch.tensor(target)) ** 3).sum().backward()
        theirs.step()
        with gg.trace() as tape:
            tape.name(w, symbol)
            mine.zero_grad()
            ((w - gg.tensor(target)) ** 3).sum().backward()
            mine.step()
    return tape, theirs.state[tw], tw.detach().numpy(), mine


@pytest.mark.parametrize("name, options, symbol, keys", COLLIDING)
@pytest.mark.parametrize("seed", [0, 1])
def test_a_state_letter_never_reads_as_the_parameters_name(torch, name, options, symbol, keys, seed):
    """The rule, the state rows of the text and HTML renderings and the JSON name the parameter alone by its
    symbol; each state letter's numbers (JSON, note, plugged last line) are PyTorch's optimizer.state."""
    tape, state, new, optimizer = _traced_steps(torch, name, options, symbol, seed)
    update = tape.describe()["updates"][0]
    last = update["rule"].splitlines()[-1]
    assert last.startswith(f"{symbol} ← "), update["rule"]
    defined = _state_letters(update["rule"], optimizer)
    assert symbol not in defined, update["rule"]
    kept = update.get("state", {})
    assert {numbers["key"] for numbers in kept.values()} == keys
    assert symbol not in kept
    for letter, numbers in kept.items():
        assert letter in defined, (letter, update["rule"])
        np.testing.assert_allclose(numbers["after"], state[numbers["key"]].numpy(), rtol=1e-12)
    text, html = tape.render("text"), tape.render("html")
    document = json.loads(tape.render("json"))
    assert set(document["updates"][0].get("state", {})) == set(kept)
    for letter, numbers in kept.items():
        assert f"{letter} ({numbers['key']}) after" in text and f"{letter} ({numbers['key']}) after" in html
        assert f"{symbol} ({numbers['key']}) after" not in text + html
    reads_state = any(letter in kept for letter in re.findall(r"η·(\w+)$", last))
    for index in np.ndindex(2, 3):
        entry = explain.update(explain.Operand(symbol, np.asarray(update["new"])), index, float(update["old"][index]),
                               update["lr"], float(update["gradient"][index]), update["rule"], FULL,
                               gradient_label=update["gradient_label"], kept=kept)
        for letter, numbers in kept.items():
            shown = re.search(rf"(?<!\w){re.escape(letter)} = (\S+) after this step", entry.note)
            assert shown and float(shown[1]) == pytest.approx(state[numbers["key"]].numpy()[index], rel=1e-12)
        if reads_state:
            assert _value_of(entry.plugged) == pytest.approx(new[index], rel=1e-12), entry.text(FULL)


RULES_BY_OPTIMIZER = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.1, "amsgrad": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}), ("Adadelta", {}), ("Adamax", {}), ("NAdam", {}), ("RAdam", {}),
    ("ASGD", {}), ("Rprop", {}),
]
SYMBOLS = ["W", "b", "g", "m", "v", "s", "u", "d", "Δ", "ḡ", "v_max", "ax", "t", "B", "M", "w"]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(RULES_BY_OPTIMIZER), st.sampled_from(SYMBOLS))
def test_no_line_of_any_rule_defines_the_parameters_name(optimizer, symbol):
    """Whatever a parameter is called, the only lines of its traced rule that set that name are its own updates
    (where the optimizer's rule sets w), and each state letter the trace lists is one the rule sets."""
    name, options = optimizer
    w = gg.tensor([0.5, -1.5], requires_grad=True)
    step = getattr(gg.optim, name)([w], **options)
    for _ in range(2):
        with gg.trace() as tape:
            tape.name(w, symbol)
            step.zero_grad()
            (w * w * w).sum().backward()
            step.step()
    update = tape.describe()["updates"][0]
    defined = _state_letters(update["rule"], step)
    assert symbol not in defined, update["rule"]
    assert set(update.get("state", {})) <= defined


def test_the_letter_apart_reads_as_the_letter_in_its_other_case():
    """Momentum's b for a bias b is B in every place; Adam's m for a parameter m is M, and m̂ is M̂."""
    assert explain.letter_apart("b ← μ·b + g\nw ← w − η·b", "b") == {"b": "B"}
    assert explain.renamed("m ← β₁·m\nm̂ ← m / (1 − β₁ᵗ)\nw ← w − η·m̂", {"m": "M"}) == \
        "M ← β₁·M\nM̂ ← M / (1 − β₁ᵗ)\nw ← w − η·M̂"
    assert explain.letter_apart("b ← μ·b + B\nw ← w − η·b", "b") == {"b": "b′"}
    assert explain.letter_apart("s ← s + g²\nw ← w − η·g / (√s + ε)", "max") == {}


# --- 2. exact halves in what a learner reads --------------------------------------------------------------------------


def _constant_loss(value):
    """A loss that is ``value`` exactly, whatever the model says (its gradient is 0)."""
    return lambda prediction, target, *args, **kwargs: F.mse_loss(prediction, target) * 0 + value


@pytest.mark.parametrize("example, label, mocked", [
    ("diagonal-flip", "L = mean((ŷ − y)²) over the 4 outputs (mse_loss)", "mse_loss"),
    ("softmax-gradient", "L = −log ŷ₂", "cross_entropy"),
    ("frozen-layer", "loss, first → last step", "mse_loss"),
])
def test_a_course_examples_loss_rounds_a_half_away_from_zero(monkeypatch, example, label, mocked):
    monkeypatch.setattr(F, mocked, lambda prediction, target, *a, **k: prediction.sum() * 0 + HALF)
    rows = dict(worked_example(example)["rows"])
    assert rows[label] in ("0.5313", "0.5313 → 0.5313"), rows[label]
    assert f"{HALF:.4f}" == "0.5312"  # what the base wrote


def test_the_diagonal_flip_lessons_sentence_rounds_a_half_away_from_zero(monkeypatch):
    monkeypatch.setattr(diagonal_flip, "mse_loss", _constant_loss(HALF))
    document = diagonal_flip.run(target_loss=1.0)
    assert document["explanation"][-1].endswith("the loss drops from 0.5313 to 0.5313."), document["explanation"][-1]


def test_the_mlp3_lessons_rounded_softmax_rounds_a_half_away_from_zero(monkeypatch):
    """The row "ŷ rounded to 4 decimals" held np.round's numbers (0.53125 → 0.5312, half to even), beside the
    same ŷ shown as 0.5313."""
    monkeypatch.setattr(mlp3, "softmax_array", lambda scores, axis: np.array([[HALF, 0.46875, 0.0]]))
    assert mlp3.real_network()["lesson"]["rounded"] == [0.5313, 0.4688, 0.0]


class _Bar:
    """A progress bar that keeps what fit writes into it."""

    task_ids = [0]

    def __init__(self):
        self.losses = []

    def update(self, task, advance, epoch, loss):
        self.losses.append(loss)

    def stop(self):
        pass


def _fit(monkeypatch, losses, **options):
    bar = _Bar()
    monkeypatch.setattr(training, "_progress_bar", lambda *args: bar)
    model = gg.nn.Linear(1, 1)
    values = iter(losses)
    data = gg.data.TensorDataset(gg.ones(len(losses), 1), gg.ones(len(losses), 1))
    history = training.fit(model, lambda output, target: output.sum() * 0 + next(values),
                           gg.optim.SGD(model.parameters(), lr=0.1), gg.data.DataLoader(data, batch_size=1), **options)
    return bar, history


def test_the_training_progress_bar_rounds_a_half_away_from_zero(monkeypatch):
    bar, _ = _fit(monkeypatch, [HALF, 0.0625 + 1])
    assert bar.losses == ["0.5313", "1.0625"]


def test_a_runaway_loss_is_told_with_halves_rounded_away_from_zero(monkeypatch):
    """1.0625 > 1.5 × 0.53125: fit stops; 4 significant digits of each, as a learner rounds them."""
    _, history = _fit(monkeypatch, [HALF, 1.0625], max_loss_growth=1.5)
    told = str(vars(history.diverged))
    assert "from 0.5313 at step 1 to 1.063," in told, told


# --- 3. a falling negative loss --------------------------------------------------------------------------------------


@pytest.mark.parametrize("losses, label, percent", [
    ([-1.0, -2.0, -3.0], "converging", "200%"),  # a log-likelihood objective falling
    ([-1.0, -1.0625, -1.125], "slow", "13%"),  # 12.5% of |−1|: an exact half, away from zero
    ([1.0, 0.0, -1.0], "converging", "200%"),  # across 0
    ([0.5, 0.25, -0.25], "converging", "150%"),
    ([0.0, -1.0, -2.0], "converging", "100%"),  # from 0: a share of the largest |loss|, said so
])
def test_a_falling_negative_loss_is_labelled_by_its_drop_from_the_first_size(losses, label, percent):
    got, why = classify(losses)
    assert got == label and percent in why, (got, why)
    if losses[0] == 0:
        assert "largest |loss|" in why


def test_a_rise_of_a_negative_loss_is_a_rise():
    """−2 → −1.5 rose by 25% of |−2|: more than 5%, oscillating (the base saw no rise below 0)."""
    got, why = classify([-2.0, -2.5, -1.5, -3.0])
    assert got == "oscillating" and "largest rise 40%" in why, why


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e3, 1e3), st.lists(st.floats(1e-3, 10.0), min_size=1, max_size=8))
def test_a_steadily_falling_curve_drops_by_its_share_of_the_first_size(first, decrements):
    """Any strictly falling curve, wherever it sits: slow or converging, by (first − last)/|first| (by the largest
    |loss| when it starts at 0)."""
    losses = [first]
    for step in decrements:
        losses.append(losses[-1] - step)
    label, why = classify(losses)
    drop = (losses[0] - losses[-1]) / (abs(losses[0]) or max(map(abs, losses)))
    assert label == ("slow" if drop < 0.5 else "converging"), (losses, label, why)
    assert percent_text(drop) in why  # round 113: a nonzero share is never "0%"


# --- 4. the rule cheat sheet and the settings a formula states --------------------------------------------------------


def test_the_rule_cheat_sheet_writes_a_mode_and_a_count_as_a_call_gets_them(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "1000")
    assert cli.main(["rules"]) in (0, None)
    printed = capsys.readouterr().out
    assert "approximate='approximate'" not in printed and "(n = n)" not in printed
    assert "approximate='none'" in printed and "(n = 1)" in printed
    for op in (RULES["gelu"], RULES["polygamma"], RULES["leaky_relu"], RULES["pow_scalar"]):
        for line in op.derivative_lines():  # the row's own strings, as printed
            assert line in printed, line
    assert RULES["leaky_relu"].derivative_lines() == ["∂out/∂a = 1 where a > 0, else slope"]


@pytest.mark.parametrize("slope", [0.0123456789, 1 / 3, 0.01])
def test_a_traced_formula_states_a_float_setting_in_full(torch, slope, monkeypatch):
    """leaky_relu with slope 1/3: the traced rule says the very slope the engine used, and it is PyTorch's."""
    monkeypatch.setenv("COLUMNS", "1000")  # each rule on one line (the text trace fits the terminal's width)
    x = gg.tensor([[-1.0, 2.0]], dtype=gg.float64, requires_grad=True)
    with gg.trace() as tape:
        F.leaky_relu(x, slope).sum().backward()
    text = tape.render("text")
    stated = re.findall(r"slope (\S+)\)", text) + re.findall(r"else (\S+) ", text)  # forward, then local derivative
    assert len(stated) == 2 and all(float(number) == slope for number in stated), stated
    tx = torch.tensor([[-1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.leaky_relu(tx, slope).sum().backward()
    assert x.grad.tolist() == tx.grad.tolist()
