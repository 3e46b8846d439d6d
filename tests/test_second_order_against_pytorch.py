"""Second derivatives of the ops whose first derivative is piecewise constant or masked, against PyTorch 2.13.

For each op, ``g = ∂(Σ v·op(x, …))/∂(x, …)`` is taken with ``create_graph=True`` and differentiated again:
``∂(Σ g)/∂(x, …)``, for a constant upstream (``v = 1``, ``v`` random) and for ``v`` a leaf that requires grad.
glassgrad must do what PyTorch does: raise where it raises ("does not require grad"), give ``None`` where it gives
``None`` and zeros where it gives zeros, the same numbers (to 1e-10 in float64) and the same ``requires_grad`` on
every gradient. Where PyTorch has no second derivative (``cdist``) or a first one off in float64 (``hardsigmoid``),
the numbers are checked against central differences or the formula instead.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import glassgrad as gg
import glassgrad.nn.functional as gg_functional


def functional(lib):
    """``torch.nn.functional`` or glassgrad's."""
    return gg_functional if lib is gg else lib.nn.functional


def draws(*shape: int, scale: float = 2.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-scale, scale, shape)


def away_from_zero(values: np.ndarray) -> np.ndarray:
    """Divisors: no entry within 0.3 of 0."""
    return np.where(np.abs(values) < 0.3, 0.7, values)


