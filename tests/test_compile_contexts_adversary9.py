"""Contexts, modes and autograd's extension points inside a ``gg.compile``d training step and around a compiled model,
over calls whose batches change: mixed precision's GradScaler (an inf at one call: the step skipped, the scale
halved), grad modes, anomaly detection, custom ``autograd.Function``s, hooks registered between calls, clipping that
refuses a NaN, gradient accumulation, random streams forked or passed.

Two kinds of holes were found: anomaly detection switched on *inside* the step (``with detect_anomaly():`` around
``loss.backward()``, or ``set_detect_anomaly(flag)`` with a flag that turns on) was captured and replayed without its
NaN checks, so a NaN at a later call trained on where eager stops; and a process-wide switch the step flips for good
(``gg.set_grad_enabled(False)`` called, not a with-block; ``set_detect_anomaly(True)``, ``set_default_dtype``,
``use_deterministic_algorithms``) was flipped on the capture calls only, so after a replay the user's code went on
with the switch as it was. Both now run eagerly, saying why. The oracle is the same step run eagerly on an identical
copy of the state: every returned value, weight, ``.grad``, optimizer and scaler state and the Python state the user
sees equal, bit for bit (an error: the same error at the same call). The cases that already behaved are pinned.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_compile_guards_adversary2 import _assert_same, _fit, _plain

import glassgrad as gg
from glassgrad.utils.checkpoint import checkpoint

nn = gg.nn
F = nn.functional
CALLS = 10


def _batches(count: int) -> list[tuple[gg.Tensor, gg.Tensor]]:
    rng = np.random.default_rng(0)
    return [(gg.tensor(rng.standard_normal((4, 3)).astype(np.float32)),
             gg.tensor(rng.standard_normal((4, 2)).astype(np.float32))) for _ in range(count)]


def _poisoned(batches: list, at: int, value: float) -> Callable[[int], tuple]:
    """The arguments of call ``number``: its batch, with ``x`` times ``value`` (inf, NaN) at call ``at``."""
    def arguments(number):
        x, y = batches[number]
        return (x * value if number == at else x), y
    return arguments


def _net() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def _setup() -> tuple[nn.Module, gg.optim.SGD, list]:
    """A small net, its SGD optimizer and the batches of the calls."""
    model = _net()
    return model, gg.optim.SGD(model.parameters(), lr=0.1), _batches(CALLS)


def _backward(optimizer: gg.optim.Optimizer, out: gg.Tensor, y: gg.Tensor) -> gg.Tensor:
    """Gradients of the MSE of ``out`` (zeroed first); the loss."""
    optimizer.zero_grad()
    loss = F.mse_loss(out, y)
    loss.backward()
    return loss


def _weights(model: nn.Module) -> list:
    return [[p for p in model.parameters()], [p.grad for p in model.parameters()]]


def _same_as_eager(make: Callable, calls: int = CALLS, model: bool = False) -> tuple[Any, list[str]]:
    """``make()`` gives ``(step, state, arguments)``: the step, a function giving the state it touches, and one giving
    the call's arguments from its number (run before the call: it may change what the step reads). Run eagerly and
    compiled from the same seed; every result (an error: its text) and the state equal, bit for bit. ``model=True``:
    ``make(wrap)`` compiles its model with ``wrap`` and the step is called as it is. Gives the compiled function and
    the warnings of the compiled run that the eager run did not give."""
    runs = []
    for compiled in (False, True):
        gg.manual_seed(0)
        wrap = gg.compile if compiled else (lambda function: function)
        step, state, arguments = make(wrap) if model else make()
        run = step if model else wrap(step)
        results = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for number in range(calls):
                try:
                    results.append(_plain(run(*arguments(number))))
                except RuntimeError as error:
                    results.append(f"{type(error).__name__}: {error}")
        runs.append((results, _plain(state()), run, [str(warning.message) for warning in caught]))
    (eager, eager_state, _, eager_messages), (results, state, run, messages) = runs
    _assert_same(eager, results, "results")
    _assert_same(eager_state, state, "state")
    return run, [message for message in messages if message not in eager_messages]


def _counts(run: Any) -> tuple[int, int]:
    entries = getattr(run, "entries", {}).values()
    return sum(entry.captures for entry in entries), sum(entry.replays for entry in entries)


def _replayed(make: Callable, calls: int = CALLS) -> None:
    run, messages = _same_as_eager(make, calls)
    assert messages == []
    assert _counts(run)[1] > 0


def _eager_saying(make: Callable, *named: str, calls: int = CALLS) -> Any:
    run, messages = _same_as_eager(make, calls)
    assert len(messages) == 1 and all(name in messages[0] for name in named), messages
    return run


# --- anomaly detection switched on inside the step ------------------------------------------------------------------

ANOMALY_ON = [False]


def _anomaly_block(how: str) -> Any:
    if how == "detect_anomaly":
        return gg.autograd.detect_anomaly()
    return gg.autograd.set_detect_anomaly(ANOMALY_ON[0])


@pytest.mark.parametrize("how", ["detect_anomaly", "set_detect_anomaly(flag)"])
def test_anomaly_detection_inside_the_step_stops_a_later_nan_as_eager_does(how: str) -> None:
    """Its NaN checks are Python: a replay skipped them, and call 6's NaN trained the weights to NaN where eager
    raises ``backward made NaN`` and leaves them as they were."""
    def make():
        model, optimizer, batches = _setup()

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            with _anomaly_block(how):
                loss.backward()
            optimizer.step()
            return loss.detach()

        poisoned = _poisoned(batches, 6, float("nan"))

        def arguments(number):
            ANOMALY_ON[0] = number >= 3  # the flag turns on at call 3 (the guard on it captures again)
            return poisoned(number)
        return step, lambda: _weights(model), arguments

    try:
        run, messages = _same_as_eager(make)
    finally:
        ANOMALY_ON[0] = False
    assert messages and "anomaly detection is on in its backward" in messages[0], messages
    assert not gg.is_anomaly_enabled()
    assert _counts(run)[1] <= 2  # the calls before the flag turned on may replay (no checks there)


class _MaskedRoot(nn.Module):
    """√relu(fc(x) − shift), masked to 0 where ``shift`` is large: there ∂L/∂out is 0 at √0, so sqrt's rule makes NaN
    (0·∞), which relu's rule then drops: the weights' gradients stay finite, and only anomaly detection sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 4)

    def forward(self, x, shift):
        return (self.fc(x) - shift).relu().sqrt() * (shift < 50)


