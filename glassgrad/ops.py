"""The rule table: every differentiable primitive, its forward beside its backward.

Each :class:`Op` row holds

* ``forward(*arrays_and_settings) -> (output, saved)`` computed with NumPy, and
* ``backward(upstream, saved) -> contributions``, the vector-Jacobian product: given
  ``upstream = ∂L/∂out`` it returns ``∂L/∂input`` for every input, in order, or ``None``
  for an input that needs no gradient.

The rules see only NumPy arrays; they know nothing of tensors, graphs or traces.
Rules whose inputs can be broadcast or promoted to a common dtype (``broadcasting=True``:
the binary elementwise ops, ``where``, ``expand``, ``cat``, ``stack``, batched ``matmul``)
may return contributions in the output's shape and dtype: the engine
(:mod:`glassgrad.autograd`) sums them back to each input's shape and dtype, once, for all of
them. Every other rule returns contributions already shaped like its inputs.

Choices at kinks, shared with PyTorch:

* ``relu'(0) = 0`` (the mask is ``x > 0``);  ``|x|'(0) = 0``;
* ``clamp`` passes the gradient where ``min <= x <= max`` (both ends included);
* ties in ``max``/``min``/``maximum``/``minimum`` split the gradient evenly between
  the tied entries (PyTorch does so for ``max()`` over all elements and for
  ``maximum``; for ``max(dim)`` PyTorch sends it all to one index instead).

``python -m glassgrad rules`` prints this table as a cheat sheet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Op:
    """One primitive: its name, its math, and its forward and backward functions."""

    name: str
    formula: str
    local_grad: str
    forward: Callable[..., tuple[Array, Any]]
    backward: Callable[[Array, Any], tuple[Array | None, ...]]
    broadcasting: bool = False
    saves: tuple[tuple[int, ...], ...] | Callable[[Any], tuple[tuple[int, ...], ...]] = ()
    """For each input, the tensors its gradient reads back: input positions and :data:`OUT`.

    These are PyTorch's saved tensors (``tools/autograd/derivatives.yaml``): when an input
    needs a gradient, ``backward`` checks that none of them was changed in place since the
    forward (see :mod:`glassgrad.autograd`). A rule that reads anything else keeps its own
    copy. A function of the saved values where it depends on the settings (``max(dim)``).
    """

    def __repr__(self) -> str:
        return f"<op {self.name}: {self.formula}>"


RULES: dict[str, Op] = {}

OUT = -1
"""In :attr:`Op.saves`: the op's own output (``exp``, ``sigmoid``, ``softmax`` reuse it)."""


def register(op: Op) -> Op:
    """Add ``op`` to :data:`RULES` (the table ``glassgrad rules`` prints) and return it."""
    RULES[op.name] = op
    return op


_CONSTANTS: dict[tuple[float, np.dtype], Array] = {}
MAX_CONSTANTS = 1024


def constant(value: float, dtype: np.dtype) -> Array:
    """A cached 0-d array of ``value`` in ``dtype``.

    NumPy multiplies an array by a 0-d array of its own dtype about twice as fast as by a
    Python number, which matters for the small arrays of a lesson-sized network.
    """
    key = (value, dtype)
    found = _CONSTANTS.get(key)
    if found is None:
        if len(_CONSTANTS) >= MAX_CONSTANTS:  # e.g. a learning rate that changes every step
            _CONSTANTS.clear()
        found = _CONSTANTS[key] = np.array(value, dtype=dtype)
        found.flags.writeable = False
    return found


def _reduced_like(grad: Array, shape: tuple, axis, keepdim: bool) -> Array:
    """Give a reduction's upstream gradient back the reduced axes (size 1) so it broadcasts."""
    if axis is None or keepdim:
        return grad
    return np.expand_dims(grad, axis)


def expand_to(grad: Array, shape: tuple) -> Array:
    """A new array of ``shape`` filled by broadcasting ``grad`` (writable, unlike a broadcast view)."""
    out = np.empty(shape, dtype=grad.dtype)
    out[...] = grad
    return out


