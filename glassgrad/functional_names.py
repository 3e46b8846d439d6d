"""PyTorch's top-level names for functions of ``nn.functional``: ``torch.conv2d``, ``torch.layer_norm`` …

Most are ``gg.nn.functional``'s functions themselves (:data:`SAME`: the same arguments in the same order). A few
of PyTorch's top-level forms order their arguments differently, and are written here as calls of the
functional ones: ``torch.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
cudnn_enabled)``, ``torch.instance_norm(input, weight, bias, running_mean, running_var, use_input_stats,
momentum, eps, cudnn_enabled)``, ``torch.embedding(weight, indices, padding_idx=-1, …)`` (the table first; −1:
no padding row), ``torch.layer_norm``/``torch.group_norm`` (with a last ``cudnn_enable(d)``, ignored),
``torch.convolution(…, transposed, output_padding, groups)`` (the convolution the weight's dims
call for), ``torch.rrelu(input, lower, upper, training, generator)`` (``F.rrelu`` has ``inplace`` there) and
``torch.dropout(input, p, train)`` (also ``alpha_dropout``, ``feature_alpha_dropout``, ``feature_dropout``: whole
channels).
``x.hardshrink(λ)`` and ``x.prelu(weight)`` are Tensor methods as well. The top-level losses take the reduction
as a number (0: none, 1: mean, 2: sum); ``torch.max_pool1d_with_indices`` returns the indices too;
``torch.celu_(x)`` … (:data:`IN_PLACE`) write the result into x.

>>> import glassgrad as gg
>>> gg.embedding(gg.eye(3), gg.tensor([2, 0])).tolist()
[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
"""

from __future__ import annotations

from typing import Any

from .nn import functional as F
from .tensor import tensor_argument
from .tensor_methods import add, write_in_place

