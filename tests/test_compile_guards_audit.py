"""gg.compile against the ways a learner changes what a training step reads, between calls, once the program exists
(after call 3): a class's setting (``Config.lr``), a property, a setting two levels down (``cfg.optim.lr``), a
``functools.partial``'s keywords, a default argument, a layer appended to a ``ModuleList``, a NumPy mask changed in
place, and more. The oracle is the same step run eagerly: every result and weight equal, bit for bit (the harness of
tests/test_compile_names.py), and no warning; or, where the step cannot replay, the step run eagerly with a warning
that says why."""

from __future__ import annotations

import dataclasses
import enum
import functools
import types

import numpy as np
import pytest
from test_compile_names import _replays, _run, _same_both_ways, _weight

import glassgrad as gg

nn = gg.nn


def _sgd_step(read_lr):
    """A step of plain gradient descent whose learning rate is ``read_lr()``, read inside the step."""
    def make():
        w = _weight()

        def step(x):
            loss = ((x @ w).tanh() ** 2).mean()
            loss.backward()
            with gg.no_grad():
                w.sub_(read_lr() * w.grad)
                w.grad = None
            return loss.detach()

        return step, lambda: [w]

    return make


# --- a setting held by a class, a property, a settings object inside another -------------------------------------

class Config:
    lr = 0.1


def _reset_config() -> None:
    Config.lr = 0.1


def test_a_class_attribute_changed_between_calls_is_read_again():
    def faster() -> None:
        Config.lr = 0.5

    run = _same_both_ways(_sgd_step(lambda: Config.lr), {5: faster}, _reset_config)
    assert _replays(run) >= 4  # it replays again after the change


def test_a_class_attribute_read_through_an_instance_is_read_again_when_either_changes():
    settings = Config()

    def reset() -> None:
        _reset_config()
        vars(settings).pop("lr", None)

    def on_the_class() -> None:
        Config.lr = 0.5

    def on_the_instance() -> None:
        settings.lr = 0.3

    _same_both_ways(_sgd_step(lambda: settings.lr), {5: on_the_class, 8: on_the_instance}, reset)


class _Schedule:
    """A setting worked out by a property from what the object holds."""

    def __init__(self) -> None:
        self.base, self.factor = 0.1, 1.0

    @property
    def lr(self) -> float:
        return self.base * self.factor


SCHEDULE = _Schedule()


def test_a_property_of_a_settings_object_is_worked_out_again_when_what_it_reads_changes():
    def reset() -> None:
        SCHEDULE.base, SCHEDULE.factor = 0.1, 1.0

    def decay() -> None:
        SCHEDULE.factor = SCHEDULE.factor * 0.5

    _same_both_ways(_sgd_step(lambda: SCHEDULE.lr), {5: decay, 8: decay}, reset)


@dataclasses.dataclass
class _Optim:
    lr: float = 0.1


@dataclasses.dataclass
class _Train:
    optim: _Optim = dataclasses.field(default_factory=_Optim)


TRAIN = _Train()


def _reset_train() -> None:
    TRAIN.optim = _Optim()


def test_a_setting_two_levels_down_changed_between_calls_is_read_again():
    def faster() -> None:
        TRAIN.optim.lr = 0.5

    _same_both_ways(_sgd_step(lambda: TRAIN.optim.lr), {5: faster}, _reset_train)


def test_a_settings_object_inside_another_bound_again_is_read_again():
    def replace() -> None:
        TRAIN.optim = _Optim(lr=0.5)

    _same_both_ways(_sgd_step(lambda: TRAIN.optim.lr), {5: replace}, _reset_train)


class _Activation(enum.Enum):
    RELU = "relu"
    TANH = "tanh"


MODE = types.SimpleNamespace(act=_Activation.RELU)


def test_an_enum_setting_changed_between_calls_takes_the_other_branch():
    def make():
        w = _weight()

        def step(x):
            h = x @ w
            return (h.relu() if MODE.act is _Activation.RELU else h.tanh()).sum(dim=1)

        return step, lambda: [w]

    def reset() -> None:
        MODE.act = _Activation.RELU

    def switch() -> None:
        MODE.act = _Activation.TANH

    _same_both_ways(make, {5: switch}, reset)


# --- what a function is called with that the caller does not write ---------------------------------------------------

def _weighted(y: gg.Tensor, weight: float) -> gg.Tensor:
    return (y * weight).sum(dim=1)


LOSS = functools.partial(_weighted, weight=1.0)


def _reset_loss() -> None:
    global LOSS
    LOSS = functools.partial(_weighted, weight=1.0)


def _step_calling_loss():
    w = _weight()

    def step(x):
        return LOSS(x @ w)

    return step, lambda: [w]


def test_a_partials_keyword_changed_in_place_is_read_again():
    def heavier() -> None:
        LOSS.keywords["weight"] = 3.0

    _same_both_ways(_step_calling_loss, {5: heavier}, _reset_loss)


