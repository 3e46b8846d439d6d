"""The playground's JSON API (Starlette's ASGI test client): every endpoint, good and bad input.

Oracles: finite differences in float64 of a NumPy forward pass written here, PyTorch's autograd,
the lesson's hand-derived numbers, and the update rule ``w ← w − η·g`` checked by hand.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.playground import create_app, training
from glassgrad.playground.safety import MAX_BODY_BYTES, ApiError, JobStore, host_is_allowed
from glassgrad.trace.counting import CONVENTION

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
starlette_testclient = pytest.importorskip("starlette.testclient")

STATIC = Path(__file__).resolve().parents[1] / "glassgrad" / "playground" / "static"
JSON = {"content-type": "application/json"}  # raw bodies sent as the page sends them
ACTIVATE = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
            "identity": lambda z: z}


@pytest.fixture
def client(tmp_path):
    app = create_app(output_dir=tmp_path / "out", max_jobs=2)
    with starlette_testclient.TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def step(client, **body):
    response = client.post("/api/step", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def error_of(response, status):
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert isinstance(message, str) and len(message) > 10
    return message


def network_of(view):
    """The network's numbers as the API reports them, in float64."""
    layers = [(np.array(layer["W"]["values"], dtype=np.float64), np.array(layer["b"]["values"], dtype=np.float64),
               layer["activation"]) for layer in view["layers"]]
    return layers, np.array(view["input"]["values"], dtype=np.float64), np.array(view["target"]["values"])


def numpy_loss(layers, x, target, loss):
    """The loss written out in NumPy, float64: the independent forward pass."""
    a = x
    for weight, bias, activation in layers:
        a = ACTIVATE[activation](weight @ a + bias)
    if loss == "mse":
        return np.mean((a - target) ** 2)
    shifted = a - a.max()
    return -(shifted[int(target[0])] - np.log(np.exp(shifted).sum()))


def finite_difference(function, array, eps=1e-6):
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + eps
        plus = function()
        array[index] = saved - eps
        minus = function()
        array[index] = saved
        grad[index] = (plus - minus) / (2 * eps)
    return grad


# --- the page and its files ----------------------------------------------------------------------


def test_index_and_static_files_are_served_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and '<script type="module" src="/static/main.js">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for path in STATIC.iterdir():
        if path.is_dir():  # static/build/: the bundles built from frontend/ (not in git), tested with their views
            continue
        response = client.get(f"/static/{path.name}")
        assert response.status_code == 200, path.name
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", response.text), f"{path.name} loads from elsewhere"
        assert not re.search(r"import\((?![\"']\./)", response.text), f"{path.name} imports from elsewhere"
        assert "cdn" not in response.text.lower()


def test_options_list_what_the_page_offers(client):
    options = client.get("/api/options").json()
    assert [e["name"] for e in options["examples"]] == ["diagonal-flip", "mlp3", "moons", "custom"]
    assert {o["name"] for o in options["optimizers"]} == {"sgd", "momentum", "adam"}
    assert "moons" in options["datasets"] and "forward-blank" in [k["name"] for k in options["practice_kinds"]]
    assert options["limits"]["jobs"] == 2
    assert {e["name"]: e["seeded"] for e in options["examples"]} == {"diagonal-flip": False, "mlp3": False,
                                                                       "moons": True, "custom": True}
    assert set(options["two_d"]) == {"moons", "circles", "xor", "spirals"} < set(options["datasets"])
    assert options["counting"] == CONVENTION and "count from 1" in options["counting"]


def test_unknown_paths_and_methods_answer_json(client):
    assert "nothing at" in error_of(client.get("/api/nope"), 404)
    assert "not allowed" in error_of(client.get("/api/step"), 405)


# --- safety ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1", "127.0.0.1:1", "[::1]", "[::1]:8080",
                                  "LocalHost:80"])
def test_local_host_names_are_answered(client, host):
    assert client.get("/api/options", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.1.nip.io",
                                  "localhost:99999", "localhost:abc", "[::1]x", "::1", "0.0.0.0:8000", ""])
def test_other_host_names_get_400_against_dns_rebinding(client, host):
    assert "DNS-rebinding" in error_of(client.get("/api/options", headers={"host": host}), 400)
    assert client.get("/", headers={"host": host}).status_code == 400


@given(st.from_regex(r"[a-z0-9.-]{1,30}(:[0-9]{1,5})?", fullmatch=True))
def test_only_the_three_local_names_pass_the_allow_list(host):
    name = host.split(":")[0]
    assert host_is_allowed(host) == (name in ("localhost", "127.0.0.1") and
                                     (":" not in host or 0 < int(host.split(":")[1]) < 65536))


