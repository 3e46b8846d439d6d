"""gg.compile guards what a step reads from outside it (glassgrad.compiler.names): a global number or tensor
bound again, a closure's variable, a settings object's attribute, a helper function defined again, a list's entry
replaced, a layer's tensor attribute, the default dtype, a NumPy array copied in the step and changed in place. The
oracle is the same step run eagerly: every loss and weight equal, bit for bit; a replay that went on
with the captured value (what the compiler did before) gives other numbers."""

from __future__ import annotations

import argparse
import types
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.compiler import CompileRefused

F = gg.nn.functional
LR = 0.1
SCALE = 2.0
WEIGHT = None
CONFIG = {"lr": 0.1}
SETTINGS = argparse.Namespace(clip=10.0, lr=0.1)


def _weight() -> gg.Tensor:
    return gg.tensor([[0.5, -1.0], [1.5, 0.25]], requires_grad=True)


def _batches(count: int = 12) -> list[gg.Tensor]:
    rng = np.random.default_rng(0)
    return [gg.tensor(rng.standard_normal((3, 2)).astype(np.float32)) for _ in range(count)]


def _run(make_step, changes: dict, compiled: bool) -> tuple[list, list[str], object]:
    """Call the step made by ``make_step()`` on each batch, eagerly or compiled; ``changes[n]()`` runs before call n.
    Gives every result and the final weights (arrays), the warnings, and the function called."""
    step, weights = make_step()
    run = gg.compile(step) if compiled else step
    seen = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for number, batch in enumerate(_batches()):
            if number in changes:
                changes[number]()
            seen.append(run(batch).array.copy())
    return seen + [w.array.copy() for w in weights()], [str(w.message) for w in caught], run


def _same_both_ways(make_step, changes: dict, reset) -> object:
    reset()
    eager, _, _ = _run(make_step, changes, False)
    reset()
    compiled, messages, run = _run(make_step, changes, True)
    assert messages == []
    assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))
    return run


def _replays(run) -> int:
    return sum(entry.replays for entry in run.entries.values())


# --- a global number: a learning rate decayed by hand, between calls -----------------------------------------------

def _reset_lr() -> None:
    global LR
    LR = 0.1


def _decay() -> None:
    global LR
    LR = LR * 0.5


def _sgd_step_reading_lr():
    w = _weight()

    def step(x):
        loss = ((x @ w).tanh() ** 2).mean()
        loss.backward()
        with gg.no_grad():
            w.sub_(LR * w.grad)  # the global, read at each call
            w.grad = None
        return loss.detach()

    return step, lambda: [w]


def test_a_global_learning_rate_changed_after_the_program_is_made_is_read_again():
    run = _same_both_ways(_sgd_step_reading_lr, {5: _decay, 9: _decay}, _reset_lr)
    assert _replays(run) >= 4  # it replays again after each change (captured twice, then replayed)


def test_a_global_bound_again_to_an_equal_number_keeps_replaying():
    def same_value() -> None:
        global LR
        LR = float(str(LR))  # another float object, the same number

    run = _same_both_ways(_sgd_step_reading_lr, dict.fromkeys(range(4, 12), same_value), _reset_lr)
    assert _replays(run) == 12 - 2


# --- a global tensor bound again -------------------------------------------------------------------------------------

def _reset_weight() -> None:
    global WEIGHT
    WEIGHT = _weight()


def _forward_reading_global_weight():
    def step(x):
        return (x @ WEIGHT).relu().sum(dim=1)

    return step, lambda: [WEIGHT]


def test_a_global_tensor_bound_again_is_the_one_the_replay_reads():
    def rebind() -> None:
        global WEIGHT
        WEIGHT = gg.tensor([[2.0, 0.0], [0.0, -3.0]], requires_grad=True)

    _same_both_ways(_forward_reading_global_weight, {6: rebind}, _reset_weight)


# --- a closure's variable (nonlocal) ----------------------------------------------------------------------------------

def test_a_closure_variable_bound_again_is_read_again():
    holder = {}

    def make():
        w, scale = _weight(), 1.0

        def step(x):
            return (x @ w * scale).sum(dim=1)

        def grow() -> None:
            nonlocal scale
            scale = scale * 3

        holder["grow"] = grow
        return step, lambda: [w]

    def grow() -> None:
        holder["grow"]()

    _same_both_ways(make, {5: grow, 8: grow}, lambda: None)


# --- an object of settings (argparse.Namespace, SimpleNamespace): its attributes ---------------------------------

