"""The rows of the rule table for vector norms, ``‖a‖_p = (Σ |aᵢ|^p)^(1/p)`` over some dims, and for the euclidean
distances of every pair of rows (``cdist``'s matrix-product form).

Registered in the same table as the rows of :mod:`glassgrad.ops` (:data:`glassgrad.ops.RULES`);
``x.norm()``, ``gg.linalg.vector_norm`` and ``F.normalize`` all come here. The orders, as in PyTorch:

* ``p = 2`` (the default, and ``'fro'``): ``√(Σ aᵢ²)``, whose slope is ``aᵢ/‖a‖``;
* ``p = 1``: ``Σ |aᵢ|``, slope ``sign(aᵢ)``;
* ``p = ∞`` / ``−∞``: the largest / smallest ``|aᵢ|``; the upstream goes to the entries that reach
  it, split evenly between ties, with their sign;
* ``p = 0``: how many entries are not zero, a count: no gradient at all, as PyTorch's (``x.grad`` stays None,
  ``autograd.grad`` gives None; it gave zeros);
* any other p: slope ``sign(aᵢ)·|aᵢ|^(p−1) / ‖a‖^(p−1)``.

A norm of one entry (every reduced dim of size 1) is ``|aᵢ|`` itself with slope ``sign(aᵢ)``, as PyTorch's: no
``aᵢ^p`` is formed, so a huge or tiny entry (1e200, 1e-170, or 1e20 in float32) keeps its value instead of an
overflowed ∞ or underflowed 0 (and the NaN of ∞/∞ in the slope).

Where the norm is 0 (every entry 0) the slope is taken as 0, as PyTorch does, instead of the
0/0 the formula gives; for ``p < 1`` an entry that is 0 gets slope 0 too. The recorded rule
(``create_graph=True``) keeps those zeros, so a second derivative there is 0 where PyTorch 2.13
gives NaN (the derivative does not exist at a kink; glassgrad never hands back a silent NaN).

>>> import numpy as np
>>> from glassgrad.ops import RULES
>>> RULES["norm"].forward(np.array([3.0, -4.0]), None, 2.0, False)[0].tolist()
5.0
"""

from __future__ import annotations

import math

import numpy as np

from .ops import OUT, Op, _reduced_count, register, row_major, widened


def _norm(a, axis, p, keepdim):
    if p < 0 or p == math.inf:
        _refuse_no_entries(a, axis, p)
    wide = widened(a)
    if p != 0 and _reduced_count(a.shape, axis) == 1:  # one entry each: its |aᵢ|, as PyTorch (no |aᵢ|^p to overflow)
        out = np.abs(a)
    elif p == 2:  # the default: no |a| needed
        out = np.sqrt(np.add.reduce(wide * wide, axis=axis, keepdims=True))
    elif p == 1:
        out = np.add.reduce(np.abs(wide), axis=axis, keepdims=True)
    elif abs(p) == math.inf:
        out = (np.max if p > 0 else np.min)(np.abs(a), axis=axis, keepdims=True)
    elif p == 0:
        out = np.add.reduce(a != 0, axis=axis, keepdims=True)
    else:
        out = np.add.reduce(np.abs(wide) ** p, axis=axis, keepdims=True) ** (1 / p)
    kept = np.asarray(out, dtype=a.dtype)
    return row_major(kept if keepdim or axis is None and not a.ndim else _dropped(kept, axis)), (a, kept, p)


def _refuse_no_entries(a, axis, p):
    """PyTorch's refusal of a norm with no value over no entries: ∞ the largest |aᵢ|, −∞ the smallest, and a negative
    p, (Σ |aᵢ|^p)^(1/p), whose sum of none is 0 and 0^(1/p) = ∞ (glassgrad gave that ∞)."""
    if _reduced_count(a.shape, axis) == 0:
        what = {math.inf: "the largest |aᵢ|", -math.inf: "the smallest |aᵢ|"}.get(p, "(Σ |aᵢ|^p)^(1/p), p < 0")
        raise RuntimeError(f"vector_norm: the {p:g} norm ({what}) of no entries has no value: a dim it reduces is "
                           "empty; reduce over dims of non-zero size")


def _dropped(kept, axis):
    """The reduced dims (size 1) taken out: a view of ``kept``."""
    return kept.reshape(()) if axis is None else np.squeeze(kept, axis=axis)


def _slope(a, norm, p, reached=None):
    """``∂‖a‖_p/∂aᵢ`` on NumPy arrays, ``norm`` with the reduced dims kept (see the module docstring)."""
    if a.size == norm.size:  # one entry each: the slope of |aᵢ|
        return np.sign(a)
    empty = norm == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if p == 2:  # a/∞ is the 0 where the norm is 0: one pass over a, the pick on the (smaller) norm
            return a / np.where(empty, np.inf, norm).astype(norm.dtype, copy=False)
        if p == 1:
            return np.sign(a)
        if abs(p) == math.inf:
            return np.sign(a) * _ties(a, norm)
        scaled = np.sign(a) * np.abs(a) ** (p - 1)
        if p < 1:
            return np.where((a == 0) | empty, 0, scaled * norm ** (1 - p))
        return np.where(empty, 0, scaled / norm ** (p - 1))


def _ties(a, norm):
    """For p = ±∞: 1/(how many reach it) at the entries whose |aᵢ| is the norm (or NaN), else 0."""
    reaches = (np.abs(a) == norm) | np.isnan(a)
    axes = tuple(i for i, (n, m) in enumerate(zip(a.shape, norm.shape)) if m == 1 and n != 1)
    return reaches / reaches.sum(axis=axes, keepdims=True)


