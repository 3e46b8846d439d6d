"""Training-loop habits from PyTorch code, run on glassgrad: the calls learners write around the update.

Each test here failed before its fix: a keyword PyTorch takes, a warning PyTorch gives, a
name PyTorch has. Numbers are compared with PyTorch 2.13 in float64 where it is installed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def gradients(module, arrays):
    """Leaf tensors of ``module`` (gg or torch) holding ``arrays`` as their ``.grad``."""
    params = [module.zeros(a.shape, dtype=module.float64, requires_grad=True) for a in arrays]
    for param, array in zip(params, arrays):
        param.grad = module.tensor(array)
    return params


@pytest.mark.torch
@given(seed=st.integers(0, 2**16), foreach=st.sampled_from([None, True, False]),
       norm_type=st.sampled_from([1.0, 2.0, 3.0, float("inf")]))
def test_clip_grad_norm_takes_foreach_and_matches_torch(torch, seed, foreach, norm_type):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(3, 4)), rng.normal(size=(5,))]
    ours, theirs = gradients(gg, arrays), gradients(torch, arrays)
    got = gg.nn.utils.clip_grad_norm_(ours, 0.5, norm_type=norm_type, foreach=foreach)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type=norm_type, foreach=foreach)
    np.testing.assert_allclose(got.item(), expected.item(), rtol=1e-12)
    for mine, torch_param in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), torch_param.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_value_takes_foreach_and_matches_torch(torch, foreach):
    arrays = [np.linspace(-2, 2, 12).reshape(3, 4)]
    ours, theirs = gradients(gg, arrays), gradients(torch, arrays)
    gg.nn.utils.clip_grad_value_(ours, 0.7, foreach=foreach)
    torch.nn.utils.clip_grad_value_(theirs, 0.7, foreach=foreach)
    np.testing.assert_array_equal(ours[0].grad.numpy(), theirs[0].grad.numpy())


SCHEDULES = {
    "StepLR": lambda s, o: s.StepLR(o, 2),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, 3),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, 0.1, total_steps=10),
    "CyclicLR": lambda s, o: s.CyclicLR(o, 0.01, 0.1),
    "SequentialLR": lambda s, o: s.SequentialLR(o, [s.ConstantLR(o), s.ExponentialLR(o, 0.9)], [2]),
    "ChainedScheduler": lambda s, o: s.ChainedScheduler([s.ConstantLR(o), s.ExponentialLR(o, 0.9)]),
    "ReduceLROnPlateau": lambda s, o: s.ReduceLROnPlateau(o),
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda epoch: 1.0),
}


def order_warnings(module, schedule, order):
    """The 'scheduler stepped before optimizer' warnings of two scheduler steps taken in ``order``."""
    param = module.zeros(2, requires_grad=True)
    optimizer = module.optim.SGD([param], lr=0.1, momentum=0.9)
    if order == "optimizer_before_the_scheduler_exists":
        param.grad = module.ones(2)
        optimizer.step()
    scheduler = SCHEDULES[schedule](module.optim.lr_scheduler, optimizer)
    param.grad = module.ones(2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if order == "optimizer_first":
            optimizer.step()
        for _ in range(2):
            scheduler.step(1.0) if schedule == "ReduceLROnPlateau" else scheduler.step()
    return [str(w.message) for w in caught if "before `optimizer.step()`" in str(w.message)]


@pytest.mark.torch
@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("order", ["scheduler_first", "optimizer_first", "optimizer_before_the_scheduler_exists"])
def test_scheduler_stepped_before_optimizer_warns_as_torch_does(torch, schedule, order):
    assert len(order_warnings(gg, schedule, order)) == len(order_warnings(torch, schedule, order))


def test_an_optimizer_with_its_own_step_counts_as_stepped():
    class HalfStep(gg.optim.Optimizer):  # a learner's optimizer: its own step, no super().step()
        def __init__(self, params):
            super().__init__(params, {"lr": 0.5})

        def step(self, closure=None):
            for group in self.param_groups:
                for param in group["params"]:
                    param.data -= group["lr"] * param.grad
    param = gg.ones(2, requires_grad=True)
    optimizer = HalfStep([param])
    scheduler = gg.optim.lr_scheduler.StepLR(optimizer, 1)
    param.grad = gg.ones(2)
    optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()
    assert param.tolist() == [0.5, 0.5]
    assert scheduler.get_last_lr() == [0.05]


def test_sparse_adam_is_refused_in_one_line_naming_adam():
    from glassgrad.optim import SparseAdam  # the import works, as PyTorch code writes it

    with pytest.raises(NotImplementedError, match="sparse gradients.*optim.Adam"):
        SparseAdam([gg.zeros(2, requires_grad=True)], lr=0.01)


EPOCH_SCHEDULES = {
    "StepLR": lambda s, o: s.StepLR(o, 3, 0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, [2, 5, 5, 9], 0.3),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, 6, 0.01),
    "LinearLR": lambda s, o: s.LinearLR(o, 0.2, 0.9, 5),
    "ConstantLR": lambda s, o: s.ConstantLR(o, 0.4, 4),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, 7, 1.5),
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda epoch: 0.9 ** epoch),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lambda epoch: 0.95),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, 0.5, total_steps=30),
    "CyclicLR": lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=3),
}


def lrs_stepped_with_epochs(module, schedule, epochs):
    """The lrs after ``optimizer.step(); scheduler.step(epoch)`` for each of ``epochs`` (two groups)."""
    params = [module.ones(2, requires_grad=True), module.ones(2, requires_grad=True)]
    optimizer = module.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.3}], lr=0.1, momentum=0.9)
    scheduler = EPOCH_SCHEDULES[schedule](module.optim.lr_scheduler, optimizer)
    lrs = []
    for epoch in epochs:
        optimizer.step()
        with pytest.warns(UserWarning, match="deprecated"):
            scheduler.step(epoch)
        lrs.append(scheduler.get_last_lr())
        assert scheduler.last_epoch == epoch
    return lrs


@pytest.mark.torch
@pytest.mark.parametrize("schedule", list(EPOCH_SCHEDULES))
@given(epochs=st.lists(st.integers(0, 25), min_size=1, max_size=12))
def test_step_with_an_epoch_warns_and_matches_torch(torch, schedule, epochs):
    expected = lrs_stepped_with_epochs(torch, schedule, epochs)
    np.testing.assert_allclose(lrs_stepped_with_epochs(gg, schedule, epochs), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@given(epochs=st.lists(st.integers(0, 30), min_size=1, max_size=8),
       values=st.lists(st.floats(0.0, 2.0), min_size=8, max_size=8))
def test_plateau_step_with_an_epoch_sets_last_epoch_as_torch(torch, epochs, values):
    def run(module):
        optimizer = module.optim.SGD([module.ones(2, requires_grad=True)], lr=0.1)
        scheduler = module.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
        seen = []
        for epoch, value in zip(epochs, values):
            with pytest.warns(UserWarning, match="deprecated"):
                scheduler.step(value, epoch=epoch)
            seen.append((scheduler.last_epoch, scheduler.get_last_lr()))
        return seen
    assert run(gg) == run(torch)


def heavy_ball(module):
    """A learner's own optimizer, written the PyTorch way: its state starts as ``self.state[p]``, empty."""

    class HeavyBall(module.optim.Optimizer):
        def __init__(self, params, lr=0.1, beta=0.9):
            super().__init__(params, {"lr": lr, "beta": beta})

        def step(self, closure=None):
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    state = self.state[param]
                    if len(state) == 0:  # as PyTorch's own optimizers were written, memory_format and all
                        state["step"] = 0
                        state["velocity"] = module.zeros_like(param, memory_format=module.preserve_format)
                    state["step"] += 1
                    with module.no_grad():
                        state["velocity"].mul_(group["beta"]).add_(param.grad, alpha=1 - group["beta"])
                        param.add_(state["velocity"], alpha=-group["lr"])

    return HeavyBall


