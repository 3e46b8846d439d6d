"""Bitwise operations on bool and integer tensors: ``~``, ``&``, ``|``, ``^``, ``<<``, ``>>``.

On bools they are the logical operations (``~mask`` flips a mask, ``a & b`` keeps what both keep); on integers
they act on the bits of the two's-complement numbers: ``6 & 3 = 2``, ``6 | 3 = 7``, ``6 ^ 3 = 5``, ``~6 = −7``,
``x << s = x·2ˢ`` and ``x >> s = ⌊x/2ˢ⌋``. A shift by as many bits as the dtype holds or more (or by a negative
amount) gives 0, or −1 for a negative number shifted right, as PyTorch does. They are steps, not functions of a
real number: their results are plain tensors outside the graph, and a float tensor is refused, as in PyTorch.
The dtype of a mixed operation is PyTorch's (:func:`glassgrad.composed_math.result_type`); a shifted bool is an
int64 (two bools are refused).

>>> import glassgrad as gg
>>> (~gg.tensor([True, False])).tolist(), (gg.tensor([6]) & 3).tolist(), (gg.tensor([1]) << 4).tolist()
([False, True], [2], [16])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arguments import broadcast_call
from .autograd import recorded_call
from .composed import _plain_tensor
from .composed_math import result_type
from .creation import as_tensor
from .tensor import Tensor, sequence_error
from .tensor_methods import add


def _whole(name: str, *values: Any, error: type[Exception] = NotImplementedError) -> None:
    """Refuse float operands in one line, with PyTorch's exception class (its functions have no float kernel), and a
    list or tuple, as PyTorch refuses ``t & [1, 2]``."""
    for sequence in (value for value in values if isinstance(value, (list, tuple))):
        raise sequence_error(sequence)
    for value in values:
        dtype = value.array.dtype if isinstance(value, Tensor) else np.asarray(value).dtype
        if dtype.kind not in "biu":
            raise error(f"{name}: works on the bits of bool or integer tensors, got {dtype.name}; convert with "
                        ".long() (or use logical_and/or/xor/not for truth values)")


def _operands(name: str, input: Any, other: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both operands as arrays of PyTorch's result dtype for the two."""
    _whole(name, input, other)
    dtype = _result_dtype(input, other)
    return tuple(np.asarray(value.array if isinstance(value, Tensor) else value).astype(dtype, copy=False)
                 for value in (input, other))


def _result_dtype(input: Any, other: Any) -> np.dtype:
    return result_type(*(value if isinstance(value, (Tensor, bool, int, np.generic)) else as_tensor(value)
                         for value in (input, other)))


def _bitwise(function: np.ufunc, dtype: np.dtype, a: Any, b: Any) -> np.ndarray:
    """``function`` of the operands taken to ``dtype``: one kernel of a compiled step (the cast inside it)."""
    return function(np.asarray(a).astype(dtype, copy=False), np.asarray(b).astype(dtype, copy=False))


def _bits(name: str, function: np.ufunc) -> Any:
    def bitwise(input: Any, other: Any) -> Tensor:
        _whole(name, input, other)
        a, b = (np.asarray(value.array if isinstance(value, Tensor) else value) for value in (input, other))
        dtype = _result_dtype(input, other)
        return _plain_tensor(broadcast_call(name, lambda a, b: recorded_call(_bitwise, function, dtype, a, b), a, b))

    bitwise.__name__ = bitwise.__qualname__ = name
    bitwise.__doc__ = f"``{name}``: entry by entry, on bools (the logical operation) or the bits of integers."
    add(name, bitwise)
    return bitwise


bitwise_and = _bits("bitwise_and", np.bitwise_and)
bitwise_or = _bits("bitwise_or", np.bitwise_or)
bitwise_xor = _bits("bitwise_xor", np.bitwise_xor)


def bitwise_not(input: Tensor) -> Tensor:
    """Every bit flipped: ``~x = −x − 1`` for integers, ``not x`` for bools."""
    _whole("bitwise_not", input)
    return _plain_tensor(recorded_call(np.invert, as_tensor(input).array))


add("bitwise_not", bitwise_not)


def _invert(input: Tensor) -> Tensor:
    """``~x``: :func:`bitwise_not`; a float tensor raises TypeError, as PyTorch's operator does."""
    _whole("~", input, error=TypeError)
    return bitwise_not(input)


def _shift_operands(name: str, input: Any, other: Any) -> tuple[np.ndarray, np.ndarray]:
    """The operands as integers; two bools are refused, as in PyTorch (a bool shifted by a Python int is int64)."""
    a, shift = _operands(name, input, other)
    if a.dtype == bool:
        raise NotImplementedError(f"{name}: shifts the bits of integers, got two bools; convert with .long()")
    return a, shift


def bitwise_left_shift(input: Any, other: Any) -> Tensor:
    """``x << s = x·2ˢ``, wrapping around in the dtype; 0 for a shift outside [0, bits)."""
    a, shift = _shift_operands("bitwise_left_shift", input, other)
    return _plain_tensor(broadcast_call("bitwise_left_shift", _left_shifted, a, shift))


def _left_shifted(a: np.ndarray, shift: np.ndarray) -> np.ndarray:
    inside = (shift >= 0) & (shift < a.dtype.itemsize * 8)
    return np.where(inside, np.left_shift(a, np.where(inside, shift, 0)), 0).astype(a.dtype)


def bitwise_right_shift(input: Any, other: Any) -> Tensor:
    """``x >> s = ⌊x/2ˢ⌋``; a shift outside [0, bits) gives 0, or −1 for a negative x (its sign fills every bit)."""
    a, shift = _shift_operands("bitwise_right_shift", input, other)
    return _plain_tensor(broadcast_call("bitwise_right_shift", _right_shifted, a, shift))


def _right_shifted(a: np.ndarray, shift: np.ndarray) -> np.ndarray:
    inside = (shift >= 0) & (shift < a.dtype.itemsize * 8)
    filled = np.where(a < 0, -1, 0) if a.dtype.kind == "i" else np.zeros_like(a)
    return np.where(inside, np.right_shift(a, np.where(inside, shift, 0)), filled).astype(a.dtype)


add("bitwise_left_shift", bitwise_left_shift)
add("bitwise_right_shift", bitwise_right_shift)

# the operators, and their reflected forms for a number on the left (3 & x)
for _dunder, _function in [("and", bitwise_and), ("or", bitwise_or), ("xor", bitwise_xor),
                           ("lshift", bitwise_left_shift), ("rshift", bitwise_right_shift)]:
    add(f"__{_dunder}__", _function)
    add(f"__r{_dunder}__", lambda self, other, _function=_function: _function(other, self))
add("__invert__", _invert)