X, Y = draws(3, 4), draws(3, 4, seed=1)
CASES = {
    "fmod(a, b)": ([3 * X, away_from_zero(Y)], lambda lib, a, b: lib.fmod(a, b)),
    "fmod(a, 1.3)": ([3 * X], lambda lib, a: lib.fmod(a, 1.3)),
    "remainder(a, b)": ([3 * X, away_from_zero(Y)], lambda lib, a, b: lib.remainder(a, b)),
    "remainder(a, b) broadcast": ([3 * X, away_from_zero(Y[:1])], lambda lib, a, b: lib.remainder(a, b)),
    "remainder(a, -1.3)": ([3 * X], lambda lib, a: lib.remainder(a, -1.3)),
    "adaptive_max_pool1d": ([draws(2, 3, 7)], lambda lib, a: functional(lib).adaptive_max_pool1d(a, 3)),
    "adaptive_max_pool2d": ([draws(2, 2, 5, 6)], lambda lib, a: functional(lib).adaptive_max_pool2d(a, (2, 3))),
    "adaptive_max_pool3d": ([draws(1, 2, 3, 4, 5)],
                            lambda lib, a: functional(lib).adaptive_max_pool3d(a, (2, 3, 2))),
    "max_pool2d": ([draws(2, 2, 5, 6)], lambda lib, a: functional(lib).max_pool2d(a, 2)),
    "hardtanh": ([X], lambda lib, a: functional(lib).hardtanh(a, -0.5, 1.0)),
    "clamp(a, lo, hi)": ([X, Y - 1, Y + 0.5], lambda lib, a, lo, hi: lib.clamp(a, lo, hi)),
    "clamp(a, -0.5, 0.7)": ([X], lambda lib, a: lib.clamp(a, -0.5, 0.7)),
    "where(a > 0, a·b, b)": ([X, Y], lambda lib, a, b: lib.where(a > 0, a * b, b)),
    "where(a > 0, a, b)": ([X, Y], lambda lib, a, b: lib.where(a > 0, a, b)),
    "abs": ([X], lambda lib, a: lib.abs(a)),
    "sign": ([X], lambda lib, a: lib.sign(a)),
    "floor": ([3 * X], lambda lib, a: lib.floor(a)),
    "trunc": ([3 * X], lambda lib, a: lib.trunc(a)),
    "round": ([3 * X], lambda lib, a: lib.round(a)),
    "maximum": ([X, Y], lambda lib, a, b: lib.maximum(a, b)),
    "minimum": ([X, Y], lambda lib, a, b: lib.minimum(a, b)),
    "relu": ([X], lambda lib, a: functional(lib).relu(a)),
    "relu6": ([4 * X], lambda lib, a: functional(lib).relu6(a)),
    "hardswish": ([3 * X], lambda lib, a: functional(lib).hardswish(a)),
    "leaky_relu": ([X], lambda lib, a: functional(lib).leaky_relu(a, 0.1)),
    "elu": ([X], lambda lib, a: functional(lib).elu(a, 1.3)),
    "gelu(tanh)": ([X], lambda lib, a: functional(lib).gelu(a, approximate="tanh")),
    "smooth_l1_loss": ([X, Y], lambda lib, a, b: functional(lib).smooth_l1_loss(a, b, beta=0.8)),
    "smooth_l1_loss(none)": ([X, Y], lambda lib, a, b: functional(lib).smooth_l1_loss(a, b, reduction="none",
                                                                                        beta=0.8)),
    "huber_loss": ([X, Y], lambda lib, a, b: functional(lib).huber_loss(a, b, delta=0.9)),
    "huber_loss(none)": ([X, Y], lambda lib, a, b: functional(lib).huber_loss(a, b, reduction="none", delta=0.9)),
    "l1_loss": ([X, Y], lambda lib, a, b: functional(lib).l1_loss(a, b)),
    "l1_loss(none)": ([X, Y], lambda lib, a, b: functional(lib).l1_loss(a, b, reduction="none")),
    "logsumexp": ([X], lambda lib, a: lib.logsumexp(a, 1)),
    "softplus(threshold)": ([8 * X], lambda lib, a: functional(lib).softplus(a, beta=2.0, threshold=3.0)),
    "norm": ([X], lambda lib, a: lib.norm(a)),
    "norm(dim=1)": ([X], lambda lib, a: lib.norm(a, dim=1)),
    "norm(p=1)": ([X], lambda lib, a: lib.norm(a, p=1)),
    "norm(p=3, dim=0)": ([X], lambda lib, a: lib.norm(a, p=3, dim=0)),
    "norm(p=inf)": ([X], lambda lib, a: lib.norm(a, p=float("inf"))),
}
# at the kinks themselves: ±0, the bounds, ties (PyTorch's choice of side at each is what is compared)
KINKS = np.array([[-2.0, -1.0, -0.0, 0.0], [1.0, 2.0, 0.5, -0.5], [3.0, -3.0, 6.0, -1.0]])
TIES = np.array([[-2.0, 1.0, -0.0, 0.0], [1.0, 2.0, 0.5, 0.5], [3.0, -3.0, 6.0, -1.0]])
CASES.update({
    "nextafter(a, b)": ([X, Y], lambda lib, a, b: lib.nextafter(a, b)),
    "abs at kinks": ([KINKS], lambda lib, a: lib.abs(a)),
    "hardtanh at kinks": ([KINKS], lambda lib, a: functional(lib).hardtanh(a, -1.0, 1.0)),
    "relu6 at kinks": ([KINKS], lambda lib, a: functional(lib).relu6(a)),
    "hardswish at kinks": ([KINKS], lambda lib, a: functional(lib).hardswish(a)),
    "leaky_relu at kinks": ([KINKS], lambda lib, a: functional(lib).leaky_relu(a, 0.1)),
    "maximum at ties": ([KINKS, TIES], lambda lib, a, b: lib.maximum(a, b)),
    "minimum at ties": ([KINKS, TIES], lambda lib, a, b: lib.minimum(a, b)),
    "clamp(a, lo, hi) at the bounds": ([KINKS, TIES - 1, TIES], lambda lib, a, lo, hi: lib.clamp(a, lo, hi)),
    "fmod(a, b) at whole quotients": ([3 * KINKS, np.where(TIES == 0, 1.0, TIES)], lambda lib, a, b: lib.fmod(a, b)),
    "remainder(a, b) at whole quotients": ([3 * KINKS, np.where(TIES == 0, 1.0, TIES)],
                                           lambda lib, a, b: lib.remainder(a, b)),
    "smooth_l1_loss at beta": ([KINKS, TIES], lambda lib, a, b: functional(lib).smooth_l1_loss(a, b, beta=1.0)),
    "huber_loss at delta": ([KINKS, TIES], lambda lib, a, b: functional(lib).huber_loss(a, b, delta=1.0)),
    "max_pool2d of ties": ([np.ones((1, 1, 4, 4))], lambda lib, a: functional(lib).max_pool2d(a, 2)),
    "adaptive_max_pool2d of ties": ([np.ones((1, 1, 4, 5))],
                                    lambda lib, a: functional(lib).adaptive_max_pool2d(a, (2, 2))),
})
UPSTREAMS = ["sum", "constant v", "leaf v"]


