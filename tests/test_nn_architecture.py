"""gg.nn.mlp and the JSON architecture description: structure, counts, rebuild, errors."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import nn


def layer_types(model: nn.Module) -> list[str]:
    return [type(layer).__name__ for layer in model]


def test_mlp_4_3_4_is_the_lesson_network_with_31_parameters():
    model = nn.mlp([4, 3, 4])
    assert layer_types(model) == ["Linear", "ReLU", "Linear"]
    assert model.num_parameters() == 31
    assert repr(model).splitlines()[-1] == "Total parameters: 31"


@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5), batch=st.integers(1, 4))
def test_mlp_shapes_and_parameter_count(sizes, batch):
    model = nn.mlp(sizes, seed=0)
    expected = sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))
    assert model.num_parameters() == expected
    assert model(gg.randn(batch, sizes[0], seed=1)).shape == (batch, sizes[-1])
    assert sum(isinstance(layer, nn.Linear) for layer in model) == len(sizes) - 1


def test_mlp_options_build_the_documented_layers():
    model = nn.mlp([5, 8, 8, 3], activation="tanh", batch_norm=True, dropout=0.25, residual=True,
                   final_activation="softmax", seed=0)
    assert layer_types(model) == ["Linear", "BatchNorm1d", "Tanh", "Dropout", "Residual", "Dropout", "Linear",
                                  "Softmax"]
    assert layer_types(model[4].block) == ["Linear", "BatchNorm1d", "Tanh"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the final softmax is along the features: no implicit-dim warning
        out = model.eval()(gg.randn(4, 5, seed=1))
    np.testing.assert_allclose(out.array.sum(axis=1), np.ones(4), rtol=1e-6)
    softmin = nn.mlp([2, 3], final_activation="softmin", seed=0)(gg.randn(4, 2, seed=1))  # was refused: no dim
    np.testing.assert_allclose(softmin.array.sum(axis=1), np.ones(4), rtol=1e-6)


def test_mlp_residual_wraps_every_hidden_layer_as_wide_as_its_input():
    assert layer_types(nn.mlp([3, 3, 5, 5, 2], residual=True)) == ["Residual", "Linear", "ReLU", "Residual", "Linear"]


def test_mlp_seed_repeats_weights_and_dropout_masks():
    first, second = nn.mlp([3, 6, 2], dropout=0.5, seed=4), nn.mlp([3, 6, 2], dropout=0.5, seed=4)
    x = gg.randn(10, 3, seed=0)
    np.testing.assert_array_equal(first(x).array, second(x).array)
    assert not np.array_equal(nn.mlp([3, 6, 2], seed=5)[0].weight.array, first[0].weight.array)


@pytest.mark.parametrize("kwargs, message", [
    ({"sizes": [4]}, "at least 2 layer sizes"),
    ({"sizes": "4,3"}, "at least 2 layer sizes"),
    ({"sizes": [4, 0, 2]}, "every size must be a positive integer"),
    ({"sizes": [4, 3, 2], "activation": "swish"}, "unknown activation 'swish'"),
    ({"sizes": [4, 3, 2], "final_activation": "max"}, "unknown final_activation 'max'"),
    ({"sizes": [4, 3, 2], "residual": True}, "residual=True needs a hidden layer as wide as its input"),
    ({"sizes": [4, 2], "dropout": 1.5}, "between 0 and 1"),
])
def test_mlp_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.mlp(**kwargs)


def test_architecture_is_json_and_rebuilds_the_same_model():
    model = nn.mlp([5, 8, 8, 3], batch_norm=True, dropout=0.1, residual=True, activation="leaky_relu", seed=0)
    model.append(nn.LayerNorm(3)).append(nn.Flatten()).append(nn.Identity())
    model(gg.randn(6, 5, seed=1))  # move the running statistics away from their start
    description = json.loads(json.dumps(nn.architecture(model)))
    rebuilt = nn.from_architecture(description)
    assert repr(rebuilt) == repr(model)
    assert list(rebuilt.state_dict()) == list(model.state_dict())
    rebuilt.load_state_dict(model.state_dict())
    x = gg.randn(4, 5, seed=2)
    np.testing.assert_array_equal(rebuilt.eval()(x).array, model.eval()(x).array)


def test_architecture_keeps_float64():
    model = nn.mlp([2, 3, 1], seed=0).double()
    description = nn.architecture(model)
    assert description["dtype"] == "float64"
    assert all(p.dtype == np.float64 for p in nn.from_architecture(description).parameters())


def test_architecture_of_a_single_layer():
    rebuilt = nn.from_architecture(nn.architecture(nn.Linear(3, 2, bias=False)))
    assert isinstance(rebuilt, nn.Linear) and rebuilt.bias is None and rebuilt.weight.shape == (2, 3)


def test_architecture_refuses_custom_modules():
    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ValueError, match=r"cannot describe the model\[1\] of type Custom.*state_dict"):
        nn.architecture(nn.Sequential(nn.Linear(2, 2), Custom()))


@pytest.mark.parametrize("description, message", [
    ({"model": {"type": "Conv4d", "in_channels": 3}}, "unknown layer type 'Conv4d' at model"),
    ({"model": {"type": "Conv2d", "in_channels": 3}}, "cannot build Conv2d at model"),
    ({"model": {"type": "Sequential", "layers": [{"type": "Linear", "in_features": 2}]}},
     r"cannot build Linear at model.layers\[0\]"),
    ({"model": {"type": "Linear", "in_features": 2, "out_features": 3, "colour": "red"}}, "colour"),
    ({"model": {"type": "Sequential", "layers": [{"kind": "ReLU"}]}}, "must be a dict with a 'type' key"),
    ({"model": {"type": "Residual"}}, "needs exactly a 'block' entry"),
    ({"layers": []}, "with a 'model' entry"),
    ({"glassgrad_architecture": 99, "model": {"type": "ReLU"}}, "format version 99"),
    ({"dtype": "complex", "model": {"type": "ReLU"}}, "unknown dtype 'complex'"),
])
def test_from_architecture_errors_name_the_place(description, message):
    with pytest.raises(ValueError, match=message):
        nn.from_architecture(description)


# --- the architecture is checked against the weights before anything is built ----------------

layer_specs = st.lists(st.one_of(
    st.tuples(st.just("linear"), st.integers(1, 5), st.booleans()),
    st.tuples(st.just("batch_norm"), st.booleans(), st.booleans()),
    st.tuples(st.just("layer_norm"), st.booleans(), st.booleans()),
    st.tuples(st.just("relu"), st.just(None), st.just(None)),
    st.tuples(st.just("residual"), st.just(None), st.just(None)),
), min_size=1, max_size=6)


def build(specs, width: int) -> nn.Module:
    """A model of random layers, each fitting its input width."""
    layers = []
    for kind, first, second in specs:
        if kind == "linear":
            layers.append(nn.Linear(width, first, bias=second))
            width = first
        elif kind == "batch_norm":
            layers.append(nn.BatchNorm1d(width, affine=first, track_running_stats=second))
        elif kind == "layer_norm":
            layers.append(nn.LayerNorm(width, elementwise_affine=first, bias=second))
        elif kind == "relu":
            layers.append(nn.ReLU())
        else:
            layers.append(nn.Residual(nn.Sequential(nn.Linear(width, width), nn.Tanh())))
    return nn.Sequential(*layers)


@given(specs=layer_specs, width=st.integers(1, 4))
def test_from_architecture_with_weights_rebuilds_any_model_exactly(specs, width):
    model = build(specs, width)
    for parameter in model.parameters():
        parameter.array[...] = np.arange(parameter.array.size).reshape(parameter.shape)
    rebuilt = nn.from_architecture(nn.architecture(model), model.state_dict())
    assert list(rebuilt.state_dict()) == list(model.state_dict())
    for (name, mine), theirs in zip(rebuilt.state_dict().items(), model.state_dict().values()):
        np.testing.assert_array_equal(mine.array, theirs.array, err_msg=name)


@given(specs=layer_specs, width=st.integers(1, 4), data=st.data())
def test_any_entry_of_the_wrong_shape_missing_or_extra_is_named(specs, width, data):
    model = build(specs, width)
    state = dict(model.state_dict())
    if not state:
        return
    name = data.draw(st.sampled_from(sorted(state)))
    change = data.draw(st.sampled_from(["shape", "missing", "extra"]))
    if change == "shape":
        state[name] = gg.zeros(*(size + 1 for size in state[name].shape), 2)
        expected = f"size mismatch for {name!r}"
    elif change == "missing":
        del state[name]
        expected = f"missing {name!r}"
    else:
        state["extra." + name] = state[name]
        expected = "unexpected 'extra."
    with pytest.raises(ValueError, match="weights do not fit its architecture") as caught:
        nn.from_architecture(nn.architecture(model), state)
    assert expected in str(caught.value)


def test_every_kind_of_layer_rebuilds_from_its_architecture_with_its_weights():
    """A model with each layer type the architecture knows (parameters, buffers, settings) comes back whole from
    ``architecture`` + ``state_dict`` and computes the same numbers (the PReLU's weight included)."""
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.GroupNorm(2, 4), nn.PReLU(4), nn.ReflectionPad2d(1),
        nn.InstanceNorm2d(4, affine=True, track_running_stats=True), nn.Mish(), nn.ConvTranspose2d(4, 2, 2, stride=2),
        nn.Upsample(scale_factor=0.5, mode="bilinear"), nn.ZeroPad2d((0, 1, 1, 0)), nn.Flatten(),
        nn.Unflatten(1, (2, 81)), nn.RMSNorm(81), nn.Hardtanh(-2.0, 2.0), nn.Flatten(), nn.Linear(162, 3),
    )
    model.train()
    x = gg.tensor(np.random.default_rng(0).normal(size=(2, 1, 6, 6)).astype(np.float32))
    model(x)  # moves the running statistics
    model.eval()
    description = nn.architecture(model)
    assert json.loads(json.dumps(description)) == description
    rebuilt = nn.from_architecture(description, model.state_dict()).eval()
    assert list(rebuilt.state_dict()) == list(model.state_dict())
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())
