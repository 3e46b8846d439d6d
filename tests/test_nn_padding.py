"""``F.pad`` and the padding layers against PyTorch 2.13: values and gradients for every mode, over
hypothesis-drawn shapes and amounts (negative amounts crop in constant mode)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F


def _both(torch, call, values, weights):
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        out = call(lib, x)
        (out * lib.tensor(np.resize(weights, tuple(out.shape)), dtype=lib.float64)).sum().backward()
        found.append((out.detach().numpy(), x.grad.numpy()))
    return found


@pytest.mark.torch
@given(dims=st.integers(1, 3), batch=st.integers(1, 2), channels=st.integers(1, 2), data=st.data(),
       mode=st.sampled_from(["constant", "reflect", "replicate", "circular"]), seed=st.integers(0, 2**16))
def test_pad_matches_pytorch_in_every_mode(torch, dims, batch, channels, data, mode, seed):
    sizes = data.draw(st.lists(st.integers(1, 4), min_size=dims, max_size=dims))
    low = -1 if mode == "constant" else 0
    amounts = data.draw(st.lists(st.integers(low, 3), min_size=2 * dims, max_size=2 * dims))
    for k in range(dims):
        size = sizes[-1 - k]
        before, after = amounts[2 * k], amounts[2 * k + 1]
        assume(mode != "reflect" or max(before, after) < size)
        assume(mode != "circular" or max(before, after) <= size)
        assume(size + min(before, 0) + min(after, 0) > 0)
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(batch, channels, *sizes))
    value = 0.5 if mode == "constant" else None
    mine, theirs = _both(torch, lambda lib, x: lib.nn.functional.pad(x, tuple(amounts), mode=mode, value=value),
                         values, rng.normal(size=64))
    for ours, reference in zip(mine, theirs):
        np.testing.assert_allclose(ours, reference, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("name, arguments, shape", [
    ("ZeroPad2d", ((1, 0, 2, 1),), (1, 2, 3, 3)), ("ConstantPad1d", (2, 3.5), (2, 3, 4)),
    ("ConstantPad3d", ((1, 0, 0, 1, 1, 1), -1.0), (1, 1, 2, 2, 2)), ("ReflectionPad1d", (2,), (2, 3, 4)),
    ("ReflectionPad2d", ((1, 2, 0, 1),), (1, 2, 3, 4)), ("ReplicationPad2d", (2,), (1, 1, 2, 3)),
    ("ReplicationPad3d", (1,), (1, 1, 2, 2, 2)), ("CircularPad2d", ((1, 1, 2, 0),), (2, 1, 3, 3)),
    ("ZeroPad1d", (1,), (3, 4)),
])
def test_the_padding_layers_match_pytorch(torch, name, arguments, shape):
    values = np.random.default_rng(1).normal(size=shape)
    mine, theirs = _both(torch, lambda lib, x: getattr(lib.nn, name)(*arguments)(x), values, np.arange(1, 9.0))
    for ours, reference in zip(mine, theirs):
        np.testing.assert_allclose(ours, reference, rtol=1e-12)


def test_border_copies_send_their_gradients_back_to_the_edge():
    x = gg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    F.pad(x, (2, 1), mode="replicate").sum().backward()
    assert x.grad.tolist() == [[3.0, 1.0, 2.0]]  # the first entry is copied twice into the left border


@pytest.mark.parametrize("call, message", [
    (lambda: F.pad(gg.ones(1, 3), (1,)), "a (before, after) pair per padded dim"),
    (lambda: F.pad(gg.ones(1, 3), (1, 1), mode="wrap"), "mode must be one of constant, reflect"),
    (lambda: F.pad(gg.ones(1, 3), (3, 0), mode="reflect"), "reflect padding of 3 needs a dim longer than that"),
    (lambda: F.pad(gg.ones(1, 3), (-2, -1), mode="replicate"), "crop all of dim 1 (size 3)"),
    (lambda: gg.nn.ZeroPad2d((1, 2, 3)), "padding must be an int or 4 ints"),
])
def test_bad_padding_is_a_one_line_error(call, message):
    with pytest.raises((ValueError, NotImplementedError, RuntimeError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.torch
@pytest.mark.parametrize("amounts", [(-7, 1), (-4, -3), (-8, 3), (2, -9)])
def test_a_constant_pad_that_crops_more_than_a_dim_is_refused_as_pytorch_refuses_it(torch, amounts):
    """Width 6 cropped by 7: PyTorch's narrow refuses it; glassgrad returned zeros of some width."""
    from one_line_errors import assert_raises_as_pytorch

    error = assert_raises_as_pytorch(lambda lib: lib.nn.functional.pad(lib.ones(1, 6), amounts), torch)
    assert "crop more than all of dim 1 (size 6)" in str(error)


