"""PyTorch functions made of other ops: no rule of their own, so a trace shows the ops they are made of.

``gg.outer(a, b)`` is ``a[:, None] * b[None, :]``, ``gg.addmm(c, a, b)`` is ``c + a @ b``,
``gg.logaddexp(a, b)`` is ``max(a, b) + log1p(e^(−|a − b|))``; their gradients are
those of the rows they use, so nothing here can disagree with a rule. The tests (no gradient: masks,
counts, index lists) answer with plain tensors, as PyTorch does. Each function is also a ``Tensor``
method where PyTorch has one.

>>> import glassgrad as gg
>>> gg.outer(gg.tensor([1.0, 2.0]), gg.tensor([3.0, 4.0, 5.0])).tolist()
[[3.0, 4.0, 5.0], [6.0, 8.0, 10.0]]
>>> gg.isnan(gg.tensor([1.0, float("nan")])).tolist()
[False, True]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import linalg, ops_math, return_types
from .arguments import (
    broadcast_call,
    broadcastable,
    broadcasts_to,
    check_dim,
    common_dtype,
    int_argument,
    promote,
    resolve_dtype,
    shape_text,
    written_number,
)
from .autograd import SIZED_BY_VALUES, note_computed, note_read, note_unreplayable, recorded_call
from .creation import as_tensor
from .functions import cat, where
from .number_first import number_first
from .ops import row_major, with_zero_slope
from .settings import warn_once
from .tensor import Tensor, _axis_arg, variance_arguments
from .tensor_indexing import _check_index_range, _index_array
from .tensor_methods import _broadcasting, _plain, add, float_operands


def _method(function: Any) -> Any:
    """Make ``function`` a Tensor method too (``x.outer(y)`` as ``gg.outer(x, y)``)."""
    add(function.__name__, function)
    return function


def _computed_tensor(function: Any, *arrays: np.ndarray) -> Tensor:
    """``function(*arrays)`` (a NumPy function of tensors' arrays) as a tensor no gradient flows through, worked
    out as one kernel of a compiled step (:func:`~glassgrad.autograd.recorded_call`), so a replay works it out
    again at each call (made in Python, as :func:`_plain_tensor` makes one, the step ran eagerly)."""
    return Tensor._wrap(recorded_call(_array_of, function, *arrays))


def _array_of(function: Any, *arrays: np.ndarray) -> np.ndarray:
    return np.asarray(function(*arrays))  # a NumPy number (of a 0-d array) as a 0-d array


def _plain_tensor(values: Any) -> Tensor:
    """``values`` worked out in Python from tensors, as a tensor no gradient flows through. A compiled step's
    capture is told (:func:`glassgrad.autograd.note_computed`): a replay would keep them as they were, unless a
    recorded kernel made them (:func:`glassgrad.autograd.recorded_call`), which runs again at each call."""
    return Tensor._wrap(note_computed(np.asarray(values)))


# --- tests of each entry: plain bool tensors ---------------------------------------------------------


def _array_kernel(function: np.ufunc) -> Any:
    """``function`` as a kernel of a compiled step that gives an array for 0-d operands too (NumPy gives a scalar
    there, which is no kernel's result, so the capture refused the kernel that read it next), named as it is."""

    def kernel(*arrays: Any) -> np.ndarray:
        return np.asarray(function(*arrays))

    kernel.__name__ = kernel.__qualname__ = function.__name__
    return kernel


_ISNAN, _ISINF, _ISFINITE, _LOGICAL_NOT = (_array_kernel(test) for test in (np.isnan, np.isinf, np.isfinite,
                                                                            np.logical_not))

@_method
def isnan(input: Tensor) -> Tensor:
    """Which entries are NaN."""
    return _plain_tensor(recorded_call(_ISNAN, as_tensor(input).array))


@_method
def isinf(input: Tensor) -> Tensor:
    """Which entries are +inf or −inf."""
    return _plain_tensor(recorded_call(_ISINF, as_tensor(input).array))


@_method
def isfinite(input: Tensor) -> Tensor:
    """Which entries are neither NaN nor ±inf."""
    return _plain_tensor(recorded_call(_ISFINITE, as_tensor(input).array))


def _logical(function: Any, name: str) -> Any:
    kernel = _array_kernel(function)

    def logical(input: Tensor, other: Any) -> Tensor:
        a, b = np.asarray(_plain(input)), np.asarray(_plain(other))
        return _plain_tensor(broadcast_call(name, lambda a, b: recorded_call(kernel, a, b), a, b))

    logical.__name__ = logical.__qualname__ = name
    logical.__doc__ = f"``{name}``: entry by entry, non-zero counting as True (a bool tensor)."
    return _method(logical)


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")


@_method
def logical_not(input: Tensor) -> Tensor:
    """True where the entry is 0 (a bool tensor)."""
    return _plain_tensor(recorded_call(_LOGICAL_NOT, as_tensor(input).array))


@_method
def equal(input: Tensor, other: Tensor) -> bool:
    """True when both have the same shape and the same entries (a Python bool), compared in the two's common
    dtype as PyTorch compares them: int32 2³¹ − 1 equals its float32 copy 2³¹."""
    a, b = np.asarray(_plain(input)), np.asarray(_plain(other))
    note_read("equal(a, b)")  # a Python bool: a compiled step's replay would keep the captures' answer
    return a.shape == b.shape and bool(np.array_equal(*promote(a, b)))


@_method
def count_nonzero(input: Tensor, dim: Any = None, *more: int) -> Tensor:
    """How many entries are not 0, over ``dim`` (every dim by default, and for ``dim=()``, as PyTorch's sum); a
    0-d tensor's dim 0 (or -1) is its one entry. The dims may come one by one, ``x.count_nonzero(0, 1)``, as
    PyTorch's method takes them."""
    x = as_tensor(input)
    dim = (dim, *more) if more else dim
    axis = _axis_arg(x, dim, None, "count_nonzero", every_if_empty=True)
    if axis is not None and len(set(np.atleast_1d(axis))) != np.size(axis):
        raise RuntimeError(f"count_nonzero: dims {tuple(np.atleast_1d(dim).tolist())} name a dim twice")
    return _plain_tensor(recorded_call(_count_nonzero, x.array, axis))


def _count_nonzero(array: np.ndarray, axis: Any) -> np.ndarray:
    """``count_nonzero``'s counts, int64 (a 0-d array counts as its one entry): one kernel of a compiled step."""
    return row_major(np.count_nonzero(array if array.ndim else array.reshape(1), axis=axis).astype(np.int64))


# --- clamps, NaN and inf replaced -----------------------------------------------------------------

@_method
def clamp_min(input: Tensor, min: Any) -> Tensor:
    """``max(x, min)``: ``clamp(min=min)``."""
    return as_tensor(input).clamp(min=min)


@_method
def clamp_max(input: Tensor, max: Any) -> Tensor:
    """``min(x, max)``: ``clamp(max=max)``."""
    return as_tensor(input).clamp(max=max)


@_method
def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN, +inf and −inf replaced (by 0 and the dtype's largest and smallest number by default); the gradient
    passes only where the entry was finite."""
    x = as_tensor(input)
    if x.array.dtype.kind not in "fc":
        return x.clone()
    info = np.finfo(x.array.dtype)
    values = x.array
    largest, smallest = info.max if posinf is None else posinf, info.min if neginf is None else neginf
    # kernels of a compiled step (worked out in Python, they ran it eagerly: a replay would keep them)
    filled = recorded_call(_non_finite_filled, values, nan, largest, smallest)
    return where(_plain_tensor(recorded_call(np.isfinite, values)), x, _plain_tensor(filled))


def _non_finite_filled(values: np.ndarray, nan: float, largest: float, smallest: float) -> np.ndarray:
    """What ``nan_to_num`` puts at each entry that is not finite (``nan``, ``largest`` or ``smallest``)."""
    return np.where(np.isnan(values), nan, np.where(values > 0, largest, smallest)).astype(values.dtype)


# --- products of vectors and matrices -------------------------------------------------------------

def _check_dims(name: str, **tensors: tuple[Tensor, int]) -> None:
    for role, (tensor, dims) in tensors.items():
        if tensor.ndim != dims:
            raise RuntimeError(f"{name}: {role} must be {dims}-D, got shape {shape_text(tensor.shape)}")


@_method
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """``out[i, j] = a[i]·b[j]`` of two vectors."""
    a, b = as_tensor(input), as_tensor(vec2)
    _check_dims("outer", input=(a, 1), vec2=(b, 1))
    return a.unsqueeze(1) * b.unsqueeze(0)


ger = outer
add("ger", outer)


@_method
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """``Σ aᵢ·bᵢ`` of two vectors of one length."""
    a, b = as_tensor(input), as_tensor(tensor)
    _check_dims("dot", input=(a, 1), tensor=(b, 1))
    if a.shape != b.shape:
        raise RuntimeError(f"dot: the vectors have lengths {a.shape[0]} and {b.shape[0]}; they must be equal")
    return a @ b


@_method
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """A matrix times a vector: ``out[i] = Σⱼ M[i, j]·v[j]``."""
    m, v = as_tensor(input), as_tensor(vec)
    _check_dims("mv", input=(m, 2), vec=(v, 1))
    return m @ v


def _scaled_sum(name: str, input: Any, product: Tensor, beta: Any, alpha: Any) -> Tensor:
    """``beta·input + alpha·product``, of the product's shape: the input broadcasts to it (PyTorch expands the
    input, so one of more dims or larger sizes is refused, not broadcast to a larger result). With ``beta = 0`` the
    input's values are left out (its NaNs and infinities too) and its gradient is 0, as in PyTorch (not None)."""
    x = as_tensor(input)
    if not broadcasts_to(tuple(x.shape), tuple(product.shape)):
        raise RuntimeError(f"{name}: input of shape {shape_text(x.shape)} does not broadcast to the product's shape "
                           f"{shape_text(product.shape)} (the result has the product's shape)")
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return with_zero_slope(x, product) if x.requires_grad else product
    return product + (x if beta == 1 else x * beta)


@_method
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta·input + alpha·(mat1 @ mat2)``."""
    a, b = as_tensor(mat1), as_tensor(mat2)
    _check_dims("addmm", mat1=(a, 2), mat2=(b, 2))
    return _scaled_sum("addmm", input, a @ b, beta, alpha)


@_method
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta·input + alpha·(mat @ vec)``."""
    m, v = as_tensor(mat), as_tensor(vec)
    _check_dims("addmv", mat=(m, 2), vec=(v, 1))
    return _scaled_sum("addmv", input, m @ v, beta, alpha)


@_method
@number_first("addcmul")
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """``input + value·tensor1·tensor2``, entry by entry; the dtype is the three tensors' (the default value 1 is
    not multiplied in: a Python number of a higher kind than bool tensors would raise it, as PyTorch's does not).
    The product is taken in that dtype: int8 · int8 with a uint8 input is int16 (127·127 = 16129, not int8's
    wrapped 1)."""
    x, product = as_tensor(input), as_tensor(tensor1) * as_tensor(tensor2)
    dtype = common_dtype(x.array, product.array)
    if product.dtype != dtype:
        product = as_tensor(tensor1).to(dtype) * as_tensor(tensor2).to(dtype)
    return x + (product if value == 1 else product * value)


@_method
@number_first("addcdiv")
def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """``input + value·tensor1/tensor2``, entry by entry. Two integer (or bool) tensors to divide are refused, as in
    PyTorch (whose addcdiv once divided them as integers, and now refuses rather than change their meaning)."""
    numerator, denominator = as_tensor(tensor1), as_tensor(tensor2)
    if numerator.dtype.kind in "biu" and denominator.dtype.kind in "biu":
        raise RuntimeError("addcdiv: integer division with addcdiv is not supported (tensor1 and tensor2 are "
                           f"{numerator.dtype} and {denominator.dtype}); write input + value * tensor1 / tensor2 "
                           "for a true division, or convert one with .float()")
    return as_tensor(input) + numerator / denominator * value


@_method
def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (``gg.linalg.cross``). Without ``dim``: along the first dim of
    size 3 of ``input``, as in PyTorch (``gg.linalg.cross`` takes the last), with PyTorch's warning (once) that this
    default is deprecated."""
    x = as_tensor(input)
    if dim is None:
        warn_once("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                  "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree with "
                  "that of linalg.cross in a future release.")
        dim = next((axis for axis, size in enumerate(x.shape) if size == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dim of size 3 in input of shape {shape_text(x.shape)}; give dim=...")
    return linalg.cross(x, other, dim=dim)


# --- entry by entry, made of rows -------------------------------------------------------------------

@_method
def xlogy(input: Any, other: Any) -> Tensor:
    """``x·ln(y)``, and 0 where x is 0 unless y is NaN (NaN stays NaN, as in PyTorch).

    ``∂/∂x = ln y`` also where x is 0 (x·ln y is smooth in x there), and 0 where x is 0 and y ≤ 0, where ln y is
    not a number (as PyTorch); ``∂/∂y = x/y``, 0 where x is 0 and y ≤ 0 (PyTorch gives NaN at y = 0). Where x is 0
    and y = ∞ the value is 0 and ``∂/∂x`` is 0 (PyTorch: ∞).
    """
    x, y = float_operands(input, other, "xlogy")
    no_log = Tensor._wrap(recorded_call(_no_logarithm, x.array, y.array, 0))  # ln y no number, or 0·∞: NaN there
    return x * where(no_log, y.new_tensor(1.0), y).log()  # ln 1 = 0 there: finite slopes


def _no_logarithm(x: np.ndarray, y: np.ndarray, floor: float) -> np.ndarray:
    """Where ``x·ln(y − floor)`` is taken as 0 (``xlogy``: floor 0, ``xlog1py``: −1): x is 0 and the logarithm
    is no number, or ∞. A kernel of a compiled step, worked out from each call's values."""
    return (x == 0) & ((y <= floor) | (y == np.inf))


@_method
def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """``ln(eᵃ + eᵇ) = max(a, b) + ln(1 + e^(−|a − b|))``, as PyTorch computes it: no exponential overflows, and
    ``log1p`` keeps the small term (``ln(1 + e⁻³⁰)`` is 9.4e-14; summed first, ``1 + e⁻³⁰`` is 1 in float32).

    ``∂/∂a = σ(a − b)``: 1 for a = ∞ > b (``∞ − ∞`` is never formed); where a = b, ±∞ too, the gap is 0 and each
    gets ½ (PyTorch: NaN at ±∞).
    """
    a, b = float_operands(input, other, "logaddexp")
    same = _plain_tensor(a.array == b.array)  # ∞ = ∞ too: the gap is 0 there, where ∞ − ∞ would be NaN
    gap = where(same, 0.0, a) - where(same, 0.0, b)
    return a.maximum(b) + (-gap.abs()).exp().log1p()


@_method
def hypot(input: Tensor, other: Tensor) -> Tensor:
    """``√(a² + b²)`` without forming a² (its row, :data:`glassgrad.ops_math.HYPOT`): 3e19 in float32, or 300 in
    float16, would overflow to inf, and 1e-30 squared vanish to 0."""
    a, b = float_operands(input, other, "hypot")
    return _broadcasting(ops_math.HYPOT, (a, b), a.array, b.array)


@_method
def frac(input: Tensor) -> Tensor:
    """The fractional part ``x − trunc(x)`` (the sign of x); slope 1."""
    x = as_tensor(input)
    return x - x.trunc()


# --- reductions ---------------------------------------------------------------------------------

def std_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: int | None = None) -> tuple[Tensor, Tensor]:
    """``(std, mean)`` over ``dim``, with :meth:`Tensor.std`'s arguments."""
    x = as_tensor(input)
    dim, correction = variance_arguments(dim, unbiased, correction)
    return x.std(dim, keepdim=keepdim, correction=correction), x.mean(dim, keepdim)


def var_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: int | None = None) -> tuple[Tensor, Tensor]:
    """``(var, mean)`` over ``dim``, with :meth:`Tensor.var`'s arguments. The mean is :meth:`Tensor.mean`'s: ±∞ over
    a slice holding ±∞ and no NaN (PyTorch's running Welford mean gives NaN there once a finite entry follows)."""
    x = as_tensor(input)
    dim, correction = variance_arguments(dim, unbiased, correction)
    return x.var(dim, keepdim=keepdim, correction=correction), x.mean(dim, keepdim)


