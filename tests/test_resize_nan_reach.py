"""A NaN or ∞ in the input of ``F.interpolate`` (every mode) or of adaptive average pooling reaches exactly the
outputs that read it, and the gradient of exactly the inputs whose outputs are NaN, as in PyTorch 2.13: each
output reads its own few entries (a product with a resizing matrix spread one NaN over the whole plane, 0·NaN).

Two places where PyTorch's kernels differ on purpose are left out: an ∞ in a dim the linear modes keep (PyTorch
adds it times 0 and gives NaN; glassgrad leaves the dim as it is), and ``antialias=True``, whose two-pass kernel
in PyTorch reads entries of weight 0 past some windows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import glassgrad as gg

SETTINGS = [
    (1, dict(mode="linear")), (1, dict(mode="linear", align_corners=True)), (1, dict(mode="area")),
    (2, dict(mode="bilinear")), (2, dict(mode="bicubic")), (2, dict(mode="bicubic", align_corners=True)),
    (2, dict(mode="area")),
    (3, dict(mode="trilinear")), (3, dict(mode="area")),
]


def _resize_and_gradient(lib, values, upstream, resize):
    x = lib.tensor(values, requires_grad=True)
    out = resize(lib, x)
    out.backward(lib.tensor(upstream))
    return out.detach().numpy(), x.grad.numpy()


def _next_to(mask):
    """``mask`` grown by one position along each spatial dim."""
    grown = mask.copy()
    for axis in range(2, mask.ndim):
        padded = np.pad(mask, [(1, 1) if a == axis else (0, 0) for a in range(mask.ndim)])
        grown |= np.take(padded, range(2, mask.shape[axis] + 2), axis=axis)
        grown |= np.take(padded, range(mask.shape[axis]), axis=axis)
    return grown


def _same_reach(torch, values, outs, resize, seed, taps_of_weight_0=False):
    """Outputs and input gradients as PyTorch's: NaN and ±∞ in the same places, the finite entries equal.

    ``taps_of_weight_0``: PyTorch's bicubic kernel leaves out some taps whose weight is 0 (``k(1) = k(2) = 0``),
    where glassgrad reads every tap of the formula: a NaN may then reach one output more along a dim than PyTorch's.
    """
    upstream = np.random.default_rng(seed).standard_normal((1, 1, *outs))
    for mine, theirs in zip(_resize_and_gradient(gg, values, upstream, resize),
                            _resize_and_gradient(torch, values, upstream, resize)):
        if taps_of_weight_0:
            assert not (np.isnan(theirs) & ~np.isnan(mine)).any()
            assert not (np.isnan(mine) & ~_next_to(np.isnan(theirs))).any() or not np.isnan(theirs).any()
            both = ~np.isnan(mine) & ~np.isnan(theirs)
            mine, theirs = mine[both], theirs[both]
        else:
            np.testing.assert_array_equal(np.isnan(mine), np.isnan(theirs))
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)  # equal ∞ and finite entries


@pytest.mark.torch
@pytest.mark.parametrize("dims, options", SETTINGS)
@given(data=st.data(), special=st.sampled_from([np.nan, np.inf, -np.inf]), seed=st.integers(0, 2**16))
def test_interpolate_keeps_a_nan_or_infinity_to_the_outputs_that_read_it(torch, dims, options, data, special,
                                                                         seed):
    size = data.draw(st.lists(st.integers(2, 6), min_size=dims, max_size=dims))
    outs = data.draw(st.lists(st.integers(1, 9), min_size=dims, max_size=dims))
    values = np.random.default_rng(seed).standard_normal((1, 1, *size))
    values[(0, 0, *(data.draw(st.integers(0, n - 1)) for n in size))] = special
    assume(np.isnan(special) or not (options["mode"].endswith("linear") and any(map(int.__eq__, outs, size))))
    _same_reach(torch, values, outs,
                lambda lib, x: lib.nn.functional.interpolate(x, size=tuple(outs), **options), seed,
                taps_of_weight_0=options["mode"] == "bicubic")


@pytest.mark.torch
@pytest.mark.parametrize("dims", [1, 2, 3])
@given(data=st.data(), special=st.sampled_from([np.nan, np.inf]), seed=st.integers(0, 2**16))
def test_adaptive_average_pooling_keeps_a_nan_or_infinity_to_its_windows(torch, dims, data, special, seed):
    size = data.draw(st.lists(st.integers(1, 7), min_size=dims, max_size=dims))
    outs = data.draw(st.lists(st.integers(1, 7), min_size=dims, max_size=dims))
    values = np.random.default_rng(seed).standard_normal((1, 1, *size))
    values[(0, 0, *(data.draw(st.integers(0, n - 1)) for n in size))] = special
    name = f"adaptive_avg_pool{dims}d"
    _same_reach(torch, values, outs,
                lambda lib, x: getattr(lib.nn.functional, name)(x, tuple(outs) if dims > 1 else outs[0]), seed)


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["nearest", "bilinear", "area"])
def test_interpolate_of_more_than_three_spatial_dims_is_refused_as_in_pytorch(torch, mode):
    """PyTorch resizes 3-D, 4-D and 5-D inputs only; a 6-D one raised IndexError in area mode."""
    with pytest.raises(NotImplementedError):
        torch.nn.functional.interpolate(torch.zeros(1, 1, 2, 2, 2, 2), size=2, mode=mode)
    with pytest.raises(NotImplementedError, match="needs a") as caught:
        gg.nn.functional.interpolate(gg.zeros(1, 1, 2, 2, 2, 2), size=2, mode=mode)
    assert "\n" not in str(caught.value)


@pytest.mark.torch
@pytest.mark.parametrize("name, shape, size", [("adaptive_avg_pool2d", (1, 1, 4, 4), (0, 2)),
                                               ("adaptive_avg_pool1d", (1, 1, 4), 0),
                                               ("adaptive_max_pool2d", (1, 1, 4, 4), (2, 0))])
def test_adaptive_pooling_to_no_entries_gives_an_empty_tensor_as_in_pytorch(torch, name, shape, size):
    theirs = getattr(torch.nn.functional, name)(torch.ones(shape), size)
    assert getattr(gg.nn.functional, name)(gg.ones(shape), size).shape == theirs.shape
