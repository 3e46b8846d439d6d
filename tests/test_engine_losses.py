"""The losses of ``gg.nn.functional`` (every reduction) and the stability of the softmax family.

Targets are constants built from the input's shape, the same way for both libraries, so the
gradient is taken with respect to the prediction (and, for ``mse_loss``, the target too).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from hypothesis import strategies as st
from test_engine_oracle import Case, check_against_torch, same_shapes, shapes, table_tests

import glassgrad as gg

REDUCTIONS = ("mean", "sum", "none")
batch_by_classes = st.tuples(st.integers(1, 4), st.integers(2, 4)).map(lambda shape: (shape,))


def class_indices(lib, logits):
    """Labels 1, 3, 5, … modulo the number of classes, one per row (int64)."""
    rows, classes = logits.shape
    return lib.tensor((np.arange(rows) * 2 + 1) % classes)


def class_weights(lib, logits, normalized: bool = True):
    """Per-row class probabilities (or, unnormalized, non-negative weights), in the logits' dtype."""
    rows, classes = logits.shape
    weights = np.arange(rows * classes, dtype=np.float64).reshape(rows, classes) % 3 + 0.5
    if normalized:
        weights /= weights.sum(axis=1, keepdims=True)
    return lib.tensor(weights, dtype=logits.dtype)


def soft_labels(lib, like):
    """Targets spread over [0, 1], in the input's shape and dtype."""
    return lib.tensor(np.linspace(0.0, 1.0, like.numel()).reshape(tuple(like.shape)), dtype=like.dtype)


def mse_loss(lib, prediction, target, **reduction):
    return lib.nn.functional.mse_loss(prediction, target, **reduction)


def cross_entropy_indices(lib, logits, **reduction):
    return lib.nn.functional.cross_entropy(logits, class_indices(lib, logits), **reduction)


def cross_entropy_probabilities(lib, logits, **reduction):
    return lib.nn.functional.cross_entropy(logits, class_weights(lib, logits), **reduction)


def cross_entropy_weights(lib, logits, **reduction):
    return lib.nn.functional.cross_entropy(logits, class_weights(lib, logits, normalized=False), **reduction)


def nll_loss(lib, log_probs, **reduction):
    return lib.nn.functional.nll_loss(log_probs, class_indices(lib, log_probs), **reduction)


def nll_of_log_softmax(lib, logits, **reduction):
    functional = lib.nn.functional
    return functional.nll_loss(functional.log_softmax(logits, dim=1), class_indices(lib, logits), **reduction)


def binary_cross_entropy(lib, probabilities, **reduction):
    return lib.nn.functional.binary_cross_entropy(probabilities, soft_labels(lib, probabilities), **reduction)


def binary_cross_entropy_with_logits(lib, logits, **reduction):
    return lib.nn.functional.binary_cross_entropy_with_logits(logits, soft_labels(lib, logits), **reduction)


def reduction_cases(loss, input_shapes, domains=("real",)) -> list[Case]:
    """One row per reduction; the "mean" row also calls the loss without ``reduction=`` (the default)."""
    return [
        Case(f"{loss.__name__} {reduction}", [partial(loss, reduction=reduction)] + [loss] * (reduction == "mean"),
             input_shapes, domains)
        for reduction in REDUCTIONS
    ]


CASES = [
    *reduction_cases(mse_loss, same_shapes(2)),
    *reduction_cases(cross_entropy_indices, batch_by_classes),
    *reduction_cases(cross_entropy_probabilities, batch_by_classes),
    *reduction_cases(cross_entropy_weights, batch_by_classes),
    *reduction_cases(nll_loss, batch_by_classes),
    *reduction_cases(nll_of_log_softmax, batch_by_classes),
    *reduction_cases(binary_cross_entropy, shapes(1), ("probability",)),
    *reduction_cases(binary_cross_entropy_with_logits, shapes(1)),
]

test_gradients_match_finite_differences, test_values_and_gradients_match_pytorch = table_tests(CASES)


# --- huge inputs: the stable forms never overflow ----------------------------------------------------