@_method
def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The sum with NaN entries counted as 0 (they get no gradient), in ``dtype`` if given."""
    x = as_tensor(input)
    if not x.is_floating_point():
        return x.sum(dim, keepdim, dtype=dtype)
    return where(isnan(x), x.new_tensor(0.0), x).sum(dim, keepdim, dtype=dtype)


@_method
def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The mean of the entries that are not NaN (in ``dtype`` if given, a float dtype, as ``mean``)."""
    x = as_tensor(input)
    if not x.is_floating_point():  # PyTorch refuses integers before it reads dtype
        raise RuntimeError(f"nanmean: needs a floating tensor, got {x.dtype}; use t.float().nanmean(...)")
    x = x if dtype is None else x.to(resolve_dtype(dtype))
    if not x.is_floating_point():  # an integer count of NaNs in an integer mean would be garbage: PyTorch refuses
        raise RuntimeError(f"nanmean: dtype must be a floating dtype, got {x.dtype}; pass dtype=gg.float64 or drop "
                           "dtype=")
    counted = Tensor._wrap(recorded_call(_not_nan, x.array)).sum(dim, keepdim)  # a kernel: read at each call
    return nansum(x, dim, keepdim) / counted


def _not_nan(array: np.ndarray) -> np.ndarray:
    """1 where ``array`` holds a number, 0 at a NaN, in its dtype: :func:`nanmean`'s count, as one kernel of a
    compiled step (worked out in Python outside the kernels, a replay divided by the captures' counts)."""
    return (~np.isnan(array)).astype(array.dtype)


