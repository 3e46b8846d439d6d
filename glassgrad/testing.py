"""``torch.testing``: ``assert_close`` (are two tensors, numbers or nestings of them close, with PyTorch's rules and
messages), the deprecated ``assert_allclose`` and ``make_tensor``.

Closeness is ``|actual − expected| ≤ atol + rtol·|expected|`` entry by entry (computed in the compared dtype, as
``isclose``), with PyTorch's default tolerances for the dtype when none are given (float16: rtol 1e-3, atol 1e-5;
float32: 1.3e-6 and 1e-5; float64: 1e-7 and 1e-7; integers and bools: exact; two dtypes: the larger of each).
These are not ``gg.allclose``'s defaults (rtol 1e-5, atol 1e-8 for every dtype). Shapes must match (no
broadcasting), and dtypes too unless ``check_dtype=False`` (then both are promoted); NaN equals NaN only with
``equal_nan=True``. Tensors pair with tensors, NumPy arrays with NumPy arrays, Python numbers with numbers (``1``
and ``1.0`` are of different types), ``None`` with ``None``; lists/tuples and dicts are compared item by item. A
failure raises PyTorch's ``AssertionError`` text, e.g.::

    Tensor-likes are not close!

    Mismatched elements: 1 / 2 (50.0%)
    Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)
    Greatest relative difference: 0.25 at index (1,) (up to 1.3e-06 allowed)

("are not equal!" and no allowances when both tolerances are 0; "Scalars are not close!" with "Expected e but got
a." for numbers and 0-d tensors; "The failure occurred for item [i]['key']" inside nestings). A pair of unrelated
types raises ``TypeError``, ``rtol`` without ``atol`` (or the reverse) ``ValueError``. ``msg`` replaces the message
when a string and maps it when a callable.

>>> import glassgrad as gg
>>> gg.testing.assert_close(gg.tensor([1.0, 2.0]), gg.tensor([1.0, 2.0000001]))
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import creation
from .arguments import Size
from .creation import tensor
from .dtypes import finfo, iinfo, promote_types
from .tensor import Tensor
from .tensor_methods import close_entries

TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
              np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.complex64): (1.3e-6, 1e-5),
              np.dtype(np.complex128): (1e-7, 1e-7)}
"""(rtol, atol) per dtype, PyTorch's defaults (a Python complex counts as complex128, as in PyTorch)."""

ALLCLOSE_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-3), np.dtype(np.float32): (1e-4, 1e-5),
                       np.dtype(np.float64): (1e-5, 1e-8)}
"""(rtol, atol) per dtype of the deprecated ``assert_allclose``, PyTorch's."""

_NUMBER_DTYPES = {int: np.dtype(np.int64), float: np.dtype(np.float64), complex: np.dtype(np.complex128)}


class _Failure(Exception):
    """A failed check: the exception class to raise, its message and where in the nesting it happened."""

    def __init__(self, kind: type[Exception], message: str, where: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.kind, self.message, self.where = kind, message, where

    def to_error(self, msg: str | Callable[[str], str] | None) -> Exception:
        if isinstance(msg, str):
            return self.kind(msg)
        message = self.message
        if self.where:
            message += "\n\nThe failure occurred for item " + "".join(str([item]) for item in self.where)
        return self.kind(msg(message) if callable(msg) else message)


def tolerances(*dtypes: np.dtype, rtol: float | None, atol: float | None, where: tuple[Any, ...] = (),
               table: Mapping[np.dtype, tuple[float, float]] = TOLERANCES) -> tuple[float, float]:
    """The given (rtol, atol), or the largest of the dtypes' defaults in ``table``; one of the two alone is refused."""
    if (rtol is None) != (atol is None):
        raise _Failure(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, "
                                   f"but got no {'rtol' if rtol is None else 'atol'}.", where)
    if rtol is not None and atol is not None:
        return rtol, atol
    rtols, atols = zip(*[table.get(np.dtype(dtype), (0.0, 0.0)) for dtype in dtypes])
    return max(rtols), max(atols)


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None) -> None:
    """Raise ``AssertionError`` unless ``actual`` and ``expected`` are close (see the module's docstring).

    ``check_device`` and ``check_layout`` change nothing (one device, one layout); ``check_stride=True`` compares
    ``stride()`` too. Every pair is checked for its types first (``TypeError``/``ValueError``), then compared in
    order; the first mismatch raises (only its message is replaced or mapped by ``msg``).
    """
    options = {"allow_subclasses": allow_subclasses, "rtol": rtol, "atol": atol, "equal_nan": equal_nan,
               "check_dtype": check_dtype, "check_stride": check_stride}
    try:
        pairs = _pairs(actual, expected, (), options)
    except _Failure as failure:  # a structure or type error: PyTorch's own message even with ``msg``
        raise failure.to_error(None) from None
    try:
        for compare in pairs:
            compare()
    except _Failure as failure:
        raise failure.to_error(msg) from None