SAME = {name: getattr(F, name) for name in (
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "bilinear",
    "cosine_similarity", "pairwise_distance", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
    "prelu", "hardshrink", "celu", "selu", "threshold", "rms_norm",
    "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "adaptive_avg_pool1d", "pdist")}
"""The functions whose top-level form takes the same arguments as ``nn.functional``'s."""
add("hardshrink", F.hardshrink)  # x.hardshrink(0.5), x.prelu(weight): Tensor methods in PyTorch too
add("prelu", F.prelu)


def layer_norm(input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5,
               cudnn_enable: bool = True) -> Any:
    """``F.layer_norm``, and PyTorch's top-level ``cudnn_enable`` after ``eps`` (ignored)."""
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5,
               cudnn_enabled: bool = True) -> Any:
    """``F.group_norm``, and PyTorch's top-level ``cudnn_enabled`` after ``eps`` (ignored)."""
    return F.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input: Any, weight: Any, bias: Any, running_mean: Any, running_var: Any, training: bool,
               momentum: float, eps: float, cudnn_enabled: bool = True) -> Any:
    """``F.batch_norm`` with PyTorch's top-level order of arguments (``cudnn_enabled`` is ignored)."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input: Any, weight: Any, bias: Any, running_mean: Any, running_var: Any, use_input_stats: bool,
                  momentum: float, eps: float, cudnn_enabled: bool = True) -> Any:
    """``F.instance_norm`` with PyTorch's top-level order of arguments (``cudnn_enabled`` is ignored)."""
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def embedding(weight: Any, indices: Any, padding_idx: int = -1, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Any:
    """``F.embedding(indices, weight)``: rows of the table ``weight``; ``padding_idx`` −1 means none."""
    return F.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def dropout(input: Any, p: float, train: bool) -> Any:
    """``F.dropout(input, p, training=train)``."""
    return F.dropout(input, p, train)


def alpha_dropout(input: Any, p: float, train: bool) -> Any:
    """``F.alpha_dropout(input, p, training=train)``."""
    return F.alpha_dropout(input, p, train)


def feature_dropout(input: Any, p: float, train: bool) -> Any:
    """Whole channels (dim 1) zeroed with probability ``p``, the others scaled by ``1/(1 − p)``: the input times
    ``F.dropout`` of ones of shape (N, C, 1, …)."""
    if not train or p == 0:
        return input
    if input.ndim < 2:
        raise RuntimeError(f"feature_dropout: needs (N, C, …) input with at least 2 dims, got shape "
                           f"{tuple(input.shape)}")
    keep = F.dropout(input.new_ones(tuple(input.shape[:2]) + (1,) * (input.ndim - 2)), p, True)
    return input * keep


def feature_alpha_dropout(input: Any, p: float, train: bool) -> Any:
    """``F.feature_alpha_dropout(input, p, training=train)``."""
    return F.feature_alpha_dropout(input, p, train)


def convolution(input: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, transposed: bool,
                output_padding: Any, groups: int) -> Any:
    """``F.conv{1,2,3}d`` (``transposed``: ``F.conv_transpose{1,2,3}d``), the number of dims read from the
    weight's (two more than the spatial dims)."""
    spatial = len(weight.shape) - 2
    if spatial not in (1, 2, 3):
        raise RuntimeError(f"convolution: the weight must have 3, 4 or 5 dims (1-d, 2-d or 3-d), got shape "
                           f"{tuple(weight.shape)}")
    stride, padding, dilation, output_padding = (tuple(v) if isinstance(v, list) else v
                                                 for v in (stride, padding, dilation, output_padding))
    if transposed:
        function = getattr(F, f"conv_transpose{spatial}d")
        return function(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return getattr(F, f"conv{spatial}d")(input, weight, bias, stride, padding, dilation, groups)


# --- losses, whose top-level forms take the reduction as a number ----------------------------------------

REDUCTIONS = ("none", "mean", "sum")
"""PyTorch's numbers for the reductions at top level: 0, 1, 2. Left out, it is 0 (none: a loss per entry), as in
PyTorch 2.13's top-level forms (``torch.kl_div(x, y)`` is not the mean that ``F.kl_div(x, y)`` is)."""


def _reduction(number: Any) -> str:
    if isinstance(number, bool) or number not in (0, 1, 2):
        raise ValueError(f"reduction: the top-level losses take 0 (none), 1 (mean) or 2 (sum), got {number!r}; "
                         "gg.nn.functional's take the names")
    return REDUCTIONS[number]


def _tensors(function: str, *arguments: tuple[str, Any, bool]) -> None:
    """PyTorch's TypeError for a top-level loss given a list, NumPy array or number where it takes a tensor: these are
    its C++ functions (``torch.margin_ranking_loss``), where ``F``'s are Python ones that fail with an AttributeError.
    ``arguments``: (name, value, whether None is taken), in the function's order."""
    for position, (name, value, optional) in enumerate(arguments, 1):
        tensor_argument(value, function, name, position, optional)


def kl_div(input: Any, target: Any, reduction: int = 0, log_target: bool = False) -> Any:
    """``F.kl_div`` with the reduction as a number (1: the mean over every entry)."""
    return F.kl_div_unwarned(input, target, _reduction(reduction), log_target)


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None, pos_weight: Any = None,
                                     reduction: int = 0) -> Any:
    """``F.binary_cross_entropy_with_logits`` with the reduction as a number; the tensors checked first
    (:func:`_tensors`)."""
    _tensors("binary_cross_entropy_with_logits", ("input", input, False), ("target", target, False),
             ("weight", weight, True), ("pos_weight", pos_weight, True))
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(reduction),
                                              pos_weight=pos_weight)


def margin_ranking_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0, reduction: int = 0) -> Any:
    """``F.margin_ranking_loss`` with the reduction as a number; the tensors checked first (:func:`_tensors`)."""
    _tensors("margin_ranking_loss", ("input1", input1, False), ("input2", input2, False), ("target", target, False))
    return F.margin_ranking_loss(input1, input2, target, margin=margin, reduction=_reduction(reduction))


