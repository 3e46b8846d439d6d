"""BatchNorm1d and LayerNorm against PyTorch (values, gradients, running statistics) and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import nn


def torch_twin_batchnorm(torch, ours: nn.BatchNorm1d):
    theirs = torch.nn.BatchNorm1d(ours.num_features, eps=ours.eps, momentum=ours.momentum, affine=ours.affine,
                                  track_running_stats=ours.track_running_stats, dtype=torch.float64)
    if ours.affine:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(ours.weight.array))
            theirs.bias.copy_(torch.tensor(ours.bias.array))
    return theirs


def randomise_affine(layer: nn.Module, seed: int) -> None:
    nn.init.normal_(layer.weight, 1.0, 0.5, seed=seed)
    nn.init.normal_(layer.bias, 0.0, 0.5, seed=seed + 1)


def run_both(torch, ours, theirs, x: gg.Tensor, seed: int):
    """Forward and backward through both with the same upstream gradient; returns (ours, theirs) arrays."""
    x = gg.tensor(x.array, requires_grad=True)
    tx = torch.tensor(x.array.copy(), requires_grad=True)
    out, tout = ours(x), theirs(tx)
    upstream = gg.randn(*out.shape, seed=seed, dtype=gg.float64)
    out.backward(upstream)
    tout.backward(torch.tensor(upstream.array))
    return (out.array, x.grad.array), (tout.detach().numpy(), tx.grad.numpy())


def assert_close(ours, theirs, rtol=1e-9, atol=1e-10):
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("shape", [(8, 3), (5, 3, 4)])
def test_batchnorm_matches_pytorch_over_several_steps_then_in_eval(torch, momentum, shape):
    ours = nn.BatchNorm1d(3, momentum=momentum, dtype=gg.float64)
    randomise_affine(ours, 0)
    theirs = torch_twin_batchnorm(torch, ours)
    for step in range(4):
        x = gg.randn(*shape, seed=step, dtype=gg.float64) * (step + 1) + step
        assert_close(*run_both(torch, ours, theirs, x, seed=100 + step))
        np.testing.assert_allclose(ours.weight.grad.array, theirs.weight.grad.numpy(), rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(ours.bias.grad.array, theirs.bias.grad.numpy(), rtol=1e-9, atol=1e-10)
        ours.zero_grad()
        theirs.zero_grad()
    np.testing.assert_allclose(ours.running_mean.array, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var.array, theirs.running_var.numpy(), rtol=1e-12)
    assert int(ours.num_batches_tracked.array) == int(theirs.num_batches_tracked) == 4
    ours.eval()
    theirs.eval()
    x = gg.randn(*shape, seed=9, dtype=gg.float64)
    assert_close(*run_both(torch, ours, theirs, x, seed=10))
    np.testing.assert_allclose(ours.weight.grad.array, theirs.weight.grad.numpy(), rtol=1e-9, atol=1e-10)
    assert int(ours.num_batches_tracked.array) == 4  # eval does not update the statistics


def test_running_variance_update_is_the_unbiased_formula():
    layer = nn.BatchNorm1d(2, momentum=0.25, dtype=gg.float64)
    x = gg.tensor([[1.0, 4.0], [2.0, 0.0], [6.0, 5.0]], dtype=gg.float64)
    layer(x)
    n = 3
    np.testing.assert_allclose(layer.running_mean.array, 0.25 * x.array.mean(0))
    np.testing.assert_allclose(layer.running_var.array, 0.75 * 1 + 0.25 * x.array.var(0) * n / (n - 1))


def test_batchnorm_float32_matches_pytorch(torch):
    ours = nn.BatchNorm1d(4)
    theirs = torch.nn.BatchNorm1d(4)
    x = gg.randn(16, 4, seed=0) * 3 + 1
    tx = torch.tensor(x.array, requires_grad=True)
    x.requires_grad = True
    out, tout = ours(x), theirs(tx)
    np.testing.assert_allclose(out.array, tout.detach().numpy(), rtol=1e-4, atol=1e-5)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(ours.running_var.array, theirs.running_var.numpy(), rtol=1e-5)


@pytest.mark.parametrize("affine, track", [(False, True), (True, False), (False, False)])
def test_batchnorm_options_match_pytorch(torch, affine, track):
    ours = nn.BatchNorm1d(3, affine=affine, track_running_stats=track, dtype=gg.float64)
    theirs = torch_twin_batchnorm(torch, ours)
    assert_close(*run_both(torch, ours, theirs, gg.randn(6, 3, seed=0, dtype=gg.float64), seed=1))
    ours.eval()
    theirs.eval()
    assert_close(*run_both(torch, ours, theirs, gg.randn(6, 3, seed=2, dtype=gg.float64), seed=3))
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_batchnorm_passes_gradcheck_in_training():
    layer = nn.BatchNorm1d(3, dtype=gg.float64)
    randomise_affine(layer, 5)
    x = gg.randn(5, 3, seed=1, dtype=gg.float64, requires_grad=True)
    report = gg.gradcheck(lambda inp: (layer(inp) ** 2).sum(), [x])
    assert report.ok, str(report)


def test_batchnorm_errors_are_clear():
    with pytest.raises(RuntimeError, match=r"expected input of shape \(N, 3\) or \(N, 3, L\), got \(4, 2\)"):
        nn.BatchNorm1d(3)(gg.ones(4, 2))
    layer = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 value per channel.*model.eval"):
        layer(gg.ones(1, 3))
    assert int(layer.num_batches_tracked.array) == 0
    assert layer.eval()(gg.ones(1, 3)).shape == (1, 3)


@given(batch=st.integers(1, 4), features=st.lists(st.integers(1, 4), min_size=1, max_size=2),
       seed=st.integers(0, 1000), affine=st.booleans())
def test_layernorm_matches_pytorch(torch, batch, features, seed, affine):
    ours = nn.LayerNorm(features, elementwise_affine=affine, dtype=gg.float64)
    theirs = torch.nn.LayerNorm(features, elementwise_affine=affine, dtype=torch.float64)
    if affine:
        randomise_affine(ours, seed)
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(ours.weight.array))
            theirs.bias.copy_(torch.tensor(ours.bias.array))
    x = gg.randn(batch, *features, seed=seed, dtype=gg.float64) * 2 + 1
    assert_close(*run_both(torch, ours, theirs, x, seed=seed + 2), rtol=1e-7, atol=1e-9)
    if affine:
        np.testing.assert_allclose(ours.weight.grad.array, theirs.weight.grad.numpy(), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(ours.bias.grad.array, theirs.bias.grad.numpy(), rtol=1e-7, atol=1e-9)
    ours.eval()  # no running statistics: eval computes the same
    np.testing.assert_allclose(ours(x).array, theirs(torch.tensor(x.array)).detach().numpy(), rtol=1e-7, atol=1e-9)


def test_layernorm_shape_error_and_gradcheck():
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 4\], but got input of size \(2, 3\)"):
        nn.LayerNorm(4)(gg.ones(2, 3))
    layer = nn.LayerNorm(4, dtype=gg.float64)
    randomise_affine(layer, 1)
    x = gg.randn(3, 4, seed=0, dtype=gg.float64, requires_grad=True)
    report = gg.gradcheck(lambda inp: (layer(inp) * gg.arange(4.0).double()).sum(), [x])
    assert report.ok, str(report)


def test_functional_forms_match_pytorch(torch):
    import glassgrad.nn.functional as F

    x = gg.randn(6, 3, seed=0, dtype=gg.float64)
    weight, bias = gg.randn(3, seed=1, dtype=gg.float64), gg.randn(3, seed=2, dtype=gg.float64)
    ours_mean, ours_var = gg.zeros(3, dtype=gg.float64), gg.ones(3, dtype=gg.float64)
    their_mean, their_var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    tx, tw, tb = (torch.tensor(t.array) for t in (x, weight, bias))
    out = F.batch_norm(x, ours_mean, ours_var, weight, bias, training=True, momentum=0.3)
    tout = torch.nn.functional.batch_norm(tx, their_mean, their_var, tw, tb, training=True, momentum=0.3)
    np.testing.assert_allclose(out.array, tout.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours_var.array, their_var.numpy(), rtol=1e-12)
    out = F.batch_norm(x, ours_mean, ours_var, weight, bias, training=False)
    tout = torch.nn.functional.batch_norm(tx, their_mean, their_var, tw, tb, training=False)
    np.testing.assert_allclose(out.array, tout.numpy(), rtol=1e-10)
    np.testing.assert_allclose(F.layer_norm(x, (3,), weight, bias).array,
                               torch.nn.functional.layer_norm(tx, (3,), tw, tb).numpy(), rtol=1e-10)
    assert F.dropout(x, 0.5, training=False) is x
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):  # PyTorch's class
        F.batch_norm(x, None, None)
