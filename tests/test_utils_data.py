"""``glassgrad.utils.data`` as a learner uses ``torch.utils.data``: Dataset subclasses, DataLoader's arguments.

Oracle: PyTorch 2.13's ``DataLoader`` over the same dataset class (batches, their dtypes and
structure), with ``shuffle=False`` where the orders are compared (the two libraries draw random
orders from different generators); shuffled orders are checked for coverage and reproducibility.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.utils.data import DataLoader, Dataset, Subset, TensorDataset, random_split


def squares(base):
    """A learner's Dataset subclass, defined on glassgrad's or PyTorch's ``Dataset``."""

    class Squares(base):
        def __init__(self, n, sample):
            self.n, self.sample = n, sample

        def __len__(self):
            return self.n

        def __getitem__(self, index):
            return self.sample(index)

    return Squares


SAMPLES = {  # what __getitem__ returns, written with NumPy so both libraries get the same numbers
    "pair of array and int": lambda i: (np.array([i, i * i], dtype=np.float32), i),
    "one array": lambda i: np.array([i, 2 * i], dtype=np.float64),
    "python floats": lambda i: (float(i) / 3, i % 2 == 0),
    "a dict": lambda i: {"x": np.full(2, i, dtype=np.float32), "label": i},
    "a string label": lambda i: (np.float32(i), f"item {i}"),
}


def plain(batch):
    """A batch as nested Python values with dtypes, whichever library made it."""
    if isinstance(batch, dict):
        return {key: plain(value) for key, value in batch.items()}
    if isinstance(batch, (tuple, list)) and batch and not isinstance(batch[0], str):
        return [plain(value) for value in batch]
    if hasattr(batch, "numpy"):
        values = batch.numpy()
        return values.tolist(), str(values.dtype)
    return batch


@pytest.mark.torch
@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True), (10, False)])
def test_a_dataset_subclass_batches_as_in_pytorch(torch, kind, batch_size, drop_last):
    ours = DataLoader(squares(Dataset)(7, SAMPLES[kind]), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(squares(torch.utils.data.Dataset)(7, SAMPLES[kind]), batch_size=batch_size,
                                         drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [plain(batch) for batch in ours] == [plain(batch) for batch in theirs]


@pytest.mark.torch
def test_a_tensor_dataset_batches_as_in_pytorch(torch):
    X, y = np.arange(12.0).reshape(6, 2), np.arange(6) % 3
    ours = DataLoader(TensorDataset(gg.tensor(X), gg.tensor(y)), batch_size=4)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(y)),
                                         batch_size=4)
    assert [plain(batch) for batch in ours] == [plain(batch) for batch in theirs]


def epoch_orders(loader, epochs: int) -> list[list[int]]:
    return [[int(i) for batch in loader for i in batch.numpy()] for _ in range(epochs)]


@given(n=st.integers(1, 40), batch_size=st.integers(1, 9), seed=st.integers(0, 999))
def test_shuffling_with_a_generator_covers_every_sample_and_repeats_with_the_same_seed(n, batch_size, seed):
    data = list(range(n))  # any object with __len__ and __getitem__ is a dataset, as in PyTorch
    first = epoch_orders(DataLoader(data, batch_size=batch_size, shuffle=True,
                                    generator=np.random.default_rng(seed)), 3)
    again = epoch_orders(DataLoader(data, batch_size=batch_size, shuffle=True,
                                    generator=np.random.default_rng(seed)), 3)
    assert first == again
    assert all(sorted(order) == data for order in first)
    if n > 5:
        assert first[0] != first[1] or first[1] != first[2]  # each epoch draws a new order from the generator


def test_a_sampler_collate_fn_and_worker_arguments():
    data = list(range(10))
    loader = DataLoader(data, batch_size=3, sampler=[9, 1, 4, 4, 0], collate_fn=lambda samples: sum(samples))
    assert len(loader) == 2 and list(loader) == [14, 4]
    plain_batches = [batch.tolist() for batch in DataLoader(data, batch_size=4)]
    with_workers = DataLoader(data, batch_size=4, num_workers=2, pin_memory=True, persistent_workers=True,
                              prefetch_factor=2)
    assert [batch.tolist() for batch in with_workers] == plain_batches  # loaded in this process: the same batches


@pytest.mark.parametrize("arguments, error, message", [
    ({"batch_sampler": [[0, 1]], "batch_size": 2}, ValueError, "batch_sampler option is mutually exclusive"),
    ({"sampler": [0, 1], "shuffle": True}, ValueError, "mutually exclusive with shuffle"),
    ({"generator": 42}, TypeError, "generator must be a gg.Generator"),
])
def test_unsupported_or_contradictory_arguments_are_one_line(arguments, error, message):
    with pytest.raises(error, match=message) as caught:
        DataLoader(list(range(4)), **arguments)
    assert "\n" not in str(caught.value)


