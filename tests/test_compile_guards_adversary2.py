"""gg.compile against training steps written as learners write them, that touch Python state or read values from
outside the step in ways the guards missed: a replay went on with the capture's numbers, or skipped the step's own
Python (a count, an append, a re-seed), without a word. The oracle is the same step run eagerly: every returned value,
every weight and the Python state the step touches equal, bit for bit; where a replay cannot repeat the step, it runs
eagerly with a warning that names why. Cases that already behaved are pinned here too."""

from __future__ import annotations

import collections
import dataclasses
import functools
import itertools
import types
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import glassgrad as gg

nn = gg.nn
F = nn.functional
CALLS = 10


def _data(count: int = CALLS) -> list[tuple[gg.Tensor, gg.Tensor]]:
    rng = np.random.default_rng(0)
    return [(gg.tensor(rng.standard_normal((4, 3)).astype(np.float32)),
             gg.tensor(rng.standard_normal((4, 2)).astype(np.float32))) for _ in range(count)]


def _linear(seed: int = 0) -> nn.Linear:
    gg.manual_seed(seed)
    return nn.Linear(3, 2)


def _plain(value: Any) -> Any:
    """``value`` with each tensor as a copy of its array, each container as a list or dict of its parts."""
    if isinstance(value, gg.Tensor):
        return value.detach().array.copy()
    if isinstance(value, (list, tuple, collections.deque, set, frozenset)):
        return [_plain(part) for part in (sorted(value) if isinstance(value, (set, frozenset)) else value)]
    if isinstance(value, dict):
        return {key: _plain(part) for key, part in value.items()}
    return value


def _assert_same(eager: Any, compiled: Any, where: str = "") -> None:
    if isinstance(eager, np.ndarray):
        assert isinstance(compiled, np.ndarray) and eager.dtype == compiled.dtype, where
        np.testing.assert_array_equal(eager, compiled, err_msg=where)
    elif isinstance(eager, list):
        assert isinstance(compiled, list) and len(eager) == len(compiled), f"{where}: {eager} != {compiled}"
        for number, (a, b) in enumerate(zip(eager, compiled)):
            _assert_same(a, b, f"{where}[{number}]")
    elif isinstance(eager, dict):
        assert isinstance(compiled, dict) and eager.keys() == compiled.keys(), f"{where}: {eager} != {compiled}"
        for key in eager:
            _assert_same(eager[key], compiled[key], f"{where}[{key!r}]")
    else:
        assert type(eager) is type(compiled) and eager == compiled, f"{where}: {eager!r} != {compiled!r}"


def _same_as_eager(make: Callable, calls: int = CALLS, whole_step: bool = True) -> tuple[Any, list[str]]:
    """``make()`` gives ``(step, state, between)``: the step, a function giving the state it touches (weights, Python
    values) and one called with the call's number before each call (or None). Runs it eagerly and compiled (from the
    same seed): every result and the state equal, bit for bit. Gives the compiled step and its warnings.
    ``whole_step=False``: ``make(compiled)`` compiles what it will (the model) and the step is called as it is."""
    runs = []
    for compiled in (False, True):
        gg.manual_seed(0)
        step, state, between = make() if whole_step else make(compiled)
        run = gg.compile(step) if compiled and whole_step else step
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results = []
            for number, batch in enumerate(_data(calls)):
                if between is not None:
                    between(number)
                results.append(run(*batch))
        runs.append((_plain(results), _plain(state()), run, [str(warning.message) for warning in caught]))
    (eager, eager_state, _, _), (results, state, run, messages) = runs
    _assert_same(eager, results, "results")
    _assert_same(eager_state, state, "state")
    return run, messages


def _counts(run: Any) -> tuple[int, int]:
    entries = getattr(run, "_compiled", run).entries.values()
    return sum(entry.captures for entry in entries), sum(entry.replays for entry in entries)


