"""Making tensors: from data, filled with constants, or random (seeded, never NumPy's global state).

>>> import glassgrad as gg
>>> gg.tensor([1, 2]).dtype, gg.tensor([1.0, 2]).dtype
(dtype('int64'), dtype('float32'))
>>> gg.randn(2, 3, seed=0).shape
Size([2, 3])

Random functions draw from glassgrad's own stream, :data:`default_generator` (over a NumPy ``Generator``): reset
it with :func:`manual_seed`, or pass ``seed=`` (a fresh generator for that call) or
``generator=`` (your own: a :class:`~glassgrad.generator.Generator` or a NumPy one).

Float tensors made without a ``dtype`` take the default dtype (float32 unless
:func:`~glassgrad.dtypes.set_default_dtype` changed it). Each function takes PyTorch's
``device=`` too: ``'cpu'`` (or ``None``) works, another device is refused (see :mod:`glassgrad.device`).
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import numpy as np

from .arguments import (
    check_in_range,
    exact_whole_bits,
    int_argument,
    is_tensor_dtype,
    keyword_sizes,
    resolve_dtype,
    shape_arg,
    shape_text,
    shown,
    sizes_tuple,
    written_number,
)
from .autograd import STATE, note_unreplayable, recorded_call
from .device import check_device
from .dtypes import get_default_dtype
from .generator import Generator, moved_to
from .memory_formats import astype_in_order, check_memory_format, copy_strides, preserve_format, strides_of
from .ops import DRAW
from .reading import as_array, fitting_integers, refuse_backward_strides, unsupported_array
from .settings import warn_at_learners_line, warn_once
from .tensor import GIVEN_READ_ONLY, Tensor, apply, int64, numbers_array, tensor_argument, untracked

default_generator = Generator().manual_seed(0)
"""PyTorch's ``torch.default_generator``: glassgrad's own random stream (from seed 0 at start), which every random
function draws from unless given ``seed=`` or ``generator=`` (``gg.manual_seed`` restarts it and returns it, as
PyTorch's does)."""


def manual_seed(seed: int) -> Generator:
    """Restart glassgrad's random stream (:data:`default_generator`) so later draws repeat exactly; returns it.

    ``seed`` is read as ``int(seed)`` first, as PyTorch's ``torch.manual_seed`` reads it (``1.5`` is 1, ``"42"`` 42);
    :meth:`Generator.manual_seed` takes whole numbers only."""
    return default_generator.manual_seed(int(seed))


def initial_seed() -> int:
    """The seed glassgrad's generator last started from (:func:`manual_seed`, :func:`seed`; 0 at start)."""
    return default_generator.initial_seed()


def seed() -> int:
    """Restart glassgrad's generator from a fresh seed drawn from the operating system; returns that seed."""
    return default_generator.seed()


def get_rng_state() -> Tensor:
    """Where glassgrad's generator is in its stream, as a uint8 tensor; :func:`set_rng_state` goes back there.

    (PyTorch's state is a uint8 tensor too, of its own generator: the two do not carry over.)
    """
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Move glassgrad's generator back to a position :func:`get_rng_state` returned: the same draws follow."""
    moved_to(default_generator, new_state, "set_rng_state")


def pick_generator(seed: int | None, generator: np.random.Generator | Generator | None) -> np.random.Generator:
    """The generator a random draw uses: ``generator`` if given, a fresh one for ``seed``, else glassgrad's own.

    Picked here, its draws are made outside any kernel: a compiled step that reaches it runs eagerly
    (``randn``, ``gg.normal``, ``x.uniform_()``… draw in a kernel instead, :func:`drawn`, which picks the stream
    itself)."""
    if STATE.switches[1] is not None:
        note_unreplayable("a random draw outside a kernel (a layer built inside the step, random_split, a sampler's "
                          "order…) would repeat the capture's numbers; build and draw outside and pass them in, or use "
                          "gg.randn, gg.normal, x.uniform_(), nn.init or nn.Dropout, which a replay draws again")
    return _stream(seed, generator)


def _stream(seed: int | None, generator: np.random.Generator | Generator | None) -> np.random.Generator:
    """:func:`pick_generator`'s choice, with nothing told to a compiled step."""
    if isinstance(generator, Generator):
        return generator.numpy_generator
    if generator is None:
        return np.random.default_rng(seed) if seed is not None else default_generator.numpy_generator
    if isinstance(generator, np.random.Generator) or hasattr(generator, "integers"):  # NumPy's, or drawing as it
        return generator
    raise TypeError(f"generator must be a gg.Generator (or a NumPy Generator), not {type(generator).__name__}: "
                    "pass gg.Generator().manual_seed(seed), or leave it out to draw from glassgrad's own")


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (numbers, nested lists, arrays, tensors)."""
    check_device(device)
    return copied(data, dtype, requires_grad, "torch.tensor")


def copied(data: Any, dtype: Any, requires_grad: bool, spelling: str | None) -> Tensor:
    """A new leaf holding a copy of ``data``. Given a tensor, ``torch.tensor(t)`` (the ``spelling``) warns as PyTorch
    does, at the learner's line: ``t.detach().clone()`` says the same thing plainly (and keeps the dtype)."""
    if spelling is not None and isinstance(data, Tensor):
        warn_at_learners_line("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
                              "or sourceTensor.detach().clone().requires_grad_(True), rather than "
                              f"{spelling}(sourceTensor).")
    refuse_backward_strides(data)
    if type(data) is np.ndarray:  # one kernel of a compiled step, which copies the array as it is at each call
        return _leaf(recorded_call(as_array, data, dtype), requires_grad)
    return _leaf(numbers_array(data, dtype), requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other).

    The array must hold bools, whole numbers or floats of up to 8 bytes in the machine's byte order (what a
    tensor's memory can be); others are refused as PyTorch refuses them (an ``object`` array, as pandas gives
    for mixed columns, a ``datetime64`` or a string array), or because glassgrad has no such dtype (complex).
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a NumPy array, got {type(array).__name__}")
    refuse_backward_strides(array)
    if not is_tensor_dtype(array.dtype):
        raise unsupported_array(array.dtype, "from_numpy")
    return _sharing(array)


