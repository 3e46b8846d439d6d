"""Writes into a layer's weights made by library code inside a compiled step: ``load_state_dict`` (a target
network's soft update, DDPG's ``target ← τ·online + (1 − τ)·target``) and ``vector_to_parameters``.

``load_state_dict`` copied with NumPy in Python, outside the kernels: a replay never wrote, and the target network
stayed at the second capture's weights while eager's moved on, without a word. ``vector_to_parameters`` wrote in a
kernel but counted the in-place change outside it: a replay left the weight's version as it was, so a backward
through a graph that saved the weight before the step went through where eager refuses it. Both writes, and their
counts, are now one kernel each (:func:`glassgrad.autograd.copy_counted`). The oracle is the same step run eagerly.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

CALLS = 8


def _soft_update(compile_it):
    gg.manual_seed(0)
    online, target = gg.nn.Linear(3, 2, dtype=gg.float64), gg.nn.Linear(3, 2, dtype=gg.float64)
    opt = gg.optim.SGD(online.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = (online(x) - target(x).detach()).pow(2).mean()
        loss.backward()
        opt.step()
        kept, new = target.state_dict(), online.state_dict()
        target.load_state_dict({name: 0.9 * kept[name] + 0.1 * new[name] for name in kept})
        return loss

    run = gg.compile(step) if compile_it else step
    losses = [run(gg.full((4, 3), 0.1 * call, dtype=gg.float64)).item() for call in range(CALLS)]
    return losses, [p.numpy().copy() for p in target.parameters()], run


def test_a_soft_update_by_load_state_dict_in_a_compiled_step_moves_the_target_as_eager():
    (eager, eager_target, _), (compiled, target, run) = _soft_update(False), _soft_update(True)
    assert compiled == eager
    for mine, theirs in zip(target, eager_target, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert sum(entry.replays for entry in run.entries.values()) == CALLS - 2


@pytest.mark.parametrize("write", ["vector_to_parameters", "load_state_dict"])
def test_a_write_in_a_replay_counts_as_an_in_place_change_as_eager(write):
    """A graph made before the call saved the weight; the step writes into it; eager's backward through that graph
    refuses it (the weight changed in place), and so must the compiled run's."""
    def outcome(compile_it):
        gg.manual_seed(0)
        layer = gg.nn.Linear(3, 2, dtype=gg.float64)

        def step(v):
            if write == "vector_to_parameters":
                gg.nn.utils.vector_to_parameters(v, layer.parameters())
            else:
                layer.load_state_dict({"weight": v[:6].view(2, 3), "bias": v[6:]})
            return v.sum()

        run = gg.compile(step) if compile_it else step
        seen = []
        for call in range(5):
            x = gg.full((1, 3), 1.0 + call, dtype=gg.float64, requires_grad=True)
            kept = (layer(x) * layer.weight.sum()).sum()  # saved the weight before the step
            run(gg.full((8,), 0.5 * call, dtype=gg.float64))
            try:
                kept.backward()
                seen.append(x.grad.numpy().copy())
            except RuntimeError as error:
                seen.append(str(error).split(";")[0])
        return seen, run

    (eager, _), (compiled, run) = outcome(False), outcome(True)
    assert all(isinstance(entry, str) for entry in eager)  # eager refuses each time
    assert compiled == eager
    assert sum(entry.replays for entry in run.entries.values()) == 3
