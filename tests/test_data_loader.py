"""DataLoader: batch sizes, coverage, shuffling, drop_last, reproducibility, speed, and its errors.

Each sample's input is its own number, so a batch says exactly which samples it holds;
batch counts are checked against ⌈n/b⌉ / ⌊n/b⌋ and against PyTorch's DataLoader.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.data import DataLoader, Dataset, Subset, TensorDataset, collate


def numbered(n: int) -> TensorDataset:
    """Sample i is ([i, 10·i] as float32, i as int64)."""
    ids = np.arange(n)
    return TensorDataset(np.column_stack([ids, 10 * ids]).astype(np.float32), ids.astype(np.int64))


class PlainDataset(Dataset):
    """The same samples served one at a time (the generic, non-TensorDataset path)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __getitem__(self, index: int):
        return gg.tensor([float(index), 10.0 * index]), index

    def __len__(self) -> int:
        return self.n


sizes = st.integers(0, 60)
batch_sizes = st.integers(1, 70)


@given(n=sizes, batch_size=batch_sizes, shuffle=st.booleans(), drop_last=st.booleans(), seed=st.integers(0, 99))
def test_batches_cover_the_dataset_with_the_expected_sizes(n, batch_size, shuffle, drop_last, seed):
    loader = DataLoader(numbered(n), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    batches = list(loader)
    expected_count = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(loader) == len(batches) == expected_count
    full, rest = divmod(n, batch_size)
    expected_sizes = [batch_size] * full + ([rest] if rest and not drop_last else [])
    assert [len(y) for _, y in batches] == expected_sizes
    seen = np.concatenate([y.array for _, y in batches]) if batches else np.array([], dtype=np.int64)
    for X, y in batches:  # rows stay together: input row i is [i, 10i]
        assert X.dtype == np.float32 and y.dtype == np.int64
        np.testing.assert_array_equal(X.array, np.column_stack([y.array, 10 * y.array]).astype(np.float32))
    assert len(set(seen.tolist())) == len(seen)  # no sample twice in an epoch
    if not drop_last:
        assert sorted(seen.tolist()) == list(range(n))
    if not shuffle:
        assert seen.tolist() == list(range(len(seen)))


@given(n=st.integers(0, 40), batch_size=st.integers(1, 45), drop_last=st.booleans())
def test_number_of_batches_matches_pytorch(torch, n, batch_size, drop_last):
    ours = DataLoader(numbered(n), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.arange(n)), batch_size=batch_size,
                                         drop_last=drop_last)
    assert len(ours) == len(theirs)


def epoch_orders(loader: DataLoader, epochs: int) -> list[list[int]]:
    return [np.concatenate([y.array for _, y in loader]).tolist() for _ in range(epochs)]


def test_shuffle_with_a_seed_repeats_across_loaders_and_changes_between_epochs():
    data = numbered(50)
    first = epoch_orders(DataLoader(data, batch_size=8, shuffle=True, seed=3), 3)
    again = epoch_orders(DataLoader(data, batch_size=8, shuffle=True, seed=3), 3)
    other = epoch_orders(DataLoader(data, batch_size=8, shuffle=True, seed=4), 3)
    assert first == again
    assert first[0] != first[1] != first[2]
    assert first != other
    assert all(sorted(order) == list(range(50)) for order in first)


def test_shuffle_without_a_seed_follows_manual_seed():
    data = numbered(30)
    gg.manual_seed(11)
    first = epoch_orders(DataLoader(data, batch_size=4, shuffle=True), 2)
    gg.manual_seed(11)
    again = epoch_orders(DataLoader(data, batch_size=4, shuffle=True), 2)
    assert first == again and first[0] != first[1]


@given(n=st.integers(1, 30), batch_size=st.integers(1, 12), shuffle=st.booleans(), seed=st.integers(0, 9))
def test_fast_path_and_generic_path_give_the_same_batches(n, batch_size, shuffle, seed):
    fast = list(DataLoader(numbered(n), batch_size=batch_size, shuffle=shuffle, seed=seed))
    generic = list(DataLoader(PlainDataset(n), batch_size=batch_size, shuffle=shuffle, seed=seed))
    assert len(fast) == len(generic)
    for (X_fast, y_fast), (X_generic, y_generic) in zip(fast, generic):
        np.testing.assert_array_equal(X_fast.array, X_generic.array)
        np.testing.assert_array_equal(y_fast.array, y_generic.array)
        assert X_generic.dtype == np.float32 and y_generic.dtype == np.int64


def test_subset_batches_hold_the_subset_samples_in_order():
    subset = Subset(Subset(numbered(20), [19, 3, 7, 11, 0]), [4, 2, 0])
    (X, y), = DataLoader(subset, batch_size=3)
    assert y.array.tolist() == [0, 7, 19]
    np.testing.assert_array_equal(X.array[:, 1], [0.0, 70.0, 190.0])


def test_batches_are_copies_so_changing_them_leaves_the_dataset_alone():
    data = numbered(6)
    X, _ = next(iter(DataLoader(data, batch_size=6)))
    X.array[:] = -1
    assert data.tensors[0].array[:, 0].tolist() == [0, 1, 2, 3, 4, 5]


def test_batch_size_choices_name_the_flavour_of_gradient_descent():
    data = numbered(10)
    assert len(DataLoader(data, batch_size=len(data))) == 1   # batch gradient descent: one step per epoch
    assert len(DataLoader(data, batch_size=1)) == 10          # stochastic gradient descent: one per sample


