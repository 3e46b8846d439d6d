"""PyTorch's deprecated number-first overloads (``x.add_(α, y)``, ``x.addcmul_(v, s, t)`` …, as older hand-written
optimizers call them) against PyTorch 2.13 in float64: values, in-place results, gradients, the warning, and an
old-style Adam loop."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

CALLS = {  # each call in the old order: the scale first, then the tensors
    "add": lambda lib, x, s, a, b: x.add(s, a), "sub": lambda lib, x, s, a, b: x.sub(s, a),
    "addcmul": lambda lib, x, s, a, b: x.addcmul(s, a, b), "addcdiv": lambda lib, x, s, a, b: x.addcdiv(s, a, b),
    "gg.add": lambda lib, x, s, a, b: lib.add(x, s, a), "gg.sub": lambda lib, x, s, a, b: lib.sub(x, s, a),
    "gg.addcmul": lambda lib, x, s, a, b: lib.addcmul(x, s, a, b),
    "gg.addcdiv": lambda lib, x, s, a, b: lib.addcdiv(x, s, a, b),
}
IN_PLACE = {
    "add_": lambda x, s, a, b: x.add_(s, a), "sub_": lambda x, s, a, b: x.sub_(s, a),
    "addcmul_": lambda x, s, a, b: x.addcmul_(s, a, b), "addcdiv_": lambda x, s, a, b: x.addcdiv_(s, a, b),
}
scales = st.one_of(st.integers(-3, 3), st.floats(-2.0, 2.0, allow_nan=False))


def _arrays(seed: int, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Three tensors' entries; the third, a divisor, kept in ±[0.5, 2] (away from 0)."""
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape), rng.normal(size=shape),
            rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)]


