"""Sequences of different lengths in one batch (PyTorch's ``torch.nn.utils.rnn``).

**Padding.** ``pad_sequence([a, b, c])`` stacks sequences of shapes ``(Lᵢ, *)`` into one ``(L_max, N, *)``
tensor (``(N, L_max, *)`` with ``batch_first=True``), filling the short ones with
``padding_value`` after their end (or before it, ``padding_side="left"``); ``unpad_sequence``
takes them apart again. Both are made of ``cat`` and ``stack``, so gradients reach every
sequence and none reaches the padding. A loss then skips the padded positions with
``ignore_index`` (or a mask).

>>> import glassgrad as gg
>>> from glassgrad.nn.utils.rnn import pad_sequence
>>> pad_sequence([gg.tensor([1, 2, 3]), gg.tensor([4])], batch_first=True)
tensor([[1, 2, 3],
        [4, 0, 0]])

**Packing.** A :class:`PackedSequence` keeps only the real steps, so that a recurrent layer
(``nn.RNN``, ``nn.LSTM``, ``nn.GRU``) stops each sequence at its own end. With the sequences sorted
by decreasing length ℓ₁ ≥ ℓ₂ ≥ … ≥ ℓ_N, the sequences still running at step t are always the first
``batch_sizes[t] = #{n : ℓₙ > t}``; ``data`` holds step 0's rows, then step 1's, …: row
``offset_t + n`` is sequence n's entry at step t, where ``offset_t = Σ_{s<t} batch_sizes[s]``
(Σ ℓₙ rows, no padding). ``sorted_indices[k]`` is the batch position of the k-th longest sequence
(None when the batch came sorted, ``enforce_sorted=True``) and ``unsorted_indices`` its inverse
permutation, which gives the results back in the caller's order.

* ``pack_padded_sequence(padded, lengths)``: ``data = padded[t, sorted_indices[n]]`` row by row,
  one ``index_select`` of the padded rows, so ``∂L/∂padded`` is ``∂L/∂data`` put back in place
  (0 at the padding);
* ``pad_packed_sequence(packed)``: the reverse, one ``index_select`` of ``data`` with a row of
  ``padding_value`` appended (every padded position picks that row); gives ``(padded, lengths)``;
* ``pack_sequence([a, b, c])`` = pad then pack; ``unpack_sequence(packed)`` the list back.

>>> from glassgrad.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
>>> packed = pack_padded_sequence(gg.tensor([[1, 4], [2, 0], [3, 0]]), [3, 1])
>>> packed.data.tolist(), packed.batch_sizes.tolist()
([1, 4, 2, 3], [2, 1, 1])
>>> padded, lengths = pad_packed_sequence(packed, batch_first=True, padding_value=-1)
>>> padded.tolist(), lengths.tolist()
([[1, 2, 3], [4, -1, -1]], [3, 1])

Inside ``gg.compile`` a step that reads ``batch_sizes`` runs eagerly (its numbers decide the work).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...autograd import note_unreplayable
from ...dtypes import float16, float32, float64, int8, int16, int32, int64, uint8
from ...functions import cat, stack
from ...tensor import Tensor


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Sequences ``(Lᵢ, *)`` as one tensor ``(L_max, N, *)`` (``(N, L_max, *)`` with ``batch_first``), in the first
    sequence's dtype."""
    sequences = list(sequences)
    if not all(isinstance(sequence, Tensor) for sequence in sequences):
        raise TypeError("pad_sequence: give a non-empty list of tensors, one per sequence (shape (L, *))")
    if not sequences:  # PyTorch's class for an empty list, a bad padding_side and mismatched shapes: RuntimeError
        raise RuntimeError("pad_sequence: give a non-empty list of tensors, one per sequence (shape (L, *))")
    if padding_side not in ("right", "left"):
        raise RuntimeError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    rest = {tuple(sequence.shape[1:]) for sequence in sequences}
    if any(sequence.ndim == 0 for sequence in sequences) or len(rest) > 1:
        shapes = ", ".join(str(tuple(sequence.shape)) for sequence in sequences)
        raise RuntimeError(f"pad_sequence: every sequence needs shape (L, *) with the same trailing sizes; got "
                           f"{shapes}")
    longest = max(sequence.shape[0] for sequence in sequences)
    dtype = sequences[0].dtype  # as PyTorch's: the first sequence's dtype, the others cast to it
    padded = []
    for sequence in sequences:
        sequence = sequence.to(dtype)
        missing = longest - sequence.shape[0]
        if missing:
            filler = Tensor._wrap(np.full((missing, *sequence.shape[1:]), padding_value, dtype=sequence.dtype))
            sequence = cat([sequence, filler] if padding_side == "right" else [filler, sequence], 0)
        padded.append(sequence)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """The sequences of a right-padded batch, each cut to its length (``lengths``: one per sequence)."""
    batch = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    given = getattr(lengths, "tolist", lambda: lengths)()
    flat = isinstance(given, (list, tuple)) and all(isinstance(length, (int, float, np.number)) for length in given)
    lengths = [int(length) for length in given] if flat else given
    if not flat or len(lengths) != batch.shape[0] or any(not 0 <= length <= batch.shape[1] for length in lengths):
        raise RuntimeError(f"unpad_sequence: lengths must give one length in [0, {batch.shape[1]}] per sequence "
                           f"({batch.shape[0]} of them), got {lengths}")  # PyTorch's class where it refuses
    return [batch[position, :length] for position, length in enumerate(lengths)]