@pytest.mark.parametrize("bad", [0, -3, 1.5, True, "32"])  # None: no batches, as in PyTorch
def test_bad_batch_size_is_refused_with_the_fix(bad):
    with pytest.raises(ValueError, match=r"batch_size must be a whole number >= 1.*stochastic gradient descent"):
        DataLoader(numbered(5), batch_size=bad)


def test_a_non_dataset_is_refused():
    with pytest.raises(TypeError, match="needs a dataset with __len__ and __getitem__"):
        DataLoader(42, batch_size=2)


def test_collate_stacks_fields_and_refuses_mismatched_samples():
    X, y = collate([(gg.tensor([1.0, 2.0]), 0), (gg.tensor([3.0, 4.0]), 1)])
    np.testing.assert_array_equal(X.array, [[1.0, 2.0], [3.0, 4.0]])
    assert y.array.tolist() == [0, 1] and y.dtype == np.int64
    with pytest.raises(RuntimeError, match="different shapes"):  # PyTorch's exception class
        collate([(gg.tensor([1.0]),), (gg.tensor([1.0, 2.0]),)])
    with pytest.raises(RuntimeError, match="equal size; the samples have"):
        collate([(1, 2), (3,)])


def test_digits_batches_are_gathered_whole_not_sample_by_sample(monkeypatch):
    """A TensorDataset's batches are one fancy-index per array, never a Python loop over samples
    (which costs >10 ms per digits epoch); the batches equal the samples picked one by one."""
    data = gg.data.load_digits()
    expected = [[data[int(i)] for i in batch] for batch in
                np.array_split(np.random.default_rng(0).permutation(len(data)), range(32, len(data), 32))]
    calls = []
    monkeypatch.setattr(TensorDataset, "__getitem__", lambda self, index: calls.append(index))
    batches = list(DataLoader(data, batch_size=32, shuffle=True, seed=0))
    assert calls == []
    assert len(batches) == len(expected)
    for (features, labels), samples in zip(batches, expected):
        np.testing.assert_array_equal(features.array, np.stack([sample[0].array for sample in samples]))
        np.testing.assert_array_equal(labels.array, [sample[1].item() for sample in samples])


class _ArraySamples(Dataset):
    """Samples that are batches already: NumPy arrays and a label, as a dataset of pre-cut batches gives them."""

    def __len__(self) -> int:
        return 5

    def __getitem__(self, index: int):
        return np.full((2, 3), float(index), dtype=np.float32), {"label": np.int64(index), "name": f"b{index}"}


@pytest.mark.torch
def test_batch_size_none_gives_each_sample_as_it_is_as_pytorch(torch):
    """``DataLoader(data, batch_size=None)`` (no automatic batching) raised ValueError."""
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import Dataset as TorchDataset

    class Theirs(TorchDataset):
        __len__, __getitem__ = _ArraySamples.__len__, _ArraySamples.__getitem__

    ours, theirs = list(DataLoader(_ArraySamples(), batch_size=None)), list(TorchLoader(Theirs(), batch_size=None))
    assert len(DataLoader(_ArraySamples(), batch_size=None)) == len(TorchLoader(Theirs(), batch_size=None)) == 5
    for (x, extra), (tx, textra) in zip(ours, theirs):
        assert isinstance(x, gg.Tensor) and x.dtype == gg.float32 and tuple(x.shape) == tuple(tx.shape)
        np.testing.assert_array_equal(x.numpy(), tx.numpy())
        assert extra["label"].item() == textra["label"].item() and extra["name"] == textra["name"]
    data = TensorDataset(gg.arange(6.0).reshape(3, 2), gg.tensor([0, 1, 2]))
    rows = [x.tolist() for x, _ in DataLoader(data, batch_size=None, shuffle=True, seed=0)]
    assert sorted(rows) == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]  # each row once, unbatched
    assert gg.utils.data.default_convert((np.ones(2), [np.int64(3)], 1.5))[1][0].item() == 3
    with pytest.raises(ValueError, match="batch_size=None .* and drop_last=True cannot go together"):
        DataLoader(data, batch_size=None, drop_last=True)


@pytest.mark.torch
@pytest.mark.parametrize("options", [{"num_workers": -1}, {"prefetch_factor": 2}, {"persistent_workers": True},
                                     {"timeout": -1}])
def test_worker_options_are_checked_as_pytorch_checks_them(torch, options):
    from one_line_errors import assert_raises_as_pytorch

    assert_raises_as_pytorch(lambda lib: lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.ones(4, 2)),
                                                                   **options), torch)


@pytest.mark.torch
def test_a_loader_shows_its_settings_and_an_epoch_its_length_as_pytorchs(torch):
    """loader.num_workers, .timeout, .prefetch_factor … raised AttributeError; loader.collate_fn was None and
    len(iter(loader)) a TypeError."""
    seen = []
    for library in (gg, torch):
        data = library.utils.data
        loader = data.DataLoader(data.TensorDataset(library.ones(5, 2)), batch_size=2, num_workers=2)
        plain = data.DataLoader(data.TensorDataset(library.ones(5, 2)), batch_size=None)
        seen.append((loader.num_workers, loader.timeout, loader.prefetch_factor, loader.persistent_workers,
                     loader.worker_init_fn, loader.in_order, len(iter(loader)),
                     loader.collate_fn is data.default_collate, plain.collate_fn is data.default_convert,
                     len(list(iter(loader)))))
    assert seen[0] == seen[1] == (2, 0, 2, False, None, True, 3, True, True, 3)