def _tie_share(values: Array, extreme: Array, axis) -> Array:
    """Where ``values`` equals the reduced ``extreme``: 1/(number of ties), else 0."""
    hits = values == extreme
    return hits / hits.sum(axis=axis, keepdims=True)


# --- elementwise, two inputs (broadcasting) -------------------------------------------

def _add(a, b):
    return a + b, None

def _add_back(up, saved):
    return up, up

ADD = register(Op("add", "out = a + b", "∂out/∂a = 1, ∂out/∂b = 1", _add, _add_back, broadcasting=True))


def _sub(a, b):
    return a - b, None

def _sub_back(up, saved):
    return up, -up

SUB = register(Op("sub", "out = a − b", "∂out/∂a = 1, ∂out/∂b = −1", _sub, _sub_back, broadcasting=True))


def _mul(a, b):
    return a * b, (a, b)

def _mul_back(up, saved):
    a, b = saved
    return up * b, up * a

MUL = register(Op("mul", "out = a · b", "∂out/∂a = b, ∂out/∂b = a", _mul, _mul_back, broadcasting=True,
                    saves=((1,), (0,))))


def _div(a, b):
    out = a / b if a.dtype.kind == "f" else np.true_divide(a, b, dtype=np.float32)  # int / int: float32, as in PyTorch
    return out, (a, b)

def _div_back(up, saved):
    a, b = saved
    share = up / b
    return share, -share * (a / b)

DIV = register(Op("div", "out = a / b", "∂out/∂a = 1/b, ∂out/∂b = −a/b²", _div, _div_back, broadcasting=True,
                  saves=((1,), (0, 1))))


def _pow(a, b):
    out = a**b
    return out, (a, b, out)

def _pow_back(up, saved):
    a, b, out = saved
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a = np.where((a == 0) & (b >= 0), 0.0, np.log(a)).astype(out.dtype, copy=False)
    return up * b * a ** (b - 1), up * out * log_a

POW = register(Op("pow", "out = aᵇ", "∂out/∂a = b·aᵇ⁻¹, ∂out/∂b = aᵇ·ln a", _pow, _pow_back, broadcasting=True,
                  saves=((0, 1), (0, 1, OUT))))


def _maximum(a, b):
    return np.maximum(a, b), (a, b)

def _maximum_back(up, saved):
    a, b = saved
    share_a = (a > b) + 0.5 * (a == b)
    return up * share_a.astype(up.dtype), up * (1 - share_a).astype(up.dtype)

MAXIMUM = register(Op(
    "maximum", "out = max(a, b)",
    "1 to the larger input, ½ each on a tie",
    _maximum, _maximum_back, broadcasting=True, saves=((0, 1), (0, 1)),
))


def _minimum(a, b):
    return np.minimum(a, b), (a, b)

def _minimum_back(up, saved):
    a, b = saved
    share_a = (a < b) + 0.5 * (a == b)
    return up * share_a.astype(up.dtype), up * (1 - share_a).astype(up.dtype)

MINIMUM = register(Op(
    "minimum", "out = min(a, b)",
    "1 to the smaller input, ½ each on a tie",
    _minimum, _minimum_back, broadcasting=True, saves=((0, 1), (0, 1)),
))


def _where(condition, a, b):
    return np.where(condition, a, b), condition.astype(bool)  # a copy: the condition may change later

def _where_back(up, condition):
    return np.where(condition, up, 0).astype(up.dtype), np.where(condition, 0, up).astype(up.dtype)

WHERE = register(Op(
    "where", "out = where(c, a, b)",
    "∂out/∂a = c, ∂out/∂b = not c",
    _where, _where_back, broadcasting=True,
))


# --- elementwise, one input ------------------------------------------------------------

def _neg(a):
    return -a, None

def _neg_back(up, saved):
    return (-up,)

NEG = register(Op("neg", "out = −a", "∂out/∂a = −1", _neg, _neg_back))