def test_a_sample_that_cannot_be_batched_is_one_line():
    with pytest.raises(TypeError, match="cannot be batched.*collate_fn") as caught:
        list(DataLoader([object(), object()], batch_size=2))
    assert "\n" not in str(caught.value)


def test_subset_and_random_split_come_from_the_same_module():
    parts = random_split(TensorDataset(gg.arange(10)), [0.7, 0.3])
    assert [len(part) for part in parts] == [7, 3] and all(isinstance(part, Subset) for part in parts)


def test_a_subclass_of_tensor_dataset_or_subset_gives_its_own_samples_to_the_loader():
    """The loader read a TensorDataset's (or a Subset's) stored rows a batch at a time even for a subclass whose
    __getitem__ scales or augments each sample: its batches were the raw rows, ``ds[i]`` the scaled one."""
    class Scaled(TensorDataset):
        def __getitem__(self, index):
            (row,) = super().__getitem__(index)
            return (row * 100,)

    class Shifted(Subset):
        def __getitem__(self, index):
            return (super().__getitem__(index)[0] + 1000,)

    rows = gg.arange(12.0).reshape(6, 2)
    first = next(iter(DataLoader(Scaled(rows), batch_size=3)))[0]
    assert first.tolist() == [[0.0, 100.0], [200.0, 300.0], [400.0, 500.0]]
    picked = next(iter(DataLoader(Shifted(TensorDataset(rows), [4, 1]), batch_size=2)))[0]
    assert picked.tolist() == [[1008.0, 1009.0], [1002.0, 1003.0]]
    plain = next(iter(DataLoader(Subset(TensorDataset(rows), [4, 1]), batch_size=2)))[0]
    assert plain.tolist() == [[8.0, 9.0], [2.0, 3.0]]


def test_samples_in_the_graph_are_stacked_in_it_so_their_gradient_arrives():
    """Per-sample learnable codes (a Parameter indexed by the dataset): PyTorch's default_collate stacks them in
    the graph; here the batch was a plain tensor, and codes.grad stayed None beside the model's. ∂Σ(2·codes[i])
    = 2 for every row read once."""
    codes = gg.nn.Parameter(gg.ones(4, 2))

    class Codes(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return codes[index] * 2

    batch = next(iter(DataLoader(Codes(), batch_size=4)))
    batch.sum().backward()
    assert codes.grad.tolist() == [[2.0, 2.0]] * 4
    codes.grad = None
    (rows,) = next(iter(DataLoader(TensorDataset(codes), batch_size=2, shuffle=False)))
    (rows * 3).sum().backward()
    assert codes.grad.tolist() == [[3.0, 3.0], [3.0, 3.0], [0.0, 0.0], [0.0, 0.0]]
    assert gg.utils.data.default_collate([codes[0], codes[1]]).requires_grad


@pytest.mark.torch
def test_the_loaders_sampler_and_batch_sampler_read_as_pytorchs(torch):
    """``len(loader.sampler)`` raised (the attribute was None without a sampler given), and with a batch sampler
    ``loader.batch_size`` read 1 where PyTorch's reads None."""
    found = []
    for lib in (gg, torch):
        data = lib.utils.data
        rows = data.TensorDataset(lib.arange(10.0))
        shuffled = data.DataLoader(rows, batch_size=3, shuffle=True, drop_last=True)
        plain = data.DataLoader(rows, batch_size=4)
        batched = data.DataLoader(rows, batch_sampler=data.BatchSampler(data.SequentialSampler(rows), 4, False))
        found.append((type(shuffled.sampler).__name__, len(shuffled.sampler), type(shuffled.batch_sampler).__name__,
                      len(shuffled.batch_sampler), list(plain.sampler), [list(b) for b in plain.batch_sampler],
                      batched.batch_size, batched.drop_last, len(batched), [len(b[0]) for b in batched]))
    assert found[0] == found[1]


def test_a_dataset_that_fetches_a_batch_at_once_is_read_through_getitems():
    """PyTorch's loader asks a dataset with ``__getitems__`` (Hugging Face's datasets) for each batch in one call;
    glassgrad's called ``dataset[i]`` sample by sample, which such a dataset may not serve."""
    class Batched(Dataset):
        def __init__(self):
            self.calls = []

        def __getitem__(self, index):
            raise NotImplementedError("fetch batches with __getitems__")

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [(index * 10,) for index in indices]

        def __len__(self):
            return 5

    data = Batched()
    assert [batch[0].tolist() for batch in DataLoader(data, batch_size=2)] == [[0, 10], [20, 30], [40]]
    assert data.calls == [[0, 1], [2, 3], [4]]


@pytest.mark.torch
def test_datasets_take_what_pytorchs_take(torch):
    """A Dataset with no __len__ read through a sampler (it could not be made: Dataset was abstract), a Subset
    indexed by a list, and an IterableDataset that is a Dataset, as in PyTorch."""
    found = []
    for lib in (gg, torch):
        data = lib.utils.data

        class Squares(data.Dataset):
            def __getitem__(self, index):
                return index * index

        class Stream(data.IterableDataset):
            def __iter__(self):
                yield from range(3)

        batches = [batch.tolist() for batch in data.DataLoader(Squares(), batch_size=2, sampler=[3, 1, 2])]
        picked = data.Subset(data.TensorDataset(lib.arange(10)), [3, 1, 5])[[0, 2]][0].tolist()
        found.append((batches, picked, isinstance(Stream(), data.Dataset)))
    assert found[0] == found[1] == ([[9, 1], [4]], [3, 5], True)
    with pytest.raises(TypeError, match="needs a dataset with __len__ and __getitem__"):
        DataLoader(_no_length(), batch_size=2)  # no sampler: the loader must count the samples


def _no_length():
    class Squares(Dataset):
        def __getitem__(self, index):
            return index * index

    return Squares()


NUMPY_NUMBERS = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.float16, np.float32, np.float64]
_numbers = st.one_of(
    st.tuples(st.sampled_from(NUMPY_NUMBERS), st.integers(0, 100)).map(lambda pair: pair[0](pair[1])),
    st.integers(-100, 100), st.floats(-100, 100, width=16), st.booleans())


