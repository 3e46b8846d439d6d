"""LP pooling (``F.lp_pool1d/2d/3d``, ``nn.LPPool1d/2d/3d``) against PyTorch 2.13 in float64: values and gradients.

Inputs keep every window's Σ xᵖ well away from 0 (the root's derivative is infinite there): entries of magnitude
in [0.5, 2]; for a norm_type that is not an even integer the entries are positive (a negative Σ xᵖ has no real
root: PyTorch's NaN, glassgrad's error, tested on its own).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F


@st.composite
def lp_cases(draw):
    dims = draw(st.integers(1, 3))
    kernel = tuple(draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims)))
    stride = draw(st.none() | st.lists(st.integers(1, 3), min_size=dims, max_size=dims).map(tuple))
    ceil_mode = draw(st.booleans())
    size = tuple(k + draw(st.integers(0, 3)) for k in kernel)
    batch = draw(st.sampled_from([(), (2,)]))
    norm_type = draw(st.sampled_from([1, 1.5, 2, 2.0, 3, 4, 0.7]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.uniform(0.5, 2.0, size=(*batch, draw(st.integers(1, 3)), *size))
    if norm_type % 2 == 0:
        x = x * rng.choice([-1.0, 1.0], size=x.shape)  # an even power: any signs
    return dims, norm_type, kernel, stride, ceil_mode, x


@pytest.mark.torch
@settings(max_examples=60, deadline=None)
@given(case=lp_cases(), as_module=st.booleans())
def test_lp_pool_matches_pytorch_values_and_gradients(torch, case, as_module):
    dims, norm_type, kernel, stride, ceil_mode, x = case
    kernel_size = kernel[0] if dims == 1 else kernel  # PyTorch's lp_pool1d multiplies by an int kernel_size
    stride = stride[0] if dims == 1 and stride is not None else stride

    def pooled(library, tensor):
        if as_module:
            return getattr(library.nn, f"LPPool{dims}d")(norm_type, kernel_size, stride, ceil_mode)(tensor)
        return getattr(library.nn.functional, f"lp_pool{dims}d")(tensor, norm_type, kernel_size, stride, ceil_mode)

    a, b = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_mine, out_theirs = pooled(gg, a), pooled(torch, b)
    assert out_mine.shape == tuple(out_theirs.shape)
    np.testing.assert_allclose(out_mine.numpy(), out_theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = np.random.default_rng(1).normal(size=out_mine.shape)
    (out_mine * gg.tensor(upstream)).sum().backward()
    (out_theirs * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_lp_pool_is_the_window_p_norm():
    x = np.array([[[1.0, -2.0, 2.0, 4.0, 3.0]]])
    np.testing.assert_allclose(F.lp_pool1d(gg.tensor(x), 2, 2).numpy(), [[[np.sqrt(5), np.sqrt(20)]]])
    np.testing.assert_allclose(F.lp_pool1d(gg.tensor(np.abs(x)), 1, 2, 1).numpy(), [[[3, 4, 6, 7]]])
    assert repr(gg.nn.LPPool2d(2, 3)) == "LPPool2d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)"


@pytest.mark.torch
def test_a_negative_window_sum_is_refused_where_pytorch_returns_nan(torch):
    x = np.array([[[-1.0, -2.0, 1.0, 3.0]]])
    assert torch.isnan(torch.nn.functional.lp_pool1d(torch.tensor(x), 3, 2)).any()
    with pytest.raises(ValueError, match=r"lp_pool1d: a window's Σ xᵖ is negative .* pool x.abs\(\) instead"):
        F.lp_pool1d(gg.tensor(x), 3, 2)
    with pytest.raises(ValueError, match=r"lp_pool2d: norm_type must be a positive finite number, got 0"):
        F.lp_pool2d(gg.ones(1, 2, 2), 0, 2)


def test_lp_pool_layers_rebuild_from_their_architecture():
    model = gg.nn.Sequential(gg.nn.LPPool1d(2, 2), gg.nn.LPPool1d(1.5, 3, 1, ceil_mode=True))
    rebuilt = gg.nn.from_architecture(gg.nn.architecture(model))
    x = gg.tensor(np.random.default_rng(0).uniform(0.5, 2.0, size=(2, 3, 9)))
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())
