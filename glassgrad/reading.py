"""Reading data: how Python numbers, nested lists, NumPy numbers and arrays become the array of a new tensor.

``gg.tensor``, ``as_tensor``, ``new_tensor``, a ``Parameter`` and a ``DataLoader``'s batches read their data through
:func:`as_array`, with PyTorch's dtypes (a Python float is the default float dtype, a NumPy number keeps its own) and
PyTorch's refusals, each one line of PyTorch's class: ragged lists, text, None, numbers that do not fit.

>>> as_array([1, 2.5], None).dtype, as_array([[True], [False]], None).shape
(dtype('float32'), (2, 1))
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable
from typing import Any

import numpy as np

from .arguments import INT64_RANGE, is_tensor_dtype, resolve_dtype, shown
from .dtypes import get_default_dtype, promote_types


def unsupported_array(dtype: np.dtype, name: str) -> Exception:
    """PyTorch's error for a NumPy array of a dtype no tensor holds (:func:`is_tensor_dtype`): a ValueError for a
    byte order not the machine's, a TypeError for the rest (complex, ``np.longdouble``, objects, strings)."""
    if dtype.kind in "biuf" and not dtype.isnative:
        return ValueError(f"{name}: the array's byte order ({dtype.str}) is not the machine's; convert it first with "
                          "array.astype(array.dtype.newbyteorder('='))")
    return TypeError(f"{name}: can't make a tensor of a NumPy array of dtype {dtype}; give numbers: bools, whole "
                     "numbers or floats of up to 8 bytes (convert it, e.g. array.astype(np.float32))")


def refuse_backward_strides(data: Any) -> None:
    """Refuse a NumPy array that steps backwards through its memory (``a[::-1]``, ``np.flip(a)``), as PyTorch's
    ``tensor``, ``as_tensor``, ``asarray``, ``from_numpy``, ``new_tensor`` and ``Tensor(a)`` refuse it, so that code
    that runs here runs there too."""
    if isinstance(data, np.ndarray) and any(stride < 0 for stride in data.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative "
                         "strides are not currently supported: copy the array first (a[::-1].copy())")


def as_array(data: Any, dtype: Any) -> np.ndarray:
    """A new NumPy array holding ``data``, with PyTorch's dtype defaults (Python floats → float32, the default dtype).

    An array, a NumPy number or a tensor (anything with ``__array__``) keeps its dtype, also inside a list: a list
    that holds a float64 one is float64 (:func:`_list_dtype`).
    """
    dtype = resolve_dtype(dtype)
    if isinstance(data, np.generic) or hasattr(data, "__array__"):
        if (dtype is not None and isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind in "biuf"
                and not is_tensor_dtype(data.dtype)):  # refused even with a dtype to convert to, as PyTorch
            raise unsupported_array(data.dtype, "tensor()")
        if dtype is not None and isinstance(data, np.generic):
            _check_numpy_numbers([data], dtype, dtype)
        array = np.array(data, dtype=dtype, copy=True)
    else:
        array = _flat_python_numbers(data) if dtype is None else None
        if array is not None:
            return array
        try:
            array = np.array(data)  # NumPy's own reading first: None or text never becomes a float (NaN, 1.5)
        except ValueError:  # not rectangular
            raise _refusal(data, dtype) from None
        if array.dtype.kind == "O":  # ints past int64's range, or objects that are not Python numbers
            array = _objects(data, array, dtype)
        if array.ndim and (dtype or array.dtype).kind in "biu":  # (a list NumPy made float64: in _list_dtype)
            _check_numpy_numbers(data, array.dtype, dtype)
        if dtype is not None and array.dtype.kind in "biufO":  # numbers converted one by one, as PyTorch's
            if dtype.kind in "iu":
                if array.dtype.kind in "uO":  # a Python int past int64's range: PyTorch's ValueError, whatever dtype
                    _check_int64_range(data)
                try:
                    return fitting_integers(array, dtype, "tensor()")
                except RuntimeError:
                    if array.dtype.kind == "f":  # ints among floats: one past int64 is that ValueError, as PyTorch's
                        _check_int64_range(data)
                    raise
            if dtype.kind == "f" and array.dtype.kind in "iuO":  # an int is a double first (2⁶⁰ + 2³⁶ + 1 in float32)
                array = array.astype(np.float64)
            return array.astype(dtype, copy=False)
        if dtype is None and array.dtype.kind == "u":  # a Python int past int64's range, or a bytearray's bytes
            _check_int64_range(data)
            if isinstance(data, (bytearray, memoryview)):  # a sequence of Python ints to PyTorch: int64
                array = array.astype(np.int64)
        if dtype is None and array.dtype == np.float64:
            # a Python float alone is the default dtype; a sequence (a list, a deque) reads its entries' own dtypes
            array = array.astype(_list_dtype(data if isinstance(data, (list, tuple)) else list(data)) if array.ndim
                                 else get_default_dtype())
    if not is_tensor_dtype(array.dtype):  # text, complex; np.longdouble, '>f4'
        if array.dtype.kind in "biuf" and not array.dtype.isnative and not hasattr(data, "__array__"):
            return array.astype(array.dtype.newbyteorder("="))  # arrays inside a list: copied, as PyTorch's
        if array.dtype.kind == "c":
            raise TypeError(f"tensor(): glassgrad has no complex dtype (got {array.dtype}); keep the real and "
                            "imaginary parts as two float tensors")
        raise unsupported_array(array.dtype, "tensor()") if array.dtype.kind in "biuf" or isinstance(
            data, np.ndarray) else _refusal(data, dtype)
    return array