def test_anomaly_detection_around_the_backward_of_a_compiled_model_checks_its_replayed_rules() -> None:
    """The forward replays with the mode off; ``backward()`` then runs inside ``detect_anomaly()``. The node's rule
    replayed the captured walk unchecked: eager stops at call 5 with 'the rule of sqrt gave NaN', the compiled model
    went on (the NaN dropped on the way). Each replayed rule's gradients are now checked while the mode is on."""
    outcomes = []
    for compiled in (False, True):
        gg.manual_seed(0)
        model = _MaskedRoot()
        run = gg.compile(model) if compiled else model
        seen = []
        for number, (x, _) in enumerate(_batches(8)):
            out = run(x, gg.tensor(100.0 if number == 5 else 0.0))
            try:
                with gg.autograd.detect_anomaly():
                    out.sum().backward()
                seen.append([p.grad.array.copy() for p in model.parameters()])
            except RuntimeError as error:
                seen.append(str(error).split("; there")[0])
            model.zero_grad()
        outcomes.append(seen)
    eager, compiled = outcomes
    assert isinstance(eager[5], str) and eager[5].startswith("backward made NaN: the rule of 'sqrt'")
    _assert_same(eager, compiled)
    assert sum(entry.replays for entry in run._compiled.entries.values()) > 0


# --- a process-wide switch the step flips for good ------------------------------------------------------------------

