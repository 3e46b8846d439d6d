"""The orthogonal polynomials of ``gg.special`` (glassgrad.special_polynomials).

Oracles: PyTorch 2.13's ``torch.special`` for values and dtypes (float64 and float32, n = 0 … 12, hypothesis-drawn
shapes with x and n broadcast together, the special points); for the gradient, which PyTorch does not give, central
differences of PyTorch's float64 values, ``gg.gradcheck`` and hand-derived derivatives (``T₃ = 4x³ − 3x``,
``H₂ = 4x² − 2`` …).
"""

from __future__ import annotations

import functools
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.ops import RULES

DOMAINS = {  # family: an interval where x is drawn, |x| > 1 included where the family is meant for [−1, 1]
    "chebyshev_polynomial_t": (-1.2, 1.2),
    "chebyshev_polynomial_u": (-1.2, 1.2),
    "chebyshev_polynomial_v": (-1.2, 1.2),
    "chebyshev_polynomial_w": (-1.2, 1.2),
    "shifted_chebyshev_polynomial_t": (-0.1, 1.1),
    "shifted_chebyshev_polynomial_u": (-0.1, 1.1),
    "shifted_chebyshev_polynomial_v": (-0.1, 1.1),
    "shifted_chebyshev_polynomial_w": (-0.1, 1.1),
    "hermite_polynomial_h": (-3.0, 3.0),
    "hermite_polynomial_he": (-3.0, 3.0),
    "laguerre_polynomial_l": (-2.0, 8.0),
    "legendre_polynomial_p": (-1.2, 1.2),
}
FAMILIES = sorted(DOMAINS)
DEGREES = 12
GARBAGE_AT_NAN = {"chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
                  "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
                  "shifted_chebyshev_polynomial_w", "laguerre_polynomial_l", "legendre_polynomial_p"}
"""Where PyTorch 2.13 returns leftover memory for a NaN x (n ≥ 2): glassgrad gives NaN there."""

# (value, derivative, second derivative) of a few low degrees, by hand
BY_HAND = {
    ("chebyshev_polynomial_t", 3): (lambda x: 4 * x**3 - 3 * x, lambda x: 12 * x**2 - 3, lambda x: 24 * x),
    ("chebyshev_polynomial_u", 2): (lambda x: 4 * x**2 - 1, lambda x: 8 * x, lambda x: 8 + 0 * x),
    ("chebyshev_polynomial_v", 2): (lambda x: 4 * x**2 - 2 * x - 1, lambda x: 8 * x - 2, lambda x: 8 + 0 * x),
    ("chebyshev_polynomial_w", 2): (lambda x: 4 * x**2 + 2 * x - 1, lambda x: 8 * x + 2, lambda x: 8 + 0 * x),
    ("shifted_chebyshev_polynomial_t", 2): (lambda x: 8 * x**2 - 8 * x + 1, lambda x: 16 * x - 8,
                                            lambda x: 16 + 0 * x),
    ("hermite_polynomial_h", 2): (lambda x: 4 * x**2 - 2, lambda x: 8 * x, lambda x: 8 + 0 * x),
    ("hermite_polynomial_h", 3): (lambda x: 8 * x**3 - 12 * x, lambda x: 24 * x**2 - 12, lambda x: 48 * x),
    ("hermite_polynomial_he", 3): (lambda x: x**3 - 3 * x, lambda x: 3 * x**2 - 3, lambda x: 6 * x),
    ("laguerre_polynomial_l", 2): (lambda x: (x**2 - 4 * x + 2) / 2, lambda x: x - 2, lambda x: 1 + 0 * x),
    ("legendre_polynomial_p", 3): (lambda x: (5 * x**3 - 3 * x) / 2, lambda x: (15 * x**2 - 3) / 2,
                                   lambda x: 15 * x),
}


def _function(lib, family):
    return getattr(lib.special, family)