@_method
def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> return_types.aminmax:
    """``(min, max)`` over ``dim`` (every dim by default); ties share the gradient, as ``amin``/``amax``."""
    x = as_tensor(input)
    chosen = () if dim is None else dim
    if x.array.size == 0 and dim is None:
        raise RuntimeError(f"aminmax: the tensor of shape {shape_text(x.shape)} is empty, so it has no minimum or "
                           "maximum; reduce over a dim of non-zero size with dim=...")
    return return_types.aminmax(x.amin(chosen, keepdim), x.amax(chosen, keepdim))


def _lower_median_positions(values: np.ndarray, axis: int, skip_nan: bool) -> np.ndarray:
    """Where the lower median (the ⌊(n−1)/2⌋-th smallest) of each slice along ``axis`` sits (the dim kept),
    ties taking the first; a slice holding a NaN points at its first NaN, as PyTorch's, unless ``skip_nan``
    (then n counts the other entries, and a slice of NaNs alone points at its first)."""
    order = np.argsort(values, axis=axis, kind="stable")  # NaN sorts last
    missing = np.isnan(values) if values.dtype.kind == "f" else np.zeros(values.shape, dtype=bool)
    counted = (~missing if skip_nan else np.ones_like(missing)).sum(axis=axis, keepdims=True)
    picked = np.take_along_axis(order, np.maximum(counted - 1, 0) // 2, axis=axis)
    if skip_nan:
        return picked
    first_nan = np.argmax(missing, axis=axis, keepdims=True)
    return np.where(missing.any(axis=axis, keepdims=True), first_nan, picked)


def _median_of_nothing(x: Tensor, dim: int | None, name: str) -> Tensor | None:
    """What PyTorch's (nan)median gives where there is no entry to pick: over all entries of an empty floating
    tensor NaN; an empty integer tensor, or a dim of size 0, is an ``IndexError``. None where there are entries."""
    if dim is None and x.array.size == 0:
        if x.dtype.kind == "f":
            return x.sum() * float("nan")  # NaN, joined to the graph (its gradient is empty)
        raise IndexError(f"{name}: the {x.dtype} tensor of shape {shape_text(x.shape)} is empty, so it has no "
                         "median")
    if dim is not None and x.ndim and x.shape[check_dim(x, dim, name)] == 0:
        raise IndexError(f"{name}: dim {dim} of the tensor of shape {shape_text(x.shape)} has size 0, so it has no "
                         "median; take it over a dim of non-zero size")
    return None


def _shared_among_ties(flat: Tensor, position: int) -> Tensor:
    """The entry of the 1-D ``flat`` at ``position``, its gradient shared evenly among the entries equal to it
    (the NaNs, if it is NaN), as PyTorch's ``median()`` and ``nanmedian()`` over all entries: the largest of the
    tied entries with every other entry made −∞ (the smallest with +∞, for a −∞ median)."""
    value = flat.array[position]
    if flat.array.dtype.kind != "f":
        return flat[position].clone()  # a new tensor, as PyTorch's: flat[position] is a view of the input
    ties = _plain_tensor(np.isnan(flat.array) if np.isnan(value) else flat.array == value)
    if value == -np.inf:
        return where(ties, flat, flat.new_tensor(np.inf)).amin()
    return where(ties, flat, flat.new_tensor(-np.inf)).amax()


@_method
def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median (the ⌊(n−1)/2⌋-th smallest); a slice holding a NaN gives NaN (and its first NaN's
    index). With ``dim`` a ``(values, indices)`` pair, the gradient going to the entry at the index; over all
    entries the gradient is shared evenly among the entries equal to the median, as in PyTorch."""
    x = as_tensor(input)
    nothing = _median_of_nothing(x, dim, "median")
    if nothing is not None:
        return nothing
    if dim is None:
        flat = x.reshape(-1)
        return _shared_among_ties(flat, int(_lower_median_positions(flat.array, 0, False)[0]))
    axis = check_dim(x, dim, "median")
    rows = x.reshape(1) if x.ndim == 0 else x
    picked = _lower_median_positions(rows.array, axis, False)
    values, indices = rows.gather(axis, _plain_tensor(picked)), _plain_tensor(picked.astype(np.int64))
    if not keepdim or x.ndim == 0:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return return_types.median(values, indices)


# --- scans along a dim ----------------------------------------------------------------------------

def _running_pick(input: Tensor, dim: int, larger: bool, name: str) -> tuple:
    """The running extreme and where it comes from: the latest of ties; from a NaN on, NaN, and the index of the
    latest NaN, as PyTorch."""
    x = as_tensor(input)
    axis = check_dim(x, dim, name)
    rows = x.reshape(1) if x.ndim == 0 else x
    running = (np.maximum if larger else np.minimum).accumulate(rows.array, axis=axis)  # NaN stays NaN
    shape = [1] * rows.ndim
    shape[axis] = -1
    positions = np.arange(rows.shape[axis]).reshape(shape)
    hits = rows.array == running
    if rows.array.dtype.kind == "f":
        hits |= np.isnan(rows.array)
    picked = np.maximum.accumulate(np.where(hits, positions, 0), axis=axis)
    values, indices = rows.gather(axis, _plain_tensor(picked)), _plain_tensor(picked.astype(np.int64))
    named = return_types.cummax if larger else return_types.cummin
    return named(values.reshape(x.shape), indices.reshape(x.shape))


@_method
def cummax(input: Tensor, dim: int) -> return_types.cummax:
    """The running maximum along ``dim`` and where each comes from (the latest of ties; NaN from a NaN on)."""
    return _running_pick(input, dim, True, "cummax")


@_method
def cummin(input: Tensor, dim: int) -> return_types.cummin:
    """The running minimum along ``dim`` and where each comes from (the latest of ties; NaN from a NaN on)."""
    return _running_pick(input, dim, False, "cummin")


@_method
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None) -> Tensor:
    """``out[i] = x[i+1] − x[i]`` along ``dim`` (for bools ``x[i+1] ≠ x[i]``), ``n`` times (``prepend``/``append``
    joined first); ``n = 0`` is the input itself, without them, as in PyTorch and NumPy. As PyTorch's, ``n`` must
    be ≥ 0 and ``prepend``/``append`` tensors shaped like x but along ``dim`` (checked also where ``n = 0``)."""
    x = as_tensor(input)
    if x.ndim == 0:
        raise RuntimeError("diff: needs a tensor with at least one dim (a 0-d tensor has no neighbours); pass "
                           "x.reshape(1) or x.unsqueeze(0)")
    axis = check_dim(x, dim, "diff")
    if n < 0:
        raise RuntimeError(f"diff: order must be non-negative but got {n}; n counts how often to take differences")
    parts = [p for p in (prepend, x, append) if p is not None]
    for name, part in (("prepend", prepend), ("append", append)):
        if part is None:
            continue
        if not isinstance(part, Tensor):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(part).__name__}; wrap it: "
                            f"gg.tensor(...)")
        if part.ndim != x.ndim or any(a != b for d, (a, b) in enumerate(zip(part.shape, x.shape)) if d != axis):
            raise RuntimeError(f"diff expects {name} to have the shape of input {tuple(x.shape)} except along dim "
                               f"{axis}, got {tuple(part.shape)}")
    if n == 0:
        return x.clone()  # a new tensor, as PyTorch's: x itself let a write to the result change the input
    if len(parts) > 1:
        x = cat(parts, axis)
    for _ in range(n):
        before = (slice(None),) * axis
        later, earlier = x[before + (slice(1, None),)], x[before + (slice(None, -1),)]
        x = later != earlier if x.dtype == np.bool_ else later - earlier
    return x


# --- moving dims and picking slices --------------------------------------------------------------

@_method
def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """Dims ``source`` moved to positions ``destination``, the others keeping their order (a permute). A 0-d tensor
    takes dim 0 (or -1) for both, as PyTorch's, and is returned as a view of itself."""
    x = as_tensor(input)
    sources = [check_dim(x, d, "movedim") for d in np.atleast_1d(source)]
    targets = [check_dim(x, d, "movedim") for d in np.atleast_1d(destination)]
    if len(sources) != len(targets) or len(set(sources)) < len(sources) or len(set(targets)) < len(targets):
        raise RuntimeError(f"movedim: source {source!r} and destination {destination!r} must list as many dims, "
                           "each once")
    if not x.ndim:  # check_dim read dim 0 as the scalar's one place; there is nothing to move
        return x.permute(())
    order = [d for d in range(x.ndim) if d not in sources]
    for target, source_dim in sorted(zip(targets, sources)):
        order.insert(target, source_dim)
    return x.permute(order)


moveaxis = movedim
add("moveaxis", movedim)


@_method
def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """Two dims swapped: ``transpose``."""
    return as_tensor(input).transpose(axis0, axis1)


@_method
def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Two dims swapped: ``transpose`` (``swapaxes`` by PyTorch's other names for them)."""
    return as_tensor(input).transpose(dim0, dim1)


@_method
def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``length`` entries along ``dim`` from ``start`` (a slice)."""
    x = as_tensor(input)
    start, length = int_argument(start, "narrow", "start"), int_argument(length, "narrow", "length")
    if x.ndim == 0 or length < 0:  # PyTorch's checks in PyTorch's order, and its exception classes
        raise RuntimeError(f"narrow: needs a tensor with dims and a length >= 0, got shape {shape_text(x.shape)} and "
                           f"length {length}")
    axis = check_dim(x, dim, "narrow")
    size = x.shape[axis]
    first = start + size if start < 0 else start
    if not 0 <= first <= size:
        raise IndexError(f"narrow: start {start} is out of range for dim {dim} of size {size} (expected an int in "
                         f"[{-size}, {size}])")
    if first + length > size:
        raise RuntimeError(f"narrow: start {start} and length {length} do not fit dim {dim} of size {size}; give "
                           f"0 <= length <= {size - first}")
    return x[(slice(None),) * axis + (slice(first, first + length),)]


@_method
def take(input: Tensor, index: Any) -> Tensor:
    """Entries picked by their flat position (as if the tensor were 1-D), shaped like ``index`` (integers, as in
    PyTorch: a float index is refused). Always a copy, as PyTorch's: ``flat[0-d index]`` is NumPy's basic
    indexing, a view that writes through to the input, so that one is cloned (the index itself goes to the kernel
    as given: an array reshaped here in Python would be kept as the captures had it by a compiled step's replay)."""
    places = _index_array(index, "take")
    picked = as_tensor(input).reshape(-1)[places]
    return picked.clone() if places.ndim == 0 else picked


@_method
def take_along_dim(input: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """``gather`` along ``dim`` (the flat tensor when None), the input and the indices first broadcast together in
    every other dim, as PyTorch (``gather`` alone reads a corner of a larger input). A negative index along ``dim``
    counts from the end, as PyTorch's (``gather`` refuses it). With ``dim=None`` it is PyTorch's
    ``x.view(-1).gather(0, indices.view(-1))``: a negative index or one past the end is gather's RuntimeError (read
    through ``take``, whose backward refuses an index changed in place, as PyTorch's does)."""
    x = as_tensor(input)
    places = np.asarray(_plain(indices))
    if dim is None:
        if places.dtype.kind in "iu":  # take refuses any other
            _check_index_range(places, x.numel(), "take_along_dim", 0)
        return take(x, places.reshape(-1))
    if not x.ndim:  # PyTorch's class (its IndexError "Dimension specified as 0 but tensor has no dimensions")
        raise IndexError(f"take_along_dim: the input is 0-d, so it has no dim {dim} to take along; use dim=None")
    axis = check_dim(x, dim, "take_along_dim")
    size = x.shape[axis]
    if places.ndim != x.ndim:
        raise RuntimeError(f"take_along_dim: indices of shape {shape_text(places.shape)} need the input's "
                           f"{x.ndim} dims (shape {shape_text(x.shape)})")
    others = _with_size(x.shape, axis, 1), _with_size(places.shape, axis, 1)
    if not broadcastable(*others):
        raise RuntimeError(f"take_along_dim: the input of shape {shape_text(x.shape)} and the indices of shape "
                           f"{shape_text(places.shape)} must broadcast in every dim but {dim}")
    across = list(np.broadcast_shapes(*others))
    spread = x.expand(*_with_size(across, axis, size))
    shape = _with_size(across, axis, places.shape[axis])
    return spread.gather(axis, recorded_call(_from_the_end, places, size, dim, shape))  # a kernel: read at each call


def _from_the_end(places: np.ndarray, size: int, dim: int, shape: tuple) -> np.ndarray:
    """``take_along_dim``'s indices, a negative one counted from the end (one below ``-size`` refused, where PyTorch
    reads some other entry), spread to ``shape``. Run through :func:`~glassgrad.autograd.recorded_call`: worked out
    in Python, a compiled step kept its captures' indices for every later call."""
    if places.dtype.kind == "i" and places.size and places.min() < 0:
        if places.min() < -size:
            raise RuntimeError(f"take_along_dim: index {places.min()} is out of bounds for dim {dim} of size "
                               f"{size} (expected {-size} <= index < {size})")
        places = np.where(places < 0, places + size, places)
    return np.broadcast_to(places, shape)


def _with_size(shape: Any, axis: int, size: int) -> tuple:
    """``shape`` with dim ``axis`` of ``size``."""
    return (*shape[:axis], size, *shape[axis + 1:])


@_method
def rot90(input: Tensor, k: int = 1, dims: Any = (0, 1)) -> Tensor:
    """Turned by ``k`` quarter turns in the plane of ``dims``, from the first dim toward the second."""
    x = as_tensor(input)
    try:
        dims = tuple(dims)
    except TypeError:  # one bare dim (rot90(x, 1, 0)): Python's "'int' object is not iterable" named no fix
        raise TypeError(f"rot90(): argument 'dims' must be tuple of ints, not {type(dims).__name__} ({dims!r}); give "
                        "the plane's two dims as a pair, such as dims=(0, 1)") from None
    if len(dims) != 2 or x.ndim < 2:  # PyTorch's checks, in its order, before any dim is read
        raise RuntimeError(f"rot90: needs exactly two dims (the plane to turn in) of a tensor with at least 2 dims, "
                           f"got dims={dims!r} for shape {shape_text(x.shape)}")
    first, second = (check_dim(x, d, "rot90") for d in dims)
    if first == second:
        raise RuntimeError(f"rot90: dims must be two different dims, got {dims!r}")
    turns = int_argument(k, "rot90", "k") % 4
    if turns == 1:
        return x.flip(second).transpose(first, second)
    if turns == 2:
        return x.flip(first, second)
    if turns == 3:
        return x.transpose(first, second).flip(second)
    return x.clone()


@_method
def index_add(input: Tensor, dim: int, index: Any, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """A copy with ``alpha·source``'s slices added to the slices ``index`` along ``dim`` (repeats add up)."""
    x, src = as_tensor(input), as_tensor(source)
    axis = check_dim(x, dim, "index_add")
    index = np.asarray(_plain(index))
    if index.ndim > 1:
        raise IndexError(f"index_add: the index must be 1-D (or 0-d), got shape {shape_text(index.shape)}")
    expected = _with_size(x.shape, axis, index.size) if x.ndim else (index.size,)
    if tuple(src.shape) != tuple(expected) and not (x.ndim == 0 and src.ndim == 0 and index.size == 1):
        raise RuntimeError(f"index_add: source must have shape {shape_text(expected)} (input's, with {index.size} "
                           f"entries along dim {dim}: one slice per index), got {shape_text(src.shape)}")
    _check_index_range(index, x.shape[axis] if x.ndim else 1, "index_add", axis)
    places = recorded_call(_index_places, index, axis, tuple(src.shape))
    return x.scatter_add(axis, places, src * alpha if alpha != 1 else src)


def _index_places(index: np.ndarray, axis: int, shape: tuple) -> np.ndarray:
    """``index_add``'s 1-D ``index`` laid along ``axis`` of the source's ``shape``: where each entry goes (a kernel
    of a compiled step, so that a replay follows an index the step is given or makes)."""
    return np.broadcast_to(index.reshape([-1 if d == axis else 1 for d in range(len(shape))]), shape)


@_method
def index_fill(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """A copy with the slices ``index`` along ``dim`` set to ``value`` (they get no gradient)."""
    x = as_tensor(input)
    axis = check_dim(x, dim, "index_fill")
    mask = recorded_call(_slices_mask, np.asarray(_plain(index)), x.shape[axis] if x.ndim else 1, axis, x.ndim)
    return x.masked_fill(Tensor._wrap(mask), written_number(value, x.array.dtype, "index_fill"))


def _slices_mask(index: np.ndarray, size: int, axis: int, ndim: int) -> np.ndarray:
    """True at the positions ``index`` of ``size`` along ``axis`` (a 0-d tensor: a row of one entry), shaped to
    broadcast over ``ndim`` dims: ``index_fill``'s mask, a kernel of a compiled step. An index that is no integer or
    outside ``[-size, size)`` is refused as PyTorch refuses it (IndexError; a negative one counts from the end)."""
    if index.dtype.kind not in "iu":
        raise IndexError(f"index_fill: the index must hold integers (gg.int64), got {index.dtype}")
    if index.size and (index.min() < -size or index.max() >= size):
        bad = index.min() if index.min() < -size else index.max()
        raise IndexError(f"index_fill: index {bad} is out of bounds for dimension {axis} with size {size} "
                         f"(expected {-size} <= index < {size})")
    mask = np.zeros(size, dtype=bool)
    mask[index] = True
    return mask.reshape([-1 if d == axis else 1 for d in range(ndim)])


# --- grids, counts, index lists, sorted positions: plain tensors ------------------------------------

def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids: the k-th output holds the k-th vector along its own dim (``'ij'``), or with the first
    two dims swapped (``'xy'``, as NumPy's default); differentiable (each is an ``expand``). Without ``indexing``
    it is ``'ij'``, with PyTorch's warning (once in a process) that the argument will be required."""
    if indexing is None:
        warn_once("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.")
        indexing = "ij"
    vectors = [as_tensor(t) for t in (tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple))
                                      else tensors)]
    if not vectors:
        raise RuntimeError("meshgrid expects a non-empty TensorList: pass the vectors, e.g. meshgrid(x, y, "
                           "indexing='ij')")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if any(v.ndim > 1 for v in vectors):
        raise RuntimeError("meshgrid: expects 0-D or 1-D tensors, got shapes "
                           + ", ".join(shape_text(v.shape) for v in vectors))
    vectors = [v.reshape(-1) for v in vectors]
    sizes = [v.shape[0] for v in vectors]
    if indexing == "xy" and len(vectors) > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for position, v in enumerate(vectors):
        along = position if indexing == "ij" or len(vectors) < 2 or position > 1 else 1 - position
        shape = [1] * len(vectors)
        shape[along] = -1
        grids.append(v.reshape(shape).expand(sizes))
    return tuple(grids)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None) -> Tensor:
    """The (row, column) positions on and below diagonal ``offset`` of a row × col matrix, as a (2, N) tensor."""
    return _plain_tensor(np.stack(np.tril_indices(row, offset, col)).astype(resolve_dtype(dtype) or np.int64))


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None) -> Tensor:
    """The (row, column) positions on and above diagonal ``offset`` of a row × col matrix, as a (2, N) tensor."""
    return _plain_tensor(np.stack(np.triu_indices(row, offset, col)).astype(resolve_dtype(dtype) or np.int64))


@_method
def bincount(input: Tensor, weights: Any = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, … occurs in a 1-D tensor of non-negative ints; with ``weights`` their sums
    ``out[v] = Σ_{i: input[i] = v} weights[i]``, an ``index_add`` (so ``∂out[v]/∂weights[i]`` is 1 where
    ``input[i] = v``), in float32 for float32 weights and float64 for any other, as PyTorch. An empty input gives
    ``minlength`` int64 zeros even with weights, as PyTorch does."""
    note_unreplayable(SIZED_BY_VALUES.format(name="bincount"))
    values = np.asarray(_plain(input))
    if values.dtype.kind not in "iu":  # PyTorch's class: it has no kernel for a bool or float tensor
        raise NotImplementedError(f"bincount: needs a 1-D tensor of non-negative integers, got {values.dtype}; "
                                  "convert with .long()")
    if values.ndim != 1 or (values.size and values.min() < 0):
        raise RuntimeError(f"bincount: needs a 1-D tensor of non-negative integers, got shape "
                           f"{shape_text(values.shape)} of {values.dtype}")
    if minlength < 0:  # refused, as PyTorch (glassgrad counted it as 0)
        raise RuntimeError(f"bincount: minlength must be 0 or more, got {minlength}")
    size = max(int(minlength), int(values.max()) + 1 if values.size else 0)
    if weights is None or not values.size:  # PyTorch's: no entries give int64 zeros, weights or not
        return _plain_tensor(np.bincount(values, minlength=size).astype(np.int64))
    summed = as_tensor(weights)
    if tuple(summed.shape) != values.shape:
        raise RuntimeError(f"bincount: weights of shape {shape_text(summed.shape)} must have the input's shape "
                           f"{shape_text(values.shape)}")
    summed = summed if summed.dtype == np.float32 else summed.to(np.float64)
    return summed.new_zeros(size).index_add(0, _plain_tensor(values.astype(np.int64)), summed)


@_method
def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: int | None = None) -> Any:
    """The distinct values (sorted; each NaN counts as a value of its own), and if asked where each entry's value
    sits among them and how often each occurs; with ``dim``, the distinct slices along it."""
    note_unreplayable(SIZED_BY_VALUES.format(name="unique"))
    x = as_tensor(input)
    axis = None if dim is None else _unique_dim(x, dim, "unique")
    apart = {"equal_nan": False} if axis is None else {}  # every NaN a value of its own, as in PyTorch
    values, inverse, counts = np.unique(x.array, return_inverse=True, return_counts=True, axis=axis, **apart)
    found = [_plain_tensor(values)]
    if return_inverse:
        found.append(_plain_tensor(inverse.reshape(x.shape if axis is None else -1).astype(np.int64)))
    if return_counts:
        found.append(_plain_tensor(counts.astype(np.int64)))
    return found[0] if len(found) == 1 else tuple(found)


def _unique_dim(x: Tensor, dim: int, name: str) -> int:
    """The checked ``dim`` of ``unique``/``unique_consecutive``: with no entries, only the dim itself may have size 0
    (its slices, none, are then compared), as PyTorch requires; another dim of size 0 is its RuntimeError."""
    if x.ndim == 0:
        raise IndexError(f"{name}: dim {dim} of a 0-d tensor: it has no dims to take slices along; give no dim")
    axis = check_dim(x, dim, name)
    if x.array.size == 0 and any(size == 0 for other, size in enumerate(x.shape) if other != axis):
        raise RuntimeError(f"{name}: the tensor of shape {shape_text(x.shape)} has a dim of size 0 other than dim "
                           f"{dim}, so its slices along dim {dim} cannot be compared; give a tensor whose other dims "
                           "have entries, or no dim")
    return axis


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Any = None) -> Tensor:
    """For each value, the position in the sorted 1-D sequence (or each row's) where it would go to stay sorted:
    before equal entries, or after them with ``right=True`` / ``side='right'``. ``sorter`` (the positions that sort
    an unsorted sequence, ``argsort``'s) reads the sequence in that order; ``out_int32=True`` gives int32. A NaN
    value goes after every entry, as in PyTorch; NaNs in the sequence count as its largest entries (NumPy's order,
    where PyTorch's bisection, for which NaN compares false, lands by the path it takes)."""
    sequence, values = np.asarray(_plain(sorted_sequence)), np.asarray(_plain(input))
    order = None if sorter is None else np.asarray(_plain(sorter))
    if side not in (None, "left", "right") or side == "left" and right:
        raise RuntimeError(f"searchsorted: side must be 'left' or 'right' and agree with right={right}, got "
                           f"side={side!r}")
    if sequence.ndim == 0:
        raise RuntimeError("searchsorted: the sorted sequence (bucketize's boundaries) must have at least one dim, "
                           "got a 0-d tensor; reshape it first (b.reshape(1))")
    if sequence.ndim > 1 and sequence.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(f"searchsorted: the sequence's leading dims {shape_text(sequence.shape[:-1])} and the "
                           f"values' {shape_text(values.shape[:-1])} must match")
    if order is not None:
        _check_sorter(order, sequence.shape)
    dtype = np.int32 if out_int32 else np.int64
    return _plain_tensor(recorded_call(_search, sequence, values, order, side or ("right" if right else "left"),
                                       dtype))


def _check_sorter(order: np.ndarray, shape: tuple) -> None:
    """``searchsorted``'s ``sorter``, refused as PyTorch does (RuntimeError) unless it is an int64 tensor of the
    sequence's shape whose entries lie in ``[0, n)`` (n: the sequence's last dim): a shorter one read only its
    first entries, silently, and a float or out-of-range one failed deep in NumPy (IndexError)."""
    if order.dtype != np.int64:
        raise RuntimeError(f"searchsorted: sorter must be an int64 tensor (argsort's), got {order.dtype}; "
                           "convert with .long()")
    if order.shape != shape:
        raise RuntimeError(f"searchsorted: sorter of shape {shape_text(order.shape)} must have the sorted "
                           f"sequence's shape {shape_text(shape)}")
    _check_index_range(order, shape[-1], "searchsorted: sorter", -1)


def _search(sequence: np.ndarray, values: np.ndarray, order: np.ndarray | None, side: str,
            dtype: np.dtype) -> np.ndarray:
    """``searchsorted``'s positions (a sequence read in ``order`` if given; each row's own where it has rows): one
    kernel of a compiled step."""
    if order is not None:
        sequence = np.take_along_axis(sequence, order, axis=-1)
    if sequence.ndim == 1:
        return np.searchsorted(sequence, values, side=side).astype(dtype)
    count = int(np.prod(sequence.shape[:-1]))  # written out: -1 is left open when the rows are empty
    rows = [np.searchsorted(s, v, side=side) for s, v in zip(sequence.reshape(count, sequence.shape[-1]),
                                                              values.reshape(count, values.shape[-1]))]
    return np.array(rows, dtype=dtype).reshape(values.shape)


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value among sorted 1-D ``boundaries``: i with ``b[i−1] < x ≤ b[i]``
    (``b[i−1] ≤ x < b[i]`` with ``right=True``); ``out_int32=True`` gives int32."""
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# --- the trapezoidal rule -------------------------------------------------------------------------

def _trapezoids(y: Any, x: Any, dx: Any, dim: int, name: str) -> tuple[Tensor, int]:
    """The areas ``Δxᵢ·(yᵢ + yᵢ₊₁)/2`` of the trapezoids under y along ``dim`` (spacing ``x``'s steps, or ``dx``)."""
    values = as_tensor(y)
    axis = check_dim(values, dim, name, needs_dims=IndexError)
    if x is not None and dx is not None:
        raise TypeError(f"{name}: give either x (the sample points) or dx (their spacing), not both")
    if isinstance(x, (int, float)):
        raise TypeError(f"{name}: x must be a tensor of the sample points, got the number {x!r}; for an even spacing "
                        f"pass dx={x!r}")
    if values.dtype == np.bool_ or (x is not None and as_tensor(x).dtype == np.bool_):  # PyTorch's refusal
        raise RuntimeError(f"{name}: received a bool input for `{'x` or `y' if x is not None else 'y'}`, but bool is "
                           "not supported; convert it first (y.float())")
    heights = values.narrow(axis, 1, values.shape[axis] - 1) + values.narrow(axis, 0, values.shape[axis] - 1) \
        if values.shape[axis] else values
    if x is None:
        return heights * ((1.0 if dx is None else dx) / 2), axis
    points = as_tensor(x)
    if points.ndim == 1:
        if points.shape[0] != values.shape[axis]:
            raise RuntimeError(f"{name}: there must be one x value for each sample point: y has "
                               f"{values.shape[axis]} along dim {dim}, x has {points.shape[0]}")
        shape = [1] * values.ndim
        shape[axis] = -1
        points = points.reshape(shape)
    steps = diff(points, dim=axis - values.ndim)  # counted from the end: x broadcasts with y
    return heights * steps / 2, axis


def trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """``∫ y dx ≈ Σᵢ Δxᵢ·(yᵢ + yᵢ₊₁)/2`` along ``dim``: sample points ``x`` (1-D, or broadcasting with y) or an
    even spacing ``dx`` (default 1); made of slices, ``diff`` and ``sum``. No samples along ``dim``: zeros in
    y's own dtype, whatever x's or dx's, as PyTorch's (which looks at nothing else then)."""
    values = as_tensor(y)
    axis = check_dim(values, dim, "trapezoid", needs_dims=IndexError)
    if not values.shape[axis]:
        return values.new_zeros(values.shape[:axis] + values.shape[axis + 1:])
    areas, axis = _trapezoids(values, x, dx, dim, "trapezoid")
    return areas.sum(axis)


def trapz(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The older name of :func:`trapezoid`."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The running sums of :func:`trapezoid`'s areas along ``dim`` (one entry fewer than y)."""
    areas, axis = _trapezoids(y, x, dx, dim, "cumulative_trapezoid")
    return areas.cumsum(axis)
