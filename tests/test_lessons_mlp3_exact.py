"""The mlp3 lesson in the lesson's own form: from the given ŷ = [0.5, 0.5, 0] and y = [0, 1, 0],
∂L/∂z₃ = [0.5, −0.5, 0] exactly, the [a | 1] layout, back to ∂L/∂W₁ — every number the engine's own,
checked against hand formulas in NumPy (float64) and PyTorch; and a real network whose softmax rounds
to [0.5, 0.5, 0] at the traces' display precision."""

from __future__ import annotations

import json

import numpy as np
import pytest

from glassgrad.cli import main
from glassgrad.lessons import mlp3
from glassgrad.trace import render
from glassgrad.trace.numbers import DECIMALS

GIVEN = np.array([0.5, 0.5, 0.0])
TARGET = np.array([0.0, 1.0, 0.0])


@pytest.fixture(scope="module")
def document():
    return mlp3.run()


def by_hand() -> dict[str, np.ndarray]:
    """The lesson's backward by hand, in NumPy (one sample as a column), from ∂L/∂z₃ = ŷ − y."""
    w = {name: np.array(values) for name, values in mlp3.LESSON_WEIGHTS.items()}
    x = np.array(mlp3.INPUT)
    z1 = w["0.weight"] @ x + w["0.bias"]
    a1 = np.maximum(z1, 0)
    z2 = w["2.weight"] @ a1 + w["2.bias"]
    a2 = np.maximum(z2, 0)
    dz3 = GIVEN - TARGET
    dz2 = (w["4.weight"].T @ dz3) * (z2 > 0)
    dz1 = (w["2.weight"].T @ dz2) * (z1 > 0)
    return {"4.weight": np.outer(dz3, a2), "4.bias": dz3, "2.weight": np.outer(dz2, a1), "2.bias": dz2,
            "0.weight": np.outer(dz1, x), "0.bias": dz1, "a2": a2, "a1": a1, "x": x, "dz3": dz3, "dz2": dz2,
            "dz1": dz1}


def test_trace_json_shows_the_lessons_output_gradient_exactly(capsys):
    assert main(["trace", "mlp3", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    lesson = document["lesson"]
    assert lesson["given_prediction"] == [0.5, 0.5, 0.0] and lesson["target"] == [0.0, 1.0, 0.0]
    assert lesson["output_gradient"] == [0.5, -0.5, 0.0]  # exactly: the engine's ŷ − y of the given values
    first = document["backward"][0]  # the engine's backward starts from that given gradient
    assert first["upstream"]["symbol"] == "∂L/∂Z₃" and first["upstream"]["values"] == [[0.5, -0.5, 0.0]]
    assert first["formula"] == "∂L/∂W₃ = ∂L/∂Z₃·A₂ᵀ"
    assert document["loss"] is None and not any(step["kind"] == "loss" for step in document["backward"])


def test_every_gradient_is_the_lessons_by_hand_value(document):
    expected = by_hand()
    for name, gradient in document["gradients"].items():
        np.testing.assert_allclose(np.ravel(gradient), np.ravel(expected[name]), rtol=0, atol=1e-15, err_msg=name)
    formulas = [step["formula"] for step in document["backward"]]
    assert formulas[0] == "∂L/∂W₃ = ∂L/∂Z₃·A₂ᵀ" and formulas[-2:] == ["∂L/∂W₁ = ∂L/∂Z₁·Xᵀ", "∂L/∂b₁ = ∂L/∂Z₁"]
    assert all(formula.startswith("∂L/∂") for formula in formulas)  # gradients of L, not of Z₃
    masks = [step["local"]["values"] for step in document["backward"] if step["kind"] == "activation"]
    np.testing.assert_array_equal(masks[0], [[1.0, 1.0, 0.0, 1.0]])  # Z₂ = [1, 2, −1, 1]: unit 3 is off
    np.testing.assert_array_equal(masks[1], [[1.0, 0.0, 1.0, 1.0]])  # Z₁ = [1.2, −0.5, 1.6, 0.5]: unit 2 is off


@pytest.mark.torch
def test_the_given_values_backward_equals_pytorchs(document, torch):
    params = {name: torch.tensor(values, dtype=torch.float64, requires_grad=True)
              for name, values in mlp3.LESSON_WEIGHTS.items()}
    h = torch.tensor([mlp3.INPUT], dtype=torch.float64)
    for layer in ("0", "2"):
        h = torch.relu(h @ params[f"{layer}.weight"].T + params[f"{layer}.bias"])
    scores = h @ params["4.weight"].T + params["4.bias"]
    scores.backward(torch.tensor((GIVEN - TARGET)[None], dtype=torch.float64))
    for name, param in params.items():
        np.testing.assert_allclose(document["gradients"][name], param.grad.numpy(), rtol=0, atol=1e-15)


def test_bias_column_layout_gives_weight_and_bias_gradients(document):
    expected = by_hand()
    table = next(t for t in document["tables"] if "[a | 1]" in t["title"])
    rows = {row[0]: row[1] for row in table["rows"]}
    for source, dz, weight in (("A₂", "dz3", "4"), ("A₁", "dz2", "2"), ("X", "dz1", "0")):
        source_values = {"A₂": expected["a2"], "A₁": expected["a1"], "X": expected["x"]}[source]
        np.testing.assert_array_equal(rows[f"[{source} | 1]"], [np.append(source_values, 1.0)])
        gradient = next(value for label, value in rows.items() if label.startswith("∂L/∂[") and f"[{source} | 1]"
                        in label)
        by_outer = np.outer(expected[dz], np.append(source_values, 1.0))  # ∂L/∂z · [a | 1]
        np.testing.assert_allclose(gradient, by_outer, rtol=0, atol=1e-15)
        together = np.column_stack([document["gradients"][f"{weight}.weight"], document["gradients"][f"{weight}.bias"]])
        np.testing.assert_allclose(gradient, together, rtol=0, atol=1e-15)  # its last column is ∂L/∂b


@pytest.mark.parametrize("format", ["text", "md", "html", "json"])
def test_every_format_shows_the_a_1_layout_and_says_the_values_are_given(document, format):
    page = render(document, format)
    assert "[a | 1]" in page and "[A₂ | 1]" in page
    assert "Z₃.backward(∂L/∂Z₃)" in page and "a softmax never" in page.lower()
    assert "[a₂ | 1]" in page  # the lesson's own spelling, in the explanation


def test_the_real_network_rounds_to_the_given_prediction_but_never_reaches_zero(document):
    real = document["real_network"]
    z3 = next(step for step in real["forward"] if step["output"]["symbol"] == "Z₃")["output"]["values"][0]
    exps = np.exp(z3 - z3.max())
    softmax = exps / exps.sum()  # independent of the engine
    np.testing.assert_allclose(document["lesson"]["real"]["probabilities"], softmax, rtol=1e-14)
    np.testing.assert_array_equal(np.round(softmax, DECIMALS), GIVEN)
    assert 0 < softmax[2] < 0.5 * 10**-DECIMALS  # a softmax is never exactly 0
    np.testing.assert_allclose(real["backward"][0]["output"]["values"][0], softmax - TARGET, rtol=0, atol=1e-15)
    for name, gradient in real["gradients"].items():  # close to the given-values gradients: within the rounding
        np.testing.assert_allclose(gradient, document["gradients"][name], rtol=0, atol=1e-4)
