"""The Tensor API: dtype rules, creation functions, seeded randomness, attributes and conversions.

PyTorch is the oracle wherever glassgrad promises its behaviour: most expressions here are written
once as ``make(lib)`` and run with ``lib = glassgrad`` and ``lib = torch``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_engine_oracle import dtype_name

import glassgrad as gg
from glassgrad import creation

DATA = {
    "Python floats": [1.0, 2.0],
    "Python ints": [1, 2],
    "ints and floats": [1, 2.5],
    "Python bools": [True, False],
    "nested floats": [[1.0, 2.0], [3.0, 4.0]],
    "Python float": 1.5,
    "Python int": 3,
    "float64 array": np.array([1.0, 2.0]),
    "float32 array": np.array([[1.5]], dtype=np.float32),
    "float16 array": np.array([0.5], dtype=np.float16),
    "int32 array": np.array([1, 2], dtype=np.int32),
    "NumPy float64 scalar": np.float64(2.0),
}


@pytest.mark.parametrize("name", DATA)
def test_tensor_dtype_and_values_follow_pytorch(name, torch):
    ours, theirs = gg.tensor(DATA[name]), torch.tensor(DATA[name])
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype)
    assert ours.tolist() == theirs.tolist()


def test_default_dtypes():
    """Python floats → float32, ints → int64, bools → bool; NumPy arrays keep theirs."""
    assert gg.tensor([1.0, 2]).dtype == gg.float32
    assert gg.tensor([1, 2]).dtype == gg.int64
    assert gg.tensor(True).dtype == gg.bool_
    assert gg.tensor(np.zeros(2)).dtype == gg.float64


@pytest.mark.parametrize("spelling, dtype", [
    (np.float64, np.float64), (np.dtype("float64"), np.float64), ("float64", np.float64), (gg.float64, np.float64),
    (np.float32, np.float32), ("float32", np.float32), (gg.float32, np.float32),
])
def test_dtype_argument_accepts_numpy_dtypes_strings_and_gg_names(spelling, dtype):
    made = gg.tensor([1, 2], dtype=spelling)
    assert made.dtype == dtype and made.tolist() == [1.0, 2.0]
    assert gg.tensor(np.array([0.5], dtype=np.float16), dtype=spelling).dtype == dtype
    assert gg.zeros(2, dtype=spelling).dtype == dtype


def test_unknown_dtype_is_named():
    with pytest.raises(TypeError, match="unknown dtype 'float99'.*gg.float32"):
        gg.tensor([1.0], dtype="float99")


@pytest.mark.parametrize("make", [
    lambda: gg.tensor([1, 2], requires_grad=True),
    lambda: gg.arange(3, requires_grad=True),
    lambda: gg.tensor([1, 2]).requires_grad_(),
    lambda: gg.tensor([True]).requires_grad_(True),
])
def test_integer_and_bool_tensors_cannot_require_grad(make):
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients.*int64|bool"):
        make()


PROMOTIONS = {
    "int64 + float32": lambda lib: lib.tensor([1, 2]) + lib.tensor([0.5, 0.25]),
    "float32 - int64": lambda lib: lib.tensor([0.5, 0.25]) - lib.tensor([1, 2]),
    "int64 * float scalar": lambda lib: lib.tensor([1, 2]) * 2.5,
    "float scalar * int64": lambda lib: 2.5 * lib.tensor([1, 2]),
    "int64 + int scalar": lambda lib: lib.tensor([1, 2]) + 3,
    "float32 + int scalar": lambda lib: lib.tensor([1.5]) + 3,
    "int64 + float64": lambda lib: lib.tensor([1, 2]) + lib.tensor([0.5], dtype=lib.float64),
    "float32 * float64": lambda lib: lib.tensor([1.5]) * lib.tensor([2.0], dtype=lib.float64),
    "bool + float32": lambda lib: lib.tensor([True, False]) + lib.tensor([0.5, 0.5]),
    "int32 + int64": lambda lib: lib.tensor([1], dtype=lib.int32) + lib.tensor([2]),
    "int64 / int64": lambda lib: lib.tensor([1, 3]) / lib.tensor([2, 2]),
    "int64 / int scalar": lambda lib: lib.tensor([1, 3]) / 2,
    "int scalar / int64": lambda lib: 3 / lib.tensor([1, 2]),
    "int64 ** float scalar": lambda lib: lib.tensor([1, 4]) ** 0.5,
    "int64 @ int64": lambda lib: lib.tensor([[1, 2]]) @ lib.tensor([[3], [4]]),
    "int64 comparison": lambda lib: lib.tensor([1, 2]) < 1.5,
}


@pytest.mark.parametrize("name", PROMOTIONS)
def test_mixed_dtypes_promote_like_pytorch(name, torch):
    ours, theirs = PROMOTIONS[name](gg), PROMOTIONS[name](torch)
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-7)


def test_gradient_flows_to_the_float_side_of_a_mixed_product():
    counts, weight = gg.tensor([2, 3]), gg.tensor([0.5, 0.5], requires_grad=True)
    (counts * weight).sum().backward()
    assert weight.grad.tolist() == [2.0, 3.0] and weight.grad.dtype == gg.float32


CREATED = {
    "zeros(2, 3)": lambda lib: lib.zeros(2, 3),
    "zeros((2, 3))": lambda lib: lib.zeros((2, 3)),
    "zeros float64": lambda lib: lib.zeros(2, dtype=lib.float64),
    "ones(4)": lambda lib: lib.ones(4),
    "full float": lambda lib: lib.full((2, 2), 3.0),
    "full int": lambda lib: lib.full((2,), 3),
    "full bool": lambda lib: lib.full((1, 2), True),
    "arange(5)": lambda lib: lib.arange(5),
    "arange(1, 2, 0.25)": lambda lib: lib.arange(1, 2, 0.25),
    "arange(0, 10, 3)": lambda lib: lib.arange(0, 10, 3),
    "arange(3.0)": lambda lib: lib.arange(3.0),
    "eye(3)": lambda lib: lib.eye(3),
    "eye(2, 3)": lambda lib: lib.eye(2, 3),
    "zeros_like float": lambda lib: lib.zeros_like(lib.ones(2, 1)),
    "ones_like int": lambda lib: lib.ones_like(lib.tensor([[5, 6]])),
    "ones_like dtype": lambda lib: lib.ones_like(lib.tensor([5, 6]), dtype=lib.float64),
}


@pytest.mark.parametrize("name", CREATED)
def test_creation_functions_match_pytorch(name, torch):
    ours, theirs = CREATED[name](gg), CREATED[name](torch)
    assert ours.shape == tuple(theirs.shape)
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype)
    assert ours.tolist() == theirs.tolist()
    assert ours.is_leaf and not ours.requires_grad


def test_creation_functions_can_make_parameters():
    for made in [gg.zeros(2, requires_grad=True), gg.ones(1, 2, requires_grad=True), gg.eye(2, requires_grad=True),
                 gg.full((2,), 0.5, requires_grad=True), gg.randn(3, requires_grad=True, seed=0),
                 gg.rand(3, requires_grad=True, seed=0), gg.arange(0.0, 1.0, 0.5, requires_grad=True)]:
        assert made.requires_grad and made.is_leaf and made.dtype == gg.float32


def test_from_numpy_shares_memory_both_ways():
    array = np.array([1.0, 2.0])
    shared = gg.from_numpy(array)
    assert shared.dtype == np.float64 and np.shares_memory(shared.numpy(), array)
    array[0] = 10.0
    assert shared.tolist() == [10.0, 2.0]
    with gg.no_grad():
        shared += 1
    assert array.tolist() == [11.0, 3.0]
    with pytest.raises(TypeError, match="from_numpy expects a NumPy array, got list"):
        gg.from_numpy([1.0])


def test_tensor_copies_its_data():
    array = np.array([1.0, 2.0])
    made = gg.tensor(array)
    array[0] = 5.0
    assert made.tolist() == [1.0, 2.0]


# --- randomness ------------------------------------------------------------------------------------

@pytest.fixture
def own_generator(monkeypatch):
    """Put glassgrad's global generator back afterwards: tests that call manual_seed leave no trace."""
    monkeypatch.setattr(creation.default_generator, "numpy_generator", creation.default_generator.numpy_generator)
    monkeypatch.setattr(creation.default_generator, "_seed", creation.default_generator.initial_seed())


