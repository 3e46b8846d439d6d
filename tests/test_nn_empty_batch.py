"""An empty batch (N = 0: a detection head given no regions, the last filtered batch) through the vision ops gives
an empty output of the shape one sample gives with N = 0, and an empty gradient, as PyTorch gives; second
derivatives too. Transposed convolutions, unfold/fold, grid_sample and fractional max pooling raised instead (their
layouts were reshaped with a −1, which an empty batch leaves undetermined), and so did double backward through a
convolution's weight or a max pooling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

ONE_EACH = {  # name: (call(lib, x), the shape of x for one sample)
    "unfold": (lambda lib, x: lib.nn.functional.unfold(x, (2, 3), padding=1, stride=2), (3, 5, 4)),
    "fold": (lambda lib, x: lib.nn.functional.fold(x, (4, 5), 2, stride=2), (12, 4)),
    "grid_sample bilinear": (lambda lib, x: lib.nn.functional.grid_sample(
        x, lib.zeros(len(x), 3, 2, 2, dtype=lib.float64), align_corners=False), (3, 4, 5)),
    "grid_sample nearest reflection": (lambda lib, x: lib.nn.functional.grid_sample(
        x, lib.zeros(len(x), 3, 2, 2, dtype=lib.float64), mode="nearest", padding_mode="reflection",
        align_corners=True), (3, 4, 5)),
    "grid_sample bicubic": (lambda lib, x: lib.nn.functional.grid_sample(
        x, lib.zeros(len(x), 3, 2, 2, dtype=lib.float64), mode="bicubic", align_corners=False), (3, 4, 5)),
    "grid_sample 3-d": (lambda lib, x: lib.nn.functional.grid_sample(
        x, lib.zeros(len(x), 2, 2, 3, 3, dtype=lib.float64), align_corners=False), (2, 3, 4, 3)),
    "fractional_max_pool2d": (lambda lib, x: lib.nn.functional.fractional_max_pool2d(
        x, 2, output_size=3, _random_samples=lib.full((len(x), 3, 2), 0.5, dtype=lib.float64)), (3, 5, 6)),
    "fractional_max_pool3d": (lambda lib, x: lib.nn.functional.fractional_max_pool3d(
        x, 2, output_size=(2, 3, 2), _random_samples=lib.full((len(x), 2, 3), 0.5, dtype=lib.float64)),
                              (2, 4, 5, 4)),
}


def _empty_batch(lib, call, sample_shape: tuple):
    """``call`` on a batch of 0 samples, then backward: the output's shape and the input's gradient."""
    x = lib.zeros((0, *sample_shape), dtype=lib.float64, requires_grad=True)
    out = call(lib, x)
    out.sum().backward()
    return tuple(out.shape), x.grad


@pytest.mark.parametrize("name", sorted(ONE_EACH))
def test_an_empty_batch_gives_the_shape_one_sample_gives(name):
    call, sample_shape = ONE_EACH[name]
    one = call(gg, gg.ones((1, *sample_shape), dtype=gg.float64))
    shape, grad = _empty_batch(gg, call, sample_shape)
    assert shape == (0, *one.shape[1:])
    assert grad.shape == (0, *sample_shape)


@given(dims=st.integers(1, 3), kernel=st.integers(1, 3), stride=st.integers(1, 3), groups=st.integers(1, 2),
       size=st.integers(2, 4), data=st.data())
def test_an_empty_batch_through_a_transposed_convolution(dims, kernel, stride, groups, size, data):
    padding, extra = data.draw(st.integers(0, (kernel - 1) // 2)), data.draw(st.integers(0, stride - 1))
    weight = gg.ones(2 * groups, 1, *(kernel,) * dims, dtype=gg.float64, requires_grad=True)
    transposed = (gg.nn.functional.conv_transpose1d, gg.nn.functional.conv_transpose2d,
                  gg.nn.functional.conv_transpose3d)[dims - 1]

    def call(lib, x):
        return transposed(x, weight, None, stride, padding, extra, groups)

    one = call(gg, gg.ones(1, 2 * groups, *(size,) * dims, dtype=gg.float64))
    shape, grad = _empty_batch(gg, call, (2 * groups, *(size,) * dims))
    assert shape == (0, *one.shape[1:])
    assert grad.shape == (0, 2 * groups, *(size,) * dims)
    assert weight.grad.abs().sum().item() == 0.0  # no sample, so no share of any weight


@pytest.mark.parametrize("pooled", [False, True])
def test_second_derivatives_of_an_empty_batch_are_empty(pooled):
    """A gradient penalty (∂L/∂x from create_graph=True, then its square's backward) over an empty batch: the
    weight's second derivative is 0, through a convolution and then a max pooling."""
    x = gg.zeros(0, 2, 5, 6, dtype=gg.float64, requires_grad=True)
    weight = gg.ones(4, 1, 3, 2, dtype=gg.float64, requires_grad=True)
    out = gg.nn.functional.conv2d(x, weight, None, 1, 1, 1, 2)
    if pooled:
        out = gg.nn.functional.max_pool2d(out, 2)
    slope, = gg.autograd.grad((out ** 2).sum(), x, create_graph=True)
    (slope ** 2).sum().backward()
    assert slope.shape == (0, 2, 5, 6)
    np.testing.assert_array_equal(weight.grad.numpy(), np.zeros((4, 1, 3, 2)))


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(ONE_EACH))
def test_an_empty_batch_matches_pytorch(torch, name):
    call, sample_shape = ONE_EACH[name]
    mine, theirs = _empty_batch(gg, call, sample_shape), _empty_batch(torch, call, sample_shape)
    assert mine[0] == tuple(theirs[0])
    assert tuple(mine[1].shape) == tuple(theirs[1].shape)


@pytest.mark.torch
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_an_empty_batch_through_conv_transpose_matches_pytorch(torch, dims):
    found = []
    for lib in (gg, torch):
        layer = (lib.nn.ConvTranspose1d, lib.nn.ConvTranspose2d, lib.nn.ConvTranspose3d)[dims - 1](
            4, 2, 3, stride=2, padding=1, output_padding=1, groups=2, dtype=lib.float64)
        x = lib.zeros(0, 4, *(3,) * dims, dtype=lib.float64, requires_grad=True)
        out = layer(x)
        out.sum().backward()
        found.append((tuple(out.shape), tuple(x.grad.shape), layer.weight.grad.abs().sum().item()))
    assert found[0] == found[1]
