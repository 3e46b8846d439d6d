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

from typing import Any

import numpy as np

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


def _pick_generator(seed: int | None, generator: np.random.Generator | None) -> np.random.Generator:
    if generator is not None:
        return generator
    return np.random.default_rng(seed) if seed is not None else _generator


def resolve_dtype(dtype: Any) -> np.dtype | None:
    """``None``, a NumPy dtype, ``gg.float32``… or a name such as ``"float64"``, as a NumPy dtype."""
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: use gg.float32, gg.float64, gg.int64 or a NumPy dtype") from None


def as_array(data: Any, dtype: Any) -> np.ndarray:
    """``data`` as a NumPy array with PyTorch's dtype defaults (Python floats → float32)."""
    dtype = resolve_dtype(dtype)
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.array(data, dtype=dtype, copy=True)
    else:
        try:
            array = np.array(data, dtype=dtype)
        except ValueError as error:
            raise ValueError(f"tensor(): could not make an array of this data ({error}); "
                             "nested lists must be rectangular and hold numbers") from None
        if dtype is None and array.dtype == np.float64:
            array = array.astype(float32)
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"tensor(): data of dtype {array.dtype} is not numeric; give numbers (floats, ints or bools)"
        )
    return array


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


def _sized(size: tuple) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if any(int(n) < 0 for n in size):
        raise ValueError(f"sizes must be non-negative, got {size}")
    return tuple(int(n) for n in size)


def _leaf(array: np.ndarray, requires_grad: bool) -> Tensor:
    result = Tensor._wrap(array)
    result.requires_grad = requires_grad
    return result


def _filled(size: tuple, value: Any, dtype: Any, requires_grad: bool) -> Tensor:
    return _leaf(np.full(_sized(size), value, dtype=resolve_dtype(dtype) or float32), requires_grad)


def zeros(*size: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(size, 0.0, dtype, requires_grad)


def ones(*size: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(size, 1.0, dtype, requires_grad)


def full(size: tuple, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (float32 for a float, else int64 or bool)."""
    if dtype is None and not isinstance(fill_value, float):
        dtype = np.asarray(fill_value).dtype
    return _filled(size, fill_value, dtype, requires_grad)


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(other.shape, 0.0, dtype or other.dtype, requires_grad)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(other.shape, 1.0, dtype or other.dtype, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.eye(n, m, dtype=resolve_dtype(dtype) or float32), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """``[start, start + step, …)`` up to ``end``; int64 for integer arguments, else float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dtype = resolve_dtype(dtype) or (int64 if integral else float32)
    return _leaf(np.arange(start, end, step).astype(dtype), requires_grad)


def randn(*size: int, dtype: Any = None, requires_grad: bool = False, seed: int | None = None,
          generator: np.random.Generator | None = None) -> Tensor:
    """Samples of the standard normal distribution N(0, 1)."""
    rng = _pick_generator(seed, generator)
    values = rng.standard_normal(_sized(size), dtype=np.float64)
    return _leaf(values.astype(resolve_dtype(dtype) or float32), requires_grad)


def rand(*size: int, dtype: Any = None, requires_grad: bool = False, seed: int | None = None,
         generator: np.random.Generator | None = None) -> Tensor:
    """Samples of the uniform distribution on [0, 1)."""
    rng = _pick_generator(seed, generator)
    values = rng.random(_sized(size))
    return _leaf(values.astype(resolve_dtype(dtype) or float32), requires_grad)


def randint(low: int, high: int, size: tuple, seed: int | None = None,
            generator: np.random.Generator | None = None) -> Tensor:
    """Integers drawn uniformly from ``[low, high)`` (int64)."""
    rng = _pick_generator(seed, generator)
    return Tensor._wrap(rng.integers(low, high, size=_sized((size,))).astype(int64))


def randperm(n: int, seed: int | None = None, generator: np.random.Generator | None = None) -> Tensor:
    """A random ordering of ``0 … n−1`` (int64)."""
    return Tensor._wrap(_pick_generator(seed, generator).permutation(n).astype(int64))
