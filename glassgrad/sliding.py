"""Sliding windows in NumPy: the arithmetic under convolution and pooling.

Along each spatial dim an output position ``i`` reads the input entries (indices from 0, as NumPy's)

    p = i·s + u·d − pad        (u = 0 … kernel − 1)

with stride ``s``, dilation ``d`` and the padding ``pad`` added before the input (zeros for a
convolution or an average, −∞ for a maximum). :func:`windows` gives every window at once as
a strided *view* of the padded input, shaped ``(N, C, *out, *kernel)``, without copying.

* A convolution copies those windows once into a matrix (im2col: one row per output
  position, one column per (channel, kernel offset)) and multiplies it by the weights in
  one matrix product (a batch of ``groups`` products): ``Z = cols · Wᵀ``.
* Its backward is two more products: ``∂L/∂W = ∂L/∂Zᵀ · cols`` and
  ``∂L/∂cols = ∂L/∂Z · W``, whose entries :func:`scatter_windows` adds back to the input
  positions they were copied from (col2im): an input entry read by several windows collects
  the gradient of each.
* Pooling reduces each window (its maximum, its mean) and sends the gradient back the same way.

These functions see only NumPy arrays; the rows of :mod:`glassgrad.ops` call them.

>>> import numpy as np
>>> windows(np.arange(5.0).reshape(1, 1, 5), (2,), (2,), (1,))[0, 0].tolist()
[[0.0, 1.0], [2.0, 3.0]]
"""

from __future__ import annotations

import math

import numpy as np

from .summation import add_reduce

Array = np.ndarray
Pairs = tuple[tuple[int, int], ...]
"""Padding per spatial dim: ``(before, after)``."""


def source(position: int, offset: int, stride: int, dilation: int, before: int) -> int:
    """The input index that output ``position`` reads at kernel ``offset``: ``i·s + u·d − pad``
    (outside ``0 … size − 1`` it is padding)."""
    return position * stride + offset * dilation - before


def output_size(size: int, kernel: int, stride: int, dilation: int, before: int, after: int) -> int:
    """How many windows fit: ``⌊(size + pads − d·(kernel − 1) − 1)/s⌋ + 1``."""
    return (size + before + after - dilation * (kernel - 1) - 1) // stride + 1


def pad(x: Array, padding: Pairs, value: float) -> Array:
    """``x`` with its last ``len(padding)`` dims padded by ``value`` (no copy when there is none)."""
    if not any(before or after for before, after in padding):
        return x
    widths = [(0, 0)] * (x.ndim - len(padding)) + list(padding)
    return np.pad(x, widths, constant_values=value)


def windows(padded: Array, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]) -> Array:
    """Every window of ``padded`` (N, C, *size) as a read-only view ``(N, C, *out, *kernel)``."""
    spatial = padded.shape[2:]
    out = tuple(output_size(n, k, s, d, 0, 0) for n, k, s, d in zip(spatial, kernel, stride, dilation))
    steps = padded.strides[2:]
    return np.lib.stride_tricks.as_strided(
        padded, padded.shape[:2] + out + tuple(kernel),
        padded.strides[:2] + tuple(t * s for t, s in zip(steps, stride))
        + tuple(t * d for t, d in zip(steps, dilation)), writeable=False)


def scatter_windows(window_grads: Array, size: tuple[int, ...], stride: tuple[int, ...],
                    dilation: tuple[int, ...], padding: Pairs) -> Array:
    """The gradient of each window entry added back to the input it was read from.

    ``window_grads`` is laid out kernel offset first, ``(*kernel, A, B, *out)`` (so that each
    offset's slice is one contiguous block); the result is ``(A, B, *size)``. Entries read by
    several (overlapping) windows collect every window's share; the padding's share is dropped.
    """
    spatial = len(size)
    kernel = window_grads.shape[:spatial]
    lead = window_grads.shape[spatial:spatial + 2]
    out = window_grads.shape[spatial + 2:]
    padded_size = tuple(n + before + after for n, (before, after) in zip(size, padding))
    grad = np.zeros(lead + padded_size, dtype=window_grads.dtype)
    for offset in np.ndindex(*kernel):  # one strided slice per kernel offset
        at = tuple(slice(u * d, u * d + s * (o - 1) + 1, s) for u, d, s, o in zip(offset, dilation, stride, out))
        grad[(..., *at)] += window_grads[offset]
    inside = tuple(slice(before, before + n) for n, (before, _) in zip(size, padding))
    return grad[(..., *inside)]



