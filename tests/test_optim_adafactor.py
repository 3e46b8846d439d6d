"""``optim.Adafactor`` against PyTorch 2.13's ``torch.optim.Adafactor`` in float64: 20 steps on a loss whose
gradients change every step, for parameters of 0 to 3 dims (factored from 2 dims on), with every option drawn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


def _loss(library, weights, scales):
    return sum(((w * s).sin().sum() + 0.3 * (w * w).sum()) for w, s in zip(weights, scales))


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(shapes=st.lists(st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple), min_size=1, max_size=3),
       lr=st.sampled_from([1e-2, 0.1, 0.5]), beta2_decay=st.sampled_from([-0.8, -0.5, 0.0]),
       eps1=st.sampled_from([None, 1e-30, 1e-4]), eps2=st.sampled_from([1e-3, 0.5]), d=st.sampled_from([1.0, 3.0]),
       weight_decay=st.sampled_from([0.0, 0.1]), maximize=st.booleans(), seed=st.integers(0, 2**16))
def test_adafactor_matches_pytorch_for_20_steps(torch, shapes, lr, beta2_decay, eps1, eps2, d, weight_decay, maximize,
                                                seed):
    rng = np.random.default_rng(seed)
    starts = [rng.normal(size=shape) for shape in shapes]
    scales = [rng.uniform(0.5, 2.0, size=shape) for shape in shapes]
    options = {"lr": lr, "beta2_decay": beta2_decay, "eps": (eps1, eps2), "d": d, "weight_decay": weight_decay,
               "maximize": maximize}
    mine, state_mine = _train(gg, starts, scales, options)
    theirs, state_theirs = _train(torch, starts, scales, options)
    # Some drawn settings (lr 0.5 with beta2_decay 0) make the 20-step path chaotic: PyTorch itself moves by
    # up to 1e-7 when its start moves by one part in 1e15. The oracle's own spread sets the tolerance there.
    nudged, state_nudged = _train(torch, [np.nextafter(start, np.inf) for start in starts], scales, options)
    for w_mine, w_theirs, w_nudged in zip(mine, theirs, nudged):
        spread = np.abs(w_nudged.detach().numpy() - w_theirs.detach().numpy()).max(initial=0.0)
        np.testing.assert_allclose(w_mine.detach().numpy(), w_theirs.detach().numpy(), rtol=1e-8,
                                   atol=max(1e-10, 10 * spread))
    for index, saved in state_theirs.items():
        assert sorted(state_mine[index]) == sorted(saved)
        assert int(state_mine[index]["step"]) == int(saved["step"]) == 20
        for name, value in saved.items():
            if name != "step":
                spread = np.abs(state_nudged[index][name].numpy() - value.numpy()).max(initial=0.0)
                # g² of a gradient near a stationary point: 20 steps amplify rounding relative to g, not to w
                np.testing.assert_allclose(np.asarray(state_mine[index][name]), value.numpy(), rtol=1e-7,
                                           atol=max(1e-10, 10 * spread))


def _train(library, starts, scales, options):
    """20 Adafactor steps of ``library`` from ``starts``: the final weights and the optimizer's saved state."""
    weights = [library.tensor(start, requires_grad=True) for start in starts]
    optimizer = library.optim.Adafactor(weights, **options)
    for _ in range(20):
        optimizer.zero_grad()
        _loss(library, weights, [library.tensor(s) for s in scales]).backward()
        optimizer.step()
    return weights, optimizer.state_dict()["state"]


@pytest.mark.torch
def test_adafactor_resumes_from_pytorchs_state(torch):
    start = np.random.default_rng(1).normal(size=(3, 4))
    w_theirs = torch.tensor(start, requires_grad=True)
    theirs = torch.optim.Adafactor([w_theirs], lr=0.1)
    for _ in range(3):
        theirs.zero_grad()
        (w_theirs * w_theirs).sum().backward()
        theirs.step()
    w_mine = gg.tensor(w_theirs.detach().numpy().copy(), requires_grad=True)
    mine = gg.optim.Adafactor([w_mine], lr=0.1)
    saved = theirs.state_dict()
    mine.load_state_dict({"state": {k: {n: (v.numpy() if n != "step" else v.item()) for n, v in s.items()}
                                    for k, s in saved["state"].items()},
                          "param_groups": saved["param_groups"]})
    for weights, optimizer in ((w_mine, mine), (w_theirs, theirs)):
        optimizer.zero_grad()
        (weights * weights).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(w_mine.detach().numpy(), w_theirs.detach().numpy(), rtol=1e-12)


def test_adafactor_refuses_bad_options_in_one_line():
    w = gg.zeros(2, requires_grad=True)
    for options, message in [({"beta2_decay": 0.5}, "beta2_decay"), ({"d": 0.5}, "clipping threshold d"),
                             ({"eps": (None, -1.0)}, "epsilon2"), ({"eps": 1e-3}, "eps must be a pair")]:
        with pytest.raises((ValueError, TypeError)) as error:
            gg.optim.Adafactor([w], **options)
        assert message in str(error.value) and "\n" not in str(error.value)
