"""Shared by the distribution tests: a value and its parameters' gradients in glassgrad or PyTorch, and samples
checked by their statistics (the generators differ from PyTorch's)."""

import numpy as np

import glassgrad as gg


def draws_that_repeat_under_a_seed(d, count: int) -> np.ndarray:
    """``count`` draws of ``d``: the same again under the same seed, others without it, of the sample shape and
    outside the graph; as a NumPy array."""
    gg.manual_seed(11)
    draws = d.sample((count,))
    gg.manual_seed(11)
    assert np.array_equal(d.sample((count,)).numpy(), draws.numpy())
    assert not np.array_equal(d.sample((count,)).numpy(), draws.numpy())
    assert tuple(draws.shape) == (count,) + d.batch_shape + d.event_shape and not draws.requires_grad
    return draws.numpy()


def assert_mean_and_variance(x: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> None:
    """The sample mean within 5 standard errors of ``mean``; the sample variance within 6 of its own spread
    ``√((m₄ − σ⁴)/N)`` of ``variance``."""
    count = len(x)
    np.testing.assert_allclose(x.mean(0), mean, atol=5 * np.sqrt(variance / count).max())
    fourth = ((x - mean) ** 4).mean(0)
    np.testing.assert_allclose(x.var(0), variance, atol=6 * np.sqrt((fourth - variance ** 2) / count).max())


def value_and_parameter_gradients(lib, build, evaluate, arrays, point) -> list:
    """``evaluate(lib, build(lib, *params), point)`` and the gradient of ``Σ wᵢ·outᵢ`` (distinct weights) w.r.t.
    each parameter (zeros where unused), as float64 NumPy arrays, in glassgrad or PyTorch (``lib``)."""
    params = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = evaluate(lib, build(lib, *params), lib.tensor(point, dtype=lib.float64))
    if out.requires_grad:
        weights = lib.arange(1.0, out.numel() + 1, dtype=lib.float64).reshape(tuple(out.shape))
        (out * weights).sum().backward()
    grads = [p.grad.numpy() if p.grad is not None else np.zeros(p.shape) for p in params]
    return [out.detach().double().numpy()] + grads
