"""Rows and terms a layer or loss leaves out stay out, with a −∞, ∞ or NaN in them, as in PyTorch 2.13: a query
that may see no key under a learned (grad-requiring) attention mask, an ignored row of ``nll_loss`` or of a
weighted or label-smoothed ``cross_entropy``, the term of ``hinge_embedding_loss`` a label does not use.
(They were multiplied by 0, and 0·∞ made the loss, the output or every gradient NaN.)"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _outputs_and_gradients(lib, function, *values):
    leaves = [lib.tensor(value, requires_grad=True) for value in values]
    out = function(lib, *leaves)
    out.backward(lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape))))
    return [out.detach().numpy()] + [leaf.grad.numpy() for leaf in leaves]


def _same(torch, function, *values):
    for mine, theirs in zip(_outputs_and_gradients(gg, function, *values),
                            _outputs_and_gradients(torch, function, *values)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("mask_shape", [(2, 3), (1, 2, 3)])
def test_a_query_that_sees_no_key_under_a_learned_mask_gives_zeros_and_finite_gradients(torch, mask_shape):
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((1, 2, 4)), rng.standard_normal((1, 3, 4)), rng.standard_normal((1, 3, 4))
    mask = rng.standard_normal(mask_shape)
    mask[..., 0, :] = -np.inf
    _same(torch, lambda lib, q, k, v, m: lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m),
          q, k, v, mask)


@pytest.mark.torch
def test_multihead_attention_with_a_learned_bias_and_a_sample_all_padding_trains(torch):
    rng = np.random.default_rng(0)
    x, bias = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 3))
    padding = np.where([[False, False, True], [True, True, True]], -np.inf, 0.0)  # the second sample: all padding
    theirs = torch.nn.MultiheadAttention(4, 2, batch_first=True).double()
    mine = gg.nn.MultiheadAttention(4, 2, batch_first=True, dtype=gg.float64)
    mine.load_state_dict({key: gg.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})
    results = []
    for lib, layer in ((gg, mine), (torch, theirs)):
        learned = lib.tensor(bias, requires_grad=True)
        out, _ = layer(*(lib.tensor(x),) * 3, attn_mask=learned, key_padding_mask=lib.tensor(padding),
                       need_weights=False)
        out.sum().backward()
        results.append([out.detach().numpy(), learned.grad.numpy(), layer.in_proj_weight.grad.numpy()])
    for a, b in zip(*results):
        assert np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("special", [-np.inf, np.nan])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [{}, {"weight": [0.5, 1.0, 2.0]}])
def test_nll_loss_leaves_an_ignored_row_out(torch, special, reduction, options):
    log_probs = np.log([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3], [0.25, 0.25, 0.5]])
    log_probs[1, 0] = special  # the ignored row
    labels = np.array([2, -100, 1])

    def loss(lib, lp):
        extra = {key: lib.tensor(value, dtype=lib.float64) for key, value in options.items()}
        return lib.nn.functional.nll_loss(lp, lib.tensor(labels), reduction=reduction, **extra)

    _same(torch, loss, log_probs)


@pytest.mark.torch
@pytest.mark.parametrize("options", [{"label_smoothing": 0.1}, {"weight": [0.5, 1.0, 2.0]},
                                     {"weight": [0.5, 1.0, 2.0], "label_smoothing": 0.2}])
def test_weighted_or_smoothed_cross_entropy_leaves_an_ignored_row_out(torch, options):
    logits = np.array([[1.0, 2.0, 3.0], [0.5, -np.inf, 1.0], [np.nan, 0.0, 0.0]])
    labels = np.array([0, -100, -100])

    def loss(lib, x):
        extra = {key: lib.tensor(value, dtype=lib.float64) if key == "weight" else value
                 for key, value in options.items()}
        return lib.nn.functional.cross_entropy(x, lib.tensor(labels), **extra)

    _same(torch, loss, logits)


@pytest.mark.torch
def test_hinge_embedding_loss_of_an_infinite_distance(torch):
    _same(torch, lambda lib, x: lib.nn.functional.hinge_embedding_loss(x, lib.tensor([-1.0, -1.0, 1.0, 1.0]),
                                                                         reduction="none"),
          np.array([np.inf, -np.inf, 2.0, -np.inf]))
