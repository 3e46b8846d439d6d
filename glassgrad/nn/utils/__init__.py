"""Gradient clipping (``gg.nn.utils``): keep one bad batch from throwing the weights far away.

* :func:`clip_grad_norm_` rescales *all* gradients together when their overall norm
  ``‖g‖ = (Σ over every entry of every gradient |g|ᵖ)^(1/p)`` exceeds ``max_norm``:
  ``g ← g · max_norm / (‖g‖ + 10⁻⁶)``. The direction of the step is kept.
* :func:`clip_grad_value_` clamps each entry to ``[−clip_value, clip_value]`` (the direction can change).
* :func:`get_total_norm` and :func:`clip_grads_with_norm_` are clip_grad_norm_'s two halves;
  :func:`parameters_to_vector` / :func:`vector_to_parameters` flatten the parameters into one vector and back.
* :func:`weight_norm` and :func:`spectral_norm` (:mod:`glassgrad.nn.utils.normalized_weights`) make a layer's
  weight from a length and a direction, or divide it by its largest singular value, before each forward.
* :mod:`glassgrad.nn.utils.parametrize` makes a tensor of a layer computed from the numbers it learns
  (``register_parametrization``); :mod:`glassgrad.nn.utils.parametrizations` has the standard ones
  (``weight_norm``, ``spectral_norm``, ``orthogonal``).
* :func:`fuse_conv_bn_eval` / :func:`fuse_linear_bn_eval` (:mod:`glassgrad.nn.utils.fusion`) fold an
  evaluation-mode BatchNorm into the layer before it; :func:`skip_init` builds a module without its random start;
  ``clip_grad_norm`` and ``stateless.functional_call`` are PyTorch's deprecated spellings (they warn).
* :mod:`glassgrad.nn.utils.rnn`: sequences of different lengths padded into one batch (``pad_sequence``) or
  packed (``pack_padded_sequence``, ``PackedSequence``) for the recurrent layers.

Call them between ``loss.backward()`` and ``optimizer.step()``.

>>> import glassgrad as gg
>>> w = gg.tensor([0.0, 0.0], requires_grad=True)
>>> (w * gg.tensor([3.0, 4.0])).sum().backward()     # w.grad = [3, 4], norm 5
>>> gg.nn.utils.clip_grad_norm_([w], max_norm=1.0).item()
5.0
>>> [round(v, 4) for v in w.grad.tolist()]
[0.6, 0.8]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ...autograd import bump_version, call_recorder
from ...functions import cat
from ...renamed import renamed
from ...tensor import Tensor
from . import parametrizations as parametrizations
from . import parametrize as parametrize
from . import rnn as rnn
from . import stateless as stateless
from .fusion import fuse_conv_bn_eval as fuse_conv_bn_eval
from .fusion import fuse_conv_bn_weights as fuse_conv_bn_weights
from .fusion import fuse_linear_bn_eval as fuse_linear_bn_eval
from .fusion import fuse_linear_bn_weights as fuse_linear_bn_weights
from .init import skip_init as skip_init
from .normalized_weights import remove_spectral_norm as remove_spectral_norm
from .normalized_weights import remove_weight_norm as remove_weight_norm
from .normalized_weights import spectral_norm as spectral_norm
from .normalized_weights import weight_norm as weight_norm

CLIP_EPSILON = 1e-6
"""Added to the norm before dividing, as PyTorch does (no division by zero)."""


def _parameters(parameters: Iterable[Tensor] | Tensor, name: str) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    items = list(parameters)
    for position, item in enumerate(items):
        if not isinstance(item, Tensor):
            raise TypeError(f"{name}: expected tensors (e.g. model.parameters()), but item {position} is a "
                            f"{type(item).__name__}")
    return items


def _finite_non_negative(value: float, what: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value) \
            or value < 0:
        raise ValueError(f"{name}: {what} must be a finite number >= 0, got {value!r}")
    return float(value)


def _norm(values: np.ndarray, norm_type: float) -> float:
    """The p-norm of the entries of ``values`` (max |v| for p = inf), in float64."""
    flat = np.abs(values.ravel().astype(np.float64, copy=False))
    if flat.size == 0:
        return 0.0
    if norm_type == math.inf:
        return float(flat.max())
    if norm_type == 2:
        return math.sqrt(float(np.dot(flat, flat)))
    return float(np.sum(flat**norm_type) ** (1 / norm_type))


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale the gradients in place so their total ``norm_type``-norm is at most ``max_norm``.

    Returns the total norm *before* clipping (a 0-d tensor, as in PyTorch). Parameters
    without ``.grad`` are skipped. When the total norm is NaN or infinite the gradients
    are left untouched (PyTorch would turn them all into NaN, hiding which one blew up);
    ``error_if_nonfinite=True`` raises instead.
    """
    recorder = call_recorder()  # a compiled step (glassgrad.compiler) replays this call as one kernel
    if recorder is not None:
        return recorder.on_call(clip_grad_norm_, (parameters, max_norm, norm_type, error_if_nonfinite))
    grads = [p.grad for p in _parameters(parameters, "clip_grad_norm_") if p.grad is not None]
    max_norm = _finite_non_negative(max_norm, "max_norm", "clip_grad_norm_")
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive (e.g. 2.0, 1.0 or inf), got {norm_type}")
    if not grads:
        return Tensor._wrap(np.array(0.0, dtype=np.float32))
    total = _total_norm([g.array for g in grads], norm_type)
    dtype = grads[0].array.dtype
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}, "
                               "so they cannot be clipped; lower the learning rate or find the step that blew up")
        return Tensor._wrap(np.array(total, dtype=dtype))
    _scale(grads, max_norm, total)
    return Tensor._wrap(np.array(total, dtype=dtype))