def _flat_python_numbers(data: Any) -> np.ndarray | None:
    """A flat list of Python ints alone (an int64 array), or of Python floats and ints (the default float dtype), as
    :func:`as_array` reads it, else None: any other data, and ints past int64's range, take the general reading,
    and nothing is refused here. The common case, read in C-speed passes: the types, counted by identity
    (``list.count``, no set to hash them into), then the numbers, converted in their known dtype (``np.fromiter``),
    with none of NumPy's dtype discovery or the NumPy-number checks that other lists need."""
    if type(data) is not list or not data or (type(data[0]) is not int and type(data[0]) is not float):
        return None
    kinds = list(map(type, data))
    first = kinds.count(kinds[0])
    try:
        if kinds[0] is int and first == len(kinds):
            return np.fromiter(data, np.int64, len(data))
        if first == len(kinds) or first + kinds.count(int if kinds[0] is float else float) == len(kinds):
            return np.fromiter(data, np.float64, len(data)).astype(get_default_dtype(), copy=False)
    except OverflowError:  # an int past int64's (or float64's) range: PyTorch's ValueError, from the general reading
        return None
    return None


def _objects(data: Any, array: np.ndarray, dtype: np.dtype | None) -> np.ndarray:
    """``array``, NumPy's object array of ``data``, as PyTorch reads it, or refused (:func:`_refusal`). Python numbers
    with ints past NumPy's int64 and uint64 among them are kept for ``dtype``'s conversion, or, with no ``dtype``,
    refused (:func:`_check_int64_range`) unless a float among them makes them all floats. With a float ``dtype``,
    other objects that Python reads as floats are converted (``Decimal``, ``Fraction``: ``float(x)``, as
    PyTorch's), never text (``float('1.5')`` would read it)."""
    entries = array.ravel().tolist()
    if _PYTHON_NUMBERS.issuperset(map(type, entries)) or all(map(_python_number, entries)):
        if dtype is not None:
            return array
        if not any(isinstance(entry, float) for entry in entries):  # (a float subclass's too)
            _check_int64_range(entries)
        return array.astype(np.float64)
    if dtype is not None and dtype.kind == "f" and all(hasattr(type(n), "__float__") for n in entries):
        return array.astype(dtype)  # (text and None have no __float__: NumPy's cast would read '1.5', or make NaN)
    raise _refusal(data, dtype)


def fitting_integers(numbers: np.ndarray, dtype: np.dtype, name: str) -> np.ndarray:
    """``numbers`` (as NumPy read the learner's Python numbers) converted to the integer ``dtype`` as PyTorch converts
    a number: a float cut to its whole part, a bool as 0 or 1. One that does not fit is refused with PyTorch's
    RuntimeError (NumPy wrapped it, or made a NaN some integer, or raised its own OverflowError), except that, as in
    PyTorch, a whole number from −max to −1 wraps into an unsigned dtype (−1 is 255 in uint8, −256 is refused).
    ``tensor([-1], dtype=gg.uint8)``, ``gg.full((2,), 1e10, dtype=gg.int32)``."""
    info = np.iinfo(dtype)
    if numbers.dtype.kind not in "fiub" and not (numbers.dtype.kind == "O" and all(
            type(n) is int for n in numbers.ravel().tolist())):
        raise _refusal(numbers.tolist(), dtype)
    if numbers.dtype.kind == "f":  # compared as it is: 255.9 is not a uint8, −0.5 not either
        fits = (numbers >= info.min) & (numbers <= info.max)
        if float(info.max) != info.max:  # int64, uint64: the max as a float is 2⁶³ (2⁶⁴), one past it, which wrapped
            fits &= numbers < float(info.max)
    elif numbers.dtype.kind in "iuO":  # O: Python ints past NumPy's int64 and uint64
        fits = (numbers >= (-info.max if dtype.kind == "u" else info.min)) & (numbers <= info.max)
    else:
        fits = numbers.dtype.kind == "b"
    if not np.all(fits):
        bad = numbers[~np.asarray(fits)].ravel()[0] if numbers.ndim else numbers.item()
        raise RuntimeError(f"{name}: the value {bad} cannot be converted to {dtype} without overflow (it holds "
                           f"{info.min} … {info.max})")
    if numbers.dtype.kind == "O" and dtype.kind == "u":  # NumPy's cast wraps its own ints, not Python's
        numbers = np.where(numbers < 0, numbers + (int(info.max) + 1), numbers)
    return numbers.astype(dtype)