def _reset_settings() -> None:
    SETTINGS.clip, SETTINGS.lr = 10.0, 0.1


def _step_reading_settings():
    w = _weight()

    def step(x):
        loss = ((x @ w) ** 2).mean()
        loss.backward()
        gg.nn.utils.clip_grad_norm_([w], SETTINGS.clip)
        with gg.no_grad():
            w.sub_(SETTINGS.lr * w.grad)
            w.grad = None
        return loss.detach()

    return step, lambda: [w]


def test_an_attribute_of_a_settings_object_changed_between_calls_is_read_again():
    def tighten() -> None:
        SETTINGS.clip, SETTINGS.lr = 0.01, 0.3

    _same_both_ways(_step_reading_settings, {6: tighten}, _reset_settings)


def test_a_method_of_a_plain_object_reads_its_attributes_anew():
    class Trainer:
        def __init__(self) -> None:
            self.w, self.lr = _weight(), 0.2

        def step(self, x):
            loss = (x @ self.w).sigmoid().sum()
            loss.backward()
            with gg.no_grad():
                self.w.sub_(self.lr * self.w.grad)
                self.w.grad = None
            return loss.detach()

    trainers = []

    def make():
        trainers.append(Trainer())
        return trainers[-1].step, lambda: [trainers[-1].w]

    def slow_down() -> None:
        trainers[-1].lr = 0.02

    _same_both_ways(make, {6: slow_down}, trainers.clear)


# --- a dict and a list read by name -----------------------------------------------------------------------------------

def test_an_entry_of_a_global_dict_changed_between_calls_is_read_again():
    def make():
        w = _weight()

        def step(x):
            loss = (x @ w).abs().sum()
            loss.backward()
            with gg.no_grad():
                w.sub_(CONFIG["lr"] * w.grad)
                w.grad = None
            return loss.detach()

        return step, lambda: [w]

    def reset() -> None:
        CONFIG["lr"] = 0.1

    def change() -> None:
        CONFIG["lr"] = 0.7

    _same_both_ways(make, {7: change}, reset)


def test_a_tensor_replaced_in_a_list_the_step_reads_is_read_again():
    params = []

    def make():
        params[:] = [_weight(), gg.tensor([0.5, -0.5], requires_grad=True)]

        def step(x):
            return (x @ params[0] + params[1]).relu().sum(dim=1)

        return step, lambda: list(params)

    def replace() -> None:
        params[1] = gg.tensor([3.0, 1.0], requires_grad=True)

    _same_both_ways(make, {6: replace}, lambda: None)


# --- a helper function defined again, a global read in a layer's forward ------------------------------------------

def _activation(h):
    return h.tanh()


def _forward_through_helper():
    w = _weight()

    def step(x):
        return _activation(x @ w).sum(dim=1)

    return step, lambda: [w]


def test_a_helper_function_defined_again_is_the_one_the_replay_runs():
    original = _activation

    def reset() -> None:
        globals()["_activation"] = original

    def redefine() -> None:
        globals()["_activation"] = lambda h: h.sigmoid() * 2

    _same_both_ways(_forward_through_helper, {6: redefine}, reset)


def _forward_reading_a_global_in_the_helper():
    w = _weight()

    def step(x):
        return _scaled(x @ w).sum(dim=1)

    return step, lambda: [w]


def _scaled(h):
    return h * SCALE


def test_a_global_read_by_a_helper_the_step_calls_is_guarded():
    def reset() -> None:
        global SCALE
        SCALE = 2.0

    def change() -> None:
        global SCALE
        SCALE = -0.5

    _same_both_ways(_forward_reading_a_global_in_the_helper, {6: change}, reset)


class _Scaled(gg.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = gg.nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x) * SCALE


def test_a_global_read_in_a_compiled_models_forward_is_guarded():
    def reset() -> None:
        global SCALE
        SCALE = 2.0
        gg.manual_seed(0)

    def change() -> None:
        global SCALE
        SCALE = 5.0

    def make(compiled: bool):
        model = _Scaled()
        net = gg.compile(model) if compiled else model
        return (lambda x: net(x).sum(dim=1)), lambda: list(model.parameters())

    reset()
    eager, _, _ = _run(lambda: make(False), {6: change}, False)
    reset()
    compiled, messages, _ = _run(lambda: make(True), {6: change}, False)  # the model inside is compiled
    assert messages == []
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))


