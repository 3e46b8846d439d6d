"""A learning-rate scheduler's step and ``AveragedModel.update_parameters`` inside a ``gg.compile``d step: each
replayed as one kernel, as the optimizer's step is.

The oracle is the same step run eagerly: every loss, weight, average and lr equal, bit for bit, call by call.
Before, either inside the step made the whole step run eagerly (a warning said to move it out); PyTorch users write
them there (OneCycleLR and warm-ups are stepped once per batch, an EMA of the weights updated after every
optimizer step), so now they replay: each replay runs their Python again, as eager does.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

S = gg.optim.lr_scheduler
CALLS = 12


class WarmupCosine(S.LRScheduler):
    """A user's schedule that defines get_lr only (the UvA tutorials' ``CosineWarmupScheduler``)."""

    def __init__(self, optimizer, warmup, total):
        self.warmup, self.total = warmup, total
        super().__init__(optimizer)

    def get_lr(self):
        epoch = self.last_epoch
        factor = 0.5 * (1 + np.cos(np.pi * epoch / self.total))
        if epoch <= self.warmup:
            factor *= epoch / self.warmup
        return [base * factor for base in self.base_lrs]


class HalvingEveryThird(S.LRScheduler):
    """A user's schedule that writes its own step (no super().step()): its Python must run at every replay."""

    def __init__(self, optimizer):
        self.calls = 0
        super().__init__(optimizer)

    def get_lr(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self):
        self.calls += 1
        if self.calls % 3 == 0:
            for group in self.optimizer.param_groups:
                group["lr"] = group["lr"] / 2


SCHEDULES = {
    "StepLR": lambda opt: S.StepLR(opt, step_size=2, gamma=0.5),
    "OneCycleLR": lambda opt: S.OneCycleLR(opt, max_lr=0.05, total_steps=CALLS + 1),
    "CosineAnnealingWarmRestarts": lambda opt: S.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2),
    "CyclicLR": lambda opt: S.CyclicLR(opt, base_lr=0.001, max_lr=0.05, step_size_up=3),
    "SequentialLR": lambda opt: S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.1, total_iters=4),
                                                     S.ExponentialLR(opt, gamma=0.8)], milestones=[4]),
    "ChainedScheduler": lambda opt: S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=3),
                                                       S.ExponentialLR(opt, gamma=0.9)]),
    "LambdaLR": lambda opt: S.LambdaLR(opt, lambda epoch: 0.9 ** epoch),
    "user get_lr": lambda opt: WarmupCosine(opt, warmup=3, total=CALLS),
    "user step": HalvingEveryThird,
}


