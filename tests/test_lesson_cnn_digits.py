"""The cnn-digits lesson: ≥ 98 % validation accuracy, and the worked cell's numbers are the engine's."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.lessons import LESSONS, lesson
from glassgrad.trace.counting import entry


@pytest.fixture(scope="module")
def document():
    return lesson("cnn-digits")


def test_the_lesson_is_registered_and_its_cnn_reaches_98_percent_on_the_validation_split(document):
    assert "cnn-digits" in LESSONS
    info = document["lesson"]
    assert info["validation_accuracy"] >= 0.98
    assert len(info["accuracy_by_epoch"]) == info["epochs"]


def test_the_worked_cell_is_its_receptive_field_times_the_kernel_plus_the_bias(document):
    info = document["lesson"]
    n, channel, row, column = info["cell"]
    conv = document["forward"][0]
    values = {item["role"]: item["values"] for item in conv["inputs"]}
    x, weight, bias = values["input"], values["weight"], values["bias"]
    z = conv["output"]["values"]
    field = x[n, 0, row - 1:row + 2, column - 1:column + 2]
    independent = float((weight[channel, 0] * field).sum() + bias[channel])
    assert info["forward"]["value"] == z[n, channel, row, column]
    assert independent == pytest.approx(z[n, channel, row, column], rel=1e-5)
    terms = [term["value"] for term in info["forward"]["terms"]]
    shown = sum(terms[i] * terms[i + 1] for i in range(0, 18, 2)) + terms[18]
    assert len(terms) == 19 and shown == pytest.approx(z[n, channel, row, column], rel=1e-5)
    np.testing.assert_array_equal(terms[0:18:2], weight[channel, 0].ravel())
    np.testing.assert_array_equal(terms[1:18:2], field.ravel())
    first = f"{entry('Z₁', (n, channel, row, column))} = {entry('W₁', (channel, 0, 0, 0))}·"
    assert info["forward"]["text"].startswith(first)


def test_the_weights_gradient_is_the_sum_over_positions_and_the_engines(document):
    info = document["lesson"]
    channel, k, u, v = info["weight"]
    step = next(s for s in document["backward"] if s["output"]["of"] == "W₁")
    upstream = step["upstream"]["values"]
    x = next(item["values"] for item in step["inputs"] if item.get("role") == "input")
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    independent = float((upstream[0, channel] * padded[0, k, u:u + 8, v:v + 8]).sum())
    assert info["weight_gradient"]["value"] == step["output"]["values"][channel, k, u, v]
    assert independent == pytest.approx(info["weight_gradient"]["value"], rel=1e-4, abs=1e-9)
    terms = [term["value"] for term in info["weight_gradient"]["terms"]]
    assert sum(terms[i] * terms[i + 1] for i in range(0, len(terms), 2)) == pytest.approx(
        info["weight_gradient"]["value"], rel=1e-4, abs=1e-9)
    assert document["gradients"]["0.weight"][channel, k, u, v] == info["weight_gradient"]["value"]
    assert info["weight_gradient"]["text"].startswith(
        f"{entry('∂L/∂W₁', (channel, 0, 1, 1))} = {entry('∂L/∂Z₁', (0, channel, 0, 0))}·{entry('X', (0, 0, 0, 0))} + ")


def test_the_lessons_model_rebuilds_from_its_architecture():
    from glassgrad.lessons.cnn_digits import build_model
    gg.manual_seed(0)
    model = build_model()
    rebuilt = gg.nn.from_architecture(gg.nn.architecture(model), model.state_dict())
    x = gg.randn(2, 1, 8, 8)
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())
