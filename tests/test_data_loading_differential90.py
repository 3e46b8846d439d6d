"""``gg.utils.data`` against PyTorch 2.13's ``torch.utils.data``, beyond ``test_data_differential33.py``.

Oracle: PyTorch on the same drawn samples and settings. ``default_collate``/``default_convert`` of nested samples
that round 33 left out (dataclasses, which PyTorch leaves alone or refuses; NumPy string and object arrays, its
``np.str_`` scalars; samples whose fields change type between samples: ints, floats, bools, NumPy numbers and 0-d
tensors mixed in one field, arrays of mixed shapes), compared by structure, container class, dtype, shape and
values, or by the class of what PyTorch raises; an ``IterableDataset`` with a ``__len__`` that says less than it
yields (PyTorch's warning, once ``len(loader)`` was read); the worker settings ``prefetch_factor``, ``timeout`` and
``multiprocessing_context`` refused as PyTorch's are; ``Subset``/``StackDataset.__getitems__`` (a batch in one
call); ``random_split``'s round-robin of the remainder; the datasets' indexing; samplers' lengths, ranges and
argument errors; the same seed repeating a random order within each library (orders are not compared across the
two: their random streams differ, as ``glassgrad.data.samplers`` says).

Left as they are (noted, not tested as equal): glassgrad has no complex dtype, so a complex array stays an array in
``default_convert`` and is refused by ``default_collate``; ``default_convert`` leaves a ``datetime64`` array and an
``np.bytes_`` scalar as they are where PyTorch raises; ``num_workers > 0`` loads in this process (no duplication of
an ``IterableDataset`` across workers, ``get_worker_info()`` is None, ``worker_init_fn`` is not called).
"""

from __future__ import annotations

import collections
import dataclasses
import random
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.utils.data as gd

Pair = collections.namedtuple("Pair", "a b")


@dataclasses.dataclass
class Record:
    x: object
    y: object


NUMERIC = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def data_of(lib, torch):
    return torch.utils.data if lib == "torch" else gd


