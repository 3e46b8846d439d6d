"""Adadelta, Adamax, NAdam, RAdam, Rprop and ASGD against PyTorch 2.13, with the pattern of ``test_optim_torch.py``.

Both sides get the same pre-computed gradients (float64) over 60 steps, so any difference can
only come from the update rule; parameters and every state entry are compared.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from test_optim_torch import (
    SHAPES,
    assert_float32_stays_float32_and_matches_torch,
    gradient_sequence,
    run_glassgrad,
    run_torch,
    skip_last_param_some_steps,
)

import glassgrad as gg

STEPS = 60
CASES = {
    "adadelta": ("Adadelta", {}),
    "adadelta_everything": ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.1, "maximize": True}),
    "adamax": ("Adamax", {}),
    "adamax_everything": ("Adamax", {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.1,
                                     "maximize": True}),
    "nadam": ("NAdam", {}),
    "nadam_momentum_decay": ("NAdam", {"lr": 0.01, "momentum_decay": 0.01}),
    "nadam_weight_decay": ("NAdam", {"lr": 0.01, "weight_decay": 0.1}),
    "nadam_decoupled": ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True,
                                  "betas": (0.85, 0.99), "eps": 1e-6, "maximize": True}),
    "radam": ("RAdam", {}),
    "radam_everything": ("RAdam", {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.1,
                                   "maximize": True}),
    "radam_decoupled": ("RAdam", {"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    "rprop": ("Rprop", {}),
    "rprop_everything": ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2), "maximize": True}),
    "asgd": ("ASGD", {}),
    "asgd_averaging": ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 10, "weight_decay": 0.1}),
}


@pytest.mark.torch
@pytest.mark.parametrize("two_groups", [False, True], ids=["one_group", "two_groups"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_after_many_steps(torch, case, two_groups):
    name, options = CASES[case]
    rng = np.random.default_rng(1)
    starts = [rng.normal(size=shape) for shape in SHAPES]
    grads = gradient_sequence(SHAPES, STEPS, seed=2, skip=skip_last_param_some_steps)
    ours, our_optimizer = run_glassgrad(name, options, starts, grads, two_groups)
    theirs, their_optimizer = run_torch(torch, name, options, starts, grads, two_groups)
    for mine, reference, start in zip(ours, theirs, starts):
        assert not np.allclose(mine.array, start)
        np.testing.assert_allclose(mine.array, reference.detach().numpy(), rtol=1e-5, atol=1e-12)
    our_state, their_state = our_optimizer.state_dict()["state"], their_optimizer.state_dict()["state"]
    assert our_state.keys() == their_state.keys()
    for index, entries in our_state.items():
        assert entries.keys() == their_state[index].keys()
        for key, value in entries.items():
            np.testing.assert_allclose(value, np.asarray(their_state[index][key]), rtol=1e-5, atol=1e-12, err_msg=key)


@pytest.mark.torch
@pytest.mark.parametrize("case", list(CASES))
def test_float32_stays_float32_and_matches_torch(torch, case):
    name, options = CASES[case]
    assert_float32_stays_float32_and_matches_torch(torch, name, options, 20)


@pytest.mark.torch
@given(case=st.sampled_from(list(CASES)), shape=array_shapes(min_dims=0, max_dims=3, max_side=5),
       seed=st.integers(0, 2**16), lr=st.floats(1e-4, 0.5))
def test_any_shape_and_lr_matches_torch(torch, case, shape, seed, lr):
    name, options = CASES[case]
    options = {**options, "lr": lr}
    rng = np.random.default_rng(seed)
    starts = [rng.normal(size=shape)]
    grads = gradient_sequence([shape], 5, seed=seed + 1)
    (mine,), _ = run_glassgrad(name, options, starts, grads, two_groups=False)
    (reference,), _ = run_torch(torch, name, options, starts, grads, two_groups=False)
    assert mine.shape == shape
    # PyTorch keeps ASGD's step size ηₜ and average weight μₜ as float32 tensors even for float64 parameters, so
    # its steps carry float32 rounding (about 6e-8 of lr·g each); an entry that five steps bring near 0 shows it
    atol = 1e-6 * lr if name == "ASGD" else 1e-12
    np.testing.assert_allclose(mine.array, reference.detach().numpy(), rtol=1e-5, atol=atol)


@pytest.mark.parametrize("case", list(CASES))
def test_state_dict_round_trip_resumes_exactly(case):
    name, options = CASES[case]
    rng = np.random.default_rng(6)
    starts = [rng.normal(size=shape) for shape in SHAPES]
    grads = gradient_sequence(SHAPES, 10, seed=7)
    straight, _ = run_glassgrad(name, options, starts, grads, two_groups=False)
    first, optimizer = run_glassgrad(name, options, starts, grads[:5], two_groups=False)
    params = [gg.tensor(p.array.copy(), requires_grad=True) for p in first]
    resumed = getattr(gg.optim, name)(params, **options)
    resumed.load_state_dict(optimizer.state_dict())
    for step_grads in grads[5:]:
        for param, grad in zip(params, step_grads):
            param.grad = gg.tensor(grad)
        resumed.step()
    for mine, reference in zip(params, straight):
        np.testing.assert_array_equal(mine.array, reference.array)


@pytest.mark.parametrize("name, options, message", [
    ("Adadelta", {"rho": 1.5}, "Invalid rho value: 1.5"),
    ("Adadelta", {"lr": -1.0}, "Invalid learning rate: -1.0"),
    ("Adamax", {"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1: 1.0"),
    ("Adamax", {"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
    ("NAdam", {"momentum_decay": -0.1}, "Invalid momentum_decay value: -0.1"),
    ("NAdam", {"betas": 0.9}, "betas must be a pair"),
    ("RAdam", {"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1: 1.0"),
    ("Rprop", {"etas": (1.5, 1.2)}, "Invalid eta values: 1.5, 1.2"),
    ("Rprop", {"step_sizes": (1.0, 0.1)}, "Invalid step sizes: 1.0, 0.1"),
    ("ASGD", {"alpha": -1.0}, "Invalid alpha value: -1.0"),
])
def test_bad_options_are_one_line_errors(name, options, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        getattr(gg.optim, name)([gg.zeros(2, requires_grad=True)], **options)
    assert "\n" not in str(caught.value)


def test_formulas_show_only_the_options_in_use():
    w = [gg.zeros(2, requires_grad=True)]
    assert gg.optim.Adamax(w).formula_for(gg.optim.Adamax(w).param_groups[0]).splitlines()[0] == "m ← β₁·m + (1 − β₁)·g"
    nadam = gg.optim.NAdam(w, weight_decay=0.1, decoupled_weight_decay=True)
    assert nadam.formula_for(nadam.param_groups[0]).splitlines()[0] == "w ← w − η·λ·w"
    adadelta = gg.optim.Adadelta(w, weight_decay=0.1)
    assert adadelta.formula_for(adadelta.param_groups[0]).splitlines()[0] == "g ← ∇L(w) + λ·w"
    radam = gg.optim.RAdam(w, weight_decay=0.1, decoupled_weight_decay=True)
    assert radam.formula_for(radam.param_groups[0]).splitlines()[0] == "w ← w·(1 − η·λ)"
    rprop = gg.optim.Rprop(w)
    assert rprop.formula_for(rprop.param_groups[0]).splitlines()[0] == "s = sign(g·g_prev)"
    asgd = gg.optim.ASGD(w)
    assert asgd.formula_for(asgd.param_groups[0]).splitlines()[0] == "w ← w·(1 − κ·ηₜ) − ηₜ·g"


# --- the schedulers: LinearLR, SequentialLR, OneCycleLR, ReduceLROnPlateau -------------------

def _two_group_optimizer(library, name, options):
    params = [library.zeros(2, requires_grad=True), library.zeros(3, requires_grad=True)]
    return getattr(library.optim, name)([{"params": params[:1]}, {"params": params[1:], "lr": 0.03}], **options)


def _momentum(group):
    return group["betas"][0] if "betas" in group else group.get("momentum")


def _schedule_trace(library, optimizer_name, optimizer_options, make_scheduler, steps, metrics=None):
    """(lr, momentum) of every group after construction and after each of ``steps`` scheduler steps."""
    optimizer = _two_group_optimizer(library, optimizer_name, optimizer_options)
    scheduler = make_scheduler(library.optim.lr_scheduler, optimizer)
    seen = [[(group["lr"], _momentum(group)) for group in optimizer.param_groups] + [scheduler.get_last_lr()]]
    for step in range(steps):
        optimizer.step()
        scheduler.step(*([] if metrics is None else [metrics[step]]))
        seen.append([(group["lr"], _momentum(group)) for group in optimizer.param_groups] + [scheduler.get_last_lr()])
    return seen


PLATEAU_METRICS = [5.0, 4.0, 4.0, 3.9999, 4.1, 3.0, 3.0, 3.0, 3.0, 2.9, 2.9, 2.9, 2.9, 2.9, 1.0, 1.0, 1.0, 1.0,
                   1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
SCHEDULES = {
    "linear": ("SGD", {"lr": 0.1}, lambda s, o: s.LinearLR(o), 8, None),
    "linear_down": ("SGD", {"lr": 0.1}, lambda s, o: s.LinearLR(o, 1.0, 0.1, total_iters=6), 9, None),
    "sequential_warmup_cosine": ("SGD", {"lr": 0.1}, lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, 0.1, total_iters=4), s.CosineAnnealingLR(o, T_max=10)], milestones=[4]), 20, None),
    "sequential_three": ("Adam", {"lr": 0.01}, lambda s, o: s.SequentialLR(
        o, [s.StepLR(o, 2, 0.5), s.ExponentialLR(o, 0.9), s.LinearLR(o, 0.5, total_iters=3)],
        milestones=[5, 9]), 16, None),
    "sequential_lambda": ("SGD", {"lr": 0.1}, lambda s, o: s.SequentialLR(
        o, [s.LambdaLR(o, lambda e: 1 / (e + 1)), s.StepLR(o, 3)], milestones=[3]), 10, None),
    "one_cycle_cos_sgd": ("SGD", {"lr": 0.1, "momentum": 0.9}, lambda s, o: s.OneCycleLR(o, 1.0, total_steps=30),
                          30, None),
    "one_cycle_linear_adam": ("Adam", {"lr": 0.01}, lambda s, o: s.OneCycleLR(
        o, [0.05, 0.02], epochs=4, steps_per_epoch=5, anneal_strategy="linear", pct_start=0.25), 20, None),
    "one_cycle_three_phase": ("NAdam", {}, lambda s, o: s.OneCycleLR(
        o, 0.1, total_steps=25, three_phase=True, div_factor=10, final_div_factor=100, base_momentum=0.8,
        max_momentum=0.9), 25, None),
    "one_cycle_no_momentum": ("Adagrad", {}, lambda s, o: s.OneCycleLR(o, 0.1, total_steps=12,
                                                                          cycle_momentum=False), 12, None),
    "plateau_min_rel": ("SGD", {"lr": 0.1}, lambda s, o: s.ReduceLROnPlateau(o, factor=0.5, patience=2), 30,
                        PLATEAU_METRICS),
    "plateau_everything": ("SGD", {"lr": 0.1}, lambda s, o: s.ReduceLROnPlateau(
        o, "max", 0.3, patience=1, threshold=0.05, threshold_mode="abs", cooldown=2, min_lr=[0.002, 0.001]),
        30, [-m for m in PLATEAU_METRICS]),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", list(SCHEDULES))
def test_schedule_matches_torch_step_for_step(torch, case):
    optimizer_name, optimizer_options, make, steps, metrics = SCHEDULES[case]
    ours = _schedule_trace(gg, optimizer_name, optimizer_options, make, steps, metrics)
    theirs = _schedule_trace(torch, optimizer_name, optimizer_options, make, steps, metrics)
    assert len({round(row[0][0], 12) for row in ours}) > 1  # the lr did change
    for step, (mine, reference) in enumerate(zip(ours, theirs)):
        for got, expected in zip(mine, reference):
            np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expected, dtype=float),
                                       rtol=1e-12, atol=1e-15, err_msg=f"{case} step {step}")


@pytest.mark.parametrize("case", ["sequential_warmup_cosine", "one_cycle_cos_sgd", "plateau_everything"])
def test_schedule_resumes_from_its_state_dict(case):
    optimizer_name, optimizer_options, make, steps, metrics = SCHEDULES[case]
    straight = _schedule_trace(gg, optimizer_name, optimizer_options, make, steps, metrics)
    optimizer = _two_group_optimizer(gg, optimizer_name, optimizer_options)
    scheduler = make(gg.optim.lr_scheduler, optimizer)
    arguments = [[] if metrics is None else [metrics[step]] for step in range(steps)]
    for step in range(steps // 2):
        scheduler.step(*arguments[step])
    saved_optimizer, saved_scheduler = optimizer.state_dict(), scheduler.state_dict()
    fresh_optimizer = _two_group_optimizer(gg, optimizer_name, optimizer_options)
    fresh = make(gg.optim.lr_scheduler, fresh_optimizer)
    fresh_optimizer.load_state_dict(saved_optimizer)
    fresh.load_state_dict(saved_scheduler)
    for step in range(steps // 2, steps):
        fresh.step(*arguments[step])
    assert fresh.get_last_lr() == straight[-1][-1]


@pytest.mark.parametrize("make, message", [
    (lambda s, o: s.LinearLR(o, start_factor=0), "Invalid start_factor: 0"),
    (lambda s, o: s.OneCycleLR(o, 0.1), "give either total_steps or both epochs and steps_per_epoch"),
    (lambda s, o: s.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"), "anneal_strategy must be"),
    (lambda s, o: s.ReduceLROnPlateau(o, factor=1.0), "Invalid factor: 1.0"),
    (lambda s, o: s.ReduceLROnPlateau(o, mode="lowest"), "mode must be 'min' or 'max'"),
    (lambda s, o: s.SequentialLR(o, [s.LinearLR(o)], milestones=[3]), "one milestone fewer than schedulers"),
    (lambda s, o: s.SequentialLR(o, [s.LinearLR(o), s.ReduceLROnPlateau(o)], milestones=[3]), "not ReduceLROnPlat"),
])
def test_bad_schedules_are_one_line_errors(make, message):
    optimizer = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises((ValueError, TypeError), match=message) as caught:
        make(gg.optim.lr_scheduler, optimizer)
    assert "\n" not in str(caught.value)


def test_one_cycle_past_its_total_steps_says_so():
    optimizer = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    schedule = gg.optim.lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=3)
    for _ in range(3):
        schedule.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
        schedule.step()


def test_docstring_examples_run():
    import doctest

    from glassgrad.optim import adadelta, adamax, lr_scheduler, nadam
    for module in (adadelta, adamax, nadam, lr_scheduler):
        result = doctest.testmod(module, extraglobs={"gg": gg}, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, module.__name__
