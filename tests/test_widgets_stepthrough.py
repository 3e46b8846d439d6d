"""gg.widgets.StepThrough: the playground's step-through for the learner's own model, in a notebook.

Requests go through the widget's message handler exactly as the front end sends them
(``{id, path, body}``); the views that come back must hold the numbers of the learner's model,
computed here: eagerly with glassgrad (forward values, each parameter's ``.grad`` after
``loss.backward()``, ``w − η·grad`` after an update) and, for float64, by hand in NumPy. The
browser side is tests/test_widgets_browser.py; a notebook run is tests/test_widgets_notebook.py.
"""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F

pytest.importorskip("anywidget", reason="the dev extra installs anywidget")
from glassgrad.widgets import stepthrough  # noqa: E402
from glassgrad.widgets.stepthrough import StepThrough  # noqa: E402

ACTIVATIONS = {"relu": gg.nn.ReLU, "tanh": gg.nn.Tanh, "sigmoid": gg.nn.Sigmoid}
TOLERANCE = {"float32": {"rtol": 1e-5, "atol": 1e-7}, "float64": {"rtol": 1e-12, "atol": 1e-14}}


def make_model(sizes: list[int], activation: str = "tanh", dtype: str = "float32", seed: int = 0) -> gg.nn.Module:
    gg.manual_seed(seed)
    layers: list[gg.nn.Module] = []
    for number, (into, out) in enumerate(zip(sizes, sizes[1:]), 1):
        layers.append(gg.nn.Linear(into, out))
        if number < len(sizes) - 1:
            layers.append(ACTIVATIONS[activation]())
    model = gg.nn.Sequential(*layers)
    return model.double() if dtype == "float64" else model


def ask(widget: StepThrough, path: str, **body) -> dict:
    """One request through the widget's message handler, as the front end sends it; the one reply."""
    replies = []
    widget.send = lambda content, buffers=None: replies.append(content)
    widget._handle_custom_msg({"id": "r7", "path": path, "body": body}, [])
    assert len(replies) == 1 and replies[0]["id"] == "r7"
    return replies[0]


def view(widget: StepThrough, actions: str, lr: float) -> dict:
    reply = ask(widget, "/api/step", lr=lr, actions=actions)
    assert "error" not in reply, reply
    return reply["data"]


def eager(model: gg.nn.Module, x: np.ndarray, y: np.ndarray, loss: str) -> dict:
    """The learner's model run as a learner runs it: every layer's output, the loss, every parameter's .grad."""
    outputs, a = [], gg.tensor(x[None, :])
    for module in model:
        a = module(a)
        outputs.append(a.array[0].copy())
    target = gg.tensor(y[None, :]) if loss == "mse" else gg.tensor(y)
    value = (F.mse_loss if loss == "mse" else F.cross_entropy)(a, target)
    model.zero_grad()
    value.backward()
    parameters = list(model.parameters())
    return {"outputs": outputs, "loss": float(value.array), "weights": [p.array.copy() for p in parameters],
            "grads": [p.grad.array.copy() for p in parameters]}


def values(matrix: dict) -> np.ndarray:
    return np.array(matrix["values"], dtype=np.float64)


