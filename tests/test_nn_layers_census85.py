"""A census of torch.nn's layer classes against glassgrad's: for each layer both have, built with the same
arguments, the settings a learner reads back (``pool.kernel_size``, ``up.scale_factor``, ``conv.padding_mode``)
have PyTorch's values and types, the state dict has PyTorch's keys, shapes and dtypes (so a PyTorch checkpoint
loads with ``strict=True``), and with PyTorch's parameters copied in the layer gives PyTorch's outputs and
gradients in float64, batched and unbatched, in train and eval mode. PyTorch comes from the ``torch`` fixture."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

COUNT_COLUMN = re.compile(r"  +# [\d,]+ parameters?.*$")


def pytorch_text(model: Any) -> str:
    """glassgrad's ``repr`` without its documented additions (the parameter-count column, the total line)."""
    lines = [COUNT_COLUMN.sub("", line) for line in repr(model).split("\n")]
    return "\n".join(line for line in lines if not line.startswith("Total parameters: "))


def settings_of(layer: Any, torch: Any) -> dict[str, Any]:
    """A layer's public plain settings (no tensors, submodules, dtypes or the training flag), as its __dict__ has
    them; PyTorch's internal ``activation_relu_or_gelu`` and ``Upsample.name`` are left out."""
    skipped = (torch.Tensor, torch.nn.Module, gg.Tensor, gg.nn.Module, torch.dtype)
    return {key: value for key, value in vars(layer).items()
            if not key.startswith("_") and key not in ("training", "name", "activation_relu_or_gelu")
            and not isinstance(value, skipped) and not callable(value)}


def assert_same_settings(built_torch: Any, built_gg: Any, torch: Any) -> None:
    expected = settings_of(built_torch, torch)
    for key, value in expected.items():
        got = getattr(built_gg, key)
        assert (got, type(got)) == (value, type(value)), f"{type(built_gg).__name__}.{key}: {got!r}, PyTorch {value!r}"


# --- the defects: settings read back in glassgrad's own form, or missing -------------------------------------

POOLS = [
    ("MaxPool2d", (2,), {}), ("MaxPool2d", ((3, 2),), {"stride": 1, "padding": 1}), ("MaxPool1d", (3,), {}),
    ("MaxPool1d", (2,), {"stride": (1,), "dilation": 2}), ("MaxPool3d", (2,), {"stride": 2}),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1}), ("AvgPool1d", (3,), {}), ("AvgPool1d", (2,), {"stride": 1}),
    ("AvgPool3d", ((1, 2, 2),), {}), ("LPPool2d", (2, 3), {}), ("LPPool1d", (3.0, 2), {"stride": 1}),
    ("LPPool3d", (1, 2), {}), ("MaxUnpool2d", (2,), {}), ("MaxUnpool1d", (3,), {"stride": 2}),
    ("MaxUnpool3d", ((2, 1, 2),), {"padding": 0}), ("AdaptiveAvgPool2d", ((2, None),), {}),
    ("AdaptiveMaxPool3d", ((1, 2, 3),), {}), ("FractionalMaxPool2d", (2,), {"output_ratio": 0.5}),
    ("FractionalMaxPool3d", (2,), {"output_ratio": (0.5, 0.6, 0.7)}),
]


@pytest.mark.parametrize("name, args, kwargs", POOLS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(POOLS)])
def test_a_pool_keeps_its_settings_as_pytorch_does(torch, name, args, kwargs):
    """6fe28c5: MaxPool2d(2).kernel_size was (2, 2), MaxPool1d(3).kernel_size (1, 3) (a pair in a 1-d pool),
    LPPool2d(2, 3).stride (3, 3) where PyTorch keeps None, AdaptiveAvgPool2d((2, None)).output_size a list."""
    assert_same_settings(getattr(torch.nn, name)(*args, **kwargs), getattr(gg.nn, name)(*args, **kwargs), torch)


MISSING = [
    ("PixelShuffle", (3,), {}), ("PixelUnshuffle", (2,), {}), ("ChannelShuffle", (2,), {}), ("ReLU6", (), {}),
    ("Conv2d", (2, 4, 3), {}), ("Conv1d", (2, 4, 3), {"padding": "same"}), ("ConvTranspose2d", (2, 4, 3), {}),
    ("ConvTranspose3d", (2, 2, 1), {"output_padding": 0}), ("Embedding", (5, 3), {}),
    ("EmbeddingBag", (5, 3), {"mode": "sum"}), ("Softplus", (), {"beta": 1}), ("Unflatten", (1, [2, 3]), {}),
    ("Upsample", (), {"scale_factor": 2}), ("Upsample", (), {"size": (3, 4), "mode": "bilinear"}),
    ("Upsample", (), {"scale_factor": (2, 3), "mode": "nearest"}), ("UpsamplingNearest2d", (), {"scale_factor": 3}),
    ("UpsamplingBilinear2d", (), {"size": (4, 5)}), ("HuberLoss", (), {"delta": 2}), ("SmoothL1Loss", (), {"beta": 2}),
]


