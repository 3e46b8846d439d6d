"""The log rows' backward divides the upstream, ``∂L/∂a = ∂L/∂out / a``, as PyTorch's: multiplied by ``1/a``, a
subnormal ``a`` (``1/1e-40`` is ∞ in float32) turned a zero upstream into ``0·∞`` = NaN, so ``log(softmax(z))``
read at the target class gave NaN gradients once another class's probability underflowed.

Oracles: PyTorch 2.13 (first and second derivatives), and the hand-derived local derivative ``1/a`` the trace shows.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import ops
from glassgrad.trace.local import local_derivatives

ROWS = {"log": 1.0, "log2": np.log(2), "log10": np.log(10)}
"""Each row and the constant c of its derivative 1/(c·a)."""


@pytest.mark.parametrize("name", sorted(ROWS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_zero_upstream_at_a_subnormal_input_gives_zero_first_and_second_order(name, dtype):
    tiny = np.finfo(dtype).smallest_subnormal * 4
    x = gg.tensor(np.array([tiny, 0.5, 2.0], dtype), requires_grad=True)
    weights = gg.tensor(np.array([0.0, 1.0, 1.0], dtype))
    (grad,) = gg.autograd.grad((getattr(gg, name)(x) * weights).sum(), x, create_graph=True)
    expected = np.array([0.0, 1 / (0.5 * ROWS[name]), 1 / (2.0 * ROWS[name])])
    np.testing.assert_allclose(grad.detach().numpy(), expected, rtol=1e-6)
    (second,) = gg.autograd.grad(grad.sum(), x)
    assert np.isfinite(second.numpy()[1:]).all() and second.numpy()[0] == 0  # 0 upstream: 0, not NaN


@pytest.mark.torch
@given(gap=st.floats(88.5, 95.0), seed=st.integers(0, 2**16))
def test_log_of_softmax_read_at_the_target_has_pytorchs_gradient_when_other_classes_underflow(torch, gap, seed):
    """(A probability that underflows to 0 itself gives 0/0 = NaN, in PyTorch too: log_softmax is the cure.)"""
    rng = np.random.default_rng(seed)
    logits = (0.1 * rng.standard_normal((4, 5)) + gap * np.eye(4, 5)).astype(np.float32)  # e^−gap: subnormal
    target = np.arange(4) % 5
    found = []
    for library in (gg, torch):
        z = library.tensor(logits, requires_grad=True)
        loss = library.nn.functional.nll_loss(library.log(library.nn.functional.softmax(z, 1)),
                                              library.tensor(target))
        loss.backward()
        found.append((loss.detach().numpy(), z.grad.numpy()))
    assert np.isfinite(found[0][1]).all()
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_the_trace_still_shows_the_local_derivative_one_over_c_times_a(name):
    a = np.array([0.25, 4.0])
    (local,) = local_derivatives(ops.RULES[name], (a,), np.log(a), ())
    np.testing.assert_allclose(local, 1 / (ROWS[name] * a))
