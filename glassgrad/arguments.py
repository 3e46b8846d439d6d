"""Checking what a caller passed: shapes, dims and dtypes, each refused with one line that says why.

Every public function of glassgrad that takes a size, a dim or a dtype reads it through this
module, so a mistake reads the same everywhere (``sum: dim 2 is out of range for a tensor of
shape (2, 3) (expected an int in [-2, 1])``). It knows nothing of graphs: it sees shapes,
NumPy arrays and anything that has ``shape``/``ndim``/``dtype`` (a tensor does).

>>> shape_text((3,)), shape_text((2, 3))
('(3,)', '(2, 3)')
>>> resolve_dtype("float64")
dtype('float64')
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .dtypes import MissingDtype, get_default_dtype, joined_types, promote_types

INT64_RANGE = (-(2**63), 2**63 - 1)
"""The whole numbers an int64 holds: a size's, and what PyTorch reads a Python int as."""


class Size(tuple):
    """A shape, as PyTorch's ``torch.Size``: a tuple of whole numbers with ``numel()``.

    It is a tuple (``x.shape == (2, 3)`` holds, it hashes as the tuple does, ``n, c = x.shape`` unpacks), and
    what PyTorch keeps a Size stays one: a slice ``x.shape[1:]``, ``x.shape + (1,)``, ``(1,) + x.shape`` and
    ``x.shape * 2``. It is built from any iterable of whole numbers: ints, NumPy integers, one-number integer
    tensors (each kept as a Python int); a float is refused. Sizes may be negative (``view(Size([-1, 3]))``).

    >>> Size([2, 3]), Size([2, 3]).numel(), Size([2, 3])[1:] + (4,)
    (Size([2, 3]), 6, Size([3, 4]))
    """

    __slots__ = ()

    def __new__(cls, sizes: Iterable = (), /) -> Size:
        try:
            entries = list(sizes)
        except TypeError:
            raise TypeError(f"Size() takes one sequence of sizes, e.g. Size([2, 3]), but got type "
                            f"{type(sizes).__name__!r}; write Size([n]) for one dim") from None
        values = [_whole_size(n, position) for position, n in enumerate(entries)]
        low, high = INT64_RANGE
        for position, value in enumerate(values):  # after every entry's type, as PyTorch checks in that order
            if not low <= value <= high:
                raise ValueError(f"Size(): item {position} ({value}) does not fit in int64; sizes lie in "
                                 "[-2**63, 2**63 - 1]")
        return tuple.__new__(cls, values)

    def numel(self) -> int:
        """How many entries a tensor of this shape holds: the product of the sizes, 1 for ``Size([])``."""
        return math.prod(self)

    def __getitem__(self, key: Any) -> Any:
        entry = tuple.__getitem__(self, key)
        return new_size(Size, entry) if type(key) is slice else entry

    def __add__(self, other: tuple) -> Size:
        return Size(tuple.__add__(self, other))

    def __radd__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, times: int) -> Size:
        return new_size(Size, tuple.__mul__(self, times))

    __rmul__ = __mul__

    def __reduce__(self) -> tuple:
        return Size, (tuple(self),)

    def __repr__(self) -> str:
        return f"Size({list(self)})"


new_size = tuple.__new__
"""``new_size(Size, shape)``: a :class:`Size` of sizes known to be ints (an array's shape), without
:meth:`Size.__new__`'s checks: what each read of ``Tensor.shape`` makes."""

def _whole_size(n: Any, position: int) -> int:
    """Entry ``position`` of a :class:`Size` as a Python int: anything with ``__index__`` (an int, a NumPy integer,
    a one-number integer tensor)."""
    try:
        return int(operator.index(n))  # True counts as 1, as in PyTorch
    except TypeError:
        raise TypeError(f"Size(): sizes must be whole numbers (ints), but item {position} has type "
                        f"{type(n).__name__!r}; pass ints (int(...) converts a whole float)") from None


def shown(value: Any) -> str:
    """``value`` as a one-line error message shows it: its repr, or for one whose repr spans lines or runs long (a
    NumPy array, a tensor) its type and shape, so the message stays one line.

    >>> shown(2.5), shown(np.ones((3, 2)))
    ('2.5', 'a ndarray of shape (3, 2)')
    """
    text = repr(value)
    if "\n" not in text and len(text) <= 80:
        return text
    shape = getattr(value, "shape", None)
    return f"a {type(value).__name__}" + ("" if shape is None else f" of shape {shape_text(tuple(shape))}")