def _replayed(make: Callable, calls: int = CALLS) -> Any:
    """Compiled as eager, with no warning, and replayed."""
    run, messages = _same_as_eager(make, calls)
    assert messages == []
    assert _counts(run)[1] > 0
    return run


def _eager_saying(make: Callable, *named: str, calls: int = CALLS) -> Any:
    """Compiled as eager, never replayed, with one warning naming each of ``named``."""
    run, messages = _same_as_eager(make, calls)
    assert len(messages) == 1, messages
    assert all(name in messages[0] for name in named), messages[0]
    assert _counts(run)[1] == 0
    return run


def _sgd(model: nn.Module) -> gg.optim.SGD:
    return gg.optim.SGD(model.parameters(), lr=0.1)


def _fit(optimizer: gg.optim.Optimizer, out: gg.Tensor, y: gg.Tensor) -> gg.Tensor:
    """One update on the MSE of ``out`` (a helper the step calls, as learners factor theirs out); the loss."""
    optimizer.zero_grad()
    loss = F.mse_loss(out, y)
    loss.backward()
    optimizer.step()
    return loss.detach()


# --- random streams restarted inside the step ------------------------------------------------------------------------

def _dropout_net() -> nn.Module:
    return nn.Sequential(_linear(), nn.Dropout(0.5))


def _reseeding(reseed: Callable) -> Callable:
    def make():
        model = _dropout_net()
        optimizer = _sgd(model)
        generator = gg.Generator()

        def step(x, y):
            reseed(generator)
            noise = gg.randn(x.shape, generator=generator) * 0.1
            loss = _fit(optimizer, model(x + noise), y)
            return loss.detach()

        return step, lambda: {"w": model[0].weight, "next": gg.rand(3), "own": gg.rand(2, generator=generator)}, None

    return make


@pytest.mark.parametrize("reseed", [lambda generator: gg.manual_seed(3), lambda generator: generator.manual_seed(7)],
                         ids=["gg.manual_seed", "Generator.manual_seed"])
def test_a_seed_set_inside_the_step_restarts_the_stream_at_every_replayed_call(reseed):
    """``gg.manual_seed(k)`` (or a generator's) inside the step: eager draws the same dropout mask and noise at each
    call; a replay ran no Python and drew on from where the stream was, other masks, without a word. Now the restart
    is a kernel of the program."""
    _replayed(_reseeding(reseed))


