"""``torch.testing.assert_close``: are two tensors (or numbers, or nestings of them) close, with PyTorch's rules.

Closeness is ``|actual − expected| ≤ atol + rtol·|expected|`` entry by entry, with PyTorch's default
tolerances for the dtype when none are given (float16: rtol 1e-3, atol 1e-5; float32: 1.3e-6 and 1e-5;
float64: 1e-7 and 1e-7; integers and bools: exact). Shapes must match, and dtypes too unless
``check_dtype=False``; NaN equals NaN only with ``equal_nan=True``. A failure raises one
``AssertionError`` saying how many entries differ and the largest differences.

>>> import glassgrad as gg
>>> gg.testing.assert_close(gg.tensor([1.0, 2.0]), gg.tensor([1.0, 2.0000001]))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
              np.dtype(np.float64): (1e-7, 1e-7)}
"""(rtol, atol) per dtype, PyTorch's defaults."""


def assert_close(actual: Any, expected: Any, *, rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = False, check_dtype: bool = True, msg: str | None = None, **ignored: Any) -> None:
    """Raise ``AssertionError`` unless ``actual`` and ``expected`` are close (see the module's docstring).

    ``check_device``, ``check_layout`` and ``check_stride`` are accepted and change nothing (one device, one
    layout).
    """
    if (rtol is None) != (atol is None):
        raise ValueError("assert_close: give both rtol and atol, or neither (then the dtype's defaults apply)")
    _compare(actual, expected, rtol, atol, equal_nan, check_dtype, msg, "")


def _compare(actual: Any, expected: Any, rtol: float | None, atol: float | None, equal_nan: bool,
             check_dtype: bool, msg: str | None, where: str) -> None:
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping) or set(actual) != set(expected):
            raise AssertionError(msg or f"The mappings{where} have different keys")
        for key in expected:
            _compare(actual[key], expected[key], rtol, atol, equal_nan, check_dtype, msg, f"{where}[{key!r}]")
        return
    if isinstance(expected, Sequence) and not isinstance(expected, str):
        if not isinstance(actual, Sequence) or len(actual) != len(expected):
            raise AssertionError(msg or f"The sequences{where} have different lengths")
        for position, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, rtol, atol, equal_nan, check_dtype, msg, f"{where}[{position}]")
        return
    a, e = _array(actual), _array(expected)
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values{where} have different shapes: {a.shape} and {e.shape}")
    if check_dtype and a.dtype != e.dtype:
        raise AssertionError(msg or f"The values{where} have different dtypes: {a.dtype} and {e.dtype}")
    if rtol is None:
        rtol, atol = max(TOLERANCES.get(a.dtype, (0.0, 0.0)), TOLERANCES.get(e.dtype, (0.0, 0.0)))
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    with np.errstate(invalid="ignore"):
        close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if close.all():
        return
    bad = ~close
    with np.errstate(invalid="ignore"):
        absolute = np.abs(a64 - e64)
        relative = absolute / np.abs(e64)
    raise AssertionError(msg or (
        f"Tensor-likes{where} are not close! Mismatched elements: {int(bad.sum())} / {a.size} "
        f"({100 * bad.mean():.1f}%); greatest absolute difference {np.nanmax(np.where(bad, absolute, 0)):.6g}, "
        f"greatest relative difference {np.nanmax(np.where(bad, relative, 0)):.6g} (up to {atol} and {rtol} allowed)"))


def _array(value: Any) -> np.ndarray:
    array = getattr(value, "array", None)
    return array if isinstance(array, np.ndarray) else np.asarray(value)
