"""Adadelta, Adamax and NAdam against PyTorch 2.13, with the pattern of ``test_optim_torch.py``.

Both sides get the same pre-computed gradients (float64) over 60 steps, so any difference can
only come from the update rule; parameters and every state entry are compared.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from test_optim_torch import SHAPES, gradient_sequence, run_glassgrad, run_torch, skip_last_param_some_steps

import glassgrad as gg

STEPS = 60
CASES = {
    "adadelta": ("Adadelta", {}),
    "adadelta_everything": ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.1, "maximize": True}),
    "adamax": ("Adamax", {}),
    "adamax_everything": ("Adamax", {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.1,
                                     "maximize": True}),
    "nadam": ("NAdam", {}),
    "nadam_momentum_decay": ("NAdam", {"lr": 0.01, "momentum_decay": 0.01}),
    "nadam_weight_decay": ("NAdam", {"lr": 0.01, "weight_decay": 0.1}),
    "nadam_decoupled": ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True,
                                  "betas": (0.85, 0.99), "eps": 1e-6, "maximize": True}),
}


@pytest.mark.torch
@pytest.mark.parametrize("two_groups", [False, True], ids=["one_group", "two_groups"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_after_many_steps(torch, case, two_groups):
    name, options = CASES[case]
    rng = np.random.default_rng(1)
    starts = [rng.normal(size=shape) for shape in SHAPES]
    grads = gradient_sequence(SHAPES, STEPS, seed=2, skip=skip_last_param_some_steps)
    ours, our_optimizer = run_glassgrad(name, options, starts, grads, two_groups)
    theirs, their_optimizer = run_torch(torch, name, options, starts, grads, two_groups)
    for mine, reference, start in zip(ours, theirs, starts):
        assert not np.allclose(mine.array, start)
        np.testing.assert_allclose(mine.array, reference.detach().numpy(), rtol=1e-5, atol=1e-12)
    our_state, their_state = our_optimizer.state_dict()["state"], their_optimizer.state_dict()["state"]
    assert our_state.keys() == their_state.keys()
    for index, entries in our_state.items():
        assert entries.keys() == their_state[index].keys()
        for key, value in entries.items():
            np.testing.assert_allclose(value, np.asarray(their_state[index][key]), rtol=1e-5, atol=1e-12, err_msg=key)


@pytest.mark.torch
@pytest.mark.parametrize("case", list(CASES))
def test_float32_stays_float32_and_matches_torch(torch, case):
    name, options = CASES[case]
    rng = np.random.default_rng(3)
    starts = [rng.normal(size=shape).astype(np.float32) for shape in SHAPES]
    grads = [[g.astype(np.float32) for g in step] for step in gradient_sequence(SHAPES, 20, seed=4)]
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
@given(case=st.sampled_from(list(CASES)), shape=array_shapes(min_dims=0, max_dims=3, max_side=5),
       seed=st.integers(0, 2**16), lr=st.floats(1e-4, 0.5))
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


@pytest.mark.parametrize("case", list(CASES))
def test_state_dict_round_trip_resumes_exactly(case):
    name, options = CASES[case]
    rng = np.random.default_rng(6)
    starts = [rng.normal(size=shape) for shape in SHAPES]
    grads = gradient_sequence(SHAPES, 10, seed=7)
    straight, _ = run_glassgrad(name, options, starts, grads, two_groups=False)
    first, optimizer = run_glassgrad(name, options, starts, grads[:5], two_groups=False)
    params = [gg.Tensor(p.array.copy(), requires_grad=True) for p in first]
    resumed = getattr(gg.optim, name)(params, **options)
    resumed.load_state_dict(optimizer.state_dict())
    for step_grads in grads[5:]:
        for param, grad in zip(params, step_grads):
            param.grad = gg.Tensor(grad)
        resumed.step()
    for mine, reference in zip(params, straight):
        np.testing.assert_array_equal(mine.array, reference.array)


@pytest.mark.parametrize("name, options, message", [
    ("Adadelta", {"rho": 1.5}, "Invalid rho value: 1.5"),
    ("Adadelta", {"lr": -1.0}, "Invalid learning rate: -1.0"),
    ("Adamax", {"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1: 1.0"),
    ("Adamax", {"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
    ("NAdam", {"momentum_decay": -0.1}, "Invalid momentum_decay value: -0.1"),
    ("NAdam", {"betas": 0.9}, "betas must be a pair"),
])
def test_bad_options_are_one_line_errors(name, options, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        getattr(gg.optim, name)([gg.zeros(2, requires_grad=True)], **options)
    assert "\n" not in str(caught.value)


def test_formulas_show_only_the_options_in_use():
    w = [gg.zeros(2, requires_grad=True)]
    assert gg.optim.Adamax(w).formula_for(gg.optim.Adamax(w).param_groups[0]).splitlines()[0] == "m ← β₁·m + (1 − β₁)·g"
    nadam = gg.optim.NAdam(w, weight_decay=0.1, decoupled_weight_decay=True)
    assert nadam.formula_for(nadam.param_groups[0]).splitlines()[0] == "w ← w − η·λ·w"
    adadelta = gg.optim.Adadelta(w, weight_decay=0.1)
    assert adadelta.formula_for(adadelta.param_groups[0]).splitlines()[0] == "g ← ∇L(w) + λ·w"
