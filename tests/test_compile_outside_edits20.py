"""gg.compile against what a training program changes between compiled calls, from outside the step, as training
scripts, callbacks and fine-tuning recipes do: layers frozen and unfrozen (a GAN's discriminator at every call,
gradual unfreezing), parameter groups added, the optimizer's settings and state edited or reloaded, the model cast,
re-tied, reloaded with ``assign=True``, a teacher's weights averaged outside, gradients accumulated over calls with
``zero_grad()`` outside, generator state reset, NumPy arrays of settings edited in place. Each runs eagerly and
compiled (the whole step, or ``gg.compile(model)`` with the loss, backward and update outside) from one seed, the same
edit made before the same call (right after the two captures, mostly): every returned value, weight, ``.grad``, the
optimizer's state and the buffers equal, bit for bit, and the program replays (or the step runs eagerly, saying why).

The hole fixed here (each of its tests failed on 134a107): a NumPy array the step reads by name (a global, a layer's
attribute, an entry of a dict or list it reads, ``CLASS_WEIGHTS[k]``, ``float(w[1])``, ``w.sum()``, ``gg.tensor(w *
2)``) was guarded by identity alone, so one changed in place between calls (``w[1] = 7.0``, ``w += 1``) was replayed
with the captures' numbers, and one the step's code changed itself (``counts[0] += 1``) was changed at the captures
only, without a word. Its numbers are now guarded too."""

from __future__ import annotations

import copy
import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_compile_guards_adversary2 import _assert_same, _plain
from test_compile_guards_adversary3 import HOWS, _at
from test_compile_guards_adversary3 import WHOLE_STEP as STEP  # the whole step, reading its names as globals

import glassgrad as gg

nn = gg.nn
CALLS = 9

Build = Callable[[dict], None]
Between = Callable[[dict, int], None]


def _net(kind: str = "mlp", optimizer: str = "sgd", **options: Any) -> Build:
    def build(names: dict) -> None:
        layers = {"mlp": [nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)],
                  "bn": [nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)],
                  "drop": [nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.3), nn.Linear(4, 2)]}[kind]
        names["model"] = model = nn.Sequential(*layers)
        names["opt"] = (gg.optim.Adam(model.parameters(), lr=0.01, **options) if optimizer == "adam" else
                        gg.optim.SGD([{"params": model[0].parameters()},
                                      {"params": model[-1].parameters(), "lr": 0.05}], lr=0.1, momentum=0.9)
                        if optimizer == "groups" else
                        gg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, **options))
        names["loss_fn"] = nn.MSELoss()

    return build


def _state(names: dict) -> dict:
    found = {"kept": _plain(names["kept"]), "opt": _plain(names["opt"].state_dict())}
    for key in ("model", "teacher"):
        if key in names:
            found[key] = _plain(dict(names[key].state_dict()))
            found[key + " grads"] = [None if p.grad is None else _plain(p.grad) for p in names[key].parameters()]
    return found


def _run(how: str, build: Build, between: Between | None, source: str) -> tuple[Any, Any, Any, list[str]]:
    gg.manual_seed(0)
    names: dict = {"gg": gg, "nn": nn, "np": np, "kept": []}
    build(names)
    names["cmodel"] = names["model"]
    if how == "model":
        names["cmodel"] = gg.compile(names["model"])
        source = source.replace("model(x", "cmodel(x")
    exec(source, names)  # noqa: S102 (the test's own step, its globals its own)
    step = compiled = names["step"] if how != "step" else gg.compile(names["step"])
    rng = np.random.default_rng(0)
    names["batches"] = [(gg.tensor(rng.standard_normal((4, 3)), dtype=gg.float32),
                         gg.tensor(rng.standard_normal((4, 2)), dtype=gg.float32)) for _ in range(CALLS)]
    results = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for number, (x, y) in enumerate(names["batches"]):
            if between is not None:
                between(names, number)
            results.append(_plain(step(x, y)))
    if how == "model":
        compiled = names["cmodel"]
    messages = [str(warning.message) for warning in caught if str(warning.message).startswith("gg.compile")]
    return results, _state(names), compiled, messages


def _counts(compiled: Any) -> tuple[int, int]:
    entries = getattr(compiled, "_compiled", compiled).entries.values()
    return sum(entry.captures for entry in entries), sum(entry.replays for entry in entries)


