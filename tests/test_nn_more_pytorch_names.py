"""Smaller PyTorch names: Module.get_submodule/get_parameter/get_buffer, F.pdist, F.gumbel_softmax, F.upsample,
lr_scheduler._LRScheduler."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

F = gg.nn.functional


@pytest.mark.torch
def test_module_paths_find_what_pytorch_finds(torch):
    def build(nn):
        return nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.BatchNorm1d(3), nn.ReLU()))

    mine, theirs = build(gg.nn), build(torch.nn)
    assert type(mine.get_submodule("1.0")).__name__ == type(theirs.get_submodule("1.0")).__name__ == "BatchNorm1d"
    assert mine.get_submodule("") is mine
    assert mine.get_parameter("0.weight") is mine[0].weight
    assert mine.get_buffer("1.0.running_mean") is mine[1][0].running_mean
    with pytest.raises(AttributeError, match=r"^Sequential \(1\) has no submodule `7`; its children are 0, 1$"):
        mine.get_submodule("1.7")
    with pytest.raises(AttributeError, match=r"^Linear has no parameter `scale`; it has weight, bias$"):
        mine.get_parameter("0.scale")


@pytest.mark.torch
@given(rows=st.integers(2, 6), width=st.integers(1, 4), p=st.sampled_from([1.0, 2.0, 3.0]),
       seed=st.integers(0, 2**16))
def test_pdist_matches_pytorch_values_and_gradients(torch, rows, width, p, seed):
    x = np.random.default_rng(seed).standard_normal((rows, width))
    x[1] = x[0]  # a distance of 0: slope 0 there in both
    results = []
    for lib in (gg, torch):
        t = lib.tensor(x, requires_grad=True)
        distances = lib.nn.functional.pdist(t, p)
        (distances * lib.tensor(np.arange(1.0, distances.numel() + 1))).sum().backward()
        results.append((distances.detach().numpy(), t.grad.numpy()))
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


def test_gumbel_softmax_samples_the_softmax_and_hard_samples_pass_the_soft_gradient():
    logits = gg.tensor(np.log([0.1, 0.6, 0.3]).repeat(20_000).reshape(3, -1).T.copy(), requires_grad=True)
    generator = gg.Generator().manual_seed(0)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True, generator=generator)
    assert set(hard.detach().numpy().sum(1).tolist()) == {1.0} and set(np.unique(hard.detach().numpy())) == {0, 1}
    # argmax(logits + Gumbel noise) is a draw from softmax(logits): 5 binomial standard deviations
    np.testing.assert_allclose(hard.detach().numpy().mean(0), [0.1, 0.6, 0.3], atol=0.02)
    weights = gg.tensor(np.arange(3.0).repeat(20_000).reshape(3, -1).T.copy())
    (hard * weights).sum().backward()
    straight = logits.grad.numpy().copy()
    logits.grad = None
    soft = F.gumbel_softmax(logits, tau=0.5, generator=gg.Generator().manual_seed(0))
    (soft * weights).sum().backward()
    np.testing.assert_allclose(straight, logits.grad.numpy(), rtol=1e-6)  # the same noise, the soft sample's slope
    with pytest.raises(ValueError, match="^gumbel_softmax: tau"):
        F.gumbel_softmax(logits, tau=0)


@pytest.mark.torch
def test_upsample_and_the_old_scheduler_base_are_their_pytorch_names(torch):
    x = np.arange(8.0).reshape(1, 2, 4)
    with pytest.warns(UserWarning, match="deprecated"):
        upsampled = F.upsample(gg.tensor(x), scale_factor=2)
    np.testing.assert_array_equal(upsampled.numpy(),
                                  torch.nn.functional.interpolate(torch.tensor(x), scale_factor=2).numpy())

    class Halving(gg.optim.lr_scheduler._LRScheduler):
        def get_lr(self):
            return [base / 2 ** self.last_epoch for base in self.base_lrs]

    optimizer = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0)
    schedule = Halving(optimizer)
    for _ in range(3):
        optimizer.step()
        schedule.step()
    assert optimizer.param_groups[0]["lr"] == 0.125
