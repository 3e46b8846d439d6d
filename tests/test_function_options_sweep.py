"""Torch-level functions and Tensor methods over their keyword options, against PyTorch 2.13 in float64: values,
dtypes, shapes, the gradients of ``Σ out·w`` (w random) and the exception type where PyTorch raises. Hypothesis
draws small shapes (0-d, and dims of size 0, included), dims (negative too) and options. Each test here failed
before the fix it names."""

from __future__ import annotations

import math
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


@pytest.mark.torch
@given(value=st.floats(-3, 3), dim=st.sampled_from([0, -1]), name=st.sampled_from(["cumsum", "cumprod",
                                                                                  "logcumsumexp"]))
def test_running_sums_and_products_of_a_0_d_tensor_stay_0_d(torch, value, dim, name):
    """``torch.cumsum(torch.tensor(2.5), 0)`` is 0-d; glassgrad gave shape (1,) (NumPy's cumsum flattens)."""
    assert_like_pytorch(torch, lambda lib, x: getattr(lib, name)(x, dim), np.array(value))
    if name != "logcumsumexp":
        assert_like_pytorch(torch, lambda lib, x: getattr(x, name)(dim, dtype=lib.float32).double(), np.array(value))
        assert_like_pytorch(torch, lambda lib, x: getattr(x, name)(dim), np.array(3, dtype=np.int64))


@pytest.mark.torch
@given(value=st.floats(-3, 3), q=st.lists(st.floats(0, 1), min_size=1, max_size=3), one=st.booleans(),
       dim=st.sampled_from([0, -1, None]), interpolation=st.sampled_from(["linear", "lower", "higher", "midpoint",
                                                                            "nearest"]))
def test_quantile_of_a_0_d_tensor_keeping_its_dim_stays_0_d(torch, value, q, one, dim, interpolation):
    """``torch.quantile(torch.tensor(2.5), 0.3, dim=0, keepdim=True)`` is 0-d; glassgrad gave shape (1,)."""
    for name in ("quantile", "nanquantile"):
        assert_like_pytorch(torch, lambda lib, x, name=name: getattr(lib, name)(
            x, q[0] if one else lib.tensor(q, dtype=lib.float64), dim=dim, keepdim=True,
            interpolation=interpolation), np.array(value))


EMPTY_SHAPES = st.lists(st.integers(0, 3), min_size=2, max_size=4).map(tuple).filter(lambda s: 0 in s)


@pytest.mark.torch
@given(shape=EMPTY_SHAPES, data=st.data())
def test_flatten_and_unflatten_of_empty_tensors(torch, shape, data):
    """``x.flatten(1)`` and ``x.unflatten(d, (-1, 1))`` of a tensor with a dim of size 0 work in PyTorch (the -1 is
    worked out from the flattened dims, or from the unflattened dim); glassgrad reshaped with -1, which another
    size 0 leaves open (a ValueError)."""
    ndim = len(shape)
    start = data.draw(st.integers(0, ndim - 1))
    end = data.draw(st.integers(start, ndim - 1))
    dim = data.draw(st.integers(-ndim, ndim - 1))
    assert_like_pytorch(torch, lambda lib, x: lib.flatten(x, start - ndim, end), np.zeros(shape))
    assert_like_pytorch(torch, lambda lib, x: x.unflatten(dim, (-1, 1)), np.zeros(shape))
    assert_like_pytorch(torch, lambda lib, x: x.unflatten(dim, (1, -1)), np.zeros(shape))


@pytest.mark.torch
def test_a_minus_one_left_open_by_a_size_0_is_pytorchs_runtime_error(torch):
    assert_raises_like_pytorch(torch, lambda lib, x: x.view(0, -1), np.zeros((4, 0, 3)))
    assert_raises_like_pytorch(torch, lambda lib, x: x.reshape(-1, 0), np.zeros((2, 0)))


@pytest.mark.torch
@given(free_a=st.integers(0, 3), inner=st.integers(0, 2), free_b=st.integers(0, 3), seed=st.integers(0, 99),
       as_lists=st.booleans())
def test_tensordot_with_empty_dims(torch, free_a, inner, free_b, seed, as_lists):
    """``torch.tensordot(zeros(2, 0), zeros(0, 3), dims=1)`` is zeros (2, 3); glassgrad reshaped with -1 and
    refused it."""
    dims = ([1], [0]) if as_lists else 1
    assert_like_pytorch(torch, lambda lib, x, y: lib.tensordot(x, y, dims=dims),
                        _values((free_a, inner), seed), _values((inner, free_b), seed + 1))


