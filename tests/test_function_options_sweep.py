"""Torch-level functions and Tensor methods over their keyword options, against PyTorch 2.13 in float64: values,
dtypes, shapes, the gradients of ``Σ out·w`` (w random) and the exception type where PyTorch raises. Hypothesis
draws small shapes (0-d, and dims of size 0, included), dims (negative too) and options. Each test here failed
before the fix it names."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

SHAPES = st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple)
NONEMPTY_SHAPES = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def _name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _outputs(result) -> list:
    """The tensors of a result, a tuple of them (``tensor_split``, ``nonzero(as_tuple=True)``) in order."""
    return list(result) if isinstance(result, (tuple, list)) else [result]


def run(library, form, arrays):
    """``form(library, *tensors)`` on float64 tensors that require grad (other arrays as plain tensors), and the
    gradients of ``Σ out·w`` for w = 1, 2, 3, … laid over each floating output."""
    tensors = [library.tensor(a, requires_grad=a.dtype == np.float64) for a in arrays]
    outputs = _outputs(form(library, *tensors))
    learning = [t for t in tensors if t.requires_grad]
    total = sum((out * library.arange(1, out.numel() + 1, dtype=out.dtype).reshape(out.shape)).sum()
                for out in outputs if out.requires_grad)
    grads = [] if not learning or not isinstance(total, library.Tensor) else \
        library.autograd.grad(total, learning, allow_unused=True)
    return outputs, [None if g is None else g.numpy() for g in grads]


def assert_like_pytorch(torch, form, *arrays):
    """Same outputs (dtype, shape, values, NaN where PyTorch has NaN) and input gradients as PyTorch's."""
    theirs, their_grads = run(torch, form, arrays)
    ours, our_grads = run(gg, form, arrays)
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):
        assert _name(mine.dtype) == _name(reference.dtype)
        assert tuple(mine.shape) == tuple(reference.shape)
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-12, atol=1e-12)
    for mine, reference in zip(our_grads, their_grads):
        np.testing.assert_allclose(0 if mine is None else mine, 0 if reference is None else reference,
                                   rtol=1e-12, atol=1e-12)


def assert_raises_like_pytorch(torch, form, *arrays):
    """PyTorch raises, and glassgrad raises the same exception class."""
    with pytest.raises(Exception) as theirs:
        form(torch, *(torch.tensor(a) for a in arrays))
    with pytest.raises(theirs.type):
        form(gg, *(gg.tensor(a) for a in arrays))


def _values(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.torch
@settings(max_examples=30)
@given(shape=NONEMPTY_SHAPES, seed=st.integers(0, 99), data=st.data())
def test_tensor_split_at_indices_that_go_back_adds_the_gradients_of_overlapping_pieces(torch, shape, seed, data):
    """``tensor_split(x, [2, 0])`` gives overlapping pieces (x[:2], x[2:0] and x[0:]); the pieces' shared gradient
    buffer was written, not added into, so rows two pieces hold got the gradient of one only."""
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    cuts = data.draw(st.lists(st.integers(-5, 5), min_size=1, max_size=4))
    assert_like_pytorch(torch, lambda lib, x: lib.tensor_split(x, cuts, dim=dim), _values(shape, seed))
    assert_like_pytorch(torch, lambda lib, x: x.tensor_split(lib.tensor(cuts, dtype=lib.int64), dim),
                        _values(shape, seed))


@pytest.mark.torch
@given(shape=st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=3).map(tuple).filter(lambda s: 3 in s),
       seed=st.integers(0, 99), method=st.booleans())
def test_cross_without_dim_takes_the_first_dim_of_size_3(torch, shape, seed, method):
    """``torch.cross(a, b)`` (no dim) works along the first dim of size 3; glassgrad took the last dim, which
    gave other numbers, or refused, whenever an earlier dim had size 3."""
    form = (lambda lib, x, y: x.cross(y)) if method else (lambda lib, x, y: lib.cross(x, y))
    with warnings.catch_warnings():  # PyTorch warns that this default may change
        warnings.simplefilter("ignore", UserWarning)
        assert_like_pytorch(torch, form, _values(shape, seed), _values(shape, seed + 1))