def test_large_bodies_get_413_declared_or_streamed(client):
    big = b'{"actions": "' + b"f " * MAX_BODY_BYTES + b'"}'
    assert "too large" in error_of(client.post("/api/step", content=big, headers=JSON), 413)
    chunks = (b"x" * 8192 for _ in range(MAX_BODY_BYTES // 8192 + 2))  # no Content-Length: chunked
    assert "too large" in error_of(client.post("/api/step", content=chunks, headers=JSON), 413)


@pytest.mark.parametrize("body, status, words", [
    (b"{not json", 400, "not valid JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (b'{"lr": NaN}', 422, "NaN is not a number"),
    (b'{"lr": Infinity}', 422, "Infinity is not a number"),
    (b'{"lr": 1e999}', 422, "finite"),
    (b'{"lr": -1}', 422, "out of range"),
    (b'{"lr": true}', 422, "must be a number"),
    (b'{"seed": 1.5}', 422, "whole number"),
    (b'{"example": "resnet"}', 422, "choose one of diagonal-flip, mlp3, moons, custom"),
    (b'{"exampel": "mlp3"}', 422, "unknown field 'exampel'"),
    (b'{"example": "custom", "sizes": [2, 1000000, 2]}', 422, "1000000 neurons is out of range"),
    (b'{"example": "custom", "sizes": [2, 2, 2, 2, 2, 2, 2, 2]}', 422, "too many"),
    (b'{"example": "custom", "sizes": "2,x,2"}', 422, "list of whole numbers"),
    (b'{"example": "custom", "sizes": [3]}', 422, "at least an input and an output"),
    (b'{"actions": "b"}', 422, "press Forward first"),
    (b'{"actions": "f f"}', 422, "already done"),
    (b'{"actions": "f b u"}', 422, "Update needs every gradient"),
    (b'{"actions": "f b b b"}', 422, "nothing left to backward"),
    (b'{"actions": "jump"}', 422, "not an action"),
    (b'{"actions": "W9[0,0]=1"}', 422, "only W1"),
    (b'{"actions": "W1[7,0]=1"}', 422, "outside W1"),
    (b'{"actions": "W1[0,0]=1e999"}', 422, "finite"),
    (b'{"actions": "W1[0,0]=1e9"}', 422, "from -100 to 100"),
    (b'{"actions": "W1[0,0]=1..2"}', 422, "not a number"),
    (b'{"actions": "W1[0,0]=nan"}', 422, "finite number"),
    (b'{"actions": "x[0]=-inf"}', 422, "finite number"),
    (b'{"actions": "lr=0"}', 422, "out of range"),
    (b'{"actions": "lr=fast"}', 422, "not a number"),
])
def test_bad_step_inputs_get_a_4xx_that_names_the_problem(client, body, status, words):
    assert words in error_of(client.post("/api/step", content=body, headers=JSON), status)


def test_too_many_actions_to_replay_are_refused(client):
    assert "too many" in error_of(client.post("/api/step", json={"actions": "f " * 401}), 422)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12),
       st.sampled_from(["/api/step", "/api/step/explain", "/api/train", "/api/train/compare", "/api/practice/new",
                        "/api/practice/check"]),
       st.sampled_from(["example", "actions", "cell", "config", "rates", "kind", "answer", "seed", "lr", "steps"]))
def test_no_input_makes_a_server_error(value, path, key):
    app = create_app(output_dir="/nonexistent-never-written", max_jobs=1)
    with starlette_testclient.TestClient(app, base_url="http://localhost") as fuzz_client:
        for body in (value, {key: value}):
            response = fuzz_client.post(path, content=json.dumps(body).encode(), headers=JSON)
            assert response.status_code < 500, response.text
            assert isinstance(response.json(), dict)


# --- step-through ------------------------------------------------------------------------------------


def test_diagonal_flip_forward_gives_the_lessons_numbers(client):
    view = step(client, example="diagonal-flip", actions="f")
    np.testing.assert_allclose(view["prediction"]["values"], [0.1, -0.1, -0.05, -0.25], atol=1e-6)
    assert view["loss"]["value"] == pytest.approx(3.585 / 4, abs=1e-6)  # ((−.9)² + (−1.1)² + .05² + (−1.25)²)/4
    assert view["loss"]["text"] == "0.8963" and view["prediction"]["text"][1] == "-0.1000"
    assert all(layer["dW"]["values"] is None for layer in view["layers"])
    assert view["can"] == {"forward": False, "backward": True, "update": False, "step_back": True}


def test_gradients_fill_in_layer_by_layer_from_the_output(client):
    one = step(client, example="mlp3", actions="f b")
    assert [layer["dW"]["values"] is None for layer in one["layers"]] == [True, True, False]
    two = step(client, example="mlp3", actions="f b b")
    assert [layer["dW"]["values"] is None for layer in two["layers"]] == [True, False, False]
    assert two["layers"][2]["dW"]["values"] == one["layers"][2]["dW"]["values"]
    assert "layer 2" in two["narration"] and two["stage"] == 3


@pytest.mark.parametrize("example, body", [
    ("diagonal-flip", {}), ("mlp3", {}), ("moons", {"seed": 3}),
    ("custom", {"sizes": [3, 4, 2], "activation": "sigmoid", "loss": "mse", "seed": 5}),
    ("custom", {"sizes": [2, 3, 3, 3], "activation": "tanh", "loss": "cross_entropy", "seed": 1}),
])
def test_every_gradient_matches_finite_differences(client, example, body):
    first = step(client, example=example, **body, actions="f")
    view = step(client, example=example, **body, actions=" ".join(["f"] + ["b"] * (first["last_stage"] - 1)))
    layers, x, target = network_of(view)
    loss = view["loss_name"]
    assert view["loss"]["value"] == pytest.approx(numpy_loss(layers, x, target, loss), rel=1e-5, abs=1e-6)
    for (weight, bias, _), shown in zip(layers, view["layers"]):
        numeric_w = finite_difference(lambda: numpy_loss(layers, x, target, loss), weight)
        numeric_b = finite_difference(lambda: numpy_loss(layers, x, target, loss), bias)
        np.testing.assert_allclose(shown["dW"]["values"], numeric_w, rtol=1e-3, atol=2e-6)
        np.testing.assert_allclose(shown["db"]["values"], numeric_b, rtol=1e-3, atol=2e-6)
    numeric_x = finite_difference(lambda: numpy_loss(layers, x, target, loss), x)
    np.testing.assert_allclose(view["layers"][0]["dA_in"]["values"], numeric_x, rtol=1e-3, atol=2e-6)


@given(st.lists(st.integers(1, 4), min_size=2, max_size=4), st.sampled_from(["relu", "tanh", "sigmoid"]),
       st.sampled_from(["mse", "cross_entropy"]), st.integers(0, 1000))
def test_gradients_of_any_small_network_match_finite_differences(sizes, activation, loss, seed):
    if loss == "cross_entropy":
        sizes[-1] = max(sizes[-1], 2)
    body = {"example": "custom", "sizes": sizes, "activation": activation, "loss": loss, "seed": seed}
    app = create_app(output_dir="/nonexistent-never-written")
    with starlette_testclient.TestClient(app, base_url="http://localhost") as property_client:
        view = step(property_client, **body, actions=" ".join(["f"] + ["b"] * (len(sizes) - 1)))
    # rounded weights and inputs can put a ReLU exactly on its kink (Z = 0), where the engine takes the slope 0
    # (as PyTorch does) and a central difference averages the two sides: no single derivative to compare there
    hidden = [np.array(layer["Z"]["values"]) for layer in view["layers"][:-1]]
    assume(activation != "relu" or all(np.abs(z).min() > 1e-4 for z in hidden))
    layers, x, target = network_of(view)
    for (weight, _, _), shown in zip(layers, view["layers"]):
        assert np.shape(shown["dW"]["values"]) == weight.shape
        numeric = finite_difference(lambda: numpy_loss(layers, x, target, loss), weight)
        np.testing.assert_allclose(shown["dW"]["values"], numeric, rtol=1e-3, atol=2e-6)


def test_diagonal_flip_gradients_match_pytorch(client, torch):
    view = step(client, example="diagonal-flip", actions="f b b")
    layers, x, target = network_of(view)
    (w1, b1, _), (w2, b2, _) = [(torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True), a)
                                for w, b, a in layers]
    prediction = torch.relu(torch.tensor(x) @ w1.T + b1) @ w2.T + b2
    torch.nn.functional.mse_loss(prediction, torch.tensor(target)).backward()
    for tensor, shown in ((w1, view["layers"][0]["dW"]), (b1, view["layers"][0]["db"]),
                          (w2, view["layers"][1]["dW"]), (b2, view["layers"][1]["db"])):
        np.testing.assert_allclose(shown["values"], tensor.grad.numpy(), atol=1e-6)


