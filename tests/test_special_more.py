"""The special functions NumPy lacks (rows of glassgrad.ops_special) and torch.special's names made of them.

Oracles: PyTorch 2.13 (values, gradients and second derivatives in float64; float32 kept float32), finite
differences (``gg.gradcheck``, ``gg.autograd.gradgradcheck``) on hypothesis-drawn shapes, and hand-derived
values (``lnΓ(5) = ln 24``, ``ψ(1) = −γ``).
"""

from __future__ import annotations

import math
import subprocess
import sys

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

ROWS = {  # name: (glassgrad function, the torch function's path, a map from a normal draw into its domain)
    "lgamma": (gg.lgamma, "lgamma", lambda x: x),
    "digamma": (gg.digamma, "digamma", lambda x: x),
    "polygamma1": (lambda t: gg.polygamma(1, t), "polygamma1", lambda x: x),
    "polygamma3": (lambda t: t.polygamma(3), "polygamma3", lambda x: np.abs(x) + 0.3),
    "erfinv": (gg.erfinv, "erfinv", np.tanh),
    "i0": (gg.i0, "i0", lambda x: 3 * x),
    "i1": (gg.special.i1, "special.i1", lambda x: 3 * x),
    "i0e": (gg.special.i0e, "special.i0e", lambda x: 3 * x),
    "i1e": (gg.special.i1e, "special.i1e", lambda x: 3 * x),
    "log_ndtr": (gg.special.log_ndtr, "special.log_ndtr", lambda x: 4 * x),
    "gammaln": (gg.special.gammaln, "special.gammaln", lambda x: x),
    "psi": (gg.special.psi, "special.psi", lambda x: x),
    "multigammaln": (lambda t: gg.special.multigammaln(t, 3), "multigammaln3", lambda x: np.abs(x) + 1.1),
    "ndtr": (gg.special.ndtr, "special.ndtr", lambda x: 2 * x),
    "ndtri": (gg.special.ndtri, "special.ndtri", lambda x: 0.5 + 0.45 * np.tanh(x)),
    "entr": (gg.special.entr, "special.entr", lambda x: np.abs(x) + 0.05),
}


def _torch_function(torch, path):
    if path.startswith("polygamma"):
        return lambda t: torch.polygamma(int(path[-1]), t)
    if path == "multigammaln3":
        return lambda t: torch.special.multigammaln(t, 3)
    found = torch
    for part in path.split("."):
        found = getattr(found, part)
    return found


def _draw(name, shape, seed):
    return ROWS[name][2](np.random.default_rng(seed).normal(size=shape))


@pytest.mark.torch
@settings(max_examples=8, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(ROWS))
def test_values_first_and_second_derivatives_match_pytorch_in_float64(torch, name, shape, seed):
    x = _draw(name, shape, seed)
    rng = np.random.default_rng(seed + 1)
    up, inner = rng.normal(size=shape), rng.normal(size=shape)
    found = []
    for module, function in ((gg, ROWS[name][0]), (torch, _torch_function(torch, ROWS[name][1]))):
        t = module.tensor(x, dtype=module.float64, requires_grad=True)
        y = function(t)
        (first,) = module.autograd.grad((y * module.tensor(up)).sum(), t, create_graph=True)
        (second,) = module.autograd.grad((first * module.tensor(inner)).sum(), t)
        found.append([v.detach().numpy() for v in (y, first, second)])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(ROWS))
def test_float32_stays_float32_and_integers_give_the_default_float(torch, name):
    x = _draw(name, (5,), 3)
    mine = ROWS[name][0](gg.tensor(x, dtype=gg.float32))
    theirs = _torch_function(torch, ROWS[name][1])(torch.tensor(x, dtype=torch.float32))
    assert mine.dtype == gg.float32
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=2e-5, atol=1e-6)
    whole = np.array([1, 2, 3]) if name not in ("erfinv", "ndtri") else np.array([0, 0, 0])
    assert ROWS[name][0](gg.tensor(whole)).dtype == gg.get_default_dtype()


