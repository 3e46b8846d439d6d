"""GroupNorm, RMSNorm and InstanceNorm (layers and ``F.*``) against PyTorch 2.13: outputs, the gradients of
the input and of γ, β, and the running statistics, over hypothesis-drawn shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _run(lib, make, values, weights, steps=1):
    layer = make(lib)
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    for _ in range(steps):
        out = layer(x)
    (out * lib.tensor(np.resize(weights, tuple(out.shape)), dtype=lib.float64)).sum().backward()
    found = [out.detach().numpy(), x.grad.numpy()]
    found += [p.grad.numpy() for p in layer.parameters()]
    found += [b.numpy() for b in layer.buffers() if b is not None and b.dtype != lib.int64]
    return found


def _compare(torch, make, values, seed, steps=1):
    weights = np.random.default_rng(seed).normal(size=256)
    mine, theirs = _run(gg, make, values, weights, steps), _run(torch, make, values, weights, steps)
    assert len(mine) == len(theirs)
    for ours, reference in zip(mine, theirs):
        np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-12)


@pytest.mark.torch
@given(batch=st.integers(1, 3), groups=st.integers(1, 3), per_group=st.integers(1, 3), length=st.integers(1, 4),
       affine=st.booleans(), seed=st.integers(0, 2**16))
def test_group_norm_matches_pytorch(torch, batch, groups, per_group, length, affine, seed):
    channels = groups * per_group
    values = np.random.default_rng(seed).normal(size=(batch, channels, length, 2))
    _compare(torch, lambda lib: lib.nn.GroupNorm(groups, channels, eps=1e-3, affine=affine, dtype=lib.float64),
             values, seed)


@pytest.mark.torch
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), normalized=st.integers(1, 2),
       eps=st.sampled_from([None, 1e-4]), affine=st.booleans(), seed=st.integers(0, 2**16))
def test_rms_norm_matches_pytorch(torch, shape, normalized, eps, affine, seed):
    normalized = min(normalized, len(shape))
    values = np.random.default_rng(seed).normal(size=shape)
    _compare(torch, lambda lib: lib.nn.RMSNorm(shape[-normalized:], eps=eps, elementwise_affine=affine,
                                                dtype=lib.float64), values, seed)


@pytest.mark.torch
@given(batch=st.integers(1, 3), channels=st.integers(1, 3), length=st.integers(2, 5), affine=st.booleans(),
       track=st.booleans(), seed=st.integers(0, 2**16))
def test_instance_norm_matches_pytorch_in_training_and_eval(torch, batch, channels, length, affine, track, seed):
    values = np.random.default_rng(seed).normal(size=(batch, channels, length))
    def make(lib):
        return (lib.nn.InstanceNorm1d(channels, affine=affine, track_running_stats=track, momentum=0.3,
                                                   dtype=lib.float64))
    _compare(torch, make, values, seed, steps=2)
    _compare(torch, lambda lib: make(lib).eval(), values, seed)
    images = np.random.default_rng(seed).normal(size=(batch, channels, length, 2))
    _compare(torch, lambda lib: lib.nn.InstanceNorm2d(channels, affine=affine, dtype=lib.float64), images, seed)


@pytest.mark.torch
def test_an_unbatched_instance_norm_and_the_functional_forms_match_pytorch(torch):
    values = np.random.default_rng(1).normal(size=(2, 5))
    _compare(torch, lambda lib: lib.nn.InstanceNorm1d(2, affine=True, dtype=lib.float64), values, 2)
    x = np.random.default_rng(2).normal(size=(2, 4, 3))
    for call in (lambda lib, t: lib.nn.functional.group_norm(t, 2),
                 lambda lib, t: lib.nn.functional.rms_norm(t, (4, 3)),
                 lambda lib, t: lib.nn.functional.instance_norm(t)):
        mine, theirs = call(gg, gg.tensor(x)), call(torch, torch.tensor(x))
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: gg.nn.GroupNorm(3, 4), "GroupNorm: num_channels (4) must be divisible by num_groups (3)"),
    (lambda: gg.nn.functional.group_norm(gg.ones(2, 4), 3), "whose C is divisible by num_groups=3"),
    (lambda: gg.nn.RMSNorm(3)(gg.ones(2, 4)), "rms_norm: expected an input of shape [*, 3], got (2, 4)"),
    (lambda: gg.nn.InstanceNorm2d(2)(gg.ones(2, 2)), "InstanceNorm2d: expected a 4-D (batched) or 3-D input"),
    (lambda: gg.nn.InstanceNorm1d(3, affine=True)(gg.ones(2, 2, 4)), "expected 3 channels (dim 1)"),
])
def test_bad_inputs_are_one_line_errors(call, message):
    with pytest.raises((RuntimeError, ValueError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"])
@pytest.mark.parametrize("track", [True, False])
def test_instance_norm_state_dicts_load_both_ways_strictly(torch, name, track):
    """PyTorch keeps ``num_batches_tracked`` with the running statistics (and never counts it for InstanceNorm):
    the same keys, so a state dict of either library loads strictly into the other, and the count stays 0."""
    shape = {"InstanceNorm1d": (2, 3, 4), "InstanceNorm2d": (2, 3, 4, 2), "InstanceNorm3d": (2, 3, 2, 2, 2)}[name]
    theirs = getattr(torch.nn, name)(3, affine=True, track_running_stats=track, dtype=torch.float64)
    mine = getattr(gg.nn, name)(3, affine=True, track_running_stats=track, dtype=gg.float64)
    values = np.random.default_rng(0).normal(size=shape)
    theirs(torch.tensor(values))
    mine.load_state_dict({key: gg.tensor(value.numpy()) for key, value in theirs.state_dict().items()}, strict=True)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine(gg.tensor(values))
    theirs.load_state_dict({key: torch.tensor(value.numpy()) for key, value in mine.state_dict().items()}, strict=True)
    if track:
        assert int(mine.num_batches_tracked.array) == int(theirs.num_batches_tracked) == 0
        np.testing.assert_allclose(mine.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-12)
    else:
        assert mine.num_batches_tracked is None and mine.running_mean is None
