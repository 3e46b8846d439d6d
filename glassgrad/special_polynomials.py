"""The classical orthogonal polynomials of ``torch.special``, each ``f(input, n)``: degree n at x.

Every family starts from ``P₀(x) = 1`` and a line ``P₁(x)``, then follows one three-term recurrence

    P₍ₖ₊₁₎(x) = ((aₖ·x + bₖ)·Pₖ(x) − cₖ·P₍ₖ₋₁₎(x)) / dₖ

with whole-number coefficients (so that ``Pₙ(1)``, ``Lₙ(0)`` … come out exact):

========================================  ==============  ==============================================
family                                    P₁(x)           (aₖ, bₖ, cₖ, dₖ)
========================================  ==============  ==============================================
``chebyshev_polynomial_t``  Tₙ            x               (2, 0, 1, 1): T₍ₖ₊₁₎ = 2x·Tₖ − T₍ₖ₋₁₎
``chebyshev_polynomial_u``  Uₙ            2x              (2, 0, 1, 1)
``chebyshev_polynomial_v``  Vₙ            2x − 1          (2, 0, 1, 1)
``chebyshev_polynomial_w``  Wₙ            2x + 1          (2, 0, 1, 1)
``shifted_chebyshev_polynomial_t``  T*ₙ   2x − 1          (4, −2, 1, 1): T*ₙ(x) = Tₙ(2x − 1), so 2x ↦ 4x − 2
``shifted_chebyshev_polynomial_u``  U*ₙ   4x − 2          (4, −2, 1, 1)
``shifted_chebyshev_polynomial_v``  V*ₙ   4x − 3          (4, −2, 1, 1)
``shifted_chebyshev_polynomial_w``  W*ₙ   4x − 1          (4, −2, 1, 1)
``hermite_polynomial_h``  Hₙ (physicists') 2x             (2, 0, 2k, 1): H₍ₖ₊₁₎ = 2x·Hₖ − 2k·H₍ₖ₋₁₎
``hermite_polynomial_he``  Heₙ (probabilists') x          (1, 0, k, 1): He₍ₖ₊₁₎ = x·Heₖ − k·He₍ₖ₋₁₎
``laguerre_polynomial_l``  Lₙ             1 − x           (−1, 2k + 1, k, k + 1): (k+1)·L₍ₖ₊₁₎ = (2k+1−x)·Lₖ − k·L₍ₖ₋₁₎
``legendre_polynomial_p``  Pₙ             x               (2k + 1, 0, k, k + 1): (k+1)·P₍ₖ₊₁₎ = (2k+1)x·Pₖ − k·P₍ₖ₋₁₎
========================================  ==============  ==============================================

The derivative in x runs alongside, from the same recurrence differentiated (``P₀' = 0``, ``P₁'`` the line's
slope):

    P'₍ₖ₊₁₎ = (aₖ·Pₖ + (aₖ·x + bₖ)·P'ₖ − cₖ·P'₍ₖ₋₁₎) / dₖ,

and, differentiated m times (the line ``aₖx + bₖ`` has no second derivative),
``P⁽ᵐ⁾₍ₖ₊₁₎ = ((aₖx + bₖ)·P⁽ᵐ⁾ₖ + m·aₖ·P⁽ᵐ⁻¹⁾ₖ − cₖ·P⁽ᵐ⁾₍ₖ₋₁₎) / dₖ``. One row of the rule table,
``orthogonal_polynomial``, computes ``P⁽ᵐ⁾ₙ(x)`` for any family (a setting), degree n (a setting) and order m (a
setting, 0 for the polynomial): its local derivative is the same row one order up, so traces show ``P'ₙ(x)`` and
second derivatives are exact too.

As PyTorch: n is taken as a whole number, truncated toward 0 (n = 2.7 is degree 2); a negative, NaN or infinite n
gives 0; x and n broadcast together; the result is floating (x's and n's dtypes promoted as for ``x + n``; integers
give the default float dtype). PyTorch computes these outputs with no gradient at all; glassgrad gives the true
derivative in x and refuses an n that requires grad (the degree is a whole number: it has none).
Where PyTorch returns leftover memory for a NaN x (U, V, W, their shifted forms, Laguerre, Legendre), glassgrad
gives NaN, as for T and H; PyTorch's closed forms for large n (``Tₙ(x) = cos(n·arccos x)`` inside [−1, 1]) agree
with the recurrence up to rounding.

>>> import glassgrad as gg
>>> x = gg.tensor([0.5, 2.0], requires_grad=True)
>>> t3 = gg.special.chebyshev_polynomial_t(x, 3)      # T₃(x) = 4x³ − 3x
>>> t3.tolist()
[-1.0, 26.0]
>>> t3.sum().backward(); x.grad.tolist()              # T₃'(x) = 12x² − 3
[0.0, 45.0]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .arguments import shape_text
from .autograd import note_unreplayable
from .composed_math import result_type
from .composed_numbers import refuse_gradient
from .creation import as_tensor
from .dtypes import get_default_dtype
from .ops import elementwise
from .tensor import Tensor, apply

Array = np.ndarray


@dataclass(frozen=True)
class Family:
    """One family's recurrence: ``P₁(x) = slope·x + offset`` and ``coefficients(k) = (aₖ, bₖ, cₖ, dₖ)``."""

    slope: int
    offset: int
    coefficients: Callable[[int], tuple[int, int, int, int]]