@pytest.mark.parametrize("name", ["lgamma", "digamma", "polygamma3", "erfinv", "i0", "i1", "i0e", "i1e",
                                  "log_ndtr", "ndtri"])
@settings(max_examples=5, deadline=None)
@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 3)), seed=st.integers(0, 2**16))
def test_rows_first_and_second_derivatives_against_finite_differences(name, shape, seed):
    x = gg.tensor(_draw(name, shape, seed), dtype=gg.float64, requires_grad=True)
    function = ROWS[name][0]
    assert gg.gradcheck(function, [x], atol=1e-6, rtol=1e-4).ok
    assert gg.autograd.gradgradcheck(function, [x], atol=1e-6, rtol=1e-4)


def test_hand_derived_values():
    np.testing.assert_allclose(gg.lgamma(gg.tensor([5.0, 0.5], dtype=gg.float64)).numpy(),
                               [math.log(24), 0.5 * math.log(math.pi)], rtol=1e-14)
    euler_gamma = 0.5772156649015329
    np.testing.assert_allclose(gg.digamma(gg.tensor([1.0], dtype=gg.float64)).numpy(), [-euler_gamma], rtol=1e-14)
    np.testing.assert_allclose(gg.polygamma(1, gg.tensor([1.0], dtype=gg.float64)).numpy(), [math.pi ** 2 / 6],
                               rtol=1e-14)
    y = gg.erfinv(gg.tensor([-0.7, 0.2, 0.9], dtype=gg.float64))
    np.testing.assert_allclose(y.erf().numpy(), [-0.7, 0.2, 0.9], rtol=1e-14)
    # i1'(0) = ½ and i1e'(0) = ½: the limits of I₁(a)/a at 0
    for function in (gg.special.i1, gg.special.i1e):
        zero = gg.tensor([0.0], dtype=gg.float64, requires_grad=True)
        function(zero).sum().backward()
        assert zero.grad.tolist() == [0.5]


@pytest.mark.parametrize("dtype, rtol", [("float64", 2e-13), ("float32", 1e-6)])
def test_ndtr_keeps_the_left_tail(dtype, rtol):
    """Φ(−10) = 7.6e-24: as (1 + erf(x/√2))/2 it was 0 below x ≈ −8.3 (erf rounds to −1; PyTorch 2.13's is 0 too),
    and lost digits from x ≈ −3 on; as erfc(−x/√2)/2 it keeps them (oracle: mpmath's ncdf at 50 digits)."""
    mpmath.mp.dps = 50
    points = np.array([-37.0, -10.0, -5.0, -1.0, 0.0, 2.0, 8.0], dtype=dtype)
    expected = [float(mpmath.ncdf(mpmath.mpf(float(x)))) for x in points]
    np.testing.assert_allclose(gg.special.ndtr(gg.tensor(points)).numpy(), expected, rtol=rtol,
                               atol=np.finfo(dtype).tiny)  # float32 holds no Φ(−37)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_ndtri_of_a_tiny_probability_is_finite_as_pytorchs(torch, dtype):
    """Φ⁻¹(1e-30) = −11.46: written as √2·erfinv(2p − 1) it was −∞ below p ≈ 1e-16 (2p − 1 rounds to −1), and −∞
    for a negative p (PyTorch: NaN); its derivative √(2π)·e^(Φ⁻¹(p)²/2) was ∞ there."""
    p = np.array([1e-30, 1e-300, 5e-324, 1e-10, 1 - 1e-10, 0.0, 1.0, -1e-30, 0.3]).astype(dtype)
    t = gg.tensor(p, requires_grad=True)
    reference = torch.tensor(p, dtype=torch.float64, requires_grad=True)  # float64 on the same numbers: the truth
    y, expected = gg.special.ndtri(t), torch.special.ndtri(reference)
    (gradient,), (expected_gradient,) = gg.autograd.grad(y.sum(), t), torch.autograd.grad(expected.sum(), reference)
    tolerance = 1e-15 if dtype == "float64" else 2e-5  # float32: e^(y²/2) turns y's rounding into 8e-6 at y = −11
    np.testing.assert_allclose(y.detach().numpy(), expected.detach().numpy(), rtol=tolerance)
    np.testing.assert_allclose(gradient.numpy(), expected_gradient.numpy(), rtol=tolerance)
    assert y.dtype == getattr(gg, dtype)