def test_a_seed_read_from_a_global_restarts_the_stream_with_its_value_now():
    """``gg.manual_seed(epoch)``, the global changed every few calls: each replay restarts from the epoch's seed."""
    held = {"epoch": 0}

    def make():
        model = _dropout_net()
        optimizer = _sgd(model)

        def step(x, y):
            gg.manual_seed(held["epoch"])
            loss = _fit(optimizer, model(x), y)
            return loss.detach()

        return step, lambda: {"w": model[0].weight, "next": gg.rand(3)}, lambda number: held.update(epoch=number // 5)

    _replayed(make)


@pytest.mark.parametrize("saved_inside", [True, False], ids=["saved inside", "saved outside"])
def test_an_rng_state_set_back_inside_the_step_is_set_back_at_every_replayed_call(saved_inside):
    """``saved = gg.get_rng_state()`` … ``gg.set_rng_state(saved)`` (two forwards with one dropout mask), or a state
    saved once outside and set at each call: the replay moved no stream."""
    def make():
        model = _dropout_net()
        optimizer = _sgd(model)
        outside = gg.get_rng_state()

        def step(x, y):
            saved = gg.get_rng_state() if saved_inside else outside
            first = model(x)
            gg.set_rng_state(saved)
            second = model(x)
            loss = _fit(optimizer, first + second, y)
            return loss.detach()

        return step, lambda: {"w": model[0].weight, "next": gg.rand(3)}, None

    _replayed(make)


def test_a_generators_state_read_and_set_inside_the_step_is_replayed():
    def make():
        model = _linear()
        optimizer = _sgd(model)
        generator = gg.Generator().manual_seed(5)

        def step(x, y):
            saved = generator.get_state()
            noise = gg.randn(x.shape, generator=generator)
            generator.set_state(saved)
            again = gg.randn(x.shape, generator=generator)
            loss = _fit(optimizer, model(x + noise - again), y)
            return loss.detach(), noise

        return step, lambda: {"w": model.weight, "own": gg.rand(2, generator=generator)}, None

    _replayed(make)


# --- containers the step changes in place ----------------------------------------------------------------------------

def _logging_into(container: Any, log: Callable) -> Callable:
    """A step that logs its loss into ``container`` (``log(container, loss)``) after an SGD update."""
    def make():
        model = _linear()
        optimizer = _sgd(model)
        held = container() if callable(container) else container

        def step(x, y):
            loss = _fit(optimizer, model(x), y)
            log(held, loss.detach())
            return loss.detach()

        return step, lambda: {"w": model.weight, "log": held}, None

    return make


CHANGED_IN_PLACE = {
    "deque.append": (lambda: collections.deque(maxlen=5), lambda held, loss: held.append(loss)),
    "defaultdict(list)": (lambda: collections.defaultdict(list), lambda held, loss: held["loss"].append(loss)),
    "Counter +=": (collections.Counter, lambda held, loss: held.update(steps=1)),
    "OrderedDict[key] =": (collections.OrderedDict, lambda held, loss: held.__setitem__("last", loss)),
    "set.add": (set, lambda held, loss: held.add(len(held))),
}


@pytest.mark.parametrize("kind", list(CHANGED_IN_PLACE))
def test_a_deque_defaultdict_counter_or_set_the_step_changes_runs_eagerly_naming_it(kind):
    """Logging into a ``deque``, a ``defaultdict(list)``, a ``Counter`` or a set read by name: they were guarded by
    identity alone (only a list's and a dict's entries were compared), so the replays skipped the step's append, count
    or add without a word (a history 2 long where eager's is 10). Now their entries are compared as a list's are: the
    step, changing them at every call, runs eagerly, naming the container."""
    container, log = CHANGED_IN_PLACE[kind]
    _eager_saying(_logging_into(container, log), "holds something new at each call")


def test_a_default_argument_list_the_step_appends_to_runs_eagerly_naming_it():
    """``def step(x, y, history=[])``, appended to at each call: the default tuple is the same object whatever the
    list holds, and its snapshot shared the list, so replays skipped the append without a word."""
    def make():
        model = _linear()
        optimizer = _sgd(model)

        def step(x, y, history=[]):  # noqa: B006 - the learner's mutable default, on purpose
            loss = _fit(optimizer, model(x), y)
            history.append(loss.detach())
            return loss.detach()

        return step, lambda: {"w": model.weight, "history": step.__defaults__[0]}, None

    _eager_saying(make, "step's default list")


def test_a_weak_dict_cache_changed_between_calls_is_read_again():
    """A scale kept in a ``WeakKeyDictionary`` keyed by the model, changed between calls: the replay went on with the
    capture's scale."""
    def make():
        model = _linear()
        optimizer = _sgd(model)
        scales = weakref.WeakKeyDictionary({model: 1.0})

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y) * scales[model]
            loss.backward()
            optimizer.step()
            return loss.detach()

        return step, lambda: {"w": model.weight}, lambda number: scales.update({model: 3.0}) if number == 5 else None

    run = _replayed(make)
    assert _counts(run) == (4, CALLS - 4)


def test_a_plain_dict_or_list_the_step_logs_into_runs_eagerly_and_an_id_keyed_cache_is_read_again():
    """Pinned (these behaved already): ``stats["loss"] = loss``, ``hist["loss"].append(loss)`` run eagerly, naming
    the name; a ``cache[id(model)]`` changed between calls is read by a new capture."""
    _eager_saying(_logging_into(dict, lambda held, loss: held.__setitem__("loss", loss)), "holds something new")
    _eager_saying(_logging_into(lambda: {"loss": []}, lambda held, loss: held["loss"].append(loss)), "holds something")

    def make():
        model = _linear()
        optimizer = _sgd(model)
        cache: dict = {}

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y) * cache.get(id(model), 1.0)
            loss.backward()
            optimizer.step()
            return loss.detach()

        return step, lambda: {"w": model.weight}, lambda number: cache.update({id(model): 3.0}) if number == 5 else None

    _replayed(make)


