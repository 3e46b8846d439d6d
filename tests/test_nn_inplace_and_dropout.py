"""``inplace=True`` of activations and dropout, channel dropout (1d/3d), alpha dropout and Softmax2d."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

F = gg.nn.functional
IN_PLACE = [("relu", ()), ("leaky_relu", (0.2,)), ("elu", (0.7,)), ("celu", (1.3,)), ("selu", ()),
            ("hardtanh", (-0.5, 0.8)), ("relu6", ()), ("hardsigmoid", ()), ("hardswish", ()), ("silu", ()),
            ("mish", ()), ("threshold", (0.1, -2.0))]


@pytest.mark.torch
@pytest.mark.parametrize("name, settings", IN_PLACE)
@given(seed=st.integers(0, 2**16), by_position=st.booleans())
def test_in_place_activations_match_pytorch_and_change_their_input(torch, name, settings, seed, by_position):
    x_array = np.random.default_rng(seed).standard_normal((3, 4)) * 3
    results = []
    for lib in (gg, torch):
        x = lib.tensor(x_array, requires_grad=True)
        hidden = x * 1.5  # a node: PyTorch changes it in place, and so must glassgrad
        function = getattr(lib.nn.functional, name)
        out = function(hidden, *settings, True) if by_position else function(hidden, *settings, inplace=True)
        assert out is hidden
        (out * lib.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
        results.append((hidden.detach().numpy(), x.grad.numpy()))
    # PyTorch's CELU and hardsigmoid slopes use float32 constants even in float64 (the README's table)
    rtol = 1e-6 if name in ("celu", "hardsigmoid") else 1e-9
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=1e-15)


@pytest.mark.torch
def test_layers_take_inplace_as_pytorchs_do(torch):
    for name, args in [("ReLU", (True,)), ("LeakyReLU", (0.2, True)), ("ELU", (1.0, True)), ("ReLU6", (True,)),
                       ("Hardtanh", (-1.0, 1.0, True)), ("SELU", (True,)), ("CELU", (1.0, True)), ("SiLU", (True,)),
                       ("Mish", (True,)), ("Hardswish", (True,)), ("Hardsigmoid", (True,)),
                       ("Threshold", (0.0, 0.5, True)), ("Dropout", (0.3, True))]:
        x = gg.tensor([[-1.0, 0.5, 2.0]])
        layer = getattr(gg.nn, name)(*args).eval()
        theirs = getattr(torch.nn, name)(*args).eval()
        expected = theirs(torch.tensor([[-1.0, 0.5, 2.0]])).numpy()
        out = layer(x)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
        if name != "Dropout":  # in eval, dropout is the identity: nothing to write
            np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6)
        assert layer.config().get("inplace") is True
    assert gg.nn.ReLU().config() == {} and "inplace" not in repr(gg.nn.ReLU6())


def test_an_in_place_activation_of_a_leaf_that_requires_grad_is_refused():
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu(gg.ones(2, requires_grad=True), inplace=True)
    x = gg.ones(2)
    assert F.relu(x * -1, inplace=False).tolist() == [0.0, 0.0] and x.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("layer, shape, channels", [
    (gg.nn.Dropout1d, (4, 6, 50), 2), (gg.nn.Dropout1d, (6, 50), 1),
    (gg.nn.Dropout3d, (3, 5, 2, 4, 6), 2), (gg.nn.Dropout3d, (5, 2, 4, 6), 1),
])
def test_channel_dropout_drops_whole_channels(layer, shape, channels):
    dropped = layer(0.5, generator=gg.Generator().manual_seed(3))(gg.ones(*shape))
    per_channel = dropped.numpy().reshape(int(np.prod(shape[:channels])), -1)
    assert all(set(row.tolist()) in ({0.0}, {2.0}) for row in per_channel)
    assert {0.0, 2.0} <= set(per_channel[:, 0].tolist())
    assert layer(0.5).eval()(gg.ones(*shape)).numpy().min() == 1.0


def test_alpha_dropout_keeps_selu_activations_normalised_with_pytorchs_constants():
    rng = np.random.default_rng(0)
    x = gg.tensor(rng.standard_normal(200_000))
    p, alpha = 0.2, 1.7580993408473766
    out = F.alpha_dropout(x, p, training=True, generator=gg.Generator().manual_seed(1)).numpy()
    a = 1 / np.sqrt((alpha ** 2 * p + 1) * (1 - p))
    dropped = np.isclose(out, a * alpha * (p - 1))
    np.testing.assert_allclose(out[~dropped], a * x.numpy()[~dropped] + a * alpha * p, rtol=1e-12)
    assert abs(dropped.mean() - p) < 0.005
    assert abs(out.mean()) < 0.01 and abs(out.var() - 1) < 0.01  # the point of alpha dropout
    assert np.array_equal(F.alpha_dropout(x, p, training=False).numpy(), x.numpy())
    channels = gg.nn.FeatureAlphaDropout(0.5)(gg.ones(3, 8, 5)).numpy()
    assert all(len(set(row.tolist())) == 1 for row in channels.reshape(24, 5))


@pytest.mark.torch
def test_softmax2d_matches_pytorch(torch):
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5))
    for value in (x, x[0]):
        np.testing.assert_allclose(gg.nn.Softmax2d()(gg.tensor(value)).numpy(),
                                   torch.nn.Softmax2d()(torch.tensor(value)).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"^Softmax2d: expected input of shape \(N, C, H, W\)"):
        gg.nn.Softmax2d()(gg.ones(3))


@pytest.mark.parametrize("inplace", [False, True])
def test_compiled_steps_with_channel_dropout_and_an_in_place_relu_replay_bit_identical(inplace):
    def train(compiled):
        gg.manual_seed(0)
        model = gg.nn.Sequential(gg.nn.Conv1d(2, 4, 3), gg.nn.ReLU(inplace=inplace),
                                 gg.nn.Dropout1d(0.3, generator=gg.Generator().manual_seed(5)), gg.nn.Flatten(),
                                 gg.nn.Linear(16, 3))
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            return loss

        run = gg.compile(step, fullgraph=True) if compiled else step
        rng = np.random.default_rng(1)
        return [run(gg.tensor(rng.standard_normal((5, 2, 6)), dtype=gg.float32),
                    gg.tensor(rng.integers(0, 3, 5))).item() for _ in range(12)]

    # the in-place layer writes into the convolution's output: a kernel of the program (fullgraph: no eager fallback)
    assert train(False) == train(True)
