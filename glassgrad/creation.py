"""Making tensors: from data, filled with constants, or random (seeded, never NumPy's global state).

>>> import glassgrad as gg
>>> gg.tensor([1, 2]).dtype, gg.tensor([1.0, 2]).dtype
(dtype('int64'), dtype('float32'))
>>> gg.randn(2, 3, seed=0).shape
(2, 3)

Random functions draw from glassgrad's own NumPy ``Generator``: reset it with
:func:`manual_seed`, or pass ``seed=`` (a fresh generator for that call) or
``generator=`` (your own).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .arguments import as_array, resolve_dtype, shape_arg, shape_text
from .tensor import Tensor, float32, int64

DEFAULT_SEED = 0
_generator = np.random.default_rng(DEFAULT_SEED)


def manual_seed(seed: int) -> np.random.Generator:
    """Reset glassgrad's random generator so later draws repeat exactly."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator() -> np.random.Generator:
    return _generator


def pick_generator(seed: int | None, generator: np.random.Generator | None) -> np.random.Generator:
    """The generator a random draw uses: ``generator`` if given, a fresh one for ``seed``, else glassgrad's own."""
    if generator is not None:
        return generator
    return np.random.default_rng(seed) if seed is not None else _generator


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (numbers, nested lists, arrays, tensors)."""
    return _leaf(as_array(data, dtype), requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a NumPy array, got {type(array).__name__}")
    return Tensor._wrap(array)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """``data`` itself if it already is a tensor (of that dtype), else a new tensor."""
    if isinstance(data, Tensor) and (dtype is None or resolve_dtype(dtype) == data.dtype):
        return data
    return tensor(data, dtype)


def _sized(size: tuple, name: str) -> tuple:
    """A shape given as ``f(2, 3)`` or ``f((2, 3))``: whole numbers, none negative."""
    shape = shape_arg(size, name)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"{name}: sizes must be non-negative, but got {shape_text(shape)}")
    return shape


def _float_dtype(dtype: Any, name: str) -> np.dtype:
    """``dtype`` (default float32), refused unless floating: random reals in an int would be truncated."""
    resolved = resolve_dtype(dtype) or float32
    if resolved.kind != "f":
        raise TypeError(f"{name}: dtype {resolved} is not floating; its samples are real numbers, so use "
                        "gg.float32 or gg.float64 (randint draws integers)")
    return resolved


def _leaf(array: np.ndarray, requires_grad: bool) -> Tensor:
    result = Tensor._wrap(array)
    result.requires_grad = requires_grad
    return result


def _filled(size: tuple, value: Any, dtype: Any, requires_grad: bool, name: str) -> Tensor:
    return _leaf(np.full(_sized(size, name), value, dtype=resolve_dtype(dtype) or float32), requires_grad)


def zeros(*size: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(size, 0.0, dtype, requires_grad, "zeros")


def ones(*size: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(size, 1.0, dtype, requires_grad, "ones")


def full(size: tuple, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (float32 for a float, else int64 or bool)."""
    if not isinstance(fill_value, (numbers.Real, np.bool_)):
        raise TypeError(f"full: fill_value must be a number, not {type(fill_value).__name__} ({fill_value!r})")
    if dtype is None and not isinstance(fill_value, float):
        dtype = np.asarray(fill_value).dtype
    return _filled(size if isinstance(size, (tuple, list)) else (size,), fill_value, dtype, requires_grad, "full")


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(other.shape, 0.0, dtype or other.dtype, requires_grad, "zeros_like")


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(other.shape, 1.0, dtype or other.dtype, requires_grad, "ones_like")


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    rows, columns = _sized((n, n if m is None else m), "eye")
    return _leaf(np.eye(rows, columns, dtype=resolve_dtype(dtype) or float32), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """``[start, start + step, …)`` up to ``end``; int64 for integer arguments, else float32."""
    if end is None:
        start, end = 0, start
    for label, value in (("start", start), ("end", end), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"arange: {label} must be a number, not {type(value).__name__} ({value!r})")
        if not math.isfinite(value):
            raise RuntimeError(f"arange: {label} is {value}; the range needs finite numbers")
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: from {start} to {end} a step of {step} never arrives; "
                           "flip the sign of step (or swap start and end)")
    integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dtype = resolve_dtype(dtype) or (int64 if integral else float32)
    return _leaf(np.arange(start, end, step).astype(dtype), requires_grad)


def randn(*size: int, dtype: Any = None, requires_grad: bool = False, seed: int | None = None,
          generator: np.random.Generator | None = None) -> Tensor:
    """Samples of the standard normal distribution N(0, 1)."""
    dtype = _float_dtype(dtype, "randn")
    rng = pick_generator(seed, generator)
    values = rng.standard_normal(_sized(size, "randn"), dtype=np.float64)
    return _leaf(values.astype(dtype), requires_grad)


def rand(*size: int, dtype: Any = None, requires_grad: bool = False, seed: int | None = None,
         generator: np.random.Generator | None = None) -> Tensor:
    """Samples of the uniform distribution on [0, 1)."""
    dtype = _float_dtype(dtype, "rand")
    rng = pick_generator(seed, generator)
    values = rng.random(_sized(size, "rand"))
    return _leaf(values.astype(dtype), requires_grad)


def randint(low: int, high: int, size: tuple, seed: int | None = None,
            generator: np.random.Generator | None = None) -> Tensor:
    """Integers drawn uniformly from ``[low, high)`` (int64)."""
    for label, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"randint: {label} must be a whole number (int), not {value!r}")
    shape = _sized((size,), "randint")
    if low >= high:
        raise RuntimeError(f"randint: low ({low}) must be less than high ({high}); the range [low, high) is empty")
    rng = pick_generator(seed, generator)
    return Tensor._wrap(rng.integers(low, high, size=shape).astype(int64))


def randperm(n: int, seed: int | None = None, generator: np.random.Generator | None = None) -> Tensor:
    """A random ordering of ``0 … n−1`` (int64)."""
    (count,) = _sized((n,), "randperm")
    return Tensor._wrap(pick_generator(seed, generator).permutation(count).astype(int64))
