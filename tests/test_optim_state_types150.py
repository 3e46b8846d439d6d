"""Optimizers' and schedules' state against PyTorch 2.13 (round 150): attributes, state dicts and their types.

Found and fixed: every optimizer turned an option left at PyTorch's int default into a float (``weight_decay: 0.0``
where ``print(optimizer)``, ``param_groups`` and ``state_dict()`` show ``0``; SGD's ``momentum``/``dampening``,
Adagrad's ``lr_decay``/``initial_accumulator_value``, LBFGS's ``lr=1``, any int a learner passed); ReduceLROnPlateau
did the same to ``min_lr`` (``min_lrs``, ``default_min_lr``), CyclicLR/OneCycleLR to their per-group numbers;
CosineAnnealingWarmRestarts counted its steps in ``_step_count`` (PyTorch's stays 0: its ``step`` never counts);
SequentialLR kept and saved a ``base_lrs`` of its own (PyTorch's has none). Checked and already matching: LBFGS's
state after 1..5 steps (the documented float ``t``/``H_diag``/``ro`` and missing ``al`` aside).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad", "Adadelta", "RMSprop", "Rprop", "ASGD",
              "LBFGS"]


def _typed(value):
    """A value with its type spelled out, so that 0 and 0.0 differ."""
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [_typed(item) for item in value]
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    return type(value).__name__, value


def _groups(optimizer):
    return [{key: value for key, value in group.items() if key != "params"} for group in optimizer.param_groups]


@pytest.mark.torch
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_default_options_keep_pytorchs_types(torch, name):
    """``defaults``, ``param_groups`` and ``print(optimizer)``: PyTorch's ints stay ints (``weight_decay: 0``)."""
    mine = getattr(gg.optim, name)([gg.zeros(2, requires_grad=True)])
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
    assert _typed(mine.defaults) == _typed(theirs.defaults)
    assert _typed(_groups(mine)) == _typed(_groups(theirs))
    assert _typed(mine.state_dict()["param_groups"]) == _typed(theirs.state_dict()["param_groups"])
    assert repr(mine) == repr(theirs)


OPTIONS_GIVEN = [("SGD", {"lr": 1, "momentum": 0, "dampening": 0, "weight_decay": 1}),
                 ("Adam", {"lr": 1, "weight_decay": 1}),
                 ("Adagrad", {"lr_decay": 1, "initial_accumulator_value": 1, "eps": 1}),
                 ("RMSprop", {"alpha": 1, "momentum": 0, "eps": 1}),
                 ("Adadelta", {"rho": 1, "lr": 2}), ("NAdam", {"momentum_decay": 1}),
                 ("Rprop", {"step_sizes": (0, 3)}), ("ASGD", {"t0": 2, "lambd": 0, "alpha": 1}),
                 ("LBFGS", {"lr": 2, "tolerance_grad": 0, "tolerance_change": 0})]


@pytest.mark.torch
@pytest.mark.parametrize(("name", "options"), OPTIONS_GIVEN)
def test_options_given_as_ints_are_kept_and_step_as_pytorchs(torch, name, options):
    """An int option is kept as given, as PyTorch keeps it, and the float32 steps are PyTorch's (the int computes
    as the same float would: the parameters stay float32)."""
    rng = np.random.default_rng(0)
    start = rng.normal(size=(3, 2)).astype(np.float32)
    finals = []
    for library in (gg, torch):
        param = library.tensor(start, requires_grad=True)
        optimizer = getattr(library.optim, name)([param], **options)
        assert _typed({key: optimizer.defaults[key] for key in options}) == _typed(options)

        def closure(param=param, optimizer=optimizer):
            optimizer.zero_grad()
            loss = ((param - 0.5) ** 2).sum()
            loss.backward()
            return loss

        for _ in range(3):
            optimizer.step(closure)
        assert str(param.dtype).endswith("float32")
        finals.append(np.array(param.tolist()))
    np.testing.assert_allclose(finals[0], finals[1], rtol=1e-5, atol=1e-6)