def int_argument(value: Any, function: str, name: str) -> int:
    """``value`` as an int when it is a whole number (an int, a NumPy integer, a 0-d integer tensor; never a bool
    or a float), else PyTorch's TypeError: ``topk(): argument 'k' must be int, not float``."""
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise TypeError(f"{function}(): argument '{name}' must be int, not {type(value).__name__}")


def built_setting(check: Callable[..., Any], value: Any, *args: Any, **kwargs: Any) -> Any:
    """A layer's integer setting when the layer is built: ``check(value, *args, **kwargs)``, the check its call
    makes, or ``value`` itself if it is a bool (an int to Python), kept as given, as PyTorch's constructors keep it
    (``nn.Flatten(True).start_dim`` is True): the layer's call then refuses it with PyTorch's TypeError, as PyTorch's
    function does (``flatten(): argument 'start_dim' must be int, not bool``). A pool's sizes: ``sizes(bools=True)``
    (:func:`glassgrad.nn.conv.sizes`)."""
    return value if isinstance(value, bool) else check(value, *args, **kwargs)


def number_argument(value: Any, function: str, name: str) -> Any:
    """``value`` itself when it is a number (a bool, an int, a float, a NumPy number, a 0-d tensor), else PyTorch's
    TypeError: ``threshold(): argument 'value' must be Number, not str`` (NumPy failed deep in a ufunc)."""
    if isinstance(value, (int, float, np.number, np.bool_)) or getattr(value, "ndim", None) == 0:
        return value
    raise TypeError(f"{function}(): argument '{name}' must be Number, not {type(value).__name__}")


def float_argument(value: Any, function: str, name: str) -> float:
    """A layer's float setting (an ``eps``, a slope) as a float, through :func:`number_argument`: ``float('a')``
    raised NumPy's ValueError and ``float('1e-5')`` took a string."""
    return float(number_argument(value, function, name))


def shape_text(shape: tuple) -> str:
    """A shape as Python writes a tuple: ``(3,)``, ``(2, 3)``, ``()``."""
    return "(" + ", ".join(str(n) for n in shape) + (",)" if len(shape) == 1 else ")")