@pytest.mark.torch
@given(rows=st.integers(0, 3), length=st.integers(0, 3), values=st.integers(0, 3), right=st.booleans(),
       out_int32=st.booleans())
def test_searchsorted_in_empty_rows(torch, rows, length, values, right, out_int32):
    """``torch.searchsorted(zeros(2, 0), zeros(2, 3))`` places every value at 0; glassgrad refused it."""
    assert_like_pytorch(torch, lambda lib, s, v: lib.searchsorted(s, v, right=right, out_int32=out_int32),
                        np.zeros((rows, length), dtype=np.int64), np.ones((rows, values), dtype=np.int64))


@pytest.mark.torch
@given(batch=st.integers(0, 3), size=st.integers(0, 2), other=st.integers(0, 2), seed=st.integers(0, 99))
def test_einsum_gradients_through_empty_dims(torch, batch, size, other, seed):
    """The gradient of ``einsum('...ii', x)`` for x of shape (4, 0, 0), and of an einsum whose operand of size 1
    broadcasts against size 0, failed: the sizes took the larger of 1 and 0."""
    assert_like_pytorch(torch, lambda lib, x: lib.einsum("...ii", x), _values((batch, size, size), seed))
    assert_like_pytorch(torch, lambda lib, x, y: lib.einsum("ij,ij->ij", x, y),
                        _values((1, other), seed), _values((size, other), seed + 1))


