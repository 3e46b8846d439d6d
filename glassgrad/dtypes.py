"""Dtypes with PyTorch's spellings, and the default float dtype.

glassgrad's dtypes are NumPy's (``gg.float32 is np.dtype('float32')``); the names below are the
ones PyTorch code writes: ``torch.float`` is float32, ``torch.double`` float64, ``torch.long``
int64, ``torch.int`` int32, ``torch.half`` float16, ``torch.bool`` bool.

The default float dtype is what a Python float becomes (``gg.tensor([0.5])``) and what
``zeros``, ``randn``, … make when no ``dtype`` is given: float32, as in PyTorch, until
:func:`set_default_dtype` changes it (to float64 for a gradient check, say).

>>> import glassgrad as gg
>>> gg.long, gg.float is gg.float32
(dtype('int64'), True)
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

dtype = np.dtype
"""PyTorch's ``torch.dtype``: ``isinstance(t.dtype, gg.dtype)`` holds."""

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)  # PyTorch's name: torch.float
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)  # PyTorch's name: torch.int
int64 = long = np.dtype(np.int64)
bool_ = bool = np.dtype(np.bool_)  # PyTorch's name: torch.bool



class MissingDtype:
    """A PyTorch dtype NumPy has no arrays of (``torch.bfloat16``): a name, so that code passing it along runs
    (``torch.autocast("cpu", dtype=torch.bfloat16)``, a block that changes nothing here); a tensor of it is
    refused in one line (:func:`glassgrad.arguments.resolve_dtype`)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


bfloat16 = MissingDtype("bfloat16")

_default = {"float": float32}

_PYTHON_TYPES = {builtins.bool: bool_, builtins.int: int64, builtins.float: float64, builtins.complex: float64}
"""Python's scalar types as ``finfo``/``iinfo`` read them, as PyTorch does (``torch.finfo(float)`` is float64's;
complex: its parts' float64)."""

_NOT_GIVEN = object()
"""``finfo()``'s argument left out (the default dtype's), told apart from ``finfo(None)`` (refused, as PyTorch)."""


def _info_argument(function: str, type: Any) -> np.dtype:
    """``type`` as the dtype ``finfo``/``iinfo`` describe: a dtype, or a Python scalar type; anything else (None, a
    string, a NumPy scalar type, a tensor) is PyTorch's TypeError, in one line naming what to give."""
    if isinstance(type, np.dtype):
        return type
    if type in _PYTHON_TYPES:
        return _PYTHON_TYPES[type]
    example = "gg.float32" if function == "finfo" else "gg.int32"
    raise TypeError(f"{function}(): argument 'type' (position 1) must be a dtype such as {example}, not "
                    f"{builtins.type(type).__name__} ({type!r}); pass the dtype itself, e.g. x.dtype")


class finfo:
    """A float dtype's limits as Python numbers, PyTorch's ``torch.finfo``: ``eps`` (the gap above 1), ``max``,
    ``min``, ``tiny``/``smallest_normal``, ``resolution`` (10^−digits), ``bits``; the default dtype's when none
    is given (``finfo(None)`` and a dtype's name, ``finfo('float32')``, are PyTorch's TypeError). ``bfloat16``,
    which NumPy lacks, has its own: float32's 8 exponent bits with 7 fraction bits, so
    eps = 2⁻⁷, max = (2 − 2⁻⁷)·2¹²⁷, tiny = 2⁻¹²⁶ and 2 decimal digits (mixed-precision code reads them)."""

    def __init__(self, type: Any = _NOT_GIVEN) -> None:
        if type is bfloat16:
            self.dtype, self.bits, self.eps, self.resolution = "bfloat16", 16, 2.0**-7, 0.01
            self.max, self.min, self.tiny = (2 - 2.0**-7) * 2.0**127, -(2 - 2.0**-7) * 2.0**127, 2.0**-126
            self.smallest_normal = self.tiny
            return
        chosen = _default["float"] if type is _NOT_GIVEN else _info_argument("finfo", type)
        if chosen.kind != "f":
            raise TypeError(f"finfo: expected a floating dtype (finfo is for floats, iinfo for integers), got {chosen}")
        limits = np.finfo(chosen)
        # .item(): Python numbers (this module's names float and int are dtypes, PyTorch's spellings)
        self.dtype, self.bits = chosen.name, limits.bits
        self.eps, self.max, self.min = limits.eps.item(), limits.max.item(), limits.min.item()
        self.tiny = self.smallest_normal = limits.smallest_normal.item()
        self.resolution = 10.0 ** -limits.precision

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, eps={self.eps}, "
                f"tiny={self.tiny}, dtype={self.dtype})")


def iinfo(type: Any) -> np.iinfo:
    """An integer dtype's limits (``max``, ``min``, ``bits``)."""
    chosen = _info_argument("iinfo", type)
    if chosen.kind not in "iu":
        raise TypeError(f"iinfo: expected an integer dtype (iinfo is for integers, finfo for floats), got {chosen}")
    return np.iinfo(chosen)


def names_a_dtype(name: str) -> bool:
    """Whether the string ``name`` is a NumPy dtype's name (``'float32'``, ``'int64'``): glassgrad takes it where a
    dtype goes (``t.to('float64')``); PyTorch reads such a string as a device (``to``) or a type (``type``)."""
    try:
        np.dtype(name)
    except TypeError:
        return False
    return True


def get_default_dtype() -> np.dtype:
    """The dtype of Python floats and of float tensors made without a ``dtype`` (float32 at start)."""
    return _default["float"]


def set_default_dtype(d: Any) -> None:
    """Make ``d`` (``gg.float32``, ``gg.float64`` or ``gg.float16``) the default float dtype, as in PyTorch."""
    resolved = np.dtype(d) if isinstance(d, (np.dtype, type, str)) else None
    if resolved is None or resolved.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes can be the default (gg.float32 or gg.float64), "
                        f"got {d!r}")
    _default["float"] = resolved


def kind_rank(dtype: Any) -> int:
    """0 for bool, 1 for integers, 2 for floats: the order in which PyTorch promotes kinds."""
    kind = np.dtype(dtype).kind
    return 0 if kind == "b" else 2 if kind == "f" else 1


def promote_types(type1: Any, type2: Any) -> np.dtype:
    """The smallest dtype both convert to: a float beats any integer (int64 and float16 give float16)."""
    a, b = np.dtype(type1), np.dtype(type2)
    if kind_rank(a) != kind_rank(b) and 2 in (kind_rank(a), kind_rank(b)):
        return a if kind_rank(a) == 2 else b
    return np.promote_types(a, b)


def joined_types(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """``higher``'s dtype unless ``lower`` is of a higher kind (then the two promoted): how an operand with dims
    (``higher``) meets a 0-d tensor or a Python number (``lower``) in PyTorch, float32 + 0-d float64 → float32,
    int32 + 0-d float64 → float64."""
    if higher is None or lower is None:
        return higher or lower
    return promote_types(higher, lower) if kind_rank(lower) > kind_rank(higher) else higher


def can_cast(from_: Any, to: Any) -> bool:
    """Whether PyTorch converts ``from_`` to ``to`` in an in-place operation: never a float to an integer or bool,
    nor an integer to a bool."""
    return kind_rank(from_) <= kind_rank(to)