def _pow_scalar(a, p):
    if isinstance(p, float) and a.dtype.kind != "f":  # int ** 0.5: float32, as in PyTorch
        a = a.astype(np.float32)
    return a**p, (a, p)

def _pow_scalar_back(up, saved):
    a, p = saved
    if p == 0:
        return (np.zeros_like(up),)
    return (up * (p * a ** (p - 1)),)

POW_SCALAR = register(Op("pow_scalar", "out = aᵖ (p a constant)", "∂out/∂a = p·aᵖ⁻¹", _pow_scalar, _pow_scalar_back,
                         saves=((0,),)))


def _exp(a):
    out = np.exp(a)
    return out, out

def _exp_back(up, out):
    return (up * out,)

EXP = register(Op("exp", "out = eᵃ", "∂out/∂a = eᵃ = out", _exp, _exp_back,
                  saves=((OUT,),)))


def _log(a):
    return np.log(a), a

def _log_back(up, a):
    return (up / a,)

LOG = register(Op("log", "out = ln a", "∂out/∂a = 1/a", _log, _log_back,
                  saves=((0,),)))


def _sqrt(a):
    out = np.sqrt(a)
    return out, out

def _sqrt_back(up, out):
    return (up / (2 * out),)

SQRT = register(Op("sqrt", "out = √a", "∂out/∂a = 1/(2√a)", _sqrt, _sqrt_back,
                   saves=((OUT,),)))


def _abs(a):
    return np.abs(a), a

def _abs_back(up, a):
    return (up * np.sign(a),)

ABS = register(Op("abs", "out = |a|", "∂out/∂a = sign(a)  (0 at a = 0)", _abs, _abs_back,
                  saves=((0,),)))


def _sin(a):
    return np.sin(a), a

def _sin_back(up, a):
    return (up * np.cos(a),)

SIN = register(Op("sin", "out = sin a", "∂out/∂a = cos a", _sin, _sin_back,
                  saves=((0,),)))


def _cos(a):
    return np.cos(a), a

def _cos_back(up, a):
    return (-up * np.sin(a),)

COS = register(Op("cos", "out = cos a", "∂out/∂a = −sin a", _cos, _cos_back,
                  saves=((0,),)))


def _relu(a):
    mask = (a > 0).astype(a.dtype)  # 1.0 where a > 0, else 0.0; a float mask multiplies fastest
    return np.maximum(a, 0), mask  # +0.0 for negative inputs (a · mask would show −0.0); NaN stays NaN

def _relu_back(up, mask):
    return (up * mask,)

RELU = register(Op("relu", "out = max(0, a)", "∂out/∂a = 1 if a > 0 else 0  (0 at a = 0)", _relu, _relu_back,
                   saves=((OUT,),)))


def _leaky_relu(a, slope):
    slopes = np.where(a > 0, 1, slope).astype(a.dtype)
    return a * slopes, slopes

def _leaky_relu_back(up, slopes):
    return (up * slopes,)

LEAKY_RELU = register(Op(
    "leaky_relu", "out = a if a > 0 else s·a",
    "∂out/∂a = 1 if a > 0 else s",
    _leaky_relu, _leaky_relu_back, saves=((0,),),
))


def _sigmoid(a):
    # σ(a) = ½·tanh(a/2) + ½: the same function, and it never overflows
    half = constant(0.5, a.dtype)
    out = np.tanh(np.multiply(a, half))
    out *= half
    out += half
    return out, out


def _sigmoid_back(up, out):
    scaled = up * out
    return (scaled - scaled * out,)  # up·σ·(1 − σ), without a Python scalar

SIGMOID = register(Op("sigmoid", "out = σ(a) = 1/(1 + e⁻ᵃ)", "∂out/∂a = σ(a)·(1 − σ(a))", _sigmoid, _sigmoid_back,
                      saves=((OUT,),)))


def _tanh(a):
    out = np.tanh(a)
    return out, out

def _tanh_back(up, out):
    scaled = up * out
    return (up - scaled * out,)  # up·(1 − tanh²), without a Python scalar