def test_a_partial_bound_again_is_the_one_the_replay_calls():
    def heavier() -> None:
        global LOSS
        LOSS = functools.partial(_weighted, weight=3.0)

    _same_both_ways(_step_calling_loss, {5: heavier}, _reset_loss)


def test_a_default_argument_bound_again_is_read_again():
    steps = []

    def make():
        w = _weight()

        def step(x, scale=1.0):
            return (x @ w * scale).sum(dim=1)

        steps.append(step)
        return step, lambda: [w]

    def bigger() -> None:
        steps[-1].__defaults__ = (4.0,)

    _same_both_ways(make, {5: bigger}, steps.clear)


def test_an_entry_of_a_default_dict_changed_in_place_is_read_again():
    steps = []

    def make():
        w = _weight()

        def step(x, cfg={"scale": 1.0}):  # noqa: B006 (the mutable default is what is tested)
            return (x @ w * cfg["scale"]).sum(dim=1)

        steps.append(step)
        return step, lambda: [w]

    def bigger() -> None:
        steps[-1].__defaults__[0]["scale"] = 4.0

    _same_both_ways(make, {5: bigger}, steps.clear)


def test_a_function_in_a_dict_read_by_key_replaced_is_the_one_the_replay_runs():
    activations = {"act": gg.relu}

    def make():
        w = _weight()

        def step(x):
            return activations["act"](x @ w).sum(dim=1)

        return step, lambda: [w]

    def reset() -> None:
        activations["act"] = gg.relu

    def swap() -> None:
        activations["act"] = gg.tanh

    _same_both_ways(make, {5: swap}, reset)


# --- a step whose Python does something new at each call: run eagerly, saying so -----------------------------------

COUNT = 0


def _reset_count() -> None:
    global COUNT
    COUNT = 0


@pytest.mark.parametrize("source", ["iterator", "generator", "global counter"])
def test_a_step_taking_a_new_number_at_each_call_runs_eagerly_with_a_warning(source):
    def numbers():
        count = 0
        while True:
            count += 1
            yield float(count)

    def make():
        w = _weight()
        taken = iter([float(n) for n in range(1, 13)]) if source == "iterator" else numbers()

        def step(x):
            global COUNT
            if source == "global counter":
                COUNT += 1
                return (x @ w * float(COUNT)).sum(dim=1)
            return (x @ w * next(taken)).sum(dim=1)

        return step, lambda: [w]

    _reset_count()
    eager, _, _ = _run(make, {}, False)
    _reset_count()
    compiled, messages, run = _run(make, {}, True)
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))
    # the step's closure holds the iterator in each case (named, taken from or not): it runs eagerly, naming it
    assert _replays(run) == 0 and messages and ("is an iterator the step takes items" in messages[0]
                                                or "different work on each call" in messages[0])


def test_a_global_list_appended_to_in_the_step_runs_eagerly_naming_it():
    history = []

    def make():
        w = _weight()

        def step(x):
            history.append(1)
            return (x @ w).sum(dim=1)

        return step, lambda: [w]

    _run(make, {}, True)
    _, messages, run = _run(make, {}, True)
    assert len(history) == 2 * 12  # every call ran its Python, as eager's
    assert _replays(run) == 0 and messages and "'history'" in messages[0]


# --- layers and optimizers changed between calls ------------------------------------------------------------------

class _Stack(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(2, 2)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x).tanh()
        return x


class _Scales(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scales = nn.ParameterList([nn.Parameter(gg.ones(2))])

    def forward(self, x):
        for scale in self.scales:
            x = (x * scale).tanh()
        return x


def _training(build, held: dict):
    def make():
        gg.manual_seed(0)
        held["model"] = model = build()
        held["optimizer"] = optimizer = gg.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            optimizer.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss.detach()

        return step, lambda: list(held["model"].parameters())

    return make


def _sequential():
    return nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))


class _Scaled(nn.Module):
    scale = 1.0  # a setting in the class's body, read as self.scale

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x) * self.scale


def test_a_layer_class_attribute_changed_between_calls_is_read_again():
    def reset() -> None:
        _Scaled.scale = 1.0

    def bigger() -> None:
        _Scaled.scale = 3.0

    _same_both_ways(_training(_Scaled, {}), {5: bigger}, reset)


def test_a_layer_appended_to_a_module_list_between_calls_is_run_by_the_replay():
    held = {}

    def grow() -> None:
        gg.manual_seed(1)
        held["model"].layers.append(nn.Linear(2, 2))

    _same_both_ways(_training(_Stack, held), {5: grow}, lambda: None)


def test_a_parameter_appended_to_a_parameter_list_between_calls_is_read_by_the_replay():
    held = {}

    def grow() -> None:
        held["model"].scales.append(nn.Parameter(gg.full((2,), 0.5)))

    _same_both_ways(_training(_Scales, held), {5: grow}, lambda: None)