def frombuffer(buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0, requires_grad: bool = False) -> Tensor:
    """A 1-D tensor sharing memory with an object of Python's buffer protocol (``bytearray``, ``array.array``,
    ``mmap``): ``count`` entries of ``dtype`` (all that fit when −1) from byte ``offset`` on; the sizes are checked
    with PyTorch's ValueErrors. A read-only buffer (``bytes``) gives a read-only tensor, with a warning: an in-place
    change to it raises, where PyTorch's writes into the buffer it calls non-writable."""
    try:
        length = memoryview(buffer).nbytes
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    numpy_dtype = resolve_dtype(dtype)
    size = numpy_dtype.itemsize
    if length == 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length "
                         f"({length} bytes) minus 1")
    if count < 0 and (length - offset) % size:
        raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} bytes) must be a multiple "
                         f"of element size ({size})")
    if count > 0 and count * size > length - offset:
        raise ValueError(f"requested buffer length ({count} * {size} bytes) after offset ({offset} bytes) must not "
                         f"be greater than actual buffer length ({length} bytes)")
    array = np.frombuffer(buffer, numpy_dtype, count if count > 0 else -1, offset)
    if not array.flags.writeable:
        warn_once("The given buffer is not writable, so neither is the tensor sharing its memory: an in-place "
                  "change to it raises. You may want to copy the buffer (bytearray(b)) or make it writable before "
                  "converting it to a tensor. This type of warning will be suppressed for the rest of this program.")
    return _leaf(array, requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` itself if it already is a tensor (of that dtype; of another, ``data.to(dtype)``, whose gradient flows
    back to ``data``); a NumPy array of that dtype is shared, as by :func:`from_numpy` (PyTorch's too); else a new
    tensor."""
    if type(data) is Tensor and dtype is None and device is None:  # the engine's common case: nothing to check
        return data
    check_device(device)
    if isinstance(data, Tensor):  # another dtype: a cast, recorded in the graph as PyTorch's ``data.to(dtype)``
        return data if dtype is None or resolve_dtype(dtype) == data.dtype else data.to(dtype)
    if (type(data) is np.ndarray and is_tensor_dtype(data.dtype)
            and (dtype is None or resolve_dtype(dtype) == data.dtype)):
        refuse_backward_strides(data)
        return _sharing(data)
    return copied(data, dtype, False, None)


def _sharing(array: np.ndarray) -> Tensor:
    """A tensor whose memory is ``array`` (for :func:`from_numpy` and :func:`as_tensor`). A read-only array (pandas'
    ``to_numpy()``, ``np.broadcast_to``) warns, once in a process, as PyTorch does; here an in-place change raises."""
    if not array.flags.writeable:
        warn_once("The given NumPy array is not writable, so neither is the tensor sharing its memory: an in-place "
                  "change to it raises. You may want to copy the array (np.array(a)) or make it writable before "
                  "converting it to a tensor. This type of warning will be suppressed for the rest of this program.")
        GIVEN_READ_ONLY[id(array)] = array  # so it stays unwritten where its memory is not (np.broadcast_to's)
    return _leaf(array, False)


def _sized(size: tuple, name: str, keyword: Any = None) -> tuple:
    """A shape given as ``f(2, 3)``, ``f((2, 3))`` or, in ``keyword``, ``f(size=(2, 3))``: whole numbers, none
    negative. ``f()`` gives none: PyTorch's TypeError (``f(())`` is the 0-d shape)."""
    if keyword is not None or not size:
        size = keyword_sizes(size, keyword, name, "size")
    shape = shape_arg(size, name)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"{name}: sizes must be non-negative, but got {shape_text(shape)}")
    return shape


def _float_dtype(dtype: Any, name: str, error: type[Exception] = NotImplementedError) -> np.dtype:
    """``dtype`` (default float32), refused unless floating: random reals in an int would be truncated. ``error``
    is PyTorch's exception for ``name`` (NotImplementedError from its samplers, RuntimeError from the windows)."""
    resolved = resolve_dtype(dtype) or get_default_dtype()
    if resolved.kind != "f":
        raise error(f"{name}: dtype {resolved} is not floating; its samples are real numbers, so use "
                        "gg.float32 or gg.float64 (randint draws integers)")
    return resolved


def _leaf(array: np.ndarray, requires_grad: bool) -> Tensor:
    result = untracked(array)
    result.requires_grad = requires_grad
    return result


def _filled(size: tuple, value: Any, dtype: Any, requires_grad: bool, name: str, device: Any = None,
            keyword: Any = None, given: bool = False) -> Tensor:
    """A new tensor of ``value``; a ``given`` value (the learner's, as in ``full``) is refused in a float dtype it
    overflows (1e40 in float32), as PyTorch refuses it (:func:`written_number`)."""
    check_device(device)
    dtype = resolve_dtype(dtype) or get_default_dtype()
    if dtype.kind in "iu":  # PyTorch's conversion of the number: refused if it does not fit (−1 wraps to 255 in uint8)
        value = fitting_integers(np.asarray(value), dtype, name)
    elif given and dtype.kind == "f":
        value = written_number(value, dtype, name)
    # a kernel of a compiled step: a new array at each replay, which the step may write into (outputs[t] = h)
    return _leaf(recorded_call(np.full, _sized(size, name, keyword), value, dtype), requires_grad)


def zeros(*shape: int, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``."""
    return _filled(shape, 0.0, dtype, requires_grad, "zeros", device, size)


def ones(*shape: int, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)``, ``ones((2, 3))`` or ``ones(size=(2, 3))``."""
    return _filled(shape, 1.0, dtype, requires_grad, "ones", device, size)


def empty(*shape: int, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          memory_format: Any = None) -> Tensor:
    """A tensor of ``size`` to be filled later, laid out in ``memory_format`` (``torch.channels_last``: PyTorch's
    strides). Unlike PyTorch's (whatever the memory held), it holds zeros."""
    if memory_format is preserve_format:
        raise RuntimeError("empty: unsupported memory format torch.preserve_format (as PyTorch's: a new tensor has no "
                           "layout to keep); pass torch.contiguous_format or torch.channels_last")
    result = _filled(shape, 0.0, dtype, requires_grad, "empty", device, size)
    check_memory_format(memory_format, "empty", result.ndim)
    return laid_like(result, result, memory_format)


def laid_like(result: Tensor, input: Tensor, memory_format: Any) -> Tensor:
    """``result`` (a new leaf of ``input``'s shape) laid out as PyTorch lays out a tensor made like ``input`` in
    ``memory_format`` (None: ``preserve_format``, the default of the ``*_like`` factories): a copy where that is
    not how ``result`` sits (a kernel of a compiled step), else ``result`` itself."""
    strides = copy_strides(input.array, memory_format)
    if strides is None or strides == strides_of(result.array):
        return result
    return _leaf(recorded_call(astype_in_order, result.array, result.array.dtype, strides), result.requires_grad)


def _fill_number(fill_value: Any, name: str) -> Any:
    """``fill_value`` as PyTorch's Number: a bool, an int, a float, a NumPy number or a 0-d tensor (its number); a
    tensor with a dim (even of one entry), a ``Fraction`` or text is refused."""
    if isinstance(fill_value, Tensor) and fill_value.ndim == 0:
        fill_value = fill_value.item()
    if not isinstance(fill_value, (int, float, np.number, np.bool_)):
        raise TypeError(f"{name}: fill_value must be a number, not {type(fill_value).__name__} ({shown(fill_value)}); "
                        "give a number or a 0-d tensor (v.item() reads a one-entry tensor's number)")
    return fill_value


def full(size: tuple, fill_value: float, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (the default float dtype for a float, else int64 or bool)."""
    fill_value = _fill_number(fill_value, "full")
    if dtype is None:  # as PyTorch: a bool gives bool, a whole number (a NumPy int32 too) int64, others the default
        dtype = np.bool_ if isinstance(fill_value, bool) else (
            int64 if isinstance(fill_value, numbers.Integral) else None)
    return _filled((sizes_tuple(size, "full"),), fill_value, dtype, requires_grad, "full", device, given=True)


def zeros_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               memory_format: Any = None) -> Tensor:
    check_memory_format(memory_format, "zeros_like", tensor_argument(input, "zeros_like", "input", 1).ndim)
    return laid_like(_filled((input.shape,), 0.0, dtype or input.dtype, requires_grad, "zeros_like", device), input,
                     memory_format)


def ones_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False,
              memory_format: Any = None) -> Tensor:
    check_memory_format(memory_format, "ones_like", tensor_argument(input, "ones_like", "input", 1).ndim)
    return laid_like(_filled((input.shape,), 1.0, dtype or input.dtype, requires_grad, "ones_like", device), input,
                     memory_format)


def empty_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               memory_format: Any = None) -> Tensor:
    """A tensor of ``input``'s shape and dtype to be filled later (zeros here; see :func:`empty`)."""
    check_memory_format(memory_format, "empty_like", tensor_argument(input, "empty_like", "input", 1).ndim)
    return laid_like(_filled((input.shape,), 0.0, dtype or input.dtype, requires_grad, "empty_like", device), input,
                     memory_format)


def full_like(input: Tensor, fill_value: float, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """A tensor of ``input``'s shape (and dtype, unless ``dtype`` is given) filled with ``fill_value``."""
    check_memory_format(memory_format, "full_like", tensor_argument(input, "full_like", "input", 1).ndim)
    fill_value = _fill_number(fill_value, "full_like")
    filled = _filled((input.shape,), fill_value, dtype or input.dtype, requires_grad, "full_like", device, given=True)
    return laid_like(filled, input, memory_format)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    check_device(device)
    if m is not None:  # an int to PyTorch, not a size after the first: eye(2, True) is its TypeError (see shape_arg)
        m = int_argument(m, "eye", "m")
    rows, columns = _sized((n, n if m is None else m), "eye")
    return _leaf(np.eye(rows, columns, dtype=resolve_dtype(dtype) or get_default_dtype()), requires_grad)


_REAL = (int, float, np.integer, np.floating)
"""The real numbers a range takes, as PyTorch's (its Number: never a ``Fraction`` or ``Decimal``)."""


def _range_dtype(dtype: Any, name: str) -> np.dtype:
    """``dtype`` (the default float dtype if None) of a range, refused when bool, as PyTorch has no bool ranges."""
    resolved = resolve_dtype(dtype) or get_default_dtype()
    if resolved.kind == "b":
        raise NotImplementedError(f"{name}: no bool ranges (PyTorch's \"{name}_cpu\" is not implemented for 'Bool'); "
                                  "make a number range and compare it, e.g. gg.arange(5) > 0")
    return resolved


def _real(value: Any, label: str, name: str) -> float:
    """A finite real number (a 0-d tensor counts as its number, as PyTorch's Number), else one clear error."""
    if isinstance(value, Tensor) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, _REAL):
        raise TypeError(f"{name}: {label} must be a number, not {type(value).__name__} ({value!r})")
    if not math.isfinite(value):
        raise RuntimeError(f"{name}: {label} is {value}; it needs a finite number")
    return value


def _ends(start: Any, end: Any, name: str) -> tuple[float, float]:
    """``start`` and ``end`` of ``linspace`` or ``logspace`` as numbers (:func:`_real`); a tensor with a dim, even of
    one entry, is PyTorch's RuntimeError there (elsewhere, as ``base``, its TypeError)."""
    for label, value in (("start", start), ("end", end)):
        if isinstance(value, Tensor) and value.ndim:
            raise RuntimeError(f"{name} only supports 0-dimensional start and end tensors, but got {label} with "
                               f"{value.ndim} dimension(s); give a number or a 0-d tensor ({label}.reshape(()))")
    return _real(start, "start", name), _real(end, "end", name)


def _points(start: float, end: float, count: int, dtype: np.dtype, name: str, base: float | None = None) -> np.ndarray:
    """``count`` evenly spaced points from ``start`` to ``end`` in float64, for a ``dtype`` tensor (with ``base``,
    the powers ``base ** point``, :func:`logspace`).

    For a float dtype ``start + k·step`` with ``step = (end − start)/(count − 1)`` (and ``end`` itself last). For an
    integer dtype as PyTorch's CPU kernel: the ends are first written into the dtype (cut toward 0, refused out of its
    range: :func:`written_number`), then ``s + k·step`` for the first ``⌊count/2⌋`` points and
    ``e − (count − 1 − k)·step`` for the rest, so ``linspace(0.5, 9.7, 6, dtype=int64)`` steps from 0 to 9 by 1.8.
    One point is ``start`` (or ``base ** start``) written into the dtype, as PyTorch fills it; no point reads no end
    (PyTorch's empty tensor, whatever ``start`` and ``end``)."""
    if dtype.kind == "f" or not count:
        points = np.linspace(start, end, count)
    elif count == 1:
        return np.array([written_number(start if base is None else base ** start, dtype, name)], dtype=np.float64)
    else:
        start, end = (float(int(written_number(value, dtype, name))) for value in (start, end))  # −3 into uint8: 253
        step = (end - start) / (count - 1)
        k = np.arange(count, dtype=np.float64)
        points = np.where(k < count // 2, start + step * k, end - step * (count - 1 - k))
    return points if base is None else np.power(base, points)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced numbers from ``start`` to ``end``, both included.

    The k-th is ``start + k·(end − start)/(steps − 1)``; an integer dtype cuts the ends to whole numbers first and
    each point toward 0 (:func:`_points`).
    """
    check_device(device)
    start, end = _ends(start, end, "linspace")
    (count,) = _sized((steps,), "linspace")
    dtype = _range_dtype(dtype, "linspace")
    return _leaf(_points(start, end, count, dtype, "linspace").astype(dtype), requires_grad)


def logspace(start: float, end: float, steps: int, base: float = 10.0, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``: ``steps`` numbers evenly spaced on a log scale (an integer dtype
    cuts the ends to whole numbers first, and each power toward 0: :func:`_points`)."""
    check_device(device)
    start, end = _ends(start, end, "logspace")
    base = _real(base, "base", "logspace")
    (count,) = _sized((steps,), "logspace")
    dtype = _range_dtype(dtype, "logspace")
    with np.errstate(over="ignore", invalid="ignore"):  # past the dtype's range: wrapped, as PyTorch's C++ cast
        return _leaf(_points(start, end, count, dtype, "logspace", float(base)).astype(dtype), requires_grad)


def arange(start: float = 0, end: float | None = None, step: float = 1, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """``[start, start + step, …)`` up to ``end``; int64 for integer arguments, else the default float dtype. An
    integer dtype with fractional numbers cuts them to whole ones first, as PyTorch does: int64 all three
    (``arange(0, 5, 1.5, dtype=int64)`` is 0 … 4 by 1), another integer dtype start and step, as many entries as
    the float range has (``arange(0, 4.5, 1.5, dtype=int32)`` is 0, 1, 2)."""
    check_device(device)
    if end is None:
        start, end = 0, start
    # a 0-d tensor counts as its number, as in PyTorch (arange(n) with n = x.shape[0] traced, or a count's sum)
    start, end, step = (value.item() if isinstance(value, Tensor) and value.ndim == 0 else value
                        for value in (start, end, step))
    for label, value in (("start", start), ("end", end), ("step", step)):  # a bool is an int here, as in PyTorch
        if not isinstance(value, _REAL):
            raise TypeError(f"arange: {label} must be a number, not {type(value).__name__} ({value!r})")
        if not math.isfinite(value):
            raise RuntimeError(f"arange: {label} is {value}; the range needs finite numbers")
    check_steps("arange", start, end, step)
    integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dtype = _range_dtype(int64 if integral and dtype is None else dtype, "arange")
    if dtype.kind in "iu" and not integral:  # as PyTorch: numbers cut to whole ones (int64: all; else start, step)
        if dtype == int64:
            start, end, step = int(start), int(end), int(step)
            if step == 0:
                raise ValueError("arange: step must be nonzero (with dtype=int64 the step is cut to its whole part, "
                                 "0 here); give a step of at least 1, or a float dtype")
            check_steps("arange", start, end, step)
        else:  # as many entries as the float range has, stepping by the step's whole part
            count = math.ceil((end - start) / step)
            return _leaf((int(start) + np.arange(count) * int(step)).astype(dtype), requires_grad)
    return _leaf(np.arange(start, end, step).astype(dtype), requires_grad)


def check_steps(name: str, start: float, end: float, step: float) -> None:
    """PyTorch's refusals of a range (``arange``, ``range``) whose steps never reach ``end``: a step of 0, or one
    pointing away from it (RuntimeError, as PyTorch)."""
    if step == 0:
        raise RuntimeError(f"{name}: step must be non-zero (the range would never end)")
    if (end - start) * step < 0:
        raise RuntimeError(f"{name}: from {start} to {end} a step of {step} never arrives; flip the sign of step "
                           "(or swap start and end)")


def randn(*shape: int, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          seed: int | None = None, generator: np.random.Generator | Generator | None = None) -> Tensor:
    """Samples of the standard normal distribution N(0, 1)."""
    check_device(device)
    shape = _sized(shape, "randn", size)  # first, as PyTorch reads its arguments before the dtype
    return _leaf(recorded_call(drawn, "standard_normal", seed, generator, shape, _float_dtype(dtype, "randn")),
                 requires_grad)


def rand(*shape: int, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         seed: int | None = None, generator: np.random.Generator | Generator | None = None) -> Tensor:
    """Samples of the uniform distribution on [0, 1)."""
    check_device(device)
    shape = _sized(shape, "rand", size)  # first, as PyTorch reads its arguments before the dtype
    return _leaf(recorded_call(drawn, "random", seed, generator, shape, _float_dtype(dtype, "rand")), requires_grad)


def drawn(kind: str, seed: int | None, generator: np.random.Generator | Generator | None, shape: tuple,
          dtype: np.dtype, *params: Any) -> np.ndarray:
    """Draws of NumPy's ``Generator.kind(*params, size=shape)`` (``standard_normal``, ``random``, ``integers``
    between two bounds, ``uniform``, ``exponential``, ``poisson`` of given rates…), cast to ``dtype``, from the
    stream :func:`pick_generator` picks.

    One call, which picks the stream itself, so that a compiled step (:mod:`glassgrad.compiler`) replays the draw
    from the same stream at each call (glassgrad's own after ``gg.manual_seed`` too), as eager draws.

    ``random`` and ``uniform`` draws stay below their exclusive top (1, or ``uniform``'s ``high``) after the cast,
    as PyTorch's: a float64 draw just under it would round up to it in float16 (1 in ~4,000 draws of [-9, 9)) or
    float32; such a draw becomes the dtype's largest number below the top."""
    sample = getattr(_stream(seed, generator), kind)(*params, size=shape).astype(dtype)
    if kind in ("random", "uniform") and sample.dtype.kind == "f":
        low, high = (0.0, 1.0) if kind == "random" else params
        top = np.nextafter(np.asarray(high, sample.dtype), np.asarray(low, sample.dtype))
        np.minimum(sample, top, out=sample)
    return sample


def sample_of(sample: np.ndarray, parameters: tuple, name: str, differentiable: bool = True) -> Tensor:
    """``sample``, drawn from a distribution of ``parameters`` (numbers or tensors), as a tensor: in the graph of
    those that require grad, each getting a gradient of 0 from it (:data:`glassgrad.ops.DRAW`: ``name``'s draw, whose
    backward is refused where PyTorch has no derivative, ``differentiable=False``), else outside any graph (made in
    ``inference_mode()``: an inference tensor)."""
    tensors = tuple(value for value in parameters if isinstance(value, Tensor))
    if not any(value._requires_grad for value in tensors):
        return untracked(sample)
    return apply(DRAW, tensors, sample, len(tensors), name, differentiable)


def scaled_draws(kind: str, seed: int | None, generator: np.random.Generator | Generator | None, shape: tuple,
                 dtype: np.dtype, location: Any, scale: Any) -> np.ndarray:
    """``location + scale · z`` in float64, cast to ``dtype``: ``z`` the draws of NumPy's ``kind`` of ``shape``
    (``standard_normal``: N(location, scale²); ``standard_cauchy``), ``location`` and ``scale`` numbers or arrays
    that broadcast to it. One kernel of a compiled step, as :func:`drawn`: an array, 0-d too (NumPy's sum of 0-d
    arrays is a scalar, which a replay would keep as the capture's)."""
    z = getattr(_stream(seed, generator), kind)(size=shape)
    return np.asarray(np.asarray(location, dtype=np.float64) + np.asarray(scale, dtype=np.float64) * z, dtype=dtype)


def randint(low: int = 0, high: Any = None, size: tuple | None = None, seed: int | None = None,
            generator: np.random.Generator | Generator | None = None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from ``[low, high)`` (int64); ``randint(high, size)`` draws from ``[0, high)``."""
    check_device(device)
    if size is None:
        if not isinstance(high, (tuple, list)):
            raise TypeError("randint: give the size as a tuple: randint(low, high, (n,)) or randint(high, (n,))")
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=(n,)), as PyTorch's
        low, high = 0, low
    sizes_tuple(size, "randint")
    # a one-entry integer tensor is its number, as in PyTorch (another tensor: TypeError)
    low, high = (operator.index(value) if isinstance(value, Tensor) else value for value in (low, high))
    for label, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"randint: {label} must be a whole number (int), not {value!r}")
    shape = _sized((size,), "randint")
    if low >= high:
        raise RuntimeError(f"randint: low ({low}) must be less than high ({high}); the range [low, high) is empty")
    dtype = resolve_dtype(dtype) or int64
    check_in_range("randint", dtype, ("from", low), ("to - 1", high - 1))  # as PyTorch: else the draws would wrap
    return _leaf(recorded_call(drawn, "integers", seed, generator, shape, dtype, low, high), requires_grad)


def randperm(n: int, seed: int | None = None, generator: np.random.Generator | Generator | None = None,
             dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A random ordering of ``0 … n−1`` (int64, or ``dtype``: one that holds ``n − 1``, and every number up to it
    exactly for a float one, as PyTorch refuses others: the numbers would wrap around, or round onto each other)."""
    check_device(device)
    (count,) = _sized((n,), "randperm")
    dtype = resolve_dtype(dtype) or int64
    if dtype.kind == "b":
        raise NotImplementedError("randperm: no orderings of bool (0 and 1 only); use an integer dtype")
    if dtype.kind == "f" and count - 1 > 2 ** exact_whole_bits(dtype):
        raise RuntimeError(f"randperm: n cannot be greater than 2^{exact_whole_bits(dtype)}+1 for {dtype}, which "
                           f"holds no whole number past it exactly (got n={count}); use int64, the default")
    check_in_range("randperm", dtype, ("n - 1", count - 1))
    return _leaf(recorded_call(_permuted, seed, generator, count, dtype), requires_grad)


def _permuted(seed: int | None, generator: np.random.Generator | Generator | None, count: int,
              dtype: np.dtype) -> np.ndarray:
    """:func:`randperm`'s ordering, one kernel of a compiled step, as :func:`drawn`."""
    return _stream(seed, generator).permutation(count).astype(dtype)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices as rows of 0s with a 1 at the class: shape ``(*, num_classes)``, int64 (``F.one_hot``).

    ``num_classes=-1`` takes one more than the largest index. Multiply by a weight matrix after
    ``.float()``: ``F.one_hot(x, 27).float() @ W`` picks rows of ``W``.
    """
    indices = tensor.array if isinstance(tensor, Tensor) else np.asarray(tensor)
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot: the class indices must be integers (gg.int64), got {indices.dtype}")
    whole = not isinstance(num_classes, bool) and isinstance(num_classes, (int, np.integer))
    if not whole or num_classes < -1:
        raise (RuntimeError if whole else TypeError)(  # TypeError for no int, as PyTorch's argument parser
            f"one_hot: num_classes must be a whole number (or -1 to infer it), got {num_classes!r}")
    if num_classes <= 0 and not indices.size:  # PyTorch refuses 0 classes for an empty tensor too
        raise RuntimeError(f"one_hot: cannot infer num_classes from an empty tensor (got {num_classes}); pass "
                           "num_classes > 0")
    if num_classes == -1:
        note_unreplayable("one_hot with num_classes=-1 reads the largest index, so the number of columns depends on "
                          "the values; pass num_classes")
        num_classes = int(indices.max()) + 1
    return Tensor._wrap(recorded_call(_one_hot_rows, indices, int(num_classes)))


def _one_hot_rows(indices: np.ndarray, num_classes: int) -> np.ndarray:
    """:func:`one_hot`'s rows, its indices checked: one kernel of a compiled step, so that each batch's indices are
    checked again (NumPy would count a negative class from the end)."""
    _check_classes(indices, num_classes)
    rows = np.zeros((*indices.shape, num_classes), dtype=np.int64)  # not rows of np.eye: C² numbers for C classes
    np.put_along_axis(rows, indices[..., None].astype(np.intp), 1, axis=-1)
    return rows


def _check_classes(indices: np.ndarray, num_classes: int) -> None:
    """PyTorch's refusals of a class index below 0 or not below ``num_classes``."""
    if indices.size and indices.min() < 0:
        raise RuntimeError(f"one_hot: class indices must be >= 0, got {indices.min()}")
    if indices.size and indices.max() >= num_classes:
        raise RuntimeError(f"one_hot: class index {indices.max()} is not smaller than num_classes ({num_classes})")
