"""Activations far out on their tails and at their edges, against PyTorch 2.13 and formulas derived by hand.

``logsigmoid``: ``ln σ(x) = −ln(1 + e⁻ˣ)``, slope ``σ(−x)``, second derivative ``−σ(x)·σ(−x)``. Made of
``softplus`` it took softplus's threshold (the identity past 20), so below x = −20 its value was x itself, its
slope 1 and its second derivative 0.

``sigmoid`` and ``tanh`` backward: ``up·(1 − σ)·σ`` and ``up·(1 − tanh²)``, PyTorch's order. Written
``up·σ − up·σ·σ`` and ``up − up·tanh·tanh`` they gave ∞ − ∞ = NaN for an infinite upstream (``glu`` with a −∞
in its gated half), and sigmoid's float32 gradient had PyTorch's bits at 38% of entries.

``hardswish`` recorded for a second derivative (``create_graph=True``): its slope 1 at x = +∞ was NaN, the middle
piece ``1/2 − x/3`` times a mask of 0 there (∞·0); and ``hardswish(−∞)``, NaN (−∞·0) as PyTorch's, no longer
has NumPy warn "invalid value encountered in multiply", which PyTorch does not.

``hardsigmoid`` and ``hardswish``: ``min(max(x + 3, 0), 6)/6`` (times x), PyTorch's order; ``x/6 + 1/2`` lost the
digits of the small values next to x = −3.

``mish``: ``x·tanh(softplus(x))``, slope ``t + x·σ(x)·(1 − t²)`` with ``t = tanh(softplus(x))``. Made of a product
and tanh, its backward multiplied the upstream by x before tanh's slope 0: an upstream of 2 at x = 3·10³⁸ in
float32 was ∞·0 = NaN where PyTorch's gradient is 2.

``celu``: ``x`` above 0, ``α·(e^(x/α) − 1)`` at and below it, slope 1 or ``e^(x/α)``. As ``α·elu(x/α)`` the quotient
x/α overflowed for a small α (celu(1e30, α = 1e-30) was ∞ in float32) and underflowed for a large one
(celu(1e-20, α = 1e30) was 0), on the side where the value is x; float16 took α = 1e-30 as 0 (NaN everywhere).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import glassgrad as gg


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _log_sigmoid_by_hand(x: float) -> tuple[float, float, float]:
    """ln σ(x), its slope σ(−x) and its second derivative −σ(x)·σ(−x), each to full float64 precision."""
    value = min(x, 0.0) - math.log1p(math.exp(-abs(x)))
    return value, _sigmoid(-x), -_sigmoid(x) * _sigmoid(-x)


def _log_sigmoid_derivatives(x: gg.Tensor) -> tuple[gg.Tensor, gg.Tensor, gg.Tensor]:
    value = gg.nn.functional.logsigmoid(x)
    (slope,) = gg.autograd.grad(value.sum(), x, create_graph=True)
    (curvature,) = gg.autograd.grad(slope.sum(), x)
    return value, slope, curvature


@pytest.mark.parametrize("x", [-700.0, -50.0, -30.0, -21.0, -20.5, -20.0, -5.0, -1e-300, 0.0, 0.5, 20.0, 40.0])
def test_log_sigmoid_keeps_its_digits_on_the_left_tail(x: float) -> None:
    value, slope, curvature = _log_sigmoid_derivatives(gg.tensor([x], dtype=gg.float64, requires_grad=True))
    expected = _log_sigmoid_by_hand(x)
    for got, want in zip((value, slope, curvature), expected):
        np.testing.assert_allclose(got.detach().numpy()[0], want, rtol=1e-14, atol=0)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, array_shapes(max_dims=3, max_side=4),
              elements=st.floats(-700, 700, allow_nan=False, allow_subnormal=False)))
def test_log_sigmoid_matches_pytorch_to_the_second_derivative(values: np.ndarray) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    mine = _log_sigmoid_derivatives(gg.tensor(values, requires_grad=True))
    x = torch.tensor(values, requires_grad=True)
    value = torch.nn.functional.logsigmoid(x)
    (slope,) = torch.autograd.grad(value.sum(), x, create_graph=True)
    (curvature,) = torch.autograd.grad(slope.sum(), x)
    for got, want in zip(mine[:2], (value, slope)):
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-13, atol=1e-300)
    # PyTorch's curvature forms 1 − σ(x) for x > 0, whose digits go as x grows (8 left at x = 21): compared on the left
    left = values <= 0
    np.testing.assert_allclose(mine[2].numpy()[left], curvature.numpy()[left], rtol=1e-13, atol=1e-300)
    by_hand = [_log_sigmoid_by_hand(x)[2] for x in values.ravel()]
    np.testing.assert_allclose(mine[2].numpy().ravel(), by_hand, rtol=1e-13, atol=1e-300)


def test_log_sigmoid_at_the_infinities_and_in_float32() -> None:
    x = gg.tensor([-math.inf, math.inf, -1000.0, 1000.0], dtype=gg.float64, requires_grad=True)
    value, slope, _ = _log_sigmoid_derivatives(x)
    np.testing.assert_array_equal(value.detach().numpy(), [-math.inf, 0.0, -1000.0, 0.0])
    np.testing.assert_array_equal(slope.detach().numpy(), [1.0, 0.0, 1.0, 0.0])
    single = gg.nn.functional.logsigmoid(gg.tensor([-30.0, 0.0, 30.0], dtype=gg.float32))
    assert single.dtype == gg.float32
    np.testing.assert_allclose(single.numpy(), [-30.0, -math.log(2), -math.exp(-30.0)], rtol=1e-6)


@pytest.mark.parametrize("function", ["sigmoid", "tanh"])
def test_an_infinite_upstream_stays_infinite_through_sigmoid_and_tanh(function: str) -> None:
    x = gg.tensor([0.3, -2.0, 0.0, 4.0], dtype=gg.float64, requires_grad=True)
    getattr(gg, function)(x).backward(gg.tensor([math.inf, -math.inf, math.inf, -math.inf], dtype=gg.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [math.inf, -math.inf, math.inf, -math.inf])


def test_glu_gate_slope_is_minus_infinity_under_a_minus_infinite_half() -> None:
    """glu(a, b) = a·σ(b): ∂/∂b = a·σ(b)·(1 − σ(b)), −∞ for a = −∞ (PyTorch's too)."""
    x = gg.tensor([-math.inf, 2.0, 0.0, 1.0], dtype=gg.float64, requires_grad=True)
    gg.nn.functional.glu(x, 0).sum().backward()
    sigmoid = [_sigmoid(0.0), _sigmoid(1.0)]
    np.testing.assert_array_equal(x.grad.numpy()[2:], [-math.inf, 2.0 * sigmoid[1] * (1 - sigmoid[1])])
    np.testing.assert_allclose(x.grad.numpy()[:2], sigmoid, rtol=1e-15)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float32, array_shapes(max_dims=2, max_side=64), elements=st.floats(-30, 30, width=32)),
       st.integers(0, 2**32 - 1))