clip_grad_norm = renamed(clip_grad_norm_, "gg.nn.utils.clip_grad_norm", "gg.nn.utils.clip_grad_norm_")


def _total_norm(arrays: list[np.ndarray], norm_type: float) -> float:
    """The p-norm of all entries of ``arrays`` together: the p-norm of their p-norms."""
    return _norm(np.array([_norm(a, norm_type) for a in arrays]), norm_type)


def _scale(grads: list[Tensor], max_norm: float, total: float) -> None:
    """``g ← g · max_norm / (total + 10⁻⁶)`` in place, when that factor is below 1."""
    scale = min(max_norm / (total + CLIP_EPSILON), 1.0)
    if scale < 1.0:
        for grad in grads:
            grad.array *= scale


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every gradient entry in place to ``[−clip_value, clip_value]``."""
    recorder = call_recorder()  # a compiled step (glassgrad.compiler) replays this call as one kernel
    if recorder is not None:
        return recorder.on_call(clip_grad_value_, (parameters, clip_value))
    clip_value = _finite_non_negative(clip_value, "clip_value", "clip_grad_value_")
    for param in _parameters(parameters, "clip_grad_value_"):
        if param.grad is not None:
            np.clip(param.grad.array, -clip_value, clip_value, out=param.grad.array)



def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Every parameter's entries in one vector, in order (a recorded ``cat`` of their flattened views)."""
    return cat([p.reshape(-1) for p in _parameters(parameters, "parameters_to_vector")])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive pieces of ``vec`` into the parameters, in order (in place, outside the graph)."""
    params = _parameters(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in params)
    if not isinstance(vec, Tensor) or vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: expected a 1-D tensor of {total} entries (the parameters' count), "
                         f"got {getattr(vec, 'shape', type(vec).__name__)}")
    start = 0
    for p in params:
        p.array[...] = vec.array[start:start + p.numel()].reshape(p.shape)
        bump_version(p.array)  # an in-place change, counted as one
        start += p.numel()


def get_total_norm(tensors: Iterable[Tensor] | Tensor, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """``‖·‖_p`` of all entries of ``tensors`` together (the norm :func:`clip_grad_norm_` measures)."""
    arrays = [t.array for t in _parameters(tensors, "get_total_norm")]
    total = _total_norm(arrays, float(norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"get_total_norm: the total norm is {total}; pass error_if_nonfinite=False to allow it")
    return Tensor._wrap(np.array(total, dtype=arrays[0].dtype if arrays else np.float32))


def clip_grads_with_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float, total_norm: Any,
                          foreach: bool | None = None) -> None:
    """Scale every gradient by ``max_norm / (total_norm + 10⁻⁶)`` when that is below 1 (the second half of
    :func:`clip_grad_norm_`, with a norm measured elsewhere, e.g. by :func:`get_total_norm`)."""
    total = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    grads = [p.grad for p in _parameters(parameters, "clip_grads_with_norm_") if p.grad is not None]
    _scale(grads, _finite_non_negative(max_norm, "max_norm", "clip_grads_with_norm_"), total)
