"""Layers built with the options courses and programs use, against PyTorch 2.13 in float64: each test pins an
option that once gave other numbers than PyTorch's, or was refused, or refused with another exception type."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


def _run(lib, make, inputs, call, seed):
    """Build with ``lib``, call on ``inputs`` (float arrays require grad), backprop a random weighting of the
    output: the output, the inputs' gradients and the parameters' gradients, as NumPy arrays."""
    layer = make(lib)
    tensors = [lib.tensor(value, requires_grad=value.dtype.kind == "f") for value in inputs]
    out = call(layer, *tensors)
    upstream = np.random.default_rng(seed).normal(size=tuple(out.shape))
    if out.requires_grad:
        (out * lib.tensor(upstream)).sum().backward()
    grads = [t.grad.numpy() for t in tensors if t.grad is not None]
    grads += [p.grad.numpy() for p in getattr(layer, "parameters", list)() if p.grad is not None]
    return [out.detach().numpy()] + grads


def _assert_like_pytorch(torch, make, inputs, call=lambda layer, *xs: layer(*xs), seed=0):
    mine, theirs = (_run(lib, make, inputs, call, seed) for lib in (gg, torch))
    assert len(mine) == len(theirs)
    for ours, reference in zip(mine, theirs):
        assert ours.shape == reference.shape
        np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-12)


def _resize(mode, **options):
    return lambda lib: lambda x: lib.nn.functional.interpolate(x, mode=mode, **options)


@pytest.mark.torch
@settings(max_examples=30)
@given(dims=st.integers(1, 3), mode=st.sampled_from(["nearest", "nearest-exact"]), data=st.data())
def test_nearest_resizing_picks_pytorchs_entries(torch, dims, mode, data):
    """PyTorch's 4-D ``nearest`` copies (out = in) or halves (out = 2·in) the output index exactly whatever the
    scale factor says: 3 rows scaled by 2.3 give 6 rows, rows 0 0 1 1 2 2 (⌊o/2.3⌋ would give 0 0 0 1 1 2).
    PyTorch's 3-D and 5-D backward kernels copy and halve so too while their forward does not, so their gradient
    is not the derivative of their forward: there only the values are compared."""
    spatial = tuple(data.draw(st.lists(st.integers(1, 6), min_size=dims, max_size=dims), label="spatial"))
    if data.draw(st.booleans(), label="by size"):
        options = {"size": tuple(data.draw(st.lists(st.integers(1, 13), min_size=dims, max_size=dims)))}
    else:
        factors = st.sampled_from([0.5, 1.1, 1.2, 1.7, 2.0, 2.3, 3.0])
        options = {"scale_factor": tuple(data.draw(st.lists(factors, min_size=dims, max_size=dims))),
                   "recompute_scale_factor": data.draw(st.sampled_from([None, True]))}
    if min(int(n * f) for n, f in zip(spatial, options.get("scale_factor", (1,) * dims))) < 1:
        options["scale_factor"] = (2.0,) * dims
    values = np.random.default_rng(dims).normal(size=(2, 2) + spatial)
    if dims == 2:
        _assert_like_pytorch(torch, _resize(mode, **options), [values])
    mine, theirs = (_resize(mode, **options)(lib)(lib.tensor(values)) for lib in (gg, torch))
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("rows, factor", [(3, 2.3), (2, 1.1), (4, 1.2)])
def test_planar_nearest_copies_or_halves_rows_as_pytorch(torch, rows, factor):
    """``Upsample(scale_factor=2.3)`` of 3 rows: 6 rows, each input row twice, as PyTorch's 4-D kernel gives."""
    values = np.random.default_rng(rows).normal(size=(1, 2, rows, 2))
    _assert_like_pytorch(torch, lambda lib: lib.nn.Upsample(scale_factor=(factor, 1.0)), [values])


@pytest.mark.torch
@pytest.mark.parametrize("mode, size, out", [("nearest", 26, 46), ("nearest", 30, 22),
                                             ("nearest-exact", 2, 49), ("nearest-exact", 6, 47)])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_nearest_resizing_rounds_the_source_position_to_float32_as_pytorch(torch, mode, size, out, dims):
    """PyTorch takes the source position to float32 before the floor: 26 → 46 entries, output 23 reads entry 13
    (23·26/46 = 12.99999… in float64 is 13 in float32). Only the values are compared: PyTorch's backward kernels
    round otherwise, so their gradient is not the derivative of their forward there (glassgrad's is)."""
    values = np.random.default_rng(size).normal(size=(1, 1) + (2,) * (dims - 1) + (size,))
    mine, theirs = (_resize(mode, size=(2,) * (dims - 1) + (out,))(lib)(lib.tensor(values)) for lib in (gg, torch))
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["nearest", "linear", "area"])
@pytest.mark.parametrize("recompute", [None, True])
def test_resizing_to_no_entries_is_pytorchs_error_and_area_gives_an_empty_tensor(torch, mode, recompute):
    """A scale factor that leaves 0 entries: PyTorch's RuntimeError in one line (glassgrad's recomputed scale
    divided by 0), and for ``area`` the empty result PyTorch gives."""
    values = np.ones((1, 1, 1))
    resize = _resize(mode, scale_factor=0.5, recompute_scale_factor=recompute)
    if mode == "area":
        assert resize(gg)(gg.tensor(values)).shape == resize(torch)(torch.tensor(values)).shape == (1, 1, 0)
        return
    with pytest.raises(RuntimeError):
        resize(torch)(torch.tensor(values))
    with pytest.raises(RuntimeError, match="must be at least 1") as error:
        resize(gg)(gg.tensor(values))
    assert "\n" not in str(error.value)


