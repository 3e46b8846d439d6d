"""Every optimizer and scheduler inside a ``gg.compile``d training step, over a dozen calls, against the same step
run eagerly: each loss, weight, ``.grad``, the optimizer's and the scheduler's ``state_dict()`` equal, bit for bit.

Holes found (each test fails on a0c1a64):

* a rate the step's code reads after a ``scheduler.step()`` of its own (``return loss, sched.get_last_lr()``,
  ``loss * opt.param_groups[0]["lr"]``), or after an ``optimizer.step()`` whose post-hook changes it, was guarded
  as the step starts, so a StepLR's halving call (the rate the same as the captures' when the call began) replayed
  the captures' rate, without a word; such a step now runs eagerly, naming it;
* a step pre-hook that changes the gradients (``p.grad.mul_(0.5)``, an unscale) ran outside the optimizer's kernel
  at the captures, its change recorded as a kernel, and again inside the step at each replay: the gradients were
  scaled twice. A plain ``step()`` is now one kernel, hooks and all;
* a learner's optimizer with a ``step`` of its own (counts in its state) ran eagerly (its numbers were the
  captures'); it now replays, as one kernel, as glassgrad's own do;
* (fails on 134a107) a step hook registered after the captures, halving the rate the step reads after its
  ``step()``: the captures had no hook, so the rate was guarded as the step starts, and the first replay with the
  hook returned the captures' rate, without a word; such a program now checks that no hook was added since.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import nn

O, S, U = gg.optim, gg.optim.lr_scheduler, gg.optim.swa_utils
CALLS = 12
BATCHES = [gg.tensor(np.random.RandomState(i).randn(4, 3).astype(np.float32)) for i in range(CALLS + 2)]


def _flat(value, out):
    """Every number in ``value`` (tensors, arrays, dicts, lists), as arrays and reprs, in order."""
    if isinstance(value, gg.Tensor):
        out.append(value.detach().numpy().copy())
    elif isinstance(value, np.ndarray):
        out.append(value.copy())
    elif isinstance(value, dict):
        for key, held in value.items():
            out.append(repr(key))
            _flat(held, out)
    elif isinstance(value, (list, tuple)):
        for held in value:
            _flat(held, out)
    else:
        out.append(repr(value))
    return out


def _same(mine, theirs):
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        if isinstance(a, np.ndarray):
            assert isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
        else:
            assert a == b


def _run(build, between=None, args=lambda i: (BATCHES[i],), calls=CALLS):
    """``build()`` gives ``(step, seen)``, ``seen()`` what to compare after each call; ``between(env, i)`` runs
    before call ``i``. Compares eager's and the compiled step's, call by call; gives the compiled function and the
    warnings it gave."""
    runs = []
    for wrap in (lambda function: function, gg.compile):
        gg.manual_seed(0)
        env = build()
        step = wrap(env["step"])
        trace = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(calls):
                if between is not None:
                    between(env, i)
                trace.append(_flat([step(*args(i)), env["seen"]()], []))
        runs.append((trace, step, [str(w.message) for w in caught]))
    (eager, _, _), (compiled, step, said) = runs
    for mine, theirs in zip(compiled, eager, strict=True):
        _same(mine, theirs)
    return step, said


def _replays(step):
    return sum(entry.replays for entry in step.entries.values())


def _fit(model, optimizer, x):
    """One update of ``model`` on the batch ``x``: its loss."""
    optimizer.zero_grad()
    loss = (model(x) ** 2).mean()
    loss.backward()
    optimizer.step()
    return loss


def _training(make_optimizer, make_schedule=None, inside=True, layer=None):
    """A linear layer (``layer``, or a new one) trained by ``make_optimizer(model)``; the schedule, if any, stepped
    inside the step."""
    def build():
        model = layer or nn.Linear(3, 2)
        optimizer = make_optimizer(model)
        schedule = make_schedule(optimizer) if make_schedule else None

        def step(x):
            loss = _fit(model, optimizer, x)
            if schedule is not None and inside:
                schedule.step()
            return loss

        def seen():
            return [list(model.parameters()), [p.grad for p in model.parameters()], optimizer.state_dict(),
                    schedule.state_dict() if schedule else None]

        return {"step": step, "seen": seen, "model": model, "optimizer": optimizer, "schedule": schedule}

    return build


# --- holes ----------------------------------------------------------------------------------------------------------

def _reading_rate_after_schedule(how):
    def build():
        model = nn.Linear(3, 2)
        optimizer = O.SGD(model.parameters(), lr=0.1, momentum=0.9)
        schedule = S.StepLR(optimizer, step_size=3, gamma=0.5)

        def from_schedule(x):
            loss = _fit(model, optimizer, x)
            schedule.step()
            return loss, schedule.get_last_lr()

        def from_groups(x):
            loss = _fit(model, optimizer, x)
            schedule.step()
            return loss.detach() * optimizer.param_groups[0]["lr"]

        step = {"get_last_lr": from_schedule, "param_groups": from_groups}[how]
        return {"step": step, "seen": lambda: [model.weight, optimizer.state_dict(), schedule.state_dict()]}

    return build


@pytest.mark.parametrize("how", ["get_last_lr", "param_groups"])
def test_a_rate_read_after_the_schedulers_step_inside_the_step_runs_eagerly_naming_it(how):
    """StepLR(3) stepped inside: the rate is the same as each call begins but falls during every third call, which
    a replay returned (or multiplied) as the captures' rate."""
    step, said = _run(_reading_rate_after_schedule(how))
    assert _replays(step) == 0
    assert any("step() inside" in message for message in said)