@functools.cache
def _scale(family: str) -> np.ndarray:
    """``max |Pₖ(x)|`` over the family's domain and k ≤ n, for n = 0 … 12 (PyTorch's values on a grid): the size
    of the terms a value near a root cancels from, which sets an absolute tolerance."""
    import torch

    grid = torch.linspace(*DOMAINS[family], 2001, dtype=torch.float64)
    peaks = [_function(torch, family)(grid, n).abs().max().item() for n in range(DEGREES + 1)]
    return np.maximum.accumulate(np.maximum(peaks, 1.0))




shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@st.composite
def broadcast_pairs(draw):
    """x's shape and n's shape, broadcastable together: n has x's trailing dims (each kept or 1), and possibly one
    more in front when it has all of them."""
    x_shape = draw(shapes)
    start = draw(st.integers(0, len(x_shape)))
    n_shape = tuple(draw(st.sampled_from([size, 1])) for size in x_shape[start:])
    if start == 0:
        n_shape = tuple(draw(st.lists(st.integers(1, 3), max_size=1))) + n_shape
    return x_shape, n_shape


@pytest.mark.torch
@pytest.mark.parametrize("family", FAMILIES)
@given(pair=broadcast_pairs(), seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from(["float32", "float64"]))
def test_values_and_dtypes_match_pytorch_for_degrees_0_to_12(torch, family, pair, seed, dtype):
    x_shape, n_shape = pair
    rng = np.random.default_rng(seed)
    x = rng.uniform(*DOMAINS[family], size=x_shape).astype(dtype)
    n = rng.integers(0, DEGREES + 1, size=n_shape)
    mine = _function(gg, family)(gg.tensor(x), gg.tensor(n))
    theirs = _function(torch, family)(torch.tensor(x), torch.tensor(n))
    assert mine.shape == tuple(theirs.shape) and str(mine.dtype) == str(theirs.dtype).removeprefix("torch.")
    truth = _function(torch, family)(torch.tensor(x, dtype=torch.float64), torch.tensor(n)).numpy()
    scale = _scale(family)[np.broadcast_to(n, truth.shape)]
    tolerance = 1e-12 if dtype == "float64" else 1e-5  # of the terms' size: n² roundings of the recurrence
    assert np.all(np.abs(mine.numpy().astype(np.float64) - truth) <= tolerance * scale)


SPECIAL_X = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, math.inf, -math.inf]


@pytest.mark.torch
@pytest.mark.parametrize("family", FAMILIES)
def test_special_points_and_degrees_match_pytorch(torch, family):
    """±1, 0, |x| > 1 and ±inf for n = 0 … 12 and 50; a negative, fractional (truncated toward 0), NaN or infinite
    n as PyTorch reads it (0 for the negative, NaN and infinite ones)."""
    x = np.array(SPECIAL_X)
    degrees = [*range(DEGREES + 1), 50, -1, -3, -0.5, 0.5, 1.7, 2.9, 7.9, math.nan, math.inf, -math.inf]
    for n in degrees:
        mine = _function(gg, family)(gg.tensor(x), gg.tensor(n, dtype=gg.float64)).numpy()
        theirs = _function(torch, family)(torch.tensor(x), torch.tensor(n, dtype=torch.float64)).numpy()
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=f"n = {n}")


@pytest.mark.torch
@pytest.mark.parametrize("family", FAMILIES)
def test_a_nan_x_gives_nan_past_degree_0(torch, family):
    x = gg.tensor([math.nan, 0.5], dtype=gg.float64)
    for n in range(DEGREES + 1):
        out = _function(gg, family)(x, n).numpy()
        assert out[0] == 1.0 if n == 0 else math.isnan(out[0])
        assert out[1] == pytest.approx(_function(torch, family)(torch.tensor([0.5], dtype=torch.float64), n).item(),
                                       rel=1e-12, abs=1e-12)
        if family not in GARBAGE_AT_NAN:  # where PyTorch's answer at NaN is defined, it is the same
            theirs = _function(torch, family)(torch.tensor([math.nan], dtype=torch.float64), n).item()
            assert out[0] == theirs or (math.isnan(out[0]) and math.isnan(theirs))


