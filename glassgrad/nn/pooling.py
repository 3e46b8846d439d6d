"""Pooling: each output entry summarises one window of its channel (its maximum or its mean).

Indices from 0, as in code (a trace writes the same windows counting from 1):

    max:      P[n,c,i,j] = max_{u,v} X̃[n,c, i·s+u·d, j·s+v·d]        (X̃ padded with −∞)
    average:  P[n,c,i,j] = (1/count) Σ_{u,v} X̃[n,c, i·s+u, j·s+v]     (X̃ padded with zeros)
    adaptive: P[n,c,i,j] = the mean of the window of rows [⌊iH/H′⌋, ⌈(i+1)H/H′⌉) and columns likewise

``ceil_mode=True`` rounds the output size up: ``⌈(L + 2p − d(k − 1) − 1)/s⌉ + 1`` windows (less one
if the last would start beyond the input and its left padding), the last windows running past
the padded input; they are pooled as if that overhang were more padding (−∞, or no entries for
the mean: PyTorch's divisor counts the input and its padding only). ``return_indices=True`` also
gives each maximum's position as a flat index into its (H·W) plane, which ``MaxUnpool2d`` reads.

Backward: a max window sends its upstream gradient to the entry that was its maximum (at a
tie, the first in row-major order, as PyTorch's CPU kernel picks; a kink, where the gradient
is a one-sided choice); an average window shares it equally among its entries (``1/count``
each). Windows that overlap add their shares. The rows are in :mod:`glassgrad.ops`.

>>> import glassgrad as gg
>>> gg.nn.MaxPool2d(2)(gg.arange(16.0).reshape(1, 1, 4, 4)).flatten().tolist()
[5.0, 7.0, 13.0, 15.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import ops, sliding
from ..arguments import shape_text
from ..autograd import note_unreplayable
from ..creation import as_tensor
from ..functions import stack
from ..tensor import Tensor, apply
from .conv import batched, check_fits, sizes
from .module import Module
from .padding import pad

WHAT = "(N, C, H, W) or (C, H, W)"


def _pool_settings(name: str, kernel_size: Any, stride: Any, padding: Any,
                   dilation: Any = 1) -> tuple[tuple, tuple, tuple, tuple]:
    """Kernel, stride (default: the kernel), padding pairs and dilation, checked as PyTorch checks them."""
    kernel = sizes(kernel_size, 2, "kernel_size", name)
    stride = kernel if stride is None or (isinstance(stride, Sequence) and not stride) else sizes(stride, 2,
                                                                                                  "stride", name)
    dilation = sizes(dilation, 2, "dilation", name)
    pads = sizes(padding, 2, "padding", name, least=0)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(f"{name}: padding {pads} must be at most half the kernel size {kernel} (a window of "
                         "padding alone has nothing to pool); use a smaller padding")
    return kernel, stride, tuple((p, p) for p in pads), dilation


def _floating(input: Tensor, name: str) -> tuple[Tensor, bool]:
    x, had_batch = batched(as_tensor(input), 2, name, WHAT)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: needs a floating tensor, got {x.dtype}; convert it with .float()")
    return x, had_batch


def _unsupported(name: str, **flags: bool) -> None:
    for flag, value in flags.items():
        if value:
            raise ValueError(f"{name}: {flag}=True is not supported in glassgrad; leave it False")


def _overhangs(size: tuple, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple) -> tuple[int, ...]:
    """How far ``ceil_mode``'s last window runs past the padded input, per spatial dim (0: not at all)."""
    extra = []
    for length, k, s, (p, _), d in zip(size, kernel, stride, pads, dilation):
        reach = d * (k - 1) + 1
        count = -(-(length + 2 * p - reach) // s) + 1  # ⌈(L + 2p − reach)/s⌉ + 1
        if (count - 1) * s >= length + p:  # the last window would start past the input and its left padding
            count -= 1
        extra.append(max((count - 1) * s + reach - (length + 2 * p), 0))
    return tuple(extra)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Each window's maximum; the gradient goes to that entry (the first maximum on a tie).

    ``return_indices=True``: ``(out, indices)``, each maximum's flat position in its input plane (int64).
    """
    x, had_batch = _floating(input, "max_pool2d")
    kernel, stride, pads, dilation = _pool_settings("max_pool2d", kernel_size, stride, padding, dilation)
    if ceil_mode:  # the last window may run past the input: as PyTorch, it counts if it starts inside
        pads = tuple((before, after + more) for (before, after), more in
                     zip(pads, _overhangs(x.shape[2:], kernel, stride, pads, dilation)))
    check_fits("max_pool2d", x.shape[2:], kernel, dilation, pads, x.shape)
    out = apply(ops.MAX_POOL2D, (x,), x.array, kernel, stride, pads, dilation)
    if not return_indices:
        return out if had_batch else out.squeeze(0)
    note_unreplayable("max pooling's return_indices finds the positions outside the ops a replay repeats")
    indices = Tensor(_max_positions(x.array, kernel, stride, pads, dilation))
    return (out, indices) if had_batch else (out.squeeze(0), indices.squeeze(0))


def _max_positions(x: Any, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple) -> Any:
    """Where each window's maximum sits, as a flat index ``row·W + column`` into its (H, W) plane."""
    where = sliding.max_windows(x, kernel, stride, dilation, pads)[1]
    u, v = np.divmod(where, kernel[1])
    rows = np.arange(where.shape[-2])[:, None] * stride[0] - pads[0][0] + u * dilation[0]
    columns = np.arange(where.shape[-1])[None, :] * stride[1] - pads[1][0] + v * dilation[1]
    return (rows * x.shape[-1] + columns).astype(np.int64)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Each window's mean (divided by the window's size, or by ``divisor_override``; with
    ``count_include_pad=False`` by its entries inside the input).

    With ``ceil_mode`` a last window that runs past the padded input divides by its entries inside the
    input and its padding (``count_include_pad``) or inside the input, as PyTorch: the input is padded
    with zeros first, and the overhang counts nothing.
    """
    x, had_batch = _floating(input, "avg_pool2d")
    kernel, stride, pads, _ = _pool_settings("avg_pool2d", kernel_size, stride, padding)
    if divisor_override is not None:
        divisor_override = sizes(divisor_override, 1, "divisor_override", "avg_pool2d")[0]
    overhangs = _overhangs(x.shape[2:], kernel, stride, pads, (1, 1)) if ceil_mode else (0, 0)
    check_fits("avg_pool2d", x.shape[2:], kernel, (1, 1), tuple((before, after + more) for (before, after), more
                                                               in zip(pads, overhangs)), x.shape)
    if any(overhangs) and count_include_pad and divisor_override is None:
        x = pad(x, [amount for before, after in reversed(pads) for amount in (before, after)])
        pads, count_include_pad = ((0, 0), (0, 0)), False  # the zeros are entries now: only the overhang is not
    pads = tuple((before, after + more) for (before, after), more in zip(pads, overhangs))
    out = apply(ops.AVG_POOL2D, (x,), x.array, kernel, stride, pads, bool(count_include_pad), divisor_override)
    return out if had_batch else out.squeeze(0)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Averages over windows chosen so the output is ``output_size`` (an int, a pair; ``None`` keeps that dim)."""
    x, had_batch = _floating(input, "adaptive_avg_pool2d")
    wanted = (output_size, output_size) if not isinstance(output_size, Sequence) else tuple(output_size)
    if len(wanted) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    wanted = tuple(size if want is None else want for want, size in zip(wanted, x.shape[2:]))
    wanted = sizes(wanted, 2, "output_size", "adaptive_avg_pool2d")
    if 0 in x.shape[2:]:
        raise ValueError(f"adaptive_avg_pool2d: the input {shape_text(x.shape)} has an empty spatial dim")
    out = apply(ops.ADAPTIVE_AVG_POOL2D, (x,), x.array, wanted)
    return out if had_batch else out.squeeze(0)


