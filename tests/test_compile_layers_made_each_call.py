"""A step (or a forward) that builds a layer at each call, ``nn.ReLU()(x)``, calls a new layer each time.

A key keeps one capture waiting per set of layers (and their modes) it met, for the next call that meets the same
set to confirm; a set met once only waited forever: each call captured (slower than eager), none replayed, and the
waiting captures piled up, holding their arrays, without a word. Now, once more sets wait than a key keeps programs
for, the step runs eagerly, naming the new layer; the outputs are eager's, bit for bit.
"""

from __future__ import annotations

import warnings

import numpy as np

import glassgrad as gg
from glassgrad.compiler.compiled import MAX_MODES


class _BuildsItsActivation(gg.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = gg.nn.Linear(3, 2, dtype=gg.float64)

    def forward(self, x):
        return gg.nn.ReLU()(self.fc(x))


def test_a_layer_built_in_forward_at_each_call_runs_eagerly_saying_which_and_keeps_nothing():
    gg.manual_seed(0)
    model = _BuildsItsActivation()
    run = gg.compile(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for call in range(12):
            x = gg.full((2, 3), call - 5.0, dtype=gg.float64)
            np.testing.assert_array_equal(run(x).detach().numpy(), model(x).detach().numpy())
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 1 and "ReLU new at this one" in messages[0], messages
    (entry,) = run._compiled.entries.values()
    assert entry.captures == MAX_MODES + 1 and not entry.pending  # then eager: nothing more captured or kept


def test_a_step_building_a_layer_at_each_call_runs_eagerly_with_eagers_weights():
    def train(compile_it):
        gg.manual_seed(0)
        fc = gg.nn.Linear(3, 2, dtype=gg.float64)
        opt = gg.optim.SGD(fc.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = gg.nn.Tanh()(fc(x)).pow(2).mean()
            loss.backward()
            opt.step()
            return loss

        run = gg.compile(step) if compile_it else step
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            losses = [run(gg.full((4, 3), 0.5 * call, dtype=gg.float64)).item() for call in range(10)]
        return losses, fc.weight.numpy().copy(), run

    eager, compiled = train(False), train(True)
    assert compiled[0] == eager[0]
    np.testing.assert_array_equal(compiled[1], eager[1])
    (entry,) = compiled[2].entries.values()
    assert entry.refusal is not None and "Tanh new at this one" in entry.refusal
