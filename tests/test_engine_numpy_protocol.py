"""``np.asarray(tensor, dtype=..., copy=...)`` follows NumPy 2's array protocol, for 0-d tensors too.

The oracle is the tensor's own numbers (``tolist()``) and NumPy's documented meaning of
``copy``: ``None`` shares when it can, ``True`` always copies, ``False`` never copies (and
refuses when a copy is needed).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import glassgrad as gg


def tensors():
    """Leaves of any shape (0-d included) and the 0-d results of ops, which may hold a NumPy scalar."""
    leaf = st.builds(lambda shape, seed: gg.randn(shape, seed=seed), array_shapes(min_dims=0, max_dims=3),
                     st.integers(0, 99))
    op_result = st.builds(lambda x: (gg.tensor(x) * 2).sum(), st.floats(-10, 10))
    return st.one_of(leaf, op_result)


@given(tensors(), st.sampled_from([None, np.float64, np.float32, np.int64, "float16", np.bool_]))
def test_asarray_gives_an_array_of_the_asked_dtype_with_the_same_numbers(t, dtype):
    array = np.asarray(t, dtype=dtype)
    assert isinstance(array, np.ndarray)
    assert array.shape == t.shape
    assert array.dtype == (t.dtype if dtype is None else np.dtype(dtype))
    np.testing.assert_array_equal(array, np.array(t.tolist(), dtype=t.dtype).astype(array.dtype))


def test_zero_d_result_of_an_op_converts_with_a_dtype():
    """The issue's case: a 0-d tensor and dtype=np.float64 raised '__array__ method not producing an array'."""
    t = (gg.tensor([1.5, 2.0]) * 2).sum()
    array = np.asarray(t, dtype=np.float64)
    assert array.shape == () and array.dtype == np.float64 and array.item() == 7.0
    assert np.array(t, dtype=np.float32).item() == 7.0
    assert float(np.float64(1.0) + np.asarray(t)) == 8.0


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_copy_none_shares_memory_and_copy_true_does_not(shape):
    t = gg.zeros(shape)
    shared = np.asarray(t)
    shared[...] = 5
    assert (t.numpy() == 5).all()
    copied = np.array(t, copy=True)
    copied[...] = 7
    assert (t.numpy() == 5).all()
    assert np.shares_memory(np.asarray(t, copy=False), t.numpy())


@pytest.mark.parametrize("shape", [(), (4,)])
def test_copy_false_refuses_a_conversion_that_needs_a_copy(shape):
    t = gg.ones(shape)
    with pytest.raises(ValueError, match=r"dtype=float64, copy=False.*needs a copy; leave out copy=False"):
        np.asarray(t, dtype=np.float64, copy=False)
    assert np.asarray(t, dtype=np.float32, copy=False).dtype == np.float32  # same dtype: no copy needed


def test_copy_true_with_a_new_dtype_is_one_new_array():
    t = gg.tensor([[1.0, 2.0]])
    array = np.array(t, dtype=np.float64, copy=True)
    array[0, 0] = 9
    assert t.tolist() == [[1.0, 2.0]]