def window_positions(size: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
                     dilation: tuple[int, ...], padding: Pairs) -> tuple[Array, Array]:
    """Where every window reads, as flat input positions: ``(K, L)`` arrays, one row per kernel offset
    and one column per output position (both row-major), of the flat index ``Σ p·(the sizes after it)``
    with ``p = i·s + u·d − pad`` per dim, and whether it lies inside the input (False: padding,
    whose index is then 0). The same windows as :func:`windows`, for code that picks entries by index.
    """
    spatial = len(size)
    flat, inside = np.zeros((), dtype=np.int64), np.ones((), dtype=bool)
    for dim, (n, k, s, d, (before, after)) in enumerate(zip(size, kernel, stride, dilation, padding)):
        out = output_size(n, k, s, d, before, after)
        place = [1] * (2 * spatial)
        place[dim], place[spatial + dim] = k, out
        reads = source(np.arange(out)[None, :], np.arange(k)[:, None], s, d, before).reshape(place)
        flat = flat * n + reads
        inside = inside & (reads >= 0) & (reads < n)
    rows = math.prod(kernel)
    return np.where(inside, flat, 0).reshape(rows, -1), inside.reshape(rows, -1)

# --- convolution ------------------------------------------------------------------------------

def convolve(x: Array, weight: Array, bias: Array | None, stride: tuple[int, ...], padding: Pairs,
             dilation: tuple[int, ...], groups: int) -> tuple[Array, Array]:
    """``Z[n,c,i…] = Σ_{k,u…} W[c,k,u…]·X̃[n, g(c)+k, i·s+u·d …] + b[c]`` (X̃ the zero-padded input,
    ``g(c)`` the first input channel of output channel c's group); also returns the im2col matrix."""
    n, channels = x.shape[:2]
    out_channels, group_channels = weight.shape[:2]
    kernel = weight.shape[2:]
    spatial = len(kernel)
    view = windows(pad(x, padding, 0), kernel, stride, dilation)
    out = view.shape[2:2 + spatial]
    positions = math.prod(out)
    # (N, g, C/g, *out, *kernel) → (g, N, *out, C/g, *kernel) → one row per (sample, position)
    view = view.reshape((n, groups, group_channels) + view.shape[2:])
    order = (1, 0, *range(3, 3 + spatial), 2, *range(3 + spatial, 3 + 2 * spatial))
    cols = view.transpose(order).reshape(groups, n * positions, group_channels * math.prod(kernel))
    per_group = out_channels // groups
    flat_weight = weight.reshape(groups, per_group, -1)
    result = np.matmul(cols, flat_weight.transpose(0, 2, 1))  # (g, N·positions, O/g)
    result = result.reshape((groups, n) + out + (per_group,))
    result = np.ascontiguousarray(np.moveaxis(result, (0, -1), (1, 2)).reshape((n, out_channels) + out))
    if bias is not None:
        result += bias.reshape((out_channels,) + (1,) * spatial)
    return result, cols


def convolve_back(up: Array, cols: Array, weight: Array, input_shape: tuple[int, ...], stride: tuple[int, ...],
                  padding: Pairs, dilation: tuple[int, ...], groups: int,
                  needs: tuple[bool, bool, bool]) -> tuple[Array | None, Array | None, Array | None]:
    """``∂L/∂X``, ``∂L/∂W``, ``∂L/∂b`` of :func:`convolve` (None where ``needs`` says no)."""
    n = up.shape[0]
    out_channels, group_channels = weight.shape[:2]
    kernel = weight.shape[2:]
    spatial = len(kernel)
    out = up.shape[2:]
    per_group = out_channels // groups
    # ∂L/∂Z as (g, N·positions, O/g), rows matching the rows of cols
    flat_up = np.moveaxis(up.reshape((n, groups, per_group, math.prod(out))), (1, 2), (0, 3))
    flat_up = flat_up.reshape(groups, n * math.prod(out), per_group)
    grad_x = grad_w = grad_b = None
    if needs[1]:
        grad_w = np.matmul(flat_up.transpose(0, 2, 1), cols).reshape(weight.shape)
    if needs[2]:
        grad_b = add_reduce(up, (0, *range(2, 2 + spatial)))
    if needs[0]:
        # ∂L/∂colsᵀ = Wᵀ·∂L/∂Zᵀ per group: (g, C/g·kernel, N·positions), i.e. (C, *kernel, N, *out)
        grad_cols = np.matmul(weight.reshape(groups, per_group, -1).transpose(0, 2, 1), flat_up.transpose(0, 2, 1))
        grad_cols = grad_cols.reshape((groups * group_channels,) + kernel + (n,) + out)
        window_grads = np.moveaxis(grad_cols, 0, spatial)  # (*kernel, C, N, *out): a view
        grad_x = np.ascontiguousarray(
            np.swapaxes(scatter_windows(window_grads, input_shape[2:], stride, dilation, padding), 0, 1))
    return grad_x, grad_w, grad_b


