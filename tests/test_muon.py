"""``optim.Muon`` against PyTorch 2.13's ``torch.optim.Muon``.

PyTorch runs the Newton–Schulz iteration in bfloat16; glassgrad runs it in the parameter's dtype (NumPy has no
bfloat16). The rule itself is compared exactly by running PyTorch's optimizer with its bfloat16 cast turned into a
copy in the parameter's own dtype (``exact_newton_schulz``): 20 steps in float64 on hypothesis-drawn matrix
shapes and options, parameters and momentum buffers, a state_dict round trip in the middle; float32 the same with
a float32 tolerance; and the real, bfloat16 PyTorch within bfloat16's precision.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

STEPS = 20


@contextlib.contextmanager
def exact_newton_schulz(torch):
    """PyTorch with ``Tensor.bfloat16()`` a copy in the tensor's own dtype: its Muon then iterates in float64."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.Tensor, "bfloat16", lambda self, *args, **kwargs: self.clone())
        yield


OPTIONS = st.fixed_dictionaries({
    "lr": st.floats(1e-3, 0.2), "weight_decay": st.sampled_from([0.0, 0.1, 0.5]),
    "momentum": st.sampled_from([0.0, 0.5, 0.95]), "nesterov": st.booleans(),
    "ns_steps": st.integers(0, 7), "adjust_lr_fn": st.sampled_from([None, "original", "match_rms_adamw"]),
    "ns_coefficients": st.sampled_from([(3.4445, -4.775, 2.0315), (1.875, -1.25, 0.375)]),
})
SHAPES = st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6)), min_size=1, max_size=3)


def _run(lib, options, starts, grads, dtype, resume_at=None):
    """``len(grads)`` steps from ``starts``; at step ``resume_at`` the optimizer is rebuilt from its state_dict."""
    params = [lib.tensor(start, dtype=dtype, requires_grad=True) for start in starts]
    optimizer = lib.optim.Muon(params, **options)
    for step, step_grads in enumerate(grads):
        if step == resume_at:
            saved = optimizer.state_dict()
            optimizer = lib.optim.Muon(params, **options)
            optimizer.load_state_dict(saved)
        for param, grad in zip(params, step_grads):
            param.grad = None if grad is None else lib.tensor(grad, dtype=dtype)
        optimizer.step()
    return params, optimizer


def _data(shapes, seed, steps=STEPS):
    rng = np.random.default_rng(seed)
    starts = [rng.normal(size=shape) for shape in shapes]
    grads = [[None if (i == 0 and step % 7 == 3) else rng.normal(0, 10.0 ** rng.uniform(-2, 1), size=shape)
              for i, shape in enumerate(shapes)] for step in range(steps)]
    return starts, grads


@pytest.mark.torch
@given(shapes=SHAPES, options=OPTIONS, seed=st.integers(0, 2**16), resume_at=st.integers(1, STEPS - 1))
def test_20_steps_in_float64_match_pytorch_with_a_state_dict_round_trip(torch, shapes, options, seed, resume_at):
    starts, grads = _data(shapes, seed)
    ours, our_optimizer = _run(gg, options, starts, grads, gg.float64, resume_at)
    with exact_newton_schulz(torch):
        theirs, their_optimizer = _run(torch, options, starts, grads, torch.float64)
    for mine, reference in zip(ours, theirs):  # (a 1×1 weight's steps are ±η′: 20 of them may return it home)
        assert mine.dtype == np.float64
        np.testing.assert_allclose(mine.numpy(), reference.detach().numpy(), rtol=1e-9, atol=1e-11)
    our_state, their_state = our_optimizer.state_dict(), their_optimizer.state_dict()
    assert our_state["state"].keys() == their_state["state"].keys()
    for index, entries in our_state["state"].items():
        assert entries.keys() == their_state["state"][index].keys() == {"momentum_buffer"}
        np.testing.assert_allclose(entries["momentum_buffer"], their_state["state"][index]["momentum_buffer"],
                                   rtol=1e-12, atol=1e-14)
    ours_group, their_group = our_state["param_groups"][0], their_state["param_groups"][0]
    assert {key: ours_group[key] for key in their_group} == their_group


@pytest.mark.torch
@given(shapes=SHAPES, options=OPTIONS, seed=st.integers(0, 2**16))
def test_float32_stays_float32_and_matches_pytorch(torch, shapes, options, seed):
    starts, grads = _data(shapes, seed, steps=5)
    ours, optimizer = _run(gg, options, starts, grads, gg.float32)
    with exact_newton_schulz(torch):
        theirs, _ = _run(torch, options, starts, grads, torch.float32)
    for mine, reference in zip(ours, theirs):
        assert mine.dtype == np.float32 and optimizer.state[mine]["momentum_buffer"].dtype == np.float32
        np.testing.assert_allclose(mine.numpy(), reference.detach().numpy(), rtol=2e-4, atol=2e-4)


