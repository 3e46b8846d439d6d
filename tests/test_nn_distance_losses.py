"""Distances and the losses made of other ops (``F.cosine_similarity`` … ``F.poisson_nll_loss`` and their
modules) against PyTorch 2.13: values and the gradient of every input, each reduction, hypothesis-drawn data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _signs(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


CASES = {  # name: (call(lib, *tensors, reduction), makers of the inputs from (rng, n, d))
    "cosine_similarity": (lambda lib, a, b, r: lib.nn.functional.cosine_similarity(a, b, dim=1),
                          [lambda g, n, d: g.normal(size=(n, d)), lambda g, n, d: g.normal(size=(n, d))]),
    "cosine_similarity_broadcast": (lambda lib, a, b, r: lib.nn.CosineSimilarity(dim=-1, eps=1e-6)(a, b),
                                    [lambda g, n, d: g.normal(size=(n, d)), lambda g, n, d: g.normal(size=(1, d))]),
    # the reduced dim itself stretched: before the fix each norm was the unstretched vector's (off by √d)
    "cosine_similarity_stretched": (lambda lib, a, b, r: lib.nn.functional.cosine_similarity(a, b, dim=1),
                                    [lambda g, n, d: g.normal(size=(n, 1)), lambda g, n, d: g.normal(size=(1, d))]),
    # targets other than ±1 get both terms, as PyTorch computes it (before the fix: neither)
    "hinge_embedding_any_target": (lambda lib, x, y, r: lib.nn.functional.hinge_embedding_loss(x, y, reduction=r),
                                   [lambda g, n, d: g.normal(size=(n, d)),
                                    lambda g, n, d: g.choice([-1.0, 1.0, 0.0, 2.0], size=(n, d))]),
    "pairwise_distance": (lambda lib, a, b, r: lib.nn.functional.pairwise_distance(a, b, p=3.0, keepdim=True),
                          [lambda g, n, d: g.normal(size=(n, d)), lambda g, n, d: g.normal(size=(n, d))]),
    "PairwiseDistance": (lambda lib, a, b, r: lib.nn.PairwiseDistance(p=1.0)(a, b),
                         [lambda g, n, d: g.normal(size=(n, d)), lambda g, n, d: g.normal(size=(n, d))]),
    "margin_ranking_loss": (lambda lib, a, b, y, r: lib.nn.functional.margin_ranking_loss(a, b, y, 0.3, reduction=r),
                            [lambda g, n, d: g.normal(size=n), lambda g, n, d: g.normal(size=n),
                             lambda g, n, d: _signs(g, n)]),
    "MarginRankingLoss": (lambda lib, a, b, y, r: lib.nn.MarginRankingLoss(margin=0.1, reduction=r)(a, b, y),
                          [lambda g, n, d: g.normal(size=n), lambda g, n, d: g.normal(size=n),
                           lambda g, n, d: _signs(g, n)]),
    "hinge_embedding_loss": (lambda lib, x, y, r: lib.nn.functional.hinge_embedding_loss(x, y, 0.7, reduction=r),
                             [lambda g, n, d: g.uniform(0, 2, size=(n, d)), lambda g, n, d: _signs(g, (n, d))]),
    "soft_margin_loss": (lambda lib, x, y, r: lib.nn.SoftMarginLoss(reduction=r)(x, y),
                         [lambda g, n, d: g.normal(size=(n, d)), lambda g, n, d: _signs(g, (n, d))]),
    "cosine_embedding_loss": (lambda lib, a, b, y, r: lib.nn.functional.cosine_embedding_loss(a, b, y, 0.2,
                                                                                                reduction=r),
                              [lambda g, n, d: g.normal(size=(n, d)), lambda g, n, d: g.normal(size=(n, d)),
                               lambda g, n, d: _signs(g, n)]),
    "triplet_margin_loss": (lambda lib, a, p, q, r: lib.nn.functional.triplet_margin_loss(a, p, q, reduction=r),
                            [lambda g, n, d: g.normal(size=(n, d))] * 3),
    "TripletMarginLoss_swap": (lambda lib, a, p, q, r: lib.nn.TripletMarginLoss(0.5, p=1.0, swap=True,
                                                                               reduction=r)(a, p, q),
                               [lambda g, n, d: g.normal(size=(n, d))] * 3),
    "multilabel_soft_margin_loss": (lambda lib, x, y, r: lib.nn.functional.multilabel_soft_margin_loss(
        x, y, reduction=r), [lambda g, n, d: g.normal(size=(n, d)),
                             lambda g, n, d: g.integers(0, 2, size=(n, d)).astype(float)]),
    "multi_margin_loss": (lambda lib, x, y, r: lib.nn.functional.multi_margin_loss(x, y.long(), reduction=r),
                          [lambda g, n, d: g.normal(size=(n, d)), lambda g, n, d: g.integers(0, d, size=n)]),
    "MultiMarginLoss_p2": (lambda lib, x, y, r: lib.nn.MultiMarginLoss(p=2, margin=0.5, reduction=r)(x, y.long()),
                           [lambda g, n, d: g.normal(size=(n, d)), lambda g, n, d: g.integers(0, d, size=n)]),
    "gaussian_nll_loss": (lambda lib, x, y, v, r: lib.nn.functional.gaussian_nll_loss(x, y, v, full=True,
                                                                                       reduction=r),
                          [lambda g, n, d: g.normal(size=(n, d)), lambda g, n, d: g.normal(size=(n, d)),
                           lambda g, n, d: g.uniform(0.1, 2, size=(n, d))]),
    "GaussianNLLLoss_one_variance_per_sample": (
        lambda lib, x, y, v, r: lib.nn.GaussianNLLLoss(eps=0.5, reduction=r)(x, y, v),
        [lambda g, n, d: g.normal(size=(n, d)), lambda g, n, d: g.normal(size=(n, d)),
         lambda g, n, d: g.uniform(0.1, 2, size=(n, 1))]),
    "poisson_nll_loss": (lambda lib, x, y, r: lib.nn.functional.poisson_nll_loss(x, y, full=True, reduction=r),
                         [lambda g, n, d: g.normal(size=(n, d)), lambda g, n, d: g.integers(0, 5, size=(n, d))]),
    "PoissonNLLLoss_rates": (lambda lib, x, y, r: lib.nn.PoissonNLLLoss(log_input=False, reduction=r)(x, y),
                             [lambda g, n, d: g.uniform(0.1, 3, size=(n, d)),
                              lambda g, n, d: g.integers(0, 5, size=(n, d))]),
}


LABELS = {"soft_margin_loss": (1,), "multilabel_soft_margin_loss": (1,), "multi_margin_loss": (1,),
          "MultiMarginLoss_p2": (1,), "poisson_nll_loss": (1,), "PoissonNLLLoss_rates": (1,),
          "hinge_embedding_loss": (1,), "hinge_embedding_any_target": (1,), "margin_ranking_loss": (2,),
          "MarginRankingLoss": (2,),
          "cosine_embedding_loss": (2,)}
"""The inputs that are labels (no gradient asked): PyTorch refuses some, and differentiates others in ways no
one uses."""


def _results(lib, name, arrays, reduction):
    call, _ = CASES[name]
    tensors = [lib.tensor(a, dtype=lib.float64, requires_grad=k not in LABELS.get(name, ()))
               for k, a in enumerate(arrays)]
    out = call(lib, *tensors, reduction)
    out.sum().backward() if out.ndim else out.backward()
    grads = [t.grad.numpy() if t.grad is not None else np.zeros(t.shape) for t in tensors]
    return [out.detach().numpy(), *grads]


@pytest.mark.torch
@given(seed=st.integers(0, 2**16), n=st.integers(1, 4), d=st.integers(2, 4),
       reduction=st.sampled_from(["mean", "sum", "none"]))
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_pytorch(torch, name, seed, n, d, reduction):
    rng = np.random.default_rng(seed)
    arrays = [make(rng, n, d) for make in CASES[name][1]]
    for mine, theirs in zip(_results(gg, name, arrays, reduction), _results(torch, name, arrays, reduction)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.torch
def test_a_variance_below_eps_is_raised_to_it_with_slope_one_as_in_pytorch(torch):
    arrays = [np.array([[0.5, -1.0]]), np.array([[0.0, 0.0]]), np.array([[1e-9, 2.0]])]
    for mine, theirs in zip(_results(gg, "gaussian_nll_loss", arrays, "sum"),
                            _results(torch, "gaussian_nll_loss", arrays, "sum")):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: gg.nn.functional.margin_ranking_loss(gg.ones(2), gg.ones(2), gg.ones(2), reduction="avg"),
     "margin_ranking_loss: reduction must be one of"),
    (lambda: gg.nn.functional.gaussian_nll_loss(gg.ones(2), gg.ones(2), gg.tensor([1.0, -1.0])),
     "var has a negative entry"),
    (lambda: gg.nn.functional.multi_margin_loss(gg.ones(2, 3), gg.tensor([0, 1]), p=3), "p must be 1 or 2"),
    (lambda: gg.nn.TripletMarginLoss(1.0, 2.0, 1e-6, False, None, None, "mean", 9),
     "TripletMarginLoss: takes margin, p, eps, swap, size_average, reduce, reduction"),
])
def test_bad_arguments_are_one_line_errors(call, message):
    with pytest.raises((ValueError, TypeError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.torch
@given(seed=st.integers(0, 2**16), eps=st.sampled_from([1e-8, 0.5, 2.0]), tiny=st.booleans())
def test_cosine_similarity_of_a_vector_shorter_than_eps_has_pytorchs_gradient(torch, seed, eps, tiny):
    """The norm is raised to eps for the value, but its slope stays the norm's own, as PyTorch's (the clamp cut
    it: 0.6325 where PyTorch gives 0.2365 for x₁ = [0.1, 0.2], eps = 0.5)."""
    rng = np.random.default_rng(seed)
    first = rng.normal(size=(3, 4)) * (1e-9 if tiny else 0.2)
    second = rng.normal(size=(3, 4))
    results = []
    for library in (gg, torch):
        a = library.tensor(first, requires_grad=True)
        b = library.tensor(second, requires_grad=True)
        out = library.nn.functional.cosine_similarity(a, b, dim=1, eps=eps)
        out.backward(library.tensor([1.0, -2.0, 0.5], dtype=library.float64))
        results.append([out.detach().numpy(), a.grad.numpy(), b.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(theirs).max()))