def _is_sequence(data: Any) -> bool:
    """Whether PyTorch reads ``data``, inside nested lists, as one more dim (a list, tuple, range or array)."""
    return isinstance(data, (list, tuple, range)) or (isinstance(data, np.ndarray) and data.ndim > 0)


def _leaves(data: Any) -> Iterable[Any]:
    """The entries of nested sequences (:func:`_is_sequence`), in order, rectangular or not."""
    if _is_sequence(data):
        for entry in data:
            yield from _leaves(entry)
    else:
        yield data


def _refusal(data: Any, dtype: np.dtype | None) -> Exception:
    """``tensor()``'s one-line error for ``data`` that is not a rectangular nest of numbers, of PyTorch's class, found
    in PyTorch's order. Text as the first entry down is one more dim to PyTorch: a ValueError (``tensor(["1.5"])``).
    With no ``dtype``, every entry is read for one: text is a TypeError (``tensor([1, "a"])``), None or another
    object a RuntimeError (``tensor([1, None])``, a ``Decimal``, a generator, a dict). Then the shape, read down the
    first entries, is checked entry by entry: a number where a list belongs, or a list where a number does, is a
    TypeError, a list of another length a ValueError (``tensor([[1, 2], [3]])``), and with a ``dtype`` an entry that
    is not a number a TypeError (``tensor([None], dtype=gg.float32)``)."""
    shape = []
    first = data
    while _is_sequence(first) and len(first):
        shape.append(len(first))
        first = first[0]
    if _is_sequence(first):
        shape.append(0)
    if shape and isinstance(first, str):
        return ValueError(f"tensor(): text ({shown(first)}) is not a number; give numbers (floats, ints or bools), "
                          "e.g. float(text)")
    if dtype is None:
        for entry in _leaves(data):
            if isinstance(entry, (str, bytes)):
                return TypeError(f"tensor(): text ({shown(entry)}) is not a number; give numbers (floats, ints or "
                                 "bools)")
            if not isinstance(entry, (bool, int, float, complex, np.generic)) and not hasattr(entry, "__array__"):
                return RuntimeError(f"tensor(): could not infer a dtype from {shown(entry)} "
                                    f"({type(entry).__name__}); give numbers (floats, ints or bools), or pass "
                                    "dtype= to convert such numbers")
    return _misplaced(data, shape, 0, dtype) or TypeError(
        f"tensor(): data of type {type(data).__name__} is not numbers; give numbers (floats, ints or bools), or "
        "nested lists of them")


def _misplaced(data: Any, shape: list[int], dim: int, dtype: np.dtype | None) -> Exception | None:
    """:func:`_refusal`'s error for the first entry of ``data`` (at ``dim``) that does not fit ``shape``, or None."""
    if dim == len(shape):
        if _is_sequence(data):
            return TypeError(f"tensor(): nested lists must be rectangular: a list stands where a number belongs (at "
                             f"dim {dim}); give every row the same depth")
        if hasattr(data, "__array__") and np.size(data) != 1:
            return ValueError(f"tensor(): a tensor inside a list is read as one number, but this one has "
                              f"{np.size(data)} numbers; join tensors with gg.stack(tensors) (or gg.cat) instead")
        if dtype is not None and not (isinstance(data, (int, float, np.generic)) or hasattr(data, "__array__") or (
                dtype.kind == "f" and hasattr(type(data), "__float__"))):  # a Decimal for a float dtype; text has none
            return TypeError(f"tensor(): {shown(data)} ({type(data).__name__}) is not a number to convert to "
                             f"{dtype}; give numbers (floats, ints or bools)")
        return None
    if not _is_sequence(data) and not isinstance(data, (str, bytes)):  # text is a sequence here, as to PyTorch
        return TypeError(f"tensor(): nested lists must be rectangular: a number ({shown(data)}) stands where a "
                         f"list of {shape[dim]} belongs (at dim {dim}); give every row the same depth")
    if len(data) != shape[dim]:
        return ValueError(f"tensor(): nested lists must be rectangular: expected a list of length {shape[dim]} at dim "
                          f"{dim} (got {len(data)}); give every row the same length")
    return next(filter(None, (_misplaced(entry, shape, dim + 1, dtype) for entry in data)), None)