def _chebyshev(k: int) -> tuple[int, int, int, int]:
    return 2, 0, 1, 1


def _shifted_chebyshev(k: int) -> tuple[int, int, int, int]:
    return 4, -2, 1, 1


FAMILIES: dict[str, Family] = {
    "chebyshev_polynomial_t": Family(1, 0, _chebyshev),
    "chebyshev_polynomial_u": Family(2, 0, _chebyshev),
    "chebyshev_polynomial_v": Family(2, -1, _chebyshev),
    "chebyshev_polynomial_w": Family(2, 1, _chebyshev),
    "shifted_chebyshev_polynomial_t": Family(2, -1, _shifted_chebyshev),
    "shifted_chebyshev_polynomial_u": Family(4, -2, _shifted_chebyshev),
    "shifted_chebyshev_polynomial_v": Family(4, -3, _shifted_chebyshev),
    "shifted_chebyshev_polynomial_w": Family(4, -1, _shifted_chebyshev),
    "hermite_polynomial_h": Family(2, 0, lambda k: (2, 0, 2 * k, 1)),
    "hermite_polynomial_he": Family(1, 0, lambda k: (1, 0, k, 1)),
    "laguerre_polynomial_l": Family(-1, 1, lambda k: (-1, 2 * k + 1, k, k + 1)),
    "legendre_polynomial_p": Family(1, 0, lambda k: (2 * k + 1, 0, k, k + 1)),
}
"""Each family by its PyTorch name (see the table above)."""


def polynomial(x: Array, family: str, n: Any, order: int) -> Array:
    """``P⁽ᵐ⁾ₙ(x)`` (m = ``order``) of ``FAMILIES[family]``, each entry with its own degree ``n`` (whole numbers,
    broadcast against x; below 0 gives 0): the recurrence runs to the largest n, keeping each entry's value when
    k reaches its n."""
    rule = FAMILIES[family]
    degrees = np.asarray(n)
    shape = np.broadcast_shapes(x.shape, degrees.shape)
    x, degrees = np.broadcast_to(x, shape), np.broadcast_to(degrees, shape)
    one, zero = np.ones(shape, x.dtype), np.zeros(shape, x.dtype)
    # previous[j], current[j]: the j-th derivatives of P₍ₖ₋₁₎ and Pₖ, j = 0 … order (k = 1 first)
    previous = [one] + [zero] * order
    current = [rule.slope * x + rule.offset, one * rule.slope, *[zero] * order][:order + 1]
    out = np.where(degrees == 0, previous[order], zero)
    np.copyto(out, current[order], where=degrees == 1)
    with np.errstate(over="ignore", invalid="ignore"):  # past the float range: ±inf, then NaN, as PyTorch's
        for k in range(1, int(degrees.max(initial=0))):
            a, b, c, d = rule.coefficients(k)
            line = a * x + b
            following = [line * current[j] + (j * a * current[j - 1] if j else 0) - c * previous[j]
                         for j in range(order + 1)]
            previous, current = current, [part / d for part in following] if d != 1 else following
            np.copyto(out, current[order], where=degrees == k + 1)
    return out


ORTHOGONAL_POLYNOMIAL = elementwise(
    "orthogonal_polynomial",
    "out = Pₙ⁽ᵐ⁾(a), the m-th derivative (m = order; 0: the polynomial) of the family's degree-n polynomial, "
    "by its three-term recurrence",
    "Pₙ⁽ᵐ⁺¹⁾({a})  ({family}: the recurrence differentiated alongside; none for n)",
    polynomial, lambda x, family, n, order: polynomial(x, family, n, order + 1), written="Pₙ⁽ᵐ⁾({a})",
    settings={"family": "chebyshev_polynomial_t", "n": 3, "order": 0},
    tensor_local=lambda a, family, n, order: apply(ORTHOGONAL_POLYNOMIAL, (a,), a.array, family, n, order + 1))


def _degrees(n: Array) -> Array:
    """n as whole numbers, truncated toward 0; a NaN, infinite or out-of-range n is −1 (gives 0, as PyTorch)."""
    if n.dtype.kind != "f":
        return n.astype(np.int64)
    whole = np.isfinite(n) & (np.abs(n) < 2.0**63)
    return np.where(whole, np.trunc(np.where(whole, n, -1)), -1).astype(np.int64)


