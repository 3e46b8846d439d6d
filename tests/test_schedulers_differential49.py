"""Learning-rate schedulers and optimizer state against PyTorch 2.13 (round 49): every schedule on several parameter
groups with drawn settings, compared at every step (``get_last_lr()``, each group's lr and cycled momentum/β₁),
state-dict round trips mid-run and PyTorch-made state dicts loaded into glassgrad, schedules of schedules, resuming
with ``last_epoch``, tensor lrs, optimizer state dicts loaded into a fresh optimizer, and misuse.

The glassgrad optimizer's ``state_dict()`` hands out copies of its state tensors where PyTorch hands out its own (a
documented deviation, see ``Optimizer.state_dict``), and ``LinearLR`` with ``end_factor=0`` keeps the lr at 0 where
PyTorch's rounds to about -1e-18 (documented in ``LinearLR``): neither is drawn here.
"""

from __future__ import annotations

import copy
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore::UserWarning")]

KINDS = ("StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR",
         "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR", "LambdaLR", "MultiplicativeLR", "SequentialLR",
         "ChainedScheduler", "ReduceLROnPlateau")
OPTIMIZERS = ("SGD", "Adam", "RMSprop", "Adagrad")


def _optimizer(lib, lrs, kind="SGD"):
    groups = [{"params": [lib.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    options = {"SGD": {"momentum": 0.9}, "RMSprop": {"momentum": 0.5}}.get(kind, {})
    return getattr(lib.optim, kind)(groups, lr=0.1, **options)


def _simple(S, o, r: random.Random):
    """One plain schedule of drawn settings (``r`` draws the same numbers for both libraries)."""
    kind = r.choice(("StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR",
                     "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "LambdaLR", "MultiplicativeLR"))
    if kind == "StepLR":
        return S.StepLR(o, step_size=r.randint(1, 5), gamma=r.choice([0.1, 0.5, 0.9]))
    if kind == "MultiStepLR":
        return S.MultiStepLR(o, milestones=[r.randint(1, 15) for _ in range(r.randint(1, 4))], gamma=0.5)
    if kind == "ConstantLR":
        return S.ConstantLR(o, factor=r.choice([0.1, 0.5, 1 / 3, 1.0]), total_iters=r.randint(0, 6))
    if kind == "LinearLR":
        return S.LinearLR(o, start_factor=r.choice([0.1, 1 / 3, 1.0]), end_factor=r.choice([1.0, 0.5, 0.2]),
                          total_iters=r.randint(1, 8))
    if kind == "ExponentialLR":
        return S.ExponentialLR(o, gamma=r.choice([0.9, 0.5, 0.99]))
    if kind == "PolynomialLR":
        return S.PolynomialLR(o, total_iters=r.randint(1, 10), power=r.choice([1.0, 2.0, 0.5, 3.3]))
    if kind == "CosineAnnealingLR":
        return S.CosineAnnealingLR(o, T_max=r.randint(1, 10), eta_min=r.choice([0.0, 1e-4, 0.01]))
    if kind == "CosineAnnealingWarmRestarts":
        return S.CosineAnnealingWarmRestarts(o, T_0=r.randint(1, 6), T_mult=r.randint(1, 3),
                                             eta_min=r.choice([0, 1e-3]))
    if kind == "LambdaLR":
        a = r.choice([0.9, 0.95])
        return S.LambdaLR(o, lambda e: a ** e if e > 2 else (e + 1) / 3)
    return S.MultiplicativeLR(o, lambda e: 0.9 + 0.01 * (e % 3))


def _scheduler(S, o, kind, r: random.Random, groups):
    momentum = type(o).__name__ in ("SGD", "Adam", "RMSprop") and r.random() < 0.6
    if kind == "CyclicLR":
        return S.CyclicLR(o, base_lr=r.choice([0.001, [0.001 * (i + 1) for i in range(groups)]]),
                          max_lr=r.choice([0.1, [0.1 * (i + 1) for i in range(groups)]]), step_size_up=r.randint(1, 6),
                          step_size_down=r.choice([None, r.randint(1, 6)]),
                          mode=r.choice(["triangular", "triangular2", "exp_range"]), gamma=r.choice([1.0, 0.9]),
                          cycle_momentum=momentum, base_momentum=r.choice([0.8, 0.7]), max_momentum=0.9)
    if kind == "OneCycleLR":
        steps = ({"total_steps": r.randint(45, 60)} if r.random() < 0.5
                 else {"epochs": r.randint(5, 8), "steps_per_epoch": r.randint(9, 10)})
        return S.OneCycleLR(o, max_lr=r.choice([0.1, [0.2 * (i + 1) for i in range(groups)]]),
                            pct_start=r.choice([0.3, 0.25, 0.5]), anneal_strategy=r.choice(["cos", "linear"]),
                            three_phase=r.random() < 0.4, cycle_momentum=momentum, div_factor=r.choice([25.0, 10.0]),
                            final_div_factor=r.choice([1e4, 100.0]), **steps)
    if kind == "SequentialLR":
        parts = [_simple(S, o, r) for _ in range(r.randint(1, 3))]
        return S.SequentialLR(o, parts, milestones=sorted(r.sample(range(1, 15), len(parts) - 1)))
    if kind == "ChainedScheduler":
        return S.ChainedScheduler([_simple(S, o, r) for _ in range(r.randint(1, 3))])
    if kind == "ReduceLROnPlateau":
        return S.ReduceLROnPlateau(o, mode=r.choice(["min", "max"]), factor=r.choice([0.1, 0.5]),
                                   patience=r.randint(0, 3), threshold=r.choice([1e-4, 0.1, 0.0]),
                                   threshold_mode=r.choice(["rel", "abs"]), cooldown=r.randint(0, 3),
                                   min_lr=r.choice([0, 1e-3, [1e-3 * (i + 1) for i in range(groups)]]),
                                   eps=r.choice([1e-8, 1e-2]))
    while True:  # a plain schedule of this kind
        scheduler = _simple(S, o, r)
        if type(scheduler).__name__ == kind:
            return scheduler


def _seen(optimizer, scheduler):
    """The numbers a step leaves: each group's lr, momentum and β₁, and ``get_last_lr()``."""
    row = []
    for group in optimizer.param_groups:
        row += [float(group["lr"]), float(group.get("momentum", 0.0)), float(group.get("betas", (0.0,))[0])]
    return row + [float(lr) for lr in scheduler.get_last_lr()]


def _stepped(optimizer, scheduler, steps):
    """The numbers as built, then after each of ``steps`` steps (the optimizer's first)."""
    seen = [_seen(optimizer, scheduler)]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        seen.append(_seen(optimizer, scheduler))
    return np.array(seen)


def _run(lib, kind, opt_kind, lrs, seed, steps, save_at, torch_state=None):
    """The schedule's numbers at each step; at step ``save_at`` its state dict is saved and loaded back (or, given
    ``torch_state``, PyTorch's saved there, as plain values, is loaded instead)."""
    r = random.Random(seed)
    optimizer = _optimizer(lib, lrs, opt_kind)
    scheduler = _scheduler(lib.optim.lr_scheduler, optimizer, kind, r, len(lrs))
    metrics = random.Random(seed + 1)
    seen, saved = [_seen(optimizer, scheduler)], None
    for step in range(steps):
        optimizer.step()
        if kind == "ReduceLROnPlateau":
            scheduler.step(metrics.choice([1.0, 2.0, 0.5, 0.99, 1.0001, 3.0]))
        else:
            scheduler.step()
        if step == save_at:
            saved = copy.deepcopy(scheduler.state_dict())
            scheduler.load_state_dict(copy.deepcopy(saved if torch_state is None else torch_state))
        seen.append(_seen(optimizer, scheduler))
    return np.array(seen), saved


def _plain(value, torch):
    """A PyTorch state dict's values as plain Python numbers (tensors to floats)."""
    if isinstance(value, torch.Tensor):
        return value.item()
    if isinstance(value, dict):
        return type(value)({key: _plain(item, torch) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item, torch) for item in value)
    return value


@given(kind=st.sampled_from(KINDS), opt_kind=st.sampled_from(OPTIMIZERS),
       lrs=st.lists(st.sampled_from([0.1, 0.05, 1.0, 0.3, 2e-3]), min_size=1, max_size=3),
       seed=st.integers(0, 2**31), steps=st.integers(1, 40), save_at=st.integers(0, 40))
def test_every_schedule_matches_pytorch_with_a_state_dict_round_trip(torch, kind, opt_kind, lrs, seed, steps,
                                                                     save_at):
    """The fuzzer's core: a drawn schedule on 1-3 groups, stepped, its state dict saved and loaded back mid-run;
    then the same run with PyTorch's state dict (plain values) loaded into glassgrad's schedule at that step."""
    theirs, saved = _run(torch, kind, opt_kind, lrs, seed, steps, save_at)
    mine, _ = _run(gg, kind, opt_kind, lrs, seed, steps, save_at)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-300)
    if saved is not None:
        loaded, _ = _run(gg, kind, opt_kind, lrs, seed, steps, save_at, torch_state=_plain(saved, torch))
        np.testing.assert_allclose(loaded, theirs, rtol=1e-12, atol=1e-300)


# --- defects fixed in round 49 --------------------------------------------------------------------------------


@pytest.mark.parametrize("T_mult", [1, 2])
def test_sequential_starting_with_warm_restarts_keeps_the_first_lr(torch, T_mult):
    """SequentialLR takes back its schedules' first step and steps the first one again: CosineAnnealingWarmRestarts
    counted on from T_cur and began one step down the cosine (0.0854 for 0.1 with T_0=3) where PyTorch stays."""
    def run(lib):
        optimizer = _optimizer(lib, [0.1, 0.3])
        S = lib.optim.lr_scheduler
        scheduler = S.SequentialLR(optimizer, [S.CosineAnnealingWarmRestarts(optimizer, 3, T_mult, 1e-3),
                                               S.ExponentialLR(optimizer, 0.9)], milestones=[7])
        return _stepped(optimizer, scheduler, 10)
    mine = run(gg)
    assert mine[0][0] == 0.1
    np.testing.assert_allclose(mine, run(torch), rtol=1e-12)


@pytest.mark.parametrize("inner", ["ChainedScheduler", "SequentialLR"])
def test_sequential_cannot_restart_a_schedule_of_schedules(torch, inner):
    """At the milestone that would restart a ChainedScheduler (or SequentialLR) inside a SequentialLR, PyTorch
    raises NotImplementedError; glassgrad raised a raw AttributeError ('no attribute base_lrs')."""
    def build(lib):
        optimizer = _optimizer(lib, [0.1])
        S = lib.optim.lr_scheduler
        parts = [S.ExponentialLR(optimizer, 0.9), S.StepLR(optimizer, 2, 0.5)]
        nested = (S.ChainedScheduler(parts) if inner == "ChainedScheduler"
                  else S.SequentialLR(optimizer, parts, milestones=[1]))
        return optimizer, S.SequentialLR(optimizer, [S.ConstantLR(optimizer, 0.5, 2), nested], milestones=[3])
    for lib in (torch, gg):
        optimizer, scheduler = build(lib)
        for _ in range(2):
            optimizer.step()
            scheduler.step()
        with pytest.raises(NotImplementedError, match="restart" if lib is gg else ""):
            optimizer.step()
            scheduler.step()


def test_multistep_loads_pytorchs_state_dict(torch):
    """PyTorch keeps MultiStepLR's milestones as a Counter; loading its state dict raised AttributeError ('dict'
    object has no attribute 'count'). glassgrad keeps the same Counter; an older glassgrad's sorted list loads."""
    def run(lib, state=None):
        optimizer = _optimizer(lib, [0.1, 0.02])
        scheduler = lib.optim.lr_scheduler.MultiStepLR(optimizer, [2, 5, 5, 8], 0.5)
        seen = []
        for step in range(12):
            optimizer.step()
            scheduler.step()
            if step == 3:
                saved = scheduler.state_dict()
                if state is not None:
                    scheduler.load_state_dict(state)
            seen.append(scheduler.get_last_lr())
        return seen, saved, scheduler
    theirs, saved, _ = run(torch)
    mine, mine_saved, scheduler = run(gg, copy.deepcopy(saved))
    assert isinstance(saved["milestones"], Counter)
    assert mine_saved["milestones"] == saved["milestones"] and isinstance(scheduler.milestones, Counter)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    older = dict(copy.deepcopy(mine_saved), milestones=[2, 5, 5, 8])
    assert run(gg, older)[0] == mine


# --- pinned behaviour that already matched --------------------------------------------------------------------


def test_warm_restarts_fractional_and_whole_epochs_interleaved(torch):
    """step(epoch) with fractional epochs (a step per batch), mixed with plain step(), as PyTorch's docs show."""
    epochs = [0.5, 1.25, None, 2.75, 3.0, None, 6.5, 7.1, None, 20.3, 26, None, None]
    def run(lib):
        optimizer = _optimizer(lib, [0.1, 0.3])
        scheduler = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, 3, 2, 0.002)
        seen = []
        for epoch in epochs:
            optimizer.step()
            scheduler.step(*([] if epoch is None else [epoch]))
            seen.append([scheduler.last_epoch, scheduler.T_cur, scheduler.T_i, *_seen(optimizer, scheduler)])
        return np.array(seen, dtype=float)
    np.testing.assert_allclose(run(gg), run(torch), rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda S, o, e: S.StepLR(o, 3, 0.5, last_epoch=e),
    lambda S, o, e: S.CosineAnnealingLR(o, 7, 0.01, last_epoch=e),
    lambda S, o, e: S.PolynomialLR(o, 6, 2.0, last_epoch=e),
    lambda S, o, e: S.CosineAnnealingWarmRestarts(o, 3, 2, 0.001, last_epoch=e),
    lambda S, o, e: S.CyclicLR(o, 0.01, 0.1, 3, last_epoch=e),
    lambda S, o, e: S.OneCycleLR(o, 0.5, total_steps=20, last_epoch=e),
], ids=["StepLR", "Cosine", "Polynomial", "WarmRestarts", "Cyclic", "OneCycle"])
def test_resume_with_last_epoch_from_a_loaded_optimizer(torch, make):
    """A schedule built with last_epoch=3 on an optimizer loaded from a state dict (its groups hold initial_lr)."""
    def run(lib):
        optimizer = _optimizer(lib, [0.1, 0.05])
        scheduler = make(lib.optim.lr_scheduler, optimizer, -1)
        for _ in range(4):
            optimizer.step()
            scheduler.step()
        resumed = _optimizer(lib, [0.1, 0.05])
        resumed.load_state_dict(optimizer.state_dict())
        return _stepped(resumed, make(lib.optim.lr_scheduler, resumed, 3), 5)
    np.testing.assert_allclose(run(gg), run(torch), rtol=1e-12)


def test_resume_without_initial_lr_is_pytorchs_key_error():
    with pytest.raises(KeyError, match="initial_lr"):
        gg.optim.lr_scheduler.StepLR(_optimizer(gg, [0.1]), 2, last_epoch=5)


def test_two_schedules_on_one_optimizer_compound(torch):
    def run(lib):
        optimizer = _optimizer(lib, [0.1, 0.05])
        S = lib.optim.lr_scheduler
        first, second = S.CosineAnnealingLR(optimizer, 5), S.LinearLR(optimizer, 0.5, total_iters=3)
        seen = []
        for _ in range(8):
            optimizer.step()
            first.step()
            second.step()
            seen.append(first.get_last_lr() + second.get_last_lr() + [g["initial_lr"] for g in optimizer.param_groups])
        return seen
    np.testing.assert_allclose(run(gg), run(torch), rtol=1e-12)


@pytest.mark.parametrize("kind", ["LambdaLR", "CyclicLR", "CosineAnnealingWarmRestarts", "MultiplicativeLR"])
def test_a_group_added_after_the_schedule_is_refused(kind):
    """PyTorch fails here with zip()'s ValueError; glassgrad says what happened."""
    optimizer = _optimizer(gg, [0.1, 0.05])
    S = gg.optim.lr_scheduler
    scheduler = {"LambdaLR": lambda: S.LambdaLR(optimizer, lambda e: 0.5),
                 "CyclicLR": lambda: S.CyclicLR(optimizer, 0.01, 0.1, 2),
                 "CosineAnnealingWarmRestarts": lambda: S.CosineAnnealingWarmRestarts(optimizer, 3),
                 "MultiplicativeLR": lambda: S.MultiplicativeLR(optimizer, lambda e: 0.5)}[kind]()
    optimizer.add_param_group({"params": [gg.zeros(1, requires_grad=True)], "lr": 0.7})
    optimizer.step()
    with pytest.raises(ValueError, match="add_param_group"):
        scheduler.step()


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("make", [
    lambda S, o: S.ExponentialLR(o, 0.5), lambda S, o: S.CosineAnnealingLR(o, 5),
    lambda S, o: S.OneCycleLR(o, 0.5, total_steps=10), lambda S, o: S.CyclicLR(o, 0.01, 0.1, 2),
], ids=["Exponential", "Cosine", "OneCycle", "Cyclic"])
def test_a_tensor_lr_is_written_into(torch, kind, make):
    """The program's lr tensor follows the schedule (PyTorch fills it); the parameters agree to float32 rounding."""
    def run(lib):
        param, lr = lib.zeros(2, requires_grad=True), lib.tensor(0.1)
        optimizer = getattr(lib.optim, kind)([param], lr=lr)
        scheduler = make(lib.optim.lr_scheduler, optimizer)
        seen = []
        for _ in range(4):
            param.grad = lib.ones(2)
            optimizer.step()
            scheduler.step()
            assert optimizer.param_groups[0]["lr"] is lr and isinstance(scheduler.get_last_lr()[0], lib.Tensor)
            seen.append([float(lr), float(scheduler.get_last_lr()[0]), *param.detach().tolist()])
        return seen
    np.testing.assert_allclose(run(gg), run(torch), rtol=1e-6)


@pytest.mark.parametrize("settings", [{"total_steps": 10}, {"epochs": 2, "steps_per_epoch": 5}])
def test_one_cycle_past_its_steps_is_pytorchs_value_error(torch, settings):
    for lib in (torch, gg):
        optimizer = _optimizer(lib, [0.1])
        scheduler = lib.optim.lr_scheduler.OneCycleLR(optimizer, 0.5, **settings)
        for _ in range(10):
            optimizer.step()
            scheduler.step()
        with pytest.raises(ValueError, match="Tried to step 11 times"):
            scheduler.step()


@pytest.mark.parametrize("build, error", [
    (lambda S, o: S.ReduceLROnPlateau(o, mode="avg"), ValueError),
    (lambda S, o: S.ReduceLROnPlateau(o, threshold_mode="x"), ValueError),
    (lambda S, o: S.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError),
    (lambda S, o: S.SequentialLR(o, [S.StepLR(o, 2), S.ExponentialLR(o, 0.9)], milestones=[2, 4]), ValueError),
    (lambda S, o: S.SequentialLR(o, [S.StepLR(o, 2), S.ExponentialLR(o, 0.9)], milestones=[]), ValueError),
    (lambda S, o: S.StepLR(object(), 2), TypeError),
    (lambda S, o: S.ExponentialLR(gg.nn.Linear(2, 2), 0.9), TypeError),
    (lambda S, o: S.CyclicLR(gg.optim.Adagrad([gg.zeros(1, requires_grad=True)]), 0.01, 0.1), ValueError),
    (lambda S, o: S.OneCycleLR(o, 0.5), ValueError),
    (lambda S, o: S.OneCycleLR(o, 0.5, total_steps=10, anneal_strategy="exp"), ValueError),
    (lambda S, o: S.CosineAnnealingWarmRestarts(o, 2, 1.5), ValueError),
], ids=["plateau-mode", "plateau-threshold-mode", "plateau-min-lrs", "sequential-milestones",
        "sequential-no-milestones", "not-an-optimizer", "a-module", "cyclic-no-momentum", "one-cycle-no-total",
        "one-cycle-anneal", "warm-restarts-fraction"])
def test_misuse_is_pytorchs_error_class(build, error):
    with pytest.raises(error):
        build(gg.optim.lr_scheduler, _optimizer(gg, [0.1, 0.05]))


# --- optimizer state ------------------------------------------------------------------------------------------

OPTIMIZER_SETTINGS = {"SGD": {"lr": 0.1, "momentum": 0.9, "nesterov": True}, "Adam": {"lr": 0.01, "amsgrad": True},
                      "AdamW": {"lr": 0.01, "weight_decay": 0.1}, "RMSprop": {"lr": 0.01, "momentum": 0.5,
                                                                               "centered": True},
                      "Adagrad": {"lr": 0.1, "lr_decay": 0.01}, "Adadelta": {"lr": 1.0}, "NAdam": {"lr": 0.01},
                      "RAdam": {"lr": 0.01}}


def _training(lib, name, settings, set_to_none, rng_seed=0, torch=None):
    """Three steps, the state dict into a fresh optimizer (its second group built with another lr), one group's lr
    changed, three more steps; with ``torch`` the state dict is PyTorch's (its tensors as glassgrad's)."""
    rng = np.random.default_rng(rng_seed)
    start = [rng.standard_normal(3), rng.standard_normal((2, 2))]
    grads = [[rng.standard_normal(a.shape) for a in start] for _ in range(6)]
    params = [lib.tensor(a, requires_grad=True) for a in start]
    def build(ps, second_lr):
        return getattr(lib.optim, name)([{"params": [ps[0]]}, {"params": [ps[1]], "lr": second_lr}], **settings)
    def step(optimizer, ps, number):
        optimizer.zero_grad(set_to_none=set_to_none)
        for param, grad in zip(ps, grads[number]):
            if param.grad is None:
                param.grad = lib.tensor(grad)
            else:
                param.grad.add_(lib.tensor(grad))
        optimizer.step()
    optimizer = build(params, settings["lr"] / 2)
    for number in range(3):
        step(optimizer, params, number)
    saved = copy.deepcopy(optimizer.state_dict())
    layout = (sorted(saved), [sorted(group) for group in saved["param_groups"]],
              {key: sorted(value) for key, value in saved["state"].items()})
    fresh = [lib.tensor(param.detach().numpy().copy(), requires_grad=True) for param in params]
    resumed = build(fresh, 123.0)
    resumed.load_state_dict(saved)
    resumed.param_groups[0]["lr"] *= 0.3
    for number in range(3, 6):
        step(resumed, fresh, number)
    return layout, [param.detach().numpy() for param in fresh]


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("name", list(OPTIMIZER_SETTINGS))
def test_optimizer_state_dict_layout_and_resumed_training(torch, name, set_to_none):
    """NAdam's loaded ``mu_product`` stays float32 in glassgrad (a documented deviation, ``Optimizer._restored``:
    the resumed run goes on bit for bit as the unbroken one) where PyTorch casts it to the parameter's float64, so
    there the two agree to float32's rounding of that product."""
    mine_layout, mine = _training(gg, name, OPTIMIZER_SETTINGS[name], set_to_none)
    theirs_layout, theirs = _training(torch, name, OPTIMIZER_SETTINGS[name], set_to_none)
    assert mine_layout == theirs_layout
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-7 if name == "NAdam" else 1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "NAdam"])
def test_pytorchs_optimizer_state_dict_continues_in_glassgrad(torch, name):
    """PyTorch's state dict after three steps (its tensors turned into glassgrad's) loaded into glassgrad's optimizer:
    three more steps give PyTorch's parameters."""
    settings = OPTIMIZER_SETTINGS[name]
    rng = np.random.default_rng(1)
    start = [rng.standard_normal(3), rng.standard_normal((2, 2))]
    grads = [[rng.standard_normal(a.shape) for a in start] for _ in range(6)]
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    optimizer = getattr(torch.optim, name)([{"params": [theirs[0]]}, {"params": [theirs[1]], "lr": 0.03}], **settings)
    for number in range(3):
        for param, grad in zip(theirs, grads[number]):
            param.grad = torch.tensor(grad)
        optimizer.step()
    def converted(value):
        if isinstance(value, torch.Tensor):
            return gg.tensor(value.detach().numpy().copy())
        if isinstance(value, dict):
            return {key: converted(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(converted(item) for item in value)
        return value
    mine = [gg.tensor(param.detach().numpy().copy(), requires_grad=True) for param in theirs]
    resumed = getattr(gg.optim, name)([{"params": [mine[0]]}, {"params": [mine[1]]}], **settings)
    resumed.load_state_dict(converted(optimizer.state_dict()))
    assert [group["lr"] for group in resumed.param_groups] == [settings["lr"], 0.03]
    for number in range(3, 6):
        for t, g, grad in zip(theirs, mine, grads[number]):
            t.grad, g.grad = torch.tensor(grad), gg.tensor(grad)
        optimizer.step()
        resumed.step()
    for t, g in zip(theirs, mine):
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-15)


def test_zero_grad_keeps_or_drops_the_gradient_tensor(torch):
    for lib in (torch, gg):
        param = lib.zeros(2, requires_grad=True)
        optimizer = lib.optim.SGD([param], lr=0.1)
        param.sum().backward()
        grad = param.grad
        optimizer.zero_grad(set_to_none=False)
        assert param.grad is grad and param.grad.tolist() == [0.0, 0.0] and not param.grad.requires_grad
        optimizer.zero_grad()
        assert param.grad is None


@pytest.mark.parametrize("groups, error_text", [([[0, 1, 2]], "parameter groups"), ([[0], [1, 2]], "size")])
def test_loading_into_other_groups_is_pytorchs_value_error(groups, error_text):
    params = [gg.zeros(2, requires_grad=True) for _ in range(3)]
    saved = gg.optim.SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.1).state_dict()
    other = gg.optim.SGD([{"params": [params[i] for i in group]} for group in groups], lr=0.1)
    with pytest.raises(ValueError, match=error_text):
        other.load_state_dict(saved)


def test_a_loaded_state_of_another_shape_is_refused():
    saved_from = gg.optim.Adam([gg.zeros(2, requires_grad=True)], lr=0.1)
    saved_from.param_groups[0]["params"][0].grad = gg.ones(2)
    saved_from.step()
    with pytest.raises(ValueError, match="shape"):
        gg.optim.Adam([gg.zeros(3, requires_grad=True)], lr=0.1).load_state_dict(saved_from.state_dict())
