"""Normalization layers: ``BatchNorm1d/2d/3d`` (across the batch) and ``LayerNorm`` (across features).

Both standardise, then scale and shift with learned ``weight`` (γ) and ``bias`` (β):

    x̂ = (x − μ) / √(σ² + ε),      out = γ · x̂ + β

with the *biased* variance ``σ² = mean((x − μ)²)``. BatchNorm is composed from engine
primitives (mean, var, sub, add, sqrt, div, mul), so backward needs no code here and a
trace shows every step; LayerNorm is one fused row (:mod:`glassgrad.ops_layer_norm`, kept whole
for speed: a transformer runs it twice a block), one step of a trace.

* ``BatchNorm1d``: μ, σ² per feature over the batch (dim 0, and dim 2 for (N, C, L));
  ``BatchNorm2d`` the same per channel of images (N, C, H, W), over dims 0, 2 and 3, and ``BatchNorm3d``
  per channel of volumes (N, C, D, H, W), over dims 0, 2, 3 and 4.
  In training it also keeps running estimates for evaluation:
  ``running_mean ← (1 − m)·running_mean + m·μ``, ``running_var ← (1 − m)·running_var + m·σ²·n/(n − 1)``
  (the *unbiased* variance, as in PyTorch); ``eval()`` normalises with them instead.
* ``LayerNorm``: μ, σ² per sample over the last dims (``normalized_shape``); same in train and eval.

>>> import glassgrad as gg
>>> out = gg.nn.BatchNorm1d(2)(gg.tensor([[1.0, 10.0], [3.0, 30.0]]))
>>> [round(v, 3) for v in out[:, 1].tolist()]
[-1.0, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..arguments import float_argument, is_floating, shape_arg, shape_text
from ..autograd import call_recorder, recorded_call
from ..batching import refuse_unmapped_update
from ..creation import as_tensor, tensor_argument
from ..device import check_device
from ..functions import cat
from ..memory_formats import kept_channels_last
from ..ops import mean_rounding, mean_rounding_shows
from ..ops_layer_norm import LAYER_NORM
from ..settings import warn_at_learners_line
from ..tensor import Tensor, apply, int64
from . import init
from .linear import check_size, float_dtype
from .module import Module
from .parameter import Parameter


def _row_major(x: Tensor) -> Tensor:
    """``x``, or its row-major copy (in the graph) where its entries sit in another order (``x.transpose(1, 2)``):
    a normalization's result is then row-major, as PyTorch's is, not in x's order as elementwise ops keep it."""
    return x if x.array.flags.c_contiguous else x.contiguous()


def _standardize(x: Tensor, mean: Tensor, var: Tensor, eps: float, weight: Tensor | None,
                 bias: Tensor | None) -> Tensor:
    """``γ · (x − μ)/√(σ² + ε) + β`` (γ, β skipped when None), row-major as PyTorch's whatever x's order.

    float16 as PyTorch's kernel: ``x·α + β′`` in float32, rounded once, with ``α = γ/√(σ² + ε)`` and
    ``β′ = β − μ·α`` (:func:`_half_standardize`); five float16 roundings were up to 2 ulps off it."""
    if x.array.dtype.char == "e":
        return _half_standardize(_row_major(x), mean, var, eps, weight, bias)
    out = (_row_major(x) - mean) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _half_standardize(x: Tensor, mean: Tensor, var: Tensor, eps: float, weight: Tensor | None,
                      bias: Tensor | None) -> Tensor:
    """:func:`_standardize` of float16 ``x``: PyTorch's CPU batch norm works in float32 from μ and
    ``σ⁻¹ = 1/√(σ² + ε)`` (both rounded to float16 where they are a batch's statistics, as its saved ones: a float32
    ``var`` is such; running ones are taken as they are) and rounds ``x·α + (β − μ·α)`` once."""
    inverse = 1 / (var.float() + eps).sqrt()
    if var.array.dtype.char != "e":  # a batch's statistics: PyTorch's kernel keeps σ⁻¹ in float16
        inverse = inverse.half().float()
    alpha = inverse if weight is None else inverse * weight.float()
    shift = mean.float() * alpha
    return (x.float() * alpha + (-shift if bias is None else bias.float() - shift)).half()