def _same_as_eager(build: Build, between: Between | None, how: str = "step",
                   source: str = STEP) -> tuple[tuple[int, int], list[str]]:
    """The run compiled as ``how`` equals the eager run, bit for bit; its captures and replays, and its warnings."""
    eager, eager_state, _, _ = _run("eager", build, between, source)
    results, state, compiled, messages = _run(how, build, between, source)
    _assert_same(eager, results, "results")
    _assert_same(eager_state, state, "state")
    return _counts(compiled), messages


def _replayed(build: Build, between: Between | None, how: str = "step", source: str = STEP) -> tuple[int, int]:
    counts, messages = _same_as_eager(build, between, how, source)
    assert messages == [] and counts[1] >= 3, (counts, messages)
    return counts


# --- the hole: a NumPy array read by name, changed in place between calls --------------------------------------------

USES = {
    "w[1]": "out = model(x) * w[1]",
    "float(w[1])": "out = model(x) * float(w[1])",
    "w.sum()": "out = model(x) * w.sum()",
    "gg.tensor(w * 2)": "out = model(x) * gg.tensor(w * 2)",
    "gg.tensor(w.tolist())": "out = model(x) * gg.tensor(w.tolist())",
}


def _with_weights(names: dict) -> None:
    _net()(names)
    names["w"] = np.array([1.0, 2.0], dtype=np.float32)


@pytest.mark.parametrize("use", list(USES))
def test_a_global_numpy_array_changed_in_place_between_calls_is_read_again(use: str) -> None:
    def change(names: dict, number: int) -> None:
        if number == 2:
            names["w"][1] = 7.0
        if number == 5:
            names["w"] += 1

    assert _replayed(_with_weights, change, source=STEP.replace("out = model(x)", USES[use])) == (6, 3)


HELD = {
    "an entry of a dict": ("float(CONFIG['weights'][1])", lambda names: names["CONFIG"]["weights"]),
    "a dict inside a dict": ("float(CONFIG['loss']['weights'][1])", lambda names: names["CONFIG"]["loss"]["weights"]),
    "an entry of a list": ("float(SCHEDULE[0][1])", lambda names: names["SCHEDULE"][0]),
    "an attribute of a settings object": ("float(ARGS.weights[1])", lambda names: names["ARGS"].weights),
}


def _holding(names: dict) -> None:
    _net()(names)
    names["CONFIG"] = {"weights": np.array([1.0, 2.0]), "loss": {"weights": np.array([1.0, 2.0])}}
    names["SCHEDULE"] = [np.array([1.0, 2.0])]
    names["ARGS"] = types.SimpleNamespace(weights=np.array([1.0, 2.0]))


@pytest.mark.parametrize("held", list(HELD))
def test_a_numpy_array_held_in_a_dict_list_or_settings_object_changed_in_place_is_read_again(held: str) -> None:
    read, array = HELD[held]
    source = STEP.replace("out = model(x)", f"out = model(x) * {read}")
    _replayed(_holding, _at(2, lambda names: array(names).__setitem__(1, 7.0)), source=source)


