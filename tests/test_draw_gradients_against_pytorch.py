"""Random draws from parameters that require grad, against PyTorch 2.13 (:data:`glassgrad.ops.DRAW`).

PyTorch puts ``normal(mean, std)`` of tensors, ``bernoulli(p)``, ``x.bernoulli_(p)`` and ``poisson(rates)`` in
their parameters' graph with a gradient of 0 (``NormalBackward``, ``BernoulliBackward``, ``PoissonBackward``): the
sample requires grad, ``backward`` works and each parameter's ``.grad`` is zeros (not None), so an optimizer with
weight decay or momentum still moves it. ``binomial`` and ``bernoulli(p, number)`` require grad too, but have no
derivative: backward is refused. Draws shaped like a tensor, categories and a distribution's ``sample()`` stay outside
the graph. Each test runs the same code with ``lib`` = glassgrad and PyTorch and compares what comes out.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _parameters(lib, dtype_name: str, *values) -> list:
    dtype = getattr(lib, dtype_name)
    return [lib.tensor(value, dtype=dtype, requires_grad=True) for value in values]


GRADIENT_ZERO = {
    # name: (parameter values, the draw of them); the gradient of every parameter is 0
    "normal(mean, std), std broadcast": (([0.0, 1.0, 2.0], [[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]),
                                         lambda lib, mean, std: lib.normal(mean, std)),
    "normal(mean, number)": (([0.0, 1.0, 2.0],), lambda lib, mean: lib.normal(mean, 1.0)),
    "normal(number, std)": (([1.0, 2.0],), lambda lib, std: lib.normal(0.0, std)),
    "normal of 0-d tensors": ((1.0, 2.0), lambda lib, mean, std: lib.normal(mean, std)),
    "bernoulli(p)": (([0.2, 0.7, 1.0],), lambda lib, p: lib.bernoulli(p)),
    "p.bernoulli()": (([[0.2, 0.7], [0.0, 0.5]],), lambda lib, p: p.bernoulli()),
    "poisson(rates)": (([1.0, 3.0, 0.0],), lambda lib, rates: lib.poisson(rates)),
    "x.bernoulli_(p)": (([0.2, 0.7, 1.0],), lambda lib, p: lib.zeros(tuple(p.shape), dtype=p.dtype).bernoulli_(p)),
}


def _draw_and_backward(lib, name: str, dtype_name: str) -> tuple:
    values, draw = GRADIENT_ZERO[name]
    parameters = _parameters(lib, dtype_name, *values)
    sample = draw(lib, *parameters)
    seen = (sample.requires_grad, sample.grad_fn is None, sample.is_leaf, tuple(sample.shape), str(sample.dtype))
    sample.sum().backward()
    return seen, [np.array(parameter.grad.numpy()) for parameter in parameters]


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(GRADIENT_ZERO))
def test_a_draw_from_parameters_that_require_grad_gives_them_a_zero_gradient_as_pytorch(torch, name, dtype_name):
    """The sample requires grad and has a node (it had none: backward raised "does not require grad"), and backward
    leaves each parameter zeros of its own shape and dtype (a mean of shape (3,) under a std of shape (2, 3) too)."""
    ours_seen, ours = _draw_and_backward(gg, name, dtype_name)
    theirs_seen, theirs = _draw_and_backward(torch, name, dtype_name)
    assert ours_seen[:4] == theirs_seen[:4] == (True, False, False, theirs_seen[3])
    assert ours_seen[4] == theirs_seen[4].removeprefix("torch.")
    for mine, pytorchs in zip(ours, theirs, strict=True):
        assert mine.shape == pytorchs.shape and mine.dtype == pytorchs.dtype
        assert np.array_equal(mine, pytorchs) and not mine.any()


NO_DERIVATIVE = {
    "bernoulli(p, number)": (([0.2, 0.7],), lambda lib, p: lib.bernoulli(p, 0.5)),
    "binomial(count, prob)": (([5.0, 3.0], [0.5, 0.2]), lambda lib, count, prob: lib.binomial(count, prob)),
}


@pytest.mark.parametrize("name", sorted(NO_DERIVATIVE))
def test_a_draw_pytorch_has_no_derivative_for_requires_grad_and_refuses_backward(torch, name):
    """PyTorch's ``binomial`` and ``bernoulli(p, number)`` of parameters that require grad give a sample that requires
    grad, and backward through it raises "derivative ... is not implemented": so do glassgrad's (its sample was
    outside the graph)."""
    values, draw = NO_DERIVATIVE[name]
    for lib in (torch, gg):
        sample = draw(lib, *_parameters(lib, "float32", *values))
        assert sample.requires_grad and sample.grad_fn is not None
        with pytest.raises(RuntimeError, match="derivative for .*bernoulli|derivative for .*binomial"):
            sample.sum().backward()


def _which_require_grad(lib) -> dict:
    x, weights, loc = _parameters(lib, "float32", [1.0, 2.0], [0.2, 0.8], [0.0, 0.5])
    draws = {
        "normal": lambda: lib.normal(loc, 1.0), "bernoulli": lambda: lib.bernoulli(weights),
        "poisson": lambda: lib.poisson(x), "binomial": lambda: lib.binomial(x, weights),
        "multinomial": lambda: lib.multinomial(weights, 3, replacement=True),
        "rand_like": lambda: lib.rand_like(x), "randn_like": lambda: lib.randn_like(x),
        "Normal.sample": lambda: lib.distributions.Normal(loc, 1.0).sample(),
        "Bernoulli.sample": lambda: lib.distributions.Bernoulli(weights).sample(),
        "Poisson.sample": lambda: lib.distributions.Poisson(x).sample(),
        "Normal.rsample": lambda: lib.distributions.Normal(loc, 1.0).rsample(),
        "dropout": lambda: lib.nn.functional.dropout(x, 0.5),
        "gumbel_softmax": lambda: lib.nn.functional.gumbel_softmax(x, tau=1.0),
    }
    found = {name: draw().requires_grad for name, draw in draws.items()}
    with lib.no_grad():
        found["normal under no_grad"] = lib.normal(loc, 1.0).requires_grad
    return found


def test_which_draws_are_in_the_graph_as_pytorch(torch):
    """Across PyTorch's random functions, the same draws require grad in glassgrad: those from parameters (normal,
    bernoulli, poisson, binomial), reparameterised samples, dropout and gumbel_softmax; not categories, draws shaped
    like a tensor, a distribution's ``sample()`` or anything under ``no_grad``."""
    assert _which_require_grad(gg) == _which_require_grad(torch)