# --- iterators and files the step uses up ----------------------------------------------------------------------------

def _accumulating(counter: Callable) -> Callable:
    """Gradient accumulation over 4 calls, the update taken where ``next(counter) % 4 == 0``."""
    def make():
        model = _linear()
        optimizer = _sgd(model)
        count = counter()

        def step(x, y):
            loss = F.mse_loss(model(x), y) / 4
            loss.backward()
            if next(count) % 4 == 0:
                optimizer.step()
                optimizer.zero_grad()
            return loss.detach()

        return step, lambda: {"w": model.weight, "next": next(count)}, None

    return make


@pytest.mark.parametrize("counter", [lambda: itertools.count(1), lambda: iter(range(1, 100)),
                                     lambda: (number for number in range(1, 100))],
                         ids=["itertools.count", "iter(range)", "generator"])
def test_an_iterator_the_step_takes_items_from_runs_eagerly_naming_it(counter):
    """``if next(counter) % 4 == 0: optimizer.step()``: the two captures (items 1 and 2) took no update, agreed, and
    every replay went on without an update and without taking an item, without a word (eager updates at calls 4 and
    8). Now the step runs eagerly from its first call, naming the iterator."""
    _eager_saying(_accumulating(counter), "'count' is an iterator the step takes items from", calls=13)


def test_batches_taken_from_an_iterator_inside_the_step_run_eagerly_naming_it():
    """``x, y = next(batches)`` inside a step called with no arguments (ran eagerly before only because the two
    captures saw other numbers; a schedule's ``lr = next(lrs)`` equal at both captures was replayed stale)."""
    def make():
        model = _linear()
        optimizer = _sgd(model)
        batches = iter(_data(2 * CALLS))
        rates = iter([0.1] * 4 + [0.01] * 100)

        def step(*_):
            x, y = next(batches)
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            for group in optimizer.param_groups:
                group["lr"] = next(rates)
            optimizer.step()
            return loss.detach()

        return step, lambda: {"w": model.weight, "left": len(list(batches))}, None

    _eager_saying(make, "is an iterator the step takes items from")


def test_a_file_the_step_writes_to_runs_eagerly_naming_it(tmp_path):
    """``log.write(…)`` at each call: the replays wrote nothing, without a word."""
    path = tmp_path / "log.txt"

    def make():
        model = _linear()
        optimizer = _sgd(model)
        log = open(path, "w")  # noqa: SIM115 - kept open across calls, as a training log is

        def step(x, y):
            loss = _fit(optimizer, model(x), y)
            log.write("step\n")
            return loss.detach()

        def state():
            log.close()
            return {"w": model.weight, "lines": path.read_text().count("\n")}

        return step, state, None

    _eager_saying(make, "'log' is a file the step reads or writes")


# --- a trainer's own methods, and callbacks kept in a list -----------------------------------------------------------

class _Module:
    """A Lightning-like module: ``training_step`` logs through ``self.log``, as Lightning's do."""

    def __init__(self) -> None:
        self.model = _linear()
        self.optimizer = _sgd(self.model)
        self.logged: dict = {}
        self.global_step = 0

    def log(self, name: str, value: gg.Tensor) -> None:
        self.logged[name] = value

    def count(self) -> None:
        self.global_step += 1

    def training_step(self, x, y):
        self.optimizer.zero_grad()
        loss = F.mse_loss(self.model(x), y)
        loss.backward()
        self.optimizer.step()
        self.log("train_loss", loss.detach())
        return loss.detach()

    def counting_step(self, x, y):
        loss = self.training_step(x, y)
        self.count()
        return loss


