"""More of PyTorch's number functions, made of other ops or answered as plain tensors.

* ``inner(a, b) = Σₖ a[…, k]·b[…, k]`` (the last dims contracted; a 0-d operand multiplies), ``dist(a, b, p) =
  ‖a − b‖ₚ``, ``addr(M, u, v) = β·M + α·u⊗v``, ``addbmm(M, A, B) = β·M + α·Σᵦ A[b]·B[b]``: their gradients are
  those of the ops they use.
* ``frexp(x) = (m, e)`` with ``x = m·2ᵉ`` and ``½ ≤ |m| < 1`` (m = 0 for x = 0): the mantissa is ``x·2⁻ᵉ``, so
  ``∂m/∂x = 2⁻ᵉ``; the exponent (int32) is a step.
* Steps and integer functions, plain tensors as in PyTorch: ``isposinf``, ``isneginf``, ``gcd``, ``lcm``
  (integers only).
* ``igamma(a, x) = P(a, x) = γ(a, x)/Γ(a)`` and ``igammac(a, x) = Q(a, x) = 1 − P(a, x)``, the regularized
  incomplete gamma functions (rows of :mod:`glassgrad.ops_special`, values from SciPy): ``∂/∂x =
  ±x^(a−1)·e^(−x)/Γ(a)``; there is no gradient for a (PyTorch has none either), so an ``a`` that requires grad
  is refused in one line rather than given a missing gradient (:func:`with_setting`, which ``gg.special.zeta``
  uses too).
* ``fill(x, value)``: a new tensor of x's shape and dtype holding ``value``.

>>> import glassgrad as gg
>>> gg.inner(gg.tensor([1.0, 2.0]), gg.tensor([3.0, 4.0])).item()
11.0
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from . import linalg, ops_special
from .arguments import broadcast_call, common_dtype, promote, shape_text
from .autograd import is_grad_enabled, recorded_call
from .composed import _check_dims, _computed_tensor, _plain_tensor, _scaled_sum, dot
from .composed_math import result_type
from .composed_picks import index_put
from .composed_products import tensordot
from .creation import as_tensor, full_like
from .dtypes import get_default_dtype
from .functions import where
from .tensor import Tensor, apply
from .tensor_methods import _plain, add


def _method(function: Any) -> Any:
    """Make ``function`` a Tensor method too (``x.inner(y)`` as ``gg.inner(x, y)``)."""
    add(function.__name__, function)
    return function


@_method
def inner(input: Tensor, other: Tensor) -> Tensor:
    """``Σₖ a[…, k]·b[…, k]``: the last dims contracted, the other dims of a then of b kept; a 0-d operand
    multiplies the other."""
    a, b = as_tensor(input), as_tensor(other)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"inner: the last dims must match, got shapes {shape_text(a.shape)} and "
                           f"{shape_text(b.shape)}")
    return tensordot(a, b, dims=([-1], [-1]))  # its sizes are written out: a last dim of size 0 sums to 0


@_method
def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """``‖a − b‖ₚ`` over every entry of the broadcast difference (p = 0 counts the entries that differ)."""
    return linalg.vector_norm(as_tensor(input) - as_tensor(other), p)


@_method
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``β·input + α·(vec1 ⊗ vec2)``, the outer product added to a matrix."""
    u, v = as_tensor(vec1), as_tensor(vec2)
    _check_dims("addr", vec1=(u, 1), vec2=(v, 1))
    return _scaled_sum("addr", input, u.unsqueeze(1) * v.unsqueeze(0), beta, alpha)