@pytest.mark.torch
@settings(max_examples=15)
@given(dims=st.integers(1, 3), kernel=st.integers(1, 3), stride=st.sampled_from([None, 1, 2]), ceil_mode=st.booleans(),
       seed=st.integers(0, 2**16))
def test_lp_pooling_with_norm_type_1_sums_signed_windows_as_pytorch(torch, dims, kernel, stride, ceil_mode, seed):
    """``LPPool(1, k)`` of entries of both signs is each window's sum, as PyTorch gives it (it was refused as if
    the sum had to be rooted)."""
    values = np.random.default_rng(seed).uniform(0.5, 2.0, size=(2, 2) + (4,) * dims)
    values *= np.random.default_rng(seed + 1).choice([-1.0, 1.0], size=values.shape)
    name = f"LPPool{dims}d"
    _assert_like_pytorch(torch, lambda lib: getattr(lib.nn, name)(1, kernel, stride, ceil_mode), [values])


@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [1.5, 0.7])
def test_lp_pooling_a_negative_entry_to_a_fractional_power_is_refused_where_pytorch_gives_nan(torch, norm_type):
    """x^1.5 of a negative entry is not real: PyTorch's output is NaN, glassgrad's was NaN too, silently."""
    values = np.array([[[4.0, -1.0, 9.0, 1.0]]])
    assert torch.isnan(torch.nn.functional.lp_pool1d(torch.tensor(values), norm_type, 2)).any()
    with pytest.raises(ValueError, match=r"lp_pool1d: the input has negative entries, .* pool x.abs\(\) instead"):
        gg.nn.functional.lp_pool1d(gg.tensor(values), norm_type, 2)


def _error_of(call, lib):
    try:
        call(lib)
    except Exception as error:  # noqa: BLE001 - the exception type is what is compared
        return error
    return None


REFUSED_ALIKE = {
    "a transposed convolution's output_size a stride past its natural size": lambda lib: lib.nn.ConvTranspose2d(
        1, 1, 3, stride=(1, 2), dilation=2)(lib.ones(1, 1, 3, 3), output_size=(8, 9)),
    "a transposed convolution's output_size below its natural size": lambda lib: lib.nn.ConvTranspose1d(
        1, 1, 3, stride=2)(lib.ones(1, 1, 3), output_size=(6,)),
    "output_padding not below the stride or dilation": lambda lib: lib.nn.ConvTranspose2d(
        1, 1, 2, stride=(1, 2), output_padding=1)(lib.ones(1, 1, 3, 3)),
    "a transposed convolution with no output": lambda lib: lib.nn.ConvTranspose1d(1, 1, 1, padding=2)(
        lib.ones(1, 1, 3)),
    "an unpooling index past the plane": lambda lib: lib.nn.MaxUnpool2d(2)(
        lib.ones(1, 1, 2, 2), lib.full((1, 1, 2, 2), 16, dtype=lib.int64)),
    "an unpooling output_size a stride past the pooled size": lambda lib: lib.nn.MaxUnpool1d(2)(
        lib.ones(1, 1, 2), lib.zeros(1, 1, 2, dtype=lib.int64), output_size=(6,)),
    "a Transformer's src and tgt batches that differ": lambda lib: lib.nn.Transformer(4, 2, 1, 1, 4)(
        lib.zeros(3, 2, 4), lib.zeros(3, 1, 4)),
    "a Transformer's tgt of another width": lambda lib: lib.nn.Transformer(4, 2, 1, 1, 4)(
        lib.zeros(3, 2, 4), lib.zeros(3, 2, 6)),
    "an unfold with no window that fits": lambda lib: lib.nn.Unfold(3, dilation=2)(lib.ones(1, 1, 4, 6)),
    "a fold with no window that fits": lambda lib: lib.nn.Fold((1, 1), 2)(lib.ones(1, 4, 1)),
    "a fold of columns that are not whole windows": lambda lib: lib.nn.Fold((2, 2), 2)(lib.ones(1, 3, 1)),
    "reflect padding as wide as the dim": lambda lib: lib.nn.functional.pad(lib.ones(1, 3), (3, 0), mode="reflect"),
    "circular padding that wraps twice": lambda lib: lib.nn.functional.pad(lib.ones(1, 1, 3), (4, 0), mode="circular"),
    "a crop of a whole dim": lambda lib: lib.nn.functional.pad(lib.ones(1, 3), (-2, -2), mode="replicate"),
    "padding amounts that are not pairs": lambda lib: lib.nn.functional.pad(lib.ones(1, 3), (1, 2, 3)),
    "an unknown padding mode": lambda lib: lib.nn.functional.pad(lib.ones(1, 3), (1, 1), mode="wrap"),
    "a reflect-padded convolution whose padding is as wide as the input": lambda lib: lib.nn.Conv1d(
        1, 1, 1, padding=3, padding_mode="reflect")(lib.ones(1, 1, 3)),
    "a feed-forward activation by an unknown name": lambda lib: lib.nn.TransformerEncoderLayer(4, 2, activation="tanh"),
}


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # PyTorch's Transformer, built unbatched-first
@pytest.mark.parametrize("case", sorted(REFUSED_ALIKE))
def test_refused_with_pytorchs_exception_type_in_one_line(torch, case):
    """Each call is refused by PyTorch; glassgrad refuses it too (an output_size past PyTorch's range and an unfold
    with no window it computed), with the same exception type (it raised ValueError where PyTorch raises
    RuntimeError), in one line."""
    theirs, mine = (_error_of(REFUSED_ALIKE[case], lib) for lib in (torch, gg))
    assert theirs is not None and mine is not None, mine
    assert type(mine) is type(theirs), (mine, theirs)
    assert "\n" not in str(mine)


