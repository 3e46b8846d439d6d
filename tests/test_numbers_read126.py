"""Round 126: the numbers a learner reads in the glass box: bools, big integers, tensors of 3 or more dims,
a bool given where a number goes, the landscape's colour bar, StepThrough of a float64 model.

Each test asserts the text a person sees (a trace's terminal, Markdown and HTML text, a notebook cell's HTML, the
JSON values the page renders, a figure's tick labels, a one-line refusal), against PyTorch where it prints or
computes the same thing.
"""

from __future__ import annotations

import json
import math
import re
from html import unescape

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.playground import display
from glassgrad.playground.code_results import summary
from glassgrad.playground.safety import LR_RANGE, ApiError, Fields
from glassgrad.trace import render
from glassgrad.trace.numbers import format_number, rounded_text, rounding_note, shape_text
from glassgrad.trace.render_json import values_array
from glassgrad.trace.render_text import matrix_lines

BIG = [2**53 + 1, -(2**62) - 3, 2**63 - 1, 12345678901234567]
"""int64 values a float64 cannot hold (it has 53 bits): written through a float, digits change."""
MAX_BLOCKS = 4
"""The matrices of a tensor of 3 or more dims shown before the display says how many it left out."""


def html_cells(html: str) -> list[str]:
    """The text of each matrix cell of an HTML display, in order."""
    return [unescape(text) for text in re.findall(r"<td class=\"\w+\">([^<]*)</td>", html)]


def traced(program) -> dict:
    with gg.trace() as tape:
        program()
    return tape.describe()


# --- 1. bools are True/False, as PyTorch prints them -----------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(flags=st.lists(st.booleans(), min_size=1, max_size=6), as_matrix=st.booleans())
def test_a_bool_tensor_in_a_notebook_cell_reads_true_and_false(flags, as_matrix, torch):
    shape = (len(flags),) if not as_matrix else (1, len(flags))
    html = gg.tensor(flags).reshape(shape)._repr_html_()
    expected = [str(item) for item in torch.tensor(flags).tolist()]  # PyTorch: tensor([ True, False])
    assert html_cells(html) == expected


def test_a_bool_operand_in_a_trace_reads_true_and_false_in_every_format():
    x = gg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    document = traced(lambda: (x * (x > 0)).sum().backward())
    text, markdown, html = (render(document, kind) for kind in ("text", "md", "html"))
    assert "[ True  False   True]" in text
    assert "`[ True False  True]`" in markdown
    assert ">True</td>" in html and ">False</td>" in html
    for written in (text, markdown, html):
        assert "1.0000  0" not in written and "+1.0000 0 +1.0000" not in written


def test_the_page_writes_a_bool_as_true_or_false_and_an_integer_whole():
    assert display.texts([[True, False]]) == [["True", "False"]]
    assert display.texts(np.array(BIG)) == [str(value) for value in BIG]
    assert display.texts([0.5, None]) == ["+0.5000", "nan"]  # a float, and NaN as the JSON carries it


# --- 3. integers past 2**53 keep every digit ----------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(numbers=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=5))
@example(numbers=BIG)
def test_an_int64_tensor_in_a_notebook_cell_keeps_every_digit(numbers, torch):
    html = gg.tensor(numbers, dtype=gg.int64)._repr_html_()
    assert html_cells(html) == [str(item) for item in torch.tensor(numbers, dtype=torch.int64).tolist()]


def test_a_big_integer_in_a_trace_keeps_every_digit_in_every_format():
    big = gg.tensor(BIG)
    document = traced(lambda: big + 1)
    added = [value + 1 if value < 2**63 - 1 else -(2**63) for value in BIG]  # int64 wraps, as PyTorch's
    for kind in ("text", "md", "html"):
        written = render(document, kind)
        for value in BIG + added:
            assert str(value) in written, (kind, value)
    step = json.loads(render(document, "json"))["forward"][0]
    assert values_array(step["output"]["values"]).tolist() == added  # read back as the engine wrote it
    row = [row for row in summary(document) if row["formula"]][0]
    assert row["values_text"] == [str(value) for value in added]


def test_the_graph_drawing_writes_a_big_integer_whole():
    from glassgrad.trace.graph import graph_svg

    big = gg.tensor(BIG[:2])
    assert str(BIG[0] + 1) in unescape(graph_svg(traced(lambda: big + 1)))


