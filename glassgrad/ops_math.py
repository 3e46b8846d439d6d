"""Rows of the rule table for the elementwise math functions: trig, hyperbolic, logs, rounding, ``lerp``,
and division with a remainder (``%``, ``//``, ``fmod``).

Each row is declared like the ones in :mod:`glassgrad.ops` and registered in the same table
(:data:`glassgrad.ops.RULES`): the value and the local derivative ``∂out/∂a`` side by side.

Kinks and domains, as in PyTorch:

* ``floor``, ``ceil``, ``trunc``, ``round`` and ``sign`` are steps: their derivative is 0
  everywhere (at a jump it does not exist; PyTorch and glassgrad use 0 there too), so they stop
  gradients. On an integer tensor the four roundings return the integers unchanged.
* ``round`` rounds halves to the even neighbour (``round(2.5) = 2``), as PyTorch does.
* ``a % b`` (``remainder``) has the sign of ``b``, as Python's ``%``: ``a − b·⌊a/b⌋``; ``fmod`` has
  the sign of ``a``: ``a − b·trunc(a/b)``. Their slopes are ``∂/∂a = 1`` and ``∂/∂b = −⌊a/b⌋``
  (``−trunc(a/b)``), remainder's with ``⌊a/b⌋`` as ``a // b`` computes it, the quotient its value was taken
  with (``1 // 0.1`` is 9: ``1 % 0.1 = 1 − 9·0.1``, though ``1/0.1`` rounds to 10.0), as PyTorch's.
  ``a // b`` (``floor_divide``) is ``⌊a/b⌋``, a step: slope 0, as ``floor`` (PyTorch refuses to differentiate it).
* ``asin``, ``acos`` (|a| ≤ 1), ``atanh`` (|a| < 1), ``acosh`` (a ≥ 1), the logs (a > 0,
  ``log1p``: a > −1) and ``rsqrt`` (a > 0) give NaN or ±inf outside their domains, and so
  does their derivative at the edge (``asin'(±1) = inf``).

>>> import numpy as np
>>> from glassgrad.ops import RULES
>>> RULES["asin"].local((np.array([0.6]),), None, ())[0].round(4).tolist()
[1.25]
"""

from __future__ import annotations

import math

import numpy as np

from .float_errors import quiet
from .ops import OUT, STEP, Op, _plus_zero_where, elementwise, entry_by_entry, register, row_major, with_zero_slope

LN10, LN2 = math.log(10), math.log(2)

# local derivatives written once for NumPy arrays and tensors alike: each is also the row's tensor_local
# (create_graph=True records it); x ** 0.5 is NumPy's sqrt, and a tensor's pow_scalar row
def _one_plus_square(out):
    return 1 + out * out

def _asin_local(a):
    return 1 / (1 - a * a) ** 0.5

def _acos_local(a):
    return -1 / (1 - a * a) ** 0.5

def _atan_local(a):
    return 1 / (1 + a * a)

def _asinh_local(a):
    return 1 / (a * a + 1) ** 0.5

def _acosh_local(a):
    return 1 / (a * a - 1) ** 0.5

def _atanh_local(a):
    return 1 / (1 - a * a)

def _log10_divisor(a):
    return a * LN10

def _log2_divisor(a):
    return a * LN2

def _log1p_divisor(a):
    return 1 + a

def _expm1_local(out):
    return out + 1

def _rsqrt_local(out):
    return -0.5 * out * out * out

def _square_local(a):
    return 2 * a

def _reciprocal_local(out):
    return -out * out


TAN = elementwise("tan", "out = tan a", "1 + tan²({a}) = 1 + {out}²", np.tan, _one_plus_square,
                  reads="output", written="tan({a})", tensor_local=_one_plus_square, numpy_warns=True)
ASIN = elementwise("asin", "out = arcsin a", "1/√(1 − {a}²)", np.arcsin, _asin_local, written="arcsin({a})",
                   tensor_local=_asin_local, numpy_warns=True)