def _check_per_channel(function: str, x: Tensor, **vectors: Tensor | None) -> None:
    """Each of ``vectors`` (a running statistic, γ, β) holds one entry per channel of x (dim 1): shape (C,), as
    PyTorch requires (a γ of shape (1,) or (C, 1) would broadcast to some other per-channel rule)."""
    channels = x.array.shape[1]
    for name, tensor in vectors.items():
        if tensor_argument(tensor, function, name, optional=True) is not None and tensor.array.shape != (channels,):
            raise RuntimeError(f"{function}: {name} has shape {shape_text(tensor.shape)} but the input has "
                               f"{channels} channels (dim 1 of {shape_text(x.shape)}); give it shape ({channels},)")


def _floating_input(function: str, input: Tensor) -> Tensor:
    """``input`` as a tensor of a floating dtype; an integer or bool one raises NotImplementedError, PyTorch's class
    (it has no normalization kernel for them; NumPy would have raised from deep inside, or rounded)."""
    x = as_tensor(input)
    if not is_floating(x.array.dtype):
        raise NotImplementedError(f"{function}: needs a floating tensor, got {x.array.dtype}; use x.float()")
    return x


def _check_running_pair(running_mean: Tensor | None, running_var: Tensor | None) -> None:
    """Running statistics come as a pair, as PyTorch requires: one alone would be updated while the other is
    silently ignored."""
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None; pass both "
                         "(to track running statistics) or neither")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization of ``input`` (N, C, …): (N, C), (N, C, L) or (N, C, H, W), per channel C.

    ``training=True`` uses the batch's statistics and updates ``running_mean``/``running_var``
    in place (when given, both or neither) with factor ``momentum``; ``training=False`` uses the running ones.
    ``eps`` must be positive in training and non-negative otherwise (PyTorch's ValueError: a negative one makes
    √(σ² + ε) NaN or infinite).
    """
    x = _floating_input("batch_norm", input)
    _check_batch_norm_eps(eps, training)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, …), got {shape_text(x.shape)}")
    channels = x.array.shape[1]
    _check_per_channel("batch_norm", x, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    axes = (0, *range(2, x.ndim))
    stat_shape = (1, channels) + (1,) * (x.ndim - 2)
    if training:
        _check_running_pair(running_mean, running_var)
        count = x.array.size // channels if channels else 0
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{shape_text(x.shape)}: use a batch of 2 or more samples, or call model.eval()")
        if count == 0:  # an empty batch gives an empty output and leaves the running statistics, as PyTorch's
            mean = x.new_zeros(stat_shape)
            var = mean + 1
        else:
            mean, var = _batch_statistics(x, axes)
            refuse_unmapped_update("batch_norm", running_mean, running_var)
            if running_mean is not None:
                recorded_call(_update_running, running_mean.array, mean.array, momentum, channels)
            if running_var is not None:
                recorded_call(_update_running, running_var.array, var.array, momentum, channels, count)
    else:
        for name, running in (("running_mean", running_mean), ("running_var", running_var)):
            if running is None:  # PyTorch's class and words
                raise RuntimeError(f"{name} must be defined in evaluation mode; pass the running statistics, or "
                                   f"training=True to normalise with the batch's")
        mean, var = _running_statistics(running_mean, running_var, stat_shape, x.dtype)
    if x.ndim > 2:
        weight = weight.reshape(stat_shape) if weight is not None else None
        bias = bias.reshape(stat_shape) if bias is not None else None
    return kept_channels_last(_standardize(x, mean, var, eps, weight, bias), x)  # PyTorch's kernel's layout


def _check_batch_norm_eps(eps: float, training: bool) -> None:
    """PyTorch's ValueError for an ``eps`` batch norm refuses: not positive in training, negative otherwise (a
    negative one makes √(σ² + ε) NaN or infinite)."""
    if eps <= 0 if training else eps < 0:
        raise ValueError(f"batch_norm eps must be {'positive during training' if training else 'non-negative'}, "
                         f"but got {eps}; use a small positive eps such as 1e-5")


def _running_statistics(running_mean: Tensor, running_var: Tensor, shape: tuple,
                        dtype: np.dtype) -> tuple[Tensor, Tensor]:
    """The running mean and variance shaped to ``shape`` in ``dtype``, each read at each call (a kernel of a
    compiled step)."""
    return tuple(Tensor._wrap(recorded_call(_running_statistic, running.array, shape, dtype))
                 for running in (running_mean, running_var))


def _batch_statistics(x: Tensor, axes: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """The mean ``μ`` and biased variance ``σ²`` of x over ``axes`` (kept), μ of float32 corrected once by
    ``mean(x − μ)`` where the layer-norm row's rule (:func:`~glassgrad.ops.mean_rounding_shows`) asks
    (:func:`_mean_correction`): a constant column's ``x − μ`` is then exactly 0 and its output β, as PyTorch's mean
    (summed in float64) gives; the float32 sum's rounding of μ, divided by ``√(σ² + ε)``, was up to ±2.5 at
    ε = 1e-12. The correction is a constant (μ's gradient is unchanged: it is the mean's own) and, in a compiled
    step, always one kernel, which asks the rule again at each replay (0 where it does not fire)."""
    if x.array.dtype.char == "e":  # float16: from x in float32 (one rounding of x's gradient), μ rounded to float16
        wide = x.float()  # and σ² kept in float32, whence PyTorch's σ⁻¹ (_half_standardize)
        mean, var = wide.mean(axes, keepdim=True).half(), wide.var(axes, keepdim=True, correction=0)
    else:
        mean, var = x.mean(axes, keepdim=True), x.var(axes, keepdim=True, correction=0)
    if call_recorder() is not None or mean_rounding_shows(mean.array, var.array):
        mean = mean + Tensor._wrap(recorded_call(_mean_correction, x.array, mean.array, var.array, axes))
    return mean, var


def _mean_correction(x: np.ndarray, mean: np.ndarray, var: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """``mean(x − μ)`` over ``axes`` where :func:`~glassgrad.ops.mean_rounding_shows` fires for ``μ``, ``σ²``,
    else 0 (in μ's shape and dtype)."""
    if not mean_rounding_shows(mean, var):
        return np.zeros_like(mean)
    return mean_rounding(x - mean, axes, x.size // mean.size)


def _update_running(running: np.ndarray, batch: np.ndarray, momentum: float | np.ndarray, channels: int,
                    count: int | None = None) -> None:
    """``running ← (1 − m)·running + m·batch`` in place, or ``+ m·n/(n − 1)·batch`` for a variance over ``count``
    values per channel (made unbiased). ``batch`` holds one statistic per channel, or one per sample and channel
    (instance norm: their mean is taken). ``momentum`` may be a 0-d array (a cumulative average's 1/(t + 1)).

    One call, so that a compiled step (:mod:`glassgrad.compiler`) replays it as one kernel, all of it worked out
    again at each call.
    """
    momentum = float(momentum)
    factor = momentum if count is None else momentum * count / (count - 1)
    running *= 1 - momentum
    running += factor * batch.reshape(-1, channels).mean(axis=0)


def _cumulative_momentum(tracked: np.ndarray) -> np.ndarray:
    """``1/(t + 1)`` after ``t`` batches tracked (``momentum=None``: the running statistics are the average of
    every batch so far), as a kernel of a compiled step, which reads the count at each call."""
    return np.array(1.0 / (int(tracked) + 1))


def _running_statistic(running: np.ndarray, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """A running statistic shaped to broadcast over the input (a view when the dtype matches): read at each call."""
    return running.reshape(shape).astype(dtype, copy=False)


def _count_batch(count: np.ndarray) -> None:
    """``num_batches_tracked += 1``, as one kernel of a compiled step."""
    count += 1


def _reset_running(mean: np.ndarray, var: np.ndarray, count: np.ndarray) -> None:
    """Mean 0, variance 1, no batches, in place, as one kernel of a compiled step (``reset_running_stats``)."""
    mean[...] = 0
    var[...] = 1
    count[...] = 0


def _check_normalized_shape(function: str, shape: tuple[int, ...], **vectors: Tensor | None) -> None:
    """γ and β (where given) are tensors of the shape of the dims normalised over, as PyTorch requires (one of
    another shape would broadcast, e.g. a γ per sample)."""
    for name, tensor in vectors.items():
        if tensor_argument(tensor, function, name, optional=True) is not None and tensor.array.shape != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(tensor.array.shape)} and normalized_shape = {list(shape)}; give it that shape")


def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each sample over its last ``len(normalized_shape)`` dims, then ``γ · x̂ + β``: one fused node
    (:mod:`glassgrad.ops_layer_norm`, kept whole for speed), the same numbers as composing it."""
    x = _floating_input("layer_norm", input)
    shape = shape_arg((normalized_shape,), "layer_norm")  # an int, or ints: never 'a' (a shape ['a'] once)
    if x.array.shape[x.ndim - len(shape):] != shape or x.ndim < len(shape):
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape [*, {', '.join(map(str, shape))}], "
            f"but got input of size {shape_text(x.shape)}"
        )
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []; name the dims to normalise, e.g. (x.shape[-1],)")
    _check_normalized_shape("layer_norm", shape, weight=weight, bias=bias)
    if weight is None and bias is not None:  # β alone: the row's inputs are x, γ, β in that order
        return layer_norm(x, shape, None, None, eps) + bias
    parents = (x,) if weight is None else (x, weight) if bias is None else (x, weight, bias)
    return apply(LAYER_NORM, parents, x.array, None if weight is None else weight.array,
                 None if bias is None else bias.array, len(shape), eps,
                 tuple(parent._requires_grad for parent in parents) + (False,) * (3 - len(parents)))


class BatchNorm1d(Module):
    """Normalise each of ``num_features`` features over the batch, then scale (γ) and shift (β).

    Input (N, C) or (N, C, L). ``momentum=None`` keeps a cumulative average instead of
    an exponential one. With ``track_running_stats=False`` batch statistics are used in
    eval too. Parameters: ``weight`` (γ, ones), ``bias`` (β, zeros; none with ``bias=False``); buffers:
    ``running_mean`` (zeros), ``running_var`` (ones), ``num_batches_tracked``.
    """

    shapes = {2: "(N, {C})", 3: "(N, {C}, L)"}
    """The input shapes the layer takes, by number of dims."""
    _version = 2
    """PyTorch's: ``num_batches_tracked`` came in version 2."""
    _may_be_missing = ("num_batches_tracked",)
    """Left out of a state dict of version 1 or none (older PyTorch checkpoints lack it), it keeps its value, as
    PyTorch's does."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        check_device(device)
        super().__init__()
        _statistics_settings(self, num_features, eps, momentum, affine, track_running_stats, dtype, bias)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:  # a kernel of a compiled step: written in Python, a replay left them as they were
            recorded_call(_reset_running, self.running_mean.array, self.running_var.array,
                          self.num_batches_tracked.array)

    def reset_parameters(self) -> None:
        """Back to the start: running statistics (mean 0, variance 1, no batches), γ = 1, β = 0."""
        self.reset_running_stats()
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        x = as_tensor(input)
        if x.ndim not in self.shapes or x.array.shape[1] != self.num_features:
            expected = " or ".join(shape.format(C=self.num_features) for shape in self.shapes.values())
            # PyTorch: a ValueError for the wrong number of dims, a RuntimeError for the wrong number of channels
            raise (ValueError if x.ndim not in self.shapes else RuntimeError)(
                f"{type(self).__name__}({self.num_features}) expected input of shape {expected}, "
                f"got {shape_text(x.shape)}")
        updating = self.training and self.track_running_stats
        factor = self.momentum
        if updating and factor is None:  # cumulative average over all batches so far
            factor = recorded_call(_cumulative_momentum, self.num_batches_tracked.array)
        use_running = not self.training and self.running_mean is not None
        out = batch_norm(x, self.running_mean if updating or use_running else None,
                         self.running_var if updating or use_running else None, self.weight, self.bias,
                         training=not use_running, momentum=0.0 if factor is None else factor, eps=self.eps)
        if updating:
            recorded_call(_count_batch, self.num_batches_tracked.array)
        return out

    def config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "affine": self.affine, "bias": self.bias is not None, "track_running_stats": self.track_running_stats}


class BatchNorm2d(BatchNorm1d):
    """``BatchNorm1d`` for images: each of ``num_features`` channels of (N, C, H, W) normalised over N, H and W."""

    shapes = {4: "(N, {C}, H, W)"}


class BatchNorm3d(BatchNorm1d):
    """``BatchNorm1d`` for volumes: each of ``num_features`` channels of (N, C, D, H, W) normalised over N, D, H, W."""

    shapes = {5: "(N, {C}, D, H, W)"}


class LayerNorm(Module):
    """Normalise each sample over its last dims ``normalized_shape``, then scale (γ) and shift (β).

    Unlike BatchNorm it does not depend on the other samples: train and eval behave alike.
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        check_device(device)
        super().__init__()
        sizes = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        self.normalized_shape = tuple(check_size(n, "normalized_shape", "LayerNorm", leads=not position)
                                      for position, n in enumerate(sizes))
        self.eps = float_argument(eps, type(self).__name__, "eps")
        self.elementwise_affine = bool(elementwise_affine)
        dtype = float_dtype(dtype, "LayerNorm")
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if self.elementwise_affine and bias:
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """γ back to ones and β to zeros."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def config(self) -> dict[str, Any]:
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "elementwise_affine": self.elementwise_affine, "bias": self.bias is not None}


# --- GroupNorm, RMSNorm, InstanceNorm: the same standardising, over other dims --------------------

def _per_channel(x: Tensor, out: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """``γ·out + β`` with one γ and β per channel (dim 1 of x)."""
    shape = (-1,) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Split the C channels of (N, C, …) into ``num_groups`` groups; standardise each sample's group over its
    channels and positions; then ``γ·x̂ + β`` per channel."""
    x = as_tensor(input)
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise RuntimeError(f"group_norm: expected an input (N, C, …) whose C is divisible by num_groups="
                           f"{num_groups}, got shape {shape_text(x.shape)}")
    _check_per_channel("group_norm", x, weight=weight, bias=bias)
    if x.shape[0] * x.shape[1] // num_groups * math.prod(x.shape[2:]) == 1:  # PyTorch's test, as it words it
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{[x.shape[0] * x.shape[1] // num_groups, num_groups, *x.shape[2:]]}: each group holds "
                         f"one value, so the output would be β alone; use fewer groups or more positions")
    if x.array.dtype.char == "e":  # PyTorch's float16 kernel: in float32 (μ, σ⁻¹, γ·x̂ + β), rounded once
        return group_norm(x.float(), num_groups, *(None if v is None else v.float() for v in (weight, bias)),
                          eps).half()
    groups = x.reshape(x.shape[0], num_groups, x.shape[1] // num_groups * math.prod(x.shape[2:]))  # (N may be 0)
    out = layer_norm(groups, (groups.shape[2],), None, None, eps)  # each group is a slice: the fused row
    return kept_channels_last(_per_channel(x, out.reshape(tuple(x.shape)), weight, bias), x)  # PyTorch's kernel's


def rms_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / √(mean(x²) + ε) · γ`` over the last ``len(normalized_shape)`` dims (ε: the dtype's machine epsilon
    by default, as PyTorch)."""
    x = _floating_input("rms_norm", input)
    shape = shape_arg((normalized_shape,), "rms_norm")
    if x.ndim < len(shape) or tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise RuntimeError(f"rms_norm: expected an input of shape [*, {', '.join(map(str, shape))}], got "
                           f"{shape_text(x.shape)}")
    _check_normalized_shape("rms_norm", shape, weight=weight)
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    held = float(np.finfo(x.array.dtype).eps) if eps is None else float(eps)
    x = _row_major(x)  # PyTorch's result is row-major whatever x's order
    out = x / ((x * x).mean(axes, keepdim=True) + held).sqrt()
    return out if weight is None else out * weight


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Standardise each sample's channel over its positions, then ``γ·x̂ + β`` per channel. With running
    statistics, training moves them toward the batch's average of the instances' mean and (unbiased) variance;
    ``use_input_stats=False`` normalises with them instead (both must be given). With ``eps=0`` a constant channel
    (σ² = 0) gives 0, as PyTorch's kernel, which takes 1/√(σ² + ε) as 0 there."""
    x = _floating_input("instance_norm", input)
    if x.ndim < 3:
        raise RuntimeError(f"instance_norm: expected an input (N, C, L…) with positions to normalise over, got "
                           f"shape {shape_text(x.shape)}")
    _check_per_channel("instance_norm", x, running_mean=running_mean, running_var=running_var, weight=weight,
                       bias=bias)
    if not use_input_stats:
        if running_mean is None or running_var is None:  # PyTorch's class and words
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false; "
                               "pass them, or use_input_stats=True to normalise with each instance's statistics")
        if x.array.dtype.char != "e":  # PyTorch's is a batch norm of (1, N·C, …): row-major whatever x's layout
            return batch_norm(x.contiguous(), running_mean, running_var, weight, bias, False, momentum, eps)
        _check_batch_norm_eps(eps, False)
        return _instance_standardize(x, *_running_statistics(running_mean, running_var,
                                                              (1, x.shape[1]) + (1,) * (x.ndim - 2), x.dtype),
                                     eps, weight, bias)
    _check_running_pair(running_mean, running_var)
    axes = tuple(range(2, x.ndim))
    count, channels = int(np.prod(x.shape[2:])), x.shape[1]
    if count == 1:  # x − mean would be 0 everywhere: the output only β
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{shape_text(x.shape)}: give each channel 2 or more positions, or normalise with running "
                         f"statistics (track_running_stats=True and model.eval())")
    mean, var = _batch_statistics(x, axes)
    refuse_unmapped_update("instance_norm", running_mean, running_var)
    if running_mean is not None:
        recorded_call(_update_running, running_mean.array, mean.array, momentum, channels)
    if running_var is not None:
        recorded_call(_update_running, running_var.array, var.array, momentum, channels, count)
    if eps == 0:  # PyTorch's kernel takes 1/√σ² as 0 where σ² = 0: a constant channel gives 0 (slope 0), not 0/0
        var = var.masked_fill(var == 0, math.inf)
    return _instance_standardize(x, mean, var, eps, weight, bias)


def _instance_standardize(x: Tensor, mean: Tensor, var: Tensor, eps: float, weight: Tensor | None,
                          bias: Tensor | None) -> Tensor:
    """``γ_c · (x − μ)/√(σ² + ε) + β_c`` of (N, C, …) ``x`` (μ, σ² per instance or per channel). float16: γ and β
    inside PyTorch's one float32 expression, one per instance (its batch norm of (1, N·C, …) with γ, β repeated N
    times), so their gradients are rounded to float16 per instance, then summed over N."""
    if x.array.dtype.char == "e":
        shape, per_channel = x.shape[:2] + (1,) * (x.ndim - 2), (1, x.shape[1]) + (1,) * (x.ndim - 2)
        return _standardize(x, mean, var, eps,
                            *(None if v is None else v.reshape(per_channel).expand(shape) for v in (weight, bias)))
    return _per_channel(x, _standardize(x, mean, var, eps, None, None), weight, bias)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """``x_c / (k + α·(1/size)·Σ_(c′ near c) x_c′²)^β`` (AlexNet's local response normalisation): each channel of
    (N, C, …) divided by the mean square of the ``size`` channels around it, ``size // 2`` before and
    ``(size − 1) // 2`` after, those beyond the edges counted as 0 (the divisor stays ``size``, as PyTorch).

    An int64 input is taken as PyTorch takes it: its mean of squares is an integer one, ``⌊Σ x_c′² / size⌋`` (its
    average pooling of int64); any other integer or bool input is refused, as PyTorch has no kernel for it."""
    x = as_tensor(input)
    if x.dtype != np.int64:
        x = _floating_input("local_response_norm", x)
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected a 3-D or higher input (N, C, …), got {shape_text(x.shape)}")
    size = check_size(size, "size", "local_response_norm")
    squares = x * x
    zeros = squares.new_tensor(np.zeros((x.shape[0], 1, *x.shape[2:]), squares.array.dtype))
    padded = cat([zeros] * (size // 2) + [squares] + [zeros] * ((size - 1) // 2), 1)
    channels = x.shape[1]
    window = sum((padded[:, start:start + channels] for start in range(1, size)), padded[:, :channels])
    mean = window / size if x.dtype.kind == "f" else window // size
    return x / (mean * alpha + k) ** beta


class LocalResponseNorm(Module):
    """``F.local_response_norm`` over ``size`` neighbouring channels; nothing learned."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = check_size(size, "size", "LocalResponseNorm")
        self.alpha, self.beta, self.k = (float_argument(value, type(self).__name__, name)
                                         for name, value in (("alpha", alpha), ("beta", beta), ("k", k)))

    def forward(self, input: Tensor) -> Tensor:
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def config(self) -> dict[str, Any]:
        return {"size": self.size, "alpha": self.alpha, "beta": self.beta, "k": self.k}


class GroupNorm(Module):
    """``F.group_norm`` with a learned γ (ones) and β (zeros, unless ``bias=False``) per channel when ``affine``."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:
        check_device(device)
        super().__init__()
        self.num_groups = check_size(num_groups, "num_groups", "GroupNorm")
        self.num_channels = check_size(num_channels, "num_channels", "GroupNorm", leads=bool(affine))
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.eps, self.affine = float(eps), bool(affine)
        _affine_parameters(self, (self.num_channels,), self.affine, float_dtype(dtype, "GroupNorm"), bias)

    def reset_parameters(self) -> None:
        """γ back to ones and β to zeros."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def config(self) -> dict[str, Any]:
        return {"num_groups": self.num_groups, "num_channels": self.num_channels, "eps": self.eps,
                "affine": self.affine, "bias": self.bias is not None}


class RMSNorm(Module):
    """``F.rms_norm`` over the last dims ``normalized_shape``, with a learned γ (ones) when ``elementwise_affine``."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, device: Any = None, dtype: Any = None) -> None:
        check_device(device)
        super().__init__()
        sizes = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        self.normalized_shape = tuple(check_size(n, "normalized_shape", "RMSNorm", leads=not position)
                                      for position, n in enumerate(sizes))
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=float_dtype(dtype, "RMSNorm")))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        """γ back to ones and β to zeros."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def config(self) -> dict[str, Any]:
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "elementwise_affine": self.elementwise_affine}


class InstanceNorm1d(Module):
    """``F.instance_norm`` of (N, C, L): each sample's channel over its positions; no γ, β or running statistics
    unless ``affine`` (β also unless ``bias=False``) / ``track_running_stats``, as in PyTorch. ``momentum=None``
    keeps the running statistics where they start (PyTorch passes momentum 0 then; there is no cumulative average
    here)."""

    shapes = (3,)
    _version = BatchNorm1d._version
    _may_be_missing = BatchNorm1d._may_be_missing

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        check_device(device)
        super().__init__()
        _statistics_settings(self, num_features, eps, momentum, affine, track_running_stats, dtype, bias)

    reset_running_stats = BatchNorm1d.reset_running_stats
    reset_parameters = BatchNorm1d.reset_parameters

    def forward(self, input: Tensor) -> Tensor:
        x = as_tensor(input)
        if x.ndim not in self.shapes and x.ndim + 1 not in self.shapes:
            raise ValueError(f"{type(self).__name__}: expected a {self.shapes[0]}-D (batched) or "
                             f"{self.shapes[0] - 1}-D input, got shape {shape_text(x.shape)}")
        unbatched = x.ndim + 1 in self.shapes
        x = x.unsqueeze(0) if unbatched else x
        if x.shape[1] != self.num_features and not self.affine:  # num_features is unused then: PyTorch warns
            warn_at_learners_line(f"input's size at dim={0 if unbatched else 1} does not match num_features. You can "
                                  "silence this warning by not passing in num_features, which is not used because "
                                  "affine=False")
        if x.shape[1] != self.num_features and (self.affine or self.track_running_stats):
            # PyTorch's types: ValueError where the affine weights do not fit, RuntimeError where only the statistics do
            error = ValueError if self.affine else RuntimeError
            raise error(f"{type(self).__name__}: expected {self.num_features} channels (dim 1), got input of "
                        f"shape {shape_text(x.shape)}")
        out = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats, self.momentum or 0.0, self.eps)
        return out.squeeze(0) if unbatched else out

    def config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum, "affine": self.affine,
                "bias": self.bias is not None, "track_running_stats": self.track_running_stats}


class InstanceNorm2d(InstanceNorm1d):
    """``InstanceNorm1d`` for images (N, C, H, W)."""

    shapes = (4,)


class InstanceNorm3d(InstanceNorm1d):
    """``InstanceNorm1d`` for volumes (N, C, D, H, W)."""

    shapes = (5,)


def _reset_affine(layer: Module) -> None:
    """γ back to ones and β to zeros (those the layer has), in place."""
    if layer.weight is not None:
        init.ones_(layer.weight)
    if getattr(layer, "bias", None) is not None:
        init.zeros_(layer.bias)


def _statistics_settings(layer: Module, num_features: int, eps: float, momentum: float | None, affine: bool,
                         track_running_stats: bool, dtype: Any, bias: bool) -> None:
    """The settings, γ and β (:func:`_affine_parameters`) and running statistics of a batch or instance norm layer,
    checked as PyTorch checks them: ``running_mean`` 0 and ``running_var`` 1 of ``num_features`` entries and
    ``num_batches_tracked`` 0 when ``track_running_stats`` (an instance norm keeps it, never counted, as PyTorch
    does, so that PyTorch's state dicts load strictly and glassgrad's load into PyTorch), else the three ``None``."""
    owner = type(layer).__name__
    layer.num_features = check_size(num_features, "num_features", owner,  # γ, β, running stats
                                    leads=bool(affine or track_running_stats))
    layer.eps = float_argument(eps, owner, "eps")
    layer.momentum = None if momentum is None else float(momentum)
    layer.affine = bool(affine)
    layer.track_running_stats = bool(track_running_stats)
    dtype = float_dtype(dtype, owner)
    _affine_parameters(layer, (layer.num_features,), layer.affine, dtype, bias)
    if layer.track_running_stats:
        layer.register_buffer("running_mean", Tensor._wrap(np.zeros(layer.num_features, dtype=dtype)))
        layer.register_buffer("running_var", Tensor._wrap(np.ones(layer.num_features, dtype=dtype)))
        layer.register_buffer("num_batches_tracked", Tensor._wrap(np.array(0, dtype=int64)))
    else:
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            layer.register_buffer(name, None)


def _affine_parameters(layer: Module, shape: tuple, affine: bool, dtype: Any, bias: bool = True) -> None:
    """γ (ones) of ``shape`` when ``affine`` and β (zeros) when ``affine`` and ``bias``; those not made are
    registered as None."""
    layer.register_parameter("weight", Parameter(np.ones(shape, dtype=dtype)) if affine else None)
    layer.register_parameter("bias", Parameter(np.zeros(shape, dtype=dtype)) if affine and bias else None)