@pytest.mark.torch
@given(rows=st.integers(2, 8), cols=st.integers(2, 8), seed=st.integers(0, 2**16))
def test_one_step_matches_pytorchs_bfloat16_iteration_to_bfloat16_precision(torch, rows, cols, seed):
    """The real PyTorch (bfloat16 Newton–Schulz): the change of the weight agrees to within a fifth of its size.

    bfloat16 keeps 8 bits of mantissa and the quintic's slope near 0 is a⁵ ≈ 490 over five steps, so the
    gradient is drawn with singular values in [0.3, 1] (times a scale): there the worst of 3000 draws was 9 %."""
    rng = np.random.default_rng(seed)
    count = min(rows, cols)
    left, right = np.linalg.qr(rng.normal(size=(rows, count)))[0], np.linalg.qr(rng.normal(size=(cols, count)))[0]
    grad = left @ np.diag(rng.uniform(0.3, 1.0, count)) @ right.T * 10.0 ** rng.uniform(-2, 2)
    starts = [rng.normal(size=(rows, cols))]
    options = {"lr": 0.1, "weight_decay": 0.0}
    ours, _ = _run(gg, options, starts, [[grad]], gg.float64)
    theirs, _ = _run(torch, options, starts, [[grad]], torch.float64)
    our_change, their_change = ours[0].numpy() - starts[0], theirs[0].detach().numpy() - starts[0]
    assert np.linalg.norm(our_change - their_change) <= 0.2 * np.linalg.norm(their_change)


def test_newton_schulz_pushes_singular_values_towards_one_and_keeps_singular_vectors():
    rng = np.random.default_rng(0)
    left, _ = np.linalg.qr(rng.normal(size=(6, 4)))
    right, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    update = left @ np.diag([10.0, 1.0, 0.3, 0.1]) @ right.T
    ortho = gg.optim.muon.newton_schulz(update, (3.4445, -4.775, 2.0315), 5, 1e-7)
    values = np.linalg.svd(ortho, compute_uv=False)
    assert values.min() > 0.6 and values.max() < 1.25  # from a spread of 100× to about [0.7, 1.2]
    np.testing.assert_allclose(left.T @ ortho @ right, np.diag(np.diag(left.T @ ortho @ right)), atol=1e-12)
    # the cubic (1.5, −0.5, 0) converges to exactly 1 given enough steps
    exact = gg.optim.muon.newton_schulz(update, (1.5, -0.5, 0.0), 80, 1e-7)
    np.testing.assert_allclose(exact, left @ right.T, atol=1e-9)


@pytest.mark.parametrize("fn, expected", [(None, math.sqrt(3)), ("original", math.sqrt(3)),
                                          ("match_rms_adamw", 0.2 * math.sqrt(6))])
def test_the_learning_rate_adjustment_by_shape(fn, expected):
    assert gg.optim.muon.adjusted_lr(1.0, fn, (6, 2)) == pytest.approx(expected)
    assert gg.optim.muon.adjusted_lr(1.0, None, (2, 6)) == 1.0


@pytest.mark.parametrize("make, message", [
    (lambda w: gg.optim.Muon([gg.zeros(3, requires_grad=True)]), "only supports 2-D parameters"),
    (lambda w: gg.optim.Muon([w, gg.zeros(2, 2, 2, requires_grad=True)]), "optimize biases and other"),
    (lambda w: gg.optim.Muon([w], ns_steps=100), "must be < 100"),
    (lambda w: gg.optim.Muon([w], adjust_lr_fn="rms"), "adjust_lr_fn"),
    (lambda w: gg.optim.Muon([w], ns_coefficients=(1.0, 2.0)), "three numbers"),
    (lambda w: gg.optim.Muon([w], momentum=-0.1), "momentum"),
    (lambda w: gg.optim.Muon([w], lr=-1.0), "learning rate"),
])
def test_bad_options_are_refused_in_one_line(make, message):
    with pytest.raises(ValueError, match=message) as caught:
        make(gg.zeros(2, 2, requires_grad=True))
    assert "\n" not in str(caught.value)


def test_a_refused_group_is_not_kept_and_the_rule_is_shown():
    w = gg.zeros(2, 3, requires_grad=True)
    optimizer = gg.optim.Muon([w], weight_decay=0.0, adjust_lr_fn="match_rms_adamw")
    with pytest.raises(ValueError):
        optimizer.add_param_group({"params": [gg.zeros(4, requires_grad=True)]})
    assert len(optimizer.param_groups) == 1
    rule = optimizer.formula_for(optimizer.param_groups[0])
    assert "0.2·η·√max(rows, cols)" in rule and "λ" not in rule and "U ← (1 − μ)·g + μ·B" in rule