@pytest.mark.parametrize("name, args, kwargs", MISSING, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(MISSING)])
def test_a_layer_has_the_settings_pytorch_gives_it(torch, name, args, kwargs):
    """6fe28c5: PixelShuffle(3).upscale_factor, ChannelShuffle.groups, Conv2d.transposed/output_padding,
    ConvTranspose2d.padding_mode, Embedding.sparse and ReLU6.min_val were missing (AttributeError);
    Upsample(scale_factor=2).scale_factor was the int 2 (PyTorch: 2.0), Upsample(size=(3, 4)).size a list,
    Unflatten(1, [2, 3]).unflattened_size a tuple, Softplus(beta=1).beta 1.0, HuberLoss(delta=2).delta 2.0."""
    assert_same_settings(getattr(torch.nn, name)(*args, **kwargs), getattr(gg.nn, name)(*args, **kwargs), torch)


def test_relu6_is_a_hardtanh_from_0_to_6(torch):
    """6fe28c5: gg.nn.ReLU6 was no Hardtanh and had no min_val/max_val; PyTorch's is Hardtanh(0.0, 6.0)."""
    layer = gg.nn.ReLU6(inplace=True)
    assert isinstance(layer, gg.nn.Hardtanh) and isinstance(torch.nn.ReLU6(), torch.nn.Hardtanh)
    assert (layer.min_val, layer.max_val, layer.inplace) == (0.0, 6.0, True)
    assert repr(gg.nn.ReLU6()) == repr(torch.nn.ReLU6()) == "ReLU6()"
    assert pytorch_text(layer) == repr(torch.nn.ReLU6(inplace=True))
    x = gg.tensor([-1.0, 3.0, 7.0])
    assert gg.nn.ReLU6()(x).tolist() == [0.0, 3.0, 6.0]


def test_a_pool_setting_changed_after_building_is_the_one_used(torch):
    """PyTorch reads ``self.kernel_size`` at each call: a pool whose settings are set after it is built pools
    with them (the attributes are the settings, not a copy beside them)."""
    x = np.random.default_rng(0).standard_normal((2, 3, 9))
    layers = []
    for nn in (torch.nn, gg.nn):
        pool = nn.MaxPool1d(2)
        pool.kernel_size, pool.stride = 3, 3
        layers.append(pool)
    expected = layers[0](torch.tensor(x)).numpy()
    np.testing.assert_array_equal(layers[1](gg.tensor(x)).numpy(), expected)
    assert expected.shape == (2, 3, 3)


@pytest.mark.parametrize("padding", [2.5, None, (1, 2.5), "3"])
def test_a_padding_layer_refuses_amounts_that_are_not_ints(padding):
    """6fe28c5: ZeroPad1d((1, 2.5)) padded by (1, 2) without a word (int() truncated 2.5), ZeroPad1d(2.5) raised
    the raw "'float' object is not iterable"; PyTorch's F.pad refuses them with a TypeError ("must be tuple of
    ints"), and so does each padding layer now, in one line naming it."""
    for layer in (gg.nn.ZeroPad1d, gg.nn.ReflectionPad1d, gg.nn.ConstantPad1d):
        with pytest.raises(TypeError, match=rf"{layer.__name__}: padding must be an int or 2 ints, got"):
            layer(padding) if layer is not gg.nn.ConstantPad1d else layer(padding, 0.0)


def test_a_padding_layer_takes_numpy_ints_and_lists(torch):
    """6fe28c5: ZeroPad2d(np.int64(2)) (a size computed with NumPy) raised the raw "'numpy.int64' object is not
    iterable"."""
    assert gg.nn.ZeroPad2d(np.int64(2)).padding == torch.nn.ZeroPad2d(2).padding == (2, 2, 2, 2)
    assert gg.nn.ZeroPad2d([1, 0, 2, 1]).padding == torch.nn.ZeroPad2d([1, 0, 2, 1]).padding == (1, 0, 2, 1)
    with pytest.raises(ValueError, match="ZeroPad2d: padding must be an int or 4 ints, got \\(1, 2\\)"):
        gg.nn.ZeroPad2d((1, 2))