def as_array(grad) -> np.ndarray:
    """A gradient's numbers (PyTorch's zero tensors, which refuse ``numpy()``, as zeros)."""
    try:
        return np.array(grad.detach().numpy())
    except RuntimeError:
        return np.zeros(tuple(grad.shape))


def described(grads) -> list:
    return [None if grad is None else (as_array(grad), bool(grad.requires_grad)) for grad in grads]


def second_derivatives(lib, inputs: list, form, upstream: str) -> dict:
    """``g = ∂(Σ v·form(…))/∂inputs`` (create_graph) and ``∂(Σ g)/∂(inputs, v)``: each as (numbers, requires_grad) or
    None, or the message of the error the second call raised."""
    tensors = [lib.tensor(values, dtype=lib.float64, requires_grad=True) for values in inputs]
    out = form(lib, *tensors)
    v = lib.tensor(draws(*out.shape, scale=1.0, seed=2), dtype=lib.float64, requires_grad=upstream == "leaf v")
    total = out.sum() if upstream == "sum" else (out * v).sum()
    firsts = lib.autograd.grad(total, tensors, create_graph=True, allow_unused=True)
    result = {"first": described(firsts)}
    wrt = tensors + ([v] if upstream == "leaf v" else [])
    try:
        seconds = lib.autograd.grad(sum(grad.sum() for grad in firsts if grad is not None), wrt, allow_unused=True,
                                    create_graph=True)
    except RuntimeError as error:
        result["raised"] = str(error)
    else:
        result["second"] = described(seconds)
    return result


def assert_same(ours: list, theirs: list, what: str, requires_grad: bool = True) -> None:
    for k, (mine, pytorchs) in enumerate(zip(ours, theirs, strict=True)):
        assert (mine is None) == (pytorchs is None), f"{what}[{k}]: glassgrad {mine}, PyTorch {pytorchs}"
        if mine is not None:
            np.testing.assert_allclose(mine[0], pytorchs[0], rtol=1e-10, atol=1e-14, err_msg=f"{what}[{k}]")
            if requires_grad:
                assert mine[1] == pytorchs[1], f"{what}[{k}] requires_grad: glassgrad {mine[1]}, PyTorch {pytorchs[1]}"


@pytest.mark.parametrize("upstream", UPSTREAMS)
@pytest.mark.parametrize("case", list(CASES))
def test_a_second_derivative_raises_or_gives_what_pytorchs_gives(torch, case, upstream):
    """fmod and remainder of two tensors and adaptive max pooling raised 'does not require grad' where PyTorch's
    second derivative is 0 (their first one left the inputs' graph); the gradient through a mask (hardtanh, relu6,
    leaky_relu, abs, l1, norms with p = 1 or ∞) required grad under a leaf upstream where PyTorch's zeros do not;
    sign's, floor's and round's recorded gradient under a leaf upstream was in the graph, where PyTorch's
    ``zeros_like`` is a constant whose second derivative is refused; so was nextafter's ∂/∂b."""
    inputs, form = CASES[case]
    ours, theirs = second_derivatives(gg, inputs, form, upstream), second_derivatives(torch, inputs, form, upstream)
    assert_same(ours["first"], theirs["first"], "first")
    assert ("raised" in ours) == ("raised" in theirs), (ours.get("raised"), theirs.get("raised"))
    if "raised" in theirs:
        assert "does not require grad" in theirs["raised"] and "does not require grad" in ours["raised"]
    else:
        assert_same(ours["second"], theirs["second"], "second")


@pytest.mark.parametrize("upstream", UPSTREAMS)
@pytest.mark.parametrize("b", [Y, -1.0], ids=["tensor", "number"])
def test_copysign_second_derivative_as_pytorch_and_exactly_zero(torch, b, upstream):
    """copysign's ∂/∂b is zeros that require no grad under a leaf upstream, and ∂(Σ ∂/∂a)/∂b is zeros, not None, as
    PyTorch's (the signs of b were a constant). ∂²/∂a² is exactly 0 (|a|·s is linear on each side of 0), where
    PyTorch's ``grad·result/self`` leaves rounding errors near 1e-17 that require grad: the numbers agree to 1e-14,
    and ``requires_grad`` of that one gradient is not compared."""
    inputs = [X, b] if isinstance(b, np.ndarray) else [X]
    def form(lib, a, *other):
        return lib.copysign(a, other[0] if other else b)
    ours, theirs = second_derivatives(gg, inputs, form, upstream), second_derivatives(torch, inputs, form, upstream)
    assert_same(ours["first"], theirs["first"], "first")
    assert_same(ours["second"][1:], theirs["second"][1:], "second")
    assert_same(ours["second"][:1], theirs["second"][:1], "second", requires_grad=False)
    assert not np.any(ours["second"][0][0])


