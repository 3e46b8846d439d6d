"""What a Code view program leaves reaches the other views, with the engine's numbers.

Oracles: each network's forward and backward pass written out here in NumPy (float64), the
lesson's hand-derived numbers (loss 0.89625), the same program run in this process (its model's
weights, its tape's HTML through the renderer Jupyter uses), and the starter files themselves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_code_runs import Code

import glassgrad as gg
from glassgrad.lessons.diagonal_flip import LESSON_WEIGHTS
from glassgrad.playground import create_app
from glassgrad.trace.render_html import html_fragment

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
testclient = pytest.importorskip("starlette.testclient")

STARTERS = Path(__file__).resolve().parents[1] / "glassgrad" / "playground" / "starters"
FLOAT32 = {"rtol": 1e-5, "atol": 1e-6}  # the engine computes in float32; the oracle in float64


class Session(Code):
    """The Code view's test client (test_code_runs), with what these tests need besides."""

    def result_of(self, code: str) -> dict:
        """Run ``code`` to its end: the last answer, with every event of the run and the run's id."""
        run_id = self.start(code)
        answer, events = self.finish(run_id)
        return {**answer, "events": events, "id": run_id}

    def post(self, path: str, body: dict, status: int = 200) -> dict:
        response = self.client.post(path, json=body)
        assert response.status_code == status, response.text
        return response.json()


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    app = create_app(output_dir=tmp_path_factory.mktemp("out"), code_time_limit=30)
    with testclient.TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield Session(client, app)


@pytest.fixture(scope="module")
def flip(session):
    answer = session.result_of((STARTERS / "diagonal-flip.py").read_text())
    assert answer["state"] == "finished", answer
    return answer


@pytest.fixture(scope="module")
def classifier(session):
    answer = session.result_of((STARTERS / "two-d-classifier.py").read_text())
    assert answer["state"] == "finished", answer
    return answer


def run_here(name: str) -> dict:
    """A starter run in this process, as a learner's notebook would: the globals it leaves."""
    namespace = {"__name__": "__main__"}
    exec(compile((STARTERS / f"{name}.py").read_text(), name, "exec"), namespace)
    return namespace


def flip_by_hand() -> dict:
    """The diagonal flip's forward and backward pass written out in NumPy, float64."""
    w1, b1 = np.array(LESSON_WEIGHTS["0.weight"]), np.array(LESSON_WEIGHTS["0.bias"])
    w2, b2 = np.array(LESSON_WEIGHTS["2.weight"]), np.array(LESSON_WEIGHTS["2.bias"])
    x, y = np.array([1.0, 0.0, 1.0, 1.0]), np.array([1.0, 1.0, 0.0, 1.0])
    z1 = w1 @ x + b1
    a1 = np.maximum(z1, 0)
    yhat = w2 @ a1 + b2
    loss = np.mean((yhat - y) ** 2)
    dyhat = 2 * (yhat - y) / 4
    da1 = w2.T @ dyhat
    dz1 = da1 * (z1 > 0)
    return {"W₁": (w1, np.outer(dz1, x)), "b₁": (b1, dz1), "Z₁": (z1, dz1), "A₁": (a1, da1),
            "W₂": (w2, np.outer(dyhat, a1)), "b₂": (b2, dyhat), "ŷ": (yhat, dyhat), "L": (loss, None)}


# --- the run's result ------------------------------------------------------------------------------


def test_the_starters_are_served_as_they_are_on_disk(session):
    answer = session.client.get("/api/code/starters", headers=session.headers).json()
    names = [starter["name"] for starter in answer["starters"]]
    assert names == ["diagonal-flip", "two-d-classifier", "custom-function"]
    for starter in answer["starters"]:
        assert starter["code"] == (STARTERS / f"{starter['name']}.py").read_text(encoding="utf-8")
        assert len(starter["title"]) > 10
    assert "this computer" in answer["notice"] and "rights" in answer["notice"]
    assert answer["time_limit_s"] == 30 and answer["memory_limit_mb"] == 1024


def test_the_diagonal_flip_prints_its_loss_and_leaves_tape_and_model(flip):
    printed = "".join(event["text"] for event in flip["events"] if event["stream"] == "stdout")
    assert "loss: 0.89625\n" in printed  # the lesson's 3.585/4
    result = flip["result"]
    assert result["tape"] is True and result["model"] is True and result["notes"] == []
    assert result["example"] == f"code:{flip['id']}"


def test_the_summary_has_the_engines_numbers_for_every_step(flip):
    expected = flip_by_hand()
    rows = {row["symbol"]: row for row in flip["result"]["summary"]}
    assert list(rows) == ["W₁", "b₁", "Z₁", "A₁", "W₂", "b₂", "ŷ", "L"]  # each parameter before its first use
    for symbol, (values, grad) in expected.items():
        row = rows[symbol]
        np.testing.assert_allclose(np.squeeze(np.array(row["values"], dtype=float)), values, **FLOAT32)
        if grad is None:
            assert row["grad"] is None
        else:
            np.testing.assert_allclose(np.squeeze(np.array(row["grad"], dtype=float)), grad, **FLOAT32)
    assert rows["Z₁"]["formula"] == "Z₁ = W₁·X + b₁" and rows["W₁"]["formula"] is None