def counted(count: int, word: str) -> str:
    """A count with its noun, singular for one: ``counted(1, "step")`` → ``1 step``, ``counted(1200, "step")`` →
    ``1,200 steps``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def is_floating(dtype: np.dtype) -> bool:
    """True for float16/32/64: the dtypes that can require grad."""
    return dtype.kind == "f"


def resolve_dtype(dtype: Any) -> np.dtype | None:
    """``None``, a NumPy dtype, ``gg.float32``… or a name such as ``"float64"``, as a NumPy dtype.

    Only number dtypes (floats, ints, bool) are tensor dtypes: ``object``, ``str`` or dates are refused, and so are
    ``np.longdouble`` and a byte order not the machine's (:func:`is_tensor_dtype`).
    """
    if dtype is None:
        return None
    if isinstance(dtype, MissingDtype):
        raise TypeError(f"dtype {dtype!r}: glassgrad has no {dtype!r} tensors (NumPy computes in float16, float32 "
                        "and float64); use gg.float32, whose range bfloat16 shares, or gg.float16")
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: use gg.float32, gg.float64, gg.int64 or a NumPy dtype") from None
    if not is_tensor_dtype(resolved):
        numbers = resolved.kind in "fiub"  # np.longdouble, '>f4': named by their size and byte order
        detail = " of up to 8 bytes in the machine's byte order" if numbers else ""
        raise TypeError(
            f"dtype {resolved.str if numbers else resolved.name} is not a tensor dtype: tensors hold numbers{detail}; "
            "use gg.float32, gg.float64, gg.int64 or gg.bool_"
        )
    return resolved


def is_tensor_dtype(dtype: np.dtype) -> bool:
    """Whether arrays of ``dtype`` can be a tensor's memory as they are: bools, whole numbers and floats of up to
    8 bytes, in the machine's byte order. Not ``np.longdouble`` (float128, which PyTorch refuses: its ops would run in
    it, and NumPy's ``sum(dtype=…)`` refuses it) nor big-endian data read from a file (``'>f4'``, which is not
    ``gg.float32``; PyTorch refuses its byte order)."""
    return dtype.kind in "biuf" and dtype.itemsize <= 8 and dtype.isnative


def shape_arg(shape: tuple, name: str) -> tuple:
    """Sizes given as ``f(2, 3)`` or ``f((2, 3))`` (or by PyTorch's keyword, through :func:`keyword_sizes`), each a
    whole number (never 2.5 or '3'). A bool is an int to PyTorch, which refuses one only as the first size
    (``zeros(2, True)`` has shape (2, 1); ``zeros(True, 2)`` is its TypeError)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for position, n in enumerate(shape):
        if getattr(n, "ndim", None) == 0 and not isinstance(n, np.dtype) and n.dtype.kind in "iu":  # a dtype has ndim
            continue  # a 0-d integer tensor (or array) counts as its number, as in PyTorch
        if (isinstance(n, bool) and not position) or not isinstance(n, (int, np.integer)):
            raise TypeError(
                f"{name}: sizes must be whole numbers (ints), but got {shown(n)} ({type(n).__name__}) at position "
                f"{position}; pass ints (int(...) converts a whole float)"
            )
    return tuple(int(n) for n in shape)


def keyword_sizes(sizes: tuple, keyword: Any, name: str, keyword_name: str) -> tuple:
    """The sizes of a call that gave none positionally (``f(2, 3)``): given by PyTorch's keyword instead
    (``f(size=(2, 3))``, ready for :func:`shape_arg`), else PyTorch's TypeError for sizes missing or given twice."""
    if keyword is None:
        raise TypeError(f"{name}() missing its sizes: give them as {name}(2, 3), {name}((2, 3)) or "
                        f"{name}({keyword_name}=(2, 3)) (() for a 0-d shape)")
    if sizes:
        raise TypeError(f"{name}: give the sizes once, as {name}(2, 3) or {name}({keyword_name}=(2, 3)), not both")
    return (sizes_tuple(keyword, name, keyword_name),)


def sizes_tuple(sizes: Any, name: str, label: str = "size") -> tuple | list:
    """Sizes given as one argument (PyTorch's ``size=`` keyword, ``full``'s and ``new_full``'s first, ``randint``'s
    last): a tuple or list (a :class:`Size` too), never one bare number, which PyTorch refuses there with a TypeError
    (though ``zeros(2)`` takes it among sizes given one by one)."""
    if not isinstance(sizes, (tuple, list)):
        raise TypeError(f"{name}: {label} must be a tuple of ints, not {type(sizes).__name__} ({shown(sizes)}); give "
                        f"a tuple, such as {label}=(2,) for one dim or {label}=(2, 3) for two")
    return sizes


def cuts_given(name: str, indices_or_sections: Any, sections: Any = None, indices: Any = None,
               tensor_indices_or_sections: Any = None) -> Any:
    """Where to cut, given positionally or by one of PyTorch's keywords (``sections=n``, ``indices=[…]``,
    ``tensor_indices_or_sections=``); else PyTorch's TypeError."""
    given = [value for value in (indices_or_sections, sections, indices, tensor_indices_or_sections)
             if value is not None]
    if len(given) != 1:
        raise TypeError(f"{name}: give where to cut once: a number of sections ({name}(x, 3) or sections=3) or "
                        f"a list of indices ({name}(x, [1, 4]) or indices=[1, 4])")
    return given[0]


def written_number(value: Any, dtype: np.dtype, name: str) -> Any:
    """A Python number written into a tensor of integer ``dtype`` (``x[0] = v``, ``fill_``, ``masked_fill``,
    ``index_fill``, ``scatter``, a ``clamp`` bound) as PyTorch converts it: a float in the dtype's range is cut to
    an int, and into an unsigned dtype an int down to −max wraps around (−1 into uint8 is 255); anything else
    (NaN, ±inf, a number out of range) is refused in one line (NumPy raised OverflowError or wrapped -2.7 to 254).
    Into a float dtype a finite number beyond its largest is refused too (1e40 into float32, 70000 into float16: NumPy
    gave inf), but in ``x[i] = v`` of float16, which PyTorch rounds (to inf past 65520).
    A bool, another number written into a float or bool tensor, or a tensor is returned as it is. What is no number
    (None, a string, a dict; a list but in ``x[i] = [...]``) is refused in one line, a TypeError as PyTorch's (NumPy
    filled NaN for None, wrote a list's entries across a masked_fill, or failed deep inside on a string)."""
    if isinstance(value, np.generic):  # a NumPy number is the Python number it holds, as in PyTorch
        value = value.item()
    if value is None or isinstance(value, (str, bytes, dict, set)) or (
            isinstance(value, (list, tuple)) and name != "item assignment"):
        raise TypeError(f"{name}: the value must be a number (or a 0-d tensor), not {type(value).__name__}")
    if type(value) not in (int, float) or dtype.kind not in "iuf":
        return value
    if dtype.kind == "f" and (not math.isfinite(value) or dtype == np.float16 and name == "item assignment"):
        return value  # ±inf and NaN are floats; PyTorch's x[i] = v into float16 rounds past 65504 to inf
    lowest, highest = dtype_range(dtype)
    wraps = dtype.kind == "u" and type(value) is int
    lowest = -highest if wraps else lowest
    if not lowest <= value <= highest:
        raise RuntimeError(f"{name}: {value} cannot be written to a {dtype} tensor without overflow (it takes "
                           f"{lowest} to {highest}); convert the tensor to a wider dtype first, e.g. "
                           f"{'.double()' if dtype.kind == 'f' else '.long()'}")
    return value % (highest + 1) if wraps else value


@functools.cache  # NumPy's finfo costs microseconds at each call; a random fill reads it twice
def dtype_range(dtype: np.dtype) -> tuple[Any, Any]:
    """The lowest and the highest number a tensor of ``dtype`` holds: 0 and 1 for bool, ``iinfo``'s for an integer
    dtype (Python ints), the finite ones for a float dtype (65504 for float16)."""
    if dtype.kind == "b":
        return 0, 1
    if dtype.kind in "iu":
        return int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
    return float(np.finfo(dtype).min), float(np.finfo(dtype).max)


def exact_whole_bits(dtype: np.dtype) -> int:
    """For a float ``dtype``, the b for which it holds every whole number from 0 to 2ᵇ exactly (its mantissa bits
    and the hidden one: 11 for float16, whose 2049 rounds to 2048), as PyTorch bounds ``randperm`` and ``random_``."""
    return int(np.finfo(dtype).nmant) + 1


def check_in_range(name: str, dtype: np.dtype, *bounds: tuple[str, Any]) -> None:
    """PyTorch's RuntimeError for a bound of a random fill (``random_``'s from and to − 1, ``uniform_``'s from and
    to, ``randint``'s, ``randperm``'s n − 1) that a tensor of ``dtype`` cannot hold (NaN and ±inf neither): its
    draws would wrap around (300 into uint8 is 44) or overflow to inf. ``bounds``: (label, value) pairs."""
    lowest, highest = dtype_range(dtype)
    for label, value in bounds:
        if not lowest <= value <= highest:
            raise RuntimeError(f"{name}: {label} is out of bounds for {dtype}: {value} is not in [{lowest}, "
                               f"{highest}]; use a wider dtype")


def check_dim(tensor: Any, dim: int, name: str, needs_dims: type[Exception] | None = None) -> int:
    """``dim`` of ``tensor`` (an int in [−ndim, ndim)) as a non-negative index; else one clear error, of PyTorch's
    type: TypeError for a dim that is no whole number (``x.sum(1.0)``, ``x.sum(True)``), IndexError out of range.

    A 0-d tensor takes dim 0 or −1 (PyTorch's wrap of a scalar's dim), for a caller that reads it as one entry;
    ``needs_dims``: the error (PyTorch's type) for a caller that indexes the dim's size, which a 0-d tensor has not
    (``split``, ``chunk``, ``unbind``), instead of the raw IndexError of ``shape[0]``."""
    ndim = max(tensor.ndim, 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__} ({shown(dim)})")
    if needs_dims is not None and tensor.ndim == 0:
        raise needs_dims(f"{name} expects at least a 1-dimensional tensor, got a 0-d one; reshape it first "
                         "(x.reshape(1))")
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"{name}: dim {dim} is out of range for a tensor of shape {shape_text(tensor.shape)} "
            f"(expected an int in [{-ndim}, {ndim - 1}])"
        )
    return int(dim) % ndim


