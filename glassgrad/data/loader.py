"""``DataLoader``: walk a dataset in (mini-)batches, the unit of one gradient-descent step.

>>> import glassgrad as gg
>>> data = gg.data.TensorDataset(gg.arange(10.0).reshape(5, 2), gg.tensor([0, 1, 0, 1, 1]))
>>> loader = gg.data.DataLoader(data, batch_size=2, shuffle=True, seed=0)
>>> len(loader)                       # ⌈5 / 2⌉ batches per epoch; the last one is short
3
>>> [tuple(x.shape) for x, y in loader]
[(2, 2), (2, 2), (1, 2)]

How big a batch is decides which flavour of gradient descent a training loop does:

* ``batch_size=len(dataset)``: **batch gradient descent**, one step per epoch on the
  gradient of the whole dataset's loss;
* ``batch_size=1``: **stochastic gradient descent (SGD)**, one step per sample;
* anything between: **mini-batch gradient descent**, the usual choice (32, 64, 128…).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from ..arguments import as_array
from ..creation import default_generator
from ..tensor import Tensor
from .dataset import Dataset, Subset, TensorDataset


class DataLoader:
    """Batches of ``dataset`` as tuples of tensors: ``for X, y in DataLoader(data, batch_size=32): …``.

    * ``batch_size``: samples per batch (≥ 1). ``len(dataset)`` gives batch gradient
      descent, 1 gives stochastic gradient descent, values between give mini-batches.
    * ``shuffle``: visit the samples in a new random order every epoch.
    * ``drop_last``: leave out the last batch when it would be smaller than ``batch_size``.
    * ``seed``: makes shuffling reproducible. The loader seeds its own generator once, so
      epoch 2's order differs from epoch 1's, and a new loader with the same seed repeats
      the whole sequence. Without a seed the order comes from glassgrad's generator
      (reset it with :func:`glassgrad.manual_seed`).
    * ``generator``: PyTorch's way to the same end: shuffle with this generator (a
      ``gg.Generator`` or a NumPy one), each epoch drawing the next order from it.
    * ``sampler``: the sample numbers to visit, in order (any iterable of ints; instead of ``shuffle``).
    * ``collate_fn``: turns a list of samples into a batch (default :func:`collate`).
    * ``num_workers``, ``pin_memory``, ``timeout``, ``worker_init_fn``, ``multiprocessing_context``,
      ``prefetch_factor``, ``persistent_workers``, ``pin_memory_device``, ``in_order``: accepted so
      PyTorch code runs; glassgrad loads every batch in the calling process (PyTorch's
      ``num_workers=0``), which gives the same batches.

    ``len(loader)`` is the number of batches per epoch: ⌈n / batch_size⌉, or
    ⌊n / batch_size⌋ with ``drop_last``. For a :class:`TensorDataset` (or a
    :class:`Subset` of one) each batch is cut from the stored arrays with one NumPy
    index per tensor, with no Python loop over samples; the batch is a copy, so changing
    it leaves the dataset alone.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 sampler: Iterable[int] | None = None, batch_sampler: None = None, num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn: Any = None, multiprocessing_context: Any = None,
                 generator: Any = None, *, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True, seed: int | None = None) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader needs a dataset with __len__ and __getitem__ (e.g. gg.data.TensorDataset(X, y)), "
                f"not {type(dataset).__name__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(
                f"batch_size must be a whole number >= 1, got {batch_size!r}: use 1 for stochastic gradient "
                f"descent, len(dataset) = {len(dataset)} for batch gradient descent, or something between"
            )
        if batch_sampler is not None:
            raise NotImplementedError(
                "DataLoader(batch_sampler=...) is not supported in glassgrad: pass batch_size (and sampler) instead"
            )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle; shuffle in the sampler")
        if generator is not None and not hasattr(generator, "permutation"):
            raise TypeError(
                f"DataLoader: generator must be a gg.Generator (or a NumPy Generator), not {type(generator).__name__}"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self.sampler = sampler
        self.collate_fn = collate_fn
        self._generator = generator if generator is not None else (
            np.random.default_rng(seed) if seed is not None else None)

    def __len__(self) -> int:
        samples = len(self.sampler) if self.sampler is not None else len(self.dataset)  # type: ignore[arg-type]
        if self.drop_last:
            return samples // self.batch_size
        return -(-samples // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        samples = len(self.dataset)
        if self.sampler is not None:
            order = np.fromiter((int(i) for i in self.sampler), dtype=np.int64)
        elif self.shuffle:
            order = np.asarray((self._generator or default_generator()).permutation(samples))
        else:
            order = np.arange(samples)
        stored = _stored_rows(self.dataset) if self.collate_fn is None else None
        if stored is not None:
            arrays, rows = stored
            if rows is not None:
                order = rows[order]
            return self._array_batches(arrays, order)
        return self._collated_batches(order)

    def _batch_starts(self) -> range:
        return range(0, len(self) * self.batch_size, self.batch_size)  # len(self) already leaves out a short last

    def _array_batches(self, arrays: tuple[np.ndarray, ...], order: np.ndarray) -> Iterator[tuple[Tensor, ...]]:
        wrap = Tensor._wrap
        size = self.batch_size
        for start in self._batch_starts():
            chosen = order[start:start + size]
            yield tuple([wrap(array.take(chosen, 0)) for array in arrays])  # array[chosen], in one faster call

    def _collated_batches(self, order: np.ndarray) -> Iterator[tuple[Tensor, ...]]:
        combine = self.collate_fn or collate
        for start in self._batch_starts():
            samples = [self.dataset[int(i)] for i in order[start:start + self.batch_size]]
            yield combine(samples)

    def __repr__(self) -> str:
        return (f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed}: {len(self)} batches per epoch)")


def _stored_rows(dataset: Dataset) -> tuple[tuple[np.ndarray, ...], np.ndarray | None] | None:
    """The arrays behind a TensorDataset (and the row numbers a Subset of one picks), else None."""
    if isinstance(dataset, TensorDataset):
        return tuple(t.array for t in dataset.tensors), None
    if isinstance(dataset, Subset):
        inner = _stored_rows(dataset.dataset)
        if inner is not None:
            arrays, rows = inner
            return arrays, dataset.indices if rows is None else rows[dataset.indices]
    return None


def collate(samples: list[Any] | tuple) -> Any:
    """A list of samples as one batch, as PyTorch's ``default_collate`` makes it.

    Tensors and arrays are stacked along a new first dimension; numbers become a tensor
    (Python floats float64, ints int64, as in PyTorch); strings stay a sequence; a sample that is a tuple
    (or list) gives a tuple of batches, field ``k`` from field ``k`` of every sample; a dict
    gives a dict of batches, key by key.
    """
    first = samples[0]
    if isinstance(first, (Tensor, np.ndarray)):
        arrays = [value.array if isinstance(value, Tensor) else np.asarray(value) for value in samples]
        try:
            return Tensor._wrap(np.stack(arrays))
        except ValueError:
            shapes = sorted({array.shape for array in arrays})
            raise ValueError(f"collate: samples' tensors have different shapes {shapes}; they must match") from None
    if isinstance(first, np.generic):
        return Tensor._wrap(np.asarray(samples))
    if isinstance(first, float):
        return Tensor._wrap(np.asarray(samples, dtype=np.float64))  # PyTorch's default_collate: float64
    if isinstance(first, (bool, int)):
        return Tensor._wrap(as_array(samples, None))  # bool or int64 (float32 if floats follow), as torch.tensor
    if isinstance(first, str):
        return samples  # as PyTorch: the strings as they came (a tuple, for a field of tuple samples)
    if isinstance(first, Mapping):
        return {key: collate([sample[key] for sample in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        widths = {len(sample) for sample in samples}
        if len(widths) > 1:
            raise ValueError(f"collate: samples have different numbers of items {sorted(widths)}; they must all match")
        return tuple(collate(field) for field in zip(*samples))
    raise TypeError(
        f"collate: a sample holds a {type(first).__name__}, which cannot be batched; give tensors, arrays, "
        "numbers, strings, dicts or tuples of them, or pass DataLoader(collate_fn=...)"
    )