def check_against_eager(model, x, y, loss, dtype, lr):
    """Forward, every Backward press, and Update: the views against the learner's model run eagerly."""
    widget = StepThrough(model, x, y, loss=loss, lr=lr)
    before = [p.array.copy() for p in model.parameters()]
    # the widget takes the target in the model's dtype: so does the reference (a float64 target now makes a
    # float32 model's loss float64, as in PyTorch, and a loss near 0 then differs in float32's last digits)
    target = np.asarray(y, dtype=dtype) if loss == "mse" else np.asarray(y)
    reference = eager(copy.deepcopy(model), np.asarray(x, dtype=dtype), target, loss)
    tolerance = TOLERANCE[dtype]
    depth = len(reference["weights"]) // 2
    start = view(widget, "", lr)
    assert start["loss"] is None and all(layer["Z"]["values"] is None for layer in start["layers"])
    forward = view(widget, "f", lr)
    assert forward["loss"]["value"] == pytest.approx(reference["loss"], rel=tolerance["rtol"])
    has_activation = len(reference["outputs"]) == 2 * depth - 1
    for number, layer in enumerate(forward["layers"]):
        z = reference["outputs"][2 * number if has_activation else number]
        np.testing.assert_allclose(values(layer["Z"]), z, **tolerance)
        a = reference["outputs"][2 * number + 1] if number < depth - 1 else z
        np.testing.assert_allclose(values(layer["A"]), a, **tolerance)
        assert layer["dW"]["values"] is None  # not before Backward reaches the layer
    backward = view(widget, "f" + " b" * depth, lr)
    assert backward["can"]["update"]
    for number, layer in enumerate(backward["layers"]):
        np.testing.assert_allclose(values(layer["W"]), reference["weights"][2 * number], **tolerance)
        np.testing.assert_allclose(values(layer["dW"]), reference["grads"][2 * number], **tolerance)
        np.testing.assert_allclose(values(layer["db"]), reference["grads"][2 * number + 1], **tolerance)
    updated = view(widget, "f" + " b" * depth + " u", lr)
    assert updated["updates"] == 1 and updated["loss"] is None
    for number, layer in enumerate(updated["layers"]):
        for kind, offset in (("W", 0), ("b", 1)):
            expected = reference["weights"][2 * number + offset] - lr * reference["grads"][2 * number + offset]
            np.testing.assert_allclose(values(layer[kind]), expected, **tolerance)
    for parameter, old in zip(model.parameters(), before):  # the widget moved a copy
        np.testing.assert_array_equal(parameter.array, old)
    return widget, backward


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_views_hold_the_learner_models_numbers(dtype, loss):
    model = make_model([3, 4, 3], "tanh", dtype, seed=4)
    y = [0.25, -1.0, 0.5] if loss == "mse" else [2]
    check_against_eager(model, [0.5, -1.0, 2.0], y, loss, dtype, lr=0.3)


@settings(max_examples=15)
@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4), activation=st.sampled_from(list(ACTIVATIONS)),
       seed=st.integers(0, 1000), dtype=st.sampled_from(["float32", "float64"]))
def test_any_stack_of_linear_layers_steps_through_with_its_own_numbers(sizes, activation, seed, dtype):
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(-1, 1, sizes[0]), 2)
    y = np.round(rng.uniform(-1, 1, sizes[-1]), 2)
    check_against_eager(make_model(sizes, activation, dtype, seed), x, y, "mse", dtype, lr=0.1)


def test_float64_numbers_equal_backprop_written_out_in_numpy():
    """An oracle apart from the engine: Z = W·x + b, A = tanh(Z), L = mean((ŷ − y)²) and backprop by hand."""
    model = make_model([2, 3, 2], "tanh", "float64", seed=1)
    x, y = np.array([0.5, -1.0]), np.array([1.0, 0.0])
    w1, b1, w2, b2 = (p.array.copy() for p in model.parameters())
    z1 = w1 @ x + b1
    a1 = np.tanh(z1)
    z2 = w2 @ a1 + b2
    dz2 = 2 * (z2 - y) / 2
    dz1 = (w2.T @ dz2) * (1 - a1**2)
    widget = StepThrough(model, gg.tensor([[0.5, -1.0]], dtype=gg.float64), gg.tensor([[1.0, 0.0]]), lr=0.5)
    shown = view(widget, "f b b", 0.5)
    first, second = shown["layers"]
    for got, expected in [(first["Z"], z1), (first["A"], a1), (second["Z"], z2), (second["dZ"], dz2),
                          (second["dW"], np.outer(dz2, a1)), (first["dZ"], dz1), (first["dW"], np.outer(dz1, x)),
                          (first["db"], dz1)]:
        np.testing.assert_allclose(values(got), expected, rtol=1e-12, atol=1e-15)
    assert shown["loss"]["value"] == pytest.approx(np.mean((z2 - y) ** 2), rel=1e-12)
    after = view(widget, "f b b u", 0.5)
    np.testing.assert_allclose(values(after["layers"][0]["W"]), w1 - 0.5 * np.outer(dz1, x), rtol=1e-12)