class _Weighted(nn.Module):
    """A head whose class weights are a NumPy array it holds, read as a number of it."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.weights = np.array([1.0, 2.0], dtype=np.float32)

    def forward(self, x: gg.Tensor) -> gg.Tensor:
        return self.fc(x) * gg.tensor(self.weights[1])


def _weighted(names: dict) -> None:
    names["model"] = model = _Weighted()
    names["opt"] = gg.optim.SGD(model.parameters(), lr=0.1)
    names["loss_fn"] = nn.MSELoss()


@HOWS
def test_a_layers_numpy_array_changed_in_place_between_calls_is_read_again(how: str) -> None:
    def change(names: dict) -> None:
        names["model"].weights += 1.0

    assert _replayed(_weighted, _at(2, change), how) == (4, 5)


def test_a_numpy_array_the_step_counts_in_runs_eagerly_naming_it() -> None:
    def counting(names: dict) -> None:
        _net()(names)
        names["counts"] = np.zeros(2)

    def look(names: dict, number: int) -> None:
        names["kept"].append(gg.tensor(names["counts"].copy()))

    source = STEP.replace("opt.step()", "opt.step()\n    counts[0] += 1")
    counts, messages = _same_as_eager(counting, look, source=source)
    assert counts[1] == 0 and any("'counts'" in message for message in messages), messages


# --- what already behaved: pinned -------------------------------------------------------------------------------------


def _group(key: str, value: Any, group: int = 0) -> Callable[[dict], None]:
    return lambda names: names["opt"].param_groups[group].__setitem__(key, value)


def _p0(names: dict) -> gg.Tensor:
    return names["model"][0].weight


def _no_grad(change: Callable[[dict], Any]) -> Callable[[dict], None]:
    def made(names: dict) -> None:
        with gg.no_grad():
            change(names)

    return made


def _frozen(build: Build, *layers: int) -> Build:
    def made(names: dict) -> None:
        build(names)
        for layer in layers:
            names["model"][layer].requires_grad_(False)

    return made


def _gradually(names: dict, number: int) -> None:
    if number == 2:
        names["model"][0].weight.requires_grad_(True)
    if number == 4:
        names["model"][0].bias.requires_grad_(True)


def _head_only(names: dict) -> None:
    _net()(names)
    names["opt"] = gg.optim.Adam(names["model"][2].parameters(), lr=0.01)


def _restore(part: str) -> Between:
    def between(names: dict, number: int) -> None:
        if number == 1:
            names["saved"] = ({key: value.clone() for key, value in names["model"].state_dict().items()},
                              copy.deepcopy(names["opt"].state_dict()))
        if number in (2, 5):
            if part == "optimizer":
                names["opt"].load_state_dict(names["saved"][1])
            else:
                names["model"].load_state_dict(names["saved"][0], assign=part == "assign")

    return between


def _rng_restored(names: dict, number: int) -> None:
    if number == 1:
        names["rng"] = gg.get_rng_state()
    if number in (2, 5):
        gg.set_rng_state(names["rng"])


def _step_zero(names: dict) -> None:
    for state in names["opt"].state.values():
        state["step"] = state["step"] * 0 if isinstance(state["step"], gg.Tensor) else 0


def _vector(names: dict) -> None:
    utils = nn.utils
    vector = utils.parameters_to_vector(names["model"].parameters())
    utils.vector_to_parameters(vector * 0.5, names["model"].parameters())


DOUBLE = STEP.replace("model(x)", "model(x.to(model[0].weight.dtype))").replace("(out, y)", "(out, y.to(out.dtype))")

REPLAYED: dict[str, tuple[Build, Between, str]] = {
    "a layer frozen right after the captures, unfrozen": (
        _net(), _at(2, lambda names: names["model"][0].requires_grad_(False),
                    lambda names: names["model"][0].requires_grad_(True)), STEP),
    "a layer frozen from the start, unfrozen (Adam)": (_frozen(_net(optimizer="adam"), 0),
                                                       _at(3, lambda names: names["model"][0].requires_grad_(True)),
                                                       STEP),
    "gradual unfreezing, weight then bias": (_frozen(_net(optimizer="adam"), 0), _gradually, STEP),
    "add_param_group right after the captures (Adam)": (
        _head_only, _at(2, lambda names: names["opt"].add_param_group({"params": names["model"][0].parameters(),
                                                                      "lr": 0.001})), STEP),
    "the second group's lr": (_net(optimizer="groups"), _at(2, _group("lr", 0.3, 1)), STEP),
    "the second group's momentum": (_net(optimizer="groups"), _at(2, _group("momentum", 0.0, 1)), STEP),
    "lr as a NumPy float32": (_net(), _at(2, _group("lr", np.float32(0.05))), STEP),
    "amsgrad switched off": (_net(optimizer="adam", amsgrad=True), _at(2, _group("amsgrad", False)), STEP),
    "Adam's step counts set back to 0": (_net(optimizer="adam"), _at(2, _step_zero), STEP),
    "Adam's exp_avg replaced": (_net(optimizer="adam"), _at(2, lambda names: names["opt"].state[_p0(names)].__setitem__(
        "exp_avg", gg.zeros(4, 3))), STEP),
    "optimizer.load_state_dict twice": (_net(optimizer="adam"), _restore("optimizer"), STEP),
    "model.load_state_dict(assign=True)": (_net(), _restore("assign"), STEP),
    "p.detach().numpy()[0, 0] = 3": (_net(), _at(2, lambda names: _p0(names).detach().numpy().__setitem__((0, 0), 3.0)),
                                     STEP),
    "state_dict()[k].copy_": (
        _net(), _at(2, lambda names: names["model"].state_dict()["0.weight"].copy_(gg.ones(4, 3))), STEP),
    "p.add_(noise) under no_grad": (_net(), _at(2, _no_grad(lambda names: _p0(names).add_(gg.randn(4, 3) * 0.01))),
                                    STEP),
    "vector_to_parameters": (_net(), _at(2, _vector), STEP),
    "model.double()": (_net(optimizer="adam"), _at(2, lambda names: names["model"].double()), DOUBLE),
    "model.half()": (_net(), _at(2, lambda names: names["model"].half()), DOUBLE),
    "bn.eps": (_net("bn"), _at(2, lambda names: setattr(names["model"][1], "eps", 1e-2)), STEP),
    "bn.momentum = None, num_batches_tracked.zero_()": (
        _net("bn"), lambda names, number: (setattr(names["model"][1], "momentum", None) if number == 0 else
                                           names["model"][1].num_batches_tracked.zero_() if number == 3 else None),
        STEP),
    "bn.running_var.fill_(2)": (_net("bn"), _at(2, lambda names: names["model"][1].running_var.fill_(2.0)), STEP),
    "dropout.p as a NumPy number, set twice": (
        _net("drop"), lambda names, number: setattr(names["model"][2], "p", np.float64(0.3 if number < 3 else 0.1))
        if number in (0, 3) else None, STEP),
    "dropout.training = False, then True (not eval())": (
        _net("drop"), _at(2, lambda names: setattr(names["model"][2], "training", False),
                          lambda names: setattr(names["model"][2], "training", True)), STEP),
    "gg.manual_seed(0) before some calls": (_net("drop"), lambda names, number: gg.manual_seed(0)
                                            if number in (2, 3, 6) else None, STEP),
    "get_rng_state, set_rng_state twice": (_net("drop"), _rng_restored, STEP),
    "a layer's bias set to None": (_net(), _at(2, lambda names: names["model"][0].register_parameter("bias", None)),
                                   STEP),
}
"""Edits between calls that the replays already followed."""


@pytest.mark.parametrize("case", list(REPLAYED))
def test_an_edit_between_calls_is_replayed_as_eager(case: str) -> None:
    """Each compiled both ways: the whole step, and the model alone."""
    build, between, source = REPLAYED[case]
    for how in ("step", "model"):
        _replayed(build, between, how, source)


# --- more involved programs -------------------------------------------------------------------------------------------

class _Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc, self.dec, self.head = nn.Linear(3, 3), nn.Linear(3, 3), nn.Linear(3, 2)

    def forward(self, x: gg.Tensor) -> gg.Tensor:
        return self.head(self.dec(self.enc(x).tanh()))


def _tied(tie: bool) -> Build:
    def build(names: dict) -> None:
        names["model"] = model = _Tied()
        if tie:
            model.dec.weight = model.enc.weight
        names["opt"] = gg.optim.Adam(model.parameters(), lr=0.01)
        names["loss_fn"] = nn.MSELoss()

    return build


def _untie(names: dict) -> None:
    model = names["model"]
    model.dec.weight = nn.Parameter(model.enc.weight.detach().clone())
    names["opt"].add_param_group({"params": [model.dec.weight]})


@HOWS
@pytest.mark.parametrize("tie", [True, False], ids=["tied then untied", "untied then tied"])
def test_weights_tied_or_untied_between_calls_train_as_eager(how: str, tie: bool) -> None:
    def retie(names: dict) -> None:
        names["model"].dec.weight = names["model"].enc.weight

    _replayed(_tied(tie), _at(2, _untie if tie else retie), how)


MICRO_STEP = '''
def step(x, y):
    out = model(x)
    loss = loss_fn(out, y) / 2
    loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    return loss, out, norm
'''


@HOWS
@pytest.mark.parametrize("to_none", [True, False], ids=["zero_grad()", "zero_grad(set_to_none=False)"])
def test_gradients_accumulated_over_calls_and_stepped_outside_as_eager(how: str, to_none: bool) -> None:
    def update(names: dict, number: int) -> None:
        if number and number % 2 == 0:
            names["opt"].step()
            names["opt"].zero_grad(set_to_none=to_none)

    _replayed(_net(optimizer="adam"), update, how, MICRO_STEP)


TEACHER_STEP = '''
def step(x, y):
    opt.zero_grad()
    out = model(x)
    with gg.no_grad():
        target = teacher(x)
    loss = loss_fn(out, target) + loss_fn(out, y)
    loss.backward()
    opt.step()
    return loss, out
'''


def _with_teacher(kind: str) -> Build:
    def build(names: dict) -> None:
        _net("drop")(names)
        names["teacher"] = (copy.deepcopy(names["model"]) if kind == "ema" else
                            gg.optim.swa_utils.AveragedModel(names["model"]))

    return build


def _average(names: dict, number: int) -> None:
    if number == 0:
        return
    if isinstance(names["teacher"], gg.optim.swa_utils.AveragedModel):
        names["teacher"].update_parameters(names["model"])
        return
    with gg.no_grad():
        for mean, weight in zip(names["teacher"].parameters(), names["model"].parameters()):
            mean.mul_(0.9).add_(weight, alpha=0.1)


@HOWS
@pytest.mark.parametrize("kind", ["ema", "swa"])
def test_a_teacher_averaged_outside_the_step_is_read_by_the_replays(how: str, kind: str) -> None:
    _replayed(_with_teacher(kind), _average, how, TEACHER_STEP)


def _gan(compiled: bool) -> tuple[list, list, list]:
    """A GAN's two steps, the discriminator frozen before each generator step and unfrozen before its own."""
    gg.manual_seed(0)
    generator = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3))
    critic = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    g_opt, d_opt = gg.optim.Adam(generator.parameters(), lr=0.01), gg.optim.Adam(critic.parameters(), lr=0.01)
    bce = nn.BCEWithLogitsLoss()

    def d_step(real: gg.Tensor, z: gg.Tensor) -> gg.Tensor:
        d_opt.zero_grad()
        fake = generator(z).detach()
        loss = bce(critic(real), gg.ones(4, 1)) + bce(critic(fake), gg.zeros(4, 1))
        loss.backward()
        d_opt.step()
        return loss

    def g_step(z: gg.Tensor) -> gg.Tensor:
        g_opt.zero_grad()
        loss = bce(critic(generator(z)), gg.ones(4, 1))
        loss.backward()
        g_opt.step()
        return loss

    steps = [gg.compile(d_step), gg.compile(g_step)] if compiled else [d_step, g_step]
    rng = np.random.default_rng(1)
    results = []
    for _ in range(CALLS):
        real, z = (gg.tensor(rng.standard_normal(shape), dtype=gg.float32) for shape in ((4, 3), (4, 2)))
        critic.requires_grad_(True)
        results.append(_plain(steps[0](real, z)))
        critic.requires_grad_(False)
        results.append(_plain(steps[1](z)))
        results.append([None if p.grad is None else _plain(p.grad) for p in critic.parameters()])
    state = _plain([dict(generator.state_dict()), dict(critic.state_dict()), g_opt.state_dict(), d_opt.state_dict()])
    return results, state, steps