@pytest.mark.torch
def test_a_constant_pad_may_crop_all_of_a_dim_as_pytorch(torch):
    shapes = [tuple(library.nn.functional.pad(library.ones(2, 6), (-6, 0)).shape) for library in (gg, torch)]
    assert shapes[0] == shapes[1] == (2, 0)


@pytest.mark.parametrize("amounts", [(1.5, 1), (1, 2.0), (np.float64(1.0), 0)])
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_amounts_that_are_not_whole_numbers_are_refused_in_one_line(amounts, mode):
    """1.5 was read as int(1.5) = 1 and the input padded by that; PyTorch wants a tuple of ints (TypeError)."""
    with pytest.raises(TypeError, match=r"pad: the amounts must be whole numbers \(ints\)") as error:
        F.pad(gg.ones(1, 2, 4), amounts, mode=mode)
    assert "\n" not in str(error.value)


def test_amounts_may_be_numpy_or_tensor_integers():
    amounts = (np.int64(1), gg.tensor(2))
    assert F.pad(gg.ones(1, 2, 4), amounts, mode="reflect").shape == (1, 2, 7)


@pytest.mark.torch
def test_a_fractional_amount_is_refused_as_pytorch_refuses_it(torch):
    from one_line_errors import assert_raises_as_pytorch

    assert_raises_as_pytorch(lambda lib: lib.nn.functional.pad(lib.ones(1, 2, 4), (1.5, 1)), torch)


EMPTYING_CROPS = [  # (shape, amounts, mode): some padded dim cropped to nothing, PyTorch's result empty
    ((1, 2, 4), (-2, -2), "circular"), ((1, 2, 4), (-4, 0), "circular"), ((2, 4), (-3, -1), "circular"),
    ((1, 2, 4), (-6, 2), "circular"), ((1, 1, 3, 4), (0, 0, -3, 0), "circular"),
    ((1, 1, 3, 4), (1, 1, 0, -3), "circular"),
    ((1, 1, 3, 4), (-2, -2, 0, 0), "replicate"), ((1, 1, 3, 4), (-4, 0, 1, 1), "replicate"),
    ((1, 3, 4), (2, 1, -1, -2), "replicate"), ((1, 2, 3, 4), (-4, 0, 1, 2, 1, 0), "replicate"),
    ((1, 1, 3, 4), (0, 0, -3, 0), "reflect"), ((1, 1, 3, 4), (-4, 0, 1, 1), "reflect"),
    ((1, 2, 4), (-2, -2, 0, 0), "reflect"),
    ((1, 1, 3, 4), (-2, -2, 0, 0), "constant"), ((1, 3, 4), (0, 0, -3, 0), "constant"),
]


@pytest.mark.torch
@pytest.mark.parametrize("shape, amounts, mode", EMPTYING_CROPS)
def test_a_crop_to_nothing_gives_pytorchs_empty_result(torch, shape, amounts, mode):
    """replicate and circular (and reflect) refused a crop that leaves a dim empty ('crop all of dim …'); PyTorch
    returns an empty tensor of the padded shape, and the input's gradient is 0."""
    found = []
    for library in (gg, torch):
        x = library.ones(shape, dtype=library.float64, requires_grad=True)
        out = library.nn.functional.pad(x, amounts, mode=mode)
        out.sum().backward()
        found.append((tuple(out.shape), x.grad.numpy()))
    (shape_mine, gradient), (shape_theirs, _) = found
    assert shape_mine == shape_theirs and 0 in shape_mine
    np.testing.assert_array_equal(gradient, np.zeros(shape))  # PyTorch's 3-d reflect may leave it unwritten


REFUSED_CROPS = [  # what PyTorch refuses in these modes: a 1-d reflect or replicate crop to nothing, every padded
    # dim cropped to nothing, a crop past the end, circular padding before a dim cropped to nothing
    ((1, 2, 4), (-2, -2), "replicate"), ((1, 2, 4), (-4, 0), "reflect"), ((1, 1, 3, 4), (-2, -2, -3, 0), "replicate"),
    ((1, 3, 4), (-4, 0, -1, -2), "reflect"), ((1, 2, 3, 4), (-2, -2, -3, 0, -1, -1), "replicate"),
    ((1, 2, 4), (-5, 0), "circular"), ((1, 2, 4), (1, -5), "circular"), ((1, 1, 3, 4), (1, -5, 1, 2), "circular"),
    ((1, 1, 3, 4), (-2, -2, 2, -4), "circular"), ((1, 1, 2, 3, 4), (-4, 1, 2, -4, 0, -2), "circular"),
]


@pytest.mark.torch
@pytest.mark.parametrize("shape, amounts, mode", REFUSED_CROPS)
def test_a_crop_pytorch_refuses_is_refused_in_one_line(torch, shape, amounts, mode):
    for library in (gg, torch):
        with pytest.raises(RuntimeError) as error:
            library.nn.functional.pad(library.ones(shape, requires_grad=True), amounts, mode=mode)
        if library is gg:
            assert str(error.value).startswith("pad: ") and "\n" not in str(error.value)
