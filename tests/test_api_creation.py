"""Creation, random draws, dtypes and printing with PyTorch's names (issue 11, item 2).

Deterministic functions are compared with PyTorch 2.13; random ones (whose streams differ from
PyTorch's) are checked for repeatability with a seeded ``gg.Generator`` and for their
distribution's defining properties.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from one_line_errors import assert_raises_as_pytorch

import glassgrad as gg
import glassgrad.nn.functional as F


@pytest.fixture(autouse=True)
def _restore_global_settings():
    """Tests here change the default dtype and the print options: put them back afterwards."""
    yield
    gg.set_default_dtype(gg.float32)
    gg.set_printoptions(profile="default")


@pytest.mark.torch
@given(start=st.floats(-10, 10), end=st.floats(-10, 10), steps=st.integers(0, 20))
def test_linspace_and_logspace_match_pytorch(start, end, steps, torch):
    ours = gg.linspace(start, end, steps, dtype=gg.float64)
    np.testing.assert_allclose(ours.numpy(), torch.linspace(start, end, steps, dtype=torch.float64).numpy(),
                               rtol=1e-12, atol=1e-12)
    assert gg.linspace(start, end, steps).dtype == np.float32
    ours = gg.logspace(start / 5, end / 5, steps, base=3.0, dtype=gg.float64)
    theirs = torch.logspace(start / 5, end / 5, steps, base=3.0, dtype=torch.float64)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.torch
def test_like_and_empty_constructors_take_shape_and_dtype_as_pytorch(torch):
    base = gg.zeros(2, 3, dtype=gg.float64)
    torch_base = torch.zeros(2, 3, dtype=torch.float64)
    for ours, theirs in [(gg.full_like(base, 7), torch.full_like(torch_base, 7)),
                         (gg.full_like(gg.arange(3), 2.5), torch.full_like(torch.arange(3), 2.5)),
                         (gg.empty_like(base), torch.empty_like(torch_base)),
                         (gg.empty(2, 3), torch.empty(2, 3)),
                         (gg.empty((4,), dtype=gg.long), torch.empty((4,), dtype=torch.long)),
                         (base.new_zeros(3), torch_base.new_zeros(3)),
                         (base.new_ones((2, 2)), torch_base.new_ones((2, 2))),
                         (base.new_full((2,), 3), torch_base.new_full((2,), 3)),
                         (base.new_tensor([1, 2]), torch_base.new_tensor([1, 2]))]:
        assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    assert gg.full_like(base, 7).tolist() == [[7.0] * 3] * 2
    assert gg.empty(2).tolist() == [0.0, 0.0]  # glassgrad's empty holds zeros (PyTorch's: whatever was there)


@pytest.mark.torch
def test_one_hot_matches_pytorch(torch):
    indices = [[0, 3], [2, 1]]
    assert F.one_hot(gg.tensor(indices), 5).tolist() == torch.nn.functional.one_hot(torch.tensor(indices), 5).tolist()
    inferred = F.one_hot(gg.tensor([1, 4]))
    assert inferred.shape == (2, 5) and inferred.dtype == np.int64
    x = F.one_hot(gg.tensor([0, 2]), num_classes=3).float()
    assert x.dtype == np.float32 and (x @ gg.eye(3)).tolist() == [[1, 0, 0], [0, 0, 1]]


@pytest.mark.torch
@given(shape=st.lists(st.integers(0, 3), max_size=3), classes=st.integers(1, 6), inferred=st.booleans(),
       seed=st.integers(0, 2**16))
def test_one_hot_of_any_shape_matches_pytorch(torch, shape, classes, inferred, seed):
    indices = np.random.default_rng(seed).integers(0, classes, size=shape)
    if inferred and indices.size == 0:
        return  # no classes to infer: both refuse
    size = -1 if inferred else classes
    mine = F.one_hot(gg.tensor(indices), size).numpy()
    theirs = torch.nn.functional.one_hot(torch.tensor(indices), size).numpy()
    assert mine.dtype == theirs.dtype and mine.shape == theirs.shape
    np.testing.assert_array_equal(mine, theirs)


def test_one_hot_of_a_large_vocabulary_holds_only_its_rows():
    """The rows were picked from np.eye(num_classes): C² numbers, 20 GB for GPT-2's 50257 tokens (PyTorch 2.13
    makes the B·C it returns); for a million classes NumPy refused the 8 TB outright."""
    rows = F.one_hot(gg.tensor([[3], [0]]), 10**6)
    assert rows.shape == (2, 1, 10**6) and rows.dtype == np.int64
    assert rows.numpy().sum() == 2 and rows[0, 0, 3].item() == 1 and rows[1, 0, 0].item() == 1


@pytest.mark.parametrize("call, message", [
    (lambda: F.one_hot(gg.tensor([0.0, 1.0])), "one_hot: the class indices must be integers"),
    (lambda: F.one_hot(gg.tensor([0, 3]), 3), r"one_hot: class index 3 is not smaller than num_classes \(3\)"),
    (lambda: F.one_hot(gg.tensor([-1]), 3), "one_hot: class indices must be >= 0"),
    (lambda: gg.linspace(0, 1, -1), "linspace: sizes must be non-negative"),
    (lambda: gg.linspace(0, float("nan"), 3), "linspace: end is nan"),
    (lambda: gg.normal(0.0, 1.0), "normal: with numbers for mean and std, give the size too"),
    (lambda: gg.normal(0.0, -1.0, (2,)), "normal: std must be finite and >= 0"),
    (lambda: gg.multinomial(gg.tensor([0.0, 0.0]), 1), "multinomial: a row of weights sums to 0"),
    (lambda: gg.multinomial(gg.tensor([-1.0, 2.0]), 1), "multinomial: the weights must be finite and >= 0"),
    (lambda: gg.multinomial(gg.tensor([0.0, 1.0, 1.0]), 3), "multinomial: cannot draw 3 samples without"),
    (lambda: gg.multinomial(gg.tensor([1.0]), 0), "multinomial: num_samples must be a whole number > 0"),
    (lambda: gg.Generator().manual_seed(2 ** 64), "manual_seed: the seed must be a whole number from -2"),
    (lambda: gg.Generator().manual_seed(1.5), "manual_seed: the seed must be a whole number from -2"),
    (lambda: gg.set_default_dtype(gg.int64), "set_default_dtype: only floating dtypes can be the default"),
    (lambda: gg.set_printoptions(precision=-1), "set_printoptions: precision must be a non-negative number"),
    (lambda: gg.set_printoptions(profile="long"), "set_printoptions: unknown profile 'long'"),
    (lambda: gg.ones(2, dtype=gg.int64).normal_(), "normal_: the tensor holds int64"),
    (lambda: gg.ones(2, requires_grad=True).uniform_(), "leaf"),
])
def test_bad_arguments_are_one_line_errors(call, message):
    with pytest.raises((RuntimeError, TypeError, ValueError)) as error:
        call()
    assert re.search(message, str(error.value))
    assert "\n" not in str(error.value)


def test_a_seeded_generator_repeats_its_draws_in_every_random_function():
    def draws(generator):
        return [gg.rand(3, generator=generator), gg.randn(2, generator=generator),
                gg.randint(0, 10, (4,), generator=generator), gg.randperm(5, generator=generator),
                gg.normal(1.0, 2.0, (3,), generator=generator),
                gg.multinomial(gg.tensor([0.2, 0.8]), 3, replacement=True, generator=generator),
                gg.zeros(3).normal_(generator=generator), gg.zeros(3).uniform_(-1, 1, generator=generator),
                gg.rand_like(gg.zeros(2), generator=generator), gg.randint_like(gg.zeros(2), 5, generator=generator)]

    g = gg.Generator().manual_seed(2147483647)
    first = [t.tolist() for t in draws(g)]
    assert [t.tolist() for t in draws(g.manual_seed(2147483647))] == first
    assert [t.tolist() for t in draws(gg.Generator().manual_seed(1))] != first
    assert g.initial_seed() == 2147483647 and gg.Generator().initial_seed() == 67280421310721
    assert g.standard_normal(2).shape == (2,)  # NumPy's methods reach the stream underneath


def test_multinomial_without_replacement_draws_distinct_categories_of_non_zero_weight():
    weights = gg.tensor([[0.0, 1.0, 5.0, 2.0, 0.0], [3.0, 0.0, 1.0, 1.0, 1.0]])
    for seed in range(20):
        drawn = gg.multinomial(weights, 3, generator=gg.Generator().manual_seed(seed))
        assert drawn.shape == (2, 3) and drawn.dtype == np.int64
        for row, weight in zip(drawn.tolist(), weights.tolist()):
            assert len(set(row)) == 3 and all(weight[k] > 0 for k in row)


def test_multinomial_frequencies_follow_the_weights():
    weights = gg.tensor([1.0, 3.0, 0.0, 4.0])
    drawn = gg.multinomial(weights, 40000, replacement=True, generator=gg.Generator().manual_seed(0))
    frequencies = np.bincount(drawn.numpy(), minlength=4) / 40000
    np.testing.assert_allclose(frequencies, [0.125, 0.375, 0.0, 0.5], atol=0.01)


def test_normal_with_tensor_arguments_draws_one_sample_per_entry():
    mean = gg.tensor([[0.0], [100.0]], dtype=gg.float64)
    samples = gg.normal(mean, gg.tensor([1e-9, 1e-9, 1e-9]), generator=gg.Generator().manual_seed(0))
    assert samples.shape == (2, 3) and samples.dtype == np.float64
    np.testing.assert_allclose(samples.numpy(), np.repeat([[0.0], [100.0]], 3, axis=1), atol=1e-6)
    many = gg.normal(2.0, 3.0, size=(100000,), generator=gg.Generator().manual_seed(1)).numpy()
    assert abs(many.mean() - 2.0) < 0.05 and abs(many.std() - 3.0) < 0.05


def test_randint_like_and_randint_with_one_bound_stay_in_range():
    x = gg.zeros(1000, dtype=gg.int32)
    drawn = gg.randint_like(x, 3, 7)
    assert drawn.dtype == np.int32 and set(drawn.tolist()) == {3, 4, 5, 6}
    assert set(gg.randint(4, (1000,)).tolist()) == {0, 1, 2, 3}


def test_in_place_random_fills_change_the_tensor_and_count_a_version():
    w = gg.zeros(2000)
    version = w._version
    assert w.normal_(1.0, 0.5) is w and w._version > version
    assert abs(w.numpy().mean() - 1.0) < 0.05 and abs(w.numpy().std() - 0.5) < 0.05
    w.data.uniform_(-2, -1)
    assert -2 <= w.numpy().min() and w.numpy().max() < -1


@pytest.mark.torch
def test_dtype_aliases_are_pytorchs(torch):
    for name in ("float", "double", "half", "long", "int", "short", "bool", "int8", "uint8", "int16", "int32",
                 "int64", "float16", "float32", "float64"):
        ours, theirs = getattr(gg, name), getattr(torch, name)
        assert gg.zeros(1, dtype=ours).dtype == ours
        assert str(ours) == str(theirs).removeprefix("torch.")
    assert isinstance(gg.zeros(1).dtype, gg.dtype) and gg.is_floating_point(gg.zeros(1))
    assert not gg.is_floating_point(gg.zeros(1, dtype=gg.long))


def test_tensor_conversions_by_name():
    x = gg.tensor([1.7, -2.2])
    assert x.int().dtype == np.int32 and x.int().tolist() == [1, -2]
    assert x.long().dtype == np.int64 and x.half().dtype == np.float16 and x.bool().tolist() == [True, True]
    assert x.type() == "torch.FloatTensor" and x.double().type() == "torch.DoubleTensor"
    assert x.type(gg.float64).dtype == np.float64 and x.type("torch.LongTensor").dtype == np.int64
    assert x.type_as(gg.zeros(1, dtype=gg.float64)).dtype == np.float64
    assert x.element_size() == 4 and x.double().element_size() == 8 and x.nelement() == 2


def test_set_default_dtype_changes_python_floats_and_new_float_tensors():
    assert gg.get_default_dtype() == np.float32
    gg.set_default_dtype(gg.float64)
    assert gg.get_default_dtype() == np.float64
    for made in (gg.tensor([0.5]), gg.zeros(2), gg.ones(1), gg.randn(2), gg.rand(2), gg.arange(0.0, 1.0),
                 gg.linspace(0, 1, 3), gg.full((2,), 1.5), gg.eye(2), gg.empty(1)):
        assert made.dtype == np.float64
    assert gg.tensor([1, 2]).dtype == np.int64  # integers stay integers


def test_set_printoptions_changes_how_tensors_print():
    x = gg.tensor([1 / 3, 2.0])
    gg.set_printoptions(precision=2)
    assert repr(x) == "tensor([0.33, 2.00])"  # PyTorch: one format, 2 digits for all
    gg.set_printoptions(threshold=5, edgeitems=2)
    assert "..." in repr(gg.arange(100))
    gg.set_printoptions(sci_mode=True)
    assert "e-01" in repr(x)
    gg.set_printoptions(profile="default")
    assert repr(gg.arange(100)).count("...") == 0 and "0.3333" in repr(x)


@pytest.mark.torch
def test_the_default_dtype_is_what_integer_tensors_become_in_float_math_as_in_pytorch(torch):
    torch_default = torch.get_default_dtype()
    try:
        for ours_dtype, theirs_dtype in ((gg.float32, torch.float32), (gg.float64, torch.float64)):
            gg.set_default_dtype(ours_dtype)
            torch.set_default_dtype(theirs_dtype)
            for call in (lambda lib: lib.tensor([1, 2]) / 2, lambda lib: lib.tensor([1, 4]).sqrt(),
                         lambda lib: lib.tensor([1, 4]) ** 0.5, lambda lib: lib.tensor([1, 2]) * 0.5):
                ours, theirs = call(gg), call(torch)
                assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
                np.testing.assert_allclose(ours.numpy(), theirs.numpy())
            assert "dtype" not in repr(gg.tensor([0.5])) and "dtype" not in repr(torch.tensor([0.5]))
    finally:
        torch.set_default_dtype(torch_default)


@pytest.mark.torch
def test_layers_make_their_parameters_and_buffers_in_the_default_dtype_as_in_pytorch(torch):
    """After ``set_default_dtype(float64)`` a new layer is float64, as PyTorch's (its parameters were float32, so
    course code that switches to float64 and feeds float64 data was refused at the first layer)."""
    layers = {"Linear": (3, 2), "Bilinear": (2, 2, 2), "Conv2d": (1, 2, 3), "ConvTranspose1d": (1, 2, 3),
              "BatchNorm1d": (3,), "LayerNorm": (3,), "GroupNorm": (1, 2), "Embedding": (4, 2), "PReLU": (),
              "RNN": (2, 3), "GRU": (2, 3), "LSTM": (2, 3), "MultiheadAttention": (4, 2),
              "TransformerEncoderLayer": (4, 2)}
    torch_default = torch.get_default_dtype()
    try:
        for ours_dtype, theirs_dtype in ((gg.float64, torch.float64), (gg.float32, torch.float32)):
            gg.set_default_dtype(ours_dtype)
            torch.set_default_dtype(theirs_dtype)
            for name, arguments in layers.items():
                ours, theirs = getattr(gg.nn, name)(*arguments), getattr(torch.nn, name)(*arguments)
                assert ({key: str(value.dtype) for key, value in ours.state_dict().items()}
                        == {key: str(value.dtype).removeprefix("torch.") for key, value in theirs.state_dict().items()})
            assert str(gg.nn.Parameter().dtype) == str(torch.nn.Parameter().dtype).removeprefix("torch.")
            out = gg.nn.Linear(3, 2)(gg.ones(1, 3))  # the default-dtype input meets a layer of its dtype
            assert out.dtype == ours_dtype
    finally:
        torch.set_default_dtype(torch_default)


@pytest.mark.torch
def test_sizes_by_keyword_and_the_like_functions_input_as_pytorch_takes_them(torch):
    """``torch.randn(size=(), requires_grad=True)`` (d2l.ai), ``zeros(size=…)``, ``zeros_like(input=…)``,
    ``arange(end=3)``, ``randint(high=3, size=…)``: each raised TypeError (unexpected keyword, or a missing start)."""
    calls = [lambda lib: lib.randn(size=(), requires_grad=True), lambda lib: lib.rand(size=[2, 3]),
             lambda lib: lib.zeros(size=(2, 3)), lambda lib: lib.ones(size=(2,), dtype=lib.float64),
             lambda lib: lib.empty(size=(0, 2)), lambda lib: lib.ones(3).new_ones(size=(2,)),
             lambda lib: lib.ones(3).new_zeros(size=(1, 2)), lambda lib: lib.zeros_like(input=lib.ones(2, 1)),
             lambda lib: lib.ones_like(input=lib.ones(2)), lambda lib: lib.empty_like(input=lib.ones(2)),
             lambda lib: lib.full_like(input=lib.ones(2), fill_value=3), lambda lib: lib.arange(end=3),
             lambda lib: lib.randint(high=3, size=(4,))]
    for call in calls:
        ours, theirs = call(gg), call(torch)
        assert tuple(ours.shape) == tuple(theirs.shape) and ours.requires_grad == theirs.requires_grad
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(gg.arange(end=3).numpy(), [0, 1, 2])
    assert set(gg.randint(high=3, size=(50,), seed=0).tolist()) <= {0, 1, 2}
    with pytest.raises(TypeError, match=r"zeros: give the sizes once, as zeros\(2, 3\) or zeros\(size=\(2, 3\)\)"):
        gg.zeros(2, size=(2,))


@pytest.mark.torch
def test_a_zero_d_tensor_formats_as_its_number_as_in_pytorch(torch):
    """``f"loss {l:f}"`` (d2l.ai's training loops) raised TypeError: unsupported format string."""
    for value, spec in ((0.123456, "f"), (0.123456, ".2e"), (0.5, ">8.3f"), (3, "03d"), (2.0, ""), (True, "")):
        ours, theirs = gg.tensor(value), torch.tensor(value)
        if isinstance(value, float):
            ours, theirs = ours.double(), theirs.double()
        assert format(ours, spec) == format(theirs, spec)
    assert f"{gg.tensor([1.5])}" == str(gg.tensor([1.5]))  # no spec: as printed
    with pytest.raises(TypeError, match=r"format spec '.2f' needs a tensor of one number \(0-d\), but this one has "
                                        r"shape \(2,\): format t.item\(\) or t.tolist\(\) instead"):
        f"{gg.tensor([1.5, 2.0]):.2f}"


def test_bfloat16_is_a_name_that_autocast_takes_and_a_tensor_refuses():
    """``torch.autocast("cpu", dtype=torch.bfloat16)`` raised AttributeError: glassgrad had no bfloat16 name."""
    with gg.autocast("cpu", dtype=gg.bfloat16):  # the block computes in the tensors' own dtype
        assert (gg.ones(2) * 2).dtype == gg.float32
    assert repr(gg.bfloat16) == "bfloat16"
    for make in (lambda: gg.ones(2, dtype=gg.bfloat16), lambda: gg.ones(2).to(gg.bfloat16),
                 lambda: gg.tensor([1.0], dtype=gg.bfloat16)):
        with pytest.raises(TypeError, match="glassgrad has no bfloat16 tensors .* use gg.float32"):
            make()


NOT_TENSOR_MEMORY = {  # NumPy arrays a tensor cannot share, as a program meets them
    "object (a pandas frame of mixed columns)": lambda: np.array([[1.5, "setosa"], [2.0, "virginica"]], dtype=object),
    "object of numbers": lambda: np.array([1, 2], dtype=object),
    "strings": lambda: np.array(["a", "b"]),
    "dates": lambda: np.array(["2020-01-01"], dtype="datetime64[D]"),
    "long double": lambda: np.array([1.0], dtype=np.longdouble),
    "big-endian floats": lambda: np.array([1.0, 2.0], dtype=">f8"),
}


@pytest.mark.torch
@pytest.mark.parametrize("kind", sorted(NOT_TENSOR_MEMORY))
def test_from_numpy_refuses_what_pytorch_refuses_with_its_exception(kind, torch):
    """``torch.from_numpy(df.values)`` of a frame with a text column raises TypeError in PyTorch; glassgrad made a
    tensor of Python objects (dtype object), which failed later or computed with objects."""
    refused = assert_raises_as_pytorch(lambda lib: lib.from_numpy(NOT_TENSOR_MEMORY[kind]()), torch)
    assert str(refused).startswith("from_numpy: ")


@given(dtype=st.sampled_from(["bool", "int8", "uint8", "int16", "uint16", "int32", "int64", "float16", "float32",
                              "float64"]), size=st.integers(1, 4))
def test_from_numpy_shares_the_memory_of_numbers(dtype, size):
    array = np.arange(size).astype(dtype)
    shared = gg.from_numpy(array)
    assert shared.dtype == array.dtype and np.shares_memory(shared.numpy(), array)


def test_from_numpy_refuses_complex_numbers_glassgrad_has_no_dtype_for():
    with pytest.raises(TypeError, match=r"^from_numpy: can't make a tensor of a NumPy array of dtype complex128"):
        gg.from_numpy(np.array([1 + 2j]))


@pytest.mark.torch
@given(start=st.floats(-6, 6).map(lambda v: round(v, 1)), length=st.floats(0.1, 12).map(lambda v: round(v, 1)),
       step=st.floats(0.1, 3).map(lambda v: round(v, 1)), down=st.booleans(),
       dtype=st.sampled_from(["int64", "int32", "int16"]))
def test_arange_with_fractional_numbers_and_an_integer_dtype_is_pytorchs(torch, start, length, step, down, dtype):
    """int64 cuts start, end and step to whole numbers first (arange(0, 5, 1.5, dtype=int64) is 0 … 4 by 1; a step
    under 1 is 0, refused); the other integer dtypes step by the step's whole part as many times as the float range
    has entries, as PyTorch does (glassgrad took the float range's entries, cut, for every dtype)."""
    end, step = (start - length, -step) if down else (start + length, step)
    results = []
    for library in (gg, torch):
        try:
            made = library.arange(start, end, step, dtype=getattr(library, dtype))
            results.append((made.tolist(), str(made.dtype).replace("torch.", "")))
        except (RuntimeError, ValueError) as error:
            results.append(type(error))
    assert results[0] == results[1]


@pytest.mark.torch
@pytest.mark.parametrize("dtype, operation, number", [
    ("int8", "mul", 300), ("int8", "floordiv", 300), ("int8", "mod", 300), ("int32", "add", 2**33),
    ("uint8", "sub", 300), ("int16", "add", -70000)])
def test_an_in_place_integer_op_wraps_an_out_of_range_number_as_pytorch(torch, dtype, operation, number):
    """x *= 300 of int8 raised NumPy's OverflowError; PyTorch (and glassgrad's x * 300) cut the number to the dtype."""
    results = []
    for library in (gg, torch):
        x = library.tensor([100, -100, 7], dtype=getattr(library, dtype)) if dtype != "uint8" else \
            library.tensor([100, 200, 7], dtype=library.uint8)
        getattr(x, f"__i{operation}__")(number)
        results.append(x.tolist())
    assert results[0] == results[1]


@pytest.mark.torch
@pytest.mark.parametrize("value, dtype", [(-1, "uint8"), (-256, "uint8"), (300, "int8"), (-257, "uint8"),
                                          (2**40, "int32"), (5, "int8")])
def test_full_takes_or_refuses_an_integer_as_pytorch(torch, value, dtype):
    results = []
    for library in (gg, torch):
        try:
            results.append(library.full((2,), value, dtype=getattr(library, dtype)).tolist())
        except RuntimeError as error:
            assert "\n" not in str(error)
            results.append("refused")
    assert results[0] == results[1]


@pytest.mark.torch
@pytest.mark.parametrize("seed", [-1, -2 ** 63, 2 ** 64 - 1, 0, 42, np.int64(-7)])
def test_a_seed_in_pytorchs_range_is_taken_and_a_negative_one_remapped_as_pytorchs(torch, seed):
    """``manual_seed(hash(name))`` is common; a negative seed stands for 2⁶⁴ + seed, as in PyTorch (it was refused)."""
    assert gg.Generator().manual_seed(seed).initial_seed() == torch.Generator().manual_seed(int(seed)).initial_seed()
    a, b = gg.Generator().manual_seed(seed), gg.Generator().manual_seed(seed)
    assert gg.randn(3, generator=a).tolist() == gg.randn(3, generator=b).tolist()  # the same stream again


@pytest.mark.torch
@pytest.mark.parametrize("seed", [1.5, "42", True])
def test_the_module_level_manual_seed_reads_int_of_its_seed_as_pytorchs(torch, seed):
    ours, theirs, seeds = gg.get_rng_state(), torch.get_rng_state(), (gg.initial_seed(), torch.initial_seed())
    try:
        gg.manual_seed(seed)
        torch.manual_seed(seed)
        assert gg.initial_seed() == torch.initial_seed()
    finally:  # both global streams as they were, for the tests after this one
        gg.manual_seed(seeds[0])
        torch.manual_seed(seeds[1])
        gg.set_rng_state(ours)
        torch.set_rng_state(theirs)
