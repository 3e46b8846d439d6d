"""Functional forms of layers and losses (``gg.nn.functional``, imported as ``F``).

Losses follow PyTorch's definitions and reductions (``"mean"`` by default, ``"sum"``,
``"none"``; PyTorch's deprecated ``size_average`` / ``reduce``, where a loss has them there, are read as the
reduction they stand for, with its warning). ``mse_loss``, ``cross_entropy``, ``binary_cross_entropy``,
``binary_cross_entropy_with_logits``, ``l1_loss``, ``smooth_l1_loss``, ``huber_loss`` and ``kl_div``
are single fused ops of :mod:`glassgrad.ops` (stable, and one graph node each, with written
formulas a trace shows); ``nll_loss`` is composed from primitives, and so is
``scaled_dot_product_attention`` (:mod:`glassgrad.nn.attention`).

>>> import glassgrad as gg
>>> import glassgrad.nn.functional as F
>>> F.mse_loss(gg.tensor([0.1, -0.1, -0.05, -0.25]), gg.tensor([1.0, 1.0, 0.0, 1.0])).item()
0.89625...
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import ops
from ..arguments import broadcasts_to, check_dim, float_argument, int_argument, number_argument, shape_text
from ..autograd import call_recorder, current_tape, is_grad_enabled, recorded_call
from ..composed_products import _row_distances
from ..creation import _stream, arange, as_tensor, drawn, tensor_argument, zeros_like
from ..creation import one_hot as one_hot
from ..dtypes import get_default_dtype
from ..functions import linear as linear
from ..functions import relu as _relu
from ..functions import where
from ..numpy_keywords import write_out
from ..settings import warn_at_learners_line
from ..summation import nll_total
from ..tensor import Tensor, apply
from ..tensor_methods import TYPE_NAMES
from ..type_names import tensor_input
from .adaptive_max_pooling import adaptive_max_pool1d as adaptive_max_pool1d
from .adaptive_max_pooling import adaptive_max_pool1d_with_indices as adaptive_max_pool1d_with_indices
from .adaptive_max_pooling import adaptive_max_pool2d as adaptive_max_pool2d
from .adaptive_max_pooling import adaptive_max_pool2d_with_indices as adaptive_max_pool2d_with_indices
from .adaptive_max_pooling import adaptive_max_pool3d as adaptive_max_pool3d
from .adaptive_max_pooling import adaptive_max_pool3d_with_indices as adaptive_max_pool3d_with_indices
from .adaptive_max_pooling import max_pool1d_with_indices as max_pool1d_with_indices
from .adaptive_max_pooling import max_pool2d_with_indices as max_pool2d_with_indices
from .adaptive_max_pooling import max_pool3d_with_indices as max_pool3d_with_indices
from .attention import multi_head_attention_forward as multi_head_attention_forward
from .attention import scaled_dot_product_attention as scaled_dot_product_attention
from .conv import conv1d as conv1d
from .conv import conv2d as conv2d
from .conv import conv3d as conv3d
from .conv_transpose import conv_transpose1d as conv_transpose1d
from .conv_transpose import conv_transpose2d as conv_transpose2d
from .conv_transpose import conv_transpose3d as conv_transpose3d
from .ctc import ctc_negative_log_likelihoods
from .dropout import alpha_dropout as alpha_dropout
from .dropout import dropout as dropout
from .dropout import dropout1d as dropout1d
from .dropout import dropout2d as dropout2d
from .dropout import dropout3d as dropout3d
from .dropout import feature_alpha_dropout as feature_alpha_dropout
from .embedding import embedding as embedding
from .embedding import embedding_bag as embedding_bag
from .fold import fold as fold
from .fold import unfold as unfold
from .fractional_pooling import fractional_max_pool2d as fractional_max_pool2d
from .fractional_pooling import fractional_max_pool2d_with_indices as fractional_max_pool2d_with_indices
from .fractional_pooling import fractional_max_pool3d as fractional_max_pool3d
from .fractional_pooling import fractional_max_pool3d_with_indices as fractional_max_pool3d_with_indices
from .in_place import in_place_spelling, takes_inplace
from .lp_pooling import lp_pool1d as lp_pool1d
from .lp_pooling import lp_pool2d as lp_pool2d
from .lp_pooling import lp_pool3d as lp_pool3d
from .normalization import batch_norm as batch_norm
from .normalization import group_norm as group_norm
from .normalization import instance_norm as instance_norm
from .normalization import layer_norm as layer_norm
from .normalization import local_response_norm as local_response_norm
from .normalization import rms_norm as rms_norm
from .padding import pad as pad
from .pooling import adaptive_avg_pool1d as adaptive_avg_pool1d
from .pooling import adaptive_avg_pool2d as adaptive_avg_pool2d
from .pooling import adaptive_avg_pool3d as adaptive_avg_pool3d
from .pooling import avg_pool1d as avg_pool1d
from .pooling import avg_pool2d as avg_pool2d
from .pooling import avg_pool3d as avg_pool3d
from .pooling import max_pool1d as max_pool1d
from .pooling import max_pool2d as max_pool2d
from .pooling import max_pool3d as max_pool3d
from .rearrange import bilinear as bilinear
from .rearrange import channel_shuffle as channel_shuffle
from .rearrange import pixel_shuffle as pixel_shuffle
from .rearrange import pixel_unshuffle as pixel_unshuffle
from .sampling_grid import affine_grid as affine_grid
from .sampling_grid import grid_sample as grid_sample
from .unpooling import max_unpool1d as max_unpool1d
from .unpooling import max_unpool2d as max_unpool2d
from .unpooling import max_unpool3d as max_unpool3d
from .upsampling import interpolate as interpolate

REDUCTIONS = ("mean", "sum", "none")
_NUMBERS = (bool, int, float, np.generic)  # Python's and NumPy's numbers


def _check_reduction(reduction: str, name: str, choices: tuple[str, ...] = REDUCTIONS) -> str:
    """``reduction`` if it is one of ``choices``, else a ValueError; PyTorch's first name of the mean,
    ``"elementwise_mean"``, is read as ``"mean"`` with PyTorch's deprecation warning.

    PyTorch takes that name where its C++ kernels read the reduction, and refuses it in the four losses it writes
    in Python (``gaussian_nll_loss``, ``poisson_nll_loss``, ``multilabel_soft_margin_loss``,
    ``triplet_margin_with_distance_loss``); glassgrad takes it in every loss.
    """
    if reduction in choices:
        return reduction
    if reduction == "elementwise_mean":
        warn_at_learners_line("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.")
        return "mean"
    raise ValueError(f"{name}: reduction must be one of {choices}, got {reduction!r}")


def _float_pair(input: Tensor, target: object, name: str, error: type[Exception] = TypeError,
                promotes: str = "", listed: type[Exception] = AttributeError) -> tuple[Tensor, Tensor]:
    """``input`` (floating) and ``target`` of its shape, both in one dtype: the input's, or a floating target's
    where it is wider (float32 scores and float64 targets: float64, as PyTorch's arithmetic promotes them;
    ``binary_cross_entropy`` refuses such a pair first, as PyTorch's kernel: :func:`_target_in_the_inputs_dtype`).

    An input of the NumPy kinds in ``promotes`` (``'b'`` bool, ``'i'``/``'u'`` integers) against a floating target
    tensor is taken in the target's dtype, as PyTorch computes it (``l1_loss`` of int64 scores and float32 targets is
    float32); any other non-floating input is ``error``, PyTorch's class for ``name``. A list for either is ``listed``
    (:func:`tensor_input`).
    """
    if isinstance(input, Tensor) and isinstance(target, Tensor) and target.dtype.kind == "f" \
            and input.dtype.kind in promotes:
        input = input.to(target.dtype)
    input = _floating(input, name, error, listed=listed)
    if type(target) is not Tensor:  # the refusing path only: a tensor pays no call here
        target = tensor_input(target, name, "target", 2, listed)
    if target.array.shape != input.array.shape:
        raise ValueError(
            f"{name}: target shape {shape_text(target.shape)} differs from input shape "
            f"{shape_text(input.shape)}; they must match (reshape the target, e.g. y.reshape(-1, 1))"
        )
    if target.array.dtype is not input.array.dtype and target.array.dtype != input.array.dtype:
        dtype = np.promote_types(input.array.dtype, target.array.dtype) if target.dtype.kind == "f" \
            else input.array.dtype
        input, target = input.to(dtype), target.to(dtype)
    return input, target


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """Each slice along ``dim`` divided by its p-norm: ``x / max(‖x‖_p, eps)`` (a unit vector, or x/eps if tiny);
    written into ``out`` if given, as PyTorch's (outside the graph)."""
    result = input / input.norm(p, dim, keepdim=True).clamp(min=eps)
    return result if out is None else write_out("normalize", result, out)


relu = takes_inplace(_relu)