@pytest.mark.parametrize("method, named", [("training_step", "self.logged"), ("counting_step", "self.global_step")])
def test_a_compiled_method_calling_a_method_of_its_object_that_writes_its_state_runs_eagerly_naming_it(method, named):
    """``gg.compile(module.training_step)`` whose step calls ``self.log(…)`` (or ``self.count()``), a method of the same
    object writing ``self.logged[…]`` (``self.global_step += 1``): the attributes the compiled method names were
    guarded, not those of the methods of ``self`` it calls, so replays logged nothing, without a word."""
    def make():
        module = _Module()
        return getattr(module, method), lambda: {"w": module.model.weight, "logged": module.logged,
                                                 "step": module.global_step}, None

    _eager_saying(make, named)


class _Callback:
    def __init__(self) -> None:
        self.calls = 0
        self.scale = 1.0

    def on_step(self, loss: gg.Tensor) -> gg.Tensor:
        self.calls += 1
        return loss


class _Scaling:
    def __init__(self) -> None:
        self.scale = 1.0

    def on_step(self, loss: gg.Tensor) -> gg.Tensor:
        return loss * self.scale


def _with_callbacks(callback: type, between: Callable | None = None) -> Callable:
    def make():
        model = _linear()
        optimizer = _sgd(model)
        callbacks = [callback()]

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            for hook in callbacks:
                loss = hook.on_step(loss)
            loss.backward()
            optimizer.step()
            return loss.detach()

        return step, lambda: {"w": model.weight, "state": vars(callbacks[0])}, between and between(callbacks)

    return make


def test_a_callback_in_a_list_counting_its_calls_runs_eagerly_naming_it():
    """``for cb in callbacks: cb.on_step(loss)``, a callback counting ``self.calls += 1``: objects in a list were
    guarded by identity alone, their methods' code unread, so replays counted nothing, without a word."""
    _eager_saying(_with_callbacks(_Callback), "callbacks[0].calls")


def test_a_setting_of_a_callback_in_a_list_changed_between_calls_is_read_again():
    def between(callbacks):
        return lambda number: setattr(callbacks[0], "scale", 3.0) if number == 5 else None

    run = _replayed(_with_callbacks(_Scaling, between))
    assert _counts(run) == (4, CALLS - 4)


def test_a_compiled_method_counting_in_its_own_code_or_appending_to_its_history_runs_eagerly_naming_it():
    """Pinned (behaved already): ``self.global_step += 1`` and ``self.history.append(loss)`` in the compiled method's
    own code."""
    class Trainer(_Module):
        def __init__(self) -> None:
            super().__init__()
            self.history: list = []

        def train_step(self, x, y):
            self.global_step += 1
            self.optimizer.zero_grad()
            loss = F.mse_loss(self.model(x), y)
            loss.backward()
            self.optimizer.step()
            self.history.append(loss.detach())
            return loss.detach()

    def make():
        trainer = Trainer()
        return trainer.train_step, lambda: {"w": trainer.model.weight, "h": trainer.history,
                                            "step": trainer.global_step}, None

    _eager_saying(make, "self.")


# --- a layer counting its calls in a public attribute ----------------------------------------------------------------