def test_the_architecture_of_pools_still_saves_their_sizes_as_lists():
    """config() (the saved architecture) keeps its form: the tuples a pool reads, as lists; a 1-d pool's one
    number."""
    assert gg.nn.MaxPool2d(2).config()["kernel_size"] == [2, 2]
    assert gg.nn.MaxPool1d(3, 2).config() == {"kernel_size": 3, "stride": 2, "padding": 0, "dilation": 1,
                                              "return_indices": False, "ceil_mode": False}
    assert gg.nn.AvgPool1d(3).config()["stride"] == 3
    assert gg.nn.MaxUnpool1d(2).config() == {"kernel_size": 2, "stride": 2, "padding": 0}
    assert gg.nn.LPPool2d(2, 3).config()["stride"] == [3, 3]
    assert gg.nn.Upsample(size=(3, 4)).config()["size"] == [3, 4]
    from glassgrad.nn.architecture import architecture, from_architecture

    model = gg.nn.Sequential(gg.nn.Conv2d(1, 2, 3), gg.nn.MaxPool2d(2), gg.nn.LPPool2d(2, 2, stride=1),
                             gg.nn.AvgPool2d(2, 1), gg.nn.Upsample(scale_factor=2), gg.nn.Flatten(),
                             gg.nn.Unflatten(1, [2, 4, 4]), gg.nn.MaxPool3d((1, 2, 2)), gg.nn.Flatten(),
                             gg.nn.Unflatten(1, [8]), gg.nn.MaxPool1d(2), gg.nn.AvgPool1d(2))
    again = from_architecture(architecture(model), model.state_dict())
    x = gg.randn(2, 1, 10, 10)
    assert again(x).tolist() == model(x).tolist()


# --- pinning: state dicts, outputs and gradients of the layers learners build first ------------------------

def _pairs(torch, name, args, kwargs):
    built_torch = getattr(torch.nn, name)(*args, **kwargs).double()
    built_gg = getattr(gg.nn, name)(*args, **kwargs).double()
    state = built_torch.state_dict()
    assert [(k, tuple(v.shape), str(v.dtype)) for k, v in state.items()] == \
        [(k, tuple(v.shape), "torch." + str(v.dtype)) for k, v in built_gg.state_dict().items()]
    assert [k for k, _ in built_torch.named_buffers()] == [k for k, _ in built_gg.named_buffers()]
    built_gg.load_state_dict({k: gg.tensor(v.numpy()) for k, v in state.items()}, strict=True)
    return built_torch, built_gg


def _compare(torch, built_torch, built_gg, shape, seed):
    rng = np.random.default_rng(seed)
    x, upstream = rng.standard_normal(shape), None
    tx, gx = torch.tensor(x, requires_grad=True), gg.tensor(x, requires_grad=True)
    out_t, out_g = built_torch(tx), built_gg(gx)
    out_t, out_g = (out_t[0], out_g[0]) if isinstance(out_t, tuple) else (out_t, out_g)
    np.testing.assert_allclose(out_g.detach().numpy(), out_t.detach().numpy(), rtol=1e-12, atol=1e-13)
    upstream = rng.standard_normal(tuple(out_t.shape))
    (out_t * torch.tensor(upstream)).sum().backward()
    (out_g * gg.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-11, atol=1e-12)
    grads = dict(built_gg.named_parameters())
    for key, parameter in built_torch.named_parameters():
        np.testing.assert_allclose(grads[key].grad.numpy(), parameter.grad.numpy(), rtol=1e-11, atol=1e-12)
    for (key, a), (_, b) in zip(built_torch.named_buffers(), built_gg.named_buffers()):
        if a is not None:
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-12, atol=1e-13, err_msg=key)
    built_torch.zero_grad()
    built_gg.zero_grad()


LAYERS = [
    ("Linear", (4, 3), {}, [(5, 4), (4,)]), ("Bilinear", (3, 2, 4), {}, []),
    ("Conv2d", (2, 4, 3), {"padding": 1, "padding_mode": "reflect"}, [(2, 2, 6, 5), (2, 6, 5)]),
    ("Conv1d", (4, 2, 2), {"groups": 2, "dilation": 2, "bias": False}, [(2, 4, 7), (4, 7)]),
    ("ConvTranspose2d", (2, 3, 3), {"stride": 2, "output_padding": 1}, [(2, 2, 4, 3), (2, 4, 3)]),
    ("BatchNorm2d", (3,), {"momentum": None}, [(4, 3, 2, 2)]), ("BatchNorm1d", (3,), {}, [(4, 3), (4, 3, 5)]),
    ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True}, [(2, 3, 5), (3, 5)]),
    ("GroupNorm", (2, 4), {}, [(3, 4, 5)]), ("LayerNorm", ((2, 3),), {"bias": False}, [(4, 2, 3), (2, 3)]),
    ("RMSNorm", (3,), {"eps": 1e-3}, [(4, 3)]), ("MaxPool2d", (2,), {"stride": 1, "padding": 1}, [(2, 3, 5, 4)]),
    ("AvgPool1d", (3,), {"stride": 2, "ceil_mode": True}, [(2, 3, 8), (3, 8)]),
    ("LPPool2d", (2, 2), {"stride": 1}, [(2, 3, 4, 5)]), ("AdaptiveAvgPool2d", ((2, None),), {}, [(2, 3, 5, 4)]),
    ("PReLU", (3,), {"init": 0.1}, [(2, 3, 4)]), ("PixelShuffle", (2,), {}, [(2, 8, 3, 3), (8, 3, 3)]),
    ("Upsample", (), {"scale_factor": 2, "mode": "bilinear"}, [(2, 2, 3, 4)]),
    ("ZeroPad2d", ((1, 0, 2, 1),), {}, [(2, 2, 3, 3), (2, 3, 3)]),
]


