"""Every optimizer against PyTorch 2.13: same start, same gradients, same parameters and state.

Both sides get identical pre-computed gradient sequences (float64), so any difference can
only come from the update rule.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import glassgrad as gg
import glassgrad.optim as optim

STEPS = 20
SHAPES = [(3, 4), (4,), ()]

CASES = {
    "sgd": ("SGD", {"lr": 0.1}),
    "sgd_momentum": ("SGD", {"lr": 0.05, "momentum": 0.9}),
    "sgd_dampening": ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    "sgd_nesterov": ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    "sgd_weight_decay": ("SGD", {"lr": 0.05, "weight_decay": 0.1}),
    "sgd_momentum_weight_decay": ("SGD", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1}),
    "sgd_maximize": ("SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True}),
    "sgd_nesterov_decay_maximize": (
        "SGD", {"lr": 0.02, "momentum": 0.7, "nesterov": True, "weight_decay": 0.2, "maximize": True}
    ),
    "adam": ("Adam", {"lr": 0.01}),
    "adam_amsgrad": ("Adam", {"lr": 0.01, "amsgrad": True}),
    "adam_weight_decay": ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    "adam_betas_eps_maximize": ("Adam", {"lr": 0.02, "betas": (0.8, 0.9), "eps": 1e-6, "maximize": True}),
    "adamw": ("AdamW", {"lr": 0.01}),
    "adamw_amsgrad": ("AdamW", {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True}),
    "rmsprop": ("RMSprop", {"lr": 0.01}),
    "rmsprop_momentum": ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    "rmsprop_centered": ("RMSprop", {"lr": 0.01, "centered": True}),
    "rmsprop_everything": (
        "RMSprop",
        {"lr": 0.005, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.05, "momentum": 0.5, "centered": True,
         "maximize": True},
    ),
    "adagrad": ("Adagrad", {"lr": 0.1}),
    "adagrad_lr_decay": ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    "adagrad_everything": (
        "Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.2}
    ),
}


def gradient_sequence(shapes, steps, seed, skip=None):
    """``steps`` lists of gradients (one per shape), with varied scales; ``None`` where ``skip(step, i)``."""
    rng = np.random.default_rng(seed)
    sequence = []
    for step in range(steps):
        scale = 10.0 ** rng.uniform(-2, 1)
        grads = [rng.normal(0.0, scale, size=shape) for shape in shapes]
        sequence.append([None if skip and skip(step, i) else g for i, g in enumerate(grads)])
    return sequence


def skip_last_param_some_steps(step, index):
    return index == 2 and 5 <= step < 9


def group_specs(n_params, two_groups):
    """Parameter indices and per-group options: one group, or two groups with different lrs."""
    if not two_groups:
        return [(list(range(n_params)), {})]
    return [([0], {"lr": 0.003}), (list(range(1, n_params)), {})]


def run_glassgrad(name, options, starts, grads, two_groups, dtype=np.float64):
    params = [gg.tensor(start.astype(dtype), requires_grad=True) for start in starts]
    groups = [{"params": [params[i] for i in indices], **extra} for indices, extra in group_specs(len(params),
                                                                                                     two_groups)]
    optimizer = getattr(optim, name)(groups, **options)
    for step_grads in grads:
        for param, grad in zip(params, step_grads):
            param.grad = None if grad is None else gg.tensor(grad.astype(dtype))
        optimizer.step()
    return params, optimizer


def run_torch(torch, name, options, starts, grads, two_groups, dtype=None):
    dtype = dtype or torch.float64
    params = [torch.tensor(start, dtype=dtype, requires_grad=True) for start in starts]
    groups = [{"params": [params[i] for i in indices], **extra} for indices, extra in group_specs(len(params),
                                                                                                     two_groups)]
    optimizer = getattr(torch.optim, name)(groups, **options)
    for step_grads in grads:
        for param, grad in zip(params, step_grads):
            param.grad = None if grad is None else torch.tensor(grad, dtype=dtype)
        optimizer.step()
    return params, optimizer


@pytest.mark.torch
@pytest.mark.parametrize("two_groups", [False, True], ids=["one_group", "two_groups"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_after_20_steps(torch, case, two_groups):
    name, options = CASES[case]
    rng = np.random.default_rng(1)
    starts = [rng.normal(size=shape) for shape in SHAPES]
    grads = gradient_sequence(SHAPES, STEPS, seed=2, skip=skip_last_param_some_steps)

    ours, our_optimizer = run_glassgrad(name, options, starts, grads, two_groups)
    theirs, their_optimizer = run_torch(torch, name, options, starts, grads, two_groups)

    for mine, reference, start in zip(ours, theirs, starts):
        assert mine.dtype == np.float64
        assert not np.allclose(mine.array, start)  # the parameters did move
        np.testing.assert_allclose(mine.array, reference.detach().numpy(), rtol=1e-5, atol=1e-12)
    our_state = our_optimizer.state_dict()["state"]
    their_state = their_optimizer.state_dict()["state"]
    assert our_state.keys() == their_state.keys()
    for index, entries in our_state.items():
        assert entries.keys() == their_state[index].keys()
        for key, value in entries.items():
            expected = their_state[index][key]
            np.testing.assert_allclose(value, np.asarray(expected), rtol=1e-5, atol=1e-12, err_msg=key)


@pytest.mark.torch
@pytest.mark.parametrize("case", ["sgd_nesterov", "adam_amsgrad", "adamw", "rmsprop_everything", "adagrad_lr_decay"])
def test_float32_stays_float32_and_matches_torch(torch, case):
    name, options = CASES[case]
    assert_float32_stays_float32_and_matches_torch(torch, name, options, STEPS)


def assert_float32_stays_float32_and_matches_torch(torch, name, options, steps):
    """``steps`` float32 updates of optimizer ``name``: parameters and state stay float32 and match PyTorch's."""
    rng = np.random.default_rng(3)
    starts = [rng.normal(size=shape).astype(np.float32) for shape in SHAPES]
    grads = [[g.astype(np.float32) for g in step] for step in gradient_sequence(SHAPES, steps, seed=4)]

    ours, optimizer = run_glassgrad(name, options, starts, grads, two_groups=False, dtype=np.float32)
    theirs, _ = run_torch(torch, name, options, starts, grads, two_groups=False, dtype=torch.float32)

    for mine, reference in zip(ours, theirs):
        assert mine.dtype == np.float32
        np.testing.assert_allclose(mine.array, reference.detach().numpy(), rtol=2e-4, atol=1e-5)
    for entries in optimizer.state.values():
        for key, value in entries.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, key