class _Counting(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = _linear()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.fc(x)


@pytest.mark.parametrize("how", ["whole step", "gg.compile(model)", "model.compile()"])
def test_a_forward_counting_its_calls_in_a_public_attribute_runs_eagerly_naming_it(how):
    """``self.calls += 1`` in a layer's ``forward``: a public number is a setting, guarded by the capture's value, but
    the value was taken as the step ended (2 after the second capture), so the third call found it held and every
    replay counted nothing (2 where eager counts 10), without a word. The settings of a layer an earlier capture
    called are now taken as the step starts: the count changes at every call, and the step runs eagerly, naming it."""
    def make(compiled: bool = True):
        model = _Counting()
        optimizer = _sgd(model)
        if how == "model.compile()" and compiled:
            model.compile()
        forward = gg.compile(model) if how == "gg.compile(model)" and compiled else model

        def step(x, y):
            loss = _fit(optimizer, forward(x), y)
            return loss.detach()

        held["model"] = model
        return step, lambda: {"w": model.fc.weight, "calls": model.calls}, None

    held: dict = {}
    run, messages = _same_as_eager(make, whole_step=how == "whole step")
    assert len(messages) == 1 and ("'_Counting.calls'" in messages[0] or "'self.calls'" in messages[0]), messages
    assert held["model"].calls == CALLS
    if how == "whole step":
        assert _counts(run)[1] == 0


def test_a_layer_setting_changed_between_calls_is_still_read_again():
    """Pinned: ``dropout.p`` changed between calls makes a new capture (now taken as the step starts)."""
    def make():
        model = nn.Sequential(_linear(), nn.Dropout(0.2))
        optimizer = _sgd(model)

        def step(x, y):
            loss = _fit(optimizer, model(x), y)
            return loss.detach()

        return step, lambda: {"w": model[0].weight}, lambda number: setattr(model[1], "p", 0.6) if number == 5 else None

    assert _counts(_replayed(make)) == (4, CALLS - 4)



# --- values read by a string, through a cache, or from a layer the step does not call --------------------------------

def test_attributes_named_by_strings_in_setattr_and_getattr_are_guarded():
    """``setattr(log, "n", getattr(log, "n") + 1)``, ``setattr(log, "last_loss", loss)``: only attributes loaded by
    ``log.n`` were guarded, so replays skipped the writes without a word. Now the string constants of code that calls
    ``getattr``/``setattr``/``vars`` are read as attribute names."""
    def make():
        model = _linear()
        optimizer = _sgd(model)
        log = types.SimpleNamespace(n=0)

        def step(x, y):
            loss = _fit(optimizer, model(x), y)
            setattr(log, "last_loss", loss.detach())  # noqa: B010 - the learner names it by a string
            setattr(log, "n", getattr(log, "n") + 1)  # noqa: B009, B010
            return loss.detach()

        return step, lambda: {"w": model.weight, "log": vars(log)}, None

    _eager_saying(make, "log.")


SCALE = [1.0]


@functools.lru_cache(maxsize=128)
def _scale_for(k: int) -> float:
    return SCALE[0] * k


def test_a_global_read_by_an_lru_cached_helper_is_guarded():
    """``loss * scale_for(2)``, ``scale_for`` an ``lru_cache``d helper reading the global ``SCALE``: the wrapper is no
    Python function, so its code went unread and ``SCALE[0] = 3.0; scale_for.cache_clear()`` between calls was
    replayed with the old scale. Now the function it wraps is read as any helper."""
    def make():
        SCALE[0] = 1.0
        _scale_for.cache_clear()
        model = _linear()
        optimizer = _sgd(model)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y) * _scale_for(2)
            loss.backward()
            optimizer.step()
            return loss.detach()

        def between(number):
            if number == 5:
                SCALE[0] = 3.0
                _scale_for.cache_clear()

        return step, lambda: {"w": model.weight}, between

    assert _counts(_replayed(make)) == (4, CALLS - 4)


def test_the_mode_of_a_layer_the_step_reads_but_does_not_call_is_guarded():
    """``if other.training: out = out * 2``, ``other`` a layer the step never calls: only the modes of the layers it
    called were guarded, so ``other.eval()`` between calls was replayed with the train branch."""
    def make():
        model = _linear()
        other = nn.Dropout(0.1)
        optimizer = _sgd(model)

        def step(x, y):
            out = model(x)
            if other.training:
                out = out * 2
            return _fit(optimizer, out, y)

        return step, lambda: {"w": model.weight}, lambda number: other.eval() if number == 5 else None

    assert _counts(_replayed(make)) == (4, CALLS - 4)


LOSS_SCALE = 1.0