SWITCHES = {  # flip inside the step, put back between calls (the user's own code), read back; the warning names
    "grad mode": (lambda: gg.set_grad_enabled(False), lambda: gg.set_grad_enabled(True), gg.is_grad_enabled),
    "anomaly detection": (lambda: gg.autograd.set_detect_anomaly(True), lambda: gg.autograd.set_detect_anomaly(False),
                           gg.is_anomaly_enabled),
    "default dtype": (lambda: gg.set_default_dtype(gg.float64), lambda: gg.set_default_dtype(gg.float32),
                          lambda: str(gg.get_default_dtype())),
    "'deterministic'": (lambda: gg.use_deterministic_algorithms(True),
                                     lambda: gg.use_deterministic_algorithms(False),
                                     gg.are_deterministic_algorithms_enabled),
}


@pytest.mark.parametrize("switch", sorted(SWITCHES))
def test_a_switch_the_step_leaves_flipped_is_flipped_at_every_call(switch: str) -> None:
    """``gg.set_grad_enabled(False)`` called (not a with-block) at the end of a step: a replay ran no Python, so after
    it grad mode was still on, where eager leaves it off (the user's next ops built a graph). The same for the other
    process-wide switches. Now such a step runs eagerly, naming the switch."""
    flip, put_back, read = SWITCHES[switch]

    def make():
        put_back()
        model = _net()
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
        batches, seen = _batches(CALLS), []

        def step(x, y):
            loss = _backward(optimizer, model(x), y)
            optimizer.step()
            flip()
            return loss.detach()

        def arguments(number):
            seen.append(read())  # what the previous call left
            put_back()
            return batches[number]
        return step, lambda: [_weights(model), seen, read()], arguments

    try:
        _eager_saying(make, "switched", switch)
    finally:
        SWITCHES[switch][1]()


def test_an_evaluation_step_that_switches_grad_off_for_good_replays_once_it_is_off() -> None:
    """The first call leaves grad mode off (it runs eagerly, saying so); the calls after it find it off, leave it off,
    and replay."""
    def make():
        gg.set_grad_enabled(True)
        model = _net()
        batches = _batches(CALLS)

        def step(x, y):
            gg.set_grad_enabled(False)
            return F.mse_loss(model(x), y), gg.is_grad_enabled()
        return step, lambda: [_weights(model), gg.is_grad_enabled()], lambda number: batches[number]

    try:
        run, messages = _same_as_eager(make)
    finally:
        gg.set_grad_enabled(True)
    assert len(messages) <= 1 and _counts(run)[1] > 0


# --- pinned: what already behaved -----------------------------------------------------------------------------------

@pytest.mark.parametrize("what", ["the step", "the model"])
def test_grad_scaler_with_an_inf_batch_skips_the_step_and_halves_the_scale_as_eager(what: str) -> None:
    """The scale depends on whether call 5's gradients were finite: a compiled step runs eagerly, saying so; a compiled
    model replays its forward and backward, and the scaler, outside it, decides as eager does."""
    def make(wrap=None):
        model = _net()
        forward = model if wrap is None else wrap(model)
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
        scaler = gg.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=3)

        def step(x, y):
            optimizer.zero_grad()
            with gg.autocast("cpu", dtype=gg.bfloat16):
                loss = F.mse_loss(forward(x), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            return loss.detach(), scaler.get_scale()
        return step, lambda: [_weights(model), scaler.state_dict()], _poisoned(_batches(CALLS), 5, float("inf"))

    with np.errstate(invalid="ignore"):
        if what == "the step":
            _eager_saying(make, "GradScaler")
        else:
            assert _same_as_eager(make, model=True)[1] == []


FLAG = [True]


@pytest.mark.parametrize("how", ["global", "argument"])
def test_set_grad_enabled_by_a_flag_that_changes_between_calls(how: str) -> None:
    def make():
        model, optimizer, batches = _setup()

        def step(x, y, train=None):
            optimizer.zero_grad()
            with gg.set_grad_enabled(FLAG[0] if train is None else train):
                loss = F.mse_loss(model(x), y)
            if loss.requires_grad:
                loss.backward()
                optimizer.step()
            return loss.detach(), loss.requires_grad

        def arguments(number):
            FLAG[0] = number % 3 != 0
            return (*batches[number], *([] if how == "global" else [number % 3 != 0]))
        return step, lambda: _weights(model), arguments

    try:
        _replayed(make)
    finally:
        FLAG[0] = True


def test_no_grad_and_inference_mode_evaluations_inside_a_training_step() -> None:
    def make():
        model, optimizer, batches = _setup()

        def step(x, y):
            loss = _backward(optimizer, model(x), y)
            optimizer.step()
            with gg.inference_mode():
                after = model(x).sum()
            with gg.no_grad():
                mean = model(x * 2).mean()
            return loss.detach(), after, mean, after.requires_grad
        return step, lambda: _weights(model), lambda number: batches[number]

    _replayed(make)


def test_train_and_eval_switched_inside_the_step() -> None:
    def make():
        model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2))
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
        batches = _batches(CALLS)

        def step(x, y):
            model.train()
            loss = _backward(optimizer, model(x), y)
            optimizer.step()
            model.eval()
            with gg.no_grad():
                check = model(x).sum()
            return loss.detach(), check
        return step, lambda: [_weights(model), model.training, model[1].training], lambda number: batches[number]

    _replayed(make)


