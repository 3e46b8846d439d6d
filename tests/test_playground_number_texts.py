"""Every number the playground shows is written by the glass box's formatter, beside its full value.

The page writes no number itself: the Landscape API and the Code view's results send each number's
text next to the number. Oracles: :func:`glassgrad.trace.numbers.format_number` (the one rule the
terminal, Markdown and HTML traces write with) applied here to the values, and the values themselves:
the numbers put into a program, its gradients written out by hand (``∂(Σ x·w)/∂x = w``), and a text
read back, which is within half a unit of its last written digit (the precision the pages state).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassgrad as gg
from glassgrad.lessons.landscape import landscape
from glassgrad.playground.code_results import summary
from glassgrad.playground.display import matrix_json, texts
from glassgrad.trace.numbers import DECIMALS, format_number
from glassgrad.trace.render_json import render_json

EDGES = [0.0, -0.0, 5e-5, -5e-5, 4.9999e-5, 0.99995, 999999.99995, 1e6, -1e6, 5e-324, 1.7976931348623157e308]
finite = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.floats(-1e-3, 1e-3),
                   st.floats(-2e6, 2e6), st.sampled_from(EDGES))
anything = st.one_of(finite, st.sampled_from([math.nan, math.inf, -math.inf]))


def each(values, text):
    """Pairs of (value, text) from a number and its text, or nested lists of them alike."""
    if isinstance(text, list):
        assert isinstance(values, list) and len(values) == len(text)
        return [pair for value, part in zip(values, text) for pair in each(value, part)]
    assert isinstance(text, str)
    return [(values, text)]


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), elements=anything))
def test_texts_are_the_formatters_text_of_each_value_nested_like_the_values(array):
    written = texts(array)
    assert np.asarray(written, dtype=object).shape == array.shape
    for value, text in each(array.tolist(), written):
        assert text == format_number(value)
    for value, text in each(array.tolist(), texts(array, signed=False)):
        assert text == format_number(value, signed=False)
    if array.ndim:
        assert matrix_json("a", "A", array)["text"] == written  # the step-through's matrices: the same rule


@given(finite)
def test_a_text_read_back_is_its_value_to_the_stated_precision(value):
    text = format_number(value)
    assert (text == "0") == (value == 0)
    if value == 0:
        return
    assert text[0] == ("+" if value > 0 else "-")  # the sign is always written
    if "e" in text:  # one decimal of the mantissa: within 5% (tiny values are never written as zero)
        assert abs(value) < 0.5 * 10**-DECIMALS or abs(value) >= 1e6
        assert abs(Decimal(text) - Decimal(value)) <= Decimal("0.05") * abs(Decimal(value))
    else:  # DECIMALS decimal places: within half a unit of the last one
        assert len(text.split(".")[1]) == DECIMALS
        assert abs(Decimal(text) - Decimal(value)) <= Decimal(5) / 10 ** (DECIMALS + 1)


def traced_summary(xs: list[float], ws: list[float]) -> list[dict]:
    """The Code view's summary of ``L = Σ x·w`` traced in float64 (``x`` needs a gradient): rows for x, x·w, L."""
    x = gg.tensor(np.array(xs), requires_grad=True)
    w = gg.tensor(np.array(ws))
    with np.errstate(all="ignore"), gg.trace() as tape:  # ∞·0 is NaN, on purpose
        (x * w).sum().backward()
    document = json.loads(render_json(tape.describe(title="the summary's numbers")))
    return summary(document)


@given(st.lists(st.tuples(anything, anything), min_size=1, max_size=6))
def test_the_code_summary_sends_the_formatters_text_beside_every_value_and_gradient(pairs):
    xs, ws = [x for x, _ in pairs], [w for _, w in pairs]
    rows = traced_summary(xs, ws)
    assert rows[0]["values_text"] == [format_number(x) for x in xs]
    assert rows[0]["grad_text"] == [format_number(w) for w in ws]  # ∂(Σ x·w)/∂x = w
    for row in rows:
        for value, text in each(row["values"], row["values_text"]):
            assert text == format_number(value)
        if row["grad"] is None:
            assert row["grad_text"] is None
        else:
            for value, text in each(row["grad"], row["grad_text"]):
                assert text == format_number(value)


