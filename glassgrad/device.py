"""Where tensors live: glassgrad computes with NumPy on the CPU, so ``'cpu'`` is its only device.

PyTorch code moves tensors and models with ``.to(device)``, ``.to(device, dtype)`` or
``.to(device=…, dtype=…)``, and asks ``torch.cuda.is_available()`` first. glassgrad accepts the
same calls and answers the same questions honestly (no CUDA, no MPS, no accelerator), so
device-agnostic code runs unchanged on the CPU, and another device (``'cuda'``, ``'mps'``, …)
is refused with a message saying why and how to write the code so that it runs anywhere.

>>> import glassgrad as gg
>>> gg.tensor([1.0, 2.0]).to("cpu", gg.float64).dtype
dtype('float64')
>>> device = "cuda" if gg.cuda.is_available() else "cpu"
>>> gg.ones(2, device=device).device
device(type='cpu')
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .dtypes import names_a_dtype

DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "hip", "meta", "xla", "mtia", "hpu", "ipu", "vulkan")
"""PyTorch's device names (each optionally with an index, ``cuda:1``)."""
_DEVICE = re.compile(rf"(?:{'|'.join(DEVICE_TYPES)})(?::\d+)?")


AGNOSTIC = "device = 'cuda' if torch.cuda.is_available() else 'cpu'"
"""The line that makes PyTorch code run on whatever machine it finds (here: always the CPU)."""


class device:  # PyTorch's spelling: torch.device
    """PyTorch's ``torch.device``: ``gg.device('cpu')``, ``gg.device('cpu', 0)``, ``gg.device('cuda:0')``.

    Naming another device is allowed (code builds its device before asking for it); using it
    to make or move a tensor is refused by :func:`check_device`. ``str(d)`` is ``'cpu'``,
    and a device equals its name: ``gg.device('cpu') == 'cpu'``.
    """

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:  # PyTorch's argument name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str) or _DEVICE.fullmatch(type) is None:
            raise RuntimeError(f"unknown device {type!r}: expected a name such as 'cpu' or 'cuda:0' "
                               "(glassgrad runs on the CPU, so 'cpu' is the one that works)")
        name, _, number = type.partition(":")
        if number and index is not None:
            raise RuntimeError(f"device {type!r} already has an index; leave out index={index}")
        self.type = name
        self.index = int(number) if number else index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str) and is_device(other):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")
"""The device of every tensor (``t.device``), but the placeholders below."""

META = device("meta")
"""The device of a placeholder: a parameter or buffer of a model moved to 'meta' (:mod:`glassgrad.nn.meta`)."""

_PLACEHOLDER_ENTRY: dict[np.dtype, np.ndarray] = {}
"""One read-only 0-d NaN (zero for integers and booleans) per dtype: every placeholder of that dtype views it."""


def placeholder(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A 'meta' tensor's array: ``shape`` and ``dtype``, read-only and no memory of its own (a zero-stride view of
    one entry, NaN for floats, so that a number computed from it could not pass for a real one)."""
    entry = _PLACEHOLDER_ENTRY.get(dtype)
    if entry is None:
        entry = _PLACEHOLDER_ENTRY[dtype] = np.full((), np.nan if dtype.kind in "fc" else 0, dtype)
        entry.flags.writeable = False
    return np.broadcast_to(entry, shape)


def is_placeholder(array: np.ndarray) -> bool:
    """Whether ``array`` is a :func:`placeholder`."""
    return array.base is not None and array.base is _PLACEHOLDER_ENTRY.get(array.dtype)


def is_device(value: Any) -> bool:
    """True for a device name such as ``'cpu'``, ``'cuda:0'`` or ``'mps'``, or a :class:`device`."""
    return isinstance(value, device) or (isinstance(value, str) and _DEVICE.fullmatch(value) is not None)


def is_meta(where: Any) -> bool:
    """Whether ``where`` names PyTorch's ``'meta'`` device (shapes without numbers)."""
    return is_device(where) and str(where).startswith("meta")


def check_device(where: Any) -> None:
    """Accept ``None`` and ``'cpu'``; refuse every other device, saying that glassgrad runs on the CPU."""
    if where is None or where in ("cpu", "cpu:0") or (isinstance(where, device) and where.type == "cpu"):
        return
    if is_meta(where):
        raise RuntimeError("device 'meta' (tensors with a shape and no numbers) is not available: glassgrad's tensors "
                           "always hold numbers; use 'cpu' (a model may go there, model.to('meta'), to be called "
                           "through torch.func.functional_call)")
    if is_device(where):
        raise RuntimeError(f"device {str(where)!r} is not available: glassgrad runs on the CPU only (with NumPy); "
                           f"use 'cpu', or write device-agnostic code: {AGNOSTIC}")
    error = RuntimeError if isinstance(where, (str, int)) else TypeError  # PyTorch's: a name it cannot read, an index
    raise error(f"unknown device {where!r}: glassgrad runs on the CPU, so the only device is 'cpu'")


def _no_device(name: str) -> Any:
    def answer(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{name}: glassgrad runs on the CPU only (with NumPy), so there is no GPU; "
                           f"write device-agnostic code: {AGNOSTIC}")
    answer.__name__ = name.rpartition(".")[2]
    return answer