def test_an_integer_global_that_becomes_a_float_is_captured_again():
    """``x * 2`` and ``x * 2.0`` of an integer tensor differ in dtype: the guard compares the type too."""
    def make():
        counts = gg.tensor([1, 2, 3])

        def step(x):
            return (counts * SCALE).sum() + x.sum()

        return step, lambda: [counts]

    def reset() -> None:
        global SCALE
        SCALE = 2

    def to_float() -> None:
        global SCALE
        SCALE = 2.0

    _same_both_ways(make, {6: to_float}, reset)


# --- a name bound anew at every call: eager, saying which ----------------------------------------------------------

def _every_call() -> dict:
    return dict.fromkeys(range(3, 12), _decay)


def test_a_name_that_changes_at_every_call_runs_eagerly_naming_it():
    _reset_lr()
    eager, _, _ = _run(_sgd_step_reading_lr, _every_call(), False)
    _reset_lr()
    compiled, messages, run = _run(_sgd_step_reading_lr, _every_call(), True)
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))
    assert len(messages) == 1 and "'LR', which the step reads from outside it, holds something new" in messages[0]
    assert _replays(run) <= 2


def test_fullgraph_raises_where_a_name_keeps_changing():
    def shuffle_weight() -> None:
        global WEIGHT
        WEIGHT = gg.tensor(np.array(WEIGHT.array)[::-1].copy(), requires_grad=True)

    _reset_weight()
    step, _ = _forward_reading_global_weight()
    run = gg.compile(step, fullgraph=True)
    with pytest.raises(CompileRefused, match="'WEIGHT'"):
        for number, batch in enumerate(_batches()):
            if number >= 2:
                shuffle_weight()
            run(batch)


def test_names_read_lists_the_globals_closures_and_attributes_of_the_step():
    from glassgrad.compiler.names import names_read

    box = types.SimpleNamespace(rate=0.5, label="x")
    w = _weight()

    def step(x):
        return (x @ w * box.rate * LR).sum() + _activation(x).sum()

    reads, draws = names_read(step, [])
    found = {read.name: read for read in reads}
    assert draws == []
    assert {"LR", "w", "box", "box.rate", "_activation"} <= set(found)
    assert "box.label" not in found and "gg" not in found and "F" not in found  # not read; modules are not guarded
    assert found["LR"].by_value and found["box.rate"].by_value and not found["w"].by_value


# --- a layer's tensor held in a plain attribute (not a buffer), bound again -------------------------------------------

class _Shifted(gg.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = gg.nn.Linear(2, 2)
        self.shift = gg.tensor([1.0, 2.0])  # a plain attribute, not registered as a buffer

    def forward(self, x):
        return self.fc(x) + self.shift


@pytest.mark.parametrize("whole_step", [True, False])
def test_a_tensor_in_a_layers_plain_attribute_bound_again_is_read_again(whole_step):
    models = []

    def make(compiled: bool):
        gg.manual_seed(0)
        models.append(_Shifted())
        model = models[-1]
        net = gg.compile(model) if compiled and not whole_step else model
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            optimizer.zero_grad()
            loss = (net(x) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss.detach()

        return (gg.compile(step) if compiled and whole_step else step), lambda: list(model.parameters())

    def rebind() -> None:
        models[-1].shift = gg.tensor([-3.0, 0.5])

    eager, _, _ = _run(lambda: make(False), {6: rebind}, False)
    compiled, messages, _ = _run(lambda: make(True), {6: rebind}, False)
    assert messages == []
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))


# --- the default float dtype changed between calls ----------------------------------------------------------------

def test_a_default_dtype_changed_between_calls_is_read_by_a_new_capture():
    """``gg.ones(2)`` and a Python float take the default dtype: float64 after ``set_default_dtype``, as eager's."""
    def make():
        w = gg.tensor([0.5, -1.5], requires_grad=True)

        def step(x):
            return (x[:, 0] * w[0] + gg.ones(3) * 0.1 + gg.arange(3) * 0.5).sum() * w[1]

        return step, lambda: [w]

    def to_float64() -> None:
        gg.set_default_dtype(gg.float64)

    try:
        eager, _, _ = _run(make, {6: to_float64}, False)
        gg.set_default_dtype(gg.float32)
        compiled, messages, _ = _run(make, {6: to_float64}, True)
    finally:
        gg.set_default_dtype(gg.float32)
    assert messages == [] and eager[11].dtype == np.float64  # the last call's result
    assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))


# --- a NumPy array the step copies with gg.tensor(…), changed in place between calls ------------------------------

TABLE = np.array([1.0, 2.0], dtype=np.float32)