# --- pooling ----------------------------------------------------------------------------------

def _flat_windows(x: Array, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
                  padding: Pairs, value: float) -> Array:
    """The windows of ``x`` padded with ``value``, each flattened: ``(N, C, *out, kernel entries)``."""
    view = windows(pad(x, padding, value), kernel, stride, dilation)
    return view.reshape(view.shape[:2 + len(kernel)] + (math.prod(kernel),))


def first_maximum(rows: Array) -> Array:
    """Where each row's maximum is (its position along the last axis), as PyTorch's CPU kernels scan a window: a
    tie goes to the first maximum, and a NaN is the maximum (the last NaN of the row)."""
    where = np.argmax(rows, axis=-1)
    nan = np.isnan(rows)
    if nan.any():
        last_nan = rows.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
        where = np.where(nan.any(axis=-1), last_nan, where)
    return where


def max_windows(x: Array, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
                padding: Pairs) -> tuple[Array, Array]:
    """Each window's maximum and where it is (its flat position in the window).

    A tie goes to the first maximum in row-major order; a NaN is the maximum (the last NaN of
    the window), as PyTorch's CPU kernel scans. The padding holds the lowest value of the dtype (−∞, or an
    integer type's minimum, as PyTorch's ``lowest()``) and is never the maximum: a window whose entries all hold
    that value gives its first entry inside the input (its padding would take the gradient, or the index).
    """
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    flat = _flat_windows(x, kernel, stride, dilation, padding, lowest)
    where = first_maximum(flat)
    largest = np.take_along_axis(flat, where[..., None], axis=-1)[..., 0]
    if any(map(any, padding)) and (largest == lowest).any():
        inside = _flat_windows(np.ones((1, 1) + x.shape[2:], dtype=bool), kernel, stride, dilation, padding, False)
        where = np.where(largest == lowest, np.argmax(inside, axis=-1), where)
    return largest, where


def max_windows_back(up: Array, where: Array, input_shape: tuple[int, ...], kernel: tuple[int, ...],
                     stride: tuple[int, ...], dilation: tuple[int, ...], padding: Pairs) -> Array:
    """Each window's upstream gradient to the entry that was its maximum (summed where windows share it): added at
    each maximum's flat place in the padded input (window ``i`` reads ``i·s + u·d`` per dim), the padding's share
    dropped (no maximum is there)."""
    padded_size = tuple(n + before + after for n, (before, after) in zip(input_shape[2:], padding))
    offsets = np.unravel_index(where, kernel)  # each window's maximum, as a kernel offset per dim
    places = np.arange(math.prod(input_shape[:2])).reshape(input_shape[:2] + (1,) * len(kernel))
    for dim, (size, step, spread) in enumerate(zip(padded_size, stride, dilation)):
        starts = np.arange(up.shape[2 + dim]).reshape([-1 if d == dim else 1 for d in range(len(kernel))]) * step
        places = places * size + starts + offsets[dim] * spread
    grad = np.zeros(input_shape[:2] + padded_size, dtype=up.dtype)
    np.add.at(grad.reshape(-1), places.reshape(-1), up.reshape(-1))
    return grad[(..., *(slice(before, before + n) for n, (before, _) in zip(input_shape[2:], padding)))]