def test_sigmoid_backward_has_pytorchs_float32_bits(values: np.ndarray, seed: int) -> None:
    """The backward alone: PyTorch's ``sigmoid_backward`` given glassgrad's own σ (whose bits are the forward's
    business) and the same upstream."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    upstream = np.random.default_rng(seed).normal(size=values.shape).astype(np.float32)
    x = gg.tensor(values, requires_grad=True)
    out = gg.sigmoid(x)
    out.backward(gg.tensor(upstream))
    theirs = torch.ops.aten.sigmoid_backward(torch.tensor(upstream), torch.tensor(out.detach().numpy()))
    np.testing.assert_array_equal(x.grad.numpy(), theirs.numpy())


def test_hardswish_slope_recorded_for_a_second_derivative_is_finite_at_the_infinities() -> None:
    """hardswish' is 0 up to −3, x/3 + 1/2 inside, 1 from 3 on; hardswish'' is 1/3 inside, else 0."""
    points = [math.inf, -math.inf, 1e300, -1e300, -3.0, 3.0, 0.0, 1.5, -1.5]
    x = gg.tensor(points, dtype=gg.float64, requires_grad=True)
    (slope,) = gg.autograd.grad(gg.nn.functional.hardswish(x).sum(), x, create_graph=True)
    (curvature,) = gg.autograd.grad(slope.sum(), x)
    np.testing.assert_array_equal(slope.detach().numpy(), [1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.5, 1.0, 0.0])
    np.testing.assert_allclose(curvature.numpy(), [0.0] * 6 + [1 / 3] * 3, rtol=1e-15, atol=0)


def test_hardswish_of_minus_infinity_is_nan_without_a_numpy_warning() -> None:
    x = gg.tensor([-math.inf, 1.0, math.inf], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = gg.nn.functional.hardswish(x)
        out.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), np.array([math.nan, 2 / 3, math.inf], np.float32))
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1 / 3 + 1 / 2, 1.0], rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["hardsigmoid", "hardswish"])
def test_hard_sigmoid_and_swish_keep_their_digits_next_to_minus_three(name: str, dtype: str) -> None:
    """Near x = −3 the value is small: ``(x + 3)/6`` (x + 3 is exact there) within 2 ulps of the float64 value of the
    same rounded x. Formed as ``x/6 + 1/2`` it was off by 56 float32 ulps at x = −2.9911 (and 30 in float64): the
    rounding error of x/6 is cancelled against 1/2."""
    x = np.linspace(-3.0, -2.9, 4001).astype(dtype)
    exact = np.clip(x.astype(np.float64) + 3, 0, 6) / 6 * (x.astype(np.float64) if name == "hardswish" else 1)
    found = getattr(gg.nn.functional, name)(gg.tensor(x)).numpy()
    assert found.dtype == x.dtype
    ulps = np.abs(found - exact) / np.spacing(np.abs(exact).astype(dtype)).astype(np.float64)
    assert np.nanmax(np.where(exact == 0, 0, ulps)) <= 2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["hardsigmoid", "hardswish"])