@pytest.mark.torch
def test_far_out_values_stay_finite_as_pytorchs(torch):
    x = np.array([-40.0, 800.0, -800.0])
    for mine, theirs in ((gg.special.log_ndtr, torch.special.log_ndtr), (gg.special.i0e, torch.special.i0e),
                         (gg.special.i1e, torch.special.i1e)):
        t = gg.tensor(x, dtype=gg.float64, requires_grad=True)
        y = mine(t)
        y.sum().backward()
        reference = torch.tensor(x, requires_grad=True)
        theirs(reference).sum().backward()
        np.testing.assert_allclose(y.numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-12)
        np.testing.assert_allclose(t.grad.numpy(), reference.grad.numpy(), rtol=1e-9)


@pytest.mark.torch
def test_xlog1py_matches_pytorch_with_its_zero_rule(torch):
    x, y = np.array([0.0, 2.0, -1.5, 0.0]), np.array([-1.0, 0.5, 3.0, np.nan])
    found = []
    for module, function in ((gg, gg.special.xlog1py), (torch, torch.special.xlog1py)):
        a = module.tensor(x, dtype=module.float64, requires_grad=True)
        b = module.tensor([0.3, 0.5, 3.0, 1.0], dtype=module.float64, requires_grad=True)  # ∂/∂x at x = 0 too
        function(a, b).sum().backward()
        found.append((function(module.tensor(x), module.tensor(y)).numpy(), a.grad.numpy(), b.grad.numpy()))
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: gg.polygamma(-1, gg.ones(2)), "polygamma: n must be 0 or more"),
    (lambda: gg.ones(2).polygamma(1.5), "polygamma: n must be a whole number"),
    (lambda: gg.special.multigammaln(gg.ones(2) * 3, 0), "multigammaln: p must be a whole number ≥ 1"),
])
def test_bad_calls_are_one_line_errors(call, message):
    with pytest.raises((RuntimeError, TypeError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


def test_rows_are_in_the_table_with_a_recorded_backward():
    for name in ("lgamma", "digamma", "polygamma", "erfinv", "i0", "i1", "i0e", "i1e", "log_ndtr"):
        assert gg.RULES[name].vjp_tensors is not None
    assert "ψ⁽ⁿ⁺¹⁾" in gg.RULES["polygamma"].derivative_text(0)


def test_import_glassgrad_does_not_load_scipy(tmp_path):
    program = "import sys, glassgrad\nprint(any(m == 'scipy' or m.startswith('scipy.') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-400:]
    assert result.stdout.strip() == "False"


@pytest.mark.torch
def test_gg_special_has_torch_specials_names(torch):
    names = ["gammaln", "digamma", "psi", "multigammaln", "polygamma", "erf", "erfc", "erfinv", "expit", "logit",
             "i0", "i0e", "i1", "i1e", "ndtr", "ndtri", "log_ndtr", "xlogy", "xlog1py", "entr", "log1p", "expm1",
             "exp2", "sinc", "round", "softmax", "log_softmax", "logsumexp"]
    for name in names:
        assert hasattr(torch.special, name) and callable(getattr(gg.special, name)), name
    x = np.array([[0.2, -0.7, 2.5]])
    for name in ("softmax", "log_softmax"):
        np.testing.assert_allclose(getattr(gg.special, name)(gg.tensor(x, dtype=gg.float64), dim=1).numpy(),
                                   getattr(torch.special, name)(torch.tensor(x), dim=1).numpy(), rtol=1e-12)
    for name in ("log1p", "expm1", "round"):
        np.testing.assert_allclose(getattr(gg.special, name)(gg.tensor(x, dtype=gg.float64)).numpy(),
                                   getattr(torch.special, name)(torch.tensor(x)).numpy(), rtol=1e-12)
