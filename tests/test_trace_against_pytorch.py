"""Traces of losses and activations: the formulas are each op's own, the numbers are PyTorch's.

A small network ``Z₁ = X·W₁ᵀ + b₁ → op → loss`` runs in glassgrad under a trace and in PyTorch
with ``retain_grad`` on the same intermediates; every backward step's result equals PyTorch's
gradient of the tensor it is for, and every step names its row and shows that row's formula.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.ops import RULES

RNG = np.random.default_rng(7)
X = RNG.normal(size=(3, 4))
W = RNG.normal(size=(2, 4))
B = RNG.normal(size=2)
CLASSES = np.array([1, 0, 1])
LABELS = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
TARGETS = RNG.normal(size=(3, 2))


def _pipelines(torch):
    """name → (glassgrad (z → loss), torch (z → (activation or None, loss)), step formula expected)."""
    tf = torch.nn.functional
    return {
        "binary_cross_entropy": (
            lambda z: F.binary_cross_entropy(z.sigmoid(), gg.tensor(LABELS)),
            lambda z: _with(z.sigmoid(), lambda a: tf.binary_cross_entropy(a, torch.tensor(LABELS))),
            "∂L/∂A₁ = (A₁ − y)/max(A₁·(1 − A₁), 10⁻¹²)/6"),
        "binary_cross_entropy_with_logits": (
            lambda z: F.binary_cross_entropy_with_logits(z, gg.tensor(LABELS)),
            lambda z: (None, tf.binary_cross_entropy_with_logits(z, torch.tensor(LABELS))),
            "∂L/∂Z₁ = (σ(Z₁) − y)/6"),
        "cross_entropy": (
            lambda z: F.cross_entropy(z, gg.tensor(CLASSES)),
            lambda z: (None, tf.cross_entropy(z, torch.tensor(CLASSES))),
            "∂L/∂Z₁ = (ŷ − onehot(y))/3,  ŷ = softmax(Z₁)"),
        "nll_loss": (
            lambda z: F.nll_loss(F.log_softmax(z, 1), gg.tensor(CLASSES)),
            lambda z: _with(tf.log_softmax(z, 1), lambda a: tf.nll_loss(a, torch.tensor(CLASSES))),
            "∂v₄/∂Z₁ = ∂v₄/∂v₁ − softmax(Z₁)·Σ ∂v₄/∂v₁"),  # composed: log_softmax, pick, mean
        "mse_loss": (
            lambda z: F.mse_loss(z, gg.tensor(TARGETS)),
            lambda z: (None, tf.mse_loss(z, torch.tensor(TARGETS))),
            "∂L/∂Z₁ = 2(Z₁ − y)/6"),
        "leaky_relu": (
            lambda z: F.mse_loss(F.leaky_relu(z, 0.2), gg.tensor(TARGETS)),
            lambda z: _with(tf.leaky_relu(z, 0.2), lambda a: tf.mse_loss(a, torch.tensor(TARGETS))),
            "∂L/∂Z₁ = ∂L/∂ŷ ⊙ LeakyReLU'(Z₁)"),
        "softmax": (
            lambda z: F.mse_loss(F.softmax(z, 1), gg.tensor(TARGETS)),
            lambda z: _with(tf.softmax(z, 1), lambda a: tf.mse_loss(a, torch.tensor(TARGETS))),
            "∂L/∂Z₁ = v₁ ⊙ (∂L/∂v₁ − Σ ∂L/∂v₁ ⊙ v₁)"),
        "log_softmax": (
            lambda z: F.mse_loss(F.log_softmax(z, 1), gg.tensor(TARGETS)),
            lambda z: _with(tf.log_softmax(z, 1), lambda a: tf.mse_loss(a, torch.tensor(TARGETS))),
            "∂L/∂Z₁ = ∂L/∂v₁ − softmax(Z₁)·Σ ∂L/∂v₁"),
        "gelu": (
            lambda z: F.mse_loss(F.gelu(z), gg.tensor(TARGETS)),
            lambda z: _with(tf.gelu(z), lambda a: tf.mse_loss(a, torch.tensor(TARGETS))),
            "∂L/∂Z₁ = ∂L/∂ŷ ⊙ GELU'(Z₁)"),
    }


def _with(activation, loss):
    activation.retain_grad()
    return activation, loss(activation)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
                                  "nll_loss", "mse_loss", "leaky_relu", "softmax", "log_softmax", "gelu"])
def test_trace_shows_the_rows_formulas_and_pytorchs_numbers(torch, name):
    ours, theirs, formula = _pipelines(torch)[name]
    weight, bias = gg.tensor(W, requires_grad=True), gg.tensor(B, requires_grad=True)
    with gg.trace() as tape:
        tape.name(weight, "W₁")
        tape.name(bias, "b₁")
        z = F.linear(gg.tensor(X), weight, bias)
        tape.name(z, "Z₁")
        ours(z).backward()
    document = tape.describe()

    tw, tb = torch.tensor(W, requires_grad=True), torch.tensor(B, requires_grad=True)
    tz = torch.nn.functional.linear(torch.tensor(X), tw, tb)
    tz.retain_grad()
    activation, loss = theirs(tz)
    loss.backward()
    assert document["loss"] is None or document["loss"]["value"] == pytest.approx(loss.item(), rel=1e-12)

    expected = {"W₁": tw.grad, "b₁": tb.grad, "Z₁": tz.grad}
    formulas = [step["formula"] for step in document["backward"]]
    assert formula in formulas
    symbol_of_activation = next((s["output"]["symbol"] for s in document["forward"]
                                 if s["inputs"] and s["inputs"][0]["symbol"] == "Z₁" and s["kind"] != "loss"), None)
    if activation is not None:
        expected[symbol_of_activation] = activation.grad
    checked = set()
    for step in document["backward"]:
        of = step["output"]["of"]
        if of in expected:
            np.testing.assert_allclose(step["output"]["values"], expected[of].numpy(), rtol=1e-10, atol=1e-13,
                                       err_msg=step["formula"])
            checked.add(of)
        assert step["op"] is None or step["op"] in RULES
    assert checked == set(expected)


def test_a_leaky_relu_step_writes_its_slope_and_its_local_numbers():
    z = gg.tensor([[-1.0, 2.0]], requires_grad=True)
    with gg.trace(gg.nn.LeakyReLU(0.2)) as tape:
        gg.nn.LeakyReLU(0.2)(z).sum().backward()
    document = tape.describe()
    forward = next(s for s in document["forward"] if s["kind"] == "activation")
    backward = next(s for s in document["backward"] if s["kind"] == "activation")
    assert forward["formula"] == "A = LeakyReLU(X; slope 0.2)" and forward["settings"] == {"slope": 0.2}
    assert backward["local"]["formula"] == "1 where X > 0, else 0.2"
    np.testing.assert_array_equal(backward["local"]["values"], np.array([[0.2, 1.0]], dtype=np.float32))
    assert [entry["role"] for entry in forward["inputs"]] == ["a"]


def test_a_row_whose_setting_is_an_array_traces_with_the_engines_local_derivative():
    """igamma's shape s is an array broadcast against x (a setting, not an input): the tape dropped it with the
    inputs' arrays, and describing the trace raised TypeError (the local derivative lacked s)."""
    s, x = gg.tensor([2.0, 3.0]), gg.tensor([1.0, 2.0], requires_grad=True)
    with gg.trace() as tape:
        gg.igamma(s, x).sum().backward()
    step = tape.describe()["backward"][-1]
    assert step["op"] == "igamma" and step["local"]["formula"].startswith("X^(s−1)·e^(−X)/Γ(s)")
    np.testing.assert_allclose(step["local"]["values"], x.grad.numpy(), rtol=1e-6)  # ∂(Σ P)/∂x: the local slope
    np.testing.assert_allclose(x.grad.numpy(), [np.exp(-1.0), 4.0 * np.exp(-2.0) / 2.0], rtol=1e-6)  # xˢ⁻¹e⁻ˣ/Γ(s)
