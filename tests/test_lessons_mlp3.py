"""The mlp3 lesson: softmax + cross-entropy's gradient is ŷ − y exactly as the trace shows it."""

from __future__ import annotations

import numpy as np
import pytest

from glassgrad.lessons import mlp3
from glassgrad.trace import render
from glassgrad.trace.numbers import format_values


@pytest.fixture(scope="module")
def document():
    return mlp3.run()


def test_output_gradient_is_softmax_minus_onehot_as_shown(document):
    z3 = next(step for step in document["forward"] if step["output"]["symbol"] == "Z₃")["output"]["values"]
    step = document["backward"][0]
    assert step["formula"] == "∂L/∂Z₃ = ŷ − onehot(y),  ŷ = softmax(Z₃)"
    exps = np.exp(z3 - z3.max())
    expected = exps / exps.sum() - np.eye(3)[mlp3.TARGET_CLASS]  # independent softmax, one sample so N = 1
    np.testing.assert_allclose(step["output"]["values"], expected, rtol=0, atol=1e-15)
    probabilities, onehot = (entry["values"] for entry in step["inputs"])
    np.testing.assert_array_equal(step["output"]["values"], probabilities - onehot)
    text = render(document, "text")
    for value in format_values(expected[0]).strip("[]").split(", "):
        assert value in text


def test_relu_masks_and_per_layer_gradients_follow_the_lesson(document):
    formulas = [step["formula"] for step in document["backward"]]
    assert formulas[1:5] == ["∂L/∂W₃ = ∂L/∂Z₃·A₂ᵀ", "∂L/∂b₃ = ∂L/∂Z₃", "∂L/∂A₂ = W₃ᵀ·∂L/∂Z₃",
                             "∂L/∂Z₂ = ∂L/∂A₂ ⊙ ReLU'(Z₂)"]
    values = {step["output"]["symbol"]: step["output"]["values"] for step in document["forward"]}
    for step in document["backward"]:
        if step["kind"] == "activation":
            z = step["local"]["symbol"][len("ReLU'("):-1]
            np.testing.assert_array_equal(step["local"]["values"], (values[z] > 0).astype(float))
    assert len(document["updates"]) == 6 and document["lesson"]["new_loss"] < document["lesson"]["loss"]


def test_all_gradients_equal_pytorch(document, torch):
    params = {name: torch.tensor(values, requires_grad=True) for name, values in document["parameters"].items()}
    h = torch.tensor([mlp3.INPUT], dtype=torch.float64)
    for layer in ("0", "2"):
        h = torch.relu(h @ params[f"{layer}.weight"].T + params[f"{layer}.bias"])
    logits = h @ params["4.weight"].T + params["4.bias"]
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor([mlp3.TARGET_CLASS]))
    loss.backward()
    assert document["loss"]["value"] == pytest.approx(loss.item(), abs=1e-14)
    for name, param in params.items():
        np.testing.assert_allclose(document["gradients"][name], param.grad.numpy(), atol=1e-14)
