"""Fractional max pooling (``F.fractional_max_pool2d/3d``, ``nn.FractionalMaxPool2d/3d``) against PyTorch 2.13 in
float64: the same ``_random_samples`` give the same windows, so values, indices and gradients must match.

Entries are distinct (a random permutation, scaled), so every window has one maximum and no tie decides anything.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F


@st.composite
def fractional_cases(draw):
    dims = draw(st.sampled_from([2, 3]))
    kernel = tuple(draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims)))
    spare = dims - 2  # PyTorch's 3-d pool wants one entry more than the windows need (see the module's docstring)
    size = tuple(k + spare + draw(st.integers(0, 5)) for k in kernel)
    largest = tuple(n - k + 1 - spare for n, k in zip(size, kernel))
    if min(size) == 1 or draw(st.booleans()):
        output = {"output_size": tuple(draw(st.integers(1, most)) for most in largest)}
    else:  # ratios r < 1 with 1 ≤ ⌊n·r⌋ ≤ the largest output
        output = {"output_ratio": tuple(draw(st.integers(1, min(most, n - 1))) / n + 0.5 / n
                                        for n, most in zip(size, largest))}
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    channels = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.permutation(int(np.prod((*batch, channels, *size)))).reshape(*batch, channels, *size) / 7.0 - 3.0
    samples = rng.uniform(0, 1, size=((batch or (1,))[0], channels, dims))
    return dims, kernel, output, x, samples


@pytest.mark.torch
@settings(max_examples=60, deadline=None)
@given(case=fractional_cases(), as_module=st.booleans())
def test_fractional_max_pool_matches_pytorch_values_indices_and_gradients(torch, case, as_module):
    dims, kernel, output, x, samples = case

    def pooled(library, tensor):
        random_samples = library.tensor(samples)
        if as_module:
            layer = getattr(library.nn, f"FractionalMaxPool{dims}d")(kernel, **output, return_indices=True,
                                                                     _random_samples=random_samples)
            return layer(tensor)
        return getattr(library.nn.functional, f"fractional_max_pool{dims}d")(
            tensor, kernel, **output, return_indices=True, _random_samples=random_samples)

    a, b = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (out_mine, where_mine), (out_theirs, where_theirs) = pooled(gg, a), pooled(torch, b)
    np.testing.assert_array_equal(out_mine.numpy(), out_theirs.detach().numpy())
    np.testing.assert_array_equal(where_mine.numpy(), where_theirs.numpy())
    assert where_mine.dtype == gg.int64
    upstream = np.random.default_rng(1).normal(size=out_mine.shape)
    (out_mine * gg.tensor(upstream)).sum().backward()
    (out_theirs * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=0)


def test_fractional_max_pool_draws_its_own_samples_and_with_indices_spelling():
    gg.manual_seed(0)
    x = gg.tensor(np.random.default_rng(0).normal(size=(2, 3, 9, 9)))
    out = F.fractional_max_pool2d(x, 2, output_ratio=0.5)
    assert out.shape == (2, 3, 4, 4)
    values, where = F.fractional_max_pool2d_with_indices(x, 2, output_size=(3, 5))
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(x.numpy().reshape(2, 3, -1),
                                                                       where.numpy().reshape(2, 3, -1), -1)
                                  .reshape(2, 3, 3, 5))
    volume = gg.ones(2, 4, 5, 6)  # unbatched 3-d: (C, T, H, W)
    assert F.fractional_max_pool3d_with_indices(volume, 2, output_size=2)[1].shape == (2, 2, 2, 2)


def test_a_3d_window_may_end_at_the_last_entry():
    x = gg.tensor(np.arange(8.0).reshape(1, 1, 2, 2, 2), requires_grad=True)  # PyTorch 2.13 refuses this size
    out, where = F.fractional_max_pool3d(x, 2, output_size=1, return_indices=True)
    assert out.numpy().ravel().tolist() == [7.0] and where.numpy().ravel().tolist() == [7]
    out.sum().backward()
    assert x.grad.numpy().ravel().tolist() == [0.0] * 7 + [1.0]


def test_fractional_max_pool_refuses_bad_sizes_in_one_line():
    x = gg.ones(1, 1, 5, 5)
    for call, message in [
        (lambda: F.fractional_max_pool2d(x, 2), "give exactly one of output_size and output_ratio"),
        (lambda: F.fractional_max_pool2d(x, 2, output_ratio=1.5), "output_ratio must be a number in (0, 1)"),
        (lambda: F.fractional_max_pool2d(x, 2, output_size=2, _random_samples=gg.zeros(1, 1, 3)),
         "_random_samples must have shape (1, 1, 2)"),
        (lambda: F.fractional_max_pool2d(x, 3, output_size=4), "needs an input of at least output + kernel − 1"),
    ]:
        with pytest.raises((ValueError, RuntimeError)) as error:  # the size check: RuntimeError, as PyTorch's
            call()
        assert message in str(error.value) and "\n" not in str(error.value)