@pytest.mark.parametrize("dtype", [None, gg.float64])
def test_a_numpy_array_copied_inside_the_step_is_copied_as_it_is_at_each_call(dtype):
    def make():
        w = gg.tensor([0.5, -1.5], requires_grad=True)

        def step(x):
            return (x * w * gg.tensor(TABLE, dtype=dtype)).sum(dim=1)

        return step, lambda: [w]

    def reset() -> None:
        TABLE[:] = [1.0, 2.0]

    def change() -> None:
        TABLE[0] = 5.0  # in place: the same array object

    _same_both_ways(make, {6: change}, reset)


# --- what else a layer holds: a function, a list of tensors ----------------------------------------------------------

class _Held(gg.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = gg.nn.Linear(2, 2)
        self.act = gg.relu  # a function in a plain attribute
        self.extra = [gg.tensor([1.0, 2.0])]  # a list of tensors, not a ParameterList

    def forward(self, x):
        return self.act(self.fc(x)) + self.extra[0]


@pytest.mark.parametrize("change", ["function", "list entry"])
def test_a_function_or_a_list_entry_a_layer_holds_changed_between_calls_is_read_again(change):
    models = []

    def make(compiled: bool):
        gg.manual_seed(0)
        models.append(_Held())
        net = gg.compile(models[-1]) if compiled else models[-1]
        return (lambda x: net(x).sum(dim=1)), lambda: list(models[-1].parameters())

    def swap() -> None:
        if change == "function":
            models[-1].act = gg.tanh
        else:
            models[-1].extra[0] = gg.tensor([10.0, -20.0])

    eager, _, _ = _run(lambda: make(False), {6: swap}, False)
    compiled, messages, _ = _run(lambda: make(True), {6: swap}, False)
    assert messages == []
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))


def test_a_layers_own_tables_are_left_to_the_captures_guards():
    from glassgrad.compiler.names import LAYER_INTERNALS

    assert set(vars(gg.nn.Module())) == LAYER_INTERNALS


def test_a_closure_variable_deleted_between_calls_gives_eagers_error():
    def outer():
        scale = 2.0
        w = gg.tensor([1.0, 2.0], requires_grad=True)

        def step(x):
            return (x * w * scale).sum()

        def drop() -> None:
            nonlocal scale
            del scale

        return step, drop

    step, drop = outer()
    run = gg.compile(step)
    for _ in range(3):
        assert run(gg.ones(2)).item() == 6.0
    drop()
    with pytest.raises(NameError, match="free variable 'scale'"):
        step(gg.ones(2))
    with pytest.raises(NameError, match="free variable 'scale'"):
        run(gg.ones(2))


# --- a module of the user's settings and helpers (import config; config.LR, config.act) ---------------------------

def test_a_setting_or_helper_in_the_users_own_module_changed_between_calls_is_read_again(tmp_path, monkeypatch):
    (tmp_path / "settings_of_the_course.py").write_text("LR = 0.1\n\n\ndef act(h):\n    return h.tanh()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import settings_of_the_course as config

    def make():
        w = _weight()

        def step(x):
            loss = config.act(x @ w).sum()
            loss.backward()
            with gg.no_grad():
                w.sub_(config.LR * w.grad)
                w.grad = None
            return loss.detach()

        return step, lambda: [w]

    def reset() -> None:
        config.LR, config.act = 0.1, lambda h: h.tanh()

    def faster() -> None:
        config.LR = 0.5

    def other_activation() -> None:
        config.act = lambda h: h.sigmoid()

    run = _same_both_ways(make, {5: faster, 8: other_activation}, reset)
    assert _replays(run) >= 4


class _Tempered(gg.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = gg.nn.Linear(2, 2)
        self._temperature = 2.0  # a private number: not among the layer's settings

    def forward(self, x):
        return (self.fc(x) / self._temperature).softmax(dim=-1)


def test_a_private_number_a_layer_holds_changed_between_calls_is_read_again():
    models = []

    def make(compiled: bool):
        gg.manual_seed(0)
        models.append(_Tempered())
        net = gg.compile(models[-1]) if compiled else models[-1]
        return (lambda x: net(x).sum(dim=1) * net(x)[:, 0]), lambda: list(models[-1].parameters())

    def cool() -> None:
        models[-1]._temperature = 0.25

    eager, _, _ = _run(lambda: make(False), {6: cool}, False)
    compiled, messages, _ = _run(lambda: make(True), {6: cool}, False)
    assert messages == []
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))


