"""Losses that differed from PyTorch 2.13 (found by comparing every loss and option with it), each fixed.

Where PyTorch's own number is wrong (a NaN from 0·ln 0 in a branch that is masked away), the test checks
glassgrad's value against one derived by hand instead.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import glassgrad as gg
import glassgrad.nn.functional as F

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])
SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def _loss_and_gradients(library, function, arrays, **options):
    """The loss of ``function`` on leaves made of ``arrays`` (all requiring grad), and their gradients after a
    weighted sum (a different weight per item, so a wrong item or position shows)."""
    leaves = [library.tensor(array, requires_grad=True) for array in arrays]
    loss = function(library, *leaves, **options)
    weights = np.arange(1.0, loss.numel() + 1).reshape(tuple(loss.shape))
    (loss * library.tensor(weights, dtype=loss.dtype)).sum().backward()
    return [loss.detach().numpy()] + [leaf.grad.numpy() for leaf in leaves]


def _assert_close(mine, theirs, rtol=1e-10, atol=1e-12):
    for a, b in zip(mine, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# --- poisson_nll_loss(full=True): the Stirling term's slope in the target --------------------------------------

@pytest.mark.torch
@given(shape=SHAPES, seed=st.integers(0, 2**16), log_input=st.booleans(), reduction=REDUCTIONS)
def test_poisson_full_gives_the_target_the_stirling_terms_slope(torch, shape, seed, log_input, reduction):
    # was: the term y·ln y − y + ½ln(2πy) (y > 1) was added as a constant, so ∂L/∂y lacked its ln y + 1/(2y)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.2, 3.0, shape)
    y = rng.integers(1, 7, shape) + rng.choice([0.0, 0.5], shape)  # counts and halves, never 0 (see below)

    def loss(library, x, y):
        return library.nn.functional.poisson_nll_loss(x, y, log_input=log_input, full=True, reduction=reduction)

    _assert_close(_loss_and_gradients(gg, loss, [x, y]), _loss_and_gradients(torch, loss, [x, y]))


@pytest.mark.parametrize("log_input", [True, False])
def test_poisson_full_at_a_count_of_zero_has_the_slope_of_its_first_term(log_input):
    # PyTorch gives NaN here (0·ln 0 in the masked Stirling term); the term is 0 for y ≤ 1, so ∂L/∂y is that of
    # e^x − y·x (−x) or x − y·ln(x + eps) (−ln(x + eps)) alone
    x = gg.tensor(np.array([0.5, 2.0]), requires_grad=True)
    y = gg.tensor(np.zeros(2), requires_grad=True)
    F.poisson_nll_loss(x, y, log_input=log_input, full=True, reduction="sum").backward()
    expected = [-0.5, -2.0] if log_input else [-math.log(0.5 + 1e-8), -math.log(2.0 + 1e-8)]
    np.testing.assert_allclose(y.grad.numpy(), expected, rtol=1e-12)


# --- cosine_embedding_loss: a target of another shape than the pairs' ------------------------------------------

@pytest.mark.torch
@given(batch=st.integers(1, 5), width=st.integers(1, 4), seed=st.integers(0, 2**16),
       margin=st.sampled_from([-0.3, 0.0, 0.4]), reduction=REDUCTIONS)
def test_cosine_embedding_loss_matches_pytorch(torch, batch, width, seed, margin, reduction):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((batch, width)) + 0.1, rng.standard_normal((batch, width)) + 0.1
    labels = rng.choice([-1.0, 1.0], batch)

    def loss(library, a, b):
        return library.nn.functional.cosine_embedding_loss(a, b, library.tensor(labels), margin=margin,
                                                           reduction=reduction)

    _assert_close(_loss_and_gradients(gg, loss, [a, b]), _loss_and_gradients(torch, loss, [a, b]))


@pytest.mark.parametrize("labels", [np.ones((3, 1)), np.ones((1, 3)), np.ones(())])
def test_cosine_embedding_loss_refuses_a_target_that_is_not_one_label_per_pair(torch, labels):
    # was: a (3, 1) target broadcast against the 3 cosines into 3 × 3 losses, and a loss came back
    a, b = np.ones((3, 4)), np.arange(12.0).reshape(3, 4)
    with pytest.raises(RuntimeError):
        torch.nn.functional.cosine_embedding_loss(torch.tensor(a), torch.tensor(b), torch.tensor(labels))
    with pytest.raises(RuntimeError, match=r"^cosine_embedding_loss: target must hold one label per pair, shape "
                                           r"\(3,\), got") as refused:
        F.cosine_embedding_loss(gg.tensor(a), gg.tensor(b), gg.tensor(labels))
    assert "\n" not in str(refused.value)