@pytest.mark.torch
def test_an_upsample_rebuilt_from_its_architecture_keeps_recompute_scale_factor(torch):
    """``Upsample(scale_factor=1.7, mode='bilinear', recompute_scale_factor=True)`` saved as an architecture and
    built again resized with the factor 1.7 instead of the recomputed 8/5 (its config left the option out)."""
    layer = gg.nn.Upsample(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)
    rebuilt = gg.nn.from_architecture(gg.nn.architecture(gg.nn.Sequential(layer)))[0]
    values = np.random.default_rng(0).normal(size=(1, 1, 5, 5))
    reference = torch.nn.Upsample(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)
    np.testing.assert_allclose(rebuilt(gg.tensor(values)).numpy(), reference(torch.tensor(values)).numpy(),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.torch
def test_loading_pytorchs_state_dict_as_it_is_names_the_conversion(torch):
    """``model.load_state_dict(torch_model.state_dict())`` was refused with 'expected a Tensor … but received
    Tensor'; the message now names PyTorch's class and the ``.numpy()`` that makes it load."""
    theirs = torch.nn.Linear(2, 3).double()
    mine = gg.nn.Linear(2, 3, dtype=gg.float64)
    with pytest.raises(RuntimeError, match=r"received torch\.Tensor; give PyTorch's tensors as value\.numpy\(\)"):
        mine.load_state_dict(theirs.state_dict())
    mine.load_state_dict({key: value.numpy() for key, value in theirs.state_dict().items()})
    np.testing.assert_array_equal(mine.weight.numpy(), theirs.weight.detach().numpy())


NORMS_WITH_BIAS = {
    "BatchNorm1d": lambda nn, **options: nn.BatchNorm1d(3, momentum=None, **options),
    "BatchNorm2d": lambda nn, **options: nn.BatchNorm2d(3, **options),
    "GroupNorm": lambda nn, **options: nn.GroupNorm(3, 3, **options),
    "InstanceNorm1d": lambda nn, **options: nn.InstanceNorm1d(3, track_running_stats=True, **options),
    "LazyBatchNorm1d": lambda nn, **options: nn.LazyBatchNorm1d(**options),
    "LazyInstanceNorm2d": lambda nn, **options: nn.LazyInstanceNorm2d(**options),
}
NORM_INPUTS = {"BatchNorm1d": (4, 3), "BatchNorm2d": (2, 3, 2, 2), "GroupNorm": (2, 3, 4), "InstanceNorm1d": (2, 3, 4),
               "LazyBatchNorm1d": (4, 3), "LazyInstanceNorm2d": (2, 3, 2, 2)}


@pytest.mark.torch
@settings(max_examples=20)
@given(name=st.sampled_from(sorted(NORMS_WITH_BIAS)), bias=st.booleans(), affine=st.booleans(),
       seed=st.integers(0, 2**16))
def test_norm_layers_take_pytorchs_bias_keyword(torch, name, bias, affine, seed):
    """PyTorch 2.13's batch, group and instance norms take ``bias=False`` (γ without β); it was a TypeError. The
    parameters, state-dict names, values and gradients (two training steps, then eval) follow PyTorch's."""
    values = np.random.default_rng(seed).normal(size=NORM_INPUTS[name]) * 2 + 1
    layers = {lib: NORMS_WITH_BIAS[name](lib.nn, bias=bias, affine=affine, dtype=lib.float64) for lib in (gg, torch)}
    for lib, layer in layers.items():  # a lazy layer takes its size from a first call
        layer(lib.tensor(values))
    assert list(layers[gg].state_dict()) == list(layers[torch].state_dict())
    for training in (True, True, False):
        _assert_like_pytorch(torch, lambda lib, training=training: layers[lib].train(training), [values])
