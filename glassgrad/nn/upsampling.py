"""Resizing: ``F.interpolate`` and ``Upsample`` (modes ``nearest``, ``nearest-exact``, ``linear``, ``bilinear``,
``bicubic``, ``trilinear``, ``area``).

Each spatial dim is resized on its own: output position ``o`` reads a few input entries (its taps) and adds them
with weights, ``out[o] = Σ_k w[o, k]·x[j(o, k)]`` (``index_select`` and a product per tap; past
:data:`MANY_TAPS` taps and with every entry finite, one product with the resizing matrix, the same sums);
``nearest`` reads one entry, ``area`` is adaptive average pooling. So a NaN or ∞ reaches only the outputs that
read it, as in PyTorch.
For output position ``o`` of a dim resized from ``n`` to ``m`` entries (``scale = n/m``, or ``1/scale_factor``
when one is given):

* ``nearest``: entry ``⌊o·scale⌋`` (``nearest-exact``: ``⌊(o + ½)·scale⌋``), rounded as PyTorch rounds it
  (:func:`_nearest_sources`);
* ``linear``: ``x = (o + ½)·scale − ½`` (with ``align_corners=True``: ``x = o·(n − 1)/(m − 1)``), clamped at 0,
  and the taps ``⌊x⌋`` with weight ``1 − f`` and ``⌊x⌋ + 1`` (the last entry at the edge) with ``f = x − ⌊x⌋``.
* ``bicubic``: the same ``x``, not clamped, four taps ``⌊x⌋ − 1 … ⌊x⌋ + 2`` (those past an edge read the edge
  entry) with Keys' cubic convolution weights ``k(f + 1), k(f), k(1 − f), k(2 − f)``:
  ``k(d) = (a + 2)·d³ − (a + 3)·d² + 1`` for ``d ≤ 1``, ``a·d³ − 5a·d² + 8a·d − 4a`` for ``1 < d < 2``, ``a = −0.75``.
* ``antialias=True`` (``bilinear``, ``bicubic``): a shrinking dim (``scale > 1``) first widens the kernel by
  ``scale``, so each output averages every input it covers, as an image library does: tap ``j`` weighs ``∝ k((j + ½ −
  c)/max(scale, 1))`` for the entries ``j`` within the kernel's reach of the centre ``c = (o + ½)·scale``,
  normalised to sum 1, with ``k`` the triangle ``1 − |d|`` (bilinear) or the cubic above with ``a = −0.5``;
  with ``align_corners=True``, ``scale = (n − 1)/(m − 1)`` (0 for one output).
* ``area``: the mean of entries ``⌊o·n/m⌋`` up to ``⌈(o + 1)·n/m⌉`` (adaptive average pooling; the output size
  alone decides, as in PyTorch).

So the gradient of every input entry is the sum of the weights it was given, times the upstream gradient of the
output that gave it.

>>> import glassgrad as gg
>>> gg.nn.functional.interpolate(gg.tensor([[[1.0, 3.0]]]), scale_factor=2, mode="linear").tolist()
[[[1.0, 1.5, 2.5, 3.0]]]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..arguments import shape_text
from ..autograd import note_unreplayable
from ..creation import as_tensor
from ..memory_formats import kept_channels_last
from ..tensor import Tensor
from .module import Module
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, check_planes

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


Taps = tuple[np.ndarray, np.ndarray, np.ndarray]
"""The entries each output reads along one dim, (out, K) each: their positions, weights and whether the tap is one
(an output with fewer taps than ``K`` leaves the rest out)."""


def _taps(size: int, out: int, mode: str, align_corners: bool, scale: float) -> Taps:
    """The taps of one dim resized from ``size`` to ``out`` entries in the linear or cubic modes (see the module
    docstring): two (linear) or four (bicubic) per output, every one read, as PyTorch's kernels read them."""
    positions = np.arange(out, dtype=np.float64)
    if align_corners:
        x = positions * ((size - 1) / (out - 1)) if out > 1 else np.zeros(out)
    else:
        x = (positions + 0.5) * scale - 0.5
    if mode == "bicubic":
        low = np.floor(x).astype(np.int64)
        fraction = (x - low)[:, None]
        offsets = np.arange(-1, 3)
        index = np.clip(low[:, None] + offsets, 0, size - 1)
        weight = _cubic_weight(np.abs(fraction - offsets))
    else:
        x = np.maximum(x, 0.0)
        low = np.minimum(np.floor(x).astype(np.int64), size - 1)
        fraction = x - low
        index = np.stack([low, np.minimum(low + 1, size - 1)], axis=1)
        weight = np.stack([1 - fraction, fraction], axis=1)
    return index, weight, np.ones(index.shape, dtype=bool)


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


