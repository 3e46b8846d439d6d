"""Learning-rate schedules against PyTorch 2.13's, plus resuming and validation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.optim as optim
from glassgrad.optim import lr_scheduler

LRS = (0.1, 0.01)


def decay(epoch):
    return 0.95**epoch


def warmup(epoch):
    return min(1.0, (epoch + 1) / 5)


CASES = {
    "step": ("StepLR", {"step_size": 3, "gamma": 0.5}),
    "step_default_gamma": ("StepLR", {"step_size": 7}),
    "exponential": ("ExponentialLR", {"gamma": 0.9}),
    "cosine": ("CosineAnnealingLR", {"T_max": 10}),
    "cosine_eta_min": ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    "lambda": ("LambdaLR", {"lr_lambda": decay}),
    "lambda_per_group": ("LambdaLR", {"lr_lambda": [decay, warmup]}),
}


def two_group_sgd(module, initial_lr=None):
    """SGD with two groups of different lr, from glassgrad or torch (``module`` is ``gg``/``torch``)."""
    params = [module.zeros(2, requires_grad=True), module.zeros(3, requires_grad=True)]
    groups = [{"params": [param], "lr": lr} for param, lr in zip(params, LRS)]
    if initial_lr is not None:
        for group, start in zip(groups, initial_lr):
            group["initial_lr"] = start
    return (optim if module is gg else module.optim).SGD(groups, lr=1.0)


def lr_sequence(scheduler, steps):
    """The lrs in force at each epoch (what get_last_lr reports, and what the groups hold)."""
    sequence = []
    for _ in range(steps):
        sequence.append(scheduler.get_last_lr())
        assert [group["lr"] for group in scheduler.optimizer.param_groups] == sequence[-1]
        scheduler.optimizer.step()
        scheduler.step()
    return sequence


@pytest.mark.torch
@pytest.mark.parametrize("case", list(CASES))
def test_schedule_matches_torch(torch, case):
    name, options = CASES[case]
    ours = getattr(lr_scheduler, name)(two_group_sgd(gg), **options)
    theirs = getattr(torch.optim.lr_scheduler, name)(two_group_sgd(torch), **options)
    steps = 35  # past T_max: the cosine turns back up, through the special step after each bottom
    expected = lr_sequence(theirs, steps)
    got = lr_sequence(ours, steps)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert len({tuple(lrs) for lrs in got}) > 1  # the schedule does change the lr


@pytest.mark.torch
@pytest.mark.parametrize("case", ["step", "exponential", "cosine_eta_min", "lambda"])
def test_resuming_with_last_epoch_matches_torch(torch, case):
    name, options = CASES[case]
    ours = getattr(lr_scheduler, name)(two_group_sgd(gg, initial_lr=(0.2, 0.02)), last_epoch=5, **options)
    theirs = getattr(torch.optim.lr_scheduler, name)(
        two_group_sgd(torch, initial_lr=(0.2, 0.02)), last_epoch=5, **options
    )
    assert ours.last_epoch == theirs.last_epoch == 6
    np.testing.assert_allclose(lr_sequence(ours, 20), lr_sequence(theirs, 20), rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@given(
    t_max=st.integers(1, 12),
    eta_min=st.floats(0.0, 0.05),
    base=st.floats(0.06, 2.0),
    steps=st.integers(1, 40),
)
def test_cosine_annealing_matches_torch_for_any_period(torch, t_max, eta_min, base, steps):
    ours = lr_scheduler.CosineAnnealingLR(optim.SGD([gg.zeros(1, requires_grad=True)], lr=base), t_max, eta_min)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base), t_max, eta_min
    )
    np.testing.assert_allclose(lr_sequence(ours, steps), lr_sequence(theirs, steps), rtol=1e-9, atol=1e-12)


def test_cosine_follows_the_closed_form_within_the_first_period():
    base, low, period = 0.5, 0.01, 8
    schedule = lr_scheduler.CosineAnnealingLR(optim.SGD([gg.zeros(1, requires_grad=True)], lr=base), period, low)
    for epoch, (lr,) in enumerate(lr_sequence(schedule, period + 1)):
        assert lr == pytest.approx(low + (base - low) * (1 + math.cos(math.pi * epoch / period)) / 2, rel=1e-12)


def test_the_optimizer_steps_with_the_scheduled_lr():
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    optimizer = optim.SGD([w], lr=0.1)
    schedule = lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    expected = w.array.copy()
    for epoch in range(4):
        optimizer.zero_grad()
        w.sum().backward()  # gradient 1 everywhere
        optimizer.step()
        expected = expected - 0.1 * 0.5**epoch
        schedule.step()
    np.testing.assert_allclose(w.array, expected, rtol=1e-6)


@pytest.mark.parametrize("case", list(CASES))
def test_state_dict_round_trip_resumes_the_schedule(case):
    name, options = CASES[case]
    kind = getattr(lr_scheduler, name)
    optimizer = two_group_sgd(gg)
    schedule = kind(optimizer, **options)
    lr_sequence(schedule, 6)
    saved_optimizer, saved_schedule = optimizer.state_dict(), schedule.state_dict()
    assert "optimizer" not in saved_schedule
    if "lr_lambda" in options:  # plain functions: their code is not saved (PyTorch's None for each)
        assert saved_schedule["lr_lambdas"] == [None] * len(optimizer.param_groups)
    assert saved_schedule["last_epoch"] == 6
    expected = lr_sequence(schedule, 12)

    resumed_optimizer = two_group_sgd(gg)
    resumed = kind(resumed_optimizer, **options)
    resumed_optimizer.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved_schedule)
    assert lr_sequence(resumed, 12) == expected


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda opt: lr_scheduler.StepLR(opt, step_size=0), ValueError, "Invalid step_size: 0"),
        (lambda opt: lr_scheduler.StepLR(opt, step_size="2"), TypeError, "Invalid step_size: '2'"),
        (lambda opt: lr_scheduler.StepLR(opt, step_size=2, gamma=-0.1), ValueError, "Invalid gamma: -0.1"),
        (lambda opt: lr_scheduler.ExponentialLR(opt, gamma=math.nan), ValueError, "Invalid gamma: nan"),
        (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=0), ValueError, "Invalid T_max: 0"),
        (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=-1), ValueError, "Invalid eta_min: -1"),
        (lambda opt: lr_scheduler.LambdaLR(opt, [decay]), ValueError, "Expected 2 lr_lambdas"),
        (lambda opt: lr_scheduler.LambdaLR(opt, 0.5), TypeError, "lr_lambda must be a function"),
        (lambda opt: lr_scheduler.LambdaLR(opt, lambda epoch: math.nan), ValueError,
         "Invalid learning rate from lr_lambda at epoch 0: nan"),
        (lambda opt: lr_scheduler.StepLR(opt, step_size=2, last_epoch=3), KeyError,
         "'initial_lr' is not specified in param_groups[0]"),
        (lambda opt: lr_scheduler.StepLR("sgd", step_size=2), TypeError, "str is not an Optimizer"),
    ],
)
def test_bad_schedule_arguments_are_refused(make, error, message):
    with pytest.raises(error) as raised:
        make(two_group_sgd(gg))
    assert message in str(raised.value)


def test_get_last_lr_is_a_copy():
    schedule = lr_scheduler.StepLR(two_group_sgd(gg), step_size=1)
    schedule.get_last_lr().append(99.0)
    assert schedule.get_last_lr() == list(LRS)


def _warmup_cosine(module):
    """pl_bolts' ``LinearWarmupCosineAnnealingLR``, as written against PyTorch's base class (``module``'s): its
    ``get_lr`` reads ``_get_lr_called_within_step`` and it defines ``_get_closed_form_lr`` for ``step(epoch)``."""

    class LinearWarmupCosineAnnealingLR(module.optim.lr_scheduler._LRScheduler):
        def __init__(self, optimizer, warmup_epochs, max_epochs, warmup_start_lr=0.0, eta_min=0.0, last_epoch=-1):
            self.warmup_epochs, self.max_epochs = warmup_epochs, max_epochs
            self.warmup_start_lr, self.eta_min = warmup_start_lr, eta_min
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            if not self._get_lr_called_within_step:
                warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                              UserWarning, stacklevel=2)
            cosine_epochs = self.max_epochs - self.warmup_epochs
            if self.last_epoch == 0:
                return [self.warmup_start_lr] * len(self.base_lrs)
            if self.last_epoch < self.warmup_epochs:
                return [group["lr"] + (base - self.warmup_start_lr) / (self.warmup_epochs - 1)
                        for base, group in zip(self.base_lrs, self.optimizer.param_groups)]
            if self.last_epoch == self.warmup_epochs:
                return self.base_lrs
            if (self.last_epoch - 1 - self.max_epochs) % (2 * cosine_epochs) == 0:
                return [group["lr"] + (base - self.eta_min) * (1 - math.cos(math.pi / cosine_epochs)) / 2
                        for base, group in zip(self.base_lrs, self.optimizer.param_groups)]
            done = self.last_epoch - self.warmup_epochs
            ratio = ((1 + math.cos(math.pi * done / cosine_epochs))
                     / (1 + math.cos(math.pi * (done - 1) / cosine_epochs)))
            return [ratio * (group["lr"] - self.eta_min) + self.eta_min for group in self.optimizer.param_groups]

        def _get_closed_form_lr(self):
            if self.last_epoch < self.warmup_epochs:
                return [self.warmup_start_lr + self.last_epoch * (base - self.warmup_start_lr)
                        / (self.warmup_epochs - 1) for base in self.base_lrs]
            done = self.last_epoch - self.warmup_epochs
            return [self.eta_min + 0.5 * (base - self.eta_min)
                    * (1 + math.cos(math.pi * done / (self.max_epochs - self.warmup_epochs))) for base in self.base_lrs]

    return LinearWarmupCosineAnnealingLR


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(warmup=st.integers(2, 6), cosine=st.integers(1, 12), start=st.sampled_from([0.0, 0.001]),
       eta_min=st.sampled_from([0.0, 0.002]), epochs=st.none() | st.lists(st.integers(0, 40), min_size=1))
def test_a_schedule_written_against_pytorchs_base_class_runs_as_in_pytorch(torch, warmup, cosine, start, eta_min,
                                                                           epochs):
    """A schedule that reads PyTorch's ``_get_lr_called_within_step`` in its ``get_lr`` raised AttributeError at
    construction, and its own ``_get_closed_form_lr`` was not used by ``step(epoch)`` (``epochs``: jumps to each)."""
    runs = {}
    for module in (torch, gg):
        schedule = _warmup_cosine(module)(two_group_sgd(module), warmup, warmup + cosine, start, eta_min)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # step(epoch) is deprecated, in both
            runs[module] = lr_sequence(schedule, 3 * (warmup + cosine)) if epochs is None else [
                (schedule.optimizer.step(), schedule.step(epoch), schedule.get_last_lr())[2] for epoch in epochs]
        with pytest.warns(UserWarning, match="get_last_lr"):  # its own warning, outside step()
            schedule.get_lr()
    np.testing.assert_allclose(runs[gg], runs[torch], rtol=1e-12, atol=1e-15)
