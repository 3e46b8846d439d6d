"""Loss modules against PyTorch: values and gradients for every reduction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import nn

REDUCTIONS = ["mean", "sum", "none"]


def make_case(kind: str, batch: int, classes: int, seed: int):
    """(input, target) NumPy arrays for a loss, in float64."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, (batch, classes))
    if kind == "regression":
        return logits, rng.normal(0, 2, (batch, classes))
    if kind == "indices":
        return logits, rng.integers(0, classes, batch)
    if kind == "probabilities":
        target = rng.random((batch, classes))
        return logits, target / target.sum(1, keepdims=True)
    if kind == "log_probs":
        shifted = logits - logits.max(1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(1, keepdims=True)), rng.integers(0, classes, batch)
    if kind == "probs":
        return 1 / (1 + np.exp(-logits)), rng.integers(0, 2, (batch, classes)).astype(np.float64)
    return logits, rng.integers(0, 2, (batch, classes)).astype(np.float64)  # binary targets for logits


CASES = [
    (nn.MSELoss, "MSELoss", "regression"),
    (nn.CrossEntropyLoss, "CrossEntropyLoss", "indices"),
    (nn.CrossEntropyLoss, "CrossEntropyLoss", "probabilities"),
    (nn.NLLLoss, "NLLLoss", "log_probs"),
    (nn.BCELoss, "BCELoss", "probs"),
    (nn.BCEWithLogitsLoss, "BCEWithLogitsLoss", "binary"),
]


@pytest.mark.parametrize("ours_class, torch_name, kind", CASES)
@given(batch=st.integers(1, 6), classes=st.integers(1, 5), seed=st.integers(0, 10_000),
       reduction=st.sampled_from(REDUCTIONS))
def test_loss_modules_match_pytorch(torch, ours_class, torch_name, kind, reduction, batch, classes, seed):
    raw_input, raw_target = make_case(kind, batch, classes, seed)
    x = gg.tensor(raw_input, requires_grad=True)
    tx = torch.tensor(raw_input, requires_grad=True)
    loss = ours_class(reduction=reduction)(x, gg.tensor(raw_target))
    tloss = getattr(torch.nn, torch_name)(reduction=reduction)(tx, torch.tensor(raw_target))
    np.testing.assert_allclose(loss.array, tloss.detach().numpy(), rtol=1e-9, atol=1e-12)
    upstream = np.random.default_rng(seed + 1).normal(size=loss.shape)
    loss.backward(gg.tensor(upstream))
    tloss.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_float32_cross_entropy_module_matches_pytorch(torch):
    logits = gg.randn(32, 10, seed=0, requires_grad=True)
    labels = gg.randint(0, 10, (32,), seed=1)
    tlogits = torch.tensor(logits.array, requires_grad=True)
    loss = nn.CrossEntropyLoss()(logits, labels)
    tloss = torch.nn.CrossEntropyLoss()(tlogits, torch.tensor(labels.array))
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-6)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(logits.grad.array, tlogits.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_loss_modules_check_arguments_early():
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="average")
    with pytest.raises(IndexError, match="target label 7 is out of range"):
        nn.CrossEntropyLoss()(gg.zeros(2, 3), gg.tensor([0, 7]))
    with pytest.raises(ValueError, match="target shape"):
        nn.MSELoss()(gg.zeros(4, 1), gg.zeros(4))
    assert repr(nn.CrossEntropyLoss(reduction="sum")) == "CrossEntropyLoss()"  # PyTorch shows no loss settings


def test_mse_loss_module_gives_the_seed_lesson_value():
    # the lesson's 4→3→4 example: mean over 4 outputs of (ŷ − y)²
    loss = nn.MSELoss()(gg.tensor([0.1, -0.1, -0.05, -0.25]), gg.tensor([1.0, 1.0, 0.0, 1.0]))
    expected = ((0.1 - 1) ** 2 + (-0.1 - 1) ** 2 + 0.05**2 + (-0.25 - 1) ** 2) / 4
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_float_class_indices_and_nan_probabilities_are_explained():
    import glassgrad.nn.functional as F

    logits = gg.randn(3, 4, seed=0)
    with pytest.raises(RuntimeError, match=r"targets of shape \(3,\) are read as class indices.*y\.long\(\)"):
        F.cross_entropy(logits, gg.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match=r"nll_loss: targets must be class indices \(int64\), got float32.*\.long"):
        F.nll_loss(logits, gg.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match=r"probabilities in \[0, 1\] \(NaN is not one\)"):
        F.binary_cross_entropy(gg.tensor([0.5, float("nan")]), gg.tensor([1.0, 0.0]))
