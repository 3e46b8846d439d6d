"""What the user's own functions read, when a library's step or a layer holds them and calls them.

``gg.fit(model, my_loss, …, compile=True)`` compiles fit's step, whose code is glassgrad's, and that step calls the
loss function the user gave it.

The names a step reads are found in the user's code only (glassgrad's own globals are not guarded), so the loss
function's were never read: a replay went on with a global ``ALPHA`` as the captures read it after a callback
changed it between epochs, and trained on another loss than eager's, without a word. Now the user's functions a
library's step holds (in its closure, its object, or an object of glassgrad's that holds them: fit's ``TrainState``)
are read as the step's helpers are. The oracle is the same fit run eagerly: weights and history, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.compiler

F = gg.nn.functional
ALPHA = 1.0


def _global_alpha(out, y):
    return ALPHA * F.mse_loss(out, y)


class _ScaledLoss:
    """A callable loss object whose scale a callback changes (its ``self.alpha``)."""

    def __init__(self):
        self.alpha = 1.0

    def __call__(self, out, y):
        return self.alpha * F.mse_loss(out, y)


class _Bump(gg.training.Callback):
    def __init__(self, loss):
        self.loss = loss

    def on_epoch_end(self, state):
        global ALPHA
        ALPHA *= 10.0
        if isinstance(self.loss, _ScaledLoss):
            self.loss.alpha *= 10.0


LOSSES = {"a function reading a global": lambda: _global_alpha,
          "a lambda reading a global": lambda: (lambda out, y: ALPHA * F.mse_loss(out, y)),
          "a callable object's attribute": _ScaledLoss}


def _fit(make_loss, compile_it, monkeypatch, bump=True):
    global ALPHA
    ALPHA = 1.0
    compiled = []
    if compile_it:  # keep fit's compiled step, to count its replays
        original = glassgrad.compiler.compile
        monkeypatch.setattr(glassgrad.compiler, "compile", lambda step: compiled.append(original(step)) or compiled[-1])
    gg.manual_seed(0)
    model = gg.nn.Linear(3, 1, dtype=gg.float64)
    opt = gg.optim.SGD(model.parameters(), lr=0.01)
    x = gg.tensor(np.random.default_rng(0).normal(size=(32, 3)))
    loader = gg.data.DataLoader(gg.data.TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)
    loss = make_loss()
    history = gg.fit(model, loss, opt, loader, epochs=3, callbacks=[_Bump(loss)] if bump else [], progress=False,
                     compile=compile_it)
    losses = [record["train_loss"] for record in history.records]
    replays = sum(entry.replays for entry in compiled[0].entries.values()) if compiled else None
    return model.weight.numpy().copy(), model.bias.numpy().copy(), losses, replays


@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_fit_compiled_reads_what_the_users_loss_reads_at_each_epoch(kind, monkeypatch):
    eager = _fit(LOSSES[kind], False, monkeypatch)
    compiled = _fit(LOSSES[kind], True, monkeypatch)
    for mine, theirs in zip(compiled[:3], eager[:3], strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert compiled[3] == 3 * (4 - 2)  # each epoch's scale captured twice, then replayed


def test_fit_compiled_with_a_users_loss_unchanged_replays_from_the_third_step(monkeypatch):
    eager = _fit(LOSSES["a function reading a global"], False, monkeypatch, bump=False)
    compiled = _fit(LOSSES["a function reading a global"], True, monkeypatch, bump=False)
    for mine, theirs in zip(compiled[:3], eager[:3], strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert compiled[3] == 3 * 4 - 2


def test_a_compiled_library_function_holding_a_users_function_in_its_closure_reads_its_globals():
    """A step made by a library's factory, a closure whose code is glassgrad's holding a function of the user's,
    reads the user's function's globals."""
    global ALPHA
    ALPHA = 1.0
    from glassgrad.compiler.names import names_read

    def users(out):
        return ALPHA * out

    reads, refusals = names_read(_library_closure(users), [])
    assert refusals == [] and any(read.name == "ALPHA" for read in reads)


def _library_closure(function):
    """A closure whose code counts as a library's: compiled from a file under glassgrad's package folder."""
    source = "def make(function):\n    def step(x):\n        return function(x)\n    return step\n"
    scope: dict = {}
    exec(compile(source, str(glassgrad.compiler.__path__[0]) + "/_made_for_a_test.py", "exec"), scope)
    return scope["make"](function)


def _lambda_layer(function):
    class Lambda(gg.nn.Module):
        """fast.ai's and many courses' layer wrapping a function: ``self.fn = fn``, called in ``forward``."""

        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, x):
            return self.fn(x)

    return Lambda(function)


def _scaled(x):
    return x * ALPHA


class _GlobalScale:
    def __call__(self, x):
        return x * ALPHA


HELD = {"a function": lambda: _scaled, "a lambda calling one": lambda: (lambda x: _scaled(x) + 1),
        "a callable object": _GlobalScale}


@pytest.mark.parametrize("kind", sorted(HELD))
def test_a_compiled_model_reads_what_a_function_its_layer_holds_reads(kind):
    """``nn.Sequential(nn.Linear(…), Lambda(fn))`` under ``gg.compile``: a replay kept ``fn``'s global as the
    captures read it after it changed, without a word."""
    global ALPHA

    def outputs(compile_it):
        global ALPHA
        ALPHA = 1.0
        gg.manual_seed(0)
        model = gg.nn.Sequential(gg.nn.Linear(3, 2, dtype=gg.float64), _lambda_layer(HELD[kind]()))
        run = gg.compile(model) if compile_it else model
        seen = []
        for call in range(8):
            ALPHA = 1.0 if call < 5 else 3.0
            seen.append(run(gg.full((2, 3), 1.0 + call, dtype=gg.float64)).detach().numpy().copy())
        return seen

    for mine, theirs in zip(outputs(True), outputs(False), strict=True):
        np.testing.assert_array_equal(mine, theirs)


ACTIVATIONS = {"scaled": _scaled}
CHAIN = [_scaled]


def _step(kind, layer):
    if kind == "a dict's entry":
        return lambda x: ACTIVATIONS["scaled"](layer(x))
    if kind == "a list's entries":
        return lambda x: sum(function(layer(x)) for function in CHAIN)
    if kind == "a closure's tuple":
        functions = (_scaled,)
        return lambda x: functions[0](layer(x))
    return lambda x, function: function(layer(x))  # an argument


@pytest.mark.parametrize("kind", ["a dict's entry", "a list's entries", "a closure's tuple", "an argument"])
def test_a_compiled_step_reads_what_a_function_it_is_given_or_reads_from_a_container_reads(kind):
    """A function the step calls from a dict, list or tuple it reads by name, or one passed as an argument: its
    globals were never read (the container's entries, and the argument, guarded by identity), so a replay kept the
    captures' ``ALPHA`` after it changed, without a word."""
    global ALPHA

    def outputs(compile_it):
        global ALPHA
        gg.manual_seed(0)
        step = _step(kind, gg.nn.Linear(3, 2, dtype=gg.float64))
        run = gg.compile(step) if compile_it else step
        seen = []
        for call in range(8):
            ALPHA = 1.0 if call < 5 else 3.0
            given = (_scaled,) if kind == "an argument" else ()
            seen.append(run(gg.full((2, 3), 1.0 + call, dtype=gg.float64), *given).detach().numpy().copy())
        return seen

    for mine, theirs in zip(outputs(True), outputs(False), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_a_layer_holding_a_class_or_a_ufunc_still_replays():
    """Callables whose code is not Python's (a class, NumPy's ufunc) held by a layer or passed: nothing to read."""

    class Holder(gg.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.kind, self.ufunc = gg.nn.Linear(3, 2, dtype=gg.float64), gg.nn.ReLU, np.tanh

        def forward(self, x, extra):
            return self.fc(x).relu() * extra[0]

    gg.manual_seed(0)
    model = Holder()
    run = gg.compile(model)
    for call in range(5):
        x = gg.full((2, 3), 1.0 + call, dtype=gg.float64)
        np.testing.assert_array_equal(run(x, (2.0, np.tanh)).detach().numpy(), model(x, (2.0, np.tanh)).numpy())
    assert sum(entry.replays for entry in run._compiled.entries.values()) == 3


def test_a_compiled_model_reads_what_an_activation_given_to_a_library_layer_reads():
    """``nn.TransformerEncoderLayer(…, activation=my_act)``: a layer of glassgrad's holding the user's function; its
    global was replayed as the captures read it, without a word."""
    global ALPHA

    def outputs(compile_it):
        global ALPHA
        gg.manual_seed(0)
        layer = gg.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True,
                                              activation=lambda x: F.relu(x) * ALPHA)
        run = gg.compile(layer) if compile_it else layer
        seen = []
        for call in range(7):
            ALPHA = 1.0 if call < 4 else 3.0
            seen.append(run(gg.full((2, 3, 8), 0.1 * call)).detach().numpy().copy())
        return seen

    for mine, theirs in zip(outputs(True), outputs(False), strict=True):
        np.testing.assert_array_equal(mine, theirs)
