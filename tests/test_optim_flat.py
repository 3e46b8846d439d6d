"""Adam's one-pass update of a small group (flat buffers) against the same rule parameter by parameter.

The oracle is the per-parameter path (``_update_group_at_once`` switched off), compared bit for bit,
over random shapes of the group's tensors and across the changes a program may make between steps:
an ``exp_avg`` replaced in ``optimizer.state``, a parameter's ``.data`` set to a tensor of another
shape, a ``state_dict`` round trip, a step where one parameter has no gradient.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import glassgrad as gg

EVENTS = ("none", "replace_mean", "reshape_param", "round_trip", "no_grad_once")


def run(shapes, seed, events, one_pass):
    rng = np.random.default_rng(seed)
    params = [gg.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True) for shape in shapes]
    optimizer = gg.optim.Adam(params, lr=0.01, maximize=bool(seed % 2))
    if not one_pass:
        optimizer._update_group_at_once = lambda group: False
    for event in events:
        for index, param in enumerate(params):
            skip = event == "no_grad_once" and index == 0
            param.grad = None if skip else gg.tensor(rng.standard_normal(param.shape).astype(np.float32))
        optimizer.step()
        if event == "replace_mean":
            first = optimizer.state[params[-1]]
            first["exp_avg"] = gg.full_like(first["exp_avg"], 0.5)
        elif event == "reshape_param":
            params[0].data = gg.tensor(rng.standard_normal((3, 2)).astype(np.float32))
            optimizer.state.pop(params[0])
        elif event == "round_trip":
            optimizer.load_state_dict(optimizer.state_dict())
    return [p.array for p in params], optimizer


@settings(deadline=None, max_examples=40)
@given(shapes=st.lists(array_shapes(min_dims=0, max_dims=3, max_side=6), min_size=2, max_size=5),
       seed=st.integers(0, 1000), events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=8))
def test_the_one_pass_update_gives_the_per_parameter_numbers(shapes, seed, events):
    fast, fast_optimizer = run(shapes, seed, events, one_pass=True)
    slow, slow_optimizer = run(shapes, seed, events, one_pass=False)
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)
    fast_state, slow_state = fast_optimizer.state_dict()["state"], slow_optimizer.state_dict()["state"]
    assert fast_state.keys() == slow_state.keys()
    for index, entries in fast_state.items():
        for key, value in entries.items():
            np.testing.assert_array_equal(value, slow_state[index][key], err_msg=key)


def test_a_digits_sized_group_takes_the_one_pass_path_and_its_state_views_the_flat_buffers():
    model = gg.nn.mlp([64, 256, 10], seed=0)
    optimizer = gg.optim.Adam(model.parameters(), lr=0.003)
    for _ in range(3):
        for param in model.parameters():
            param.grad = gg.ones_like(param)
        optimizer.step()
    (flat,) = optimizer._flat_groups.values()
    for param in model.parameters():
        state = optimizer.state[param]
        assert state["step"].item() == 3 and state["step"].array.base is flat.steps
        assert state["exp_avg"].array.base is flat.mean and state["exp_avg"].shape == param.shape
        assert state["exp_avg_sq"].array.base is flat.square_mean


def test_the_one_pass_update_counts_one_in_place_change_of_every_parameter():
    model = gg.nn.mlp([3, 4, 2], seed=0)
    optimizer = gg.optim.Adam(model.parameters(), lr=0.01)
    loss = model(gg.ones(5, 3)).sum()
    loss.backward(retain_graph=True)
    before = [param._version for param in model.parameters()]
    optimizer.step()
    assert optimizer._flat_groups, "the one-pass path was never taken"
    assert [param._version for param in model.parameters()] == [version + 1 for version in before]
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()  # the graph read the weights the update changed