# --- 2. a tensor of 3 or more dims: its shape and its matrices -----------------------------------------------------


def expected_lines(array: np.ndarray) -> list[str]:
    """What a learner should read: each matrix ``x[i, j]`` of the leading dims, headed by its index counting from 1."""
    lines = []
    indices = list(np.ndindex(*array.shape[:-2]))[:MAX_BLOCKS]
    width = max(len(format_number(v)) for index in indices for v in array[index].flat)
    for index in indices:
        lines.append("[" + ",".join(str(i + 1) for i in index) + ",·,·]")
        lines += ["[" + "  ".join(format_number(v).rjust(width) for v in row) + "]" for row in array[index]]
    return lines


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 3), min_size=3, max_size=4), seed=st.integers(0, 2**32 - 1))
def test_a_tensor_of_three_or_more_dims_is_shown_as_its_matrices(shape, seed, torch):
    values = np.random.default_rng(seed).normal(size=shape).round(3)
    ours = gg.tensor(values, dtype=gg.float64)
    theirs = torch.tensor(values, dtype=torch.float64)
    lines = matrix_lines(ours.numpy())
    blocks = math.prod(shape[:-2])
    assert lines[:-1] == expected_lines(theirs.numpy())
    note = lines[-1]
    assert shape_text(tuple(theirs.shape)) in note
    assert (f"first {MAX_BLOCKS} of {blocks} matrices" in note) == (blocks > MAX_BLOCKS)
    html = ours._repr_html_()
    assert html.count('<table class="matrix">') == min(blocks, MAX_BLOCKS)
    first = "[" + ",".join(["1"] * (len(shape) - 2)) + ",·,·]"
    assert f'<div class="label">{first}</div>' in html


def test_a_traced_three_dim_parameter_shows_its_shape_and_matrices_in_every_format():
    x = gg.tensor(np.arange(8.0).reshape(2, 2, 2), requires_grad=True)
    document = traced(lambda: (x * 2).sum().backward())
    text, markdown, html = (render(document, kind) for kind in ("text", "md", "html"))
    for written in (text, markdown, unescape(html)):
        assert "[1,·,·]" in written and "[2,·,·]" in written and "(2, 2, 2)" in written
    lines = [line.strip("│ ").strip() for line in text.splitlines()]
    first = lines.index("[1,·,·]")
    assert lines[first + 1:first + 4] == ["[      0  +1.0000]", "[+2.0000  +3.0000]", "[2,·,·]"]


# --- 4. a bool where a number goes ------------------------------------------------------------------------------


@pytest.mark.parametrize("field, reader", [("lr", "number"), ("steps", "integer")])
@pytest.mark.parametrize("flag", [True, False])
def test_the_page_refuses_true_or_false_for_a_number_naming_the_fix(field, reader, flag):
    fields = Fields({field: flag})
    with pytest.raises(ApiError) as refusal:
        fields.number(field, 0.1, *LR_RANGE) if reader == "number" else fields.integer(field, 1, 1, 500)
    message = refusal.value.message
    assert "\n" not in message and json.dumps(flag) in message and "not a number" in message
    assert ("use a value from 1e-05 to 100" if reader == "number" else "use a whole number from 1 to 500") in message


@pytest.mark.parametrize("kind, options", [
    ("SGD", {"lr": True}), ("SGD", {"lr": 0.1, "momentum": True}), ("Adam", {"lr": True}),
    ("RMSprop", {"lr": True}), ("Adagrad", {"lr": True}), ("AdamW", {"lr": 0.01, "weight_decay": True}),
])
def test_an_optimizer_takes_a_bool_as_pytorch_does(kind, options, torch):
    start = np.array([[0.5, -1.0], [2.0, 0.25]])
    ours = gg.tensor(start.copy(), requires_grad=True)
    theirs = torch.tensor(start.copy(), requires_grad=True)
    optimizers = getattr(gg.optim, kind)([ours], **options), getattr(torch.optim, kind)([theirs], **options)
    for _ in range(3):
        for weight, optimizer in zip((ours, theirs), optimizers):
            optimizer.zero_grad()
            (weight**3).sum().backward()
            optimizer.step()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_clip_grad_norm_takes_a_bool_as_pytorch_does(torch):
    ours, theirs = gg.tensor([3.0, 4.0], dtype=gg.float64), torch.tensor([3.0, 4.0], dtype=torch.float64)
    ours.grad, theirs.grad = ours.clone(), theirs.clone()
    total = gg.nn.utils.clip_grad_norm_([ours], True)
    assert float(total) == float(torch.nn.utils.clip_grad_norm_([theirs], True))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-15)