def _pairs(actual: Any, expected: Any, where: tuple[Any, ...], options: dict[str, Any]) -> list[Callable[[], None]]:
    """The comparisons of two nestings, PyTorch's ``originate_pairs``: structure and type errors raise at once."""
    if (isinstance(actual, Sequence) and not isinstance(actual, str)
            and isinstance(expected, Sequence) and not isinstance(expected, str)):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                           where)
        return [pair for index in range(len(actual))
                for pair in _pairs(actual[index], expected[index], (*where, index), options)]
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            raise _Failure(AssertionError, "The keys of the mappings do not match:\n"
                           f"Missing keys in the actual mapping: {sorted(expected_keys - actual_keys)}\n"
                           f"Additional keys in the actual mapping: {sorted(actual_keys - expected_keys)}", where)
        keys: Any = actual_keys
        try:
            keys = sorted(keys)
        except TypeError:
            pass
        return [pair for key in keys for pair in _pairs(actual[key], expected[key], (*where, key), options)]
    return [_leaf(actual, expected, where, options)]


def _leaf(actual: Any, expected: Any, where: tuple[Any, ...], options: dict[str, Any]) -> Callable[[], None]:

    def fail(message: str) -> None:
        raise _Failure(AssertionError, message, where)

    if actual is None or expected is None:
        return lambda: None if actual is None and expected is None else fail(
            f"None mismatch: {actual} is not {expected}")
    booleans = (bool, np.bool_)
    if isinstance(actual, booleans) and isinstance(expected, booleans):
        return lambda: None if bool(actual) == bool(expected) else fail(
            f"Booleans mismatch: {bool(actual)} is not {bool(expected)}")
    numbers = (int, float, complex, np.number)
    if (isinstance(actual, numbers) and isinstance(expected, numbers)
            and not isinstance(actual, bool) and not isinstance(expected, bool)):
        a, e = (value.item() if isinstance(value, np.number) else value for value in (actual, expected))
        rtol, atol = tolerances(_NUMBER_DTYPES[type(a)], _NUMBER_DTYPES[type(e)], rtol=options["rtol"],
                                atol=options["atol"], where=where)
        return lambda: _compare_numbers(a, e, rtol, atol, options, fail)
    for kind in (Tensor, np.ndarray):
        if isinstance(actual, kind) and isinstance(expected, kind):
            related = (type(actual) is type(expected) if not options["allow_subclasses"]
                       else isinstance(actual, type(expected)) or isinstance(expected, type(actual)))
            if related:
                rtol, atol = tolerances(actual.dtype, expected.dtype, rtol=options["rtol"], atol=options["atol"],
                                        where=where)
                return lambda: _compare_tensors(actual, expected, rtol, atol, options, fail)
    raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                              f"{type(expected)}.", where)


