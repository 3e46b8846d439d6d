"""Layers of gg.nn against PyTorch and against formulas: Linear, activations, Flatten, Sequential,
Residual (finite differences), Dropout."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import nn

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)


def torch_copy(torch, tensor: gg.Tensor):
    return torch.tensor(tensor.array.copy(), requires_grad=True)


def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in():
    layer = nn.Linear(400, 300, seed=0)
    bound = 1 / math.sqrt(400)
    weight, bias = layer.weight.array.astype(np.float64), layer.bias.array.astype(np.float64)
    assert layer.weight.shape == (300, 400) and layer.bias.shape == (300,)
    assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
    # U(−b, b): mean 0, variance b²/3; 120,000 draws put the sample statistics within a few % of them
    assert abs(weight.mean()) < 0.01 * bound
    assert weight.var() == pytest.approx(bound**2 / 3, rel=0.02)
    assert np.abs(weight).max() > 0.99 * bound  # the whole interval is used, not a narrower one


def test_linear_init_repeats_with_a_seed_and_with_manual_seed():
    np.testing.assert_array_equal(nn.Linear(5, 4, seed=7).weight.array, nn.Linear(5, 4, seed=7).weight.array)
    assert not np.array_equal(nn.Linear(5, 4, seed=7).weight.array, nn.Linear(5, 4, seed=8).weight.array)
    gg.manual_seed(3)
    first = nn.Linear(5, 4)
    gg.manual_seed(3)
    second = nn.Linear(5, 4)
    np.testing.assert_array_equal(first.weight.array, second.weight.array)
    np.testing.assert_array_equal(first.bias.array, second.bias.array)
    generator = np.random.default_rng(11)
    np.testing.assert_array_equal(nn.Linear(5, 4, generator=generator).weight.array,
                                  nn.Linear(5, 4, generator=np.random.default_rng(11)).weight.array)


def test_linear_arguments_are_checked():
    with pytest.raises(ValueError, match=r"in_features must be an integer >= 0, got -1"):  # 0 is allowed, as PyTorch
        nn.Linear(-1, 3)
    with pytest.raises(TypeError, match="floating dtype"):
        nn.Linear(2, 3, dtype=gg.int64)
    with pytest.raises(RuntimeError, match=r"the input's last dim must be 4"):
        nn.Linear(4, 3)(gg.ones(2, 5))
    assert nn.Linear(2, 3, bias=False).bias is None
    assert nn.Linear(2, 3, dtype=gg.float64).weight.dtype == np.float64


def test_linear_matches_pytorch_values_and_gradients(torch):
    ours = nn.Linear(6, 4, seed=0)
    theirs = torch.nn.Linear(6, 4)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.array))
        theirs.bias.copy_(torch.tensor(ours.bias.array))
    x = gg.randn(5, 6, seed=1, requires_grad=True)
    tx = torch_copy(torch, x)
    out, tout = ours(x), theirs(tx)
    np.testing.assert_allclose(out.array, tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    upstream = gg.randn(5, 4, seed=2)
    out.backward(upstream)
    tout.backward(torch.tensor(upstream.array))
    np.testing.assert_allclose(ours.weight.grad.array, theirs.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.bias.grad.array, theirs.bias.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


ACTIVATIONS = [
    (lambda: nn.ReLU(), lambda t: t.nn.ReLU()),
    (lambda: nn.LeakyReLU(0.2), lambda t: t.nn.LeakyReLU(0.2)),
    (lambda: nn.Sigmoid(), lambda t: t.nn.Sigmoid()),
    (lambda: nn.Tanh(), lambda t: t.nn.Tanh()),
    (lambda: nn.Softmax(dim=-1), lambda t: t.nn.Softmax(dim=-1)),
    (lambda: nn.Softmax(dim=0), lambda t: t.nn.Softmax(dim=0)),
    (lambda: nn.LogSoftmax(dim=-1), lambda t: t.nn.LogSoftmax(dim=-1)),
    (lambda: nn.Identity(), lambda t: t.nn.Identity()),
    (lambda: nn.Flatten(0), lambda t: t.nn.Flatten(0)),
]


@pytest.mark.parametrize("make_ours, make_theirs", ACTIVATIONS)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_parameter_free_layers_match_pytorch(torch, make_ours, make_theirs, shape, seed):
    x = gg.randn(*shape, seed=seed, requires_grad=True, dtype=gg.float64)
    tx = torch_copy(torch, x)
    out, tout = make_ours()(x), make_theirs(torch)(tx)
    np.testing.assert_allclose(out.array, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = gg.randn(*out.shape, seed=seed + 1, dtype=gg.float64)
    out.backward(upstream)
    tout.backward(torch.tensor(upstream.array))
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@given(batch=st.integers(1, 4), rest=st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_flatten_keeps_the_batch_dim_and_reshapes_gradients_back(batch, rest):
    x = gg.randn(batch, *rest, seed=0, requires_grad=True)
    out = nn.Flatten()(x)
    assert out.shape == (batch, int(np.prod(rest)))
    np.testing.assert_array_equal(out.array, x.array.reshape(batch, -1))
    out.backward(gg.ones(*out.shape) * 2)
    np.testing.assert_array_equal(x.grad.array, np.full(x.shape, 2.0, np.float32))


def test_sequential_indexing_length_iteration_and_append():
    first, act, last = nn.Linear(3, 4, seed=0), nn.ReLU(), nn.Linear(4, 2, seed=1)
    model = nn.Sequential(first, act)
    assert model.append(last) is model
    assert len(model) == 3 and list(model) == [first, act, last]
    assert model[0] is first and model[-1] is last
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [act, last]
    assert [name for name, _ in tail.named_children()] == ["1", "2"]
    x = gg.randn(2, 3, seed=2)
    np.testing.assert_array_equal(model(x).array, last(act(first(x))).array)
    replacement = nn.Linear(4, 5, seed=3)
    model[-1] = replacement
    assert model(x).shape == (2, 5) and model[2] is replacement
    assert "2.weight" in model.state_dict() and model.state_dict()["2.weight"].shape == (5, 4)
    with pytest.raises(IndexError, match="out of range for a Sequential of 3 layers"):
        model[3]
    with pytest.raises(TypeError, match="not a gg.nn.Module"):
        nn.Sequential(nn.Linear(2, 2), gg.relu)


def test_sequential_accepts_named_layers():
    model = nn.Sequential({"hidden": nn.Linear(2, 3), "act": nn.Tanh()})
    assert list(model.state_dict()) == ["hidden.weight", "hidden.bias"]
    assert model.act is model[1]


class TanhLayer(nn.Module):
    """``tanh(x·Wᵀ)`` with ``W`` a plain attribute, so gradcheck can hand in its own float64 copy."""

    def __init__(self, weight: gg.Tensor) -> None:
        super().__init__()
        self.weight = weight

    def forward(self, x: gg.Tensor) -> gg.Tensor:
        return (x @ self.weight.T).tanh()


def test_residual_adds_the_input_and_passes_gradcheck():
    model = nn.Residual(nn.Sequential(nn.Linear(3, 3, seed=0), nn.Tanh(), nn.Linear(3, 3, seed=1))).double()
    x = gg.randn(4, 3, seed=2, dtype=gg.float64, requires_grad=True)
    np.testing.assert_allclose(model(x).array, x.array + model.block(x).array, rtol=1e-12)
    report = gg.gradcheck(model, [x])
    assert report.ok, str(report)
    block = TanhLayer(gg.randn(3, 3, seed=3, dtype=gg.float64))
    residual = nn.Residual(block)

    def through_residual(inp: gg.Tensor, weight: gg.Tensor) -> gg.Tensor:
        block.weight = weight
        return residual(inp)

    report = gg.gradcheck(through_residual, [x, gg.randn(3, 3, seed=4, dtype=gg.float64, requires_grad=True)])
    assert report.ok, str(report)
    # ∂L/∂x = ∂L/∂out · (I + ∂block/∂x): with a zero block the gradient is exactly the upstream
    zero_block = nn.Residual(nn.Linear(3, 3, bias=False)).double()
    nn.init.zeros_(zero_block.block.weight)
    x.grad = None
    zero_block(x).backward(gg.ones(4, 3, dtype=gg.float64) * 5)
    np.testing.assert_array_equal(x.grad.array, np.full((4, 3), 5.0))


def test_residual_shape_mismatch_is_explained():
    with pytest.raises(RuntimeError, match=r"turned shape \(2, 3\) into \(2, 4\).*same shape"):
        nn.Residual(nn.Linear(3, 4))(gg.ones(2, 3))
    with pytest.raises(TypeError, match="wraps a gg.nn.Module"):
        nn.Residual(gg.relu)


def test_dropout_in_eval_is_the_identity_like_pytorch(torch):
    x = gg.randn(4, 5, seed=0, requires_grad=True)
    tx = torch_copy(torch, x)
    out = nn.Dropout(0.5, seed=1).eval()(x)
    tout = torch.nn.Dropout(0.5).eval()(tx)
    np.testing.assert_array_equal(out.array, tout.detach().numpy())
    out.backward(gg.ones(4, 5) * 3)
    tout.backward(torch.full((4, 5), 3.0))
    np.testing.assert_array_equal(x.grad.array, tx.grad.numpy())


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_in_training_drops_a_fraction_p_and_rescales(p):
    x = gg.randn(200, 100, seed=0, requires_grad=True)
    out = nn.Dropout(p, seed=1)(x)
    kept = out.array != 0
    np.testing.assert_allclose(out.array[kept], x.array[kept] / (1 - p), rtol=1e-6)
    # 20,000 Bernoulli(p) draws: the dropped fraction is within 5 standard deviations of p
    assert abs((1 - kept.mean()) - p) < 5 * math.sqrt(p * (1 - p) / kept.size)
    out.backward(gg.ones(200, 100))
    np.testing.assert_allclose(x.grad.array, kept / (1 - p), rtol=1e-6)


def test_dropout_masks_repeat_with_a_seed_and_edge_probabilities():
    x = gg.ones(50)
    np.testing.assert_array_equal(nn.Dropout(0.3, seed=4)(x).array, nn.Dropout(0.3, seed=4)(x).array)
    gg.manual_seed(9)
    first = nn.Dropout(0.3)(x).array
    gg.manual_seed(9)
    np.testing.assert_array_equal(nn.Dropout(0.3)(x).array, first)
    assert np.all(nn.Dropout(1.0)(x).array == 0)
    assert nn.Dropout(0.0)(x) is x
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(RuntimeError, match="floating tensor"):  # PyTorch's class, in training
        nn.Dropout(0.5)(gg.tensor([1, 2]))