def _norm_back(up, saved):
    a, norm, p = saved
    if p == 0:  # a count
        return (None,)
    return ((up.reshape(norm.shape) * _slope(a, norm, p)).astype(a.dtype, copy=False),)


def _norm_vjp(up, inputs, out, saved):
    """:func:`_norm_back` on tensors (recorded): the same slope, from the node's input and output; the masks
    (where the norm or an entry is 0, which entries reach ±∞'s norm) are constants."""
    a, (values, kept, p) = inputs[0], saved
    if p == 0:  # a count
        return (None,)
    norm = out.reshape(tuple(kept.shape))
    up = up.reshape(tuple(kept.shape))
    empty = kept == 0
    safe = norm + a.new_tensor(empty)  # the norm, with 1 where it is 0 (masked to 0 after)
    if values.size == kept.size:  # one entry each: the slope of |aᵢ|
        slope = a.sign()
    elif p == 2:
        slope = (a / safe).masked_fill(a.new_tensor(empty).bool(), 0.0)
    elif p == 1:
        slope = a.sign()
    elif abs(p) == math.inf:
        slope = a.sign() * a.new_tensor(_ties(values, kept))
    elif p < 1:
        zero = a.new_tensor((values == 0) | empty).bool()
        slope = (a.sign() * a.abs().masked_fill(zero, 1.0) ** (p - 1) * safe ** (1 - p)).masked_fill(zero, 0.0)
    else:
        slope = (a.sign() * a.abs() ** (p - 1) / safe ** (p - 1)).masked_fill(a.new_tensor(empty).bool(), 0.0)
    return (slope * up,)


NORM = register(Op(
    "norm", "out = ‖a‖_p = (Σ |aᵢ|^p)^(1/p)",
    ("{up}·sign({a})·|{a}|^({p}−1)/‖{a}‖^({p}−1)  (p = ±inf: {up}·sign({a}) at the entries whose |{a}| is the "
     "norm, split between ties; 0 where the norm is 0; p = 0: none)",),
    _norm, _norm_back, kind="reduction", written="‖{a}‖_{p}", settings=("dims", "p", "keepdim"),
    defaults=(None, 2.0, False), saves=((0, OUT),), vjp_tensors=_norm_vjp,
))


def _euclidean_dist(a, b):
    """``out[…, i, j] = √max(‖aᵢ‖² + ‖bⱼ‖² − 2·aᵢ·bⱼ, 0)``, PyTorch's form: one product of the rows
    ``[−2aᵢ, ‖aᵢ‖², 1]`` and ``[bⱼ, 1, ‖bⱼ‖²]`` (no pair's difference is formed; rounding can leave a small
    distance where two rows are equal, as in PyTorch)."""
    squares_a, squares_b = (a * a).sum(-1, keepdims=True), (b * b).sum(-1, keepdims=True)
    left = np.concatenate([-2 * a, squares_a, np.ones_like(squares_a)], -1)
    right = np.concatenate([b, np.ones_like(squares_b), squares_b], -1)
    with np.errstate(invalid="ignore"):  # ∞ − ∞ of a row holding ±∞ is NaN, as in PyTorch, without a warning
        out = np.sqrt(np.maximum(left @ np.swapaxes(right, -1, -2), 0))
    return out, (a, b, out)


def _euclidean_dist_back(up, saved):
    """``∂L/∂aᵢ = aᵢ·Σⱼ rᵢⱼ − Σⱼ rᵢⱼ·bⱼ`` and ``∂L/∂bⱼ = bⱼ·Σᵢ rᵢⱼ − Σᵢ rᵢⱼ·aᵢ``, with ``r = up/out`` (0 where the
    distance is 0): Σⱼ rᵢⱼ·(aᵢ − bⱼ) as two products."""
    a, b, out = saved
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = up / out
        ratio[out == 0] = 0
        return (a * ratio.sum(-1, keepdims=True) - ratio @ b,
                b * ratio.sum(-2)[..., None] - np.swapaxes(ratio, -1, -2) @ a)


def _euclidean_dist_vjp(up, inputs, out, saved):
    """:func:`_euclidean_dist_back` on tensors (recorded); where the distance is 0 is a constant."""
    a, b = inputs
    at_zero = a.new_tensor(saved[2] == 0)
    ratio = (up / (out + at_zero)).masked_fill(at_zero.bool(), 0.0)
    return (a * ratio.sum(-1, keepdim=True) - ratio @ b,
            b * ratio.sum(-2).unsqueeze(-1) - ratio.transpose(-1, -2) @ a)


EUCLIDEAN_DIST = register(Op(
    "euclidean_dist", "out[i, j] = ‖aᵢ − bⱼ‖ = √max(‖aᵢ‖² + ‖bⱼ‖² − 2·aᵢ·bⱼ, 0)",
    ("Σⱼ {up}ᵢⱼ·({a}ᵢ − {b}ⱼ)/{out}ᵢⱼ  (0 where {out}ᵢⱼ = 0)",
     "Σᵢ {up}ᵢⱼ·({b}ⱼ − {a}ᵢ)/{out}ᵢⱼ  (0 where {out}ᵢⱼ = 0)"),
    _euclidean_dist, _euclidean_dist_back, kind="contraction", roles=("a", "b"), written="cdist({a}, {b})",
    saves=((0, 1, OUT), (0, 1, OUT)), vjp_tensors=_euclidean_dist_vjp,
))
