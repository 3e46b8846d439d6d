"""embedding / nn.Embedding: rows by index, gradients that add up over repeats, padding_idx."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassgrad as gg
import glassgrad.nn.functional as F


@pytest.mark.torch
@pytest.mark.parametrize("padding_idx, scale", [(None, False), (2, False), (-1, False), (None, True), (0, True)])
def test_embedding_matches_pytorch(torch, padding_idx, scale):
    rng = np.random.default_rng(0)
    table = rng.normal(size=(6, 3))
    indices = np.array([[0, 2, 2, 5], [1, 2, 0, 0]])
    gw = gg.tensor(table, requires_grad=True)
    tw = torch.tensor(table, requires_grad=True)
    out = F.embedding(gg.tensor(indices), gw, padding_idx=padding_idx, scale_grad_by_freq=scale)
    expected = torch.nn.functional.embedding(torch.tensor(indices), tw, padding_idx=padding_idx,
                                             scale_grad_by_freq=scale)
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    upstream = rng.normal(size=expected.shape)
    out.backward(gg.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_a_repeated_index_collects_every_positions_gradient():
    table = gg.tensor(np.zeros((4, 2)), requires_grad=True)
    out = F.embedding(gg.tensor([3, 1, 3, 3]), table)
    (out * gg.tensor([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0], [1000.0, 2000.0]])).sum().backward()
    assert table.grad.numpy().tolist() == [[0, 0], [10, 20], [0, 0], [1101, 2202]]


@given(indices=hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), elements=st.integers(0, 4)),
       dim=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_embedding_gradient_matches_finite_differences_and_the_one_hot_product(indices, dim, seed):
    table = gg.tensor(np.random.default_rng(seed).normal(size=(5, dim)), requires_grad=True)
    out = F.embedding(gg.tensor(indices), table)
    assert out.shape == indices.shape + (dim,)
    one_hot = np.eye(5)[indices]
    np.testing.assert_array_equal(out.numpy(), one_hot @ table.numpy())
    assert gg.gradcheck(lambda w: F.embedding(gg.tensor(indices), w), (table,))


@pytest.mark.torch
def test_embedding_layer_init_and_padding_row_like_pytorch(torch):
    layer = gg.nn.Embedding(1000, 8, padding_idx=3, seed=0)
    weights = layer.weight.numpy()
    assert (weights[3] == 0).all()
    assert abs(weights.std() - 1) < 0.05 and abs(weights.mean()) < 0.05  # N(0, 1), as torch.nn.Embedding
    assert torch.nn.Embedding(1000, 8, padding_idx=3).weight[3].abs().sum().item() == 0
    layer(gg.tensor([3, 4, 3])).sum().backward()
    assert (layer.weight.grad.numpy()[3] == 0).all() and (layer.weight.grad.numpy()[4] == 1).all()
    rebuilt = gg.nn.from_architecture(gg.nn.architecture(gg.nn.Sequential(layer)), gg.nn.Sequential(layer).state_dict())
    assert rebuilt[0].padding_idx == 3
    np.testing.assert_array_equal(rebuilt[0].weight.numpy(), weights)


@pytest.mark.parametrize("call, message", [
    (lambda: F.embedding(gg.tensor([0, 5]), gg.zeros(5, 2)), "index 5 is out of range"),
    (lambda: F.embedding(gg.tensor([0.0, 1.0]), gg.zeros(5, 2)), "convert them with .long()"),
    (lambda: F.embedding(gg.tensor([0]), gg.zeros(5)), "weight must be a table"),
    (lambda: gg.nn.Embedding(5, 2, padding_idx=5), "padding_idx must be within"),
    (lambda: gg.nn.Embedding(5, 2, sparse=True), "not supported"),
])
def test_bad_arguments_raise_one_line_naming_the_fix(call, message):
    with pytest.raises((ValueError, TypeError, IndexError), match=message) as error:
        call()
    assert "\n" not in str(error.value)