@_method
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``β·input + α·Σᵦ batch1[b] @ batch2[b]``: a batch of matrix products summed into one matrix."""
    a, b = as_tensor(batch1), as_tensor(batch2)
    _check_dims("addbmm", batch1=(a, 3), batch2=(b, 3))
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"addbmm: batch1 {shape_text(a.shape)} and batch2 {shape_text(b.shape)} must be "
                           "(b, n, m) and (b, m, p)")
    return _scaled_sum("addbmm", input, (a @ b).sum(0), beta, alpha)


@_method
def frexp(input: Tensor) -> tuple[Tensor, Tensor]:
    """``(mantissa, exponent)`` with ``x = mantissa·2^exponent``, ``½ ≤ |mantissa| < 1`` (0 for 0); the exponent
    is int32, and ``∂mantissa/∂x = 2^(−exponent)``."""
    x = as_tensor(input)
    if x.array.dtype.kind != "f":
        raise RuntimeError(f"frexp: expects a float tensor, got {x.array.dtype.name}; convert with .float()")
    scale, rest, exponent = recorded_call(_frexp_parts, x.array)
    return FrexpResult(x * Tensor._wrap(scale) * Tensor._wrap(rest), _plain_tensor(exponent))


FrexpResult = namedtuple("FrexpResult", ["mantissa", "exponent"])
"""``frexp``'s two tensors, by name too (PyTorch's ``torch.return_types.frexp``)."""


def _frexp_parts(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``2^(−e)`` as two factors (exact, in the array's dtype) and ``e`` (int32) of each entry's ``frexp``: one kernel
    of a compiled step. Two, because a subnormal's ``2^(−e)`` overflows (float32's 1e-40 is 0.544·2⁻¹³², and 2¹³² is
    inf in float32: the mantissa was inf); each half of it is finite, and each product exact."""
    _, exponent = np.frexp(array)
    half = -exponent // 2
    ones = np.ones_like(array)
    return np.ldexp(ones, half), np.ldexp(ones, -exponent - half), exponent.astype(np.int32)


@_method
def isposinf(input: Tensor) -> Tensor:
    """Which entries are +inf."""
    return _computed_tensor(np.isposinf, as_tensor(input).array)


@_method
def isneginf(input: Tensor) -> Tensor:
    """Which entries are −inf."""
    return _computed_tensor(np.isneginf, as_tensor(input).array)


def _integers(name: str, function: Any) -> Any:
    def integer_function(input: Tensor, other: Any) -> Tensor:
        a, b = np.asarray(_plain(input)), np.asarray(_plain(other))
        if a.dtype.kind not in "iub" or b.dtype.kind not in "iub" or common_dtype(a, b).kind == "b":
            raise NotImplementedError(f"{name}: works on integer tensors, got {a.dtype.name} and {b.dtype.name}; "
                                      "convert with .long()")  # PyTorch has no such kernel
        # PyTorch's common dtype (uint8 with int8 is int16), and its RuntimeError for shapes that do not broadcast
        return _plain_tensor(broadcast_call(name, function, *promote(a, b)))

    integer_function.__name__ = integer_function.__qualname__ = name
    return _method(integer_function)


gcd = _integers("gcd", np.gcd)
gcd.__doc__ = "The greatest common divisor of a and b entry by entry (≥ 0; gcd(0, 0) = 0)."
lcm = _integers("lcm", np.lcm)
lcm.__doc__ = "The least common multiple of a and b entry by entry (≥ 0; 0 if either is 0)."


def refuse_gradient(name: str, tensor: Any, what: str, instead: str) -> None:
    """One line refusing ``tensor`` if it requires grad where the row gives it none (igamma's shape s, zeta's
    exponent x, an orthogonal polynomial's degree n): never a gradient silently missing."""
    if is_grad_enabled() and isinstance(tensor, Tensor) and tensor._requires_grad:
        raise NotImplementedError(f"{name}: glassgrad has no gradient with respect to {what}; pass {instead}")


