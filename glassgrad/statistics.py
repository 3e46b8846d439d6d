"""PyTorch's covariance, correlation and histograms: ``cov``, ``corrcoef``, ``histc``, ``histogram``, ``histogramdd``.

Rows of ``input`` are variables, columns observations. With weights ``wⱼ = fⱼ·aⱼ`` (frequency and
importance weights, 1 when not given) and ``c`` the ``correction`` (1: Bessel's):

* ``cov``: ``x̄ᵢ = Σⱼ wⱼ·xᵢⱼ / Σw``, ``Cᵢₖ = Σⱼ wⱼ·(xᵢⱼ − x̄ᵢ)·(xₖⱼ − x̄ₖ) / N`` with ``N = Σw − c`` (``Σw −
  c·Σ(w·a)/Σw`` when ``aweights`` are given), made of ``sum``, ``mul`` and ``matmul``, so ``input`` and
  ``aweights`` get their gradients from those rows;
* ``corrcoef``: ``Rᵢₖ = Cᵢₖ / √(Cᵢᵢ·Cₖₖ)``, clipped to [−1, 1] against rounding;
* ``histc`` / ``histogram``: counts (or summed weights) of the entries in equal bins between ``min`` and
  ``max`` (the last bin holds its right edge; entries outside are left out); ``histogramdd`` counts points in
  the boxes of a grid, one such set of bins per dim. Counts have no gradient.

>>> import glassgrad as gg
>>> gg.cov(gg.tensor([[0.0, 1.0, 2.0], [0.0, 2.0, 4.0]])).tolist()
[[1.0, 2.0], [2.0, 4.0]]
>>> gg.histc(gg.tensor([1.0, 2.0, 1.0, 4.0]), bins=4, min=0, max=4).tolist()
[0.0, 2.0, 1.0, 1.0]
"""

from __future__ import annotations

import builtins
import functools
import math
from collections import namedtuple
from typing import Any

import numpy as np

from .arguments import is_floating, shape_text
from .autograd import recorded_call
from .creation import as_tensor
from .dtypes import get_default_dtype
from .tensor import Tensor
from .tensor_methods import _plain, add

HistogramResult = namedtuple("HistogramResult", ["hist", "bin_edges"])
"""What ``histogram`` returns, as in PyTorch."""
HistogramddResult = namedtuple("HistogramddResult", ["hist", "bin_edges"])
"""What ``histogramdd`` returns, as in PyTorch: the counts and a tuple of each dim's edges."""


def _method(function: Any) -> Any:
    """Make ``function`` a Tensor method too (``x.cov()`` as ``gg.cov(x)``)."""
    add(function.__name__, function)
    return function


def _weights(values: Any, name: str, count: int, integers: bool) -> np.ndarray | Tensor:
    kind = "integers" if integers else "floating numbers"
    weights = np.asarray(_plain(values)) if integers else as_tensor(values)
    array = weights if integers else weights.array
    if array.ndim != 1 or array.shape[0] != count:
        raise RuntimeError(f"cov: {name} must be a 1-D tensor of {count} {kind} (one per observation), got shape "
                           f"{shape_text(array.shape)}")
    if (array.dtype.kind not in "iu") if integers else not is_floating(array.dtype):
        raise RuntimeError(f"cov: {name} must hold {kind}, got {array.dtype}; "
                           f"{'use .long()' if integers else 'use .double() or .float()'}")
    recorded_call(_refuse_negative, array, name)  # a kernel of a compiled step: read at each call
    return weights


def _refuse_negative(array: np.ndarray, name: str) -> None:
    """Refuse a negative weight. Run through :func:`~glassgrad.autograd.recorded_call`: checked in Python before
    the op, a compiled step checked only its captures' weights."""
    if np.any(array < 0):
        raise RuntimeError(f"cov: {name} must be >= 0, got {array[array < 0][0]}; a weight counts or scales an "
                           "observation")


@_method
def cov(input: Tensor, *, correction: int = 1, fweights: Any = None, aweights: Any = None) -> Tensor:
    """The covariance matrix of the variables (rows) over the observations (columns); a 0-d tensor for one
    variable."""
    x = as_tensor(input)
    if x.ndim > 2:
        raise RuntimeError(f"cov: expected a 1-D (one variable) or 2-D (variables × observations) input, got shape "
                           f"{shape_text(x.shape)}")
    if not is_floating(x.array.dtype):
        x = x.to(get_default_dtype())
    observations = x.reshape(1, -1) if x.ndim < 2 else x
    count = observations.shape[1]
    frequencies = None if fweights is None else _weights(fweights, "fweights", count, True)
    importances = None if aweights is None else _weights(aweights, "aweights", count, False)
    if frequencies is None and importances is None:
        mean = observations.mean(1, keepdim=True)
        centered = observations - mean
        return (centered @ centered.mT / max(count - correction, 0)).squeeze()
    # the counts as floats: a kernel of a compiled step (a copy made in Python was the captures' counts ever after)
    weights = importances if frequencies is None else Tensor._wrap(
        recorded_call(np.ndarray.astype, frequencies, x.array.dtype))
    if frequencies is not None and importances is not None:
        weights = weights * importances
    total = weights.sum()
    mean = (observations * weights).sum(1, keepdim=True) / total
    centered = observations - mean
    factor = total - correction if importances is None else total - correction * (weights * importances).sum() / total
    return ((centered * weights) @ centered.mT / factor.clamp(min=0)).squeeze()