def _compare_numbers(actual: Any, expected: Any, rtol: float, atol: float, options: dict[str, Any],
                     fail: Callable[[str], None]) -> None:
    if options["check_dtype"] and type(actual) is not type(expected):
        fail(f"The (d)types do not match: {type(actual)} != {type(expected)}.")
    if actual == expected:
        return
    if options["equal_nan"] and _isnan(actual) and _isnan(expected):
        return
    difference = abs(actual - expected)
    if math.isfinite(difference) and difference <= atol + rtol * abs(expected):
        return
    fail(_scalar_message(actual, expected, rtol, atol))


def _isnan(value: Any) -> bool:
    return value != value


def _compare_tensors(actual: Any, expected: Any, rtol: float, atol: float, options: dict[str, Any],
                     fail: Callable[[str], None]) -> None:

    a, e = (value if isinstance(value, np.ndarray) else value.array for value in (actual, expected))
    if a.shape != e.shape:
        fail(f"The values for attribute 'shape' do not match: {Size(a.shape)} != {Size(e.shape)}.")
    if options["check_stride"] and a.size > 0:
        strides = [value.stride() if hasattr(value, "stride") else tuple(s // value.itemsize for s in value.strides)
                   for value in (actual, expected)]
        if strides[0] != strides[1]:
            fail(f"The values for attribute 'stride()' do not match: {strides[0]} != {strides[1]}.")
    if a.dtype != e.dtype:
        if options["check_dtype"]:
            fail(f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}.")
        common = promote_types(a.dtype, e.dtype)
        a, e = a.astype(common), e.astype(common)
    matches = close_entries(a, e, rtol, atol, options["equal_nan"], np.dtype(np.float64))  # isclose's rule;
    # integers with a tolerance are measured in float64 here (PyTorch's assert_close upcasts them)
    if matches.all():
        return
    if a.ndim == 0:
        fail(_scalar_message(a.item(), e.item(), rtol, atol))
    fail(_tensor_message(a, e, matches, rtol, atol))


def _mismatch_message(identifier: str, extra: str, diffs: list[tuple[str, Any, Any, float]], rtol: float,
                      atol: float) -> str:
    """PyTorch's ``_make_mismatch_msg``: a header, ``extra``, then the absolute and relative differences."""
    equality = rtol == 0 and atol == 0
    lines = [f"{identifier} are not {'equal' if equality else 'close'}!", "", extra.strip()]
    for kind, diff, index, tol in diffs:
        line = f"{kind.title()} difference: {diff}" if index is None else (
            f"Greatest {kind} difference: {diff} at index {index}")
        lines.append(line + ("" if equality else f" (up to {tol} allowed)"))
    return "\n".join(lines).strip()


def _scalar_message(actual: Any, expected: Any, rtol: float, atol: float) -> str:
    difference = abs(actual - expected)
    relative = float("inf") if expected == 0 else difference / abs(expected)
    return _mismatch_message("Scalars", f"Expected {expected} but got {actual}.",
                             [("absolute", difference, None, atol), ("relative", relative, None, rtol)], rtol, atol)


def _tensor_message(a: np.ndarray, e: np.ndarray, matches: np.ndarray, rtol: float, atol: float) -> str:
    """The count of mismatches and the greatest absolute and relative differences among them with their first
    index; integers and bools are differenced in int64, their ratio in float32 (PyTorch's default dtype)."""
    mismatches = int(matches.size - matches.sum())
    extra = f"Mismatched elements: {mismatches} / {matches.size} ({mismatches / matches.size:.1%})"
    flat_a, flat_e, flat_matches = a.ravel(), e.ravel(), matches.ravel()
    floating = a.dtype.kind in "fc"
    if not floating:
        flat_a, flat_e = flat_a.astype(np.int64), flat_e.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        absolute = np.abs(flat_a - flat_e)
        absolute[flat_matches] = 0
        relative = absolute / np.abs(flat_e)
        if not floating:
            relative = relative.astype(np.float32)
        relative[flat_matches] = 0
    diffs = []
    for kind, values, tol in (("absolute", absolute, atol), ("relative", relative, rtol)):
        flat_index = int(np.argmax(values))
        diffs.append((kind, values[flat_index].item(), tuple(int(i) for i in np.unravel_index(flat_index, a.shape)),
                      tol))
    return _mismatch_message("Tensor-likes", extra, diffs, rtol, atol)


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None, atol: float | None = None,
                    equal_nan: bool = True, msg: str = "") -> None:
    """Deprecated (a ``FutureWarning``, as PyTorch's): ``assert_close`` with NaN equal to NaN, dtypes promoted and
    looser defaults (float16: 1e-3 and 1e-3; float32: 1e-4 and 1e-5; float64: 1e-5 and 1e-8); a non-tensor is
    made a tensor first (``expected`` of ``actual``'s dtype)."""

    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
                  "release. Please use `torch.testing.assert_close()` instead.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = tolerances(actual.dtype, expected.dtype, rtol=None, atol=None, table=ALLCLOSE_TOLERANCES)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False, msg=msg or None)


