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
  is refused in one line rather than given a missing gradient.
* ``gradient(f, spacing=…, dim=…, edge_order=1)``: the slope of sampled values along each dim by finite
  differences (second order inside, as ``numpy.gradient``), made of slices, so it is differentiable.
* ``fill(x, value)``: a new tensor of x's shape and dtype holding ``value``; ``frobenius_norm`` and
  ``nuclear_norm`` are ``linalg.vector_norm(x, 2, dim)`` and ``linalg.matrix_norm(x, 'nuc', dim)``.

>>> import glassgrad as gg
>>> gg.inner(gg.tensor([1.0, 2.0]), gg.tensor([3.0, 4.0])).item()
11.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import linalg, ops_special
from .arguments import check_dim, shape_text
from .autograd import is_grad_enabled
from .composed import _check_dims, _plain_tensor, _scaled_sum, dot
from .composed_picks import index_put
from .creation import as_tensor, full_like
from .dtypes import get_default_dtype
from .functions import cat, where
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
    rows = a.reshape(-1, a.shape[-1]) @ b.reshape(-1, b.shape[-1]).mT
    return rows.reshape(tuple(a.shape[:-1]) + tuple(b.shape[:-1]))


@_method
def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """``‖a − b‖ₚ`` over every entry of the broadcast difference (p = 0 counts the entries that differ)."""
    return linalg.vector_norm(as_tensor(input) - as_tensor(other), p)


@_method
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``β·input + α·(vec1 ⊗ vec2)``, the outer product added to a matrix."""
    u, v = as_tensor(vec1), as_tensor(vec2)
    _check_dims("addr", vec1=(u, 1), vec2=(v, 1))
    return _scaled_sum(input, u.unsqueeze(1) * v.unsqueeze(0), beta, alpha)


@_method
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``β·input + α·Σᵦ batch1[b] @ batch2[b]``: a batch of matrix products summed into one matrix."""
    a, b = as_tensor(batch1), as_tensor(batch2)
    _check_dims("addbmm", batch1=(a, 3), batch2=(b, 3))
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"addbmm: batch1 {shape_text(a.shape)} and batch2 {shape_text(b.shape)} must be "
                           "(b, n, m) and (b, m, p)")
    return _scaled_sum(input, (a @ b).sum(0), beta, alpha)


@_method
def frexp(input: Tensor) -> tuple[Tensor, Tensor]:
    """``(mantissa, exponent)`` with ``x = mantissa·2^exponent``, ``½ ≤ |mantissa| < 1`` (0 for 0); the exponent
    is int32, and ``∂mantissa/∂x = 2^(−exponent)``."""
    x = as_tensor(input)
    if x.array.dtype.kind != "f":
        raise RuntimeError(f"frexp: expects a float tensor, got {x.array.dtype.name}; convert with .float()")
    _, exponent = np.frexp(x.array)
    scale = np.ldexp(np.ones_like(x.array), -exponent)  # 2^(−e), exact
    return x * x.new_tensor(scale), _plain_tensor(exponent.astype(np.int32))


@_method
def isposinf(input: Tensor) -> Tensor:
    """Which entries are +inf."""
    return _plain_tensor(np.isposinf(as_tensor(input).array))


@_method
def isneginf(input: Tensor) -> Tensor:
    """Which entries are −inf."""
    return _plain_tensor(np.isneginf(as_tensor(input).array))


def _integers(name: str, function: Any) -> Any:
    def integer_function(input: Tensor, other: Any) -> Tensor:
        a, b = np.asarray(_plain(input)), np.asarray(_plain(other))
        if a.dtype.kind not in "iu" or b.dtype.kind not in "iub":
            raise RuntimeError(f"{name}: works on integer tensors, got {a.dtype.name} and {b.dtype.name}; "
                               "convert with .long()")
        return _plain_tensor(function(a, b.astype(a.dtype, copy=False)))

    integer_function.__name__ = integer_function.__qualname__ = name
    return _method(integer_function)


