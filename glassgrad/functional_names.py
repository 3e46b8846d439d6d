"""PyTorch's top-level names for functions of ``nn.functional``: ``torch.conv2d``, ``torch.layer_norm`` …

Most are ``gg.nn.functional``'s functions themselves (:data:`SAME`: the same arguments in the same order). A few
of PyTorch's top-level forms order their arguments differently, and are written here as calls of the
functional ones: ``torch.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
cudnn_enabled)``, ``torch.instance_norm(input, weight, bias, running_mean, running_var, use_input_stats,
momentum, eps, cudnn_enabled)``, ``torch.embedding(weight, indices, padding_idx=-1, …)`` (the table first; −1:
no padding row) and ``torch.dropout(input, p, train)`` (also ``alpha_dropout``, ``feature_alpha_dropout``).
``x.hardshrink(λ)`` and ``x.prelu(weight)`` are Tensor methods as well.

>>> import glassgrad as gg
>>> gg.embedding(gg.eye(3), gg.tensor([2, 0])).tolist()
[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
"""

from __future__ import annotations

from typing import Any

from .nn import functional as F
from .tensor_methods import add

SAME = {name: getattr(F, name) for name in (
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "bilinear",
    "cosine_similarity", "pairwise_distance", "pdist", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
    "prelu", "hardshrink", "celu", "selu", "rrelu", "threshold", "layer_norm", "group_norm", "rms_norm",
    "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "adaptive_avg_pool1d")}
"""The functions whose top-level form takes the same arguments as ``nn.functional``'s."""
add("hardshrink", F.hardshrink)  # x.hardshrink(0.5), x.prelu(weight): Tensor methods in PyTorch too
add("prelu", F.prelu)


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


def feature_alpha_dropout(input: Any, p: float, train: bool) -> Any:
    """``F.feature_alpha_dropout(input, p, training=train)``."""
    return F.feature_alpha_dropout(input, p, train)
