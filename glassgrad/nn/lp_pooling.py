"""Power-average (LP) pooling: ``lp_pool1d/2d/3d`` and ``LPPool1d/2d/3d``, the p-norm of each window::

    y = (Σ_window xᵖ)^(1/p)        (p = 1: the window's sum; p → ∞: its maximum of |x|)

composed as PyTorch computes it, from average pooling (no padding) of ``xᵖ``, times the kernel's size ``K``::

    m = avg_pool(xᵖ),    y = (sign(m)·relu(|m|)·K)^(1/p)

``sign(m)·relu(|m|)`` is ``m`` itself, but its derivative is 0 where ``m = 0``, as in PyTorch. With
``ceil_mode`` a last window cut by the input's end is averaged over its entries inside, then multiplied by the
full ``K`` (PyTorch's numbers). Its gradient comes from the ops it is made of:
``∂y/∂x = x^(p−1)·y^(1−p)`` inside the window, and 0 for a window whose ``Σ xᵖ`` is 0, as in PyTorch (the root's
infinite slope there never meets relu's 0: the root reads 1 in those windows, and their output is filled with 0).
For ``p = 1`` a window's sum may be negative (PyTorch's numbers: the sum itself). Otherwise a negative ``Σ xᵖ``
(negative entries with ``p`` not an even integer) has no real root, and a negative entry has no real ``xᵖ`` for
``p`` not an integer: PyTorch returns NaN, glassgrad refuses both.

>>> import glassgrad as gg
>>> gg.nn.functional.lp_pool1d(gg.tensor([[3.0, 4.0]]), 2, 2)
tensor([[5.]])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import recorded_call
from ..creation import as_tensor
from ..functions import relu
from ..memory_formats import kept_channels_last
from ..tensor import Tensor
from .conv import leads_with_bool
from .module import Module
from .pooling import avg_pool1d, avg_pool2d, avg_pool3d, pool_sizes


def _check_real_power(values: np.ndarray, norm_type: float, name: str) -> None:
    """Refuse a negative entry: its xᵖ is not real (``norm_type`` is not an integer)."""
    if (values < 0).any():
        raise ValueError(f"{name}: the input has negative entries, whose xᵖ is not real for norm_type={norm_type} "
                         "(not an integer; PyTorch returns NaN); pool x.abs() instead")


def _check_real_root(means: np.ndarray, norm_type: float, name: str) -> None:
    """Refuse a negative window mean of xᵖ: its 1/p-th root is not real."""
    if (means < 0).any():
        raise ValueError(f"{name}: a window's Σ xᵖ is negative (negative entries with norm_type={norm_type}, not an "
                         "even integer), so its 1/p-th root is not real (PyTorch returns NaN); pool x.abs() instead")


def lp_pooling(input: Tensor, norm_type: float, kernel_size: Any, stride: Any, ceil_mode: bool, dims: int) -> Tensor:
    """The checked call behind :func:`lp_pool1d`, :func:`lp_pool2d` and :func:`lp_pool3d` (``dims`` spatial dims)."""
    name = f"lp_pool{dims}d"
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float)) or not 0 < norm_type < math.inf:
        raise ValueError(f"{name}: norm_type must be a positive finite number, got {norm_type!r} "
                         "(for p = ∞ use max pooling of x.abs())")
    kernel = pool_sizes(kernel_size, dims, "kernel_size", name)
    average = (avg_pool1d, avg_pool2d, avg_pool3d)[dims - 1]
    x = as_tensor(input)
    if norm_type != int(norm_type):  # a compiled step's replays check each batch too
        recorded_call(_check_real_power, x.array, norm_type, name)
    mean = average(x ** norm_type, kernel_size, stride, 0, ceil_mode)
    if norm_type % 2 != 0 and norm_type != 1:
        recorded_call(_check_real_root, mean.array, norm_type, name)
    total = mean.sign() * relu(mean.abs()) * math.prod(kernel)
    empty = total.detach() == 0  # ∞·0 = NaN: relu's 0 slope times the root's ∞ slope at 0
    root = (total.masked_fill(empty, 1.0) ** (1.0 / norm_type)).masked_fill(empty, 0.0)
    return kept_channels_last(root, mean)  # masked_fill's copy is row-major: PyTorch's root keeps the mean's layout


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """The p-norm of each window along the last dim of (N, C, L) or (C, L): ``(Σ xᵖ)^(1/p)``."""
    return lp_pooling(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """The p-norm of each window of (N, C, H, W) or (C, H, W): ``(Σ xᵖ)^(1/p)``."""
    return lp_pooling(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """The p-norm of each window of (N, C, D, H, W) or (C, D, H, W): ``(Σ xᵖ)^(1/p)``."""
    return lp_pooling(input, norm_type, kernel_size, stride, ceil_mode, 3)


class LPPool2d(Module):
    """Power-average pooling: each ``kernel_size`` window's p-norm ``(Σ xᵖ)^(1/p)`` (``stride`` defaults to the
    kernel: windows side by side)."""

    dims = 2

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride = norm_type, kernel_size, stride  # as given, as PyTorch
        self.ceil_mode = bool(ceil_mode)
        if not leads_with_bool(self.kernel_size, self.stride):
            self._settings()  # checked now (a bool alone or first: when called, as PyTorch)

    def _settings(self) -> tuple[tuple, tuple]:
        """Kernel and stride as tuples of ``dims`` sizes (the stride the kernel's when None), each checked as when
        the layer is built (a bool passes: :func:`lp_pooling` refuses it when called, as PyTorch's)."""
        kernel = pool_sizes(self.kernel_size, self.dims, "kernel_size", type(self).__name__, bools=True)
        return kernel, kernel if self.stride is None else pool_sizes(self.stride, self.dims, "stride",
                                                                     type(self).__name__, bools=True)

    def forward(self, input: Tensor) -> Tensor:
        return lp_pooling(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode, self.dims)

    def config(self) -> dict[str, Any]:
        kernel, stride = self._settings()
        return {"norm_type": self.norm_type, "kernel_size": list(kernel), "stride": list(stride),
                "ceil_mode": self.ceil_mode}


class LPPool1d(LPPool2d):
    """Power-average pooling along the last dim of (N, C, L) or (C, L)."""

    dims = 1


class LPPool3d(LPPool2d):
    """Power-average pooling over the windows of (N, C, D, H, W) or (C, D, H, W)."""

    dims = 3
