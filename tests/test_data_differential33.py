"""``gg.utils.data`` against PyTorch 2.13's ``torch.utils.data`` on drawn samples and loaders.

Oracle: PyTorch's ``default_collate``/``default_convert`` on the same nested samples (tuples, lists, dicts,
OrderedDicts, named tuples, NumPy arrays and scalars of every tensor dtype, Python numbers, strings, bytes,
None, tensors and 0-d tensors), compared by structure (the container classes), dtype, shape and values;
``DataLoader`` batches and ``len`` for map-style and iterable datasets with ``batch_size``, ``drop_last``,
``sampler``, ``batch_sampler`` and ``batch_size=None``; dataset indexing; ``random_split``'s sizes; the
deterministic samplers; and the exception class of misuse. Random orders are not compared (the two libraries'
generators differ): a seeded shuffle is checked to be a permutation, repeated by the same seed and new each epoch.
"""

from __future__ import annotations

import collections
import random
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.utils.data as gd

Pair = collections.namedtuple("Pair", "a b")
NUMPY_DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32, np.float64]
TENSOR_DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]
LEAVES = ["array", "numpy number", "int", "float", "bool", "str", "bytes", "none", "tensor", "0-d tensor"]


def canonical(value, lib, torch):
    """``value`` as plain data: tensors as (dtype, shape, values), containers with their class names."""
    tensor_class = torch.Tensor if lib == "torch" else gg.Tensor
    if isinstance(value, tensor_class):
        return ("tensor", str(value.dtype).split(".")[-1], tuple(value.shape), value.detach().numpy().tolist())
    if isinstance(value, np.ndarray):
        return ("ndarray", str(value.dtype), value.shape, value.tolist())
    if isinstance(value, np.generic):
        return ("numpy", type(value).__name__, value.item())
    if isinstance(value, dict):
        return (type(value).__name__, [(key, canonical(item, lib, torch)) for key, item in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [canonical(item, lib, torch) for item in value])
    return ("python", type(value).__name__, repr(value))


def outcome(function, lib, torch, *arguments):
    """What ``function(*arguments)`` gives, as plain data, or the class of what it raises."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return canonical(function(*arguments), lib, torch)
    except Exception as error:  # noqa: BLE001 - the class is the comparison
        return ("raises", type(error).__name__)


def build(spec, draw, lib, torch):
    """A sample from its spec, with numbers from ``draw`` (the same seed gives both libraries the same numbers)."""
    kind = spec[0]
    module = torch if lib == "torch" else gg
    if kind in ("array", "tensor", "0-d tensor"):
        shape = spec[2] if kind != "0-d tensor" else ()
        values = np.array([draw.uniform(-3, 3) for _ in range(int(np.prod(shape)))]).reshape(shape)
        dtype = np.dtype(spec[1])
        values = values > 0 if dtype == np.bool_ else (np.abs(values) if dtype == np.uint8 else values).astype(dtype)
        return values if kind == "array" else module.tensor(values)
    if kind == "numpy number":
        number = draw.uniform(0, 3)
        return spec[1](number > 1) if spec[1] is np.bool_ else spec[1](number)
    simple = {"int": lambda: draw.randrange(-5, 5), "float": lambda: draw.uniform(-2, 2),
              "bool": lambda: draw.random() < 0.5, "str": lambda: f"s{draw.randrange(9)}",
              "bytes": lambda: b"b%d" % draw.randrange(9), "none": lambda: None}
    if kind in simple:
        return simple[kind]()
    children = [build(child, draw, lib, torch) for child in spec[1]]
    if kind == "tuple":
        return tuple(children)
    if kind == "list":
        return children
    if kind == "pair":
        return Pair(*children)
    keys = [f"k{i}" for i in range(len(children))]
    return dict(zip(keys, children)) if kind == "dict" else collections.OrderedDict(zip(keys, children))


shapes = st.lists(st.integers(0, 3), max_size=2).map(tuple)
leaves = st.one_of(
    st.tuples(st.just("array"), st.sampled_from([np.dtype(d).name for d in NUMPY_DTYPES]), shapes),
    st.tuples(st.just("numpy number"), st.sampled_from(NUMPY_DTYPES)),
    st.sampled_from(["int", "float", "bool", "str", "bytes", "none"]).map(lambda kind: (kind,)),
    st.tuples(st.just("tensor"), st.sampled_from(TENSOR_DTYPES), shapes),
    st.tuples(st.just("0-d tensor"), st.sampled_from(TENSOR_DTYPES)),
)
specs = st.recursive(leaves, lambda inner: st.one_of(
    st.tuples(st.sampled_from(["tuple", "list", "dict", "ordered dict"]), st.lists(inner, max_size=3)),
    st.tuples(st.just("pair"), st.lists(inner, min_size=2, max_size=2)),
), max_leaves=6)


@given(spec=specs, size=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_default_collate_and_convert_of_drawn_nested_samples_are_pytorchs(torch, spec, size, seed):
    """The fuzzer's core: samples of one structure, collated (and one of them converted) by both libraries."""
    seeds = [seed + i for i in range(size)]
    samples = {lib: [build(spec, random.Random(s), lib, torch) for s in seeds] for lib in ("torch", "gg")}
    collated = outcome(lambda: torch.utils.data.default_collate(samples["torch"]), "torch", torch)
    assert outcome(lambda: gd.default_collate(samples["gg"]), "gg", torch) == collated
    converted = outcome(lambda: torch.utils.data.default_convert(samples["torch"][0]), "torch", torch)
    assert outcome(lambda: gd.default_convert(samples["gg"][0]), "gg", torch) == converted


# --- regressions: each of these differed from PyTorch on 71e9f3a ---------------------------------------------------


@pytest.mark.parametrize("second", [
    lambda m: 1.5,                      # a label that is a Python number in one sample: 'different shapes' before
    lambda m: 1,                        # silently stacked before
    lambda m: True,
    lambda m: np.array([1.0, 2.0]),     # an array after a tensor: silently stacked before
], ids=["float", "int", "bool", "array"])
@pytest.mark.parametrize("first_shape", [(), (2,)])
def test_collate_refuses_a_non_tensor_after_a_tensor_as_pytorchs_stack(torch, second, first_shape):
    with pytest.raises(TypeError):
        torch.utils.data.default_collate([torch.zeros(first_shape), second(torch)])
    with pytest.raises(TypeError, match=r"^collate: sample 1 holds a value of type \w+ where sample 0 holds a tensor"):
        gd.default_collate([gg.zeros(first_shape), second(gg)])


@pytest.mark.parametrize("first", [1, True, 2.5], ids=["int", "bool", "float"])
@pytest.mark.parametrize("array", [np.zeros((1, 0)), np.zeros(3)], ids=["empty", "three"])
def test_collate_of_numbers_refuses_an_array_among_them_in_one_line(torch, first, array):
    """ints and bools went into gg.tensor, whose ValueError quoted NumPy's 'inhomogeneous shape'."""
    with pytest.raises(TypeError):
        torch.utils.data.default_collate([first, array])
    with pytest.raises(TypeError, match=r"^collate: sample 1 holds a ndarray .* where the others hold numbers"):
        gd.default_collate([first, array])


@pytest.mark.parametrize("batch", [[1, None], [True, None], [1.5, None], [1, "a"], [2.5, [1.0]], [0, (1,)],
                                   [np.array([1.0]), None], [np.float32(1), np.float32(2), None]])
def test_collate_of_numbers_with_a_missing_one_raises_pytorchs_class(torch, batch):
    expected = outcome(torch.utils.data.default_collate, "torch", torch, batch)
    assert expected[0] == "raises"
    assert outcome(gd.default_collate, "gg", torch, batch) == expected
    with pytest.raises(Exception, match=r"^collate: sample \d holds (a \w+ \(.*\) where the others hold|None wh)"):
        gd.default_collate(batch)


@pytest.mark.parametrize("call", [
    lambda d, m: d.random_split(range(7), [3, 4], generator=3),
    lambda d, m: list(d.RandomSampler(range(3), generator=3)),
    lambda d, m: list(d.SubsetRandomSampler([1, 2], generator="seed")),
    lambda d, m: m.randperm(3, generator=0),
    lambda d, m: m.randn(2, generator=1),
], ids=["random_split", "RandomSampler", "SubsetRandomSampler", "randperm", "randn"])
def test_a_generator_that_is_no_generator_is_refused_as_pytorch(torch, call):
    """An int or a string for ``generator`` raised AttributeError ('int' object has no attribute 'permutation')."""
    with pytest.raises(TypeError):
        call(torch.utils.data, torch)
    with pytest.raises(TypeError, match=r"^generator must be a gg.Generator \(or a NumPy Generator\), not (int|str)"):
        call(gd, gg)


def test_random_sampler_refuses_draws_from_an_empty_dataset(torch):
    """``len`` said 3 and the epoch gave none (a loader's len() and its batches disagreed)."""
    with pytest.raises(RuntimeError):
        list(torch.utils.data.RandomSampler(range(0), replacement=True, num_samples=3))
    for replacement in (True, False):
        sampler = gd.RandomSampler(range(0), replacement=replacement, num_samples=3)
        assert len(sampler) == 3
        with pytest.raises(RuntimeError, match="^RandomSampler: num_samples=3 draws from an empty dataset"):
            list(sampler)
    assert list(gd.RandomSampler(range(0))) == []  # leniency kept: PyTorch refuses num_samples=0 at construction


# --- loaders, datasets and samplers against PyTorch (these behaved) -------------------------------------------------


def dict_samples(base, module):
    class Records(base):
        def __init__(self, n):
            self.n = n

        def __len__(self):
            return self.n

        def __getitem__(self, index):
            if not -self.n <= index < self.n:
                raise IndexError(index)
            return {"x": module.tensor([float(index), 2.0 * index]), "y": index, "w": index / 3, "name": f"n{index}",
                    "pair": Pair(np.float16(index), np.array([index], dtype=np.uint8))}

    return Records


@given(n=st.integers(0, 8), batch_size=st.sampled_from([1, 2, 3, None, 9]), drop_last=st.booleans(),
       how=st.sampled_from(["plain", "sampler", "batch sampler", "collate_fn", "tensors"]))
def test_loader_batches_and_length_are_pytorchs(torch, n, batch_size, drop_last, how):
    if batch_size is None and drop_last:
        drop_last = False
    X = np.arange(n * 2, dtype=np.float32).reshape(n, 2)

    def loader(lib):
        data_module, module = (torch.utils.data, torch) if lib == "torch" else (gd, gg)
        if how == "tensors":
            data = data_module.TensorDataset(module.tensor(X), module.arange(n))
        else:
            data = dict_samples(data_module.Dataset, module)(n)
        options = {"batch_size": batch_size, "drop_last": drop_last}
        if how == "sampler":
            options["sampler"] = list(reversed(range(n)))
        if how == "batch sampler":
            options = {"batch_sampler": data_module.BatchSampler(data_module.SequentialSampler(data), 3, drop_last)}
        if how == "collate_fn":
            options["collate_fn"] = lambda batch: ("custom", len(batch) if isinstance(batch, list) else batch["y"])
        return data_module.DataLoader(data, **options)

    for lib_call in (len, list):
        assert outcome(lambda call: call(loader("gg")), "gg", torch, lib_call) == outcome(
            lambda call: call(loader("torch")), "torch", torch, lib_call)


@given(n=st.integers(0, 7), batch_size=st.sampled_from([1, 2, 3, None]), drop_last=st.booleans(),
       sized=st.booleans())
def test_iterable_dataset_batches_and_length_are_pytorchs(torch, n, batch_size, drop_last, sized):
    drop_last = drop_last and batch_size is not None

    def loader(lib):
        data_module, module = (torch.utils.data, torch) if lib == "torch" else (gd, gg)

        class Stream(data_module.IterableDataset):
            def __iter__(self):
                return iter([(module.tensor([float(i)]), i) for i in range(n)])

        class SizedStream(Stream):
            def __len__(self):
                return n

        return data_module.DataLoader((SizedStream if sized else Stream)(), batch_size=batch_size, drop_last=drop_last)

    for lib_call in (len, list):
        assert outcome(lambda call: call(loader("gg")), "gg", torch, lib_call) == outcome(
            lambda call: call(loader("torch")), "torch", torch, lib_call)


INDICES = [0, 1, -1, -3, 3, 4, -4, -5, np.int64(2)]


@pytest.mark.parametrize("make", [
    lambda d, m: d.TensorDataset(m.arange(8.0).reshape(4, 2), m.arange(4)),
    lambda d, m: d.ConcatDataset([d.TensorDataset(m.arange(2)), d.TensorDataset(m.arange(10, 12))]),
    lambda d, m: d.TensorDataset(m.arange(3)) + d.TensorDataset(m.arange(5, 6)),
    lambda d, m: d.Subset(d.TensorDataset(m.arange(10, 20)), [9, 0, -2, 4]),
    lambda d, m: d.StackDataset(d.TensorDataset(m.arange(4)), d.TensorDataset(m.arange(4.0))),
    lambda d, m: d.StackDataset(a=d.TensorDataset(m.arange(4)), b=d.TensorDataset(m.arange(4.0))),
], ids=["TensorDataset", "ConcatDataset", "add", "Subset", "StackDataset", "StackDataset by name"])
def test_dataset_indexing_and_length_are_pytorchs(torch, make):
    for index in INDICES:
        assert outcome(lambda i: make(gd, gg)[i], "gg", torch, index) == outcome(
            lambda i: make(torch.utils.data, torch)[i], "torch", torch, index), index
    assert len(make(gd, gg)) == len(make(torch.utils.data, torch))
    assert type(make(gd, gg)).__name__ == type(make(torch.utils.data, torch)).__name__


def test_chain_dataset_and_iterable_sum_are_pytorchs(torch):
    def streams(data_module, module, sizes):
        class Stream(data_module.IterableDataset):
            def __init__(self, size):
                self.size = size

            def __iter__(self):
                return iter(module.arange(self.size).tolist())

            def __len__(self):
                return self.size

        return [Stream(size) for size in sizes]

    for sizes in ([2, 0, 3], [0], []):
        chained = {lib: d.ChainDataset(streams(d, m, sizes)) for lib, d, m in (("t", torch.utils.data, torch),
                                                                             ("g", gd, gg))}
        assert list(chained["g"]) == list(chained["t"]) and len(chained["g"]) == len(chained["t"])
    a, b = streams(gd, gg, [2, 1])
    assert type(a + b).__name__ == "ChainDataset" and list(a + b) == [0, 1, 0]


@pytest.mark.parametrize("n", [0, 1, 5, 7, 10, 11])
def test_random_split_sizes_of_fractions_are_pytorchs(torch, n):
    """Floored fractions, the remainder given one by one from the first split (empty ones warn in both)."""
    for lengths in ([0.5, 0.5], [0.3, 0.7], [0.1, 0.2, 0.7], [1 / 3] * 3, [0.25] * 4, [1.0], [0.15, 0.15, 0.7],
                    [0.0, 1.0]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = [len(part) for part in torch.utils.data.random_split(range(n), lengths)]
            parts = gd.random_split(range(n), lengths, generator=gg.Generator().manual_seed(n))
        assert [len(part) for part in parts] == expected, lengths
        assert sorted(sum((list(part.indices) for part in parts), [])) == list(range(n))


@pytest.mark.parametrize("lengths", [[3, 4], [7], [0, 7], [3, 3], [0.5, 0.6], [2, 2, 3]])
def test_random_split_counts_and_bad_sums_are_pytorchs(torch, lengths):
    assert outcome(lambda: [len(p) for p in gd.random_split(range(7), lengths)], "gg", torch) == outcome(
        lambda: [len(p) for p in torch.utils.data.random_split(range(7), lengths)], "torch", torch)


@pytest.mark.parametrize("drop_last", [False, True, "yes"])
def test_batch_sampler_of_a_sequential_sampler_is_pytorchs(torch, drop_last):
    t = torch.utils.data
    for batch_size in (1, 2, 3, 5, 0, -1, 2.0, None, True):
        for read in (list, len):
            assert outcome(lambda size, call: call(gd.BatchSampler(gd.SequentialSampler(range(7)), size, drop_last)),
                           "gg", torch, batch_size, read) == outcome(
                lambda size, call: call(t.BatchSampler(t.SequentialSampler(range(7)), size, drop_last)),
                "torch", torch, batch_size, read)


def test_samplers_deterministic_parts_are_pytorchs(torch):
    t = torch.utils.data
    assert list(gd.SequentialSampler(range(4))) == list(t.SequentialSampler(range(4)))
    assert sorted(gd.SubsetRandomSampler([7, 2, 7])) == sorted(t.SubsetRandomSampler([7, 2, 7]))
    assert len(gd.SubsetRandomSampler([7, 2])) == len(t.SubsetRandomSampler([7, 2]))
    assert set(gd.WeightedRandomSampler([0.0, 2.0, 0.0], 5)) == set(t.WeightedRandomSampler([0.0, 2.0, 0.0], 5)) == {1}
    assert sorted(gd.WeightedRandomSampler([1.0, 0.0, 3.0], 2, replacement=False)) == [0, 2]
    assert {type(i) for i in gd.WeightedRandomSampler([1.0, 2.0], 4)} == {int}
    assert len(gd.RandomSampler(range(3), num_samples=7)) == len(list(gd.RandomSampler(range(3), num_samples=7))) == 7


@pytest.mark.parametrize("seed", [0, 5])
def test_a_seeded_shuffle_is_a_permutation_repeated_by_the_seed_and_new_each_epoch(seed):
    def epochs(generator):
        loader = gd.DataLoader(gd.TensorDataset(gg.arange(20)), batch_size=6, shuffle=True, generator=generator)
        return [gg.cat([batch for (batch,) in loader]).tolist() for _ in range(3)]

    first = epochs(gg.Generator().manual_seed(seed))
    assert all(sorted(order) == list(range(20)) for order in first)
    assert first == epochs(gg.Generator().manual_seed(seed))
    assert first[0] != first[1] != first[2]
    sampler = gd.RandomSampler(range(9), generator=gg.Generator().manual_seed(seed))
    assert sorted(sampler) == list(range(9)) and len(sampler) == 9


@pytest.mark.parametrize("options", [
    {"batch_size": 0}, {"batch_size": -1}, {"batch_size": 2.0}, {"batch_size": "2"},
    {"sampler": [0, 1], "shuffle": True}, {"batch_sampler": [[0, 1]], "batch_size": 2},
    {"batch_sampler": [[0, 1]], "drop_last": True}, {"batch_sampler": [[0, 1]], "shuffle": True},
    {"batch_sampler": [[0, 1]], "sampler": [0]}, {"batch_size": None, "drop_last": True},
    {"sampler": [0, 9], "batch_size": 2}, {"batch_sampler": [[4]]},
], ids=lambda options: "-".join(f"{k}={v}" for k, v in options.items()))
def test_loader_misuse_raises_pytorchs_class(torch, options):
    def attempt(data_module, module):
        return list(data_module.DataLoader(data_module.TensorDataset(module.arange(4.0)), **options))

    expected = outcome(lambda: attempt(torch.utils.data, torch), "torch", torch)
    assert expected[0] == "raises"
    assert outcome(lambda: attempt(gd, gg), "gg", torch) == expected


def test_collate_dtypes_and_container_classes_are_pytorchs(torch):
    batches = [
        [1.5, 2.0], [1, 2], [True, False], [1, 2.5], [np.float16(1), np.float16(2)], [np.uint8(1), np.uint8(3)],
        [np.bool_(True), np.bool_(False)], [1.5, np.float32(2)], [np.array(1), 2], [np.array([1]), np.array([2.5])],
        [("a", b"x"), ("b", b"y")], [Pair(1, 2.0), Pair(3, 4.0)], [collections.OrderedDict(b=1, a=2)] * 2,
        [[None, 1], [None, 2]], [{"a": [np.zeros(2, np.float16)]}] * 2,
    ]
    for batch in batches:
        assert outcome(gd.default_collate, "gg", torch, batch) == outcome(
            torch.utils.data.default_collate, "torch", torch, batch), batch