def distinct_dims(tensor: Any, dims: tuple | list, name: str, label: str = "dim",
                  needs_dims: type[Exception] | None = None) -> tuple[int, ...]:
    """``dims`` of ``tensor`` checked in order, as PyTorch checks them, as non-negative indices
    (:func:`check_dim`): the first one out of range is refused with its IndexError, the first one named again
    (counting negative dims from the end; a 0-d tensor's 0 and −1 are one dim) with a RuntimeError."""
    checked: list[int] = []
    for dim in dims:
        checked.append(check_dim(tensor, dim, name, needs_dims))
        if checked[-1] in checked[:-1]:
            raise RuntimeError(f"{name}: dim {checked[-1]} appears more than once in {label}={tuple(dims)!r} (counting "
                               "negative dims from the end); list each dim once")
    return tuple(checked)


def broadcastable(*shapes: tuple) -> bool:
    """Whether arrays of these shapes broadcast together (sizes equal or 1, aligned from the right)."""
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def broadcast_error(name: str, *shapes: tuple) -> RuntimeError | None:
    """PyTorch's RuntimeError for operands of ``shapes`` that do not broadcast together (NumPy raised ValueError
    there), or None where they do (the ValueError was about something else, to be raised as it is)."""
    if broadcastable(*shapes):
        return None
    return RuntimeError(f"{name}: shapes {' and '.join(shape_text(shape) for shape in shapes)} cannot be broadcast "
                        "together (sizes must match or be 1, aligned from the right)")