@pytest.mark.torch
@given(shape=SHAPES, name=st.sampled_from(["median", "nanmedian"]), data=st.data())
def test_median_of_nothing_is_nan_and_over_an_empty_dim_an_index_error(torch, shape, name, data):
    """``torch.median(torch.zeros(0))`` is NaN; glassgrad raised (an IndexError from NumPy). Over a dim of size 0
    PyTorch raises an IndexError; over another dim of an empty tensor both give empty results."""
    x = _values(shape, 0)
    dim = data.draw(st.none() | st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    keepdim = data.draw(st.booleans())
    form = (lambda lib, t: getattr(lib, name)(t)) if dim is None else \
        (lambda lib, t: getattr(lib, name)(t, dim, keepdim))
    if dim is not None and shape and shape[dim] == 0:
        assert_raises_like_pytorch(torch, form, x)
    else:
        assert_like_pytorch(torch, form, x)
    if x.size == 0:  # PyTorch gives int64's smallest value (a NaN read as an integer); glassgrad says why not
        with pytest.raises(IndexError, match="is empty, so it has no median"):
            getattr(gg, name)(gg.tensor(x.astype(np.int64)))


@pytest.mark.torch
@pytest.mark.parametrize("value", [0.0, 2.0, True, False])
def test_nonzero_as_tuple_of_a_0_d_tensor_reads_it_as_1_d(torch, value):
    """``torch.nonzero(torch.tensor(True), as_tuple=True)`` and ``torch.where(torch.tensor(True))`` are
    ``(tensor([0]),)``; glassgrad gave ``()``."""
    assert_like_pytorch(torch, lambda lib, x: lib.nonzero(x, as_tuple=True), np.array(value))
    assert_like_pytorch(torch, lambda lib, x: lib.where(x), np.array(value))


@pytest.mark.torch
def test_tensor_split_at_no_index_is_one_piece(torch):
    """``torch.tensor_split(x, [])`` is ``(x,)``; glassgrad refused the empty list (NumPy reads it as floats)."""
    assert_like_pytorch(torch, lambda lib, x: lib.tensor_split(x, [], dim=1), _values((2, 3), 0))


@pytest.mark.torch
@given(shape=EMPTY_SHAPES, data=st.data())
def test_largest_and_smallest_norm_over_an_empty_dim_is_pytorchs_runtime_error(torch, shape, data):
    """``vector_norm(x, ±inf)`` over a dim of size 0 raises PyTorch's RuntimeError (glassgrad raised NumPy's
    ValueError); over the other dims it is an empty result."""
    ndim = len(shape)
    dim = data.draw(st.integers(-ndim, ndim - 1))
    ord = data.draw(st.sampled_from([math.inf, -math.inf]))
    form = lambda lib, x: lib.linalg.vector_norm(x, ord, dim=dim)  # noqa: E731
    if shape[dim] == 0:
        assert_raises_like_pytorch(torch, form, np.zeros(shape))
        assert_raises_like_pytorch(torch, lambda lib, x: lib.linalg.vector_norm(x, ord), np.zeros(shape))
    else:
        assert_like_pytorch(torch, form, np.zeros(shape))


@pytest.mark.torch
@given(rows=st.integers(0, 3), others=st.integers(0, 3), p=st.sampled_from([0.0, 1.0, 2.0, 3.0, math.inf]))
def test_cdist_of_rows_without_columns_is_zero(torch, rows, others, p):
    """``torch.cdist(zeros(2, 0), zeros(3, 0), p=inf)`` is zeros (2, 3); glassgrad raised (the largest of no
    entries)."""
    assert_like_pytorch(torch, lambda lib, x, y: lib.cdist(x, y, p=p), np.zeros((rows, 0)), np.zeros((others, 0)))


EMPTY_REDUCTIONS = {
    "amax of all": lambda lib, x: lib.amax(x),
    "amax over dim 1": lambda lib, x: lib.amax(x, 1),
    "amin over dims (0, 1)": lambda lib, x: x.amin((0, 1)),
    "aminmax of all": lambda lib, x: lib.aminmax(x),
    "aminmax over dim 1": lambda lib, x: lib.aminmax(x, dim=1),
    "kthvalue over dim 1": lambda lib, x: lib.kthvalue(x, 1, 1),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", EMPTY_REDUCTIONS)
def test_extremes_of_nothing_raise_pytorchs_exception(torch, name):
    """Over a dim of size 0 PyTorch raises an IndexError, over all entries of an empty tensor a RuntimeError;
    glassgrad raised NumPy's ValueError (kthvalue: a RuntimeError)."""
    assert_raises_like_pytorch(torch, EMPTY_REDUCTIONS[name], np.zeros((2, 0)))


@pytest.mark.torch
@given(size=st.integers(0, 4), start=st.integers(-6, 6), length=st.integers(-1, 5))
def test_narrow_raises_pytorchs_exception(torch, size, start, length):
    """A start outside the dim is PyTorch's IndexError, a negative length or one that does not fit its RuntimeError
    (checked first); glassgrad raised an IndexError for all, and for a 0-d tensor."""
    form = lambda lib, x: lib.narrow(x, 0, start, length)  # noqa: E731
    first = start + size if start < 0 else start
    if 0 <= first <= size and 0 <= length <= size - first:
        assert_like_pytorch(torch, form, _values((size,), 0))
    else:
        assert_raises_like_pytorch(torch, form, _values((size,), 0))
    assert_raises_like_pytorch(torch, form, np.array(1.0))


@pytest.mark.torch
@given(rows=st.integers(1, 3), columns=st.integers(1, 3), index_rows=st.integers(1, 3),
       index_columns=st.integers(1, 3), dim=st.sampled_from([0, 1, -1]))
def test_take_along_dim_that_does_not_broadcast_is_pytorchs_runtime_error(torch, rows, columns, index_rows,
                                                                       index_columns, dim):
    """Input and indices that do not broadcast in the other dims: PyTorch's RuntimeError (glassgrad: ValueError)."""
    index = np.zeros((index_rows, index_columns), dtype=np.int64)
    form = lambda lib, x, i: lib.take_along_dim(x, i, dim=dim)  # noqa: E731
    mine, theirs = (columns, index_columns) if dim == 0 else (rows, index_rows)  # the dim that must broadcast
    if mine == theirs or 1 in (mine, theirs):
        assert_like_pytorch(torch, form, _values((rows, columns), 0), index)
    else:
        assert_raises_like_pytorch(torch, form, _values((rows, columns), 0), index)


@pytest.mark.torch
@given(shape=SHAPES, inverse=st.booleans(), counts=st.booleans(), name=st.sampled_from(["unique",
                                                                                      "unique_consecutive"]),
       data=st.data())
def test_unique_slices_of_empty_tensors(torch, shape, inverse, counts, name, data):
    """``torch.unique_consecutive(zeros(0, 2), dim=0)`` has no slices, and gives them; glassgrad raised (a reshape
    with -1). With another dim of size 0 PyTorch raises a RuntimeError, and for a 0-d tensor an IndexError, where
    glassgrad gave a result or NumPy's AxisError."""
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    values = np.random.default_rng(len(shape)).integers(0, 2, size=shape)
    form = lambda lib, x: getattr(lib, name)(x, return_inverse=inverse, return_counts=counts, dim=dim)  # noqa: E731
    if not shape or values.size == 0 and sum(size == 0 for size in shape) > (shape[dim] == 0):
        assert_raises_like_pytorch(torch, form, values)
    else:
        assert_like_pytorch(torch, form, values)


@pytest.mark.torch
@given(shape=NONEMPTY_SHAPES, seed=st.integers(0, 99), levels=st.lists(st.floats(0, 1), max_size=3),
       keepdim=st.booleans(), nan=st.booleans(), name=st.sampled_from(["quantile", "nanquantile"]), data=st.data())
def test_quantile_sends_a_gradient_to_its_levels(torch, shape, seed, levels, keepdim, nan, name, data):
    """With linear interpolation ``torch.quantile(x, q)`` is ``low + (q·(n − 1) − i)·(high − low)``, and PyTorch
    differentiates it in q too: ``∂/∂q = (n − 1)·(high − low)``; glassgrad sent q no gradient."""
    x = _values(shape, seed)
    if nan:  # one NaN: which of several tied NaNs PyTorch's (unstable) sort puts last is its own choice
        x.reshape(-1)[-1] = np.nan
    dim = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    interpolation = data.draw(st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]))
    along = x.size if dim is None or x.ndim == 0 else x.shape[dim]
    if name == "nanquantile" and nan and along == 1:  # a slice of its NaN alone: q = 0 is the test below
        levels = [level for level in levels if level != 0.0]
    q = np.array(levels) if levels else np.array(0.3)
    assert_like_pytorch(torch, lambda lib, t, level: getattr(lib, name)(t, level, dim=dim, keepdim=keepdim,
                                                                        interpolation=interpolation), x, q)


