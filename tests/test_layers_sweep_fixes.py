"""Layers built with non-default arguments against PyTorch 2.13 in float64: each test pins one construction
that once differed from PyTorch (an error, or a different value, gradient or buffer)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import glassgrad as gg


def _copy_state(torch_layer, layer) -> None:
    layer.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in torch_layer.state_dict().items()})


@pytest.mark.torch
@settings(max_examples=10)
@given(batch=st.integers(1, 3), channels=st.integers(1, 3), length=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_instance_norm_with_momentum_none_keeps_its_running_statistics(torch, batch, channels, length, seed):
    values = np.random.default_rng(seed).normal(size=(batch, channels, length)) * 2 + 1
    theirs = torch.nn.InstanceNorm1d(channels, momentum=None, affine=True, track_running_stats=True,
                                     dtype=torch.float64)
    mine = gg.nn.InstanceNorm1d(channels, momentum=None, affine=True, track_running_stats=True, dtype=gg.float64)
    for training in (True, False):
        theirs.train(training), mine.train(training)
        out_theirs = theirs(torch.tensor(values))
        out_mine = mine(gg.tensor(values))
        np.testing.assert_allclose(out_mine.detach().numpy(), out_theirs.detach().numpy(), rtol=1e-9, atol=1e-12)
        for name, buffer in theirs.named_buffers():
            np.testing.assert_array_equal(getattr(mine, name).numpy(), buffer.numpy())


def _value_and_input_gradient(lib, values, weights, resize):
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    out = resize(lib, x)
    (out * lib.tensor(np.resize(weights, tuple(out.shape)), dtype=lib.float64)).sum().backward()
    return out.detach().numpy(), x.grad.numpy()


def _assert_resizes_alike(torch, values, seed, resize):
    weights = np.random.default_rng(seed).normal(size=512)
    for ours, reference in zip(_value_and_input_gradient(gg, values, weights, resize),
                               _value_and_input_gradient(torch, values, weights, resize)):
        np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-12)


@pytest.mark.torch
@settings(max_examples=15)
@given(height=st.integers(1, 6), width=st.integers(1, 6), out=st.tuples(st.integers(1, 9), st.integers(1, 9)),
       factor=st.sampled_from([None, 0.6, 1.5, 2.0]), align_corners=st.sampled_from([None, True, False]),
       seed=st.integers(0, 2**16))
def test_bicubic_upsampling_matches_pytorch(torch, height, width, out, factor, align_corners, seed):
    values = np.random.default_rng(seed).normal(size=(2, 2, height, width))
    size = None if factor else out
    if factor and min(height, width) * factor < 1:
        factor = 2.0
    _assert_resizes_alike(torch, values, seed, lambda lib, x: lib.nn.Upsample(
        size=size, scale_factor=factor, mode="bicubic", align_corners=align_corners)(x))


@pytest.mark.torch
@settings(max_examples=15)
@given(spatial=st.lists(st.integers(1, 6), min_size=1, max_size=3), out=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_area_interpolation_is_adaptive_average_pooling_as_in_pytorch(torch, spatial, out, seed):
    values = np.random.default_rng(seed).normal(size=(2, 2, *spatial))
    _assert_resizes_alike(torch, values, seed,
                          lambda lib, x: lib.nn.functional.interpolate(x, size=out, mode="area"))


def _attention_results(lib, layer, arrays, masks, weights):
    inputs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out, attention = layer(*inputs, **{name: lib.tensor(mask) for name, mask in masks.items()})
    upstream = [lib.tensor(np.resize(weights, tuple(t.shape)), dtype=lib.float64) for t in (out, attention)]
    ((out * upstream[0]).sum() + (attention * upstream[1]).sum()).backward()
    return [out.detach().numpy(), attention.detach().numpy()] + [t.grad.numpy() for t in inputs] + \
        [p.grad.numpy() for p in layer.parameters()]


@pytest.mark.torch
@settings(max_examples=15)
@given(batch=st.integers(1, 2), length=st.integers(1, 3), keys=st.integers(1, 4), heads=st.sampled_from([1, 2]),
       bias_kv=st.booleans(), zero_attn=st.booleans(), kdim=st.sampled_from([None, 3]),
       masked=st.booleans(), per_head=st.booleans(), seed=st.integers(0, 2**16))
def test_multihead_attention_appends_a_learned_and_a_zero_key_as_pytorch(torch, batch, length, keys, heads, bias_kv,
                                                                        zero_attn, kdim, masked, per_head, seed):
    rng = np.random.default_rng(seed)
    embed = 2 * heads
    width = kdim or embed
    arrays = [rng.normal(size=(length, batch, embed)), rng.normal(size=(keys, batch, width)),
              rng.normal(size=(keys, batch, width))]
    masks = {}
    if masked:  # the first key stays visible, so no query row is all masked
        padding = rng.random((batch, keys)) < 0.4
        padding[:, 0] = False
        masks = {"key_padding_mask": np.where(padding, -np.inf, 0.0), "attn_mask": rng.normal(size=(length, keys))}
    theirs = torch.nn.MultiheadAttention(embed, heads, add_bias_kv=bias_kv, add_zero_attn=zero_attn, kdim=kdim,
                                         vdim=kdim, dtype=torch.float64)
    mine = gg.nn.MultiheadAttention(embed, heads, add_bias_kv=bias_kv, add_zero_attn=zero_attn, kdim=kdim, vdim=kdim,
                                    dtype=gg.float64)
    _copy_state(theirs, mine)
    weights = rng.normal(size=256)
    found = _attention_results(gg, mine, arrays, masks, weights)
    expected = _attention_results(torch, theirs, arrays, masks, weights)
    assert len(found) == len(expected)
    for ours, reference in zip(found, expected):
        np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-12)


def _lstm_results(lib, layer, values, first, lengths, weights):
    x = lib.tensor(values, requires_grad=True)
    state = tuple(lib.tensor(part, requires_grad=True) for part in first)
    if lengths is None:
        output, (h_n, c_n) = layer(x, state)
    else:
        packed = lib.nn.utils.rnn.pack_padded_sequence(x, lib.tensor(lengths), batch_first=layer.batch_first,
                                                       enforce_sorted=False)
        output, (h_n, c_n) = layer(packed, state)
        output = lib.nn.utils.rnn.pad_packed_sequence(output, batch_first=layer.batch_first)[0]
    total = sum((t * lib.tensor(np.resize(weights, tuple(t.shape)))).sum() for t in (output, h_n, c_n))
    total.backward()
    return [t.detach().numpy() for t in (output, h_n, c_n)] + [t.grad.numpy() for t in (x, *state)] + \
        [p.grad.numpy() for p in layer.parameters()]


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(steps=st.integers(1, 4), batch=st.integers(1, 3), hidden=st.integers(2, 4), layers=st.integers(1, 2),
       bidirectional=st.booleans(), batch_first=st.booleans(), bias=st.booleans(), packed=st.booleans(),
       data=st.data())
def test_lstm_with_a_projection_matches_pytorch(torch, steps, batch, hidden, layers, bidirectional, batch_first, bias,
                                                packed, data):
    projection = data.draw(st.integers(1, hidden - 1), label="proj_size")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    directions = 2 if bidirectional else 1
    values = rng.normal(size=(batch, steps, 3) if batch_first else (steps, batch, 3))
    first = (rng.normal(size=(layers * directions, batch, projection)),
             rng.normal(size=(layers * directions, batch, hidden)))
    lengths = rng.integers(1, steps + 1, size=batch) if packed else None
    arguments = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias,
                     proj_size=projection)
    theirs = torch.nn.LSTM(3, hidden, dtype=torch.float64, **arguments)
    mine = gg.nn.LSTM(3, hidden, dtype=gg.float64, **arguments)
    assert [name for name, _ in mine.named_parameters()] == [name for name, _ in theirs.named_parameters()]
    _copy_state(theirs, mine)
    weights = rng.normal(size=256)
    found = _lstm_results(gg, mine, values, first, lengths, weights)
    expected = _lstm_results(torch, theirs, values, first, lengths, weights)
    assert len(found) == len(expected)
    for ours, reference in zip(found, expected):
        np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("layer", ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"])
def test_instance_norm_of_one_position_is_refused_when_training_as_in_pytorch(torch, layer):
    shape = {"InstanceNorm1d": (2, 3, 1), "InstanceNorm2d": (2, 3, 1, 1), "InstanceNorm3d": (2, 3, 1, 1, 1)}[layer]
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        getattr(torch.nn, layer)(3)(torch.zeros(shape))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training") as caught:
        getattr(gg.nn, layer)(3)(gg.zeros(shape))
    assert "\n" not in str(caught.value)
    theirs = getattr(torch.nn, layer)(3, track_running_stats=True).eval()  # running statistics: no refusal
    mine = getattr(gg.nn, layer)(3, track_running_stats=True).eval()
    np.testing.assert_allclose(mine(gg.ones(shape)).numpy(), theirs(torch.ones(shape)).numpy(), rtol=1e-6)


@pytest.mark.torch
@settings(max_examples=15)
@given(bags=st.lists(st.lists(st.integers(0, 4), max_size=4), min_size=1, max_size=4),
       mode=st.sampled_from(["sum", "mean"]), seed=st.integers(0, 2**16))
def test_embedding_bag_scales_each_row_gradient_by_its_own_frequency(torch, bags, mode, seed):
    """``scale_grad_by_freq`` divides row r's gradient by how often r occurs in the input: the unscaled gradient
    (PyTorch's, a true derivative) over the counts. PyTorch 2.13's own scaled gradient is off on CPU when counts
    differ (pytorch/pytorch#190063: it divides by another index's count), so it is not the oracle here."""
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(5, 3))
    indices = np.array([i for bag in bags for i in bag], dtype=np.int64)
    offsets = np.cumsum([0] + [len(bag) for bag in bags[:-1]])
    upstream = rng.normal(size=(len(bags), 3))
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), freeze=False, mode=mode)
    (theirs(torch.tensor(indices), torch.tensor(offsets)) * torch.tensor(upstream)).sum().backward()
    counts = np.maximum(np.bincount(indices, minlength=5), 1)
    mine = gg.nn.EmbeddingBag.from_pretrained(gg.tensor(table), freeze=False, mode=mode, scale_grad_by_freq=True)
    (mine(gg.tensor(indices), gg.tensor(offsets)) * gg.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(mine.weight.grad.numpy(), theirs.weight.grad.numpy() / counts[:, None],
                               rtol=1e-12, atol=1e-14)


@pytest.mark.torch
@settings(max_examples=15)
@given(height=st.integers(1, 8), width=st.integers(1, 8), out=st.tuples(st.integers(1, 9), st.integers(1, 9)),
       mode=st.sampled_from(["bilinear", "bicubic"]), align_corners=st.sampled_from([None, False, True]),
       seed=st.integers(0, 2**16))
def test_antialiased_resizing_matches_pytorch(torch, height, width, out, mode, align_corners, seed):
    """PyTorch 2.13's antialiased kernel is wrong when the output is 1 wide (a (3, 1) image resized to (5, 1)
    comes out 0); a width of 1 kept as 1 leaves each column alone, so there PyTorch's result for the same
    column repeated twice, resized to width 2, is the oracle."""
    values = np.random.default_rng(seed).normal(size=(2, 2, height, width))
    if out[1] > 1:
        _assert_resizes_alike(torch, values, seed, lambda lib, x: lib.nn.functional.interpolate(
            x, size=out, mode=mode, align_corners=align_corners, antialias=True))
        return
    column = values[..., :1]
    mine = gg.nn.functional.interpolate(gg.tensor(column), size=out, mode=mode, align_corners=align_corners,
                                        antialias=True)
    theirs = torch.nn.functional.interpolate(torch.tensor(column).expand(2, 2, height, 2), size=(out[0], 2),
                                             mode=mode, align_corners=align_corners, antialias=True)
    np.testing.assert_allclose(mine.numpy(), theirs[..., :1].numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("mode", ["nearest", "area"])
def test_antialias_where_it_is_not_built_is_a_one_line_error(mode):
    with pytest.raises(ValueError, match="antialias=True is available for mode 'bilinear' or 'bicubic'") as caught:
        gg.nn.functional.interpolate(gg.ones(1, 1, 4, 4), size=2, mode=mode, antialias=True)
    assert "\n" not in str(caught.value)


LAYERS_WITH_PARAMETERS = {
    "Linear": (3, 4), "Bilinear": (3, 4, 5), "Conv1d": (2, 3, 3), "Conv2d": (2, 3, 3), "Conv3d": (2, 3, 3),
    "ConvTranspose1d": (2, 3, 3), "ConvTranspose2d": (2, 3, 3), "ConvTranspose3d": (2, 3, 3), "BatchNorm1d": (3,),
    "BatchNorm2d": (3,), "BatchNorm3d": (3,), "InstanceNorm1d": (3,), "InstanceNorm2d": (3,), "InstanceNorm3d": (3,),
    "GroupNorm": (1, 3), "LayerNorm": (3,), "RMSNorm": (3,), "RNN": (3, 4), "LSTM": (3, 4), "GRU": (3, 4),
    "RNNCell": (3, 4), "LSTMCell": (3, 4), "GRUCell": (3, 4), "Embedding": (5, 3), "EmbeddingBag": (5, 3),
    "MultiheadAttention": (4, 2), "TransformerEncoderLayer": (4, 2), "TransformerDecoderLayer": (4, 2),
    "Transformer": (4, 2, 1, 1, 8), "PReLU": (), "AdaptiveLogSoftmaxWithLoss": (4, 10, [5]), "LazyLinear": (3,),
    "LazyConv2d": (3, 2), "LazyConvTranspose2d": (3, 2), "LazyBatchNorm1d": (),
}


@pytest.mark.parametrize("name", sorted(LAYERS_WITH_PARAMETERS))
def test_layers_take_pytorchs_device_argument(name):
    """``nn.Linear(3, 4, device=device)`` with ``device = 'cuda' if … else 'cpu'``: the CPU (as a name or a
    ``gg.device``) builds the same layer; another device is refused in one line, as for tensors."""
    build = getattr(gg.nn, name)
    arguments = LAYERS_WITH_PARAMETERS[name]
    for device in ("cpu", gg.device("cpu"), None):
        gg.manual_seed(0)
        layer = build(*arguments, device=device, dtype=gg.float64)
        gg.manual_seed(0)
        plain = build(*arguments, dtype=gg.float64)
        assert list(layer.state_dict()) == list(plain.state_dict())
        if not name.startswith("Lazy"):  # a lazy layer's parameters have no numbers before its first input
            for value, plain_value in zip(layer.state_dict().values(), plain.state_dict().values()):
                np.testing.assert_array_equal(value.numpy(), plain_value.numpy())
    with pytest.raises(RuntimeError, match="device 'cuda' is not available: glassgrad runs on the CPU") as caught:
        build(*arguments, device="cuda")
    assert "\n" not in str(caught.value)


@settings(max_examples=10, deadline=None)
@given(batch=st.integers(1, 3), groups=st.integers(1, 3), per_group=st.integers(1, 2), length=st.integers(2, 4),
       seed=st.integers(0, 2**16))
def test_group_norm_with_a_bias_and_no_weight_has_finite_difference_gradients(batch, groups, per_group, length, seed):
    """``F.group_norm(x, groups, bias=β)`` (no γ): PyTorch 2.13's backward fails there ("tensor does not have a
    device"), so the oracle is finite differences."""
    rng = np.random.default_rng(seed)
    channels = groups * per_group
    x = gg.tensor(rng.normal(size=(batch, channels, length)), dtype=gg.float64, requires_grad=True)
    bias = gg.tensor(rng.normal(size=channels), dtype=gg.float64, requires_grad=True)
    assert gg.gradcheck(lambda x, bias: gg.nn.functional.group_norm(x, groups, bias=bias, eps=1e-3), (x, bias))


@pytest.mark.torch
@settings(max_examples=25)
@given(sizes=st.lists(st.integers(1, 5), min_size=1, max_size=3), mode=st.sampled_from(["reflect", "replicate",
       "circular"]), data=st.data())
def test_negative_padding_crops_in_every_mode_as_in_pytorch(torch, sizes, mode, data):
    amounts = []
    for size in reversed(sizes):  # (before, after) pairs from the last dim backwards
        before, after = data.draw(st.tuples(st.integers(-2, 2), st.integers(-2, 2)))
        kept = size - max(-before, 0) - max(-after, 0)  # what is left after cropping
        assume(size + before + after >= 1)
        assume(mode != "reflect" or max(before, after) < size)
        assume(mode != "circular" or 1 <= kept and max(before, after) <= kept)
        amounts += [before, after]
    values = np.random.default_rng(data.draw(st.integers(0, 2**16))).normal(size=(2, *sizes))
    _assert_resizes_alike(torch, values, 0, lambda lib, x: lib.nn.functional.pad(x, tuple(amounts), mode=mode))
