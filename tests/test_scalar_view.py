"""The scalar view (``glassgrad trace NAME --scalar``): one box per number, gradients from the engine.

Boxes are named as the traces name positions, counting from 1 (``W₁[1,3]`` is the code's ``W₁[0, 2]``):
the names below are written out by hand from the code's indices.

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
            box = boxes[f"{symbols[name]}[{','.join(str(i + 1) for i in index)}]"]
            assert box.entry == (symbols[name], list(index))  # the code's index travels with the box
            assert box.grad == pytest.approx(float(grad[index]), rel=1e-12, abs=1e-15)
            assert box.value == float(parameter.numpy()[index])
            checked += 1
    assert checked == 31 <= MAX_PARAMETERS


def test_every_product_box_is_w_times_x_with_the_gradient_of_its_sum(boxes, by_hand):
    layers = [("W₁", "X", by_hand["x"], "∂Z₁"), ("W₂", "A₁", by_hand["A₁"], "∂ŷ")]
    for weight, inputs, values, upstream in layers:
        w = by_hand[weight]
        for i, j in np.ndindex(*w.shape):
            box = boxes[f"{weight}[{i + 1},{j + 1}]·{inputs}[{j + 1}]"]
            assert box.op == "·" and box.inputs == [f"{weight}[{i + 1},{j + 1}]", f"{inputs}[{j + 1}]"]
            assert box.value == pytest.approx(w[i, j] * values[j], abs=1e-15)
            assert box.grad == pytest.approx(by_hand[upstream][i], abs=1e-15)


def test_each_output_is_a_chain_of_additions_ending_in_the_engines_value(boxes, by_hand):
    for symbol, bias in (("Z₁", "b₁"), ("ŷ", "b₂")):
        for i, expected in enumerate(by_hand[symbol]):
            box = boxes[f"{symbol}[{i + 1}]"]
            assert box.op == "+" and box.value == pytest.approx(expected, abs=1e-15)
            chain = []
            while box.op == "+":  # walk back to the bias, the first summand (micrograd's order)
                chain.append(box)
                box = boxes[box.inputs[0]]
            assert box.name == f"{bias}[{i + 1}]" and len(chain) == by_hand["W₁" if symbol == "Z₁" else "W₂"].shape[1]
            running = by_hand[bias][i]
            for link in reversed(chain):
                running += boxes[link.inputs[1]].value
                assert link.value == pytest.approx(running, abs=1e-15)
                assert link.grad == pytest.approx(by_hand["∂Z₁" if symbol == "Z₁" else "∂ŷ"][i], abs=1e-15)


def test_relu_boxes_and_the_loss_pieces(boxes, by_hand):
    for i in range(3):
        box = boxes[f"A₁[{i + 1}]"]
        assert box.title == f"A₁[{i + 1}] = ReLU(Z₁[{i + 1}])" and box.inputs == [f"Z₁[{i + 1}]"]
        assert box.label == f"A₁[{i + 1}] (A₁[0, {i}] in code)"  # the batch axis of length 1 is left out of the name
        assert box.value == by_hand["A₁"][i] and box.grad == pytest.approx(by_hand["∂A₁"][i], abs=1e-15)
    for k in range(4):
        assert boxes[f"ŷ[{k + 1}]"].grad == pytest.approx(by_hand["∂ŷ"][k], abs=1e-15)
        item = boxes[f"L item {k + 1}"]
        assert item.title == f"(ŷ[{k + 1}] − y[{k + 1}])²" and item.inputs == [f"ŷ[{k + 1}]", f"y[{k + 1}]"]
        assert item.value == pytest.approx((by_hand["ŷ"][k] - by_hand["y"][k]) ** 2, abs=1e-15)
        assert item.grad == pytest.approx(1 / 4)
        assert boxes[f"y[{k + 1}]"].grad is None  # data: the engine computes no gradient for it
    loss = boxes["L"]
    assert loss.value == pytest.approx(by_hand["L"], rel=1e-15) and loss.grad == 1.0
    assert boxes[loss.inputs[0]].value == pytest.approx(4 * by_hand["L"], rel=1e-15)


def test_a_per_row_loss_names_its_rows_and_partial_sums_counting_from_1():
    model = gg.nn.Sequential(gg.nn.Linear(2, 3, dtype=gg.float64))
    x = np.array([[1.0, 2.0], [0.5, -1.0]])
    targets = [2, 0]
    inputs = gg.tensor(x, dtype=gg.float64)
    with gg.trace(model) as tape:
        tape.name(inputs, "X")
        gg.nn.functional.cross_entropy(model(inputs), gg.tensor(targets)).backward()
    boxes = {box.name: box for box in scalar_boxes(tape.describe())}
    scores = x @ model[0].weight.numpy().T + model[0].bias.numpy()
    log_softmax = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    for row in range(2):
        item = boxes[f"L item {row + 1}"]  # row 1 is the code's row 0
        assert item.title == f"log softmax(Z₁[{row + 1}])[y[{row + 1}]]"
        assert item.inputs == [f"Z₁[{row + 1},{k + 1}]" for k in range(3)]
        assert item.value == pytest.approx(log_softmax[row, targets[row]], rel=1e-12)
        assert item.grad == pytest.approx(-1 / 2)  # L = −(item 1 + item 2)/2
    assert boxes["L partial sum 1"].inputs == ["L item 1", "L item 2"]
    assert boxes["Z₁[2,3] partial sum 1"].inputs == ["b₁[3]", "W₁[3,1]·X[2,1]"]
    assert boxes["Z₁[2,3]"].entry == ("Z₁", [1, 2]) and boxes["Z₁[2,3]"].label == "Z₁[2,3] (Z₁[1, 2] in code)"


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
        assert len(data["boxes"]) == 98 and "Positions count from 1" in data["note"] and data["version"] == 2
        box = next(b for b in data["boxes"] if b["name"] == "W₂[1,3]")
        assert box["entry"] == ["W₂", [0, 2]] and box["label"] == "W₂[1,3] (W₂[0, 2] in code)"
    else:
        svg = text[text.index("<svg"):text.index("</svg>") + 6]
        root = ElementTree.fromstring(svg)
        assert sum(1 for element in root.iter() if element.tag.endswith("rect")) == 98
        assert "W₂[1,1]·A₁[1]" in text and "L = Σ/4" in text and "W₂[0,0]" not in text
        assert "Positions count from 1" in text  # the drawing's title states the convention


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
