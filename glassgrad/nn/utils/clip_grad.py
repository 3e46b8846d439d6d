"""Gradient clipping (``gg.nn.utils.clip_grad``, as PyTorch's module of that name): keep one bad batch from
throwing the weights far away.

* :func:`clip_grad_norm_` rescales *all* gradients together when their overall norm
  ``‖g‖ = (Σ over every entry of every gradient |g|ᵖ)^(1/p)`` exceeds ``max_norm``:
  ``g ← g · max_norm / (‖g‖ + 10⁻⁶)``. The direction of the step is kept.
* :func:`clip_grad_value_` clamps each entry to ``[−clip_value, clip_value]`` (the direction can change).
* :func:`get_total_norm` and :func:`clip_grads_with_norm_` are clip_grad_norm_'s two halves.
* ``clip_grad_norm`` (no ``_``) is PyTorch's deprecated spelling of clip_grad_norm_: it warns, then clips.

>>> import glassgrad as gg
>>> w = gg.tensor([0.0, 0.0], requires_grad=True)
>>> (w * gg.tensor([3.0, 4.0])).sum().backward()     # w.grad = [3, 4], norm 5
>>> gg.nn.utils.clip_grad.clip_grad_value_([w], 3.5)
>>> w.grad.tolist()
[3.0, 3.5]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ...arguments import joined_dtype
from ...autograd import call_recorder, recorded_call
from ...dtypes import get_default_dtype
from ...renamed import renamed
from ...tensor import Tensor
from .convert_parameters import parameter_list

CLIP_EPSILON = 1e-6
"""Added to the norm before dividing, as PyTorch does (no division by zero)."""


def _non_negative(value: float | Tensor, what: str, name: str) -> float:
    """``value`` (a number, or a tensor of one real number, as PyTorch takes either) as a float ≥ 0; ∞ is taken,
    as PyTorch takes it (``clip_grad_norm_(params, inf)`` measures the norm and clips nothing)."""
    if isinstance(value, Tensor) and value.numel() == 1 and value.dtype.kind in "fiu":
        value = value.item()
    if not isinstance(value, (int, float, np.number)) or not value >= 0:  # True is 1, as PyTorch computes with it
        raise ValueError(f"{name}: {what} must be a number >= 0 (inf: no clipping), got {value!r}")
    return float(value)


def _norm(values: np.ndarray, norm_type: float) -> float:
    """The p-norm of the entries of ``values``, worked out in float64 with the range of PyTorch's ``vector_norm``:
    max |v| for p = ∞, min |v| for p = −∞, the number of entries that are not 0 for p = 0, else (Σ |v|ᵖ)^(1/p),
    ∞ where Σ |v|ᵖ passes the largest number of the dtype PyTorch sums in (float32 for float16 and float32 values:
    a float32 gradient past ~1.8e19 has the norm ∞ there, so ``error_if_nonfinite`` raises), or where the norm
    passes that of ``values``' dtype (65504 for float16)."""
    flat = np.abs(values.ravel().astype(np.float64, copy=False))
    if flat.size == 0:
        return 0.0
    if norm_type == math.inf:
        return float(flat.max())
    if norm_type == -math.inf:
        return float(flat.min())
    if norm_type == 0:
        return float(np.count_nonzero(flat))
    dtype = values.dtype if values.dtype.kind == "f" else np.dtype(np.float64)
    largest = float(np.finfo(np.promote_types(dtype, np.float32)).max)
    if norm_type == 2:
        total = float(np.dot(flat, flat))
        norm = math.inf if total > largest else math.sqrt(total)
    else:
        with np.errstate(divide="ignore", over="ignore"):  # a negative p of a 0 entry: |0|ᵖ = ∞, and the norm 0
            total = np.sum(flat**norm_type)
            norm = math.inf if total > largest and norm_type > 0 else float(total ** (1 / norm_type))
    return math.inf if norm > np.finfo(dtype).max else norm


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float | Tensor, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale the gradients in place so their total ``norm_type``-norm is at most ``max_norm``.

    Returns the total norm *before* clipping (a 0-d tensor, as in PyTorch). Parameters
    without ``.grad`` are skipped. When the total norm is NaN or infinite the gradients
    are left untouched (PyTorch would turn them all into NaN, hiding which one blew up);
    ``error_if_nonfinite=True`` raises instead. ``foreach`` (PyTorch's choice of kernel)
    is accepted and changes nothing: the result is the same either way.
    """
    recorder = call_recorder()  # a compiled step (glassgrad.compiler) replays this call as one kernel
    if recorder is not None:
        return recorder.on_call(clip_grad_norm_, (parameters, max_norm, norm_type, error_if_nonfinite))
    grads = [p.grad for p in parameter_list(parameters, "clip_grad_norm_") if p.grad is not None]
    max_norm = _non_negative(max_norm, "max_norm", "clip_grad_norm_")
    norm_type = float(norm_type)
    if math.isnan(norm_type):
        raise ValueError("clip_grad_norm_: norm_type must be a number (e.g. 2.0, 1.0 or inf), got nan")
    if not grads:
        return _norm_tensor(0.0, [])
    arrays = [g.array for g in grads]
    total = _total_norm(arrays, norm_type)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}, "
                               "so they cannot be clipped; lower the learning rate or find the step that blew up")
        return _norm_tensor(total, arrays)
    norm = _norm_tensor(total, arrays)
    _scale(grads, max_norm, total, norm.array.dtype)
    return norm


clip_grad_norm = renamed(clip_grad_norm_, "gg.nn.utils.clip_grad_norm", "gg.nn.utils.clip_grad_norm_")


def _total_norm(arrays: list[np.ndarray], norm_type: float) -> float:
    """The p-norm of all entries of ``arrays`` together: the p-norm of their p-norms (each in its array's dtype, as
    PyTorch stacks them), of the arrays with entries (an empty one adds none; its norm, 0, made the −∞ and
    negative-order totals 0; PyTorch refuses an empty gradient for those orders and for ∞)."""
    norms = [_norm(a, norm_type) for a in arrays if a.size]
    return _norm(np.array(norms, dtype=joined_dtype(a.dtype for a in arrays) if norms else np.float64), norm_type)


def _norm_tensor(total: float, arrays: list[np.ndarray]) -> Tensor:
    """The total norm as PyTorch returns it: a 0-d tensor in the dtype its per-tensor norms promote to (float32 for
    float16 gradients beside float32 ones), or in the default dtype when there is no gradient."""
    dtype = joined_dtype(a.dtype for a in arrays) if arrays else get_default_dtype()
    return Tensor._wrap(np.array(total, dtype=dtype))


def _scale(grads: list[Tensor], max_norm: float, total: float, dtype: np.dtype) -> None:
    """``g ← g · max_norm / (total + 10⁻⁶)`` in place, when that factor is below 1.

    The factor is rounded as PyTorch's: ``total`` in ``dtype`` (the total norm's), then ``+ 10⁻⁶``, ``1/·`` (PyTorch's
    ``max_norm / t`` is ``t.reciprocal() * max_norm``) and ``· max_norm``, each in ``dtype``, computed in float32 at
    least; each gradient is multiplied by it in its own dtype (float32 at least), so float32 gradients come out
    bit for bit as PyTorch's, not an ulp apart."""
    compute = np.promote_types(dtype, np.float32)  # PyTorch's opmath: float16 computes in float32

    def rounded(value: np.ndarray) -> np.ndarray:
        return value.astype(dtype).astype(compute)

    denominator = rounded(np.asarray(total, dtype).astype(compute) + compute.type(CLIP_EPSILON))
    scale = min(rounded(rounded(1 / denominator) * compute.type(max_norm)), 1.0)
    if scale < 1.0:
        for grad in grads:
            grad.array *= np.asarray(scale, np.promote_types(grad.dtype, np.float32))


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float | Tensor,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient entry in place to ``[−clip_value, clip_value]`` (``foreach`` changes nothing)."""
    recorder = call_recorder()  # a compiled step (glassgrad.compiler) replays this call as one kernel
    if recorder is not None:
        return recorder.on_call(clip_grad_value_, (parameters, clip_value))
    clip_value = _non_negative(clip_value, "clip_value", "clip_grad_value_")
    for param in parameter_list(parameters, "clip_grad_value_"):
        if param.grad is not None:
            np.clip(param.grad.array, -clip_value, clip_value, out=param.grad.array)


def get_total_norm(tensors: Iterable[Tensor] | Tensor, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """``‖·‖_p`` of all entries of ``tensors`` together (the norm :func:`clip_grad_norm_` measures).

    Measured from the tensors' arrays in one kernel (:func:`~glassgrad.autograd.recorded_call`), so a compiled step
    measures each call's gradients (a ``p.grad`` is new at each step), not the captures' norm ever after."""
    arrays = [t.array for t in parameter_list(tensors, "get_total_norm")]
    return recorded_call(_total_norm_of, arrays, float(norm_type), error_if_nonfinite)


def _total_norm_of(arrays: list[np.ndarray], norm_type: float, error_if_nonfinite: bool) -> Tensor:
    """:func:`get_total_norm` of the tensors' arrays."""
    total = _total_norm(arrays, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"get_total_norm: the total norm is {total}; pass error_if_nonfinite=False to allow it")
    return _norm_tensor(total, arrays)