def _dtype_cases(lib):
    """(x, n) pairs mixing tensors of each kind and Python numbers."""
    return [
        (lib.tensor([0.5], dtype=lib.float32), lib.tensor(3)),
        (lib.tensor([0.5], dtype=lib.float32), 3),
        (lib.tensor([0.5], dtype=lib.float32), 3.0),
        (lib.tensor([0.5], dtype=lib.float64), lib.tensor([3], dtype=lib.int32)),
        (lib.tensor([2]), lib.tensor(3)),
        (lib.tensor([2]), 3),
        (2, lib.tensor(3)),
        (0.5, lib.tensor([3])),
        (0.5, lib.tensor([3.0], dtype=lib.float64)),
        (lib.tensor([2]), lib.tensor(3.0, dtype=lib.float32)),
        (lib.tensor([2]), lib.tensor([3.0], dtype=lib.float64)),
        (lib.tensor([0.5], dtype=lib.float32), lib.tensor(3.0, dtype=lib.float64)),
        (lib.tensor([0.5], dtype=lib.float32), lib.tensor([3.0], dtype=lib.float64)),
        (lib.tensor(0.5, dtype=lib.float64), lib.tensor([3], dtype=lib.float32)),
        (lib.tensor([True]), lib.tensor(3)),
        (lib.tensor([2], dtype=lib.int32), lib.tensor([3], dtype=lib.uint8)),
        (lib.tensor([0.5], dtype=lib.float64), lib.tensor([True, False])),
    ]