def _quietly(call, *args):
    """``call(*args)`` with its deprecation warning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args)


@pytest.mark.torch
@settings(deadline=None)
@given(name=st.sampled_from(sorted(CALLS)), scale=scales, seed=st.integers(0, 2**16),
       shape=st.sampled_from([(), (3,), (2, 3)]))
def test_the_old_order_gives_pytorchs_values_and_gradients(torch, name, scale, seed, shape):
    found = []
    for lib in (gg, torch):
        x, a, b = (lib.tensor(array, dtype=lib.float64, requires_grad=True) for array in _arrays(seed, shape))
        out = _quietly(CALLS[name], lib, x, scale, a, b)
        (out * out.detach().cos()).sum().backward()
        found.append([out.detach().numpy()] + [t.grad.numpy() for t in (x, a) + ((b,) if "c" in name else ())])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.torch
@settings(deadline=None)
@given(name=st.sampled_from(sorted(IN_PLACE)), scale=scales, seed=st.integers(0, 2**16),
       shape=st.sampled_from([(), (3,), (2, 3)]))
def test_the_old_order_in_place_changes_the_tensor_as_pytorch(torch, name, scale, seed, shape):
    found = []
    for lib in (gg, torch):
        x, a, b = (lib.tensor(array, dtype=lib.float64) for array in _arrays(seed, shape))
        assert _quietly(IN_PLACE[name], x, scale, a, b) is x
        found.append(x.numpy())
    np.testing.assert_allclose(*found, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("call, signature", [
    (lambda x, y: x.add(2, y), "add(Tensor other, *, Number alpha = 1)"),
    (lambda x, y: x.add_(2, y), "add_(Tensor other, *, Number alpha = 1)"),
    (lambda x, y: x.sub_(0.5, y), "sub_(Tensor other, *, Number alpha = 1)"),
    (lambda x, y: gg.sub(x, 2, y), "sub(Tensor other, *, Number alpha = 1)"),
    (lambda x, y: x.addcmul_(-1, y, y), "addcmul_(Tensor tensor1, Tensor tensor2, *, Number value = 1)"),
    (lambda x, y: gg.addcdiv(x, np.float64(3), y, y), "addcdiv(Tensor tensor1, Tensor tensor2, *, Number value = 1)"),
])
def test_the_old_order_warns_naming_todays_signature(call, signature):
    gg.set_warn_always(True)  # once per process otherwise, as PyTorch's (round 139)
    try:
        with pytest.warns(UserWarning, match=r"^This overload of \w+ is deprecated: ") as caught:
            call(gg.ones(2), gg.ones(2))
    finally:
        gg.set_warn_always(False)
    assert [str(w.message).endswith(f"use {signature} instead") for w in caught] == [True]


def test_todays_order_does_not_warn_and_a_scale_given_twice_is_an_error():
    x, y = gg.ones(2), gg.full((2,), 3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.add(y, alpha=2).tolist() == [7.0, 7.0] and gg.sub(x, y, alpha=2).tolist() == [-5.0, -5.0]
        assert x.addcmul(y, y, value=2).tolist() == [19.0, 19.0] and x.clone().add_(y).tolist() == [4.0, 4.0]
    with pytest.raises(TypeError, match=r"^add_: alpha given twice, first by position \(the old order add_\(Number "
                                        r"alpha, Tensor other\)\) and then by name; use add_\(Tensor other, \*, "):
        x.add_(2, y, alpha=3)
    with pytest.raises(TypeError):  # a bool is no scale (PyTorch refuses it too)
        x.add(True, y)


def _old_style_adam(lib, start: np.ndarray, inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Ten steps of Adam with weight decay, written the way optimizers were before ``alpha=`` and ``value=``."""
    lr, (beta1, beta2), eps, weight_decay = 0.05, (0.9, 0.999), 1e-8, 0.01
    weights = lib.tensor(start, dtype=lib.float64, requires_grad=True)
    x, y = lib.tensor(inputs, dtype=lib.float64), lib.tensor(targets, dtype=lib.float64)
    exp_avg, exp_avg_sq = lib.zeros_like(weights.data), lib.zeros_like(weights.data)
    for step in range(1, 11):
        loss = ((x @ weights).tanh() - y).pow(2).mean()
        loss.backward()
        grad = weights.grad.data.add(weight_decay, weights.data)
        exp_avg.mul_(beta1).add_(1 - beta1, grad)
        exp_avg_sq.mul_(beta2).addcmul_(1 - beta2, grad, grad)
        denom = exp_avg_sq.sqrt().add_(eps)
        step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
        weights.data.addcdiv_(-step_size, exp_avg, denom)
        weights.data.sub_(lr * 0.1, weights.grad.data)  # and an SGD step, p.data.add_(-lr, grad) spelt with sub_
        weights.grad.data.zero_()
    return weights.detach().numpy()


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_an_old_style_adam_loop_gives_pytorchs_weights(torch, seed):
    rng = np.random.default_rng(seed)
    start, inputs, targets = rng.normal(size=(3, 2)), rng.normal(size=(8, 3)), rng.uniform(-0.9, 0.9, size=(8, 2))
    mine = _quietly(_old_style_adam, gg, start, inputs, targets)
    theirs = _quietly(_old_style_adam, torch, start, inputs, targets)
    np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)
    assert not np.allclose(mine, start)  # the loop moved the weights


def test_the_module_example_runs():
    import doctest

    from glassgrad import number_first

    result = doctest.testmod(number_first)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.torch
def test_subtract_has_no_old_order_as_in_pytorch(torch):
    for lib in (gg, torch):
        x, y = lib.ones(2, dtype=lib.float64), lib.full((2,), 3.0, dtype=lib.float64)
        assert lib.subtract(x, y, alpha=2).tolist() == x.subtract(y, alpha=2).tolist() == [-5.0, -5.0]
        for call, args in ((x.subtract, (2, y)), (lib.subtract, (x, 2, y)), (x.clone().subtract_, (2, y))):
            with pytest.raises(TypeError):
                call(*args)
