"""Layers built with non-default arguments against PyTorch 2.13 in float64: each test pins one construction
that once differed from PyTorch (an error, or a different value, gradient or buffer)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


def _copy_state(torch_layer, layer) -> None:
    layer.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in torch_layer.state_dict().items()})


@pytest.mark.torch
@settings(max_examples=10)
@given(batch=st.integers(1, 3), channels=st.integers(1, 3), length=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_instance_norm_with_momentum_none_keeps_its_running_statistics(torch, batch, channels, length, seed):
    values = np.random.default_rng(seed).normal(size=(batch, channels, length)) * 2 + 1
    theirs = torch.nn.InstanceNorm1d(channels, momentum=None, affine=True, track_running_stats=True,
                                     dtype=torch.float64)
    mine = gg.nn.InstanceNorm1d(channels, momentum=None, affine=True, track_running_stats=True, dtype=gg.float64)
    for training in (True, False):
        theirs.train(training), mine.train(training)
        out_theirs = theirs(torch.tensor(values))
        out_mine = mine(gg.tensor(values))
        np.testing.assert_allclose(out_mine.detach().numpy(), out_theirs.detach().numpy(), rtol=1e-9, atol=1e-12)
        for name, buffer in theirs.named_buffers():
            np.testing.assert_array_equal(getattr(mine, name).numpy(), buffer.numpy())