SCALE = [1.0]


class _ScaledByValue(gg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.scale = float(x.sum())  # value dependent
        ctx.save_for_backward(x)
        return x * ctx.scale

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale * SCALE[0]  # and a global changed between calls


def test_a_custom_function_with_value_dependent_ctx_runs_eagerly_saying_so() -> None:
    def make():
        model = _net()
        optimizer = gg.optim.SGD(model.parameters(), lr=0.01)
        batches = _batches(CALLS)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(_ScaledByValue.apply(model(x)), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        def arguments(number):
            SCALE[0] = 1.0 + number
            return batches[number]
        return step, lambda: _weights(model), arguments

    _eager_saying(make, "_ScaledByValue")


@pytest.mark.parametrize("hook", ["forward hook", "parameter hook", "full backward hook"])
def test_a_hook_registered_between_calls_runs_from_then_on(hook: str) -> None:
    def make():
        model = _net()
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
        batches, counted, handles = _batches(CALLS), [0], []

        def count(*_):
            counted[0] += 1

        def register():
            if hook == "forward hook":
                return model[1].register_forward_hook(lambda module, args, out: (count(), out * 2)[1])
            if hook == "parameter hook":
                return model[0].weight.register_hook(lambda grad: (count(), grad * 0.5)[1])
            return model[2].register_full_backward_hook(lambda module, grad_in, grad_out: count())

        def step(x, y):
            return _fit(optimizer, model(x), y)

        def arguments(number):
            if number == 4:
                handles.append(register())
            if number == 7:
                handles.pop().remove()
            return batches[number]
        return step, lambda: [_weights(model), counted[0]], arguments

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a full backward hook's own warning, in both runs
        run, messages = _same_as_eager(make)
    assert len(messages) == 1 and "hook" in messages[0], messages


def test_optimizer_step_hooks_registered_between_calls_run_at_every_step() -> None:
    def make():
        model = _net()
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
        batches, steps = _batches(CALLS), [0]

        def step(x, y):
            return _fit(optimizer, model(x), y)

        def arguments(number):
            if number == 4:
                optimizer.register_step_post_hook(lambda *_: steps.__setitem__(0, steps[0] + 1))
            if number == 5:
                optimizer.register_step_pre_hook(lambda *_: [p.grad.mul_(0.5) for p in model.parameters()] and None)
            return batches[number]
        return step, lambda: [_weights(model), steps[0]], arguments

    _replayed(make)


@pytest.mark.parametrize("clip", ["norm", "value"])
def test_clipping_with_a_nan_at_call_7(clip: str) -> None:
    def make():
        model, optimizer, batches = _setup()

        def step(x, y):
            loss = _backward(optimizer, model(x), y)
            if clip == "norm":
                norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5, error_if_nonfinite=True)
            else:
                norm = nn.utils.clip_grad_value_(model.parameters(), 0.1)
            optimizer.step()
            return loss.detach(), norm
        return step, lambda: _weights(model), _poisoned(batches, 7, float("nan"))

    _replayed(make)


@pytest.mark.parametrize("how", ["i % 4, set_to_none=False", "last flag, grad = None"])
def test_gradient_accumulation_by_an_argument(how: str) -> None:
    def make():
        model = _net()
        optimizer = gg.optim.Adam(model.parameters(), lr=0.1)
        batches = _batches(16)

        def step(x, y, position):
            loss = F.mse_loss(model(x), y) / 4
            loss.backward()
            if position in (3, True):
                optimizer.step()
                if position is True:
                    for p in model.parameters():
                        p.grad = None
                else:
                    optimizer.zero_grad(set_to_none=False)
            return loss.detach()

        def arguments(number):
            return (*batches[number], number % 4 if how.startswith("i") else (number + 1) % 4 == 0)
        return step, lambda: [_weights(model), optimizer.state_dict()], arguments

    _replayed(make, calls=16)


def test_a_full_backward_hook_leaves_no_tensor_hook_behind_so_a_compiled_model_still_replays() -> None:
    """A full backward hook's watch kept the watched input, and the hook on that input held the watch: the input (and
    its graph) stayed in the global table of tensor hooks for good, so every compiled model of the process after one
    such backward ran eagerly ("a tensor hook is registered"), and eager training leaked a graph per step."""
    model = _net()
    seen = []
    handle = model[2].register_full_backward_hook(lambda module, grad_in, grad_out: seen.append(grad_in[0].shape))
    for x, y in _batches(2):
        F.mse_loss(model(x), y).backward()
    handle.remove()
    assert seen == [(4, 4)] * 2

    def make(wrap):
        model = _net()
        compiled = wrap(model)
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
        batches = _batches(CALLS)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(compiled(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()
        return step, lambda: _weights(model), lambda number: batches[number]

    run, messages = _same_as_eager(make, model=True)
    assert messages == []


def test_a_compiled_model_in_an_accumulating_loop_with_checkpointing() -> None:
    def make(wrap):
        model = _net()
        compiled = wrap(model)
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        batches, calls = _batches(16), [0]

        def step(x, y):
            loss = F.mse_loss(checkpoint(compiled, x, use_reentrant=False), y) / 4
            loss.backward()
            calls[0] += 1
            if calls[0] % 4 == 0:
                optimizer.step()
                optimizer.zero_grad(set_to_none=calls[0] % 8 == 0)
            return loss.detach(), [p.grad for p in model.parameters()]
        return step, lambda: [_weights(model), optimizer.state_dict()], lambda number: batches[number]

    run, messages = _same_as_eager(make, calls=16, model=True)
    assert messages == []


def test_fork_rng_and_a_generator_passed_as_an_argument() -> None:
    def make():
        model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.3), nn.Linear(4, 2))
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
        generators = [gg.Generator().manual_seed(1), gg.Generator().manual_seed(2)]
        batches = _batches(CALLS)

        def step(x, y, generator):
            optimizer.zero_grad()
            with gg.random.fork_rng():
                jitter = gg.randn(x.shape) * 0.1
            noise = gg.randn(x.shape, generator=generator) * 0.1
            loss = F.mse_loss(model(x + jitter + noise), y)
            loss.backward()
            optimizer.step()
            return loss.detach(), jitter, noise

        state = lambda: [_weights(model), gg.get_rng_state(), [g.get_state() for g in generators]]  # noqa: E731
        return step, state, lambda number: (*batches[number], generators[number % 2])

    _replayed(make)


def test_autocast_enabled_by_an_argument_and_vmap_inside() -> None:
    def make():
        model, optimizer, batches = _setup()

        def step(x, y, enabled):
            optimizer.zero_grad()
            with gg.autocast("cpu", enabled=enabled, dtype=gg.bfloat16):
                loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            with gg.no_grad():
                rows = gg.func.vmap(lambda row: model(row).tanh().sum())(x)
            return loss.detach(), rows
        return step, lambda: _weights(model), lambda number: (*batches[number], number % 2 == 0)

    _replayed(make)
