"""Samplers: which sample numbers a :class:`~glassgrad.data.DataLoader` visits, in which order (PyTorch's).

A sampler is an iterable of sample numbers, read afresh each epoch; a *batch* sampler yields
lists of them, one list per batch.

* :class:`SequentialSampler`: 0, 1, …, n − 1 (what ``shuffle=False`` does);
* :class:`RandomSampler`: a new random order each epoch (``shuffle=True``), or ``num_samples``
  draws with replacement;
* :class:`SubsetRandomSampler`: the given numbers only, in a new random order each epoch (a
  validation split of one dataset);
* :class:`WeightedRandomSampler`: ``num_samples`` draws, number ``i`` with probability
  ``wᵢ / Σw`` (rare classes seen as often as common ones);
* :class:`BatchSampler`: a sampler's numbers cut into lists of ``batch_size``.

>>> import glassgrad as gg
>>> list(gg.utils.data.BatchSampler(gg.utils.data.SequentialSampler(range(5)), batch_size=2, drop_last=False))
[[0, 1], [2, 3], [4]]

Random samplers draw from ``generator`` (a ``gg.Generator`` or a NumPy one) or glassgrad's
own; the orders differ from PyTorch's for the same seed (another random stream), the
distributions are the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy as np

from ..creation import pick_generator

DRAWS_AT_ONCE = 1 << 16
"""How many numbers :class:`RandomSampler` draws with replacement in one call (then the next piece, when read)."""


class Sampler:
    """The base of every sampler: ``__iter__`` yields sample numbers (``__len__``: how many, where known)."""

    def __init__(self, data_source: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__, yielding sample numbers")


class SequentialSampler(Sampler):
    """0, 1, …, len(data_source) − 1, every epoch."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _flag(value: Any, owner: str, name: str) -> bool:
    """``value`` if it is a bool, else one line, as PyTorch refuses it (``drop_last="no"`` is true to ``bool``)."""
    if not isinstance(value, bool):
        raise (ValueError if owner in ("BatchSampler", "WeightedRandomSampler") else TypeError)(
            f"{owner}: {name} should be a boolean value (True or False), but got {name}={value!r}")
    return value


class RandomSampler(Sampler):
    """A new random order of all samples each epoch; with ``replacement=True``, ``num_samples`` independent
    draws (the default: one epoch's worth, ``len(data_source)``)."""

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator: Any = None) -> None:
        self.data_source = data_source
        self.replacement = _flag(replacement, "RandomSampler", "replacement")
        self._num_samples = None if num_samples is None else _count(num_samples, "RandomSampler", "num_samples")
        self.generator = generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        """The numbers, made a piece at a time as they are read: ``num_samples`` may be more than memory holds
        (makemore's endless loader asks for 10¹⁰ draws and reads a few thousand)."""
        size, wanted = len(self.data_source), self.num_samples
        if not size:  # an empty dataset: no numbers to give, with replacement or without
            if wanted:  # len() promised them: refused, as PyTorch's draw from nothing fails
                raise RuntimeError(f"RandomSampler: num_samples={wanted} draws from an empty dataset; give it samples "
                                   "or leave num_samples out")
            return
        random = pick_generator(None, self.generator)
        if self.replacement:
            for start in range(0, wanted, DRAWS_AT_ONCE):
                yield from random.integers(0, size, min(DRAWS_AT_ONCE, wanted - start)).tolist()
            return
        for start in range(0, wanted, size):  # more than one epoch's worth: whole permutations back to back
            yield from random.permutation(size)[:wanted - start].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The sample numbers ``indices`` in a new random order each epoch."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = list(indices)
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        order = pick_generator(None, self.generator).permutation(len(self.indices))
        return iter([self.indices[position] for position in order])

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` draws of sample numbers, ``i`` with probability ``weights[i] / Σ weights`` (with
    replacement by default; without it, each number at most once)."""

    def __init__(self, weights: Any, num_samples: int, replacement: bool = True, generator: Any = None) -> None:
        values = np.asarray(getattr(weights, "array", weights), dtype=np.float64)
        if values.ndim != 1:  # as PyTorch: a (N, K) table would be read as N·K samples, past the dataset's end
            raise ValueError(f"WeightedRandomSampler: weights should be a 1-D sequence, one weight per sample, but "
                             f"have shape {values.shape}; if they hold one weight per sample, flatten them "
                             "(weights.reshape(-1))")
        if values.size == 0 or not np.all(np.isfinite(values)) or (values < 0).any() or values.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, >= 0 and not all 0 (one per sample), "
                             f"got {values.size} of them")
        self.num_samples = _count(num_samples, "WeightedRandomSampler", "num_samples")
        self.replacement = _flag(replacement, "WeightedRandomSampler", "replacement")
        if not self.replacement and self.num_samples > np.count_nonzero(values):
            raise ValueError(f"WeightedRandomSampler: {self.num_samples} draws without replacement need as many "
                             f"samples of nonzero weight, and there are {np.count_nonzero(values)}")
        self.weights = values
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        random = pick_generator(None, self.generator)
        chosen = random.choice(self.weights.size, self.num_samples, replace=self.replacement,
                               p=self.weights / self.weights.sum())
        return iter(chosen.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """The numbers of ``sampler`` in lists of ``batch_size`` (the last one shorter, unless ``drop_last``)."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        self.sampler = sampler
        self.batch_size = _count(batch_size, "BatchSampler", "batch_size")
        self.drop_last = _flag(drop_last, "BatchSampler", "drop_last")

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for number in self.sampler:
            batch.append(int(number))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        samples = len(self.sampler)  # type: ignore[arg-type]
        return samples // self.batch_size if self.drop_last else -(-samples // self.batch_size)


def _count(value: Any, owner: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {name} must be a whole number >= 1, got {value!r}")
    return int(value)
