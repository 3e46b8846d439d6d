"""Rows of the rule table for the special functions NumPy lacks: ``lgamma``, ``digamma``, ``polygamma``,
``erfinv``, ``ndtri``, the modified Bessel functions ``i0``, ``i1`` (and their scaled forms ``i0e``, ``i1e``),
``log_ndtr``, ``erfcx``, the Bessel functions ``J₀``, ``J₁``, ``Y₀``, ``Y₁``, ``K₀``, ``K₁`` (and ``k0e``, ``k1e``), the
spherical Bessel functions ``j₀``, ``j₁``, the Airy function ``Ai`` (and ``Ai'``), the incomplete gamma functions and
the Hurwitz zeta function; their values come from SciPy (``scipy.special``), loaded on the first call.

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
* ``ndtri(a) = Φ⁻¹(a)``, the ``y`` with ``Φ(y) = a`` (``0 < a < 1``), ``∂/∂a = √(2π)·e^(y²/2)``: a row, not
  ``√2·erfinv(2a − 1)``, because ``2a − 1`` rounds to −1 below a ≈ 1e-16 (Φ⁻¹(1e-30) = −11.46, not −∞);
* ``log_ndtr(a) = ln Φ(a)``, Φ the standard normal's distribution function, ``∂/∂a = e^(−a²/2 − ln Φ(a))/√(2π)``:
  a row, not ``ln Φ(a)``, because Φ underflows to 0 below a ≈ −38 while its log is finite;
* ``erfcx(a) = e^(a²)·erfc(a)``, ``∂/∂a = 2a·erfcx(a) − 2/√π``: a row, not the product, because ``e^(a²)``
  overflows and ``erfc(a)`` underflows past a ≈ 27 while erfcx(a) ≈ 1/(a√π) is finite;
* the Bessel functions of order 0 and 1, ``J₀' = −J₁``, ``J₁'(a) = J₀(a) − J₁(a)/a`` (½ at 0), and of the second
  kind (a > 0) ``Y₀' = −Y₁``, ``Y₁'(a) = Y₀(a) − Y₁(a)/a``, ``K₀' = −K₁``, ``K₁'(a) = −K₀(a) − K₁(a)/a``; scaled,
  ``k0e(a) = e^a·K₀(a)``, ``∂/∂a = k0e(a) − k1e(a)``, and ``k1e(a) = e^a·K₁(a)``, ``∂/∂a = k1e(a)·(1 − 1/a) −
  k0e(a)`` (K₀ underflows past a ≈ 700, k0e does not);
* the spherical Bessel functions ``j₀(a) = sin(a)/a``, ``∂/∂a = −j₁(a) = (a·cos a − sin a)/a²`` (0 at 0), and
  ``j₁(a) = sin(a)/a² − cos(a)/a``, ``∂/∂a = j₀(a) − 2·j₁(a)/a`` (⅓ at 0): j₁ a row of its own, because the
  difference ``a·cos a − sin a`` loses all its digits near 0;
* the Airy function ``Ai``, ``∂/∂a = Ai'(a)``, and ``Ai'``, ``∂/∂a = a·Ai(a)`` (Airy's equation ``Ai'' = a·Ai``);
  both 0 for a finite a past 110, where they underflow (SciPy gives NaN past a ≈ 1e9);
* ``zeta`` of ``a`` with exponent ``s`` (a setting): ``ζ(s, a) = Σₖ₌₀^∞ (a + k)^(−s)``, ``∂/∂a = −s·ζ(s + 1, a)``;
  ``∂/∂s`` has no closed form, so glassgrad gives none (PyTorch gives neither derivative).

PyTorch gives the Bessel and Airy functions no gradient at all (their outputs silently do not require grad);
glassgrad gives each its derivative above. Outside a function's domain (Y, K and their scaled forms at a < 0) the
values are NaN, and at 0 ±inf, as PyTorch's; their derivatives are NaN below 0 and ±∞ at 0 (the one-sided
slope, read where the formula would give ∞ − ∞: Y₁'(0) = ∞, K₁'(0) = k0e'(0) = k1e'(0) = −∞, at −0 too).

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
TWO_OVER_ROOT_PI = 2 / math.sqrt(math.pi)
ROOT_TWO_PI = math.sqrt(2 * math.pi)


def _scipy(name: str, part: int | None = None) -> Callable[..., Array]:
    """SciPy's ``special.name`` of ``(*first, a)`` (entry ``part`` of the tuple it returns, if given), in ``a``'s
    dtype."""
    def function(a: Array, *first: Any) -> Array:
        from scipy import special  # here, not at the top: `import glassgrad` does not load SciPy
        values = getattr(special, name)(*first, a)
        return np.asarray(values if part is None else values[part]).astype(a.dtype, copy=False)
    return function


_gammaln, _psi, _log_ndtr = _scipy("gammaln"), _scipy("psi"), _scipy("log_ndtr")
_erfinv_of = _scipy("erfinv")


def _erfinv(a: Array) -> Array:
    """``erf⁻¹(a)`` with a's sign, as it is odd: ``erf⁻¹(−0) = −0`` as PyTorch's (SciPy gives +0)."""
    values = _erfinv_of(a)
    return np.copysign(values, a, out=values)  # out=: an array also for a 0-d a


_ndtri = _scipy("ndtri")
_i0, _i1, _i0e, _i1e = _scipy("i0"), _scipy("i1"), _scipy("i0e"), _scipy("i1e")
_j0, _j1, _y0, _y1 = _scipy("j0"), _scipy("j1"), _scipy("y0"), _scipy("y1")
_k0, _k1, _k0e, _k1e = _scipy("k0"), _scipy("k1"), _scipy("k0e"), _scipy("k1e")
_erfcx, _spherical_jn, _zeta = _scipy("erfcx"), _scipy("spherical_jn"), _scipy("zeta")
AIRY_UNDERFLOW = 110.0
"""Past this a, Ai(a) ≈ e^(−⅔·a^(3/2))/(2√π·a^(1/4)) and Ai'(a) are below the smallest float64: 0 (SciPy's ``airy``
gives NaN past a ≈ 1e9; at a = ∞ it stays NaN, as PyTorch's)."""