@pytest.mark.torch
@given(seed=st.integers(0, 2**16))
def test_an_optimizer_of_ones_own_reads_empty_state_as_in_torch(torch, seed):
    start = np.random.default_rng(seed).normal(size=(2, 3))

    def run(module):
        weight = module.tensor(start, requires_grad=True)
        bias = module.zeros(3, dtype=module.float64, requires_grad=True)
        optimizer = heavy_ball(module)([weight, bias], lr=0.1)
        for step in range(8):
            optimizer.zero_grad()
            loss = ((weight + bias) ** 2).sum() if step % 2 else (weight ** 2).sum()  # bias: no grad on even steps
            loss.backward()
            optimizer.step()
        saved = optimizer.state_dict()["state"]
        return weight.detach().numpy(), bias.detach().numpy(), optimizer.state[weight]["step"], sorted(saved)

    (w_ours, b_ours, steps_ours, saved_ours), (w_torch, b_torch, steps_torch, saved_torch) = run(gg), run(torch)
    np.testing.assert_allclose(w_ours, w_torch, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(b_ours, b_torch, rtol=1e-12, atol=1e-15)
    assert (steps_ours, saved_ours) == (steps_torch, saved_torch)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adamax"])
def test_looking_at_a_parameters_state_before_its_first_step_changes_nothing(torch, name):
    starts = [np.linspace(-1, 1, 6).reshape(2, 3), np.array([0.5, -0.25])]

    def run(module):
        params = [module.tensor(start, requires_grad=True) for start in starts]
        options = {"lr": 0.05, "momentum": 0.9} if name == "SGD" else {"lr": 0.05}
        optimizer = getattr(module.optim, name)(params, **options)
        optimizer.state[params[0]]  # PyTorch's state is a defaultdict(dict): this makes an empty entry
        for _ in range(5):
            optimizer.zero_grad()
            (params[0] ** 2).sum().add((params[1] ** 3).sum()).backward()
            optimizer.step()
        return [p.detach().numpy() for p in params]

    for ours, theirs in zip(run(gg), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like", "clone"])
@pytest.mark.parametrize("layout", ["preserve_format", "contiguous_format"])
def test_tensor_making_functions_take_a_memory_format(torch, name, layout):
    source = gg.tensor(np.arange(6.0).reshape(2, 3))
    made = getattr(gg, name)(source, memory_format=getattr(gg, layout))
    expected = getattr(torch, name)(torch.tensor(np.arange(6.0).reshape(2, 3)), memory_format=getattr(torch, layout))
    assert made.shape == tuple(expected.shape) and made.dtype == np.float64
    if name in ("zeros_like", "ones_like", "clone"):
        np.testing.assert_array_equal(made.numpy(), expected.numpy())
    assert repr(getattr(gg, layout)) == repr(getattr(torch, layout))


def test_a_memory_format_that_is_not_one_is_refused():
    with pytest.raises(TypeError, match="memory_format must be one of"):
        gg.zeros_like(gg.ones(2), memory_format="channels_last")


def hooked_steps(module, optimizer_class):
    """What step pre/post hooks see over three steps, the pre-hook's handle removed after the second."""
    seen = []
    param = module.ones(2, dtype=module.float64, requires_grad=True)
    optimizer = optimizer_class(module)([param], lr=0.1)

    def before(opt, args, kwargs):
        seen.append(("pre", opt is optimizer, len(args), args[0] is optimizer, sorted(kwargs)))

    def after(opt, args, kwargs):
        seen.append(("post", opt is optimizer, round(param.sum().item(), 12)))

    first = optimizer.register_step_pre_hook(before)
    optimizer.register_step_post_hook(after)
    for number in range(3):
        if number == 2:
            first.remove()
        optimizer.zero_grad()
        (param * param).sum().backward()
        optimizer.step()
    return seen


@pytest.mark.torch
@pytest.mark.parametrize("optimizer_class", [lambda m: m.optim.SGD, lambda m: m.optim.Adam, heavy_ball],
                         ids=["SGD", "Adam", "own_step"])
def test_step_hooks_run_as_in_torch(torch, optimizer_class):
    assert hooked_steps(gg, optimizer_class) == hooked_steps(torch, optimizer_class)


@pytest.mark.torch
def test_a_step_pre_hook_can_replace_the_closure(torch):
    def run(module):
        param = module.ones(2, requires_grad=True)
        optimizer = module.optim.SGD([param], lr=0.1)

        def closure():
            optimizer.zero_grad()
            loss = (param * param).sum()
            loss.backward()
            return loss

        optimizer.register_step_pre_hook(lambda opt, args, kwargs: ((opt,), {"closure": closure}))
        loss = optimizer.step()
        return loss.item(), param.tolist()

    assert run(gg) == run(torch)


@pytest.mark.torch
@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_a_schedulers_state_dict_holds_nothing_of_its_optimizer(torch, schedule):
    def keys(module):
        optimizer = module.optim.SGD([module.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
        optimizer.step()
        return {key for key in SCHEDULES[schedule](module.optim.lr_scheduler, optimizer).state_dict()
                if "optimizer" in key}

    assert keys(gg) == keys(torch) == set()