gcd = _integers("gcd", np.gcd)
gcd.__doc__ = "The greatest common divisor of a and b entry by entry (≥ 0; gcd(0, 0) = 0)."
lcm = _integers("lcm", np.lcm)
lcm.__doc__ = "The least common multiple of a and b entry by entry (≥ 0; 0 if either is 0)."


def _incomplete_gamma(name: str, row: Any) -> Any:
    def incomplete_gamma(input: Tensor, other: Any) -> Tensor:
        s, x = as_tensor(input), as_tensor(other)
        if is_grad_enabled() and s._requires_grad:
            raise NotImplementedError(f"{name}: glassgrad has no gradient with respect to input (the shape s), as "
                                      "PyTorch has none; pass input.detach() (other, x, may require grad)")
        if x.array.dtype.kind != "f":
            x = x.to(s.dtype if s.array.dtype.kind == "f" else get_default_dtype())
        shape = s.array.astype(x.array.dtype)  # a setting of the row (a copy: the row keeps it)
        try:
            np.broadcast_shapes(shape.shape, x.shape)
        except ValueError:
            raise RuntimeError(f"{name}: shapes {shape_text(s.shape)} and {shape_text(x.shape)} cannot be "
                               "broadcast together") from None
        return apply(row, (x,), x.array, shape)

    incomplete_gamma.__name__ = incomplete_gamma.__qualname__ = name
    return _method(incomplete_gamma)


igamma = _incomplete_gamma("igamma", ops_special.IGAMMA)
igamma.__doc__ = "``P(a, x) = γ(a, x)/Γ(a)``, the regularized lower incomplete gamma function (a row)."
igammac = _incomplete_gamma("igammac", ops_special.IGAMMAC)
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
    values = np.where(x.array < 0, np.pi, np.where(np.isnan(x.array), np.nan, 0.0))
    if x.array.dtype.kind != "f":
        return _plain_tensor(values.astype(get_default_dtype()))
    return where(_plain_tensor(np.ones(x.shape, dtype=bool)), x.new_tensor(values), x)  # in the graph, slope 0


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Which entries of ``elements`` appear among ``test_elements`` (``invert=True``: which do not)."""
    return _plain_tensor(np.isin(np.asarray(_plain(elements)), np.asarray(_plain(test_elements)), invert=invert))


def rsub(input: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    """``other − alpha·input``."""
    return other - as_tensor(input) * alpha


@_method
def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy with the entries at the flat positions ``index`` (of the tensor read as one row) set to ``source``
    (``accumulate=True``: added to)."""
    x = as_tensor(input)
    flat = index_put(x.reshape(-1), (as_tensor(index).reshape(-1),), as_tensor(source).reshape(-1), accumulate)
    return flat.reshape(tuple(x.shape))


def unravel_index(indices: Any, shape: Any) -> tuple[Tensor, ...]:
    """The coordinates, one tensor per dim of ``shape``, of each flat position in ``indices``."""
    positions = np.asarray(_plain(indices))
    if positions.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: indices must hold integers, got {positions.dtype.name}")
    size = int(np.prod(shape))
    if np.any((positions < -size) | (positions >= size)):
        raise RuntimeError(f"unravel_index: an index is out of bounds for shape {tuple(shape)} ({size} entries)")
    return tuple(_plain_tensor(c.astype(np.int64)) for c in np.unravel_index(positions % max(size, 1), shape))