def test_update_moves_every_weight_against_its_gradient(client):
    before = step(client, example="diagonal-flip", lr=0.5, actions="f b b")
    after = step(client, example="diagonal-flip", lr=0.5, actions="f b b u")
    for old, new in zip(before["layers"], after["layers"]):
        expected = np.array(old["W"]["values"]) - 0.5 * np.array(old["dW"]["values"])
        np.testing.assert_allclose(new["W"]["values"], expected, atol=1e-6)
        expected = np.array(old["b"]["values"]) - 0.5 * np.array(old["db"]["values"])
        np.testing.assert_allclose(new["b"]["values"], expected, atol=1e-6)
    assert after["stage"] == 0 and after["updates"] == 1 and "Update 1 done" in after["narration"]
    again = step(client, example="diagonal-flip", lr=0.5, actions="f b b u f")
    assert again["loss"]["value"] < before["loss"]["value"]


def test_reset_and_step_back_are_replays_of_fewer_actions(client):
    long = step(client, example="moons", seed=4, actions="f b b u f b")
    assert step(client, example="moons", seed=4, actions="f b b u f b") == long  # the same state, the same numbers
    shorter = step(client, example="moons", seed=4, actions="f b b u f")
    assert shorter["actions"] == "f b b u f" and shorter["stage"] == long["stage"] - 1
    assert step(client, example="moons", seed=4, actions="")["layers"][0]["W"] == \
        step(client, example="moons", seed=4, actions="f")["layers"][0]["W"]


def test_editing_a_weight_or_an_input_changes_the_forward_pass(client):
    view = step(client, example="diagonal-flip", actions="W1[0,0]=0.7 x[1]=1 f")
    layers, x, target = network_of(view)
    assert layers[0][0][0, 0] == pytest.approx(0.7) and x[1] == 1
    z1 = layers[0][0] @ x + layers[0][1]
    np.testing.assert_allclose(view["layers"][0]["Z"]["values"], z1, atol=1e-6)
    assert "set by you" in client.post("/api/step/explain", json={
        "example": "diagonal-flip", "actions": "W1[0,0]=0.7 x[1]=1 f", "cell": "W1[0,0]"}).json()["text"]
    assert "class index" in error_of(client.post("/api/step", json={"example": "mlp3", "actions": "y[0]=7"}), 422)


