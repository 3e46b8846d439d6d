"""``sinc`` and its derivatives at 0, against the series ``sinc(x) = 1 − (πx)²/6 + (πx)⁴/120 − …`` (hand-derived:
the derivatives there are 1, 0, −π²/3, 0, π⁴/5): the value at 0 was a constant, so every derivative of the
gradient came out 0 (PyTorch 2.13 gives NaN for the second), and away from 0 against PyTorch."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

import glassgrad as gg


def _derivatives(lib, points, order):
    x = lib.tensor(points, dtype=lib.float64, requires_grad=True)
    out = [lib.special.sinc(x)]
    for number in range(order):
        out.append(lib.autograd.grad(out[-1].sum(), x, create_graph=number < order - 1)[0])
    return [value.detach().numpy() for value in out]


def test_sinc_derivatives_at_zero_are_its_series_coefficients():
    values = _derivatives(gg, [0.0], 4)
    np.testing.assert_allclose([v[0] for v in values], [1.0, 0.0, -math.pi ** 2 / 3, 0.0, math.pi ** 4 / 5],
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-13), ("float32", 1e-5)])  # float32: ~80 ulp past |πx| = 0.1
def test_sinc_derivatives_near_zero_keep_their_digits(dtype, rtol):
    """Near 0 the quotient's derivative ``(z·cos z − sin z)/z²`` cancels: at x = 1e-8 it was 36% off in float64 (as
    PyTorch's), at x = −2e-4 30% off in float32; the series there keeps every digit (oracle: mpmath at 50 digits)."""
    mpmath.mp.dps = 50
    points = np.array([1e-8, 1e-5, -2e-4, 1e-3, 0.03, -0.05, 0.3], dtype=dtype)
    x = gg.tensor(points, requires_grad=True)
    first, = gg.autograd.grad(gg.special.sinc(x).sum(), x, create_graph=True)
    second, = gg.autograd.grad(first.sum(), x)
    exact = [[float(mpmath.diff(lambda t: mpmath.sin(mpmath.pi * t) / (mpmath.pi * t), mpmath.mpf(float(p)), order))
              for p in points] for order in (1, 2)]
    np.testing.assert_allclose(first.numpy(), exact[0], rtol=rtol)
    np.testing.assert_allclose(second.numpy(), exact[1], rtol=rtol)


@pytest.mark.torch
def test_sinc_and_two_derivatives_away_from_zero_match_pytorch(torch):
    points = [0.3, -1.2, 2.5, 1e-3]
    for mine, theirs in zip(_derivatives(gg, points, 2), _derivatives(torch, points, 2)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("dtype, x, rtol", [("float16", 100.0, 1e-2), ("float32", 1e19, 1e-5),
                                           ("float64", 1e155, 1e-12)])
def test_sinc_gradient_far_from_zero_is_finite_as_pytorchs(torch, dtype, x, rtol):
    """The series, worked out at every entry, overflowed there (z² = ∞) and its unused branch's gradient, 0·∞,
    made the gradient NaN."""
    results = []
    for lib in (gg, torch):
        point = lib.tensor([x, -x], dtype=getattr(lib, dtype), requires_grad=True)
        lib.special.sinc(point).sum().backward()
        results.append(point.grad.double().numpy())
    assert np.isfinite(results[0]).all()
    np.testing.assert_allclose(results[0], results[1], rtol=rtol, atol=1e-30)
