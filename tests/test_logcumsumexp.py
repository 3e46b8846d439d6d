"""``logcumsumexp``: a running log-sum-exp that keeps entries far below later ones, against PyTorch 2.13.

Its values, its gradient under an upstream of both signs, and a second derivative, over hypothesis-drawn shapes
whose entries span a thousand (where shifting the whole row by its largest entry made early entries −∞ and their
gradients NaN).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from one_line_errors import assert_raises_as_pytorch

import glassgrad as gg


def _case(library, values, upstream, dim, dtype):
    x = library.tensor(values, dtype=getattr(library, dtype), requires_grad=True)
    out = library.logcumsumexp(x, dim)
    (grad,) = library.autograd.grad((out * library.tensor(upstream, dtype=x.dtype)).sum(), x, create_graph=True)
    (second,) = library.autograd.grad((grad * grad).sum(), x)
    return out.detach().numpy(), grad.detach().numpy(), second.numpy()


@pytest.mark.torch
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=5), seed=st.integers(0, 2**16), dtype=st.sampled_from(
    ["float64", "float32"]), spread=st.sampled_from([1.0, 30.0, 1000.0]), data=st.data())
def test_values_gradients_and_second_derivatives_match_pytorch(torch, shape, seed, dtype, spread, data):
    rng = np.random.default_rng(seed)
    values = rng.uniform(-spread, spread / 20, shape)
    upstream = rng.normal(size=shape)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    ours, theirs = _case(gg, values, upstream, dim, dtype), _case(torch, values, upstream, dim, dtype)
    tolerance = 1e-10 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(ours[0], theirs[0], rtol=tolerance, atol=tolerance)
    compared = ours[1:] if dtype == "float64" else ours[1:2]  # float32's second derivative cancels in both
    for mine, reference in zip(compared, theirs[1:]):
        assert np.isfinite(mine).all()
        np.testing.assert_allclose(mine, reference, rtol=tolerance,
                                   atol=tolerance * max(1.0, np.abs(reference).max()))


def test_an_entry_a_thousand_below_keeps_its_value_and_gradient():
    x = gg.tensor([-1000.0, -999.0, 0.0, 5.0], dtype=gg.float64, requires_grad=True)
    out = gg.logcumsumexp(x, 0)
    np.testing.assert_allclose(out.detach().numpy(), [-1000.0, -999.0 + np.log1p(np.exp(-1.0)),
                                                      np.logaddexp(-999.0 + np.log1p(np.exp(-1.0)), 0.0),
                                                      np.logaddexp(np.logaddexp(-999.0 + np.log1p(np.exp(-1.0)), 0.0),
                                                                   5.0)], rtol=1e-15)
    out[:2].sum().backward()  # ∂(out₀ + out₁)/∂x₀ = 1 + e^(−1000 − out₁), ∂/∂x₁ = e^(−999 − out₁)
    np.testing.assert_allclose(x.grad.numpy(), [1 + 1 / (1 + np.e), np.e / (1 + np.e), 0, 0], rtol=1e-12)


@pytest.mark.torch
def test_an_integer_tensor_is_refused_as_pytorch_refuses_it(torch):
    error = assert_raises_as_pytorch(lambda lib: lib.logcumsumexp(lib.tensor([1, 2, 3]), 0), torch)
    assert "floating-point" in str(error)
