"""A compiled step that writes outside itself at each call (prints, logs, warns, updates a progress bar) runs
eagerly, saying why.

A replay runs none of the step's Python: ``print("step")``, ``print(x.shape)`` in a ``forward``, ``log.info(…)``,
``warnings.warn(…)``, ``sys.stdout.write(…)`` and a progress bar's ``update(1)`` ran at the two captures only, and
later calls printed and logged nothing, without a word; a branch on the clock (``time.time()``, ``perf_counter()``,
``datetime.now()``) kept the captures' way. The oracle is the same step run eagerly: what it printed
and logged, call by call, and its losses and weights, bit for bit.
"""

from __future__ import annotations

import datetime
import logging
import sys
import time
import warnings
from time import perf_counter

import numpy as np
import pytest

import glassgrad as gg

CALLS = 6
LOG = logging.getLogger("glassgrad.tests.side_effects")


class _Bar:
    """A progress bar as tqdm's: what a step names of it is a tqdm object (its class's module is tqdm's)."""

    __module__ = "tqdm.std"

    def __init__(self):
        self.n = 0

    def update(self, count):
        self.n += count



class _Shapes(gg.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = gg.nn.Linear(3, 2, dtype=gg.float64)

    def forward(self, x):
        print("forward", tuple(x.shape))  # a learner's debugging line
        return self.fc(x)


def _setup(kind):
    gg.manual_seed(0)
    model = _Shapes() if kind == "print in forward" else gg.nn.Linear(3, 2, dtype=gg.float64)
    opt = gg.optim.SGD(model.parameters(), lr=0.1)
    bar = _Bar()

    def train(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    steps = {
        "print": lambda x: (print("step"), train(x))[1],
        "print in forward": train,
        "logger": lambda x: (LOG.info("step"), train(x))[1],
        "logging module": lambda x: (logging.getLogger("glassgrad.tests.side_effects").info("step"), train(x))[1],
        "warnings.warn": lambda x: (warnings.warn("step", stacklevel=1), train(x))[1],
        "sys.stdout": lambda x: (sys.stdout.write("step\n"), train(x))[1],
        "progress bar": lambda x: (bar.update(1), train(x))[1],
    }
    return model, steps[kind], bar


KINDS = ["print", "print in forward", "logger", "logging module", "warnings.warn", "sys.stdout", "progress bar"]


def _run(kind, compile_it, capsys, caplog):
    model, step, bar = _setup(kind)
    run = gg.compile(step) if compile_it else step
    losses, messages = [], []
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.INFO, logger=LOG.name):
        warnings.simplefilter("always")
        for call in range(CALLS):
            losses.append(run(gg.full((4, 3), 1.0 + call, dtype=gg.float64)).item())
    written = capsys.readouterr().out
    messages = [str(warning.message) for warning in caught]
    logged = [record.getMessage() for record in caplog.records]
    caplog.clear()
    steps_warned = messages.count("step")
    return (losses, [p.numpy().copy() for p in model.parameters()], written, logged, steps_warned, bar.n,
            [message for message in messages if message.startswith("gg.compile")], run)


@pytest.mark.parametrize("kind", KINDS)
def test_a_step_writing_outside_itself_runs_eagerly_and_writes_at_each_call(kind, capsys, caplog):
    eager = _run(kind, False, capsys, caplog)
    compiled = _run(kind, True, capsys, caplog)
    assert compiled[0] == eager[0]
    for mine, theirs in zip(compiled[1], eager[1], strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert compiled[2:6] == eager[2:6]  # printed, logged, warned and counted as eager, at each call
    assert any(count for count in eager[2:6])  # the step did write something
    assert len(compiled[6]) == 1 and "at each call, which a replay would not do" in compiled[6][0], compiled[6]
    assert sum(entry.replays for entry in compiled[7].entries.values()) == 0


def test_a_step_that_writes_nothing_outside_still_replays(capsys, caplog):
    model, _, _ = _setup("logger")

    def step(x):
        return model(x).pow(2).mean()
    compiled = gg.compile(step)
    for call in range(CALLS):
        assert compiled(gg.full((4, 3), 1.0 + call, dtype=gg.float64)).item() == step(
            gg.full((4, 3), 1.0 + call, dtype=gg.float64)).item()
    assert sum(entry.replays for entry in compiled.entries.values()) == CALLS - 2


CLOCK_STEPS = {
    "time.time()": lambda model: lambda x: model(x).sum() * (2.0 if time.time() > START[0] else 1.0),
    "perf_counter()": lambda model: lambda x: model(x).sum() * (2.0 if perf_counter() > START[1] else 1.0),
    "datetime.now()": lambda model: lambda x: model(x).sum() * (
        2.0 if datetime.datetime.now().timestamp() > START[0] else 1.0),
}
START = [0.0, 0.0]
LIMIT = 0.6  # seconds: the first five calls take a few milliseconds


@pytest.mark.parametrize("kind", sorted(CLOCK_STEPS))
def test_a_step_branching_on_the_clock_runs_eagerly_taking_eagers_branch(kind):
    """``if time.time() - start > limit: …`` inside the step: replays kept the captures' branch after the time had
    passed, without a word."""
    def outputs(compile_it):
        gg.manual_seed(0)
        model = gg.nn.Linear(3, 2, dtype=gg.float64)
        START[:] = [time.time() + LIMIT, perf_counter() + LIMIT]  # the branch turns at call 5, as time passes
        step = CLOCK_STEPS[kind](model)
        run = gg.compile(step) if compile_it else step
        seen = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for call in range(CALLS + 2):
                if call == 5:
                    time.sleep(LIMIT + 0.05)
                seen.append(run(gg.full((2, 3), 1.0, dtype=gg.float64)).item())
        return seen, [str(w.message) for w in caught]

    (eager, _), (compiled, messages) = outputs(False), outputs(True)
    assert compiled == eager and eager[-1] == 2 * eager[0]
    assert len(messages) == 1 and "the clock is read" in messages[0], messages


def test_a_step_saving_a_checkpoint_runs_eagerly_and_the_file_holds_the_latest_weights(tmp_path):
    """``gg.save(model.state_dict(), path)`` inside the step: the file kept the second capture's weights while the
    replays trained on, without a word. Now the step runs eagerly, saying why, and the file is eager's."""
    def train(compile_it, path):
        gg.manual_seed(0)
        model = gg.nn.Linear(3, 2, dtype=gg.float64)
        opt = gg.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            opt.step()
            gg.save(model.state_dict(), path)
            return loss

        run = gg.compile(step) if compile_it else step
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for call in range(CALLS):
                run(gg.full((4, 3), 1.0 + call, dtype=gg.float64))
        return gg.load(path), model.weight.numpy().copy(), [str(w.message) for w in caught]

    eager = train(False, tmp_path / "eager.safetensors")
    compiled = train(True, tmp_path / "compiled.safetensors")
    np.testing.assert_array_equal(compiled[0]["weight"].numpy(), compiled[1])  # the file holds the last weights
    np.testing.assert_array_equal(compiled[0]["weight"].numpy(), eager[0]["weight"].numpy())
    assert len(compiled[2]) == 1 and "gg.save writes a file" in compiled[2][0], compiled[2]