def _antialiased_taps(size: int, out: int, mode: str, scale: float) -> Taps:
    """The taps of ``antialias=True`` (see the module docstring): every entry within the kernel's reach."""
    reach = (1.0 if mode == "bilinear" else 2.0) * max(scale, 1.0)
    windows = []
    for row in range(out):
        centre = scale * (row + 0.5)
        start, end = max(int(centre - reach + 0.5), 0), min(int(centre + reach + 0.5), size)
        distance = np.abs(np.arange(start, end) + 0.5 - centre) / max(scale, 1.0)
        if mode == "bilinear":
            weight = np.maximum(1.0 - distance, 0.0)
        else:
            weight = np.where(distance < 2, _cubic_weight(distance, -0.5), 0.0)
        windows.append((start, weight / weight.sum()))
    width = max(len(weight) for _, weight in windows)
    index, weights = np.zeros((out, width), dtype=np.int64), np.zeros((out, width))
    taken = np.arange(width) < np.array([len(weight) for _, weight in windows])[:, None]
    for row, (start, weight) in enumerate(windows):
        index[row, :len(weight)] = np.arange(start, start + len(weight))
        weights[row, :len(weight)] = weight
    return index, weights, taken


MANY_TAPS = 4
"""Past this many taps an output (antialiasing a large shrink: 64 taps from 256 to 16), a finite input is resized
by one product with the dim's resizing matrix (BLAS), 10–20 times faster than a read per tap."""


VALUE_DEPENDENT_RESIZE = ("an antialiased resize that shrinks by more than 4 input entries per output picks its way "
                          "by whether the input is finite (one product where it is), which a replay would not check "
                          "again: a NaN or ∞ in a later call would reach every output, where eager keeps it to those "
                          "that read it")
"""Why a compiled step that resizes so runs eagerly (:func:`_resampled`)."""