def test_a_rate_read_after_a_step_whose_post_hook_decays_it_runs_eagerly_naming_it():
    """A warm-up written as a step post-hook halving the rate every third step, the step returning
    ``loss * opt.param_groups[0]["lr"]``: the replays returned the captures' rate at the halving calls."""
    def build():
        model = nn.Linear(3, 2)
        optimizer = O.SGD(model.parameters(), lr=0.1)
        steps = [0]

        def decay(opt, args, kwargs):
            steps[0] += 1
            if steps[0] % 3 == 0:
                for group in opt.param_groups:
                    group["lr"] *= 0.5

        optimizer.register_step_post_hook(decay)

        def step(x):
            return _fit(model, optimizer, x).detach() * optimizer.param_groups[0]["lr"]

        return {"step": step, "seen": lambda: [model.weight, optimizer.state_dict()]}

    step, said = _run(build)
    assert _replays(step) == 0
    assert any("step() inside" in message for message in said)


def _decaying_after(read_rate, later=lambda optimizer, hook: optimizer.register_step_post_hook(hook)):
    """A step returning its loss (times the rate, where ``read_rate``); before call 3, after two captures and a
    replay, ``later(optimizer, hook)`` registers a hook halving the rate at each step."""
    def build():
        model = nn.Linear(3, 2)
        optimizer = O.SGD(model.parameters(), lr=0.1)

        def reading(x):
            return _fit(model, optimizer, x).detach() * optimizer.param_groups[0]["lr"]

        def not_reading(x):
            return _fit(model, optimizer, x).detach()

        return {"step": reading if read_rate else not_reading, "model": model, "optimizer": optimizer,
                "seen": lambda: [model.weight, optimizer.state_dict()]}

    def halve(opt, *args):
        for group in opt.param_groups:
            group["lr"] *= 0.5

    handles = []

    def between(env, i):
        if i == 3:
            handles.append(later(env["optimizer"], halve))
        if i == CALLS - 1:  # left for the next test: a global hook would change every other optimizer
            handles.pop().remove()

    return build, between


@pytest.mark.parametrize("where", ["its own post-hook", "its own pre-hook", "a global post-hook"])
def test_a_step_hook_registered_after_the_captures_changing_a_rate_the_step_reads_ends_the_replays(where):
    """The captures ran ``step()`` with no hook, so the rate read after it was guarded as the step starts; a hook
    registered at call 3 halves it inside the step, and that call's replay returned the loss times the captures'
    rate, without a word. A program whose step has no user's code now checks that no hook was added since."""
    later = {"its own post-hook": lambda optimizer, hook: optimizer.register_step_post_hook(hook),
             "its own pre-hook": lambda optimizer, hook: optimizer.register_step_pre_hook(hook),
             "a global post-hook": lambda optimizer, hook: O.optimizer.register_optimizer_step_post_hook(hook)}[where]
    step, said = _run(*_decaying_after(True, later))
    assert _replays(step) == 1  # call 2; from call 3 the hook decays the rate it reads at each call: eagerly
    assert any("step() inside" in message for message in said)