@pytest.mark.torch
@pytest.mark.parametrize("case", range(len(_dtype_cases(gg))))
@pytest.mark.parametrize("family", ["chebyshev_polynomial_t", "laguerre_polynomial_l"])
def test_the_result_dtype_is_pytorchs(torch, family, case):
    mine = _function(gg, family)(*_dtype_cases(gg)[case])
    theirs = _function(torch, family)(*_dtype_cases(torch)[case])
    assert str(mine.dtype) == str(theirs.dtype).removeprefix("torch.")
    assert mine.shape == tuple(theirs.shape)
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize(("family", "n"), sorted(BY_HAND))
def test_values_and_derivatives_by_hand(family, n):
    value, slope, curvature = BY_HAND[(family, n)]
    points = np.array([-1.5, -0.3, 0.0, 0.7, 2.0])
    x = gg.tensor(points, dtype=gg.float64, requires_grad=True)
    out = _function(gg, family)(x, n)
    (first,) = gg.autograd.grad(out.sum(), x, create_graph=True)
    (second,) = gg.autograd.grad(first.sum(), x)
    np.testing.assert_allclose(out.detach().numpy(), value(points), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(first.detach().numpy(), slope(points), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(second.numpy(), curvature(points), rtol=1e-14, atol=1e-14)


@pytest.mark.torch
@pytest.mark.parametrize("family", FAMILIES)
@given(pair=broadcast_pairs(), seed=st.integers(0, 2**32 - 1))
def test_gradient_is_the_central_difference_of_pytorchs_values(torch, family, pair, seed):
    """Each entry's ∂Pₙ(x)/∂x (x already of the output's shape) against ``(P(x + h) − P(x − h))/2h`` of PyTorch's
    float64 values. By Markov's inequality |P⁽ᵏ⁾| ≤ (2n²/width)ᵏ·max|P| on the interval, so the difference errs by
    at most h²/6·|P'''| + ε·max|P|/h, both far below 1e-7·n²·max|P|/width with h = 1e-5·width."""
    x_shape, n_shape = pair
    shape = np.broadcast_shapes(x_shape, n_shape)
    rng = np.random.default_rng(seed)
    low, high = DOMAINS[family]
    points = rng.uniform(low, high, size=shape)
    n = rng.integers(0, DEGREES + 1, size=n_shape)
    x = gg.tensor(points, requires_grad=True)
    _function(gg, family)(x, gg.tensor(n)).sum().backward()
    h = 1e-5 * (high - low)
    values = [_function(torch, family)(torch.tensor(points + step), torch.tensor(n)).numpy() for step in (h, -h)]
    difference = (values[0] - values[1]) / (2 * h)
    degrees = np.broadcast_to(n, shape)
    tolerance = 1e-7 * (degrees + 1) ** 2 * _scale(family)[degrees] / (high - low)
    assert np.all(np.abs(x.grad.numpy() - difference) <= tolerance)


@given(pair=broadcast_pairs(), seed=st.integers(0, 2**32 - 1), family=st.sampled_from(FAMILIES))
def test_gradcheck_and_gradgradcheck_in_float64_with_broadcasting(pair, seed, family):
    """x broadcast against n: its gradient sums over the degrees it meets."""
    x_shape, n_shape = pair
    rng = np.random.default_rng(seed)
    x = gg.tensor(rng.uniform(*DOMAINS[family], size=x_shape), dtype=gg.float64, requires_grad=True)
    n = gg.tensor(rng.integers(0, 7, size=n_shape))
    function = _function(gg, family)
    report = gg.gradcheck(lambda t: function(t, n), (x,), eps=1e-6, atol=1e-6, rtol=1e-5)
    assert report.ok, report.max_error
    assert gg.autograd.gradgradcheck(lambda t: function(t, n), (x,), atol=1e-5, rtol=1e-4)


def test_the_trace_shows_the_row_and_its_local_derivative():
    x = gg.tensor([0.5, 2.0], dtype=gg.float64, requires_grad=True)
    with gg.trace() as tape:
        gg.special.chebyshev_polynomial_t(x, 3).sum().backward()
    step = next(s for s in tape.describe()["backward"] if s["op"] == "orthogonal_polynomial")
    np.testing.assert_allclose(step["local"]["values"], [0.0, 45.0])  # T₃' = 12x² − 3
    assert "Pₙ⁽ᵐ⁺¹⁾" in RULES["orthogonal_polynomial"].derivative_text(0)


def test_an_n_that_requires_grad_is_refused_in_one_line():
    x = gg.tensor([0.5], requires_grad=True)
    n = gg.tensor([3.0], requires_grad=True)
    with pytest.raises(NotImplementedError,
                       match="hermite_polynomial_h: glassgrad has no gradient with respect to n") as error:
        gg.special.hermite_polynomial_h(x, n)
    assert "\n" not in str(error.value)
    with gg.no_grad():
        assert gg.special.hermite_polynomial_h(x, n).item() == pytest.approx(8 * 0.125 - 12 * 0.5)
    assert gg.special.hermite_polynomial_h(x, n.detach()).requires_grad


def test_bad_calls_are_refused_in_one_line():
    with pytest.raises(TypeError, match="input or n must be a tensor"):
        gg.special.legendre_polynomial_p(0.5, 3)
    with pytest.raises(NotImplementedError, match="float16"):
        gg.special.legendre_polynomial_p(gg.tensor([0.5], dtype=gg.float16), 3)
    with pytest.raises(RuntimeError, match="cannot be broadcast together"):
        gg.special.legendre_polynomial_p(gg.tensor([0.5, 0.2]), gg.tensor([1, 2, 3]))


def test_torch_special_resolves_under_torch_names():
    program = ("from glassgrad import torch_names; torch_names.install()\n"
               "import torch, glassgrad\n"
               "assert torch.special.chebyshev_polynomial_t is glassgrad.special.chebyshev_polynomial_t\n"
               "print(torch.special.chebyshev_polynomial_t(torch.tensor([0.5, 2.0]), 3).tolist())")
    shown = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr[-400:]
    assert shown.stdout.strip() == "[-1.0, 26.0]"


@pytest.mark.torch
def test_gg_special_has_every_polynomial_of_torch_special(torch):
    endings = tuple(f"_polynomial_{kind}" for kind in ("t", "u", "v", "w", "h", "he", "l", "p"))
    names = {name for name in dir(torch.special) if name.endswith(endings)}
    assert names == set(FAMILIES)
    assert all(callable(getattr(gg.special, name)) for name in names)
