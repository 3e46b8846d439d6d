"""Pooling: each output entry summarises one window of its channel (its maximum or its mean).

Indices from 0, as in code (a trace writes the same windows counting from 1):

    max:      P[n,c,i,j] = max_{u,v} X̃[n,c, i·s+u·d, j·s+v·d]        (X̃ padded with −∞)
    average:  P[n,c,i,j] = (1/count) Σ_{u,v} X̃[n,c, i·s+u, j·s+v]     (X̃ padded with zeros)
    adaptive: P[n,c,i,j] = the mean of the window of rows [⌊iH/H′⌋, ⌈(i+1)H/H′⌉) and columns likewise
              (its maximum: :mod:`glassgrad.nn.adaptive_max_pooling`)

The 3-d pools (``max_pool3d``, ``avg_pool3d``, the adaptive ones) do the same over volumes (N, C, D, H, W),
with a third offset ``w`` in each window.

``ceil_mode=True`` rounds the output size up: ``⌈(L + 2p − d(k − 1) − 1)/s⌉ + 1`` windows (less one
if the last would start beyond the input and its left padding), the last windows running past
the padded input; they are pooled as if that overhang were more padding (−∞, or no entries for
the mean: PyTorch's divisor counts the input and its padding only). ``return_indices=True`` also
gives each maximum's position as a flat index into its (H·W) plane (its (D·H·W) volume in 3-d), which
``MaxUnpool2d`` (``MaxUnpool3d``) reads.

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
from ..autograd import recorded_call
from ..creation import as_tensor
from ..memory_formats import kept_channels_last
from ..tensor import Tensor, apply
from .conv import batched, check_fits, input_shapes, leads_with_bool, sizes
from .module import Module
from .module_utils import _single
from .padding import pad


def pool_sizes(value: Any, dims: int, name: str, owner: str, least: int = 1, bools: bool = False) -> tuple[int, ...]:
    """:func:`~glassgrad.nn.conv.sizes` for a pool's settings: ints of the wrong count or too small (a kernel or
    stride of 0, a negative padding, a pair given to a 1-d pool) raise RuntimeError, PyTorch's class for them;
    ``bools``: a bool read as 0 or 1 (a layer being built, an unpooling: see ``sizes``)."""
    return sizes(value, dims, name, owner, least, error=RuntimeError, bools=bools)


def _pool_settings(name: str, kernel_size: Any, stride: Any, padding: Any, dilation: Any = 1,
                   dims: int = 2, bools: bool = False) -> tuple[tuple, tuple, tuple, tuple]:
    """Kernel, stride (default: the kernel), padding pairs and dilation, checked as PyTorch checks them
    (``bools``: see :func:`pool_sizes`)."""
    kernel = pool_sizes(kernel_size, dims, "kernel_size", name, bools=bools)
    stride = kernel if stride is None or (isinstance(stride, Sequence) and not stride) else pool_sizes(
        stride, dims, "stride", name, bools=bools)
    dilation = pool_sizes(dilation, dims, "dilation", name, bools=bools)
    pads = pool_sizes(padding, dims, "padding", name, least=0, bools=bools)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise RuntimeError(f"{name}: padding {pads} must be at most half the kernel size {kernel} (a window of "
                         "padding alone has nothing to pool); use a smaller padding")
    return kernel, stride, tuple((p, p) for p in pads), dilation


def _floating(input: Tensor, name: str, dims: int = 2, kinds: str = "f") -> tuple[Tensor, bool]:
    """``input`` with a batch dim and whether it had one; a NotImplementedError unless its dtype is of ``kinds``
    (NumPy's letters: ``'f'`` floating, ``'i'``/``'u'`` signed/unsigned integers), PyTorch's class for a dtype its
    pooling kernels are not built for (``"adaptive_avg_pool2d" not implemented for 'Long'``)."""
    x, had_batch = batched(as_tensor(input), dims, name, input_shapes(dims))
    if x.dtype.kind not in kinds:
        wanted = "a floating" if kinds == "f" else "a floating or integer"
        raise NotImplementedError(f"{name}: needs {wanted} tensor, got {x.dtype}; convert it with .float()")
    return x, had_batch


def check_planes(name: str, shape: tuple) -> None:
    """PyTorch's RuntimeError for a batched input ``(N, C, *spatial)`` of ``shape`` with an empty channel or spatial
    dim: only the batch dim may be empty (an unbatched input's channels, its first dim, may not)."""
    if 0 in shape[1:]:
        raise RuntimeError(f"{name}: the input {shape_text(shape)} has an empty channel or spatial dim (only the batch "
                           "dim may be empty); give each of them a size of at least 1")


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


def _as_given(x: Tensor, row_of: tuple | None, *settings: tuple) -> tuple:
    """``(size, shown, *settings)``: ``x``'s spatial size and shape and the pool's per-dim ``settings``, as the
    caller gave them, for the checks' messages: a 1-d pool's row (``row_of``: the caller's input shape) without the
    row dim the 2-d pool sees (its ``1×k``)."""
    if row_of is None:
        return (x.array.shape[2:], x.array.shape, *settings)
    return (x.array.shape[3:], row_of, *(setting[1:] for setting in settings))


def max_pooling(input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool,
                return_indices: bool, dims: int, row_of: tuple | None = None) -> Any:
    """The checked call behind :func:`max_pool2d` and :func:`max_pool3d` (``dims`` spatial dims), and behind
    :func:`max_pool1d` (the 2-d pool of one row, its errors named as max_pool1d's: ``row_of``, the caller's shape)."""
    name = f"max_pool{1 if row_of is not None else dims}d"
    x, had_batch = _floating(input, name, dims, kinds="fiu")  # integers too, as PyTorch (a mask, a label image)
    kernel, stride, pads, dilation = _pool_settings(name, kernel_size, stride, padding, dilation, dims)
    if ceil_mode:  # the last window may run past the input: as PyTorch, it counts if it starts inside
        pads = tuple((before, after + more) for (before, after), more in
                     zip(pads, _overhangs(x.array.shape[2:], kernel, stride, pads, dilation)))
    size, shown, *given = _as_given(x, row_of, kernel, stride, pads, dilation)
    check_planes(name, x.array.shape)
    check_fits(name, size, given[0], given[3], given[2], shown)
    _check_every_window_reads_the_input(name, size, shown, *given)
    out = apply((ops.MAX_POOL2D, ops.MAX_POOL3D)[dims - 2], (x,), x.array, kernel, stride, pads, dilation)
    if not return_indices:
        return kept_channels_last(out, x) if had_batch else out.squeeze(0)
    # one kernel of a compiled step: a replay finds each call's positions
    indices = Tensor._wrap(recorded_call(_max_positions, x.array, kernel, stride, pads, dilation))
    return pooled_with_indices(x, out, indices, had_batch)


def pooled_with_indices(x: Tensor | None, out: Tensor, indices: Tensor, had_batch: bool) -> tuple[Tensor, Tensor]:
    """A max pooling's output and indices, channels-last (both) where the batched input ``x`` is, as PyTorch's
    CPU kernels give them (None: row-major); an unbatched input's, without the batch dim, row-major."""
    if not had_batch:
        return out.squeeze(0), indices.squeeze(0)
    return kept_channels_last(out, x), kept_channels_last(indices, x)


def _check_every_window_reads_the_input(name: str, size: tuple, shape: tuple, kernel: tuple, stride: tuple,
                                        pads: tuple, dilation: tuple) -> None:
    """A one-line error when a dilated window's entries ``i·s + u·d − p`` all fall in the padding: it has no maximum.

    (PyTorch returns −∞ there with an index outside the input, and its backward writes the gradient at that index,
    outside the input's memory.)"""
    for n, k, s, (before, after), d in zip(size, kernel, stride, pads, dilation):
        starts = np.arange(sliding.output_size(n, k, s, d, before, after))[:, None]
        reads = sliding.source(starts, np.arange(k), s, d, before)
        if not ((reads >= 0) & (reads < n)).any(axis=1).all():
            raise RuntimeError(f"{name}: with dilation {dilation} and padding {tuple(p for p, _ in pads)} a window "
                               f"of the input {shape_text(shape)} reads only padding, so it has no maximum "
                               "(PyTorch gives −∞ and an index outside the input); use less padding or dilation")


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Each window's maximum; the gradient goes to that entry (the first maximum on a tie).

    ``return_indices=True``: ``(out, indices)``, each maximum's flat position in its input plane (int64).
    """
    return max_pooling(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Each window's maximum over (N, C, D, H, W) volumes; ``return_indices=True``: each maximum's flat position
    ``(t·H + row)·W + column`` in its input volume."""
    return max_pooling(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3)


def _max_positions(x: Any, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple) -> Any:
    """Where each window's maximum sits, as a flat index into its input plane (``row·W + column``) or volume."""
    where = sliding.max_windows(x, kernel, stride, dilation, pads)[1]
    dims = len(kernel)
    flat = np.zeros(where.shape, dtype=np.int64)
    for dim, offset in enumerate(np.unravel_index(where, kernel)):
        place = [1] * dims
        place[dim] = where.shape[2 + dim]
        start = np.arange(where.shape[2 + dim]).reshape(place) * stride[dim] - pads[dim][0]
        flat = flat * x.shape[2 + dim] + start + offset * dilation[dim]
    return flat


def avg_pooling(input: Tensor, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool, count_include_pad: bool,
                divisor_override: int | None, dims: int, row_of: tuple | None = None) -> Tensor:
    """The checked call behind :func:`avg_pool2d` and :func:`avg_pool3d` (``dims`` spatial dims), and behind
    :func:`avg_pool1d` (one row: ``row_of``, as :func:`max_pooling`'s)."""
    name, ones = f"avg_pool{1 if row_of is not None else dims}d", (1,) * dims
    x, had_batch = _floating(input, name, dims)
    kernel, stride, pads, _ = _pool_settings(name, kernel_size, stride, padding, dims=dims)
    if divisor_override is not None:
        divisor_override = pool_sizes(divisor_override, 1, "divisor_override", name)[0]
    overhangs = _overhangs(x.array.shape[2:], kernel, stride, pads, ones) if ceil_mode else (0,) * dims
    size, shown, fitted, dilated, padded = _as_given(x, row_of, kernel, ones, tuple(
        (before, after + more) for (before, after), more in zip(pads, overhangs)))
    check_planes(name, x.array.shape)
    check_fits(name, size, fitted, dilated, padded, shown)
    if any(overhangs) and count_include_pad and divisor_override is None:
        x = pad(x, [amount for before, after in reversed(pads) for amount in (before, after)])
        pads, count_include_pad = ((0, 0),) * dims, False  # the zeros are entries now: only the overhang is not
    pads = tuple((before, after + more) for (before, after), more in zip(pads, overhangs))
    out = apply((ops.AVG_POOL2D, ops.AVG_POOL3D)[dims - 2], (x,), x.array, kernel, stride, pads,
                bool(count_include_pad), divisor_override)
    if not had_batch:
        return out.squeeze(0)
    return kept_channels_last(out, x) if dims == 2 else out  # PyTorch's 3-d kernel's output is row-major


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Each window's mean (divided by the window's size, or by ``divisor_override``; with
    ``count_include_pad=False`` by its entries inside the input).

    With ``ceil_mode`` a last window that runs past the padded input divides by its entries inside the
    input and its padding (``count_include_pad``) or inside the input, as PyTorch: the input is padded
    with zeros first, and the overhang counts nothing.
    """
    return avg_pooling(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2)


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Each window's mean over (N, C, D, H, W) volumes, divided as :func:`avg_pool2d` divides.

    As PyTorch's, it pools only volumes at least as large as the kernel before padding (``avg_pool2d`` needs the
    kernel to fit the padded input only)."""
    x, kernel = as_tensor(input), pool_sizes(kernel_size, 3, "kernel_size", "avg_pool3d")
    if x.ndim in (4, 5) and any(n < k for n, k in zip(x.shape[-3:], kernel)):
        raise RuntimeError(f"avg_pool3d: the input {shape_text(x.shape)} is smaller than the kernel {kernel} in a "
                         "spatial dim (padding aside); use a smaller kernel_size or a larger input")
    return avg_pooling(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 3)


def _adaptive_size(x: Tensor, output_size: Any, name: str, dims: int, means: bool = False) -> tuple[int, ...]:
    """``output_size`` (an int, or one per spatial dim, ``None`` keeping that dim's size) as ``dims`` ints; an empty
    spatial dim is refused, but by an average pool (``means``) to all 1s: PyTorch's mean of each plane (NaN)."""
    wanted = (output_size,) * dims if not isinstance(output_size, Sequence) else tuple(output_size)
    if len(wanted) != dims:
        raise RuntimeError(f"{name}: output_size must be an int or {'a pair' if dims == 2 else 'a triple'}, "
                           f"got {output_size!r}")
    wanted = pool_sizes(tuple(size if want is None else want for want, size in zip(wanted, x.shape[2:])), dims,
                        "output_size", name, least=0)
    if 0 in x.shape[2:] and not (means and set(wanted) == {1}):
        raise RuntimeError(f"{name}: the input {shape_text(x.shape)} has an empty spatial dim; give each spatial dim "
                           "at least 1" + (" (or ask for an output_size of all 1s: each plane's mean, NaN)" if means
                                           else ""))
    return wanted


def adaptive_avg_pooling(input: Tensor, output_size: Any, dims: int) -> Tensor:
    """The checked call behind :func:`adaptive_avg_pool2d` and :func:`adaptive_avg_pool3d`."""
    name = f"adaptive_avg_pool{dims}d"
    x, had_batch = _floating(input, name, dims)
    wanted = _adaptive_size(x, output_size, name, dims, means=True)
    if dims == 3 and had_batch:  # PyTorch's 3-d kernel refuses no channels (1-d, 2-d: an empty answer)
        check_planes(name, x.shape)
    if 0 in x.shape[2:]:  # to all 1s: each plane's mean, NaN (an empty batch or no channels: empty)
        out = x.mean(tuple(range(2, dims + 2)), keepdim=True)
        return out if had_batch else out.squeeze(0)
    out = apply((ops.ADAPTIVE_AVG_POOL2D, ops.ADAPTIVE_AVG_POOL3D)[dims - 2], (x,), x.array, wanted)
    if not had_batch:
        return out.squeeze(0)
    return kept_channels_last(out, x) if dims == 2 else out  # PyTorch's 3-d kernel's output is row-major


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Averages over windows chosen so the output is ``output_size`` (an int, a pair; ``None`` keeps that dim)."""
    return adaptive_avg_pooling(input, output_size, 2)


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """Averages over windows chosen so the output is ``output_size`` (an int, a triple; ``None`` keeps that dim)."""
    return adaptive_avg_pooling(input, output_size, 3)


class MaxPool2d(Module):
    """Max pooling over ``kernel_size`` windows (``stride`` defaults to the kernel: windows side by side).

    The settings are kept as given, as PyTorch keeps them (``MaxPool2d(2).kernel_size`` is 2, its ``stride`` 2),
    checked here and made tuples where the pool reads them."""

    dims = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)
        if not leads_with_bool(self.kernel_size, self.stride, self.padding, self.dilation):
            self._settings()  # checked now (a bool alone or first: when called, as PyTorch)

    def _settings(self) -> tuple[tuple, tuple, tuple, tuple]:
        """Kernel, stride, padding pairs and dilation as tuples (:func:`_pool_settings`), as checked when the layer
        is built (a bool passes: PyTorch's pool refuses it when called, as :func:`max_pooling` does)."""
        return _pool_settings(type(self).__name__, self.kernel_size, self.stride, self.padding, self.dilation,
                              self.dims, bools=True)

    def forward(self, input: Tensor) -> Any:
        return max_pooling(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                           self.return_indices, self.dims)

    def config(self) -> dict[str, Any]:
        kernel, stride, pads, dilation = self._settings()
        return {"kernel_size": list(kernel), "stride": list(stride), "padding": [before for before, _ in pads],
                "dilation": list(dilation), "return_indices": self.return_indices, "ceil_mode": self.ceil_mode}


class AvgPool2d(Module):
    """Average pooling over ``kernel_size`` windows (``stride`` defaults to the kernel); the settings kept as
    given, as :class:`MaxPool2d`'s."""

    dims = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override
        if not leads_with_bool(self.kernel_size, self.stride, self.padding):
            self._settings()  # checked now (a bool alone or first: when called, as PyTorch)

    def _settings(self) -> tuple[tuple, tuple, tuple]:
        """Kernel, stride and padding pairs as tuples (:func:`_pool_settings`), as checked when the layer is built
        (a bool passes, as :class:`MaxPool2d`'s)."""
        return _pool_settings(type(self).__name__, self.kernel_size, self.stride, self.padding, dims=self.dims,
                              bools=True)[:3]

    def forward(self, input: Tensor) -> Tensor:
        return avg_pooling(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                           self.divisor_override, self.dims)

    def config(self) -> dict[str, Any]:
        kernel, stride, pads = self._settings()
        return {"kernel_size": list(kernel), "stride": list(stride), "padding": [before for before, _ in pads],
                "ceil_mode": self.ceil_mode, "count_include_pad": self.count_include_pad,
                "divisor_override": self.divisor_override}


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` whatever the input's size (``1``: a global average)."""

    dims = 2

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size  # as given, as PyTorch keeps it

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pooling(input, self.output_size, self.dims)

    def config(self) -> dict[str, Any]:
        return {"output_size": list(self.output_size) if isinstance(self.output_size, Sequence) else self.output_size}



# --- the 1-d pools (a 2-d pool over a height of 1) ----------------------------------------------------------

def _one_row(input: Tensor, name: str) -> Tensor:
    """(N, C, L) or (C, L) as (N, C, 1, L) or (C, 1, L): a 1-d pool is the 2-d pool of one row."""
    x = as_tensor(input)
    if x.ndim not in (2, 3):
        raise RuntimeError(f"{name}: expected input of shape (N, C, L) or (C, L), got {shape_text(x.shape)}")
    return x.unsqueeze(-2)


def _row(value: Any, fill: int, name: str, owner: str, least: int | None = None,
         bools: bool = False) -> tuple[int, int]:
    """A 1-d setting (an int, or a sequence of one) as the 2-d one of a single row: ``(fill, value)``; its type,
    count and least value (``least``, else ``fill``: 0 for padding, 1 for a kernel, stride, dilation) are checked
    here, so ``max_pool1d(x, (2, 3))`` is refused, not pooled by 2, and ``max_pool1d(x, 2, stride=0)`` names
    max_pool1d and the 0 given, not max_pool2d's ``(1, 0)``. ``bools``: see :func:`pool_sizes`."""
    return (fill, pool_sizes(value, 1, name, owner, least=fill if least is None else least, bools=bools)[0])


def _stride(stride: Any, kernel_size: Any) -> Any:
    return kernel_size if stride is None or (isinstance(stride, Sequence) and not stride) else stride


def _row_settings(owner: str, kernel_size: Any, stride: Any, padding: Any, dilation: Any = 1,
                  bools: bool = False) -> tuple:
    """A 1-d pool's kernel, stride, padding and dilation, checked as a 1-d pool's (:func:`_pool_settings`, naming
    ``owner`` and the values given: ``max_pool1d(x, 2, padding=2)`` is not told about max_pool2d's ``(0, 2)``), as the
    2-d settings of a single row."""
    kernel, stride, pads, dilation = _pool_settings(owner, kernel_size, stride, padding, dilation, dims=1, bools=bools)
    return (1, kernel[0]), (1, stride[0]), (0, pads[0][0]), (1, dilation[0])


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Each window's maximum along the last dim (``max_pool2d`` of one row; indices count along the row)."""
    owner = "max_pool1d"
    return _max_pool_row(input, owner, *_row_settings(owner, kernel_size, stride, padding, dilation), ceil_mode,
                         return_indices)


def _max_pool_row(input: Tensor, owner: str, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
                  ceil_mode: bool, return_indices: bool) -> Any:
    """A 1-d max pool (``owner``'s) as the 2-d pool of one row, with the row's settings (:func:`_row_settings`)."""
    row = _one_row(input, owner)
    pooled = max_pooling(row, kernel, stride, padding, dilation, ceil_mode, return_indices, 2,
                         row_of=row.shape[:-2] + row.shape[-1:])
    return tuple(part.squeeze(-2) for part in pooled) if return_indices else pooled.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Each window's mean along the last dim (``avg_pool2d`` of one row)."""
    owner = "avg_pool1d"
    return _avg_pool_row(input, owner, *_row_settings(owner, kernel_size, stride, padding)[:3], ceil_mode,
                         count_include_pad)


def _avg_pool_row(input: Tensor, owner: str, kernel: tuple, stride: tuple, padding: tuple, ceil_mode: bool,
                  count_include_pad: bool) -> Tensor:
    """A 1-d average pool (``owner``'s) as the 2-d pool of one row, with the row's settings."""
    row = _one_row(input, owner)
    return avg_pooling(row, kernel, stride, padding, ceil_mode, count_include_pad, None, 2,
                       row_of=row.shape[:-2] + row.shape[-1:]).squeeze(-2)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Averages over windows chosen so the last dim becomes ``output_size``."""
    owner = "adaptive_avg_pool1d"
    return adaptive_avg_pool2d(_one_row(input, owner), _row(output_size, 1, "output_size", owner, least=0)).squeeze(-2)


class MaxPool1d(MaxPool2d):
    """Max pooling over windows of the last dim of (N, C, L); the settings kept as given (``MaxPool1d(2)``'s
    ``kernel_size`` is 2), as PyTorch's."""

    def _settings(self, bools: bool = True) -> tuple[tuple, tuple, tuple, tuple]:
        """The 2-d settings of a single row (:func:`_row_settings`); a bool refused when called (``bools``)."""
        return _row_settings("MaxPool1d", self.kernel_size, self.stride, self.padding, self.dilation, bools)

    def forward(self, input: Tensor) -> Any:
        return _max_pool_row(input, "MaxPool1d", *self._settings(bools=False), self.ceil_mode, self.return_indices)

    def config(self) -> dict[str, Any]:
        kernel, stride, padding, dilation = self._settings()
        return {"kernel_size": kernel[1], "stride": stride[1], "padding": padding[1], "dilation": dilation[1],
                "return_indices": self.return_indices, "ceil_mode": self.ceil_mode}


class AvgPool1d(AvgPool2d):
    """Average pooling over windows of the last dim of (N, C, L); PyTorch keeps its settings as 1-tuples
    (``AvgPool1d(3).kernel_size`` is ``(3,)``), and so does this."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(_single(kernel_size), _single(kernel_size if stride is None else stride), _single(padding),
                         ceil_mode, count_include_pad)

    def _settings(self, bools: bool = True) -> tuple[tuple, tuple, tuple]:
        """The 2-d settings of a single row (:func:`_row_settings`); a bool refused when called (``bools``)."""
        return _row_settings("AvgPool1d", self.kernel_size, self.stride, self.padding, bools=bools)[:3]

    def forward(self, input: Tensor) -> Tensor:
        return _avg_pool_row(input, "AvgPool1d", *self._settings(bools=False), self.ceil_mode, self.count_include_pad)

    def config(self) -> dict[str, Any]:
        kernel, stride, padding = self._settings()
        return {"kernel_size": kernel[1], "stride": stride[1], "padding": padding[1], "ceil_mode": self.ceil_mode,
                "count_include_pad": self.count_include_pad}  # the one row's settings (no divisor_override in 1-d)


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling of the last dim to ``output_size`` entries."""

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool1d(input, self.output_size)


# --- the 3-d pools: the same settings, one more dim ----------------------------------------------------

class MaxPool3d(MaxPool2d):
    """Max pooling over ``kernel_size`` windows of volumes (N, C, D, H, W)."""

    dims = 3


class AvgPool3d(AvgPool2d):
    """Average pooling over ``kernel_size`` windows of volumes (N, C, D, H, W)."""

    dims = 3


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    """Average pooling of volumes (N, C, D, H, W) to a fixed ``output_size``."""

    dims = 3