def _setting(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``values`` as ``dtype``, a copy (the row keeps it). Run through :func:`~glassgrad.autograd.recorded_call`: a
    copy made in Python was a constant to a compiled step, so a replay kept its captures' ``s``."""
    return values.astype(dtype)


def with_setting(name: str, row: Any, no_gradient: str) -> Any:
    """``name(input, other)``: ``row`` of ``other`` (recorded) with ``input`` its setting, in their result dtype
    (the default float dtype for integers); an ``input`` that requires grad is refused in one line, saying
    ``no_gradient`` (what input is, and why it has no gradient)."""
    def of_setting(input: Any, other: Any) -> Tensor:
        refuse_gradient(name, input, f"input ({no_gradient})", "input.detach() (other may require grad)")
        numbers_or_tensors = [v if isinstance(v, (bool, int, float)) else as_tensor(v) for v in (input, other)]
        dtype = result_type(*numbers_or_tensors)
        s, x = as_tensor(input), as_tensor(other)
        x = x.to(dtype if dtype.kind == "f" else get_default_dtype())
        setting = recorded_call(_setting, s.array, x.array.dtype)  # a kernel: a replay reads each call's setting
        try:
            np.broadcast_shapes(setting.shape, x.shape)
        except ValueError:
            raise RuntimeError(f"{name}: shapes {shape_text(s.shape)} and {shape_text(x.shape)} cannot be "
                               "broadcast together") from None
        return apply(row, (x,), x.array, setting)

    of_setting.__name__ = of_setting.__qualname__ = name
    return of_setting


_NO_SHAPE_GRADIENT = "the shape s, as PyTorch has none"
igamma = _method(with_setting("igamma", ops_special.IGAMMA, _NO_SHAPE_GRADIENT))
igamma.__doc__ = "``P(a, x) = γ(a, x)/Γ(a)``, the regularized lower incomplete gamma function (a row)."
igammac = _method(with_setting("igammac", ops_special.IGAMMAC, _NO_SHAPE_GRADIENT))
igammac.__doc__ = "``Q(a, x) = 1 − P(a, x)``, the regularized upper incomplete gamma function (a row)."


@_method
def vdot(input: Tensor, other: Tensor) -> Tensor:
    """``Σ aᵢ·bᵢ`` of two vectors (``dot``; for real numbers nothing is conjugated)."""
    return dot(input, other)


@_method
def angle(input: Tensor) -> Tensor:
    """The angle of each entry as a complex number: 0 for x ≥ 0, π for x < 0 (NaN stays NaN); a step, so its
    gradient is 0, as in PyTorch."""
    x = as_tensor(input)
    floating = x.array.dtype.kind == "f"
    values = Tensor._wrap(recorded_call(_angles, x.array, x.array.dtype if floating else get_default_dtype()))
    if not floating:  # a kernel of a compiled step, read at each call (worked out in Python, it made the step eager)
        return values
    return where(Tensor._wrap(np.ones(x.shape, dtype=bool)), values, x)  # in the graph, slope 0


def _angles(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """:func:`angle`'s values in ``dtype``: π below 0, NaN at NaN, else 0."""
    return np.where(array < 0, np.pi, np.where(np.isnan(array), np.nan, 0.0)).astype(dtype)


@_method
def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy with the entries at the flat positions ``index`` (of the tensor read as one row) set to ``source``
    (``accumulate=True``: added to). The index must be int64, as PyTorch's: a bool index was taken as a mask."""
    x, index, source = as_tensor(input), as_tensor(index), as_tensor(source)
    if index.array.dtype != np.int64:
        raise RuntimeError(f"put: expected a long (int64) tensor for index, but got {index.array.dtype.name}; "
                           "convert it (index.long())")
    if index.numel() != source.numel():  # one source entry per index, as PyTorch (index_put would broadcast one)
        raise IndexError(f"put: the index has {index.numel()} entries but source has {source.numel()}; give one "
                         "source entry per index")
    flat = index_put(x.reshape(-1), (index.reshape(-1),), source.reshape(-1), accumulate)
    return flat.reshape(tuple(x.shape))


def fill(input: Tensor, value: Any) -> Tensor:
    """A new tensor of ``input``'s shape and dtype, every entry ``value`` (a number or a 0-d tensor).

    Differentiable as PyTorch's: ``∂L/∂value = Σ ∂L/∂out`` (every entry is ``value``) and ``∂L/∂input = 0``
    (zeros, not None: no entry depends on it).
    """
    x = as_tensor(input)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"fill: the value must be a number or a 0-d tensor, got one of shape "
                           f"{shape_text(value.shape)} (pick one entry: value[i], or value.item())")
    learns = x.requires_grad or (isinstance(value, Tensor) and value.requires_grad)
    if learns and is_grad_enabled() and x.is_floating_point():
        nowhere = Tensor._wrap(np.zeros(x.shape, dtype=bool))  # every entry from value: input's slope is 0
        return where(nowhere, x, as_tensor(value).to(x.dtype))
    return full_like(x, value)  # a 0-d tensor's number: its .item(), which a compiled step is told of
