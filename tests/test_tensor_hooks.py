"""Tensor hooks (``register_hook``, ``register_post_accumulate_grad_hook``) against PyTorch and by hand."""

import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.tensor_hooks import HOOKS

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def _hooked_gradients(lib, x_array, w_array, scale):
    """∂L/∂x, ∂L/∂w and ∂L/∂hidden in ``lib`` (glassgrad or torch), with hooks on a node and on a leaf."""
    x, w = lib.tensor(x_array, requires_grad=True), lib.tensor(w_array, requires_grad=True)
    hidden = (x * w).tanh()
    hidden.retain_grad()
    hidden.register_hook(lambda grad: grad * scale)
    hidden.register_hook(lambda grad: grad + 1)  # runs second, on the first one's result
    x.register_hook(lambda grad: grad * grad)
    (hidden * hidden + hidden * w).sum().backward()
    return [t.grad.detach().numpy() for t in (x, w, hidden)]


@pytest.mark.torch
@given(shape=shapes, scale=st.floats(-3, 3), seed=st.integers(0, 2**16))
def test_hooks_on_a_leaf_and_a_node_change_every_gradient_as_in_pytorch(torch, shape, scale, seed):
    rng = np.random.default_rng(seed)
    x_array, w_array = rng.standard_normal(shape), rng.standard_normal(shape)
    mine = _hooked_gradients(gg, x_array, w_array, scale)
    theirs = _hooked_gradients(torch, x_array, w_array, scale)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_a_hook_sees_the_whole_gradient_once_per_pass():
    x = gg.tensor([1.0, -2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda grad: seen.append(grad.numpy().copy()))
    (x * 2 + x * 3 + x.exp()).sum().backward()  # three paths: 2 + 3 + eˣ
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 5 + np.exp([1.0, -2.0]), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), seen[0])


def test_a_hook_on_the_root_scales_every_gradient():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.register_hook(lambda grad: grad * 5)
    loss.backward()
    assert x.grad.tolist() == [10.0, 20.0]


def test_a_hook_on_a_leaf_root():
    x = gg.tensor(3.0, requires_grad=True)
    x.register_hook(lambda grad: grad * 4)
    x.backward()
    assert x.grad.item() == 4.0


def test_changing_the_given_gradient_in_place_reaches_that_tensor_only():
    # a + a hands one array to both inputs; the hook's in-place change must not reach b's gradient
    a = gg.tensor([1.0, 2.0], requires_grad=True)
    b = gg.tensor([1.0, 1.0], requires_grad=True)
    hidden = a * 2
    hidden.register_hook(lambda grad: grad.mul_(3))
    (hidden + b).sum().backward()
    assert a.grad.tolist() == [6.0, 6.0] and b.grad.tolist() == [1.0, 1.0]


def test_removing_a_hook_stops_it_and_handles_work_as_context_managers():
    x = gg.tensor([1.0], requires_grad=True)
    handle = x.register_hook(lambda grad: grad * 10)
    (x * 1).sum().backward()
    handle.remove()
    (x * 1).sum().backward()
    assert x.grad.tolist() == [11.0]
    with x.register_hook(lambda grad: grad * 0):
        (x * 1).sum().backward()
    assert x.grad.tolist() == [11.0]
    (x * 1).sum().backward()
    assert x.grad.tolist() == [12.0]


@pytest.mark.torch
def test_autograd_grad_returns_the_hooked_gradient_and_differentiates_through_it(torch):
    results = []
    for lib in (gg, torch):
        z = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        z.register_hook(lambda grad: grad * grad)
        (first,) = lib.autograd.grad((z ** 3).sum(), z, create_graph=True)  # (3z²)²
        (second,) = lib.autograd.grad(first.sum(), z)  # 36z³, then the hook squares it
        results.append((first.detach().numpy(), second.numpy()))
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    np.testing.assert_allclose(results[0][0], (3 * np.array([1.0, 2.0]) ** 2) ** 2)


def test_backward_with_inputs_runs_the_hooks_of_those_inputs():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = gg.tensor([1.0, 1.0], requires_grad=True)
    x.register_hook(lambda grad: -grad)
    (x * y).sum().backward(inputs=[x])
    assert x.grad.tolist() == [-1.0, -1.0] and y.grad is None


def test_post_accumulate_hooks_see_the_summed_grad_after_each_pass():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_post_accumulate_grad_hook(lambda leaf: seen.append(leaf.grad.tolist()))
    (x * 2 + x).sum().backward()
    (x * x).sum().backward(inputs=[x])
    assert seen == [[3.0, 3.0], [5.0, 7.0]]


def test_an_update_inside_a_post_accumulate_hook_trains_like_an_optimizer_step():
    rng = np.random.default_rng(0)
    data, target = rng.standard_normal((8, 3)), rng.standard_normal(8)

    def train(in_hook):
        w = gg.tensor(np.zeros(3), requires_grad=True)
        optimizer = gg.optim.SGD([w], lr=0.1)

        def step_now(leaf):
            optimizer.step()
            optimizer.zero_grad()

        if in_hook:
            w.register_post_accumulate_grad_hook(step_now)
        for _ in range(5):
            ((gg.tensor(data) @ w - gg.tensor(target)) ** 2).mean().backward()
            if not in_hook:
                optimizer.step()
                optimizer.zero_grad()
        return w.numpy()

    np.testing.assert_array_equal(train(True), train(False))


