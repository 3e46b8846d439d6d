"""Samplers, batch samplers, stream and combined datasets (``torch.utils.data``'s), against PyTorch and by counting."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from one_line_errors import assert_raises_as_pytorch

import glassgrad as gg
from glassgrad.utils import data as gdata


def _plain(value):
    """Nested lists of numbers (tuples and lists alike: glassgrad batches tuple samples as tuples, PyTorch as lists)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (tuple, list)):
        return [_plain(part) for part in value]
    return value


def _batches(loader):
    return [_plain(batch) for batch in loader]


@pytest.mark.torch
@given(sizes=st.lists(st.integers(1, 5), min_size=1, max_size=4), batch=st.integers(1, 4), drop=st.booleans())
def test_deterministic_loaders_give_pytorchs_batches(torch, sizes, batch, drop):
    """Concatenated datasets, a sequential batch sampler, and a stream: the same batches as PyTorch's."""
    from torch.utils import data as tdata

    starts = np.cumsum([0, *sizes])
    results = []
    for lib, data in ((gg, gdata), (torch, tdata)):
        parts = [data.TensorDataset(lib.arange(float(a), float(b)).reshape(-1, 1), lib.arange(a, b))
                 for a, b in zip(starts[:-1], starts[1:])]
        joined = data.ConcatDataset(parts)

        class Stream(data.IterableDataset):
            def __iter__(self, lib=lib):
                return iter([(lib.tensor([float(i)]), i * 10) for i in range(sum(sizes))])

        sampler = data.BatchSampler(data.SequentialSampler(joined), batch_size=batch, drop_last=drop)
        results.append([
            _batches(data.DataLoader(joined, batch_size=batch, drop_last=drop)),
            _batches(data.DataLoader(joined, batch_sampler=sampler)),
            len(data.DataLoader(joined, batch_sampler=sampler)),
            _batches(data.DataLoader(Stream(), batch_size=batch, drop_last=drop)),
            [joined[i][1].item() for i in (-1, 0, len(joined) // 2)],
            _batches(data.DataLoader(data.StackDataset(joined, joined), batch_size=batch)),
        ])
    assert results[0] == results[1]


@given(size=st.integers(1, 30), seed=st.integers(0, 2**16))
def test_random_samplers_visit_what_they_should(size, seed):
    generator = gg.Generator().manual_seed(seed)
    once = list(gdata.RandomSampler(range(size), generator=generator))
    assert sorted(once) == list(range(size))
    longer = list(gdata.RandomSampler(range(size), num_samples=2 * size + 1, generator=generator))
    assert len(longer) == 2 * size + 1 and sorted(longer[:size]) == list(range(size))  # whole epochs first
    drawn = list(gdata.RandomSampler(range(size), replacement=True, num_samples=50, generator=generator))
    assert len(drawn) == 50 and all(0 <= i < size for i in drawn)
    picked = list(range(0, 3 * size, 3))
    subset = gdata.SubsetRandomSampler(picked, generator=generator)
    assert sorted(subset) == picked and len(subset) == size


def test_a_random_sampler_of_an_empty_dataset_gives_no_numbers():
    """Drawing whole permutations a piece at a time stepped by the dataset's size: an empty one raised
    'range() arg 3 must not be zero'; now it gives nothing. Asked for num_samples from an empty dataset (with
    replacement or not) it refuses in one line when drawn, as PyTorch 2.13's draw fails (ZeroDivisionError,
    random_'s RuntimeError): it used to give nothing while len() said num_samples, so a loader's len and its
    batches disagreed."""
    assert list(gdata.RandomSampler([])) == []
    for replacement in (False, True):
        with pytest.raises(RuntimeError, match="draws from an empty dataset"):
            list(gdata.RandomSampler([], replacement=replacement, num_samples=3))
    with pytest.raises(RuntimeError, match="draws from an empty dataset"):
        list(gdata.DataLoader(gdata.TensorDataset(gg.zeros(0, 2)), batch_size=2,
                              sampler=gdata.RandomSampler(range(0), replacement=True, num_samples=4)))


def test_an_endless_sampler_is_read_as_it_is_needed():
    """makemore's InfiniteDataLoader: ``RandomSampler(…, replacement=True, num_samples=int(1e10))``, of which a
    training run reads a few batches; drawn all at once, the numbers alone would need terabytes."""
    data = gdata.TensorDataset(gg.arange(10.0), gg.arange(10))
    endless = gdata.RandomSampler(data, replacement=True, num_samples=10**12, generator=gg.Generator().manual_seed(0))
    loader = gdata.DataLoader(data, sampler=endless, batch_size=4)
    batches = iter(loader)
    first, second = next(batches), next(batches)
    assert len(loader) == 10**12 // 4 and first[0].shape == (4,) and second[1].shape == (4,)
    assert all(0 <= i < 10 for batch in (first, second) for i in batch[1].tolist())
    epochs = gdata.RandomSampler(range(5), num_samples=10**12, generator=gg.Generator().manual_seed(1))
    numbers = iter(epochs)
    assert sorted(next(numbers) for _ in range(5)) == list(range(5))  # whole epochs, one after another


@pytest.mark.torch
@given(order=st.lists(st.integers(0, 5), max_size=9), batch=st.integers(1, 4), drop=st.booleans())
def test_a_given_sampler_is_cut_into_pytorchs_batches(torch, order, batch, drop):
    """``DataLoader(…, sampler=order)``: the order's numbers in batches, the last one short unless ``drop_last``."""
    from torch.utils import data as tdata

    found = []
    for lib, data in ((gg, gdata), (torch, tdata)):
        stored = data.TensorDataset(lib.arange(6.0).reshape(6, 1), lib.arange(6))
        listed = [(float(i), i * 2) for i in range(6)]
        found.append([_batches(data.DataLoader(source, sampler=order, batch_size=batch, drop_last=drop))
                      for source in (stored, listed)])
    assert found[0] == found[1]


def test_weighted_sampler_draws_each_number_as_often_as_its_weight_says():
    weights = np.array([1.0, 3.0, 0.0, 6.0])
    draws = np.array(list(gdata.WeightedRandomSampler(weights, 20_000, generator=gg.Generator().manual_seed(1))))
    counts = np.bincount(draws, minlength=4) / draws.size
    # binomial spread: √(p(1 − p)/n) ≤ 0.0036; 5 standard deviations
    np.testing.assert_allclose(counts, weights / weights.sum(), atol=0.018)
    without = list(gdata.WeightedRandomSampler(weights, 3, replacement=False, generator=gg.Generator()))
    assert sorted(without) == [0, 1, 3]


def test_a_new_epoch_draws_a_new_order_and_a_seeded_generator_repeats_it():
    data = gdata.TensorDataset(gg.arange(20))

    def epochs(seed):
        loader = gdata.DataLoader(data, batch_size=20, sampler=gdata.RandomSampler(
            data, generator=gg.Generator().manual_seed(seed)))
        return [next(iter(loader))[0].tolist() for _ in range(2)]

    first = epochs(3)
    assert first[0] != first[1] and first == epochs(3)


def test_random_split_takes_pytorchs_generator_argument():
    data = gdata.TensorDataset(gg.arange(10))
    parts = gdata.random_split(data, [7, 3], generator=gg.Generator().manual_seed(42))
    again = gdata.random_split(data, [7, 3], generator=gg.Generator().manual_seed(42))
    assert [list(p.indices) for p in parts] == [list(p.indices) for p in again]
    assert sorted(np.concatenate([p.indices for p in parts]).tolist()) == list(range(10))


def test_a_stream_without_length_has_no_batch_count_and_datasets_add():
    class Stream(gdata.IterableDataset):
        def __iter__(self):
            yield from ((gg.tensor([float(i)]),) for i in range(5))

    loader = gdata.DataLoader(Stream(), batch_size=2)
    assert [batch[0].shape[0] for batch in loader] == [2, 2, 1]
    with pytest.raises(TypeError, match="^DataLoader: this IterableDataset has no __len__"):
        len(loader)
    assert len(list(Stream() + Stream())) == 10
    joined = gdata.TensorDataset(gg.arange(3)) + gdata.TensorDataset(gg.arange(3, 5))
    assert [joined[i][0].item() for i in range(len(joined))] == [0, 1, 2, 3, 4]
    assert gdata.default_collate([(1.0, 2), (3.0, 4)])[0].tolist() == [1.0, 3.0]
    assert gdata.get_worker_info() is None


@pytest.mark.parametrize("call, error, message", [
    (lambda: gdata.DataLoader(gdata.TensorDataset(gg.arange(4)), batch_sampler=[[0]], shuffle=True), ValueError,
     "^DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler and drop_last"),
    (lambda: gdata.DataLoader(gdata.ChainDataset([]), shuffle=True), ValueError,
     "^DataLoader: an IterableDataset decides its own order"),
    (lambda: gdata.WeightedRandomSampler([0.0, 0.0], 2), ValueError, "^WeightedRandomSampler: weights must be"),
    (lambda: gdata.WeightedRandomSampler([1.0, 0.0], 2, replacement=False), ValueError,
     "^WeightedRandomSampler: 2 draws without replacement need as many samples of nonzero weight"),
    (lambda: gdata.BatchSampler(range(3), 0, False), ValueError, "^BatchSampler: batch_size must be"),
    (lambda: gdata.ConcatDataset([]), ValueError, "^ConcatDataset: datasets should not be an empty iterable"),
    (lambda: gdata.ConcatDataset([gdata.TensorDataset(gg.arange(2))])[2], IndexError,
     "^ConcatDataset: index 2 is out of range for 2 samples"),
])
def test_bad_arguments_are_refused_in_one_line(call, error, message):
    with pytest.raises(error, match=message) as raised:
        call()
    assert "\n" not in str(raised.value)


@pytest.mark.torch
@pytest.mark.parametrize("make", [
    lambda data: data.BatchSampler(range(5), 2, drop_last="no"),
    lambda data: data.BatchSampler(range(5), 2, drop_last=1),
    lambda data: data.RandomSampler(range(5), replacement=1),
    lambda data: data.WeightedRandomSampler([1.0, 2.0], 2, replacement=1),
], ids=["drop_last a string", "drop_last an int", "replacement an int", "weighted replacement an int"])
def test_a_flag_that_is_no_bool_is_refused_as_pytorch_refuses_it(torch, make):
    """BatchSampler(drop_last="no") dropped the last batch (bool("no") is True)."""
    assert_raises_as_pytorch(lambda lib: list(make(lib.utils.data)), torch)


@pytest.mark.torch
@given(rows=st.integers(1, 4), columns=st.integers(1, 3), transpose=st.booleans())
def test_weights_of_two_dims_are_refused_as_pytorch_refuses_them(torch, rows, columns, transpose):
    """WeightedRandomSampler read a (N, K) table of weights as N·K samples: numbers past the dataset's end, which
    its __getitem__ then failed on (IndexError), or silently right for (N, 1). PyTorch refuses any 2-D table."""
    weights = np.arange(1.0, rows * columns + 1).reshape(rows, columns)
    table = weights.T if transpose else weights
    error = assert_raises_as_pytorch(
        lambda lib: list(lib.utils.data.WeightedRandomSampler(lib.tensor(table), 3)), torch)
    assert str(error).startswith("WeightedRandomSampler: weights should be a 1-D sequence")
    drawn = list(gdata.WeightedRandomSampler(gg.tensor(table).reshape(-1), 50, generator=gg.Generator()))
    assert len(drawn) == 50 and all(0 <= number < rows * columns for number in drawn)


@pytest.mark.torch
@pytest.mark.parametrize("batch", [[1.0, None], [1.0, "2.5"], [0.5, [1.0]]], ids=["None", "a string", "a list"])
def test_collating_a_number_beside_no_number_is_refused_as_pytorch_refuses_it(torch, batch):
    """default_collate made [1.0, None] tensor([1., nan]) and read '2.5' as 2.5: a missing label passed silently."""
    error = assert_raises_as_pytorch(lambda lib: lib.utils.data.default_collate(batch), torch)
    assert "sample 1 holds" in str(error)


@pytest.mark.torch
def test_collating_a_number_beside_a_0d_array_or_tensor_gives_pytorchs_batch(torch):
    batches = []
    for library in (gg, torch):
        batch = library.utils.data.default_collate([1.0, np.array(2.0), library.tensor(3.0, dtype=library.float64)])
        batches.append((batch.tolist(), str(batch.dtype).replace("torch.", "")))
    assert batches[0] == batches[1] == ([1.0, 2.0, 3.0], "float64")