def test_cross_entropy_shows_probabilities_a_class_and_no_gradient_for_y_hat(client):
    view = step(client, example="mlp3", actions="f b")
    logits = np.array(view["layers"][-1]["Z"]["values"], dtype=np.float64)
    softmax = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()  # by hand, float64
    np.testing.assert_allclose(view["prediction"]["values"], softmax, rtol=1e-5)
    assert view["prediction"]["label"] == "ŷ = softmax(Z₃)"
    assert view["dprediction"] is None  # fused softmax + cross-entropy: the gradient goes straight to Z₃
    label = int(view["target"]["values"][0])
    assert view["target"]["text"] == [str(label)] and view["target"]["label"] == "class y"
    assert explain(client, "y[0]", example="mlp3")["result"] == str(label)
    assert "∂L/∂Z₃ = ŷ − onehot(y)" in view["narration"]
    assert step(client, example="diagonal-flip", actions="f b")["dprediction"]["values"] is not None  # MSE has one


def test_a_new_learning_rate_applies_to_the_updates_after_it(client):
    first = step(client, example="diagonal-flip", lr=0.1, actions="f b b u")
    before_second = step(client, example="diagonal-flip", lr=0.1, actions="f b b u lr=0.5 f b b")
    after = step(client, example="diagonal-flip", lr=0.1, actions="f b b u lr=0.5 f b b u")
    assert before_second["layers"][0]["W"] == first["layers"][0]["W"]  # the first update kept η = 0.1
    for old, new in zip(before_second["layers"], after["layers"]):
        expected = np.array(old["W"]["values"]) - 0.5 * np.array(old["dW"]["values"])
        np.testing.assert_allclose(new["W"]["values"], expected, atol=1e-6)
    assert after["lr"] == 0.5 and step(client, example="diagonal-flip", lr=0.1, actions="f b b u")["lr"] == 0.1
    terms = explain(client, "W2[1,0]", example="diagonal-flip", lr=0.1, actions="f b b u lr=0.5 f b b u")["terms"]
    assert {key: terms[1][key] for key in ("label", "value", "text")} == {"label": "η", "value": 0.5, "text": "+0.5000"}


# --- explanations ---------------------------------------------------------------------------------


def explain(client, cell, **body):
    response = client.post("/api/step/explain", json={**body, "cell": cell})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_weight_gradient_is_explained_with_the_engines_numbers(client):
    body = {"example": "diagonal-flip", "actions": "f b b"}
    view = step(client, **body)
    data = explain(client, "dW2[1,0]", **body)
    # the trace's symbols (layer 2 makes ŷ), counting from 1: the cell dW2[1,0] is row 2, column 1
    assert data["text"].startswith("∂L/∂W₂[2,1] = ∂L/∂ŷ[2] · A₁[1] = ")
    dz, a = (term["value"] for term in data["terms"])
    assert dz == pytest.approx(view["layers"][1]["dZ"]["values"][1]) and a == pytest.approx(
        view["layers"][0]["A"]["values"][0])
    assert data["value"] == pytest.approx(dz * a, rel=1e-6) == pytest.approx(view["layers"][1]["dW"]["values"][1][0])
    # float32 numbers, shown rounded, whose written product is exactly the written result (round 115: "=")
    assert data["text"].endswith(f"(-0.5500) · 0.5000 = {view['layers'][1]['dW']['text'][1][0]}")
    assert data["meaning"].startswith("Negative") and data["editable"] is False


@given(st.integers(0, 2**16), st.sampled_from(["relu", "tanh", "sigmoid"]), st.sampled_from(["mse", "cross_entropy"]),
       st.data())
