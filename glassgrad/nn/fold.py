"""``F.unfold``/``F.fold`` and the ``Unfold``/``Fold`` layers: sliding windows as columns (im2col), and back.

``unfold`` copies every window of an image (N, C, H, W) into one column, giving
(N, C·kh·kw, L) with L the number of window positions; a convolution is then one matrix product,
``W.view(out, −1) @ unfold(x)``. ``fold`` is its adjoint: each column's entries are added back to the
image positions they came from (entries read by several windows collect every share), so
``fold(unfold(x))`` multiplies each entry by how many windows read it. Both are made of one
``gather`` / ``scatter_add`` (the functions the convolution's second derivative uses).

>>> import glassgrad as gg
>>> gg.nn.functional.unfold(gg.arange(9.0).reshape(1, 1, 3, 3), kernel_size=2).shape
Size([1, 4, 4])
"""

from __future__ import annotations

import math
from typing import Any

from ..arguments import shape_text
from ..creation import as_tensor
from ..ops import windows_added_back, windows_tensor
from ..sliding import output_size
from ..tensor import Tensor
from .conv import sizes
from .module import Module


def _settings(name: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> tuple:
    """The four settings as pairs; a wrong count or a value too small is PyTorch's RuntimeError."""
    kernel, dilation, padding, stride = (sizes(value, 2, what, name, least, RuntimeError) for value, what, least in (
        (kernel_size, "kernel_size", 1), (dilation, "dilation", 1), (padding, "padding", 0), (stride, "stride", 1)))
    return kernel, dilation, tuple((p, p) for p in padding), stride


def _window_counts(name: str, size: Any, kernel: tuple, dilation: tuple, pads: tuple, stride: tuple) -> tuple:
    """How many windows fit along each dim of ``size``; refused, as PyTorch refuses it, when one has none."""
    counts = tuple(output_size(n, k, s, d, p, p) for n, k, d, (p, _), s in zip(size, kernel, dilation, pads, stride))
    if min(counts) < 1:
        raise RuntimeError(f"{name}: no window of {kernel} (dilation {dilation}, padding {pads[0][0]}, "
                           f"{pads[1][0]}) fits in {tuple(size)}, giving {counts} windows; use a smaller kernel "
                           "or dilation, or more padding")
    return counts


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Every ``kernel_size`` window of (N, C, H, W) (or (C, H, W)) as a column: (N, C·kh·kw, L)."""
    x = as_tensor(input)
    if x.ndim not in (3, 4):  # PyTorch's classes: IndexError (dim 2 out of range) below 3 dims, RuntimeError above
        raise (IndexError if x.ndim < 3 else RuntimeError)(
            f"unfold: expected input of shape (N, C, H, W) or (C, H, W), got {shape_text(x.shape)}")
    kernel, dilation, pads, stride = _settings("unfold", kernel_size, dilation, padding, stride)
    _window_counts("unfold", x.shape[-2:], kernel, dilation, pads, stride)
    columns = windows_tensor(x, kernel, stride, dilation, pads)  # (…, C, K, L)
    return columns.reshape(*x.shape[:-3], x.shape[-3] * math.prod(kernel), columns.shape[-1])


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Columns (N, C·kh·kw, L) added back into an image of ``output_size`` (unfold's adjoint): (N, C, H, W)."""
    x = as_tensor(input)
    kernel, dilation, pads, stride = _settings("fold", kernel_size, dilation, padding, stride)
    size = sizes(output_size, 2, "output_size", "fold", error=RuntimeError)
    positions = math.prod(_window_counts("fold", size, kernel, dilation, pads, stride))
    entries = math.prod(kernel)
    if x.ndim not in (2, 3) or x.shape[-2] % entries or x.shape[-1] != positions:
        raise RuntimeError(f"fold: expected input (N, C·{entries}, {positions}) for windows of {kernel} over "
                           f"{size}, got {shape_text(x.shape)}")
    columns = x.reshape(*x.shape[:-2], x.shape[-2] // entries, entries, positions)
    return windows_added_back(columns, size, kernel, stride, dilation, pads)


class Unfold(Module):
    """``F.unfold`` as a layer."""

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "dilation": self.dilation, "padding": self.padding,
                "stride": self.stride}


class Fold(Unfold):
    """``F.fold`` as a layer."""

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def config(self) -> dict[str, Any]:
        return {"output_size": self.output_size, **super().config()}