HUGE = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -999.0]])
STABLE = {
    "softmax": lambda lib, x: x.softmax(dim=1),
    "log_softmax": lambda lib, x: x.log_softmax(dim=1),
    "logsumexp": lambda lib, x: x.logsumexp(dim=1),
    "sigmoid": lambda lib, x: x.sigmoid(),
    "cross_entropy": partial(cross_entropy_indices, reduction="none"),
    "cross_entropy probabilities": partial(cross_entropy_probabilities, reduction="sum"),
    "binary_cross_entropy_with_logits": partial(binary_cross_entropy_with_logits, reduction="none"),
}


@pytest.mark.parametrize("name", STABLE)
def test_huge_inputs_give_pytorchs_finite_values_and_gradients(name, torch):
    form = STABLE[name]
    check_against_torch(Case(name, [form], st.nothing()), [HUGE], np.random.default_rng(0), torch)
    x = gg.tensor(HUGE, requires_grad=True)
    out = form(gg, x)
    out.sum().backward()
    assert np.isfinite(out.numpy()).all() and np.isfinite(x.grad.numpy()).all()


def test_logsumexp_of_huge_equal_entries_is_exact():
    """ln(e¹⁰⁰⁰ + e¹⁰⁰⁰) = 1000 + ln 2, and each entry gets half the gradient."""
    x = gg.tensor([1000.0, 1000.0], dtype=gg.float64, requires_grad=True)
    out = x.logsumexp(dim=0)
    out.backward()
    assert out.item() == pytest.approx(1000 + np.log(2), rel=1e-15)
    assert x.grad.tolist() == [0.5, 0.5]


def test_softmax_of_huge_gap_is_one_hot():
    """softmax([1000, 0]) = [1, e⁻¹⁰⁰⁰ ≈ 0]; log_softmax keeps the exact −1000."""
    x = gg.tensor([1000.0, 0.0], dtype=gg.float64)
    assert x.softmax(0).tolist() == [1.0, 0.0]
    assert x.log_softmax(0).tolist() == [0.0, -1000.0]


def test_binary_cross_entropy_of_saturated_probabilities_is_finite(torch):
    """p of exactly 0 or 1: each log is clamped at −100, so with y = 0, ¼, ½, ¾, 1 the losses are
    0, ¾·100, ½·100, ¼·100 and ln 2; the gradient (p − y)/max(p(1 − p), 1e-12) is large but finite."""
    saturated = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    loss = partial(binary_cross_entropy, reduction="none")
    check_against_torch(Case("saturated", [loss], st.nothing()), [saturated], np.random.default_rng(0), torch)
    p = gg.tensor(saturated, requires_grad=True)
    out = loss(gg, p)
    out.sum().backward()
    np.testing.assert_allclose(out.numpy(), [0.0, 75.0, 50.0, 25.0, np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(p.grad.numpy(), [0.0, 0.75e12, -0.5e12, 0.25e12, -2.0], rtol=1e-6)


@pytest.mark.torch
def test_binary_cross_entropy_with_logits_at_infinite_logits_is_pytorchs(torch):
    """z = +∞ with y = 0 costs −log(1 − σ(∞)) = ∞; the stable sum written max(z, 0) − z·y + log(1 + e^−|z|) gave
    ∞ − ∞·0 = NaN there. Written (1 − y)·z + max(−z, 0) + log(1 + e^−|z|), as PyTorch's, it is ∞, and the other
    corners are PyTorch's too (NaN where PyTorch's is: ∞·0)."""
    logits = [np.inf, np.inf, -np.inf, -np.inf, 800.0, -800.0]
    targets = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    found = [lib.nn.functional.binary_cross_entropy_with_logits(
        lib.tensor(logits, dtype=lib.float64), lib.tensor(targets, dtype=lib.float64), reduction="none").numpy()
        for lib in (gg, torch)]
    np.testing.assert_array_equal(found[0], found[1])
    assert found[0][0] == np.inf and found[0][4] == 800.0 and found[0][5] == 800.0