# --- Python's own random numbers: a branch the capture took would be taken at every replay --------------------------

@pytest.mark.parametrize("how", ["random module", "from random import", "a Random of its own", "numpy's global"])
def test_a_step_that_draws_with_pythons_random_runs_eagerly_saying_so(how):
    import random

    from numpy.random import rand as numpys_rand

    def make():
        w = _weight()
        draw = {"from random import": random.random, "a Random of its own": random.Random(3).random,
                "numpy's global": numpys_rand}.get(how)

        def step(x):  # a data augmentation written inside the step
            coin = random.random() if draw is None else float(draw())
            return (x.flip(-1) if coin < 0.5 else x) @ w

        return step, lambda: [w]

    random.seed(0)
    np.random.seed(0)
    eager, _, _ = _run(make, {}, False)
    random.seed(0)
    np.random.seed(0)
    compiled, messages, run = _run(make, {}, True)
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))
    assert len(messages) == 1 and "draws random numbers outside glassgrad's kernels" in messages[0]
    assert _replays(run) == 0


def test_explain_lists_the_guards_a_replay_checks_as_a_reader_sees_them():
    _reset_lr()
    _reset_settings()
    model = gg.nn.Sequential(gg.nn.Linear(2, 2), gg.nn.Dropout(0.1))
    w = _weight()

    def step(x):
        loss = (model(x) @ w).sum() * SETTINGS.clip
        loss.backward()
        with gg.no_grad():
            w.sub_(LR * w.grad)
            w.grad = None
        return loss.detach()

    run = gg.compile(step)
    for batch in _batches(3):
        run(batch)
    guards = run.explain().split("guards (checked before each replay;")[1].splitlines()
    assert "  LR == 0.1 (float)" in guards and "  SETTINGS.clip == 10.0 (float)" in guards
    assert "  w: the same Tensor" in guards and "  model: the same Sequential" in guards
    assert any(line.startswith("  3 layer(s): in train mode") for line in guards)
    assert guards[-1] == "  default dtype float32"


def test_an_attribute_of_a_callable_object_of_the_users_read_by_its_call_is_guarded():
    """A loss written as a class with ``__call__`` (not a layer): its ``self.weight`` changed between calls."""
    class WeightedLoss:
        def __init__(self) -> None:
            self.weight = 1.0

        def __call__(self, out):
            return (out ** 2).mean() * self.weight

    losses = []

    def make():
        losses.append(WeightedLoss())
        w = _weight()
        loss_fn = losses[-1]

        def step(x):
            loss = loss_fn(x @ w)
            loss.backward()
            with gg.no_grad():
                w.sub_(0.1 * w.grad)
                w.grad = None
            return loss.detach()

        return step, lambda: [w]

    def heavier() -> None:
        losses[-1].weight = 3.0

    eager, _, _ = _run(make, {6: heavier}, False)
    compiled, messages, _ = _run(make, {6: heavier}, True)
    assert messages == []
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))


HISTORY: list = []


def test_a_list_the_step_appends_to_is_compared_with_its_entries_as_the_step_started():
    """``history.append(loss.detach())`` in the step: the guard's entries are taken as the capture starts, so the
    list grown by the capture itself fails it and the step runs eagerly, naming the list (the guard took them after
    the capture, so replays held and skipped every append, without a word)."""
    HISTORY.clear()
    w = _weight()

    def step(x):
        loss = ((x @ w) ** 2).sum()
        HISTORY.append(loss.detach())
        return loss.detach()

    run = gg.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for batch in _batches(8):
            run(batch)
    assert len(HISTORY) == 8
    assert [str(w.message).count("'HISTORY', which the step reads from outside it") for w in caught] == [1]


class _Remembering(gg.nn.Module):
    """A layer that keeps what it computed for a plot later, a side effect of its forward."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = gg.nn.Linear(2, 2)
        self.seen = []

    def forward(self, x):
        out = self.fc(x)
        self.seen.append(out.detach())
        return out


def test_a_list_a_layers_forward_appends_to_is_compared_with_its_entries_before_the_capture():
    """The second capture reads the layers the first one met before it runs, so the list it grows fails the guard
    and the model runs eagerly, naming the list (the layers were read after the capture: replays skipped the
    appends without a word)."""
    gg.manual_seed(0)
    model = _Remembering()
    run = gg.compile(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for batch in _batches(8):
            run(batch)
    assert len(model.seen) == 8
    assert [str(w.message).count("'_Remembering.seen', which the step reads from outside it") for w in caught] == [1]
