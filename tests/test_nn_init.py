"""gg.nn.init: bounds and statistics against the formulas, gains against PyTorch, seeding, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.nn import init

# 240 × 250 = 60,000 draws: the sample variance of U(−b, b) is within 2 % of b²/3 and that of
# N(0, s²) within 3 % of s² with overwhelming probability (more than 5 standard errors).
SHAPE = (240, 250)
FAN_IN, FAN_OUT = 250, 240


def draws(fill, shape=SHAPE, **kwargs) -> np.ndarray:
    tensor = gg.zeros(*shape)
    assert fill(tensor, **kwargs) is tensor
    return tensor.array.astype(np.float64)


def assert_uniform(values: np.ndarray, bound: float) -> None:
    assert np.abs(values).max() <= bound * (1 + 1e-6)
    assert np.abs(values).max() > 0.99 * bound
    assert abs(values.mean()) < 0.02 * bound
    assert values.var() == pytest.approx(bound**2 / 3, rel=0.02)


def assert_normal(values: np.ndarray, std: float, mean: float = 0.0) -> None:
    assert values.mean() == pytest.approx(mean, abs=0.05 * std)
    assert values.std() == pytest.approx(std, rel=0.015)


@pytest.mark.parametrize("nonlinearity, param", [("linear", None), ("sigmoid", None), ("tanh", None),
                                                  ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                                  ("leaky_relu", math.sqrt(5)), ("selu", None),
                                                  ("conv2d", None), ("conv_transpose1d", None),
                                                  ("conv_transpose2d", None), ("conv_transpose3d", None)])
def test_gains_match_pytorch(torch, nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12)


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_uniform_and_normal_follow_glorot(gain):
    assert_uniform(draws(init.xavier_uniform_, gain=gain, seed=0), gain * math.sqrt(6 / (FAN_IN + FAN_OUT)))
    assert_normal(draws(init.xavier_normal_, gain=gain, seed=1), gain * math.sqrt(2 / (FAN_IN + FAN_OUT)))


@pytest.mark.parametrize("mode, fan", [("fan_in", FAN_IN), ("fan_out", FAN_OUT)])
@pytest.mark.parametrize("nonlinearity, a, gain", [("relu", 0, math.sqrt(2)), ("leaky_relu", 0.1,
                                                   math.sqrt(2 / 1.01)), ("tanh", 0, 5 / 3)])
def test_kaiming_uniform_and_normal_follow_he(mode, fan, nonlinearity, a, gain):
    assert_uniform(draws(init.kaiming_uniform_, a=a, mode=mode, nonlinearity=nonlinearity, seed=2),
                   math.sqrt(3) * gain / math.sqrt(fan))
    assert_normal(draws(init.kaiming_normal_, a=a, mode=mode, nonlinearity=nonlinearity, seed=3),
                  gain / math.sqrt(fan))


def test_fans_count_the_receptive_field():
    values = draws(init.kaiming_uniform_, shape=(20, 6, 5, 5), nonlinearity="relu", seed=4)
    bound = math.sqrt(3) * math.sqrt(2) / math.sqrt(6 * 25)
    assert np.abs(values).max() <= bound * (1 + 1e-6) and np.abs(values).max() > 0.98 * bound


def test_simple_fills():
    assert np.all(draws(init.zeros_) == 0) and np.all(draws(init.ones_) == 1)
    assert np.all(draws(init.constant_, val=0.25) == 0.25)
    assert_normal(draws(init.normal_, mean=2.0, std=0.5, seed=5), 0.5, mean=2.0)
    values = draws(init.uniform_, a=-3.0, b=1.0, seed=6)
    assert values.min() >= -3 and values.max() <= 1
    assert values.mean() == pytest.approx(-1.0, abs=0.02) and values.var() == pytest.approx(16 / 12, rel=0.02)


def test_seeding_and_generators_repeat_draws():
    np.testing.assert_array_equal(draws(init.xavier_normal_, seed=1), draws(init.xavier_normal_, seed=1))
    assert not np.array_equal(draws(init.xavier_normal_, seed=1), draws(init.xavier_normal_, seed=2))
    np.testing.assert_array_equal(draws(init.kaiming_normal_, generator=np.random.default_rng(3)),
                                  draws(init.kaiming_normal_, seed=3))
    gg.manual_seed(8)
    first = draws(init.uniform_)
    gg.manual_seed(8)
    np.testing.assert_array_equal(draws(init.uniform_), first)


def test_fills_parameters_in_place_outside_the_graph():
    layer = gg.nn.Linear(3, 2)
    weight = layer.weight
    init.constant_(layer.weight, 0.5)
    assert layer.weight is weight and weight.requires_grad and np.all(weight.array == 0.5)
    assert weight.dtype == np.float32
    init.normal_(layer.bias, seed=0)
    assert layer.bias.dtype == np.float32


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(gg.zeros(5))
    with pytest.raises(ValueError, match="Mode 'fan_middle' not supported"):
        init.kaiming_uniform_(gg.zeros(2, 2), mode="fan_middle")
    with pytest.raises(ValueError, match="Unsupported nonlinearity 'swish'"):
        init.kaiming_normal_(gg.zeros(2, 2), nonlinearity="swish")
    with pytest.raises(NotImplementedError, match="floating tensors"):
        init.normal_(gg.zeros(2, 2, dtype=gg.int64))
    with pytest.raises(RuntimeError, match="a <= b"):
        init.uniform_(gg.zeros(2), 1.0, -1.0)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8", "bool", "float16"])
@pytest.mark.parametrize("name, arguments, shape", [
    ("constant_", (3,), (2, 3)), ("constant_", (2.7,), (2, 3)), ("constant_", (-2.7,), (4,)),
    ("constant_", (-1,), (2,)),
    ("zeros_", (), (2, 3)), ("ones_", (), (3,)), ("eye_", (), (2, 3)), ("eye_", (), (3, 2)),
    ("dirac_", (), (2, 3, 3)), ("dirac_", (2,), (4, 2, 3, 3)),
])
def test_deterministic_fills_fill_integer_and_bool_tensors_as_pytorch(torch, dtype, name, arguments, shape):
    """A constant, the identity and the Dirac delta need no random floats: PyTorch 2.13 writes them into an
    integer or bool tensor (−1 into uint8 is 255, 2.7 into int64 is 2), where these refused 'floating tensors';
    a value the dtype cannot hold (−2.7 into uint8) is refused by both."""
    mine, theirs = gg.full(shape, 5, dtype=getattr(gg, dtype)), torch.full(shape, 5, dtype=getattr(torch, dtype))
    try:
        getattr(torch.nn.init, name)(theirs, *arguments)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="without overflow"):
            getattr(init, name)(mine, *arguments)
        return
    assert getattr(init, name)(mine, *arguments) is mine
    assert mine.numpy().dtype == theirs.numpy().dtype
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@pytest.mark.parametrize("fill", [init.uniform_, init.normal_, init.xavier_uniform_, init.kaiming_normal_,
                                  init.trunc_normal_, init.orthogonal_, lambda t: init.sparse_(t, 0.5)])
def test_random_fills_refuse_integer_tensors(fill):
    tensor = gg.zeros(3, 4, dtype=gg.int64)
    with pytest.raises(NotImplementedError, match="floating tensors"):
        fill(tensor)
    assert (tensor.numpy() == 0).all()


def test_a_constant_out_of_an_integer_dtype_s_range_is_refused_as_by_fill():
    with pytest.raises(RuntimeError, match=r"constant_: 256 cannot be written to a uint8 tensor without overflow"):
        init.constant_(gg.zeros(2, dtype=gg.uint8), 256)