@pytest.mark.torch
def test_nanquantile_of_nans_alone_sends_q_no_gradient_also_at_q_0(torch):
    """A slice of NaNs alone: the quantile is NaN and q's gradient 0 at every q in glassgrad. PyTorch's is NaN at
    q = 0 exactly (its rank q·(count − 1) = −0 sits on the bound of its clamp at 0, which passes the gradient
    there) and 0 elsewhere: glassgrad gives the 0 of its neighbours, not a NaN from an artifact."""
    for level in (0.0, 0.3, 1.0):
        grads = []
        for lib in (gg, torch):
            x = lib.tensor([np.nan, np.nan], dtype=lib.float64, requires_grad=True)
            q = lib.tensor(level, dtype=lib.float64, requires_grad=True)
            lib.nanquantile(x, q).backward()
            grads.append((float(q.grad), x.grad.numpy().tolist()))
        assert grads[0] == (0.0, [1.0, 0.0])
        assert grads[1][1] == [1.0, 0.0] and (np.isnan(grads[1][0]) if level == 0.0 else grads[1][0] == 0.0)


INTEGER_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "bool"]


@pytest.mark.torch
@given(shape=SHAPES, start=st.sampled_from(INTEGER_DTYPES), to=st.sampled_from([None, *INTEGER_DTYPES[:-1]]),
       name=st.sampled_from(["cumsum", "cumprod", "prod"]), keepdim=st.booleans(), data=st.data())
def test_integer_sums_and_products_in_the_dtype_asked_for(torch, shape, start, to, name, keepdim, data):
    """``torch.cumsum(x, 0, dtype=torch.int32)`` is int32 (int64 without dtype); glassgrad gave int64 either way (the
    op widened every integer array it was given to int64)."""
    values = np.random.default_rng(len(shape)).integers(0, 3, size=shape).astype(start)
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    if name == "prod":
        form = lambda lib, x: x.prod(dim, keepdim, dtype=to and getattr(lib, to))  # noqa: E731
    else:
        form = lambda lib, x: getattr(lib, name)(x, dim, dtype=to and getattr(lib, to))  # noqa: E731
    assert_like_pytorch(torch, form, values)


@pytest.mark.torch
@given(shape=st.lists(st.integers(2, 4), min_size=1, max_size=3).map(tuple), seed=st.integers(0, 99),
       keepdim=st.booleans(), to=st.sampled_from([None, "float64"]), data=st.data())
def test_nanmean_takes_a_dtype_and_refuses_integers(torch, shape, seed, keepdim, to, data):
    """``torch.nanmean(x, dtype=torch.float64)`` works (glassgrad: a TypeError for the keyword); an integer tensor
    is PyTorch's RuntimeError (glassgrad gave a mean)."""
    x = _values(shape, seed)
    x.reshape(-1)[-1] = np.nan  # one NaN: no slice is NaNs alone (whose gradient PyTorch makes NaN, glassgrad 0)
    dim = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    assert_like_pytorch(torch, lambda lib, t: lib.nanmean(t.float() if to else t, dim, keepdim,
                                                          dtype=to and getattr(lib, to)), x)
    assert_raises_like_pytorch(torch, lambda lib, t: lib.nanmean(t, dim), np.nan_to_num(x).astype(np.int64))


