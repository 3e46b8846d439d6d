"""The row of the rule table for layer normalization, fused (kept whole for speed).

Over the last ``dims`` dims of each sample (the ``n`` entries ``xᵢ`` of one slice):

    μ = (1/n) Σ xᵢ,     σ = √((1/n) Σ (xᵢ − μ)² + ε),     x̂ᵢ = (xᵢ − μ)/σ,     outᵢ = γᵢ·x̂ᵢ + βᵢ

The forward computes exactly what ``(x − x.mean()) / (x.var(correction=0) + ε).sqrt() * γ + β`` computes from
the primitives, in the same order (the same numbers); the backward is the whole slice's vector-Jacobian product
in one piece, with ``g = ∂L/∂out·γ``:

    ∂L/∂xᵢ = (gᵢ − mean(g) − x̂ᵢ·mean(g·x̂)) / σ,     ∂L/∂γ = Σ_samples ∂L/∂out·x̂,     ∂L/∂β = Σ_samples ∂L/∂out

Composed, it was 9 nodes (2 reductions forward, 6 backward, and a mean taken twice); fused, the forward makes
2 reductions and the backward 4: a transformer block's LayerNorm, forward and backward, in about half the time.
float16 is computed in float32 and rounded once (PyTorch's accumulate type on the CPU).

>>> import numpy as np
>>> from glassgrad.ops import RULES
>>> RULES["layer_norm"].forward(np.array([[1.0, 3.0]]), None, None, 1, 0.0, (True, False, False))[0].tolist()
[[-1.0, 1.0]]
"""

from __future__ import annotations

import math

import numpy as np

from .ops import Op, mean_rounding, mean_rounding_shows, narrowed, register, widened
from .summation import add_reduce


def _layer_norm(x, weight, bias, dims, eps, needs):
    """``γ·(x − μ)/σ + β`` over the last ``dims`` dims (γ, β skipped when None); ``needs``: which of x, γ, β
    need a gradient."""
    axes = tuple(range(x.ndim - dims, x.ndim))
    count = math.prod(x.shape[x.ndim - dims:])
    wide = widened(x)
    with np.errstate(divide="ignore", invalid="ignore"):  # an empty slice: nothing to normalise
        # row-major whatever x's order, as PyTorch's result (NumPy would keep a transposed x's order, γ's product
        # too, and out.view(…) then failed where PyTorch's works); a row-major x costs nothing more
        mean = add_reduce(wide, axes, True) / count
        centred = np.subtract(wide, mean, order="C")
        variance = add_reduce(centred * centred, axes, True) / count
        if mean_rounding_shows(mean, variance):
            centred -= mean_rounding(centred, axes, count)  # μ's rounding: corrected
            variance = add_reduce(centred * centred, axes, True) / count
        std = np.sqrt(variance + eps)
    normed = centred / std
    out = normed if weight is None else normed * weight
    if bias is not None:
        out = out + bias
    elif out is normed:
        out = normed.copy()  # the output is the caller's to change; the backward reads normed
    return narrowed(out, x), (normed, std, weight, axes, count, eps, needs)


def _layer_norm_back(up, saved):
    """The slice's whole vector-Jacobian product (module docstring), on (samples, n) rows; the sums along and
    across the rows as products with ones (BLAS: a quarter of a reduction's time on a transformer's rows)."""
    normed, std, weight, axes, count, _, (need_x, need_weight, need_bias) = saved
    shape = normed.shape
    rows = math.prod(shape[:len(shape) - len(axes)])
    normed = normed.reshape(rows, count)
    up = widened(up).reshape(rows, count)
    weight = None if weight is None else weight.reshape(count)
    up_normed = up * normed
    grad_x = grad_weight = grad_bias = None
    if need_x:
        scaled, scaled_normed = (up, up_normed) if weight is None else (up * weight, up_normed * weight)
        share = 1 / count if count else 0.0
        every = np.ones(count, dtype=scaled.dtype)
        grad_x = scaled - (scaled @ every * share)[:, None]
        grad_x -= normed * (scaled_normed @ every * share)[:, None]
        grad_x /= std.reshape(rows, 1)
        grad_x = grad_x.reshape(shape)
    every = np.ones(rows, dtype=up.dtype)
    if need_weight:
        grad_weight = (every @ up_normed).reshape(shape[len(shape) - len(axes):])
    if need_bias:
        grad_bias = (every @ up).reshape(shape[len(shape) - len(axes):])
    return grad_x, grad_weight, grad_bias


def _layer_norm_vjp(up, inputs, out, saved):
    """:func:`_layer_norm_back` on tensors (recorded), the statistics worked out again from the input; γ's and β's
    gradients in the input's shape, summed over the samples by the engine."""
    x, *affine = inputs
    weight, axes, _, eps = saved[2:6]
    centred = x - x.mean(axes, keepdim=True)
    std = ((centred * centred).mean(axes, keepdim=True) + eps).sqrt()
    normed = centred / std
    scaled = up if weight is None else up * affine[0]
    grad_x = (scaled - scaled.mean(axes, keepdim=True) - normed * (scaled * normed).mean(axes, keepdim=True)) / std
    return (grad_x, up * normed, up)[:1 + len(affine)]


LAYER_NORM = register(Op(
    "layer_norm", "out = γ·(x − μ)/σ + β,  μ, σ² = mean and variance of each sample's slice, σ = √(σ² + ε)",
    ("({up}·{weight} − mean({up}·{weight}) − x̂·mean({up}·{weight}·x̂))/σ,  x̂ = ({input} − μ)/σ",
     "Σ_samples {up}·x̂", "Σ_samples {up}"),
    _layer_norm, _layer_norm_back, kind="normalization", roles=("input", "weight", "bias"),
    written="LayerNorm({input})", settings=("dims", "eps"), defaults=(1, 1e-5),
    saves=((0, 1), (0,), ()), vjp_tensors=_layer_norm_vjp,
))