def _airy(part: int) -> Callable[[Array], Array]:
    """Entry ``part`` of SciPy's ``airy(a) = (Ai, Ai', Bi, Bi')``, 0 for a finite a past :data:`AIRY_UNDERFLOW` (for Ai
    and Ai')."""
    values = _scipy("airy", part)
    return lambda a: np.where((a > AIRY_UNDERFLOW) & (a < np.inf), 0.0, values(a)).astype(a.dtype, copy=False)


_airy_ai, _airy_ai_prime = _airy(0), _airy(1)


def _lgamma(a: Array) -> Array:
    """``ln|Γ(a)|``, and +∞ at a = −∞ as PyTorch (and C's ``lgamma``), where SciPy gives −∞."""
    return np.where(a == -np.inf, np.inf, _gammaln(a)).astype(a.dtype, copy=False)


def _polygamma(a: Array, n: int) -> Array:
    return _scipy("polygamma")(a, n)


def _over(values: Array, a: Array, limit: float = 0.5) -> Array:
    """``values / a``, and ``limit`` where a is 0 (½ for ``I₁(a)/a``, ``i1e(a)/a`` and ``J₁(a)/a``, ⅓ for
    ``j₁(a)/a``)."""
    return np.divide(values, a, out=np.full_like(values, limit), where=a != 0)


def _over_tensor(values: Tensor, a: Tensor, limit: float = 0.5) -> Tensor:
    """:func:`_over` recorded: the 0 entries divide by 1, then read ``limit`` (a constant there)."""
    zero = a.detach() == 0
    return (values / a.masked_fill(zero, 1.0)).masked_fill(zero, limit)


def _at_pole(slope: Any, a: Any, limit: float) -> Any:
    """``slope``, and ``limit`` where a is 0 (the one-sided slope at a pole, where the formula reads ∞ − ∞), for
    NumPy arrays and tensors alike."""
    if isinstance(slope, Tensor):
        return slope.masked_fill(a.detach() == 0, limit)
    return np.where(a == 0, limit, slope)


def _row(op: Any) -> Callable[..., Tensor]:
    """The row ``op`` applied to a tensor (recorded), for the tensor-level local derivatives."""
    return lambda a, *settings: apply(op, (a,), a.array, *settings)