def broadcast_call(name: str, function: Callable[..., Any], a: np.ndarray, b: np.ndarray) -> Any:
    """``function(a, b)`` for a function broadcasting its two operands: where their shapes do not broadcast
    together, PyTorch's RuntimeError (:func:`broadcast_error`) instead of NumPy's ValueError."""
    try:
        return function(a, b)
    except ValueError:
        if (error := broadcast_error(name, a.shape, b.shape)) is None:
            raise
        raise error from None


def broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` itself (each size equal or 1, from the right)."""
    extra = len(target) - len(shape)
    return extra >= 0 and all(size in (1, wide) for size, wide in zip(shape, target[extra:]))


def joined_dtype(dtypes: Iterable[np.dtype]) -> np.dtype:
    """PyTorch's dtype for tensors joined into one (``cat``, ``stack``, ``block_diag``): all of them promoted
    (:func:`glassgrad.dtypes.promote_types`: float32 with int64 is float32, where NumPy gives float64)."""
    return functools.reduce(promote_types, dtypes)


def common_dtype(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """PyTorch's common dtype of two operands: of two with dims (or two 0-d) the promoted one, a float beating
    any integer; a 0-d operand (a Python number is lifted to one) against one with dims counts only when of a
    higher kind: float32 + 0-d float64 stays float32, int8 + 100 stays int8, int32 + 0-d float64 is float64."""
    if (a.ndim == 0) == (b.ndim == 0):
        return promote_types(a.dtype, b.dtype)
    dims, zero_d = (b, a) if a.ndim == 0 else (a, b)
    return joined_types(dims.dtype, zero_d.dtype)


def float_dtype(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """The dtype of an op of two operands whose result is a float (``/``, ``atan2``, ``hypot``, ``xlogy``, …):
    their :func:`common_dtype` when it is a float, else the default float dtype (int / int is float32). Each
    operand goes straight to it, never through an integer common dtype (uint8 / −2 sees −2, not 254)."""
    dtype = common_dtype(a, b)
    return dtype if dtype.kind == "f" else get_default_dtype()


def promote(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both operands in their :func:`common_dtype`."""
    dtype = common_dtype(a, b)
    return a.astype(dtype, copy=False), b.astype(dtype, copy=False)


def promote_to_float(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both operands in their :func:`float_dtype` (the operands of a true division)."""
    dtype = float_dtype(a, b)
    return a.astype(dtype, copy=False), b.astype(dtype, copy=False)


def check_alpha(name: str, input_dtype: np.dtype, other: Any, alpha: Any) -> None:
    """PyTorch's rule for the factor ``alpha`` of ``input ± alpha·other`` (``add``, ``sub``, ``rsub``): where the
    result is an integer tensor (``input`` and ``other`` both integers or bools) a float ``alpha`` is refused, as
    ``alpha·other`` would not be a whole number; a bool ``alpha`` is taken only where the result is bool.
    RuntimeError, as PyTorch raises."""
    is_bool = isinstance(alpha, (bool, np.bool_))
    if input_dtype.kind not in "biu" and not is_bool:  # a float input: any alpha (the optimizers' hot path)
        return
    other_kind = other.dtype.kind if hasattr(other, "dtype") else np.asarray(other).dtype.kind
    if is_bool and not input_dtype.kind == other_kind == "b":
        raise RuntimeError(f"{name}: a bool alpha ({alpha}) is taken only where the result is bool; "
                           "pass alpha as a number")
    if other_kind in "biu" and isinstance(alpha, (float, np.floating)):
        raise RuntimeError(f"{name}: for integer tensors alpha must be a whole number, got {alpha!r}; convert "
                           "the tensors with .float() or .double() first")