def _check_int64_range(data: Any) -> None:
    """PyTorch's ValueError for a Python int outside int64 (its dtype for Python ints, and what it reads one as for an
    integer ``dtype``), where NumPy would make a uint64 (``2**63``) or object (``-2**63 - 1``) array."""
    low, high = INT64_RANGE
    for n in np.array(data, dtype=object).ravel().tolist():
        if type(n) is int and not low <= n <= high:
            raise ValueError(f"tensor(): the int {n} is outside int64's range [{low}, {high}] (PyTorch's dtype for "
                             "Python ints); pass dtype=gg.float64 to store it as a float")


_PYTHON_NUMBERS = frozenset((bool, int, float))
_WIDE_UNSIGNED = frozenset((np.uint16, np.uint32, np.uint64))


def _python_number(entry: Any) -> bool:
    """Whether ``entry`` is a Python bool, int or float, or of a subclass of one (an ``IntEnum``, a float subclass),
    which PyTorch reads as that number; a NumPy number (``np.float64`` is a float subclass) is not one."""
    return isinstance(entry, (int, float)) and not isinstance(entry, np.generic)


def _entries(data: Any) -> list:
    """The entries of (nested, rectangular) lists and tuples, flattened a level at a time (a rectangular list has
    lists at each level but the last), their types read at C speed."""
    entries = data
    while entries and type(entries[0]) in (list, tuple):
        entries = list(itertools.chain.from_iterable(entries))
    return entries


def _check_numpy_numbers(data: Any, read: np.dtype, dtype: np.dtype | None) -> None:
    """PyTorch's refusals of NumPy numbers (and one-number tensors, here 0-d arrays) in ``data``, a list NumPy read as
    ``read``, made into ``dtype``: with no ``dtype``, a uint16, uint32 or uint64 among other whole numbers or bools
    (its RuntimeError: it promotes them to nothing); and into integers or bools, numbers it converts with
    ``__index__``, which they lack (its TypeError): a ``np.float16`` or ``np.float32`` (``np.float64``, a Python
    float, is cut as one), a float tensor, and into integers a ``np.bool_``."""
    entries = _entries(data)
    kinds = set(map(type, entries))
    if kinds <= _PYTHON_NUMBERS:
        return
    own = {kind for kind in kinds if issubclass(kind, np.generic)} | {
        entry.dtype.type for entry in entries if isinstance(entry, np.ndarray) and entry.ndim}
    if (dtype is None and own & _WIDE_UNSIGNED and len(kinds) > 1
            and not any(issubclass(kind, (float, np.floating)) for kind in kinds)):
        wide = min(own & _WIDE_UNSIGNED, key=lambda kind: kind.__name__)
        raise RuntimeError(f"tensor(): Promotion for uint16, uint32, uint64 types is not supported (a NumPy "
                           f"{wide.__name__} among other whole numbers or bools); convert them first, or pass dtype=")
    target = dtype or read
    if target.kind not in "biu":
        return
    if any(getattr(entry, "ndim", None) == 0 and not isinstance(entry, np.generic) and np.dtype(entry.dtype).kind == "f"
           for entry in entries):  # a tensor, or its array where tensors were read first (tensors_as_numbers)
        raise TypeError(f"tensor(): a float tensor inside a list cannot be written into a {target} tensor (PyTorch "
                        "converts it with __index__, which only integer tensors have); convert it first (x.long())")
    for kind in sorted(own, key=lambda kind: kind.__name__):
        if (issubclass(kind, np.floating) and not issubclass(kind, float)) or (
                issubclass(kind, np.bool_) and target.kind != "b"):
            raise TypeError(f"tensor(): a NumPy {kind.__name__} cannot be written into a {target} tensor (PyTorch "
                            "converts each number with __index__, which it lacks); convert it first (int(x)), or make "
                            "them all floats")


def _list_dtype(data: list | tuple) -> np.dtype:
    """PyTorch's dtype for a (nested) list of numbers that NumPy made float64: a Python float counts as the default
    float dtype, a NumPy number or a tensor as its own dtype, all promoted (``tensor([np.float64(0.5)])`` is float64,
    ``tensor([1, 2.5])`` float32), from its entries (:func:`_entries`)."""
    entries = _entries(data)
    if _PYTHON_NUMBERS.issuperset(map(type, entries)):  # the common case: Python numbers alone
        if float not in map(type, entries):  # whole numbers NumPy made float64: one is past int64's range
            _check_int64_range(entries)
        return get_default_dtype()
    _check_numpy_numbers(entries, np.dtype(np.float64), None)  # NumPy made a uint64 among ints float64
    own = [np.asarray(entry).dtype for entry in entries if not _python_number(entry)]
    if any(isinstance(entry, float) and _python_number(entry) for entry in entries):  # a float subclass's too
        own.append(get_default_dtype())
    elif not own:  # whole numbers alone, one of a subclass (an IntEnum)
        _check_int64_range(entries)
        return get_default_dtype()
    return functools.reduce(promote_types, own)
