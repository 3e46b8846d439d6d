"""Resizing: ``F.interpolate`` and ``Upsample`` (modes ``nearest``, ``nearest-exact``, ``linear``, ``bilinear``,
``bicubic``, ``trilinear``, ``area``).

Each spatial dim is resized on its own by a fixed matrix ``M`` (output positions × input
positions), applied with ``matmul``: ``out = M·x`` along that dim; ``nearest`` picks one entry per output
position instead (``index_select``), so a NaN or ∞ reaches only the outputs that read it, as in PyTorch. For
output position ``o`` of a dim resized from ``n`` to ``m`` entries (``scale = n/m``, or ``1/scale_factor`` when
one is given):

* ``nearest``: entry ``⌊o·scale⌋`` (``nearest-exact``: ``⌊(o + ½)·scale⌋``), rounded as PyTorch rounds it
  (:func:`_nearest_sources`);
* ``linear``: ``x = (o + ½)·scale − ½`` (with ``align_corners=True``: ``x = o·(n − 1)/(m − 1)``), clamped at 0,
  and ``M[o, ⌊x⌋] = 1 − f``, ``M[o, ⌊x⌋ + 1] = f`` with ``f = x − ⌊x⌋``.
* ``bicubic``: the same ``x``, not clamped, spread over the four entries ``⌊x⌋ − 1 … ⌊x⌋ + 2`` (those past an
  edge counted as the edge entry) with Keys' cubic convolution weights ``k(f + 1), k(f), k(1 − f), k(2 − f)``:
  ``k(d) = (a + 2)·d³ − (a + 3)·d² + 1`` for ``d ≤ 1``, ``a·d³ − 5a·d² + 8a·d − 4a`` for ``1 < d < 2``, ``a = −0.75``.
* ``antialias=True`` (``bilinear``, ``bicubic``): a shrinking dim (``scale > 1``) first widens the kernel by
  ``scale``, so each output averages every input it covers, as an image library does: ``M[o, j] ∝ k((j + ½ −
  c)/max(scale, 1))`` for the entries ``j`` within the kernel's reach of the centre ``c = (o + ½)·scale``,
  normalised to sum 1, with ``k`` the triangle ``1 − |d|`` (bilinear) or the cubic above with ``a = −0.5``;
  with ``align_corners=True``, ``scale = (n − 1)/(m − 1)`` (0 for one output).
* ``area``: the mean of entries ``⌊o·n/m⌋`` up to ``⌈(o + 1)·n/m⌉`` (adaptive average pooling; the output size
  alone decides, as in PyTorch).

So the gradient of every input entry is the sum of the weights it was given (``Mᵀ·∂L/∂out``).

>>> import glassgrad as gg
>>> gg.nn.functional.interpolate(gg.tensor([[[1.0, 3.0]]]), scale_factor=2, mode="linear").tolist()
[[[1.0, 1.5, 2.5, 3.0]]]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..arguments import shape_text
from ..creation import as_tensor
from ..tensor import Tensor
from .module import Module

MODES = {"nearest": 0, "nearest-exact": 0, "linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3, "area": 0}
"""Each mode and the number of spatial dims it is for (0: any)."""


def _check_dtype(dtype: np.dtype, mode: str, antialias: bool) -> None:
    """Refuse the dtypes PyTorch has no resizing kernel for (integers and bools, but uint8 in the nearest, bilinear
    and bicubic modes; float16 with antialias), NotImplementedError as there; and uint8 in the bilinear and bicubic
    modes, whose fixed-point rounding glassgrad does not copy. (The weights, cast to an integer dtype, were cut to
    whole numbers: a wrong image without a word.)"""
    if dtype.kind == "f" and not (antialias and dtype == np.float16):
        return
    if dtype == np.uint8 and mode.startswith("nearest"):
        return
    where = ("glassgrad does not copy PyTorch's fixed-point rounding of uint8 images"
             if dtype == np.uint8 and mode in ("bilinear", "bicubic") else "PyTorch has no kernel for it")
    raise NotImplementedError(f"interpolate: mode {mode!r}{' with antialias' if antialias else ''} of a {dtype} "
                              f"tensor: {where}; convert it first (x.float()) and back after")


def _matrix(size: int, out: int, mode: str, align_corners: bool, scale: float) -> np.ndarray:
    """The (out, size) resizing matrix of one dim (see the module docstring)."""
    positions = np.arange(out, dtype=np.float64)
    matrix = np.zeros((out, size))
    if mode == "area":
        for row, (start, end) in enumerate(zip(np.arange(out) * size // out, -(-(np.arange(out) + 1) * size // out))):
            matrix[row, start:end] = 1.0 / (end - start)
        return matrix
    if align_corners:
        x = positions * ((size - 1) / (out - 1)) if out > 1 else np.zeros(out)
    else:
        x = (positions + 0.5) * scale - 0.5
    if mode == "bicubic":
        return _cubic_matrix(matrix, x)
    x = np.maximum(x, 0.0)
    low = np.minimum(np.floor(x).astype(int), size - 1)
    high = np.minimum(low + 1, size - 1)
    weight = x - low
    np.add.at(matrix, (np.arange(out), low), 1 - weight)
    np.add.at(matrix, (np.arange(out), high), weight)
    return matrix


def _nearest_sources(size: int, out: int, exact: bool, factor: float | None, planar: bool) -> np.ndarray:
    """The entry each of ``out`` positions reads in ``nearest`` (``exact``: ``nearest-exact``), rounded as
    PyTorch's CPU kernels round them, so that the same entries are picked: the position is taken to float32
    before the floor (``o·scale`` a hair under an integer in float64 may reach it), and for 4-D input (``planar``)
    the scale itself is float32 and ``nearest`` copies (``out = size``) or halves (``out = 2·size``) the output
    index exactly. ``factor`` is the scale factor the scale comes from (``None``: from the sizes)."""
    positions = np.arange(out)
    if planar:
        scale = np.float32(1.0 / factor) if factor else np.float32(size) / np.float32(out)
        if not exact and out in (size, 2 * size):
            sources = positions * size // out
        elif exact:
            sources = np.floor(np.float32((positions + 0.5) * np.float64(scale)))
        else:
            sources = np.floor(positions.astype(np.float32) * scale)
    else:
        scale = 1.0 / factor if factor else size / out
        shifted = np.maximum((positions + 0.5) * scale - 0.5, 0.0) + 0.5 if exact else positions * scale
        sources = np.floor(np.float32(shifted))
    return np.minimum(sources.astype(np.int64), size - 1)


CUBIC_A = -0.75
"""The free coefficient ``a`` of Keys' cubic convolution kernel, PyTorch's (and OpenCV's) choice."""


def _cubic_weight(d: np.ndarray, a: float = CUBIC_A) -> np.ndarray:
    """Keys' cubic convolution kernel ``k(d)`` at distances ``0 ≤ d ≤ 2`` (see the module docstring)."""
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.where(d <= 1, near, far)


def _cubic_matrix(matrix: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Fill the (out, size) ``matrix`` with each output's four bicubic taps around source position ``x``."""
    low = np.floor(x).astype(int)
    fraction = x - low
    rows = np.arange(len(x))
    for offset in (-1, 0, 1, 2):
        column = np.clip(low + offset, 0, matrix.shape[1] - 1)
        np.add.at(matrix, (rows, column), _cubic_weight(np.abs(fraction - offset)))
    return matrix


def _antialiased_matrix(size: int, out: int, mode: str, scale: float) -> np.ndarray:
    """The (out, size) matrix of ``antialias=True`` (see the module docstring)."""
    reach = (1.0 if mode == "bilinear" else 2.0) * max(scale, 1.0)
    matrix = np.zeros((out, size))
    for row in range(out):
        centre = scale * (row + 0.5)
        start, end = max(int(centre - reach + 0.5), 0), min(int(centre + reach + 0.5), size)
        distance = np.abs(np.arange(start, end) + 0.5 - centre) / max(scale, 1.0)
        if mode == "bilinear":
            weight = np.maximum(1.0 - distance, 0.0)
        else:
            weight = np.where(distance < 2, _cubic_weight(distance, -0.5), 0.0)
        matrix[row, start:end] = weight / weight.sum()
    return matrix


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """``input`` (N, C, *spatial) resized to ``size`` or by ``scale_factor`` (one per spatial dim, or one for all)."""
    x = as_tensor(input)
    dims = x.ndim - 2
    if mode not in MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not available; use one of {', '.join(MODES)}")
    if dims < 1 or (MODES[mode] and MODES[mode] != dims):
        raise NotImplementedError(f"interpolate: mode {mode!r} needs a "
                                  f"{MODES[mode] + 2 if MODES[mode] else '3-D or larger'}-D input (N, C, …), "
                                  f"got shape {shape_text(x.shape)}")
    if align_corners is not None and (mode.startswith("nearest") or mode == "area"):
        raise ValueError(f"interpolate: align_corners only applies to the linear and cubic modes; leave it out for "
                         f"{mode!r}")
    if antialias and mode not in ("bilinear", "bicubic"):
        raise NotImplementedError(f"interpolate: antialias=True is available for mode 'bilinear' or 'bicubic', "
                                  f"got mode={mode!r}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give either size or scale_factor (exactly one)")
    _check_dtype(x.dtype, mode, antialias)
    spatial = tuple(x.shape[2:])
    if size is not None:
        outs = tuple(int(s) for s in np.broadcast_to(np.asarray(size), (dims,)))
        factors: list[float | None] = [None] * dims
    else:
        factors = [float(f) for f in np.broadcast_to(np.asarray(scale_factor, dtype=float), (dims,))]
        outs = tuple(int(math.floor(n * f)) for n, f in zip(spatial, factors))
        if recompute_scale_factor:
            factors = [None] * dims
    if min(outs) < (0 if mode == "area" else 1):
        raise RuntimeError(f"interpolate: the output size {outs} of input size {spatial} must be at least 1 in every "
                           "dim; give a larger size or scale_factor")
    for dim, (n, o, factor) in enumerate(zip(spatial, outs, factors)):
        if o == n and ((mode.endswith("linear") and not align_corners) or antialias):
            continue  # a size the factor keeps is left as it is, as PyTorch's (linear modes and antialias skip it)
        scale = 1 / factor if factor else n / max(o, 1)
        if mode.startswith("nearest"):  # one entry each: picked, so a NaN elsewhere is not multiplied in
            x = x.index_select(dim + 2, Tensor._wrap(_nearest_sources(n, o, mode == "nearest-exact", factor,
                                                                      dims == 2)))
            continue
        if antialias:
            aligned = (n - 1) / (o - 1) if o > 1 else 0.0
            matrix = x.new_tensor(_antialiased_matrix(n, o, mode, aligned if align_corners else scale))
        else:
            matrix = x.new_tensor(_matrix(n, o, mode, bool(align_corners), scale))
        x = (matrix @ x.transpose(dim + 2, -1).unsqueeze(-1)).squeeze(-1).transpose(dim + 2, -1)
    return x


def _listed(value: Any) -> Any:
    """A size or factor as JSON keeps it: a tuple becomes a list."""
    return list(value) if isinstance(value, tuple) else value


class Upsample(Module):
    """``F.interpolate`` as a layer: resize to ``size`` or by ``scale_factor`` with ``mode``."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.size, self.scale_factor, self.mode = _listed(size), _listed(scale_factor), mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def config(self) -> dict[str, Any]:
        return {"size": self.size, "scale_factor": self.scale_factor, "mode": self.mode,
                "align_corners": self.align_corners, "recompute_scale_factor": self.recompute_scale_factor}


class UpsamplingNearest2d(Upsample):
    """``Upsample(mode='nearest')`` for images."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, "nearest")

    def config(self) -> dict[str, Any]:
        return {"size": self.size, "scale_factor": self.scale_factor}


class UpsamplingBilinear2d(Upsample):
    """``Upsample(mode='bilinear', align_corners=True)`` for images."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, "bilinear", True)

    def config(self) -> dict[str, Any]:
        return {"size": self.size, "scale_factor": self.scale_factor}