class _Namespace:
    """A ``torch.x`` namespace (``torch.cuda``, ``torch.backends.mps``) answering for a CPU-only library."""

    def __init__(self, name: str, doc: str, **members: Any) -> None:
        self.__name__ = name
        self.__doc__ = doc
        self.__dict__.update(members)

    def __repr__(self) -> str:
        return f"<glassgrad's {self.__name__}: CPU only>"


def _false(*args: Any, **kwargs: Any) -> bool:
    return False


def _zero(*args: Any, **kwargs: Any) -> int:
    return 0


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


cuda = _Namespace(
    "glassgrad.cuda", "PyTorch's ``torch.cuda`` for a CPU-only library: no CUDA device, ever.",
    is_available=_false, device_count=_zero, is_initialized=_false, is_bf16_supported=_false,
    manual_seed=_nothing, manual_seed_all=_nothing, synchronize=_nothing, empty_cache=_nothing,  # no GPU: no effect
    memory_allocated=_zero, max_memory_allocated=_zero, memory_reserved=_zero,  # no GPU memory in use, as PyTorch says
    current_device=_no_device("cuda.current_device"), get_device_name=_no_device("cuda.get_device_name"),
    set_device=_no_device("cuda.set_device"), get_device_capability=_no_device("cuda.get_device_capability"),
    get_device_properties=_no_device("cuda.get_device_properties"),
)
"""``gg.cuda.is_available()`` is False; seeding CUDA does nothing (as in PyTorch without a GPU)."""

mps = _Namespace("glassgrad.backends.mps", "PyTorch's ``torch.backends.mps``: no Apple GPU here.",
                 is_available=_false, is_built=_false)
cudnn = _Namespace("glassgrad.backends.cudnn", "PyTorch's ``torch.backends.cudnn``: settings without effect here.",
                   is_available=_false, enabled=False, deterministic=False, benchmark=False, allow_tf32=True)
backend_cuda = _Namespace(
    "glassgrad.backends.cuda", "PyTorch's ``torch.backends.cuda``: its matmul settings (TF32 and the like, for GPU "
    "matrix products) are taken, without effect here.", is_built=_false,
    matmul=_Namespace("glassgrad.backends.cuda.matmul", "GPU matrix-product settings, without effect here.",
                      allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                      allow_bf16_reduced_precision_reduction=True),
)
backends = _Namespace("glassgrad.backends", "PyTorch's ``torch.backends``: ``mps``, ``cudnn``, ``cuda``, all absent.",
                      mps=mps, cudnn=cudnn, cuda=backend_cuda)
accelerator = _Namespace(
    "glassgrad.accelerator", "PyTorch's ``torch.accelerator``: there is none, so code falls back to the CPU.",
    is_available=_false, current_accelerator=_nothing, device_count=_zero,
)


def to_arguments(owner: str, args: tuple, kwargs: dict[str, Any], ndim: int | None = None,
                 meta: bool = False) -> tuple[Any, bool, bool, Any]:
    """``(dtype, copy, to_meta, memory_format)`` from the arguments of PyTorch's ``.to``, after checking the device
    (and the memory format, for a tensor of ``ndim`` dims); ``'meta'`` is taken where ``meta`` is True (a module's
    ``to``), and ``to_meta`` says it was asked for.

    Accepted: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` (its dtype), each followed by
    ``non_blocking`` and ``copy`` given by position, and the keywords ``device``, ``dtype``, ``non_blocking`` and
    ``memory_format`` (:mod:`glassgrad.memory_formats`) and ``copy``. ``dtype`` and ``memory_format`` are None when
    none was asked for.
    """
    from .memory_formats import check_memory_format

    options = dict(kwargs)
    where, dtype = options.pop("device", None), options.pop("dtype", None)
    options.pop("non_blocking", None)
    memory_format = options.pop("memory_format", None)
    check_memory_format(memory_format, f"{owner}.to", ndim)
    copy = bool(options.pop("copy", False))
    if options:
        raise TypeError(f"{owner}.to() got unexpected keyword argument(s): {', '.join(options)}")
    rest = list(args)
    if rest and (is_device(rest[0]) or isinstance(rest[0], str) and not names_a_dtype(rest[0])):
        if where is not None:
            raise TypeError(f"{owner}.to() got the device twice, as {rest[0]!r} and device={where!r}")
        where = rest.pop(0)
    if rest:
        if dtype is not None:
            raise TypeError(f"{owner}.to() got the dtype twice, as {rest[0]!r} and dtype={dtype!r}")
        first = rest.pop(0)
        is_dtype_like = isinstance(first, (str, type, np.dtype)) or not hasattr(first, "dtype")
        dtype = first if is_dtype_like else first.dtype  # a tensor: take its dtype, as PyTorch does
    if 0 < len(rest) <= 2 and all(isinstance(flag, bool) for flag in rest):  # to(dtype, non_blocking, copy)
        copy = copy or (len(rest) == 2 and rest[1])
        rest = []
    if rest:
        raise TypeError(f"{owner}.to() takes a device and/or a dtype; got also {rest!r}")
    if meta and is_meta(where):
        return dtype, copy, True, memory_format
    check_device(where)
    return dtype, copy, False, memory_format


def get_default_device() -> device:
    """Where new tensors are made: always the CPU (``device(type='cpu')``)."""
    return CPU


def set_default_device(device: Any) -> None:  # noqa: A002 (PyTorch's name)
    """Accept ``'cpu'`` (or ``None``, the default): glassgrad makes every tensor on the CPU; refuse any
    other device, saying so."""
    check_device(device)