@pytest.mark.torch
@given(rows=st.integers(0, 4), columns=st.integers(0, 4), offset=st.integers(-3, 3),
       dtype=st.sampled_from([None, "int32", "int64"]), name=st.sampled_from(["tril_indices", "triu_indices"]))
def test_triangle_indices_in_the_dtype_asked_for(torch, rows, columns, offset, dtype, name):
    """``torch.tril_indices(3, 4, dtype=torch.int32)`` is int32; glassgrad ignored dtype (int64)."""
    assert_like_pytorch(torch, lambda lib: getattr(lib, name)(rows, columns, offset,
                                                              dtype=dtype and getattr(lib, dtype)))


@pytest.mark.torch
@given(shape=NONEMPTY_SHAPES, seed=st.integers(0, 99), adding=st.booleans(), data=st.data())
def test_scatter_in_place_on_a_tensor_in_the_graph(torch, shape, seed, adding, data):
    """``y = x * 2; y.scatter_add_(d, index, src)`` (and ``scatter_``) work in a graph in PyTorch, with gradients for
    x and src; glassgrad refused them ("in place on a tensor in the graph is not supported")."""
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    # scatter_: one place per slice (where two writes meet, which one PyTorch keeps is its own choice), and src of
    # the index's shape (PyTorch's backward fails for a larger one)
    places = shape if adding else shape[:dim % len(shape)] + (1,) + shape[dim % len(shape) + 1:]
    index = np.random.default_rng(seed).integers(0, shape[dim], size=places)

    def form(lib, x, i, src):
        y = x * 2
        return y.scatter_add_(dim, i, src) if adding else y.scatter_(dim, i, src * 3)

    assert_like_pytorch(torch, form, _values(shape, seed), index, _values(places, seed + 1))


PICKS_OF_A_NUMBER = {
    "gather, 0-d index": lambda lib, x: lib.gather(x, 0, lib.tensor(0)),
    "gather, two picks": lambda lib, x: lib.gather(x, -1, lib.tensor([0, 0])),
    "scatter": lambda lib, x: lib.scatter(x, 0, lib.tensor(0), x * 3),
    "scatter a value": lambda lib, x: lib.scatter(x, 0, lib.tensor([0]), value=4.0),
    "scatter_add": lambda lib, x: lib.scatter_add(x, 0, lib.tensor([0, 0]), lib.stack([x, x * x])),
    "scatter_reduce prod": lambda lib, x: lib.scatter_reduce(x, 0, lib.tensor(0), x + 1, "prod"),
    "scatter_reduce mean": lambda lib, x: lib.scatter_reduce(x, 0, lib.tensor([0, 0]), lib.stack([x, x]), "mean",
                                                             include_self=False),
    "index_fill": lambda lib, x: lib.index_fill(x, 0, lib.tensor([0]), 7.0),
    "index_copy": lambda lib, x: lib.index_copy(x, 0, lib.tensor([0]), (x * 5).reshape(1)),
    "index_select": lambda lib, x: lib.index_select(x, 0, lib.tensor([0])),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", PICKS_OF_A_NUMBER)
def test_picks_and_writes_on_a_0_d_tensor(torch, name):
    """PyTorch reads a 0-d tensor as a row of one entry in gather, scatter, scatter_add, scatter_reduce, index_fill,
    index_copy and index_select; glassgrad raised an IndexError from NumPy in each."""
    assert_like_pytorch(torch, PICKS_OF_A_NUMBER[name], np.array(2.5))


@pytest.mark.torch
@given(shape=NONEMPTY_SHAPES, seed=st.integers(0, 99), data=st.data())
def test_roll_along_a_dim_named_twice_rolls_it_twice(torch, shape, seed, data):
    """``torch.roll(x, (1, 1), (0, 0))`` rolls dim 0 by 2; glassgrad refused the repeated dim."""
    dims = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=2, max_size=4))
    shifts = data.draw(st.lists(st.integers(-5, 5), min_size=len(dims), max_size=len(dims)))
    assert_like_pytorch(torch, lambda lib, x: lib.roll(x, tuple(shifts), tuple(dims)), _values(shape, seed))


