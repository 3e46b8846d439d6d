"""The in-place forms ``x.clamp_(…)``, ``x.exp_()``, ``ema.lerp_(p, w)``, … against PyTorch 2.13: the numbers
written in place under ``no_grad``, and the gradients when the changed tensor is inside a graph."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

CALLS = {  # name: (the in-place call on x, with other tensors made by the library; inputs kept positive?)
    "abs_": (lambda lib, x: x.abs_(), False), "clamp_": (lambda lib, x: x.clamp_(-0.5, 0.7), False),
    "clamp_min_": (lambda lib, x: x.clamp_min_(0.1), False), "clamp_max_": (lambda lib, x: x.clamp_max_(0.2), False),
    "clip_": (lambda lib, x: x.clip_(max=0.3), False), "cos_": (lambda lib, x: x.cos_(), False),
    "exp_": (lambda lib, x: x.exp_(), False), "floor_": (lambda lib, x: x.floor_(), False),
    "ceil_": (lambda lib, x: x.ceil_(), False), "trunc_": (lambda lib, x: x.trunc_(), False),
    "round_": (lambda lib, x: x.round_(), False), "frac_": (lambda lib, x: x.frac_(), False),
    "sign_": (lambda lib, x: x.sign_(), False), "log_": (lambda lib, x: x.log_(), True),
    "neg_": (lambda lib, x: x.neg_(), False), "pow_": (lambda lib, x: x.pow_(3), False),
    "reciprocal_": (lambda lib, x: x.reciprocal_(), True), "relu_": (lambda lib, x: x.relu_(), False),
    "rsqrt_": (lambda lib, x: x.rsqrt_(), True), "sigmoid_": (lambda lib, x: x.sigmoid_(), False),
    "sin_": (lambda lib, x: x.sin_(), False), "sqrt_": (lambda lib, x: x.sqrt_(), True),
    "square_": (lambda lib, x: x.square_(), False), "tanh_": (lambda lib, x: x.tanh_(), False),
    "lerp_": (lambda lib, x: x.lerp_(lib.ones_like(x) * 2, 0.1), False),
    "addcmul_": (lambda lib, x: x.addcmul_(lib.ones_like(x) * 2, lib.ones_like(x) - 4, value=0.5), False),
    "addcdiv_": (lambda lib, x: x.addcdiv_(lib.ones_like(x), lib.ones_like(x) * 3, value=-1), False),
    "index_add_": (lambda lib, x: x.index_add_(1, lib.tensor([0, 2, 0]), lib.ones_like(x)[:, :3] * 3), False),
    "index_fill_": (lambda lib, x: x.index_fill_(0, lib.tensor([1]), -1.0), False),
}


def _values(seed, positive):
    values = np.random.default_rng(seed).uniform(-2, 2, size=(3, 4))
    return np.abs(values) + 0.1 if positive else values


@pytest.mark.torch
@given(seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(CALLS))
def test_under_no_grad_the_numbers_land_in_place_as_in_pytorch(torch, name, seed):
    call, positive = CALLS[name]
    found = []
    for lib in (gg, torch):
        leaf = lib.tensor(_values(seed, positive), dtype=lib.float64, requires_grad=True)
        with lib.no_grad():
            returned = call(lib, leaf)
        assert returned is leaf  # the same tensor, changed
        found.append(leaf.detach().numpy())
    # an absolute floor of a few last bits of the inputs: lerp's x + w·(2 − x) near 0 cancels (seed 12230:
    # -7.958362188142942e-06 against PyTorch's …130606e-06, PyTorch computing it in another order)
    np.testing.assert_allclose(*found, rtol=1e-12, atol=8 * np.spacing(np.abs(_values(seed, positive)).max() + 2))


@pytest.mark.torch
@given(seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(CALLS))
def test_inside_a_graph_the_gradients_are_pytorchs(torch, name, seed):
    call, positive = CALLS[name]
    found = []
    for lib in (gg, torch):
        leaf = lib.tensor(_values(seed, positive), dtype=lib.float64, requires_grad=True)
        inner = leaf * 1.5
        call(lib, inner)
        (inner * lib.arange(12.0, dtype=lib.float64).reshape(3, 4)).sum().backward()
        found.append((inner.detach().numpy(), leaf.grad.numpy()))
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=8 * np.spacing(np.abs(theirs).max() + 3))


def test_a_leaf_that_requires_grad_is_refused_in_one_line():
    w = gg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        w.clamp_(0, 1)


@pytest.mark.torch
def test_fill_diagonal_and_bernoulli(torch):
    for shape, wrap in (((3, 3), False), ((5, 2), True), ((5, 2), False), ((2, 2, 2), False)):
        mine, theirs = gg.zeros(*shape), torch.zeros(*shape)
        mine.fill_diagonal_(4.0, wrap), theirs.fill_diagonal_(4.0, wrap)
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    draws = gg.zeros(10000).bernoulli_(0.3, generator=np.random.default_rng(0)).numpy()
    assert set(np.unique(draws)) <= {0.0, 1.0} and abs(draws.mean() - 0.3) < 0.02