def frobenius_norm(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``√(Σ x²)`` over ``dim`` (``linalg.vector_norm(x, 2, dim)``)."""
    return linalg.vector_norm(as_tensor(input), 2, dim, keepdim)


def nuclear_norm(input: Tensor, dim: Any = (-2, -1), keepdim: bool = False) -> Tensor:
    """The sum of the singular values of the matrices in ``dim`` (``linalg.matrix_norm(x, 'nuc', dim)``)."""
    if isinstance(dim, bool):  # nuclear_norm(x, True): keepdim given by position
        dim, keepdim = (-2, -1), dim
    return linalg.matrix_norm(as_tensor(input), "nuc", tuple(dim), keepdim)


def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None, edge_order: int = 1) -> tuple[Tensor, ...]:
    """The slope of the sampled function along each dim, by finite differences: inside,
    ``(h₋²·f₊ − h₊²·f₋ + (h₊² − h₋²)·f)/(h₋·h₊·(h₋ + h₊))`` (``(f₊ − f₋)/2h`` for even spacing), exact for
    parabolas; at the ends one-sided differences of order ``edge_order`` (1 or 2). ``spacing``: one number for
    every dim, one per dim, or each dim's sample coordinates (1-D tensors)."""
    x = as_tensor(input)
    if x.array.dtype.kind != "f":
        x = x.to(get_default_dtype())
    dims = tuple(range(x.ndim)) if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(check_dim(x, d, "gradient") for d in dims)
    steps = list(spacing) if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    if len(steps) != len(dims):
        raise RuntimeError(f"gradient: spacing has {len(steps)} entries but {len(dims)} dims are differentiated; "
                           "give one number, or one spacing per dim")
    if edge_order not in (1, 2):
        raise RuntimeError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    return tuple(_slope(x, d, _coordinates(step, x.shape[d]), edge_order) for d, step in zip(dims, steps))


def _coordinates(step: Any, size: int) -> np.ndarray:
    """Where the samples along a dim sit: ``0, h, 2h, …`` for a number h, or the coordinates given."""
    if isinstance(step, Tensor) or isinstance(step, np.ndarray):
        at = np.asarray(_plain(step), dtype=np.float64)
        if at.shape != (size,):
            raise RuntimeError(f"gradient: coordinates of shape {shape_text(at.shape)} given for a dim of size "
                               f"{size}; give one coordinate per sample")
        return at
    return np.arange(size) * float(step)


def _slope(f: Tensor, dim: int, at: np.ndarray, edge_order: int) -> Tensor:
    size = f.shape[dim]
    if size < edge_order + 1:
        raise RuntimeError(f"gradient: dim {dim} has {size} samples; edge_order={edge_order} needs at least "
                           f"{edge_order + 1}")

    def part(start: int, stop: int | None) -> Tensor:
        return f[(slice(None),) * dim + (slice(start, stop),)]

    def along(values: np.ndarray) -> Tensor:  # coefficients laid along dim, in f's dtype
        return f.new_tensor(np.asarray(values).reshape([-1 if d == dim else 1 for d in range(f.ndim)]))

    left, right = at[1:-1] - at[:-2], at[2:] - at[1:-1]
    inside = (part(2, None) * along(left ** 2) - part(0, -2) * along(right ** 2)
              + part(1, -1) * along(right ** 2 - left ** 2)) / along(left * right * (left + right))
    if edge_order == 1:
        first = (part(1, 2) - part(0, 1)) / float(at[1] - at[0])
        last = (part(size - 1, None) - part(size - 2, size - 1)) / float(at[-1] - at[-2])
    else:
        a, b = at[1] - at[0], at[2] - at[1]
        first = (part(0, 1) * float(-(2 * a + b) / (a * (a + b))) + part(1, 2) * float((a + b) / (a * b))
                 - part(2, 3) * float(a / (b * (a + b))))
        a, b = at[-2] - at[-3], at[-1] - at[-2]
        last = (part(size - 3, size - 2) * float(b / (a * (a + b)))
                - part(size - 2, size - 1) * float((a + b) / (a * b))
                + part(size - 1, None) * float((2 * b + a) / (b * (a + b))))
    return cat([first, inside, last], dim)


def fill(input: Tensor, value: Any) -> Tensor:
    """A new tensor of ``input``'s shape and dtype, every entry ``value``."""
    x = as_tensor(input)
    return full_like(x, _plain(value).item() if isinstance(value, Tensor) else value)