REFUSED_AS_PYTORCH = {
    "clamp with no bound": (lambda lib, x: lib.clamp(x), np.ones(2)),
    "diff of a 0-d tensor": (lambda lib, x: lib.diff(x), np.array(1.0)),
    "tensor_split of a 0-d tensor": (lambda lib, x: lib.tensor_split(x, 2), np.array(1.0)),
    "count_nonzero over a dim twice": (lambda lib, x: lib.count_nonzero(x, (0, -2)), np.ones((2, 2))),
    "isclose of shapes that do not broadcast": (lambda lib, x: lib.isclose(x, x[:-1]), np.ones(3)),
    "allclose of shapes that do not broadcast": (lambda lib, x: lib.allclose(x, x[:-1]), np.ones(3)),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", REFUSED_AS_PYTORCH)
def test_refused_with_pytorchs_exception(torch, name):
    """Each is PyTorch's RuntimeError; glassgrad raised a ValueError (clamp, count_nonzero, isclose, allclose) or
    an IndexError (diff, tensor_split) from NumPy."""
    form, values = REFUSED_AS_PYTORCH[name]
    assert_raises_like_pytorch(torch, form, values)


@pytest.mark.torch
@given(rows=st.integers(0, 2), size=st.integers(0, 3))
def test_split_of_a_dim_of_size_0(torch, rows, size):
    """``torch.split(zeros(2, 0), 0, 1)`` is one empty piece (any split size fits no entries); glassgrad refused
    split size 0."""
    assert_like_pytorch(torch, lambda lib, x: lib.split(x, size, 1), np.zeros((rows, 0)))


MORE_REFUSED_AS_PYTORCH = {
    "isclose with a negative atol": lambda lib, x: lib.isclose(x, x, atol=-1.0),
    "allclose with a negative rtol": lambda lib, x: lib.allclose(x, x, rtol=-1.0),
    "isclose of float32 and float64": lambda lib, x: lib.isclose(x.float(), x),
    "allclose of float and int64": lambda lib, x: x.allclose(x.long()),
    "searchsorted with an unknown side": lambda lib, x: lib.searchsorted(x, x, side="middle"),
    "searchsorted with side and right opposed": lambda lib, x: lib.searchsorted(x, x, side="left", right=True),
    "split of entries by size 0": lambda lib, x: lib.split(x, 0),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", MORE_REFUSED_AS_PYTORCH)
def test_bad_options_raise_pytorchs_exception(torch, name):
    """PyTorch raises a RuntimeError for each; glassgrad gave a result (isclose, allclose, also of tensors of two
    dtypes, searchsorted with side and right opposed) or NumPy's ValueError (an unknown side)."""
    assert_raises_like_pytorch(torch, MORE_REFUSED_AS_PYTORCH[name], np.array([1.0, 2.0]))


@pytest.mark.torch
@given(shape=SHAPES, seed=st.integers(0, 99), exponent=st.integers(0, 3))
def test_squares_and_integer_powers_of_bools_are_int64(torch, shape, seed, exponent):
    """``torch.square(mask)`` and ``mask ** 2`` are int64 in PyTorch; glassgrad gave NumPy's int8."""
    mask = np.random.default_rng(seed).random(shape) < 0.5
    assert_like_pytorch(torch, lambda lib, m: lib.square(m), mask)
    assert_like_pytorch(torch, lambda lib, m: m ** exponent, mask)
    assert_like_pytorch(torch, lambda lib, m: lib.pow(m, exponent), mask)


@pytest.mark.torch
@given(shape=NONEMPTY_SHAPES, seed=st.integers(0, 99), dtype=st.sampled_from(["int8", "uint8", "int16", "int32"]),
       reduce=st.sampled_from(["sum", "prod", "mean", "amax", "amin"]), include_self=st.booleans(), data=st.data())
def test_scatter_reduce_keeps_a_small_integer_dtype(torch, shape, seed, dtype, reduce, include_self, data):
    """``torch.scatter_reduce`` of int8 … int32 tensors stays in their dtype; glassgrad gave int64 (its table's
    integer sum). Values stay small: where they overflow, the wrapped numbers are each library's own."""
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(seed)
    values, src = rng.integers(0, 3, size=shape).astype(dtype), rng.integers(0, 3, size=shape).astype(dtype)
    index = rng.integers(0, shape[dim], size=shape)
    assert_like_pytorch(torch, lambda lib, x, i, s: lib.scatter_reduce(x, dim, i, s, reduce, include_self=include_self),
                        values, index, src)