def test_every_formula_adds_up_to_the_value_it_explains(seed, activation, loss, data):
    body = {"example": "custom", "sizes": [3, 4, 3], "activation": activation, "loss": loss, "seed": seed,
            "actions": "f b b"}
    app = create_app(output_dir="/nonexistent-never-written")
    with starlette_testclient.TestClient(app, base_url="http://localhost") as property_client:
        cell = data.draw(st.sampled_from(["Z1[0]", "Z2[2]", "dW1[3,2]", "dW2[1,3]", "db1[2]", "dA1[3]", "dA0[1]",
                                          "dZ1[2]", "dZ2[0]", "A1[1]", "loss"]))
        result = explain(property_client, cell, **body)
        view = step(property_client, **body)
    terms = [term["value"] for term in result["terms"]]
    name = re.match(r"[a-zA-Z]+", cell).group()
    output_gradient = cell.startswith("dZ2") and loss == "mse"  # the loss's own gradient, 2(ŷ − y)/n
    if name in ("Z", "dA"):  # Σ products (+ bias for Z)
        pairs = np.array(terms[: 2 * (len(terms) // 2)]).reshape(-1, 2)
        expected = pairs.prod(axis=1).sum() + (terms[-1] if name == "Z" else 0)
    elif output_gradient:
        expected = 2 * (terms[0] - terms[1]) / 3
    elif name in ("dW", "dZ") and not (name == "dZ" and loss == "cross_entropy" and cell == "dZ2[0]"):
        expected = terms[0] * terms[1]
    elif name == "dZ":  # ŷ − onehot
        expected = terms[0] - terms[1]
    elif name == "db":
        expected = terms[0]
    elif name == "A":
        expected = ACTIVATE[activation](terms[0])
    elif loss == "mse":  # ŷ[k], y[k] for each k, as the row's item (ŷ − y)² reads them
        expected = np.mean([(terms[k] - terms[k + 1]) ** 2 for k in range(0, len(terms), 2)])
    else:  # every logit: −log softmax(Z₂)[y]
        logits, label = np.array(terms, dtype=np.float64), int(view["target"]["values"][0])
        expected = -(logits[label] - np.log(np.exp(logits).sum()))
    assert result["value"] == pytest.approx(expected, rel=1e-4, abs=1e-6)
    for term in result["terms"]:  # every number plugged in is the engine's entry of the tensor it names
        assert term["value"] == pytest.approx(_entry_of(view, term["symbol"], term["index"]), rel=1e-6, abs=1e-7)


def _entry_of(view, symbol, index):
    """The entry ``index`` of the tensor the view labels ``symbol`` (ŷ and onehot(y) computed here, by hand)."""
    matrices = [view["input"], view["target"], view["dprediction"] or view["input"]]
    matrices += [layer[key] for layer in view["layers"] for key in ("W", "b", "Z", "A", "dZ", "dW", "db", "dA_in")]
    if symbol == "ŷ" and view["loss_name"] == "cross_entropy":
        return np.array(view["prediction"]["values"])[tuple(index)]
    if symbol == "onehot(y)":
        return float(index[0] == int(view["target"]["values"][0]))
    if symbol.endswith("'(Z₁)") or symbol.endswith("'(Z₂)"):  # the local derivative f'(Z), by hand from the view
        layer = view["layers"][int(symbol[-2] == "₂")]
        z, a = np.array(layer["Z"]["values"])[tuple(index)], np.array(layer["A"]["values"])[tuple(index)]
        return {"relu": float(z > 0), "tanh": 1 - a * a, "sigmoid": a * (1 - a)}[layer["activation"]]
    found = next(m for m in matrices if m["label"] == symbol and m["values"] is not None)
    return np.array(found["values"], dtype=np.float64)[tuple(index)]


def test_explanations_refuse_cells_that_are_not_there_yet(client):
    assert "press Forward" in error_of(client.post("/api/step/explain", json={"cell": "Z1[0]"}), 422)
    assert "press Backward" in error_of(client.post("/api/step/explain", json={"cell": "dW1[0,0]", "actions": "f b"}),
                                        422)
    assert "outside the shape" in error_of(client.post("/api/step/explain", json={"cell": "W1[9,9]"}), 422)
    assert "not a cell name" in error_of(client.post("/api/step/explain", json={"cell": "W1[0,0"}), 422)
    assert "does not exist" in error_of(client.post("/api/step/explain", json={"cell": "W7[0,0]"}), 422)
    assert "straight to" in error_of(client.post("/api/step/explain", json={"example": "mlp3", "cell": "dA3[0]",
                                                                             "actions": "f b"}), 422)


def test_an_updated_weight_shows_its_update_formula(client):
    body = {"example": "diagonal-flip", "actions": "f b b u"}
    data = explain(client, "W2[1,0]", **body)
    old, lr, grad = (term["value"] for term in data["terms"])
    assert lr == pytest.approx(0.1) and data["value"] == pytest.approx(old - lr * grad, abs=1e-6)
    assert data["text"].startswith("W₂[2,1] = W₂[2,1] − η·∂L/∂W₂[2,1]")  # the cell W2[1,0], counting from 1


# --- training -------------------------------------------------------------------------------------


def create_job(client, steps=0, **config):
    response = client.post("/api/train", json={"config": config, "steps": steps})
    assert response.status_code == 200, response.text
    return response.json()


def test_training_moons_lowers_the_loss_and_reports_what_it_did(client):
    job = create_job(client, dataset="moons", optimizer="momentum", lr=0.1)
    assert job["step"] == 0 and len(job["losses"]["values"]) == 1 and len(job["points"]["xy"]) == 200
    data = client.post(f"/api/train/{job['id']}/step", json={"steps": 60, "since": 1}).json()
    assert data["step"] == 60 and data["losses"]["start"] == 1 and len(data["losses"]["values"]) == 60
    assert data["loss"]["value"] < 0.7 * job["loss"]["value"]
    assert [n["label"] for n in data["grad_norms"]] == ["‖∂L/∂W₁‖", "‖∂L/∂b₁‖", "‖∂L/∂W₂‖", "‖∂L/∂b₂‖",
                                                        "‖∂L/∂W₃‖", "‖∂L/∂b₃‖"]
    assert all(n["value"] > 0 for n in data["grad_norms"]) and data["formula"] == "b ← μ·b + g   (b ← g on the " \
                                                                                  "first step); w ← w − η·b"
    boundary = data["boundary"]
    assert len(boundary["classes"]) == boundary["resolution"] ** 2 and set(boundary["classes"]) <= {0, 1}
    assert 0.5 < data["accuracy"]["value"] <= 1


def test_the_loss_curve_is_the_full_data_loss_computed_independently(client):
    job = create_job(client, steps=5, dataset="xor", hidden=[4], loss="mse", samples=40)
    assert job["step"] == 5 and len(job["losses"]["values"]) == 6
    # the starting loss, recomputed here from the same seeded model and data with plain NumPy
    points, labels = gg.data.load_dataset("xor", seed=0, n_samples=40, noise=0.15).tensors
    model = gg.nn.mlp([2, 4, 2], activation="tanh", seed=0)
    (w1, b1), (w2, b2) = [(p.array.astype(np.float64), q.array.astype(np.float64))
                          for p, q in zip(list(model.parameters())[0::2], list(model.parameters())[1::2])]
    outputs = np.tanh(points.array @ w1.T + b1) @ w2.T + b2
    expected = np.mean((outputs - np.eye(2)[labels.array]) ** 2)
    assert job["losses"]["values"][0] == pytest.approx(expected, rel=1e-5)


def test_the_same_configuration_replays_exactly(client):
    config = {"dataset": "circles", "optimizer": "adam", "lr": 0.02, "batch_size": 16, "seed": 7}
    stepped = create_job(client, **config)
    for since in (1, 11, 21):
        client.post(f"/api/train/{stepped['id']}/step", json={"steps": 10, "since": since})
    everything = client.post(f"/api/train/{stepped['id']}/step", json={"steps": 1, "since": 0}).json()
    client.delete(f"/api/train/{stepped['id']}")
    replayed = create_job(client, steps=31, **config)
    assert replayed["losses"]["values"] == everything["losses"]["values"]


@pytest.mark.parametrize("dataset", ["moons", "circles", "xor", "spirals"])
def test_every_two_d_data_set_gets_its_decision_boundary(client, dataset):
    job = create_job(client, dataset=dataset, samples=60)
    boundary = job["boundary"]
    assert len(job["points"]["xy"]) == 60 and len(boundary["classes"]) == boundary["resolution"] ** 2
    # the boundary is the model's own prediction: recompute one grid point with the same seeded model
    model = gg.nn.mlp([2, 8, 8, 2], activation="tanh", seed=0)
    corner = gg.tensor([[boundary["x_range"][0], boundary["y_range"][1]]])  # the grid's first cell: top left
    assert boundary["classes"][0] == int(model(corner).array.argmax())
    client.delete(f"/api/train/{job['id']}")


def test_digits_has_no_boundary_to_draw(client):
    job = create_job(client, dataset="digits", hidden=[8])
    assert job["boundary"] is None and "points" not in job


def test_a_long_request_stops_at_its_time_budget_and_the_rest_replays_exactly(client, monkeypatch):
    monkeypatch.setattr(training, "TIME_BUDGET_SECONDS", 0.0)  # every request now trains a single step
    job = create_job(client, steps=6000, dataset="xor", samples=40)  # past any fixed replay cap: asked for in parts
    assert job["step"] == 1
    data = job
    while data["step"] < 12:
        data = client.post(f"/api/train/{job['id']}/step", json={"steps": 200, "since": 0}).json()
    assert data["step"] == 12
    whole = training.TrainingJob(training.TrainingConfig(dataset="xor", samples=40))
    whole.advance(12, seconds=float("inf"))
    assert data["losses"]["values"] == whole.losses  # the same steps, however the requests split them


def test_compare_stops_every_run_at_the_same_step_when_time_runs_out(client, monkeypatch):
    assert client.post("/api/train/compare", json={"rates": [0.1, 1.0], "steps": 5}).json()["note"] == ""
    monkeypatch.setattr(training, "COMPARE_SECONDS", 0.0)
    data = client.post("/api/train/compare", json={"rates": [0.01, 0.1, 1.0], "steps": 300}).json()
    assert data["steps"] == 1 and all(len(run["losses"]) == 2 for run in data["runs"])
    assert "Stopped at step 1 of 300" in data["note"]


def test_an_oscillating_loss_keeps_its_warning_and_names_the_stalled_layers():
    job = training.TrainingJob(training.TrainingConfig(lr=10.0))  # plain SGD, far too large a step for tanh
    statuses = []
    for _ in range(60):
        job.advance(1)
        statuses.append(job.status)
    first = statuses.index("unstable")
    assert set(statuses[first:]) == {"unstable"}  # no flicker while the loss bounces
    recent = range(len(job.losses) - training.UNSTABLE_WINDOW, len(job.losses))
    assert any(job.losses[i] > 2 * min(job.losses[:i]) + 0.1 for i in recent)  # the rule, checked on the numbers
    stalled = [name for name, norm in job.grad_norms if name.endswith("weight") and norm < training.VANISHED]
    assert stalled and "stopped learning" in job.message and "W₁" in job.message


def test_a_loss_that_only_falls_is_never_called_climbing():
    """η = 1 on the moons takes the loss from 0.85 to 0.34 in five steps, every one lower: the warning said "the loss
    is climbing ... up to 0.85 in the last 6 steps", counting the start the loss had fallen from."""
    job = training.TrainingJob(training.TrainingConfig(dataset="moons", lr=1.0))
    checked = 0
    for _ in range(8):
        job.advance(1)
        if job.step >= 5 and all(later <= earlier for earlier, later in zip(job.losses, job.losses[1:])):
            assert job.status == "ok" and job.message == "", job.message
            checked += 1
    assert checked > 0, f"the loss did not fall at every step: {job.losses}"


def test_divergence_is_explained_in_words_and_training_stops(client):
    job = create_job(client, dataset="moons", loss="mse", hidden=[16, 16], lr=100.0, batch_size=200)
    data = client.post(f"/api/train/{job['id']}/step", json={"steps": 100}).json()
    assert data["status"] == "diverged" and "diverged" in data["message"]
    assert "η = 100" in data["message"] and "Try a learning rate about 10× smaller" in data["message"]
    assert None in data["losses"]["values"]  # NaN travels as null, never as invalid JSON
    again = client.post(f"/api/train/{job['id']}/step", json={"steps": 10}).json()
    assert again["step"] == data["step"]


def test_a_climbing_loss_is_named_before_it_blows_up(client):
    job = create_job(client, dataset="moons", lr=50.0)
    data = client.post(f"/api/train/{job['id']}/step", json={"steps": 40}).json()
    assert data["status"] in ("unstable", "diverged") and "η = 50" in data["message"]


def test_clipping_caps_the_gradient_norm(client):
    job = create_job(client, dataset="spirals", lr=1.0, clip=0.01)
    data = client.post(f"/api/train/{job['id']}/step", json={"steps": 1}).json()
    assert data["clipped"].startswith("Gradient clipped") and "0.01" in data["clipped"]


@pytest.mark.parametrize("config, words", [
    ({"hidden": [1000000]}, "out of range"), ({"hidden": [4] * 9}, "too many"),
    ({"dataset": "imagenet"}, "choose one of moons"), ({"optimizer": "lbfgs"}, "choose one of sgd"),
    ({"lr": 0}, "out of range"), ({"batch_size": 0}, "out of range"), ({"samples": 10**9}, "out of range"),
    ({"clip": -1}, "out of range"), ({"noise": "lots"}, "must be a number"), ({"layers": [3]}, "unknown field"),
])
def test_bad_training_configurations_get_422(client, config, words):
    assert words in error_of(client.post("/api/train", json={"config": config}), 422)


def test_training_request_limits(client):
    assert "out of range" in error_of(client.post("/api/train", json={"steps": 10**6}), 422)
    job = create_job(client)
    assert "out of range" in error_of(client.post(f"/api/train/{job['id']}/step", json={"steps": 10**4}), 422)
    assert "no training job" in error_of(client.post("/api/train/abc/step", json={}), 404)


def test_training_jobs_are_capped_and_can_be_stopped(client):
    first, _ = create_job(client), create_job(client)
    assert "already running" in error_of(client.post("/api/train", json={}), 429)
    assert "already running" in error_of(client.post("/api/train/compare", json={"rates": [0.1, 1]}), 429)
    assert client.delete(f"/api/train/{first['id']}").json() == {"stopped": first["id"]}
    assert "already stopped" in error_of(client.delete(f"/api/train/{first['id']}"), 404)
    create_job(client)


def test_idle_jobs_expire_and_free_their_slot():
    store = JobStore(limit=1, idle_seconds=0.05)
    first = store.add("job")
    with pytest.raises(ApiError) as refused:
        store.add("another")
    assert refused.value.status == 429
    time.sleep(0.1)
    store.add("another")
    with pytest.raises(ApiError) as gone:
        store.get(first)
    assert gone.value.status == 404 and "expired" in gone.value.message


def test_concurrent_requests_do_not_disturb_each_other(client):
    """Requests run side by side: one evaluating under no_grad must not switch off another's backward."""
    requests = [("/api/step", {"example": "mlp3", "actions": "f b b b u f b"}),
                ("/api/train/compare", {"rates": [0.1, 1.0], "steps": 5}),
                ("/api/step/explain", {"example": "moons", "actions": "f b b", "cell": "dW1[0,0]"})]
    statuses, failures = [], []

    def hammer(index):
        path, body = requests[index % len(requests)]
        for _ in range(8):
            response = client.post(path, json=body)
            statuses.append(response.status_code)
            if response.status_code != 200:
                failures.append(response.text)

    workers = [threading.Thread(target=hammer, args=(index,)) for index in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == [] and len(statuses) == 48
    assert gg.is_grad_enabled()  # nothing left recording switched off


def test_compare_learning_rates_from_one_start(client):
    data = client.post("/api/train/compare", json={"config": {"dataset": "moons"}, "rates": [0.01, 0.3, 3.0],
                                                   "steps": 40}).json()
    runs = data["runs"]
    assert [run["lr"] for run in runs] == [0.01, 0.3, 3.0] and all(len(run["losses"]) == 41 for run in runs)
    assert len({run["losses"][0] for run in runs}) == 1  # the same start
    assert runs[1]["losses"][-1] < runs[0]["losses"][-1]  # a larger (stable) rate goes further in 40 steps
    assert data["y_max"]["value"] <= 3 * runs[0]["losses"][0] + 1e-9
    assert "2 to 5" in error_of(client.post("/api/train/compare", json={"rates": [0.1]}), 422)
    assert "out of range" in error_of(client.post("/api/train/compare", json={"rates": [0.1, 0], "steps": 5}), 422)


def test_saving_writes_only_inside_the_output_folder(client, tmp_path):
    job = create_job(client, steps=3)
    data = client.post(f"/api/train/{job['id']}/save", json={"name": "moons-run_1"}).json()
    path = Path(data["path"])
    assert path == (tmp_path / "out" / "moons-run_1.safetensors").resolve() and path.stat().st_size == data["bytes"]
    saved, metadata = gg.load(path, return_metadata=True)
    model = gg.nn.from_architecture(saved["architecture"])
    model.load_state_dict(saved["model"])
    assert metadata["step"] == 3 and sorted(saved["model"]) == data["tensors"]
    for name in ["../escape", "a/b", ".hidden", "x" * 65, "", "name.safetensors", "C:\\x"]:
        assert "not allowed" in error_of(client.post(f"/api/train/{job['id']}/save", json={"name": name}), 422)
    for name in ["con", "NUL", "com1"]:
        assert "device name" in error_of(client.post(f"/api/train/{job['id']}/save", json={"name": name}), 422)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["moons-run_1.safetensors"]


def test_an_unwritable_output_folder_is_a_clear_4xx(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be")
    with starlette_testclient.TestClient(create_app(output_dir=blocker), base_url="http://localhost") as file_client:
        job = create_job(file_client)
        message = error_of(file_client.post(f"/api/train/{job['id']}/save", json={"name": "model"}), 409)
    assert "cannot write model.safetensors" in message and "--output-dir" in message


def test_saving_onto_a_folder_of_that_name_says_why(client, tmp_path):
    job = create_job(client)
    (tmp_path / "out" / "model.safetensors").mkdir(parents=True)
    message = error_of(client.post(f"/api/train/{job['id']}/save", json={"name": "model"}), 409)
    assert "a folder has that name" in message and "another name" in message and "None" not in message


def test_a_body_field_on_a_request_that_takes_none_says_there_are_none(client):
    message = error_of(client.request("GET", "/api/options", content=b'{"x": 1}'), 422)
    assert "unknown field 'x'" in message and "takes no fields" in message and not message.endswith("are ")


# --- practice ------------------------------------------------------------------------------------------


def solve_forward_blank(problem):
    """The blank of Z = W·X, solved here with glassgrad: a dot product, or one equation in one unknown."""
    tensors = {name: np.array([[np.nan if v is None else v for v in row] for row in values], dtype=np.float64)
               for name, values in problem["tensors"].items()}
    weight, inputs, outputs = tensors["W"], tensors["X"], tensors["Z"]
    row, _ = problem["blank"]["index"]
    if problem["blank"]["tensor"] == "Z":
        return float((gg.tensor(weight[row]) @ gg.tensor(inputs[:, 0])).item())
    use = next(i for i in range(len(weight)) if weight[i, row] != 0)
    others = [k for k in range(len(inputs)) if k != row]
    known = (gg.tensor(weight[use, others]) * gg.tensor(inputs[others, 0])).sum()
    return float(((gg.tensor(outputs[use, 0]) - known) / weight[use, row]).item())


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_practice_problems_are_graded_by_the_engine(client, seed):
    problem = client.post("/api/practice/new", json={"kind": "forward-blank", "seed": seed}).json()
    assert not {"answer", "answer_text", "solution"} & set(problem)  # nothing to copy before checking
    right = solve_forward_blank(problem)
    good = client.post("/api/practice/check", json={"kind": "forward-blank", "seed": seed, "answer": f"{right:g}"})
    assert good.json()["correct"] is True and good.json()["solution"]
    bad = client.post("/api/practice/check", json={"kind": "forward-blank", "seed": seed, "answer": f"{right + 1:g}"})
    assert bad.json()["correct"] is False and "Not quite" in bad.json()["feedback"]
    first_try = client.post("/api/practice/check", json={"kind": "forward-blank", "seed": seed,
                                                          "answer": f"{right + 1:g}", "reveal": False}).json()
    assert first_try["correct"] is False and first_try["solution"] == [] and first_try["hint"]
    assert "the answer is" not in first_try["feedback"]  # nothing to copy before a second try


def test_every_practice_kind_can_be_shown(client):
    kinds = [kind["name"] for kind in client.get("/api/options").json()["practice_kinds"]]
    for kind in kinds:
        problem = client.post("/api/practice/new", json={"kind": kind, "seed": 11}).json()
        assert set(problem["text"]) == set(problem["tensors"]) and problem["blank_label"]


def test_bad_practice_inputs_get_422(client):
    assert "choose one of" in error_of(client.post("/api/practice/new", json={"kind": "calculus"}), 422)
    typo = client.post("/api/practice/check", json={"answer": "three"})  # a learner's typo: answered, in words
    assert typo.status_code == 200 and "is not a number" in typo.json()["not_a_number"]
    assert "too long" in error_of(client.post("/api/practice/check", json={"answer": "1" * 100}), 422)


# --- glassgrad serve --------------------------------------------------------------------------------


def run_cli(*arguments, timeout=20):
    command = [sys.executable, "-c", "from glassgrad.cli import entry_point; entry_point()", "serve", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def test_serve_refuses_non_loopback_hosts_and_bad_ports():
    refused = run_cli("--host", "0.0.0.0", "--no-browser")
    assert refused.returncode == 2 and "not a loopback address" in refused.stderr
    assert run_cli("--port", "70000", "--no-browser").returncode == 2
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = run_cli("--port", str(taken.getsockname()[1]), "--no-browser")
    assert busy.returncode == 2 and "choose another port" in busy.stderr
    a_file = Path(__file__)
    refused = run_cli("--output-dir", str(a_file), "--no-browser")
    assert refused.returncode == 2 and "is a file, not a folder" in refused.stderr


def test_serve_prints_its_url_and_answers_there(tmp_path):
    command = [sys.executable, "-c", "from glassgrad.cli import entry_point; entry_point()", "serve", "--port", "0",
               "--no-browser", "--output-dir", str(tmp_path)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group()
        import httpx

        for _ in range(50):
            try:
                response = httpx.get(url + "api/options", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert response.status_code == 200 and response.json()["examples"]
        assert httpx.get(url.replace("127.0.0.1", "localhost"), timeout=2).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_same_step_request_is_answered_from_memory_with_the_same_numbers(client):
    from glassgrad.playground import app as playground_app

    body = {"example": "custom", "seed": 7, "sizes": "2,3,2", "actions": "f b"}
    first = step(client, **body)
    hits = playground_app._step_view.cache_info().hits
    again = step(client, **dict(reversed(body.items())))  # the same request, keys in another order
    assert again == first
    assert playground_app._step_view.cache_info().hits == hits + 1
    bad = client.post("/api/step", json={**body, "seed": -1})
    assert bad.status_code == 422 and client.post("/api/step", json={**body, "seed": -1}).status_code == 422