def mean_windows(x: Array, kernel: tuple[int, ...], stride: tuple[int, ...], padding: Pairs,
                 count_include_pad: bool, divisor: int | None) -> tuple[Array, Array]:
    """Each window's sum divided by its count: the window's size (``count_include_pad``), its
    entries inside the input, or ``divisor``; also returns the counts (broadcastable to the output)."""
    ones = tuple(1 for _ in kernel)
    total = _flat_windows(x, kernel, stride, ones, padding, 0).sum(axis=-1)
    if divisor is not None:
        counts = np.array(divisor, dtype=x.dtype)
    elif count_include_pad:
        counts = np.array(math.prod(kernel), dtype=x.dtype)
    else:
        inside = np.ones((1, 1) + x.shape[2:], dtype=x.dtype)
        counts = _flat_windows(inside, kernel, stride, ones, padding, 0).sum(axis=-1)
    return total / counts, counts


def mean_windows_back(up: Array, counts: Array, input_shape: tuple[int, ...], kernel: tuple[int, ...],
                      stride: tuple[int, ...], padding: Pairs) -> Array:
    """Each window's ``upstream / count`` to every entry of the window (summed where windows overlap)."""
    window_grads = np.broadcast_to(up / counts, tuple(kernel) + up.shape)
    return scatter_windows(window_grads, input_shape[2:], stride, tuple(1 for _ in kernel), padding)


def adaptive_ranges(size: int, out: int) -> list[tuple[int, int]]:
    """The input range ``[⌊i·size/out⌋, ⌈(i+1)·size/out⌉)`` each of ``out`` outputs averages (PyTorch's split)."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def adaptive_matrix(size: int, out: int, dtype: np.dtype) -> Array:
    """``A[i, h] = 1/len(range i)`` for ``h`` in output ``i``'s range: averaging along one dim is ``A @ x``."""
    matrix = np.zeros((out, size), dtype=dtype)
    for i, (start, end) in enumerate(adaptive_ranges(size, out)):
        matrix[i, start:end] = 1 / (end - start)
    return matrix


def adaptive_mean(a: Array, axis: int, out: int) -> Array:
    """Each adaptive window's mean along ``axis`` (``out`` windows): the sum of the entries it reads over their
    number, each sum over its own entries (``np.add.reduceat`` of the windows' bounds), so an entry reaches only the
    outputs whose windows hold it (a NaN or ∞ stays there, as in PyTorch, where a product with
    :func:`adaptive_matrix` spreads it through 0·NaN). float16 is summed in float32, as PyTorch's CPU sums it."""
    size = a.shape[axis]
    ranges = adaptive_ranges(size, out)
    if not ranges:
        return np.empty(a.shape[:axis] + (0,) + a.shape[axis + 1:], a.dtype)
    bounds = [bound for window in ranges for bound in window]
    if bounds[-1] == size:  # the last sum runs to the end by itself
        bounds.pop()
    if size in bounds:  # more windows than entries: another window ends there too (reduceat reads a bound's entry)
        a = np.concatenate([a, np.zeros_like(np.take(a, [0], axis=axis))], axis=axis)
    sums = np.add.reduceat(a, bounds, axis=axis, dtype=np.float32 if a.dtype == np.float16 else None)
    lengths = np.array([end - start for start, end in ranges], dtype=sums.dtype)
    means = np.take(sums, range(0, 2 * out, 2), axis=axis) / lengths.reshape((-1,) + (1,) * (a.ndim - axis - 1))
    return means.astype(a.dtype, copy=False)


def adaptive_mean_back(up: Array, axis: int, size: int) -> Array:
    """:func:`adaptive_mean`'s gradient along ``axis`` (``size`` input entries): each window's ``upstream /
    length`` to every entry it read, added where windows overlap (``size`` not a multiple of the outputs)."""
    out = up.shape[axis]
    if out and size % out == 0:  # side by side, of one length
        return np.repeat(up / (size // out), size // out, axis=axis)
    grad = np.zeros(up.shape[:axis] + (size,) + up.shape[axis + 1:], up.dtype)
    lead = (slice(None),) * axis
    for number, (start, end) in enumerate(adaptive_ranges(size, out)):
        grad[lead + (slice(start, end),)] += up[lead + (slice(number, number + 1),)] / (end - start)
    return grad
