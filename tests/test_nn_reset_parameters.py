"""``reset_parameters()`` on the layers that have it in PyTorch, so the k-fold "reset every layer" loop
(``if hasattr(layer, "reset_parameters"): layer.reset_parameters()``) resets every layer, not only some."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

LAYERS = {
    "Linear": lambda nn: nn.Linear(3, 2), "Bilinear": lambda nn: nn.Bilinear(3, 2, 2),
    "Conv2d": lambda nn: nn.Conv2d(2, 2, 2), "ConvTranspose2d": lambda nn: nn.ConvTranspose2d(2, 2, 2),
    "Embedding": lambda nn: nn.Embedding(3, 2), "LSTM": lambda nn: nn.LSTM(2, 2),
    "GRUCell": lambda nn: nn.GRUCell(2, 2),
    "BatchNorm1d": lambda nn: nn.BatchNorm1d(3), "BatchNorm2d": lambda nn: nn.BatchNorm2d(3),
    "InstanceNorm1d": lambda nn: nn.InstanceNorm1d(3, affine=True, track_running_stats=True),
    "LayerNorm": lambda nn: nn.LayerNorm(3), "GroupNorm": lambda nn: nn.GroupNorm(1, 3),
    "RMSNorm": lambda nn: nn.RMSNorm(3),
    "PReLU": lambda nn: nn.PReLU(3, init=0.1), "ReLU": lambda nn: nn.ReLU(), "Dropout": lambda nn: nn.Dropout(),
}
FIXED_START = ["BatchNorm1d", "BatchNorm2d", "InstanceNorm1d", "LayerNorm", "GroupNorm", "RMSNorm", "PReLU"]
"""Layers whose starting values are fixed numbers (ones, zeros, the slope), the same in PyTorch."""


@pytest.mark.torch
@pytest.mark.parametrize("name", LAYERS)
def test_the_same_layers_have_reset_methods_as_in_pytorch(torch, name):
    ours, theirs = LAYERS[name](gg.nn), LAYERS[name](torch.nn)
    for method in ("reset_parameters", "reset_running_stats"):
        assert hasattr(ours, method) == hasattr(theirs, method), method


INPUT_SHAPES = {"BatchNorm2d": (3, 3, 2, 1), "LayerNorm": (3, 2, 3), "RMSNorm": (3, 2, 3)}
"""What each layer of FIXED_START is trained on (the others take (N, C, L) = (3, 3, 2))."""


def train_one_step(library, name, layer):
    shape = INPUT_SHAPES.get(name, (3, 3, 2))
    x = library.tensor(np.linspace(-1, 2, 18).reshape(shape), dtype=library.float32)
    layer(x).pow(3).sum().backward()
    with library.no_grad():
        for p in layer.parameters():
            p -= 0.5 * p.grad


@pytest.mark.torch
@pytest.mark.parametrize("name", FIXED_START)
def test_reset_after_training_gives_pytorchs_starting_state(torch, name):
    ours, theirs = LAYERS[name](gg.nn), LAYERS[name](torch.nn)
    train_one_step(gg, name, ours)
    train_one_step(torch, name, theirs)
    fresh = LAYERS[name](torch.nn).state_dict()
    assert any(not np.array_equal(value.numpy(), fresh[key].numpy()) for key, value in ours.state_dict().items())
    ours.reset_parameters()
    theirs.reset_parameters()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy(), err_msg=key)


def test_bilinear_reset_draws_fresh_weights_within_its_bound():
    layer = gg.nn.Bilinear(4, 2, 3, seed=0)
    first = layer.weight.numpy().copy()
    layer.reset_parameters(np.random.default_rng(1))
    assert not np.array_equal(first, layer.weight.numpy())
    assert np.abs(layer.weight.numpy()).max() <= 0.5 and np.abs(layer.bias.numpy()).max() <= 0.5
