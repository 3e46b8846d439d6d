"""Round 129: the eager step's Python overhead taken out without changing a number or a mode.

``run_backward`` switches grad mode off and back itself (no ``GradMode`` object), ``_needs`` builds its tuple from
a list, ``_binary`` calls ``apply`` without a starred call when an op has no settings: each test pins what the
shorter path must still do, against PyTorch.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

SHAPES = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


def _pair(torch, array, requires_grad=True):
    return (gg.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


def test_backward_runs_with_grad_mode_off_and_restores_it(torch):
    seen = []
    for lib in (gg, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        w.register_hook(lambda grad, lib=lib: seen.append(lib.is_grad_enabled()))
        (w * 3).sum().backward()
        seen.append(lib.is_grad_enabled())
    assert seen == [False, True, False, True]


@pytest.mark.parametrize("outer", ["enabled", "no_grad", "set_false"])
def test_backward_restores_the_mode_it_found_even_on_an_error(torch, outer):
    for lib in (gg, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        loss = (w * w).sum()

        def fail(grad):
            raise ValueError("from the hook")

        w.register_hook(fail)
        before = lib.is_grad_enabled()
        if outer == "no_grad":
            with lib.no_grad(), pytest.raises(ValueError, match="from the hook"):
                loss.backward()
            assert lib.is_grad_enabled() is before
            continue
        if outer == "set_false":
            lib.set_grad_enabled(False)
        try:
            with pytest.raises(ValueError, match="from the hook"):
                loss.backward()
            assert lib.is_grad_enabled() is (outer == "enabled")
        finally:
            lib.set_grad_enabled(True)


def test_second_backward_is_refused_and_leaves_grad_mode_on(torch):
    for lib in (gg, torch):
        w = lib.tensor([1.0, -2.0], requires_grad=True)
        loss = (w.tanh() * w).sum()
        loss.backward()
        with pytest.raises(RuntimeError):
            loss.backward()
        assert lib.is_grad_enabled()


def test_backward_inside_inference_mode_keeps_that_mode(torch):
    for lib in (gg, torch):
        w = lib.tensor([0.5, 1.5], requires_grad=True)
        loss = (w * w).sum()
        with lib.inference_mode():
            loss.backward()
            assert not lib.is_grad_enabled() and lib.is_inference_mode_enabled()
        assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()
        np.testing.assert_array_equal(np.asarray(w.grad.detach().numpy() if lib is torch else w.grad.numpy()),
                                      [1.0, 3.0])


@pytest.mark.parametrize("needs", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_gradients_reach_exactly_the_inputs_that_require_grad(torch, needs, reduction):
    rng = np.random.default_rng(129)
    prediction, target = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    grads = []
    for lib in (gg, torch):
        p, t = (lib.tensor(a, requires_grad=need) for a, need in zip((prediction, target), needs))
        for name in ("mse_loss", "l1_loss", "smooth_l1_loss"):
            loss = getattr(lib.nn.functional, name)(p, t, reduction=reduction)
            (loss.sum() if reduction == "none" else loss).backward()
        grads.append([None if x.grad is None else np.asarray(x.grad.detach().numpy()) for x in (p, t)])
    for mine, theirs in zip(*grads):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(SHAPES, SHAPES, st.sampled_from(["add", "sub", "mul", "truediv", "rtruediv", "radd", "rsub", "rmul"]),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_binary_ops_match_pytorch_with_and_without_settings(torch, shape_a, shape_b, name, b_grad, seed):
    """Every binary operator (``÷`` passes its settings, the others none) on broadcast shapes: values, gradients."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.5, 2.0, shape_a), rng.uniform(0.5, 2.0, shape_b)
    try:
        np.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        for x, y in ((gg.tensor(a), gg.tensor(b)), (torch.tensor(a), torch.tensor(b))):
            with pytest.raises(RuntimeError):
                getattr(x, f"__{name}__")(y)
        return
    (ga, ta), (gb, tb) = _pair(torch, a), _pair(torch, b, b_grad)
    mine, theirs = getattr(ga, f"__{name}__")(gb), getattr(ta, f"__{name}__")(tb)
    np.testing.assert_allclose(mine.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=0)
    mine.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ga.grad.numpy(), ta.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert (gb.grad is None) == (tb.grad is None)
    if b_grad:
        np.testing.assert_allclose(gb.grad.numpy(), tb.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_binary_shape_refusal_is_one_line_naming_both_shapes():
    with pytest.raises(RuntimeError) as error:
        gg.ones(2, 3) * gg.ones(4)
    assert "\n" not in str(error.value) and "(2, 3)" in str(error.value) and "(4,)" in str(error.value)


def test_number_operands_keep_the_tensors_dtype(torch):
    grads = []
    for lib in (gg, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float32, requires_grad=True)
        out = 0.01 * x - 1.5 + x * 2 - x / 4 + 3 / x
        assert out.dtype == lib.float32
        out.sum().backward()
        grads.append(np.asarray(x.grad.numpy()))
    np.testing.assert_array_equal(*grads)