def test_a_clicked_number_is_explained_with_the_engines_numbers():
    model = make_model([2, 3, 2], "relu", "float64", seed=2)
    widget, shown = check_against_eager(model, [0.5, -1.0], [1.0, 0.0], "mse", "float64", lr=0.5)
    first, second = shown["layers"]
    reply = ask(widget, "/api/step/explain", lr=0.5, actions="f b b", cell="dW2[1,0]")
    data = reply["data"]
    gradient, activation = values(second["dZ"])[1], values(first["A"])[0]
    assert data["value"] == pytest.approx(values(second["dW"])[1, 0], rel=1e-12)
    assert data["value"] == pytest.approx(gradient * activation, rel=1e-12)
    assert [term["value"] for term in data["terms"]] == pytest.approx([gradient, activation], rel=1e-12)
    # round 115: "=" where the written factors' product is the written result (here a factor is 0), else "≈"
    written = math.prod(Fraction(factor.strip("()")) for factor in data["plugged"].split(" · "))
    relation = "=" if written == Fraction(data["result"]) else "≈"
    assert data["text"] == f"{data['label']} = {data['formula']} = {data['plugged']} {relation} {data['result']}"
    assert data["label"] == "∂L/∂W₂[2,1]" and "·" in data["formula"] and data["dtype"] == "float64"
    # an updated weight: its update, W ← W − η·∂L/∂W, with the gradient it used
    reply = ask(widget, "/api/step/explain", lr=0.5, actions="f b b u", cell="W2[1,0]")["data"]
    old = values(shown["layers"][1]["W"])[1, 0]
    assert [term["value"] for term in reply["terms"]] == pytest.approx([old, 0.5, values(second["dW"])[1, 0]])
    assert reply["value"] == pytest.approx(old - 0.5 * values(second["dW"])[1, 0], rel=1e-12)
    assert "η" in reply["formula"]


def test_a_new_learning_rate_and_an_edit_act_as_on_the_page():
    model = make_model([2, 2], dtype="float64", seed=3)
    widget = StepThrough(model, [1.0, 2.0], [0.0, 1.0])
    edited = view(widget, "W1[0,1]=0.5 f", 0.1)
    weight = model[0].weight.array.copy()
    weight[0, 1] = 0.5
    z = weight @ np.array([1.0, 2.0]) + model[0].bias.array
    np.testing.assert_allclose(values(edited["layers"][0]["Z"]), z, rtol=1e-12)
    stepped = view(widget, "f b lr=2 u", 0.1)
    grads = eager(copy.deepcopy(model), np.array([1.0, 2.0]), np.array([0.0, 1.0]), "mse")["grads"]
    np.testing.assert_allclose(values(stepped["layers"][0]["W"]), model[0].weight.array - 2 * grads[0], rtol=1e-12)
    # Reset keeps the η in use: the request's η, not the one the widget was made with
    reset = view(widget, "f b u", 0.7)
    assert reset["lr"] == 0.7
    np.testing.assert_allclose(values(reset["layers"][0]["W"]), model[0].weight.array - 0.7 * grads[0], rtol=1e-12)


# --- problems: one line each ------------------------------------------------------------------------


class Backwards(gg.nn.Module):
    """Registers its output layer first, then uses the layers the other way round."""

    def __init__(self) -> None:
        super().__init__()
        self.second = gg.nn.Linear(3, 2)
        self.first = gg.nn.Linear(2, 3)

    def forward(self, x):
        return self.second(F.relu(self.first(x)))