def _orthogonal_polynomial(family: str) -> Callable[[Any, Any], Tensor]:
    def function(input: Any, n: Any) -> Tensor:
        if not isinstance(input, Tensor) and not isinstance(n, Tensor):
            raise TypeError(f"{family}: input or n must be a tensor, got {type(input).__name__} and "
                            f"{type(n).__name__}; wrap one in gg.tensor(…)")
        degree = as_tensor(n)
        refuse_gradient(family, degree, "n (the degree), as PyTorch has none",
                        "n.detach() (input, x, may require grad)")
        dtype = result_type(input, n)
        if dtype.kind != "f":
            dtype = get_default_dtype()
        if dtype == np.float16:
            raise NotImplementedError(f"{family}: not implemented for float16 (as in PyTorch); use .float()")
        x = input.to(dtype) if isinstance(input, Tensor) else as_tensor(input, dtype=dtype)
        degrees = _degrees(degree.array)
        try:
            np.broadcast_shapes(x.shape, degrees.shape)
        except ValueError:
            raise RuntimeError(f"{family}: input of shape {shape_text(x.shape)} and n of shape "
                               f"{shape_text(degrees.shape)} cannot be broadcast together") from None
        # n as Python numbers: a setting the trace keeps and shows (it takes arrays for inputs)
        if isinstance(n, Tensor):
            note_unreplayable(f"{family} takes its degrees n as Python numbers, which a replay would take as they "
                              "were; pass n as a number")
        return apply(ORTHOGONAL_POLYNOMIAL, (x,), x.array, family, degrees.tolist(), 0)

    function.__name__ = function.__qualname__ = family
    return function


chebyshev_polynomial_t = _orthogonal_polynomial("chebyshev_polynomial_t")
chebyshev_polynomial_t.__doc__ = "``Tₙ(x)``, Chebyshev of the first kind: ``Tₙ(cos θ) = cos nθ``."
chebyshev_polynomial_u = _orthogonal_polynomial("chebyshev_polynomial_u")
chebyshev_polynomial_u.__doc__ = "``Uₙ(x)``, Chebyshev of the second kind: ``Uₙ(cos θ) = sin((n+1)θ)/sin θ``."
chebyshev_polynomial_v = _orthogonal_polynomial("chebyshev_polynomial_v")
chebyshev_polynomial_v.__doc__ = "``Vₙ(x)``, Chebyshev of the third kind: ``Vₙ(cos θ) = cos((n+½)θ)/cos(θ/2)``."
chebyshev_polynomial_w = _orthogonal_polynomial("chebyshev_polynomial_w")
chebyshev_polynomial_w.__doc__ = "``Wₙ(x)``, Chebyshev of the fourth kind: ``Wₙ(cos θ) = sin((n+½)θ)/sin(θ/2)``."
shifted_chebyshev_polynomial_t = _orthogonal_polynomial("shifted_chebyshev_polynomial_t")
shifted_chebyshev_polynomial_t.__doc__ = "``T*ₙ(x) = Tₙ(2x − 1)``, Chebyshev's first kind on [0, 1]."
shifted_chebyshev_polynomial_u = _orthogonal_polynomial("shifted_chebyshev_polynomial_u")
shifted_chebyshev_polynomial_u.__doc__ = "``U*ₙ(x) = Uₙ(2x − 1)``, Chebyshev's second kind on [0, 1]."
shifted_chebyshev_polynomial_v = _orthogonal_polynomial("shifted_chebyshev_polynomial_v")
shifted_chebyshev_polynomial_v.__doc__ = "``V*ₙ(x) = Vₙ(2x − 1)``, Chebyshev's third kind on [0, 1]."
shifted_chebyshev_polynomial_w = _orthogonal_polynomial("shifted_chebyshev_polynomial_w")
shifted_chebyshev_polynomial_w.__doc__ = "``W*ₙ(x) = Wₙ(2x − 1)``, Chebyshev's fourth kind on [0, 1]."
hermite_polynomial_h = _orthogonal_polynomial("hermite_polynomial_h")
hermite_polynomial_h.__doc__ = "``Hₙ(x)``, the physicists' Hermite polynomial (orthogonal under ``e^(−x²)``)."
hermite_polynomial_he = _orthogonal_polynomial("hermite_polynomial_he")
hermite_polynomial_he.__doc__ = "``Heₙ(x)``, the probabilists' Hermite polynomial (orthogonal under ``e^(−x²/2)``)."
laguerre_polynomial_l = _orthogonal_polynomial("laguerre_polynomial_l")
laguerre_polynomial_l.__doc__ = "``Lₙ(x)``, the Laguerre polynomial (orthogonal under ``e^(−x)`` on [0, ∞))."
legendre_polynomial_p = _orthogonal_polynomial("legendre_polynomial_p")
legendre_polynomial_p.__doc__ = "``Pₙ(x)``, the Legendre polynomial (orthogonal on [−1, 1])."
