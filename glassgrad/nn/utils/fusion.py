"""Folding an evaluation-mode BatchNorm into the convolution or linear layer before it (``gg.nn.utils.fuse_…``).

In evaluation mode a BatchNorm is a fixed affine map per channel ``c``, with its running mean ``μ``, running
variance ``σ²``, ``eps`` ``ε``, weight ``γ`` and bias ``β``::

    BN(z)[c] = (z[c] − μ[c]) · γ[c]/√(σ²[c] + ε) + β[c] = s[c]·z[c] + (β[c] − s[c]·μ[c]),   s = γ/√(σ² + ε)

and ``z[c] = W[c]·x + b[c]`` is linear in ``x``, so the two layers make one of the same kind::

    W′[c] = s[c]·W[c]        b′[c] = (b[c] − μ[c])·s[c] + β[c]

one multiplication and one addition fewer per output at inference. ``W[c]`` is the weight's slice for output
channel ``c``: row ``c`` of a Linear's ``(out, in)`` weight or of a convolution's ``(out, in/groups, *kernel)``
one; a transposed convolution's weight is ``(in, out/groups, *kernel)``, so there it is column ``c mod (out/groups)``
of group ``c // (out/groups)`` (``transpose=True``). A missing ``b`` counts as 0, a missing ``γ``/``β``
(``affine=False``) as 1/0. ``W′`` and ``b′`` are new parameters that learn when ``W`` does (PyTorch's ``b′``
does not learn when the layer had no bias; here it always comes out a full bias of one entry per output).

>>> import glassgrad as gg
>>> conv, bn = gg.nn.Conv2d(1, 2, 3, seed=0).eval(), gg.nn.BatchNorm2d(2).eval()
>>> fused = gg.nn.utils.fuse_conv_bn_eval(conv, bn)
>>> x = gg.randn(1, 1, 5, 5, seed=0)
>>> bool((fused(x) - bn(conv(x))).abs().max() < 1e-5)
True
"""

from __future__ import annotations

import copy
from typing import TypeVar

import numpy as np

from ...tensor import Tensor
from ..module import Module
from ..parameter import Parameter

Layer = TypeVar("Layer", bound=Module)


def _array(value: Tensor | None, default: float, size: int) -> np.ndarray:
    """``value``'s entries in float64, or ``size`` copies of ``default`` when it is missing."""
    return np.full(size, default) if value is None else np.asarray(value.array, dtype=np.float64)


def _folded(weight: Tensor, bias: Tensor | None, mean: Tensor, var: Tensor, eps: float, gamma: Tensor | None,
            beta: Tensor | None, transpose: bool, owner: str) -> tuple[Parameter, Parameter]:
    """``(W′, b′)`` of the module docstring, as parameters of ``weight``'s dtype that learn if ``weight`` does."""
    channels = mean.numel()
    scale = _array(gamma, 1.0, channels) / np.sqrt(_array(var, 0.0, channels) + eps)
    w = np.asarray(weight.array, dtype=np.float64)
    if transpose:  # (in, out/groups, *kernel): output channel c is column c % (out/groups) of group c // (out/groups)
        per_group = w.shape[1]
        groups = channels // per_group
        if channels % per_group or w.shape[0] % groups:
            raise ValueError(f"{owner}: a transposed weight {tuple(w.shape)} (in, out/groups, *kernel) does not "
                             f"fit a BatchNorm of {channels} features; fuse the layer whose out_channels it has")
        grouped = w.reshape(groups, w.shape[0] // groups, per_group, *w.shape[2:])
        fused = (grouped * scale.reshape(groups, 1, per_group, *(1,) * (w.ndim - 2))).reshape(w.shape)
    else:
        if w.shape[0] != channels:
            raise ValueError(f"{owner}: the weight has {w.shape[0]} output channels (dim 0 of {tuple(w.shape)}) but "
                             f"the BatchNorm has {channels} features; fuse the layer that comes right before it")
        fused = w * scale.reshape(-1, *(1,) * (w.ndim - 1))
    fused_bias = (_array(bias, 0.0, channels) - _array(mean, 0.0, channels)) * scale + _array(beta, 0.0, channels)
    dtype = weight.array.dtype
    return (Parameter(fused.astype(dtype), weight.requires_grad),
            Parameter(fused_bias.astype(dtype), weight.requires_grad))


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor, bn_eps: float,
                         bn_w: Tensor | None, bn_b: Tensor | None, transpose: bool = False
                         ) -> tuple[Parameter, Parameter]:
    """``(W′, b′)`` with ``W′[c] = s[c]·W[c]``, ``b′[c] = (b[c] − μ[c])·s[c] + β[c]``, ``s = γ/√(σ² + ε)``
    (``bn_rm`` = μ, ``bn_rv`` = σ², ``bn_w`` = γ, ``bn_b`` = β); ``transpose=True`` for a ConvTranspose weight."""
    return _folded(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose, "fuse_conv_bn_weights")


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor, bn_eps: float,
                           bn_w: Tensor | None, bn_b: Tensor | None) -> tuple[Parameter, Parameter]:
    """``(W′, b′)`` for a Linear's ``(out, in)`` weight: row ``c`` times ``s[c] = γ[c]/√(σ²[c] + ε)``,
    ``b′ = (b − μ)·s + β``. A BatchNorm of 1 feature applies its one ``s`` to every row, as in PyTorch."""
    if bn_rm.numel() == 1 and linear_w.shape[0] != 1:  # one feature: the same map for every output
        bn_rm, bn_rv, bn_w, bn_b = (None if t is None else Tensor._wrap(np.broadcast_to(t.array, linear_w.shape[:1]))
                                    for t in (bn_rm, bn_rv, bn_w, bn_b))
    return _folded(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, False, "fuse_linear_bn_weights")


def _check_eval(layer: Module, bn: Module, owner: str) -> None:
    """PyTorch's refusal (an ``AssertionError``) when either module is training, and a missing running statistic."""
    if layer.training or bn.training:
        raise AssertionError(f"{owner}: fusion only for eval: call .eval() on both modules first (in training "
                             "mode BatchNorm uses the batch's statistics, which no fixed weight can fold in)")
    if getattr(bn, "running_mean", None) is None or getattr(bn, "running_var", None) is None:
        raise AssertionError(f"{owner}: the BatchNorm has no running_mean/running_var (track_running_stats=False), "
                             "so there is no fixed map to fold in")


def fuse_conv_bn_eval(conv: Layer, bn: Module, transpose: bool = False) -> Layer:
    """A copy of ``conv`` (a ``Conv*d``, or a ``ConvTranspose*d`` with ``transpose=True``) whose weight and bias
    fold in ``bn``: ``fused(x) = bn(conv(x))`` in eval mode. Both must be in eval mode."""
    _check_eval(conv, bn, "fuse_conv_bn_eval")
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps,
                                                    bn.weight, bn.bias, transpose)
    return fused


def fuse_linear_bn_eval(linear: Layer, bn: Module) -> Layer:
    """A copy of ``linear`` whose weight and bias fold in ``bn`` (a BatchNorm1d of ``out_features`` features, or
    of 1): ``fused(x) = bn(linear(x))`` in eval mode. Both must be in eval mode."""
    _check_eval(linear, bn, "fuse_linear_bn_eval")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(linear.weight, linear.bias, bn.running_mean, bn.running_var,
                                                      bn.eps, bn.weight, bn.bias)
    return fused