def hinge_embedding_loss(input: Any, target: Any, margin: float = 1.0, reduction: int = 0) -> Any:
    """``F.hinge_embedding_loss`` with the reduction as a number."""
    return F.hinge_embedding_loss(input, target, margin=margin, reduction=_reduction(reduction))


def cosine_embedding_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0, reduction: int = 0) -> Any:
    """``F.cosine_embedding_loss`` with the reduction as a number."""
    return F.cosine_embedding_loss(input1, input2, target, margin=margin, reduction=_reduction(reduction))


def triplet_margin_loss(anchor: Any, positive: Any, negative: Any, margin: float = 1.0, p: float = 2.0,
                        eps: float = 1e-6, swap: bool = False, reduction: int = 0) -> Any:
    """``F.triplet_margin_loss`` with the reduction as a number."""
    return F.triplet_margin_loss(anchor, positive, negative, margin=margin, p=p, eps=eps, swap=swap,
                                 reduction=_reduction(reduction))


def poisson_nll_loss(input: Any, target: Any, log_input: bool, full: bool, eps: float, reduction: int) -> Any:
    """``F.poisson_nll_loss`` with every argument given and the reduction as a number."""
    return F.poisson_nll_loss(input, target, log_input=log_input, full=full, eps=eps, reduction=_reduction(reduction))


def ctc_loss(log_probs: Any, targets: Any, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: int = 0, zero_infinity: bool = False) -> Any:
    """``F.ctc_loss`` with the reduction as a number."""
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=blank, reduction=_reduction(reduction),
                      zero_infinity=zero_infinity)


# --- padding and pooling with their own top-level forms --------------------------------------------------

def constant_pad_nd(input: Any, pad: Any, value: float = 0) -> Any:
    """``F.pad(input, pad, 'constant', value)``."""
    return F.pad(input, pad, "constant", value)


def max_pool1d_with_indices(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False) -> Any:
    """``(values, indices)`` of ``F.max_pool1d``."""
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode, True)


# --- in-place top-level forms: the function's result written into the input (write_in_place) ------------

def _in_place(name: str, function: Any) -> Any:
    def in_place(input: Any, *args: Any, **kwargs: Any) -> Any:
        return write_in_place(input, lambda source: function(source, *args, **kwargs), name)

    in_place.__name__ = in_place.__qualname__ = name
    in_place.__doc__ = f"``{function.__name__}`` written into the input in place (returns the input)."
    return in_place


def rrelu(input: Any, lower: float = 1 / 8, upper: float = 1 / 3, training: bool = False,
          generator: Any = None) -> Any:
    """``F.rrelu`` with PyTorch's top-level ``generator`` in the place where ``nn.functional``'s has ``inplace``."""
    return F.rrelu(input, lower, upper, training, generator=generator)


def _dropout_in_place(name: str, function: Any) -> Any:
    """A dropout's in-place form: outside training, or with p = 0, the input is left as it is (not even counted as
    changed), as in PyTorch."""
    def in_place(input: Any, p: float, train: bool) -> Any:
        if not train or p == 0:
            return input
        return write_in_place(input, lambda source: function(source, p, train), name)

    in_place.__name__ = in_place.__qualname__ = name
    in_place.__doc__ = f"``{function.__name__}`` written into the input in place when ``train`` (returns the input)."
    return in_place


IN_PLACE = {f"{function.__name__}_": _in_place(f"{function.__name__}_", function)
            for function in (F.celu, F.selu, rrelu, F.threshold)}
IN_PLACE.update({f"{function.__name__}_": _dropout_in_place(f"{function.__name__}_", function)
                 for function in (dropout, alpha_dropout, feature_alpha_dropout, feature_dropout)})
"""``torch.celu_(x)``, ``torch.dropout_(x, p, train)`` …"""
