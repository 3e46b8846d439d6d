"""PixelShuffle/PixelUnshuffle, ChannelShuffle and Bilinear (layers and ``F.*``) against PyTorch 2.13: outputs
and gradients over hypothesis-drawn sizes (Bilinear's weights copied from PyTorch's layer)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _run(lib, call, arrays):
    tensors = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = call(lib, *tensors)
    (out * lib.arange(1.0, out.numel() + 1, dtype=lib.float64).reshape(tuple(out.shape))).sum().backward()
    return [out.detach().numpy()] + [t.grad.numpy() for t in tensors]


@pytest.mark.torch
@given(r=st.integers(1, 3), channels=st.integers(1, 2), h=st.integers(1, 3), w=st.integers(1, 3),
       groups=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_shuffles_match_pytorch(torch, r, channels, h, w, groups, seed):
    rng = np.random.default_rng(seed)
    calls = [(lambda lib, x: lib.nn.PixelShuffle(r)(x), (2, channels * r * r, h, w)),
             (lambda lib, x: lib.nn.functional.pixel_unshuffle(x, r), (channels, h * r, w * r)),
             (lambda lib, x: lib.nn.ChannelShuffle(groups)(x), (2, groups * channels, h, w)),
             (lambda lib, x: lib.nn.functional.pixel_unshuffle(lib.nn.functional.pixel_shuffle(x, r), r),
              (1, channels * r * r, h, w))]
    for call, shape in calls:
        values = rng.normal(size=shape)
        for mine, theirs in zip(_run(gg, call, [values]), _run(torch, call, [values])):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12)


@pytest.mark.torch
@given(batch=st.integers(1, 3), sizes=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_bilinear_matches_pytorch(torch, batch, sizes, bias, seed):
    theirs_layer = torch.nn.Bilinear(*sizes, bias=bias).double()
    mine_layer = gg.nn.Bilinear(*sizes, bias=bias, dtype=gg.float64)
    mine_layer.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in theirs_layer.state_dict().items()})
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(batch, sizes[0])), rng.normal(size=(batch, sizes[1]))]
    mine = _run(gg, lambda lib, a, b: mine_layer(a, b), arrays) + [p.grad.numpy() for p in mine_layer.parameters()]
    theirs = _run(torch, lambda lib, a, b: theirs_layer(a, b), arrays) + [p.grad.numpy()
                                                                          for p in theirs_layer.parameters()]
    for ours, reference in zip(mine, theirs):
        np.testing.assert_allclose(ours, reference, rtol=1e-10)


def test_bilinear_starts_within_pytorchs_bound():
    layer = gg.nn.Bilinear(16, 3, 5, seed=0)
    assert np.abs(layer.weight.numpy()).max() <= 0.25 and np.abs(layer.bias.numpy()).max() <= 0.25  # 1/√16


@pytest.mark.parametrize("call, message", [
    (lambda: gg.nn.PixelShuffle(2)(gg.ones(1, 3, 2, 2)), "must divide by upscale_factor² = 4"),
    (lambda: gg.nn.functional.pixel_unshuffle(gg.ones(1, 1, 3, 2), 2), "must divide by downscale_factor = 2"),
    (lambda: gg.nn.ChannelShuffle(2)(gg.ones(1, 3, 2)), "must divide into 2 groups"),
])
def test_bad_shapes_are_one_line_errors(call, message):
    with pytest.raises(RuntimeError) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


@given(batch=st.integers(1, 2), groups=st.integers(1, 3), per_group=st.integers(1, 3),
       rest=st.lists(st.integers(1, 2), min_size=0, max_size=2))
def test_channel_shuffle_reads_channel_i_from_group_i_mod_g_or_refuses_like_pytorch(batch, groups, per_group, rest):
    """Channel i of the output is channel (i mod g)·(C/g) + ⌊i/g⌋ of the input: the (g, C/g) table transposed.
    Without a dim after the channels PyTorch refuses; glassgrad shuffled them (and groups=0 raised
    ZeroDivisionError)."""
    channels = groups * per_group
    x = gg.arange(float(batch * channels * int(np.prod(rest)))).reshape(batch, channels, *rest)
    if not rest:
        with pytest.raises(RuntimeError, match="at least one dim after the channels") as error:
            gg.nn.functional.channel_shuffle(x, groups)
        assert "\n" not in str(error.value)
        return
    out = gg.nn.functional.channel_shuffle(x, groups).numpy()
    for i in range(channels):
        np.testing.assert_array_equal(out[:, i], x.numpy()[:, (i % groups) * per_group + i // groups])


@pytest.mark.parametrize("groups", [0, -2, 2.0, True])
def test_channel_shuffle_groups_must_be_a_positive_integer(groups):
    kind = RuntimeError if type(groups) is int else TypeError  # no int at all: PyTorch's TypeError
    with pytest.raises(kind, match="channel_shuffle: groups must be a positive integer") as error:
        gg.nn.functional.channel_shuffle(gg.ones(1, 4, 2), groups)
    assert "\n" not in str(error.value)


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(2, 4), (4,)])
def test_channel_shuffle_without_a_dim_after_the_channels_is_refused_as_pytorch_refuses_it(torch, shape):
    from one_line_errors import assert_raises_as_pytorch

    assert_raises_as_pytorch(lambda lib: lib.nn.functional.channel_shuffle(lib.ones(*shape), 2), torch)


@pytest.mark.parametrize("shuffle", ["pixel_shuffle", "pixel_unshuffle"])
@pytest.mark.parametrize("factor", [0, -2, 2.5, True])
def test_pixel_shuffle_factors_must_be_positive_integers(shuffle, factor):
    """A factor of 0 raised ZeroDivisionError (PyTorch: 'expects a positive upscale_factor'); 2.5 was read as 2
    (now PyTorch's TypeError, as True)."""
    kind = RuntimeError if type(factor) is int else TypeError
    with pytest.raises(kind, match=f"{shuffle}: .*_factor must be a positive integer") as error:
        getattr(gg.nn.functional, shuffle)(gg.ones(1, 4, 4, 4), factor)
    assert "\n" not in str(error.value)
