"""The backward engine: accumulation, retained and freed graphs, no_grad, deep chains, in-place updates.

Expected gradients are derived by hand in each test (the formula is in its docstring), or come from
PyTorch where the behaviour is PyTorch's (errors raised with its wording).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import glassgrad as gg


def float64(values, requires_grad=True) -> gg.Tensor:
    return gg.tensor(values, dtype=gg.float64, requires_grad=requires_grad)


def test_gradients_accumulate_across_backward_calls_until_reset():
    """∂(Σx²)/∂x = 2x, added once per backward; ``x.grad = None`` starts again."""
    x = float64([1.0, -2.0, 3.0])
    for calls in range(1, 4):
        (x * x).sum().backward()
        assert x.grad.tolist() == (2 * calls * x.numpy()).tolist()
    x.grad = None
    assert x.grad is None
    (x * x).sum().backward()
    assert x.grad.tolist() == (2 * x.numpy()).tolist()


def test_assigned_grad_must_fit():
    x = float64([1.0, 2.0])
    x.grad = gg.zeros(2, dtype=gg.float64)
    with pytest.raises(RuntimeError, match=r"assigned grad has shape \(3,\) but the tensor has shape \(2,\)"):
        x.grad = gg.zeros(3)


def test_retain_grad_keeps_the_gradient_of_a_non_leaf():
    """y = 2x, L = Σy²: ∂L/∂y = 2y and ∂L/∂x = 2·2y; intermediates without retain_grad keep none."""
    x = float64([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    w = y + 0
    (w * w).sum().backward()
    assert y.retains_grad and y.grad.tolist() == (2 * y.numpy()).tolist()
    assert w.grad is None
    assert x.grad.tolist() == (4 * y.numpy()).tolist()
    x.retain_grad()  # a leaf keeps its gradient anyway: no change
    assert x.is_leaf and not x.retains_grad
    with pytest.raises(RuntimeError, match="can't retain_grad on a Tensor that has requires_grad=False"):
        gg.tensor([1.0]).retain_grad()


def test_the_graph_is_freed_after_backward_unless_retained():
    x = float64([1.0, 2.0])
    loss = (x.exp() * 3).sum()
    loss.backward(retain_graph=True)
    loss.backward(retain_graph=True)
    loss.backward()  # the last one may free it
    np.testing.assert_allclose(x.grad.numpy(), 3 * 3 * np.exp(x.numpy()), rtol=1e-15)
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        loss.backward()


@pytest.mark.parametrize("gradient", [np.array, gg.tensor, list])
def test_backward_with_a_gradient_for_a_non_scalar_root(gradient):
    """y = x² elementwise with ∂L/∂y = g gives ∂L/∂x = 2x·g."""
    x = float64([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]])
    upstream = [[0.1, -0.2, 0.3], [1.0, 2.0, -3.0]]
    (x * x).backward(gradient(upstream))
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() * np.array(upstream), rtol=1e-7)
    assert x.grad.dtype == gg.float64


def test_no_grad_context_records_nothing_and_restores_the_mode():
    w = float64([1.0, 2.0])
    with gg.no_grad():
        assert not gg.is_grad_enabled()
        y = (w * 2).exp().sum()
        with gg.enable_grad():
            recorded = w * 2
    assert gg.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
    assert recorded.requires_grad and recorded.grad_fn is not None
    with pytest.raises(KeyError), gg.no_grad():
        raise KeyError("an error inside the block")
    assert gg.is_grad_enabled()


def test_one_grad_mode_object_entered_twice_restores_each_level():
    switch = gg.no_grad()
    with switch:
        with gg.enable_grad(), switch:
            assert not gg.is_grad_enabled()
        assert not gg.is_grad_enabled()
        with gg.set_grad_enabled(True):
            assert gg.is_grad_enabled()
    assert gg.is_grad_enabled()


def test_no_grad_as_a_decorator():
    @gg.no_grad()
    def predict(w: gg.Tensor) -> gg.Tensor:
        """Doubles w."""
        assert not gg.is_grad_enabled()
        return w * 2

    out = predict(float64([1.0]))
    assert not out.requires_grad and out.is_leaf and out.tolist() == [2.0]
    assert predict.__name__ == "predict" and predict.__doc__ == "Doubles w."
    assert gg.is_grad_enabled()


def test_ops_on_tensors_that_need_no_grad_build_no_graph():
    y = gg.tensor([1.0]) * gg.tensor([2.0]) + 1
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_a_chain_of_100_000_ops_backpropagates_without_recursion():
    """y = x·c·c·…·c (N factors) has ∂y/∂x = cᴺ."""
    factor, steps = 1.00001, 100_000
    x = float64(1.0)
    y = x
    for _ in range(steps):
        y = y * factor
    y.backward()
    assert sys.getrecursionlimit() <= 10_000  # nothing raised it to make this pass
    assert x.grad.item() == pytest.approx(factor**steps, rel=1e-9)


def test_diamond_graph_adds_both_paths():
    """a = x + 1, b = 3x, L = Σ a·b: ∂L/∂x = b·1 + a·3."""
    x = float64([0.5, -1.0, 2.0])
    a, b = x + 1, x * 3
    (a * b).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), b.numpy() + 3 * a.numpy(), rtol=1e-15)


def test_a_tensor_used_twice_in_one_op_and_across_ops():
    """y = 2x, L = Σ(y·y + sin y): ∂L/∂x = (2y + cos y)·2."""
    x = float64([0.3, -0.7])
    y = x * 2
    (y * y + y.sin()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (2 * y.numpy() + np.cos(y.numpy())) * 2, rtol=1e-14)


def test_leaf_gradients_keep_the_leafs_dtype_and_shape():
    """A float32 leaf broadcast into a float64 product gets a float32 gradient of its own shape."""
    x = gg.tensor([[1.0], [2.0]], requires_grad=True)
    (x * gg.ones(2, 3, dtype=gg.float64)).sum().backward()
    assert x.grad.dtype == gg.float32 and x.grad.shape == (2, 1) and x.grad.tolist() == [[3.0], [3.0]]


@pytest.mark.parametrize("make", [
    lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x.reshape(3, 1) + y.reshape(3, 1),
    lambda x, y: y + x[:1].expand(3), lambda x, y: gg.cat([x, y]), lambda x, y: gg.stack([x, y], dim=1),
])
def test_stored_gradients_never_alias(make):
    """Editing one .grad in place (as clipping does) must leave every other .grad alone."""
    x, y = float64([1.0, 2.0, 3.0]), float64([4.0, 5.0, 6.0])
    make(x, y).sum().backward()
    y_before = y.grad.numpy().copy()
    assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())
    for grad in (x.grad.numpy(), y.grad.numpy()):
        assert grad.flags.writeable
    x.grad.numpy()[...] += 100
    assert y.grad.tolist() == y_before.tolist()


def test_manual_update_under_no_grad_changes_the_parameter_in_place():
    """p ← p − lr·∂L/∂p with L = Σp², so p ← p − lr·2p; then the other in-place operators."""
    p = float64([1.0, -2.0])
    array = p.numpy()
    (p * p).sum().backward()
    with gg.no_grad():
        p -= 0.1 * p.grad
        assert p.tolist() == pytest.approx([0.8, -1.6], rel=1e-15)
        p += gg.tensor([1.0, 1.0], dtype=gg.float64)
        p *= 2
        p /= 4
    assert p.tolist() == pytest.approx([0.9, -0.3], rel=1e-15)
    assert p.numpy() is array and p.is_leaf and p.requires_grad
    p.grad = None
    (p * 3).sum().backward()
    assert p.grad.tolist() == [3.0, 3.0]


UPDATES = {
    "+=": lambda p: p.__iadd__(1.0),
    "-=": lambda p: p.__isub__(1.0),
    "*=": lambda p: p.__imul__(2.0),
    "/=": lambda p: p.__itruediv__(2.0),
}


@pytest.mark.parametrize("name", UPDATES)
def test_in_place_change_of_a_leaf_that_requires_grad_raises_pytorchs_error(name, torch):
    message = "a leaf Variable that requires grad is being used in an in-place operation"
    for lib in (gg, torch):
        with pytest.raises(RuntimeError, match=message):
            UPDATES[name](lib.tensor([1.0, 2.0], requires_grad=True))
    untouched = gg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        UPDATES[name](untouched)
    assert untouched.tolist() == [1.0, 2.0]


def test_in_place_on_a_tensor_that_needs_no_grad_is_allowed_anywhere():
    counts = gg.tensor([1.0, 2.0])
    counts += 1
    counts *= gg.tensor([2.0, 0.5])
    assert counts.tolist() == [4.0, 1.5]


def test_grad_mode_is_per_thread_like_pytorch():
    import threading

    w = gg.tensor([1.0, 2.0], requires_grad=True)
    inside_no_grad = threading.Event()
    other_done = threading.Event()
    seen = {}

    def other_thread():
        inside_no_grad.wait(5)
        seen["other"] = (w * 2).requires_grad  # the main thread's no_grad must not reach here
        other_done.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with gg.no_grad():
        inside_no_grad.set()
        other_done.wait(5)
        seen["main"] = (w * 2).requires_grad
    worker.join(5)
    assert seen == {"other": True, "main": False}
    assert (w * 2).requires_grad
