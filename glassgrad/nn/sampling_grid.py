"""Sampling an image at arbitrary points: ``F.affine_grid`` and ``F.grid_sample`` (spatial transformers).

A grid holds, for every output pixel, the point of the input to read, in *normalised* coordinates:
``(x, y)`` with ``−1`` the left/top edge and ``+1`` the right/bottom edge of the input. A volume
(N, C, D, H, W) is read the same way at points ``(x, y, z)``, ``z`` along the depth D. For an input
of ``n`` pixels along a dim, a normalised ``g`` becomes the pixel coordinate (unnormalising)

* ``align_corners=True``: ``x = (g + 1)/2 · (n − 1)`` (``±1`` are the centres of the corner pixels);
* ``align_corners=False``: ``x = ((g + 1)·n − 1)/2`` (``±1`` are the outer edges of the corner pixels).

``padding_mode`` says what a point outside the image reads: ``'zeros'`` (0), ``'border'`` (the
coordinate clipped to ``[0, n − 1]``) or ``'reflection'`` (the coordinate mirrored at the edges —
at the corner centres ``0`` and ``n − 1`` with ``align_corners=True``, at the outer edges ``−½``
and ``n − ½`` otherwise — then clipped). A clipped coordinate has no gradient, and PyTorch counts
a point exactly on the border as clipped (gradient 0 there too).

``mode='bilinear'`` mixes the four neighbours ``(x₀, y₀) = (⌊x⌋, ⌊y⌋)`` … ``(x₀ + 1, y₀ + 1)`` with
weights from the fractional parts ``fx = x − x₀``, ``fy = y − y₀``::

    out = (1 − fx)(1 − fy)·I[y₀, x₀] + fx(1 − fy)·I[y₀, x₀+1] + (1 − fx)fy·I[y₀+1, x₀] + fx·fy·I[y₀+1, x₀+1]

(a neighbour outside the image reads 0); in a volume, ``mode='bilinear'`` is trilinear: the eight
neighbours, each weighted by the product of its three fractional weights. So ``∂out/∂I`` is each
neighbour's weight (the gradient of the input is a scatter-add of the weighted upstream gradient,
made by ``gather``'s backward) and
``∂out/∂x = (1 − fy)(I[y₀, x₀+1] − I[y₀, x₀]) + fy(I[y₀+1, x₀+1] − I[y₀+1, x₀])`` (times the
unnormalising factor ``∂x/∂g``). ``mode='nearest'`` reads the pixel at the coordinates rounded half
to even (as PyTorch's ``nearbyint``); its grid's gradient is 0. ``mode='bicubic'`` mixes the 4×4
neighbours ``x₀ − 1 … x₀ + 2`` (images only, as in PyTorch) with the cubic convolution weights
(``A = −0.75``) ``k(t) = (A+2)|t|³ − (A+3)|t|² + 1`` for ``|t| ≤ 1`` and ``A|t|³ − 5A|t|² + 8A|t| − 4A`` for
``1 < |t| < 2``; the padding mode then applies to each neighbour's integer coordinates.

Everything is made of existing differentiable rows (arithmetic, ``where``, ``gather``, matrix
products), so gradients w.r.t. the input, the grid and ``θ`` come from them. Which pixels are read
is worked out in NumPy from the grid's values, each such array one kernel of a ``gg.compile``d step, so a replay
works them out from each call's grid.

Leaving ``align_corners`` out (False) gives PyTorch's UserWarning that its default changed in 1.3, and
``affine_grid`` with ``align_corners=True`` and a dim of size 1 PyTorch's warning on unit-size grids; misuse raises
PyTorch's exception classes (a grid or batch that does not fit the input, or dtypes that differ: RuntimeError).

>>> import glassgrad as gg
>>> import glassgrad.nn.functional as F
>>> image = gg.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
>>> F.grid_sample(image, gg.tensor([[[[0.0, 0.0]]]]), align_corners=True).item()
2.5
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np

from ..arguments import shape_text
from ..autograd import recorded_call
from ..creation import as_tensor
from ..functions import where
from ..tensor import Tensor

MODES = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("zeros", "border", "reflection")
CUBIC_A = -0.75
"""The cubic convolution constant PyTorch uses (Keys' kernel with a = −0.75)."""


def _base_coordinates(steps: int, align_corners: bool) -> np.ndarray:
    """The normalised coordinates of ``steps`` pixel centres: ``−1 … 1`` (times ``(n − 1)/n`` when not aligned)."""
    if steps <= 1:
        return np.zeros(steps)
    positions = np.linspace(-1.0, 1.0, steps)
    return positions if align_corners else positions * ((steps - 1) / steps)


def _warn_default(align_corners: bool | None) -> None:
    """PyTorch's UserWarning when ``align_corners`` is left out of ``affine_grid`` or ``grid_sample`` (its default,
    False, changed in PyTorch 1.3)."""
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                      "grid_sample for details.", UserWarning, stacklevel=3)