RANDOM = {
    "randn": lambda **kw: gg.randn(2, 3, **kw),
    "rand": lambda **kw: gg.rand(4, **kw),
    "randint": lambda **kw: gg.randint(0, 10, (5,), **kw),
    "randperm": lambda **kw: gg.randperm(6, **kw),
}


@pytest.mark.parametrize("name", RANDOM)
def test_seed_repeats_and_manual_seed_resets(name, own_generator):
    draw = RANDOM[name]
    assert draw(seed=3).tolist() == draw(seed=3).tolist()
    assert any(draw(seed=3).tolist() != draw(seed=s).tolist() for s in (4, 5, 6))
    gg.manual_seed(11)
    first = [draw().tolist(), draw().tolist()]
    gg.manual_seed(11)
    assert [draw().tolist(), draw().tolist()] == first
    assert draw(generator=np.random.default_rng(8)).tolist() == draw(seed=8).tolist()


def test_numpys_global_random_state_is_untouched(own_generator):
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    gg.manual_seed(0)
    gg.randn(10), gg.rand(10), gg.randint(0, 5, (10,)), gg.randperm(10), gg.randn(10, seed=1)
    assert np.random.random(3).tolist() == expected.tolist()


def test_random_distributions_have_the_right_moments():
    """N(0, 1): mean 0 and std 1 within 5 standard errors (1/√n); U[0, 1): in range, mean ½."""
    n = 40_000
    normal = gg.randn(n, seed=5).numpy()
    assert normal.dtype == np.float32 and abs(normal.mean()) < 5 / np.sqrt(n) and abs(normal.std() - 1) < 0.02
    uniform = gg.rand(n, seed=5, dtype=gg.float64).numpy()
    assert uniform.dtype == np.float64 and uniform.min() >= 0 and uniform.max() < 1
    assert abs(uniform.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)
    integers = gg.randint(2, 5, (n,), seed=5)
    assert integers.dtype == gg.int64 and set(integers.tolist()) == {2, 3, 4}
    assert sorted(gg.randperm(7, seed=5).tolist()) == list(range(7))