LGAMMA = elementwise("lgamma", "out = ln|Γ(a)|", "ψ({a})  (digamma)", _lgamma, _psi, written="lnΓ({a})",
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



def _ndtri_local(out: Any) -> Any:
    """``√(2π)·e^(out²/2)``, for NumPy arrays and tensors alike."""
    return ROOT_TWO_PI * (out * out / 2).exp() if isinstance(out, Tensor) else ROOT_TWO_PI * np.exp(out * out / 2)


NDTRI = elementwise("ndtri", "out = Φ⁻¹(a), Φ the standard normal distribution function", "√(2π)·e^({out}²/2)",
                    _ndtri, _ndtri_local, reads="output", written="Φ⁻¹({a})", tensor_local=_ndtri_local)

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
ERFCX = elementwise("erfcx", "out = e^(a²)·erfc(a), the scaled complementary error function",
                    "2·{a}·erfcx({a}) − 2/√π", _erfcx, lambda a: 2 * a * _erfcx(a) - TWO_OVER_ROOT_PI,
                    written="erfcx({a})", tensor_local=lambda a: 2 * a * _row(ERFCX)(a) - TWO_OVER_ROOT_PI)

J0 = elementwise("bessel_j0", "out = J₀(a), the Bessel function of the first kind of order 0", "−J₁({a})", _j0,
                 lambda a: -_j1(a), written="J₀({a})", tensor_local=lambda a: -_row(J1)(a))
J1 = elementwise("bessel_j1", "out = J₁(a), the Bessel function of the first kind of order 1",
                 "J₀({a}) − J₁({a})/{a}  (½ at 0)", _j1, lambda a: _j0(a) - _over(_j1(a), a), written="J₁({a})",
                 tensor_local=lambda a: _row(J0)(a) - _over_tensor(_row(J1)(a), a))
Y0 = elementwise("bessel_y0", "out = Y₀(a), the Bessel function of the second kind of order 0 (a > 0)", "−Y₁({a})",
                 _y0, lambda a: -_y1(a), written="Y₀({a})", tensor_local=lambda a: -_row(Y1)(a))
Y1 = elementwise("bessel_y1", "out = Y₁(a), the Bessel function of the second kind of order 1 (a > 0)",
                 "Y₀({a}) − Y₁({a})/{a}  (∞ at 0)", _y1, lambda a: _at_pole(_y0(a) - _y1(a) / a, a, math.inf),
                 written="Y₁({a})", tensor_local=lambda a: _at_pole(_row(Y0)(a) - _row(Y1)(a) / a, a, math.inf))
K0 = elementwise("modified_bessel_k0", "out = K₀(a), the modified Bessel function of the second kind of order 0 "
                 "(a > 0)", "−K₁({a})", _k0, lambda a: -_k1(a), written="K₀({a})", tensor_local=lambda a: -_row(K1)(a))
K1 = elementwise("modified_bessel_k1", "out = K₁(a), the modified Bessel function of the second kind of order 1 "
                 "(a > 0)", "−K₀({a}) − K₁({a})/{a}  (−∞ at 0)", _k1,
                 lambda a: _at_pole(-_k0(a) - _k1(a) / a, a, -math.inf), written="K₁({a})",
                 tensor_local=lambda a: _at_pole(-_row(K0)(a) - _row(K1)(a) / a, a, -math.inf))
K0E = elementwise("scaled_modified_bessel_k0", "out = e^a·K₀(a) (a > 0)", "k0e({a}) − k1e({a})  (−∞ at 0)", _k0e,
                  lambda a: _at_pole(_k0e(a) - _k1e(a), a, -math.inf), written="k0e({a})",
                  tensor_local=lambda a: _at_pole(_row(K0E)(a) - _row(K1E)(a), a, -math.inf))
K1E = elementwise("scaled_modified_bessel_k1", "out = e^a·K₁(a) (a > 0)",
                  "k1e({a})·(1 − 1/{a}) − k0e({a})  (−∞ at 0)", _k1e,
                  lambda a: _at_pole(_k1e(a) * (1 - 1 / a) - _k0e(a), a, -math.inf), written="k1e({a})",
                  tensor_local=lambda a: _at_pole(_row(K1E)(a) * (1 - a.reciprocal()) - _row(K0E)(a), a, -math.inf))
SPHERICAL_J0 = elementwise("spherical_bessel_j0", "out = j₀(a) = sin(a)/a (1 at 0), the spherical Bessel function "
                           "of order 0", "−j₁({a}) = ({a}·cos {a} − sin {a})/{a}²  (0 at 0)",
                           lambda a: _spherical_jn(a, 0), lambda a: -_spherical_jn(a, 1), written="j₀({a})",
                           tensor_local=lambda a: -_row(SPHERICAL_J1)(a))
SPHERICAL_J1 = elementwise("spherical_bessel_j1", "out = j₁(a) = sin(a)/a² − cos(a)/a (0 at 0), the spherical "
                           "Bessel function of order 1", "j₀({a}) − 2·j₁({a})/{a}  (⅓ at 0)",
                           lambda a: _spherical_jn(a, 1),
                           lambda a: _spherical_jn(a, 0) - 2 * _over(_spherical_jn(a, 1), a, 1 / 3),
                           written="j₁({a})",
                           tensor_local=lambda a: (_row(SPHERICAL_J0)(a)
                                                   - 2 * _over_tensor(_row(SPHERICAL_J1)(a), a, 1 / 3)))
AIRY_AI = elementwise("airy_ai", "out = Ai(a), the Airy function of the first kind (Ai'' = a·Ai)", "Ai'({a})",
                      _airy_ai, _airy_ai_prime, written="Ai({a})", tensor_local=lambda a: _row(AIRY_AI_PRIME)(a))
AIRY_AI_PRIME = elementwise("airy_ai_prime", "out = Ai'(a), the derivative of the Airy function Ai",
                            "{a}·Ai({a})  (Airy's equation)", _airy_ai_prime, lambda a: a * _airy_ai(a),
                            written="Ai'({a})", tensor_local=lambda a: a * _row(AIRY_AI)(a))


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

ZETA = elementwise("zeta", "out = ζ(s, a) = Σₖ₌₀^∞ (a + k)^(−s), the Hurwitz zeta function of a",
                   "−s·ζ(s + 1, {a})  (none for s: ∂ζ/∂s has no closed form)", _zeta,
                   lambda q, s: -s * _zeta(q, s + 1), written="ζ(s, {a})", settings={"s": 2.0},
                   tensor_local=lambda q, s: _row(ZETA)(q, s + 1) * q.new_tensor(-np.asarray(s)))
