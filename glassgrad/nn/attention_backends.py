"""Which kernels ``F.scaled_dot_product_attention`` may use: PyTorch's ``torch.nn.attention.sdpa_kernel`` and
``torch.backends.cuda``'s switches (``enable_flash_sdp``, the deprecated ``sdp_kernel`` context manager, …).

PyTorch picks among kernels (math, flash, memory-efficient, cuDNN) that compute the same attention; code written
for GPUs narrows the choice (``with sdpa_kernel(SDPBackend.FLASH_ATTENTION):``). glassgrad has one way, the rows
of :mod:`glassgrad.nn.attention`, and answers as PyTorch does on a CPU: the math and flash backends run there, the
memory-efficient and cuDNN ones do not, so a choice of only those fails at the call, as in PyTorch.

>>> import glassgrad as gg
>>> from glassgrad.nn.attention_backends import SDPBackend, sdpa_kernel
>>> q = gg.ones(1, 2, 4)
>>> with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]):
...     gg.nn.functional.scaled_dot_product_attention(q, q, q).shape
Size([1, 2, 4])
"""

from __future__ import annotations

import contextlib
import enum
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np


class SDPBackend(enum.Enum):
    """PyTorch's attention kernels, with its numbers."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_CPU_BACKENDS = frozenset({SDPBackend.MATH, SDPBackend.FLASH_ATTENTION})
"""The backends PyTorch runs on a CPU."""

_enabled = set(SDPBackend) - {SDPBackend.ERROR}
"""The backends allowed now (all, unless narrowed)."""


def check_backend(query: Any, key: Any, value: Any, attn_mask: Any, dropout_p: float, enable_gqa: bool) -> None:
    """Raise, as PyTorch does, when the allowed backends leave none that runs on a CPU for these inputs: with
    the math backend switched off, the flash one takes only what PyTorch's CPU flash kernel takes."""
    if _enabled.isdisjoint(_CPU_BACKENDS):
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found: on a CPU only "
                           "SDPBackend.MATH and SDPBackend.FLASH_ATTENTION run, and neither is enabled; allow "
                           "SDPBackend.MATH (sdpa_kernel, or torch.backends.cuda.enable_math_sdp(True))")
    if SDPBackend.MATH not in _enabled and (reason := _not_for_flash(query, key, value, attn_mask, dropout_p,
                                                                      enable_gqa)):
        raise RuntimeError(f"No available kernel for scaled_dot_product_attention: only SDPBackend.FLASH_ATTENTION "
                           f"is allowed, and on a CPU it needs {reason}; allow SDPBackend.MATH too "
                           "(sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]))")


def _not_for_flash(query: Any, key: Any, value: Any, attn_mask: Any, dropout_p: float, enable_gqa: bool) -> str:
    """Why PyTorch's CPU flash kernel would not take these inputs ('' when it would), in its order of checks."""
    tensors = (query, key, value)
    if dropout_p > 0:
        return f"dropout_p = 0 (got {dropout_p})"
    if any(tensor.ndim != 4 for tensor in tensors):
        return (f"4-dimensional query, key and value (batch, heads, length, features), got {query.ndim}, {key.ndim} "
                f"and {value.ndim} dims")
    if len({tensor.shape[0] for tensor in tensors}) > 1:
        return "one batch size for query, key and value"
    if not enable_gqa and len({tensor.shape[1] for tensor in tensors}) > 1:
        return "one number of heads for query, key and value (or enable_gqa=True)"
    if attn_mask is not None and np.ndim(attn_mask) not in (2, 4):
        return f"an attn_mask of 2 or 4 dims, got {np.ndim(attn_mask)}"
    if len({tensor.shape[-1] for tensor in tensors}) > 1:
        return "one last dim (features) for query, key and value"
    if any(tensor.shape[-1] > 1 and tensor.array.strides[-1] != tensor.array.itemsize for tensor in tensors):
        return "query, key and value whose last dim has stride 1 (call .contiguous())"
    return ""


@contextlib.contextmanager
def _allowing(backends: set[SDPBackend]) -> Iterator[None]:
    before = set(_enabled)
    _enabled.clear()
    _enabled.update(backends)
    try:
        yield
    finally:
        _enabled.clear()
        _enabled.update(before)


def sdpa_kernel(backends: Any, set_priority: bool = False) -> contextlib.AbstractContextManager[None]:
    """``with sdpa_kernel(SDPBackend.MATH):`` (or a list of backends): only those are allowed inside the block.
    ``set_priority`` (the order to try them in) changes nothing here: every backend computes the same rows."""
    chosen = list(backends) if isinstance(backends, (list, tuple)) else [backends]
    if not all(isinstance(backend, SDPBackend) for backend in chosen):
        raise AssertionError(f"Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
                             f"{type(backends).__name__}")
    return _allowing(set(chosen))


def _switch(backend: SDPBackend) -> tuple[Any, Any]:
    """``(enabled(), enable(on))`` for one backend, as ``torch.backends.cuda`` spells them."""
    def enabled() -> bool:
        return backend in _enabled

    def enable(on: bool) -> None:
        (_enabled.add if on else _enabled.discard)(backend)

    return enabled, enable


flash_sdp_enabled, enable_flash_sdp = _switch(SDPBackend.FLASH_ATTENTION)
math_sdp_enabled, enable_math_sdp = _switch(SDPBackend.MATH)
mem_efficient_sdp_enabled, enable_mem_efficient_sdp = _switch(SDPBackend.EFFICIENT_ATTENTION)
cudnn_sdp_enabled, enable_cudnn_sdp = _switch(SDPBackend.CUDNN_ATTENTION)


def sdp_kernel(enable_flash: bool = True, enable_math: bool = True, enable_mem_efficient: bool = True,
               enable_cudnn: bool = True) -> contextlib.AbstractContextManager[None]:
    """``torch.backends.cuda.sdp_kernel(...)``, the older spelling of :func:`sdpa_kernel`: warns (FutureWarning),
    as PyTorch does, and allows the backends switched on."""
    warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be "
                  "removed. Please see `torch.nn.attention.sdpa_kernel()` for the new context manager, with updated "
                  "signature.", FutureWarning, stacklevel=2)
    switches = {SDPBackend.FLASH_ATTENTION: enable_flash, SDPBackend.MATH: enable_math,
                SDPBackend.EFFICIENT_ATTENTION: enable_mem_efficient, SDPBackend.CUDNN_ATTENTION: enable_cudnn}
    return _allowing({backend for backend, on in switches.items() if on})
