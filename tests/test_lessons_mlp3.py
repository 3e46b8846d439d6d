"""The mlp3 lesson's real network: softmax + cross-entropy's gradient is ŷ − y exactly as the trace shows it,
and every gradient equals PyTorch's (the lesson's own form, from the given ŷ, is tests/test_lessons_mlp3_exact.py)."""

from __future__ import annotations

import numpy as np
import pytest

from glassgrad.lessons import mlp3
from glassgrad.trace import render
from glassgrad.trace.numbers import format_values


@pytest.fixture(scope="module")
def document():
    return mlp3.run()


@pytest.fixture(scope="module")
def real(document):
    return document["real_network"]


def test_output_gradient_is_softmax_minus_onehot_as_shown(real, document):
    z3 = next(step for step in real["forward"] if step["output"]["symbol"] == "Z₃")["output"]["values"]
    step = real["backward"][0]
    assert step["formula"] == "∂L/∂Z₃ = ŷ − onehot(y),  ŷ = softmax(Z₃)"
    exps = np.exp(z3 - z3.max())
    expected = exps / exps.sum() - np.eye(3)[mlp3.TARGET_CLASS]  # independent softmax, one sample so N = 1
    np.testing.assert_allclose(step["output"]["values"], expected, rtol=0, atol=1e-15)
    probabilities, onehot = (entry["values"] for entry in step["inputs"])
    np.testing.assert_array_equal(step["output"]["values"], probabilities - onehot)
    text = render(document, "text")  # the lesson's page shows the real network's gradient in its table
    for value in format_values(expected[0]).strip("[]").split(", "):
        assert value in text


def test_relu_masks_and_per_layer_gradients_follow_the_lesson(real):
    formulas = [step["formula"] for step in real["backward"]]
    assert formulas[1:5] == ["∂L/∂W₃ = ∂L/∂Z₃·A₂ᵀ", "∂L/∂b₃ = ∂L/∂Z₃", "∂L/∂A₂ = W₃ᵀ·∂L/∂Z₃",
                             "∂L/∂Z₂ = ∂L/∂A₂ ⊙ ReLU'(Z₂)"]
    values = {step["output"]["symbol"]: step["output"]["values"] for step in real["forward"]}
    for step in real["backward"]:
        if step["kind"] == "activation":
            z = step["local"]["symbol"][len("ReLU'("):-1]
            np.testing.assert_array_equal(step["local"]["values"], (values[z] > 0).astype(float))
    assert len(real["updates"]) == 6 and real["lesson"]["new_loss"] < real["lesson"]["loss"]


def test_all_gradients_equal_pytorch(real, torch):
    params = {name: torch.tensor(values, requires_grad=True) for name, values in real["parameters"].items()}
    h = torch.tensor([mlp3.INPUT], dtype=torch.float64)
    for layer in ("0", "2"):
        h = torch.relu(h @ params[f"{layer}.weight"].T + params[f"{layer}.bias"])
    logits = h @ params["4.weight"].T + params["4.bias"]
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor([mlp3.TARGET_CLASS]))
    loss.backward()
    assert real["loss"]["value"] == pytest.approx(loss.item(), abs=1e-14)
    for name, param in params.items():
        np.testing.assert_allclose(real["gradients"][name], param.grad.numpy(), atol=1e-14)
