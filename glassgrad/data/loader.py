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

import copy
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, MutableSequence, Sequence
from typing import Any

import numpy as np

from ..arguments import joined_dtype
from ..cores import usable_cores
from ..creation import default_generator
from ..functions import stack
from ..reading import as_array
from ..settings import warn_at_learners_line
from ..tensor import Tensor
from .dataset import Dataset, IterableDataset, Subset, TensorDataset, samples_at
from .samplers import BatchSampler, RandomSampler, SequentialSampler, _flag


class DataLoader:
    """Batches of ``dataset`` as lists of tensors (as PyTorch's): ``for X, y in DataLoader(data, batch_size=32): …``.

    * ``batch_size``: samples per batch (≥ 1). ``len(dataset)`` gives batch gradient
      descent, 1 gives stochastic gradient descent, values between give mini-batches.
      ``None``, as in PyTorch: no batches, each sample as the dataset gives it (its arrays as
      tensors, :func:`convert`), for a dataset whose samples are batches already.
    * ``shuffle``: visit the samples in a new random order every epoch.
    * ``drop_last``: leave out the last batch when it would be smaller than ``batch_size``.
    * ``seed``: makes shuffling reproducible. The loader seeds its own generator once, so
      epoch 2's order differs from epoch 1's, and a new loader with the same seed repeats
      the whole sequence. Without a seed the order comes from glassgrad's generator
      (reset it with :func:`glassgrad.manual_seed`).
    * ``generator``: PyTorch's way to the same end: shuffle with this generator (a
      ``gg.Generator`` or a NumPy one), each epoch drawing the next order from it.
    * ``sampler``: the sample numbers to visit, in order (any iterable of ints, read afresh each epoch, such
      as a :mod:`~glassgrad.data.samplers` sampler; instead of ``shuffle``).
    * ``batch_sampler``: lists of sample numbers, one per batch (a :class:`~glassgrad.data.samplers.BatchSampler`);
      it replaces ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``.
    * ``collate_fn``: turns a list of samples into a batch (default :func:`collate`).
    * ``num_workers``, ``pin_memory``, ``timeout``, ``worker_init_fn``, ``multiprocessing_context``,
      ``prefetch_factor``, ``persistent_workers``, ``pin_memory_device``, ``in_order``: accepted so
      PyTorch code runs, and refused where PyTorch's are (a ``timeout``, ``multiprocessing_context``,
      ``prefetch_factor`` or ``persistent_workers`` without workers, a ``prefetch_factor`` ≤ 0, a ``drop_last``
      that is no bool); glassgrad loads every batch in the calling process (PyTorch's ``num_workers=0``), which
      gives the same batches (``get_worker_info()`` is None there, so an IterableDataset is read once where
      PyTorch's workers would each read a copy of one that does not shard itself). ``pin_memory=True`` warns at
      each epoch's start, as PyTorch's does on a machine without a GPU; so does ``num_workers`` above the cores this
      process may use, and also when the loader is made, as PyTorch's (a persistent_workers loader: at the first
      epoch only).

    An :class:`~glassgrad.data.dataset.IterableDataset` is read as a stream: its samples in the order it
    yields them, ``batch_size`` at a time (no ``shuffle`` or ``sampler``: the stream decides the order). Once
    ``len(loader)`` has read a stream's ``__len__``, each later epoch warns at every batch past that length, as
    PyTorch's does (it counts batches against the dataset's length, so with batches it warns only far past it).

    ``len(loader)`` is the number of batches per epoch: ⌈n / batch_size⌉, or
    ⌊n / batch_size⌋ with ``drop_last``. For a :class:`TensorDataset` (or a
    :class:`Subset` of one) each batch is cut from the stored arrays with one NumPy
    index per tensor, with no Python loop over samples; the batch is a copy, so changing
    it leaves the dataset alone.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 sampler: Iterable[int] | None = None, batch_sampler: Iterable[Any] | None = None,
                 num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn: Any = None, multiprocessing_context: Any = None,
                 generator: Any = None, *, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True, seed: int | None = None) -> None:
        streamed = isinstance(dataset, IterableDataset)
        numbered = sampler is not None or batch_sampler is not None  # the sampler numbers the samples: no len needed
        if not streamed and not (hasattr(dataset, "__getitem__") and (numbered or hasattr(dataset, "__len__"))):
            raise TypeError(
                f"DataLoader needs a dataset with __len__ and __getitem__ (e.g. gg.data.TensorDataset(X, y); "
                f"__getitem__ alone with a sampler), or an IterableDataset, not {type(dataset).__name__}"
            )
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                       or batch_size < 1):
            raise ValueError(
                f"batch_size must be a whole number >= 1 (or None: no batches), got {batch_size!r}: use 1 for "
                f"stochastic gradient descent, len(dataset) for batch gradient descent, or something between"
            )
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None (no batches) and drop_last=True cannot go together: "
                             "there is no last batch to drop")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                             "sampler and drop_last; the batch sampler decides them")
        if streamed and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError("DataLoader: an IterableDataset decides its own order, so shuffle, sampler and "
                             "batch_sampler cannot be given; shuffle inside the dataset's __iter__")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle; shuffle in the sampler")
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             f"multiprocessing (got {num_workers!r})")
        if not timeout >= 0:
            raise ValueError(f"timeout option should be non-negative (got {timeout!r})")
        if timeout and num_workers == 0:  # PyTorch's single-process iterator asserts it
            raise AssertionError(f"timeout={timeout!r} needs worker processes (num_workers > 0): it is how long to "
                                 "wait for a worker's batch; leave it 0 when loading in this process")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError("multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                             "but got num_workers=0; leave it None")
        if batch_size is not None and batch_sampler is None:
            _flag(drop_last, "BatchSampler", "drop_last")  # PyTorch's loader makes its BatchSampler here, which checks
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing: let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None")
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError(f"prefetch_factor option should be non-negative (got {prefetch_factor!r}): it is how many "
                             "batches each worker loads ahead; leave it None for PyTorch's 2")
        if prefetch_factor == 0:  # PyTorch's worker iterator asserts it
            raise AssertionError("prefetch_factor must be greater than 0 for multi-process loading (got 0): each "
                                 "worker loads at least one batch ahead; leave it None for PyTorch's 2")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if generator is not None and not hasattr(generator, "permutation"):
            raise TypeError(
                f"DataLoader: generator must be a gg.Generator (or a NumPy Generator), not {type(generator).__name__}"
            )
        self.dataset = dataset
        # with a batch sampler, batch_size and drop_last are its (None and False here, as PyTorch's)
        self.batch_size = None if batch_size is None or batch_sampler is not None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self._sampler = sampler  # the ones given; None: the loader's own order (the properties show it)
        self._batch_sampler = batch_sampler
        self._collate_fn = collate_fn  # None: the default, which a table of arrays skips (one take per batch)
        self.pin_memory = bool(pin_memory)
        # PyTorch's settings of worker processes, kept to read back: glassgrad loads in this process
        self.num_workers, self.timeout, self.worker_init_fn = int(num_workers), timeout, worker_init_fn
        self.multiprocessing_context, self.persistent_workers = multiprocessing_context, bool(persistent_workers)
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers > 0 else prefetch_factor
        self.pin_memory_device, self.in_order, self.generator = pin_memory_device, in_order, generator
        self._generator = generator if generator is not None else (
            np.random.default_rng(seed) if seed is not None else None)
        self._stream_length: int | None = None  # a stream's len(dataset) once len(loader) read it (PyTorch's check)
        self._epochs_begun = 0
        _warn_of_too_many_workers(self.num_workers)

    @property
    def collate_fn(self) -> Callable[[Any], Any]:
        """What turns the samples into a batch: the function given, else :func:`collate` (PyTorch's
        ``default_collate``), or :func:`convert` for ``batch_size=None``."""
        if self._collate_fn is not None:
            return self._collate_fn
        return convert if self.batch_size is None and self._batch_sampler is None else collate

    @collate_fn.setter
    def collate_fn(self, function: Callable[[Any], Any] | None) -> None:
        self._collate_fn = function

    @property
    def sampler(self) -> Any:
        """The sample numbers' order, as PyTorch's loader has it: the sampler given, else a
        :class:`~glassgrad.data.samplers.SequentialSampler` or (``shuffle``) a ``RandomSampler`` of the dataset, to
        read (``len(loader.sampler)``); the loader draws its shuffled order itself (None for a stream)."""
        if self._sampler is not None or isinstance(self.dataset, IterableDataset):
            return self._sampler
        if self.shuffle:
            return RandomSampler(self.dataset, generator=self._generator)
        return SequentialSampler(self.dataset)

    @property
    def batch_sampler(self) -> Any:
        """The batch sampler given, else one of :attr:`sampler` with ``batch_size`` and ``drop_last`` (None without
        batches, or for a stream), as PyTorch's."""
        if self._batch_sampler is not None or self.batch_size is None or isinstance(self.dataset, IterableDataset):
            return self._batch_sampler
        return BatchSampler(self.sampler, self.batch_size, self.drop_last)

    def __len__(self) -> int:
        if self._batch_sampler is not None:
            return len(self._batch_sampler)  # type: ignore[arg-type]
        if isinstance(self.dataset, IterableDataset) and not hasattr(self.dataset, "__len__"):
            raise TypeError("DataLoader: this IterableDataset has no __len__, so the number of batches is not known "
                            "before the stream ends; count them while iterating")
        samples = len(self._sampler) if self._sampler is not None else len(self.dataset)  # type: ignore[arg-type]
        if isinstance(self.dataset, IterableDataset):
            self._stream_length = samples  # each epoch begun after this warns past it, as PyTorch's
        if self.batch_size is None:
            return samples
        if self.drop_last:
            return samples // self.batch_size
        return -(-samples // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        if self.pin_memory:  # PyTorch's warning on a machine without a GPU: here there never is one
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", UserWarning, stacklevel=2)
        if not (self.persistent_workers and self._epochs_begun):  # PyTorch starts persistent workers once
            _warn_of_too_many_workers(self.num_workers)
        self._epochs_begun += 1
        if isinstance(self.dataset, IterableDataset):
            batches = self._samples() if self.batch_size is None else self._streamed_batches()
            return _Epoch(batches if self._stream_length is None else self._counted(batches, self._stream_length), self)
        if self.batch_size is None and self._batch_sampler is None:
            return _Epoch(self._samples(), self)
        stored = _stored_rows(self.dataset) if self._collate_fn is None else None
        batches = self._index_batches()
        if stored is not None:
            return _Epoch(self._array_batches(*stored, batches), self)
        return _Epoch(self._collated_batches(batches), self)

    def _index_batches(self) -> Iterator[np.ndarray]:
        """Each batch's sample numbers, as an array: from the batch sampler, the sampler's numbers as they come (it
        may never end: makemore's ``RandomSampler(…, num_samples=int(1e10))``), or cut from this epoch's order."""
        batch_sampler = self._batch_sampler
        if batch_sampler is None and self._sampler is not None:
            batch_sampler = BatchSampler(self._sampler, self.batch_size or 1, self.drop_last)
        if batch_sampler is not None:
            for batch in batch_sampler:
                yield np.fromiter((int(i) for i in batch), dtype=np.int64)
            return
        if self.shuffle:
            order = np.asarray((self._generator or default_generator.numpy_generator).permutation(len(self.dataset)))
        else:
            order = np.arange(len(self.dataset))
        size = self.batch_size or 1
        for start in range(0, len(self) * size, size):  # len(self) already leaves out a short last batch
            yield order[start:start + size]

    def _samples(self) -> Iterator[Any]:
        """``batch_size=None``: each sample on its own, through ``collate_fn`` (default :func:`convert`)."""
        change = self.collate_fn
        if isinstance(self.dataset, IterableDataset):
            for sample in self.dataset:  # type: ignore[attr-defined]
                yield change(sample)
            return
        for chosen in self._index_batches():
            yield change(self.dataset[int(chosen[0])])

    def _counted(self, batches: Iterator[Any], promised: int) -> Iterator[Any]:
        """A stream's batches, warning at each one past ``promised`` (its ``len(dataset)`` when ``len(loader)`` was
        read), as PyTorch's loader does: it compares the batches yielded with the dataset's length, not the loader's,
        so with ``batch_size`` > 1 it warns only once the stream is far longer than it said."""
        for count, batch in enumerate(batches, 1):
            if count > promised:
                warnings.warn(f"Length of IterableDataset {self.dataset} was reported to be {promised} (when accessing "
                              f"len(dataloader)), but {count} samples have been fetched: make its __len__ count what "
                              "its __iter__ yields", UserWarning, stacklevel=3)
            yield batch

    def _array_batches(self, arrays: tuple[np.ndarray, ...], rows: np.ndarray | None,
                       batches: Iterator[np.ndarray]) -> Iterator[list[Tensor]]:
        wrap = Tensor._wrap
        for chosen in batches:
            if rows is not None:
                chosen = rows[chosen]
            yield [wrap(array.take(chosen, 0)) for array in arrays]  # array[chosen], in one faster call; a list,
            # as PyTorch's default_collate makes of tuple samples

    def _collated_batches(self, batches: Iterator[np.ndarray]) -> Iterator[Any]:
        combine = self.collate_fn
        for chosen in batches:  # a dataset's __getitems__ gives a batch in one call (PyTorch's; HF datasets)
            yield combine(samples_at(self.dataset, [int(i) for i in chosen]))

    def _streamed_batches(self) -> Iterator[Any]:
        combine = self.collate_fn
        batch: list[Any] = []
        for sample in self.dataset:  # type: ignore[attr-defined]
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield combine(batch)
                batch = []
        if batch and not self.drop_last:
            yield combine(batch)

    def __repr__(self) -> str:
        sized = hasattr(self.dataset, "__len__")
        return (f"DataLoader({f'{len(self.dataset)} samples' if sized else 'a stream'}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed}"
                f"{f': {len(self)} batches per epoch' if sized else ''})")


def _warn_of_too_many_workers(num_workers: int) -> None:
    """PyTorch's warning (a UserWarning, each time it would start workers) for more workers than usable cores."""
    cores = usable_cores()
    if num_workers > cores:
        warn_at_learners_line(f"This DataLoader asks for {num_workers} worker processes, more than the {cores} cores "
                              "this process may use; PyTorch would start them all and may run slowly or freeze "
                              f"(glassgrad loads every batch in this process): lower num_workers to at most {cores}")


def _stored_rows(dataset: Dataset) -> tuple[tuple[np.ndarray, ...], np.ndarray | None] | None:
    """The arrays behind a TensorDataset (and the row numbers a Subset of one picks), read a batch at a time, else
    None: also for a subclass with a ``__getitem__`` of its own (each sample is what it gives) and for tensors that
    require grad (each batch is in the graph)."""
    getitem = type(dataset).__getitem__
    if getitem is TensorDataset.__getitem__:
        if any(t.requires_grad for t in dataset.tensors):
            return None
        return tuple(t.array for t in dataset.tensors), None
    if getitem is Subset.__getitem__:
        inner = _stored_rows(dataset.dataset)
        if inner is not None:
            arrays, rows = inner
            return arrays, dataset.rows() if rows is None else rows[dataset.rows()]
    return None


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _like(mapping: Mapping, values: dict) -> Mapping:
    """``values`` in ``mapping``'s own class (an OrderedDict stays one), as PyTorch's collate keeps it; a plain
    dict for a class that cannot be built from one."""
    if isinstance(mapping, MutableMapping):
        clone = copy.copy(mapping)
        clone.update(values)
        return clone
    try:
        return type(mapping)(values)
    except TypeError:
        return values


def _like_sequence(sequence: Sequence, values: list) -> Any:
    """``values`` in ``sequence``'s own class (a list subclass or a deque stays one), as PyTorch's collate keeps it; a
    plain list for a tuple (PyTorch's choice) and for a class that cannot be built from one (a ``range``)."""
    if isinstance(sequence, tuple):
        return values
    try:
        if isinstance(sequence, MutableSequence):
            clone = copy.copy(sequence)
            for position, value in enumerate(values):  # item by item: a deque takes no slice
                clone[position] = value
            return clone
        return type(sequence)(values)
    except TypeError:
        return values


def convert(sample: Any) -> Any:
    """One sample as ``batch_size=None`` gives it, as PyTorch's ``default_convert``: NumPy arrays (and NumPy
    numbers) become tensors, inside dicts and sequences too (a tuple becomes a list, as in PyTorch; a named tuple
    or a list subclass keeps its class); everything else stays as it is."""
    if isinstance(sample, (np.ndarray, np.generic)) and np.asarray(sample).dtype.kind in "biuf":
        return Tensor._wrap(np.asarray(sample))
    if isinstance(sample, Mapping):
        return _like(sample, {key: convert(value) for key, value in sample.items()})
    if _is_namedtuple(sample):
        return type(sample)(*(convert(value) for value in sample))
    if isinstance(sample, Sequence) and not isinstance(sample, (str, bytes)):
        return _like_sequence(sample, [convert(value) for value in sample])
    return sample


def _numeric(array: np.ndarray) -> np.ndarray:
    """``array`` if it holds numbers (a tensor's dtypes); a one-line TypeError otherwise (strings, dates, objects)."""
    if array.dtype.kind not in "biuf":
        raise TypeError(f"collate: a sample holds an array of dtype {array.dtype}; batches are made of tensors, "
                        "numeric arrays, numbers, dicts or lists: pass DataLoader(collate_fn=...)")
    return array


class _Epoch:
    """One pass over a loader, what ``iter(loader)`` gives: its batches one by one, and ``len()`` as the loader's
    (PyTorch's iterator has one too)."""

    __slots__ = ("_batches", "_loader")

    def __init__(self, batches: Iterator[Any], loader: DataLoader) -> None:
        self._batches, self._loader = batches, loader

    def __iter__(self) -> _Epoch:
        return self

    def __next__(self) -> Any:
        return next(self._batches)

    def __len__(self) -> int:
        return len(self._loader)


def collate(samples: list[Any] | tuple) -> Any:
    """A list of samples as one batch, as PyTorch's ``default_collate`` makes it.

    Tensors and numeric arrays are stacked along a new first dimension (in their joined dtype, as ``stack``:
    int64 with float32 is float32); numbers become a tensor (Python floats float64, ints int64, as in PyTorch;
    NumPy numbers their dtype, or with Python numbers after them the dtype ``torch.tensor`` gives the list);
    strings (and bytes) stay the list they came as; a sample that is a sequence gives a sequence of batches, field
    ``k`` from field ``k`` of every sample (a *list* for a tuple, as PyTorch's; a named tuple, a list subclass or a
    deque one of its class); a dict gives a dict (of the sample's mapping class) of batches, key by key.

    Misuse is refused in one line of PyTorch's class: after a tensor, anything but a tensor (TypeError, as
    ``torch.stack``); among numbers, an array, a string or a list (TypeError) or None (RuntimeError, as
    ``torch.tensor`` cannot infer its dtype; TypeError among floats); None among arrays (RuntimeError).
    """
    first = samples[0]
    if isinstance(first, (str, bytes)):
        return samples  # as PyTorch: the strings as they came (a tuple, for a field of tuple samples)
    if isinstance(first, np.generic) and all(isinstance(value, (np.generic, int, float)) for value in samples):
        if all(type(value) is type(first) for value in samples):
            return Tensor._wrap(_numeric(np.asarray(samples)))  # NumPy numbers of one type: one array at once
        return Tensor._wrap(as_array(samples, None))  # mixed, as torch.as_tensor reads them: a Python float float32
    if isinstance(first, (Tensor, np.ndarray, np.generic)):
        tensors_only = isinstance(first, Tensor)  # as PyTorch's stack: an array or a number after a tensor is refused
        for position, value in enumerate(samples):  # one pass over the batch for both refusals
            if tensors_only and not isinstance(value, Tensor):
                raise TypeError(f"collate: sample {position} holds a value of type {type(value).__name__} where "
                                f"sample 0 holds a tensor (expected Tensor as element {position}); give every sample "
                                "a tensor there")
            if value is None:  # torch.as_tensor(None)'s class
                raise RuntimeError(f"collate: sample {position} holds None where sample 0 holds an array; give every "
                                   "sample an array there (a missing field?)")
        if any(isinstance(value, Tensor) and value.requires_grad for value in samples):
            return stack(samples)  # in the graph, as PyTorch's stack: the samples' gradients reach where they came from
        arrays = [value.array if isinstance(value, Tensor) else _numeric(np.asarray(value)) for value in samples]
        shapes = {array.shape for array in arrays}
        if len(shapes) > 1:
            raise RuntimeError(f"collate: the samples' tensors have different shapes {sorted(shapes)}; stack needs "
                               "one shape (pad them, or pass DataLoader(collate_fn=...))")
        dtypes = {array.dtype for array in arrays}  # the set first: a batch has one or two dtypes, not 32
        stacked = np.stack(arrays)
        return Tensor._wrap(stacked if len(dtypes) == 1 else stacked.astype(joined_dtype(dtypes), copy=False))
    if isinstance(first, (bool, int, float)):
        for position, value in enumerate(samples):  # as PyTorch: None or '2.5' is no number; a 0-d array is one
            if not isinstance(value, (int, float, np.integer, np.floating, np.bool_)) and not (
                    isinstance(value, (np.ndarray, Tensor)) and value.ndim == 0 and value.dtype.kind in "biuf"):
                # PyTorch's classes: torch.tensor cannot infer None's dtype (RuntimeError), float64 refuses it
                error = RuntimeError if value is None and not isinstance(first, float) else TypeError
                raise error(f"collate: sample {position} holds a {type(value).__name__} ({value!r}) where the "
                            "others hold numbers; give every sample a number there (a missing label?)")
        if isinstance(first, float):
            return Tensor._wrap(np.asarray(samples, dtype=np.float64))  # PyTorch's default_collate: float64
        return Tensor._wrap(as_array(samples, None))  # bool or int64 (float32 if floats follow), as torch.tensor
    if isinstance(first, Mapping):
        return _like(first, {key: collate([sample[key] for sample in samples]) for key in first})
    if isinstance(first, Sequence):  # strings were returned above
        widths = {len(sample) for sample in samples}
        if len(widths) > 1:
            raise RuntimeError("collate: each element in list of batch should be of equal size; the samples have "
                               f"{sorted(widths)} items")
        fields = [collate(field) for field in zip(*samples)]
        return type(first)(*fields) if _is_namedtuple(first) else _like_sequence(first, fields)
    raise TypeError(
        f"collate: a sample holds a {type(first).__name__}, which cannot be batched; give tensors, arrays, "
        "numbers, strings, dicts or tuples of them, or pass DataLoader(collate_fn=...)"
    )