class MaxPool2d(Module):
    """Max pooling over ``kernel_size`` windows (``stride`` defaults to the kernel: windows side by side)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        kernel, stride, _, dilation = _pool_settings("MaxPool2d", kernel_size, stride, padding, dilation)
        self.kernel_size, self.stride, self.dilation = kernel, stride, dilation
        self.padding = sizes(padding, 2, "padding", "MaxPool2d", least=0)
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)

    def forward(self, input: Tensor) -> Any:
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride), "padding": list(self.padding),
                "dilation": list(self.dilation), "return_indices": self.return_indices, "ceil_mode": self.ceil_mode}


class AvgPool2d(Module):
    """Average pooling over ``kernel_size`` windows (``stride`` defaults to the kernel)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        kernel, stride, _, _ = _pool_settings("AvgPool2d", kernel_size, stride, padding)
        self.kernel_size, self.stride = kernel, stride
        self.padding = sizes(padding, 2, "padding", "AvgPool2d", least=0)
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          count_include_pad=self.count_include_pad, divisor_override=self.divisor_override)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride), "padding": list(self.padding),
                "ceil_mode": self.ceil_mode, "count_include_pad": self.count_include_pad,
                "divisor_override": self.divisor_override}


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` whatever the input's size (``1``: a global average)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size if not isinstance(output_size, Sequence) else list(output_size)

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool2d(input, self.output_size)

    def config(self) -> dict[str, Any]:
        return {"output_size": self.output_size}



# --- unpooling: each maximum back where max pooling found it -------------------------------------

def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """The partial inverse of ``max_pool2d``: each entry of ``input`` written at its flat position ``indices`` in a
    plane of zeros, ``out[n,c].flat[indices[n,c,i,j]] = input[n,c,i,j]``; the gradient reads those entries back.

    The plane is ``H′ = (H − 1)·s − 2p + k`` by ``W′`` likewise, or ``output_size`` (its last two numbers).
    """
    x, had_batch = _floating(input, "max_unpool2d")
    kernel, stride, pads, _ = _pool_settings("max_unpool2d", kernel_size, stride, padding)
    where = as_tensor(indices)
    where = where if had_batch else where.unsqueeze(0)
    if where.shape != x.shape or where.dtype.kind not in "iu":
        raise ValueError(f"max_unpool2d: indices must be integers of the input's shape {shape_text(x.shape)} (the "
                         f"second output of max_pool2d(..., return_indices=True)), got {where.dtype} "
                         f"{shape_text(where.shape)}")
    if output_size is None:
        plane = tuple((size - 1) * s - 2 * p + k for size, k, s, (p, _) in zip(x.shape[2:], kernel, stride, pads))
    else:
        plane = sizes(tuple(output_size)[-2:], 2, "output_size", "max_unpool2d")
    if where.numel() and not 0 <= int(where.array.min()) <= int(where.array.max()) < plane[0] * plane[1]:
        raise ValueError(f"max_unpool2d: an index is outside the output plane {plane[0]}×{plane[1]}; give the "
                         "output_size of the input that was pooled (output_size=x.shape)")
    flat = x.new_zeros((*x.shape[:2], plane[0] * plane[1])).scatter(-1, where.flatten(2), x.flatten(2))
    out = flat.reshape(*x.shape[:2], *plane)
    return out if had_batch else out.squeeze(0)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """``max_unpool2d`` of one row: entries back at their positions along the last dim."""
    size = None if output_size is None else (1, tuple(output_size)[-1])
    return max_unpool2d(_one_row(input, "max_unpool1d"), _one_row(indices, "max_unpool1d"), _row(kernel_size, 1),
                        _row(_stride(stride, kernel_size), 1), _row(padding, 0), size).squeeze(-2)


class MaxUnpool2d(Module):
    """Puts each maximum back where ``MaxPool2d(..., return_indices=True)`` found it, zeros elsewhere."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        kernel, stride, _, _ = _pool_settings("MaxUnpool2d", kernel_size, stride, padding)
        self.kernel_size, self.stride = kernel, stride
        self.padding = sizes(padding, 2, "padding", "MaxUnpool2d", least=0)

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride), "padding": list(self.padding)}


class MaxUnpool1d(MaxUnpool2d):
    """Puts each maximum back where ``MaxPool1d(..., return_indices=True)`` found it, zeros elsewhere."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__(_row(kernel_size, 1), _row(_stride(stride, kernel_size), 1), _row(padding, 0))

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return max_unpool1d(input, indices, self.kernel_size[1], self.stride[1], self.padding[1], output_size)

    def config(self) -> dict[str, Any]:
        return {key: value[1] for key, value in super().config().items()}


# --- the 1-d pools (a 2-d pool over a height of 1) and adaptive max pooling ---------------------------

def _one_row(input: Tensor, name: str) -> Tensor:
    """(N, C, L) or (C, L) as (N, C, 1, L) or (C, 1, L): a 1-d pool is the 2-d pool of one row."""
    x = as_tensor(input)
    if x.ndim not in (2, 3):
        raise ValueError(f"{name}: expected input of shape (N, C, L) or (C, L), got {shape_text(x.shape)}")
    return x.unsqueeze(-2)


def _row(value: Any, fill: int) -> tuple[int, Any]:
    """A 1-d setting as the 2-d one of a single row: ``(fill, value)``."""
    return (fill, value[0] if isinstance(value, Sequence) else value)


def _stride(stride: Any, kernel_size: Any) -> Any:
    return kernel_size if stride is None or (isinstance(stride, Sequence) and not stride) else stride


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Each window's maximum along the last dim (``max_pool2d`` of one row; indices count along the row)."""
    pooled = max_pool2d(_one_row(input, "max_pool1d"), _row(kernel_size, 1), _row(_stride(stride, kernel_size), 1),
                        _row(padding, 0), _row(dilation, 1), ceil_mode, return_indices)
    return tuple(part.squeeze(-2) for part in pooled) if return_indices else pooled.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Each window's mean along the last dim (``avg_pool2d`` of one row)."""
    return avg_pool2d(_one_row(input, "avg_pool1d"), _row(kernel_size, 1), _row(_stride(stride, kernel_size), 1),
                      _row(padding, 0), ceil_mode, count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Averages over windows chosen so the last dim becomes ``output_size``."""
    return adaptive_avg_pool2d(_one_row(input, "adaptive_avg_pool1d"), _row(output_size, 1)).squeeze(-2)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Tensor:
    """The maximum of each adaptive window (rows ``[⌊iH/H′⌋, ⌈(i+1)H/H′⌉)``, columns likewise), made of ``amax``
    over slices: the gradient goes to the maximum (shared between ties, where PyTorch picks one)."""
    _unsupported("adaptive_max_pool2d", return_indices=return_indices)
    x, had_batch = _floating(input, "adaptive_max_pool2d")
    wanted = (output_size, output_size) if not isinstance(output_size, Sequence) else tuple(output_size)
    wanted = sizes(tuple(size if want is None else want for want, size in zip(wanted, x.shape[2:])), 2,
                   "output_size", "adaptive_max_pool2d")
    rows, columns = (sliding.adaptive_ranges(size, out) for size, out in zip(x.shape[2:], wanted))
    out = stack([stack([x[:, :, top:bottom, left:right].amax((-2, -1)) for left, right in columns], -1)
                 for top, bottom in rows], -2)
    return out if had_batch else out.squeeze(0)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Tensor:
    """The maximum of each adaptive window of the last dim."""
    return adaptive_max_pool2d(_one_row(input, "adaptive_max_pool1d"), _row(output_size, 1),
                               return_indices).squeeze(-2)


class MaxPool1d(MaxPool2d):
    """Max pooling over windows of the last dim of (N, C, L)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__(_row(kernel_size, 1), _row(_stride(stride, kernel_size), 1), _row(padding, 0),
                         _row(dilation, 1), return_indices, ceil_mode)

    def forward(self, input: Tensor) -> Any:
        pooled = super().forward(_one_row(input, "MaxPool1d"))
        return tuple(part.squeeze(-2) for part in pooled) if self.return_indices else pooled.squeeze(-2)

    def config(self) -> dict[str, Any]:
        return {key: value[1] if isinstance(value, list) else value for key, value in super().config().items()}


class AvgPool1d(AvgPool2d):
    """Average pooling over windows of the last dim of (N, C, L)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(_row(kernel_size, 1), _row(_stride(stride, kernel_size), 1), _row(padding, 0), ceil_mode,
                         count_include_pad)

    def forward(self, input: Tensor) -> Tensor:
        return super().forward(_one_row(input, "AvgPool1d")).squeeze(-2)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size[1], "stride": self.stride[1], "padding": self.padding[1],
                "ceil_mode": self.ceil_mode,
                "count_include_pad": self.count_include_pad}  # the one row's settings (no divisor_override in 1-d)


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling of the last dim to ``output_size`` entries."""

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    """Max pooling to a fixed ``output_size`` whatever the input's size."""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        _unsupported("AdaptiveMaxPool2d", return_indices=return_indices)
        super().__init__(output_size)

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_max_pool2d(input, self.output_size)


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """Max pooling of the last dim to ``output_size`` entries."""

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_max_pool1d(input, self.output_size)