def test_copysign_second_derivative_at_a_signed_zero_is_zero():
    """At a = ±0, |a|·s has slopes ±s on either side and none of its own curvature: ∂²/∂a² is 0 (PyTorch's
    ``grad·result/self`` gives 0/0 = NaN there, a documented difference, as for a norm at a slice of zeros)."""
    a = gg.tensor([-0.0, 0.0, 1.5], dtype=gg.float64, requires_grad=True)
    b = gg.tensor([-1.0, 2.0, -0.0], dtype=gg.float64, requires_grad=True)
    first, = gg.autograd.grad(gg.copysign(a, b).sum(), [a], create_graph=True)
    second = gg.autograd.grad(first.sum(), [a, b])
    np.testing.assert_array_equal(first.numpy(), [0.0, 0.0, -1.0])  # |a|'s slope at 0 is 0, as PyTorch's
    for grad in second:
        np.testing.assert_array_equal(grad.numpy(), 0.0)


def test_floor_divide_has_a_constant_zero_gradient_like_floor():
    """``a // b`` is a step, slope 0 (a documented difference: PyTorch refuses to differentiate it): its recorded
    gradient is zeros outside the graph, as PyTorch's ``floor``'s, so a second derivative is refused in one line
    whatever the upstream (it required grad under a leaf upstream)."""
    a, b = (gg.tensor(values, dtype=gg.float64, requires_grad=True) for values in (3 * X, away_from_zero(Y)))
    v = gg.tensor(draws(3, 4, seed=2), dtype=gg.float64, requires_grad=True)
    grads = gg.autograd.grad((gg.floor_divide(a, b) * v).sum(), [a, b], create_graph=True)
    assert all(not grad.requires_grad and not np.any(grad.numpy()) for grad in grads)
    with pytest.raises(RuntimeError, match="does not require grad"):
        gg.autograd.grad(grads[0].sum(), [a, b, v], allow_unused=True)


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_hardsigmoid_first_and_second_derivatives_by_the_formula(upstream):
    """hardsigmoid' = 1/6 strictly inside (−3, 3), else 0: ∂(Σ v·h)/∂x is v/6 there to rounding (PyTorch 2.13's CPU
    kernel multiplies by 1/6 rounded to float32, 3e-8 off in float64), in x's graph as PyTorch's and hardtanh's, so
    ∂(Σ g)/∂x is zeros that require no grad (it raised 'does not require grad', or gave None under a leaf v;
    PyTorch: 'derivative for hardsigmoid_backward is not implemented'); under a leaf v, ∂(Σ g)/∂v is the mask/6."""
    x = np.concatenate([3 * X.ravel(), [-3.0, 3.0, -2.999, 2.999]])
    result = second_derivatives(gg, [x], lambda lib, a: functional(lib).hardsigmoid(a), upstream)
    inside = (x > -3) & (x < 3)
    v = np.ones_like(x) if upstream == "sum" else draws(*x.shape, scale=1.0, seed=2)
    (first, first_requires_grad), = result["first"]
    np.testing.assert_allclose(first, np.where(inside, v / 6, 0.0), rtol=1e-15, atol=0)
    assert first_requires_grad
    (grad_x, x_requires_grad), *grad_v = result["second"]
    np.testing.assert_array_equal(grad_x, 0.0)
    assert not x_requires_grad
    if upstream == "leaf v":
        np.testing.assert_allclose(grad_v[0][0], np.where(inside, 1 / 6, 0.0), rtol=1e-15, atol=0)


# --- second derivatives against central differences of the first, away from kinks ---------------------------------

def hessian_vector_by_differences(first, values: list, k: int, step: float = 1e-6) -> np.ndarray:
    """``∂(Σ w·first(values))/∂values[k]`` entry by entry by central differences, for fixed random weights w."""
    weights = draws(*np.shape(first(values)), scale=1.0, seed=3)
    result = np.zeros_like(values[k])
    for at in np.ndindex(values[k].shape):
        shifted = []
        for sign in (1, -1):
            moved = [value.copy() for value in values]
            moved[k][at] += sign * step
            shifted.append(np.sum(weights * first(moved)))
        result[at] = (shifted[0] - shifted[1]) / (2 * step)
    return result


