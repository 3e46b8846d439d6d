"""``F.unfold``/``F.fold`` and ``Unfold``/``Fold`` against PyTorch 2.13: columns, folded images and the input
gradients over hypothesis-drawn sizes and settings; a convolution written with unfold equals ``conv2d``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import glassgrad as gg


@pytest.mark.torch
@given(data=st.data(), batched=st.booleans(), seed=st.integers(0, 2**16))
def test_unfold_and_fold_match_pytorch(torch, data, batched, seed):
    pair = st.tuples(st.integers(1, 3), st.integers(1, 3))
    kernel, dilation, stride = data.draw(pair), data.draw(st.tuples(st.integers(1, 2), st.integers(1, 2))), \
        data.draw(pair)
    padding = data.draw(st.tuples(st.integers(0, 1), st.integers(0, 1)))
    size = data.draw(st.tuples(st.integers(1, 6), st.integers(1, 6)))
    assume(all(n + 2 * p >= d * (k - 1) + 1 for n, p, d, k in zip(size, padding, dilation, kernel)))
    values = np.random.default_rng(seed).normal(size=((2,) if batched else ()) + (2, *size))
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        columns = lib.nn.Unfold(kernel, dilation, padding, stride)(x)
        image = lib.nn.functional.fold(columns * 2, size, kernel, dilation, padding, stride)
        (image * lib.arange(image.numel(), dtype=lib.float64).reshape(tuple(image.shape))).sum().backward()
        found.append([columns.detach().numpy(), image.detach().numpy(), x.grad.numpy()])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_a_convolution_is_a_matrix_product_of_the_unfolded_image():
    rng = np.random.default_rng(1)
    x, w = gg.tensor(rng.normal(size=(2, 3, 5, 5))), gg.tensor(rng.normal(size=(4, 3, 3, 3)))
    columns = gg.nn.functional.unfold(x, 3, padding=1)  # (2, 27, 25)
    product = (w.reshape(4, -1) @ columns).reshape(2, 4, 5, 5)
    np.testing.assert_allclose(product.numpy(), gg.nn.functional.conv2d(x, w, padding=1).numpy(), rtol=1e-10)


@pytest.mark.parametrize("call, message, kind", [
    (lambda: gg.nn.functional.unfold(gg.ones(2, 3), 2), "unfold: expected input of shape (N, C, H, W)", IndexError),
    (lambda: gg.nn.functional.fold(gg.ones(1, 5, 4), (3, 3), 2), "fold: expected input (N, C·4, 4)", RuntimeError),
])
def test_bad_shapes_are_one_line_errors(call, message, kind):
    with pytest.raises(kind) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)