@pytest.mark.torch
@given(first=st.tuples(st.sampled_from(NUMPY_NUMBERS), st.integers(0, 100)).map(lambda pair: pair[0](pair[1])),
       others=st.lists(_numbers, max_size=5))
def test_default_collate_reads_numpy_numbers_mixed_with_python_ones_as_pytorch(torch, first, others):
    """A field whose first sample holds a NumPy number: PyTorch 2.13 makes the batch with torch.as_tensor, so a
    Python float among them is float32 (np.int8(1) with 2.0), where this gave float64."""
    from glassgrad.utils.data import default_collate

    samples = [first, *others]
    mine, theirs = default_collate(samples).numpy(), torch.utils.data.default_collate(samples).numpy()
    assert mine.dtype == theirs.dtype
    np.testing.assert_array_equal(mine, theirs)


class Row(list):
    """A list subclass, as a learner's sample class might be."""


class Pair(Sequence):
    """An immutable sequence built from an iterable, as ``Pair([a, b])``."""

    def __init__(self, items):
        self.items = list(items)

    def __getitem__(self, position):
        return self.items[position]

    def __len__(self):
        return len(self.items)


SEQUENCES = {  # sample i of a dataset whose samples are sequences of each kind
    "list subclass": lambda i: Row([i, float(i) / 2]),
    "deque": lambda i: deque([np.float32(i), np.array([i, i])]),
    "range": lambda i: range(i, i + 3),
    "immutable sequence": lambda i: Pair([i, np.int16(i)]),
    "bytearray": lambda i: bytearray([i, 2 * i]),
}


def structure(batch):
    """A batch as nested (class name, values) pairs, whichever library made it."""
    if hasattr(batch, "numpy"):
        values = batch.numpy()
        return values.tolist(), str(values.dtype)
    if isinstance(batch, Sequence) and not isinstance(batch, str):
        return type(batch).__name__, [structure(value) for value in batch]
    return type(batch).__name__, batch


@pytest.mark.torch
@pytest.mark.parametrize("kind", sorted(SEQUENCES))
def test_default_collate_and_convert_keep_a_sequence_s_class_as_pytorch(torch, kind):
    """A sample that is a sequence other than a list or tuple (a deque, a range, a list subclass) was refused ('cannot
    be batched'), and a list subclass came back a list; PyTorch 2.13 batches any sequence, in its own class where it
    can be built (a range cannot: a list)."""
    from glassgrad.utils.data import default_collate, default_convert

    samples = [SEQUENCES[kind](i) for i in (1, 2)]
    assert structure(default_collate(samples)) == structure(torch.utils.data.default_collate(samples))
    assert structure(default_convert(samples[0])) == structure(torch.utils.data.default_convert(samples[0]))