def _optimizer(library, groups=2):
    params = [library.zeros(2, requires_grad=True) for _ in range(groups)]
    return library.optim.SGD([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)], lr=0.1,
                             momentum=0.9)


@pytest.mark.torch
@settings(max_examples=25, deadline=None)
@given(T_0=st.integers(1, 6), T_mult=st.integers(1, 3), eta_min=st.sampled_from([0, 0.0, 0.001]),
       steps=st.integers(0, 30))
def test_warm_restarts_never_count_steps_as_pytorch(torch, T_0, T_mult, eta_min, steps):
    """``CosineAnnealingWarmRestarts._step_count`` stays 0 (PyTorch's ``step`` never counts), and its whole state
    dict (keys, types, values) and lrs are PyTorch's at every step."""
    saved = []
    for library in (gg, torch):
        optimizer = _optimizer(library)
        schedule = library.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0, T_mult, eta_min)
        states = []
        for _ in range(steps):
            optimizer.step()
            schedule.step()
            states.append((schedule.state_dict(), schedule.get_last_lr()))
        states.append((schedule.state_dict(), schedule.get_last_lr()))
        assert schedule._step_count == 0
        saved.append(states)
    for (mine, my_lrs), (theirs, their_lrs) in zip(*saved):
        assert set(mine) == set(theirs)
        for key in theirs:
            if isinstance(theirs[key], float):
                assert mine[key] == pytest.approx(theirs[key], rel=1e-12, abs=1e-15), key
            else:
                assert _typed(mine[key]) == _typed(theirs[key]), key
        np.testing.assert_allclose(my_lrs, their_lrs, rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(steps=st.integers(0, 20), milestone=st.integers(1, 8))
def test_sequential_lr_has_no_base_lrs_of_its_own(torch, steps, milestone):
    """PyTorch's SequentialLR has no ``base_lrs`` (AttributeError) and saves none; its lrs, its state dict's keys
    and the groups' ``initial_lr`` are PyTorch's at every step."""
    seen = []
    for library in (gg, torch):
        optimizer = _optimizer(library)
        schedules = library.optim.lr_scheduler
        schedule = schedules.SequentialLR(optimizer, [schedules.LinearLR(optimizer, 0.1, total_iters=4),
                                                      schedules.ExponentialLR(optimizer, 0.9)], [milestone])
        with pytest.raises(AttributeError):
            _ = schedule.base_lrs
        rows = []
        for _ in range(steps):
            optimizer.step()
            schedule.step()
            rows.append((sorted(schedule.state_dict()), schedule.get_last_lr(),
                         [group["initial_lr"] for group in optimizer.param_groups]))
        seen.append(rows)
    for (my_keys, my_lrs, my_initial), (their_keys, their_lrs, their_initial) in zip(*seen):
        assert my_keys == their_keys
        np.testing.assert_allclose(my_lrs, their_lrs, rtol=1e-12)
        assert my_initial == their_initial


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(min_lr=st.one_of(st.none(), st.sampled_from([0, 0.0, 1, 0.01]),
                        st.lists(st.sampled_from([0, 0.0, 0.01, 1]), min_size=2, max_size=2)),
       factor=st.sampled_from([0.1, 0.5, 0]), threshold=st.sampled_from([1e-4, 0, 1]),
       metrics=st.lists(st.sampled_from([1.0, 0.9, 0.95, 2.0]), max_size=12))
def test_plateau_keeps_min_lr_as_given(torch, min_lr, factor, threshold, metrics):
    """``ReduceLROnPlateau``'s ``min_lrs``/``default_min_lr``, ``factor``, ``threshold`` as PyTorch keeps them (the
    default ``min_lr=0`` an int), and its state dict (keys, types, values) and groups' lrs after every epoch."""
    options = {"factor": factor, "threshold": threshold, "patience": 1}
    if min_lr is not None:
        options["min_lr"] = min_lr
    seen = []
    for library in (gg, torch):
        optimizer = _optimizer(library)
        plateau = library.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **options)
        rows = [_typed(plateau.state_dict())]
        for metric in metrics:
            optimizer.step()
            plateau.step(metric)
            rows.append(_typed(plateau.state_dict()))
            rows.append(_typed([group["lr"] for group in optimizer.param_groups]))
        seen.append(rows)
    assert seen[0] == seen[1]


