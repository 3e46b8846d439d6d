"""Sums of float32 (and float16) arrays with PyTorch's accuracy over every axis.

NumPy's ``np.add.reduce`` sums pairwise only along its innermost loop, the reduced axes contiguous in memory with
the smallest stride; along any other reduced axis (``x.sum(0)`` of an (n, k) array, ``x.t().sum(1)``, a bias
gradient summed over the batch) it adds one row at a time, so its error grows as ``n·ε``: 1% at n = 10⁶ float32
values of 0.1, where PyTorch's cascade sum stays below 10⁻⁶. :func:`add_reduce` is ``np.add.reduce`` with those
axes first halved pairwise,

    ``s ← s[:⌊m/2⌋] + s[⌊m/2⌋:2⌊m/2⌋]`` (an odd last row added to row 0), until at most :data:`IN_TURN` rows
    are left to add in turn,

so the error grows as ``log₂(n)·ε``, as PyTorch's. Which axes are halved depends on the shape and strides only,
never on the values (a ``gg.compile`` replay repeats it bit for bit). float64, integers and small reductions go
straight to ``np.add.reduce``. A float16 ``a`` is summed in float32, PyTorch's accumulate type on the CPU
(:func:`widened`), and rounded to float16 once (:func:`narrowed`): NumPy's float16 running total rounds at every
step (5 ulps off PyTorch's over 64 rows), and overflows past 65504 where a mean of the values is finite.

>>> import numpy as np
>>> x = np.full((10**6, 2), 0.1, np.float32)
>>> float(add_reduce(x, 0)[0])       # exact: 100000.0015; PyTorch's 99999.9453; NumPy's np.add.reduce 100958.34
100000.0859375
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

IN_TURN = 128
"""The most values NumPy may add one at a time along outer axes: its error there, up to ``128·ε`` (10⁻⁶ relative
for 128 float32 values of 0.1), is no more than its own pairwise sum leaves in a block of 128 (and within
``torch.testing``'s float32 rtol, 1.3·10⁻⁶); 256 rows already give 2.4·10⁻⁶. A Linear layer's bias gradient at
batch ≤ 128 is never halved."""

_HALF = np.dtype(np.float16)


def _added_in_turn(a: np.ndarray, axes: set) -> list:
    """The reduced ``axes`` (longer than 1) that NumPy's reduction adds along one value at a time: all but the
    innermost run (the smallest-stride axis, if reduced, and those reduced axes that continue it in memory)."""
    order = sorted((i for i in range(a.ndim) if a.shape[i] > 1), key=lambda i: abs(a.strides[i]))
    inner, step = set(), None
    for i in order:
        if i not in axes or (step is not None and abs(a.strides[i]) != step):
            break
        inner.add(i)
        step = abs(a.strides[i]) * a.shape[i]
    return [i for i in axes if a.shape[i] > 1 and i not in inner]


def _count(a: np.ndarray, axis: Any) -> int:
    """How many values each sum of a reduction over ``axis`` (None or a tuple) adds; 0 for a whole contiguous array,
    which NumPy sums pairwise as one run (the commonest cases first: a quick answer is the point)."""
    if axis is None or len(axis) == a.ndim:
        return 0 if a.flags.forc else a.size
    return a.shape[axis[0]] if len(axis) == 1 else math.prod([a.shape[i] for i in axis])


def widened(a: np.ndarray) -> np.ndarray:
    """``a`` in PyTorch's accumulate type ("opmath") on the CPU: float16 as float32 (a mean of a thousand float16
    100s is 100, not the inf of a float16 running total; a softmax's ``e^(a−m)/Σ`` rounded once), any other array as
    it is, with no copy. The one rule of every float16 kernel that PyTorch computes in float32 (reductions, softmax,
    the norms, the losses' means); :func:`narrowed` rounds its result back. Decided by the dtype alone, so a
    ``gg.compile`` replay repeats it."""
    return a.astype(np.float32) if a.dtype == np.float16 else a


def narrowed(out: Any, a: np.ndarray) -> Any:
    """``out``, computed in :func:`widened`'s dtype, rounded back to ``a``'s: only a float16 ``a`` was widened (any
    other is returned as it is, with no call: a full reduction's NumPy number stays one)."""
    return out.astype(np.float16) if a.dtype == np.float16 else out


def log_of_sum(total: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``ln Σ`` of a softmax over ``a``'s last dim, from ``Σ = Σⱼ e^(aⱼ − max a)`` (``total``, in :func:`widened`'s
    dtype), as PyTorch's CPU kernel for the last dim (log_softmax's, cross_entropy's) keeps it: for a float16 ``a``,
    Σ is rounded to float16 and ``ln Σ`` is a float16 (``ln`` of a float16, rounded to float16), the rest of the
    log-probabilities in float32; for any other ``a``, ``np.log(total)``."""
    return np.log(total.astype(np.float16) if a.dtype.char == "e" else total)  # "e": float16, either byte order


def add_reduce(a: np.ndarray, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Any:
    """``np.add.reduce(a, axis, dtype=dtype, keepdims=keepdims)``, accurate to ``O(log n·ε)`` along every reduced
    axis of a float32 or float16 ``a`` (see the module's docstring; float16 summed in float32 and rounded once):
    the one sum of glassgrad's reductions (sum, mean, var, logsumexp, the losses, the norms' statistics)
    and of a gradient summed back over broadcast axes."""
    if a.dtype is _HALF and (dtype is None or dtype is _HALF):  # PyTorch's float32 accumulator, rounded once
        return narrowed(add_reduce(widened(a), axis, keepdims), a)
    if a.size > IN_TURN and a.dtype.char in "fe":  # else (and mostly): NumPy's own reduction, at once
        if isinstance(axis, (int, np.integer)):  # one axis (NumPy's integers too: np.add.reduce takes them)
            axis = int(axis)
        count = a.shape[axis] if axis.__class__ is int else _count(a, axis)  # the values each sum adds
        if count > IN_TURN:
            axes = range(a.ndim) if axis is None else (axis,) if axis.__class__ is int else axis
            in_turn = _added_in_turn(a, {i % a.ndim for i in axes})
            if math.prod([a.shape[i] for i in in_turn]) > IN_TURN:
                a = _halved(a, in_turn)
    return np.add.reduce(a, axis, dtype, None, keepdims)  # positional: 0.2 µs less than by keyword


def _halved(a: np.ndarray, in_turn: list) -> np.ndarray:
    """``a`` with the axes ``in_turn`` halved pairwise (the longest first) until their lengths' product is at most
    :data:`IN_TURN`: the same sums, in a new array (``a`` is not written)."""
    lengths = {i: a.shape[i] for i in in_turn}
    owned = False
    while math.prod(lengths.values()) > IN_TURN:
        axis = max(lengths, key=lengths.__getitem__)
        length, half = lengths[axis], lengths[axis] // 2
        lead = (slice(None),) * axis
        top, bottom = a[(*lead, slice(0, half))], a[(*lead, slice(half, 2 * half))]
        if owned:
            np.add(top, bottom, out=top)
        else:
            top, owned = top + bottom, True
        if length % 2:  # the odd last row joins row 0
            first = top[(*lead, slice(0, 1))]
            np.add(first, a[(*lead, slice(length - 1, length))], out=first)
        a, lengths[axis] = top, half
    return a


CASCADE_LEVELS = 8
"""The partial sums of PyTorch's float16 ``nll_loss`` total (``cascade_sum_num_levels`` in its CPU kernel)."""


def nll_total(items: np.ndarray, kept: np.ndarray | None = None) -> np.float16:
    """``Σ items`` of float16 as PyTorch's CPU ``nll_loss`` adds its rows' losses (and weights): in float16, every
    step rounded, in :data:`CASCADE_LEVELS` partial sums ``s₀ … s₇``. Row ``b`` (of ``n``; a row not ``kept`` is
    skipped whole) is added to ``s₀``; then, while ``b`` is a multiple of ``B^(j+1)`` (``B = 2^max(4, ⌈log₂ n⌉ // 8)``,
    16 below 2⁴⁰ rows), ``sⱼ₊₁ ← sⱼ₊₁ + sⱼ, sⱼ ← 0``; the total is ``((0 + s₀) + s₁) + … + s₇``. So each sum of 16
    rows is a float16 running total (not :func:`add_reduce`'s float32 rounded once, up to 3 ulps away), and which
    rows are summed together depends on the ignored ones (their positions only, never their values).
    ``items`` holds the kept rows' values in order, ``kept`` (None: all) where they were among all ``n`` rows."""
    positions = np.arange(items.size) if kept is None else np.flatnonzero(kept)
    rows = items.size if kept is None else kept.size
    power = max(4, (rows - 1).bit_length() // 8)  # (n − 1).bit_length() is ⌈log₂ n⌉
    values, total = items.astype(np.float16, copy=False), np.float16(0)
    for level in range(CASCADE_LEVELS):
        flushed = positions % (1 << (power * (level + 1))) == 0 if level < CASCADE_LEVELS - 1 else positions < 0
        ends = np.flatnonzero(flushed)
        sums = _running_sums(values, ends)  # each flushed run's, then the run left at this level
        total = np.float16(total + sums[-1])
        values, positions = sums[:-1], positions[ends]
    return total


def _running_sums(values: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The float16 running totals (``0 + v₀ + v₁ + …``, each step rounded: ``np.add.accumulate``, never pairwise) of
    the runs of ``values`` that end at the positions ``ends`` (included), then of the rest after the last (0 when
    none is left); the runs padded with zeros at their ends, which leave a running total as it is."""
    starts = np.concatenate(([0], ends + 1))
    lengths = np.append(ends + 1, values.size) - starts
    width = int(lengths.max())
    if not width:
        return np.zeros(starts.size, np.float16)
    steps = np.arange(width)
    padded = np.where(steps < lengths[:, None], values.take(np.minimum(starts[:, None] + steps, values.size - 1)), 0)
    return np.add.accumulate(padded.astype(np.float16, copy=False), axis=1)[:, -1]
