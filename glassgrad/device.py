"""Where tensors live: glassgrad computes with NumPy on the CPU, so ``'cpu'`` is its only device.

PyTorch code moves tensors and models with ``.to(device)``, ``.to(device, dtype)`` or
``.to(device=…, dtype=…)``. glassgrad accepts the same calls, so such code runs unchanged,
and refuses another device (``'cuda'``, ``'mps'``, …) with a message saying why.

>>> import glassgrad as gg
>>> gg.tensor([1.0, 2.0]).to("cpu", gg.float64).dtype
dtype('float64')
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "hip", "meta", "xla", "mtia", "hpu", "ipu", "vulkan")
"""PyTorch's device names (each optionally with an index, ``cuda:1``)."""
_DEVICE = re.compile(rf"(?:{'|'.join(DEVICE_TYPES)})(?::\d+)?")


def is_device(value: Any) -> bool:
    """True for a device name such as ``'cpu'``, ``'cuda:0'`` or ``'mps'``."""
    return isinstance(value, str) and _DEVICE.fullmatch(value) is not None


def check_device(device: Any) -> None:
    """Accept ``None`` and ``'cpu'``; refuse every other device, saying that glassgrad runs on the CPU."""
    if device is None or device in ("cpu", "cpu:0"):
        return
    if is_device(device):
        raise RuntimeError(f"device {device!r} is not available: glassgrad runs on the CPU only (with NumPy); "
                           "use 'cpu' or leave the device out")
    raise ValueError(f"unknown device {device!r}: glassgrad runs on the CPU, so the only device is 'cpu'")


def to_arguments(owner: str, args: tuple, kwargs: dict[str, Any]) -> tuple[Any, bool]:
    """``(dtype, copy)`` from the arguments of PyTorch's ``.to``, after checking the device.

    Accepted: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` (its dtype),
    and the keywords ``device``, ``dtype``, ``non_blocking`` (no effect here) and ``copy``.
    ``dtype`` is None when none was asked for.
    """
    options = dict(kwargs)
    device, dtype = options.pop("device", None), options.pop("dtype", None)
    options.pop("non_blocking", None)
    copy = bool(options.pop("copy", False))
    if options:
        raise TypeError(f"{owner}.to() got unexpected keyword argument(s): {', '.join(options)}")
    rest = list(args)
    if rest and is_device(rest[0]):
        if device is not None:
            raise TypeError(f"{owner}.to() got the device twice, as {rest[0]!r} and device={device!r}")
        device = rest.pop(0)
    if rest:
        if dtype is not None:
            raise TypeError(f"{owner}.to() got the dtype twice, as {rest[0]!r} and dtype={dtype!r}")
        first = rest.pop(0)
        is_dtype_like = isinstance(first, (str, type, np.dtype)) or not hasattr(first, "dtype")
        dtype = first if is_dtype_like else first.dtype  # a tensor: take its dtype, as PyTorch does
    if rest:
        raise TypeError(f"{owner}.to() takes a device and/or a dtype; got also {rest!r}")
    check_device(device)
    return dtype, copy