GOOD = {"model": lambda: make_model([2, 3, 2]), "x": [0.5, -1.0], "y": [1.0, 0.0]}
BAD = {
    "not a module": ({"model": lambda: [gg.nn.Linear(2, 2)]}, TypeError, "nn.Module"),
    "a batch": ({"x": np.ones((3, 2))}, ValueError, "one sample"),
    "an unknown loss": ({"loss": "l1"}, ValueError, 'loss="mse"'),
    "a float class": ({"y": gg.tensor([1.5]), "loss": "cross_entropy"}, ValueError, "class index"),
    "a summed loss": ({"loss": gg.nn.MSELoss(reduction="sum")}, ValueError, "loss="),
    "a wrong input size": ({"x": [1.0, 2.0, 3.0]}, ValueError, "does not fit"),
    "NaN in x": ({"x": [float("nan"), 1.0]}, ValueError, "NaN"),
    "float16": ({"model": lambda: make_model([2, 2]).half()}, ValueError, "float32 or float64"),
    "too wide": ({"model": lambda: make_model([20, 2]), "x": np.zeros(20)}, ValueError, "at most 16"),
    "layers out of order": ({"model": Backwards}, ValueError, "order"),
    "a layer it cannot show": ({"model": lambda: gg.nn.Sequential(gg.nn.Linear(2, 3), gg.nn.LayerNorm(3),
                                                                   gg.nn.Linear(3, 2))}, ValueError, "linear layers"),
    "a bad η": ({"lr": -1.0}, ValueError, "lr"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_what_it_cannot_step_through_is_named_in_one_line(case):
    change, kind, words = BAD[case]
    arguments = {**GOOD, **change}
    with pytest.raises(kind) as caught:
        StepThrough(arguments["model"](), arguments["x"], arguments["y"],
                    **{key: arguments[key] for key in ("loss", "lr") if key in arguments})
    message = str(caught.value)
    assert words in message and "\n" not in message, message


@pytest.mark.parametrize("body, words", [
    ({"lr": 0.1, "actions": "u"}, "Update needs every gradient"),
    ({"lr": 0.1, "actions": "f", "cell": "W9[0,0]"}, "does not exist"),
    ({"lr": 500.0, "actions": ""}, "out of range"),
    ({"lr": 0.1, "actions": "", "example": "moons"}, "unknown field 'example'"),
    ({"lr": 0.1, "actions": "zz"}, "not an action"),
])
def test_a_bad_request_is_answered_with_one_line(body, words):
    widget = StepThrough(GOOD["model"](), GOOD["x"], GOOD["y"])
    path = "/api/step/explain" if "cell" in body else "/api/step"
    reply = ask(widget, path, **body)
    assert words in reply["error"] and "\n" not in reply["error"] and "data" not in reply


def test_an_unknown_path_is_refused():
    widget = StepThrough(GOOD["model"](), GOOD["x"], GOOD["y"])
    assert ask(widget, "/api/train", lr=0.1, actions="")["error"] == "'/api/train' is not a step-through request"


def test_the_widget_carries_the_page_front_end_and_its_state():
    widget = StepThrough(GOOD["model"](), GOOD["x"], GOOD["y"], lr=0.25)
    state = widget.get_state()
    assert state["_esm"] == stepthrough.BUNDLE.read_text(encoding="utf-8")
    assert state["_styles"] == (stepthrough.STATIC / "app.css").read_text(encoding="utf-8")
    assert state["lr"] == 0.25 and state["actions"] == "" and "count" in state["_counting"].lower()


def test_without_its_bundle_it_says_how_to_build_it(monkeypatch, tmp_path):
    monkeypatch.setattr(stepthrough, "BUNDLE", tmp_path / "stepthrough.js")
    with pytest.raises(FileNotFoundError) as caught:
        StepThrough(GOOD["model"](), GOOD["x"], GOOD["y"])
    assert "npm run build" in str(caught.value) and "\n" not in str(caught.value)


def test_without_anywidget_it_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "anywidget", None)  # import anywidget fails, as where it is not installed
    monkeypatch.delitem(sys.modules, "glassgrad.widgets.stepthrough")
    with pytest.raises(ImportError) as caught:
        gg.widgets.StepThrough(GOOD["model"](), GOOD["x"], GOOD["y"])
    assert str(caught.value) == 'gg.widgets.StepThrough needs anywidget: pip install "glassgrad[notebook]"'


def test_import_glassgrad_loads_no_widget_library():
    code = ("import sys, glassgrad as gg; assert 'anywidget' not in sys.modules and 'glassgrad.widgets' not in "
            "sys.modules; gg.widgets; assert 'anywidget' not in sys.modules; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
