"""Datasets: numbered samples, ``dataset[i]`` → one (input, target) pair, and ways to split them.

>>> import glassgrad as gg
>>> X = gg.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
>>> y = gg.tensor([1, 1, 0])
>>> data = gg.data.TensorDataset(X, y)
>>> len(data), data[2]
(3, (tensor([1., 1.]), tensor(0)))
>>> train, val = gg.data.train_val_split(data, val_fraction=1 / 3, seed=0)
>>> len(train), len(val)
(2, 1)

Splits are :class:`Subset` views (lists of sample numbers), never copies, and always
reproducible: the same ``seed`` gives the same split.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ..creation import as_tensor, pick_generator
from ..tensor import Tensor


class Dataset:
    """A collection of samples: ``len(dataset)`` of them, ``dataset[i]`` returns sample ``i``.

    Subclass it and define ``__getitem__`` and (for a ``DataLoader`` that numbers the samples itself) ``__len__``;
    a sample is usually a tuple ``(input, target)``. As in PyTorch, ``__len__`` may be left out when the loader is
    given a sampler, and an :class:`IterableDataset` is a Dataset too.
    """

    def __getitem__(self, index: int) -> Any:
        """Sample number ``index`` (0 ≤ index < len(self)): define it in the subclass."""
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Dataset should implement __getitem__ "
                                  "(sample number index)")

    def __add__(self, other: Dataset) -> ConcatDataset:
        """``a + b``: the samples of ``a``, then those of ``b`` (a :class:`ConcatDataset`)."""
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: define ``__iter__`` (yielding samples) instead of numbering them.

    For data read as it comes (lines of a file, a generator); a ``DataLoader`` batches it in the order
    it is yielded. ``a + b`` chains two streams (a :class:`ChainDataset`).
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__, yielding samples")

    def __add__(self, other: IterableDataset) -> ChainDataset:
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several streams one after the other."""

    def __init__(self, datasets: Iterable[IterableDataset]) -> None:
        self.datasets = list(datasets)
        for position, dataset in enumerate(self.datasets):
            if not isinstance(dataset, IterableDataset):
                raise TypeError(f"ChainDataset only chains IterableDatasets; dataset {position} is "
                                f"{type(dataset).__name__} (use ConcatDataset for numbered ones)")

    def __iter__(self) -> Iterator[Any]:
        for dataset in self.datasets:
            yield from dataset

    def __len__(self) -> int:
        return sum(len(dataset) for dataset in self.datasets)  # type: ignore[arg-type]


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other: sample ``i`` comes from the dataset whose range
    holds it (``cumulative_sizes`` are where each one ends)."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable; give at least one")
        for position, dataset in enumerate(self.datasets):
            if isinstance(dataset, IterableDataset):
                raise TypeError(f"ConcatDataset does not take an IterableDataset (dataset {position}); "
                                "use ChainDataset for streams")
        self.cumulative_sizes = np.cumsum([len(dataset) for dataset in self.datasets]).tolist()

    def __getitem__(self, index: int) -> Any:
        total = len(self)
        if index < -total:  # PyTorch's exception class for a negative index too far back
            raise ValueError(f"ConcatDataset: index {index} reaches back past the first of its {total} samples "
                             "(absolute value of index should not exceed dataset length)")
        if index >= total:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {total} samples")
        index = index % total
        which = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]