def clip_grads_with_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float | Tensor, total_norm: Any,
                          foreach: bool | None = None) -> None:
    """Scale every gradient by ``max_norm / (total_norm + 10⁻⁶)`` when that is below 1 (the second half of
    :func:`clip_grad_norm_`, with a norm measured elsewhere, e.g. by :func:`get_total_norm`).

    One kernel of a compiled step (:func:`~glassgrad.autograd.recorded_call`), which reads a tensor ``total_norm``'s
    array at each call, as ``get_total_norm``'s result is new at each step."""
    recorded_call(_clip_with_norm, parameters, max_norm, total_norm.array if isinstance(total_norm, Tensor) else
                  total_norm)


def _clip_with_norm(parameters: Iterable[Tensor] | Tensor, max_norm: float | Tensor, total_norm: Any) -> None:
    """:func:`clip_grads_with_norm_` with a tensor ``total_norm`` given as its array."""
    total = float(total_norm)
    dtype = np.dtype(np.float64)  # a Python number; a tensor's own dtype, an integer one's + 1e-6 the default dtype
    if isinstance(total_norm, np.ndarray):
        dtype = total_norm.dtype if total_norm.dtype.kind == "f" else np.dtype(get_default_dtype())
    grads = [p.grad for p in parameter_list(parameters, "clip_grads_with_norm_") if p.grad is not None]
    _scale(grads, _non_negative(max_norm, "max_norm", "clip_grads_with_norm_"), total, dtype)
