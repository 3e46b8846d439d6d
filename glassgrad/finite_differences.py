"""``gradient``: the slope of sampled values along each dim, by central differences (PyTorch's ``torch.gradient``).

With samples ``fᵢ`` at coordinates ``xᵢ`` and the steps ``hₗ = xᵢ − xᵢ₋₁``, ``hᵣ = xᵢ₊₁ − xᵢ`` around an inner point,
the second-order estimate is

    f′ᵢ ≈ (hₗ²·fᵢ₊₁ − hᵣ²·fᵢ₋₁ + (hᵣ² − hₗ²)·fᵢ) / (hₗ·hᵣ·(hₗ + hᵣ))       (= (fᵢ₊₁ − fᵢ₋₁) / 2h for equal steps)

and at the two ends (``edge_order=1``) the one-sided ``(f₁ − f₀)/h₁`` and ``(fₙ₋₁ − fₙ₋₂)/hₙ₋₁``; ``edge_order=2``
fits a parabola through the three end samples instead:

    f′₀ ≈ −(2h₁ + h₂)/(h₁(h₁ + h₂))·f₀ + (h₁ + h₂)/(h₁h₂)·f₁ − h₁/(h₂(h₁ + h₂))·f₂

(and its mirror image at the last end). Every formula is made of slices, products and sums, so the gradient of
the result flows back to the samples and to coordinate tensors.

>>> import glassgrad as gg
>>> [g.tolist() for g in gg.gradient(gg.tensor([1.0, 4.0, 9.0, 16.0]))]
[[3.0, 4.0, 6.0, 7.0]]
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .arguments import check_dim, is_floating
from .creation import as_tensor
from .dtypes import get_default_dtype
from .functions import cat
from .tensor import Tensor


def _steps(spacing: Any, size: int, dim: int, like: Tensor) -> Tensor:
    """The ``size − 1`` steps ``xᵢ₊₁ − xᵢ`` along a dim: all equal to a number, or the differences of coordinates."""
    if isinstance(spacing, Tensor):
        if spacing.ndim != 1 or spacing.shape[0] != size:
            raise RuntimeError(f"gradient: the coordinates for dim {dim} must be a 1-D tensor of {size} entries (one "
                               f"per sample), got shape {tuple(spacing.shape)}")
        coordinates = spacing if is_floating(spacing.array.dtype) else spacing.to(like.dtype)
        steps = coordinates[1:] - coordinates[:-1]
    elif isinstance(spacing, bool) or not isinstance(spacing, numbers.Real):
        raise TypeError(f"gradient: spacing must be a number, or a list of numbers or of 1-D coordinate tensors, "
                        f"got {type(spacing).__name__}")
    else:
        steps = like.new_full((size - 1,), float(spacing))
    if np.any(steps.array == 0) or not np.all(np.isfinite(steps.array)):
        raise ValueError(f"gradient: the samples along dim {dim} must be a finite, non-zero distance apart (equal "
                         "neighbouring coordinates or a spacing of 0 would divide by 0)")
    return steps


def _slope(f: Tensor, steps: Tensor, dim: int, edge_order: int) -> Tensor:
    """The estimate of ∂f/∂x along ``dim`` from the steps between samples (see the module's formulas)."""
    shape = [1] * f.ndim
    shape[dim] = -1

    def spread(t: Tensor) -> Tensor:
        return t.reshape(shape)

    def at(start: int, stop: int | None) -> Tensor:  # f[…, start:stop, …] in dim ``dim``
        return f[(slice(None),) * dim + (slice(start, stop),)]

    left, right = spread(steps[:-1]), spread(steps[1:])
    inner = ((left * left) * at(2, None) - (right * right) * at(0, -2) + (right * right - left * left) * at(1, -1)
             ) / (left * right * (left + right))
    if edge_order == 1:
        first = (at(1, 2) - at(0, 1)) / spread(steps[:1])
        last = (at(-1, None) - at(-2, -1)) / spread(steps[-1:])
    else:
        h1, h2 = spread(steps[:1]), spread(steps[1:2])
        first = (-(2 * h1 + h2) / (h1 * (h1 + h2)) * at(0, 1) + (h1 + h2) / (h1 * h2) * at(1, 2)
                 - h1 / (h2 * (h1 + h2)) * at(2, 3))
        h1, h2 = spread(steps[-2:-1]), spread(steps[-1:])
        last = (h2 / (h1 * (h1 + h2)) * at(-3, -2) - (h1 + h2) / (h1 * h2) * at(-2, -1)
                + (2 * h2 + h1) / (h2 * (h1 + h2)) * at(-1, None))
    return cat([first, inner, last], dim)


def gradient(input: Tensor, *, spacing: Any = 1, dim: int | Sequence[int] | None = None,
             edge_order: int = 1) -> tuple[Tensor, ...]:
    """The estimated partial derivatives of ``input`` along each dim in ``dim`` (all dims when None), one tensor
    each, shaped like ``input``.

    ``spacing``: one number (the step along every dim), or a list with one entry per dim in ``dim``, each a
    number (that dim's step) or a 1-D tensor of the samples' coordinates along it. ``edge_order`` (1 or 2) is
    the order of the one-sided estimates at the ends; every dim needs at least ``edge_order + 1`` samples. Misuse
    raises PyTorch's RuntimeError (a spacing of 0, which PyTorch turns into inf and NaN, raises ValueError)."""
    f = as_tensor(input)
    if isinstance(spacing, Tensor) and spacing.ndim == 0:  # PyTorch reads a 0-d tensor as the number it holds
        spacing = spacing.item()
    if not is_floating(f.array.dtype):
        f = f.to(get_default_dtype())
    dims = list(range(f.ndim)) if dim is None else [dim] if isinstance(dim, numbers.Integral) else list(dim)
    dims = [check_dim(f, d, "gradient") for d in dims]
    if len(set(dims)) < len(dims):
        raise RuntimeError(f"gradient: dim {dim!r} names a dim more than once; list each dim once")
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(f"gradient: spacing has {len(spacing)} entries but there are {len(dims)} dims to "
                             "differentiate along; give one step (or coordinate tensor) per dim, or one number")
        spacings = list(spacing)
    else:
        spacings = [spacing] * len(dims)
    if edge_order not in (1, 2):
        raise RuntimeError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    for d in dims:
        if f.shape[d] < edge_order + 1:
            raise RuntimeError(f"gradient: dim {d} has {f.shape[d]} samples; edge_order={edge_order} needs at least "
                             f"{edge_order + 1}")
    return tuple(_slope(f, _steps(s, f.shape[d], d, f), d, edge_order) for s, d in zip(spacings, dims))
