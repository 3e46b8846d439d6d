"""MultiStepLR, ConstantLR, MultiplicativeLR, PolynomialLR, CosineAnnealingWarmRestarts, CyclicLR and
ChainedScheduler against PyTorch 2.13's: the lr (and cycled momentum) of every group at every step,
hypothesis-drawn settings, and a state-dict round trip."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

LRS = (0.1, 0.03)


def _optimizer(lib, kind="sgd"):
    params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    groups = [{"params": [param], "lr": lr} for param, lr in zip(params, LRS)]
    if kind == "adam":
        return lib.optim.Adam(groups, lr=1.0)
    return lib.optim.SGD(groups, lr=1.0, momentum=0.9)


def _sequence(lib, make, steps, kind="sgd", epochs=None):
    optimizer = _optimizer(lib, kind)
    scheduler = make(lib.optim.lr_scheduler, optimizer)
    seen = []
    for step in range(steps):
        groups = optimizer.param_groups
        seen.append([(g["lr"], g.get("momentum"), g.get("betas", (None,))[0]) for g in groups])
        optimizer.step()
        scheduler.step(*([epochs[step]] if epochs is not None else []))
    return np.array(seen, dtype=float)


def _compare(torch, make, steps, kind="sgd", epochs=None):
    mine, theirs = _sequence(gg, make, steps, kind, epochs), _sequence(torch, make, steps, kind, epochs)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@given(milestones=st.lists(st.integers(1, 12), max_size=4), gamma=st.floats(0.1, 1.0))
def test_multistep_matches_pytorch(torch, milestones, gamma):
    _compare(torch, lambda s, o: s.MultiStepLR(o, milestones, gamma), 15)


@pytest.mark.torch
@given(factor=st.floats(0.05, 1.0), total=st.integers(0, 6))
def test_constant_matches_pytorch(torch, factor, total):
    _compare(torch, lambda s, o: s.ConstantLR(o, factor, total), 10)


@pytest.mark.torch
def test_multiplicative_matches_pytorch(torch):
    _compare(torch, lambda s, o: s.MultiplicativeLR(o, lambda epoch: 0.9 + 0.01 * (epoch % 3)), 12)
    _compare(torch, lambda s, o: s.MultiplicativeLR(o, [lambda e: 0.5, lambda e: 1.1]), 6)


@pytest.mark.torch
@given(total=st.integers(1, 8), power=st.floats(0.5, 3.0))
def test_polynomial_matches_pytorch(torch, total, power):
    _compare(torch, lambda s, o: s.PolynomialLR(o, total, power), 12)


@pytest.mark.torch
@given(t0=st.integers(1, 5), mult=st.integers(1, 3), eta_min=st.sampled_from([0.0, 0.001]))
def test_cosine_warm_restarts_matches_pytorch(torch, t0, mult, eta_min):
    def make(s, o):
        return (s.CosineAnnealingWarmRestarts(o, t0, mult, eta_min))
    _compare(torch, make, 25)
    _compare(torch, make, 12, epochs=[0.5 * k + 0.25 for k in range(12)])  # fractional epochs, per batch


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_cyclic_matches_pytorch_with_its_momentum(torch, mode, kind):
    def make(s, o):
        return (s.CyclicLR(o, base_lr=[0.01, 0.001], max_lr=0.1, step_size_up=3, step_size_down=5,
                                        mode=mode, gamma=0.9))
    _compare(torch, make, 30, kind)
    _compare(torch, lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=4, scale_fn=lambda x: 1 / (1 + x),
                                            scale_mode="iterations", cycle_momentum=False), 20, kind)


@pytest.mark.torch
def test_a_sequence_restarts_each_schedule_as_pytorchs(torch):
    """At a milestone PyTorch steps the next schedule to epoch 0: a MultiplicativeLR multiplies the lr it finds by
    lr_lambda(0) (it restarted from the starting lr here: 0.1 where 0.0225 was due). A CyclicLR keeps the group's
    initial_lr (it overwrote it with its base_lr, so the warm-up before it ran from 0.01, not 0.1)."""
    _compare(torch, lambda s, o: s.SequentialLR(o, [s.ExponentialLR(o, 0.5), s.MultiplicativeLR(o, lambda e: 0.9)],
                                                milestones=[3]), 8)
    _compare(torch, lambda s, o: s.SequentialLR(o, [s.LinearLR(o, 0.5, total_iters=3), s.CyclicLR(o, 0.01, 0.1, 2)],
                                                milestones=[3]), 9)
    starts = []
    for lib in (gg, torch):  # alone, it sets the group's lr to its base_lr first: that is the initial_lr
        optimizer = _optimizer(lib)
        lib.optim.lr_scheduler.CyclicLR(optimizer, 0.01, 0.1, 2)
        starts.append([group["initial_lr"] for group in optimizer.param_groups])
    assert starts[0] == starts[1] == [0.01, 0.01]


class _Warmup:
    """A callable object with state of its own: a schedule's state dict keeps its attributes, as PyTorch's."""

    def __init__(self, epochs: float) -> None:
        self.epochs = epochs

    def __call__(self, epoch: int) -> float:
        return min(1.0, (epoch + 1) / self.epochs)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["LambdaLR", "MultiplicativeLR", "CyclicLR"])
def test_a_callable_objects_state_is_saved_and_resumed_as_pytorchs(torch, name):
    """Saved with Warmup(4) after 2 steps, resumed into a schedule made with Warmup(10): PyTorch restores the
    object's attributes (epochs = 4), so the resumed lrs are those of Warmup(4); glassgrad kept Warmup(10)'s."""
    def make(lib, epochs):
        optimizer = _optimizer(lib)
        schedules = lib.optim.lr_scheduler
        if name == "CyclicLR":
            return optimizer, schedules.CyclicLR(optimizer, 0.01, 0.1, 3, scale_fn=_Warmup(epochs),
                                                 scale_mode="iterations")
        return optimizer, getattr(schedules, name)(optimizer, _Warmup(epochs))

    found = []
    for lib in (gg, torch):
        optimizer, first = make(lib, 4)
        for _ in range(2):
            optimizer.step()
            first.step()
        saved = first.state_dict()
        optimizer, second = make(lib, 10)
        second.load_state_dict(saved)
        lrs = []
        for _ in range(4):
            optimizer.step()
            second.step()
            lrs.append([group["lr"] for group in optimizer.param_groups])
        found.append(lrs)
    np.testing.assert_allclose(found[0], found[1], rtol=1e-12)


@pytest.mark.torch
def test_chained_matches_pytorch(torch):
    _compare(torch, lambda s, o: s.ChainedScheduler([s.ConstantLR(o, 0.1, 3), s.ExponentialLR(o, 0.9)]), 10)
    _compare(torch, lambda s, o: s.ChainedScheduler([s.MultiStepLR(o, [2, 4]), s.PolynomialLR(o, 6)],
                                                    optimizer=o), 9)


@pytest.mark.parametrize("make", [
    lambda s, o: s.MultiStepLR(o, [2, 5], 0.5), lambda s, o: s.PolynomialLR(o, 4, 2.0),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, 2, 2), lambda s, o: s.CyclicLR(o, 0.01, 0.1, 2),
    lambda s, o: s.ChainedScheduler([s.ConstantLR(o, 0.5, 2), s.ExponentialLR(o, 0.9)]),
])
def test_a_state_dict_round_trip_resumes_the_schedule(make):
    """A schedule saved after 3 steps and loaded into a fresh one (its optimizer's groups restored too) goes on
    with the same lrs as the original."""
    optimizer = _optimizer(gg)
    first = make(gg.optim.lr_scheduler, optimizer)
    for _ in range(3):
        first.step()
    saved, groups = first.state_dict(), [dict(group) for group in optimizer.param_groups]
    after = []
    for _ in range(4):
        first.step()
        after.append(first.get_last_lr())
    other = _optimizer(gg)
    second = make(gg.optim.lr_scheduler, other)
    second.load_state_dict(saved)
    for group, kept in zip(other.param_groups, groups):
        group.update({key: value for key, value in kept.items() if key != "params"})
    resumed = []
    for _ in range(4):
        second.step()
        resumed.append(second.get_last_lr())
    np.testing.assert_allclose(resumed, after, rtol=1e-12)


@pytest.mark.parametrize("make, message", [
    (lambda s, o: s.CyclicLR(o, 0.01, 0.1, mode="sawtooth"), "mode must be 'triangular', 'triangular2'"),
    (lambda s, o: s.ConstantLR(o, factor=1.5), "Invalid factor: 1.5"),
    (lambda s, o: s.MultiplicativeLR(o, 0.9), "lr_lambda must be a function of the epoch"),
    (lambda s, o: s.ChainedScheduler([]), "expects at least one scheduler"),
    (lambda s, o: s.CosineAnnealingWarmRestarts(o, 0), "Invalid T_0"),
])
def test_bad_arguments_are_one_line_errors(make, message):
    with pytest.raises((ValueError, TypeError)) as error:
        make(gg.optim.lr_scheduler, _optimizer(gg))
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step")  # (both warn, for an inner first step)
@pytest.mark.parametrize("make", [
    lambda s, o: s.SequentialLR(o, [s.SequentialLR(o, [s.ConstantLR(o, factor=0.5, total_iters=2),
                                                       s.ExponentialLR(o, gamma=0.9)], milestones=[2]),
                                    s.StepLR(o, step_size=2, gamma=0.1)], milestones=[5]),
    lambda s, o: s.SequentialLR(o, [s.ChainedScheduler([s.ExponentialLR(o, gamma=0.9), s.ConstantLR(o, 0.5, 3)]),
                                    s.StepLR(o, step_size=2, gamma=0.1)], milestones=[5]),
    lambda s, o: s.ChainedScheduler([s.SequentialLR(o, [s.LinearLR(o, 0.2, total_iters=3), s.ExponentialLR(o, 0.8)],
                                                    milestones=[3]), s.ConstantLR(o, 0.5, 4)]),
], ids=["SequentialLR in SequentialLR", "ChainedScheduler in SequentialLR", "SequentialLR in ChainedScheduler"])
def test_schedules_of_schedules_nest_as_pytorchs(torch, make):
    """SequentialLR takes back the first step of the schedules inside the ones it is given, as PyTorch does (the lr
    was twice the base for a nested SequentialLR; a ChainedScheduler inside raised AttributeError)."""
    _compare(torch, make, 12)


@pytest.mark.torch
@pytest.mark.parametrize("make, error", [
    (lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2), s.ReduceLROnPlateau(o)], milestones=[3]), ValueError),
    (lambda s, o: s.ChainedScheduler([s.StepLR(o, 2), s.ReduceLROnPlateau(o)]), ValueError),
    (lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2), o], milestones=[3]), TypeError),
])
def test_a_schedule_of_schedules_refuses_what_it_cannot_step_with_pytorchs_error(torch, make, error):
    """A ReduceLROnPlateau among the schedules raised TypeError, where PyTorch raises ValueError."""
    for library in (torch, gg):
        with pytest.raises(error):
            make(library.optim.lr_scheduler, _optimizer(library))


def _cycled(lib, kind):
    optimizer = _optimizer(lib, kind)
    schedule = lib.optim.lr_scheduler.CyclicLR(optimizer, 0.01, 0.1, step_size_up=3, base_momentum=[0.8, 0.7],
                                               max_momentum=[0.9, 0.95])
    return optimizer, schedule


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_cyclic_momentum_writes_its_bounds_into_the_groups_as_pytorch(torch, kind):
    """With cycle_momentum PyTorch writes max_momentum and base_momentum into every param group (code reads them
    there, as for OneCycleLR); glassgrad wrote only the momentum (or β₁)."""
    found = []
    for lib in (gg, torch):
        optimizer, schedule = _cycled(lib, kind)
        groups = []
        for _ in range(4):
            groups.append([{key: value for key, value in group.items() if key != "params"}
                           for group in optimizer.param_groups])
            optimizer.step()
            schedule.step()
        found.append(groups)
    assert found[0] == found[1]
    assert [group["max_momentum"] for group in found[0][0]] == [0.9, 0.95]


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("first", ["glassgrad", "torch"])
def test_a_cyclic_schedule_resumes_from_either_librarys_state_dict(torch, kind, first):
    """The state dict holds the scale function under PyTorch's key, ``_scale_fn_custom`` (glassgrad saved it as
    ``scale_fn``, and PyTorch's load_state_dict raised KeyError on it); each library resumes from the other's."""
    libraries = {"glassgrad": gg, "torch": torch}
    maker, resumer = libraries[first], libraries["torch" if first == "glassgrad" else "glassgrad"]
    optimizer, schedule = _cycled(maker, kind)
    for _ in range(4):
        optimizer.step()
        schedule.step()
    saved = schedule.state_dict()
    assert set(saved) - {"_get_lr_called_within_step"} == set(_cycled(torch, kind)[1].state_dict()) - {
        "_get_lr_called_within_step"}
    resumed_optimizer, resumed = _cycled(resumer, kind)
    resumed.load_state_dict(dict(saved))
    for _ in range(3):
        for opt, sched in ((optimizer, schedule), (resumed_optimizer, resumed)):
            opt.step()
            sched.step()
        for mine, theirs in zip(optimizer.param_groups, resumed_optimizer.param_groups):
            assert mine["lr"] == theirs["lr"]
            assert mine.get("momentum") == theirs.get("momentum") and mine.get("betas") == theirs.get("betas")
