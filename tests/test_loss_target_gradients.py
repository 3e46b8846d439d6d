"""The binary cross-entropies (and cross_entropy with probability targets) send a gradient to a target that
requires grad, as PyTorch's do (they sent none, so a target computed by another part of the graph, e.g. a
teacher's soft labels, silently missed this term).

∂L/∂y = −z/n for the logits form and (log(1 − p) − log p)/n for probabilities (the logs clamped at −100, as in
the forward: finite at p = 0 or 1, where PyTorch gives ±∞); also with ``weight``, ``pos_weight``, every reduction,
and the second derivatives (``create_graph``) against PyTorch and finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassgrad as gg

SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)


def _gradients(lib, loss_name, scores, labels, reduction, extra, create_graph=False):
    """The loss and its gradients w.r.t. both inputs (float64), and, with create_graph, the gradient of
    ∂L/∂y summed, w.r.t. the scores (a second derivative)."""
    x = lib.tensor(scores, dtype=lib.float64, requires_grad=True)
    y = lib.tensor(labels, dtype=lib.float64, requires_grad=True)
    kwargs = {name: lib.tensor(value, dtype=lib.float64) for name, value in extra.items()}
    loss = getattr(lib.nn.functional, loss_name)(x, y, reduction=reduction, **kwargs)
    upstream = lib.tensor(np.linspace(0.5, 1.5, loss.numel()).reshape(tuple(loss.shape)), dtype=lib.float64)
    grads = lib.autograd.grad(loss, (x, y), upstream, create_graph=create_graph)
    numbers = [t.detach().numpy() for t in (loss, *grads)]
    if create_graph:
        numbers.append(lib.autograd.grad(grads[1].sum(), x)[0].detach().numpy())
    return numbers


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(shape=SHAPES, seed=st.integers(0, 2**16), reduction=st.sampled_from(["mean", "sum", "none"]),
       logits=st.booleans(), weighted=st.booleans(), positive=st.booleans())
def test_target_gradients_match_pytorch(torch, shape, seed, reduction, logits, weighted, positive):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=shape) * 2 if logits else rng.uniform(0.02, 0.98, size=shape)
    labels = rng.uniform(0, 1, size=shape)
    extra = {"weight": rng.uniform(0.5, 2, size=shape[-1:])} if weighted else {}
    if logits and positive:
        extra["pos_weight"] = rng.uniform(0.5, 3, size=shape[-1:])
    name = "binary_cross_entropy_with_logits" if logits else "binary_cross_entropy"
    mine = _gradients(gg, name, scores, labels, reduction, extra, create_graph=True)
    theirs = _gradients(torch, name, scores, labels, reduction, extra, create_graph=True)
    for ours, reference in zip(mine, theirs):
        np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("logits", [True, False])
def test_target_gradient_matches_finite_differences(logits):
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(3, 2)) if logits else rng.uniform(0.1, 0.9, size=(3, 2))
    name = "binary_cross_entropy_with_logits" if logits else "binary_cross_entropy"
    x = gg.tensor(scores, dtype=gg.float64)
    y = gg.tensor(rng.uniform(0, 1, size=(3, 2)), dtype=gg.float64, requires_grad=True)
    assert gg.autograd.gradcheck(lambda target: getattr(gg.nn.functional, name)(x, target), (y,))


def test_saturated_probabilities_give_finite_target_gradients():
    """At p = 0 or 1 the clamped logs give ±100/n (PyTorch: ±∞), never NaN or ∞."""
    p = gg.tensor([0.0, 1.0, 0.5], dtype=gg.float64)
    y = gg.tensor([0.3, 0.3, 0.3], dtype=gg.float64, requires_grad=True)
    gg.nn.functional.binary_cross_entropy(p, y, reduction="sum").backward()
    np.testing.assert_allclose(y.grad.numpy(), [100.0, -100.0, 0.0])


def test_no_target_gradient_is_computed_when_the_target_needs_none():
    """A plain label tensor (the usual case) gets no .grad and the logits' gradient is unchanged: (σ(z) − y)/n."""
    z = gg.tensor([0.3, -1.2], dtype=gg.float64, requires_grad=True)
    y = gg.tensor([1.0, 0.0], dtype=gg.float64)
    gg.nn.functional.binary_cross_entropy_with_logits(z, y).backward()
    assert y.grad is None
    np.testing.assert_allclose(z.grad.numpy(), (1 / (1 + np.exp(-z.numpy())) - y.numpy()) / 2, rtol=1e-15)


@pytest.mark.torch
@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 4), classes=st.integers(2, 5), extra=st.integers(0, 2), seed=st.integers(0, 2**16),
       reduction=st.sampled_from(["mean", "sum", "none"]))
def test_cross_entropy_probability_targets_get_their_gradient(torch, rows, classes, extra, seed, reduction):
    """Soft targets that require grad (a teacher's probabilities, say): ∂L/∂y = −log softmax(z)/N, as PyTorch."""
    rng = np.random.default_rng(seed)
    shape = (rows, classes) + (3,) * extra
    scores, labels = rng.normal(size=shape), rng.dirichlet(np.ones(classes), size=(rows,) + (3,) * extra)
    labels = np.moveaxis(labels, -1, 1)
    results = []
    for lib in (gg, torch):
        z = lib.tensor(scores, dtype=lib.float64, requires_grad=True)
        y = lib.tensor(labels, dtype=lib.float64, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(z, y, reduction=reduction)
        upstream = lib.tensor(np.linspace(0.5, 1.5, loss.numel()).reshape(tuple(loss.shape)), dtype=lib.float64)
        results.append([t.detach().numpy() for t in (loss, *lib.autograd.grad(loss, (z, y), upstream))])
    for ours, reference in zip(*results):
        np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-12)
