"""PyTorch's other spellings of existing ops, against PyTorch 2.13 in float64: the in-place activations
(``F.relu_`` …), the ``*_with_indices`` pools, adaptive max pooling's indices, ``F.upsample_nearest`` /
``F.upsample_bilinear``, and ``nn.RNNBase`` / ``nn.RNNCellBase`` as the recurrent layers' bases.

Activation inputs stay at least 0.05 away from each activation's kinks (0, ±1, the threshold), where a
one-sided derivative is a convention; pooled inputs are distinct (no tie picks an index).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F

IN_PLACE = [  # name, extra arguments (the same for both libraries), kinks to stay away from
    ("relu_", (), (0.0,)),
    ("leaky_relu_", (0.2,), (0.0,)),
    ("elu_", (0.7,), (0.0,)),
    ("celu_", (1.3,), (0.0,)),
    ("selu_", (), (0.0,)),
    ("hardtanh_", (-0.5, 0.8), (-0.5, 0.8)),
    ("rrelu_", (0.1, 0.3, False), (0.0,)),
    ("threshold_", (0.25, -2.0), (0.25,)),
]


def _away_from(values: np.ndarray, kinks: tuple) -> np.ndarray:
    for kink in kinks:
        close = np.abs(values - kink) < 0.05
        values = np.where(close, kink + 0.1, values)
    return values


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(case=st.sampled_from(IN_PLACE), shape=st.lists(st.integers(1, 4), min_size=0, max_size=3),
       seed=st.integers(0, 2**16))
def test_in_place_activations_match_pytorch_values_gradients_and_versions(torch, case, shape, seed):
    name, arguments, kinks = case
    x = _away_from(np.random.default_rng(seed).normal(size=shape) * 1.5, kinks)
    leaf_mine, leaf_theirs = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a, b = leaf_mine * 1.0, leaf_theirs * 1.0
    version_mine, version_theirs = a._version, b._version
    out_mine = getattr(F, name)(a, *arguments)
    out_theirs = getattr(torch.nn.functional, name)(b, *arguments)
    assert out_mine is a and out_theirs is b
    assert a._version > version_mine and b._version > version_theirs
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-15)
    upstream = np.random.default_rng(seed + 1).normal(size=shape)
    a.backward(gg.tensor(upstream))
    b.backward(torch.tensor(upstream))
    # PyTorch's celu backward is off by up to ~1e-7 relative in float64 (checked by hand below): a looser bound there
    rtol = 1e-6 if name == "celu_" else 1e-12
    np.testing.assert_allclose(leaf_mine.grad.numpy(), leaf_theirs.grad.numpy(), rtol=rtol, atol=1e-15)


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=2), alpha=st.floats(0.3, 3.0), seed=st.integers(0, 99))
def test_in_place_celu_gradient_is_the_exact_derivative(shape, alpha, seed):
    x = _away_from(np.random.default_rng(seed).normal(size=shape) * 1.5, (0.0,))
    leaf = gg.tensor(x, requires_grad=True)
    a = leaf * 1.0
    F.celu_(a, alpha)
    a.sum().backward()  # d/dx α·(e^(x/α) − 1) = e^(x/α) below 0, 1 above
    np.testing.assert_allclose(leaf.grad.numpy(), np.where(x > 0, 1.0, np.exp(x / alpha)), rtol=1e-13)


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=2), alpha=st.floats(-3.0, -0.3), seed=st.integers(0, 99))
def test_celu_with_a_negative_alpha_adds_both_terms_as_pytorch(torch, shape, alpha, seed):
    """max(0, x) + min(0, α·(e^(x/α) − 1)): for α < 0 the second term is e^(x/α)-steep below 0 and 0 above;
    it gave α·elu(x/α), whose branches swap (celu(0.3, −1) was 0.26, not 0.3)."""
    x = _away_from(np.random.default_rng(seed).normal(size=shape) * 1.5, (0.0,))
    leaf = gg.tensor(x, requires_grad=True)
    out = F.celu(leaf, alpha)
    np.testing.assert_allclose(out.detach().numpy(), torch.nn.functional.celu(torch.tensor(x), alpha).numpy(),
                               rtol=1e-12, atol=1e-15)
    out.sum().backward()  # PyTorch's celu backward is ~1e-6 off in float64 for α < 0: the exact derivative instead
    np.testing.assert_allclose(leaf.grad.numpy(), np.where(x > 0, 1.0, np.exp(x / alpha)), rtol=1e-13)


@pytest.mark.torch
@pytest.mark.parametrize("name, arguments, kinks", IN_PLACE)
def test_in_place_activations_keep_pytorchs_version_rules(torch, name, arguments, kinks):
    for library in (gg, torch):
        leaf = library.tensor([0.5, -1.5, 2.0], dtype=library.float64, requires_grad=True)
        with pytest.raises(RuntimeError):  # a leaf that requires grad cannot change in place
            getattr(library.nn.functional, name)(leaf, *arguments)
        a = leaf * 1.0
        squared = a * a  # saves a for its backward
        getattr(library.nn.functional, name)(a, *arguments)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            squared.sum().backward()


def test_training_rrelu_in_place_draws_slopes_between_lower_and_upper():
    x = -gg.ones(1000, dtype=gg.float64)
    assert F.rrelu_(x, 0.1, 0.3, True) is x
    assert (x.numpy() <= -0.1).all() and (x.numpy() >= -0.3).all() and np.unique(x.numpy()).size > 100


@st.composite
def pool_cases(draw):
    dims = draw(st.integers(1, 3))
    size = tuple(draw(st.lists(st.integers(2, 6), min_size=dims, max_size=dims)))
    batch = draw(st.sampled_from([(), (2,)]))
    channels = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.permutation(int(np.prod((*batch, channels, *size)))).reshape(*batch, channels, *size) / 5.0
    kernel = tuple(draw(st.integers(1, n)) for n in size)
    output = tuple(draw(st.integers(1, n)) for n in size)
    return dims, x, kernel, output


def _compare_pools(torch, name, x, *arguments):
    a, b = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (out_mine, where_mine), (out_theirs, where_theirs) = (getattr(F, name)(a, *arguments),
                                                          getattr(torch.nn.functional, name)(b, *arguments))
    np.testing.assert_array_equal(out_mine.numpy(), out_theirs.detach().numpy())
    np.testing.assert_array_equal(where_mine.numpy(), where_theirs.numpy())
    upstream = np.random.default_rng(0).normal(size=out_mine.shape)
    (out_mine * gg.tensor(upstream)).sum().backward()
    (out_theirs * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=0)


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(case=pool_cases())
def test_pools_with_indices_match_pytorch(torch, case):
    dims, x, kernel, output = case
    _compare_pools(torch, f"max_pool{dims}d_with_indices", x, kernel[0] if dims == 1 else kernel)
    _compare_pools(torch, f"adaptive_max_pool{dims}d_with_indices", x, output[0] if dims == 1 else output)


@pytest.mark.torch
def test_adaptive_max_pool_layer_returns_indices_as_pytorch(torch):
    x = np.random.default_rng(2).permutation(2 * 7 * 5).reshape(2, 7, 5).astype(np.float64)
    out, where = gg.nn.AdaptiveMaxPool2d((3, 2), return_indices=True)(gg.tensor(x))
    expected, expected_where = torch.nn.AdaptiveMaxPool2d((3, 2), return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    np.testing.assert_array_equal(where.numpy(), expected_where.numpy())
    layer = gg.nn.AdaptiveMaxPool1d(2, return_indices=True)
    assert gg.nn.from_architecture(gg.nn.architecture(layer)).return_indices


@pytest.mark.torch
@pytest.mark.parametrize("name", ["upsample_nearest", "upsample_bilinear"])
@pytest.mark.parametrize("size, scale_factor", [((5, 7), None), (None, 2)])
def test_deprecated_upsample_spellings_match_pytorch(torch, name, size, scale_factor):
    x = np.random.default_rng(3).normal(size=(2, 3, 4, 3))
    a, b = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with pytest.warns(UserWarning, match="deprecated"):
        out_mine = getattr(F, name)(a, size, scale_factor)
    with pytest.warns(UserWarning):
        out_theirs = getattr(torch.nn.functional, name)(b, size, scale_factor)
    np.testing.assert_allclose(out_mine.numpy(), out_theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    upstream = np.random.default_rng(4).normal(size=out_mine.shape)
    (out_mine * gg.tensor(upstream)).sum().backward()
    (out_theirs * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_recurrent_layers_share_pytorchs_bases():
    for layer in (gg.nn.RNN, gg.nn.LSTM, gg.nn.GRU):
        assert issubclass(layer, gg.nn.RNNBase)
    for cell in (gg.nn.RNNCell, gg.nn.LSTMCell, gg.nn.GRUCell):
        assert issubclass(cell, gg.nn.RNNCellBase)
