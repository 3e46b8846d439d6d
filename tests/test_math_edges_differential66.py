"""Round 66: elementwise math and ``torch.special`` at edge values (±0, ±inf, NaN, subnormals, poles), and the
gradients there, differential against PyTorch 2.13.

Defects fixed this round (each test below fails on c880be5):

* ``a.div(b, rounding_mode="trunc")`` sent NaN gradients to a and b where b is 0 or a is ±inf (the chain rule
  through ``a / b`` gave ``0·∞``); PyTorch's gradient of a rounded quotient is 0 everywhere.
* ``frexp`` of a float32 subnormal gave the mantissa inf (its ``2^(−e)`` overflowed).
* ``erfinv(−0.0)`` was +0 (SciPy's), PyTorch's −0 (the function is odd).
* ``logit(p, eps)`` with ``eps > ½`` (bounds crossed) clamped as ``np.clip`` (to 1 − ε) where PyTorch's kernel takes
  ε first: the value's sign flipped.
* ``mvlgamma`` refused a NaN entry (``all(x > (p−1)/2)`` is False for NaN); PyTorch gives NaN, and glassgrad's
  deliberate refusal is of entries at or below (p−1)/2.

PyTorch's own inaccuracies and glassgrad's documented deviations are not asserted against PyTorch; the property
tests leave those points out (they are listed in ``_PYTORCH_QUIRKS``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -2.5, 1e-300, -1e-300, 1e-8, 10.0, -10.0, 30.0,
         -30.0, 700.0, -800.0, math.inf, -math.inf, math.nan]


def _same(expected: np.ndarray, got: np.ndarray, rtol: float) -> bool:
    """Equal within rtol (NaN equals NaN, a zero's sign must match, an inf must match exactly)."""
    expected, got = np.asarray(expected, dtype=np.float64), np.asarray(got, dtype=np.float64)
    if expected.shape != got.shape:
        return False
    with np.errstate(all="ignore"):
        both_nan = np.isnan(expected) & np.isnan(got)
        zero = (expected == 0) & (got == 0)
        signs = np.signbit(expected) == np.signbit(got)
        finite = np.isfinite(expected) & np.isfinite(got)
        close = finite & (np.abs(expected - got) <= rtol * np.maximum(np.abs(expected), np.abs(got)) + 1e-300)
        return bool((both_nan | (zero & signs) | (~zero & ((expected == got) | close))).all())


def _values_and_grads(module, name, values, dtype_name):
    x = module.tensor(values, dtype=getattr(module, dtype_name), requires_grad=True)
    function = module
    for part in name.split("."):
        function = getattr(function, part)
    y = function(x)
    (grad,) = module.autograd.grad(y.sum(), [x])
    return y.detach().numpy(), grad.detach().numpy()


# --- defects --------------------------------------------------------------------------------------------------

def test_div_trunc_gradient_is_zero_where_the_divisor_is_zero_or_the_dividend_infinite(torch):
    a_values, b_values = [1.0, -1.0, 0.0, math.inf, 3.0], [0.0, -0.0, 0.0, 2.0, math.nan]
    ta = torch.tensor(a_values, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b_values, dtype=torch.float64, requires_grad=True)
    ga = gg.tensor(a_values, dtype=gg.float64, requires_grad=True)
    gb = gg.tensor(b_values, dtype=gg.float64, requires_grad=True)
    t_out, g_out = ta.div(tb, rounding_mode="trunc"), ga.div(gb, rounding_mode="trunc")
    assert _same(t_out.detach().numpy(), g_out.detach().numpy(), 0)
    t_grads = torch.autograd.grad(t_out.sum(), [ta, tb])
    g_grads = gg.autograd.grad(g_out.sum(), [ga, gb])
    for expected, got in zip(t_grads, g_grads):
        np.testing.assert_array_equal(got.numpy(), expected.numpy())  # zeros, no NaN


def test_div_trunc_keeps_values_signed_zeros_broadcasting_and_a_zero_second_derivative(torch):
    a_values, b_values = [[-1.0, 1.0, -7.0]], [[2.0], [-3.0]]
    ta = torch.tensor(a_values, requires_grad=True)
    tb = torch.tensor(b_values, requires_grad=True)
    ga, gb = gg.tensor(a_values, requires_grad=True), gg.tensor(b_values, requires_grad=True)
    t_out, g_out = torch.div(ta, tb, rounding_mode="trunc"), gg.div(ga, gb, rounding_mode="trunc")
    assert _same(t_out.detach().numpy(), g_out.detach().numpy(), 0)  # −0.0 where −1/2 truncates, as PyTorch
    (g_first,) = gg.autograd.grad((g_out * g_out).sum(), [ga], create_graph=True)
    np.testing.assert_array_equal(g_first.detach().numpy(), np.zeros((1, 3), np.float32))
    plain = gg.tensor([7.0, -7.0]).div(2, rounding_mode="trunc")  # no grad: the plain quotient
    assert plain.grad_fn is None and plain.tolist() == [3.0, -3.0]


def test_frexp_of_a_float32_subnormal_has_a_finite_mantissa(torch):
    values = np.array([1e-40, -1e-45, 1.0, -3.5, 0.0, -0.0, 3e38, math.inf, math.nan], dtype=np.float32)
    expected, got = torch.frexp(torch.tensor(values)), gg.frexp(gg.tensor(values))
    np.testing.assert_array_equal(got.mantissa.numpy(), expected.mantissa.numpy())
    np.testing.assert_array_equal(got.exponent.numpy(), expected.exponent.numpy())
    assert got.exponent.dtype == gg.int32


def test_erfinv_keeps_the_sign_of_zero(torch):
    for name in ("erfinv", "special.erfinv"):
        for dtype_name in ("float64", "float32"):
            t_values, t_grad = _values_and_grads(torch, name, [-0.0, 0.0, -1.0, 1.0, -0.5], dtype_name)
            g_values, g_grad = _values_and_grads(gg, name, [-0.0, 0.0, -1.0, 1.0, -0.5], dtype_name)
            assert _same(t_values, g_values, 1e-6) and np.signbit(g_values[0]) and not np.signbit(g_values[1])
            assert _same(t_grad, g_grad, 1e-6)


@pytest.mark.parametrize("eps", [0.6, 0.51, 1.0])
def test_logit_with_crossed_bounds_takes_eps_first_as_pytorch(torch, eps):
    values = [0.0, 0.3, 0.5, 0.7, 1.0, math.nan]
    tx = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    gx = gg.tensor(values, dtype=gg.float64, requires_grad=True)
    t_out, g_out = torch.logit(tx, eps=eps), gg.logit(gx, eps=eps)
    assert _same(t_out.detach().numpy(), g_out.detach().numpy(), 1e-12)
    t_out.sum().backward()
    g_out.sum().backward()
    assert _same(tx.grad.numpy(), gx.grad.numpy(), 0)


def test_mvlgamma_gives_nan_for_nan_and_still_refuses_below_its_domain(torch):
    values = [math.nan, 2.0, math.inf]
    expected = torch.mvlgamma(torch.tensor(values, dtype=torch.float64), p=2).numpy()
    got = gg.mvlgamma(gg.tensor(values, dtype=gg.float64), p=2).numpy()
    assert _same(expected, got, 1e-12)
    with pytest.raises(RuntimeError, match="greater than"):  # the deliberate refusal (README: PyTorch 2.13 stopped)
        gg.mvlgamma(gg.tensor([0.2, 2.0]), p=2)


# --- the fuzzer's core: unary functions at edge values, value and gradient ------------------------------------

UNARY = ["sqrt", "rsqrt", "log", "log1p", "log2", "log10", "exp", "exp2", "expm1", "sin", "cos", "tan", "asin",
         "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "sigmoid", "erf", "erfc", "erfinv", "reciprocal",
         "floor", "ceil", "trunc", "frac", "round", "square", "deg2rad", "rad2deg", "logit", "i0", "nan_to_num",
         "special.expit", "special.erfcx", "special.i0e", "special.ndtri", "special.entr", "special.log1p",
         "special.expm1", "special.exp2", "special.modified_bessel_i0", "special.scaled_modified_bessel_k0",
         "special.modified_bessel_k1", "nn.functional.softplus", "nn.functional.gelu", "nn.functional.silu",
         "nn.functional.mish", "nn.functional.elu", "nn.functional.selu", "nn.functional.hardtanh",
         "nn.functional.relu6", "nn.functional.softsign", "nn.functional.tanhshrink", "nn.functional.hardswish",
         "nn.functional.celu", "nn.functional.leaky_relu", "sinc", "lgamma", "digamma", "abs", "sign"]

_PYTORCH_QUIRKS = {
    # PyTorch's numbers are off, glassgrad's are right (checked with mpmath), or a documented deviation:
    ("sinc", "grad"): lambda v: 0 < abs(v) < 0.1,  # PyTorch's (z cos z − sin z)/z² cancels; glassgrad: the series
    ("lgamma", "value"): lambda v: 0 < abs(v) < 1e-307,  # subnormal: SciPy's gammaln overflows to inf (left)
    ("digamma", "grad"): lambda v: True,  # PyTorch's trigamma is good to ~1e-9 only, finite at poles
    ("abs", "grad"): math.isnan,  # sign(NaN) stays NaN: a deliberate deviation, abs'(NaN) follows
    ("sign", "value"): math.isnan,
    ("i0", "value"): lambda v: abs(v) > 88,  # PyTorch's float32 kernel overflows before the result does
    ("i0", "grad"): lambda v: abs(v) > 88,
    ("special.modified_bessel_i0", "value"): lambda v: abs(v) > 88,
    ("special.erfcx", "grad"): lambda v: v > 80,  # float32 rounding of 2x·erfcx(x) − 2/√π
    ("special.i0e", "grad"): lambda v: abs(v) > 100,
    ("nn.functional.softplus", "grad"): lambda v: v < -80,  # float32 subnormals
    ("tanh", "grad"): lambda v: True,
}


def _quirk(name: str, part: str, value: float) -> bool:
    rule = _PYTORCH_QUIRKS.get((name, part))
    return rule is not None and rule(value)


@given(name=st.sampled_from(UNARY), values=st.lists(st.sampled_from(EDGES), min_size=1, max_size=4),
       dtype_name=st.sampled_from(["float64", "float32"]))
def test_unary_edge_values_and_gradients_match_pytorch(torch, name, values, dtype_name):
    rtol = 1e-12 if dtype_name == "float64" else 2e-6
    values = [float(np.dtype(dtype_name).type(v)) for v in values]  # 1e-300 is 0 in float32
    t_values, t_grad = _values_and_grads(torch, name, values, dtype_name)
    g_values, g_grad = _values_and_grads(gg, name, values, dtype_name)
    for i, value in enumerate(values):
        if not _quirk(name, "value", value):
            assert _same(t_values[i], g_values[i], rtol), (name, value, t_values[i], g_values[i])
        if not _quirk(name, "grad", value):
            assert _same(t_grad[i], g_grad[i], rtol * 10), (name, value, t_grad[i], g_grad[i])


BINARY = {
    "pow": lambda m, a, b: m.pow(a, b), "atan2": lambda m, a, b: m.atan2(a, b),
    "hypot": lambda m, a, b: m.hypot(a, b), "fmod": lambda m, a, b: m.fmod(a, b),
    "float_power": lambda m, a, b: m.float_power(a, b), "xlogy": lambda m, a, b: m.xlogy(a, b),
    "maximum": lambda m, a, b: m.maximum(a, b), "fmax": lambda m, a, b: m.fmax(a, b),
    "div_floor": lambda m, a, b: m.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda m, a, b: m.div(a, b, rounding_mode="trunc"),
    "remainder": lambda m, a, b: m.remainder(a, b), "copysign": lambda m, a, b: m.copysign(a, b),
    "logaddexp": lambda m, a, b: m.logaddexp(a, b), "mul": lambda m, a, b: a * b, "div": lambda m, a, b: a / b,
    "polygamma2": lambda m, a, b: m.polygamma(2, a) * b, "lerp_half": lambda m, a, b: m.lerp(a, b, 0.25),
}


def _binary_quirk(name: str, part: str, a: float, b: float) -> bool:
    """Points where PyTorch's number is a quirk or glassgrad documents a deviation (signed zeros: left, noted)."""
    if part in ("value", "grad_a", "grad_b") and name in ("remainder", "copysign", "maximum", "pow", "float_power"):
        return True  # compared below without the sign of a zero
    if name == "xlogy":  # documented: 0 where x is 0 and y ≤ 0 or ∞ (PyTorch: NaN / ∞ / −0)
        return a == 0
    if name == "logaddexp":  # documented: ½ each at a = b = ±∞ (PyTorch: NaN)
        return a == b and math.isinf(a)
    if name == "copysign" and part == "grad_a":  # PyTorch: ∞/∞ = NaN at a = ±∞
        return math.isinf(a)
    if name == "polygamma2":
        return math.isinf(a) or (a <= 0 and a == int(a))  # PyTorch: NaN at ∞ (limit 0), finite at poles
    if name == "lerp_half":  # documented: the limit (1 − w)·a + w·b at an infinite end
        return math.isinf(a) or math.isinf(b)
    return False


@given(name=st.sampled_from(sorted(BINARY)), a=st.sampled_from(EDGES), b=st.sampled_from(EDGES),
       dtype_name=st.sampled_from(["float64", "float32"]))
def test_binary_edge_values_and_gradients_match_pytorch(torch, name, a, b, dtype_name):
    rtol = 1e-12 if dtype_name == "float64" else 2e-6
    a, b = (float(np.dtype(dtype_name).type(v)) for v in (a, b))  # 1e-300 is 0 in float32
    results = []
    for module in (torch, gg):
        dtype = getattr(module, dtype_name)
        x, y = module.tensor([a], dtype=dtype, requires_grad=True), module.tensor([b], dtype=dtype, requires_grad=True)
        out = BINARY[name](module, x, y)
        grads = module.autograd.grad(out.sum(), [x, y], allow_unused=True)
        grads = [np.zeros(1) if g is None else (g.numpy(force=True) if module is torch else g.numpy()) for g in grads]
        results.append((out.detach().numpy(), *grads))
    for part, expected, got in zip(("value", "grad_a", "grad_b"), *results):
        if _binary_quirk(name, part, a, b):
            if name in ("remainder", "copysign", "maximum", "pow", "float_power") and not (
                    name == "copysign" and part == "grad_a" and math.isinf(a)):
                assert _same(np.abs(expected) if np.all(expected == 0) else expected,
                             np.abs(got) if np.all(got == 0) else got, rtol * 10), (name, part, a, b)
            continue
        assert _same(expected, got, rtol * 10), (name, part, a, b, expected, got)


# --- pins: edge points that already matched PyTorch -----------------------------------------------------------

def _grads(module, function, *columns, dtype_name="float64"):
    dtype = getattr(module, dtype_name)
    inputs = [module.tensor(column, dtype=dtype, requires_grad=True) for column in columns]
    out = function(module, *inputs)
    grads = module.autograd.grad(out.sum(), inputs, allow_unused=True)
    return [out.detach().numpy()] + [g.numpy() for g in grads]


@pytest.mark.parametrize("label, function, columns", [
    ("sqrt'(0) = inf", lambda m, a: a.sqrt(), ([0.0, -0.0, -1.0, math.inf],)),
    ("abs'(0) = 0", lambda m, a: a.abs(), ([0.0, -0.0, -1.0, math.inf],)),
    ("pow at base 0, grad in the exponent", lambda m, a, b: a ** b,
     ([0.0, 0.0, 0.0, 0.0, -0.0], [2.0, 1.0, 0.5, -1.0, 0.0])),
    ("0 ** t from a number", lambda m, b: 0.0 ** b, ([2.0, 0.0, -1.0, 0.5],)),
    ("(−2) ** t from a number", lambda m, b: (-2.0) ** b, ([2.0, 0.0, -1.0, 0.5],)),
    ("t ** 0 and t ** 0.5", lambda m, a: a ** 0 + a ** 0.5, ([0.0, 2.0, -1.0],)),
    ("atan2 at signed zeros", lambda m, a, b: m.atan2(a, b),
     ([0.0, -0.0, 0.0, -0.0, 1.0], [0.0, 0.0, -0.0, -0.0, math.inf])),
    ("hypot at 0 and inf", lambda m, a, b: m.hypot(a, b), ([0.0, math.inf, 3.0], [0.0, 1.0, 4.0])),
    ("where through a NaN branch", lambda m, a: m.where(a > 0, a.sqrt(), m.zeros_like(a)), ([-1.0, 0.0, 4.0],)),
    ("clamp at its bounds", lambda m, a: a.clamp(0.0, 1.0), ([0.0, 1.0, 0.5, -1.0, 2.0, math.nan],)),
    ("clamp with min > max", lambda m, a: a.clamp(3.0, 1.0), ([0.0, 2.0, 5.0],)),
    ("logit with eps at its bounds", lambda m, a: m.logit(a, eps=0.1), ([0.0, 0.1, 0.5, 0.9, 1.0, math.nan],)),
    ("xlogy at x = 0, y ≥ 1", lambda m, a, b: m.xlogy(a, b), ([0.0, 0.0, 2.0], [1.0, 2.0, 0.0])),
    ("lerp with a tensor weight", lambda m, a, b, w: m.lerp(a, b, w),
     ([0.0, 1.0, -2.0], [1.0, 5.0, 3.0], [0.0, 1.0, 0.7])),
    ("entr at 0, below, inf", lambda m, a: m.special.entr(a), ([0.0, -1.0, math.inf, 1.0],)),
    ("log_ndtr in both tails", lambda m, a: m.special.log_ndtr(a), ([-40.0, 0.0, 40.0, -math.inf, math.inf],)),
    ("erfcx in both tails", lambda m, a: m.special.erfcx(a), ([-30.0, 0.0, 1e300, math.inf],)),
    ("ndtri at its ends", lambda m, a: m.special.ndtri(a), ([0.0, 1.0, 0.5, 2.0],)),
    ("acos, asin and atanh at ±1", lambda m, a: m.acos(a) + m.asin(a) + m.atanh(a), ([1.0, -1.0, 2.0],)),
    ("nan_to_num's gradient", lambda m, a: m.nan_to_num(a, nan=2.0), ([math.nan, math.inf, 1.0],)),
    ("softmax(dtype=) from float32", lambda m, a: m.softmax(a, 0, dtype=m.float64) * m.arange(3.0, dtype=m.float64),
     ([1.0, 2.0, 3.0],)),
    ("log_softmax with −inf", lambda m, a: m.log_softmax(a, 0) * m.arange(3.0, dtype=m.float64),
     ([-math.inf, 0.0, 1.0],)),
    ("round(decimals=2)", lambda m, a: m.round(a, decimals=2), ([0.125, 2.5, -2.5, 1.005, 12345.678, -0.004],)),
    ("i1e at 0", lambda m, a: m.special.i1e(a) + m.special.i0e(a), ([0.0, -0.0],)),
])
def test_edge_points_pinned_against_pytorch(torch, label, function, columns):
    dtype_name = "float32" if "float32" in label else "float64"
    expected, got = _grads(torch, function, *columns, dtype_name=dtype_name), _grads(gg, function, *columns,
                                                                                    dtype_name=dtype_name)
    for e, g in zip(expected, got):
        assert _same(e, g, 1e-12 if dtype_name == "float64" else 2e-6), (label, e, g)


def test_integer_pow_with_a_negative_exponent_is_refused_as_pytorch(torch):
    with pytest.raises(RuntimeError, match="negative integer powers"):
        torch.tensor([2, 3]) ** -1
    with pytest.raises(RuntimeError, match="negative integer powers"):
        gg.tensor([2, 3]) ** -1
    assert (gg.tensor([0, 2]) ** 0).tolist() == (torch.tensor([0, 2]) ** 0).tolist() == [1, 1]


def test_documented_deviations_stay(torch):
    """sign(NaN) stays NaN (PyTorch: 0); xlogy's ∂/∂y at x = y = 0 is 0 (PyTorch: NaN); logaddexp at a = b = ∞
    gives ½ each (PyTorch: NaN): the deviations glassgrad's docstrings name."""
    assert math.isnan(gg.sign(gg.tensor(math.nan)).item()) and torch.sign(torch.tensor(math.nan)).item() == 0
    x, y = gg.tensor(0.0, requires_grad=True), gg.tensor(0.0, requires_grad=True)
    assert [g.item() for g in gg.autograd.grad(gg.xlogy(x, y), [x, y])][1] == 0.0
    a, b = gg.tensor(math.inf, requires_grad=True), gg.tensor(math.inf, requires_grad=True)
    assert [g.item() for g in gg.autograd.grad(gg.logaddexp(a, b), [a, b])] == [0.5, 0.5]