def canonical(value, lib, torch):
    """``value`` as plain data: tensors as (dtype, shape, values), containers with their class names."""
    if isinstance(value, torch.Tensor if lib == "torch" else gg.Tensor):
        return ("tensor", str(value.dtype).split(".")[-1], tuple(value.shape), value.detach().numpy().tolist())
    if isinstance(value, np.ndarray):
        return ("ndarray", str(value.dtype), value.shape, value.tolist())
    if isinstance(value, np.generic):
        return ("numpy", type(value).__name__, repr(value))
    if dataclasses.is_dataclass(value):
        return ("Record", canonical(value.x, lib, torch), canonical(value.y, lib, torch))
    if isinstance(value, dict):
        return (type(value).__name__, [(key, canonical(item, lib, torch)) for key, item in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [canonical(item, lib, torch) for item in value])
    return ("python", type(value).__name__, repr(value))


def outcome(function, lib, torch):
    """What ``function()`` gives, as plain data with the warnings' classes, or the class of what it raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = canonical(function(), lib, torch)
        except Exception as error:  # noqa: BLE001 - the class is the comparison
            result = ("raises", type(error).__name__)
    return result, sorted({warning.category.__name__ for warning in caught})


def both(function, torch):
    """``function(lib, data, module)``'s outcome under PyTorch and under glassgrad."""
    return [outcome(lambda lib=lib: function(lib, data_of(lib, torch), torch if lib == "torch" else gg), lib, torch)
            for lib in ("torch", "gg")]


# --- the fuzzer's core: collate and convert of drawn samples whose fields may change type ------------------------

shapes = st.lists(st.integers(0, 2), max_size=2).map(tuple)
leaves = st.one_of(
    st.tuples(st.just("array"), st.sampled_from(NUMERIC + ["U3", "S3", "O"]), shapes),
    st.tuples(st.just("tensor"), st.sampled_from(NUMERIC), shapes),
    st.tuples(st.just("0-d tensor"), st.sampled_from(["bool", "int32", "int64", "float32", "float64"])),
    st.tuples(st.just("numpy number"), st.sampled_from(["int8", "int64", "float16", "float32", "float64", "str_"])),
    st.sampled_from(["int", "float", "bool", "str", "bytes", "none"]).map(lambda kind: (kind,)),
)
specs = st.recursive(leaves, lambda inner: st.one_of(
    st.tuples(st.sampled_from(["tuple", "list", "dict", "ordered dict"]), st.lists(inner, min_size=1, max_size=3)),
    st.tuples(st.sampled_from(["pair", "record"]), st.lists(inner, min_size=2, max_size=2)),
), max_leaves=5)
NUMBER_KINDS = [("int",), ("float",), ("bool",), ("numpy number", "float32"), ("numpy number", "int64"),
                ("0-d tensor", "float64")]


PYTHON_LEAVES = {"int": lambda draw: draw.randrange(-5, 5), "float": lambda draw: draw.uniform(-2, 2),
                 "bool": lambda draw: draw.random() < 0.5, "str": lambda draw: f"s{draw.randrange(9)}",
                 "bytes": lambda draw: b"b%d" % draw.randrange(9), "none": lambda draw: None}


def changed(spec, draw):
    """``spec`` with some Python numbers turned into another kind of number and some arrays into another shape (of
    one dimension or more: PyTorch's error for a 0-d array beside others is NumPy's, left out)."""
    kind = spec[0]
    if kind in ("tuple", "list", "dict", "ordered dict", "pair", "record"):
        return (kind, [changed(child, draw) for child in spec[1]])
    if kind in ("int", "float", "bool") and draw.random() < 0.3:
        return draw.choice(NUMBER_KINDS)
    if kind in ("array", "tensor") and spec[2] and draw.random() < 0.3:
        return (kind, spec[1], tuple(size + 1 for size in spec[2]))
    return spec


def build(spec, draw, lib, torch):
    """A sample from its spec, with numbers from ``draw`` (the same seed gives both libraries the same numbers)."""
    kind, module = spec[0], (torch if lib == "torch" else gg)
    if kind in ("array", "tensor", "0-d tensor"):
        shape = spec[2] if kind != "0-d tensor" else ()
        values = np.array([draw.uniform(-3, 3) for _ in range(int(np.prod(shape)))]).reshape(shape)
        dtype = spec[1]
        if dtype in ("U3", "S3", "O"):
            return values.round(1).astype(str).astype(dtype)
        values = values > 0 if dtype == "bool" else (np.abs(values) if dtype == "uint8" else values).astype(dtype)
        return values if kind == "array" else module.tensor(values)
    if kind == "numpy number":
        number = draw.uniform(0, 3)
        return np.str_(f"n{number:.0f}") if spec[1] == "str_" else getattr(np, spec[1])(number)
    if kind in PYTHON_LEAVES:
        return PYTHON_LEAVES[kind](draw)
    children = [build(child, draw, lib, torch) for child in spec[1]]
    containers = {"tuple": tuple, "list": list, "pair": lambda items: Pair(*items),
                  "record": lambda items: Record(*items),
                  "dict": lambda items: {f"k{i}": item for i, item in enumerate(items)},
                  "ordered dict": lambda items: collections.OrderedDict(
                      (f"k{i}", item) for i, item in enumerate(items))}
    return containers[kind](children)


@given(spec=specs, size=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_collate_and_convert_of_samples_whose_fields_change_type_are_pytorchs(torch, spec, size, seed):
    """Samples of one structure (a field of a later sample may hold another kind of number, or an array of another
    shape), collated by both libraries, and the first converted by both: equal structure, classes, dtypes and
    values, or the same exception class."""
    draw = random.Random(seed)
    sample_specs = [spec] + [changed(spec, draw) for _ in range(size - 1)]

    def collated(lib, data, module):
        return data.default_collate([build(s, random.Random(seed + i), lib, torch) for i, s in enumerate(sample_specs)])

    def converted(lib, data, module):
        return data.default_convert(build(spec, random.Random(seed), lib, torch))

    torch_result, gg_result = both(collated, torch)
    assert gg_result[0] == torch_result[0]
    torch_result, gg_result = both(converted, torch)
    assert gg_result[0] == torch_result[0]


def test_collate_of_mixed_numbers_in_one_field_gives_pytorchs_dtype(torch):
    """int then float is torch.tensor's float32 (the default dtype); float first is default_collate's float64."""
    for batch, dtype in [([1, 2.5], "float32"), ([2.5, 1], "float64"), ([True, 3], "int64"), ([3, True], "int64"),
                         ([1.5, True], "float64"), ([np.float32(1), 2.5], "float32"), ([np.int64(1), 2.5], "float32"),
                         ([np.float16(1), np.float16(2)], "float16"), ([1, np.float64(2.5)], "float64")]:
        torch_result, gg_result = both(lambda lib, data, module, batch=batch: data.default_collate(batch), torch)
        assert gg_result == torch_result, batch
        assert gg_result[0][1] == dtype


def test_collate_and_convert_of_dataclasses_numpy_strings_and_objects_are_pytorchs(torch):
    """PyTorch's default_convert leaves a dataclass and a string or object array as they are (its arrays inside
    too), and its default_collate refuses them (TypeError); a list of np.str_ stays the strings."""
    samples = [Record(np.arange(2.0), 1), np.array(["ab", "c"]), np.array([1, "a"], dtype=object),
               {"text": np.str_("x"), "array": np.float32([1.5])}]
    for sample in samples:
        torch_result, gg_result = both(lambda lib, data, module, s=sample: data.default_convert(s), torch)
        assert gg_result == torch_result
        torch_result, gg_result = both(lambda lib, data, module, s=sample: data.default_collate([s, s]), torch)
        assert gg_result == torch_result
    assert both(lambda lib, data, module: data.default_collate([Record(1, 2)]), torch)[1][0] == ("raises", "TypeError")


# --- an IterableDataset whose __len__ says less than it yields ---------------------------------------------------


def stream(data, count, length=None):
    """A stream of ``count`` ints, with a ``__len__`` saying ``length`` (none if None)."""
    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter(range(count))

    if length is None:
        return Stream()
    return type("SizedStream", (Stream,), {"__len__": lambda self: length})()


@pytest.mark.parametrize("count, length", [(5, 3), (7, 5), (1, 0), (4, 4), (2, 5)])
def test_a_stream_longer_than_its_len_warns_as_pytorchs_once_len_loader_was_read(torch, count, length):
    """PyTorch warns at each batch past len(dataset) (it counts batches against the dataset's length) once
    len(loader) was read before the epoch; glassgrad said nothing. Batches and len are PyTorch's either way."""
    for batch_size, drop_last in [(None, False), (1, False), (1, True), (3, False), (3, True)]:
        def length_first(lib, data, module, batch_size=batch_size, drop_last=drop_last):
            loader = data.DataLoader(stream(data, count, length), batch_size=batch_size, drop_last=drop_last)
            return len(loader), list(loader)

        def batches_first(lib, data, module, batch_size=batch_size, drop_last=drop_last):
            loader = data.DataLoader(stream(data, count, length), batch_size=batch_size, drop_last=drop_last)
            return list(loader), len(loader)

        for function in (length_first, batches_first):
            torch_result, gg_result = both(function, torch)
            assert gg_result == torch_result, (batch_size, drop_last, function.__name__)


def test_the_stream_warning_names_the_lengths_and_the_users_line():
    loader = gd.DataLoader(stream(gd, 5, 3), batch_size=None)
    assert len(loader) == 3
    with pytest.warns(UserWarning, match=r"^Length of IterableDataset .* was reported to be 3 \(when accessing "
                                         r"len\(dataloader\)\), but [45] samples have been fetched") as caught:
        assert list(loader) == [0, 1, 2, 3, 4]
    assert {warning.filename for warning in caught} == {__file__}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert list(gd.DataLoader(stream(gd, 5, 3), batch_size=None)) == [0, 1, 2, 3, 4]  # len never read: silent


# --- worker settings refused as PyTorch refuses them ---------------------------------------------------------------


@pytest.mark.parametrize("options", [
    {"num_workers": 1, "prefetch_factor": -1},    # accepted before (PyTorch: ValueError)
    {"num_workers": 1, "prefetch_factor": 0},     # accepted before (PyTorch: AssertionError)
    {"timeout": 1},                               # accepted before (PyTorch's single-process loader asserts)
    {"timeout": 0.5},
    {"multiprocessing_context": "spawn"},         # accepted before (PyTorch: ValueError without workers)
    {"drop_last": 1},                             # accepted before (PyTorch's BatchSampler: ValueError)
    {"drop_last": "no", "batch_size": 2},
], ids=["prefetch-1", "prefetch0", "timeout1", "timeout0.5", "context", "drop_last=1", "drop_last=no"])
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # PyTorch's half-made worker iterator
def test_worker_settings_pytorch_refuses_are_refused_in_its_class(torch, options):
    for streamed in (False, True):
        def batches(lib, data, module, streamed=streamed):
            dataset = stream(data, 4) if streamed else list(range(4))
            return list(data.DataLoader(dataset, **options))

        torch_result, gg_result = both(batches, torch)
        assert torch_result[0][0] == "raises"
        assert gg_result[0] == torch_result[0], streamed


def test_prefetch_and_timeout_messages_say_what_to_do():
    with pytest.raises(ValueError, match=r"^prefetch_factor option should be non-negative \(got -1\)"):
        gd.DataLoader(range(4), num_workers=2, prefetch_factor=-1)
    with pytest.raises(AssertionError, match=r"^timeout=1 needs worker processes \(num_workers > 0\)"):
        gd.DataLoader(range(4), timeout=1)
    with pytest.raises(ValueError, match=r"^multiprocessing_context can only be used with multi-process loading"):
        gd.DataLoader(range(4), multiprocessing_context="fork")


@pytest.mark.parametrize("options", [
    {"num_workers": 2, "prefetch_factor": 3, "persistent_workers": True},
    {"num_workers": 1, "timeout": 5},
    {"batch_size": None, "drop_last": False}, {"batch_size": 2, "drop_last": True}, {"pin_memory": True},
])
def test_worker_settings_pytorch_takes_give_its_batches_and_attributes(torch, options):
    """Loaded in this process, as glassgrad's DataLoader says: the same batches, settings read back as given
    (pin_memory warns as PyTorch's does on a machine without an accelerator)."""
    def batches(lib, data, module):
        loader = data.DataLoader(list(range(5)), **options)
        return list(loader), loader.prefetch_factor, loader.persistent_workers, loader.timeout, loader.drop_last

    torch_result, gg_result = both(batches, torch)
    assert gg_result == torch_result


def test_worker_info_and_init_fn_in_this_process():
    """glassgrad loads in this process: get_worker_info() is None inside __iter__ (PyTorch's answer there with
    num_workers=0), so the usual sharding recipe reads the whole stream once, and worker_init_fn is not called."""
    seen, called = [], []

    class Sharded(gd.IterableDataset):
        def __iter__(self):
            seen.append(gd.get_worker_info())
            return iter(range(3))

    loader = gd.DataLoader(Sharded(), batch_size=None, num_workers=2, worker_init_fn=called.append)
    assert list(loader) == [0, 1, 2] and seen == [None] and called == []


# --- __getitems__: a batch in one call, through Subset and StackDataset --------------------------------------------


def batched(data):
    """A dataset whose __getitems__ marks its samples (a tokenizer or augmentation that works a batch at a time)."""
    class Batched(data.Dataset):
        def __getitem__(self, index):
            return ("one", index)

        def __getitems__(self, indices):
            return [("many", index) for index in indices]

        def __len__(self):
            return 6

    return Batched()


@pytest.mark.parametrize("make", [
    lambda data: data.Subset(batched(data), [4, 2, 0, 5]),
    lambda data: data.StackDataset(batched(data), [10, 11, 12, 13, 14, 15]),
    lambda data: data.StackDataset(a=batched(data), b=batched(data)),
    lambda data: data.Subset(data.Subset(batched(data), [5, 4, 3, 2]), [3, 0]),
    lambda data: data.Subset(list("abcdef"), [1, 3]),
], ids=["subset", "stack", "stack-named", "subset-of-subset", "subset-of-list"])
def test_subset_and_stack_dataset_fetch_a_batch_in_one_call_as_pytorchs(torch, make):
    """They had no __getitems__: calling it raised AttributeError, and a DataLoader over a Subset or StackDataset of
    a dataset with one read it sample by sample (('one', i) where PyTorch gives ('many', i))."""
    def fetched(lib, data, module):
        return make(data).__getitems__([1, 0])

    def loaded(lib, data, module):
        return list(data.DataLoader(make(data), batch_size=2, collate_fn=lambda batch: batch))

    for function in (fetched, loaded):
        torch_result, gg_result = both(function, torch)
        assert gg_result == torch_result


def test_stack_dataset_refuses_a_getitems_of_the_wrong_length_as_pytorchs(torch):
    def short(lib, data, module):
        part = batched(data)
        type(part).__getitems__ = lambda self, indices: [0]
        return data.StackDataset(part, list(range(6))).__getitems__([1, 2])

    torch_result, gg_result = both(short, torch)
    assert gg_result[0] == torch_result[0] == ("raises", "ValueError")


# --- datasets' indexing -----------------------------------------------------------------------------------------


def test_concat_and_tensor_dataset_indexing_is_pytorchs(torch):
    """Negative indices (one too far back: PyTorch's ValueError), past the end, an empty part; a TensorDataset's
    slices and lists of rows."""
    for index in [0, 2, 3, 4, 5, -1, -2, -6, -7, 6, 7]:
        def read(lib, data, module, index=index):
            joined = data.ConcatDataset([[1, 2, 3], [], [4, 5], [6]])
            return joined.cumulative_sizes, len(joined), joined[index]

        torch_result, gg_result = both(read, torch)
        assert gg_result == torch_result, index
    for index in [0, -1, -3, slice(1, None), slice(None, None, 2), [0, 2], 3, -4]:
        def rows(lib, data, module, index=index):
            return data.TensorDataset(module.arange(6.0).reshape(3, 2), module.tensor([1, 0, 1]))[index]

        torch_result, gg_result = both(rows, torch)
        assert gg_result == torch_result, index


SUBSET_STACK_CHAIN = [
    lambda data, module: data.Subset(list(range(10, 16)), [5, 1, 3])[-1],
    lambda data, module: data.Subset(list(range(10, 16)), [5, 1, 3])[[0, 2]],
    lambda data, module: data.Subset(list(range(10, 16)), [5, 1, 3])[3],
    lambda data, module: data.Subset([10, 20, 30], module.tensor([2, 0]))[1],
    lambda data, module: data.Subset([10, 20, 30], range(1, 3))[1],
    lambda data, module: len(data.Subset([10, 20, 30], [2, 0]) + data.Subset([1, 2], [1])),
    lambda data, module: data.StackDataset([1, 2], [3, 4])[-1],
    lambda data, module: data.StackDataset(a=[1, 2], b=[3, 4])[1],
    lambda data, module: data.StackDataset([1, 2], [3, 4])[2],
    lambda data, module: data.StackDataset([1, 2], b=[3, 4]),
    lambda data, module: data.StackDataset([1, 2], [3]),
    lambda data, module: list(data.ChainDataset([stream(data, 2), stream(data, 3)])),
    lambda data, module: len(data.ChainDataset([stream(data, 2, 2), stream(data, 3, 3)])),
    lambda data, module: len(data.ChainDataset([stream(data, 2), stream(data, 3)])),
    lambda data, module: list(data.DataLoader(data.ChainDataset([stream(data, 2), stream(data, 3)]), batch_size=2)),
    lambda data, module: list(data.DataLoader(data.StackDataset(a=[1, 2, 3], b=[3.0, 4.0, 5.0]), batch_size=2)),
]


def test_subset_stack_and_chain_datasets_are_pytorchs(torch):
    for position, read in enumerate(SUBSET_STACK_CHAIN):
        torch_result, gg_result = both(lambda lib, data, module, read=read: read(data, module), torch)
        assert gg_result == torch_result, position


# --- random_split -------------------------------------------------------------------------------------------------


@given(n=st.integers(0, 40), weights=st.lists(st.integers(1, 9), min_size=1, max_size=6))
def test_random_split_sizes_of_drawn_fractions_are_pytorchs(torch, n, weights):
    """Fractions floored, the leftover given one by one round-robin from the first split; an empty split warns."""
    fractions = [w / sum(weights) for w in weights]
    if not (abs(sum(fractions) - 1) < 1e-12 and sum(fractions) <= 1):
        fractions[-1] = 1 - sum(fractions[:-1])  # PyTorch reads a sum just over 1 as lengths (it refuses those)
    def sizes(lib, data, module):
        return [len(part) for part in data.random_split(range(n), fractions)]

    torch_result, gg_result = both(sizes, torch)
    assert gg_result == torch_result


@pytest.mark.parametrize("lengths", [[3, 4], [7], [0, 7], [2, 2], [0.5, 0.6], [], [np.int64(3), np.int64(4)]])
def test_random_split_lengths_and_bad_sums_are_pytorchs(torch, lengths):
    torch_result, gg_result = both(lambda lib, data, module: [len(part) for part in data.random_split(range(7),
                                                                                                      lengths)], torch)
    assert gg_result == torch_result


def test_random_split_with_one_generator_seed_repeats_itself_in_each_library(torch):
    for data, module in ((torch.utils.data, torch), (gd, gg)):
        first, second = ([part.indices for part in data.random_split(range(20), [0.3, 0.7],
                                                                     generator=module.Generator().manual_seed(5))]
                         for _ in range(2))
        assert first == second and sorted(first[0] + first[1]) == list(range(20))
        assert {type(i) for i in first[0]} == {int}


# --- samplers -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("replacement", [False, True])
def test_random_sampler_lengths_ranges_and_errors_are_pytorchs(torch, replacement):
    """Without replacement num_samples past the dataset gives whole permutations back to back (each number
    ⌊10/4⌋ or ⌈10/4⌉ times): the counts are deterministic."""
    for num_samples in [None, 1, 3, 10, 0, -1, 2.0, "3"]:
        def draws(lib, data, module, num_samples=num_samples):
            sampler = data.RandomSampler(range(4), replacement=replacement, num_samples=num_samples)
            drawn = list(sampler)
            counts = sorted(collections.Counter(drawn).values()) if not replacement else None
            return len(sampler), len(drawn), {type(i).__name__ for i in drawn}, all(0 <= i < 4 for i in drawn), counts

        torch_result, gg_result = both(draws, torch)
        assert gg_result == torch_result, num_samples


def test_weighted_random_sampler_lengths_ranges_and_argument_errors_are_pytorchs(torch):
    """A number of weight 0 is never drawn, and without replacement every number once: deterministic."""
    for weights, num_samples, replacement in [
            ([1.0, 2.0, 3.0], 5, True), ([1.0, 2.0, 3.0], 3, False), ([0.0, 2.0, 0.0, 1.0], 40, True),
            ([1, 2], 0, True), ([1, 2], -1, True), ([1, 2], 2.0, True), ([1, 2], 2, 1), ([5.0], 3, True)]:
        def draws(lib, data, module, weights=weights, num_samples=num_samples, replacement=replacement):
            sampler = data.WeightedRandomSampler(weights, num_samples, replacement=replacement)
            drawn = list(sampler)
            return (len(sampler), len(drawn), {type(i).__name__ for i in drawn},
                    {i for i in drawn if weights[i] == 0}, len(set(drawn)) if not replacement else None)

        torch_result, gg_result = both(draws, torch)
        assert gg_result == torch_result, (weights, num_samples, replacement)


def test_batch_sampler_batches_length_and_argument_errors_are_pytorchs(torch):
    for batch_size, drop_last in [(2, False), (2, True), (5, False), (6, True), (1, True), (0, False), (-1, False),
                                  (2.0, False), (True, False), (2, None), (2, 1)]:
        def batches(lib, data, module, batch_size=batch_size, drop_last=drop_last):
            sampler = data.BatchSampler(data.SequentialSampler(range(5)), batch_size, drop_last)
            return list(sampler), len(sampler)

        torch_result, gg_result = both(batches, torch)
        assert gg_result == torch_result, (batch_size, drop_last)


@pytest.mark.parametrize("make", [
    lambda data, module: data.RandomSampler(range(30), generator=module.Generator().manual_seed(3)),
    lambda data, module: data.RandomSampler(range(30), True, 50, generator=module.Generator().manual_seed(3)),
    lambda data, module: data.SubsetRandomSampler(list(range(5, 35)), generator=module.Generator().manual_seed(1)),
    lambda data, module: data.WeightedRandomSampler([1.0, 2.0, 3.0] * 10, 30,
                                                    generator=module.Generator().manual_seed(2)),
], ids=["random", "replacement", "subset", "weighted"])
def test_a_seeded_sampler_repeats_its_order_in_each_library(torch, make):
    """Two samplers of one seed give one order (compared within each library, never across: the streams
    differ). The second epoch of one sampler is a new order: equal by chance with probability 1/30! < 1e-32 for
    the permutations and below (1/25)³⁰ < 1e-41 for the draws (a draw matches the first epoch's with probability
    Σpᵢ², 1/30 uniform, 140/3600 < 1/25 for the weights)."""
    for data, module in ((torch.utils.data, torch), (gd, gg)):
        one, other = make(data, module), make(data, module)
        assert list(one) == list(other)
        first, second = list(one), list(one)
        assert first != second


def test_loader_sampler_and_batch_sampler_attributes_are_pytorchs(torch):
    def attributes(lib, data, module):
        plain = data.DataLoader(list(range(5)), batch_size=2)
        shuffled = data.DataLoader(list(range(5)), batch_size=2, shuffle=True)
        unbatched = data.DataLoader(list(range(5)), batch_size=None)
        given = data.DataLoader(list(range(5)), batch_sampler=[[0, 1], [4]])
        return ([type(loader.sampler).__name__ for loader in (plain, shuffled, unbatched)],
                type(plain.batch_sampler).__name__, unbatched.batch_sampler, given.batch_size, given.drop_last,
                len(given), list(given), len(shuffled.sampler), list(unbatched))

    torch_result, gg_result = both(attributes, torch)
    assert gg_result == torch_result