def test_a_tiny_gradient_and_non_finite_numbers_are_sent_as_the_engine_writes_them():
    x, product, total = traced_summary([3e-7, 1.0, math.inf], [-2.5e-9, 1e7, 0.0])
    assert x["values_text"] == ["+3.0e-07", "+1.0000", "+inf"]
    assert x["grad_text"] == ["-2.5e-09", "+1.0e+07", "0"]
    assert product["values_text"] == ["-7.5e-16", "+1.0e+07", "nan"]  # ∞·0
    assert total["values_text"] == "nan" and total["grad_text"] is None


def assert_point_texts(point: dict) -> None:
    assert point["text"] == {"weights": [format_number(value) for value in point["weights"]],
                             "loss": format_number(point["loss"], signed=False),
                             "gradient": [format_number(value) for value in point["gradient"]]}
    assert not point["text"]["loss"].startswith("+")  # a loss is never negative: no sign to tell


@settings(max_examples=12)
@given(rates=st.lists(st.one_of(st.floats(1e-9, 1e-3), st.floats(1e-3, 1e4), st.sampled_from([1e-12, 1.0, 10.0])),
                      min_size=1, max_size=3, unique=True),
       steps=st.integers(1, 8),
       weights=st.sampled_from([("b2[4]", "W1[3,4]"), ("W2[1,1]", "b1[3]"), ("W1[1,1]", "W1[3,4]")]))
def test_each_landscape_point_carries_the_formatters_text_of_its_numbers(rates, steps, weights):
    data = landscape(weights, steps=steps, learning_rates=rates, grid_points=5)
    for path in data["paths"] + data["slice_1d"]["paths"]:
        for point in path["points"]:
            assert_point_texts(point)
    line = data["slice_1d"]
    assert line["loss_text"] == [format_number(loss, signed=False) for loss in line["loss"]]
    assert f"{DECIMALS} decimal places" in data["precision"]


def test_a_walk_near_the_valley_floor_has_gradients_written_in_e_notation():
    """η = 1 on the default slice: after 30 steps the slope is ~1.6·10⁻⁵, which 4 decimals would show as 0."""
    data = landscape(steps=40, grid_points=5)
    point = next(p for p in data["paths"] if p["learning_rate"] == 1.0)["points"][30]
    assert all(0 < abs(g) < 0.5 * 10**-DECIMALS for g in point["gradient"])
    assert point["text"]["gradient"] == [format_number(g) for g in point["gradient"]]
    assert [text[-4:] for text in point["text"]["gradient"]] == ["e-05", "e-05"]


@pytest.mark.parametrize("key", ["paths", "slice_1d"])
def test_a_diverging_walk_writes_its_huge_losses_in_e_notation(key):
    data = landscape(steps=20, grid_points=5)
    paths = data["paths"] if key == "paths" else data["slice_1d"]["paths"]
    last = next(p for p in paths if p["learning_rate"] == 10.0)["points"][-1]
    assert last["loss"] > 1e6 and last["text"]["loss"] == format_number(last["loss"], signed=False)
    assert "e+" in last["text"]["loss"]
    first = next(p for p in paths if p["learning_rate"] == 10.0)["points"][0]
    why = next(p for p in paths if p["learning_rate"] == 10.0)["why"]  # shown beside the numbers: the same texts
    assert why == f"the loss ended higher than it started ({first['text']['loss']} → {last['text']['loss']})"


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(st.sampled_from([np.int64, np.int32, np.bool_]), hnp.array_shapes(max_dims=2, max_side=4)))
def test_a_matrix_of_whole_numbers_or_bools_is_shown_as_they_are(values: np.ndarray) -> None:
    """A class index is ``2``, not ``+2.0000``; a bool ``True``, as ``print`` of the tensor shows them (the target
    y of a classifier in the step-through view goes through ``matrix_json``)."""
    shown = np.array(matrix_json("y", "class y", values)["text"], dtype=object).ravel()
    expected = [str(bool(v)) if values.dtype == np.bool_ else str(int(v)) for v in values.ravel()]
    assert list(shown) == expected