def _second_derivative(lib) -> tuple:
    mean, = _parameters(lib, "float64", [0.0, 1.0])
    first, = lib.autograd.grad(lib.normal(mean, 1.0).sum(), mean, create_graph=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        lib.autograd.grad(first.sum(), mean)
    return first.tolist(), first.requires_grad, first.grad_fn is None


def test_the_recorded_zero_gradient_of_a_draw_is_outside_the_graph_as_pytorch(torch):
    """``create_graph=True``: the gradient is zeros that do not require grad (PyTorch's ``zeros_like``), so a second
    derivative through it alone is refused, as PyTorch refuses it; glassgrad's first gradient raised."""
    assert _second_derivative(gg) == _second_derivative(torch) == ([0.0, 0.0], False, True)


def test_normal_with_out_and_a_mean_that_requires_grad_is_refused_as_pytorch(torch):
    """``out=`` is outside autograd: PyTorch refuses it when the draw's parameters require grad (glassgrad wrote the
    draw), and takes it under ``no_grad``."""
    for lib in (torch, gg):
        mean, = _parameters(lib, "float32", [0.0, 1.0])
        with pytest.raises(RuntimeError, match="out=... arguments don't support automatic differentiation"):
            lib.normal(mean, 1.0, out=lib.empty(2))
        with lib.no_grad():
            out = lib.empty(2)
            assert lib.normal(mean, 1.0, out=out) is out and not out.requires_grad


def test_normal_of_tensors_with_requires_grad_is_refused_as_pytorch(torch):
    """``requires_grad=`` goes with a size: of tensors, PyTorch refuses it (TypeError), where glassgrad made the draw
    a leaf that requires grad, cut from the tensors' graph."""
    for lib in (torch, gg):
        with pytest.raises(TypeError):
            lib.normal(lib.tensor([0.0, 1.0]), 1.0, requires_grad=True)


def _train(lib, compiled: bool = False) -> tuple[list, object]:
    """Ten SGD steps (momentum, weight decay) of a loss whose draws add noise to its value, not to its gradients: the
    draws' parameters get zero gradients, and the decay shrinks them."""
    rng = np.random.default_rng(0)
    w, mean, std, p, rates = _parameters(lib, "float64", rng.normal(size=(4, 2)), [0.0, 1.0], [1.0, 2.0], [0.3, 0.6],
                                         [2.0, 1.0])
    optimizer = lib.optim.SGD([w, mean, std, p, rates], lr=0.1, momentum=0.9, weight_decay=0.1)
    x, y = lib.tensor(rng.normal(size=(5, 4))), lib.tensor(rng.normal(size=(5, 2)))

    def step(x, y):
        optimizer.zero_grad()
        noise = lib.normal(mean, std) + lib.bernoulli(p) + lib.poisson(rates)
        loss = ((x @ w - y) ** 2).mean() + noise.sum()
        loss.backward()
        optimizer.step()

    run = gg.compile(step) if compiled else step
    for _ in range(10):
        run(x, y)
    return [np.array(parameter.detach().numpy()) for parameter in (w, mean, std, p, rates)], run


def test_weight_decay_moves_a_draws_parameters_eagerly_and_compiled_as_pytorch(torch):
    """SGD with momentum and weight decay updates a parameter whose gradient is 0 but not None: the draws' mean, std,
    probabilities and rates shrink as PyTorch's do (glassgrad's stayed put, their .grad None), and a compiled step
    ends with eager's arrays, bit for bit, replaying the last eight calls."""
    theirs, _ = _train(torch)
    eager, _ = _train(gg)
    compiled, run = _train(gg, compiled=True)
    assert sum(entry.replays for entry in run.entries.values()) == 8
    for mine, replayed, pytorchs in zip(eager, compiled, theirs, strict=True):
        np.testing.assert_allclose(mine, pytorchs, rtol=1e-12, atol=0)
        assert np.array_equal(mine, replayed)
