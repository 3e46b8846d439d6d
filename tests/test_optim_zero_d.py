"""Every optimizer on 0-d parameters (a single learnable number) against PyTorch 2.13.

The gradients come from ``backward`` itself: for a 0-d parameter they may be held as NumPy
scalars rather than arrays, and state built from them must still be updated in place (a
momentum buffer that is rebound instead goes stale and the run leaves PyTorch's after step 2).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

pytestmark = pytest.mark.torch

STEPS = 5
CASES = {
    "sgd": ("SGD", {"lr": 0.1}),
    "sgd_momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "sgd_nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "sgd_dampening": ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    "sgd_momentum_weight_decay": ("SGD", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1}),
    "sgd_nesterov_decay_maximize": (
        "SGD", {"lr": 0.02, "momentum": 0.7, "nesterov": True, "weight_decay": 0.2, "maximize": True}
    ),
    "adam": ("Adam", {"lr": 0.1}),
    "adam_amsgrad_weight_decay": ("Adam", {"lr": 0.1, "amsgrad": True, "weight_decay": 0.1}),
    "adamw": ("AdamW", {"lr": 0.1}),
    "adamw_amsgrad": ("AdamW", {"lr": 0.1, "weight_decay": 0.3, "amsgrad": True}),
    "rmsprop": ("RMSprop", {"lr": 0.01}),
    "rmsprop_momentum_centered": ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}),
    "adagrad": ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1}),
}


def loss(w, v):
    """A loss whose gradient changes every step: w³/3 − 2w + Σ(w − v)²."""
    return w * w * w / 3 - 2 * w + ((w - v) ** 2).sum()


def trajectory(lib, name, options, params):
    """The parameters' values after each of ``STEPS`` steps; ``params`` picks which of (w, v) train."""
    w = lib.tensor(1.5, dtype=lib.float64).requires_grad_(True)
    v = lib.tensor([0.5, 2.0] if params == "mixed" else 0.25, dtype=lib.float64).requires_grad_(True)
    trained = [w] if params == "one" else [w, v]
    optimizer = getattr(lib.optim, name)(trained, **options)
    values = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss(w, v).backward()
        optimizer.step()
        values.append([np.asarray(p.detach().tolist(), dtype=np.float64) for p in trained])
    return values


@pytest.mark.parametrize("params", ["one", "two", "mixed"])
@pytest.mark.parametrize("case", CASES)
def test_zero_d_parameters_follow_pytorch_for_five_steps(case, params, torch):
    """One 0-d parameter, two (Adam updates those in one flat pass), or a 0-d one beside a vector."""
    name, options = CASES[case]
    ours, theirs = trajectory(gg, name, options, params), trajectory(torch, name, options, params)
    for step, (mine, reference) in enumerate(zip(ours, theirs), start=1):
        for a, b in zip(mine, reference):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15, err_msg=f"{case}: step {step}")


def test_a_step_count_saved_as_an_array_resumes_as_a_count():
    """PyTorch's state dicts hold ``step`` as a 0-d tensor; for a 0-d parameter it must come back the step count."""
    def run(resume):
        w, v = (gg.tensor(x, dtype=gg.float64, requires_grad=True) for x in (1.5, 0.25))
        optimizer = gg.optim.Adam([w, v], lr=0.1)
        for step in range(STEPS):
            if resume and step == 2:
                saved = optimizer.state_dict()
                for entry in saved["state"].values():
                    entry["step"] = np.array(entry["step"], dtype=np.float32)
                optimizer = gg.optim.Adam([w, v], lr=0.1)
                optimizer.load_state_dict(saved)
                assert all(state["step"].shape == () for state in optimizer.state.values())
            optimizer.zero_grad()
            loss(w, v).backward()
            optimizer.step()
        return [w.item(), v.item()]

    assert run(resume=True) == run(resume=False)