@_method
def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients ``Cᵢₖ / √(Cᵢᵢ·Cₖₖ)`` of the variables (rows)."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    deviations = c.diagonal().sqrt()
    return (c / deviations.unsqueeze(1) / deviations.unsqueeze(0)).clip(-1, 1)


def _bins(input: Tensor, name: str) -> np.ndarray:
    x = as_tensor(input).array
    if not is_floating(x.dtype):  # NotImplementedError, as PyTorch's (it has no kernel for integers)
        raise NotImplementedError(f"{name}: needs a floating tensor, got {x.dtype}; use x.float() first")
    return x.reshape(-1)


def _even_edges(low: float, high: float, bins: int, dtype: np.dtype, name: str) -> np.ndarray:
    """``bins + 1`` evenly spaced edges, each from the nearer end (``low + i·step`` in the first half,
    ``high − (bins − i)·step`` in the second) and rounded once, as PyTorch's ``linspace`` computes them (with a
    fused multiply-add), so that an entry on an edge falls in the same bin. A range with a nan or an infinite end
    (given, or taken from data holding nan or inf) is refused with PyTorch's RuntimeError."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"{name}: range of [{low}, {high}] is not finite (the data's nan or inf, when no range is "
                           "given); pass a finite range, or drop the nan and inf entries first")
    from fractions import Fraction  # exact sums; imported here, as it adds 3 ms to `import glassgrad`
    start, end = (Fraction(float(dtype.type(v))) for v in (low, high))
    step = Fraction(float((dtype.type(high) - dtype.type(low)) / dtype.type(bins)))
    halfway = (bins + 1) // 2
    exact = [start + step * i if i < halfway else end - step * (bins - i) for i in range(bins + 1)]
    return np.array([float(v) for v in exact]).astype(dtype)


def _places(values: np.ndarray, edges: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which entries lie between the outer edges, and the bin of each entry (the last bin keeps its right edge)."""
    inside = (values >= edges[0]) & (values <= edges[-1])
    return inside, np.minimum(positions, len(edges) - 2)


def _counted(values: np.ndarray, edges: np.ndarray, positions: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """The summed weights (or counts) per bin of the entries between the outer edges."""
    inside, places = _places(values, edges, positions)
    counts = np.bincount(places[inside], None if weights is None else weights[inside], len(edges) - 1)
    return counts.astype(values.dtype)


@_method
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002 (PyTorch's names)
    """The counts in ``bins`` equal bins from ``min`` to ``max`` (both 0: the data's smallest and largest)."""
    values = _bins(input, "histc")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins <= 0:
        raise RuntimeError(f"histc: bins must be a whole number > 0, got {bins!r}")
    if min > max:
        raise RuntimeError(f"histc: min must not exceed max, got min={min} and max={max}; swap them")
    low, high = float(min), float(max)
    if low == high and values.size:
        low, high = float(values.min()), float(values.max())
    if low == high:
        low, high = low - 1, high + 1
    edges = _even_edges(low, high, bins, values.dtype, "histc")
    with np.errstate(invalid="ignore"):
        positions = ((values - edges[0]) * bins / (edges[-1] - edges[0]))
    return Tensor._wrap(_counted(values, edges, np.nan_to_num(positions, posinf=0, neginf=0).astype(np.int64), None))


def _edges(values: np.ndarray, bins: Any, range: Any, name: str) -> np.ndarray:  # noqa: A002 (PyTorch's name)
    """The bins' edges: ``bins`` equal bins over ``range`` (default: the entries' smallest to largest; one value
    v: v ± 0.5; none: 0 to 1), or the increasing edges ``bins`` lists."""
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        if bins <= 0:
            raise RuntimeError(f"{name}: bins must be > 0, got {bins}")
        if range is not None:
            low, high = (float(end) for end in range)
            if low > high:
                raise RuntimeError(f"{name}: range must be (min, max) with min <= max, got {tuple(range)}; swap them")
        else:
            low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        if low == high:
            low, high = low - 0.5, high + 0.5
        return _even_edges(low, high, bins, values.dtype, name)
    edges = np.asarray(_plain(bins)).astype(values.dtype)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) < 0):
        raise RuntimeError(f"{name}: bins must be a count > 0 or a 1-D tensor of at least 2 increasing edges, got "
                           f"{bins!r}")
    return edges


