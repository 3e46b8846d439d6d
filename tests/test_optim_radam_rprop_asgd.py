"""RAdam, Rprop and ASGD against PyTorch 2.13, with the pattern of ``test_optim_torch.py``.

Both sides get the same pre-computed gradients (float64) over 60 steps, so any difference can
only come from the update rule; parameters and every state entry are compared.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from test_optim_torch import (
    SHAPES,
    assert_float32_stays_float32_and_matches_torch,
    gradient_sequence,
    run_glassgrad,
    run_torch,
    skip_last_param_some_steps,
)

import glassgrad as gg

STEPS = 60
CASES = {
    "radam": ("RAdam", {}),
    "radam_everything": ("RAdam", {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.1,
                                   "maximize": True}),
    "radam_decoupled": ("RAdam", {"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    "rprop": ("Rprop", {}),
    "rprop_everything": ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2), "maximize": True}),
    "asgd": ("ASGD", {}),
    "asgd_averaging": ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 10, "weight_decay": 0.1}),
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
    assert_float32_stays_float32_and_matches_torch(torch, name, options, 20)


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
    ("RAdam", {"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1: 1.0"),
    ("Rprop", {"etas": (1.5, 1.2)}, "Invalid eta values: 1.5, 1.2"),
    ("Rprop", {"step_sizes": (1.0, 0.1)}, "Invalid step sizes: 1.0, 0.1"),
    ("ASGD", {"alpha": -1.0}, "Invalid alpha value: -1.0"),
])
def test_bad_options_are_one_line_errors(name, options, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        getattr(gg.optim, name)([gg.zeros(2, requires_grad=True)], **options)
    assert "\n" not in str(caught.value)


def test_formulas_show_only_the_options_in_use():
    w = [gg.zeros(2, requires_grad=True)]
    radam = gg.optim.RAdam(w, weight_decay=0.1, decoupled_weight_decay=True)
    assert radam.formula_for(radam.param_groups[0]).splitlines()[0] == "w ← w·(1 − η·λ)"
    rprop = gg.optim.Rprop(w)
    assert rprop.formula_for(rprop.param_groups[0]).splitlines()[0] == "s = sign(g·g_prev)"
    asgd = gg.optim.ASGD(w, weight_decay=0.1)
    assert asgd.formula_for(asgd.param_groups[0]).splitlines()[0] == "g ← ∇L(w) + λ·w"
