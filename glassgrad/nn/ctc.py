"""Connectionist temporal classification (CTC): the loss of a label sequence under per-frame class scores.

A speech or handwriting model emits, for each of ``T`` frames, log-probabilities over ``C`` classes, one of
them the *blank* (no label). An *alignment* of the target ``l = (l₁, …, l_S)`` is a path of T classes that
reads ``l`` once repeats are merged and blanks dropped (``a a – b`` → ``a b``; two equal labels in a row
need a blank between them). The loss is ``−ln Σ_paths Π_t y_t(path_t)``, summed over every alignment by
the forward (α) recursion over the blank-extended target ``l' = (–, l₁, –, l₂, …, l_S, –)`` (length
``2S + 1``), in log space:

    α_t(s) = ln(e^α_{t−1}(s) + e^α_{t−1}(s−1) + [skip] e^α_{t−1}(s−2)) + ln y_t(l'_s)

where the skip from ``s − 2`` is allowed when ``l'_s`` is a label different from ``l'_{s−2}``. Before any
frame ``α(0) = 0`` (probability 1) and every other state is impossible, so the first frame may start on the
leading blank or on ``l₁``; the loss is ``−ln(e^α_T(2S) + e^α_T(2S−1))``: the path ends on the last label or
the blank after it.

The recursion is composed from ``gather``, ``cat``, ``stack``, ``logsumexp`` and ``where`` (one step per
frame), so backward is the engine's and ``∂L/∂ln y_t(c) = −Σ_(s: l'_s = c) e^(α_t(s) + β_t(s) − ln y_t(c) + L)``
(β the backward recursion) comes out of it. PyTorch's kernel returns that plus ``y_t(c) = e^(ln y_t(c))``, a term
which cancels through ``log_softmax`` (whose outputs' exponentials sum to 1 per frame), so the two agree on the
gradient of the scores ahead of ``log_softmax``, the usual way the loss is fed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..arguments import shape_text
from ..creation import as_tensor
from ..functions import cat, stack, where
from ..tensor import Tensor

IMPOSSIBLE = -1e30  # the log-probability of a state no path reaches: e^IMPOSSIBLE is 0 in any float


def _lengths(lengths: Any, batch: int, name: str) -> np.ndarray:
    """``input_lengths``/``target_lengths`` (a tensor, list, tuple or int) as integers, one per sample."""
    values = np.asarray(lengths.numpy() if isinstance(lengths, Tensor) else lengths)
    if values.dtype.kind not in "iu":  # PyTorch's classes: its kernel checks a tensor, its argument parser a list
        error = RuntimeError if isinstance(lengths, Tensor) else TypeError
        raise error(f"ctc_loss: {name} must hold integers, got {values.dtype}; pass e.g. torch.tensor(lengths)")
    values = values.reshape(-1).astype(np.int64)
    if values.size != batch:
        raise RuntimeError(f"ctc_loss: {name} must be of size batch_size ({batch}), got {values.size} values")
    if (values < 0).any():
        raise RuntimeError(f"ctc_loss: {name} must be >= 0, got {values.min()}")
    return values


def _padded_targets(targets: np.ndarray, lengths: np.ndarray, batched: bool) -> np.ndarray:
    """The targets as one row per sample (N, S): as given when padded, else cut from the concatenation."""
    if batched and targets.ndim == 1:
        if targets.size != lengths.sum():
            raise RuntimeError(f"ctc_loss: concatenated 1-D targets must hold sum(target_lengths) = "
                               f"{lengths.sum()} labels, got {targets.size}")
        rows = np.zeros((lengths.size, max(int(lengths.max(initial=0)), 1)), dtype=np.int64)
        for row, piece in zip(rows, np.split(targets, np.cumsum(lengths)[:-1])):
            row[:piece.size] = piece
        return rows
    if targets.ndim != (2 if batched else 1):
        raise RuntimeError(f"ctc_loss: targets must be (N, S) padded or 1-D concatenated (for an unbatched (T, C) "
                           f"input: (S,)), got {shape_text(targets.shape)}")
    rows = targets if batched else targets.reshape(1, -1)
    if lengths.max(initial=0) > rows.shape[1]:
        raise RuntimeError(f"ctc_loss: a target length of {lengths.max()} is longer than the padded targets' "
                           f"{rows.shape[1]} columns")
    return rows


def _extended_labels(rows: np.ndarray, lengths: np.ndarray, blank: int) -> np.ndarray:
    """Each target with a blank before, between and after its labels: (N, 2·S_max + 1), blank-padded."""
    extended = np.full((rows.shape[0], 2 * rows.shape[1] + 1), blank, dtype=np.int64)
    for row, labels, length in zip(extended, rows, lengths):
        row[1:2 * length:2] = labels[:length]
    return extended


def ctc_negative_log_likelihoods(log_probs: Tensor, targets: Any, input_lengths: Any, target_lengths: Any,
                                 blank: int = 0, zero_infinity: bool = False) -> tuple[Tensor, np.ndarray]:
    """Each sample's CTC loss ``−ln p(target | log_probs)`` (shape (N,), or () for an unbatched (T, C) input)
    and its target length. A target with no alignment in its frames (fewer frames than labels plus repeats)
    has loss ∞ and gradient 0 (PyTorch: NaN), or loss 0 with ``zero_infinity``."""
    log_probs = as_tensor(log_probs)
    if log_probs.dtype.kind != "f":  # PyTorch's class: its kernel is built for floating dtypes only
        raise NotImplementedError(f"ctc_loss: log_probs must be floating (from log_softmax), got {log_probs.dtype}; "
                                  "convert it with x.float()")
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss: log_probs must be floating (T, N, C) or unbatched (T, C), got "
                           f"{shape_text(log_probs.shape)} {log_probs.dtype}")
    if log_probs.numel() == 0:  # PyTorch refuses it: no sample, frame or class to align
        raise RuntimeError(f"ctc_loss: log_probs must not be empty, got {shape_text(log_probs.shape)}; give at least "
                           "one sample, one frame and one class")
    batched = log_probs.ndim == 3
    frames = log_probs if batched else log_probs.reshape(log_probs.shape[0], 1, log_probs.shape[1])
    steps, batch, classes = frames.shape
    if not 0 <= blank < classes:
        raise RuntimeError(f"ctc_loss: blank must be in label range [0, {classes}), got {blank}")
    frame_counts = _lengths(input_lengths, batch, "input_lengths")
    label_counts = _lengths(target_lengths, batch, "target_lengths")
    if frame_counts.max(initial=0) > steps:
        raise RuntimeError(f"ctc_loss: input_lengths must be at most T = {steps}, got {frame_counts.max()}")
    labels = np.asarray(targets.numpy() if isinstance(targets, Tensor) else targets)
    if labels.dtype.kind not in "biuf":
        raise TypeError(f"ctc_loss: targets must be integer class indices, got {labels.dtype}; use targets.long()")
    with np.errstate(invalid="ignore"):  # floats are read as PyTorch reads them, cut to int64 (NaN: out of range)
        rows = _padded_targets(labels.astype(np.int64), label_counts, batched)
    used = np.arange(rows.shape[1]) < label_counts[:, None]
    if ((rows < 0) | (rows >= classes) | (rows == blank))[used].any():
        raise RuntimeError(f"ctc_loss: targets must be labels in [0, {classes}) other than blank = {blank}")
    extended = _extended_labels(rows, label_counts, blank)
    states = extended.shape[1]
    # ln y_t(l'_s) for every frame and state: (T, N, 2S + 1)
    emissions = frames.gather(2, np.broadcast_to(extended, (steps, batch, states)).copy())
    skips = np.zeros_like(extended, dtype=bool)
    skips[:, 2:] = (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])
    edge = frames.new_tensor(np.full((batch, 2), IMPOSSIBLE))
    alpha = frames.new_tensor(np.where(np.arange(states) == 0, 0.0, IMPOSSIBLE)[None].repeat(batch, 0))
    every_frame = int(frame_counts.min(initial=steps))  # frames every sample still reads: no need to hold any
    for t, emitted in enumerate(emissions.unbind(0)):
        before = cat([edge, alpha], 1)  # α_{t−1}(s − 2) and α_{t−1}(s − 1) as slices, impossible before s = 0
        skip = where(skips, before[:, :-2], IMPOSSIBLE)
        reached = stack([alpha, before[:, 1:-1], skip], -1).logsumexp(-1) + emitted
        alpha = reached if t < every_frame else where((t < frame_counts)[:, None], reached, alpha)
    last = 2 * label_counts
    ends = alpha.gather(1, np.stack([last, np.maximum(last - 1, 0)], 1))
    ends = where(np.stack([np.ones_like(last, bool), last > 0], 1), ends, edge)
    losses = -ends.logsumexp(1)
    repeats = ((rows[:, 1:] == rows[:, :-1]) & used[:, 1:]).sum(1)
    possible = frame_counts >= label_counts + repeats
    losses = where(possible, losses, losses.new_tensor(0.0 if zero_infinity else np.inf))
    return (losses if batched else losses.reshape(())), (label_counts if batched else label_counts.reshape(()))
