"""torch.special's Bessel and Airy functions, ``erfcx``, ``zeta`` and ``gammainc``/``gammaincc`` in gg.special.

Oracles: PyTorch 2.13 (values in float64 and float32, dtypes; erfcx's first and second derivatives; zeta's and
gammainc's values; the gradients the derivative formulas give with PyTorch's own functions), finite differences
(``gg.gradcheck``, ``gg.autograd.gradgradcheck``) for every derivative, on hypothesis-drawn shapes, and hand-derived
identities: the Wronskians ``J₁Y₀ − J₀Y₁ = 2/(πx)`` and ``I₀K₁ + I₁K₀ = 1/x``, ``j₀(x) = sin(x)/x``, the published
``Ai(0)``, ``Ai'(0)``, ``ζ(2, 1) = π²/6`` and ``ζ(x, q) − ζ(x, q + 1) = q^(−x)``. The identities are the tight
check of J, Y and Ai: PyTorch 2.13's float64 kernels for them are off by up to 1e-6 (J, Y near x ≈ 5) and 3e-6
(Ai near x ≈ −2), so the comparisons with PyTorch allow that much.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

ROUGH, TIGHT = 3e-6, 1e-12  # PyTorch's J, Y and Ai in float64 (see above); the others agree to rounding
ROWS = {  # name: (domain (low, high) where the function and its derivatives are well conditioned, rtol = atol
    #        against PyTorch in float64, the derivative written with PyTorch's functions (None: it has no Ai'))
    "bessel_j0": ((-30, 30), ROUGH, lambda s, x: -s.bessel_j1(x)),
    "bessel_j1": ((-30, 30), ROUGH, lambda s, x: s.bessel_j0(x) - s.bessel_j1(x) / x),
    "bessel_y0": ((0.1, 30), ROUGH, lambda s, x: -s.bessel_y1(x)),
    "bessel_y1": ((0.1, 30), ROUGH, lambda s, x: s.bessel_y0(x) - s.bessel_y1(x) / x),
    "modified_bessel_i0": ((-20, 20), TIGHT, lambda s, x: s.modified_bessel_i1(x)),
    "modified_bessel_i1": ((-20, 20), TIGHT, lambda s, x: s.modified_bessel_i0(x) - s.modified_bessel_i1(x) / x),
    "modified_bessel_k0": ((0.1, 30), TIGHT, lambda s, x: -s.modified_bessel_k1(x)),
    "modified_bessel_k1": ((0.1, 30), TIGHT, lambda s, x: -s.modified_bessel_k0(x) - s.modified_bessel_k1(x) / x),
    "scaled_modified_bessel_k0": ((0.1, 100), TIGHT,
                                  lambda s, x: s.scaled_modified_bessel_k0(x) - s.scaled_modified_bessel_k1(x)),
    "scaled_modified_bessel_k1": ((0.1, 100), TIGHT, lambda s, x: (s.scaled_modified_bessel_k1(x) * (1 - 1 / x)
                                                                   - s.scaled_modified_bessel_k0(x))),
    # (x·cos x − sin x)/x² loses digits near 0 in PyTorch (≈ 1e-16/|x|): 1e-10 (the values are checked at 1e-12 below)
    "spherical_bessel_j0": ((-30, 30), 1e-10, lambda s, x: (x * x.cos() - x.sin()) / (x * x)),
    "airy_ai": ((-15, 8), 2 * ROUGH, None),
    "erfcx": ((-5, 30), TIGHT, lambda s, x: 2 * x * s.erfcx(x) - 2 / math.sqrt(math.pi)),
}
NAMES = sorted(ROWS)
SHAPES = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


def _draw(name, shape, seed):
    low, high = ROWS[name][0]
    return np.random.default_rng(seed).uniform(low, high, size=shape)


# --- values and dtypes against PyTorch ---------------------------------------------------------------------------

@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(shape=SHAPES, seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", NAMES)
def test_values_match_pytorch_in_float64_and_float32(torch, name, shape, seed):
    x = _draw(name, shape, seed)
    tolerance = ROWS[name][1]
    mine = getattr(gg.special, name)(gg.tensor(x, dtype=gg.float64))
    theirs = getattr(torch.special, name)(torch.tensor(x, dtype=torch.float64))
    assert mine.dtype == gg.float64 and mine.shape == tuple(theirs.shape)
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=tolerance, atol=tolerance)
    narrow = x.astype(np.float32)
    mine = getattr(gg.special, name)(gg.tensor(narrow))
    theirs = getattr(torch.special, name)(torch.tensor(narrow))
    assert mine.dtype == gg.float32
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=max(tolerance, 5e-6), atol=max(tolerance, 5e-6))
    leaf = gg.tensor(narrow, requires_grad=True)
    getattr(gg.special, name)(leaf).sum().backward()
    assert leaf.grad.dtype == gg.float32


@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES + ["modified_bessel_i0", "modified_bessel_i1"])
def test_integers_give_the_default_float_dtype(torch, name):
    whole = np.array([1, 2, 3])
    mine = getattr(gg.special, name)(gg.tensor(whole))
    theirs = getattr(torch.special, name)(torch.tensor(whole))
    assert mine.dtype == gg.get_default_dtype() == gg.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=5e-6, atol=5e-6)


OUTSIDE = [-2.5, -0.0, 0.0, math.inf, -math.inf, math.nan]


@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
def test_outside_the_domain_and_at_the_edges_the_values_are_pytorchs(torch, name):
    """NaN below 0 for Y and K, ±inf at 0, NaN or 0 at ±inf, as PyTorch's (and SciPy's)."""
    mine = getattr(gg.special, name)(gg.tensor(OUTSIDE, dtype=gg.float64)).numpy()
    theirs = getattr(torch.special, name)(torch.tensor(OUTSIDE, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(mine, theirs, rtol=ROWS[name][1])  # NaNs in the same places, infinities equal
    numbers = ~np.isnan(theirs)
    assert np.array_equal(np.signbit(mine[numbers]), np.signbit(theirs[numbers]))  # −0 and −inf where PyTorch has


# --- the identities that check J, Y and Ai tightly (PyTorch's are rougher) --------------------------------------

@settings(max_examples=20, deadline=None)
@given(x=st.floats(0.1, 30.0))
def test_wronskians_and_spherical_j0_are_exact(x):
    t = gg.tensor([x], dtype=gg.float64)
    s = gg.special
    wronskian = s.bessel_j1(t) * s.bessel_y0(t) - s.bessel_j0(t) * s.bessel_y1(t)
    np.testing.assert_allclose(wronskian.numpy(), [2 / (math.pi * x)], rtol=1e-12)
    modified = s.modified_bessel_i0(t) * s.modified_bessel_k1(t) + s.modified_bessel_i1(t) * s.modified_bessel_k0(t)
    np.testing.assert_allclose(modified.numpy(), [1 / x], rtol=1e-12)
    scaled = s.i0e(t) * s.scaled_modified_bessel_k1(t) + s.i1e(t) * s.scaled_modified_bessel_k0(t)  # e^(−x)·e^x = 1
    np.testing.assert_allclose(scaled.numpy(), [1 / x], rtol=1e-12)
    np.testing.assert_allclose(s.spherical_bessel_j0(t).numpy(), [math.sin(x) / x], rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_airy_ai_far_to_the_right_is_0_with_slope_0(torch, dtype):
    """Ai(x) ≈ e^(−⅔·x^(3/2))/(2√π·x^(1/4)) underflows past x ≈ 104, and so does Ai'(x): both are 0 there, as
    PyTorch's Ai (SciPy gives NaN past x ≈ 1e9, and glassgrad did)."""
    points = [200.0, 1e5, 3e9, 1e10, 1e30]
    x = gg.tensor(points, dtype=getattr(gg, dtype), requires_grad=True)
    value = gg.special.airy_ai(x)
    value.sum().backward()
    expected = torch.special.airy_ai(torch.tensor(points, dtype=getattr(torch, dtype)))
    assert value.tolist() == expected.tolist() == [0.0] * 5 and x.grad.tolist() == [0.0] * 5