_PackedFields = namedtuple("_PackedFields", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedFields):
    """A batch of sequences of different lengths without padding: ``(data, batch_sizes, sorted_indices,
    unsorted_indices)``, a named tuple as in PyTorch (see the module's text for what each holds).

    ``data`` (Σ lengths, *) is in the graph; ``batch_sizes`` (int64, one per step) and the indices
    (int64, or None) are plain tensors. ``unsorted_indices`` is worked out from ``sorted_indices``
    when not given.
    """

    __slots__ = ()

    def __new__(cls, data: Tensor, batch_sizes: Tensor, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _index_tensor(np.argsort(sorted_indices.array, kind="stable"))
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """``data.to(…)`` (another dtype); ``batch_sizes`` and the indices stay as they are."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, *self[1:])

    def float(self) -> PackedSequence:
        return self.to(float32)

    def double(self) -> PackedSequence:
        return self.to(float64)

    def half(self) -> PackedSequence:
        return self.to(float16)

    def long(self) -> PackedSequence:
        return self.to(int64)

    def int(self) -> PackedSequence:
        return self.to(int32)

    def short(self) -> PackedSequence:
        return self.to(int16)

    def char(self) -> PackedSequence:
        return self.to(int8)

    def byte(self) -> PackedSequence:
        return self.to(uint8)

    def cpu(self) -> PackedSequence:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """Refused as ``Tensor.cuda`` is: glassgrad runs on the CPU."""
        return self.to("cuda")

    def pin_memory(self) -> PackedSequence:
        """Itself: there is no GPU to copy to, so no page-locked memory to ask for."""
        return self

    def is_pinned(self) -> bool:
        return False

    @property
    def is_cuda(self) -> bool:
        return False


def _index_tensor(values: Any) -> Tensor:
    return Tensor._wrap(np.asarray(values, dtype=np.int64))


def _lengths(lengths: Any, batch: int) -> np.ndarray:
    """``lengths`` (a list, array or tensor) as one whole number per sequence (int64), as PyTorch reads them. Floats
    are taken where they are whole (``mask.sum(1)`` of a float mask); a fraction, which PyTorch would cut to its
    whole part, is refused."""
    values = np.asarray(lengths.tolist() if isinstance(lengths, Tensor) else lengths)
    if (values.ndim != 1 or (values.size and values.dtype.kind not in "iufb") or values.size != batch or not batch
            or (values.dtype.kind == "f" and not np.all(np.isfinite(values) & (values == np.round(values))))):
        raise RuntimeError(f"pack_padded_sequence: lengths must give one whole number per sequence ({batch} of them), "
                           f"got {values.tolist()}")
    return values.astype(np.int64)


def batch_sizes_of(sequence: PackedSequence) -> list[int]:
    """How many sequences run at each step (``sequence.batch_sizes`` as Python numbers: they decide the work, so
    a compiled step that reads them runs eagerly)."""
    note_unreplayable("a PackedSequence's batch_sizes decide how many rows each step works on, numbers a replay "
                      "would not read")
    return [int(size) for size in sequence.batch_sizes.array]


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """A :class:`PackedSequence` of the padded batch ``input`` (T, N, *) ((N, T, *) with ``batch_first``), sequence
    n being its first ``lengths[n]`` steps. ``enforce_sorted=True`` needs the lengths in decreasing order;
    ``False`` sorts them (stably) and keeps the order in ``sorted_indices``."""
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise IndexError("pack_padded_sequence: input must be a padded batch tensor (T, N, *), or (N, T, *) with "
                         f"batch_first=True; got {getattr(input, 'shape', type(input).__name__)}")
    batch, steps = (input.shape[0], input.shape[1]) if batch_first else (input.shape[1], input.shape[0])
    lengths = _lengths(lengths, batch)
    if lengths.min() <= 0 or lengths.max() > steps:
        raise RuntimeError(f"pack_padded_sequence: every length must be between 1 and the padded length {steps}, got "
                           f"{lengths.tolist()}; drop empty sequences from the batch")
    if enforce_sorted and np.any(lengths[1:] > lengths[:-1]):
        raise RuntimeError(f"pack_padded_sequence: lengths must be sorted in decreasing order when "
                           f"enforce_sorted=True, got {lengths.tolist()}; pass enforce_sorted=False to have the batch "
                           "sorted for you")
    order = np.arange(batch) if enforce_sorted else np.argsort(-lengths, kind="stable")
    running = lengths[order][None, :] > np.arange(lengths.max())[:, None]  # (step, sorted sequence)
    step, position = np.nonzero(running)  # time-major: step 0's sequences, then step 1's, …
    source = order[position]
    rows = source * steps + step if batch_first else step * batch + source
    data = input.flatten(0, 1).index_select(0, rows)
    sorted_indices = None if enforce_sorted else _index_tensor(order)
    return PackedSequence(data, _index_tensor(running.sum(1)), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The padded batch (T, N, *) ((N, T, *) with ``batch_first``) of a :class:`PackedSequence` and the lengths
    (int64), both in the caller's order; T is the longest length, or ``total_length`` when given (an int, or a
    0-d integer tensor such as ``lengths.max()``)."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence (from pack_padded_sequence), got "
                        f"{type(sequence).__name__}")
    sizes = np.array(batch_sizes_of(sequence))
    steps = len(sizes)
    if isinstance(total_length, Tensor) and total_length.ndim == 0 and total_length.array.dtype.kind in "iu":
        total_length = int(total_length.item())  # as PyTorch takes it: total_length=lengths.max()
    if total_length is not None:
        if not isinstance(total_length, (int, np.integer)) or isinstance(total_length, bool):
            raise TypeError(f"pad_packed_sequence: total_length must be a whole number (an int), got "
                            f"{total_length!r}")
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: total_length={total_length} is shorter than the longest sequence "
                             f"({steps} steps); give at least {steps}")
        sizes = np.concatenate([sizes, np.zeros(total_length - steps, dtype=sizes.dtype)])
    data = sequence.data
    running = np.arange(sizes[0])[None, :] < sizes[:, None]  # (step, sorted sequence)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rows = np.where(running, offsets[:, None] + np.arange(sizes[0])[None, :], data.shape[0])  # padding: the extra row
    lengths = running.sum(0)
    if sequence.unsorted_indices is not None:
        rows, lengths = rows[:, sequence.unsorted_indices.array], lengths[sequence.unsorted_indices.array]
    if batch_first:
        rows = rows.T
    padding = Tensor._wrap(np.full((1, *data.shape[1:]), padding_value, dtype=data.dtype))
    padded = cat([data, padding], 0).index_select(0, rows.reshape(-1)).reshape(*rows.shape, *data.shape[1:])
    return padded, _index_tensor(lengths)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """A :class:`PackedSequence` of sequences ``(Lᵢ, *)``: :func:`pad_sequence` then :func:`pack_padded_sequence`."""
    sequences = list(sequences)
    padded = pad_sequence(sequences)
    return pack_padded_sequence(padded, [sequence.shape[0] for sequence in sequences], enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The sequences of a :class:`PackedSequence`, in the caller's order, each of its own length."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
