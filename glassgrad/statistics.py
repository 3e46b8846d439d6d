"""PyTorch's covariance, correlation and histograms: ``cov``, ``corrcoef``, ``histc``, ``histogram``,
``histogramdd``.

Rows of ``input`` are variables, columns observations. With weights ``wⱼ = fⱼ·aⱼ`` (frequency and
importance weights, 1 when not given) and ``c`` the ``correction`` (1: Bessel's):

* ``cov``: ``x̄ᵢ = Σⱼ wⱼ·xᵢⱼ / Σw``, ``Cᵢₖ = Σⱼ wⱼ·(xᵢⱼ − x̄ᵢ)·(xₖⱼ − x̄ₖ) / N`` with ``N = Σw − c`` (``Σw −
  c·Σ(w·a)/Σw`` when ``aweights`` are given), made of ``sum``, ``mul`` and ``matmul``, so ``input`` and
  ``aweights`` get their gradients from those rows;
* ``corrcoef``: ``Rᵢₖ = Cᵢₖ / √(Cᵢᵢ·Cₖₖ)``, clipped to [−1, 1] against rounding;
* ``histc`` / ``histogram``: counts (or summed weights) of the entries in equal bins between ``min`` and
  ``max`` (the last bin holds its right edge; entries outside are left out); ``histogramdd`` counts points in a
  grid of such bins, one set of edges per coordinate. Counts have no gradient.

>>> import glassgrad as gg
>>> gg.cov(gg.tensor([[0.0, 1.0, 2.0], [0.0, 2.0, 4.0]])).tolist()
[[1.0, 2.0], [2.0, 4.0]]
>>> gg.histc(gg.tensor([1.0, 2.0, 1.0, 4.0]), bins=4, min=0, max=4).tolist()
[0.0, 2.0, 1.0, 1.0]
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from .arguments import is_floating, shape_text
from .creation import as_tensor
from .dtypes import get_default_dtype
from .tensor import Tensor
from .tensor_methods import _plain, add

HistogramResult = namedtuple("HistogramResult", ["hist", "bin_edges"])
"""What ``histogram`` returns, as in PyTorch."""


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
    if np.any(array < 0):
        raise RuntimeError(f"cov: {name} must be >= 0, got {array[array < 0][0]}; a weight counts or scales an "
                           "observation")
    return weights


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
    weights = importances if frequencies is None else Tensor._wrap(frequencies.astype(x.array.dtype))
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
    if not is_floating(x.dtype):
        raise RuntimeError(f"{name}: needs a floating tensor, got {x.dtype}; use x.float() first")
    return x.reshape(-1)


def _even_edges(low: float, high: float, bins: int, dtype: np.dtype) -> np.ndarray:
    """``bins + 1`` evenly spaced edges, each from the nearer end (``low + i·step`` in the first half,
    ``high − (bins − i)·step`` in the second) and rounded once, as PyTorch's ``linspace`` computes them (with a
    fused multiply-add), so that an entry on an edge falls in the same bin."""
    from fractions import Fraction  # exact sums; imported here, as it adds 3 ms to `import glassgrad`
    start, end = (Fraction(float(dtype.type(v))) for v in (low, high))
    step = Fraction(float((dtype.type(high) - dtype.type(low)) / dtype.type(bins)))
    halfway = (bins + 1) // 2
    exact = [start + step * i if i < halfway else end - step * (bins - i) for i in range(bins + 1)]
    return np.array([float(v) for v in exact]).astype(dtype)


def _counted(values: np.ndarray, edges: np.ndarray, positions: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """The summed weights (or counts) per bin of the entries between the outer edges; the last bin keeps its
    right edge."""
    inside = (values >= edges[0]) & (values <= edges[-1])
    bins = len(edges) - 1
    places = np.minimum(positions[inside], bins - 1)
    return np.bincount(places, None if weights is None else weights[inside], bins).astype(values.dtype)


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
    edges = _even_edges(low, high, bins, values.dtype)
    with np.errstate(invalid="ignore"):
        positions = ((values - edges[0]) * bins / (edges[-1] - edges[0]))
    return Tensor._wrap(_counted(values, edges, np.nan_to_num(positions).astype(np.int64), None))


def _edges(values: np.ndarray, bins: Any, range: Any, name: str) -> np.ndarray:  # noqa: A002 (PyTorch's name)
    """The bins' edges: ``bins`` equal bins over ``range`` (default: the data's smallest to largest), or the
    increasing edges given as a tensor."""
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        if bins <= 0:
            raise RuntimeError(f"{name}: bins must be > 0, got {bins}")
        if range is not None:
            low, high = (float(end) for end in range)
            if low > high:
                raise RuntimeError(f"{name}: range must be (min, max) with min <= max, got {tuple(range)}; swap "
                                   "them")
        else:
            low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        if low == high:
            low, high = low - 0.5, high + 0.5
        return _even_edges(low, high, bins, values.dtype)
    edges = np.asarray(_plain(bins)).astype(values.dtype)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) < 0):
        raise RuntimeError(f"{name}: bins must be a count > 0 or a 1-D tensor of at least 2 increasing edges, "
                           f"got {bins!r}")
    return edges


@_method
def histogram(input: Tensor, bins: Any = 100, *, range: Any = None, weight: Any = None,  # noqa: A002
              density: bool = False) -> HistogramResult:
    """The counts (or summed ``weight``) per bin and the bins' edges: ``bins`` equal bins over ``range``
    (default: the data's smallest to largest), or the increasing edges given as a tensor; ``density=True``
    divides by ``Σ counts · bin width`` so that the bars have area 1."""
    values = _bins(input, "histogram")
    edges = _edges(values, bins, range, "histogram")
    weights = None
    if weight is not None:
        weights = as_tensor(weight).array
        if weights.shape != as_tensor(input).shape:
            raise RuntimeError(f"histogram: weight must have the input's shape {shape_text(as_tensor(input).shape)}, "
                               f"got {shape_text(weights.shape)}")
        weights = weights.reshape(-1)
    positions = np.searchsorted(edges, values, side="right") - 1
    hist = _counted(values, edges, positions, weights)
    if density:
        with np.errstate(invalid="ignore", divide="ignore"):  # no entries: NaN, as in PyTorch
            hist = hist / (hist.sum() * np.diff(edges))
    return HistogramResult(Tensor._wrap(hist.astype(values.dtype)), Tensor._wrap(edges))


HistogramddResult = namedtuple("HistogramddResult", ["hist", "bin_edges"])


def histogramdd(input: Tensor, bins: Any = 10, *, range: Any = None, weight: Any = None,  # noqa: A002
                density: bool = False) -> HistogramddResult:
    """The counts (or summed ``weight``) of points ``input[…, :]`` (the last dim: each point's D coordinates) in a
    grid of bins: ``bins`` a count for every dim, one count per dim, or each dim's edges; ``range`` the flat
    ``[min₀, max₀, min₁, max₁, …]``; ``density=True`` divides by ``Σ counts · bin volume``."""
    x = as_tensor(input)
    if x.ndim < 1 or x.array.dtype.kind != "f":
        raise RuntimeError(f"histogramdd: needs a floating tensor of points (…, D), got shape "
                           f"{shape_text(x.shape)} of {x.dtype}")
    points = x.array.reshape(-1, x.shape[-1])
    dims = points.shape[1]
    per_dim = list(bins) if isinstance(bins, (list, tuple)) else [bins] * dims
    if len(per_dim) != dims or (range is not None and len(range) != 2 * dims):
        raise RuntimeError(f"histogramdd: give bins for each of the {dims} dims (or one count) and range as "
                           f"{2 * dims} numbers [min₀, max₀, …]")
    edges = [_edges(points[:, d], count, None if range is None else range[2 * d:2 * d + 2], "histogramdd")
             for d, count in enumerate(per_dim)]
    inside = np.ones(len(points), dtype=bool)
    places = []
    for d, cut in enumerate(edges):
        inside &= (points[:, d] >= cut[0]) & (points[:, d] <= cut[-1])
        places.append(np.minimum(np.searchsorted(cut, points[:, d], side="right") - 1, len(cut) - 2))
    shape = tuple(len(cut) - 1 for cut in edges)
    flat = np.ravel_multi_index(tuple(p[inside] for p in places), shape) if inside.any() else np.zeros(0, int)
    weights = None if weight is None else as_tensor(weight).array.reshape(-1)[inside]
    hist = np.bincount(flat, weights, int(np.prod(shape))).reshape(shape).astype(points.dtype)
    if density:
        volume = np.ones(shape)
        for d, cut in enumerate(edges):
            volume = volume * np.diff(cut).reshape([-1 if k == d else 1 for k, _ in enumerate(edges)])
        with np.errstate(invalid="ignore", divide="ignore"):
            hist = (hist / (hist.sum() * volume)).astype(points.dtype)
    return HistogramddResult(Tensor._wrap(hist), tuple(Tensor._wrap(cut) for cut in edges))