@takes_inplace
def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x`` where x ≥ 0, ``negative_slope·x`` below; a floating input only, as PyTorch (an integer one's
    ``−5·0.01`` was cut to 0 in its own dtype)."""
    return _activation_input(input, "leaky_relu").leaky_relu(negative_slope)


def _floating(input: Tensor, name: str, error: type[Exception] = TypeError, computes: str = "",
              listed: type[Exception] | None = None) -> Tensor:
    """``input`` as a tensor, if it holds floats; else ``error``, PyTorch's class for ``name`` (TypeError for most,
    RuntimeError for ``pdist``, NotImplementedError for the activations: :func:`_activation_input`).

    An input of the NumPy kinds in ``computes`` (``'b'`` bool, ``'i'``/``'u'`` integers) is taken in the default
    float dtype, where PyTorch's arithmetic promotes it so (``poisson_nll_loss``'s ``eˣ`` of int64 x is float32).
    For a loss, ``listed`` is PyTorch's class for a Python list or number given as its ``input``, which must be a
    tensor (:func:`tensor_input`).
    """
    if type(input) is not Tensor:  # the converting path only: a tensor pays no call here
        input = as_tensor(input) if listed is None else tensor_input(input, name, "input", 1, listed)
    if input.dtype.kind in computes:
        input = input.to(get_default_dtype())
    if input.dtype.kind != "f":
        raise error(f"{name}: needs a floating tensor, got {input.dtype}; convert it with x.float()")
    return input


def _activation_input(input: Tensor, name: str) -> Tensor:
    """``input``, a tensor for the activation ``name``, if it holds floats; else PyTorch's NotImplementedError (its
    kernel is built for floating dtypes only: ``"gelu" not implemented for 'Long'``), in :func:`_floating`'s words.
    A list, NumPy array or number is PyTorch's TypeError (``gelu(): argument 'input' (position 1) must be Tensor``)."""
    return _floating(input, name, NotImplementedError, listed=TypeError)


def _written_input(input: Any, name: str, listed: type[Exception] = AttributeError) -> Tensor:
    """``input`` for ``name``, an activation PyTorch writes in Python (``F.sigmoid(x)`` is ``x.sigmoid()``): a
    NumPy array or a number is its AttributeError (no such method), a list too, or ``listed`` where an operator
    meets it first (:func:`~glassgrad.type_names.tensor_input`). For its converting path only: ``if type(input) is
    not Tensor``, so a tensor pays one type check."""
    return tensor_input(input, name, "input", 1, listed, AttributeError, numbers=AttributeError)


def sigmoid(input: Tensor) -> Tensor:
    """``σ(x) = 1/(1 + e⁻ˣ)`` (``gg.sigmoid``'s tensor method; a non-tensor is PyTorch's ``F.sigmoid`` error,
    AttributeError, where ``torch.sigmoid``'s is a TypeError)."""
    if type(input) is not Tensor:
        input = _written_input(input, "sigmoid")
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """``tanh x`` (``gg.tanh``'s tensor method; a non-tensor is PyTorch's ``F.tanh`` error, AttributeError, where
    ``torch.tanh``'s is a TypeError)."""
    if type(input) is not Tensor:
        input = _written_input(input, "tanh")
    return input.tanh()


def gelu_approximation(approximate: str) -> str:
    """``approximate`` if it is one GELU knows (``"none"``: exact, with erf; ``"tanh"``), else a ValueError."""
    if approximate not in ("none", "tanh"):  # PyTorch's class (its layer refuses in forward, this one at once)
        raise RuntimeError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return approximate


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x·Φ(x)``, Φ the standard normal CDF (``approximate="tanh"``: ½x(1 + tanh(√(2/π)(x + 0.044715x³))))."""
    input = _activation_input(input, "gelu")
    return apply(ops.GELU, (input,), input.array, gelu_approximation(approximate))


@takes_inplace
def silu(input: Tensor) -> Tensor:
    """``x·σ(x)`` (also called swish); local derivative ``σ(x)·(1 + x·(1 − σ(x)))``."""
    input = _activation_input(input, "silu")
    return apply(ops.SILU, (input,), input.array)


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(1/n) Σ (ŷ − y)²``; gradient ``2(ŷ − y)/n``.

    ``weight`` (the input's shape, one per item): ``wᵢ·(ŷᵢ − yᵢ)²``, and the mean is ``Σ wᵢ(ŷᵢ − yᵢ)² / Σ wᵢ``
    (see :func:`_weight_averaged`).
    """
    reduction = _legacy_reduction(size_average, reduce, reduction, "mse_loss")
    reduction = _check_reduction(reduction, "mse_loss")
    input, target = _float_pair(input, target, "mse_loss", NotImplementedError, "biu")
    if weight is None:
        return apply(ops.MSE_LOSS, (input, target), input.array, target.array, reduction, _needs(input, target))
    items = apply(ops.MSE_LOSS, (input, target), input.array, target.array, "none", _needs(input, target))
    return _weight_averaged(items, _same_shape_weight(weight, input, "mse_loss"), reduction)


def _same_shape_weight(weight: Any, input: Tensor, name: str) -> Tensor:
    """The per-item ``weight`` of ``mse_loss``, ``l1_loss`` and ``huber_loss``: of the input's own shape (PyTorch
    does not broadcast it; a ValueError otherwise), in the input's dtype."""
    weight = as_tensor(weight, input.dtype)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{name}: weight of shape {shape_text(weight.shape)} must have the input's shape "
                         f"{shape_text(input.shape)} (one weight per item; it is not broadcast)")
    return weight.to(input.dtype)


def _weight_averaged(items: Tensor, weight: Tensor, reduction: str) -> Tensor:
    """Per-item losses times their weight; the mean divides by the weights' sum ``Σ wᵢlᵢ / Σ wᵢ``, as PyTorch's
    weighted ``mse_loss`` and ``l1_loss`` do.

    PyTorch is not consistent here: its weighted ``huber_loss`` divides by the number of items instead
    (``Σ wᵢlᵢ / n``, :func:`_weighted`), and so do ``binary_cross_entropy``'s and the logits form's ``weight``.
    """
    if reduction != "mean":
        return _weighted(items, weight, reduction)
    return (items * weight).sum() / weight.sum()


def _needs(*inputs: Tensor) -> tuple[bool, ...]:
    """Which inputs a loss row's backward computes a gradient for (the ``needs`` setting): those requiring grad.
    (A list made into a tuple: a generator's resumes cost twice as much, once per loss per step.)"""
    return tuple([tensor._requires_grad for tensor in inputs])


def _class_targets(logits: Tensor, target: object, name: str, ignore_index: int) -> Tensor:
    """``target`` checked against 2-D ``logits`` (N, C): class indices (N,) in [0, C) or ``ignore_index``, or
    probabilities (N, C) in the logits' dtype, or their own where it is wider (the logits are then lifted to it)."""
    target = as_tensor(target)
    n, classes = logits.shape
    if target.dtype.kind == "f":
        if target.shape == (n,):
            raise RuntimeError(
                f"{name}: targets of shape ({n},) are read as class indices, which must be integers (int64), "
                f"but got {target.dtype}; convert them with y.long() (float targets are class probabilities, "
                f"of the logits' shape {shape_text(logits.shape)})"
            )
        if target.shape != logits.shape:
            raise RuntimeError(
                f"{name}: probability targets must have the logits' shape {shape_text(logits.shape)}, "
                f"got {shape_text(target.shape)}"
            )
        return target.to(np.promote_types(logits.array.dtype, target.array.dtype))
    if target.array.dtype not in (np.int64, np.uint8):  # PyTorch takes no other integers: "Long or Byte"
        raise RuntimeError(f"{name}: targets must be class indices (int64, or uint8) or probabilities (float), "
                           f"got {target.dtype}; convert class indices with y.long()")
    if target.array.shape != (n,):  # PyTorch: a RuntimeError for a target of more dims, a ValueError for another length
        raise (RuntimeError if target.ndim > 1 else ValueError)(
            f"{name}: expected {n} class indices (shape ({n},)) for logits of shape "
            f"{shape_text(logits.shape)}, got target shape {shape_text(target.shape)}"
        )
    _check_labels(target.array, classes, ignore_index, name)
    return target


def _check_labels(labels: np.ndarray, classes: int, ignore_index: int, name: str) -> None:
    """Refuse a class label outside [0, classes) that is not ``ignore_index`` (it would pick another row's score)."""
    outside = (labels < 0) | (labels >= classes)
    if labels.size and outside.any() and (labels[outside] != ignore_index).any():
        raise ops.label_out_of_range(name, labels[outside & (labels != ignore_index)][0], classes, ignore_index)


def _check_labels_on_replay(target: Tensor, classes: int, ignore_index: int, name: str) -> None:
    """Make the label check one kernel of a compiled step being captured, so that its replays check each batch's
    labels too (the ops that pick scores by label do not: −1 would read the last class). The fused
    cross-entropy row checks them itself."""
    if call_recorder() is not None and target.dtype.kind in "iu":
        recorded_call(_check_labels, target.array, classes, ignore_index, name)


def _class_layout(input: object, target: object, name: str,
                  scalar_error: type[Exception] = RuntimeError) -> tuple[Tensor, Any, tuple | None]:
    """PyTorch's layouts of class scores as rows (M, C): ``(C,)`` one sample, ``(N, C)``, or ``(N, C, d₁, …)``
    with the classes on dim 1 (a sequence, an image); the targets to match, and the shape a ``"none"``
    reduction gives back (None: the rows' own). ``scalar_error``: the caller's PyTorch class for 0-d scores."""
    logits = as_tensor(input)
    if logits.ndim == 0:
        raise scalar_error(f"{name}: expected class scores of shape (C,), (N, C) or (N, C, d1, ...), got a scalar")
    if type(target) is not Tensor:  # the converting path only: a tensor pays no call here
        target = tensor_input(target, name, "target", 2, TypeError)
    if logits.ndim >= 2 and (target.ndim == 0 or target.shape[0] != logits.shape[0]):  # PyTorch's ValueError
        raise ValueError(f"{name}: the scores hold a batch of {logits.shape[0]} (dim 0 of "
                         f"{shape_text(logits.shape)}) but the target of shape {shape_text(target.shape)} does not")
    if logits.ndim == 2:
        return logits, target, None
    floating = target.dtype.kind == "f" and target.ndim == logits.ndim
    if logits.ndim == 1:
        if not floating and name == "cross_entropy" and target.shape == logits.shape:
            raise RuntimeError(f"{name}: a target of the scores' shape {shape_text(logits.shape)} holds class "
                               f"probabilities, which must be floats, got {target.dtype}; one class index has "
                               "shape () or (1,)")
        if not floating and (target.ndim > 1 or target.array.size != 1):  # PyTorch: ValueError for more labels
            raise (RuntimeError if target.ndim > 1 else ValueError)(
                f"{name}: scores of shape {shape_text(logits.shape)} are one sample, so the target is one class "
                f"index (shape () or (1,)), got target shape {shape_text(target.shape)}")
        return logits.unsqueeze(0), target.unsqueeze(0) if floating else target.reshape(1), ()
    classes = logits.shape[1]
    expected = logits.shape if floating else (logits.shape[0], *logits.shape[2:])
    if tuple(target.shape) != tuple(expected):
        raise RuntimeError(f"{name}: for scores of shape {shape_text(logits.shape)} (classes on dim 1) the target "
                         f"must have shape {shape_text(expected)}, got {shape_text(target.shape)}")
    rows = logits.movedim(1, -1).reshape(-1, classes)
    target = target.movedim(1, -1).reshape(-1, classes) if floating else target.reshape(-1)
    return rows, target, (logits.shape[0], *logits.shape[2:])


