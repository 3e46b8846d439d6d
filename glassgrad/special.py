"""``torch.special``: the special functions under PyTorch's names, each the glassgrad op that computes it.

``expit`` is the logistic σ, ``logit`` its inverse ``ln(p/(1 − p))``, ``erf``/``erfc`` the error function
and its complement; ``log_softmax``, ``softmax``, ``logsumexp``, ``xlogy``, ``log1p``, ``expm1``, ``exp2``,
``sinc`` and ``round`` as in ``gg``. Their gradients are those of the rows they use.

The gamma family and the Bessel functions are rows of :mod:`glassgrad.ops_special` (values from SciPy):
``gammaln`` (``ln|Γ|``), ``digamma``/``psi`` (ψ), ``polygamma``, ``erfinv``, ``i0``/``modified_bessel_i0``,
``i0e``, ``i1``/``modified_bessel_i1``, ``i1e``, ``ndtri`` (Φ⁻¹), ``log_ndtr``, ``erfcx`` (``e^(x²)·erfc(x)``),
``bessel_j0``, ``bessel_j1``, ``bessel_y0``, ``bessel_y1``, ``modified_bessel_k0``, ``modified_bessel_k1``,
``scaled_modified_bessel_k0`` (``eˣ·K₀(x)``), ``scaled_modified_bessel_k1``, ``spherical_bessel_j0``
(``sin(x)/x``), ``airy_ai``, ``gammainc``/``gammaincc`` (``igamma``/``igammac``: ``P(a, x)`` and ``Q(a, x)``)
and ``zeta(x, q) = Σₖ₌₀^∞ (q + k)^(−x)``. PyTorch gives the Bessel and Airy functions no gradient; glassgrad
gives each its derivative (a row too), and ``zeta`` its derivative in q, ``−x·ζ(x + 1, q)`` (none in x: there
it refuses an x that requires grad).

Made of them and other ops: ``multigammaln(a, p) = p(p−1)/4·ln π + Σⱼ₌₁ᵖ lnΓ(a − (j−1)/2)``,
``ndtr(x) = Φ(x) = erfc(−x/√2)/2``, ``xlog1py(x, y) = x·ln(1 + y)``
(0 where x is 0) and ``entr(x) = −x·ln x`` (0 at 0, −inf below).

The orthogonal polynomials of degree n, ``f(x, n)``, by their three-term recurrences (one row,
:mod:`glassgrad.special_polynomials`): ``chebyshev_polynomial_t``/``u``/``v``/``w``, their
``shifted_chebyshev_polynomial_*`` on [0, 1], ``hermite_polynomial_h``/``he``, ``laguerre_polynomial_l`` and
``legendre_polynomial_p``.

>>> import glassgrad as gg
>>> gg.special.expit(gg.tensor(0.0)).item(), gg.special.logit(gg.tensor(0.5)).item()   # σ(0) = ½, logit(½) = 0
(0.5, 0.0)
"""

from __future__ import annotations

import math
from typing import Any

from . import ops_math, ops_special
from .arguments import number_argument
from .autograd import recorded_call
from .composed import _no_logarithm
from .composed import xlogy as xlogy
from .composed_numbers import igamma, igammac, with_setting
from .creation import as_tensor
from .functions import digamma as digamma
from .functions import erf as erf
from .functions import erfinv as erfinv
from .functions import expm1 as expm1
from .functions import i0 as i0
from .functions import lgamma, where
from .functions import log1p as log1p
from .functions import log_softmax as log_softmax
from .functions import logsumexp as logsumexp
from .functions import polygamma as polygamma
from .functions import round as round
from .functions import softmax as softmax
from .special_polynomials import chebyshev_polynomial_t as chebyshev_polynomial_t
from .special_polynomials import chebyshev_polynomial_u as chebyshev_polynomial_u
from .special_polynomials import chebyshev_polynomial_v as chebyshev_polynomial_v
from .special_polynomials import chebyshev_polynomial_w as chebyshev_polynomial_w
from .special_polynomials import hermite_polynomial_h as hermite_polynomial_h
from .special_polynomials import hermite_polynomial_he as hermite_polynomial_he
from .special_polynomials import laguerre_polynomial_l as laguerre_polynomial_l
from .special_polynomials import legendre_polynomial_p as legendre_polynomial_p
from .special_polynomials import shifted_chebyshev_polynomial_t as shifted_chebyshev_polynomial_t
from .special_polynomials import shifted_chebyshev_polynomial_u as shifted_chebyshev_polynomial_u
from .special_polynomials import shifted_chebyshev_polynomial_v as shifted_chebyshev_polynomial_v
from .special_polynomials import shifted_chebyshev_polynomial_w as shifted_chebyshev_polynomial_w
from .tensor import Tensor, _float_data, apply

gammaln, psi = lgamma, digamma
modified_bessel_i0, gammainc, gammaincc = i0, igamma, igammac


def expit(input: Any) -> Tensor:
    """``σ(x) = 1/(1 + e⁻ˣ)`` (``sigmoid``)."""
    return as_tensor(input).sigmoid()


