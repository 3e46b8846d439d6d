"""``gg.optim.swa_utils`` against PyTorch 2.13's ``torch.optim.swa_utils`` in float64: the averaged weights and
buffers (SWA, EMA, per-tensor and in-place averaging functions, with and without ``use_buffers``) after the same
sequence of models, the state dict's keys, the averaged model's output, SWALR's learning rates step by step
(alone and after another schedule), and ``update_bn``'s running statistics."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


def _model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)).double()


def _random_state(model, rng):
    """Random numbers for every parameter and buffer (a whole count for ``num_batches_tracked``)."""
    state = {}
    for name, value in model.state_dict().items():
        array = rng.integers(0, 50, size=tuple(value.shape)) if "num_batches" in name else rng.normal(size=value.shape)
        state[name] = np.abs(array) if "running_var" in name else array
    return state


def _averaging(lib, how):
    utils = lib.optim.swa_utils
    return {"swa": {}, "ema": {"avg_fn": utils.get_ema_avg_fn(0.9)},
            "ema_in_place": {"multi_avg_fn": utils.get_ema_multi_avg_fn(0.75)},
            "swa_in_place": {"multi_avg_fn": utils.get_swa_multi_avg_fn()},
            "swa_fn": {"avg_fn": utils.get_swa_avg_fn()}}[how]


@pytest.mark.torch
@settings(max_examples=6)
@given(seed=st.integers(0, 2**16), updates=st.integers(1, 5))
@pytest.mark.parametrize("how, use_buffers", [("swa", False), ("swa", True), ("ema", False), ("ema", True),
                                              ("ema_in_place", False), ("ema_in_place", True),
                                              ("swa_in_place", False), ("swa_fn", True)])
def test_averaged_weights_match_pytorch(torch, how, use_buffers, seed, updates):
    rng = np.random.default_rng(seed)
    models = {lib: _model(lib) for lib in (gg, torch)}
    averaged = {lib: lib.optim.swa_utils.AveragedModel(models[lib], use_buffers=use_buffers, **_averaging(lib, how))
                for lib in (gg, torch)}
    for _ in range(updates):
        state = _random_state(models[gg], rng)
        for lib in (gg, torch):
            models[lib].load_state_dict({name: lib.tensor(value) for name, value in state.items()})
            averaged[lib].update_parameters(models[lib])
    mine, theirs = averaged[gg].state_dict(), averaged[torch].state_dict()
    assert list(mine) == list(theirs)
    # PyTorch's in-place SWA takes its weight 1/(n + 1) as a float32 tensor (n is an int64 tensor): ~1e-8 apart
    tolerance = 1e-6 if how == "swa_in_place" and updates > 2 else 1e-12
    for name in theirs:
        assert mine[name].dtype == np.dtype(str(theirs[name].dtype).removeprefix("torch."))
        np.testing.assert_allclose(mine[name].numpy(), theirs[name].numpy(), rtol=tolerance, atol=tolerance / 10,
                                   err_msg=name)
    x = rng.normal(size=(5, 3))
    outputs = [averaged[lib].eval()(lib.tensor(x)).detach().numpy() for lib in (gg, torch)]
    np.testing.assert_allclose(*outputs, rtol=tolerance * 100, atol=1e-12)


def test_averaged_model_copies_the_model_and_leaves_it_alone():
    model = gg.nn.Linear(2, 1, dtype=gg.float64)  # float64: the mean's one rounding stays far below rtol
    swa = gg.optim.swa_utils.AveragedModel(model)
    assert swa.module is not model and swa.module.weight is not model.weight
    assert swa.n_averaged.item() == 0 and swa.n_averaged.dtype == gg.int64
    before = model.weight.detach().numpy().copy()
    swa.update_parameters(model)
    with gg.no_grad():
        model.weight.add_(2.0)
    swa.update_parameters(model)  # the mean of W and W + 2
    np.testing.assert_allclose(swa.module.weight.detach().numpy(), before + 1.0, rtol=1e-14)
    np.testing.assert_allclose(model.weight.detach().numpy(), before + 2.0, rtol=1e-15)
    assert not swa.module.weight.grad and swa.n_averaged.item() == 2


def _lrs(lib, groups, swa_lr, anneal_epochs, strategy, switch, steps):
    params = [lib.zeros(1, requires_grad=True) for _ in groups]
    optimizer = lib.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, groups)], lr=groups[0])
    before = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=8)
    swa = lib.optim.swa_utils.SWALR(optimizer, swa_lr, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    seen = []
    for epoch in range(steps):
        seen.append([group["lr"] for group in optimizer.param_groups] + swa.get_last_lr())
        optimizer.step()
        (before if epoch < switch else swa).step()
    return seen


@pytest.mark.torch
@settings(max_examples=25)
@given(anneal_epochs=st.integers(0, 6), strategy=st.sampled_from(["cos", "linear"]), switch=st.integers(0, 5),
       two_groups=st.booleans(), per_group=st.booleans())
def test_swalr_learning_rates_match_pytorch(torch, anneal_epochs, strategy, switch, two_groups, per_group):
    groups = [0.5, 0.1] if two_groups else [0.3]
    swa_lr = [0.05, 0.02][: len(groups)] if per_group else 0.05
    mine, theirs = (_lrs(lib, groups, swa_lr, anneal_epochs, strategy, switch, 14) for lib in (gg, torch))
    np.testing.assert_allclose(np.array(mine, dtype=float), np.array(theirs, dtype=float), rtol=1e-13, atol=1e-15)


def test_swalr_reaches_swa_lr_and_its_state_resumes_it():
    optimizer = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0)
    schedule = gg.optim.swa_utils.SWALR(optimizer, swa_lr=0.1, anneal_epochs=4, anneal_strategy="linear")
    schedule.step()
    assert schedule.get_last_lr() == pytest.approx([1.0 - 0.9 / 4])  # a quarter of the way, linearly
    saved = schedule.state_dict()
    assert "optimizer" not in saved and saved["_anneal_strategy"] == "linear"  # PyTorch's key
    for _ in range(5):
        schedule.step()
    assert schedule.get_last_lr() == pytest.approx([0.1])
    schedule.load_state_dict(saved)
    assert schedule.last_epoch == 1


@pytest.mark.torch
@pytest.mark.parametrize("through_averaged, on_device", [(False, False), (True, False), (False, True)])
def test_update_bn_recomputes_running_statistics_as_pytorch(torch, through_averaged, on_device):
    rng = np.random.default_rng(3)
    state = _random_state(_model(gg), rng)
    batches = [rng.normal(size=(n, 3)) * 2 + 1 for n in (4, 7, 3)]
    results = {}
    for lib in (gg, torch):
        model = _model(lib)
        model.load_state_dict({name: lib.tensor(value) for name, value in state.items()})
        model[1].momentum = 0.3
        model.eval()
        target = lib.optim.swa_utils.AveragedModel(model) if through_averaged else model
        if through_averaged:
            target.update_parameters(model)
            target.eval()
        loader = [lib.tensor(batches[0]), (lib.tensor(batches[1]), lib.zeros(7)), [lib.tensor(batches[2])]]
        lib.optim.swa_utils.update_bn(loader, target, device="cpu" if on_device else None)
        norm = target.module[1] if through_averaged else target[1]
        assert norm.momentum == 0.3 and not target.training
        results[lib] = [norm.running_mean.numpy(), norm.running_var.numpy(), norm.num_batches_tracked.numpy()]
    for mine, theirs in zip(results[gg], results[torch]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)


def test_update_bn_without_batchnorm_does_nothing():
    model = gg.nn.Linear(2, 2)
    gg.optim.swa_utils.update_bn([gg.ones(1, 2)], model)
    assert model.training


@pytest.mark.parametrize("call, error, message", [
    (lambda: gg.optim.swa_utils.get_ema_multi_avg_fn(1.5), ValueError, "Invalid decay value 1.5"),
    (lambda: gg.optim.swa_utils.get_ema_avg_fn(-0.1), ValueError, "Please provide a value in [0,1] range"),
    (lambda: gg.optim.swa_utils.AveragedModel(gg.nn.Linear(1, 1), avg_fn=gg.optim.swa_utils.get_swa_avg_fn(),
                                              multi_avg_fn=gg.optim.swa_utils.get_swa_multi_avg_fn()),
     AssertionError, "give avg_fn or multi_avg_fn, not both"),
    (lambda: gg.optim.swa_utils.SWALR(gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0), 0.1,
                                      anneal_strategy="step"), ValueError, "anneal_strategy must be one of"),
    (lambda: gg.optim.swa_utils.SWALR(gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0), 0.1,
                                      anneal_epochs=-1), ValueError, "anneal_epochs must be equal or greater than 0"),
    (lambda: gg.optim.swa_utils.SWALR(gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0), [0.1, 0.2]),
     ValueError, "expected 1 values for swa_lr"),
])
def test_bad_calls_are_one_line_errors(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_torch_optim_swa_utils_and_the_new_distributions_import_through_the_shim():
    program = ("from glassgrad import torch_names; torch_names.install()\nimport glassgrad, torch.optim.swa_utils\n"
               "from torch.distributions.kl import kl_divergence\nfrom torch.optim.swa_utils import SWALR\n"
               "print(torch.optim.swa_utils is glassgrad.optim.swa_utils, SWALR is glassgrad.optim.swa_utils.SWALR, "
               "kl_divergence is glassgrad.distributions.kl_divergence, "
               "torch.distributions.MultivariateNormal is glassgrad.distributions.MultivariateNormal)")
    shown = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["True"] * 4


@pytest.mark.torch
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_ema_in_place_of_float32_weights_follows_pytorchs_lerp(torch, seed):
    """``get_ema_multi_avg_fn`` computed ``d·W̄ + (1 − d)·W``, whose two float32 weights sum to 1 + 6·10⁻⁸: after 300
    updates its float32 average was ~10⁻⁴ off PyTorch's (a ``lerp``) and ten times further from the exact one."""
    decay = 0.999
    rng = np.random.default_rng(seed)
    weights = [rng.normal(scale=10.0, size=(4, 8)).astype(np.float32) for _ in range(300)]
    exact = weights[0].astype(np.float64)
    for weight in weights[1:]:
        exact = decay * exact + (1 - decay) * weight.astype(np.float64)
    averaged = {}
    for lib in (torch, gg):
        model = lib.nn.Linear(8, 4, bias=False)
        average = lib.optim.swa_utils.AveragedModel(model,
                                                   multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(decay))
        for weight in weights:
            with lib.no_grad():
                model.weight.copy_(lib.tensor(weight))
            average.update_parameters(model)
        averaged[lib] = np.array(average.module.weight.detach().tolist())
    np.testing.assert_allclose(averaged[gg], averaged[torch], rtol=0, atol=1e-5)  # float32 roundings
    assert np.abs(averaged[gg] - exact).max() <= 2 * np.abs(averaged[torch] - exact).max() + 1e-6