def test_the_trace_html_is_the_engines_own_rendering(flip):
    """The same program traced in this process, rendered by the function Jupyter's display uses."""
    here = run_here("diagonal-flip")
    assert flip["result"]["tape_html"] == html_fragment(here["tape"].describe(title="your program's trace"))


def test_a_custom_function_traced_shows_its_own_backward(session):
    answer = session.result_of((STARTERS / "custom-function.py").read_text())
    result = answer["result"]
    assert answer["state"] == "finished" and result["tape"] and not result["model"] and result["example"] is None
    rows = {row["symbol"]: row for row in result["summary"]}
    x = np.array([-2.0, 0.5, 3.0, 7.5])
    np.testing.assert_allclose(rows["X"]["values"], x)
    np.testing.assert_allclose(rows["X"]["grad"], [1.0, 2.0, 3.0, 4.0] * ((x > 0) & (x < 6)))  # weights · [0<x<6]
    clipped = next(row for row in result["summary"] if "ClippedReLU" in (row["formula"] or ""))
    np.testing.assert_allclose(clipped["values"], np.clip(x, 0, 6))
    assert "ClippedReLU" in result["tape_html"]


def test_what_cannot_be_shown_is_a_note_not_a_failure(session):
    program = ("import glassgrad as gg\nimport glassgrad.nn as nn\n"
               "model = nn.Sequential(nn.Linear(2, 3), nn.LayerNorm(3), nn.Linear(3, 2))\n"
               "x, y = gg.tensor([[0.5, -1.0]]), gg.tensor([1])\ntape = [1, 2]\nprint('ok')\n")
    answer = session.result_of(program)
    result = answer["result"]
    assert answer["state"] == "finished" and result["model"] is True and result["example"] is None
    assert len(result["notes"]) == 2 and all("\n" not in note for note in result["notes"])
    assert result["notes"][0].startswith("tape is a list") and result["notes"][1].startswith("model: ")


def test_a_model_without_a_sample_is_explained(session):
    answer = session.result_of("import glassgrad.nn as nn\nmodel = nn.Sequential(nn.Linear(2, 2))\n")
    assert answer["result"]["example"] is None and "leave x and y" in answer["result"]["notes"][0]


# --- the step-through, graph and Train views of the learner's network ----------------------------------


def test_the_step_through_shows_the_learners_own_weights_and_gradients(session, flip):
    expected = flip_by_hand()
    view = session.post("/api/step", {"example": flip["result"]["example"], "actions": "f b b"})
    assert view["example"] == flip["result"]["example"] and view["loss_name"] == "mse"
    np.testing.assert_allclose(view["loss"]["value"], expected["L"][0], **FLOAT32)
    for layer, number in zip(view["layers"], "₁₂"):
        np.testing.assert_allclose(layer["W"]["values"], expected[f"W{number}"][0], **FLOAT32)
        np.testing.assert_allclose(layer["dW"]["values"], expected[f"W{number}"][1], **FLOAT32)
        np.testing.assert_allclose(layer["db"]["values"], expected[f"b{number}"][1], **FLOAT32)


def test_each_step_through_request_starts_from_the_programs_weights(session, flip):
    """An update in one request (the learner pressed Update) never changes what the next request starts from."""
    example = flip["result"]["example"]
    updated = session.post("/api/step", {"example": example, "actions": "f b b u", "lr": 0.5})
    first = session.post("/api/step", {"example": example, "actions": ""})
    w2, dw2 = flip_by_hand()["W₂"]
    np.testing.assert_allclose(updated["layers"][1]["W"]["values"], w2 - 0.5 * dw2, **FLOAT32)
    np.testing.assert_allclose(first["layers"][1]["W"]["values"], w2, **FLOAT32)


def test_a_number_of_the_learners_network_explains_itself(session, flip):
    example = flip["result"]["example"]
    answer = session.post("/api/step/explain", {"example": example, "actions": "f b b", "cell": "dW1[0,2]"})
    np.testing.assert_allclose(answer["value"], flip_by_hand()["W₁"][1][0, 2], **FLOAT32)
    assert answer["formula"] and answer["label"].startswith("∂L/∂W₁")


def test_the_scalar_view_draws_the_programs_tape(session, flip):
    boxes = {box["name"]: box for box in session.post("/api/scalar", {"example": flip["result"]["example"]})["boxes"]}
    box = boxes["W₂[1,1]·A₁[1]"]  # 0.4 · 0.5, its gradient ∂L/∂ŷ[1] = 2(0.1 − 1)/4
    np.testing.assert_allclose([box["value"], box["grad"]], [0.2, -0.45], **FLOAT32)
    np.testing.assert_allclose(boxes["L"]["value"], 0.89625, **FLOAT32)


def test_the_scalar_view_refuses_a_network_too_large_in_one_line(session, classifier):
    answer = session.post("/api/scalar", {"example": classifier["result"]["example"]}, status=422)
    assert "at most 40 parameters" in answer["error"]


