"""Gradient clipping (``gg.nn.utils``): keep one bad batch from throwing the weights far away.

* :func:`clip_grad_norm_` rescales *all* gradients together when their overall norm
  ``‖g‖ = (Σ over every entry of every gradient |g|ᵖ)^(1/p)`` exceeds ``max_norm``:
  ``g ← g · max_norm / (‖g‖ + 10⁻⁶)``. The direction of the step is kept.
* :func:`clip_grad_value_` clamps each entry to ``[−clip_value, clip_value]`` (the direction can change).

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

import numpy as np

from ..autograd import call_recorder
from ..tensor import Tensor

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
    per_tensor = np.array([_norm(g.array, norm_type) for g in grads])
    total = _norm(per_tensor, norm_type)
    dtype = grads[0].array.dtype
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}, "
                               "so they cannot be clipped; lower the learning rate or find the step that blew up")
        return Tensor._wrap(np.array(total, dtype=dtype))
    scale = min(max_norm / (total + CLIP_EPSILON), 1.0)
    if scale < 1.0:
        for grad in grads:
            grad.array *= scale
    return Tensor._wrap(np.array(total, dtype=dtype))


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every gradient entry in place to ``[−clip_value, clip_value]``."""
    recorder = call_recorder()  # a compiled step (glassgrad.compiler) replays this call as one kernel
    if recorder is not None:
        return recorder.on_call(clip_grad_value_, (parameters, clip_value))
    clip_value = _finite_non_negative(clip_value, "clip_value", "clip_grad_value_")
    for param in _parameters(parameters, "clip_grad_value_"):
        if param.grad is not None:
            np.clip(param.grad.array, -clip_value, clip_value, out=param.grad.array)