def _resampled(x: Tensor, dim: int, taps: Taps) -> Tensor:
    """``x`` resized along ``dim``: each output the sum of its taps, weight times the entry read (``index_select``),
    so a NaN or ∞ reaches only the outputs that read it, as in PyTorch. With many taps and every entry finite, one
    product with the resizing matrix ``M[o, j]`` (each tap's weight at its entry) gives the same sums at once."""
    index, weight, taken = taps
    if index.shape[1] > MANY_TAPS:  # the way depends on the values: a compiled step runs eagerly (a replay kept the
        note_unreplayable(VALUE_DEPENDENT_RESIZE)  # captures' way, and a NaN after them reached every output)
    if index.shape[1] > MANY_TAPS and np.isfinite(x.array).all():
        matrix = np.zeros((len(index), x.shape[dim]))
        np.add.at(matrix, (np.arange(len(index))[:, None], index), np.where(taken, weight, 0.0))
        return (x.new_tensor(matrix) @ x.transpose(dim, -1).unsqueeze(-1)).squeeze(-1).transpose(dim, -1)
    along = (-1,) + (1,) * (x.ndim - dim - 1)  # a column broadcast along dim
    total = None
    for k in range(index.shape[1]):
        term = x.index_select(dim, index[:, k]) * x.new_tensor(weight[:, k]).reshape(along)
        if not taken[:, k].all():  # left out, not multiplied by 0: a ∞ there stays out
            term = term.masked_fill(~taken[:, k].reshape(along), 0.0)
        total = term if total is None else total + term
    return total


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """``input`` (N, C, *spatial) resized to ``size`` or by ``scale_factor`` (one per spatial dim, or one for all)."""
    x = as_tensor(input)
    dims = x.ndim - 2
    if mode not in MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not available; use one of {', '.join(MODES)}")
    if antialias and (mode not in ("bilinear", "bicubic") or dims != 2):
        raise ValueError(f"interpolate: antialias=True is available for mode 'bilinear' or 'bicubic' of a 4-D input "
                         f"(N, C, H, W), got mode={mode!r} and shape {shape_text(x.shape)}")
    if not 1 <= dims <= 3 or (MODES[mode] and MODES[mode] != dims):
        raise NotImplementedError(f"interpolate: mode {mode!r} needs a "
                                  f"{MODES[mode] + 2 if MODES[mode] else '3-D, 4-D or 5'}-D input (N, C, …), "
                                  f"got shape {shape_text(x.shape)}")
    if align_corners is not None and (mode.startswith("nearest") or mode == "area"):
        raise ValueError(f"interpolate: align_corners only applies to the linear and cubic modes; leave it out for "
                         f"{mode!r}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give either size or scale_factor (exactly one)")
    if recompute_scale_factor and size is not None:
        raise ValueError("interpolate: recompute_scale_factor=True only applies to a scale_factor; leave it out "
                         "with an explicit size")
    _check_dtype(x.dtype, mode, antialias)
    spatial = tuple(x.shape[2:])
    if size is not None:
        if np.asarray(size).dtype.kind not in "iu":  # int(3.5) would give 3
            raise TypeError(f"interpolate: size must be whole numbers (an int, or one per spatial dim), as PyTorch "
                            f"wants, got {size!r}; round it first, or give scale_factor")
        outs = tuple(int(s) for s in np.broadcast_to(np.asarray(size), (dims,)))
        factors: list[float | None] = [None] * dims
    else:
        factors = [float(f) for f in np.broadcast_to(np.asarray(scale_factor, dtype=float), (dims,))]
        if not all(map(math.isfinite, factors)):
            raise RuntimeError(f"interpolate: scale_factor must be finite, got {scale_factor!r}: the output would "
                               "have no size")
        outs = tuple(int(math.floor(n * f)) for n, f in zip(spatial, factors))
        if recompute_scale_factor:
            factors = [None] * dims
    if min(outs) < (0 if mode == "area" else 1):
        raise RuntimeError(f"interpolate: the output size {outs} of input size {spatial} must be at least 1 in every "
                           "dim; give a larger size or scale_factor")
    if mode != "area":
        check_planes("interpolate", x.shape)
    if mode == "area":  # an empty channel dim: as the adaptive pool of that many dims answers it
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[dims - 1](x, outs)
    for dim, (n, o, factor) in enumerate(zip(spatial, outs, factors)):
        if o == n and (mode.endswith("linear") or antialias):
            continue  # a kept size is left as it is: PyTorch's linear modes and antialias read each entry alone there
            # (an ∞ stays ∞, where PyTorch's kernel gives NaN: it adds the entry times 0)
        scale = 1 / factor if factor else n / max(o, 1)
        if mode.startswith("nearest"):  # one entry each: picked, so a NaN elsewhere is not multiplied in
            x = x.index_select(dim + 2, Tensor._wrap(_nearest_sources(n, o, mode == "nearest-exact", factor,
                                                                      dims == 2)))
            continue
        if antialias:
            aligned = (n - 1) / (o - 1) if o > 1 else 0.0
            x = _resampled(x, dim + 2, _antialiased_taps(n, o, mode, aligned if align_corners else scale))
        else:
            x = _resampled(x, dim + 2, _taps(n, o, mode, bool(align_corners), scale))
    return kept_channels_last(x, input)  # PyTorch's kernels keep a channels-last input's layout


def _listed(value: Any) -> Any:
    """A size or factor as JSON keeps it: a tuple becomes a list."""
    return list(value) if isinstance(value, tuple) else value


class Upsample(Module):
    """``F.interpolate`` as a layer: resize to ``size`` or by ``scale_factor`` with ``mode``. As PyTorch, ``size``
    is kept as given and ``scale_factor`` as floats (``Upsample(scale_factor=2).scale_factor`` is 2.0, a tuple
    of them for a tuple)."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        if isinstance(scale_factor, tuple):
            scale_factor = tuple(float(factor) for factor in scale_factor)
        elif scale_factor:
            scale_factor = float(scale_factor)
        self.size, self.scale_factor, self.mode = size, scale_factor or None, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def config(self) -> dict[str, Any]:
        return {"size": _listed(self.size), "scale_factor": _listed(self.scale_factor), "mode": self.mode,
                "align_corners": self.align_corners, "recompute_scale_factor": self.recompute_scale_factor}


class UpsamplingNearest2d(Upsample):
    """``Upsample(mode='nearest')`` for images."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, "nearest")

    def config(self) -> dict[str, Any]:
        return {"size": _listed(self.size), "scale_factor": _listed(self.scale_factor)}


class UpsamplingBilinear2d(Upsample):
    """``Upsample(mode='bilinear', align_corners=True)`` for images."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, "bilinear", True)

    def config(self) -> dict[str, Any]:
        return {"size": _listed(self.size), "scale_factor": _listed(self.scale_factor)}