ACOS = elementwise("acos", "out = arccos a", "−1/√(1 − {a}²)", np.arccos, _acos_local, written="arccos({a})",
                   tensor_local=_acos_local, numpy_warns=True)
ATAN = elementwise("atan", "out = arctan a", "1/(1 + {a}²)", np.arctan, _atan_local, written="arctan({a})",
                   tensor_local=_atan_local)
SINH = elementwise("sinh", "out = sinh a", "cosh {a}", np.sinh, np.cosh, written="sinh({a})",
                   tensor_local=lambda a: a.cosh())
COSH = elementwise("cosh", "out = cosh a", "sinh {a}", np.cosh, np.sinh, written="cosh({a})",
                   tensor_local=lambda a: a.sinh())
ASINH = elementwise("asinh", "out = arsinh a", "1/√({a}² + 1)", np.arcsinh, _asinh_local, written="arsinh({a})",
                    tensor_local=_asinh_local)
ACOSH = elementwise("acosh", "out = arcosh a", "1/√({a}² − 1)", np.arccosh, _acosh_local, written="arcosh({a})",
                    tensor_local=_acosh_local, numpy_warns=True)
ATANH = elementwise("atanh", "out = artanh a", "1/(1 − {a}²)", np.arctanh, _atanh_local, written="artanh({a})",
                    tensor_local=_atanh_local, numpy_warns=True)

LOG10 = elementwise("log10", "out = log₁₀ a", "1/({a}·ln 10)", np.log10, None, written="log₁₀({a})",
                    divisor=_log10_divisor, numpy_warns=True)
LOG2 = elementwise("log2", "out = log₂ a", "1/({a}·ln 2)", np.log2, None, written="log₂({a})",
                   divisor=_log2_divisor, numpy_warns=True)
# log1p and expm1 are rows, not log(1 + a) and exp(a) − 1: near a = 0 those lose every digit of a
LOG1P = elementwise("log1p", "out = ln(1 + a)", "1/(1 + {a})", np.log1p, None, written="ln(1 + {a})",
                    divisor=_log1p_divisor, numpy_warns=True)
EXPM1 = elementwise("expm1", "out = eᵃ − 1", "eᵃ = {out} + 1", np.expm1, _expm1_local, reads="output",
                    written="(e^{a} − 1)", tensor_local=_expm1_local, numpy_warns=True)