def test_fit_refuses_clip_grad_norm_true_naming_a_norm():
    model = gg.nn.Linear(2, 1)
    with pytest.raises(ValueError) as refusal:
        gg.training.fit(model, gg.nn.MSELoss(), gg.optim.SGD(model.parameters(), lr=0.1),
                        [(gg.ones(1, 2), gg.ones(1, 1))], clip_grad_norm=True, progress=False)
    message = str(refusal.value)
    assert message.startswith("fit: clip_grad_norm") and "e.g. 1.0" in message and "got True" in message


# --- 5. the landscape's colour bar -------------------------------------------------------------------------------


def test_the_colour_bar_writes_its_band_edges_by_the_one_rule_and_says_so():
    pytest.importorskip("matplotlib")
    from glassgrad.lessons.landscape import DEFAULT_WEIGHTS, landscape
    from glassgrad.lessons.landscape_plot import COLOUR_BAR_DIGITS, figure

    data = landscape(DEFAULT_WEIGHTS, steps=2, grid_points=5)
    grid = np.asarray(data["grid"]["loss"])
    data["grid"]["loss"] = (0.125 * 256.0 ** ((grid - grid.min()) / (grid.max() - grid.min()))).tolist()
    drawing = figure(data)  # lowest loss 0.125 exactly: a half, 0.13 by hand ("%.2g": 0.12)
    drawing.canvas.draw()
    bar = drawing.axes[-1]
    ticks, labels = bar.yaxis.get_majorticklocs(), [label.get_text() for label in bar.get_yticklabels()]
    assert labels and labels == [rounded_text(tick, COLOUR_BAR_DIGITS, "g") for tick in ticks]
    assert "0.13" in labels and "0.12" not in labels
    assert rounding_note(COLOUR_BAR_DIGITS, significant=True) in bar.get_ylabel()


# --- 6. StepThrough of a float64 model --------------------------------------------------------------------------


def test_stepthrough_of_a_float64_model_says_float64_and_what_it_did_to_x():
    pytest.importorskip("anywidget", reason="the dev extra installs anywidget")
    from glassgrad.widgets.stepthrough import StepThrough

    gg.manual_seed(0)
    model = gg.nn.Sequential(gg.nn.Linear(2, 2), gg.nn.Tanh(), gg.nn.Linear(2, 1)).double()
    widget = StepThrough(model, np.array([1, 3]), gg.tensor([0.1234567], dtype=gg.float64))
    view = widget.answer("/api/step", {"lr": 0.1, "actions": "f"})
    assert "float64 values" in view["precision"] and "float32" not in view["precision"]
    assert "x = [1.0000, 3.0000], target y = [0.1235]" in view["description"]
    assert "x came as int64 numbers and is stepped through as float64." in view["description"]
    assert "y came" not in view["description"]
    clicked = widget.answer("/api/step/explain", {"lr": 0.1, "actions": "f", "cell": "Z1[0]"})
    assert "float64 values" in clicked["precision"] and clicked["dtype"] == "float64"
    rounded = StepThrough(gg.nn.Linear(2, 1), np.array([0.1, 2.0]), [1.0]).answer("/api/step", {"actions": ""})
    assert "x came as float64 numbers and is stepped through as float32, rounded to it." in rounded["description"]


# --- other numbers: gradcheck's report ---------------------------------------------------------------------------


def test_a_gradcheck_report_writes_its_errors_by_the_one_rule_and_says_so():
    x = gg.tensor([0.5], dtype=gg.float64, requires_grad=True)
    report = gg.gradcheck(lambda t: (t * t).sum(), [x])
    report.inputs[0].max_abs_error = 1.125  # an exact half: 1.13 by hand, 1.12 in Python's "%.3g"
    note = rounding_note(3, significant=True)
    text, html = str(report), report._repr_html_()
    assert "max abs error 1.13," in text and text.splitlines()[-1].strip() == note
    assert "<td>1.13</td>" in html and f'<div class="note">{note}</div>' in html