def _run(wrap, schedule, dtype, optimizer="adam"):
    gg.manual_seed(0)
    model = gg.nn.Sequential(gg.nn.Linear(3, 4), gg.nn.Tanh(), gg.nn.Linear(4, 2)).to(dtype)
    opt = (gg.optim.Adam(model.parameters(), lr=0.01) if optimizer == "adam"
           else gg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True))
    scheduler = SCHEDULES[schedule](opt)
    rng = np.random.default_rng(1)

    def step(x, y):
        opt.zero_grad()
        loss = gg.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        scheduler.step()
        return loss.detach()

    step = wrap(step)
    seen = []
    for _ in range(CALLS):
        x = gg.tensor(rng.standard_normal((5, 3)).astype(dtype.name if hasattr(dtype, "name") else "float64"))
        x = x.to(dtype)
        y = gg.tensor(rng.standard_normal((5, 2))).to(dtype)
        seen.append(step(x, y).numpy().copy())
        seen.append(np.array(opt.param_groups[0]["lr"], dtype=np.float64))
        seen += [p.detach().numpy().copy() for p in model.parameters()]
    return seen, step


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("dtype", [gg.float32, gg.float64])
@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_a_scheduler_stepped_in_the_step_replays_with_eagers_numbers(schedule, dtype, optimizer):
    eager, _ = _run(lambda step: step, schedule, dtype, optimizer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "running it eagerly"
        compiled, step = _run(gg.compile, schedule, dtype, optimizer)
    for mine, theirs in zip(compiled, eager, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert sum(entry.replays for entry in step.entries.values()) == CALLS - 2  # two captures, then replays only


def test_the_program_lists_the_schedulers_step_as_a_call():
    _, step = _run(gg.compile, "OneCycleLR", gg.float64)
    listing = step.explain()
    assert "Adam.step " in listing and "OneCycleLR.step  " in listing and "η ← the schedule's next lr" in listing


@pytest.mark.filterwarnings(r"ignore:scheduler.step\(epoch\) is deprecated")
@pytest.mark.parametrize("how", ["plateau", "epoch"])
def test_a_step_given_a_value_still_runs_eagerly_saying_why(how):
    """``ReduceLROnPlateau.step(loss)`` reads the loss's value and ``step(epoch)`` a Python number: Python a replay
    would not run, so the step runs eagerly (eager's numbers), with the fix named."""
    def run(wrap):
        w = gg.tensor([1.0, -2.0], requires_grad=True)
        opt = gg.optim.SGD([w], lr=0.1)
        scheduler = (S.ReduceLROnPlateau(opt, patience=0, factor=0.5) if how == "plateau"
                     else S.StepLR(opt, step_size=1, gamma=0.5))

        def step(x, epoch):
            opt.zero_grad()
            loss = (w * x).sum()
            loss.backward()
            opt.step()
            if how == "plateau":
                scheduler.step(loss)
            else:
                scheduler.step(epoch)
            return loss.detach()

        step = wrap(step)
        for call in range(5):
            step(gg.tensor([1.0, 0.5]), call)
        return w.detach().numpy().copy(), opt.param_groups[0]["lr"]

    eager = run(lambda step: step)
    with pytest.warns(UserWarning, match=r"scheduler's step given a value .* call it outside the compiled function"):
        compiled = run(gg.compile)
    np.testing.assert_array_equal(compiled[0], eager[0])
    assert compiled[1] == eager[1]


def test_the_schedules_warnings_still_name_the_callers_line():
    """The step is wrapped (to be captured whole): its warnings still point at the line that called it."""
    w = gg.zeros(2, requires_grad=True)
    opt = gg.optim.SGD([w], lr=0.1)
    schedule, plateau = S.StepLR(opt, step_size=1), S.ReduceLROnPlateau(opt)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schedule.step()  # before optimizer.step(): PyTorch's warning
        schedule.step(3)  # deprecated
        plateau.step(1.0, 2)  # deprecated
    assert [message.filename for message in caught] == [__file__] * 3


AVERAGES = {
    "SWA mean": lambda model: gg.optim.swa_utils.AveragedModel(model),
    "EMA (multi_avg_fn)": lambda model: gg.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=gg.optim.swa_utils.get_ema_multi_avg_fn(0.9)),
    "EMA (avg_fn)": lambda model: gg.optim.swa_utils.AveragedModel(
        model, avg_fn=gg.optim.swa_utils.get_ema_avg_fn(0.8)),
    "user avg_fn": lambda model: gg.optim.swa_utils.AveragedModel(
        model, avg_fn=lambda kept, new, count: kept + (new - kept) / (count + 1)),
    "with buffers": lambda model: gg.optim.swa_utils.AveragedModel(model, use_buffers=True),
}


@pytest.mark.parametrize("dtype", [gg.float32, gg.float64])
@pytest.mark.parametrize("average", sorted(AVERAGES))
def test_an_average_of_the_weights_updated_in_the_step_replays_with_eagers_numbers(average, dtype):
    def run(wrap):
        gg.manual_seed(0)
        model = gg.nn.Sequential(gg.nn.Linear(3, 4), gg.nn.BatchNorm1d(4), gg.nn.ReLU(), gg.nn.Linear(4, 2)).to(dtype)
        opt = gg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        averaged = AVERAGES[average](model)
        swa_schedule = gg.optim.swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=4)
        rng = np.random.default_rng(2)

        def step(x, y):
            opt.zero_grad()
            loss = gg.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            averaged.update_parameters(model)
            swa_schedule.step()
            return loss.detach()

        step = wrap(step)
        seen = []
        for _ in range(CALLS):
            x, y = (gg.tensor(rng.standard_normal(shape)).to(dtype) for shape in ((6, 3), (6, 2)))
            seen.append(step(x, y).numpy().copy())
            seen += [t.detach().numpy().copy() for t in (*averaged.parameters(), *averaged.buffers())]
            seen.append(np.array(opt.param_groups[0]["lr"]))
        return seen, step

    eager, _ = run(lambda step: step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled, step = run(gg.compile)
    for mine, theirs in zip(compiled, eager, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert sum(entry.replays for entry in step.entries.values()) == CALLS - 2


def test_a_step_that_binds_what_it_reads_anew_names_it_when_it_gives_up():
    """A functional step (``torch.func`` style) that puts new tensors in a dict it reads from outside: the two
    captures read other arrays, and the message blamed "an array made outside glassgrad's ops … drawn by NumPy's
    random functions?"; it now names the dict, and the fix. The numbers are eager's."""
    def run(wrap):
        gg.manual_seed(0)
        model = gg.nn.Linear(3, 2)
        params = {name: p.detach() for name, p in model.named_parameters()}

        def loss_of(weights, x, y):
            return gg.nn.functional.mse_loss(gg.func.functional_call(model, weights, (x,)), y)

        def step(x, y):
            grads = gg.func.grad(loss_of)(params, x, y)
            for name in params:
                params[name] = params[name] - 0.1 * grads[name]
            return grads["weight"]

        step = wrap(step)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            seen = [step(gg.ones(4, 3) * i, gg.zeros(4, 2)).numpy().copy() for i in range(6)]
        return seen + [p.numpy() for p in params.values()], [str(w.message) for w in caught]

    eager, _ = run(lambda step: step)
    compiled, messages = run(gg.compile)
    for mine, theirs in zip(compiled, eager, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert len(messages) == 1 and "'params', which the step reads from outside it, held something new" in messages[0]