def test_the_classifier_steps_through_on_its_own_point(session, classifier):
    here = run_here("two-d-classifier")
    weights = [p.array.astype(np.float64) for p in here["model"].parameters()]
    x, label = here["x"].array[0].astype(np.float64), int(here["y"].array[0])
    view = session.post("/api/step", {"example": classifier["result"]["example"], "actions": "f b b"})
    assert view["loss_name"] == "cross_entropy" and view["target"]["values"] == [label]
    np.testing.assert_allclose(view["input"]["values"], x, **FLOAT32)
    z1 = weights[0] @ x + weights[1]
    a1 = np.tanh(z1)
    logits = weights[2] @ a1 + weights[3]
    p = np.exp(logits - logits.max())
    p /= p.sum()
    dlogits = p - np.eye(2)[label]  # softmax + cross-entropy: ŷ − y
    dz1 = (weights[2].T @ dlogits) * (1 - a1**2)
    np.testing.assert_allclose(view["loss"]["value"], -np.log(p[label]), **FLOAT32)
    np.testing.assert_allclose(view["layers"][0]["W"]["values"], weights[0], **FLOAT32)
    np.testing.assert_allclose(view["layers"][1]["dW"]["values"], np.outer(dlogits, a1), **FLOAT32)
    np.testing.assert_allclose(view["layers"][0]["dW"]["values"], np.outer(dz1, x), **FLOAT32)


def test_train_starts_from_the_learners_weights(session, classifier):
    here = run_here("two-d-classifier")
    weights = [p.array.astype(np.float64) for p in here["model"].parameters()]
    config = {"from_code": classifier["id"], "dataset": "moons", "samples": 200, "noise": 0.15, "seed": 0}
    job = session.post("/api/train", {"config": config, "steps": 0})
    assert job["config"]["hidden"] == [8] and job["config"]["activation"] == "tanh"
    points, labels = gg.data.load_dataset("moons", seed=0, n_samples=200, noise=0.15).tensors
    points, labels = points.array.astype(np.float64), labels.array
    logits = np.tanh(points @ weights[0].T + weights[1]) @ weights[2].T + weights[3]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(job["losses"]["values"][0], -log_p[np.arange(200), labels].mean(), **FLOAT32)
    np.testing.assert_allclose(job["accuracy"]["value"], (logits.argmax(axis=1) == labels).mean())
    session.client.delete(f"/api/train/{job['id']}")


def test_train_refuses_a_model_of_another_shape_in_one_line(session, flip):
    answer = session.post("/api/train", {"config": {"from_code": flip["id"]}}, status=422)
    assert "takes 4 inputs" in answer["error"] and "moons has 2 inputs" in answer["error"]


def test_the_result_says_which_network_train_can_start_from(session, flip, classifier):
    """The page offers "Train it" only where Train accepts the model: two inputs, Linear and one activation."""
    assert classifier["result"]["trainable"] is True
    assert flip["result"]["trainable"] is False  # four inputs: Train's data sets are 2-D (the 422 above)
    relu_then_tanh = ("import glassgrad as gg\nmodel = gg.nn.Sequential(gg.nn.Linear(2, 3), gg.nn.ReLU(), "
                      "gg.nn.Linear(3, 3), gg.nn.Tanh(), gg.nn.Linear(3, 2))\nx = gg.zeros(2)\ny = gg.tensor(1)\n")
    answer = session.result_of(relu_then_tanh)
    assert answer["state"] == "finished" and answer["result"]["trainable"] is False
    refused = session.post("/api/train", {"config": {"from_code": answer["id"]}}, status=422)
    assert "one activation" in refused["error"]


def test_views_of_an_unknown_or_unfinished_run_are_refused(session):
    assert session.post("/api/step", {"example": "code:0123456789abcdef"}, status=404)["error"]
    failed = session.result_of("1 / 0\n")
    answer = session.post("/api/step", {"example": f"code:{failed['id']}"}, status=422)
    assert "has not finished normally (error)" in answer["error"]
    assert session.post("/api/train", {"config": {"from_code": failed["id"]}}, status=422)["error"]


def test_numbers_that_are_not_finite_arrive_as_null_beside_their_text(session):
    program = ("import glassgrad as gg\nx = gg.tensor([1.0, 0.0], requires_grad=True)\n"
               "with gg.trace() as tape:\n    (1 / x).sum().backward()\n")
    answer = session.result_of(program)
    rows = {row["symbol"]: row for row in answer["result"]["summary"]}
    assert answer["state"] == "finished"
    assert rows["X"]["grad"] == [-1.0, None]  # −1/x², and −∞ at 0
    assert rows["X"]["grad_text"] == ["-1.0000", "-inf"]  # beside each, the text the engine's trace writes
    made = [row for row in answer["result"]["summary"] if row["formula"]]
    assert made[0]["values"] == [1.0, None]  # 1/0 = ∞
    assert made[0]["values_text"] == ["+1.0000", "+inf"]
    assert "4 decimal places for display" in answer["result"]["precision"]