def test_published_values():
    x = gg.tensor([0.0, 1.0], dtype=gg.float64, requires_grad=True)
    ai = gg.special.airy_ai(x)
    ai.sum().backward()
    # Ai(0) = 1/(3^(2/3)·Γ(2/3)), Ai'(0) = −1/(3^(1/3)·Γ(1/3)); Ai(1) and Ai'(1) from Abramowitz & Stegun table 10.11
    np.testing.assert_allclose(ai.detach().numpy(), [1 / (3 ** (2 / 3) * math.gamma(2 / 3)), 0.1352924163128814],
                               rtol=1e-14)
    np.testing.assert_allclose(x.grad.numpy(), [-1 / (3 ** (1 / 3) * math.gamma(1 / 3)), -0.1591474412967932],
                               rtol=1e-14)
    # J₀ and Y₀ at their first zeros, 2.404825557695773 and 0.8935769662791675
    zeros = gg.special.bessel_j0(gg.tensor([2.404825557695773], dtype=gg.float64)).item(), gg.special.bessel_y0(
        gg.tensor([0.8935769662791675], dtype=gg.float64)).item()
    np.testing.assert_allclose(zeros, [0.0, 0.0], atol=1e-15)


# --- derivatives: finite differences, and the formulas with PyTorch's functions ----------------------------------