def _weights_of(weight: Any, shape: tuple[int, ...], name: str) -> np.ndarray | None:
    """The weights as one flat array, after checking they have ``shape`` (one per point: the input's shape, less
    the last dim for ``histogramdd``)."""
    if weight is None:
        return None
    weights = as_tensor(weight).array
    if weights.shape != shape:
        whose = "the input's shape" if name == "histogram" else "the input's shape without its last dim"
        raise RuntimeError(f"{name}: weight must have {whose} {shape_text(shape)} (one per point), got "
                           f"{shape_text(weights.shape)}")
    return weights.reshape(-1)


@_method
def histogram(input: Tensor, bins: Any = 100, *, range: Any = None, weight: Any = None,  # noqa: A002
              density: bool = False) -> HistogramResult:
    """The counts (or summed ``weight``) per bin and the bins' edges: ``bins`` equal bins over ``range``
    (default: the data's smallest to largest), or the increasing edges given as a tensor; ``density=True``
    divides by ``Σ counts · bin width`` so that the bars have area 1."""
    values = _bins(input, "histogram")
    edges = _edges(values, bins, range, "histogram")
    weights = _weights_of(weight, as_tensor(input).shape, "histogram")
    positions = np.searchsorted(edges, values, side="right") - 1
    hist = _counted(values, edges, positions, weights)
    if density:
        with np.errstate(invalid="ignore", divide="ignore"):  # no entries: NaN, as in PyTorch
            hist = hist / (hist.sum() * np.diff(edges))
    return HistogramResult(Tensor._wrap(hist.astype(values.dtype)), Tensor._wrap(edges))


def histogramdd(input: Tensor, bins: Any, *, range: Any = None, weight: Any = None,  # noqa: A002
                density: bool = False) -> HistogramddResult:
    """The counts (or summed ``weight``) of points in the boxes of a D-dimensional grid, and each dim's edges.

    ``input`` (…, D) holds points, one per row of its last dim. ``bins``: one count for every dim, a count per
    dim, or a 1-D tensor of edges per dim; ``range``: ``[min₀, max₀, min₁, max₁, …]`` (default: the points'
    smallest to largest along each dim). A box holds the points with ``edgeₖ ≤ x < edgeₖ₊₁`` in every dim (the
    last bin of each dim keeps its right edge). ``density=True`` divides by ``Σ counts · box volume``."""
    x = as_tensor(input)
    if x.ndim < 2 or x.shape[-1] == 0:
        raise RuntimeError(f"histogramdd: input must have at least 2 dims (…, D) with D >= 1: points along the last, "
                           f"got shape {shape_text(x.shape)}")
    points = _bins(x, "histogramdd").reshape(-1, x.shape[-1])
    count = points.shape[1]
    per_dim = list(bins) if isinstance(bins, (list, tuple)) else [bins] * count
    if len(per_dim) != count:
        raise RuntimeError(f"histogramdd: bins must give one count or edges per dim of the points ({count}), got "
                           f"{len(per_dim)}")
    if range is not None and len(range) != 2 * count:
        raise RuntimeError(f"histogramdd: for a {count}-dimensional histogram range needs {2 * count} numbers "
                           f"[min₀, max₀, …], got {len(range)}")
    edges = [_edges(points[:, d], per_dim[d], None if range is None else range[2 * d:2 * d + 2], "histogramdd")
             for d in builtins.range(count)]
    weights = _weights_of(weight, x.shape[:-1], "histogramdd")
    inside = np.ones(points.shape[0], dtype=bool)
    places = []
    for d, dim_edges in enumerate(edges):
        inside_dim, place = _places(points[:, d], dim_edges, np.searchsorted(dim_edges, points[:, d], "right") - 1)
        inside &= inside_dim
        places.append(place)
    sizes = tuple(len(e) - 1 for e in edges)
    boxes = np.ravel_multi_index([place[inside] for place in places], sizes)
    hist = np.bincount(boxes, None if weights is None else weights[inside], math.prod(sizes)).astype(points.dtype)
    hist = hist.reshape(sizes)
    if density:
        volumes = functools.reduce(np.multiply.outer, [np.diff(e) for e in edges])
        with np.errstate(invalid="ignore", divide="ignore"):  # no points: NaN, as in PyTorch
            hist = hist / (hist.sum() * volumes)
    return HistogramddResult(Tensor._wrap(hist.astype(points.dtype)), tuple(Tensor._wrap(e) for e in edges))