def test_a_step_hook_registered_later_runs_in_the_replays_of_a_step_that_reads_no_rate():
    """The same hook, where the step reads no rate: the programs replay on, the hook running in ``step()``'s kernel."""
    step, said = _run(*_decaying_after(False))
    assert _replays(step) == CALLS - 2 and not said


def test_a_step_pre_hook_changing_the_gradients_runs_once_per_call():
    """``register_step_pre_hook`` halving each gradient (an unscale, an average over workers): replays halved them
    twice."""
    def build():
        model = nn.Linear(3, 2)
        optimizer = O.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def halve(opt, args, kwargs):
            for param in opt.param_groups[0]["params"]:
                param.grad.mul_(0.5)

        optimizer.register_step_pre_hook(halve)
        return _training(lambda _: optimizer, layer=model)()

    step, said = _run(build)
    assert _replays(step) == CALLS - 2 and not said


class CountingSGD(O.Optimizer):
    """A learner's optimizer with a step of its own: its rate falls with a count kept in its state."""

    def __init__(self, params, lr):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):
        with gg.no_grad():
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    state = self.state[param]
                    state["n"] = state.get("n", 0) + 1
                    param.add_(param.grad, alpha=-group["lr"] / state["n"])


def test_a_learners_optimizer_with_a_step_of_its_own_replays_with_eagers_numbers():
    step, said = _run(_training(lambda model: CountingSGD(model.parameters(), lr=0.1)))
    assert _replays(step) == CALLS - 2 and not said


# --- pinned: what already behaved ----------------------------------------------------------------------------------