@pytest.mark.parametrize("hook, error, message", [
    (lambda grad: grad.sum(), RuntimeError, r"^hook '<lambda>' has changed the size of value: .*\(2,\).*\(\)"),
    (lambda grad: grad.double(), RuntimeError, r"^hook '<lambda>' has changed the type of value: .*type_as"),
    (lambda grad: 3, TypeError, r"^hook '<lambda>' returned int: return a Tensor"),
])
def test_a_hook_that_returns_something_else_is_refused_in_one_line(hook, error, message):
    z = gg.tensor([1.0, 2.0], requires_grad=True)
    z.register_hook(hook)
    with pytest.raises(error, match=message) as raised:
        (z * 2).sum().backward()
    assert "\n" not in str(raised.value)


def test_hooks_need_a_tensor_that_requires_grad_and_post_hooks_a_leaf():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        gg.tensor([1.0]).register_hook(lambda grad: grad)
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf"):
        (gg.tensor([1.0], requires_grad=True) * 2).register_post_accumulate_grad_hook(lambda leaf: None)
    with pytest.raises(TypeError, match="a hook must be callable"):
        gg.tensor([1.0], requires_grad=True).register_hook(3)


def test_hooks_are_forgotten_with_their_tensor():
    gc.collect()  # tensors of earlier tests, still in reference cycles
    before = len(HOOKS)
    x = gg.tensor([1.0], requires_grad=True)
    x.register_hook(lambda grad: grad)
    assert len(HOOKS) == before + 1
    del x
    gc.collect()
    assert len(HOOKS) == before


def test_a_hook_on_a_parameter_shows_gradients_layer_by_layer():
    gg.manual_seed(0)
    model = gg.nn.Sequential(gg.nn.Linear(3, 4), gg.nn.ReLU(), gg.nn.Linear(4, 2))
    norms = {}
    for name, parameter in model.named_parameters():
        parameter.register_hook(lambda grad, name=name: norms.__setitem__(name, float(grad.norm())))
    model(gg.ones(5, 3)).sum().backward()
    assert norms.keys() == dict(model.named_parameters()).keys()
    for name, parameter in model.named_parameters():
        assert norms[name] == pytest.approx(float(parameter.grad.norm()))


def test_a_hook_on_a_tensor_changed_in_place_scales_its_gradient_in_the_second_derivative_too():
    """y = e^(1.5x) written into y in place (``exp_``), a hook ×3 on y, L = Σ y·x². By hand, with the hook scaling
    every gradient that reaches y (PyTorch's rule of exp_ reads y itself as its output):
    g = ∂L/∂x = 3x²·1.5y + 2xy, and ∂(Σ g)/∂x = 3·(4.5x² + 2x)·1.5y + (9x + 2)·y = (20.25x² + 18x + 2)·y.
    Before, the second pass went round y (through the op's hidden result) and missed the hook: 119.9, not 180.4."""
    x = gg.tensor([1.0, -0.5, 2.0], dtype=gg.float64, requires_grad=True)
    y = x * 1.5
    y.exp_()
    y.register_hook(lambda grad: grad * 3)
    (g,) = gg.autograd.grad((y * x * x).sum(), x, create_graph=True)
    (h,) = gg.autograd.grad(g.sum(), x)
    a, e = x.detach().numpy(), np.exp(1.5 * x.detach().numpy())
    np.testing.assert_allclose(g.detach().numpy(), 4.5 * a * a * e + 2 * a * e, rtol=1e-13)
    np.testing.assert_allclose(h.numpy(), (20.25 * a * a + 18 * a + 2) * e, rtol=1e-13)


def test_a_second_derivative_through_a_tensor_changed_again_outside_the_graph_is_refused():
    x = gg.tensor([1.0, 2.0], dtype=gg.float64, requires_grad=True)
    y = (x * 1.5).exp_()
    (g,) = gg.autograd.grad(y.sum(), x, create_graph=True)  # 1.5·y, with y read as exp's output
    with gg.no_grad():
        y.add_(1)  # the rule's output, read again by the second pass, is no longer e^(1.5x)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*'exp' \\(its output\\)"):
        gg.autograd.grad(g.sum(), x, create_graph=True)  # a third derivative would read it


IN_PLACE_FORMS = ["exp_", "sigmoid_", "sqrt_", "tanh_", "rsqrt_", "reciprocal_", "expm1_", "log_", "relu_",
                  "square_", "sin_"]


@pytest.mark.torch
@pytest.mark.parametrize("name", IN_PLACE_FORMS)
@settings(max_examples=15, deadline=None)
@given(values=st.lists(st.floats(0.2, 2.0), min_size=1, max_size=4), scale=st.floats(-3, 3))
def test_hooks_on_a_tensor_changed_in_place_give_pytorchs_second_derivatives(torch, name, values, scale):
    results = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        y = getattr(x * 1.5, name)()
        y.register_hook(lambda grad: grad * scale)
        (g,) = lib.autograd.grad((y * x * x).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        results.append((g.detach().numpy(), h.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-12)