SMOOTH_CASES = {
    "cdist": ([draws(4, 3), draws(5, 3, seed=1)], lambda lib, a, b: lib.cdist(a, b)),
    "cdist(p=1)": ([draws(4, 3), draws(5, 3, seed=1)], lambda lib, a, b: lib.cdist(a, b, p=1.0)),
    "cdist(p=3)": ([draws(4, 3), draws(5, 3, seed=1)], lambda lib, a, b: lib.cdist(a, b, p=3.0)),
    "cdist(p=inf)": ([draws(4, 3), draws(5, 3, seed=1)], lambda lib, a, b: lib.cdist(a, b, p=float("inf"))),
    "elu": ([X], lambda lib, a: functional(lib).elu(a, 1.3)),
    "gelu(tanh)": ([X], lambda lib, a: functional(lib).gelu(a, approximate="tanh")),
    "softplus(threshold)": ([8 * X], lambda lib, a: functional(lib).softplus(a, beta=2.0, threshold=3.0)),
    "hardswish": ([3 * X], lambda lib, a: functional(lib).hardswish(a)),
    "logsumexp": ([X], lambda lib, a: lib.logsumexp(a, 1)),
    "norm(p=3, dim=0)": ([X], lambda lib, a: lib.norm(a, p=3, dim=0)),
    "huber_loss": ([X, Y], lambda lib, a, b: functional(lib).huber_loss(a, b, delta=0.9)),
    "fmod(a, b)": ([3 * X, away_from_zero(Y)], lambda lib, a, b: lib.fmod(a, b)),
}


@pytest.mark.parametrize("case", list(SMOOTH_CASES))
def test_second_derivatives_match_central_differences_of_the_first(case):
    """Away from kinks and ties, ∂(Σ w·∂(Σ v·op)/∂x)/∂x' against central differences of the first derivative (cdist's
    has no second derivative in PyTorch 2.13: '_cdist_backward is not implemented')."""
    inputs, form = SMOOTH_CASES[case]
    v = None

    def first(values: list, create_graph: bool = False) -> list:
        nonlocal v
        tensors = [gg.tensor(value, dtype=gg.float64, requires_grad=True) for value in values]
        out = form(gg, *tensors)
        v = gg.tensor(draws(*out.shape, scale=1.0, seed=2), dtype=gg.float64) if v is None else v
        return tensors, gg.autograd.grad((out * v).sum(), tensors, create_graph=create_graph)

    tensors, grads = first(inputs, create_graph=True)
    for j, grad in enumerate(grads):
        weights = gg.tensor(draws(*grad.shape, scale=1.0, seed=3), dtype=gg.float64)
        if not grad.requires_grad:  # fmod's ∂/∂a = 1: flat
            continue
        seconds = gg.autograd.grad((grad * weights).sum(), tensors, allow_unused=True, retain_graph=True)
        def jth_first(values: list, j: int = j) -> np.ndarray:
            return first(values)[1][j].numpy()
        for k, second in enumerate(seconds):
            expected = hessian_vector_by_differences(jth_first, inputs, k)
            got = np.zeros_like(expected) if second is None else second.numpy()
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7, err_msg=f"∂²/∂x{j}∂x{k}")


@given(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       st.sampled_from(["fmod", "remainder"]), st.sampled_from(UPSTREAMS))
def test_fmod_and_remainder_of_broadcast_tensors_differentiate_twice_as_pytorch(torch, shapes, name, upstream):
    """The second derivative of fmod/remainder of two tensors of any broadcast shapes: zeros in each input's shape,
    as PyTorch's (it raised)."""
    a_shape, b_shape = shapes.input_shapes
    inputs = [3 * draws(*a_shape, seed=4), away_from_zero(draws(*b_shape, seed=5))]
    def form(lib, a, b):
        return getattr(lib, name)(a, b)
    ours, theirs = second_derivatives(gg, inputs, form, upstream), second_derivatives(torch, inputs, form, upstream)
    assert_same(ours["first"], theirs["first"], "first")
    assert ("raised" in ours) == ("raised" in theirs)
    if "raised" not in theirs:
        assert_same(ours["second"], theirs["second"], "second")