def _logit(p, eps):
    """``ln(p/(1 − p))``; with ``eps``, p below ε is ε and above 1 − ε is 1 − ε, in that order, as PyTorch's
    kernel: with ε > ½ (bounds crossed) p = 0.3 becomes ε, where ``np.clip`` gave 1 − ε (the logit's sign flipped)."""
    if eps is not None:
        p = np.where(p < eps, eps, np.where(p > 1 - eps, 1 - eps, p)).astype(p.dtype, copy=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(p / (1 - p))

def _logit_clamped(p, eps):
    """Where the clamp to ``[eps, 1 − eps]`` held p (nowhere without ``eps``; its bounds pass): there logit is flat,
    its slope +0 for any upstream, ∞ and NaN too, as PyTorch's mask."""
    if eps is None:
        return np.zeros(p.shape, dtype=bool)
    return (p < eps) | (p > 1 - eps)

def _logit_local(p, eps):
    """``1/(p(1 − p))``: ∞ at 0 and 1, NaN outside [0, 1]; with ``eps``, 0 where the clamp held p, as PyTorch."""
    with np.errstate(divide="ignore"):
        slope = np.reciprocal(np.abs(p * (1 - p)))  # |·|: +∞ at −0 too; outside [0, 1] it is replaced
    if eps is None:
        return np.where((p < 0) | (p > 1), np.nan, slope).astype(p.dtype, copy=False)
    return np.where(_logit_clamped(p, eps), 0, slope).astype(p.dtype, copy=False)

def _logit_tensor_local(p, eps):
    """:func:`_logit_local` on tensors; with ``eps`` the clamped entries are the row's flat ones, which the recorded
    backward fills with 0."""
    slope = (p * (1 - p)).abs().reciprocal()
    return slope if eps is not None else slope.masked_fill(((p < 0) | (p > 1)).detach(), math.nan)

def _entr(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -x * np.log(x)
    return np.where(x == 0, 0, np.where(x < 0, -np.inf, out)).astype(x.dtype, copy=False)  # NaN stays NaN

def _entr_local(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -(np.log(x) + 1)

# entr is a row: −xlogy(x, x) had slope 0 at x = 0, where the one-sided slope −(ln x + 1) is +∞ (PyTorch's)
ENTR = elementwise("entr", "out = −a·ln a (0 at a = 0, −∞ below)",
                   "−(ln {a} + 1)  (+∞ at 0, NaN below 0)", _entr, _entr_local, written="entr({a})",
                   tensor_local=lambda a: -(a.log() + 1))

# logit is a row, not ln(p/(1 − p)): at p = 0 and 1 that chain gave NaN (∞·0) where the slope is ∞
LOGIT = elementwise("logit", "out = ln(p/(1 − p)), p clamped to [ε, 1 − ε] if ε is given",
                    "1/({a}(1 − {a}))  (0 where ε clamped {a}; NaN outside [0, 1])", _logit, _logit_local,
                    written="logit({a})", settings={"eps": None}, tensor_local=_logit_tensor_local,
                    flat=_logit_clamped)
# erfc and exp2 are rows too: 1 − erf(a) loses every digit of erfc(a) ≈ 0 (erfc(10) ≈ 2·10⁻⁴⁵ came out 0), and
# e^(a·ln 2) misses 2ᵃ by up to |a|·ulp where np.exp2 is exact at whole a
_erfc_float64 = entry_by_entry(math.erfc)


def _erfc(a):
    return _erfc_float64(a).astype(a.dtype, copy=False)


_MINUS_TWO_OVER_ROOT_PI = -2 / math.sqrt(math.pi)


def _erfc_local(a):
    return _MINUS_TWO_OVER_ROOT_PI * np.exp(-(a * a))


def _exp2_local(out):
    return LN2 * out


ERFC = elementwise("erfc", "out = erfc(a) = 1 − erf(a) = (2/√π) ∫ₐ^∞ e^(−t²) dt", "−(2/√π)·e^(−{a}²)", _erfc,
                   _erfc_local, written="erfc({a})", tensor_local=lambda a: _MINUS_TWO_OVER_ROOT_PI * (-(a * a)).exp())
EXP2 = elementwise("exp2", "out = 2ᵃ", "ln 2 · 2^{a} = ln 2 · {out}", np.exp2, _exp2_local, reads="output",
                   written="2^{a}", tensor_local=_exp2_local, numpy_warns=True)
RSQRT = elementwise("rsqrt", "out = 1/√a", "−1/(2·{a}^(3/2)) = −{out}³/2", lambda a: 1 / np.sqrt(a),
                    _rsqrt_local, reads="output", written="1/√{a}", tensor_local=_rsqrt_local, numpy_warns=True)
def _square(a):
    """``a²``; bools as int64, as in PyTorch (NumPy squares them to int8)."""
    return np.square(a.astype(np.int64) if a.dtype == np.bool_ else a)

SQUARE = elementwise("square", "out = a²", "2{a}", _square, _square_local, written="{a}²",
                     tensor_local=_square_local)
RECIPROCAL = elementwise("reciprocal", "out = 1/a", "−1/{a}² = −{out}²", np.reciprocal, _reciprocal_local,
                         reads="output", written="1/{a}", tensor_local=_reciprocal_local, numpy_warns=True)

def _step(function):
    """A rounding of floats; integers are already whole, so they come back unchanged (a copy)."""
    return lambda a, *settings: function(a, *settings) if a.dtype.kind == "f" else a.copy()


def _no_slope(a, *settings):
    return np.zeros_like(a)

def _no_slope_tensor(a, *settings):
    return STEP  # the recorded gradient: zeros, as PyTorch's zeros_like(grad)


def _flat_everywhere(a, *settings):
    """A step function is flat wherever it has a slope: its gradient is +0.0 whatever the upstream, as PyTorch's
    (``up · 0`` would be −0.0 under a negative upstream and NaN under an infinite one)."""
    return np.ones(a.shape, dtype=bool)


# the steps are rows so that a trace shows their derivative (0) instead of a silent gap in the graph
FLOOR = elementwise("floor", "out = ⌊a⌋", "0  (a step function: flat, or a jump)", _step(np.floor), _no_slope,
                    written="⌊{a}⌋", saves=((),), tensor_local=_no_slope_tensor, flat=_flat_everywhere)
CEIL = elementwise("ceil", "out = ⌈a⌉", "0  (a step function: flat, or a jump)", _step(np.ceil), _no_slope,
                   written="⌈{a}⌉", saves=((),), tensor_local=_no_slope_tensor, flat=_flat_everywhere)
TRUNC = elementwise("trunc", "out = a rounded toward 0", "0  (a step function: flat, or a jump)", _step(np.trunc),
                    _no_slope, written="trunc({a})", saves=((),), tensor_local=_no_slope_tensor,
                    flat=_flat_everywhere)
def _round(a, decimals=0):
    """``a`` rounded to ``decimals`` places, halves to even; float16 by way of float32, as PyTorch's CPU computes it
    (in float16, −3.5254 · 100 rounds to −352.5 on the way, and round(−3.5254, 2) gave −3.52, not −3.53)."""
    if a.dtype == np.float16:
        return np.round(a.astype(np.float32), decimals).astype(np.float16)
    return np.round(a, decimals)


ROUND = elementwise("round", "out = a rounded to the nearest (halves to even)",
                    "0  (a step function: flat, or a jump)", _step(_round), _no_slope, written="round({a})",
                    settings={"decimals": 0}, saves=((),), tensor_local=_no_slope_tensor, flat=_flat_everywhere)
def _moved(a, toward):
    """Where ``nextafter`` moves: 1, as PyTorch's slope; 0 where a already is b (it stays)."""
    return (a != toward).astype(a.dtype)

NEXTAFTER = elementwise("nextafter", "out = the next number after a toward b in a's dtype",
                        "1 where {a} ≠ b, else 0  (PyTorch's slope)", np.nextafter, _moved,
                        written="nextafter({a}, {toward})", settings={"toward": 0.0}, saves=((0,),),
                        tensor_local=lambda kept, toward: kept != toward, flat=lambda a, toward: a == toward)


def _sign(a):
    """−1, 0 or 1 by the sign of a; a bool is its own sign (True is 1), as in PyTorch (NumPy has no bool sign)."""
    return a.copy() if a.dtype == np.bool_ else np.sign(a)

SIGN = elementwise("sign", "out = sign a  (−1, 0 or 1)", "0  (flat on each side, a jump at 0)", _sign, _no_slope,
                   written="sign({a})", saves=((),), tensor_local=_no_slope_tensor, flat=_flat_everywhere)


def _atan2(a, b):
    return np.arctan2(a, b), (a, b)

def _atan2_slopes(a, b):
    """``(∂out/∂a, ∂out/∂b) = (b, −a)/(a² + b²)``; both 0 where ``1/(a² + b²)`` is ∞ (the origin, where the
    angle has no slope to choose), as PyTorch."""
    with np.errstate(divide="ignore"):
        inverse = np.reciprocal(a * a + b * b)
    inverse = np.where(inverse == np.inf, 0, inverse).astype(inverse.dtype, copy=False)
    return b * inverse, -a * inverse

def _atan2_back(up, saved):
    return tuple(up * slope for slope in _atan2_slopes(*saved))

def _atan2_local(inputs, out, settings):
    return [np.broadcast_to(slope, out.shape) for slope in _atan2_slopes(*inputs)]

def _atan2_vjp(up, inputs, out, saved):
    a, b = inputs
    inverse = (a * a + b * b).reciprocal()
    inverse = inverse.masked_fill(inverse.detach() == np.inf, 0.0)  # the origin, as _atan2_slopes
    return up * b * inverse, -up * a * inverse

ATAN2 = register(Op(
    "atan2", "out = atan2(a, b)  (the angle of the point (b, a))",
    ("{b}/({a}² + {b}²)  (0 at the origin)", "−{a}/({a}² + {b}²)  (0 at the origin)"),
    _atan2, _atan2_back, roles=("a", "b"), written="atan2({a}, {b})", local=_atan2_local, saves=((0, 1), (0, 1)),
    vjp_tensors=_atan2_vjp,
))


def _hypot(a, b):
    with np.errstate(over="ignore"):  # NumPy scales: only a true result past the dtype's range is inf, silently
        out = np.hypot(a, b)
    return out, (a, b, out)

def _hypot_back(up, saved):
    """``∂L/∂a = ∂L/∂out·a/out``, ``∂L/∂b = ∂L/∂out·b/out``: NaN at the origin (0/0), as PyTorch."""
    a, b, out = saved
    with np.errstate(invalid="ignore", divide="ignore"):
        return up * a / out, up * b / out

def _hypot_local(inputs, out, settings):
    a, b = inputs
    with np.errstate(invalid="ignore", divide="ignore"):
        return [np.broadcast_to(a / out, out.shape), np.broadcast_to(b / out, out.shape)]

def _hypot_vjp(up, inputs, out, saved):
    a, b = inputs
    return up * a / out, up * b / out

HYPOT = register(Op(
    "hypot", "out = √(a² + b²)  (the length of the point (a, b))", ("{a}/out", "{b}/out"),
    _hypot, _hypot_back, roles=("a", "b"), written="√({a}² + {b}²)", local=_hypot_local,
    saves=((0, 1, OUT), (0, 1, OUT)), vjp_tensors=_hypot_vjp,
))

def _lerp(a, b, weight):
    """``a + w·(b − a)`` for ``|w| < 0.5`` and ``b − (b − a)·(1 − w)`` otherwise, PyTorch's two forms: the same
    number, rounded from the nearer end, so ``w = 1`` gives ``b`` exactly. With an infinite end (and no NaN) both
    forms can give ``∞ − ∞ = NaN`` (PyTorch: ``lerp(2, inf, 0.75)`` and ``lerp(-inf, 2, 0.25)``); there the value
    is ``(1 − w)·a + w·b``, its limit, taking the end alone whose weight is 0 (``lerp(2, inf, 0) = 2``)."""
    with np.errstate(invalid="ignore"):  # ∞ − ∞ in the forms, replaced below
        out = np.where(np.abs(weight) < 0.5, a + weight * (b - a), b - (b - a) * (1 - weight))
        infinite_end = (np.isinf(a) | np.isinf(b)) & ~np.isnan(a) & ~np.isnan(b)
        if infinite_end.any():
            ends = np.where(weight == 0, a, np.where(weight == 1, b, (1 - weight) * a + weight * b))
            out = np.where(infinite_end, ends, out)
    return out, (a, b, weight)

def _lerp_slopes(a, b, weight):
    """``∂out/∂(a, b, w) = (1 − w, w, b − a)``, for NumPy arrays and tensors alike."""
    return 1 - weight, weight, b - a

def _lerp_back(up, saved):
    return tuple(up * slope for slope in _lerp_slopes(*saved))

def _lerp_local(inputs, out, settings):
    return [np.broadcast_to(slope, out.shape) for slope in _lerp_slopes(*inputs)]

LERP = register(Op(
    "lerp", "out = a + w·(b − a)", ("1 − {w}", "{w}", "{b} − {a}"),
    _lerp, _lerp_back, roles=("a", "b", "w"), written="lerp({a}, {b}, {w})", local=_lerp_local,
    saves=((2,), (2,), (0, 1)), vjp_tensors=lambda up, inputs, out, saved: _lerp_back(up, inputs),
))


def _masked_fill(a, mask, value):
    filled = row_major(np.where(mask, np.asarray(value, dtype=a.dtype), a))
    return filled, np.array(mask, dtype=bool)  # the mask's copy: it may change

def _masked_fill_back(up, mask):
    return (_plus_zero_where(mask, up, up.dtype),)

MASKED_FILL = register(Op(  # a fused where(): one step in a trace, and the mask kept as a setting
    "masked_fill", "out = value where mask, else a", ("1 where the mask is False, else 0 (overwritten)",),
    _masked_fill, _masked_fill_back, written="masked_fill({a})", settings=("mask", "value"), defaults=(False, 0.0),
    local=lambda i, out, s: [np.broadcast_to(np.where(s[0], 0, 1), out.shape).astype(out.dtype)], saves=((),),
    vjp_tensors=lambda up, inputs, out, mask: (up.masked_fill(mask, 0.0),),
))



# --- division with a remainder: a % b, fmod, a // b ------------------------------------------------

def _quotient(whole_bs):
    """``a − b·q`` with ``q = whole_bs(a, b)`` (what is left after taking q whole b's away): ``∂/∂b = −q``."""
    def whole_bs_quietly(a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return whole_bs(a, b)

    def slopes(a, b):
        return np.ones_like(a), -whole_bs_quietly(a, b)

    def back(up, saved):
        return tuple(up * slope for slope in slopes(*saved))

    def local(inputs, out, settings):
        return [np.broadcast_to(slope, out.shape) for slope in slopes(*inputs)]

    def vjp(up, inputs, out, saved):
        """``(up, −up·q)``, q in the graph of a and b with slope 0, as PyTorch's ``a.div(b, rounding_mode=…)``: a
        second derivative through ∂/∂b is 0 for both, not refused."""
        a, b = inputs
        return up, -up * with_zero_slope(a, with_zero_slope(b, up.new_tensor(whole_bs_quietly(*saved))))

    return back, local, vjp


_remainder_back, _remainder_local, _remainder_vjp = _quotient(np.floor_divide)  # np.remainder's own quotient
_fmod_back, _fmod_local, _fmod_vjp = _quotient(lambda a, b: np.trunc(a / b))

REMAINDER = register(Op(
    "remainder", "out = a mod b = a − b·⌊a/b⌋  (the sign of b)", ("1", "−⌊{a}/{b}⌋"),
    quiet(lambda a, b: (np.remainder(a, b), (a, b))), _remainder_back, roles=("a", "b"), written="{a} mod {b}",
    local=_remainder_local, saves=((), (0, 1)), vjp_tensors=_remainder_vjp,
))
FMOD = register(Op(
    "fmod", "out = a − b·trunc(a/b)  (the sign of a)", ("1", "−trunc({a}/{b})"),
    quiet(lambda a, b: (np.fmod(a, b), (a, b))), _fmod_back, roles=("a", "b"), written="fmod({a}, {b})",
    local=_fmod_local, saves=((), (0, 1)), vjp_tensors=_fmod_vjp,
))
FLOOR_DIVIDE = register(Op(
    "floor_divide", "out = ⌊a/b⌋", ("0  (a step function: flat, or a jump)", "0  (a step function: flat, or a jump)"),
    quiet(lambda a, b: (np.floor_divide(a, b), None)), lambda up, saved: (np.zeros_like(up), np.zeros_like(up)),
    roles=("a", "b"), written="⌊{a}/{b}⌋", saves=((), ()),
    local=lambda inputs, out, settings: [np.zeros(out.shape, out.dtype)] * 2,
    vjp_tensors=lambda up, inputs, out, saved: (up.new_zeros(tuple(up.shape)),) * 2,  # as floor's (STEP)
))