class StackDataset(Dataset):
    """Datasets of one length side by side: sample ``i`` is ``(a[i], b[i], …)``, or a dict for keyword
    datasets (``StackDataset(image=…, label=…)``)."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("StackDataset: give datasets by position or by name, not both")
        parts = list(args) or list(kwargs.values())
        if not parts:
            raise ValueError("StackDataset: give at least one dataset")
        lengths = {len(part) for part in parts}
        if len(lengths) > 1:
            raise ValueError(f"StackDataset: the datasets must have one length, got {sorted(lengths)}")
        self.datasets: Any = args or kwargs

    def __getitem__(self, index: int) -> Any:
        if isinstance(self.datasets, dict):
            return {name: dataset[index] for name, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __getitems__(self, indices: list[int]) -> list[Any]:
        """Samples ``indices`` at once (what a ``DataLoader`` asks for a batch), as PyTorch's: a dataset with a
        ``__getitems__`` of its own gives its part of them in one call, the others sample by sample."""
        named = isinstance(self.datasets, dict)
        columns = []
        for dataset in (self.datasets.values() if named else self.datasets):
            column = samples_at(dataset, indices)
            if len(column) != len(indices):
                raise ValueError(f"StackDataset: Nested dataset's output size mismatch. Expected {len(indices)}, "
                                 f"got {len(column)}: its __getitems__ must give one sample per index")
            columns.append(column)
        if named:
            return [dict(zip(self.datasets, sample)) for sample in zip(*columns)]
        return [tuple(sample) for sample in zip(*columns)]

    def __len__(self) -> int:
        first = next(iter(self.datasets.values())) if isinstance(self.datasets, dict) else self.datasets[0]
        return len(first)


def samples_at(dataset: Any, indices: list[int]) -> list[Any]:
    """``dataset``'s samples ``indices``: by its ``__getitems__`` where it has one (a batch in one call, as PyTorch's
    fetcher asks), else one ``dataset[i]`` each."""
    fetch_batch = getattr(dataset, "__getitems__", None)
    return fetch_batch(indices) if callable(fetch_batch) else [dataset[i] for i in indices]


class TensorDataset(Dataset):
    """Samples stored as rows of tensors: sample ``i`` is ``(tensors[0][i], tensors[1][i], …)``.

    Every tensor holds one row per sample, so all must have the same size in dimension 0.
    ``feature_names`` (one per input column) and ``class_names`` (class id → name) are
    optional labels that the datasets and loaders here fill in where they are known.
    """

    def __init__(self, *tensors: Any, feature_names: Sequence[str] | None = None,
                 class_names: Sequence[str] | None = None) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor, e.g. TensorDataset(X, y)")
        converted = tuple(as_tensor(t) for t in tensors)
        for position, tensor in enumerate(converted):
            if tensor.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor {position} is a single number (0-d); every tensor needs one row "
                    "per sample, so at least one dimension"
                )
        sizes = [t.shape[0] for t in converted]
        if len(set(sizes)) > 1:
            listed = ", ".join(f"{size} (tensor {position})" for position, size in enumerate(sizes))
            raise AssertionError(  # PyTorch's exception class ("Size mismatch between tensors")
                f"TensorDataset: Size mismatch between tensors: all must have the same size in dimension 0 (one row "
                f"per sample), but got {listed}"
            )
        self.tensors = converted
        self.feature_names = list(feature_names) if feature_names is not None else None
        self.class_names = list(class_names) if class_names is not None else None

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        """Sample ``index``: each tensor's row (in the graph for a tensor that requires grad, as PyTorch's)."""
        return tuple(t[index] if t.requires_grad else Tensor._wrap(np.asarray(t.array[index])) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __repr__(self) -> str:
        shapes = ", ".join(f"{tuple(t.shape)} {t.dtype}" for t in self.tensors)
        return f"TensorDataset({len(self)} samples: {shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (a view: nothing is copied).

    ``Subset(data, [4, 0])[1]`` is ``data[0]``. ``indices`` stays as given, as in PyTorch (a list from
    :func:`random_split`, so ``train.indices + val.indices`` joins them); :meth:`rows` is them as one array.
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, indices
        rows, size = self.rows(), len(dataset)
        if rows.size and (rows.min() < -size or rows.max() >= size):
            raise IndexError(
                f"Subset: indices must lie in [0, {size}) for a dataset of {size} samples, "
                f"but got values from {rows.min()} to {rows.max()}"
            )

    def rows(self) -> np.ndarray:
        """The sample numbers ``indices`` picks, as one int64 array."""
        return np.asarray(self.indices, dtype=np.int64).reshape(-1)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):  # several samples at once, as PyTorch's Subset takes them
            return self.dataset[[int(self.indices[i]) for i in index]]
        return self.dataset[int(self.indices[index])]

    def __getitems__(self, indices: list[int]) -> list[Any]:
        """Samples ``indices`` of the subset at once, as PyTorch's: through the dataset's own ``__getitems__`` where
        it has one, so a ``DataLoader`` over a split still fetches each batch in one call. A subclass with a
        ``__getitem__`` of its own gives its samples one by one (PyTorch refuses such a subclass without a
        ``__getitems__``)."""
        if type(self).__getitem__ is not Subset.__getitem__:
            return [self[i] for i in indices]
        return samples_at(self.dataset, [int(self.indices[i]) for i in indices])

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {len(self.dataset)} samples)"


def _split_sizes(total: int, lengths_or_fractions: Sequence[float]) -> list[int]:
    """Sizes that add up to ``total``: given as counts, or as fractions that add up to 1.

    Fractions are floored, then the samples left over go one each to the first splits; a split of fractions left
    empty warns, as PyTorch's does.
    """
    values = list(lengths_or_fractions)
    if not values:
        raise ValueError("random_split: give at least one length or fraction, e.g. [0.8, 0.2]")
    if any(not np.isfinite(v) or v < 0 for v in values):
        raise ValueError(f"random_split: lengths and fractions must be finite and >= 0, got {values}")
    if all(float(v).is_integer() for v in values) and sum(values) == total:
        return [int(v) for v in values]
    if all(v <= 1 for v in values) and np.isclose(sum(values), 1.0):
        sizes = [int(np.floor(total * v)) for v in values]
        for position in range(total - sum(sizes)):
            sizes[position % len(sizes)] += 1
        for position, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"Length of split at index {position} is 0. This might result in an empty dataset.",
                              stacklevel=3)
        return sizes
    raise ValueError(
        f"random_split: {values} is neither a list of lengths adding up to the dataset's {total} samples "
        "nor a list of fractions adding up to 1"
    )


def random_split(dataset: Dataset, lengths: Sequence[float], generator: Any = None, *,
                 seed: int | None = None) -> list[Subset]:
    """Shuffle the sample numbers with ``generator`` (PyTorch's argument: a ``gg.Generator`` or a NumPy one), or
    a fresh stream from ``seed`` (glassgrad's shortcut), or else glassgrad's own generator, as PyTorch draws from
    its default one (so each call splits anew, and :func:`glassgrad.manual_seed` repeats them); then cut them into
    disjoint :class:`Subset`\\ s of the sizes ``lengths`` (PyTorch's name): counts, or fractions adding up to 1.

    >>> import glassgrad as gg
    >>> parts = gg.data.random_split(gg.data.TensorDataset(gg.arange(10)), [0.5, 0.3, 0.2])
    >>> [len(p) for p in parts]
    [5, 3, 2]
    """
    sizes = _split_sizes(len(dataset), lengths)
    order = pick_generator(seed, generator).permutation(len(dataset))
    ends = np.cumsum(sizes)
    return [Subset(dataset, order[end - size:end].tolist()) for size, end in zip(sizes, ends)]  # lists, as PyTorch's


def _labels_of(dataset: Dataset) -> np.ndarray:
    """The target of every sample (the last item of each sample), as one array."""
    if isinstance(dataset, TensorDataset):
        return dataset.tensors[-1].array
    if isinstance(dataset, Subset):
        return _labels_of(dataset.dataset)[dataset.rows()]
    return np.asarray([np.asarray(dataset[i][-1]) for i in range(len(dataset))])


def train_val_split(dataset: Dataset, val_fraction: float = 0.2, seed: int = 0,
                    stratify: bool = False) -> tuple[Subset, Subset]:
    """Split into (train, validation) subsets; ``val_fraction`` of the samples go to validation.

    The validation set has ``round(val_fraction · n)`` samples. With ``stratify=True`` each
    class (the last item of a sample is its label) keeps its share in both parts: class ``c``
    with ``n_c`` samples gives about ``val_fraction · n_c`` of them to validation (rounded so
    that the total is still exact).
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be between 0 and 1 (exclusive), got {val_fraction}; 0.2 is typical")
    total = len(dataset)
    val_size = int(round(val_fraction * total))
    if not 0 < val_size < total:
        raise ValueError(
            f"val_fraction={val_fraction} of {total} samples leaves an empty train or validation set; "
            "use a larger dataset or a different fraction"
        )
    rng = np.random.default_rng(seed)
    if not stratify:
        order = rng.permutation(total)
        return Subset(dataset, order[val_size:]), Subset(dataset, order[:val_size])
    labels = _labels_of(dataset)
    if labels.ndim != 1:
        raise ValueError(
            f"stratify=True needs one class label per sample (a 1-D target), but the targets have shape "
            f"{labels.shape}; use stratify=False for regression or multi-output targets"
        )
    classes, class_ids = np.unique(labels, return_inverse=True)
    members = [rng.permutation(np.flatnonzero(class_ids == c)) for c in range(len(classes))]
    shares = np.array([val_fraction * len(m) for m in members])
    take = np.floor(shares).astype(np.int64)
    largest_remainders = np.argsort(-(shares - take), kind="stable")
    take[largest_remainders[: val_size - take.sum()]] += 1
    val = np.concatenate([m[:k] for m, k in zip(members, take)])
    train = np.concatenate([m[k:] for m, k in zip(members, take)])
    return Subset(dataset, rng.permutation(train)), Subset(dataset, rng.permutation(val))
