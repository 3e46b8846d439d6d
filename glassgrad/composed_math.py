"""More of PyTorch's elementwise math, made of other ops (no rule of their own), and its dtype rules.

``deg2rad(x) = x·π/180``, ``logaddexp2(a, b) = log₂(2ᵃ + 2ᵇ)`` (``logaddexp`` of ``a·ln 2`` and ``b·ln 2``,
over ``ln 2``), ``float_power(a, b) = aᵇ`` in float64, ``ldexp(x, e) = x·2ᵉ``, ``copysign(a, b) = |a|·(±1)``
with the sign of b, ``fmax``/``fmin`` the larger/smaller where a NaN loses, ``renorm`` each slice scaled down to
a largest p-norm; their gradients are those of the ops they use. ``heaviside``, ``signbit`` and ``nextafter``
are steps (no gradient, as in PyTorch: plain tensors). ``result_type``, ``promote_types`` and ``can_cast`` give
PyTorch's dtype of a mixed operation: floats beat integers beat bools, and within one kind a tensor with dims
decides over a 0-d tensor, which decides over a Python number.

>>> import glassgrad as gg
>>> gg.copysign(gg.tensor([1.0, -2.0]), -1.0).tolist()
[-1.0, -2.0]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import ops_math
from .arguments import broadcast_error, check_dim, is_floating, shape_text
from .autograd import recorded_call
from .composed import _computed_tensor, _plain_tensor, logaddexp
from .creation import as_tensor
from .dtypes import can_cast as can_cast  # the in-place rule, with the other dtype rules here
from .dtypes import get_default_dtype, joined_types
from .dtypes import promote_types as promote_types  # the promotion rules live in dtypes
from .functions import where
from .ops import with_zero_slope
from .tensor import Tensor, _float_data, apply
from .tensor_methods import add, float_operands

LN2 = math.log(2)


def _method(function: Any) -> Any:
    """Make ``function`` a Tensor method too (``x.deg2rad()`` as ``gg.deg2rad(x)``)."""
    add(function.__name__, function)
    return function


def _float(x: Tensor) -> Tensor:
    """``x``, in the default float dtype if it holds integers or bools (PyTorch's dtype for these functions)."""
    return x if is_floating(x.array.dtype) else as_tensor(_float_data(x))


def _pair(input: Any, other: Any, name: str) -> tuple[Tensor, Tensor]:
    """Two operands of the op ``name`` as tensors; a number takes the tensor's dtype (as in ``x + 1.0``). Shapes
    that do not broadcast together are PyTorch's RuntimeError (the NumPy mask of ``fmax`` raised NumPy's
    ValueError)."""
    a = input if isinstance(input, Tensor) else as_tensor(input, dtype=as_tensor(other).dtype)
    b = other if isinstance(other, Tensor) else as_tensor(other, dtype=a.dtype)
    if (error := broadcast_error(name, a.shape, b.shape)) is not None:
        raise error
    return a, b


@_method
def sgn(input: Tensor) -> Tensor:
    """``sign(x)`` (for real numbers PyTorch's ``sgn`` is ``sign``): −1, 0 or 1, derivative 0."""
    return as_tensor(input).sign()


@_method
def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians: ``x·π/180``."""
    return _float(as_tensor(input)) * (math.pi / 180)


@_method
def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees: ``x·180/π``."""
    return _float(as_tensor(input)) * (180 / math.pi)


@_method
def ravel(input: Tensor) -> Tensor:
    """All entries in one dim, in order (``reshape(-1)``)."""
    return as_tensor(input).reshape(-1)


@_method
def heaviside(input: Tensor, values: Any) -> Tensor:
    """The step ``H(x)``: 0 for x < 0, ``values`` at x = 0, 1 for x > 0 (no gradient, as in PyTorch)."""
    x, at_zero = as_tensor(input), as_tensor(values)
    if x.dtype != at_zero.dtype:
        raise RuntimeError(f"heaviside: input ({x.dtype}) and values ({at_zero.dtype}) must have the same dtype; "
                           f"convert values with .to({x.dtype})")
    return Tensor._wrap(recorded_call(_steps, x.array, at_zero.array))  # a kernel of a compiled step: read at each call


def _steps(x: np.ndarray, at_zero: np.ndarray) -> np.ndarray:
    """:func:`heaviside`'s values (worked out in Python outside the kernels, they made a compiled step eager)."""
    try:
        steps = np.where(x == 0, at_zero, (x > 0).astype(x.dtype))
    except ValueError:
        raise RuntimeError(f"heaviside: shapes {shape_text(x.shape)} and {shape_text(at_zero.shape)} cannot be "
                           "broadcast together") from None
    return steps.astype(x.dtype)


@_method
def signbit(input: Tensor) -> Tensor:
    """Which entries have their sign bit set (negative numbers and −0.0)."""
    return _computed_tensor(np.signbit, as_tensor(input).array)


@_method
def nextafter(input: Tensor, other: Any) -> Tensor:
    """The next number after ``input`` toward ``other`` in the dtype's spacing; ``∂/∂input = 1``, ``∂/∂other = 0``
    (zeros, as PyTorch's, when other requires grad: a ``where`` that takes every entry from the result, over zeros
    of slope 0 in b's graph, so ∂/∂other requires no grad, as PyTorch's), PyTorch 2.13's slopes."""
    a, b = float_operands(input, other, "nextafter")
    out = apply(ops_math.NEXTAFTER, (a,), a.array, b.array)
    if b.requires_grad:
        out = where(Tensor._wrap(np.ones(out.shape, dtype=bool)), out, with_zero_slope(b, 0.0))
    return out


@_method
def copysign(input: Tensor, other: Any) -> Tensor:
    """``|a|`` with the sign of ``b`` (its sign bit: −0.0 counts as negative); ``∂/∂a = ±1``, ``∂/∂b = 0``: the
    signs ±1 are a function of ``b`` with slope 0 (:func:`glassgrad.ops.with_zero_slope`), so ∂/∂b is zeros when b
    requires grad, and ∂/∂a stays in b's graph, as PyTorch's (a second derivative to b is 0, not ``None``)."""
    a, b = float_operands(input, other, "copysign")
    return a.abs() * with_zero_slope(b, Tensor._wrap(recorded_call(_signs, b.array, a.array.dtype)))


def _signs(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """−1 where the sign bit is set (−0.0 too), else 1, in ``dtype``: one kernel of a compiled step."""
    return np.where(np.signbit(array), -1.0, 1.0).astype(dtype)


@_method
def logaddexp2(input: Tensor, other: Any) -> Tensor:
    """``log₂(2ᵃ + 2ᵇ)``, without overflow: ``logaddexp(a·ln 2, b·ln 2)/ln 2``."""
    a, b = float_operands(input, other, "logaddexp2")
    return logaddexp(a * LN2, b * LN2) / LN2


@_method
def float_power(input: Any, exponent: Any) -> Tensor:
    """``aᵇ`` computed in float64, whatever the operands' dtypes."""
    a = as_tensor(input).double() if isinstance(input, Tensor) else input
    b = as_tensor(exponent).double() if isinstance(exponent, Tensor) else exponent
    if not isinstance(a, Tensor):
        a = as_tensor(float(a), dtype=np.float64)
    return a ** b


@_method
def ldexp(input: Tensor, other: Any) -> Tensor:
    """``x·2ᵉ``."""
    x, exponent = float_operands(input, other, "ldexp")
    return x * 2 ** exponent


def _first_unless_nan(pick_first: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where ``a`` is picked: ``pick_first(a, b)``, or ``b`` is NaN. A kernel of a compiled step (worked out in Python
    before the op, the step ran eagerly)."""
    with np.errstate(invalid="ignore"):
        return pick_first(a, b) | np.isnan(b)


def _pick_unless_nan(name: str, pick_first: Any) -> Any:
    def function(input: Tensor, other: Any) -> Tensor:
        a, b = _pair(input, other, name)
        return where(_plain_tensor(recorded_call(_first_unless_nan, pick_first, a.array, b.array)), a, b)
    function.__name__ = function.__qualname__ = name
    return _method(function)


fmax = _pick_unless_nan("fmax", np.greater_equal)
fmax.__doc__ = """The larger of a and b entry by entry, where a NaN loses (NaN only if both are); the gradient goes
to the one picked (a on a tie)."""
fmin = _pick_unless_nan("fmin", np.less_equal)
fmin.__doc__ = """The smaller of a and b entry by entry, where a NaN loses (NaN only if both are); the gradient goes
to the one picked (a on a tie)."""


@_method
def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice ``input.select(dim, i)`` whose p-norm ‖s‖ₚ is above ``maxnorm`` scaled to
    ``s·maxnorm/(‖s‖ₚ + 10⁻⁷)``; the others unchanged. The gradient flows through the norm too."""
    x = as_tensor(input)
    if x.ndim < 2:
        raise RuntimeError(f"renorm: needs a tensor of at least 2 dims, got shape {shape_text(x.shape)}")
    if not p > 0:
        raise RuntimeError(f"renorm: p must be > 0, got {p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: maxnorm must be >= 0, got {maxnorm}")
    dim = check_dim(x, dim, "renorm")
    others = tuple(d for d in range(x.ndim) if d != dim)
    too_long = x.detach().norm(p, dim=others, keepdim=True) > maxnorm  # ops: a replay compares at each call
    norms = where(too_long, x, x.new_tensor(1.0)).norm(p, dim=others, keepdim=True)  # a short slice's norm
    return x * where(too_long, maxnorm / (norms + 1e-7), x.new_tensor(1.0))  # (0, say) is not differentiated


# --- dtype rules ----------------------------------------------------------------------------------

def result_type(tensor1: Any, tensor2: Any) -> np.dtype:
    """The dtype of an operation on the two: tensors with dims decide, then 0-d tensors, then Python numbers
    (a float number counts as the default float dtype, an int as int64), each only if of a higher kind. A NumPy
    number counts as the Python number it holds, as in PyTorch."""
    ranked: list[np.dtype | None] = [None, None, None]  # with dims, 0-d, Python numbers
    for value in (tensor1, tensor2):
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, Tensor):
            rank, dtype = (1 if value.ndim == 0 else 0), value.array.dtype
        elif isinstance(value, (bool, int, float)):
            rank = 2
            dtype = np.dtype(bool) if isinstance(value, bool) else (
                np.dtype(np.int64) if isinstance(value, int) else get_default_dtype())
        else:
            raise TypeError(f"result_type: expects tensors or Python numbers, got {type(value).__name__}")
        ranked[rank] = dtype if ranked[rank] is None else promote_types(ranked[rank], dtype)
    return joined_types(joined_types(ranked[0], ranked[1]), ranked[2])