@pytest.mark.parametrize("name, args, kwargs, shapes", LAYERS, ids=[row[0] for row in LAYERS])
def test_a_layer_with_pytorch_weights_gives_pytorch_numbers_train_and_eval(torch, name, args, kwargs, shapes):
    built_torch, built_gg = _pairs(torch, name, args, kwargs)
    if name == "Bilinear":
        return  # two inputs: the state dict and the load are what this row pins
    for shape in shapes:
        for training in (True, False):
            built_torch.train(training)
            built_gg.train(training)
            _compare(torch, built_torch, built_gg, shape, seed=len(shape) + training)


def test_print_model_reads_as_pytorch_for_a_small_cnn(torch):
    def build(nn):
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU6(inplace=True),
                             nn.MaxPool2d(2), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Dropout(0.2),
                             nn.Linear(8, 10), nn.Unflatten(1, [2, 5]))
    assert pytorch_text(build(gg.nn)) == repr(build(torch.nn))


# --- the fuzzer's core: drawn settings read back as PyTorch's, and the same state dict ----------------------

def _sizes(n: int) -> st.SearchStrategy[Any]:
    size = st.integers(1, 3)
    return st.one_of(size, st.tuples(*[size] * n))


def _drawn_layer() -> st.SearchStrategy[tuple[str, tuple, dict[str, Any]]]:
    def pool(draw: Any) -> tuple[str, tuple, dict[str, Any]]:
        dims = draw(st.integers(1, 3))
        kind = draw(st.sampled_from(["MaxPool", "AvgPool", "LPPool", "MaxUnpool", "AdaptiveAvgPool",
                                     "AdaptiveMaxPool", "Conv", "ConvTranspose", "ZeroPad"]))
        name = f"{kind}{dims}d"
        kernel = draw(_sizes(dims))
        kwargs: dict[str, Any] = {}
        if kind in ("MaxPool", "AvgPool", "MaxUnpool", "LPPool", "Conv", "ConvTranspose") and draw(st.booleans()):
            kwargs["stride"] = draw(_sizes(dims))
        if kind == "MaxPool" and draw(st.booleans()):
            kwargs["dilation"] = draw(_sizes(dims))
        if kind in ("MaxPool", "AvgPool", "LPPool") and draw(st.booleans()):
            kwargs["ceil_mode"] = True
        if kind in ("Conv", "ConvTranspose"):
            if draw(st.booleans()):
                kwargs["bias"] = False
            return name, (2, draw(st.integers(1, 3)), kernel), kwargs
        if kind == "LPPool":
            return name, (draw(st.sampled_from([1, 2, 3.0])), kernel), kwargs
        if kind.startswith("Adaptive"):
            return name, (draw(st.one_of(st.integers(1, 3), st.tuples(*[st.none() | st.integers(1, 3)] * dims))),), {}
        if kind == "ZeroPad":
            return name, (draw(st.one_of(st.integers(0, 2), st.tuples(*[st.integers(0, 2)] * (2 * dims)))),), {}
        if kind in ("MaxPool", "AvgPool", "MaxUnpool"):
            kernel = draw(st.one_of(st.integers(2, 3), st.tuples(*[st.integers(2, 3)] * dims)))
        return name, (kernel,), kwargs
    return st.composite(lambda draw: pool(draw))()


@settings(max_examples=60)
@given(drawn=_drawn_layer())
def test_drawn_layers_read_back_and_save_as_pytorch(torch, drawn):
    name, args, kwargs = drawn
    built_torch, built_gg = getattr(torch.nn, name)(*args, **kwargs), getattr(gg.nn, name)(*args, **kwargs)
    assert pytorch_text(built_gg) == repr(built_torch)
    assert_same_settings(built_torch, built_gg, torch)
    assert [(k, tuple(v.shape)) for k, v in built_torch.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in built_gg.state_dict().items()]