def test_hard_sigmoid_and_swish_have_pytorchs_bits(torch, name: str, dtype: str) -> None:
    x = np.concatenate([np.random.default_rng(3).uniform(-4, 4, 20_000), [-3.0, 3.0, 0.0, -0.0, math.inf, -math.inf]])
    x = x.astype(dtype)
    mine = getattr(gg.nn.functional, name)(gg.tensor(x)).numpy()
    theirs = getattr(torch.nn.functional, name)(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_mish_matches_pytorch_far_out_and_under_any_upstream(dtype: str) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    largest = float(np.finfo(dtype).max)
    far = [p for p in (3e38, 1e30, -1e30, 6e4) if abs(p) <= largest]
    points = np.array([largest, -largest, largest / 2, *far, 100.0, -100.0, 20.0, -20.0, 1.5, -0.5, 0.0, 1e-30,
                       math.inf, -math.inf], dtype=dtype)
    upstream = np.resize(np.array([2.0, -3.0, 0.5, 1.0], dtype), points.shape)
    x = gg.tensor(points, requires_grad=True)
    out = gg.nn.functional.mish(x)
    out.backward(gg.tensor(upstream))
    theirs = torch.tensor(points, requires_grad=True)
    expected = torch.nn.functional.mish(theirs)
    expected.backward(torch.tensor(upstream))
    tolerance = {"float16": 1e-3, "float32": 1e-6, "float64": 1e-14}[dtype]
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=tolerance, atol=0)
    np.testing.assert_allclose(x.grad.numpy(), theirs.grad.numpy(), rtol=tolerance, atol=0)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, array_shapes(max_dims=2, max_side=8), elements=st.floats(-60, 60)))
def test_mish_matches_pytorch_to_the_second_derivative(values: np.ndarray) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    x = gg.tensor(values, requires_grad=True)
    (slope,) = gg.autograd.grad(gg.nn.functional.mish(x).sum(), x, create_graph=True)
    (curvature,) = gg.autograd.grad(slope.sum(), x)
    theirs = torch.tensor(values, requires_grad=True)
    (their_slope,) = torch.autograd.grad(torch.nn.functional.mish(theirs).sum(), theirs, create_graph=True)
    (their_curvature,) = torch.autograd.grad(their_slope.sum(), theirs)
    # the slope crosses 0 at x ≈ −1.19, where its terms cancel: an absolute tolerance there
    np.testing.assert_allclose(slope.detach().numpy(), their_slope.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(curvature.numpy(), their_curvature.numpy(), rtol=1e-12, atol=1e-14)


CELU_ALPHAS = [1e-3, 1e-30, 1e-38, 1.0, 2.5, 1e30, 3e38, -1e-3, -1e-30, -2.0]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("alpha", CELU_ALPHAS)
def test_celu_matches_pytorch_for_tiny_and_huge_alphas(dtype: str, alpha: float) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    largest = float(np.finfo(dtype).max)
    magnitudes = [largest, 1e30, 1e3, 1.0, 1e-3, 1e-20, 1e-30, 1e-45, 0.0]
    points = np.array([sign * m for m in magnitudes for sign in (1.0, -1.0)] + [math.inf, -math.inf, math.nan])
    points = points[(np.abs(points) <= largest) | ~np.isfinite(points)].astype(dtype)
    upstream = np.resize(np.array([2.0, -3.0, 0.5], dtype), points.shape)
    x = gg.tensor(points, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyTorch's overflows are silent
        out = gg.nn.functional.celu(x, alpha)
        out.backward(gg.tensor(upstream))
    theirs = torch.tensor(points, requires_grad=True)
    expected = torch.nn.functional.celu(theirs, alpha)
    expected.backward(torch.tensor(upstream))
    # PyTorch forms the slope as (1/α)·(out + α) with float32 constants, which cancels for a small α (1e-5 off)
    tolerance = {"float16": 1e-3, "float32": 1e-5, "float64": 1e-5}[dtype]
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=tolerance, atol=0)
    np.testing.assert_array_equal(np.signbit(out.detach().numpy()), np.signbit(expected.detach().numpy()))
    np.testing.assert_allclose(x.grad.numpy(), theirs.grad.numpy(), rtol=tolerance, atol=0)


@pytest.mark.parametrize("alpha", CELU_ALPHAS)
def test_celu_slope_is_the_exact_exponential_for_any_alpha(alpha: float) -> None:
    points = [1e300, 1e30, 1.0, 1e-30, 0.0, -1e-30, -1e-3, -0.5, -1.0, -40.0, -1e30]
    x = gg.tensor(points, dtype=gg.float64, requires_grad=True)
    gg.nn.functional.celu(x, alpha).sum().backward()
    expected = [1.0 if p > 0 else math.exp(p / alpha) if p / alpha < 700 else math.inf for p in points]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-15, atol=0)
