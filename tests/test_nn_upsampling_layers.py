"""Transposed convolutions, ``F.interpolate``/``Upsample`` and ``Unflatten`` against PyTorch 2.13: outputs and
the gradients of the input and of every parameter, over hypothesis-drawn sizes and settings (weights copied
from PyTorch's layer so that both compute the same thing)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from one_line_errors import assert_raises_as_pytorch

import glassgrad as gg


def _gradients(lib, layer, values, weights):
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    out = layer(x)
    (out * lib.tensor(np.resize(weights, tuple(out.shape)), dtype=lib.float64)).sum().backward()
    parameters = layer.parameters() if hasattr(layer, "parameters") else []
    return [out.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in parameters]


def _same_layer(torch, name, *args, **kwargs):
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    mine = getattr(gg.nn, name)(*args, **kwargs, dtype=gg.float64)
    mine.load_state_dict({key: gg.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})
    return mine, theirs


@pytest.mark.torch
@given(dims=st.integers(1, 2), batch=st.integers(1, 2), groups=st.integers(1, 2), data=st.data(),
       seed=st.integers(0, 2**16))
def test_conv_transpose_matches_pytorch(torch, dims, batch, groups, data, seed):
    kernel = data.draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims))
    stride = data.draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims))
    dilation = data.draw(st.lists(st.integers(1, 2), min_size=dims, max_size=dims))
    padding = data.draw(st.lists(st.integers(0, 2), min_size=dims, max_size=dims))
    extra = [data.draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation)]
    size = data.draw(st.lists(st.integers(1, 4), min_size=dims, max_size=dims))
    outs = [(n - 1) * s - 2 * p + d * (k - 1) + e + 1
            for n, s, p, d, k, e in zip(size, stride, padding, dilation, kernel, extra)]
    assume(min(outs) >= 1)
    bias = data.draw(st.booleans())
    mine, theirs = _same_layer(torch, f"ConvTranspose{dims}d", 2 * groups, 3 * groups, kernel, stride, padding,
                               extra, groups, bias, dilation)
    rng = np.random.default_rng(seed)
    values, weights = rng.normal(size=(batch, 2 * groups, *size)), rng.normal(size=512)
    for ours, reference in zip(_gradients(gg, mine, values, weights), _gradients(torch, theirs, values, weights)):
        np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_conv_transpose_with_output_size_unbatched_and_its_functional_form(torch):
    mine, theirs = _same_layer(torch, "ConvTranspose2d", 3, 2, 3, stride=2, padding=1)
    values = np.random.default_rng(1).normal(size=(3, 4, 5))
    for lib, layer in ((gg, mine), (torch, theirs)):
        x = lib.tensor(values, dtype=lib.float64)
        assert tuple(layer(x, output_size=(8, 10)).shape) == (2, 8, 10)
    weight = np.random.default_rng(2).normal(size=(4, 2, 2))
    out_mine = gg.nn.functional.conv_transpose1d(gg.tensor(values[0]), gg.tensor(weight), stride=2)
    out_theirs = torch.nn.functional.conv_transpose1d(torch.tensor(values[0]), torch.tensor(weight), stride=2)
    np.testing.assert_allclose(out_mine.numpy(), out_theirs.numpy(), rtol=1e-12)


def test_a_default_conv_transpose_starts_from_pytorchs_bounds():
    layer = gg.nn.ConvTranspose2d(8, 4, 3, seed=0)
    bound = 1 / np.sqrt(4 * 9)  # fan_in from dim 1 of the weight (out_channels · kernel entries), as PyTorch
    assert tuple(layer.weight.shape) == (8, 4, 3, 3)
    assert np.abs(layer.weight.numpy()).max() <= bound and np.abs(layer.bias.numpy()).max() <= bound
    assert np.abs(layer.weight.numpy()).max() > 0.8 * bound  # spread over the interval, not a narrow part of it


@pytest.mark.torch
@given(seed=st.integers(0, 2**16), data=st.data(),
       mode=st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "trilinear"]))
def test_interpolate_matches_pytorch(torch, seed, data, mode):
    dims = {"linear": 1, "bilinear": 2, "trilinear": 3}.get(mode, data.draw(st.integers(1, 3)))
    size = data.draw(st.lists(st.integers(1, 4), min_size=dims, max_size=dims))
    align = None if mode.startswith("nearest") else data.draw(st.booleans())
    by_size = data.draw(st.booleans())
    if by_size:
        options = {"size": data.draw(st.lists(st.integers(1, 6), min_size=dims, max_size=dims))}
    else:
        options = {"scale_factor": data.draw(st.sampled_from([0.5, 1.5, 2.0, 3.0]))}
        assume(all(int(n * options["scale_factor"]) >= 1 for n in size))
    values = np.random.default_rng(seed).normal(size=(2, 1, *size))
    found = []
    for lib in (gg, torch):
        def layer(x, lib=lib):
            return (lib.nn.functional.interpolate(x, mode=mode, align_corners=align, **options))
        found.append(_gradients(lib, layer, values, np.arange(1.0, 300.0)))
    for ours, reference in zip(*found):
        np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_the_upsampling_layers_and_unflatten_match_pytorch(torch):
    values = np.random.default_rng(2).normal(size=(1, 2, 3, 3))
    for make in (lambda lib: lib.nn.Upsample(scale_factor=2), lambda lib: lib.nn.UpsamplingBilinear2d(size=(5, 4)),
                 lambda lib: lib.nn.UpsamplingNearest2d(scale_factor=3),
                 lambda lib: lib.nn.Upsample(size=4, mode="bilinear"),
                 lambda lib: lib.nn.Sequential(lib.nn.Flatten(), lib.nn.Unflatten(1, (3, 2, 3)))):
        mine, theirs = (_gradients(lib, make(lib), values, np.arange(1.0, 200.0)) for lib in (gg, torch))
        for ours, reference in zip(mine, theirs):
            np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-12)


RESIZE_MISTAKES = {  # a mode for images given a sequence, or the other way round, and the like
    "bilinear of a sequence": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4), scale_factor=2,
                                                                         mode="bilinear"),
    "bicubic of a volume": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 2, 2, 2), scale_factor=2,
                                                                      mode="bicubic"),
    "linear of an image": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4, 4), size=6, mode="linear"),
    "trilinear of an image": lambda lib: lib.nn.Upsample(scale_factor=2, mode="trilinear")(lib.ones(1, 1, 4, 4)),
    "nearest of a vector": lambda lib: lib.nn.functional.interpolate(lib.ones(4), scale_factor=2),
}


@pytest.mark.torch
@pytest.mark.parametrize("mistake", sorted(RESIZE_MISTAKES))
def test_a_mode_for_other_dims_raises_pytorchs_exception_type(mistake, torch):
    """``F.interpolate(x, scale_factor=2, mode="bilinear")`` of a 3-D input raises NotImplementedError in PyTorch;
    glassgrad raised ValueError."""
    assert_raises_as_pytorch(RESIZE_MISTAKES[mistake], torch)


@pytest.mark.parametrize("call, message", [
    (lambda: gg.nn.functional.interpolate(gg.ones(1, 1, 4), scale_factor=2, mode="lanczos"), "mode 'lanczos'"),
    (lambda: gg.nn.functional.interpolate(gg.ones(1, 1, 4), scale_factor=2, mode="bicubic"), "needs a 4-D input"),
    (lambda: gg.nn.functional.interpolate(gg.ones(1, 1, 4), scale_factor=2, mode="bilinear"), "needs a 4-D input"),
    (lambda: gg.nn.functional.interpolate(gg.ones(1, 1, 4)), "give either size or scale_factor"),
    (lambda: gg.nn.functional.interpolate(gg.ones(1, 1, 4), size=3, align_corners=True), "align_corners only"),
    (lambda: gg.nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2)(gg.ones(1, 2, 3, 3)),
     "output_padding (2, 2) must be smaller than the stride"),
    (lambda: gg.nn.ConvTranspose2d(3, 2, 3)(gg.ones(1, 2, 3, 3)), "the input has 2 channels"),
])
def test_bad_calls_are_one_line_errors(call, message):
    with pytest.raises((ValueError, NotImplementedError, RuntimeError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


MODES_BY_DIMS = {1: ["linear"], 2: ["bilinear", "bilinear aa", "bicubic aa"], 3: ["trilinear"]}
"""(Not nearest or plain bicubic, and no gradients with antialias: for a kept size PyTorch's backward of those is
not its forward's: nearest's forward reads [0, 0] and its gradient goes to both entries; bicubic resamples forward
and passes the gradient back unchanged; antialias passes the values unchanged and resamples the gradient.
glassgrad's gradients are its forwards'.)"""


@pytest.mark.torch
@given(dims=st.sampled_from([1, 2, 3]), sizes=st.lists(st.integers(1, 6), min_size=3, max_size=3),
       factors=st.lists(st.sampled_from([1.05, 1.3, 0.99, 2.0, 0.6]), min_size=3, max_size=3),
       align=st.booleans(), data=st.data(), seed=st.integers(0, 2**16))
def test_a_size_the_factor_keeps_is_left_as_pytorch_leaves_it(torch, dims, sizes, factors, align, data, seed):
    """scale_factor=1.3 of a height of 2 keeps it 2: PyTorch's linear modes (and antialias) leave that dim as it is;
    glassgrad resampled it at 1/1.3, so its rows mixed (5, 5.65, … where 3.27, 3.92, …)."""
    mode = data.draw(st.sampled_from(MODES_BY_DIMS[dims]))
    antialias = mode.endswith(" aa")
    mode = mode.removesuffix(" aa")
    shape, scale = tuple(sizes[:dims]), tuple(factors[:dims])
    if min(int(n * f) for n, f in zip(shape, scale)) < 1:
        return
    assume(not (antialias and int(shape[-1] * scale[-1]) == 1))  # PyTorch's quirk, below
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(1, 2, *shape))
    options = {"align_corners": align} if "linear" in mode or mode == "bicubic" else {}
    results = []
    for library in (gg, torch):
        x = library.tensor(values, requires_grad=True)
        out = library.nn.functional.interpolate(x, scale_factor=scale, mode=mode, antialias=antialias, **options)
        out.backward(library.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape))))
        results.append((out.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results) if not antialias else [(results[0][0], results[1][0])]:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


@pytest.mark.torch
@given(height=st.integers(1, 5), width=st.integers(1, 3), out_height=st.integers(1, 12), seed=st.integers(0, 2**16))
def test_an_image_resized_to_one_pixel_wide_with_antialias_is_as_pytorch_resizes_it_turned_on_its_side(
        torch, height, width, out_height, seed):
    """PyTorch 2.13's antialiased bilinear and bicubic to an output one pixel wide fill every row with one number
    (``[[1], [3]]`` to 4 rows gives 1, 1, 1, 1), which is why the comparison above leaves such sizes out. The
    oracle here: the same image turned on its side (to one pixel high), whose rows PyTorch resizes right (1, 1.5,
    2.5, 3)."""
    values = np.random.default_rng(seed).normal(size=(1, 2, height, width))
    side = values.transpose(0, 1, 3, 2)
    for mode in ("bilinear", "bicubic"):
        tall = gg.nn.functional.interpolate(gg.tensor(values), size=(out_height, 1), mode=mode, antialias=True)
        wide = torch.nn.functional.interpolate(torch.tensor(side), size=(1, out_height), mode=mode, antialias=True)
        np.testing.assert_allclose(tall.numpy(), wide.numpy().transpose(0, 1, 3, 2), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("size", [(3, 12), (12, 3), (6, 6)])
def test_nearest_reaches_a_nan_only_where_an_output_reads_it_as_pytorch(torch, mode, size):
    """Nearest was a product with a 0/1 matrix, so one NaN made every output of its plane NaN (0·NaN), and an ∞
    in the upstream gradient every input's gradient; each output now picks its one entry."""
    values = np.arange(36.0).reshape(1, 1, 6, 6)
    values[0, 0, 2, 3] = np.nan
    upstream = np.ones((1, 1, *size))
    upstream[0, 0, 0, 0] = np.inf
    results = []
    for library in (gg, torch):
        x = library.tensor(values, requires_grad=True)
        out = library.nn.functional.interpolate(x, size=size, mode=mode)
        out.backward(library.tensor(upstream))
        results.append((out.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("scale_factor", [float("nan"), float("inf"), (2.0, float("-inf"))])
def test_a_scale_factor_that_is_not_finite_is_refused_in_one_line(scale_factor):
    """NaN raised Python's 'cannot convert float NaN to integer' (ValueError), ∞ an OverflowError; PyTorch raises a
    RuntimeError ('value cannot be converted to type int64_t without overflow')."""
    with pytest.raises(RuntimeError, match="interpolate: scale_factor must be finite") as error:
        gg.nn.functional.interpolate(gg.ones(1, 1, 4, 4), scale_factor=scale_factor)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("size", [3.5, (3.0, 3), [2, 2.7]])
def test_a_size_that_is_not_whole_numbers_is_refused_in_one_line(size):
    """3.5 was read as int(3.5) = 3; PyTorch refuses sizes that are not ints (TypeError)."""
    with pytest.raises(TypeError, match="interpolate: size must be whole numbers") as error:
        gg.nn.functional.interpolate(gg.ones(1, 1, 4, 4), size=size, mode="bilinear")
    assert "\n" not in str(error.value)


@pytest.mark.torch
@pytest.mark.parametrize("options", [{"scale_factor": float("nan")}, {"scale_factor": float("inf")},
                                     {"size": (3.0, 3)}, {"size": 3.5}])
def test_bad_sizes_and_scales_are_refused_as_pytorch_refuses_them(torch, options):
    assert_raises_as_pytorch(lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4, 4), **options), torch)