TANH = register(Op("tanh", "out = tanh a", "∂out/∂a = 1 − tanh²a", _tanh, _tanh_back,
                   saves=((OUT,),)))


def _clamp(a, low, high):
    inside = np.ones(a.shape, dtype=bool)
    if low is not None:
        inside &= a >= low
    if high is not None:
        inside &= a <= high
    return np.clip(a, low, high), inside

def _clamp_back(up, inside):
    return (up * inside,)

CLAMP = register(Op("clamp", "out = min(max(a, lo), hi)", "∂out/∂a = 1 if lo ≤ a ≤ hi else 0", _clamp, _clamp_back,
                    saves=((0,),)))


def _cast(a, dtype):
    return a.astype(dtype), a.dtype

def _cast_back(up, dtype):
    return (up.astype(dtype),)

CAST = register(Op("cast", "out = a as another dtype", "∂out/∂a = 1 (cast back)", _cast, _cast_back))


# --- reductions --------------------------------------------------------------------------

def _sum(a, axis, keepdim):
    return a.sum(axis=axis, keepdims=keepdim), (a.shape, axis, keepdim)

def _sum_back(up, saved):
    shape, axis, keepdim = saved
    return (expand_to(_reduced_like(up, shape, axis, keepdim), shape),)

SUM = register(Op("sum", "out = Σ a", "∂out/∂aᵢ = 1", _sum, _sum_back))


def _mean(a, axis, keepdim):
    total = np.add.reduce(a, axis=axis, keepdims=keepdim)
    count = a.size // max(total.size, 1)
    return total / count, (a.shape, axis, keepdim, count)

def _mean_back(up, saved):
    shape, axis, keepdim, count = saved
    return (expand_to(_reduced_like(up, shape, axis, keepdim) / count, shape),)

MEAN = register(Op("mean", "out = (1/n) Σ a", "∂out/∂aᵢ = 1/n", _mean, _mean_back))