# --- attributes and conversions ---------------------------------------------------------------------

def test_attributes():
    x = gg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert isinstance(x.array, np.ndarray) and x.numpy() is x.array
    assert x.grad is None and x.requires_grad and x.is_leaf
    assert x.shape == (2, 3) and x.ndim == 2 and x.dtype == gg.float32
    assert x.T.shape == (3, 2) and x.T.tolist() == x.array.T.tolist()
    y = x * 2
    assert y.requires_grad and not y.is_leaf
    plain = gg.tensor([1.0]) * 2
    assert plain.is_leaf and not plain.requires_grad


def test_item_and_tolist():
    assert gg.tensor([[2.5]]).item() == 2.5 and isinstance(gg.tensor([[2.5]]).item(), float)
    assert gg.tensor(7).item() == 7 and isinstance(gg.tensor(7).item(), int)
    assert gg.tensor([[1.0, 2.0]]).tolist() == [[1.0, 2.0]]
    assert gg.tensor(1.5).tolist() == 1.5


def test_detach_shares_memory_and_cuts_the_graph():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    detached = (x * 3).detach()
    assert not detached.requires_grad and detached.is_leaf and detached.tolist() == [3.0, 6.0]
    alias = x.detach()
    assert np.shares_memory(alias.numpy(), x.numpy())
    (x * alias).sum().backward()  # alias is a constant: ∂/∂x (x · c) = c
    assert x.grad.tolist() == [1.0, 2.0]


def test_requires_grad_underscore_returns_the_tensor():
    x = gg.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    assert x.requires_grad_(False) is x and not x.requires_grad


REPRS = {
    "floats": lambda lib: lib.tensor([1.0, 2.0]),
    "matrix": lambda lib: lib.tensor([[1.0, 2.0], [3.0, 4.0]]),
    "ints": lambda lib: lib.tensor([1, 2]),
    "bools": lambda lib: lib.tensor([True, False]),
    "parameter": lambda lib: lib.tensor([3.0, -1.0], requires_grad=True),
    "decimals": lambda lib: lib.tensor([0.1234567, -0.4321]),
}


@pytest.mark.parametrize("name", REPRS)
def test_repr_reads_like_pytorchs(name, torch):
    assert repr(REPRS[name](gg)) == repr(REPRS[name](torch))


def test_repr_shows_every_number_to_four_decimals():
    values = np.array([[0.1234567, -2.5], [1e-3, 10.0]])
    text = repr(gg.tensor(values))
    shown = [float(number) for number in re.findall(r"-?\d+\.\d*(?:e[+-]\d+)?", text)]
    np.testing.assert_allclose(shown, values.ravel(), atol=5e-5)


def test_repr_names_a_non_default_dtype_and_the_op():
    assert repr(gg.tensor([1.0, 2.0], dtype=gg.float64)) == "tensor([1., 2.], dtype=float64)"
    product = gg.tensor([1.0], requires_grad=True) * 2
    assert repr(product) == "tensor([2.], grad_fn=<mul>)"


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "cos", "sigmoid", "tanh"])
def test_unary_functions_of_integer_tensors_are_float32_like_pytorch(torch, name):
    ours = getattr(gg.arange(1, 5), name)()
    theirs = getattr(torch.arange(1, 5), name)()
    assert ours.dtype == gg.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-6)


def test_a_python_zero_keeps_its_sign_after_the_other_zero_was_used():
    x = gg.tensor([1.0, -2.0])
    assert np.signbit((x * 0.0).array).tolist() == [False, True]
    assert np.signbit((x * -0.0).array).tolist() == [True, False]  # not the constant made for 0.0
    assert np.signbit((-0.0 * x).array).tolist() == [True, False]