UFUNCS = {  # NumPy's functions a learner with NumPy habits calls on a tensor
    "exp": lambda x: np.exp(x), "tanh": lambda x: np.tanh(x), "sqrt": lambda x: np.sqrt(np.abs(x)),
    "abs": lambda x: np.abs(x), "sign": lambda x: np.sign(x), "maximum(x, 0.5)": lambda x: np.maximum(x, 0.5),
    "add.reduce": lambda x: np.add.reduce(x, axis=None), "log1p(x²)": lambda x: np.log1p(np.square(x)),
    "divmod(x, 2)": lambda x: np.divmod(x, 2), "clip": lambda x: np.clip(x, -1, 1),
    "round(x, 1)": lambda x: np.round(x, 1),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", UFUNCS)
@given(shape=array_shapes(min_dims=0, max_dims=3, max_side=4), seed=st.integers(0, 99),
       dtype=st.sampled_from(["float32", "float64", "int64"]))
def test_numpys_functions_on_a_tensor_give_pytorchs_tensor(torch, name, shape, seed, dtype):
    """``np.exp(t)`` of a tensor that needs no gradient is a tensor of NumPy's result, as in PyTorch (whose
    ``__array_wrap__`` wraps it): the same numbers and dtype (``np.exp`` of int64 is float64). glassgrad raised
    NumPy's TypeError "operand 'Tensor' does not support ufuncs"."""
    numbers = (np.random.default_rng(seed).standard_normal(shape) * 3).astype(dtype)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PyTorch's __array_wrap__ signature, NumPy 2's warning
        theirs = UFUNCS[name](torch.tensor(numbers))
    mine = UFUNCS[name](gg.tensor(numbers))
    for found, expected in zip(mine if isinstance(mine, tuple) else [mine],
                               theirs if isinstance(theirs, tuple) else [theirs]):
        assert isinstance(found, gg.Tensor) and isinstance(expected, torch.Tensor)
        assert str(found.dtype).removeprefix("glassgrad.") == str(expected.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(found.numpy(), expected.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("call", [lambda x: np.exp(x), lambda x: np.maximum(x, 0), lambda x: np.add.reduce(x),
                                  lambda x: np.exp(x, out=np.empty(3, np.float32)), lambda x: np.clip(x, 0, 1),
                                  lambda x: np.round(x, 2)])
def test_numpys_function_of_a_tensor_that_requires_grad_is_refused_as_in_pytorch(torch, call):
    """NumPy's function is no op of the graph: PyTorch raises RuntimeError rather than lose the gradient."""
    with pytest.raises(RuntimeError):
        call(torch.ones(3, requires_grad=True))
    with pytest.raises(RuntimeError, match=r"requires grad: NumPy.s function is no op of the graph.*t\.detach\(\)"):
        call(gg.ones(3, requires_grad=True))


@pytest.mark.torch
@given(scalar=st.sampled_from([np.float32(2.5), np.float64(-1.5), np.int64(3)]),
       op=st.sampled_from(["+", "-", "*", "/", "**"]))
def test_a_numpy_number_with_a_tensor_stays_in_the_graph(torch, scalar, op):
    """``np.float64(2) * w`` is the tensor's operator (NumPy hands the operation over): the value, dtype and
    gradient PyTorch gives."""
    found = {}
    for library in (gg, torch):
        weight = library.tensor([0.5, 1.5, 2.0], requires_grad=True)
        out = eval(f"scalar {op} weight")  # noqa: S307 (the five operators above)
        out.sum().backward()
        found[library] = (str(out.dtype).split(".")[-1], out.detach().numpy(), weight.grad.numpy())
    assert found[gg][0] == found[torch][0]
    np.testing.assert_allclose(found[gg][1], found[torch][1], rtol=1e-6)
    np.testing.assert_allclose(found[gg][2], found[torch][2], rtol=1e-6)


def test_numpys_functions_with_out_write_numpys_arrays():
    """``np.exp(t, out=array)`` and ``array += t`` write the array (NumPy's meaning of ``out=``), as PyTorch's
    ``np.exp(t, out=array)`` does; a tensor as ``out`` is refused in one line."""
    t = gg.tensor([0.0, 1.0])
    written = np.zeros(2, np.float32)
    assert np.exp(t, out=written) is written
    np.testing.assert_array_equal(written, np.exp(np.array([0.0, 1.0], np.float32)))
    total = np.ones(2)
    total += t
    assert type(total) is np.ndarray and total.tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="out=tensor"):
        np.exp(np.zeros(2), out=(gg.zeros(2),))


def test_an_array_and_a_tensor_meet_in_the_tensors_operators():
    """By hand: ``array − w`` is ``w.__rsub__(array)`` and ``array < t`` is ``t > array``: tensors, ``array − w``
    in the graph with ∂/∂w = −1."""
    w = gg.tensor([1.0, 2.0], dtype=gg.float64, requires_grad=True)
    out = np.array([5.0, 5.0]) - w
    out.sum().backward()
    assert out.tolist() == [4.0, 3.0] and w.grad.tolist() == [-1.0, -1.0]
    assert (np.array([1.0, 3.0]) < gg.tensor([2.0, 2.0])).tolist() == [True, False]


@pytest.mark.torch
@pytest.mark.parametrize("ufunc", [np.add, np.multiply, np.maximum, np.subtract])
def test_a_ufuncs_at_into_a_tensor_is_refused_as_in_pytorch(torch, ufunc):
    """``np.add.at(x, [0], 100.)`` wrote into x's memory behind the graph's back (no version counted), so
    ``(w * x).sum().backward()`` gave w the gradient of the new x, silently; PyTorch refuses the call ("first
    operand must be array"). Now the same TypeError, naming the tensor's way (``index_put_`` with accumulate); into
    an array, a tensor of values is taken as there."""
    w = gg.tensor([1.0, 1.0], requires_grad=True)
    x = gg.tensor([2.0, 3.0])
    y = (w * x).sum()
    for operand in (x, torch.tensor([2.0, 3.0])):
        with pytest.raises(TypeError, match="first operand must be array"):
            ufunc.at(operand, [0], 100.0)
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 3.0])
    ours, theirs = np.zeros(2), np.zeros(2)
    ufunc.at(ours, [0, 0], gg.tensor([1.0, 2.0]))
    ufunc.at(theirs, [0, 0], torch.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(ours, theirs)