OPTIMIZERS = {
    "SGD nesterov": lambda m: O.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "SGD dampening maximize": lambda m: O.SGD(m.parameters(), lr=0.1, momentum=0.9, dampening=0.3, maximize=True),
    "Adam amsgrad": lambda m: O.Adam(m.parameters(), lr=0.01, amsgrad=True, weight_decay=0.1),
    "Adam maximize foreach": lambda m: O.Adam(m.parameters(), lr=0.01, maximize=True, foreach=True),
    "Adam fused": lambda m: O.Adam(m.parameters(), lr=0.01, fused=True),
    "AdamW amsgrad": lambda m: O.AdamW(m.parameters(), lr=0.01, amsgrad=True),
    "RMSprop centered momentum": lambda m: O.RMSprop(m.parameters(), lr=0.01, centered=True, momentum=0.5,
                                                     weight_decay=0.1),
    "Adagrad": lambda m: O.Adagrad(m.parameters(), lr=0.1, lr_decay=0.01, initial_accumulator_value=0.5),
    "Adadelta": lambda m: O.Adadelta(m.parameters(), lr=1.0, weight_decay=0.1),
    "Adamax": lambda m: O.Adamax(m.parameters(), lr=0.01, weight_decay=0.1),
    "NAdam": lambda m: O.NAdam(m.parameters(), lr=0.01, momentum_decay=0.01, decoupled_weight_decay=True,
                               weight_decay=0.1),
    "RAdam (rectified after 5 steps)": lambda m: O.RAdam(m.parameters(), lr=0.01, decoupled_weight_decay=True,
                                                         weight_decay=0.1),
    "ASGD (averages from t0)": lambda m: O.ASGD(m.parameters(), lr=0.01, t0=5, lambd=0.1),
    "Rprop": lambda m: O.Rprop(m.parameters(), lr=0.01),
    "Adafactor": lambda m: O.Adafactor(m.parameters(), lr=0.01),
    "Adam, lr a 0-d tensor": lambda m: O.Adam(m.parameters(), lr=gg.tensor(0.01)),
    "groups": lambda m: O.Adam([{"params": [m.weight], "lr": 0.1, "amsgrad": True},
                                {"params": [m.bias], "weight_decay": 0.1}], lr=0.01),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_each_optimizer_replays_with_eagers_numbers(name):
    step, said = _run(_training(OPTIMIZERS[name]))
    assert _replays(step) == CALLS - 2 and not said


SCHEDULES = {
    "StepLR": lambda o: S.StepLR(o, 3, 0.5),
    "MultiStepLR": lambda o: S.MultiStepLR(o, [2, 5, 7]),
    "PolynomialLR": lambda o: S.PolynomialLR(o, 8, 2.0),
    "ChainedScheduler": lambda o: S.ChainedScheduler([S.StepLR(o, 2), S.ExponentialLR(o, 0.9)]),
    "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, 3, 2),
    "SWALR": lambda o: U.SWALR(o, 0.05, anneal_epochs=3),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("inside", [True, False])
def test_each_schedule_inside_or_outside_the_step_replays_with_eagers_numbers(name, inside):
    between = None if inside else (lambda env, i: env["schedule"].step() if i else None)
    step, said = _run(_training(lambda m: O.Adam(m.parameters(), lr=0.01), SCHEDULES[name], inside), between)
    assert _replays(step) == CALLS - 2 and not said


def test_a_tensor_lr_filled_in_place_between_calls_is_read_at_each_replay():
    def between(env, i):
        env["optimizer"].param_groups[0]["lr"].fill_(0.1 / (i + 1))

    step, _ = _run(_training(lambda m: O.SGD(m.parameters(), lr=gg.tensor(0.1), momentum=0.9)), between)
    assert _replays(step) == CALLS - 2


FACTOR = 1.0
"""Read by a LambdaLR's lambda, and by an average's avg_fn, and changed between calls."""


def _set_factor(value):
    global FACTOR
    FACTOR = value


def _lambda_schedule(optimizer):
    _set_factor(1.0)
    return S.LambdaLR(optimizer, lambda epoch: FACTOR * 0.9 ** epoch)


def test_a_lambda_schedule_reading_a_global_changed_between_calls_replays_it():
    step, _ = _run(_training(lambda m: O.SGD(m.parameters(), lr=0.1), _lambda_schedule),
                   lambda env, i: _set_factor(1.0 / (1 + i)))
    assert _replays(step) == CALLS - 2


@pytest.mark.parametrize("name", ["Adam", "RMSprop", "ASGD", "RAdam", "Rprop"])
def test_the_optimizers_state_loaded_between_calls_is_the_one_replays_update(name):
    def between(env, i):
        if i == 3:
            env["saved"] = copy.deepcopy(env["optimizer"].state_dict())
        if i in (7, 10):
            env["optimizer"].load_state_dict(env["saved"])

    step, _ = _run(_training(lambda m: getattr(O, name)(m.parameters(), lr=0.01)), between)
    assert _replays(step) >= CALLS - 4


def test_state_entries_zeroed_reassigned_or_cleared_between_calls():
    def between(env, i):
        state = env["optimizer"].state
        if i in (5, 8):
            for entries in state.values():
                entries["exp_avg"].zero_()
        if i == 9:
            for entries in state.values():
                entries["exp_avg_sq"] = gg.ones_like(entries["exp_avg_sq"])
        if i == 10:
            state.clear()

    step, _ = _run(_training(lambda m: O.Adam(m.parameters(), lr=0.01)), between)
    assert _replays(step) == CALLS - 2


@pytest.mark.parametrize("name", ["Adam", "SGD", "Rprop", "ASGD", "Adadelta"])
def test_a_branch_used_at_some_calls_leaves_its_parameters_without_grad_as_eager_does(name):
    """A head used only when the bool argument says so: its parameters' ``.grad`` is None at the other calls, which
    the optimizer skips (a key of its own)."""
    def build():
        model, head = nn.Linear(3, 2), nn.Linear(2, 2)
        optimizer = getattr(O, name)([*model.parameters(), *head.parameters()], lr=0.01)

        def step(x, use_head):
            optimizer.zero_grad()
            y = model(x)
            if use_head:
                y = head(y)
            loss = (y ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss

        return {"step": step, "seen": lambda: [list(head.parameters()), [p.grad for p in head.parameters()],
                                               model.weight, optimizer.state_dict()]}

    step, _ = _run(build, args=lambda i: (BATCHES[i % 7], i % 3 != 0), calls=14)
    assert _replays(step) == 14 - 4


def test_a_group_added_between_calls_is_updated_by_the_replays():
    def build():
        env = _training(lambda m: O.Adam(m.parameters(), lr=0.01))()
        extra = gg.zeros(2, requires_grad=True)
        model, optimizer = env["model"], env["optimizer"]

        def step(x):
            optimizer.zero_grad()
            loss = (model(x) ** 2).mean() + (extra * model(x)).sum()
            loss.backward()
            optimizer.step()
            return loss

        return env | {"step": step, "extra": extra, "seen": lambda: [extra, optimizer.state_dict()]}

    def between(env, i):
        if i == 6:
            env["optimizer"].add_param_group({"params": [env["extra"]], "lr": 0.5})

    step, _ = _run(build, between)
    assert _replays(step) == CALLS - 2


def test_zero_grad_to_zeros_clipping_and_a_counting_hook_replay():
    def build():
        model = nn.Linear(3, 2)
        optimizer = O.NAdam(model.parameters(), lr=0.01)
        counted = [0]
        optimizer.register_step_post_hook(lambda opt, args, kwargs: counted.__setitem__(0, counted[0] + 1))

        def step(x):
            optimizer.zero_grad(set_to_none=False)
            loss = (model(x) ** 2).mean()
            loss.backward()
            norm = gg.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            optimizer.step()
            return loss, norm

        return {"step": step, "seen": lambda: [list(model.parameters()), [p.grad for p in model.parameters()],
                                               optimizer.state_dict(), counted[0]]}

    step, said = _run(build)
    assert _replays(step) == CALLS - 2 and not said


@pytest.mark.parametrize("average", ["avg_fn", "ema multi_avg_fn"])
def test_an_averaged_model_updated_in_the_step_replays(average):
    def build():
        _set_factor(0.5)
        env = _training(lambda m: O.SGD(m.parameters(), lr=0.1))()
        model, optimizer = env["model"], env["optimizer"]
        averaged = (U.AveragedModel(model, avg_fn=lambda a, b, n: a * FACTOR + b * (1 - FACTOR))
                    if average.startswith("avg_fn") else U.AveragedModel(model, multi_avg_fn=U.get_ema_multi_avg_fn()))

        def step(x):
            loss = _fit(model, optimizer, x)
            averaged.update_parameters(model)
            return loss

        return env | {"step": step, "seen": lambda: [averaged.state_dict(), model.weight]}

    step, said = _run(build)
    assert _replays(step) == CALLS - 2 and not said


def test_a_plateau_schedule_given_the_loss_inside_and_lbfgs_run_eagerly_saying_why():
    def plateau():
        env = _training(lambda m: O.SGD(m.parameters(), lr=0.1))()
        model, optimizer = env["model"], env["optimizer"]
        schedule = S.ReduceLROnPlateau(optimizer, patience=1)

        def step(x):
            loss = _fit(model, optimizer, x)
            schedule.step(loss)
            return loss

        return env | {"step": step, "seen": lambda: [model.weight, schedule.state_dict()]}

    def lbfgs():
        model = nn.Linear(3, 2)
        optimizer = O.LBFGS(model.parameters(), lr=0.5, max_iter=3)

        def step(x):
            def closure():
                optimizer.zero_grad()
                loss = (model(x) ** 2).mean()
                loss.backward()
                return loss

            return optimizer.step(closure)

        return {"step": step, "seen": lambda: [model.weight, optimizer.state_dict()]}

    for build, words in ((plateau, "scheduler's step given a value"), (lbfgs, "LBFGS.step(closure)")):
        step, said = _run(build, calls=6)
        assert _replays(step) == 0 and any(words in message for message in said)