def test_a_layer_added_to_a_sequential_between_calls_is_run_by_the_replay():
    held = {}

    def grow() -> None:
        gg.manual_seed(1)
        held["model"].add_module("head", nn.Linear(1, 2))

    _same_both_ways(_training(_sequential, held), {5: grow}, lambda: None)


@pytest.mark.parametrize("change", ["swap a layer", "freeze a layer", "learning rate", "eval", "double"])
def test_a_model_or_optimizer_changed_between_calls_is_read_again(change):
    held = {}

    def apply() -> None:
        model, optimizer = held["model"], held["optimizer"]
        if change == "swap a layer":
            gg.manual_seed(1)
            model[0] = nn.Linear(2, 3)
        elif change == "freeze a layer":
            model[0].requires_grad_(False)
        elif change == "learning rate":
            optimizer.param_groups[0]["lr"] = 0.5
        elif change == "eval":
            model.eval()
        else:
            model.double()

    def build():
        model = _sequential()
        return model if change != "double" else _Casting(model)

    _same_both_ways(_training(build, held), {5: apply}, lambda: None)


class _Casting(nn.Sequential):
    """A ``Sequential`` that casts its input to its first layer's dtype (so ``model.double()`` can run)."""

    def __init__(self, model: nn.Sequential) -> None:
        super().__init__(*model)

    def forward(self, x):
        return super().forward(x.to(self[0].weight.dtype))


def test_a_param_group_added_between_calls_is_updated_by_the_replay():
    held = {}

    def make():
        gg.manual_seed(0)
        w, v = _weight(), _weight()
        held["v"], held["optimizer"] = v, (optimizer := gg.optim.SGD([w], lr=0.1))

        def step(x):
            optimizer.zero_grad()
            loss = ((x @ w @ v) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss.detach()

        return step, lambda: [w, v]

    def add() -> None:
        held["optimizer"].add_param_group({"params": [held["v"]], "lr": 0.2})

    _same_both_ways(make, {5: add}, lambda: None)


# --- NumPy arrays and tensors changed in place -----------------------------------------------------------------------

MASK = np.ones((3, 2), dtype=np.float32)


@pytest.mark.parametrize("use", ["x * mask", "gg.from_numpy", "gg.as_tensor"])
def test_a_numpy_mask_changed_in_place_between_calls_is_read_as_it_is_then(use):
    def make():
        w = _weight()
        wrap = {"x * mask": lambda m: m, "gg.from_numpy": gg.from_numpy, "gg.as_tensor": gg.as_tensor}[use]

        def step(x):
            return ((x @ w) * wrap(MASK)).sum(dim=1)

        return step, lambda: [w]

    def reset() -> None:
        MASK[...] = 1.0

    def drop() -> None:
        MASK[0, 0] = 0.0

    _same_both_ways(make, {5: drop, 8: reset}, reset)


GLOBAL = _weight()


@pytest.mark.parametrize("change", ["data", "copy_"])
def test_a_global_tensor_changed_through_data_or_copy_is_read_again(change):
    def make():
        def step(x):
            return (x @ GLOBAL).relu().sum(dim=1)

        return step, lambda: [GLOBAL]

    def reset() -> None:
        global GLOBAL
        GLOBAL = _weight()

    def new_values() -> None:
        values = gg.tensor([[2.0, 0.0], [0.0, -3.0]])
        if change == "data":
            GLOBAL.data = values
        else:
            with gg.no_grad():
                GLOBAL.copy_(values)

    _same_both_ways(make, {5: new_values}, reset)


# --- a long list read by name ---------------------------------------------------------------------------------------

VOCABULARY = [f"word{n}" for n in range(100)]  # longer than names.MOST_ENTRIES: its entries are not each guarded


def test_the_length_of_a_long_list_grown_between_calls_is_read_again():
    def make():
        w = _weight()

        def step(x):
            return (x @ w / float(len(VOCABULARY))).sum(dim=1)

        return step, lambda: [w]

    def reset() -> None:
        del VOCABULARY[100:]

    def grow() -> None:
        VOCABULARY.append("new")

    _same_both_ways(make, {5: grow}, reset)


# --- settings held in slots, and dicts inside a dict -----------------------------------------------------------------

@dataclasses.dataclass(slots=True)
class _Slotted:
    lr: float = 0.1


SLOTTED = _Slotted()
NESTED = {"optim": {"lr": 0.1}}


def test_an_attribute_of_a_settings_object_with_slots_changed_between_calls_is_read_again():
    def reset() -> None:
        SLOTTED.lr = 0.1

    def faster() -> None:
        SLOTTED.lr = 0.5

    _same_both_ways(_sgd_step(lambda: SLOTTED.lr), {5: faster}, reset)


def test_an_entry_of_a_dict_inside_a_dict_changed_between_calls_is_read_again():
    def reset() -> None:
        NESTED["optim"]["lr"] = 0.1

    def faster() -> None:
        NESTED["optim"]["lr"] = 0.5

    _same_both_ways(_sgd_step(lambda: NESTED["optim"]["lr"]), {5: faster}, reset)
