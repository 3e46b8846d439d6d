"""Rows of the rule table for the special functions NumPy lacks: ``lgamma``, ``digamma``, ``polygamma``,
``erfinv``, the modified Bessel functions ``i0``, ``i1`` (and their scaled forms ``i0e``, ``i1e``) and
``log_ndtr``; their values come from SciPy (``scipy.special``), loaded on the first call.

Each is a row because nothing composes it (no row gives ``Γ`` or ``I₀``); its local derivative is
another special function, itself a row, so the gradient records (second derivatives):

* ``lgamma(a) = ln|Γ(a)|``, ``∂/∂a = ψ(a)`` (``digamma``);
* ``digamma(a) = ψ(a) = Γ'(a)/Γ(a)``, ``∂/∂a = ψ⁽¹⁾(a)``;
* ``polygamma(n, a) = ψ⁽ⁿ⁾(a)``, the n-th derivative of ψ, ``∂/∂a = ψ⁽ⁿ⁺¹⁾(a)``;
* ``erfinv(a)``, the ``y`` with ``erf(y) = a`` (``−1 < a < 1``), ``∂/∂a = (√π/2)·e^(y²)``;
* ``i0(a) = I₀(a)``, ``∂/∂a = I₁(a)``; ``i1(a) = I₁(a)``, ``∂/∂a = I₀(a) − I₁(a)/a`` (½ at 0);
* ``i0e(a) = e^(−|a|)·I₀(a)``, ``∂/∂a = i1e(a) − sign(a)·i0e(a)``; ``i1e(a) = e^(−|a|)·I₁(a)``,
  ``∂/∂a = i0e(a) − sign(a)·i1e(a) − i1e(a)/a`` (½ at 0): rows, not ``e^(−|a|)·I₀(a)``, because I₀
  overflows past a ≈ 713 while the product stays finite;
* ``igamma`` and ``igammac`` of ``a`` with shape ``s`` (a setting): ``P(s, a) = γ(s, a)/Γ(s)`` and
  ``Q(s, a) = 1 − P(s, a)``, ``∂/∂a = ±a^(s−1)·e^(−a)/Γ(s)``; PyTorch has no gradient for s, nor has glassgrad;
* ``log_ndtr(a) = ln Φ(a)``, Φ the standard normal's distribution function, ``∂/∂a = e^(−a²/2 − ln Φ(a))/√(2π)``:
  a row, not ``ln Φ(a)``, because Φ underflows to 0 below a ≈ −38 while its log is finite.

A float32 input gives a float32 output (SciPy computes in float64 where it has no float32 loop), an integer
input the default float dtype, as PyTorch. At the poles (``lgamma``, ``digamma`` at 0, −1, −2, …) and outside
``erfinv``'s (−1, 1) the values are inf or NaN, as PyTorch's.

>>> import numpy as np
>>> from glassgrad.ops import RULES
>>> RULES["lgamma"].forward(np.array([5.0]))[0].round(4).tolist()   # ln 4! = ln 24
[3.1781]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .ops import elementwise
from .tensor import Tensor, apply

Array = np.ndarray

HALF_ROOT_PI = math.sqrt(math.pi) / 2
ROOT_TWO_PI = math.sqrt(2 * math.pi)


def _scipy(name: str) -> Callable[..., Array]:
    """SciPy's ``special.name`` of ``(*first, a)``, in ``a``'s dtype."""
    def function(a: Array, *first: Any) -> Array:
        from scipy import special  # here, not at the top: `import glassgrad` does not load SciPy
        return np.asarray(getattr(special, name)(*first, a)).astype(a.dtype, copy=False)
    return function


_gammaln, _psi, _erfinv, _log_ndtr = _scipy("gammaln"), _scipy("psi"), _scipy("erfinv"), _scipy("log_ndtr")
_i0, _i1, _i0e, _i1e = _scipy("i0"), _scipy("i1"), _scipy("i0e"), _scipy("i1e")


def _polygamma(a: Array, n: int) -> Array:
    return _scipy("polygamma")(a, n)


def _over(values: Array, a: Array) -> Array:
    """``values / a``, and ½ where a is 0 (the limit of ``I₁(a)/a`` and ``i1e(a)/a``)."""
    return np.divide(values, a, out=np.full_like(values, 0.5), where=a != 0)


def _over_tensor(values: Tensor, a: Tensor) -> Tensor:
    """:func:`_over` recorded: the 0 entries divide by 1, then read ½ (a constant there)."""
    zero = a.detach() == 0
    return (values / a.masked_fill(zero, 1.0)).masked_fill(zero, 0.5)


def _row(op: Any) -> Callable[..., Tensor]:
    """The row ``op`` applied to a tensor (recorded), for the tensor-level local derivatives."""
    return lambda a, *settings: apply(op, (a,), a.array, *settings)


LGAMMA = elementwise("lgamma", "out = ln|Γ(a)|", "ψ({a})  (digamma)", _gammaln, _psi, written="lnΓ({a})",
                     tensor_local=lambda a: _row(DIGAMMA)(a))
DIGAMMA = elementwise("digamma", "out = ψ(a) = Γ'(a)/Γ(a)", "ψ⁽¹⁾({a})  (polygamma(1, ·))", _psi,
                      lambda a: _polygamma(a, 1), written="ψ({a})", tensor_local=lambda a: _row(POLYGAMMA)(a, 1))
POLYGAMMA = elementwise("polygamma", "out = ψ⁽ⁿ⁾(a), the n-th derivative of ψ", "ψ⁽ⁿ⁺¹⁾({a})  (n = {n})",
                        _polygamma, lambda a, n: _polygamma(a, n + 1), written="ψ⁽ⁿ⁾({a})", settings={"n": 1},
                        tensor_local=lambda a, n: _row(POLYGAMMA)(a, n + 1))


def _erfinv_local(out: Any) -> Any:
    """``(√π/2)·e^(out²)``, for NumPy arrays and tensors alike."""
    return HALF_ROOT_PI * (out * out).exp() if isinstance(out, Tensor) else HALF_ROOT_PI * np.exp(out * out)


ERFINV = elementwise("erfinv", "out = erf⁻¹(a)", "(√π/2)·e^({out}²)", _erfinv, _erfinv_local, reads="output",
                     written="erf⁻¹({a})", tensor_local=_erfinv_local)

I0 = elementwise("i0", "out = I₀(a)", "I₁({a})", _i0, _i1, written="I₀({a})", tensor_local=lambda a: _row(I1)(a))
I1 = elementwise("i1", "out = I₁(a)", "I₀({a}) − I₁({a})/{a}  (½ at 0)", _i1, lambda a: _i0(a) - _over(_i1(a), a),
                 written="I₁({a})", tensor_local=lambda a: _row(I0)(a) - _over_tensor(_row(I1)(a), a))
I0E = elementwise("i0e", "out = e^(−|a|)·I₀(a)", "i1e({a}) − sign({a})·i0e({a})", _i0e,
                  lambda a: _i1e(a) - np.sign(a) * _i0e(a), written="i0e({a})",
                  tensor_local=lambda a: _row(I1E)(a) - a.sign() * _row(I0E)(a))
I1E = elementwise("i1e", "out = e^(−|a|)·I₁(a)", "i0e({a}) − sign({a})·i1e({a}) − i1e({a})/{a}  (½ at 0)", _i1e,
                  lambda a: _i0e(a) - np.sign(a) * _i1e(a) - _over(_i1e(a), a), written="i1e({a})",
                  tensor_local=lambda a: (_row(I0E)(a) - a.sign() * _row(I1E)(a)
                                          - _over_tensor(_row(I1E)(a), a)))
LOG_NDTR = elementwise("log_ndtr", "out = ln Φ(a), Φ the standard normal distribution function",
                       "e^(−{a}²/2 − ln Φ({a}))/√(2π)", _log_ndtr,
                       lambda a: np.exp(-0.5 * a * a - _log_ndtr(a)) / ROOT_TWO_PI, written="ln Φ({a})",
                       tensor_local=lambda a: (-0.5 * a * a - _row(LOG_NDTR)(a)).exp() / ROOT_TWO_PI)


def _incomplete_gamma_slope(x: Array, s: Any) -> Array:
    """``∂P(s, x)/∂x = x^(s−1)·e^(−x)/Γ(s)`` (``0·ln 0`` read as 0, so that s = 1 gives ``e^(−x)`` at x = 0)."""
    from scipy import special  # here, not at the top: `import glassgrad` does not load SciPy

    return np.asarray(np.exp(special.xlogy(s - 1, x) - x - special.gammaln(s))).astype(x.dtype, copy=False)


def _incomplete_gamma_slope_tensor(x: Tensor, s: Any) -> Tensor:
    """:func:`_incomplete_gamma_slope` recorded (for second derivatives); at x = 0 the limit, a constant: 0 for
    s > 1, ∞ for s < 1 (and 1/Γ(1) = 1 for s = 1, which the formula gives with ln x read as 0 there)."""
    from scipy import special

    shape = np.asarray(s)
    at_zero = x.array == 0
    logs = x.masked_fill(Tensor._wrap(at_zero), 1.0).log()
    slope = (logs * x.new_tensor(shape - 1) - x - x.new_tensor(special.gammaln(shape))).exp()
    return (slope.masked_fill(Tensor._wrap(at_zero & (shape > 1)), 0.0)
            .masked_fill(Tensor._wrap(at_zero & (shape < 1)), np.inf))


def _incomplete_gamma(name: str) -> Callable[[Array, Any], Array]:
    """SciPy's regularized incomplete gamma ``name`` of ``(s, x)``, in x's dtype."""
    def value(x: Array, s: Any) -> Array:
        from scipy import special

        return np.asarray(getattr(special, name)(s, x)).astype(x.dtype, copy=False)
    return value


IGAMMA = elementwise("igamma", "out = P(s, a) = γ(s, a)/Γ(s), the regularized lower incomplete gamma function of a",
                     "{a}^(s−1)·e^(−{a})/Γ(s)  (none for s, as in PyTorch)", _incomplete_gamma("gammainc"),
                     _incomplete_gamma_slope, written="P(s, {a})", settings={"s": 2.0},
                     tensor_local=_incomplete_gamma_slope_tensor)
IGAMMAC = elementwise("igammac", "out = Q(s, a) = 1 − P(s, a), the regularized upper incomplete gamma function of a",
                      "−{a}^(s−1)·e^(−{a})/Γ(s)  (none for s, as in PyTorch)", _incomplete_gamma("gammaincc"),
                      lambda x, s: -_incomplete_gamma_slope(x, s), written="Q(s, {a})", settings={"s": 2.0},
                      tensor_local=lambda x, s: -_incomplete_gamma_slope_tensor(x, s))
