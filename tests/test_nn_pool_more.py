"""The 1-d pools and adaptive max pooling (layers and ``F.*``) against PyTorch 2.13: outputs and input
gradients over hypothesis-drawn sizes and settings, and their architectures round-trip."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import glassgrad as gg


def _both(torch, call, values):
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        out = call(lib, x)
        (out * lib.tensor(np.resize(np.arange(1.0, 50.0), tuple(out.shape)), dtype=lib.float64)).sum().backward()
        found.append((out.detach().numpy(), x.grad.numpy()))
    return found


@pytest.mark.torch
@given(length=st.integers(1, 9), kernel=st.integers(1, 4), stride=st.integers(1, 3), padding=st.integers(0, 2),
       dilation=st.integers(1, 2), batched=st.booleans(), seed=st.integers(0, 2**16))
def test_max_and_avg_pool1d_match_pytorch(torch, length, kernel, stride, padding, dilation, batched, seed):
    assume(padding <= kernel // 2 and length + 2 * padding >= dilation * (kernel - 1) + 1)
    windows = (length + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    assume(all(any(0 <= i * stride - padding + u * dilation < length for u in range(kernel)) for i in range(windows)))
    # (a window of padding alone corrupts PyTorch 2.13's heap in max_pool1d: length 1, kernel 2, padding 1,
    # dilation 2 aborts with "double free or corruption"; glassgrad gives −inf there)
    values = np.random.default_rng(seed).normal(size=(2, 3, length) if batched else (3, length))
    for call in (lambda lib, x: lib.nn.functional.max_pool1d(x, kernel, stride, padding, dilation),
                 lambda lib, x: lib.nn.MaxPool1d(kernel, stride, padding, dilation)(x)):
        (mine, theirs) = _both(torch, call, values)
        for ours, reference in zip(mine, theirs):
            np.testing.assert_allclose(ours, reference, rtol=1e-12)
    assume(length + 2 * padding >= kernel)
    for call in (lambda lib, x: lib.nn.functional.avg_pool1d(x, kernel, stride, padding, count_include_pad=False),
                 lambda lib, x: lib.nn.AvgPool1d(kernel, stride, padding)(x)):
        (mine, theirs) = _both(torch, call, values)
        for ours, reference in zip(mine, theirs):
            np.testing.assert_allclose(ours, reference, rtol=1e-12)


@pytest.mark.torch
@given(height=st.integers(1, 7), width=st.integers(1, 7), out_h=st.integers(1, 4), out_w=st.integers(1, 4),
       seed=st.integers(0, 2**16))
def test_adaptive_pools_match_pytorch(torch, height, width, out_h, out_w, seed):
    values = np.random.default_rng(seed).normal(size=(2, 3, height, width))
    for call in (lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, (out_h, out_w)),
                 lambda lib, x: lib.nn.AdaptiveMaxPool2d((out_h, None))(x[0]),
                 lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x[:, :, 0], out_w),
                 lambda lib, x: lib.nn.AdaptiveAvgPool1d(out_w)(x[:, :, 0]),
                 lambda lib, x: lib.nn.AdaptiveMaxPool1d(out_h)(x[0, :, :, 0])):
        (mine, theirs) = _both(torch, call, values)
        for ours, reference in zip(mine, theirs):  # (a mean near 0 by cancellation: 2e-5 ± 3e-17 at seed 4301)
            np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-15)


def test_the_new_pools_rebuild_from_their_architecture():
    model = gg.nn.Sequential(gg.nn.MaxPool1d(2, 1, 1), gg.nn.AvgPool1d(3, 2, count_include_pad=False),
                             gg.nn.AdaptiveMaxPool1d(2), gg.nn.AdaptiveAvgPool1d(1))
    description = gg.nn.architecture(model)
    rebuilt = gg.nn.from_architecture(description, model.state_dict())
    x = gg.tensor(np.random.default_rng(1).normal(size=(2, 3, 9)).astype(np.float32))
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())
    assert gg.nn.architecture(rebuilt) == description


@pytest.mark.parametrize("call, message", [
    (lambda: gg.nn.functional.max_pool1d(gg.ones(2, 3, 4, 5), 2), "max_pool1d: expected input of shape (N, C, L)"),
])
def test_bad_calls_are_one_line_errors(call, message):
    with pytest.raises(RuntimeError) as error:  # as PyTorch
        call()
    assert message in str(error.value) and "\n" not in str(error.value)



ROW_MISFITS = [
    (lambda lib: lib.nn.functional.max_pool1d(lib.ones(1, 2, 3), 5), "max_pool1d", "kernel (5 with dilation)",
     "(1, 2, 3)"),
    (lambda lib: lib.nn.functional.avg_pool1d(lib.ones(2, 3), 5), "avg_pool1d", "kernel (5 with dilation)", "(2, 3)"),
    (lambda lib: lib.nn.MaxPool1d(5)(lib.ones(2, 3)), "max_pool1d", "padded input (3, ", "(2, 3)"),
    (lambda lib: lib.nn.AvgPool1d(4, padding=1)(lib.ones(1, 1, 1)), "avg_pool1d", "padded input (3, ", "(1, 1, 1)"),
]


@pytest.mark.parametrize("call, name, setting, shape", [
    *ROW_MISFITS,  # and a window of padding alone, which PyTorch pools to −∞ (glassgrad refuses it: its docstring)
    (lambda lib: lib.nn.MaxPool1d(2, padding=1, dilation=3)(lib.ones(1, 1, 2)), "max_pool1d", "dilation (3,)",
     "(1, 1, 2)"),
])
def test_a_1d_pool_that_does_not_fit_is_named_as_called(call, name, setting, shape):
    """A 1-d pool runs as the 2-d pool of one row; its refusal named max_pool2d with the row's ``1×5`` kernel and
    a 4-d shape the caller never made. It names the 1-d pool, its settings and the caller's input."""
    with pytest.raises(RuntimeError) as caught:
        call(gg)
    message = str(caught.value)
    assert message.startswith(f"{name}: ") and setting in message and f"input {shape}" in message
    assert "×" not in message and "2d" not in message and "\n" not in message


@pytest.mark.torch
@pytest.mark.parametrize("call", [case[0] for case in ROW_MISFITS])
def test_a_1d_pool_that_does_not_fit_is_refused_by_pytorch_too(torch, call):
    """The same calls on PyTorch raise RuntimeError too (the class is unchanged; only the message is clearer)."""
    with pytest.raises(RuntimeError):
        call(torch)