@settings(max_examples=6, deadline=None)
@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 3)), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", NAMES)
def test_first_and_second_derivatives_against_finite_differences(name, shape, seed):
    x = gg.tensor(_draw(name, shape, seed), dtype=gg.float64, requires_grad=True)
    function = getattr(gg.special, name)
    assert gg.gradcheck(function, [x], atol=1e-6, rtol=1e-5).ok
    assert gg.autograd.gradgradcheck(function, [x], atol=1e-6, rtol=1e-5)


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(shape=SHAPES, seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", [name for name in NAMES if ROWS[name][2] is not None])
def test_gradients_are_the_derivative_formulas_with_pytorchs_functions(torch, name, shape, seed):
    x = _draw(name, shape, seed)
    up = np.random.default_rng(seed + 1).normal(size=shape)
    t = gg.tensor(x, dtype=gg.float64, requires_grad=True)
    (getattr(gg.special, name)(t) * gg.tensor(up)).sum().backward()
    slope = ROWS[name][2](torch.special, torch.tensor(x, dtype=torch.float64)).numpy()
    tolerance = ROWS[name][1]
    np.testing.assert_allclose(t.grad.numpy(), up * slope, rtol=tolerance, atol=tolerance)


def test_pytorch_gives_these_no_gradient_glassgrad_gives_the_true_one():
    """The outputs require grad (PyTorch's silently do not), and the rows record their backward."""
    for name in NAMES:
        assert getattr(gg.special, name)(gg.tensor([0.5], requires_grad=True)).requires_grad, name
    for row in ("erfcx", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0",
                "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
                "spherical_bessel_j1", "airy_ai", "airy_ai_prime", "zeta"):
        assert gg.RULES[row].vjp_tensors is not None, row


def test_derivatives_at_zero_are_the_limits_and_below_zero_nan_where_the_value_is():
    limits = {"bessel_j0": 0.0, "bessel_j1": 0.5, "bessel_y0": math.inf, "bessel_y1": math.inf,
              "modified_bessel_i0": 0.0, "modified_bessel_i1": 0.5, "modified_bessel_k0": -math.inf,
              "modified_bessel_k1": -math.inf, "scaled_modified_bessel_k0": -math.inf,
              "scaled_modified_bessel_k1": -math.inf, "spherical_bessel_j0": 0.0,
              "airy_ai": -1 / (3 ** (1 / 3) * math.gamma(1 / 3)), "erfcx": -2 / math.sqrt(math.pi)}
    assert set(limits) == set(NAMES) | {"modified_bessel_i0", "modified_bessel_i1"}
    for name, limit in limits.items():
        x = gg.tensor([0.0, -0.0, -1.5], dtype=gg.float64, requires_grad=True)
        with np.errstate(all="ignore"):
            out = getattr(gg.special, name)(x)
            out.sum().backward()
        np.testing.assert_allclose(x.grad.numpy()[:2], [limit, limit], rtol=1e-15, err_msg=name)
        assert np.isnan(x.grad.numpy()[2]) == np.isnan(out.detach().numpy()[2]), name  # Y and K: NaN below 0


@settings(max_examples=10, deadline=None)
@given(x=st.lists(st.floats(-15.0, 8.0), min_size=1, max_size=5))
def test_airys_equation_gives_every_higher_derivative(x):
    """From ``Ai'' = x·Ai``: the third derivative is ``Ai + x·Ai'`` (through the Ai' row's own recorded rule)."""
    t = gg.tensor(x, dtype=gg.float64, requires_grad=True)
    ai = gg.special.airy_ai(t)
    (first,) = gg.autograd.grad(ai.sum(), t, create_graph=True)
    (second,) = gg.autograd.grad(first.sum(), t, create_graph=True)
    (third,) = gg.autograd.grad(second.sum(), t)
    a, value, slope = np.array(x), ai.detach().numpy(), first.detach().numpy()
    np.testing.assert_allclose(second.detach().numpy(), a * value, rtol=1e-14)
    np.testing.assert_allclose(third.numpy(), value + a * slope, rtol=1e-12, atol=1e-13)


def test_spherical_j0_and_j1_derivatives_keep_their_digits_near_zero():
    """``(x·cos x − sin x)/x²`` computed as written loses its digits near 0; the j₁ row keeps them: −x/3 + x³/30."""
    x = gg.tensor([1e-8, 1e-4, 1e-2], dtype=gg.float64, requires_grad=True)
    (first,) = gg.autograd.grad(gg.special.spherical_bessel_j0(x).sum(), x, create_graph=True)
    (second,) = gg.autograd.grad(first.sum(), x)
    a = x.detach().numpy()
    np.testing.assert_allclose(first.numpy(), -a / 3 + a ** 3 / 30 - a ** 5 / 840, rtol=1e-13)
    np.testing.assert_allclose(second.numpy(), -1 / 3 + a ** 2 / 10 - a ** 4 / 168, rtol=1e-13)


# --- erfcx against PyTorch, which has its gradient ---------------------------------------------------------------

def _erfcx_and_derivatives(lib, x, dtype):
    t = lib.tensor(x, dtype=dtype, requires_grad=True)
    y = lib.special.erfcx(t)
    (first,) = lib.autograd.grad(y.sum(), t, create_graph=True)
    (second,) = lib.autograd.grad(first.sum(), t)
    return [v.detach().numpy() for v in (y, first, second)]


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(shape=SHAPES, seed=st.integers(0, 2**16))
def test_erfcx_values_first_and_second_derivatives_match_pytorch_in_float64(torch, shape, seed):
    x = _draw("erfcx", shape, seed)
    for mine, theirs in zip(_erfcx_and_derivatives(gg, x, gg.float64),
                            _erfcx_and_derivatives(torch, x, torch.float64)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.torch
def test_erfcx_far_out_where_the_product_overflows_matches_pytorch(torch):
    """At 30, ``e^(x²)`` overflows and ``erfc(x)`` underflows (their product would be NaN): erfcx(30) ≈ 0.0188."""
    for dtype, far, tolerance in (
            (np.float64, [-30.0, -26.0, 30.0, 100.0, -2.0], 1e-12),
            (np.float32, [-30.0, -9.0, 30.0, -2.0], 2e-6)):  # float32: past 30, 2x·erfcx(x) − 2/√π is all rounding
        found = [_erfcx_and_derivatives(lib, np.array(far, dtype=dtype), getattr(lib, np.dtype(dtype).name))
                 for lib in (gg, torch)]
        for mine, theirs in zip(*found):
            assert mine.dtype == dtype
            np.testing.assert_allclose(mine, theirs, rtol=tolerance, atol=tolerance)
    t = gg.tensor([30.0], dtype=gg.float64)
    with np.errstate(all="ignore"):
        assert math.isnan(((t * t).exp() * t.erfc()).item())  # inf·0
    asymptotic = (1 - 1 / (2 * 30 ** 2) + 3 / (4 * 30 ** 4) - 15 / (8 * 30 ** 6)) / (30 * math.sqrt(math.pi))
    assert gg.special.erfcx(t).item() == pytest.approx(asymptotic, rel=1e-10)


# --- zeta and gammainc: two operands, the first a setting ---------------------------------------------------------

PAIRS = st.sampled_from([((), ()), ((3,), (3,)), ((2, 1), (3,)), ((4,), ()), ((), (2, 3)), ((1, 3), (2, 1))])


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(shapes=PAIRS, seed=st.integers(0, 2**16))
def test_zeta_values_match_pytorch_and_its_q_gradient_finite_differences(torch, shapes, seed):
    rng = np.random.default_rng(seed)
    x, q = rng.uniform(1.2, 6.0, size=shapes[0]), rng.uniform(0.2, 5.0, size=shapes[1])
    expected = torch.special.zeta(torch.tensor(x), torch.tensor(q)).numpy()
    found = gg.special.zeta(gg.tensor(x, dtype=gg.float64), gg.tensor(q, dtype=gg.float64))
    assert found.shape == expected.shape
    np.testing.assert_allclose(found.numpy(), expected, rtol=1e-12)
    exponent = gg.tensor(x, dtype=gg.float64)
    offset = gg.tensor(q, dtype=gg.float64, requires_grad=True)
    assert gg.gradcheck(lambda t: gg.special.zeta(exponent, t), [offset], atol=1e-6, rtol=1e-5).ok
    assert gg.autograd.gradgradcheck(lambda t: gg.special.zeta(exponent, t), [offset], atol=1e-6, rtol=1e-5)


def test_zeta_gradient_in_q_is_minus_x_zeta_x_plus_one():
    q = gg.tensor([1.0, 2.5], dtype=gg.float64, requires_grad=True)
    x = gg.tensor([[2.0], [3.0]], dtype=gg.float64)  # broadcast: q's gradient sums over the rows
    gg.special.zeta(x, q).sum().backward()
    expected = -2 * gg.special.zeta(3.0, q.detach()) - 3 * gg.special.zeta(4.0, q.detach())
    np.testing.assert_allclose(q.grad.numpy(), expected.numpy(), rtol=1e-14)
    riemann = gg.special.zeta(gg.tensor([2.0, 4.0], dtype=gg.float64), 1.0)
    np.testing.assert_allclose(riemann.numpy(), [math.pi ** 2 / 6, math.pi ** 4 / 90], rtol=1e-14)
    q = gg.tensor([0.7], dtype=gg.float64)
    step = gg.special.zeta(3.5, q) - gg.special.zeta(3.5, q + 1)
    np.testing.assert_allclose(step.numpy(), [0.7 ** -3.5], rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("function", ["zeta", "gammainc", "gammaincc"])
def test_dtypes_with_numbers_and_mixed_tensors_are_pytorchs(torch, function):
    def both(lib, first, second):
        made = [lib.tensor(v, dtype=getattr(lib, d)) if isinstance(v, list) else v for v, d in (first, second)]
        return getattr(lib.special, function)(*made)

    cases = [(([2.0, 3.0], "float32"), ([0.5, 1.5], "float64")), (([2.0, 3.0], "float64"), ([0.5, 1.5], "float32")),
             (([2, 3], "int64"), ([0.5, 1.5], "float64")), (([2.0, 3.0], "float64"), ([1, 2], "int64"))]
    if function == "zeta":  # PyTorch's gammainc takes tensors only, not both of integers
        cases += [(([2, 3], "int64"), ([1, 2], "int64")), (([2.0, 3.0], "float64"), (1.5, None)),
                  ((2, None), ([0.5, 1.5], "float32")),
                  ((2.5, None), ([1, 2], "int64")), (([2.0, 3.0], "float32"), (1, None))]
    for first, second in cases:
        mine, theirs = both(gg, first, second), both(torch, first, second)
        assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], (first, second)
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(shapes=PAIRS, seed=st.integers(0, 2**16))
def test_gammainc_and_gammaincc_are_igamma_and_igammac_and_pytorchs(torch, shapes, seed):
    rng = np.random.default_rng(seed)
    a, x = rng.uniform(0.5, 5.0, size=shapes[0]), rng.uniform(0.1, 8.0, size=shapes[1])
    assert gg.special.gammainc is gg.igamma and gg.special.gammaincc is gg.igammac
    for name in ("gammainc", "gammaincc"):
        found = []
        for lib in (gg, torch):
            other = lib.tensor(x, dtype=lib.float64, requires_grad=True)
            out = getattr(lib.special, name)(lib.tensor(a, dtype=lib.float64), other)
            out.sum().backward()
            found.append((out.detach().numpy(), other.grad.numpy()))
        for mine, theirs in zip(*found):
            np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("call, message", [
    (lambda: gg.special.zeta(gg.tensor([2.0], requires_grad=True), gg.tensor([1.0])),
     "zeta: glassgrad has no gradient with respect to input (the exponent x"),
    (lambda: gg.special.gammainc(gg.tensor([2.0], requires_grad=True), gg.tensor([1.0])),
     "igamma: glassgrad has no gradient with respect to input (the shape s"),
    (lambda: gg.special.zeta(gg.ones(2) * 2, gg.ones(3)), "zeta: shapes (2,) and (3,) cannot be broadcast together"),
])
def test_bad_calls_are_one_line_errors(call, message):
    with pytest.raises((NotImplementedError, RuntimeError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


def test_an_exponent_that_requires_grad_is_fine_detached_or_without_grad():
    x = gg.tensor([2.0], dtype=gg.float64, requires_grad=True)
    q = gg.tensor([1.0], dtype=gg.float64, requires_grad=True)
    assert gg.special.zeta(x.detach(), q).item() == pytest.approx(math.pi ** 2 / 6, rel=1e-14)
    with gg.no_grad():
        assert gg.special.zeta(x, q).item() == pytest.approx(math.pi ** 2 / 6, rel=1e-14)


# --- torch.special.X resolves under the shim -----------------------------------------------------------------------

def test_pytorch_code_calls_them_through_torch_names():
    names = NAMES + ["modified_bessel_i0", "modified_bessel_i1"]
    program = ("from glassgrad import torch_names; torch_names.install()\n"
               "import torch\n"
               "x = torch.tensor([0.5, 1.5], dtype=torch.float64)\n"
               f"for name in {names!r}:\n"
               "    print(name, *getattr(torch.special, name)(x).tolist())\n"
               "print('zeta', *torch.special.zeta(2.0, x).tolist())\n"
               "print('gammainc', *torch.special.gammainc(x, x).tolist())\n"
               "print('gammaincc', *torch.special.gammaincc(x, x).tolist())\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-400:]
    x = gg.tensor([0.5, 1.5], dtype=gg.float64)
    expected = {name: getattr(gg.special, name)(x).tolist() for name in names}
    expected |= {"zeta": gg.special.zeta(2.0, x).tolist(), "gammainc": gg.special.gammainc(x, x).tolist(),
                 "gammaincc": gg.special.gammaincc(x, x).tolist()}
    printed = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in done.stdout.splitlines()}
    assert printed == expected