class _WithLoss(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = _linear()

    def forward(self, x):
        return self.fc(x)

    def loss(self, x, y):
        return F.mse_loss(self(x), y) * LOSS_SCALE


def test_a_global_read_by_a_method_of_a_layer_other_than_its_forward_is_guarded():
    """``model.loss(x, y)``, a method of the user's layer reading the global ``LOSS_SCALE``: only the layer's
    ``forward`` (and what it names) was read, so a new scale was replayed with the old one."""
    def make():
        global LOSS_SCALE
        LOSS_SCALE = 1.0
        model = _WithLoss()
        optimizer = _sgd(model)

        def step(x, y):
            optimizer.zero_grad()
            loss = model.loss(x, y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        def between(number):
            global LOSS_SCALE
            if number == 5:
                LOSS_SCALE = 3.0

        return step, lambda: {"w": model.fc.weight}, between

    assert _counts(_replayed(make)) == (4, CALLS - 4)


def test_a_called_models_mode_read_to_branch_and_a_module_dict_picked_by_a_global_key_are_read_again():
    """Pinned (behaved already): ``if model.training`` with ``model.eval()`` between calls; ``heads[task]`` with the
    global ``task`` changed; ``blocks[current]`` likewise."""
    held = {"task": "a"}

    def make():
        heads = nn.ModuleDict({"a": _linear(1), "b": _linear(2)})
        optimizer = _sgd(heads)

        def step(x, y):
            head = heads[held["task"]]
            out = head(x)
            if head.training:
                out = out * 2
            return _fit(optimizer, out, y)

        def between(number):
            held["task"] = "a" if number < 4 else "b"
            if number == 7:
                heads.eval()

        return step, lambda: {"a": heads["a"].weight, "b": heads["b"].weight}, between

    _replayed(make)


# --- an optimizer's or a scheduler's numbers read by the step --------------------------------------------------------

def _reading_rate(how: str) -> Callable:
    """SGD, its rate halved by a ``StepLR`` outside every 4 calls; the step uses and returns the rate it reads."""
    def make():
        model = _linear()
        optimizer = _sgd(model)
        schedule = gg.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)

        def update(x, y):
            loss = _fit(optimizer, model(x), y)
            return loss.detach()

        def from_groups(x, y):
            rate = optimizer.param_groups[0]["lr"]
            return update(x, y) * rate, rate

        def from_schedule(x, y):
            rate = schedule.get_last_lr()[0]
            return update(x, y) * rate, rate

        def from_epoch(x, y):
            rate = 0.1 * 0.5 ** (schedule.last_epoch // 4)
            return update(x, y) * rate, rate

        steps = {"param_groups": from_groups, "get_last_lr": from_schedule, "last_epoch": from_epoch}
        return steps[how], lambda: {"w": model.weight}, lambda number: schedule.step() if number else None

    return make


@pytest.mark.parametrize("how", ["param_groups", "get_last_lr"])
def test_a_learning_rate_the_step_reads_from_its_optimizer_or_scheduler_is_read_again(how):
    """``loss * opt.param_groups[0]["lr"]`` (or the scheduler's ``get_last_lr()[0]``), returned too, the rate halved
    by a ``StepLR`` outside every 4 calls: an optimizer and a scheduler were guarded by identity alone, so the
    replays used and returned the capture's rate, without a word. Now the numbers the code names are guarded by
    value: a new rate makes a new capture."""
    run = _replayed(_reading_rate(how), calls=13)
    assert _counts(run)[0] > 2


def test_a_schedulers_epoch_read_by_the_step_runs_eagerly_naming_it():
    """``schedule.last_epoch``, which the scheduler outside counts at every call: replays used the capture's."""
    _eager_saying(_reading_rate("last_epoch"), "schedule.last_epoch", calls=13)


def test_a_learning_rate_decayed_inside_the_step_runs_eagerly_naming_it():
    """``for g in opt.param_groups: g["lr"] *= 0.9`` inside the step: the replays skipped the decay, without a
    word (the rate stayed 0.081 where eager's falls at each call)."""
    def make():
        model = _linear()
        optimizer = _sgd(model)

        def step(x, y):
            loss = _fit(optimizer, model(x), y)
            for group in optimizer.param_groups:
                group["lr"] *= 0.9
            return loss.detach()

        return step, lambda: {"w": model.weight, "lr": optimizer.param_groups[0]["lr"]}, None

    _eager_saying(make, "optimizer.param_groups[0]['lr']")


# --- pinned: steps that behaved already ------------------------------------------------------------------------------

def _counting_in(kind: str) -> Callable:
    """A step counting its calls in a ``nonlocal``, a class attribute, a dataclass config or a closure's helper, and
    updating only at every fourth call (gradient accumulation on a global count)."""
    @dataclasses.dataclass
    class Config:
        lr: float = 0.1
        step: int = 0

    class Trainer:
        steps = 0

    def make():
        Trainer.steps, GLOBAL_STEP[0] = 0, 0
        model = _linear()
        optimizer = _sgd(model)
        config = Config()
        count = 0
        seen = [0]

        def note():
            seen[0] += 1

        def step(x, y):
            nonlocal count
            if kind == "nonlocal":
                count += 1
            elif kind == "class attribute":
                Trainer.steps += 1
            elif kind == "dataclass":
                config.step += 1
            elif kind == "helper's closure":
                note()
            loss = F.mse_loss(model(x), y) / 4
            loss.backward()
            if kind != "accumulation" or (GLOBAL_STEP[0] + 1) % 4 == 0:
                optimizer.step()
                optimizer.zero_grad()
            if kind == "accumulation":
                GLOBAL_STEP[0] += 1
            return loss.detach()

        return step, lambda: {"w": model.weight, "counts": [count, Trainer.steps, config.step, seen[0],
                                                            GLOBAL_STEP[0]]}, None

    return make


GLOBAL_STEP = [0]


@pytest.mark.parametrize("kind", ["nonlocal", "class attribute", "dataclass", "helper's closure", "accumulation"])
def test_a_count_kept_by_the_step_runs_eagerly_naming_it(kind):
    """Pinned (behaved already): ``nonlocal n; n += 1``, ``Trainer.steps += 1``, ``cfg.step += 1``, a helper counting
    in its closure, ``if step_no % 4 == 0: optimizer.step()`` on a global count: eager, naming the count."""
    _eager_saying(_counting_in(kind), "holds something new at each call")


def _toggling(kind: str) -> Callable:
    def make():
        model = nn.Sequential(_linear(), nn.Dropout(0.5), nn.Linear(2, 2))
        optimizer = _sgd(model)
        shadow = {name: parameter.detach().clone() for name, parameter in model.named_parameters()}

        def step(x, y):
            if kind == "train() inside":
                model.train()
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            if kind == "requires_grad branch" and model[0].weight.requires_grad:
                loss = loss * 2
            loss.backward()
            optimizer.step()
            if kind == "eval() inside":
                model.eval()
                with gg.no_grad():
                    loss = loss + F.mse_loss(model(x), y)
                model.train()
            if kind == "EMA into a dict":
                with gg.no_grad():
                    for name, parameter in model.named_parameters():
                        shadow[name].mul_(0.9).add_(parameter, alpha=0.1)
            return loss.detach()

        def between(number):
            if kind == "train() inside" and number % 3 == 2:
                model.eval()
            if kind == "requires_grad branch" and number == 5:
                model[0].requires_grad_(False)

        return step, lambda: {"w": [*model.parameters()], "mode": model.training, "shadow": shadow}, between

    return make


@pytest.mark.parametrize("kind", ["train() inside", "eval() inside", "requires_grad branch", "EMA into a dict"])
def test_modes_flags_and_tensors_the_step_changes_are_replayed_as_eager(kind):
    """Pinned (behaved already): ``model.train()`` at the start of the step with ``model.eval()`` outside now and
    then, an evaluation pass inside the step, a branch on ``p.requires_grad`` frozen between calls, an EMA written
    in place into a dict of tensors."""
    _replayed(_toggling(kind))