@pytest.mark.torch
@given(
    case=st.sampled_from(list(CASES)),
    shape=array_shapes(min_dims=0, max_dims=3, max_side=5),
    seed=st.integers(0, 2**16),
    lr=st.floats(1e-4, 0.5),
)
def test_any_shape_and_lr_matches_torch(torch, case, shape, seed, lr):
    name, options = CASES[case]
    options = {**options, "lr": lr}
    rng = np.random.default_rng(seed)
    starts = [rng.normal(size=shape)]
    grads = gradient_sequence([shape], 5, seed=seed + 1)

    (mine,), _ = run_glassgrad(name, options, starts, grads, two_groups=False)
    (reference,), _ = run_torch(torch, name, options, starts, grads, two_groups=False)

    assert mine.shape == shape
    np.testing.assert_allclose(mine.array, reference.detach().numpy(), rtol=1e-5, atol=1e-12)


@pytest.mark.torch
def test_training_a_linear_model_with_real_gradients_matches_torch(torch):
    """The whole loop, zero_grad → forward → backward → step, as learners write it."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(16, 3))
    y = x @ np.array([[1.5], [-2.0], [0.5]]) + 0.3
    start_w, start_b = rng.normal(size=(3, 1)), np.zeros(1)

    w, b = gg.tensor(start_w, requires_grad=True), gg.tensor(start_b, requires_grad=True)
    optimizer = optim.SGD([w, b], lr=0.05, momentum=0.9, nesterov=True)
    tw = torch.tensor(start_w, requires_grad=True)
    tb = torch.tensor(start_b, requires_grad=True)
    torch_optimizer = torch.optim.SGD([tw, tb], lr=0.05, momentum=0.9, nesterov=True)
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = ((gg.tensor(x) @ w + b - gg.tensor(y)) ** 2).mean()
        loss.backward()
        optimizer.step()
        torch_optimizer.zero_grad()
        torch_loss = ((torch.tensor(x) @ tw + tb - torch.tensor(y)) ** 2).mean()
        torch_loss.backward()
        torch_optimizer.step()
        np.testing.assert_allclose(loss.item(), torch_loss.item(), rtol=1e-5)
    np.testing.assert_allclose(w.array, tw.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(b.array, tb.detach().numpy(), rtol=1e-5)


@pytest.mark.torch
@pytest.mark.parametrize("options", [{}, {"amsgrad": True}, {"maximize": True}])
def test_adam_on_a_parameter_larger_than_a_piece_is_updated_piece_by_piece_with_the_same_numbers(
        torch, monkeypatch, options):
    from glassgrad.optim import adam

    rng = np.random.default_rng(3)
    start = rng.standard_normal((300, 500)).astype(np.float32)  # 150,000 numbers: more than one piece
    grads = [rng.standard_normal(start.shape).astype(np.float32) for _ in range(3)]

    def run(chunk: int) -> np.ndarray:
        monkeypatch.setattr(adam, "CHUNK", chunk)
        w = gg.tensor(start.copy(), requires_grad=True)
        optimizer = gg.optim.Adam([w], lr=0.01, **options)
        for grad in grads:
            w.grad = gg.tensor(grad)
            optimizer.step()
        return w.array

    pieces, whole = run(1 << 12), run(1 << 30)
    np.testing.assert_array_equal(pieces, whole)  # bit for bit
    w = torch.tensor(start.copy(), requires_grad=True)
    reference = torch.optim.Adam([w], lr=0.01, **options)
    for grad in grads:
        w.grad = torch.tensor(grad)
        reference.step()
    np.testing.assert_allclose(pieces, w.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_with_a_zero_learning_rate_moves_nothing_and_keeps_its_averages_as_torch(torch, name):
    """η = 0 (a warm-up schedule's first step): the weights stay, m and v still take the gradient in."""
    rng = np.random.default_rng(7)
    starts = [rng.normal(size=shape) for shape in SHAPES]
    grads = gradient_sequence(SHAPES, 3, seed=8)
    ours, our_optimizer = run_glassgrad(name, {"lr": 0.0}, starts, grads, two_groups=False)
    theirs, their_optimizer = run_torch(torch, name, {"lr": 0.0}, starts, grads, two_groups=False)
    for mine, reference, start in zip(ours, theirs, starts):
        np.testing.assert_array_equal(mine.array, start)
        np.testing.assert_array_equal(mine.array, reference.detach().numpy())
    for index, entries in our_optimizer.state_dict()["state"].items():
        for key in ("exp_avg", "exp_avg_sq"):
            expected = np.asarray(their_optimizer.state_dict()["state"][index][key])
            np.testing.assert_allclose(entries[key], expected, rtol=1e-12, err_msg=key)
