"""gg.compile against two more ways a training step reads a Python value from outside it, changed between calls
once the program exists: a settings object (or a dict) that a layer holds and reads in its ``forward``
(``self.config.scale``: two layers of one class, each with its own), and the process environment
(``os.environ["SCALE"]``, ``os.getenv``). Each was replayed with the capture's value, without a word. The oracle is
the same step run eagerly: every loss and weight equal, bit for bit, and no warning; and the program replays while
nothing changes (captured twice, and twice again after each change)."""

from __future__ import annotations

import dataclasses
import os
import types
import warnings
from os import environ, getenv

import numpy as np
import pytest
from test_compile_guards_audit import _sequential, _sgd_step, _training
from test_compile_names import _batches, _run, _same_both_ways

import glassgrad as gg

nn = gg.nn
CALLS = len(_batches())
VARIABLE = "GG_TEST_GUARDS_MORE_SCALE"
OTHER = "GG_TEST_GUARDS_MORE_OTHER"


def _counts(run) -> tuple[int, int]:
    """How many times the compiled function (or compiled model) ran a capture, and how many a replay."""
    entries = getattr(run, "_compiled", run).entries.values()
    return sum(entry.captures for entry in entries), sum(entry.replays for entry in entries)


def _same_as_eager(build, changes: dict, whole_step: bool) -> object:
    """SGD on the model ``build()`` makes, eagerly and compiled (the whole step, or the model alone: ``gg.compile``
    of it), ``changes[n](model)`` run before call n: every loss and weight equal, bit for bit, and no warning. Gives
    what was compiled."""
    held: dict = {}

    def applied(change):  # to the model itself, not a compiled one around it (whose .config is Module.config)
        return lambda: change(getattr(held["model"], "_orig_mod", held["model"]))

    now = {number: applied(change) for number, change in changes.items()}
    eager, _, _ = _run(_training(build, held), now, False)
    compiled, messages, run = _run(_training(build if whole_step else lambda: gg.compile(build()), held), now,
                                   whole_step)
    assert messages == []
    for a, b in zip(eager, compiled, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    return run if whole_step else held["model"]


def _replays_between_changes(run, changes: int) -> None:
    """Captured twice at the start and twice after each change; every other call replayed."""
    assert _counts(run) == (2 + 2 * changes, CALLS - 2 - 2 * changes)


# --- a settings object a layer holds, read in its forward ------------------------------------------------------------

class _Settings:
    def __init__(self, scale: float = 2.0) -> None:
        self.scale = scale


@dataclasses.dataclass
class _Options:
    scale: float = 2.0
    shift: float = 0.0


@dataclasses.dataclass(slots=True)
class _Slotted:
    scale: float = 2.0


class _Configured(nn.Module):
    """A layer holding a settings object, as learner code passes a ``config`` to its blocks."""

    def __init__(self, config=None) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.config = _Settings() if config is None else config

    def forward(self, x):
        return self.fc(x) * self.config.scale


def _scaled(model, scale: float = 5.0) -> None:
    model.config.scale = scale


@pytest.mark.parametrize("whole_step", [True, False])
@pytest.mark.parametrize("config", [_Settings, _Options, _Slotted, types.SimpleNamespace],
                         ids=lambda kind: kind.__name__)
def test_a_setting_of_a_config_a_layer_holds_changed_between_calls_is_read_again(config, whole_step):
    def build():
        return _Configured(config() if config is not types.SimpleNamespace else config(scale=2.0))

    run = _same_as_eager(build, {5: _scaled}, whole_step)
    _replays_between_changes(run, 1)


@pytest.mark.parametrize("whole_step", [True, False])
def test_a_config_a_layer_holds_set_again_to_an_equal_number_keeps_replaying_and_a_new_one_is_read(whole_step):
    def equal(model) -> None:
        model.config.scale = float(str(model.config.scale))  # another float object, the same number

    run = _same_as_eager(_Configured, {**dict.fromkeys((3, 4), equal), 6: _scaled, 9: equal}, whole_step)
    _replays_between_changes(run, 1)


class _Nested(nn.Module):
    """``self.config.optim.scale``: a settings object inside the one the layer holds."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.config = types.SimpleNamespace(optim=types.SimpleNamespace(scale=2.0, shift=0.5))

    def forward(self, x):
        return self.fc(x) * self.config.optim.scale + self.config.optim.shift


@pytest.mark.parametrize("whole_step", [True, False])
def test_a_setting_two_levels_down_a_layers_config_is_read_again(whole_step):
    def scaled(model) -> None:
        model.config.optim.scale = -1.5

    def shifted(model) -> None:
        model.config.optim = types.SimpleNamespace(scale=-1.5, shift=3.0)

    run = _same_as_eager(_Nested, {4: scaled, 8: shifted}, whole_step)
    _replays_between_changes(run, 2)


class _DictOfOptions(nn.Module):
    """``self.opts["optim"]["scale"]``: a dict of settings, with a dict inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.opts = {"optim": {"scale": 2.0}, "shift": 0.5}

    def forward(self, x):
        return self.fc(x) * self.opts["optim"]["scale"] + self.opts["shift"]


@pytest.mark.parametrize("whole_step", [True, False])
def test_a_setting_in_a_dict_inside_a_dict_a_layer_holds_is_read_again(whole_step):
    def scaled(model) -> None:
        model.opts["optim"]["scale"] = 5.0

    run = _same_as_eager(_DictOfOptions, {5: scaled}, whole_step)
    _replays_between_changes(run, 1)


class _Pair(nn.Module):
    """Two layers of one class, each with a config of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.first, self.second = _Configured(_Settings(2.0)), _Configured(_Settings(-0.5))

    def forward(self, x):
        return self.second(self.first(x))


@pytest.mark.parametrize("whole_step", [True, False])
@pytest.mark.parametrize("which", ["first", "second"])
def test_two_layers_of_one_class_each_have_their_configs_guarded(which, whole_step):
    def scaled(model) -> None:
        _scaled(getattr(model, which), 3.0)

    run = _same_as_eager(_Pair, {5: scaled}, whole_step)
    _replays_between_changes(run, 1)


class _Schedule:
    """A setting worked out by a property from what the object holds."""

    def __init__(self, base: float) -> None:
        self.base, self.factor = base, 1.0

    @property
    def scale(self) -> float:
        return self.base * self.factor


def test_a_property_of_the_config_of_each_of_two_layers_of_one_class_is_read_again():
    def faster(model) -> None:
        model.second.config.factor = 4.0

    run = _same_as_eager(_pair_of_schedules, {5: faster}, True)
    _replays_between_changes(run, 1)


def _pair_of_schedules() -> _Pair:
    pair = _Pair()
    pair.first.config, pair.second.config = _Schedule(2.0), _Schedule(-0.5)
    return pair


def test_explain_lists_a_layers_config_setting():
    run = gg.compile(_Configured())
    for batch in _batches(3):
        run(batch)
    guards = run.explain().split("guards (checked before each replay;")[1].splitlines()
    assert "  _Configured.config.scale == 2.0 (float)" in guards


# --- the process environment -----------------------------------------------------------------------------------------

def _read_by_a_helper() -> float:
    return float(os.environ.get(VARIABLE, "1"))


def _read_inside_by_import() -> float:
    from os import environ as inside

    return float(inside[VARIABLE])


READERS = {
    "os.environ[...]": lambda: float(os.environ[VARIABLE]),
    "os.getenv": lambda: float(os.getenv(VARIABLE)),
    "from os import environ": lambda: float(environ.get(VARIABLE)),
    "from os import getenv": lambda: float(getenv(VARIABLE)),
    "os.environb": lambda: float(os.environb[VARIABLE.encode()]),
    "a helper": lambda: _read_by_a_helper(),
    "imported inside": lambda: _read_inside_by_import(),
}


@pytest.fixture
def variable(monkeypatch):
    """The variable the steps read, set for the test (and removed after, with :data:`OTHER`)."""
    monkeypatch.setenv(VARIABLE, "0.1")
    monkeypatch.setenv(OTHER, "0")
    return monkeypatch


def _reset_environment() -> None:
    os.environ[VARIABLE] = "0.1"
    os.environ.pop(OTHER, None)


def _step_same_as_eager(read, changes: dict) -> object:
    """Plain gradient descent whose learning rate is ``read()``, a number read from the environment in the step:
    eager's numbers, bit for bit, compiled, with no warning."""
    return _same_both_ways(_sgd_step(read), changes, _reset_environment)


def _set(value: str):
    def change() -> None:
        os.environ[VARIABLE] = value

    return change


@pytest.mark.parametrize("how", READERS)
def test_an_environment_variable_changed_between_calls_is_read_again(how, variable):
    run = _step_same_as_eager(READERS[how], {5: _set("0.5"), 9: _set("-0.25")})
    _replays_between_changes(run, 2)


def test_another_environment_variable_set_between_calls_makes_a_new_capture(variable):
    """The guard compares the whole environment: a variable the step does not read makes a capture too (the same
    numbers), and one set again to the same value does not."""
    def other() -> None:
        os.environ[OTHER] = "1"

    run = _step_same_as_eager(READERS["os.environ[...]"], {4: _set("0.1"), 6: other})
    _replays_between_changes(run, 1)


class _FromTheEnvironment(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x) * float(os.environ[VARIABLE])


@pytest.mark.parametrize("whole_step", [True, False])
def test_an_environment_variable_read_in_a_layers_forward_is_read_again(whole_step, variable):
    def change(model) -> None:
        os.environ[VARIABLE] = "-3"

    def build():
        os.environ[VARIABLE] = "2"
        return _FromTheEnvironment()

    run = _same_as_eager(build, {5: change}, whole_step)
    _replays_between_changes(run, 1)


def test_explain_shows_the_environment_as_one_short_guard(variable):
    run = gg.compile(_sgd_step(READERS["os.getenv"])()[0])
    for batch in _batches(3):
        run(batch)
    guards = run.explain().split("guards (checked before each replay;")[1].splitlines()
    assert f"  os.environ: the same {len(os.environ)} variables" in guards
    quiet = gg.compile(_sgd_step(lambda: 0.1)()[0])  # a step that reads no variable has no such guard
    for batch in _batches(3):
        quiet(batch)
    assert "os.environ" not in quiet.explain()


# --- code the step reaches through a method: a helper object's, a layer's own -----------------------------------

class _ScaledByAMethod(nn.Module):
    """The config read in a method the forward calls, not in the forward itself."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.config = _Settings()

    def _scale(self):
        return self.config.scale

    def forward(self, x):
        return self.fc(x) * self._scale()


GLOBAL_SHIFT = 0.5


class _ShiftedByAMethod(nn.Module):
    """A global read in a method the forward calls (through a property, then a method)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    @property
    def shift(self):
        return self._shift_now()

    def _shift_now(self):
        return GLOBAL_SHIFT

    def forward(self, x):
        return self.fc(x) + self.shift


@pytest.mark.parametrize("whole_step", [True, False])
def test_a_config_read_in_a_method_the_forward_calls_is_read_again(whole_step):
    run = _same_as_eager(_ScaledByAMethod, {5: _scaled}, whole_step)
    _replays_between_changes(run, 1)


@pytest.mark.parametrize("whole_step", [True, False])
def test_a_global_read_in_a_method_the_forward_calls_is_read_again(whole_step, monkeypatch):
    def shifted(model) -> None:
        monkeypatch.setitem(globals(), "GLOBAL_SHIFT", -2.0)

    def build():  # each run starts from 0.5
        monkeypatch.setitem(globals(), "GLOBAL_SHIFT", 0.5)
        return _ShiftedByAMethod()

    run = _same_as_eager(build, {6: shifted}, whole_step)
    _replays_between_changes(run, 1)


class _Helper:
    """A settings object with a method the step calls (``helper.scaled(x)``), reading its own setting."""

    def __init__(self) -> None:
        self.scale = 2.0

    def scaled(self, x):
        return x * self.scale


def test_a_setting_read_in_a_method_of_a_helper_object_is_read_again():
    helper = _Helper()

    def changed() -> None:
        helper.scale = -3.0

    run = _same_both_ways(_sgd_step(lambda: helper.scaled(0.1)), {5: changed}, lambda: setattr(helper, "scale", 2.0))
    assert _counts(run) == (4, CALLS - 4)


class _CountingAverage:
    """An average of the weights kept by hand, as training scripts write one (timm's ModelEmaV3 counts its updates
    the same way): the count goes up at every call, the decay stays put."""

    def __init__(self, weights) -> None:
        self.decay, self.updates = 0.1, 0
        self.kept = [w.detach().clone() for w in weights]

    def update(self, weights) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        with gg.no_grad():
            for kept, w in zip(self.kept, weights):
                kept.mul_(decay).add_(w, alpha=1 - decay)


def test_a_count_a_helper_objects_method_keeps_runs_at_every_call_saying_why():
    """``average.update(…)`` counts ``self.updates += 1``, Python a replay does not run: replays skipped the count
    without a word (2 where eager counts 10). Now the count is guarded through the method, it changes at every call,
    so the step runs eagerly after a few calls, naming it; the count and the averages are eager's."""
    def run(wrap):
        gg.manual_seed(0)
        model = _sequential()
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
        average = _CountingAverage(model.parameters())

        def step(x):
            optimizer.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            optimizer.step()
            average.update(model.parameters())
            return loss.detach()

        step = wrap(step)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            losses = [step(x).numpy().copy() for x in _batches()]
        return losses, average, [str(w.message) for w in caught]

    eager_losses, eager, _ = run(lambda step: step)
    losses, compiled, messages = run(gg.compile)
    assert compiled.updates == eager.updates == CALLS
    for a, b in zip([*losses, *(t.numpy() for t in compiled.kept)], [*eager_losses, *(t.numpy() for t in eager.kept)],
                    strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(messages) == 1 and "'average.updates', which the step reads from outside it" in messages[0]