def _var(a, axis, correction, keepdim):
    centred = a - a.mean(axis=axis, keepdims=True)
    count = a.size // max(np.size(centred.sum(axis=axis)), 1)
    divisor = max(count - correction, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (centred * centred).sum(axis=axis, keepdims=keepdim) / divisor
    return out, (centred, axis, keepdim, divisor)

def _var_back(up, saved):
    centred, axis, keepdim, divisor = saved
    with np.errstate(divide="ignore", invalid="ignore"):
        return (_reduced_like(up, centred.shape, axis, keepdim) * centred * (2 / divisor),)

VAR = register(Op("var", "out = Σ(a − ā)² / (n − c)", "∂out/∂aᵢ = 2(aᵢ − ā)/(n − c)", _var, _var_back,
                  saves=((0,),)))


def _max(a, axis, keepdim):
    out = a.max(axis=axis, keepdims=True)
    share = _tie_share(a, out, axis)
    return (out if keepdim else np.squeeze(out, axis=axis)), (share, axis, keepdim)

def _max_back(up, saved):
    share, axis, keepdim = saved
    return (_reduced_like(up, share.shape, axis, keepdim) * share.astype(up.dtype, copy=False),)

def _extreme_saves(saved):
    """PyTorch saves the input and the output of ``max()``, only the indices of ``max(dim)``."""
    return ((0, OUT),) if saved[1] is None else ((),)

MAX = register(Op("max", "out = max a", "1 at the maximum (split evenly between ties), else 0", _max, _max_back,
                  saves=_extreme_saves))


def _min(a, axis, keepdim):
    out = a.min(axis=axis, keepdims=True)
    share = _tie_share(a, out, axis)
    return (out if keepdim else np.squeeze(out, axis=axis)), (share, axis, keepdim)

MIN = register(Op("min", "out = min a", "1 at the minimum (split evenly between ties), else 0", _min, _max_back,
                  saves=_extreme_saves))


def _logsumexp(a, axis, keepdim):
    peak = a.max(axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    exps = np.exp(a - peak)
    total = exps.sum(axis=axis, keepdims=True)
    out = np.log(total) + peak
    return (out if keepdim else np.squeeze(out, axis=axis)), (exps / total, axis, keepdim)

def _logsumexp_back(up, saved):
    probs, axis, keepdim = saved
    return (_reduced_like(up, probs.shape, axis, keepdim) * probs,)

LOGSUMEXP = register(Op(
    "logsumexp", "out = ln Σ eᵃ (stable: m + ln Σ eᵃ⁻ᵐ)",
    "∂out/∂aᵢ = softmax(a)ᵢ",
    _logsumexp, _logsumexp_back, saves=((0, OUT),),
))


def softmax_array(a: Array, axis: int) -> Array:
    """Stable softmax of a NumPy array: ``e^(a − max) / Σ e^(a − max)``."""
    exps = np.exp(a - a.max(axis=axis, keepdims=True))
    exps /= exps.sum(axis=axis, keepdims=True)
    return exps


def _softmax(a, axis):
    out = softmax_array(a, axis)
    return out, (out, axis)

def _softmax_back(up, saved):
    out, axis = saved
    weighted = up * out
    return (weighted - out * weighted.sum(axis=axis, keepdims=True),)

SOFTMAX = register(Op(
    "softmax", "out = eᵃ / Σ eᵃ",
    "∂L/∂a = out ⊙ (∂L/∂out − Σ ∂L/∂out ⊙ out)",
    _softmax, _softmax_back, saves=((OUT,),),
))


def _log_softmax(a, axis):
    shifted = a - a.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return out, (out, axis)

def _log_softmax_back(up, saved):
    out, axis = saved
    return (up - np.exp(out) * up.sum(axis=axis, keepdims=True),)

LOG_SOFTMAX = register(Op(
    "log_softmax", "out = a − logsumexp(a)",
    "∂L/∂a = ∂L/∂out − softmax(a) · Σ ∂L/∂out",
    _log_softmax, _log_softmax_back, saves=((OUT,),),
))


# --- shapes --------------------------------------------------------------------------------

def _reshape(a, shape):
    return a.reshape(shape), a.shape

def _reshape_back(up, shape):
    return (up.reshape(shape),)

RESHAPE = register(Op(
    "reshape", "out = a viewed with a new shape",
    "∂L/∂a = ∂L/∂out reshaped back",
    _reshape, _reshape_back,
))


def _permute(a, axes):
    return a.transpose(axes), np.argsort(axes)

def _permute_back(up, inverse):
    return (up.transpose(inverse),)

PERMUTE = register(Op(
    "permute", "out = a with axes reordered",
    "∂L/∂a = ∂L/∂out with the order undone",
    _permute, _permute_back,
))


def _expand(a, shape):
    return np.broadcast_to(a, shape), None

def _expand_back(up, saved):
    return (up,)  # the engine sums the broadcast axes back

EXPAND = register(Op(
    "expand", "out = a broadcast to a larger shape",
    "∂L/∂a = Σ ∂L/∂out over the copies",
    _expand, _expand_back,
    broadcasting=True,
))


def _getitem(a, index, advanced):
    return a[index], (a.shape, index, advanced)

def _getitem_back(up, saved):
    shape, index, advanced = saved
    grad = np.zeros(shape, dtype=up.dtype)
    if advanced:
        np.add.at(grad, index, up)
    else:
        grad[index] = up
    return (grad,)

GETITEM = register(Op(
    "getitem", "out = a[index]",
    "∂L/∂a = ∂L/∂out scattered back (repeats add up)",
    _getitem, _getitem_back,
))


def _setitem(a, value, index):
    a[index] = value  # into a's own memory: recorded only for an in-place change (t[index] = v, t.copy_(v))
    return a, index

def _setitem_back(up, index):
    kept = np.array(up)  # a writable copy (a 0-d upstream may come as a NumPy scalar)
    kept[index] = 0  # the old entries there were overwritten: they get no gradient
    return kept, up[index]

SETITEM = register(Op(
    "setitem", "out = a with out[index] = v",
    "∂L/∂a = ∂L/∂out with the written entries set to 0, ∂L/∂v = ∂L/∂out[index]",
    _setitem, _setitem_back,
    broadcasting=True,
))


def _cat(*arrays_and_axis):
    *arrays, axis = arrays_and_axis
    ends = np.cumsum([x.shape[axis] for x in arrays])[:-1]
    return np.concatenate(arrays, axis=axis), (ends, axis)

def _cat_back(up, saved):
    ends, axis = saved
    return tuple(np.split(up, ends, axis=axis))

CAT = register(Op(
    "cat", "out = [a₁, a₂, …] joined along a dim",
    "∂L/∂aₖ = the slice of ∂L/∂out that aₖ filled",
    _cat, _cat_back,
    broadcasting=True,
))


def _stack(*arrays_and_axis):
    *arrays, axis = arrays_and_axis
    return np.stack(arrays, axis=axis), axis

def _stack_back(up, axis):
    return tuple(np.moveaxis(up, axis, 0))

STACK = register(Op(
    "stack", "out = [a₁, a₂, …] stacked on a new dim",
    "∂L/∂aₖ = ∂L/∂out[k] along that dim",
    _stack, _stack_back,
    broadcasting=True,
))


# --- products ------------------------------------------------------------------------------

def _matmul(a, b, needs):
    return a @ b, (a, b, needs)

def _matmul_back(up, saved):
    a, b, (need_a, need_b) = saved
    # treat a vector as a matrix with one row (a) or one column (b), as matmul does
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    up2 = up
    if b.ndim == 1:  # first: for vector·vector the upstream is 0-d and becomes (1,), then (1, 1)
        up2 = np.expand_dims(up2, -1)
    if a.ndim == 1:
        up2 = np.expand_dims(up2, -2)
    grad_a = grad_b = None
    if need_a:
        grad_a = up2 @ np.swapaxes(b2, -1, -2)
        if a.ndim == 1:
            grad_a = grad_a[..., 0, :]
    if need_b:
        grad_b = np.swapaxes(a2, -1, -2) @ up2
        if b.ndim == 1:
            grad_b = grad_b[..., 0]
    return grad_a, grad_b

MATMUL = register(Op(
    "matmul", "out = A @ B",
    "∂L/∂A = ∂L/∂out @ Bᵀ, ∂L/∂B = Aᵀ @ ∂L/∂out",
    _matmul, _matmul_back, broadcasting=True, saves=((1,), (0,)),
))


def _linear(x, weight, bias, needs):
    out = np.dot(x, weight.T)  # np.dot: less call overhead than matmul for small operands
    if bias is not None:
        out += bias
    return out, (x, weight, needs)

def _linear_back(up, saved):
    x, weight, (need_x, need_w, need_b) = saved
    grad_x = np.dot(up, weight) if need_x else None
    if up.ndim != 2:  # extra leading dims (a batch of sequences, say) are more rows
        up, x = up.reshape(-1, up.shape[-1]), x.reshape(-1, x.shape[-1])
    grad_w = np.dot(up.T, x) if need_w else None
    grad_b = np.add.reduce(up, axis=0) if need_b else None
    return grad_x, grad_w, grad_b

LINEAR = register(Op("linear", "Z = X·Wᵀ + b  (per sample: z = W·x + b)",
      "∂L/∂X = ∂L/∂Z·W, ∂L/∂W = ∂L/∂Zᵀ·X, ∂L/∂b = Σ_rows ∂L/∂Z", _linear, _linear_back,
      saves=((1,), (0,), ())))


# --- fused losses (kept whole for stability and speed) ---------------------------------------

def _reduce_loss(per_item: Array, reduction: str) -> Array:
    if reduction == "none":
        return per_item
    total = np.add.reduce(per_item, axis=None)
    return np.asarray(total / per_item.size if reduction == "mean" else total, dtype=per_item.dtype)


def _loss_upstream(up: Array, reduction: str, count: int, item_shape: tuple) -> Array:
    """∂L/∂(per-item loss) for each reduction, shaped to broadcast over ``item_shape``."""
    if reduction == "mean":
        return float(up) / count
    if reduction == "sum":
        return float(up)
    return up.reshape(up.shape + (1,) * (len(item_shape) - up.ndim))


def _mse(prediction, target, reduction, needs):
    diff = prediction - target
    return _reduce_loss(diff * diff, reduction), (diff, reduction, needs)


def _mse_back(up, saved):
    diff, reduction, (need_prediction, need_target) = saved
    grad = diff * (2 * _loss_upstream(up, reduction, diff.size, diff.shape))
    return (grad if need_prediction else None), (-grad if need_target else None)


MSE_LOSS = register(Op("mse_loss", "L = (1/n) Σ (ŷ − y)²", "∂L/∂ŷ = 2(ŷ − y)/n", _mse, _mse_back,
                       saves=((0, 1), (0, 1))))


def _cross_entropy(logits, target, reduction):
    """``logits`` (N, C); ``target`` class indices (N,) or probabilities (N, C)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    total = exps.sum(axis=1, keepdims=True)
    log_probs = shifted - np.log(total)
    exps /= total  # now softmax(logits)
    if target.dtype.kind == "f":
        per_item = -(target * log_probs).sum(axis=1)
        onehot = target
    else:
        rows = np.arange(len(target))
        per_item = -log_probs[rows, target]
        onehot = np.zeros_like(exps)
        onehot[rows, target] = 1
    return _reduce_loss(per_item, reduction), (exps, onehot, reduction)


def _cross_entropy_back(up, saved):
    probs, onehot, reduction = saved
    mass = onehot.sum(axis=1, keepdims=True) if onehot.dtype.kind == "f" else 1
    grad = (probs * mass - onehot) * _loss_upstream(up, reduction, len(probs), probs.shape)
    return grad, None


CROSS_ENTROPY = register(Op(
    "cross_entropy", "L = −(1/N) Σᵢ log softmax(zᵢ)[yᵢ]", "∂L/∂z = (softmax(z) − onehot(y)) / N",
    _cross_entropy, _cross_entropy_back, saves=((1,), ()),
))


def _bce(probs, target, reduction):
    # logs clamped at −100, as in PyTorch: p = 0 or 1 gives a finite loss (at most 100 per item)
    with np.errstate(divide="ignore"):
        log_p, log_not_p = np.maximum(np.log(probs), -100), np.maximum(np.log1p(-probs), -100)
    per_item = -(target * log_p + (1 - target) * log_not_p)
    return _reduce_loss(per_item, reduction), (probs, target, reduction)


def _bce_back(up, saved):
    probs, target, reduction = saved
    scale = _loss_upstream(up, reduction, probs.size, probs.shape)
    # the denominator is kept ≥ 1e-12, as in PyTorch, so p = 0 or 1 gives a large finite gradient, never NaN
    return (probs - target) / np.maximum(probs * (1 - probs), 1e-12) * scale, None


BCE = register(Op(
    "binary_cross_entropy", "L = −mean(y·log p + (1 − y)·log(1 − p))",
    "∂L/∂p = (p − y) / (p·(1 − p)) / n", _bce, _bce_back, saves=((0, 1), (0, 1)),
))


def _bce_with_logits(logits, target, reduction):
    # log(1 + e^{-|z|}) + max(z, 0) − z·y, stable for any z
    per_item = np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
    return _reduce_loss(per_item, reduction), (logits, target, reduction)


def _bce_with_logits_back(up, saved):
    logits, target, reduction = saved
    prob = _sigmoid(logits)[0]
    scale = _loss_upstream(up, reduction, logits.size, logits.shape)
    return (prob - target) * scale, None


BCE_WITH_LOGITS = register(Op(
    "binary_cross_entropy_with_logits", "L = −mean(y·log σ(z) + (1 − y)·log(1 − σ(z)))",
    "∂L/∂z = (σ(z) − y)/n", _bce_with_logits, _bce_with_logits_back, saves=((0, 1), (0, 1)),
))
