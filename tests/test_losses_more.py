"""L1, smooth L1, Huber and KL-divergence losses: PyTorch 2.13, finite differences, kinks, errors.

Kinks: L1's gradient jumps at ŷ = y (there it is sign(0) = 0, as in PyTorch); smooth L1 and Huber
have continuous gradients whose slope jumps at |ŷ − y| = β (δ): both sides give the same gradient
there, ±1 (±δ). Finite differences are taken away from those points.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import glassgrad as gg
import glassgrad.nn.functional as F

PAIR_CASES = [("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.4}),
              ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}), ("huber_loss", {"delta": 2.5})]
MODULES = {"l1_loss": "L1Loss", "smooth_l1_loss": "SmoothL1Loss", "huber_loss": "HuberLoss"}
REDUCTIONS = ["mean", "sum", "none"]


def _pair(seed, shape=(6, 5)):
    rng = np.random.default_rng(seed)
    prediction = rng.normal(size=shape) * 2
    target = rng.normal(size=shape)
    prediction.flat[:3] = target.flat[:3] + np.array([0.0, 0.4, -1.0])  # on the kinks
    return prediction, target


def _run(library, function, prediction, target, upstream, **options):
    a = library.tensor(prediction, requires_grad=True)
    b = library.tensor(target, requires_grad=True)
    out = function(a, b, **options)
    out.backward(library.tensor(upstream))
    return out, a.grad, b.grad


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, settings", PAIR_CASES)
def test_pair_losses_match_pytorch_in_float64(torch, name, settings, reduction):
    prediction, target = _pair(0)
    upstream = np.random.default_rng(1).normal(size=prediction.shape) if reduction == "none" else np.array(1.3)
    ours = _run(gg, getattr(F, name), prediction, target, upstream, reduction=reduction, **settings)
    theirs = _run(torch, getattr(torch.nn.functional, name), prediction, target, upstream, reduction=reduction,
                  **settings)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.numpy(), reference.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.torch
@pytest.mark.parametrize("name, settings", PAIR_CASES)
def test_pair_loss_modules_match_pytorch_in_float32(torch, name, settings):
    prediction, target = (v.astype(np.float32) for v in _pair(2, (4, 3)))
    module = getattr(gg.nn, MODULES[name])(**settings)
    expected = getattr(torch.nn, MODULES[name])(**settings)(torch.tensor(prediction), torch.tensor(target))
    out = module(gg.tensor(prediction), gg.tensor(target))
    assert out.dtype == gg.float32
    np.testing.assert_allclose(out.item(), expected.item(), rtol=1e-6)


def _kl_inputs(seed, shape=(4, 5), log_target=False):
    rng = np.random.default_rng(seed)
    log_probs = np.log(rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]))
    target = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    return log_probs, np.log(target) if log_target else target


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
def test_kl_div_matches_pytorch_in_float64(torch, reduction, log_target):
    log_probs, target = _kl_inputs(3, log_target=log_target)
    upstream = np.random.default_rng(4).normal(size=log_probs.shape) if reduction == "none" else np.array(0.7)
    options = {"reduction": reduction, "log_target": log_target}
    ours = _run(gg, F.kl_div, log_probs, target, upstream, **options)
    theirs = _run(torch, torch.nn.functional.kl_div, log_probs, target, upstream, **options)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.numpy(), reference.detach().numpy(), rtol=1e-12, atol=1e-14)
    module = gg.nn.KLDivLoss(reduction=reduction, log_target=log_target)(gg.tensor(log_probs), gg.tensor(target))
    np.testing.assert_array_equal(module.array, ours[0].array)


@pytest.mark.torch
def test_kl_div_with_zero_target_entries_matches_pytorch_values(torch):
    log_probs = np.log(np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]))
    target = np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    ours = _run(gg, F.kl_div, log_probs, target, np.array(1.0), reduction="batchmean")
    theirs = _run(torch, torch.nn.functional.kl_div, log_probs, target, np.array(1.0), reduction="batchmean")
    np.testing.assert_allclose(ours[0].item(), theirs[0].item(), rtol=1e-14)
    np.testing.assert_allclose(ours[1].numpy(), theirs[1].numpy(), rtol=1e-14)
    assert np.isneginf(ours[2].numpy()[target == 0]).all()  # ∂(y ln y)/∂y → −∞ at 0 (PyTorch: nan)


away_from_kinks = st.floats(-4, 4).filter(lambda v: min(abs(v), abs(abs(v) - 0.4), abs(abs(v) - 1),
                                                           abs(abs(v) - 2.5)) > 1e-3)


@given(differences=arrays(np.float64, array_shapes(min_dims=0, max_dims=3, max_side=4), elements=away_from_kinks),
       seed=st.integers(0, 1000), reduction=st.sampled_from(REDUCTIONS))
@pytest.mark.parametrize("name, settings", PAIR_CASES)
def test_pair_losses_match_finite_differences(name, settings, differences, seed, reduction):
    target = np.random.default_rng(seed).normal(size=differences.shape)
    a = gg.tensor(target + differences, requires_grad=True)
    b = gg.tensor(target, requires_grad=True)
    assert gg.gradcheck(lambda p, t: getattr(F, name)(p, t, reduction=reduction, **settings), [a, b]).ok


@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), seed=st.integers(0, 1000),
       reduction=st.sampled_from(["mean", "sum", "none", "batchmean"]), log_target=st.booleans())
def test_kl_div_matches_finite_differences(shape, seed, reduction, log_target):
    log_probs, target = _kl_inputs(seed, shape, log_target)
    a, b = gg.tensor(log_probs, requires_grad=True), gg.tensor(target, requires_grad=True)
    assert gg.gradcheck(lambda x, y: F.kl_div(x, y, reduction=reduction, log_target=log_target), [a, b]).ok


@pytest.mark.parametrize("name, settings, distance, slope", [
    ("smooth_l1_loss", {"beta": 0.5}, 0.5, 1.0), ("huber_loss", {"delta": 2.0}, 2.0, 2.0),
    ("l1_loss", {}, 0.0, 0.0),
])
def test_gradient_at_the_kink_is_pytorchs_choice(name, settings, distance, slope):
    a = gg.tensor([distance], dtype=gg.float64, requires_grad=True)
    getattr(F, name)(a, gg.zeros(1, dtype=gg.float64), **settings).backward()
    assert a.grad.tolist() == [slope]


def test_smooth_l1_and_huber_relation_holds():
    prediction, target = _pair(5)
    huber = F.huber_loss(gg.tensor(prediction), gg.tensor(target), delta=0.7).item()
    smooth = F.smooth_l1_loss(gg.tensor(prediction), gg.tensor(target), beta=0.7).item()
    np.testing.assert_allclose(huber, 0.7 * smooth, rtol=1e-12)


def test_loss_modules_save_their_settings():
    assert gg.nn.SmoothL1Loss(beta=0.3).config() == {"reduction": "mean", "beta": 0.3}
    assert gg.nn.HuberLoss("sum", 2.0).config() == {"reduction": "sum", "delta": 2.0}
    assert gg.nn.KLDivLoss(reduction="batchmean", log_target=True).config() == {"reduction": "batchmean",
                                                                                "log_target": True}


@pytest.mark.parametrize("call, message", [
    (lambda: F.l1_loss(gg.zeros(3), gg.zeros(2)), "l1_loss: target shape"),
    (lambda: F.smooth_l1_loss(gg.zeros(3), gg.zeros(3), beta=-1), "smooth_l1_loss: beta must be >= 0"),
    (lambda: F.huber_loss(gg.zeros(3), gg.zeros(3), delta=0), "huber_loss: delta must be > 0"),
    (lambda: F.huber_loss(gg.zeros(3), gg.zeros(3), reduction="avg"), "huber_loss: reduction must be one of"),
    (lambda: F.kl_div(gg.zeros(3), gg.zeros(3), reduction="avg"), "kl_div: reduction must be one of"),
    (lambda: gg.nn.KLDivLoss(reduction="batch"), "KLDivLoss: reduction must be one of"),
    (lambda: gg.nn.HuberLoss(delta=-2), "HuberLoss: delta must be > 0"),
    (lambda: gg.nn.SmoothL1Loss(beta="wide"), "SmoothL1Loss: beta must be a finite number"),
])
def test_bad_arguments_are_one_line_errors(call, message):
    with pytest.raises((TypeError, ValueError, RuntimeError), match=message) as caught:
        call()
    assert "\n" not in str(caught.value)