def affine_grid(theta: Tensor, size: Any, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of the affine maps ``θ``: ``grid[n, i, j] = θₙ · (xⱼ, yᵢ, 1)ᵀ``.

    For images, ``size`` is (N, C, H, W), ``θ`` is (N, 2, 3) and the grid (N, H, W, 2); for volumes,
    ``size`` is (N, C, D, H, W), ``θ`` is (N, 3, 4) and the grid (N, D, H, W, 3) of ``θₙ · (x, y, z, 1)ᵀ``.
    ``(x, y, z)`` are the normalised coordinates of the output pixel centres (``−1 … 1``; times
    ``(n − 1)/n`` with ``align_corners=False``), so the grid is ``base · θᵀ``, a matrix product
    whose gradient w.r.t. ``θ`` is ``baseᵀ · ∂L/∂grid``.
    """
    theta = as_tensor(theta)
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise NotImplementedError(f"affine_grid: size must be the 4 numbers (N, C, H, W) or the 5 numbers "
                                  f"(N, C, D, H, W) of the output, got {size}")
    batch, spatial = size[0], size[2:]
    points = len(spatial)  # 2: (x, y); 3: (x, y, z)
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (points, points + 1):
        raise ValueError(f"affine_grid: theta must be (N, {points}, {points + 1}) (one {points}×{points + 1} affine "
                         f"matrix per {'image' if points == 2 else 'volume'} of size {size}), "
                         f"got shape {shape_text(theta.shape)}")
    if theta.dtype.kind != "f":
        raise ValueError(f"affine_grid: theta must be floating point, got {theta.dtype}; convert it with .float()")
    if min(size) <= 0:
        raise ValueError(f"affine_grid: every entry of size must be positive, got {size}")
    if theta.shape[0] != batch:
        raise RuntimeError(f"affine_grid: theta holds {theta.shape[0]} matrices but size asks for a batch of "
                           f"{batch}; give one matrix per image")
    _warn_default(align_corners)
    if align_corners and 1 in spatial:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation of "
                      "affine_grid for details.", UserWarning, stacklevel=2)
    aligned = bool(align_corners)
    along = np.meshgrid(*(_base_coordinates(steps, aligned) for steps in spatial), indexing="ij")
    base = np.stack([*along[::-1], np.ones(spatial)], axis=-1)  # (x, y[, z], 1): the last dim first
    grid = theta.new_tensor(base.reshape(1, -1, points + 1)) @ theta.transpose(1, 2)
    return grid.reshape(batch, *spatial, points)


def _unnormalise(coordinate: Tensor, size: int, align_corners: bool) -> Tensor:
    """Normalised ``g`` to pixel coordinates: ``(g + 1)·(n − 1)/2`` aligned, else ``(g + 1)·n/2 − ½``.

    (Grouped as PyTorch's CPU kernel groups them, so a point lands on the same float.)
    """
    if align_corners:
        return (coordinate + 1) * ((size - 1) / 2)
    return (coordinate + 1) * (size / 2) - 0.5


def _clip(coordinate: Tensor, size: int) -> Tensor:
    """The coordinate clipped to ``[0, n − 1]``; a clipped one (or one exactly on the border) has gradient 0.

    A NaN coordinate becomes 0, as in PyTorch's kernel.
    """
    inside, clipped = recorded_call(_clip_parts, coordinate.array, size)  # a kernel of a compiled step
    return where(inside, coordinate, Tensor._wrap(clipped))


def _clip_parts(coordinate: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Where ``coordinate`` lies strictly inside ``(0, n − 1)``, and it clipped to ``[0, n − 1]`` (NaN: 0)."""
    inside = (coordinate > 0) & (coordinate < size - 1)
    return inside, np.clip(np.nan_to_num(coordinate, nan=0.0), 0, size - 1).astype(coordinate.dtype, copy=False)


def _reflect(coordinate: Tensor, size: int, align_corners: bool) -> Tensor:
    """The coordinate mirrored at ``low`` and ``high`` (the corner centres, or the outer edges), then clipped.

    With ``t = |x − low|`` and ``span = high − low``: ``t mod span`` after an even number of flips
    ``⌊t/span⌋``, ``span − (t mod span)`` after an odd one (so the gradient's sign flips with them).
    """
    low, high = (0.0, size - 1.0) if align_corners else (-0.5, size - 0.5)
    span = high - low
    if span <= 0:
        return coordinate * 0.0
    distance = (coordinate - low).abs()
    folded, even = recorded_call(_flips, distance.array, span)  # a kernel of a compiled step
    extra = distance - folded
    reflected = where(even, extra + low, span - extra + low)
    return _clip(reflected, size)


def _flips(distance: np.ndarray, span: float) -> tuple[np.ndarray, np.ndarray]:
    """``⌊t/span⌋·span`` (the spans folded away) and whether ``⌊t/span⌋`` is even."""
    flips = np.floor(distance / span)
    return flips * span, flips % 2 == 0


def _padded(coordinate: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """The pixel coordinate after the padding mode (``'zeros'`` leaves it as it is)."""
    if padding_mode == "border":
        return _clip(coordinate, size)
    if padding_mode == "reflection":
        return _reflect(coordinate, size, align_corners)
    return coordinate


def _read(flat: Tensor, points: list[np.ndarray], sizes: tuple[int, ...]) -> tuple[Tensor, np.ndarray]:
    """The pixels of ``flat`` (N, C, H·W or D·H·W) at whole-number ``points``: values (N, C, *out), boolean mask.

    ``points`` holds one array (N, *out) of floats per input dim, in the input's order ((y, x) or
    (z, y, x)). A point outside the input (or NaN, or infinite) reads 0, filled in, not multiplied: its
    weight may be NaN (a NaN grid point), and the pixel it stands in for gets no gradient, as in PyTorch,
    where a NaN weight times a 0 mask sent NaN to it. The mask (N, 1, *out) says which reads count.
    """
    batch, channels, _ = flat.shape
    index, outside, inside = recorded_call(_positions, sizes, channels, *points)  # a kernel of a compiled step
    values = flat.gather(2, index).reshape(batch, channels, *points[0].shape[1:])
    return values.masked_fill(outside, 0.0), inside


def _positions(sizes: tuple[int, ...], channels: int, *points: np.ndarray) -> tuple[np.ndarray, ...]:
    """:func:`_read`'s flat positions (N, C, points) for ``gather``, and its masks (N, 1, *out) of the points outside
    the input and inside it."""
    batch = points[0].shape[0]
    inside = np.ones(points[0].shape, dtype=bool)
    index = np.zeros(points[0].shape, dtype=np.int64)
    for coordinate, size in zip(points, sizes):
        inside &= (coordinate >= 0) & (coordinate < size)
        index = index * size + np.clip(np.nan_to_num(coordinate, nan=0.0), 0, size - 1).astype(np.int64)
    points_per_image = math.prod(points[0].shape[1:])
    index = np.broadcast_to(index.reshape(batch, 1, points_per_image), (batch, channels, points_per_image))
    return np.ascontiguousarray(index), ~inside[:, None], inside[:, None]


def _shifted(corner: np.ndarray, by: int) -> np.ndarray:
    """The neighbour ``by`` pixels on from ``corner`` (whole-number coordinates)."""
    return corner + by


def _cubic_weights(t: Tensor) -> list[Tensor]:
    """The four cubic convolution weights of the neighbours at offsets −1, 0, 1, 2 from ``⌊x⌋`` (``t = x − ⌊x⌋``)."""
    a = CUBIC_A

    def near(s: Tensor) -> Tensor:  # |s| ≤ 1
        return ((a + 2) * s - (a + 3)) * s * s + 1

    def far(s: Tensor) -> Tensor:  # 1 < |s| < 2
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _padded_index(index: np.ndarray, size: int, padding_mode: str, align_corners: bool) -> np.ndarray:
    """Whole-number neighbour coordinates after the padding mode (for bicubic, which pads each neighbour)."""
    if padding_mode == "zeros":
        return index
    return _padded(as_tensor(index), size, padding_mode, align_corners).array


def _check(input: Tensor, grid: Tensor, mode: str, padding_mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"grid_sample: mode must be one of {', '.join(MODES)}, got {mode!r}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"grid_sample: padding_mode must be one of {', '.join(PADDING_MODES)}, got {padding_mode!r}")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"grid_sample: input must be 4-D (N, C, H, W) or 5-D (N, C, D, H, W), "
                         f"got shape {shape_text(input.shape)}")
    if input.ndim == 5 and mode == "bicubic":
        raise RuntimeError("grid_sample: bicubic interpolation reads images (N, C, H, W) only; use 'bilinear' "
                           "(trilinear) or 'nearest' for a volume")
    if input.ndim == 4 and (grid.ndim != 4 or grid.shape[-1] != 2):
        raise RuntimeError(f"grid_sample: grid must be (N, H_out, W_out, 2) (an (x, y) point per output pixel), "
                         f"got shape {shape_text(grid.shape)}")
    if input.ndim == 5 and (grid.ndim != 5 or grid.shape[-1] != 3):
        raise RuntimeError(f"grid_sample: grid must be (N, D_out, H_out, W_out, 3) (an (x, y, z) point per output "
                         f"voxel), got shape {shape_text(grid.shape)}")
    if grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sample: grid has batch {grid.shape[0]} but input has {input.shape[0]}; "
                           "give one grid per image")
    if input.dtype.kind != "f":
        raise NotImplementedError(f"grid_sample: input must be floating point, got {input.dtype}; convert it with "
                                  ".float()")
    if grid.dtype != input.dtype:
        raise RuntimeError(f"grid_sample: input and grid must share one floating dtype, got {input.dtype} and "
                           f"{grid.dtype}; convert with .to(input.dtype)")
    if 0 in input.shape[2:]:
        raise RuntimeError(f"grid_sample: input has an empty spatial dim (shape {shape_text(input.shape)})")


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """``input`` (N, C, H, W) read at the points of ``grid`` (N, H_out, W_out, 2): out (N, C, H_out, W_out).

    ``grid[n, i, j] = (x, y)`` in normalised coordinates (see the module docstring for the
    unnormalising formulas, the padding modes and the bilinear / bicubic weights). A volume
    (N, C, D, H, W) is read at the points ``(x, y, z)`` of a grid (N, D_out, H_out, W_out, 3).
    """
    input, grid = as_tensor(input), as_tensor(grid)
    _check(input, grid, mode, padding_mode)
    _warn_default(align_corners)
    aligned = bool(align_corners)
    batch, channels, *sizes = input.shape
    sizes = tuple(sizes)
    flat = input.reshape(batch, channels, math.prod(sizes))
    # the coordinates in the input's dim order ((y, x) or (z, y, x)); the grid lists them last dim first
    points = [_unnormalise(grid[..., len(sizes) - 1 - axis], size, aligned) for axis, size in enumerate(sizes)]
    if mode == "bicubic":
        (y, x), (height, width) = points, sizes
        x0, y0 = recorded_call(np.floor, x.array), recorded_call(np.floor, y.array)  # kernels of a compiled step
        weights_x, weights_y = _cubic_weights(x - x0), _cubic_weights(y - y0)
        out = None
        for j, weight_y in enumerate(weights_y):
            ys = _padded_index(recorded_call(_shifted, y0, j - 1), height, padding_mode, aligned)
            for i, weight_x in enumerate(weights_x):
                xs = _padded_index(recorded_call(_shifted, x0, i - 1), width, padding_mode, aligned)
                values, _ = _read(flat, [ys, xs], sizes)
                term = values * (weight_x * weight_y).unsqueeze(1)
                out = term if out is None else out + term
        return out
    points = [_padded(point, size, padding_mode, aligned) for point, size in zip(points, sizes)]
    if mode == "nearest":
        points = [point.round() for point in points]  # half to even, as PyTorch's nearbyint; round's gradient is 0
        values, inside = _read(flat, [point.array for point in points], sizes)
        # weight 1 where the point is inside, made from the rounded coordinates so that the grid
        # gets round's zero gradient (as in PyTorch) instead of none
        return values * where(inside, sum(points).unsqueeze(1) * 0 + 1, 0.0)
    lows = [recorded_call(np.floor, point.array) for point in points]  # kernels of a compiled step
    fractions = [(point - low).unsqueeze(1) for point, low in zip(points, lows)]
    out = None
    for corner in itertools.product((0, 1), repeat=len(sizes)):  # (0, 0[, 0]) … (1, 1[, 1]), the last dim fastest
        weights = [fraction if step else 1 - fraction for fraction, step in zip(fractions, corner)]
        weight = weights[-1]
        for other in weights[-2::-1]:  # x · y (· z), in PyTorch's order
            weight = weight * other
        values, _ = _read(flat, [recorded_call(_shifted, low, step) for low, step in zip(lows, corner)], sizes)
        term = values * weight
        out = term if out is None else out + term
    return out
