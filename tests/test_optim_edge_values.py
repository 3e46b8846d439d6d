"""Optimizers at edge values, against PyTorch 2.13: learning rates so small that folding them into one constant
overflowed, and checkpoints whose parameter groups lack keys of a newer release."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _adam_steps(lib, name, dtype, lr, start):
    weights = [lib.tensor(np.array(start, dtype=dtype), requires_grad=True),
               lib.tensor(np.array(start[::-1], dtype=dtype), requires_grad=True)]  # two: the flat-group path too
    optimizer = getattr(lib.optim, name)(weights, lr=lr)
    for gradient in ([0.1, 0.0, -3.0], [0.0, 0.0, 1.0], [2.0, -1.0, 0.0]):
        for weight in weights:
            weight.grad = lib.tensor(np.array(gradient, dtype=dtype))
        optimizer.step()
    return [weight.detach().numpy() for weight in weights]


@pytest.mark.torch
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("dtype, lr, scale, atol", [("float32", 1e-40, 1e-38, 0), ("float32", 1e-25, 1e-24, 0),
                                                    ("float64", 1e-200, 1e-199, 0),
                                                    ("float64", 5e-324, 1e-322, 2e-323)])  # subnormal: few digits
def test_adam_with_a_tiny_learning_rate_steps_as_pytorch(torch, name, dtype, lr, scale, atol):
    """η below about 10⁻¹⁹ (float32) made √v·a overflow: 0·∞ gave NaN weights (and η = 5e-324 raised
    ZeroDivisionError); the weights are of η's size, so the step shows."""
    start = [3 * scale, -2 * scale, scale]
    mine, theirs = _adam_steps(gg, name, dtype, lr, start), _adam_steps(torch, name, dtype, lr, start)
    for a, b in zip(mine, theirs):
        assert np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=atol)


def _resumed(lib, kind, old_options, options, drop):
    weight = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
    saved = getattr(lib.optim, kind)([weight], **old_options).state_dict()
    for key in drop:
        del saved["param_groups"][0][key]
    optimizer = getattr(lib.optim, kind)([weight], **options)
    optimizer.param_groups[0]["tag"] = "mine"  # a key only the live group has
    optimizer.load_state_dict(saved)
    for _ in range(3):
        weight.grad = lib.tensor([0.3, -1.0], dtype=lib.float64)
        optimizer.step()
    return weight.detach().numpy(), {key: value for key, value in optimizer.param_groups[0].items() if key != "params"}


@pytest.mark.torch
@pytest.mark.parametrize("kind, old_options, options, drop", [
    ("Adam", dict(lr=0.1, weight_decay=0.5), dict(lr=0.1, weight_decay=0.5, decoupled_weight_decay=True,
                                                  amsgrad=True), ("decoupled_weight_decay", "amsgrad")),
    ("SGD", dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True),
     ("nesterov", "maximize")),
])
def test_a_checkpoint_without_newer_options_loads_the_class_defaults_as_pytorch(torch, kind, old_options, options,
                                                                                drop):
    """The saved group was merged over the live one: a checkpoint without ``decoupled_weight_decay`` kept this
    optimizer's True and trained by another rule than PyTorch, which gives a missing option the class's default
    (and drops a key only the live group had)."""
    mine, my_group = _resumed(gg, kind, old_options, options, drop)
    theirs, their_group = _resumed(torch, kind, old_options, options, drop)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    assert {key: my_group[key] for key in drop} == {key: their_group[key] for key in drop}
    assert "tag" not in my_group and "tag" not in their_group
