"""The scalar view (``glassgrad trace NAME --scalar``): one box per number, gradients from the engine.

Oracles: the model's own ``.grad`` after one backward pass (weights and biases); the network
worked out by hand in NumPy float64, with ``∂L/∂ŷ = 2(ŷ − y)/n``, ``∂L/∂A₁ = W₂ᵀ·∂L/∂ŷ`` and
``∂L/∂Z₁ = ∂L/∂A₁ ⊙ [Z₁ > 0]`` (products, sums and loss items); PyTorch for random small networks.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from one_line_errors import assert_glassgrad_refuses

import glassgrad as gg
from glassgrad.cli import main
from glassgrad.lessons import lesson
from glassgrad.lessons.diagonal_flip import INPUT, LESSON_WEIGHTS, TARGET, lesson_model, sample
from glassgrad.nn.functional import mse_loss
from glassgrad.trace.scalar import MAX_PARAMETERS, scalar_boxes


@pytest.fixture(scope="module")
def document():
    return lesson("diagonal-flip")


@pytest.fixture(scope="module")
def boxes(document):
    return {box.name: box for box in scalar_boxes(document)}


@pytest.fixture(scope="module")
def by_hand():
    """The lesson network forward and backward in NumPy float64, written out."""
    w1, b1 = np.array(LESSON_WEIGHTS["0.weight"]), np.array(LESSON_WEIGHTS["0.bias"])
    w2, b2 = np.array(LESSON_WEIGHTS["2.weight"]), np.array(LESSON_WEIGHTS["2.bias"])
    x, y = np.array(INPUT), np.array(TARGET)
    z1 = w1 @ x + b1
    a1 = np.maximum(z1, 0)
    prediction = w2 @ a1 + b2
    d_prediction = 2 * (prediction - y) / 4
    d_a1 = w2.T @ d_prediction
    d_z1 = d_a1 * (z1 > 0)
    return {"x": x, "y": y, "W₁": w1, "b₁": b1, "W₂": w2, "b₂": b2, "Z₁": z1, "A₁": a1, "ŷ": prediction,
            "∂ŷ": d_prediction, "∂A₁": d_a1, "∂Z₁": d_z1, "L": float(np.mean((prediction - y) ** 2))}


def test_every_weight_box_has_the_models_gradient_of_that_weight(document, boxes):
    model = lesson_model()
    x, y = sample()
    mse_loss(model(x), y).backward()
    symbols = document["symbols"]
    checked = 0
    for name, parameter in model.named_parameters():
        grad = parameter.grad.numpy()
        for index in np.ndindex(*parameter.shape):
            box = boxes[f"{symbols[name]}[{','.join(map(str, index))}]"]
            assert box.grad == pytest.approx(float(grad[index]), rel=1e-12, abs=1e-15)
            assert box.value == float(parameter.numpy()[index])
            checked += 1
    assert checked == 31 <= MAX_PARAMETERS


def test_every_product_box_is_w_times_x_with_the_gradient_of_its_sum(boxes, by_hand):
    layers = [("W₁", "X", by_hand["x"], "∂Z₁"), ("W₂", "A₁", by_hand["A₁"], "∂ŷ")]
    for weight, inputs, values, upstream in layers:
        w = by_hand[weight]
        for i, j in np.ndindex(*w.shape):
            box = boxes[f"{weight}[{i},{j}]·{inputs}[{j}]"]
            assert box.op == "·" and box.inputs == [f"{weight}[{i},{j}]", f"{inputs}[{j}]"]
            assert box.value == pytest.approx(w[i, j] * values[j], abs=1e-15)
            assert box.grad == pytest.approx(by_hand[upstream][i], abs=1e-15)


def test_each_output_is_a_chain_of_additions_ending_in_the_engines_value(boxes, by_hand):
    for symbol, bias in (("Z₁", "b₁"), ("ŷ", "b₂")):
        for i, expected in enumerate(by_hand[symbol]):
            box = boxes[f"{symbol}[{i}]"]
            assert box.op == "+" and box.value == pytest.approx(expected, abs=1e-15)
            chain = []
            while box.op == "+":  # walk back to the bias, the first summand (micrograd's order)
                chain.append(box)
                box = boxes[box.inputs[0]]
            assert box.name == f"{bias}[{i}]" and len(chain) == by_hand["W₁" if symbol == "Z₁" else "W₂"].shape[1]
            running = by_hand[bias][i]
            for link in reversed(chain):
                running += boxes[link.inputs[1]].value
                assert link.value == pytest.approx(running, abs=1e-15)
                assert link.grad == pytest.approx(by_hand["∂Z₁" if symbol == "Z₁" else "∂ŷ"][i], abs=1e-15)


def test_relu_boxes_and_the_loss_pieces(boxes, by_hand):
    for i in range(3):
        box = boxes[f"A₁[{i}]"]
        assert box.title == f"A₁[{i}] = ReLU(Z₁[{i}])" and box.inputs == [f"Z₁[{i}]"]
        assert box.value == by_hand["A₁"][i] and box.grad == pytest.approx(by_hand["∂A₁"][i], abs=1e-15)
    for k in range(4):
        assert boxes[f"ŷ[{k}]"].grad == pytest.approx(by_hand["∂ŷ"][k], abs=1e-15)
        item = boxes[f"L item {k}"]
        assert item.title == f"(ŷ[{k}] − y[{k}])²" and item.inputs == [f"ŷ[{k}]", f"y[{k}]"]
        assert item.value == pytest.approx((by_hand["ŷ"][k] - by_hand["y"][k]) ** 2, abs=1e-15)
        assert item.grad == pytest.approx(1 / 4)
        assert boxes[f"y[{k}]"].grad is None  # data: the engine computes no gradient for it
    loss = boxes["L"]
    assert loss.value == pytest.approx(by_hand["L"], rel=1e-15) and loss.grad == 1.0
    assert boxes[loss.inputs[0]].value == pytest.approx(4 * by_hand["L"], rel=1e-15)


def test_the_linear_regression_lesson_splits_too_and_its_two_gradients_are_the_sums():
    document = lesson("linear-regression")
    boxes = {box.name: box for box in scalar_boxes(document)}
    x = np.asarray(document["ops"]["forward"][0]["inputs"][1]["values"], dtype=np.float64).ravel()
    y = np.asarray(document["ops"]["forward"][2]["inputs"][1]["values"], dtype=np.float64).ravel()
    w0, w1 = boxes["w₀"].value, boxes["w₁"].value
    error = w0 + w1 * x - y
    assert boxes["w₀"].grad == pytest.approx(error.sum(), rel=1e-12)        # ∂(½Σe²)/∂w₀ = Σ e
    assert boxes["w₁"].grad == pytest.approx((error * x).sum(), rel=1e-12)  # ∂(½Σe²)/∂w₁ = Σ e·x
    assert boxes["L"].value == pytest.approx(0.5 * (error ** 2).sum(), rel=1e-12)


def test_a_network_over_the_limit_is_refused_in_one_line_naming_it():
    assert_glassgrad_refuses(lambda gg: scalar_boxes(lesson("mlp3")), ValueError,
                             r"at most 40 parameters \(one box each\) and this one has 55")


@pytest.mark.parametrize("format", ["svg", "html", "json"])
def test_the_cli_writes_each_format(format, tmp_path):
    path = tmp_path / f"scalar.{format}"
    assert main(["trace", "diagonal-flip", "--scalar", "--format", format, "--out", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    if format == "json":
        data = json.loads(text)
        assert len(data["boxes"]) == 98 and "from 0" in data["note"]
    else:
        svg = text[text.index("<svg"):text.index("</svg>") + 6]
        root = ElementTree.fromstring(svg)
        assert sum(1 for element in root.iter() if element.tag.endswith("rect")) == 98
        assert "W₂[0,0]·A₁[0]" in text and "L = Σ/4" in text


@pytest.mark.parametrize("argv, message", [
    (["trace", "mlp3", "--scalar", "--format", "svg"], "at most 40 parameters"),
    (["trace", "diagonal-flip", "--scalar"], "--scalar draws boxes: give --format svg, html, json"),
    (["trace", "diagonal-flip", "--scalar", "--format", "md"], "--scalar draws boxes"),
    (["trace", "diagonal-flip", "--scalar", "--ops", "--format", "svg"], "--ops and --scalar are two views"),
])
def test_bad_requests_are_one_line_errors(argv, message, capsys):
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


@pytest.mark.torch
@given(inputs=st.integers(1, 4), hidden=st.integers(1, 4), outputs=st.integers(1, 3), tanh=st.booleans(),
       seed=st.integers(0, 2**16))
def test_random_small_networks_match_pytorch_box_by_box(torch, inputs, hidden, outputs, tanh, seed):
    model = gg.nn.Sequential(gg.nn.Linear(inputs, hidden, dtype=gg.float64),
                             gg.nn.Tanh() if tanh else gg.nn.ReLU(), gg.nn.Linear(hidden, outputs, dtype=gg.float64))
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(1, inputs)), rng.normal(size=(1, outputs))
    x_tensor = gg.tensor(x, dtype=gg.float64)
    with gg.trace(model) as tape:
        tape.name(x_tensor, "X")
        gg.nn.functional.mse_loss(model(x_tensor), gg.tensor(y, dtype=gg.float64)).backward()
    document = tape.describe()
    count = sum(p.numel() for p in model.parameters())
    if count > MAX_PARAMETERS:
        with pytest.raises(ValueError, match="at most 40 parameters"):
            scalar_boxes(document)
        return
    boxes = {box.name: box for box in scalar_boxes(document)}
    weights = [torch.tensor(p.numpy(), requires_grad=True) for p in model.parameters()]
    z1 = torch.tensor(x) @ weights[0].T + weights[1]
    z1.retain_grad()
    prediction = (torch.tanh(z1) if tanh else torch.relu(z1)) @ weights[2].T + weights[3]
    prediction.retain_grad()
    torch.nn.functional.mse_loss(prediction, torch.tensor(y)).backward()
    symbols = document["symbols"]
    for (name, _), reference in zip(model.named_parameters(), weights):
        for index in np.ndindex(*reference.shape):
            box = _weight_box(boxes, symbols[name], tuple(reference.shape), index)
            assert box.grad == pytest.approx(reference.grad.numpy()[index], rel=1e-9, abs=1e-12)
    for i, j in np.ndindex(hidden, inputs):
        product = next(b for b in boxes.values() if b.op == "·" and b.inputs[0] == _weight_box(
            boxes, symbols["0.weight"], (hidden, inputs), (i, j)).name)
        assert product.value == pytest.approx(weights[0][i, j].item() * x[0, j], rel=1e-12, abs=1e-15)
        assert product.grad == pytest.approx(z1.grad[0, i].item(), rel=1e-9, abs=1e-12)


def _weight_box(boxes: dict, symbol: str, shape: tuple, index: tuple):
    """The box of one entry, named as the view names it (axes of length 1 left out)."""
    from glassgrad.trace.scalar import entry_name

    return boxes[entry_name(symbol, shape, index)]