def logit(input: Any, eps: float | None = None) -> Tensor:
    """``ln(p/(1 − p))``, σ's inverse; ``eps`` first clamps p to ``[eps, 1 − eps]``
    (a row: :data:`glassgrad.ops_math.LOGIT`). As in PyTorch, a negative ``eps`` clamps nothing (it is ``None``:
    the slope is NaN outside [0, 1], where the value is) and ``eps`` may be a 0-d tensor."""
    p = as_tensor(input)
    if eps is not None:
        eps = float(number_argument(eps, "logit", "eps"))
        eps = None if eps < 0 else eps
    return apply(ops_math.LOGIT, (p,), _float_data(p), eps)


def erfc(input: Any) -> Tensor:
    """``1 − erf(x)``, a row of its own (:data:`glassgrad.ops_math.ERFC`): precise where erfc(x) is near 0."""
    return as_tensor(input).erfc()


def exp2(input: Any) -> Tensor:
    """``2ˣ``, a row of its own (:data:`glassgrad.ops_math.EXP2`)."""
    return as_tensor(input).exp2()


SINC_SERIES_BELOW = 0.1
"""Where ``|πx|`` is below this, ``sinc`` is its series: there ``sin z / z`` keeps its value but its derivative
``(z·cos z − sin z)/z²`` cancels (at x = 1e-8 no digit of it was right, and at x = 1e-45 in float32 it was 0/0); the
series to ``z⁸`` is exact to float64's rounding up to here, its first derivative too (the error is ``~z⁹/10⁶``)."""


def sinc(input: Any) -> Tensor:
    """``sin(πx)/(πx)``, and near x = 0 (``|πx| < 0.1``) its series ``1 − z²/6 + z⁴/120 − z⁶/5040 + z⁸/362880``
    (z = πx): 1 at 0, with the derivatives of sinc there (0, −π²/3, 0, π⁴/5; a constant 1 gave 0 for every one),
    and near 0 derivatives without the cancellation of the quotient's. float16 is computed in float32 and rounded
    once, as PyTorch computes it: ``πx`` rounded to float16 is off by up to 2⁻¹¹·πx, so ``sin(πx)`` at a whole x
    was ``±3·10⁻⁴`` instead of 0."""
    x = as_tensor(input)
    if x.array.dtype == "float16":
        return sinc(x.float()).half()
    near_zero = x.detach().abs() < SINC_SERIES_BELOW / math.pi
    away = near_zero.logical_not()
    z = x * math.pi
    angle = z.masked_fill(near_zero, 1.0)
    square = z.masked_fill(away, 0.0) ** 2  # the series only near 0: elsewhere z² may overflow, and 0·∞ is NaN
    series = 1 - square / 6 * (1 - square / 20 * (1 - square / 42 * (1 - square / 72)))  # Horner: z^2k/(2k+1)!
    return (angle.sin() / angle).where(away, series)


def _row(op: Any, input: Any) -> Tensor:
    x = as_tensor(input)
    return apply(op, (x,), _float_data(x))


def i0e(input: Any) -> Tensor:
    """``e^(−|x|)·I₀(x)``: I₀ scaled so that it does not overflow; its derivative is ``i1e(x) − sign(x)·i0e(x)``."""
    return _row(ops_special.I0E, input)


def i1(input: Any) -> Tensor:
    """``I₁(x)``, the modified Bessel function of order 1; its derivative is ``I₀(x) − I₁(x)/x`` (½ at 0)."""
    return _row(ops_special.I1, input)


modified_bessel_i1 = i1


def i1e(input: Any) -> Tensor:
    """``e^(−|x|)·I₁(x)``: I₁ scaled so that it does not overflow."""
    return _row(ops_special.I1E, input)


def log_ndtr(input: Any) -> Tensor:
    """``ln Φ(x)``, Φ the standard normal distribution function; finite far to the left, where Φ is 0."""
    return _row(ops_special.LOG_NDTR, input)


def erfcx(input: Any) -> Tensor:
    """``e^(x²)·erfc(x)``, finite where ``e^(x²)`` overflows; its derivative is ``2x·erfcx(x) − 2/√π``."""
    return _row(ops_special.ERFCX, input)


def bessel_j0(input: Any) -> Tensor:
    """``J₀(x)``, the Bessel function of the first kind of order 0; its derivative is ``−J₁(x)``."""
    return _row(ops_special.J0, input)


def bessel_j1(input: Any) -> Tensor:
    """``J₁(x)``, the Bessel function of the first kind of order 1; its derivative is ``J₀(x) − J₁(x)/x`` (½ at
    0)."""
    return _row(ops_special.J1, input)


def bessel_y0(input: Any) -> Tensor:
    """``Y₀(x)``, the Bessel function of the second kind of order 0 (x > 0: −inf at 0, NaN below); its derivative
    is ``−Y₁(x)``."""
    return _row(ops_special.Y0, input)


def bessel_y1(input: Any) -> Tensor:
    """``Y₁(x)``, the Bessel function of the second kind of order 1 (x > 0: −inf at 0, NaN below); its derivative
    is ``Y₀(x) − Y₁(x)/x``."""
    return _row(ops_special.Y1, input)


