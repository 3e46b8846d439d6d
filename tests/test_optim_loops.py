"""Training-loop habits from PyTorch code, run on glassgrad: the calls learners write around the update.

Each test here failed before its fix: a keyword PyTorch takes, a warning PyTorch gives, a
name PyTorch has. Numbers are compared with PyTorch 2.13 in float64 where it is installed.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def gradients(module, arrays):
    """Leaf tensors of ``module`` (gg or torch) holding ``arrays`` as their ``.grad``."""
    params = [module.zeros(a.shape, dtype=module.float64, requires_grad=True) for a in arrays]
    for param, array in zip(params, arrays):
        param.grad = module.tensor(array)
    return params


@pytest.mark.torch
@given(seed=st.integers(0, 2**16), foreach=st.sampled_from([None, True, False]),
       norm_type=st.sampled_from([1.0, 2.0, 3.0, float("inf")]))
def test_clip_grad_norm_takes_foreach_and_matches_torch(torch, seed, foreach, norm_type):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(3, 4)), rng.normal(size=(5,))]
    ours, theirs = gradients(gg, arrays), gradients(torch, arrays)
    got = gg.nn.utils.clip_grad_norm_(ours, 0.5, norm_type=norm_type, foreach=foreach)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type=norm_type, foreach=foreach)
    np.testing.assert_allclose(got.item(), expected.item(), rtol=1e-12)
    for mine, torch_param in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), torch_param.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_value_takes_foreach_and_matches_torch(torch, foreach):
    arrays = [np.linspace(-2, 2, 12).reshape(3, 4)]
    ours, theirs = gradients(gg, arrays), gradients(torch, arrays)
    gg.nn.utils.clip_grad_value_(ours, 0.7, foreach=foreach)
    torch.nn.utils.clip_grad_value_(theirs, 0.7, foreach=foreach)
    np.testing.assert_array_equal(ours[0].grad.numpy(), theirs[0].grad.numpy())
