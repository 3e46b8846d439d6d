"""Window functions for signal processing (``torch.hann_window`` …): N weights that taper to the ends.

With ``M = N + 1`` when ``periodic`` (the default: one period of a window repeated end to end, as a spectrogram
uses it; the last point dropped) and ``M = N`` otherwise (symmetric), for ``n = 0 … N − 1`` and ``x = n/(M − 1)``:

* Hann ``½ − ½·cos 2πx``; Hamming ``α − β·cos 2πx`` (α = 0.54, β = 0.46);
* Blackman ``0.42 − 0.5·cos 2πx + 0.08·cos 4πx``; Bartlett (triangle) ``1 − |2x − 1|``;
* Kaiser ``I₀(β·√(1 − (2x − 1)²))/I₀(β)`` (β = 12).

A window of length 1 is ``[1]``, of length 0 empty, as in PyTorch. They are new leaves (``requires_grad`` as
asked), in the default float dtype unless ``dtype`` says otherwise.

>>> import glassgrad as gg
>>> gg.hann_window(4).tolist()
[0.0, 0.5, 1.0, 0.5]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .creation import _float_dtype, _leaf
from .device import check_device


def _window(name: str, window_length: int, periodic: bool, dtype: Any, device: Any, requires_grad: bool,
            shape: Callable[[np.ndarray], np.ndarray]) -> Any:
    """``shape(x)`` at ``x = n/(M − 1)``, with the checks and the length-0 and length-1 cases every window shares."""
    if isinstance(window_length, bool) or not isinstance(window_length, (int, np.integer)) or window_length < 0:
        raise RuntimeError(f"{name}: window_length must be a whole number ≥ 0, got {window_length!r}")
    check_device(device)
    resolved = _float_dtype(dtype, name, RuntimeError)
    if window_length <= 1:
        return _leaf(np.ones(window_length, dtype=resolved), requires_grad)
    span = window_length if periodic else window_length - 1  # M − 1
    x = np.arange(window_length, dtype=np.float64) / span
    return _leaf(shape(x).astype(resolved), requires_grad)


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None, device: Any = None,
                requires_grad: bool = False) -> Any:
    """The Hann window ``½ − ½·cos 2πx``."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda x: 0.5 - 0.5 * np.cos(2 * math.pi * x))


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Any:
    """The Hamming window ``α − β·cos 2πx``."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda x: alpha - beta * np.cos(2 * math.pi * x))


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None, device: Any = None,
                    requires_grad: bool = False) -> Any:
    """The Blackman window ``0.42 − 0.5·cos 2πx + 0.08·cos 4πx``."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda x: 0.42 - 0.5 * np.cos(2 * math.pi * x) + 0.08 * np.cos(4 * math.pi * x))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None, device: Any = None,
                    requires_grad: bool = False) -> Any:
    """The Bartlett (triangular) window ``1 − |2x − 1|``."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda x: 1 - np.abs(2 * x - 1))


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype: Any = None,
                  device: Any = None, requires_grad: bool = False) -> Any:
    """The Kaiser window ``I₀(β·√(1 − (2x − 1)²))/I₀(β)``."""
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda x: np.i0(beta * np.sqrt(np.clip(1 - (2 * x - 1) ** 2, 0, None))) / np.i0(beta))