def test_a_gans_discriminator_frozen_and_unfrozen_around_each_step_trains_as_eager() -> None:
    eager, eager_state, _ = _gan(False)
    results, state, steps = _gan(True)
    _assert_same(eager, results, "results")
    _assert_same(eager_state, state, "state")
    assert [_counts(step) for step in steps] == [(2, CALLS - 2)] * 2


def _validating(names: dict, number: int) -> None:
    """A validation pass with the compiled model in eval() between training calls."""
    if number in (2, 3, 6):
        names["model"].eval()
        with gg.no_grad():
            names["kept"].append(names["cmodel"](names["batches"][0][0]) * 1)
        names["model"].train()


def test_validation_in_eval_between_training_calls_of_a_compiled_model() -> None:
    counts, messages = _same_as_eager(_net("bn"), _validating, "model")
    assert messages == [] and counts == (4, 8), (counts, messages)


@HOWS
def test_a_global_module_hook_registered_between_calls_runs_eagerly_meanwhile(how: str) -> None:
    def hook(names: dict) -> None:
        names["handle"] = nn.register_module_forward_hook(
            lambda module, inputs, output: output * 2 if isinstance(module, nn.Linear) else None)

    counts, messages = _same_as_eager(_net(), _at(2, hook, lambda names: names["handle"].remove()), how)
    assert len(messages) == 1 and "global module hook" in messages[0], messages
    assert counts == (3, CALLS - 6)  # eager from the hook's call until its removal, then replayed