def make_tensor(*shape: Any, dtype: Any, device: Any = None, low: float | None = None, high: float | None = None,
                requires_grad: bool = False, noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format: Any = None) -> Any:
    """A tensor of ``shape`` drawn uniformly from [low, high) with glassgrad's random stream, PyTorch's rules.

    Defaults: bool [0, 2); integers [-9, 10) (clamped to the dtype, so uint8 [0, 10)); floats [-9, 9). Bounds
    outside the dtype are clamped to it; integer bounds are rounded up. ``low > high`` (or ``low == high`` for an
    integer dtype), a NaN bound, a range the dtype cannot hold, ``requires_grad`` for an integer or bool dtype and
    ``noncontiguous`` with ``memory_format`` raise ``ValueError``. ``noncontiguous=True`` returns every other entry
    of a tensor twice as long in the last dim; ``exclude_zero`` replaces zeros by 1 (integers) or the dtype's
    smallest normal number (floats).
    """

    dtype = np.dtype(dtype)
    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous} and memory_format={memory_format}")
    if requires_grad and dtype.kind in "biu":
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype}")
    if dtype.kind not in "biuf":
        raise TypeError(f"The requested dtype '{dtype}' is not supported by torch.testing.make_tensor().")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype.kind == "b":
        bounds = (0, 2, 0, 2)
    elif dtype.kind in "iu":
        info = iinfo(dtype)
        bounds = (info.min, info.max + (1 if dtype != np.int64 else 0), -9, 10)
    else:
        info = finfo(dtype)
        bounds = (info.min, info.max, -9, 9)
    low, high = _make_tensor_bounds(low, high, dtype, *bounds)
    if dtype.kind in "biu":
        result = creation.randint(int(low), int(high), shape, dtype=dtype)
    else:
        result = creation.empty(shape, dtype=dtype)
        if high - low >= finfo(dtype).max:
            result.uniform_(low / 2, high / 2).mul_(2)
        else:
            result.uniform_(low, high)
    if noncontiguous:
        result = result[..., 1::2]
    if exclude_zero:
        result[result == 0] = 1 if dtype.kind in "biu" else finfo(dtype).tiny
    if dtype.kind == "f":
        result.requires_grad = requires_grad
    return result


def _make_tensor_bounds(low: float | None, high: float | None, dtype: np.dtype, lowest: float, highest: float,
                        default_low: float, default_high: float) -> tuple[float, float]:
    """``make_tensor``'s [low, high): the defaults, PyTorch's checks, clamped to [lowest, highest)."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(value, float) and math.isnan(value) for value in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype.kind == "f":
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is "
                      "deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.",
                      FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} only "
                         f"supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if dtype.kind in "biu":
        return math.ceil(low), math.ceil(high)
    return low, high