def _legacy_reduction(size_average: Any, reduce: Any, reduction: str, name: str) -> str:
    """PyTorch's older pair of flags, read as the ``reduction`` they stand for (they override it when given).

    An unset flag counts as True; ``reduce=False`` → ``"none"`` (one loss per item), else
    ``size_average=False`` → ``"sum"``, else ``"mean"``. Warns (``UserWarning``) with the new spelling, as PyTorch does.
    """
    if size_average is None and reduce is None:
        return reduction
    for flag, value in (("size_average", size_average), ("reduce", reduce)):
        if value is not None and not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name}: {flag} must be True, False or None, got {value!r}; give the reduction by "
                            "keyword instead: reduction='mean', 'sum' or 'none'")
    averaged, reduced = size_average is None or bool(size_average), reduce is None or bool(reduce)
    legacy = "mean" if averaged and reduced else "sum" if reduced else "none"
    warn_at_learners_line(f"size_average and reduce args will be deprecated, please use reduction='{legacy}' instead.")
    return legacy


def _class_weight(weight: Any, logits: Tensor, name: str) -> Tensor | None:
    if weight is None:
        return None
    weight = as_tensor(weight, logits.dtype)
    if weight.shape != (logits.shape[1],) or weight.dtype.kind != "f":
        raise RuntimeError(f"{name}: weight must be a float tensor with one entry per class, shape "
                         f"({logits.shape[1]},); got {shape_text(weight.shape)} {weight.dtype}")
    return weight.to(logits.dtype)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax + negative log-likelihood in one op, from raw scores (logits).

    ``L = −(1/N) Σᵢ log softmax(zᵢ)[yᵢ]`` for class indices ``y`` (or ``−Σ p·log softmax(z)``
    for probability targets). Its gradient is the famous ``∂L/∂z = (softmax(z) − onehot(y))/N``
    = ``(ŷ − y)/N``.

    PyTorch's options: scores ``(C,)``, ``(N, C)`` or ``(N, C, d₁, …)``; ``ignore_index`` (a row of that class
    counts for nothing, and the mean is over the rest); ``weight`` (wᶜ per class: row i counts w_yᵢ, and the
    mean divides by Σᵢ w_yᵢ); ``label_smoothing`` ε ≤ 1 (the target becomes (1 − ε)·onehot(y) + ε/C; as in
    PyTorch, ε < 0 counts as ε = 0). Without ``weight`` and ε the loss is the one fused row; with them, or with
    probability targets that require grad (``∂L/∂y = −log softmax(z)/N``, which the row does not give), it is
    made of ``log_softmax`` and sums.
    """
    name = "cross_entropy"
    reduction = _legacy_reduction(size_average, reduce, reduction, name)
    reduction = _check_reduction(reduction, name)
    smoothing = _label_smoothing(label_smoothing, name)
    scores = _floating(input, name, NotImplementedError, listed=TypeError)
    if scores.ndim and scores.shape[min(1, scores.ndim - 1)] == 0:  # no class: PyTorch's loss is NaN; here rows
        # of width 0 raised ZeroDivisionError, and (N, 0, d) a reshape's refusal
        raise RuntimeError(f"{name}: the scores {shape_text(scores.shape)} have no class (their class dim is 0): "
                           "there is nothing to score; give the scores at least one class")
    logits, target, shape = _class_layout(scores, target, name)
    ignore_index = int_argument(ignore_index, name, "ignore_index")  # never 1.5 cut to 1
    target = _class_targets(logits, target, name, ignore_index)
    if target.dtype.kind == "f" and target.array.dtype != logits.array.dtype:  # float32 scores, float64 probabilities
        logits = logits.to(target.array.dtype)
    if target.dtype.kind == "f" and ignore_index != -100:
        raise RuntimeError(f"{name}: ignore_index is not supported for probability (float) targets, got "
                         f"ignore_index={ignore_index}; give a probability of 0 to what should not count instead")
    weight = _class_weight(weight, logits, name)
    if weight is None and smoothing == 0 and not target._requires_grad \
            and not (_tracing() and _any_ignored(target, ignore_index)):
        loss = apply(ops.CROSS_ENTROPY, (logits, target), logits.array, target.array, reduction, ignore_index)
    else:
        _check_labels_on_replay(target, logits.shape[1], ignore_index, name)
        loss = _composed_cross_entropy(log_softmax(logits, 1), target, weight, ignore_index, reduction, smoothing)
    return loss if shape is None or reduction != "none" else loss.reshape(shape)


def _label_smoothing(value: Any, name: str) -> float:
    """PyTorch's reading of ``label_smoothing`` ε: a number or a 0-d tensor, refused above 1; only ε > 0 smooths,
    so a negative ε (or NaN) is ε = 0, as in PyTorch (which checks only ε ≤ 1, and says nothing of the rest): here a
    UserWarning says so, since ``label_smoothing=-0.1`` is a typo whose smoothing never happens."""
    smoothing = float_argument(value, name, "label_smoothing")
    if smoothing > 1:
        raise RuntimeError(f"{name}: label_smoothing must be in [0, 1], got {smoothing:g}")
    if smoothing > 0:
        return smoothing
    if smoothing != 0:  # negative, or NaN
        warn_at_learners_line(f"{name}: label_smoothing {smoothing:g} is not in [0, 1], so it smooths nothing (the "
                              "plain loss, as PyTorch computes it); give a value in [0, 1], such as 0.1")
    return 0.0


def _tracing() -> bool:
    """Whether a trace (not a compiled step's capture) records this call.

    Only then may a loss pick its ops by the target's values: a trace's loss view writes the fused
    cross-entropy row's items for every row, so a call with ignored rows is made of ops there, and
    ``nll_loss`` without ignored rows is written in its short form. A compiled step replays the same ops
    whatever each batch holds, so outside a trace the ops never depend on the values.
    """
    return current_tape() is not None and call_recorder() is None


def _any_ignored(target: Tensor, ignore_index: int) -> bool:
    return target.dtype.kind != "f" and bool((target.array == ignore_index).any())


def _composed_cross_entropy(log_probs: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                            reduction: str, smoothing: float) -> Tensor:
    """Cross-entropy with a class weight or label smoothing, from log-probabilities (N, C), as PyTorch defines it."""
    classes = log_probs.shape[1]
    if target.dtype.kind == "f":  # probabilities: smoothed toward uniform, weighted per class, mean over rows
        if smoothing:
            target = target * (1 - smoothing) + smoothing / classes
        weighted = log_probs * target if weight is None else log_probs * (target * weight)
        per_row = -weighted.sum(1)
        return per_row if reduction == "none" else per_row.sum() if reduction == "sum" else per_row.mean()
    loss = _nll(log_probs, target, weight, ignore_index, reduction)
    if not smoothing:
        return loss
    kept = target != ignore_index
    per_row = where(kept, -(log_probs if weight is None else log_probs * weight).sum(1), 0.0)  # not ·0: −∞·0 is NaN
    if reduction == "sum":
        per_row = per_row.sum()
    elif reduction == "mean":  # rows none of which counts (all ignored, or all of classes weighted 0): 0, as _nll's
        counts = kept.to(log_probs.dtype) if weight is None else weight[where(kept, target, 0)] * kept
        per_row = where(counts.sum() != 0, per_row.sum(), 0.0) / _total(counts)
    return loss * (1 - smoothing) + per_row * (smoothing / classes)


def _nll(log_probs: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str) -> Tensor:
    """``−w_yᵢ · log_probs[i, yᵢ]`` per row, 0 where yᵢ is ``ignore_index``; the mean divides by Σᵢ w_yᵢ over the
    rows that count (their number, without a weight).

    What the labels decide (each row's class, its count negated, which rows are ignored, the total) is one NumPy call
    (:func:`_nll_counts`, one kernel of a compiled step); the graph holds 5 nodes: gather, times the counts, the
    ignored rows set to 0 (a −∞ or NaN there times a count of 0 gave NaN), Σ, ÷ the total.
    """
    _refuse_a_gradient(weight, "nll_loss_forward", "weight")
    if weight is None and _tracing() and not _any_ignored(target, ignore_index):  # the short form, in a trace
        picked = -log_probs[np.arange(len(target.array)), target.array]
        return picked if reduction == "none" else picked.sum() if reduction == "sum" else picked.mean()
    classes, counts, ignored, total = map(Tensor._wrap, recorded_call(
        _nll_counts, target.array, None if weight is None else weight.array, ignore_index, log_probs.array.dtype))
    per_row = (log_probs.gather(1, classes) * counts).masked_fill(ignored, 0.0)
    if reduction == "none":
        return per_row.reshape(-1)
    # float16: PyTorch's kernel adds the rows in float16 partial sums (ops.NLL_SUM)
    summed = per_row.sum() if per_row.array.dtype.char != "e" else apply(ops.NLL_SUM, (per_row, ignored),
                                                                              per_row.array, ignored.array)
    return summed if reduction == "sum" else summed / total


def _nll_counts(labels: np.ndarray, weight: np.ndarray | None, ignore_index: int,
                dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row's class (N, 1) (an ignored row reads class 0, then counts 0), its count negated, −w_yᵢ or −1 (0 if
    ignored; the loss's minus sign, exact), whether it is ignored (N, 1), and what a mean divides by: :func:`_total`'s
    rule."""
    kept = labels != ignore_index
    classes = np.where(kept, labels, 0).astype(np.int64, copy=False)
    counts = kept.astype(dtype) if weight is None else weight[classes] * kept
    # float16 weights: added as PyTorch's kernel adds them (its count of rows is rounded to float16 as here)
    with np.errstate(over="ignore"):  # a float16 count past 65504 rows is inf, as PyTorch's, without NumPy's warning
        total = nll_total(counts[kept], kept) if weight is not None and counts.dtype.char == "e" else \
            counts.sum(dtype=counts.dtype)
    return (classes.reshape(-1, 1), -counts.reshape(-1, 1), ~kept.reshape(-1, 1),
            np.asarray(total + (total == 0 and counts.size > 0), dtype=counts.dtype))


def _total(counts: Tensor) -> Tensor:
    """What a mean over rows divides by: Σ of their counts (weights), or 1 where there are rows but none counts,
    so that a batch whose rows are all ignored has loss 0 and gradient 0 (PyTorch: loss NaN, gradient 0). An empty
    batch divides by 0: its mean is NaN, as PyTorch's (and the fused cross-entropy row's)."""
    total = counts.sum()
    return total + (total == 0).to(total.dtype) if counts.numel() else total


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities: ``L = −(1/N) Σᵢ input[i, yᵢ]``.

    The layouts, ``weight`` and ``ignore_index`` as in :func:`cross_entropy`.
    """
    name = "nll_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction, name)
    reduction = _check_reduction(reduction, name)
    log_probs, target, shape = _class_layout(_floating(input, name, NotImplementedError, listed=TypeError), target,
                                               name, scalar_error=ValueError)  # PyTorch's nll_loss: ValueError
    if as_tensor(target).dtype.kind == "f":
        raise RuntimeError(f"{name}: targets must be class indices (int64), got {as_tensor(target).dtype}; "
                        "convert them with y.long()")
    ignore_index = int_argument(ignore_index, name, "ignore_index")
    target = _class_targets(log_probs, target, name, ignore_index)
    _check_labels_on_replay(target, log_probs.shape[1], ignore_index, name)
    loss = _nll(log_probs, target, _class_weight(weight, log_probs, name), ignore_index, reduction)
    return loss if shape is None or reduction != "none" else loss.reshape(shape)


def _floating_target(target: object, name: str) -> None:
    """The binary cross-entropies take labels as the probabilities they are, floating: PyTorch refuses an integer
    or bool target tensor (the other losses convert it), so a ``y`` left as int64 fails here as it does there."""
    if isinstance(target, Tensor) and target.dtype.kind in "biu":
        raise RuntimeError(f"{name}: the target must be floating (labels 0. and 1. as probabilities), got "
                           f"{target.dtype}; convert it with y.float()")


def _target_in_the_inputs_dtype(input: object, target: object, name: str) -> None:
    """PyTorch's ``binary_cross_entropy`` kernel takes a floating target only in the input's dtype (the other losses,
    ``binary_cross_entropy_with_logits`` among them, promote the pair): float32 probabilities with float64 labels
    (``torch.from_numpy(y)``) raise its 'Found dtype Double but expected Float'."""
    if (isinstance(input, Tensor) and isinstance(target, Tensor) and input.dtype.kind == target.dtype.kind == "f"
            and input.dtype != target.dtype):
        found, expected = (TYPE_NAMES.get(t.dtype.name, t.dtype.name) for t in (target, input))
        raise RuntimeError(f"{name}: Found dtype {found} but expected {expected}: the target is {target.dtype} and "
                           f"the input {input.dtype}; convert the target with y.to(p.dtype)")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``−mean(y·log p + (1 − y)·log(1 − p))`` for probabilities ``p``, one fused op as in PyTorch.

    The logs are clamped at −100 and the gradient ``(p − y)/(p(1 − p))/n`` has its denominator kept at least
    PyTorch's ε (:data:`glassgrad.ops.LOSS_EPSILON`), so a saturated ``p`` of exactly 0 or 1 gives finite numbers,
    never NaN.
    ``weight`` (broadcast to the input) scales each item's loss: the row's items times it, then reduced.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction, "binary_cross_entropy")
    reduction = _check_reduction(reduction, "binary_cross_entropy")
    _floating_target(target, "binary_cross_entropy")
    _target_in_the_inputs_dtype(input, target, "binary_cross_entropy")
    probs, target = _float_pair(input, target, "binary_cross_entropy", RuntimeError)
    recorded_call(_check_probabilities, probs.array, target.array)  # a kernel of a compiled step: read at each call
    _refuse_a_gradient(weight, "binary_cross_entropy", "weight")
    if weight is None:
        return apply(ops.BCE, (probs, target), probs.array, target.array, reduction, _needs(probs, target))
    items = apply(ops.BCE, (probs, target), probs.array, target.array, "none", _needs(probs, target))
    return _weighted(items, _item_weight(weight, probs, "binary_cross_entropy", "weight"), reduction)


def _check_probabilities(probs: np.ndarray, target: np.ndarray) -> None:
    """Refuse an input or target of ``binary_cross_entropy`` outside [0, 1] (NaN is not in it).

    Run through :func:`~glassgrad.autograd.recorded_call`: a compiled step used to check only the values its
    captures met, so a later batch whose target was 2, -1 or NaN trained on without a word (eager refuses it); the
    check is now one of the step's kernels, refusing it at every call as eager does.
    """
    if not ((probs >= 0) & (probs <= 1)).all():  # NaN fails both tests
        raise RuntimeError("binary_cross_entropy: input must hold probabilities in [0, 1] (NaN is not one); "
                           "for raw scores use binary_cross_entropy_with_logits")
    if not ((target >= 0) & (target <= 1)).all():
        raise RuntimeError("binary_cross_entropy: target must hold probabilities (labels) in [0, 1] (NaN is not "
                           "one); for labels such as -1/1 map them to 0/1 first")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable op; gradient ``(σ(z) − y)/n``.

    ``weight`` scales each item's loss; ``pos_weight`` (broadcast along the last dim: one per class) scales
    the positive term, ``−(w₊·y·log σ(z) + (1 − y)·log σ(−z))`` (``1 − σ(z) = σ(−z)``), made of ops with
    ``log σ`` its own stable row (slope ``σ(−z)``, smooth through z = 0). Its slope for the target is PyTorch's
    ``log σ(−z) − w₊·log σ(z)``: +∞ at z = −∞, where PyTorch's form of the loss, ``(1 − y)·z + (1 + (w₊ − 1)·y)·
    (−log σ(z))``, would give ∞ − ∞ = NaN (as its loss there is NaN; this one's is the limit, ∞ for y > 0).
    """
    name = "binary_cross_entropy_with_logits"
    reduction = _legacy_reduction(size_average, reduce, reduction, name)
    reduction = _check_reduction(reduction, name)
    _floating(input, name, NotImplementedError, listed=AttributeError)  # the scores first, as PyTorch checks them
    _floating_target(target, name)
    logits, target = _float_pair(input, target, name, NotImplementedError)
    _refuse_a_gradient(weight, name, "weight")
    _refuse_a_gradient(pos_weight, name, "pos_weight")
    if weight is None and pos_weight is None:
        return apply(ops.BCE_WITH_LOGITS, (logits, target), logits.array, target.array, reduction,
                     _needs(logits, target))
    if pos_weight is None:
        items = apply(ops.BCE_WITH_LOGITS, (logits, target), logits.array, target.array, "none",
                      _needs(logits, target))
    else:
        positive_weight = _item_weight(pos_weight, logits, name, "pos_weight")
        items = -(positive_weight * target * logsigmoid(logits) + (1 - target) * logsigmoid(-logits))
    return _weighted(items, None if weight is None else _item_weight(weight, logits, name, "weight"), reduction)


def _refuse_a_gradient(argument: Any, function: str, name: str) -> None:
    """PyTorch's refusal of an argument it does not differentiate (a loss's class or item weights) that requires
    grad while gradients are recorded."""
    if isinstance(argument, Tensor) and argument._requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to argument '{name}'. "
                           f"This input cannot have requires_grad True.; pass {name}.detach()")


def _item_weight(weight: Any, input: Tensor, name: str, argument: str) -> Tensor:
    """A loss's per-item ``weight`` (or ``pos_weight``), checked to broadcast to the input, in its dtype."""
    weight = as_tensor(weight, input.dtype)
    if not broadcasts_to(tuple(weight.shape), tuple(input.shape)):
        raise RuntimeError(f"{name}: {argument} of shape {shape_text(weight.shape)} does not broadcast to the input's "
                         f"shape {shape_text(input.shape)}; give one entry per item, or per class on the last dim")
    return weight.to(input.dtype)


def _weighted(items: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    """Per-item losses times their weight, then reduced (the mean is over the items, as in PyTorch)."""
    if weight is not None:
        items = items * weight
    return items if reduction == "none" else items.sum() if reduction == "sum" else items.mean()


# --- issue 11: ELU, Softplus, L1 / smooth L1 / Huber / KL losses ------------------------------

@takes_inplace
def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``x`` where ``x > 0``, else ``α·(eˣ − 1)``; local derivative 1, or ``α·eˣ`` (``α`` at the kink x = 0)."""
    input = _activation_input(input, "elu")
    return apply(ops.ELU, (input,), input.array, _finite_number(alpha, "elu", "alpha"))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``(1/β)·ln(1 + e^(β·x))``, a smooth ReLU; the identity where ``β·x > threshold`` (as PyTorch).

    Local derivative ``σ(β·x)`` (1 above the threshold).
    """
    input = _activation_input(input, "softplus")
    beta = _finite_number(beta, "softplus", "beta")
    if beta == 0:
        raise ValueError("softplus: beta must be nonzero (the curve is (1/beta)·ln(1 + exp(beta·x))); got 0")
    return apply(ops.SOFTPLUS, (input,), input.array, beta, _finite_number(threshold, "softplus", "threshold"))


def _finite_number(value: object, name: str, argument: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value):
        raise TypeError(f"{name}: {argument} must be a finite number, got {value!r}")
    return float(value)


def _pair_loss(row: ops.Op, input: Tensor, target: Tensor, reduction: str) -> Tensor:
    return apply(row, (input, target), input.array, target.array, reduction, _needs(input, target))


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``(1/n) Σ |ŷ − y|``; gradient ``sign(ŷ − y)/n`` (0 at the kink ŷ = y, as PyTorch).

    ``weight`` (the input's shape): ``wᵢ·|ŷᵢ − yᵢ|``, the mean ``Σ wᵢ|ŷᵢ − yᵢ| / Σ wᵢ`` (:func:`_weight_averaged`).
    """
    reduction = _legacy_reduction(size_average, reduce, reduction, "l1_loss")
    reduction = _check_reduction(reduction, "l1_loss")
    input, target = _float_pair(input, target, "l1_loss", RuntimeError, "iu")
    if weight is None:
        return _pair_loss(ops.L1_LOSS, input, target, reduction)
    return _weight_averaged(_pair_loss(ops.L1_LOSS, input, target, "none"),
                            _same_shape_weight(weight, input, "l1_loss"), reduction)


def _scaled_unit_loss(row: ops.Op, input: Tensor, target: Tensor, reduction: str, scale: float,
                      factor: float) -> Tensor:
    """``factor · row(input/scale, target/scale)``: a smooth L1 or Huber loss from its unit row."""
    if scale == 1:
        return _pair_loss(row, input, target, reduction)
    return _pair_loss(row, input / scale, target / scale, reduction) * factor


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """Smooth L1: ``½d²/β`` where ``|d| < β``, else ``|d| − ½β`` (``d = ŷ − y``); gradient ``clamp(d/β, −1, 1)``.

    Quadratic near 0, linear beyond β, so one outlier cannot dominate. Its gradient is continuous;
    the second derivative jumps at ``|d| = β``. ``β = 0`` is the L1 loss (as in PyTorch). The row is
    written at β = 1; another β is ``β·smooth_l1(ŷ/β, y/β)``, and the trace shows those two scalings.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction, "smooth_l1_loss")
    reduction = _check_reduction(reduction, "smooth_l1_loss")
    input, target = _float_pair(input, target, "smooth_l1_loss", NotImplementedError, "biu")
    beta = _finite_number(beta, "smooth_l1_loss", "beta")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must be >= 0 (the width of the quadratic part), got {beta:g}")
    if beta == 0:
        return _pair_loss(ops.L1_LOSS, input, target, reduction)
    return _scaled_unit_loss(ops.SMOOTH_L1_LOSS, input, target, reduction, beta, beta)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Huber: ``½d²`` where ``|d| < δ``, else ``δ·(|d| − ½δ)`` (``d = ŷ − y``); gradient ``clamp(d, −δ, δ)``.

    ``huber(δ) = δ·smooth_l1(β = δ)``. The gradient is continuous; the second derivative jumps at
    ``|d| = δ``. The row is written at δ = 1; another δ is ``δ²·huber(ŷ/δ, y/δ)``.
    ``weight`` (the input's shape): ``wᵢ·huberᵢ``, and the mean is ``Σ wᵢ·huberᵢ / n`` over the n items, as
    PyTorch (unlike its weighted ``mse_loss`` and ``l1_loss``, which divide by ``Σ wᵢ``).
    """
    reduction = _check_reduction(reduction, "huber_loss")
    input, target = _float_pair(input, target, "huber_loss", NotImplementedError)
    delta = _finite_number(delta, "huber_loss", "delta")
    if delta <= 0:
        raise RuntimeError(f"huber_loss: delta must be > 0 (where the loss turns from quadratic to linear), "
                         f"got {delta:g}")
    if weight is None:
        return _scaled_unit_loss(ops.HUBER_LOSS, input, target, reduction, delta, delta * delta)
    items = _scaled_unit_loss(ops.HUBER_LOSS, input, target, "none", delta, delta * delta)
    return _weighted(items, _same_shape_weight(weight, input, "huber_loss"), reduction)


KL_REDUCTIONS = (*REDUCTIONS, "batchmean")
KL_MEAN_WARNING = ("reduction: 'mean' divides the total loss by both the batch size and the support size."
                   "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                   "'mean' will be changed to behave the same as 'batchmean' in the next major release.")  # PyTorch's


def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL divergence ``Σ y·(ln y − x)`` of log-probabilities ``x`` (e.g. from ``log_softmax``) from targets ``y``.

    ``log_target=True``: the target is given as log-probabilities ``t`` too, ``Σ eᵗ·(t − x)``.
    ``reduction="batchmean"`` divides the sum by the batch size (the KL divergence per sample,
    what the maths means); ``"mean"`` divides by the number of entries, as PyTorch does.
    Gradient: ``∂L/∂x = −y`` (over the count).
    ``reduction="mean"`` given as such (not read from ``size_average``/``reduce``) warns, as PyTorch's does, that it
    is not the per-sample KL ``"batchmean"`` gives.
    """
    if reduction == "mean" and size_average is None and reduce is None:
        warn_at_learners_line(KL_MEAN_WARNING)
    return kl_div_unwarned(input, target, _legacy_reduction(size_average, reduce, reduction, "kl_div"), log_target)


def kl_div_unwarned(input: Tensor, target: Tensor, reduction: str, log_target: bool) -> Tensor:
    """:func:`kl_div` without its warning on ``"mean"``: PyTorch's top-level ``torch.kl_div``, whose reduction is a
    number, does not give it (:mod:`glassgrad.functional_names`). An integer or bool target tensor is refused with
    PyTorch's RuntimeError ("Integral inputs not supported"), not read as the probabilities 0 and 1."""
    reduction = _check_reduction(reduction, "kl_div", KL_REDUCTIONS)
    if isinstance(target, Tensor):
        _floating(target, "kl_div", RuntimeError)
    input, target = _float_pair(input, target, "kl_div", RuntimeError, listed=TypeError)
    row = ops.KL_DIV_LOG_TARGET if log_target else ops.KL_DIV
    if reduction != "batchmean":
        return _pair_loss(row, input, target, reduction)
    total = _pair_loss(row, input, target, "sum")
    return total / input.shape[0] if input.ndim else total


# --- activations: rows of their own (the hard ones: PyTorch's corners), or made of the rows above ----------

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805  # the self-normalising constants


@takes_inplace
def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``x`` clipped to ``[min_val, max_val]``; slope 1 strictly inside, 0 outside and at the corners.

    An integer input stays integer, as PyTorch's (``relu6`` of an int64 tensor): see :func:`_integer_bounds`.
    """
    x = input if type(input) is Tensor else tensor_input(input, "hardtanh", "input", 1, TypeError)
    min_val, max_val = number_argument(min_val, "hardtanh", "min_val"), number_argument(max_val, "hardtanh", "max_val")
    if min_val > max_val:  # PyTorch's check: otherwise every entry would come out max_val
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val={min_val}, "
                         f"max_val={max_val}")
    if x.dtype.kind != "f":
        min_val, max_val = _integer_bounds(x, min_val, max_val)
    return apply(ops.HARDTANH, (x,), x.array, min_val, max_val)


def _integer_bounds(x: Tensor, min_val: float, max_val: float) -> tuple[int, int]:
    """hardtanh's bounds for an integer ``x``, as PyTorch's: truncated to ints (−1.5 → −1), each fitting the dtype,
    none negative for an unsigned one; a bool ``x`` is refused (PyTorch's RuntimeError)."""
    if x.dtype.kind == "b":
        _floating(x, "hardtanh", RuntimeError)
    if x.dtype.kind == "u" and min(min_val, max_val) < 0:
        raise RuntimeError(f"hardtanh: cannot clip an unsigned {x.dtype} tensor to negative limits "
                           f"(min_val={min_val}); convert it with x.long() or give limits ≥ 0")
    info = np.iinfo(x.array.dtype)
    bounds = int(min_val), int(max_val)
    if not all(info.min <= bound <= info.max for bound in bounds):
        raise RuntimeError(f"hardtanh: min_val={min_val}, max_val={max_val} do not fit {x.dtype} "
                           f"([{info.min}, {info.max}])")
    return bounds


@takes_inplace
def relu6(input: Tensor) -> Tensor:
    """``min(max(0, x), 6)``."""
    return hardtanh(input, 0.0, 6.0)


@takes_inplace
def hardsigmoid(input: Tensor) -> Tensor:
    """``x/6 + ½`` clipped to ``[0, 1]``: a piecewise-linear σ."""
    x = _activation_input(input, "hardsigmoid")
    return apply(ops.HARDSIGMOID, (x,), x.array)


@takes_inplace
def hardswish(input: Tensor) -> Tensor:
    """``x · hardsigmoid(x)``."""
    x = _activation_input(input, "hardswish")
    return apply(ops.HARDSWISH, (x,), x.array)


@takes_inplace
def mish(input: Tensor) -> Tensor:
    """``x · tanh(softplus(x))``, one row: its slope ``t + x·σ(x)·(1 − t²)`` with ``t = tanh(softplus(x))``."""
    x = _activation_input(input, "mish")
    return apply(ops.MISH, (x,), x.array)


@takes_inplace
def selu(input: Tensor) -> Tensor:
    """``λ·elu(x, α)`` with ``λ ≈ 1.0507``, ``α ≈ 1.6733`` (the constants that keep activations normalised)."""
    return elu(input, _SELU_ALPHA) * _SELU_SCALE


@takes_inplace
def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``max(0, x) + min(0, α·(e^(x/α) − 1))``, one row: ``x`` where ``x > 0``, else ``α·(e^(x/α) − 1)``, for
    either sign of α (for α < 0 that branch is ≥ 0 above 0 and ≤ 0 below it, so x's sign picks, not the value's).
    Local derivative 1, or ``e^(x/α)`` at and below 0 (1 at 0, as PyTorch).
    """
    alpha = _finite_number(alpha, "celu", "alpha")
    if alpha == 0:  # PyTorch's RuntimeError (its ZeroDivisionError, wrapped)
        raise RuntimeError("celu: alpha must be nonzero (the curve is α·(exp(x/α) − 1) below 0); got 0")
    x = _activation_input(input, "celu")
    return apply(ops.CELU, (x,), x.array, alpha)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)`` (an integer ``x`` gives floats, as PyTorch's)."""
    x = input if type(input) is Tensor else _written_input(input, "softsign")
    if x.dtype.kind == "b":
        _floating(x, "softsign")
    return x / (x.abs() + 1)


def logsigmoid(input: Tensor) -> Tensor:
    """``ln σ(x) = −ln(1 + e⁻ˣ)``, one row (no overflow for large |x|); its slope is ``σ(−x)``."""
    input = _activation_input(input, "logsigmoid")
    return apply(ops.LOG_SIGMOID, (input,), input.array)


def tanhshrink(input: Tensor) -> Tensor:
    """``x − tanh(x)`` (an integer ``x`` gives floats, as PyTorch's)."""
    x = input if type(input) is Tensor else _written_input(input, "tanhshrink")
    if x.dtype.kind == "b":
        _floating(x, "tanhshrink")
    return x - x.tanh()


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x − λ·sign(x)`` where ``|x| > λ``, else 0 (one row, ``softshrink``: slope 0 there even for an infinite
    upstream, as PyTorch). λ may be a 0-d tensor, as PyTorch's Scalar."""
    x = _activation_input(input, "softshrink")
    lambd = float(number_argument(lambd, "softshrink", "lambd"))
    if not 0 <= lambd <= np.finfo(x.array.dtype).max:  # PyTorch's check (a NaN too): below 0 the pieces would cross
        raise RuntimeError(f"softshrink: lambd must be in [0, {np.finfo(x.array.dtype).max:g}] for {x.dtype}, got "
                           f"{lambd}")
    return apply(ops.SOFTSHRINK, (x,), x.array, lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > λ``, else 0. λ may be a 0-d tensor, as PyTorch's Scalar (the backward read it as an
    array: AttributeError 'astype')."""
    x = _activation_input(input, "hardshrink")
    lambd = float(number_argument(lambd, "hardshrink", "lambd"))
    return apply(ops.HARDSHRINK, (x,), x.array, lambd)


@takes_inplace
def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``."""
    x = input if type(input) is Tensor else tensor_input(input, "threshold", "input", 1, TypeError)
    threshold = number_argument(threshold, "threshold", "threshold")
    value = number_argument(value, "threshold", "value")
    return apply(ops.THRESHOLD, (x,), x.array, threshold, value)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit: the first half of ``dim`` times σ of the second half."""
    x = _floating(input if type(input) is Tensor else _written_input(input, "glu"), "glu", NotImplementedError)
    size = x.shape[check_dim(x, dim, "glu", needs_dims=RuntimeError)]
    if size % 2:
        raise RuntimeError(f"glu: dim {dim} must have an even size to halve, got {size}")
    first, second = x.chunk(2, dim)
    return first * second.sigmoid()


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where ``x > 0``, else ``a·x``, with a learned slope ``a`` per channel (dim 1) or one for all."""
    x = _floating(input, "prelu", listed=TypeError)
    tensor_argument(weight, "prelu", "weight", 2)
    if weight.numel() not in (1, x.shape[1] if x.ndim > 1 else 1):
        raise RuntimeError(f"prelu: the weight has {weight.numel()} slopes; give 1, or one per channel "
                           f"({x.shape[1] if x.ndim > 1 else 1})")
    slope = weight.reshape((-1,) + (1,) * (x.ndim - 2)) if x.ndim > 1 and weight.numel() > 1 else weight.reshape(())
    return apply(ops.PRELU, (x, slope), x.array, slope.array)  # at x = 0 the slope's side, as PyTorch


@takes_inplace
def rrelu(input: Tensor, lower: float = 1 / 8, upper: float = 1 / 3, training: bool = False, *,
          generator: Any = None) -> Tensor:
    """Leaky ReLU with a random slope in ``[lower, upper]`` per entry while training, their mean otherwise (the
    slopes drawn from ``generator``, a ``gg.Generator`` or NumPy's, else from glassgrad's stream)."""
    x = _activation_input(input, "rrelu")
    if lower > upper:  # PyTorch's check, in training and in eval
        raise RuntimeError(f"rrelu: Lower bound should be less than or equal to the upper bound, got lower={lower}, "
                           f"upper={upper}")
    if not training:
        return leaky_relu(x, (lower + upper) / 2)
    slopes = recorded_call(drawn, "uniform", None, generator, x.array.shape, x.array.dtype, lower, upper)  # a kernel
    return x.relu() - (-x).relu() * Tensor._wrap(slopes)


def _implicit_dim(input: Tensor, name: str) -> int:
    """The dim PyTorch picks when ``dim`` is not given, a choice it has deprecated (so this warns): 0 for a 0-, 1- or
    3-d input, else 1 (a batch's classes, an image batch's channels)."""
    dim = 0 if input.ndim in (0, 1, 3) else 1
    warn_at_learners_line(f"Implicit dimension choice for {name} has been deprecated (in PyTorch too): dim={dim} is "
                          f"used for a {input.ndim}-d input; give dim")
    return dim


def _in_dtype(input: Tensor, dtype: Any, name: str, listed: type[Exception] = AttributeError) -> Tensor:
    """``input`` of PyTorch's Python-written ``name`` (a softmax; a non-tensor refused: :func:`_written_input`), in
    ``dtype`` if given."""
    x = input if type(input) is Tensor else _written_input(input, name, listed)
    return x if dtype is None else x.to(dtype)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``eᶻ / Σ eᶻ`` along ``dim`` (each slice sums to 1), in ``dtype`` if given (the input converted first)."""
    x = _in_dtype(input, dtype, "softmax")
    return x.softmax(_implicit_dim(x, "softmax") if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``z − log Σ eᶻ`` along ``dim``, in ``dtype`` if given."""
    x = _in_dtype(input, dtype, "log_softmax")
    return x.log_softmax(_implicit_dim(x, "log_softmax") if dim is None else dim)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``softmax(−x)`` along ``dim``, in ``dtype`` if given."""
    x = _in_dtype(input, dtype, "softmin", TypeError)  # PyTorch negates first: -[1.0] is a TypeError
    return (-x).softmax(_implicit_dim(x, "softmin") if dim is None else dim)


# --- distances, and the losses made of them and of the rows above --------------------------------

def _reduced(losses: Tensor, reduction: str, name: str) -> Tensor:
    """One loss per item, reduced as ``reduction`` says (``mean``, ``sum`` or ``none``)."""
    reduction = _check_reduction(reduction, name)
    return losses if reduction == "none" else losses.sum() if reduction == "sum" else losses.mean()


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``Σ (x₁/‖x₁‖)·(x₂/‖x₂‖)`` along ``dim``, each norm at least ``eps`` (its slope its own, as PyTorch's): the
    cosine of the angle between them. The two broadcast first, so each norm is that of the vector the product reads
    (a size-1 ``dim`` stretched)."""
    a, b = tensor_argument(x1, "cosine_similarity", "x1", 1), tensor_argument(x2, "cosine_similarity", "x2", 2)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"cosine_similarity: shapes {shape_text(a.shape)} and {shape_text(b.shape)} do not "
                           "broadcast") from None
    a, b = a.expand(shape), b.expand(shape)
    return ((a / _at_least(a.norm(2, dim, keepdim=True), eps)) * (b / _at_least(b.norm(2, dim, keepdim=True), eps))
            ).sum(dim)


def _at_least(t: Tensor, eps: float) -> Tensor:
    """``t`` raised to ``eps`` where it is smaller, with ``t``'s own slope there, as PyTorch clamps outside the
    graph (a norm below eps still passes its gradient: cosine_similarity of a vector shorter than eps). What is
    added is ``max(eps − t, 0)``, so an overflowed norm of ∞ stays ∞ (and ``x/∞`` is 0, PyTorch's) instead of
    ``∞ + (∞ − ∞)``, a NaN."""
    return t + (eps - t.detach()).clamp(min=0)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``‖x₁ − x₂ + eps‖_p`` along the last dim (``eps`` keeps the slope defined where they are equal)."""
    return (tensor_argument(x1, "pairwise_distance", "x1", 1) - tensor_argument(x2, "pairwise_distance", "x2", 2)
            + eps).norm(p, -1, keepdim=keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distance between every pair of rows ``i < j`` of ``input`` (N, M), in that order: the upper
    triangle of ``cdist(x, x)`` read row by row, ``N(N − 1)/2`` numbers (slope 0 at a distance of 0)."""
    x = _floating(input, "pdist", RuntimeError, listed=TypeError)  # PyTorch's class here
    if x.ndim != 2:
        raise RuntimeError(f"pdist: expected a 2-D input (N, M) of N row vectors, got {shape_text(x.shape)}")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not p >= 0:
        raise RuntimeError(f"pdist: p must be a number >= 0, got {p!r}")
    first, second = np.triu_indices(x.shape[0], 1)
    return _row_distances(x[first] - x[second], p)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1,
                   generator: Any = None) -> Tensor:
    """A differentiable draw from the categorical distribution of ``logits``: ``softmax((logits + g)/τ)`` with
    Gumbel noise ``g = −ln(−ln u)``, ``u ~ U(0, 1)``; ``hard=True`` gives the one-hot of its argmax whose
    gradient is the soft sample's (the straight-through estimator: ``y_hard − y_soft.detach() + y_soft``).
    ``eps`` is accepted and unused, as in PyTorch."""
    logits = _floating(logits, "gumbel_softmax")
    tau = _finite_number(tau, "gumbel_softmax", "tau")
    if tau <= 0:
        raise ValueError(f"gumbel_softmax: tau (the temperature) must be > 0, got {tau:g}")
    noise = Tensor._wrap(recorded_call(_gumbel_noise, generator, logits.array.shape, logits.array.dtype))
    soft = softmax((logits + noise) / tau, dim)
    if not hard:
        return soft
    index = soft.detach().argmax(dim, keepdim=True)
    one_hot = zeros_like(soft).scatter(dim, index, 1.0)
    return one_hot - soft.detach() + soft


def _gumbel_noise(generator: Any, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Gumbel(0, 1) draws: −ln of Exponential(1) ones, in ``dtype``; one kernel of a compiled step, which draws
    them again at each call from the stream picked then (:func:`glassgrad.creation.drawn`)."""
    return (-np.log(_stream(None, generator).exponential(size=shape))).astype(dtype)


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """PyTorch's deprecated name of :func:`interpolate` (it warns, as PyTorch's does)."""
    warnings.warn("F.upsample is deprecated: use F.interpolate (the same arguments)", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """PyTorch's deprecated ``interpolate(input, size, scale_factor, mode="nearest")``."""
    warnings.warn("F.upsample_nearest is deprecated: use F.interpolate(..., mode='nearest')", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """PyTorch's deprecated ``interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)`` (the
    corner pixels of input and output line up, unlike ``interpolate``'s default)."""
    warnings.warn("F.upsample_bilinear is deprecated: use F.interpolate(..., mode='bilinear', align_corners=True)",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _hinge(gaps: Tensor) -> Tensor:
    """``max(gap, 0)`` with slope 1 at a gap of exactly 0, as PyTorch's margin losses (a tie, x₁ = x₂ at margin 0,
    is still pushed apart; ``relu``'s slope there is 0, which would leave it stuck)."""
    return gaps.clamp(min=0)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``max(0, −y·(x₁ − x₂) + margin)``: x₁ should rank above x₂ where y = 1, below where y = −1."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "margin_ranking_loss")
    name = "margin_ranking_loss"
    y = tensor_input(target, name, "target", 3, AttributeError, AttributeError)  # the target first, as PyTorch's
    x1 = tensor_input(input1, name, "input1", 1, AttributeError, AttributeError)
    x2 = tensor_input(input2, name, "input2", 2, AttributeError, AttributeError)
    return _reduced(_hinge(-y * (x1 - x2) + margin), reduction, name)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``x`` where y = 1, ``max(0, margin − x)`` where y = −1 (x a distance); for any other y both terms, as
    PyTorch computes it: ``[y ≠ −1]·x + [y ≠ 1]·max(0, margin − x)``."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "hinge_embedding_loss")
    name = "hinge_embedding_loss"
    x, y = tensor_input(input, name, "input", 1, TypeError), tensor_input(target, name, "target", 2, TypeError)
    if x.dtype.kind in "iu":  # PyTorch's RuntimeError (a bool input is refused by its subtraction, as there)
        _floating(x, "hinge_embedding_loss", RuntimeError)
    labels = y.detach()  # each term left out where it does not count (not ·0: an ∞ there gave NaN)
    losses = x.masked_fill(labels == -1, 0.0) + _hinge(margin - x).masked_fill(labels == 1, 0.0)
    return _reduced(losses, reduction, "hinge_embedding_loss")


def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """``ln(1 + e^(−y·x))``, a smooth hinge for labels y = ±1."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "soft_margin_loss")
    x = _floating(input, "soft_margin_loss", RuntimeError, listed=TypeError)
    _refuse_a_gradient(target, "soft_margin_loss", "target")  # PyTorch's kernel has no gradient for the labels
    # in the scores' dtype, as PyTorch (float64 labels, float32 scores: float32)
    labels = tensor_input(target, "soft_margin_loss", "target", 2, TypeError).to(x.dtype)
    if not broadcasts_to(labels.shape, x.shape):  # PyTorch's kernel writes losses of the input's shape
        raise RuntimeError(f"soft_margin_loss: target of shape {shape_text(labels.shape)} does not broadcast to the "
                           f"input's shape {shape_text(x.shape)}; give one label per score")
    return _reduced(softplus(-labels * x), reduction, "soft_margin_loss")


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``1 − cos(x₁, x₂)`` where y = 1, ``max(0, cos(x₁, x₂) − margin)`` where y = −1 (cos along the last dim,
    ``Σx₁x₂ / √((Σx₁² + ε)(Σx₂² + ε))`` with PyTorch's ε, :data:`glassgrad.ops.LOSS_EPSILON`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "cosine_embedding_loss")
    name = "cosine_embedding_loss"
    a, b = tensor_input(input1, name, "input1", 1, TypeError), tensor_input(input2, name, "input2", 2, TypeError)
    y = tensor_input(target, name, "target", 3, TypeError)
    cos = (a * b).sum(-1) / ((a * a).sum(-1).add(ops.LOSS_EPSILON) * (b * b).sum(-1).add(ops.LOSS_EPSILON)).sqrt()
    if tuple(y.shape) != tuple(cos.shape):  # a (N, 1) target would broadcast to (N, N) losses
        raise RuntimeError(f"cosine_embedding_loss: target must hold one label per pair, shape "
                           f"{shape_text(cos.shape)}, got {shape_text(y.shape)}")
    losses = (1 - cos) * (y.detach() == 1).to(cos.dtype) + _hinge(cos - margin) * (y.detach() == -1).to(cos.dtype)
    return _reduced(losses, reduction, "cosine_embedding_loss")


def _triplet(anchor: Tensor, positive: Tensor, negative: Tensor, distance: Any, margin: float, swap: bool,
             reduction: str, name: str, listed: type[Exception]) -> Tensor:
    """``max(d(a, p) − d(a, n) + margin, 0)`` (``swap``: d(a, n) replaced by the nearer of d(a, n) and d(p, n));
    ``margin`` must be > 0 and the three of one number of dims, as PyTorch requires. ``listed``: PyTorch's class for
    a Python list given for one of the three (:func:`tensor_input`)."""
    margin = _finite_number(margin, name, "margin")
    if margin <= 0:
        raise ValueError(f"{name}: margin must be greater than 0, got {margin:g}")
    anchor, positive, negative = (tensor_input(value, name, argument, position, listed) for position, (argument, value)
                                  in enumerate((("anchor", anchor), ("positive", positive), ("negative", negative)), 1))
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"{name}: anchor, positive and negative must have the same number of dimensions, got "
                           f"{anchor.ndim}-D, {positive.ndim}-D and {negative.ndim}-D")
    to_positive, to_negative = distance(anchor, positive), distance(anchor, negative)
    if swap:
        to_negative = to_negative.minimum(distance(positive, negative))
    return _reduced(_hinge(to_positive - to_negative + margin), reduction, name)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2.0,
                        eps: float = 1e-6, swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """``max(d(a, p) − d(a, n) + margin, 0)`` with d the pairwise p-distance (``swap``: the nearer of d(a, n)
    and d(p, n)); ``margin`` must be > 0."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "triplet_margin_loss")
    return _triplet(anchor, positive, negative, lambda x1, x2: pairwise_distance(x1, x2, p, eps), margin, swap,
                    reduction, "triplet_margin_loss", TypeError)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Any = None, margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """``max(d(a, p) − d(a, n) + margin, 0)`` with ``d = distance_function`` (any function of two tensors giving
    one distance per item; ``pairwise_distance`` if None); ``margin`` must be > 0."""
    return _triplet(anchor, positive, negative, pairwise_distance if distance_function is None else distance_function,
                    margin, swap, reduction, "triplet_margin_with_distance_loss", AttributeError)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                           reduction: str = "mean") -> Tensor:
    """Per sample, ``Σ_(j ∈ y) Σ_(i ∉ y) max(0, 1 − (x[j] − x[i])) / C``: every target class kept a margin of
    1 above every other class. ``target`` has the input's shape (C,) or (N, C): each row's class indices, ended
    by the first −1 (the rest ignored). A scalar input is one class, as PyTorch reads it (the loss is 0)."""
    name = "multilabel_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction, name)
    x = _floating(input, name, NotImplementedError, listed=TypeError)
    if x.ndim > 2 or (x.ndim and x.shape[-1] == 0):
        raise RuntimeError(f"{name}: input must be a non-empty vector (C,) or matrix (N, C) (or a scalar, one class), "
                           f"got {shape_text(x.shape)}")
    labels = np.asarray(tensor_input(target, name, "target", 2, TypeError).numpy())
    if labels.shape != x.shape or labels.dtype.kind not in "iu":
        raise RuntimeError(f"{name}: target must be integer class indices of the input's shape {shape_text(x.shape)}, "
                           f"got {shape_text(labels.shape)} {labels.dtype}")
    rows, labels = (x, labels) if x.ndim == 2 else (x.reshape(1, -1), labels.reshape(1, -1))
    classes = rows.shape[1]
    listed = np.cumsum(labels == -1, axis=1) == 0  # the entries before each row's first −1
    if ((labels < 0) | (labels >= classes))[listed].any():
        raise RuntimeError(f"{name}: target holds a class index outside [0, {classes}) before its first -1")
    counts = np.zeros(rows.shape)  # how often each class is listed as a target of its row
    for count, row, keep in zip(counts, labels, listed):
        np.add.at(count, row[keep], 1)
    pairs = rows.new_tensor(counts[:, :, None] * (counts == 0)[:, None, :])  # (target j, other class i)
    gaps = (1 - rows[:, :, None] + rows[:, None, :]).relu()
    losses = (gaps * pairs).sum((1, 2)) / classes
    return _reduced(losses if x.ndim == 2 else losses.reshape(()), reduction, name)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                                reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Per sample, the mean over classes of ``−w·(y·ln σ(x) + (1 − y)·ln σ(−x))`` (``weight`` w, one per class,
    broadcast to the input; 1 without it)."""
    name = "multilabel_soft_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction, name)
    x = _floating(input, name, NotImplementedError, listed=TypeError)
    if isinstance(target, bool):  # PyTorch's 1 - target is Python's arithmetic then: True is 1
        target = int(target)
    y = tensor_input(target, name, "target", 2, TypeError, reads=_NUMBERS)
    losses = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        losses = losses * _item_weight(weight, x, name, "weight")
    # PyTorch's: summed over the input's last dim, divided by its size (a target of more dims broadcast the losses)
    return _reduced(losses.sum(check_dim(x, -1, name)) / x.shape[-1], reduction, name)


def _check_margin_labels(values: np.ndarray, classes: int) -> None:
    """Refuse a ``multi_margin_loss`` label outside ``[0, classes)``, with PyTorch's class for it (a RuntimeError;
    ``cross_entropy``'s is an IndexError, as PyTorch's).

    Run through :func:`~glassgrad.autograd.recorded_call`: a compiled step used to check only the labels its captures
    met, so a later batch's label 3 of 3 classes trained on without a word (eager refuses it); the check is now one of
    the step's kernels, run at every call.
    """
    outside = (values < 0) | (values >= classes)
    if outside.any():
        raise RuntimeError(f"multi_margin_loss: target label {values[outside][0]} is out of range: labels must be in "
                         f"[0, {classes - 1}]")


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Per sample, ``w_y · Σ_(i≠y) max(0, margin − x[y] + x[i])^p / C``: every other class kept ``margin`` below
    (``weight`` w, one per class, scales a sample by its target class's entry, outside the power as PyTorch).
    ``reduction="none"`` gives one loss per label in the target's shape, as PyTorch: scores (C,) with a target
    of shape (1,) give (1,), with a scalar target ().
    """
    reduction = _legacy_reduction(size_average, reduce, reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p!r}")
    x = _floating(input, "multi_margin_loss", NotImplementedError, listed=TypeError)
    if x.ndim > 2:
        raise RuntimeError(f"multi_margin_loss: input must be class scores (C,) or (N, C), got {shape_text(x.shape)}")
    rows = x if x.ndim == 2 else x.reshape(1, -1)
    labels = tensor_input(target, "multi_margin_loss", "target", 2, TypeError)
    if labels.dtype.kind not in "iu" or labels.ndim > 1 or labels.numel() != rows.shape[0]:
        raise RuntimeError(f"multi_margin_loss: target must hold one class index (int64) per sample, "
                           f"{rows.shape[0]} in a vector, got {shape_text(labels.shape)} {labels.dtype}")
    recorded_call(_check_margin_labels, labels.array, rows.shape[1])  # a kernel of a compiled step: read at each call
    picks = labels.reshape(-1, 1)
    own = arange(rows.shape[1]).unsqueeze(0) == picks  # its own term left out (∞ − ∞ too)
    gaps = (margin - rows.gather(1, picks) + rows).masked_fill(own, 0.0).relu() ** p
    losses = gaps.sum(1) / rows.shape[1]
    if weight is not None:
        losses = losses * _class_weight(weight, rows, "multi_margin_loss")[labels.reshape(-1)]
    return _reduced(losses.reshape(labels.shape), reduction, "multi_margin_loss")  # 'none': the target's shape


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Any, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """``½(ln v + (x − y)²/v)`` (plus ``½ln 2π`` with ``full``), v the predicted variance held at least ``eps``
    (where it is raised to eps its slope stays 1, as in PyTorch).

    ``var`` has the input's shape, or its shape without the last dim (one variance per sample), or the input's
    shape with a 1 in one dim (shared along it), or is a number (one for all), as PyTorch reads it.
    """
    name = "gaussian_nll_loss"
    given_a_tensor = isinstance(var, Tensor)
    if not given_a_tensor and not isinstance(var, float):  # var first, as PyTorch's (its var < 0: TypeError)
        tensor_input(var, name, "var", 3, TypeError)
    x = _floating(input, name, RuntimeError, "iu", TypeError if isinstance(var, float) else AttributeError)
    y = tensor_input(target, name, "target", 2, TypeError, reads=(*_NUMBERS, np.ndarray))
    v = var if given_a_tensor else x.new_tensor(var)
    recorded_call(_check_variance, v.array)  # a kernel of a compiled step: read at each call
    if v.ndim and tuple(v.shape) != tuple(x.shape):
        if tuple(v.shape) == tuple(x.shape[:-1]):
            v = v.unsqueeze(-1)  # one variance per sample
        elif v.ndim != x.ndim or sum(size for own, size in zip(x.shape, v.shape) if own != size) != 1:
            raise ValueError(f"gaussian_nll_loss: var of shape {shape_text(v.shape)} does not fit the input's shape "
                             f"{shape_text(x.shape)}: give it that shape, that shape without the last dim, that shape "
                             "with a 1 in one dim, or one number")
    held = _at_least(v, eps)
    losses = 0.5 * (held.log() + (x - y) ** 2 / held)
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return _reduced(losses, reduction, "gaussian_nll_loss")


def _check_variance(var: np.ndarray) -> None:
    """:func:`gaussian_nll_loss`'s check that no variance is negative, run through
    :func:`~glassgrad.autograd.recorded_call`: read in Python with ``.numpy()``, it made a compiled step that
    predicts its variance run eagerly."""
    if (var < 0).any():
        raise ValueError("gaussian_nll_loss: var has a negative entry; a variance must be >= 0")


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """``eˣ − y·x`` (x a log-rate), or ``x − y·ln(x + eps)`` (x a rate); ``full`` adds Stirling's
    ``y·ln y − y + ½ln(2πy)`` where y > 1 (its slope in y, ``ln y + 1/(2y)``, there too; 0 where y ≤ 1)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "poisson_nll_loss")
    name = "poisson_nll_loss"
    x, y = _floating(input, name, RuntimeError, "biu", TypeError), tensor_input(target, name, "target", 2, TypeError)
    losses = x.exp() - y * x if log_input else x - y * (x + eps).log()
    if full:
        counts = y if y.dtype.kind == "f" else y.to(x.dtype)
        above = counts.detach() > 1
        held = where(above, counts, 2.0)  # y where the term counts, else a stand-in that keeps the logs finite
        losses = losses + (held * held.log() - held + 0.5 * (2 * math.pi * held).log()) * above.to(held.dtype)
    return _reduced(losses, reduction, "poisson_nll_loss")


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The connectionist temporal classification loss ``−ln p(target | log_probs)`` of each sample, summed over
    every alignment of its target to its frames (:mod:`glassgrad.nn.ctc`). ``log_probs`` (T, N, C) (or (T, C)),
    e.g. ``log_softmax`` of the scores; ``targets`` (N, S) padded or 1-D concatenated; ``input_lengths`` and
    ``target_lengths`` one per sample. ``"mean"`` divides each loss by its target length (at least 1), then
    averages over the batch; ``zero_infinity`` makes an impossible target's loss ∞ a 0."""
    reduction = _check_reduction(reduction, "ctc_loss")
    losses, lengths = ctc_negative_log_likelihoods(log_probs, targets, input_lengths, target_lengths, int(blank),
                                                   bool(zero_infinity))
    if reduction == "mean":
        losses = losses / losses.new_tensor(np.maximum(lengths, 1))
    return _reduced(losses, reduction, "ctc_loss")


# --- PyTorch's in-place spellings: the result written into the input (glassgrad.nn.in_place) -------------------

relu_ = in_place_spelling(relu)
leaky_relu_ = in_place_spelling(leaky_relu)
elu_ = in_place_spelling(elu)
celu_ = in_place_spelling(celu)
selu_ = in_place_spelling(selu)
hardtanh_ = in_place_spelling(hardtanh)
rrelu_ = in_place_spelling(rrelu)
threshold_ = in_place_spelling(threshold)
