"""The playground's ``/api/landscape`` and ``/api/scalar``: the same numbers as the CLI, 4xx for bad input.

Oracles: :func:`glassgrad.lessons.landscape.landscape` (what ``glassgrad landscape`` writes), the
lesson model's own gradients, and the playground's safety rules (same origin, JSON only, 422 with a
message that names the field).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassgrad.lessons.diagonal_flip import lesson_model, sample
from glassgrad.lessons.landscape import landscape
from glassgrad.nn.functional import mse_loss
from glassgrad.playground import create_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
starlette_testclient = pytest.importorskip("starlette.testclient")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app(output_dir=tmp_path_factory.mktemp("out"))
    with starlette_testclient.TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert isinstance(message, str) and "\n" not in message
    return message


def test_the_page_gets_the_same_landscape_as_the_command_line(client):
    response = client.post("/api/landscape", json={"x": "b2[1]", "y": "W2[4,1]", "steps": 12})
    assert response.status_code == 200, response.text
    expected = json.loads(json.dumps(landscape(("b2[1]", "W2[4,1]"), steps=12)))
    assert response.json() == expected
    assert [(w["symbol"], w["index"]) for w in expected["weights"]] == [("b₂[1]", [0]), ("W₂[4,1]", [3, 0])]
    walk = [p["loss"] for p in next(p for p in expected["paths"] if p["learning_rate"] == 0.1)["points"]]
    assert all(b < a for a, b in zip(walk, walk[1:]))


def test_an_empty_request_gets_the_default_slice(client):
    data = client.post("/api/landscape", json={}).json()
    assert [w["name"] for w in data["weights"]] == ["b2[4]", "W1[3,4]"]
    assert len(data["paths"]) == 4 and len(data["paths"][0]["points"]) == 21


@pytest.mark.parametrize("body, words", [
    ({"x": "nope"}, "is not one of the network's weights"),
    ({"x": "W1[2,3]", "y": "W1[2,3]"}, "the two weights must differ"),
    ({"y": "b2[7]"}, "outside b2"),
    ({"y": "b2[0]"}, "use b2[1..4]. Positions count from 1"),
    ({"steps": 0}, "Steps = 0 is out of range"),
    ({"steps": 101}, "Steps = 101 is out of range"),
    ({"steps": "many"}, "Steps must be a whole number"),
    ({"x": 3}, "x"),
    ({"colour": "red"}, "colour"),
])
def test_bad_landscape_requests_get_422_naming_the_problem(client, body, words):
    assert words in error_of(client.post("/api/landscape", json=body), 422)


@given(field=st.sampled_from(["x", "y", "steps"]),
       value=st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=False,
                       allow_infinity=False), st.text(max_size=30), st.lists(st.integers(), max_size=3)))
def test_any_json_value_gets_an_answer_never_a_server_error(client, field, value):
    response = client.post("/api/landscape", json={field: value})
    assert response.status_code in (200, 422), response.text


def test_other_sites_and_non_json_bodies_are_refused(client):
    assert client.post("/api/landscape", json={}, headers={"origin": "http://evil.example"}).status_code == 403
    assert client.post("/api/scalar", json={}, headers={"origin": "http://evil.example"}).status_code == 403
    response = client.post("/api/landscape", content=b"{}", headers={"content-type": "text/plain"})
    assert response.status_code == 415


def test_the_scalar_view_holds_the_models_gradients_and_a_place_for_each_box(client):
    data = client.post("/api/scalar", json={"example": "diagonal-flip"}).json()
    boxes = {box["name"]: box for box in data["boxes"]}
    assert len(boxes) == 98 and data["width"] > 0 and data["height"] > 0
    model = lesson_model()
    x, y = sample()
    mse_loss(model(x), y).backward()
    parameters = dict(model.named_parameters())
    for name, symbol in (("0.weight", "W₁"), ("2.weight", "W₂")):
        grad = parameters[name].grad.numpy()
        for i, j in np.ndindex(*grad.shape):
            box = boxes[f"{symbol}[{i + 1},{j + 1}]"]  # named counting from 1, the code's index beside it
            assert box["entry"] == [symbol, [i, j]]
            assert box["label"] == f"{symbol}[{i + 1},{j + 1}] ({symbol}[{i}, {j}] in code)"
            assert box["grad"] == pytest.approx(grad[i, j], rel=1e-12, abs=1e-15)
    for box in data["boxes"]:
        assert box["width"] > 0 and box["height"] > 0 and len(box["lines"]) == 3
        assert 0 <= box["x"] and box["x"] + box["width"] <= data["width"] + 1e-9
        assert all(boxes[name]["x"] < box["x"] for name in box["inputs"])  # arrows go left to right


@pytest.mark.parametrize("body, status, words", [
    ({"example": "mlp3"}, 422, "choose one of diagonal-flip, linear-regression"),
    ({"example": 7}, 422, "example 7 is unknown"),
    ({"extra": 1}, 422, "extra"),
])
def test_bad_scalar_requests_get_4xx(client, body, status, words):
    assert words in error_of(client.post("/api/scalar", json=body), status)
