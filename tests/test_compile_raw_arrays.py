"""A compiled step whose own code reads or writes a tensor's NumPy array (``tensor.array``) runs eagerly, saying why.

``x.array`` is the NumPy array itself, outside the kernels a capture records: a write into it
(``m.bias.array[0] += 0.5``) ran at the two captures only, and a Python branch on its numbers
(``if x.array.sum() > 0``) kept the captures' way, so replays went on with other numbers than eager's, without a
word. The oracle is the same step run eagerly: every loss and weight equal, bit for bit.
``np.array(…)`` (an attribute ``array`` of a module) is no such read: that step still replays.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

CALLS = 8
SIGNS = [1.0] * 5 + [-1.0] * (CALLS - 5)  # the branch turns after the captures


def _linear():
    gg.manual_seed(0)
    model = gg.nn.Linear(3, 2, dtype=gg.float64)
    return model, gg.optim.SGD(model.parameters(), lr=0.1)


def _branch_on_the_array(model, opt, w):
    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        if x.array.sum() > 0:
            loss = loss * 2
        loss.backward()
        opt.step()
        return loss
    return step


def _write_into_the_array(model, opt, w):
    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        model.bias.array[0] += 0.5
        return loss
    return step


def _closure_tensor_read(model, opt, w):
    def step(x):
        opt.zero_grad()
        loss = (model(x) * float(w.array[0])).pow(2).mean()
        loss.backward()
        opt.step()
        w.array[0] += 1.0
        return loss
    return step


class _Scaled(gg.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = gg.nn.Linear(3, 2, dtype=gg.float64)
        self.calls = gg.zeros(1, dtype=gg.float64)

    def forward(self, x):
        self.calls.array += 1  # a count kept in a buffer's array
        return self.fc(x) * self.calls.array[0]


def _layer_writes_its_array(model, opt, w):
    layer = _Scaled()
    opt = gg.optim.SGD(layer.parameters(), lr=0.01)

    def step(x):
        opt.zero_grad()
        loss = layer(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    step.watched = layer
    return step


STEPS = {"branch on x.array": _branch_on_the_array, "write into m.bias.array": _write_into_the_array,
         "closure tensor's array": _closure_tensor_read, "layer's forward writes its buffer's array":
         _layer_writes_its_array}


def _run(make, compile_it):
    model, opt = _linear()
    w = gg.tensor([1.0], dtype=gg.float64)
    step = make(model, opt, w)
    watched = getattr(step, "watched", model)
    run = gg.compile(step) if compile_it else step
    losses, messages = [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for sign in SIGNS:
            losses.append(run(gg.full((4, 3), sign, dtype=gg.float64)).item())
    messages = [str(warning.message) for warning in caught]
    return losses, [p.numpy().copy() for p in watched.parameters()], messages, run


@pytest.mark.parametrize("case", sorted(STEPS))
def test_a_step_naming_a_tensors_array_runs_eagerly_with_eagers_numbers(case):
    eager_losses, eager_weights, _, _ = _run(STEPS[case], False)
    losses, weights, messages, compiled = _run(STEPS[case], True)
    assert losses == eager_losses
    for mine, theirs in zip(weights, eager_weights, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert any("(.array)" in message for message in messages), messages
    assert sum(entry.replays for entry in compiled.entries.values()) == 0


def test_np_array_in_a_step_is_not_a_tensors_array_and_the_step_replays():
    def make(model, opt, w):
        def step(x):
            opt.zero_grad()
            loss = (model(x) * gg.tensor(np.array([1.0, 2.0]))).pow(2).mean()
            loss.backward()
            opt.step()
            return loss
        return step
    eager_losses, eager_weights, _, _ = _run(make, False)
    losses, weights, messages, compiled = _run(make, True)
    assert losses == eager_losses and messages == []
    for mine, theirs in zip(weights, eager_weights, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert sum(entry.replays for entry in compiled.entries.values()) == CALLS - 2