def modified_bessel_k0(input: Any) -> Tensor:
    """``K₀(x)``, the modified Bessel function of the second kind of order 0 (x > 0: inf at 0, NaN below); its
    derivative is ``−K₁(x)``."""
    return _row(ops_special.K0, input)


def modified_bessel_k1(input: Any) -> Tensor:
    """``K₁(x)``, the modified Bessel function of the second kind of order 1 (x > 0: inf at 0, NaN below); its
    derivative is ``−K₀(x) − K₁(x)/x``."""
    return _row(ops_special.K1, input)


def scaled_modified_bessel_k0(input: Any) -> Tensor:
    """``eˣ·K₀(x)``: K₀ scaled so that it does not underflow; its derivative is ``k0e(x) − k1e(x)``."""
    return _row(ops_special.K0E, input)


def scaled_modified_bessel_k1(input: Any) -> Tensor:
    """``eˣ·K₁(x)``: K₁ scaled so that it does not underflow; its derivative is ``k1e(x)·(1 − 1/x) − k0e(x)``."""
    return _row(ops_special.K1E, input)


def spherical_bessel_j0(input: Any) -> Tensor:
    """``j₀(x) = sin(x)/x`` (1 at 0), the spherical Bessel function of order 0; its derivative is
    ``(x·cos x − sin x)/x²`` (0 at 0)."""
    return _row(ops_special.SPHERICAL_J0, input)


def airy_ai(input: Any) -> Tensor:
    """``Ai(x)``, the Airy function of the first kind (the solution of ``y'' = x·y`` that decays as x → ∞); its
    derivative is ``Ai'(x)``, whose own is ``x·Ai(x)``."""
    return _row(ops_special.AIRY_AI, input)


zeta = with_setting("zeta", ops_special.ZETA, "the exponent x: ∂ζ(x, q)/∂x has no closed form here, and PyTorch "
                    "has no gradient for it either")
zeta.__doc__ = """``ζ(x, q) = Σₖ₌₀^∞ (q + k)^(−x)``, the Hurwitz zeta function (x > 1; ``ζ(x, 1)`` is Riemann's ζ(x)).

Its derivative in q is ``−x·ζ(x + 1, q)``; in x it has none, so an x that requires grad is refused."""


def ndtr(input: Any) -> Tensor:
    """``Φ(x) = erfc(−x/√2)/2``, the standard normal distribution function: ``(1 + erf(x/√2))/2`` is the same number
    but loses the left tail, where ``erf`` rounds to −1 (Φ(−10) = 7.6e-24 would be 0; PyTorch's is)."""
    return (-_float_tensor(as_tensor(input)) / math.sqrt(2)).erfc() / 2


def ndtri(input: Any) -> Tensor:
    """``Φ⁻¹(p)``, the inverse of :func:`ndtr` (−inf at 0, inf at 1, NaN outside [0, 1]); its derivative is
    ``√(2π)·e^(Φ⁻¹(p)²/2)``."""
    return _row(ops_special.NDTRI, input)


def multigammaln(input: Any, p: int) -> Tensor:
    """``ln Γₚ(a) = p(p−1)/4·ln π + Σⱼ₌₁ᵖ lnΓ(a − (j−1)/2)``, the log of the multivariate gamma function."""
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise RuntimeError(f"multigammaln: p must be a whole number ≥ 1 (the dimension), got {p!r}")
    a = _float_tensor(as_tensor(input))
    terms = [(a - j / 2).lgamma() for j in range(p)]
    return sum(terms[1:], terms[0]) + p * (p - 1) / 4 * math.log(math.pi)


def xlog1py(input: Any, other: Any) -> Tensor:
    """``x·ln(1 + y)``, and 0 where x is 0 (even where y is −1 or inf; NaN where y is NaN, as PyTorch).

    ``∂/∂x = ln(1 + y)`` and ``∂/∂y = x/(1 + y)``, also where x is 0 (as PyTorch), except where x is 0 and
    y ≤ −1: 0 there (PyTorch gives NaN at y = −1), as ``xlogy`` at y ≤ 0.
    """
    x, y = as_tensor(input), as_tensor(other)
    no_log = Tensor._wrap(recorded_call(_no_logarithm, x.array, y.array, -1))
    return x * where(no_log, y.new_tensor(0.0), y).log1p()  # there 0·ln(1 + y) would be NaN


def entr(input: Any) -> Tensor:
    """``−x·ln x`` for x > 0, 0 at 0 and −inf below (the entropy of one probability).

    Its derivative is ``−(ln x + 1)``: +inf at x = 0 (the one-sided slope), NaN below, as PyTorch
    (a row: :data:`glassgrad.ops_math.ENTR`).
    """
    x = _float_tensor(as_tensor(input))
    return apply(ops_math.ENTR, (x,), x.array)


def _float_tensor(x: Tensor) -> Tensor:
    """``x`` itself if it is floating, else in the default float dtype (as PyTorch's math functions)."""
    return x if x.array.dtype.kind == "f" else as_tensor(_float_data(x))
