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