@pytest.mark.torch
@pytest.mark.parametrize("name", ["CyclicLR", "OneCycleLR"])
def test_per_group_numbers_kept_as_given(torch, name):
    """CyclicLR's and OneCycleLR's per-group numbers (``max_lrs``, momentum bounds) are kept as given, as PyTorch's:
    an int ``max_lr=1`` stays 1 in the state dict and the groups."""
    options = ({"base_lr": 0, "max_lr": [1, 2], "step_size_up": 2, "base_momentum": 0, "max_momentum": 1}
               if name == "CyclicLR" else {"max_lr": 1, "total_steps": 10, "base_momentum": 0, "max_momentum": 1})
    seen = []
    for library in (gg, torch):
        optimizer = _optimizer(library)
        schedule = getattr(library.optim.lr_scheduler, name)(optimizer, **options)
        state = {key: value for key, value in schedule.state_dict().items() if not key.startswith("_scale_fn")}
        seen.append((_typed(state), _typed(_groups(optimizer))))
    assert seen[0] == seen[1]


def _lbfgs_states(library, line_search, seed, steps):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(6, 4)), rng.normal(size=6)
    w = library.tensor(rng.normal(size=4), dtype=library.float64, requires_grad=True)
    v = library.tensor(rng.normal(size=2), dtype=library.float64, requires_grad=True)
    a_t, b_t = library.tensor(a), library.tensor(b)
    optimizer = library.optim.LBFGS([w, v], lr=0.5, max_iter=4, history_size=3, line_search_fn=line_search)

    def closure():
        optimizer.zero_grad()
        loss = ((library.tanh(a_t @ w) - b_t) ** 2).mean() + ((v - 0.5) ** 2).sum() + (v[0] * w[1] - v[1]) ** 2
        loss.backward()
        return loss

    states = []
    for _ in range(steps):
        optimizer.step(closure)
        states.append(copy.deepcopy(optimizer.state_dict()["state"][0]))
    return states


def _numbers(value):
    if isinstance(value, list):
        return [_numbers(item) for item in value]
    return np.array(value.tolist()) if hasattr(value, "tolist") else value


@pytest.mark.torch
@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lbfgs_state_is_pytorchs_after_each_step(torch, line_search, seed):
    """Every LBFGS state entry after each of 5 steps (up to 20 iterations) is PyTorch's in float64: ``prev_flat_grad``
    is the gradient where the step's last iteration started, as PyTorch's (its ``al`` and tensor ``t``/``H_diag``/``ro``
    aside, documented in the README). PyTorch's dot products round otherwise than NumPy's, so the last bits differ and
    grow over the iterations (to ~1e-8 relative in the small history entries): compared to 1e-6."""
    mine, theirs = (_lbfgs_states(library, line_search, seed, 5) for library in (gg, torch))
    for my_state, their_state in zip(mine, theirs):
        assert set(their_state) - set(my_state) == {"al"} or "al" not in their_state
        for key in my_state:
            for got, want in zip(np.atleast_1d(np.array(_numbers(my_state[key]), dtype=float).ravel()),
                                 np.atleast_1d(np.array(_numbers(their_state[key]), dtype=float).ravel())):
                assert got == pytest.approx(want, rel=1e-6, abs=1e-12), key


def test_an_old_sequential_lr_state_dict_with_base_lrs_still_loads():
    """A SequentialLR state dict an older glassgrad saved (with ``base_lrs``) loads, and the schedule goes on."""
    optimizer = _optimizer(gg)
    schedules = gg.optim.lr_scheduler
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schedule = schedules.SequentialLR(optimizer, [schedules.ConstantLR(optimizer, 0.5, 2),
                                                      schedules.ExponentialLR(optimizer, 0.9)], [2])
        saved = {**schedule.state_dict(), "base_lrs": [0.1, 0.2]}
        schedule.load_state_dict(saved)
        optimizer.step()
        schedule.step()
    assert schedule.get_last_lr() == pytest.approx([0.05, 0.1])
