"""Sequences of different lengths in one batch (PyTorch's ``torch.nn.utils.rnn``).

``pad_sequence([a, b, c])`` stacks sequences of shapes ``(Lᵢ, *)`` into one ``(L_max, N, *)``
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

Packed sequences (``pack_padded_sequence``, ``PackedSequence``) are not provided: the recurrent
layers refuse them; run them on the padded batch and mask the outputs instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...functions import cat, stack
from ...tensor import Tensor


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Sequences ``(Lᵢ, *)`` as one tensor ``(L_max, N, *)`` (``(N, L_max, *)`` with ``batch_first``)."""
    sequences = list(sequences)
    if not sequences or not all(isinstance(sequence, Tensor) for sequence in sequences):
        raise TypeError("pad_sequence: give a non-empty list of tensors, one per sequence (shape (L, *))")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    rest = {tuple(sequence.shape[1:]) for sequence in sequences}
    if any(sequence.ndim == 0 for sequence in sequences) or len(rest) > 1:
        shapes = ", ".join(str(tuple(sequence.shape)) for sequence in sequences)
        raise ValueError(f"pad_sequence: every sequence needs shape (L, *) with the same trailing sizes; got {shapes}")
    longest = max(sequence.shape[0] for sequence in sequences)
    padded = []
    for sequence in sequences:
        missing = longest - sequence.shape[0]
        if missing:
            filler = Tensor._wrap(np.full((missing, *sequence.shape[1:]), padding_value, dtype=sequence.dtype))
            sequence = cat([sequence, filler] if padding_side == "right" else [filler, sequence], 0)
        padded.append(sequence)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """The sequences of a right-padded batch, each cut to its length (``lengths``: one per sequence)."""
    batch = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    lengths = [int(length) for length in getattr(lengths, "tolist", lambda: lengths)()]
    if len(lengths) != batch.shape[0] or any(not 0 <= length <= batch.shape[1] for length in lengths):
        raise ValueError(f"unpad_sequence: lengths must give one length in [0, {batch.shape[1]}] per sequence "
                         f"({batch.shape[0]} of them), got {lengths}")
    return [batch[position, :length] for position, length in enumerate(lengths)]


def _not_packed(name: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{name}: packed sequences are not supported in glassgrad; run the recurrent layer "
                                  "on the padded batch (pad_sequence) and mask the padded positions instead")
    refuse.__name__ = name
    return refuse


pack_padded_sequence = _not_packed("pack_padded_sequence")
pad_packed_sequence = _not_packed("pad_packed_sequence")
pack_sequence = _not_packed("pack_sequence")
